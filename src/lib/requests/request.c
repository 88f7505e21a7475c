/*
 * request.c - the lifecycle of data-subject requests; see sargs/request.h.
 * The answers (access and portability packages) are made in package.c.
 */
#include "request_int.h"

#include "sargs/calendar.h"
#include "sargs/consent.h"
#include "sargs/text.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_MAX 2000

static const char *const kind_names[] = {"",          "access",      "rectification",
                                         "erasure",   "restriction", "portability",
                                         "objection", "review",      "withdrawal"};

const char *sg_request_kind_name(int kind)
{
    return kind >= SG_REQ_ACCESS && kind <= SG_REQ_WITHDRAWAL ? kind_names[kind] : "?";
}

int sg_request_kind_parse(const char *s)
{
    for (int k = SG_REQ_ACCESS; s && k <= SG_REQ_WITHDRAWAL; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return k;
    return 0;
}

const char *sg_request_state_name(int state)
{
    /* the enum's order, named */
    switch (state) {
    case SG_RS_RECEIVED:
        return "received";
    case SG_RS_AWAITING_IDENTITY:
        return "awaiting_identity";
    case SG_RS_AWAITING_CLARIFICATION:
        return "awaiting_clarification";
    case SG_RS_VERIFIED:
        return "verified";
    case SG_RS_IN_PROGRESS:
        return "in_progress";
    case SG_RS_EXTENDED:
        return "extended";
    case SG_RS_FULFILLED:
        return "fulfilled";
    case SG_RS_PARTIALLY_FULFILLED:
        return "partially_fulfilled";
    case SG_RS_REFUSED:
        return "refused";
    case SG_RS_WITHDRAWN:
        return "withdrawn";
    default:
        return "?";
    }
}

static int closed_state(int s)
{
    return s >= SG_RS_FULFILLED;
}

static int paused_state(int s)
{
    return s == SG_RS_AWAITING_IDENTITY || s == SG_RS_AWAITING_CLARIFICATION;
}

/* ---------------------------------------------------------------- the clock */

enum sg_rc sg_req_clock(struct sg_vault *v, struct sg_req_clock *c, struct sg_err *err)
{
    memset(c, 0, sizeof c[0]);
    const struct sg_policy *p = v->policy;
    enum sg_rc rc = sg_tz_load(p && p->time_zone ? p->time_zone : "Europe/Riga", &c->tz, err);
    if (rc)
        return rc;
    c->cal.name = p && p->holiday_calendar ? p->holiday_calendar : "lv";
    c->cal.extra = p ? p->extra_holidays : NULL;
    c->cal.nextra = p ? p->nextra_holidays : 0;
    c->now = sg_clock_now(v->clock);
    c->today = sg_tz_day(c->tz, c->now);
    return SG_OK;
}

void sg_req_clock_release(struct sg_req_clock *c)
{
    sg_tz_free(c->tz);
    c->tz = NULL;
}

/* Paused days so far, counting an open pause up to today. */
static int64_t paused_so_far(const struct sg_store_request *r, int64_t today)
{
    return r->paused_days + (r->paused_since ? today - r->paused_since : 0);
}

/* The due days of a stored request as of today. */
static void deadlines(const struct sg_req_clock *c, const struct sg_store_request *r, int64_t *due,
                      int64_t *extended_due)
{
    int64_t p = paused_so_far(r, c->today);
    *due = sg_request_deadline(&c->cal, r->received_day, 1, (int)p);
    *extended_due = r->extended ? sg_request_deadline(&c->cal, r->received_day, 3, (int)p) : 0;
}

void sg_req_info(const struct sg_req_clock *c, const struct sg_store_request *r,
                 struct sg_request_info *out)
{
    memset(out, 0, sizeof *out);
    out->id = r->id;
    out->has_subject = r->has_subject;
    out->subject = r->subject;
    out->kind = r->kind;
    out->state = r->state;
    snprintf(out->channel, sizeof out->channel, "%s", r->channel);
    snprintf(out->identity, sizeof out->identity, "%s", r->identity ? r->identity : "");
    out->received = r->received;
    out->received_day = r->received_day;
    deadlines(c, r, &out->due, &out->extended_due);
    out->paused_days = paused_so_far(r, c->today);
    out->paused = paused_state(r->state);
    out->closed = closed_state(r->state);
    out->extended = r->extended;
    out->copies = r->copies;
    int64_t last = r->extended ? out->extended_due : out->due;
    out->overdue = !out->closed && !out->paused && c->today > last;
}

/* ------------------------------------------------------------- the record */

struct copy {
    struct sg_store_request r;
    char channel[33], identity[33], agent[129];
};

static int copy_one(void *ctx, const struct sg_store_request *r)
{
    struct copy *c = ctx;
    c->r = *r;
    snprintf(c->channel, sizeof c->channel, "%s", r->channel);
    snprintf(c->identity, sizeof c->identity, "%s", r->identity ? r->identity : "");
    snprintf(c->agent, sizeof c->agent, "%s", r->agent ? r->agent : "");
    c->r.channel = c->channel;
    c->r.identity = c->identity[0] ? c->identity : NULL;
    c->r.agent = c->agent[0] ? c->agent : NULL;
    return 1;
}

static enum sg_rc load(struct sg_vault *v, const struct sg_uuid *id, struct copy *c,
                       struct sg_err *err)
{
    enum sg_rc rc = v->store->ops->request_get(v->store, id, copy_one, c, err);
    if (rc == SG_NOTFOUND) {
        char ids[SG_UUID_STR_LEN + 1];
        return sg_err_set(err, SG_NOTFOUND, "no request %s", sg_uuid_format(id, ids));
    }
    return rc;
}

/* The key reasons are sealed under: derived from the index key (which
 * never rotates), bound to the request's id. */
static void reason_key(const struct sg_vault *v, uint8_t out[SG_KEY_BYTES])
{
    crypto_kdf_derive_from_key(out, SG_KEY_BYTES, 3, "sgrequst", v->index_key->k);
}

static int line_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max || !sg_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
            return 0;
    return 1;
}

