/*
 * teststore.h - runs the same store and vault tests on either backend.
 *
 * Without SARGS_TEST_PG the tests use SQLite files. With it (set by
 * `scripts/pg-test-cluster run`, see tests/meson.build) they use that
 * PostgreSQL database, each test in an empty schema of its own, chosen with
 * search_path in the store address. Raw access to the database (for counts
 * and tampering) goes through ts_*() so that a test reads the same on both;
 * where the SQL differs, ts_pg() picks.
 */
#ifndef SARGS_TESTSTORE_H
#define SARGS_TESTSTORE_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "testutil.h"

static char ts_sqlite[160]; /* the SQLite file of the current test */
static char ts_uri[600];    /* the PostgreSQL address of the current test */
static char ts_schema[32];
static PGconn *ts_conn;
static unsigned ts_serial;

static void ts_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static inline int ts_pg(void)
{
    const char *u = getenv("SARGS_TEST_PG");
    return u && *u;
}

/* A new empty schema; its store address goes to `uri` (600 bytes). */
static inline void ts_new_schema(char *uri, char *schema)
{
    const char *base = getenv("SARGS_TEST_PG");
    snprintf(schema, 32, "t%u_%u", (unsigned)getpid(), ts_serial++);
    PGconn *c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("test database: %s", PQerrorMessage(c));
    char sql[96];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(uri, 600, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
             schema);
}

/*
 * Prepares an empty store for one test. `sqlite_path` is where the SQLite
 * database goes. Returns the address to open: the SQLite path, or the
 * PostgreSQL address with the test's own schema.
 */
static inline const char *ts_setup(const char *sqlite_path)
{
    snprintf(ts_sqlite, sizeof ts_sqlite, "%s", sqlite_path);
    if (!ts_pg())
        return ts_sqlite;
    ts_new_schema(ts_uri, ts_schema);
    ts_conn = PQconnectdb(ts_uri);
    if (PQstatus(ts_conn) != CONNECTION_OK)
        fail_msg("test database: %s", PQerrorMessage(ts_conn));
    PQsetNoticeProcessor(ts_conn, ts_quiet, NULL);
    return ts_uri;
}

/* The address to give sg_vault_opts.store: NULL (the vault's own file) on
 * SQLite. */
static inline const char *ts_vault_store(void)
{
    return ts_pg() ? ts_uri : NULL;
}

