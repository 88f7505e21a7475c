/*
 * operator.c - operator accounts, passwords and sessions; see
 * sargs/operator.h.
 */
#include "auth_int.h"
#include "sargs/operator.h"
#include "sargs/text.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PASSWORD_MAX         1024
#define SESSION_PREFIX       "sgs_"
#define SESSION_SECRET_BYTES 32
#define SEEN_EVERY           (INT64_C(60) * SG_USEC_PER_SEC)

static int login_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '@'))
            return 0;
    }
    return 1;
}

/* The policy's password rules; the message says what is missing, never the
 * password. */
static enum sg_rc check_password(const struct sg_vault *v, const char *login, const char *pw,
                                 struct sg_err *err)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n > PASSWORD_MAX || !sg_utf8_valid(pw ? pw : "", n))
        return sg_err_set(err, SG_INVALID, "a password is valid UTF-8 of at most %d bytes",
                          PASSWORD_MAX);
    int min = 12, kinds_needed = 3;
    if (v->policy && v->policy->passwords.min_length)
        min = v->policy->passwords.min_length;
    if (v->policy && v->policy->passwords.kinds)
        kinds_needed = v->policy->passwords.kinds;
    size_t chars = 0;
    int lower = 0, upper = 0, digit = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)pw[i];
        if ((c & 0xc0) != 0x80)
            chars++;
        if (c >= 'a' && c <= 'z')
            lower = 1;
        else if (c >= 'A' && c <= 'Z')
            upper = 1;
        else if (c >= '0' && c <= '9')
            digit = 1;
        else if ((c & 0xc0) != 0x80)
            other = 1;
    }
    if (chars < (size_t)min)
        return sg_err_set(err, SG_INVALID, "a password has at least %d characters", min);
    if (lower + upper + digit + other < kinds_needed)
        return sg_err_set(err, SG_INVALID,
                          "a password mixes at least %d of: lower case, upper case, digits, "
                          "other characters",
                          kinds_needed);
    if (login && sodium_memcmp(login, pw, n) == 0 && strlen(login) == n)
        return sg_err_set(err, SG_INVALID, "a password is not the login");
    return SG_OK;
}

static enum sg_rc hash_password(const char *pw, char out[crypto_pwhash_STRBYTES],
                                struct sg_err *err)
{
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return sg_err_set(err, SG_NOMEM, "out of memory hashing a password");
    return SG_OK;
}

