"""The command on PostgreSQL only: the server going away and coming back,
and a vault moved from SQLite to PostgreSQL by backup and restore."""
import os
import re
import subprocess

import pytest

from conftest import PG, POLICY, Vault, pg_server, psql

pytestmark = pytest.mark.skipif(not PG, reason="needs SARGS_TEST_PG (scripts/pg-test-cluster)")


def test_database_away(vault):
    password = os.environ["SARGS_TEST_PG_PASSWORD"]
    sid = vault.add("name=Anna", "email=anna@example.lv")
    before, audits = vault.dump(), vault.audit_count()
    pg_server("pause")
    try:
        r = vault.run("subject", "add", "--field", "name=Berta")
        assert r.code == 10, r
        assert "postgresql" in r.err and "127.0.0.1" in r.err
        r2 = vault.run("--json", "subject", "erase", sid)
        assert r2.code == 10 and r2.json()["error"]["code"] == "unavailable"
        for out in [r.err, r.out, r2.err, r2.out]:
            assert password not in out
    finally:
        pg_server("resume")
    # Nothing was half-written, and everything works again.
    assert vault.dump() == before and vault.audit_count() == audits
    vault.ok("subject", "show", sid)
    vault.add("name=Berta")


def test_move_from_sqlite(tmp_path):
    lite = Vault(tmp_path / "vault")
    del lite.env["SARGS_STORE"]
    lite.store = None
    lite.ok("init", "--policy", POLICY)
    keep = lite.add("name=Keep", "email=keep@example.lv")
    gone = lite.add("name=Gone", "email=gone@example.lv")
    bak = str(tmp_path / "move.db")
    lite.ok("backup", bak)
    lite.ok("subject", "erase", gone)

    pg = Vault(tmp_path / "vault")  # the same keys, a PostgreSQL store
    r = pg.ok("--json", "restore", bak)
    assert r.json()["erasures_reapplied"] == 1
    assert pg.ok("--json", "subject", "show", keep).json()["fields"]["user.name.first"] == "Keep"
    assert pg.run("subject", "show", gone).code == 3
    assert pg.ok("subject", "find", "email=keep@example.lv").out.strip() == keep
    rows = pg.sql("SELECT count(*) FROM subjects")
    assert rows == [("2",)]


