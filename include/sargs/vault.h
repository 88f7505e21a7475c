/*
 * sargs/vault.h - people and their data, encrypted per person.
 *
 * A vault is a directory:
 *     <dir>/sargs.db               the data (SQLite by default): sealed values,
 *                                  wrapped data keys, events, history, audit
 *     <dir>/keys/master.key        master key (KEK), or SARGS_MASTER_KEY_FILE
 *     <dir>/keys/index.key         blind-index key
 *     <dir>/keys/erasures.log      erasure journal (see journal.h)
 *     <dir>/keys/retired/ID.key    master keys replaced by a rotation, kept so
 *                                  that older backups can still be restored
 * The keys directory is kept apart from the data's backups.
 *
 * Every operation takes an actor (who, in which role, for which purpose) and
 * records one audit entry in the same transaction: an operation whose audit
 * write fails does not happen. Each call is one transaction unless the caller
 * groups calls with sg_vault_begin()/sg_vault_commit().
 *
 * A vault is bound to the organisation's policy (sargs/policy.h): every
 * version ever applied is kept in the database with its effective date, and
 * the categories a vault accepts are those of the version in force.
 *
 * A handle is used by one thread at a time; open one per thread.
 */
#ifndef SARGS_VAULT_H
#define SARGS_VAULT_H

#include <stddef.h>

#include "sargs/catalog.h"
#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/policy.h"
#include "sargs/uuid.h"

enum sg_subject_state {
    SG_STATE_ACTIVE = 0,
    SG_STATE_RESTRICTED = 1, /* Art. 18: kept, not used */
    SG_STATE_HIDDEN = 2,     /* deactivated: invisible to all but the controller */
    SG_STATE_ANONYMISED = 3, /* identifiers removed, key destroyed */
    SG_STATE_ERASED = 4,     /* key destroyed, rows removed; only a tombstone is left */
};

/* "active", "restricted", ... */
const char *sg_subject_state_name(int state);

/*
 * Who is acting, in which role, for which purpose. id, role and purpose are
 * required and go into the audit entry.
 *
 * The role decides what the actor sees (the policy's `roles:`): which
 * fields (others are absent from answers and never decrypted), which people
 * (`rows`), whether hidden profiles and group-only content. SG_ROLE_OPERATOR
 * is the vault's own operators at the command line, who hold its keys: every
 * field of every person; no policy role may take that name. Any other role
 * must be one of the policy in force, and the purpose one of its purposes
 * (and of the role's, when it lists some); otherwise SG_DENIED.
 *
 * `self` is the person the actor is, when the actor is one of the people in
 * the vault (a registered user viewing other profiles, a person at their
 * own data): it decides `rows: self`, group membership, and the viewer's
 * value of a `same_as_viewer` field. `scope` gives that value directly (a
 * national organisation's token scoped to "LV"); it wins over `self`.
 */
struct sg_actor {
    const char *id;
    const char *role;
    const char *purpose;
    const struct sg_uuid *self; /* may be NULL */
    const char *scope;          /* may be NULL */
};

struct sg_vault_opts {
    const char *dir;                /* vault directory (required) */
    const char *master_key_file;    /* NULL: <dir>/keys/master.key */
    const char *store;              /* NULL: <dir>/sargs.db (SQLite) */
    const struct sg_clock *clock;   /* NULL: the system clock; else read at every
                                     * operation, so it must outlive the vault */
    const struct sg_policy *policy; /* sg_vault_init: the policy the vault is bound
                                     * to (required); the vault keeps its text */
    int shared;                     /* several handles of this process read and
                                     * write at once (a server): tunes the store */
};

struct sg_vault;

/*
 * Creates a vault: the directory (mode 0700), its keys (0600; an existing
 * master key file is used, not replaced), the erasure journal and the
 * database, with `o->policy` as its first policy version (effective from the
 * policy's `effective` date, or now when it has none). SG_CONFLICT when a
 * vault already exists there, SG_INVALID without a policy.
 */
enum sg_rc sg_vault_init(const struct sg_vault_opts *o, struct sg_err *err);

/*
 * Opens a vault and migrates its schema forward. SG_NOTFOUND when there is
 * no vault, SG_CRYPTO when the master key is not the vault's (the message
 * says so), SG_CONFLICT when the database is newer than this library.
 * An interrupted key rotation is completed here. The policy version in
 * force now is loaded from the database (before the first version takes
 * effect, that first version); a vault made before policies existed opens
 * with no policy and no categories until one is applied. SG_IO when a
 * stored version cannot be loaded.
 */
enum sg_rc sg_vault_open(const struct sg_vault_opts *o, struct sg_vault **out, struct sg_err *err);

