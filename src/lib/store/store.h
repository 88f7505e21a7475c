/*
 * store.h - the storage interface of libsargs (internal to the library).
 *
 * A backend is a table of function pointers, one file per backend (as curl
 * does for TLS): sqlite.c, pg.c. No SQL exists outside these
 * files. The interface speaks the domain (subjects, sealed fields, events,
 * history, audit records), never tables; what crosses it is already sealed,
 * so a backend never sees a clear value or a key.
 *
 * Transactions: begin() opens a write transaction (SQLite: BEGIN IMMEDIATE);
 * every call between begin() and commit() is atomic. Transactions nest: a
 * begin() inside one opens a savepoint, whose rollback() undoes only what was
 * done since, so one failed operation in a batch does not sink the batch.
 * Calls outside a transaction are not allowed except the read-only
 * meta_get(), schema_version(), and open/close/backup/restore.
 *
 * A backend may send a write ahead without waiting for its answer
 * (PostgreSQL pipelines them, as round trips dominate): a write's failure
 * is then reported by the next call that waits - a read, or the commit()
 * that ends the savepoint or transaction. A failed commit() has undone its
 * savepoint or transaction. So a caller treats any failure inside a
 * savepoint as the failure of the whole savepoint, as the vault does.
 *
 * SG_UNAVAILABLE means the database is away or busy: the transaction is
 * lost and the caller may try again; the handle reconnects by itself at
 * the next transaction. From commit() it may also mean that whether the
 * transaction committed is unknown (the connection broke during COMMIT).
 *
 * Iteration is by callback; pointers handed to a callback are valid only
 * during that call. A callback returning nonzero stops the iteration early
 * (the iterating call still returns SG_OK).
 */
#ifndef SARGS_STORE_H
#define SARGS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/buf.h"
#include "sargs/clock.h"
#include "sargs/crypto.h"
#include "sargs/err.h"
#include "sargs/uuid.h"

/* The schema version this binary writes; a newer one in a database is
 * refused, an older one is migrated forward. */
#define SG_SCHEMA_VERSION 13

#define SG_PSEUDONYM_BYTES 16

/* The message of subject_shred's SG_NOTFOUND with `once`: nobody to shred. */
#define SG_STORE_NOBODY "no subject to shred (not found, or already done)"

/* A blind-index entry of a person: category code and keyed hash. */
struct sg_store_key {
    int code;
    const uint8_t *bidx; /* SG_BIDX_BYTES */
};

/* The login of a person's own sessions is this prefix and their id
 * (auth/person.c); subject_shred ends them. */
#define SG_PERSON_LOGIN_PREFIX "person:"

struct sg_store;

/* A person's row. The person's data travels beside it as one opaque record
 * (see record.h): the store never looks inside. */
struct sg_store_subject {
    struct sg_uuid id;
    int state; /* enum sg_subject_state */
    sg_time created;
    sg_time changed;
    uint32_t dek_version;
    int has_dek; /* 1 present, 0 shredded, -1 damaged */
    uint8_t wrapped_dek[SG_WRAPPED_DEK_BYTES];
};

struct sg_store_event {
    const char *name;
    sg_time at;
};

struct sg_store_history {
    int64_t seq;
    const char *category;
    const uint8_t *old_sealed; /* NULL when the field was new */
    size_t old_len;
    uint32_t dek_version;
    const uint8_t *reason_sealed;
    size_t reason_len;
    const char *actor;
    sg_time at;
};

/* One entry of the audit log (see src/lib/audit/log.h): the leaf is opaque
 * to the store; `at` and `pseudonym` are copies kept for queries, which the
 * verifier checks against the leaf. */
struct sg_store_audit {
    uint64_t index;
    sg_time at;
    const uint8_t *pseudonym; /* SG_PSEUDONYM_BYTES, or NULL */
    const uint8_t *leaf;
    size_t leaf_len;
    const uint8_t *hash; /* 32: the leaf hash */
};

/* A stored subtree of the audit tree (level >= 1), as the verifier reads
 * them. */
struct sg_store_node {
    unsigned level;
    uint64_t index;
    uint8_t hash[32];
};

