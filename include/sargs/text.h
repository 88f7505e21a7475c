/*
 * sargs/text.h - small text helpers: UTF-8 validation and hex.
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

#endif
