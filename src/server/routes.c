/*
 * routes.c - the API's routes: each parses its input, calls one library
 * function and renders the answer with sargs/json.h. docs/api/openapi.yaml
 * describes them; a test fails when the two disagree.
 */
#include "server.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char sg_openapi_yaml[];

#define MAX_FIELDS 256

/* A whole decimal number. */
static int get_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 19)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

static int get_id(struct sg_req *r, size_t i, struct sg_uuid *id)
{
    struct sg_err err;
    if (i >= r->nparams || sg_uuid_parse(r->params[i], id, &err)) {
        sg_req_error(r, SG_INVALID, "not an id");
        return -1;
    }
    return 0;
}

/* A sign-in (an operator's or a person's) from an address that has tried
 * too often this minute: answered 429, nonzero. */
static int limited(struct sg_req *r)
{
    if (!sg_signin_limited(r->conn))
        return 0;
    sg_req_error(r, SG_LIMITED, "too many sign-in attempts from this address: wait a minute");
    r->retry_after = 60;
    return 1;
}

/* A request's kind, or 0 answered 400. */
static int kind_of(struct sg_req *r, const char *kind)
{
    int k = kind ? sg_request_kind_parse(kind) : 0;
    if (k <= 0) {
        sg_req_error(r, SG_INVALID,
                     "'kind' is access, rectification, erasure, restriction, "
                     "portability, objection, review or withdrawal");
        return 0;
    }
    return k;
}

/* The files of an answer: [{"name","content"}]. */
static json_t *files_json(const struct sg_fulfil_out *out)
{
    json_t *files = json_array();
    for (size_t i = 0; i < out->nfiles; i++)
        json_array_append_new(files, json_pack("{s:s,s:s%}", "name", out->files[i].name, "content",
                                               out->files[i].data, out->files[i].len));
    return files;
}

/* ------------------------------------------------------------ public ones */

static void healthz(struct sg_req *r)
{
    struct sg_audit_head h;
    struct sg_err err;
    /* A read that touches the database: a node that cannot reach it says so. */
    enum sg_rc rc = sg_audit_latest(r->vault, &h, &err);
    if (rc && rc != SG_NOTFOUND) {
        sg_req_error(r, SG_UNAVAILABLE, "the database is not reachable");
        return;
    }
    sg_req_json(r, 200,
                json_pack("{s:s,s:s,s:I}", "status", "ok", "vault", sg_vault_id(r->vault),
                          "audit_size", (json_int_t)(rc ? 0 : h.size)));
    if (!rc)
        sg_audit_head_release(&h);
}

static void metrics(struct sg_req *r)
{
    sg_metrics_render(r);
}

static void openapi(struct sg_req *r)
{
    r->status = 200;
    r->raw = strdup(sg_openapi_yaml);
    r->raw_type = "application/yaml";
    if (!r->raw)
        sg_req_error(r, SG_NOMEM, "out of memory");
}

/* Global Privacy Control: this site honours the signal (GPC spec, 2023). */
static void gpc(struct sg_req *r)
{
    sg_req_json(r, 200, json_pack("{s:b,s:s}", "gpc", 1, "lastUpdate", "2026-11-23"));
}

/* Hands a rendered document to the answer (copied: the buffer is released). */
static void raw_answer(struct sg_req *r, struct sg_buf *b, const char *type)
{
    r->raw = strndup(b->ptr ? (const char *)b->ptr : "", b->len);
    r->raw_type = type;
    r->status = 200;
    if (!r->raw)
        sg_req_error(r, SG_NOMEM, "out of memory");
}

/* The privacy notice of Art. 13/14 in force: public, as the law wants it. */
static void notice(struct sg_req *r)
{
    const struct sg_policy *p = sg_vault_policy(r->vault);
    const char *f = sg_req_arg(r, "format");
    struct sg_notice_opts o = {0};
    struct sg_err err;
    if (!p) {
        sg_req_error(r, SG_NOTFOUND, "this vault has no policy");
        return;
    }
    if (f && strcmp(f, "html") && strcmp(f, "md")) {
        sg_req_error(r, SG_INVALID, "'format' is html or md");
        return;
    }
    o.lang = sg_req_arg(r, "lang");
    if (!o.lang)
        o.lang = p->languages[0];
    o.format = f && !strcmp(f, "md") ? SG_FORMAT_MARKDOWN : SG_FORMAT_HTML;
    o.now = sg_clock_now(NULL);
    struct sg_buf out;
    sg_buf_init(&out, 16 * 1024 * 1024);
    if (sg_notice_render(p, &o, &out, &err))
        sg_req_fail(r, &err);
    else
        raw_answer(r, &out,
                   o.format == SG_FORMAT_HTML ? "text/html; charset=utf-8"
                                              : "text/markdown; charset=utf-8");
    sg_buf_release(&out);
}

/* The record of processing activities (Art. 30): staff only. */
static void ropa(struct sg_req *r)
{
    const char *f = sg_req_arg(r, "format");
    struct sg_err err;
    if (f && strcmp(f, "json") && strcmp(f, "csv")) {
        sg_req_error(r, SG_INVALID, "'format' is json or csv");
        return;
    }
    enum sg_doc_format fmt = f && !strcmp(f, "csv") ? SG_FORMAT_CSV : SG_FORMAT_JSON;
    struct sg_buf out;
    sg_buf_init(&out, 16 * 1024 * 1024);
    if (sg_vault_ropa(r->vault, &r->actor, fmt, sg_req_arg(r, "lang"), &out, &err))
        sg_req_fail(r, &err);
    else
        raw_answer(r, &out, fmt == SG_FORMAT_CSV ? "text/csv; charset=utf-8" : "application/json");
    sg_buf_release(&out);
}

/* --------------------------------------------------------------- sessions */

static json_t *operator_json(const struct sg_operator_info *o)
{
    return json_pack("{s:s,s:s,s:s,s:s?,s:b}", "login", o->login, "role", o->role, "purpose",
                     o->purpose, "scope", o->scope[0] ? o->scope : NULL, "password_expired",
                     o->password_expired);
}

