"""`make run`'s walkthrough (scripts/demo) runs to the end, up to serving."""
import os
import subprocess

from conftest import ROOT, SARGS


def test_demo_walkthrough(tmp_path):
    env = dict(os.environ, DEMO_SERVE="0")
    for k in list(env):
        if k.startswith("SARGS_") and k != "SARGS_BIN":
            del env[k]
    p = subprocess.run(["sh", os.path.join(ROOT, "scripts", "demo"), SARGS,
                        str(tmp_path / "demo")], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    out = p.stdout
    assert "grep for the e-mail in the database file: not there" in out
    assert "re-applied 1 erasure(s)" in out
    assert "allowed: consent_given" in out and "denied: consent_withdrawn" in out
    assert "outside the view of role 'nso'" in p.stdout + p.stderr
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr
