/*
 * test_view.c - need-to-know views through the library, with the eTwinning
 * policy (examples/etwinning.yaml, the visibility rules of the source
 * document 001 section 6) as the acceptance test: what each role sees of
 * whom, what it may change, and that every refusal is on the audit record.
 * On SQLite, and on PostgreSQL under SARGS_TEST_PG (see teststore.h).
 */
#include "teststore.h"

#include "sargs/audit.h"

#include "../../src/lib/vault/vault_int.h"

static char dir[64];
static struct sg_clock clk;
static struct sg_vault_opts opts;
static struct sg_policy *policy;
static struct sg_vault *v;
/* a, b: Latvian teachers in group g1; c: an Estonian teacher, no group */
static struct sg_uuid a, b, c;

#define ACT(role, purpose)                                                                         \
    {                                                                                              \
        "tester", role, purpose, NULL, NULL                                                        \
    }
static const struct sg_actor op = ACT("operator", "administration");

#define F(cat, val)                                                                                \
    {                                                                                              \
        cat, val, sizeof(val) - 1                                                                  \
    }

static struct sg_uuid add(const char *email, const char *country, const char *posts)
{
    struct sg_field_in f[] = {
        F("name", "Anna"),
        F("surname", "Ozola"),
        {"email", email, strlen(email)},
        F("school_role", "teacher"),
        F("school_name", "Rīgas 1. vidusskola"),
        F("school_city", "Rīga"),
        F("school_region", "Rīga"),
        {"country", country, strlen(country)},
        F("principal_name", "Pēteris"),
        F("principal_email", "direktors@skola.lv"),
        F("projects", "Cloud atlas"),
        {"group_posts", posts, strlen(posts)},
    };
    struct sg_uuid id;
    struct sg_err e;
    if (sg_subject_add(v, &op, f, sizeof f / sizeof f[0], NULL, 0, &id, &e))
        fail_msg("add: %s", e.msg);
    return id;
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    sg_time t;
    assert_int_equal(sg_time_parse("2026-11-23T10:00:00Z", &t, NULL), SG_OK);
    sg_clock_init_fixed(&clk, t);
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
    a = add("anna@skola.lv", "LV", "post of a");
    b = add("berta@skola.lv", "lv", "post of b");
    c = add("cecilia@kool.ee", "EE", "post of c");
    assert_int_equal(sg_subject_join(v, &op, &a, "g1", &e), SG_OK);
    assert_int_equal(sg_subject_join(v, &op, &b, "g1", &e), SG_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sg_vault_close(v);
    v = NULL;
    ts_teardown();
    tu_rmrf(dir);
    return 0;
}

static int has(const struct sg_subject *s, const char *cat)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].category, cat) == 0)
            return 1;
    return 0;
}

static struct sg_subject *get_as(const struct sg_actor *who, const struct sg_uuid *id,
                                 enum sg_rc want)
{
    struct sg_subject *s = NULL;
    struct sg_err e;
    enum sg_rc rc = sg_subject_get(v, who, id, SG_GET_HISTORY, &s, &e);
    if (rc != want)
        fail_msg("get as %s: %d (%s), wanted %d", who->role, rc, rc ? e.msg : "ok", want);
    return s;
}

struct last {
    char action[64], result[16], role[64];
    size_t n, denied;
};

static int see_entry(void *ctx, const struct sg_audit_entry *en)
{
    struct last *l = ctx;
    snprintf(l->action, sizeof l->action, "%s", en->action);
    snprintf(l->result, sizeof l->result, "%s", en->result);
    snprintf(l->role, sizeof l->role, "%s", en->role);
    l->n++;
    l->denied += strcmp(en->result, "denied") == 0;
    return 0;
}

static struct last audit_tail(void)
{
    struct last l;
    struct sg_err e;
    memset(&l, 0, sizeof l);
    assert_int_equal(sg_audit_log(v, &op, NULL, 0, 0, see_entry, &l, &e), SG_OK);
    return l;
}

/* The operator sees every field, events and groups. */
static void test_operator(void **state)
{
    (void)state;
    struct sg_subject *s = get_as(&op, &a, SG_OK);
    assert_int_equal(s->nfields, 12);
    assert_true(s->nevents >= 1);
    assert_int_equal(s->ngroups, 1);
    assert_string_equal(s->groups[0], "g1");
    sg_subject_free(s);
}