/* Saves the row, appends the transition (reason sealed) and audits, in the
 * caller's operation. */
enum sg_rc sg_req_transition(struct sg_vault *v, const struct sg_actor *who,
                             struct sg_store_request *r, const char *verb, const char *reason,
                             const struct sg_req_clock *c, struct sg_err *err)
{
    struct sg_store *s = v->store;
    int64_t due, edue;
    deadlines(c, r, &due, &edue);
    r->due_day = r->extended ? edue : due;
    r->updated = c->now;
    if (closed_state(r->state) && !r->closed)
        r->closed = c->now;
    enum sg_rc rc = s->ops->request_put(s, r, err);
    uint8_t *ct = NULL;
    size_t ctlen = 0;
    if (!rc && reason) {
        size_t n = strlen(reason);
        uint8_t key[SG_KEY_BYTES];
        if (!(ct = malloc(n + SG_SEAL_OVERHEAD)))
            return sg_err_set(err, SG_NOMEM, "out of memory");
        reason_key(v, key);
        sg_seal(&v->nonce, key, &r->id, 1, "sargs.request.reason", reason, n, ct);
        sodium_memzero(key, sizeof key);
        ctlen = n + SG_SEAL_OVERHEAD;
    }
    struct sg_store_request_event e = {0, c->now, who->id, verb, r->state, ct, ctlen};
    if (!rc)
        rc = s->ops->request_event_append(s, &r->id, &e, err);
    free(ct);
    if (!rc) {
        char d[96];
        char ids[SG_UUID_STR_LEN + 1];
        snprintf(d, sizeof d, "%s %s %s", sg_request_kind_name(r->kind), verb,
                 sg_uuid_format(&r->id, ids));
        rc = sg_audit_record_details(&v->audit, s, who, c->now, "request.update",
                                     r->has_subject ? &r->subject : NULL, "ok", 1, d, strlen(d),
                                     err);
    }
    return rc;
}

