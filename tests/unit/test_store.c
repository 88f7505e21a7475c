/*
 * test_store.c - the store interface, on SQLite or on PostgreSQL (see
 * teststore.h): schema migrations, every call, nested transactions, the
 * append-only audit table, backup and restore; on PostgreSQL also the
 * server going away and coming back, addresses and concurrent migrations.
 */
#include "teststore.h"

#include <sys/wait.h>

#include "../../src/lib/store/store.h"

static char dir[64], dbpath[128];
static const char *where; /* the store address of the current test */

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    where = ts_setup(dbpath);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_teardown();
    tu_rmrf(dir);
    return 0;
}

static struct sg_store *open_new(void)
{
    struct sg_store *s = NULL;
    struct sg_err e;
    if (sg_store_open(where, 1, &s, &e) != SG_OK)
        fail_msg("open: %s", e.msg);
    if (s->ops->migrate(s, 1, &e) != SG_OK)
        fail_msg("migrate: %s", e.msg);
    return s;
}

static void test_open_missing(void **state)
{
    (void)state;
    struct sg_store *s = NULL;
    struct sg_err e;
    assert_int_equal(sg_store_open(where, 0, &s, &e), SG_NOTFOUND);
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
    if (!ts_pg()) {
        struct stat st;
        assert_int_equal(stat(dbpath, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }

    /* A database from a newer sargs is refused, with both versions named. */
    ts_exec("INSERT INTO schema_migrations VALUES (99, 'future', 0)");
    assert_int_equal(sg_store_open(where, 0, &s, &e), SG_OK);
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
    /* A failing write may be reported by the call that ends its savepoint
     * (store.h); the savepoint is then undone and the transaction goes on. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    enum sg_rc dup = s->ops->subject_insert(s, &sub, rec, sizeof rec, &e);
    if (dup == SG_OK)
        dup = s->ops->commit(s, &e);
    else
        s->ops->rollback(s);
    assert_int_equal(dup, SG_CONFLICT);
    assert_null(strstr(e.msg, "opaque")); /* never a value in a message */
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
    /* Even with the database in hand, entries cannot be changed or removed. */
    assert_int_not_equal(ts_exec_rc("UPDATE audit SET actor = 'x'"), 0);
    assert_int_not_equal(ts_exec_rc("DELETE FROM audit"), 0);
    if (ts_pg())
        assert_int_not_equal(ts_exec_rc("TRUNCATE audit"), 0);
    assert_int_equal(ts_count("SELECT count(*) FROM audit"), 2);
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

/* The backup of one backend restores into the other: the same file format. */
static void test_backup_across_backends(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *lite = NULL;
    struct sg_err e;
    struct sg_store_subject a = {0};
    sg_uuid_v7(1000, &a.id);
    a.has_dek = 1;
    memset(a.wrapped_dek, 7, sizeof a.wrapped_dek);
    const uint8_t rec[] = "rec\\\n\t\0bytes";
    struct sg_store_history h = {0, "tab\there", rec, sizeof rec, 1, NULL, 0, "new\nline", 7};
    struct sg_store_audit au = {1, "me\\you", "operator", "admin", "x", NULL, "ok"};
    uint8_t bidx[SG_BIDX_BYTES];
    memset(bidx, 0x5c, sizeof bidx); /* backslashes */
    int code = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, rec, sizeof rec, &e), SG_OK);
    assert_int_equal(s->ops->category_add(s, "user.contact.email", &code, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, code, bidx, &a.id, &e), SG_OK);
    assert_int_equal(s->ops->history_append(s, &a.id, &h, &e), SG_OK);
    assert_int_equal(s->ops->audit_append(s, &au, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char bak[160];
    snprintf(bak, sizeof bak, "%s/pg.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);
    /* The file is a SQLite database the SQLite backend opens as it is. */
    assert_int_equal(sg_store_open(bak, 0, &lite, &e), SG_OK);
    struct sg_buf back;
    sg_buf_init(&back, 1 << 20);
    struct sg_store_subject got;
    assert_int_equal(lite->ops->subject_get(lite, &a.id, &got, &back, &e), SG_OK);
    assert_int_equal(back.len, sizeof rec);
    assert_memory_equal(back.ptr, rec, sizeof rec);
    assert_memory_equal(got.wrapped_dek, a.wrapped_dek, sizeof got.wrapped_dek);
    int64_t n = 0;
    assert_int_equal(lite->ops->audit_count(lite, &n, &e), SG_OK);
    assert_int_equal(n, 1);
    sg_store_close(lite);

    /* And back: everything round-trips byte for byte, numbering goes on. */
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, &back, &e), SG_OK);
    assert_memory_equal(back.ptr, rec, sizeof rec);
    int found = 0;
    assert_int_equal(s->ops->index_find(s, code, bidx, see_id, &found, &e), SG_OK);
    assert_int_equal(found, 1);
    int code2 = 0;
    assert_int_equal(s->ops->category_add(s, "user.name.first", &code2, &e), SG_OK);
    assert_true(code2 > code);
    assert_int_equal(s->ops->audit_append(s, &au, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM history WHERE category = E'tab\\there' "
                              "AND actor = E'new\\nline'"),
                     1);
    assert_int_equal(ts_count("SELECT count(DISTINCT seq) FROM audit"), 2);
    sg_buf_release(&back);
    sg_store_close(s);
}

/* --------------------------------------------------------- PostgreSQL only */

static void test_pg_addresses(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    const char *pw = getenv("SARGS_TEST_PG_PASSWORD");
    struct sg_store *s = NULL;
    struct sg_err e;
    char uri[700];
    /* A wrong password: refused, and the message does not quote it. */
    snprintf(uri, sizeof uri, "%s", where);
    char *at = strstr(uri, pw);
    assert_non_null(at);
    memcpy(at, "Wr0ng", 5);
    assert_int_equal(sg_store_open(uri, 1, &s, &e), SG_DENIED);
    assert_null(strstr(e.msg, "Wr0ng"));
    assert_non_null(strstr(e.msg, "127.0.0.1"));
    /* Nobody listening. */
    assert_int_equal(sg_store_open("postgres://sargs:Secret1@127.0.0.1:1/sargs", 1, &s, &e),
                     SG_UNAVAILABLE);
    assert_null(strstr(e.msg, "Secret1"));
    /* Malformed: libpq's own message would quote the address. */
    assert_int_equal(
        sg_store_open("postgres://sargs:Secret1@127.0.0.1:1/sargs?bogus=%zz", 1, &s, &e),
        SG_INVALID);
    assert_null(strstr(e.msg, "Secret1"));
}

/* The server stops in the middle of a transaction: the operation fails with
 * SG_UNAVAILABLE and nothing of it stays; once the server is back, the same
 * handle works again. */
static void test_pg_server_away(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    const char *pw = getenv("SARGS_TEST_PG_PASSWORD");
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0}, b = {0}, c = {0};
    sg_uuid_v7(1000, &a.id);
    sg_uuid_v7(1000, &b.id);
    sg_uuid_v7(1000, &c.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);

    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    struct sg_store_subject got;
    assert_int_equal(s->ops->subject_get(s, &b.id, &got, NULL, &e), SG_OK);
    ts_server("pause");
    enum sg_rc rc = s->ops->subject_insert(s, &c, NULL, 0, &e);
    if (!rc)
        rc = s->ops->subject_get(s, &c.id, &got, NULL, &e);
    assert_int_equal(rc, SG_UNAVAILABLE);
    assert_null(strstr(e.msg, pw));
    /* Every further call of the lost transaction says so, without trying. */
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, NULL, &e), SG_UNAVAILABLE);
    assert_int_equal(s->ops->commit(s, &e), SG_UNAVAILABLE);
    /* While it is away, a new transaction cannot connect. */
    int64_t n = 0;
    assert_int_equal(s->ops->audit_count(s, &n, &e), SG_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "postgresql"));
    assert_null(strstr(e.msg, pw));
    ts_server("resume");

    /* Back: the same handle reconnects, and b was never written. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &b.id, &got, NULL, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &c, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);

    /* A restart between two transactions is not even noticed. */
    ts_server("pause");
    ts_server("resume");
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &c.id, &got, NULL, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    sg_store_close(s);
}