/* "registered users can see ... the full set except the e-mail address and
 * the principal's data"; group content only in their groups. */
static void test_registered_user(void **state)
{
    (void)state;
    struct sg_actor u = ACT("registered_user", "community");
    u.self = &b;
    struct sg_subject *s = get_as(&u, &a, SG_OK);
    assert_false(has(s, "user.contact.email"));
    assert_false(has(s, "user.school.principal.name"));
    assert_false(has(s, "user.school.principal.email"));
    assert_true(has(s, "user.name.first"));
    assert_true(has(s, "user.activity.projects"));
    assert_true(has(s, "user.content.group_posts")); /* b shares g1 with a */
    assert_int_equal(s->nevents, 0);                 /* no usage data of others */
    assert_int_equal(s->ngroups, 0);
    sg_subject_free(s);
    /* c is in no group with a: no group content */
    u.self = &c;
    s = get_as(&u, &a, SG_OK);
    assert_false(has(s, "user.content.group_posts"));
    assert_true(has(s, "user.name.first"));
    sg_subject_free(s);
    /* nobody named: no group content either */
    u.self = NULL;
    s = get_as(&u, &a, SG_OK);
    assert_false(has(s, "user.content.group_posts"));
    sg_subject_free(s);
    /* the person's own record: events and groups too */
    u.self = &a;
    s = get_as(&u, &a, SG_OK);
    assert_true(has(s, "user.content.group_posts"));
    assert_true(s->nevents >= 1);
    assert_int_equal(s->ngroups, 1);
    sg_subject_free(s);
    /* a look-up by e-mail would tell whether an address is registered */
    struct sg_uuid ids[4];
    size_t n = 9;
    struct sg_err e;
    assert_int_equal(sg_subject_find(v, &u, "email", "anna@skola.lv", 13, ids, 4, &n, &e),
                     SG_DENIED);
    assert_int_equal(n, 9);
    struct last l = audit_tail();
    assert_string_equal(l.action, "subject.find");
    assert_string_equal(l.result, "denied");
}

/* "Publicly: name, surname, school (official name, city, region, country)
 * and project data." */
