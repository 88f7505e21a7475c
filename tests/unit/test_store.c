/*
 * test_store.c - the store interface, on SQLite or on PostgreSQL (see
 * teststore.h): schema migrations, every call, nested transactions, the
 * audit log's calls and guards, backup and restore; on PostgreSQL also the
 * server going away and coming back, addresses, concurrent migrations, the
 * audit lock and the per-person index.
 */
#include "teststore.h"

#include <pthread.h>
#include <sys/wait.h>

#include "../../src/lib/store/migrations.h"
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

    /* Shredding leaves only the tombstone: index entries and the person's
     * own sessions go too, someone else's stay. */
    char plogin[64], pids[SG_UUID_STR_LEN + 1];
    snprintf(plogin, sizeof plogin, SG_PERSON_LOGIN_PREFIX "%s", sg_uuid_format(&sub.id, pids));
    struct sg_store_session mine = {{7}, plogin, 10, 100, 10}, theirs = {{8}, "op", 10, 100, 10};
    assert_int_equal(s->ops->session_put(s, &mine, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &theirs, &e), SG_OK);
    const struct sg_store_key keys[2] = {{1, bidx}, {2, other}};
    assert_int_equal(s->ops->subject_shred(s, &sub.id, 4, 30, 1, keys, 2, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    struct sg_store_session sgot;
    char slogin[65];
    assert_int_equal(s->ops->session_get(s, mine.hash, &sgot, slogin, sizeof slogin, &e),
                     SG_NOTFOUND);
    assert_int_equal(s->ops->session_get(s, theirs.hash, &sgot, slogin, sizeof slogin, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, &back, &e), SG_OK);
    assert_int_equal(got.has_dek, 0);
    assert_int_equal(got.state, 4);
    assert_int_equal(got.changed, 30);
    assert_int_equal(back.len, 0);
    n = 0;
    assert_int_equal(s->ops->index_find(s, 1, bidx, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(s->ops->index_find(s, 2, other, see_id, &n, &e), SG_OK);
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
    /* Without `once`, nobody to shred is no failure. */
    assert_int_equal(s->ops->subject_shred(s, &ghost, 4, 31, 0, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_INTERNAL);

    /* With it, nobody to shred (no such subject, or one already in that
     * state) fails the savepoint, at the latest when it ends, and takes
     * back what followed; the transaction goes on. */
    const struct sg_uuid *nobody[2] = {&ghost, &sub.id};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s->ops->begin(s, &e), SG_OK);
        assert_int_equal(s->ops->meta_set(s, "k", "kept", &e), SG_OK);
        assert_int_equal(s->ops->begin(s, &e), SG_OK);
        enum sg_rc rc = s->ops->subject_shred(s, nobody[i], 4, 32, 1, NULL, 0, &e);
        if (rc == SG_OK) {
            assert_int_equal(s->ops->meta_set(s, "k", "taken back", &e), SG_OK);
            rc = s->ops->commit(s, &e);
        } else {
            s->ops->rollback(s);
        }
        assert_int_equal(rc, SG_NOTFOUND);
        assert_non_null(strstr(e.msg, "no subject to shred"));
        assert_int_equal(s->ops->commit(s, &e), SG_OK);
        assert_int_equal(s->ops->meta_get(s, "k", &mv, &e), SG_OK);
        assert_string_equal(mv, "kept");
        free(mv);
        assert_int_equal(s->ops->subject_get(s, &sub.id, &got, NULL, &e), SG_OK);
        assert_int_equal(got.changed, 30);
    }
    /* The same at the top: the transaction is rolled back. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    enum sg_rc rc = s->ops->subject_shred(s, &ghost, 4, 33, 1, NULL, 0, &e);
    if (rc == SG_OK) {
        assert_int_equal(s->ops->meta_set(s, "k", "taken back", &e), SG_OK);
        rc = s->ops->commit(s, &e);
    } else {
        s->ops->rollback(s);
    }
    assert_int_equal(rc, SG_NOTFOUND);
    assert_int_equal(s->ops->meta_get(s, "k", &mv, &e), SG_OK);
    assert_string_equal(mv, "kept");
    free(mv);
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

/* Appends entries 0..n-1 (entry i at time 10 + i, person `who[i % 2]` or
 * nobody every third) and one head, in one transaction. */
static void audit_fill(struct sg_store *s, uint64_t from, uint64_t n)
{
    struct sg_err e;
    uint8_t p[2][SG_PSEUDONYM_BYTES], hash[32];
    memset(p[0], 7, sizeof p[0]);
    memset(p[1], 8, sizeof p[1]);
    memset(hash, 1, sizeof hash);
    const uint8_t leaf[] = "leaf bytes";
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_lock(s, &e), SG_OK);
    for (uint64_t i = from; i < from + n; i++) {
        struct sg_store_audit a = {i,    (sg_time)(10 + i), i % 3 ? p[i % 2] : NULL,
                                   leaf, sizeof leaf,       hash};
        assert_int_equal(s->ops->audit_append(s, &a, &e), SG_OK);
    }
    struct sg_store_head h = {from + n, 12, hash, "note"};
    assert_int_equal(s->ops->audit_head_put(s, &h, &e), SG_OK);
    if (s->ops->commit(s, &e) != SG_OK)
        fail_msg("commit: %s", e.msg);
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
    /* Index taken: refused, by the call or by the end of its savepoint. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    enum sg_rc dup = s->ops->audit_append(s, &a1, &e);
    if (dup == SG_OK)
        dup = s->ops->commit(s, &e);
    else
        s->ops->rollback(s);
    assert_int_equal(dup, SG_CONFLICT);
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
    struct sg_store_node buf[4];
    size_t got_n = 9;
    assert_int_equal(s->ops->audit_nodes_read(s, 0, 4, buf, &got_n, &e), SG_OK);
    assert_int_equal(got_n, 1);
    assert_int_equal(buf[0].level, 1);
    assert_int_equal(buf[0].index, 0);
    assert_memory_equal(buf[0].hash, node, 32);
    sg_store_close(s);
    /* Even with the database in hand, entries cannot be changed or removed. */
    static const char *const tries[] = {
        "UPDATE audit_log SET at = 0",
        "DELETE FROM audit_log",
        "UPDATE audit_nodes SET id = id + 1",
        "DELETE FROM audit_nodes",
        "UPDATE audit_heads SET note = 'x'",
        "DELETE FROM audit_heads",
        /* Not even the content-dropping that archiving does, outside it. */
        "UPDATE audit_log SET pseudonym = NULL",
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        assert_int_not_equal(ts_exec_rc(tries[i]), 0);
    if (ts_pg()) {
        assert_int_not_equal(ts_exec_rc("TRUNCATE audit_log"), 0);
        assert_int_not_equal(ts_exec_rc("TRUNCATE audit_nodes"), 0);
        assert_int_not_equal(ts_exec_rc("TRUNCATE audit_heads"), 0);
    }
    assert_int_equal(ts_count("SELECT count(*) FROM audit_log WHERE at >= 10"), 2);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_nodes"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_heads"), 1);
}

struct seen {
    uint64_t idx[256];
    size_t n;
    size_t stop_at; /* stop after this many (0: never) */
    int bad;
};

static int see_entry(void *ctx, const struct sg_store_audit *a)
{
    struct seen *c = ctx;
    static const uint8_t leaf[] = "leaf bytes";
    if (c->n < 256)
        c->idx[c->n] = a->index;
    c->n++;
    if (a->at != (sg_time)(10 + a->index) || !a->hash ||
        (a->leaf_len && (a->leaf_len != sizeof leaf || memcmp(a->leaf, leaf, sizeof leaf))) ||
        (a->index % 3 == 0) != (a->pseudonym == NULL))
        c->bad++;
    return c->stop_at && c->n == c->stop_at;
}

/* How many of audit_fill's entries in [from, to) name person 7: every
 * even index that is not a multiple of 3. */
static size_t person7(uint64_t from, uint64_t to)
{
    size_t n = 0;
    for (uint64_t i = from; i < to; i++)
        n += i % 2 == 0 && i % 3 != 0;
    return n;
}

static void expect_person7(struct sg_store *s, uint64_t from, uint64_t to, uint64_t size)
{
    uint8_t p7[SG_PSEUDONYM_BYTES];
    memset(p7, 7, sizeof p7);
    struct seen c = {0};
    struct sg_err e;
    assert_int_equal(s->ops->audit_each(s, from, to, p7, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, person7(from, to < size ? to : size));
    assert_int_equal(c.bad, 0);
}

/* The per-person index written a range at a time (SQLite, step 11): the
 * open range is read through, a full range goes into the index in the
 * transaction that filled it, a missing mark catches up, the migration
 * fills it from the log, archiving takes entries out, and nothing else can.
 * The queries are the same on PostgreSQL (its index is the plain one). */
static void test_audit_person_ranges(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    int sq = !ts_pg();
    audit_fill(s, 0, 4090);
    if (sq)
        assert_int_equal(ts_count("SELECT count(*) FROM audit_person"), 0);
    expect_person7(s, 0, UINT64_MAX, 4090);
    expect_person7(s, 100, 200, 4090);
    audit_fill(s, 4090, 5000);
    const int64_t in_index = (int64_t)(8192 - (8192 + 2) / 3); /* i % 3 != 0 below 8,192 */
    if (sq) {
        assert_int_equal(ts_count("SELECT upto FROM audit_person_upto"), 8192);
        assert_int_equal(ts_count("SELECT count(*) FROM audit_person"), in_index);
        assert_int_equal(ts_count("SELECT count(*) FROM audit_person WHERE idx >= 8192"), 0);
    }
    expect_person7(s, 0, UINT64_MAX, 9090);
    expect_person7(s, 4000, 4200, 9090);
    expect_person7(s, 8000, 8300, 9090); /* indexed, then read through */
    expect_person7(s, 8500, 20000, 9090);

    if (sq) {
        /* Only archiving takes anything out; the mark only grows. */
        assert_int_not_equal(ts_exec_rc("DELETE FROM audit_person WHERE idx = 2"), 0);
        assert_int_not_equal(ts_exec_rc("UPDATE audit_person SET idx = 3 WHERE idx = 2"), 0);
        assert_int_not_equal(ts_exec_rc("UPDATE audit_person_upto SET upto = 0"), 0);
        assert_int_not_equal(ts_exec_rc("DELETE FROM audit_person_upto"), 0);

        /* Without its mark (a copy of PostgreSQL's backup carries none):
         * everything is read through, and the next full range catches up,
         * over rows already there (the first range's, kept here). */
        sg_store_close(s);
        ts_exec("DROP TRIGGER audit_person_no_delete; DROP TRIGGER audit_person_upto_no_delete;"
                "DELETE FROM audit_person WHERE idx >= 4096; DELETE FROM audit_person_upto;");
        struct sg_err e;
        assert_int_equal(sg_store_open(where, 0, &s, &e), SG_OK);
        expect_person7(s, 0, UINT64_MAX, 9090);
        audit_fill(s, 9090, 3200);
        assert_int_equal(ts_count("SELECT upto FROM audit_person_upto"), 12288);
        assert_int_equal(ts_count("SELECT count(*) FROM audit_person"),
                         (int64_t)(12288 - (12288 + 2) / 3));
        expect_person7(s, 0, UINT64_MAX, 12290);

        /* A database of step 10 is brought forward: the full ranges go into
         * the index, the open one stays out. */
        sg_store_close(s);
        ts_exec("DROP TABLE audit_person; DROP TABLE audit_person_upto;"
                "CREATE INDEX audit_log_person ON audit_log (idx >> 12, pseudonym) "
                "WHERE pseudonym IS NOT NULL; DELETE FROM schema_migrations WHERE version >= 11");
        assert_int_equal(sg_store_open(where, 0, &s, &e), SG_OK);
        assert_int_equal(s->ops->migrate(s, 5, &e), SG_OK);
        assert_int_equal(ts_count("SELECT upto FROM audit_person_upto"), 12288);
        assert_int_equal(ts_count("SELECT count(*) FROM audit_person"),
                         (int64_t)(12288 - (12288 + 2) / 3));
        assert_int_equal(ts_count("SELECT count(*) FROM sqlite_schema WHERE name = "
                                  "'audit_log_person'"),
                         0);
        assert_int_not_equal(ts_exec_rc("DELETE FROM audit_person WHERE idx = 2"), 0);
        expect_person7(s, 0, UINT64_MAX, 12290);
    }

    /* Archiving takes the person out of the entries below its point. */
    struct sg_err e;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_archive(s, 5000, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    uint64_t size = sq ? 12290 : 9090;
    uint8_t p7[SG_PSEUDONYM_BYTES];
    memset(p7, 7, sizeof p7);
    struct seen c = {0};
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, p7, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, person7(5000, size));
    if (sq)
        assert_int_equal(ts_count("SELECT count(*) FROM audit_person WHERE idx < 5000"), 0);
    sg_store_close(s);
}

static int see_head(void *ctx, const struct sg_store_head *h)
{
    struct seen *c = ctx;
    if (c->n < 256)
        c->idx[c->n] = h->size;
    c->n++;
    if (strcmp(h->note, "note") != 0)
        c->bad++;
    return 0;
}

/* Ranges, one person's entries across index ranges of 4,096, times,
 * early stops, gaps in the tree, heads, and archiving. */
static void test_audit_queries(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    audit_fill(s, 0, 10);
    struct seen c = {0};
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, NULL, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 10);
    assert_int_equal(c.bad, 0);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(c.idx[i], i);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 2, 7, NULL, 15, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 2); /* 5 and 6: at >= 15 */
    assert_int_equal(c.idx[0], 5);
    memset(&c, 0, sizeof c);
    c.stop_at = 3;
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, NULL, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 3);
    uint8_t p7[SG_PSEUDONYM_BYTES];
    memset(p7, 7, sizeof p7);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, p7, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 3); /* 2, 4, 8 */
    assert_int_equal(c.idx[0], 2);
    assert_int_equal(c.idx[2], 8);
    assert_int_equal(c.bad, 0);

    /* One person across the ranges of the per-person index: the entries
     * 4,094 to 4,101 straddle two of them. */
    uint8_t hash[32];
    memset(hash, 1, sizeof hash);
    if (ts_pg())
        ts_exec("ALTER TABLE audit_log DISABLE TRIGGER USER;"
                "INSERT INTO audit_log SELECT i, 10 + i, NULL, '\\x00'::bytea, "
                "'\\x00'::bytea FROM generate_series(10, 4093) i;"
                "ALTER TABLE audit_log ENABLE TRIGGER USER");
    else
        ts_exec("WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 4093)"
                " INSERT INTO audit_log SELECT i, 10 + i, NULL, x'00', x'00' FROM n");
    audit_fill(s, 4094, 8);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 3, UINT64_MAX, p7, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 5); /* 4, 8, 4094, 4096, 4100 */
    assert_int_equal(c.idx[2], 4094);
    assert_int_equal(c.idx[3], 4096);
    assert_int_equal(c.idx[4], 4100);
    assert_int_equal(c.bad, 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 4095, 4100, p7, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 1); /* 4096 */
    memset(&c, 0, sizeof c);
    c.stop_at = 3;
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, p7, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, p7, 4101, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 3); /* 4094, 4096, 4100: at >= 4101 */

    /* Nodes: in key order, by the last entry each covers, then the level
     * (the order the verifier recomputes them), from a key on. */
    uint8_t nodes[4][32];
    struct sg_store_node buf[8];
    for (int i = 0; i < 4; i++)
        memset(nodes[i], 0x40 + i, 32);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_node_put(s, 2, 3, nodes[3], &e), SG_OK); /* 12-15 */
    assert_int_equal(s->ops->audit_node_put(s, 3, 0, nodes[2], &e), SG_OK); /* 0-7 */
    assert_int_equal(s->ops->audit_node_put(s, 2, 1, nodes[1], &e), SG_OK); /* 4-7 */
    assert_int_equal(s->ops->audit_node_put(s, 2, 0, nodes[0], &e), SG_OK); /* 0-3 */
    assert_int_equal(s->ops->audit_node_put(s, 1, 3, nodes[0], &e), SG_OK); /* 6-7 */
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    static const struct {
        unsigned level;
        uint64_t index;
        int hash;
    } order[] = {{2, 0, 0}, {1, 3, 0}, {2, 1, 1}, {3, 0, 2}, {2, 3, 3}};
    size_t n = 0;
    assert_int_equal(s->ops->audit_nodes_read(s, 0, 8, buf, &n, &e), SG_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(buf[i].level, order[i].level);
        assert_int_equal(buf[i].index, order[i].index);
        assert_memory_equal(buf[i].hash, nodes[order[i].hash], 32);
    }
    assert_int_equal(s->ops->audit_nodes_read(s, sg_node_key(2, 1), 2, buf, &n, &e), SG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(buf[1].level, 3);
    assert_int_equal(s->ops->audit_nodes_read(s, sg_node_key(2, 3) + 1, 8, buf, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    /* Keys and back, up to the largest log the keys hold. */
    static const uint64_t at[] = {0, 1, 4095, UINT64_C(1) << 40, (UINT64_C(1) << 50) - 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        for (unsigned l = 1; l < 7; l++) {
            unsigned l2;
            uint64_t i2;
            sg_node_unkey(sg_node_key(l, at[i]), &l2, &i2);
            assert_int_equal(l2, l);
            assert_int_equal(i2, at[i]);
        }

    /* Heads, by size, from a size on. */
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_heads_each(s, 11, see_head, &c, &e), SG_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.idx[0], 4102);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_heads_each(s, 0, see_head, &c, &e), SG_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.bad, 0);

    /* Archiving empties the content below a point, inside the caller's
     * transaction; undone with it; the guard is back afterwards. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_archive(s, 5, &e), SG_OK);
    s->ops->rollback(s);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_log WHERE length(leaf) = 0"), 0);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_archive(s, 5, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_log WHERE length(leaf) = 0 AND "
                              "pseudonym IS NULL AND idx < 5"),
                     5);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_log WHERE length(leaf) = 0"), 5);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_log WHERE length(hash) = 32"), 18);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 0, 6, NULL, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 6);
    assert_int_equal(c.bad, 3); /* 1, 2, 4 had a person and lost it */
    assert_int_not_equal(ts_exec_rc("UPDATE audit_log SET leaf = '' WHERE idx = 7"), 0);
    assert_int_not_equal(ts_exec_rc("DELETE FROM audit_log WHERE idx = 1"), 0);
    /* Outside a transaction it is refused: it must go with its record. */
    assert_int_not_equal(s->ops->audit_archive(s, 7, &e), SG_OK);
    sg_store_close(s);
    if (!ts_pg())
        return;
    /* PostgreSQL's guard lets archiving do what it does and nothing more,
     * and only in the transaction that asked. */
    static const char *const beyond[] = {
        "UPDATE audit_log SET at = 0 WHERE idx = 7",
        "UPDATE audit_log SET leaf = ''::bytea, pseudonym = NULL, hash = '\\x00'::bytea "
        "WHERE idx = 7",
        "UPDATE audit_log SET leaf = '\\x00'::bytea WHERE idx = 7",
        "DELETE FROM audit_log WHERE idx = 7",
    };
    char sql[512];
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        snprintf(sql, sizeof sql, "BEGIN; SELECT set_config('sargs.archiving', 'on', true); %s",
                 beyond[i]);
        assert_int_not_equal(ts_exec_rc(sql), 0);
        ts_exec("ROLLBACK");
    }
    ts_exec("BEGIN; SELECT set_config('sargs.archiving', 'on', true);"
            "UPDATE audit_log SET leaf = ''::bytea, pseudonym = NULL WHERE idx = 7; ROLLBACK");
    ts_exec("BEGIN; SELECT set_config('sargs.archiving', 'on', true); COMMIT");
    assert_int_not_equal(
        ts_exec_rc("UPDATE audit_log SET leaf = ''::bytea, pseudonym = NULL WHERE idx = 7"), 0);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_log WHERE length(leaf) = 0"), 5);
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
    /* Append-only, even for someone holding the database. */
    assert_int_not_equal(ts_exec_rc("UPDATE policies SET actor = 'x'"), 0);
    assert_int_not_equal(ts_exec_rc("DELETE FROM policies"), 0);
    if (ts_pg())
        assert_int_not_equal(ts_exec_rc("TRUNCATE policies"), 0);
    assert_int_equal(ts_count("SELECT count(*) FROM policies"), 4);
}

