/*
 * vault_int.h - what the files of the vault module share (internal).
 */
#ifndef SARGS_VAULT_INT_H
#define SARGS_VAULT_INT_H

#include "sargs/buf.h"
#include "sargs/crypto.h"
#include "sargs/vault.h"

#include "../audit/audit.h"
#include "../store/store.h"
#include "journal.h"
#include "record.h"

#define SG_VAULT_DB_NAME   "sargs.db"
#define SG_KEYS_DIR        "keys"
#define SG_MASTER_KEY_NAME "master.key"
#define SG_INDEX_KEY_NAME  "index.key"
#define SG_JOURNAL_NAME    "erasures.log"
#define SG_RETIRED_DIR     "retired"

/* meta keys */
#define META_VAULT_ID  "vault_id"
#define META_KEK_ID    "kek_id"
#define META_CREATED   "created"
#define META_BACKUP_AT "backup_taken"

/* What an operation's savepoint restores when it is rolled back. */
struct sg_opmark {
    size_t journal;
    uint64_t audit;
};

struct sg_vault {
    char *dir;
    char *kek_path;
    char *index_path;
    char *journal_path;
    struct sg_store *store;
    struct sg_key *kek;
    struct sg_key *index_key;
    const struct sg_clock *clock; /* the caller's, or system_clock */
    struct sg_clock system_clock;
    const struct sg_catalog *catalog; /* the policy's, or `empty` */
    struct sg_catalog empty;          /* for a vault with no policy */
    struct sg_policy *policy;         /* in force; NULL when none */
    struct sg_policy_version version; /* its record */
    struct sg_policy **retired;       /* replaced versions, freed at close */
    size_t nretired;
    char vault_id[SG_UUID_STR_LEN + 1];

    /* Category codes: cat_code[i] is the code of catalog->cats[i];
     * code_id[code] the category id of any code the database knows. */
    int *cat_code;
    char **code_id;
    int ncodes; /* entries in code_id (codes are 1..ncodes-1) */

    struct sg_nonce nonce;
    struct sg_rand_pool pool;
    uint8_t *dek;       /* SG_KEY_BYTES of guarded scratch for one operation */
    uint8_t *rkey;      /* the record key derived from it (record.h) */
    uint8_t *scratch;   /* 2 * SG_KEY_BYTES guarded, for erasure */
    struct sg_buf rec;  /* scratch: the record read (ciphertext only) */
    struct sg_buf rec2; /* scratch: the record written */

    struct sg_auditlog audit;
    /* Subtrees of the audit tree never change once written: a bounded
     * direct-mapped cache of them (levels >= 1) serves proofs. */
    uint64_t *node_ids;
    uint8_t *node_hashes;

    int explicit_tx;                          /* inside sg_vault_begin() */
    int op_depth;                             /* sg_op_begin()s not yet ended */
    struct sg_opmark groups[SG_VAULT_GROUPS]; /* sg_vault_group() marks */
    int ngroups;
    struct sg_journal_entry *pending; /* erasures to journal before commit */
    size_t npending, cap_pending;
};

/* Paths: malloc'd "a/b". */
char *sg_path_join(const char *a, const char *b);

/* A master key retired by a rotation, by its id, from the `retired`
 * directory beside `kek_path` (the current one). SG_NOTFOUND when it is not
 * kept; the caller frees it. */
enum sg_rc sg_vault_retired_kek(const char *kek_path, const char *id, struct sg_key **out,
                                struct sg_err *err);

/* Wipes v->dek and v->rkey at the end of an operation. */
void sg_vault_forget_key(struct sg_vault *v);

/* Operations nest (a fulfilment erases, a person's request is answered):
 * only the outermost one outside sg_vault_begin() is a transaction of its
 * own, with its signed head and its journal lines written at its commit;
 * the inner ones are savepoints in it. Nonzero: a call now would be that
 * outermost one. */
int sg_vault_top_level(const struct sg_vault *v);

/* The operation's transaction: opens one (or a savepoint inside the caller's
 * group) and ends it with the operation's result; returns that result. */
enum sg_rc sg_op_begin(struct sg_vault *v, struct sg_opmark *mark, struct sg_err *err);
enum sg_rc sg_op_end(struct sg_vault *v, struct sg_opmark mark, enum sg_rc rc, struct sg_err *err);

/* Queues an erasure for the journal; written before the transaction commits. */
enum sg_rc sg_op_journal(struct sg_vault *v, char kind, const struct sg_uuid *id,
                         struct sg_err *err);

/* Registers the codes of the catalog's categories and loads every code the
 * database knows (again, after the catalog changed). */
enum sg_rc sg_vault_load_categories(struct sg_vault *v, struct sg_err *err);

/* Picks the policy version in force now from the store (versions.c) and
 * makes its catalog the vault's; no version leaves the empty catalog. */
enum sg_rc sg_vault_select_policy(struct sg_vault *v, struct sg_err *err);

/* Records policy `p` in `s` (inside the caller's transaction). */
enum sg_rc sg_vault_record_policy(struct sg_store *s, const struct sg_policy *p, sg_time effective,
                                  sg_time now, const char *actor, int64_t *seq, struct sg_err *err);

/* The code of a catalog category, and the category id of a code (NULL when
 * the database does not know it). */
int sg_vault_code(const struct sg_vault *v, const struct sg_category *c);
const char *sg_vault_code_id(const struct sg_vault *v, int code);

