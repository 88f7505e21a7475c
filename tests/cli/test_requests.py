"""Data-subject requests end to end: every kind on the eTwinning and Azeta
policies, deadlines (time zone, holidays, pauses, extension), identity,
refusals with their grounds, and the bad input of the issue."""
import json
import os

from conftest import EXAMPLES, Vault

AZETA = os.path.join(EXAMPLES, "azeta.yaml")
ETW = os.path.join(EXAMPLES, "etwinning.yaml")


def vault(tmp_path, policy, when="2026-03-01T09:00:00Z"):
    v = Vault(tmp_path / "v")
    v.ok("init", "--policy", policy, env={"SARGS_NOW": when})
    return v


def at(v, when, *args, **kw):
    return v.run(*args, env={"SARGS_NOW": when}, **kw)


def ok(v, when, *args, **kw):
    r = at(v, when, *args, **kw)
    assert r.code == 0, r
    return r


def j(v, when, *args):
    return ok(v, when, "--json", *args).json()


def person(v, when, *fields):
    return ok(v, when, "subject", "add", *sum([["--field", f] for f in fields], [])).out.strip()


def test_deadlines_pauses_and_extension(tmp_path):
    v = vault(tmp_path, AZETA)
    a = person(v, "2026-03-01T09:00:00Z", "name=Anna", "email=anna@x.lv")
    # 22:30 UTC on 4 March is 5 March in Riga: due 5 April, Easter Sunday,
    # and Easter Monday: 7 April
    r = j(v, "2026-03-04T22:30:00Z", "request", "new", "--kind", "access", "--channel",
          "in_person", "--subject", a)
    assert (r["received_day"], r["due"], r["extended_due"], r["paused_days"]) == (
        "2026-03-05", "2026-04-07", None, 0)
    assert r["state"] == "received" and r["channel"] == "in_person"
    rid = r["id"]
    # fulfilment before identity is refused, and changes nothing
    assert at(v, "2026-03-06T10:00:00Z", "request", "fulfil", rid).code == 6
    ok(v, "2026-03-06T10:00:00Z", "request", "verify", rid, "--method", "id_document")
    # a question pauses the clock: 10 days
    ok(v, "2026-03-10T10:00:00Z", "request", "pause", rid, "--reason", "which orders?")
    r = j(v, "2026-03-15T10:00:00Z", "request", "show", rid)
    assert r["paused"] and r["paused_days"] == 5
    ok(v, "2026-03-20T10:00:00Z", "request", "resume", rid)
    r = j(v, "2026-03-20T10:00:00Z", "request", "show", rid)
    assert r["paused_days"] == 10 and r["due"] == "2026-04-15" and r["state"] == "verified"
    # extension: receipt + 3 months (+ the pause), only in the first month, with reasons
    r = at(v, "2026-03-21T10:00:00Z", "request", "extend", rid)
    assert r.code == 4 and "reasons" in r.err
    ok(v, "2026-03-21T10:00:00Z", "request", "extend", rid, "--reason", "many records")
    r = j(v, "2026-03-21T10:00:00Z", "request", "show", rid)
    assert r["state"] == "extended" and r["extended_due"] == "2026-06-15"
    assert [e["verb"] for e in r["events"]] == ["received", "verified", "paused", "resumed",
                                               "extended"]
    assert r["events"][2]["reason"] == "which orders?"
    assert at(v, "2026-03-22T10:00:00Z", "request", "extend", rid, "--reason", "x").code == 6
    # too late to extend another one
    b = person(v, "2026-03-01T09:00:00Z", "name=Berta", "email=b@x.lv")
    r2 = j(v, "2026-03-02T10:00:00Z", "request", "new", "--kind", "access", "--channel",
           "in_person", "--subject", b)["id"]
    r = at(v, "2026-04-03T10:00:00Z", "request", "extend", r2, "--reason", "late")
    assert r.code == 6 and "first month" in r.err
    # overdue and due-within listings, by due date
    over = j(v, "2026-04-03T10:00:00Z", "request", "list", "--overdue")
    assert [x["id"] for x in over] == [r2]
    soon = j(v, "2026-03-30T10:00:00Z", "request", "list", "--due-within", "7d")
    assert [x["id"] for x in soon] == [r2]
    assert rid not in [x["id"] for x in j(v, "2026-03-30T10:00:00Z", "request", "list",
                                           "--due-within", "30")]       # extended to June
    assert [x["id"] for x in j(v, "2026-03-30T10:00:00Z", "request", "list", "--due-within",
                               "90")] == [r2, rid]


