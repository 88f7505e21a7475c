/*
 * vault.c - opening and creating vaults, transactions, key rotation.
 */
#include "vault_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

static const struct sg_actor system_actor = {"sargs", "system", "administration", NULL, NULL};

const char *sg_subject_state_name(int state)
{
    switch (state) {
    case SG_STATE_ACTIVE:
        return "active";
    case SG_STATE_RESTRICTED:
        return "restricted";
    case SG_STATE_HIDDEN:
        return "hidden";
    case SG_STATE_ANONYMISED:
        return "anonymised";
    case SG_STATE_ERASED:
        return "erased";
    }
    return "unknown";
}

char *sg_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t n = la;
    if (n && p[n - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, b, lb + 1);
    return p;
}

/* The directory part of a path ("." when there is none); malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

enum sg_rc sg_mkdir_private(const char *path, struct sg_err *err)
{
    if (mkdir(path, 0700) == 0)
        return SG_OK;
    if (errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return SG_OK;
        return sg_err_set(err, SG_CONFLICT, "'%s' exists and is not a directory", path);
    }
    return sg_err_set(err, SG_IO, "cannot create directory '%s': %s", path, strerror(errno));
}

void sg_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Fills the paths of a vault handle from the options. */
static enum sg_rc set_paths(struct sg_vault *v, const struct sg_vault_opts *o, char **store_uri,
                            struct sg_err *err)
{
    char *keys = NULL;
    if (!o || !o->dir || !*o->dir)
        return sg_err_set(err, SG_INVALID, "no vault directory given");
    v->dir = strdup(o->dir);
    keys = sg_path_join(o->dir, SG_KEYS_DIR);
    if (!v->dir || !keys)
        goto nomem;
    v->kek_path = o->master_key_file && *o->master_key_file
                      ? strdup(o->master_key_file)
                      : sg_path_join(keys, SG_MASTER_KEY_NAME);
    v->index_path = sg_path_join(keys, SG_INDEX_KEY_NAME);
    v->journal_path = sg_path_join(keys, SG_JOURNAL_NAME);
    *store_uri = o->store && *o->store ? strdup(o->store) : sg_path_join(o->dir, SG_VAULT_DB_NAME);
    if (!v->kek_path || !v->index_path || !v->journal_path || !*store_uri)
        goto nomem;
    free(keys);
    return SG_OK;
nomem:
    free(keys);
    return sg_err_set(err, SG_NOMEM, "out of memory");
}

static struct sg_vault *vault_alloc(const struct sg_vault_opts *o)
{
    struct sg_vault *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->empty.max_value = SG_VALUE_MAX_DEFAULT;
    v->empty.phone_country = "371";
    v->catalog = &v->empty;
    sg_clock_init_system(&v->system_clock);
    v->clock = o && o->clock ? o->clock : &v->system_clock;
    sg_nonce_init(&v->nonce);
    sg_buf_init(&v->rec, SIZE_MAX / 2);
    sg_buf_init(&v->rec2, SIZE_MAX / 2);
    v->dek = sodium_malloc(SG_KEY_BYTES);
    v->rkey = sodium_malloc(SG_KEY_BYTES);
    v->scratch = sodium_malloc(2 * SG_KEY_BYTES);
    if (!v->dek || !v->rkey || !v->scratch || sg_rand_pool_init(&v->pool, NULL)) {
        sodium_free(v->dek);
        sodium_free(v->rkey);
        sodium_free(v->scratch);
        free(v);
        return NULL;
    }
    return v;
}

void sg_vault_close(struct sg_vault *v)
{
    if (!v)
        return;
    if (v->explicit_tx && v->store)
        v->store->ops->rollback(v->store);
    sg_store_close(v->store);
    sg_auditlog_close(&v->audit);
    free(v->node_ids);
    free(v->node_hashes);
    sg_key_free(v->kek);
    sg_key_free(v->index_key);
    sodium_free(v->dek);
    sodium_free(v->rkey);
    sodium_free(v->scratch);
    sg_rand_pool_release(&v->pool);
    sg_buf_release(&v->rec);
    sg_buf_release(&v->rec2);
    for (int i = 0; i < v->ncodes; i++)
        free(v->code_id[i]);
    free(v->code_id);
    free(v->cat_code);
    sg_policy_free(v->policy);
    for (size_t i = 0; i < v->nretired; i++)
        sg_policy_free(v->retired[i]);
    free(v->retired);
    free(v->pending);
    free(v->dir);
    free(v->kek_path);
    free(v->index_path);
    free(v->journal_path);
    sodium_memzero(&v->nonce, sizeof v->nonce);
    free(v);
}

