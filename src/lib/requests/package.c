/*
 * package.c - fulfilling requests: the access package (JSON, CSV per
 * category, an HTML page), the portability export, rectification, erasure
 * with holds, and the answers to the person.
 */
#include "request_int.h"

#include "sargs/audit.h"
#include "sargs/consent.h"
#include "sargs/text.h"

#include "../outbox/outbox_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_fulfil_out_release(struct sg_fulfil_out *out)
{
    for (size_t i = 0; i < out->nfiles; i++) {
        if (out->files[i].data)
            sodium_memzero(out->files[i].data, out->files[i].len);
        free(out->files[i].data);
    }
    free(out->files);
    out->files = NULL;
    out->nfiles = 0;
}

static enum sg_rc add_file(struct sg_fulfil_out *out, const char *name, char *data, size_t len,
                           struct sg_err *err)
{
    struct sg_answer_file *f = realloc(out->files, (out->nfiles + 1) * sizeof *f);
    if (!f) {
        free(data);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    out->files = f;
    snprintf(f[out->nfiles].name, sizeof f[out->nfiles].name, "%s", name);
    f[out->nfiles].data = data;
    f[out->nfiles].len = len;
    out->nfiles++;
    return SG_OK;
}

/* The reading an answer needs: every field, as the controller holds it. */
static struct sg_actor full_reader(const struct sg_actor *who)
{
    struct sg_actor a = {who->id, SG_ROLE_OPERATOR, "request", NULL, NULL};
    return a;
}

const char *sg_req_lang(const struct sg_policy *p, const struct sg_subject *s)
{
    for (size_t i = 0; s && i < s->nfields; i++)
        if (strcmp(s->fields[i].category, "user.demographic.language") == 0 &&
            sg_policy_has_language(p, s->fields[i].value))
            return s->fields[i].value;
    return p->languages[0];
}

int sg_req_lv(const char *lang)
{
    return strcmp(lang, "lv") == 0;
}

/* ------------------------------------------------------------------ text */

static void html(struct sg_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *e = *s == '<'    ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '&'  ? "&amp;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (e)
            (void)sg_buf_add(b, e, strlen(e), NULL);
        else
            (void)sg_buf_add(b, s, 1, NULL);
    }
}

static void raw(struct sg_buf *b, const char *s)
{
    (void)sg_buf_add(b, s, strlen(s), NULL);
}

static void csv_cell(struct sg_buf *b, const char *s)
{
    raw(b, "\"");
    for (; *s; s++) {
        if (*s == '"')
            raw(b, "\"");
        (void)sg_buf_add(b, s, 1, NULL);
    }
    raw(b, "\"");
}

/* ------------------------------------------------------- what applies here */

static int has_category(const struct sg_subject *s, const char *id)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].category, id) == 0)
            return 1;
    return 0;
}

/* Purposes that actually apply to this person: they use a category the
 * person has, and for consent purposes a consent was given. */
static int purpose_applies(struct sg_vault *v, const struct sg_actor *who,
                           const struct sg_purpose *p, const struct sg_subject *s)
{
    int uses = 0;
    for (size_t k = 0; k < p->ncategories && !uses; k++)
        uses = has_category(s, p->categories[k]->id);
    if (!uses)
        return 0;
    if (p->basis != SG_BASIS_CONSENT)
        return 1;
    struct sg_decision d;
    struct sg_err e;
    return sg_may(v, who, &s->id, p->id, 0, &d, &e) == SG_OK && d.consent != SG_CONSENT_NONE;
}

struct disclosures {
    json_t *arr;
    sg_time since;
    const struct sg_policy *p;
    const char *lang;
};

static int see_disclosure(void *ctx, const struct sg_audit_entry *e)
{
    struct disclosures *d = ctx;
    if (strcmp(e->action, "subject.disclose") != 0 || e->at < d->since || !e->details ||
        strncmp(e->details, "recipient:", 10) != 0)
        return 0;
    const struct sg_recipient *r = sg_policy_recipient(d->p, e->details + 10);
    /* Disclosures to confidential recipients (law enforcement) never show. */
    if (!r || r->confidential)
        return 0;
    char t[SG_TIME_STR_MAX];
    json_array_append_new(d->arr, json_pack("{s:s,s:s,s:s}", "recipient", r->id, "name",
                                            sg_text_any(&r->name, d->lang), "at",
                                            sg_time_format(e->at, t)));
    return 0;
}

