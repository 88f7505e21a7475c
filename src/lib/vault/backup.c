/*
 * backup.c - backups of the data (never of the keys) and restores that
 * re-apply every journaled erasure.
 *
 * A restore never exposes a person erased after the backup: the backup is
 * copied aside, brought up to date there (schema, master key, erasures), and
 * only then copied over the live database in one step. The journal is applied
 * once more on the live database afterwards, for erasures made meanwhile.
 */
#include "vault_int.h"

#include "sargs/request.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESTORE_TMP_SUFFIX ".restoring"

enum sg_rc sg_vault_backup(struct sg_vault *v, const struct sg_actor *who, const char *path,
                           struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!path || !*path)
        return sg_err_set(err, SG_INVALID, "no backup file given");
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "a backup cannot run inside a transaction");
    if ((rc = v->store->ops->backup(v->store, path, err)))
        return rc;

    /* Stamp the copy so that a restore can say how old it is. */
    struct sg_store *b = NULL;
    char ts[SG_TIME_STR_MAX];
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_store_open(path, 0, &b, err)) || (rc = b->ops->begin(b, err)))
        goto bad;
    if ((rc = b->ops->meta_set(b, META_BACKUP_AT, sg_time_format(now, ts), err))) {
        b->ops->rollback(b);
        goto bad;
    }
    if ((rc = b->ops->commit(b, err)))
        goto bad;
    sg_store_close(b);
    b = NULL;

    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto bad;
    rc = sg_audit_record(&v->audit, v->store, who, now, "vault.backup", NULL, "ok", err);
    if ((rc = sg_op_end(v, mark, rc, err)))
        goto bad;
    return SG_OK;
bad:
    sg_store_close(b);
    unlink(path);
    return rc;
}

/* ------------------------------------------------------------------ restore */

struct erased_set {
    struct sg_uuid *ids;
    char *kinds; /* 'E' or 'A' */
    size_t n, cap;
    int oom;
};

/* Keeps the ids journaled as erased and not cancelled afterwards. */
static int collect_erasure(void *ctx, const struct sg_journal_entry *e)
{
    struct erased_set *s = ctx;
    if (e->kind == 'C') {
        /* Taken out in place: the order is the journal's (keep_last). A
         * cancellation is rare (a commit that failed after its line). */
        for (size_t i = s->n; i-- > 0;) {
            if (sg_uuid_equal(&s->ids[i], &e->id)) {
                memmove(&s->ids[i], &s->ids[i + 1], (s->n - i - 1) * sizeof *s->ids);
                memmove(&s->kinds[i], &s->kinds[i + 1], s->n - i - 1);
                s->n--;
                break;
            }
        }
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct sg_uuid *p = realloc(s->ids, cap * sizeof *p);
        char *k = p ? realloc(s->kinds, cap) : NULL;
        if (p)
            s->ids = p;
        if (!k) {
            s->oom = 1;
            return 1;
        }
        s->kinds = k;
        s->cap = cap;
    }
    s->kinds[s->n] = e->kind;
    s->ids[s->n++] = e->id;
    return 0;
}

struct journal_pos {
    struct sg_uuid id;
    size_t at; /* place in the journal */
    char kind;
};

static int by_id_then_place(const void *a, const void *b)
{
    const struct journal_pos *x = a, *y = b;
    int c = memcmp(x->id.b, y->id.b, sizeof x->id.b);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* One entry per person, their last: someone anonymised, then erased, is
 * erased once (applying both would shred them twice and count two). */
static enum sg_rc keep_last(struct erased_set *set, struct sg_err *err)
{
    if (set->n < 2)
        return SG_OK;
    struct journal_pos *p = malloc(set->n * sizeof *p);
    if (!p)
        return sg_err_set(err, SG_NOMEM, "out of memory reading the erasure journal");
    for (size_t i = 0; i < set->n; i++)
        p[i] = (struct journal_pos){set->ids[i], i, set->kinds[i]};
    qsort(p, set->n, sizeof *p, by_id_then_place);
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (i + 1 < set->n && sg_uuid_equal(&p[i].id, &p[i + 1].id))
            continue;
        set->ids[k] = p[i].id;
        set->kinds[k++] = p[i].kind;
    }
    set->n = k;
    free(p);
    return SG_OK;
}

