/*
 * fuzz_parse.c - the small parsers: RFC 3339 times, UUIDs, hex. A time that
 * parses formats and parses back to the same instant; a UUID likewise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/sargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[128];
    if (size >= sizeof s)
        size = sizeof s - 1;
    memcpy(s, data, size);
    s[size] = '\0';
    sg_time t, t2;
    if (sg_time_parse(s, &t, NULL) == SG_OK) {
        char out[SG_TIME_STR_MAX];
        sg_time_format(t, out);
        if (sg_time_parse(out, &t2, NULL) != SG_OK || t2 != t)
            abort();
    }
    struct sg_uuid u, u2;
    if (sg_uuid_parse(s, &u, NULL) == SG_OK) {
        char out[SG_UUID_STR_LEN + 1];
        sg_uuid_format(&u, out);
        if (sg_uuid_parse(out, &u2, NULL) != SG_OK || !sg_uuid_equal(&u, &u2))
            abort();
    }
    uint8_t bin[64];
    (void)sg_hex_decode(s, bin, size / 2 < sizeof bin ? size / 2 : sizeof bin, NULL);
    (void)sg_utf8_valid((const char *)data, size);
    return 0;
}
