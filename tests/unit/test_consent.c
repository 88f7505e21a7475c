/*
 * test_consent.c - the consent ledger and decisions: every reason a
 * decision can give, children and guardians, consents before an account,
 * objections, restriction, bad input that changes nothing, and receipts
 * that verify until a byte changes. Policy: tests/data/consent.yaml.
 * On SQLite, and on PostgreSQL under SARGS_TEST_PG (see teststore.h).
 */
#include "teststore.h"

#include "sargs/audit.h"
#include "sargs/consent.h"

#include <sys/wait.h>
#include <unistd.h>

#include "../../src/lib/vault/vault_int.h"

static char dir[64];
static struct sg_clock clk;
static struct sg_vault_opts opts;
static struct sg_policy *policy;
static struct sg_vault *v;
static const struct sg_actor op = {"tester", "operator", "administration", NULL, NULL};
static sg_time t0;

#define F(cat, val)                                                                                \
    {                                                                                              \
        cat, val, sizeof(val) - 1                                                                  \
    }

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    assert_int_equal(sg_time_parse("2026-11-23T10:00:00Z", &t0, NULL), SG_OK);
    sg_clock_init_fixed(&clk, t0);
    memset(&opts, 0, sizeof opts);
    opts.dir = dir;
    opts.clock = &clk;
    opts.policy = policy;
    char db[128];
    snprintf(db, sizeof db, "%s/sargs.db", dir);
    ts_setup(db);
    opts.store = ts_vault_store();
    struct sg_err e;
    if (sg_vault_init(&opts, &e) != SG_OK || sg_vault_open(&opts, &v, &e) != SG_OK)
        fail_msg("vault: %s", e.msg);
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

static struct sg_uuid person(const char *email, const char *born)
{
    struct sg_field_in f[3] = {F("name", "Anna")};
    size_t n = 1;
    if (email)
        f[n++] = (struct sg_field_in){"email", email, strlen(email)};
    if (born)
        f[n++] = (struct sg_field_in){"birth_date", born, strlen(born)};
    struct sg_uuid id;
    struct sg_err e;
    if (sg_subject_add(v, &op, f, n, NULL, 0, &id, &e))
        fail_msg("add: %s", e.msg);
    return id;
}

static enum sg_rc record(const struct sg_uuid *id, const char *purpose, enum sg_consent_state st,
                         const struct sg_uuid *guardian)
{
    struct sg_consent_subject s = {id, NULL, NULL};
    struct sg_consent_in in = {SG_METHOD_WEB_FORM, NULL, "form-1", guardian, NULL, NULL};
    struct sg_err e;
    return sg_consent_record(v, &op, &s, purpose, st, &in, &e);
}

/* The decision's reason, or -1 (allowed and denied are checked against
 * the reason's meaning). */
static enum sg_may_reason may(const struct sg_uuid *id, const char *purpose, unsigned flags)
{
    struct sg_decision d;
    struct sg_err e;
    if (sg_may(v, &op, id, purpose, flags, &d, &e))
        fail_msg("may: %s", e.msg);
    int should = d.reason == SG_MAY_BASIS || d.reason == SG_MAY_CONSENT || d.reason == SG_MAY_VITAL;
    assert_int_equal(d.allowed, should);
    return d.reason;
}

static void test_bases(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    assert_int_equal(may(&a, "service", 0), SG_MAY_BASIS);
    assert_int_equal(may(&a, "accounting", 0), SG_MAY_BASIS);
    assert_int_equal(may(&a, "emergency", 0), SG_MAY_BASIS);
    assert_int_equal(may(&a, "research", 0), SG_MAY_BASIS);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_NO_CONSENT);
    struct sg_decision d;
    struct sg_err e;
    assert_int_equal(sg_may(v, &op, &a, "nothing", 0, &d, &e), SG_INVALID);
    struct sg_uuid nobody;
    sg_uuid_v7(t0, &nobody);
    assert_int_equal(sg_may(v, &op, &nobody, "service", 0, &d, &e), SG_NOTFOUND);
}

