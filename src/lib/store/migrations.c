/*
 * migrations.c - schema steps. Times are INTEGER microseconds since the
 * epoch (UTC); ids are 16-byte UUIDv7 blobs; every personal value is a sealed
 * blob (see sargs/crypto.h), never text.
 */
#include "migrations.h"
#include "store.h"

const struct sg_migration sg_migrations[] = {
    {1, "vault",
     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE categories (code INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);"
     /* One row per person: the wrapped data key and the sealed record. */
     "CREATE TABLE subjects ("
     "  id BLOB PRIMARY KEY,"
     "  state INTEGER NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  changed INTEGER NOT NULL,"
     "  dek_version INTEGER NOT NULL,"
     "  dek BLOB,"
     "  record BLOB"
     ") WITHOUT ROWID;"
     /* The blind index: keyed hashes only, never values. */
     "CREATE TABLE lookup ("
     "  category INTEGER NOT NULL,"
     "  bidx BLOB NOT NULL,"
     "  subject BLOB NOT NULL,"
     "  PRIMARY KEY (category, bidx, subject)"
     ") WITHOUT ROWID;"
     "CREATE TABLE events ("
     "  subject BLOB NOT NULL,"
     "  name TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  PRIMARY KEY (subject, name)"
     ") WITHOUT ROWID;"
     "CREATE TABLE history ("
     "  seq INTEGER PRIMARY KEY,"
     "  subject BLOB NOT NULL,"
     "  category TEXT NOT NULL,"
     "  old BLOB,"
     "  kv INTEGER NOT NULL,"
     "  reason BLOB,"
     "  actor TEXT NOT NULL,"
     "  at INTEGER NOT NULL"
     ");"
     "CREATE INDEX history_subject ON history (subject, seq);"
     "CREATE TABLE audit ("
     "  seq INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  purpose TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  subject BLOB,"
     "  result TEXT NOT NULL"
     ");"
     /* The plain audit table is append-only even for someone holding the
      * database file: the verifiable log of the audit module replaces it. */
     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;"},
    {2, "audit log",
     /* The plain audit table of step 1 becomes a Merkle log (RFC 9162):
      * entries, the perfect subtrees of the tree (id = level << 56 | index,
      * level >= 1) and signed heads. Append-only, as before. */
     "DROP TRIGGER audit_no_update;"
     "DROP TRIGGER audit_no_delete;"
     "DROP TABLE audit;"
     "CREATE TABLE audit_log ("
     "  idx INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  pseudonym BLOB,"
     "  leaf BLOB NOT NULL,"
     "  hash BLOB NOT NULL"
     ");"
     /* One person's entries: the index is partitioned by ranges of 4,096
      * entries, so that a batch of appends touches one small subtree instead
      * of pages all over an index as large as the log (a plain index on the
      * pseudonym made appends 2.8 times slower, ranges of 65,536 twice); a
      * query seeks once per range. */
     "CREATE INDEX audit_log_person ON audit_log (idx >> 12, pseudonym) "
     "  WHERE pseudonym IS NOT NULL;"
     "CREATE TABLE audit_nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
     "CREATE TABLE audit_heads ("
     "  size INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  root BLOB NOT NULL,"
     "  note TEXT NOT NULL"
     ");"
     "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
     "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;"
     "CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
     "CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;"
     "CREATE TRIGGER audit_heads_no_update BEFORE UPDATE ON audit_heads"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
     "CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads"
     "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;"},
    {3, "api tokens",
     "CREATE TABLE tokens ("
     "  id TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  purpose TEXT NOT NULL,"
     "  hash BLOB NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  revoked INTEGER NOT NULL DEFAULT 0"
     ") WITHOUT ROWID;"},
    /* Every version of the policy ever applied, kept so that the version in
     * force at any past instant can be found (consents point at the notice
     * the person saw). Append-only, like the audit table. */
    {4, "policy versions",
     "CREATE TABLE policies ("
     "  seq INTEGER PRIMARY KEY,"
     "  hash TEXT NOT NULL,"
     "  effective INTEGER NOT NULL,"
     "  applied INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  text BLOB NOT NULL"
     ");"
     "CREATE INDEX policies_effective ON policies (effective, seq);"
     "CREATE TRIGGER policies_no_update BEFORE UPDATE ON policies"
     "  BEGIN SELECT RAISE(ABORT, 'policy versions cannot be changed'); END;"
     "CREATE TRIGGER policies_no_delete BEFORE DELETE ON policies"
     "  BEGIN SELECT RAISE(ABORT, 'policy versions cannot be deleted'); END;"},
    /* Group memberships decide who sees group-only content; a token may be
     * scoped to one value of its role's row field (a national organisation
     * to its country). */
    {5, "groups and token scopes",
     "CREATE TABLE memberships ("
     "  subject BLOB NOT NULL,"
     "  grp TEXT NOT NULL,"
     "  since INTEGER NOT NULL,"
     "  PRIMARY KEY (subject, grp)"
     ") WITHOUT ROWID;"
     "CREATE INDEX memberships_grp ON memberships (grp, subject);"
     "ALTER TABLE tokens ADD COLUMN scope TEXT;"},
    /* The consent ledger: events per person (evidence and agent sealed
     * under the person's key), events recorded against a blind-indexed
     * value before the person exists; and one row per person with what a
     * decision needs (the person's state, copied, and every purpose's
     * consent, objection and flags packed), so that a decision is one seek. */
    {6, "consent ledger",
     "CREATE TABLE consent_events ("
     "  seq INTEGER PRIMARY KEY,"
     "  subject BLOB,"
     "  category INTEGER,"
     "  bidx BLOB,"
     "  purpose TEXT NOT NULL,"
     "  state INTEGER NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  method INTEGER NOT NULL,"
     "  lang TEXT NOT NULL,"
     "  notice TEXT NOT NULL,"
     "  by_whom INTEGER NOT NULL,"
     "  guardian BLOB,"
     "  expires INTEGER NOT NULL,"
     "  child INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  kv INTEGER NOT NULL,"
     "  details BLOB,"
     "  CHECK ((subject IS NULL) <> (bidx IS NULL))"
     ");"
     "CREATE INDEX consent_events_subject ON consent_events (subject, seq) "
     "  WHERE subject IS NOT NULL;"
     "CREATE INDEX consent_events_pending ON consent_events (category, bidx, seq) "
     "  WHERE subject IS NULL;"
     "CREATE TABLE decisions ("
     "  subject BLOB PRIMARY KEY,"
     "  state INTEGER NOT NULL,"
     "  purposes BLOB NOT NULL"
     ") WITHOUT ROWID;"},
    /* People who sign in to run the organisation's side: a role of the
     * policy, an Argon2id hash, failed attempts for the lockout; and their
     * sessions, known by the hash of the cookie's secret. */
    {7, "operators and sessions",
     "CREATE TABLE operators ("
     "  login TEXT PRIMARY KEY,"
     "  role TEXT NOT NULL,"
     "  purpose TEXT NOT NULL,"
     "  scope TEXT,"
     "  hash TEXT NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  password_changed INTEGER NOT NULL,"
     "  failures INTEGER NOT NULL DEFAULT 0,"
     "  locked_until INTEGER NOT NULL DEFAULT 0,"
     "  disabled INTEGER NOT NULL DEFAULT 0"
     ") WITHOUT ROWID;"
     "CREATE TABLE sessions ("
     "  hash BLOB PRIMARY KEY,"
     "  login TEXT NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  expires INTEGER NOT NULL,"
     "  seen INTEGER NOT NULL"
     ") WITHOUT ROWID;"
     "CREATE INDEX sessions_login ON sessions (login);"},
    /* Retention: which rule acted on whom for which anchor (so that no
     * action happens twice), the dates of events that are one for everybody,
     * what anonymisation keeps for statistics (under ids of its own, with no
     * way back to the person); and the outbox of messages to people, sealed
     * under the person's key, delivered by a worker that claims them. */
    {8, "retention and outbox",
     "CREATE TABLE sweep_done ("
     "  subject BLOB NOT NULL,"
     "  rule TEXT NOT NULL,"
     "  anchor INTEGER NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  PRIMARY KEY (subject, rule, anchor)"
     ") WITHOUT ROWID;"
     "CREATE TABLE global_events ("
     "  name TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  PRIMARY KEY (name, at)"
     ") WITHOUT ROWID;"
     "CREATE TABLE statistics ("
     "  id BLOB NOT NULL,"
     "  category TEXT NOT NULL,"
     "  value TEXT NOT NULL,"
     "  year INTEGER NOT NULL,"
     "  PRIMARY KEY (id, category)"
     ") WITHOUT ROWID;"
     "CREATE TABLE outbox ("
     "  id BLOB PRIMARY KEY,"
     "  subject BLOB,"
     "  kind TEXT NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  kv INTEGER NOT NULL,"
     "  sealed BLOB NOT NULL,"
     "  state INTEGER NOT NULL DEFAULT 0,"
     "  attempts INTEGER NOT NULL DEFAULT 0,"
     "  next_attempt INTEGER NOT NULL,"
     "  claimed_until INTEGER NOT NULL DEFAULT 0,"
     "  sent INTEGER NOT NULL DEFAULT 0,"
     "  error TEXT"
     ") WITHOUT ROWID;"
     "CREATE INDEX outbox_due ON outbox (state, next_attempt);"
     "CREATE INDEX outbox_subject ON outbox (subject) WHERE subject IS NOT NULL;"},
    /* Data-subject requests and every transition of each (reasons sealed
     * under a key of the request). Open requests are indexed by due day, so
     * the overdue ones are one range read. */
    {9, "requests",
     "CREATE TABLE requests ("
     "  id BLOB PRIMARY KEY,"
     "  subject BLOB,"
     "  kind INTEGER NOT NULL,"
     "  channel TEXT NOT NULL,"
     "  state INTEGER NOT NULL,"
     "  received INTEGER NOT NULL,"
     "  received_day INTEGER NOT NULL,"
     "  paused_days INTEGER NOT NULL,"
     "  paused_since INTEGER NOT NULL,"
     "  extended INTEGER NOT NULL,"
     "  due_day INTEGER NOT NULL,"
     "  identity TEXT,"
     "  agent TEXT,"
     "  copies INTEGER NOT NULL,"
     "  closed INTEGER NOT NULL,"
     "  updated INTEGER NOT NULL"
     ") WITHOUT ROWID;"
     "CREATE INDEX requests_open ON requests (due_day, id) WHERE closed = 0;"
     "CREATE INDEX requests_subject ON requests (subject, kind, received) "
     "  WHERE subject IS NOT NULL;"
     "CREATE TABLE request_events ("
     "  seq INTEGER PRIMARY KEY,"
     "  request BLOB NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  verb TEXT NOT NULL,"
     "  state INTEGER NOT NULL,"
     "  reason BLOB"
     ");"
     "CREATE INDEX request_events_request ON request_events (request, seq);"},
    /* One-time sign-in codes of people (self-service): a keyed hash of
     * the code only, and what the limits count (per code, per day). */
    {10, "sign-in codes",
     "CREATE TABLE person_codes ("
     "  subject BLOB PRIMARY KEY,"
     "  hash BLOB NOT NULL,"
     "  expires INTEGER NOT NULL,"
     "  attempts INTEGER NOT NULL,"
     "  sent INTEGER NOT NULL,"
     "  day_start INTEGER NOT NULL,"
     "  day_sends INTEGER NOT NULL,"
     "  day_fails INTEGER NOT NULL"
     ") WITHOUT ROWID;"},
};

const int sg_migrations_count = (int)(sizeof sg_migrations / sizeof sg_migrations[0]);

_Static_assert(sizeof sg_migrations / sizeof sg_migrations[0] == SG_SCHEMA_VERSION,
               "one migration step per schema version");