static enum sg_rc read_erasures(const char *journal, char vault_id[37], struct erased_set *set,
                                struct sg_err *err)
{
    set->n = 0;
    set->oom = 0;
    enum sg_rc rc = sg_journal_read(journal, vault_id, collect_erasure, set, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_NOTFOUND,
                          "erasure journal '%s' is missing; refusing to go on, as people "
                          "erased since would come back",
                          journal);
    if (!rc && set->oom)
        return sg_err_set(err, SG_NOMEM, "out of memory reading the erasure journal");
    if (!rc)
        rc = keep_last(set, err);
    return rc;
}

/* Shreds every journaled person still present in `s`; counts them. */
static enum sg_rc apply_erasures(struct sg_store *s, const struct sg_key *kek,
                                 const struct erased_set *set, sg_time now, size_t *count,
                                 struct sg_err *err)
{
    uint8_t *scratch = sodium_malloc(2 * SG_KEY_BYTES);
    if (!scratch)
        return sg_err_set(err, SG_NOMEM, "cannot allocate guarded memory");
    enum sg_rc rc = SG_OK;
    for (size_t i = 0; i < set->n; i++) {
        struct sg_store_subject row;
        rc = s->ops->subject_get(s, &set->ids[i], &row, NULL, err);
        if (rc == SG_NOTFOUND) {
            rc = SG_OK;
            continue;
        }
        if (rc)
            break;
        int state = set->kinds[i] == 'A' ? SG_STATE_ANONYMISED : SG_STATE_ERASED;
        if (row.state == state)
            continue;
        if ((rc = sg_shred_subject(s, kek, scratch, &set->ids[i], state, now, err)))
            break;
        (*count)++;
    }
    sodium_free(scratch);
    return rc;
}

enum sg_rc sg_vault_reapply_erasures(struct sg_vault *v, const struct sg_actor *who,
                                     size_t *reerased, struct sg_err *err)
{
    enum sg_rc rc;
    char jid[37] = "";
    struct erased_set set = {0};
    size_t count = 0;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "erasures cannot be re-applied inside a transaction");
    if ((rc = read_erasures(v->journal_path, jid, &set, err)))
        goto out;
    if (strcmp(jid, v->vault_id) != 0) {
        rc =
            sg_err_set(err, SG_CONFLICT, "the erasure journal is of vault %s, but this is vault %s",
                       jid, v->vault_id);
        goto out;
    }
    struct sg_opmark mark;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = apply_erasures(v->store, v->kek, &set, now, &count, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, v->store, who, now, "vault.reapply_erasures", NULL, "ok",
                             err);
    if ((rc = sg_op_end(v, mark, rc, err)))
        goto out;
    if (reerased)
        *reerased = count;
out:
    free(set.ids);
    free(set.kinds);
    return rc;
}

/* Reads a meta value of a store into `out` (size `len`); "" when unset. */
static enum sg_rc meta_copy(struct sg_store *s, const char *key, char *out, size_t len,
                            struct sg_err *err)
{
    char *val = NULL;
    enum sg_rc rc = s->ops->meta_get(s, key, &val, err);
    out[0] = '\0';
    if (rc == SG_NOTFOUND)
        return SG_OK;
    if (rc)
        return rc;
    snprintf(out, len, "%s", val);
    free(val);
    return SG_OK;
}

/* If the copy's data keys are wrapped under a retired master key, re-wraps
 * them under the current one. */
static enum sg_rc adopt_kek(struct sg_store *s, const struct sg_key *kek, const char *kek_path,
                            size_t *rewrapped, struct sg_err *err)
{
    char id[SG_KEY_ID_HEX + 1];
    enum sg_rc rc = meta_copy(s, META_KEK_ID, id, sizeof id, err);
    if (rc)
        return rc;
    if (strcmp(id, kek->id) == 0)
        return SG_OK;
    struct sg_key *old = NULL;
    rc = sg_vault_retired_kek(kek_path, id, &old, err);
    if (rc == SG_NOTFOUND)
        rc = sg_err_set(err, SG_CRYPTO,
                        "the backup's data keys are wrapped under master key %s, which is no "
                        "longer kept (in '" SG_RETIRED_DIR "' beside the master key)",
                        id);
    if (!rc)
        rc = sg_vault_rewrap_all(s, old, kek, rewrapped, err);
    if (!rc)
        rc = s->ops->meta_set(s, META_KEK_ID, kek->id, err);
    sg_key_free(old);
    return rc;
}