/* Closes the handle and wipes its keys. Accepts NULL. A transaction still
 * open is rolled back. */
void sg_vault_close(struct sg_vault *v);

/* The vault's id (a UUID, as text). */
const char *sg_vault_id(const struct sg_vault *v);

/*
 * Groups the following calls into one transaction (for batches: a bulk
 * import, the server's group commit): one signed audit head and one sync
 * for all. Each call inside runs in its own savepoint, so a call that fails
 * undoes only itself; sg_vault_commit() commits what succeeded (and if the
 * commit itself fails, nothing of the group happened); sg_vault_rollback()
 * drops it all.
 */
enum sg_rc sg_vault_begin(struct sg_vault *v, struct sg_err *err);
/*
 * The same for calls that read (a request on a server's reader thread: its
 * credentials checked, then the person read): one transaction, one
 * snapshot on SQLite, for all of them instead of one each. It takes no
 * write lock: a call inside that writes may meet SG_UNAVAILABLE when another
 * handle committed since the snapshot began. On a handle with an audit
 * sink (sargs/audit.h), the calls' audit entries reach the sink at
 * sg_vault_commit(), which fails when the sink does; the caller must then
 * not answer with what it read.
 */
enum sg_rc sg_vault_begin_read(struct sg_vault *v, struct sg_err *err);
enum sg_rc sg_vault_commit(struct sg_vault *v, struct sg_err *err);
void sg_vault_rollback(struct sg_vault *v);

/*
 * Groups several calls inside sg_vault_begin() into one savepoint (a
 * request that takes more than one call): sg_vault_group_end() with `keep`
 * zero undoes all of them, the audit entries and erasures they queued
 * included; nonzero keeps them for the commit. At most SG_VAULT_GROUPS
 * nested. SG_CONFLICT outside sg_vault_begin() or too deep.
 */
#define SG_VAULT_GROUPS 8
enum sg_rc sg_vault_group(struct sg_vault *v, struct sg_err *err);
enum sg_rc sg_vault_group_end(struct sg_vault *v, int keep, struct sg_err *err);

/* ------------------------------------------------------------------ policy */

/* A recorded version of the policy. */
struct sg_policy_version {
    int64_t seq; /* 1, 2, ... in order of application */
    char hash[SG_POLICY_HASH_HEX + 1];
    sg_time effective; /* in force from */
    sg_time applied;   /* recorded at */
    char actor[128];
};

/* The policy the vault follows (NULL for a vault that has none), and its
 * recorded version. Both stay valid until sg_vault_close(), even after a
 * newer version replaces them. */
const struct sg_policy *sg_vault_policy(const struct sg_vault *v);
const struct sg_policy_version *sg_vault_policy_version(const struct sg_vault *v);

/*
 * Installs a new version of the policy, keeping every older one. It takes
 * effect at `effective`, or when that is 0 at the policy's own `effective`
 * date if that is still ahead, else now; an instant in the past is refused
 * (SG_INVALID), as it would rewrite which version was in force when. A
 * category of any recorded version that changes its type or whether it is
 * blind-indexed is refused (SG_CONFLICT): stored values and look-ups would
 * no longer match. So is the version already in force (SG_CONFLICT). When
 * the version takes effect at once the vault switches to it. Audited as
 * "policy.apply". `out` (may be NULL) receives the recorded version.
 */
enum sg_rc sg_vault_policy_apply(struct sg_vault *v, const struct sg_actor *who,
                                 const struct sg_policy *p, sg_time effective,
                                 struct sg_policy_version *out, struct sg_err *err);

/*
 * The version in force at `at` (e.g. the notice a person saw when giving
 * consent). SG_NOTFOUND before the first version took effect.
 */
enum sg_rc sg_vault_policy_at(struct sg_vault *v, sg_time at, struct sg_policy_version *out,
                              struct sg_err *err);

/*
 * Loads the version in force at `at` as a policy the caller frees with
 * sg_policy_free(); `ver` (may be NULL) receives its record.
 */
enum sg_rc sg_vault_policy_load_at(struct sg_vault *v, sg_time at, struct sg_policy **out,
                                   struct sg_policy_version *ver, struct sg_err *err);

/* Every recorded version in order of application; `cb` returning nonzero
 * stops early. */
enum sg_rc sg_vault_policy_list(struct sg_vault *v,
                                int (*cb)(void *ctx, const struct sg_policy_version *ver),
                                void *ctx, struct sg_err *err);

