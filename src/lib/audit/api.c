/*
 * api.c - the public audit calls of sargs/audit.h: heads, proofs, the full
 * verification and the readable log.
 */
#include "../vault/vault_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_audit_head_release(struct sg_audit_head *h)
{
    free(h->note);
    h->note = NULL;
}

static enum sg_rc copy_head(const struct sg_store_head *h, struct sg_audit_head *out,
                            struct sg_err *err)
{
    out->size = h->size;
    out->at = h->at;
    memcpy(out->root, h->root, SG_HASH_BYTES);
    out->note = strdup(h->note);
    return out->note ? SG_OK : sg_err_set(err, SG_NOMEM, "out of memory");
}

struct latest_ctx {
    struct sg_audit_head *out;
    enum sg_rc rc;
    struct sg_err *err;
    int found;
};

static int take_latest(void *ctx, const struct sg_store_head *h)
{
    struct latest_ctx *c = ctx;
    sg_audit_head_release(c->out);
    c->rc = copy_head(h, c->out, c->err);
    c->found = 1;
    return c->rc != SG_OK;
}

enum sg_rc sg_audit_latest(struct sg_vault *v, struct sg_audit_head *out, struct sg_err *err)
{
    struct sg_store *s = v->store;
    uint64_t size = 0;
    memset(out, 0, sizeof *out);
    enum sg_rc rc = s->ops->audit_size(s, &size, err);
    if (rc)
        return rc;
    /* Every transaction that appends signs a head of its final size, so the
     * latest head is the one of the current size. */
    struct latest_ctx c = {out, SG_OK, err, 0};
    if ((rc = s->ops->audit_heads_each(s, size, take_latest, &c, err)) || (rc = c.rc))
        return rc;
    if (!c.found)
        return sg_err_set(err, SG_NOTFOUND, "the audit log has no signed head of its size %llu",
                          (unsigned long long)size);
    return SG_OK;
}

struct heads_ctx {
    int (*cb)(void *ctx, const struct sg_audit_head *h);
    void *ctx;
};

static int pass_head(void *ctx, const struct sg_store_head *h)
{
    struct heads_ctx *c = ctx;
    struct sg_audit_head out = {h->size, h->at, {0}, (char *)h->note};
    memcpy(out.root, h->root, SG_HASH_BYTES);
    return c->cb(c->ctx, &out);
}

enum sg_rc sg_audit_heads(struct sg_vault *v, uint64_t from,
                          int (*cb)(void *ctx, const struct sg_audit_head *h), void *ctx,
                          struct sg_err *err)
{
    struct heads_ctx c = {cb, ctx};
    return v->store->ops->audit_heads_each(v->store, from, pass_head, &c, err);
}

enum sg_rc sg_audit_verifier_key(struct sg_vault *v, char *out, size_t len, struct sg_err *err)
{
    if (len < 128)
        return sg_err_set(err, SG_INTERNAL, "buffer too small for a verifier key");
    sg_signer_vkey(&v->audit.signer, out, len);
    return SG_OK;
}

void sg_audit_pseudonym(struct sg_vault *v, const struct sg_uuid *subject, uint8_t out[16])
{
    sg_auditlog_pseudonym(&v->audit, subject, out);
}

#define NODE_CACHE (1u << 16)

/* Fetches through the vault's node cache (see vault_int.h). */
static int cached_fetch(void *ctx, unsigned level, uint64_t index, uint8_t out[SG_HASH_BYTES])
{
    struct sg_vault *v = ctx;
    if (level == 0 || !v->node_ids)
        return sg_auditlog_fetch(v->store, level, index, out);
    uint64_t id = (uint64_t)level << 56 | index;
    size_t slot = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 48) & (NODE_CACHE - 1);
    if (v->node_ids[slot] == id) {
        memcpy(out, v->node_hashes + slot * SG_HASH_BYTES, SG_HASH_BYTES);
        return 0;
    }
    if (sg_auditlog_fetch(v->store, level, index, out))
        return 1;
    v->node_ids[slot] = id;
    memcpy(v->node_hashes + slot * SG_HASH_BYTES, out, SG_HASH_BYTES);
    return 0;
}

