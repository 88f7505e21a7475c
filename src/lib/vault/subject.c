/*
 * subject.c - people and their data: add, read, find, rectify, touch, list,
 * erase. Every value is checked before the transaction starts, so bad input
 * never reaches the store; every operation writes one audit entry in its own
 * transaction. A person's data is one record (record.h) of values sealed one
 * by one under the person's data key.
 */
#include "vault_int.h"
#include "sargs/text.h"

#include "../consent/consent_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS_PER_CALL  256
#define REASON_MAX           1000
#define HISTORY_REASON_FIELD "sargs.history.reason"
#define CREATED_EVENT        "created"

/* A checked input value, ready to seal. */
struct ready {
    const struct sg_category *cat;
    int code;
    struct sg_buf stored;
    struct sg_buf ix;
    uint8_t bidx[SG_BIDX_BYTES];
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

static int by_code(const void *a, const void *b)
{
    const struct ready *x = a, *y = b;
    return (x->code > y->code) - (x->code < y->code);
}

/* Checks and normalises every input field, computes blind indexes and sorts
 * by category code; nothing is written yet. */
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
            rc = sg_err_set(err, SG_INVALID, "unknown category '%.64s'", in[i].category);
            break;
        }
        r[i].code = sg_vault_code(v, r[i].cat);
        for (size_t j = 0; j < i && !rc; j++)
            if (r[j].cat == r[i].cat)
                rc = sg_err_set(err, SG_INVALID, "category '%s' given twice", r[i].cat->id);
        if (rc)
            break;
        if ((rc = sg_value_normalise(v->catalog, r[i].cat, in[i].value, in[i].len, &r[i].stored,
                                     r[i].cat->indexed ? &r[i].ix : NULL, err)))
            break;
        if (r[i].cat->indexed)
            sg_bidx(v->index_key, r[i].cat->id, r[i].ix.ptr, r[i].ix.len, r[i].bidx);
    }
    if (rc) {
        ready_free(r, i < n ? i + 1 : n);
        return rc;
    }
    qsort(r, n, sizeof *r, by_code);
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

/* Seals every prepared value under v->dek into one buffer; entry i of `e`
 * points at value i. The caller frees *sealed. */
static enum sg_rc seal_all(struct sg_vault *v, const struct sg_uuid *id, uint32_t kv,
                           const struct ready *r, size_t n, sg_time now, struct sg_rec_entry *e,
                           uint8_t **sealed, struct sg_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += r[i].stored.len + SG_SEAL_OVERHEAD;
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        sg_seal(&v->nonce, v->dek, id, kv, r[i].cat->id, r[i].stored.ptr, r[i].stored.len,
                buf + pos);
        e[i].code = r[i].code;
        e[i].kv = kv;
        e[i].changed = now;
        e[i].bidx = r[i].cat->indexed ? r[i].bidx : NULL;
        e[i].sealed = buf + pos;
        e[i].sealed_len = r[i].stored.len + SG_SEAL_OVERHEAD;
        pos += e[i].sealed_len;
    }
    *sealed = buf;
    return SG_OK;
}

/*
 * What a write sets off in the consent module, inside the write's
 * transaction with the person's key loaded: a new person takes over the
 * consents recorded against their e-mail or phone; a date of birth flags a
 * minor where minors are refused.
 */
static enum sg_rc after_write(struct sg_vault *v, const struct sg_actor *who,
                              const struct sg_uuid *id, const struct ready *r, size_t n, int is_new,
                              sg_time now, struct sg_err *err)
{
    enum sg_rc rc = SG_OK;
    int codes[MAX_FIELDS_PER_CALL];
    uint8_t(*bidx)[SG_BIDX_BYTES] = NULL;
    size_t nb = 0;
    if (is_new) {
        for (size_t i = 0; i < n; i++)
            nb += r[i].cat->indexed;
        if (nb && !(bidx = malloc(nb * sizeof *bidx)))
            return sg_err_set(err, SG_NOMEM, "out of memory");
        nb = 0;
        for (size_t i = 0; i < n; i++)
            if (r[i].cat->indexed) {
                codes[nb] = r[i].code;
                memcpy(bidx[nb++], r[i].bidx, SG_BIDX_BYTES);
            }
        rc = sg_consent_link_pending(v, who, id, codes, (const uint8_t(*)[SG_BIDX_BYTES])bidx, nb,
                                     now, err);
        free(bidx);
    }
    for (size_t i = 0; i < n && !rc; i++)
        if (strcmp(r[i].cat->id, SG_BIRTH_DATE_CATEGORY) == 0 && r[i].cat->type == SG_VT_DATE)
            rc = sg_consent_birth_date(v, id, r[i].stored.ptr, r[i].stored.len, now, err);
    return rc;
}

/* Whether the view may set these fields: only categories the role sees, and
 * for a role that sees people by a value of theirs, only its own value. */
static enum sg_rc check_write_fields(const struct sg_view *w, const struct ready *r, size_t n,
                                     int is_new, struct sg_err *err)
{
    const struct sg_role *role = w->role;
    if (!role)
        return SG_OK;
    int has_row_field = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sg_view_sees(w, r[i].cat))
            return sg_err_set(err, SG_DENIED, "role '%s' may not see category '%s', so not set it",
                              role->id, r[i].cat->id);
        if (role->rows == SG_ROWS_SAME_VALUE && r[i].cat == role->row_field) {
            if (!w->scope || r[i].stored.len != w->scope_len ||
                memcmp(r[i].stored.ptr, w->scope, w->scope_len) != 0)
                return sg_err_set(err, SG_DENIED,
                                  "role '%s' may give '%s' only the viewer's own value", role->id,
                                  r[i].cat->id);
            has_row_field = 1;
        }
    }
    if (!is_new)
        return SG_OK;
    if (role->rows == SG_ROWS_SELF || role->rows == SG_ROWS_NONE)
        return sg_err_set(err, SG_DENIED, "role '%s' may not add people", role->id);
    if (role->rows == SG_ROWS_SAME_VALUE && !has_row_field)
        return sg_err_set(err, SG_DENIED, "role '%s' adds only people with its own '%s'", role->id,
                          role->row_field ? role->row_field->id : "?");
    return SG_OK;
}

