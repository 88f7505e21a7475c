"""Requests over HTTP: registered, identified, paused, fulfilled with the
access package in the answer, listed by due date; staff only."""
import json
import os

from conftest import EXAMPLES, Vault, token


def test_request_lifecycle_over_http(tmp_path, serve):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", os.path.join(EXAMPLES, "etwinning.yaml"))
    a = v.add("name=Anna", "email=anna@skola.lv", "country=LV")
    staff = token(v, "central_support", "community")
    user = token(v, "registered_user", "community")
    s = serve(v, "--now", "2026-03-04T22:30:00Z")
    r = s.call("POST", "/v1/requests", staff, json={"kind": "access", "channel": "email",
                                                   "subject": a})
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["received_day"] == "2026-03-05" and q["due"] == "2026-04-07"
    assert q["state"] == "verified" or q["state"] == "received"
    rid = q["id"]
    r = s.call("POST", f"/v1/requests/{rid}/fulfil", staff)
    assert r.status_code == 409                       # not identified yet
    r = s.call("POST", f"/v1/requests/{rid}/verify", staff, json={"method": "known_contact"})
    assert r.status_code == 200 and r.json()["identity"] == "known_contact"
    r = s.call("POST", f"/v1/requests/{rid}/fulfil", staff)
    assert r.status_code == 200, r.text
    files = {f["name"]: f["content"] for f in r.json()["files"]}
    assert json.loads(files["access.json"])["subject"] == a
    assert r.json()["state"] == "fulfilled"
    got = s.call("GET", f"/v1/requests/{rid}", staff).json()
    assert [e["verb"] for e in got["events"]] == ["received", "verified", "fulfilled"]
    assert s.call("GET", "/v1/requests?overdue=1", staff).json() == {"requests": []}
    # bad input and roles
    assert s.call("POST", "/v1/requests", staff,
                  json={"kind": "gossip", "channel": "email"}).status_code == 400
    assert s.call("POST", f"/v1/requests/{rid}/dance", staff).status_code == 404
    assert s.call("GET", "/v1/requests", user).status_code == 403
    assert s.call("POST", "/v1/requests", staff,
                  json={"kind": "access", "channel": "email", "colour": "red"}).status_code == 400