/* Removes a database file and the WAL files SQLite may leave beside it. */
static void remove_db_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[4096];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++)
        if ((size_t)snprintf(p, sizeof p, "%s%s", path, suffix[i]) < sizeof p)
            unlink(p);
}

/* The live requests changed after the backup, against the restored data. */
struct redo {
    struct sg_store *s;
    sg_time since;
    size_t redo, orphaned;
    enum sg_rc rc;
    char ids[1024]; /* "redo:ID orphaned:ID ..." for the audit entry (no
                     * personal data: request ids), cut when long */
    size_t len;
};

static void note_id(struct redo *d, const char *what, const struct sg_uuid *id)
{
    char ids[SG_UUID_STR_LEN + 1];
    int n = snprintf(d->ids + d->len, sizeof d->ids - d->len, "%s%s:%s", d->len ? " " : "", what,
                     sg_uuid_format(id, ids));
    if (n > 0 && d->len + (size_t)n < sizeof d->ids)
        d->len += (size_t)n;
}

static int redo_one(void *ctx, const struct sg_store_request *r)
{
    struct redo *d = ctx;
    struct sg_store_subject row;
    if (r->has_subject) {
        enum sg_rc rc = d->s->ops->subject_get(d->s, &r->subject, &row, NULL, NULL);
        if (rc == SG_NOTFOUND) {
            d->orphaned++;
            note_id(d, "orphaned", &r->id);
            return 0;
        }
        if (rc) {
            d->rc = rc;
            return 1;
        }
    }
    /* Answered after the backup, with a change the restore took back. A
     * full erasure is re-applied from the journal; access, portability and
     * reviews change nothing. */
    int changes = r->kind == SG_REQ_RECTIFICATION || r->kind == SG_REQ_RESTRICTION ||
                  r->kind == SG_REQ_OBJECTION || r->kind == SG_REQ_WITHDRAWAL ||
                  (r->kind == SG_REQ_ERASURE && r->state == SG_RS_PARTIALLY_FULFILLED);
    if (r->closed > d->since && changes &&
        (r->state == SG_RS_FULFILLED || r->state == SG_RS_PARTIALLY_FULFILLED)) {
        d->redo++;
        note_id(d, "redo", &r->id);
    }
    return 0;
}

static enum sg_rc requests_since(struct redo *d, struct sg_err *err)
{
    if (d->since <= 0)
        return SG_OK; /* a backup of unknown time: nothing to compare */
    struct sg_request_filter f = {0, 0, 0, {{0}}, 0, d->since};
    enum sg_rc rc = d->s->ops->request_each(d->s, &f, redo_one, d, err);
    if (!rc && d->rc)
        rc = sg_err_set(err, d->rc, "cannot read the requests after the restore");
    return rc;
}

