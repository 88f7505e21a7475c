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

/* A catalog made by hand: the categories the foundation had built in, and
 * one of each later type, for tests of value normalisation that do not need
 * a policy. Static; never freed. */
static inline const struct sg_catalog *tu_catalog(void)
{
    static const struct sg_category cats[] = {
        {.id = "user.name.first", .alias = "name", .type = SG_VT_LINE, .indexed = 0, .max_size = 0},
        {.id = "user.name.last",
         .alias = "surname",
         .type = SG_VT_LINE,
         .indexed = 0,
         .max_size = 0},
        {.id = "user.contact.email",
         .alias = "email",
         .type = SG_VT_EMAIL,
         .indexed = 1,
         .max_size = 0},
        {.id = "user.contact.phone_number",
         .alias = "phone",
         .type = SG_VT_PHONE,
         .indexed = 1,
         .max_size = 0},
        {.id = "user.government_id.national_identification_number",
         .alias = "personal_code",
         .type = SG_VT_PERSONAL_CODE,
         .indexed = 1,
         .max_size = 0},
        {.id = "user.contact.address.country",
         .alias = "country",
         .type = SG_VT_COUNTRY,
         .indexed = 0,
         .max_size = 0},
        {.id = "user.demographic.language",
         .alias = "language",
         .type = SG_VT_LANGUAGE,
         .indexed = 0,
         .max_size = 0},
        {.id = "user.demographic.date_of_birth",
         .alias = "birth_date",
         .type = SG_VT_DATE,
         .indexed = 0,
         .max_size = 0},
        {.id = "user.device.ip_address",
         .alias = "ip",
         .type = SG_VT_IP,
         .indexed = 1,
         .max_size = 0},
        {.id = "user.social.link", .alias = "url", .type = SG_VT_URL, .indexed = 1, .max_size = 0},
        {.id = "user.profile.bio",
         .alias = "bio",
         .type = SG_VT_TEXT,
         .indexed = 0,
         .max_size = 16},
    };
    static const struct sg_catalog cat = {cats, sizeof cats / sizeof cats[0], SG_VALUE_MAX_DEFAULT,
                                          "371"};
    return &cat;
}

#ifdef SG_TEST_DATA
/* Loads a policy file: `name` under tests/data/, or a path from the source
 * root (e.g. "examples/etwinning.yaml"). Fails the test on any problem. */
static inline struct sg_policy *tu_policy(const char *name)
{
    char path[512];
    if (strchr(name, '/'))
        snprintf(path, sizeof path, "%s/%s", SG_SOURCE_ROOT, name);
    else
        snprintf(path, sizeof path, "%s/%s", SG_TEST_DATA, name);
    struct sg_policy *p = NULL;
    struct sg_policy_problems pr;
    struct sg_err e;
    sg_policy_problems_init(&pr);
    if (sg_policy_load_file(path, &p, &pr, &e) != SG_OK) {
        for (size_t i = 0; i < pr.n; i++)
            print_error("%s:%u:%u: %s\n", path, pr.v[i].line, pr.v[i].col, pr.v[i].msg);
        fail_msg("%s: %s", path, e.msg);
    }
    sg_policy_problems_release(&pr);
    return p;
}
#endif

#endif
