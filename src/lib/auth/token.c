/*
 * token.c - API tokens; see sargs/token.h.
 */
#include "auth_int.h"
#include "sargs/token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PREFIX       "sgt_"
#define SECRET_BYTES 32

static void hash_secret(const char *secret, uint8_t out[32])
{
    static const char label[] = "sargs/token/v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, (const uint8_t *)secret, strlen(secret));
    crypto_generichash_final(&st, out, 32);
}

int sg_auth_word_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

static void to_info(const struct sg_store_token *t, struct sg_token_info *out)
{
    snprintf(out->id, sizeof out->id, "%s", t->id);
    snprintf(out->name, sizeof out->name, "%s", t->name);
    snprintf(out->role, sizeof out->role, "%s", t->role);
    snprintf(out->purpose, sizeof out->purpose, "%s", t->purpose);
    snprintf(out->scope, sizeof out->scope, "%s", t->scope ? t->scope : "");
    out->created = t->created;
    out->revoked = t->revoked;
}

enum sg_rc sg_auth_check_grant(struct sg_vault *v, const char *role, const char *purpose,
                               const char *scope, struct sg_buf *norm, struct sg_err *err)
{
    const struct sg_policy *p = v->policy;
    const struct sg_role *r = p ? sg_policy_role(p, role) : NULL;
    if (!r)
        return sg_err_set(err, SG_INVALID,
                          "role '%.64s' is not a role of the policy in force (no credential "
                          "gets the operator's)",
                          role);
    const struct sg_purpose *pu = sg_policy_purpose(p, purpose);
    if (!pu)
        return sg_err_set(err, SG_INVALID,
                          "purpose '%.64s' is not a purpose of the policy in force", purpose);
    if (r->npurposes) {
        size_t i = 0;
        while (i < r->npurposes && r->purposes[i] != pu)
            i++;
        if (i == r->npurposes)
            return sg_err_set(err, SG_INVALID, "role '%s' does not act for purpose '%s'", r->id,
                              pu->id);
    }
    if (!scope)
        return SG_OK;
    if (r->rows != SG_ROWS_SAME_VALUE || !r->row_field)
        return sg_err_set(err, SG_INVALID,
                          "role '%s' sees people by no value of theirs, so a scope means nothing",
                          r->id);
    enum sg_rc rc =
        sg_value_normalise(v->catalog, r->row_field, scope, strlen(scope), norm, NULL, err);
    return rc ? sg_err_prefix(err, "scope") : SG_OK;
}

enum sg_rc sg_token_create(struct sg_vault *v, const struct sg_actor *who, const char *name,
                           const char *role, const char *purpose, const char *scope,
                           char secret[SG_TOKEN_MAX], struct sg_token_info *info,
                           struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!sg_auth_word_ok(name, 64) || !sg_auth_word_ok(role, 128) || !sg_auth_word_ok(purpose, 128))
        return sg_err_set(err, SG_INVALID,
                          "a token needs a name (at most 64), a role and a purpose (at most "
                          "128), without spaces or control characters");
    if (scope && !sg_auth_word_ok(scope, 128))
        return sg_err_set(err, SG_INVALID, "a scope is at most 128 bytes without spaces");
    char sc[129] = "";
    struct sg_buf norm;
    sg_buf_init(&norm, 128);
    rc = sg_auth_check_grant(v, role, purpose, scope, &norm, err);
    if (!rc && scope)
        snprintf(sc, sizeof sc, "%.*s", (int)norm.len, norm.ptr);
    sg_buf_release(&norm);
    if (rc)
        return rc;
    /* The id: 12 characters of base32 (lowercase, no padding). */
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    char id[SG_TOKEN_ID_LEN + 1];
    uint8_t r[SG_TOKEN_ID_LEN], sec[SECRET_BYTES];
    randombytes_buf(r, sizeof r);
    for (int i = 0; i < SG_TOKEN_ID_LEN; i++)
        id[i] = b32[r[i] & 31];
    id[SG_TOKEN_ID_LEN] = '\0';
    randombytes_buf(sec, sizeof sec);
    char enc[64];
    sodium_bin2base64(enc, sizeof enc, sec, sizeof sec, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(sec, sizeof sec);
    snprintf(secret, SG_TOKEN_MAX, PREFIX "%s_%s", id, enc);
    sodium_memzero(enc, sizeof enc);
    uint8_t h[32];
    hash_secret(secret, h);
    sg_time now = sg_clock_now(v->clock);
    struct sg_store_token t = {id, name, role, purpose, scope ? sc : NULL, h, now, 0};
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = v->store->ops->token_put(v->store, &t, err);
    if (!rc)
        rc = sg_audit_record_details(&v->audit, v->store, who, now, "token.create", NULL, "ok", 1,
                                     id, strlen(id), err);
    rc = sg_op_end(v, mark, rc, err);
out:
    if (rc)
        sodium_memzero(secret, SG_TOKEN_MAX);
    else if (info)
        to_info(&t, info);
    return rc;
}