enum sg_rc sg_subject_add(struct sg_vault *v, const struct sg_actor *who,
                          const struct sg_field_in *fields, size_t nfields,
                          const struct sg_event_in *events, size_t nevents, struct sg_uuid *out,
                          struct sg_err *err)
{
    enum sg_rc rc;
    struct ready *r = NULL;
    struct sg_rec_entry *e = NULL;
    uint8_t *sealed = NULL;
    struct sg_view w = {0};
    int denied = 0;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    sg_time now = sg_clock_now(v->clock);
    struct sg_store_subject row = {0};
    row.created = now;
    for (size_t i = 0; i < nevents; i++) {
        if ((rc = check_event(events[i].name, err)))
            return rc;
        /* An import may carry the original creation time. */
        if (strcmp(events[i].name, CREATED_EVENT) == 0)
            row.created = events[i].at;
    }
    if ((rc = prepare(v, fields, nfields, &r, err)))
        return rc;
    if ((rc = sg_view_open(v, who, "subject.create", &w, err)))
        goto out;
    if ((rc = sg_view_may_write(v, &w, NULL, 0, err)) ||
        (rc = check_write_fields(&w, r, nfields, 1, err))) {
        denied = 1;
        goto out;
    }
    if (!(e = calloc(nfields ? nfields : 1, sizeof *e))) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }

    sg_uuid_v7(now, &row.id);
    row.state = SG_STATE_ACTIVE;
    row.changed = now;
    row.dek_version = 1;
    row.has_dek = 1;
    sg_rand_pool_take(&v->pool, v->dek, SG_KEY_BYTES);
    sg_record_key(v->dek, v->rkey);
    sg_dek_wrap(&v->nonce, v->kek, v->dek, &row.id, row.dek_version, row.wrapped_dek);
    if ((rc = seal_all(v, &row.id, row.dek_version, r, nfields, now, e, &sealed, err)) ||
        (rc = sg_record_encode(e, nfields, v->rkey, &row.id, &v->rec2, err)))
        goto out;

    struct sg_opmark mark;
    struct sg_store *s = v->store;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = s->ops->subject_insert(s, &row, (const uint8_t *)v->rec2.ptr, v->rec2.len, err);
    for (size_t i = 0; i < nfields && !rc; i++)
        if (e[i].bidx)
            rc = s->ops->index_put(s, e[i].code, e[i].bidx, &row.id, err);
    for (size_t i = 0; i < nevents && !rc; i++)
        if (strcmp(events[i].name, CREATED_EVENT) != 0)
            rc = s->ops->event_put(s, &row.id, events[i].name, events[i].at, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, s, who, now, "subject.create", &row.id, "ok", err);
    if (!rc)
        rc = after_write(v, who, &row.id, r, nfields, 1, now, err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && out)
        *out = row.id;
out:
    sg_vault_forget_key(v);
    ready_free(r, nfields);
    free(e);
    free(sealed);
    sg_view_close(&w);
    if (denied)
        rc = sg_view_deny(v, who, "subject.create", NULL, err);
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
    for (size_t i = 0; i < s->ngroups; i++)
        free(s->groups[i]);
    free(s->fields);
    free(s->events);
    free(s->history);
    free(s->groups);
    free(s);
}

/* Opens a sealed value into a fresh NUL-terminated buffer. */
enum sg_rc sg_vault_open_value(struct sg_vault *v, const struct sg_uuid *id, uint32_t version,
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

/* Parses v->rec (the record just loaded) into `e`; with `verify`, checks
 * its tag first. */
static enum sg_rc parse_loaded(struct sg_vault *v, const struct sg_uuid *id, int verify,
                               struct sg_rec_entry *e, size_t *n, struct sg_err *err)
{
    const uint8_t *rec = (const uint8_t *)v->rec.ptr;
    enum sg_rc rc = SG_OK;
    if (verify)
        rc = sg_record_verify(rec, v->rec.len, v->rkey, id, err);
    if (!rc)
        rc = sg_record_parse(rec, v->rec.len, e, SG_RECORD_MAX_ENTRIES, n, err);
    if (rc) {
        char ids[SG_UUID_STR_LEN + 1];
        sg_err_prefix(err, "subject %s", sg_uuid_format(id, ids));
    }
    return rc;
}

static enum sg_rc unknown_code(const struct sg_uuid *id, int code, struct sg_err *err)
{
    char ids[SG_UUID_STR_LEN + 1];
    return sg_err_set(err, SG_CRYPTO, "record of subject %s names an unknown category code %d",
                      sg_uuid_format(id, ids), code);
}

struct read_ctx {
    struct sg_vault *v;
    struct sg_subject *s;
    size_t cap;
    enum sg_rc rc;
    struct sg_err *err;
    const struct sg_view *w;
    int groups_ok; /* group-only content shown */
};

/* Whether a read through view `w` shows the field of category id `cat`. A
 * category the policy no longer has is the operator's alone. */
static int shows(struct sg_vault *v, const struct sg_view *w, int groups_ok, const char *cat)
{
    if (!w->role)
        return 1;
    const struct sg_category *c = sg_catalog_find(v->catalog, cat);
    return c && sg_view_sees(w, c) && (!c->group_only || groups_ok);
}

static int add_event(struct read_ctx *c, const char *name, sg_time at)
{
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
    s->events[s->nevents].name = strdup(name);
    s->events[s->nevents].at = at;
    if (!s->events[s->nevents].name) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return 1;
    }
    s->nevents++;
    return 0;
}

