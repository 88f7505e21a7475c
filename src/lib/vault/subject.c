/*
 * subject.c - people and their data: add, read, find, rectify, touch, list,
 * erase. Every value is checked before the transaction starts, so bad input
 * never reaches the store; every operation writes one audit entry in its
 * own transaction.
 */
#include "vault_int.h"
#include "sargs/text.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS_PER_CALL  256
#define REASON_MAX           1000
#define HISTORY_REASON_FIELD "sargs.history.reason"

/* A checked input value, ready to seal. */
struct ready {
    const struct sg_category *cat;
    struct sg_buf stored;
    struct sg_buf ix;
};

static void ready_free(struct ready *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        sg_buf_release(&r[i].stored);
        sg_buf_release(&r[i].ix);
    }
    free(r);
}

/* Checks and normalises every input field; nothing is written yet. */
static enum sg_rc prepare(struct sg_vault *v, const struct sg_field_in *in, size_t n,
                          struct ready **out, struct sg_err *err)
{
    if (n > MAX_FIELDS_PER_CALL)
        return sg_err_set(err, SG_TOOBIG, "more than %d fields in one call", MAX_FIELDS_PER_CALL);
    struct ready *r = calloc(n ? n : 1, sizeof *r);
    if (!r)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    enum sg_rc rc = SG_OK;
    size_t i;
    for (i = 0; i < n; i++) {
        sg_buf_init(&r[i].stored, v->catalog->max_value + 64);
        sg_buf_init(&r[i].ix, v->catalog->max_value + 64);
        if (!in[i].category || !in[i].value) {
            rc = sg_err_set(err, SG_INVALID, "field %zu has no category or no value", i + 1);
            break;
        }
        r[i].cat = sg_catalog_find(v->catalog, in[i].category);
        if (!r[i].cat) {
            /* Category names come from the caller's schema, not from people. */
            rc = sg_err_set(err, SG_INVALID, "unknown category '%.*s'", 64, in[i].category);
            break;
        }
        for (size_t j = 0; j < i; j++) {
            if (r[j].cat == r[i].cat) {
                rc = sg_err_set(err, SG_INVALID, "category '%s' given twice", r[i].cat->id);
                break;
            }
        }
        if (rc)
            break;
        if ((rc = sg_value_normalise(v->catalog, r[i].cat, in[i].value, in[i].len, &r[i].stored,
                                     r[i].cat->indexed ? &r[i].ix : NULL, err)))
            break;
    }
    if (rc) {
        ready_free(r, i < n ? i + 1 : n);
        return rc;
    }
    *out = r;
    return SG_OK;
}

static int event_name_ok(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return n <= 64;
}

static enum sg_rc check_event(const char *name, struct sg_err *err)
{
    if (!event_name_ok(name))
        return sg_err_set(err, SG_INVALID,
                          "bad event name (lowercase letters, digits and '_', starting with a "
                          "letter, at most 64)");
    return SG_OK;
}

/* Seals one prepared value under v->dek and stores it. */
static enum sg_rc put_field(struct sg_vault *v, const struct sg_uuid *id, uint32_t dek_version,
                            const struct ready *r, sg_time now, struct sg_err *err)
{
    uint8_t *ct = sg_vault_seal_buf(v, r->stored.len, err);
    if (!ct)
        return err ? err->rc : SG_NOMEM;
    sg_seal(&v->nonce, v->dek, id, dek_version, r->cat->id, r->stored.ptr, r->stored.len, ct);
    uint8_t bidx[SG_BIDX_BYTES];
    if (r->cat->indexed)
        sg_bidx(v->index_key, r->cat->id, r->ix.ptr, r->ix.len, bidx);
    struct sg_store_field f = {
        .category = r->cat->id,
        .sealed = ct,
        .sealed_len = r->stored.len + SG_SEAL_OVERHEAD,
        .bidx = r->cat->indexed ? bidx : NULL,
        .dek_version = dek_version,
        .changed = now,
    };
    return v->store->ops->field_put(v->store, id, &f, err);
}

