/*
 * receipt.c - proof of consent: the ledger as ISO/IEC TS 27560 records with
 * DPV terms, and signed Kantara Consent Receipts (v1.1 fields) a person can
 * keep and anyone can check.
 *
 * A receipt is a JWS in compact form (RFC 7515) with EdDSA (RFC 8037) under
 * the receipt key keys/receipt.key, kept apart from the database and from
 * the audit key: a receipt signed once stays checkable after the vault, the
 * person or the policy have changed.
 */
#include "consent_int.h"
#include "sargs/text.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECEIPT_KEY_NAME "receipt.key"
#define VKEY_PREFIX      "sargs-receipt/"
#define JWS_HEADER       "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}"
#define RECEIPT_MAX      (256 * 1024)

static const char *const by_names[] = {"dpv:DataSubject", "dpv:Guardian", "dpv:Representative"};

/* The Ed25519 key pair from keys/receipt.key, made on first use. */
static enum sg_rc receipt_keys(struct sg_vault *v, uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                               uint8_t *sk, struct sg_err *err)
{
    char *keys = sg_path_join(v->dir, SG_KEYS_DIR);
    char *path = keys ? sg_path_join(keys, RECEIPT_KEY_NAME) : NULL;
    free(keys);
    if (!path)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    struct sg_key *seed = NULL;
    enum sg_rc rc = sg_key_load(path, SG_KEY_SIGNING, &seed, err);
    if (rc == SG_NOTFOUND) {
        sg_err_clear(err);
        if (!(rc = sg_key_generate(&seed, err)) &&
            (rc = sg_key_save(seed, SG_KEY_SIGNING, path, err))) {
            sg_key_free(seed);
            seed = NULL;
            /* Another process made it first: use theirs. */
            if (rc == SG_CONFLICT)
                rc = sg_key_load(path, SG_KEY_SIGNING, &seed, err);
        }
    }
    free(path);
    if (rc)
        return rc;
    uint8_t tmp[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk ? sk : tmp, seed->k);
    sodium_memzero(tmp, sizeof tmp);
    sg_key_free(seed);
    return SG_OK;
}

enum sg_rc sg_consent_receipt_key(struct sg_vault *v, char *out, size_t cap, struct sg_err *err)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    enum sg_rc rc = receipt_keys(v, pk, NULL, err);
    if (rc)
        return rc;
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    if ((size_t)snprintf(out, cap, VKEY_PREFIX "%s+%s", v->vault_id, b64) >= cap)
        return sg_err_set(err, SG_INTERNAL, "key buffer too small");
    return SG_OK;
}

/* ------------------------------------------------------------- the ledger */

struct collect {
    struct sg_vault *v;
    json_t *events; /* array of objects, in order */
    enum sg_rc rc;
    struct sg_err *err;
    int64_t want; /* a receipt: only this seq */
    json_t *found;
};

static json_t *event_json(const struct sg_consent_event *e)
{
    char at[SG_TIME_STR_MAX], ex[SG_TIME_STR_MAX], g[SG_UUID_STR_LEN + 1];
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "seq", (json_int_t)e->seq,
                          "purpose", e->purpose, "state", sg_consent_state_name(e->state),
                          "dpv:hasConsentStatus", sg_consent_state_dpv(e->state),
                          "dpv:isIndicatedAtTime", sg_time_format(e->at, at),
                          "dpv:hasIndicationMethod", sg_consent_method_name(e->method), "language",
                          e->lang, "dpv:hasNotice", e->notice, "dpv:isIndicatedBy",
                          by_names[e->by <= SG_BY_AGENT ? e->by : 0], "child", e->child);
    if (!j)
        return NULL;
    json_object_set_new(j, "recorded_by", json_string(e->actor));
    if (e->expires)
        json_object_set_new(j, "dpv:hasExpiry", json_string(sg_time_format(e->expires, ex)));
    if (e->has_guardian)
        json_object_set_new(j, "guardian", json_string(sg_uuid_format(&e->guardian, g)));
    if (e->agent)
        json_object_set_new(j, "agent", json_string(e->agent));
    if (e->evidence)
        json_object_set_new(j, "evidence", json_string(e->evidence));
    return j;
}

