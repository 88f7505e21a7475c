/*
 * journal.c - the erasure journal; see journal.h.
 */
#include "journal.h"
#include "sargs/text.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER       "# sargs erasure journal of vault "
#define LINE_MAX_LEN 128

static void line_sum(const char *body, size_t len, char out[17])
{
    uint8_t h[8];
    crypto_generichash(h, sizeof h, (const uint8_t *)body, len, NULL, 0);
    sg_hex_encode(h, sizeof h, out);
}

static enum sg_rc write_all(int fd, const char *p, size_t len, const char *path, struct sg_err *err)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sg_err_set(err, SG_IO, "cannot write erasure journal '%s': %s", path,
                              strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return SG_OK;
}

enum sg_rc sg_journal_create(const char *path, const char *vault_id, struct sg_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return SG_OK;
        return sg_err_set(err, SG_IO, "cannot create erasure journal '%s': %s", path,
                          strerror(errno));
    }
    char line[128];
    int n = snprintf(line, sizeof line, HEADER "%s\n", vault_id);
    enum sg_rc rc = write_all(fd, line, (size_t)n, path, err);
    if (!rc && fsync(fd) != 0)
        rc = sg_err_set(err, SG_IO, "cannot sync '%s': %s", path, strerror(errno));
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

enum sg_rc sg_journal_append(const char *path, const struct sg_journal_entry *e, size_t n,
                             struct sg_err *err)
{
    if (n == 0)
        return SG_OK;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return sg_err_set(err, SG_IO, "cannot open erasure journal '%s': %s", path,
                          strerror(errno));
    enum sg_rc rc = SG_OK;
    char line[LINE_MAX_LEN];
    for (size_t i = 0; i < n && !rc; i++) {
        char ts[SG_TIME_STR_MAX], id[SG_UUID_STR_LEN + 1], sum[17];
        int len = snprintf(line, sizeof line, "%c %s %s", e[i].kind, sg_time_format(e[i].at, ts),
                           sg_uuid_format(&e[i].id, id));
        line_sum(line, (size_t)len, sum);
        len += snprintf(line + len, sizeof line - (size_t)len, " %s\n", sum);
        rc = write_all(fd, line, (size_t)len, path, err);
    }
    if (!rc && fsync(fd) != 0)
        rc = sg_err_set(err, SG_IO, "cannot sync erasure journal '%s': %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int parse_line(char *line, struct sg_journal_entry *e)
{
    /* "K TIME UUID SUM" */
    char *sp = strrchr(line, ' ');
    if (!sp)
        return -1;
    char sum[17];
    line_sum(line, (size_t)(sp - line), sum);
    if (strcmp(sp + 1, sum) != 0)
        return -1;
    *sp = '\0';
    if ((line[0] != 'E' && line[0] != 'A' && line[0] != 'C') || line[1] != ' ')
        return -1;
    e->kind = line[0];
    char *t = line + 2;
    char *id = strchr(t, ' ');
    if (!id)
        return -1;
    *id++ = '\0';
    if (sg_time_parse(t, &e->at, NULL) != SG_OK || sg_uuid_parse(id, &e->id, NULL) != SG_OK)
        return -1;
    return 0;
}

enum sg_rc sg_journal_read(const char *path, char vault_id[37],
                           int (*cb)(void *ctx, const struct sg_journal_entry *e), void *ctx,
                           struct sg_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return sg_err_set(err, SG_NOTFOUND, "erasure journal '%s' does not exist", path);
        return sg_err_set(err, SG_IO, "cannot open erasure journal '%s': %s", path,
                          strerror(errno));
    }
    enum sg_rc rc = SG_OK;
    char line[LINE_MAX_LEN + 2];
    long lineno = 0;
    int header = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            /* A torn last line is the trace of a crash before its erasure
             * could commit; anything longer than a line is damage. */
            if (len < LINE_MAX_LEN && fgetc(f) == EOF)
                break;
            rc = sg_err_set(err, SG_CRYPTO, "erasure journal '%s' is damaged at line %ld", path,
                            lineno);
            break;
        }
        line[len - 1] = '\0';
        if (strncmp(line, HEADER, strlen(HEADER)) == 0) {
            if (vault_id) {
                snprintf(vault_id, 37, "%.36s", line + strlen(HEADER));
            }
            header = 1;
            continue;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        struct sg_journal_entry e;
        if (parse_line(line, &e) != 0) {
            rc = sg_err_set(err, SG_CRYPTO, "erasure journal '%s' is damaged at line %ld", path,
                            lineno);
            break;
        }
        if (cb && cb(ctx, &e))
            break;
    }
    if (!rc && ferror(f))
        rc = sg_err_set(err, SG_IO, "cannot read erasure journal '%s'", path);
    if (!rc && !header)
        rc = sg_err_set(err, SG_CRYPTO, "erasure journal '%s' has no header line", path);
    fclose(f);
    return rc;
}
