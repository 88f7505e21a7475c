"""The `sargs` command end to end: every subcommand, exit codes, JSON
output and errors, and bad input that changes nothing."""
import json
import os
import shutil
import stat

from conftest import POLICY

PERSON = [
    "name=Jānis", "surname=Bērziņš", "email=Janis.B@Example.LV", "phone=2912 3456",
    "personal_code=010190-12345", "country=lv", "language=lv",
]


def test_help_and_usage(bare):
    r = bare.run("--help", use_dir=False)
    assert r.code == 0 and "subject add" in r.out
    assert bare.run(use_dir=False).code == 2
    r = bare.run("frobnicate")
    assert r.code == 2 and "unknown command" in r.err
    assert bare.run("subject").code == 2
    assert bare.run("subject", "add", "--nope").code == 2
    assert bare.run("--version", use_dir=False).out.startswith("sargs ")


def test_no_dir(bare):
    r = bare.run("subject", "list", use_dir=False)
    assert r.code == 2 and "SARGS_DIR" in r.err
    r = bare.run("subject", "list", use_dir=False, env={"SARGS_DIR": bare.dir})
    assert r.code == 3 and "sargs init" in r.err


def test_init(bare):
    r = bare.run("init")
    assert r.code == 2 and "--policy" in r.err
    assert not os.path.exists(bare.dir)
    r = bare.ok("init", "--policy", POLICY)
    assert "master key" in r.out and "bound to policy" in r.out
    assert stat.S_IMODE(os.stat(os.path.join(bare.dir, "keys", "master.key")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(bare.dir).st_mode) == 0o700
    r = bare.run("init", "--policy", POLICY)
    assert r.code == 6 and "already exists" in r.err
    r = bare.run("--json", "init", "--policy", POLICY)
    assert r.code == 6
    assert r.json()["error"]["code"] == "conflict"


def test_add_show_find(vault):
    sid = vault.add(*PERSON, events=["last_login=2026-10-01T08:30:00Z"])
    assert len(sid) == 36
    r = vault.ok("--json", "subject", "show", sid)
    j = r.json()
    assert j["id"] == sid and j["state"] == "active"
    assert j["fields"]["user.contact.email"] == "Janis.B@Example.LV"
    assert j["fields"]["user.contact.phone_number"] == "+37129123456"
    assert j["fields"]["user.name.first"] == "Jānis"
    assert j["events"] == {"created": "2026-11-23T10:00:00Z", "last_login": "2026-10-01T08:30:00Z"}
    assert j["created"] == "2026-11-23T10:00:00Z"
    text = vault.ok("subject", "show", sid).out
    assert "Bērziņš" in text and "last_login" in text
    for q in ["email=janis.b@example.lv", "email= JANIS.B@EXAMPLE.LV ", "phone=+371 2912 3456",
              "phone=0037129123456", "personal_code=01019012345", "user.contact.email=Janis.B@Example.LV"]:
        r = vault.ok("subject", "find", q)
        assert r.out.strip() == sid, q
    r = vault.ok("--json", "subject", "find", "email=janis.b@example.lv")
    assert r.json() == {"matches": [sid], "count": 1}
    r = vault.run("subject", "find", "email=nobody@example.lv")
    assert r.code == 3 and "no subject matches" in r.err
    r = vault.run("subject", "find", "name=Jānis")
    assert r.code == 4 and "not indexed" in r.err
    assert vault.run("subject", "find", "novalue").code == 2
    # The database holds none of it in clear.
    raw = vault.raw()
    for needle in [b"Example", b"example", b"29123456", b"01019012345", "Jānis".encode()]:
        assert needle not in raw


def test_stdin_fields(vault):
    sid = vault.ok("subject", "add", "--stdin", stdin="name=Anna\nemail=anna@example.lv\n\n").out.strip()
    j = vault.ok("--json", "subject", "show", sid).json()
    assert j["fields"]["user.name.first"] == "Anna"
    r = vault.run("subject", "add", "--stdin", stdin="no equals sign\n")
    assert r.code == 2


def test_global_options_anywhere(vault):
    sid = vault.add("name=Anna")
    r = vault.run("subject", "show", sid, "--json", "--now", "2027-01-01T00:00:00Z")
    assert r.code == 0 and r.json()["id"] == sid
    r = vault.run("subject", "show", sid, "--now", "yesterday")
    assert r.code == 2 and "--now" in r.err
    r = vault.run("subject", "list", env={"SARGS_NOW": "garbage"})
    assert r.code == 2 and "SARGS_NOW" in r.err


def test_update_history(vault):
    sid = vault.add(*PERSON)
    r = vault.ok("subject", "update", sid, "--field", "email=new@example.lv", "--reason",
                 "person asked", "--now", "2026-12-01T00:00:00Z")
    assert "1 field(s) changed" in r.out
    j = vault.ok("--json", "subject", "show", sid, "--history").json()
    assert j["fields"]["user.contact.email"] == "new@example.lv"
    assert j["changed"] == "2026-12-01T00:00:00Z"
    h = j["history"]
    assert len(h) == 1
    assert h[0]["old_value"] == "Janis.B@Example.LV"
    assert h[0]["reason"] == "person asked"
    assert h[0]["category"] == "user.contact.email"
    assert h[0]["actor"].startswith("cli:")
    assert vault.run("subject", "find", "email=janis.b@example.lv").code == 3
    r = vault.run("subject", "update", sid, "--field", "email=x@example.lv")
    assert r.code == 2 and "--reason" in r.err
    r = vault.ok("--json", "subject", "update", sid, "--field", "email=new@example.lv",
                 "--reason", "again")
    assert r.json()["changed"] == 0


def test_touch_and_list(vault):
    a = vault.add("name=A")
    b = vault.add("name=B")
    vault.ok("subject", "touch", a, "last_login", "--at", "2026-11-01T12:00:00+02:00")
    j = vault.ok("--json", "subject", "show", a).json()
    assert j["events"]["last_login"] == "2026-11-01T10:00:00Z"
    vault.ok("subject", "touch", a, "confirmed")
    assert vault.ok("--json", "subject", "show", a).json()["events"]["confirmed"] == "2026-11-23T10:00:00Z"
    assert vault.run("subject", "touch", a, "Bad-Event").code == 4
    assert vault.run("subject", "touch", a, "x", "--at", "soon").code == 4
    r = vault.ok("--json", "subject", "list")
    ids = [s["id"] for s in r.json()["subjects"]]
    # Two processes in the same millisecond (the clock is fixed): id order
    # between them is not promised, only that the list is in id order.
    assert sorted(ids) == sorted([a, b]) and ids == sorted(ids)
    r = vault.ok("--json", "subject", "list", "--limit", "1")
    assert r.json()["next"] == ids[0]
    r = vault.ok("--json", "subject", "list", "--limit", "1", "--after", ids[0])
    assert [s["id"] for s in r.json()["subjects"]] == [ids[1]]
    r = vault.ok("--json", "subject", "list", "--after", ids[1])
    assert r.json() == {"subjects": [], "next": None}
    assert vault.run("subject", "list", "--limit", "0").code == 2
    assert vault.run("subject", "list", "--limit", "ten").code == 2


def test_erase(vault):
    sid = vault.add(*PERSON)
    other = vault.add("name=Other", "email=other@example.lv")
    r = vault.ok("subject", "erase", sid)
    assert "erased" in r.out
    r = vault.run("subject", "show", sid)
    assert r.code == 3 and "erased" in r.err
    assert vault.run("subject", "find", "email=janis.b@example.lv").code == 3
    r = vault.run("subject", "erase", sid)
    assert r.code == 6 and "already erased" in r.err
    vault.ok("subject", "show", other)
    journal = open(os.path.join(vault.dir, "keys", "erasures.log")).read()
    assert sid in journal


def test_not_found_and_bad_ids(vault):
    r = vault.run("subject", "show", "01890a5d-ac96-774b-bcce-b302099a8057")
    assert r.code == 3 and "not found" in r.err
    r = vault.run("--json", "subject", "show", "01890a5d-ac96-774b-bcce-b302099a8057")
    assert r.code == 3
    assert r.json() == {"error": {"code": "not_found",
                                  "message": "subject 01890a5d-ac96-774b-bcce-b302099a8057 not found"}}
    r = vault.run("subject", "show", "not-an-id")
    assert r.code == 4 and "not an id" in r.err


def test_bad_input_changes_nothing(vault):
    sid = vault.add(*PERSON)
    before, audits = vault.dump(), vault.audit_count()
    big = "a" * (64 * 1024 + 1)
    cases = [
        (["subject", "add", "--field", "name=ok", "--field", "favourite_colour=blue"], 4, "unknown category"),
        (["subject", "add", "--field", "email=broken-address"], 4, "invalid email"),
        (["subject", "add", "--field", "phone=12ab34"], 4, "invalid phone"),
        (["subject", "add", "--field", "name=Anna", "--field", "surname=" + big], 4, "over the limit"),
        (["subject", "add", "--field", "name=bad\x01control"], 4, "control"),
        (["subject", "add", "--field", "name=A", "--field", "name=B"], 4, "twice"),
        (["subject", "add", "--field", "name=A", "--event", "created=tomorrow"], 4, "event"),
        (["subject", "add", "--field", "name=A", "--event", "Bad=2026-01-01"], 4, "event"),
        (["subject", "update", sid, "--field", "email=broken-address", "--reason", "x"], 4, "invalid email"),
        (["subject", "update", sid, "--field", "nope=1", "--reason", "x"], 4, "unknown category"),
        (["subject", "update", sid, "--field", "name=x", "--reason", " "], 4, "reason"),
        (["subject", "find", "email=broken-address"], 4, "invalid email"),
        (["subject", "find", "phone=12ab34"], 4, "invalid phone"),
    ]
    for args, code, words in cases:
        r = vault.run(*args)
        assert r.code == code, (args, r)
        assert words in r.err, (args, r)
        assert len(r.err.strip().splitlines()) == 1, r
        # No personal value is echoed back.
        assert "broken-address" not in r.err and "12ab34" not in r.err and "blue" not in r.err
        rj = vault.run("--json", *args)
        assert rj.code == code
        err = rj.json()["error"]
        assert set(err) == {"code", "message"}
    assert vault.dump() == before
    # Bad input is refused before anything is done, so not even an audit entry.
    assert vault.audit_count() == audits


def test_invalid_utf8(vault, tmp_path):
    # Through --stdin the bytes reach the library unchanged.
    import subprocess
    from conftest import SARGS
    before = vault.dump()
    p = subprocess.run([SARGS, "--dir", vault.dir, "subject", "add", "--stdin"],
                       input=b"name=bad \xff\xfe utf8\n", capture_output=True, env=vault.env)
    assert p.returncode == 4 and b"UTF-8" in p.stderr
    assert vault.dump() == before


def test_wrong_master_key(vault, tmp_path):
    sid = vault.add(*PERSON)
    other = tmp_path / "other"
    o = type(vault)(other)
    o.ok("init", "--policy", POLICY)
    r = vault.run("subject", "show", sid,
                  env={"SARGS_MASTER_KEY_FILE": os.path.join(o.dir, "keys", "master.key")})
    assert r.code == 10 and "is not the key of this vault" in r.err
    assert "Jānis" not in r.out
    key = os.path.join(vault.dir, "keys", "master.key")
    os.chmod(key, 0o644)
    r = vault.run("subject", "show", sid)
    assert r.code == 5 and "chmod 600" in r.err
    os.chmod(key, 0o600)
    vault.ok("subject", "show", sid)


def flip_value(record, code, offset=30):
    """Flips a bit inside the sealed value of category `code` in a record
    (format in src/lib/vault/record.h)."""
    rec = bytearray(record)
    pos = 1
    while pos < len(rec):
        c = int.from_bytes(rec[pos:pos + 2], "big")
        flags = rec[pos + 2]
        pos += 15 + (16 if flags & 1 else 0)
        n = int.from_bytes(rec[pos:pos + 4], "big")
        pos += 4
        if c == code:
            rec[pos + offset] ^= 1
            return bytes(rec)
        pos += n
    raise AssertionError("category not in record")


def test_corrupted_ciphertext(vault):
    sid = vault.add(*PERSON)
    other = vault.add("name=Other", "phone=29999999")
    code = int(vault.sql("SELECT code FROM categories WHERE id = 'user.contact.phone_number'")[0][0])
    vault.set_record(sid, flip_value(vault.get_record(sid), code))
    r = vault.run("subject", "show", sid)
    assert r.code == 10
    assert "user.contact.phone_number" in r.err and "failed authentication" in r.err
    assert sid in r.err
    assert r.out == ""
    vault.ok("subject", "show", other)
    # Other people are unaffected; the look-up still works (it needs no decryption).
    vault.ok("subject", "find", "phone=29123456")


def test_key_rotate(vault):
    sid = vault.add(*PERSON)
    old = open(os.path.join(vault.dir, "keys", "master.key")).read()
    r = vault.ok("--json", "key", "rotate")
    j = r.json()
    assert j["rewrapped"] == 1 and j["old_key"] != j["new_key"]
    assert open(os.path.join(vault.dir, "keys", "master.key")).read() != old
    assert os.path.exists(os.path.join(vault.dir, "keys", "retired", j["old_key"] + ".key"))
    vault.ok("subject", "show", sid)
    vault.ok("subject", "find", "email=janis.b@example.lv")
    assert vault.run("key", "spin").code == 2


def test_backup_restore_never_resurrects(vault, tmp_path):
    keep = vault.add("name=Keep", "email=keep@example.lv")
    gone = vault.add(*PERSON)
    bak = str(tmp_path / "backup.db")
    vault.ok("backup", bak)
    r = vault.run("backup", bak)
    assert r.code == 6
    raw = open(bak, "rb").read()
    assert b"sargs-key" not in raw and b"example.lv" not in raw
    vault.ok("subject", "erase", gone)
    r = vault.ok("--json", "restore", bak)
    assert r.json()["erasures_reapplied"] == 1
    vault.ok("subject", "show", keep)
    assert vault.run("subject", "show", gone).code == 3
    assert vault.run("subject", "find", "email=janis.b@example.lv").code == 3
    # Even restoring onto a lost database: the keys directory is enough.
    vault.lose_db()
    r = vault.ok("restore", bak)
    assert "re-applied 1 erasure" in r.out
    assert vault.run("subject", "show", gone).code == 3
    vault.ok("subject", "show", keep)
    assert vault.run("restore", str(tmp_path / "missing.db")).code == 3


def test_erasures_reapply_after_a_restore_by_other_means(vault):
    """A point-in-time recovery of the database (here: its people and
    look-up entries put back as they were) brings back someone erased
    since; the journal, kept with the keys, erases them again in place."""
    keep = vault.add("name=Keep", "email=keep@example.lv")
    gone = vault.add(*PERSON)
    for t in ["subjects", "lookup"]:
        vault.sql(f"CREATE TABLE pitr_{t} AS SELECT * FROM {t}")
    vault.ok("subject", "erase", gone)
    for t in ["subjects", "lookup"]:
        vault.sql(f"DELETE FROM {t}")
        vault.sql(f"INSERT INTO {t} SELECT * FROM pitr_{t}")
        vault.sql(f"DROP TABLE pitr_{t}")
    vault.ok("subject", "show", gone)  # back, as after the recovery
    journal = os.path.join(vault.dir, "keys", "erasures.log")
    os.rename(journal, journal + ".away")
    before = vault.dump()
    r = vault.run("erasures", "reapply")
    assert r.code == 3 and "journal" in r.err
    assert vault.dump() == before
    os.rename(journal + ".away", journal)
    r = vault.ok("--json", "erasures", "reapply")
    assert r.json()["erasures_reapplied"] == 1
    assert vault.run("subject", "show", gone).code == 3
    assert vault.run("subject", "find", "email=janis.b@example.lv").code == 3
    vault.ok("subject", "show", keep)
    assert "re-applied 0 erasure" in vault.ok("erasures", "reapply").out
    actions = [e["action"] for e in vault.ok("--json", "audit", "log").json()]
    assert actions.count("vault.reapply_erasures") == 2
    assert vault.run("erasures", "again").code == 2


def test_restore_other_vault_refused(vault, tmp_path):
    vault.add("name=A")
    other = type(vault)(tmp_path / "other")
    other.ok("init", "--policy", POLICY)
    bak = str(tmp_path / "other.db")
    other.ok("backup", bak)
    before = vault.dump()
    r = vault.run("restore", bak)
    assert r.code == 6 and "vault" in r.err
    assert vault.dump() == before


def test_audit_trail(vault):
    sid = vault.add("name=A", "email=a@example.lv")
    vault.ok("subject", "show", sid, "--actor", "alice", "--purpose", "support")
    entries = vault.ok("--json", "audit", "log").json()
    assert [e["action"] for e in entries] == \
        ["vault.init", "policy.apply", "subject.create", "subject.read"]
    last = entries[-1]
    assert (last["actor"], last["role"], last["purpose"], last["result"]) == \
        ("alice", "operator", "support", "ok")
    # The person appears as a pseudonym, never as the id or a value.
    assert last["subject"] and sid.replace("-", "") not in last["subject"]
    assert b"a@example.lv" not in vault.raw()


def test_schema_newer_refused(vault):
    vault.add("name=A")
    vault.sql("INSERT INTO schema_migrations (version, name, applied) VALUES (99, 'future', 0)")
    r = vault.run("subject", "list")
    assert r.code == 6 and "newer than this sargs supports" in r.err and "99" in r.err


def test_bad_store_address(bare):
    for store, code in [("postgres://sargs:Secret99@127.0.0.1:1/sargs", 10),
                        ("postgres://sargs:Secret99@127.0.0.1:1/sargs?bogus=%zz", 4),
                        ("mysql://sargs:Secret99@host/db", 4)]:
        r = bare.run("--store", store, "subject", "list")
        assert r.code == code, (store, r)
        assert "Secret99" not in r.err + r.out