/* Requests are the controller's staff's to handle (and the operator's). */
static enum sg_rc may_handle(struct sg_vault *v, const struct sg_actor *who, struct sg_err *err)
{
    return sg_view_require_staff(v, who, "request.handle", err);
}

static const struct sg_channel *channel_of(const struct sg_policy *p, const char *id)
{
    for (size_t i = 0; p && id && i < p->requests.nchannels; i++)
        if (strcmp(p->requests.channels[i].id, id) == 0)
            return &p->requests.channels[i];
    return NULL;
}

/* --------------------------------------------------------------- new, list */

struct open_of {
    int kind;
    int found;
    struct sg_uuid id;
};

static int open_same_kind(void *ctx, const struct sg_store_request *r)
{
    struct open_of *o = ctx;
    if (r->kind == o->kind && !closed_state(r->state)) {
        o->found = 1;
        o->id = r->id;
        return 1;
    }
    return 0;
}

enum sg_rc sg_request_new(struct sg_vault *v, const struct sg_actor *who, int kind,
                          const char *channel, const struct sg_uuid *subject, sg_time received,
                          const char *agent, struct sg_request_info *out, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = may_handle(v, who, err)))
        return rc;
    if (!sg_request_kind_name(kind)[0] || kind < SG_REQ_ACCESS || kind > SG_REQ_WITHDRAWAL)
        return sg_err_set(err, SG_INVALID,
                          "a request is of kind access, rectification, erasure, restriction, "
                          "portability, objection, review or withdrawal");
    const struct sg_channel *ch = channel_of(v->policy, channel);
    if (!ch)
        return sg_err_set(err, SG_INVALID, "'%.32s' is not a channel of the policy's requests",
                          channel ? channel : "");
    if (agent && !line_ok(agent, 128))
        return sg_err_set(err, SG_INVALID, "an agent's authorisation is one line of at most 128");
    struct sg_req_clock c;
    if ((rc = sg_req_clock(v, &c, err)))
        return rc;
    if (!received)
        received = c.now;
    if (received > c.now) {
        sg_req_clock_release(&c);
        return sg_err_set(err, SG_INVALID, "a request cannot be received in the future");
    }
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_req_clock_release(&c);
        return rc;
    }
    struct sg_store *s = v->store;
    if (subject) {
        struct sg_store_subject row;
        rc = sg_vault_load_subject(v, subject, &row, 0, err);
        if (!rc) {
            struct sg_request_filter f = {0, 0, 1, *subject, 0, 0};
            struct open_of o = {kind, 0, {{0}}};
            rc = s->ops->request_each(s, &f, open_same_kind, &o, err);
            if (!rc && o.found) {
                char ids[SG_UUID_STR_LEN + 1];
                rc = sg_err_set(err, SG_CONFLICT,
                                "the person has an open %s request, %s: this one is linked to it",
                                sg_request_kind_name(kind), sg_uuid_format(&o.id, ids));
            }
        }
    }
    struct sg_store_request r;
    memset(&r, 0, sizeof r);
    sg_uuid_v7(c.now, &r.id);
    if (subject) {
        r.has_subject = 1;
        r.subject = *subject;
    }
    r.kind = kind;
    r.channel = ch->id;
    r.received = received;
    r.received_day = sg_tz_day(c.tz, received);
    r.agent = agent;
    /* A channel that does not identify: wait (paused) until it is done. */
    r.state = ch->identity ? SG_RS_RECEIVED : SG_RS_AWAITING_IDENTITY;
    if (!ch->identity)
        r.paused_since = r.received_day > c.today ? c.today : r.received_day;
    if (!rc)
        rc = sg_req_transition(v, who, &r, "received",
                               ch->identity ? NULL : "the channel does not identify the person", &c,
                               err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && out) {
        sg_req_info(&c, &r, out);
        rc = sg_req_identical(v, &r, out, err);
    }
    sg_req_clock_release(&c);
    return rc;
}

struct ev_ctx {
    struct sg_vault *v;
    const struct sg_uuid *id;
    int (*cb)(void *ctx, const struct sg_request_event *e);
    void *ctx;
    enum sg_rc rc;
    struct sg_err *err;
};

