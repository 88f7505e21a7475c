/*
 * notify.c - Art. 19: the recipients of a person's data are told of a
 * rectification, an erasure or a restriction; and the answer to an
 * erasure, which must reach the person after their key is gone.
 *
 * Both are sealed apart from the person's key (sg_outbox_queue_apart):
 * what announces an erasure cannot be sealed under the key it destroys.
 */
#include "request_int.h"

#include "sargs/audit.h"
#include "sargs/text.h"

#include "../outbox/outbox_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTICE_MAX 8192

/* The category id of an id or alias, or NULL. */
static const char *cat_id(const struct sg_policy *p, const char *id_or_alias)
{
    const struct sg_category *c = sg_policy_category(p, id_or_alias);
    return c ? c->id : NULL;
}

/* Whether the change touches category `cat`: for a rectification, one of
 * the corrected categories; otherwise any the person has. */
static int touches(const struct sg_policy *p, const struct sg_subject *s,
                   const struct sg_fulfil_in *in, int rectify, const char *cat)
{
    if (rectify) {
        for (size_t i = 0; i < in->nfields; i++) {
            const char *id = cat_id(p, in->fields[i].category);
            if (id && strcmp(id, cat) == 0)
                return 1;
        }
        return 0;
    }
    for (size_t i = 0; s && i < s->nfields; i++)
        if (strcmp(s->fields[i].category, cat) == 0)
            return 1;
    return 0;
}

/* Whether recipient `r` receives category `cat` (a purpose names both). */
static int receives(const struct sg_policy *p, const struct sg_recipient *r, const char *cat)
{
    for (size_t k = 0; k < p->npurposes; k++) {
        const struct sg_purpose *pu = &p->purposes[k];
        int named = 0;
        for (size_t j = 0; j < pu->nrecipients && !named; j++)
            named = pu->recipients[j] == r;
        for (size_t j = 0; named && j < pu->ncategories; j++)
            if (strcmp(pu->categories[j]->id, cat) == 0)
                return 1;
    }
    return 0;
}

/* Whether the change reached `r`: a purpose gives it a category the change
 * touches, or the person's data was disclosed to it (a disclosure does not
 * say which categories: for a rectification it counts unless the policy
 * says what `r` receives and that is none of the corrected ones).
 * Confidential recipients are never named to the person. */
static int concerned(const struct sg_policy *p, const struct sg_recipient *r,
                     const struct sg_subject *s, const struct sg_fulfil_in *in, int rectify,
                     int disclosed)
{
    if (r->confidential)
        return 0;
    int in_purposes = 0;
    for (size_t k = 0; k < p->npurposes; k++) {
        const struct sg_purpose *pu = &p->purposes[k];
        int named = 0;
        for (size_t j = 0; j < pu->nrecipients && !named; j++)
            named = pu->recipients[j] == r;
        in_purposes |= named;
        for (size_t j = 0; named && j < pu->ncategories; j++)
            if (touches(p, s, in, rectify, pu->categories[j]->id))
                return 1;
    }
    return disclosed && (!rectify || !in_purposes);
}

/* The recipients the person's data was disclosed to, from the disclosure
 * events of the audit log (sg_subject_disclose). */
struct disclosed {
    const struct sg_policy *p;
    unsigned char *hit; /* per recipient of the policy */
};

static int see_disclosure(void *ctx, const struct sg_audit_entry *e)
{
    struct disclosed *d = ctx;
    if (strcmp(e->action, "subject.disclose") != 0 || !e->details ||
        strncmp(e->details, "recipient:", 10) != 0)
        return 0;
    for (size_t i = 0; i < d->p->nrecipients; i++)
        if (strcmp(d->p->recipients[i].id, e->details + 10) == 0)
            d->hit[i] = 1;
    return 0;
}

static const char *value_of(const struct sg_subject *s, const char *cat)
{
    for (size_t i = 0; s && i < s->nfields; i++)
        if (strcmp(s->fields[i].category, cat) == 0)
            return s->fields[i].value;
    return NULL;
}

/* Appends to a string, cut at `cap`. */
__attribute__((format(printf, 3, 4))) static void add(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    if (n + 1 < cap)
        vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
}

