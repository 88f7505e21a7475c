/*
 * driver.c - runs a fuzz target without libFuzzer, so that every target is
 * exercised by `make test` under the sanitizers: first each file of the
 * corpus directories given as arguments, then a fixed number of mutations of
 * them from a seeded generator (the same inputs on every run). Built with
 * -Dlibfuzzer=true the targets link against libFuzzer instead.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRIVER_MAX_INPUT 4096
#define MAX_SEEDS        256

static uint8_t *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static size_t nseeds;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "driver: cannot open corpus '%s'\n", dir);
        exit(2);
    }
    struct dirent *e;
    while ((e = readdir(d)) && nseeds < MAX_SEEDS) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc(DRIVER_MAX_INPUT);
        size_t n = fread(buf, 1, DRIVER_MAX_INPUT, f);
        fclose(f);
        seeds[nseeds] = buf;
        seed_len[nseeds++] = n;
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    long iterations = 20000;
    const char *it = getenv("FUZZ_ITERATIONS");
    if (it)
        iterations = atol(it);
    for (int i = 1; i < argc; i++)
        load_dir(argv[i]);
    if (nseeds == 0) {
        seeds[0] = calloc(1, 1);
        seed_len[nseeds++] = 0;
    }
    for (size_t i = 0; i < nseeds; i++)
        LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
    uint8_t *buf = malloc(DRIVER_MAX_INPUT);
    for (long i = 0; i < iterations; i++) {
        size_t s = next() % nseeds;
        size_t n = seed_len[s];
        memcpy(buf, seeds[s], n);
        int edits = 1 + (int)(next() % 8);
        for (int k = 0; k < edits; k++) {
            size_t pos = n ? next() % n : 0;
            switch (next() % 5) {
            case 0: /* flip a bit */
                if (n)
                    buf[pos] ^= (uint8_t)(1u << (next() % 8));
                break;
            case 1: /* random byte */
                if (n)
                    buf[pos] = (uint8_t)next();
                break;
            case 2: /* insert */
                if (n < DRIVER_MAX_INPUT) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = (uint8_t)next();
                    n++;
                }
                break;
            case 3: /* delete */
                if (n) {
                    memmove(buf + pos, buf + pos + 1, n - pos - 1);
                    n--;
                }
                break;
            default: /* an interesting byte */
                if (n) {
                    static const uint8_t special[] = {0,    '\n', '@',  '+', '-', ':', '.',
                                                      0xff, 0xc3, 0x80, ' ', 'T', 'Z', '='};
                    buf[pos] = special[next() % sizeof special];
                }
            }
        }
        /* A private copy of exactly n bytes so that ASan sees overreads. */
        uint8_t *in = malloc(n ? n : 1);
        memcpy(in, buf, n);
        LLVMFuzzerTestOneInput(in, n);
        free(in);
    }
    free(buf);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i]);
    printf("driver: %zu seeds, %ld mutations, no failure\n", nseeds, iterations);
    return 0;
}