static json_t *texts(const struct sg_text *t, const char *lang)
{
    const char *s = sg_text_any(t, lang);
    return s ? json_string(s) : json_null();
}

static const char *retention_of(const struct sg_policy *p, const struct sg_category *c,
                                const char *lang, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < p->nretention; i++) {
        const struct sg_retention *r = &p->retention[i];
        int covers = r->all_categories;
        for (size_t k = 0; k < r->ncategories && !covers; k++)
            covers = r->categories[k] == c;
        if (!covers || r->action == SG_ACT_NOTIFY)
            continue;
        const char *d = sg_text_get(&r->description, lang);
        if (d)
            snprintf(buf, cap, "%s", d);
        else if (r->action == SG_ACT_KEEP)
            snprintf(buf, cap, "%s", sg_text_any(&r->criteria, lang));
        else {
            char dur[SG_DURATION_STR_MAX];
            snprintf(buf, cap, "%s %s %s %s", sg_action_name(r->action),
                     sg_req_lv(lang) ? "pēc" : "after", sg_duration_format(&r->after, dur),
                     r->anchor);
        }
        return buf;
    }
    return buf;
}

/* ---------------------------------------------------------------- access */

static enum sg_rc access_package(struct sg_vault *v, const struct sg_actor *who,
                                 const struct sg_store_request *rq, const struct sg_subject *s,
                                 struct sg_fulfil_out *out, struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    const char *lang = sg_req_lang(p, s);
    char ids[SG_UUID_STR_LEN + 1], rid[SG_UUID_STR_LEN + 1], t[SG_TIME_STR_MAX], ret[512];
    sg_uuid_format(&s->id, ids);
    sg_uuid_format(&rq->id, rid);
    struct sg_actor reader = full_reader(who);

    json_t *doc = json_pack("{s:s,s:s,s:s,s:s}", "format", "sargs-access/1", "request", rid,
                            "subject", ids, "generated", sg_time_format(sg_clock_now(v->clock), t));
    json_t *ctrl = json_array(), *cats = json_array(), *purposes = json_array(),
           *events = json_object();
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_controller *c = &p->controllers[i];
        json_array_append_new(
            ctrl, json_pack("{s:o,s:s?,s:s?}", "name", texts(&c->contact.name, lang), "email",
                            c->contact.email, "dpo", c->has_dpo ? c->dpo.email : NULL));
    }
    /* (a) purposes, (b) categories, (c) recipients, (d) retention, (g) source,
     * (h) automated decisions: for this person. */
    for (size_t i = 0; i < s->nfields; i++) {
        const struct sg_category *c = sg_catalog_find(v->catalog, s->fields[i].category);
        char ch[SG_TIME_STR_MAX];
        json_t *used = json_array();
        for (size_t k = 0; c && k < p->npurposes; k++)
            for (size_t j = 0; j < p->purposes[k].ncategories; j++)
                if (p->purposes[k].categories[j] == c)
                    json_array_append_new(used, json_string(p->purposes[k].id));
        json_array_append_new(
            cats,
            json_pack("{s:s,s:o,s:s,s:s,s:o,s:s,s:o}", "category", s->fields[i].category, "name",
                      c ? texts(&c->name, lang) : json_null(), "value", s->fields[i].value,
                      "stored", sg_time_format(s->fields[i].changed, ch), "purposes", used,
                      "retention", c ? retention_of(p, c, lang, ret, sizeof ret) : "", "source",
                      c && c->source == SG_SOURCE_OTHER
                          ? texts(&c->source_name, lang)
                          : json_string(sg_req_lv(lang) ? "jūs" : "you")));
    }
    for (size_t k = 0; k < p->npurposes; k++) {
        const struct sg_purpose *pu = &p->purposes[k];
        if (!purpose_applies(v, &reader, pu, s))
            continue;
        json_t *rec = json_array(), *auto_ = json_array();
        for (size_t j = 0; j < pu->nrecipients; j++)
            if (!pu->recipients[j]->confidential)
                json_array_append_new(rec, texts(&pu->recipients[j]->name, lang));
        for (size_t j = 0; j < pu->nautomated; j++)
            json_array_append_new(auto_,
                                  json_pack("{s:o,s:o,s:o}", "description",
                                            texts(&pu->automated[j].description, lang), "logic",
                                            texts(&pu->automated[j].logic, lang), "consequences",
                                            texts(&pu->automated[j].consequences, lang)));
        json_array_append_new(purposes,
                              json_pack("{s:s,s:o,s:s,s:o,s:o}", "purpose", pu->id, "name",
                                        texts(&pu->name, lang), "basis", sg_basis_name(pu->basis),
                                        "recipients", rec, "automated_decisions", auto_));
    }
    for (size_t i = 0; i < s->nevents; i++)
        json_object_set_new(events, s->events[i].name,
                            json_string(sg_time_format(s->events[i].at, t)));
    /* Disclosures of the last two years, from the audit log. */
    struct disclosures dc = {json_array(), 0, p, lang};
    struct sg_duration two = {-2, 0, 0, 0};
    dc.since = sg_duration_add(sg_clock_now(v->clock), &two);
    enum sg_rc rc = sg_audit_log(v, &reader, &s->id, dc.since, 0, see_disclosure, &dc, err);
    const struct sg_contact *auth =
        p->ncontrollers && p->controllers[0].authority ? p->controllers[0].authority : NULL;
    json_object_set_new(doc, "controllers", ctrl);
    json_object_set_new(doc, "data", cats);
    json_object_set_new(doc, "purposes", purposes);
    json_object_set_new(doc, "disclosed_to", dc.arr);
    json_object_set_new(doc, "events", events);
    json_object_set_new(
        doc, "rights",
        json_pack("{s:s,s:o}", "text",
                  sg_req_lv(lang)
                      ? "Jums ir tiesības piekļūt saviem datiem, labot tos, dzēst, ierobežot "
                        "apstrādi, iebilst un saņemt datus pārnešanai, kā arī iesniegt "
                        "sūdzību uzraudzības iestādei un vērsties tiesā."
                      : "You may access, rectify and erase your data, restrict or object to "
                        "its processing, receive it for portability, and complain to the "
                        "supervisory authority and to a court.",
                  "authority", auth ? texts(&auth->name, lang) : json_null()));
    if (rc) {
        json_decref(doc);
        return rc;
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text || (rc = add_file(out, "access.json", text, strlen(text), err))) {
        json_decref(doc);
        return rc ? rc : sg_err_set(err, SG_NOMEM, "out of memory");
    }

    /* A CSV per category. */
    for (size_t i = 0; i < s->nfields && !rc; i++) {
        struct sg_buf b;
        char name[64], ch[SG_TIME_STR_MAX];
        sg_buf_init(&b, 1 << 22);
        raw(&b, "category,value,stored\r\n");
        csv_cell(&b, s->fields[i].category);
        raw(&b, ",");
        csv_cell(&b, s->fields[i].value);
        raw(&b, ",");
        csv_cell(&b, sg_time_format(s->fields[i].changed, ch));
        raw(&b, "\r\n");
        snprintf(name, sizeof name, "%.55s.csv", s->fields[i].category);
        size_t len = b.len;
        rc = add_file(out, name, sg_buf_detach(&b, NULL), len, err);
    }

    /* The readable page. */
    struct sg_buf h;
    sg_buf_init(&h, 1 << 24);
    raw(&h, "<!doctype html>\n<html lang=\"");
    html(&h, lang);
    raw(&h, "\"><head><meta charset=\"utf-8\"><title>");
    raw(&h, sg_req_lv(lang) ? "Jūsu dati" : "Your data");
    raw(&h, "</title></head><body>\n<h1>");
    raw(&h, sg_req_lv(lang) ? "Jūsu dati" : "Your data");
    raw(&h, "</h1>\n<table>\n");
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(doc, "data"), i, c)
    {
        raw(&h, "<tr><th>");
        html(&h, json_string_value(json_object_get(c, "name"))
                     ? json_string_value(json_object_get(c, "name"))
                     : json_string_value(json_object_get(c, "category")));
        raw(&h, "</th><td>");
        html(&h, json_string_value(json_object_get(c, "value")));
        raw(&h, "</td><td>");
        html(&h, json_string_value(json_object_get(c, "retention")));
        raw(&h, "</td><td>");
        html(&h, json_string_value(json_object_get(c, "source")));
        raw(&h, "</td></tr>\n");
    }
    raw(&h, "</table>\n<h2>");
    raw(&h, sg_req_lv(lang) ? "Nolūki" : "Purposes");
    raw(&h, "</h2>\n<ul>\n");
    json_array_foreach(json_object_get(doc, "purposes"), i, c)
    {
        raw(&h, "<li>");
        html(&h, json_string_value(json_object_get(c, "name")));
        raw(&h, " (");
        html(&h, json_string_value(json_object_get(c, "basis")));
        raw(&h, ")</li>\n");
    }
    raw(&h, "</ul>\n<h2>");
    raw(&h, sg_req_lv(lang) ? "Kam dati izpausti pēdējos divos gados"
                            : "Disclosed in the last two years");
    raw(&h, "</h2>\n<ul>\n");
    json_array_foreach(json_object_get(doc, "disclosed_to"), i, c)
    {
        raw(&h, "<li>");
        html(&h, json_string_value(json_object_get(c, "name")));
        raw(&h, " ");
        html(&h, json_string_value(json_object_get(c, "at")));
        raw(&h, "</li>\n");
    }
    raw(&h, "</ul>\n<p>");
    html(&h, json_string_value(json_object_get(json_object_get(doc, "rights"), "text")));
    raw(&h, "</p>\n</body></html>\n");
    json_decref(doc);
    if (!rc) {
        size_t len = h.len;
        rc = add_file(out, "access.html", sg_buf_detach(&h, NULL), len, err);
    } else {
        sg_buf_release(&h);
    }
    return rc;
}