/*
 * The record of processing activities (Art. 30) of the policy in force,
 * into `out`, as sg_ropa_render() writes it. It is the controller's own
 * record, shown to the supervisory authority on request, not published:
 * for the operator and staff roles (SG_DENIED, audited, otherwise); SG_INVALID
 * for a vault without a policy. (The privacy notice, sg_notice_render(), is
 * public by nature.)
 */
enum sg_rc sg_vault_ropa(struct sg_vault *v, const struct sg_actor *who, enum sg_doc_format format,
                         const char *lang, struct sg_buf *out, struct sg_err *err);

/* Switches to the version in force now, if it changed since the vault was
 * opened (a long-running process calls this, e.g. daily). */
enum sg_rc sg_vault_policy_refresh(struct sg_vault *v, struct sg_err *err);

/* ------------------------------------------------------------------ people */

struct sg_field_in {
    const char *category; /* id or alias */
    const char *value;
    size_t len;
};

struct sg_event_in {
    const char *name; /* [a-z][a-z0-9_]*, at most 64 bytes */
    sg_time at;
};

/*
 * Adds a person with the given fields and dated events (the `created` event
 * is always set to now; one given explicitly overrides it). Every value is
 * checked before anything is written. `out` receives the new id.
 * SG_INVALID for an unknown category, a repeated category, a malformed value
 * or event; SG_TOOBIG for a value over the limit.
 *
 * Who may write (here and in every change of a person): the operator and
 * staff, service and partner roles, on the people and fields their role
 * sees (a person added by a `same_as_viewer` role must carry the viewer's
 * value); a user role only on its own record; a public role never. Erasure
 * destroys every field, so it needs a role that sees every field. Anything
 * else is SG_DENIED and an audit entry with the result "denied".
 */
enum sg_rc sg_subject_add(struct sg_vault *v, const struct sg_actor *who,
                          const struct sg_field_in *fields, size_t nfields,
                          const struct sg_event_in *events, size_t nevents, struct sg_uuid *out,
                          struct sg_err *err);

struct sg_field {
    char *category;
    char *value; /* NUL-terminated; `len` bytes */
    size_t len;
    sg_time changed;
};

struct sg_event {
    char *name;
    sg_time at;
};

struct sg_change {
    char *category;
    char *old_value; /* NULL when the field did not exist before */
    size_t old_len;
    char *reason;
    char *actor;
    sg_time at;
};

struct sg_subject {
    struct sg_uuid id;
    int state;
    sg_time created;
    sg_time changed;
    struct sg_field *fields;
    size_t nfields;
    struct sg_event *events;
    size_t nevents;
    struct sg_change *history; /* only with SG_GET_HISTORY */
    size_t nhistory;
    char **groups; /* the groups the person belongs to */
    size_t ngroups;
};

#define SG_GET_HISTORY 1u

/*
 * Reads and decrypts a person, as the actor's role may see them: only the
 * fields the role sees are decrypted and returned (group-only ones only to
 * a role that sees group content, or a viewer sharing a group with the
 * person); events, groups and history only for staff and service roles, the
 * operator and the person themself. The caller frees the result with
 * sg_subject_free(). SG_NOTFOUND for an unknown or erased person, and for a
 * hidden one when the role does not see hidden profiles; SG_DENIED (audited
 * as denied) for a person outside the role's rows; SG_CRYPTO when a value
 * fails to open (the message names the field).
 */
enum sg_rc sg_subject_get(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                          unsigned flags, struct sg_subject **out, struct sg_err *err);

/* Wipes every value and frees. Accepts NULL. */
void sg_subject_free(struct sg_subject *s);

/*
 * Finds the people whose blind-indexed field `category` equals `value` after
 * normalisation, among those the actor's role sees. Up to `max` ids go to
 * `ids`; `*n` gets how many matched in all (which may be more than `max`).
 * SG_INVALID when the category is not indexed or the value is malformed;
 * SG_DENIED (audited) when the role may not see the category, since a
 * look-up would tell it whether a value is on file.
 */
enum sg_rc sg_subject_find(struct sg_vault *v, const struct sg_actor *who, const char *category,
                           const char *value, size_t len, struct sg_uuid *ids, size_t max,
                           size_t *n, struct sg_err *err);

/*
 * Changes fields of a person (rectification), keeping the old value, the
 * actor, the time and `reason` in the history. A field whose value does not
 * change is left alone; `*changed` (may be NULL) gets how many changed.
 * SG_CONFLICT for an erased or anonymised person. Writes follow the role
 * (see sg_subject_add): SG_DENIED, audited, outside it.
 */
enum sg_rc sg_subject_update(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const struct sg_field_in *fields,
                             size_t nfields, const char *reason, size_t *changed,
                             struct sg_err *err);

