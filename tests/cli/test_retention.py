"""Retention over years of simulated time, one scenario per organisation of
the source documents, and the outbox delivered through a real SMTP server
on loopback (aiosmtpd), including one that refuses the first attempts."""
import base64
import email
import os
import threading

import pytest

from conftest import EXAMPLES, Vault


def ex(name):
    return os.path.join(EXAMPLES, name)


def at(v, when, *args, **kw):
    return v.run(*args, env={"SARGS_NOW": when}, **kw)


def ok_at(v, when, *args, **kw):
    r = at(v, when, *args, **kw)
    assert r.code == 0, r
    return r


def sweep(v, when):
    return ok_at(v, when, "--json", "sweep").json()


def state(v, pid):
    return ok_at(v, "2040-01-01T00:00:00Z", "--json", "subject", "list", "--limit",
                 "1000").json()["subjects"]


def state_of(v, pid):
    return {s["id"]: s["state"] for s in state(v, pid)}[pid]


def test_together_eu(tmp_path):
    v = Vault(tmp_path / "v")
    ok_at(v, "2026-01-01T00:00:00Z", "init", "--policy", ex("together-eu.yaml"))
    add = lambda when, *f: ok_at(v, when, "subject", "add", *sum([["--field", x] for x in f],
                                                                  [])).out.strip()
    # a visitor's IP address: deleted 10 days after it was stored
    visitor = add("2026-01-01T00:00:00Z", "ip=192.0.2.1", "email=v@example.eu")
    ok_at(v, "2026-01-01T00:00:00Z", "subject", "touch", visitor, "confirmed")
    # an account never confirmed: gone after 15 days; a confirmed one stays
    lazy = add("2026-01-01T00:00:00Z", "name=Lauris", "email=l@example.eu")
    keen = add("2026-01-01T00:00:00Z", "name=Kristīne", "email=k@example.eu")
    ok_at(v, "2026-01-03T00:00:00Z", "subject", "touch", keen, "confirmed")
    # event photos: a year after the event
    ok_at(v, "2026-03-01T00:00:00Z", "subject", "update", keen, "--field",
          "event_media=https://media.example.eu/p1.jpg", "--reason", "event")
    ok_at(v, "2026-03-01T00:00:00Z", "subject", "touch", keen, "event_date", "--at",
          "2026-03-01T00:00:00Z")

    r = sweep(v, "2026-01-10T00:00:00Z")
    assert r["actions"]["fields_deleted"] == 0 and r["actions"]["deleted"] == 0
    r = sweep(v, "2026-01-12T00:00:00Z")
    assert r["actions"]["fields_deleted"] == 1
    assert "user.device.ip_address" not in ok_at(v, "2026-01-12T00:00:00Z", "--json", "subject",
                                                 "show", visitor).json()["fields"]
    r = sweep(v, "2026-01-17T00:00:00Z")
    assert r["actions"]["deleted"] == 1
    assert state_of(v, lazy) == "erased" and state_of(v, keen) == "active"
    r = sweep(v, "2027-03-02T00:00:00Z")
    assert r["actions"]["fields_deleted"] == 1
    assert "user.content.event_media" not in ok_at(v, "2027-03-02T00:00:00Z", "--json", "subject",
                                                   "show", keen).json()["fields"]
    # after each European election, everybody is reminded they may withdraw
    r = at(v, "2027-03-02T00:00:00Z", "event", "record", "nonsense")
    assert r.code == 4
    ok_at(v, "2029-06-10T00:00:00Z", "event", "record", "european_election")
    r = sweep(v, "2029-06-11T00:00:00Z")
    assert r["actions"]["notified"] == 2
    assert sweep(v, "2029-06-12T00:00:00Z")["actions"]["notified"] == 0
    ok_at(v, "2034-06-10T00:00:00Z", "event", "record", "european_election")
    assert sweep(v, "2034-06-11T00:00:00Z")["actions"]["notified"] == 2
    maildir = tmp_path / "mail"
    r = ok_at(v, "2034-06-11T00:00:00Z", "--json", "outbox", "deliver", "--transport",
              f"maildir:{maildir}")
    assert r.json()["sent"] == 4
    msgs = [email.message_from_bytes(p.read_bytes()) for p in (maildir / "new").iterdir()]
    body = base64.b64decode(msgs[0].get_payload()).decode()
    # every message says how to stop them and how to have one's data erased
    assert "-- \n" in body and "dataprotection@" in body
    assert ok_at(v, "2034-06-11T00:00:00Z", "audit", "verify").code == 0


def test_vet2b_legal_claims_window(tmp_path):
    v = Vault(tmp_path / "v")
    ok_at(v, "2026-01-01T00:00:00Z", "init", "--policy", ex("vet2b.yaml"))
    c = ok_at(v, "2026-01-01T00:00:00Z", "subject", "add", "--field", "name=Māris", "--field",
              "email=m@example.lv", "--field", "country=LV").out.strip()
    ok_at(v, "2026-06-30T00:00:00Z", "subject", "touch", c, "contract_end")
    r = sweep(v, "2026-07-01T00:00:00Z")
    assert r["actions"]["restricted"] == 1 and state_of(v, c) == "restricted"
    # kept, restricted, for the legal-claims window only
    assert sweep(v, "2029-06-29T00:00:00Z")["actions"]["fields_deleted"] == 0
    r = sweep(v, "2029-06-30T00:00:00Z")
    assert r["actions"]["fields_deleted"] >= 2
    assert ok_at(v, "2029-06-30T00:00:00Z", "--json", "subject", "show", c).json()["fields"] == {}


