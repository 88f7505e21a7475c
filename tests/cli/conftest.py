"""Black-box tests of the `sargs` command: they run the real binary (built
with the sanitizers under `make test`) on a fresh vault per test.

With SARGS_TEST_PG set (scripts/pg-test-cluster run, see tests/meson.build)
every vault keeps its data in that PostgreSQL database, in an empty schema
of its own, and the raw-database helpers below go through psql."""
import itertools
import json
import os
import sqlite3
import subprocess

import pytest

SARGS = os.environ.get("SARGS_BIN", os.path.join(os.path.dirname(__file__), "../../build/sargs"))
NOW = "2026-11-23T10:00:00Z"
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The policy of the tests: the categories the foundation had built in.
POLICY = os.path.join(ROOT, "tests", "data", "people.yaml")
EXAMPLES = os.path.join(ROOT, "examples")
PG = os.environ.get("SARGS_TEST_PG")
TABLES = ["meta", "categories", "subjects", "lookup", "events", "history", "audit_log",
          "audit_nodes", "audit_heads", "tokens", "policies", "memberships", "consent_events",
          "decisions", "operators", "sessions", "sweep_done", "global_events", "statistics",
          "outbox", "requests", "request_events", "person_codes"]
_schemas = itertools.count()


def psql(uri, sql):
    """Rows of a query as tuples of strings (NULL is '')."""
    p = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                        "-d", uri, "-c", sql], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [tuple(line.split("\x1f")) for line in p.stdout.splitlines()]


def pg_server(verb):
    """Stops ("pause") or restarts ("resume") the test server."""
    subprocess.run([os.environ["SARGS_TEST_PG_CTL"], verb, os.environ["SARGS_TEST_PG_DIR"]],
                   check=True, timeout=120)


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"<exit {self.code} out={self.out!r} err={self.err!r}>"


class Vault:
    def __init__(self, path):
        self.dir = str(path)
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("SARGS_") and k != "SARGS_BIN":
                del self.env[k]
        self.env["SARGS_NOW"] = NOW
        self.store = None
        if PG:
            self.schema = f"t{os.getpid()}_{next(_schemas)}"
            psql(PG, f"CREATE SCHEMA {self.schema}")
            sep = "&" if "?" in PG else "?"
            self.store = f"{PG}{sep}options=-csearch_path%3D{self.schema}"
            self.env["SARGS_STORE"] = self.store

    def run(self, *args, stdin=None, env=None, use_dir=True):
        e = dict(self.env)
        if env:
            e.update(env)
        argv = [SARGS] + (["--dir", self.dir] if use_dir else []) + list(args)
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=e, timeout=60)
        # Sanitizer reports must never appear, whatever the exit code.
        assert "AddressSanitizer" not in p.stderr, p.stderr
        assert "runtime error" not in p.stderr, p.stderr
        return Result(p)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.code == 0, r
        return r

    def add(self, *fields, events=()):
        args = ["subject", "add"]
        for f in fields:
            args += ["--field", f]
        for e in events:
            args += ["--event", e]
        return self.ok(*args).out.strip()

    def db(self):
        return os.path.join(self.dir, "sargs.db")

    def sql(self, query, args=()):
        """Rows of a query on the vault's database. On PostgreSQL the values
        are strings, and `args` are not supported."""
        if self.store:
            assert not args
            return psql(self.store, query)
        con = sqlite3.connect(self.db())
        try:
            rows = con.execute(query, args).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def get_record(self, sid):
        if self.store:
            (h,) = self.sql(f"SELECT encode(record, 'hex') FROM subjects WHERE id = '{sid}'")[0]
            return bytes.fromhex(h)
        import uuid
        return self.sql("SELECT record FROM subjects WHERE id = ?", (uuid.UUID(sid).bytes,))[0][0]

    def set_record(self, sid, rec):
        if self.store:
            self.sql(f"UPDATE subjects SET record = '\\x{rec.hex()}' WHERE id = '{sid}'")
            return
        import uuid
        self.sql("UPDATE subjects SET record = ? WHERE id = ?", (rec, uuid.UUID(sid).bytes))

    def raw(self):
        """Every stored byte: the database file, or every column on PostgreSQL."""
        if not self.store:
            return open(self.db(), "rb").read()
        out = b""
        for table in TABLES:
            for row in self.sql(f"SELECT encode(convert_to(t::text, 'UTF8'), 'hex'), "
                                f"concat_ws('', {self._blobs(table)}) FROM {table} t"):
                out += bytes.fromhex(row[0]) + bytes.fromhex(row[1])
        return out

    @staticmethod
    def _blobs(table):
        cols = {"subjects": ["dek", "record"], "lookup": ["bidx"], "history": ["old", "reason"],
                "audit_log": ["pseudonym", "leaf", "hash"], "audit_nodes": ["hash"],
                "audit_heads": ["root"], "tokens": ["hash"], "policies": ["text"],
                "consent_events": ["bidx", "details"], "decisions": ["purposes"],
                "sessions": ["hash"], "statistics": ["id"], "outbox": ["sealed"],
                "request_events": ["reason"], "person_codes": ["hash"]}
        return ", ".join([f"encode({c}, 'hex')" for c in cols.get(table, [])] + ["''"])

    def lose_db(self):
        """The database lost entirely (the keys directory survives)."""
        if self.store:
            psql(self.store, f"DROP SCHEMA {self.schema} CASCADE; CREATE SCHEMA {self.schema}")
            return
        for suffix in ["", "-wal", "-shm"]:
            if os.path.exists(self.db() + suffix):
                os.unlink(self.db() + suffix)

    def dump(self):
        """Everything in the database except the audit log, as text."""
        if self.store:
            return "\n".join(str(self.sql(f"SELECT t::text FROM {table} t ORDER BY 1"))
                             for table in TABLES if not table.startswith("audit_"))
        con = sqlite3.connect(self.db())
        try:
            lines = [l for l in con.iterdump() if "INSERT INTO \"audit_" not in l]
        finally:
            con.close()
        return "\n".join(lines)

    def unguard(self):
        """What an administrator holding the database can do to the audit
        log: lift its guards (drop SQLite's triggers; disable PostgreSQL's,
        as the owner)."""
        if self.store:
            self.sql("; ".join(f"ALTER TABLE audit_{t} DISABLE TRIGGER USER"
                               for t in ["log", "nodes", "heads"]))
            return
        for t in ["log", "nodes", "heads"]:
            for op in ["update", "delete"]:
                self.sql(f"DROP TRIGGER audit_{t}_no_{op}")

    def blob(self, hexstr):
        """A bytes literal in the database's SQL."""
        return f"'\\x{hexstr}'::bytea" if self.store else f"x'{hexstr}'"

    def audit_count(self):
        return int(self.sql("SELECT count(*) FROM audit_log")[0][0])


@pytest.fixture
def vault(tmp_path):
    v = Vault(tmp_path / "vault")
    v.ok("init", "--policy", POLICY)
    return v


@pytest.fixture
def bare(tmp_path):
    return Vault(tmp_path / "vault")
