/*
 * bench_vault.c - the vault benchmark of the foundation issue.
 *
 * sargs: N people with 6 fields each written through the library API
 * (sealed per person, 3 blind indexes, audit entry each), then N look-ups by
 * e-mail, then N/10 erasures; 1,000 operations per transaction.
 *
 * Baseline, in the same run: the same rows as plain text in raw SQLite with
 * the same schema, indexes, pragmas (WAL, synchronous=FULL) and batching,
 * prepared statements, no encryption and no library: the physical limit.
 *
 * usage: bench_vault [PEOPLE]   (default 100000)
 */
#include "bench_common.h"

#include <ftw.h>

#include "sargs/sargs.h"
#include "../src/lib/vault/record.h"

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void die(const char *what, const struct sg_err *e)
{
    fprintf(stderr, "bench: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* ------------------------------------------------------------------ sargs */

struct result {
    double write_s, lookup_s, erase_s;
};

static void run_sargs(const char *dir, struct bench_person *p, size_t n, const size_t *probe,
                      size_t nprobe, size_t batch, struct result *r)
{
    struct sg_err e;
    struct sg_vault *v = bench_vault(dir);
    const struct sg_actor who = {"bench", "operator", "benchmark", NULL, NULL};
    struct sg_uuid *ids = malloc(n * sizeof *ids);

    double t0 = bench_now();
    for (size_t i = 0; i < n; i += batch) {
        if (sg_vault_begin(v, &e))
            die("begin", &e);
        for (size_t k = i; k < i + batch && k < n; k++) {
            struct sg_field_in f[6] = {
                {"name", p[k].name, strlen(p[k].name)},
                {"surname", p[k].surname, strlen(p[k].surname)},
                {"email", p[k].email, strlen(p[k].email)},
                {"phone", p[k].phone, strlen(p[k].phone)},
                {"personal_code", p[k].code, strlen(p[k].code)},
                {"country", p[k].country, 2},
            };
            if (sg_subject_add(v, &who, f, 6, NULL, 0, &ids[k], &e))
                die("add", &e);
        }
        if (sg_vault_commit(v, &e))
            die("commit", &e);
    }
    r->write_s = bench_now() - t0;

    t0 = bench_now();
    for (size_t i = 0; i < nprobe; i += batch) {
        if (sg_vault_begin(v, &e))
            die("begin", &e);
        for (size_t k = i; k < i + batch && k < nprobe; k++) {
            const struct bench_person *q = &p[probe[k]];
            struct sg_uuid found;
            size_t nf = 0;
            if (sg_subject_find(v, &who, "email", q->email, strlen(q->email), &found, 1, &nf, &e))
                die("find", &e);
            if (nf != 1 || !sg_uuid_equal(&found, &ids[probe[k]])) {
                fprintf(stderr, "bench: look-up %zu found the wrong person\n", k);
                exit(1);
            }
        }
        if (sg_vault_commit(v, &e))
            die("commit", &e);
    }
    r->lookup_s = bench_now() - t0;

    size_t nerase = n / 10;
    t0 = bench_now();
    for (size_t i = 0; i < nerase; i += batch) {
        if (sg_vault_begin(v, &e))
            die("begin", &e);
        for (size_t k = i; k < i + batch && k < nerase; k++)
            if (sg_subject_erase(v, &who, &ids[k * 10], &e))
                die("erase", &e);
        if (sg_vault_commit(v, &e))
            die("commit", &e);
    }
    r->erase_s = bench_now() - t0;
    sg_vault_close(v);
    free(ids);
}

/* --------------------------------------------------------------- baseline */

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    return st;
}

static void step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench: step: %s\n", sqlite3_errstr(rc));
        exit(1);
    }
    sqlite3_reset(st);
}

