/*
 * testutil.h - helpers shared by the unit tests: temporary directories and
 * hex comparison. Header-only so that each test binary stays one file.
 */
#ifndef SARGS_TESTUTIL_H
#define SARGS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ftw.h>
#include <unistd.h>

#include "sargs/sargs.h"

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A fresh private directory under TMPDIR; `buf` must hold 64 bytes. */
static inline char *tu_mkdtemp(char *buf)
{
    const char *t = getenv("TMPDIR");
    snprintf(buf, 64, "%.40s/sargs-test-XXXXXX", t && *t ? t : "/tmp");
    char *d = mkdtemp(buf);
    assert_non_null(d);
    return d;
}

static inline void tu_rmrf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void tu_assert_hex(const uint8_t *got, size_t len, const char *want)
{
    char hex[4096];
    assert_true(len * 2 < sizeof hex);
    sg_hex_encode(got, len, hex);
    assert_string_equal(hex, want);
}

static inline void tu_unhex(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(sg_hex_decode(hex, out, len, NULL), SG_OK);
}

#endif