/*
 * The key of a stored subtree, the same on both backends (schema step 12):
 * the last entry it covers, then its level, `last << 6 | level`. The
 * subtrees an append completes all end at entries of the batch, so they sit
 * side by side (keyed `level << 56 | index`, each level had its own part of
 * the table: a batch of ten audited reads wrote ten of its pages, two
 * now); and the verifier, which recomputes them in this same order, reads
 * them in one pass. Entries up to 2^56.
 */
static inline uint64_t sg_node_key(unsigned level, uint64_t index)
{
    return (((index + 1) << level) - 1) << 6 | level;
}

static inline void sg_node_unkey(uint64_t key, unsigned *level, uint64_t *index)
{
    *level = (unsigned)(key & 63);
    *index = (((key >> 6) + 1) >> *level) - 1;
}

/* A signed tree head. */
struct sg_store_head {
    uint64_t size;
    sg_time at;
    const uint8_t *root; /* 32 */
    const char *note;    /* the signed checkpoint text */
};

/* One version of the policy as the vault recorded it. */
struct sg_store_policy {
    int64_t seq;       /* 1, 2, ... in order of application */
    const char *hash;  /* version hash (hex), see sg_policy_load() */
    sg_time effective; /* in force from this instant */
    sg_time applied;   /* when it was recorded */
    const char *actor;
    const char *text; /* the file as given; NULL when not asked for */
    size_t len;
};

typedef int (*sg_subject_cb)(void *ctx, const struct sg_store_subject *s);
typedef int (*sg_policy_cb)(void *ctx, const struct sg_store_policy *p);
typedef int (*sg_event_cb)(void *ctx, const struct sg_store_event *e);
typedef int (*sg_history_cb)(void *ctx, const struct sg_store_history *h);
typedef int (*sg_id_cb)(void *ctx, const struct sg_uuid *id);
typedef int (*sg_category_cb)(void *ctx, int code, const char *id);

/* An API token as stored: only the hash of its secret. */
struct sg_store_token {
    const char *id;
    const char *name;
    const char *role;
    const char *purpose;
    const char *scope;   /* NULL: none */
    const uint8_t *hash; /* 32 */
    sg_time created;
    sg_time revoked; /* 0 while valid */
};
typedef int (*sg_token_cb)(void *ctx, const struct sg_store_token *t);
typedef int (*sg_group_cb)(void *ctx, const char *group, sg_time since);

/* A consent event: about a person (`has_subject`), or, before the person
 * exists, about a blind-indexed value (`category`, `bidx`). */
struct sg_store_consent {
    int64_t seq; /* assigned on append */
    int has_subject;
    struct sg_uuid subject;
    int category;
    uint8_t bidx[SG_BIDX_BYTES];
    const char *purpose;
    int state, method, by;
    sg_time at, expires;
    const char *lang, *notice, *actor;
    int has_guardian;
    struct sg_uuid guardian;
    int child;
    uint32_t kv;            /* key version the details are sealed under */
    const uint8_t *details; /* sealed; NULL when none */
    size_t details_len;
};
typedef int (*sg_consent_cb)(void *ctx, const struct sg_store_consent *c);

/* An operator account as stored. */
struct sg_store_operator {
    const char *login, *role, *purpose;
    const char *scope; /* NULL: none */
    const char *hash;  /* Argon2id, encoded (crypto_pwhash_str) */
    sg_time created, password_changed, locked_until;
    int failures, disabled;
};
typedef int (*sg_operator_cb)(void *ctx, const struct sg_store_operator *o);

/* A session as stored: the hash of its secret. */
struct sg_store_session {
    uint8_t hash[32];
    const char *login;
    sg_time created, expires, seen;
};

/* A person as the sweeper sees them: state, times, dated events, and which
 * rules already acted for which anchor. Arrays valid during the call. */
struct sg_store_done {
    const char *rule;
    sg_time anchor;
};
struct sg_store_sweep_row {
    struct sg_uuid id;
    int state;
    sg_time created;
    const struct sg_store_event *events;
    size_t nevents;
    const struct sg_store_done *done;
    size_t ndone;
};
typedef int (*sg_sweep_cb)(void *ctx, const struct sg_store_sweep_row *r);

