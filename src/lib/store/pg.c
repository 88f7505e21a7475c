/*
 * pg.c - the PostgreSQL store backend (several nodes on one database).
 *
 * Address: any libpq connection URI, "postgres://user:pw@host:port/db?...".
 * The tables live in the first schema of the role's search_path (an
 * operator may give "?options=-csearch_path%3Dsargs").
 *
 * One connection per handle, used by one thread at a time. Statements are
 * prepared once per connection (again after a reconnection), with typed
 * binary parameters and binary results: ids travel as 16 raw bytes (uuid),
 * sealed values as raw bytea, never as escaped text.
 *
 * Round trips, not the server, bound PostgreSQL writes from one client, so
 * the connection stays in libpq's pipeline mode: a write whose only answer
 * is "done" is sent and not waited for; the answers are read at the next
 * point where the caller needs one - a read, or the commit() or rollback()
 * that ends the savepoint or transaction (store.h says so). One vault
 * operation is therefore about one round trip, however many rows it writes.
 *
 * Isolation: READ COMMITTED. Every vault operation reads and rewrites one
 * person; subject_get() locks that person's row (FOR NO KEY UPDATE), so two
 * nodes changing the same person queue on the row as SQLite's single writer
 * would make them, while work on different people runs in parallel. The
 * rest is upserts (index, events, meta, categories) that are correct at
 * this level; REPEATABLE READ or SERIALIZABLE would only add serialization
 * failures for the caller to retry. backup() uses one REPEATABLE READ,
 * READ ONLY snapshot. The audit log is the exception that needs one order:
 * its appenders queue on an advisory lock (pg_audit_lock).
 *
 * The server going away: the operation under way fails with SG_UNAVAILABLE
 * and its transaction is lost as a whole (PostgreSQL rolls it back); the
 * handle then refuses every call until the caller's rollback() or commit()
 * closes the transaction, and the next transaction connects again. Messages
 * name host, port and database, never the password.
 */
#include "migrations.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The meta key of the audit log's archive boundary (see pg_restore). */
#define META_AUDIT_ARCHIVED "audit_archived_below"
/* Tables of the schema at most (sg_tables). */
#define MAX_TABLES 32

/* Type oids of the parameters (pg_type.h is server-side only). */
#define OID_BYTEA 17
#define OID_INT8  20
#define OID_INT4  23
#define OID_TEXT  25
#define OID_UUID  2950

/* Any constant will do; it only has to be the same in every sargs. */
#define MIGRATE_LOCK "7365727473" /* "sargs" read as a number */
/* The audit log's appenders queue on this one (see pg_audit_lock). */
#define AUDIT_LOCK "7365727474"
/* The retention sweepers' pages queue on this one (see pg_sweep_scan). */
#define SWEEP_LOCK "7365727475"
/* A consent recorded against a value and a person added with that value
 * meet on a lock of the value's bucket (see pg_index_put): the first four
 * bits of its blind index. The two-number form of the advisory lock: a key
 * space apart from the locks above. */
#define KEY_LOCKS   "1935766119" /* "sarg" */
#define KEY_BUCKETS 16
/* The partition of the per-person index audit_log_person (migration steps
 * 2 and 3): idx >> AUDIT_RANGE_BITS. They change together. */
#define AUDIT_RANGE_BITS 12
#define STR_(x)          #x
#define STR(x)           STR_(x)

/* Answers not yet read; past this the pipeline is drained early. */
#define QUEUE_MAX 64

enum stmt_id {
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
    ST_SUBJ_LOCK,
    ST_SUBJ_SHRED,
    ST_INDEX_PUT,
    ST_INDEX_DEL,
    ST_INDEX_FIND,
    ST_EVENT_PUT,
    ST_EVENTS_EACH,
    ST_HIST_APPEND,
    ST_HIST_EACH,
    ST_AUDIT_LOCK,
    ST_AUDIT_SIZE,
    ST_AUDIT_APPEND,
    ST_AUDIT_NODE_PUT,
    ST_AUDIT_LEAF_HASH,
    ST_AUDIT_NODE_GET,
    ST_AUDIT_NODES_READ,
    ST_AUDIT_EACH,
    ST_AUDIT_EACH_PERSON,
    ST_AUDIT_ARCHIVE_ON,
    ST_AUDIT_ARCHIVE,
    ST_AUDIT_ARCHIVE_OFF,
    ST_AUDIT_HEAD_PUT,
    ST_AUDIT_HEADS_EACH,
    ST_MEMBER_PUT,
    ST_MEMBER_DEL,
    ST_MEMBERS_EACH,
    ST_MEMBER_SHARED,
    ST_TOKEN_PUT,
    ST_TOKEN_GET,
    ST_TOKEN_EACH,
    ST_TOKEN_REVOKE,
    ST_POLICY_ADD,
    ST_POLICY_AT,
    ST_POLICY_EACH,
    ST_POLICY_EACH_TEXT,
    ST_SUBJ_GET_READ,
    ST_DECISIONS_STATE,
    ST_CONSENT_APPEND,
    ST_CONSENT_EACH,
    ST_CONSENT_PENDING,
    ST_CONSENT_LINK,
    ST_CONSENT_RESEAL,
    ST_DECIDE,
    ST_PSTATE_LOAD,
    ST_PSTATE_PUT,
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
    ST_DONE_PUT,
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
    ST_KEY_LOCK_SHARED,
    ST_KEY_LOCK,
    ST_KEY_LOOK,
    ST_CONSENT_APPEND_PENDING,
    ST_SWEEP_LOCK,
    ST_REQ_PUT,
    ST_REQ_GET,
    ST_REQ_GET_LOCK,
    ST_REQ_OPEN,
    ST_REQ_OPEN_BEFORE,
    ST_REQ_SUBJECT,
    ST_REQ_CHANGED,
    ST_REQ_EV_PUT,
    ST_REQ_EV_EACH,
    ST_CODE_LOCK,
    ST_CODE_GET_LOCK,
    ST_CODE_PUT,
    ST_CODE_DEL,
    ST_COUNT
};

#define MAX_PARAMS 16

/* The columns of a consent event, of an operator, of an outbox message. */
#define CONSENT_COLS                                                                               \
    "seq, subject, category, bidx, purpose, state, at, method, lang, notice, by_whom, guardian, "  \
    "expires, child, actor, kv, details"
#define OP_COLS                                                                                    \
    "login, role, purpose, scope, hash, created, password_changed, failures, locked_until, "       \
    "disabled"
#define OUTBOX_COLS                                                                                \
    "id, subject, kind, created, kv, sealed, state, attempts, next_attempt, sent, error"
#define REQ_COLS                                                                                   \
    "id, subject, kind, channel, state, received, received_day, paused_days, paused_since, "       \
    "extended, due_day, identity, agent, copies, closed, updated"
/* A page of people for the sweeper with their events and done marks, in one
 * statement (one snapshot, one round trip): the page, then every event and
 * mark in the page's id range, each read by a range of the primary key
 * (PostgreSQL has no min() of uuid, hence the ordered sub-selects). */
#define SWEEP_REST                                                                                 \
    "SELECT 0, id, state, created, NULL::text, NULL::int8 FROM page "                              \
    "UNION ALL SELECT 1, subject, 0, 0, name, at FROM events "                                     \
    "WHERE subject >= (SELECT id FROM page ORDER BY id LIMIT 1) "                                  \
    "AND subject <= (SELECT id FROM page ORDER BY id DESC LIMIT 1) "                               \
    "UNION ALL SELECT 2, subject, 0, 0, rule, anchor FROM sweep_done "                             \
    "WHERE subject >= (SELECT id FROM page ORDER BY id LIMIT 1) "                                  \
    "AND subject <= (SELECT id FROM page ORDER BY id DESC LIMIT 1)"