def test_identity_on_channels(tmp_path):
    v = vault(tmp_path, AZETA)
    a = person(v, "2026-03-01T09:00:00Z", "name=Anna", "email=anna@x.lv")
    # plain e-mail does not identify: the request waits, paused
    r = j(v, "2026-03-02T10:00:00Z", "request", "new", "--kind", "erasure", "--channel", "email",
          "--subject", a)
    assert r["state"] == "awaiting_identity" and r["paused"]
    rid = r["id"]
    assert at(v, "2026-03-05T10:00:00Z", "request", "resume", rid).code == 6
    r = at(v, "2026-03-05T10:00:00Z", "request", "verify", rid, "--method", "telepathy")
    assert r.code == 4
    ok(v, "2026-03-09T10:00:00Z", "request", "verify", rid, "--method", "qualified_signature")
    r = j(v, "2026-03-09T10:00:00Z", "request", "show", rid)
    assert r["paused_days"] == 7 and r["state"] == "verified"
    # identity never given: refused on that ground, with the right to complain
    b = person(v, "2026-03-01T09:00:00Z", "name=Berta", "email=b@x.lv")
    r3 = j(v, "2026-03-02T10:00:00Z", "request", "new", "--kind", "access", "--channel", "post",
           "--subject", b)["id"]
    ok(v, "2026-04-10T10:00:00Z", "request", "refuse", r3, "--ground", "identity")
    assert j(v, "2026-04-10T10:00:00Z", "request", "show", r3)["state"] == "refused"
    msgs = j(v, "2026-04-10T10:00:00Z", "outbox", "list")
    assert any(m["kind"] == "request-answer" for m in msgs)