const char *sg_vault_id(const struct sg_vault *v)
{
    return v->vault_id;
}

/* Loads a key file or, when it is missing and `create` is set, makes one. */
static enum sg_rc load_or_make_key(const char *path, enum sg_key_kind kind, int create,
                                   struct sg_key **out, struct sg_err *err)
{
    enum sg_rc rc = sg_key_load(path, kind, out, err);
    if (rc != SG_NOTFOUND || !create)
        return rc;
    if ((rc = sg_key_generate(out, err)))
        return rc;
    if ((rc = sg_key_save(*out, kind, path, err))) {
        sg_key_free(*out);
        *out = NULL;
    }
    return rc;
}

enum sg_rc sg_vault_init(const struct sg_vault_opts *o, struct sg_err *err)
{
    enum sg_rc rc;
    char *uri = NULL, *keys = NULL, *kekdir = NULL;
    if (!o || !o->policy)
        return sg_err_set(err, SG_INVALID,
                          "a vault is bound to a policy: give one (see examples/)");
    struct sg_vault *v = vault_alloc(o);
    if (!v)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    if ((rc = set_paths(v, o, &uri, err)))
        goto out;
    if ((rc = sg_mkdir_private(v->dir, err)))
        goto out;
    {
        struct sg_store *probe = NULL;
        if (sg_store_open(uri, 0, &probe, NULL) == SG_OK) {
            sg_store_close(probe);
            rc = sg_err_set(err, SG_CONFLICT, "a vault already exists in '%s'", v->dir);
            goto out;
        }
    }
    keys = sg_path_join(v->dir, SG_KEYS_DIR);
    kekdir = dir_of(v->kek_path);
    if (!keys || !kekdir) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = sg_mkdir_private(keys, err)) || (rc = sg_mkdir_private(kekdir, err)))
        goto out;
    if ((rc = load_or_make_key(v->kek_path, SG_KEY_KEK, 1, &v->kek, err)) ||
        (rc = load_or_make_key(v->index_path, SG_KEY_INDEX, 1, &v->index_key, err)))
        goto out;

    struct sg_uuid vid;
    sg_time now = sg_clock_now(v->clock);
    sg_uuid_v7(now, &vid);
    sg_uuid_format(&vid, v->vault_id);
    if ((rc = sg_journal_create(v->journal_path, v->vault_id, err)))
        goto out;
    {
        /* An older journal (keys kept from an earlier vault) must be ours. */
        char jid[37] = "";
        if ((rc = sg_journal_read(v->journal_path, jid, NULL, NULL, err)))
            goto out;
        if (strcmp(jid, v->vault_id) != 0) {
            rc = sg_err_set(err, SG_CONFLICT,
                            "'%s' holds the erasure journal of another vault; move the old "
                            "keys directory away first",
                            v->journal_path);
            goto out;
        }
    }
    if ((rc = sg_store_open(uri, 1, &v->store, err)))
        goto out;
    if ((rc = v->store->ops->migrate(v->store, now, err)))
        goto out;
    if ((rc = sg_auditlog_create_keys(keys, err)) ||
        (rc = sg_auditlog_open(&v->audit, keys, v->vault_id, err)))
        goto out;
    char ts[SG_TIME_STR_MAX];
    struct sg_store *s = v->store;
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if (!(rc = s->ops->meta_set(s, META_VAULT_ID, v->vault_id, err)) &&
        !(rc = s->ops->meta_set(s, META_KEK_ID, v->kek->id, err)) &&
        !(rc = s->ops->meta_set(s, META_CREATED, sg_time_format(now, ts), err)) &&
        !(rc = sg_audit_record(&v->audit, s, &system_actor, now, "vault.init", NULL, "ok", err)) &&
        !(rc = sg_vault_record_policy(s, o->policy,
                                      o->policy->has_effective ? o->policy->effective : now, now,
                                      system_actor.id, NULL, err)))
        rc = sg_audit_record(&v->audit, s, &system_actor, now, "policy.apply", NULL, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
out:
    if (rc && v->journal_path && v->vault_id[0]) {
        /* Leave nothing half-made that would block a second attempt. */
        char jid[37] = "";
        if (sg_journal_read(v->journal_path, jid, NULL, NULL, NULL) == SG_OK &&
            strcmp(jid, v->vault_id) == 0)
            unlink(v->journal_path);
    }
    sg_vault_close(v);
    free(uri);
    free(keys);
    free(kekdir);
    return rc;
}

