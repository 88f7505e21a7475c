/*
 * bench_sweep.c - the retention benchmark.
 *
 * N people (default 1,000,000), 10% of them due for an action (a year
 * without signing in: hidden), swept once. Reported: people evaluated per
 * second (a dry run: evaluation alone), then the real sweep's evaluation and
 * action rates (hide, marked done, audited; one transaction per page).
 *
 * Baseline, in the same run: a bare scan of the same subjects and events
 * tables with prepared statements (no evaluation, no writes): the rate at
 * which the data can be read at all.
 *
 * Then the outbox: 10,000 people with a notice each, delivered to a maildir
 * (sealed under each person's key, opened, formatted, written and synced,
 * the outcome recorded and audited).
 *
 * The people are written straight through the store (rows and events);
 * those who get notices are made through the library, with real keys.
 *
 * usage: bench_sweep [PEOPLE]
 */
#include "bench_common.h"

#include <ftw.h>

#include "sargs/outbox.h"
#include "sargs/retention.h"
#include "../src/lib/vault/vault_int.h"

static const char policy_text[] =
    "sargs: 1\n"
    "id: bench-sweep\n"
    "title: Benchmark\n"
    "controllers: [{id: c, name: Bench, email: bench@organisation.test}]\n"
    "categories:\n"
    "  - {id: user.name.first, alias: name, type: line, name: name}\n"
    "  - {id: user.contact.email, alias: email, type: email, indexed: true, name: e-mail}\n"
    "purposes:\n"
    "  - {id: service, name: Service, basis: contract, categories: [name, email]}\n"
    "templates:\n"
    "  - {id: hidden, subject: Your profile is hidden, body: \"Hello {{name}}, ...\"}\n"
    "retention:\n"
    "  - {id: hide, categories: all, anchor: last_login, after: P1Y, action: hide}\n"
    "  - {id: tell, categories: all, anchor: notified_at, after: P0D, action: notify,\n"
    "     template: hidden}\n"
    "  - {id: end, categories: all, anchor: last_login, after: P3Y, action: anonymise}\n"
    "events: [{id: notified_at, text: when asked}]\n"
    "requests: {contact: {email: bench@organisation.test}, channels: [{id: email}]}\n";

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

