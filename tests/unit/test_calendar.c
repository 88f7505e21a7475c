/*
 * test_calendar.c - the deadline engine's table of cases: month ends, leap
 * years, every Latvian public holiday and its weekend transfers, Easter,
 * time-zone edges around midnight and daylight saving, pauses, extensions.
 */
#include "testutil.h"

#include "sargs/calendar.h"

static int64_t D(const char *s)
{
    int64_t d;
    struct sg_err e;
    if (sg_day_parse(s, &d, &e))
        fail_msg("bad date %s", s);
    return d;
}

static const struct sg_calendar lv = {"lv", NULL, 0};
static const struct sg_calendar plain = {"none", NULL, 0};

static void test_months(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        /* received, months, expected (unmoved) */
        {"2026-03-05", "1", "2026-04-05"},  {"2025-08-31", "1", "2025-09-30"},
        {"2026-01-31", "1", "2026-02-28"},  {"2024-01-31", "1", "2024-02-29"},
        {"2026-12-31", "1", "2027-01-31"},  {"2026-11-30", "3", "2027-02-28"},
        {"2027-11-30", "3", "2028-02-29"},  {"2026-05-31", "1", "2026-06-30"},
        {"2026-01-15", "12", "2027-01-15"}, {"2026-03-31", "-1", "2026-02-28"},
    };
    char out[11];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg_day_format(sg_add_months(D(cases[i][0]), atoi(cases[i][1])), out);
        assert_string_equal(out, cases[i][2]);
    }
}

static void test_easter(void **state)
{
    (void)state;
    static const char *const e[] = {"2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28",
                                    "2028-04-16", "2030-04-21", "2038-04-25", "2019-04-21"};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        int y = atoi(e[i]);
        assert_int_equal(sg_easter(y), D(e[i]));
    }
}

static void test_latvian_holidays(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "2026-01-01",
        "2026-04-03",
        "2026-04-05",
        "2026-04-06",
        "2026-05-01",
        "2026-05-04",
        "2026-06-23",
        "2026-06-24",
        "2026-11-18",
        "2026-12-24",
        "2026-12-25",
        "2026-12-26",
        "2026-12-31",
        /* 4 May on a Sunday (2025) and a Saturday (2024): the next Monday */
        "2025-05-05",
        "2024-05-06",
        /* 18 November on a Saturday (2023) and a Sunday (2029) */
        "2023-11-20",
        "2029-11-19",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!sg_is_holiday(&lv, D(yes[i])))
            fail_msg("%s should be a holiday", yes[i]);
        assert_false(sg_is_working_day(&lv, D(yes[i])));
        assert_false(sg_is_holiday(&plain, D(yes[i])));
    }
    static const char *const no[] = {"2026-04-02", "2026-04-07", "2026-05-05", "2026-11-19",
                                     "2026-12-30", "2025-05-06", "2023-11-21", "2026-06-22"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (sg_is_holiday(&lv, D(no[i])))
            fail_msg("%s should not be a holiday", no[i]);
    /* one-off holidays a policy adds */
    int64_t extra[] = {D("2026-07-07")};
    const struct sg_calendar withx = {"lv", extra, 1};
    assert_true(sg_is_holiday(&withx, D("2026-07-07")));
    assert_false(sg_is_holiday(&lv, D("2026-07-07")));
    assert_false(sg_is_working_day(&lv, D("2026-07-04"))); /* a Saturday */
    assert_true(sg_calendar_known("lv") && sg_calendar_known("none") && !sg_calendar_known("xx"));
}