static void cache_init(struct sg_vault *v)
{
    if (v->node_ids)
        return;
    v->node_ids = calloc(NODE_CACHE, sizeof *v->node_ids);
    v->node_hashes = malloc((size_t)NODE_CACHE * SG_HASH_BYTES);
    if (!v->node_ids || !v->node_hashes) {
        /* Without memory the proofs still work, uncached. */
        free(v->node_ids);
        free(v->node_hashes);
        v->node_ids = NULL;
        v->node_hashes = NULL;
    }
}

struct root_ctx {
    uint64_t size;
    uint8_t *root;
    int found;
};

static int head_root(void *ctx, const struct sg_store_head *h)
{
    struct root_ctx *c = ctx;
    if (h->size == c->size) {
        memcpy(c->root, h->root, SG_HASH_BYTES);
        c->found = 1;
    }
    return 1; /* the first head at or above the size is the only candidate */
}

/* The root at `size`: the signed head's when there is one of that size (the
 * root a client holds), else computed from the stored subtrees. */
static enum sg_rc root_at(struct sg_vault *v, uint64_t size, uint8_t root[SG_HASH_BYTES],
                          struct sg_err *err)
{
    struct root_ctx c = {size, root, 0};
    enum sg_rc rc = v->store->ops->audit_heads_each(v->store, size, head_root, &c, err);
    if (rc || c.found)
        return rc;
    return sg_merkle_root(size, cached_fetch, v, root, err);
}

/* The size asked for, or the current one (0), checked against the log. */
static enum sg_rc resolve_size(struct sg_store *s, uint64_t *size, struct sg_err *err)
{
    uint64_t cur = 0;
    enum sg_rc rc = s->ops->audit_size(s, &cur, err);
    if (rc)
        return rc;
    if (*size == 0)
        *size = cur;
    else if (*size > cur)
        return sg_err_set(err, SG_INVALID, "the log has only %llu entries",
                          (unsigned long long)cur);
    return SG_OK;
}

/* A proof's reads in one read transaction: one snapshot of the log, and on
 * SQLite one WAL read lock for its dozen queries instead of one each (which
 * cost most of a proof). Inside the caller's transaction, nothing to do. */
static enum sg_rc snapshot_begin(struct sg_vault *v, int *own, struct sg_err *err)
{
    *own = sg_vault_top_level(v);
    return *own ? v->store->ops->begin_read(v->store, err) : SG_OK;
}

static enum sg_rc snapshot_end(struct sg_vault *v, int own, enum sg_rc rc, struct sg_err *err)
{
    if (!own)
        return rc;
    if (rc) {
        v->store->ops->rollback(v->store);
        return rc;
    }
    return v->store->ops->commit(v->store, err);
}

static enum sg_rc prove(struct sg_vault *v, uint64_t index, uint64_t *sizep,
                        uint8_t leaf_hash[SG_HASH_BYTES], uint8_t *proof, size_t *n,
                        uint8_t root[SG_HASH_BYTES], struct sg_err *err);

enum sg_rc sg_audit_prove(struct sg_vault *v, uint64_t index, uint64_t *sizep,
                          uint8_t leaf_hash[SG_HASH_BYTES], uint8_t *proof, size_t *n,
                          uint8_t root[SG_HASH_BYTES], struct sg_err *err)
{
    int own;
    enum sg_rc rc = snapshot_begin(v, &own, err);
    if (rc)
        return rc;
    rc = prove(v, index, sizep, leaf_hash, proof, n, root, err);
    return snapshot_end(v, own, rc, err);
}

static enum sg_rc prove(struct sg_vault *v, uint64_t index, uint64_t *sizep,
                        uint8_t leaf_hash[SG_HASH_BYTES], uint8_t *proof, size_t *n,
                        uint8_t root[SG_HASH_BYTES], struct sg_err *err)
{
    struct sg_store *s = v->store;
    enum sg_rc rc = resolve_size(s, sizep, err);
    if (rc)
        return rc;
    uint64_t size = *sizep;
    if (index >= size)
        return sg_err_set(err, SG_INVALID, "entry %llu is not in a log of %llu entries",
                          (unsigned long long)index, (unsigned long long)size);
    cache_init(v);
    if ((rc = s->ops->audit_hash_get(s, 0, index, leaf_hash, err)) ||
        (rc = sg_merkle_inclusion_proof(index, size, cached_fetch, v, proof, n, err)))
        return rc;
    return root_at(v, size, root, err);
}

