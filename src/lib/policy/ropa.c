/*
 * ropa.c - the record of processing activities of Art. 30(1), one activity
 * per purpose: (a) the controllers and DPO, (b) the purpose, (c) the
 * categories of data subjects and of data, (d) the recipients, (e) the
 * transfers and their safeguards, (f) the time limits for erasure, (g) the
 * security measures. As JSON (jansson) or CSV (RFC 4180).
 */
#include "policy_int.h"
#include "words.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *jtext(const struct sg_text *t, const char *lang)
{
    const char *s = sg_text_any(t, lang);
    return s ? json_string(s) : json_null();
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *contact_json(const struct sg_contact *c, const char *lang)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o}", "name", jtext(&c->name, lang), "address",
                     jtext(&c->address, lang), "email", jstr(c->email), "phone", jstr(c->phone),
                     "web", jstr(c->web));
}

/* Retention sentences of a purpose: its own rules, or those covering its
 * categories when it lists none. */
static int rule_applies(const struct sg_purpose *u, const struct sg_retention *r)
{
    if (u->nretention) {
        for (size_t i = 0; i < u->nretention; i++)
            if (u->retention[i] == r)
                return 1;
        return 0;
    }
    if (r->all_categories)
        return 1;
    for (size_t i = 0; i < r->ncategories; i++)
        for (size_t k = 0; k < u->ncategories; k++)
            if (r->categories[i] == u->categories[k])
                return 1;
    return 0;
}

static enum sg_rc activity_json(const struct sg_policy *p, const struct sg_purpose *u,
                                const char *lang, json_t **out, struct sg_err *err)
{
    struct sg_buf b;
    sg_buf_init(&b, SG_POLICY_MAX_BYTES);
    enum sg_rc rc = words_basis(&b, u->basis,
                                u->ncontrollers   ? u->controllers[0]->regulation
                                : p->ncontrollers ? p->controllers[0].regulation
                                                  : p->regulation,
                                lang, err);
    json_t *a = json_object();
    json_t *ctl = json_array(), *subj = json_array(), *cats = json_array(), *rcpt = json_array(),
           *tr = json_array(), *ret = json_array();
    if (!a || !ctl || !subj || !cats || !rcpt || !tr || !ret)
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < (u->ncontrollers ? u->ncontrollers : p->ncontrollers); i++)
        json_array_append_new(ctl,
                              jstr(u->ncontrollers ? u->controllers[i]->id : p->controllers[i].id));
    for (size_t i = 0; !rc && i < u->nsubjects; i++)
        json_array_append_new(subj, jtext(&u->subjects[i]->name, lang));
    for (size_t i = 0; !rc && i < u->ncategories; i++) {
        const struct sg_category *c = u->categories[i];
        json_t *sp = c->special ? json_pack("{s:s,s:s}", "kind", sg_special_name(c->special),
                                            "condition", sg_art9_name(c->art9))
                                : json_null();
        json_array_append_new(cats,
                              json_pack("{s:s,s:o,s:o,s:o}", "id", c->id, "name",
                                        jtext(&c->name, lang), "special", sp, "source",
                                        c->source == SG_SOURCE_OTHER ? jtext(&c->source_name, lang)
                                                                     : json_string("subject")));
    }
    for (size_t i = 0; !rc && i < u->nrecipients; i++) {
        const struct sg_recipient *r = u->recipients[i];
        json_array_append_new(rcpt, json_pack("{s:s,s:o,s:s,s:o,s:b}", "id", r->id, "name",
                                              jtext(&r->name, lang), "kind",
                                              sg_recipient_kind_name(r->kind), "country",
                                              jstr(r->country), "third_country", r->third_country));
    }
    for (size_t i = 0; !rc && i < u->ntransfers; i++) {
        const struct sg_recipient *r = u->transfers[i];
        json_array_append_new(tr, json_pack("{s:s,s:o,s:s,s:o}", "recipient", r->id, "country",
                                            jstr(r->country), "safeguard",
                                            sg_safeguard_name(r->safeguard), "safeguard_text",
                                            jtext(&r->safeguard_text, lang)));
    }
    for (size_t i = 0; !rc && i < p->nretention; i++) {
        if (!rule_applies(u, &p->retention[i]))
            continue;
        struct sg_buf s;
        sg_buf_init(&s, SG_POLICY_MAX_BYTES);
        rc = words_retention(&s, p, &p->retention[i], lang, err);
        if (!rc)
            json_array_append_new(ret, json_pack("{s:s,s:s}", "rule", p->retention[i].id, "text",
                                                 s.ptr ? s.ptr : ""));
        sg_buf_release(&s);
    }
    if (!rc) {
        json_object_set_new(a, "purpose", json_string(u->id));
        json_object_set_new(a, "name", jtext(&u->name, lang));
        json_object_set_new(a, "description", jtext(&u->description, lang));
        json_object_set_new(a, "controllers", ctl);
        json_object_set_new(a, "legal_basis", json_string(sg_basis_name(u->basis)));
        json_object_set_new(a, "legal_basis_text", json_string(b.ptr ? b.ptr : ""));
        json_object_set_new(a, "basis_reference", jtext(&u->basis_reference, lang));
        json_object_set_new(a, "legitimate_interest", jtext(&u->legitimate_interest, lang));
        json_object_set_new(a, "balance_test", jtext(&u->balance_test, lang));
        json_object_set_new(a, "data_subjects", subj);
        json_object_set_new(a, "categories", cats);
        json_object_set_new(a, "recipients", rcpt);
        json_object_set_new(a, "transfers", tr);
        json_object_set_new(a, "retention", ret);
        json_object_set_new(a, "automated_decisions", json_boolean(u->nautomated > 0));
        json_object_set_new(a, "profiling", json_boolean(u->profiling));
        json_object_set_new(a, "direct_marketing", json_boolean(u->direct_marketing));
        *out = a;
    } else {
        json_decref(a);
        json_decref(ctl);
        json_decref(subj);
        json_decref(cats);
        json_decref(rcpt);
        json_decref(tr);
        json_decref(ret);
    }
    sg_buf_release(&b);
    return rc;
}

