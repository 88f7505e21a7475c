/*
 * fuzz_value.c - value normalisation for every type. Besides not crashing:
 * a stored form normalises to itself, and its index form is the index form
 * of the original input (so a look-up by what was stored finds the person).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/sargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sg_crypto_init(NULL);
        ready = 1;
    }
    if (size < 1)
        return 0;
    const struct sg_catalog *cat = sg_catalog_builtin();
    const struct sg_category *c = &cat->cats[data[0] % cat->n];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    struct sg_buf st, ix, st2, ix2;
    sg_buf_init(&st, 1 << 20);
    sg_buf_init(&ix, 1 << 20);
    sg_buf_init(&st2, 1 << 20);
    sg_buf_init(&ix2, 1 << 20);
    struct sg_err e;
    if (sg_value_normalise(cat, c, in, len, &st, &ix, &e) == SG_OK) {
        if (sg_value_normalise(cat, c, st.ptr, st.len, &st2, &ix2, &e) != SG_OK)
            abort();
        if (st2.len != st.len || memcmp(st2.ptr, st.ptr, st.len) != 0)
            abort();
        if (ix2.len != ix.len || memcmp(ix2.ptr, ix.ptr, ix.len) != 0)
            abort();
        if (!sg_utf8_valid(st.ptr, st.len))
            abort();
    } else if (e.rc != SG_INVALID && e.rc != SG_TOOBIG) {
        abort();
    }
    sg_buf_release(&st);
    sg_buf_release(&ix);
    sg_buf_release(&st2);
    sg_buf_release(&ix2);
    return 0;
}
