/*
 * sqlite.c - the SQLite store backend (the embedded default).
 *
 * One connection per handle, used by one thread at a time. WAL with
 * synchronous=FULL: a committed change survives a power cut. secure_delete
 * overwrites freed pages so that a shredded key does not linger in the file.
 * Statements are prepared once per connection and cached.
 */
#include "migrations.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum stmt_id {
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_META_GET,
    ST_META_SET,
    ST_CAT_GET,
    ST_CAT_ADD,
    ST_CAT_EACH,
    ST_SUBJ_INSERT,
    ST_SUBJ_GET,
    ST_SUBJ_RECORD,
    ST_SUBJ_STATE,
    ST_SUBJ_LIST_FIRST,
    ST_SUBJ_LIST_AFTER,
    ST_SUBJ_SET_DEK,
    ST_SUBJ_SHRED,
    ST_INDEX_PUT,
    ST_INDEX_DEL,
    ST_INDEX_DEL_SUBJECT,
    ST_INDEX_FIND,
    ST_EVENT_PUT,
    ST_EVENTS_EACH,
    ST_EVENTS_DEL,
    ST_HIST_APPEND,
    ST_HIST_EACH,
    ST_HIST_DEL,
    ST_AUDIT_APPEND,
    ST_AUDIT_COUNT,
    ST_POLICY_ADD,
    ST_POLICY_AT,
    ST_POLICY_EACH,
    ST_POLICY_EACH_TEXT,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_SAVEPOINT] = "SAVEPOINT sg",
    [ST_RELEASE] = "RELEASE sg",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sg",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_CAT_GET] = "SELECT code FROM categories WHERE id = ?1",
    [ST_CAT_ADD] = "INSERT INTO categories (id) VALUES (?1)",
    [ST_CAT_EACH] = "SELECT code, id FROM categories ORDER BY code",
    [ST_SUBJ_INSERT] = "INSERT INTO subjects (id, state, created, changed, dek_version, dek, "
                       "record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_SUBJ_GET] = "SELECT state, created, changed, dek_version, dek, record FROM subjects "
                    "WHERE id = ?1",
    [ST_SUBJ_RECORD] = "UPDATE subjects SET record = ?2, changed = ?3 WHERE id = ?1",
    [ST_SUBJ_STATE] = "UPDATE subjects SET state = ?2, changed = ?3 WHERE id = ?1",
    [ST_SUBJ_LIST_FIRST] = "SELECT id, state, created, changed, dek_version, dek FROM subjects "
                           "ORDER BY id LIMIT ?1",
    [ST_SUBJ_LIST_AFTER] = "SELECT id, state, created, changed, dek_version, dek FROM subjects "
                           "WHERE id > ?2 ORDER BY id LIMIT ?1",
    [ST_SUBJ_SET_DEK] = "UPDATE subjects SET dek = ?2 WHERE id = ?1",
    [ST_SUBJ_SHRED] = "UPDATE subjects SET dek = NULL, record = NULL, state = ?2, changed = ?3 "
                      "WHERE id = ?1",
    [ST_INDEX_PUT] = "INSERT OR IGNORE INTO lookup (category, bidx, subject) VALUES (?1, ?2, ?3)",
    [ST_INDEX_DEL] = "DELETE FROM lookup WHERE category = ?1 AND bidx = ?2 AND subject = ?3",
    [ST_INDEX_DEL_SUBJECT] = "DELETE FROM lookup WHERE subject = ?1",
    [ST_INDEX_FIND] = "SELECT subject FROM lookup WHERE category = ?1 AND bidx = ?2 "
                      "ORDER BY subject",
    [ST_EVENT_PUT] = "INSERT INTO events (subject, name, at) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (subject, name) DO UPDATE SET at = excluded.at",
    [ST_EVENTS_EACH] = "SELECT name, at FROM events WHERE subject = ?1 ORDER BY name",
    [ST_EVENTS_DEL] = "DELETE FROM events WHERE subject = ?1",
    [ST_HIST_APPEND] = "INSERT INTO history (subject, category, old, kv, reason, actor, at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_HIST_EACH] = "SELECT seq, category, old, kv, reason, actor, at FROM history "
                     "WHERE subject = ?1 ORDER BY seq",
    [ST_HIST_DEL] = "DELETE FROM history WHERE subject = ?1",
    [ST_AUDIT_APPEND] = "INSERT INTO audit (at, actor, role, purpose, action, subject, result) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_AUDIT_COUNT] = "SELECT count(*) FROM audit",
    [ST_POLICY_ADD] = "INSERT INTO policies (hash, effective, applied, actor, text) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_POLICY_AT] = "SELECT seq, hash, effective, applied, actor, text FROM policies "
                     "WHERE effective <= ?1 ORDER BY effective DESC, seq DESC LIMIT 1",
    [ST_POLICY_EACH] = "SELECT seq, hash, effective, applied, actor, NULL FROM policies "
                       "ORDER BY seq",
    [ST_POLICY_EACH_TEXT] = "SELECT seq, hash, effective, applied, actor, text FROM policies "
                            "ORDER BY seq",
};

