"""People at their own data over HTTP: a one-time code asked for by e-mail,
delivered through the outbox to a maildir by the server's housekeeping
thread, a session cookie that reaches only /v1/me, and what a person does
there: see their record, give and withdraw consent, take the access package
and the portable export, make a request and follow it."""
import email
import re
import subprocess
import threading
import time

import pytest

from conftest import ETWINNING, SARGS, Vault, token


@pytest.fixture
def me(tmp_path, serve):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", ETWINNING)
    w = type("W", (), {})()
    w.v = v
    w.anna = v.ok("--json", "subject", "add", "--field", "name=Anna", "--field",
                  "email=anna@skola.lv", "--field", "country=LV", "--field",
                  "school_role=teacher").json()["id"]
    w.janis = v.ok("--json", "subject", "add", "--field", "name=Jānis", "--field",
                   "email=janis@skola.lv", "--field", "country=LV", "--field",
                   "school_role=teacher").json()["id"]
    w.maildir = tmp_path / "mail"
    w.s = serve(v, "--sweep-every", "0", "--transport", f"maildir:{w.maildir}",
                "--from", "etwinning@example.org")
    w.staff = token(v, "central_support", "community")
    return w


def codes_to(w, addr, seen):
    """The codes in messages to `addr` not seen before, waiting for one."""
    for _ in range(200):
        new = []
        d = w.maildir / "new"
        for f in sorted(d.iterdir()) if d.exists() else []:
            if f.name in seen:
                continue
            msg = email.message_from_bytes(f.read_bytes())
            if msg["To"] != addr:
                continue
            seen.add(f.name)
            body = msg.get_payload(decode=True).decode()
            m = re.search(r"\b(\d{8})\b", body)
            if m:
                new.append(m.group(1))
        if new:
            return new
        time.sleep(0.05)
    raise AssertionError("no code arrived")


class SourceAdapter(__import__("requests").adapters.HTTPAdapter):
    """Connects from a given loopback address (each a client of its own)."""

    def __init__(self, addr):
        self.addr = addr
        super().__init__()

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.addr, 0)
        super().init_poolmanager(*a, **kw)


def cookie_of(r):
    c = r.headers["Set-Cookie"]
    assert "HttpOnly" in c and "Secure" in c and "SameSite=Strict" in c, c
    assert "Path=/v1/me;" in c, c
    assert c.startswith("sargs_me="), c
    return c.split(";")[0].split("=", 1)[1]


def as_me(w, method, path, cookie, **kw):
    return w.s.call(method, path, headers={"Cookie": f"sargs_me={cookie}"}, **kw)


def sign_in(w, addr, seen):
    r = w.s.call("POST", "/v1/me/code", json={"email": addr})
    assert r.status_code == 202, r.text
    code = codes_to(w, addr, seen)[-1]
    r = w.s.call("POST", "/v1/me/session", json={"email": addr, "code": code})
    assert r.status_code == 200, r.text
    return cookie_of(r), code


def test_sign_in_with_a_code(me):
    seen = set()
    # Unknown and known addresses get the same answer.
    a = me.s.call("POST", "/v1/me/code", json={"email": "nobody@skola.lv"})
    b = me.s.call("POST", "/v1/me/code", json={"email": "anna@skola.lv"})
    assert a.status_code == b.status_code == 202 and a.json() == b.json()
    code = codes_to(me, "anna@skola.lv", seen)[0]
    # A wrong code: 401, no cookie.
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    r = me.s.call("POST", "/v1/me/session", json={"email": "anna@skola.lv", "code": wrong})
    assert r.status_code == 401 and "Set-Cookie" not in r.headers
    assert r.json()["error"]["message"] == "wrong or expired code"
    r = me.s.call("POST", "/v1/me/session", json={"email": "nobody@skola.lv", "code": wrong})
    assert r.status_code == 401 and r.json()["error"]["message"] == "wrong or expired code"
    # Bad bodies.
    assert me.s.call("POST", "/v1/me/session", json={"email": "anna@skola.lv"}).status_code == 400
    assert me.s.call("POST", "/v1/me/code", json={"mail": "x"}).status_code == 400
    assert me.s.call("POST", "/v1/me/code", json={"email": 7}).status_code == 400
    # The right one, once.
    r = me.s.call("POST", "/v1/me/session", json={"email": "anna@skola.lv", "code": code})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": me.anna, "signed_in": True}
    c = cookie_of(r)
    r = me.s.call("POST", "/v1/me/session", json={"email": "anna@skola.lv", "code": code})
    assert r.status_code == 401

    got = as_me(me, "GET", "/v1/me", c)
    assert got.status_code == 200
    assert got.json()["id"] == me.anna
    assert got.json()["fields"]["user.contact.email"] == "anna@skola.lv"
    # The code is in no log, and the audit names the person.
    assert code not in me.s.output()
    log = me.v.ok("--json", "audit", "log").json()
    assert any(e["action"] == "person.session" and e["result"] == "ok" for e in log)
    assert log[-1]["actor"] == "person:" + me.anna and log[-1]["role"] == "self"
    assert log[-1]["action"] == "subject.read"

    # Sign out: the cookie is worth nothing after.
    r = as_me(me, "DELETE", "/v1/me/session", c)
    assert r.status_code == 200 and "Max-Age=0" in r.headers["Set-Cookie"]
    assert as_me(me, "GET", "/v1/me", c).status_code == 401


