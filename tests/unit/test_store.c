/*
 * test_store.c - the store interface on the SQLite backend: schema
 * migrations, every call, nested transactions, the append-only audit table,
 * backup and restore.
 */
#include "testutil.h"

#include <sqlite3.h>

#include "../../src/lib/store/store.h"

static char dir[64], dbpath[128];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

static struct sg_store *open_new(void)
{
    struct sg_store *s = NULL;
    struct sg_err e;
    assert_int_equal(sg_store_open(dbpath, 1, &s, &e), SG_OK);
    assert_int_equal(s->ops->migrate(s, 1, &e), SG_OK);
    return s;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static int raw_exec_rc(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_open_missing(void **state)
{
    (void)state;
    struct sg_store *s = NULL;
    struct sg_err e;
    assert_int_equal(sg_store_open(dbpath, 0, &s, &e), SG_NOTFOUND);
    assert_int_equal(sg_store_open("", 0, &s, &e), SG_INVALID);
    assert_int_equal(sg_store_open("mysql://x", 0, &s, &e), SG_INVALID);
}

static void test_migrate(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    int v = -1;
    assert_int_equal(s->ops->schema_version(s, &v, &e), SG_OK);
    assert_int_equal(v, SG_SCHEMA_VERSION);
    /* Again: nothing to do. */
    assert_int_equal(s->ops->migrate(s, 2, &e), SG_OK);
    sg_store_close(s);
    struct stat st;
    assert_int_equal(stat(dbpath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* A database from a newer sargs is refused, with both versions named. */
    raw_exec("INSERT INTO schema_migrations VALUES (99, 'future', 0)");
    assert_int_equal(sg_store_open(dbpath, 0, &s, &e), SG_OK);
    assert_int_equal(s->ops->migrate(s, 3, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "99"));
    assert_non_null(strstr(e.msg, "newer"));
    sg_store_close(s);
}

static int count_subjects(void *ctx, const struct sg_store_subject *s)
{
    (void)s;
    (*(int *)ctx)++;
    return 0;
}

static int see_id(void *ctx, const struct sg_uuid *id)
{
    (void)id;
    (*(int *)ctx)++;
    return 0;
}

static int see_event(void *ctx, const struct sg_store_event *ev)
{
    sg_time *at = ctx;
    if (strcmp(ev->name, "last_login") == 0)
        *at = ev->at;
    return 0;
}

static int see_history(void *ctx, const struct sg_store_history *h)
{
    (*(int *)ctx)++;
    assert_string_equal(h->actor, "tester");
    return 0;
}

struct cats {
    int n;
    int codes[8];
    char ids[8][64];
};

static int see_category(void *ctx, int code, const char *id)
{
    struct cats *c = ctx;
    c->codes[c->n] = code;
    snprintf(c->ids[c->n++], 64, "%s", id);
    return 0;
}

static void test_categories(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    int a = 0, b = 0, a2 = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->category_add(s, "user.contact.email", &a, &e), SG_OK);
    assert_int_equal(s->ops->category_add(s, "user.name.first", &b, &e), SG_OK);
    assert_int_equal(s->ops->category_add(s, "user.contact.email", &a2, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_true(a > 0 && b > 0 && a != b);
    assert_int_equal(a, a2);
    struct cats c = {0};
    assert_int_equal(s->ops->category_each(s, see_category, &c, &e), SG_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.codes[0], a);
    assert_string_equal(c.ids[0], "user.contact.email");
    sg_store_close(s);
}

static void test_calls(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject sub = {0}, got;
    sg_uuid_v7(1000000, &sub.id);
    sub.state = 0;
    sub.created = sub.changed = 5;
    sub.dek_version = 1;
    sub.has_dek = 1;
    memset(sub.wrapped_dek, 0xab, sizeof sub.wrapped_dek);
    const uint8_t rec[] = "opaque record bytes";
    struct sg_buf back;
    sg_buf_init(&back, 1 << 20);

    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, rec, sizeof rec, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, rec, sizeof rec, &e), SG_CONFLICT);
    uint8_t bidx[SG_BIDX_BYTES], other[SG_BIDX_BYTES];
    memset(bidx, 2, sizeof bidx);
    memset(other, 3, sizeof other);
    assert_int_equal(s->ops->index_put(s, 1, bidx, &sub.id, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 1, bidx, &sub.id, &e), SG_OK); /* idempotent */
    assert_int_equal(s->ops->index_put(s, 2, other, &sub.id, &e), SG_OK);
    assert_int_equal(s->ops->event_put(s, &sub.id, "last_login", 10, &e), SG_OK);
    assert_int_equal(s->ops->event_put(s, &sub.id, "last_login", 20, &e), SG_OK);
    uint8_t sealed[40];
    memset(sealed, 1, sizeof sealed);
    struct sg_store_history h = {0, "user.name.first", sealed, sizeof sealed, 1, NULL,
                                 0, "tester",          7};
    assert_int_equal(s->ops->history_append(s, &sub.id, &h, &e), SG_OK);
    assert_int_equal(s->ops->meta_set(s, "k", "v1", &e), SG_OK);
    assert_int_equal(s->ops->meta_set(s, "k", "v2", &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);

    char *mv = NULL;
    assert_int_equal(s->ops->meta_get(s, "k", &mv, &e), SG_OK);
    assert_string_equal(mv, "v2");
    free(mv);
    assert_int_equal(s->ops->meta_get(s, "nope", &mv, &e), SG_NOTFOUND);

    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, &back, &e), SG_OK);
    assert_int_equal(got.has_dek, 1);
    assert_memory_equal(got.wrapped_dek, sub.wrapped_dek, sizeof got.wrapped_dek);
    assert_int_equal(back.len, sizeof rec);
    assert_memory_equal(back.ptr, rec, sizeof rec);
    const uint8_t rec2[] = "another";
    assert_int_equal(s->ops->subject_put_record(s, &sub.id, rec2, sizeof rec2, 9, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, &back, &e), SG_OK);
    assert_memory_equal(back.ptr, rec2, sizeof rec2);
    assert_int_equal(got.changed, 9);
    int n = 0;
    assert_int_equal(s->ops->index_find(s, 1, bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(s->ops->index_find(s, 2, bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    sg_time at = 0;
    assert_int_equal(s->ops->events_each(s, &sub.id, see_event, &at, &e), SG_OK);
    assert_int_equal(at, 20);
    n = 0;
    assert_int_equal(s->ops->history_each(s, &sub.id, see_history, &n, &e), SG_OK);
    assert_int_equal(n, 1);

    /* Shredding leaves only the tombstone (the index is the caller's job). */
    assert_int_equal(s->ops->index_del(s, 1, bidx, &sub.id, &e), SG_OK);
    assert_int_equal(s->ops->index_del(s, 2, other, &sub.id, &e), SG_OK);
    assert_int_equal(s->ops->subject_shred(s, &sub.id, 4, 30, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, &back, &e), SG_OK);
    assert_int_equal(got.has_dek, 0);
    assert_int_equal(got.state, 4);
    assert_int_equal(got.changed, 30);
    assert_int_equal(back.len, 0);
    n = 0;
    assert_int_equal(s->ops->index_find(s, 1, bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    n = 0;
    assert_int_equal(s->ops->history_each(s, &sub.id, see_history, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    at = 0;
    assert_int_equal(s->ops->events_each(s, &sub.id, see_event, &at, &e), SG_OK);
    assert_int_equal(at, 0);
    struct sg_uuid ghost;
    sg_uuid_v7(1000000, &ghost);
    assert_int_equal(s->ops->subject_get(s, &ghost, &got, NULL, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_INTERNAL);
    sg_buf_release(&back);
    sg_store_close(s);
}

static void test_nested(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0}, b = {0};
    sg_uuid_v7(1000, &a.id);
    sg_uuid_v7(1000, &b.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK); /* savepoint */
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    s->ops->rollback(s); /* undoes b only */
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    int n = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_list(s, NULL, 100, count_subjects, &n, &e), SG_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(s->ops->subject_list(s, &a.id, 100, count_subjects, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    s->ops->rollback(s);
    sg_store_close(s);
}

static void test_audit_append_only(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    uint8_t pseudo[SG_PSEUDONYM_BYTES], hash[32], node[32], got[32];
    memset(pseudo, 7, sizeof pseudo);
    memset(hash, 1, sizeof hash);
    memset(node, 2, sizeof node);
    const uint8_t leaf[] = "leaf bytes";
    struct sg_store_audit a0 = {0, 10, pseudo, leaf, sizeof leaf, hash};
    struct sg_store_audit a1 = {1, 11, NULL, leaf, sizeof leaf, hash};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_lock(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_append(s, &a0, &e), SG_OK);
    assert_int_equal(s->ops->audit_append(s, &a1, &e), SG_OK);
    assert_int_equal(s->ops->audit_append(s, &a1, &e), SG_CONFLICT); /* index taken */
    assert_int_equal(s->ops->audit_node_put(s, 1, 0, node, &e), SG_OK);
    struct sg_store_head h = {2, 12, node, "note"};
    assert_int_equal(s->ops->audit_head_put(s, &h, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    uint64_t n = 0;
    assert_int_equal(s->ops->audit_size(s, &n, &e), SG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s->ops->audit_hash_get(s, 0, 1, got, &e), SG_OK);
    assert_memory_equal(got, hash, 32);
    assert_int_equal(s->ops->audit_hash_get(s, 1, 0, got, &e), SG_OK);
    assert_memory_equal(got, node, 32);
    assert_int_equal(s->ops->audit_hash_get(s, 1, 1, got, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->audit_hash_get(s, 0, 2, got, &e), SG_NOTFOUND);
    uint8_t buf[4 * 32];
    size_t got_n = 9;
    assert_int_equal(s->ops->audit_nodes_read(s, 1, 0, 4, buf, &got_n, &e), SG_OK);
    assert_int_equal(got_n, 1);
    sg_store_close(s);
    /* Even with the file in hand, entries cannot be changed or removed. */
    static const char *const tries[] = {
        "UPDATE audit_log SET at = 0",         "DELETE FROM audit_log",
        "UPDATE audit_nodes SET hash = x'00'", "DELETE FROM audit_nodes",
        "UPDATE audit_heads SET note = 'x'",   "DELETE FROM audit_heads",
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        assert_int_not_equal(raw_exec_rc(tries[i]), SQLITE_OK);
}

struct seen_policy {
    int n;
    int64_t seq[8];
    char text[64];
};

static int see_policy(void *ctx, const struct sg_store_policy *p)
{
    struct seen_policy *sp = ctx;
    sp->seq[sp->n++ % 8] = p->seq;
    snprintf(sp->text, sizeof sp->text, "%.*s", p->text ? (int)p->len : 4,
             p->text ? p->text : "none");
    return 0;
}

static void add_policy(struct sg_store *s, const char *hash, sg_time eff, const char *text)
{
    struct sg_err e;
    struct sg_store_policy p = {0, hash, eff, 1, "tester", text, strlen(text)};
    int64_t seq = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->policy_add(s, &p, &seq, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_true(seq > 0);
}

/* Policy versions: the one in force at an instant is the latest effective
 * one; on a tie the last applied; before the first there is none. */
static void test_policy_versions(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct seen_policy sp;
    memset(&sp, 0, sizeof sp);
    assert_int_equal(s->ops->policy_at(s, 100, see_policy, &sp, &e), SG_NOTFOUND);
    add_policy(s, "h1", 100, "one");
    add_policy(s, "h2", 300, "two");
    add_policy(s, "h3", 200, "three"); /* applied later, effective earlier */
    add_policy(s, "h4", 300, "four");  /* same instant as h2: the later wins */
    struct {
        sg_time at;
        const char *text;
    } want[] = {{100, "one"},   {199, "one"},  {200, "three"},
                {299, "three"}, {300, "four"}, {1000000, "four"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        memset(&sp, 0, sizeof sp);
        assert_int_equal(s->ops->policy_at(s, want[i].at, see_policy, &sp, &e), SG_OK);
        assert_int_equal(sp.n, 1);
        assert_string_equal(sp.text, want[i].text);
    }
    memset(&sp, 0, sizeof sp);
    assert_int_equal(s->ops->policy_at(s, 99, see_policy, &sp, &e), SG_NOTFOUND);
    /* All of them, in order of application, with or without their text. */
    memset(&sp, 0, sizeof sp);
    assert_int_equal(s->ops->policy_each(s, 0, see_policy, &sp, &e), SG_OK);
    assert_int_equal(sp.n, 4);
    assert_true(sp.seq[0] < sp.seq[1] && sp.seq[1] < sp.seq[2] && sp.seq[2] < sp.seq[3]);
    assert_string_equal(sp.text, "none");
    memset(&sp, 0, sizeof sp);
    assert_int_equal(s->ops->policy_each(s, 1, see_policy, &sp, &e), SG_OK);
    assert_string_equal(sp.text, "four");
    sg_store_close(s);
    /* Append-only, even for someone holding the file. */
    assert_int_not_equal(raw_exec_rc("UPDATE policies SET text = 'x'"), SQLITE_OK);
    assert_int_not_equal(raw_exec_rc("DELETE FROM policies"), SQLITE_OK);
}

/* A database from before the policy versions (step 4), the memberships
 * (step 5) and the consent ledger (step 6) is migrated forward. */
static void test_migrate_forward(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    sg_store_close(s);
    raw_exec("DROP TRIGGER policies_no_update; DROP TRIGGER policies_no_delete;"
             "DROP TABLE policies; DROP TABLE memberships; ALTER TABLE tokens DROP COLUMN scope;"
             "DROP TABLE consent_events; DROP TABLE decisions; DROP TABLE operators;"
             "DROP TABLE sessions; DROP TABLE sweep_done; DROP TABLE global_events;"
             "DROP TABLE statistics; DROP TABLE outbox; DROP TABLE requests;"
             "DROP TABLE request_events; DROP TABLE person_codes;"
             "DELETE FROM schema_migrations WHERE version >= 4");
    struct sg_err e;
    assert_int_equal(sg_store_open(dbpath, 0, &s, &e), SG_OK);
    int v = 0;
    assert_int_equal(s->ops->schema_version(s, &v, &e), SG_OK);
    assert_int_equal(v, 3);
    assert_int_equal(s->ops->migrate(s, 5, &e), SG_OK);
    assert_int_equal(s->ops->schema_version(s, &v, &e), SG_OK);
    assert_int_equal(v, SG_SCHEMA_VERSION);
    add_policy(s, "h", 1, "text");
    struct sg_uuid a, b;
    sg_uuid_v7(1000, &a);
    sg_uuid_v7(1000, &b);
    int shared = 1;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->member_put(s, &a, "g1", 5, &e), SG_OK);
    assert_int_equal(s->ops->member_shared(s, &a, &b, &shared, &e), SG_OK);
    assert_false(shared);
    assert_int_equal(s->ops->member_put(s, &b, "g1", 5, &e), SG_OK);
    assert_int_equal(s->ops->member_shared(s, &a, &b, &shared, &e), SG_OK);
    assert_true(shared);
    assert_int_equal(s->ops->member_put(s, &b, "g1", 6, &e), SG_CONFLICT);
    assert_int_equal(s->ops->member_del(s, &b, "g1", &e), SG_OK);
    assert_int_equal(s->ops->member_del(s, &b, "g1", &e), SG_NOTFOUND);
    assert_int_equal(s->ops->member_shared(s, &a, &b, &shared, &e), SG_OK);
    assert_false(shared);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    sg_store_close(s);
}

static void test_backup_restore(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0}, b = {0};
    sg_uuid_v7(1000, &a.id);
    sg_uuid_v7(1000, &b.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_CONFLICT); /* never overwrites */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    int n = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_list(s, NULL, 100, count_subjects, &n, &e), SG_OK);
    s->ops->rollback(s);
    assert_int_equal(n, 1);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none/x.db", dir);
    assert_int_not_equal(s->ops->backup(s, missing, &e), SG_OK);
    sg_store_close(s);
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_categories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_forward, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