static int open_event(void *ctx, const struct sg_store_request_event *e)
{
    struct ev_ctx *x = ctx;
    char *reason = NULL;
    if (e->reason && e->reason_len >= SG_SEAL_OVERHEAD) {
        uint8_t key[SG_KEY_BYTES];
        size_t n = 0;
        reason_key(x->v, key);
        if (!(reason = malloc(e->reason_len - SG_SEAL_OVERHEAD + 1)) ||
            sg_open(key, x->id, 1, "sargs.request.reason", e->reason, e->reason_len, reason, &n,
                    NULL) != SG_OK) {
            sodium_memzero(key, sizeof key);
            free(reason);
            x->rc = sg_err_set(x->err, SG_CRYPTO, "a reason of the request failed to open");
            return 1;
        }
        sodium_memzero(key, sizeof key);
        reason[n] = '\0';
    }
    struct sg_request_event ev = {e->at, e->actor, e->verb, reason, e->state};
    int stop = x->cb(x->ctx, &ev);
    if (reason) {
        sodium_memzero(reason, strlen(reason));
        free(reason);
    }
    return stop;
}

/* Whether an identical request was answered within the policy's window
 * and the person's data has not changed since. */
struct ident {
    const struct sg_store_request *r;
    sg_time since, changed;
    int found;
    struct sg_uuid id;
};

static int identical_one(void *ctx, const struct sg_store_request *o)
{
    struct ident *x = ctx;
    if (sg_uuid_equal(&o->id, &x->r->id) || o->kind != x->r->kind ||
        (o->state != SG_RS_FULFILLED && o->state != SG_RS_PARTIALLY_FULFILLED) ||
        o->closed < x->since || o->closed > x->r->received || x->changed > o->closed)
        return 0;
    x->found = 1;
    x->id = o->id;
    return 1;
}

enum sg_rc sg_req_identical(struct sg_vault *v, const struct sg_store_request *r,
                            struct sg_request_info *info, struct sg_err *err)
{
    info->has_identical = 0;
    if (!r->has_subject)
        return SG_OK;
    struct sg_store_subject row;
    enum sg_rc rc = v->store->ops->subject_get(v->store, &r->subject, &row, NULL, err);
    if (rc == SG_NOTFOUND)
        return SG_OK;
    if (rc)
        return rc;
    struct sg_duration win = {0, 12, 0, 0};
    if (v->policy && !sg_duration_is_zero(&v->policy->requests.identical_within))
        win = v->policy->requests.identical_within;
    /* the window back from the receipt: receipt - window <= closed */
    struct sg_duration back = {-win.years, -win.months, -win.days, -win.seconds};
    struct ident x = {r, sg_duration_add(r->received, &back), row.changed, 0, {{0}}};
    struct sg_request_filter f = {0, 0, 1, r->subject, 200, 0};
    if ((rc = v->store->ops->request_each(v->store, &f, identical_one, &x, err)))
        return rc;
    info->has_identical = x.found;
    info->identical = x.id;
    return SG_OK;
}

enum sg_rc sg_request_get(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                          struct sg_request_info *out,
                          int (*cb)(void *ctx, const struct sg_request_event *e), void *ctx,
                          struct sg_err *err)
{
    enum sg_rc rc;
    struct copy cp;
    struct sg_req_clock c;
    if ((rc = may_handle(v, who, err)) || (rc = load(v, id, &cp, err)) ||
        (rc = sg_req_clock(v, &c, err)))
        return rc;
    sg_req_info(&c, &cp.r, out);
    sg_req_clock_release(&c);
    if ((rc = sg_req_identical(v, &cp.r, out, err)))
        return rc;
    if (!cb)
        return SG_OK;
    struct ev_ctx x = {v, id, cb, ctx, SG_OK, err};
    rc = v->store->ops->request_events_each(v->store, id, open_event, &x, err);
    return rc ? rc : x.rc;
}

struct list_ctx {
    const struct sg_req_clock *c;
    const struct sg_request_query *q;
    int (*cb)(void *ctx, const struct sg_request_info *r);
    void *ctx;
    int stop;
};

