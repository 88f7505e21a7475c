/*
 * test_selfservice.c - people at their own data, with the eTwinning policy:
 * one-time codes sent through the outbox (read back from a maildir), their
 * expiry, single use, the limit on wrong codes and on how often one is sent,
 * silence about addresses not on file; a person's session seeing only their
 * own record and changing only their own consents; requests made in their
 * own account, access answered at once.
 * On SQLite, and on PostgreSQL under SARGS_TEST_PG (see teststore.h).
 */
#include "teststore.h"

#include "sargs/audit.h"
#include "sargs/outbox.h"
#include "sargs/selfservice.h"

#include "../../src/lib/store/store.h"
#include "../../src/lib/vault/vault_int.h"

#include <dirent.h>
#include <sodium.h>

static char dir[64];
static struct sg_clock clk;
static struct sg_vault_opts opts;
static struct sg_policy *etw;
static struct sg_vault *v;
static struct sg_uuid anna, berzs;
static sg_time t0;
static const struct sg_actor op = {"tester", "operator", "administration", NULL, NULL};

static sg_time at(const char *s)
{
    sg_time t;
    assert_int_equal(sg_time_parse(s, &t, NULL), SG_OK);
    return t;
}

static struct sg_uuid person(const char *name, const char *email)
{
    struct sg_field_in f[] = {
        {"name", name, strlen(name)},
        {"email", email, strlen(email)},
        {"country", "LV", 2},
        {"school_role", "teacher", 7},
    };
    struct sg_uuid id;
    struct sg_err e;
    if (sg_subject_add(v, &op, f, 4, NULL, 0, &id, &e) != SG_OK)
        fail_msg("add: %s", e.msg);
    return id;
}

/* What else the policy sends (welcomes, answers) goes elsewhere. */
static void drain(void)
{
    char md[128];
    snprintf(md, sizeof md, "maildir:%s/other", dir);
    struct sg_transport *t;
    struct sg_deliver_report dr;
    struct sg_err e;
    assert_int_equal(sg_transport_open(md, "dpo@example.org", &t, &e), SG_OK);
    assert_int_equal(sg_outbox_deliver(v, &op, t, 100, &dr, &e), SG_OK);
    sg_transport_close(t);
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    t0 = at("2026-03-02T09:00:00Z");
    sg_clock_init_fixed(&clk, t0);
    memset(&opts, 0, sizeof opts);
    opts.dir = dir;
    opts.clock = &clk;
    opts.policy = etw;
    char db[128];
    snprintf(db, sizeof db, "%s/sargs.db", dir);
    ts_setup(db);
    opts.store = ts_vault_store();
    struct sg_err e;
    if (sg_vault_init(&opts, &e) != SG_OK || sg_vault_open(&opts, &v, &e) != SG_OK)
        fail_msg("vault: %s", e.msg);
    anna = person("Anna", "anna@skola.lv");
    berzs = person("Jānis", "janis@skola.lv");
    drain();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sg_vault_close(v);
    ts_teardown();
    tu_rmrf(dir);
    return 0;
}

static int count_one(void *ctx, const struct sg_message_info *m)
{
    (void)m;
    ++*(size_t *)ctx;
    return 0;
}

/* Messages waiting in the outbox. */
static size_t queued(void)
{
    size_t n = 0;
    struct sg_err e;
    assert_int_equal(sg_outbox_list(v, &op, SG_MSG_QUEUED, count_one, &n, &e), SG_OK);
    return n;
}

/*
 * Delivers the outbox to a maildir and reads the code out of the one new
 * message (its body is base64), removing the file; "" when none came.
 */
