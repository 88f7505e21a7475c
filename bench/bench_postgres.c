/*
 * bench_postgres.c - the vault benchmark on PostgreSQL, against the way an
 * organisation would do it without sargs.
 *
 * sargs: the workload of bench_vault.c through the library API on the
 * PostgreSQL backend: N people with 6 fields each (sealed per person under
 * the person's own key, 3 blind indexes, an audit entry each), N look-ups by
 * e-mail (audited), N look-ups followed by reading and decrypting the
 * person, N/10 erasures (crypto-shredding); 1,000 operations per
 * transaction. Then N/10 people written one transaction each, as an API
 * server would.
 *
 * Both sides wait once per operation for what the caller needs to go on:
 * its outcome, and for a look-up its answer before the audit entry that
 * names whom it found (so a look-up is two round trips on both sides).
 *
 * Baseline, in the same run and the same cluster: one table whose six fields
 * are encrypted with pgcrypto's pgp_sym_encrypt under one organisation-wide
 * passphrase, found by a digest() column per searchable field (sha256 of the
 * normalised value), the same audit table and the same batching. The
 * statements of one operation are pipelined as sargs's are, so that the
 * ratio measures the design, not the client.
 *
 * usage: bench_postgres [PEOPLE]   (default 10000)
 * The database is SARGS_TEST_PG; `make bench` starts a throw-away durable
 * cluster for it (scripts/pg-test-cluster run --durable).
 */
#include "bench_common.h"

#include <ftw.h>
#include <libpq-fe.h>

#include "sargs/sargs.h"

#define BATCH 1000

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench: %s: %s\n", what, msg);
    exit(1);
}

struct result {
    double write_s, find_s, read_s, erase_s, single_s;
};

/* An address whose tables live in schema `schema` (created here). */
static void schema_uri(const char *base, const char *schema, char *out, size_t len)
{
    PGconn *c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", PQerrorMessage(c));
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(out, len, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
             schema);
}

/* ------------------------------------------------------------------ sargs */

static void run_sargs(const char *dir, const char *uri, struct bench_person *p, size_t n,
                      const size_t *probe, struct result *r)
{
    struct sg_err e;
    struct sg_vault *v = bench_vault_in(dir, uri, bench_policy);
    const struct sg_actor who = {"bench", "operator", "benchmark", NULL, NULL};
    struct sg_uuid *ids = malloc(n * sizeof *ids);

    double t0 = bench_now();
    for (size_t i = 0; i < n; i += BATCH) {
        if (sg_vault_begin(v, &e))
            die("begin", e.msg);
        for (size_t k = i; k < i + BATCH && k < n; k++) {
            struct sg_field_in f[6] = {
                {"name", p[k].name, strlen(p[k].name)},
                {"surname", p[k].surname, strlen(p[k].surname)},
                {"email", p[k].email, strlen(p[k].email)},
                {"phone", p[k].phone, strlen(p[k].phone)},
                {"personal_code", p[k].code, strlen(p[k].code)},
                {"country", p[k].country, 2},
            };
            if (sg_subject_add(v, &who, f, 6, NULL, 0, &ids[k], &e))
                die("add", e.msg);
        }
        if (sg_vault_commit(v, &e))
            die("commit", e.msg);
    }
    r->write_s = bench_now() - t0;

    for (int read = 0; read < 2; read++) {
        t0 = bench_now();
        for (size_t i = 0; i < n; i += BATCH) {
            if (sg_vault_begin(v, &e))
                die("begin", e.msg);
            for (size_t k = i; k < i + BATCH && k < n; k++) {
                const struct bench_person *q = &p[probe[k]];
                struct sg_uuid found;
                size_t nf = 0;
                if (sg_subject_find(v, &who, "email", q->email, strlen(q->email), &found, 1, &nf,
                                    &e))
                    die("find", e.msg);
                if (nf != 1 || !sg_uuid_equal(&found, &ids[probe[k]]))
                    die("find", "found the wrong person");
                if (!read)
                    continue;
                struct sg_subject *s = NULL;
                if (sg_subject_get(v, &who, &found, 0, &s, &e))
                    die("get", e.msg);
                if (s->nfields != 6)
                    die("get", "fields missing");
                sg_subject_free(s);
            }
            if (sg_vault_commit(v, &e))
                die("commit", e.msg);
        }
        *(read ? &r->read_s : &r->find_s) = bench_now() - t0;
    }

    size_t nerase = n / 10;
    t0 = bench_now();
    for (size_t i = 0; i < nerase; i += BATCH) {
        if (sg_vault_begin(v, &e))
            die("begin", e.msg);
        for (size_t k = i; k < i + BATCH && k < nerase; k++)
            if (sg_subject_erase(v, &who, &ids[k * 10], &e))
                die("erase", e.msg);
        if (sg_vault_commit(v, &e))
            die("commit", e.msg);
    }
    r->erase_s = bench_now() - t0;

    /* One transaction per person (the people of the first tenth again). */
    t0 = bench_now();
    for (size_t k = 0; k < nerase; k++) {
        struct sg_field_in f[6] = {
            {"name", p[k].name, strlen(p[k].name)},
            {"surname", p[k].surname, strlen(p[k].surname)},
            {"email", p[k].email, strlen(p[k].email)},
            {"phone", p[k].phone, strlen(p[k].phone)},
            {"personal_code", p[k].code, strlen(p[k].code)},
            {"country", p[k].country, 2},
        };
        struct sg_uuid id;
        if (sg_subject_add(v, &who, f, 6, NULL, 0, &id, &e))
            die("add", e.msg);
    }
    r->single_s = bench_now() - t0;
    sg_vault_close(v);
    free(ids);
}