static void session_open(struct sg_req *r)
{
    static const char *const keys[] = {"login", "password", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    json_t *l = json_object_get(r->body, "login"), *p = json_object_get(r->body, "password");
    if (!json_is_string(l) || !json_is_string(p)) {
        sg_req_error(r, SG_INVALID, "a sign-in needs a 'login' and a 'password'");
        return;
    }
    if (limited(r))
        return;
    char secret[SG_SESSION_MAX];
    struct sg_operator_info o;
    struct sg_err err;
    enum sg_rc rc =
        sg_session_open(r->vault, json_string_value(l), json_string_value(p), secret, &o, &err);
    /* The password leaves memory with the body; wipe our view of it now. */
    if (json_string_length(p))
        sodium_memzero((char *)json_string_value(p), json_string_length(p));
    if (rc) {
        sg_req_fail(r, &err);
        if (rc == SG_DENIED)
            r->status = 401;
        if (rc == SG_LIMITED)
            r->retry_after = (int)(SG_LOCKOUT_USEC / SG_USEC_PER_SEC);
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie, "%s", secret);
    sodium_memzero(secret, sizeof secret);
    sg_req_json(r, 200, operator_json(&o));
}

static void session_get(struct sg_req *r)
{
    struct sg_operator_info o;
    struct sg_err err;
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SG_SESSION_COOKIE);
    if (!r->login[0] || sg_session_check(r->vault, cookie, &o, &err)) {
        sg_req_error(r, SG_NOTFOUND, "this call is not made in a session");
        return;
    }
    sg_req_json(r, 200, operator_json(&o));
}