enum sg_rc sg_subject_add(struct sg_vault *v, const struct sg_actor *who,
                          const struct sg_field_in *fields, size_t nfields,
                          const struct sg_event_in *events, size_t nevents, struct sg_uuid *out,
                          struct sg_err *err)
{
    enum sg_rc rc;
    struct ready *r = NULL;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    for (size_t i = 0; i < nevents; i++)
        if ((rc = check_event(events[i].name, err)))
            return rc;
    if ((rc = prepare(v, fields, nfields, &r, err)))
        return rc;

    sg_time now = sg_clock_now(v->clock);
    struct sg_store_subject row = {0};
    sg_uuid_v7(now, &row.id);
    row.state = SG_STATE_ACTIVE;
    row.created = now;
    row.changed = now;
    row.dek_version = 1;
    row.has_dek = 1;
    randombytes_buf(v->dek, SG_KEY_BYTES);
    sg_dek_wrap(v->kek, v->dek, &row.id, row.dek_version, row.wrapped_dek);

    size_t mark;
    struct sg_store *s = v->store;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = s->ops->subject_insert(s, &row, err);
    for (size_t i = 0; i < nfields && !rc; i++)
        rc = put_field(v, &row.id, row.dek_version, &r[i], now, err);
    if (!rc)
        rc = s->ops->event_put(s, &row.id, "created", now, err);
    for (size_t i = 0; i < nevents && !rc; i++)
        rc = s->ops->event_put(s, &row.id, events[i].name, events[i].at, err);
    if (!rc)
        rc = sg_audit_record(s, who, now, "subject.create", &row.id, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && out)
        *out = row.id;
out:
    sodium_memzero(v->dek, SG_KEY_BYTES);
    ready_free(r, nfields);
    return rc;
}

/* ------------------------------------------------------------------ reading */

void sg_subject_free(struct sg_subject *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfields; i++) {
        if (s->fields[i].value)
            sodium_memzero(s->fields[i].value, s->fields[i].len);
        free(s->fields[i].value);
        free(s->fields[i].category);
    }
    for (size_t i = 0; i < s->nevents; i++)
        free(s->events[i].name);
    for (size_t i = 0; i < s->nhistory; i++) {
        struct sg_change *c = &s->history[i];
        if (c->old_value)
            sodium_memzero(c->old_value, c->old_len);
        if (c->reason)
            sodium_memzero(c->reason, strlen(c->reason));
        free(c->old_value);
        free(c->reason);
        free(c->category);
        free(c->actor);
    }
    free(s->fields);
    free(s->events);
    free(s->history);
    free(s);
}

/* Opens a sealed value into a fresh NUL-terminated buffer. */
static enum sg_rc open_value(struct sg_vault *v, const struct sg_uuid *id, uint32_t version,
                             const char *field, const uint8_t *ct, size_t ctlen, char **out,
                             size_t *outlen, struct sg_err *err)
{
    char ids[SG_UUID_STR_LEN + 1];
    if (ctlen < SG_SEAL_OVERHEAD)
        return sg_err_set(err, SG_CRYPTO, "field '%s' of subject %s is truncated", field,
                          sg_uuid_format(id, ids));
    char *p = malloc(ctlen - SG_SEAL_OVERHEAD + 1);
    if (!p)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    size_t n = 0;
    if (sg_open(v->dek, id, version, field, ct, ctlen, p, &n, NULL) != SG_OK) {
        free(p);
        return sg_err_set(err, SG_CRYPTO,
                          "field '%s' of subject %s failed authentication (corrupted, or moved "
                          "from another subject or field)",
                          field, sg_uuid_format(id, ids));
    }
    p[n] = '\0';
    *out = p;
    *outlen = n;
    return SG_OK;
}

struct read_ctx {
    struct sg_vault *v;
    struct sg_subject *s;
    size_t cap;
    enum sg_rc rc;
    struct sg_err *err;
};

static int read_field(void *ctx, const struct sg_store_field *f)
{
    struct read_ctx *c = ctx;
    struct sg_subject *s = c->s;
    if (s->nfields == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct sg_field *p = realloc(s->fields, cap * sizeof *p);
        if (!p) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return 1;
        }
        s->fields = p;
        c->cap = cap;
    }
    struct sg_field *out = &s->fields[s->nfields];
    memset(out, 0, sizeof *out);
    out->category = strdup(f->category);
    if (!out->category) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return 1;
    }
    out->changed = f->changed;
    s->nfields++;
    c->rc = open_value(c->v, &s->id, f->dek_version, f->category, f->sealed, f->sealed_len,
                       &out->value, &out->len, c->err);
    return c->rc != SG_OK;
}

