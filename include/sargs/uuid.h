/*
 * sargs/uuid.h - identifiers of subjects and other records: UUIDv7
 * (RFC 9562), time-ordered so that new rows append to the end of indexes.
 */
#ifndef SARGS_UUID_H
#define SARGS_UUID_H

#include <stdint.h>

#include "sargs/clock.h"
#include "sargs/err.h"

struct sg_uuid {
    uint8_t b[16];
};

#define SG_UUID_STR_LEN 36

/*
 * A new UUIDv7 for the instant `now`. Within one thread, ids made for the
 * same millisecond are strictly increasing (RFC 9562 method 1 counter); the
 * remaining 62 bits are random. Fails only if the random source does, which
 * libsodium turns into an abort.
 */
void sg_uuid_v7(sg_time now, struct sg_uuid *out);

/* Lowercase text form; `out` needs SG_UUID_STR_LEN + 1 bytes. Returns `out`. */
char *sg_uuid_format(const struct sg_uuid *u, char out[SG_UUID_STR_LEN + 1]);

/* Parses the 8-4-4-4-12 text form (either case). SG_INVALID otherwise. */
enum sg_rc sg_uuid_parse(const char *s, struct sg_uuid *out, struct sg_err *err);

/* Milliseconds since the epoch encoded in a UUIDv7, as an sg_time. */
sg_time sg_uuid_time(const struct sg_uuid *u);

int sg_uuid_equal(const struct sg_uuid *a, const struct sg_uuid *b);

#endif
