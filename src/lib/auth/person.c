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

void sg_person_actor(const struct sg_uuid *id, char buf[64], struct sg_actor *out)
{
    char ids[SG_UUID_STR_LEN + 1];
    snprintf(buf, 64, SG_PERSON_LOGIN_PREFIX "%s", sg_uuid_format(id, ids));
    out->id = buf;
    out->role = SG_ROLE_SELF;
    out->purpose = "self-service";
    out->self = id;
    out->scope = NULL;
}

/* The code's hash, keyed with the vault's index key: a copy of the
 * database does not give up live codes to a search of all 10^8. */
static void code_hash(const struct sg_vault *v, const struct sg_uuid *id, const char *code,
                      uint8_t out[32])
{
    static const char label[] = "sargs/person-code/v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, v->index_key->k, SG_KEY_BYTES, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label);
    crypto_generichash_update(&st, id->b, 16);
    crypto_generichash_update(&st, (const uint8_t *)code, strlen(code));
    crypto_generichash_final(&st, out, 32);
}

/* Sign-in is done by the system for whoever asks; only an open session is
 * the person. */
static const struct sg_actor signin = {"sargs:sign-in", SG_ROLE_OPERATOR, "authentication", NULL,
                                       NULL};

/* The one person with this indexed value, or SG_NOTFOUND. */
static enum sg_rc find_one(struct sg_vault *v, const char *category, const char *value,
                           struct sg_uuid *id, struct sg_err *err)
{
    struct sg_uuid ids[2];
    size_t n = 0;
    if (!category || !value)
        return SG_NOTFOUND;
    enum sg_rc rc = sg_subject_find(v, &signin, category, value, strlen(value), ids, 2, &n, err);
    if (rc)
        return rc;
    if (n != 1)
        return SG_NOTFOUND;
    *id = ids[0];
    return SG_OK;
}

/* A new day of counting when the last one is over. */
static void day_roll(struct sg_store_code *c, sg_time now)
{
    if (now - c->day_start >= SG_USEC_PER_DAY) {
        c->day_start = now;
        c->day_sends = c->day_fails = 0;
    }
}

enum sg_rc sg_person_code_send(struct sg_vault *v, const char *category, const char *value,
                               struct sg_err *err)
{
    struct sg_uuid id;
    enum sg_rc rc = find_one(v, category, value, &id, err);
    if (rc == SG_NOTFOUND || rc == SG_INVALID)
        return SG_OK; /* nothing tells who is on file */
    if (rc)
        return rc;
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock);
    struct sg_store_code c;
    struct sg_opmark mark;
    struct sg_store_subject row;
    char *to = NULL;
    size_t len = 0;
    char code[SG_CODE_DIGITS + 1] = "";
    const struct sg_category *email = sg_catalog_find(v->catalog, SG_CATEGORY_EMAIL);
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    if ((rc = s->ops->code_lock(s, &id, &c, err)))
        goto end;
    day_roll(&c, now);
    /* At most one a minute, and SG_CODE_SENDS_PER_DAY a day: no mailbox
     * is flooded from the controller's address. */
    if ((c.sent && now - c.sent < SG_CODE_EVERY) || c.day_sends >= SG_CODE_SENDS_PER_DAY)
        goto end;
    for (int i = 0; i < SG_CODE_DIGITS; i++)
        code[i] = (char)('0' + randombytes_uniform(10));
    code[SG_CODE_DIGITS] = '\0';
    code_hash(v, &id, code, c.hash);
    c.expires = now + SG_CODE_USEC;
    c.attempts = 0;
    c.sent = now;
    c.day_sends++;
    rc = sg_vault_load_subject(v, &id, &row, 1, err);
    if (!rc)
        rc = email ? sg_vault_loaded_field(v, &id, email, &to, &len, err) : SG_NOTFOUND;
    if (!rc)
        rc = s->ops->code_put(s, &id, &c, err);
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
    if (!rc)
        rc = sg_audit_record(&v->audit, s, &signin, now, "person.code", &id, "ok", err);
end:
    rc = sg_op_end(v, mark, rc, err);
    sg_vault_forget_key(v);
    if (to) {
        sodium_memzero(to, len);
        free(to);
    }
    sodium_memzero(code, sizeof code);
    /* No address to send to, or a record that cannot be read: no code, and
     * no word of it either. */
    if (rc == SG_NOTFOUND || rc == SG_INVALID)
        rc = SG_OK;
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

/* The row of person_codes an address nobody has is refused with: its id a
 * keyed hash, no subject's, and it never holds a code. */
static void decoy_id(const struct sg_vault *v, struct sg_uuid *id)
{
    static const char label[] = "sargs/person-code/decoy/v1";
    crypto_generichash(id->b, sizeof id->b, (const uint8_t *)label, sizeof label - 1,
                       v->index_key->k, SG_KEY_BYTES);
}

