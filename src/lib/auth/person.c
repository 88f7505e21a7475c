/*
 * person.c - people signing in to their own data with one-time codes; see
 * sargs/selfservice.h.
 */
#include "auth_int.h"
#include "sargs/selfservice.h"

#include "../outbox/outbox_int.h"
#include "../requests/request_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERSON_PREFIX "person:"

void sg_person_actor(const struct sg_uuid *id, char buf[64], struct sg_actor *out)
{
    char ids[SG_UUID_STR_LEN + 1];
    snprintf(buf, 64, PERSON_PREFIX "%s", sg_uuid_format(id, ids));
    out->id = buf;
    out->role = SG_ROLE_SELF;
    out->purpose = "self-service";
    out->self = id;
    out->scope = NULL;
}

static void code_hash(const struct sg_uuid *id, const char *code, uint8_t out[32])
{
    static const char label[] = "sargs/person-code/v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, id->b, 16);
    crypto_generichash_update(&st, (const uint8_t *)code, strlen(code));
    crypto_generichash_final(&st, out, 32);
}

/* The one person with this indexed value, or SG_NOTFOUND. */
static enum sg_rc find_one(struct sg_vault *v, const char *category, const char *value,
                           struct sg_uuid *id, struct sg_err *err)
{
    static const struct sg_actor finder = {"sargs:sign-in", SG_ROLE_OPERATOR, "authentication",
                                           NULL, NULL};
    struct sg_uuid ids[2];
    size_t n = 0;
    if (!category || !value)
        return SG_NOTFOUND;
    enum sg_rc rc = sg_subject_find(v, &finder, category, value, strlen(value), ids, 2, &n, err);
    if (rc == SG_INVALID)
        return rc;
    if (rc)
        return rc;
    if (n != 1)
        return SG_NOTFOUND;
    *id = ids[0];
    return SG_OK;
}

enum sg_rc sg_person_code_send(struct sg_vault *v, const char *category, const char *value,
                               struct sg_err *err)
{
    struct sg_uuid id;
    enum sg_rc rc = find_one(v, category, value, &id, err);
    if (rc == SG_NOTFOUND)
        return SG_OK; /* nothing tells who is on file */
    if (rc)
        return rc;
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock), expires, sent = 0;
    uint8_t h[32];
    int attempts;
    rc = s->ops->code_get(s, &id, h, &expires, &attempts, &sent, err);
    if (rc && rc != SG_NOTFOUND)
        return rc;
    if (rc == SG_OK && now - sent < SG_CODE_EVERY)
        return SG_OK; /* at most one a minute */
    /* The code: SG_CODE_DIGITS uniform digits. */
    char code[SG_CODE_DIGITS + 1];
    for (int i = 0; i < SG_CODE_DIGITS; i++)
        code[i] = (char)('0' + randombytes_uniform(10));
    code[SG_CODE_DIGITS] = '\0';
    code_hash(&id, code, h);
    struct sg_opmark mark;
    struct sg_store_subject row;
    char *to = NULL;
    size_t len = 0;
    const struct sg_category *email = sg_catalog_find(v->catalog, "user.contact.email");
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = sg_vault_load_subject(v, &id, &row, 1, err);
    if (!rc)
        rc = email ? sg_vault_loaded_field(v, &id, email, &to, &len, err) : SG_NOTFOUND;
    if (!rc)
        rc = s->ops->code_put(s, &id, h, now + SG_CODE_USEC, 0, now, err);
    if (!rc) {
        const char *lang = v->policy ? v->policy->languages[0] : "en";
        int lv = strcmp(lang, "lv") == 0;
        char body[512];
        snprintf(body, sizeof body,
                 lv ? "Jūsu vienreizējais kods: %s\nTas derīgs 10 minūtes. Ja to neprasījāt, "
                      "neņemiet vērā šo vēstuli.\n"
                    : "Your one-time code: %s\nIt is valid for 10 minutes. If you did not ask "
                      "for it, ignore this message.\n",
                 code);
        rc = sg_outbox_queue(v, &id, row.dek_version, "sign-in-code", to,
                             lv ? "Jūsu pieteikšanās kods" : "Your sign-in code", body, now, NULL,
                             err);
        sodium_memzero(body, sizeof body);
    }
    if (!rc) {
        char buf[64];
        struct sg_actor who;
        sg_person_actor(&id, buf, &who);
        rc = sg_audit_record(&v->audit, s, &who, now, "person.code", &id, "ok", err);
    }
    rc = sg_op_end(v, mark, rc, err);
    if (rc == SG_NOTFOUND) /* no address on file: no code, and no word of it */
        rc = SG_OK;
out:
    sg_vault_forget_key(v);
    if (to) {
        sodium_memzero(to, len);
        free(to);
    }
    sodium_memzero(code, sizeof code);
    return rc;
}

static void session_hash(const char *secret, uint8_t out[32])
{
    static const char label[] = "sargs/session/v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, (const uint8_t *)secret, strlen(secret));
    crypto_generichash_final(&st, out, 32);
}

