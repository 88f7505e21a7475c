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
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
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
    ST_AUDIT_SIZE,
    ST_AUDIT_APPEND,
    ST_AUDIT_NODE_PUT,
    ST_AUDIT_LEAF_HASH,
    ST_AUDIT_NODE_GET,
    ST_AUDIT_NODES_READ,
    ST_AUDIT_EACH,
    ST_AUDIT_EACH_SUBJECT,
    ST_AUDIT_EACH_SUBJECT_OPEN,
    ST_AUDIT_PERSON_UPTO,
    ST_AUDIT_PERSON_FILL,
    ST_AUDIT_PERSON_MARK,
    ST_AUDIT_HEAD_PUT,
    ST_AUDIT_HEADS_EACH,
    ST_TOKEN_PUT,
    ST_TOKEN_GET,
    ST_TOKEN_EACH,
    ST_TOKEN_REVOKE,
    ST_POLICY_ADD,
    ST_POLICY_AT,
    ST_POLICY_EACH,
    ST_POLICY_EACH_TEXT,
    ST_MEMBER_PUT,
    ST_MEMBER_DEL,
    ST_MEMBERS_EACH,
    ST_MEMBER_SHARED,
    ST_MEMBERS_DEL,
    ST_CONSENT_APPEND,
    ST_CONSENT_EACH,
    ST_CONSENT_PENDING,
    ST_CONSENT_ANY_PENDING,
    ST_CONSENT_LINK,
    ST_CONSENT_RESEAL,
    ST_CONSENT_DEL,
    ST_PSTATE_GET,
    ST_PSTATE_PUT,
    ST_PSTATE_DEL,
    ST_DECIDE,
    ST_DECISIONS_STATE,
    ST_OP_INSERT,
    ST_OP_PUT,
    ST_OP_GET,
    ST_OP_EACH,
    ST_SESS_PUT,
    ST_SESS_GET,
    ST_SESS_SEEN,
    ST_SESS_DEL,
    ST_SESS_DEL_LOGIN,
    ST_SESS_PURGE,
    ST_SWEEP_FIRST,
    ST_SWEEP_AFTER,
    ST_SWEEP_EVENTS,
    ST_SWEEP_DONE,
    ST_DONE_PUT,
    ST_DONE_DEL,
    ST_GEVENT_PUT,
    ST_GEVENT_LATEST,
    ST_STATS_PUT,
    ST_STATS_EACH,
    ST_HIST_DEL_CAT,
    ST_OUTBOX_PUT,
    ST_OUTBOX_CLAIM,
    ST_OUTBOX_UPDATE,
    ST_OUTBOX_EACH,
    ST_OUTBOX_EACH_STATE,
    ST_OUTBOX_DEL,
    ST_REQ_PUT,
    ST_REQ_GET,
    ST_REQ_OPEN,
    ST_REQ_OPEN_BEFORE,
    ST_REQ_SUBJECT,
    ST_REQ_CHANGED,
    ST_REQ_EV_PUT,
    ST_REQ_EV_EACH,
    ST_CODE_LOCK,
    ST_CODE_GET,
    ST_CODE_PUT,
    ST_CODE_DEL,
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
                      "WHERE id = ?1 AND (?4 = 0 OR state <> ?2)",
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
    [ST_AUDIT_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM audit_log",
    [ST_AUDIT_APPEND] = "INSERT INTO audit_log (idx, at, pseudonym, leaf, hash) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_AUDIT_NODE_PUT] = "INSERT INTO audit_nodes (id, hash) VALUES (?1, ?2)",
    [ST_AUDIT_LEAF_HASH] = "SELECT hash FROM audit_log WHERE idx = ?1",
    [ST_AUDIT_NODE_GET] = "SELECT hash FROM audit_nodes WHERE id = ?1",
    [ST_AUDIT_NODES_READ] = "SELECT id, hash FROM audit_nodes WHERE id >= ?1 ORDER BY id LIMIT ?2",
    [ST_AUDIT_EACH] = "SELECT idx, at, pseudonym, leaf, hash FROM audit_log WHERE idx >= ?1 AND "
                      "idx < ?2 AND at >= ?3 ORDER BY idx",
    /* One range of the per-person index (migration step 11), then the
     * entries themselves; archiving empties an entry's pseudonym, which
     * hides it here too. */
    [ST_AUDIT_EACH_SUBJECT] = "SELECT a.idx, a.at, a.pseudonym, a.leaf, a.hash FROM audit_person p "
                              "JOIN audit_log a ON a.idx = p.idx WHERE p.part = ?5 AND "
                              "p.pseudonym = ?4 AND p.idx >= ?1 AND p.idx < ?2 AND a.at >= ?3 "
                              "AND a.pseudonym = ?4 ORDER BY p.idx",
    /* The range not yet in the index: read through. */
    [ST_AUDIT_EACH_SUBJECT_OPEN] = "SELECT idx, at, pseudonym, leaf, hash FROM audit_log WHERE "
                                   "idx >= ?1 AND idx < ?2 AND at >= ?3 AND pseudonym = ?4 "
                                   "ORDER BY idx",
    [ST_AUDIT_PERSON_UPTO] = "SELECT upto FROM audit_person_upto WHERE id = 1",
    /* OR IGNORE: rows a fill put in without moving the mark (none should;
     * a mark behind is caught up) are no conflict. */
    [ST_AUDIT_PERSON_FILL] = "INSERT OR IGNORE INTO audit_person (part, pseudonym, idx) "
                             "SELECT idx >> 12, pseudonym, idx FROM audit_log WHERE idx >= ?1 "
                             "AND idx < ?2 AND pseudonym IS NOT NULL ORDER BY 1, 2, 3",
    [ST_AUDIT_PERSON_MARK] = "INSERT INTO audit_person_upto (id, upto) VALUES (1, ?1) "
                             "ON CONFLICT (id) DO UPDATE SET upto = excluded.upto",
    [ST_AUDIT_HEAD_PUT] = "INSERT INTO audit_heads (size, at, root, note) VALUES (?1, ?2, ?3, ?4)",
    [ST_TOKEN_PUT] = "INSERT INTO tokens (id, name, role, purpose, hash, created, revoked, "
                     "scope) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
    [ST_TOKEN_GET] = "SELECT id, name, role, purpose, hash, created, revoked, scope FROM tokens "
                     "WHERE id = ?1",
    [ST_TOKEN_EACH] = "SELECT id, name, role, purpose, hash, created, revoked, scope FROM tokens "
                      "ORDER BY created, id",
    [ST_MEMBER_PUT] = "INSERT INTO memberships (subject, grp, since) VALUES (?1, ?2, ?3)",
    [ST_MEMBER_DEL] = "DELETE FROM memberships WHERE subject = ?1 AND grp = ?2",
    [ST_MEMBERS_EACH] = "SELECT grp, since FROM memberships WHERE subject = ?1 ORDER BY grp",
    [ST_MEMBER_SHARED] = "SELECT 1 FROM memberships a JOIN memberships b ON b.grp = a.grp "
                         "AND b.subject = ?2 WHERE a.subject = ?1 LIMIT 1",
    [ST_MEMBERS_DEL] = "DELETE FROM memberships WHERE subject = ?1",
    [ST_CONSENT_APPEND] =
        "INSERT INTO consent_events (subject, category, bidx, purpose, state, at, "
        "method, lang, notice, by_whom, guardian, expires, child, actor, kv, "
        "details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13, ?14, ?15, ?16)",
#define CONSENT_COLS                                                                               \
    "seq, subject, category, bidx, purpose, state, at, method, lang, notice, by_whom, guardian, "  \
    "expires, child, actor, kv, details"
    [ST_CONSENT_EACH] = "SELECT " CONSENT_COLS " FROM consent_events WHERE subject = ?1 "
                        "ORDER BY seq",
    [ST_CONSENT_PENDING] = "SELECT " CONSENT_COLS " FROM consent_events WHERE subject IS NULL "
                           "AND category = ?1 AND bidx = ?2 ORDER BY seq",
    [ST_CONSENT_ANY_PENDING] = "SELECT 1 FROM consent_events INDEXED BY consent_events_pending "
                               "WHERE subject IS NULL LIMIT 1",
    [ST_CONSENT_LINK] = "UPDATE consent_events SET subject = ?3, category = NULL, bidx = NULL "
                        "WHERE subject IS NULL AND category = ?1 AND bidx = ?2",
    [ST_CONSENT_RESEAL] = "UPDATE consent_events SET kv = ?2, details = ?3 WHERE seq = ?1",
    [ST_CONSENT_DEL] = "DELETE FROM consent_events WHERE subject = ?1",
    [ST_PSTATE_GET] = "SELECT state, purposes FROM decisions WHERE subject = ?1",
    [ST_PSTATE_PUT] = "INSERT OR REPLACE INTO decisions (subject, state, purposes) "
                      "VALUES (?1, ?2, ?3)",
    [ST_PSTATE_DEL] = "DELETE FROM decisions WHERE subject = ?1",
    [ST_DECIDE] = "SELECT state FROM subjects WHERE id = ?1",
    [ST_DECISIONS_STATE] = "UPDATE decisions SET state = ?2 WHERE subject = ?1",
#define OP_COLS                                                                                    \
    "login, role, purpose, scope, hash, created, password_changed, failures, locked_until, "       \
    "disabled"
    [ST_OP_INSERT] = "INSERT INTO operators (" OP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                     "?9, ?10)",
    [ST_OP_PUT] = "INSERT OR REPLACE INTO operators (" OP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                  "?7, ?8, ?9, ?10)",
    [ST_OP_GET] = "SELECT " OP_COLS " FROM operators WHERE login = ?1",
    [ST_OP_EACH] = "SELECT " OP_COLS " FROM operators ORDER BY login",
    [ST_SESS_PUT] = "INSERT INTO sessions (hash, login, created, expires, seen) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_SESS_GET] = "SELECT login, created, expires, seen FROM sessions WHERE hash = ?1",
    [ST_SESS_SEEN] = "UPDATE sessions SET seen = ?2 WHERE hash = ?1",
    [ST_SESS_DEL] = "DELETE FROM sessions WHERE hash = ?1",
    [ST_SESS_DEL_LOGIN] = "DELETE FROM sessions WHERE login = ?1",
    [ST_SESS_PURGE] = "DELETE FROM sessions WHERE expires <= ?1",
    [ST_SWEEP_FIRST] = "SELECT id, state, created FROM subjects ORDER BY id LIMIT ?1",
    [ST_SWEEP_AFTER] = "SELECT id, state, created FROM subjects WHERE id > ?2 ORDER BY id LIMIT ?1",
    [ST_SWEEP_EVENTS] =
        "SELECT subject, name, at FROM events WHERE subject >= ?1 AND subject <= ?2 "
        "ORDER BY subject",
    [ST_SWEEP_DONE] = "SELECT subject, rule, anchor FROM sweep_done WHERE subject >= ?1 AND "
                      "subject <= ?2 ORDER BY subject",
    [ST_DONE_PUT] = "INSERT OR IGNORE INTO sweep_done (subject, rule, anchor, at) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [ST_DONE_DEL] = "DELETE FROM sweep_done WHERE subject = ?1",
    [ST_GEVENT_PUT] = "INSERT OR IGNORE INTO global_events (name, at) VALUES (?1, ?2)",
    [ST_GEVENT_LATEST] = "SELECT max(at) FROM global_events WHERE name = ?1 AND at <= ?2",
    [ST_STATS_PUT] = "INSERT INTO statistics (id, category, value, year) VALUES (?1, ?2, ?3, ?4)",
    [ST_STATS_EACH] = "SELECT category, value, year, count(*) FROM statistics "
                      "GROUP BY category, value, year ORDER BY category, value, year",
    [ST_HIST_DEL_CAT] = "DELETE FROM history WHERE subject = ?1 AND category = ?2",
    [ST_OUTBOX_PUT] = "INSERT INTO outbox (id, subject, kind, created, kv, sealed, next_attempt) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4)",
#define OUTBOX_COLS                                                                                \
    "id, subject, kind, created, kv, sealed, state, attempts, next_attempt, sent, error"
    [ST_OUTBOX_CLAIM] = "UPDATE outbox SET claimed_until = ?2 WHERE id IN (SELECT id FROM outbox "
                        "WHERE state = 0 AND next_attempt <= ?1 AND claimed_until <= ?1 "
                        "ORDER BY next_attempt LIMIT ?3) RETURNING " OUTBOX_COLS,
    [ST_OUTBOX_UPDATE] = "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt = ?4, "
                         "sent = ?5, error = ?6, claimed_until = 0, sealed = CASE ?2 WHEN 0 "
                         "THEN sealed ELSE x'' END WHERE id = ?1 AND "
                         "claimed_until = ?7",
    [ST_OUTBOX_EACH] = "SELECT " OUTBOX_COLS " FROM outbox ORDER BY created, id",
    [ST_OUTBOX_EACH_STATE] = "SELECT " OUTBOX_COLS " FROM outbox WHERE state = ?1 "
                             "ORDER BY created, id",
    [ST_OUTBOX_DEL] = "DELETE FROM outbox WHERE subject = ?1",
#define REQ_COLS                                                                                   \
    "id, subject, kind, channel, state, received, received_day, paused_days, paused_since, "       \
    "extended, due_day, identity, agent, copies, closed, updated"
    [ST_REQ_PUT] = "INSERT OR REPLACE INTO requests (" REQ_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
                   "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [ST_REQ_GET] = "SELECT " REQ_COLS " FROM requests WHERE id = ?1",
    [ST_REQ_OPEN] = "SELECT " REQ_COLS " FROM requests WHERE closed = 0 ORDER BY due_day, id "
                    "LIMIT ?1",
    [ST_REQ_OPEN_BEFORE] = "SELECT " REQ_COLS " FROM requests WHERE closed = 0 AND due_day < ?2 "
                           "ORDER BY due_day, id LIMIT ?1",
    [ST_REQ_CHANGED] = "SELECT " REQ_COLS " FROM requests WHERE updated > ?2 "
                       "ORDER BY updated, id LIMIT ?1",
    [ST_REQ_SUBJECT] = "SELECT " REQ_COLS " FROM requests WHERE subject = ?2 "
                       "ORDER BY received DESC LIMIT ?1",
    [ST_REQ_EV_PUT] = "INSERT INTO request_events (request, at, actor, verb, state, reason) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* A write first: in a deferred transaction it takes the write lock
     * (BEGIN IMMEDIATE already holds it). */
    [ST_CODE_LOCK] = "INSERT INTO person_codes (subject, hash, expires, attempts, sent, day_start, "
                     "day_sends, day_fails) VALUES (?1, zeroblob(32), 0, 0, 0, 0, 0, 0) "
                     "ON CONFLICT (subject) DO NOTHING",
    [ST_CODE_GET] = "SELECT hash, expires, attempts, sent, day_start, day_sends, day_fails "
                    "FROM person_codes WHERE subject = ?1",
    [ST_CODE_PUT] = "UPDATE person_codes SET hash = ?2, expires = ?3, attempts = ?4, sent = ?5, "
                    "day_start = ?6, day_sends = ?7, day_fails = ?8 WHERE subject = ?1",
    [ST_CODE_DEL] = "DELETE FROM person_codes WHERE subject = ?1",
    [ST_REQ_EV_EACH] = "SELECT seq, at, actor, verb, state, reason FROM request_events "
                       "WHERE request = ?1 ORDER BY seq",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked = 0",
    [ST_AUDIT_HEADS_EACH] = "SELECT size, at, root, note FROM audit_heads WHERE size >= ?1 "
                            "ORDER BY size",
    [ST_POLICY_ADD] = "INSERT INTO policies (hash, effective, applied, actor, text) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_POLICY_AT] = "SELECT seq, hash, effective, applied, actor, text FROM policies "
                     "WHERE effective <= ?1 ORDER BY effective DESC, seq DESC LIMIT 1",
    [ST_POLICY_EACH] = "SELECT seq, hash, effective, applied, actor, NULL FROM policies "
                       "ORDER BY seq",
    [ST_POLICY_EACH_TEXT] = "SELECT seq, hash, effective, applied, actor, text FROM policies "
                            "ORDER BY seq",
};

