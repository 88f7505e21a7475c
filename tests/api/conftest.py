"""Black-box tests of `sargs serve`: each test module starts the real server
(built with the sanitizers under `make test`) on a free loopback port, over a
vault of its own, and drives it over HTTP."""
import importlib.util
import os
import signal
import subprocess
import time

import pytest
import requests

# The command's test helpers, loaded under their own name (both directories
# have a conftest.py).
_spec = importlib.util.spec_from_file_location(
    "sargs_cli_conftest", os.path.join(os.path.dirname(__file__), "..", "cli", "conftest.py"))
_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cli)
EXAMPLES, NOW, SARGS, Vault = _cli.EXAMPLES, _cli.NOW, _cli.SARGS, _cli.Vault
# On PostgreSQL (api-postgres, see tests/meson.build) every vault is in a
# schema of its own; the server reaches it through SARGS_STORE.
PG, psql, pg_server = _cli.PG, _cli.psql, _cli.pg_server

ETWINNING = os.path.join(EXAMPLES, "etwinning.yaml")


class Server:
    """A running `sargs serve` and the tokens made for it."""

    def __init__(self, vault, tmp, args=()):
        self.vault = vault
        self.ready = os.path.join(tmp, "ready")
        self.log = open(os.path.join(tmp, "server.log"), "w+")
        env = dict(vault.env)
        env.pop("SARGS_NOW", None)  # the server runs on the real clock
        self.proc = subprocess.Popen(
            [SARGS, "--dir", vault.dir, "serve", "--listen", "127.0.0.1:0", "--threads", "2",
             "--ready-file", self.ready, *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while not (os.path.exists(self.ready) and open(self.ready).read().endswith("\n")):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start: " + self.output())
            time.sleep(0.05)
        self.base = "http://" + open(self.ready).read().strip()
        self.http = requests.Session()

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def url(self, path):
        return self.base + path

    def call(self, method, path, token=None, headers=None, **kw):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return self.http.request(method, self.url(path), headers=h, timeout=30, **kw)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = self.output()
        assert "AddressSanitizer" not in out, out
        assert "runtime error" not in out, out
        return self.proc.returncode, out


def token(vault, role, purpose, scope=None, name=None):
    args = ["--json", "--purpose", purpose, "token", "create", "--name", name or role,
            "--role", role]
    if scope:
        args += ["--scope", scope]
    return vault.ok(*args).json()["token"]


@pytest.fixture
def etwinning(tmp_path):
    """A vault on the eTwinning policy, not yet served."""
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", ETWINNING)
    return v


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(vault, *args):
        # A second server of one test (another node) gets its own files.
        d = tmp_path / f"node{len(started)}" if started else tmp_path
        d.mkdir(exist_ok=True)
        s = Server(vault, str(d), args)
        started.append(s)
        return s

    yield start
    for s in started:
        code, out = s.stop()
        assert code == 0, out
