/*
 * test_merkle.c - RFC 9162 hashing and proofs: the RFC 6962 known answers
 * (as published in transparency-dev/merkle and google/certificate-
 * transparency), then every size up to 256 against a small recursive
 * reference, and every valid proof corrupted in every way expecting refusal.
 */
#include "testutil.h"

#include "sargs/merkle.h"

#define MAXN 256

static const char *const leaves_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const roots_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
#define L1   "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define L4   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define N2_4 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define N4_8 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define N6_8 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define N0_4 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"

/* The leaf hashes of the tree under test. */
static uint8_t lh[MAXN][SG_HASH_BYTES];

/* ---------------------------------------------- the recursive reference */

/* Perfect, aligned subtrees the reference has computed (it is recursive, so
 * without a memo a 256-leaf sweep would re-hash the same subtrees millions
 * of times). */
static uint8_t memo[9][MAXN][SG_HASH_BYTES];
static int memo_ok[9][MAXN];

static void ref_mth_raw(uint64_t start, uint64_t n, uint8_t out[SG_HASH_BYTES]);

static void ref_mth(uint64_t start, uint64_t n, uint8_t out[SG_HASH_BYTES])
{
    unsigned level = 0;
    while ((UINT64_C(1) << level) < n)
        level++;
    if (n && (UINT64_C(1) << level) == n && start % n == 0 && level <= 8) {
        uint64_t idx = start >> level;
        if (!memo_ok[level][idx]) {
            ref_mth_raw(start, n, memo[level][idx]);
            memo_ok[level][idx] = 1;
        }
        memcpy(out, memo[level][idx], SG_HASH_BYTES);
        return;
    }
    ref_mth_raw(start, n, out);
}

static void ref_mth_raw(uint64_t start, uint64_t n, uint8_t out[SG_HASH_BYTES])
{
    if (n == 0) {
        sg_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, lh[start], SG_HASH_BYTES);
        return;
    }
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    uint8_t l[SG_HASH_BYTES], r[SG_HASH_BYTES];
    ref_mth(start, k, l);
    ref_mth(start + k, n - k, r);
    sg_merkle_node_hash(l, r, out);
}

static void ref_path(uint64_t m, uint64_t start, uint64_t n, uint8_t p[][SG_HASH_BYTES], size_t *c)
{
    if (n <= 1)
        return;
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    if (m < k) {
        ref_path(m, start, k, p, c);
        ref_mth(start + k, n - k, p[(*c)++]);
    } else {
        ref_path(m - k, start + k, n - k, p, c);
        ref_mth(start, k, p[(*c)++]);
    }
}

static void ref_subproof(uint64_t m, uint64_t start, uint64_t n, int b, uint8_t p[][SG_HASH_BYTES],
                         size_t *c)
{
    if (m == n) {
        if (!b)
            ref_mth(start, n, p[(*c)++]);
        return;
    }
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    if (m <= k) {
        ref_subproof(m, start, k, b, p, c);
        ref_mth(start + k, n - k, p[(*c)++]);
    } else {
        ref_subproof(m - k, start + k, n - k, 0, p, c);
        ref_mth(start, k, p[(*c)++]);
    }
}

/* The fetcher for the code under test: perfect subtrees computed once by
 * the reference (memo[level][index]), as a store would return them. */
static int fetch(void *ctx, unsigned level, uint64_t index, uint8_t out[SG_HASH_BYTES])
{
    (void)ctx;
    if (level > 8 || index >= MAXN)
        return 1;
    if (!memo_ok[level][index]) {
        ref_mth(index << level, UINT64_C(1) << level, memo[level][index]);
        memo_ok[level][index] = 1;
    }
    memcpy(out, memo[level][index], SG_HASH_BYTES);
    return 0;
}

static void forget_memo(void)
{
    memset(memo_ok, 0, sizeof memo_ok);
}

static void setup_kat_leaves(void)
{
    forget_memo();
    for (int i = 0; i < 8; i++) {
        uint8_t d[16];
        size_t n = strlen(leaves_hex[i]) / 2;
        tu_unhex(leaves_hex[i], d, n);
        sg_merkle_leaf_hash(d, n, lh[i]);
    }
}

