/*
 * test_catalog.c - categories and value normalisation: what a look-up
 * matches is decided here.
 */
#include "testutil.h"

struct vcase {
    const char *cat;
    const char *in;
    const char *stored; /* NULL: refused */
    const char *index;  /* NULL: same as stored */
};

static const struct vcase cases[] = {
    /* e-mail: trimmed; stored as given, indexed lower-cased */
    {"email", "  Janis.B@Example.LV \n", "Janis.B@Example.LV", "janis.b@example.lv"},
    {"email", "a+tag@sub.example.com", "a+tag@sub.example.com", NULL},
    {"email", "j\xc4\x81nis@pi\xc4\x93m\xc4\x93rs.lv", "j\xc4\x81nis@pi\xc4\x93m\xc4\x93rs.lv",
     NULL},
    {"email", "no-at-sign.lv", NULL, NULL},
    {"email", "two@@example.lv", NULL, NULL},
    {"email", "a@b@example.lv", NULL, NULL},
    {"email", "@example.lv", NULL, NULL},
    {"email", "john@", NULL, NULL},
    {"email", "john@localhost", NULL, NULL},
    {"email", "john@.example.lv", NULL, NULL},
    {"email", "john@example..lv", NULL, NULL},
    {"email", "john@-example.lv", NULL, NULL},
    {"email", "john@example.lv-", NULL, NULL},
    {"email", ".john@example.lv", NULL, NULL},
    {"email", "jo..hn@example.lv", NULL, NULL},
    {"email", "jo hn@example.lv", NULL, NULL},
    {"email", "john@exa mple.lv", NULL, NULL},
    {"email", "<john@example.lv>", NULL, NULL},
    {"email", "", NULL, NULL},
    {"email", "   ", NULL, NULL},
    /* phone: E.164, +371 when no country code is given */
    {"phone", "29123456", "+37129123456", NULL},
    {"phone", "2912 3456", "+37129123456", NULL},
    {"phone", "+371 29 123 456", "+37129123456", NULL},
    {"phone", "00371-29123456", "+37129123456", NULL},
    {"phone", "(+371) 29.123.456", NULL, NULL},
    {"phone", "+44 20 7946 0958", "+442079460958", NULL},
    {"phone", "+1 (555) 010-0999", "+15550100999", NULL},
    {"phone", "12ab", NULL, NULL},
    {"phone", "123", NULL, NULL},
    {"phone", "+12345", NULL, NULL},
    {"phone", "+1234567890123456", NULL, NULL},
    {"phone", "+0123456789", NULL, NULL},
    {"phone", "+", NULL, NULL},
    {"phone", "29123456 ext 5", NULL, NULL},
    /* personal code: digits only */
    {"personal_code", "010190-12345", "01019012345", NULL},
    {"personal_code", " 32 0190 12345 ", "32019012345", NULL},
    {"personal_code", "01019O-12345", NULL, NULL},
    {"personal_code", "12345", NULL, NULL},
    {"personal_code", "123456789012345678901", NULL, NULL},
    /* country: ISO 3166-1 alpha-2 */
    {"country", "lv", "LV", NULL},
    {"country", " Ee ", "EE", NULL},
    {"country", "XX", NULL, NULL},
    {"country", "LVA", NULL, NULL},
    {"country", "L", NULL, NULL},
    /* language */
    {"language", "LV", "lv", NULL},
    {"language", "ltg", "ltg", NULL},
    {"language", "l1", NULL, NULL},
    {"language", "latvian", NULL, NULL},
    /* one-line text */
    /* (free text is indexed with ASCII case folded only) */
    {"name", "  J\xc4\x81nis ", "J\xc4\x81nis", "j\xc4\x81nis"},
    {"name", "Anna-Marija O'Neil", "Anna-Marija O'Neil", "anna-marija o'neil"},
    {"name", "two\nlines", NULL, NULL},
    {"name", "tab\there", NULL, NULL},
    {"name", "bell\x07", NULL, NULL},
    {"name", "bad \xc4", NULL, NULL},
    {"name", "\xed\xa0\x80", NULL, NULL},
    /* date */
    {"birth_date", "1990-01-31", "1990-01-31", NULL},
    {"birth_date", "1990-02-30", NULL, NULL},
    {"birth_date", "31.01.1990", NULL, NULL},
    /* IP addresses: canonical form; IPv4 with leading zeros is refused
     * (some read it as octal) */
    {"ip", " 192.0.2.1 ", "192.0.2.1", NULL},
    {"ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1", NULL},
    {"ip", "::ffff:192.0.2.1", "::ffff:192.0.2.1", NULL},
    {"ip", "192.0.2.01", NULL, NULL},
    {"ip", "256.0.0.1", NULL, NULL},
    {"ip", "192.0.2", NULL, NULL},
    {"ip", "fe80::1%eth0", NULL, NULL},
    {"ip", "example.lv", NULL, NULL},
    /* URLs: scheme and host lower-cased, the path kept */
    {"url", "HTTPS://Example.LV/Path?Q=1", "https://example.lv/Path?Q=1", NULL},
    {"url", "http://example.lv", "http://example.lv", NULL},
    {"url", "ftp://example.lv/x", NULL, NULL},
    {"url", "https:///nohost", NULL, NULL},
    {"url", "https://exa mple.lv", NULL, NULL},
    {"url", "javascript:alert(1)", NULL, NULL},
    /* a category's own size limit (16 bytes here) */
    {"bio", "short", "short", NULL},
};