static enum sg_rc portability(struct sg_vault *v, const struct sg_subject *s,
                              struct sg_fulfil_out *out, struct sg_err *err)
{
    /* What the person provided themself: categories whose source they are. */
    json_t *f = json_object();
    struct sg_buf b;
    sg_buf_init(&b, 1 << 24);
    raw(&b, "category,value\r\n");
    for (size_t i = 0; i < s->nfields; i++) {
        const struct sg_category *c = sg_catalog_find(v->catalog, s->fields[i].category);
        if (!c || c->source != SG_SOURCE_SUBJECT || c->opinion)
            continue;
        json_object_set_new(f, s->fields[i].category, json_string(s->fields[i].value));
        csv_cell(&b, s->fields[i].category);
        raw(&b, ",");
        csv_cell(&b, s->fields[i].value);
        raw(&b, "\r\n");
    }
    char ids[SG_UUID_STR_LEN + 1];
    json_t *doc = json_pack("{s:s,s:s,s:s,s:o}", "format", "sargs-portability/1", "schema",
                            "fields: category id (fideslang) -> value, as the person gave it",
                            "subject", sg_uuid_format(&s->id, ids), "fields", f);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    enum sg_rc rc = text ? add_file(out, "portability.json", text, strlen(text), err)
                         : sg_err_set(err, SG_NOMEM, "out of memory");
    size_t len = b.len;
    if (!rc)
        rc = add_file(out, "portability.csv", sg_buf_detach(&b, NULL), len, err);
    else
        sg_buf_release(&b);
    return rc;
}

