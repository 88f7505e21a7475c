/*
 * seal.c - data-key wrapping, value sealing (XChaCha20-Poly1305-IETF) and
 * blind indexes (keyed BLAKE2b). The formats are described in sargs/crypto.h
 * and frozen by known-answer tests: a change here makes every vault unreadable.
 */
#include "sargs/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#define FMT_V1       0x01
#define FIELD_ID_MAX 200
#define DEK_LABEL    "sargs/dek"
#define FIELD_LABEL  "sargs/field"

static void put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* AD shared by both formats: version | label | subject id | u32be(version). */
static size_t ad_head(uint8_t *ad, const char *label, const struct sg_uuid *sid, uint32_t ver)
{
    size_t n = 0, l = strlen(label);
    ad[n++] = FMT_V1;
    memcpy(ad + n, label, l);
    n += l;
    memcpy(ad + n, sid->b, 16);
    n += 16;
    put_u32be(ad + n, ver);
    return n + 4;
}

static void nonce_next(struct sg_nonce *ng, uint8_t out[SG_NONCE_BYTES]);

void sg_dek_wrap(struct sg_nonce *ng, const struct sg_key *kek, const uint8_t dek[SG_KEY_BYTES],
                 const struct sg_uuid *sid, uint32_t version, uint8_t out[SG_WRAPPED_DEK_BYTES])
{
    uint8_t ad[64];
    size_t adlen = ad_head(ad, DEK_LABEL, sid, version);
    out[0] = FMT_V1;
    nonce_next(ng, out + 1);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + SG_NONCE_BYTES, NULL, dek, SG_KEY_BYTES,
                                               ad, adlen, NULL, out + 1, kek->k);
}

enum sg_rc sg_dek_unwrap(const struct sg_key *kek, const uint8_t *wrapped, size_t len,
                         const struct sg_uuid *sid, uint32_t version, uint8_t *dek_out,
                         struct sg_err *err)
{
    uint8_t ad[64];
    if (len != SG_WRAPPED_DEK_BYTES || wrapped[0] != FMT_V1)
        return sg_err_set(err, SG_CRYPTO, "wrapped data key has an unknown format");
    size_t adlen = ad_head(ad, DEK_LABEL, sid, version);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            dek_out, NULL, NULL, wrapped + 1 + SG_NONCE_BYTES, SG_KEY_BYTES + SG_TAG_BYTES, ad,
            adlen, wrapped + 1, kek->k) != 0) {
        sodium_memzero(dek_out, SG_KEY_BYTES);
        return sg_err_set(err, SG_CRYPTO,
                          "data key does not open under this master key (wrong key or altered)");
    }
    return SG_OK;
}

void sg_nonce_init(struct sg_nonce *n)
{
    randombytes_buf(n->prefix, sizeof n->prefix);
    n->counter = 0;
}

#define POOL_BYTES 4096

enum sg_rc sg_rand_pool_init(struct sg_rand_pool *p, struct sg_err *err)
{
    p->buf = sodium_malloc(POOL_BYTES);
    if (!p->buf)
        return sg_err_set(err, SG_NOMEM, "cannot allocate guarded memory");
    p->pos = POOL_BYTES; /* empty: the first take fills it */
    return SG_OK;
}

void sg_rand_pool_take(struct sg_rand_pool *p, uint8_t *out, size_t n)
{
    assert(n <= 256);
    if (p->pos + n > POOL_BYTES) {
        randombytes_buf(p->buf, POOL_BYTES);
        p->pos = 0;
    }
    memcpy(out, p->buf + p->pos, n);
    sodium_memzero(p->buf + p->pos, n);
    p->pos += n;
}

void sg_rand_pool_release(struct sg_rand_pool *p)
{
    sodium_free(p->buf); /* wipes */
    p->buf = NULL;
    p->pos = 0;
}

static void nonce_next(struct sg_nonce *ng, uint8_t out[SG_NONCE_BYTES])
{
    if (ng->counter == UINT64_MAX)
        sg_nonce_init(ng);
    uint64_t c = ng->counter++;
    memcpy(out, ng->prefix, 16);
    for (int i = 0; i < 8; i++)
        out[16 + i] = (uint8_t)(c >> (56 - 8 * i));
}

static size_t field_ad(uint8_t *ad, const struct sg_uuid *sid, uint32_t version, const char *field)
{
    size_t n = ad_head(ad, FIELD_LABEL, sid, version);
    size_t fl = strlen(field);
    assert(fl <= FIELD_ID_MAX);
    if (fl > FIELD_ID_MAX)
        fl = FIELD_ID_MAX;
    memcpy(ad + n, field, fl);
    return n + fl;
}

void sg_seal_with_nonce(const uint8_t nonce[SG_NONCE_BYTES], const uint8_t dek[SG_KEY_BYTES],
                        const struct sg_uuid *sid, uint32_t version, const char *field,
                        const void *pt, size_t len, uint8_t *out)
{
    uint8_t ad[64 + FIELD_ID_MAX];
    size_t adlen = field_ad(ad, sid, version, field);
    out[0] = FMT_V1;
    memcpy(out + 1, nonce, SG_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + SG_NONCE_BYTES, NULL, pt, len, ad, adlen,
                                               NULL, out + 1, dek);
}

void sg_seal(struct sg_nonce *ng, const uint8_t dek[SG_KEY_BYTES], const struct sg_uuid *sid,
             uint32_t version, const char *field, const void *pt, size_t len, uint8_t *out)
{
    uint8_t nonce[SG_NONCE_BYTES];
    nonce_next(ng, nonce);
    sg_seal_with_nonce(nonce, dek, sid, version, field, pt, len, out);
}

enum sg_rc sg_open(const uint8_t dek[SG_KEY_BYTES], const struct sg_uuid *sid, uint32_t version,
                   const char *field, const uint8_t *ct, size_t ctlen, void *pt, size_t *ptlen,
                   struct sg_err *err)
{
    if (ctlen < SG_SEAL_OVERHEAD || ct[0] != FMT_V1)
        return sg_err_set(err, SG_CRYPTO, "sealed value has an unknown format or is truncated");
    uint8_t ad[64 + FIELD_ID_MAX];
    size_t adlen = field_ad(ad, sid, version, field);
    unsigned long long n = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, ct + 1 + SG_NONCE_BYTES,
                                                   ctlen - 1 - SG_NONCE_BYTES, ad, adlen, ct + 1,
                                                   dek) != 0)
        return sg_err_set(err, SG_CRYPTO,
                          "sealed value failed authentication (corrupted, or "
                          "moved from another subject or field)");
    *ptlen = (size_t)n;
    return SG_OK;
}

void sg_bidx(const struct sg_key *index_key, const char *category, const char *value, size_t len,
             uint8_t out[SG_BIDX_BYTES])
{
    crypto_generichash_state st;
    static const uint8_t zero = 0;
    crypto_generichash_init(&st, index_key->k, SG_KEY_BYTES, SG_BIDX_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)category, strlen(category));
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, (const uint8_t *)value, len);
    crypto_generichash_final(&st, out, SG_BIDX_BYTES);
    sodium_memzero(&st, sizeof st);
}
