/*
 * record.c - encoding and authentication of a person's record; see record.h.
 */
#include "record.h"

#include <sodium.h>
#include <string.h>

#define RECORD_V1 1
#define FLAG_BIDX 1

void sg_record_key(const uint8_t dek[SG_KEY_BYTES], uint8_t out[SG_KEY_BYTES])
{
    crypto_kdf_derive_from_key(out, SG_KEY_BYTES, 1, "sgrecord", dek);
}

static void tag(const uint8_t *key, const struct sg_uuid *sid, const uint8_t *body, size_t len,
                uint8_t out[SG_RECORD_TAG_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, SG_KEY_BYTES, SG_RECORD_TAG_BYTES);
    crypto_generichash_update(&st, sid->b, 16);
    crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, out, SG_RECORD_TAG_BYTES);
    sodium_memzero(&st, sizeof st);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum sg_rc sg_record_verify(const uint8_t *rec, size_t len, const uint8_t *key,
                            const struct sg_uuid *sid, struct sg_err *err)
{
    if (len == 0)
        return sg_err_set(err, SG_CRYPTO, "record is missing");
    if (len < 1 + SG_RECORD_TAG_BYTES)
        return sg_err_set(err, SG_CRYPTO, "record is truncated");
    uint8_t want[SG_RECORD_TAG_BYTES];
    size_t end = len - SG_RECORD_TAG_BYTES;
    tag(key, sid, rec, end, want);
    if (sodium_memcmp(want, rec + end, SG_RECORD_TAG_BYTES) != 0)
        return sg_err_set(err, SG_CRYPTO,
                          "record failed authentication (fields removed, added, moved or "
                          "rolled back)");
    return SG_OK;
}

enum sg_rc sg_record_parse(const uint8_t *rec, size_t len, struct sg_rec_entry *out, size_t max,
                           size_t *n, struct sg_err *err)
{
    *n = 0;
    if (len == 0)
        return SG_OK;
    if (len < 1 + SG_RECORD_TAG_BYTES)
        goto truncated;
    if (rec[0] != RECORD_V1)
        return sg_err_set(err, SG_CRYPTO, "record has an unknown format version %u", rec[0]);
    size_t end = len - SG_RECORD_TAG_BYTES;
    size_t pos = 1;
    int last = -1;
    while (pos < end) {
        if (*n == max)
            return sg_err_set(err, SG_CRYPTO, "record has more than %zu fields", max);
        /* code(2) flags(1) kv(4) changed(8) */
        if (end - pos < 15)
            goto truncated;
        struct sg_rec_entry *e = &out[*n];
        e->code = rec[pos] << 8 | rec[pos + 1];
        uint8_t flags = rec[pos + 2];
        e->kv = get32(rec + pos + 3);
        uint64_t ch = (uint64_t)get32(rec + pos + 7) << 32 | get32(rec + pos + 11);
        e->changed = (sg_time)ch;
        pos += 15;
        if (e->code <= last || (flags & ~FLAG_BIDX))
            return sg_err_set(err, SG_CRYPTO, "record is damaged (field order or flags)");
        last = e->code;
        e->bidx = NULL;
        if (flags & FLAG_BIDX) {
            if (end - pos < SG_BIDX_BYTES)
                goto truncated;
            e->bidx = rec + pos;
            pos += SG_BIDX_BYTES;
        }
        if (end - pos < 4)
            goto truncated;
        uint32_t sl = get32(rec + pos);
        pos += 4;
        if (end - pos < sl)
            goto truncated;
        e->sealed = rec + pos;
        e->sealed_len = sl;
        pos += sl;
        (*n)++;
    }
    return SG_OK;
truncated:
    return sg_err_set(err, SG_CRYPTO, "record is truncated");
}

enum sg_rc sg_record_encode(const struct sg_rec_entry *e, size_t n, const uint8_t *key,
                            const struct sg_uuid *sid, struct sg_buf *out, struct sg_err *err)
{
    enum sg_rc rc;
    uint8_t v = RECORD_V1;
    sg_buf_reset(out);
    if ((rc = sg_buf_add(out, &v, 1, err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t head[3] = {(uint8_t)(e[i].code >> 8), (uint8_t)e[i].code,
                           e[i].bidx ? FLAG_BIDX : 0};
        if ((rc = sg_buf_add(out, head, 3, err)) || (rc = sg_buf_add_u32be(out, e[i].kv, err)) ||
            (rc = sg_buf_add_u64be(out, (uint64_t)e[i].changed, err)) ||
            (e[i].bidx && (rc = sg_buf_add(out, e[i].bidx, SG_BIDX_BYTES, err))) ||
            (rc = sg_buf_add_u32be(out, (uint32_t)e[i].sealed_len, err)) ||
            (rc = sg_buf_add(out, e[i].sealed, e[i].sealed_len, err)))
            return rc;
    }
    uint8_t t[SG_RECORD_TAG_BYTES];
    tag(key, sid, (const uint8_t *)out->ptr, out->len, t);
    return sg_buf_add(out, t, sizeof t, err);
}