struct sq {
    struct sg_store base;
    sqlite3 *db;
    char *path;
    int depth; /* open transaction levels: 1 = transaction, more = savepoints */
    sqlite3_stmt *st[ST_COUNT];
};

static struct sq *SQ(struct sg_store *s)
{
    return (struct sq *)s;
}

/* Maps an SQLite result to ours, with a message that never includes values. */
static enum sg_rc fail(struct sq *q, int code, const char *what, struct sg_err *err)
{
    const char *msg = q && q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(code);
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return sg_err_set(err, SG_UNAVAILABLE, "database is busy (%s); try again", what);
    case SQLITE_CONSTRAINT:
        return sg_err_set(err, SG_CONFLICT, "%s: %s", what, msg);
    case SQLITE_NOMEM:
        return sg_err_set(err, SG_NOMEM, "out of memory in the database (%s)", what);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return sg_err_set(err, SG_IO, "database is damaged or not a sargs database (%s)", what);
    case SQLITE_FULL:
        return sg_err_set(err, SG_IO, "disk full (%s)", what);
    default:
        return sg_err_set(err, SG_IO, "database error (%s): %s", what, msg);
    }
}

static sqlite3_stmt *stmt(struct sq *q, enum stmt_id id, struct sg_err *err)
{
    if (!q->st[id]) {
        int rc = sqlite3_prepare_v3(q->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &q->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            fail(q, rc, "prepare", err);
            return NULL;
        }
    }
    return q->st[id];
}

static void finalize_all(struct sq *q)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(q->st[i]);
        q->st[i] = NULL;
    }
}

static void bind_id(sqlite3_stmt *st, int i, const struct sg_uuid *id)
{
    sqlite3_bind_blob(st, i, id->b, 16, SQLITE_STATIC);
}

static void col_id(sqlite3_stmt *st, int i, struct sg_uuid *out)
{
    const void *p = sqlite3_column_blob(st, i);
    if (p && sqlite3_column_bytes(st, i) == 16)
        memcpy(out->b, p, 16);
    else
        memset(out->b, 0, 16);
}