/* A database from before the policy versions (step 4), the memberships
 * (step 5), the consent ledger (step 6), operators (step 7), retention
 * (step 8), requests (step 9), sign-in codes (step 10), on SQLite the
 * per-person audit index written by ranges (step 11), and on PostgreSQL the
 * look-up entries by person (step 13) is migrated forward. It is made by taking back
 * what those steps created (on PostgreSQL the trigger function of step 4 too, so that the step's
 * text runs again on exactly the schema of step 3), with a token of step 3 in it that must survive
 * the new column. */
static void test_migrate_forward(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    sg_store_close(s);
    static const char later[] =
        "DROP TABLE memberships; ALTER TABLE tokens DROP COLUMN scope;"
        "DROP TABLE consent_events; DROP TABLE decisions; DROP TABLE operators;"
        "DROP TABLE sessions; DROP TABLE sweep_done; DROP TABLE global_events;"
        "DROP TABLE statistics; DROP TABLE outbox; DROP TABLE requests;"
        "DROP TABLE request_events; DROP TABLE person_codes;"
        "DELETE FROM schema_migrations WHERE version >= 4;";
    char sql[1024];
    if (ts_pg())
        snprintf(
            sql, sizeof sql,
            "DROP TABLE policies; DROP FUNCTION policies_refuse(); DROP INDEX lookup_subject; %s"
            "INSERT INTO tokens (id, name, role, purpose, hash, created) "
            "VALUES ('old', 'n', 'r', 'p', '\\x00', 1)",
            later);
    else
        snprintf(sql, sizeof sql,
                 "DROP TRIGGER policies_no_update; DROP TRIGGER policies_no_delete;"
                 "DROP TABLE policies; DROP TABLE audit_person; DROP TABLE audit_person_upto;"
                 "CREATE INDEX audit_log_person ON audit_log (idx >> 12, pseudonym) "
                 "WHERE pseudonym IS NOT NULL; %s"
                 "INSERT INTO tokens (id, name, role, purpose, hash, created) "
                 "VALUES ('old', 'n', 'r', 'p', x'00', 1)",
                 later);
    ts_exec(sql);
    struct sg_err e;
    assert_int_equal(sg_store_open(where, 0, &s, &e), SG_OK);
    int v = 0;
    assert_int_equal(s->ops->schema_version(s, &v, &e), SG_OK);
    assert_int_equal(v, 3);
    assert_int_equal(s->ops->migrate(s, 5, &e), SG_OK);
    assert_int_equal(s->ops->schema_version(s, &v, &e), SG_OK);
    assert_int_equal(v, SG_SCHEMA_VERSION);
    if (ts_pg())
        assert_int_equal(ts_count("SELECT count(*) FROM pg_indexes WHERE schemaname = "
                                  "current_schema() AND indexname = 'lookup_subject'"),
                         1);
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

/* ------------------------------------------------- tokens and memberships */

struct toks {
    int n;
    char ids[8][16];
    char scope[8][16]; /* "-" for none */
    sg_time revoked[8];
    int hash_ok;
};

static int see_token(void *ctx, const struct sg_store_token *t)
{
    struct toks *c = ctx;
    static const uint8_t h[32] = {9, 9, 9};
    if (c->n < 8) {
        snprintf(c->ids[c->n], 16, "%s", t->id);
        snprintf(c->scope[c->n], 16, "%s", t->scope ? t->scope : "-");
        c->revoked[c->n] = t->revoked;
    }
    c->hash_ok += memcmp(t->hash, h, 32) == 0 && strcmp(t->role, "support") == 0;
    c->n++;
    return 0;
}

static void put_token(struct sg_store *s, const char *id, const char *scope, sg_time created)
{
    static const uint8_t h[32] = {9, 9, 9};
    struct sg_store_token t = {id, "name", "support", "service", scope, h, created, 0};
    struct sg_err e;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->token_put(s, &t, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
}

struct groups {
    int n;
    char names[8][16];
};

static int see_group(void *ctx, const char *group, sg_time since)
{
    struct groups *g = ctx;
    (void)since;
    if (g->n < 8)
        snprintf(g->names[g->n], 16, "%s", group);
    g->n++;
    return 0;
}

/* Tokens: kept with their scope, listed by creation, revoked once; an
 * unknown or revoked token is an answer, not a broken transaction (the
 * vault asks again in the same one). */
static void test_tokens(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    put_token(s, "bbbb", NULL, 20);
    put_token(s, "aaaa", "LV", 20);
    put_token(s, "cccc", NULL, 10);
    struct toks c = {0};
    assert_int_equal(s->ops->token_each(s, see_token, &c, &e), SG_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.hash_ok, 3);
    assert_string_equal(c.ids[0], "cccc");
    assert_string_equal(c.ids[1], "aaaa");
    assert_string_equal(c.scope[1], "LV");
    assert_string_equal(c.scope[2], "-");
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->token_get(s, "aaaa", see_token, &c, &e), SG_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(s->ops->token_get(s, "none", see_token, &c, &e), SG_NOTFOUND);

    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->token_revoke(s, "aaaa", 30, &e), SG_OK);
    assert_int_equal(s->ops->token_revoke(s, "aaaa", 31, &e), SG_CONFLICT);
    assert_int_equal(s->ops->token_revoke(s, "none", 31, &e), SG_CONFLICT);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->token_get(s, "aaaa", see_token, &c, &e), SG_OK);
    assert_int_equal(c.revoked[0], 30);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* A second token of the same id is refused. */
    static const uint8_t h[32];
    struct sg_store_token dup = {"bbbb", "n", "r", "p", NULL, h, 1, 0};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    enum sg_rc rc = s->ops->token_put(s, &dup, &e);
    if (!rc)
        rc = s->ops->commit(s, &e);
    else
        s->ops->rollback(s);
    assert_int_equal(rc, SG_CONFLICT);
    sg_store_close(s);
    assert_int_equal(ts_count("SELECT count(*) FROM tokens WHERE revoked <> 0"), 1);
}