/* ---------------------------------------------------------------- erasure */

static const char *const grounds17[] = {"no_longer_necessary",
                                        "consent_withdrawn",
                                        "objection",
                                        "unlawful",
                                        "legal_obligation",
                                        "child",
                                        NULL};

/* A category a legal obligation holds: a purpose on that basis uses it. */
static int held(const struct sg_policy *p, const char *cat)
{
    for (size_t k = 0; k < p->npurposes; k++) {
        if (p->purposes[k].basis != SG_BASIS_LEGAL_OBLIGATION)
            continue;
        for (size_t j = 0; j < p->purposes[k].ncategories; j++)
            if (strcmp(p->purposes[k].categories[j]->id, cat) == 0)
                return 1;
    }
    return 0;
}

static int drop_unheld(void *ctx, const char *cat, sg_time changed)
{
    (void)changed;
    return !held(ctx, cat);
}

static enum sg_rc erase(struct sg_vault *v, const struct sg_actor *who, const struct sg_subject *s,
                        struct sg_fulfil_out *out, struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    struct sg_actor reader = full_reader(who);
    for (size_t i = 0; i < s->nfields; i++)
        if (held(p, s->fields[i].category)) {
            size_t n = strlen(out->held);
            snprintf(out->held + n, sizeof out->held - n, "%s%s", n ? ", " : "",
                     s->fields[i].category);
        }
    if (!out->held[0]) {
        out->state = SG_RS_FULFILLED;
        return sg_subject_erase(v, &reader, &s->id, err);
    }
    /* Held values stay (a legal obligation); the rest goes now. */
    out->state = SG_RS_PARTIALLY_FULFILLED;
    size_t n = strlen(out->held);
    snprintf(out->held + n, sizeof out->held - n, " (kept: a legal obligation)");
    struct sg_opmark mark;
    struct sg_store_subject row;
    size_t removed = 0;
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    rc = sg_vault_load_subject(v, &s->id, &row, 1, err);
    if (!rc)
        rc = sg_vault_drop_fields(v, &s->id, drop_unheld, (void *)p, sg_clock_now(v->clock),
                                  &removed, err);
    if (!rc)
        rc = sg_audit_record_details(&v->audit, v->store, who, sg_clock_now(v->clock),
                                     "subject.erase_partly", &s->id, "ok", 1, out->held,
                                     strlen(out->held), err);
    sg_vault_forget_key(v);
    return sg_op_end(v, mark, rc, err);
}

