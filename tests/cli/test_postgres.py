"""The command on PostgreSQL only: the server going away and coming back,
and a vault moved from SQLite to PostgreSQL by backup and restore."""
import os

import pytest

from conftest import PG, Vault, pg_server

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
    lite.ok("init")
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