static void test_public(void **state)
{
    (void)state;
    const struct sg_actor p = ACT("public", "community");
    struct sg_subject *s = get_as(&p, &a, SG_OK);
    static const char *const want[] = {
        "user.name.first",    "user.name.last",      "user.school.name",      "user.school.city",
        "user.school.region", "user.school.country", "user.activity.projects"};
    assert_int_equal(s->nfields, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(has(s, want[i]));
    assert_int_equal(s->nevents, 0);
    assert_null(s->history);
    sg_subject_free(s);
    /* and never writes */
    struct sg_field_in f[] = {F("name", "Ieva")};
    struct sg_err e;
    size_t before = audit_tail().denied;
    assert_int_equal(sg_subject_update(v, &p, &a, f, 1, "public edit", NULL, &e), SG_DENIED);
    assert_int_equal(sg_subject_add(v, &p, f, 1, NULL, 0, NULL, &e), SG_DENIED);
    assert_int_equal(sg_subject_erase(v, &p, &a, &e), SG_DENIED);
    assert_int_equal(sg_subject_touch(v, &p, &a, "last_login", 5, &e), SG_DENIED);
    assert_int_equal(sg_subject_join(v, &p, &a, "g2", &e), SG_DENIED);
    assert_int_equal(audit_tail().denied, before + 5);
    s = get_as(&op, &a, SG_OK);
    assert_int_equal(s->ngroups, 1);
    sg_subject_free(s);
}

/* "National organisations: data of the registered users of their country." */
static void test_national_organisation(void **state)
{
    (void)state;
    struct sg_actor n = ACT("nso", "national-verification");
    n.scope = "lv"; /* normalised like the field: LV */
    struct sg_subject *s = get_as(&n, &a, SG_OK);
    assert_true(has(s, "user.contact.email"));
    assert_false(has(s, "user.content.group_posts"));
    sg_subject_free(s);
    sg_subject_free(get_as(&n, &b, SG_OK)); /* given as "lv", stored as LV */
    size_t before = audit_tail().denied;
    assert_null(get_as(&n, &c, SG_DENIED));
    struct last l = audit_tail();
    assert_int_equal(l.denied, before + 1);
    assert_string_equal(l.action, "subject.read");
    assert_string_equal(l.role, "nso");

    /* Lists and look-ups show only its people. */
    struct sg_uuid ids[4];
    size_t cnt = 0;
    struct sg_err e;
    assert_int_equal(sg_subject_find(v, &n, "email", "cecilia@kool.ee", 15, ids, 4, &cnt, &e),
                     SG_OK);
    assert_int_equal(cnt, 0);
    assert_int_equal(sg_subject_find(v, &n, "email", "ANNA@skola.lv", 13, ids, 4, &cnt, &e), SG_OK);
    assert_int_equal(cnt, 1);
    assert_true(sg_uuid_equal(&ids[0], &a));

    /* Writes stay in its country. */
    struct sg_field_in ee[] = {F("name", "Mari"), F("country", "EE")};
    struct sg_field_in lv[] = {F("name", "Mārīte"), F("country", "LV")};
    struct sg_field_in none[] = {F("name", "Nobody")};
    struct sg_uuid id;
    assert_int_equal(sg_subject_add(v, &n, ee, 2, NULL, 0, &id, &e), SG_DENIED);
    assert_int_equal(sg_subject_add(v, &n, none, 1, NULL, 0, &id, &e), SG_DENIED);
    assert_int_equal(sg_subject_add(v, &n, lv, 2, NULL, 0, &id, &e), SG_OK);
    assert_int_equal(sg_subject_update(v, &n, &id, ee + 1, 1, "moved", NULL, &e), SG_DENIED);
    assert_int_equal(sg_subject_update(v, &n, &c, lv, 1, "rename", NULL, &e), SG_DENIED);
    size_t changed = 0;
    assert_int_equal(sg_subject_update(v, &n, &id, lv, 1, "spelling", &changed, &e), SG_OK);
    /* It does not see group posts, so it may not erase (that destroys them). */
    assert_int_equal(sg_subject_erase(v, &n, &id, &e), SG_DENIED);

    /* Without a scope it sees nobody. */
    struct sg_actor bare = ACT("nso", "national-verification");
    assert_null(get_as(&bare, &a, SG_DENIED));
    /* ...unless acting as a person, whose own country counts. */
    bare.self = &c;
    sg_subject_free(get_as(&bare, &c, SG_OK));
    assert_null(get_as(&bare, &a, SG_DENIED));
}

struct rows {
    struct sg_uuid ids[64];
    size_t n;
};

static int see_row(void *ctx, const struct sg_subject_row *r)
{
    struct rows *x = ctx;
    if (x->n < 64)
        x->ids[x->n++] = r->id;
    return 0;
}

static void test_list_paging(void **state)
{
    (void)state;
    struct sg_err e;
    /* 20 more Estonians between the Latvians: a page of 2 Latvians must
     * skip them, and say when it stopped early. */
    for (int i = 0; i < 20; i++) {
        char email[32];
        snprintf(email, sizeof email, "p%d@kool.ee", i);
        add(email, "EE", "x");
    }
    struct sg_uuid d = add("dace@skola.lv", "LV", "x");
    struct sg_actor n = ACT("nso", "national-verification");
    n.scope = "LV";
    struct rows r = {0};
    struct sg_uuid next;
    int more = 0;
    assert_int_equal(sg_subject_list(v, &n, NULL, 2, see_row, &r, &next, &more, &e), SG_OK);
    assert_int_equal(r.n, 2);
    assert_true(sg_uuid_equal(&r.ids[0], &a) && sg_uuid_equal(&r.ids[1], &b));
    assert_true(more);
    /* The next call examines at most 20 people: it may end early with a
     * cursor; following cursors finds d and then the end. */
    r.n = 0;
    for (int guard = 0; more && guard < 10; guard++) {
        struct sg_uuid after = next;
        assert_int_equal(sg_subject_list(v, &n, &after, 2, see_row, &r, &next, &more, &e), SG_OK);
    }
    assert_false(more);
    assert_int_equal(r.n, 1);
    assert_true(sg_uuid_equal(&r.ids[0], &d));
    /* The operator's pages are plain. */
    r.n = 0;
    assert_int_equal(sg_subject_list(v, &op, NULL, 100, see_row, &r, &next, &more, &e), SG_OK);
    assert_int_equal(r.n, 24);
    assert_false(more);
}

/* Central support sees everything, hidden profiles too; others do not. */
static void test_hidden(void **state)
{
    (void)state;
    struct sg_err e;
    assert_int_equal(v->store->ops->subject_set_state(v->store, &a, SG_STATE_HIDDEN, 1, &e), SG_OK);
    const struct sg_actor cs = ACT("central_support", "community");
    struct sg_subject *s = get_as(&cs, &a, SG_OK);
    assert_int_equal(s->nfields, 12);
    assert_int_equal(s->state, SG_STATE_HIDDEN);
    sg_subject_free(s);
    struct sg_actor u = ACT("registered_user", "community");
    u.self = &b;
    size_t before = audit_tail().denied;
    assert_null(get_as(&u, &a, SG_NOTFOUND));
    assert_int_equal(audit_tail().denied, before + 1);
    /* ...but the person sees themself */
    u.self = &a;
    sg_subject_free(get_as(&u, &a, SG_OK));
    /* and central support may erase */
    assert_int_equal(sg_subject_erase(v, &cs, &a, &e), SG_OK);
}

static void test_unknown_role_or_purpose(void **state)
{
    (void)state;
    const struct sg_actor r = ACT("janitor", "community");
    const struct sg_actor p = ACT("public", "marketing");
    size_t before = audit_tail().denied;
    assert_null(get_as(&r, &a, SG_DENIED));
    assert_null(get_as(&p, &a, SG_DENIED));
    assert_int_equal(audit_tail().denied, before + 2);
    /* the audit log is staff's */
    struct last l;
    struct sg_err e;
    const struct sg_actor u = ACT("registered_user", "community");
    assert_int_equal(sg_audit_log(v, &u, NULL, 0, 0, see_entry, &l, &e), SG_DENIED);
    const struct sg_actor ea = ACT("eacea", "monitoring");
    memset(&l, 0, sizeof l);
    assert_int_equal(sg_audit_log(v, &ea, NULL, 0, 0, see_entry, &l, &e), SG_OK);
    assert_true(l.n > 0);
}

/* A registered user writes only their own record, and only what the role
 * sees of it. */
static void test_user_writes(void **state)
{
    (void)state;
    struct sg_err e;
    struct sg_actor u = ACT("registered_user", "community");
    u.self = &a;
    struct sg_field_in desc[] = {F("description", "I teach physics")};
    struct sg_field_in mail[] = {F("email", "new@skola.lv")};
    assert_int_equal(sg_subject_update(v, &u, &a, desc, 1, "my profile", NULL, &e), SG_OK);
    assert_int_equal(sg_subject_update(v, &u, &b, desc, 1, "not mine", NULL, &e), SG_DENIED);
    assert_int_equal(sg_subject_update(v, &u, &a, mail, 1, "hidden field", NULL, &e), SG_DENIED);
    assert_int_equal(sg_subject_erase(v, &u, &a, &e), SG_DENIED);
    assert_int_equal(sg_subject_join(v, &u, &a, "g2", &e), SG_OK);
    assert_int_equal(sg_subject_leave(v, &u, &a, "g2", &e), SG_OK);
    assert_int_equal(sg_subject_leave(v, &u, &a, "g2", &e), SG_NOTFOUND);
    assert_int_equal(sg_subject_join(v, &op, &a, "bad group!", &e), SG_INVALID);
    /* erasure takes the memberships with it */
    assert_int_equal(sg_subject_erase(v, &op, &b, &e), SG_OK);
    int shared = 1;
    assert_int_equal(v->store->ops->member_shared(v->store, &a, &b, &shared, &e), SG_OK);
    assert_false(shared);
}

static int load(void **state)
{
    (void)state;
    policy = tu_policy("examples/etwinning.yaml");
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
        T(test_operator),
        T(test_registered_user),
        T(test_public),
        T(test_national_organisation),
        T(test_list_paging),
        T(test_hidden),
        T(test_unknown_role_or_purpose),
        T(test_user_writes),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