static const struct {
    const char *sql;
    int n;
    unsigned types[MAX_PARAMS];
} stmts[ST_COUNT] = {
    [ST_META_GET] = {"SELECT value FROM meta WHERE key = $1", 1, {OID_TEXT}},
    [ST_META_SET] = {"INSERT INTO meta (key, value) VALUES ($1, $2) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     2,
                     {OID_TEXT, OID_TEXT}},
    [ST_CAT_GET] = {"SELECT code FROM categories WHERE id = $1", 1, {OID_TEXT}},
    [ST_CAT_ADD] = {"INSERT INTO categories (id) VALUES ($1) ON CONFLICT (id) DO NOTHING "
                    "RETURNING code",
                    1,
                    {OID_TEXT}},
    [ST_CAT_EACH] = {"SELECT code, id FROM categories ORDER BY code", 0, {0}},
    [ST_SUBJ_INSERT] = {"INSERT INTO subjects (id, state, created, changed, dek_version, dek, "
                        "record) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        7,
                        {OID_UUID, OID_INT4, OID_INT8, OID_INT8, OID_INT8, OID_BYTEA, OID_BYTEA}},
    /* The row lock: see the top of the file. */
    [ST_SUBJ_GET] = {"SELECT state, created, changed, dek_version, dek, record FROM subjects "
                     "WHERE id = $1 FOR NO KEY UPDATE",
                     1,
                     {OID_UUID}},
    [ST_SUBJ_RECORD] = {"UPDATE subjects SET record = $2, changed = $3 WHERE id = $1",
                        3,
                        {OID_UUID, OID_BYTEA, OID_INT8}},
    [ST_SUBJ_STATE] = {"UPDATE subjects SET state = $2, changed = $3 WHERE id = $1",
                       3,
                       {OID_UUID, OID_INT4, OID_INT8}},
    [ST_SUBJ_LIST_FIRST] = {"SELECT id, state, created, changed, dek_version, dek FROM subjects "
                            "ORDER BY id LIMIT $1",
                            1,
                            {OID_INT8}},
    [ST_SUBJ_LIST_AFTER] = {"SELECT id, state, created, changed, dek_version, dek FROM subjects "
                            "WHERE id > $2 ORDER BY id LIMIT $1",
                            2,
                            {OID_INT8, OID_UUID}},
    [ST_SUBJ_SET_DEK] = {"UPDATE subjects SET dek = $2 WHERE id = $1", 2, {OID_UUID, OID_BYTEA}},
    /* An erasure: the person's row locked first (pg_subject_shred says
     * why), then their rows in every table kept by person, their sessions,
     * and the key and the record, in one statement. The server's work is
     * per table touched whether rows are found or not; one statement
     * instead of nine spared it the protocol and executor round of each
     * (about 1.5 times the erasures a second, measured with pgbench). */
    [ST_SUBJ_LOCK] = {"SELECT 1 FROM subjects WHERE id = $1 FOR NO KEY UPDATE", 1, {OID_UUID}},
    [ST_SUBJ_SHRED] = {"WITH l AS (DELETE FROM lookup WHERE subject = $1), "
                       "e AS (DELETE FROM events WHERE subject = $1), "
                       "h AS (DELETE FROM history WHERE subject = $1), "
                       "m AS (DELETE FROM memberships WHERE subject = $1), "
                       "c AS (DELETE FROM consent_events WHERE subject = $1), "
                       "d AS (DELETE FROM decisions WHERE subject = $1), "
                       "s AS (DELETE FROM sweep_done WHERE subject = $1), "
                       "o AS (DELETE FROM outbox WHERE subject = $1), "
                       "k AS (DELETE FROM person_codes WHERE subject = $1), "
                       "x AS (DELETE FROM sessions "
                       "WHERE login = '" SG_PERSON_LOGIN_PREFIX "' || $1::text) "
                       "UPDATE subjects SET dek = NULL, record = NULL, state = $2, changed = $3 "
                       "WHERE id = $1 AND ($4 = 0 OR state <> $2)",
                       4,
                       {OID_UUID, OID_INT4, OID_INT8, OID_INT4}},
    [ST_INDEX_PUT] = {"INSERT INTO lookup (category, bidx, subject) VALUES ($1, $2, $3) "
                      "ON CONFLICT DO NOTHING",
                      3,
                      {OID_INT4, OID_BYTEA, OID_UUID}},
    [ST_INDEX_DEL] = {"DELETE FROM lookup WHERE category = $1 AND bidx = $2 AND subject = $3",
                      3,
                      {OID_INT4, OID_BYTEA, OID_UUID}},
    [ST_INDEX_FIND] = {"SELECT subject FROM lookup WHERE category = $1 AND bidx = $2 "
                       "ORDER BY subject",
                       2,
                       {OID_INT4, OID_BYTEA}},
    [ST_EVENT_PUT] = {"INSERT INTO events (subject, name, at) VALUES ($1, $2, $3) "
                      "ON CONFLICT (subject, name) DO UPDATE SET at = excluded.at",
                      3,
                      {OID_UUID, OID_TEXT, OID_INT8}},
    [ST_EVENTS_EACH] = {"SELECT name, at FROM events WHERE subject = $1 ORDER BY name",
                        1,
                        {OID_UUID}},
    [ST_HIST_APPEND] = {"INSERT INTO history (subject, category, old, kv, reason, actor, at) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        7,
                        {OID_UUID, OID_TEXT, OID_BYTEA, OID_INT8, OID_BYTEA, OID_TEXT, OID_INT8}},
    [ST_HIST_EACH] = {"SELECT seq, category, old, kv, reason, actor, at FROM history "
                      "WHERE subject = $1 ORDER BY seq",
                      1,
                      {OID_UUID}},
    [ST_AUDIT_LOCK] = {"SELECT pg_advisory_xact_lock(" AUDIT_LOCK ")", 0, {0}},
    /* The size, and the hashes of the perfect subtrees along the right edge
     * of the tree (one per bit of the size, see sg_merkle_range_load), which
     * an appender reads next: one round trip instead of one per level, while
     * every other appender waits on the audit lock. Level l's subtree starts
     * at the size with its bits below l + 1 cleared. */
    [ST_AUDIT_SIZE] = {"SELECT s.n, g.l, CASE WHEN g.l = 0 "
                       "THEN (SELECT hash FROM audit_log WHERE idx = s.n - 1) "
                       "ELSE (SELECT hash FROM audit_nodes "
                       "WHERE id = ((((s.n >> g.l) << g.l) - 1) << 6) | g.l) END "
                       "FROM (SELECT coalesce(max(idx) + 1, 0) AS n FROM audit_log) s "
                       "LEFT JOIN generate_series(0, 62) g(l) ON (s.n >> g.l) & 1 = 1",
                       0,
                       {0}},
    [ST_AUDIT_APPEND] = {"INSERT INTO audit_log (idx, at, pseudonym, leaf, hash) "
                         "VALUES ($1, $2, $3, $4, $5)",
                         5,
                         {OID_INT8, OID_INT8, OID_BYTEA, OID_BYTEA, OID_BYTEA}},
    [ST_AUDIT_NODE_PUT] = {"INSERT INTO audit_nodes (id, hash) VALUES ($1, $2)",
                           2,
                           {OID_INT8, OID_BYTEA}},
    [ST_AUDIT_LEAF_HASH] = {"SELECT hash FROM audit_log WHERE idx = $1", 1, {OID_INT8}},
    [ST_AUDIT_NODE_GET] = {"SELECT hash FROM audit_nodes WHERE id = $1", 1, {OID_INT8}},
    [ST_AUDIT_NODES_READ] = {"SELECT id, hash FROM audit_nodes WHERE id >= $1 ORDER BY id "
                             "LIMIT $2",
                             2,
                             {OID_INT8, OID_INT8}},
    [ST_AUDIT_EACH] = {"SELECT idx, at, pseudonym, leaf, hash FROM audit_log "
                       "WHERE idx >= $1 AND idx < $2 AND at >= $3 ORDER BY idx LIMIT $4",
                       4,
                       {OID_INT8, OID_INT8, OID_INT8, OID_INT8}},
    /* One person's entries in one range of 2^AUDIT_RANGE_BITS (the partition
     * of audit_log_person): a seek on both columns of the index. One statement
     * per range, as the planner cannot seek a range of the first column with
     * an equal second one (PostgreSQL 15 has no skip scan), and a lateral
     * join over the ranges was planned as a scan of the whole index. "idx +
     * 0" keeps the bounds and the order out of the primary key, which the
     * generic plan of a prepared statement would otherwise walk in full. */
    [ST_AUDIT_EACH_PERSON] = {"SELECT idx, at, pseudonym, leaf, hash FROM audit_log "
                              "WHERE (idx >> " STR(
                                  AUDIT_RANGE_BITS) ") = $1 AND "
                                                    "pseudonym = $2 AND pseudonym IS NOT NULL AND "
                                                    "idx + 0 >= $3 AND idx + 0 < $4 AND at >= $5 "
                                                    "ORDER BY idx + 0",
                              5,
                              {OID_INT8, OID_BYTEA, OID_INT8, OID_INT8, OID_INT8}},
    /* Archiving: see pg_audit_archive and migration step 2. */
    [ST_AUDIT_ARCHIVE_ON] = {"SELECT set_config('sargs.archiving', 'on', true)", 0, {0}},
    [ST_AUDIT_ARCHIVE] = {"UPDATE audit_log SET leaf = ''::bytea, pseudonym = NULL "
                          "WHERE idx < $1 AND (length(leaf) > 0 OR pseudonym IS NOT NULL)",
                          1,
                          {OID_INT8}},
    [ST_AUDIT_ARCHIVE_OFF] = {"SELECT set_config('sargs.archiving', '', true)", 0, {0}},
    [ST_AUDIT_HEAD_PUT] = {"INSERT INTO audit_heads (size, at, root, note) VALUES ($1, $2, $3, $4)",
                           4,
                           {OID_INT8, OID_INT8, OID_BYTEA, OID_TEXT}},
    [ST_AUDIT_HEADS_EACH] = {"SELECT size, at, root, note FROM audit_heads WHERE size >= $1 "
                             "ORDER BY size LIMIT $2",
                             2,
                             {OID_INT8, OID_INT8}},
    /* A membership that is there already, a revocation of a token unknown
     * or revoked, a membership that is not there: each is an answer
     * (RETURNING, no row), never an error, which would abort the whole
     * transaction where SQLite only fails the statement (the vault asks
     * again after a failed revocation, in the same transaction). Text is
     * ordered byte by byte (COLLATE "C"), as SQLite does, whatever the
     * database's collation. */
    [ST_MEMBER_PUT] = {"INSERT INTO memberships (subject, grp, since) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING RETURNING 1",
                       3,
                       {OID_UUID, OID_TEXT, OID_INT8}},
    [ST_MEMBER_DEL] = {"DELETE FROM memberships WHERE subject = $1 AND grp = $2 RETURNING 1",
                       2,
                       {OID_UUID, OID_TEXT}},
    [ST_MEMBERS_EACH] = {"SELECT grp, since FROM memberships WHERE subject = $1 "
                         "ORDER BY grp COLLATE \"C\"",
                         1,
                         {OID_UUID}},
    [ST_MEMBER_SHARED] = {"SELECT 1 FROM memberships a JOIN memberships b ON b.grp = a.grp "
                          "AND b.subject = $2 WHERE a.subject = $1 LIMIT 1",
                          2,
                          {OID_UUID, OID_UUID}},
    [ST_TOKEN_PUT] = {"INSERT INTO tokens (id, name, role, purpose, hash, created, revoked, scope) "
                      "VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
                      7,
                      {OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_BYTEA, OID_INT8, OID_TEXT}},
    [ST_TOKEN_GET] = {"SELECT id, name, role, purpose, hash, created, revoked, scope FROM tokens "
                      "WHERE id = $1",
                      1,
                      {OID_TEXT}},
    [ST_TOKEN_EACH] = {"SELECT id, name, role, purpose, hash, created, revoked, scope FROM tokens "
                       "ORDER BY created, id COLLATE \"C\"",
                       0,
                       {0}},
    [ST_TOKEN_REVOKE] = {"UPDATE tokens SET revoked = $2 WHERE id = $1 AND revoked = 0 "
                         "RETURNING 1",
                         2,
                         {OID_TEXT, OID_INT8}},
    [ST_POLICY_ADD] = {"INSERT INTO policies (hash, effective, applied, actor, text) "
                       "VALUES ($1, $2, $3, $4, $5) RETURNING seq",
                       5,
                       {OID_TEXT, OID_INT8, OID_INT8, OID_TEXT, OID_BYTEA}},
    [ST_POLICY_AT] = {"SELECT seq, hash, effective, applied, actor, text FROM policies "
                      "WHERE effective <= $1 ORDER BY effective DESC, seq DESC LIMIT 1",
                      1,
                      {OID_INT8}},
    [ST_POLICY_EACH] = {"SELECT seq, hash, effective, applied, actor, NULL::bytea FROM policies "
                        "ORDER BY seq",
                        0,
                        {0}},
    [ST_POLICY_EACH_TEXT] = {"SELECT seq, hash, effective, applied, actor, text FROM policies "
                             "ORDER BY seq",
                             0,
                             {0}},
    /* Inside a transaction that mostly reads (begin_read), or outside any:
     * no row lock, as readers must not queue behind writers (MVCC). */
    [ST_SUBJ_GET_READ] = {"SELECT state, created, changed, dek_version, dek, record FROM subjects "
                          "WHERE id = $1",
                          1,
                          {OID_UUID}},
    /* The copy of the person's state that decisions read. */
    [ST_DECISIONS_STATE] = {"UPDATE decisions SET state = $2 WHERE subject = $1",
                            2,
                            {OID_UUID, OID_INT4}},
    [ST_CONSENT_APPEND] = {"INSERT INTO consent_events (subject, category, bidx, purpose, state, "
                           "at, method, lang, notice, by_whom, guardian, expires, child, actor, "
                           "kv, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                           "$12, $13, $14, $15, $16) RETURNING seq",
                           16,
                           {OID_UUID, OID_INT4, OID_BYTEA, OID_TEXT, OID_INT4, OID_INT8, OID_INT4,
                            OID_TEXT, OID_TEXT, OID_INT4, OID_UUID, OID_INT8, OID_INT4, OID_TEXT,
                            OID_INT8, OID_BYTEA}},
    [ST_CONSENT_EACH] = {"SELECT " CONSENT_COLS " FROM consent_events WHERE subject = $1 "
                         "ORDER BY seq",
                         1,
                         {OID_UUID}},
    [ST_CONSENT_PENDING] = {"SELECT " CONSENT_COLS " FROM consent_events WHERE subject IS NULL "
                            "AND category = $1 AND bidx = $2 ORDER BY seq",
                            2,
                            {OID_INT4, OID_BYTEA}},
    [ST_CONSENT_LINK] = {"UPDATE consent_events SET subject = $3, category = NULL, bidx = NULL "
                         "WHERE subject IS NULL AND category = $1 AND bidx = $2",
                         3,
                         {OID_INT4, OID_BYTEA, OID_UUID}},
    /* Only while pending: two nodes adding people with the same value at
     * once may both find its events; the first to link them has them, and
     * the other's re-sealing must not then seal them under its key. */
    [ST_CONSENT_RESEAL] = {"UPDATE consent_events SET kv = $2, details = $3 WHERE seq = $1 "
                           "AND subject IS NULL",
                           3,
                           {OID_INT8, OID_INT8, OID_BYTEA}},
    /* A decision: the person's decision row by its key, and only when there
     * is none (no consent or objection ever recorded) the person's own row.
     * LIMIT 1 stops at the first row: one index read for everybody with a
     * decision row (tests/unit/test_store.c::test_pg_decide_reads). */
    [ST_DECIDE] = {"SELECT state, purposes FROM decisions WHERE subject = $1 "
                   "UNION ALL SELECT state, NULL FROM subjects WHERE id = $1 "
                   "AND NOT EXISTS (SELECT 1 FROM decisions WHERE subject = $1) LIMIT 1",
                   1,
                   {OID_UUID}},
    /* Before a decision row is rewritten: the person's state and row, the
     * person locked (as subject_get does) so that two nodes changing the
     * same person's purposes queue instead of losing one of the changes. */
    [ST_PSTATE_LOAD] = {"SELECT s.state, d.purposes FROM subjects s LEFT JOIN decisions d "
                        "ON d.subject = s.id WHERE s.id = $1 FOR NO KEY UPDATE OF s",
                        1,
                        {OID_UUID}},
    [ST_PSTATE_PUT] = {"INSERT INTO decisions (subject, state, purposes) VALUES ($1, $2, $3) "
                       "ON CONFLICT (subject) DO UPDATE SET state = excluded.state, "
                       "purposes = excluded.purposes",
                       3,
                       {OID_UUID, OID_INT4, OID_BYTEA}},
    /* A login already taken is an answer (no row), not an error that would
     * abort the transaction. */
    [ST_OP_INSERT] = {"INSERT INTO operators (" OP_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                      "$9, $10) ON CONFLICT (login) DO NOTHING RETURNING 1",
                      10,
                      {OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_INT8, OID_INT8,
                       OID_INT4, OID_INT8, OID_INT4}},
    [ST_OP_PUT] = {"INSERT INTO operators (" OP_COLS
                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                   "$10) ON CONFLICT (login) DO UPDATE SET role = excluded.role, "
                   "purpose = excluded.purpose, scope = excluded.scope, hash = excluded.hash, "
                   "created = excluded.created, password_changed = excluded.password_changed, "
                   "failures = excluded.failures, locked_until = excluded.locked_until, "
                   "disabled = excluded.disabled",
                   10,
                   {OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_INT8, OID_INT8, OID_INT4,
                    OID_INT8, OID_INT4}},
    [ST_OP_GET] = {"SELECT " OP_COLS " FROM operators WHERE login = $1", 1, {OID_TEXT}},
    [ST_OP_EACH] = {"SELECT " OP_COLS " FROM operators ORDER BY login COLLATE \"C\"", 0, {0}},
    [ST_SESS_PUT] = {"INSERT INTO sessions (hash, login, created, expires, seen) "
                     "VALUES ($1, $2, $3, $4, $5)",
                     5,
                     {OID_BYTEA, OID_TEXT, OID_INT8, OID_INT8, OID_INT8}},
    [ST_SESS_GET] = {"SELECT login, created, expires, seen FROM sessions WHERE hash = $1",
                     1,
                     {OID_BYTEA}},
    [ST_SESS_SEEN] = {"UPDATE sessions SET seen = $2 WHERE hash = $1", 2, {OID_BYTEA, OID_INT8}},
    [ST_SESS_DEL] = {"DELETE FROM sessions WHERE hash = $1", 1, {OID_BYTEA}},
    [ST_SESS_DEL_LOGIN] = {"DELETE FROM sessions WHERE login = $1", 1, {OID_TEXT}},
    [ST_SESS_PURGE] = {"DELETE FROM sessions WHERE expires <= $1", 1, {OID_INT8}},
    [ST_SWEEP_FIRST] = {"WITH page AS MATERIALIZED (SELECT id, state, created FROM subjects "
                        "ORDER BY id LIMIT $1) " SWEEP_REST,
                        1,
                        {OID_INT8}},
    [ST_SWEEP_AFTER] = {"WITH page AS MATERIALIZED (SELECT id, state, created FROM subjects "
                        "WHERE id > $2 ORDER BY id LIMIT $1) " SWEEP_REST,
                        2,
                        {OID_INT8, OID_UUID}},
    [ST_DONE_PUT] = {"INSERT INTO sweep_done (subject, rule, anchor, at) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT DO NOTHING",
                     4,
                     {OID_UUID, OID_TEXT, OID_INT8, OID_INT8}},
    [ST_GEVENT_PUT] = {"INSERT INTO global_events (name, at) VALUES ($1, $2) "
                       "ON CONFLICT DO NOTHING",
                       2,
                       {OID_TEXT, OID_INT8}},
    [ST_GEVENT_LATEST] = {"SELECT max(at) FROM global_events WHERE name = $1 AND at <= $2",
                          2,
                          {OID_TEXT, OID_INT8}},
    [ST_STATS_PUT] = {"INSERT INTO statistics (id, category, value, year) VALUES ($1, $2, $3, $4)",
                      4,
                      {OID_BYTEA, OID_TEXT, OID_TEXT, OID_INT4}},
    [ST_STATS_EACH] = {"SELECT category, value, year, count(*) FROM statistics "
                       "GROUP BY category, value, year "
                       "ORDER BY category COLLATE \"C\", value COLLATE \"C\", year",
                       0,
                       {0}},
    [ST_HIST_DEL_CAT] = {"DELETE FROM history WHERE subject = $1 AND category = $2",
                         2,
                         {OID_UUID, OID_TEXT}},
    [ST_OUTBOX_PUT] = {"INSERT INTO outbox (id, subject, kind, created, kv, sealed, next_attempt) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $4)",
                       6,
                       {OID_UUID, OID_UUID, OID_TEXT, OID_INT8, OID_INT8, OID_BYTEA}},
    /* Workers on several nodes: a message another worker's transaction is
     * claiming is skipped, not waited for (SKIP LOCKED), and once claimed
     * its lease keeps it from everyone until it runs out or its outcome is
     * recorded. The lease runs by the server's clock, the one clock every
     * node shares; when a message is due is the caller's `now`. The mark
     * comes last, after the columns each_message reads. */
    [ST_OUTBOX_CLAIM] =
        {"WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8 "
         "AS now) "
         "UPDATE outbox SET claimed_until = t.now + $2 FROM t WHERE outbox.id IN "
         "(SELECT o.id FROM outbox o, t WHERE o.state = 0 AND o.next_attempt <= $1 "
         "AND o.claimed_until <= t.now ORDER BY o.next_attempt LIMIT $3 "
         "FOR UPDATE OF o SKIP LOCKED) "
         "RETURNING " OUTBOX_COLS ", claimed_until",
         3,
         {OID_INT8, OID_INT8, OID_INT8}},
    [ST_OUTBOX_UPDATE] = {"UPDATE outbox SET state = $2, attempts = $3, next_attempt = $4, "
                          "sent = $5, error = $6, claimed_until = 0, sealed = CASE $2 WHEN 0 "
                          "THEN sealed ELSE ''::bytea END WHERE id = $1 AND "
                          "claimed_until = $7 RETURNING id",
                          7,
                          {OID_UUID, OID_INT4, OID_INT4, OID_INT8, OID_INT8, OID_TEXT, OID_INT8}},
    [ST_OUTBOX_EACH] = {"SELECT " OUTBOX_COLS " FROM outbox ORDER BY created, id", 0, {0}},
    [ST_OUTBOX_EACH_STATE] = {"SELECT " OUTBOX_COLS " FROM outbox WHERE state = $1 "
                              "ORDER BY created, id",
                              1,
                              {OID_INT4}},
    [ST_KEY_LOCK_SHARED] = {"SELECT pg_advisory_xact_lock_shared(" KEY_LOCKS ", $1)",
                            1,
                            {OID_INT4}},
    [ST_KEY_LOCK] = {"SELECT pg_advisory_xact_lock(" KEY_LOCKS ", $1)", 1, {OID_INT4}},
    /* Is any consent pending in a bucket (a range of the blind index)? */
    [ST_KEY_LOOK] = {"SELECT 1 FROM consent_events WHERE subject IS NULL AND bidx >= $1 "
                     "AND bidx < $2 LIMIT 1",
                     2,
                     {OID_BYTEA, OID_BYTEA}},
    /* Against a value, while nobody has it (see pg_consent_append). */
    [ST_CONSENT_APPEND_PENDING] = {"INSERT INTO consent_events (subject, category, bidx, purpose, "
                                   "state, at, method, lang, notice, by_whom, guardian, expires, "
                                   "child, actor, kv, details) SELECT $1, $2, $3, $4, $5, $6, $7, "
                                   "$8, $9, $10, $11, $12, $13, $14, $15, $16 WHERE NOT EXISTS "
                                   "(SELECT 1 FROM lookup WHERE category = $2 AND bidx = $3) "
                                   "RETURNING seq",
                                   16,
                                   {OID_UUID, OID_INT4, OID_BYTEA, OID_TEXT, OID_INT4, OID_INT8,
                                    OID_INT4, OID_TEXT, OID_TEXT, OID_INT4, OID_UUID, OID_INT8,
                                    OID_INT4, OID_TEXT, OID_INT8, OID_BYTEA}},
    [ST_SWEEP_LOCK] = {"SELECT pg_advisory_xact_lock(" SWEEP_LOCK ")", 0, {0}},
    /* The row is rewritten whole at each transition (SQLite's INSERT OR
     * REPLACE); the id, the only key, is left alone, so the row lock this
     * takes is no stronger than request_get's. */
    [ST_REQ_PUT] = {"INSERT INTO requests (" REQ_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                    "$9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO UPDATE SET "
                    "subject = excluded.subject, kind = excluded.kind, "
                    "channel = excluded.channel, state = excluded.state, "
                    "received = excluded.received, received_day = excluded.received_day, "
                    "paused_days = excluded.paused_days, paused_since = excluded.paused_since, "
                    "extended = excluded.extended, due_day = excluded.due_day, "
                    "identity = excluded.identity, agent = excluded.agent, "
                    "copies = excluded.copies, closed = excluded.closed, "
                    "updated = excluded.updated",
                    16,
                    {OID_UUID, OID_UUID, OID_INT4, OID_TEXT, OID_INT4, OID_INT8, OID_INT8, OID_INT8,
                     OID_INT8, OID_INT4, OID_INT8, OID_TEXT, OID_TEXT, OID_INT4, OID_INT8,
                     OID_INT8}},
    [ST_REQ_GET] = {"SELECT " REQ_COLS " FROM requests WHERE id = $1", 1, {OID_UUID}},
    /* Inside a writing transaction a request is read to be moved on: its
     * row is locked, so two nodes moving the same request queue, and the
     * second sees the first's transition instead of overwriting it. */
    [ST_REQ_GET_LOCK] = {"SELECT " REQ_COLS " FROM requests WHERE id = $1 FOR NO KEY UPDATE",
                         1,
                         {OID_UUID}},
    [ST_REQ_OPEN] = {"SELECT " REQ_COLS " FROM requests WHERE closed = 0 ORDER BY due_day, id "
                     "LIMIT $1",
                     1,
                     {OID_INT8}},
    [ST_REQ_OPEN_BEFORE] = {"SELECT " REQ_COLS " FROM requests WHERE closed = 0 AND due_day < $2 "
                            "ORDER BY due_day, id LIMIT $1",
                            2,
                            {OID_INT8, OID_INT8}},
    [ST_REQ_CHANGED] = {"SELECT " REQ_COLS " FROM requests WHERE updated > $2 "
                        "ORDER BY updated, id LIMIT $1",
                        2,
                        {OID_INT8, OID_INT8}},
    /* Newest first; the id breaks ties, which SQLite leaves to chance. */
    [ST_REQ_SUBJECT] = {"SELECT " REQ_COLS " FROM requests WHERE subject = $2 "
                        "ORDER BY received DESC, id DESC LIMIT $1",
                        2,
                        {OID_INT8, OID_UUID}},
    [ST_REQ_EV_PUT] = {"INSERT INTO request_events (request, at, actor, verb, state, reason) "
                       "VALUES ($1, $2, $3, $4, $5, $6)",
                       6,
                       {OID_UUID, OID_INT8, OID_TEXT, OID_TEXT, OID_INT4, OID_BYTEA}},
    [ST_REQ_EV_EACH] = {"SELECT seq, at, actor, verb, state, reason FROM request_events "
                        "WHERE request = $1 ORDER BY seq",
                        1,
                        {OID_UUID}},
    /* A sign-in takes the person's row before reading it: made if need
     * be, then locked (FOR UPDATE) until the transaction ends, so that two
     * nodes checking guesses at once queue: neither counts from a stale
     * number of tries, and one code opens one session. */
    [ST_CODE_LOCK] = {"INSERT INTO person_codes (subject, hash, expires, attempts, sent, "
                      "day_start, day_sends, day_fails) VALUES ($1, decode(repeat('00', 32), "
                      "'hex'), 0, 0, 0, 0, 0, 0) ON CONFLICT (subject) DO NOTHING",
                      1,
                      {OID_UUID}},
    [ST_CODE_GET_LOCK] = {"SELECT hash, expires, attempts, sent, day_start, day_sends, day_fails "
                          "FROM person_codes WHERE subject = $1 FOR UPDATE",
                          1,
                          {OID_UUID}},
    [ST_CODE_PUT] = {"UPDATE person_codes SET hash = $2, expires = $3, attempts = $4, sent = $5, "
                     "day_start = $6, day_sends = $7, day_fails = $8 WHERE subject = $1",
                     8,
                     {OID_UUID, OID_BYTEA, OID_INT8, OID_INT4, OID_INT8, OID_INT8, OID_INT4,
                      OID_INT4}},
    [ST_CODE_DEL] = {"DELETE FROM person_codes WHERE subject = $1", 1, {OID_UUID}},
};

/* One answer still to read: what it was, for the message, which statement
 * it prepares (-1 when it is not a PREPARE), where its rows go when the
 * caller wants them kept (see send_keep), and for a write that must change
 * exactly one row, what to say when it did not (see send_one). */
struct pending {
    const char *what;
    int prepares;
    PGresult **keep;
    const char *none;
};