/* Records that event `name` happened at `at` (e.g. last_login). */
enum sg_rc sg_subject_touch(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *name, sg_time at,
                            struct sg_err *err);

struct sg_subject_row {
    struct sg_uuid id;
    int state;
    sg_time created;
    sg_time changed;
};

/*
 * Lists the people the actor's role sees, in id order (creation order),
 * after `after` (NULL: from the start), at most `limit`. `cb` returning
 * nonzero stops early. When more may follow, `*more` is set and `next`
 * receives the id to pass as `after` for the next page (a role that sees
 * only some people may get fewer than `limit` rows and still a next page,
 * as one call examines at most 10 * `limit` people). `next` and `more` may
 * be NULL.
 */
enum sg_rc sg_subject_list(struct sg_vault *v, const struct sg_actor *who,
                           const struct sg_uuid *after, size_t limit,
                           int (*cb)(void *ctx, const struct sg_subject_row *row), void *ctx,
                           struct sg_uuid *next, int *more, struct sg_err *err);

/*
 * Group memberships: group-only content (categories marked `group_only`) is
 * shown to viewers who share a group with the person when their role's
 * `group_content` is `members`. A group id is 1-128 bytes of letters,
 * digits and "._:-". SG_CONFLICT when already a member (join) and
 * SG_NOTFOUND when not one (leave). Writes: see sg_subject_add.
 */
enum sg_rc sg_subject_join(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                           const char *group, struct sg_err *err);
enum sg_rc sg_subject_leave(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *group, struct sg_err *err);

/*
 * Erases a person: the data key is destroyed (crypto-shredding), every
 * field, event and history entry removed, a tombstone kept, and the erasure
 * journaled with the keys so that no restore brings the person back.
 * SG_CONFLICT when already erased.
 */
enum sg_rc sg_subject_erase(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, struct sg_err *err);

/* ------------------------------------------------------ keys and backups */

struct sg_rotate_report {
    size_t rewrapped;            /* data keys re-wrapped */
    char old_id[17], new_id[17]; /* key fingerprints */
};

/*
 * Replaces the master key: every data key is re-wrapped under a new one in
 * one transaction (no field value is touched, so the cost follows the number
 * of people, not the amount of data). The old key moves to keys/retired/ so
 * that older backups stay restorable; deleting it there makes them
 * unreadable. Crash-safe: an interrupted rotation is finished or undone by
 * the next sg_vault_open().
 */
enum sg_rc sg_vault_rotate_key(struct sg_vault *v, const struct sg_actor *who,
                               struct sg_rotate_report *rep, struct sg_err *err);

/* A consistent online copy of the data into the new file `path` (never
 * overwritten), without any key. */
enum sg_rc sg_vault_backup(struct sg_vault *v, const struct sg_actor *who, const char *path,
                           struct sg_err *err);

struct sg_restore_report {
    sg_time backup_taken; /* when the backup was made */
    size_t reerased;      /* erasures re-applied */
    size_t rewrapped;     /* data keys re-wrapped from a retired master key */
    /* The live requests are kept (evidence); of those changed after the
     * backup: answered ones whose change of data the restore undid (a
     * rectification, restriction, objection, consent withdrawal or partial
     * erasure: to be carried out again), and those of a person the restored
     * data does not have. Both listed in the audit entry of the restore. */
    size_t requests_to_redo;
    size_t requests_orphaned;
};

/*
 * Replaces the vault's data with the backup at `path`, then re-applies every
 * journaled erasure, so that nobody erased after the backup comes back. Works
 * on a vault whose database is lost (only the keys directory is needed).
 * SG_CONFLICT when the backup is of another vault; SG_NOTFOUND when the
 * erasure journal is missing (restoring then would resurrect people).
 */
enum sg_rc sg_vault_restore(const struct sg_vault_opts *o, const struct sg_actor *who,
                            const char *path, struct sg_restore_report *rep, struct sg_err *err);

/*
 * Re-applies the erasure journal to the vault's database in place: every
 * person journaled as erased (or anonymised), and not cancelled since, who
 * is present in another state is shredded again, in one transaction,
 * audited as "vault.reapply_erasures"; `*reerased` counts them. For after
 * a restore that sargs did not make (PostgreSQL's pg_dump, base backups,
 * point-in-time recovery): without it, people erased after the recovery
 * point come back. Idempotent. SG_NOTFOUND when the journal is missing,
 * SG_CONFLICT when it is of another vault or inside sg_vault_begin().
 */
enum sg_rc sg_vault_reapply_erasures(struct sg_vault *v, const struct sg_actor *who,
                                     size_t *reerased, struct sg_err *err);

#endif