static int read_event(void *ctx, const struct sg_store_event *e)
{
    return add_event(ctx, e->name, e->at);
}

static int read_change(void *ctx, const struct sg_store_history *h)
{
    struct read_ctx *c = ctx;
    struct sg_subject *s = c->s;
    if (!shows(c->v, c->w, c->groups_ok, h->category))
        return 0;
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
        (c->rc = sg_vault_open_value(c->v, &s->id, h->dek_version, h->category, h->old_sealed,
                                     h->old_len, &ch->old_value, &ch->old_len, c->err)))
        return 1;
    if (h->reason_sealed &&
        (c->rc = sg_vault_open_value(c->v, &s->id, h->dek_version, HISTORY_REASON_FIELD,
                                     h->reason_sealed, h->reason_len, &ch->reason, &rl, c->err)))
        return 1;
    return 0;
}

static int read_group(void *ctx, const char *group, sg_time since)
{
    struct read_ctx *c = ctx;
    struct sg_subject *s = c->s;
    (void)since;
    if (s->ngroups == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **p = realloc(s->groups, cap * sizeof *p);
        if (!p) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return 1;
        }
        s->groups = p;
        c->cap = cap;
    }
    if (!(s->groups[s->ngroups] = strdup(group))) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return 1;
    }
    s->ngroups++;
    return 0;
}

/* The value of category `c` in the loaded record. */
enum sg_rc sg_vault_loaded_field(struct sg_vault *v, const struct sg_uuid *id,
                                 const struct sg_category *c, char **out, size_t *len,
                                 struct sg_err *err)
{
    struct sg_rec_entry *e = malloc(SG_RECORD_MAX_ENTRIES * sizeof *e);
    size_t n = 0;
    if (!e)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    int code = sg_vault_code(v, c);
    enum sg_rc rc = parse_loaded(v, id, 1, e, &n, err);
    size_t i = 0;
    while (!rc && i < n && e[i].code != code)
        i++;
    if (!rc && i == n)
        rc = SG_NOTFOUND;
    if (!rc)
        rc =
            sg_vault_open_value(v, id, e[i].kv, c->id, e[i].sealed, e[i].sealed_len, out, len, err);
    free(e);
    return rc;
}

/* Decrypts the fields of the loaded record that the view shows into
 * s->fields; the others are never opened. */
static enum sg_rc open_fields(struct sg_vault *v, struct sg_subject *s, const struct sg_view *w,
                              int groups_ok, struct sg_err *err)
{
    struct sg_rec_entry *e = malloc(SG_RECORD_MAX_ENTRIES * sizeof *e);
    size_t n = 0;
    if (!e)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    /* Each value first, so that damage is reported with the field it hit;
     * then the tag, which catches what no single value shows. */
    enum sg_rc rc = parse_loaded(v, &s->id, 0, e, &n, err);
    if (!rc && n && !(s->fields = calloc(n, sizeof *s->fields)))
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        const char *cat = sg_vault_code_id(v, e[i].code);
        if (!cat) {
            rc = unknown_code(&s->id, e[i].code, err);
            break;
        }
        if (!shows(v, w, groups_ok, cat))
            continue;
        struct sg_field *f = &s->fields[s->nfields++];
        f->changed = e[i].changed;
        if (!(f->category = strdup(cat)))
            rc = sg_err_set(err, SG_NOMEM, "out of memory");
        else
            rc = sg_vault_open_value(v, &s->id, e[i].kv, cat, e[i].sealed, e[i].sealed_len,
                                     &f->value, &f->len, err);
    }
    if (!rc)
        rc = parse_loaded(v, &s->id, 1, e, &n, err);
    free(e);
    return rc;
}

/* Refuses an operation on a person the view does not show, after the
 * operation was rolled back: a hidden profile is reported as absent, a
 * person outside the role's rows as denied; both are audited. */
static enum sg_rc refuse(struct sg_vault *v, const struct sg_actor *who, const struct sg_view *w,
                         const char *action, const struct sg_uuid *id, enum sg_verdict verdict,
                         struct sg_err *err)
{
    char ids[SG_UUID_STR_LEN + 1];
    sg_uuid_format(id, ids);
    if (verdict == SG_HIDDEN) {
        sg_err_set(err, SG_NOTFOUND, "subject %s not found", ids);
        enum sg_rc rc = sg_view_deny(v, who, action, id, err);
        return rc == SG_DENIED ? SG_NOTFOUND : rc;
    }
    sg_err_set(err, SG_DENIED, "subject %s is outside the view of role '%s'", ids,
               w->role ? w->role->id : who->role);
    return sg_view_deny(v, who, action, id, err);
}

