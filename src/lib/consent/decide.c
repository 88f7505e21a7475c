/*
 * decide.c - "may this person's data be used for this purpose now?"
 *
 * One read (the person's state and their row for the purpose, in one
 * statement), then the rules of sargs/consent.h in a fixed order. No
 * transaction and no audit entry: a decision changes nothing, and it must
 * stay cheap enough to be asked before every use.
 */
#include "consent_int.h"

#include <string.h>

static const char *const reason_names[] = {
    [SG_MAY_BASIS] = "basis",
    [SG_MAY_CONSENT] = "consent_given",
    [SG_MAY_VITAL] = "vital_interests",
    [SG_MAY_NO_CONSENT] = "no_consent",
    [SG_MAY_REFUSED] = "consent_refused",
    [SG_MAY_WITHDRAWN] = "consent_withdrawn",
    [SG_MAY_EXPIRED] = "consent_expired",
    [SG_MAY_CHILD_NO_GUARDIAN] = "child_without_guardian",
    [SG_MAY_MINOR] = "minor",
    [SG_MAY_OBJECTED] = "objected",
    [SG_MAY_DIRECT_MARKETING] = "objected_direct_marketing",
    [SG_MAY_RESTRICTED] = "restricted",
    [SG_MAY_GPC] = "gpc_opt_out",
    [SG_MAY_HIDDEN] = "hidden",
    [SG_MAY_ANONYMISED] = "anonymised",
    [SG_MAY_ERASED] = "erased",
};

const char *sg_may_reason_name(enum sg_may_reason r)
{
    return (unsigned)r < sizeof reason_names / sizeof *reason_names && reason_names[r]
               ? reason_names[r]
               : "?";
}

static void answer(struct sg_decision *d, int allowed, enum sg_may_reason r)
{
    d->allowed = allowed;
    d->reason = r;
}

/* The consent part of a decision: whether a consent counts now. */
static enum sg_may_reason consent_reason(const struct sg_purpose *p,
                                         const struct sg_store_pstate *ps, int has, sg_time now,
                                         struct sg_decision *d)
{
    int c = has ? ps->consent : SG_CONSENT_NONE;
    if ((c == SG_CONSENT_GIVEN || c == SG_CONSENT_RENEWED) && ps->expires && now >= ps->expires)
        c = SG_CONSENT_EXPIRED;
    d->consent = (enum sg_consent_state)c;
    d->since = has ? ps->since : 0;
    d->expires = (c == SG_CONSENT_GIVEN || c == SG_CONSENT_RENEWED) ? ps->expires : 0;
    if (has && (ps->flags & SG_PS_MINOR) && p->consent.minors == SG_MINORS_REFUSE)
        return SG_MAY_MINOR;
    switch (c) {
    case SG_CONSENT_GIVEN:
    case SG_CONSENT_RENEWED:
        if ((ps->flags & SG_PS_CHILD) && !(ps->flags & SG_PS_GUARDIAN))
            return SG_MAY_CHILD_NO_GUARDIAN;
        return SG_MAY_CONSENT;
    case SG_CONSENT_REFUSED:
        return SG_MAY_REFUSED;
    case SG_CONSENT_WITHDRAWN:
        return SG_MAY_WITHDRAWN;
    case SG_CONSENT_EXPIRED:
        return SG_MAY_EXPIRED;
    default:
        return SG_MAY_NO_CONSENT;
    }
}

enum sg_rc sg_may_ask(struct sg_vault *v, const struct sg_actor *who, struct sg_err *err)
{
    if (!who || !who->role)
        return sg_actor_check(who, err);
    if (strcmp(who->role, SG_ROLE_OPERATOR) == 0)
        return sg_actor_check(who, err);
    const struct sg_role *r = v->policy ? sg_policy_role(v->policy, who->role) : NULL;
    if (r && (r->kind == SG_ROLE_STAFF || r->kind == SG_ROLE_SERVICE))
        return sg_actor_check(who, err);
    enum sg_rc rc = sg_actor_check(who, err);
    if (rc)
        return rc;
    sg_err_set(err, SG_DENIED, "role '%.64s' may not ask for processing decisions", who->role);
    return sg_view_deny(v, who, "consent.decide", NULL, err);
}

enum sg_rc sg_may(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                  const char *purpose, unsigned flags, struct sg_decision *out, struct sg_err *err)
{
    enum sg_rc arc = sg_may_ask(v, who, err);
    if (arc)
        return arc;
    const struct sg_purpose *p =
        v->policy && purpose ? sg_policy_purpose(v->policy, purpose) : NULL;
    if (!p)
        return sg_err_set(err, SG_INVALID, "'%.64s' is not a purpose of the policy in force",
                          purpose ? purpose : "");
    int state = 0, has = 0;
    struct sg_store_pstate ps = {0};
    enum sg_rc rc = v->store->ops->decide(v->store, id, p->id, &state, &ps, &has, err);
    if (rc == SG_NOTFOUND) {
        char ids[SG_UUID_STR_LEN + 1];
        return sg_err_set(err, SG_NOTFOUND, "subject %s not found", sg_uuid_format(id, ids));
    }
    if (rc)
        return rc;
    sg_time now = sg_clock_now(v->clock);
    struct sg_decision d = {0};
    d.basis = p->basis;
    enum sg_may_reason cr = SG_MAY_BASIS;
    if (p->basis == SG_BASIS_CONSENT)
        cr = consent_reason(p, &ps, has, now, &d);

    if (state == SG_STATE_ERASED)
        answer(&d, 0, SG_MAY_ERASED);
    else if (state == SG_STATE_ANONYMISED)
        answer(&d, 0, SG_MAY_ANONYMISED);
    else if (state == SG_STATE_HIDDEN && p->basis != SG_BASIS_LEGAL_OBLIGATION)
        /* A deactivated profile is kept for what the law requires, not used. */
        answer(&d, 0, SG_MAY_HIDDEN);
    else if (state == SG_STATE_RESTRICTED && p->basis == SG_BASIS_VITAL_INTERESTS)
        answer(&d, 1, SG_MAY_VITAL);
    else if (state == SG_STATE_RESTRICTED &&
             !(p->basis == SG_BASIS_CONSENT && cr == SG_MAY_CONSENT))
        /* Art. 18(2): stored, and otherwise used only with consent (or for
         * the protection of another's vital interests). */
        answer(&d, 0, SG_MAY_RESTRICTED);
    else if (has && (ps.flags & SG_PS_OBJECTED) && p->direct_marketing)
        answer(&d, 0, SG_MAY_DIRECT_MARKETING);
    else if (has && (ps.flags & SG_PS_OBJECTED) && !(ps.flags & SG_PS_GROUNDS) &&
             (p->basis == SG_BASIS_PUBLIC_TASK || p->basis == SG_BASIS_LEGITIMATE_INTEREST))
        answer(&d, 0, SG_MAY_OBJECTED);
    else if ((flags & SG_MAY_GPC_SIGNAL) && p->sale_or_sharing)
        answer(&d, 0, SG_MAY_GPC);
    else if (p->basis == SG_BASIS_CONSENT)
        answer(&d, cr == SG_MAY_CONSENT, cr);
    else
        answer(&d, 1, SG_MAY_BASIS);
    *out = d;
    return SG_OK;
}

void sg_may_bulk(struct sg_vault *v, int on)
{
    if (v->store->ops->decide_keep)
        (void)v->store->ops->decide_keep(v->store, on, NULL);
}