static void deliver_code(char code[SG_CODE_DIGITS + 1])
{
    char md[128], nd[128];
    snprintf(md, sizeof md, "maildir:%s/mail", dir);
    snprintf(nd, sizeof nd, "%s/mail/new", dir);
    struct sg_transport *t;
    struct sg_deliver_report dr;
    struct sg_err e;
    code[0] = '\0';
    assert_int_equal(sg_transport_open(md, "dpo@example.org", &t, &e), SG_OK);
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    sg_transport_close(t);
    if (!dr.sent)
        return;
    assert_int_equal(dr.sent, 1);
    DIR *d = opendir(nd);
    assert_non_null(d);
    struct dirent *de;
    char path[512] = "";
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            snprintf(path, sizeof path, "%s/%s", nd, de->d_name);
    closedir(d);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char msg[8192];
    size_t n = fread(msg, 1, sizeof msg - 1, f);
    fclose(f);
    unlink(path);
    msg[n] = '\0';
    const char *b64 = strstr(msg, "\r\n\r\n");
    assert_non_null(b64);
    unsigned char body[4096];
    size_t blen = 0;
    assert_int_equal(sodium_base642bin(body, sizeof body - 1, b64 + 4, strlen(b64 + 4), "\r\n",
                                       &blen, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    body[blen] = '\0';
    /* The code: the first run of SG_CODE_DIGITS digits. */
    const char *p = (const char *)body;
    for (; *p; p++) {
        size_t k = 0;
        while (p[k] >= '0' && p[k] <= '9')
            k++;
        if (k == SG_CODE_DIGITS) {
            memcpy(code, p, SG_CODE_DIGITS);
            code[SG_CODE_DIGITS] = '\0';
            return;
        }
        if (k)
            p += k - 1;
    }
    fail_msg("no code in the message");
}

static enum sg_rc sign_in(const char *email, const char *code, char secret[SG_SESSION_MAX],
                          struct sg_uuid *id, struct sg_err *e)
{
    return sg_person_session_open(v, "user.contact.email", email, code, secret, id, e);
}

struct trail {
    const char *code;
    int sent, ok, denied;
};

static int trail_one(void *ctx, const struct sg_audit_entry *e)
{
    struct trail *t = ctx;
    if (!strcmp(e->action, "person.code"))
        t->sent++;
    if (!strcmp(e->action, "person.session"))
        *(!strcmp(e->result, "ok") ? &t->ok : &t->denied) += 1;
    assert_null(strstr(e->object ? e->object : "", t->code));
    assert_null(strstr(e->details && !e->details_sealed ? e->details : "", t->code));
    return 0;
}

static void test_codes(void **state)
{
    (void)state;
    struct sg_err e;
    char code[SG_CODE_DIGITS + 1], secret[SG_SESSION_MAX];
    struct sg_uuid id;

    /* An address not on file: the same answer, and nothing sent. */
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "nobody@skola.lv", &e), SG_OK);
    assert_int_equal(queued(), 0);
    memset(&id, 0xee, sizeof id);
    assert_int_equal(sign_in("nobody@skola.lv", "12345678", secret, &id, &e), SG_DENIED);
    assert_string_equal(e.msg, "wrong or expired code");
    /* ...refused through the decoy row, which is no person's and holds no
     * code, the same row for every unknown address; the refusal names
     * no one. */
    static const struct sg_uuid zero = {{0}};
    assert_memory_equal(&id, &zero, sizeof id);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes c JOIN subjects s "
                              "ON s.id = c.subject"),
                     0);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes WHERE expires <> 0"), 0);
    assert_int_equal(sign_in("someone@skola.lv", "12345678", secret, &id, &e), SG_DENIED);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes"), 1);
    /* No code asked for yet: the same refusal. */
    assert_int_equal(sign_in("anna@skola.lv", "12345678", secret, &id, &e), SG_DENIED);
    assert_string_equal(e.msg, "wrong or expired code");

    /* Looked up as the e-mail category normalises it. */
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "Anna@Skola.LV", &e), SG_OK);
    assert_int_equal(queued(), 1);
    deliver_code(code);
    assert_int_equal(strlen(code), SG_CODE_DIGITS);

    /* At most one a minute: a second ask sends nothing. */
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "anna@skola.lv", &e), SG_OK);
    assert_int_equal(queued(), 0);

    /* A wrong code, a short one, none: refused, counted. */
    char wrong[SG_CODE_DIGITS + 1];
    memcpy(wrong, code, sizeof wrong);
    wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
    assert_int_equal(sign_in("anna@skola.lv", wrong, secret, &id, &e), SG_DENIED);
    assert_string_equal(secret, "");
    assert_int_equal(sign_in("anna@skola.lv", "123", secret, &id, &e), SG_DENIED);
    assert_int_equal(sign_in("anna@skola.lv", NULL, secret, &id, &e), SG_DENIED);

    /* The right one signs Anna in, once. */
    assert_int_equal(sign_in("anna@skola.lv", code, secret, &id, &e), SG_OK);
    assert_memory_equal(id.b, anna.b, 16);
    assert_int_equal(strncmp(secret, "sgp_", 4), 0);
    char again[SG_SESSION_MAX];
    assert_int_equal(sign_in("anna@skola.lv", code, again, &id, &e), SG_DENIED);

    struct sg_uuid who;
    assert_int_equal(sg_person_session_check(v, secret, &who, &e), SG_OK);
    assert_memory_equal(who.b, anna.b, 16);
    /* An operator's session secret, or nonsense, is no person's session. */
    assert_int_equal(sg_person_session_check(v, "sgs_AAAAAAAAAAAAAAAA", &who, &e), SG_DENIED);
    assert_int_equal(sg_person_session_check(v, NULL, &who, &e), SG_DENIED);

    /* Five wrong codes void the code, even the right one after them. */
    sg_clock_init_fixed(&clk, t0 + 2 * 60 * SG_USEC_PER_SEC);
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "janis@skola.lv", &e), SG_OK);
    deliver_code(code);
    memcpy(wrong, code, sizeof wrong);
    wrong[7] = wrong[7] == '9' ? '0' : (char)(wrong[7] + 1);
    for (int i = 0; i < SG_CODE_ATTEMPTS; i++)
        assert_int_equal(sign_in("janis@skola.lv", wrong, secret, &id, &e), SG_DENIED);
    /* ...and the answer is the one an unknown address gets. */
    assert_int_equal(sign_in("janis@skola.lv", code, secret, &id, &e), SG_DENIED);
    assert_string_equal(e.msg, "wrong or expired code");

    /* A new code a minute later; it expires after ten minutes. */
    sg_clock_init_fixed(&clk, t0 + 3 * 60 * SG_USEC_PER_SEC);
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "janis@skola.lv", &e), SG_OK);
    deliver_code(code);
    assert_int_equal(strlen(code), SG_CODE_DIGITS);
    sg_clock_init_fixed(&clk, t0 + 3 * 60 * SG_USEC_PER_SEC + SG_CODE_USEC);
    assert_int_equal(sign_in("janis@skola.lv", code, secret, &id, &e), SG_DENIED);
    assert_string_equal(e.msg, "wrong or expired code");

    /* Only a keyed hash is stored: the code's plain BLAKE2b is not it. */
    struct sg_store_code row;
    struct sg_opmark mark;
    assert_int_equal(sg_op_begin(v, &mark, &e), SG_OK);
    assert_int_equal(v->store->ops->code_lock(v->store, &berzs, &row, &e), SG_OK);
    assert_int_equal(sg_op_end(v, mark, SG_OK, &e), SG_OK);
    assert_int_equal(row.day_sends, 2);
    assert_int_equal(row.day_fails, SG_CODE_ATTEMPTS);
    assert_int_equal(row.attempts, 0); /* the expired code was never tried */

    /* The audit trail has the sends and the sign-ins, never a code. */
    struct trail tr = {code, 0, 0, 0};
    assert_int_equal(sg_audit_log(v, &op, NULL, 0, 0, trail_one, &tr, &e), SG_OK);
    assert_int_equal(tr.sent, 3);
    assert_int_equal(tr.ok, 1);
    assert_int_equal(tr.denied, 3 + SG_CODE_ATTEMPTS); /* Anna 3, Jānis 5 */
    struct sg_audit_report rep;
    assert_int_equal(sg_audit_verify(v, &op, &rep, &e), SG_OK);
    assert_true(rep.ok);
}

