/*
 * buf.c - growable buffer with a maximum; see sargs/buf.h.
 */
#include "sargs/buf.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_buf_init(struct sg_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void sg_buf_release(struct sg_buf *b)
{
    if (b->ptr) {
        /* Buffers carry decrypted values and key material: wipe them. */
        sodium_memzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void sg_buf_reset(struct sg_buf *b)
{
    if (b->ptr) {
        sodium_memzero(b->ptr, b->len);
        b->ptr[0] = '\0';
    }
    b->len = 0;
}

static enum sg_rc grow(struct sg_buf *b, size_t extra, struct sg_err *err)
{
    /* The +1 for the NUL must not wrap either. */
    if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX) {
        sg_buf_release(b);
        return sg_err_set(err, SG_TOOBIG, "value over the limit of %zu bytes", b->max);
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return SG_OK;
    size_t cap = b->cap ? b->cap : 32;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Not realloc: the old block may hold secrets and must be wiped. */
    char *p = malloc(cap);
    if (!p) {
        sg_buf_release(b);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    if (b->ptr) {
        memcpy(p, b->ptr, b->len);
        sodium_memzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = p;
    b->cap = cap;
    return SG_OK;
}

enum sg_rc sg_buf_add(struct sg_buf *b, const void *data, size_t len, struct sg_err *err)
{
    enum sg_rc rc = grow(b, len, err);
    if (rc)
        return rc;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return SG_OK;
}

enum sg_rc sg_buf_adds(struct sg_buf *b, const char *s, struct sg_err *err)
{
    return sg_buf_add(b, s, strlen(s), err);
}

enum sg_rc sg_buf_addf(struct sg_buf *b, struct sg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sg_buf_release(b);
        return sg_err_set(err, SG_INTERNAL, "bad format");
    }
    enum sg_rc rc = grow(b, (size_t)n, err);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SG_OK;
}

enum sg_rc sg_buf_add_u32be(struct sg_buf *b, uint32_t v, struct sg_err *err)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return sg_buf_add(b, x, sizeof x, err);
}

enum sg_rc sg_buf_add_u64be(struct sg_buf *b, uint64_t v, struct sg_err *err)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (56 - 8 * i));
    return sg_buf_add(b, x, sizeof x, err);
}

char *sg_buf_detach(struct sg_buf *b, size_t *len)
{
    char *p = b->ptr;
    if (len)
        *len = b->len;
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