/* A message in the outbox. `sealed` is sealed under the person's key. */
struct sg_store_message {
    struct sg_uuid id;
    int has_subject;
    struct sg_uuid subject;
    const char *kind;
    sg_time created;
    uint32_t kv;
    const uint8_t *sealed;
    size_t sealed_len;
    int state, attempts;
    sg_time next_attempt, sent;
    const char *error; /* the last delivery error, or NULL */
};
typedef int (*sg_message_cb)(void *ctx, const struct sg_store_message *m);
typedef int (*sg_stats_cb)(void *ctx, const char *category, const char *value, int year,
                           uint64_t count);

/* A data-subject request as stored (days are local days since the epoch;
 * due_day is the effective last day, extended or not). */
struct sg_store_request {
    struct sg_uuid id;
    int has_subject;
    struct sg_uuid subject;
    int kind, state, extended, copies;
    const char *channel;
    sg_time received, closed, updated;
    int64_t received_day, paused_days, paused_since, due_day;
    const char *identity; /* method that identified the person, or NULL */
    const char *agent;    /* authorisation of an agent, or NULL */
};
typedef int (*sg_request_cb)(void *ctx, const struct sg_store_request *r);

struct sg_store_request_event {
    int64_t seq;
    sg_time at;
    const char *actor, *verb;
    int state;
    const uint8_t *reason; /* sealed, or NULL */
    size_t reason_len;
};
typedef int (*sg_request_event_cb)(void *ctx, const struct sg_store_request_event *e);

/* Which requests request_each lists. */
struct sg_request_filter {
    int open_only;          /* not closed */
    int64_t due_before;     /* with open_only: due_day < this (0: no bound) */
    int has_subject;        /* one person's */
    struct sg_uuid subject; /*   (all states, newest first) */
    size_t limit;           /* 0: no limit */
    sg_time changed_after;  /* > 0: every request changed after this time,
                             * in order of change (a restore's report) */
};

/* What a decision reads for one person and purpose. */
struct sg_store_pstate {
    int consent; /* enum sg_consent_state */
    sg_time since, expires;
    unsigned flags; /* SG_PS_* (src/lib/consent/consent_int.h) */
};
typedef int (*sg_audit_cb)(void *ctx, const struct sg_store_audit *a);
typedef int (*sg_head_cb)(void *ctx, const struct sg_store_head *h);

/* A person's sign-in code and the counts its limits keep. */
struct sg_store_code {
    uint8_t hash[32]; /* keyed hash of the code; all zero: none */
    sg_time expires;  /* 0: no code */
    int attempts;     /* tries of this code */
    sg_time sent;     /* when the last code was sent; 0: never */
    sg_time day_start;
    int day_sends, day_fails; /* codes sent and wrong tries since day_start */
};

struct sg_store_ops {
    const char *name;
    /* `where` is backend-specific (a file path for SQLite). Creates the
     * database when `create` is set, otherwise SG_NOTFOUND when absent. */
    enum sg_rc (*open)(const char *where, int create, struct sg_store **out, struct sg_err *err);
    void (*close)(struct sg_store *s);

    /* Brings the schema to SG_SCHEMA_VERSION; SG_CONFLICT when the database
     * is newer than this binary. */
    enum sg_rc (*migrate)(struct sg_store *s, sg_time now, struct sg_err *err);
    enum sg_rc (*schema_version)(struct sg_store *s, int *version, struct sg_err *err);

    enum sg_rc (*begin)(struct sg_store *s, struct sg_err *err);
    /* Like begin, for a transaction that mostly reads: it takes no write
     * lock up front (SQLite: a deferred transaction), so readers on other
     * handles do not queue behind a writer. A write inside must come
     * before any read, or it may fail with SG_UNAVAILABLE. */
    enum sg_rc (*begin_read)(struct sg_store *s, struct sg_err *err);
    enum sg_rc (*commit)(struct sg_store *s, struct sg_err *err);
    void (*rollback)(struct sg_store *s);