enum sg_rc sg_vault_restore(const struct sg_vault_opts *o, const struct sg_actor *who,
                            const char *path, struct sg_restore_report *rep, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_store *b = NULL, *t = NULL, *live = NULL;
    struct sg_key *kek = NULL;
    struct erased_set set = {0};
    char *tmp = NULL, *live_uri = NULL, *keys = NULL;
    char jid[37] = "", bid[64] = "", lid[64] = "", taken[SG_TIME_STR_MAX] = "";
    size_t reerased = 0, rewrapped = 0;
    struct sg_auditlog log;
    int log_open = 0;
    struct sg_restore_report r = {0};

    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!o || !o->dir || !*o->dir)
        return sg_err_set(err, SG_INVALID, "no vault directory given");
    if (!path || !*path)
        return sg_err_set(err, SG_INVALID, "no backup file given");
    struct sg_clock clock;
    if (o->clock)
        clock = *o->clock;
    else
        sg_clock_init_system(&clock);
    sg_time now = sg_clock_now(&clock);

    keys = sg_path_join(o->dir, SG_KEYS_DIR);
    char *kek_path = NULL, *journal = NULL;
    if (!keys)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    kek_path = o->master_key_file && *o->master_key_file ? strdup(o->master_key_file)
                                                         : sg_path_join(keys, SG_MASTER_KEY_NAME);
    journal = sg_path_join(keys, SG_JOURNAL_NAME);
    live_uri = o->store && *o->store ? strdup(o->store) : sg_path_join(o->dir, SG_VAULT_DB_NAME);
    tmp = sg_path_join(o->dir, SG_VAULT_DB_NAME RESTORE_TMP_SUFFIX);
    if (!kek_path || !journal || !live_uri || !tmp) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = sg_key_load(kek_path, SG_KEY_KEK, &kek, err)))
        goto out;
    if ((rc = read_erasures(journal, jid, &set, err)))
        goto out;

    /* The backup must be a sargs database of this very vault. */
    if ((rc = sg_store_open(path, 0, &b, err)))
        goto out;
    int version = 0;
    if ((rc = b->ops->schema_version(b, &version, err)))
        goto out;
    if (version > SG_SCHEMA_VERSION) {
        rc = sg_err_set(err, SG_CONFLICT,
                        "the backup's schema version %d is newer than this sargs supports (%d)",
                        version, SG_SCHEMA_VERSION);
        goto out;
    }
    if (version == 0 || (rc = meta_copy(b, META_VAULT_ID, bid, sizeof bid, err)) || !bid[0]) {
        if (!rc)
            rc = sg_err_set(err, SG_INVALID, "'%s' is not a sargs backup", path);
        goto out;
    }
    if (strcmp(bid, jid) != 0) {
        rc = sg_err_set(err, SG_CONFLICT, "the backup is of vault %s, but this is vault %s", bid,
                        jid);
        goto out;
    }
    if ((rc = meta_copy(b, META_BACKUP_AT, taken, sizeof taken, err)))
        goto out;
    if (taken[0])
        sg_time_parse(taken, &r.backup_taken, NULL);

    /* Bring a private copy up to date before anyone can see it. */
    remove_db_files(tmp);
    if ((rc = b->ops->backup(b, tmp, err)))
        goto out;
    sg_store_close(b);
    b = NULL;
    if ((rc = sg_store_open(tmp, 0, &t, err)) || (rc = t->ops->migrate(t, now, err)) ||
        (rc = t->ops->begin(t, err)))
        goto out;
    if ((rc = adopt_kek(t, kek, kek_path, &rewrapped, err)) ||
        (rc = apply_erasures(t, kek, &set, now, &reerased, err))) {
        t->ops->rollback(t);
        goto out;
    }
    if ((rc = t->ops->commit(t, err)))
        goto out;

    /* The live database, if any, must be of the same vault. */
    if ((rc = sg_store_open(live_uri, 1, &live, err)) ||
        (rc = live->ops->migrate(live, now, err)) ||
        (rc = meta_copy(live, META_VAULT_ID, lid, sizeof lid, err)))
        goto out;
    if (lid[0] && strcmp(lid, jid) != 0) {
        rc = sg_err_set(err, SG_CONFLICT, "the database in '%s' is of another vault (%s)", o->dir,
                        lid);
        goto out;
    }
    sg_store_close(t);
    t = NULL;
    if ((rc = live->ops->restore(live, tmp, err)))
        goto out;

    /* Erasures journaled while we worked, then the audit entry. */
    if ((rc = read_erasures(journal, jid, &set, err)))
        goto out;
    if ((rc = sg_auditlog_open(&log, keys, jid, err)))
        goto out;
    log_open = 1;
    sg_auditlog_begin(&log, now);
    if ((rc = live->ops->begin(live, err)))
        goto out;
    struct redo rd = {live, r.backup_taken, 0, 0, SG_OK, {0}, 0};
    if ((rc = apply_erasures(live, kek, &set, now, &reerased, err)) ||
        (rc = requests_since(&rd, err)) ||
        (rc = rd.len ? sg_audit_record_details(&log, live, who, now, "vault.restore", NULL, "ok", 1,
                                               rd.ids, rd.len, err)
                     : sg_audit_record(&log, live, who, now, "vault.restore", NULL, "ok", err)) ||
        (rc = sg_auditlog_seal(&log, live, now, err))) {
        live->ops->rollback(live);
        goto out;
    }
    if ((rc = live->ops->commit(live, err)))
        goto out;
    r.reerased = reerased;
    r.rewrapped = rewrapped;
    r.requests_to_redo = rd.redo;
    r.requests_orphaned = rd.orphaned;
    if (rep)
        *rep = r;
out:
    if (log_open)
        sg_auditlog_close(&log);
    sg_store_close(b);
    sg_store_close(t);
    sg_store_close(live);
    if (tmp)
        remove_db_files(tmp);
    sg_key_free(kek);
    free(set.ids);
    free(set.kinds);
    free(tmp);
    free(live_uri);
    free(keys);
    free(kek_path);
    free(journal);
    return rc;
}