/* Spends what a verification spends, for a login that does not exist. */
static void burn(const char *pw)
{
    static const uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t out[32];
    if (crypto_pwhash(out, sizeof out, pw, strlen(pw), salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        out[0] = 0; /* out of memory: the answer is "wrong" anyway */
    sodium_memzero(out, sizeof out);
}

/* A copy of a stored operator (the store's strings live for a call). */
struct op {
    char login[65], role[129], purpose[129], scope[129], hash[crypto_pwhash_STRBYTES];
    struct sg_store_operator o;
};

static int copy_op(void *ctx, const struct sg_store_operator *o)
{
    struct op *d = ctx;
    snprintf(d->login, sizeof d->login, "%s", o->login);
    snprintf(d->role, sizeof d->role, "%s", o->role);
    snprintf(d->purpose, sizeof d->purpose, "%s", o->purpose);
    snprintf(d->scope, sizeof d->scope, "%s", o->scope ? o->scope : "");
    snprintf(d->hash, sizeof d->hash, "%s", o->hash);
    d->o = *o;
    d->o.login = d->login;
    d->o.role = d->role;
    d->o.purpose = d->purpose;
    d->o.scope = d->scope[0] ? d->scope : NULL;
    d->o.hash = d->hash;
    return 1;
}

static enum sg_rc load_op(struct sg_vault *v, const char *login, struct op *d, struct sg_err *err)
{
    enum sg_rc rc = v->store->ops->operator_get(v->store, login, copy_op, d, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_NOTFOUND, "no operator '%.64s'", login);
    return rc;
}

static void to_info(const struct sg_vault *v, const struct op *d, struct sg_operator_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->login, sizeof out->login, "%s", d->login);
    snprintf(out->role, sizeof out->role, "%s", d->role);
    snprintf(out->purpose, sizeof out->purpose, "%s", d->purpose);
    snprintf(out->scope, sizeof out->scope, "%s", d->scope);
    out->created = d->o.created;
    out->password_changed = d->o.password_changed;
    out->locked_until = d->o.locked_until;
    out->failures = d->o.failures;
    out->disabled = d->o.disabled;
    if (v->policy && v->policy->passwords.has_rotate)
        out->password_expired =
            sg_clock_now(v->clock) >=
            sg_duration_add(d->o.password_changed, &v->policy->passwords.rotate);
}

/* Writes the operator back and audits, in one operation. */
static enum sg_rc save(struct sg_vault *v, const struct sg_actor *who, struct op *d,
                       const char *action, int end_sessions, struct sg_err *err)
{
    struct sg_opmark mark;
    struct sg_store *s = v->store;
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    rc = s->ops->operator_put(s, &d->o, err);
    if (!rc && end_sessions)
        rc = s->ops->session_del_login(s, d->login, err);
    if (!rc)
        rc = sg_audit_record_details(&v->audit, s, who, sg_clock_now(v->clock), action, NULL, "ok",
                                     1, d->login, strlen(d->login), err);
    return sg_op_end(v, mark, rc, err);
}

/* Managing operators is for the operator and staff roles. */
static enum sg_rc may_manage(struct sg_vault *v, const struct sg_actor *who, const char *action,
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
    sg_err_set(err, SG_DENIED, "role '%s' may not manage operators", who->role);
    return sg_view_deny(v, who, action, NULL, err);
}

enum sg_rc sg_operator_add(struct sg_vault *v, const struct sg_actor *who, const char *login,
                           const char *role, const char *purpose, const char *scope,
                           const char *password, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!login_ok(login))
        return sg_err_set(err, SG_INVALID, "a login is 1 to 64 of a-z, 0-9 and '.', '_', '-', '@'");
    if (!sg_auth_word_ok(role, 128) || !sg_auth_word_ok(purpose, 128) ||
        (scope && !sg_auth_word_ok(scope, 128)))
        return sg_err_set(err, SG_INVALID, "an operator needs a role and a purpose");
    struct sg_buf norm;
    sg_buf_init(&norm, 128);
    struct op d;
    memset(&d, 0, sizeof d);
    rc = sg_auth_check_grant(v, role, purpose, scope, &norm, err);
    if (!rc && scope)
        snprintf(d.scope, sizeof d.scope, "%.*s", (int)norm.len, norm.ptr);
    sg_buf_release(&norm);
    if (rc || (rc = check_password(v, login, password, err)) ||
        (rc = may_manage(v, who, "operator.add", err)) ||
        (rc = hash_password(password, d.hash, err)))
        return rc;
    snprintf(d.login, sizeof d.login, "%s", login);
    snprintf(d.role, sizeof d.role, "%s", role);
    snprintf(d.purpose, sizeof d.purpose, "%s", purpose);
    sg_time now = sg_clock_now(v->clock);
    d.o = (struct sg_store_operator){
        d.login, d.role, d.purpose, scope ? d.scope : NULL, d.hash, now, now, 0, 0, 0};
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = v->store->ops->operator_insert(v->store, &d.o, err);
    if (!rc)
        rc = sg_audit_record_details(&v->audit, v->store, who, now, "operator.add", NULL, "ok", 1,
                                     login, strlen(login), err);
    rc = sg_op_end(v, mark, rc, err);
    sodium_memzero(d.hash, sizeof d.hash);
    return rc;
}

enum sg_rc sg_operator_set_password(struct sg_vault *v, const struct sg_actor *who,
                                    const char *login, const char *old, const char *password,
                                    struct sg_err *err)
{
    enum sg_rc rc;
    struct op d;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (!login_ok(login))
        return sg_err_set(err, SG_NOTFOUND, "no operator '%.64s'", login ? login : "");
    if ((rc = check_password(v, login, password, err)) || (rc = load_op(v, login, &d, err)))
        return rc;
    if (old) {
        if (crypto_pwhash_str_verify(d.hash, old, strlen(old)) != 0)
            return sg_err_set(err, SG_DENIED, "the current password is wrong");
        if (strcmp(old, password) == 0)
            return sg_err_set(err, SG_INVALID, "the new password is the old one");
    } else if ((rc = may_manage(v, who, "operator.password", err))) {
        return rc;
    }
    if ((rc = hash_password(password, d.hash, err)))
        return rc;
    d.o.password_changed = sg_clock_now(v->clock);
    d.o.failures = 0;
    d.o.locked_until = 0;
    rc = save(v, who, &d, "operator.password", 1, err);
    sodium_memzero(d.hash, sizeof d.hash);
    return rc;
}

