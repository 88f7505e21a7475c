/*
 * bench_requests.c - the requests benchmark.
 *
 * 1. Among N people (default 1,000,000, added through the library: sealed,
 *    indexed, audited), the access package of one person: a request
 *    registered, identified, then fulfilled (the person read and decrypted,
 *    their two years of audit entries searched for disclosures, JSON, CSV
 *    and HTML made, the transition and the answer written). p50/p99 of
 *    the fulfilment over 200 people.
 * 2. Among 100,000 open requests (10% overdue), the overdue ones listed by
 *    due date. Baseline in the same run: the bare SQLite range read of the
 *    same index.
 *
 * usage: bench_requests [PEOPLE]
 */
#include "bench_common.h"

#include <ftw.h>

#include "sargs/request.h"
#include "../src/lib/vault/vault_int.h"

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int count(void *ctx, const struct sg_request_info *r)
{
    (void)r;
    (*(size_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    size_t people = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    if (people < 1000)
        people = 1000;
    struct sg_err e;
    if (sg_crypto_init(&e))
        die("crypto", &e);
    bench_machine();
    char dir[] = "/tmp/sargs-bench-requests-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char vdir[64], path[256];
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    snprintf(path, sizeof path, "%s/examples/azeta.yaml", SARGS_SOURCE_ROOT);
    FILE *f = fopen(path, "r");
    static char text[1 << 20];
    size_t tl = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[tl] = '\0';
    struct sg_vault *v = bench_vault_with(vdir, text);
    const struct sg_actor op = {"bench", "operator", "benchmark", NULL, NULL};
    printf("storage: SQLite, WAL, synchronous=FULL; policy examples/azeta.yaml\n");

    double t0 = bench_now();
    struct bench_person *pp = malloc(10000 * sizeof *pp);
    struct sg_uuid *some = malloc(200 * sizeof *some);
    for (size_t i = 0; i < people; i += 10000) {
        size_t n = people - i < 10000 ? people - i : 10000;
        bench_make_people(pp, n);
        if (sg_vault_begin(v, &e))
            die("begin", &e);
        for (size_t k = 0; k < n; k++) {
            struct sg_field_in fl[] = {{"name", pp[k].name, strlen(pp[k].name)},
                                       {"surname", pp[k].surname, strlen(pp[k].surname)},
                                       {"email", pp[k].email, strlen(pp[k].email)},
                                       {"phone", pp[k].phone, strlen(pp[k].phone)},
                                       {"orders", "order 1; order 2", 16}};
            struct sg_uuid id;
            if (sg_subject_add(v, &op, fl, 5, NULL, 0, &id, &e))
                die("add", &e);
            if ((i + k) % (people / 200) == 0 && (i + k) / (people / 200) < 200)
                some[(i + k) / (people / 200)] = id;
        }
        if (sg_vault_commit(v, &e))
            die("commit", &e);
    }
    uint64_t entries = 0;
    v->store->ops->audit_size(v->store, &entries, &e);
    printf("%zu people added in %.0f s; the audit log holds %llu entries\n\n", people,
           bench_now() - t0, (unsigned long long)entries);

    double lat[200];
    for (int i = 0; i < 200; i++) {
        struct sg_request_info info;
        struct sg_fulfil_out out;
        if (sg_request_new(v, &op, SG_REQ_ACCESS, "in_person", &some[i], 0, NULL, &info, &e) ||
            sg_request_verify(v, &op, &info.id, "id_document", NULL, &e))
            die("request", &e);
        double a = bench_now();
        if (sg_request_fulfil(v, &op, &info.id, NULL, &out, &e))
            die("fulfil", &e);
        lat[i] = bench_now() - a;
        sg_fulfil_out_release(&out);
    }
    qsort(lat, 200, sizeof *lat, cmp_double);
    printf("  %-52s p50 %6.2f ms   p99 %6.2f ms\n", "access package of one person (fulfil)",
           lat[100] * 1e3, lat[198] * 1e3);

    /* 100,000 open requests, one in ten past due. */
    struct sg_req_clock_like {
        int64_t today;
    } ck;
    ck.today = sg_clock_now(NULL) / SG_USEC_PER_DAY;
    struct sg_store *s = v->store;
    if (s->ops->begin(s, &e))
        die("begin", &e);
    for (int i = 0; i < 100000; i++) {
        struct sg_store_request r;
        memset(&r, 0, sizeof r);
        sg_uuid_v7(sg_clock_now(NULL), &r.id);
        r.kind = SG_REQ_ACCESS;
        r.channel = "in_person";
        r.state = SG_RS_VERIFIED;
        r.identity = "id_document";
        int overdue = bench_rand() % 10 == 0;
        r.received_day =
            ck.today - (overdue ? 40 + (int)(bench_rand() % 200) : (int)(bench_rand() % 25));
        r.received = r.received_day * SG_USEC_PER_DAY;
        r.due_day = r.received_day + 31;
        r.updated = r.received;
        if (s->ops->request_put(s, &r, &e))
            die("request", &e);
    }
    if (s->ops->commit(s, &e))
        die("commit", &e);
    struct sg_request_query q = {1, 0, 0, NULL, 0};
    double best = 1e9;
    size_t n = 0;
    for (int round = 0; round < 5; round++) {
        n = 0;
        double a = bench_now();
        if (sg_request_list(v, &op, &q, count, &n, &e))
            die("list", &e);
        double t = bench_now() - a;
        if (t < best)
            best = t;
    }
    /* Baseline: the same index range, bare. */
    char db[96];
    snprintf(db, sizeof db, "%s/sargs.db", vdir);
    sqlite3 *raw;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(raw,
                           "SELECT * FROM requests WHERE closed = 0 AND due_day < ?1 "
                           "ORDER BY due_day, id",
                           -1, &st, NULL) != SQLITE_OK)
        die("baseline", NULL);
    double bbest = 1e9;
    size_t bn = 0;
    for (int round = 0; round < 5; round++) {
        bn = 0;
        double a = bench_now();
        sqlite3_bind_int64(st, 1, ck.today);
        while (sqlite3_step(st) == SQLITE_ROW)
            bn++;
        sqlite3_reset(st);
        double t = bench_now() - a;
        if (t < bbest)
            bbest = t;
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    printf("  %-52s %6.2f ms (%zu of 100,000 open)\n", "overdue requests listed by due date",
           best * 1e3, n);
    printf("  %-52s %6.2f ms (%zu rows)\n", "baseline: bare SQLite range read of the index",
           bbest * 1e3, bn);
    sg_vault_close(v);
    free(pp);
    free(some);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