/* A day's limits per person: codes sent, and wrong codes across codes. */
static void test_daily_limits(void **state)
{
    (void)state;
    struct sg_err e;
    char code[SG_CODE_DIGITS + 1], secret[SG_SESSION_MAX];
    struct sg_uuid id;
    int sent = 0;
    for (int i = 0; i < SG_CODE_SENDS_PER_DAY + 5; i++) {
        sg_clock_init_fixed(&clk, t0 + (sg_time)i * 2 * 60 * SG_USEC_PER_SEC);
        assert_int_equal(sg_person_code_send(v, "user.contact.email", "anna@skola.lv", &e), SG_OK);
        deliver_code(code);
        if (!code[0])
            continue;
        sent++;
        /* Wrong twice each: the day's wrong codes add up across codes. */
        char wrong[SG_CODE_DIGITS + 1];
        memcpy(wrong, code, sizeof wrong);
        wrong[3] = wrong[3] == '9' ? '0' : (char)(wrong[3] + 1);
        for (int k = 0; k < 2; k++)
            assert_int_equal(sign_in("anna@skola.lv", wrong, secret, &id, &e), SG_DENIED);
    }
    assert_int_equal(sent, SG_CODE_SENDS_PER_DAY);
    struct sg_store_code row;
    struct sg_opmark mark;
    assert_int_equal(sg_op_begin(v, &mark, &e), SG_OK);
    assert_int_equal(v->store->ops->code_lock(v->store, &anna, &row, &e), SG_OK);
    assert_int_equal(sg_op_end(v, mark, SG_OK, &e), SG_OK);
    assert_int_equal(row.day_sends, SG_CODE_SENDS_PER_DAY);
    assert_int_equal(row.day_fails, SG_CODE_FAILS_PER_DAY);
    /* Twenty wrong codes are spent: the right one of the last code is
     * refused as well. */
    assert_int_equal(sign_in("anna@skola.lv", code, secret, &id, &e), SG_DENIED);
    /* A day later it all starts again. */
    sg_clock_init_fixed(&clk, t0 + SG_USEC_PER_DAY + 60 * 60 * SG_USEC_PER_SEC);
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "anna@skola.lv", &e), SG_OK);
    deliver_code(code);
    assert_int_equal(strlen(code), SG_CODE_DIGITS);
    assert_int_equal(sign_in("anna@skola.lv", code, secret, &id, &e), SG_OK);
}

