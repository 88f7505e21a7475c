/*
 * test_retention.c - the sweeper and the outbox over years of simulated
 * time, with the eTwinning policy (hidden after a year without signing in,
 * with a notice; a last reminder; anonymised at three years, statistics
 * kept) and a small policy for value-level deletion: acting once, resuming
 * after a crash, dry runs, reactivation, restrictions, delivery to a
 * maildir with retries, and erasure taking undelivered messages with it;
 * two nodes sweeping and delivering at once, each action and message once.
 * On SQLite, and on PostgreSQL under SARGS_TEST_PG (see teststore.h).
 */
#include "teststore.h"

#include "sargs/audit.h"
#include "sargs/outbox.h"
#include "sargs/retention.h"

#include <dirent.h>
#include <pthread.h>

#include "../../src/lib/outbox/outbox_int.h"
#include "../../src/lib/vault/vault_int.h"

static char dir[64];
static struct sg_clock clk;
static struct sg_vault_opts opts;
static struct sg_policy *etw, *small;
static struct sg_vault *v;
static const struct sg_actor op = {"tester", "operator", "administration", NULL, NULL};

#define F(cat, val)                                                                                \
    {                                                                                              \
        cat, val, sizeof(val) - 1                                                                  \
    }

static sg_time at(const char *s)
{
    sg_time t;
    assert_int_equal(sg_time_parse(s, &t, NULL), SG_OK);
    return t;
}

static void open_with(struct sg_policy *p)
{
    tu_mkdtemp(dir);
    sg_clock_init_fixed(&clk, at("2026-01-01T00:00:00Z"));
    memset(&opts, 0, sizeof opts);
    opts.dir = dir;
    opts.clock = &clk;
    opts.policy = p;
    char db[128];
    snprintf(db, sizeof db, "%s/sargs.db", dir);
    ts_setup(db);
    opts.store = ts_vault_store();
    struct sg_err e;
    if (sg_vault_init(&opts, &e) != SG_OK || sg_vault_open(&opts, &v, &e) != SG_OK)
        fail_msg("vault: %s", e.msg);
}

static int setup(void **state)
{
    (void)state;
    open_with(etw);
    return 0;
}

static int setup_small(void **state)
{
    (void)state;
    open_with(small);
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

static struct sg_uuid teacher(const char *email, const char *country, const char *last_login)
{
    struct sg_field_in f[] = {
        F("name", "Anna"),
        {"email", email, strlen(email)},
        {"country", country, strlen(country)},
        F("school_role", "teacher"),
    };
    struct sg_event_in ev[] = {{"last_login", last_login ? at(last_login) : 0}};
    struct sg_uuid id;
    struct sg_err e;
    if (sg_subject_add(v, &op, f, 4, ev, last_login ? 1 : 0, &id, &e))
        fail_msg("add: %s", e.msg);
    return id;
}

static struct sg_sweep_report sweep_at(const char *when)
{
    sg_clock_init_fixed(&clk, at(when));
    struct sg_sweep_report r;
    struct sg_err e;
    if (sg_sweep(v, &op, 0, NULL, NULL, NULL, &r, &e))
        fail_msg("sweep: %s", e.msg);
    return r;
}

static int state_of(const struct sg_uuid *id)
{
    struct sg_store_subject row;
    struct sg_err e;
    assert_int_equal(v->store->ops->subject_get(v->store, id, &row, NULL, &e), SG_OK);
    return row.state;
}

struct count {
    size_t n[4];
    char kinds[8][64];
    size_t nk;
};

static int count_msg(void *ctx, const struct sg_message_info *m)
{
    struct count *c = ctx;
    c->n[m->state]++;
    if (c->nk < 8)
        snprintf(c->kinds[c->nk++], 64, "%s", m->kind);
    return 0;
}

static struct count messages(void)
{
    struct count c;
    struct sg_err e;
    memset(&c, 0, sizeof c);
    assert_int_equal(sg_outbox_list(v, &op, -1, count_msg, &c, &e), SG_OK);
    return c;
}

static size_t files_in(const char *d)
{
    DIR *dd = opendir(d);
    size_t n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)))
        n += e->d_name[0] != '.';
    if (dd)
        closedir(dd);
    return n;
}

/* eTwinning: a year without signing in hides the profile and tells the
 * person; the last reminder comes; three years anonymise; statistics stay. */
