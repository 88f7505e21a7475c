/*
 * consent.c - the consent ledger, objections and restriction.
 *
 * Every change appends to the ledger and rewrites the one row per person
 * and purpose that decisions read (decide.c), in the same transaction, with
 * an audit entry. The transitions of that row live in apply_event() alone:
 * recording an event and replaying linked events both go through it.
 */
#include "consent_int.h"
#include "sargs/text.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVIDENCE_MAX 512
#define AGENT_MAX    128
#define GROUNDS_MAX  1000
#define ADULT_AGE    18

static const char *const state_names[] = {"none",      "requested", "given",  "refused",
                                          "withdrawn", "expired",   "renewed"};
static const char *const state_dpv[] = {
    "dpv:ConsentUnknown",   "dpv:ConsentRequested", "dpv:ConsentGiven",        "dpv:ConsentRefused",
    "dpv:ConsentWithdrawn", "dpv:ConsentExpired",   "dpv:RenewedConsentGiven",
};
static const char *const method_names[] = {"",      "web_form",  "paper", "email",
                                           "phone", "in_person", "api"};

const char *sg_consent_state_name(enum sg_consent_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names ? state_names[s] : "?";
}

const char *sg_consent_state_dpv(enum sg_consent_state s)
{
    return (unsigned)s < sizeof state_dpv / sizeof *state_dpv ? state_dpv[s] : "?";
}

const char *sg_consent_method_name(enum sg_consent_method m)
{
    return m >= SG_METHOD_WEB_FORM && m <= SG_METHOD_API ? method_names[m] : "?";
}

enum sg_consent_method sg_consent_method_parse(const char *s)
{
    for (int m = SG_METHOD_WEB_FORM; s && m <= SG_METHOD_API; m++)
        if (strcmp(s, method_names[m]) == 0)
            return (enum sg_consent_method)m;
    return 0;
}