struct pg {
    struct sg_store base;
    PGconn *conn;
    char *uri;      /* holds the password: wiped when freed */
    char *password; /* to scrub from messages, belt and braces */
    char where[160];
    int depth;    /* 1 = transaction, more = savepoints */
    int reading;  /* the open transaction mostly reads (begin_read) */
    int lost;     /* the connection went away inside the open transaction */
    int pipeline; /* the connection is in pipeline mode */
    int failed;   /* a statement failed since the last rollback: the server's
                     transaction may be aborted (see pg_commit) */
    char prepared[ST_COUNT];
    struct pending q[QUEUE_MAX];
    int nq;
    int checks; /* answers due that must show one row changed (send_one) */
    /* The right edge of the audit tree as audit_size() last read it in the
     * open transaction; forgotten when the transaction or a savepoint ends,
     * as it may hold nodes of our own that a rollback takes back. */
    int nedge;
    struct {
        uint64_t id; /* level << 56 | index */
        uint8_t hash[32];
    } edge[64];
    /* A person's groups, read with their events (see pg_events_each) for
     * the members_each() that follows; forgotten by any other statement. */
    PGresult *groups;
    struct sg_uuid groups_of;
    /* The decision row of the person whose purposes this transaction last
     * rewrote or read to rewrite (pstate_*): that read locked the person,
     * so nobody else changes it until the transaction ends. Forgotten when
     * the lock may go: a rollback (of a savepoint too), the end of the
     * transaction. */
    struct {
        int valid;
        struct sg_uuid id;
        int state;
        uint8_t *b; /* packed purposes, `n` bytes */
        size_t n, cap;
    } dec;
    /* The buckets of values whose lock this transaction holds (see
     * pg_index_put), those of them whose pending consents it has looked at
     * since, and those found to have none, which stays so while it holds
     * the lock; the answers of the looks until read. Forgotten at any
     * rollback (a savepoint's releases the locks taken inside it) and at
     * the end of the transaction. */
    unsigned keys_locked, keys_known, keys_empty;
    PGresult *keys_r[KEY_BUCKETS];
};

static struct pg *PG(struct sg_store *s)
{
    return (struct pg *)s;
}

static void forget_groups(struct pg *p)
{
    PQclear(p->groups);
    p->groups = NULL;
}

static void forget_decision(struct pg *p)
{
    p->dec.valid = 0;
}

/* Forgets the buckets' locks and looks, and the places queued answers
 * would fill. */
static void forget_keys(struct pg *p)
{
    for (int b = 0; b < KEY_BUCKETS; b++) {
        for (int k = 0; k < p->nq; k++)
            if (p->q[k].keep == &p->keys_r[b])
                p->q[k].keep = NULL;
        PQclear(p->keys_r[b]);
        p->keys_r[b] = NULL;
    }
    p->keys_locked = p->keys_known = p->keys_empty = 0;
}

/* ---------------------------------------------------------------- errors */

/* Removes every copy of the password from a message (libpq does not put it
 * in its messages; this makes sure of it). */
static void scrub(const struct pg *p, struct sg_err *err)
{
    if (!err || !p || !p->password || !*p->password)
        return;
    size_t n = strlen(p->password);
    char *at;
    while ((at = strstr(err->msg, p->password)) != NULL) {
        memset(at, '*', 3);
        memmove(at + 3, at + n, strlen(at + n) + 1);
    }
}

/* The first line of a libpq message, without its "ERROR:  " style prefix. */
static void first_line(const char *msg, char *out, size_t len)
{
    if (!msg)
        msg = "";
    static const char *const prefixes[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(msg, prefixes[i], strlen(prefixes[i])) == 0)
            msg += strlen(prefixes[i]);
    size_t n = strcspn(msg, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

/* Forgets a connection that went away. Inside a transaction, the
 * transaction is lost with it. */
static void drop_conn(struct pg *p)
{
    forget_groups(p);
    forget_decision(p);
    forget_keys(p);
    if (p->conn)
        PQfinish(p->conn);
    p->conn = NULL;
    p->pipeline = 0;
    p->nq = 0;
    p->checks = 0;
    p->nedge = 0;
    memset(p->prepared, 0, sizeof p->prepared);
    if (p->depth)
        p->lost = 1;
}

static enum sg_rc lost_err(struct pg *p, const char *what, const char *why, struct sg_err *err)
{
    char line[160];
    first_line(why, line, sizeof line);
    sg_err_set(err, SG_UNAVAILABLE, "connection to postgresql at %s lost (%s)%s%s; try again",
               p->where, what, line[0] ? ": " : "", line);
    scrub(p, err);
    return SG_UNAVAILABLE;
}

/*
 * Maps a failed result to our codes by its SQLSTATE. Only the primary
 * message is kept: PostgreSQL's DETAIL may quote the values of a row.
 */
static enum sg_rc result_err(struct pg *p, const PGresult *r, const char *what, struct sg_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[200];
    first_line(r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL, msg, sizeof msg);
    if (!msg[0] && p->conn)
        first_line(PQerrorMessage(p->conn), msg, sizeof msg);
    if (!state || !p->conn || PQstatus(p->conn) != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0) {
        drop_conn(p);
        return lost_err(p, what, msg, err);
    }
    enum sg_rc rc;
    if (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)
        rc = sg_err_set(err, SG_CONFLICT, "%s: %s", what, msg); /* integrity, or a trigger */
    else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
             strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
             strcmp(state, "53300") == 0)
        /* serialization, deadlock, lock or statement timeout, no free slot */
        rc = sg_err_set(err, SG_UNAVAILABLE, "database is busy (%s: %s); try again", what, msg);
    else if (strcmp(state, "42501") == 0)
        rc = sg_err_set(err, SG_DENIED, "the database refused (%s): %s", what, msg);
    else if (strcmp(state, "53100") == 0)
        rc = sg_err_set(err, SG_IO, "disk full (%s): %s", what, msg);
    else if (strcmp(state, "53200") == 0)
        rc = sg_err_set(err, SG_NOMEM, "out of memory in the database (%s): %s", what, msg);
    else
        rc = sg_err_set(err, SG_IO, "database error (%s): %s", what, msg);
    scrub(p, err);
    return rc;
}

/* ------------------------------------------------------------ connection */

static void quiet(void *arg, const char *message)
{
    /* NOTICEs ("relation already exists, skipping") are not for the user. */
    (void)arg;
    (void)message;
}

static enum sg_rc connect_now(struct pg *p, struct sg_err *err)
{
    /* Our defaults come first: whatever the address says overrides them. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "sargs", p->uri, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (!p->conn)
        return sg_err_set(err, SG_NOMEM, "out of memory connecting to postgresql");
    if (PQstatus(p->conn) != CONNECTION_OK) {
        char line[200];
        first_line(PQerrorMessage(p->conn), line, sizeof line);
        /* "connection to server at ... failed: FATAL: ..." - keep the end. */
        const char *why = strstr(line, "failed: ");
        why = why ? why + 8 : line;
        if (strncmp(why, "FATAL:  ", 8) == 0)
            why += 8;
        enum sg_rc rc = strstr(why, "authentication failed") || strstr(why, "no password")
                            ? SG_DENIED
                            : SG_UNAVAILABLE;
        sg_err_set(err, rc, "cannot connect to postgresql at %s: %s", p->where, why);
        scrub(p, err);
        PQfinish(p->conn);
        p->conn = NULL;
        return rc;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    memset(p->prepared, 0, sizeof p->prepared);
    p->nq = 0;
    p->checks = 0;
    p->pipeline = 0;
    return SG_OK;
}

/*
 * Makes sure there is a connection before a transaction or a call outside
 * one. A connection the server closed while we were idle (a restart) shows
 * as end of file on its socket: it is replaced before anything is sent.
 */
static enum sg_rc ensure_conn(struct pg *p, struct sg_err *err)
{
    if (p->depth) {
        if (p->lost || !p->conn)
            return sg_err_set(err, SG_UNAVAILABLE,
                              "connection to postgresql at %s was lost; the transaction is rolled "
                              "back",
                              p->where);
        return SG_OK;
    }
    /* Twice: a server shutting down sends an error first (libpq hands it to
     * the notice processor), then closes; the second read sees the end. */
    if (p->conn && (PQstatus(p->conn) != CONNECTION_OK || !PQconsumeInput(p->conn) ||
                    !PQconsumeInput(p->conn) || PQstatus(p->conn) != CONNECTION_OK))
        drop_conn(p);
    if (!p->conn)
        return connect_now(p, err);
    return SG_OK;
}

static enum sg_rc enter_pipeline(struct pg *p, struct sg_err *err)
{
    if (p->pipeline)
        return SG_OK;
    if (!PQenterPipelineMode(p->conn)) {
        drop_conn(p);
        return lost_err(p, "pipeline", NULL, err);
    }
    p->pipeline = 1;
    return SG_OK;
}

/* ---------------------------------------------------------------- pipeline */

struct params {
    int n;
    const char *v[MAX_PARAMS];
    int len[MAX_PARAMS];
    int fmt[MAX_PARAMS];
    unsigned char num[MAX_PARAMS][8];
};

static void p_bytes(struct params *a, const void *v, size_t len)
{
    a->v[a->n] = v; /* NULL: SQL NULL */
    a->len[a->n] = (int)len;
    a->fmt[a->n++] = 1;
}

static void p_id(struct params *a, const struct sg_uuid *id)
{
    p_bytes(a, id ? id->b : NULL, 16);
}

static void p_text(struct params *a, const char *s)
{
    a->v[a->n] = s;
    a->len[a->n] = 0;
    a->fmt[a->n++] = 0;
}

static void p_i64(struct params *a, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        a->num[a->n][i] = (unsigned char)(u >> (56 - 8 * i));
    p_bytes(a, a->num[a->n], 8);
}

static void p_i32(struct params *a, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        a->num[a->n][i] = (unsigned char)(u >> (24 - 8 * i));
    p_bytes(a, a->num[a->n], 4);
}

/* An integer column of a binary result, whatever its width. */
static int64_t r_int(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col) || (n != 2 && n != 4 && n != 8))
        return 0;
    uint64_t u = 0;
    for (int i = 0; i < n; i++)
        u = (u << 8) | v[i];
    if (n < 8 && (v[0] & 0x80))
        u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    return (int64_t)u;
}

static const char *r_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

static void r_id(const PGresult *r, int row, int col, struct sg_uuid *out)
{
    if (!PQgetisnull(r, row, col) && PQgetlength(r, row, col) == 16)
        memcpy(out->b, PQgetvalue(r, row, col), 16);
    else
        memset(out->b, 0, 16);
}

static enum sg_rc push(struct pg *p, const char *what, int prepares)
{
    p->q[p->nq].what = what;
    p->q[p->nq].keep = NULL;
    p->q[p->nq].none = NULL;
    p->q[p->nq++].prepares = prepares;
    return SG_OK;
}

/*
 * Reads every answer still due, in order. Returns the first failure among
 * them (later ones were skipped by the server because of it). With `last`,
 * the result of the last statement sent is handed over when it succeeded.
 */
static enum sg_rc drain(struct pg *p, PGresult **last, struct sg_err *err)
{
    if (last)
        *last = NULL;
    if (!p->conn)
        return lost_err(p, "read", NULL, err);
    if (p->nq == 0)
        return SG_OK;
    if (!PQpipelineSync(p->conn)) {
        drop_conn(p);
        return lost_err(p, "send", NULL, err);
    }
    enum sg_rc rc = SG_OK;
    int n = p->nq;
    for (int i = 0; i < n; i++) {
        PGresult *r = PQgetResult(p->conn);
        if (!r) {
            /* No answer where one was due: the connection broke. */
            if (!rc) {
                char why[160];
                first_line(PQerrorMessage(p->conn), why, sizeof why);
                drop_conn(p);
                rc = lost_err(p, p->q[i].what, why, err);
            }
            return rc;
        }
        ExecStatusType st = PQresultStatus(r);
        int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (p->q[i].prepares >= 0 && !ok)
            p->prepared[p->q[i].prepares] = 0;
        if (!ok)
            p->failed = 1;
        if (ok && p->q[i].none && strcmp(PQcmdTuples(r), "1") != 0) {
            /* The server went on: what followed is taken back with the
             * savepoint or transaction (undo), as after a failure. */
            p->failed = 1;
            if (!rc)
                rc = sg_err_set(err, SG_NOTFOUND, "%s", p->q[i].none);
        } else if (!ok && !rc) {
            if (st == PGRES_PIPELINE_ABORTED)
                rc = sg_err_set(err, SG_INTERNAL, "pipeline aborted without an error");
            else
                rc = result_err(p, r, p->q[i].what, err);
            if (!p->conn) {
                PQclear(r);
                return rc;
            }
        }
        if (ok && last && i == n - 1)
            *last = r;
        else if (ok && p->q[i].keep)
            *p->q[i].keep = r;
        else
            PQclear(r);
        /* Each statement's results end with a NULL. */
        while ((r = PQgetResult(p->conn)) != NULL)
            PQclear(r);
    }
    PGresult *r = PQgetResult(p->conn);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    PQclear(r);
    p->nq = 0;
    p->checks = 0;
    if (st != PGRES_PIPELINE_SYNC) {
        if (last && *last) {
            PQclear(*last);
            *last = NULL;
        }
        if (!rc) {
            char why[160];
            first_line(p->conn ? PQerrorMessage(p->conn) : NULL, why, sizeof why);
            drop_conn(p);
            rc = lost_err(p, "sync", why, err);
        }
    }
    if (rc && last && *last) {
        PQclear(*last);
        *last = NULL;
    }
    return rc;
}

/* Queues one statement of the table; prepares it first on this connection. */
static enum sg_rc send_stmt(struct pg *p, enum stmt_id id, const struct params *a, const char *what,
                            struct sg_err *err)
{
    enum sg_rc rc;
    forget_groups(p);
    if ((rc = ensure_conn(p, err)) || (rc = enter_pipeline(p, err)))
        return rc;
    if (p->nq >= QUEUE_MAX - 2 && (rc = drain(p, NULL, err)))
        return rc;
    char name[16];
    snprintf(name, sizeof name, "sg%d", (int)id);
    if (!p->prepared[id]) {
        if (!PQsendPrepare(p->conn, name, stmts[id].sql, stmts[id].n, stmts[id].types)) {
            drop_conn(p);
            return lost_err(p, what, NULL, err);
        }
        p->prepared[id] = 1;
        push(p, what, (int)id);
    }
    if (!PQsendQueryPrepared(p->conn, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                             a ? a->fmt : NULL, 1)) {
        drop_conn(p);
        return lost_err(p, what, NULL, err);
    }
    return push(p, what, -1);
}

/* Queues a statement without parameters (transaction control). */
static enum sg_rc send_sql(struct pg *p, const char *sql, const char *what, struct sg_err *err)
{
    enum sg_rc rc;
    forget_groups(p);
    if ((rc = enter_pipeline(p, err)))
        return rc;
    if (p->nq >= QUEUE_MAX - 2 && (rc = drain(p, NULL, err)))
        return rc;
    if (!PQsendQueryParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 1)) {
        drop_conn(p);
        return lost_err(p, what, NULL, err);
    }
    return push(p, what, -1);
}

/* A write: queued inside a transaction, done at once outside one. */
static enum sg_rc write_stmt(struct pg *p, enum stmt_id id, const struct params *a,
                             const char *what, struct sg_err *err)
{
    enum sg_rc rc = send_stmt(p, id, a, what, err);
    if (!rc && p->depth == 0)
        rc = drain(p, NULL, err);
    return rc;
}

/* A read: sends, then waits for every answer due and hands over the rows. */
static enum sg_rc read_stmt(struct pg *p, enum stmt_id id, const struct params *a, const char *what,
                            PGresult **out, struct sg_err *err)
{
    enum sg_rc rc = send_stmt(p, id, a, what, err);
    if (!rc)
        rc = drain(p, out, err);
    return rc;
}

/* A read whose rows are kept in `*slot` (NULL until then) when the answers
 * are read: several reads then share one round trip. The caller frees what
 * it finds in its slots, whatever happened. */
static enum sg_rc send_keep(struct pg *p, enum stmt_id id, const struct params *a, const char *what,
                            PGresult **slot, struct sg_err *err)
{
    *slot = NULL;
    enum sg_rc rc = send_stmt(p, id, a, what, err);
    if (!rc)
        p->q[p->nq - 1].keep = slot;
    return rc;
}

/* A write inside a transaction that must change exactly one row, or the
 * operation fails with SG_NOTFOUND and `none` when its answer is read: at
 * the latest before the savepoint or the transaction ends (pg_commit), so
 * that the failure takes back what followed it. Not waited for. */
static enum sg_rc send_one(struct pg *p, enum stmt_id id, const struct params *a, const char *what,
                           const char *none, struct sg_err *err)
{
    if (p->depth == 0)
        return sg_err_set(err, SG_INTERNAL, "%s: outside a transaction", what);
    enum sg_rc rc = send_stmt(p, id, a, what, err);
    if (!rc) {
        p->q[p->nq - 1].none = none;
        p->checks++;
    }
    return rc;
}

/* Leaves pipeline mode for what needs the simple protocol (multi-statement
 * migration text, COPY). Nothing may be due. */
static enum sg_rc leave_pipeline(struct pg *p, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = drain(p, NULL, err)))
        return rc;
    if (p->pipeline && !PQexitPipelineMode(p->conn))
        return sg_err_set(err, SG_INTERNAL, "cannot leave pipeline mode");
    p->pipeline = 0;
    return SG_OK;
}

/* Runs SQL with the simple protocol (outside pipeline mode). */
static enum sg_rc simple(struct pg *p, const char *sql, const char *what, PGresult **out,
                         struct sg_err *err)
{
    if (out)
        *out = NULL;
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return SG_OK;
    }
    enum sg_rc rc = result_err(p, r, what, err);
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------- open/close */

static void pg_close(struct sg_store *s)
{
    struct pg *p = PG(s);
    if (!p)
        return;
    forget_groups(p);
    forget_keys(p);
    free(p->dec.b);
    if (p->conn)
        PQfinish(p->conn);
    if (p->uri) {
        memset(p->uri, 0, strlen(p->uri));
        free(p->uri);
    }
    if (p->password) {
        memset(p->password, 0, strlen(p->password));
        free(p->password);
    }
    free(p);
}

/* Whether the sargs schema is there: 1 yes, 0 no. */
static enum sg_rc has_schema(struct pg *p, int *yes, struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc;
    if ((rc = ensure_conn(p, err)) || (rc = enter_pipeline(p, err)) ||
        (rc = send_sql(p, "SELECT to_regclass('schema_migrations') IS NOT NULL", "open", err)) ||
        (rc = drain(p, &r, err)))
        return rc;
    *yes = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 1 && PQgetvalue(r, 0, 0)[0] == 1;
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_open(const char *uri, int flags, struct sg_store **out, struct sg_err *err)
{
    int create = flags & SG_STORE_CREATE;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        /* libpq's message may quote the address, password included. */
        PQfreemem(perr);
        return sg_err_set(err, SG_INVALID, "invalid postgresql address (see the libpq URI syntax)");
    }
    struct pg *p = calloc(1, sizeof *p);
    if (!p) {
        PQconninfoFree(opts);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    p->base.ops = &sg_store_postgres;
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "host") || (!strcmp(o->keyword, "hostaddr") && !host))
            host = o->val;
        else if (!strcmp(o->keyword, "port"))
            port = o->val;
        else if (!strcmp(o->keyword, "dbname"))
            db = o->val;
        else if (!strcmp(o->keyword, "user"))
            user = o->val;
        else if (!strcmp(o->keyword, "password") && *o->val)
            p->password = strdup(o->val);
    }
    snprintf(p->where, sizeof p->where, "%.60s:%.8s/%.60s", host ? host : "localhost",
             port ? port : "5432", db ? db : (user ? user : "(default)"));
    PQconninfoFree(opts);
    p->uri = strdup(uri);
    enum sg_rc rc;
    if (!p->uri) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto bad;
    }
    if ((rc = connect_now(p, err)))
        goto bad;
    int yes = 0;
    if (!create && ((rc = has_schema(p, &yes, err)) || !yes)) {
        if (!rc)
            rc = sg_err_set(err, SG_NOTFOUND, "no sargs schema in the postgresql database at %s",
                            p->where);
        goto bad;
    }
    *out = &p->base;
    return SG_OK;