/* Memberships: listed by group name (byte order on both backends), taken
 * by an erasure with the rest of the person. */
static void test_memberships(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0}, b = {0};
    sg_uuid_v7(1000, &a.id);
    sg_uuid_v7(1000, &b.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    static const char *const groups[] = {"b-2", "B-1", "a.3", "_x"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(s->ops->member_put(s, &a.id, groups[i], 5, &e), SG_OK);
    assert_int_equal(s->ops->member_put(s, &a.id, "a.3", 6, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "already a member"));
    assert_int_equal(s->ops->member_put(s, &b.id, "_x", 6, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    struct groups g = {0};
    assert_int_equal(s->ops->members_each(s, &a.id, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.names[0], "B-1");
    assert_string_equal(g.names[1], "_x");
    assert_string_equal(g.names[2], "a.3");
    assert_string_equal(g.names[3], "b-2");
    /* Read right after the events (PostgreSQL reads both at once): the
     * same groups, the person's own, and a change in between is seen. */
    sg_time at = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->events_each(s, &a.id, see_event, &at, &e), SG_OK);
    memset(&g, 0, sizeof g);
    assert_int_equal(s->ops->members_each(s, &a.id, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 4);
    assert_int_equal(s->ops->events_each(s, &a.id, see_event, &at, &e), SG_OK);
    assert_int_equal(s->ops->member_del(s, &a.id, "a.3", &e), SG_OK);
    memset(&g, 0, sizeof g);
    assert_int_equal(s->ops->members_each(s, &a.id, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(s->ops->events_each(s, &b.id, see_event, &at, &e), SG_OK);
    memset(&g, 0, sizeof g);
    assert_int_equal(s->ops->members_each(s, &a.id, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 3);
    memset(&g, 0, sizeof g);
    assert_int_equal(s->ops->members_each(s, &b.id, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 1);
    s->ops->rollback(s);
    int shared = 0;
    assert_int_equal(s->ops->member_shared(s, &a.id, &b.id, &shared, &e), SG_OK);
    assert_true(shared);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_shred(s, &b.id, 4, 7, 0, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->member_shared(s, &a.id, &b.id, &shared, &e), SG_OK);
    assert_false(shared);
    memset(&g, 0, sizeof g);
    assert_int_equal(s->ops->members_each(s, &b.id, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 0);
    sg_store_close(s);
    assert_int_equal(ts_count("SELECT count(*) FROM memberships"), 4);
}

/* sg_tables (what a backup of PostgreSQL copies) names every table of the
 * schema, with one type letter per column; SQLite's per-person audit index
 * (step 11) is its own, not copied. */
static void test_table_list(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    sg_store_close(s);
    for (int i = 0; i < sg_tables_count; i++) {
        size_t commas = 0;
        for (const char *c = sg_tables[i].columns; *c; c++)
            commas += *c == ',';
        assert_int_equal(commas + 1, strlen(sg_tables[i].types));
    }
    int64_t n = ts_count(ts_pg() ? "SELECT count(*) FROM information_schema.tables WHERE "
                                   "table_schema = current_schema() AND "
                                   "table_name <> 'schema_migrations'"
                                 : "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                   "name NOT LIKE 'sqlite%' AND name <> 'schema_migrations' AND "
                                   "name NOT IN ('audit_person', 'audit_person_upto')");
    assert_int_equal(n, sg_tables_count);
}

/* A restore keeps what must outlive it when the live database has it: the
 * audit log with its archive mark, the policy versions, the tokens (a
 * revocation after the backup stays); the rest is the backup's. */
static void test_restore_keeps_history(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    audit_fill(s, 0, 3);
    add_policy(s, "h1", 1, "one");
    put_token(s, "tok1", NULL, 5);
    assert_int_equal(s->ops->meta_set(s, "audit_archived_below", "1", &e), SG_OK);
    assert_int_equal(s->ops->meta_set(s, "other", "old", &e), SG_OK);
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);

    /* After the backup: more log, archived further, a new version, the
     * token revoked, a new one; a new member. */
    audit_fill(s, 3, 2);
    assert_int_equal(s->ops->meta_set(s, "audit_archived_below", "4", &e), SG_OK);
    assert_int_equal(s->ops->meta_set(s, "other", "new", &e), SG_OK);
    add_policy(s, "h2", 2, "two");
    assert_int_equal(s->ops->token_revoke(s, "tok1", 9, &e), SG_OK);
    put_token(s, "tok2", NULL, 10);
    struct sg_uuid m;
    sg_uuid_v7(1000, &m);
    assert_int_equal(s->ops->member_put(s, &m, "g", 1, &e), SG_OK);

    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    uint64_t size = 0;
    assert_int_equal(s->ops->audit_size(s, &size, &e), SG_OK);
    assert_int_equal(size, 5);
    char *v = NULL;
    assert_int_equal(s->ops->meta_get(s, "audit_archived_below", &v, &e), SG_OK);
    assert_string_equal(v, "4");
    free(v);
    assert_int_equal(s->ops->meta_get(s, "other", &v, &e), SG_OK);
    assert_string_equal(v, "old");
    free(v);
    struct seen_policy sp;
    memset(&sp, 0, sizeof sp);
    assert_int_equal(s->ops->policy_each(s, 1, see_policy, &sp, &e), SG_OK);
    assert_int_equal(sp.n, 2);
    assert_string_equal(sp.text, "two");
    struct toks c = {0};
    assert_int_equal(s->ops->token_each(s, see_token, &c, &e), SG_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.revoked[0], 9);
    struct groups g = {0};
    assert_int_equal(s->ops->members_each(s, &m, see_group, &g, &e), SG_OK);
    assert_int_equal(g.n, 0);
    add_policy(s, "h3", 3, "three"); /* numbering goes on */

    /* A live log without an archive mark drops the backup's. */
    sg_store_close(s);
    ts_lose_database();
    s = open_new();
    audit_fill(s, 0, 1);
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->meta_get(s, "audit_archived_below", &v, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->audit_size(s, &size, &e), SG_OK);
    assert_int_equal(size, 1);
    /* ...while the empty history tables take the backup's. */
    memset(&sp, 0, sizeof sp);
    assert_int_equal(s->ops->policy_each(s, 1, see_policy, &sp, &e), SG_OK);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.text, "one");
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->token_each(s, see_token, &c, &e), SG_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.revoked[0], 0);

    /* Onto an empty database everything is the backup's, the mark too. */
    sg_store_close(s);
    ts_lose_database();
    s = open_new();
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->meta_get(s, "audit_archived_below", &v, &e), SG_OK);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(s->ops->audit_size(s, &size, &e), SG_OK);
    assert_int_equal(size, 3);
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
    audit_fill(s, 0, 2);
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_CONFLICT); /* never overwrites */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    audit_fill(s, 2, 3);
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    int n = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_list(s, NULL, 100, count_subjects, &n, &e), SG_OK);
    s->ops->rollback(s);
    assert_int_equal(n, 1);
    /* The live audit log stays: it is the evidence of what happened. */
    uint64_t size = 0;
    assert_int_equal(s->ops->audit_size(s, &size, &e), SG_OK);
    assert_int_equal(size, 5);
    assert_int_equal(ts_count("SELECT count(*) FROM audit_heads"), 2);
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
    uint8_t bidx[SG_BIDX_BYTES];
    memset(bidx, 0x5c, sizeof bidx); /* backslashes */
    int code = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, rec, sizeof rec, &e), SG_OK);
    assert_int_equal(s->ops->category_add(s, "user.contact.email", &code, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, code, bidx, &a.id, &e), SG_OK);
    assert_int_equal(s->ops->history_append(s, &a.id, &h, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    audit_fill(s, 0, 3);
    uint8_t node[32], hash[32];
    memset(node, 0x5c, sizeof node);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->audit_node_put(s, 1, 0, node, &e), SG_OK);
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
    uint64_t n = 0;
    assert_int_equal(lite->ops->audit_size(lite, &n, &e), SG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(lite->ops->audit_hash_get(lite, 1, 0, hash, &e), SG_OK);
    assert_memory_equal(hash, node, 32);
    struct seen c = {0};
    assert_int_equal(lite->ops->audit_each(lite, 0, UINT64_MAX, NULL, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.bad, 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(lite->ops->audit_heads_each(lite, 0, see_head, &c, &e), SG_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.bad, 0);
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
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM history WHERE category = E'tab\\there' "
                              "AND actor = E'new\\nline'"),
                     1);

    /* Into an empty database (lost and made anew), the backup's audit log
     * comes back with the rest, byte for byte. */
    sg_store_close(s);
    ts_lose_database();
    s = open_new();
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->audit_size(s, &n, &e), SG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(s->ops->audit_hash_get(s, 1, 0, hash, &e), SG_OK);
    assert_memory_equal(hash, node, 32);
    memset(&c, 0, sizeof c);
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, NULL, 0, see_entry, &c, &e), SG_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.bad, 0);
    audit_fill(s, 3, 1); /* and it goes on */
    sg_buf_release(&back);
    sg_store_close(s);
}

/* ------------------------------------- consent, operators, retention, outbox */

struct consents {
    int n;
    int64_t seq[8];
    int has_subject[8];
    int category[8];
    uint32_t kv[8];
    char details[8][16];
    char purpose[8][16];
};

static int see_consent(void *ctx, const struct sg_store_consent *c)
{
    struct consents *l = ctx;
    if (l->n < 8) {
        l->seq[l->n] = c->seq;
        l->has_subject[l->n] = c->has_subject;
        l->category[l->n] = c->category;
        l->kv[l->n] = c->kv;
        snprintf(l->details[l->n], 16, "%.*s", (int)c->details_len,
                 c->details ? (const char *)c->details : "");
        snprintf(l->purpose[l->n], 16, "%s", c->purpose);
    }
    l->n++;
    return 0;
}

static struct sg_store_consent consent_event(const struct sg_uuid *subject, int category,
                                             uint8_t bidx_byte, const char *purpose,
                                             const char *details)
{
    struct sg_store_consent c;
    memset(&c, 0, sizeof c);
    if (subject) {
        c.has_subject = 1;
        c.subject = *subject;
    } else {
        c.category = category;
        memset(c.bidx, bidx_byte, sizeof c.bidx);
    }
    c.purpose = purpose;
    c.state = 1;
    c.at = 100;
    c.method = 2;
    c.lang = "lv";
    c.notice = "n1";
    c.actor = "tester";
    c.kv = 1;
    c.details = (const uint8_t *)details;
    c.details_len = details ? strlen(details) : 0;
    return c;
}

static void put_pstate(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                       int consent, sg_time since)
{
    struct sg_store_pstate ps = {consent, since, since + 10, 3};
    struct sg_err e;
    assert_int_equal(s->ops->pstate_put(s, id, purpose, &ps, &e), SG_OK);
}

/* The ledger (numbers, pending events handed over and re-sealed) and the
 * decision rows: packed as on SQLite byte for byte, the state copy kept,
 * a rolled-back change forgotten, everything gone with an erasure. */
static void test_consent_calls(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0}, b = {0};
    sg_uuid_v7(1000, &a.id);
    sg_uuid_v7(1000, &b.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    struct sg_store_consent c1 = consent_event(&a.id, 0, 0, "news", "ev-a1");
    struct sg_store_consent c2 = consent_event(&a.id, 0, 0, "photos", NULL);
    struct sg_store_consent p1 = consent_event(NULL, 3, 0x5c, "news", "pend-1");
    struct sg_store_consent p2 = consent_event(NULL, 3, 0x5c, "survey", "pend-2");
    struct sg_store_consent p3 = consent_event(NULL, 3, 0x11, "news", "other");
    assert_int_equal(s->ops->consent_append(s, &c1, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p1, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &c2, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p2, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p3, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_true(c1.seq > 0 && p1.seq > c1.seq && c2.seq > p1.seq && p3.seq > p2.seq);

    struct consents l = {0};
    assert_int_equal(s->ops->consent_each(s, &a.id, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.seq[0], c1.seq);
    assert_string_equal(l.details[0], "ev-a1");
    assert_string_equal(l.purpose[1], "photos");
    assert_string_equal(l.details[1], "");
    uint8_t x[SG_BIDX_BYTES];
    memset(x, 0x5c, sizeof x);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, x, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.seq[0], p1.seq);
    assert_false(l.has_subject[0]);
    assert_int_equal(l.category[0], 3);
    /* b takes the pending events of x over, re-sealed. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->consent_reseal(s, p1.seq, 7, (const uint8_t *)"mine", 4, &e), SG_OK);
    assert_int_equal(s->ops->consent_link(s, 3, x, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, x, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(s->ops->consent_each(s, &b.id, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    assert_true(l.has_subject[0] && l.has_subject[1]);
    assert_int_equal(l.kv[0], 7);
    assert_string_equal(l.details[0], "mine");
    assert_string_equal(l.details[1], "pend-2");
    memset(x, 0x11, sizeof x);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, x, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);

    /* Decisions: the person's own row until a purpose has a state. */
    struct sg_store_pstate ps;
    int st = -1, has = -1;
    assert_int_equal(s->ops->pstate_get(s, &a.id, "news", &ps, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->decide(s, &a.id, "news", &st, &ps, &has, &e), SG_OK);
    assert_int_equal(st, 0);
    assert_int_equal(has, 0);
    struct sg_uuid nobody;
    sg_uuid_v7(1000, &nobody);
    assert_int_equal(s->ops->decide(s, &nobody, "news", &st, &ps, &has, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->pstate_get(s, &a.id, "news", &ps, &e), SG_NOTFOUND);
    put_pstate(s, &a.id, "news", 2, 5);
    put_pstate(s, &a.id, "photos", 1, 6);
    put_pstate(s, &a.id, "news", 3, 7);
    /* Inside the transaction the change is seen. */
    assert_int_equal(s->ops->decide(s, &a.id, "news", &st, &ps, &has, &e), SG_OK);
    assert_int_equal(has, 1);
    assert_int_equal(ps.consent, 3);
    assert_int_equal(s->ops->pstate_put(s, &nobody, "news", &ps, &e), SG_NOTFOUND);
    s->ops->rollback(s);
    assert_int_equal(ts_count("SELECT count(*) FROM decisions"), 0);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    put_pstate(s, &a.id, "news", 2, 5);
    put_pstate(s, &a.id, "photos", 1, 6);
    put_pstate(s, &a.id, "news", 3, 7);
    /* A savepoint rolled back takes its change with it. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    put_pstate(s, &a.id, "survey", 1, 8);
    assert_int_equal(s->ops->pstate_get(s, &a.id, "survey", &ps, &e), SG_OK);
    s->ops->rollback(s);
    assert_int_equal(s->ops->pstate_get(s, &a.id, "survey", &ps, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->subject_set_state(s, &a.id, 1, 9, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&ps, 0, sizeof ps);
    assert_int_equal(s->ops->pstate_get(s, &a.id, "news", &ps, &e), SG_OK);
    assert_int_equal(ps.consent, 3);
    assert_int_equal(ps.since, 7);
    assert_int_equal(ps.expires, 17);
    assert_int_equal(ps.flags, 3);
    assert_int_equal(s->ops->decide(s, &a.id, "photos", &st, &ps, &has, &e), SG_OK);
    assert_int_equal(st, 1); /* the state's copy follows the person */
    assert_int_equal(has, 1);
    assert_int_equal(ps.consent, 1);
    assert_int_equal(s->ops->decide(s, &a.id, "survey", &st, &ps, &has, &e), SG_OK);
    assert_int_equal(has, 0);
    assert_int_equal(ts_count("SELECT state FROM decisions"), 1);
    /* The layout both backends write: len | id | consent | flags | since |
     * expires, little-endian. */
    uint8_t row[128];
    size_t n = ts_get_blob("SELECT purposes FROM decisions", row, sizeof row);
    static const uint8_t want[] = {
        4,   'n', 'e', 'w', 's', 3,   3, 7, 0, 0, 0, 0, 0, 0, 0, 17, 0,  0, 0, 0, 0, 0, 0, 6,
        'p', 'h', 'o', 't', 'o', 's', 1, 3, 6, 0, 0, 0, 0, 0, 0, 0,  16, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(row, want, sizeof want);
    /* A damaged row is reported as such. */
    const uint8_t cut[3] = {9, 'x', 'y'};
    const void *v[2] = {cut, a.id.b};
    size_t len[2] = {sizeof cut, 16};
    ts_exec_blobs(ts_pg() ? "UPDATE decisions SET purposes = $1 WHERE subject = $2::uuid"
                          : "UPDATE decisions SET purposes = $1 WHERE subject = $2",
                  2, v, len);
    assert_int_equal(s->ops->decide(s, &a.id, "news", &st, &ps, &has, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "damaged"));

    /* An erasure takes the ledger and the decision row. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_shred(s, &a.id, 4, 10, 0, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_each(s, &a.id, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(s->ops->decide(s, &a.id, "news", &st, &ps, &has, &e), SG_OK);
    assert_int_equal(st, 4);
    assert_int_equal(has, 0);
    sg_store_close(s);
    assert_int_equal(ts_count("SELECT count(*) FROM consent_events"), 3);
    assert_int_equal(ts_count("SELECT count(*) FROM decisions"), 0);
}

/* The pending events of a key just indexed (PostgreSQL knows a bucket of
 * keys has none once it has looked, see pg_index_put): what the
 * transaction changes since is seen, and what a rolled-back savepoint did
 * is not. */
static void test_pending_after_index(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject b = {0};
    sg_uuid_v7(1000, &b.id);
    uint8_t y[SG_BIDX_BYTES], z[SG_BIDX_BYTES], w[SG_BIDX_BYTES];
    memset(y, 0x21, sizeof y);
    memset(z, 0x22, sizeof z);
    memset(w, 0x23, sizeof w);
    struct sg_store_consent p1 = consent_event(NULL, 3, 0x21, "news", "y1");
    struct sg_store_consent p2 = consent_event(NULL, 3, 0x22, "news", "z0");
    struct consents l = {0};
    uint64_t size = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p1, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p2, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 3, y, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 3, z, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->audit_size(s, &size, &e), SG_OK);
    assert_int_equal(s->ops->consent_pending(s, 3, y, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.details[0], "y1");
    /* z's event re-sealed after z was indexed: the new details. */
    assert_int_equal(s->ops->consent_reseal(s, p2.seq, 1, (const uint8_t *)"z1", 2, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, z, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.details[0], "z1");
    /* Linked within the operation: nothing pending any more. */
    assert_int_equal(s->ops->consent_link(s, 3, y, &b.id, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, y, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* A savepoint records and indexes; rolled back, neither happened. */
    struct sg_store_consent p3 = consent_event(NULL, 3, 0x23, "news", "w1");
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p3, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 3, w, &b.id, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, w, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    s->ops->rollback(s);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, w, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* A consent against another value of a bucket looked at, before and
     * after the look's answer came back. */
    uint8_t k1[SG_BIDX_BYTES], k2[SG_BIDX_BYTES], k3[SG_BIDX_BYTES], k4[SG_BIDX_BYTES];
    memset(k1, 0x31, sizeof k1);
    memset(k2, 0x32, sizeof k2);
    memset(k3, 0x41, sizeof k3);
    memset(k4, 0x42, sizeof k4);
    struct sg_store_consent p4 = consent_event(NULL, 3, 0x32, "news", "k2");
    struct sg_store_consent p5 = consent_event(NULL, 3, 0x42, "news", "k4");
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 3, k1, &b.id, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, k1, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(s->ops->consent_append(s, &p4, &e), SG_OK);
    assert_int_equal(s->ops->consent_pending(s, 3, k2, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(s->ops->index_put(s, 3, k3, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p5, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, k4, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* The first and the last bucket (0x0…, 0xf…): pending events found. */
    uint8_t lo[SG_BIDX_BYTES], hi[SG_BIDX_BYTES];
    memset(lo, 0x07, sizeof lo);
    memset(hi, 0xf7, sizeof hi);
    struct sg_store_consent p6 = consent_event(NULL, 3, 0x07, "news", "lo");
    struct sg_store_consent p7 = consent_event(NULL, 3, 0xf7, "news", "hi");
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p6, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &p7, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 3, lo, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->index_put(s, 3, hi, &b.id, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, hi, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.details[0], "hi");
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, lo, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(s->ops->consent_link(s, 3, hi, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->consent_link(s, 3, lo, &b.id, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* Many keys in one transaction, in every bucket. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    for (int i = 0; i < 40; i++) {
        uint8_t k[SG_BIDX_BYTES];
        memset(k, 0x40 + i * 7, sizeof k);
        k[0] = (uint8_t)(i * 13);
        assert_int_equal(s->ops->index_put(s, 3, k, &b.id, &e), SG_OK);
    }
    for (int i = 39; i >= 0; i--) {
        uint8_t k[SG_BIDX_BYTES];
        memset(k, 0x40 + i * 7, sizeof k);
        k[0] = (uint8_t)(i * 13);
        memset(&l, 0, sizeof l);
        assert_int_equal(s->ops->consent_pending(s, 3, k, see_consent, &l, &e), SG_OK);
        assert_int_equal(l.n, 0);
    }
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->consent_pending(s, 3, z, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    sg_store_close(s);
}

struct ops_seen {
    int n;
    char login[8][16];
    char scope[8][16];
    int failures[8], disabled[8];
};

static int see_operator(void *ctx, const struct sg_store_operator *o)
{
    struct ops_seen *l = ctx;
    if (l->n < 8) {
        snprintf(l->login[l->n], 16, "%s", o->login);
        snprintf(l->scope[l->n], 16, "%s", o->scope ? o->scope : "-");
        l->failures[l->n] = o->failures;
        l->disabled[l->n] = o->disabled;
    }
    l->n++;
    return 0;
}

/* Operators (a login taken is an answer, not a broken transaction) and
 * their sessions. */
static void test_operators_sessions(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_operator o = {"b-x", "support", "service", NULL, "$argon2id$h", 1, 2, 0, 0, 0};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->operator_insert(s, &o, &e), SG_OK);
    assert_int_equal(s->ops->operator_insert(s, &o, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "exists"));
    o.login = "a_z";
    o.scope = "LV";
    assert_int_equal(s->ops->operator_insert(s, &o, &e), SG_OK);
    o.login = "a.y";
    o.scope = NULL;
    assert_int_equal(s->ops->operator_put(s, &o, &e), SG_OK);
    o.failures = 4;
    o.disabled = 1;
    assert_int_equal(s->ops->operator_put(s, &o, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    struct ops_seen l = {0};
    assert_int_equal(s->ops->operator_each(s, see_operator, &l, &e), SG_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.login[0], "a.y");
    assert_string_equal(l.login[1], "a_z");
    assert_string_equal(l.login[2], "b-x");
    assert_string_equal(l.scope[1], "LV");
    assert_string_equal(l.scope[2], "-");
    assert_int_equal(l.failures[0], 4);
    assert_int_equal(l.disabled[0], 1);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->operator_get(s, "a_z", see_operator, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(s->ops->operator_get(s, "nobody", see_operator, &l, &e), SG_NOTFOUND);

    struct sg_store_session s1 = {{1}, "a_z", 10, 100, 10}, s2 = {{2}, "a_z", 10, 50, 10},
                            s3 = {{3}, "b-x", 10, 100, 10}, got;
    char login[65];
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &s1, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &s2, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &s3, &e), SG_OK);
    assert_int_equal(s->ops->session_seen(s, s1.hash, 20, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->session_get(s, s1.hash, &got, login, sizeof login, &e), SG_OK);
    assert_string_equal(got.login, "a_z");
    assert_int_equal(got.seen, 20);
    assert_int_equal(got.expires, 100);
    assert_memory_equal(got.hash, s1.hash, 32);
    uint8_t none[32] = {9};
    assert_int_equal(s->ops->session_get(s, none, &got, login, sizeof login, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->session_purge(s, 50, &e), SG_OK); /* s2 has expired */
    assert_int_equal(s->ops->session_del(s, s3.hash, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM sessions"), 1);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &s3, &e), SG_OK);
    assert_int_equal(s->ops->session_del_login(s, "a_z", &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->session_get(s, s1.hash, &got, login, sizeof login, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->session_get(s, s3.hash, &got, login, sizeof login, &e), SG_OK);
    sg_store_close(s);
}

struct sweep_seen {
    int n, pages;
    struct sg_uuid last;
    char rows[16][96]; /* "events=...;done=..." of each person */
};

static int see_sweep(void *ctx, const struct sg_store_sweep_row *r)
{
    struct sweep_seen *w = ctx;
    if (w->n < 16) {
        char *o = w->rows[w->n];
        size_t at = 0;
        at += (size_t)snprintf(o + at, 96 - at, "s%d:", r->state);
        for (size_t i = 0; i < r->nevents; i++)
            at += (size_t)snprintf(o + at, 96 - at, "%s@%lld,", r->events[i].name,
                                   (long long)r->events[i].at);
        at += (size_t)snprintf(o + at, 96 - at, ";");
        for (size_t i = 0; i < r->ndone; i++)
            at += (size_t)snprintf(o + at, 96 - at, "%s@%lld,", r->done[i].rule,
                                   (long long)r->done[i].anchor);
    }
    w->last = r->id;
    w->n++;
    return 0;
}

/* Sorts the events of each person's line so that backends may hand them
 * out in any order. */
static void sweep_all(struct sg_store *s, size_t limit, struct sweep_seen *w)
{
    struct sg_err e;
    memset(w, 0, sizeof *w);
    for (;;) {
        int before = w->n;
        assert_int_equal(s->ops->sweep_scan(s, before ? &w->last : NULL, limit, see_sweep, w, &e),
                         SG_OK);
        assert_true((size_t)(w->n - before) <= limit);
        if (w->n == before)
            break;
        w->pages++;
    }
}

static int count_stat(void *ctx, const char *category, const char *value, int year, uint64_t count)
{
    char *out = ctx;
    size_t at = strlen(out);
    snprintf(out + at, 256 - at, "%s=%s/%d:%llu;", category, value, year,
             (unsigned long long)count);
    return 0;
}

/* Retention: people in id order with their events and done marks, page by
 * page; done marks and dates of global events recorded once; statistics
 * counted; history removed by category; an erasure takes the done marks. */
static void test_retention_calls(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_uuid id[5];
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    for (int i = 0; i < 5; i++) {
        struct sg_store_subject sub = {0};
        sg_uuid_v7(1000 + i, &sub.id);
        sub.state = i == 2 ? 1 : 0;
        sub.created = 10 + i;
        id[i] = sub.id;
        assert_int_equal(s->ops->subject_insert(s, &sub, NULL, 0, &e), SG_OK);
    }
    assert_int_equal(s->ops->event_put(s, &id[0], "confirmed", 5, &e), SG_OK);
    assert_int_equal(s->ops->event_put(s, &id[1], "last_login", 6, &e), SG_OK);
    assert_int_equal(s->ops->event_put(s, &id[3], "confirmed", 7, &e), SG_OK);
    assert_int_equal(s->ops->event_put(s, &id[4], "last_login", 8, &e), SG_OK);
    assert_int_equal(s->ops->sweep_done_put(s, &id[1], "r1", 6, 20, &e), SG_OK);
    assert_int_equal(s->ops->sweep_done_put(s, &id[1], "r1", 6, 21, &e), SG_OK); /* again */
    assert_int_equal(s->ops->sweep_done_put(s, &id[4], "r2", 8, 20, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM sweep_done"), 2);
    for (size_t limit = 1; limit <= 6; limit++) {
        struct sweep_seen w;
        sweep_all(s, limit, &w);
        assert_int_equal(w.n, 5);
        assert_int_equal(w.pages, (int)((5 + limit - 1) / limit));
        assert_string_equal(w.rows[0], "s0:confirmed@5,;");
        assert_string_equal(w.rows[1], "s0:last_login@6,;r1@6,");
        assert_string_equal(w.rows[2], "s1:;");
        assert_string_equal(w.rows[3], "s0:confirmed@7,;");
        assert_string_equal(w.rows[4], "s0:last_login@8,;r2@8,");
    }

    sg_time at = 0;
    assert_int_equal(s->ops->global_event_latest(s, "closing", 100, &at, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->global_event_put(s, "closing", 30, &e), SG_OK);
    assert_int_equal(s->ops->global_event_put(s, "closing", 30, &e), SG_OK);
    assert_int_equal(s->ops->global_event_put(s, "closing", 50, &e), SG_OK);
    assert_int_equal(s->ops->global_event_put(s, "opening", 70, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->global_event_latest(s, "closing", 100, &at, &e), SG_OK);
    assert_int_equal(at, 50);
    assert_int_equal(s->ops->global_event_latest(s, "closing", 49, &at, &e), SG_OK);
    assert_int_equal(at, 30);
    assert_int_equal(s->ops->global_event_latest(s, "closing", 29, &at, &e), SG_NOTFOUND);
    assert_int_equal(ts_count("SELECT count(*) FROM global_events"), 3);

    static const uint8_t k1[16] = {1}, k2[16] = {2}, k3[16] = {3};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->stats_put(s, k1, "country", "LV", 2026, &e), SG_OK);
    assert_int_equal(s->ops->stats_put(s, k1, "Age", "30-39", 2026, &e), SG_OK);
    assert_int_equal(s->ops->stats_put(s, k2, "country", "LV", 2026, &e), SG_OK);
    assert_int_equal(s->ops->stats_put(s, k3, "country", "EE", 2026, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char stats[256] = "";
    assert_int_equal(s->ops->stats_each(s, count_stat, stats, &e), SG_OK);
    assert_string_equal(stats, "Age=30-39/2026:1;country=EE/2026:1;country=LV/2026:2;");

    struct sg_store_history h1 = {0, "email", NULL, 0, 1, NULL, 0, "tester", 7};
    struct sg_store_history h2 = {0, "phone", NULL, 0, 1, NULL, 0, "tester", 8};
    struct sg_store_message m = {{{0}}, 1, id[1], "notice", 5, 1,   (const uint8_t *)"x",
                                 1,     0, 0,     0,        0, NULL};
    sg_uuid_v7(1000, &m.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->history_append(s, &id[1], &h1, &e), SG_OK);
    assert_int_equal(s->ops->history_append(s, &id[1], &h2, &e), SG_OK);
    assert_int_equal(s->ops->history_append(s, &id[1], &h1, &e), SG_OK);
    assert_int_equal(s->ops->history_del_category(s, &id[1], "email", &e), SG_OK);
    assert_int_equal(s->ops->outbox_put(s, &m, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    int nh = 0;
    assert_int_equal(s->ops->history_each(s, &id[1], see_history, &nh, &e), SG_OK);
    assert_int_equal(nh, 1);
    /* An erasure takes the person's done marks and messages. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_shred(s, &id[1], 4, 9, 0, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM sweep_done"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM outbox"), 0);
    assert_int_equal(ts_count("SELECT count(*) FROM history"), 0);
    sg_store_close(s);
}

struct msgs {
    int n;
    struct sg_uuid id[8];
    char kind[8][16];
    int state[8], attempts[8], has_subject[8];
    char error[8][16];
};

static int see_message(void *ctx, const struct sg_store_message *m)
{
    struct msgs *l = ctx;
    if (l->n < 8) {
        l->id[l->n] = m->id;
        snprintf(l->kind[l->n], 16, "%s", m->kind);
        l->state[l->n] = m->state;
        l->attempts[l->n] = m->attempts;
        l->has_subject[l->n] = m->has_subject;
        snprintf(l->error[l->n], 16, "%s", m->error ? m->error : "-");
        /* the content stays while queued, and is wiped with the outcome */
        if (m->state == 0) {
            assert_int_equal(m->sealed_len, 3);
            assert_memory_equal(m->sealed, "s\0t", 3);
        } else {
            assert_int_equal(m->sealed_len, 0);
        }
    }
    l->n++;
    return 0;
}

static void put_messages(struct sg_store *s, struct sg_uuid *ids, int n)
{
    struct sg_err e;
    struct sg_store_subject sub = {0};
    sg_uuid_v7(1000, &sub.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, NULL, 0, &e), SG_OK);
    for (int i = 0; i < n; i++) {
        struct sg_store_message m = {{{0}},
                                     i != 1,
                                     sub.id,
                                     i ? "reminder" : "notice",
                                     10 * (i + 1),
                                     1,
                                     (const uint8_t *)"s\0t",
                                     3,
                                     0,
                                     0,
                                     0,
                                     0,
                                     NULL};
        sg_uuid_v7(1000 + i, &m.id);
        ids[i] = m.id;
        assert_int_equal(s->ops->outbox_put(s, &m, &e), SG_OK);
    }
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
}

/* A lease: on SQLite in the test's own time (`now` is the clock), on
 * PostgreSQL in real microseconds of the server's clock: an hour where the
 * test needs it running, 300 ms where it needs it over. */
#define LEASE_LONG(logical)  (ts_pg() ? INT64_C(3600000000) : (logical))
#define LEASE_SHORT(logical) (ts_pg() ? INT64_C(300000) : (logical))

/* The outbox: messages due are claimed with a lease, a claimed message is
 * nobody else's until the lease ends or its outcome is recorded. */
static void test_outbox_calls(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_uuid ids[3];
    sg_time until1 = 0, until2 = 0, until = 0;
    put_messages(s, ids, 3); /* due at 10, 20, 30 */
    struct msgs l = {0};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->outbox_claim(s, 25, LEASE_LONG(75), 10, see_message, &l, &until1, &e),
                     SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(l.n, 2);
    assert_false(l.has_subject[0] && l.has_subject[1]); /* the second has none */
    if (!ts_pg())
        assert_int_equal(until1, 100);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->outbox_claim(s, 40, LEASE_SHORT(60), 10, see_message, &l, &until2, &e),
                     SG_OK);
    assert_int_equal(l.n, 1); /* only the third: the others are leased */
    assert_memory_equal(l.id[0].b, ids[2].b, 16);
    /* An outcome under a claim that is not the message's (it ran out and
     * another worker took it) is refused and changes nothing. */
    assert_int_equal(s->ops->outbox_update(s, &ids[0], until1 - 1, 1, 1, 10, 41, NULL, &e),
                     SG_CONFLICT);
    /* The first is sent, the second failed and waits until 200. */
    assert_int_equal(s->ops->outbox_update(s, &ids[0], until1, 1, 1, 10, 41, NULL, &e), SG_OK);
    assert_int_equal(s->ops->outbox_update(s, &ids[1], until1, 0, 1, 200, 0, "refused", &e), SG_OK);
    /* Recorded once: the claim is lifted with it. */
    assert_int_equal(s->ops->outbox_update(s, &ids[0], until1, 1, 1, 10, 41, NULL, &e),
                     SG_CONFLICT);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    if (ts_pg())
        usleep(400000); /* the third's short lease runs out */
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->outbox_claim(s, 150, LEASE_LONG(150), 10, see_message, &l, &until, &e),
                     SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(l.n, 1); /* the third's lease ended */
    assert_memory_equal(l.id[0].b, ids[2].b, 16);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->outbox_claim(s, 250, LEASE_LONG(150), 1, see_message, &l, &until, &e),
                     SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(l.n, 1); /* the second; the third is leased */
    assert_memory_equal(l.id[0].b, ids[1].b, 16);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->outbox_each(s, -1, see_message, &l, &e), SG_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.kind[0], "notice");
    assert_int_equal(l.state[0], 1);
    assert_string_equal(l.error[1], "refused");
    assert_int_equal(l.attempts[1], 1);
    assert_string_equal(l.error[2], "-");
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->outbox_each(s, 1, see_message, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->outbox_each(s, 0, see_message, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    sg_store_close(s);
}

/* ---------------------------------------------------------------- requests */

struct reqs {
    int n, stop_at;
    struct sg_uuid id[8];
    int has_subject[8], kind[8], state[8], extended[8], copies[8];
    int64_t received[8], due_day[8], paused_since[8], closed[8];
    char channel[8][16], identity[8][16], agent[8][16];
};

static int see_request(void *ctx, const struct sg_store_request *r)
{
    struct reqs *l = ctx;
    if (l->n < 8) {
        l->id[l->n] = r->id;
        l->has_subject[l->n] = r->has_subject;
        l->kind[l->n] = r->kind;
        l->state[l->n] = r->state;
        l->extended[l->n] = r->extended;
        l->copies[l->n] = r->copies;
        l->received[l->n] = r->received;
        l->due_day[l->n] = r->due_day;
        l->paused_since[l->n] = r->paused_since;
        l->closed[l->n] = r->closed;
        snprintf(l->channel[l->n], 16, "%s", r->channel);
        snprintf(l->identity[l->n], 16, "%s", r->identity ? r->identity : "(null)");
        snprintf(l->agent[l->n], 16, "%s", r->agent ? r->agent : "(null)");
    }
    l->n++;
    return l->stop_at && l->n >= l->stop_at;
}

struct req_events {
    int n;
    int64_t seq[8];
    char line[8][48];
};

static int see_request_event(void *ctx, const struct sg_store_request_event *ev)
{
    struct req_events *l = ctx;
    if (l->n < 8) {
        l->seq[l->n] = ev->seq;
        char reason[16] = "-";
        if (ev->reason) {
            assert_true(ev->reason_len < sizeof reason);
            for (size_t i = 0; i < ev->reason_len; i++)
                reason[i] = ev->reason[i] ? (char)ev->reason[i] : '0';
            reason[ev->reason_len] = '\0';
        }
        snprintf(l->line[l->n], 48, "%lld %s %s %d %s", (long long)ev->at, ev->actor, ev->verb,
                 ev->state, reason);
    }
    l->n++;
    return 0;
}

/* Four requests: a and c are one person's (c closed), b names nobody yet,
 * d another person's. Due days 30, 10, 20, 10 (b and d tie: by id). */
static void put_requests(struct sg_store *s, struct sg_store_request *r, struct sg_uuid *who)
{
    struct sg_err e;
    sg_uuid_v7(1000, &who[0]);
    sg_uuid_v7(1000, &who[1]);
    static const int64_t due[4] = {30, 10, 20, 10};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    for (int i = 0; i < 4; i++) {
        memset(&r[i], 0, sizeof r[i]);
        sg_uuid_v7(2000 + i, &r[i].id);
        r[i].has_subject = i != 1;
        r[i].subject = who[i == 3];
        r[i].kind = i == 1 ? 3 : 1;
        r[i].channel = i == 1 ? "post" : "in_person";
        r[i].state = i == 2 ? 6 : 0;
        r[i].received = 100 + i;
        r[i].received_day = 1;
        r[i].due_day = due[i];
        r[i].identity = i == 0 ? "id_document" : NULL;
        r[i].agent = i == 3 ? "power of att." : NULL;
        r[i].closed = i == 2 ? 500 : 0;
        r[i].updated = 100 + i;
        assert_int_equal(s->ops->request_put(s, &r[i], &e), SG_OK);
    }
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
}

/* Requests: a row read back as written (no person, no identity, no agent
 * stay none), rewritten whole; open ones by due day then id, bounded and
 * limited; one person's in every state, newest first; transitions in order
 * with their sealed reasons byte for byte. */
static void test_request_calls(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_request r[4];
    struct sg_uuid who[2];
    put_requests(s, r, who);
    struct reqs l = {0};
    struct sg_uuid unknown;
    sg_uuid_v7(9000, &unknown);
    assert_int_equal(s->ops->request_get(s, &unknown, see_request, &l, &e), SG_NOTFOUND);
    assert_int_equal(l.n, 0);
    assert_int_equal(s->ops->request_get(s, &r[1].id, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_false(l.has_subject[0]);
    assert_int_equal(l.kind[0], 3);
    assert_string_equal(l.channel[0], "post");
    assert_string_equal(l.identity[0], "(null)");
    assert_string_equal(l.agent[0], "(null)");
    assert_int_equal(l.received[0], 101);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_get(s, &r[3].id, see_request, &l, &e), SG_OK);
    assert_true(l.has_subject[0]);
    assert_string_equal(l.agent[0], "power of att.");

    /* Rewritten: identified, paused, extended. */
    r[1].has_subject = 1;
    r[1].subject = who[1];
    r[1].kind = 1;
    r[1].identity = "account";
    r[1].paused_since = 7;
    r[1].extended = 1;
    r[1].copies = 2;
    r[1].due_day = 40;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->request_put(s, &r[1], &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_get(s, &r[1].id, see_request, &l, &e), SG_OK);
    assert_true(l.has_subject[0]);
    assert_int_equal(l.kind[0], 1);
    assert_string_equal(l.identity[0], "account");
    assert_int_equal(l.paused_since[0], 7);
    assert_int_equal(l.extended[0], 1);
    assert_int_equal(l.copies[0], 2);
    assert_int_equal(l.due_day[0], 40);
    assert_int_equal(ts_count("SELECT count(*) FROM requests"), 4);

    /* Open ones: d (10), a (30), b (40); c is closed. */
    struct sg_request_filter f = {1, 0, 0, {{0}}, 0, 0};
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &f, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 3);
    assert_memory_equal(l.id[0].b, r[3].id.b, 16);
    assert_memory_equal(l.id[1].b, r[0].id.b, 16);
    assert_memory_equal(l.id[2].b, r[1].id.b, 16);
    f.limit = 2;
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &f, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    f.limit = 0;
    f.due_before = 30; /* strictly before */
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &f, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.id[0].b, r[3].id.b, 16);
    f.due_before = 31;
    memset(&l, 0, sizeof l);
    l.stop_at = 1; /* the callback stops it */
    assert_int_equal(s->ops->request_each(s, &f, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    /* The first person's, closed too, newest first; the second's. */
    struct sg_request_filter g = {0, 0, 1, who[0], 0, 0};
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &g, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    assert_memory_equal(l.id[0].b, r[2].id.b, 16);
    assert_int_equal(l.closed[0], 500);
    assert_memory_equal(l.id[1].b, r[0].id.b, 16);
    g.limit = 1;
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &g, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    g.subject = who[1];
    g.limit = 0;
    g.open_only = 1; /* ignored with a person: every state */
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &g, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 2);
    assert_memory_equal(l.id[0].b, r[3].id.b, 16);
    assert_memory_equal(l.id[1].b, r[1].id.b, 16);
    g.subject = unknown;
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_each(s, &g, see_request, &l, &e), SG_OK);
    assert_int_equal(l.n, 0);
    struct sg_request_filter none = {0, 0, 0, {{0}}, 0, 0};
    assert_int_equal(s->ops->request_each(s, &none, see_request, &l, &e), SG_INVALID);

    /* Transitions, in order, reasons as given (a NUL inside). */
    struct sg_store_request_event ev[3] = {
        {0, 50, "clerk", "received", 0, NULL, 0},
        {0, 60, "clerk", "paused", 2, (const uint8_t *)"why\0?", 5},
        {0, 70, "dpo", "resumed", 3, NULL, 0},
    };
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s->ops->request_event_append(s, &r[0].id, &ev[i], &e), SG_OK);
    assert_int_equal(s->ops->request_event_append(s, &r[1].id, &ev[2], &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    struct req_events x = {0};
    assert_int_equal(s->ops->request_events_each(s, &r[0].id, see_request_event, &x, &e), SG_OK);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.line[0], "50 clerk received 0 -");
    assert_string_equal(x.line[1], "60 clerk paused 2 why0?");
    assert_string_equal(x.line[2], "70 dpo resumed 3 -");
    assert_true(x.seq[0] < x.seq[1] && x.seq[1] < x.seq[2]);
    memset(&x, 0, sizeof x);
    assert_int_equal(s->ops->request_events_each(s, &unknown, see_request_event, &x, &e), SG_OK);
    assert_int_equal(x.n, 0);

    /* An erasure of the person leaves the requests: they are the evidence. */
    struct sg_store_subject sub = {0};
    sub.id = who[0];
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->subject_shred(s, &who[0], 4, 9, 0, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM requests"), 4);
    assert_int_equal(ts_count("SELECT count(*) FROM request_events"), 4);

    /* Backup and restore: requests are evidence, so a restore keeps the
     * live ones (a request registered after the backup stays). */
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);
    struct sg_store_request later = r[1];
    sg_uuid_v7(3000, &later.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->request_put(s, &later, &e), SG_OK);
    assert_int_equal(s->ops->request_event_append(s, &later.id, &ev[0], &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM requests"), 5);
    assert_int_equal(ts_count("SELECT count(*) FROM request_events"), 5);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_get(s, &later.id, see_request, &l, &e), SG_OK);

    /* Into an empty store the backup's come whole: nothing lost of a row
     * (none stays none), and the numbering goes on. */
    sg_store_close(s);
    ts_teardown();
    snprintf(dbpath, sizeof dbpath, "%s/t2.db", dir);
    where = ts_setup(dbpath);
    s = open_new();
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM requests"), 4);
    memset(&l, 0, sizeof l);
    assert_int_equal(s->ops->request_get(s, &later.id, see_request, &l, &e), SG_NOTFOUND);
    assert_int_equal(s->ops->request_get(s, &r[2].id, see_request, &l, &e), SG_OK);
    assert_true(l.has_subject[0]);
    assert_string_equal(l.identity[0], "(null)");
    assert_string_equal(l.agent[0], "(null)");
    assert_int_equal(l.closed[0], 500);
    memset(&x, 0, sizeof x);
    assert_int_equal(s->ops->request_events_each(s, &r[0].id, see_request_event, &x, &e), SG_OK);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.line[1], "60 clerk paused 2 why0?");
    int64_t last = x.seq[2];
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->request_event_append(s, &r[0].id, &ev[2], &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&x, 0, sizeof x);
    assert_int_equal(s->ops->request_events_each(s, &r[0].id, see_request_event, &x, &e), SG_OK);
    assert_int_equal(x.n, 4);
    assert_true(x.seq[3] > last);
    sg_store_close(s);
}

/* ----------------------------------------------------------- sign-in codes */

/* One code per person: read back as written, replaced by a new one,
 * deleted when used, gone with an erasure; none (or a damaged one) is
 * SG_NOTFOUND. A restore takes the backup's. */
static void test_code_calls(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0}, b = {0};
    sg_uuid_v7(1000, &a.id);
    sg_uuid_v7(1000, &b.id);
    static const uint8_t zero[32] = {0};
    struct sg_store_code c, got;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &b, NULL, 0, &e), SG_OK);
    /* The first lock makes an empty row: no code, nothing counted. */
    memset(&got, 0x77, sizeof got);
    assert_int_equal(s->ops->code_lock(s, &a.id, &got, &e), SG_OK);
    assert_memory_equal(got.hash, zero, 32);
    assert_true(got.expires == 0 && got.attempts == 0 && got.sent == 0 && got.day_start == 0 &&
                got.day_sends == 0 && got.day_fails == 0);
    memset(c.hash, 0x5c, 32);
    c.expires = 600;
    c.attempts = 1;
    c.sent = 10;
    c.day_start = 5;
    c.day_sends = 2;
    c.day_fails = 3;
    assert_int_equal(s->ops->code_put(s, &a.id, &c, &e), SG_OK);
    assert_int_equal(s->ops->code_lock(s, &b.id, &got, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* Read back whole, and a second lock does not reset it. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->code_lock(s, &a.id, &got, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_memory_equal(got.hash, c.hash, 32);
    assert_true(got.expires == 600 && got.attempts == 1 && got.sent == 10 && got.day_start == 5 &&
                got.day_sends == 2 && got.day_fails == 3);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes"), 2);

    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);

    /* The code used after the backup: a restore keeps the live rows, so it
     * does not come back. */
    struct sg_store_code used = c;
    memset(used.hash, 0, 32);
    used.expires = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->code_put(s, &a.id, &used, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->code_lock(s, &a.id, &got, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(got.expires, 0);
    assert_memory_equal(got.hash, zero, 32);

    /* Gone with an erasure. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->code_del(s, &a.id, &e), SG_OK);
    assert_int_equal(s->ops->code_del(s, &a.id, &e), SG_OK); /* again: nothing */
    assert_int_equal(s->ops->subject_shred(s, &b.id, 4, 9, 0, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes"), 0);

    /* A restore into a vault with no codes at all takes the backup's. */
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM person_codes"), 2);
    sg_store_close(s);
}

/* What a restore keeps since steps 6-8: the credentials (operators,
 * sessions) and the history (statistics, dates of global events) when the
 * live ones have rows; the ledger, the decision rows, the done marks and
 * the outbox are the backup's. */
static void test_restore_keeps_credentials(void **state)
{
    (void)state;
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_store_subject a = {0};
    sg_uuid_v7(1000, &a.id);
    struct sg_store_operator o = {"alice", "support", "service", NULL, "$argon2id$h",
                                  1,       2,         0,         0,    0};
    struct sg_store_session ss = {{1}, "alice", 1, 100, 1};
    static const uint8_t k1[16] = {1}, k2[16] = {2};
    struct sg_store_consent c = consent_event(&a.id, 0, 0, "news", "ev");
    int64_t first = 0;
    struct sg_store_message m = {{{0}}, 1, a.id, "notice", 5, 1,   (const uint8_t *)"x",
                                 1,     0, 0,    0,        0, NULL};
    sg_uuid_v7(1000, &m.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->operator_insert(s, &o, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &ss, &e), SG_OK);
    assert_int_equal(s->ops->stats_put(s, k1, "country", "LV", 2026, &e), SG_OK);
    assert_int_equal(s->ops->global_event_put(s, "closing", 1, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &c, &e), SG_OK);
    first = c.seq;
    put_pstate(s, &a.id, "news", 2, 5);
    assert_int_equal(s->ops->sweep_done_put(s, &a.id, "r1", 1, 2, &e), SG_OK);
    assert_int_equal(s->ops->outbox_put(s, &m, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    assert_int_equal(s->ops->backup(s, bak, &e), SG_OK);

    /* After the backup: alice disabled, bob added, signed out and in
     * again; more statistics and dates; more consent, marks, messages. */
    o.disabled = 1;
    struct sg_store_operator o2 = o;
    o2.login = "bob";
    struct sg_store_session ss2 = {{2}, "bob", 1, 100, 1};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->operator_put(s, &o, &e), SG_OK);
    assert_int_equal(s->ops->operator_insert(s, &o2, &e), SG_OK);
    assert_int_equal(s->ops->session_del(s, ss.hash, &e), SG_OK);
    assert_int_equal(s->ops->session_put(s, &ss2, &e), SG_OK);
    assert_int_equal(s->ops->stats_put(s, k2, "country", "EE", 2026, &e), SG_OK);
    assert_int_equal(s->ops->global_event_put(s, "closing", 2, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &c, &e), SG_OK);
    put_pstate(s, &a.id, "news", 3, 6);
    assert_int_equal(s->ops->sweep_done_put(s, &a.id, "r2", 1, 2, &e), SG_OK);
    sg_uuid_v7(1000, &m.id);
    assert_int_equal(s->ops->outbox_put(s, &m, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);

    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM operators"), 2);
    assert_int_equal(ts_count("SELECT disabled FROM operators WHERE login = 'alice'"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM sessions"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM sessions WHERE login = 'bob'"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM statistics"), 2);
    assert_int_equal(ts_count("SELECT count(*) FROM global_events"), 2);
    assert_int_equal(ts_count("SELECT count(*) FROM consent_events"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM sweep_done"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM outbox"), 1);
    struct sg_store_pstate ps;
    int st = 0, has = 0;
    assert_int_equal(s->ops->decide(s, &a.id, "news", &st, &ps, &has, &e), SG_OK);
    assert_int_equal(has, 1);
    assert_int_equal(ps.consent, 2);
    /* The ledger's numbering goes on after the backup's events. */
    struct sg_store_consent c2 = consent_event(&a.id, 0, 0, "news", NULL);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->consent_append(s, &c2, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_true(c2.seq > first);
    assert_int_equal(ts_count("SELECT count(*) FROM consent_events"), 2);

    /* Onto a lost database, everything is the backup's. */
    sg_store_close(s);
    ts_lose_database();
    s = open_new();
    assert_int_equal(s->ops->restore(s, bak, &e), SG_OK);
    assert_int_equal(ts_count("SELECT count(*) FROM operators"), 1);
    assert_int_equal(ts_count("SELECT disabled FROM operators WHERE login = 'alice'"), 0);
    assert_int_equal(ts_count("SELECT count(*) FROM sessions WHERE login = 'alice'"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM statistics"), 1);
    assert_int_equal(ts_count("SELECT count(*) FROM global_events"), 1);
    sg_store_close(s);
}

/* ------------------------------------------- PostgreSQL: consent, outbox */

/* A lease runs by the server's clock: a worker whose own clock is a day
 * ahead does not take a message another worker holds, nor one whose
 * outcome is recorded under a lease that ran out by its clock. */
static void test_pg_outbox_skew(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new();
    struct sg_err e;
    struct sg_uuid ids[3];
    put_messages(s, ids, 3);
    struct msgs l = {0};
    sg_time until = 0, until2 = 0;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(
        s->ops->outbox_claim(s, 100, INT64_C(600000000), 1, see_message, &l, &until, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(l.n, 1);
    /* The mark is the server's time and the lease. */
    int64_t server = ts_count("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8");
    assert_true(until > server && until <= server + INT64_C(600000000));
    memset(&l, 0, sizeof l);
    sg_time day_ahead = 100 + INT64_C(86400000000);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(
        s->ops->outbox_claim(s, day_ahead, INT64_C(600000000), 10, see_message, &l, &until2, &e),
        SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(l.n, 2); /* the other two, not the one held */
    for (int i = 0; i < 2; i++)
        assert_memory_not_equal(l.id[i].b, ids[0].b, 16);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->outbox_update(s, &ids[0], until, 1, 1, 10, 41, NULL, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    sg_store_close(s);
}

/* Workers on two connections never get the same message, and the second
 * does not wait for the first (SKIP LOCKED; a wait would end in its lock
 * timeout). */
static void test_pg_outbox_workers(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *s2 = NULL;
    struct sg_err e;
    struct sg_uuid ids[3];
    put_messages(s, ids, 3);
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-clock_timeout%%3D200", where);
    assert_int_equal(sg_store_open(uri, 0, &s2, &e), SG_OK);
    struct msgs l = {0}, l2 = {0};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    sg_time until = 0;
    assert_int_equal(
        s->ops->outbox_claim(s, 100, INT64_C(600000000), 1, see_message, &l, &until, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.id[0].b, ids[0].b, 16);
    assert_int_equal(s2->ops->begin(s2, &e), SG_OK);
    assert_int_equal(
        s2->ops->outbox_claim(s2, 100, INT64_C(600000000), 10, see_message, &l2, &until, &e),
        SG_OK);
    assert_int_equal(l2.n, 2);
    for (int i = 0; i < 2; i++)
        assert_memory_not_equal(l2.id[i].b, ids[0].b, 16);
    assert_int_equal(s2->ops->commit(s2, &e), SG_OK);
    /* The first worker gives up: its message is due again at once. */
    s->ops->rollback(s);
    memset(&l2, 0, sizeof l2);
    assert_int_equal(s2->ops->begin(s2, &e), SG_OK);
    assert_int_equal(
        s2->ops->outbox_claim(s2, 100, INT64_C(600000000), 10, see_message, &l2, &until, &e),
        SG_OK);
    assert_int_equal(s2->ops->commit(s2, &e), SG_OK);
    assert_int_equal(l2.n, 1);
    assert_memory_equal(l2.id[0].b, ids[0].b, 16);
    sg_store_close(s);
    sg_store_close(s2);
}

/* Moving a request reads it locked: a second node moving the same request
 * waits (here, up to its lock timeout) and then reads the first's outcome;
 * readers never wait. A sweeper's page read to act on is read under the
 * sweep lock, held to the end of its transaction: a second sweeper waits,
 * then sees the first's done marks; a dry run (no transaction) and a
 * reading transaction take no lock. */
static void test_pg_request_and_sweep_locks(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *w = NULL;
    struct sg_err e;
    struct sg_store_request r[4];
    struct sg_uuid who[2];
    put_requests(s, r, who);
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-clock_timeout%%3D200", where);
    assert_int_equal(sg_store_open(uri, 0, &w, &e), SG_OK);
    struct reqs l = {0};
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->request_get(s, &r[0].id, see_request, &l, &e), SG_OK);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->request_get(w, &r[0].id, see_request, &l, &e), SG_UNAVAILABLE);
    w->ops->rollback(w);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->request_get(w, &r[1].id, see_request, &l, &e), SG_OK); /* another */
    w->ops->rollback(w);
    assert_int_equal(w->ops->begin_read(w, &e), SG_OK);
    assert_int_equal(w->ops->request_get(w, &r[0].id, see_request, &l, &e), SG_OK);
    w->ops->rollback(w);
    assert_int_equal(w->ops->request_get(w, &r[0].id, see_request, &l, &e), SG_OK);
    r[0].state = 6;
    r[0].closed = 600;
    assert_int_equal(s->ops->request_put(s, &r[0], &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->request_get(w, &r[0].id, see_request, &l, &e), SG_OK);
    assert_int_equal(w->ops->commit(w, &e), SG_OK);
    assert_int_equal(l.state[0], 6);
    assert_int_equal(l.closed[0], 600);

    struct sg_store_subject sub = {0};
    sg_uuid_v7(1000, &sub.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    struct sweep_seen seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->sweep_scan(s, NULL, 10, see_sweep, &seen, &e), SG_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->sweep_scan(w, NULL, 10, see_sweep, &seen, &e), SG_UNAVAILABLE);
    w->ops->rollback(w);
    assert_int_equal(w->ops->begin_read(w, &e), SG_OK);
    assert_int_equal(w->ops->sweep_scan(w, NULL, 10, see_sweep, &seen, &e), SG_OK);
    w->ops->rollback(w);
    assert_int_equal(w->ops->sweep_scan(w, NULL, 10, see_sweep, &seen, &e), SG_OK);
    assert_int_equal(s->ops->sweep_done_put(s, &sub.id, "r1", 5, 6, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->sweep_scan(w, NULL, 10, see_sweep, &seen, &e), SG_OK);
    assert_int_equal(w->ops->commit(w, &e), SG_OK);
    assert_string_equal(seen.rows[0], "s0:;r1@5,");
    sg_store_close(s);
    sg_store_close(w);
}

struct later_commit {
    struct sg_store *s;
    enum sg_rc rc;
};

static void *commit_later(void *arg)
{
    struct later_commit *c = arg;
    struct sg_err e;
    usleep(300 * 1000);
    c->rc = c->s->ops->commit(c->s, &e);
    return NULL;
}

/* An erasure on one node while another holds the person to add a value:
 * the erasure waits for it, then takes the new look-up entry too (its
 * statements must not have looked before the other committed). */
static void test_pg_shred_waits_for_writer(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *w = NULL;
    struct sg_err e;
    assert_int_equal(sg_store_open(where, 0, &w, &e), SG_OK);
    struct sg_store_subject sub = {0}, got;
    sg_uuid_v7(1000, &sub.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &sub, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    uint8_t k[SG_BIDX_BYTES];
    memset(k, 5, sizeof k);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, NULL, &e), SG_OK); /* holds it */
    assert_int_equal(s->ops->index_put(s, 1, k, &sub.id, &e), SG_OK);
    struct later_commit c = {s, SG_INTERNAL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, commit_later, &c), 0);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->subject_shred(w, &sub.id, 4, 9, 1, NULL, 0, &e), SG_OK);
    assert_int_equal(w->ops->commit(w, &e), SG_OK); /* waits for s */
    pthread_join(t, NULL);
    assert_int_equal(c.rc, SG_OK);
    int n = 0;
    assert_int_equal(s->ops->index_find(s, 1, k, see_id, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(s->ops->subject_get(s, &sub.id, &got, NULL, &e), SG_OK);
    assert_int_equal(got.state, 4);
    sg_store_close(s);
    sg_store_close(w);
}

/* A sign-in takes the person's code row locked: a second node checking a
 * guess for the same person waits (here, up to its lock timeout), then
 * reads the first's count; a code used up is gone for the next. */
static void test_pg_code_lock(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *w = NULL;
    struct sg_err e;
    struct sg_store_subject a = {0};
    sg_uuid_v7(1000, &a.id);
    struct sg_store_code c, got;
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->code_lock(s, &a.id, &c, &e), SG_OK);
    memset(c.hash, 7, 32);
    c.expires = 600;
    assert_int_equal(s->ops->code_put(s, &a.id, &c, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-clock_timeout%%3D200", where);
    assert_int_equal(sg_store_open(uri, 0, &w, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->code_lock(s, &a.id, &c, &e), SG_OK);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->code_lock(w, &a.id, &got, &e), SG_UNAVAILABLE);
    w->ops->rollback(w);
    c.attempts++;
    assert_int_equal(s->ops->code_put(s, &a.id, &c, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->code_lock(w, &a.id, &got, &e), SG_OK);
    assert_int_equal(got.attempts, 1);
    memset(got.hash, 0, 32);
    got.expires = 0;
    assert_int_equal(w->ops->code_put(w, &a.id, &got, &e), SG_OK);
    assert_int_equal(w->ops->commit(w, &e), SG_OK);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->code_lock(s, &a.id, &c, &e), SG_OK);
    assert_int_equal(c.expires, 0);
    s->ops->rollback(s);
    sg_store_close(s);
    sg_store_close(w);
}

/* A consent recorded against a value on one node while another adds a
 * person with that value: whichever commits first, the event ends up with
 * the person or is refused for another try, never left pending beside
 * them. (The lock waits end here in each handle's lock timeout.) */
static void test_pg_pending_meets_add(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *t = NULL, *u = NULL;
    sg_store_close(s);
    struct sg_err e;
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-clock_timeout%%3D200", where);
    assert_int_equal(sg_store_open(uri, 0, &t, &e), SG_OK);
    assert_int_equal(sg_store_open(uri, 0, &u, &e), SG_OK);
    struct sg_store_subject b = {0}, c = {0};
    sg_uuid_v7(1000, &b.id);
    sg_uuid_v7(1000, &c.id);
    uint8_t y[SG_BIDX_BYTES], z[SG_BIDX_BYTES];
    memset(y, 0x21, sizeof y);
    memset(z, 0x22, sizeof z);
    struct consents l = {0};
    uint64_t size;

    /* The person first: the consent waits, then is refused. */
    assert_int_equal(t->ops->begin(t, &e), SG_OK);
    assert_int_equal(t->ops->subject_insert(t, &b, NULL, 0, &e), SG_OK);
    assert_int_equal(t->ops->index_put(t, 3, y, &b.id, &e), SG_OK);
    assert_int_equal(t->ops->audit_size(t, &size, &e), SG_OK);
    struct sg_store_consent py = consent_event(NULL, 3, 0x21, "news", "y");
    assert_int_equal(u->ops->begin(u, &e), SG_OK);
    assert_int_equal(u->ops->consent_append(u, &py, &e), SG_UNAVAILABLE);
    assert_null(strstr(e.msg, "at the same time"));
    u->ops->rollback(u);
    assert_int_equal(t->ops->commit(t, &e), SG_OK);
    assert_int_equal(u->ops->begin(u, &e), SG_OK);
    assert_int_equal(u->ops->consent_append(u, &py, &e), SG_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "at the same time"));
    u->ops->rollback(u);

    /* The consent first: the person waits, then takes it over. */
    struct sg_store_consent pz = consent_event(NULL, 3, 0x22, "news", "z");
    assert_int_equal(u->ops->begin(u, &e), SG_OK);
    assert_int_equal(u->ops->consent_append(u, &pz, &e), SG_OK);
    assert_int_equal(t->ops->begin(t, &e), SG_OK);
    assert_int_equal(t->ops->subject_insert(t, &c, NULL, 0, &e), SG_OK);
    assert_int_equal(t->ops->index_put(t, 3, z, &c.id, &e), SG_OK);
    assert_int_equal(t->ops->consent_pending(t, 3, z, see_consent, &l, &e), SG_UNAVAILABLE);
    t->ops->rollback(t);
    assert_int_equal(u->ops->commit(u, &e), SG_OK);
    assert_int_equal(t->ops->begin(t, &e), SG_OK);
    assert_int_equal(t->ops->subject_insert(t, &c, NULL, 0, &e), SG_OK);
    assert_int_equal(t->ops->index_put(t, 3, z, &c.id, &e), SG_OK);
    memset(&l, 0, sizeof l);
    assert_int_equal(t->ops->consent_pending(t, 3, z, see_consent, &l, &e), SG_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(t->ops->consent_link(t, 3, z, &c.id, &e), SG_OK);
    assert_int_equal(t->ops->commit(t, &e), SG_OK);
    /* People added at once on two nodes do not wait for each other. */
    struct sg_store_subject d = {0}, f = {0};
    sg_uuid_v7(1000, &d.id);
    sg_uuid_v7(1000, &f.id);
    assert_int_equal(t->ops->begin(t, &e), SG_OK);
    assert_int_equal(t->ops->subject_insert(t, &d, NULL, 0, &e), SG_OK);
    assert_int_equal(t->ops->index_put(t, 3, y, &d.id, &e), SG_OK);
    assert_int_equal(t->ops->audit_size(t, &size, &e), SG_OK);
    assert_int_equal(u->ops->begin(u, &e), SG_OK);
    assert_int_equal(u->ops->subject_insert(u, &f, NULL, 0, &e), SG_OK);
    assert_int_equal(u->ops->index_put(u, 3, y, &f.id, &e), SG_OK);
    assert_int_equal(u->ops->commit(u, &e), SG_OK);
    assert_int_equal(t->ops->commit(t, &e), SG_OK);
    sg_store_close(t);
    sg_store_close(u);
    assert_int_equal(ts_count("SELECT count(*) FROM consent_events WHERE subject IS NULL"), 0);
    assert_int_equal(ts_count("SELECT count(*) FROM lookup"), 4);
}

/* The index scans of two indexes since the counters were last read (the
 * server counts them when a session ends: wait for it). */
static void index_scans(const char *a, const char *b, int64_t *na, int64_t *nb, int64_t at_least)
{
    char q[256];
    for (int i = 0; i < 100; i++) {
        usleep(100000);
        ts_exec("SELECT pg_stat_clear_snapshot()");
        snprintf(q, sizeof q,
                 "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE "
                 "schemaname = current_schema() AND indexrelname = '%s'",
                 a);
        *na = ts_count(q);
        snprintf(q, sizeof q,
                 "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE "
                 "schemaname = current_schema() AND indexrelname = '%s'",
                 b);
        *nb = ts_count(q);
        if (*na + *nb >= at_least)
            return;
    }
}

/* A decision is one round trip that reads one index entry, the decision
 * row's, for everybody who has one, even with the generic plan a prepared
 * statement ends up with; the person's own row only for those who have
 * none. Decisions take no lock and need no transaction. */
static void test_pg_decide_reads(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new();
    sg_store_close(s);
    /* 20,000 people, every other one with a decision row for "news". */
    ts_exec("INSERT INTO subjects (id, state, created, changed, dek_version) "
            "SELECT md5(i::text)::uuid, 0, 1, 1, 1 FROM generate_series(1, 20000) i;"
            "INSERT INTO decisions (subject, state, purposes) "
            "SELECT md5(i::text)::uuid, 0, '\\x046e6577730200'::bytea || "
            "'\\x0500000000000000'::bytea || '\\x0000000000000000'::bytea "
            "FROM generate_series(2, 20000, 2) i;"
            "ANALYZE subjects; ANALYZE decisions");
    int64_t subj0 = 0, dec0 = 0;
    index_scans("subjects_pkey", "decisions_pkey", &subj0, &dec0, 0);
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-cplan_cache_mode%%3Dforce_generic_plan", where);
    struct sg_err e;
    assert_int_equal(sg_store_open(uri, 0, &s, &e), SG_OK);
    int with = 0, without = 0;
    for (int i = 1; i <= 40; i++) {
        char q[96];
        snprintf(q, sizeof q, "SELECT md5('%d')::uuid::text", i);
        PGresult *r = PQexec(ts_conn, q);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        struct sg_uuid id;
        assert_int_equal(sg_uuid_parse(PQgetvalue(r, 0, 0), &id, &e), SG_OK);
        PQclear(r);
        struct sg_store_pstate ps;
        int st = -1, has = -1;
        assert_int_equal(s->ops->decide(s, &id, "news", &st, &ps, &has, &e), SG_OK);
        assert_int_equal(has, i % 2 == 0);
        if (has) {
            assert_int_equal(ps.consent, 2);
            assert_int_equal(ps.since, 5);
        }
        with += has;
        without += !has;
    }
    sg_store_close(s);
    int64_t subj = 0, dec = 0;
    index_scans("subjects_pkey", "decisions_pkey", &subj, &dec, subj0 + dec0 + with + without);
    /* the person's own row: only for those without a decision row */
    assert_int_equal(subj - subj0, without);
    assert_true(dec - dec0 >= with && dec - dec0 <= with + 2 * without);
}

/* A transaction that mostly reads takes no lock on the person it reads: a
 * writer does not wait for it (a wait would end in its lock timeout), as
 * it waits for another writer. */
static void test_pg_read_takes_no_lock(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *w = NULL;
    struct sg_err e;
    struct sg_store_subject a = {0}, got;
    sg_uuid_v7(1000, &a.id);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_insert(s, &a, NULL, 0, &e), SG_OK);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-clock_timeout%%3D200", where);
    assert_int_equal(sg_store_open(uri, 0, &w, &e), SG_OK);
    assert_int_equal(s->ops->begin_read(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->subject_get(w, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(w->ops->subject_set_state(w, &a.id, 1, 5, &e), SG_OK);
    assert_int_equal(w->ops->commit(w, &e), SG_OK);
    /* Each read sees what is committed (READ COMMITTED). */
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(got.state, 1);
    assert_int_equal(s->ops->commit(s, &e), SG_OK);
    /* A writer's read of the person is a lock; a read outside any
     * transaction does not wait for it. */
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(w->ops->subject_get(w, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->subject_get(w, &a.id, &got, NULL, &e), SG_UNAVAILABLE);
    w->ops->rollback(w);
    s->ops->rollback(s);
    /* The next transaction of the reading handle writes and locks again. */
    assert_int_equal(s->ops->begin_read(s, &e), SG_OK);
    s->ops->rollback(s);
    assert_int_equal(s->ops->begin(s, &e), SG_OK);
    assert_int_equal(s->ops->subject_get(s, &a.id, &got, NULL, &e), SG_OK);
    assert_int_equal(w->ops->begin(w, &e), SG_OK);
    assert_int_equal(w->ops->subject_get(w, &a.id, &got, NULL, &e), SG_UNAVAILABLE);
    w->ops->rollback(w);
    s->ops->rollback(s);
    sg_store_close(s);
    sg_store_close(w);
}

/* --------------------------------------------------------- PostgreSQL only */

/* Appenders queue on one lock, held to the end of the transaction. */
static void test_pg_audit_lock(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new(), *s2 = NULL;
    struct sg_err e;
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-clock_timeout%%3D200", where);
    assert_int_equal(sg_store_open(uri, 0, &s2, &e), SG_OK);
    uint64_t n;
    const char *held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted";
    for (int commit = 0; commit < 2; commit++) {
        assert_int_equal(s->ops->begin(s, &e), SG_OK);
        assert_int_equal(s->ops->audit_lock(s, &e), SG_OK);
        assert_int_equal(s->ops->audit_size(s, &n, &e), SG_OK);
        assert_int_equal(ts_count(held), 1);
        /* Another appender waits for it (here, up to its lock timeout). */
        assert_int_equal(s2->ops->begin(s2, &e), SG_OK);
        assert_int_equal(s2->ops->audit_lock(s2, &e), SG_OK);
        assert_int_equal(s2->ops->audit_size(s2, &n, &e), SG_UNAVAILABLE);
        s2->ops->rollback(s2);
        if (commit)
            assert_int_equal(s->ops->commit(s, &e), SG_OK);
        else
            s->ops->rollback(s);
        assert_int_equal(ts_count(held), 0);
        /* Free again. */
        assert_int_equal(s2->ops->begin(s2, &e), SG_OK);
        assert_int_equal(s2->ops->audit_lock(s2, &e), SG_OK);
        assert_int_equal(s2->ops->audit_size(s2, &n, &e), SG_OK);
        s2->ops->rollback(s2);
    }
    sg_store_close(s);
    sg_store_close(s2);
}

/* The per-person query seeks audit_log_person once per range, even with
 * the generic plan a prepared statement ends up with. */
static void test_pg_person_index(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new();
    sg_store_close(s);
    ts_exec("ALTER TABLE audit_log DISABLE TRIGGER USER;"
            "INSERT INTO audit_log SELECT i, i, CASE WHEN i % 3 = 0 THEN NULL ELSE "
            "decode(lpad(to_hex(i % 101), 32, '0'), 'hex') END, '\\x00'::bytea, "
            "'\\x00'::bytea FROM generate_series(0, 199999) i;"
            "ALTER TABLE audit_log ENABLE TRIGGER USER; ANALYZE audit_log");
    char uri[700];
    snprintf(uri, sizeof uri, "%s%%20-cplan_cache_mode%%3Dforce_generic_plan", where);
    struct sg_err e;
    assert_int_equal(sg_store_open(uri, 0, &s, &e), SG_OK);
    uint8_t p[SG_PSEUDONYM_BYTES] = {0};
    p[15] = 17;
    struct seen c = {0};
    assert_int_equal(s->ops->audit_each(s, 0, UINT64_MAX, p, 0, see_entry, &c, &e), SG_OK);
    /* i % 101 == 17 and i % 3 != 0, below 200,000 */
    int64_t want = ts_count("SELECT count(*) FROM generate_series(0, 199999) i "
                            "WHERE i % 101 = 17 AND i % 3 <> 0");
    assert_int_equal(c.n, want);
    sg_store_close(s);
    /* The server counts index use when the session ends: wait for it. */
    int64_t seeks = 0, through_pkey = -1;
    for (int i = 0; i < 100 && seeks == 0; i++) {
        usleep(100000);
        ts_exec("SELECT pg_stat_clear_snapshot()");
        seeks = ts_count("SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE "
                         "schemaname = current_schema() AND indexrelname = 'audit_log_person'");
        through_pkey = ts_count("SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes "
                                "WHERE schemaname = current_schema() AND "
                                "indexrelname = 'audit_log_pkey'");
    }
    assert_int_equal(seeks, 49); /* ranges 0-48 of 4,096 entries */
    assert_true(through_pkey < 100);
}

/* A database made by step 2 when its per-person index was partitioned by
 * ranges of 65,536 (idx >> 16) gets the index the queries use when it is
 * brought forward (step 3). */
static void test_pg_old_partition(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    struct sg_store *s = open_new();
    sg_store_close(s);
    ts_exec("DROP TABLE tokens, policies, memberships, consent_events, decisions, operators, "
            "sessions, sweep_done, global_events, statistics, outbox, requests, request_events, "
            "person_codes;"
            "DROP FUNCTION policies_refuse();"
            "DROP INDEX audit_log_person; DROP INDEX lookup_subject;"
            "CREATE INDEX audit_log_person ON audit_log ((idx >> 16), pseudonym) "
            "WHERE pseudonym IS NOT NULL;"
            "DELETE FROM schema_migrations WHERE version >= 3");
    const char *q = "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
                    "indexname = 'audit_log_person' AND indexdef LIKE '%(idx >> 12)%'";
    assert_int_equal(ts_count(q), 0);
    struct sg_err e;
    assert_int_equal(sg_store_open(where, 0, &s, &e), SG_OK);
    assert_int_equal(s->ops->migrate(s, 5, &e), SG_OK);
    sg_store_close(s);
    assert_int_equal(ts_count(q), 1);
}

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
    uint64_t n = 0;
    assert_int_equal(s->ops->audit_size(s, &n, &e), SG_UNAVAILABLE);
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
        cmocka_unit_test_setup_teardown(test_audit_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_person_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memberships, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_keeps_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_across_backends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_server_away, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_concurrent_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_audit_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_person_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_old_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_after_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operators_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_keeps_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_outbox_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_outbox_skew, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_request_and_sweep_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_code_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_shred_waits_for_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_decide_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_read_takes_no_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_pending_meets_add, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
