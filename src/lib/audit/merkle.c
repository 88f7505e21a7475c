/*
 * merkle.c - RFC 9162 Merkle trees; see sargs/merkle.h. Proofs are built
 * from the perfect subtrees a fetcher returns, so that a proof in a tree of
 * ten million leaves costs about 2 log2(n) fetches and no re-hashing.
 */
#include "sargs/merkle.h"

/* OpenSSL 3's one-shot SHA256() goes through EVP_Q_digest, which looks the
 * algorithm up on every call: a fifth of the cost of a 65-byte node hash.
 * The low-level SHA-256 calls, deprecated but kept by OpenSSL 3, hash with
 * the same CPU extensions without that lookup. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

void sg_merkle_leaf_hash(const void *data, size_t len, uint8_t out[SG_HASH_BYTES])
{
    static const uint8_t zero = 0x00;
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, &zero, 1);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void sg_merkle_node_hash(const uint8_t left[SG_HASH_BYTES], const uint8_t right[SG_HASH_BYTES],
                         uint8_t out[SG_HASH_BYTES])
{
    static const uint8_t one = 0x01;
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, &one, 1);
    SHA256_Update(&c, left, SG_HASH_BYTES);
    SHA256_Update(&c, right, SG_HASH_BYTES);
    SHA256_Final(out, &c);
}

void sg_merkle_empty_root(uint8_t out[SG_HASH_BYTES])
{
    SHA256((const uint8_t *)"", 0, out);
}

/* The largest power of two strictly smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
    unsigned l = 0;
    while (n >>= 1)
        l++;
    return l;
}

/* The root of leaves [start, start + len): stored when it is a perfect,
 * aligned subtree, otherwise folded from the two halves. */
static int subtree(uint64_t start, uint64_t len, sg_merkle_fetch fetch, void *ctx,
                   uint8_t out[SG_HASH_BYTES])
{
    if (is_pow2(len) && start % len == 0) {
        unsigned level = log2u(len);
        return fetch(ctx, level, start >> level, out);
    }
    uint64_t k = split(len);
    uint8_t l[SG_HASH_BYTES], r[SG_HASH_BYTES];
    if (subtree(start, k, fetch, ctx, l) || subtree(start + k, len - k, fetch, ctx, r))
        return 1;
    sg_merkle_node_hash(l, r, out);
    return 0;
}

enum sg_rc sg_merkle_root(uint64_t size, sg_merkle_fetch fetch, void *ctx,
                          uint8_t out[SG_HASH_BYTES], struct sg_err *err)
{
    if (size == 0) {
        sg_merkle_empty_root(out);
        return SG_OK;
    }
    if (subtree(0, size, fetch, ctx, out))
        return sg_err_set(err, SG_IO, "cannot read the audit tree");
    return SG_OK;
}

/* PATH(m, D[start:start+len]), appended to proof in leaf-to-root order. */
static int path(uint64_t m, uint64_t start, uint64_t len, sg_merkle_fetch fetch, void *ctx,
                uint8_t *proof, size_t *n)
{
    if (len <= 1)
        return 0;
    uint64_t k = split(len);
    int rc = m < k ? path(m, start, k, fetch, ctx, proof, n)
                   : path(m - k, start + k, len - k, fetch, ctx, proof, n);
    if (rc || *n >= SG_MERKLE_MAX_PROOF)
        return 1;
    rc = m < k ? subtree(start + k, len - k, fetch, ctx, proof + *n * SG_HASH_BYTES)
               : subtree(start, k, fetch, ctx, proof + *n * SG_HASH_BYTES);
    (*n)++;
    return rc;
}

enum sg_rc sg_merkle_inclusion_proof(uint64_t index, uint64_t size, sg_merkle_fetch fetch,
                                     void *ctx, uint8_t *proof, size_t *n, struct sg_err *err)
{
    *n = 0;
    if (index >= size)
        return sg_err_set(err, SG_INVALID, "entry %llu is not in a log of %llu entries",
                          (unsigned long long)index, (unsigned long long)size);
    if (path(index, 0, size, fetch, ctx, proof, n))
        return sg_err_set(err, SG_IO, "cannot read the audit tree");
    return SG_OK;
}

/* SUBPROOF(m, D[start:start+len], b) */
static int subproof(uint64_t m, uint64_t start, uint64_t len, int b, sg_merkle_fetch fetch,
                    void *ctx, uint8_t *proof, size_t *n)
{
    if (m == len) {
        if (b)
            return 0;
        if (*n >= SG_MERKLE_MAX_PROOF)
            return 1;
        return subtree(start, len, fetch, ctx, proof + (*n)++ * SG_HASH_BYTES);
    }
    uint64_t k = split(len);
    int rc = m <= k ? subproof(m, start, k, b, fetch, ctx, proof, n)
                    : subproof(m - k, start + k, len - k, 0, fetch, ctx, proof, n);
    if (rc || *n >= SG_MERKLE_MAX_PROOF)
        return 1;
    rc = m <= k ? subtree(start + k, len - k, fetch, ctx, proof + *n * SG_HASH_BYTES)
                : subtree(start, k, fetch, ctx, proof + *n * SG_HASH_BYTES);
    (*n)++;
    return rc;
}

enum sg_rc sg_merkle_consistency_proof(uint64_t m, uint64_t n, sg_merkle_fetch fetch, void *ctx,
                                       uint8_t *proof, size_t *count, struct sg_err *err)
{
    *count = 0;
    if (m > n)
        return sg_err_set(err, SG_INVALID, "size %llu is larger than size %llu",
                          (unsigned long long)m, (unsigned long long)n);
    if (m == 0 || m == n)
        return SG_OK;
    if (subproof(m, 0, n, 1, fetch, ctx, proof, count))
        return sg_err_set(err, SG_IO, "cannot read the audit tree");
    return SG_OK;
}