bad:
    pg_close(&p->base);
    return rc;
}

/* ------------------------------------------------------------ transactions */

static enum sg_rc begin_as(struct pg *p, int reading, struct sg_err *err)
{
    enum sg_rc rc;
    p->nedge = 0;
    if ((rc = ensure_conn(p, err)))
        return rc;
    if (p->depth == 0) {
        forget_decision(p);
        forget_keys(p);
        p->failed = 0;
    }
    /* Not waited for: the first read or the end of the operation reads it. */
    rc = send_sql(p, p->depth ? "SAVEPOINT sg" : "BEGIN ISOLATION LEVEL READ COMMITTED",
                  p->depth ? "savepoint" : "begin", err);
    if (!rc && p->depth++ == 0)
        p->reading = reading;
    return rc;
}

static enum sg_rc pg_begin(struct sg_store *s, struct sg_err *err)
{
    return begin_as(PG(s), 0, err);
}

/*
 * A transaction that mostly reads. PostgreSQL's readers never wait for
 * writers (MVCC), so it is a plain transaction like begin()'s, but its
 * reads of a person take no row lock (see subject_get): a reader must not
 * queue behind a writer changing the same person, nor make the writer
 * queue behind it. Each statement sees what was committed when it started.
 */
static enum sg_rc pg_begin_read(struct sg_store *s, struct sg_err *err)
{
    return begin_as(PG(s), 1, err);
}

/* After a failure, ends the server's aborted state: every answer due is read
 * first (a queued command after a failure is skipped until then). Undoes the
 * savepoint, or with `top` the transaction. */
static void undo(struct pg *p, int top)
{
    /* A rolled back savepoint releases the row locks taken inside it. */
    forget_decision(p);
    forget_keys(p);
    if (p->lost || !p->conn)
        return;
    if (drain(p, NULL, NULL) && (p->lost || !p->conn))
        return;
    p->failed = 0;
    if (top ? !send_sql(p, "ROLLBACK", "rollback", NULL)
            : !send_sql(p, "ROLLBACK TO sg", "rollback", NULL) &&
                  !send_sql(p, "RELEASE sg", "rollback", NULL))
        (void)drain(p, NULL, NULL);
}

static enum sg_rc pg_commit(struct sg_store *s, struct sg_err *err)
{
    struct pg *p = PG(s);
    enum sg_rc rc;
    p->nedge = 0;
    if (p->depth == 0)
        return sg_err_set(err, SG_INTERNAL, "no transaction to commit");
    if (p->lost) {
        rc = ensure_conn(p, err);
        if (--p->depth == 0) {
            p->lost = 0;
            p->reading = 0;
        }
        return rc;
    }
    /* A write whose row count is checked (send_one) is read before the
     * release or the commit is sent: the server does not stop at it. */
    if (p->checks && (rc = drain(p, NULL, err))) {
        undo(p, p->depth == 1);
        if (--p->depth == 0) {
            p->lost = 0;
            p->reading = 0;
        }
        return rc;
    }
    if (p->depth > 1) {
        /* With every answer of the operation already read (a look-up, or
         * the checked writes just now), and none of them a failure that a
         * caller chose to pass over, the release cannot fail but with the
         * connection, and the next round trip would show that: it goes with
         * the next operation's. Else the operation learns its outcome now. */
        int due = p->nq > 0 || p->failed;
        if (!(rc = send_sql(p, "RELEASE sg", "release", err)) && due)
            rc = drain(p, NULL, err);
        if (rc)
            undo(p, 0);
        p->depth--;
        return rc;
    }
    PGresult *r = NULL;
    forget_decision(p);
    forget_keys(p);
    p->reading = 0;
    if (!(rc = send_sql(p, "COMMIT", "commit", err)))
        rc = drain(p, &r, err);
    if (!rc && r && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = sg_err_set(err, SG_CONFLICT, "the transaction was rolled back by the database");
    PQclear(r);
    if (rc == SG_UNAVAILABLE && p->lost)
        sg_err_set(err, SG_UNAVAILABLE,
                   "connection to postgresql at %s lost at commit; whether the transaction "
                   "committed is unknown",
                   p->where);
    else if (rc)
        undo(p, 1);
    p->depth = 0;
    p->lost = 0;
    return rc;
}

static void pg_rollback(struct sg_store *s)
{
    struct pg *p = PG(s);
    p->nedge = 0;
    forget_decision(p);
    forget_keys(p);
    if (p->depth == 0)
        return;
    undo(p, p->depth == 1);
    if (--p->depth == 0) {
        p->lost = 0;
        p->reading = 0;
    }
}

/* -------------------------------------------------------------- migrations */

static enum sg_rc read_version(struct pg *p, int *version, struct sg_err *err)
{
    int yes = 0;
    enum sg_rc rc = has_schema(p, &yes, err);
    *version = 0;
    if (rc || !yes)
        return rc;
    PGresult *r = NULL;
    if ((rc = send_sql(p, "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations",
                       "schema version", err)) ||
        (rc = drain(p, &r, err)))
        return rc;
    *version = (int)r_int(r, 0, 0);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_schema_version(struct sg_store *s, int *version, struct sg_err *err)
{
    struct pg *p = PG(s);
    return read_version(p, version, err);
}

static enum sg_rc newer(int have, struct sg_err *err)
{
    return sg_err_set(err, SG_CONFLICT,
                      "database schema version %d is newer than this sargs supports (%d); "
                      "upgrade sargs",
                      have, SG_SCHEMA_VERSION);
}

/*
 * Inside an open transaction, outside pipeline mode: takes the migration
 * lock, so that two nodes starting at once do not both apply a step (the
 * second waits, then finds nothing to do), and applies the missing steps.
 */
static enum sg_rc apply_steps(struct pg *p, sg_time now, int *version, struct sg_err *err)
{
    enum sg_rc rc;
    PGresult *r = NULL;
    if ((rc = simple(p, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", "migrate", NULL, err)) ||
        (rc = simple(p,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                     "name text NOT NULL, applied bigint NOT NULL)",
                     "migrate", NULL, err)) ||
        (rc = simple(p, "SELECT coalesce(max(version), 0) FROM schema_migrations", "migrate", &r,
                     err)))
        return rc;
    int have = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (have > SG_SCHEMA_VERSION)
        return newer(have, err);
    for (int i = 0; i < sg_migrations_count; i++) {
        const struct sg_migration *m = &sg_migrations[i];
        if (m->version <= have)
            continue;
        if ((rc = simple(p, m->postgres, "migrate", NULL, err)))
            return sg_err_prefix(err, "schema step %d", m->version);
        char v[16], at[24];
        snprintf(v, sizeof v, "%d", m->version);
        snprintf(at, sizeof at, "%lld", (long long)now);
        const char *vals[3] = {v, m->name, at};
        r = PQexecParams(p->conn,
                         "INSERT INTO schema_migrations (version, name, applied) "
                         "VALUES ($1, $2, $3)",
                         3, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = result_err(p, r, "migrate", err);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        have = m->version;
    }
    *version = have;
    return SG_OK;
}

static enum sg_rc pg_migrate(struct sg_store *s, sg_time now, struct sg_err *err)
{
    struct pg *p = PG(s);
    int have = 0;
    enum sg_rc rc;
    if (p->depth)
        return sg_err_set(err, SG_INTERNAL, "migrate inside a transaction");
    /* The common case changes nothing and needs no lock and no DDL right
     * (the role sargs runs as may have none). */
    if ((rc = read_version(p, &have, err)))
        return rc;
    if (have > SG_SCHEMA_VERSION)
        return newer(have, err);
    if (have == SG_SCHEMA_VERSION)
        return SG_OK;
    if ((rc = leave_pipeline(p, err)) || (rc = simple(p, "BEGIN", "migrate", NULL, err)))
        return rc;
    if ((rc = apply_steps(p, now, &have, err)) ||
        (rc = simple(p, "COMMIT", "migrate", NULL, err))) {
        if (p->conn)
            PQclear(PQexec(p->conn, "ROLLBACK"));
        return rc;
    }
    return SG_OK;
}

/* -------------------------------------------------------------------- meta */

static enum sg_rc pg_meta_get(struct sg_store *s, const char *key, char **out, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    PGresult *r = NULL;
    p_text(&a, key);
    enum sg_rc rc = read_stmt(p, ST_META_GET, &a, "meta", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = sg_err_set(err, SG_NOTFOUND, "setting '%s' is not set", key);
    else if (!(*out = strdup(r_text(r, 0, 0))))
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
    PQclear(r);
    return rc;
}

static enum sg_rc pg_meta_set(struct sg_store *s, const char *key, const char *val,
                              struct sg_err *err)
{
    struct params a = {0};
    p_text(&a, key);
    p_text(&a, val);
    return write_stmt(PG(s), ST_META_SET, &a, "meta", err);
}

/* -------------------------------------------------------------- categories */

static enum sg_rc pg_category_add(struct sg_store *s, const char *id, int *code, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    p_text(&a, id);
    /* Two nodes adding the same category at once: the second insert does
     * nothing once the first commits, and the second look-up finds it. */
    static const enum stmt_id order[] = {ST_CAT_GET, ST_CAT_ADD, ST_CAT_GET};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        PGresult *r = NULL;
        enum sg_rc rc = read_stmt(p, order[i], &a, "category", &r, err);
        if (rc)
            return rc;
        int found = PQntuples(r) == 1;
        if (found)
            *code = (int)r_int(r, 0, 0);
        PQclear(r);
        if (found)
            return SG_OK;
    }
    return sg_err_set(err, SG_CONFLICT, "category '%s' could not be registered", id);
}

static enum sg_rc pg_category_each(struct sg_store *s, sg_category_cb cb, void *ctx,
                                   struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(PG(s), ST_CAT_EACH, NULL, "categories", &r, err);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(ctx, (int)r_int(r, i, 0), r_text(r, i, 1)))
            break;
    PQclear(r);
    return SG_OK;
}

/* ---------------------------------------------------------------- subjects */

static void read_subject(const PGresult *r, int row, int first, struct sg_store_subject *out)
{
    out->state = (int)r_int(r, row, first);
    out->created = r_int(r, row, first + 1);
    out->changed = r_int(r, row, first + 2);
    out->dek_version = (uint32_t)r_int(r, row, first + 3);
    out->has_dek = 0;
    if (!PQgetisnull(r, row, first + 4)) {
        if (PQgetlength(r, row, first + 4) == SG_WRAPPED_DEK_BYTES) {
            memcpy(out->wrapped_dek, PQgetvalue(r, row, first + 4), SG_WRAPPED_DEK_BYTES);
            out->has_dek = 1;
        } else {
            out->has_dek = -1; /* present but of the wrong size: damaged */
        }
    }
}

static enum sg_rc pg_subject_insert(struct sg_store *s, const struct sg_store_subject *sub,
                                    const uint8_t *record, size_t record_len, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, &sub->id);
    p_i32(&a, sub->state);
    p_i64(&a, sub->created);
    p_i64(&a, sub->changed);
    p_i64(&a, sub->dek_version);
    p_bytes(&a, sub->has_dek == 1 ? sub->wrapped_dek : NULL, SG_WRAPPED_DEK_BYTES);
    p_bytes(&a, record, record_len);
    return write_stmt(PG(s), ST_SUBJ_INSERT, &a, "insert subject", err);
}

static enum sg_rc pg_subject_get(struct sg_store *s, const struct sg_uuid *id,
                                 struct sg_store_subject *out, struct sg_buf *record,
                                 struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    struct pg *p = PG(s);
    /* Locked only inside a transaction that writes: outside one the lock
     * would end with the statement and only make the read wait for a
     * writer (a person's session checked while a batch changes them). */
    enum stmt_id which = p->depth && !p->reading ? ST_SUBJ_GET : ST_SUBJ_GET_READ;
    enum sg_rc rc = read_stmt(p, which, &a, "read subject", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return sg_err_set(err, SG_NOTFOUND, "no such subject");
    }
    out->id = *id;
    read_subject(r, 0, 0, out);
    if (record) {
        sg_buf_reset(record);
        int n = PQgetlength(r, 0, 5);
        if (!PQgetisnull(r, 0, 5) && n > 0)
            rc = sg_buf_add(record, PQgetvalue(r, 0, 5), (size_t)n, err);
    }
    PQclear(r);
    return rc;
}

static enum sg_rc pg_subject_put_record(struct sg_store *s, const struct sg_uuid *id,
                                        const uint8_t *record, size_t record_len, sg_time changed,
                                        struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_bytes(&a, record, record_len);
    p_i64(&a, changed);
    return write_stmt(PG(s), ST_SUBJ_RECORD, &a, "write record", err);
}

static enum sg_rc pg_subject_set_state(struct sg_store *s, const struct sg_uuid *id, int state,
                                       sg_time at, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0}, b = {0};
    p_id(&a, id);
    p_i32(&a, state);
    p_i64(&a, at);
    /* ...and the copy decisions read (no row: nothing to do). */
    p_id(&b, id);
    p_i32(&b, state);
    enum sg_rc rc;
    if ((rc = write_stmt(p, ST_SUBJ_STATE, &a, "update subject", err)) ||
        (rc = write_stmt(p, ST_DECISIONS_STATE, &b, "update subject", err)))
        return rc;
    if (p->dec.valid && sg_uuid_equal(&p->dec.id, id))
        p->dec.state = state;
    return SG_OK;
}

static enum sg_rc pg_subject_list(struct sg_store *s, const struct sg_uuid *after, size_t limit,
                                  sg_subject_cb cb, void *ctx, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_i64(&a, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (after)
        p_id(&a, after);
    enum sg_rc rc = read_stmt(PG(s), after ? ST_SUBJ_LIST_AFTER : ST_SUBJ_LIST_FIRST, &a,
                              "list subjects", &r, err);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_subject sub;
        r_id(r, i, 0, &sub.id);
        read_subject(r, i, 1, &sub);
        if (cb(ctx, &sub))
            break;
    }
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_subject_set_dek(struct sg_store *s, const struct sg_uuid *id,
                                     const uint8_t wrapped[SG_WRAPPED_DEK_BYTES],
                                     struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_bytes(&a, wrapped, SG_WRAPPED_DEK_BYTES);
    return write_stmt(PG(s), ST_SUBJ_SET_DEK, &a, "update key", err);
}

/* One statement, the blind-index entries found by person: the caller
 * need not read the record (shred_by_person). With `once`, its answer is
 * checked when the operation ends (send_one): a batch of erasures costs a
 * round trip each.
 *
 * The person's row is locked by a statement of its own first, queued with
 * it. The shred's DELETEs see what was committed when it started (READ
 * COMMITTED); its UPDATE alone would wait for a writer holding the row (a
 * field added: index entry, history) and then go ahead, while the DELETEs
 * missed that writer's rows. Behind the lock, the shred starts after such
 * a writer has committed, and sees its rows. */
static enum sg_rc pg_subject_shred(struct sg_store *s, const struct sg_uuid *id, int state,
                                   sg_time at, int once, const struct sg_store_key *keys, size_t n,
                                   struct sg_err *err)
{
    (void)keys; /* the entries go by person (lookup_subject) */
    (void)n;
    struct pg *p = PG(s);
    forget_decision(p);
    struct params a = {0};
    p_id(&a, id);
    p_i32(&a, state);
    p_i64(&a, at);
    p_i32(&a, once != 0);
    struct params l = {0};
    p_id(&l, id);
    enum sg_rc rc = write_stmt(p, ST_SUBJ_LOCK, &l, "erase", err);
    if (rc)
        return rc;
    if (once)
        return send_one(p, ST_SUBJ_SHRED, &a, "erase", SG_STORE_NOBODY, err);
    return write_stmt(p, ST_SUBJ_SHRED, &a, "erase", err);
}

/* ------------------------------------------------------------ blind index */

static enum sg_rc index_op(struct sg_store *s, enum stmt_id st, int code,
                           const uint8_t bidx[SG_BIDX_BYTES], const struct sg_uuid *id,
                           struct sg_err *err)
{
    struct params a = {0};
    p_i32(&a, code);
    p_bytes(&a, bidx, SG_BIDX_BYTES);
    p_id(&a, id);
    return write_stmt(PG(s), st, &a, "index", err);
}

/* The bucket of a value: the first bits of its blind index, a keyed hash. */
static int key_bucket(const uint8_t bidx[SG_BIDX_BYTES])
{
    return bidx[0] >> 4;
}

/*
 * A person's new keys and the consents recorded against them before the
 * person existed (consent.c hands those over to a new person, asking for
 * each of its keys). An entry takes the lock of its value's bucket, shared,
 * for the rest of the transaction: nodes adding people never wait for each
 * other on it, while a consent recorded against a value takes it
 * exclusively (pg_consent_append), so the two are ordered whichever commits
 * first. The first time a transaction takes a bucket's lock it also looks
 * whether any consent is pending in the bucket, an answer that stays true
 * while it holds the lock; when none is (the common case), asking for a
 * key's pending consents costs nothing, and a person's keys cost no round
 * trip: the look comes back with the operation's next read, and a batch
 * of people looks at each of the 16 buckets once.
 */
static enum sg_rc pg_index_put(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                               const struct sg_uuid *id, struct sg_err *err)
{
    struct pg *p = PG(s);
    int b = key_bucket(bidx);
    unsigned bit = 1u << b;
    if (p->depth && !(p->keys_locked & bit)) {
        struct params k = {0}, look = {0};
        uint8_t lo = (uint8_t)(b << 4), hi[SG_BIDX_BYTES + 1];
        memset(hi, 0xff, sizeof hi);
        /* The last bucket's bound is all 0xff, longer than any value: a
         * first byte of (16 << 4) would wrap to 0 and make its range empty,
         * so that consents pending in it were never handed over. */
        if (b + 1 < KEY_BUCKETS)
            hi[0] = (uint8_t)((b + 1) << 4);
        p_i32(&k, b);
        p_bytes(&look, &lo, 1);
        /* (past the last bucket, a bound above every 16-byte value) */
        p_bytes(&look, hi, b + 1 < KEY_BUCKETS ? 1 : sizeof hi);
        enum sg_rc rc;
        if ((rc = send_stmt(p, ST_KEY_LOCK_SHARED, &k, "index", err)) ||
            (rc = send_keep(p, ST_KEY_LOOK, &look, "index", &p->keys_r[b], err)))
            return rc;
        p->keys_locked |= bit;
    }
    return index_op(s, ST_INDEX_PUT, code, bidx, id, err);
}

static enum sg_rc pg_index_del(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                               const struct sg_uuid *id, struct sg_err *err)
{
    return index_op(s, ST_INDEX_DEL, code, bidx, id, err);
}

static enum sg_rc pg_index_find(struct sg_store *s, int code, const uint8_t bidx[SG_BIDX_BYTES],
                                sg_id_cb cb, void *ctx, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_i32(&a, code);
    p_bytes(&a, bidx, SG_BIDX_BYTES);
    enum sg_rc rc = read_stmt(PG(s), ST_INDEX_FIND, &a, "look-up", &r, err);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_uuid id;
        r_id(r, i, 0, &id);
        if (cb(ctx, &id))
            break;
    }
    PQclear(r);
    return SG_OK;
}

/* ------------------------------------------------------------------ events */

static enum sg_rc pg_event_put(struct sg_store *s, const struct sg_uuid *id, const char *name,
                               sg_time at, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_text(&a, name);
    p_i64(&a, at);
    return write_stmt(PG(s), ST_EVENT_PUT, &a, "write event", err);
}

/*
 * A person's events, and in the same round trip their groups: whoever reads
 * the one reads the other next (sg_subject_get), and a round trip, not the
 * server, is what a read costs. The groups wait in the handle for a
 * members_each() of the same person; any other statement forgets them, so
 * they are never older than the events they came with.
 */
static enum sg_rc pg_events_each(struct sg_store *s, const struct sg_uuid *id, sg_event_cb cb,
                                 void *ctx, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    PGresult *r = NULL, *groups = NULL;
    p_id(&a, id);
    enum sg_rc rc;
    if (!(rc = send_keep(p, ST_EVENTS_EACH, &a, "read events", &r, err)) &&
        !(rc = send_keep(p, ST_MEMBERS_EACH, &a, "membership", &groups, err)))
        rc = drain(p, NULL, err);
    for (int i = 0; i < p->nq; i++)
        p->q[i].keep = NULL; /* (after a failure: nothing may point here) */
    if (rc || !r || !groups) {
        PQclear(r);
        PQclear(groups);
        return rc ? rc : sg_err_set(err, SG_INTERNAL, "read events: no answer");
    }
    p->groups = groups;
    p->groups_of = *id;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_event e = {r_text(r, i, 0), r_int(r, i, 1)};
        if (cb(ctx, &e))
            break;
    }
    PQclear(r);
    return SG_OK;
}

/* ----------------------------------------------------------------- history */

static enum sg_rc pg_history_append(struct sg_store *s, const struct sg_uuid *id,
                                    const struct sg_store_history *h, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_text(&a, h->category);
    p_bytes(&a, h->old_sealed, h->old_len);
    p_i64(&a, h->dek_version);
    p_bytes(&a, h->reason_sealed, h->reason_len);
    p_text(&a, h->actor);
    p_i64(&a, h->at);
    return write_stmt(PG(s), ST_HIST_APPEND, &a, "write history", err);
}

static enum sg_rc pg_history_each(struct sg_store *s, const struct sg_uuid *id, sg_history_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    enum sg_rc rc = read_stmt(PG(s), ST_HIST_EACH, &a, "read history", &r, err);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_history h;
        h.seq = r_int(r, i, 0);
        h.category = r_text(r, i, 1);
        h.old_sealed = PQgetisnull(r, i, 2) ? NULL : (const uint8_t *)PQgetvalue(r, i, 2);
        h.old_len = h.old_sealed ? (size_t)PQgetlength(r, i, 2) : 0;
        h.dek_version = (uint32_t)r_int(r, i, 3);
        h.reason_sealed = PQgetisnull(r, i, 4) ? NULL : (const uint8_t *)PQgetvalue(r, i, 4);
        h.reason_len = h.reason_sealed ? (size_t)PQgetlength(r, i, 4) : 0;
        h.actor = r_text(r, i, 5);
        h.at = r_int(r, i, 6);
        if (cb(ctx, &h))
            break;
    }
    PQclear(r);
    return SG_OK;
}