/* The WAL index header as SQLite keeps it, twice, at the start of the -shm
 * file (two copies of 48 bytes, machine byte order; sqlite.org/walformat).
 * Every process sharing the database maps it, whatever its SQLite version,
 * so its layout cannot change. A commit rewrites both copies, the second
 * first; a header that reads the same as when a snapshot was taken means
 * no transaction has committed since. */
#define WAL_HDR   48
#define KEEP_USEC 50000 /* a kept snapshot is renewed at least this often */

struct sq {
    struct sg_store base;
    sqlite3 *db;
    char *path;
    int depth; /* open transaction levels: 1 = transaction, more = savepoints */
    sqlite3_stmt *st[ST_COUNT];
    /* Whether any consent waits for its person, as the transaction sees
     * it (0 not known yet, 1 none, 2 some): every person added asks, and in
     * a bulk import it is one read per transaction instead of three per
     * person. */
    int pending;
    /* Decisions in bulk (decide_keep): a read transaction kept open across
     * decisions while the header is unchanged. */
    int keep, held, deciding;
    const volatile uint8_t *shm; /* the -shm file's first page, read-only */
    uint8_t hdr[WAL_HDR];        /* the header when the held snapshot began */
    int64_t held_since;          /* CLOCK_MONOTONIC, microseconds */
};

static void release_held(struct sq *q)
{
    if (q->held) {
        /* A read transaction: ending it cannot fail in a way that matters. */
        sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
        q->held = 0;
    }
}

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
    /* Only a decision reads from a kept snapshot; anything else sees the
     * database as it is now. */
    if (q->held && !q->deciding)
        release_held(q);
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
    release_held(q);
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SG_OK : fail(q, rc, what, err);
}

/* ------------------------------------------------------------- open/close */

static void sq_close(struct sg_store *s)
{
    struct sq *q = SQ(s);
    if (!q)
        return;
    release_held(q);
    if (q->shm)
        munmap((void *)q->shm, 4096);
    finalize_all(q);
    if (q->db)
        sqlite3_close_v2(q->db);
    free(q->path);
    free(q);
}

/* SQLite counts every allocation under one process-wide mutex unless told
 * not to; a server's threads, each on its own handle, then queue on it
 * (about a third of the futex calls of a decision over HTTP). We read no
 * memory statistics. The setting must come before SQLite's first use; when
 * the program embedding us started SQLite itself, it is refused and SQLite
 * keeps counting, which costs speed only. */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

static void sq_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum sg_rc sq_open(const char *path, int flags, struct sg_store **out, struct sg_err *err)
{
    pthread_once(&sq_once, sq_configure);
    int create = flags & SG_STORE_CREATE;
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
                  "PRAGMA wal_autocheckpoint=16384;",
                  "open", err)))
        goto bad;
    /* Reads through a memory map are the faster when one handle has the
     * database; but a read transaction that finds another's commit unmaps
     * the whole map (and maps it again, with a TLB flush on every core),
     * which in the server cost more than half of every read. */
    if (!(flags & SG_STORE_SHARED) && (r = exec(q, "PRAGMA mmap_size=2147418112;", "open", err)))
        goto bad;
    *out = &q->base;
    return SG_OK;
bad:
    sq_close(&q->base);
    return r;
}

/* ------------------------------------------------------------ transactions */

static enum sg_rc begin_as(struct sg_store *s, const char *how, struct sg_err *err)
{
    struct sq *q = SQ(s);
    enum sg_rc r;
    release_held(q);
    if (q->depth == 0) {
        q->pending = 0;
        r = exec(q, how, "begin", err);
    } else {
        sqlite3_stmt *st = stmt(q, ST_SAVEPOINT, err);
        r = st ? run(q, st, "savepoint", err) : (err ? err->rc : SG_IO);
    }
    if (!r)
        q->depth++;
    return r;
}

static enum sg_rc sq_begin(struct sg_store *s, struct sg_err *err)
{
    return begin_as(s, "BEGIN IMMEDIATE", err);
}