static void test_own_data_only(void **state)
{
    (void)state;
    struct sg_err e;
    char buf[64];
    struct sg_actor me;
    sg_person_actor(&anna, buf, &me);
    assert_string_equal(me.role, SG_ROLE_SELF);

    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &me, &anna, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    /* Someone else's record is not theirs to see, nor the list of people. */
    assert_int_not_equal(sg_subject_get(v, &me, &berzs, 0, &s, &e), SG_OK);
    struct sg_field_in f[] = {{"name", "Anna", 4}, {"email", "x@skola.lv", 10}};
    struct sg_uuid nid;
    assert_int_equal(sg_subject_add(v, &me, f, 2, NULL, 0, &nid, &e), SG_DENIED);
    assert_int_equal(sg_subject_erase(v, &me, &anna, &e), SG_DENIED);
    assert_int_equal(sg_subject_erase(v, &me, &berzs, &e), SG_DENIED);

    /* Their own consents; not someone else's. */
    struct sg_consent_in in = {0};
    in.method = SG_METHOD_WEB_FORM;
    struct sg_consent_subject mine = {&anna, NULL, NULL}, theirs = {&berzs, NULL, NULL};
    assert_int_equal(sg_consent_record(v, &me, &mine, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_OK);
    assert_int_equal(sg_consent_record(v, &me, &theirs, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_DENIED);
    struct sg_decision d;
    assert_int_equal(sg_may(v, &op, &anna, "newsletter", 0, &d, &e), SG_OK);
    assert_true(d.allowed);
    assert_int_equal(sg_consent_record(v, &me, &mine, "newsletter", SG_CONSENT_WITHDRAWN, &in, &e),
                     SG_OK);
    assert_int_equal(sg_may(v, &op, &anna, "newsletter", 0, &d, &e), SG_OK);
    assert_false(d.allowed);

    /* Nothing else of their record is theirs to change here: a change of
     * a value, a group, an event, a restriction or an objection is a
     * request to the controller. */
    struct sg_field_in nf[] = {{"country", "EE", 2}};
    assert_int_equal(sg_subject_update(v, &me, &anna, nf, 1, "moved", NULL, &e), SG_DENIED);
    assert_non_null(strstr(e.msg, "is a request"));
    assert_int_equal(sg_subject_touch(v, &me, &anna, "last_login", t0, &e), SG_DENIED);
    assert_int_equal(sg_subject_join(v, &me, &anna, "twinspace-1", &e), SG_DENIED);
    assert_non_null(strstr(e.msg, "is a request"));
    assert_int_equal(sg_restrict(v, &me, &anna, 0, &e), SG_DENIED);
    assert_int_equal(sg_object(v, &me, &anna, "community", NULL, 0, &e), SG_DENIED);
    /* Nor can they look anyone up or list people. */
    struct sg_uuid found[2];
    size_t nfound = 9;
    enum sg_rc frc = sg_subject_find(v, &me, "email", "janis@skola.lv", 14, found, 2, &nfound, &e);
    assert_true(frc == SG_DENIED || (frc == SG_OK && nfound == 0));

    /* Staff work is not theirs: requests of others, the outbox, the log. */
    size_t n = 0;
    assert_int_equal(sg_outbox_list(v, &me, -1, count_one, &n, &e), SG_DENIED);
}

static int count_req(void *ctx, const struct sg_request_info *r)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

static void test_requests(void **state)
{
    (void)state;
    struct sg_err e;
    struct sg_request_info info;
    struct sg_fulfil_out out;

    /* Access: answered at once, with the package. */
    assert_int_equal(sg_person_request(v, &anna, SG_REQ_ACCESS, &info, &out, &e), SG_OK);
    assert_int_equal(info.state, SG_RS_FULFILLED);
    assert_string_equal(info.identity, "account");
    assert_memory_equal(info.subject.b, anna.b, 16);
    assert_true(out.nfiles >= 1);
    int found = 0;
    for (size_t i = 0; i < out.nfiles; i++)
        if (memmem(out.files[i].data, out.files[i].len, "anna@skola.lv", 13))
            found = 1;
    assert_true(found);
    sg_fulfil_out_release(&out);

    /* Portability: the export, at once. */
    assert_int_equal(sg_person_request(v, &anna, SG_REQ_PORTABILITY, &info, &out, &e), SG_OK);
    assert_int_equal(info.state, SG_RS_FULFILLED);
    assert_true(out.nfiles >= 1);
    sg_fulfil_out_release(&out);

    /* Erasure waits for the controller, identified and on the clock. */
    assert_int_equal(sg_person_request(v, &anna, SG_REQ_ERASURE, &info, &out, &e), SG_OK);
    assert_int_equal(info.state, SG_RS_VERIFIED);
    assert_int_equal(out.nfiles, 0);
    assert_true(info.due > 0);

    /* Theirs, and only theirs. */
    int n = 0;
    assert_int_equal(sg_person_requests(v, &anna, count_req, &n, &e), SG_OK);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(sg_person_requests(v, &berzs, count_req, &n, &e), SG_OK);
    assert_int_equal(n, 0);

    /* Once erased, the session ends. */
    char code[SG_CODE_DIGITS + 1], secret[SG_SESSION_MAX];
    struct sg_uuid id;
    drain();
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "anna@skola.lv", &e), SG_OK);
    deliver_code(code);
    assert_int_equal(sign_in("anna@skola.lv", code, secret, &id, &e), SG_OK);
    assert_int_equal(sg_subject_erase(v, &op, &anna, &e), SG_OK);
    assert_int_equal(sg_person_session_check(v, secret, &id, &e), SG_DENIED);
    /* And nobody can ask a code for the erased address. */
    assert_int_equal(sg_person_code_send(v, "user.contact.email", "anna@skola.lv", &e), SG_OK);
    assert_int_equal(queued(), 0);
}

static int load(void **state)
{
    (void)state;
    etw = tu_policy("examples/etwinning.yaml");
    return 0;
}

static int unload(void **state)
{
    (void)state;
    sg_policy_free(etw);
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    struct sg_err e;
    if (sg_crypto_init(&e) != SG_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        T(test_codes),
        T(test_daily_limits),
        T(test_own_data_only),
        T(test_requests),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