PUBLIC = {"GET /healthz", "GET /metrics", "GET /v1/openapi.yaml", "GET /.well-known/gpc.json",
          "GET /v1/notice", "POST /v1/session", "POST /v1/me/code", "POST /v1/me/session"}


def test_a_person_reaches_only_their_own(me):
    seen = set()
    c, _ = sign_in(me, "anna@skola.lv", seen)
    routes = subprocess.run([SARGS, "serve", "--routes"], capture_output=True, text=True,
                            check=True).stdout.split()
    routes = [f"{m} {p}" for m, p in zip(routes[::2], routes[1::2])]
    assert len(routes) > 40
    for route in routes:
        if route in PUBLIC:
            continue
        method, path = route.split(" ")
        path = (path.replace("{id}", me.anna).replace("{group}", "g").replace("{seq}", "1")
                .replace("{verb}", "verify").replace("{name}", "x"))
        body = {} if method in ("POST", "PUT", "PATCH") else None
        if path.startswith("/v1/me"):
            # ...a token or an operator's cookie opens nothing inside /v1/me...
            assert me.s.call(method, path, me.staff, json=body).status_code == 401, route
            r = me.s.call(method, path, headers={"Cookie": f"sargs_session={c}"}, json=body)
            assert r.status_code == 401, route
            continue
        # ...and the person's cookie nothing outside it, under either name.
        for name in ("sargs_me", "sargs_session"):
            r = me.s.call(method, path, headers={"Cookie": f"{name}={c}"}, json=body)
            assert r.status_code == 401, (route, name, r.status_code)
    assert me.s.call("GET", "/v1/me").status_code == 401
    assert as_me(me, "GET", "/v1/me", "sgp_" + "A" * 43).status_code == 401
    assert as_me(me, "GET", "/v1/me", "nonsense").status_code == 401
    assert as_me(me, "GET", "/v1/me", c).status_code == 200