static void test_consent_lifecycle(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_REQUESTED, NULL), SG_OK);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_NO_CONSENT);
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_REFUSED, NULL), SG_OK);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_REFUSED);
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    struct sg_decision d;
    struct sg_err e;
    assert_int_equal(sg_may(v, &op, &a, "newsletter", 0, &d, &e), SG_OK);
    assert_int_equal(d.reason, SG_MAY_CONSENT);
    assert_int_equal(d.consent, SG_CONSENT_GIVEN);
    assert_int_equal(d.since, t0);
    assert_true(d.expires > t0); /* P1Y */
    /* Given again while in force: renewed, with a new expiry. */
    sg_clock_init_fixed(&clk, t0 + 10 * SG_USEC_PER_DAY);
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(sg_may(v, &op, &a, "newsletter", 0, &d, &e), SG_OK);
    assert_int_equal(d.consent, SG_CONSENT_RENEWED);
    sg_time exp = d.expires;
    /* ...and it expires. */
    sg_clock_init_fixed(&clk, exp);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_EXPIRED);
    sg_clock_init_fixed(&clk, exp - 1);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_CONSENT);
    /* Withdrawn: effective for the next decision. */
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_WITHDRAWN, NULL), SG_OK);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_WITHDRAWN);
    /* A withdrawal of nothing in force changes nothing. */
    size_t before = 0;
    assert_int_equal(v->store->ops->audit_size(v->store, (uint64_t *)&before, &e), SG_OK);
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_WITHDRAWN, NULL), SG_CONFLICT);
    struct sg_uuid b = person("b@x.lv", "1980-01-01");
    assert_int_equal(v->store->ops->audit_size(v->store, (uint64_t *)&before, &e), SG_OK);
    assert_int_equal(record(&b, "newsletter", SG_CONSENT_WITHDRAWN, NULL), SG_CONFLICT);
    size_t after = 0;
    assert_int_equal(v->store->ops->audit_size(v->store, (uint64_t *)&after, &e), SG_OK);
    assert_int_equal(after, before);
}

