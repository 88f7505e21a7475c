"""The HTTP API over a vault on the eTwinning policy: one test per role of
the source document's visibility rules, every bad input of the issue, and
the agreement between the server, the command and the OpenAPI document."""
import json
import os
import re
import signal
import socket

import pytest
import yaml

from conftest import ETWINNING, SARGS, token

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))

ALL = {
    "email": "user.contact.email",
    "name": "user.name.first",
    "surname": "user.name.last",
    "school_role": "user.job.school_role",
    "school_name": "user.school.name",
    "school_city": "user.school.city",
    "school_region": "user.school.region",
    "country": "user.school.country",
    "principal_name": "user.school.principal.name",
    "principal_email": "user.school.principal.email",
    "projects": "user.activity.projects",
    "group_posts": "user.content.group_posts",
}
PUBLIC = {"user.name.first", "user.name.last", "user.school.name", "user.school.city",
          "user.school.region", "user.school.country", "user.activity.projects"}
# Values that must never reach the server's own log.
SECRETS = ["anna@skola.lv", "Ozoliņa", "post of anna", "cecilia@kool.ee", "Direktors"]


def person(v, email, surname, country, posts):
    vals = {"email": email, "name": "Anna", "surname": surname, "school_role": "teacher",
            "school_name": "Rīgas 1. vidusskola", "school_city": "Rīga", "school_region": "Rīga",
            "country": country, "principal_name": "Direktors",
            "principal_email": "direktors@skola.lv", "projects": "Cloud atlas",
            "group_posts": posts}
    return v.add(*[f"{k}={val}" for k, val in vals.items()])


@pytest.fixture
def world(etwinning, serve):
    """Three teachers (a and b in Latvia and in group g1, c in Estonia), a
    token per role, and the server."""
    v = etwinning
    w = type("World", (), {})()
    w.v = v
    w.a = person(v, "anna@skola.lv", "Ozoliņa", "LV", "post of anna")
    w.b = person(v, "berta@skola.lv", "Bērziņa", "LV", "post of berta")
    w.c = person(v, "cecilia@kool.ee", "Tamm", "EE", "post of cecilia")
    v.ok("subject", "join", w.a, "g1")
    v.ok("subject", "join", w.b, "g1")
    w.t = {
        "registered_user": token(v, "registered_user", "community"),
        "public": token(v, "public", "community"),
        "eacea": token(v, "eacea", "monitoring"),
        "commission": token(v, "commission", "monitoring"),
        "central_support": token(v, "central_support", "community"),
        "nso": token(v, "nso", "national-verification", scope="lv"),
    }
    w.s = serve(v)
    return w


def fields(r):
    assert r.status_code == 200, r.text
    return set(r.json()["fields"])


