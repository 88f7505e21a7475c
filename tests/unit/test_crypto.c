/*
 * test_crypto.c - keys, key files, wrapping, sealing and blind indexes.
 *
 * The known answers were computed apart from this code, from the format in
 * sargs/crypto.h, with PyNaCl (XChaCha20-Poly1305) and Python's hashlib
 * (BLAKE2b with a 16-byte output): DEK = 00..1f, KEK = 20..3f, index key = 40..5f,
 * nonce = 80..97, subject 01890a5d-ac96-774b-bcce-b302099a8057.
 */
#include "testutil.h"

#include <sys/stat.h>

#define KAT_SEAL                                                                                   \
    "01808182838485868788898a8b8c8d8e8f9091929394959697088f373094ba012a596042963fd17dff35c70b35"   \
    "c3f606bccefa96d4b53394c57e4d"
#define KAT_SEAL_EMPTY                                                                             \
    "01808182838485868788898a8b8c8d8e8f90919293949596977bd73527e55a3a4f6f23f4c474d01d13"
#define KAT_WRAP                                                                                   \
    "01808182838485868788898a8b8c8d8e8f90919293949596979400f49cb359c2aff2fdcdcd4790dbb8af8c78ad"   \
    "045bfa6bef70aa7152d8d13f5afc954be4bc36ce14ccf817cd14a250"
#define KAT_BIDX   "b2e642e8b8e042149a722d2bf77b54cc"
#define KAT_KEK_ID "55010c8639179587"

static uint8_t dek[32], kekb[32], ixb[32], nonce[24];
static struct sg_uuid sid;

static void setup_bytes(void)
{
    for (int i = 0; i < 32; i++) {
        dek[i] = (uint8_t)i;
        kekb[i] = (uint8_t)(0x20 + i);
        ixb[i] = (uint8_t)(0x40 + i);
    }
    for (int i = 0; i < 24; i++)
        nonce[i] = (uint8_t)(0x80 + i);
    assert_int_equal(sg_uuid_parse("01890a5d-ac96-774b-bcce-b302099a8057", &sid, NULL), SG_OK);
}

static void test_kat_seal(void **state)
{
    (void)state;
    const char *pt = "Janis.B@Example.LV";
    uint8_t out[128];
    sg_seal_with_nonce(nonce, dek, &sid, 1, "user.contact.email", pt, strlen(pt), out);
    tu_assert_hex(out, strlen(pt) + SG_SEAL_OVERHEAD, KAT_SEAL);
    sg_seal_with_nonce(nonce, dek, &sid, 7, "x", "", 0, out);
    tu_assert_hex(out, SG_SEAL_OVERHEAD, KAT_SEAL_EMPTY);

    /* And the frozen bytes open to the value. */
    uint8_t ct[128];
    size_t ctlen = strlen(KAT_SEAL) / 2, n = 0;
    tu_unhex(KAT_SEAL, ct, ctlen);
    char back[64];
    assert_int_equal(sg_open(dek, &sid, 1, "user.contact.email", ct, ctlen, back, &n, NULL), SG_OK);
    assert_int_equal(n, strlen(pt));
    assert_memory_equal(back, pt, n);
}

static void test_kat_wrap(void **state)
{
    (void)state;
    struct sg_key *kek;
    assert_int_equal(sg_key_from_bytes(kekb, &kek, NULL), SG_OK);
    assert_string_equal(kek->id, KAT_KEK_ID);
    uint8_t w[SG_WRAPPED_DEK_BYTES], out[32];
    tu_unhex(KAT_WRAP, w, sizeof w);
    assert_int_equal(sg_dek_unwrap(kek, w, sizeof w, &sid, 1, out, NULL), SG_OK);
    assert_memory_equal(out, dek, 32);
    /* Our own wrapping opens too, with a fresh nonce each time. */
    uint8_t w2[SG_WRAPPED_DEK_BYTES], w3[SG_WRAPPED_DEK_BYTES];
    struct sg_nonce ng;
    sg_nonce_init(&ng);
    sg_dek_wrap(&ng, kek, dek, &sid, 1, w2);
    sg_dek_wrap(&ng, kek, dek, &sid, 1, w3);
    assert_memory_not_equal(w2, w3, sizeof w2);
    assert_int_equal(sg_dek_unwrap(kek, w2, sizeof w2, &sid, 1, out, NULL), SG_OK);
    assert_memory_equal(out, dek, 32);
    sg_key_free(kek);
}