static int collect_one(void *ctx, const struct sg_consent_event *e)
{
    struct collect *c = ctx;
    json_t *j = event_json(e);
    if (!j) {
        c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
        return 1;
    }
    if (c->want && e->seq == c->want) {
        c->found = j;
        return 1;
    }
    if (c->want) {
        json_decref(j);
        return 0;
    }
    json_array_append_new(c->events, j);
    return 0;
}

enum sg_rc sg_consent_export(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, char **out, struct sg_err *err)
{
    struct collect c = {v, json_array(), SG_OK, err, 0, NULL};
    *out = NULL;
    if (!c.events)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    enum sg_rc rc = sg_consent_list(v, who, id, collect_one, &c, err);
    if (!rc)
        rc = c.rc;
    if (rc) {
        json_decref(c.events);
        return rc;
    }
    /* One record per purpose, its events in order as the status history. */
    json_t *records = json_array(), *byp = json_object();
    size_t i;
    json_t *e;
    char ids[SG_UUID_STR_LEN + 1];
    sg_uuid_format(id, ids);
    json_array_foreach(c.events, i, e)
    {
        const char *pid = json_string_value(json_object_get(e, "purpose"));
        json_t *r = json_object_get(byp, pid);
        if (!r) {
            const struct sg_purpose *p = v->policy ? sg_policy_purpose(v->policy, pid) : NULL;
            char rid[128];
            snprintf(rid, sizeof rid, "urn:sargs:%s:consent:%s:%s", v->vault_id, ids, pid);
            r = json_pack("{s:s,s:s,s:s,s:s,s:[]}", "dct:identifier", rid, "dpv:hasDataSubject",
                          ids, "dpv:hasPurpose", pid, "dpv:hasLegalBasis", "dpv:Consent",
                          "dpv:hasStatusHistory");
            if (p && r)
                json_object_set_new(r, "purpose_name",
                                    json_string(sg_text_any(&p->name, v->policy->languages[0])));
            json_object_set_new(byp, pid, r);
            json_array_append(records, r);
        }
        json_array_append(json_object_get(r, "dpv:hasStatusHistory"), e);
        json_object_set(r, "dpv:hasConsentStatus", json_object_get(e, "dpv:hasConsentStatus"));
        json_object_set(r, "dpv:hasNotice", json_object_get(e, "dpv:hasNotice"));
        json_t *exp = json_object_get(e, "dpv:hasExpiry");
        if (exp)
            json_object_set(r, "dpv:hasExpiry", exp);
        else
            json_object_del(r, "dpv:hasExpiry");
    }
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:o}", "profile", "ISO/IEC TS 27560:2023, DPV 2.0", "dpv:hasDataController",
        v->policy
            ? v->policy->title.n ? sg_text_any(&v->policy->title, v->policy->languages[0]) : ""
            : "",
        "dpv:hasDataSubject", ids, "records", records);
    json_decref(byp);
    json_decref(c.events);
    *out = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return *out ? SG_OK : sg_err_set(err, SG_NOMEM, "out of memory");
}

/* ------------------------------------------------------------- receipts */

