"""docs/policy.schema.json against the files sargs itself accepts and
refuses, so that the editors' schema and `policy check` do not drift apart.
Uses Debian's python3-jsonschema and python3-yaml."""
import datetime
import glob
import json
import os
import subprocess

import jsonschema
import pytest
import yaml

from conftest import EXAMPLES, ROOT, SARGS

SCHEMA = os.path.join(ROOT, "docs", "policy.schema.json")


def as_json(path):
    """The YAML as JSON would see it: PyYAML reads YAML 1.1, whose dates
    become objects; editors (YAML 1.2) keep them as text."""
    def plain(x):
        if isinstance(x, dict):
            return {str(k): plain(v) for k, v in x.items()}
        if isinstance(x, list):
            return [plain(v) for v in x]
        if isinstance(x, (datetime.date, datetime.datetime)):
            return x.isoformat()
        return x
    with open(path) as f:
        return plain(yaml.safe_load(f))


def validator():
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def accepted_files():
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml")))
    files += [os.path.join(ROOT, "tests", "data", "people.yaml")]
    files += [os.path.join(ROOT, "fuzz", "corpus", "policy", n) for n in ("minimal.yaml", "full.yaml")]
    return files


@pytest.mark.parametrize("path", accepted_files(), ids=os.path.basename)
def test_schema_accepts_what_sargs_accepts(path):
    assert subprocess.run([SARGS, "policy", "check", path], capture_output=True).returncode == 0
    errors = sorted(validator().iter_errors(as_json(path)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_schema_refuses_what_sargs_refuses():
    path = os.path.join(ROOT, "fuzz", "corpus", "policy", "broken.yaml")
    assert subprocess.run([SARGS, "policy", "check", path], capture_output=True).returncode == 4
    doc = as_json(path)
    assert list(validator().iter_errors(doc))
    # and the checks it shares with sargs, one by one
    good = as_json(os.path.join(EXAMPLES, "vet2b.yaml"))
    v = validator()
    for mutate in [
        lambda d: d["purposes"][1]["consent"].pop("withdrawal"),
        lambda d: d["purposes"][2].pop("balance_test"),
        lambda d: d["purposes"][0].update(basis="contrct"),
        lambda d: d["retention"][0].update(after="3 years"),
        lambda d: d.update(retension=[]),
        lambda d: d["cookies"][3].update(kind="marketing", basis="legitimate_interest"),
        lambda d: d["categories"][0].update(special={"kind": "health"}),
    ]:
        d = json.loads(json.dumps(good))
        mutate(d)
        assert list(v.iter_errors(d)), mutate