static enum sg_rc sq_begin_read(struct sg_store *s, struct sg_err *err)
{
    return begin_as(s, "BEGIN DEFERRED", err);
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
    q->pending = 0;
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
    q->pending = 0;
}

/* -------------------------------------------------------------- migrations */

static enum sg_rc read_version(struct sq *q, int *version, struct sg_err *err)
{
    release_held(q);
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
    enum sg_rc r = run(q, st, "update subject", err);
    /* ...and the copy decisions read. */
    if (!r && (st = stmt(q, ST_DECISIONS_STATE, err))) {
        bind_id(st, 1, id);
        sqlite3_bind_int(st, 2, state);
        r = run(q, st, "update subject", err);
    } else if (!r) {
        r = err ? err->rc : SG_IO;
    }
    return r;
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

static enum sg_rc sq_session_del_login(struct sg_store *s, const char *login, struct sg_err *err);

static enum sg_rc del_by_subject(struct sq *q, enum stmt_id id, const struct sg_uuid *sid,
                                 struct sg_err *err)
{
    sqlite3_stmt *st = stmt(q, id, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, sid);
    return run(q, st, "erase", err);
}

static enum sg_rc index_op(struct sg_store *s, enum stmt_id which, int code,
                           const uint8_t bidx[SG_BIDX_BYTES], const struct sg_uuid *id,
                           struct sg_err *err);

/* The entries named, or every entry of the person by a scan of the index
 * (no index by person here: store.h). */
static enum sg_rc shred_keys(struct sg_store *s, const struct sg_uuid *id,
                             const struct sg_store_key *keys, size_t n, struct sg_err *err)
{
    if (!keys)
        return del_by_subject(SQ(s), ST_INDEX_DEL_SUBJECT, id, err);
    enum sg_rc r = SG_OK;
    for (size_t i = 0; i < n && !r; i++)
        r = index_op(s, ST_INDEX_DEL, keys[i].code, keys[i].bidx, id, err);
    return r;
}

static enum sg_rc sq_subject_shred(struct sg_store *s, const struct sg_uuid *id, int state,
                                   sg_time at, int once, const struct sg_store_key *keys, size_t n,
                                   struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SUBJ_SHRED, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int(st, 4, once != 0);
    enum sg_rc r = run(q, st, "erase", err);
    if (!r && once && sqlite3_changes(q->db) != 1)
        return sg_err_set(err, SG_NOTFOUND, SG_STORE_NOBODY);
    if (r || (r = shred_keys(s, id, keys, n, err)) ||
        (r = del_by_subject(q, ST_EVENTS_DEL, id, err)) ||
        (r = del_by_subject(q, ST_HIST_DEL, id, err)) ||
        (r = del_by_subject(q, ST_MEMBERS_DEL, id, err)) ||
        (r = del_by_subject(q, ST_CONSENT_DEL, id, err)) ||
        (r = del_by_subject(q, ST_PSTATE_DEL, id, err)) ||
        (r = del_by_subject(q, ST_DONE_DEL, id, err)) ||
        (r = del_by_subject(q, ST_OUTBOX_DEL, id, err)) ||
        (r = del_by_subject(q, ST_CODE_DEL, id, err)))
        return r;
    /* The person's own sessions end with them (self-service). */
    char login[64], ids[SG_UUID_STR_LEN + 1];
    snprintf(login, sizeof login, SG_PERSON_LOGIN_PREFIX "%s", sg_uuid_format(id, ids));
    return sq_session_del_login(s, login, err);
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

static sqlite3_int64 node_id(unsigned level, uint64_t index)
{
    return (sqlite3_int64)sg_node_key(level, index);
}

static enum sg_rc sq_audit_lock(struct sg_store *s, struct sg_err *err)
{
    (void)s;
    (void)err;
    return SG_OK; /* BEGIN IMMEDIATE already holds the only write lock */
}

static enum sg_rc sq_audit_size(struct sg_store *s, uint64_t *size, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_SIZE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW)
        *size = (uint64_t)sqlite3_column_int64(st, 0);
    else
        r = fail(q, rc, "audit", err);
    sqlite3_reset(st);
    return r;
}

/* The per-person index of the audit log covers ranges of 4,096 entries. */
#define PERSON_RANGE_SHIFT 12
#define PERSON_RANGE_MASK  ((UINT64_C(1) << PERSON_RANGE_SHIFT) - 1)

/* Where the per-person index ends: the entries below it are in
 * audit_person. 0 when no mark was ever written (a database copied from
 * PostgreSQL's backup, whose tables it does not carry). */
static enum sg_rc person_index_upto(struct sq *q, uint64_t *upto, struct sg_err *err)
{
    sqlite3_stmt *st = stmt(q, ST_AUDIT_PERSON_UPTO, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    *upto = 0;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        *upto = v > 0 ? (uint64_t)v : 0;
    } else if (rc != SQLITE_DONE) {
        r = fail(q, rc, "audit", err);
    }
    sqlite3_reset(st);
    return r;
}

/* Puts the entries from the mark up to `upto` (a multiple of the range)
 * into the per-person index, sorted, and moves the mark. A mark behind by
 * more than one range (see person_index_upto) catches up here. */
static enum sg_rc person_index_fill(struct sq *q, uint64_t upto, struct sg_err *err)
{
    uint64_t from;
    enum sg_rc r = person_index_upto(q, &from, err);
    if (r || from >= upto)
        return r;
    sqlite3_stmt *st = stmt(q, ST_AUDIT_PERSON_FILL, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
    if ((r = run(q, st, "audit", err)))
        return r;
    if (!(st = stmt(q, ST_AUDIT_PERSON_MARK, err)))
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
    return run(q, st, "audit", err);
}

static enum sg_rc sq_audit_append(struct sg_store *s, const struct sg_store_audit *a,
                                  struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_APPEND, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a->index);
    sqlite3_bind_int64(st, 2, a->at);
    if (a->pseudonym)
        sqlite3_bind_blob(st, 3, a->pseudonym, SG_PSEUDONYM_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, a->leaf, (int)a->leaf_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, a->hash, 32, SQLITE_STATIC);
    enum sg_rc r = run(q, st, "audit", err);
    /* The entry that fills a range of 4,096: the range goes into the
     * per-person index, in the same transaction. */
    if (!r && ((a->index + 1) & PERSON_RANGE_MASK) == 0)
        r = person_index_fill(q, a->index + 1, err);
    return r;
}

static enum sg_rc sq_audit_node_put(struct sg_store *s, unsigned level, uint64_t index,
                                    const uint8_t hash[32], struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_NODE_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, node_id(level, index));
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    return run(q, st, "audit", err);
}

static enum sg_rc sq_audit_hash_get(struct sg_store *s, unsigned level, uint64_t index,
                                    uint8_t out[32], struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, level ? ST_AUDIT_NODE_GET : ST_AUDIT_LEAF_HASH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, level ? node_id(level, index) : (sqlite3_int64)index);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
        memcpy(out, sqlite3_column_blob(st, 0), 32);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        r = sg_err_set(err, SG_NOTFOUND, "audit tree node %u/%llu is missing", level,
                       (unsigned long long)index);
    else
        r = fail(q, rc, "audit", err);
    sqlite3_reset(st);
    return r;
}

static enum sg_rc sq_audit_nodes_read(struct sg_store *s, uint64_t from, size_t max,
                                      struct sg_store_node *out, size_t *n, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_NODES_READ, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, from > INT64_MAX ? INT64_MAX : (sqlite3_int64)from);
    sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
    int rc;
    enum sg_rc r = SG_OK;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_node *o = &out[*n];
        sg_node_unkey((uint64_t)sqlite3_column_int64(st, 0), &o->level, &o->index);
        /* A damaged hash reads as zeros: the verifier finds it unequal. */
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(o->hash, sqlite3_column_blob(st, 1), 32);
        else
            memset(o->hash, 0, 32);
        (*n)++;
    }
    if (rc != SQLITE_DONE)
        r = fail(q, rc, "audit", err);
    sqlite3_reset(st);
    return r;
}

/* Steps an entry query, handing each row to `cb`; 1 when `cb` stopped. */
static int each_row(struct sq *q, sqlite3_stmt *st, sg_audit_cb cb, void *ctx, enum sg_rc *r,
                    struct sg_err *err)
{
    int rc, stopped = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_audit a;
        a.index = (uint64_t)sqlite3_column_int64(st, 0);
        a.at = sqlite3_column_int64(st, 1);
        a.pseudonym =
            sqlite3_column_bytes(st, 2) == SG_PSEUDONYM_BYTES ? sqlite3_column_blob(st, 2) : NULL;
        a.leaf = sqlite3_column_blob(st, 3);
        a.leaf_len = (size_t)sqlite3_column_bytes(st, 3);
        a.hash = sqlite3_column_bytes(st, 4) == 32 ? sqlite3_column_blob(st, 4) : NULL;
        if (!a.leaf)
            a.leaf = (const uint8_t *)"";
        if (cb(ctx, &a)) {
            stopped = 1;
            break;
        }
    }
    if (!stopped && rc != SQLITE_DONE)
        *r = fail(q, rc, "audit", err);
    sqlite3_reset(st);
    return stopped;
}