static int read_event(void *ctx, const struct sg_store_event *e)
{
    struct read_ctx *c = ctx;
    struct sg_subject *s = c->s;
    if (s->nevents == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct sg_event *p = realloc(s->events, cap * sizeof *p);
        if (!p) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return 1;
        }
        s->events = p;
        c->cap = cap;
    }
    s->events[s->nevents].name = strdup(e->name);
    s->events[s->nevents].at = e->at;
    if (!s->events[s->nevents].name) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return 1;
    }
    s->nevents++;
    return 0;
}

static int read_change(void *ctx, const struct sg_store_history *h)
{
    struct read_ctx *c = ctx;
    struct sg_subject *s = c->s;
    if (s->nhistory == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct sg_change *p = realloc(s->history, cap * sizeof *p);
        if (!p) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return 1;
        }
        s->history = p;
        c->cap = cap;
    }
    struct sg_change *ch = &s->history[s->nhistory];
    memset(ch, 0, sizeof *ch);
    ch->category = strdup(h->category);
    ch->actor = strdup(h->actor);
    ch->at = h->at;
    s->nhistory++;
    if (!ch->category || !ch->actor) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return 1;
    }
    size_t rl = 0;
    if (h->old_sealed &&
        (c->rc = open_value(c->v, &s->id, h->dek_version, h->category, h->old_sealed, h->old_len,
                            &ch->old_value, &ch->old_len, c->err)))
        return 1;
    if (h->reason_sealed &&
        (c->rc = open_value(c->v, &s->id, h->dek_version, HISTORY_REASON_FIELD, h->reason_sealed,
                            h->reason_len, &ch->reason, &rl, c->err)))
        return 1;
    return 0;
}

enum sg_rc sg_subject_get(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                          unsigned flags, struct sg_subject **out, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    struct sg_subject *s = calloc(1, sizeof *s);
    if (!s)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    s->id = *id;
    size_t mark;
    struct sg_store *st = v->store;
    struct sg_store_subject row;
    struct read_ctx c = {v, s, 0, SG_OK, err};
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if ((rc = sg_vault_load_subject(v, id, &row, 1, err)))
        goto end;
    s->state = row.state;
    s->created = row.created;
    s->changed = row.changed;
    if ((rc = st->ops->fields_each(st, id, read_field, &c, err)) || (rc = c.rc))
        goto end;
    c.cap = 0;
    if ((rc = st->ops->events_each(st, id, read_event, &c, err)) || (rc = c.rc))
        goto end;
    c.cap = 0;
    if ((flags & SG_GET_HISTORY) &&
        ((rc = st->ops->history_each(st, id, read_change, &c, err)) || (rc = c.rc)))
        goto end;
    rc = sg_audit_record(st, who, now, "subject.read", id, "ok", err);
end:
    rc = sg_op_end(v, mark, rc, err);
out:
    sodium_memzero(v->dek, SG_KEY_BYTES);
    if (rc) {
        sg_subject_free(s);
        return rc;
    }
    *out = s;
    return SG_OK;
}

/* ------------------------------------------------------------------ look-up */

struct find_ctx {
    struct sg_uuid *ids;
    size_t max, n;
};

static int found_id(void *ctx, const struct sg_uuid *id)
{
    struct find_ctx *c = ctx;
    if (c->n < c->max)
        c->ids[c->n] = *id;
    c->n++;
    return 0;
}