static enum sg_rc ropa_json(const struct sg_policy *p, const char *lang, struct sg_buf *out,
                            struct sg_err *err)
{
    enum sg_rc rc = SG_OK;
    json_t *root = json_object(), *ctl = json_array(), *acts = json_array();
    if (!root || !ctl || !acts) {
        json_decref(root);
        json_decref(ctl);
        json_decref(acts);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_controller *c = &p->controllers[i];
        json_t *j = contact_json(&c->contact, lang);
        if (!j)
            continue;
        json_object_set_new(j, "id", jstr(c->id));
        json_object_set_new(j, "kind", json_string(sg_controller_kind_name(c->kind)));
        json_object_set_new(j, "registration", jstr(c->registration));
        json_object_set_new(j, "country", jstr(c->country));
        json_object_set_new(j, "regulation",
                            json_string(c->regulation == SG_REG_EUDPR ? "eudpr" : "gdpr"));
        json_object_set_new(j, "dpo", c->has_dpo ? contact_json(&c->dpo, lang) : json_null());
        json_array_append_new(ctl, j);
    }
    for (size_t i = 0; i < p->npurposes && !rc; i++) {
        json_t *a = NULL;
        if (!(rc = activity_json(p, &p->purposes[i], lang, &a, err)))
            json_array_append_new(acts, a);
    }
    if (rc) {
        json_decref(root);
        json_decref(ctl);
        json_decref(acts);
        return rc;
    }
    json_object_set_new(root, "record", json_string("Art. 30(1) record of processing activities"));
    json_object_set_new(root, "policy", jstr(p->id));
    json_object_set_new(root, "title", jtext(&p->title, lang));
    json_object_set_new(root, "version", json_string(p->hash));
    json_object_set_new(root, "language", json_string(lang));
    json_object_set_new(root, "controllers", ctl);
    json_object_set_new(root, "activities", acts);
    json_object_set_new(root, "security_measures", jtext(&p->security, lang));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    sg_buf_reset(out);
    rc = sg_buf_adds(out, s, err);
    if (!rc)
        rc = sg_buf_adds(out, "\n", err);
    free(s);
    return rc;
}

/* ---------------------------------------------------------------------- csv */

static enum sg_rc csv_field(struct sg_buf *out, const char *s, int last, struct sg_err *err)
{
    enum sg_rc rc = sg_buf_adds(out, "\"", err);
    for (const char *c = s ? s : ""; *c && !rc; c++)
        rc = *c == '"' ? sg_buf_adds(out, "\"\"", err) : sg_buf_add(out, c, 1, err);
    if (!rc)
        rc = sg_buf_adds(out, last ? "\"\r\n" : "\",", err);
    return rc;
}

/* Joins the strings of JSON array `a` (or its members' `key`) with "; ". */
static enum sg_rc join_json(struct sg_buf *b, json_t *a, const char *key, struct sg_err *err)
{
    size_t i;
    json_t *v;
    enum sg_rc rc = SG_OK;
    sg_buf_reset(b);
    json_array_foreach(a, i, v)
    {
        json_t *x = key ? json_object_get(v, key) : v;
        const char *s = json_string_value(x);
        if (!s)
            continue;
        if (b->len)
            rc = sg_buf_adds(b, "; ", err);
        if (!rc)
            rc = sg_buf_adds(b, s, err);
        if (rc)
            break;
    }
    return rc;
}