/*
 * Makes sure the loaded master key is the vault's. A rotation that committed
 * but could not replace the key file is finished here; a leftover new key
 * from a rotation that did not commit is removed.
 */
static enum sg_rc check_kek(struct sg_vault *v, struct sg_err *err)
{
    char *want = NULL;
    enum sg_rc rc = v->store->ops->meta_get(v->store, META_KEK_ID, &want, err);
    if (rc)
        return rc == SG_NOTFOUND ? sg_err_set(err, SG_IO, "'%s' is not a sargs vault", v->dir) : rc;
    size_t l = strlen(v->kek_path);
    char *next = malloc(l + 6);
    if (!next) {
        free(want);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    memcpy(next, v->kek_path, l);
    memcpy(next + l, ".next", 6);

    if (strcmp(want, v->kek->id) == 0) {
        unlink(next); /* a rotation that never committed */
        rc = SG_OK;
        goto out;
    }
    struct sg_key *nk = NULL;
    if (sg_key_load(next, SG_KEY_KEK, &nk, NULL) == SG_OK && strcmp(nk->id, want) == 0) {
        if (rename(next, v->kek_path) != 0) {
            sg_key_free(nk);
            rc = sg_err_set(err, SG_IO, "cannot finish an interrupted key rotation: %s",
                            strerror(errno));
            goto out;
        }
        char *d = dir_of(v->kek_path);
        if (d)
            sg_sync_dir(d);
        free(d);
        sg_key_free(v->kek);
        v->kek = nk;
        rc = SG_OK;
        goto out;
    }
    sg_key_free(nk);
    rc = sg_err_set(err, SG_CRYPTO,
                    "master key '%s' (id %s) is not the key of this vault (it expects id %s)",
                    v->kek_path, v->kek->id, want);
out:
    free(want);
    free(next);
    return rc;
}

static int keep_code(void *ctx, int code, const char *id)
{
    struct sg_vault *v = ctx;
    if (code <= 0 || code >= v->ncodes || v->code_id[code])
        return 0;
    v->code_id[code] = strdup(id);
    return 0;
}

static int max_code(void *ctx, int code, const char *id)
{
    (void)id;
    int *m = ctx;
    if (code > *m)
        *m = code;
    return 0;
}

/* Gives every category of the catalog a code (new ones are registered in
 * the database) and loads the code of every category the database knows,
 * including ones a later policy dropped, so that old records still read. */
enum sg_rc sg_vault_load_categories(struct sg_vault *v, struct sg_err *err)
{
    struct sg_store *s = v->store;
    enum sg_rc rc;
    for (int i = 0; i < v->ncodes; i++)
        free(v->code_id[i]);
    free(v->code_id);
    free(v->cat_code);
    v->code_id = NULL;
    v->ncodes = 0;
    v->cat_code = calloc(v->catalog->n ? v->catalog->n : 1, sizeof *v->cat_code);
    if (!v->cat_code)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    if ((rc = s->ops->begin(s, err)))
        return rc;
    for (size_t i = 0; i < v->catalog->n && !rc; i++)
        rc = s->ops->category_add(s, v->catalog->cats[i].id, &v->cat_code[i], err);
    if (rc) {
        s->ops->rollback(s);
        return rc;
    }
    if ((rc = s->ops->commit(s, err)))
        return rc;
    int max = 0;
    if ((rc = s->ops->category_each(s, max_code, &max, err)))
        return rc;
    if (max > 0xffff)
        return sg_err_set(err, SG_IO, "too many categories in the database");
    v->ncodes = max + 1;
    v->code_id = calloc((size_t)v->ncodes, sizeof *v->code_id);
    if (!v->code_id)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    /* Codes are never reused; a code missing from the table stays NULL and a
     * record naming it is reported as damaged. */
    return s->ops->category_each(s, keep_code, v, err);
}

int sg_vault_code(const struct sg_vault *v, const struct sg_category *c)
{
    size_t i = (size_t)(c - v->catalog->cats);
    return i < v->catalog->n ? v->cat_code[i] : 0;
}

const char *sg_vault_code_id(const struct sg_vault *v, int code)
{
    return code > 0 && code < v->ncodes ? v->code_id[code] : NULL;
}

enum sg_rc sg_vault_open(const struct sg_vault_opts *o, struct sg_vault **out, struct sg_err *err)
{
    enum sg_rc rc;
    char *uri = NULL;
    struct sg_vault *v = vault_alloc(o);
    if (!v)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    if ((rc = set_paths(v, o, &uri, err)))
        goto bad;
    if ((rc = sg_store_open(uri, o->shared ? SG_STORE_SHARED : 0, &v->store, err))) {
        if (rc == SG_NOTFOUND)
            sg_err_set(err, SG_NOTFOUND, "no vault in '%s' (run 'sargs init' first)", v->dir);
        goto bad;
    }
    if ((rc = v->store->ops->migrate(v->store, sg_clock_now(v->clock), err)))
        goto bad;
    char *vid = NULL;
    if ((rc = v->store->ops->meta_get(v->store, META_VAULT_ID, &vid, err))) {
        if (rc == SG_NOTFOUND)
            rc = sg_err_set(err, SG_IO, "'%s' is not a sargs vault", v->dir);
        goto bad;
    }
    snprintf(v->vault_id, sizeof v->vault_id, "%s", vid);
    free(vid);
    if ((rc = sg_key_load(v->kek_path, SG_KEY_KEK, &v->kek, err)) || (rc = check_kek(v, err)) ||
        (rc = sg_key_load(v->index_path, SG_KEY_INDEX, &v->index_key, err)))
        goto bad;
    if ((rc = sg_vault_select_policy(v, err)) || (rc = sg_vault_load_categories(v, err)))
        goto bad;
    {
        char *keys = sg_path_join(v->dir, SG_KEYS_DIR);
        if (!keys) {
            rc = sg_err_set(err, SG_NOMEM, "out of memory");
            goto bad;
        }
        rc = sg_auditlog_open(&v->audit, keys, v->vault_id, err);
        free(keys);
        if (rc)
            goto bad;
    }
    if (access(v->journal_path, W_OK) != 0) {
        rc = sg_err_set(err, SG_NOTFOUND,
                        "erasure journal '%s' is missing; it is kept with the keys (restore it "
                        "from where the keys are backed up)",
                        v->journal_path);
        goto bad;
    }
    free(uri);
    *out = v;
    return SG_OK;
bad:
    free(uri);
    sg_vault_close(v);
    return rc;
}

/* ------------------------------------------------------------ transactions */

int sg_vault_top_level(const struct sg_vault *v)
{
    return !v->explicit_tx && v->op_depth == 0;
}

enum sg_rc sg_op_begin(struct sg_vault *v, struct sg_opmark *mark, struct sg_err *err)
{
    int top = sg_vault_top_level(v);
    if (top)
        sg_auditlog_begin(&v->audit, sg_clock_now(v->clock));
    mark->journal = v->npending;
    mark->audit = sg_auditlog_mark(&v->audit);
    enum sg_rc rc;
    /* A handle whose audit entries go to a sink reads: it must not queue
     * behind the writer's lock. */
    if (v->audit.sink && top && v->store->ops->begin_read)
        rc = v->store->ops->begin_read(v->store, err);
    else
        rc = v->store->ops->begin(v->store, err);
    if (!rc)
        v->op_depth++;
    return rc;
}

/* Signs the transaction's audit head, journals the queued erasures, then
 * commits; a commit that fails after the journal was written is cancelled in
 * the journal (unless its outcome is unknown). */
static enum sg_rc commit_all(struct sg_vault *v, struct sg_err *err)
{
    enum sg_rc rc = sg_auditlog_seal(&v->audit, v->store, sg_clock_now(v->clock), err);
    if (!rc)
        rc = sg_journal_append(v->journal_path, v->pending, v->npending, err);
    if (rc) {
        v->store->ops->rollback(v->store);
        sg_auditlog_rollback_to(&v->audit, 0);
        v->npending = 0;
        return rc;
    }
    rc = v->store->ops->commit(v->store, err);
    /* SG_UNAVAILABLE from a commit may mean the connection broke during
     * COMMIT, and the erasures may have been committed: keep their journal
     * lines then. A restore re-erasing a person whose erasure was asked for
     * and reported failed is harmless; bringing back one who was erased is
     * not. */
    if (rc && rc != SG_UNAVAILABLE && v->npending) {
        for (size_t i = 0; i < v->npending; i++)
            v->pending[i].kind = 'C';
        (void)sg_journal_append(v->journal_path, v->pending, v->npending, NULL);
    }
    /* Others may append once the transaction is over. */
    sg_auditlog_rollback_to(&v->audit, 0);
    v->npending = 0;
    return rc;
}

enum sg_rc sg_op_end(struct sg_vault *v, struct sg_opmark mark, enum sg_rc rc, struct sg_err *err)
{
    if (v->op_depth > 0)
        v->op_depth--;
    if (rc) {
        v->store->ops->rollback(v->store);
        v->npending = mark.journal;
        sg_auditlog_rollback_to(&v->audit, mark.audit);
        return rc;
    }
    if (!sg_vault_top_level(v)) {
        /* Releases the savepoint. A release can fail (a write of the
         * operation whose answer it reads, pg.c): the store then takes the
         * savepoint back, and its journal lines and audit entries go too. */
        if ((rc = v->store->ops->commit(v->store, err))) {
            v->npending = mark.journal;
            sg_auditlog_rollback_to(&v->audit, mark.audit);
        }
        return rc;
    }
    return commit_all(v, err);
}

enum sg_rc sg_op_journal(struct sg_vault *v, char kind, const struct sg_uuid *id,
                         struct sg_err *err)
{
    if (v->npending == v->cap_pending) {
        size_t cap = v->cap_pending ? v->cap_pending * 2 : 16;
        struct sg_journal_entry *p = realloc(v->pending, cap * sizeof *p);
        if (!p)
            return sg_err_set(err, SG_NOMEM, "out of memory");
        v->pending = p;
        v->cap_pending = cap;
    }
    struct sg_journal_entry *e = &v->pending[v->npending++];
    e->kind = kind;
    e->at = sg_clock_now(v->clock);
    e->id = *id;
    return SG_OK;
}

static enum sg_rc begin_explicit(struct sg_vault *v, int reading, struct sg_err *err)
{
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "a transaction is already open");
    enum sg_rc rc = reading && v->store->ops->begin_read ? v->store->ops->begin_read(v->store, err)
                                                         : v->store->ops->begin(v->store, err);
    if (!rc) {
        v->explicit_tx = 1;
        v->npending = 0;
        sg_auditlog_begin(&v->audit, sg_clock_now(v->clock));
    }
    return rc;
}