static enum sg_rc consistency(struct sg_vault *v, uint64_t m, uint64_t *np, uint8_t *proof,
                              size_t *count, uint8_t root1[SG_HASH_BYTES],
                              uint8_t root2[SG_HASH_BYTES], struct sg_err *err);

enum sg_rc sg_audit_consistency(struct sg_vault *v, uint64_t m, uint64_t *np, uint8_t *proof,
                                size_t *count, uint8_t root1[SG_HASH_BYTES],
                                uint8_t root2[SG_HASH_BYTES], struct sg_err *err)
{
    int own;
    enum sg_rc rc = snapshot_begin(v, &own, err);
    if (rc)
        return rc;
    rc = consistency(v, m, np, proof, count, root1, root2, err);
    return snapshot_end(v, own, rc, err);
}

static enum sg_rc consistency(struct sg_vault *v, uint64_t m, uint64_t *np, uint8_t *proof,
                              size_t *count, uint8_t root1[SG_HASH_BYTES],
                              uint8_t root2[SG_HASH_BYTES], struct sg_err *err)
{
    struct sg_store *s = v->store;
    enum sg_rc rc = resolve_size(s, np, err);
    if (rc)
        return rc;
    uint64_t n = *np;
    if (m > n)
        return sg_err_set(err, SG_INVALID, "size %llu is beyond size %llu", (unsigned long long)m,
                          (unsigned long long)n);
    cache_init(v);
    if ((rc = sg_merkle_consistency_proof(m, n, cached_fetch, v, proof, count, err)) ||
        (rc = root_at(v, m, root1, err)))
        return rc;
    return root_at(v, n, root2, err);
}

enum sg_rc sg_audit_check_head(const char *note, const char *vkey, uint64_t *size,
                               uint8_t root[SG_HASH_BYTES], struct sg_err *err)
{
    char name[128];
    uint8_t pk[32];
    enum sg_rc rc = sg_vkey_parse(vkey, name, sizeof name, pk, err);
    if (rc)
        return rc;
    /* The key name is the log's origin: a head of another log is refused. */
    return sg_checkpoint_verify(note, name, pk, name, size, root, err);
}

/* ------------------------------------------------------------- verification */

#define CHUNK 1024

/* The stored subtrees, read in key order, which is the order the
 * recomputed tree completes them (sg_node_key): one pass. */
struct node_reader {
    uint64_t next; /* the key after the last one compared */
    size_t n, pos;
    struct sg_store_node *buf;
};

struct head_rec {
    uint64_t size;
    uint8_t root[SG_HASH_BYTES];
};

struct verify_ctx {
    struct sg_store *s;
    const struct sg_signer *signer;
    struct sg_audit_report *rep;
    struct sg_merkle_range range;
    struct node_reader nodes;
    struct head_rec *heads;
    size_t nheads, cap, next_head;
    uint64_t archived; /* entries below have had their content archived */
    struct sg_buf tmp;
    enum sg_rc rc; /* an error that stopped verification (not a finding) */
    struct sg_err *err;
};

static int finding(struct verify_ctx *c, uint64_t entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int finding(struct verify_ctx *c, uint64_t entry, const char *fmt, ...)
{
    if (!c->rep->ok)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->rep->problem, sizeof c->rep->problem, fmt, ap);
    va_end(ap);
    c->rep->ok = 0;
    c->rep->first_bad = entry;
    return 1;
}

static int check_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[SG_HASH_BYTES])
{
    struct verify_ctx *c = ctx;
    struct node_reader *r = &c->nodes;
    if (r->pos == r->n) {
        if (!r->buf && !(r->buf = malloc(CHUNK * sizeof *r->buf))) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return 1;
        }
        r->pos = 0;
        if ((c->rc = c->s->ops->audit_nodes_read(c->s, r->next, CHUNK, r->buf, &r->n, c->err)))
            return 1;
    }
    uint64_t first = index << level, last = first + (UINT64_C(1) << level) - 1;
    /* The next stored one must be this one: another (or none) means this
     * one was removed, or one was put in. */
    if (r->pos == r->n || r->buf[r->pos].level != level || r->buf[r->pos].index != index)
        return finding(c, first,
                       "the stored tree over entries %llu-%llu is missing: entries were "
                       "removed or the tree was edited",
                       (unsigned long long)first, (unsigned long long)last);
    if (sodium_memcmp(r->buf[r->pos].hash, h, SG_HASH_BYTES) != 0)
        return finding(c, first,
                       "the stored tree over entries %llu-%llu does not match them: one of "
                       "them was altered, removed, inserted or moved",
                       (unsigned long long)first, (unsigned long long)last);
    r->pos++;
    r->next = sg_node_key(level, index) + 1;
    return 0;
}

