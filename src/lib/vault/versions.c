/*
 * versions.c - the vault's policy versions: which one is in force, which
 * one was in force when, and installing a new one.
 *
 * The store keeps the text of every version ever applied, never changed
 * (its table refuses updates and deletes). The vault loads the version in
 * force when it opens and keeps the ones it replaced alive until it closes,
 * so that a pointer handed out (a category, a purpose) never dangles.
 */
#include "vault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A version read from the store: its record and, when asked, its text. */
struct got {
    struct sg_policy_version ver;
    char *text;
    size_t len;
    int want_text, found, oom;
};

static void fill_version(struct sg_policy_version *out, const struct sg_store_policy *p)
{
    memset(out, 0, sizeof *out);
    out->seq = p->seq;
    snprintf(out->hash, sizeof out->hash, "%s", p->hash);
    out->effective = p->effective;
    out->applied = p->applied;
    snprintf(out->actor, sizeof out->actor, "%s", p->actor);
}

static int keep_one(void *ctx, const struct sg_store_policy *p)
{
    struct got *g = ctx;
    fill_version(&g->ver, p);
    g->found = 1;
    if (g->want_text && p->text) {
        g->text = malloc(p->len + 1);
        if (!g->text) {
            g->oom = 1;
            return 1;
        }
        memcpy(g->text, p->text, p->len);
        g->text[p->len] = '\0';
        g->len = p->len;
    }
    return 1; /* the first is enough */
}

/* Loads the stored text of a version into a policy. */
static enum sg_rc load_text(const struct got *g, struct sg_policy **out, struct sg_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "policy version %lld", (long long)g->ver.seq);
    enum sg_rc rc = sg_policy_load(g->text, g->len, name, out, NULL, err);
    if (rc == SG_INVALID)
        return sg_err_prefix(err, "stored %s cannot be loaded by this sargs", name), SG_IO;
    return rc;
}

/* The version in force at `at`; before the first took effect, the first. */
static enum sg_rc version_at(struct sg_vault *v, sg_time at, int fallback_first, struct got *g,
                             struct sg_err *err)
{
    struct sg_store *s = v->store;
    enum sg_rc rc = s->ops->policy_at(s, at, keep_one, g, err);
    if (rc == SG_NOTFOUND && fallback_first) {
        sg_err_clear(err);
        g->found = 0;
        rc = s->ops->policy_each(s, g->want_text, keep_one, g, err);
        if (!rc && !g->found)
            rc = sg_err_set(err, SG_NOTFOUND, "the vault has no policy");
    }
    if (!rc && g->oom)
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
    return rc;
}

/* Makes `p` (owned) the vault's policy; the one it replaces is kept. */
static enum sg_rc switch_to(struct sg_vault *v, struct sg_policy *p,
                            const struct sg_policy_version *ver, struct sg_err *err)
{
    if (v->policy) {
        struct sg_policy **r = realloc(v->retired, (v->nretired + 1) * sizeof *r);
        if (!r) {
            sg_policy_free(p);
            return sg_err_set(err, SG_NOMEM, "out of memory");
        }
        v->retired = r;
        v->retired[v->nretired++] = v->policy;
    }
    v->policy = p;
    v->version = *ver;
    v->catalog = &p->catalog;
    return SG_OK;
}

enum sg_rc sg_vault_select_policy(struct sg_vault *v, struct sg_err *err)
{
    struct got g;
    memset(&g, 0, sizeof g);
    g.want_text = 1;
    enum sg_rc rc = version_at(v, sg_clock_now(v->clock), 1, &g, err);
    if (rc == SG_NOTFOUND) {
        /* A vault made before policies: it opens, with no categories, so
         * that a policy can be applied to it. */
        sg_err_clear(err);
        free(g.text);
        return SG_OK;
    }
    struct sg_policy *p = NULL;
    if (!rc)
        rc = load_text(&g, &p, err);
    free(g.text);
    if (rc)
        return rc;
    return switch_to(v, p, &g.ver, err);
}

