/*
 * fuzz_record.c - the stored record parser. Whatever structure it accepts
 * must encode back to the same bytes but for the tag (one encoding per
 * record), random bytes must never pass the tag while the re-encoded record
 * does, and nothing it reads may lie outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/sargs.h"
#include "../src/lib/vault/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_rec_entry e[SG_RECORD_MAX_ENTRIES], again[SG_RECORD_MAX_ENTRIES];
    static const uint8_t key[SG_KEY_BYTES] = {1, 2, 3};
    struct sg_uuid sid = {{0}};
    size_t n = 0, n2 = 0;
    if (sg_record_verify(data, size, key, &sid, NULL) == SG_OK)
        abort();
    if (sg_record_parse(data, size, e, SG_RECORD_MAX_ENTRIES, &n, NULL) != SG_OK)
        return 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < e[i].sealed_len; k++)
            sum += e[i].sealed[k];
        if (e[i].bidx)
            sum += e[i].bidx[SG_BIDX_BYTES - 1];
    }
    struct sg_buf b;
    sg_buf_init(&b, 1 << 20);
    if (sg_record_encode(e, n, key, &sid, &b, NULL) != SG_OK)
        abort();
    if (size && (b.len != size || memcmp(b.ptr, data, size - SG_RECORD_TAG_BYTES) != 0))
        abort();
    if (sg_record_verify((const uint8_t *)b.ptr, b.len, key, &sid, NULL) != SG_OK ||
        sg_record_parse((const uint8_t *)b.ptr, b.len, again, SG_RECORD_MAX_ENTRIES, &n2, NULL) !=
            SG_OK ||
        n2 != n)
        abort();
    sg_buf_release(&b);
    return (int)(sum & 0);
}