/* Compares the recomputed root with the head of the size just reached. The
 * previous head matched, so the difference lies in the entries since. */
static int check_heads(struct verify_ctx *c)
{
    uint8_t root[SG_HASH_BYTES];
    while (c->next_head < c->nheads && c->heads[c->next_head].size == c->range.size) {
        sg_merkle_range_root(&c->range, root);
        if (sodium_memcmp(root, c->heads[c->next_head].root, SG_HASH_BYTES) != 0) {
            uint64_t from = c->next_head ? c->heads[c->next_head - 1].size : 0;
            uint64_t to = c->range.size ? c->range.size - 1 : 0;
            if (from >= to)
                return finding(c, to,
                               "entry %llu does not match the signed head of size %llu: it "
                               "was altered, or put in the place of another",
                               (unsigned long long)to, (unsigned long long)c->range.size);
            return finding(c, from,
                           "entries %llu-%llu do not match the signed head of size %llu: one of "
                           "them was altered, removed, inserted or moved",
                           (unsigned long long)from, (unsigned long long)to,
                           (unsigned long long)c->range.size);
        }
        c->next_head++;
        c->rep->heads++;
    }
    return 0;
}

static int load_head(void *ctx, const struct sg_store_head *h);

static int check_entry(void *ctx, const struct sg_store_audit *a)
{
    struct verify_ctx *c = ctx;
    uint64_t want = c->range.size;
    if (a->index != want)
        return finding(c, want, "entry %llu is missing (the next entry is %llu)",
                       (unsigned long long)want, (unsigned long long)a->index);
    /* Every committed transaction signs its head: an entry past the last
     * head was added outside sargs - or by another process or node since
     * the heads were read, whose head was committed with its entries and is
     * there now. */
    uint64_t signed_size = c->nheads ? c->heads[c->nheads - 1].size : 0;
    if (want >= signed_size) {
        enum sg_rc rc = c->s->ops->audit_heads_each(c->s, signed_size + 1, load_head, c, c->err);
        if (rc)
            c->rc = rc;
        if (c->rc || !c->rep->ok)
            return 1;
        signed_size = c->nheads ? c->heads[c->nheads - 1].size : 0;
    }
    if (want >= signed_size)
        return finding(c, want,
                       "entry %llu and any after it are covered by no signed head: they were "
                       "added outside sargs",
                       (unsigned long long)want);
    uint8_t h[SG_HASH_BYTES];
    if (want < c->archived) {
        /* Archived: the content is in the archive file (which proves itself
         * against a signed head); the stored leaf hash carries the tree. */
        if (a->leaf_len || a->pseudonym || !a->hash)
            return finding(c, want, "archived entry %llu is not as archiving leaves it",
                           (unsigned long long)want);
        memcpy(h, a->hash, SG_HASH_BYTES);
    } else {
        if (a->leaf_len == 0)
            return finding(c, want, "entry %llu was emptied outside archiving",
                           (unsigned long long)want);
        sg_merkle_leaf_hash(a->leaf, a->leaf_len, h);
        if (!a->hash || sodium_memcmp(h, a->hash, SG_HASH_BYTES) != 0)
            return finding(c, want,
                           "entry %llu was altered (its content does not hash to its leaf hash)",
                           (unsigned long long)want);
        struct sg_audit_entry e;
        const uint8_t *d;
        size_t dl;
        if (sg_audit_leaf_decode(a->leaf, a->leaf_len, &e, &c->tmp, &d, &dl, NULL) != SG_OK)
            return finding(c, want, "entry %llu is malformed", (unsigned long long)want);
        if (e.at != a->at || e.has_subject != (a->pseudonym != NULL) ||
            (a->pseudonym && memcmp(e.pseudonym, a->pseudonym, SG_PSEUDONYM_BYTES) != 0))
            return finding(c, want, "entry %llu: its time or person columns were altered",
                           (unsigned long long)want);
    }
    if (sg_merkle_range_append(&c->range, h, check_node, c))
        return 1;
    c->rep->entries++;
    return check_heads(c);
}