static inline void ts_teardown(void)
{
    if (ts_conn) {
        /* A test that failed half-way may have left a transaction open,
         * which the DROP would wait for: end its connections. */
        PQclear(PQexec(ts_conn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'sargs'"));
        char sql[96];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", ts_schema);
        PQclear(PQexec(ts_conn, sql));
        PQfinish(ts_conn);
        ts_conn = NULL;
    }
}

/* Runs SQL; 0 when it worked. */
static inline int ts_exec_rc(const char *sql)
{
    if (ts_pg()) {
        PGresult *r = PQexec(ts_conn, sql);
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(ts_sqlite, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static inline void ts_exec(const char *sql)
{
    if (ts_exec_rc(sql) != 0)
        fail_msg("%s: %s", sql, ts_pg() ? PQerrorMessage(ts_conn) : "failed");
}

/* The integer of a one-value query. */
static inline int64_t ts_count(const char *sql)
{
    if (ts_pg()) {
        PGresult *r = PQexec(ts_conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
            fail_msg("%s: %s", sql, PQerrorMessage(ts_conn));
        int64_t n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return n;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(ts_sqlite, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The bytes of a one-value query; their length. */
static inline size_t ts_get_blob(const char *sql, uint8_t *buf, size_t cap)
{
    size_t len;
    if (ts_pg()) {
        PGresult *r = PQexecParams(ts_conn, sql, 0, NULL, NULL, NULL, NULL, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
            fail_msg("%s: %s", sql, PQerrorMessage(ts_conn));
        len = (size_t)PQgetlength(r, 0, 0);
        assert_true(len <= cap);
        memcpy(buf, PQgetvalue(r, 0, 0), len);
        PQclear(r);
        return len;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(ts_sqlite, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    len = (size_t)sqlite3_column_bytes(st, 0);
    assert_true(len <= cap);
    memcpy(buf, sqlite3_column_blob(st, 0), len);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return len;
}

/* Runs one statement with `n` (at most 4) byte-string parameters, written
 * $1, $2 ... in order (both databases read that). */
static inline void ts_exec_blobs(const char *sql, int n, const void *const *v, const size_t *len)
{
    assert_true(n <= 4);
    if (ts_pg()) {
        const char *vals[4];
        int lens[4], fmts[4];
        for (int i = 0; i < n; i++) {
            vals[i] = v[i];
            lens[i] = (int)len[i];
            fmts[i] = 1;
        }
        PGresult *r = PQexecParams(ts_conn, sql, n, NULL, vals, lens, fmts, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(ts_conn));
        PQclear(r);
        return;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(ts_sqlite, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    for (int i = 0; i < n; i++)
        sqlite3_bind_blob(st, i + 1, v[i], (int)len[i], SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/*
 * What an administrator holding the database can do to the audit log: lift
 * its guards (SQLite: drop the triggers; PostgreSQL: the owner disables
 * them). The verifier must still catch what is done next.
 */
static inline void ts_unguard_audit(void)
{
    if (ts_pg())
        ts_exec("ALTER TABLE audit_log DISABLE TRIGGER USER;"
                "ALTER TABLE audit_nodes DISABLE TRIGGER USER;"
                "ALTER TABLE audit_heads DISABLE TRIGGER USER");
    else
        ts_exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
                "DROP TRIGGER audit_nodes_no_update; DROP TRIGGER audit_nodes_no_delete;"
                "DROP TRIGGER audit_heads_no_update; DROP TRIGGER audit_heads_no_delete;");
}

/* A person's record as stored; its length. */
static inline size_t ts_get_record(const struct sg_uuid *id, uint8_t *buf, size_t cap)
{
    size_t len;
    if (ts_pg()) {
        const char *v[1] = {(const char *)id->b};
        int l[1] = {16}, f[1] = {1};
        PGresult *r = PQexecParams(ts_conn, "SELECT record FROM subjects WHERE id = $1::uuid", 1,
                                   NULL, v, l, f, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
            fail_msg("read record: %s", PQerrorMessage(ts_conn));
        len = (size_t)PQgetlength(r, 0, 0);
        assert_true(len <= cap);
        memcpy(buf, PQgetvalue(r, 0, 0), len);
        PQclear(r);
        return len;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(ts_sqlite, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT record FROM subjects WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, id->b, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    len = (size_t)sqlite3_column_bytes(st, 0);
    assert_true(len <= cap);
    memcpy(buf, sqlite3_column_blob(st, 0), len);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return len;
}

static inline void ts_set_record(const struct sg_uuid *id, const void *rec, size_t len)
{
    if (ts_pg()) {
        const char *v[2] = {(const char *)id->b, rec};
        int l[2] = {16, (int)len}, f[2] = {1, 1};
        PGresult *r = PQexecParams(ts_conn, "UPDATE subjects SET record = $2 WHERE id = $1::uuid",
                                   2, NULL, v, l, f, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("write record: %s", PQerrorMessage(ts_conn));
        PQclear(r);
        return;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(ts_sqlite, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE subjects SET record = ?2 WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, id->b, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, rec, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/*
 * Every stored byte, for "nothing personal in clear" checks: the database
 * file on SQLite; on PostgreSQL every column of every table, raw.
 */
static inline size_t ts_dump(char *buf, size_t cap)
{
    if (!ts_pg()) {
        FILE *f = fopen(ts_sqlite, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, cap, f);
        fclose(f);
        return n;
    }
    PGresult *r =
        PQexecParams(ts_conn,
                     "SELECT record FROM subjects WHERE record IS NOT NULL "
                     "UNION ALL SELECT dek FROM subjects WHERE dek IS NOT NULL "
                     "UNION ALL SELECT bidx FROM lookup "
                     "UNION ALL SELECT old FROM history WHERE old IS NOT NULL "
                     "UNION ALL SELECT reason FROM history WHERE reason IS NOT NULL "
                     "UNION ALL SELECT convert_to(key || value, 'UTF8') FROM meta "
                     "UNION ALL SELECT convert_to(id, 'UTF8') FROM categories "
                     "UNION ALL SELECT convert_to(name, 'UTF8') FROM events "
                     "UNION ALL SELECT convert_to(category || actor, 'UTF8') FROM history "
                     "UNION ALL SELECT leaf FROM audit_log "
                     "UNION ALL SELECT pseudonym FROM audit_log WHERE pseudonym IS NOT NULL "
                     "UNION ALL SELECT convert_to(note, 'UTF8') FROM audit_heads "
                     "UNION ALL SELECT convert_to(id || name || role || purpose || "
                     "coalesce(scope, ''), 'UTF8') || hash FROM tokens "
                     "UNION ALL SELECT convert_to(hash || actor, 'UTF8') || text FROM policies "
                     "UNION ALL SELECT convert_to(grp, 'UTF8') FROM memberships "
                     "UNION ALL SELECT convert_to(purpose || lang || notice || actor, 'UTF8') || "
                     "coalesce(bidx, ''::bytea) || coalesce(details, ''::bytea) "
                     "FROM consent_events "
                     "UNION ALL SELECT purposes FROM decisions "
                     "UNION ALL SELECT convert_to(login || role || purpose || "
                     "coalesce(scope, '') || hash, 'UTF8') FROM operators "
                     "UNION ALL SELECT convert_to(login, 'UTF8') || hash FROM sessions "
                     "UNION ALL SELECT convert_to(rule, 'UTF8') FROM sweep_done "
                     "UNION ALL SELECT convert_to(name, 'UTF8') FROM global_events "
                     "UNION ALL SELECT convert_to(category || value, 'UTF8') || id "
                     "FROM statistics "
                     "UNION ALL SELECT convert_to(kind || coalesce(error, ''), 'UTF8') || sealed "
                     "FROM outbox "
                     "UNION ALL SELECT convert_to(channel || coalesce(identity, '') || "
                     "coalesce(agent, ''), 'UTF8') FROM requests "
                     "UNION ALL SELECT convert_to(actor || verb, 'UTF8') || "
                     "coalesce(reason, ''::bytea) FROM request_events "
                     "UNION ALL SELECT hash FROM person_codes",
                     0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("dump: %s", PQerrorMessage(ts_conn));
    size_t n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        size_t l = (size_t)PQgetlength(r, i, 0);
        assert_true(n + l <= cap);
        memcpy(buf + n, PQgetvalue(r, i, 0), l);
        n += l;
    }
    PQclear(r);
    return n;
}

/* The database lost entirely (the vault's keys directory survives). */
static inline void ts_lose_database(void)
{
    if (ts_pg()) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE; CREATE SCHEMA %s", ts_schema, ts_schema);
        ts_exec(sql);
        return;
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[200];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", ts_sqlite, suffix[i]);
        unlink(p);
    }
}

/* Stops or restarts the test server (pg-test-cluster pause/resume). */
static inline void ts_server(const char *verb)
{
    const char *ctl = getenv("SARGS_TEST_PG_CTL"), *dir = getenv("SARGS_TEST_PG_DIR");
    assert_non_null(ctl);
    assert_non_null(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s'", ctl, verb, dir);
    if (system(cmd) != 0)
        fail_msg("%s failed", cmd);
    if (ts_conn && strcmp(verb, "resume") == 0)
        PQreset(ts_conn); /* the test's own connection went with the server */
}

#endif