enum sg_rc sg_vault_record_policy(struct sg_store *s, const struct sg_policy *p, sg_time effective,
                                  sg_time now, const char *actor, int64_t *seq, struct sg_err *err)
{
    struct sg_store_policy sp;
    memset(&sp, 0, sizeof sp);
    sp.hash = p->hash;
    sp.effective = effective;
    sp.applied = now;
    sp.actor = actor;
    sp.text = p->source;
    sp.len = p->source_len;
    return s->ops->policy_add(s, &sp, seq, err);
}

const struct sg_policy *sg_vault_policy(const struct sg_vault *v)
{
    return v->policy;
}

const struct sg_policy_version *sg_vault_policy_version(const struct sg_vault *v)
{
    return v->policy ? &v->version : NULL;
}

/* ------------------------------------------------------------- compatible */

struct compat {
    const struct sg_policy *next;
    struct sg_err *err;
    enum sg_rc rc;
};

/* Refuses a category whose type or indexing changed against one version. */
static int check_version(void *ctx, const struct sg_store_policy *sp)
{
    struct compat *c = ctx;
    struct sg_policy *old = NULL;
    struct sg_err e;
    if (sg_policy_load(sp->text, sp->len, "stored policy", &old, NULL, &e) != SG_OK)
        return 0; /* a version this sargs cannot read constrains nothing it can check */
    for (size_t i = 0; i < c->next->catalog.n && !c->rc; i++) {
        const struct sg_category *n = &c->next->catalog.cats[i];
        const struct sg_category *o = sg_catalog_find(&old->catalog, n->id);
        if (!o || strcmp(o->id, n->id) != 0)
            continue;
        if (o->type != n->type)
            c->rc = sg_err_set(c->err, SG_CONFLICT,
                               "category '%s' changes type from %s to %s (policy version %lld); "
                               "values stored under the old type would not match",
                               n->id, sg_vtype_name(o->type), sg_vtype_name(n->type),
                               (long long)sp->seq);
        else if (o->indexed != n->indexed)
            c->rc = sg_err_set(c->err, SG_CONFLICT,
                               "category '%s' changes whether it is blind-indexed (policy version "
                               "%lld); use a new category id instead",
                               n->id, (long long)sp->seq);
    }
    sg_policy_free(old);
    return c->rc != SG_OK;
}

/* ------------------------------------------------------------------ apply */

enum sg_rc sg_vault_policy_apply(struct sg_vault *v, const struct sg_actor *who,
                                 const struct sg_policy *p, sg_time effective,
                                 struct sg_policy_version *out, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!p)
        return sg_err_set(err, SG_INVALID, "no policy given");
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "a policy cannot be applied inside a transaction");
    sg_time now = sg_clock_now(v->clock);
    if (effective && effective < now)
        return sg_err_set(err, SG_INVALID,
                          "the effective time is in the past; which version was in force then "
                          "cannot be rewritten (leave it out to apply now)");
    if (!effective)
        effective = p->has_effective && p->effective > now ? p->effective : now;
    if (v->policy && strcmp(v->policy->hash, p->hash) == 0 && effective <= now)
        return sg_err_set(err, SG_CONFLICT, "this version (%.16s) is already in force", p->hash);

    struct compat c = {p, err, SG_OK};
    if ((rc = v->store->ops->policy_each(v->store, 1, check_version, &c, err)))
        return rc;
    if (c.rc)
        return c.rc;

    /* The vault's own copy, made before anything is written. */
    struct sg_policy *mine = NULL;
    if (effective <= now &&
        (rc = sg_policy_load(p->source, p->source_len, "policy", &mine, NULL, err)))
        return rc;

    struct sg_opmark mark;
    int64_t seq = 0;
    if ((rc = sg_op_begin(v, &mark, err))) {
        sg_policy_free(mine);
        return rc;
    }
    rc = sg_vault_record_policy(v->store, p, effective, now, who->id, &seq, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, v->store, who, now, "policy.apply", NULL, "ok", err);
    if ((rc = sg_op_end(v, mark, rc, err))) {
        sg_policy_free(mine);
        return rc;
    }
    struct sg_policy_version ver;
    memset(&ver, 0, sizeof ver);
    ver.seq = seq;
    snprintf(ver.hash, sizeof ver.hash, "%s", p->hash);
    ver.effective = effective;
    ver.applied = now;
    snprintf(ver.actor, sizeof ver.actor, "%s", who->id);
    if (out)
        *out = ver;
    if (mine) {
        if ((rc = switch_to(v, mine, &ver, err)))
            return rc;
        return sg_vault_load_categories(v, err);
    }
    return SG_OK;
}