static const char *cat_name(const struct sg_policy *p, const char *id, const char *lang)
{
    const struct sg_category *c = sg_policy_category(p, id);
    const char *name = c ? sg_text_any(&c->name, lang) : NULL;
    return name ? name : id;
}

/* The notice to one recipient. `before` identifies the person as the
 * recipient knows them; `after` holds the corrected values. */
static void notice(const struct sg_policy *p, const struct sg_recipient *r, int kind,
                   const struct sg_store_request *req, const struct sg_subject *before,
                   const struct sg_subject *after, const struct sg_fulfil_in *in, char *subj,
                   size_t scap, char *body, size_t cap)
{
    const char *lang = p->languages[0];
    int l = sg_req_lv(lang);
    const char *me = p->ncontrollers ? sg_text_any(&p->controllers[0].contact.name, lang) : NULL;
    const char *them = sg_text_any(&r->name, lang);
    char rid[SG_UUID_STR_LEN + 1];
    sg_uuid_format(&req->id, rid);
    static const char *const what_en[] = {"erased", "rectified", "restricted the processing of"};
    static const char *const what_lv[] = {"ir dzēsti tālāk norādītās personas dati, kas",
                                          "ir laboti tālāk norādītās personas dati, kas",
                                          "ir ierobežota tālāk norādītās personas datu apstrāde; "
                                          "šie dati"};
    static const char *const subj_en[] = {"Erasure of personal data",
                                          "Rectification of personal data",
                                          "Restriction of processing of personal data"};
    static const char *const subj_lv[] = {"Personas datu dzēšana", "Personas datu labošana",
                                          "Personas datu apstrādes ierobežošana"};
    static const char *const ask_en[] = {
        "Please erase the data you received from us, unless a law requires you to keep it.",
        "Please rectify the data you received from us.",
        "Please restrict the processing of the data you received from us until we tell you "
        "that the restriction is lifted."};
    static const char *const ask_lv[] = {
        "Lūdzam dzēst no mums saņemtos datus, ja vien likums neprasa tos glabāt.",
        "Lūdzam labot no mums saņemtos datus.",
        "Lūdzam ierobežot no mums saņemto datu apstrādi, līdz paziņosim, ka ierobežojums ir "
        "atcelts."};
    int k = kind == SG_REQ_ERASURE ? 0 : kind == SG_REQ_RECTIFICATION ? 1 : 2;
    snprintf(subj, scap, "%s (%s)", l ? subj_lv[k] : subj_en[k],
             l ? "VDAR 19. pants" : "GDPR Art. 19");
    body[0] = '\0';
    if (l)
        snprintf(body, cap,
                 "%s saskaņā ar Vispārīgās datu aizsardzības regulas 19. pantu informē, ka %s "
                 "tika izpausti jums (%s).\n%s\n\n",
                 me ? me : "Pārzinis", what_lv[k], them ? them : r->id, ask_lv[k]);
    else
        snprintf(body, cap,
                 "Under Article 19 of the GDPR, %s informs you that it has %s personal data of "
                 "the person named below, which it disclosed to you (%s).\n%s\n\n",
                 me ? me : "the controller", what_en[k], them ? them : r->id, ask_en[k]);
    int named = 0;
    for (size_t i = 0; i < r->nidentify_by; i++) {
        const char *val = value_of(before, r->identify_by[i]->id);
        if (!val)
            continue;
        if (!named)
            add(body, cap, "%s\n", l ? "Persona:" : "The person:");
        named = 1;
        add(body, cap, "  %s: %s\n", cat_name(p, r->identify_by[i]->id, lang), val);
    }
    if (!named)
        add(body, cap, "%s\n",
            l ? "(Persona šeit nav nosaukta: lai to uzzinātu, atsaucieties uz mūsu norādi.)"
              : "(The person is not named here: quote our reference to learn who it is.)");
    /* Corrected values go only where the person is named: without a
     * name they could not be applied, and would only spread the data. */
    if (k == 1 && named) {
        add(body, cap, "\n%s\n", l ? "Labotās vērtības:" : "The corrected values:");
        for (size_t i = 0; i < in->nfields; i++) {
            const char *id = cat_id(p, in->fields[i].category);
            const char *val = id ? value_of(after, id) : NULL;
            if (id && val && receives(p, r, id))
                add(body, cap, "  %s: %s\n", cat_name(p, id, lang), val);
        }
    }
    add(body, cap, "\n%s %s\n", l ? "Mūsu norāde: pieprasījums" : "Our reference: request", rid);
}

