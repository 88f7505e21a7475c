"""Retention through the server: the housekeeping thread sweeps on request
(and on its schedule) and delivers the outbox; staff follow it over HTTP."""
import os
import time

from conftest import EXAMPLES, Vault, token


def test_sweep_and_outbox_over_http(tmp_path, serve):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", os.path.join(EXAMPLES, "etwinning.yaml"),
         env={"SARGS_NOW": "2026-01-01T00:00:00Z"})
    v.ok("subject", "add", "--field", "name=Anna", "--field", "email=anna@skola.lv",
         "--event", "last_login=2026-01-01T00:00:00Z", env={"SARGS_NOW": "2026-01-01T00:00:00Z"})
    staff = token(v, "central_support", "community")
    user = token(v, "registered_user", "community")
    maildir = tmp_path / "mail"
    s = serve(v, "--now", "2027-01-02T00:00:00Z", "--sweep-every", "0",
              "--transport", f"maildir:{maildir}", "--from", "etwinning@example.org")
    assert s.call("GET", "/v1/sweep", user).status_code == 403
    st = s.call("GET", "/v1/sweep", staff).json()
    assert "last" not in st or st["last"] is None
    assert s.call("POST", "/v1/sweep", staff).status_code == 202
    for _ in range(200):
        st = s.call("GET", "/v1/sweep", staff).json()
        if st.get("last") and st.get("outbox"):
            break
        time.sleep(0.05)
    assert st["ok"] and st["report"]["hidden"] == 1 and st["report"]["notified"] == 1
    assert st["outbox"]["sent"] == 1
    msgs = s.call("GET", "/v1/outbox?state=sent", staff).json()["messages"]
    assert [m["kind"] for m in msgs] == ["profile-deactivated"]
    assert len(list((maildir / "new").iterdir())) == 1
    assert s.call("GET", "/v1/outbox", user).status_code == 403
    assert s.call("GET", "/v1/outbox?state=lost", staff).status_code == 400
    assert s.call("GET", "/v1/statistics", staff).json() == {"statistics": []}
    r = s.call("POST", "/v1/events/european_election", staff, json={"at": "2027-01-01T00:00:00Z"})
    assert r.status_code == 400    # eTwinning declares no such event
