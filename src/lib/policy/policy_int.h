/*
 * policy_int.h - what the files of the policy module share (internal): an
 * arena that owns every byte of a loaded policy, and the YAML node tree the
 * loader reads from.
 */
#ifndef SARGS_POLICY_INT_H
#define SARGS_POLICY_INT_H

#include <stddef.h>

#include "sargs/buf.h"
#include "sargs/policy.h"

/* ------------------------------------------------------------------- arena */

/*
 * A policy is built once and freed at once, so its memory comes from an
 * arena: many small allocations, one free. Out of memory is sticky: after
 * the first failure every allocation returns NULL and `oom` stays set, so a
 * builder checks once at the end.
 */
struct arena_chunk;
struct arena {
    struct arena_chunk *head;
    size_t used, cap; /* in the head chunk */
    int oom;
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* `n` zeroed bytes, aligned for any type; NULL (and oom) on failure. */
void *arena_alloc(struct arena *a, size_t n);
/* `count` zeroed elements of `size` bytes; NULL when count is 0 or on failure. */
void *arena_array(struct arena *a, size_t count, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------- tree */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
    enum ykind kind;
    unsigned line, col; /* 1-based */
    const char *str;    /* Y_SCALAR: NUL-terminated */
    size_t len;
    int plain;           /* Y_SCALAR written without quotes */
    struct ynode **kids; /* Y_SEQ: items; Y_MAP: key, value, key, value ... */
    size_t n;            /* items, or pairs */
};

#define YTREE_MAX_DEPTH 48
#define YTREE_MAX_NODES 200000

/* Reports a problem that does not stop the parse. */
typedef void (*ytree_warn_fn)(void *ctx, unsigned line, unsigned col, const char *msg);

/*
 * Parses one YAML document of `len` bytes into a tree in `a`. On a syntax
 * error returns SG_INVALID with `*line`, `*col` and `msg` (no input echoed);
 * so are more than one document and trees deeper or larger than the
 * limits. Aliases and non-standard tags are reported through `warn` and
 * read as an empty value, so that the rest of the file is still checked.
 * An empty document gives *root == NULL.
 */
enum sg_rc ytree_parse(struct arena *a, const char *text, size_t len, struct ynode **root,
                       unsigned *line, unsigned *col, char *msg, size_t msgsize, ytree_warn_fn warn,
                       void *ctx);

/* The canonical form used for the version hash: JSON with mapping keys
 * sorted (byte order) and every scalar as a string. */
enum sg_rc ytree_canonical(const struct ynode *n, struct sg_buf *out, struct sg_err *err);

/* Appends `s` as a JSON string literal (quotes included). */
enum sg_rc json_quote(struct sg_buf *out, const char *s, size_t len, struct sg_err *err);

/* ---------------------------------------------------------------- helpers */

/* Event ids built into sargs (see sg_event_def). */
extern const char *const sg_builtin_events[];

/* The policy's languages that notices are written in. */
int policy_lang_supported(const char *lang);

#endif
