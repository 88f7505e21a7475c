"""The policy commands end to end: `policy check|apply|list|show`,
`notice`, `notice diff`, `ropa`, and `init --policy`, on the five example
organisations and on broken files."""
import csv
import io
import json
import os
import re

import pytest

from conftest import EXAMPLES, POLICY

ORGS = ["together-eu", "etwinning", "azeta", "vet2b", "telecom"]
PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")


def example(name):
    return os.path.join(EXAMPLES, name + ".yaml")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def policies(v):
    return v.sql("SELECT seq, hash FROM policies ORDER BY seq")


@pytest.mark.parametrize("org", ORGS)
def test_examples_are_valid(bare, org):
    r = bare.run("policy", "check", example(org), use_dir=False)
    assert r.code == 0, r
    assert "valid" in r.out and r.err == ""
    j = bare.run("--json", "policy", "check", example(org), use_dir=False).json()
    assert j["valid"] is True and j["problems"] == [] and len(j["version"]) == 64


BROKEN = """sargs: 1
id: broken
title: {lv: Salauzts, en: Broken}
controllers:
  - {id: c, name: SIA Broken, email: info@broken.test}
categories:
  - {id: user.contact.email, alias: email, type: email, name: {lv: e-pasts, en: e-mail}}
  - {id: user.health.notes, alias: health, type: text, special: health, name: {lv: veselība, en: health}}
recipients:
  - {id: mc, name: Mailchimp, country: US}
purposes:
  - {id: news, basis: consent, categories: [email, fax], recipients: [mc], name: {lv: Ziņas, en: News}}
  - {id: news, basis: legitimate_interest, categories: [health], name: {lv: X, en: X}}
  - {id: other, basis: contrct, categories: [email], name: {lv: Y, en: Y}}
retention:
  - {id: r, categories: [email], anchor: created, after: ten days, action: delete}
roles:
  - {id: viewer, name: V, fields: [email, shoe_size]}
requests:
  contact: {email: dpo@broken.test}
  channels: [{id: email}]
"""


def test_check_reports_every_problem(bare, tmp_path):
    f = write(tmp_path, "broken.yaml", BROKEN)
    r = bare.run("policy", "check", f, use_dir=False)
    assert r.code == 4
    lines = r.err.strip().splitlines()
    problems = [PROBLEM.match(l) for l in lines[:-1]]
    assert all(problems), lines
    assert lines[-1].startswith("sargs: ") and "problems" in lines[-1]
    text = "\n".join(lines)
    # every kind the issue names, each at its line
    expect = [
        (8, "no Art. 9(2) condition"),
        (10, "third country ('US') but has no safeguard"),
        (12, "unknown category 'fax'"),
        (12, "no withdrawal method"),
        (13, "duplicate purpose id 'news'"),
        (13, "no balance test"),
        (14, "unknown basis 'contrct'"),
        (16, "invalid duration 'ten days'"),
        (18, "unknown field 'shoe_size'"),
        (8, "covered by no retention rule"),
    ]
    found = [(int(m["line"]), m["msg"]) for m in problems]
    for line, words in expect:
        assert any(l == line and words in msg for l, msg in found), (line, words, text)
    # sorted by position
    assert [l for l, _ in found] == sorted(l for l, _ in found)
    # JSON: the same list
    j = bare.run("--json", "policy", "check", f, use_dir=False)
    assert j.code == 4
    body = j.json()
    assert body["valid"] is False and len(body["problems"]) == len(problems)
    assert all(set(p) == {"file", "line", "col", "message"} for p in body["problems"])


def test_check_syntax_error_position(bare, tmp_path):
    f = write(tmp_path, "syntax.yaml", "sargs: 1\nid: x\ntitle: {lv: a, en: b\ncategories: []\n")
    r = bare.run("policy", "check", f, use_dir=False)
    assert r.code == 4
    m = PROBLEM.match(r.err.splitlines()[0])
    assert m and "yaml syntax error" in m["msg"] and int(m["line"]) >= 3
    r = bare.run("policy", "check", str(tmp_path / "missing.yaml"), use_dir=False)
    assert r.code == 3 and "cannot open" in r.err
    assert bare.run("policy", "check", use_dir=False).code == 2
    assert bare.run("policy", "frob", use_dir=False).code == 2


