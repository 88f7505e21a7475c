/*
 * fuzz_files.c - the two file formats sargs reads back: key files and the
 * erasure journal. Damage must give an error, never a crash or a key made of
 * garbage.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sargs/sargs.h"
#include "../src/lib/vault/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const struct sg_journal_entry *e)
{
    if (e->kind != 'E' && e->kind != 'C')
        abort();
    (*(int *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static int ready;
    if (!ready) {
        sg_crypto_init(NULL);
        snprintf(path, sizeof path, "/tmp/sargs-fuzz-%d", (int)getpid());
        ready = 1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    close(fd);
    struct sg_key *k = NULL;
    struct sg_err e;
    enum sg_rc rc = sg_key_load(path, SG_KEY_KEK, &k, &e);
    if (rc == SG_OK) {
        if (!k || strlen(k->id) != SG_KEY_ID_HEX)
            abort();
        sg_key_free(k);
    } else if (rc != SG_CRYPTO && rc != SG_IO) {
        abort();
    }
    char vid[37];
    int n = 0;
    rc = sg_journal_read(path, vid, count, &n, &e);
    if (rc != SG_OK && rc != SG_CRYPTO && rc != SG_IO)
        abort();
    unlink(path);
    return 0;
}