    /* Vault-wide settings (vault id, master-key fingerprint ...). meta_get:
     * SG_NOTFOUND when unset; *out is malloc'd. */
    enum sg_rc (*meta_get)(struct sg_store *s, const char *key, char **out, struct sg_err *err);
    enum sg_rc (*meta_set)(struct sg_store *s, const char *key, const char *val,
                           struct sg_err *err);

    /* Category ids get small vault-local codes, so that records and the
     * blind index stay compact. category_add: the code of `id`, created if
     * new. */
    enum sg_rc (*category_add)(struct sg_store *s, const char *id, int *code, struct sg_err *err);
    enum sg_rc (*category_each)(struct sg_store *s, sg_category_cb cb, void *ctx,
                                struct sg_err *err);

    enum sg_rc (*subject_insert)(struct sg_store *s, const struct sg_store_subject *sub,
                                 const uint8_t *record, size_t record_len, struct sg_err *err);
    /* Reads a person's row and, when `record` is not NULL, the record into it
     * (reset first; left empty when the person has none). */
    enum sg_rc (*subject_get)(struct sg_store *s, const struct sg_uuid *id,
                              struct sg_store_subject *out, struct sg_buf *record,
                              struct sg_err *err);
    enum sg_rc (*subject_put_record)(struct sg_store *s, const struct sg_uuid *id,
                                     const uint8_t *record, size_t record_len, sg_time changed,
                                     struct sg_err *err);
    enum sg_rc (*subject_set_state)(struct sg_store *s, const struct sg_uuid *id, int state,
                                    sg_time at, struct sg_err *err);
    /* Subjects in id order after `after` (NULL: from the start), at most
     * `limit` of them; records are not read. */
    enum sg_rc (*subject_list)(struct sg_store *s, const struct sg_uuid *after, size_t limit,
                               sg_subject_cb cb, void *ctx, struct sg_err *err);
    enum sg_rc (*subject_set_dek)(struct sg_store *s, const struct sg_uuid *id,
                                  const uint8_t wrapped[SG_WRAPPED_DEK_BYTES], struct sg_err *err);
    /* Crypto-shredding: drops the wrapped key and the record, and every
     * row stored of the subject (blind-index entries, events, history,
     * memberships, consents and decisions, done marks, outbox messages,
     * sign-in code, the sessions of login "person:<id>"), and leaves a
     * tombstone row in state `state`.
     *
     * The blind-index entries: `keys` (n of them) are the person's, when
     * the caller has them from a record it trusts; with NULL every entry of
     * the person is found, by an index of the entries by person where the
     * backend keeps one (shred_by_person: PostgreSQL, where reading the
     * record first would cost a round trip), else by a scan of the index
     * (SQLite, for the rare damaged record; reading a record costs SQLite
     * next to nothing, and the second index would cost every person added).
     *
     * Without `once`, a subject that does not exist is no failure. With it,
     * SG_NOTFOUND ("no subject to shred ...") when no subject `id` is in a
     * state other than `state`; PostgreSQL reports it at the latest when
     * the operation's savepoint or transaction ends (commit()),
     * which then takes back what was done since begin(): the caller does
     * nothing it cannot take back before. */
    enum sg_rc (*subject_shred)(struct sg_store *s, const struct sg_uuid *id, int state, sg_time at,
                                int once, const struct sg_store_key *keys, size_t n,
                                struct sg_err *err);
    int shred_by_person; /* 1: subject_shred finds the entries by person */

    /* The blind index: (category code, keyed hash) -> subject. */
    enum sg_rc (*index_put)(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                            const struct sg_uuid *id, struct sg_err *err);
    enum sg_rc (*index_del)(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                            const struct sg_uuid *id, struct sg_err *err);
    enum sg_rc (*index_find)(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                             sg_id_cb cb, void *ctx, struct sg_err *err);

    /* Sets the time of a dated event (the latest occurrence counts). */
    enum sg_rc (*event_put)(struct sg_store *s, const struct sg_uuid *id, const char *name,
                            sg_time at, struct sg_err *err);
    enum sg_rc (*events_each)(struct sg_store *s, const struct sg_uuid *id, sg_event_cb cb,
                              void *ctx, struct sg_err *err);

