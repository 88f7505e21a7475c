/*
 * sargs/text.h - small text helpers: UTF-8 validation, hex, and texts in
 * several languages.
 */
#ifndef SARGS_TEXT_H
#define SARGS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/err.h"

/* Nonzero when `s[0..len)` is well-formed UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
int sg_utf8_valid(const char *s, size_t len);

/* Writes 2*len lowercase hex digits and a NUL into `out`; returns `out`. */
char *sg_hex_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly `len` bytes from 2*len hex digits (either case) followed
 * by NUL. SG_INVALID when the text has another length or a non-hex digit. */
enum sg_rc sg_hex_decode(const char *hex, uint8_t *out, size_t len, struct sg_err *err);

/*
 * A text in several languages, as a policy gives its names and explanations:
 * entries of (language, text). An entry whose language is NULL is
 * language-neutral (a name, an address, an e-mail) and serves every
 * language. n == 0 means no text at all. The memory belongs to whoever made
 * the text (for a policy: the policy).
 */
struct sg_text_tr {
    const char *lang; /* ISO 639-1 code, or NULL for every language */
    const char *text;
};

struct sg_text {
    const struct sg_text_tr *v;
    size_t n;
};

/* The text in `lang`; else the language-neutral one; else NULL. */
const char *sg_text_get(const struct sg_text *t, const char *lang);

/* Like sg_text_get(), but falls back to the first entry rather than NULL
 * (for labels that must show something); NULL only for an empty text. */
const char *sg_text_any(const struct sg_text *t, const char *lang);

/* Nonzero when both texts have the same entries (in any order). */
int sg_text_equal(const struct sg_text *a, const struct sg_text *b);

#endif
