/*
 * key.c - key material in guarded memory, and key files.
 *
 * A key file is text so that an operator can tell what it is:
 *
 *     # sargs master key (KEK) - keep apart from the data and its backups
 *     sargs-key v1 kek 5f2a...(64 hex digits)
 *
 * The kind word stops an index key from being loaded as a master key.
 */
#include "sargs/crypto.h"
#include "sargs/text.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_MAX 4096

static const char *kind_word(enum sg_key_kind kind)
{
    switch (kind) {
    case SG_KEY_KEK:
        return "kek";
    case SG_KEY_INDEX:
        return "index";
    case SG_KEY_SIGNING:
        return "signing";
    case SG_KEY_PSEUDONYM:
        return "pseudonym";
    }
    return "?";
}

static const char *kind_title(enum sg_key_kind kind)
{
    switch (kind) {
    case SG_KEY_KEK:
        return "master key (KEK)";
    case SG_KEY_INDEX:
        return "blind-index key";
    case SG_KEY_SIGNING:
        return "audit signing key";
    case SG_KEY_PSEUDONYM:
        return "pseudonym key";
    }
    return "key";
}

enum sg_rc sg_crypto_init(struct sg_err *err)
{
    if (sodium_init() < 0)
        return sg_err_set(err, SG_INTERNAL, "libsodium failed to initialise");
    return SG_OK;
}

static void fingerprint(struct sg_key *key)
{
    static const char label[] = "sargs key id v1";
    uint8_t fp[SG_KEY_ID_HEX / 2];
    crypto_generichash(fp, sizeof fp, (const uint8_t *)label, sizeof label - 1, key->k,
                       SG_KEY_BYTES);
    sg_hex_encode(fp, sizeof fp, key->id);
}

/* A key with its guarded memory, or NULL (and `err` set) when out of memory. */
static struct sg_key *key_new(struct sg_err *err)
{
    struct sg_key *key = calloc(1, sizeof *key);
    if (key && !(key->k = sodium_malloc(SG_KEY_BYTES))) {
        free(key);
        key = NULL;
    }
    if (!key)
        sg_err_set(err, SG_NOMEM, "cannot allocate guarded memory for a key");
    return key;
}

void sg_key_free(struct sg_key *key)
{
    if (!key)
        return;
    sodium_free(key->k); /* wipes before unmapping */
    free(key);
}

enum sg_rc sg_key_generate(struct sg_key **out, struct sg_err *err)
{
    struct sg_key *key = key_new(err);
    if (!key)
        return SG_NOMEM;
    randombytes_buf(key->k, SG_KEY_BYTES);
    fingerprint(key);
    *out = key;
    return SG_OK;
}

enum sg_rc sg_key_from_bytes(const uint8_t *bytes, struct sg_key **out, struct sg_err *err)
{
    struct sg_key *key = key_new(err);
    if (!key)
        return SG_NOMEM;
    memcpy(key->k, bytes, SG_KEY_BYTES);
    fingerprint(key);
    *out = key;
    return SG_OK;
}

int sg_key_equal(const struct sg_key *a, const struct sg_key *b)
{
    return sodium_memcmp(a->k, b->k, SG_KEY_BYTES) == 0;
}

enum sg_rc sg_key_load(const char *path, enum sg_key_kind kind, struct sg_key **out,
                       struct sg_err *err)
{
    enum sg_rc rc = SG_OK;
    char *text = NULL;
    struct sg_key *key = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return sg_err_set(err, SG_NOTFOUND, "%s file '%s' does not exist", kind_title(kind),
                              path);
        return sg_err_set(err, SG_IO, "cannot open %s file '%s': %s", kind_title(kind), path,
                          strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = sg_err_set(err, SG_IO, "cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = sg_err_set(err, SG_CRYPTO, "'%s' is not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        rc = sg_err_set(err, SG_DENIED,
                        "%s file '%s' is accessible by others (mode %04o); chmod 600 it",
                        kind_title(kind), path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    text = sodium_malloc(KEYFILE_MAX + 1);
    if (!text) {
        rc = sg_err_set(err, SG_NOMEM, "cannot allocate guarded memory");
        goto out;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, text + got, KEYFILE_MAX - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sg_err_set(err, SG_IO, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == KEYFILE_MAX) {
            rc = sg_err_set(err, SG_CRYPTO, "'%s' is too large to be a key file", path);
            goto out;
        }
    }
    text[got] = '\0';

    char want[32];
    snprintf(want, sizeof want, "sargs-key v1 %s ", kind_word(kind));
    char *line = text;
    char *found = NULL;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "sargs-key v1 ", 13) == 0) {
            if (strncmp(line, want, strlen(want)) != 0) {
                rc = sg_err_set(err, SG_CRYPTO, "'%s' holds another kind of key, not a %s", path,
                                kind_title(kind));
                goto out;
            }
            found = line + strlen(want);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!found) {
        rc = sg_err_set(err, SG_CRYPTO, "'%s' is not a sargs key file", path);
        goto out;
    }
    size_t flen = strlen(found);
    while (flen && (found[flen - 1] == '\r' || found[flen - 1] == ' '))
        found[--flen] = '\0';
    if (!(key = key_new(err))) {
        rc = SG_NOMEM;
        goto out;
    }
    if (sg_hex_decode(found, key->k, SG_KEY_BYTES, NULL) != SG_OK) {
        rc =
            sg_err_set(err, SG_CRYPTO, "'%s' is a damaged key file (expected 64 hex digits)", path);
        goto out;
    }
    fingerprint(key);
    *out = key;
    key = NULL;
out:
    sg_key_free(key);
    sodium_free(text);
    close(fd);
    return rc;
}

static enum sg_rc write_all(int fd, const char *p, size_t len, const char *path, struct sg_err *err)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sg_err_set(err, SG_IO, "cannot write '%s': %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return SG_OK;
}

enum sg_rc sg_key_save(const struct sg_key *key, enum sg_key_kind kind, const char *path,
                       struct sg_err *err)
{
    enum sg_rc rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return sg_err_set(err, SG_CONFLICT, "key file '%s' already exists", path);
        return sg_err_set(err, SG_IO, "cannot create key file '%s': %s", path, strerror(errno));
    }
    /* The umask may have narrowed the mode; make sure it is exactly 0600. */
    (void)fchmod(fd, 0600);
    char *text = sodium_malloc(256);
    if (!text) {
        close(fd);
        unlink(path);
        return sg_err_set(err, SG_NOMEM, "cannot allocate guarded memory");
    }
    char hex[2 * SG_KEY_BYTES + 1];
    sg_hex_encode(key->k, SG_KEY_BYTES, hex);
    int n = snprintf(text, 256,
                     "# sargs %s - keep apart from the data and its backups\n"
                     "sargs-key v1 %s %s\n",
                     kind_title(kind), kind_word(kind), hex);
    sodium_memzero(hex, sizeof hex);
    rc = write_all(fd, text, (size_t)n, path, err);
    sodium_free(text);
    if (!rc && fsync(fd) != 0)
        rc = sg_err_set(err, SG_IO, "cannot sync '%s': %s", path, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = sg_err_set(err, SG_IO, "cannot close '%s': %s", path, strerror(errno));
    if (rc)
        unlink(path);
    return rc;
}