int main(int argc, char **argv)
{
    size_t people = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    if (people < 10000)
        people = 10000;
    struct sg_err e;
    if (sg_crypto_init(&e))
        die("crypto", &e);
    bench_machine();
    char dir[] = "/tmp/sargs-bench-sweep-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char vdir[64];
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    struct sg_vault *v = bench_vault_with(vdir, policy_text);
    struct sg_store *s = v->store;
    const struct sg_actor op = {"bench", "operator", "benchmark", NULL, NULL};
    printf("storage: SQLite, WAL, synchronous=FULL; files in %s\n", dir);

    /* Everybody signed in within the year, but one in ten two years ago. */
    sg_time now = sg_clock_now(NULL), year = 365 * SG_USEC_PER_DAY;
    double t0 = bench_now();
    size_t due = 0;
    for (size_t i = 0; i < people; i++) {
        if (i % 10000 == 0 && s->ops->begin(s, &e))
            die("begin", &e);
        struct sg_store_subject row = {0};
        sg_uuid_v7(now - 3 * year, &row.id);
        row.state = SG_STATE_ACTIVE;
        row.created = row.changed = now - 3 * year;
        row.dek_version = 1;
        row.has_dek = 1;
        int old = bench_rand() % 10 == 0;
        due += old;
        if (s->ops->subject_insert(s, &row, NULL, 0, &e) ||
            s->ops->event_put(
                s, &row.id, "last_login",
                old ? now - 2 * year : now - (sg_time)(bench_rand() % 300) * SG_USEC_PER_DAY, &e))
            die("insert", &e);
        if ((i % 10000 == 9999 || i + 1 == people) && s->ops->commit(s, &e))
            die("commit", &e);
    }
    printf("%zu people, %zu due for hiding; set up in %.1f s\n\n", people, due, bench_now() - t0);

    /* Baseline: the two tables read in order, nothing else. */
    char db[96];
    snprintf(db, sizeof db, "%s/sargs.db", vdir);
    sqlite3 *raw;
    sqlite3_stmt *a, *b;
    if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(raw, "SELECT id, state, created FROM subjects ORDER BY id", -1, &a,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(raw, "SELECT subject, name, at FROM events ORDER BY subject", -1, &b,
                           NULL) != SQLITE_OK)
        die("baseline", NULL);
    sqlite3_exec(raw, "PRAGMA mmap_size=2147418112; PRAGMA cache_size=-32768", NULL, NULL, NULL);
    double base = 0;
    long rows = 0;
    for (int round = 0; round < 2; round++) { /* the first warms the cache for all */
        double b0 = bench_now();
        while (sqlite3_step(a) == SQLITE_ROW)
            rows += sqlite3_column_int(a, 1) + 1;
        while (sqlite3_step(b) == SQLITE_ROW)
            rows += sqlite3_column_bytes(b, 1) > 0;
        sqlite3_reset(a);
        sqlite3_reset(b);
        base = (double)people / (bench_now() - b0);
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    sqlite3_close(raw);
    printf("  %-48s %10.0f people/s\n", "baseline: bare ordered scan of subjects+events", base);

    struct sg_sweep_report r;
    if (sg_sweep(v, &op, SG_SWEEP_DRY_RUN, NULL, NULL, NULL, &r, &e))
        die("sweep", &e);
    printf("  %-48s %10.0f people/s   (%.2f of the scan; %zu would act)\n",
           "sweep --dry-run: evaluation", (double)r.evaluated / r.seconds,
           (double)r.evaluated / r.seconds / base, r.acted);
    if (sg_sweep(v, &op, 0, NULL, NULL, NULL, &r, &e))
        die("sweep", &e);
    printf("  %-48s %10.0f people/s   %.0f actions/s (%zu hidden, audited, marked done)\n",
           "sweep: evaluation and actions", (double)r.evaluated / r.seconds,
           (double)r.hidden / r.seconds, r.hidden);
    if (sg_sweep(v, &op, 0, NULL, NULL, NULL, &r, &e))
        die("sweep", &e);
    printf("  %-48s %10.0f people/s   (%zu acted: nothing twice)\n\n", "sweep again",
           (double)r.evaluated / r.seconds, r.acted);

    /* The outbox: real people, one notice each. */
    enum { MSGS = 10000 };
    for (int i = 0; i < MSGS; i++) {
        if (i % 1000 == 0 && sg_vault_begin(v, &e))
            die("begin", &e);
        char email[64];
        snprintf(email, sizeof email, "m%d@example.lv", i);
        struct sg_field_in f[] = {{"name", "Anna", 4}, {"email", email, strlen(email)}};
        struct sg_event_in ev[] = {{"notified_at", now - SG_USEC_PER_DAY},
                                   {"last_login", now - SG_USEC_PER_DAY}};
        struct sg_uuid id;
        if (sg_subject_add(v, &op, f, 2, ev, 2, &id, &e))
            die("add", &e);
        if ((i % 1000 == 999) && sg_vault_commit(v, &e))
            die("commit", &e);
    }
    if (sg_sweep(v, &op, 0, NULL, NULL, NULL, &r, &e))
        die("sweep", &e);
    printf("  %-48s %10zu queued in the sweep (%.0f notices/s with the sweep)\n", "outbox: notices",
           r.notified, (double)r.notified / r.seconds);
    char md[128];
    snprintf(md, sizeof md, "maildir:%s/mail", dir);
    struct sg_transport *t;
    if (sg_transport_open(md, "bench@organisation.test", &t, &e))
        die("transport", &e);
    double d0 = bench_now();
    size_t sent = 0;
    for (;;) {
        struct sg_deliver_report dr;
        if (sg_outbox_deliver(v, &op, t, 1000, &dr, &e))
            die("deliver", &e);
        sent += dr.sent;
        if (!dr.sent)
            break;
    }
    printf("  %-48s %10.0f messages/s (%zu, each synced to disk)\n",
           "outbox: delivered to a maildir", (double)sent / (bench_now() - d0), sent);
    sg_transport_close(t);
    sg_vault_close(v);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    (void)rows;
    return 0;
}
