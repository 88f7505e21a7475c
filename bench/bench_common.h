/*
 * bench_common.h - timing, machine description and synthetic people shared
 * by the benchmarks. Header-only: each benchmark is one program.
 */
#ifndef SARGS_BENCH_COMMON_H
#define SARGS_BENCH_COMMON_H

#include <sqlite3.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sargs/policy.h"
#include "sargs/sargs.h"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deterministic generator: the same people on every run. */
static uint64_t bench_rng = 0x243f6a8885a308d3ull;
static inline uint64_t bench_rand(void)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return bench_rng;
}

static inline void bench_machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    printf("machine: %s, %ld cores, %s %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
           u.release);
    printf("libraries: SQLite %s, libsodium %s\n", sqlite3_libversion(), sodium_version_string());
}

struct bench_person {
    char name[32], surname[32], email[64], phone[24], code[24], country[3];
};

/* A bijection on 64-bit integers (the splitmix64 finaliser): unique
 * identifiers in random order, as real e-mail addresses are. */
static inline uint64_t bench_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void bench_make_people(struct bench_person *p, size_t n)
{
    static const char *first[] = {"Jānis", "Anna",    "Pēteris",  "Līga",   "Andris",
                                  "Ilze",  "Mārtiņš", "Kristīne", "Edgars", "Inese"};
    static const char *last[] = {"Bērziņš", "Kalniņa", "Ozols",  "Liepa",   "Krūmiņš",
                                 "Zariņa",  "Jansons", "Vītola", "Balodis", "Eglīte"};
    static const char *cc[] = {"LV", "LT", "EE", "FI", "DE", "PL", "SE", "FR"};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = bench_rand();
        snprintf(p[i].name, sizeof p[i].name, "%s", first[r % 10]);
        snprintf(p[i].surname, sizeof p[i].surname, "%s", last[(r >> 8) % 10]);
        uint64_t m = bench_mix(i);
        snprintf(p[i].email, sizeof p[i].email, "%016llx@example.lv", (unsigned long long)m);
        snprintf(p[i].phone, sizeof p[i].phone, "+3712%07llu",
                 (unsigned long long)((m >> 8) % 10000000));
        snprintf(p[i].code, sizeof p[i].code, "%011llu",
                 (unsigned long long)((m >> 3) % 100000000000ull));
        snprintf(p[i].country, sizeof p[i].country, "%s", cc[(r >> 40) % 8]);
    }
}

/* The categories the benchmark writes, as a policy (a vault is bound to one). */
static const char bench_policy[] =
    "sargs: 1\n"
    "id: bench\n"
    "title: Benchmark\n"
    "controllers: [{id: c, name: Bench, email: bench@organisation.test}]\n"
    "categories:\n"
    "  - {id: user.name.first, alias: name, type: line, name: name}\n"
    "  - {id: user.name.last, alias: surname, type: line, name: surname}\n"
    "  - {id: user.contact.email, alias: email, type: email, indexed: true, name: e-mail}\n"
    "  - {id: user.contact.phone_number, alias: phone, type: phone, indexed: true, name: phone}\n"
    "  - {id: user.government_id.national_identification_number, alias: personal_code,\n"
    "     type: personal_code, indexed: true, name: personal code}\n"
    "  - {id: user.contact.address.country, alias: country, type: country, name: country}\n"
    "purposes:\n"
    "  - {id: bench, name: Benchmark, basis: contract,\n"
    "     categories: [name, surname, email, phone, personal_code, country]}\n"
    "retention: [{id: r, categories: all, anchor: contract_end, after: P1Y, action: delete}]\n"
    "requests: {contact: {email: bench@organisation.test}, channels: [{id: email}]}\n";

/* A new vault in `dir` bound to the policy `text`, its data in `store`
 * (NULL: the vault's own SQLite file); exits on failure. */
static inline struct sg_vault *bench_vault_in(const char *dir, const char *store, const char *text)
{
    struct sg_vault_opts o = {0};
    struct sg_err e;
    struct sg_policy *policy = NULL;
    struct sg_vault *v = NULL;
    o.dir = dir;
    o.store = store;
    if (sg_policy_load(text, strlen(text), "bench", &policy, NULL, &e) ||
        (o.policy = policy, sg_vault_init(&o, &e))) {
        fprintf(stderr, "bench: init: %s\n", e.msg);
        exit(1);
    }
    sg_policy_free(policy);
    o.policy = NULL;
    if (sg_vault_open(&o, &v, &e)) {
        fprintf(stderr, "bench: open: %s\n", e.msg);
        exit(1);
    }
    return v;
}

/* The store the benchmark was given: PostgreSQL when SARGS_TEST_PG is set
 * (make bench runs some benchmarks once more in a throw-away cluster),
 * otherwise NULL. */
static inline const char *bench_store(void)
{
    const char *pg = getenv("SARGS_TEST_PG");
    return pg && *pg ? pg : NULL;
}

/* A new vault in `dir` bound to the policy `text`, in the store the
 * benchmark was given. */
static inline struct sg_vault *bench_vault_with(const char *dir, const char *text)
{
    return bench_vault_in(dir, bench_store(), text);
}

/* A new vault in `dir` bound to the benchmark's policy, in the store the
 * benchmark was given. */
static inline struct sg_vault *bench_vault(const char *dir)
{
    return bench_vault_with(dir, bench_policy);
}

#endif
