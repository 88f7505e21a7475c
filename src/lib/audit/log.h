/*
 * log.h - the audit log's machinery, internal to the library: signed notes
 * (C2SP signed-note and tlog-checkpoint), the leaf encoding, and the log
 * handle the vault appends through.
 *
 * Leaf encoding v1 (big-endian), frozen by a known-answer test:
 *     u8  version = 1
 *     i64 time (microseconds)
 *     six strings, each u16 length + UTF-8: actor, role, purpose, action,
 *         object, result
 *     16  request id
 *     u8  1 when a person is named, then 16 pseudonym bytes; else 0
 *     u8  details kind: 0 none, 1 text, 2 sealed under the person's key
 *     u32 length, then the details
 */
#ifndef SARGS_AUDIT_LOG_H
#define SARGS_AUDIT_LOG_H

#include "sargs/audit.h"
#include "sargs/buf.h"
#include "sargs/crypto.h"
#include "../store/store.h"

#define SG_AUDIT_KEY_NAME      "audit.key"
#define SG_PSEUDONYM_KEY_NAME  "pseudonym.key"
#define SG_AUDIT_DETAILS_FIELD "sargs.audit.details"

/* ------------------------------------------------------------ signed notes */

struct sg_signer {
    uint8_t *sk; /* Ed25519 secret key (64), sodium_malloc'd */
    uint8_t pk[32];
    char name[96];   /* the key name and checkpoint origin */
    uint8_t hash[4]; /* the key hash of the signed-note format */
};

enum sg_rc sg_signer_init(struct sg_signer *s, const struct sg_key *seed, const char *name,
                          struct sg_err *err);
void sg_signer_release(struct sg_signer *s);

/* "name+hash+base64(0x01 | pk)" */
void sg_signer_vkey(const struct sg_signer *s, char *out, size_t len);

/* A checkpoint for (size, root), signed; *out is malloc'd. */
enum sg_rc sg_checkpoint_sign(const struct sg_signer *s, uint64_t size,
                              const uint8_t root[SG_HASH_BYTES], char **out, struct sg_err *err);

/* Checks a checkpoint signed by the key `name`/`pk` and reads its body.
 * SG_DENIED for a bad or missing signature, SG_INVALID for a malformed note;
 * `origin` (may be NULL) must then equal the first line. */
enum sg_rc sg_checkpoint_verify(const char *note, const char *name, const uint8_t pk[32],
                                const char *origin, uint64_t *size, uint8_t root[SG_HASH_BYTES],
                                struct sg_err *err);

/* Parses a verifier key. */
enum sg_rc sg_vkey_parse(const char *vkey, char *name, size_t namelen, uint8_t pk[32],
                         struct sg_err *err);

/* ------------------------------------------------------------------ leaves */

struct sg_audit_rec {
    sg_time at;
    const struct sg_actor *who;
    const char *action;
    const char *object;
    const char *result;
    const uint8_t *request;   /* 16 */
    const uint8_t *pseudonym; /* 16, or NULL */
    int details_kind;         /* 0 none, 1 text, 2 sealed */
    const uint8_t *details;
    size_t details_len;
};

enum sg_rc sg_audit_leaf_encode(const struct sg_audit_rec *r, struct sg_buf *out,
                                struct sg_err *err);

/* Decodes a leaf into `e` (strings point into `tmp`, which is reset) and the
 * raw details into `details` and `dlen` (pointing into `leaf`). SG_CRYPTO when the
 * leaf is malformed. */
enum sg_rc sg_audit_leaf_decode(const uint8_t *leaf, size_t len, struct sg_audit_entry *e,
                                struct sg_buf *tmp, const uint8_t **details, size_t *dlen,
                                struct sg_err *err);

/* --------------------------------------------------------------- the log */

/* An entry waiting for its transaction to commit. */
struct sg_audit_pending {
    uint64_t index;
    sg_time at;
    int has_pseudonym;
    uint8_t pseudonym[SG_PSEUDONYM_BYTES];
    uint8_t hash[SG_HASH_BYTES];
    size_t leaf_off, leaf_len; /* in `leaves` */
    size_t nodes_end;          /* pending subtrees up to and including this entry */
};

struct sg_audit_node {
    unsigned level;
    uint64_t index;
    uint8_t hash[SG_HASH_BYTES];
};

/*
 * Entries are queued in memory and written, with the subtrees they complete
 * and the signed head, just before the transaction commits (group commit):
 * an operation's savepoint then never touches the log's pages, and a batch
 * writes the log sequentially. The tree's right edge is tracked as entries
 * are queued; `base` is the edge the transaction started from, replayed when
 * a savepoint is rolled back.
 */
struct sg_auditlog {
    struct sg_signer signer;
    struct sg_key *pseudo;
    int range_valid; /* range and base mirror the store in this transaction */
    struct sg_merkle_range range, base;
    uint8_t request[16];
    struct sg_audit_pending *pending;
    size_t npending, cap_pending;
    struct sg_audit_node *nodes;
    size_t nnodes, cap_nodes;
    struct sg_buf leaves;
    /* Sink mode: entries are encoded and queued as usual, but at seal time
     * handed to `sink` (another handle appends them) instead of the store. */
    sg_audit_sink_fn sink;
    void *sink_ctx;
};

/* Creates the signing and pseudonym keys in `keys_dir` (kept if present). */
enum sg_rc sg_auditlog_create_keys(const char *keys_dir, struct sg_err *err);

/* Loads the keys; the checkpoint origin is "sargs/<vault id>". */
enum sg_rc sg_auditlog_open(struct sg_auditlog *l, const char *keys_dir, const char *vault_id,
                            struct sg_err *err);
void sg_auditlog_close(struct sg_auditlog *l);

void sg_auditlog_pseudonym(const struct sg_auditlog *l, const struct sg_uuid *id,
                           uint8_t out[SG_PSEUDONYM_BYTES]);

/* A top-level transaction starts: a new request id, nothing appended yet. */
void sg_auditlog_begin(struct sg_auditlog *l, sg_time now);

/* Queues an entry (request id and pseudonym filled in from `subject`); it
 * is written by sg_auditlog_seal() at commit (or, in sink mode, handed to the
 * sink then). */
/* Queues a leaf encoded by another handle (sink mode, sargs/audit.h). */
enum sg_rc sg_auditlog_append_leaf(struct sg_auditlog *l, struct sg_store *s, const uint8_t *leaf,
                                   size_t len, sg_time at, const uint8_t *pseudonym,
                                   struct sg_err *err);

enum sg_rc sg_auditlog_append(struct sg_auditlog *l, struct sg_store *s,
                              const struct sg_audit_rec *r, const struct sg_uuid *subject,
                              struct sg_err *err);

/* What a savepoint must restore when it is rolled back. */
uint64_t sg_auditlog_mark(const struct sg_auditlog *l);
void sg_auditlog_rollback_to(struct sg_auditlog *l, uint64_t mark);

/* Before the top-level commit: writes the queued entries and their subtrees
 * and a signed head (group commit: one head per transaction). A failure
 * means the transaction must be rolled back. */
enum sg_rc sg_auditlog_seal(struct sg_auditlog *l, struct sg_store *s, sg_time now,
                            struct sg_err *err);

/* Entries below this index have been archived (their content dropped). */
uint64_t sg_audit_archived_below(struct sg_store *s);

/* The store's fetcher for sargs/merkle.h (ctx = struct sg_store *). */
int sg_auditlog_fetch(void *ctx, unsigned level, uint64_t index, uint8_t out[SG_HASH_BYTES]);

#endif