static enum sg_rc ropa_csv(const struct sg_policy *p, const char *lang, struct sg_buf *out,
                           struct sg_err *err)
{
    static const char *const cols[] = {"purpose_id",
                                       "purpose",
                                       "controllers",
                                       "dpo",
                                       "legal_basis",
                                       "legitimate_interest",
                                       "data_subjects",
                                       "categories",
                                       "special_categories",
                                       "recipients",
                                       "third_country_transfers",
                                       "retention",
                                       "security_measures",
                                       NULL};
    enum sg_rc rc = SG_OK;
    sg_buf_reset(out);
    for (size_t i = 0; cols[i] && !rc; i++)
        rc = csv_field(out, cols[i], !cols[i + 1], err);
    struct sg_buf f;
    sg_buf_init(&f, SG_POLICY_MAX_BYTES);
    for (size_t i = 0; i < p->npurposes && !rc; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        json_t *a = NULL;
        if ((rc = activity_json(p, u, lang, &a, err)))
            break;
        rc = csv_field(out, u->id, 0, err);
        if (!rc)
            rc = csv_field(out, sg_text_any(&u->name, lang), 0, err);
        /* controllers and their DPOs, by name */
        sg_buf_reset(&f);
        struct sg_buf d;
        sg_buf_init(&d, SG_POLICY_MAX_BYTES);
        size_t nc = u->ncontrollers ? u->ncontrollers : p->ncontrollers;
        for (size_t k = 0; k < nc && !rc; k++) {
            const struct sg_controller *c =
                u->ncontrollers ? u->controllers[k] : &p->controllers[k];
            const char *name = sg_text_any(&c->contact.name, lang);
            rc = sg_buf_addf(&f, err, "%s%s", f.len ? "; " : "", name ? name : "");
            if (!rc && c->has_dpo)
                rc = sg_buf_addf(&d, err, "%s%s", d.len ? "; " : "",
                                 c->dpo.email ? c->dpo.email : sg_text_any(&c->dpo.address, lang));
        }
        if (!rc)
            rc = csv_field(out, f.ptr, 0, err);
        if (!rc)
            rc = csv_field(out, d.ptr, 0, err);
        sg_buf_release(&d);
        if (!rc)
            rc = csv_field(out, json_string_value(json_object_get(a, "legal_basis_text")), 0, err);
        if (!rc)
            rc = csv_field(out, sg_text_get(&u->legitimate_interest, lang), 0, err);
        if (!rc && !(rc = join_json(&f, json_object_get(a, "data_subjects"), NULL, err)))
            rc = csv_field(out, f.ptr, 0, err);
        if (!rc && !(rc = join_json(&f, json_object_get(a, "categories"), "name", err)))
            rc = csv_field(out, f.ptr, 0, err);
        sg_buf_reset(&f);
        for (size_t k = 0; k < u->ncategories && !rc; k++)
            if (u->categories[k]->special)
                rc = sg_buf_addf(&f, err, "%s%s (%s)", f.len ? "; " : "", u->categories[k]->id,
                                 sg_art9_name(u->categories[k]->art9));
        if (!rc)
            rc = csv_field(out, f.ptr, 0, err);
        if (!rc && !(rc = join_json(&f, json_object_get(a, "recipients"), "name", err)))
            rc = csv_field(out, f.ptr, 0, err);
        sg_buf_reset(&f);
        for (size_t k = 0; k < u->ntransfers && !rc; k++) {
            const struct sg_recipient *r = u->transfers[k];
            const char *name = sg_text_any(&r->name, lang);
            rc = sg_buf_addf(&f, err, "%s%s (%s): %s", f.len ? "; " : "", name ? name : r->id,
                             r->country ? r->country : "third countries",
                             sg_safeguard_name(r->safeguard));
        }
        if (!rc)
            rc = csv_field(out, f.ptr, 0, err);
        if (!rc && !(rc = join_json(&f, json_object_get(a, "retention"), "text", err)))
            rc = csv_field(out, f.ptr, 0, err);
        if (!rc)
            rc = csv_field(out, sg_text_any(&p->security, lang), 1, err);
        json_decref(a);
    }
    sg_buf_release(&f);
    return rc;
}

enum sg_rc sg_ropa_render(const struct sg_policy *p, enum sg_doc_format format, const char *lang,
                          struct sg_buf *out, struct sg_err *err)
{
    if (!lang)
        lang = p->nlanguages ? p->languages[0] : "en";
    if (!sg_policy_has_language(p, lang))
        return sg_err_set(err, SG_INVALID, "'%s' is not a language of the policy", lang);
    if (format == SG_FORMAT_JSON)
        return ropa_json(p, lang, out, err);
    if (format == SG_FORMAT_CSV)
        return ropa_csv(p, lang, out, err);
    return sg_err_set(err, SG_INVALID, "the record of processing is written as csv or json");
}
