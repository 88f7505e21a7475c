/*
 * diff.c - what changed between two versions of a policy, and whether
 * people must be told before the new one takes effect.
 *
 * The rule of thumb (Art. 13(3), EDPB transparency guidelines §29-32, LIKTA
 * 13.3): a change that makes processing wider or longer, or lets more
 * parties see the data, must reach people before it applies; one that
 * narrows or shortens processing, or only rewords the notice, needs only the
 * updated notice. Items are matched by id; an id that disappears and
 * another that appears are a removal and an addition.
 */
#include "policy_int.h"
#include "words.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dctx {
    struct sg_policy_diff *d;
    struct sg_err *err;
    enum sg_rc rc;
};

static void ch(struct dctx *c, int inform, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ch(struct dctx *c, int inform, const char *fmt, ...)
{
    if (c->rc)
        return;
    struct sg_policy_diff *d = c->d;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct sg_policy_change *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *m = strdup(buf);
    if (!m) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return;
    }
    d->v[d->n].what = m;
    d->v[d->n].inform = inform;
    d->n++;
    d->inform |= inform;
}

void sg_policy_diff_release(struct sg_policy_diff *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].what);
    free(d->v);
    memset(d, 0, sizeof *d);
}

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int contact_equal(const struct sg_contact *a, const struct sg_contact *b)
{
    return sg_text_equal(&a->name, &b->name) && sg_text_equal(&a->address, &b->address) &&
           streq(a->email, b->email) && streq(a->phone, b->phone) && streq(a->web, b->web);
}

/* ------------------------------------------------------------- sections */

static void diff_controllers(struct dctx *c, const struct sg_policy *o, const struct sg_policy *n)
{
    for (size_t i = 0; i < n->ncontrollers; i++) {
        const struct sg_controller *nc = &n->controllers[i];
        const struct sg_controller *oc = sg_policy_controller(o, nc->id);
        if (!oc) {
            ch(c, 1, "controller '%s' added", nc->id);
            continue;
        }
        if (!sg_text_equal(&oc->contact.name, &nc->contact.name) ||
            !streq(oc->registration, nc->registration))
            ch(c, 1, "controller '%s': identity (name or registration number) changed", nc->id);
        if (oc->kind != nc->kind)
            ch(c, 1, "controller '%s': now a %s controller (was %s)", nc->id,
               sg_controller_kind_name(nc->kind), sg_controller_kind_name(oc->kind));
        if (!sg_text_equal(&oc->contact.address, &nc->contact.address) ||
            !streq(oc->contact.email, nc->contact.email) ||
            !streq(oc->contact.phone, nc->contact.phone) ||
            !streq(oc->contact.web, nc->contact.web))
            ch(c, 0, "controller '%s': contact details changed", nc->id);
        if (oc->has_dpo != nc->has_dpo || !contact_equal(&oc->dpo, &nc->dpo))
            ch(c, 0, "controller '%s': data protection officer's details changed", nc->id);
        if (!contact_equal(oc->authority, nc->authority))
            ch(c, 0, "controller '%s': supervisory authority changed", nc->id);
        if (!sg_text_equal(&oc->scope, &nc->scope) ||
            !sg_text_equal(&oc->directory, &nc->directory))
            ch(c, 0, "controller '%s': wording changed", nc->id);
    }
    for (size_t i = 0; i < o->ncontrollers; i++)
        if (!sg_policy_controller(n, o->controllers[i].id))
            ch(c, 0, "controller '%s' removed", o->controllers[i].id);
}

static int used_by_any(const struct sg_policy *p, const struct sg_category *cat)
{
    for (size_t i = 0; i < p->npurposes; i++)
        for (size_t k = 0; k < p->purposes[i].ncategories; k++)
            if (p->purposes[i].categories[k] == cat)
                return 1;
    return 0;
}