static void test_kat_bidx(void **state)
{
    (void)state;
    struct sg_key *ix;
    assert_int_equal(sg_key_from_bytes(ixb, &ix, NULL), SG_OK);
    uint8_t out[SG_BIDX_BYTES], other[SG_BIDX_BYTES];
    sg_bidx(ix, "user.contact.email", "janis.b@example.lv", 18, out);
    tu_assert_hex(out, sizeof out, KAT_BIDX);
    /* The category is part of the hash: the same text elsewhere differs. */
    sg_bidx(ix, "user.contact.email2", "janis.b@example.lv", 18, other);
    assert_memory_not_equal(out, other, sizeof out);
    sg_key_free(ix);
}

static void test_open_rejects(void **state)
{
    (void)state;
    const char *pt = "secret value";
    size_t len = strlen(pt), n;
    uint8_t ct[64], bad[64];
    char back[64];
    struct sg_nonce ng;
    struct sg_err e;
    sg_nonce_init(&ng);
    sg_seal(&ng, dek, &sid, 1, "f", pt, len, ct);
    size_t ctlen = len + SG_SEAL_OVERHEAD;
    assert_int_equal(sg_open(dek, &sid, 1, "f", ct, ctlen, back, &n, &e), SG_OK);

    struct sg_uuid other = sid;
    other.b[15] ^= 1;
    assert_int_equal(sg_open(dek, &other, 1, "f", ct, ctlen, back, &n, &e), SG_CRYPTO);
    assert_int_equal(sg_open(dek, &sid, 2, "f", ct, ctlen, back, &n, &e), SG_CRYPTO);
    assert_int_equal(sg_open(dek, &sid, 1, "g", ct, ctlen, back, &n, &e), SG_CRYPTO);
    uint8_t dek2[32];
    memcpy(dek2, dek, 32);
    dek2[0] ^= 1;
    assert_int_equal(sg_open(dek2, &sid, 1, "f", ct, ctlen, back, &n, &e), SG_CRYPTO);
    /* Every single bit flip anywhere is caught. */
    for (size_t i = 0; i < ctlen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, ct, ctlen);
            bad[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(sg_open(dek, &sid, 1, "f", bad, ctlen, back, &n, NULL), SG_CRYPTO);
        }
    }
    for (size_t l = 0; l < ctlen; l++)
        assert_int_equal(sg_open(dek, &sid, 1, "f", ct, l, back, &n, NULL), SG_CRYPTO);
    assert_null(strstr(e.msg, pt));
}

static void test_nonces_unique(void **state)
{
    (void)state;
    struct sg_nonce ng;
    sg_nonce_init(&ng);
    uint8_t a[SG_SEAL_OVERHEAD + 1], b[SG_SEAL_OVERHEAD + 1];
    sg_seal(&ng, dek, &sid, 1, "f", "x", 1, a);
    sg_seal(&ng, dek, &sid, 1, "f", "x", 1, b);
    assert_memory_not_equal(a + 1, b + 1, SG_NONCE_BYTES);
    assert_memory_not_equal(a, b, sizeof a);
    struct sg_nonce ng2;
    sg_nonce_init(&ng2);
    assert_memory_not_equal(ng.prefix, ng2.prefix, sizeof ng.prefix);
}

static void test_wrap_rejects(void **state)
{
    (void)state;
    struct sg_key *k1, *k2;
    assert_int_equal(sg_key_generate(&k1, NULL), SG_OK);
    assert_int_equal(sg_key_generate(&k2, NULL), SG_OK);
    assert_false(sg_key_equal(k1, k2));
    assert_string_not_equal(k1->id, k2->id);
    uint8_t w[SG_WRAPPED_DEK_BYTES], out[32];
    struct sg_nonce ng;
    sg_nonce_init(&ng);
    sg_dek_wrap(&ng, k1, dek, &sid, 1, w);
    struct sg_err e;
    assert_int_equal(sg_dek_unwrap(k2, w, sizeof w, &sid, 1, out, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "master key"));
    struct sg_uuid other = sid;
    other.b[0] ^= 1;
    assert_int_equal(sg_dek_unwrap(k1, w, sizeof w, &other, 1, out, NULL), SG_CRYPTO);
    assert_int_equal(sg_dek_unwrap(k1, w, sizeof w, &sid, 2, out, NULL), SG_CRYPTO);
    assert_int_equal(sg_dek_unwrap(k1, w, sizeof w - 1, &sid, 1, out, NULL), SG_CRYPTO);
    w[0] = 2;
    assert_int_equal(sg_dek_unwrap(k1, w, sizeof w, &sid, 1, out, NULL), SG_CRYPTO);
    sg_key_free(k1);
    sg_key_free(k2);
    sg_key_free(NULL);
}