/* ------------------------------------------------------------------- audit */

/* Rows per page when reading the log: memory stays flat however long. */
#define AUDIT_PAGE 2048

static uint64_t node_id(unsigned level, uint64_t index)
{
    return sg_node_key(level, index);
}

static int64_t clamp(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/*
 * The tree needs one order, and an appender reads the size and the right
 * edge before it writes. A transaction-scoped advisory lock serialises
 * appenders across connections, processes and nodes until the transaction
 * ends, commit or rollback, and needs no privilege on the tables (LOCK
 * TABLE ... EXCLUSIVE would need UPDATE, which the app role has not). Not
 * waited for: the next read, the size, queues behind it on the server.
 */
static enum sg_rc pg_audit_lock(struct sg_store *s, struct sg_err *err)
{
    return write_stmt(PG(s), ST_AUDIT_LOCK, NULL, "audit lock", err);
}

static enum sg_rc pg_audit_size(struct sg_store *s, uint64_t *size, struct sg_err *err)
{
    struct pg *p = PG(s);
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(p, ST_AUDIT_SIZE, NULL, "audit", &r, err);
    if (rc)
        return rc;
    *size = (uint64_t)r_int(r, 0, 0);
    p->nedge = 0;
    for (int i = 0, n = PQntuples(r); p->depth && i < n && p->nedge < 64; i++) {
        if (PQgetisnull(r, i, 1) || PQgetisnull(r, i, 2) || PQgetlength(r, i, 2) != 32)
            continue; /* a missing node: audit_hash_get says so */
        unsigned level = (unsigned)r_int(r, i, 1);
        uint64_t index = level ? (*size >> (level + 1)) << 1 : *size - 1;
        p->edge[p->nedge].id = node_id(level, index);
        memcpy(p->edge[p->nedge++].hash, PQgetvalue(r, i, 2), 32);
    }
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_audit_append(struct sg_store *s, const struct sg_store_audit *a,
                                  struct sg_err *err)
{
    struct params b = {0};
    p_i64(&b, clamp(a->index));
    p_i64(&b, a->at);
    p_bytes(&b, a->pseudonym, SG_PSEUDONYM_BYTES);
    p_bytes(&b, a->leaf, a->leaf_len);
    p_bytes(&b, a->hash, 32);
    return write_stmt(PG(s), ST_AUDIT_APPEND, &b, "audit", err);
}

static enum sg_rc pg_audit_node_put(struct sg_store *s, unsigned level, uint64_t index,
                                    const uint8_t hash[32], struct sg_err *err)
{
    struct params b = {0};
    p_i64(&b, (int64_t)node_id(level, index));
    p_bytes(&b, hash, 32);
    return write_stmt(PG(s), ST_AUDIT_NODE_PUT, &b, "audit", err);
}

static enum sg_rc pg_audit_hash_get(struct sg_store *s, unsigned level, uint64_t index,
                                    uint8_t out[32], struct sg_err *err)
{
    struct pg *p = PG(s);
    uint64_t id = node_id(level, index);
    for (int i = 0; i < p->nedge; i++)
        if (p->edge[i].id == id) {
            memcpy(out, p->edge[i].hash, 32);
            return SG_OK;
        }
    struct params b = {0};
    PGresult *r = NULL;
    p_i64(&b, level ? (int64_t)id : clamp(index));
    enum sg_rc rc =
        read_stmt(p, level ? ST_AUDIT_NODE_GET : ST_AUDIT_LEAF_HASH, &b, "audit", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 32)
        memcpy(out, PQgetvalue(r, 0, 0), 32);
    else
        rc = sg_err_set(err, SG_NOTFOUND, "audit tree node %u/%llu is missing", level,
                        (unsigned long long)index);
    PQclear(r);
    return rc;
}

static enum sg_rc pg_audit_nodes_read(struct sg_store *s, uint64_t from, size_t max,
                                      struct sg_store_node *out, size_t *n, struct sg_err *err)
{
    struct params b = {0};
    PGresult *r = NULL;
    *n = 0;
    p_i64(&b, clamp(from));
    p_i64(&b, clamp(max));
    enum sg_rc rc = read_stmt(PG(s), ST_AUDIT_NODES_READ, &b, "audit", &r, err);
    if (rc)
        return rc;
    for (int i = 0, rows = PQntuples(r); i < rows && (size_t)i < max; i++) {
        struct sg_store_node *o = &out[*n];
        sg_node_unkey((uint64_t)r_int(r, i, 0), &o->level, &o->index);
        /* A damaged hash reads as zeros: the verifier finds it unequal. */
        if (PQgetlength(r, i, 1) == 32)
            memcpy(o->hash, PQgetvalue(r, i, 1), 32);
        else
            memset(o->hash, 0, 32);
        (*n)++;
    }
    PQclear(r);
    return SG_OK;
}

/* Hands the entries of a result to `cb`; 1 when it stopped. `*next` gets
 * the index after the last one seen. */
static int each_entry(const PGresult *r, sg_audit_cb cb, void *ctx, int64_t *next)
{
    for (int i = 0, rows = PQntuples(r); i < rows; i++) {
        struct sg_store_audit a;
        a.index = (uint64_t)r_int(r, i, 0);
        a.at = r_int(r, i, 1);
        a.pseudonym = PQgetlength(r, i, 2) == SG_PSEUDONYM_BYTES
                          ? (const uint8_t *)PQgetvalue(r, i, 2)
                          : NULL;
        a.leaf = (const uint8_t *)PQgetvalue(r, i, 3);
        a.leaf_len = (size_t)PQgetlength(r, i, 3);
        a.hash = PQgetlength(r, i, 4) == 32 ? (const uint8_t *)PQgetvalue(r, i, 4) : NULL;
        *next = (int64_t)a.index + 1;
        if (cb(ctx, &a))
            return 1;
    }
    return 0;
}

/* Ranges of one person's entries sent at once: one round trip for them. */
#define RANGES_PER_TRIP 32

/* One person's entries: one seek per range of the index up to the end of
 * the log, RANGES_PER_TRIP ranges per round trip. */
static enum sg_rc each_of_person(struct pg *p, int64_t from, int64_t to, const uint8_t *pseudonym,
                                 sg_time since, sg_audit_cb cb, void *ctx, struct sg_err *err)
{
    uint64_t size = 0;
    enum sg_rc rc = pg_audit_size(&p->base, &size, err);
    if (rc)
        return rc;
    if ((uint64_t)to > size)
        to = (int64_t)size;
    int stopped = 0;
    int64_t last = to > 0 ? (to - 1) >> AUDIT_RANGE_BITS : -1;
    for (int64_t b = from >> AUDIT_RANGE_BITS; from < to && b <= last && !rc && !stopped;) {
        PGresult *res[RANGES_PER_TRIP] = {0};
        int n = 0;
        for (; n < RANGES_PER_TRIP && b <= last && !rc; n++, b++) {
            struct params a = {0};
            p_i64(&a, b);
            p_bytes(&a, pseudonym, SG_PSEUDONYM_BYTES);
            p_i64(&a, from);
            p_i64(&a, to);
            p_i64(&a, since);
            rc = send_keep(p, ST_AUDIT_EACH_PERSON, &a, "audit", &res[n], err);
        }
        if (!rc)
            rc = drain(p, NULL, err);
        /* A failure has emptied the queue; make sure nothing left in it
         * points at `res`. */
        for (int i = 0; i < p->nq; i++)
            p->q[i].keep = NULL;
        int64_t next = from;
        for (int i = 0; i < n; i++) {
            if (!rc && !stopped && res[i])
                stopped = each_entry(res[i], cb, ctx, &next);
            PQclear(res[i]);
        }
    }
    return rc;
}

/*
 * Entries in index order. All of them: a page at a time, resuming after the
 * last index seen (the log only grows, so pages neither overlap nor skip),
 * so that verifying the whole log holds one page in memory. The callback
 * may call the store: a page is read in full before it runs.
 */
static enum sg_rc pg_audit_each(struct sg_store *s, uint64_t from, uint64_t to,
                                const uint8_t *pseudonym, sg_time since, sg_audit_cb cb, void *ctx,
                                struct sg_err *err)
{
    struct pg *p = PG(s);
    int64_t next = clamp(from), end = clamp(to);
    if (pseudonym)
        return each_of_person(p, next, end, pseudonym, since, cb, ctx, err);
    while (next < end) {
        struct params b = {0};
        PGresult *r = NULL;
        p_i64(&b, next);
        p_i64(&b, end);
        p_i64(&b, since);
        p_i64(&b, AUDIT_PAGE);
        enum sg_rc rc = read_stmt(p, ST_AUDIT_EACH, &b, "audit", &r, err);
        if (rc)
            return rc;
        int rows = PQntuples(r);
        int stopped = each_entry(r, cb, ctx, &next);
        PQclear(r);
        if (stopped || rows < AUDIT_PAGE)
            break;
    }
    return SG_OK;
}

/*
 * The one sanctioned change, inside the caller's transaction. The guard
 * trigger of audit_log (migration step 2) lets an UPDATE through only when
 * it empties an entry's content and nothing else, and only while the
 * transaction-local setting sargs.archiving is on. Neither DISABLE TRIGGER
 * nor session_replication_role: the first takes an ACCESS EXCLUSIVE lock on
 * the log until commit (every node's reads and appends would wait) and
 * leaves the log unguarded for this statement; the second needs a superuser
 * and lifts every trigger of every table. The setting is cleared again at
 * once and PostgreSQL drops it at the end of the transaction whatever
 * happens, so no later statement, and no other session, ever sees it.
 * Entries archived before are not rewritten again.
 */
static enum sg_rc pg_audit_archive(struct sg_store *s, uint64_t below, struct sg_err *err)
{
    struct pg *p = PG(s);
    if (p->depth == 0)
        return sg_err_set(err, SG_INTERNAL, "archiving outside a transaction");
    struct params b = {0};
    p_i64(&b, clamp(below));
    PGresult *r = NULL;
    enum sg_rc rc;
    if ((rc = send_stmt(p, ST_AUDIT_ARCHIVE_ON, NULL, "archive", err)) ||
        (rc = send_stmt(p, ST_AUDIT_ARCHIVE, &b, "archive", err)) ||
        (rc = read_stmt(p, ST_AUDIT_ARCHIVE_OFF, NULL, "archive", &r, err)))
        return rc;
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_audit_head_put(struct sg_store *s, const struct sg_store_head *h,
                                    struct sg_err *err)
{
    struct params b = {0};
    p_i64(&b, clamp(h->size));
    p_i64(&b, h->at);
    p_bytes(&b, h->root, 32);
    p_text(&b, h->note);
    return write_stmt(PG(s), ST_AUDIT_HEAD_PUT, &b, "audit", err);
}

/* Heads a page at a time: there is one per transaction that wrote. */
static enum sg_rc pg_audit_heads_each(struct sg_store *s, uint64_t from, sg_head_cb cb, void *ctx,
                                      struct sg_err *err)
{
    static const uint8_t zero[32];
    int64_t next = clamp(from);
    for (;;) {
        struct params b = {0};
        PGresult *r = NULL;
        p_i64(&b, next);
        p_i64(&b, AUDIT_PAGE);
        enum sg_rc rc = read_stmt(PG(s), ST_AUDIT_HEADS_EACH, &b, "audit", &r, err);
        if (rc)
            return rc;
        int rows = PQntuples(r), stopped = 0;
        for (int i = 0; i < rows && !stopped; i++) {
            struct sg_store_head h;
            h.size = (uint64_t)r_int(r, i, 0);
            h.at = r_int(r, i, 1);
            h.root = PQgetlength(r, i, 2) == 32 ? (const uint8_t *)PQgetvalue(r, i, 2) : zero;
            h.note = r_text(r, i, 3);
            next = (int64_t)h.size + 1;
            stopped = cb(ctx, &h);
        }
        PQclear(r);
        if (stopped || rows < AUDIT_PAGE)
            return SG_OK;
    }
}

/* ------------------------------------------------------------- memberships */

/* Runs a statement that answers with a row when it did something; `*done`
 * says whether it did. */
static enum sg_rc did(struct pg *p, enum stmt_id id, const struct params *a, const char *what,
                      int *done, struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(p, id, a, what, &r, err);
    if (rc)
        return rc;
    *done = PQntuples(r) > 0;
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_member_put(struct sg_store *s, const struct sg_uuid *id, const char *group,
                                sg_time since, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_text(&a, group);
    p_i64(&a, since);
    int done = 0;
    enum sg_rc rc = did(PG(s), ST_MEMBER_PUT, &a, "membership", &done, err);
    if (!rc && !done)
        rc = sg_err_set(err, SG_CONFLICT, "already a member of group '%.64s'", group);
    return rc;
}

static enum sg_rc pg_member_del(struct sg_store *s, const struct sg_uuid *id, const char *group,
                                struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_text(&a, group);
    int done = 0;
    enum sg_rc rc = did(PG(s), ST_MEMBER_DEL, &a, "membership", &done, err);
    if (!rc && !done)
        rc = sg_err_set(err, SG_NOTFOUND, "not a member of group '%.64s'", group);
    return rc;
}

static enum sg_rc pg_members_each(struct sg_store *s, const struct sg_uuid *id, sg_group_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct pg *p = PG(s);
    PGresult *r = NULL;
    if (p->groups && sg_uuid_equal(&p->groups_of, id)) {
        r = p->groups; /* read with the events; the callback may call us */
        p->groups = NULL;
    } else {
        struct params a = {0};
        p_id(&a, id);
        enum sg_rc rc = read_stmt(p, ST_MEMBERS_EACH, &a, "membership", &r, err);
        if (rc)
            return rc;
    }
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(ctx, r_text(r, i, 0), r_int(r, i, 1)))
            break;
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_member_shared(struct sg_store *s, const struct sg_uuid *a,
                                   const struct sg_uuid *b, int *shared, struct sg_err *err)
{
    struct params x = {0};
    p_id(&x, a);
    p_id(&x, b);
    *shared = 0;
    return did(PG(s), ST_MEMBER_SHARED, &x, "membership", shared, err);
}

/* ----------------------------------------------------------------- consent */

static void p_null(struct params *a)
{
    p_bytes(a, NULL, 0);
}

static enum sg_rc pg_consent_append(struct sg_store *s, struct sg_store_consent *c,
                                    struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    PGresult *r = NULL;
    enum sg_rc rc;
    /* Against a value: under the lock of its bucket, taken alone, and only
     * while no person has the value. A person added with it on another node
     * at the same time either committed first (the event is refused, and
     * recorded against the person when asked again), or waits for this
     * transaction and then takes the event over (pg_index_put). */
    if (!c->has_subject) {
        struct params k = {0};
        p_i32(&k, key_bucket(c->bidx));
        if ((rc = send_stmt(p, ST_KEY_LOCK, &k, "consent", err)))
            return rc;
        /* (and a look at the bucket still on its way is out of date) */
        p->keys_known |= 1u << key_bucket(c->bidx);
        p->keys_empty &= ~(1u << key_bucket(c->bidx));
    }
    if (c->has_subject) {
        p_id(&a, &c->subject);
        p_null(&a);
        p_null(&a);
    } else {
        p_null(&a);
        p_i32(&a, c->category);
        p_bytes(&a, c->bidx, SG_BIDX_BYTES);
    }
    p_text(&a, c->purpose);
    p_i32(&a, c->state);
    p_i64(&a, c->at);
    p_i32(&a, c->method);
    p_text(&a, c->lang);
    p_text(&a, c->notice);
    p_i32(&a, c->by);
    p_id(&a, c->has_guardian ? &c->guardian : NULL);
    p_i64(&a, c->expires);
    p_i32(&a, c->child);
    p_text(&a, c->actor);
    p_i64(&a, c->kv);
    p_bytes(&a, c->details, c->details_len);
    /* The caller gets the event's number: this one waits for its answer. */
    if ((rc = read_stmt(p, c->has_subject ? ST_CONSENT_APPEND : ST_CONSENT_APPEND_PENDING, &a,
                        "consent", &r, err)))
        return rc;
    if (PQntuples(r) == 1)
        c->seq = r_int(r, 0, 0);
    else if (!c->has_subject)
        rc = sg_err_set(err, SG_UNAVAILABLE,
                        "a person with this value was added at the same time; try again");
    else
        rc = sg_err_set(err, SG_INTERNAL, "consent: no number for the event");
    PQclear(r);
    return rc;
}

/* Hands the events of a result to `cb` (the store's strings live as long as
 * the result; the callback may call the store). */
static void each_consent(const PGresult *r, sg_consent_cb cb, void *ctx)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_consent c;
        memset(&c, 0, sizeof c);
        c.seq = r_int(r, i, 0);
        c.has_subject = !PQgetisnull(r, i, 1) && PQgetlength(r, i, 1) == 16;
        r_id(r, i, 1, &c.subject);
        c.category = (int)r_int(r, i, 2);
        if (PQgetlength(r, i, 3) == SG_BIDX_BYTES)
            memcpy(c.bidx, PQgetvalue(r, i, 3), SG_BIDX_BYTES);
        c.purpose = r_text(r, i, 4);
        c.state = (int)r_int(r, i, 5);
        c.at = r_int(r, i, 6);
        c.method = (int)r_int(r, i, 7);
        c.lang = r_text(r, i, 8);
        c.notice = r_text(r, i, 9);
        c.by = (int)r_int(r, i, 10);
        c.has_guardian = !PQgetisnull(r, i, 11) && PQgetlength(r, i, 11) == 16;
        r_id(r, i, 11, &c.guardian);
        c.expires = r_int(r, i, 12);
        c.child = (int)r_int(r, i, 13);
        c.actor = r_text(r, i, 14);
        c.kv = (uint32_t)r_int(r, i, 15);
        c.details = PQgetisnull(r, i, 16) ? NULL : (const uint8_t *)PQgetvalue(r, i, 16);
        c.details_len = c.details ? (size_t)PQgetlength(r, i, 16) : 0;
        if (cb(ctx, &c))
            break;
    }
}

static enum sg_rc pg_consent_each(struct sg_store *s, const struct sg_uuid *id, sg_consent_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    enum sg_rc rc = read_stmt(PG(s), ST_CONSENT_EACH, &a, "consent", &r, err);
    if (rc)
        return rc;
    each_consent(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_consent_pending(struct sg_store *s, int category,
                                     const uint8_t bidx[SG_BIDX_BYTES], sg_consent_cb cb, void *ctx,
                                     struct sg_err *err)
{
    struct pg *p = PG(s);
    PGresult *r = NULL;
    enum sg_rc rc;
    /* A bucket this transaction holds, looked at: nothing pending in it
     * (see pg_index_put), nothing to read. */
    int b = key_bucket(bidx);
    unsigned bit = 1u << b;
    if (p->depth && (p->keys_locked & bit) && !(p->keys_known & bit)) {
        if (!p->keys_r[b] && (rc = drain(p, NULL, err)))
            return rc;
        if (p->keys_r[b]) {
            p->keys_known |= bit;
            if (PQntuples(p->keys_r[b]) == 0)
                p->keys_empty |= bit;
            PQclear(p->keys_r[b]);
            p->keys_r[b] = NULL;
        }
    }
    if (p->depth && (p->keys_locked & p->keys_known & p->keys_empty & bit))
        return SG_OK;
    struct params a = {0};
    p_i32(&a, category);
    p_bytes(&a, bidx, SG_BIDX_BYTES);
    if ((rc = read_stmt(p, ST_CONSENT_PENDING, &a, "consent", &r, err)))
        return rc;
    each_consent(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_consent_link(struct sg_store *s, int category,
                                  const uint8_t bidx[SG_BIDX_BYTES], const struct sg_uuid *id,
                                  struct sg_err *err)
{
    struct params a = {0};
    p_i32(&a, category);
    p_bytes(&a, bidx, SG_BIDX_BYTES);
    p_id(&a, id);
    return write_stmt(PG(s), ST_CONSENT_LINK, &a, "consent", err);
}

static enum sg_rc pg_consent_reseal(struct sg_store *s, int64_t seq, uint32_t kv,
                                    const uint8_t *details, size_t len, struct sg_err *err)
{
    struct params a = {0};
    p_i64(&a, seq);
    p_i64(&a, kv);
    p_bytes(&a, details, len);
    return write_stmt(PG(s), ST_CONSENT_RESEAL, &a, "consent", err);
}

/*
 * A person's decision row packs every purpose, in the layout sqlite.c
 * writes (one format, so that a backup moves between the backends):
 * entries of
 *   u8 id length | id | u8 consent | u8 flags | i64le since | i64le expires
 * in no particular order.
 */
#define PS_FIXED 18

static void put_le64(uint8_t *b, int64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static int64_t get_le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return (int64_t)v;
}

/* The offset of `purpose`'s entry in a packed row, -1 when absent, -2 when
 * the row is damaged. */
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

/* Finds `purpose` in a packed row: 1 and *out filled, 0 absent, or an error
 * for a damaged row. */
static enum sg_rc ps_get(const uint8_t *b, size_t n, const char *purpose,
                         struct sg_store_pstate *out, int *found, struct sg_err *err)
{
    long off = ps_find(b, n, purpose, strlen(purpose));
    *found = 0;
    if (off == -2)
        return sg_err_set(err, SG_CRYPTO, "the decision row of a subject is damaged");
    if (off >= 0) {
        const uint8_t *f = b + off + 1 + b[off];
        out->consent = f[0];
        out->flags = f[1];
        out->since = get_le64(f + 2);
        out->expires = get_le64(f + 10);
        *found = 1;
    }
    return SG_OK;
}

/* The open transaction's copy of `id`'s decision row, or NULL. */
static const uint8_t *dec_cached(const struct pg *p, const struct sg_uuid *id)
{
    if (!p->depth || !p->dec.valid || !sg_uuid_equal(&p->dec.id, id))
        return NULL;
    return p->dec.b ? p->dec.b : (const uint8_t *)"";
}

static enum sg_rc dec_keep(struct pg *p, const struct sg_uuid *id, int state, const void *b,
                           size_t n, struct sg_err *err)
{
    if (n > p->dec.cap) {
        uint8_t *nb = realloc(p->dec.b, n);
        if (!nb) {
            forget_decision(p);
            return sg_err_set(err, SG_NOMEM, "out of memory");
        }
        p->dec.b = nb;
        p->dec.cap = n;
    }
    if (n)
        memcpy(p->dec.b, b, n);
    p->dec.n = n;
    p->dec.id = *id;
    p->dec.state = state;
    p->dec.valid = 1;
    return SG_OK;
}

/* Before a change of `id`'s purposes: their row, and the person locked for
 * the rest of the transaction (see ST_PSTATE_LOAD), into the handle's copy. */
static enum sg_rc dec_load(struct pg *p, const struct sg_uuid *id, struct sg_err *err)
{
    if (dec_cached(p, id))
        return SG_OK;
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    enum sg_rc rc = read_stmt(p, ST_PSTATE_LOAD, &a, "consent", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) != 1)
        rc = sg_err_set(err, SG_NOTFOUND, "no such subject");
    else
        rc = dec_keep(p, id, (int)r_int(r, 0, 0), PQgetvalue(r, 0, 1),
                      PQgetisnull(r, 0, 1) ? 0 : (size_t)PQgetlength(r, 0, 1), err);
    PQclear(r);
    return rc;
}

/* Reads without a lock what a decision needs: the person's state and, when
 * they have one, their decision row (`*row` NULL when not); the result is
 * the caller's to free. SG_NOTFOUND for an unknown person. */
static enum sg_rc dec_read(struct pg *p, const struct sg_uuid *id, int *state, const uint8_t **row,
                           size_t *n, PGresult **res, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    enum sg_rc rc = read_stmt(p, ST_DECIDE, &a, "decision", res, err);
    if (rc)
        return rc;
    if (PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        return SG_NOTFOUND;
    }
    *state = (int)r_int(*res, 0, 0);
    *row = PQgetisnull(*res, 0, 1) ? NULL : (const uint8_t *)PQgetvalue(*res, 0, 1);
    *n = *row ? (size_t)PQgetlength(*res, 0, 1) : 0;
    return SG_OK;
}

static enum sg_rc pg_pstate_get(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                                struct sg_store_pstate *out, struct sg_err *err)
{
    struct pg *p = PG(s);
    enum sg_rc rc;
    int found = 0;
    /* In a transaction that writes, the change comes next: lock and keep. */
    if (p->depth && !p->reading) {
        if ((rc = dec_load(p, id, err)))
            return rc == SG_NOTFOUND ? SG_NOTFOUND : rc;
        rc = ps_get(p->dec.b, p->dec.n, purpose, out, &found, err);
        return rc ? rc : found ? SG_OK : SG_NOTFOUND;
    }
    PGresult *r = NULL;
    const uint8_t *row = NULL;
    size_t n = 0;
    int state;
    if ((rc = dec_read(p, id, &state, &row, &n, &r, err)))
        return rc;
    if (row)
        rc = ps_get(row, n, purpose, out, &found, err);
    PQclear(r);
    return rc ? rc : found ? SG_OK : SG_NOTFOUND;
}

static enum sg_rc pg_pstate_put(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                                const struct sg_store_pstate *ps, struct sg_err *err)
{
    struct pg *p = PG(s);
    size_t plen = strlen(purpose);
    if (plen > 255)
        return sg_err_set(err, SG_INVALID, "purpose id too long");
    enum sg_rc rc = dec_load(p, id, err);
    if (rc)
        return rc;
    long off = ps_find(p->dec.b, p->dec.n, purpose, plen);
    if (off == -2)
        return sg_err_set(err, SG_CRYPTO, "the decision row of a subject is damaged");
    if (off < 0) {
        size_t n = p->dec.n + 1 + plen + PS_FIXED;
        if (n > p->dec.cap) {
            uint8_t *nb = realloc(p->dec.b, n);
            if (!nb) {
                forget_decision(p);
                return sg_err_set(err, SG_NOMEM, "out of memory");
            }
            p->dec.b = nb;
            p->dec.cap = n;
        }
        off = (long)p->dec.n;
        p->dec.b[off] = (uint8_t)plen;
        memcpy(p->dec.b + off + 1, purpose, plen);
        p->dec.n = n;
    }
    uint8_t *f = p->dec.b + off + 1 + plen;
    f[0] = (uint8_t)ps->consent;
    f[1] = (uint8_t)ps->flags;
    put_le64(f + 2, ps->since);
    put_le64(f + 10, ps->expires);
    struct params a = {0};
    p_id(&a, id);
    p_i32(&a, p->dec.state);
    p_bytes(&a, p->dec.b, p->dec.n);
    /* (A failure comes back through the savepoint, whose rollback forgets
     * the copy.) */
    rc = write_stmt(p, ST_PSTATE_PUT, &a, "consent", err);
    if (rc)
        forget_decision(p);
    return rc;
}

/* One round trip, one read of the decision row's key (the person's own row
 * only for those who have none); no transaction needed, no lock taken. */
static enum sg_rc pg_decide(struct sg_store *s, const struct sg_uuid *id, const char *purpose,
                            int *state, struct sg_store_pstate *ps, int *has_ps, struct sg_err *err)
{
    struct pg *p = PG(s);
    *has_ps = 0;
    const uint8_t *mine = dec_cached(p, id);
    if (mine) {
        *state = p->dec.state;
        return ps_get(mine, p->dec.n, purpose, ps, has_ps, err);
    }
    PGresult *r = NULL;
    const uint8_t *row = NULL;
    size_t n = 0;
    enum sg_rc rc = dec_read(p, id, state, &row, &n, &r, err);
    if (rc)
        return rc;
    if (row)
        rc = ps_get(row, n, purpose, ps, has_ps, err);
    PQclear(r);
    return rc;
}

/* --------------------------------------------------------------- retention */

/* Orders page rows by id. */
static int cmp_row_id(const void *a, const void *b)
{
    return memcmp(((const struct sg_store_sweep_row *)a)->id.b,
                  ((const struct sg_store_sweep_row *)b)->id.b, 16);
}

/* The row of a page (sorted by id) for person `id`, or -1. */
static long sweep_row(const struct sg_store_sweep_row *rows, size_t n, const void *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(rows[mid].id.b, id, 16);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/*
 * A page of people with their events and done marks: one statement, so one
 * round trip and one snapshot per page, however many people it holds. The
 * arrays handed out point into the result and into two allocations made
 * for the page.
 *
 * Several nodes sweep (each server's housekeeping thread, a cron job): a
 * page read to be acted on (inside a writing transaction) is read under a
 * transaction-scoped advisory lock, taken first in the same round trip and
 * held until the page's actions commit. Another sweeper's page waits for
 * it, and its scan, a statement that starts after the lock is granted,
 * sees the done marks just committed: no notice is queued, no person
 * anonymised or counted in the statistics twice. Without the lock both
 * would read the page before either marked it, and the second would act
 * again once the first released each person's row. (SQLite's single
 * writer gives the same order.)
 */
static enum sg_rc pg_sweep_scan(struct sg_store *s, const struct sg_uuid *after, size_t limit,
                                sg_sweep_cb cb, void *ctx, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    PGresult *r = NULL;
    p_i64(&a, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (after)
        p_id(&a, after);
    enum sg_rc rc = SG_OK;
    if (p->depth && !p->reading)
        rc = send_stmt(p, ST_SWEEP_LOCK, NULL, "sweep", err);
    if (!rc)
        rc = read_stmt(p, after ? ST_SWEEP_AFTER : ST_SWEEP_FIRST, &a, "sweep", &r, err);
    if (rc)
        return rc;
    int total = PQntuples(r);
    size_t n = 0, nev = 0, ndone = 0;
    for (int i = 0; i < total; i++) {
        int kind = (int)r_int(r, i, 0);
        n += kind == 0;
        nev += kind == 1;
        ndone += kind == 2;
    }
    struct sg_store_sweep_row *rows = calloc(n ? n : 1, sizeof *rows);
    struct sg_store_event *events = calloc(nev ? nev : 1, sizeof *events);
    struct sg_store_done *done = calloc(ndone ? ndone : 1, sizeof *done);
    size_t *fill = calloc(2 * (n ? n : 1), sizeof *fill);
    if (!rows || !events || !done || !fill) {
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
        goto out;
    }
    n = 0;
    for (int i = 0; i < total; i++)
        if (r_int(r, i, 0) == 0 && PQgetlength(r, i, 1) == 16) {
            r_id(r, i, 1, &rows[n].id);
            rows[n].state = (int)r_int(r, i, 2);
            rows[n].created = r_int(r, i, 3);
            n++;
        }
    qsort(rows, n, sizeof *rows, cmp_row_id);
    /* Count each person's events and marks, give each person its slice,
     * then fill the slices: every person's entries are contiguous. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < total; i++) {
            int kind = (int)r_int(r, i, 0);
            long row = kind && PQgetlength(r, i, 1) == 16 && !PQgetisnull(r, i, 4)
                           ? sweep_row(rows, n, PQgetvalue(r, i, 1))
                           : -1;
            if (row < 0)
                continue;
            if (pass == 0) {
                if (kind == 1)
                    rows[row].nevents++;
                else
                    rows[row].ndone++;
            } else if (kind == 1) {
                struct sg_store_event *e = &events[fill[2 * (size_t)row]++];
                e->name = r_text(r, i, 4);
                e->at = r_int(r, i, 5);
            } else {
                struct sg_store_done *d = &done[fill[2 * (size_t)row + 1]++];
                d->rule = r_text(r, i, 4);
                d->anchor = r_int(r, i, 5);
            }
        }
        for (size_t i = 0, e = 0, d = 0; pass == 0 && i < n; i++) {
            rows[i].events = rows[i].nevents ? &events[e] : NULL;
            rows[i].done = rows[i].ndone ? &done[d] : NULL;
            fill[2 * i] = e;
            fill[2 * i + 1] = d;
            e += rows[i].nevents;
            d += rows[i].ndone;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (cb(ctx, &rows[i]))
            break;
out:
    free(rows);
    free(events);
    free(done);
    free(fill);
    PQclear(r);
    return rc;
}

static enum sg_rc pg_sweep_done_put(struct sg_store *s, const struct sg_uuid *id, const char *rule,
                                    sg_time anchor, sg_time at, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_text(&a, rule);
    p_i64(&a, anchor);
    p_i64(&a, at);
    return write_stmt(PG(s), ST_DONE_PUT, &a, "sweep", err);
}

static enum sg_rc pg_global_event_put(struct sg_store *s, const char *name, sg_time at,
                                      struct sg_err *err)
{
    struct params a = {0};
    p_text(&a, name);
    p_i64(&a, at);
    return write_stmt(PG(s), ST_GEVENT_PUT, &a, "event", err);
}

static enum sg_rc pg_global_event_latest(struct sg_store *s, const char *name, sg_time before,
                                         sg_time *out, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_text(&a, name);
    p_i64(&a, before);
    enum sg_rc rc = read_stmt(PG(s), ST_GEVENT_LATEST, &a, "event", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        *out = r_int(r, 0, 0);
    else
        rc = SG_NOTFOUND;
    PQclear(r);
    return rc;
}

static enum sg_rc pg_stats_put(struct sg_store *s, const uint8_t id[16], const char *category,
                               const char *value, int year, struct sg_err *err)
{
    struct params a = {0};
    p_bytes(&a, id, 16);
    p_text(&a, category);
    p_text(&a, value);
    p_i32(&a, year);
    return write_stmt(PG(s), ST_STATS_PUT, &a, "statistics", err);
}

static enum sg_rc pg_stats_each(struct sg_store *s, sg_stats_cb cb, void *ctx, struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(PG(s), ST_STATS_EACH, NULL, "statistics", &r, err);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(ctx, r_text(r, i, 0), r_text(r, i, 1), (int)r_int(r, i, 2),
               (uint64_t)r_int(r, i, 3)))
            break;
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_history_del_category(struct sg_store *s, const struct sg_uuid *id,
                                          const char *category, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_text(&a, category);
    return write_stmt(PG(s), ST_HIST_DEL_CAT, &a, "history", err);
}

/* ------------------------------------------------------------------ outbox */

static enum sg_rc pg_outbox_put(struct sg_store *s, const struct sg_store_message *m,
                                struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, &m->id);
    p_id(&a, m->has_subject ? &m->subject : NULL);
    p_text(&a, m->kind);
    p_i64(&a, m->created);
    p_i64(&a, m->kv);
    p_bytes(&a, m->sealed ? m->sealed : (const uint8_t *)"", m->sealed_len);
    return write_stmt(PG(s), ST_OUTBOX_PUT, &a, "outbox", err);
}

static void each_message(const PGresult *r, sg_message_cb cb, void *ctx)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_message m;
        memset(&m, 0, sizeof m);
        if (PQgetlength(r, i, 0) != 16)
            continue;
        r_id(r, i, 0, &m.id);
        m.has_subject = !PQgetisnull(r, i, 1) && PQgetlength(r, i, 1) == 16;
        r_id(r, i, 1, &m.subject);
        m.kind = r_text(r, i, 2);
        m.created = r_int(r, i, 3);
        m.kv = (uint32_t)r_int(r, i, 4);
        m.sealed = (const uint8_t *)PQgetvalue(r, i, 5);
        m.sealed_len = (size_t)PQgetlength(r, i, 5);
        m.state = (int)r_int(r, i, 6);
        m.attempts = (int)r_int(r, i, 7);
        m.next_attempt = r_int(r, i, 8);
        m.sent = r_int(r, i, 9);
        m.error = PQgetisnull(r, i, 10) ? NULL : PQgetvalue(r, i, 10);
        if (cb(ctx, &m))
            break;
    }
}

static enum sg_rc pg_outbox_claim(struct sg_store *s, sg_time now, sg_time lease, size_t limit,
                                  sg_message_cb cb, void *ctx, sg_time *until, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_i64(&a, now);
    p_i64(&a, lease);
    p_i64(&a, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    enum sg_rc rc = read_stmt(PG(s), ST_OUTBOX_CLAIM, &a, "outbox", &r, err);
    if (rc)
        return rc;
    /* One statement, one clock reading: every row has the same mark. */
    *until = PQntuples(r) > 0 ? r_int(r, 0, PQnfields(r) - 1) : 0;
    each_message(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_outbox_update(struct sg_store *s, const struct sg_uuid *id, sg_time lease,
                                   int state, int attempts, sg_time next_attempt, sg_time sent,
                                   const char *error, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    p_i32(&a, state);
    p_i32(&a, attempts);
    p_i64(&a, next_attempt);
    p_i64(&a, sent);
    p_text(&a, error); /* NULL: none */
    p_i64(&a, lease);
    /* A read: whether the claim was still ours decides the answer. */
    enum sg_rc rc = read_stmt(PG(s), ST_OUTBOX_UPDATE, &a, "outbox", &r, err);
    if (!rc && PQntuples(r) == 0)
        rc = sg_err_set(err, SG_CONFLICT, "the claim on an outbox message ran out");
    PQclear(r);
    return rc;
}

static enum sg_rc pg_outbox_each(struct sg_store *s, int state, sg_message_cb cb, void *ctx,
                                 struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    if (state >= 0)
        p_i32(&a, state);
    enum sg_rc rc = read_stmt(PG(s), state < 0 ? ST_OUTBOX_EACH : ST_OUTBOX_EACH_STATE,
                              state < 0 ? NULL : &a, "outbox", &r, err);
    if (rc)
        return rc;
    each_message(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

/* ---------------------------------------------------------------- requests */

static enum sg_rc pg_request_put(struct sg_store *s, const struct sg_store_request *r,
                                 struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, &r->id);
    p_id(&a, r->has_subject ? &r->subject : NULL);
    p_i32(&a, r->kind);
    p_text(&a, r->channel);
    p_i32(&a, r->state);
    p_i64(&a, r->received);
    p_i64(&a, r->received_day);
    p_i64(&a, r->paused_days);
    p_i64(&a, r->paused_since);
    p_i32(&a, r->extended);
    p_i64(&a, r->due_day);
    p_text(&a, r->identity); /* NULL: none */
    p_text(&a, r->agent);    /* NULL: none */
    p_i32(&a, r->copies);
    p_i64(&a, r->closed);
    p_i64(&a, r->updated);
    return write_stmt(PG(s), ST_REQ_PUT, &a, "request", err);
}

/* Hands each row of REQ_COLS to `cb` (as sqlite.c does: a row whose id is
 * not an id is skipped); `*seen` counts those handed. */
static void each_request(const PGresult *r, sg_request_cb cb, void *ctx, int *seen)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_request x;
        memset(&x, 0, sizeof x);
        if (PQgetisnull(r, i, 0) || PQgetlength(r, i, 0) != 16)
            continue;
        r_id(r, i, 0, &x.id);
        x.has_subject = !PQgetisnull(r, i, 1) && PQgetlength(r, i, 1) == 16;
        r_id(r, i, 1, &x.subject);
        x.kind = (int)r_int(r, i, 2);
        x.channel = r_text(r, i, 3);
        x.state = (int)r_int(r, i, 4);
        x.received = r_int(r, i, 5);
        x.received_day = r_int(r, i, 6);
        x.paused_days = r_int(r, i, 7);
        x.paused_since = r_int(r, i, 8);
        x.extended = (int)r_int(r, i, 9);
        x.due_day = r_int(r, i, 10);
        x.identity = PQgetisnull(r, i, 11) ? NULL : PQgetvalue(r, i, 11);
        x.agent = PQgetisnull(r, i, 12) ? NULL : PQgetvalue(r, i, 12);
        x.copies = (int)r_int(r, i, 13);
        x.closed = r_int(r, i, 14);
        x.updated = r_int(r, i, 15);
        (*seen)++;
        if (cb(ctx, &x))
            break;
    }
}

static enum sg_rc pg_request_get(struct sg_store *s, const struct sg_uuid *id, sg_request_cb cb,
                                 void *ctx, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    /* Locked only where it is read to be changed: inside a transaction
     * that writes (see ST_REQ_GET_LOCK). */
    enum stmt_id which = p->depth && !p->reading ? ST_REQ_GET_LOCK : ST_REQ_GET;
    enum sg_rc rc = read_stmt(p, which, &a, "request", &r, err);
    if (rc)
        return rc;
    int seen = 0;
    each_request(r, cb, ctx, &seen);
    PQclear(r);
    return seen ? SG_OK : sg_err_set(err, SG_NOTFOUND, "no such request");
}

static enum sg_rc pg_request_each(struct sg_store *s, const struct sg_request_filter *f,
                                  sg_request_cb cb, void *ctx, struct sg_err *err)
{
    if (!f->has_subject && !f->open_only && f->changed_after <= 0)
        return sg_err_set(err, SG_INVALID, "list open requests, one person's or changed ones");
    enum stmt_id which = f->has_subject         ? ST_REQ_SUBJECT
                         : f->changed_after > 0 ? ST_REQ_CHANGED
                         : f->due_before        ? ST_REQ_OPEN_BEFORE
                                                : ST_REQ_OPEN;
    struct params a = {0};
    PGresult *r = NULL;
    p_i64(&a, f->limit && f->limit <= INT64_MAX ? (int64_t)f->limit : INT64_MAX);
    if (which == ST_REQ_SUBJECT)
        p_id(&a, &f->subject);
    else if (which == ST_REQ_OPEN_BEFORE)
        p_i64(&a, f->due_before);
    else if (which == ST_REQ_CHANGED)
        p_i64(&a, f->changed_after);
    enum sg_rc rc = read_stmt(PG(s), which, &a, "request", &r, err);
    if (rc)
        return rc;
    int seen = 0;
    each_request(r, cb, ctx, &seen);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_request_event_append(struct sg_store *s, const struct sg_uuid *request,
                                          const struct sg_store_request_event *e,
                                          struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, request);
    p_i64(&a, e->at);
    p_text(&a, e->actor);
    p_text(&a, e->verb);
    p_i32(&a, e->state);
    p_bytes(&a, e->reason, e->reason_len); /* NULL: none */
    return write_stmt(PG(s), ST_REQ_EV_PUT, &a, "request", err);
}

static enum sg_rc pg_request_events_each(struct sg_store *s, const struct sg_uuid *request,
                                         sg_request_event_cb cb, void *ctx, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, request);
    enum sg_rc rc = read_stmt(PG(s), ST_REQ_EV_EACH, &a, "request", &r, err);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_request_event e;
        if (PQgetisnull(r, i, 2) || PQgetisnull(r, i, 3))
            continue;
        e.seq = r_int(r, i, 0);
        e.at = r_int(r, i, 1);
        e.actor = PQgetvalue(r, i, 2);
        e.verb = PQgetvalue(r, i, 3);
        e.state = (int)r_int(r, i, 4);
        /* An empty reason reads as none, as SQLite gives no pointer for an
         * empty blob. */
        e.reason_len = PQgetisnull(r, i, 5) ? 0 : (size_t)PQgetlength(r, i, 5);
        e.reason = e.reason_len ? (const uint8_t *)PQgetvalue(r, i, 5) : NULL;
        if (cb(ctx, &e))
            break;
    }
    PQclear(r);
    return SG_OK;
}

/* ------------------------------------------------------------ sign-in codes */

static enum sg_rc pg_code_lock(struct sg_store *s, const struct sg_uuid *id,
                               struct sg_store_code *c, struct sg_err *err)
{
    struct pg *p = PG(s);
    struct params a = {0};
    PGresult *r = NULL;
    p_id(&a, id);
    enum sg_rc rc = write_stmt(p, ST_CODE_LOCK, &a, "code", err);
    if (rc)
        return rc;
    memset(&a, 0, sizeof a);
    p_id(&a, id);
    if ((rc = read_stmt(p, ST_CODE_GET_LOCK, &a, "code", &r, err)))
        return rc;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) && PQgetlength(r, 0, 0) == 32) {
        memcpy(c->hash, PQgetvalue(r, 0, 0), 32);
        c->expires = r_int(r, 0, 1);
        c->attempts = (int)r_int(r, 0, 2);
        c->sent = r_int(r, 0, 3);
        c->day_start = r_int(r, 0, 4);
        c->day_sends = (int)r_int(r, 0, 5);
        c->day_fails = (int)r_int(r, 0, 6);
    } else {
        rc = sg_err_set(err, SG_INTERNAL, "a sign-in code row vanished");
    }
    PQclear(r);
    return rc;
}

static enum sg_rc pg_code_put(struct sg_store *s, const struct sg_uuid *id,
                              const struct sg_store_code *c, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    p_bytes(&a, c->hash, 32);
    p_i64(&a, c->expires);
    p_i32(&a, c->attempts);
    p_i64(&a, c->sent);
    p_i64(&a, c->day_start);
    p_i32(&a, c->day_sends);
    p_i32(&a, c->day_fails);
    return write_stmt(PG(s), ST_CODE_PUT, &a, "code", err);
}

static enum sg_rc pg_code_del(struct sg_store *s, const struct sg_uuid *id, struct sg_err *err)
{
    struct params a = {0};
    p_id(&a, id);
    return write_stmt(PG(s), ST_CODE_DEL, &a, "code", err);
}

/* --------------------------------------------------------------- operators */

static void op_params(struct params *a, const struct sg_store_operator *o)
{
    p_text(a, o->login);
    p_text(a, o->role);
    p_text(a, o->purpose);
    p_text(a, o->scope); /* NULL: none */
    p_text(a, o->hash);
    p_i64(a, o->created);
    p_i64(a, o->password_changed);
    p_i32(a, o->failures);
    p_i64(a, o->locked_until);
    p_i32(a, o->disabled);
}

static enum sg_rc pg_operator_insert(struct sg_store *s, const struct sg_store_operator *o,
                                     struct sg_err *err)
{
    struct params a = {0};
    op_params(&a, o);
    int done = 0;
    enum sg_rc rc = did(PG(s), ST_OP_INSERT, &a, "operator", &done, err);
    if (!rc && !done)
        rc = sg_err_set(err, SG_CONFLICT, "operator '%.64s' exists", o->login);
    return rc;
}

static enum sg_rc pg_operator_put(struct sg_store *s, const struct sg_store_operator *o,
                                  struct sg_err *err)
{
    struct params a = {0};
    op_params(&a, o);
    return write_stmt(PG(s), ST_OP_PUT, &a, "operator", err);
}

/* Hands the operators of a result to `cb`. */
static void each_operator(const PGresult *r, sg_operator_cb cb, void *ctx)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_operator o;
        o.login = r_text(r, i, 0);
        o.role = r_text(r, i, 1);
        o.purpose = r_text(r, i, 2);
        o.scope = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3);
        o.hash = r_text(r, i, 4);
        o.created = r_int(r, i, 5);
        o.password_changed = r_int(r, i, 6);
        o.failures = (int)r_int(r, i, 7);
        o.locked_until = r_int(r, i, 8);
        o.disabled = (int)r_int(r, i, 9);
        if (cb(ctx, &o))
            break;
    }
}