static void diff_categories(struct dctx *c, const struct sg_policy *o, const struct sg_policy *n)
{
    for (size_t i = 0; i < n->catalog.n; i++) {
        const struct sg_category *nc = &n->catalog.cats[i];
        const struct sg_category *oc = sg_catalog_find(&o->catalog, nc->id);
        if (oc && strcmp(oc->id, nc->id) != 0)
            oc = NULL; /* an alias of another category, not the same one */
        if (!oc) {
            ch(c, used_by_any(n, nc), "category '%s' added", nc->id);
            continue;
        }
        if (nc->special && !oc->special)
            ch(c, 1, "category '%s' is now a special category (%s)", nc->id,
               sg_special_name(nc->special));
        else if (nc->special != oc->special || nc->art9 != oc->art9)
            ch(c, 1, "category '%s': special category or its Art. 9(2) condition changed", nc->id);
        if (nc->source != oc->source || !sg_text_equal(&nc->source_name, &oc->source_name))
            ch(c, nc->source == SG_SOURCE_OTHER, "category '%s': source changed", nc->id);
        if (nc->required && !oc->required)
            ch(c, 1, "category '%s' is now required", nc->id);
        else if (!nc->required && oc->required)
            ch(c, 0, "category '%s' is now optional", nc->id);
        if (!sg_text_equal(&nc->name, &oc->name))
            ch(c, 0, "category '%s': wording changed", nc->id);
    }
    for (size_t i = 0; i < o->catalog.n; i++) {
        const struct sg_category *oc = &o->catalog.cats[i];
        const struct sg_category *nc = sg_catalog_find(&n->catalog, oc->id);
        if (!nc || strcmp(nc->id, oc->id) != 0)
            ch(c, 0, "category '%s' removed", oc->id);
    }
}

static void diff_recipients(struct dctx *c, const struct sg_policy *o, const struct sg_policy *n)
{
    for (size_t i = 0; i < n->nrecipients; i++) {
        const struct sg_recipient *nr = &n->recipients[i];
        const struct sg_recipient * or = sg_policy_recipient(o, nr->id);
        if (! or) {
            ch(c, 1, "recipient '%s' added%s", nr->id,
               nr->third_country ? " (in a third country: a new transfer)" : "");
            continue;
        }
        if (nr->third_country && ! or->third_country)
            ch(c, 1, "recipient '%s' moved to a third country (%s): a new transfer", nr->id,
               nr->country ? nr->country : "outside the EU/EEA");
        else if (!streq(nr->country, or->country))
            ch(c, nr->third_country, "recipient '%s': country changed", nr->id);
        if (nr->third_country && nr->safeguard != or->safeguard)
            ch(c, 1, "recipient '%s': transfer safeguard changed from %s to %s", nr->id,
               sg_safeguard_name(or->safeguard), sg_safeguard_name(nr->safeguard));
        if (nr->kind != or->kind)
            ch(c, 1, "recipient '%s': now a %s (was %s)", nr->id, sg_recipient_kind_name(nr->kind),
               sg_recipient_kind_name(or->kind));
        if (!sg_text_equal(&nr->name, & or->name) || !sg_text_equal(&nr->role, & or->role) ||
            !sg_text_equal(&nr->safeguard_text, & or->safeguard_text))
            ch(c, 0, "recipient '%s': wording changed", nr->id);
    }
    for (size_t i = 0; i < o->nrecipients; i++)
        if (!sg_policy_recipient(n, o->recipients[i].id))
            ch(c, 0, "recipient '%s' removed", o->recipients[i].id);
}

static int has_cat(const struct sg_category *const *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->id, id) == 0)
            return 1;
    return 0;
}

static int has_rcpt(const struct sg_recipient *const *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->id, id) == 0)
            return 1;
    return 0;
}

