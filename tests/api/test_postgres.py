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