enum sg_rc sg_subject_get(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                          unsigned flags, struct sg_subject **out, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_view w;
    if ((rc = sg_view_open(v, who, "subject.read", &w, err)))
        return rc;
    struct sg_subject *s = calloc(1, sizeof *s);
    if (!s) {
        sg_view_close(&w);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    s->id = *id;
    struct sg_opmark mark;
    struct sg_store *st = v->store;
    struct sg_store_subject row;
    struct read_ctx c = {v, s, 0, SG_OK, err, &w, 0};
    enum sg_verdict verdict = SG_SEES;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if ((rc = sg_vault_load_subject(v, id, &row, 1, err)) ||
        (rc = sg_view_row(v, &w, id, &row, 1, &verdict, err)))
        goto end;
    if (verdict != SG_SEES) {
        rc = SG_DENIED;
        goto end;
    }
    if ((rc = sg_view_groups(v, &w, id, &c.groups_ok, err)))
        goto end;
    s->state = row.state;
    s->created = row.created;
    s->changed = row.changed;
    if ((rc = open_fields(v, s, &w, c.groups_ok, err)))
        goto end;
    /* When and how a person used the service, and their groups, are for
     * those who run it and for the person. */
    if (w.wide || sg_view_is_self(&w, id)) {
        if (add_event(&c, CREATED_EVENT, row.created) ||
            (rc = st->ops->events_each(st, id, read_event, &c, err)) || (rc = c.rc)) {
            rc = rc ? rc : c.rc;
            goto end;
        }
        c.cap = 0;
        if ((rc = st->ops->members_each(st, id, read_group, &c, err)) || (rc = c.rc))
            goto end;
        c.cap = 0;
        if ((flags & SG_GET_HISTORY) &&
            ((rc = st->ops->history_each(st, id, read_change, &c, err)) || (rc = c.rc)))
            goto end;
    }
    rc = sg_audit_record(&v->audit, st, who, now, "subject.read", id, "ok", err);
end:
    rc = sg_op_end(v, mark, rc, err);
out:
    sg_vault_forget_key(v);
    if (rc == SG_DENIED && verdict != SG_SEES)
        rc = refuse(v, who, &w, "subject.read", id, verdict, err);
    sg_view_close(&w);
    if (rc) {
        sg_subject_free(s);
        return rc;
    }
    *out = s;
    return SG_OK;
}

/* ------------------------------------------------------------------ look-up */

/* A look-up through a role that sees only some people examines at most
 * this many matches of one value. */
#define FIND_SCAN_MAX 4096

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

/* Keeps the matches in c->ids[0..min(n,max)) that the view shows, in order;
 * returns how many are kept. */
static enum sg_rc find_filter(struct sg_vault *v, const struct sg_view *w, struct find_ctx *c,
                              size_t *kept, struct sg_err *err)
{
    size_t k = 0, n = c->n < c->max ? c->n : c->max;
    for (size_t i = 0; i < n; i++) {
        struct sg_store_subject row;
        enum sg_verdict verdict;
        enum sg_rc rc = sg_vault_load_subject(v, &c->ids[i], &row, 0, err);
        if (rc == SG_NOTFOUND)
            continue;
        if (rc || (rc = sg_view_row(v, w, &c->ids[i], &row, 0, &verdict, err)))
            return rc;
        if (verdict == SG_SEES)
            c->ids[k++] = c->ids[i];
    }
    *kept = k;
    return SG_OK;
}

static enum sg_rc find_in_view(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_view *w, const struct sg_category *cat,
                               const char *value, size_t len, struct sg_uuid *ids, size_t max,
                               size_t *n, struct sg_err *err);

enum sg_rc sg_subject_find(struct sg_vault *v, const struct sg_actor *who, const char *category,
                           const char *value, size_t len, struct sg_uuid *ids, size_t max,
                           size_t *n, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_view w;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    const struct sg_category *cat = category ? sg_catalog_find(v->catalog, category) : NULL;
    if (!cat)
        return sg_err_set(err, SG_INVALID, "unknown category '%.64s'", category ? category : "");
    if (!cat->indexed)
        return sg_err_set(err, SG_INVALID, "category '%s' is not indexed for look-up", cat->id);
    if ((rc = sg_view_open(v, who, "subject.find", &w, err)))
        return rc;
    /* A look-up answers whether a value is on file: only for a role that
     * may see the value. */
    if (!sg_view_sees(&w, cat) ||
        (cat->group_only && w.role && w.role->group_content == SG_GROUP_NONE)) {
        sg_err_set(err, SG_DENIED, "role '%s' may not see category '%s', so not look it up",
                   who->role, cat->id);
        sg_view_close(&w);
        return sg_view_deny(v, who, "subject.find", NULL, err);
    }
    rc = find_in_view(v, who, &w, cat, value, len, ids, max, n, err);
    sg_view_close(&w);
    return rc;
}

static enum sg_rc find_in_view(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_view *w, const struct sg_category *cat,
                               const char *value, size_t len, struct sg_uuid *ids, size_t max,
                               size_t *n, struct sg_err *err)
{
    enum sg_rc rc;
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

    /* Through a role that sees only some people, every match is examined
     * (up to FIND_SCAN_MAX), so that the count is of those it sees. */
    struct sg_uuid *all = NULL;
    if ((w->role || w->only_self) && !(all = malloc(FIND_SCAN_MAX * sizeof *all)))
        return sg_err_set(err, SG_NOMEM, "out of memory");
    struct find_ctx c = {all ? all : ids, all ? FIND_SCAN_MAX : max, 0};
    struct sg_opmark mark;
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err))) {
        free(all);
        return rc;
    }
    rc = s->ops->index_find(s, sg_vault_code(v, cat), bidx, found_id, &c, err);
    if (!rc && all) {
        size_t kept = 0;
        rc = find_filter(v, w, &c, &kept, err);
        sg_vault_forget_key(v);
        if (kept && max)
            memcpy(ids, all, (kept < max ? kept : max) * sizeof *ids);
        c.n = kept;
    }
    free(all);
    /* One audit entry per person found, so that each person's access
     * history shows the look-up; one without a subject when none matched. */
    if (!rc && c.n == 0)
        rc = sg_audit_record_details(&v->audit, s, who, now, "subject.find", NULL, "none", 1,
                                     cat->id, strlen(cat->id), err);
    for (size_t i = 0; !rc && i < c.n && i < max; i++)
        rc = sg_audit_record_details(&v->audit, s, who, now, "subject.find", &ids[i], "ok", 1,
                                     cat->id, strlen(cat->id), err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc)
        *n = c.n;
    return rc;
}

/* ------------------------------------------------------------ rectification */

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
                              "reason must be one line without control characters");
    return SG_OK;
}