static void test_children(void **state)
{
    (void)state;
    struct sg_uuid mum = person("mum@x.lv", "1985-03-03");
    struct sg_uuid kid = person("kid@x.lv", "2016-06-06");   /* 10 */
    struct sg_uuid teen = person("teen@x.lv", "2011-01-01"); /* 15 */
    /* Below 13: the child's own consent does not count without a guardian's. */
    assert_int_equal(record(&kid, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(may(&kid, "newsletter", 0), SG_MAY_CHILD_NO_GUARDIAN);
    assert_int_equal(record(&kid, "newsletter", SG_CONSENT_GIVEN, &mum), SG_OK);
    assert_int_equal(may(&kid, "newsletter", 0), SG_MAY_CONSENT);
    /* A guardian must be an adult on file, and not the child. */
    assert_int_equal(record(&kid, "newsletter", SG_CONSENT_GIVEN, &teen), SG_INVALID);
    assert_int_equal(record(&kid, "newsletter", SG_CONSENT_GIVEN, &kid), SG_INVALID);
    struct sg_uuid undated = person("x@x.lv", NULL);
    assert_int_equal(record(&kid, "newsletter", SG_CONSENT_GIVEN, &undated), SG_INVALID);
    struct sg_uuid ghost;
    sg_uuid_v7(t0, &ghost);
    assert_int_equal(record(&kid, "newsletter", SG_CONSENT_GIVEN, &ghost), SG_NOTFOUND);
    /* At 15, a teenager consents alone. */
    assert_int_equal(record(&teen, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(may(&teen, "newsletter", 0), SG_MAY_CONSENT);
    /* A purpose that refuses minors refuses them, and says so on the record. */
    assert_int_equal(record(&teen, "partners", SG_CONSENT_GIVEN, NULL), SG_DENIED);
    /* (flagged as a minor there since the birth date was recorded) */
    assert_int_equal(may(&teen, "partners", 0), SG_MAY_MINOR);
    assert_int_equal(may(&mum, "partners", 0), SG_MAY_NO_CONSENT);
    /* A declared birth date counts when none is on file. */
    struct sg_consent_subject s = {&undated, NULL, NULL};
    struct sg_consent_in in = {SG_METHOD_WEB_FORM, NULL, NULL, NULL, NULL, "2012-12-12"};
    struct sg_err e;
    assert_int_equal(sg_consent_record(v, &op, &s, "partners", SG_CONSENT_GIVEN, &in, &e),
                     SG_DENIED);
    in.birth_date = "1990-12-12";
    assert_int_equal(sg_consent_record(v, &op, &s, "partners", SG_CONSENT_GIVEN, &in, &e), SG_OK);
    assert_int_equal(may(&undated, "partners", 0), SG_MAY_CONSENT);
    /* Data found later to be a minor's: flagged, and the consent stops. */
    struct sg_field_in born[] = {F("birth_date", "2012-01-01")};
    assert_int_equal(sg_subject_update(v, &op, &undated, born, 1, "corrected", NULL, &e), SG_OK);
    assert_int_equal(may(&undated, "partners", 0), SG_MAY_MINOR);
    struct sg_subject *sub = NULL;
    assert_int_equal(sg_subject_get(v, &op, &undated, 0, &sub, &e), SG_OK);
    int flagged = 0;
    for (size_t i = 0; i < sub->nevents; i++)
        flagged |= strcmp(sub->events[i].name, "minor_found") == 0;
    assert_true(flagged);
    sg_subject_free(sub);
    /* ...and a corrected date lifts the flag. */
    struct sg_field_in adult[] = {F("birth_date", "1990-12-12")};
    assert_int_equal(sg_subject_update(v, &op, &undated, adult, 1, "corrected", NULL, &e), SG_OK);
    assert_int_equal(may(&undated, "partners", 0), SG_MAY_CONSENT);
}

static void test_objection_and_restriction(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    struct sg_err e;
    assert_int_equal(sg_object(v, &op, &a, "fraud", NULL, 0, &e), SG_OK);
    assert_int_equal(may(&a, "fraud", 0), SG_MAY_OBJECTED);
    assert_int_equal(sg_object(v, &op, &a, "fraud", NULL, 0, &e), SG_CONFLICT);
    /* Compelling grounds override an objection... */
    assert_int_equal(sg_object(v, &op, &a, "fraud", "ongoing fraud case 12", 0, &e), SG_OK);
    assert_int_equal(may(&a, "fraud", 0), SG_MAY_BASIS);
    /* ...never one to direct marketing, which stops at once. */
    assert_int_equal(sg_object(v, &op, &a, "offers", NULL, 0, &e), SG_OK);
    assert_int_equal(may(&a, "offers", 0), SG_MAY_DIRECT_MARKETING);
    assert_int_equal(sg_object(v, &op, &a, "offers", "we want to", 0, &e), SG_INVALID);
    assert_int_equal(sg_object(v, &op, &a, "offers", NULL, 1, &e), SG_OK);
    assert_int_equal(may(&a, "offers", 0), SG_MAY_BASIS);
    /* public task: objection applies */
    assert_int_equal(sg_object(v, &op, &a, "research", NULL, 0, &e), SG_OK);
    assert_int_equal(may(&a, "research", 0), SG_MAY_OBJECTED);
    /* not for contract or consent purposes */
    assert_int_equal(sg_object(v, &op, &a, "service", NULL, 0, &e), SG_INVALID);
    assert_int_equal(sg_object(v, &op, &a, "newsletter", NULL, 0, &e), SG_INVALID);
    assert_non_null(strstr(e.msg, "withdraw"));

    /* Restriction: kept, used only with consent or for vital interests. */
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(sg_restrict(v, &op, &a, 0, &e), SG_OK);
    assert_int_equal(sg_restrict(v, &op, &a, 0, &e), SG_CONFLICT);
    assert_int_equal(may(&a, "service", 0), SG_MAY_RESTRICTED);
    assert_int_equal(may(&a, "accounting", 0), SG_MAY_RESTRICTED);
    assert_int_equal(may(&a, "emergency", 0), SG_MAY_VITAL);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_CONSENT);
    assert_int_equal(may(&a, "partners", 0), SG_MAY_RESTRICTED);
    assert_int_equal(sg_restrict(v, &op, &a, 1, &e), SG_OK);
    assert_int_equal(may(&a, "service", 0), SG_MAY_BASIS);
}

static void test_state_and_gpc(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    struct sg_err e;
    assert_int_equal(record(&a, "partners", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(may(&a, "partners", 0), SG_MAY_CONSENT);
    assert_int_equal(may(&a, "partners", SG_MAY_GPC_SIGNAL), SG_MAY_GPC);
    assert_int_equal(may(&a, "newsletter", SG_MAY_GPC_SIGNAL), SG_MAY_NO_CONSENT);
    /* Whether someone consented is not a visitor's business. */
    const struct sg_actor visitor = {"web", "visitor", "newsletter", NULL, NULL};
    const struct sg_actor staff = {"desk", "support", "service", NULL, NULL};
    struct sg_decision d;
    assert_int_equal(sg_may(v, &visitor, &a, "partners", 0, &d, &e), SG_DENIED);
    assert_int_equal(sg_may(v, &staff, &a, "partners", 0, &d, &e), SG_OK);
    assert_true(d.allowed);
    assert_int_equal(v->store->ops->subject_set_state(v->store, &a, SG_STATE_HIDDEN, t0, &e),
                     SG_OK);
    assert_int_equal(may(&a, "partners", 0), SG_MAY_HIDDEN);
    assert_int_equal(may(&a, "accounting", 0), SG_MAY_BASIS);
    assert_int_equal(v->store->ops->subject_set_state(v->store, &a, SG_STATE_ANONYMISED, t0, &e),
                     SG_OK);
    assert_int_equal(may(&a, "accounting", 0), SG_MAY_ANONYMISED);
    struct sg_uuid b = person("b@x.lv", "1980-01-01");
    assert_int_equal(record(&b, "partners", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(sg_subject_erase(v, &op, &b, &e), SG_OK);
    assert_int_equal(may(&b, "accounting", 0), SG_MAY_ERASED);
    /* erasure takes the ledger with it */
    struct sg_store_pstate ps;
    assert_int_equal(v->store->ops->pstate_get(v->store, &b, "partners", &ps, &e), SG_NOTFOUND);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    struct sg_consent_subject s = {&a, NULL, NULL};
    struct sg_consent_in in = {SG_METHOD_PAPER, NULL, NULL, NULL, NULL, NULL};
    struct sg_err e;
    uint64_t before, after;
    assert_int_equal(v->store->ops->audit_size(v->store, &before, &e), SG_OK);
    assert_int_equal(sg_consent_record(v, &op, &s, "nothing", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    assert_int_equal(sg_consent_record(v, &op, &s, "service", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    assert_non_null(strstr(e.msg, "not on consent"));
    in.method = 0;
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    in.method = SG_METHOD_PAPER;
    in.lang = "de";
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    in.lang = NULL;
    in.evidence = "two\nlines";
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    in.evidence = NULL;
    in.birth_date = "2030-01-01";
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    in.birth_date = NULL;
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_EXPIRED, &in, &e),
                     SG_INVALID);
    struct sg_uuid ghost;
    sg_uuid_v7(t0, &ghost);
    s.id = &ghost;
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_NOTFOUND);
    struct sg_consent_subject byname = {NULL, "name", "Anna"};
    assert_int_equal(sg_consent_record(v, &op, &byname, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_INVALID);
    assert_int_equal(v->store->ops->audit_size(v->store, &after, &e), SG_OK);
    assert_int_equal(after, before);
    /* a public role writes nothing, and the attempt is on record */
    const struct sg_actor visitor = {"web", "visitor", "newsletter", NULL, NULL};
    s.id = &a;
    assert_int_equal(sg_consent_record(v, &visitor, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_DENIED);
    assert_int_equal(v->store->ops->audit_size(v->store, &after, &e), SG_OK);
    assert_int_equal(after, before + 1);
}

struct events {
    int n;
    char evidence[64];
};

static int count_event(void *ctx, const struct sg_consent_event *ev)
{
    struct events *x = ctx;
    if (ev->evidence)
        snprintf(x->evidence, sizeof x->evidence, "%s", ev->evidence);
    x->n++;
    return 0;
}

/* Consent recorded against an e-mail before the person exists is theirs
 * once they are added with it. */
static void test_before_account(void **state)
{
    (void)state;
    struct sg_consent_subject s = {NULL, "email", "New@Example.lv"};
    struct sg_consent_in in = {SG_METHOD_WEB_FORM, "en", "signup form 7", NULL, NULL, NULL};
    struct sg_err e;
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e), SG_OK);
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_WITHDRAWN, &in, &e),
                     SG_OK);
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_WITHDRAWN, &in, &e),
                     SG_CONFLICT);
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e), SG_OK);
    struct sg_uuid a = person("new@example.lv", "1980-01-01");
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_CONSENT);
    struct events x = {0, ""};
    assert_int_equal(sg_consent_list(v, &op, &a, count_event, &x, &e), SG_OK);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.evidence, "signup form 7"); /* re-sealed under the person's key */
    /* A value that names one person records against them at once. */
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_WITHDRAWN, &in, &e),
                     SG_OK);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_WITHDRAWN);
    /* Two people with one value: which one is unclear. */
    person("new@example.lv", NULL);
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e),
                     SG_CONFLICT);
}