enum sg_rc sg_vault_begin(struct sg_vault *v, struct sg_err *err)
{
    return begin_explicit(v, 0, err);
}

enum sg_rc sg_vault_begin_read(struct sg_vault *v, struct sg_err *err)
{
    return begin_explicit(v, 1, err);
}

enum sg_rc sg_vault_commit(struct sg_vault *v, struct sg_err *err)
{
    if (!v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "no transaction is open");
    v->explicit_tx = 0;
    v->ngroups = v->op_depth = 0;
    return commit_all(v, err);
}

enum sg_rc sg_vault_group(struct sg_vault *v, struct sg_err *err)
{
    if (!v->explicit_tx || v->ngroups == SG_VAULT_GROUPS)
        return sg_err_set(err, SG_CONFLICT, "a group needs an open transaction (and room)");
    enum sg_rc rc = sg_op_begin(v, &v->groups[v->ngroups], err);
    if (!rc)
        v->ngroups++;
    return rc;
}

enum sg_rc sg_vault_group_end(struct sg_vault *v, int keep, struct sg_err *err)
{
    if (!v->explicit_tx || v->ngroups == 0)
        return sg_err_set(err, SG_CONFLICT, "no group is open");
    struct sg_opmark m = v->groups[--v->ngroups];
    if (keep)
        return sg_op_end(v, m, SG_OK, err);
    struct sg_err ignored;
    sg_op_end(v, m, sg_err_set(&ignored, SG_INVALID, "group undone"), &ignored);
    return SG_OK;
}