static void test_etwinning_years(void **state)
{
    (void)state;
    struct sg_uuid a = teacher("anna@skola.lv", "LV", "2026-01-01T00:00:00Z");
    struct sg_uuid b = teacher("berta@skola.lv", "EE", "2026-06-01T00:00:00Z");
    struct sg_uuid c = teacher("cilda@skola.lv", "LV", NULL); /* never signed in */

    struct sg_sweep_report r = sweep_at("2026-12-31T23:59:59Z");
    assert_int_equal(r.evaluated, 3);
    assert_int_equal(r.acted, 0);
    assert_int_equal(r.skipped_no_anchor, 4); /* c lacks last_login for 4 rules */

    r = sweep_at("2027-01-01T00:00:00Z");
    assert_int_equal(r.hidden, 1);
    assert_int_equal(r.notified, 1);
    assert_int_equal(state_of(&a), SG_STATE_HIDDEN);
    assert_int_equal(state_of(&b), SG_STATE_ACTIVE);
    assert_int_equal(state_of(&c), SG_STATE_ACTIVE);
    struct count m = messages();
    assert_int_equal(m.n[SG_MSG_QUEUED], 1);
    assert_string_equal(m.kinds[0], "profile-deactivated");

    /* Run again: nothing happens twice. */
    r = sweep_at("2027-01-02T00:00:00Z");
    assert_int_equal(r.acted, 0);
    assert_int_equal(messages().n[SG_MSG_QUEUED], 1);

    /* Delivered to a maildir; the message carries the footer. */
    char md[128];
    snprintf(md, sizeof md, "maildir:%s/mail", dir);
    struct sg_transport *t;
    struct sg_err e;
    assert_int_equal(sg_transport_open(md, "dpo@example.org", &t, &e), SG_OK);
    struct sg_deliver_report dr;
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    assert_int_equal(dr.sent, 1);
    char nd[128];
    snprintf(nd, sizeof nd, "%s/mail/new", dir);
    assert_int_equal(files_in(nd), 1);
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    assert_int_equal(dr.sent, 0);
    assert_int_equal(messages().n[SG_MSG_SENT], 1);

    /* b signs in again months after being hidden: the profile comes back. */
    r = sweep_at("2027-06-02T00:00:00Z");
    assert_int_equal(state_of(&b), SG_STATE_HIDDEN);
    assert_int_equal(sg_subject_touch(v, &op, &b, "last_login", at("2027-07-01T00:00:00Z"), &e),
                     SG_OK);
    assert_int_equal(state_of(&b), SG_STATE_ACTIVE);

    /* a: the last reminder a month before three years (and b, a year after
     * signing in again, is hidden and told a second time), then anonymised. */
    r = sweep_at("2028-12-01T00:00:00Z");
    assert_int_equal(r.notified, 2);
    assert_int_equal(r.hidden, 1);
    assert_int_equal(state_of(&b), SG_STATE_HIDDEN);
    r = sweep_at("2029-01-01T00:00:00Z");
    assert_int_equal(r.anonymised, 1);
    assert_int_equal(state_of(&a), SG_STATE_ANONYMISED);
    struct sg_uuid ids[4];
    size_t n = 9;
    assert_int_equal(sg_subject_find(v, &op, "email", "anna@skola.lv", 13, ids, 4, &n, &e), SG_OK);
    assert_int_equal(n, 0); /* no look-up finds an anonymised person */
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    /* b's two notices; a's undelivered reminder went with a's data */
    assert_int_equal(dr.sent, 2);
    struct count mm = messages();
    assert_int_equal(mm.n[SG_MSG_SENT], 2);
    assert_int_equal(mm.nk, 2);
    sg_transport_close(t);
    assert_int_equal(sg_audit_verify(v, &op, &(struct sg_audit_report){0}, &e), SG_OK);
}

struct stat_seen {
    int person, teacher, lv;
};

static int see_stat(void *ctx, const char *cat, const char *val, int year, uint64_t count)
{
    struct stat_seen *s = ctx;
    assert_int_equal(year, 2026);
    if (!strcmp(cat, "person") && !strcmp(val, "anonymised"))
        s->person += (int)count;
    if (!strcmp(cat, "user.job.school_role") && !strcmp(val, "teacher"))
        s->teacher += (int)count;
    if (!strcmp(cat, "user.school.country") && !strcmp(val, "LV"))
        s->lv += (int)count;
    return 0;
}