    enum sg_rc (*history_append)(struct sg_store *s, const struct sg_uuid *id,
                                 const struct sg_store_history *h, struct sg_err *err);
    enum sg_rc (*history_each)(struct sg_store *s, const struct sg_uuid *id, sg_history_cb cb,
                               void *ctx, struct sg_err *err);

    /* The audit log: entries with consecutive indexes from 0, the perfect
     * subtrees of its Merkle tree (level >= 1), and signed heads. Nothing is
     * ever updated or deleted. audit_lock serialises appenders across
     * processes for the rest of the transaction (SQLite's write transaction
     * already does; PostgreSQL takes an advisory lock). */
    enum sg_rc (*audit_lock)(struct sg_store *s, struct sg_err *err);
    enum sg_rc (*audit_size)(struct sg_store *s, uint64_t *size, struct sg_err *err);
    enum sg_rc (*audit_append)(struct sg_store *s, const struct sg_store_audit *a,
                               struct sg_err *err);
    enum sg_rc (*audit_node_put)(struct sg_store *s, unsigned level, uint64_t index,
                                 const uint8_t hash[32], struct sg_err *err);
    /* The hash of a perfect subtree; level 0 is a leaf hash. SG_NOTFOUND
     * when absent. */
    enum sg_rc (*audit_hash_get)(struct sg_store *s, unsigned level, uint64_t index,
                                 uint8_t out[32], struct sg_err *err);
    /* Up to `max` stored subtrees with keys from `from` on (sg_node_key), in
     * key order: the order appends complete them; `*n` gets how many there
     * were. For the verifier, which recomputes the tree in that order. */
    enum sg_rc (*audit_nodes_read)(struct sg_store *s, uint64_t from, size_t max,
                                   struct sg_store_node *out, size_t *n, struct sg_err *err);
    /* Entries with index in [from, to), in order; with `pseudonym`, only that
     * person's; with `since` > 0, only those at or after it. */
    enum sg_rc (*audit_each)(struct sg_store *s, uint64_t from, uint64_t to,
                             const uint8_t *pseudonym, sg_time since, sg_audit_cb cb, void *ctx,
                             struct sg_err *err);
    /* The one sanctioned change to the log: the content (leaf and pseudonym)
     * of entries with index < `below` is dropped once archived elsewhere;
     * their leaf hashes and the tree stay. */
    enum sg_rc (*audit_archive)(struct sg_store *s, uint64_t below, struct sg_err *err);
    enum sg_rc (*audit_head_put)(struct sg_store *s, const struct sg_store_head *h,
                                 struct sg_err *err);
    /* Heads of size >= `from`, by size. */
    enum sg_rc (*audit_heads_each)(struct sg_store *s, uint64_t from, sg_head_cb cb, void *ctx,
                                   struct sg_err *err);

    /* Group memberships (plain group ids, like event names). member_put
     * adds one (SG_CONFLICT when present), member_del removes one
     * (SG_NOTFOUND when absent), members_each lists a person's groups by
     * name, member_shared sets *shared when `a` and `b` have a group in
     * common. subject_shred removes a person's memberships. */
    enum sg_rc (*member_put)(struct sg_store *s, const struct sg_uuid *id, const char *group,
                             sg_time since, struct sg_err *err);
    enum sg_rc (*member_del)(struct sg_store *s, const struct sg_uuid *id, const char *group,
                             struct sg_err *err);
    enum sg_rc (*members_each)(struct sg_store *s, const struct sg_uuid *id, sg_group_cb cb,
                               void *ctx, struct sg_err *err);
    enum sg_rc (*member_shared)(struct sg_store *s, const struct sg_uuid *a,
                                const struct sg_uuid *b, int *shared, struct sg_err *err);