static void setup_many_leaves(void)
{
    forget_memo();
    for (int i = 0; i < MAXN; i++) {
        uint8_t d[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0xab, 0xcd};
        sg_merkle_leaf_hash(d, (size_t)(i % 5), lh[i]);
    }
}

static void test_kat_roots(void **state)
{
    (void)state;
    setup_kat_leaves();
    tu_assert_hex(lh[1], SG_HASH_BYTES, L1);
    tu_assert_hex(lh[4], SG_HASH_BYTES, L4);
    for (uint64_t n = 0; n <= 8; n++) {
        uint8_t root[SG_HASH_BYTES];
        assert_int_equal(sg_merkle_root(n, fetch, NULL, root, NULL), SG_OK);
        tu_assert_hex(root, SG_HASH_BYTES, roots_hex[n]);
        /* The growing range agrees. */
        struct sg_merkle_range r;
        sg_merkle_range_init(&r);
        for (uint64_t i = 0; i < n; i++)
            assert_int_equal(sg_merkle_range_append(&r, lh[i], NULL, NULL), 0);
        sg_merkle_range_root(&r, root);
        tu_assert_hex(root, SG_HASH_BYTES, roots_hex[n]);
    }
}

static void expect_proof(uint8_t p[][SG_HASH_BYTES], size_t n, const char *const *want,
                         size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        tu_assert_hex(p[i], SG_HASH_BYTES, want[i]);
}

static void test_kat_proofs(void **state)
{
    (void)state;
    setup_kat_leaves();
    uint8_t p[SG_MERKLE_MAX_PROOF][SG_HASH_BYTES];
    size_t n;
    static const char *const inc0[] = {L1, N2_4, N4_8};
    static const char *const inc5[] = {L4, N6_8, N0_4};
    assert_int_equal(sg_merkle_inclusion_proof(0, 8, fetch, NULL, &p[0][0], &n, NULL), SG_OK);
    expect_proof(p, n, inc0, 3);
    assert_int_equal(sg_merkle_inclusion_proof(5, 8, fetch, NULL, &p[0][0], &n, NULL), SG_OK);
    expect_proof(p, n, inc5, 3);
    assert_int_equal(sg_merkle_consistency_proof(1, 8, fetch, NULL, &p[0][0], &n, NULL), SG_OK);
    expect_proof(p, n, inc0, 3);
    uint8_t root[SG_HASH_BYTES], root1[SG_HASH_BYTES];
    tu_unhex(roots_hex[8], root, SG_HASH_BYTES);
    tu_unhex(roots_hex[1], root1, SG_HASH_BYTES);
    assert_int_equal(sg_merkle_verify_consistency(1, 8, root1, root, &p[0][0], 3, NULL), SG_OK);
    assert_int_equal(sg_merkle_inclusion_proof(8, 8, fetch, NULL, &p[0][0], &n, NULL), SG_INVALID);
    assert_int_equal(sg_merkle_consistency_proof(9, 8, fetch, NULL, &p[0][0], &n, NULL),
                     SG_INVALID);
}

