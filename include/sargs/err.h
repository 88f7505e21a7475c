/*
 * sargs/err.h - the one result enum and the one error struct of libsargs.
 *
 * Every function of the library that can fail returns an `enum sg_rc` and,
 * when given a `struct sg_err *`, fills it with one human line that says what
 * went wrong. Messages are lowercase, have no full stop, quote the thing they
 * name, and never contain personal data (a value the person gave): they may
 * end up in logs.
 *
 * One table (err.c) maps each code to its stable name (used in JSON error
 * bodies), to the exit code of the `sargs` command and to an HTTP status.
 */
#ifndef SARGS_ERR_H
#define SARGS_ERR_H

#include <stdarg.h>

enum sg_rc {
    SG_OK = 0,
    SG_NOTFOUND,    /* the subject, field, file ... does not exist */
    SG_INVALID,     /* bad input: malformed value, unknown category ... */
    SG_CONFLICT,    /* the state forbids it: already exists, already erased */
    SG_DENIED,      /* not allowed for this actor, purpose or state */
    SG_CRYPTO,      /* wrong key, failed authentication, corrupted ciphertext */
    SG_IO,          /* file system or database failure */
    SG_TOOBIG,      /* a value or buffer over its limit */
    SG_NOMEM,       /* allocation failed */
    SG_UNAVAILABLE, /* a backend is away or busy; retry later */
    SG_INTERNAL,    /* a bug: an invariant did not hold */
    SG_USAGE,       /* wrong use of a command (front ends only) */
    SG_LIMITED,     /* too many attempts: wait (a locked sign-in) */
    SG_RC_COUNT
};

#define SG_ERR_MSG_MAX 256

struct sg_err {
    enum sg_rc rc;
    char msg[SG_ERR_MSG_MAX];
};

/*
 * Records `rc` and a printf-style message in `err` (which may be NULL) and
 * returns `rc`, so that a failing path reads `return sg_err_set(err, ...)`.
 * A message that does not fit is truncated.
 */
enum sg_rc sg_err_set(struct sg_err *err, enum sg_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum sg_rc sg_err_setv(struct sg_err *err, enum sg_rc rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Resets `err` to SG_OK with an empty message. Accepts NULL. */
void sg_err_clear(struct sg_err *err);

/*
 * Prefixes the message already in `err` with "<prefix>: ", keeping its code;
 * returns the code. Used to add context on the way up.
 */
enum sg_rc sg_err_prefix(struct sg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stable snake_case name of a code ("not_found", "invalid", ...). */
const char *sg_rc_name(enum sg_rc rc);

/* Exit code of the `sargs` command for a code: 0 ok, 2 usage, 3 not found,
 * 4 invalid input, 5 denied, 6 conflict, 10 internal or I/O. */
int sg_rc_exit_code(enum sg_rc rc);

/* HTTP status for a code (200, 400, 404, 409, 403, 413, 503, 500 ...). */
int sg_rc_http_status(enum sg_rc rc);

#endif