/* Whether the sealed old value opens to exactly the new stored form. */
static enum sg_rc same_value(struct sg_vault *v, const struct sg_uuid *id, const char *cat,
                             const struct sg_rec_entry *old, const struct ready *r, int *same,
                             struct sg_err *err)
{
    char *prev = NULL;
    size_t plen = 0;
    enum sg_rc rc =
        sg_vault_open_value(v, id, old->kv, cat, old->sealed, old->sealed_len, &prev, &plen, err);
    if (rc)
        return rc;
    *same = plen == r->stored.len && memcmp(prev, r->stored.ptr, plen) == 0;
    sodium_memzero(prev, plen);
    free(prev);
    return SG_OK;
}

/* Records one change in the history: the old value (still sealed) and the
 * reason, sealed under the person's key too. */
static enum sg_rc keep_history(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_uuid *id, uint32_t kv, const char *cat,
                               const struct sg_rec_entry *old, const char *reason, sg_time now,
                               struct sg_err *err)
{
    size_t rlen = strlen(reason);
    uint8_t *rs = malloc(rlen + SG_SEAL_OVERHEAD);
    if (!rs)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    /* NEEDSWORK: a subject has one data key for life (version 1); when
     * per-subject re-keying comes, history must re-seal old values with it. */
    sg_seal(&v->nonce, v->dek, id, kv, HISTORY_REASON_FIELD, reason, rlen, rs);
    struct sg_store_history h = {
        .category = cat,
        .old_sealed = old ? old->sealed : NULL,
        .old_len = old ? old->sealed_len : 0,
        .dek_version = kv,
        .reason_sealed = rs,
        .reason_len = rlen + SG_SEAL_OVERHEAD,
        .actor = who->id,
        .at = now,
    };
    enum sg_rc rc = v->store->ops->history_append(v->store, id, &h, err);
    free(rs);
    return rc;
}

/* Merges the new values into the loaded record: history first, then the
 * blind index, then the record itself. `*changed` counts real changes. */
static enum sg_rc rectify(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                          const struct sg_store_subject *row, struct ready *r, size_t nr,
                          const char *reason, sg_time now, size_t *changed, struct sg_err *err)
{
    struct sg_store *s = v->store;
    struct sg_rec_entry *old = malloc(SG_RECORD_MAX_ENTRIES * sizeof *old);
    struct sg_rec_entry *merged = malloc((SG_RECORD_MAX_ENTRIES + nr) * sizeof *merged);
    struct sg_rec_entry *fresh = calloc(nr ? nr : 1, sizeof *fresh);
    uint8_t *sealed = NULL;
    size_t nold = 0, nm = 0, i = 0, j = 0;
    enum sg_rc rc = SG_OK;
    *changed = 0;
    if (!old || !merged || !fresh) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    /* Verified before anything is re-tagged: an update must never launder a
     * record someone tampered with. */
    if ((rc = parse_loaded(v, id, 1, old, &nold, err)) ||
        (rc = seal_all(v, id, row->dek_version, r, nr, now, fresh, &sealed, err)))
        goto out;
    /* Both lists are sorted by code: merge them. */
    while (i < nold || j < nr) {
        if (j == nr || (i < nold && old[i].code < fresh[j].code)) {
            merged[nm++] = old[i++];
            continue;
        }
        const struct sg_rec_entry *prev =
            (i < nold && old[i].code == fresh[j].code) ? &old[i++] : NULL;
        int same = 0;
        if (prev && (rc = same_value(v, id, r[j].cat->id, prev, &r[j], &same, err)))
            goto out;
        if (same) {
            merged[nm++] = *prev;
            j++;
            continue;
        }
        if ((rc = keep_history(v, who, id, row->dek_version, r[j].cat->id, prev, reason, now, err)))
            goto out;
        if (prev && prev->bidx && (rc = s->ops->index_del(s, prev->code, prev->bidx, id, err)))
            goto out;
        if (fresh[j].bidx && (rc = s->ops->index_put(s, fresh[j].code, fresh[j].bidx, id, err)))
            goto out;
        merged[nm++] = fresh[j++];
        (*changed)++;
    }
    if (*changed) {
        if ((rc = sg_record_encode(merged, nm, v->rkey, id, &v->rec2, err)))
            goto out;
        rc = s->ops->subject_put_record(s, id, (const uint8_t *)v->rec2.ptr, v->rec2.len, now, err);
    }
out:
    free(old);
    free(merged);
    free(fresh);
    free(sealed);
    return rc;
}

/* The audit entry of a rectification: the reason (which may name the person)
 * is sealed under the person's key: u32be(key version) | sealed reason. */
static enum sg_rc audit_change(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_uuid *id, uint32_t kv, const char *reason,
                               sg_time now, size_t count, struct sg_err *err)
{
    size_t rlen = strlen(reason);
    uint8_t *d = malloc(4 + rlen + SG_SEAL_OVERHEAD);
    if (!d)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    d[0] = (uint8_t)(kv >> 24);
    d[1] = (uint8_t)(kv >> 16);
    d[2] = (uint8_t)(kv >> 8);
    d[3] = (uint8_t)kv;
    sg_seal(&v->nonce, v->dek, id, kv, SG_AUDIT_DETAILS_FIELD, reason, rlen, d + 4);
    enum sg_rc rc =
        sg_audit_record_details(&v->audit, v->store, who, now, "subject.update", id,
                                count ? "ok" : "unchanged", 2, d, 4 + rlen + SG_SEAL_OVERHEAD, err);
    free(d);
    return rc;
}

