/*
 * sargs/audit.h - the audit trail anyone can verify.
 *
 * Every read and change of personal data appends one entry to an append-only
 * Merkle log (RFC 9162, see sargs/merkle.h), in the same transaction as the
 * operation. Each transaction that appended ends with a signed tree head: a
 * C2SP tlog-checkpoint signed note (Ed25519) under a signing key kept with the
 * keys, not in the database. Anyone holding the verifier key and a head can
 * check, without trusting the database, that an entry is in the log
 * (inclusion proof) and that a later log extends an earlier one (consistency
 * proof); `sg_audit_verify` recomputes the whole tree and checks every head.
 *
 * An entry never holds personal data in clear: the person is named by a keyed
 * pseudonym (BLAKE2b under keys/pseudonym.key), and details that are personal
 * are sealed under the person's data key, so crypto-shredding erases them
 * while the tree stays verifiable.
 */
#ifndef SARGS_AUDIT_H
#define SARGS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/merkle.h"
#include "sargs/uuid.h"
#include "sargs/vault.h"

/* A decoded entry, as sg_audit_log() hands it out (valid during the call). */
struct sg_audit_entry {
    uint64_t index;
    sg_time at;
    const char *actor, *role, *purpose, *action, *object, *result;
    uint8_t request[16]; /* groups the entries of one request or command */
    int has_subject;
    uint8_t pseudonym[16]; /* the person, pseudonymised */
    const char *details;   /* NULL when none; "[sealed]" when sealed and the
                              person's key is gone or was not asked for */
    int details_sealed;
    uint8_t leaf_hash[SG_HASH_BYTES];
};

/* A signed tree head. `note` is the signed checkpoint text. */
struct sg_audit_head {
    uint64_t size;
    sg_time at;
    uint8_t root[SG_HASH_BYTES];
    char *note;
};

/* Frees the note of a head. Accepts a zeroed head. */
void sg_audit_head_release(struct sg_audit_head *h);

/* The latest signed head. SG_NOTFOUND when the log has none yet. */
enum sg_rc sg_audit_latest(struct sg_vault *v, struct sg_audit_head *out, struct sg_err *err);

/* Every signed head of size >= `from`, by size. */
enum sg_rc sg_audit_heads(struct sg_vault *v, uint64_t from,
                          int (*cb)(void *ctx, const struct sg_audit_head *h), void *ctx,
                          struct sg_err *err);

/* The verifier key of this vault's heads, in the C2SP signed-note format
 * ("name+hash+base64"); `out` needs 128 bytes. */
enum sg_rc sg_audit_verifier_key(struct sg_vault *v, char *out, size_t len, struct sg_err *err);

/*
 * The inclusion proof of entry `index` in the tree of `*size` entries (0: the
 * current size, which is then written back). Fills the leaf hash, the proof
 * (room for SG_MERKLE_MAX_PROOF hashes of SG_HASH_BYTES), its length and the
 * root at that size. SG_INVALID when index >= size or size is beyond the log.
 */
enum sg_rc sg_audit_prove(struct sg_vault *v, uint64_t index, uint64_t *size,
                          uint8_t leaf_hash[SG_HASH_BYTES], uint8_t *proof, size_t *n,
                          uint8_t root[SG_HASH_BYTES], struct sg_err *err);

/* The consistency proof between sizes `m` and `*n` (0: the current size,
 * written back), with both roots. */
enum sg_rc sg_audit_consistency(struct sg_vault *v, uint64_t m, uint64_t *n, uint8_t *proof,
                                size_t *count, uint8_t root1[SG_HASH_BYTES],
                                uint8_t root2[SG_HASH_BYTES], struct sg_err *err);

/* What sg_audit_verify found. */
struct sg_audit_report {
    uint64_t entries;   /* entries read and re-hashed */
    uint64_t heads;     /* signed heads checked */
    int ok;             /* 1 when nothing is wrong */
    uint64_t first_bad; /* the first entry that does not match (when !ok) */
    char problem[SG_ERR_MSG_MAX];
};

