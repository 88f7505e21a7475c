/*
 * test_util.c - errors, buffers, clock, UUIDs, UTF-8 and hex.
 */
#include "testutil.h"

#include <sys/wait.h>
#include <unistd.h>

static void test_rc_table(void **state)
{
    (void)state;
    /* The exit codes the issue and the README promise. */
    assert_int_equal(sg_rc_exit_code(SG_OK), 0);
    assert_int_equal(sg_rc_exit_code(SG_USAGE), 2);
    assert_int_equal(sg_rc_exit_code(SG_NOTFOUND), 3);
    assert_int_equal(sg_rc_exit_code(SG_INVALID), 4);
    assert_int_equal(sg_rc_exit_code(SG_TOOBIG), 4);
    assert_int_equal(sg_rc_exit_code(SG_DENIED), 5);
    assert_int_equal(sg_rc_exit_code(SG_CONFLICT), 6);
    assert_int_equal(sg_rc_exit_code(SG_IO), 10);
    assert_int_equal(sg_rc_exit_code(SG_CRYPTO), 10);
    assert_int_equal(sg_rc_exit_code(SG_INTERNAL), 10);
    assert_int_equal(sg_rc_exit_code((enum sg_rc)999), 10);
    assert_int_equal(sg_rc_http_status(SG_NOTFOUND), 404);
    assert_int_equal(sg_rc_http_status(SG_TOOBIG), 413);
    assert_int_equal(sg_rc_http_status(SG_UNAVAILABLE), 503);
    assert_string_equal(sg_rc_name(SG_NOTFOUND), "not_found");
    assert_string_equal(sg_rc_name(SG_TOOBIG), "too_big");
    for (int rc = 0; rc < SG_RC_COUNT; rc++)
        assert_non_null(sg_rc_name((enum sg_rc)rc));
}

static void test_err_prefix(void **state)
{
    (void)state;
    struct sg_err e;
    assert_int_equal(sg_err_set(&e, SG_INVALID, "bad %s", "thing"), SG_INVALID);
    assert_int_equal(sg_err_prefix(&e, "field %d", 3), SG_INVALID);
    assert_string_equal(e.msg, "field 3: bad thing");
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sg_err_set(&e, SG_IO, "%s", big);
    assert_int_equal(strlen(e.msg), SG_ERR_MSG_MAX - 1);
    sg_err_prefix(&e, "p");
    assert_int_equal(strlen(e.msg), SG_ERR_MSG_MAX - 1);
    assert_int_equal(sg_err_set(NULL, SG_IO, "x"), SG_IO);
    sg_err_clear(&e);
    assert_int_equal(e.rc, SG_OK);
    assert_string_equal(e.msg, "");
}

static void test_buf(void **state)
{
    (void)state;
    struct sg_buf b;
    struct sg_err e;
    sg_buf_init(&b, 10);
    assert_int_equal(sg_buf_adds(&b, "hello", &e), SG_OK);
    assert_int_equal(sg_buf_addf(&b, &e, "%d", 1234), SG_OK);
    assert_string_equal(b.ptr, "hello1234");
    assert_int_equal(b.len, 9);
    /* One past the maximum: the buffer frees itself and says so. */
    assert_int_equal(sg_buf_adds(&b, "xy", &e), SG_TOOBIG);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(sg_buf_adds(&b, "0123456789", &e), SG_OK);
    assert_int_equal(sg_buf_add(&b, "", 0, &e), SG_OK);
    size_t len;
    char *p = sg_buf_detach(&b, &len);
    assert_int_equal(len, 10);
    assert_string_equal(p, "0123456789");
    free(p);
    assert_null(b.ptr);
    sg_buf_init(&b, 100);
    assert_int_equal(sg_buf_add_u32be(&b, 0x01020304u, &e), SG_OK);
    assert_int_equal(sg_buf_add_u64be(&b, 0x05060708090a0b0cull, &e), SG_OK);
    tu_assert_hex((const uint8_t *)b.ptr, b.len, "0102030405060708090a0b0c");
    sg_buf_reset(&b);
    assert_int_equal(b.len, 0);
    sg_buf_release(&b);
    sg_buf_release(&b); /* twice is fine */
    sg_buf_init(&b, SIZE_MAX);
    assert_int_equal(sg_buf_add(&b, "x", SIZE_MAX, &e), SG_TOOBIG);
}

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(sg_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sg_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(sg_days_from_civil(1969, 12, 31), -1);
    /* Round trip across four centuries, leap rules included. */
    for (int64_t d = -146097; d < 2 * 146097; d += 17) {
        int y, m, dd;
        sg_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(sg_days_from_civil(y, m, dd), d);
    }
    assert_int_equal(sg_days_in_month(2024, 2), 29);
    assert_int_equal(sg_days_in_month(2023, 2), 28);
    assert_int_equal(sg_days_in_month(1900, 2), 28);
    assert_int_equal(sg_days_in_month(2000, 2), 29);
    assert_int_equal(sg_days_in_month(2026, 4), 30);
    assert_int_equal(sg_days_in_month(2026, 12), 31);
}