static void diff_purposes(struct dctx *c, const struct sg_policy *o, const struct sg_policy *n)
{
    for (size_t i = 0; i < n->npurposes; i++) {
        const struct sg_purpose *np = &n->purposes[i];
        const struct sg_purpose *op = sg_policy_purpose(o, np->id);
        if (!op) {
            ch(c, 1, "purpose '%s' added (legal basis: %s)", np->id, sg_basis_name(np->basis));
            continue;
        }
        if (np->basis != op->basis)
            ch(c, 1, "purpose '%s': legal basis changed from %s to %s", np->id,
               sg_basis_name(op->basis), sg_basis_name(np->basis));
        for (size_t k = 0; k < np->ncategories; k++)
            if (!has_cat(op->categories, op->ncategories, np->categories[k]->id))
                ch(c, 1, "purpose '%s' now also uses category '%s'", np->id, np->categories[k]->id);
        for (size_t k = 0; k < op->ncategories; k++)
            if (!has_cat(np->categories, np->ncategories, op->categories[k]->id))
                ch(c, 0, "purpose '%s' no longer uses category '%s'", np->id,
                   op->categories[k]->id);
        for (size_t k = 0; k < np->nrecipients; k++)
            if (!has_rcpt(op->recipients, op->nrecipients, np->recipients[k]->id))
                ch(c, 1, "purpose '%s': data now also go to '%s'%s", np->id, np->recipients[k]->id,
                   np->recipients[k]->third_country ? " (a transfer to a third country)" : "");
        for (size_t k = 0; k < op->nrecipients; k++)
            if (!has_rcpt(np->recipients, np->nrecipients, op->recipients[k]->id))
                ch(c, 0, "purpose '%s': data no longer go to '%s'", np->id, op->recipients[k]->id);
        if (np->nautomated > op->nautomated)
            ch(c, 1, "purpose '%s': new automated decision", np->id);
        else if (np->nautomated < op->nautomated)
            ch(c, 0, "purpose '%s': an automated decision removed", np->id);
        if (np->profiling && !op->profiling)
            ch(c, 1, "purpose '%s' now involves profiling", np->id);
        if (np->direct_marketing && !op->direct_marketing)
            ch(c, 1, "purpose '%s' is now direct marketing", np->id);
        if (np->sale_or_sharing && !op->sale_or_sharing)
            ch(c, 1, "purpose '%s' now shares data with third parties", np->id);
        if (np->basis == SG_BASIS_CONSENT && op->basis == SG_BASIS_CONSENT &&
            (np->consent.min_age != op->consent.min_age ||
             np->consent.minors != op->consent.minors))
            ch(c, 1, "purpose '%s': the rule for children changed (age %d, %s)", np->id,
               np->consent.min_age,
               np->consent.minors == SG_MINORS_REFUSE ? "refused below" : "guardian below");
        if (np->requirement != op->requirement)
            ch(c, np->requirement != SG_REQ_VOLUNTARY,
               "purpose '%s': providing the data is now %s (was %s)", np->id,
               sg_requirement_name(np->requirement), sg_requirement_name(op->requirement));
        if (!sg_text_equal(&np->name, &op->name) ||
            !sg_text_equal(&np->description, &op->description) ||
            !sg_text_equal(&np->basis_reference, &op->basis_reference) ||
            !sg_text_equal(&np->legitimate_interest, &op->legitimate_interest) ||
            !sg_text_equal(&np->balance_test, &op->balance_test) ||
            !sg_text_equal(&np->consent.withdrawal, &op->consent.withdrawal) ||
            !sg_text_equal(&np->if_not_provided, &op->if_not_provided))
            ch(c, 0, "purpose '%s': wording changed", np->id);
    }
    for (size_t i = 0; i < o->npurposes; i++)
        if (!sg_policy_purpose(n, o->purposes[i].id))
            ch(c, 0, "purpose '%s' removed", o->purposes[i].id);
}

/* Actions that end or narrow processing; KEEP and NOTIFY end nothing. */
static int ends_processing(enum sg_action a)
{
    return a == SG_ACT_DELETE || a == SG_ACT_ANONYMISE || a == SG_ACT_HIDE || a == SG_ACT_RESTRICT;
}

