/*
 * ytree.c - YAML (libyaml's event parser) into a small node tree, and the
 * tree's canonical form.
 *
 * libyaml's own document loader resolves aliases into shared nodes, so a
 * hostile file can make a cycle or an exponential tree ("billion laughs");
 * a policy has no use for aliases, so this builder refuses them and keeps
 * hard limits on depth and size. Every node keeps its line and column for
 * the problems the loader reports.
 */
#include "policy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------------- arena */

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK 16384

void arena_init(struct arena *a)
{
    memset(a, 0, sizeof *a);
}

void arena_release(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(a, 0, sizeof *a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    if (a->oom)
        return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!a->head || a->cap - a->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        struct arena_chunk *c = malloc(sizeof *c + cap);
        if (!c) {
            a->oom = 1;
            return NULL;
        }
        c->cap = cap;
        c->next = a->head;
        a->head = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void *arena_array(struct arena *a, size_t count, size_t size)
{
    if (count == 0)
        return NULL;
    if (size && count > SIZE_MAX / 2 / size) {
        a->oom = 1;
        return NULL;
    }
    return arena_alloc(a, count * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    return arena_strndup(a, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* -------------------------------------------------------------------- tree */

/* A node under construction: its children are gathered in a growable list
 * and copied into the arena when it closes. */
struct frame {
    struct ynode *node;
    struct ynode **kids;
    size_t n, cap; /* entries in kids (for a map: keys and values) */
};

struct builder {
    struct arena *a;
    struct frame stack[YTREE_MAX_DEPTH];
    int depth;
    size_t nodes;
    struct ynode *root;
};

static int frame_push_kid(struct frame *f, struct ynode *kid)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct ynode **k = realloc(f->kids, cap * sizeof *k);
        if (!k)
            return -1;
        f->kids = k;
        f->cap = cap;
    }
    f->kids[f->n++] = kid;
    return 0;
}

static void set_msg(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

/* Adds a finished node to its parent, or makes it the root. */
static int attach(struct builder *b, struct ynode *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    return frame_push_kid(&b->stack[b->depth - 1], n);
}

static struct ynode *new_node(struct builder *b, enum ykind kind, const yaml_mark_t *m)
{
    if (++b->nodes > YTREE_MAX_NODES)
        return NULL;
    struct ynode *n = arena_alloc(b->a, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = (unsigned)m->line + 1;
    n->col = (unsigned)m->column + 1;
    return n;
}

static void builder_release(struct builder *b)
{
    for (int i = 0; i < b->depth; i++)
        free(b->stack[i].kids);
    b->depth = 0;
}

/* Tags a policy may carry: only the standard scalar ones, which change
 * nothing here (every scalar is read as text and interpreted by its key). */
static int tag_ok(const yaml_char_t *tag)
{
    if (!tag)
        return 1;
    static const char *const ok[] = {"tag:yaml.org,2002:str",   "tag:yaml.org,2002:int",
                                     "tag:yaml.org,2002:bool",  "tag:yaml.org,2002:null",
                                     "tag:yaml.org,2002:float", "tag:yaml.org,2002:map",
                                     "tag:yaml.org,2002:seq",   NULL};
    for (const char *const *t = ok; *t; t++)
        if (strcmp((const char *)tag, *t) == 0)
            return 1;
    return 0;
}

enum sg_rc ytree_parse(struct arena *a, const char *text, size_t len, struct ynode **root,
                       unsigned *line, unsigned *col, char *msg, size_t msgsize, ytree_warn_fn warn,
                       void *ctx)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct builder b;
    enum sg_rc rc = SG_OK;
    int docs = 0, done = 0;

    memset(&b, 0, sizeof b);
    b.a = a;
    *root = NULL;
    *line = *col = 0;
    if (!yaml_parser_initialize(&parser)) {
        set_msg(msg, msgsize, "out of memory");
        return SG_NOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                set_msg(msg, msgsize, "out of memory");
                rc = SG_NOMEM;
                break;
            }
            const yaml_mark_t *m = parser.error == YAML_READER_ERROR ? NULL : &parser.problem_mark;
            *line = m ? (unsigned)m->line + 1 : 1;
            *col = m ? (unsigned)m->column + 1 : 1;
            if (parser.error == YAML_READER_ERROR) {
                /* The reader counts bytes, not lines: find the line. */
                size_t off = parser.problem_offset < len ? parser.problem_offset : len;
                unsigned l = 1, c = 1;
                for (size_t i = 0; i < off; i++) {
                    if (text[i] == '\n') {
                        l++;
                        c = 1;
                    } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
                        c++;
                    }
                }
                *line = l;
                *col = c;
            }
            if (parser.context)
                set_msg(msg, msgsize, "yaml syntax error: %s %s", parser.problem, parser.context);
            else
                set_msg(msg, msgsize, "yaml syntax error: %s",
                        parser.problem ? parser.problem : "malformed");
            rc = SG_INVALID;
            break;
        }
        struct ynode *n = NULL;
        /* A copy: yaml_event_delete() clears the event. */
        const yaml_mark_t mark = ev.start_mark;
        const yaml_mark_t *m = &mark;
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_NO_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                *line = (unsigned)m->line + 1;
                *col = (unsigned)m->column + 1;
                set_msg(msg, msgsize, "a policy file holds one yaml document, not several");
                rc = SG_INVALID;
            }
            break;
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_ALIAS_EVENT:
            /* Refused, but read as an empty value so the rest is checked. */
            warn(ctx, (unsigned)m->line + 1, (unsigned)m->column + 1,
                 "yaml aliases (*name) are not allowed in a policy");
            if (!(n = new_node(&b, Y_SCALAR, m)))
                goto limit;
            n->str = "";
            n->plain = 1;
            if (attach(&b, n))
                goto oom;
            break;
        case YAML_SCALAR_EVENT:
            if (!tag_ok(ev.data.scalar.tag))
                warn(ctx, (unsigned)m->line + 1, (unsigned)m->column + 1,
                     "yaml tags other than the standard ones are not allowed");
            if (!(n = new_node(&b, Y_SCALAR, m)))
                goto limit;
            n->str = arena_strndup(a, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            n->len = ev.data.scalar.length;
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (!n->str || attach(&b, n))
                goto oom;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const yaml_char_t *tag = ev.type == YAML_SEQUENCE_START_EVENT
                                         ? ev.data.sequence_start.tag
                                         : ev.data.mapping_start.tag;
            if (!tag_ok(tag))
                warn(ctx, (unsigned)m->line + 1, (unsigned)m->column + 1,
                     "yaml tags other than the standard ones are not allowed");
            if (b.depth == YTREE_MAX_DEPTH) {
                *line = (unsigned)m->line + 1;
                *col = (unsigned)m->column + 1;
                set_msg(msg, msgsize, "nested deeper than %d levels", YTREE_MAX_DEPTH);
                rc = SG_INVALID;
                break;
            }
            if (!(n = new_node(&b, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP, m)))
                goto limit;
            struct frame *f = &b.stack[b.depth++];
            memset(f, 0, sizeof *f);
            f->node = n;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            struct frame *f = &b.stack[--b.depth];
            n = f->node;
            n->n = n->kind == Y_MAP ? f->n / 2 : f->n;
            if (f->n) {
                n->kids = arena_array(a, f->n, sizeof *n->kids);
                if (n->kids)
                    memcpy(n->kids, f->kids, f->n * sizeof *n->kids);
            }
            free(f->kids);
            f->kids = NULL;
            if ((f->n && !n->kids) || attach(&b, n))
                goto oom;
            break;
        }
        }
        yaml_event_delete(&ev);
        if (rc)
            break;
        continue;
    limit:
        yaml_event_delete(&ev);
        if (a->oom)
            goto oom_noev;
        *line = (unsigned)m->line + 1;
        *col = (unsigned)m->column + 1;
        set_msg(msg, msgsize, "more than %d yaml nodes", YTREE_MAX_NODES);
        rc = SG_TOOBIG;
        break;
    oom:
        yaml_event_delete(&ev);
    oom_noev:
        set_msg(msg, msgsize, "out of memory");
        rc = SG_NOMEM;
        break;
    }
    builder_release(&b);
    yaml_parser_delete(&parser);
    if (!rc)
        *root = b.root;
    return rc;
}