static void test_receipts(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    struct sg_err e;
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    char key[256], *jws = NULL, *claims = NULL, *doc = NULL;
    assert_int_equal(sg_consent_receipt_key(v, key, sizeof key, &e), SG_OK);
    struct events x = {0, ""};
    assert_int_equal(sg_consent_list(v, &op, &a, count_event, &x, &e), SG_OK);
    assert_int_equal(sg_consent_receipt(v, &op, &a, 1, &jws, &e), SG_OK);
    assert_int_equal(sg_consent_receipt_verify(jws, key, &claims, &e), SG_OK);
    assert_non_null(strstr(claims, "\"consentReceiptID\""));
    assert_non_null(strstr(claims, "KI-CR-v1.1.0"));
    free(claims);
    /* Every single changed byte fails. */
    size_t n = strlen(jws);
    for (size_t i = 0; i < n; i++) {
        char keep = jws[i];
        jws[i] = keep == 'A' ? 'B' : 'A';
        enum sg_rc rc = sg_consent_receipt_verify(jws, key, NULL, &e);
        assert_true(rc == SG_DENIED || rc == SG_INVALID);
        jws[i] = keep;
    }
    assert_int_equal(sg_consent_receipt_verify(jws, key, NULL, &e), SG_OK);
    /* Another vault's key does not verify it. */
    char other[256];
    snprintf(other, sizeof other, "%s", key);
    char *plus = strchr(other, '+');
    plus[1] = plus[1] == 'A' ? 'B' : 'A';
    assert_int_equal(sg_consent_receipt_verify(jws, other, NULL, &e), SG_DENIED);
    assert_int_equal(sg_consent_receipt_verify(jws, "nonsense", NULL, &e), SG_INVALID);
    assert_int_equal(sg_consent_receipt_verify("a.b", key, NULL, &e), SG_INVALID);
    free(jws);
    assert_int_equal(sg_consent_receipt(v, &op, &a, 99, &jws, &e), SG_NOTFOUND);
    /* The export: one record per purpose with its status history. */
    assert_int_equal(sg_consent_export(v, &op, &a, &doc, &e), SG_OK);
    assert_non_null(strstr(doc, "dpv:hasStatusHistory"));
    assert_non_null(strstr(doc, "dpv:ConsentGiven"));
    free(doc);
}