/* Runs a statement that returns no rows, then resets it. */
static enum sg_rc run(struct sq *q, sqlite3_stmt *st, const char *what, struct sg_err *err)
{
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(q, rc, what, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc exec(struct sq *q, const char *sql, const char *what, struct sg_err *err)
{
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SG_OK : fail(q, rc, what, err);
}

/* ------------------------------------------------------------- open/close */

static void sq_close(struct sg_store *s)
{
    struct sq *q = SQ(s);
    if (!q)
        return;
    finalize_all(q);
    if (q->db)
        sqlite3_close_v2(q->db);
    free(q->path);
    free(q);
}

static enum sg_rc sq_open(const char *path, int create, struct sg_store **out, struct sg_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!create)
            return sg_err_set(err, SG_NOTFOUND, "database '%s' does not exist", path);
        /* Create it ourselves so that it is private from the first byte;
         * SQLite gives its -wal and -shm files the same mode. */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return sg_err_set(err, SG_IO, "cannot create database '%s': %s", path, strerror(errno));
        close(fd);
    }
    struct sq *q = calloc(1, sizeof *q);
    if (!q)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    q->base.ops = &sg_store_sqlite;
    q->path = strdup(path);
    if (!q->path) {
        free(q);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    enum sg_rc r;
    if (rc != SQLITE_OK) {
        r = fail(q, rc, "open", err);
        goto bad;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, 5000);
    /* Defensive mode: no writable_schema, no direct edits of shadow tables. */
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    if ((r = exec(q,
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                  "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768; PRAGMA foreign_keys=OFF;"
                  "PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=16384;",
                  "open", err)))
        goto bad;
    *out = &q->base;
    return SG_OK;
bad:
    sq_close(&q->base);
    return r;
}

/* ------------------------------------------------------------ transactions */

static enum sg_rc sq_begin(struct sg_store *s, struct sg_err *err)
{
    struct sq *q = SQ(s);
    enum sg_rc r;
    if (q->depth == 0) {
        r = exec(q, "BEGIN IMMEDIATE", "begin", err);
    } else {
        sqlite3_stmt *st = stmt(q, ST_SAVEPOINT, err);
        r = st ? run(q, st, "savepoint", err) : (err ? err->rc : SG_IO);
    }
    if (!r)
        q->depth++;
    return r;
}

static enum sg_rc sq_commit(struct sg_store *s, struct sg_err *err)
{
    struct sq *q = SQ(s);
    enum sg_rc r;
    if (q->depth == 0)
        return sg_err_set(err, SG_INTERNAL, "no transaction to commit");
    if (q->depth > 1) {
        sqlite3_stmt *st = stmt(q, ST_RELEASE, err);
        r = st ? run(q, st, "release", err) : (err ? err->rc : SG_IO);
        q->depth--;
        return r;
    }
    r = exec(q, "COMMIT", "commit", err);
    /* A failed COMMIT may leave the transaction open: end it. */
    if (r && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    q->depth = 0;
    return r;
}

static void sq_rollback(struct sg_store *s)
{
    struct sq *q = SQ(s);
    if (q->depth > 1) {
        /* Undo the savepoint's work, then drop the savepoint itself. */
        sqlite3_stmt *st = stmt(q, ST_ROLLBACK_TO, NULL);
        if (st)
            run(q, st, "rollback", NULL);
        st = stmt(q, ST_RELEASE, NULL);
        if (st)
            run(q, st, "release", NULL);
        q->depth--;
        return;
    }
    if (!sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    q->depth = 0;
}

/* -------------------------------------------------------------- migrations */

static enum sg_rc read_version(struct sq *q, int *version, struct sg_err *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(q->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* No table yet: an empty database. */
        if (strstr(sqlite3_errmsg(q->db), "no such table")) {
            *version = 0;
            return SG_OK;
        }
        return fail(q, rc, "schema version", err);
    }
    rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    else
        r = fail(q, rc, "schema version", err);
    sqlite3_finalize(st);
    return r;
}

static enum sg_rc sq_schema_version(struct sg_store *s, int *version, struct sg_err *err)
{
    return read_version(SQ(s), version, err);
}

static enum sg_rc sq_migrate(struct sg_store *s, sg_time now, struct sg_err *err)
{
    struct sq *q = SQ(s);
    int have = 0;
    enum sg_rc r;
    if ((r = exec(q, "BEGIN IMMEDIATE", "migrate", err)))
        return r;
    if ((r = exec(q,
                  "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "name TEXT NOT NULL, applied INTEGER NOT NULL)",
                  "migrate", err)))
        goto bad;
    if ((r = read_version(q, &have, err)))
        goto bad;
    if (have > SG_SCHEMA_VERSION) {
        r = sg_err_set(err, SG_CONFLICT,
                       "database schema version %d is newer than this sargs supports (%d); "
                       "upgrade sargs",
                       have, SG_SCHEMA_VERSION);
        goto bad;
    }
    for (int i = 0; i < sg_migrations_count; i++) {
        const struct sg_migration *m = &sg_migrations[i];
        if (m->version <= have)
            continue;
        if ((r = exec(q, m->sqlite, "migrate", err)))
            goto bad;
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(
            q->db, "INSERT INTO schema_migrations (version, name, applied) VALUES (?1, ?2, ?3)", -1,
            &st, NULL);
        if (rc != SQLITE_OK) {
            r = fail(q, rc, "migrate", err);
            goto bad;
        }
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            r = fail(q, rc, "migrate", err);
            goto bad;
        }
    }
    if ((r = exec(q, "COMMIT", "migrate", err)))
        goto bad;
    return SG_OK;
bad:
    sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

/* -------------------------------------------------------------------- meta */

static enum sg_rc sq_meta_get(struct sg_store *s, const char *key, char **out, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_META_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *out = strdup(v ? v : "");
        if (!*out)
            r = sg_err_set(err, SG_NOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        r = sg_err_set(err, SG_NOTFOUND, "setting '%s' is not set", key);
    } else {
        r = fail(q, rc, "meta", err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_meta_set(struct sg_store *s, const char *key, const char *val,
                              struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_META_SET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
    return run(q, st, "meta", err);
}

/* -------------------------------------------------------------- categories */

static enum sg_rc sq_category_add(struct sg_store *s, const char *id, int *code, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CAT_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *code = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW)
        return SG_OK;
    if (rc != SQLITE_DONE)
        return fail(q, rc, "category", err);
    if (!(st = stmt(q, ST_CAT_ADD, err)))
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    enum sg_rc r = run(q, st, "category", err);
    if (!r)
        *code = (int)sqlite3_last_insert_rowid(q->db);
    return r;
}

static enum sg_rc sq_category_each(struct sg_store *s, sg_category_cb cb, void *ctx,
                                   struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CAT_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 1);
        if (cb(ctx, sqlite3_column_int(st, 0), id ? id : ""))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "categories", err);
    sqlite3_reset(st);
    return r;
}

/* ---------------------------------------------------------------- subjects */

static void read_subject(sqlite3_stmt *st, int first, struct sg_store_subject *out)
{
    out->state = sqlite3_column_int(st, first);
    out->created = sqlite3_column_int64(st, first + 1);
    out->changed = sqlite3_column_int64(st, first + 2);
    out->dek_version = (uint32_t)sqlite3_column_int64(st, first + 3);
    const void *dek = sqlite3_column_blob(st, first + 4);
    int n = sqlite3_column_bytes(st, first + 4);
    out->has_dek = dek && n == SG_WRAPPED_DEK_BYTES;
    if (out->has_dek)
        memcpy(out->wrapped_dek, dek, SG_WRAPPED_DEK_BYTES);
    else if (dek)
        out->has_dek = -1; /* present but of the wrong size: damaged */
}

static enum sg_rc sq_subject_insert(struct sg_store *s, const struct sg_store_subject *sub,
                                    const uint8_t *record, size_t record_len, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SUBJ_INSERT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, &sub->id);
    sqlite3_bind_int(st, 2, sub->state);
    sqlite3_bind_int64(st, 3, sub->created);
    sqlite3_bind_int64(st, 4, sub->changed);
    sqlite3_bind_int64(st, 5, sub->dek_version);
    if (sub->has_dek == 1)
        sqlite3_bind_blob(st, 6, sub->wrapped_dek, SG_WRAPPED_DEK_BYTES, SQLITE_STATIC);
    if (record)
        sqlite3_bind_blob(st, 7, record, (int)record_len, SQLITE_STATIC);
    return run(q, st, "insert subject", err);
}

static enum sg_rc sq_subject_get(struct sg_store *s, const struct sg_uuid *id,
                                 struct sg_store_subject *out, struct sg_buf *record,
                                 struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SUBJ_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW) {
        out->id = *id;
        read_subject(st, 0, out);
        if (record) {
            sg_buf_reset(record);
            const void *p = sqlite3_column_blob(st, 5);
            int n = sqlite3_column_bytes(st, 5);
            if (p && n > 0)
                r = sg_buf_add(record, p, (size_t)n, err);
        }
    } else if (rc == SQLITE_DONE) {
        r = sg_err_set(err, SG_NOTFOUND, "no such subject");
    } else {
        r = fail(q, rc, "read subject", err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_subject_put_record(struct sg_store *s, const struct sg_uuid *id,
                                        const uint8_t *record, size_t record_len, sg_time changed,
                                        struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SUBJ_RECORD, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    if (record)
        sqlite3_bind_blob(st, 2, record, (int)record_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, changed);
    return run(q, st, "write record", err);
}

static enum sg_rc sq_subject_set_state(struct sg_store *s, const struct sg_uuid *id, int state,
                                       sg_time at, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SUBJ_STATE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, at);
    return run(q, st, "update subject", err);
}

static enum sg_rc sq_subject_list(struct sg_store *s, const struct sg_uuid *after, size_t limit,
                                  sg_subject_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, after ? ST_SUBJ_LIST_AFTER : ST_SUBJ_LIST_FIRST, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    if (after)
        bind_id(st, 2, after);
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_subject sub;
        col_id(st, 0, &sub.id);
        read_subject(st, 1, &sub);
        if (cb(ctx, &sub))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "list subjects", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_subject_set_dek(struct sg_store *s, const struct sg_uuid *id,
                                     const uint8_t wrapped[SG_WRAPPED_DEK_BYTES],
                                     struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SUBJ_SET_DEK, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_blob(st, 2, wrapped, SG_WRAPPED_DEK_BYTES, SQLITE_STATIC);
    return run(q, st, "update key", err);
}

static enum sg_rc del_by_subject(struct sq *q, enum stmt_id id, const struct sg_uuid *sid,
                                 struct sg_err *err)
{
    sqlite3_stmt *st = stmt(q, id, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, sid);
    return run(q, st, "erase", err);
}

static enum sg_rc sq_subject_shred(struct sg_store *s, const struct sg_uuid *id, int state,
                                   sg_time at, struct sg_err *err)
{
    struct sq *q = SQ(s);
    enum sg_rc r;
    if ((r = del_by_subject(q, ST_EVENTS_DEL, id, err)) ||
        (r = del_by_subject(q, ST_HIST_DEL, id, err)))
        return r;
    sqlite3_stmt *st = stmt(q, ST_SUBJ_SHRED, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, at);
    return run(q, st, "erase", err);
}

/* ------------------------------------------------------------ blind index */

static enum sg_rc index_op(struct sg_store *s, enum stmt_id which, int code,
                           const uint8_t bidx[SG_BIDX_BYTES], const struct sg_uuid *id,
                           struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, which, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int(st, 1, code);
    sqlite3_bind_blob(st, 2, bidx, SG_BIDX_BYTES, SQLITE_STATIC);
    bind_id(st, 3, id);
    return run(q, st, "index", err);
}

static enum sg_rc sq_index_put(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                               const struct sg_uuid *id, struct sg_err *err)
{
    return index_op(s, ST_INDEX_PUT, code, bidx, id, err);
}

static enum sg_rc sq_index_del(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                               const struct sg_uuid *id, struct sg_err *err)
{
    return index_op(s, ST_INDEX_DEL, code, bidx, id, err);
}

static enum sg_rc sq_index_del_subject(struct sg_store *s, const struct sg_uuid *id,
                                       struct sg_err *err)
{
    return del_by_subject(SQ(s), ST_INDEX_DEL_SUBJECT, id, err);
}

static enum sg_rc sq_index_find(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                                sg_id_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_INDEX_FIND, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int(st, 1, code);
    sqlite3_bind_blob(st, 2, bidx, SG_BIDX_BYTES, SQLITE_STATIC);
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_uuid id;
        col_id(st, 0, &id);
        if (cb(ctx, &id))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "look-up", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ------------------------------------------------------------------ events */

static enum sg_rc sq_event_put(struct sg_store *s, const struct sg_uuid *id, const char *name,
                               sg_time at, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_EVENT_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    return run(q, st, "write event", err);
}

static enum sg_rc sq_events_each(struct sg_store *s, const struct sg_uuid *id, sg_event_cb cb,
                                 void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_EVENTS_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_event e;
        e.name = (const char *)sqlite3_column_text(st, 0);
        e.at = sqlite3_column_int64(st, 1);
        if (!e.name)
            e.name = "";
        if (cb(ctx, &e))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "read events", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ----------------------------------------------------------------- history */

static enum sg_rc sq_history_append(struct sg_store *s, const struct sg_uuid *id,
                                    const struct sg_store_history *h, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_HIST_APPEND, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_text(st, 2, h->category, -1, SQLITE_STATIC);
    if (h->old_sealed)
        sqlite3_bind_blob(st, 3, h->old_sealed, (int)h->old_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, h->dek_version);
    if (h->reason_sealed)
        sqlite3_bind_blob(st, 5, h->reason_sealed, (int)h->reason_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, h->actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, h->at);
    return run(q, st, "write history", err);
}

static enum sg_rc sq_history_each(struct sg_store *s, const struct sg_uuid *id, sg_history_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_HIST_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_history h;
        h.seq = sqlite3_column_int64(st, 0);
        h.category = (const char *)sqlite3_column_text(st, 1);
        h.old_sealed = sqlite3_column_blob(st, 2);
        h.old_len = (size_t)sqlite3_column_bytes(st, 2);
        h.dek_version = (uint32_t)sqlite3_column_int64(st, 3);
        h.reason_sealed = sqlite3_column_blob(st, 4);
        h.reason_len = (size_t)sqlite3_column_bytes(st, 4);
        h.actor = (const char *)sqlite3_column_text(st, 5);
        h.at = sqlite3_column_int64(st, 6);
        if (!h.category)
            h.category = "";
        if (!h.actor)
            h.actor = "";
        if (cb(ctx, &h))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "read history", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ------------------------------------------------------------------- audit */

static enum sg_rc sq_audit_append(struct sg_store *s, const struct sg_store_audit *a,
                                  struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_APPEND, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, a->at);
    sqlite3_bind_text(st, 2, a->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->action, -1, SQLITE_STATIC);
    if (a->subject)
        bind_id(st, 6, a->subject);
    sqlite3_bind_text(st, 7, a->result, -1, SQLITE_STATIC);
    return run(q, st, "audit", err);
}

static enum sg_rc sq_audit_count(struct sg_store *s, int64_t *n, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_COUNT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        r = fail(q, rc, "audit", err);
    sqlite3_reset(st);
    return r;
}

/* ---------------------------------------------------------------- policies */

static enum sg_rc sq_policy_add(struct sg_store *s, const struct sg_store_policy *p, int64_t *seq,
                                struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_POLICY_ADD, err);
    if (!st)
        return err ? err->rc : SG_IO;
    if (p->len > INT32_MAX)
        return sg_err_set(err, SG_TOOBIG, "policy text too large");
    sqlite3_bind_text(st, 1, p->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->effective);
    sqlite3_bind_int64(st, 3, p->applied);
    sqlite3_bind_text(st, 4, p->actor, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, p->text ? p->text : "", (int)p->len, SQLITE_STATIC);
    enum sg_rc r = run(q, st, "record policy", err);
    if (!r && seq)
        *seq = sqlite3_last_insert_rowid(q->db);
    return r;
}

/* Steps through policy rows, handing each to `cb`; `max` rows at most. */
static enum sg_rc policy_rows(struct sq *q, sqlite3_stmt *st, size_t max, sg_policy_cb cb,
                              void *ctx, size_t *seen, struct sg_err *err)
{
    int rc = SQLITE_DONE;
    enum sg_rc r = SG_OK;
    *seen = 0;
    while (*seen < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_policy p;
        p.seq = sqlite3_column_int64(st, 0);
        p.hash = (const char *)sqlite3_column_text(st, 1);
        p.effective = sqlite3_column_int64(st, 2);
        p.applied = sqlite3_column_int64(st, 3);
        p.actor = (const char *)sqlite3_column_text(st, 4);
        p.text = sqlite3_column_type(st, 5) == SQLITE_NULL
                     ? NULL
                     : (const char *)sqlite3_column_blob(st, 5);
        p.len = p.text ? (size_t)sqlite3_column_bytes(st, 5) : 0;
        if (p.text && p.len == 0)
            p.text = "";
        if (!p.hash)
            p.hash = "";
        if (!p.actor)
            p.actor = "";
        (*seen)++;
        if (cb(ctx, &p))
            break;
    }
    if (*seen < max && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "read policy", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_policy_at(struct sg_store *s, sg_time at, sg_policy_cb cb, void *ctx,
                               struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_POLICY_AT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, at);
    size_t seen;
    enum sg_rc r = policy_rows(q, st, 1, cb, ctx, &seen, err);
    if (!r && !seen)
        r = sg_err_set(err, SG_NOTFOUND, "no policy version was in force then");
    return r;
}

static enum sg_rc sq_policy_each(struct sg_store *s, int with_text, sg_policy_cb cb, void *ctx,
                                 struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, with_text ? ST_POLICY_EACH_TEXT : ST_POLICY_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    size_t seen;
    return policy_rows(q, st, SIZE_MAX, cb, ctx, &seen, err);
}

/* ---------------------------------------------------------- backup/restore */

/* Copies database `from` (schema "main") into `to` in one step. */
static enum sg_rc copy_db(sqlite3 *to, sqlite3 *from, const char *what, struct sg_err *err)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b)
        return sg_err_set(err, SG_IO, "%s: %s", what, sqlite3_errmsg(to));
    int rc;
    /* -1: the whole database in one step, so the copy is one consistent
     * snapshot; retry while another connection holds a lock. */
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
        sqlite3_sleep(20);
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return sg_err_set(err, SG_IO, "%s: %s", what, sqlite3_errstr(rc));
    if (frc != SQLITE_OK)
        return sg_err_set(err, SG_IO, "%s: %s", what, sqlite3_errmsg(to));
    return SG_OK;
}

static enum sg_rc sq_backup(struct sg_store *s, const char *path, struct sg_err *err)
{
    struct sq *q = SQ(s);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return sg_err_set(err, SG_CONFLICT, "'%s' already exists; not overwriting it", path);
        return sg_err_set(err, SG_IO, "cannot create '%s': %s", path, strerror(errno));
    }
    close(fd);
    sqlite3 *dst = NULL;
    enum sg_rc r = SG_OK;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        r = sg_err_set(err, SG_IO, "cannot open '%s': %s", path, sqlite3_errstr(rc));
        goto out;
    }
    if ((r = copy_db(dst, q->db, "backup", err)))
        goto out;
    /* A backup is one self-contained file: no WAL beside it. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        r = sg_err_set(err, SG_IO, "backup: %s", sqlite3_errmsg(dst));
out:
    sqlite3_close_v2(dst);
    if (r)
        unlink(path);
    return r;
}

static enum sg_rc sq_restore(struct sg_store *s, const char *path, struct sg_err *err)
{
    struct sq *q = SQ(s);
    if (q->depth)
        return sg_err_set(err, SG_INTERNAL, "restore inside a transaction");
    sqlite3 *src = NULL;
    int rc = sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close_v2(src);
        return sg_err_set(err, SG_IO, "cannot open '%s': %s", path, sqlite3_errstr(rc));
    }
    finalize_all(q); /* cached statements would pin the old schema */
    enum sg_rc r = copy_db(q->db, src, "restore", err);
    sqlite3_close_v2(src);
    return r;
}

const struct sg_store_ops sg_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .category_add = sq_category_add,
    .category_each = sq_category_each,
    .subject_insert = sq_subject_insert,
    .subject_get = sq_subject_get,
    .subject_put_record = sq_subject_put_record,
    .subject_set_state = sq_subject_set_state,
    .subject_list = sq_subject_list,
    .subject_set_dek = sq_subject_set_dek,
    .subject_shred = sq_subject_shred,
    .index_put = sq_index_put,
    .index_del = sq_index_del,
    .index_del_subject = sq_index_del_subject,
    .index_find = sq_index_find,
    .event_put = sq_event_put,
    .events_each = sq_events_each,
    .history_append = sq_history_append,
    .history_each = sq_history_each,
    .audit_append = sq_audit_append,
    .audit_count = sq_audit_count,
    .policy_add = sq_policy_add,
    .policy_at = sq_policy_at,
    .policy_each = sq_policy_each,
    .backup = sq_backup,
    .restore = sq_restore,
};