/* --------------------------------------------------------------- baseline */

static PGconn *pc;
static int queued;

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void check(PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        die(what, PQresultErrorMessage(r));
}

static void prepare(const char *name, const char *sql)
{
    PGresult *r = PQprepare(pc, name, sql, 0, NULL);
    check(r, name);
    PQclear(r);
}

static void send(const char *name, int n, const char *const *vals)
{
    if (!PQsendQueryPrepared(pc, name, n, vals, NULL, NULL, 0))
        die(name, PQerrorMessage(pc));
    queued++;
}

/* Reads every queued answer; `rows` gets the row count of each SELECT
 * (checked to be `want`, when want >= 0). */
static void sync_all(int want)
{
    if (!PQpipelineSync(pc))
        die("sync", PQerrorMessage(pc));
    for (; queued > 0; queued--) {
        PGresult *r = PQgetResult(pc);
        check(r, "pipeline");
        if (want >= 0 && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) != want)
            die("baseline", "look-up found the wrong number of people");
        PQclear(r);
        while ((r = PQgetResult(pc)) != NULL)
            PQclear(r);
    }
    PGresult *r = PQgetResult(pc);
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        die("sync", "no sync point");
    PQclear(r);
}

/* Queues transaction control in the pipeline. */
static void tx(const char *sql)
{
    if (!PQsendQueryParams(pc, sql, 0, NULL, NULL, NULL, NULL, 0))
        die(sql, PQerrorMessage(pc));
    queued++;
}

static void simple(const char *sql)
{
    PGresult *r = PQexec(pc, sql);
    check(r, sql);
    PQclear(r);
}