static void session_close(struct sg_req *r)
{
    struct sg_err err;
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SG_SESSION_COOKIE);
    if (!r->login[0]) {
        sg_req_error(r, SG_NOTFOUND, "this call is not made in a session");
        return;
    }
    if (sg_session_close(r->vault, cookie, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    r->clear_cookie = 1;
    sg_req_json(r, 200, json_pack("{s:s,s:b}", "login", r->login, "signed_in", 0));
}

static void session_password(struct sg_req *r)
{
    static const char *const keys[] = {"old", "new", NULL};
    struct sg_err err;
    if (sg_req_body_keys(r, keys))
        return;
    json_t *o = json_object_get(r->body, "old"), *n = json_object_get(r->body, "new");
    if (!r->login[0]) {
        sg_req_error(r, SG_NOTFOUND, "this call is not made in a session");
        return;
    }
    if (!json_is_string(o) || !json_is_string(n)) {
        sg_req_error(r, SG_INVALID, "a change needs the 'old' and the 'new' password");
        return;
    }
    enum sg_rc rc = sg_operator_set_password(r->vault, &r->actor, r->login, json_string_value(o),
                                             json_string_value(n), &err);
    sodium_memzero((char *)json_string_value(o), json_string_length(o));
    sodium_memzero((char *)json_string_value(n), json_string_length(n));
    if (rc) {
        sg_req_fail(r, &err);
        return;
    }
    /* Every session ended with the change, this one too. */
    r->clear_cookie = 1;
    sg_req_json(r, 200, json_pack("{s:s,s:s}", "login", r->login, "password", "changed"));
}

/* ----------------------------------------------------------------- people */

static int read_events(struct sg_req *r, json_t *obj, struct sg_event_in *ev, size_t max, size_t *n)
{
    const char *k;
    json_t *v;
    struct sg_err err;
    *n = 0;
    if (!obj)
        return 0;
    if (!json_is_object(obj)) {
        sg_req_error(r, SG_INVALID, "'events' must be an object of name: time");
        return -1;
    }
    json_object_foreach(obj, k, v)
    {
        if (*n == max || !json_is_string(v) ||
            sg_time_parse(json_string_value(v), &ev[*n].at, &err)) {
            sg_req_error(r, SG_INVALID, "event '%.64s' needs an RFC 3339 time", k);
            return -1;
        }
        ev[(*n)++].name = k;
    }
    return 0;
}

static void subject_add(struct sg_req *r)
{
    static const char *const keys[] = {"fields", "events", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    struct sg_field_in f[MAX_FIELDS];
    struct sg_event_in ev[64];
    size_t nf = 0, ne = 0;
    struct sg_err err;
    if (sg_json_fields(json_object_get(r->body, "fields"), f, MAX_FIELDS, &nf, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    if (read_events(r, json_object_get(r->body, "events"), ev, 64, &ne))
        return;
    struct sg_uuid id;
    if (sg_subject_add(r->vault, &r->actor, f, nf, ev, ne, &id, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    char ids[SG_UUID_STR_LEN + 1];
    sg_req_json(r, 201, json_pack("{s:s}", "id", sg_uuid_format(&id, ids)));
}

static void subject_get(struct sg_req *r)
{
    struct sg_uuid id;
    struct sg_subject *s;
    struct sg_err err;
    if (get_id(r, 0, &id))
        return;
    const char *h = sg_req_arg(r, "history");
    unsigned flags = h && (!strcmp(h, "1") || !strcmp(h, "true")) ? SG_GET_HISTORY : 0;
    if (sg_subject_get(r->vault, &r->actor, &id, flags, &s, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, sg_json_subject(s));
    sg_subject_free(s);
}

static void subject_update(struct sg_req *r)
{
    static const char *const keys[] = {"fields", "reason", NULL};
    struct sg_uuid id;
    struct sg_field_in f[MAX_FIELDS];
    size_t nf = 0, changed = 0;
    struct sg_err err;
    if (get_id(r, 0, &id) || sg_req_body_keys(r, keys))
        return;
    json_t *reason = json_object_get(r->body, "reason");
    if (!json_is_string(reason)) {
        sg_req_error(r, SG_INVALID, "a change needs a 'reason'");
        return;
    }
    if (sg_json_fields(json_object_get(r->body, "fields"), f, MAX_FIELDS, &nf, &err) ||
        sg_subject_update(r->vault, &r->actor, &id, f, nf, json_string_value(reason), &changed,
                          &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:s,s:I}", "id", r->params[0], "changed", (json_int_t)changed));
}

static void subject_erase(struct sg_req *r)
{
    struct sg_uuid id;
    struct sg_err err;
    if (get_id(r, 0, &id))
        return;
    if (sg_subject_erase(r->vault, &r->actor, &id, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:s,s:s}", "id", r->params[0], "state", "erased"));
}

static void subject_touch(struct sg_req *r)
{
    static const char *const keys[] = {"name", "at", NULL};
    struct sg_uuid id;
    struct sg_err err;
    if (get_id(r, 0, &id) || sg_req_body_keys(r, keys))
        return;
    json_t *name = json_object_get(r->body, "name"), *at = json_object_get(r->body, "at");
    sg_time t = sg_clock_now(NULL);
    if (!json_is_string(name) ||
        (at && (!json_is_string(at) || sg_time_parse(json_string_value(at), &t, &err)))) {
        sg_req_error(r, SG_INVALID, "an event needs a 'name' and may have an RFC 3339 'at'");
        return;
    }
    if (sg_subject_touch(r->vault, &r->actor, &id, json_string_value(name), t, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    char ts[SG_TIME_STR_MAX];
    sg_req_json(r, 200,
                json_pack("{s:s,s:s,s:s}", "id", r->params[0], "event", json_string_value(name),
                          "at", sg_time_format(t, ts)));
}

static void subject_group(struct sg_req *r, int join)
{
    struct sg_uuid id;
    struct sg_err err;
    if (get_id(r, 0, &id))
        return;
    if ((join ? sg_subject_join : sg_subject_leave)(r->vault, &r->actor, &id, r->params[1], &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(
        r, 200,
        json_pack("{s:s,s:s,s:b}", "id", r->params[0], "group", r->params[1], "member", join));
}

static void subject_join(struct sg_req *r)
{
    subject_group(r, 1);
}

static void subject_leave(struct sg_req *r)
{
    subject_group(r, 0);
}

struct list_ctx {
    json_t *arr;
    struct sg_uuid last;
    size_t n;
};

static int list_row(void *ctx, const struct sg_subject_row *row)
{
    struct list_ctx *c = ctx;
    json_array_append_new(c->arr, sg_json_subject_row(row));
    c->last = row->id;
    c->n++;
    return 0;
}

static void subject_list(struct sg_req *r)
{
    uint64_t limit = 100;
    struct sg_uuid after;
    struct sg_err err;
    const char *ls = sg_req_arg(r, "limit"), *as = sg_req_arg(r, "after");
    if (ls && (get_u64(ls, &limit) || limit < 1 || limit > 1000)) {
        sg_req_error(r, SG_INVALID, "'limit' must be a number from 1 to 1000");
        return;
    }
    if (as && sg_uuid_parse(as, &after, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    struct list_ctx c = {json_array(), {{0}}, 0};
    struct sg_uuid next;
    int more = 0;
    if (sg_subject_list(r->vault, &r->actor, as ? &after : NULL, (size_t)limit, list_row, &c, &next,
                        &more, &err)) {
        json_decref(c.arr);
        sg_req_fail(r, &err);
        return;
    }
    char ids[SG_UUID_STR_LEN + 1];
    sg_req_json(r, 200,
                json_pack("{s:o,s:s?}", "subjects", c.arr, "next",
                          more ? sg_uuid_format(&next, ids) : NULL));
}

static void lookup(struct sg_req *r)
{
    static const char *const keys[] = {"category", "value", NULL};
    struct sg_err err;
    if (sg_req_body_keys(r, keys))
        return;
    json_t *cat = json_object_get(r->body, "category"), *val = json_object_get(r->body, "value");
    if (!json_is_string(cat) || !json_is_string(val)) {
        sg_req_error(r, SG_INVALID, "a look-up needs a 'category' and a 'value'");
        return;
    }
    struct sg_uuid ids[64];
    size_t n = 0;
    if (sg_subject_find(r->vault, &r->actor, json_string_value(cat), json_string_value(val),
                        json_string_length(val), ids, 64, &n, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    json_t *arr = json_array();
    char s[SG_UUID_STR_LEN + 1];
    for (size_t i = 0; arr && i < n && i < 64; i++)
        json_array_append_new(arr, json_string(sg_uuid_format(&ids[i], s)));
    sg_req_json(r, 200, json_pack("{s:o,s:I}", "matches", arr, "count", (json_int_t)n));
}

/* ---------------------------------------------------------------- consent */

/* Sec-GPC: exactly "1" is the signal (GPC spec §3.1); anything else is not. */
static unsigned gpc_flag(struct sg_req *r)
{
    const char *g = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-GPC");
    return g && strcmp(g, "1") == 0 ? SG_MAY_GPC_SIGNAL : 0;
}

static void decide(struct sg_req *r, const char *subject, const char *purpose)
{
    struct sg_uuid id;
    struct sg_err err;
    struct sg_decision d;
    if (!subject || !purpose) {
        sg_req_error(r, SG_INVALID, "a decision needs a 'subject' and a 'purpose'");
        return;
    }
    if (sg_uuid_parse(subject, &id, &err) ||
        sg_may(r->vault, &r->actor, &id, purpose, gpc_flag(r), &d, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, sg_json_decision(&d, subject, purpose));
}

static void may_get(struct sg_req *r)
{
    decide(r, sg_req_arg(r, "subject"), sg_req_arg(r, "purpose"));
}

static void may_post(struct sg_req *r)
{
    static const char *const keys[] = {"subject", "purpose", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    decide(r, json_string_value(json_object_get(r->body, "subject")),
           json_string_value(json_object_get(r->body, "purpose")));
}

#define MAY_BATCH_MAX 10000

/* Many questions in one call (a mailing run): each answered as GET /v1/may
 * would, an unknown person or purpose answered by an error in its place,
 * all read in bulk mode (one snapshot while nothing commits). A malformed
 * question refuses the whole call; so does a role that may not ask. */
static void may_batch(struct sg_req *r)
{
    static const char *const keys[] = {"decisions", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    json_t *list = json_object_get(r->body, "decisions"), *q;
    size_t i;
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > MAY_BATCH_MAX) {
        sg_req_error(r, SG_INVALID, "'decisions' must be a list of 1 to %d questions",
                     MAY_BATCH_MAX);
        return;
    }
    json_array_foreach(list, i, q)
    {
        if (!json_is_object(q) || json_object_size(q) != 2 ||
            !json_is_string(json_object_get(q, "subject")) ||
            !json_is_string(json_object_get(q, "purpose"))) {
            sg_req_error(r, SG_INVALID,
                         "question %zu of 'decisions' must be {\"subject\": ID, \"purpose\": P}",
                         i);
            return;
        }
    }
    struct sg_err err;
    if (sg_may_ask(r->vault, &r->actor, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    json_t *out = json_array();
    unsigned flags = gpc_flag(r);
    sg_may_bulk(r->vault, 1);
    json_array_foreach(list, i, q)
    {
        const char *subject = json_string_value(json_object_get(q, "subject"));
        const char *purpose = json_string_value(json_object_get(q, "purpose"));
        struct sg_uuid id;
        struct sg_decision d;
        if (!sg_uuid_parse(subject, &id, &err) &&
            !sg_may(r->vault, &r->actor, &id, purpose, flags, &d, &err)) {
            json_array_append_new(out, sg_json_decision(&d, subject, purpose));
            continue;
        }
        json_array_append_new(out, json_pack("{s:s,s:s,s:{s:s,s:s}}", "subject", subject, "purpose",
                                             purpose, "error", "code", sg_rc_name(err.rc),
                                             "message", err.msg));
    }
    sg_may_bulk(r->vault, 0);
    sg_req_json(r, 200, json_pack("{s:o}", "decisions", out));
}

static const char *opt_str(struct sg_req *r, const char *key, int *bad)
{
    json_t *j = json_object_get(r->body, key);
    if (j && !json_is_string(j)) {
        sg_req_error(r, SG_INVALID, "'%s' must be a string", key);
        *bad = 1;
        return NULL;
    }
    return json_string_value(j);
}

static void consent_post(struct sg_req *r)
{
    static const char *const keys[] = {"subject", "category", "value",      "purpose",
                                       "state",   "method",   "evidence",   "guardian",
                                       "agent",   "language", "birth_date", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    int bad = 0;
    const char *subject = opt_str(r, "subject", &bad), *category = opt_str(r, "category", &bad),
               *value = opt_str(r, "value", &bad), *purpose = opt_str(r, "purpose", &bad),
               *state = opt_str(r, "state", &bad), *method = opt_str(r, "method", &bad),
               *guardian = opt_str(r, "guardian", &bad);
    struct sg_consent_in in;
    memset(&in, 0, sizeof in);
    in.evidence = opt_str(r, "evidence", &bad);
    in.agent = opt_str(r, "agent", &bad);
    in.lang = opt_str(r, "language", &bad);
    in.birth_date = opt_str(r, "birth_date", &bad);
    if (bad)
        return;
    static const struct {
        const char *name;
        enum sg_consent_state st;
    } states[] = {{"given", SG_CONSENT_GIVEN},
                  {"refused", SG_CONSENT_REFUSED},
                  {"withdrawn", SG_CONSENT_WITHDRAWN},
                  {"requested", SG_CONSENT_REQUESTED}};
    enum sg_consent_state st = SG_CONSENT_NONE;
    for (size_t i = 0; state && i < sizeof states / sizeof *states; i++)
        if (!strcmp(state, states[i].name))
            st = states[i].st;
    if (!st) {
        sg_req_error(r, SG_INVALID, "'state' is given, refused, withdrawn or requested");
        return;
    }
    in.method = sg_consent_method_parse(method);
    struct sg_uuid id, g;
    struct sg_err err;
    struct sg_consent_subject subj = {NULL, category, value};
    if ((subject && sg_uuid_parse(subject, &id, &err)) ||
        (guardian && sg_uuid_parse(guardian, &g, &err))) {
        sg_req_error(r, SG_INVALID, "'subject' and 'guardian' are ids of people");
        return;
    }
    if (subject)
        subj.id = &id;
    if (guardian)
        in.guardian = &g;
    if (sg_consent_record(r->vault, &r->actor, &subj, purpose, st, &in, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(
        r, 201,
        json_pack("{s:s?,s:s,s:s}", "subject", subject, "purpose", purpose, "recorded", state));
}

static int consent_row(void *ctx, const struct sg_consent_event *e)
{
    char at[SG_TIME_STR_MAX], ex[SG_TIME_STR_MAX], g[SG_UUID_STR_LEN + 1];
    json_t *j =
        json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "seq", (json_int_t)e->seq, "purpose",
                  e->purpose, "state", sg_consent_state_name(e->state), "at",
                  sg_time_format(e->at, at), "method", sg_consent_method_name(e->method),
                  "language", e->lang, "notice", e->notice, "child", e->child, "actor", e->actor);
    if (j) {
        json_object_set_new(j, "by",
                            json_string(e->by == SG_BY_GUARDIAN ? "guardian"
                                        : e->by == SG_BY_AGENT  ? "agent"
                                                                : "person"));
        json_object_set_new(j, "expires",
                            e->expires ? json_string(sg_time_format(e->expires, ex)) : json_null());
        json_object_set_new(j, "guardian",
                            e->has_guardian ? json_string(sg_uuid_format(&e->guardian, g))
                                            : json_null());
        json_object_set_new(j, "agent", e->agent ? json_string(e->agent) : json_null());
        json_object_set_new(j, "evidence", e->evidence ? json_string(e->evidence) : json_null());
    }
    json_array_append_new(ctx, j);
    return 0;
}

static void consent_list(struct sg_req *r)
{
    struct sg_uuid id;
    struct sg_err err;
    if (get_id(r, 0, &id))
        return;
    json_t *arr = json_array();
    if (sg_consent_list(r->vault, &r->actor, &id, consent_row, arr, &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:o}", "events", arr));
}

static void consent_export(struct sg_req *r)
{
    struct sg_uuid id;
    struct sg_err err;
    char *text = NULL;
    if (get_id(r, 0, &id))
        return;
    if (sg_consent_export(r->vault, &r->actor, &id, &text, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    r->status = 200;
    r->raw = text;
    r->raw_type = "application/json";
}

static void consent_receipt(struct sg_req *r)
{
    struct sg_uuid id;
    struct sg_err err;
    uint64_t seq;
    char *jws = NULL;
    if (get_id(r, 0, &id))
        return;
    if (get_u64(r->params[1], &seq) || !seq || seq > INT64_MAX) {
        sg_req_error(r, SG_INVALID, "not an event number");
        return;
    }
    if (sg_consent_receipt(r->vault, &r->actor, &id, (int64_t)seq, &jws, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    r->status = 200;
    r->raw = jws;
    r->raw_type = "application/jwt";
}

static void consent_key(struct sg_req *r)
{
    char key[256];
    struct sg_err err;
    if (sg_consent_receipt_key(r->vault, key, sizeof key, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:s}", "verifier_key", key));
}

static void objection_post(struct sg_req *r)
{
    static const char *const keys[] = {"purpose", "grounds", "lift", NULL};
    struct sg_uuid id;
    struct sg_err err;
    if (get_id(r, 0, &id) || sg_req_body_keys(r, keys))
        return;
    int bad = 0;
    const char *purpose = opt_str(r, "purpose", &bad), *grounds = opt_str(r, "grounds", &bad);
    json_t *lift = json_object_get(r->body, "lift");
    if (bad)
        return;
    if (lift && !json_is_boolean(lift)) {
        sg_req_error(r, SG_INVALID, "'lift' must be true or false");
        return;
    }
    if (sg_object(r->vault, &r->actor, &id, purpose, grounds, json_is_true(lift), &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200,
                json_pack("{s:s,s:s,s:s}", "id", r->params[0], "purpose", purpose, "objection",
                          json_is_true(lift) ? "lifted"
                          : grounds          ? "overridden"
                                             : "recorded"));
}

static void restriction(struct sg_req *r, int lift)
{
    struct sg_uuid id;
    struct sg_err err;
    if (get_id(r, 0, &id))
        return;
    if (sg_restrict(r->vault, &r->actor, &id, lift, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(
        r, 200,
        json_pack("{s:s,s:s}", "id", r->params[0], "state", lift ? "active" : "restricted"));
}

static void restrict_put(struct sg_req *r)
{
    restriction(r, 0);
}

static void restrict_delete(struct sg_req *r)
{
    restriction(r, 1);
}

/* --------------------------------------------------------------- requests */

static json_t *request_json(const struct sg_request_info *r)
{
    char ids[SG_UUID_STR_LEN + 1], sub[SG_UUID_STR_LEN + 1], t[SG_TIME_STR_MAX], d1[11], d2[11],
        d3[11];
    sg_day_format(r->due, d1);
    sg_day_format(r->received_day, d3);
    if (r->extended_due)
        sg_day_format(r->extended_due, d2);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s?,s:I,s:b,s:b,s:s?}", "id",
                          sg_uuid_format(&r->id, ids), "kind", sg_request_kind_name(r->kind),
                          "state", sg_request_state_name(r->state), "channel", r->channel,
                          "subject", r->has_subject ? sg_uuid_format(&r->subject, sub) : NULL,
                          "received", sg_time_format(r->received, t), "received_day", d3, "due", d1,
                          "extended_due", r->extended_due ? d2 : NULL, "paused_days",
                          (json_int_t)r->paused_days, "paused", r->paused, "overdue", r->overdue,
                          "identity", r->identity[0] ? r->identity : NULL);
    if (j && r->has_identical) {
        char idn[SG_UUID_STR_LEN + 1];
        json_object_set_new(j, "identical_to", json_string(sg_uuid_format(&r->identical, idn)));
    }
    return j;
}

static void request_post(struct sg_req *r)
{
    static const char *const keys[] = {"kind", "channel", "subject", "received", "agent", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    int bad = 0;
    const char *kind = opt_str(r, "kind", &bad), *channel = opt_str(r, "channel", &bad),
               *subject = opt_str(r, "subject", &bad), *received = opt_str(r, "received", &bad),
               *agent = opt_str(r, "agent", &bad);
    if (bad)
        return;
    struct sg_uuid sid;
    sg_time at = 0;
    struct sg_err err;
    struct sg_request_info info;
    if ((subject && sg_uuid_parse(subject, &sid, &err)) ||
        (received && sg_time_parse(received, &at, &err))) {
        sg_req_fail(r, &err);
        return;
    }
    int k = kind_of(r, kind);
    if (!k)
        return;
    if (sg_request_new(r->vault, &r->actor, k, channel, subject ? &sid : NULL, at, agent, &info,
                       &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 201, request_json(&info));
}

static int request_row(void *ctx, const struct sg_request_info *x)
{
    json_array_append_new(ctx, request_json(x));
    return 0;
}

static void requests_get(struct sg_req *r)
{
    struct sg_request_query q;
    struct sg_err err;
    struct sg_uuid sid;
    memset(&q, 0, sizeof q);
    const char *o = sg_req_arg(r, "overdue"), *dw = sg_req_arg(r, "due_within"),
               *sub = sg_req_arg(r, "subject");
    q.overdue = o && (!strcmp(o, "1") || !strcmp(o, "true"));
    uint64_t days = 0;
    if (dw && (get_u64(dw, &days) || days > 3650)) {
        sg_req_error(r, SG_INVALID, "'due_within' is a number of days");
        return;
    }
    q.due_within = (int)days;
    if (sub) {
        if (sg_uuid_parse(sub, &sid, &err)) {
            sg_req_fail(r, &err);
            return;
        }
        q.subject = &sid;
    }
    json_t *arr = json_array();
    if (sg_request_list(r->vault, &r->actor, &q, request_row, arr, &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:o}", "requests", arr));
}

static int request_event(void *ctx, const struct sg_request_event *e)
{
    char t[SG_TIME_STR_MAX];
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:s,s:s,s:s?}", "at", sg_time_format(e->at, t),
                                         "verb", e->verb, "state", sg_request_state_name(e->state),
                                         "actor", e->actor, "reason", e->reason));
    return 0;
}

static void request_get(struct sg_req *r)
{
    struct sg_uuid id;
    struct sg_err err;
    struct sg_request_info info;
    if (get_id(r, 0, &id))
        return;
    json_t *ev = json_array();
    if (sg_request_get(r->vault, &r->actor, &id, &info, request_event, ev, &err)) {
        json_decref(ev);
        sg_req_fail(r, &err);
        return;
    }
    json_t *j = request_json(&info);
    json_object_set_new(j, "events", ev);
    sg_req_json(r, 200, j);
}

/* POST /v1/requests/{id}/{verb}: the transitions. */
static void request_act(struct sg_req *r)
{
    static const char *const keys[] = {"method", "subject", "reason",  "ground", "fields",
                                       "proof",  "purpose", "outcome", NULL};
    struct sg_uuid id, sid;
    struct sg_err err;
    if (get_id(r, 0, &id) || (r->body && sg_req_body_keys(r, keys)))
        return;
    int bad = 0;
    const char *verb = r->params[1], *method = opt_str(r, "method", &bad),
               *subject = opt_str(r, "subject", &bad), *reason = opt_str(r, "reason", &bad),
               *ground = opt_str(r, "ground", &bad), *proof = opt_str(r, "proof", &bad),
               *purpose = opt_str(r, "purpose", &bad), *outcome = opt_str(r, "outcome", &bad);
    if (bad)
        return;
    if (subject && sg_uuid_parse(subject, &sid, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    enum sg_rc rc;
    json_t *extra = NULL;
    if (!strcmp(verb, "verify"))
        rc = sg_request_verify(r->vault, &r->actor, &id, method, subject ? &sid : NULL, &err);
    else if (!strcmp(verb, "pause"))
        rc = sg_request_pause(r->vault, &r->actor, &id, reason, &err);
    else if (!strcmp(verb, "resume"))
        rc = sg_request_resume(r->vault, &r->actor, &id, &err);
    else if (!strcmp(verb, "extend"))
        rc = sg_request_extend(r->vault, &r->actor, &id, reason, &err);
    else if (!strcmp(verb, "refuse"))
        rc = sg_request_refuse(r->vault, &r->actor, &id, ground, reason, &err);
    else if (!strcmp(verb, "withdraw"))
        rc = sg_request_withdraw(r->vault, &r->actor, &id, &err);
    else if (!strcmp(verb, "fulfil")) {
        struct sg_field_in f[MAX_FIELDS];
        size_t nf = 0;
        json_t *fj = r->body ? json_object_get(r->body, "fields") : NULL;
        if (fj && sg_json_fields(fj, f, MAX_FIELDS, &nf, &err)) {
            sg_req_fail(r, &err);
            return;
        }
        struct sg_fulfil_in in = {f, nf, proof, ground, purpose, outcome};
        struct sg_fulfil_out out;
        rc = sg_request_fulfil(r->vault, &r->actor, &id, &in, &out, &err);
        if (!rc) {
            json_t *files = files_json(&out);
            extra = json_pack("{s:s,s:s,s:s,s:I,s:o}", "held", out.held, "art19_recipients",
                              out.recipients, "art19_told", out.notified, "fee_cents",
                              (json_int_t)out.fee_cents, "files", files);
            sg_fulfil_out_release(&out);
        }
    } else {
        sg_req_error(r, SG_NOTFOUND, "no such step of a request");
        return;
    }
    if (rc) {
        json_decref(extra);
        sg_req_fail(r, &err);
        return;
    }
    struct sg_request_info info;
    if (sg_request_get(r->vault, &r->actor, &id, &info, NULL, NULL, &err)) {
        json_decref(extra);
        sg_req_fail(r, &err);
        return;
    }
    json_t *j = request_json(&info);
    if (extra)
        json_object_update(j, extra);
    json_decref(extra);
    sg_req_json(r, 200, j);
}

/* ---------------------------------------------- people at their own data */

static void me_code(struct sg_req *r)
{
    static const char *const keys[] = {"email", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    json_t *e = json_object_get(r->body, "email");
    if (!json_is_string(e) || !json_string_length(e)) {
        sg_req_error(r, SG_INVALID, "a sign-in code is asked for with an 'email'");
        return;
    }
    if (limited(r))
        return;
    /* Looked up and sent by the housekeeping thread after the answer: the
     * answer and its timing are the same whether or not anyone has the
     * address (done here, a known address's code took longer to queue). */
    if (sg_code_later(json_string_value(e))) {
        sg_req_error(r, SG_UNAVAILABLE, "too many sign-in codes are waiting; try again");
        r->retry_after = 5;
        return;
    }
    sg_req_json(r, 202,
                json_pack("{s:s}", "sent",
                          "if the address is on file, a code is on its way; it is valid for 10 "
                          "minutes"));
}

static void me_session_open(struct sg_req *r)
{
    static const char *const keys[] = {"email", "code", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    json_t *e = json_object_get(r->body, "email"), *c = json_object_get(r->body, "code");
    r->person_cookie = 1;
    if (!json_is_string(e) || !json_is_string(c)) {
        sg_req_error(r, SG_INVALID, "a sign-in needs an 'email' and a 'code'");
        return;
    }
    if (limited(r))
        return;
    char secret[SG_SESSION_MAX];
    struct sg_uuid id;
    struct sg_err err;
    enum sg_rc rc = sg_person_session_open(r->vault, SG_CATEGORY_EMAIL, json_string_value(e),
                                           json_string_value(c), secret, &id, &err);
    if (rc) {
        sg_req_fail(r, &err);
        if (rc == SG_DENIED)
            r->status = 401;
        if (rc == SG_LIMITED)
            r->retry_after = 60;
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie, "%s", secret);
    sodium_memzero(secret, sizeof secret);
    char ids[SG_UUID_STR_LEN + 1];
    sg_req_json(r, 200, json_pack("{s:s,s:b}", "id", sg_uuid_format(&id, ids), "signed_in", 1));
}

static void me_session_close(struct sg_req *r)
{
    struct sg_err err;
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SG_PERSON_COOKIE);
    if (sg_person_session_close(r->vault, cookie, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    r->clear_cookie = 1;
    sg_req_json(r, 200, json_pack("{s:b}", "signed_in", 0));
}

static void me_get(struct sg_req *r)
{
    struct sg_subject *s;
    struct sg_err err;
    if (sg_subject_get(r->vault, &r->actor, &r->self, 0, &s, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, sg_json_subject(s));
    sg_subject_free(s);
}

/* The consents of a person at a glance: each consent-based purpose with
 * its state now (the last event, or none), and the ledger. */
struct me_consents {
    json_t *events;
    json_t *state; /* purpose id -> state name */
    sg_time now;
};

static int me_consent_row(void *ctx, const struct sg_consent_event *e)
{
    struct me_consents *m = ctx;
    const char *st = sg_consent_state_name(e->state);
    if (e->state == SG_CONSENT_GIVEN && e->expires && e->expires <= m->now)
        st = sg_consent_state_name(SG_CONSENT_EXPIRED);
    json_object_set_new(m->state, e->purpose, json_string(st));
    int r = consent_row(m->events, e);
    /* "by" says whether the person, a guardian or an agent acted; which
     * member of staff recorded it is the controller's business. */
    json_t *last = json_array_get(m->events, json_array_size(m->events) - 1);
    if (last)
        json_object_del(last, "actor");
    return r;
}

static void me_consents(struct sg_req *r)
{
    struct sg_err err;
    struct me_consents m = {json_array(), json_object(), sg_clock_now(NULL)};
    if (sg_consent_list(r->vault, &r->actor, &r->self, me_consent_row, &m, &err)) {
        json_decref(m.events);
        json_decref(m.state);
        sg_req_fail(r, &err);
        return;
    }
    const struct sg_policy *p = sg_vault_policy(r->vault);
    const char *lang = sg_req_arg(r, "lang");
    if (!lang && p)
        lang = p->languages[0];
    json_t *purposes = json_array();
    for (size_t i = 0; p && i < p->npurposes; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        if (u->basis != SG_BASIS_CONSENT)
            continue;
        json_t *st = json_object_get(m.state, u->id);
        json_array_append_new(purposes, json_pack("{s:s,s:s?,s:s?,s:s}", "purpose", u->id, "name",
                                                  sg_text_any(&u->name, lang), "description",
                                                  sg_text_any(&u->description, lang), "state",
                                                  st ? json_string_value(st) : "none"));
    }
    json_decref(m.state);
    sg_req_json(r, 200, json_pack("{s:o,s:o}", "purposes", purposes, "events", m.events));
}

static void me_consent_post(struct sg_req *r)
{
    static const char *const keys[] = {"purpose", "state", "language", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    int bad = 0;
    const char *purpose = opt_str(r, "purpose", &bad), *state = opt_str(r, "state", &bad);
    struct sg_consent_in in;
    memset(&in, 0, sizeof in);
    in.lang = opt_str(r, "language", &bad);
    if (bad)
        return;
    enum sg_consent_state st = !state                        ? SG_CONSENT_NONE
                               : !strcmp(state, "given")     ? SG_CONSENT_GIVEN
                               : !strcmp(state, "withdrawn") ? SG_CONSENT_WITHDRAWN
                               : !strcmp(state, "refused")   ? SG_CONSENT_REFUSED
                                                             : SG_CONSENT_NONE;
    if (!st) {
        sg_req_error(r, SG_INVALID, "'state' is given, withdrawn or refused");
        return;
    }
    /* The person at their own account: a web form, by the person. */
    in.method = SG_METHOD_WEB_FORM;
    struct sg_consent_subject subj = {&r->self, NULL, NULL};
    struct sg_err err;
    if (sg_consent_record(r->vault, &r->actor, &subj, purpose, st, &in, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 201, json_pack("{s:s,s:s}", "purpose", purpose, "recorded", state));
}

static void me_request_post(struct sg_req *r)
{
    static const char *const keys[] = {"kind", NULL};
    if (sg_req_body_keys(r, keys))
        return;
    int bad = 0;
    const char *kind = opt_str(r, "kind", &bad);
    if (bad)
        return;
    int k = kind_of(r, kind);
    if (!k)
        return;
    struct sg_request_info info;
    struct sg_fulfil_out out;
    struct sg_err err;
    memset(&out, 0, sizeof out);
    if (sg_person_request(r->vault, &r->self, k, &info, &out, &err)) {
        sg_fulfil_out_release(&out);
        sg_req_fail(r, &err);
        return;
    }
    json_t *j = request_json(&info);
    if (out.nfiles)
        json_object_set_new(j, "files", files_json(&out));
    sg_fulfil_out_release(&out);
    sg_req_json(r, 201, j);
}

static void me_requests(struct sg_req *r)
{
    struct sg_err err;
    json_t *arr = json_array();
    if (sg_person_requests(r->vault, &r->self, request_row, arr, &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:o}", "requests", arr));
}

/* -------------------------------------------------------------- retention */

static void sweep_get(struct sg_req *r)
{
    struct sg_err err;
    if (sg_retention_allowed(r->vault, &r->actor, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    json_t *j = NULL;
    sg_sweep_status(&j);
    sg_req_json(r, 200, j);
}

static void sweep_post(struct sg_req *r)
{
    struct sg_err err;
    if (sg_retention_allowed(r->vault, &r->actor, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_sweep_request();
    sg_req_json(r, 202, json_pack("{s:s}", "sweep", "requested"));
}

static int outbox_row(void *ctx, const struct sg_message_info *m)
{
    char ids[SG_UUID_STR_LEN + 1], sub[SG_UUID_STR_LEN + 1], t1[SG_TIME_STR_MAX],
        t2[SG_TIME_STR_MAX];
    json_t *j =
        json_pack("{s:s,s:s?,s:s,s:s,s:s,s:i,s:s?}", "id", sg_uuid_format(&m->id, ids), "subject",
                  m->has_subject ? sg_uuid_format(&m->subject, sub) : NULL, "kind", m->kind,
                  "state", sg_message_state_name(m->state), "created",
                  sg_time_format(m->created, t1), "attempts", m->attempts, "error", m->error);
    if (j)
        json_object_set_new(j, "sent",
                            m->sent ? json_string(sg_time_format(m->sent, t2)) : json_null());
    json_array_append_new(ctx, j);
    return 0;
}

static void outbox_get(struct sg_req *r)
{
    struct sg_err err;
    const char *st = sg_req_arg(r, "state");
    int state = st ? sg_message_state_parse(st) : -1;
    if (st && state < 0) {
        sg_req_error(r, SG_INVALID, "'state' is queued, sent, failed or dropped");
        return;
    }
    json_t *arr = json_array();
    if (sg_outbox_list(r->vault, &r->actor, state, outbox_row, arr, &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:o}", "messages", arr));
}

static int stat_row(void *ctx, const char *cat, const char *val, int year, uint64_t count)
{
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:i,s:I}", "category", cat, "value", val, "year",
                                         year, "count", (json_int_t)count));
    return 0;
}

static void statistics_get(struct sg_req *r)
{
    struct sg_err err;
    json_t *arr = json_array();
    if (sg_statistics(r->vault, &r->actor, stat_row, arr, &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:o}", "statistics", arr));
}

static void event_post(struct sg_req *r)
{
    static const char *const keys[] = {"at", NULL};
    struct sg_err err;
    sg_time at = sg_clock_now(NULL);
    if (r->body) {
        if (sg_req_body_keys(r, keys))
            return;
        json_t *a = json_object_get(r->body, "at");
        if (a && (!json_is_string(a) || sg_time_parse(json_string_value(a), &at, &err))) {
            sg_req_error(r, SG_INVALID, "'at' must be an RFC 3339 time");
            return;
        }
    }
    if (sg_global_event(r->vault, &r->actor, r->params[0], at, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    char t[SG_TIME_STR_MAX];
    sg_req_json(r, 200, json_pack("{s:s,s:s}", "event", r->params[0], "at", sg_time_format(at, t)));
}

/* ------------------------------------------------------------------ audit */

static void audit_head(struct sg_req *r)
{
    struct sg_audit_head h;
    struct sg_err err;
    if (sg_audit_latest(r->vault, &h, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, sg_json_head(&h));
    sg_audit_head_release(&h);
}

static int add_head(void *ctx, const struct sg_audit_head *h)
{
    json_array_append_new(ctx, sg_json_head(h));
    return json_array_size(ctx) >= 1000;
}

static void audit_heads(struct sg_req *r)
{
    uint64_t from = 0;
    struct sg_err err;
    const char *s = sg_req_arg(r, "since");
    if (s && get_u64(s, &from)) {
        sg_req_error(r, SG_INVALID, "'since' must be a size");
        return;
    }
    json_t *arr = json_array();
    if (sg_audit_heads(r->vault, from, add_head, arr, &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, arr);
}

static void audit_key(struct sg_req *r)
{
    char key[256];
    struct sg_err err;
    if (sg_audit_verifier_key(r->vault, key, sizeof key, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, json_pack("{s:s}", "verifier_key", key));
}

static void audit_proof(struct sg_req *r)
{
    uint64_t index, size = 0;
    const char *is = sg_req_arg(r, "index"), *ss = sg_req_arg(r, "size");
    if (get_u64(is, &index) || (ss && (get_u64(ss, &size) || !size))) {
        sg_req_error(r, SG_INVALID, "a proof needs 'index' and may have 'size'");
        return;
    }
    uint8_t leaf[SG_HASH_BYTES], root[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t n = 0;
    struct sg_err err;
    if (sg_audit_prove(r->vault, index, &size, leaf, proof, &n, root, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    char lh[65], rh[65];
    sg_req_json(r, 200,
                json_pack("{s:I,s:I,s:s,s:s,s:o}", "index", (json_int_t)index, "size",
                          (json_int_t)size, "leaf_hash", sg_hex_encode(leaf, 32, lh), "root",
                          sg_hex_encode(root, 32, rh), "proof", sg_json_hashes(proof, n)));
}

static void audit_consistency(struct sg_req *r)
{
    uint64_t m, n = 0;
    const char *fs = sg_req_arg(r, "from"), *ts = sg_req_arg(r, "to");
    if (get_u64(fs, &m) || (ts && (get_u64(ts, &n) || !n))) {
        sg_req_error(r, SG_INVALID, "a consistency proof needs 'from' and may have 'to'");
        return;
    }
    uint8_t r1[SG_HASH_BYTES], r2[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t count = 0;
    struct sg_err err;
    if (sg_audit_consistency(r->vault, m, &n, proof, &count, r1, r2, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    char h1[65], h2[65];
    sg_req_json(r, 200,
                json_pack("{s:I,s:I,s:s,s:s,s:o}", "size1", (json_int_t)m, "size2", (json_int_t)n,
                          "root1", sg_hex_encode(r1, 32, h1), "root2", sg_hex_encode(r2, 32, h2),
                          "proof", sg_json_hashes(proof, count)));
}

static int add_entry(void *ctx, const struct sg_audit_entry *e)
{
    json_array_append_new(ctx, sg_json_audit_entry(e));
    return 0;
}

static void audit_log(struct sg_req *r)
{
    struct sg_uuid id;
    sg_time since = 0;
    uint64_t limit = 100;
    struct sg_err err;
    const char *s = sg_req_arg(r, "subject"), *t = sg_req_arg(r, "since"),
               *l = sg_req_arg(r, "limit");
    if ((s && sg_uuid_parse(s, &id, &err)) || (t && sg_time_parse(t, &since, &err))) {
        sg_req_fail(r, &err);
        return;
    }
    if (l && (get_u64(l, &limit) || limit < 1 || limit > 10000)) {
        sg_req_error(r, SG_INVALID, "'limit' must be a number from 1 to 10000");
        return;
    }
    json_t *arr = json_array();
    if (sg_audit_log(r->vault, &r->actor, s ? &id : NULL, since, (size_t)limit, add_entry, arr,
                     &err)) {
        json_decref(arr);
        sg_req_fail(r, &err);
        return;
    }
    sg_req_json(r, 200, arr);
}

static void audit_verify(struct sg_req *r)
{
    struct sg_audit_report rep;
    struct sg_err err;
    if (sg_audit_verify(r->vault, &r->actor, &rep, &err)) {
        sg_req_fail(r, &err);
        return;
    }
    json_t *j = json_pack("{s:b,s:I,s:I}", "valid", rep.ok, "entries", (json_int_t)rep.entries,
                          "heads", (json_int_t)rep.heads);
    if (j && !rep.ok) {
        json_object_set_new(j, "first_bad_entry", json_integer((json_int_t)rep.first_bad));
        json_object_set_new(j, "problem", json_string(rep.problem));
    }
    sg_req_json(r, 200, j);
}

const struct sg_route sg_routes[] = {
    {"GET", "/healthz", healthz, 1, 0, SG_RUN_DIRECT, 0},
    {"GET", "/metrics", metrics, 1, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/openapi.yaml", openapi, 1, 0, SG_RUN_DIRECT, 0},
    {"GET", "/.well-known/gpc.json", gpc, 1, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/notice", notice, 1, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/ropa", ropa, 0, 0, SG_RUN_DIRECT, 0},
    {"POST", "/v1/session", session_open, 1, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/session", session_get, 0, 1, SG_RUN_DIRECT, 0},
    {"DELETE", "/v1/session", session_close, 0, 1, SG_RUN_DIRECT, 0},
    {"POST", "/v1/session/password", session_password, 0, 1, SG_RUN_DIRECT, 0},
    {"POST", "/v1/subjects", subject_add, 0, 0, SG_RUN_WRITE, 0},
    {"GET", "/v1/subjects", subject_list, 0, 0, SG_RUN_READ, 0},
    {"GET", "/v1/subjects/{id}", subject_get, 0, 0, SG_RUN_READ, 0},
    {"PATCH", "/v1/subjects/{id}", subject_update, 0, 0, SG_RUN_WRITE, 0},
    {"DELETE", "/v1/subjects/{id}", subject_erase, 0, 0, SG_RUN_WRITE, 0},
    {"POST", "/v1/subjects/{id}/events", subject_touch, 0, 0, SG_RUN_WRITE, 0},
    {"PUT", "/v1/subjects/{id}/groups/{group}", subject_join, 0, 0, SG_RUN_WRITE, 0},
    {"DELETE", "/v1/subjects/{id}/groups/{group}", subject_leave, 0, 0, SG_RUN_WRITE, 0},
    {"POST", "/v1/lookup", lookup, 0, 0, SG_RUN_READ, 0},
    {"GET", "/v1/may", may_get, 0, 0, SG_RUN_LOOK, 0},
    {"POST", "/v1/may", may_post, 0, 0, SG_RUN_LOOK, 0},
    {"POST", "/v1/may/batch", may_batch, 0, 0, SG_RUN_DIRECT, 0},
    {"POST", "/v1/consents", consent_post, 0, 0, SG_RUN_WRITE, 0},
    {"GET", "/v1/consents/key", consent_key, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/subjects/{id}/consents", consent_list, 0, 0, SG_RUN_READ, 0},
    {"GET", "/v1/subjects/{id}/consents/export", consent_export, 0, 0, SG_RUN_READ, 0},
    {"GET", "/v1/subjects/{id}/consents/{seq}/receipt", consent_receipt, 0, 0, SG_RUN_READ, 0},
    {"POST", "/v1/subjects/{id}/objections", objection_post, 0, 0, SG_RUN_WRITE, 0},
    {"PUT", "/v1/subjects/{id}/restriction", restrict_put, 0, 0, SG_RUN_WRITE, 0},
    {"DELETE", "/v1/subjects/{id}/restriction", restrict_delete, 0, 0, SG_RUN_WRITE, 0},
    {"POST", "/v1/requests", request_post, 0, 0, SG_RUN_WRITE, 0},
    {"GET", "/v1/requests", requests_get, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/requests/{id}", request_get, 0, 0, SG_RUN_DIRECT, 0},
    {"POST", "/v1/requests/{id}/{verb}", request_act, 0, 0, SG_RUN_WRITE, 0},
    {"GET", "/v1/sweep", sweep_get, 0, 0, SG_RUN_DIRECT, 0},
    {"POST", "/v1/sweep", sweep_post, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/outbox", outbox_get, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/statistics", statistics_get, 0, 0, SG_RUN_DIRECT, 0},
    {"POST", "/v1/events/{name}", event_post, 0, 0, SG_RUN_WRITE, 0},
    {"GET", "/v1/audit/head", audit_head, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/audit/heads", audit_heads, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/audit/key", audit_key, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/audit/proof", audit_proof, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/audit/consistency", audit_consistency, 0, 0, SG_RUN_DIRECT, 0},
    {"GET", "/v1/audit/log", audit_log, 0, 0, SG_RUN_READ, 0},
    {"POST", "/v1/audit/verify", audit_verify, 0, 0, SG_RUN_DIRECT, 0},
    {"POST", "/v1/me/code", me_code, 1, 0, SG_RUN_DIRECT, 1},
    {"POST", "/v1/me/session", me_session_open, 1, 0, SG_RUN_DIRECT, 1},
    {"DELETE", "/v1/me/session", me_session_close, 0, 0, SG_RUN_DIRECT, 1},
    {"GET", "/v1/me", me_get, 0, 0, SG_RUN_READ, 1},
    {"GET", "/v1/me/consents", me_consents, 0, 0, SG_RUN_READ, 1},
    {"POST", "/v1/me/consents", me_consent_post, 0, 0, SG_RUN_WRITE, 1},
    {"GET", "/v1/me/requests", me_requests, 0, 0, SG_RUN_DIRECT, 1},
    {"POST", "/v1/me/requests", me_request_post, 0, 0, SG_RUN_WRITE, 1},
};

const size_t sg_nroutes = sizeof sg_routes / sizeof sg_routes[0];
