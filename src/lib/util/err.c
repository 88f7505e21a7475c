/*
 * err.c - the error struct and the one table that maps result codes to
 * names, exit codes and HTTP statuses. Change a mapping here and nowhere else.
 */
#include "sargs/err.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int exit_code;
    int http_status;
} rc_table[SG_RC_COUNT] = {
    [SG_OK] = {"ok", 0, 200},
    [SG_NOTFOUND] = {"not_found", 3, 404},
    [SG_INVALID] = {"invalid", 4, 400},
    [SG_CONFLICT] = {"conflict", 6, 409},
    [SG_DENIED] = {"denied", 5, 403},
    [SG_CRYPTO] = {"crypto", 10, 500},
    [SG_IO] = {"io", 10, 500},
    [SG_TOOBIG] = {"too_big", 4, 413},
    [SG_NOMEM] = {"no_memory", 10, 503},
    [SG_UNAVAILABLE] = {"unavailable", 10, 503},
    [SG_INTERNAL] = {"internal", 10, 500},
    [SG_USAGE] = {"usage", 2, 400},
    [SG_LIMITED] = {"too_many_attempts", 7, 429},
};

static int rc_valid(enum sg_rc rc)
{
    return (int)rc >= 0 && rc < SG_RC_COUNT;
}

const char *sg_rc_name(enum sg_rc rc)
{
    return rc_valid(rc) ? rc_table[rc].name : "internal";
}

int sg_rc_exit_code(enum sg_rc rc)
{
    return rc_valid(rc) ? rc_table[rc].exit_code : 10;
}

int sg_rc_http_status(enum sg_rc rc)
{
    return rc_valid(rc) ? rc_table[rc].http_status : 500;
}

enum sg_rc sg_err_setv(struct sg_err *err, enum sg_rc rc, const char *fmt, va_list ap)
{
    if (err) {
        err->rc = rc;
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        if (n < 0)
            err->msg[0] = '\0';
    }
    return rc;
}

enum sg_rc sg_err_set(struct sg_err *err, enum sg_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_err_setv(err, rc, fmt, ap);
    va_end(ap);
    return rc;
}

void sg_err_clear(struct sg_err *err)
{
    if (err) {
        err->rc = SG_OK;
        err->msg[0] = '\0';
    }
}

enum sg_rc sg_err_prefix(struct sg_err *err, const char *fmt, ...)
{
    if (!err)
        return SG_INTERNAL;
    char prefix[SG_ERR_MSG_MAX];
    char old[SG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->rc;
    memcpy(old, err->msg, sizeof old);
    /* Truncation is fine here: the message is one human line. */
    size_t pl = strnlen(prefix, sizeof err->msg - 1);
    memcpy(err->msg, prefix, pl);
    size_t pos = pl;
    const char *sep = ": ";
    for (const char *p = sep; *p && pos < sizeof err->msg - 1; p++)
        err->msg[pos++] = *p;
    for (const char *p = old; *p && pos < sizeof err->msg - 1; p++)
        err->msg[pos++] = *p;
    err->msg[pos] = '\0';
    return err->rc;
}
