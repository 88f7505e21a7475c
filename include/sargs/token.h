/*
 * sargs/token.h - API tokens for services that call sargs over HTTP.
 *
 * A token is "sgt_<id>_<secret>": the id names it (and is shown in lists and
 * the audit trail), the secret (32 random bytes, base64url) is shown once at
 * creation and stored only as its BLAKE2b-256 hash; a presented token is
 * compared in constant time. Each token is scoped to one role and carries a
 * default purpose, which a request may narrow with its own.
 */
#ifndef SARGS_TOKEN_H
#define SARGS_TOKEN_H

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/vault.h"

#define SG_TOKEN_ID_LEN 12
#define SG_TOKEN_MAX    96

struct sg_token_info {
    char id[SG_TOKEN_ID_LEN + 1];
    char name[65];
    char role[129];
    char purpose[129];
    char scope[129]; /* "" when none */
    sg_time created;
    sg_time revoked; /* 0 while valid */
};

/*
 * Creates a token for `role` with default `purpose`, named `name` (a label
 * for people, e.g. "portal"). The role must be one of the policy in force
 * (never the operator's) and the purpose one it acts for. `scope` (may be
 * NULL) is the value of the role's `same_as_viewer` field the token sees
 * people by (a national organisation's country); SG_INVALID for a role that
 * has none. `secret` receives the whole token text (SG_TOKEN_MAX bytes),
 * which is not kept anywhere. Audited.
 */
enum sg_rc sg_token_create(struct sg_vault *v, const struct sg_actor *who, const char *name,
                           const char *role, const char *purpose, const char *scope,
                           char secret[SG_TOKEN_MAX], struct sg_token_info *info,
                           struct sg_err *err);

/* Every token, valid or revoked, oldest first. */
enum sg_rc sg_token_list(struct sg_vault *v, int (*cb)(void *ctx, const struct sg_token_info *t),
                         void *ctx, struct sg_err *err);

/* Revokes a token by id; effective for the next request. SG_NOTFOUND for an
 * unknown id, SG_CONFLICT when already revoked. Audited. */
enum sg_rc sg_token_revoke(struct sg_vault *v, const struct sg_actor *who, const char *id,
                           struct sg_err *err);

/*
 * Checks a presented token. SG_OK and the token's role and purpose in `out`
 * when valid; SG_DENIED otherwise (malformed, unknown, revoked or wrong
 * secret - one message for all, so an attacker learns nothing).
 */
enum sg_rc sg_token_check(struct sg_vault *v, const char *presented, struct sg_token_info *out,
                          struct sg_err *err);

#endif