enum sg_rc sg_subject_update(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const struct sg_field_in *fields,
                             size_t nfields, const char *reason, size_t *changed,
                             struct sg_err *err)
{
    enum sg_rc rc;
    struct ready *r = NULL;
    struct sg_view w = {0};
    enum sg_verdict verdict = SG_SEES;
    int denied = 0;
    if ((rc = sg_actor_check(who, err)) || (rc = check_reason(reason, err)))
        return rc;
    if (nfields == 0)
        return sg_err_set(err, SG_INVALID, "nothing to change");
    if ((rc = prepare(v, fields, nfields, &r, err)))
        return rc;
    struct sg_opmark mark;
    size_t count = 0;
    struct sg_store_subject row;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_view_open(v, who, "subject.update", &w, err)))
        goto out;
    if ((rc = sg_view_may_write(v, &w, id, 0, err)) ||
        (rc = check_write_fields(&w, r, nfields, 0, err))) {
        denied = 1;
        goto out;
    }
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = sg_vault_load_subject(v, id, &row, 1, err);
    if (!rc && !(rc = sg_view_row(v, &w, id, &row, 1, &verdict, err)) && verdict != SG_SEES)
        rc = SG_DENIED;
    if (!rc)
        rc = rectify(v, who, id, &row, r, nfields, reason, now, &count, err);
    if (!rc && count)
        rc = after_write(v, who, id, r, nfields, 0, now, err);
    if (!rc)
        rc = audit_change(v, who, id, row.dek_version, reason, now, count, err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && changed)
        *changed = count;
out:
    sg_vault_forget_key(v);
    ready_free(r, nfields);
    if (denied)
        rc = sg_view_deny(v, who, "subject.update", id, err);
    else if (rc == SG_DENIED && verdict != SG_SEES)
        rc = refuse(v, who, &w, "subject.update", id, verdict, err);
    sg_view_close(&w);
    return rc;
}

/* ------------------------------------------------------------- events, list */

/* A change to a person that is not a field: checks the view (may write,
 * sees the person), runs `op` in the operation's transaction, audits. */
static enum sg_rc change_row(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *action,
                             enum sg_rc (*op)(struct sg_vault *v, const struct sg_uuid *id,
                                              const struct sg_store_subject *row, void *arg,
                                              struct sg_err *err),
                             void *arg, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_view w;
    enum sg_verdict verdict = SG_SEES;
    if ((rc = sg_view_open(v, who, action, &w, err)))
        return rc;
    if ((rc = sg_view_may_write(v, &w, id, 0, err))) {
        sg_view_close(&w);
        return sg_view_deny(v, who, action, id, err);
    }
    struct sg_opmark mark;
    struct sg_store_subject row;
    sg_time now = sg_clock_now(v->clock);
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_view_close(&w);
        return rc;
    }
    rc = sg_vault_load_subject(v, id, &row, 0, err);
    if (!rc && !(rc = sg_view_row(v, &w, id, &row, 0, &verdict, err)) && verdict != SG_SEES)
        rc = SG_DENIED;
    if (!rc)
        rc = op(v, id, &row, arg, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, v->store, who, now, action, id, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    sg_vault_forget_key(v);
    if (rc == SG_DENIED && verdict != SG_SEES)
        rc = refuse(v, who, &w, action, id, verdict, err);
    sg_view_close(&w);
    return rc;
}

struct touch_arg {
    const char *name;
    sg_time at;
};

static enum sg_rc touch_op(struct sg_vault *v, const struct sg_uuid *id,
                           const struct sg_store_subject *row, void *arg, struct sg_err *err)
{
    const struct touch_arg *t = arg;
    if (row->state == SG_STATE_ANONYMISED)
        return sg_err_set(err, SG_CONFLICT, "subject is anonymised");
    enum sg_rc rc = v->store->ops->event_put(v->store, id, t->name, t->at, err);
    /* Signing in again brings back a profile hidden for inactivity, where
     * the policy's hiding rule says so (eTwinning). */
    if (!rc && row->state == SG_STATE_HIDDEN && strcmp(t->name, "last_login") == 0 && v->policy)
        for (size_t i = 0; i < v->policy->nretention; i++) {
            const struct sg_retention *r = &v->policy->retention[i];
            if (r->action == SG_ACT_HIDE && r->reactivate && strcmp(r->anchor, "last_login") == 0)
                return v->store->ops->subject_set_state(v->store, id, SG_STATE_ACTIVE, t->at, err);
        }
    return rc;
}

/* Group ids: 1-128 bytes of letters, digits and "._:-". */
static enum sg_rc check_group(const char *g, struct sg_err *err)
{
    size_t n = g ? strlen(g) : 0;
    int ok = n >= 1 && n <= 128;
    for (size_t i = 0; ok && i < n; i++) {
        char c = g[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == ':' || c == '-';
    }
    return ok ? SG_OK
              : sg_err_set(err, SG_INVALID,
                           "a group id is 1 to 128 letters, digits and '.', '_', ':', '-'");
}

static enum sg_rc join_op(struct sg_vault *v, const struct sg_uuid *id,
                          const struct sg_store_subject *row, void *arg, struct sg_err *err)
{
    if (row->state == SG_STATE_ANONYMISED)
        return sg_err_set(err, SG_CONFLICT, "subject is anonymised");
    return v->store->ops->member_put(v->store, id, arg, sg_clock_now(v->clock), err);
}

static enum sg_rc leave_op(struct sg_vault *v, const struct sg_uuid *id,
                           const struct sg_store_subject *row, void *arg, struct sg_err *err)
{
    (void)row;
    return v->store->ops->member_del(v->store, id, arg, err);
}

enum sg_rc sg_subject_join(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                           const char *group, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)) || (rc = check_group(group, err)))
        return rc;
    return change_row(v, who, id, "subject.join", join_op, (void *)group, err);
}

enum sg_rc sg_subject_leave(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *group, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)) || (rc = check_group(group, err)))
        return rc;
    return change_row(v, who, id, "subject.leave", leave_op, (void *)group, err);
}

enum sg_rc sg_subject_touch(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *name, sg_time at,
                            struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)) || (rc = check_event(name, err)))
        return rc;
    if (strcmp(name, CREATED_EVENT) == 0)
        return sg_err_set(err, SG_INVALID, "the 'created' event is fixed when a person is added");
    return change_row(v, who, id, "subject.touch", touch_op, (void *)&(struct touch_arg){name, at},
                      err);
}

