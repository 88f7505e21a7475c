/*
 * view.c - need-to-know: what an actor's role lets it see and change.
 *
 * Every operation on people resolves its actor into a view first; the rules
 * live here once, so the command line and the HTTP API answer alike. A
 * refusal is an audit entry of its own (result "denied"), written after the
 * refused operation was rolled back: the attempt is on record even though
 * nothing happened.
 */
#include "vault_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int kind_is_wide(enum sg_role_kind k)
{
    return k == SG_ROLE_STAFF || k == SG_ROLE_SERVICE;
}

void sg_view_close(struct sg_view *w)
{
    if (w->scope) {
        sodium_memzero(w->scope, w->scope_len);
        free(w->scope);
    }
    memset(w, 0, sizeof *w);
}

enum sg_rc sg_view_deny(struct sg_vault *v, const struct sg_actor *who, const char *action,
                        const struct sg_uuid *subject, struct sg_err *err)
{
    /* The refusal's message is what the caller sees; the audit write may
     * not overwrite it. */
    struct sg_err keep = *err, aerr;
    struct sg_opmark mark;
    enum sg_rc rc = sg_op_begin(v, &mark, &aerr);
    if (!rc) {
        rc = sg_audit_record(&v->audit, v->store, who, sg_clock_now(v->clock), action, subject,
                             "denied", &aerr);
        rc = sg_op_end(v, mark, rc, &aerr);
    }
    if (rc) {
        /* A refusal that cannot be recorded is still a refusal; the caller
         * learns that the audit log failed. */
        *err = aerr;
        return rc;
    }
    *err = keep;
    return SG_DENIED;
}

/* The viewer's own value of the role's row field, read from their record. */
static enum sg_rc scope_from_self(struct sg_vault *v, struct sg_view *w, struct sg_err *err)
{
    struct sg_store_subject row;
    char *val = NULL;
    size_t len = 0;
    enum sg_rc rc = sg_vault_load_subject(v, &w->self, &row, 1, err);
    if (!rc)
        rc = sg_vault_loaded_field(v, &w->self, w->role->row_field, &val, &len, err);
    sg_vault_forget_key(v);
    if (rc == SG_NOTFOUND || rc == SG_CONFLICT) {
        /* A viewer without the value sees nobody by it. */
        return SG_OK;
    }
    if (rc)
        return rc;
    w->scope = val;
    w->scope_len = len;
    return SG_OK;
}

enum sg_rc sg_view_open(struct sg_vault *v, const struct sg_actor *who, const char *action,
                        struct sg_view *w, struct sg_err *err)
{
    enum sg_rc rc;
    memset(w, 0, sizeof *w);
    w->action = action;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (who->self) {
        w->self = *who->self;
        w->has_self = 1;
    }
    if (strcmp(who->role, SG_ROLE_OPERATOR) == 0) {
        w->wide = 1;
        return SG_OK;
    }
    if (strcmp(who->role, SG_ROLE_SELF) == 0) {
        if (!w->has_self) {
            sg_err_set(err, SG_DENIED, "a person's own session names the person");
            return sg_view_deny(v, who, action, NULL, err);
        }
        /* Their own events, groups and history come with being themself
         * (sg_view_is_self), nothing of anyone else's. */
        w->only_self = 1;
        return SG_OK;
    }
    const struct sg_policy *p = v->policy;
    const struct sg_role *r = p ? sg_policy_role(p, who->role) : NULL;
    if (!r) {
        sg_err_set(err, SG_DENIED, "role '%.64s' is not a role of the policy in force", who->role);
        return sg_view_deny(v, who, action, NULL, err);
    }
    const struct sg_purpose *pu = sg_policy_purpose(p, who->purpose);
    if (!pu) {
        sg_err_set(err, SG_DENIED, "purpose '%.64s' is not a purpose of the policy in force",
                   who->purpose);
        return sg_view_deny(v, who, action, NULL, err);
    }
    if (r->npurposes) {
        size_t i = 0;
        while (i < r->npurposes && r->purposes[i] != pu)
            i++;
        if (i == r->npurposes) {
            sg_err_set(err, SG_DENIED, "role '%s' does not act for purpose '%s'", r->id, pu->id);
            return sg_view_deny(v, who, action, NULL, err);
        }
    }
    w->role = r;
    w->wide = kind_is_wide(r->kind);
    if (r->rows != SG_ROWS_SAME_VALUE || !r->row_field)
        return SG_OK;
    if (who->scope) {
        struct sg_buf b;
        sg_buf_init(&b, v->catalog->max_value + 64);
        rc = sg_value_normalise(v->catalog, r->row_field, who->scope, strlen(who->scope), &b, NULL,
                                err);
        if (!rc && !(w->scope = malloc(b.len + 1)))
            rc = sg_err_set(err, SG_NOMEM, "out of memory");
        if (!rc) {
            memcpy(w->scope, b.ptr, b.len);
            w->scope[b.len] = '\0';
            w->scope_len = b.len;
        }
        sg_buf_release(&b);
        if (rc)
            return sg_err_prefix(err, "the scope of role '%s'", r->id);
        return SG_OK;
    }
    if (w->has_self)
        return scope_from_self(v, w, err);
    return SG_OK;
}