def test_every_kind_on_azeta(tmp_path):
    # Azeta's policy, with a fee for further copies (Art. 15(3)) added
    fee = tmp_path / "azeta-fee.yaml"
    fee.write_text(open(AZETA).read().replace(
        "  answer: same_channel\n",
        "  answer: same_channel\n  extra_copy_fee: {amount: \"5.00\", currency: EUR}\n"))
    v = vault(tmp_path, str(fee))
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "surname=Ozola", "email=anna@x.lv", "personal_code=010190-12345",
               "prescriptions=Rx 1", "assessment=polite")
    person(v, when, "name=Cits", "email=other@x.lv")

    def new(kind):
        r = j(v, when, "request", "new", "--kind", kind, "--channel", "in_person", "--subject", a)
        ok(v, when, "request", "verify", r["id"], "--method", "id_document")
        return r["id"]

    # access: a package for this person only
    rid = new("access")
    out = tmp_path / "access"
    ok(v, when, "request", "fulfil", rid, "--out", str(out))
    pkg = json.loads((out / "access.json").read_text())
    assert pkg["subject"] == a
    assert {d["category"] for d in pkg["data"]} >= {"user.name.first", "user.contact.email"}
    assert pkg["disclosed_to"] == []
    assert "other@x.lv" not in (out / "access.json").read_text()
    assert "Anna" in (out / "access.html").read_text()
    assert (out / "user.contact.email.csv").read_text().startswith("category,value,stored")
    assert j(v, when, "request", "show", rid)["state"] == "fulfilled"
    # a second copy: identical request detected, and a fee when given
    rid2 = j(v, "2026-03-20T10:00:00Z", "request", "new", "--kind", "access", "--channel",
             "in_person", "--subject", a)
    assert rid2["identical_to"] == rid
    ok(v, "2026-03-20T10:00:00Z", "request", "verify", rid2["id"], "--method", "id_document")
    f = j(v, "2026-03-20T10:00:00Z", "request", "fulfil", rid2["id"], "--out",
          str(tmp_path / "a2"))
    assert f["fee_cents"] == 500
    # rectification: facts only; proof unless the person decides the category
    rid = new("rectification")
    r = at(v, when, "request", "fulfil", rid, "--field", "assessment=rude")
    assert r.code == 4 and "assessment" in r.err
    r = at(v, when, "request", "fulfil", rid, "--field", "surname=Liepa")
    assert r.code == 4 and "proof" in r.err
    ok(v, when, "request", "fulfil", rid, "--field", "email=anna@new.lv")   # the person decides
    assert j(v, when, "subject", "show", a)["fields"]["user.contact.email"] == "anna@new.lv"
    # portability: what the person gave, JSON and CSV
    rid = new("portability")
    ok(v, when, "request", "fulfil", rid, "--out", str(tmp_path / "port"))
    port = json.loads((tmp_path / "port" / "portability.json").read_text())
    assert port["fields"]["user.name.first"] == "Anna" and "user.service.assessment" not in port[
        "fields"]
    # restriction and objection through the decision engine
    rid = new("restriction")
    ok(v, when, "request", "fulfil", rid)
    assert at(v, when, "may", a, "orders").code == 5
    ok(v, when, "unrestrict", a)
    # withdrawal of consent, review of an automated decision
    rid = new("review")
    assert at(v, when, "request", "fulfil", rid).code == 4
    ok(v, when, "request", "fulfil", rid, "--outcome", "a person reviewed it: upheld")
    rid = new("withdrawal")
    ok(v, when, "request", "fulfil", rid)
    # erasure: a legal obligation holds the prescriptions (and the request records)
    rid = new("erasure")
    assert at(v, when, "request", "fulfil", rid).code == 4       # needs its Art. 17 ground
    f = j(v, when, "request", "fulfil", rid, "--ground", "no_longer_necessary")
    assert f["state"] == "partially_fulfilled"
    assert "user.health.prescriptions" in f["held"]
    left = j(v, when, "subject", "show", a)["fields"]
    # (the records of requests are a legal obligation too: contact data stay)
    assert "user.health.prescriptions" in left and "user.service.assessment" not in left
    assert ok(v, when, "audit", "verify").code == 0


def test_erasure_and_refusals_on_etwinning(tmp_path):
    v = vault(tmp_path, ETW)
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "email=anna@skola.lv", "country=LV")
    r = j(v, when, "request", "new", "--kind", "erasure", "--channel", "account", "--subject", a)
    ok(v, when, "request", "verify", r["id"], "--method", "account")
    f = j(v, when, "request", "fulfil", r["id"], "--ground", "consent_withdrawn")
    assert f["state"] == "fulfilled" and f["held"] == ""
    assert at(v, when, "subject", "show", a).code == 3
    # refusals need their reasoning, and only known grounds
    b = person(v, when, "name=Berta", "email=b@skola.lv")
    r = j(v, when, "request", "new", "--kind", "access", "--channel", "account", "--subject", b)
    assert at(v, when, "request", "refuse", r["id"], "--ground", "bored").code == 4
    assert at(v, when, "request", "refuse", r["id"], "--ground", "excessive").code == 4
    assert at(v, when, "request", "refuse", r["id"], "--ground", "identical").code == 6
    ok(v, when, "request", "refuse", r["id"], "--ground", "excessive", "--reason",
       "forty requests this week")
    assert at(v, when, "request", "withdraw", r["id"]).code == 6   # already closed