static enum sg_rc sq_audit_each(struct sg_store *s, uint64_t from, uint64_t to,
                                const uint8_t *pseudonym, sg_time since, sg_audit_cb cb, void *ctx,
                                struct sg_err *err)
{
    struct sq *q = SQ(s);
    enum sg_rc r = SG_OK;
    if (!pseudonym) {
        sqlite3_stmt *st = stmt(q, ST_AUDIT_EACH, err);
        if (!st)
            return err ? err->rc : SG_IO;
        sqlite3_bind_int64(st, 1, from > INT64_MAX ? INT64_MAX : (sqlite3_int64)from);
        sqlite3_bind_int64(st, 2, to > INT64_MAX ? INT64_MAX : (sqlite3_int64)to);
        sqlite3_bind_int64(st, 3, since);
        each_row(q, st, cb, ctx, &r, err);
        sqlite3_clear_bindings(st);
        return r;
    }
    /* One person: one seek per range of 4,096 entries in the index, then
     * the entries the index does not have yet (the open range) read
     * through. In one read transaction, so that a range filled meanwhile
     * is neither missed nor seen twice. */
    int own = q->depth == 0;
    if (own && (r = sq_begin_read(s, err)))
        return r;
    uint64_t size = 0, upto = 0;
    if (!(r = sq_audit_size(s, &size, err)))
        r = person_index_upto(q, &upto, err);
    if (to > size)
        to = size;
    uint64_t indexed = to < upto ? to : upto;
    int stopped = 0;
    sqlite3_stmt *st = r ? NULL : stmt(q, ST_AUDIT_EACH_SUBJECT, err);
    if (!r && !st)
        r = err ? err->rc : SG_IO;
    for (uint64_t b = from >> PERSON_RANGE_SHIFT;
         !r && !stopped && from < indexed && b <= (indexed - 1) >> PERSON_RANGE_SHIFT; b++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)indexed);
        sqlite3_bind_int64(st, 3, since);
        sqlite3_bind_blob(st, 4, pseudonym, SG_PSEUDONYM_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)b);
        stopped = each_row(q, st, cb, ctx, &r, err);
        sqlite3_clear_bindings(st);
    }
    uint64_t open = from > upto ? from : upto;
    if (!r && !stopped && open < to) {
        if (!(st = stmt(q, ST_AUDIT_EACH_SUBJECT_OPEN, err))) {
            r = err ? err->rc : SG_IO;
        } else {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)open);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
            sqlite3_bind_int64(st, 3, since);
            sqlite3_bind_blob(st, 4, pseudonym, SG_PSEUDONYM_BYTES, SQLITE_STATIC);
            each_row(q, st, cb, ctx, &r, err);
            sqlite3_clear_bindings(st);
        }
    }
    if (own) {
        if (r)
            sq_rollback(s);
        else
            r = sq_commit(s, err);
    }
    return r;
}

static enum sg_rc sq_audit_archive(struct sg_store *s, uint64_t below, struct sg_err *err)
{
    struct sq *q = SQ(s);
    if (q->depth == 0)
        return sg_err_set(err, SG_INTERNAL, "archiving outside a transaction");
    char sql[1024];
    /* The trigger is lifted for this statement only, inside the caller's
     * transaction: nobody sees the log without it. */
    snprintf(sql, sizeof sql,
             "DROP TRIGGER audit_log_no_update;"
             "UPDATE audit_log SET leaf = x'', pseudonym = NULL WHERE idx < %llu;"
             "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
             "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
             "DROP TRIGGER audit_person_no_delete;"
             "DELETE FROM audit_person WHERE part <= %llu AND idx < %llu;"
             "CREATE TRIGGER audit_person_no_delete BEFORE DELETE ON audit_person"
             "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;",
             (unsigned long long)below, (unsigned long long)(below >> PERSON_RANGE_SHIFT),
             (unsigned long long)below);
    return exec(q, sql, "archive", err);
}

static enum sg_rc sq_audit_head_put(struct sg_store *s, const struct sg_store_head *h,
                                    struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_HEAD_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h->size);
    sqlite3_bind_int64(st, 2, h->at);
    sqlite3_bind_blob(st, 3, h->root, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h->note, -1, SQLITE_STATIC);
    return run(q, st, "audit", err);
}

static enum sg_rc sq_audit_heads_each(struct sg_store *s, uint64_t from, sg_head_cb cb, void *ctx,
                                      struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_AUDIT_HEADS_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, from > INT64_MAX ? INT64_MAX : (sqlite3_int64)from);
    int rc;
    enum sg_rc r = SG_OK;
    static const uint8_t zero[32];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_head h;
        h.size = (uint64_t)sqlite3_column_int64(st, 0);
        h.at = sqlite3_column_int64(st, 1);
        h.root = sqlite3_column_bytes(st, 2) == 32 ? sqlite3_column_blob(st, 2) : zero;
        h.note = (const char *)sqlite3_column_text(st, 3);
        if (!h.note)
            h.note = "";
        if (cb(ctx, &h))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "audit", err);
    sqlite3_reset(st);
    return r;
}

/* ------------------------------------------------------------- memberships */

static enum sg_rc sq_member_put(struct sg_store *s, const struct sg_uuid *id, const char *group,
                                sg_time since, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_MEMBER_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, since);
    enum sg_rc r = run(q, st, "membership", err);
    if (r == SG_CONFLICT)
        r = sg_err_set(err, SG_CONFLICT, "already a member of group '%.64s'", group);
    return r;
}

static enum sg_rc sq_member_del(struct sg_store *s, const struct sg_uuid *id, const char *group,
                                struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_MEMBER_DEL, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    enum sg_rc r = run(q, st, "membership", err);
    if (!r && sqlite3_changes(q->db) == 0)
        r = sg_err_set(err, SG_NOTFOUND, "not a member of group '%.64s'", group);
    return r;
}

