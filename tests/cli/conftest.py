"""Black-box tests of the `sargs` command: they run the real binary (built
with the sanitizers under `make test`) on a fresh vault per test."""
import json
import os
import sqlite3
import subprocess

import pytest

SARGS = os.environ.get("SARGS_BIN", os.path.join(os.path.dirname(__file__), "../../build/sargs"))
NOW = "2026-11-23T10:00:00Z"
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The policy of the tests: the categories the foundation had built in.
POLICY = os.path.join(ROOT, "tests", "data", "people.yaml")
EXAMPLES = os.path.join(ROOT, "examples")


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"<exit {self.code} out={self.out!r} err={self.err!r}>"


class Vault:
    def __init__(self, path):
        self.dir = str(path)
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("SARGS_") and k != "SARGS_BIN":
                del self.env[k]
        self.env["SARGS_NOW"] = NOW

    def run(self, *args, stdin=None, env=None, use_dir=True):
        e = dict(self.env)
        if env:
            e.update(env)
        argv = [SARGS] + (["--dir", self.dir] if use_dir else []) + list(args)
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=e, timeout=60)
        # Sanitizer reports must never appear, whatever the exit code.
        assert "AddressSanitizer" not in p.stderr, p.stderr
        assert "runtime error" not in p.stderr, p.stderr
        return Result(p)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.code == 0, r
        return r

    def add(self, *fields, events=()):
        args = ["subject", "add"]
        for f in fields:
            args += ["--field", f]
        for e in events:
            args += ["--event", e]
        return self.ok(*args).out.strip()

    def db(self):
        return os.path.join(self.dir, "sargs.db")

    def dump(self):
        """Everything in the database except the audit log, as text."""
        con = sqlite3.connect(self.db())
        try:
            lines = [l for l in con.iterdump() if "INSERT INTO \"audit_" not in l]
        finally:
            con.close()
        return "\n".join(lines)

    def audit_count(self):
        con = sqlite3.connect(self.db())
        try:
            return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        finally:
            con.close()


@pytest.fixture
def vault(tmp_path):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", POLICY)
    return v


@pytest.fixture
def bare(tmp_path):
    return Vault(tmp_path / "vault")