/* -------------------------------------------------------------- canonical */

enum sg_rc json_quote(struct sg_buf *out, const char *s, size_t len, struct sg_err *err)
{
    enum sg_rc rc = sg_buf_add(out, "\"", 1, err);
    size_t start = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (i > start)
            rc = sg_buf_add(out, s + start, i - start, err);
        if (rc)
            break;
        if (c == '"')
            rc = sg_buf_add(out, "\\\"", 2, err);
        else if (c == '\\')
            rc = sg_buf_add(out, "\\\\", 2, err);
        else if (c == '\n')
            rc = sg_buf_add(out, "\\n", 2, err);
        else if (c == '\t')
            rc = sg_buf_add(out, "\\t", 2, err);
        else
            rc = sg_buf_addf(out, err, "\\u%04x", c);
        start = i + 1;
    }
    if (!rc && len > start)
        rc = sg_buf_add(out, s + start, len - start, err);
    if (!rc)
        rc = sg_buf_add(out, "\"", 1, err);
    return rc;
}

static int key_cmp(const struct ynode *a, const struct ynode *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str, b->str, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Orders the key nodes of pairs: scalars by bytes, other keys first. The
 * loader refuses duplicate and non-scalar keys before anything is hashed,
 * so the order is total on what gets here. */
static int pair_order(const void *a, const void *b)
{
    const struct ynode *x = **(const struct ynode *const *const *)a;
    const struct ynode *y = **(const struct ynode *const *const *)b;
    if (x->kind != Y_SCALAR || y->kind != Y_SCALAR)
        return (x->kind == Y_SCALAR) - (y->kind == Y_SCALAR);
    return key_cmp(x, y);
}

static enum sg_rc canon(const struct ynode *n, struct sg_buf *out, struct sg_err *err)
{
    enum sg_rc rc = SG_OK;
    if (!n)
        return sg_buf_add(out, "null", 4, err);
    switch (n->kind) {
    case Y_SCALAR:
        return json_quote(out, n->str, n->len, err);
    case Y_SEQ:
        rc = sg_buf_add(out, "[", 1, err);
        for (size_t i = 0; i < n->n && !rc; i++) {
            if (i)
                rc = sg_buf_add(out, ",", 1, err);
            if (!rc)
                rc = canon(n->kids[i], out, err);
        }
        return rc ? rc : sg_buf_add(out, "]", 1, err);
    case Y_MAP: {
        /* The pairs sorted by key: pointers to each key, the value after it. */
        struct ynode *const **ord = n->n ? malloc(n->n * sizeof *ord) : NULL;
        if (n->n && !ord)
            return sg_err_set(err, SG_NOMEM, "out of memory");
        for (size_t i = 0; i < n->n; i++)
            ord[i] = &n->kids[2 * i];
        if (n->n > 1)
            qsort(ord, n->n, sizeof *ord, pair_order);
        rc = sg_buf_add(out, "{", 1, err);
        for (size_t i = 0; i < n->n && !rc; i++) {
            if (i)
                rc = sg_buf_add(out, ",", 1, err);
            if (!rc)
                rc = canon(ord[i][0], out, err);
            if (!rc)
                rc = sg_buf_add(out, ":", 1, err);
            if (!rc)
                rc = canon(ord[i][1], out, err);
        }
        free(ord);
        return rc ? rc : sg_buf_add(out, "}", 1, err);
    }
    }
    return sg_err_set(err, SG_INTERNAL, "unknown yaml node");
}

enum sg_rc ytree_canonical(const struct ynode *n, struct sg_buf *out, struct sg_err *err)
{
    sg_buf_reset(out);
    return canon(n, out, err);
}