static char *b64url(const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = malloc(cap);
    if (s)
        sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

/* The Kantara v1.1 claims of one event under the policy in force then. */
static json_t *claims(struct sg_vault *v, const struct sg_policy *p, const struct sg_uuid *id,
                      json_t *ev, const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    const char *lang = json_string_value(json_object_get(ev, "language"));
    const char *pid = json_string_value(json_object_get(ev, "purpose"));
    const struct sg_purpose *pu = sg_policy_purpose(p, pid);
    char ids[SG_UUID_STR_LEN + 1], rid[96], pkb[64], purl[128];
    sg_uuid_format(id, ids);
    snprintf(rid, sizeof rid, "%s:%" JSON_INTEGER_FORMAT, v->vault_id,
             json_integer_value(json_object_get(ev, "seq")));
    sodium_bin2base64(pkb, sizeof pkb, pk, crypto_sign_PUBLICKEYBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(purl, sizeof purl, "urn:sargs:policy:%s",
             json_string_value(json_object_get(ev, "dpv:hasNotice")));
    sg_time at = 0;
    sg_time_parse(json_string_value(json_object_get(ev, "dpv:isIndicatedAtTime")), &at, NULL);

    json_t *ctrls = json_array();
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_contact *ct = &p->controllers[i].contact;
        json_array_append_new(ctrls, json_pack("{s:s,s:s?,s:s?,s:s?,s:s?}", "piiController",
                                               sg_text_any(&ct->name, lang), "address",
                                               sg_text_any(&ct->address, lang), "email", ct->email,
                                               "phone", ct->phone, "piiControllerUrl", ct->web));
    }
    json_t *cats = json_array(), *spi = json_array();
    int sensitive = 0;
    for (size_t i = 0; pu && i < pu->ncategories; i++) {
        const struct sg_category *c = pu->categories[i];
        json_array_append_new(cats, json_string(sg_text_any(&c->name, lang)));
        if (c->special != SG_SPECIAL_NONE) {
            sensitive = 1;
            json_array_append_new(spi, json_string(sg_special_name(c->special)));
        }
    }
    json_t *third = json_array();
    for (size_t i = 0; pu && i < pu->nrecipients; i++)
        json_array_append_new(third, json_string(sg_text_any(&pu->recipients[i]->name, lang)));
    json_t *purpose = json_pack(
        "{s:s,s:[s],s:s,s:o,s:b,s:s?,s:b,s:o}", "purpose", pu ? sg_text_any(&pu->name, lang) : pid,
        "purposeCategory", pid, "consentType", "EXPRESSED", "piiCategory", cats, "primaryPurpose",
        1, "termination", pu ? sg_text_get(&pu->consent.withdrawal, lang) : NULL,
        "thirdPartyDisclosure", json_array_size(third) > 0, "thirdPartyName", third);
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:[{s:s,s:[o]}],s:b,s:o}",
                          "version", "KI-CR-v1.1.0", "jurisdiction", "EU", "consentTimestamp",
                          (json_int_t)(at / SG_USEC_PER_SEC), "collectionMethod",
                          json_string_value(json_object_get(ev, "dpv:hasIndicationMethod")),
                          "consentReceiptID", rid, "publicKey", pkb, "language", lang,
                          "piiPrincipalId", ids, "piiControllers", ctrls, "policyUrl", purl,
                          "services", "service", sg_text_any(&p->title, lang), "purposes", purpose,
                          "sensitive", sensitive, "spiCat", spi);
    if (j) {
        /* What a Kantara receipt has no field for, under the DPV terms. */
        json_t *x = json_pack("{s:O,s:O,s:O}", "dpv:hasConsentStatus",
                              json_object_get(ev, "dpv:hasConsentStatus"), "dpv:isIndicatedBy",
                              json_object_get(ev, "dpv:isIndicatedBy"), "dpv:hasNotice",
                              json_object_get(ev, "dpv:hasNotice"));
        json_t *exp = json_object_get(ev, "dpv:hasExpiry");
        if (x && exp)
            json_object_set(x, "dpv:hasExpiry", exp);
        json_object_set_new(j, "sargs", x);
    }
    return j;
}