enum sg_rc sg_vault_policy_refresh(struct sg_vault *v, struct sg_err *err)
{
    struct got g;
    memset(&g, 0, sizeof g);
    enum sg_rc rc = version_at(v, sg_clock_now(v->clock), 1, &g, err);
    if (rc == SG_NOTFOUND) {
        sg_err_clear(err);
        return SG_OK;
    }
    if (rc || (v->policy && g.ver.seq == v->version.seq))
        return rc;
    memset(&g, 0, sizeof g);
    g.want_text = 1;
    if ((rc = version_at(v, sg_clock_now(v->clock), 1, &g, err))) {
        free(g.text);
        return rc;
    }
    struct sg_policy *p = NULL;
    rc = load_text(&g, &p, err);
    free(g.text);
    if (!rc)
        rc = switch_to(v, p, &g.ver, err);
    return rc ? rc : sg_vault_load_categories(v, err);
}

enum sg_rc sg_vault_policy_at(struct sg_vault *v, sg_time at, struct sg_policy_version *out,
                              struct sg_err *err)
{
    struct got g;
    memset(&g, 0, sizeof g);
    enum sg_rc rc = version_at(v, at, 0, &g, err);
    if (rc == SG_NOTFOUND) {
        char ts[SG_TIME_STR_MAX];
        return sg_err_set(err, SG_NOTFOUND, "no policy version was in force at %s",
                          sg_time_format(at, ts));
    }
    if (!rc)
        *out = g.ver;
    return rc;
}

enum sg_rc sg_vault_policy_load_at(struct sg_vault *v, sg_time at, struct sg_policy **out,
                                   struct sg_policy_version *ver, struct sg_err *err)
{
    struct got g;
    memset(&g, 0, sizeof g);
    g.want_text = 1;
    *out = NULL;
    enum sg_rc rc = version_at(v, at, 0, &g, err);
    if (rc == SG_NOTFOUND) {
        char ts[SG_TIME_STR_MAX];
        rc = sg_err_set(err, SG_NOTFOUND, "no policy version was in force at %s",
                        sg_time_format(at, ts));
    }
    if (!rc)
        rc = load_text(&g, out, err);
    if (!rc && ver)
        *ver = g.ver;
    free(g.text);
    return rc;
}

struct lister {
    int (*cb)(void *ctx, const struct sg_policy_version *ver);
    void *ctx;
};

static int list_one(void *ctx, const struct sg_store_policy *p)
{
    struct lister *l = ctx;
    struct sg_policy_version ver;
    fill_version(&ver, p);
    return l->cb(l->ctx, &ver);
}

enum sg_rc sg_vault_policy_list(struct sg_vault *v,
                                int (*cb)(void *ctx, const struct sg_policy_version *ver),
                                void *ctx, struct sg_err *err)
{
    struct lister l = {cb, ctx};
    return v->store->ops->policy_each(v->store, 0, list_one, &l, err);
}

enum sg_rc sg_vault_ropa(struct sg_vault *v, const struct sg_actor *who, enum sg_doc_format format,
                         const char *lang, struct sg_buf *out, struct sg_err *err)
{
    enum sg_rc rc = sg_view_require_staff(v, who, "policy.ropa", err);
    if (rc)
        return rc;
    if (!v->policy)
        return sg_err_set(err, SG_INVALID, "this vault has no policy");
    return sg_ropa_render(v->policy, format, lang, out, err);
}