static enum sg_rc sq_members_each(struct sg_store *s, const struct sg_uuid *id, sg_group_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_MEMBERS_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *g = (const char *)sqlite3_column_text(st, 0);
        if (g && cb(ctx, g, sqlite3_column_int64(st, 1)))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "membership", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_member_shared(struct sg_store *s, const struct sg_uuid *a,
                                   const struct sg_uuid *b, int *shared, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_MEMBER_SHARED, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, a);
    bind_id(st, 2, b);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    *shared = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "membership", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ----------------------------------------------------------------- consent */

static enum sg_rc sq_consent_append(struct sg_store *s, struct sg_store_consent *c,
                                    struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CONSENT_APPEND, err);
    if (!st)
        return err ? err->rc : SG_IO;
    if (c->has_subject) {
        bind_id(st, 1, &c->subject);
    } else {
        q->pending = 2;
        sqlite3_bind_int(st, 2, c->category);
        sqlite3_bind_blob(st, 3, c->bidx, SG_BIDX_BYTES, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 4, c->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, c->state);
    sqlite3_bind_int64(st, 6, c->at);
    sqlite3_bind_int(st, 7, c->method);
    sqlite3_bind_text(st, 8, c->lang, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, c->notice, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, c->by);
    if (c->has_guardian)
        bind_id(st, 11, &c->guardian);
    sqlite3_bind_int64(st, 12, c->expires);
    sqlite3_bind_int(st, 13, c->child);
    sqlite3_bind_text(st, 14, c->actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 15, c->kv);
    if (c->details)
        sqlite3_bind_blob(st, 16, c->details, (int)c->details_len, SQLITE_STATIC);
    enum sg_rc r = run(q, st, "consent", err);
    if (!r)
        c->seq = sqlite3_last_insert_rowid(q->db);
    return r;
}

static int col_uuid(sqlite3_stmt *st, int i, struct sg_uuid *out)
{
    if (sqlite3_column_bytes(st, i) != 16)
        return 0;
    memcpy(out->b, sqlite3_column_blob(st, i), 16);
    return 1;
}

static enum sg_rc each_consent(struct sq *q, sqlite3_stmt *st, sg_consent_cb cb, void *ctx,
                               struct sg_err *err)
{
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_consent c;
        memset(&c, 0, sizeof c);
        c.seq = sqlite3_column_int64(st, 0);
        c.has_subject = col_uuid(st, 1, &c.subject);
        c.category = sqlite3_column_int(st, 2);
        if (sqlite3_column_bytes(st, 3) == SG_BIDX_BYTES)
            memcpy(c.bidx, sqlite3_column_blob(st, 3), SG_BIDX_BYTES);
        c.purpose = (const char *)sqlite3_column_text(st, 4);
        c.state = sqlite3_column_int(st, 5);
        c.at = sqlite3_column_int64(st, 6);
        c.method = sqlite3_column_int(st, 7);
        c.lang = (const char *)sqlite3_column_text(st, 8);
        c.notice = (const char *)sqlite3_column_text(st, 9);
        c.by = sqlite3_column_int(st, 10);
        c.has_guardian = col_uuid(st, 11, &c.guardian);
        c.expires = sqlite3_column_int64(st, 12);
        c.child = sqlite3_column_int(st, 13);
        c.actor = (const char *)sqlite3_column_text(st, 14);
        c.kv = (uint32_t)sqlite3_column_int64(st, 15);
        c.details = sqlite3_column_blob(st, 16);
        c.details_len = (size_t)sqlite3_column_bytes(st, 16);
        if (!c.purpose || !c.lang || !c.notice || !c.actor)
            continue;
        if (cb(ctx, &c))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "consent", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_consent_each(struct sg_store *s, const struct sg_uuid *id, sg_consent_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CONSENT_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    return each_consent(q, st, cb, ctx, err);
}

static enum sg_rc sq_consent_pending(struct sg_store *s, int category,
                                     const uint8_t bidx[SG_BIDX_BYTES], sg_consent_cb cb, void *ctx,
                                     struct sg_err *err)
{
    struct sq *q = SQ(s);
    /* Inside a transaction nobody else adds one (a write transaction holds
     * the lock; a read one sees its snapshot): ask once whether any waits. */
    if (q->depth > 0 && q->pending == 0) {
        sqlite3_stmt *any = stmt(q, ST_CONSENT_ANY_PENDING, err);
        if (!any)
            return err ? err->rc : SG_IO;
        int rc = sqlite3_step(any);
        sqlite3_reset(any);
        if (rc == SQLITE_ROW)
            q->pending = 2;
        else if (rc == SQLITE_DONE)
            q->pending = 1;
        else
            return fail(q, rc, "consent", err);
    }
    if (q->depth > 0 && q->pending == 1)
        return SG_OK;
    sqlite3_stmt *st = stmt(q, ST_CONSENT_PENDING, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int(st, 1, category);
    sqlite3_bind_blob(st, 2, bidx, SG_BIDX_BYTES, SQLITE_STATIC);
    return each_consent(q, st, cb, ctx, err);
}

static enum sg_rc sq_consent_link(struct sg_store *s, int category,
                                  const uint8_t bidx[SG_BIDX_BYTES], const struct sg_uuid *id,
                                  struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CONSENT_LINK, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int(st, 1, category);
    sqlite3_bind_blob(st, 2, bidx, SG_BIDX_BYTES, SQLITE_STATIC);
    bind_id(st, 3, id);
    return run(q, st, "consent", err);
}

static enum sg_rc sq_consent_reseal(struct sg_store *s, int64_t seq, uint32_t kv,
                                    const uint8_t *details, size_t len, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CONSENT_RESEAL, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, kv);
    if (details)
        sqlite3_bind_blob(st, 3, details, (int)len, SQLITE_STATIC);
    return run(q, st, "consent", err);
}

/*
 * A person's decision row packs every purpose: entries of
 *   u8 id length | id | u8 consent | u8 flags | i64le since | i64le expires
 * in no particular order. A person has a few purposes, so a scan is cheaper
 * than any index.
 */
#define PS_FIXED 18

static void put_i64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static int64_t get_i64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return (int64_t)v;
}

/* Finds `purpose` in a packed row: offset of its entry, or -1; -2 when the
 * row is malformed. */
static long ps_find(const uint8_t *b, size_t n, const char *purpose, size_t plen)
{
    size_t off = 0;
    while (off < n) {
        size_t l = b[off];
        if (off + 1 + l + PS_FIXED > n)
            return -2;
        if (l == plen && memcmp(b + off + 1, purpose, l) == 0)
            return (long)off;
        off += 1 + l + PS_FIXED;
    }
    return -1;
}

static void ps_read(const uint8_t *e, struct sg_store_pstate *out)
{
    const uint8_t *f = e + 1 + e[0];
    out->consent = f[0];
    out->flags = f[1];
    out->since = get_i64(f + 2);
    out->expires = get_i64(f + 10);
}

/* Reads the packed row of `id` (a copy in *buf, the caller frees) and the
 * state it holds; SG_NOTFOUND when there is none. */
static enum sg_rc ps_load(struct sq *q, const struct sg_uuid *id, uint8_t **buf, size_t *n,
                          int *state, struct sg_err *err)
{
    sqlite3_stmt *st = stmt(q, ST_PSTATE_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    *buf = NULL;
    *n = 0;
    if (rc == SQLITE_ROW) {
        *state = sqlite3_column_int(st, 0);
        *n = (size_t)sqlite3_column_bytes(st, 1);
        if (!(*buf = malloc(*n ? *n : 1)))
            r = sg_err_set(err, SG_NOMEM, "out of memory");
        else if (*n)
            memcpy(*buf, sqlite3_column_blob(st, 1), *n);
    } else if (rc == SQLITE_DONE) {
        r = SG_NOTFOUND;
    } else {
        r = fail(q, rc, "consent", err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_pstate_get(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                                struct sg_store_pstate *out, struct sg_err *err)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int state;
    enum sg_rc r = ps_load(SQ(s), id, &b, &n, &state, err);
    if (!r) {
        long off = ps_find(b, n, purpose, strlen(purpose));
        if (off == -2)
            r = sg_err_set(err, SG_CRYPTO, "the decision row of a subject is damaged");
        else if (off < 0)
            r = SG_NOTFOUND;
        else
            ps_read(b + off, out);
    }
    free(b);
    return r;
}

/* The person's state, from their subject row. */
static enum sg_rc subject_state(struct sq *q, const struct sg_uuid *id, int *state,
                                struct sg_err *err)
{
    sqlite3_stmt *st = stmt(q, ST_DECIDE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW)
        *state = sqlite3_column_int(st, 0);
    else if (rc == SQLITE_DONE)
        r = SG_NOTFOUND;
    else
        r = fail(q, rc, "decision", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_pstate_put(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                                const struct sg_store_pstate *ps, struct sg_err *err)
{
    struct sq *q = SQ(s);
    size_t plen = strlen(purpose);
    if (plen > 255)
        return sg_err_set(err, SG_INVALID, "purpose id too long");
    uint8_t *b = NULL;
    size_t n = 0;
    int state = 0;
    enum sg_rc r = ps_load(q, id, &b, &n, &state, err);
    if (r == SG_NOTFOUND)
        r = subject_state(q, id, &state, err);
    if (r)
        return r;
    long off = ps_find(b, n, purpose, plen);
    if (off == -2) {
        free(b);
        return sg_err_set(err, SG_CRYPTO, "the decision row of a subject is damaged");
    }
    if (off < 0) {
        uint8_t *nb = realloc(b, n + 1 + plen + PS_FIXED);
        if (!nb) {
            free(b);
            return sg_err_set(err, SG_NOMEM, "out of memory");
        }
        b = nb;
        off = (long)n;
        n += 1 + plen + PS_FIXED;
        b[off] = (uint8_t)plen;
        memcpy(b + off + 1, purpose, plen);
    }
    uint8_t *f = b + off + 1 + plen;
    f[0] = (uint8_t)ps->consent;
    f[1] = (uint8_t)ps->flags;
    put_i64(f + 2, ps->since);
    put_i64(f + 10, ps->expires);
    sqlite3_stmt *st = stmt(q, ST_PSTATE_PUT, err);
    if (!st) {
        free(b);
        return err ? err->rc : SG_IO;
    }
    bind_id(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_blob(st, 3, b, (int)n, SQLITE_STATIC);
    r = run(q, st, "consent", err);
    free(b);
    return r;
}

static int64_t mono_usec(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Reads the WAL index header: 0 when both copies agree and it is set up,
 * -1 when a commit is rewriting it (or it is not in use): a change. */
static int read_hdr(const volatile uint8_t *shm, uint8_t out[WAL_HDR])
{
    uint8_t second[WAL_HDR];
    for (int i = 0; i < WAL_HDR; i++)
        out[i] = shm[i];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (int i = 0; i < WAL_HDR; i++)
        second[i] = shm[WAL_HDR + i];
    return memcmp(out, second, WAL_HDR) == 0 && out[12] /* isInit */ ? 0 : -1;
}

/* Maps the -shm file of the database, read-only. */
static void map_shm(struct sq *q)
{
    const char *db = sqlite3_db_filename(q->db, "main");
    char path[4096];
    if (!db || !*db || (size_t)snprintf(path, sizeof path, "%s-shm", db) >= sizeof path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size >= 2 * WAL_HDR)
        p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED)
        q->shm = p;
}

static enum sg_rc sq_decide_keep(struct sg_store *s, int on, struct sg_err *err)
{
    (void)err;
    struct sq *q = SQ(s);
    release_held(q);
    q->keep = on;
    if (on && !q->shm)
        map_shm(q); /* without it, every decision reads afresh */
    return SG_OK;
}

/* Before a decision in keep mode: keeps the held snapshot when nothing has
 * committed since it began (and it is young), else takes a new one. The
 * header is read before the new snapshot begins, so a commit in between
 * shows as a change next time rather than being missed. */
static void fresh_snapshot(struct sq *q)
{
    uint8_t h[WAL_HDR];
    if (!q->shm || read_hdr(q->shm, h) != 0) {
        release_held(q);
        return;
    }
    int64_t now = mono_usec();
    if (q->held && memcmp(h, q->hdr, WAL_HDR) == 0 && now - q->held_since < KEEP_USEC)
        return;
    release_held(q);
    if (sqlite3_exec(q->db, "BEGIN DEFERRED", NULL, NULL, NULL) != SQLITE_OK)
        return;
    memcpy(q->hdr, h, WAL_HDR);
    q->held = 1;
    q->held_since = now;
}

static enum sg_rc decide_read(struct sq *q, const struct sg_uuid *id, const char *purpose,
                              int *state, struct sg_store_pstate *ps, int *has_ps,
                              struct sg_err *err);

/* A decision: in keep mode from the kept snapshot (only its own reads may
 * use it; any other statement ends it). */
static enum sg_rc sq_decide(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                            int *state, struct sg_store_pstate *ps, int *has_ps, struct sg_err *err)
{
    struct sq *q = SQ(s);
    if (q->keep && q->depth == 0)
        fresh_snapshot(q);
    q->deciding = 1;
    enum sg_rc r = decide_read(q, id, purpose, state, ps, has_ps, err);
    q->deciding = 0;
    return r;
}

static enum sg_rc decide_read(struct sq *q, const struct sg_uuid *id, const char *purpose,
                              int *state, struct sg_store_pstate *ps, int *has_ps,
                              struct sg_err *err)
{
    sqlite3_stmt *st = stmt(q, ST_PSTATE_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    *has_ps = 0;
    if (rc == SQLITE_ROW) {
        /* Read in place: no copy on the path every use of data takes. */
        *state = sqlite3_column_int(st, 0);
        const uint8_t *b = sqlite3_column_blob(st, 1);
        long off = ps_find(b, (size_t)sqlite3_column_bytes(st, 1), purpose, strlen(purpose));
        if (off == -2)
            r = sg_err_set(err, SG_CRYPTO, "the decision row of a subject is damaged");
        else if (off >= 0) {
            ps_read(b + off, ps);
            *has_ps = 1;
        }
    } else if (rc != SQLITE_DONE) {
        r = fail(q, rc, "decision", err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* No consent or objection ever recorded: the person's own row. */
    if (!r && rc == SQLITE_DONE)
        r = subject_state(q, id, state, err);
    return r;
}

/* ---------------------------------------------------------------- retention */

struct sweep_page {
    struct sg_store_sweep_row *rows;
    size_t n;
    struct sg_store_event *events;
    size_t *ev_of; /* row index of each event */
    size_t nev, cap_ev;
    struct sg_store_done *done;
    size_t *done_of;
    size_t ndone, cap_done;
    char *names; /* event names and rule ids, NUL-separated */
    size_t names_len, names_cap;
};

static int page_name(struct sweep_page *p, const char *s, size_t *off)
{
    size_t n = strlen(s) + 1;
    if (p->names_len + n > p->names_cap) {
        size_t cap = p->names_cap ? p->names_cap * 2 : 4096;
        while (cap < p->names_len + n)
            cap *= 2;
        char *b = realloc(p->names, cap);
        if (!b)
            return -1;
        p->names = b;
        p->names_cap = cap;
    }
    memcpy(p->names + p->names_len, s, n);
    *off = p->names_len;
    p->names_len += n;
    return 0;
}

/* Finds the row of subject `id` among the page's (sorted) rows. */
static long page_row(const struct sweep_page *p, const void *id)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(p->rows[mid].id.b, id, 16);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static enum sg_rc sq_sweep_scan(struct sg_store *s, const struct sg_uuid *after, size_t limit,
                                sg_sweep_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    struct sweep_page p;
    memset(&p, 0, sizeof p);
    enum sg_rc r = SG_OK;
    int rc;
    if (!(p.rows = calloc(limit ? limit : 1, sizeof *p.rows)))
        return sg_err_set(err, SG_NOMEM, "out of memory");
    sqlite3_stmt *st = stmt(q, after ? ST_SWEEP_AFTER : ST_SWEEP_FIRST, err);
    if (!st) {
        free(p.rows);
        return err ? err->rc : SG_IO;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    if (after)
        bind_id(st, 2, after);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && p.n < limit) {
        struct sg_store_sweep_row *row = &p.rows[p.n];
        if (sqlite3_column_bytes(st, 0) != 16)
            continue;
        memcpy(row->id.b, sqlite3_column_blob(st, 0), 16);
        row->state = sqlite3_column_int(st, 1);
        row->created = sqlite3_column_int64(st, 2);
        p.n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "sweep", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* The events and done marks of the page's range, in two ordered reads. */
    for (int pass = 0; pass < 2 && !r && p.n; pass++) {
        st = stmt(q, pass ? ST_SWEEP_DONE : ST_SWEEP_EVENTS, err);
        if (!st) {
            r = err ? err->rc : SG_IO;
            break;
        }
        bind_id(st, 1, &p.rows[0].id);
        bind_id(st, 2, &p.rows[p.n - 1].id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            long row =
                sqlite3_column_bytes(st, 0) == 16 ? page_row(&p, sqlite3_column_blob(st, 0)) : -1;
            const char *name = (const char *)sqlite3_column_text(st, 1);
            size_t off;
            if (row < 0 || !name)
                continue;
            if (page_name(&p, name, &off)) {
                r = sg_err_set(err, SG_NOMEM, "out of memory");
                break;
            }
            size_t *n = pass ? &p.ndone : &p.nev, *cap = pass ? &p.cap_done : &p.cap_ev;
            if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 1024;
                void *a = realloc(pass ? (void *)p.done : (void *)p.events,
                                  c * (pass ? sizeof *p.done : sizeof *p.events));
                size_t *o = a ? realloc(pass ? p.done_of : p.ev_of, c * sizeof *o) : NULL;
                if (a) {
                    if (pass)
                        p.done = a;
                    else
                        p.events = a;
                }
                if (!o) {
                    r = sg_err_set(err, SG_NOMEM, "out of memory");
                    break;
                }
                if (pass)
                    p.done_of = o;
                else
                    p.ev_of = o;
                *cap = c;
            }
            /* names are offsets until the page is complete (realloc moves) */
            if (pass) {
                p.done[*n].rule = (const char *)(uintptr_t)off;
                p.done[*n].anchor = sqlite3_column_int64(st, 2);
                p.done_of[*n] = (size_t)row;
            } else {
                p.events[*n].name = (const char *)(uintptr_t)off;
                p.events[*n].at = sqlite3_column_int64(st, 2);
                p.ev_of[*n] = (size_t)row;
            }
            (*n)++;
        }
        if (!r && rc != SQLITE_ROW && rc != SQLITE_DONE)
            r = fail(q, rc, "sweep", err);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    /* Both lists come in subject order: each row's entries are contiguous. */
    for (size_t i = 0; !r && i < p.nev; i++) {
        p.events[i].name = p.names + (uintptr_t)p.events[i].name;
        struct sg_store_sweep_row *row = &p.rows[p.ev_of[i]];
        if (!row->nevents)
            row->events = &p.events[i];
        row->nevents++;
    }
    for (size_t i = 0; !r && i < p.ndone; i++) {
        p.done[i].rule = p.names + (uintptr_t)p.done[i].rule;
        struct sg_store_sweep_row *row = &p.rows[p.done_of[i]];
        if (!row->ndone)
            row->done = &p.done[i];
        row->ndone++;
    }
    for (size_t i = 0; !r && i < p.n; i++)
        if (cb(ctx, &p.rows[i]))
            break;
    free(p.rows);
    free(p.events);
    free(p.ev_of);
    free(p.done);
    free(p.done_of);
    free(p.names);
    return r;
}

static enum sg_rc sq_sweep_done_put(struct sg_store *s, const struct sg_uuid *id, const char *rule,
                                    sg_time anchor, sg_time at, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_DONE_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, anchor);
    sqlite3_bind_int64(st, 4, at);
    return run(q, st, "sweep", err);
}

static enum sg_rc sq_global_event_put(struct sg_store *s, const char *name, sg_time at,
                                      struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_GEVENT_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    return run(q, st, "event", err);
}

static enum sg_rc sq_global_event_latest(struct sg_store *s, const char *name, sg_time before,
                                         sg_time *out, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_GEVENT_LATEST, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, before);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        r = SG_NOTFOUND;
    else
        r = fail(q, rc, "event", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_stats_put(struct sg_store *s, const uint8_t id[16], const char *category,
                               const char *value, int year, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_STATS_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, year);
    return run(q, st, "statistics", err);
}

static enum sg_rc sq_stats_each(struct sg_store *s, sg_stats_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_STATS_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (c && v &&
            cb(ctx, c, v, sqlite3_column_int(st, 2), (uint64_t)sqlite3_column_int64(st, 3)))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "statistics", err);
    sqlite3_reset(st);
    return r;
}

static enum sg_rc sq_history_del_category(struct sg_store *s, const struct sg_uuid *id,
                                          const char *category, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_HIST_DEL_CAT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
    return run(q, st, "history", err);
}

/* ------------------------------------------------------------------ outbox */

static enum sg_rc sq_outbox_put(struct sg_store *s, const struct sg_store_message *m,
                                struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_OUTBOX_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, &m->id);
    if (m->has_subject)
        bind_id(st, 2, &m->subject);
    sqlite3_bind_text(st, 3, m->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->created);
    sqlite3_bind_int64(st, 5, m->kv);
    sqlite3_bind_blob(st, 6, m->sealed, (int)m->sealed_len, SQLITE_STATIC);
    return run(q, st, "outbox", err);
}

static enum sg_rc each_message(struct sq *q, sqlite3_stmt *st, sg_message_cb cb, void *ctx,
                               struct sg_err *err)
{
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_message m;
        memset(&m, 0, sizeof m);
        if (!col_uuid(st, 0, &m.id))
            continue;
        m.has_subject = col_uuid(st, 1, &m.subject);
        m.kind = (const char *)sqlite3_column_text(st, 2);
        m.created = sqlite3_column_int64(st, 3);
        m.kv = (uint32_t)sqlite3_column_int64(st, 4);
        m.sealed = sqlite3_column_blob(st, 5);
        m.sealed_len = (size_t)sqlite3_column_bytes(st, 5);
        m.state = sqlite3_column_int(st, 6);
        m.attempts = sqlite3_column_int(st, 7);
        m.next_attempt = sqlite3_column_int64(st, 8);
        m.sent = sqlite3_column_int64(st, 9);
        m.error = (const char *)sqlite3_column_text(st, 10);
        if (!m.kind)
            m.kind = "";
        if (cb(ctx, &m))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "outbox", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_outbox_claim(struct sg_store *s, sg_time now, sg_time lease, size_t limit,
                                  sg_message_cb cb, void *ctx, sg_time *until, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_OUTBOX_CLAIM, err);
    if (!st)
        return err ? err->rc : SG_IO;
    /* One machine, one clock: the caller's. */
    *until = now + lease;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, *until);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    return each_message(q, st, cb, ctx, err);
}

static enum sg_rc sq_outbox_update(struct sg_store *s, const struct sg_uuid *id, sg_time lease,
                                   int state, int attempts, sg_time next_attempt, sg_time sent,
                                   const char *error, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_OUTBOX_UPDATE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int(st, 3, attempts);
    sqlite3_bind_int64(st, 4, next_attempt);
    sqlite3_bind_int64(st, 5, sent);
    if (error)
        sqlite3_bind_text(st, 6, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, lease);
    enum sg_rc r = run(q, st, "outbox", err);
    if (!r && sqlite3_changes(q->db) == 0)
        r = sg_err_set(err, SG_CONFLICT, "the claim on an outbox message ran out");
    return r;
}

static enum sg_rc sq_outbox_each(struct sg_store *s, int state, sg_message_cb cb, void *ctx,
                                 struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, state < 0 ? ST_OUTBOX_EACH : ST_OUTBOX_EACH_STATE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    if (state >= 0)
        sqlite3_bind_int(st, 1, state);
    return each_message(q, st, cb, ctx, err);
}

/* ---------------------------------------------------------------- requests */

static enum sg_rc sq_request_put(struct sg_store *s, const struct sg_store_request *r,
                                 struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_REQ_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, &r->id);
    if (r->has_subject)
        bind_id(st, 2, &r->subject);
    sqlite3_bind_int(st, 3, r->kind);
    sqlite3_bind_text(st, 4, r->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, r->state);
    sqlite3_bind_int64(st, 6, r->received);
    sqlite3_bind_int64(st, 7, r->received_day);
    sqlite3_bind_int64(st, 8, r->paused_days);
    sqlite3_bind_int64(st, 9, r->paused_since);
    sqlite3_bind_int(st, 10, r->extended);
    sqlite3_bind_int64(st, 11, r->due_day);
    if (r->identity)
        sqlite3_bind_text(st, 12, r->identity, -1, SQLITE_STATIC);
    if (r->agent)
        sqlite3_bind_text(st, 13, r->agent, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, r->copies);
    sqlite3_bind_int64(st, 15, r->closed);
    sqlite3_bind_int64(st, 16, r->updated);
    return run(q, st, "request", err);
}

static enum sg_rc each_request(struct sq *q, sqlite3_stmt *st, sg_request_cb cb, void *ctx,
                               int *seen, struct sg_err *err)
{
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_request x;
        memset(&x, 0, sizeof x);
        if (!col_uuid(st, 0, &x.id))
            continue;
        x.has_subject = col_uuid(st, 1, &x.subject);
        x.kind = sqlite3_column_int(st, 2);
        x.channel = (const char *)sqlite3_column_text(st, 3);
        x.state = sqlite3_column_int(st, 4);
        x.received = sqlite3_column_int64(st, 5);
        x.received_day = sqlite3_column_int64(st, 6);
        x.paused_days = sqlite3_column_int64(st, 7);
        x.paused_since = sqlite3_column_int64(st, 8);
        x.extended = sqlite3_column_int(st, 9);
        x.due_day = sqlite3_column_int64(st, 10);
        x.identity = (const char *)sqlite3_column_text(st, 11);
        x.agent = (const char *)sqlite3_column_text(st, 12);
        x.copies = sqlite3_column_int(st, 13);
        x.closed = sqlite3_column_int64(st, 14);
        x.updated = sqlite3_column_int64(st, 15);
        if (!x.channel)
            x.channel = "";
        (*seen)++;
        if (cb(ctx, &x))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "request", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_request_get(struct sg_store *s, const struct sg_uuid *id, sg_request_cb cb,
                                 void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_REQ_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int seen = 0;
    enum sg_rc r = each_request(q, st, cb, ctx, &seen, err);
    return !r && !seen ? SG_NOTFOUND : r;
}

static enum sg_rc sq_request_each(struct sg_store *s, const struct sg_request_filter *f,
                                  sg_request_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    enum stmt_id which = f->has_subject                  ? ST_REQ_SUBJECT
                         : f->changed_after > 0          ? ST_REQ_CHANGED
                         : f->open_only && f->due_before ? ST_REQ_OPEN_BEFORE
                                                         : ST_REQ_OPEN;
    if (!f->has_subject && !f->open_only && f->changed_after <= 0)
        return sg_err_set(err, SG_INVALID, "list open requests, one person's or changed ones");
    sqlite3_stmt *st = stmt(q, which, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, f->limit ? (sqlite3_int64)f->limit : -1);
    if (which == ST_REQ_SUBJECT)
        bind_id(st, 2, &f->subject);
    else if (which == ST_REQ_OPEN_BEFORE)
        sqlite3_bind_int64(st, 2, f->due_before);
    else if (which == ST_REQ_CHANGED)
        sqlite3_bind_int64(st, 2, f->changed_after);
    int seen = 0;
    return each_request(q, st, cb, ctx, &seen, err);
}

static enum sg_rc sq_request_event_append(struct sg_store *s, const struct sg_uuid *request,
                                          const struct sg_store_request_event *e,
                                          struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_REQ_EV_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, request);
    sqlite3_bind_int64(st, 2, e->at);
    sqlite3_bind_text(st, 3, e->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->verb, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, e->state);
    if (e->reason)
        sqlite3_bind_blob(st, 6, e->reason, (int)e->reason_len, SQLITE_STATIC);
    return run(q, st, "request", err);
}

static enum sg_rc sq_request_events_each(struct sg_store *s, const struct sg_uuid *request,
                                         sg_request_event_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_REQ_EV_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, request);
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_request_event e;
        e.seq = sqlite3_column_int64(st, 0);
        e.at = sqlite3_column_int64(st, 1);
        e.actor = (const char *)sqlite3_column_text(st, 2);
        e.verb = (const char *)sqlite3_column_text(st, 3);
        e.state = sqlite3_column_int(st, 4);
        e.reason = sqlite3_column_blob(st, 5);
        e.reason_len = (size_t)sqlite3_column_bytes(st, 5);
        if (!e.actor || !e.verb)
            continue;
        if (cb(ctx, &e))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "request", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ------------------------------------------------------------ sign-in codes */

static enum sg_rc sq_code_lock(struct sg_store *s, const struct sg_uuid *id,
                               struct sg_store_code *c, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CODE_LOCK, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    enum sg_rc r = run(q, st, "code", err);
    if (r)
        return r;
    if (!(st = stmt(q, ST_CODE_GET, err)))
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(c->hash, sqlite3_column_blob(st, 0), 32);
        c->expires = sqlite3_column_int64(st, 1);
        c->attempts = sqlite3_column_int(st, 2);
        c->sent = sqlite3_column_int64(st, 3);
        c->day_start = sqlite3_column_int64(st, 4);
        c->day_sends = sqlite3_column_int(st, 5);
        c->day_fails = sqlite3_column_int(st, 6);
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        r = sg_err_set(err, SG_INTERNAL, "a sign-in code row vanished");
    } else {
        r = fail(q, rc, "code", err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_code_put(struct sg_store *s, const struct sg_uuid *id,
                              const struct sg_store_code *c, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_CODE_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    bind_id(st, 1, id);
    sqlite3_bind_blob(st, 2, c->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->expires);
    sqlite3_bind_int(st, 4, c->attempts);
    sqlite3_bind_int64(st, 5, c->sent);
    sqlite3_bind_int64(st, 6, c->day_start);
    sqlite3_bind_int(st, 7, c->day_sends);
    sqlite3_bind_int(st, 8, c->day_fails);
    return run(q, st, "code", err);
}

static enum sg_rc sq_code_del(struct sg_store *s, const struct sg_uuid *id, struct sg_err *err)
{
    return del_by_subject(SQ(s), ST_CODE_DEL, id, err);
}

/* ---------------------------------------------------------------- operators */

static enum sg_rc op_write(struct sg_store *s, enum stmt_id which,
                           const struct sg_store_operator *o, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, which, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, o->login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->purpose, -1, SQLITE_STATIC);
    if (o->scope)
        sqlite3_bind_text(st, 4, o->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, o->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, o->created);
    sqlite3_bind_int64(st, 7, o->password_changed);
    sqlite3_bind_int(st, 8, o->failures);
    sqlite3_bind_int64(st, 9, o->locked_until);
    sqlite3_bind_int(st, 10, o->disabled);
    return run(q, st, "operator", err);
}

static enum sg_rc sq_operator_insert(struct sg_store *s, const struct sg_store_operator *o,
                                     struct sg_err *err)
{
    enum sg_rc r = op_write(s, ST_OP_INSERT, o, err);
    if (r == SG_CONFLICT)
        r = sg_err_set(err, SG_CONFLICT, "operator '%.64s' exists", o->login);
    return r;
}

static enum sg_rc sq_operator_put(struct sg_store *s, const struct sg_store_operator *o,
                                  struct sg_err *err)
{
    return op_write(s, ST_OP_PUT, o, err);
}

static enum sg_rc each_operator(struct sq *q, sqlite3_stmt *st, sg_operator_cb cb, void *ctx,
                                int *seen, struct sg_err *err)
{
    int rc;
    enum sg_rc r = SG_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_operator o;
        o.login = (const char *)sqlite3_column_text(st, 0);
        o.role = (const char *)sqlite3_column_text(st, 1);
        o.purpose = (const char *)sqlite3_column_text(st, 2);
        o.scope = (const char *)sqlite3_column_text(st, 3);
        o.hash = (const char *)sqlite3_column_text(st, 4);
        o.created = sqlite3_column_int64(st, 5);
        o.password_changed = sqlite3_column_int64(st, 6);
        o.failures = sqlite3_column_int(st, 7);
        o.locked_until = sqlite3_column_int64(st, 8);
        o.disabled = sqlite3_column_int(st, 9);
        if (!o.login || !o.role || !o.purpose || !o.hash)
            continue;
        (*seen)++;
        if (cb(ctx, &o))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "operator", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_operator_get(struct sg_store *s, const char *login, sg_operator_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_OP_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int seen = 0;
    enum sg_rc r = each_operator(q, st, cb, ctx, &seen, err);
    if (!r && !seen)
        r = SG_NOTFOUND;
    return r;
}

static enum sg_rc sq_operator_each(struct sg_store *s, sg_operator_cb cb, void *ctx,
                                   struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_OP_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int seen = 0;
    return each_operator(q, st, cb, ctx, &seen, err);
}

static enum sg_rc sq_session_put(struct sg_store *s, const struct sg_store_session *ss,
                                 struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SESS_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_blob(st, 1, ss->hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ss->login, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ss->created);
    sqlite3_bind_int64(st, 4, ss->expires);
    sqlite3_bind_int64(st, 5, ss->seen);
    return run(q, st, "session", err);
}

static enum sg_rc sq_session_get(struct sg_store *s, const uint8_t hash[32],
                                 struct sg_store_session *out, char *login, size_t cap,
                                 struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SESS_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum sg_rc r = SG_OK;
    if (rc == SQLITE_ROW) {
        const char *l = (const char *)sqlite3_column_text(st, 0);
        snprintf(login, cap, "%s", l ? l : "");
        memcpy(out->hash, hash, 32);
        out->login = login;
        out->created = sqlite3_column_int64(st, 1);
        out->expires = sqlite3_column_int64(st, 2);
        out->seen = sqlite3_column_int64(st, 3);
    } else if (rc == SQLITE_DONE) {
        r = SG_NOTFOUND;
    } else {
        r = fail(q, rc, "session", err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_session_seen(struct sg_store *s, const uint8_t hash[32], sg_time seen,
                                  struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SESS_SEEN, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seen);
    return run(q, st, "session", err);
}

static enum sg_rc sq_session_del(struct sg_store *s, const uint8_t hash[32], struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SESS_DEL, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    return run(q, st, "session", err);
}

static enum sg_rc sq_session_del_login(struct sg_store *s, const char *login, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SESS_DEL_LOGIN, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    return run(q, st, "session", err);
}

static enum sg_rc sq_session_purge(struct sg_store *s, sg_time now, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_SESS_PURGE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_int64(st, 1, now);
    return run(q, st, "session", err);
}

/* ------------------------------------------------------------------ tokens */

static enum sg_rc sq_token_put(struct sg_store *s, const struct sg_store_token *t,
                               struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_TOKEN_PUT, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, t->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, t->created);
    if (t->scope)
        sqlite3_bind_text(st, 7, t->scope, -1, SQLITE_STATIC);
    return run(q, st, "token", err);
}

static enum sg_rc each_token(struct sq *q, sqlite3_stmt *st, sg_token_cb cb, void *ctx, int *seen,
                             struct sg_err *err)
{
    int rc;
    enum sg_rc r = SG_OK;
    static const uint8_t zero[32];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sg_store_token t;
        t.id = (const char *)sqlite3_column_text(st, 0);
        t.name = (const char *)sqlite3_column_text(st, 1);
        t.role = (const char *)sqlite3_column_text(st, 2);
        t.purpose = (const char *)sqlite3_column_text(st, 3);
        t.hash = sqlite3_column_bytes(st, 4) == 32 ? sqlite3_column_blob(st, 4) : zero;
        t.created = sqlite3_column_int64(st, 5);
        t.revoked = sqlite3_column_int64(st, 6);
        t.scope = (const char *)sqlite3_column_text(st, 7);
        if (!t.id || !t.name || !t.role || !t.purpose)
            continue;
        (*seen)++;
        if (cb(ctx, &t))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(q, rc, "token", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static enum sg_rc sq_token_get(struct sg_store *s, const char *id, sg_token_cb cb, void *ctx,
                               struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_TOKEN_GET, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int seen = 0;
    enum sg_rc r = each_token(q, st, cb, ctx, &seen, err);
    if (!r && !seen)
        r = sg_err_set(err, SG_NOTFOUND, "no such token");
    return r;
}

static enum sg_rc sq_token_each(struct sg_store *s, sg_token_cb cb, void *ctx, struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_TOKEN_EACH, err);
    if (!st)
        return err ? err->rc : SG_IO;
    int seen = 0;
    return each_token(q, st, cb, ctx, &seen, err);
}

static enum sg_rc sq_token_revoke(struct sg_store *s, const char *id, sg_time at,
                                  struct sg_err *err)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = stmt(q, ST_TOKEN_REVOKE, err);
    if (!st)
        return err ? err->rc : SG_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    enum sg_rc r = run(q, st, "token", err);
    if (!r && sqlite3_changes(q->db) == 0)
        r = sg_err_set(err, SG_CONFLICT, "token %s is unknown or already revoked", id);
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
    release_held(q);
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

/* Quotes an SQL identifier that comes from our own schema. */
static int quoted(char *out, size_t len, const char *schema, const char *name)
{
    if (strchr(name, '"'))
        return -1;
    int n = snprintf(out, len, "%s.\"%s\"", schema, name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Tables a restore keeps when the live ones have rows: the append-only
 * history (audit log, policy versions, the anonymised statistics and the
 * dates of global events), the evidence of data-subject requests (a request
 * registered or answered after the backup stays so), and the credentials
 * (API tokens, operators, sessions, people's sign-in codes), so that a token
 * revoked, an operator disabled, a password changed or a code used after
 * the backup stays so. (migrations.c lists the same for PostgreSQL.) */
static int is_history(const char *table)
{
    static const char *const kept[] = {
        "policies",      "tokens",   "operators",      "sessions",     "statistics",
        "global_events", "requests", "request_events", "person_codes",
    };
    if (strncmp(table, "audit_", 6) == 0)
        return 1;
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (strcmp(table, kept[i]) == 0)
            return 1;
    return 0;
}

/* The archive boundary of the audit log lives in meta; it follows the log. */
#define META_AUDIT_ARCHIVED "audit_archived_below"

/* Puts the live log's archive boundary (`saved`, NULL when none) back into
 * meta after meta was taken from the backup. */
static enum sg_rc keep_archive_mark(struct sq *q, const char *saved, struct sg_err *err)
{
    sqlite3_stmt *st = NULL;
    const char *sql = saved ? "INSERT OR REPLACE INTO main.meta (key, value) VALUES (?1, ?2)"
                            : "DELETE FROM main.meta WHERE key = ?1";
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(q, sqlite3_errcode(q->db), "restore", err);
    sqlite3_bind_text(st, 1, META_AUDIT_ARCHIVED, -1, SQLITE_STATIC);
    if (saved)
        sqlite3_bind_text(st, 2, saved, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SG_OK : fail(q, rc, "restore", err);
}

/* 1 when the live table has a row, 0 when empty, -1 on error. */
static int has_rows(struct sq *q, const char *quoted_name)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s)", quoted_name);
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static enum sg_rc sq_restore(struct sg_store *s, const char *path, struct sg_err *err)
{
    struct sq *q = SQ(s);
    release_held(q);
    if (q->depth)
        return sg_err_set(err, SG_INTERNAL, "restore inside a transaction");
    enum sg_rc r = SG_OK;
    finalize_all(q); /* cached statements would pin the old contents */
    sqlite3_stmt *att = NULL, *tables = NULL;
    if (sqlite3_prepare_v2(q->db, "ATTACH ?1 AS bk", -1, &att, NULL) != SQLITE_OK)
        return fail(q, sqlite3_errcode(q->db), "restore", err);
    sqlite3_bind_text(att, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(att);
    sqlite3_finalize(att);
    if (rc != SQLITE_DONE)
        return sg_err_set(err, SG_IO, "cannot open backup '%s': %s", path, sqlite3_errmsg(q->db));
    if ((r = exec(q, "BEGIN IMMEDIATE", "restore", err)))
        goto detach;
    char *mark = NULL;
    int kept_log = 0;
    int live_log = has_rows(q, "\"main\".\"audit_log\"");
    if (live_log < 0) {
        r = fail(q, sqlite3_errcode(q->db), "restore", err);
        goto rollback;
    }
    r = sq_meta_get(s, META_AUDIT_ARCHIVED, &mark, err);
    if (r == SG_NOTFOUND) {
        sg_err_clear(err);
        r = SG_OK;
    }
    if (r)
        goto rollback;
    /* Every table of the backup, in one transaction; the history tables only
     * when the live ones are empty. The schema versions were made equal
     * before. */
    if (sqlite3_prepare_v2(q->db,
                           "SELECT name FROM bk.sqlite_schema WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations' "
                           "ORDER BY name",
                           -1, &tables, NULL) != SQLITE_OK) {
        r = fail(q, sqlite3_errcode(q->db), "restore", err);
        goto rollback;
    }
    while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char dst[160], src[160], sql[640];
        if (!name || quoted(dst, sizeof dst, "main", name) || quoted(src, sizeof src, "bk", name)) {
            r = sg_err_set(err, SG_IO, "backup '%s' has an unexpected table", path);
            break;
        }
        if (is_history(name)) {
            /* The audit tables are one log: all kept, or all taken, as the
             * live audit_log decided before anything was copied. */
            int live = strncmp(name, "audit_", 6) == 0 ? live_log : has_rows(q, dst);
            if (live < 0) {
                r = fail(q, sqlite3_errcode(q->db), "restore", err);
                break;
            }
            if (live) {
                kept_log |= strcmp(name, "audit_log") == 0;
                continue;
            }
            snprintf(sql, sizeof sql, "INSERT INTO %s SELECT * FROM %s;", dst, src);
        } else {
            snprintf(sql, sizeof sql, "DELETE FROM %s; INSERT INTO %s SELECT * FROM %s;", dst, dst,
                     src);
        }
        if ((r = exec(q, sql, "restore", err)))
            break;
    }
    if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(q, rc, "restore", err);
    sqlite3_finalize(tables);
    if (!r && kept_log)
        r = keep_archive_mark(q, mark, err);
    if (!r)
        r = exec(q, "COMMIT", "restore", err);
rollback:
    free(mark);
    if (r && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
detach:
    sqlite3_exec(q->db, "DETACH bk", NULL, NULL, NULL);
    return r;
}

const struct sg_store_ops sg_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .begin_read = sq_begin_read,
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
    .index_find = sq_index_find,
    .event_put = sq_event_put,
    .events_each = sq_events_each,
    .history_append = sq_history_append,
    .history_each = sq_history_each,
    .audit_lock = sq_audit_lock,
    .audit_size = sq_audit_size,
    .audit_append = sq_audit_append,
    .audit_node_put = sq_audit_node_put,
    .audit_hash_get = sq_audit_hash_get,
    .audit_nodes_read = sq_audit_nodes_read,
    .audit_each = sq_audit_each,
    .audit_archive = sq_audit_archive,
    .audit_head_put = sq_audit_head_put,
    .audit_heads_each = sq_audit_heads_each,
    .policy_add = sq_policy_add,
    .policy_at = sq_policy_at,
    .policy_each = sq_policy_each,
    .consent_append = sq_consent_append,
    .consent_each = sq_consent_each,
    .consent_pending = sq_consent_pending,
    .consent_link = sq_consent_link,
    .consent_reseal = sq_consent_reseal,
    .pstate_get = sq_pstate_get,
    .pstate_put = sq_pstate_put,
    .decide = sq_decide,
    .decide_keep = sq_decide_keep,
    .sweep_scan = sq_sweep_scan,
    .sweep_done_put = sq_sweep_done_put,
    .global_event_put = sq_global_event_put,
    .global_event_latest = sq_global_event_latest,
    .stats_put = sq_stats_put,
    .stats_each = sq_stats_each,
    .history_del_category = sq_history_del_category,
    .outbox_put = sq_outbox_put,
    .outbox_claim = sq_outbox_claim,
    .outbox_update = sq_outbox_update,
    .outbox_each = sq_outbox_each,
    .code_lock = sq_code_lock,
    .code_put = sq_code_put,
    .code_del = sq_code_del,
    .request_put = sq_request_put,
    .request_get = sq_request_get,
    .request_each = sq_request_each,
    .request_event_append = sq_request_event_append,
    .request_events_each = sq_request_events_each,
    .operator_insert = sq_operator_insert,
    .operator_put = sq_operator_put,
    .operator_get = sq_operator_get,
    .operator_each = sq_operator_each,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_seen = sq_session_seen,
    .session_del = sq_session_del,
    .session_del_login = sq_session_del_login,
    .session_purge = sq_session_purge,
    .member_put = sq_member_put,
    .member_del = sq_member_del,
    .members_each = sq_members_each,
    .member_shared = sq_member_shared,
    .token_put = sq_token_put,
    .token_get = sq_token_get,
    .token_each = sq_token_each,
    .token_revoke = sq_token_revoke,
    .backup = sq_backup,
    .restore = sq_restore,
};