enum sg_rc sg_operator_disable(struct sg_vault *v, const struct sg_actor *who, const char *login,
                               int disable, struct sg_err *err)
{
    enum sg_rc rc;
    struct op d;
    const char *action = disable ? "operator.disable" : "operator.enable";
    if ((rc = sg_actor_check(who, err)) || (rc = may_manage(v, who, action, err)) ||
        (rc = load_op(v, login_ok(login) ? login : "", &d, err)))
        return rc;
    if (d.o.disabled == !!disable)
        return sg_err_set(err, SG_CONFLICT, "operator '%s' is already %s", login,
                          disable ? "disabled" : "enabled");
    d.o.disabled = !!disable;
    return save(v, who, &d, action, disable, err);
}

enum sg_rc sg_operator_unlock(struct sg_vault *v, const struct sg_actor *who, const char *login,
                              struct sg_err *err)
{
    enum sg_rc rc;
    struct op d;
    if ((rc = sg_actor_check(who, err)) || (rc = may_manage(v, who, "operator.unlock", err)) ||
        (rc = load_op(v, login_ok(login) ? login : "", &d, err)))
        return rc;
    d.o.failures = 0;
    d.o.locked_until = 0;
    return save(v, who, &d, "operator.unlock", 0, err);
}

struct list_ctx {
    struct sg_vault *v;
    int (*cb)(void *ctx, const struct sg_operator_info *o);
    void *ctx;
};

static int list_one(void *ctx, const struct sg_store_operator *o)
{
    struct list_ctx *l = ctx;
    struct op d;
    struct sg_operator_info info;
    copy_op(&d, o);
    to_info(l->v, &d, &info);
    sodium_memzero(d.hash, sizeof d.hash);
    return l->cb(l->ctx, &info);
}

enum sg_rc sg_operator_list(struct sg_vault *v,
                            int (*cb)(void *ctx, const struct sg_operator_info *o), void *ctx,
                            struct sg_err *err)
{
    struct list_ctx l = {v, cb, ctx};
    return v->store->ops->operator_each(v->store, list_one, &l, err);
}

/* ---------------------------------------------------------------- sessions */

static void hash_secret(const char *secret, uint8_t out[32])
{
    static const char label[] = "sargs/session/v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, (const uint8_t *)secret, strlen(secret));
    crypto_generichash_final(&st, out, 32);
}

/* The actor of a sign-in: the login when it names an operator. */
static void signin_actor(struct sg_actor *a, char *buf, size_t cap, const char *login, int known)
{
    snprintf(buf, cap, "operator:%s", known ? login : "?");
    a->id = buf;
    a->role = "sign-in";
    a->purpose = "authentication";
    a->self = NULL;
    a->scope = NULL;
}

