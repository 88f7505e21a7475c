/*
 * sargs/buf.h - a growable byte buffer with a mandatory maximum (after curl's
 * dynbuf and git's strbuf).
 *
 * The buffer owns its memory. It is always NUL-terminated after a successful
 * append, so text can be read from `b->ptr` directly. When an append would
 * pass the maximum or memory runs out, the buffer frees (and wipes) itself and
 * the call fails: a caller never continues with a half-built value.
 *
 * Lifecycle: sg_buf_init() -> appends -> sg_buf_release() (wipes and frees;
 * the buffer can be reused) or sg_buf_detach() (hands the memory over).
 */
#ifndef SARGS_BUF_H
#define SARGS_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/err.h"

struct sg_buf {
    char *ptr;  /* NULL until the first append */
    size_t len; /* bytes used, not counting the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* the most `len` may reach */
};

/* Prepares an empty buffer that may grow up to `max` bytes. */
void sg_buf_init(struct sg_buf *b, size_t max);

/* Wipes and frees the memory; the buffer is empty and reusable. */
void sg_buf_release(struct sg_buf *b);

/* Empties the buffer but keeps its memory. */
void sg_buf_reset(struct sg_buf *b);

/*
 * Appends bytes. On SG_TOOBIG or SG_NOMEM the buffer has been released and
 * `err` says which limit was passed.
 */
enum sg_rc sg_buf_add(struct sg_buf *b, const void *data, size_t len, struct sg_err *err);
enum sg_rc sg_buf_adds(struct sg_buf *b, const char *s, struct sg_err *err);
enum sg_rc sg_buf_addf(struct sg_buf *b, struct sg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a big-endian integer of 4 or 8 bytes. */
enum sg_rc sg_buf_add_u32be(struct sg_buf *b, uint32_t v, struct sg_err *err);
enum sg_rc sg_buf_add_u64be(struct sg_buf *b, uint64_t v, struct sg_err *err);

/*
 * Hands the memory to the caller (free() it; it may be NULL when nothing was
 * appended) and leaves the buffer empty. `len` receives the length.
 */
char *sg_buf_detach(struct sg_buf *b, size_t *len);

#endif
