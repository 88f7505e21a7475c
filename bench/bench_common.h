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

#endif
