/*
 * record.h - a person's data as stored: one record per person holding every
 * field, each value sealed on its own (see sargs/crypto.h), so that a read
 * touches one row and a field can still be opened, replaced or dropped alone
 * (a role is shown only the fields it may see, and only those are opened).
 * A tag over the whole record binds the set of fields to the person, so that
 * a field removed, added, reordered or taken from another record is caught
 * even though each value would still open.
 *
 * Format v1 (big-endian), frozen by a known-answer test:
 *     u8  version = 1
 *     repeated, in ascending category code:
 *         u16 category code (vault-local, see the categories table)
 *         u8  flags: bit 0 = a blind index follows
 *         u32 key version the value is sealed under
 *         i64 time of the last change (microseconds)
 *         [SG_BIDX_BYTES blind index, when flagged]
 *         u32 length, then the sealed value
 *     16  tag = BLAKE2b-128(key = record key, subject id[16] | everything before)
 * The record key is derived from the person's data key (crypto_kdf, context
 * "sgrecord", id 1), so crypto-shredding the data key also voids the tag.
 * The structure is visible to whoever holds the database (which categories a
 * person has, how long each value is); the values are not.
 */
#ifndef SARGS_RECORD_H
#define SARGS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/buf.h"
#include "sargs/clock.h"
#include "sargs/crypto.h"
#include "sargs/err.h"
#include "sargs/uuid.h"

#define SG_RECORD_MAX_ENTRIES 512
#define SG_RECORD_TAG_BYTES   16

struct sg_rec_entry {
    int code;
    uint32_t kv;
    sg_time changed;
    const uint8_t *bidx; /* SG_BIDX_BYTES or NULL */
    const uint8_t *sealed;
    size_t sealed_len;
};

/* Derives the record key (SG_KEY_BYTES) from a person's data key. */
void sg_record_key(const uint8_t dek[SG_KEY_BYTES], uint8_t out[SG_KEY_BYTES]);

/*
 * Splits a record into entries that point into `rec` (which must outlive
 * them). Reads the structure only, unauthenticated: check the tag with
 * sg_record_verify() before trusting it (erasure alone needs no tag: a forged
 * structure could only make it remove index entries of this very person). An
 * empty record (len 0) has no entries. SG_CRYPTO when the record is
 * malformed: truncated, unknown version or flags, codes out of order, more
 * than `max` entries.
 */
enum sg_rc sg_record_parse(const uint8_t *rec, size_t len, struct sg_rec_entry *out, size_t max,
                           size_t *n, struct sg_err *err);

/* Checks the tag of a person's record. SG_CRYPTO when it does not match, or
 * when the record is missing altogether. */
enum sg_rc sg_record_verify(const uint8_t *rec, size_t len, const uint8_t *key,
                            const struct sg_uuid *sid, struct sg_err *err);

/* Encodes entries (in ascending code order) and the tag into `out`, which is
 * reset. */
enum sg_rc sg_record_encode(const struct sg_rec_entry *e, size_t n, const uint8_t *key,
                            const struct sg_uuid *sid, struct sg_buf *out, struct sg_err *err);

#endif