static enum sg_rc pg_operator_get(struct sg_store *s, const char *login, sg_operator_cb cb,
                                  void *ctx, struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_text(&a, login);
    enum sg_rc rc = read_stmt(PG(s), ST_OP_GET, &a, "operator", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = SG_NOTFOUND;
    else
        each_operator(r, cb, ctx);
    PQclear(r);
    return rc;
}

static enum sg_rc pg_operator_each(struct sg_store *s, sg_operator_cb cb, void *ctx,
                                   struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(PG(s), ST_OP_EACH, NULL, "operator", &r, err);
    if (rc)
        return rc;
    each_operator(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_session_put(struct sg_store *s, const struct sg_store_session *ss,
                                 struct sg_err *err)
{
    struct params a = {0};
    p_bytes(&a, ss->hash, 32);
    p_text(&a, ss->login);
    p_i64(&a, ss->created);
    p_i64(&a, ss->expires);
    p_i64(&a, ss->seen);
    return write_stmt(PG(s), ST_SESS_PUT, &a, "session", err);
}

static enum sg_rc pg_session_get(struct sg_store *s, const uint8_t hash[32],
                                 struct sg_store_session *out, char *login, size_t cap,
                                 struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_bytes(&a, hash, 32);
    enum sg_rc rc = read_stmt(PG(s), ST_SESS_GET, &a, "session", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 1) {
        snprintf(login, cap, "%s", r_text(r, 0, 0));
        memcpy(out->hash, hash, 32);
        out->login = login;
        out->created = r_int(r, 0, 1);
        out->expires = r_int(r, 0, 2);
        out->seen = r_int(r, 0, 3);
    } else {
        rc = SG_NOTFOUND;
    }
    PQclear(r);
    return rc;
}

static enum sg_rc by_hash(struct sg_store *s, enum stmt_id st, const uint8_t hash[32],
                          const sg_time *at, struct sg_err *err)
{
    struct params a = {0};
    p_bytes(&a, hash, 32);
    if (at)
        p_i64(&a, *at);
    return write_stmt(PG(s), st, &a, "session", err);
}

static enum sg_rc pg_session_seen(struct sg_store *s, const uint8_t hash[32], sg_time seen,
                                  struct sg_err *err)
{
    return by_hash(s, ST_SESS_SEEN, hash, &seen, err);
}

static enum sg_rc pg_session_del(struct sg_store *s, const uint8_t hash[32], struct sg_err *err)
{
    return by_hash(s, ST_SESS_DEL, hash, NULL, err);
}

static enum sg_rc pg_session_del_login(struct sg_store *s, const char *login, struct sg_err *err)
{
    struct params a = {0};
    p_text(&a, login);
    return write_stmt(PG(s), ST_SESS_DEL_LOGIN, &a, "session", err);
}

static enum sg_rc pg_session_purge(struct sg_store *s, sg_time now, struct sg_err *err)
{
    struct params a = {0};
    p_i64(&a, now);
    return write_stmt(PG(s), ST_SESS_PURGE, &a, "session", err);
}

/* ------------------------------------------------------------------ tokens */

static enum sg_rc pg_token_put(struct sg_store *s, const struct sg_store_token *t,
                               struct sg_err *err)
{
    struct params a = {0};
    p_text(&a, t->id);
    p_text(&a, t->name);
    p_text(&a, t->role);
    p_text(&a, t->purpose);
    p_bytes(&a, t->hash, 32);
    p_i64(&a, t->created);
    p_text(&a, t->scope); /* NULL: none */
    return write_stmt(PG(s), ST_TOKEN_PUT, &a, "token", err);
}

/* Hands the tokens of a result to `cb`. */
static void each_token(const PGresult *r, sg_token_cb cb, void *ctx)
{
    static const uint8_t zero[32];
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct sg_store_token t;
        t.id = r_text(r, i, 0);
        t.name = r_text(r, i, 1);
        t.role = r_text(r, i, 2);
        t.purpose = r_text(r, i, 3);
        t.hash = PQgetlength(r, i, 4) == 32 ? (const uint8_t *)PQgetvalue(r, i, 4) : zero;
        t.created = r_int(r, i, 5);
        t.revoked = r_int(r, i, 6);
        t.scope = PQgetisnull(r, i, 7) ? NULL : PQgetvalue(r, i, 7);
        if (cb(ctx, &t))
            break;
    }
}

static enum sg_rc pg_token_get(struct sg_store *s, const char *id, sg_token_cb cb, void *ctx,
                               struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_text(&a, id);
    enum sg_rc rc = read_stmt(PG(s), ST_TOKEN_GET, &a, "token", &r, err);
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = sg_err_set(err, SG_NOTFOUND, "no such token");
    else
        each_token(r, cb, ctx);
    PQclear(r);
    return rc;
}

static enum sg_rc pg_token_each(struct sg_store *s, sg_token_cb cb, void *ctx, struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(PG(s), ST_TOKEN_EACH, NULL, "token", &r, err);
    if (rc)
        return rc;
    each_token(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

static enum sg_rc pg_token_revoke(struct sg_store *s, const char *id, sg_time at,
                                  struct sg_err *err)
{
    struct params a = {0};
    p_text(&a, id);
    p_i64(&a, at);
    int done = 0;
    enum sg_rc rc = did(PG(s), ST_TOKEN_REVOKE, &a, "token", &done, err);
    if (!rc && !done)
        rc = sg_err_set(err, SG_CONFLICT, "token %s is unknown or already revoked", id);
    return rc;
}

/* ---------------------------------------------------------------- policies */

static enum sg_rc pg_policy_add(struct sg_store *s, const struct sg_store_policy *pol, int64_t *seq,
                                struct sg_err *err)
{
    if (pol->len > INT32_MAX)
        return sg_err_set(err, SG_TOOBIG, "policy text too large");
    struct params a = {0};
    PGresult *r = NULL;
    p_text(&a, pol->hash);
    p_i64(&a, pol->effective);
    p_i64(&a, pol->applied);
    p_text(&a, pol->actor);
    p_bytes(&a, pol->text ? pol->text : "", pol->len);
    enum sg_rc rc = read_stmt(PG(s), ST_POLICY_ADD, &a, "record policy", &r, err);
    if (rc)
        return rc;
    if (seq)
        *seq = PQntuples(r) == 1 ? r_int(r, 0, 0) : 0;
    PQclear(r);
    return SG_OK;
}

/* Hands the versions of a result to `cb`; how many there were. */
static int each_policy(const PGresult *r, sg_policy_cb cb, void *ctx)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct sg_store_policy pol;
        pol.seq = r_int(r, i, 0);
        pol.hash = r_text(r, i, 1);
        pol.effective = r_int(r, i, 2);
        pol.applied = r_int(r, i, 3);
        pol.actor = r_text(r, i, 4);
        /* libpq ends every value with a NUL byte, so the text is a string
         * too, as the policy loader may take it. */
        pol.text = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
        pol.len = pol.text ? (size_t)PQgetlength(r, i, 5) : 0;
        if (cb(ctx, &pol))
            break;
    }
    return n;
}

static enum sg_rc pg_policy_at(struct sg_store *s, sg_time at, sg_policy_cb cb, void *ctx,
                               struct sg_err *err)
{
    struct params a = {0};
    PGresult *r = NULL;
    p_i64(&a, at);
    enum sg_rc rc = read_stmt(PG(s), ST_POLICY_AT, &a, "read policy", &r, err);
    if (rc)
        return rc;
    if (each_policy(r, cb, ctx) == 0)
        rc = sg_err_set(err, SG_NOTFOUND, "no policy version was in force then");
    PQclear(r);
    return rc;
}

static enum sg_rc pg_policy_each(struct sg_store *s, int with_text, sg_policy_cb cb, void *ctx,
                                 struct sg_err *err)
{
    PGresult *r = NULL;
    enum sg_rc rc = read_stmt(PG(s), with_text ? ST_POLICY_EACH_TEXT : ST_POLICY_EACH, NULL,
                              "read policy", &r, err);
    if (rc)
        return rc;
    each_policy(r, cb, ctx);
    PQclear(r);
    return SG_OK;
}

/* ---------------------------------------------------------- backup/restore */

/*
 * A backup is a SQLite database file of the sargs schema, whichever backend
 * wrote it: the vault's restore logic (backup.c) works on it unchanged,
 * one format serves both backends, and an operator can move a vault from
 * SQLite to PostgreSQL and back with backup and restore.
 */

static enum sg_rc sq_fail(sqlite3 *db, const char *what, struct sg_err *err)
{
    return sg_err_set(err, SG_IO, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Copies the rows of a PostgreSQL result into a prepared SQLite insert. */
static enum sg_rc copy_rows_out(const PGresult *r, const char *types, sqlite3 *db,
                                sqlite3_stmt *ins, struct sg_err *err)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        for (int c = 0; types[c]; c++) {
            if (PQgetisnull(r, i, c))
                continue; /* left unbound: NULL */
            const char *v = PQgetvalue(r, i, c);
            int len = PQgetlength(r, i, c);
            if (types[c] == 'i')
                sqlite3_bind_int64(ins, c + 1, r_int(r, i, c));
            else if (types[c] == 't')
                sqlite3_bind_text(ins, c + 1, v, len, SQLITE_STATIC);
            else
                sqlite3_bind_blob(ins, c + 1, v, len, SQLITE_STATIC);
        }
        int rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        if (rc != SQLITE_DONE)
            return sq_fail(db, "backup", err);
    }
    return SG_OK;
}

/* Streams one table through a cursor (the snapshot is the transaction's). */
static enum sg_rc copy_table_out(struct pg *p, const struct sg_table *t, sqlite3 *db,
                                 struct sg_err *err)
{
    char sql[1024], ins_sql[1024], sel[512] = "";
    size_t ncol = strlen(t->types);
    /* Integers of every width come back as int8. */
    const char *c = t->columns;
    for (size_t i = 0; i < ncol; i++) {
        size_t n = strcspn(c, ",");
        size_t at = strlen(sel);
        snprintf(sel + at, sizeof sel - at, "%s%.*s%s", i ? ", " : "", (int)n, c,
                 t->types[i] == 'i' ? "::int8" : "");
        c += n;
        c += strspn(c, ", ");
    }
    char marks[128] = "";
    for (size_t i = 0; i < ncol; i++)
        strcat(marks, i ? ", ?" : "?");
    snprintf(ins_sql, sizeof ins_sql, "INSERT INTO %s (%s) VALUES (%s)", t->name, t->columns,
             marks);
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(db, ins_sql, -1, &ins, NULL) != SQLITE_OK)
        return sq_fail(db, "backup", err);
    enum sg_rc rc;
    snprintf(sql, sizeof sql, "DECLARE sg_copy NO SCROLL CURSOR FOR SELECT %s FROM %s", sel,
             t->name);
    if ((rc = send_sql(p, sql, "backup", err)) || (rc = drain(p, NULL, err)))
        goto out;
    for (;;) {
        PGresult *r = NULL;
        if ((rc = send_sql(p, "FETCH 2000 FROM sg_copy", "backup", err)) ||
            (rc = drain(p, &r, err)))
            goto out;
        int n = PQntuples(r);
        rc = copy_rows_out(r, t->types, db, ins, err);
        PQclear(r);
        if (rc || n == 0)
            break;
    }
    if (!rc && !(rc = send_sql(p, "CLOSE sg_copy", "backup", err)))
        rc = drain(p, NULL, err);
out:
    sqlite3_finalize(ins);
    return rc;
}

static enum sg_rc pg_backup(struct sg_store *s, const char *path, struct sg_err *err)
{
    struct pg *p = PG(s);
    if (p->depth)
        return sg_err_set(err, SG_INTERNAL, "backup inside a transaction");
    int version = 0;
    enum sg_rc rc;
    if ((rc = read_version(p, &version, err)))
        return rc;
    if (version != SG_SCHEMA_VERSION)
        return sg_err_set(err, SG_CONFLICT,
                          "database schema version %d is not this sargs's (%d); open the vault "
                          "once to migrate it",
                          version, SG_SCHEMA_VERSION);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return sg_err_set(err, SG_CONFLICT, "'%s' already exists; not overwriting it", path);
        return sg_err_set(err, SG_IO, "cannot create '%s': %s", path, strerror(errno));
    }
    close(fd);
    sqlite3 *db = NULL;
    int in_pg = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = sq_fail(db, "backup", err);
        goto out;
    }
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=DELETE; BEGIN;"
                     "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                     "NULL, applied INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = sq_fail(db, "backup", err);
        goto out;
    }
    for (int i = 0; i < sg_migrations_count; i++)
        if (sqlite3_exec(db, sg_migrations[i].sqlite, NULL, NULL, NULL) != SQLITE_OK) {
            rc = sq_fail(db, "backup", err);
            goto out;
        }
    /* One snapshot for every table: the copy is consistent while the other
     * nodes keep writing. */
    if ((rc = ensure_conn(p, err)) ||
        (rc = send_sql(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "backup", err)))
        goto out;
    in_pg = 1;
    static const struct sg_table versions = {"schema_migrations", "version, name, applied", "iti",
                                             NULL, 0};
    if ((rc = copy_table_out(p, &versions, db, err)))
        goto out;
    for (int i = 0; i < sg_tables_count; i++)
        if ((rc = copy_table_out(p, &sg_tables[i], db, err)))
            goto out;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sq_fail(db, "backup", err);
