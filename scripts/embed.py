#!/usr/bin/env python3
"""embed.py IN OUT NAME: writes a C file defining `const char NAME[]` with the
bytes of IN, so that the binary serves a document without reading files."""
import sys

data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as out:
    out.write("/* generated from %s by scripts/embed.py; do not edit */\n" % sys.argv[1])
    out.write("const char %s[] = {\n" % sys.argv[3])
    for i in range(0, len(data), 16):
        out.write("    " + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
    out.write("    0x00\n};\n")