void sg_vault_rollback(struct sg_vault *v)
{
    if (!v->explicit_tx)
        return;
    v->explicit_tx = 0;
    v->ngroups = v->op_depth = 0;
    v->store->ops->rollback(v->store);
    sg_auditlog_rollback_to(&v->audit, 0);
    v->npending = 0;
}

enum sg_rc sg_vault_load_subject(struct sg_vault *v, const struct sg_uuid *id,
                                 struct sg_store_subject *row, int need_key, struct sg_err *err)
{
    char ids[SG_UUID_STR_LEN + 1];
    enum sg_rc rc = v->store->ops->subject_get(v->store, id, row, &v->rec, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_NOTFOUND, "subject %s not found", sg_uuid_format(id, ids));
    if (rc)
        return rc;
    if (row->state == SG_STATE_ERASED)
        return sg_err_set(err, SG_NOTFOUND, "subject %s has been erased", sg_uuid_format(id, ids));
    if (!need_key)
        return SG_OK;
    if (row->has_dek != 1)
        return sg_err_set(err, row->state == SG_STATE_ANONYMISED ? SG_CONFLICT : SG_CRYPTO,
                          row->state == SG_STATE_ANONYMISED
                              ? "subject %s is anonymised; no personal data is left"
                              : "data key of subject %s is missing or damaged",
                          sg_uuid_format(id, ids));
    rc = sg_dek_unwrap(v->kek, row->wrapped_dek, SG_WRAPPED_DEK_BYTES, id, row->dek_version, v->dek,
                       err);
    if (rc)
        return sg_err_prefix(err, "subject %s", sg_uuid_format(id, ids));
    sg_record_key(v->dek, v->rkey);
    return SG_OK;
}