/* Every way to spoil a valid inclusion proof must be refused. */
static void spoil_inclusion(const uint8_t leaf[SG_HASH_BYTES], uint64_t idx, uint64_t size,
                            uint8_t p[][SG_HASH_BYTES], size_t n, const uint8_t root[SG_HASH_BYTES])
{
    uint8_t q[SG_MERKLE_MAX_PROOF + 1][SG_HASH_BYTES];
    uint8_t bad[SG_HASH_BYTES];
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 256; bit += 37) {
            memcpy(q, p, n * SG_HASH_BYTES);
            q[i][bit / 8] ^= (uint8_t)(1 << (bit % 8));
            assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size, &q[0][0], n, root, NULL),
                             SG_DENIED);
        }
    }
    if (n) /* drop the last */
        assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size, &p[0][0], n - 1, root, NULL),
                         SG_DENIED);
    memcpy(q, p, n * SG_HASH_BYTES); /* add one */
    memcpy(q[n], leaf, SG_HASH_BYTES);
    assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size, &q[0][0], n + 1, root, NULL),
                     SG_DENIED);
    for (size_t i = 0; i + 1 < n; i++) { /* swap neighbours */
        if (memcmp(p[i], p[i + 1], SG_HASH_BYTES) == 0)
            continue;
        memcpy(q, p, n * SG_HASH_BYTES);
        memcpy(q[i], p[i + 1], SG_HASH_BYTES);
        memcpy(q[i + 1], p[i], SG_HASH_BYTES);
        assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size, &q[0][0], n, root, NULL),
                         SG_DENIED);
    }
    /* Wrong index or size (a few, where the proof would differ). */
    if (idx + 1 < size && memcmp(lh[idx + 1], leaf, SG_HASH_BYTES) != 0)
        assert_int_equal(sg_merkle_verify_inclusion(leaf, idx + 1, size, &p[0][0], n, root, NULL),
                         SG_DENIED);
    assert_int_equal(sg_merkle_verify_inclusion(leaf, size, size, &p[0][0], n, root, NULL),
                     SG_DENIED);
    /* A size that changes the tree's height (a size that keeps the same path
     * shape, e.g. 5 and 6 for leaf 0, cannot be told apart by any verifier:
     * such a proof is still bound to the root it was checked against). */
    assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size * 2, &p[0][0], n, root, NULL),
                     SG_DENIED);
    if (idx < size / 2)
        assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size / 2, &p[0][0], n, root, NULL),
                         SG_DENIED);
    memcpy(bad, root, SG_HASH_BYTES);
    bad[0] ^= 1;
    assert_int_equal(sg_merkle_verify_inclusion(leaf, idx, size, &p[0][0], n, bad, NULL),
                     SG_DENIED);
    memcpy(bad, leaf, SG_HASH_BYTES);
    bad[31] ^= 1;
    assert_int_equal(sg_merkle_verify_inclusion(bad, idx, size, &p[0][0], n, root, NULL),
                     SG_DENIED);
}

static void test_inclusion_all(void **state)
{
    (void)state;
    setup_many_leaves();
    uint8_t p[SG_MERKLE_MAX_PROOF][SG_HASH_BYTES], want[SG_MERKLE_MAX_PROOF][SG_HASH_BYTES];
    for (uint64_t size = 1; size <= MAXN; size++) {
        uint8_t root[SG_HASH_BYTES], rr[SG_HASH_BYTES];
        ref_mth(0, size, rr);
        assert_int_equal(sg_merkle_root(size, fetch, NULL, root, NULL), SG_OK);
        assert_memory_equal(root, rr, SG_HASH_BYTES);
        for (uint64_t idx = 0; idx < size; idx++) {
            size_t n = 0, nw = 0;
            assert_int_equal(sg_merkle_inclusion_proof(idx, size, fetch, NULL, &p[0][0], &n, NULL),
                             SG_OK);
            ref_path(idx, 0, size, want, &nw);
            assert_int_equal(n, nw);
            assert_memory_equal(p, want, n * SG_HASH_BYTES);
            assert_int_equal(
                sg_merkle_verify_inclusion(lh[idx], idx, size, &p[0][0], n, root, NULL), SG_OK);
            /* Spoiling every proof of every size is quadratic; sizes up to
             * 64 all, then a sample. */
            if (size <= 64 || idx % 17 == 0 || idx == size - 1)
                spoil_inclusion(lh[idx], idx, size, p, n, root);
        }
    }
}