static void diff_retention(struct dctx *c, const struct sg_policy *o, const struct sg_policy *n)
{
    char a[SG_DURATION_STR_MAX], b[SG_DURATION_STR_MAX];
    for (size_t i = 0; i < n->nretention; i++) {
        const struct sg_retention *nr = &n->retention[i];
        const struct sg_retention * or = sg_policy_rule(o, nr->id);
        if (! or) {
            /* A new rule that ends processing shortens it; a new "keep"
             * rule may lengthen it. */
            ch(c, !ends_processing(nr->action) && nr->action != SG_ACT_NOTIFY,
               "retention rule '%s' added (%s)", nr->id, sg_action_name(nr->action));
            continue;
        }
        if (nr->action != or->action) {
            ch(c, 1, "retention rule '%s': action changed from %s to %s", nr->id,
               sg_action_name(or->action), sg_action_name(nr->action));
        } else if (ends_processing(nr->action) && nr->has_after && or->has_after) {
            int cmp = sg_duration_cmp(&nr->after, & or->after);
            if (cmp > 0)
                ch(c, 1, "retention rule '%s': kept longer (%s instead of %s)", nr->id,
                   sg_duration_format(&nr->after, a), sg_duration_format(& or->after, b));
            else if (cmp < 0)
                ch(c, 0, "retention rule '%s': kept shorter (%s instead of %s)", nr->id,
                   sg_duration_format(&nr->after, a), sg_duration_format(& or->after, b));
        } else if (nr->has_after && or->has_after &&
                                          sg_duration_cmp(&nr->after, & or->after) != 0) {
            ch(c, 0, "retention rule '%s': period changed (%s instead of %s)", nr->id,
               sg_duration_format(&nr->after, a), sg_duration_format(& or->after, b));
        }
        if (!streq(nr->anchor, or->anchor))
            ch(c, 1, "retention rule '%s': now counted from '%s' (was '%s')", nr->id,
               nr->anchor ? nr->anchor : "-", or->anchor ? or->anchor : "-");
        if (ends_processing(nr->action)) {
            if (or->all_categories && !nr->all_categories)
                ch(c, 1, "retention rule '%s' no longer covers all data", nr->id);
            for (size_t k = 0; !nr->all_categories && k < or->ncategories; k++)
                if (!has_cat(nr->categories, nr->ncategories, or->categories[k]->id))
                    ch(c, 1, "retention rule '%s' no longer covers '%s'", nr->id,
                       or->categories[k]->id);
            for (size_t k = 0; k < nr->nkeep; k++)
                if (!has_cat(or->keep, or->nkeep, nr->keep[k]->id))
                    ch(c, 1, "retention rule '%s' now keeps '%s' after anonymisation", nr->id,
                       nr->keep[k]->id);
        }
        if (!streq(nr->condition.missing_event, or->condition.missing_event) ||
            !streq(nr->condition.has_event, or->condition.has_event))
            ch(c, 1, "retention rule '%s': condition changed", nr->id);
        if (!sg_text_equal(&nr->criteria, & or->criteria))
            ch(c, nr->action == SG_ACT_KEEP, "retention rule '%s': criteria changed", nr->id);
        if (!sg_text_equal(&nr->description, & or->description))
            ch(c, 0, "retention rule '%s': wording changed", nr->id);
    }
    for (size_t i = 0; i < o->nretention; i++) {
        const struct sg_retention * or = &o->retention[i];
        if (!sg_policy_rule(n, or->id))
            ch(c, ends_processing(or->action), "retention rule '%s' removed (%s)", or->id,
               sg_action_name(or->action));
    }
}

static void diff_rest(struct dctx *c, const struct sg_policy *o, const struct sg_policy *n)
{
    for (size_t i = 0; i < n->ncookies; i++) {
        const struct sg_cookie *nk = &n->cookies[i];
        const struct sg_cookie *ok = NULL;
        for (size_t k = 0; k < o->ncookies; k++)
            if (strcmp(o->cookies[k].id, nk->id) == 0)
                ok = &o->cookies[k];
        if (!ok)
            ch(c, nk->kind != SG_COOKIE_NECESSARY, "cookie '%s' added (%s)", nk->id,
               sg_cookie_kind_name(nk->kind));
        else if (ok->kind != nk->kind || ok->basis != nk->basis)
            ch(c, 1, "cookie '%s': kind or legal basis changed", nk->id);
        else if (!ok->session && !nk->session && sg_duration_cmp(&nk->lifetime, &ok->lifetime) > 0)
            ch(c, 1, "cookie '%s' is kept longer", nk->id);
    }
    for (size_t i = 0; i < o->ncookies; i++) {
        int found = 0;
        for (size_t k = 0; k < n->ncookies; k++)
            found |= strcmp(o->cookies[i].id, n->cookies[k].id) == 0;
        if (!found)
            ch(c, 0, "cookie '%s' removed", o->cookies[i].id);
    }
    if (!contact_equal(&o->authority, &n->authority))
        ch(c, 0, "supervisory authority changed");
    if (!contact_equal(&o->requests.contact, &n->requests.contact) ||
        o->requests.nchannels != n->requests.nchannels ||
        o->requests.extra_copy_fee_cents != n->requests.extra_copy_fee_cents)
        ch(c, 0, "how requests are made changed");
    if (!sg_text_equal(&o->title, &n->title) || !sg_text_equal(&o->changes, &n->changes) ||
        !sg_text_equal(&o->security, &n->security))
        ch(c, 0, "wording of the notice changed");
}

enum sg_rc sg_policy_diff(const struct sg_policy *old, const struct sg_policy *new_,
                          struct sg_policy_diff *out, struct sg_err *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(old->hash, new_->hash) == 0)
        return SG_OK;
    struct dctx c = {out, err, SG_OK};
    diff_controllers(&c, old, new_);
    diff_purposes(&c, old, new_);
    diff_categories(&c, old, new_);
    diff_recipients(&c, old, new_);
    diff_retention(&c, old, new_);
    diff_rest(&c, old, new_);
    if (!c.rc && out->n == 0)
        ch(&c, 0, "only details that the notice does not show changed");
    if (c.rc)
        sg_policy_diff_release(out);
    return c.rc;
}