static void test_cases(void **state)
{
    (void)state;
    const struct sg_catalog *cat = tu_catalog();
    struct sg_buf st, ix;
    sg_buf_init(&st, 1 << 20);
    sg_buf_init(&ix, 1 << 20);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct vcase *c = &cases[i];
        const struct sg_category *cg = sg_catalog_find(cat, c->cat);
        assert_non_null(cg);
        struct sg_err e;
        enum sg_rc rc = sg_value_normalise(cat, cg, c->in, strlen(c->in), &st, &ix, &e);
        if (!c->stored) {
            if (rc != SG_INVALID)
                fail_msg("case %zu (%s) accepted", i, c->cat);
            /* The error names the category, never the value. */
            assert_non_null(strstr(e.msg, cg->id));
            if (strlen(c->in) > 3)
                assert_null(strstr(e.msg, c->in));
            continue;
        }
        if (rc != SG_OK)
            fail_msg("case %zu (%s) refused: %s", i, c->cat, e.msg);
        assert_string_equal(st.ptr, c->stored);
        assert_string_equal(ix.ptr, c->index ? c->index : c->stored);
        /* The look-up form agrees with the index form of the stored value. */
        struct sg_buf lk;
        sg_buf_init(&lk, 1 << 20);
        assert_int_equal(sg_value_index_form(cat, cg, c->in, strlen(c->in), &lk, NULL), SG_OK);
        assert_string_equal(lk.ptr, ix.ptr);
        sg_buf_release(&lk);
    }
    sg_buf_release(&st);
    sg_buf_release(&ix);
}

static void test_limits(void **state)
{
    (void)state;
    const struct sg_catalog *cat = tu_catalog();
    const struct sg_category *name = sg_catalog_find(cat, "user.name.first");
    assert_non_null(name);
    size_t big = cat->max_value + 1;
    char *v = malloc(big);
    memset(v, 'a', big);
    struct sg_buf st;
    sg_buf_init(&st, 1 << 20);
    struct sg_err e;
    assert_int_equal(sg_value_normalise(cat, name, v, big, &st, NULL, &e), SG_TOOBIG);
    assert_non_null(strstr(e.msg, "65536"));
    assert_int_equal(sg_value_normalise(cat, name, v, big - 1, &st, NULL, &e), SG_OK);
    assert_int_equal(st.len, big - 1);
    /* An embedded NUL is a control character. */
    assert_int_equal(sg_value_normalise(cat, name, "a\0b", 3, &st, NULL, &e), SG_INVALID);
    /* A category may be stricter than the catalog. */
    const struct sg_category *bio = sg_catalog_find(cat, "bio");
    assert_int_equal(sg_value_normalise(cat, bio, v, 17, &st, NULL, &e), SG_TOOBIG);
    assert_non_null(strstr(e.msg, "16 bytes"));
    assert_int_equal(sg_value_normalise(cat, bio, v, 16, &st, NULL, &e), SG_OK);
    sg_buf_release(&st);
    free(v);
}

static void test_countries_and_types(void **state)
{
    (void)state;
    assert_true(sg_country_valid("LV"));
    assert_false(sg_country_valid("lv"));
    assert_false(sg_country_valid("XX"));
    assert_false(sg_country_valid(NULL));
    assert_false(sg_country_valid("LVA"));
    /* The EEA is the EU plus Iceland, Liechtenstein and Norway. */
    const char *eea[] = {"LV", "DE", "NO", "IS", "LI", "PT", "FR"};
    for (size_t i = 0; i < sizeof eea / sizeof eea[0]; i++)
        assert_true(sg_country_in_eea(eea[i]));
    const char *third[] = {"US", "CA", "CH", "GB", "UA", "TR"};
    for (size_t i = 0; i < sizeof third / sizeof third[0]; i++)
        assert_false(sg_country_in_eea(third[i]));
    for (int t = SG_VT_TEXT; t <= SG_VT_URL; t++)
        assert_int_equal(sg_vtype_from_name(sg_vtype_name((enum sg_vtype)t)), t);
    assert_int_equal(sg_vtype_from_name("blob"), -1);
}

static void test_find(void **state)
{
    (void)state;
    const struct sg_catalog *cat = tu_catalog();
    assert_int_equal(cat->n, 11);
    assert_ptr_equal(sg_catalog_find(cat, "email"), sg_catalog_find(cat, "user.contact.email"));
    assert_null(sg_catalog_find(cat, "user.contact"));
    assert_null(sg_catalog_find(cat, ""));
    assert_true(sg_catalog_find(cat, "email")->indexed);
    assert_true(sg_catalog_find(cat, "phone")->indexed);
    assert_true(sg_catalog_find(cat, "personal_code")->indexed);
    assert_false(sg_catalog_find(cat, "name")->indexed);
    assert_string_equal(sg_vtype_name(SG_VT_PHONE), "phone");
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_countries_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