/* ------------------------------------------------------------- the answer */

/* Queues `subject` and `body` to the person's address, if the vault has
 * one; the message is sealed under the person's key. */
static enum sg_rc send_answer(struct sg_vault *v, const struct sg_uuid *id, const char *subj,
                              const char *body, struct sg_err *err)
{
    struct sg_opmark mark;
    struct sg_store_subject row;
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    rc = sg_vault_load_subject(v, id, &row, 1, err);
    char *to = NULL;
    size_t len = 0;
    const struct sg_category *c = sg_catalog_find(v->catalog, SG_CATEGORY_EMAIL);
    enum sg_rc frc = !rc && c ? sg_vault_loaded_field(v, id, c, &to, &len, err) : SG_NOTFOUND;
    if (!rc && frc == SG_OK)
        rc = sg_outbox_queue(v, id, row.dek_version, "request-answer", to, subj, body,
                             sg_clock_now(v->clock), NULL, err);
    else if (!rc && frc != SG_NOTFOUND)
        rc = frc;
    if (to) {
        sodium_memzero(to, len);
        free(to);
    }
    sg_vault_forget_key(v);
    /* No address, or the person is gone: the answer goes on the channel. */
    if (rc == SG_NOTFOUND || rc == SG_CONFLICT) {
        sg_op_end(v, mark, rc, err);
        return SG_OK;
    }
    return sg_op_end(v, mark, rc, err);
}

static void complaint(const struct sg_policy *p, const char *lang, char *out, size_t cap)
{
    const struct sg_contact *a =
        p->ncontrollers && p->controllers[0].authority ? p->controllers[0].authority : NULL;
    const char *name = a ? sg_text_any(&a->name, lang) : NULL;
    if (!name)
        name = "Datu valsts inspekcija";
    snprintf(out, cap,
             sg_req_lv(lang)
                 ? "Jums ir tiesības iesniegt sūdzību uzraudzības iestādei (%s%s%s) un "
                   "vērsties tiesā."
                 : "You have the right to complain to the supervisory authority (%s%s%s) "
                   "and to go to court.",
             name, a && a->web ? ", " : "", a && a->web ? a->web : "");
}