enum sg_rc sg_person_session_open(struct sg_vault *v, const char *category, const char *value,
                                  const char *code, char secret[SG_SESSION_MAX], struct sg_uuid *id,
                                  struct sg_err *err)
{
    secret[0] = '\0';
    struct sg_store *s = v->store;
    sg_time now = sg_clock_now(v->clock);
    uint8_t got[32];
    size_t n = code ? strlen(code) : 0;
    enum sg_rc rc = find_one(v, category, value, id, err);
    /* An address nobody has takes the decoy's row the way a person's is
     * taken: the refusal costs what a known address's without a code does
     * (it came 0.1 ms sooner, which told who is on file). */
    int decoy = rc == SG_NOTFOUND || rc == SG_INVALID;
    if (decoy) {
        sg_err_clear(err);
        decoy_id(v, id);
    } else if (rc) {
        return rc;
    }
    struct sg_store_code c;
    struct sg_opmark mark;
    int ok = 0;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if ((rc = s->ops->code_lock(s, id, &c, err)))
        goto end;
    day_roll(&c, now);
    /* No code, an expired one, one tried SG_CODE_ATTEMPTS times, a day of
     * SG_CODE_FAILS_PER_DAY wrong ones: all refused alike, so that the
     * answer does not tell a known address from an unknown one. */
    if (decoy || !c.expires || now >= c.expires || c.attempts >= SG_CODE_ATTEMPTS ||
        c.day_fails >= SG_CODE_FAILS_PER_DAY)
        goto end;
    code_hash(v, id, n == SG_CODE_DIGITS ? code : "-", got);
    c.attempts++;
    if (sodium_memcmp(c.hash, got, 32) != 0) {
        c.day_fails++;
        if (!(rc = s->ops->code_put(s, id, &c, err)))
            rc = sg_audit_record(&v->audit, s, &signin, now, "person.session", id, "denied", err);
        goto end;
    }
    /* Right: the code is spent, whatever happens next. */
    sodium_memzero(c.hash, sizeof c.hash);
    c.expires = 0;
    uint8_t raw[32];
    char enc[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(enc, sizeof enc, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(secret, SG_SESSION_MAX, "sgp_%s", enc);
    sodium_memzero(enc, sizeof enc);
    char buf[64];
    struct sg_actor who;
    sg_person_actor(id, buf, &who);
    struct sg_store_session ss;
    session_hash(secret, ss.hash);
    ss.login = buf;
    ss.created = ss.seen = now;
    ss.expires = now + SG_SESSION_LIFE_USEC;
    if (!(rc = s->ops->code_put(s, id, &c, err)) && !(rc = s->ops->session_put(s, &ss, err)))
        rc = sg_audit_record(&v->audit, s, &who, now, "person.session", id, "ok", err);
    ok = !rc;
end:
    rc = sg_op_end(v, mark, rc, err);
    if (!rc && !ok)
        rc = sg_err_set(err, SG_DENIED, "wrong or expired code");
out:
    if (decoy)
        memset(id, 0, sizeof *id); /* the refusal names no one */
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
    if (strncmp(login, SG_PERSON_LOGIN_PREFIX, strlen(SG_PERSON_LOGIN_PREFIX)) != 0 ||
        sg_uuid_parse(login + strlen(SG_PERSON_LOGIN_PREFIX), id, NULL) != SG_OK ||
        now >= ss.expires || now >= ss.seen + SG_SESSION_IDLE_USEC ||
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

/* The desk that takes a person's own requests: the system, on their
 * behalf (the request names them, the channel and the identity). */
static const struct sg_actor desk = {"sargs:self-service", SG_ROLE_OPERATOR, "request", NULL, NULL};

enum sg_rc sg_person_request(struct sg_vault *v, const struct sg_uuid *id, int kind,
                             struct sg_request_info *info, struct sg_fulfil_out *out,
                             struct sg_err *err)
{
    const char *ch = account_channel(v->policy);
    if (out)
        memset(out, 0, sizeof *out);
    if (!ch)
        return sg_err_set(err, SG_DENIED,
                          "the policy takes no requests through the person's own account");
    struct sg_opmark mark;
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    rc = sg_request_new(v, &desk, kind, ch, id, 0, NULL, info, err);
    if (!rc)
        rc = sg_request_verify(v, &desk, &info->id, "account", NULL, err);
    if (!rc && (kind == SG_REQ_ACCESS || kind == SG_REQ_PORTABILITY) && out && !info->has_identical)
        rc = sg_request_fulfil(v, &desk, &info->id, NULL, out, err);
    if (!rc)
        rc = sg_request_get(v, &desk, &info->id, info, NULL, NULL, err);
    rc = sg_op_end(v, mark, rc, err);
    if (rc && out)
        sg_fulfil_out_release(out);
    return rc;
}

enum sg_rc sg_person_requests(struct sg_vault *v, const struct sg_uuid *id,
                              int (*cb)(void *ctx, const struct sg_request_info *r), void *ctx,
                              struct sg_err *err)
{
    struct sg_request_query q = {0, 0, 1, id, 100};
    return sg_request_list(v, &desk, &q, cb, ctx, err);
}