enum sg_rc sg_req_art19(struct sg_vault *v, const struct sg_actor *who,
                        const struct sg_store_request *r, const struct sg_subject *before,
                        const struct sg_subject *after, const struct sg_fulfil_in *in,
                        struct sg_fulfil_out *out, struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    int rectify = r->kind == SG_REQ_RECTIFICATION;
    out->recipients[0] = out->notified[0] = '\0';
    if (!p || !p->nrecipients)
        return SG_OK;
    char *body = malloc(NOTICE_MAX);
    struct disclosed d = {p, calloc(p->nrecipients, 1)};
    if (!body || !d.hit) {
        free(body);
        free(d.hit);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    /* The controller's own reading of its log, as the access answer's. */
    struct sg_actor reader = {who->id, SG_ROLE_OPERATOR, "request", NULL, NULL};
    enum sg_rc rc = sg_audit_log(v, &reader, &r->subject, 0, 0, see_disclosure, &d, err);
    sg_time now = sg_clock_now(v->clock);
    for (size_t i = 0; i < p->nrecipients && !rc; i++) {
        const struct sg_recipient *rc_ = &p->recipients[i];
        if (!concerned(p, rc_, before, in, rectify, d.hit[i]))
            continue;
        add(out->recipients, sizeof out->recipients, "%s%s", out->recipients[0] ? ", " : "",
            rc_->id);
        if (!rc_->contact.email)
            continue;
        char subj[160];
        notice(p, rc_, r->kind, r, before, after, in, subj, sizeof subj, body, NOTICE_MAX);
        char kind[32];
        snprintf(kind, sizeof kind, "art19.%s", sg_request_kind_name(r->kind));
        rc = sg_outbox_queue_apart(v, &r->subject, kind, rc_->contact.email, subj, body, now, NULL,
                                   err);
        if (!rc)
            add(out->notified, sizeof out->notified, "%s%s", out->notified[0] ? ", " : "", rc_->id);
    }
    sodium_memzero(body, NOTICE_MAX);
    free(body);
    free(d.hit);
    return rc;
}

/* Whether `id` is one of the comma-separated ids of `list`. */
static int listed(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = list; (p = strstr(p, id)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

enum sg_rc sg_req_erasure_answer(struct sg_vault *v, const struct sg_store_request *r,
                                 const struct sg_subject *before, const struct sg_fulfil_out *out,
                                 struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    const char *to = value_of(before, SG_CATEGORY_EMAIL);
    if (!p || !to)
        return SG_OK; /* no address: the answer goes on the channel of the request */
    const char *lang = sg_req_lang(p, before);
    int l = sg_req_lv(lang);
    char rid[SG_UUID_STR_LEN + 1], body[2048];
    sg_uuid_format(&r->id, rid);
    snprintf(body, sizeof body,
             l ? "Jūsu pieprasījums %s (dzēšana) ir izpildīts: jūsu dati ir dzēsti.\n"
               : "Your request %s (erasure) has been fulfilled: your data has been erased.\n",
             rid);
    if (out->held[0])
        add(body, sizeof body, "%s: %s\n", l ? "Paturēts" : "Kept", out->held);
    /* Art. 19, last sentence: the person learns who the recipients are. */
    int first = 1;
    for (size_t i = 0; i < p->nrecipients; i++) {
        const struct sg_recipient *rc_ = &p->recipients[i];
        if (!listed(out->recipients, rc_->id))
            continue;
        const char *name = sg_text_any(&rc_->name, lang);
        if (first)
            add(body, sizeof body, "%s:\n",
                l ? "Par dzēšanu informējam jūsu datu saņēmējus"
                  : "We tell the recipients of your data about the erasure");
        first = 0;
        add(body, sizeof body, "  %s\n", name ? name : rc_->id);
    }
    return sg_outbox_queue_apart(v, &r->subject, "request-answer", to,
                                 l ? "Atbilde uz jūsu pieprasījumu" : "Answer to your request",
                                 body, sg_clock_now(v->clock), NULL, err);
}