def error(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    e = r.json()["error"]
    assert set(e) == {"code", "message"} and e["message"]
    if code:
        assert e["code"] == code, e
    return e["message"]


def audit_last(v):
    return v.ok("--json", "audit", "log").json()[-1]


# ------------------------------------------------------------ the roles


def test_registered_user(world):
    s, t = world.s, world.t["registered_user"]
    # Another teacher in the same group: everything but e-mail and principal,
    # group content included; no usage data of someone else.
    r = s.call("GET", f"/v1/subjects/{world.a}", t, headers={"Sargs-Viewer": world.b})
    got = fields(r)
    assert got == set(ALL.values()) - {"user.contact.email", "user.school.principal.name",
                                       "user.school.principal.email"}
    assert "events" not in r.json() and "groups" not in r.json()
    # Someone outside the group: no group content.
    got = fields(s.call("GET", f"/v1/subjects/{world.a}", t, headers={"Sargs-Viewer": world.c}))
    assert "user.content.group_posts" not in got and "user.name.first" in got
    # No viewer named: no group content either.
    assert "user.content.group_posts" not in fields(s.call("GET", f"/v1/subjects/{world.a}", t))
    # A look-up by e-mail would reveal whether an address is registered.
    r = s.call("POST", "/v1/lookup", t, json={"category": "email", "value": "anna@skola.lv"})
    error(r, 403, "denied")
    last = audit_last(world.v)
    assert (last["action"], last["result"], last["role"]) == ("subject.find", "denied",
                                                              "registered_user")
    # Writes: only the viewer's own record.
    body = {"fields": {"projects": "eTwinning school"}, "reason": "mine"}
    r = s.call("PATCH", f"/v1/subjects/{world.a}", t, headers={"Sargs-Viewer": world.a}, json=body)
    assert r.status_code == 200 and r.json()["changed"] == 1, r.text
    r = s.call("PATCH", f"/v1/subjects/{world.b}", t, headers={"Sargs-Viewer": world.a}, json=body)
    error(r, 403, "denied")


def test_public(world):
    s, t = world.s, world.t["public"]
    r = s.call("GET", f"/v1/subjects/{world.a}", t)
    assert fields(r) == PUBLIC
    assert r.json()["fields"]["user.name.last"] == "Ozoliņa"
    assert "events" not in r.json() and "history" not in r.json()
    error(s.call("DELETE", f"/v1/subjects/{world.a}", t), 403, "denied")
    error(s.call("POST", "/v1/subjects", t, json={"fields": {"name": "X"}}), 403, "denied")
    error(s.call("GET", "/v1/audit/log", t), 403, "denied")
    # The person is still there, unchanged.
    assert world.v.ok("--json", "subject", "show", world.a).json()["state"] == "active"


@pytest.mark.parametrize("role", ["eacea", "commission", "central_support"])
def test_eu_level_sees_everything(world, role):
    s, t = world.s, world.t[role]
    for who in (world.a, world.c):
        r = s.call("GET", f"/v1/subjects/{who}?history=1", t)
        assert fields(r) == set(ALL.values())
        assert "events" in r.json() and "groups" in r.json()
    assert s.call("GET", f"/v1/subjects/{world.a}", t).json()["groups"] == ["g1"]
    r = s.call("POST", "/v1/lookup", t, json={"category": "email", "value": "Cecilia@Kool.EE"})
    assert r.json() == {"matches": [world.c], "count": 1}


def test_national_organisation(world):
    s, t = world.s, world.t["nso"]
    got = fields(s.call("GET", f"/v1/subjects/{world.a}", t))
    assert got == set(ALL.values()) - {"user.content.group_posts"}
    before = world.v.ok("--json", "audit", "log").json()
    error(s.call("GET", f"/v1/subjects/{world.c}", t), 403, "denied")
    after = world.v.ok("--json", "audit", "log").json()
    denied = [e for e in after[len(before):] if e["result"] == "denied"]
    assert [(e["action"], e["role"]) for e in denied] == [("subject.read", "nso")]
    # Listing and look-up: only Latvians.
    r = s.call("GET", "/v1/subjects?limit=10", t)
    # (ids made by separate commands in one fixed millisecond: any order)
    assert sorted(x["id"] for x in r.json()["subjects"]) == sorted([world.a, world.b])
    r = s.call("POST", "/v1/lookup", t, json={"category": "email", "value": "cecilia@kool.ee"})
    assert r.json() == {"matches": [], "count": 0}
    # It adds people of its country only.
    r = s.call("POST", "/v1/subjects", t, json={"fields": {"name": "Mari", "country": "EE"}})
    error(r, 403, "denied")
    r = s.call("POST", "/v1/subjects", t, json={"fields": {"name": "Māra", "country": "LV"}})
    assert r.status_code == 201, r.text


def test_cli_and_http_agree(world):
    """One rule in one place: the command viewing as a role answers as the
    server does for a token of that role."""
    s = world.s
    for role, purpose, extra in [("public", "community", []),
                                 ("nso", "national-verification", ["--as-scope", "LV"]),
                                 ("registered_user", "community", ["--as-viewer", world.b])]:
        cli = world.v.ok("--json", "--as", role, "--purpose", purpose, *extra, "subject", "show",
                         world.a).json()
        h = {"Sargs-Viewer": world.b} if role == "registered_user" else {}
        http = s.call("GET", f"/v1/subjects/{world.a}", world.t[role], headers=h).json()
        assert cli["fields"] == http["fields"], role
    r = world.v.run("--as", "nso", "--as-scope", "LV", "--purpose", "national-verification",
                    "subject", "show", world.c)
    assert r.code == 5 and "outside the view" in r.err


def test_purpose(world):
    s, t = world.s, world.t["central_support"]
    r = s.call("GET", f"/v1/subjects/{world.a}", t, headers={"Sargs-Purpose": "newsletter"})
    assert r.status_code == 200
    error(s.call("GET", f"/v1/subjects/{world.a}", t, headers={"Sargs-Purpose": "marketing"}),
          403, "denied")
    assert audit_last(world.v)["purpose"] == "marketing"
    error(s.call("GET", f"/v1/subjects/{world.a}", t, headers={"Sargs-Purpose": "a\tb"}), 400)


def test_groups(world):
    s, t = world.s, world.t["central_support"]
    r = s.call("PUT", f"/v1/subjects/{world.c}/groups/g1", t)
    assert r.json() == {"id": world.c, "group": "g1", "member": True}
    error(s.call("PUT", f"/v1/subjects/{world.c}/groups/g1", t), 409, "conflict")
    # Now c shares g1 with a, and sees a's group posts.
    got = fields(s.call("GET", f"/v1/subjects/{world.a}", world.t["registered_user"],
                        headers={"Sargs-Viewer": world.c}))
    assert "user.content.group_posts" in got
    assert s.call("DELETE", f"/v1/subjects/{world.c}/groups/g1", t).json()["member"] is False
    error(s.call("DELETE", f"/v1/subjects/{world.c}/groups/g1", t), 404, "not_found")
    error(s.call("PUT", f"/v1/subjects/{world.c}/groups/bad%20group", t), 400, "invalid")


# ------------------------------------------------------------ bad input


def test_credentials(world):
    s = world.s
    r = s.call("GET", "/v1/subjects")
    error(r, 401, "denied")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    for bad in ["nonsense", "sgt_aaaaaaaaaaaa_bbbb", world.t["public"][:-2] + "xx",
                world.t["public"] + "x"]:
        error(s.call("GET", "/v1/subjects", bad), 401, "denied")
    error(s.call("GET", "/v1/subjects", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    tid = world.t["public"].split("_")[1]
    world.v.ok("token", "revoke", tid)
    error(s.call("GET", f"/v1/subjects/{world.a}", world.t["public"]), 401, "denied")


def test_bad_bodies(world):
    s, t = world.s, world.t["central_support"]
    url = "/v1/subjects"
    # over the limit (1 MiB by default): refused before it is read whole
    big = json.dumps({"fields": {"name": "x" * (1 << 20)}})
    error(s.call("POST", url, t, data=big, headers={"Content-Type": "application/json"}), 413,
          "too_big")
    # wrong content type
    error(s.call("POST", url, t, data="name=x",
                 headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    # not JSON, and invalid UTF-8 inside a string
    error(s.call("POST", url, t, data="{", headers={"Content-Type": "application/json"}), 400,
          "invalid")
    error(s.call("POST", url, t, data=b'{"fields":{"name":"\xff\xfe"}}',
                 headers={"Content-Type": "application/json"}), 400, "invalid")
    # nested too deep
    deep = '{"fields":' + '{"a":' * 20 + '1' + '}' * 20 + '}'
    msg = error(s.call("POST", url, t, data=deep, headers={"Content-Type": "application/json"}),
                400, "invalid")
    assert "deeper" in msg
    # an unknown field is named
    msg = error(s.call("POST", url, t, json={"fields": {"name": "X"}, "colour": "red"}), 400)
    assert "colour" in msg
    # a malformed value: the category is named, the value never
    msg = error(s.call("POST", url, t, json={"fields": {"email": "not-an-address"}}), 400)
    assert "user.contact.email" in msg and "not-an-address" not in msg
    # wrong method, unknown route, malformed id
    error(s.call("PUT", url, t, json={}), 405)
    error(s.call("GET", "/v1/nothing", t), 404, "not_found")
    error(s.call("GET", "/v1/subjects/not-an-id", t), 400, "invalid")
    # nothing of it was written
    assert len(world.v.ok("--json", "subject", "list").json()["subjects"]) == 3


def test_no_personal_data_in_server_log(world):
    s = world.s
    for who in (world.a, world.c):
        s.call("GET", f"/v1/subjects/{who}", world.t["nso"])
    s.call("POST", "/v1/lookup", world.t["eacea"],
           json={"category": "email", "value": "anna@skola.lv"})
    s.call("POST", "/v1/subjects", world.t["eacea"], json={"fields": {"email": "bad"}})
    code, out = s.stop()
    assert code == 0
    for secret in SECRETS + [world.a, world.c]:
        assert secret not in out, secret
    # the access log names route templates
    assert "/v1/subjects/{id}" in out


# ------------------------------------------------------------ the server itself


def test_routes_match_openapi():
    import subprocess
    routes = set(subprocess.run([SARGS, "serve", "--routes"], capture_output=True, text=True,
                                check=True).stdout.split("\n")) - {""}
    doc = yaml.safe_load(open(os.path.join(ROOT, "docs", "api", "openapi.yaml")))
    documented = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    assert routes == documented, (routes - documented, documented - routes)


def test_public_endpoints(world):
    s = world.s
    r = s.call("GET", "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = s.call("GET", "/.well-known/gpc.json")
    assert r.json()["gpc"] is True
    r = s.call("GET", "/v1/openapi.yaml")
    assert r.text == open(os.path.join(ROOT, "docs", "api", "openapi.yaml")).read()
    s.call("GET", f"/v1/subjects/{world.a}", world.t["eacea"])
    m = s.call("GET", "/metrics").text
    assert re.search(r'sargs_requests_total\{method="GET",route="/v1/subjects/\{id\}",'
                     r'status="2xx"\} 1', m), m
    assert world.a not in m


def test_policy_reload_on_sighup(world):
    """A new version applied while the server runs is followed on SIGHUP."""
    s, t = world.s, world.t["public"]
    assert "user.contact.email" not in fields(s.call("GET", f"/v1/subjects/{world.a}", t))
    text = open(ETWINNING).read()
    text2 = text.replace(
        "fields: [name, surname, school_name, school_city, school_region, country, projects]",
        "fields: [name, surname, school_name, school_city, school_region, country, projects, "
        "school_role]")
    assert text2 != text
    path = os.path.join(os.path.dirname(world.v.dir), "etwinning-2.yaml")
    open(path, "w").write(text2)
    world.v.ok("policy", "apply", path)
    s.proc.send_signal(signal.SIGHUP)
    import time
    for _ in range(100):
        if "user.job.school_role" in fields(s.call("GET", f"/v1/subjects/{world.a}", t)):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the new version was not followed")


def test_listen_errors(etwinning):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = etwinning.run("serve", "--listen", f"127.0.0.1:{port}")
        assert r.code == 10 and "cannot listen" in r.err
    for bad in ["nowhere", "127.0.0.1:99999", "300.1.1.1:80"]:
        assert etwinning.run("serve", "--listen", bad).code == 2
    assert etwinning.run("serve", "--threads", "0").code == 2
    assert etwinning.run("serve", "--max-body", "10").code == 2


def test_concurrent_requests_share_commits(world):
    """Many requests at once: each read and write is one audit entry, the log
    verifies, and commits were shared (fewer signed heads than entries)."""
    import concurrent.futures
    s, t = world.s, world.t["central_support"]
    before = len(world.v.ok("--json", "audit", "log", "--limit", "100000").json())

    def one(i):
        if i % 4 == 0:
            r = s.http.post(s.url("/v1/subjects"), headers={"Authorization": "Bearer " + t},
                            json={"fields": {"name": f"P{i}", "country": "LV"}}, timeout=30)
            return r.status_code == 201
        r = s.http.get(s.url(f"/v1/subjects/{world.a}"), headers={"Authorization": "Bearer " + t},
                       timeout=30)
        return r.status_code == 200 and r.json()["fields"]["user.name.first"] == "Anna"

    import requests
    s.http = requests.Session()
    s.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        assert all(ex.map(one, range(160)))
    log = world.v.ok("--json", "audit", "log", "--limit", "100000").json()
    new = log[before:]
    assert sorted(e["action"] for e in new) == sorted(["subject.create"] * 40 +
                                                      ["subject.read"] * 120)
    v = world.v.ok("--json", "audit", "verify").json()
    assert v["valid"] and v["entries"] == len(log)
    assert v["heads"] < v["entries"]


def test_notice_and_record_of_processing(world):
    s = world.s
    # The notice is public, in each language of the policy.
    r = s.call("GET", "/v1/notice")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    lv = r.text
    en = s.call("GET", "/v1/notice?lang=en&format=md")
    assert en.status_code == 200 and en.headers["Content-Type"].startswith("text/markdown")
    assert en.text != lv and "eTwinning" in en.text
    assert s.call("GET", "/v1/notice?lang=xx").status_code == 400
    assert s.call("GET", "/v1/notice?format=pdf").status_code == 400
    # The record of processing is the controller's: staff, not users.
    r = s.call("GET", "/v1/ropa", world.t["central_support"])
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert "newsletter" in {a["purpose"] for a in r.json()["activities"]}
    r = s.call("GET", "/v1/ropa?format=csv&lang=en", world.t["central_support"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "newsletter" in r.text
    assert s.call("GET", "/v1/ropa", world.t["registered_user"]).status_code == 403
    assert s.call("GET", "/v1/ropa").status_code == 401
    assert s.call("GET", "/v1/ropa?format=xml", world.t["central_support"]).status_code == 400


def test_full_verification_is_for_staff(world):
    """Verifying the whole log reads all of it: staff only. Anyone with a
    token checks heads and proofs, which cost microseconds."""
    s = world.s
    error(s.call("POST", "/v1/audit/verify", world.t["registered_user"]), 403, "denied")
    assert audit_last(world.v)["action"] == "audit.verify"
    assert audit_last(world.v)["result"] == "denied"
    r = s.call("POST", "/v1/audit/verify", world.t["central_support"])
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    assert s.call("GET", "/v1/audit/head", world.t["registered_user"]).status_code == 200
