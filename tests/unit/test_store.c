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

struct fields_seen {
    int n;
    char cats[8][64];
};

static int see_field(void *ctx, const struct sg_store_field *f)
{
    struct fields_seen *fs = ctx;
    snprintf(fs->cats[fs->n++], 64, "%s", f->category);
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

    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, &e), SG_CONFLICT);
    uint8_t sealed[40], bidx[SG_BIDX_BYTES];
    memset(sealed, 1, sizeof sealed);
    memset(bidx, 2, sizeof bidx);
    struct sg_store_field f = {"user.contact.email", sealed, sizeof sealed, bidx, 1, 6};
    struct sg_store_field g = {"user.name.first", sealed, sizeof sealed, NULL, 1, 6};
    assert_int_equal(s->ops->field_put(s, &sub.id, &f, &e), SG_OK);
    assert_int_equal(s->ops->field_put(s, &sub.id, &g, &e), SG_OK);
    assert_int_equal(s->ops->field_put(s, &sub.id, &f, &e), SG_OK); /* replaces */
    assert_int_equal(s->ops->event_put(s, &sub.id, "last_login", 10, &e), SG_OK);
    assert_int_equal(s->ops->event_put(s, &sub.id, "last_login", 20, &e), SG_OK);
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
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, &e), SG_OK);
    assert_int_equal(got.has_dek, 1);
    assert_memory_equal(got.wrapped_dek, sub.wrapped_dek, sizeof got.wrapped_dek);
    struct fields_seen fs = {0};
    assert_int_equal(s->ops->fields_each(s, &sub.id, see_field, &fs, &e), SG_OK);
    assert_int_equal(fs.n, 2);
    assert_string_equal(fs.cats[0], "user.contact.email");
    int n = 0;
    assert_int_equal(s->ops->index_find(s, "user.contact.email", bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(s->ops->index_find(s, "user.name.first", bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    sg_time at = 0;
    assert_int_equal(s->ops->events_each(s, &sub.id, see_event, &at, &e), SG_OK);
    assert_int_equal(at, 20);
    n = 0;
    assert_int_equal(s->ops->history_each(s, &sub.id, see_history, &n, &e), SG_OK);
    assert_int_equal(n, 1);

    /* Shredding leaves only the tombstone. */
    assert_int_equal(s->ops->subject_shred(s, &sub.id, 4, 30, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, &e), SG_OK);
    assert_int_equal(got.has_dek, 0);
    assert_int_equal(got.state, 4);
    assert_int_equal(got.changed, 30);
    fs.n = 0;
    assert_int_equal(s->ops->fields_each(s, &sub.id, see_field, &fs, &e), SG_OK);
    assert_int_equal(fs.n, 0);
    n = 0;
    assert_int_equal(s->ops->index_find(s, "user.contact.email", bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    n = 0;
    assert_int_equal(s->ops->history_each(s, &sub.id, see_history, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    struct sg_uuid other;
    sg_uuid_v7(1000000, &other);
    assert_int_equal(s->ops->subject_get(s, &other, &got, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_INTERNAL);
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
    assert_int_equal(s->ops->subject_insert(s, &a, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK); /* savepoint */
    assert_int_equal(s->ops->subject_insert(s, &b, &e), SG_OK);
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
    struct sg_uuid id;
    sg_uuid_v7(1, &id);
    struct sg_store_audit a = {1, "me", "operator", "admin", "subject.read", &id, "ok"};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_append(s, &a, &e), SG_OK);
    a.subject = NULL;
    assert_int_equal(s->ops->audit_append(s, &a, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    int64_t n = 0;
    assert_int_equal(s->ops->audit_count(s, &n, &e), SG_OK);
    assert_int_equal(n, 2);
    sg_store_close(s);
    /* Even with the file in hand, entries cannot be changed or removed. */
    assert_int_not_equal(raw_exec_rc("UPDATE audit SET actor = 'x'"), SQLITE_OK);
    assert_int_not_equal(raw_exec_rc("DELETE FROM audit"), SQLITE_OK);
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
    assert_int_equal(s->ops->subject_insert(s, &a, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_CONFLICT); /* never overwrites */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, &e), SG_OK);
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
        cmocka_unit_test_setup_teardown(test_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