def test_app_role_grants(vault, tmp_path):
    """The documented grants: the day-to-day role does everything the
    command needs, and cannot change, remove or empty the audit trail."""
    admin = os.environ["SARGS_TEST_PG_ADMIN"]
    app = f"app_{vault.schema}"
    psql(admin, f"CREATE ROLE {app} LOGIN PASSWORD 'app-pw-7'")
    grants = os.path.join(os.path.dirname(__file__), "../../docs/postgres-grants.sql")
    p = subprocess.run(["psql", "-X", "-q", "-d", vault.store, "-v", f"schema={vault.schema}",
                        "-v", f"app={app}", "-f", grants], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    owner = vault.store
    as_app = re.sub(r"//sargs:[^@]*@", f"//{app}:app-pw-7@", owner)
    vault.env["SARGS_STORE"] = as_app
    sid = vault.add("name=Anna", "email=anna@example.lv")
    vault.ok("subject", "update", sid, "--field", "email=b@example.lv", "--reason", "asked")
    vault.ok("subject", "find", "email=b@example.lv")
    vault.ok("subject", "touch", sid, "last_login")
    vault.ok("key", "rotate")
    # Groups (a DELETE to leave), tokens (an UPDATE to revoke), a new
    # policy version (an INSERT only).
    vault.ok("subject", "join", sid, "g1")
    vault.ok("subject", "leave", sid, "g1")
    vault.ok("subject", "join", sid, "g2")
    tok = vault.ok("--json", "--purpose", "service", "token", "create", "--name", "t", "--role",
                   "support").json()
    vault.ok("token", "revoke", tok["id"])
    v2 = tmp_path / "v2.yaml"
    v2.write_text(open(POLICY).read().replace("title: {lv: Testa organizācija,",
                                              "title: {lv: Testa organizācija 2,"))
    vault.ok("policy", "apply", str(v2))
    # Consent before an account (pending, then handed over), decisions,
    # restriction (the decision row's copy of the state), operators.
    vault.ok("consent", "give", "email=c@example.lv", "newsletter", "--method", "paper")
    c = vault.add("name=Cita", "email=c@example.lv")
    assert vault.run("may", c, "newsletter").code == 0
    vault.ok("consent", "withdraw", c, "newsletter", "--method", "phone")
    assert vault.run("may", c, "newsletter").code == 5
    vault.ok("restrict", c)
    vault.ok("unrestrict", c)
    vault.ok("--purpose", "service", "operator", "add", "desk", "--role", "support",
             stdin="Correct-horse-7\n")
    vault.ok("operator", "passwd", "desk", stdin="Correct-horse-8\n")
    vault.ok("operator", "disable", "desk")
    vault.ok("operator", "enable", "desk")
    vault.ok("operator", "unlock", "desk")
    # A request through its states (a transition only ever adds an event),
    # its answer delivered; a retention sweep that erases someone.
    req = vault.ok("--json", "request", "new", "--kind", "access", "--channel", "email",
                   "--subject", c).json()["id"]
    vault.ok("request", "verify", req, "--method", "account")
    vault.ok("request", "pause", req, "--reason", "which account?")
    vault.ok("request", "resume", req)
    vault.ok("request", "fulfil", req, "--out", str(tmp_path / "answer"))
    assert vault.ok("--json", "request", "show", req).json()["state"] == "fulfilled"
    vault.ok("outbox", "deliver", "--transport", f"maildir:{tmp_path / 'mail'}", "--from",
             "dpo@organisation.test")
    gone = vault.add("name=Gints", "email=g@example.lv")
    vault.ok("subject", "touch", gone, "contract_end", "--at", "2024-01-01T00:00:00Z")
    assert vault.ok("--json", "sweep").json()["actions"]["deleted"] == 1
    # What retention and delivery write besides, as the app role.
    for sql in ["INSERT INTO statistics VALUES ('\\x01', 'country', 'LV', 2026)",
                "INSERT INTO global_events VALUES ('closing', 1) ON CONFLICT DO NOTHING",
                "INSERT INTO global_events VALUES ('closing', 1) ON CONFLICT DO NOTHING",
                f"INSERT INTO sweep_done VALUES ('{c}', 'r', 1, 2)",
                f"DELETE FROM sweep_done WHERE subject = '{c}'",
                f"INSERT INTO outbox (id, subject, kind, created, kv, sealed, next_attempt) "
                f"VALUES ('{c}', '{c}', 'notice', 1, 1, '\\x00', 1)",
                "UPDATE outbox SET claimed_until = 5 WHERE id IN (SELECT id FROM outbox "
                "FOR UPDATE SKIP LOCKED)",
                f"INSERT INTO person_codes VALUES ('{c}', '\\x00', 1, 0, 1, 0, 0, 0)",
                f"INSERT INTO person_codes VALUES ('{c}', '\\x01', 2, 0, 2, 0, 0, 0) "
                "ON CONFLICT (subject) DO NOTHING",
                f"UPDATE person_codes SET hash = '\\x02', day_fails = 1 WHERE subject = '{c}'",
                "SELECT * FROM person_codes FOR UPDATE", "DELETE FROM person_codes",
                "INSERT INTO sessions VALUES ('\\x02', 'desk', 1, 2, 1)",
                "UPDATE sessions SET seen = 2", "DELETE FROM sessions"]:
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", as_app, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (sql, r.stderr)
    vault.ok("backup", str(tmp_path / "b.db"))
    vault.ok("subject", "erase", sid)  # takes the membership with it
    vault.ok("subject", "erase", c)  # and the ledger, the decision row, the outbox
    vault.ok("audit", "verify")
    vault.ok("audit", "log", "--subject", sid)
    vault.ok("audit", "prove", "1")
    for sql in ["UPDATE audit_log SET at = 0", "DELETE FROM audit_log", "TRUNCATE audit_log",
                "UPDATE audit_nodes SET hash = hash", "DELETE FROM audit_nodes",
                "TRUNCATE audit_nodes", "UPDATE audit_heads SET note = 'x'",
                "DELETE FROM audit_heads", "TRUNCATE audit_heads",
                # what archiving does, tried by the app role
                "BEGIN; SELECT set_config('sargs.archiving', 'on', true); "
                "UPDATE audit_log SET leaf = ''::bytea, pseudonym = NULL",
                "UPDATE policies SET actor = 'x'", "DELETE FROM policies", "TRUNCATE policies",
                "UPDATE statistics SET value = 'x'", "DELETE FROM statistics",
                "TRUNCATE statistics", "UPDATE global_events SET at = 0",
                "DELETE FROM global_events", "TRUNCATE global_events",
                "UPDATE request_events SET verb = 'x'", "DELETE FROM request_events",
                "TRUNCATE request_events",
                "DELETE FROM schema_migrations", "CREATE TABLE x (a int)"]:
        r = subprocess.run(["psql", "-X", "-q", "-d", as_app, "-c", sql], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode != 0 and "permission denied" in r.stderr, (sql, r.stderr)
    # Restoring replaces the data (and archiving empties old audit entries):
    # the owner's job.
    assert vault.sql("SELECT count(*) FROM memberships") == [("0",)]
    assert vault.sql("SELECT count(*) FROM consent_events") == [("0",)]
    assert vault.sql("SELECT count(*) FROM decisions") == [("0",)]
    assert vault.sql("SELECT count(*) FROM outbox") == [("0",)]
    vault.sql("INSERT INTO request_events (request, at, actor, verb, state) "
              f"VALUES ('{req}', 1, 'x', 'after the backup', 0)")
    vault.env["SARGS_STORE"] = owner
    vault.ok("restore", str(tmp_path / "b.db"))
    # (the live tokens and policy versions stayed: the revocation holds;
    # the backup's ledger is back, its erasure applied again)
    assert vault.sql("SELECT count(*) FROM tokens WHERE revoked = 0") == [("0",)]
    assert vault.sql("SELECT count(*) FROM policies") == [("2",)]
    assert vault.sql("SELECT count(*) FROM consent_events") == [("0",)]
    assert vault.sql("SELECT count(*) FROM operators") == [("1",)]
    # the request and its transitions are evidence: the live ones stay,
    # the transition recorded after the backup too
    assert vault.sql("SELECT count(*) FROM requests") == [("1",)]
    assert vault.sql("SELECT count(*) FROM request_events") == [("6",)]
