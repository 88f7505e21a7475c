"""The server over a vault on PostgreSQL only: the writer, the housekeeping
thread and each thread of the pool have their own connection, requests on
all of them keep one audit log, and the database going away under a running
server and coming back."""
import os
import threading
import time

import pytest
import requests

from conftest import PG, pg_server, psql, token

pytestmark = pytest.mark.skipif(not PG, reason="needs SARGS_TEST_PG (scripts/pg-test-cluster)")


def connections():
    """Connections sargs holds to the test cluster (the test's own psql
    calls name themselves psql)."""
    return int(psql(PG, "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = 'sargs'")[0][0])


def test_threads_write_through_their_own_connections(etwinning, serve):
    v = etwinning
    t = token(v, "central_support", "community")
    s = serve(v)
    errors = []

    def client(k):
        http = requests.Session()  # a session per client thread
        h = {"Authorization": "Bearer " + t}
        try:
            for i in range(5):
                r = http.post(s.url("/v1/subjects"), headers=h, timeout=30,
                              json={"fields": {"name": f"P{k}.{i}", "email": f"p{k}.{i}@x.lv"}})
                if r.status_code != 201:
                    errors.append(r.text)
                    continue
                sid = r.json()["id"]
                r = http.put(s.url(f"/v1/subjects/{sid}/groups/g{k % 2}"), headers=h, timeout=30)
                if r.status_code != 200:
                    errors.append(r.text)
        except requests.RequestException as e:
            errors.append(str(e))

    clients = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    assert errors == []
    # One connection for the writer (every write is in its batches), one for
    # the housekeeping thread (sweeps and the outbox), and one per thread of
    # the pool (two) that served, no more.
    assert 3 <= connections() <= 4
    assert v.sql("SELECT count(*) FROM subjects") == [("40",)]
    assert v.sql("SELECT count(*) FROM memberships") == [("40",)]
    # Every write is in the one log, in one order, and it verifies.
    r = v.ok("audit", "verify")
    assert "signed heads" in r.out
    s.stop()
    for _ in range(100):  # a backend leaves pg_stat_activity soon after
        if connections() == 0:
            break
        time.sleep(0.05)
    assert connections() == 0


def test_database_away(etwinning, serve):
    password = os.environ["SARGS_TEST_PG_PASSWORD"]
    v = etwinning
    a = v.add("name=Anna", "email=anna@example.lv")
    t = token(v, "central_support", "community")
    s = serve(v)
    assert s.call("GET", f"/v1/subjects/{a}", t).status_code == 200
    pg_server("pause")
    try:
        for method, path, body in [("GET", f"/v1/subjects/{a}", None),
                                   ("POST", "/v1/subjects", {"fields": {"name": "Berta"}})]:
            r = s.call(method, path, t, json=body)
            assert r.status_code == 503, r.text
            e = r.json()["error"]
            # The client learns what happened; the operator's log says why.
            assert e["code"] == "unavailable" and "try again" in e["message"]
            assert "postgresql" not in r.text and password not in r.text
    finally:
        pg_server("resume")
    # The same server, its threads connecting again; nothing half-written.
    r = s.call("GET", f"/v1/subjects/{a}", t)
    assert r.status_code == 200, r.text
    assert s.call("POST", "/v1/subjects", t, json={"fields": {"name": "Berta"}}).status_code == 201
    assert v.sql("SELECT count(*) FROM subjects") == [("2",)]
    code, out = s.stop()
    assert code == 0 and password not in out and "anna@example.lv" not in out
    assert "postgresql at 127.0.0.1" in out
    v.ok("audit", "verify")


