/*
 * bench_audit.c - the audit log benchmark of the audit issue.
 *
 * Appends N entries (default 10,000,000; 90% of them naming one of a
 * million people) in transactions of 10,000, each ending with a signed head
 * (group commit); then verifies the whole log; then times 10,000 inclusion
 * proofs at random indexes. In the same run, the raw SHA-256 throughput of
 * the machine for the same message sizes: the limit the log hashes against.
 *
 * usage: bench_audit [ENTRIES]
 * With SARGS_TEST_PG set (scripts/pg-test-cluster run --durable), the log
 * lives in that PostgreSQL database instead of a SQLite file.
 */
#include "bench_common.h"

#include <ftw.h>
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "sargs/sargs.h"
#include "sargs/audit.h"
#include "../src/lib/vault/vault_int.h"

#define BATCH 10000

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

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? (uint64_t)atoll(argv[1]) : 10000000;
    if (n < BATCH)
        n = BATCH;
    if (sg_crypto_init(NULL))
        return 1;
    bench_machine();

    /* The limit: SHA-256 of a typical leaf (~110 bytes) and of a node (65
     * bytes), as many as the log computes per entry, through the fastest
     * interface libcrypto has. */
    uint8_t msg[128], h[32];
    memset(msg, 0x5a, sizeof msg);
    size_t reps = 2000000;
    double t0 = bench_now();
    for (size_t i = 0; i < reps; i++) {
        SHA256_CTX c;
        msg[0] = (uint8_t)i;
        SHA256_Init(&c);
        SHA256_Update(&c, msg, 111);
        SHA256_Final(h, &c);
        msg[1] ^= h[0]; /* keep the compiler honest */
        SHA256_Init(&c);
        SHA256_Update(&c, msg, 65);
        SHA256_Final(h, &c);
    }
    double sha_s = bench_now() - t0;
    double sha_rate = reps / sha_s; /* leaf + node pairs per second */

    char dir[] = "/tmp/sargs-bench-audit-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char vdir[64];
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    struct sg_err e;
    struct sg_vault *v = bench_vault(vdir);
    struct sg_store *s = v->store;
    const struct sg_actor who = {"svc:portal", "registered_user", "profile", NULL, NULL};
    uint8_t *people = malloc(1000000 * 16);
    for (size_t i = 0; i < 1000000 * 16; i += 8) {
        uint64_t r = bench_rand();
        memcpy(people + i, &r, 8);
    }
    if (bench_store())
        printf("storage: PostgreSQL on loopback TCP (SARGS_TEST_PG)\n\n");
    else
        printf("storage: SQLite, WAL, synchronous=FULL; files in %s\n\n", dir);

    /* Appends: the log's own path (leaf, hash, subtrees, head), one
     * transaction and one signed head per batch. */
    t0 = bench_now();
    for (uint64_t i = 0; i < n; i += BATCH) {
        sg_time now = sg_clock_now(NULL);
        if (s->ops->begin(s, &e))
            die("begin", &e);
        sg_auditlog_begin(&v->audit, now);
        for (uint64_t k = i; k < i + BATCH && k < n; k++) {
            struct sg_audit_rec r = {now,  &who, "subject.read", "subject", "ok", NULL,
                                     NULL, 0,    NULL,           0};
            struct sg_uuid subject;
            uint64_t pick = bench_rand();
            memcpy(subject.b, people + (pick % 1000000) * 16, 16);
            if (sg_auditlog_append(&v->audit, s, &r, pick % 10 ? &subject : NULL, &e))
                die("append", &e);
        }
        if (sg_auditlog_seal(&v->audit, s, now, &e) || s->ops->commit(s, &e))
            die("commit", &e);
        sg_auditlog_rollback_to(&v->audit, 0);
        if (i && i % 1000000 == 0) {
            fprintf(stderr, "\r%llu entries", (unsigned long long)i);
            fflush(stderr);
        }
    }
    double append_s = bench_now() - t0;
    fprintf(stderr, "\r");

    /* Full verification. */
    struct sg_audit_report rep;
    t0 = bench_now();
    const struct sg_actor auditor = {"bench", "operator", "audit", NULL, NULL};
    if (sg_audit_verify(v, &auditor, &rep, &e))
        die("verify", &e);
    double verify_s = bench_now() - t0;
    if (!rep.ok) {
        fprintf(stderr, "bench: the log does not verify: %s\n", rep.problem);
        return 1;
    }

    /* Inclusion proofs at random indexes, each checked. */
    size_t nproofs = 10000;
    double *lat = malloc(nproofs * sizeof *lat);
    uint8_t leaf[32], root[32], proof[SG_MERKLE_MAX_PROOF * 32];
    size_t plen;
    for (size_t i = 0; i < nproofs; i++) {
        uint64_t idx = bench_rand() % n, size = 0;
        double a = bench_now();
        if (sg_audit_prove(v, idx, &size, leaf, proof, &plen, root, &e))
            die("prove", &e);
        lat[i] = bench_now() - a;
        if (sg_merkle_verify_inclusion(leaf, idx, size, proof, plen, root, &e))
            die("proof does not verify", &e);
    }
    qsort(lat, nproofs, sizeof *lat, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < nproofs; i++)
        sum += lat[i];

    printf("%-46s %14s\n", "", "");
    printf("%-46s %14.0f\n", "SHA-256 leaf+node pairs /s (the limit)", sha_rate);
    printf("%-46s %14.0f   (%.2f of the limit)\n", "audit entries appended /s", n / append_s,
           (n / append_s) / sha_rate);
    printf("%-46s %14.0f   (%.2f of the limit)\n", "audit entries verified /s", n / verify_s,
           (n / verify_s) / sha_rate);
    printf("inclusion proof in a %llu-entry log: mean %.1f us, p50 %.1f us, p99 %.1f us "
           "(proof of %zu hashes, with the root)\n",
           (unsigned long long)n, sum / nproofs * 1e6, lat[nproofs / 2] * 1e6,
           lat[nproofs * 99 / 100] * 1e6, plen);
    printf("\ntargets: >= 200000 appends/s, >= 1000000 verified/s, proof < 50 us\n");
    free(lat);
    free(people);
    sg_vault_close(v);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