def test_bad_input_changes_nothing(tmp_path):
    v = vault(tmp_path, ETW)
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "email=anna@skola.lv")
    before = len(j(v, when, "audit", "log", "--limit", "100000"))
    cases = [
        (["--kind", "gossip", "--channel", "account", "--subject", a], 4),
        (["--kind", "access", "--channel", "pigeon", "--subject", a], 4),
        (["--kind", "access", "--channel", "account", "--subject", a, "--received",
          "2027-01-01T00:00:00Z"], 4),
        (["--kind", "access", "--channel", "account", "--subject",
          "01a20000-0000-7000-8000-000000000000"], 3),
    ]
    for args, code in cases:
        r = at(v, when, "request", "new", *args)
        assert r.code == code, (args, r)
    assert len(j(v, when, "audit", "log", "--limit", "100000")) == before
    ok(v, when, "request", "new", "--kind", "access", "--channel", "account", "--subject", a)
    r = at(v, when, "request", "new", "--kind", "access", "--channel", "account", "--subject", a)
    assert r.code == 6 and "linked" in r.err
    assert len(j(v, when, "request", "list")) == 1
    # a role that is not the controller's staff may not handle requests
    r = at(v, when, "--as", "public", "--purpose", "community", "request", "list")
    assert r.code == 5


def test_access_lists_disclosures_but_never_confidential_ones(tmp_path):
    v = vault(tmp_path, os.path.join(EXAMPLES, "telecom.yaml"))
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Jānis", "email=j@x.lv")
    ok(v, "2023-01-01T10:00:00Z", "subject", "disclose", a, "--recipient", "debt_collectors")
    ok(v, when, "subject", "disclose", a, "--recipient", "credit_bureau")
    ok(v, when, "subject", "disclose", a, "--recipient", "law_enforcement")
    assert at(v, when, "subject", "disclose", a, "--recipient", "nobody").code == 4
    r = j(v, when, "request", "new", "--kind", "access", "--channel", "in_person", "--subject", a)
    ok(v, when, "request", "verify", r["id"], "--method", "id_document")
    ok(v, when, "request", "fulfil", r["id"], "--out", str(tmp_path / "acc"))
    text = (tmp_path / "acc" / "access.json").read_text()
    pkg = json.loads(text)
    # two years back only; retained data to law enforcement never shows
    assert [d["recipient"] for d in pkg["disclosed_to"]] == ["credit_bureau"]
    assert "law_enforcement" not in text


def test_two_fulfilments_at_once(tmp_path):
    """Two clerks fulfil one access request at the same moment: one answers,
    the other is told it is already answered; one copy is counted."""
    import threading
    v = vault(tmp_path, AZETA)
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "email=anna@x.lv")
    for round_ in range(3):
        r = j(v, when, "request", "new", "--kind", "access", "--channel", "in_person",
              "--subject", a)
        ok(v, when, "request", "verify", r["id"], "--method", "id_document")
        codes = []

        def go(i):
            res = at(v, when, "request", "fulfil", r["id"], "--out", str(tmp_path / f"o{round_}{i}"))
            codes.append(res.code)

        ts = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(codes) == [0, 6], codes
        shown = j(v, when, "request", "show", r["id"])
        assert shown["state"] == "fulfilled"
        assert [e["verb"] for e in shown["events"]].count("fulfilled") == 1
        when = f"2026-0{4 + round_}-02T10:00:00Z"
    ok(v, when, "audit", "verify")


def test_restore_keeps_requests_and_names_what_to_redo(tmp_path):
    """A restore keeps the live requests (evidence) and says which answered
    since the backup changed data the restore took back, and which are of
    people the backup does not have."""
    v = vault(tmp_path, AZETA)
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "email=anna@x.lv")
    bak = str(tmp_path / "b.db")
    ok(v, when, "backup", bak)
    later = "2026-03-03T10:00:00Z"
    # after the backup: a rectification answered, an access answered, and a
    # request of a person added since
    r = j(v, later, "request", "new", "--kind", "rectification", "--channel", "in_person",
          "--subject", a)
    ok(v, later, "request", "verify", r["id"], "--method", "id_document")
    ok(v, later, "request", "fulfil", r["id"], "--field", "email=anna@new.lv")
    acc = j(v, later, "request", "new", "--kind", "access", "--channel", "in_person",
            "--subject", a)
    ok(v, later, "request", "verify", acc["id"], "--method", "id_document")
    ok(v, later, "request", "fulfil", acc["id"], "--out", str(tmp_path / "acc"))
    b = person(v, later, "name=Bērzs", "email=b@x.lv")
    rb = j(v, later, "request", "new", "--kind", "access", "--channel", "in_person",
           "--subject", b)
    rep = j(v, "2026-03-04T10:00:00Z", "restore", bak)
    assert rep["requests_to_redo"] == 1 and rep["requests_orphaned"] == 1
    # the data is the backup's, the requests are the live ones
    assert j(v, later, "subject", "show", a)["fields"]["user.contact.email"] == "anna@x.lv"
    assert j(v, later, "request", "show", r["id"])["state"] == "fulfilled"
    assert j(v, later, "request", "show", rb["id"])["state"] == "received"
    entry = [e for e in j(v, later, "audit", "log") if e["action"] == "vault.restore"][-1]
    assert f"redo:{r['id']}" in entry["details"] and f"orphaned:{rb['id']}" in entry["details"]
    assert acc["id"] not in entry["details"]
    out = ok(v, "2026-03-04T10:00:00Z", "restore", bak).out
    assert "1 request(s) answered after the backup changed data" in out