def test_telecom_traffic_periods(tmp_path):
    v = Vault(tmp_path / "v")
    ok_at(v, "2026-01-01T00:00:00Z", "init", "--policy", ex("telecom.yaml"))
    c = ok_at(v, "2026-01-01T00:00:00Z", "subject", "add", "--field", "name=Jānis", "--field",
              "email=j@example.lv", "--field", "traffic=calls 2026-01", "--field",
              "cctv=https://cctv.example.lv/1", "--field", "retained=2026-01 records").out.strip()
    fields = lambda when: set(ok_at(v, when, "--json", "subject", "show", c).json()["fields"])
    sweep(v, "2026-02-01T00:00:00Z")           # CCTV: 30 days
    assert "user.device.cctv" not in fields("2026-02-01T00:00:00Z")
    assert "user.telecom.traffic_data" in fields("2026-02-01T00:00:00Z")
    sweep(v, "2026-07-02T00:00:00Z")           # traffic: 6 months
    assert "user.telecom.traffic_data" not in fields("2026-07-02T00:00:00Z")
    assert "user.telecom.retained_data" in fields("2026-07-02T00:00:00Z")
    sweep(v, "2027-07-02T00:00:00Z")           # retained data: 18 months
    assert "user.telecom.retained_data" not in fields("2027-07-02T00:00:00Z")
    assert "user.name.first" in fields("2027-07-02T00:00:00Z")


def test_a_restriction_the_person_asked_for_holds(tmp_path):
    v = Vault(tmp_path / "v")
    ok_at(v, "2026-01-01T00:00:00Z", "init", "--policy", ex("vet2b.yaml"))
    c = ok_at(v, "2026-01-01T00:00:00Z", "subject", "add", "--field", "name=Māra", "--field",
              "email=m@example.lv").out.strip()
    ok_at(v, "2026-06-30T00:00:00Z", "subject", "touch", c, "contract_end")
    ok_at(v, "2026-06-30T00:00:00Z", "restrict", c)   # "keep it: I need it for a claim"
    assert sweep(v, "2030-01-01T00:00:00Z")["acted"] == 0
    assert "user.name.first" in ok_at(v, "2030-01-01T00:00:00Z", "--json", "subject", "show",
                                      c).json()["fields"]


# ----------------------------------------------------------------- SMTP


class Refusing:
    """An SMTP handler that refuses the first `fail` messages (451)."""

    def __init__(self, fail):
        self.fail = fail
        self.got = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail > 0:
                self.fail -= 1
                return "451 4.3.0 try again later"
            self.got.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    started = []

    def start(fail=0):
        import socket
        with socket.socket() as s:          # a free port (the controller needs one)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        h = Refusing(fail)
        c = Controller(h, hostname="127.0.0.1", port=port)
        c.start()
        started.append(c)
        return h, f"smtp://127.0.0.1:{port}"

    yield start
    for c in started:
        c.stop()


def test_smtp_delivery_with_retries(tmp_path, smtp):
    handler, url = smtp(fail=2)
    v = Vault(tmp_path / "v")
    ok_at(v, "2026-01-01T00:00:00Z", "init", "--policy", ex("etwinning.yaml"))
    a = ok_at(v, "2026-01-01T00:00:00Z", "subject", "add", "--field", "name=Anna", "--field",
              "email=anna@skola.lv", "--event", "last_login=2026-01-01T00:00:00Z").out.strip()
    sweep(v, "2027-01-02T00:00:00Z")
    deliver = lambda when: ok_at(v, when, "--json", "outbox", "deliver", "--transport", url,
                                 "--from", "etwinning@example.org").json()
    assert deliver("2027-01-02T00:00:00Z") == {"sent": 0, "retried": 1, "failed": 0, "dropped": 0}
    listed = ok_at(v, "2027-01-02T00:00:00Z", "--json", "outbox", "list").json()
    assert listed[0]["state"] == "queued" and "451" in listed[0]["error"]
    assert "anna" not in str(listed)                       # no content in the list
    # not due again before the backoff (one minute)
    assert deliver("2027-01-02T00:00:30Z")["retried"] == 0
    assert deliver("2027-01-02T00:01:01Z")["retried"] == 1
    assert deliver("2027-01-02T00:07:00Z")["sent"] == 1
    assert len(handler.got) == 1
    env = handler.got[0]
    assert env.mail_from == "etwinning@example.org" and env.rcpt_tos == ["anna@skola.lv"]
    m = email.message_from_bytes(env.content)
    assert m["Message-ID"].startswith("<" + listed[0]["id"] + "@")
    body = base64.b64decode(m.get_payload()).decode()
    assert body.startswith("Labdien, Anna!")
    assert ok_at(v, "2027-01-02T00:07:00Z", "--json", "outbox", "list", "--state",
                 "sent").json()[0]["attempts"] == 3
    # an unreachable server: the message stays queued with the reason
    sweep(v, "2028-12-02T00:00:00Z")
    r = ok_at(v, "2028-12-02T00:00:00Z", "--json", "outbox", "deliver", "--transport",
              "smtp://127.0.0.1:9", "--from", "etwinning@example.org").json()
    assert r["retried"] == 1
    q = ok_at(v, "2028-12-02T00:00:00Z", "--json", "outbox", "list", "--state", "queued").json()
    assert q and q[0]["error"].startswith("SMTP:")