    /* The consent ledger. consent_append adds an event (its seq assigned
     * and returned in c->seq); consent_each lists a person's events by seq;
     * consent_pending lists the events recorded against a value (in seq
     * order), consent_link hands them all to person `id`, and
     * consent_reseal replaces one event's sealed details (they move from
     * the pending key to the person's). pstate_get gives SG_NOTFOUND when no row;
     * pstate_put inserts or replaces. decide reads the person's state and
     * the row for the purpose in one go: SG_NOTFOUND for an unknown person,
     * *has_ps 0 when no row. It is asked before every use of data: a backend
     * should answer it with one indexed read (SQLite keeps one row per person
     * with the state copied and all purposes packed). subject_set_state keeps
     * that copy; subject_shred removes the person's events and rows. */
    enum sg_rc (*consent_append)(struct sg_store *s, struct sg_store_consent *c,
                                 struct sg_err *err);
    enum sg_rc (*consent_each)(struct sg_store *s, const struct sg_uuid *id, sg_consent_cb cb,
                               void *ctx, struct sg_err *err);
    enum sg_rc (*consent_pending)(struct sg_store *s, int category,
                                  const uint8_t bidx[SG_BIDX_BYTES], sg_consent_cb cb, void *ctx,
                                  struct sg_err *err);
    enum sg_rc (*consent_link)(struct sg_store *s, int category, const uint8_t bidx[SG_BIDX_BYTES],
                               const struct sg_uuid *id, struct sg_err *err);
    enum sg_rc (*consent_reseal)(struct sg_store *s, int64_t seq, uint32_t kv,
                                 const uint8_t *details, size_t len, struct sg_err *err);
    enum sg_rc (*pstate_get)(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                             struct sg_store_pstate *out, struct sg_err *err);
    enum sg_rc (*pstate_put)(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                             const struct sg_store_pstate *ps, struct sg_err *err);
    enum sg_rc (*decide)(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                         int *state, struct sg_store_pstate *ps, int *has_ps, struct sg_err *err);
    /* Decisions in bulk (may be NULL): with `on`, decide may answer from a
     * read snapshot kept across calls for as long as nothing has committed
     * to the database since (checked before every decision, so a change by
     * any process is seen by the next one); any other call, and `on` 0,
     * end the snapshot. */
    enum sg_rc (*decide_keep)(struct sg_store *s, int on, struct sg_err *err);

    /* Retention. sweep_scan hands out people in id order after `after` (NULL:
     * from the start), at most `limit`, with their events and done marks;
     * sweep_done_put marks (person, rule, anchor) done; global_event_put
     * records a date of an event that is one for everybody (again: no
     * change), global_event_latest gives the latest at or before `before`
     * (SG_NOTFOUND when none); stats_put keeps an anonymised remainder,
     * stats_each counts them by category, value and year; history_del_category
     * removes a person's history of one category. subject_shred removes a
     * person's done marks and outbox messages too. Inside a transaction of
     * begin(), sweep_scan also orders sweepers: another handle's scan in
     * such a transaction waits until this one ends, and then sees its done
     * marks (SQLite's write lock; an advisory lock on PostgreSQL). */
    enum sg_rc (*sweep_scan)(struct sg_store *s, const struct sg_uuid *after, size_t limit,
                             sg_sweep_cb cb, void *ctx, struct sg_err *err);
    enum sg_rc (*sweep_done_put)(struct sg_store *s, const struct sg_uuid *id, const char *rule,
                                 sg_time anchor, sg_time at, struct sg_err *err);
    enum sg_rc (*global_event_put)(struct sg_store *s, const char *name, sg_time at,
                                   struct sg_err *err);
    enum sg_rc (*global_event_latest)(struct sg_store *s, const char *name, sg_time before,
                                      sg_time *out, struct sg_err *err);
    enum sg_rc (*stats_put)(struct sg_store *s, const uint8_t id[16], const char *category,
                            const char *value, int year, struct sg_err *err);
    enum sg_rc (*stats_each)(struct sg_store *s, sg_stats_cb cb, void *ctx, struct sg_err *err);
    enum sg_rc (*history_del_category)(struct sg_store *s, const struct sg_uuid *id,
                                       const char *category, struct sg_err *err);

