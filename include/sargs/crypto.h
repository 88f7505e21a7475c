/*
 * sargs/crypto.h - keys, envelope encryption and blind indexes (libsodium).
 *
 * Key hierarchy:
 *   master key (KEK)  file, never in the database; wraps every data key
 *   data key (DEK)    one per subject, stored wrapped by the KEK; seals the
 *                     subject's field values. Destroying it erases the person
 *                     (crypto-shredding).
 *   index key         file apart from the KEK; keys the blind indexes, so a
 *                     KEK rotation leaves every look-up valid.
 *
 * All key material lives in sodium_malloc'd memory (guard pages, locked, never
 * swapped), is wiped when freed, and is compared only in constant time.
 *
 * On-disk formats (frozen; known-answer tests in tests/unit/test_crypto.c):
 *   wrapped DEK  = 0x01 | nonce[24] | XChaCha20-Poly1305(DEK)[32+16]
 *                  AD = 0x01 | "sargs/dek" | subject id[16] | u32be(dek version)
 *   sealed value = 0x01 | nonce[24] | XChaCha20-Poly1305(value)[len+16]
 *                  AD = 0x01 | "sargs/field" | subject id[16] | u32be(dek version)
 *                       | field id (UTF-8, to the end)
 *   blind index  = BLAKE2b-128(key = index key, category id | 0x00 | normalised value)
 */
#ifndef SARGS_CRYPTO_H
#define SARGS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/err.h"
#include "sargs/uuid.h"

#define SG_KEY_BYTES         32
#define SG_KEY_ID_HEX        16
#define SG_NONCE_BYTES       24
#define SG_TAG_BYTES         16
#define SG_WRAPPED_DEK_BYTES (1 + SG_NONCE_BYTES + SG_KEY_BYTES + SG_TAG_BYTES)
#define SG_SEAL_OVERHEAD     (1 + SG_NONCE_BYTES + SG_TAG_BYTES)
#define SG_BIDX_BYTES        16

/* Must be called once before any other function of libsargs; safe to call
 * again. SG_INTERNAL when libsodium cannot start. */
enum sg_rc sg_crypto_init(struct sg_err *err);

/* A 32-byte secret key in guarded memory. */
struct sg_key {
    uint8_t *k;                 /* SG_KEY_BYTES, sodium_malloc'd */
    char id[SG_KEY_ID_HEX + 1]; /* public fingerprint, see sg_key_fingerprint */
};

/* Kinds of key file; the kind is written into the file so that one cannot be
 * loaded in place of another. */
enum sg_key_kind { SG_KEY_KEK, SG_KEY_INDEX, SG_KEY_SIGNING, SG_KEY_PSEUDONYM };

/* A fresh random key. The caller frees it with sg_key_free(). */
enum sg_rc sg_key_generate(struct sg_key **out, struct sg_err *err);

/* A key holding a copy of `bytes` (SG_KEY_BYTES). */
enum sg_rc sg_key_from_bytes(const uint8_t *bytes, struct sg_key **out, struct sg_err *err);

/*
 * Loads a key file of the given kind. Refuses a file that others than its
 * owner can read or write (SG_DENIED, names the mode), a missing file
 * (SG_NOTFOUND), another kind or a malformed file (SG_CRYPTO).
 */
enum sg_rc sg_key_load(const char *path, enum sg_key_kind kind, struct sg_key **out,
                       struct sg_err *err);

/*
 * Writes a key file of the given kind, created with mode 0600 (never
 * overwriting: SG_CONFLICT when the file exists) and synced to disk.
 */
enum sg_rc sg_key_save(const struct sg_key *key, enum sg_key_kind kind, const char *path,
                       struct sg_err *err);

/* Wipes and frees a key. Accepts NULL. */
void sg_key_free(struct sg_key *key);

/* Nonzero when two keys are the same (constant time). */
int sg_key_equal(const struct sg_key *a, const struct sg_key *b);

/* ---------------------------------------------------------------- data keys */

struct sg_nonce;

/* Wraps `dek` for subject `sid` and version `version` under `kek`, with a
 * nonce from `ng` (see sg_nonce). */
void sg_dek_wrap(struct sg_nonce *ng, const struct sg_key *kek, const uint8_t dek[SG_KEY_BYTES],
                 const struct sg_uuid *sid, uint32_t version, uint8_t out[SG_WRAPPED_DEK_BYTES]);

/* Unwraps into `dek_out` (SG_KEY_BYTES, caller's guarded memory). SG_CRYPTO
 * when the KEK is wrong, the blob was altered or belongs to another subject. */
enum sg_rc sg_dek_unwrap(const struct sg_key *kek, const uint8_t *wrapped, size_t len,
                         const struct sg_uuid *sid, uint32_t version, uint8_t *dek_out,
                         struct sg_err *err);

/* --------------------------------------------------------------- sealing */

/*
 * Nonce source for sealing: a random 16-byte prefix drawn once and a 64-bit
 * counter, so that sealing does not draw random bytes per value (which halves
 * AEAD throughput on small values) while nonces never repeat for a process.
 * One per thread; after fork() a child must call sg_nonce_init() again.
 */
struct sg_nonce {
    uint8_t prefix[16];
    uint64_t counter;
};
void sg_nonce_init(struct sg_nonce *n);

/*
 * Random bytes for new data keys, drawn from the kernel in bulk (one
 * getrandom() per 4 KiB rather than one per person) and kept in guarded
 * memory; each byte is wiped from the pool as it is handed out. One per
 * thread, like sg_nonce.
 */
struct sg_rand_pool {
    uint8_t *buf; /* sodium_malloc'd */
    size_t pos;
};
enum sg_rc sg_rand_pool_init(struct sg_rand_pool *p, struct sg_err *err);
/* Copies `n` (at most 256) fresh random bytes to `out`. */
void sg_rand_pool_take(struct sg_rand_pool *p, uint8_t *out, size_t n);
/* Wipes and frees the pool. Accepts a pool never initialised (zeroed). */
void sg_rand_pool_release(struct sg_rand_pool *p);

/*
 * Seals `len` bytes of `pt` for field `field` of subject `sid` into `out`,
 * which must have room for len + SG_SEAL_OVERHEAD bytes.
 */
void sg_seal(struct sg_nonce *ng, const uint8_t dek[SG_KEY_BYTES], const struct sg_uuid *sid,
             uint32_t version, const char *field, const void *pt, size_t len, uint8_t *out);

/* Same with the nonce given (known-answer tests only). */
void sg_seal_with_nonce(const uint8_t nonce[SG_NONCE_BYTES], const uint8_t dek[SG_KEY_BYTES],
                        const struct sg_uuid *sid, uint32_t version, const char *field,
                        const void *pt, size_t len, uint8_t *out);

/*
 * Opens a sealed value into `pt` (room for ctlen - SG_SEAL_OVERHEAD bytes);
 * `*ptlen` gets the length. SG_CRYPTO when the value was altered, truncated,
 * or belongs to another subject, field or key version.
 */
enum sg_rc sg_open(const uint8_t dek[SG_KEY_BYTES], const struct sg_uuid *sid, uint32_t version,
                   const char *field, const uint8_t *ct, size_t ctlen, void *pt, size_t *ptlen,
                   struct sg_err *err);

/* ----------------------------------------------------------- blind index */

/* Keyed BLAKE2b-128 of an already normalised value within a category. */
void sg_bidx(const struct sg_key *index_key, const char *category, const char *value, size_t len,
             uint8_t out[SG_BIDX_BYTES]);

#endif