out:
    if (in_pg && p->conn) {
        /* Read only: ending it either way changes nothing. */
        if (!send_sql(p, "ROLLBACK", "backup", NULL))
            (void)drain(p, NULL, NULL);
    }
    sqlite3_close_v2(db);
    if (rc)
        unlink(path);
    return rc;
}

/* COPY text format: backslash escapes, \N for NULL, bytea as \\x<hex>. */
static enum sg_rc copy_field(struct sg_buf *b, sqlite3_stmt *st, int c, char type,
                             const char *table, struct sg_err *err)
{
    static const char hex[] = "0123456789abcdef";
    if (sqlite3_column_type(st, c) == SQLITE_NULL)
        return sg_buf_adds(b, "\\N", err);
    if (type == 'i')
        return sg_buf_addf(b, err, "%lld", (long long)sqlite3_column_int64(st, c));
    if (type == 'u') {
        const void *v = sqlite3_column_blob(st, c);
        if (sqlite3_column_bytes(st, c) != 16 || !v)
            return sg_err_set(err, SG_IO, "restore: a damaged id in table '%s'", table);
        struct sg_uuid id;
        char s[SG_UUID_STR_LEN + 1];
        memcpy(id.b, v, 16);
        return sg_buf_adds(b, sg_uuid_format(&id, s), err);
    }
    enum sg_rc rc = SG_OK;
    if (type == 'b') {
        const uint8_t *v = sqlite3_column_blob(st, c);
        int n = sqlite3_column_bytes(st, c);
        rc = sg_buf_adds(b, "\\\\x", err);
        for (int i = 0; i < n && !rc; i++) {
            char two[2] = {hex[v[i] >> 4], hex[v[i] & 15]};
            rc = sg_buf_add(b, two, 2, err);
        }
        return rc;
    }
    const unsigned char *v = sqlite3_column_text(st, c);
    int n = sqlite3_column_bytes(st, c);
    for (int i = 0; i < n && !rc; i++) {
        const char *esc = v[i] == '\\'   ? "\\\\"
                          : v[i] == '\n' ? "\\n"
                          : v[i] == '\r' ? "\\r"
                          : v[i] == '\t' ? "\\t"
                                         : NULL;
        rc = esc ? sg_buf_adds(b, esc, err) : sg_buf_add(b, &v[i], 1, err);
    }
    return rc;
}