enum sg_rc sg_person_session_open(struct sg_vault *v, const char *category, const char *value,
                                  const char *code, char secret[SG_SESSION_MAX], struct sg_uuid *id,
                                  struct sg_err *err)
{
    secret[0] = '\0';
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock), expires = 0, sent = 0;
    uint8_t want[32], got[32];
    int attempts = 0;
    enum sg_rc rc = find_one(v, category, value, id, err);
    if (rc == SG_INVALID)
        return rc;
    if (!rc)
        rc = s->ops->code_get(s, id, want, &expires, &attempts, &sent, err);
    if (rc == SG_NOTFOUND || (!rc && now >= expires))
        return sg_err_set(err, SG_DENIED, "wrong or expired code");
    if (rc)
        return rc;
    if (attempts >= SG_CODE_ATTEMPTS)
        return sg_err_set(err, SG_LIMITED, "too many wrong codes: ask for a new one");
    size_t n = code ? strlen(code) : 0;
    code_hash(id, n == SG_CODE_DIGITS ? code : "-", got);
    char buf[64];
    struct sg_actor who;
    sg_person_actor(id, buf, &who);
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    if (sodium_memcmp(want, got, 32) != 0) {
        rc = s->ops->code_put(s, id, want, expires, attempts + 1, sent, err);
        if (!rc)
            rc = sg_audit_record(&v->audit, s, &who, now, "person.session", id, "denied", err);
        rc = sg_op_end(v, mark, rc, err);
        return rc ? rc : sg_err_set(err, SG_DENIED, "wrong or expired code");
    }
    uint8_t raw[32];
    char enc[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(enc, sizeof enc, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(secret, SG_SESSION_MAX, "sgp_%s", enc);
    sodium_memzero(enc, sizeof enc);
    struct sg_store_session ss;
    session_hash(secret, ss.hash);
    ss.login = buf;
    ss.created = ss.seen = now;
    ss.expires = now + SG_SESSION_LIFE_USEC;
    rc = s->ops->code_del(s, id, err);
    if (!rc)
        rc = s->ops->session_put(s, &ss, err);
    if (!rc)
        rc = sg_audit_record(&v->audit, s, &who, now, "person.session", id, "ok", err);
    rc = sg_op_end(v, mark, rc, err);
    if (rc)
        sodium_memzero(secret, SG_SESSION_MAX);
    return rc;
}

enum sg_rc sg_person_session_check(struct sg_vault *v, const char *secret, struct sg_uuid *id,
                                   struct sg_err *err)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < 8 || n >= SG_SESSION_MAX || strncmp(secret, "sgp_", 4) != 0)
        return sg_err_set(err, SG_DENIED, "not signed in");
    uint8_t h[32];
    session_hash(secret, h);
    struct sg_store_session ss;
    char login[65];
    struct sg_store *s = v->store;
    enum sg_rc rc = s->ops->session_get(s, h, &ss, login, sizeof login, err);
    if (rc == SG_NOTFOUND)
        return sg_err_set(err, SG_DENIED, "not signed in");
    if (rc)
        return rc;
    sg_time now = sg_clock_now(v->clock);
    struct sg_store_subject row;
    if (strncmp(login, PERSON_PREFIX, strlen(PERSON_PREFIX)) != 0 ||
        sg_uuid_parse(login + strlen(PERSON_PREFIX), id, NULL) != SG_OK || now >= ss.expires ||
        now >= ss.seen + SG_SESSION_IDLE_USEC ||
        s->ops->subject_get(s, id, &row, NULL, NULL) != SG_OK || row.state == SG_STATE_ERASED ||
        row.state == SG_STATE_ANONYMISED) {
        (void)s->ops->session_del(s, h, NULL);
        return sg_err_set(err, SG_DENIED, "the session has ended; sign in again");
    }
    if (now - ss.seen >= INT64_C(60) * SG_USEC_PER_SEC)
        (void)s->ops->session_seen(s, h, now, NULL);
    return SG_OK;
}

enum sg_rc sg_person_session_close(struct sg_vault *v, const char *secret, struct sg_err *err)
{
    struct sg_uuid id;
    enum sg_rc rc = sg_person_session_check(v, secret, &id, err);
    if (rc)
        return rc;
    uint8_t h[32];
    session_hash(secret, h);
    return v->store->ops->session_del(v->store, h, err);
}

/* ---------------------------------------------------------------- requests */

/* The policy's channel for requests made in the person's own account. */
static const char *account_channel(const struct sg_policy *p)
{
    for (size_t i = 0; p && i < p->requests.nchannels; i++)
        if (p->requests.channels[i].identity & SG_IDM_ACCOUNT)
            return p->requests.channels[i].id;
    return NULL;
}

enum sg_rc sg_person_request(struct sg_vault *v, const struct sg_uuid *id, int kind,
                             struct sg_request_info *info, struct sg_fulfil_out *out,
                             struct sg_err *err)
{
    const char *ch = account_channel(v->policy);
    if (!ch)
        return sg_err_set(err, SG_DENIED,
                          "the policy takes no requests through the person's own account");
    /* The controller's side of the request is done in the person's name:
     * the audit trail shows who asked. */
    char buf[64];
    struct sg_actor person;
    sg_person_actor(id, buf, &person);
    struct sg_actor desk = {buf, SG_ROLE_OPERATOR, "request", NULL, NULL};
    enum sg_rc rc = sg_request_new(v, &desk, kind, ch, id, 0, NULL, info, err);
    if (!rc)
        rc = sg_request_verify(v, &desk, &info->id, "account", NULL, err);
    if (!rc && (kind == SG_REQ_ACCESS || kind == SG_REQ_PORTABILITY) && out)
        rc = sg_request_fulfil(v, &desk, &info->id, NULL, out, err);
    if (!rc)
        rc = sg_request_get(v, &desk, &info->id, info, NULL, NULL, err);
    return rc;
}

enum sg_rc sg_person_requests(struct sg_vault *v, const struct sg_uuid *id,
                              int (*cb)(void *ctx, const struct sg_request_info *r), void *ctx,
                              struct sg_err *err)
{
    char buf[64];
    struct sg_actor person;
    sg_person_actor(id, buf, &person);
    struct sg_actor desk = {buf, SG_ROLE_OPERATOR, "request", NULL, NULL};
    struct sg_request_query q = {0, 0, 1, id, 100};
    return sg_request_list(v, &desk, &q, cb, ctx, err);
}