/* A listing through a role that sees only some people examines at most
 * this many times `limit` people per call. */
#define LIST_SCAN_FACTOR 10

struct list_ctx {
    struct sg_subject_row *rows;
    size_t n;
    int stop;
};

static int list_row(void *ctx, const struct sg_store_subject *s)
{
    struct list_ctx *c = ctx;
    struct sg_subject_row row = {s->id, s->state, s->created, s->changed};
    c->rows[c->n++] = row;
    return 0;
}

enum sg_rc sg_subject_list(struct sg_vault *v, const struct sg_actor *who,
                           const struct sg_uuid *after, size_t limit,
                           int (*cb)(void *ctx, const struct sg_subject_row *row), void *ctx,
                           struct sg_uuid *next, int *more, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_view w;
    if (more)
        *more = 0;
    if (limit == 0)
        return sg_err_set(err, SG_INVALID, "a listing needs a limit of at least 1");
    if (limit > 100000)
        return sg_err_set(err, SG_TOOBIG, "at most 100000 people per listing");
    if ((rc = sg_view_open(v, who, "subject.list", &w, err)))
        return rc;
    struct sg_opmark mark;
    struct sg_store *s = v->store;
    struct list_ctx c = {malloc(limit * sizeof *c.rows), 0, 0};
    struct sg_uuid cursor = after ? *after : (struct sg_uuid){{0}};
    int has_cursor = after != NULL, full = 0, stopped = 0;
    size_t emitted = 0, scanned = 0;
    if (!c.rows) {
        sg_view_close(&w);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    /* Pages of the store, filtered through the view, until `limit` rows
     * were handed out, the store ran out, or the scan bound was reached. */
    while (!rc && !stopped && emitted < limit && scanned < LIST_SCAN_FACTOR * limit) {
        c.n = 0;
        if ((rc = s->ops->subject_list(s, has_cursor ? &cursor : NULL, limit, list_row, &c, err)))
            break;
        full = c.n == limit;
        scanned += c.n;
        for (size_t i = 0; i < c.n && !rc; i++) {
            enum sg_verdict verdict = SG_SEES;
            struct sg_store_subject row = {0};
            if ((w.role || w.only_self) && c.rows[i].state != SG_STATE_ERASED) {
                if ((rc = sg_vault_load_subject(v, &c.rows[i].id, &row, 0, err)) ||
                    (rc = sg_view_row(v, &w, &c.rows[i].id, &row, 0, &verdict, err)))
                    break;
            } else if (w.role || w.only_self) {
                verdict = SG_HIDDEN; /* a tombstone is nobody's business but the operator's */
            }
            cursor = c.rows[i].id;
            has_cursor = 1;
            if (verdict != SG_SEES)
                continue;
            emitted++;
            if (cb(ctx, &c.rows[i])) {
                stopped = 1;
                break;
            }
            if (emitted == limit) {
                full = full || i + 1 < c.n;
                break;
            }
        }
        if (!full)
            break;
    }
    sg_vault_forget_key(v);
    if (!rc)
        rc = sg_audit_record(&v->audit, s, who, sg_clock_now(v->clock), "subject.list", NULL, "ok",
                             err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && full && has_cursor && !stopped) {
        if (more)
            *more = 1;
        if (next)
            *next = cursor;
    }
out:
    free(c.rows);
    sg_view_close(&w);
    return rc;
}

/* ------------------------------------------------------------------ erasure */

/* Whether the record can be trusted to list the person's blind-index
 * entries: its tag checks out under the person's own key. */
static int record_trusted(const struct sg_key *kek, uint8_t *scratch, const struct sg_uuid *id,
                          const struct sg_store_subject *row, const struct sg_buf *rec)
{
    if (row->has_dek != 1)
        return 0;
    uint8_t *dek = scratch, *rkey = scratch + SG_KEY_BYTES;
    int ok = sg_dek_unwrap(kek, row->wrapped_dek, SG_WRAPPED_DEK_BYTES, id, row->dek_version, dek,
                           NULL) == SG_OK;
    if (ok) {
        sg_record_key(dek, rkey);
        ok = sg_record_verify((const uint8_t *)rec->ptr, rec->len, rkey, id, NULL) == SG_OK;
    }
    sodium_memzero(scratch, 2 * SG_KEY_BYTES);
    return ok;
}

/* subject_shred, with the blind-index entries listed by the record the
 * caller read (`row`, `rec`) when the backend wants them (store.h) and the
 * record's tag proves the list complete. A tampered or damaged record must
 * not stop an erasure nor leave an entry behind: then, or without a record,
 * every entry of the person is looked for. */
static enum sg_rc shred_loaded(struct sg_store *s, const struct sg_key *kek, uint8_t *scratch,
                               const struct sg_uuid *id, const struct sg_store_subject *row,
                               const struct sg_buf *rec, int state, sg_time at, int once,
                               struct sg_err *err)
{
    struct sg_rec_entry *e = NULL;
    struct sg_store_key *k = NULL;
    size_t n = 0, nk = 0;
    if (!s->ops->shred_by_person && row && rec && record_trusted(kek, scratch, id, row, rec)) {
        e = malloc(SG_RECORD_MAX_ENTRIES * sizeof *e);
        k = malloc(SG_RECORD_MAX_ENTRIES * sizeof *k);
        if (!e || !k) {
            free(e);
            free(k);
            return sg_err_set(err, SG_NOMEM, "out of memory");
        }
        if (sg_record_parse((const uint8_t *)rec->ptr, rec->len, e, SG_RECORD_MAX_ENTRIES, &n,
                            NULL) == SG_OK) {
            for (size_t i = 0; i < n; i++)
                if (e[i].bidx)
                    k[nk++] = (struct sg_store_key){e[i].code, e[i].bidx};
        } else {
            free(k);
            k = NULL;
        }
    }
    enum sg_rc rc = s->ops->subject_shred(s, id, state, at, once, k, nk, err);
    free(k);
    free(e);
    return rc;
}

enum sg_rc sg_shred_subject(struct sg_store *s, const struct sg_key *kek, uint8_t *scratch,
                            const struct sg_uuid *id, int state, sg_time at, struct sg_err *err)
{
    if (s->ops->shred_by_person)
        return s->ops->subject_shred(s, id, state, at, 0, NULL, 0, err);
    struct sg_buf rec;
    struct sg_store_subject row;
    sg_buf_init(&rec, SIZE_MAX / 2);
    enum sg_rc rc = s->ops->subject_get(s, id, &row, &rec, err);
    if (rc == SG_NOTFOUND)
        rc = SG_OK; /* nobody to shred, as subject_shred would say */
    else if (!rc)
        rc = shred_loaded(s, kek, scratch, id, &row, &rec, state, at, 0, err);
    sg_buf_release(&rec);
    return rc;
}

/* After a checked shred found nothing to erase: says why, from the row
 * (SG_NOTFOUND, or SG_CONFLICT for a person already erased). */
static enum sg_rc erase_refused(struct sg_vault *v, const struct sg_uuid *id, struct sg_err *err)
{
    char ids[SG_UUID_STR_LEN + 1];
    struct sg_store_subject row;
    struct sg_opmark mark;
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    rc = v->store->ops->subject_get(v->store, id, &row, NULL, err);
    rc = sg_op_end(v, mark, rc, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_NOTFOUND, "subject %s not found", sg_uuid_format(id, ids));
    if (!rc && row.state == SG_STATE_ERASED)
        return sg_err_set(err, SG_CONFLICT, "subject %s is already erased",
                          sg_uuid_format(id, ids));
    if (!rc) /* changed in between: the caller may try again */
        return sg_err_set(err, SG_CONFLICT, "subject %s changed during its erasure",
                          sg_uuid_format(id, ids));
    return rc;
}

enum sg_rc sg_subject_erase(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_err own;
    if (!err)
        err = &own; /* its message tells the shred's "nobody" from the rest */
    struct sg_view w;
    enum sg_verdict verdict = SG_SEES;
    if ((rc = sg_view_open(v, who, "subject.erase", &w, err)))
        return rc;
    if ((rc = sg_view_may_write(v, &w, id, 1, err))) {
        sg_view_close(&w);
        return sg_view_deny(v, who, "subject.erase", id, err);
    }
    struct sg_opmark mark;
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock);
    char ids[SG_UUID_STR_LEN + 1];
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_view_close(&w);
        return rc;
    }
    /* A role that sees some rows only, or a person at their own record,
     * needs the row to know whether it may, and a backend that does not
     * find blind-index entries by person needs the record that lists them.
     * Else the erasure reads nothing: the shred itself finds out whether
     * there is someone to erase (on PostgreSQL, with the answers of the
     * operation's end, one round trip for the whole). */
    int looked = w.role || w.only_self || !s->ops->shred_by_person;
    struct sg_store_subject row;
    struct sg_buf rec;
    sg_buf_init(&rec, SIZE_MAX / 2);
    if (looked) {
        rc = s->ops->subject_get(s, id, &row, s->ops->shred_by_person ? NULL : &rec, err);
        if (rc == SG_NOTFOUND)
            rc = sg_err_set(err, SG_NOTFOUND, "subject %s not found", sg_uuid_format(id, ids));
        else if (!rc && row.state == SG_STATE_ERASED)
            rc = sg_err_set(err, SG_CONFLICT, "subject %s is already erased",
                            sg_uuid_format(id, ids));
        if (!rc && !(rc = sg_view_row(v, &w, id, &row, 0, &verdict, err)) && verdict != SG_SEES)
            rc = SG_DENIED;
    }
    sg_vault_forget_key(v);
    if (!rc)
        rc = shred_loaded(s, v->kek, v->scratch, id, looked ? &row : NULL, looked ? &rec : NULL,
                          SG_STATE_ERASED, now, 1, err);
    sg_buf_release(&rec);
    if (!rc)
        rc = sg_op_journal(v, 'E', id, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, s, who, now, "subject.erase", id, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    if (rc == SG_NOTFOUND && !looked && strstr(err->msg, SG_STORE_NOBODY))
        rc = erase_refused(v, id, err);
    if (rc == SG_DENIED && verdict != SG_SEES)
        rc = refuse(v, who, &w, "subject.erase", id, verdict, err);
    sg_view_close(&w);
    return rc;
}

