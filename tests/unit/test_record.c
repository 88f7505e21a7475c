/*
 * test_record.c - the stored record of a person: its frozen layout and tag,
 * and damage in every position refused rather than misread.
 */
#include "testutil.h"

#include "../../src/lib/vault/record.h"

/* Two entries: code 1 without a blind index, code 3 with one; then the tag
 * under the record key of the data key 00..1f, for subject
 * 01890a5d-ac96-774b-bcce-b302099a8057. Computed apart with Python's hashlib
 * (BLAKE2b; the record key with salt = id 1, personal = "sgrecord"). */
#define KAT_RECORD                                                                                 \
    "01"                                                                                           \
    "0001"                                                                                         \
    "00"                                                                                           \
    "00000001"                                                                                     \
    "0000000000000102"                                                                             \
    "00000003"                                                                                     \
    "616263"                                                                                       \
    "0003"                                                                                         \
    "01"                                                                                           \
    "00000002"                                                                                     \
    "ffffffffffffffff"                                                                             \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"                                                             \
    "00000000"                                                                                     \
    "e5372e91a6dcd3e65540c6491120e0fd"
#define KAT_RECORD_KEY "6b519c7039680a65644d575e59802a8c1cb989c81ef308aa597daa1e1c650a0d"

static uint8_t key[SG_KEY_BYTES];
static struct sg_uuid sid;

static int setup(void **state)
{
    (void)state;
    uint8_t dek[SG_KEY_BYTES];
    for (int i = 0; i < SG_KEY_BYTES; i++)
        dek[i] = (uint8_t)i;
    sg_record_key(dek, key);
    assert_int_equal(sg_uuid_parse("01890a5d-ac96-774b-bcce-b302099a8057", &sid, NULL), SG_OK);
    return 0;
}

/* Verifies (when given a key) and parses, as the vault does. */
static enum sg_rc parse(const void *rec, size_t len, const uint8_t *k, const struct sg_uuid *id,
                        struct sg_rec_entry *out, size_t max, size_t *n)
{
    *n = 0;
    if (k && sg_record_verify(rec, len, k, id, NULL) != SG_OK)
        return SG_CRYPTO;
    return sg_record_parse(rec, len, out, max, n, NULL);
}

static void test_record_key(void **state)
{
    (void)state;
    tu_assert_hex(key, sizeof key, KAT_RECORD_KEY);
}

static void test_kat(void **state)
{
    (void)state;
    uint8_t bidx[SG_BIDX_BYTES];
    memset(bidx, 0x0f, sizeof bidx);
    struct sg_rec_entry e[2] = {
        {1, 1, 0x102, NULL, (const uint8_t *)"abc", 3},
        {3, 2, -1, bidx, (const uint8_t *)"", 0},
    };
    struct sg_buf b;
    sg_buf_init(&b, 1 << 16);
    assert_int_equal(sg_record_encode(e, 2, key, &sid, &b, NULL), SG_OK);
    tu_assert_hex((const uint8_t *)b.ptr, b.len, KAT_RECORD);

    struct sg_rec_entry back[4];
    size_t n = 0;
    assert_int_equal(parse(b.ptr, b.len, key, &sid, back, 4, &n), SG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(back[0].code, 1);
    assert_int_equal(back[0].changed, 0x102);
    assert_null(back[0].bidx);
    assert_int_equal(back[0].sealed_len, 3);
    assert_memory_equal(back[0].sealed, "abc", 3);
    assert_int_equal(back[1].code, 3);
    assert_int_equal(back[1].kv, 2);
    assert_int_equal(back[1].changed, -1);
    assert_memory_equal(back[1].bidx, bidx, SG_BIDX_BYTES);
    assert_int_equal(back[1].sealed_len, 0);

    /* Only one entry fits: refused, not cut short. */
    assert_int_equal(parse(b.ptr, b.len, key, &sid, back, 1, &n), SG_CRYPTO);
    /* Every truncation is refused, the one at an entry boundary included. */
    for (size_t l = 0; l < b.len; l++)
        assert_int_equal(parse(b.ptr, l, key, &sid, back, 4, &n), SG_CRYPTO);
    /* Another person's record, or another key: refused. */
    struct sg_uuid other = sid;
    other.b[15] ^= 1;
    assert_int_equal(parse(b.ptr, b.len, key, &other, back, 4, &n), SG_CRYPTO);
    uint8_t key2[SG_KEY_BYTES];
    memcpy(key2, key, sizeof key2);
    key2[0] ^= 1;
    assert_int_equal(parse(b.ptr, b.len, key2, &sid, back, 4, &n), SG_CRYPTO);
    /* Without a key only the structure is read (for erasure). */
    assert_int_equal(parse(b.ptr, b.len, NULL, &other, back, 4, &n), SG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(parse(NULL, 0, NULL, &sid, back, 4, &n), SG_OK);
    assert_int_equal(n, 0);
    /* A record with no field still carries its tag. */
    assert_int_equal(sg_record_encode(e, 0, key, &sid, &b, NULL), SG_OK);
    assert_int_equal(b.len, 1 + SG_RECORD_TAG_BYTES);
    assert_int_equal(parse(b.ptr, b.len, key, &sid, back, 4, &n), SG_OK);
    assert_int_equal(n, 0);
    sg_buf_release(&b);
}

static void test_damage(void **state)
{
    (void)state;
    uint8_t rec[128];
    size_t len = strlen(KAT_RECORD) / 2, n;
    struct sg_rec_entry back[4];
    tu_unhex(KAT_RECORD, rec, len);
    struct sg_err e;
    /* Any flipped bit fails the tag. */
    for (size_t i = 0; i < len; i++) {
        rec[i] ^= 0x10;
        assert_int_equal(parse(rec, len, key, &sid, back, 4, &n), SG_CRYPTO);
        rec[i] ^= 0x10;
    }
    /* Structural damage is caught even when only the structure is read. */
    rec[0] = 2; /* unknown version */
    assert_int_equal(sg_record_parse(rec, len, back, 4, &n, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "version"));
    tu_unhex(KAT_RECORD, rec, len);
    rec[3] = 0x80; /* unknown flag */
    assert_int_equal(parse(rec, len, NULL, &sid, back, 4, &n), SG_CRYPTO);
    tu_unhex(KAT_RECORD, rec, len);
    rec[2] = 5; /* codes out of order (5 then 3) */
    assert_int_equal(parse(rec, len, NULL, &sid, back, 4, &n), SG_CRYPTO);
    tu_unhex(KAT_RECORD, rec, len);
    rec[16] = 0xff; /* a length past the end */
    assert_int_equal(parse(rec, len, NULL, &sid, back, 4, &n), SG_CRYPTO);
    /* A missing record is an error once a key says one must exist. */
    assert_int_equal(sg_record_verify(NULL, 0, key, &sid, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "missing"));
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_key),
        cmocka_unit_test(test_kat),
        cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