static int list_one(void *ctx, const struct sg_store_request *r)
{
    struct list_ctx *l = ctx;
    struct sg_request_info info;
    sg_req_info(l->c, r, &info);
    int64_t last = info.extended ? info.extended_due : info.due;
    if (l->q->overdue && !info.overdue)
        return 0;
    if (l->q->due_within && (info.closed || last > l->c->today + l->q->due_within))
        return 0;
    return l->stop = l->cb(l->ctx, &info);
}

enum sg_rc sg_request_list(struct sg_vault *v, const struct sg_actor *who,
                           const struct sg_request_query *q,
                           int (*cb)(void *ctx, const struct sg_request_info *r), void *ctx,
                           struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_req_clock c;
    if ((rc = may_handle(v, who, err)) || (rc = sg_req_clock(v, &c, err)))
        return rc;
    struct sg_request_filter f;
    memset(&f, 0, sizeof f);
    f.limit = q->limit ? q->limit : 1000;
    if (q->subject) {
        f.has_subject = 1;
        f.subject = *q->subject;
    } else {
        f.open_only = 1;
        /* Stored due days are those of the last transition; a paused
         * request's only grows: this bound never drops one that is due. */
        if (q->overdue)
            f.due_before = c.today;
        else if (q->due_within)
            f.due_before = c.today + q->due_within + 1;
        if (q->overdue || q->due_within)
            f.limit = 0;
    }
    struct list_ctx l = {&c, q, cb, ctx, 0};
    rc = v->store->ops->request_each(v->store, &f, list_one, &l, err);
    sg_req_clock_release(&c);
    return rc;
}

/* ------------------------------------------------------------ transitions */

/* Loads, checks with `check`, changes, saves: one operation. */
static enum sg_rc step(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                       const char *verb, const char *reason,
                       enum sg_rc (*change)(struct sg_vault *v, struct sg_store_request *r,
                                            const struct sg_req_clock *c, void *arg,
                                            struct sg_err *err),
                       void *arg, struct sg_err *err)
{
    enum sg_rc rc;
    struct copy cp;
    struct sg_req_clock c;
    if ((rc = may_handle(v, who, err)))
        return rc;
    if (reason && !line_ok(reason, REASON_MAX))
        return sg_err_set(err, SG_INVALID, "a reason is UTF-8 text of at most %d bytes",
                          REASON_MAX);
    if ((rc = sg_req_clock(v, &c, err)))
        return rc;
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_req_clock_release(&c);
        return rc;
    }
    rc = load(v, id, &cp, err);
    if (!rc && closed_state(cp.r.state))
        rc = sg_err_set(err, SG_CONFLICT, "the request is already %s",
                        sg_request_state_name(cp.r.state));
    if (!rc)
        rc = change(v, &cp.r, &c, arg, err);
    if (!rc)
        rc = sg_req_transition(v, who, &cp.r, verb, reason, &c, err);
    rc = sg_op_end(v, mark, rc, err);
    sg_req_clock_release(&c);
    return rc;
}

/* Ends a pause: its calendar days move the due date. */
static void end_pause(struct sg_store_request *r, const struct sg_req_clock *c)
{
    if (r->paused_since) {
        r->paused_days += c->today - r->paused_since;
        r->paused_since = 0;
    }
}

struct verify_arg {
    const char *method;
    const struct sg_uuid *subject;
};

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {{"id_document", SG_IDM_DOCUMENT},
               {"registered_post", SG_IDM_REGISTERED_POST},
               {"qualified_signature", SG_IDM_QUALIFIED_SIG},
               {"account", SG_IDM_ACCOUNT},
               {"known_contact", SG_IDM_KNOWN_CONTACT}};