enum sg_rc sg_vault_drop_fields(struct sg_vault *v, const struct sg_uuid *id,
                                int (*drop)(void *ctx, const char *category, sg_time changed),
                                void *ctx, sg_time now, size_t *removed, struct sg_err *err)
{
    struct sg_store *s = v->store;
    struct sg_rec_entry *e = malloc(SG_RECORD_MAX_ENTRIES * sizeof *e);
    size_t n = 0, kept = 0;
    *removed = 0;
    if (!e)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    enum sg_rc rc = parse_loaded(v, id, 1, e, &n, err);
    for (size_t i = 0; i < n && !rc; i++) {
        const char *cid = sg_vault_code_id(v, e[i].code);
        if (!cid || !drop(ctx, cid, e[i].changed)) {
            e[kept++] = e[i];
            continue;
        }
        if (e[i].bidx)
            rc = s->ops->index_del(s, e[i].code, e[i].bidx, id, err);
        if (!rc)
            rc = s->ops->history_del_category(s, id, cid, err);
        (*removed)++;
    }
    if (!rc && *removed && !(rc = sg_record_encode(e, kept, v->rkey, id, &v->rec2, err)))
        rc = s->ops->subject_put_record(s, id, (const uint8_t *)v->rec2.ptr, v->rec2.len, now, err);
    free(e);
    return rc;
}