enum sg_rc sg_req_answer(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                         const char *ground, const char *reason, struct sg_err *err)
{
    (void)who;
    struct sg_request_info info;
    struct sg_actor reader = {"sargs:requests", SG_ROLE_OPERATOR, "request", NULL, NULL};
    enum sg_rc rc = sg_request_get(v, &reader, id, &info, NULL, NULL, err);
    if (rc || !info.has_subject)
        return rc;
    const char *lang = v->policy->languages[0];
    char body[4096], comp[512], rid[SG_UUID_STR_LEN + 1];
    complaint(v->policy, lang, comp, sizeof comp);
    snprintf(body, sizeof body,
             sg_req_lv(lang) ? "Jūsu pieprasījums %s (%s) ir noraidīts. Pamats: %s.%s%s\n%s\n"
                             : "Your request %s (%s) is refused. Ground: %s.%s%s\n%s\n",
             sg_uuid_format(id, rid), sg_request_kind_name(info.kind), ground, reason ? " " : "",
             reason ? reason : "", comp);
    return send_answer(v, &info.subject,
                       sg_req_lv(lang) ? "Atbilde uz jūsu pieprasījumu" : "Answer to your request",
                       body, err);
}

/* --------------------------------------------------------------- fulfil */

struct req_copy {
    struct sg_store_request r;
    char channel[33], identity[33], agent[129];
};

static int copy_req(void *ctx, const struct sg_store_request *r)
{
    struct req_copy *c = ctx;
    c->r = *r;
    snprintf(c->channel, sizeof c->channel, "%s", r->channel);
    snprintf(c->identity, sizeof c->identity, "%s", r->identity ? r->identity : "");
    snprintf(c->agent, sizeof c->agent, "%s", r->agent ? r->agent : "");
    c->r.channel = c->channel;
    c->r.identity = c->identity[0] ? c->identity : NULL;
    c->r.agent = c->agent[0] ? c->agent : NULL;
    return 1;
}

struct copies {
    int n;
};

/* Access packages the person already had. */
static int count_copies(void *ctx, const struct sg_store_request *r)
{
    struct copies *c = ctx;
    c->n += r->kind == SG_REQ_ACCESS && r->copies > 0;
    return 0;
}

static enum sg_consent_method method_of(const char *channel)
{
    if (!strcmp(channel, "email") || !strcmp(channel, "email_signed"))
        return SG_METHOD_EMAIL;
    if (!strcmp(channel, "post") || !strcmp(channel, "registered_post"))
        return SG_METHOD_PAPER;
    if (!strcmp(channel, "in_person"))
        return SG_METHOD_IN_PERSON;
    if (!strcmp(channel, "phone"))
        return SG_METHOD_PHONE;
    return SG_METHOD_WEB_FORM;
}

static enum sg_rc withdraw_all(struct sg_vault *v, const struct sg_actor *reader,
                               const struct sg_store_request *r, const char *purpose,
                               struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    struct sg_consent_subject cs = {&r->subject, NULL, NULL};
    struct sg_consent_in in = {method_of(r->channel), NULL, NULL, NULL, NULL, NULL};
    if (purpose)
        return sg_consent_record(v, reader, &cs, purpose, SG_CONSENT_WITHDRAWN, &in, err);
    enum sg_rc rc = SG_OK;
    for (size_t k = 0; k < p->npurposes && !rc; k++) {
        if (p->purposes[k].basis != SG_BASIS_CONSENT)
            continue;
        struct sg_decision d;
        if ((rc = sg_may(v, reader, &r->subject, p->purposes[k].id, 0, &d, err)))
            break;
        if (d.consent == SG_CONSENT_GIVEN || d.consent == SG_CONSENT_RENEWED ||
            d.consent == SG_CONSENT_EXPIRED)
            rc = sg_consent_record(v, reader, &cs, p->purposes[k].id, SG_CONSENT_WITHDRAWN, &in,
                                   err);
    }
    return rc;
}