/* Loads one table of the SQLite file with COPY (outside pipeline mode). */
static enum sg_rc copy_table_in(struct pg *p, const struct sg_table *t, sqlite3 *db,
                                struct sg_err *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s", t->columns, t->name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, "restore", err);
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", t->name, t->columns);
    PGresult *r = PQexec(p->conn, sql);
    enum sg_rc rc = SG_OK;
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = result_err(p, r, "restore", err);
        PQclear(r);
        sqlite3_finalize(st);
        return rc;
    }
    PQclear(r);
    struct sg_buf b;
    sg_buf_init(&b, (size_t)1 << 30);
    int step;
    const char *abort_msg = NULL;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && !rc) {
        for (int c = 0; t->types[c] && !rc; c++) {
            if (c)
                rc = sg_buf_add(&b, "\t", 1, err);
            if (!rc)
                rc = copy_field(&b, st, c, t->types[c], t->name, err);
        }
        if (!rc)
            rc = sg_buf_add(&b, "\n", 1, err);
        if (!rc && b.len >= 256 * 1024) {
            if (PQputCopyData(p->conn, b.ptr, (int)b.len) != 1)
                rc = lost_err(p, "restore", PQerrorMessage(p->conn), err);
            sg_buf_reset(&b);
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = sq_fail(db, "restore", err);
    if (!rc && b.len && PQputCopyData(p->conn, b.ptr, (int)b.len) != 1)
        rc = lost_err(p, "restore", PQerrorMessage(p->conn), err);
    if (rc)
        abort_msg = "restore failed";
    sg_buf_release(&b);
    sqlite3_finalize(st);
    if (PQputCopyEnd(p->conn, abort_msg) != 1 && !rc)
        rc = lost_err(p, "restore", PQerrorMessage(p->conn), err);
    while ((r = PQgetResult(p->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc)
            rc = result_err(p, r, "restore", err);
        PQclear(r);
        if (!p->conn)
            break;
    }
    return rc;
}

static enum sg_rc pg_restore(struct sg_store *s, const char *path, struct sg_err *err)
{
    struct pg *p = PG(s);
    if (p->depth)
        return sg_err_set(err, SG_INTERNAL, "restore inside a transaction");
    forget_keys(p);
    forget_decision(p);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close_v2(db);
        return sg_err_set(err, SG_IO, "cannot open '%s'", path);
    }
    enum sg_rc rc;
    int theirs = 0, ours = 0, began = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        rc = sg_err_set(err, SG_INVALID, "'%s' is not a sargs database", path);
        goto out;
    }
    theirs = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    /* The vault brings a backup to the current schema before it gets here. */
    if (theirs != SG_SCHEMA_VERSION) {
        rc = sg_err_set(err, SG_CONFLICT, "'%s' has schema version %d, this sargs writes %d", path,
                        theirs, SG_SCHEMA_VERSION);
        goto out;
    }
    if ((rc = ensure_conn(p, err)) || (rc = leave_pipeline(p, err)) ||
        (rc = simple(p, "BEGIN", "restore", NULL, err)))
        goto out;
    began = 1;
    /* The schema may be missing (a database lost and made anew). The whole
     * content is replaced in this one transaction: another node sees the
     * old data or the new, never a mixture. */
    if ((rc = apply_steps(p, sg_clock_now(NULL), &ours, err)))
        goto out;
    /* What must outlive a restore stays (store.h) when the live one has
     * rows: the audit log (under the audit lock, so that no node appends to
     * it between the look and the copy) with its archive mark, the policy
     * versions and the tokens. Otherwise the backup's is taken. */
    if ((rc = simple(p, "SELECT pg_advisory_xact_lock(" AUDIT_LOCK ")", "restore", NULL, err)))
        goto out;
    int keep[MAX_TABLES] = {0};
    if (sg_tables_count > MAX_TABLES) {
        rc = sg_err_set(err, SG_INTERNAL, "restore: too many tables");
        goto out;
    }
    for (int i = 0; i < sg_tables_count && !rc; i++) {
        const struct sg_table *t = &sg_tables[i];
        if (t->keep == SG_KEEP_NONE)
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s)",
                 t->keep == SG_KEEP_AUDIT ? "audit_log" : t->name);
        PGresult *r = NULL;
        if (!(rc = simple(p, sql, "restore", &r, err)))
            keep[i] = PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
    }
    int keep_audit = 0;
    for (int i = 0; i < sg_tables_count; i++)
        keep_audit |= sg_tables[i].keep == SG_KEEP_AUDIT && keep[i];
    /* The archive boundary belongs to the log, not to the rest of meta. */
    PGresult *mark = NULL;
    if (!rc && keep_audit) {
        const char *k[1] = {META_AUDIT_ARCHIVED};
        mark = PQexecParams(p->conn, "SELECT value FROM meta WHERE key = $1", 1, NULL, k, NULL,
                            NULL, 0);
        if (PQresultStatus(mark) != PGRES_TUPLES_OK)
            rc = result_err(p, mark, "restore", err);
    }
    char trunc[512] = "TRUNCATE ";
    for (int i = 0, n = 0; i < sg_tables_count; i++)
        if (sg_tables[i].keep == SG_KEEP_NONE) {
            size_t at = strlen(trunc);
            snprintf(trunc + at, sizeof trunc - at, "%s%s", n++ ? ", " : "", sg_tables[i].name);
        }
    if (!rc)
        rc = simple(p, trunc, "restore", NULL, err);
    for (int i = 0; i < sg_tables_count && !rc; i++)
        if (!keep[i])
            rc = copy_table_in(p, &sg_tables[i], db, err);
    if (!rc && keep_audit) {
        int had = PQntuples(mark) == 1;
        const char *v[2] = {META_AUDIT_ARCHIVED, had ? PQgetvalue(mark, 0, 0) : NULL};
        PGresult *r = PQexecParams(p->conn,
                                   had ? "INSERT INTO meta (key, value) VALUES ($1, $2) "
                                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                                       : "DELETE FROM meta WHERE key = $1",
                                   had ? 2 : 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = result_err(p, r, "restore", err);
        PQclear(r);
    }
    PQclear(mark);
    for (int i = 0; i < sg_tables_count && !rc; i++) {
        const struct sg_table *t = &sg_tables[i];
        if (!t->serial)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
                 "coalesce((SELECT max(%s) FROM %s), 0) + 1, false)",
                 t->name, t->serial, t->serial, t->name);
        rc = simple(p, sql, "restore", NULL, err);
    }
    if (!rc) {
        began = 0;
        rc = simple(p, "COMMIT", "restore", NULL, err);
    }
out:
    if (began && p->conn)
        PQclear(PQexec(p->conn, "ROLLBACK"));
    sqlite3_close_v2(db);
    return rc;
}

const struct sg_store_ops sg_store_postgres = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .schema_version = pg_schema_version,
    .begin = pg_begin,
    .begin_read = pg_begin_read,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .category_add = pg_category_add,
    .category_each = pg_category_each,
    .subject_insert = pg_subject_insert,
    .subject_get = pg_subject_get,
    .subject_put_record = pg_subject_put_record,
    .subject_set_state = pg_subject_set_state,
    .subject_list = pg_subject_list,
    .subject_set_dek = pg_subject_set_dek,
    .subject_shred = pg_subject_shred,
    .shred_by_person = 1,
    .index_put = pg_index_put,
    .index_del = pg_index_del,
    .index_find = pg_index_find,
    .event_put = pg_event_put,
    .events_each = pg_events_each,
    .history_append = pg_history_append,
    .history_each = pg_history_each,
    .audit_lock = pg_audit_lock,
    .audit_size = pg_audit_size,
    .audit_append = pg_audit_append,
    .audit_node_put = pg_audit_node_put,
    .audit_hash_get = pg_audit_hash_get,
    .audit_nodes_read = pg_audit_nodes_read,
    .audit_each = pg_audit_each,
    .audit_archive = pg_audit_archive,
    .audit_head_put = pg_audit_head_put,
    .audit_heads_each = pg_audit_heads_each,
    .member_put = pg_member_put,
    .member_del = pg_member_del,
    .members_each = pg_members_each,
    .member_shared = pg_member_shared,
    .token_put = pg_token_put,
    .token_get = pg_token_get,
    .token_each = pg_token_each,
    .token_revoke = pg_token_revoke,
    .policy_add = pg_policy_add,
    .policy_at = pg_policy_at,
    .policy_each = pg_policy_each,
    .consent_append = pg_consent_append,
    .consent_each = pg_consent_each,
    .consent_pending = pg_consent_pending,
    .consent_link = pg_consent_link,
    .consent_reseal = pg_consent_reseal,
    .pstate_get = pg_pstate_get,
    .pstate_put = pg_pstate_put,
    .decide = pg_decide,
    .sweep_scan = pg_sweep_scan,
    .sweep_done_put = pg_sweep_done_put,
    .global_event_put = pg_global_event_put,
    .global_event_latest = pg_global_event_latest,
    .stats_put = pg_stats_put,
    .stats_each = pg_stats_each,
    .history_del_category = pg_history_del_category,
    .outbox_put = pg_outbox_put,
    .outbox_claim = pg_outbox_claim,
    .outbox_update = pg_outbox_update,
    .outbox_each = pg_outbox_each,
    .code_lock = pg_code_lock,
    .code_put = pg_code_put,
    .code_del = pg_code_del,
    .request_put = pg_request_put,
    .request_get = pg_request_get,
    .request_each = pg_request_each,
    .request_event_append = pg_request_event_append,
    .request_events_each = pg_request_events_each,
    .operator_insert = pg_operator_insert,
    .operator_put = pg_operator_put,
    .operator_get = pg_operator_get,
    .operator_each = pg_operator_each,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .session_seen = pg_session_seen,
    .session_del = pg_session_del,
    .session_del_login = pg_session_del_login,
    .session_purge = pg_session_purge,
    .backup = pg_backup,
    .restore = pg_restore,
};
