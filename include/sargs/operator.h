/*
 * sargs/operator.h - operators (the organisation's people who sign in) and
 * their sessions.
 *
 * An operator has a login, a role of the policy and a default purpose (and a
 * scope for a `same_as_viewer` role), like an API token. The password is
 * checked against the policy's rules (`operators.password`: length, kinds of
 * characters, rotation) and kept only as an Argon2id hash (libsodium's
 * crypto_pwhash_str). Five failed sign-ins in a row lock the account for 15
 * minutes (SG_LIMITED); every sign-in, failed or not, is an audit entry.
 *
 * A session is "sgs_<base64url secret>", sent back as an HttpOnly, Secure,
 * SameSite=Strict cookie by the server; only its BLAKE2b hash is stored. It
 * ends after 30 minutes without use, 12 hours after sign-in, at sign-out, or
 * when the operator is disabled or changes password.
 */
#ifndef SARGS_OPERATOR_H
#define SARGS_OPERATOR_H

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/vault.h"

#define SG_SESSION_MAX       64
#define SG_LOCKOUT_FAILURES  5
#define SG_LOCKOUT_USEC      (INT64_C(15) * 60 * SG_USEC_PER_SEC)
#define SG_SESSION_IDLE_USEC (INT64_C(30) * 60 * SG_USEC_PER_SEC)
#define SG_SESSION_LIFE_USEC (INT64_C(12) * 3600 * SG_USEC_PER_SEC)

struct sg_operator_info {
    char login[65];
    char role[129];
    char purpose[129];
    char scope[129]; /* "" when none */
    sg_time created, password_changed, locked_until;
    int failures, disabled;
    int password_expired; /* older than the policy's rotation */
};

/*
 * Adds an operator. `login`: 1-64 of a-z, 0-9, ".", "_", "-", "@". The role
 * and purpose follow the rules of API tokens (sargs/token.h). The password
 * must meet the policy's rules (SG_INVALID saying which, never echoing it).
 * SG_CONFLICT when the login exists. Audited; the password never is.
 */
enum sg_rc sg_operator_add(struct sg_vault *v, const struct sg_actor *who, const char *login,
                           const char *role, const char *purpose, const char *scope,
                           const char *password, struct sg_err *err);

/*
 * Changes a password: by the operator (`old` given and checked, SG_DENIED
 * when wrong) or by an administrator (`old` NULL). Ends every session of the
 * operator and lifts a lockout. Audited.
 */
enum sg_rc sg_operator_set_password(struct sg_vault *v, const struct sg_actor *who,
                                    const char *login, const char *old, const char *password,
                                    struct sg_err *err);

/* Disables (ending every session) or enables an operator; unlock lifts a
 * lockout. SG_NOTFOUND for an unknown login. Audited. */
enum sg_rc sg_operator_disable(struct sg_vault *v, const struct sg_actor *who, const char *login,
                               int disable, struct sg_err *err);
enum sg_rc sg_operator_unlock(struct sg_vault *v, const struct sg_actor *who, const char *login,
                              struct sg_err *err);

/* Every operator, by login. */
enum sg_rc sg_operator_list(struct sg_vault *v,
                            int (*cb)(void *ctx, const struct sg_operator_info *o), void *ctx,
                            struct sg_err *err);

/*
 * Signs in. SG_OK, the session's secret in `secret` (SG_SESSION_MAX bytes)
 * and who it is in `out`. SG_DENIED "wrong login or password" alike for an
 * unknown login, a wrong password and a disabled operator (and as slow);
 * SG_LIMITED while locked. A password past the policy's rotation still
 * signs in, with out->password_expired set: the session may then only
 * change the password (the server enforces it).
 */
enum sg_rc sg_session_open(struct sg_vault *v, const char *login, const char *password,
                           char secret[SG_SESSION_MAX], struct sg_operator_info *out,
                           struct sg_err *err);

/* Checks a presented session: SG_OK and the operator, or SG_DENIED (unknown,
 * expired, ended, the operator disabled). Refreshes its last use. */
enum sg_rc sg_session_check(struct sg_vault *v, const char *secret, struct sg_operator_info *out,
                            struct sg_err *err);

/* Signs out (the session is forgotten). */
enum sg_rc sg_session_close(struct sg_vault *v, const char *secret, struct sg_err *err);

#endif