static enum sg_rc rectify(struct sg_vault *v, const struct sg_actor *reader,
                          const struct sg_store_request *r, const struct sg_fulfil_in *in,
                          struct sg_err *err)
{
    if (!in->nfields)
        return sg_err_set(err, SG_INVALID, "a rectification needs the corrected values (--field)");
    for (size_t i = 0; i < in->nfields; i++) {
        const struct sg_category *c = sg_catalog_find(v->catalog, in->fields[i].category);
        if (!c)
            return sg_err_set(err, SG_INVALID, "unknown category '%.64s'", in->fields[i].category);
        if (c->opinion)
            return sg_err_set(err, SG_INVALID,
                              "'%s' is an assessment, not a fact: it can be annotated, not "
                              "rectified",
                              c->id);
        if (!c->person_decides && (!in->proof || !*in->proof))
            return sg_err_set(err, SG_INVALID,
                              "'%s' is changed on proof (--proof): only the person's own "
                              "categories need none",
                              c->id);
    }
    char reason[600], rid[SG_UUID_STR_LEN + 1];
    snprintf(reason, sizeof reason, "request %s%s%.500s", sg_uuid_format(&r->id, rid),
             in->proof ? ", proof: " : "", in->proof ? in->proof : "");
    return sg_subject_update(v, reader, &r->subject, in->fields, in->nfields, reason, NULL, err);
}

static enum sg_rc fulfil(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                         const struct sg_fulfil_in *in, struct sg_fulfil_out *out,
                         struct sg_err *err);

enum sg_rc sg_request_fulfil(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const struct sg_fulfil_in *in,
                             struct sg_fulfil_out *out, struct sg_err *err)
{
    static const struct sg_fulfil_in none = {0};
    enum sg_rc rc;
    memset(out, 0, sizeof *out);
    if (!in)
        in = &none;
    if ((rc = sg_view_require_staff(v, who, "request.handle", err)))
        return rc;
    /* One transaction from reading the request to recording the answer:
     * two fulfilments at once (two nodes, two clerks) queue, and the second
     * finds the request answered; a failure leaves nothing done. */
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = fulfil(v, who, id, in, out, err);
    rc = sg_op_end(v, mark, rc, err);
    if (rc)
        sg_fulfil_out_release(out);
    return rc;
}