static void test_anonymised_statistics(void **state)
{
    (void)state;
    teacher("a@skola.lv", "LV", "2026-01-01T00:00:00Z");
    teacher("b@skola.lv", "LV", "2026-01-01T00:00:00Z");
    teacher("c@skola.lv", "EE", "2026-03-01T00:00:00Z");
    struct sg_err e;
    char bak[128];
    snprintf(bak, sizeof bak, "%s/old.db", dir);
    assert_int_equal(sg_vault_backup(v, &op, bak, &e), SG_OK);
    struct sg_sweep_report r = sweep_at("2029-06-01T00:00:00Z");
    assert_int_equal(r.anonymised, 3);
    /* a notice is never sent after the data it needs is gone: the
     * reminders of that same sweep went first */
    assert_int_equal(r.notified, 6);
    struct stat_seen s = {0, 0, 0};
    assert_int_equal(sg_statistics(v, &op, see_stat, &s, &e), SG_OK);
    assert_int_equal(s.person, 3);
    assert_int_equal(s.teacher, 3);
    assert_int_equal(s.lv, 2);
    /* A restore of the backup taken before does not bring them back (the
     * anonymisations are journaled like erasures), and the statistics
     * stay. */
    sg_vault_close(v);
    v = NULL;
    struct sg_restore_report rr;
    assert_int_equal(sg_vault_restore(&opts, &op, bak, &rr, &e), SG_OK);
    if (sg_vault_open(&opts, &v, &e) != SG_OK)
        fail_msg("reopen: %s", e.msg);
    struct sg_uuid found[4];
    size_t n = 9;
    assert_int_equal(sg_subject_find(v, &op, "email", "a@skola.lv", 10, found, 4, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sg_subject_find(v, &op, "email", "c@skola.lv", 10, found, 4, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    struct stat_seen s2 = {0, 0, 0};
    assert_int_equal(sg_statistics(v, &op, see_stat, &s2, &e), SG_OK);
    assert_int_equal(s2.person, 3);
    assert_int_equal(s2.lv, 2);
}

/* A sweep stopped halfway (a crash) is finished by the next, nothing twice. */
static int stop_after(void *ctx, const struct sg_sweep_action *a)
{
    int *left = ctx;
    (void)a;
    return --*left <= 0;
}

static void test_resume_and_dry_run(void **state)
{
    (void)state;
    for (int i = 0; i < 1500; i++) {
        char email[64];
        snprintf(email, sizeof email, "t%d@skola.lv", i);
        teacher(email, "LV", "2026-01-01T00:00:00Z");
    }
    sg_clock_init_fixed(&clk, at("2027-02-01T00:00:00Z"));
    struct sg_sweep_report r;
    struct sg_err e;
    uint64_t before, after;
    assert_int_equal(v->store->ops->audit_size(v->store, &before, &e), SG_OK);
    assert_int_equal(sg_sweep(v, &op, SG_SWEEP_DRY_RUN, NULL, NULL, NULL, &r, &e), SG_OK);
    assert_int_equal(r.acted, 1500);
    assert_int_equal(v->store->ops->audit_size(v->store, &after, &e), SG_OK);
    assert_int_equal(after, before); /* a dry run writes nothing */
    assert_int_equal(messages().n[SG_MSG_QUEUED], 0);

    int left = 10; /* stopped after 10 actions: 5 people, two actions each */
    assert_int_equal(sg_sweep(v, &op, 0, stop_after, NULL, &left, &r, &e), SG_OK);
    assert_int_equal(r.hidden, 5);
    assert_int_equal(r.notified, 5);
    r = sweep_at("2027-02-01T00:00:01Z");
    assert_int_equal(r.hidden, 1495);
    assert_int_equal(r.notified, 1495);
    assert_int_equal(messages().n[SG_MSG_QUEUED], 1500);
    r = sweep_at("2027-02-01T00:00:02Z");
    assert_int_equal(r.acted, 0);
}

/* A person who asked for restriction is left alone but for notices. */
static void test_restriction_holds(void **state)
{
    (void)state;
    struct sg_uuid a = teacher("a@skola.lv", "LV", "2026-01-01T00:00:00Z");
    struct sg_err e;
    assert_int_equal(sg_restrict(v, &op, &a, 0, &e), SG_OK);
    struct sg_sweep_report r = sweep_at("2030-01-01T00:00:00Z");
    assert_int_equal(r.anonymised + r.hidden, 0);
    assert_int_equal(state_of(&a), SG_STATE_RESTRICTED);
    assert_int_equal(r.notified, 2);
}

/* Erasure takes undelivered messages with it; a failing transport retries
 * with backoff and keeps the reason. */
static void test_outbox_faults(void **state)
{
    (void)state;
    struct sg_uuid a = teacher("a@skola.lv", "LV", "2026-01-01T00:00:00Z");
    struct sg_uuid b = teacher("b@skola.lv", "LV", "2026-01-01T00:00:00Z");
    sweep_at("2027-01-02T00:00:00Z");
    assert_int_equal(messages().n[SG_MSG_QUEUED], 2);
    struct sg_err e;
    assert_int_equal(sg_subject_erase(v, &op, &a, &e), SG_OK);
    assert_int_equal(messages().n[SG_MSG_QUEUED], 1);
    /* a maildir that cannot be written */
    char md[160], bad[128];
    snprintf(bad, sizeof bad, "%s/ro", dir);
    snprintf(md, sizeof md, "maildir:%s", bad);
    struct sg_transport *t;
    assert_int_equal(sg_transport_open(md, "dpo@example.org", &t, &e), SG_OK);
    char nw[160];
    snprintf(nw, sizeof nw, "%s/tmp", bad);
    tu_rmrf(nw); /* delivery needs tmp/ */
    struct sg_deliver_report dr;
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    assert_int_equal(dr.retried, 1);
    struct count m = messages();
    assert_int_equal(m.n[SG_MSG_QUEUED], 1);
    /* not due again before the backoff */
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    assert_int_equal(dr.retried + dr.sent, 0);
    sg_transport_close(t);
    (void)b;
    /* bad transports */
    assert_int_equal(sg_transport_open("ftp://x", "dpo@example.org", &t, &e), SG_INVALID);
    assert_int_equal(sg_transport_open("smtp://u:p@host", "dpo@example.org", &t, &e), SG_INVALID);
    assert_int_equal(sg_transport_open("maildir:/tmp/x", "not an address", &t, &e), SG_INVALID);
    /* a role that is not staff may not see the outbox */
    const struct sg_actor user = {"u", "registered_user", "community", NULL, NULL};
    struct count c;
    assert_int_equal(sg_outbox_list(v, &user, -1, count_msg, &c, &e), SG_DENIED);
}

/* A message sealed apart from the person's key (an Art. 19 notice, the
 * answer to an erasure) opens after a key rotation; one whose content was
 * moved from another message fails alone and holds up nothing; sent or
 * failed, no content stays. */
static void test_outbox_apart(void **state)
{
    (void)state;
    struct sg_uuid a = teacher("a@skola.lv", "LV", "2026-01-01T00:00:00Z");
    struct sg_uuid m1, m2, m3;
    struct sg_err e;
    struct sg_opmark mark;
    sg_time now = sg_clock_now(&clk);
    assert_int_equal(sg_op_begin(v, &mark, &e), SG_OK);
    assert_int_equal(sg_outbox_queue_apart(v, &a, "art19.erasure", "r1@example.org", "S1", "first",
                                           now, &m1, &e),
                     SG_OK);
    assert_int_equal(sg_outbox_queue_apart(v, NULL, "art19.erasure", "r2@example.org", "S2",
                                           "second", now, &m2, &e),
                     SG_OK);
    assert_int_equal(
        sg_outbox_queue_apart(v, &a, "request-answer", "a@skola.lv", "S3", "third", now, &m3, &e),
        SG_OK);
    assert_int_equal(sg_op_end(v, mark, SG_OK, &e), SG_OK);
    /* an address that cannot carry a message: refused, nothing written */
    assert_int_equal(sg_outbox_queue_apart(v, NULL, "x", "no address", "S", "B", now, NULL, &e),
                     SG_INVALID);
    assert_int_equal(messages().n[SG_MSG_QUEUED], 3);
    /* the key that wrapped them is retired */
    struct sg_rotate_report rr;
    assert_int_equal(sg_vault_rotate_key(v, &op, &rr, &e), SG_OK);
    /* m2's content put onto m1 */
    char h1[33], h2[33], sql[400];
    sg_hex_encode(m1.b, 16, h1);
    sg_hex_encode(m2.b, 16, h2);
    if (ts_pg())
        snprintf(sql, sizeof sql,
                 "UPDATE outbox SET sealed = (SELECT sealed FROM outbox WHERE id = '%s') "
                 "WHERE id = '%s'",
                 h2, h1);
    else
        snprintf(sql, sizeof sql,
                 "UPDATE outbox SET sealed = (SELECT sealed FROM outbox WHERE id = x'%s') "
                 "WHERE id = x'%s'",
                 h2, h1);
    ts_exec(sql);
    char md[128];
    snprintf(md, sizeof md, "maildir:%s/apart", dir);
    struct sg_transport *t;
    assert_int_equal(sg_transport_open(md, "dpo@example.org", &t, &e), SG_OK);
    struct sg_deliver_report dr;
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    sg_transport_close(t);
    assert_int_equal(dr.failed, 1);
    assert_int_equal(dr.sent, 2);
    char nd[128];
    snprintf(nd, sizeof nd, "%s/apart/new", dir);
    assert_int_equal(files_in(nd), 2);
    struct count m = messages();
    assert_int_equal(m.n[SG_MSG_FAILED], 1);
    assert_int_equal(m.n[SG_MSG_SENT], 2);
    assert_int_equal(ts_count("SELECT count(*) FROM outbox WHERE length(sealed) > 0"), 0);
    /* A message whose master key was rotated away and not kept: given up,
     * with the reason, and nothing else is held up. */
    char old_id[SG_KEY_ID_HEX + 1], retired[256];
    snprintf(old_id, sizeof old_id, "%s", v->kek->id);
    assert_int_equal(sg_op_begin(v, &mark, &e), SG_OK);
    assert_int_equal(sg_outbox_queue_apart(v, NULL, "art19.erasure", "r4@example.org", "S4",
                                           "fourth", now, NULL, &e),
                     SG_OK);
    assert_int_equal(sg_op_end(v, mark, SG_OK, &e), SG_OK);
    assert_int_equal(sg_vault_rotate_key(v, &op, &rr, &e), SG_OK);
    snprintf(retired, sizeof retired, "%s/keys/retired/%s.key", dir, old_id);
    assert_int_equal(unlink(retired), 0);
    assert_int_equal(sg_transport_open(md, "dpo@example.org", &t, &e), SG_OK);
    assert_int_equal(sg_outbox_deliver(v, &op, t, 10, &dr, &e), SG_OK);
    sg_transport_close(t);
    assert_int_equal(dr.failed, 1);
    assert_int_equal(dr.sent, 0);
    assert_int_equal(messages().n[SG_MSG_FAILED], 2);
}

/* Value-level deletion: only the values older than the rule go. */
static void test_values_by_age(void **state)
{
    (void)state;
    struct sg_field_in f[] = {F("name", "Ieva"), F("ip", "192.0.2.7")};
    struct sg_uuid a;
    struct sg_err e;
    assert_int_equal(sg_subject_add(v, &op, f, 2, NULL, 0, &a, &e), SG_OK);
    assert_int_equal(sg_subject_touch(v, &op, &a, "confirmed", at("2026-01-01T00:00:00Z"), &e),
                     SG_OK);
    struct sg_sweep_report r = sweep_at("2026-01-10T00:00:00Z");
    assert_int_equal(r.fields_deleted, 0);
    /* a new address on day 5 restarts its clock */
    sg_clock_init_fixed(&clk, at("2026-01-05T00:00:00Z"));
    struct sg_field_in ip2[] = {F("ip", "192.0.2.8")};
    assert_int_equal(sg_subject_update(v, &op, &a, ip2, 1, "new visit", NULL, &e), SG_OK);
    r = sweep_at("2026-01-12T00:00:00Z");
    assert_int_equal(r.fields_deleted, 0);
    r = sweep_at("2026-01-15T00:00:00Z");
    assert_int_equal(r.fields_deleted, 1);
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &op, &a, SG_GET_HISTORY, &s, &e), SG_OK);
    assert_int_equal(s->nfields, 1);
    assert_string_equal(s->fields[0].category, "user.name.first");
    assert_int_equal(s->nhistory, 0); /* the old address left the history too */
    sg_subject_free(s);
    /* unconfirmed accounts go whole after 15 days; confirmed ones stay */
    struct sg_uuid u, c;
    struct sg_field_in g[] = {F("name", "Uldis")};
    sg_clock_init_fixed(&clk, at("2026-02-01T00:00:00Z"));
    assert_int_equal(sg_subject_add(v, &op, g, 1, NULL, 0, &u, &e), SG_OK);
    assert_int_equal(sg_subject_add(v, &op, g, 1, NULL, 0, &c, &e), SG_OK);
    assert_int_equal(sg_subject_touch(v, &op, &c, "confirmed", at("2026-02-02T00:00:00Z"), &e),
                     SG_OK);
    r = sweep_at("2026-02-17T00:00:00Z");
    assert_int_equal(r.deleted, 1);
    assert_int_equal(state_of(&u), SG_STATE_ERASED);
    assert_int_equal(state_of(&c), SG_STATE_ACTIVE);
}

/* ------------------------------------------------------------ two nodes */

/* One node: its own vault handle (its own connection), a sweep or
 * deliveries until nothing is left. */
struct node {
    struct sg_vault *v;
    struct sg_transport *t;
    struct sg_sweep_report rep;
    size_t sent;
    enum sg_rc rc;
    struct sg_err e;
};

static void *node_sweep(void *arg)
{
    struct node *n = arg;
    n->rc = sg_sweep(n->v, &op, 0, NULL, NULL, NULL, &n->rep, &n->e);
    return NULL;
}

static void *node_deliver(void *arg)
{
    struct node *n = arg;
    struct sg_deliver_report dr;
    do {
        n->rc = sg_outbox_deliver(n->v, &op, n->t, 25, &dr, &n->e);
        n->sent += dr.sent;
    } while (!n->rc && dr.sent + dr.retried + dr.failed + dr.dropped > 0);
    return NULL;
}

static void run_nodes(struct node *n, void *(*fn)(void *))
{
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, fn, &n[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++)
        if (n[i].rc)
            fail_msg("node %d: %s", i, n[i].e.msg);
}

/* Two nodes sweep the same people at once (each server's housekeeping
 * thread): every person is hidden and told once, whoever gets there first;
 * then both deliver at once, and every message goes out once. */
static void test_two_nodes(void **state)
{
    (void)state;
    enum { N = 120 };
    for (int i = 0; i < N; i++) {
        char email[64];
        snprintf(email, sizeof email, "n%d@skola.lv", i);
        teacher(email, "LV", "2026-01-01T00:00:00Z");
    }
    sg_clock_init_fixed(&clk, at("2027-01-02T00:00:00Z"));
    struct node n[2];
    memset(n, 0, sizeof n);
    struct sg_err e;
    n[0].v = v;
    assert_int_equal(sg_vault_open(&opts, &n[1].v, &e), SG_OK);
    run_nodes(n, node_sweep);
    assert_int_equal(n[0].rep.hidden + n[1].rep.hidden, N);
    assert_int_equal(n[0].rep.notified + n[1].rep.notified, N);
    assert_int_equal(messages().n[SG_MSG_QUEUED], N);

    char md[128];
    snprintf(md, sizeof md, "maildir:%s/mail", dir);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sg_transport_open(md, "dpo@example.org", &n[i].t, &e), SG_OK);
    run_nodes(n, node_deliver);
    assert_int_equal(n[0].sent + n[1].sent, N);
    char nd[128];
    snprintf(nd, sizeof nd, "%s/mail/new", dir);
    assert_int_equal(files_in(nd), N);
    assert_int_equal(messages().n[SG_MSG_SENT], N);
    for (int i = 0; i < 2; i++)
        sg_transport_close(n[i].t);
    sg_vault_close(n[1].v);
    assert_int_equal(sg_audit_verify(v, &op, &(struct sg_audit_report){0}, &e), SG_OK);
}

static int load(void **state)
{
    (void)state;
    etw = tu_policy("examples/etwinning.yaml");
    small = tu_policy("retention.yaml");
    return 0;
}

static int unload(void **state)
{
    (void)state;
    sg_policy_free(etw);
    sg_policy_free(small);
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    struct sg_err e;
    if (sg_crypto_init(&e) != SG_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        T(test_etwinning_years),
        T(test_anonymised_statistics),
        T(test_resume_and_dry_run),
        T(test_restriction_holds),
        T(test_outbox_faults),
        T(test_outbox_apart),
        T(test_two_nodes),
        cmocka_unit_test_setup_teardown(test_values_by_age, setup_small, teardown),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