static int same(const uint8_t a[SG_HASH_BYTES], const uint8_t b[SG_HASH_BYTES])
{
    return sodium_memcmp(a, b, SG_HASH_BYTES) == 0;
}

enum sg_rc sg_merkle_verify_inclusion(const uint8_t leaf_hash[SG_HASH_BYTES], uint64_t index,
                                      uint64_t size, const uint8_t *proof, size_t n,
                                      const uint8_t root[SG_HASH_BYTES], struct sg_err *err)
{
    if (index >= size)
        return sg_err_set(err, SG_DENIED, "index %llu is not below size %llu",
                          (unsigned long long)index, (unsigned long long)size);
    uint64_t fn = index, sn = size - 1;
    uint8_t r[SG_HASH_BYTES];
    memcpy(r, leaf_hash, SG_HASH_BYTES);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return sg_err_set(err, SG_DENIED, "proof is too long");
        if ((fn & 1) || fn == sn) {
            sg_merkle_node_hash(proof + i * SG_HASH_BYTES, r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            sg_merkle_node_hash(r, proof + i * SG_HASH_BYTES, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return sg_err_set(err, SG_DENIED, "proof is too short");
    if (!same(r, root))
        return sg_err_set(err, SG_DENIED, "proof does not lead to the root");
    return SG_OK;
}

enum sg_rc sg_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                        const uint8_t root1[SG_HASH_BYTES],
                                        const uint8_t root2[SG_HASH_BYTES], const uint8_t *proof,
                                        size_t n, struct sg_err *err)
{
    if (size1 > size2)
        return sg_err_set(err, SG_DENIED, "size1 is larger than size2");
    if (size1 == size2) {
        if (n != 0)
            return sg_err_set(err, SG_DENIED, "equal sizes need an empty proof");
        if (!same(root1, root2))
            return sg_err_set(err, SG_DENIED, "equal sizes with different roots");
        return SG_OK;
    }
    if (size1 == 0) {
        uint8_t empty[SG_HASH_BYTES];
        sg_merkle_empty_root(empty);
        if (n != 0)
            return sg_err_set(err, SG_DENIED, "the empty tree needs an empty proof");
        if (!same(root1, empty))
            return sg_err_set(err, SG_DENIED, "root1 is not the empty tree's root");
        return SG_OK;
    }
    if (n == 0)
        return sg_err_set(err, SG_DENIED, "proof is empty");
    /* When size1 is a power of two, its root is the first element. */
    size_t i = 0;
    const uint8_t *first = is_pow2(size1) ? root1 : proof + i++ * SG_HASH_BYTES;
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[SG_HASH_BYTES], sr[SG_HASH_BYTES];
    memcpy(fr, first, SG_HASH_BYTES);
    memcpy(sr, first, SG_HASH_BYTES);
    for (; i < n; i++) {
        if (sn == 0)
            return sg_err_set(err, SG_DENIED, "proof is too long");
        if ((fn & 1) || fn == sn) {
            sg_merkle_node_hash(proof + i * SG_HASH_BYTES, fr, fr);
            sg_merkle_node_hash(proof + i * SG_HASH_BYTES, sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            sg_merkle_node_hash(sr, proof + i * SG_HASH_BYTES, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return sg_err_set(err, SG_DENIED, "proof is too short");
    if (!same(fr, root1))
        return sg_err_set(err, SG_DENIED, "proof does not lead to root1");
    if (!same(sr, root2))
        return sg_err_set(err, SG_DENIED, "proof does not lead to root2");
    return SG_OK;
}

void sg_merkle_range_init(struct sg_merkle_range *r)
{
    r->size = 0;
    r->n = 0;
}

enum sg_rc sg_merkle_range_load(struct sg_merkle_range *r, uint64_t size, sg_merkle_fetch fetch,
                                void *ctx, struct sg_err *err)
{
    sg_merkle_range_init(r);
    uint64_t start = 0;
    for (int level = 63; level >= 0; level--) {
        if (!(size >> level & 1))
            continue;
        if (fetch(ctx, (unsigned)level, start >> level, r->hash[r->n]))
            return sg_err_set(err, SG_IO, "cannot read the audit tree");
        r->n++;
        start += UINT64_C(1) << level;
    }
    r->size = size;
    return SG_OK;
}

int sg_merkle_range_append(struct sg_merkle_range *r, const uint8_t leaf_hash[SG_HASH_BYTES],
                           int (*done)(void *ctx, unsigned level, uint64_t index,
                                       const uint8_t hash[SG_HASH_BYTES]),
                           void *ctx)
{
    uint8_t h[SG_HASH_BYTES];
    memcpy(h, leaf_hash, SG_HASH_BYTES);
    uint64_t idx = r->size;
    unsigned level = 0;
    /* Each trailing one bit of the old size closes a subtree. */
    while (idx >> level & 1) {
        sg_merkle_node_hash(r->hash[--r->n], h, h);
        level++;
        if (done) {
            int rc = done(ctx, level, idx >> level, h);
            if (rc)
                return rc;
        }
    }
    memcpy(r->hash[r->n++], h, SG_HASH_BYTES);
    r->size++;
    return 0;
}

void sg_merkle_range_root(const struct sg_merkle_range *r, uint8_t out[SG_HASH_BYTES])
{
    if (r->n == 0) {
        sg_merkle_empty_root(out);
        return;
    }
    memcpy(out, r->hash[r->n - 1], SG_HASH_BYTES);
    for (unsigned i = r->n - 1; i-- > 0;)
        sg_merkle_node_hash(r->hash[i], out, out);
}