enum sg_rc sg_subject_find(struct sg_vault *v, const struct sg_actor *who, const char *category,
                           const char *value, size_t len, struct sg_uuid *ids, size_t max,
                           size_t *n, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    const struct sg_category *cat = category ? sg_catalog_find(v->catalog, category) : NULL;
    if (!cat)
        return sg_err_set(err, SG_INVALID, "unknown category '%.*s'", 64, category ? category : "");
    if (!cat->indexed)
        return sg_err_set(err, SG_INVALID, "category '%s' is not indexed for look-up", cat->id);
    struct sg_buf ix;
    sg_buf_init(&ix, v->catalog->max_value + 64);
    if ((rc =
             sg_value_index_form(v->catalog, cat, value ? value : "", value ? len : 0, &ix, err))) {
        sg_buf_release(&ix);
        return rc;
    }
    uint8_t bidx[SG_BIDX_BYTES];
    sg_bidx(v->index_key, cat->id, ix.ptr, ix.len, bidx);
    sg_buf_release(&ix);

    struct find_ctx c = {ids, max, 0};
    size_t mark;
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = s->ops->index_find(s, cat->id, bidx, found_id, &c, err);
    /* One audit entry per person found, so that each person's access
     * history shows the look-up; one without a subject when none matched. */
    if (!rc && c.n == 0)
        rc = sg_audit_record(s, who, now, "subject.find", NULL, "none", err);
    for (size_t i = 0; !rc && i < c.n && i < max; i++)
        rc = sg_audit_record(s, who, now, "subject.find", &ids[i], "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc)
        *n = c.n;
    return rc;
}

/* ------------------------------------------------------------ rectification */

struct old_ctx {
    int found;
    uint8_t *sealed;
    size_t len;
    uint32_t version;
};

static int keep_old(void *ctx, const struct sg_store_field *f)
{
    struct old_ctx *c = ctx;
    c->sealed = malloc(f->sealed_len ? f->sealed_len : 1);
    if (c->sealed) {
        memcpy(c->sealed, f->sealed, f->sealed_len);
        c->len = f->sealed_len;
        c->version = f->dek_version;
        c->found = 1;
    } else {
        c->found = -1;
    }
    return 1;
}

static enum sg_rc check_reason(const char *reason, struct sg_err *err)
{
    size_t n = reason ? strlen(reason) : 0;
    size_t i = 0;
    while (i < n && (reason[i] == ' ' || reason[i] == '\t'))
        i++;
    if (i == n)
        return sg_err_set(err, SG_INVALID, "a change needs a reason");
    if (n > REASON_MAX)
        return sg_err_set(err, SG_TOOBIG, "reason longer than %d bytes", REASON_MAX);
    if (!sg_utf8_valid(reason, n))
        return sg_err_set(err, SG_INVALID, "reason is not valid UTF-8");
    for (i = 0; i < n; i++)
        if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
            return sg_err_set(err, SG_INVALID,
                              "reason must be one line without control "
                              "characters");
    return SG_OK;
}

/* Rectifies one field: history first (old value, reason), then the new value. */
static enum sg_rc update_one(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const struct sg_store_subject *row,
                             const struct ready *r, const char *reason, sg_time now, int *changed,
                             struct sg_err *err)
{
    struct sg_store *s = v->store;
    struct old_ctx old = {0};
    enum sg_rc rc = s->ops->field_get(s, id, r->cat->id, keep_old, &old, err);
    if (rc)
        return rc;
    if (old.found < 0)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    *changed = 0;
    if (old.found) {
        char *prev = NULL;
        size_t plen = 0;
        rc = open_value(v, id, old.version, r->cat->id, old.sealed, old.len, &prev, &plen, err);
        if (rc)
            goto out;
        int same = plen == r->stored.len && memcmp(prev, r->stored.ptr, plen) == 0;
        sodium_memzero(prev, plen);
        free(prev);
        if (same)
            goto out;
    }
    size_t rlen = strlen(reason);
    uint8_t *rs = malloc(rlen + SG_SEAL_OVERHEAD);
    if (!rs) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    /* NEEDSWORK: a subject has one data key for life (version 1); when
     * per-subject re-keying comes, history must re-seal old values with it. */
    sg_seal(&v->nonce, v->dek, id, row->dek_version, HISTORY_REASON_FIELD, reason, rlen, rs);
    struct sg_store_history h = {
        .category = r->cat->id,
        .old_sealed = old.found ? old.sealed : NULL,
        .old_len = old.len,
        .dek_version = row->dek_version,
        .reason_sealed = rs,
        .reason_len = rlen + SG_SEAL_OVERHEAD,
        .actor = who->id,
        .at = now,
    };
    rc = s->ops->history_append(s, id, &h, err);
    free(rs);
    if (!rc)
        rc = put_field(v, id, row->dek_version, r, now, err);
    if (!rc)
        *changed = 1;
out:
    free(old.sealed);
    return rc;
}

enum sg_rc sg_subject_update(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const struct sg_field_in *fields,
                             size_t nfields, const char *reason, size_t *changed,
                             struct sg_err *err)
{
    enum sg_rc rc;
    struct ready *r = NULL;
    if ((rc = sg_actor_check(who, err)) || (rc = check_reason(reason, err)))
        return rc;
    if (nfields == 0)
        return sg_err_set(err, SG_INVALID, "nothing to change");
    if ((rc = prepare(v, fields, nfields, &r, err)))
        return rc;
    size_t mark, count = 0;
    struct sg_store *s = v->store;
    struct sg_store_subject row;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = sg_vault_load_subject(v, id, &row, 1, err);
    for (size_t i = 0; i < nfields && !rc; i++) {
        int ch = 0;
        rc = update_one(v, who, id, &row, &r[i], reason, now, &ch, err);
        count += (size_t)ch;
    }
    if (!rc && count)
        rc = s->ops->subject_set_state(s, id, row.state, now, err);
    if (!rc)
        rc = sg_audit_record(s, who, now, "subject.update", id, count ? "ok" : "unchanged", err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && changed)
        *changed = count;
out:
    sodium_memzero(v->dek, SG_KEY_BYTES);
    ready_free(r, nfields);
    return rc;
}

/* ------------------------------------------------------------- events, list */

enum sg_rc sg_subject_touch(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *name, sg_time at,
                            struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)) || (rc = check_event(name, err)))
        return rc;
    size_t mark;
    struct sg_store *s = v->store;
    struct sg_store_subject row;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = sg_vault_load_subject(v, id, &row, 0, err);
    if (!rc && row.state == SG_STATE_ANONYMISED)
        rc = sg_err_set(err, SG_CONFLICT, "subject is anonymised");
    if (!rc)
        rc = s->ops->event_put(s, id, name, at, err);
    if (!rc)
        rc = sg_audit_record(s, who, now, "subject.touch", id, "ok", err);
    return sg_op_end(v, mark, rc, err);
}