struct list_ctx {
    int (*cb)(void *ctx, const struct sg_token_info *t);
    void *ctx;
};

static int list_one(void *ctx, const struct sg_store_token *t)
{
    struct list_ctx *c = ctx;
    struct sg_token_info info;
    to_info(t, &info);
    return c->cb(c->ctx, &info);
}

enum sg_rc sg_token_list(struct sg_vault *v, int (*cb)(void *ctx, const struct sg_token_info *t),
                         void *ctx, struct sg_err *err)
{
    struct list_ctx c = {cb, ctx};
    return v->store->ops->token_each(v->store, list_one, &c, err);
}

struct check_ctx {
    const uint8_t *hash;
    struct sg_token_info *out;
    int ok;
};

static int compare_exists(void *ctx, const struct sg_store_token *t)
{
    (void)t;
    ((struct check_ctx *)ctx)->ok = 1;
    return 1;
}

enum sg_rc sg_token_revoke(struct sg_vault *v, const struct sg_actor *who, const char *id,
                           struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!sg_auth_word_ok(id, SG_TOKEN_ID_LEN))
        return sg_err_set(err, SG_INVALID, "not a token id");
    sg_time now = sg_clock_now(v->clock);
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = v->store->ops->token_revoke(v->store, id, now, err);
    if (rc == SG_CONFLICT) {
        struct check_ctx c = {(const uint8_t *)"", NULL, 0};
        if (v->store->ops->token_get(v->store, id, compare_exists, &c, NULL) == SG_NOTFOUND)
            rc = sg_err_set(err, SG_NOTFOUND, "no token %s", id);
        else
            rc = sg_err_set(err, SG_CONFLICT, "token %s is already revoked", id);
    }
    if (!rc)
        rc = sg_audit_record_details(&v->audit, v->store, who, now, "token.revoke", NULL, "ok", 1,
                                     id, strlen(id), err);
    return sg_op_end(v, mark, rc, err);
}

static int compare(void *ctx, const struct sg_store_token *t)
{
    struct check_ctx *c = ctx;
    c->ok = sodium_memcmp(t->hash, c->hash, 32) == 0 && t->revoked == 0;
    if (c->ok && c->out)
        to_info(t, c->out);
    return 1;
}

enum sg_rc sg_token_check(struct sg_vault *v, const char *presented, struct sg_token_info *out,
                          struct sg_err *err)
{
    /* "sgt_" id(12) "_" secret(43) */
    size_t n = presented ? strlen(presented) : 0;
    if (n < 4 + SG_TOKEN_ID_LEN + 2 || n >= SG_TOKEN_MAX || strncmp(presented, PREFIX, 4) != 0 ||
        presented[4 + SG_TOKEN_ID_LEN] != '_')
        return sg_err_set(err, SG_DENIED, "invalid or revoked token");
    char id[SG_TOKEN_ID_LEN + 1];
    memcpy(id, presented + 4, SG_TOKEN_ID_LEN);
    id[SG_TOKEN_ID_LEN] = '\0';
    uint8_t h[32];
    hash_secret(presented, h);
    struct check_ctx c = {h, out, 0};
    struct sg_err e2;
    enum sg_rc rc = v->store->ops->token_get(v->store, id, compare, &c, &e2);
    if (rc && rc != SG_NOTFOUND) {
        if (err)
            *err = e2;
        return rc;
    }
    if (!c.ok)
        return sg_err_set(err, SG_DENIED, "invalid or revoked token");
    return SG_OK;
}