enum sg_rc sg_session_open(struct sg_vault *v, const char *login, const char *password,
                           char secret[SG_SESSION_MAX], struct sg_operator_info *out,
                           struct sg_err *err)
{
    struct op d;
    struct sg_actor who;
    char idbuf[80];
    enum sg_rc rc;
    sg_time now = sg_clock_now(v->clock);
    secret[0] = '\0';
    if (!password)
        password = "";
    int known = login_ok(login) && load_op(v, login, &d, NULL) == SG_OK;
    signin_actor(&who, idbuf, sizeof idbuf, login, known);
    if (!known) {
        burn(password);
        rc = sg_err_set(err, SG_DENIED, "wrong login or password");
        goto audit;
    }
    if (d.o.locked_until > now) {
        char t[SG_TIME_STR_MAX];
        rc =
            sg_err_set(err, SG_LIMITED, "too many failed sign-ins: this account is locked until %s",
                       sg_time_format(d.o.locked_until, t));
        goto audit;
    }
    int good = crypto_pwhash_str_verify(d.hash, password, strlen(password)) == 0;
    if (!good || d.o.disabled) {
        if (!good && ++d.o.failures >= SG_LOCKOUT_FAILURES) {
            d.o.locked_until = now + SG_LOCKOUT_USEC;
            d.o.failures = 0;
        }
        if (!good) {
            struct sg_err ignore;
            (void)v->store->ops->operator_put(v->store, &d.o, &ignore);
        }
        rc = sg_err_set(err, SG_DENIED, "wrong login or password");
        goto audit;
    }
    /* In: a fresh secret, only its hash kept. */
    uint8_t raw[SESSION_SECRET_BYTES];
    char enc[sodium_base64_ENCODED_LEN(SESSION_SECRET_BYTES,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(enc, sizeof enc, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(secret, SG_SESSION_MAX, SESSION_PREFIX "%s", enc);
    sodium_memzero(enc, sizeof enc);
    struct sg_store_session ss;
    hash_secret(secret, ss.hash);
    ss.login = d.login;
    ss.created = ss.seen = now;
    ss.expires = now + SG_SESSION_LIFE_USEC;
    d.o.failures = 0;
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = v->store->ops->operator_put(v->store, &d.o, err);
    if (!rc)
        rc = v->store->ops->session_purge(v->store, now, err);
    if (!rc)
        rc = v->store->ops->session_put(v->store, &ss, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, v->store, &who, now, "session.open", NULL, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && out)
        to_info(v, &d, out);
    goto out;
audit : {
    /* A failed sign-in is on the record, in its own transaction. */
    struct sg_err aerr;
    struct sg_opmark amark;
    if (sg_op_begin(v, &amark, &aerr) == SG_OK)
        (void)sg_op_end(v, amark,
                        sg_audit_record(&v->audit, v->store, &who, now, "session.open", NULL,
                                        rc == SG_LIMITED ? "locked" : "denied", &aerr),
                        &aerr);
}
out:
    if (known)
        sodium_memzero(d.hash, sizeof d.hash);
    if (rc)
        sodium_memzero(secret, SG_SESSION_MAX);
    return rc;
}

enum sg_rc sg_session_check(struct sg_vault *v, const char *secret, struct sg_operator_info *out,
                            struct sg_err *err)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < 8 || n >= SG_SESSION_MAX || strncmp(secret, SESSION_PREFIX, 4) != 0)
        return sg_err_set(err, SG_DENIED, "not signed in");
    uint8_t h[32];
    hash_secret(secret, h);
    struct sg_store_session ss;
    char login[65];
    struct sg_store *s = v->store;
    enum sg_rc rc = s->ops->session_get(s, h, &ss, login, sizeof login, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_DENIED, "not signed in");
    if (rc)
        return rc;
    sg_time now = sg_clock_now(v->clock);
    struct op d;
    if (now >= ss.expires || now >= ss.seen + SG_SESSION_IDLE_USEC ||
        load_op(v, login, &d, NULL) != SG_OK || d.o.disabled) {
        (void)s->ops->session_del(s, h, NULL);
        return sg_err_set(err, SG_DENIED, "the session has ended; sign in again");
    }
    /* Its last use, at most once a minute: a write per request would cost
     * more than the request. */
    if (now - ss.seen >= SEEN_EVERY && (rc = s->ops->session_seen(s, h, now, err)))
        return rc;
    if (out)
        to_info(v, &d, out);
    sodium_memzero(d.hash, sizeof d.hash);
    return SG_OK;
}

enum sg_rc sg_session_close(struct sg_vault *v, const char *secret, struct sg_err *err)
{
    struct sg_operator_info who_info;
    enum sg_rc rc = sg_session_check(v, secret, &who_info, err);
    if (rc)
        return rc;
    uint8_t h[32];
    hash_secret(secret, h);
    char idbuf[80];
    struct sg_actor who;
    signin_actor(&who, idbuf, sizeof idbuf, who_info.login, 1);
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = v->store->ops->session_del(v->store, h, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, v->store, &who, sg_clock_now(v->clock), "session.close",
                             NULL, "ok", err);
    return sg_op_end(v, mark, rc, err);
}