/* Two processes migrating one empty database at once: one applies the
 * steps, the other waits for it and finds nothing left to do. */
static void test_pg_concurrent_migrate(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            struct sg_store *s = NULL;
            struct sg_err e;
            int rc = sg_store_open(where, 1, &s, &e) || s->ops->migrate(s, 1, &e);
            sg_store_close(s);
            _exit(rc);
        }
    }
    for (int i = 0; i < 3; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(ts_count("SELECT count(*) FROM schema_migrations"), SG_SCHEMA_VERSION);
}

/* Many writes in one transaction go ahead without waiting; they all land,
 * and a failure among them sinks only its own savepoint. */
static void test_many_writes(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject sub = {0};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    for (int i = 0; i < 500; i++) {
        sg_uuid_v7(1000 + i, &sub.id);
        assert_int_equal(s->ops->begin(s, &e), SG_OK);
        assert_int_equal(s->ops->subject_insert(s, &sub, NULL, 0, &e), SG_OK);
        assert_int_equal(s->ops->event_put(s, &sub.id, "confirmed", i, &e), SG_OK);
        assert_int_equal(s->ops->commit(s, &e), SG_OK);
    }
    /* The last one again: refused, alone. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    enum sg_rc rc = s->ops->event_put(s, &sub.id, "x", 1, &e);
    if (!rc)
        rc = s->ops->subject_insert(s, &sub, NULL, 0, &e);
    if (!rc)
        rc = s->ops->commit(s, &e);
    else
        s->ops->rollback(s);
    assert_int_equal(rc, SG_CONFLICT);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    sg_store_close(s);
    assert_int_equal(ts_count("SELECT count(*) FROM subjects"), 500);
    assert_int_equal(ts_count("SELECT count(*) FROM events"), 500);
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
        cmocka_unit_test_setup_teardown(test_backup_across_backends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_server_away, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_concurrent_migrate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