/*
 * Recomputes the whole tree from the entries, checks every stored subtree,
 * every head's signature and root, and that the heads are consistent with one
 * another and with the entries. Tampering is a finding, not an error: the
 * call returns SG_OK with rep->ok = 0 and the first problem named; errors are
 * for the cases where verification could not run (I/O, missing key). It
 * reads the whole log, so it is for the operator and staff roles (SG_DENIED
 * otherwise, audited): anyone else checks heads and proofs, which cost
 * microseconds.
 */
enum sg_rc sg_audit_verify(struct sg_vault *v, const struct sg_actor *who,
                           struct sg_audit_report *rep, struct sg_err *err);

/*
 * Lists entries in order: all, or one person's (`subject`, NULL for all),
 * at or after `since` (0: from the start), at most `limit` (0: no limit).
 * Details sealed under the person's key are opened when the person is named
 * and still has a key. Reading one person's entries is itself audited.
 * Only for the operator and staff roles (SG_DENIED, audited, otherwise).
 */
enum sg_rc sg_audit_log(struct sg_vault *v, const struct sg_actor *who,
                        const struct sg_uuid *subject, sg_time since, size_t limit,
                        int (*cb)(void *ctx, const struct sg_audit_entry *e), void *ctx,
                        struct sg_err *err);

/* The pseudonym the log uses for a person. */
void sg_audit_pseudonym(struct sg_vault *v, const struct sg_uuid *subject, uint8_t out[16]);

/* What an archive run did: entries [from, to) went to the file, proven
 * against the head of size `size`. */
struct sg_audit_archive_report {
    uint64_t from, to, size;
};

/*
 * Moves the content of the entries older than `before` out of the database
 * into the new file `path` (JSON lines: a header with the signed head and the
 * verifier key, then each entry with its inclusion proof), then drops that
 * content from the log; the leaf hashes and the tree stay, so the log still
 * verifies. Entries are kept at least 12 months: SG_INVALID for a later
 * `before`. SG_NOTFOUND when nothing is old enough. Audited.
 */
enum sg_rc sg_audit_archive(struct sg_vault *v, const struct sg_actor *who, sg_time before,
                            const char *path, struct sg_audit_archive_report *rep,
                            struct sg_err *err);

/*
 * Checks an archive file without any database: the head's signature under
 * `vkey`, and every entry's hash and inclusion proof. SG_OK (with the number
 * of entries) when all hold, SG_DENIED when one does not, SG_INVALID when the
 * file is malformed.
 */
enum sg_rc sg_audit_check_archive(const char *path, const char *vkey, uint64_t *entries,
                                  struct sg_err *err);

/*
 * Checks a signed head (a C2SP checkpoint) against a verifier key without any
 * database: SG_OK and the size and root when the signature is good, SG_DENIED
 * when it is not, SG_INVALID when the note or key is malformed.
 */
enum sg_rc sg_audit_check_head(const char *note, const char *vkey, uint64_t *size,
                               uint8_t root[SG_HASH_BYTES], struct sg_err *err);

/* -------------------------------------------- one writer, many readers */

/*
 * A server reads on many threads (each its own handle) and writes on one,
 * so that the audit entries of many requests share one transaction, one
 * signed head and one sync. A handle given a sink appends nothing itself:
 * when one of its operations commits, each of its audit entries (the
 * encoded leaf, its time and the person's pseudonym or NULL) goes to `fn`,
 * which hands them to the writer; the writer appends them with
 * sg_audit_append_leaf() inside its own transaction. The entries of an
 * operation that fails never reach the sink. An error from `fn` fails the
 * operation. The caller must not answer a read before the writer committed
 * its entries: that is what keeps "every read is on the record" true.
 */
typedef enum sg_rc (*sg_audit_sink_fn)(void *ctx, const uint8_t *leaf, size_t len, sg_time at,
                                       const uint8_t *pseudonym, struct sg_err *err);
void sg_vault_set_audit_sink(struct sg_vault *v, sg_audit_sink_fn fn, void *ctx);

/* Appends an entry another handle encoded (see above), in its own
 * operation or the caller's sg_vault_begin() group. `pseudonym` is
 * 16 bytes or NULL. */
enum sg_rc sg_audit_append_leaf(struct sg_vault *v, const uint8_t *leaf, size_t len, sg_time at,
                                const uint8_t *pseudonym, struct sg_err *err);

#endif