/* Loads the subject's row and record (into v->rec) and, with `need_key`,
 * unwraps its data key into v->dek and derives v->rkey. SG_NOTFOUND when absent or erased (so
 * says the message), SG_CONFLICT when anonymised and a key was needed. */
enum sg_rc sg_vault_load_subject(struct sg_vault *v, const struct sg_uuid *id,
                                 struct sg_store_subject *row, int need_key, struct sg_err *err);

/*
 * Removes from the person's loaded record (v->rec, with the key in
 * v->rkey) the values `drop` picks (by category id and the value's time),
 * with their blind-index entries and their history, and rewrites the
 * record; the tag is checked first. `*removed` counts them. Inside the
 * caller's operation.
 */
enum sg_rc sg_vault_drop_fields(struct sg_vault *v, const struct sg_uuid *id,
                                int (*drop)(void *ctx, const char *category, sg_time changed),
                                void *ctx, sg_time now, size_t *removed, struct sg_err *err);

/* Crypto-shreds a subject in `s` (store.h subject_shred) if it exists: its
 * blind-index entries (found through its record, authenticated with `kek`,
 * where the backend wants them listed, or by person), key, record and every
 * row of theirs go; a tombstone in `state` stays. `scratch` is
 * 2 * SG_KEY_BYTES of guarded memory, wiped before return. */
enum sg_rc sg_shred_subject(struct sg_store *s, const struct sg_key *kek, uint8_t *scratch,
                            const struct sg_uuid *id, int state, sg_time at, struct sg_err *err);

/* Re-wraps every data key sealed under `from` with `to` (inside a transaction). */
enum sg_rc sg_vault_rewrap_all(struct sg_store *store, const struct sg_key *from,
                               const struct sg_key *to, size_t *count, struct sg_err *err);

/* Opens a sealed value of subject `id` under v->dek into a fresh
 * NUL-terminated buffer the caller wipes and frees. */
enum sg_rc sg_vault_open_value(struct sg_vault *v, const struct sg_uuid *id, uint32_t version,
                               const char *field, const uint8_t *ct, size_t ctlen, char **out,
                               size_t *outlen, struct sg_err *err);

/* The value of category `c` in the record just loaded (v->rec, v->dek), in
 * a fresh buffer as above; SG_NOTFOUND when the record has none. */
enum sg_rc sg_vault_loaded_field(struct sg_vault *v, const struct sg_uuid *id,
                                 const struct sg_category *c, char **out, size_t *len,
                                 struct sg_err *err);

/* ------------------------------------------------------ views (view.c) */

/* What an actor sees, resolved once per operation. */
struct sg_view {
    const struct sg_role *role; /* NULL: the operator, who sees everything */
    int wide;                   /* sees events, groups, history: operator, staff, service */
    int only_self;              /* SG_ROLE_SELF: a person at their own record */
    const char *action;         /* what the view was opened for ("consent.give") */
    int has_self;
    struct sg_uuid self; /* the person the actor is */
    char *scope;         /* the viewer's value of the role's row field (stored form) */
    size_t scope_len;
};

enum sg_verdict {
    SG_SEES = 0,
    SG_HIDDEN,  /* a hidden profile the role does not see: as if absent */
    SG_OUTSIDE, /* outside the role's rows: refused */
};

/* Resolves `who` (role, purpose, self, scope) against the policy in force.
 * SG_DENIED, audited as `action`, for a role or purpose the policy lacks. */
enum sg_rc sg_view_open(struct sg_vault *v, const struct sg_actor *who, const char *action,
                        struct sg_view *w, struct sg_err *err);
void sg_view_close(struct sg_view *w);

/* Records a refusal (result "denied") in its own transaction and returns
 * SG_DENIED with `err` as the caller set it (or the audit failure). */
enum sg_rc sg_view_deny(struct sg_vault *v, const struct sg_actor *who, const char *action,
                        const struct sg_uuid *subject, struct sg_err *err);

/* For the controller's own work (retention, the outbox, statistics): the
 * operator or a staff role; SG_DENIED, audited as `action`, otherwise. */
enum sg_rc sg_view_require_staff(struct sg_vault *v, const struct sg_actor *who, const char *action,
                                 struct sg_err *err);

/* Whether the view shows category `c` (group-only content aside). */
int sg_view_sees(const struct sg_view *w, const struct sg_category *c);
int sg_view_is_self(const struct sg_view *w, const struct sg_uuid *id);

/* Whether the view shows the person of `row`. With `have_key` the person's
 * record and key are loaded (v->rec, v->dek); otherwise they are loaded when
 * the row rule needs a value. */
enum sg_rc sg_view_row(struct sg_vault *v, const struct sg_view *w, const struct sg_uuid *id,
                       const struct sg_store_subject *row, int have_key, enum sg_verdict *out,
                       struct sg_err *err);

/* Whether the view shows the person's group-only content. */
enum sg_rc sg_view_groups(struct sg_vault *v, const struct sg_view *w, const struct sg_uuid *id,
                          int *ok, struct sg_err *err);

/* Whether the role may change person `id` (NULL: a new person), or erase
 * them; SG_DENIED with the reason. Rows are checked apart (sg_view_row). */
enum sg_rc sg_view_may_write(const struct sg_vault *v, const struct sg_view *w,
                             const struct sg_uuid *id, int erase, struct sg_err *err);

/* Creates a directory with mode 0700 if it does not exist. */
enum sg_rc sg_mkdir_private(const char *path, struct sg_err *err);

/* fsyncs a directory so that a rename or a new file in it is durable. */
void sg_sync_dir(const char *path);

#endif