def test_init_refuses_a_broken_policy(bare, tmp_path):
    f = write(tmp_path, "broken.yaml", BROKEN)
    r = bare.run("init", "--policy", f)
    assert r.code == 4 and PROBLEM.match(r.err.splitlines()[0])
    assert not os.path.exists(bare.dir)


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("lang", ["lv", "en"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_notice_from_file(bare, org, lang, fmt):
    r = bare.run("notice", "--policy", example(org), "--lang", lang, "--format", fmt, use_dir=False)
    assert r.code == 0, r
    heads = {
        "lv": ["Īsumā", "Pārzinis", "Datu aizsardzības speciālists", "tiesiskais pamats",
               "Leģitīmās intereses", "no kurienes", "Datu saņēmēji", "trešajām valstīm",
               "Cik ilgi glabājam", "Jūsu tiesības", "Piekrišanas atsaukšana",
               "iesniegt sūdzību", "obligāta", "Automatizēta", "Kā izmantot savas tiesības",
               "Spēkā stāšanās datums"],
        "en": ["In short", "Who is responsible", "Data protection officer", "legal bases",
               "Legitimate interests", "where it comes from", "Recipients", "outside the EU/EEA",
               "How long we keep", "Your rights", "Withdrawing consent", "lodge a complaint",
               "must provide data", "Automated decisions", "How to exercise", "Effective date"],
    }[lang]
    for h in heads:
        assert h in r.out, (org, lang, fmt, h)
    if fmt == "html":
        assert r.out.startswith("<!DOCTYPE html>") and f'lang="{lang}"' in r.out


def test_notice_from_vault_and_versions(bare, tmp_path):
    bare.ok("init", "--policy", example("etwinning"))
    r = bare.ok("notice", "--lang", "en")
    assert "eTwinning" in r.out and "Effective date:" in r.out
    j = bare.ok("--json", "notice", "--lang", "lv", "--format", "html").json()
    assert j["lang"] == "lv" and j["format"] == "html" and j["text"].startswith("<!DOCTYPE")
    assert j["effective"] == "2026-01-01T00:00:00Z"
    r = bare.run("notice", "--at", "2020-01-01")
    assert r.code == 3 and "no policy version was in force" in r.err
    assert bare.run("notice", "--lang", "de").code == 4
    assert bare.run("notice", "--format", "pdf").code == 2
    assert bare.run("notice", "--policy", example("vet2b"), "--at", "2026-01-01").code == 2


def test_notice_diff(bare, tmp_path):
    base = open(example("vet2b")).read()
    typo = write(tmp_path, "typo.yaml", base.replace("Biļetens un e-pasta paziņojumi",
                                                     "Biļetens un e-pasta paziņojumii"))
    r = bare.ok("notice", "diff", example("vet2b"), typo, use_dir=False)
    assert "notice only" in r.out and "no change needs telling people in advance" in r.out
    j = bare.ok("--json", "notice", "diff", example("vet2b"), typo, use_dir=False).json()
    assert j["must_inform"] is False
    longer = write(tmp_path, "longer.yaml", base.replace("after: P14M", "after: P26M"))
    j = bare.ok("--json", "notice", "diff", example("vet2b"), longer, use_dir=False).json()
    assert j["must_inform"] is True
    assert any("kept longer" in c["change"] and c["inform"] for c in j["changes"])
    newpurpose = write(tmp_path, "new.yaml", base.replace(
        "  # [003 \"Datu izmantošana\"] \"Lai jūs informētu",
        "  - {id: surveys, basis: consent, categories: [email], name: {lv: Aptaujas, en: Surveys},\n"
        "     consent: {withdrawal: {lv: saite, en: link}}}\n"
        "  # [003 \"Datu izmantošana\"] \"Lai jūs informētu"))
    r = bare.ok("notice", "diff", example("vet2b"), newpurpose, use_dir=False)
    assert "must inform" in r.out and "purpose 'surveys' added" in r.out
    assert "people must be told before the new version takes effect" in r.out
    r = bare.ok("notice", "diff", example("vet2b"), example("vet2b"), use_dir=False)
    assert "no differences" in r.out
    assert bare.run("notice", "diff", example("vet2b"), use_dir=False).code == 2


@pytest.mark.parametrize("org", ORGS)
def test_ropa(bare, org):
    r = bare.ok("ropa", "--policy", example(org), "--format", "json", "--lang", "en", use_dir=False)
    j = json.loads(r.out)
    assert j["activities"] and all(a["retention"] for a in j["activities"])
    r = bare.ok("ropa", "--policy", example(org), "--format", "csv", use_dir=False)
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0][:3] == ["purpose_id", "purpose", "controllers"]
    assert len(rows) == len(j["activities"]) + 1
    assert all(len(row) == len(rows[0]) for row in rows)


def test_ropa_from_vault(vault):
    j = json.loads(vault.ok("ropa").out)
    assert [a["purpose"] for a in j["activities"]] == ["service", "newsletter"]
    assert vault.run("ropa", "--format", "xml").code == 2


def test_apply_list_show(vault, tmp_path):
    base = open(POLICY).read()
    v2 = write(tmp_path, "v2.yaml", base.replace(
        "categories:\n",
        "categories:\n  - {id: user.job.title, alias: job, type: line, name: {lv: amats, en: job}}\n"
    ).replace("personal_code, country, language]", "personal_code, country, language, job]"))
    assert vault.run("subject", "add", "--field", "job=teacher").code == 4
    r = vault.ok("--json", "policy", "apply", v2, "--effective", "2026-12-01T00:00:00Z")
    ver = r.json()
    assert ver["seq"] == 2 and ver["effective"] == "2026-12-01T00:00:00Z"
    # not yet in force
    assert vault.run("subject", "add", "--field", "job=teacher").code == 4
    j = vault.ok("--json", "policy", "list").json()
    assert [v["seq"] for v in j["versions"]] == [1, 2] and j["in_force"] == 1
    assert vault.ok("policy", "show").out == base
    assert "user.job.title" in vault.ok("policy", "show", "--at", "2026-12-02").out
    # a month later it is
    later = {"SARGS_NOW": "2026-12-24T10:00:00Z"}
    vault.ok("subject", "add", "--field", "job=teacher", env=later)
    assert vault.ok("--json", "policy", "list", env=later).json()["in_force"] == 2
    assert "2 " in vault.ok("policy", "list").out


def test_apply_refusals_change_nothing(vault, tmp_path):
    before = policies(vault)
    base = open(POLICY).read()
    # invalid file
    bad = write(tmp_path, "bad.yaml", base.replace("basis: contract", "basis: maybe"))
    r = vault.run("policy", "apply", bad)
    assert r.code == 4 and "unknown basis 'maybe'" in r.err
    # the past cannot be rewritten
    good = write(tmp_path, "good.yaml", base.replace("Jaunumu vēstule", "Jaunumu vēstules"))
    r = vault.run("policy", "apply", good, "--effective", "2026-01-01")
    assert r.code == 4 and "past" in r.err
    # the version already in force
    r = vault.run("policy", "apply", POLICY)
    assert r.code == 6 and "already in force" in r.err
    # a category changing type
    typed = write(tmp_path, "typed.yaml", base.replace("alias: surname, type: line",
                                                       "alias: surname, type: email"))
    r = vault.run("policy", "apply", typed)
    assert r.code == 6 and "user.name.last" in r.err
    assert vault.run("policy", "apply", good, "--effective", "tomorrow").code == 2
    assert policies(vault) == before
    # and a good one, now
    vault.ok("policy", "apply", good)
    assert len(policies(vault)) == len(before) + 1


def test_demo_policy_in_a_vault(bare):
    """What `make run` does: a vault on the eTwinning example."""
    bare.ok("init", "--policy", example("etwinning"))
    sid = bare.add("name=Anna", "surname=Ozola", "email=anna.ozola@skola.lv",
                   "school_name=Rīgas 1. vidusskola", "country=lv",
                   "principal_name=Jānis", "principal_surname=Kalniņš",
                   "principal_email=direktors@skola.lv")
    assert bare.ok("subject", "find", "email=ANNA.OZOLA@skola.lv").out.strip() == sid
    j = bare.ok("--json", "subject", "show", sid).json()
    assert j["fields"]["user.school.country"] == "LV"
    assert bare.run("subject", "add", "--field", "phone=29123456").code == 4