def test_one_code_one_session_under_load(me):
    """Parallel tries of one code open one session; parallel wrong tries are
    all counted. Each thread comes from its own loopback address, past the
    per-address limit."""
    seen = set()
    assert me.s.call("POST", "/v1/me/code", json={"email": "anna@skola.lv"}).status_code == 202
    code = codes_to(me, "anna@skola.lv", seen)[0]
    port = me.s.base.rsplit(":", 1)[1]
    results = []

    def attempt(i, guess, who="anna@skola.lv"):
        import requests
        sess = requests.Session()
        sess.mount("http://", SourceAdapter(f"127.0.0.{10 + i}"))
        r = sess.post(f"http://127.0.0.1:{port}/v1/me/session",
                      json={"email": who, "code": guess}, timeout=30)
        results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i, code)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [401] * 7, results

    # A new code a minute later is not possible at once; use Jānis.
    assert me.s.call("POST", "/v1/me/code", json={"email": "janis@skola.lv"}).status_code == 202
    code = codes_to(me, "janis@skola.lv", seen)[0]
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    results.clear()
    threads = [threading.Thread(target=attempt, args=(i, wrong, "janis@skola.lv"))
               for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [401] * 20
    # Every wrong try counted: five used the code up, so the right one fails
    # now, exactly as it does for an address nobody has.
    r = me.s.call("POST", "/v1/me/session", json={"email": "janis@skola.lv", "code": code})
    u = me.s.call("POST", "/v1/me/session", json={"email": "nobody@skola.lv", "code": code})
    assert r.status_code == u.status_code == 401 and r.json() == u.json()
    log = me.v.ok("--json", "audit", "log").json()
    denied = [e for e in log if e["action"] == "person.session" and e["result"] == "denied"]
    assert len(denied) == 5   # tries of a live code; the rest met none


def test_consents_and_requests(me):
    seen = set()
    c, _ = sign_in(me, "anna@skola.lv", seen)
    r = as_me(me, "GET", "/v1/me/consents?lang=en", c)
    assert r.status_code == 200
    purposes = {p["purpose"]: p for p in r.json()["purposes"]}
    assert purposes["newsletter"]["state"] == "none" and purposes["newsletter"]["name"]
    assert r.json()["events"] == []

    r = as_me(me, "POST", "/v1/me/consents", c, json={"purpose": "newsletter", "state": "given"})
    assert r.status_code == 201, r.text
    may = me.s.call("GET", f"/v1/may?subject={me.anna}&purpose=newsletter", me.staff).json()
    assert may["allowed"] is True
    r = as_me(me, "POST", "/v1/me/consents", c,
              json={"purpose": "newsletter", "state": "withdrawn"})
    assert r.status_code == 201
    may = me.s.call("GET", f"/v1/may?subject={me.anna}&purpose=newsletter", me.staff).json()
    assert may["allowed"] is False
    r = as_me(me, "GET", "/v1/me/consents", c).json()
    assert [e["state"] for e in r["events"]] == ["given", "withdrawn"]
    assert all(e["method"] == "web_form" and e["by"] == "person" for e in r["events"])
    assert {p["purpose"]: p["state"] for p in r["purposes"]}["newsletter"] == "withdrawn"
    # Bad input changes nothing.
    for body in [{"purpose": "newsletter", "state": "maybe"}, {"purpose": "nope", "state": "given"},
                 {"purpose": "newsletter", "state": "given", "subject": me.janis}]:
        r = as_me(me, "POST", "/v1/me/consents", c, json=body)
        assert r.status_code == 400, (body, r.text)
    assert len(as_me(me, "GET", "/v1/me/consents", c).json()["events"]) == 2

    # The access package and the portable export, at once.
    r = as_me(me, "POST", "/v1/me/requests", c, json={"kind": "access"})
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["kind"] == "access" and j["state"] == "fulfilled" and j["identity"] == "account"
    assert any("anna@skola.lv" in f["content"] for f in j["files"])
    r = as_me(me, "POST", "/v1/me/requests", c, json={"kind": "portability"})
    assert r.status_code == 201 and r.json()["files"]
    # An erasure waits for the controller; the person follows it.
    r = as_me(me, "POST", "/v1/me/requests", c, json={"kind": "erasure"})
    assert r.status_code == 201 and r.json()["state"] == "verified" and "files" not in r.json()
    mine = as_me(me, "GET", "/v1/me/requests", c).json()["requests"]
    assert sorted(x["kind"] for x in mine) == ["access", "erasure", "portability"]
    assert all("actor" not in e for e in as_me(me, "GET", "/v1/me/consents", c).json()["events"])
    assert all(x["subject"] == me.anna for x in mine)
    # The controller's side is the self-service desk's, on her behalf.
    log = me.v.ok("--json", "audit", "log").json()
    req = [e for e in log if e["action"].startswith("request.")]
    assert req and all(e["actor"] == "sargs:self-service" for e in req)
    # Asked again with nothing changed: that one waits for the staff.
    r2 = as_me(me, "POST", "/v1/me/requests", c, json={"kind": "access"})
    assert r2.status_code == 201 and r2.json()["state"] == "verified"
    assert "files" not in r2.json() and r2.json()["identical_to"]
    # Staff see it among theirs.
    staff = me.s.call("GET", "/v1/requests", me.staff).json()["requests"]
    assert any(x["id"] == r.json()["id"] for x in staff)
    assert as_me(me, "POST", "/v1/me/requests", c, json={"kind": "bogus"}).status_code == 400
    assert as_me(me, "POST", "/v1/me/requests", c,
                 json={"kind": "access", "subject": me.janis}).status_code == 400

    # Jānis sees none of it.
    cj, _ = sign_in(me, "janis@skola.lv", seen)
    assert as_me(me, "GET", "/v1/me/requests", cj).json()["requests"] == []
    assert as_me(me, "GET", "/v1/me", cj).json()["id"] == me.janis

    # Erased by the controller: Anna's session ends.
    me.v.ok("subject", "erase", me.anna)
    assert as_me(me, "GET", "/v1/me", c).status_code == 401


def test_sign_in_attempts_are_limited(me):
    codes = 0
    for i in range(12):
        r = me.s.call("POST", "/v1/me/session",
                      json={"email": "anna@skola.lv", "code": f"{i:08d}"})
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "60"
            codes += 1
    assert codes >= 1
    r = me.s.call("POST", "/v1/me/code", json={"email": "anna@skola.lv"})
    assert r.status_code == 429