int sg_view_sees(const struct sg_view *w, const struct sg_category *c)
{
    if (!w->role)
        return 1;
    return c && sg_role_sees(w->role, c);
}

int sg_view_is_self(const struct sg_view *w, const struct sg_uuid *id)
{
    return w->has_self && sg_uuid_equal(&w->self, id);
}

enum sg_rc sg_view_row(struct sg_vault *v, const struct sg_view *w, const struct sg_uuid *id,
                       const struct sg_store_subject *row, int have_key, enum sg_verdict *out,
                       struct sg_err *err)
{
    const struct sg_role *r = w->role;
    *out = SG_SEES;
    if (w->only_self) {
        if (!sg_view_is_self(w, id))
            *out = SG_OUTSIDE;
        return SG_OK;
    }
    if (!r)
        return SG_OK;
    if (row->state == SG_STATE_HIDDEN && !r->sees_hidden && !sg_view_is_self(w, id)) {
        *out = SG_HIDDEN;
        return SG_OK;
    }
    switch (r->rows) {
    case SG_ROWS_ALL:
        return SG_OK;
    case SG_ROWS_NONE:
        *out = SG_OUTSIDE;
        return SG_OK;
    case SG_ROWS_SELF:
        if (!sg_view_is_self(w, id))
            *out = SG_OUTSIDE;
        return SG_OK;
    case SG_ROWS_SAME_VALUE:
        break;
    }
    *out = SG_OUTSIDE;
    if (!w->scope || !r->row_field || row->has_dek != 1)
        return SG_OK;
    enum sg_rc rc = SG_OK;
    if (!have_key) {
        struct sg_store_subject again;
        if ((rc = sg_vault_load_subject(v, id, &again, 1, err)))
            return rc;
    }
    char *val = NULL;
    size_t len = 0;
    rc = sg_vault_loaded_field(v, id, r->row_field, &val, &len, err);
    if (rc == SG_NOTFOUND)
        return SG_OK;
    if (rc)
        return rc;
    if (len == w->scope_len && memcmp(val, w->scope, len) == 0)
        *out = SG_SEES;
    sodium_memzero(val, len);
    free(val);
    return SG_OK;
}

enum sg_rc sg_view_groups(struct sg_vault *v, const struct sg_view *w, const struct sg_uuid *id,
                          int *ok, struct sg_err *err)
{
    *ok = 1;
    if (!w->role || w->role->group_content == SG_GROUP_ALL)
        return SG_OK;
    *ok = 0;
    if (w->role->group_content == SG_GROUP_NONE || !w->has_self)
        return SG_OK;
    if (sg_uuid_equal(&w->self, id)) {
        *ok = 1;
        return SG_OK;
    }
    return v->store->ops->member_shared(v->store, &w->self, id, ok, err);
}

enum sg_rc sg_view_may_write(const struct sg_vault *v, const struct sg_view *w,
                             const struct sg_uuid *id, int erase, struct sg_err *err)
{
    const struct sg_role *r = w->role;
    /* A person at their own data gives and withdraws their own consents;
     * anything else (rectification, erasure, restriction, objection) is a
     * request the controller answers. */
    if (w->only_self)
        return id && sg_view_is_self(w, id) && !erase && w->action &&
                       strncmp(w->action, "consent.", 8) == 0
                   ? SG_OK
                   : sg_err_set(err, SG_DENIED,
                                "a person changes only their own consents here; anything else "
                                "is a request");
    if (!r)
        return SG_OK;
    switch (r->kind) {
    case SG_ROLE_PUBLIC:
        return sg_err_set(err, SG_DENIED, "role '%s' may not change data", r->id);
    case SG_ROLE_USER:
        if (!id || !sg_view_is_self(w, id) || erase)
            return sg_err_set(err, SG_DENIED,
                              "role '%s' may change only the viewer's own data, and erase "
                              "nothing (that is a request)",
                              r->id);
        return SG_OK;
    default:
        break;
    }
    if (erase && r->nfields < v->catalog->n)
        return sg_err_set(err, SG_DENIED,
                          "role '%s' may not erase: erasure destroys fields it does not see",
                          r->id);
    return SG_OK;
}

enum sg_rc sg_view_require_staff(struct sg_vault *v, const struct sg_actor *who, const char *action,
                                 struct sg_err *err)
{
    struct sg_view w;
    enum sg_rc rc = sg_view_open(v, who, action, &w, err);
    if (rc)
        return rc;
    int ok = !w.only_self && (!w.role || w.role->kind == SG_ROLE_STAFF);
    sg_view_close(&w);
    if (ok)
        return SG_OK;
    sg_err_set(err, SG_DENIED, "role '%s' may not do this: it is the controller's staff's",
               who->role);
    return sg_view_deny(v, who, action, NULL, err);
}
