/*
 * bench_consent.c - the decision benchmark of the consent issue.
 *
 * N people (default 1,000,000) with consent states for four consent
 * purposes, then decisions sg_may() on random (person, purpose) pairs, one
 * thread, in process, with the latency of each measured for p50/p99.
 *
 * Baseline, in the same run and on the same database: a bare SQLite point
 * look-up of the same person's row of the same table (decisions) with a
 * prepared statement, no parsing - the limit a decision cannot beat.
 *
 * With SARGS_TEST_PG set (scripts/pg-test-cluster run --durable), the vault
 * is on that PostgreSQL database, and the baseline is the same look-up with
 * libpq: a statement prepared once, a binary id, one round trip.
 *
 * The decisions run in bulk mode (sg_may_bulk: a read snapshot kept while
 * nothing commits, checked before each decision). A second baseline is the
 * bare look-up inside one long read transaction, which never looks for
 * changes: what the B-tree read costs by itself.
 *
 * Then the same decisions with a withdrawal (the whole library path:
 * checks, ledger event, audit entry, signed head, fsync) every 1,000
 * decisions, made on another handle of the vault (another connection, as
 * another process would be), each followed at once by a decision on the
 * deciding handle that must see it.
 *
 * The people are written straight through the store interface (rows and
 * consent states, no sealed record): a decision reads neither. The people
 * whose consent is withdrawn are made through the library, with real keys.
 *
 * usage: bench_consent [PEOPLE [DECISIONS]]
 */
#include "bench_common.h"

#include <ftw.h>
#include <libpq-fe.h>

#include "sargs/consent.h"
#include "../src/lib/consent/consent_int.h"

static const char policy_text[] =
    "sargs: 1\n"
    "id: bench-consent\n"
    "title: Benchmark\n"
    "controllers: [{id: c, name: Bench, email: bench@organisation.test}]\n"
    "categories:\n"
    "  - {id: user.name.first, alias: name, type: line, name: name}\n"
    "  - {id: user.contact.email, alias: email, type: email, indexed: true, name: e-mail}\n"
    "purposes:\n"
    "  - {id: service, name: Service, basis: contract, categories: [name, email]}\n"
    "  - {id: news, name: News, basis: consent, categories: [email],\n"
    "     consent: {withdrawal: link, validity: P2Y}}\n"
    "  - {id: partners, name: Partners, basis: consent, sale_or_sharing: true,\n"
    "     categories: [email], consent: {withdrawal: profile}}\n"
    "  - {id: survey, name: Surveys, basis: consent, categories: [email],\n"
    "     consent: {withdrawal: link}}\n"
    "  - {id: photos, name: Photos, basis: consent, categories: [name],\n"
    "     consent: {withdrawal: profile, min_age: 13}}\n"
    "retention: [{id: r, categories: all, anchor: contract_end, after: P1Y, action: delete}]\n"
    "requests: {contact: {email: bench@organisation.test}, channels: [{id: email}]}\n";

static const char *const purposes[] = {"news", "partners", "survey", "photos", "service"};
#define NPURPOSES 5

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs SQL on the PostgreSQL server, notices aside. */
static void pg_exec(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    if (!ok) {
        fprintf(stderr, "bench: %s failed\n", sql);
        exit(1);
    }
}

