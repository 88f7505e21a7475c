"""The consent commands: may's exit codes, a withdrawal seen by the next
decision in another process, receipts checked without the vault."""
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import PG, ROOT, SARGS, Vault

POLICY = os.path.join(ROOT, "tests", "data", "consent.yaml")


def test_consent_from_the_command_line(tmp_path):
    v = Vault(tmp_path / "v")
    v.ok("init", "--policy", POLICY)
    a = v.add("name=Anna", "email=anna@x.lv", "birth_date=1980-01-01")
    r = v.run("may", a, "newsletter")
    assert r.code == 5 and r.out.strip() == "denied: no_consent (basis consent)"
    v.ok("consent", "give", a, "newsletter", "--method", "paper", "--evidence", "letter 7")
    assert v.run("may", a, "newsletter").code == 0
    d = v.run("--json", "may", a, "newsletter").json()
    assert d["allowed"] and d["consent"] == "given" and d["expires"]
    v.ok("consent", "withdraw", a, "newsletter", "--method", "phone")
    assert v.run("may", a, "newsletter").code == 5
    r = v.run("consent", "withdraw", a, "newsletter", "--method", "phone")
    assert r.code == 6 and "no consent to 'newsletter' to withdraw" in r.err
    assert v.run("consent", "give", a, "newsletter").code == 2        # no --method
    assert v.run("consent", "give", a, "service", "--method", "paper").code == 4
    assert v.run("may", a, "nothing").code == 4
    assert v.run("may", "01a20000-0000-7000-8000-000000000000", "service").code == 3
    ev = v.ok("--json", "consent", "list", a).json()
    assert [(e["seq"], e["state"], e["evidence"]) for e in ev] == [(1, "given", "letter 7"),
                                                                  (2, "withdrawn", None)]
    # receipts: valid, and not once a byte changed
    jws = v.ok("consent", "receipt", a, "1").out.strip()
    key = v.ok("consent", "key").out.strip()
    f = tmp_path / "r.jws"
    f.write_text(jws)
    r = v.run("consent", "check-receipt", "--key", key, str(f), use_dir=False)
    assert r.code == 0 and r.out.startswith("valid receipt ")
    f.write_text(jws[:-5] + ("A" if jws[-5] != "A" else "B") + jws[-4:])
    r = v.run("consent", "check-receipt", "--key", key, str(f), use_dir=False)
    assert r.code == 5 and "does not verify" in r.err
    # objection and restriction
    v.ok("object", a, "fraud")
    r = v.run("--json", "may", a, "fraud")
    assert r.code == 5 and r.json()["reason"] == "objected"
    v.ok("object", a, "fraud", "--grounds", "case 2026/17")
    assert v.run("may", a, "fraud").code == 0
    v.ok("restrict", a)
    assert v.run("may", a, "service").code == 5
    assert v.run("restrict", a).code == 6
    v.ok("unrestrict", a)
    assert v.run("may", a, "service").code == 0
    # nothing personal in an error
    r = v.run("consent", "give", "email=not-an-address", "newsletter", "--method", "paper")
    assert r.code == 4 and "not-an-address" not in r.err


def test_many_decisions_from_standard_input(tmp_path):
    v = Vault(tmp_path / "v")
    v.ok("init", "--policy", POLICY)
    a = v.add("name=Anna", "email=anna@x.lv", "birth_date=1980-01-01")
    b = v.add("name=Berta", "email=berta@x.lv", "birth_date=1980-01-01")
    v.ok("consent", "give", a, "newsletter", "--method", "paper")
    ghost = "01a20000-0000-7000-8000-000000000000"
    lines = f"{a} newsletter\n{b} newsletter\n\n{a} service\n{ghost} newsletter\n{a} nothing\n"
    r = v.run("may", "--stdin", stdin=lines)
    assert r.code == 0, r
    assert r.out.splitlines() == [f"{a} newsletter allowed consent_given",
                                  f"{b} newsletter denied no_consent",
                                  f"{a} service allowed basis",
                                  f"{ghost} newsletter error not_found",
                                  f"{a} nothing error invalid"]
    # JSON lines: each the same decision as one question asked alone
    r = v.run("--json", "may", "--stdin", stdin=f"{a} newsletter\n{b} newsletter\n")
    got = [json.loads(line) for line in r.out.splitlines()]
    assert got == [v.run("--json", "may", a, "newsletter").json(),
                   v.run("--json", "may", b, "newsletter").json()]
    # a line that is not a question: said on its line, the rest answered, exit 4
    r = v.run("may", "--stdin", stdin=f"{a}\n{a} newsletter extra\n{b} newsletter\n" +
              "x" * 600 + " y\n" + "z" * 10000 + f" newsletter\n{b} newsletter\n" +
              f"{a} newsletter")
    assert r.code == 4
    assert r.out.splitlines() == [f"{b} newsletter denied no_consent",
                                  f"{b} newsletter denied no_consent",
                                  f"{a} newsletter allowed consent_given"]
    assert [l.split(":")[1].strip() for l in r.err.splitlines()] == [
        "line 1 is not 'ID PURPOSE'", "line 2 is not 'ID PURPOSE'",
        "line 4 is not 'ID PURPOSE'", "line 5 is not 'ID PURPOSE'"]
    # a line too long at the very end, without its newline
    r = v.run("may", "--stdin", stdin=f"{a} newsletter\n" + "q" * 9000)
    assert r.code == 4 and r.out.splitlines() == [f"{a} newsletter allowed consent_given"]
    assert "line 2 is not" in r.err
    assert v.run("may", "--stdin", a, "newsletter").code == 2


@pytest.mark.skipif(PG is not None, reason="SQLite's write-ahead log")
def test_waiting_for_input_holds_no_snapshot(tmp_path):
    """`may --stdin` keeps a read snapshot between questions, but not while
    it waits for the next line: meanwhile the log can be checkpointed and
    started over, and a withdrawal is seen by the next question."""
    v = Vault(tmp_path / "v")
    v.ok("init", "--policy", POLICY)
    a = v.add("name=Anna", "email=anna@x.lv", "birth_date=1980-01-01")
    # A connection kept open keeps the log's frames un-checkpointed when the
    # commands below end, so the decisions' snapshot reads from the log.
    con = sqlite3.connect(v.db())
    con.execute("SELECT count(*) FROM subjects").fetchone()
    v.ok("consent", "give", a, "newsletter", "--method", "paper")
    p = subprocess.Popen([SARGS, "--dir", v.dir, "may", "--stdin"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=v.env)
    try:
        p.stdin.write(f"{a} newsletter\n")
        p.stdin.flush()
        assert p.stdout.readline().split()[2] == "allowed"
        # it waits for input now: no reader holds the log, which can start over
        assert con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        v.ok("consent", "withdraw", a, "newsletter", "--method", "email")
        p.stdin.write(f"{a} newsletter\n")
        p.stdin.flush()
        assert p.stdout.readline().split()[2:] == ["denied", "consent_withdrawn"]
    finally:
        p.stdin.close()
        con.close()
        assert p.wait(timeout=30) == 0