    /* The outbox. outbox_claim marks up to `limit` messages due at `now`
     * (queued, next attempt reached, not claimed by another worker) as
     * claimed for `lease` microseconds and hands them out: several workers
     * never get the same message. The lease is reckoned by the database's
     * clock (PostgreSQL: the server's, one for every node, so that a node
     * whose clock runs ahead does not take a message another still holds;
     * SQLite: `now`); `*until` gets the claim's mark. outbox_update records
     * a delivery's outcome and lifts the claim, only while the claim is
     * still the one marked `lease` (SG_CONFLICT otherwise: it ran out and
     * another worker has the message), and wipes the content of one that
     * is no longer queued;
     * outbox_each lists messages, of one state or all (state -1),
     * oldest first. */
    enum sg_rc (*outbox_put)(struct sg_store *s, const struct sg_store_message *m,
                             struct sg_err *err);
    enum sg_rc (*outbox_claim)(struct sg_store *s, sg_time now, sg_time lease, size_t limit,
                               sg_message_cb cb, void *ctx, sg_time *until, struct sg_err *err);
    enum sg_rc (*outbox_update)(struct sg_store *s, const struct sg_uuid *id, sg_time lease,
                                int state, int attempts, sg_time next_attempt, sg_time sent,
                                const char *error, struct sg_err *err);
    enum sg_rc (*outbox_each)(struct sg_store *s, int state, sg_message_cb cb, void *ctx,
                              struct sg_err *err);

    /* Requests. request_put inserts or replaces the row; request_get gives
     * SG_NOTFOUND for an unknown id; request_each lists by the filter:
     * open ones by due day, or one person's newest first; the events of a
     * request come in order. Inside a transaction of begin(), request_get
     * keeps other handles from moving the request until the transaction
     * ends (they wait, then read what it wrote), as subject_get does for a
     * person. */
    enum sg_rc (*request_put)(struct sg_store *s, const struct sg_store_request *r,
                              struct sg_err *err);
    enum sg_rc (*request_get)(struct sg_store *s, const struct sg_uuid *id, sg_request_cb cb,
                              void *ctx, struct sg_err *err);
    enum sg_rc (*request_each)(struct sg_store *s, const struct sg_request_filter *f,
                               sg_request_cb cb, void *ctx, struct sg_err *err);
    enum sg_rc (*request_event_append)(struct sg_store *s, const struct sg_uuid *request,
                                       const struct sg_store_request_event *e, struct sg_err *err);
    enum sg_rc (*request_events_each)(struct sg_store *s, const struct sg_uuid *request,
                                      sg_request_event_cb cb, void *ctx, struct sg_err *err);

    /* People's one-time sign-in codes, one row per person. code_lock
     * takes the person's row for change until the transaction ends
     * (creating an empty one first), so that two sign-ins with one code,
     * or two wrong guesses, never both see the row before the other's
     * change: call it before anything else reads the row. code_put writes
     * it back; subject_shred removes it. */
    enum sg_rc (*code_lock)(struct sg_store *s, const struct sg_uuid *id, struct sg_store_code *out,
                            struct sg_err *err);
    enum sg_rc (*code_put)(struct sg_store *s, const struct sg_uuid *id,
                           const struct sg_store_code *c, struct sg_err *err);
    enum sg_rc (*code_del)(struct sg_store *s, const struct sg_uuid *id, struct sg_err *err);

    /* Operators and sessions. operator_get: SG_NOTFOUND for an unknown
     * login (`cb` once otherwise); operator_put inserts or replaces;
     * operator_insert fails with SG_CONFLICT when the login exists.
     * session_get: SG_NOTFOUND for an unknown hash; session_del removes one,
     * session_del_login all of an operator's, session_purge those expired
     * before `now`. */
    enum sg_rc (*operator_insert)(struct sg_store *s, const struct sg_store_operator *o,
                                  struct sg_err *err);
    enum sg_rc (*operator_put)(struct sg_store *s, const struct sg_store_operator *o,
                               struct sg_err *err);
    enum sg_rc (*operator_get)(struct sg_store *s, const char *login, sg_operator_cb cb, void *ctx,
                               struct sg_err *err);
    enum sg_rc (*operator_each)(struct sg_store *s, sg_operator_cb cb, void *ctx,
                                struct sg_err *err);
    enum sg_rc (*session_put)(struct sg_store *s, const struct sg_store_session *ss,
                              struct sg_err *err);
    enum sg_rc (*session_get)(struct sg_store *s, const uint8_t hash[32],
                              struct sg_store_session *out, char *login, size_t login_cap,
                              struct sg_err *err);
    enum sg_rc (*session_seen)(struct sg_store *s, const uint8_t hash[32], sg_time seen,
                               struct sg_err *err);
    enum sg_rc (*session_del)(struct sg_store *s, const uint8_t hash[32], struct sg_err *err);
    enum sg_rc (*session_del_login)(struct sg_store *s, const char *login, struct sg_err *err);
    enum sg_rc (*session_purge)(struct sg_store *s, sg_time now, struct sg_err *err);

