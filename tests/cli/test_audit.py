"""`sargs audit`: heads, the verifier key, proofs, offline checks that need
no vault, verification, and what an administrator editing the database
cannot hide (on SQLite or PostgreSQL, see conftest.py)."""

from conftest import POLICY


def fill(vault, n=5):
    ids = [vault.add(f"name=P{i}", f"email=p{i}@example.lv") for i in range(n)]
    return ids


def test_head_key_and_offline_check(vault, tmp_path):
    fill(vault)
    head = vault.ok("audit", "head").out
    lines = head.split("\n")
    assert lines[0].startswith("sargs/") and lines[1] == "7" and lines[3] == ""
    assert lines[4].startswith("\u2014 " + lines[0] + " ")
    key = vault.ok("audit", "key").out.strip()
    assert key.startswith(lines[0] + "+")
    f = tmp_path / "head.txt"
    f.write_text(head)
    # Anyone with the key checks the head without the vault.
    r = vault.run("audit", "check-head", "--key", key, str(f), use_dir=False)
    assert r.code == 0 and "size 7" in r.out
    r = vault.run("audit", "check-head", "--key", key, use_dir=False, stdin=head.replace("\n7\n", "\n8\n"))
    assert r.code == 5 and "signature" in r.err
    other = type(vault)(tmp_path / "other")
    other.ok("init", "--policy", POLICY)
    r = vault.run("audit", "check-head", "--key", other.ok("audit", "key").out.strip(), str(f),
                  use_dir=False)
    assert r.code == 5
    j = vault.ok("--json", "audit", "head").json()
    assert j["size"] == 7 and len(j["root"]) == 64 and j["note"] == head
    heads = vault.ok("--json", "audit", "heads").json()
    assert [h["size"] for h in heads] == [2, 3, 4, 5, 6, 7]
    assert vault.ok("--json", "audit", "heads", "--since", "5").json()[0]["size"] == 5


def test_prove_and_check_inclusion(vault):
    fill(vault)
    root = vault.ok("--json", "audit", "head").json()["root"]
    for i in range(7):
        p = vault.ok("--json", "audit", "prove", str(i)).json()
        assert p["root"] == root and p["size"] == 7
        args = ["audit", "check-inclusion", "--leaf-hash", p["leaf_hash"], "--index", str(i),
                "--size", "7", "--root", root, "--proof", ",".join(p["proof"])]
        assert vault.run(*args, use_dir=False).code == 0
        bad = list(args)
        bad[5] = str((i + 1) % 7)
        assert vault.run(*bad, use_dir=False).code == 5
    p = vault.ok("--json", "audit", "prove", "1", "--size", "3").json()
    assert p["size"] == 3
    assert vault.run("audit", "prove", "7").code == 4
    assert vault.run("audit", "prove", "1", "--size", "99").code == 4
    assert vault.run("audit", "prove", "x").code == 2


def test_offline_checks_reject(bare):
    # The RFC 6962 vectors: leaf 0 of 8.
    l0 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    proof = ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]
    root = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    base = ["audit", "check-inclusion", "--leaf-hash", l0, "--index", "0", "--size", "8",
            "--root", root]
    ok = bare.run(*base, "--proof", ",".join(proof), use_dir=False)
    assert ok.code == 0 and ok.out.strip() == "valid"
    cases = [
        base[:5] + ["8"] + base[6:] + ["--proof", ",".join(proof)],          # index >= size
        base + ["--proof", ",".join(proof[:2])],                             # too short
        base + ["--proof", ",".join(proof + [proof[0]])],                    # too long
        base + ["--proof", ",".join(proof[:2] + ["00" * 31])],               # 31-byte hash
        base + ["--proof", ",".join(proof[:2] + ["zz" * 32])],               # not hex
        base[:3] + ["abcd"] + base[4:] + ["--proof", ",".join(proof)],       # short leaf hash
    ]
    for args in cases:
        r = bare.run(*args, use_dir=False)
        assert r.code == 5, (args, r)
    assert bare.run("audit", "check-inclusion", "--index", "0", use_dir=False).code == 2
    # Consistency 1 -> 8 (the vector), m == n, and a bad proof.
    r1 = l0
    c = ["audit", "check-consistency", "--size1", "1", "--size2", "8", "--root1", r1,
         "--root2", root]
    assert bare.run(*c, "--proof", ",".join(proof), use_dir=False).code == 0
    assert bare.run(*c, "--proof", ",".join(proof[:2]), use_dir=False).code == 5
    same = ["audit", "check-consistency", "--size1", "8", "--size2", "8", "--root1", root,
            "--root2", root]
    assert bare.run(*same, use_dir=False).code == 0
    assert bare.run(*same, "--proof", proof[0], use_dir=False).code == 5
    r = bare.run("--json", *same[:-1], r1, use_dir=False)
    assert r.code == 5 and r.json()["error"]["code"] == "denied"


def test_consistency_command(vault):
    fill(vault, 3)
    old = vault.ok("--json", "audit", "head").json()
    fill(vault, 4)
    new = vault.ok("--json", "audit", "head").json()
    c = vault.ok("--json", "audit", "consistency", str(old["size"])).json()
    assert c["root1"] == old["root"] and c["root2"] == new["root"] and c["size2"] == new["size"]
    args = ["audit", "check-consistency", "--size1", str(old["size"]), "--size2",
            str(new["size"]), "--root1", old["root"], "--root2", new["root"], "--proof",
            ",".join(c["proof"])]
    assert vault.run(*args, use_dir=False).code == 0