static void run_pgcrypto(const char *uri, struct bench_person *p, size_t n, const size_t *probe,
                         struct result *r)
{
    pc = PQconnectdb(uri);
    if (PQstatus(pc) != CONNECTION_OK)
        die("connect", PQerrorMessage(pc));
    PQsetNoticeProcessor(pc, quiet, NULL);
    /* pgcrypto is a trusted extension: the database owner may create it. */
    simple("CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public");
    simple("SET search_path TO plain, public");
    simple("CREATE TABLE people (id uuid PRIMARY KEY, created timestamptz NOT NULL, "
           "name bytea, surname bytea, email bytea, phone bytea, code bytea, country bytea, "
           "email_digest bytea, phone_digest bytea, code_digest bytea);"
           "CREATE INDEX ON people (email_digest); CREATE INDEX ON people (phone_digest);"
           "CREATE INDEX ON people (code_digest);"
           "CREATE TABLE audit (seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
           "at timestamptz NOT NULL, actor text NOT NULL, role text NOT NULL, purpose text NOT "
           "NULL, action text NOT NULL, subject uuid, result text NOT NULL)");
    prepare("ins", "INSERT INTO people VALUES ($1, now(), pgp_sym_encrypt($2, $8), "
                   "pgp_sym_encrypt($3, $8), pgp_sym_encrypt($4, $8), pgp_sym_encrypt($5, $8), "
                   "pgp_sym_encrypt($6, $8), pgp_sym_encrypt($7, $8), "
                   "digest(lower($4), 'sha256'), digest($5, 'sha256'), digest($6, 'sha256'))");
    prepare("aud", "INSERT INTO audit (at, actor, role, purpose, action, subject, result) "
                   "VALUES (now(), 'bench', 'operator', 'benchmark', $1, $2, 'ok')");
    prepare("find", "SELECT id FROM people WHERE email_digest = digest(lower($1), 'sha256')");
    prepare("read", "SELECT id, pgp_sym_decrypt(name, $2), pgp_sym_decrypt(surname, $2), "
                    "pgp_sym_decrypt(email, $2), pgp_sym_decrypt(phone, $2), "
                    "pgp_sym_decrypt(code, $2), pgp_sym_decrypt(country, $2) FROM people "
                    "WHERE email_digest = digest(lower($1), 'sha256')");
    prepare("del", "DELETE FROM people WHERE id = $1");
    if (!PQenterPipelineMode(pc))
        die("pipeline", PQerrorMessage(pc));
    static const char key[] = "organisation-wide passphrase, kept in the application";
    char(*ids)[SG_UUID_STR_LEN + 1] = malloc(n * sizeof *ids);

    double t0 = bench_now();
    for (size_t i = 0; i < n; i += BATCH) {
        tx("BEGIN");
        for (size_t k = i; k < i + BATCH && k < n; k++) {
            struct sg_uuid id;
            sg_uuid_v7(sg_clock_now(NULL), &id);
            sg_uuid_format(&id, ids[k]);
            const char *v[8] = {ids[k],     p[k].name, p[k].surname, p[k].email,
                                p[k].phone, p[k].code, p[k].country, key};
            send("ins", 8, v);
            const char *a[2] = {"subject.create", ids[k]};
            send("aud", 2, a);
            sync_all(-1); /* the caller learns the outcome of each person */
        }
        tx("COMMIT");
        sync_all(-1);
    }
    r->write_s = bench_now() - t0;

    for (int read = 0; read < 2; read++) {
        t0 = bench_now();
        for (size_t i = 0; i < n; i += BATCH) {
            tx("BEGIN");
            for (size_t k = i; k < i + BATCH && k < n; k++) {
                /* The answer first: the audit entry names who was found. */
                const char *v[2] = {p[probe[k]].email, key};
                send(read ? "read" : "find", read ? 2 : 1, v);
                sync_all(1);
                const char *a[2] = {read ? "subject.read" : "subject.find", ids[probe[k]]};
                send("aud", 2, a);
                sync_all(-1);
            }
            tx("COMMIT");
            sync_all(-1);
        }
        *(read ? &r->read_s : &r->find_s) = bench_now() - t0;
    }

    size_t nerase = n / 10;
    t0 = bench_now();
    for (size_t i = 0; i < nerase; i += BATCH) {
        tx("BEGIN");
        for (size_t k = i; k < i + BATCH && k < nerase; k++) {
            const char *v[1] = {ids[k * 10]};
            send("del", 1, v);
            const char *a[2] = {"subject.erase", ids[k * 10]};
            send("aud", 2, a);
            sync_all(-1);
        }
        tx("COMMIT");
        sync_all(-1);
    }
    r->erase_s = bench_now() - t0;

