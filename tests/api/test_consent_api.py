"""Consent and decisions over HTTP: /v1/may with and without Sec-GPC, the
ledger, receipts that a person can check, and the bad input of the issue."""
import os

import pytest

from conftest import Vault, token

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
POLICY = os.path.join(ROOT, "tests", "data", "consent.yaml")


@pytest.fixture
def cw(tmp_path, serve):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", POLICY)
    w = type("W", (), {})()
    w.v = v
    w.adult = v.add("name=Anna", "email=anna@x.lv", "birth_date=1980-01-01")
    w.kid = v.add("name=Kārlis", "email=karlis@x.lv", "birth_date=2017-02-02")
    w.staff = token(v, "support", "service")
    w.visitor = token(v, "visitor", "newsletter")
    w.s = serve(v)
    return w


def may(w, subject, purpose, headers=None, tok=None):
    r = w.s.call("GET", f"/v1/may?subject={subject}&purpose={purpose}", tok or w.staff,
                 headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def give(w, body, status=201, tok=None):
    r = w.s.call("POST", "/v1/consents", tok or w.staff, json=body)
    assert r.status_code == status, r.text
    return r.json()


def test_decisions_follow_the_ledger(cw):
    d = may(cw, cw.adult, "newsletter")
    assert (d["allowed"], d["reason"], d["consent"]) == (False, "no_consent", "none")
    give(cw, {"subject": cw.adult, "purpose": "newsletter", "state": "given",
              "method": "web_form", "evidence": "form 12"})
    d = may(cw, cw.adult, "newsletter")
    assert (d["allowed"], d["reason"], d["basis"]) == (True, "consent_given", "consent")
    assert d["expires"]  # the policy's validity, P1Y
    # Withdrawn by another process (the command): the next decision knows.
    cw.v.ok("consent", "withdraw", cw.adult, "newsletter", "--method", "email")
    assert may(cw, cw.adult, "newsletter")["reason"] == "consent_withdrawn"
    r = cw.s.call("POST", "/v1/may", cw.staff, json={"subject": cw.adult, "purpose": "service"})
    assert r.json()["allowed"] is True and r.json()["reason"] == "basis"
    # The ledger, as the person's record shows it.
    ev = cw.s.call("GET", f"/v1/subjects/{cw.adult}/consents", cw.staff).json()["events"]
    assert [(e["state"], e["evidence"]) for e in ev] == [("given", "form 12"), ("withdrawn", None)]


def test_global_privacy_control(cw):
    give(cw, {"subject": cw.adult, "purpose": "partners", "state": "given", "method": "api"})
    assert may(cw, cw.adult, "partners")["allowed"] is True
    d = may(cw, cw.adult, "partners", headers={"Sec-GPC": "1"})
    assert (d["allowed"], d["reason"]) == (False, "gpc_opt_out")
    # Only exactly "1" is the signal; and only sale or sharing stops.
    for other in ["0", "true", "1 1"]:
        assert may(cw, cw.adult, "partners", headers={"Sec-GPC": other})["allowed"] is True
    assert may(cw, cw.adult, "service", headers={"Sec-GPC": "1"})["allowed"] is True


def test_children_and_guardians(cw):
    give(cw, {"subject": cw.kid, "purpose": "newsletter", "state": "given", "method": "web_form"})
    assert may(cw, cw.kid, "newsletter")["reason"] == "child_without_guardian"
    give(cw, {"subject": cw.kid, "purpose": "newsletter", "state": "given", "method": "paper",
              "guardian": cw.adult})
    assert may(cw, cw.kid, "newsletter")["allowed"] is True
    r = cw.s.call("POST", "/v1/consents", cw.staff,
                  json={"subject": cw.adult, "purpose": "newsletter", "state": "given",
                        "method": "paper", "guardian": cw.kid})
    assert r.status_code == 400 and "not an adult" in r.json()["error"]["message"]
    # a purpose refusing minors
    r = cw.s.call("POST", "/v1/consents", cw.staff,
                  json={"subject": cw.kid, "purpose": "partners", "state": "given",
                        "method": "web_form"})
    assert r.status_code == 403
    assert may(cw, cw.kid, "partners")["reason"] == "minor"


def test_before_the_account(cw):
    give(cw, {"category": "email", "value": "Later@X.lv", "purpose": "newsletter",
              "state": "given", "method": "web_form", "evidence": "footer form"})
    later = cw.v.add("name=Vēlāk", "email=later@x.lv", "birth_date=1990-01-01")
    d = may(cw, later, "newsletter")
    assert d["allowed"] is True, d


def test_receipts(cw, tmp_path):
    give(cw, {"subject": cw.adult, "purpose": "newsletter", "state": "given", "method": "web_form"})
    r = cw.s.call("GET", f"/v1/subjects/{cw.adult}/consents/1/receipt", cw.staff)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/jwt"
    key = cw.s.call("GET", "/v1/consents/key", cw.staff).json()["verifier_key"]
    f = tmp_path / "r.jws"
    f.write_text(r.text)
    assert cw.v.run("consent", "check-receipt", "--key", key, str(f), use_dir=False).code == 0
    bad = r.text[:40] + ("A" if r.text[40] != "A" else "B") + r.text[41:]
    f.write_text(bad)
    assert cw.v.run("consent", "check-receipt", "--key", key, str(f), use_dir=False).code in (4, 5)
    exp = cw.s.call("GET", f"/v1/subjects/{cw.adult}/consents/export", cw.staff).json()
    assert exp["records"][0]["dpv:hasConsentStatus"] == "dpv:ConsentGiven"
    assert cw.s.call("GET", f"/v1/subjects/{cw.adult}/consents/9/receipt",
                     cw.staff).status_code == 404


def test_objection_and_restriction(cw):
    s, t = cw.s, cw.staff
    r = s.call("POST", f"/v1/subjects/{cw.adult}/objections", t, json={"purpose": "offers"})
    assert r.status_code == 200
    assert may(cw, cw.adult, "offers")["reason"] == "objected_direct_marketing"
    r = s.call("POST", f"/v1/subjects/{cw.adult}/objections", t,
               json={"purpose": "offers", "grounds": "we insist"})
    assert r.status_code == 400
    assert s.call("PUT", f"/v1/subjects/{cw.adult}/restriction", t).status_code == 200
    assert s.call("PUT", f"/v1/subjects/{cw.adult}/restriction", t).status_code == 409
    assert may(cw, cw.adult, "service")["reason"] == "restricted"
    assert may(cw, cw.adult, "emergency")["allowed"] is True
    assert s.call("DELETE", f"/v1/subjects/{cw.adult}/restriction", t).status_code == 200
    assert may(cw, cw.adult, "service")["allowed"] is True


def test_bad_input(cw):
    s, t = cw.s, cw.staff
    before = len(cw.v.ok("--json", "audit", "log").json())
    cases = [
        ({"subject": cw.adult, "purpose": "nothing", "state": "given", "method": "paper"}, 400),
        ({"subject": cw.adult, "purpose": "service", "state": "given", "method": "paper"}, 400),
        ({"subject": cw.adult, "purpose": "newsletter", "state": "given", "method": "telepathy"}, 400),
        ({"subject": cw.adult, "purpose": "newsletter", "state": "maybe", "method": "paper"}, 400),
        ({"subject": cw.adult, "purpose": "newsletter", "state": "withdrawn", "method": "paper"}, 409),
        ({"subject": "01a20000-0000-7000-8000-000000000000", "purpose": "newsletter",
          "state": "given", "method": "paper"}, 404),
        ({"subject": cw.adult, "purpose": "newsletter", "state": "given", "method": "paper",
          "colour": "red"}, 400),
    ]
    for body, status in cases:
        r = s.call("POST", "/v1/consents", t, json=body)
        assert r.status_code == status, (body, r.text)
    assert len(cw.v.ok("--json", "audit", "log").json()) == before
    r = s.call("GET", f"/v1/may?subject={cw.adult}&purpose=nothing", t)
    assert r.status_code == 400
    r = s.call("GET", f"/v1/may?subject={cw.adult}", t)
    assert r.status_code == 400
    r = s.call("GET", "/v1/may?subject=01a20000-0000-7000-8000-000000000000&purpose=service", t)
    assert r.status_code == 404
    # a visitor may not ask whether someone consented
    r = s.call("GET", f"/v1/may?subject={cw.adult}&purpose=newsletter", cw.visitor)
    assert r.status_code == 403


def test_decisions_in_one_call(cw):
    """POST /v1/may/batch answers many questions at once, each as GET
    /v1/may would; a withdrawal between two calls is seen by the next."""
    give(cw, {"subject": cw.adult, "purpose": "newsletter", "state": "given", "method": "api"})
    ghost = "01900000-0000-7000-8000-000000000000"
    qs = [{"subject": cw.adult, "purpose": "newsletter"},
          {"subject": cw.kid, "purpose": "newsletter"},
          {"subject": cw.adult, "purpose": "service"},
          {"subject": ghost, "purpose": "newsletter"},
          {"subject": cw.adult, "purpose": "no-such-purpose"},
          {"subject": "not-an-id", "purpose": "newsletter"}] * 50
    r = cw.s.call("POST", "/v1/may/batch", cw.staff, json={"decisions": qs})
    assert r.status_code == 200, r.text
    got = r.json()["decisions"]
    assert len(got) == len(qs)
    for q, a in zip(qs, got):
        assert (a["subject"], a["purpose"]) == (q["subject"], q["purpose"])
        if q["subject"] in (ghost, "not-an-id") or q["purpose"] == "no-such-purpose":
            assert "allowed" not in a and a["error"]["code"] in ("not_found", "invalid"), a
        else:
            assert a == may(cw, q["subject"], q["purpose"])
    assert got[3]["error"]["code"] == "not_found" and got[4]["error"]["code"] == "invalid"
    # another process withdraws; the next call sees it
    cw.v.ok("consent", "withdraw", cw.adult, "newsletter", "--method", "email")
    r = cw.s.call("POST", "/v1/may/batch", cw.staff, json={"decisions": qs[:1]})
    assert r.json()["decisions"][0]["reason"] == "consent_withdrawn"
    # the Sec-GPC signal counts as for one question
    give(cw, {"subject": cw.adult, "purpose": "partners", "state": "given", "method": "api"})
    one = [{"subject": cw.adult, "purpose": "partners"}]
    r = cw.s.call("POST", "/v1/may/batch", cw.staff, json={"decisions": one},
                  headers={"Sec-GPC": "1"})
    assert r.json()["decisions"][0]["allowed"] is False
    # bad calls change nothing and answer one error
    for body in [{}, {"decisions": []}, {"decisions": "x"}, {"decisions": [{"subject": cw.adult}]},
                 {"decisions": [{"subject": cw.adult, "purpose": "newsletter", "x": 1}]},
                 {"decisions": [{"subject": 1, "purpose": "newsletter"}]},
                 {"decisions": qs * 34}]:
        r = cw.s.call("POST", "/v1/may/batch", cw.staff, json=body)
        assert r.status_code == 400, (body if len(str(body)) < 200 else "big", r.text)
    # a role that may not ask is refused once, not per question
    r = cw.s.call("POST", "/v1/may/batch", cw.visitor, json={"decisions": qs[:3]})
    assert r.status_code == 403