static void test_time_parse(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* NULL: must be refused */
    } cases[] = {
        {"2026-11-23T16:50:45Z", "2026-11-23T16:50:45Z"},
        {"2026-11-23t16:50:45z", "2026-11-23T16:50:45Z"},
        {"2026-11-23 16:50:45Z", "2026-11-23T16:50:45Z"},
        {"2026-11-23", "2026-11-23T00:00:00Z"},
        {"2026-11-23T18:50:45+02:00", "2026-11-23T16:50:45Z"},
        {"2026-11-23T00:30:00+02:00", "2026-11-22T22:30:00Z"},
        {"2026-11-23T23:30:00-01:00", "2026-11-24T00:30:00Z"},
        {"2026-11-23T16:50:45.5Z", "2026-11-23T16:50:45.500000Z"},
        {"2026-11-23T16:50:45.123456789Z", "2026-11-23T16:50:45.123456Z"},
        {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},
        {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
        {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
        {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
        {"2023-02-29T12:00:00Z", NULL},
        {"2026-13-01T00:00:00Z", NULL},
        {"2026-00-01", NULL},
        {"2026-04-31", NULL},
        {"2026-11-23T24:00:00Z", NULL},
        {"2026-11-23T16:60:00Z", NULL},
        {"2026-11-23T16:50:60Z", NULL},
        {"2026-11-23T16:50:45", NULL},
        {"2026-11-23T16:50:45+0200", NULL},
        {"2026-11-23T16:50:45.Z", NULL},
        {"2026-11-23T16:50:45.1234567890Z", NULL},
        {"2026-11-23T16:50:45Zjunk", NULL},
        {"0000-01-01", NULL},
        {"26-11-23", NULL},
        {"", NULL},
        {"now", NULL},
        {"2026-1-23", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg_time t = 0;
        struct sg_err e;
        enum sg_rc rc = sg_time_parse(cases[i].in, &t, &e);
        if (!cases[i].out) {
            if (rc != SG_INVALID)
                fail_msg("accepted '%s'", cases[i].in);
            continue;
        }
        if (rc != SG_OK)
            fail_msg("refused '%s': %s", cases[i].in, e.msg);
        char buf[SG_TIME_STR_MAX];
        assert_string_equal(sg_time_format(t, buf), cases[i].out);
    }
    assert_int_equal(sg_time_parse(NULL, &(sg_time){0}, NULL), SG_INVALID);
    char buf[SG_TIME_STR_MAX];
    assert_string_equal(sg_time_format(-1, buf), "1969-12-31T23:59:59.999999Z");
    assert_string_equal(sg_date_format(-1, buf), "1969-12-31");
    assert_string_equal(sg_date_format(0, buf), "1970-01-01");
}

static void test_clock(void **state)
{
    (void)state;
    struct sg_clock c;
    sg_clock_init_fixed(&c, 12345);
    assert_int_equal(sg_clock_now(&c), 12345);
    sg_clock_init_system(&c);
    sg_time a = sg_clock_now(&c);
    assert_true(a > INT64_C(1700000000) * SG_USEC_PER_SEC);
    assert_true(sg_clock_now(NULL) >= a);
}

static void test_uuid(void **state)
{
    (void)state;
    sg_time now;
    assert_int_equal(sg_time_parse("2026-11-23T16:50:45.123Z", &now, NULL), SG_OK);
    struct sg_uuid prev, u;
    char s[SG_UUID_STR_LEN + 1];
    sg_uuid_v7(now, &prev);
    for (int i = 0; i < 10000; i++) {
        sg_uuid_v7(now, &u);
        assert_int_equal(u.b[6] >> 4, 7);         /* version */
        assert_int_equal(u.b[8] & 0xc0, 0x80);    /* variant */
        assert_true(memcmp(prev.b, u.b, 16) < 0); /* ordered, even in one ms */
        prev = u;
    }
    sg_uuid_v7(now, &u);
    /* The counter may have borrowed a few milliseconds, never more. */
    assert_true(sg_uuid_time(&u) >= now / 1000 * 1000);
    assert_true(sg_uuid_time(&u) < now + 10 * 1000);
    sg_uuid_format(&u, s);
    struct sg_uuid back;
    assert_int_equal(sg_uuid_parse(s, &back, NULL), SG_OK);
    assert_true(sg_uuid_equal(&u, &back));
    assert_int_equal(sg_uuid_parse("01890A5D-AC96-774B-BCCE-B302099A8057", &back, NULL), SG_OK);
    assert_string_equal(sg_uuid_format(&back, s), "01890a5d-ac96-774b-bcce-b302099a8057");
    static const char *bad[] = {
        "",
        "01890a5d-ac96-774b-bcce-b302099a805",
        "01890a5d-ac96-774b-bcce-b302099a80577",
        "01890a5dxac96-774b-bcce-b302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a805g",
        "01890a5dac96774bbcceb302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a8057 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sg_uuid_parse(bad[i], &back, NULL), SG_INVALID);
    assert_int_equal(sg_uuid_parse(NULL, &back, NULL), SG_INVALID);
}

/* A child process does not hand out its parent's random bits: ids made
 * on both sides of a fork() at the same time differ in their random part. */
static void test_uuid_after_fork(void **state)
{
    (void)state;
    struct sg_uuid a, b, c;
    sg_uuid_v7(1000, &a); /* fills the pool */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sg_uuid_v7(2000, &c);
        _exit(write(fd[1], c.b, 16) == 16 ? 0 : 1);
    }
    sg_uuid_v7(2000, &b);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(read(fd[0], c.b, 16), 16);
    close(fd[0]);
    close(fd[1]);
    assert_memory_not_equal(b.b + 8, c.b + 8, 8);
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"", 1},
        {"plain", 1},
        {"J\xc4\x81nis B\xc4\x93rzi\xc5\x86\xc5\xa1", 1}, /* Jānis Bērziņš */
        {"\xe2\x82\xac", 1},                              /* € */
        {"\xf0\x9f\x98\x80", 1},                          /* emoji */
        {"\xf4\x8f\xbf\xbf", 1},                          /* U+10FFFF */
        {"\xc0\xaf", 0},                                  /* overlong '/' */
        {"\xe0\x80\xaf", 0},                              /* overlong */
        {"\xf0\x80\x80\xaf", 0},                          /* overlong */
        {"\xed\xa0\x80", 0},                              /* surrogate */
        {"\xf4\x90\x80\x80", 0},                          /* > U+10FFFF */
        {"\xc4", 0},                                      /* truncated */
        {"\xe2\x82", 0},                                  /* truncated */
        {"\x80", 0},                                      /* lone continuation */
        {"\xff", 0},
        {"a\xc4z", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sg_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu", i);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[4] = {0x00, 0xab, 0x10, 0xff}, back[4];
    char h[9];
    assert_string_equal(sg_hex_encode(b, 4, h), "00ab10ff");
    assert_int_equal(sg_hex_decode("00AB10ff", back, 4, NULL), SG_OK);
    assert_memory_equal(b, back, 4);
    assert_int_equal(sg_hex_decode("00ab10f", back, 4, NULL), SG_INVALID);
    assert_int_equal(sg_hex_decode("00ab10fg", back, 4, NULL), SG_INVALID);
    assert_int_equal(sg_hex_decode("00ab10ff00", back, 4, NULL), SG_INVALID);
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rc_table),   cmocka_unit_test(test_err_prefix),
        cmocka_unit_test(test_buf),        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_time_parse), cmocka_unit_test(test_clock),
        cmocka_unit_test(test_uuid),       cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_hex),        cmocka_unit_test(test_uuid_after_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