    /* One transaction per person, pipelined within it like sargs. */
    t0 = bench_now();
    for (size_t k = 0; k < nerase; k++) {
        tx("BEGIN");
        struct sg_uuid id;
        char ids1[SG_UUID_STR_LEN + 1];
        sg_uuid_v7(sg_clock_now(NULL), &id);
        sg_uuid_format(&id, ids1);
        const char *v[8] = {ids1,       p[k].name, p[k].surname, p[k].email,
                            p[k].phone, p[k].code, p[k].country, key};
        send("ins", 8, v);
        const char *a[2] = {"subject.create", ids1};
        send("aud", 2, a);
        tx("COMMIT");
        sync_all(-1);
    }
    r->single_s = bench_now() - t0;
    free(ids);
    PQfinish(pc);
}

static void line(const char *what, double n, double sargs_s, double base_s)
{
    printf("%-40s %12.0f %12.0f %8.2f\n", what, n / sargs_s, n / base_s, base_s / sargs_s);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000;
    if (n < 1000)
        n = 1000;
    const char *base = getenv("SARGS_TEST_PG");
    if (!base || !*base)
        die("usage", "set SARGS_TEST_PG to a database, or run it through `make bench`");
    if (sg_crypto_init(NULL))
        return 1;
    char dir[] = "/tmp/sargs-bench-pg-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    bench_machine();
    PGconn *c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", PQerrorMessage(c));
    PGresult *v = PQexec(c, "SELECT current_setting('server_version'), "
                            "current_setting('fsync'), current_setting('synchronous_commit'), "
                            "current_setting('shared_buffers')");
    check(v, "version");
    printf("PostgreSQL %s on loopback TCP, fsync=%s synchronous_commit=%s shared_buffers=%s; "
           "client libpq %d\n",
           PQgetvalue(v, 0, 0), PQgetvalue(v, 0, 1), PQgetvalue(v, 0, 2), PQgetvalue(v, 0, 3),
           PQlibVersion());
    PQclear(v);
    PQfinish(c);

    bench_rng = 0x243f6a8885a308d3ull;
    struct bench_person *p = malloc(n * sizeof *p);
    bench_make_people(p, n);
    size_t *probe = malloc(n * sizeof *probe);
    for (size_t i = 0; i < n; i++)
        probe[i] = bench_rand() % n;

    char uri[1024], vault[128];
    struct result s = {1, 1, 1, 1, 1}, b = {1, 1, 1, 1, 1};
    const char *only = getenv("BENCH_ONLY"); /* sargs|pgcrypto, for profiling */
    if (!only || strcmp(only, "pgcrypto") != 0) {
        schema_uri(base, "sargs", uri, sizeof uri);
        snprintf(vault, sizeof vault, "%s/vault", dir);
        run_sargs(vault, uri, p, n, probe, &s);
    }
    if (!only || strcmp(only, "sargs") != 0) {
        schema_uri(base, "plain", uri, sizeof uri);
        run_pgcrypto(uri, p, n, probe, &b);
    }
    printf("\n%zu people x 6 fields, %zu look-ups by e-mail, %zu erasures; %d per transaction\n", n,
           n, n / 10, BATCH);
    printf("%-40s %12s %12s %8s\n", "", "sargs", "pgcrypto", "ratio");
    line("people written /s", (double)n, s.write_s, b.write_s);
    line("look-ups by e-mail /s (audited)", (double)n, s.find_s, b.find_s);
    line("look-up + read of 6 fields /s", (double)n, s.read_s, b.read_s);
    line("erasures /s", (double)(n / 10), s.erase_s, b.erase_s);
    line("people written /s, 1 per transaction", (double)(n / 10), s.single_s, b.single_s);
    /* The five phases as one workload: each side's total time. */
    double st = s.write_s + s.find_s + s.read_s + s.erase_s + s.single_s;
    double bt = b.write_s + b.find_s + b.read_s + b.erase_s + b.single_s;
    printf("%-40s %12.2f %12.2f %8.2f\n", "all five phases, seconds", st, bt, bt / st);
    printf("\nratio: how many times faster sargs is (pgcrypto time / sargs time)\n");
    free(p);
    free(probe);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