static enum sg_rc verify_change(struct sg_vault *v, struct sg_store_request *r,
                                const struct sg_req_clock *c, void *arg, struct sg_err *err)
{
    const struct verify_arg *a = arg;
    const struct sg_channel *ch = channel_of(v->policy, r->channel);
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (a->method && strcmp(a->method, methods[i].name) == 0)
            bit = methods[i].bit;
    if (!bit)
        return sg_err_set(err, SG_INVALID,
                          "identity is shown by id_document, registered_post, "
                          "qualified_signature, account or known_contact");
    /* A channel that does not identify by itself takes any method the
     * policy accepts on some channel: the person was asked for one. */
    unsigned ok = ch && ch->identity ? ch->identity : 0;
    if (!ok)
        for (size_t i = 0; v->policy && i < v->policy->requests.nchannels; i++)
            ok |= v->policy->requests.channels[i].identity;
    if (!(ok & bit))
        return sg_err_set(err, SG_DENIED, "the policy does not accept %s as identification here",
                          a->method);
    if (r->identity)
        return sg_err_set(err, SG_CONFLICT, "the person is already identified (%s)", r->identity);
    if (a->subject) {
        if (r->has_subject && !sg_uuid_equal(&r->subject, a->subject))
            return sg_err_set(err, SG_CONFLICT, "the request is another person's");
        struct sg_store_subject row;
        enum sg_rc rc = sg_vault_load_subject(v, a->subject, &row, 0, err);
        if (rc)
            return rc;
        r->has_subject = 1;
        r->subject = *a->subject;
    }
    if (!r->has_subject)
        return sg_err_set(err, SG_INVALID, "name the person the request is about (--subject)");
    if (r->state == SG_RS_AWAITING_IDENTITY)
        end_pause(r, c);
    r->identity = a->method;
    if (r->state == SG_RS_RECEIVED || r->state == SG_RS_AWAITING_IDENTITY)
        r->state = SG_RS_VERIFIED;
    return SG_OK;
}

enum sg_rc sg_request_verify(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *method,
                             const struct sg_uuid *subject, struct sg_err *err)
{
    struct verify_arg a = {method, subject};
    return step(v, who, id, "verified", NULL, verify_change, &a, err);
}

static enum sg_rc pause_change(struct sg_vault *v, struct sg_store_request *r,
                               const struct sg_req_clock *c, void *arg, struct sg_err *err)
{
    (void)v;
    (void)arg;
    if (paused_state(r->state))
        return sg_err_set(err, SG_CONFLICT, "the request is already paused");
    r->paused_since = c->today;
    r->state = SG_RS_AWAITING_CLARIFICATION;
    return SG_OK;
}

enum sg_rc sg_request_pause(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *reason, struct sg_err *err)
{
    if (!reason || !*reason)
        return sg_err_set(err, SG_INVALID, "a pause needs the question asked (--reason)");
    return step(v, who, id, "paused", reason, pause_change, NULL, err);
}

static enum sg_rc resume_change(struct sg_vault *v, struct sg_store_request *r,
                                const struct sg_req_clock *c, void *arg, struct sg_err *err)
{
    (void)v;
    (void)arg;
    if (r->state == SG_RS_AWAITING_IDENTITY)
        return sg_err_set(err, SG_CONFLICT,
                          "the request waits for identity: record it (request verify)");
    if (r->state != SG_RS_AWAITING_CLARIFICATION)
        return sg_err_set(err, SG_CONFLICT, "the request is not paused");
    end_pause(r, c);
    r->state = r->extended ? SG_RS_EXTENDED : r->identity ? SG_RS_VERIFIED : SG_RS_RECEIVED;
    return SG_OK;
}

enum sg_rc sg_request_resume(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, struct sg_err *err)
{
    return step(v, who, id, "resumed", NULL, resume_change, NULL, err);
}

static enum sg_rc extend_change(struct sg_vault *v, struct sg_store_request *r,
                                const struct sg_req_clock *c, void *arg, struct sg_err *err)
{
    (void)v;
    (void)arg;
    int64_t due, edue;
    deadlines(c, r, &due, &edue);
    if (r->extended)
        return sg_err_set(err, SG_CONFLICT, "the request is already extended");
    if (paused_state(r->state))
        return sg_err_set(err, SG_CONFLICT, "the request is paused");
    if (c->today > due)
        return sg_err_set(err, SG_CONFLICT,
                          "the first month has passed: an extension is no longer allowed");
    r->extended = 1;
    r->state = SG_RS_EXTENDED;
    return SG_OK;
}