void sg_vault_forget_key(struct sg_vault *v)
{
    sodium_memzero(v->dek, SG_KEY_BYTES);
    sodium_memzero(v->rkey, SG_KEY_BYTES);
}

/* ------------------------------------------------------------ key rotation */

struct rewrap_batch {
    struct sg_store_subject rows[512];
    size_t n;
};

static int collect_row(void *ctx, const struct sg_store_subject *s)
{
    struct rewrap_batch *b = ctx;
    b->rows[b->n++] = *s;
    return 0;
}

enum sg_rc sg_vault_rewrap_all(struct sg_store *store, const struct sg_key *from,
                               const struct sg_key *to, size_t *count, struct sg_err *err)
{
    enum sg_rc rc = SG_OK;
    struct rewrap_batch *b = malloc(sizeof *b);
    uint8_t *dek = sodium_malloc(SG_KEY_BYTES);
    if (!b || !dek) {
        free(b);
        sodium_free(dek);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    struct sg_uuid after;
    struct sg_nonce ng;
    int have_after = 0;
    *count = 0;
    sg_nonce_init(&ng);
    for (;;) {
        b->n = 0;
        size_t cap = sizeof b->rows / sizeof b->rows[0];
        if ((rc = store->ops->subject_list(store, have_after ? &after : NULL, cap, collect_row, b,
                                           err)))
            break;
        if (b->n == 0)
            break;
        for (size_t i = 0; i < b->n && !rc; i++) {
            struct sg_store_subject *r = &b->rows[i];
            if (r->has_dek != 1)
                continue;
            uint8_t wrapped[SG_WRAPPED_DEK_BYTES];
            if ((rc = sg_dek_unwrap(from, r->wrapped_dek, SG_WRAPPED_DEK_BYTES, &r->id,
                                    r->dek_version, dek, err))) {
                char ids[SG_UUID_STR_LEN + 1];
                sg_err_prefix(err, "subject %s", sg_uuid_format(&r->id, ids));
                break;
            }
            sg_dek_wrap(&ng, to, dek, &r->id, r->dek_version, wrapped);
            rc = store->ops->subject_set_dek(store, &r->id, wrapped, err);
            (*count)++;
        }
        after = b->rows[b->n - 1].id;
        have_after = 1;
        if (rc || b->n < cap)
            break;
    }
    sodium_free(dek);
    sodium_memzero(b, sizeof *b);
    free(b);
    return rc;
}

enum sg_rc sg_vault_retired_kek(const char *kek_path, const char *id, struct sg_key **out,
                                struct sg_err *err)
{
    /* The id comes from the database: it names a file only when it is one. */
    size_t n = strlen(id);
    if (n != SG_KEY_ID_HEX || strspn(id, "0123456789abcdef") != n)
        return sg_err_set(err, SG_CRYPTO, "a master key id is malformed");
    char name[SG_KEY_ID_HEX + 16];
    snprintf(name, sizeof name, SG_RETIRED_DIR "/%s.key", id);
    char *dir = dir_of(kek_path);
    char *path = dir ? sg_path_join(dir, name) : NULL;
    free(dir);
    if (!path)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    enum sg_rc rc = sg_key_load(path, SG_KEY_KEK, out, err);
    free(path);
    return rc;
}

enum sg_rc sg_vault_rotate_key(struct sg_vault *v, const struct sg_actor *who,
                               struct sg_rotate_report *rep, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_key *nk = NULL;
    char *next = NULL, *kekdir = NULL, *retired = NULL, *retired_file = NULL;
    int next_written = 0;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "key rotation cannot run inside a transaction");
    size_t l = strlen(v->kek_path);
    next = malloc(l + 6);
    kekdir = dir_of(v->kek_path);
    retired = kekdir ? sg_path_join(kekdir, SG_RETIRED_DIR) : NULL;
    char fname[SG_KEY_ID_HEX + 8];
    snprintf(fname, sizeof fname, "%s.key", v->kek->id);
    retired_file = retired ? sg_path_join(retired, fname) : NULL;
    if (!next || !retired_file) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    memcpy(next, v->kek_path, l);
    memcpy(next + l, ".next", 6);

    if ((rc = sg_key_generate(&nk, err)))
        goto out;
    if ((rc = sg_key_save(nk, SG_KEY_KEK, next, err))) {
        if (rc == SG_CONFLICT)
            sg_err_set(err, SG_CONFLICT, "another key rotation is in progress ('%s' exists)", next);
        goto out;
    }
    next_written = 1;
    /* Keep the old key so that backups made under it can still be restored. */
    if ((rc = sg_mkdir_private(retired, err)))
        goto out;
    rc = sg_key_save(v->kek, SG_KEY_KEK, retired_file, err);
    if (rc == SG_CONFLICT)
        rc = SG_OK; /* already retired once (a rotation that did not commit) */
    if (rc)
        goto out;
    sg_sync_dir(retired);

    struct sg_store *s = v->store;
    size_t count = 0;
    sg_time now = sg_clock_now(v->clock);
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if (!(rc = sg_vault_rewrap_all(s, v->kek, nk, &count, err)) &&
        !(rc = s->ops->meta_set(s, META_KEK_ID, nk->id, err)))
        rc = sg_audit_record(&v->audit, s, who, now, "key.rotate", NULL, "ok", err);
    if ((rc = sg_op_end(v, mark, rc, err)))
        goto out;
    next_written = 0; /* committed: the new key is now the vault's */
    if (rep) {
        rep->rewrapped = count;
        memcpy(rep->old_id, v->kek->id, sizeof rep->old_id);
        memcpy(rep->new_id, nk->id, sizeof rep->new_id);
    }
    sg_key_free(v->kek);
    v->kek = nk;
    nk = NULL;
    if (rename(next, v->kek_path) != 0) {
        rc = sg_err_set(err, SG_IO,
                        "key rotation committed but '%s' could not replace '%s' (%s); the next "
                        "start finishes it",
                        next, v->kek_path, strerror(errno));
        goto out;
    }
    sg_sync_dir(kekdir);
out:
    if (next_written)
        unlink(next);
    sg_key_free(nk);
    free(next);
    free(kekdir);
    free(retired);
    free(retired_file);
    return rc;
}
