"""The command viewing as a policy role (--as, --as-viewer, --as-scope), group
memberships, and the reserved operator role."""
import os

from conftest import EXAMPLES, Vault

ETWINNING = os.path.join(EXAMPLES, "etwinning.yaml")


def test_views_from_the_command_line(tmp_path):
    v = Vault(tmp_path / "v")
    v.ok("init", "--policy", ETWINNING)
    a = v.add("name=Anna", "email=anna@skola.lv", "country=LV", "group_posts=hello")
    b = v.add("name=Berta", "email=berta@skola.lv", "country=LV")
    c = v.add("name=Cecīlija", "email=c@kool.ee", "country=EE")
    assert v.ok("subject", "join", a, "twinspace-7").out.strip() == f"{a} joined group twinspace-7"
    v.ok("subject", "join", b, "twinspace-7")
    assert v.run("subject", "join", b, "twinspace-7").code == 6
    assert v.run("subject", "join", b, "no spaces").code == 4

    pub = ["--as", "public", "--purpose", "community"]
    shown = v.ok("--json", *pub, "subject", "show", a).json()
    assert set(shown["fields"]) == {"user.name.first", "user.school.country"}
    assert "events" not in shown
    # Text output leaves out what the role does not see, too.
    text = v.ok(*pub, "subject", "show", a).out
    assert "anna@skola.lv" not in text and "hello" not in text and "events" not in text

    user = ["--as", "registered_user", "--purpose", "community"]
    assert "user.content.group_posts" in v.ok("--json", *user, "--as-viewer", b, "subject",
                                              "show", a).json()["fields"]
    assert "user.content.group_posts" not in v.ok("--json", *user, "--as-viewer", c, "subject",
                                                  "show", a).json()["fields"]
    r = v.run(*user, "subject", "find", "email=anna@skola.lv")
    assert r.code == 5 and "may not see category 'user.contact.email'" in r.err

    nso = ["--as", "nso", "--purpose", "national-verification", "--as-scope", "LV"]
    listed = v.ok(*nso, "subject", "list").out
    assert a in listed and b in listed and c not in listed
    assert v.run(*nso, "subject", "show", c).code == 5
    assert v.run(*nso, "subject", "erase", a).code == 5
    assert v.run(*nso, "subject", "update", a, "--field", "country=EE", "--reason",
                 "move").code == 5

    # Roles and purposes must be the policy's.
    r = v.run("--as", "janitor", "subject", "show", a)
    assert r.code == 5 and "not a role of the policy" in r.err
    r = v.run("--as", "public", "--purpose", "marketing", "subject", "show", a)
    assert r.code == 5 and "not a purpose of the policy" in r.err
    assert v.run("--as-viewer", "not-an-id", "subject", "show", a).code == 2

    # Each refusal is on the record; the operator still sees everything.
    log = v.ok("--json", "audit", "log").json()
    assert sum(e["result"] == "denied" for e in log) == 6
    full = v.ok("--json", "subject", "show", a).json()
    assert full["groups"] == ["twinspace-7"] and "user.contact.email" in full["fields"]
    assert v.ok("subject", "leave", a, "twinspace-7").out.strip() == f"{a} left group twinspace-7"
    assert v.run("subject", "leave", a, "twinspace-7").code == 3


def test_tokens_follow_the_policy(tmp_path):
    v = Vault(tmp_path / "v")
    v.ok("init", "--policy", ETWINNING)
    r = v.run("--purpose", "community", "token", "create", "--name", "x", "--role", "operator")
    assert r.code == 4 and "no credential gets the operator's" in r.err
    r = v.run("--purpose", "marketing", "token", "create", "--name", "x", "--role", "public")
    assert r.code == 4 and "not a purpose" in r.err
    r = v.run("--purpose", "community", "token", "create", "--name", "x", "--role", "public",
              "--scope", "LV")
    assert r.code == 4 and "scope means nothing" in r.err
    r = v.run("--purpose", "national-verification", "token", "create", "--name", "x", "--role",
              "nso", "--scope", "Latvia")
    assert r.code == 4
    t = v.ok("--json", "--purpose", "national-verification", "token", "create", "--name", "lv",
             "--role", "nso", "--scope", "lv").json()
    assert t["scope"] == "LV"
    assert v.ok("--json", "token", "list").json()[0]["scope"] == "LV"


def test_operator_is_reserved(tmp_path):
    text = open(ETWINNING).read().replace("  - id: eacea\n", "  - id: operator\n")
    p = tmp_path / "p.yaml"
    p.write_text(text)
    r = Vault(tmp_path / "v").run("policy", "check", str(p), use_dir=False)
    assert r.code == 4 and "reserved" in r.out + r.err
