"""Operators signing in over HTTP: Argon2id passwords under the policy's
rules, session cookies, the lockout and the per-address limit (429), expired
passwords, sign-out, and the audit trail of every attempt."""
import os

import pytest

from conftest import Vault

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
POLICY = os.path.join(ROOT, "tests", "data", "consent.yaml")
GOOD = "Correct-horse-7"


@pytest.fixture
def ow(tmp_path, serve):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", POLICY)
    w = type("W", (), {})()
    w.v = v
    w.a = v.add("name=Anna", "email=anna@x.lv")
    v.ok("--purpose", "service", "operator", "add", "desk", "--role", "support",
         stdin=GOOD + "\n")
    v.ok("--purpose", "newsletter", "operator", "add", "web", "--role", "visitor",
         stdin=GOOD + "\n")
    # a password set long ago, past the policy's rotation (P90D)
    v.ok("--purpose", "service", "operator", "add", "old", "--role", "support",
         stdin=GOOD + "\n", env={"SARGS_NOW": "2025-01-01T00:00:00Z"})
    w.s = serve(v)
    return w


def sign_in(w, login, password=GOOD):
    return w.s.call("POST", "/v1/session", json={"login": login, "password": password})


def cookie_of(r):
    c = r.headers["Set-Cookie"]
    assert "HttpOnly" in c and "Secure" in c and "SameSite=Strict" in c, c
    return c.split(";")[0].split("=", 1)[1]


def with_cookie(w, method, path, cookie, **kw):
    return w.s.call(method, path, headers={"Cookie": f"sargs_session={cookie}"}, **kw)


def test_sign_in_and_out(ow):
    r = sign_in(ow, "desk")
    assert r.status_code == 200, r.text
    assert r.json() == {"login": "desk", "role": "support", "purpose": "service",
                        "scope": None, "password_expired": False}
    c = cookie_of(r)
    assert with_cookie(ow, "GET", "/v1/session", c).json()["login"] == "desk"
    r = with_cookie(ow, "GET", f"/v1/subjects/{ow.a}", c)
    assert r.status_code == 200 and r.json()["fields"]["user.contact.email"] == "anna@x.lv"
    # the audit names the operator and the role
    last = ow.v.ok("--json", "audit", "log").json()[-1]
    assert (last["actor"], last["role"], last["action"]) == ("operator:desk", "support",
                                                             "subject.read")
    # a visitor's session sees what a visitor sees
    v = cookie_of(sign_in(ow, "web"))
    assert set(with_cookie(ow, "GET", f"/v1/subjects/{ow.a}", v).json()["fields"]) == {
        "user.name.first"}
    r = with_cookie(ow, "DELETE", "/v1/session", c)
    assert r.status_code == 200 and "Max-Age=0" in r.headers["Set-Cookie"]
    r = with_cookie(ow, "GET", f"/v1/subjects/{ow.a}", c)
    assert r.status_code == 401
    # a made-up or mangled cookie
    assert with_cookie(ow, "GET", "/v1/subjects", "sgs_" + "A" * 43).status_code == 401
    assert with_cookie(ow, "GET", "/v1/subjects", "nonsense").status_code == 401


def test_wrong_passwords_lock_the_account(ow):
    r = sign_in(ow, "nobody")
    assert r.status_code == 401 and r.json()["error"]["message"] == "wrong login or password"
    for _ in range(4):
        r = sign_in(ow, "desk", "Wrong-password-1")
        assert r.status_code == 401
        assert r.json()["error"]["message"] == "wrong login or password"
    r = sign_in(ow, "desk", "Wrong-password-1")   # the fifth
    assert r.status_code == 401
    r = sign_in(ow, "desk")                         # right, but locked
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 900
    assert r.json()["error"]["code"] == "too_many_attempts"
    ow.v.ok("operator", "unlock", "desk")
    assert sign_in(ow, "desk").status_code == 200
    log = ow.v.ok("--json", "audit", "log").json()
    results = [e["result"] for e in log if e["action"] == "session.open"]
    assert results == ["denied"] * 6 + ["locked", "ok"]
    # no password ever reaches the log or the audit trail
    _, out = ow.s.stop()
    assert "Wrong-password" not in out and GOOD not in out
    assert "Wrong-password" not in str(log)


def test_per_address_limit(ow):
    # Ten attempts a minute per address; the minute may turn during the run,
    # which only resets the count, so a 429 comes by the 21st attempt.
    rs = []
    for _ in range(22):
        rs.append(sign_in(ow, "nobody", "x"))
        if rs[-1].status_code == 429:
            break
    codes = [r.status_code for r in rs]
    assert codes[:10] == [401] * 10 and codes[-1] == 429, codes
    assert int(rs[-1].headers["Retry-After"]) == 60


def test_expired_password(ow):
    r = sign_in(ow, "old")
    assert r.status_code == 200 and r.json()["password_expired"] is True
    c = cookie_of(r)
    r = with_cookie(ow, "GET", f"/v1/subjects/{ow.a}", c)
    assert r.status_code == 403 and "expired" in r.json()["error"]["message"]
    bad = with_cookie(ow, "POST", "/v1/session/password", c, json={"old": GOOD, "new": "short"})
    assert bad.status_code == 400 and "at least 10 characters" in bad.json()["error"]["message"]
    assert "short" not in bad.text
    r = with_cookie(ow, "POST", "/v1/session/password", c,
                    json={"old": GOOD, "new": "Another-good-8"})
    assert r.status_code == 200 and "Max-Age=0" in r.headers["Set-Cookie"]
    assert with_cookie(ow, "GET", "/v1/session", c).status_code == 401
    r = sign_in(ow, "old", "Another-good-8")
    assert r.status_code == 200 and r.json()["password_expired"] is False


def test_operator_commands(ow):
    v = ow.v
    r = v.run("--purpose", "service", "operator", "add", "weak", "--role", "support",
              stdin="password\n")
    assert r.code == 4 and "at least 10 characters" in r.err and "password" not in r.err.split(":")[0]
    r = v.run("--purpose", "service", "operator", "add", "weak", "--role", "support",
              stdin="aaaaaaaaaaaaaaa\n")
    assert r.code == 4 and "mixes at least 3" in r.err
    r = v.run("--purpose", "service", "operator", "add", "desk", "--role", "support",
              stdin=GOOD + "\n")
    assert r.code == 6
    r = v.run("--purpose", "service", "operator", "add", "Bad Login", "--role", "support",
              stdin=GOOD + "\n")
    assert r.code == 4
    r = v.run("--purpose", "service", "operator", "add", "x", "--role", "operator",
              stdin=GOOD + "\n")
    assert r.code == 4
    listed = {o["login"]: o for o in v.ok("--json", "operator", "list").json()}
    assert set(listed) == {"desk", "web", "old"} and listed["old"]["password_expired"]
    # disabling ends sessions at once
    c = cookie_of(sign_in(ow, "desk"))
    v.ok("operator", "disable", "desk")
    assert with_cookie(ow, "GET", "/v1/session", c).status_code == 401
    assert sign_in(ow, "desk").status_code == 401
    assert v.run("operator", "disable", "desk").code == 6
    v.ok("operator", "enable", "desk")
    assert sign_in(ow, "desk").status_code == 200
    # an administrator's reset ends sessions too
    c = cookie_of(sign_in(ow, "web"))
    v.ok("operator", "passwd", "web", stdin="Brand-new-pass-9\n")
    assert with_cookie(ow, "GET", "/v1/session", c).status_code == 401
    assert sign_in(ow, "web", "Brand-new-pass-9").status_code == 200