static void run_plain(const char *path, struct bench_person *p, size_t n, const size_t *probe,
                      size_t nprobe, size_t batch, struct result *r, double *select_only_s)
{
    sqlite3 *db;
    sqlite3_open(path, &db);
    /* The schema and settings of sargs's SQLite store, values in clear: the
     * record holds the plain values, the look-up table the plain e-mail,
     * phone and personal code. */
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                 "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;"
                 "PRAGMA mmap_size=2147418112; PRAGMA wal_autocheckpoint=16384;"
                 "CREATE TABLE subjects (id BLOB PRIMARY KEY, state INTEGER NOT NULL, created "
                 "INTEGER NOT NULL, changed INTEGER NOT NULL, dek_version INTEGER NOT NULL, dek "
                 "BLOB, record BLOB) WITHOUT ROWID;"
                 "CREATE TABLE lookup (category INTEGER NOT NULL, bidx BLOB NOT NULL, subject "
                 "BLOB NOT NULL, PRIMARY KEY (category, bidx, subject)) WITHOUT ROWID;"
                 "CREATE TABLE events (subject BLOB NOT NULL, name TEXT NOT NULL, at INTEGER NOT "
                 "NULL, PRIMARY KEY (subject, name)) WITHOUT ROWID;"
                 "CREATE TABLE history (seq INTEGER PRIMARY KEY, subject BLOB NOT NULL);"
                 "CREATE INDEX history_subject ON history (subject, seq);"
                 "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT "
                 "NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, action TEXT NOT NULL, "
                 "subject BLOB, result TEXT NOT NULL);",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins_s = prep(db, "INSERT INTO subjects VALUES (?1, 0, ?2, ?2, 1, NULL, ?3)");
    sqlite3_stmt *ins_l = prep(db, "INSERT OR IGNORE INTO lookup VALUES (?1, ?2, ?3)");
    sqlite3_stmt *ins_a =
        prep(db, "INSERT INTO audit (at, actor, role, purpose, action, subject, result) VALUES "
                 "(?1, 'bench', 'operator', 'benchmark', ?2, ?3, 'ok')");
    sqlite3_stmt *find =
        prep(db, "SELECT subject FROM lookup WHERE category = ?1 AND bidx = ?2 ORDER BY subject");
    sqlite3_stmt *del_l = prep(db, "DELETE FROM lookup WHERE category = ?1 AND bidx = ?2 AND "
                                   "subject = ?3");
    sqlite3_stmt *del_e = prep(db, "DELETE FROM events WHERE subject = ?1");
    sqlite3_stmt *del_h = prep(db, "DELETE FROM history WHERE subject = ?1");
    sqlite3_stmt *shred = prep(db, "UPDATE subjects SET state = 4, changed = ?2, dek = NULL, "
                                   "record = NULL WHERE id = ?1");
    struct sg_uuid *ids = malloc(n * sizeof *ids);
    struct sg_buf rec;
    sg_buf_init(&rec, 1 << 20);
    static const uint8_t zero_key[SG_KEY_BYTES];

    double t0 = bench_now();
    for (size_t i = 0; i < n; i += batch) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (size_t k = i; k < i + batch && k < n; k++) {
            sg_time now = sg_clock_now(NULL);
            sg_uuid_v7(now, &ids[k]);
            const char *vals[6] = {p[k].name,  p[k].surname, p[k].email,
                                   p[k].phone, p[k].code,    p[k].country};
            struct sg_rec_entry e[6];
            for (int f = 0; f < 6; f++) {
                e[f].code = f + 1;
                e[f].kv = 1;
                e[f].changed = now;
                e[f].bidx = NULL;
                e[f].sealed = (const uint8_t *)vals[f];
                e[f].sealed_len = strlen(vals[f]);
            }
            /* The plain record carries the same layout and a tag (a plain
             * checksum would cost the same hash). */
            sg_record_encode(e, 6, zero_key, &ids[k], &rec, NULL);
            sqlite3_bind_blob(ins_s, 1, ids[k].b, 16, SQLITE_STATIC);
            sqlite3_bind_int64(ins_s, 2, now);
            sqlite3_bind_blob(ins_s, 3, rec.ptr, (int)rec.len, SQLITE_STATIC);
            step(ins_s);
            for (int f = 2; f < 5; f++) {
                sqlite3_bind_int(ins_l, 1, f + 1);
                sqlite3_bind_text(ins_l, 2, vals[f], -1, SQLITE_STATIC);
                sqlite3_bind_blob(ins_l, 3, ids[k].b, 16, SQLITE_STATIC);
                step(ins_l);
            }
            sqlite3_bind_int64(ins_a, 1, now);
            sqlite3_bind_text(ins_a, 2, "subject.create", -1, SQLITE_STATIC);
            sqlite3_bind_blob(ins_a, 3, ids[k].b, 16, SQLITE_STATIC);
            step(ins_a);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    r->write_s = bench_now() - t0;

    for (int with_audit = 0; with_audit < 2; with_audit++) {
        t0 = bench_now();
        for (size_t i = 0; i < nprobe; i += batch) {
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
            for (size_t k = i; k < i + batch && k < nprobe; k++) {
                sqlite3_bind_int(find, 1, 3);
                sqlite3_bind_text(find, 2, p[probe[k]].email, -1, SQLITE_STATIC);
                if (sqlite3_step(find) != SQLITE_ROW ||
                    memcmp(sqlite3_column_blob(find, 0), ids[probe[k]].b, 16) != 0) {
                    fprintf(stderr, "bench: plain look-up failed\n");
                    exit(1);
                }
                sqlite3_reset(find);
                if (with_audit) {
                    sqlite3_bind_int64(ins_a, 1, sg_clock_now(NULL));
                    sqlite3_bind_text(ins_a, 2, "subject.find", -1, SQLITE_STATIC);
                    sqlite3_bind_blob(ins_a, 3, ids[probe[k]].b, 16, SQLITE_STATIC);
                    step(ins_a);
                }
            }
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        if (with_audit)
            r->lookup_s = bench_now() - t0;
        else
            *select_only_s = bench_now() - t0;
    }

    size_t nerase = n / 10;
    t0 = bench_now();
    for (size_t i = 0; i < nerase; i += batch) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (size_t k = i; k < i + batch && k < nerase; k++) {
            const struct bench_person *q = &p[k * 10];
            const struct sg_uuid *id = &ids[k * 10];
            const char *ix[3] = {q->email, q->phone, q->code};
            for (int f = 0; f < 3; f++) {
                sqlite3_bind_int(del_l, 1, f + 3);
                sqlite3_bind_text(del_l, 2, ix[f], -1, SQLITE_STATIC);
                sqlite3_bind_blob(del_l, 3, id->b, 16, SQLITE_STATIC);
                step(del_l);
            }
            sqlite3_bind_blob(del_e, 1, id->b, 16, SQLITE_STATIC);
            step(del_e);
            sqlite3_bind_blob(del_h, 1, id->b, 16, SQLITE_STATIC);
            step(del_h);
            sqlite3_bind_blob(shred, 1, id->b, 16, SQLITE_STATIC);
            sqlite3_bind_int64(shred, 2, sg_clock_now(NULL));
            step(shred);
            sqlite3_bind_int64(ins_a, 1, sg_clock_now(NULL));
            sqlite3_bind_text(ins_a, 2, "subject.erase", -1, SQLITE_STATIC);
            sqlite3_bind_blob(ins_a, 3, id->b, 16, SQLITE_STATIC);
            step(ins_a);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    r->erase_s = bench_now() - t0;
    sqlite3_stmt *all[] = {ins_s, ins_l, ins_a, find, del_l, del_e, del_h, shred};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(db);
    sg_buf_release(&rec);
    free(ids);
}

static void report(size_t n, size_t batch, const char *dir, const char *only)
{
    char vault[96], plain[96];
    snprintf(vault, sizeof vault, "%s/vault-%zu", dir, batch);
    snprintf(plain, sizeof plain, "%s/plain-%zu.db", dir, batch);
    /* The same people and the same probes for both sides. */
    bench_rng = 0x243f6a8885a308d3ull;
    struct bench_person *p = malloc(n * sizeof *p);
    bench_make_people(p, n);
    size_t *probe = malloc(n * sizeof *probe);
    for (size_t i = 0; i < n; i++)
        probe[i] = bench_rand() % n;
    struct result s = {1, 1, 1}, b = {1, 1, 1};
    double select_only = 1;
    if (!only || strcmp(only, "sargs") != 0)
        run_plain(plain, p, n, probe, n, batch, &b, &select_only);
    if (!only || strcmp(only, "plain") != 0)
        run_sargs(vault, p, n, probe, n, batch, &s);
    printf("\n%zu people x 6 fields, %zu look-ups by e-mail, %zu erasures; %zu per "
           "transaction\n",
           n, n, n / 10, batch);
    printf("%-34s %14s %14s %8s\n", "", "sargs", "plain SQLite", "ratio");
    printf("%-34s %14.0f %14.0f %8.2f\n", "people written /s", n / s.write_s, n / b.write_s,
           b.write_s / s.write_s);
    printf("%-34s %14.0f %14.0f %8.2f\n", "look-ups by e-mail /s (audited)", n / s.lookup_s,
           n / b.lookup_s, b.lookup_s / s.lookup_s);
    printf("%-34s %14s %14.0f\n", "plain look-up, no audit row /s", "", n / select_only);
    printf("%-34s %14.0f %14.0f %8.2f\n", "erasures /s", (n / 10) / s.erase_s, (n / 10) / b.erase_s,
           b.erase_s / s.erase_s);
    free(p);
    free(probe);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000;
    if (n < 10000)
        n = 10000;
    if (sg_crypto_init(NULL))
        return 1;
    char dir[] = "/tmp/sargs-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    bench_machine();
    printf("storage: WAL, synchronous=FULL (every commit is on disk), files in %s\n", dir);
    /* BENCH_ONLY=sargs|plain runs one side, for profiling. */
    const char *only = getenv("BENCH_ONLY");
    report(n, 1000, dir, only);
    report(n, 10000, dir, only);
    printf("\ntargets: >= 30000 people/s, >= 100000 look-ups/s, writes >= 0.40 of plain\n");
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