enum sg_rc sg_consent_receipt(struct sg_vault *v, const struct sg_actor *who,
                              const struct sg_uuid *id, int64_t seq, char **jws, struct sg_err *err)
{
    *jws = NULL;
    struct collect c = {v, NULL, SG_OK, err, seq, NULL};
    if (seq <= 0)
        return sg_err_set(err, SG_INVALID, "not an event number");
    enum sg_rc rc = sg_consent_list(v, who, id, collect_one, &c, err);
    if (!rc)
        rc = c.rc;
    if (!rc && !c.found)
        rc = sg_err_set(err, SG_NOTFOUND, "the person's ledger has no event %lld", (long long)seq);
    if (rc) {
        json_decref(c.found);
        return rc;
    }
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    struct sg_policy *p = NULL;
    char *text = NULL, *h = NULL, *b = NULL, *sig = NULL, *input = NULL;
    json_t *cl = NULL;
    if (!sk) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    sg_time at = 0;
    sg_time_parse(json_string_value(json_object_get(c.found, "dpv:isIndicatedAtTime")), &at, NULL);
    if ((rc = receipt_keys(v, pk, sk, err)) || (rc = sg_vault_policy_load_at(v, at, &p, NULL, err)))
        goto out;
    if (!(cl = claims(v, p, id, c.found, pk)) ||
        !(text = json_dumps(cl, JSON_COMPACT | JSON_PRESERVE_ORDER)) ||
        !(h = b64url(JWS_HEADER, strlen(JWS_HEADER))) || !(b = b64url(text, strlen(text)))) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    size_t il = strlen(h) + 1 + strlen(b);
    uint8_t s[crypto_sign_BYTES];
    if (!(input = malloc(il + 1))) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    snprintf(input, il + 1, "%s.%s", h, b);
    crypto_sign_detached(s, NULL, (const uint8_t *)input, il, sk);
    if (!(sig = b64url(s, sizeof s)) || !(*jws = malloc(il + 2 + strlen(sig)))) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    snprintf(*jws, il + 2 + strlen(sig), "%s.%s", input, sig);
out:
    if (sk)
        sodium_free(sk);
    sg_policy_free(p);
    json_decref(cl);
    json_decref(c.found);
    free(text);
    free(h);
    free(b);
    free(sig);
    free(input);
    return rc;
}

static uint8_t *unb64url(const char *s, size_t n, size_t *out_len)
{
    uint8_t *p = malloc(n + 1);
    if (p && sodium_base642bin(p, n + 1, s, n, NULL, out_len, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

enum sg_rc sg_consent_receipt_verify(const char *jws, const char *vkey, char **claims_out,
                                     struct sg_err *err)
{
    if (claims_out)
        *claims_out = NULL;
    /* The key: sargs-receipt/<vault id>+<base64 key>. */
    const char *plus = vkey ? strchr(vkey, '+') : NULL; /* vault ids have none */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    size_t pkl = 0;
    if (!plus || strncmp(vkey, VKEY_PREFIX, strlen(VKEY_PREFIX)) != 0 ||
        sodium_base642bin(pk, sizeof pk, plus + 1, strlen(plus + 1), NULL, &pkl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        pkl != sizeof pk)
        return sg_err_set(err, SG_INVALID, "not a receipt verifier key (sargs-receipt/ID+KEY)");
    size_t n = jws ? strlen(jws) : 0;
    while (n && (jws[n - 1] == '\n' || jws[n - 1] == '\r' || jws[n - 1] == ' '))
        n--;
    if (n == 0 || n > RECEIPT_MAX)
        return sg_err_set(err, SG_INVALID, "not a receipt (empty, or over %d bytes)", RECEIPT_MAX);
    const char *d1 = memchr(jws, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jws)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jws)))
        return sg_err_set(err, SG_INVALID, "not a receipt (a JWS has three parts)");
    size_t hl = 0, bl = 0, sl = 0;
    uint8_t *hdr = unb64url(jws, (size_t)(d1 - jws), &hl);
    uint8_t *body = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &bl);
    uint8_t *sig = unb64url(d2 + 1, n - (size_t)(d2 + 1 - jws), &sl);
    enum sg_rc rc = SG_OK;
    if (!hdr || !body || !sig)
        rc = sg_err_set(err, SG_INVALID, "not a receipt (bad base64url)");
    else if (hl != strlen(JWS_HEADER) || memcmp(hdr, JWS_HEADER, hl) != 0)
        rc = sg_err_set(err, SG_INVALID, "not a sargs receipt (header is not EdDSA JWT)");
    else if (sl != crypto_sign_BYTES ||
             crypto_sign_verify_detached(sig, (const uint8_t *)jws, (size_t)(d2 - jws), pk) != 0)
        rc = sg_err_set(err, SG_DENIED, "the receipt's signature does not verify");
    if (!rc && claims_out) {
        if (!(*claims_out = malloc(bl + 1)))
            rc = sg_err_set(err, SG_NOMEM, "out of memory");
        else {
            memcpy(*claims_out, body, bl);
            (*claims_out)[bl] = '\0';
        }
    }
    free(hdr);
    free(body);
    free(sig);
    return rc;
}