def etwinning_with_contacts(tmp_path):
    """eTwinning's policy with where Art. 19 notices go: European Schoolnet
    knows a person by their e-mail; the Commission gets notices that name
    only the request; the other recipients have no contact."""
    text = open(ETW).read()
    text = text.replace(
        "  - id: european_schoolnet\n    kind: processor\n",
        "  - id: european_schoolnet\n    kind: processor\n"
        "    contact: {email: privacy@eun.example}\n    identify_by: [email]\n")
    text = text.replace(
        "  - id: commission\n    kind: other\n",
        "  - id: commission\n    kind: other\n    contact: {email: dpo@ec.example}\n")
    # a recipient no purpose names: it has data only by a recorded disclosure
    text = text.replace(
        "\ntemplates:\n",
        "  - id: court\n    kind: authority\n    name: {lv: tiesa, en: a court}\n"
        "    only_when_required: true\n    contact: {email: kanceleja@tiesa.example}\n"
        "    identify_by: [email]\n\ntemplates:\n", 1)
    p = tmp_path / "etwinning-contacts.yaml"
    p.write_text(text)
    return str(p)


def mails(maildir):
    """(To, Subject, body) of each delivered message, decoded."""
    import email
    import email.policy
    out = []
    for f in sorted((maildir / "new").iterdir()):
        m = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        out.append((str(m["To"]), str(m["Subject"]), m.get_content()))
    return out