static enum sg_rc fulfil(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                         const struct sg_fulfil_in *in, struct sg_fulfil_out *out,
                         struct sg_err *err)
{
    enum sg_rc rc;
    struct req_copy cp;
    rc = v->store->ops->request_get(v->store, id, copy_req, &cp, err);
    if (rc == SG_NOTFOUND) {
        char ids[SG_UUID_STR_LEN + 1];
        return sg_err_set(err, SG_NOTFOUND, "no request %s", sg_uuid_format(id, ids));
    }
    if (rc)
        return rc;
    struct sg_store_request *r = &cp.r;
    if (r->state >= SG_RS_FULFILLED)
        return sg_err_set(err, SG_CONFLICT, "the request is already %s",
                          sg_request_state_name(r->state));
    if (!r->identity || !r->has_subject)
        return sg_err_set(err, SG_CONFLICT,
                          "the person is not identified yet: verify before fulfilling");
    if (r->state == SG_RS_AWAITING_CLARIFICATION)
        return sg_err_set(err, SG_CONFLICT, "the request is paused: resume it first");
    const struct sg_policy *p = v->policy;
    struct sg_actor reader = full_reader(who);
    struct sg_subject *s = NULL, *now = NULL;
    out->state = SG_RS_FULFILLED;
    switch (r->kind) {
    case SG_REQ_ACCESS:
    case SG_REQ_PORTABILITY:
    case SG_REQ_ERASURE:
    case SG_REQ_RECTIFICATION:
    case SG_REQ_RESTRICTION:
        if ((rc = sg_subject_get(v, &reader, &r->subject, 0, &s, err)))
            return rc;
        break;
    default:
        break;
    }
    switch (r->kind) {
    case SG_REQ_ACCESS: {
        rc = access_package(v, who, r, s, out, err);
        /* The first copy is free; further ones carry the policy's fee. */
        struct copies cc = {0};
        struct sg_request_filter f = {0, 0, 1, r->subject, 0, 0};
        if (!rc)
            rc = v->store->ops->request_each(v->store, &f, count_copies, &cc, err);
        if (!rc && cc.n >= 1)
            out->fee_cents = p->requests.extra_copy_fee_cents;
        r->copies++;
        break;
    }
    case SG_REQ_PORTABILITY:
        rc = portability(v, s, out, err);
        break;
    case SG_REQ_RECTIFICATION:
        rc = rectify(v, &reader, r, in, err);
        if (!rc)
            rc = sg_subject_get(v, &reader, &r->subject, 0, &now, err);
        break;
    case SG_REQ_ERASURE: {
        int known = 0;
        for (const char *const *g = grounds17; *g && in->ground; g++)
            known |= strcmp(*g, in->ground) == 0;
        if (!known) {
            rc = sg_err_set(err, SG_INVALID,
                            "an erasure rests on an Art. 17(1) ground: no_longer_necessary, "
                            "consent_withdrawn, objection, unlawful, legal_obligation, child");
            break;
        }
        rc = erase(v, who, s, out, err);
        break;
    }
    case SG_REQ_RESTRICTION:
        rc = sg_restrict(v, &reader, &r->subject, 0, err);
        break;
    case SG_REQ_OBJECTION:
        if (!in->purpose)
            rc = sg_err_set(err, SG_INVALID, "an objection names its purpose (--purpose)");
        else
            rc = sg_object(v, &reader, &r->subject, in->purpose, NULL, 0, err);
        break;
    case SG_REQ_WITHDRAWAL:
        rc = withdraw_all(v, &reader, r, in->purpose, err);
        break;
    case SG_REQ_REVIEW:
        if (!in->outcome || !*in->outcome)
            rc = sg_err_set(err, SG_INVALID,
                            "a review records the outcome of the human review (--outcome)");
        break;
    }
    /* Art. 19, then the erasure's answer, which names the recipients. */
    if (!rc && (r->kind == SG_REQ_ERASURE || r->kind == SG_REQ_RECTIFICATION ||
                r->kind == SG_REQ_RESTRICTION))
        rc = sg_req_art19(v, who, r, s, now, in, out, err);
    if (!rc && r->kind == SG_REQ_ERASURE)
        rc = sg_req_erasure_answer(v, r, s, out, err);
    sg_subject_free(s);
    sg_subject_free(now);
    if (rc) {
        sg_fulfil_out_release(out);
        return rc;
    }
    /* The transition, its reason, the answer. */
    struct sg_req_clock c;
    if ((rc = sg_req_clock(v, &c, err))) {
        sg_fulfil_out_release(out);
        return rc;
    }
    char why[2048];
    snprintf(why, sizeof why, "%s%s%s%s%s%s%s%s", in->ground ? in->ground : "",
             out->held[0] ? "; held: " : "", out->held, out->recipients[0] ? "; Art. 19: " : "",
             out->recipients, out->notified[0] ? "; told: " : "", out->notified,
             in->outcome ? in->outcome : "");
    r->state = out->state;
    struct sg_opmark mark;
    if (!(rc = sg_op_begin(v, &mark, err))) {
        rc = sg_req_transition(v, who, r,
                               out->state == SG_RS_FULFILLED ? "fulfilled" : "partially fulfilled",
                               why[0] ? why : NULL, &c, err);
        rc = sg_op_end(v, mark, rc, err);
    }
    sg_req_clock_release(&c);
    if (!rc && r->kind != SG_REQ_ERASURE) {
        const char *lang = p->languages[0];
        char body[2048], rid[SG_UUID_STR_LEN + 1];
        snprintf(body, sizeof body,
                 sg_req_lv(lang) ? "Jūsu pieprasījums %s (%s) ir izpildīts.%s\n"
                                 : "Your request %s (%s) has been fulfilled.%s\n",
                 sg_uuid_format(id, rid), sg_request_kind_name(r->kind),
                 r->kind == SG_REQ_ACCESS || r->kind == SG_REQ_PORTABILITY
                     ? (sg_req_lv(lang)
                            ? " Atbilde tiek nodota pieprasījuma kanālā."
                            : " The answer is handed over on the channel of the request.")
                     : "");
        rc = send_answer(
            v, &r->subject,
            sg_req_lv(lang) ? "Atbilde uz jūsu pieprasījumu" : "Answer to your request", body, err);
    }
    if (rc)
        sg_fulfil_out_release(out);
    return rc;
}