static void test_consistency_all(void **state)
{
    (void)state;
    setup_many_leaves();
    uint8_t p[SG_MERKLE_MAX_PROOF][SG_HASH_BYTES], want[SG_MERKLE_MAX_PROOF][SG_HASH_BYTES];
    uint8_t q[SG_MERKLE_MAX_PROOF + 1][SG_HASH_BYTES];
    for (uint64_t n2 = 1; n2 <= MAXN; n2++) {
        uint8_t r2[SG_HASH_BYTES];
        ref_mth(0, n2, r2);
        for (uint64_t n1 = 0; n1 <= n2; n1++) {
            uint8_t r1[SG_HASH_BYTES];
            ref_mth(0, n1, r1);
            size_t n = 0, nw = 0;
            assert_int_equal(sg_merkle_consistency_proof(n1, n2, fetch, NULL, &p[0][0], &n, NULL),
                             SG_OK);
            if (n1 > 0 && n1 < n2)
                ref_subproof(n1, 0, n2, 1, want, &nw);
            assert_int_equal(n, nw);
            assert_memory_equal(p, want, n * SG_HASH_BYTES);
            assert_int_equal(sg_merkle_verify_consistency(n1, n2, r1, r2, &p[0][0], n, NULL),
                             SG_OK);
            if (!(n2 <= 48 || n1 % 13 == 0))
                continue;
            for (size_t i = 0; i < n; i++) {
                memcpy(q, p, n * SG_HASH_BYTES);
                q[i][i % 32] ^= 0x40;
                assert_int_equal(sg_merkle_verify_consistency(n1, n2, r1, r2, &q[0][0], n, NULL),
                                 SG_DENIED);
            }
            if (n)
                assert_int_equal(
                    sg_merkle_verify_consistency(n1, n2, r1, r2, &p[0][0], n - 1, NULL), SG_DENIED);
            memcpy(q, p, n * SG_HASH_BYTES);
            memcpy(q[n], r1, SG_HASH_BYTES);
            assert_int_equal(sg_merkle_verify_consistency(n1, n2, r1, r2, &q[0][0], n + 1, NULL),
                             SG_DENIED);
            uint8_t bad[SG_HASH_BYTES];
            memcpy(bad, r2, SG_HASH_BYTES);
            bad[5] ^= 1;
            /* (The empty tree is consistent with any tree.) */
            if (n1 > 0)
                assert_int_equal(sg_merkle_verify_consistency(n1, n2, r1, bad, &p[0][0], n, NULL),
                                 SG_DENIED);
            memcpy(bad, r1, SG_HASH_BYTES);
            bad[5] ^= 1;
            assert_int_equal(sg_merkle_verify_consistency(n1, n2, bad, r2, &p[0][0], n, NULL),
                             SG_DENIED);
            if (n1 > 0)
                assert_int_equal(
                    sg_merkle_verify_consistency(n1, n2 * 2, r1, r2, &p[0][0], n, NULL), SG_DENIED);
        }
    }
    /* m == n only with an empty proof and equal roots; m > n never. */
    uint8_t a[SG_HASH_BYTES], b[SG_HASH_BYTES];
    ref_mth(0, 5, a);
    ref_mth(0, 6, b);
    assert_int_equal(sg_merkle_verify_consistency(5, 5, a, a, &p[0][0], 0, NULL), SG_OK);
    assert_int_equal(sg_merkle_verify_consistency(5, 5, a, b, &p[0][0], 0, NULL), SG_DENIED);
    memcpy(q[0], a, SG_HASH_BYTES);
    assert_int_equal(sg_merkle_verify_consistency(5, 5, a, a, &q[0][0], 1, NULL), SG_DENIED);
    assert_int_equal(sg_merkle_verify_consistency(6, 5, b, a, &p[0][0], 0, NULL), SG_DENIED);
    assert_int_equal(sg_merkle_verify_consistency(3, 6, a, b, &p[0][0], 0, NULL), SG_DENIED);
}

static int stored_nodes;
static int count_done(void *ctx, unsigned level, uint64_t index, const uint8_t h[SG_HASH_BYTES])
{
    (void)ctx;
    uint8_t want[SG_HASH_BYTES];
    ref_mth(index << level, UINT64_C(1) << level, want);
    assert_memory_equal(h, want, SG_HASH_BYTES);
    stored_nodes++;
    return 0;
}

static void test_range(void **state)
{
    (void)state;
    setup_many_leaves();
    struct sg_merkle_range r, loaded;
    sg_merkle_range_init(&r);
    stored_nodes = 0;
    for (uint64_t i = 0; i < MAXN; i++) {
        assert_int_equal(sg_merkle_range_append(&r, lh[i], count_done, NULL), 0);
        uint8_t a[SG_HASH_BYTES], b[SG_HASH_BYTES];
        sg_merkle_range_root(&r, a);
        ref_mth(0, i + 1, b);
        assert_memory_equal(a, b, SG_HASH_BYTES);
        assert_int_equal(sg_merkle_range_load(&loaded, i + 1, fetch, NULL, NULL), SG_OK);
        assert_int_equal(loaded.n, r.n);
        assert_memory_equal(loaded.hash, r.hash, r.n * SG_HASH_BYTES);
    }
    /* n leaves complete n - popcount(n) internal subtrees. */
    assert_int_equal(stored_nodes, MAXN - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_roots),     cmocka_unit_test(test_kat_proofs),
        cmocka_unit_test(test_inclusion_all), cmocka_unit_test(test_consistency_all),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