def test_verify_and_tampering(vault):
    fill(vault)
    r = vault.ok("audit", "verify")
    assert "7 entries" in r.out and "6 signed heads" in r.out
    vault.unguard()
    vault.sql(f"UPDATE audit_log SET leaf = substr(leaf, 1, 12) || {vault.blob('58')} || "
              "substr(leaf, 14) WHERE idx = 2")
    r = vault.run("audit", "verify")
    assert r.code == 5 and "entry 2 was altered" in r.err
    j = vault.run("--json", "audit", "verify")
    assert j.code == 5 and j.json()["valid"] is False and j.json()["first_bad_entry"] == 2


def test_truncation_caught_by_exported_head(vault, tmp_path):
    """Removing the last entries together with their heads leaves a log
    that agrees with itself; a head kept outside the administrators' reach
    shows it."""
    fill(vault, 5)
    kept = vault.ok("--json", "audit", "head").json()
    vault.unguard()
    vault.sql("DELETE FROM audit_log WHERE idx >= 5")
    vault.sql("DELETE FROM audit_heads WHERE size > 5")
    vault.sql("DELETE FROM audit_nodes")  # (the tree is rebuilt by nobody: gone)
    r = vault.run("audit", "consistency", str(kept["size"]) )
    assert r.code == 4  # the log is shorter than a head the auditor holds
    r = vault.run("audit", "verify")
    assert r.code == 5


def test_log_by_subject_and_erasure(vault):
    a = vault.add("name=A", "email=a@example.lv")
    vault.add("name=B", "email=b@example.lv")
    vault.ok("subject", "update", a, "--field", "email=c@example.lv", "--reason", "moved house")
    entries = vault.ok("--json", "audit", "log", "--subject", a).json()
    acts = [e["action"] for e in entries]
    # (A listing's own entry is written when it commits, after it is read.)
    assert acts == ["subject.create", "subject.update"]
    entries = vault.ok("--json", "audit", "log", "--subject", a).json()
    assert [e["action"] for e in entries] == ["subject.create", "subject.update", "audit.read"]
    assert entries[1]["details"] == "moved house"
    assert len({e["subject"] for e in entries}) == 1
    vault.ok("subject", "erase", a)
    entries = vault.ok("--json", "audit", "log", "--subject", a).json()
    upd = [e for e in entries if e["action"] == "subject.update"][0]
    assert upd["details"] == "[sealed]"
    vault.ok("audit", "verify")
    since = vault.ok("--json", "audit", "log", "--since", "2100-01-01").json()
    assert since == []
    assert len(vault.ok("--json", "audit", "log", "--limit", "2").json()) == 2
    assert vault.run("audit", "log", "--subject", "nope").code == 4


def test_archive_commands(bare, tmp_path):
    v = bare
    v.ok("init", "--policy", POLICY, env={"SARGS_NOW": "2025-01-01T00:00:00Z"})
    v.ok("subject", "add", "--field", "name=A", env={"SARGS_NOW": "2025-01-02T00:00:00Z"})
    v.ok("subject", "add", "--field", "name=B", env={"SARGS_NOW": "2025-09-01T00:00:00Z"})
    f = str(tmp_path / "a.jsonl")
    r = v.run("audit", "archive", "--before", "2025-02-01", f, env={"SARGS_NOW": "2025-12-01T00:00:00Z"})
    assert r.code == 4 and "12 months" in r.err
    r = v.ok("--json", "audit", "archive", "--before", "2025-02-01", f,
             env={"SARGS_NOW": "2026-03-01T00:00:00Z"})
    assert r.json()["from"] == 0 and r.json()["to"] == 3
    key = v.ok("audit", "key").out.strip()
    assert v.run("audit", "check-archive", "--key", key, f, use_dir=False).code == 0
    assert v.ok("audit", "verify").code == 0
    acts = [e["action"] for e in v.ok("--json", "audit", "log").json()]
    assert acts == ["subject.create", "audit.archive"]
    lines = open(f).read().splitlines()
    lines[1] = lines[1].replace('"index":0', '"index":1')
    open(f, "w").write("\n".join(lines) + "\n")
    assert v.run("audit", "check-archive", "--key", key, f, use_dir=False).code == 5
    r = v.run("audit", "archive", "--before", "2025-02-01", str(tmp_path / "b.jsonl"),
              env={"SARGS_NOW": "2026-03-01T00:00:00Z"})
    assert r.code == 3


def test_restore_keeps_archive_mark_and_revocations(bare, tmp_path):
    """A restore keeps the live audit log, so it keeps the log's archive
    boundary too; and it keeps the live tokens, so a revocation made after
    the backup is not undone."""
    v = bare
    v.ok("init", "--policy", POLICY, env={"SARGS_NOW": "2025-01-01T00:00:00Z"})
    v.ok("subject", "add", "--field", "name=A", env={"SARGS_NOW": "2025-01-02T00:00:00Z"})
    tok = v.ok("--json", "--purpose", "service", "token", "create", "--name", "t", "--role",
               "support", env={"SARGS_NOW": "2025-01-03T00:00:00Z"}).json()
    bak = str(tmp_path / "before.db")
    v.ok("backup", bak, env={"SARGS_NOW": "2025-01-04T00:00:00Z"})
    v.ok("token", "revoke", tok["id"], env={"SARGS_NOW": "2025-01-05T00:00:00Z"})
    v.ok("audit", "archive", "--before", "2025-02-01", str(tmp_path / "a.jsonl"),
         env={"SARGS_NOW": "2026-03-01T00:00:00Z"})
    v.ok("restore", bak, env={"SARGS_NOW": "2026-03-02T00:00:00Z"})
    r = v.run("audit", "verify", env={"SARGS_NOW": "2026-03-02T00:00:00Z"})
    assert r.code == 0, r
    listed = v.ok("--json", "token", "list").json()
    assert [t["id"] for t in listed] == [tok["id"]] and listed[0]["revoked"]