enum sg_rc sg_request_extend(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *reason, struct sg_err *err)
{
    if (!reason || !*reason)
        return sg_err_set(err, SG_INVALID,
                          "an extension needs its reasons, which the person is told (--reason)");
    return step(v, who, id, "extended", reason, extend_change, NULL, err);
}

struct refuse_arg {
    const char *ground;
};

static enum sg_rc refuse_change(struct sg_vault *v, struct sg_store_request *r,
                                const struct sg_req_clock *c, void *arg, struct sg_err *err)
{
    const struct refuse_arg *a = arg;
    (void)c;
    if (strcmp(a->ground, "identical") == 0) {
        struct sg_request_info info;
        enum sg_rc rc = sg_req_identical(v, r, &info, err);
        if (rc)
            return rc;
        if (!info.has_identical)
            return sg_err_set(err, SG_CONFLICT,
                              "no identical request was answered within the window with the "
                              "data unchanged since");
    } else if (strcmp(a->ground, "identity") == 0) {
        if (r->state != SG_RS_AWAITING_IDENTITY)
            return sg_err_set(err, SG_CONFLICT,
                              "identity can only be the ground after it was asked for and not "
                              "given");
        end_pause(r, c);
    }
    r->state = SG_RS_REFUSED;
    return SG_OK;
}

enum sg_rc sg_request_refuse(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *ground, const char *reason,
                             struct sg_err *err)
{
    static const char *const grounds[] = {"identical", "unfounded", "excessive",
                                          "identity",  "other",     NULL};
    int known = 0;
    for (const char *const *g = grounds; *g && ground; g++)
        known |= strcmp(*g, ground) == 0;
    if (!known)
        return sg_err_set(err, SG_INVALID,
                          "a refusal's ground is identical, unfounded, excessive, identity or "
                          "other");
    if ((strcmp(ground, "unfounded") == 0 || strcmp(ground, "excessive") == 0 ||
         strcmp(ground, "other") == 0) &&
        (!reason || !*reason))
        return sg_err_set(err, SG_INVALID,
                          "a refusal on '%s' needs its recorded reasoning (--reason)", ground);
    char full[REASON_MAX + 64];
    snprintf(full, sizeof full, "%s%s%s", ground, reason ? ": " : "", reason ? reason : "");
    struct refuse_arg a = {ground};
    enum sg_rc rc = step(v, who, id, "refused", full, refuse_change, &a, err);
    if (!rc)
        rc = sg_req_answer(v, who, id, ground, reason, err);
    return rc;
}

static enum sg_rc withdraw_change(struct sg_vault *v, struct sg_store_request *r,
                                  const struct sg_req_clock *c, void *arg, struct sg_err *err)
{
    (void)v;
    (void)arg;
    (void)err;
    end_pause(r, c);
    r->state = SG_RS_WITHDRAWN;
    return SG_OK;
}

enum sg_rc sg_request_withdraw(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_uuid *id, struct sg_err *err)
{
    return step(v, who, id, "withdrawn", NULL, withdraw_change, NULL, err);
}

/* ------------------------------------------------------------ disclosures */

enum sg_rc sg_subject_disclose(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_uuid *id, const char *recipient, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = may_handle(v, who, err)))
        return rc;
    if (!v->policy || !recipient || !sg_policy_recipient(v->policy, recipient))
        return sg_err_set(err, SG_INVALID, "'%.64s' is not a recipient of the policy",
                          recipient ? recipient : "");
    struct sg_opmark mark;
    struct sg_store_subject row;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = sg_vault_load_subject(v, id, &row, 0, err);
    char d[96];
    snprintf(d, sizeof d, "recipient:%s", recipient);
    if (!rc)
        rc = sg_audit_record_details(&v->audit, v->store, who, sg_clock_now(v->clock),
                                     "subject.disclose", id, "ok", 1, d, strlen(d), err);
    return sg_op_end(v, mark, rc, err);
}