struct list_ctx {
    int (*cb)(void *ctx, const struct sg_subject_row *row);
    void *ctx;
};

static int list_row(void *ctx, const struct sg_store_subject *s)
{
    struct list_ctx *c = ctx;
    struct sg_subject_row row = {s->id, s->state, s->created, s->changed};
    return c->cb(c->ctx, &row);
}

enum sg_rc sg_subject_list(struct sg_vault *v, const struct sg_actor *who,
                           const struct sg_uuid *after, size_t limit,
                           int (*cb)(void *ctx, const struct sg_subject_row *row), void *ctx,
                           struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    size_t mark;
    struct sg_store *s = v->store;
    struct list_ctx c = {cb, ctx};
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = s->ops->subject_list(s, after, limit, list_row, &c, err);
    if (!rc)
        rc = sg_audit_record(s, who, sg_clock_now(v->clock), "subject.list", NULL, "ok", err);
    return sg_op_end(v, mark, rc, err);
}

/* ------------------------------------------------------------------ erasure */

enum sg_rc sg_subject_erase(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    size_t mark;
    struct sg_store *s = v->store;
    struct sg_store_subject row;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = s->ops->subject_get(s, id, &row, err);
    if (rc == SG_NOTFOUND) {
        char ids[SG_UUID_STR_LEN + 1];
        rc = sg_err_set(err, SG_NOTFOUND, "subject %s not found", sg_uuid_format(id, ids));
    } else if (!rc && row.state == SG_STATE_ERASED) {
        char ids[SG_UUID_STR_LEN + 1];
        rc = sg_err_set(err, SG_CONFLICT, "subject %s is already erased", sg_uuid_format(id, ids));
    }
    if (!rc)
        rc = s->ops->subject_shred(s, id, SG_STATE_ERASED, now, err);
    if (!rc)
        rc = sg_op_journal(v, 'E', id, err);
    if (!rc)
        rc = sg_audit_record(s, who, now, "subject.erase", id, "ok", err);
    return sg_op_end(v, mark, rc, err);
}