int sg_age_at(const char *date, size_t len, sg_time now)
{
    int y, m, d;
    char buf[11];
    if (len != 10)
        return -1;
    memcpy(buf, date, 10);
    buf[10] = '\0';
    if (sscanf(buf, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
        d > sg_days_in_month(y, m))
        return -1;
    int64_t days = now / SG_USEC_PER_DAY - (now % SG_USEC_PER_DAY < 0);
    int ny, nm, nd;
    sg_civil_from_days(days, &ny, &nm, &nd);
    int age = ny - y - ((nm < m || (nm == m && nd < d)) ? 1 : 0);
    return age < 0 ? -1 : age;
}

/* One line of UTF-8 without control characters, at most `max` bytes. */
static int line_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || !sg_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* A consent that counts as given right now (not refused, withdrawn or past
 * its expiry). */
static int in_force(const struct sg_store_pstate *ps, sg_time now)
{
    return (ps->consent == SG_CONSENT_GIVEN || ps->consent == SG_CONSENT_RENEWED) &&
           !(ps->expires && now >= ps->expires);
}

/*
 * The one place where an event changes a person-and-purpose row. `child`
 * and `by` are the event's; `expires` the expiry the policy gives a consent
 * given now. Returns SG_CONFLICT (with the message) for a withdrawal of a
 * consent never given.
 */
static enum sg_rc apply_event(struct sg_store_pstate *ps, const char *purpose, int state, int by,
                              int child, sg_time at, sg_time expires, struct sg_err *err)
{
    unsigned keep = ps->flags & (SG_PS_OBJECTED | SG_PS_GROUNDS | SG_PS_MINOR);
    switch (state) {
    case SG_CONSENT_GIVEN: {
        int renew = in_force(ps, at);
        unsigned f = keep;
        if (child || by == SG_BY_GUARDIAN)
            f |= SG_PS_CHILD;
        /* A guardian's consent completes a child's; a child renewing keeps
         * the guardian's in force. */
        if (by == SG_BY_GUARDIAN || (renew && (ps->flags & SG_PS_GUARDIAN)))
            f |= SG_PS_GUARDIAN;
        if (renew && (ps->flags & SG_PS_CHILD))
            f |= SG_PS_CHILD;
        ps->consent = renew ? SG_CONSENT_RENEWED : SG_CONSENT_GIVEN;
        ps->flags = f;
        ps->since = at;
        ps->expires = expires;
        return SG_OK;
    }
    case SG_CONSENT_REFUSED:
        ps->consent = SG_CONSENT_REFUSED;
        ps->flags = keep;
        ps->since = at;
        ps->expires = 0;
        return SG_OK;
    case SG_CONSENT_WITHDRAWN:
        if (ps->consent != SG_CONSENT_GIVEN && ps->consent != SG_CONSENT_RENEWED)
            return sg_err_set(err, SG_CONFLICT, "there is no consent to '%s' to withdraw (%s)",
                              purpose,
                              ps->consent == SG_CONSENT_NONE ? "none was ever given"
                                                             : sg_consent_state_name(ps->consent));
        ps->consent = SG_CONSENT_WITHDRAWN;
        ps->flags = keep;
        ps->since = at;
        ps->expires = 0;
        return SG_OK;
    case SG_CONSENT_REQUESTED:
        /* Asking again does not undo a consent in force. */
        if (!in_force(ps, at)) {
            ps->consent = SG_CONSENT_REQUESTED;
            ps->flags = keep;
            ps->since = at;
            ps->expires = 0;
        }
        return SG_OK;
    default:
        return sg_err_set(err, SG_INVALID, "not a consent event");
    }
}

/* ------------------------------------------------------------ sealing */

/* The key of details recorded before the person exists: derived from the
 * index key, which never rotates, and bound to the value's blind index. */
static void pending_key(const struct sg_vault *v, uint8_t out[SG_KEY_BYTES])
{
    crypto_kdf_derive_from_key(out, SG_KEY_BYTES, 2, "sgpendng", v->index_key->k);
}

static struct sg_uuid bidx_as_id(const uint8_t bidx[SG_BIDX_BYTES])
{
    struct sg_uuid u;
    memcpy(u.b, bidx, 16);
    return u;
}

/* details = evidence "\n" agent, either may be empty. */
static enum sg_rc seal_details(struct sg_vault *v, const uint8_t *key, const struct sg_uuid *bind,
                               uint32_t kv, const char *evidence, const char *agent, uint8_t **out,
                               size_t *len, struct sg_err *err)
{
    *out = NULL;
    *len = 0;
    if (!evidence && !agent)
        return SG_OK;
    size_t el = evidence ? strlen(evidence) : 0, al = agent ? strlen(agent) : 0;
    size_t n = el + 1 + al;
    char *pt = malloc(n);
    uint8_t *ct = malloc(n + SG_SEAL_OVERHEAD);
    if (!pt || !ct) {
        free(pt);
        free(ct);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    if (el)
        memcpy(pt, evidence, el);
    pt[el] = '\n';
    if (al)
        memcpy(pt + el + 1, agent, al);
    sg_seal(&v->nonce, key, bind, kv, SG_CONSENT_DETAILS_FIELD, pt, n, ct);
    sodium_memzero(pt, n);
    free(pt);
    *out = ct;
    *len = n + SG_SEAL_OVERHEAD;
    return SG_OK;
}

/* Opens details into evidence and agent (NUL-terminated, in `buf`, which
 * the caller wipes and frees); NULL for an absent part. */
static enum sg_rc open_details(const uint8_t *key, const struct sg_uuid *bind, uint32_t kv,
                               const uint8_t *ct, size_t len, char **buf, const char **evidence,
                               const char **agent, struct sg_err *err)
{
    *buf = NULL;
    *evidence = *agent = NULL;
    if (!ct || !len)
        return SG_OK;
    if (len < SG_SEAL_OVERHEAD)
        return sg_err_set(err, SG_CRYPTO, "consent details are truncated");
    char *p = malloc(len - SG_SEAL_OVERHEAD + 1);
    size_t n = 0;
    if (!p)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    if (sg_open(key, bind, kv, SG_CONSENT_DETAILS_FIELD, ct, len, p, &n, NULL) != SG_OK) {
        free(p);
        return sg_err_set(err, SG_CRYPTO, "consent details failed authentication");
    }
    p[n] = '\0';
    char *nl = memchr(p, '\n', n);
    if (!nl) {
        sodium_memzero(p, n);
        free(p);
        return sg_err_set(err, SG_CRYPTO, "consent details are malformed");
    }
    *nl = '\0';
    *evidence = *p ? p : NULL;
    *agent = nl[1] ? nl + 1 : NULL;
    *buf = p;
    return SG_OK;
}

static void wipe_free(char *p)
{
    if (p) {
        sodium_memzero(p, strlen(p));
        free(p);
    }
}

/* --------------------------------------------------------------- checks */

static enum sg_rc consent_purpose(struct sg_vault *v, const char *id, const struct sg_purpose **out,
                                  struct sg_err *err)
{
    const struct sg_purpose *p = v->policy && id ? sg_policy_purpose(v->policy, id) : NULL;
    if (!p)
        return sg_err_set(err, SG_INVALID, "'%.64s' is not a purpose of the policy in force",
                          id ? id : "");
    if (p->basis != SG_BASIS_CONSENT)
        return sg_err_set(err, SG_INVALID,
                          "purpose '%s' rests on %s, not on consent: there is no consent to record",
                          p->id, sg_basis_name(p->basis));
    *out = p;
    return SG_OK;
}

static enum sg_rc check_input(struct sg_vault *v, enum sg_consent_state state,
                              const struct sg_consent_in *in, const char **lang, struct sg_err *err)
{
    if (state != SG_CONSENT_GIVEN && state != SG_CONSENT_REFUSED && state != SG_CONSENT_WITHDRAWN &&
        state != SG_CONSENT_REQUESTED)
        return sg_err_set(err, SG_INVALID, "a consent is given, refused, withdrawn or requested");
    if (!in || !sg_consent_method_parse(sg_consent_method_name(in->method)))
        return sg_err_set(err, SG_INVALID,
                          "a consent needs its method: web_form, paper, email, phone, in_person "
                          "or api");
    *lang = in->lang ? in->lang : v->policy->languages[0];
    if (!sg_policy_has_language(v->policy, *lang))
        return sg_err_set(err, SG_INVALID, "'%.16s' is not a language of the policy", *lang);
    if (in->evidence && !line_ok(in->evidence, EVIDENCE_MAX))
        return sg_err_set(err, SG_INVALID, "evidence is one line of UTF-8 of at most %d bytes",
                          EVIDENCE_MAX);
    if (in->agent && !line_ok(in->agent, AGENT_MAX))
        return sg_err_set(err, SG_INVALID, "an agent is named in one line of at most %d bytes",
                          AGENT_MAX);
    if (in->agent && in->guardian)
        return sg_err_set(err, SG_INVALID,
                          "a consent is given by a guardian or an agent, not both");
    if (in->birth_date &&
        sg_age_at(in->birth_date, strlen(in->birth_date), sg_clock_now(v->clock)) < 0)
        return sg_err_set(err, SG_INVALID, "a birth date is YYYY-MM-DD and not in the future");
    return SG_OK;
}

/* The policy's date-of-birth category, or NULL when it keeps none. */
static const struct sg_category *birth_category(const struct sg_vault *v)
{
    const struct sg_category *c = sg_catalog_find(v->catalog, SG_BIRTH_DATE_CATEGORY);
    return c && c->type == SG_VT_DATE ? c : NULL;
}

/* Age of the person whose record is loaded (v->rec, v->dek): -1 unknown. */
static enum sg_rc loaded_age(struct sg_vault *v, const struct sg_uuid *id, sg_time now, int *age,
                             struct sg_err *err)
{
    *age = -1;
    const struct sg_category *c = birth_category(v);
    if (!c)
        return SG_OK;
    char *val = NULL;
    size_t len = 0;
    enum sg_rc rc = sg_vault_loaded_field(v, id, c, &val, &len, err);
    if (rc == SG_NOTFOUND)
        return SG_OK;
    if (rc)
        return rc;
    *age = sg_age_at(val, len, now);
    sodium_memzero(val, len);
    free(val);
    return SG_OK;
}

/* A guardian is a person on file, shown an adult by their date of birth. */
static enum sg_rc check_guardian(struct sg_vault *v, const struct sg_uuid *g,
                                 const struct sg_uuid *id, sg_time now, struct sg_err *err)
{
    char ids[SG_UUID_STR_LEN + 1];
    if (id && sg_uuid_equal(g, id))
        return sg_err_set(err, SG_INVALID, "a person is not their own guardian");
    struct sg_store_subject row;
    int age = -1;
    enum sg_rc rc = sg_vault_load_subject(v, g, &row, 1, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_NOTFOUND, "guardian %s not found", sg_uuid_format(g, ids));
    if (!rc)
        rc = loaded_age(v, g, now, &age, err);
    sg_vault_forget_key(v);
    if (rc)
        return rc;
    if (age < 0)
        return sg_err_set(
            err, SG_INVALID,
            "guardian %s has no date of birth on file, so is not shown to be an adult",
            sg_uuid_format(g, ids));
    if (age < ADULT_AGE)
        return sg_err_set(err, SG_INVALID, "guardian %s is not an adult", sg_uuid_format(g, ids));
    return SG_OK;
}

/* ------------------------------------------------------------- recording */

struct found {
    struct sg_uuid id;
    size_t n;
};

static int found_one(void *ctx, const struct sg_uuid *id)
{
    struct found *f = ctx;
    if (!f->n)
        f->id = *id;
    return ++f->n > 1;
}

struct last_ctx {
    const char *purpose;
    struct sg_store_pstate ps;
    enum sg_rc rc;
    struct sg_err *err;
};

/* Replays pending events of one purpose into c->ps. */
static int replay_one(void *ctx, const struct sg_store_consent *e)
{
    struct last_ctx *c = ctx;
    if (strcmp(e->purpose, c->purpose) != 0)
        return 0;
    struct sg_err ignore;
    /* Recorded events were valid when recorded. */
    (void)apply_event(&c->ps, e->purpose, e->state, e->by, e->child, e->at, e->expires, &ignore);
    return 0;
}

enum sg_rc sg_consent_record(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_consent_subject *subject, const char *purpose_id,
                             enum sg_consent_state state, const struct sg_consent_in *in,
                             struct sg_err *err)
{
    enum sg_rc rc;
    const struct sg_purpose *p = NULL;
    const char *lang = NULL;
    static const char *const actions[] = {[SG_CONSENT_REQUESTED] = "consent.request",
                                          [SG_CONSENT_GIVEN] = "consent.give",
                                          [SG_CONSENT_REFUSED] = "consent.refuse",
                                          [SG_CONSENT_WITHDRAWN] = "consent.withdraw"};
    if ((rc = sg_actor_check(who, err)) || (rc = consent_purpose(v, purpose_id, &p, err)) ||
        (rc = check_input(v, state, in, &lang, err)))
        return rc;
    const char *action = actions[state];
    if (!subject || (!subject->id && (!subject->category || !subject->value)))
        return sg_err_set(err, SG_INVALID, "a consent needs a person: an id or an indexed value");

    /* Before the person exists: a blind-indexed value. */
    const struct sg_category *cat = NULL;
    uint8_t bidx[SG_BIDX_BYTES];
    if (!subject->id) {
        cat = sg_catalog_find(v->catalog, subject->category);
        if (!cat || !cat->indexed)
            return sg_err_set(err, SG_INVALID,
                              "a consent before an account is recorded against an indexed "
                              "category (e-mail, phone), not '%.64s'",
                              subject->category);
        struct sg_buf ix;
        sg_buf_init(&ix, v->catalog->max_value + 64);
        rc = sg_value_index_form(v->catalog, cat, subject->value, strlen(subject->value), &ix, err);
        if (!rc)
            sg_bidx(v->index_key, cat->id, ix.ptr, ix.len, bidx);
        sg_buf_release(&ix);
        if (rc)
            return rc;
    }
    struct sg_view w;
    if ((rc = sg_view_open(v, who, action, &w, err)))
        return rc;
    if ((rc = sg_view_may_write(v, &w, subject->id, 0, err))) {
        sg_view_close(&w);
        return sg_view_deny(v, who, action, subject->id, err);
    }

    sg_time now = sg_clock_now(v->clock);
    struct sg_opmark mark;
    struct sg_store *s = v->store;
    struct sg_store_subject row;
    struct sg_store_consent ev;
    struct sg_store_pstate ps = {0};
    struct sg_uuid id = {{0}};
    enum sg_verdict verdict = SG_SEES;
    uint8_t *details = NULL, key[SG_KEY_BYTES];
    size_t dlen = 0;
    int age = -1, denied_minor = 0, has_id = 0;
    memset(&ev, 0, sizeof ev);
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if (in->guardian && (rc = check_guardian(v, in->guardian, subject->id, now, err)))
        goto end;
    if (!subject->id) {
        /* A value that already names exactly one person is that person. */
        struct found fc = {{{0}}, 0};
        if ((rc = s->ops->index_find(s, sg_vault_code(v, cat), bidx, found_one, &fc, err)))
            goto end;
        if (fc.n > 1) {
            rc = sg_err_set(err, SG_CONFLICT,
                            "several people have this %s: record the consent by id", cat->id);
            goto end;
        }
        if (fc.n == 1) {
            id = fc.id;
            has_id = 1;
        }
    } else {
        id = *subject->id;
        has_id = 1;
    }
    if (has_id) {
        if ((rc = sg_vault_load_subject(v, &id, &row, 1, err)) ||
            (rc = sg_view_row(v, &w, &id, &row, 1, &verdict, err)))
            goto end;
        if (verdict != SG_SEES) {
            rc = SG_DENIED;
            goto end;
        }
        if ((rc = loaded_age(v, &id, now, &age, err)))
            goto end;
        rc = s->ops->pstate_get(s, &id, p->id, &ps, err);
        if (rc == SG_NOTFOUND) {
            memset(&ps, 0, sizeof ps);
            rc = SG_OK;
        }
        if (rc)
            goto end;
    } else {
        struct last_ctx lc = {p->id, {0}, SG_OK, err};
        if ((rc = s->ops->consent_pending(s, sg_vault_code(v, cat), bidx, replay_one, &lc, err)))
            goto end;
        ps = lc.ps;
    }
    if (age < 0 && in->birth_date)
        age = sg_age_at(in->birth_date, strlen(in->birth_date), now);
    int child = age >= 0 && p->consent.min_age > 0 && age < p->consent.min_age;
    if (child && p->consent.minors == SG_MINORS_REFUSE && state == SG_CONSENT_GIVEN) {
        rc = sg_err_set(err, SG_DENIED, "purpose '%s' does not accept consent from people under %d",
                        p->id, p->consent.min_age);
        denied_minor = 1;
        goto end;
    }
    int by = in->guardian ? SG_BY_GUARDIAN : in->agent ? SG_BY_AGENT : SG_BY_PERSON;
    sg_time expires = state == SG_CONSENT_GIVEN && p->consent.has_validity
                          ? sg_duration_add(now, &p->consent.validity)
                          : 0;
    if ((rc = apply_event(&ps, p->id, state, by, child, now, expires, err)))
        goto end;

    /* The event, its details sealed under the person's key (or the pending
     * key, bound to the value's index). */
    ev.has_subject = has_id;
    if (has_id) {
        ev.subject = id;
        ev.kv = row.dek_version;
        rc = seal_details(v, v->dek, &id, ev.kv, in->evidence, in->agent, &details, &dlen, err);
    } else {
        struct sg_uuid bind = bidx_as_id(bidx);
        ev.category = sg_vault_code(v, cat);
        memcpy(ev.bidx, bidx, SG_BIDX_BYTES);
        ev.kv = 1;
        pending_key(v, key);
        rc = seal_details(v, key, &bind, ev.kv, in->evidence, in->agent, &details, &dlen, err);
        sodium_memzero(key, sizeof key);
    }
    if (rc)
        goto end;
    ev.purpose = p->id;
    ev.state = state;
    ev.at = now;
    ev.method = in->method;
    ev.lang = lang;
    ev.notice = v->version.hash;
    ev.by = by;
    if (in->guardian) {
        ev.has_guardian = 1;
        ev.guardian = *in->guardian;
    }
    ev.expires = expires;
    ev.child = child;
    ev.actor = who->id;
    ev.details = details;
    ev.details_len = dlen;
    if ((rc = s->ops->consent_append(s, &ev, err)))
        goto end;
    if (has_id && (rc = s->ops->pstate_put(s, &id, p->id, &ps, err)))
        goto end;
    /* Retention rules may count from it (delete what only consent kept). */
    if (has_id && state == SG_CONSENT_WITHDRAWN &&
        (rc = s->ops->event_put(s, &id, "consent_withdrawn", now, err)))
        goto end;
    rc = sg_audit_record_details(&v->audit, s, who, now, action, has_id ? &id : NULL, "ok", 1,
                                 p->id, strlen(p->id), err);
end:
    rc = sg_op_end(v, mark, rc, err);
out:
    sg_vault_forget_key(v);
    free(details);
    if (rc == SG_DENIED && verdict != SG_SEES) {
        char ids[SG_UUID_STR_LEN + 1];
        sg_err_set(err, SG_DENIED, "subject %s is outside the view of role '%s'",
                   sg_uuid_format(&id, ids), who->role);
    }
    if (rc == SG_DENIED && (denied_minor || verdict != SG_SEES))
        rc = sg_view_deny(v, who, action, has_id ? &id : NULL, err);
    sg_view_close(&w);
    return rc;
}

/* --------------------------------------------------------------- listing */

struct list_ctx {
    struct sg_vault *v;
    int (*cb)(void *ctx, const struct sg_consent_event *e);
    void *ctx;
    enum sg_rc rc;
    struct sg_err *err;
};

static int list_one(void *ctx, const struct sg_store_consent *c)
{
    struct list_ctx *l = ctx;
    struct sg_consent_event e;
    char *buf = NULL;
    memset(&e, 0, sizeof e);
    if ((l->rc = open_details(l->v->dek, &c->subject, c->kv, c->details, c->details_len, &buf,
                              &e.evidence, &e.agent, l->err)))
        return 1;
    e.seq = c->seq;
    e.purpose = c->purpose;
    e.state = (enum sg_consent_state)c->state;
    e.at = c->at;
    e.method = (enum sg_consent_method)c->method;
    e.lang = c->lang;
    e.notice = c->notice;
    e.by = (enum sg_consent_by)c->by;
    e.has_guardian = c->has_guardian;
    e.guardian = c->guardian;
    e.expires = c->expires;
    e.child = c->child;
    e.actor = c->actor;
    int stop = l->cb(l->ctx, &e);
    wipe_free(buf);
    return stop;
}

/* Loads the person for a read of their consent data, through the view. */
static enum sg_rc open_for_read(struct sg_vault *v, const struct sg_actor *who,
                                const struct sg_uuid *id, const char *action, struct sg_view *w,
                                enum sg_verdict *verdict, struct sg_err *err)
{
    struct sg_store_subject row;
    enum sg_rc rc = sg_vault_load_subject(v, id, &row, 1, err);
    if (!rc)
        rc = sg_view_row(v, w, id, &row, 1, verdict, err);
    /* Consent records are the person's and the controller's business. */
    if (!rc && *verdict == SG_SEES && !w->wide && !sg_view_is_self(w, id))
        *verdict = SG_OUTSIDE;
    (void)who;
    (void)action;
    return rc;
}

enum sg_rc sg_consent_list(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                           int (*cb)(void *ctx, const struct sg_consent_event *e), void *ctx,
                           struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_view w;
    enum sg_verdict verdict = SG_SEES;
    if ((rc = sg_view_open(v, who, "consent.read", &w, err)))
        return rc;
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_view_close(&w);
        return rc;
    }
    rc = open_for_read(v, who, id, "consent.read", &w, &verdict, err);
    if (!rc && verdict != SG_SEES)
        rc = SG_DENIED;
    struct list_ctx l = {v, cb, ctx, SG_OK, err};
    if (!rc && !(rc = v->store->ops->consent_each(v->store, id, list_one, &l, err)))
        rc = l.rc;
    if (!rc)
        rc = sg_audit_record(&v->audit, v->store, who, sg_clock_now(v->clock), "consent.read", id,
                             "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    sg_vault_forget_key(v);
    if (rc == SG_DENIED && verdict != SG_SEES) {
        char ids[SG_UUID_STR_LEN + 1];
        sg_err_set(err, verdict == SG_HIDDEN ? SG_NOTFOUND : SG_DENIED,
                   verdict == SG_HIDDEN ? "subject %s not found"
                                        : "the consents of subject %s are outside the view of "
                                          "this role",
                   sg_uuid_format(id, ids));
        enum sg_rc d = sg_view_deny(v, who, "consent.read", id, err);
        rc = d == SG_DENIED && verdict == SG_HIDDEN ? SG_NOTFOUND : d;
    }
    sg_view_close(&w);
    return rc;
}

/* ---------------------------------------------------- objection, restriction */

/* A change to the person's rows that is not consent: view, load, `fn`,
 * audit, in one operation. */
static enum sg_rc person_change(struct sg_vault *v, const struct sg_actor *who,
                                const struct sg_uuid *id, const char *action, const char *details,
                                enum sg_rc (*fn)(struct sg_vault *v, const struct sg_uuid *id,
                                                 const struct sg_store_subject *row, void *arg,
                                                 sg_time now, struct sg_err *err),
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
    sg_time now = sg_clock_now(v->clock);
    struct sg_opmark mark;
    struct sg_store_subject row;
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_view_close(&w);
        return rc;
    }
    rc = sg_vault_load_subject(v, id, &row, 1, err);
    if (!rc && !(rc = sg_view_row(v, &w, id, &row, 1, &verdict, err)) && verdict != SG_SEES)
        rc = SG_DENIED;
    if (!rc)
        rc = fn(v, id, &row, arg, now, err);
    if (!rc)
        rc = details ? sg_audit_record_details(&v->audit, v->store, who, now, action, id, "ok", 1,
                                               details, strlen(details), err)
                     : sg_audit_record(&v->audit, v->store, who, now, action, id, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    sg_vault_forget_key(v);
    if (rc == SG_DENIED && verdict != SG_SEES) {
        char ids[SG_UUID_STR_LEN + 1];
        sg_err_set(err, verdict == SG_HIDDEN ? SG_NOTFOUND : SG_DENIED,
                   verdict == SG_HIDDEN ? "subject %s not found"
                                        : "subject %s is outside the view of this role",
                   sg_uuid_format(id, ids));
        enum sg_rc d = sg_view_deny(v, who, action, id, err);
        rc = d == SG_DENIED && verdict == SG_HIDDEN ? SG_NOTFOUND : d;
    }
    sg_view_close(&w);
    return rc;
}

struct object_arg {
    const struct sg_purpose *p;
    const char *grounds;
    int lift;
};

static enum sg_rc object_fn(struct sg_vault *v, const struct sg_uuid *id,
                            const struct sg_store_subject *row, void *arg, sg_time now,
                            struct sg_err *err)
{
    const struct object_arg *a = arg;
    struct sg_store_pstate ps;
    struct sg_store *s = v->store;
    (void)now;
    enum sg_rc rc = s->ops->pstate_get(s, id, a->p->id, &ps, err);
    if (rc == SG_NOTFOUND) {
        memset(&ps, 0, sizeof ps);
        rc = SG_OK;
    }
    if (rc)
        return rc;
    if (a->lift) {
        if (!(ps.flags & SG_PS_OBJECTED))
            return sg_err_set(err, SG_CONFLICT, "there is no objection to '%s' to lift", a->p->id);
        ps.flags &= ~(SG_PS_OBJECTED | SG_PS_GROUNDS);
    } else if (a->grounds) {
        if (!(ps.flags & SG_PS_OBJECTED))
            return sg_err_set(err, SG_CONFLICT,
                              "the person has not objected to '%s': there is nothing to override",
                              a->p->id);
        ps.flags |= SG_PS_GROUNDS;
        /* The grounds go into the history, sealed under the person's key. */
        struct sg_store_history h;
        size_t n = strlen(a->grounds);
        uint8_t *ct = malloc(n + SG_SEAL_OVERHEAD);
        if (!ct)
            return sg_err_set(err, SG_NOMEM, "out of memory");
        sg_seal(&v->nonce, v->dek, id, row->dek_version, SG_OBJECTION_FIELD, a->grounds, n, ct);
        memset(&h, 0, sizeof h);
        h.category = SG_OBJECTION_FIELD;
        h.dek_version = row->dek_version;
        h.reason_sealed = ct;
        h.reason_len = n + SG_SEAL_OVERHEAD;
        h.actor = "controller";
        h.at = now;
        rc = s->ops->history_append(s, id, &h, err);
        free(ct);
        if (rc)
            return rc;
    } else {
        if (ps.flags & SG_PS_OBJECTED)
            return sg_err_set(err, SG_CONFLICT, "the person has already objected to '%s'",
                              a->p->id);
        ps.flags |= SG_PS_OBJECTED;
        ps.flags &= ~SG_PS_GROUNDS;
    }
    return s->ops->pstate_put(s, id, a->p->id, &ps, err);
}

enum sg_rc sg_object(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                     const char *purpose, const char *grounds, int lift, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    const struct sg_purpose *p =
        v->policy && purpose ? sg_policy_purpose(v->policy, purpose) : NULL;
    if (!p)
        return sg_err_set(err, SG_INVALID, "'%.64s' is not a purpose of the policy in force",
                          purpose ? purpose : "");
    if (!p->direct_marketing && p->basis != SG_BASIS_PUBLIC_TASK &&
        p->basis != SG_BASIS_LEGITIMATE_INTEREST)
        return sg_err_set(err, SG_INVALID,
                          "purpose '%s' rests on %s: an objection (Art. 21) applies to public "
                          "task, legitimate interest and direct marketing%s",
                          p->id, sg_basis_name(p->basis),
                          p->basis == SG_BASIS_CONSENT ? "; withdraw the consent instead" : "");
    if (grounds && lift)
        return sg_err_set(err, SG_INVALID, "an objection is lifted or overridden, not both");
    if (grounds && p->direct_marketing)
        return sg_err_set(err, SG_INVALID,
                          "an objection to direct marketing cannot be overridden (Art. 21(3))");
    if (grounds && !line_ok(grounds, GROUNDS_MAX))
        return sg_err_set(err, SG_INVALID, "the grounds are one line of at most %d bytes",
                          GROUNDS_MAX);
    struct object_arg a = {p, grounds, lift};
    return person_change(v, who, id,
                         lift      ? "objection.lift"
                         : grounds ? "objection.override"
                                   : "objection.record",
                         p->id, object_fn, &a, err);
}

static enum sg_rc restrict_fn(struct sg_vault *v, const struct sg_uuid *id,
                              const struct sg_store_subject *row, void *arg, sg_time now,
                              struct sg_err *err)
{
    int lift = *(int *)arg;
    int from = lift ? SG_STATE_RESTRICTED : SG_STATE_ACTIVE;
    if (row->state != from)
        return sg_err_set(err, SG_CONFLICT, "the person is %s, not %s",
                          sg_subject_state_name(row->state), sg_subject_state_name(from));
    /* Dated, so that retention knows the person asked (and holds off). */
    enum sg_rc rc = v->store->ops->event_put(
        v->store, id, lift ? "restriction_lifted" : "restriction_requested", now, err);
    if (rc)
        return rc;
    return v->store->ops->subject_set_state(v->store, id,
                                            lift ? SG_STATE_ACTIVE : SG_STATE_RESTRICTED, now, err);
}

enum sg_rc sg_restrict(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                       int lift, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    return person_change(v, who, id, lift ? "subject.unrestrict" : "subject.restrict", NULL,
                         restrict_fn, &lift, err);
}

/* ------------------------------------------------------------------ hooks */

struct link_ctx {
    struct sg_vault *v;
    const struct sg_uuid *id;
    uint32_t kv;
    const uint8_t *bidx;
    enum sg_rc rc;
    struct sg_err *err;
    /* purposes seen, to rebuild their rows */
    char *purposes[64];
    size_t npurposes;
};

static int reseal_one(void *ctx, const struct sg_store_consent *c)
{
    struct link_ctx *l = ctx;
    struct sg_vault *v = l->v;
    size_t i = 0;
    while (i < l->npurposes && strcmp(l->purposes[i], c->purpose) != 0)
        i++;
    if (i == l->npurposes && l->npurposes < 64 &&
        !(l->purposes[l->npurposes++] = strdup(c->purpose))) {
        l->rc = sg_err_set(l->err, SG_NOMEM, "out of memory");
        return 1;
    }
    if (!c->details)
        return 0;
    uint8_t key[SG_KEY_BYTES];
    char *buf = NULL;
    const char *evidence, *agent;
    struct sg_uuid bind = bidx_as_id(l->bidx);
    pending_key(v, key);
    l->rc = open_details(key, &bind, c->kv, c->details, c->details_len, &buf, &evidence, &agent,
                         l->err);
    sodium_memzero(key, sizeof key);
    uint8_t *ct = NULL;
    size_t n = 0;
    if (!l->rc)
        l->rc = seal_details(v, v->dek, l->id, l->kv, evidence, agent, &ct, &n, l->err);
    wipe_free(buf);
    if (!l->rc)
        l->rc = v->store->ops->consent_reseal(v->store, c->seq, l->kv, ct, n, l->err);
    free(ct);
    return l->rc != SG_OK;
}

enum sg_rc sg_consent_link_pending(struct sg_vault *v, const struct sg_actor *who,
                                   const struct sg_uuid *id, const int *codes,
                                   const uint8_t (*bidx)[SG_BIDX_BYTES], size_t n, sg_time now,
                                   struct sg_err *err)
{
    struct sg_store *s = v->store;
    enum sg_rc rc = SG_OK;
    for (size_t k = 0; k < n && !rc; k++) {
        struct link_ctx l;
        memset(&l, 0, sizeof l);
        l.v = v;
        l.id = id;
        l.kv = 1;
        l.bidx = bidx[k];
        l.err = err;
        rc = s->ops->consent_pending(s, codes[k], bidx[k], reseal_one, &l, err);
        if (!rc)
            rc = l.rc;
        if (!rc && l.npurposes)
            rc = s->ops->consent_link(s, codes[k], bidx[k], id, err);
        /* Rebuild each purpose's row from the person's whole ledger. */
        for (size_t i = 0; i < l.npurposes && !rc; i++) {
            struct last_ctx lc = {l.purposes[i], {0}, SG_OK, err};
            rc = s->ops->consent_each(s, id, replay_one, &lc, err);
            if (!rc)
                rc = s->ops->pstate_put(s, id, l.purposes[i], &lc.ps, err);
            if (!rc)
                rc = sg_audit_record_details(&v->audit, s, who, now, "consent.link", id, "ok", 1,
                                             l.purposes[i], strlen(l.purposes[i]), err);
        }
        for (size_t i = 0; i < l.npurposes; i++)
            free(l.purposes[i]);
    }
    return rc;
}

enum sg_rc sg_consent_birth_date(struct sg_vault *v, const struct sg_uuid *id, const char *date,
                                 size_t len, sg_time now, struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    struct sg_store *s = v->store;
    int age = sg_age_at(date, len, now);
    for (size_t i = 0; p && i < p->npurposes; i++) {
        const struct sg_purpose *pu = &p->purposes[i];
        if (pu->basis != SG_BASIS_CONSENT || pu->consent.minors != SG_MINORS_REFUSE ||
            pu->consent.min_age <= 0)
            continue;
        int minor = age >= 0 && age < pu->consent.min_age;
        struct sg_store_pstate ps;
        enum sg_rc rc = s->ops->pstate_get(s, id, pu->id, &ps, err);
        if (rc == SG_NOTFOUND) {
            if (!minor)
                continue;
            memset(&ps, 0, sizeof ps);
        } else if (rc) {
            return rc;
        }
        unsigned f = minor ? ps.flags | SG_PS_MINOR : ps.flags & ~SG_PS_MINOR;
        if (f == ps.flags)
            continue;
        ps.flags = f;
        if ((rc = s->ops->pstate_put(s, id, pu->id, &ps, err)))
            return rc;
        /* Found to be a minor where minors are refused: flagged for removal
         * by the retention rules (an event they can anchor on). */
        if (minor && (rc = s->ops->event_put(s, id, "minor_found", now, err)))
            return rc;
    }
    return SG_OK;
}