def test_two_nodes(etwinning, serve, tmp_path):
    """Two `sargs serve` on one PostgreSQL, the work spread over both at once:
    people, consents, requests and their answers, sweeps on both at the same
    moment with the outbox delivered by both. At the end every count adds
    up, no message went out twice, and the audit log verifies."""
    v = etwinning
    t = token(v, "central_support", "community")
    mail = tmp_path / "mail"
    nodes = [serve(v, "--sweep-every", "0", "--transport", f"maildir:{mail}",
                   "--from", "etwinning@example.org") for _ in range(2)]
    errors, ids = [], []
    lock = threading.Lock()

    def client(k):
        s = nodes[k % 2]
        http = requests.Session()
        h = {"Authorization": "Bearer " + t}
        try:
            for i in range(6):
                # a person who last signed in two years ago: the sweep hides
                # them and tells them so
                r = http.post(s.url("/v1/subjects"), headers=h, timeout=30, json={
                    "fields": {"name": f"P{k}.{i}", "email": f"p{k}.{i}@x.lv", "country": "LV",
                               "school_role": "teacher"},
                    "events": {"last_login": "2024-01-01T00:00:00Z"}})
                if r.status_code != 201:
                    errors.append(r.text)
                    continue
                sid = r.json()["id"]
                with lock:
                    ids.append(sid)
                # the other node records the consent and takes the request
                o = nodes[(k + 1) % 2]
                r = http.post(o.url("/v1/consents"), headers=h, timeout=30, json={
                    "subject": sid, "purpose": "newsletter", "state": "given",
                    "method": "web_form"})
                if r.status_code != 201:
                    errors.append(r.text)
                r = http.post(o.url("/v1/requests"), headers=h, timeout=30, json={
                    "kind": "access", "channel": "account", "subject": sid})
                if r.status_code != 201:
                    errors.append(r.text)
                    continue
                rid = r.json()["id"]
                r = http.post(s.url(f"/v1/requests/{rid}/verify"), headers=h, timeout=30,
                              json={"method": "account"})
                if r.status_code != 200:
                    errors.append(r.text)
                # both nodes answer it at once: one answers, the other is told
                codes = []

                def fulfil(node):
                    r = requests.post(node.url(f"/v1/requests/{rid}/fulfil"), headers=h,
                                      timeout=30)
                    codes.append(r.status_code)
                    if r.status_code == 503:
                        errors.append(r.text)
                ts = [threading.Thread(target=fulfil, args=(n,)) for n in nodes]
                for x in ts:
                    x.start()
                for x in ts:
                    x.join()
                if sorted(codes) != [200, 409]:
                    errors.append(f"fulfil: {codes}")
        except requests.RequestException as e:
            errors.append(str(e))

    clients = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    assert errors == []
    assert len(ids) == 36
    # Both nodes sweep at the same moment.
    for s in nodes:
        assert s.call("POST", "/v1/sweep", t).status_code == 202
    for _ in range(400):
        sts = [s.call("GET", "/v1/sweep", t).json() for s in nodes]
        if all(st.get("last") for st in sts):
            break
        time.sleep(0.05)
    assert all(st["ok"] for st in sts), sts
    assert sum(st["report"]["hidden"] for st in sts) == 36
    # The outbox drains through both; nothing is sent twice.
    for _ in range(600):
        queued = v.sql("SELECT count(*) FROM outbox WHERE state = 0")[0][0]
        if queued == "0":
            break
        for s in nodes:
            s.call("POST", "/v1/sweep", t)  # wakes the housekeeping thread
        time.sleep(0.1)
    sent = int(v.sql("SELECT count(*) FROM outbox WHERE state = 1")[0][0])
    files = list((mail / "new").iterdir())
    assert sent >= 36 and len(files) == sent
    mids = [next(line for line in f.read_text().splitlines() if line.startswith("Message-ID"))
            for f in files]
    assert len(set(mids)) == len(mids)
    # Every count adds up.
    assert v.sql("SELECT count(*) FROM subjects") == [("36",)]
    assert v.sql("SELECT count(*) FROM consent_events") == [("36",)]
    assert v.sql("SELECT count(*) FROM requests") == [("36",)]
    assert v.sql("SELECT count(*) FROM requests WHERE state = 6") == [("36",)]
    assert v.sql("SELECT count(*) FROM request_events WHERE verb = 'fulfilled'") == [("36",)]
    assert v.sql("SELECT count(DISTINCT subject) FROM sweep_done") == [("36",)]
    assert v.sql("SELECT count(*) FROM subjects WHERE state = 2") == [("36",)]  # hidden
    assert "signed heads" in v.ok("audit", "verify").out