static void die(const char *what, const struct sg_err *e)
{
    fprintf(stderr, "bench: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double secs, size_t n, double *lat)
{
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("  %-44s %10.0f /s   p50 %5.2f us   p99 %5.2f us\n", what, (double)n / secs,
           lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6);
}

int main(int argc, char **argv)
{
    size_t people = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t decisions = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
    if (people < 1000)
        people = 1000;
    struct sg_err e;
    if (sg_crypto_init(&e))
        die("crypto", &e);
    bench_machine();
    char dir[] = "/tmp/sargs-bench-consent-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char vdir[64];
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    const char *pg = bench_store();
    /* On PostgreSQL, a schema of its own as the vault's database. */
    if (pg)
        pg_exec(pg, "DROP SCHEMA IF EXISTS bench_consent CASCADE; CREATE SCHEMA bench_consent");
    char uri[1024];
    snprintf(uri, sizeof uri, "%s%soptions=-csearch_path%%3Dbench_consent", pg ? pg : "",
             pg && strchr(pg, '?') ? "&" : "?");
    struct sg_vault *v = bench_vault_in(vdir, pg ? uri : NULL, policy_text);
    struct sg_store *s = v->store;
    const struct sg_actor op = {"bench", "operator", "benchmark", NULL, NULL};
    if (pg)
        printf("storage: PostgreSQL on loopback TCP (SARGS_TEST_PG); keys in %s\n", dir);
    else
        printf("storage: SQLite, WAL, synchronous=FULL; files in %s\n", dir);
    printf("%zu people, %d consent purposes and one contract purpose\n\n", people, NPURPOSES - 1);

    /* People and their consent states, 10,000 per transaction. */
    double t0 = bench_now();
    struct sg_uuid *ids = malloc(people * sizeof *ids);
    sg_time now = sg_clock_now(NULL);
    size_t given = 0;
    for (size_t i = 0; i < people; i++) {
        if (i % 10000 == 0 && s->ops->begin(s, &e))
            die("begin", &e);
        struct sg_store_subject row = {0};
        sg_uuid_v7(now, &row.id);
        row.state = bench_rand() % 100 == 0 ? SG_STATE_RESTRICTED : SG_STATE_ACTIVE;
        row.created = row.changed = now;
        row.dek_version = 1;
        row.has_dek = 1;
        if (s->ops->subject_insert(s, &row, NULL, 0, &e))
            die("insert", &e);
        ids[i] = row.id;
        for (int p = 0; p < NPURPOSES - 1; p++) {
            uint64_t r = bench_rand() % 100;
            if (r < 15)
                continue; /* never asked */
            struct sg_store_pstate ps = {0};
            ps.consent = r < 70   ? SG_CONSENT_GIVEN
                         : r < 85 ? SG_CONSENT_WITHDRAWN
                                  : SG_CONSENT_REFUSED;
            ps.since = now;
            ps.expires = p == 0 && ps.consent == SG_CONSENT_GIVEN ? now + 365 * SG_USEC_PER_DAY : 0;
            given += ps.consent == SG_CONSENT_GIVEN;
            if (s->ops->pstate_put(s, &row.id, purposes[p], &ps, &e))
                die("consent", &e);
        }
        if ((i % 10000 == 9999 || i + 1 == people) && s->ops->commit(s, &e))
            die("commit", &e);
    }
    printf("set-up: %zu people, %zu consents in force, in %.1f s\n\n", people, given,
           bench_now() - t0);

    /* The same random pairs for every run. */
    uint32_t *pick = malloc(decisions * sizeof *pick);
    uint8_t *pp = malloc(decisions);
    double *lat = malloc(decisions * sizeof *lat);
    for (size_t i = 0; i < decisions; i++) {
        uint64_t r = bench_rand();
        pick[i] = (uint32_t)(r % people);
        pp[i] = (uint8_t)((r >> 40) % NPURPOSES);
    }

    /* Baseline: the bare point look-up, same table, same pairs. */
    char db[96];
    snprintf(db, sizeof db, "%s/sargs.db", vdir);
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    PGconn *praw = NULL;
    if (pg) {
        praw = PQconnectdb(uri);
        PGresult *r =
            PQprepare(praw, "look", "SELECT state, purposes FROM decisions WHERE subject = $1", 1,
                      (const unsigned[]){2950});
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die("baseline", NULL);
        PQclear(r);
    } else {
        if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v3(raw, "SELECT state, purposes FROM decisions WHERE subject = ?1", -1,
                               SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
            die("baseline", NULL);
        /* the pragmas the store sets on its own connections */
        sqlite3_exec(raw, "PRAGMA mmap_size=2147418112; PRAGMA cache_size=-32768", NULL, NULL,
                     NULL);
    }
    double base_rate = 0, held_rate = 0;
    for (int round = 0; round < 4; round++) {
        /* round 3: the same look-ups in one read transaction */
        if (round == 3 && !pg)
            sqlite3_exec(raw, "BEGIN", NULL, NULL, NULL);
        /* round 0 warms the page cache for both; round 2 runs without the
         * per-call clocks */
        double b0 = bench_now();
        long found = 0;
        for (size_t i = 0; i < decisions; i++) {
            double a = round < 2 ? bench_now() : 0;
            if (pg) {
                const char *val[1] = {(const char *)ids[pick[i]].b};
                int len[1] = {16}, fmt[1] = {1};
                PGresult *r = PQexecPrepared(praw, "look", 1, val, len, fmt, 1);
                if (PQresultStatus(r) != PGRES_TUPLES_OK)
                    die("baseline", NULL);
                if (PQntuples(r) == 1)
                    found += PQgetlength(r, 0, 1);
                PQclear(r);
            } else {
                sqlite3_bind_blob(st, 1, ids[pick[i]].b, 16, SQLITE_STATIC);
                if (sqlite3_step(st) == SQLITE_ROW)
                    found += sqlite3_column_bytes(st, 1);
                sqlite3_reset(st);
            }
            if (round < 2)
                lat[i] = bench_now() - a;
        }
        if (round == 1)
            report(pg ? "baseline: bare libpq point look-up"
                      : "baseline: bare SQLite point look-up",
                   bench_now() - b0, decisions, lat);
        if (round == 2)
            base_rate = (double)decisions / (bench_now() - b0);
        if (round == 3)
            held_rate = (double)decisions / (bench_now() - b0);
        if (round == 3 && !pg)
            sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
        (void)found;
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    PQfinish(praw);

    /* sargs decisions, in bulk mode. */
    sg_may_bulk(v, 1);
    struct sg_decision d;
    size_t allowed = 0;
    double r0 = bench_now();
    for (size_t i = 0; i < decisions; i++) {
        double a = bench_now();
        if (sg_may(v, &op, &ids[pick[i]], purposes[pp[i]], 0, &d, &e))
            die("may", &e);
        allowed += d.allowed;
        lat[i] = bench_now() - a;
    }
    double secs = bench_now() - r0;
    report("sargs: sg_may()", secs, decisions, lat);
    printf("  %-44s %10.0f /s\n", "baseline again, without per-call clocks", base_rate);
    if (!pg)
        printf("  %-44s %10.0f /s\n", "bare look-ups in one read transaction", held_rate);
    {
        double q0 = bench_now();
        for (size_t i = 0; i < decisions; i++)
            if (sg_may(v, &op, &ids[pick[i]], purposes[pp[i]], 0, &d, &e))
                die("may", &e);
        double qr = (double)decisions / (bench_now() - q0);
        printf("  %-44s %10.0f /s   %.2f of the bare look-up",
               "sargs again, without per-call clocks", qr, qr / base_rate);
        if (!pg)
            printf(", %.2f of one transaction's", qr / held_rate);
        printf("\n");
    }
    printf("  (%zu of %zu allowed)\n\n", allowed, decisions);

    /* Withdrawals interleaved: real people, real consents, written through
     * another handle of the vault. */
    struct sg_vault_opts wo = {0};
    struct sg_vault *w = NULL;
    wo.dir = vdir;
    wo.store = pg ? uri : NULL;
    if (sg_vault_open(&wo, &w, &e))
        die("open", &e);
    enum { REAL = 200 };
    struct sg_uuid real[REAL];
    for (int i = 0; i < REAL; i++) {
        char email[64];
        snprintf(email, sizeof email, "w%d@example.lv", i);
        struct sg_field_in f[] = {{"name", "Anna", 4}, {"email", email, strlen(email)}};
        if (sg_subject_add(w, &op, f, 2, NULL, 0, &real[i], &e))
            die("add", &e);
        struct sg_consent_subject cs = {&real[i], NULL, NULL};
        struct sg_consent_in in = {SG_METHOD_WEB_FORM, NULL, NULL, NULL, NULL, NULL};
        if (sg_consent_record(w, &op, &cs, "news", SG_CONSENT_GIVEN, &in, &e))
            die("give", &e);
    }
    size_t wrong = 0, withdrawals = 0;
    double w0 = bench_now(), wtime = 0;
    for (size_t i = 0; i < decisions; i++) {
        if (i % 1000 == 999 && withdrawals < REAL) {
            double a = bench_now();
            struct sg_consent_subject cs = {&real[withdrawals], NULL, NULL};
            struct sg_consent_in in = {SG_METHOD_EMAIL, NULL, NULL, NULL, NULL, NULL};
            if (sg_consent_record(w, &op, &cs, "news", SG_CONSENT_WITHDRAWN, &in, &e))
                die("withdraw", &e);
            wtime += bench_now() - a;
            if (sg_may(v, &op, &real[withdrawals], "news", 0, &d, &e))
                die("may", &e);
            wrong += d.allowed || d.reason != SG_MAY_WITHDRAWN;
            withdrawals++;
        }
        if (sg_may(v, &op, &ids[pick[i]], purposes[pp[i]], 0, &d, &e))
            die("may", &e);
    }
    double wall = bench_now() - w0;
    printf("with a withdrawal every 1,000 decisions (%zu withdrawals):\n", withdrawals);
    printf("  %-44s %10.0f /s\n", "decisions, wall clock including withdrawals",
           (double)decisions / wall);
    printf("  %-44s %10.0f /s\n", "decisions, excluding the withdrawals' time",
           (double)decisions / (wall - wtime));
    printf("  %-44s %10.2f ms each (one transaction, audit entry, fsync)\n", "withdrawals",
           wtime / (double)(withdrawals ? withdrawals : 1) * 1e3);
    printf("  decisions right after a withdrawal that did not see it: %zu\n", wrong);

    sg_may_bulk(v, 0);
    sg_vault_close(w);
    sg_vault_close(v);
    free(ids);
    free(pick);
    free(pp);
    free(lat);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (pg)
        pg_exec(pg, "DROP SCHEMA bench_consent CASCADE");
    return wrong ? 1 : 0;
}
