-- Privileges of the role sargs runs as on PostgreSQL (see
-- docs/operations-postgres.md). Two roles:
--   owner  owns the schema and its tables; `sargs init`, upgrades (schema
--          steps are applied when a newer sargs first opens the vault) and
--          `sargs restore` and `sargs audit archive` connect as it
--   app    what `sargs` and `sargs serve` connect as day to day: reads and
--          writes the data (people, consent, decisions, retention marks,
--          the outbox, requests), the API tokens, operators, sessions and
--          group memberships; may only add to and read the history (the
--          audit log, the policy versions, the anonymised statistics, the
--          dates of global events and the transitions of requests)
--
-- Once, as a superuser:
--   CREATE ROLE sargs_owner LOGIN PASSWORD '...';
--   CREATE ROLE sargs_app LOGIN PASSWORD '...';
--   CREATE SCHEMA sargs AUTHORIZATION sargs_owner;
-- then `sargs init` with the owner's address, then this file as the owner,
-- and again after every upgrade of sargs:
--   psql "postgres://sargs_owner@db/sargs" -v schema=sargs -v app=sargs_app \
--        -f docs/postgres-grants.sql
\set ON_ERROR_STOP on
BEGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";
-- The audit log (entries, subtrees, signed heads): append and read, never
-- change, remove or empty. Archiving (`sargs audit archive`), the one change
-- ever made to the log, is the owner's job, like restore.
REVOKE UPDATE, DELETE, TRUNCATE ON :"schema".audit_log, :"schema".audit_nodes,
    :"schema".audit_heads FROM :"app";
-- Policy versions are history too: `sargs policy apply` adds one, none is
-- ever changed or removed; so are what an anonymisation keeps for
-- statistics, the dates of events that are one for everybody (a date
-- recorded again is no change) and the transitions of data-subject
-- requests, the evidence of how each was handled (an erasure leaves them).
-- (Tokens, memberships, operators, sessions, the consent ledger, decisions,
-- done marks, the outbox, the requests themselves and people's sign-in
-- codes keep the full grant above: revoking a token, locking an operator, a
-- decision, a claimed message, a request's new state, a wrong code counted
-- are UPDATEs; leaving a group, signing out, a code used up, an erasure
-- DELETEs.)
REVOKE UPDATE, DELETE, TRUNCATE ON :"schema".policies, :"schema".statistics,
    :"schema".global_events, :"schema".request_events FROM :"app";
-- The schema is the owner's business.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON :"schema".schema_migrations FROM :"app";
REVOKE CREATE ON SCHEMA :"schema" FROM :"app";
COMMIT;
