/*
 * sargs/merkle.h - Merkle tree hashing, proofs and their verification,
 * exactly as RFC 9162 section 2.1 (RFC 6962): SHA-256, leaf hash
 * H(0x00 | leaf), node hash H(0x01 | left | right), the split at the largest
 * power of two strictly smaller than the size, the empty tree's root H("").
 *
 * Pure functions: no storage, no allocation except where said. Hashing goes
 * through OpenSSL's libcrypto, which uses the CPU's SHA extensions.
 */
#ifndef SARGS_MERKLE_H
#define SARGS_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/err.h"

#define SG_HASH_BYTES       32
#define SG_MERKLE_MAX_PROOF 64 /* hashes; enough for any 64-bit size */

/* H(0x00 | data) */
void sg_merkle_leaf_hash(const void *data, size_t len, uint8_t out[SG_HASH_BYTES]);
/* H(0x01 | left | right) */
void sg_merkle_node_hash(const uint8_t left[SG_HASH_BYTES], const uint8_t right[SG_HASH_BYTES],
                         uint8_t out[SG_HASH_BYTES]);
/* H("") - the root of the empty tree */
void sg_merkle_empty_root(uint8_t out[SG_HASH_BYTES]);

/*
 * The hash of the perfect subtree of height `level` whose leftmost leaf is
 * `index << level` (level 0: a leaf hash). Returns nonzero on failure, with
 * the reason in the fetcher's own context.
 */
typedef int (*sg_merkle_fetch)(void *ctx, unsigned level, uint64_t index,
                               uint8_t out[SG_HASH_BYTES]);

/* The root of the first `size` leaves. SG_IO when a fetch fails. */
enum sg_rc sg_merkle_root(uint64_t size, sg_merkle_fetch fetch, void *ctx,
                          uint8_t out[SG_HASH_BYTES], struct sg_err *err);

/*
 * The inclusion proof of leaf `index` in the tree of `size` leaves
 * (RFC 9162 2.1.3.1), into `proof` (room for SG_MERKLE_MAX_PROOF hashes of
 * SG_HASH_BYTES, one after the other);
 * `*n` gets the count. SG_INVALID when index >= size.
 */
enum sg_rc sg_merkle_inclusion_proof(uint64_t index, uint64_t size, sg_merkle_fetch fetch,
                                     void *ctx, uint8_t *proof, size_t *n, struct sg_err *err);

/* The consistency proof between sizes `m` and `n` (RFC 9162 2.1.4.1);
 * empty when m == n or m == 0. SG_INVALID when m > n. */
enum sg_rc sg_merkle_consistency_proof(uint64_t m, uint64_t n, sg_merkle_fetch fetch, void *ctx,
                                       uint8_t *proof, size_t *count, struct sg_err *err);

/*
 * RFC 9162 2.1.3.2: SG_OK when `proof` proves `leaf_hash` at `index` in the
 * tree of `size` leaves with root `root`, SG_DENIED when it does not (with
 * the reason: index out of range, wrong length, mismatch).
 */
enum sg_rc sg_merkle_verify_inclusion(const uint8_t leaf_hash[SG_HASH_BYTES], uint64_t index,
                                      uint64_t size, const uint8_t *proof, size_t n,
                                      const uint8_t root[SG_HASH_BYTES], struct sg_err *err);

/*
 * RFC 9162 2.1.4.2: SG_OK when `proof` proves the tree of `size2` leaves with
 * root `root2` extends the tree of `size1` leaves with root `root1`,
 * SG_DENIED otherwise. size1 == size2 is valid only with an empty proof and
 * equal roots; size1 == 0 only with an empty proof and root1 the empty root.
 */
enum sg_rc sg_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                        const uint8_t root1[SG_HASH_BYTES],
                                        const uint8_t root2[SG_HASH_BYTES], const uint8_t *proof,
                                        size_t n, struct sg_err *err);

/*
 * The right edge of a growing tree: the roots of its perfect subtrees, from
 * the largest (leftmost) to the smallest. Appending a leaf completes zero or
 * more subtrees (reported so they can be stored); the root of the whole tree
 * follows from the range alone.
 */
struct sg_merkle_range {
    uint64_t size;
    unsigned n;
    uint8_t hash[64][SG_HASH_BYTES];
};

void sg_merkle_range_init(struct sg_merkle_range *r);

/* Rebuilds the range of the first `size` leaves from stored subtrees. */
enum sg_rc sg_merkle_range_load(struct sg_merkle_range *r, uint64_t size, sg_merkle_fetch fetch,
                                void *ctx, struct sg_err *err);

/*
 * Appends a leaf hash. `done` (may be NULL) is called for every perfect
 * subtree of height >= 1 this completes, with its level and index; a nonzero
 * return stops and is returned.
 */
int sg_merkle_range_append(struct sg_merkle_range *r, const uint8_t leaf_hash[SG_HASH_BYTES],
                           int (*done)(void *ctx, unsigned level, uint64_t index,
                                       const uint8_t hash[SG_HASH_BYTES]),
                           void *ctx);

/* The root of the range (the empty root for size 0). */
void sg_merkle_range_root(const struct sg_merkle_range *r, uint8_t out[SG_HASH_BYTES]);

#endif