/* In one transaction (a bulk import), a consent recorded for an address
 * after people were added without one is still handed to the person added
 * next with that address. */
static void test_before_account_in_one_transaction(void **state)
{
    (void)state;
    struct sg_err e;
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    struct sg_uuid a = person("first@example.lv", "1980-01-01"); /* none waits yet */
    struct sg_consent_subject s = {NULL, "email", "later@example.lv"};
    struct sg_consent_in in = {SG_METHOD_WEB_FORM, "en", "form", NULL, NULL, NULL};
    assert_int_equal(sg_consent_record(v, &op, &s, "newsletter", SG_CONSENT_GIVEN, &in, &e), SG_OK);
    struct sg_uuid b = person("later@example.lv", "1980-01-01");
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_NO_CONSENT);
    assert_int_equal(may(&b, "newsletter", 0), SG_MAY_CONSENT);
}

/* Decisions in bulk keep a read snapshot across decisions: a withdrawal
 * made by another process (a child with its own vault handle), by another
 * handle of this process and by this handle itself is each seen by the very
 * next decision, and the handle's other calls and writes still work. */
static void test_bulk_decisions(void **state)
{
    (void)state;
    struct sg_uuid a = person("a@x.lv", "1980-01-01");
    struct sg_uuid b = person("b@x.lv", "1980-01-01");
    struct sg_uuid c = person("c@x.lv", "1980-01-01");
    assert_int_equal(record(&a, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(record(&b, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    assert_int_equal(record(&c, "newsletter", SG_CONSENT_GIVEN, NULL), SG_OK);
    sg_may_bulk(v, 1);
    for (int i = 0; i < 100; i++)
        assert_int_equal(may(&a, "newsletter", 0), SG_MAY_CONSENT);
    /* another process withdraws a's consent */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sg_vault *w = NULL;
        struct sg_err e;
        struct sg_consent_subject cs = {&a, NULL, NULL};
        struct sg_consent_in in = {SG_METHOD_EMAIL, NULL, NULL, NULL, NULL, NULL};
        int ok =
            sg_vault_open(&opts, &w, &e) == SG_OK &&
            sg_consent_record(w, &op, &cs, "newsletter", SG_CONSENT_WITHDRAWN, &in, &e) == SG_OK;
        if (w)
            sg_vault_close(w);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_WITHDRAWN);
    /* another handle in this process */
    struct sg_vault *w = NULL;
    struct sg_err e;
    assert_int_equal(sg_vault_open(&opts, &w, &e), SG_OK);
    assert_int_equal(may(&b, "newsletter", 0), SG_MAY_CONSENT);
    struct sg_consent_subject cs = {&b, NULL, NULL};
    struct sg_consent_in in = {SG_METHOD_EMAIL, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(sg_consent_record(w, &op, &cs, "newsletter", SG_CONSENT_WITHDRAWN, &in, &e),
                     SG_OK);
    assert_int_equal(may(&b, "newsletter", 0), SG_MAY_WITHDRAWN);
    sg_vault_close(w);
    /* this handle: a write ends the snapshot, and the next decision sees it */
    assert_int_equal(may(&c, "newsletter", 0), SG_MAY_CONSENT);
    assert_int_equal(record(&c, "newsletter", SG_CONSENT_WITHDRAWN, NULL), SG_OK);
    assert_int_equal(may(&c, "newsletter", 0), SG_MAY_WITHDRAWN);
    /* other reads on the handle see the database as it is */
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &op, &c, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_may_bulk(v, 0);
    assert_int_equal(may(&a, "newsletter", 0), SG_MAY_WITHDRAWN);
}

static int load(void **state)
{
    (void)state;
    policy = tu_policy("consent.yaml");
    return 0;
}

static int unload(void **state)
{
    (void)state;
    sg_policy_free(policy);
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    struct sg_err e;
    if (sg_crypto_init(&e) != SG_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        T(test_bases),          T(test_consent_lifecycle),
        T(test_children),       T(test_objection_and_restriction),
        T(test_state_and_gpc),  T(test_bad_input),
        T(test_before_account), T(test_receipts),
        T(test_bulk_decisions), T(test_before_account_in_one_transaction),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