def test_art19_notices_reach_recipients_and_outlive_the_erasure(tmp_path):
    v = vault(tmp_path, etwinning_with_contacts(tmp_path))
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "surname=Ozola", "email=anna@skola.lv", "country=LV")

    def new(kind):
        r = j(v, when, "request", "new", "--kind", kind, "--channel", "account", "--subject", a)
        ok(v, when, "request", "verify", r["id"], "--method", "account")
        return r["id"]

    # no disclosure to the court yet: it is not told of the rectification
    # below (it gets the erasure, after the disclosure)
    rect = new("rectification")
    f = j(v, when, "request", "fulfil", rect, "--field", "email=anna@jauna.lv", "--proof",
          "letter of 1 March")
    listed = f["art19_recipients"].split(", ")
    assert "european_schoolnet" in listed and "commission" in listed and "nso_eea" in listed
    assert f["art19_told"] == "european_schoolnet, commission"
    ok(v, when, "request", "fulfil", new("restriction"))
    ok(v, when, "unrestrict", a)
    maildir = tmp_path / "mail"

    def deliver(t):
        r = j(v, t, "outbox", "deliver", "--transport", f"maildir:{maildir}")
        assert r["failed"] == 0 and r["retried"] == 0 and r["dropped"] == 0
        return r["sent"]

    assert deliver("2026-03-02T10:30:00Z") == 6   # 2 notices each, 2 answers
    got = mails(maildir)
    eun = [m for m in got if m[0] == "privacy@eun.example"]
    ec = [m for m in got if m[0] == "dpo@ec.example"]
    assert len(eun) == 2 and len(ec) == 2
    # European Schoolnet finds the person by the e-mail it knew, and is
    # given the corrected value
    rect = [m for m in eun if "Rectification" in m[1] or "labošana" in m[1]]
    assert len(rect) == 1 and "anna@skola.lv" in rect[0][2] and "anna@jauna.lv" in rect[0][2]
    # the erasure, after a disclosure to the court: the person's key is
    # destroyed ...
    ok(v, when, "subject", "disclose", a, "--recipient", "court")
    era = new("erasure")
    f = j(v, when, "request", "fulfil", era, "--ground", "consent_withdrawn")
    assert f["state"] == "fulfilled"
    assert f["art19_told"] == "european_schoolnet, commission, court"
    assert at(v, when, "subject", "show", a).code == 3
    # ... the notices and the answer are queued, in no clear text on disk
    queued = sorted(r[0] for r in v.sql("SELECT kind FROM outbox WHERE state = 0"))
    assert queued == ["art19.erasure"] * 3 + ["request-answer"]
    raw = v.raw()
    assert b"anna@skola.lv" not in raw and b"anna@jauna.lv" not in raw
    # a key rotation before delivery: the retired key still opens them
    ok(v, when, "key", "rotate")
    assert deliver("2026-03-02T11:00:00Z") == 4
    # (the three notices and the person's answer, at the address they had)
    got = [m for m in mails(maildir) if era in m[2]]
    assert sorted(m[0] for m in got) == ["anna@jauna.lv", "dpo@ec.example",
                                         "kanceleja@tiesa.example", "privacy@eun.example"]
    erase_eun = [m for m in got if m[0] == "privacy@eun.example"]
    assert "anna@jauna.lv" in erase_eun[0][2]
    # the Commission is told the reference only: no personal data
    assert all("anna@" not in m[2] and "Anna" not in m[2]
               for m in mails(maildir) if m[0] == "dpo@ec.example")
    # once sent, nothing of a message's content stays
    rows = v.sql("SELECT length(sealed) FROM outbox")
    assert len(rows) == 4 and all(int(n) == 0 for (n,) in rows)
    assert ok(v, when, "audit", "verify").code == 0


def test_art19_contact_in_the_policy_is_checked(tmp_path):
    text = open(ETW).read().replace(
        "  - id: commission\n    kind: other\n",
        "  - id: commission\n    kind: other\n    identify_by: [email, nonsense]\n"
        "    contact: {email: not-an-address}\n")
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    r = Vault(tmp_path / "v").run("policy", "check", str(p))
    assert r.code == 4
    assert "nonsense" in r.err + r.out and "not an e-mail address" in r.err + r.out


def test_art19_notices_in_english(tmp_path):
    """A policy whose first language is English writes its notices, and the
    erasure's answer to the person, in English."""
    en = tmp_path / "en.yaml"
    en.write_text(open(etwinning_with_contacts(tmp_path)).read().replace(
        "languages: [lv, en]", "languages: [en, lv]", 1))
    v = vault(tmp_path, str(en))
    when = "2026-03-02T10:00:00Z"
    a = person(v, when, "name=Anna", "email=anna@skola.lv", "country=LV")
    r = j(v, when, "request", "new", "--kind", "erasure", "--channel", "account", "--subject", a)
    ok(v, when, "request", "verify", r["id"], "--method", "account")
    ok(v, when, "request", "fulfil", r["id"], "--ground", "consent_withdrawn")
    maildir = tmp_path / "mail"
    ok(v, "2026-03-02T10:30:00Z", "outbox", "deliver", "--transport", f"maildir:{maildir}")
    got = {m[0]: m for m in mails(maildir)}
    eun = got["privacy@eun.example"]
    assert eun[1] == "Erasure of personal data (GDPR Art. 19)"
    assert "Under Article 19 of the GDPR" in eun[2] and "anna@skola.lv" in eun[2]
    assert "Please erase the data you received from us" in eun[2]
    assert "The person is not named here" in got["dpo@ec.example"][2]
    answer = got["anna@skola.lv"]
    assert answer[1] == "Answer to your request" and "your data has been erased" in answer[2]
    assert "European Schoolnet" in answer[2]     # the recipients, by name