static int load_head(void *ctx, const struct sg_store_head *h)
{
    struct verify_ctx *c = ctx;
    uint64_t size = 0;
    uint8_t root[SG_HASH_BYTES];
    if (sg_checkpoint_verify(h->note, c->signer->name, c->signer->pk, c->signer->name, &size, root,
                             NULL) != SG_OK)
        return finding(c, h->size, "the signed head of size %llu has a bad signature",
                       (unsigned long long)h->size);
    if (size != h->size || sodium_memcmp(root, h->root, SG_HASH_BYTES) != 0)
        return finding(c, h->size, "the head of size %llu does not match its signed note",
                       (unsigned long long)h->size);
    if (c->nheads == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct head_rec *p = realloc(c->heads, cap * sizeof *p);
        if (!p) {
            c->rc = sg_err_set(c->err, SG_NOMEM, "out of memory");
            return 1;
        }
        c->heads = p;
        c->cap = cap;
    }
    c->heads[c->nheads].size = size;
    memcpy(c->heads[c->nheads].root, root, SG_HASH_BYTES);
    c->nheads++;
    return 0;
}

static enum sg_rc verify(struct sg_vault *v, struct sg_audit_report *rep, struct sg_err *err);

enum sg_rc sg_audit_verify(struct sg_vault *v, const struct sg_actor *who,
                           struct sg_audit_report *rep, struct sg_err *err)
{
    int own;
    memset(rep, 0, sizeof *rep);
    enum sg_rc rc = sg_view_require_staff(v, who, "audit.verify", err);
    if (rc)
        return rc;
    rc = snapshot_begin(v, &own, err);
    if (rc)
        return rc;
    rc = verify(v, rep, err);
    return snapshot_end(v, own, rc, err);
}

static enum sg_rc verify(struct sg_vault *v, struct sg_audit_report *rep, struct sg_err *err)
{
    struct verify_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    memset(rep, 0, sizeof *rep);
    rep->ok = 1;
    c->s = v->store;
    c->archived = sg_audit_archived_below(v->store);
    c->signer = &v->audit.signer;
    c->rep = rep;
    c->err = err;
    sg_buf_init(&c->tmp, 1 << 20);
    sg_merkle_range_init(&c->range);
    struct sg_store *s = v->store;
    /* Every head first: signatures, and that each matches its row. */
    enum sg_rc rc = s->ops->audit_heads_each(s, 0, load_head, c, err);
    if (!rc)
        rc = c->rc;
    /* Then the whole log in one pass, checking the heads as their sizes are
     * reached: heads agreeing with one tree are consistent with each other. */
    if (!rc && rep->ok)
        rc = check_heads(c) ? c->rc : SG_OK;
    if (!rc && rep->ok) {
        rc = s->ops->audit_each(s, 0, UINT64_MAX, NULL, 0, check_entry, c, err);
        if (!rc)
            rc = c->rc;
    }
    if (!rc && rep->ok && c->next_head < c->nheads)
        finding(c, c->range.size,
                "the log ends at %llu entries but a signed head covers %llu: entries were "
                "removed",
                (unsigned long long)c->range.size, (unsigned long long)c->heads[c->next_head].size);
    free(c->nodes.buf);
    free(c->heads);
    sg_buf_release(&c->tmp);
    free(c);
    return rc;
}

/* --------------------------------------------------------------- the log */

struct log_ctx {
    struct sg_vault *v;
    const struct sg_uuid *subject;
    int have_key;
    uint32_t kv;
    size_t limit, n;
    int (*cb)(void *ctx, const struct sg_audit_entry *e);
    void *ctx;
    struct sg_buf tmp;
    enum sg_rc rc;
    struct sg_err *err;
};