    /* API tokens. token_get: SG_NOTFOUND for an unknown id. */
    enum sg_rc (*token_put)(struct sg_store *s, const struct sg_store_token *t, struct sg_err *err);
    enum sg_rc (*token_get)(struct sg_store *s, const char *id, sg_token_cb cb, void *ctx,
                            struct sg_err *err);
    enum sg_rc (*token_each)(struct sg_store *s, sg_token_cb cb, void *ctx, struct sg_err *err);
    enum sg_rc (*token_revoke)(struct sg_store *s, const char *id, sg_time at, struct sg_err *err);

    /* Policy versions, append-only: every version ever applied is kept so
     * that one can tell which was in force when (a consent points at the
     * notice the person saw). policy_add records one (its seq is assigned
     * and returned); policy_at calls `cb` once with the version in force at
     * `at` (the greatest effective <= at; of those the last applied), text
     * included, or returns SG_NOTFOUND when none was yet; policy_each calls
     * `cb` for every version in order of application, with the text only
     * when `with_text` is set. */
    enum sg_rc (*policy_add)(struct sg_store *s, const struct sg_store_policy *p, int64_t *seq,
                             struct sg_err *err);
    enum sg_rc (*policy_at)(struct sg_store *s, sg_time at, sg_policy_cb cb, void *ctx,
                            struct sg_err *err);
    enum sg_rc (*policy_each)(struct sg_store *s, int with_text, sg_policy_cb cb, void *ctx,
                              struct sg_err *err);

    /* A consistent copy of the whole database into a new file `path`, taken
     * while others keep working. Whatever the backend, the file is a SQLite
     * database of the sargs schema: one backup format for both. */
    enum sg_rc (*backup)(struct sg_store *s, const char *path, struct sg_err *err);
    /* Replaces the content of the database with the one of the backup file
     * `path` (such a SQLite file), atomically, except what must outlive a
     * restore, each kept when the live one has rows and taken from the
     * backup when it is empty (a database lost and recreated): the audit
     * log, with its archive mark (meta `audit_archived_below`), and the
     * policy versions, which are the evidence of what happened, restores
     * included; and the API tokens, so that a token revoked after the
     * backup stays revoked. */
    enum sg_rc (*restore)(struct sg_store *s, const char *path, struct sg_err *err);
};

struct sg_store {
    const struct sg_store_ops *ops;
};

extern const struct sg_store_ops sg_store_sqlite;
extern const struct sg_store_ops sg_store_postgres;

/* Flags of sg_store_open(). */
#define SG_STORE_CREATE 1 /* make the database when there is none */
#define SG_STORE_SHARED                                                                            \
    2 /* other handles of this process write while this                                            \
       * one reads (the server): SQLite then reads with                                            \
       * read(), not through a memory map, which it would                                          \
       * unmap at every transaction after another's commit */

/*
 * Opens the store named by `uri`: "sqlite:PATH" or a plain path for SQLite;
 * "postgres://..." or "postgresql://..." (a libpq connection URI) for
 * PostgreSQL. Backends add their schemes here and only here. `flags`:
 * SG_STORE_*.
 */
enum sg_rc sg_store_open(const char *uri, int flags, struct sg_store **out, struct sg_err *err);

static inline void sg_store_close(struct sg_store *s)
{
    if (s)
        s->ops->close(s);
}

#endif