static void test_rand_pool(void **state)
{
    (void)state;
    struct sg_rand_pool p;
    assert_int_equal(sg_rand_pool_init(&p, NULL), SG_OK);
    uint8_t a[32], b[32], zero[32] = {0};
    /* Across many refills, no two draws are equal and none is all zero. */
    sg_rand_pool_take(&p, a, 32);
    for (int i = 0; i < 1000; i++) {
        sg_rand_pool_take(&p, b, 32);
        assert_memory_not_equal(a, b, 32);
        assert_memory_not_equal(b, zero, 32);
        memcpy(a, b, 32);
    }
    sg_rand_pool_release(&p);
    sg_rand_pool_release(&p);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void test_key_files(void **state)
{
    (void)state;
    char dir[64], path[128];
    tu_mkdtemp(dir);
    snprintf(path, sizeof path, "%s/master.key", dir);
    struct sg_key *k, *back = NULL;
    struct sg_err e;
    assert_int_equal(sg_key_generate(&k, NULL), SG_OK);
    assert_int_equal(sg_key_save(k, SG_KEY_KEK, path, &e), SG_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(sg_key_save(k, SG_KEY_KEK, path, &e), SG_CONFLICT);
    assert_int_equal(sg_key_load(path, SG_KEY_KEK, &back, &e), SG_OK);
    assert_true(sg_key_equal(k, back));
    assert_string_equal(k->id, back->id);
    sg_key_free(back);

    /* An index key is not a master key. */
    assert_int_equal(sg_key_load(path, SG_KEY_INDEX, &back, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "another kind"));

    /* Readable by others: refused, with the mode in the message. */
    chmod(path, 0644);
    assert_int_equal(sg_key_load(path, SG_KEY_KEK, &back, &e), SG_DENIED);
    assert_non_null(strstr(e.msg, "0644"));
    chmod(path, 0600);

    snprintf(path, sizeof path, "%s/missing.key", dir);
    assert_int_equal(sg_key_load(path, SG_KEY_KEK, &back, &e), SG_NOTFOUND);

    static const char *damaged[] = {
        "",
        "hello\n",
        "sargs-key v1 kek 00\n",
        "sargs-key v1 kek "
        "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        "sargs-key v1 kek "
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00\n",
    };
    snprintf(path, sizeof path, "%s/bad.key", dir);
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        unlink(path);
        write_file(path, damaged[i], 0600);
        assert_int_equal(sg_key_load(path, SG_KEY_KEK, &back, &e), SG_CRYPTO);
    }
    /* Comments and CRLF are fine. */
    unlink(path);
    write_file(path,
               "# comment\r\nsargs-key v1 kek "
               "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\r\n",
               0600);
    assert_int_equal(sg_key_load(path, SG_KEY_KEK, &back, &e), SG_OK);
    assert_string_equal(back->id, KAT_KEK_ID);
    sg_key_free(back);
    /* A directory is not a key file. */
    assert_int_equal(sg_key_load(dir, SG_KEY_KEK, &back, &e) == SG_OK, 0);
    sg_key_free(k);
    tu_rmrf(dir);
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    setup_bytes();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_seal),      cmocka_unit_test(test_kat_wrap),
        cmocka_unit_test(test_kat_bidx),      cmocka_unit_test(test_open_rejects),
        cmocka_unit_test(test_nonces_unique), cmocka_unit_test(test_wrap_rejects),
        cmocka_unit_test(test_key_files),     cmocka_unit_test(test_rand_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