static void test_deadlines(void **state)
{
    (void)state;
    static const char *const cases[][5] = {
        /* received, months, paused days, calendar, due */
        {"2026-03-05", "1", "0", "lv", "2026-04-07"},   /* Easter Sunday, then Monday */
        {"2026-03-05", "1", "0", "none", "2026-04-06"}, /* a Sunday only */
        {"2025-08-31", "1", "0", "lv", "2025-09-30"},
        {"2026-01-31", "1", "0", "lv", "2026-03-02"}, /* 28 Feb is a Saturday */
        {"2024-01-31", "1", "0", "lv", "2024-02-29"},
        {"2026-11-17", "1", "0", "lv", "2026-12-17"},
        {"2026-11-24", "1", "0", "lv", "2026-12-28"}, /* 24-26 Dec, then a Sunday */
        {"2026-11-30", "1", "0", "lv", "2026-12-30"},
        {"2026-12-01", "1", "0", "lv", "2027-01-04"},  /* 1 Jan, then a weekend */
        {"2026-04-04", "1", "0", "lv", "2026-05-05"},  /* 4 May is a holiday */
        {"2026-01-05", "1", "10", "lv", "2026-02-16"}, /* paused 10 days: a Sunday */
        {"2026-01-05", "3", "0", "lv", "2026-04-07"},  /* extended: Easter again */
        {"2026-01-05", "3", "10", "lv", "2026-04-15"},
        {"2026-05-23", "1", "0", "lv", "2026-06-25"}, /* 23 Jun (Tue), 24 Jun (Wed) */
    };
    char out[11];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct sg_calendar c = {cases[i][3], NULL, 0};
        sg_day_format(sg_request_deadline(&c, D(cases[i][0]), atoi(cases[i][1]), atoi(cases[i][2])),
                      out);
        if (strcmp(out, cases[i][4]) != 0)
            fail_msg("case %zu: %s + %s months + %s days (%s): %s, wanted %s", i, cases[i][0],
                     cases[i][1], cases[i][2], cases[i][3], out, cases[i][4]);
    }
}

static sg_time T(const char *s)
{
    sg_time t;
    assert_int_equal(sg_time_parse(s, &t, NULL), SG_OK);
    return t;
}

static void test_time_zones(void **state)
{
    (void)state;
    struct sg_tz *riga = NULL, *utc = NULL;
    struct sg_err e;
    assert_int_equal(sg_tz_load("Europe/Riga", &riga, &e), SG_OK);
    assert_int_equal(sg_tz_load("UTC", &utc, &e), SG_OK);
    assert_int_equal(sg_tz_offset(riga, T("2026-01-15T12:00:00Z")), 7200);
    assert_int_equal(sg_tz_offset(riga, T("2026-07-15T12:00:00Z")), 10800);
    /* the changes: last Sunday of March and of October, 01:00 UTC */
    assert_int_equal(sg_tz_offset(riga, T("2026-03-29T00:59:59Z")), 7200);
    assert_int_equal(sg_tz_offset(riga, T("2026-03-29T01:00:00Z")), 10800);
    assert_int_equal(sg_tz_offset(riga, T("2026-10-25T00:59:59Z")), 10800);
    assert_int_equal(sg_tz_offset(riga, T("2026-10-25T01:00:00Z")), 7200);
    /* beyond the table (2037): the zone's rule */
    assert_int_equal(sg_tz_offset(riga, T("2050-07-01T00:00:00Z")), 10800);
    assert_int_equal(sg_tz_offset(riga, T("2050-01-01T00:00:00Z")), 7200);
    assert_int_equal(sg_tz_offset(riga, T("2050-03-27T01:00:00Z")), 10800);
    /* a request at 22:30 UTC on 4 March is received on 5 March in Riga */
    assert_int_equal(sg_tz_day(riga, T("2026-03-04T22:30:00Z")), D("2026-03-05"));
    assert_int_equal(sg_tz_day(utc, T("2026-03-04T22:30:00Z")), D("2026-03-04"));
    assert_int_equal(sg_tz_day(riga, T("2026-07-01T21:30:00Z")), D("2026-07-02"));
    assert_int_equal(sg_tz_day(riga, T("2026-07-01T20:59:59Z")), D("2026-07-01"));
    assert_int_equal(sg_tz_midnight(riga, D("2026-07-02")), T("2026-07-01T21:00:00Z"));
    assert_int_equal(sg_tz_midnight(riga, D("2026-01-02")), T("2026-01-01T22:00:00Z"));
    sg_tz_free(riga);
    sg_tz_free(utc);
    assert_int_equal(sg_tz_load("Europe/Atlantis", &riga, &e), SG_NOTFOUND);
    assert_int_equal(sg_tz_load("../etc/passwd", &riga, &e), SG_INVALID);
    assert_int_equal(sg_tz_load("", &riga, &e), SG_INVALID);
    int64_t d;
    assert_int_equal(sg_day_parse("2026-02-29", &d, &e), SG_INVALID);
    assert_int_equal(sg_day_parse("2026-2-28", &d, &e), SG_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months),           cmocka_unit_test(test_easter),
        cmocka_unit_test(test_latvian_holidays), cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_time_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