static int show_entry(void *ctx, const struct sg_store_audit *a)
{
    struct log_ctx *c = ctx;
    if (a->leaf_len == 0)
        return 0; /* archived: its content lives in the archive file */
    struct sg_audit_entry e;
    const uint8_t *d = NULL;
    size_t dl = 0;
    if ((c->rc = sg_audit_leaf_decode(a->leaf, a->leaf_len, &e, &c->tmp, &d, &dl, c->err))) {
        sg_err_prefix(c->err, "entry %llu", (unsigned long long)a->index);
        return 1;
    }
    e.index = a->index;
    memcpy(e.leaf_hash, a->hash ? a->hash : (const uint8_t *)"", a->hash ? SG_HASH_BYTES : 0);
    char *opened = NULL;
    if (d && !e.details_sealed) {
        opened = strndup((const char *)d, dl);
        e.details = opened;
    } else if (d) {
        e.details = "[sealed]";
        /* Sealed details open only for the person asked about, while the
         * person's key exists: u32be(key version) | sealed value. */
        if (c->have_key && dl > 4) {
            uint32_t kv = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
            char *p = malloc(dl);
            size_t pl = 0;
            if (p && sg_open(c->v->dek, c->subject, kv, SG_AUDIT_DETAILS_FIELD, d + 4, dl - 4, p,
                             &pl, NULL) == SG_OK) {
                p[pl] = '\0';
                opened = p;
                e.details = opened;
            } else {
                free(p);
            }
        }
    }
    int stop = c->cb(c->ctx, &e);
    if (opened) {
        sodium_memzero(opened, strlen(opened));
        free(opened);
    }
    c->n++;
    return stop || (c->limit && c->n >= c->limit);
}

enum sg_rc sg_audit_log(struct sg_vault *v, const struct sg_actor *who,
                        const struct sg_uuid *subject, sg_time since, size_t limit,
                        int (*cb)(void *ctx, const struct sg_audit_entry *e), void *ctx,
                        struct sg_err *err)
{
    enum sg_rc rc;
    struct sg_view w;
    if ((rc = sg_view_open(v, who, "audit.read", &w, err)))
        return rc;
    /* Who did what to whom is for the operator and the controller's staff. */
    int staff = !w.only_self && (!w.role || w.role->kind == SG_ROLE_STAFF);
    sg_view_close(&w);
    if (!staff) {
        sg_err_set(err, SG_DENIED, "role '%s' may not read the audit log", who->role);
        return sg_view_deny(v, who, "audit.read", subject, err);
    }
    struct log_ctx c = {v, subject, 0, 0, limit, 0, cb, ctx, {0}, SG_OK, err};
    sg_buf_init(&c.tmp, 1 << 20);
    struct sg_opmark mark;
    struct sg_store *s = v->store;
    uint8_t pseudo[SG_PSEUDONYM_BYTES];
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    if (subject) {
        sg_auditlog_pseudonym(&v->audit, subject, pseudo);
        struct sg_store_subject row;
        /* An erased person's entries are still listed; their details stay
         * sealed for good. */
        c.have_key = sg_vault_load_subject(v, subject, &row, 1, NULL) == SG_OK;
        rc = sg_audit_record(&v->audit, s, who, sg_clock_now(v->clock), "audit.read", subject, "ok",
                             err);
    }
    if (!rc)
        rc = s->ops->audit_each(s, 0, UINT64_MAX, subject ? pseudo : NULL, since, show_entry, &c,
                                err);
    if (!rc)
        rc = c.rc;
    rc = sg_op_end(v, mark, rc, err);
out:
    sg_vault_forget_key(v);
    sg_buf_release(&c.tmp);
    return rc;
}

void sg_vault_set_audit_sink(struct sg_vault *v, sg_audit_sink_fn fn, void *ctx)
{
    v->audit.sink = fn;
    v->audit.sink_ctx = ctx;
}

enum sg_rc sg_audit_append_leaf(struct sg_vault *v, const uint8_t *leaf, size_t len, sg_time at,
                                const uint8_t *pseudonym, struct sg_err *err)
{
    struct sg_opmark mark;
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    rc = sg_auditlog_append_leaf(&v->audit, v->store, leaf, len, at, pseudonym, err);
    return sg_op_end(v, mark, rc, err);
}
