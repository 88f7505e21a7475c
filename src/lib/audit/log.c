/*
 * log.c - the audit log: leaf encoding, appends that keep the Merkle tree's
 * perfect subtrees in the store, and one signed head per transaction (group
 * commit: a batch of operations costs one signature and one fsync).
 */
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEAF_V1  1
#define LEAF_MAX (64 * 1024)

/* ------------------------------------------------------------------ leaves */

static enum sg_rc add_str(struct sg_buf *b, const char *s, struct sg_err *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 0xffff)
        return sg_err_set(err, SG_TOOBIG, "audit field too long");
    uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    enum sg_rc rc = sg_buf_add(b, len, 2, err);
    return rc ? rc : sg_buf_add(b, s ? s : "", n, err);
}

enum sg_rc sg_audit_leaf_encode(const struct sg_audit_rec *r, struct sg_buf *out,
                                struct sg_err *err)
{
    enum sg_rc rc;
    uint8_t v = LEAF_V1, flag = r->pseudonym ? 1 : 0, kind = (uint8_t)r->details_kind;
    sg_buf_reset(out);
    if ((rc = sg_buf_add(out, &v, 1, err)) || (rc = sg_buf_add_u64be(out, (uint64_t)r->at, err)) ||
        (rc = add_str(out, r->who->id, err)) || (rc = add_str(out, r->who->role, err)) ||
        (rc = add_str(out, r->who->purpose, err)) || (rc = add_str(out, r->action, err)) ||
        (rc = add_str(out, r->object, err)) || (rc = add_str(out, r->result, err)) ||
        (rc = sg_buf_add(out, r->request, 16, err)) || (rc = sg_buf_add(out, &flag, 1, err)) ||
        (flag && (rc = sg_buf_add(out, r->pseudonym, 16, err))) ||
        (rc = sg_buf_add(out, &kind, 1, err)) ||
        (rc = sg_buf_add_u32be(out, (uint32_t)r->details_len, err)) ||
        (rc = sg_buf_add(out, r->details, r->details_len, err)))
        return rc;
    return SG_OK;
}

struct reader {
    const uint8_t *p;
    size_t left;
};

static int take(struct reader *r, void *out, size_t n)
{
    if (r->left < n)
        return -1;
    if (out)
        memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

/* Reads a string into `tmp` and records its offset in *off. */
static int take_str(struct reader *r, struct sg_buf *tmp, size_t *off)
{
    uint8_t l[2];
    if (take(r, l, 2))
        return -1;
    size_t n = (size_t)l[0] << 8 | l[1];
    /* A NUL inside cannot come from the encoder (it writes C strings). */
    if (r->left < n || memchr(r->p, 0, n))
        return -1;
    *off = tmp->len;
    if (sg_buf_add(tmp, r->p, n, NULL) || sg_buf_add(tmp, "", 1, NULL))
        return -1;
    return take(r, NULL, n);
}

enum sg_rc sg_audit_leaf_decode(const uint8_t *leaf, size_t len, struct sg_audit_entry *e,
                                struct sg_buf *tmp, const uint8_t **details, size_t *dlen,
                                struct sg_err *err)
{
    struct reader r = {leaf, len};
    uint8_t v, at[8], flag, kind, dl[4];
    size_t off[6];
    sg_buf_reset(tmp);
    memset(e->pseudonym, 0, sizeof e->pseudonym);
    if (take(&r, &v, 1) || v != LEAF_V1 || take(&r, at, 8))
        goto bad;
    for (int i = 0; i < 6; i++)
        if (take_str(&r, tmp, &off[i]))
            goto bad;
    if (take(&r, e->request, 16) || take(&r, &flag, 1) || flag > 1 ||
        (flag && take(&r, e->pseudonym, 16)) || take(&r, &kind, 1) || kind > 2 || take(&r, dl, 4))
        goto bad;
    uint32_t n = (uint32_t)dl[0] << 24 | (uint32_t)dl[1] << 16 | (uint32_t)dl[2] << 8 | dl[3];
    if (r.left != n || (kind == 0 && n != 0))
        goto bad;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | at[i];
    e->at = (sg_time)t;
    const char *base = tmp->ptr;
    e->actor = base + off[0];
    e->role = base + off[1];
    e->purpose = base + off[2];
    e->action = base + off[3];
    e->object = base + off[4];
    e->result = base + off[5];
    e->has_subject = flag;
    e->details_sealed = kind == 2;
    e->details = NULL;
    *details = kind ? r.p : NULL;
    *dlen = kind ? n : 0;
    return SG_OK;
bad:
    return sg_err_set(err, SG_CRYPTO, "audit entry is malformed");
}

/* -------------------------------------------------------------------- keys */

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

static enum sg_rc load_or_make(const char *dir, const char *name, enum sg_key_kind kind, int create,
                               struct sg_key **out, struct sg_err *err)
{
    char *path = join(dir, name);
    if (!path)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    enum sg_rc rc = sg_key_load(path, kind, out, err);
    if (rc == SG_NOTFOUND && create) {
        if (!(rc = sg_key_generate(out, err)) && (rc = sg_key_save(*out, kind, path, err))) {
            sg_key_free(*out);
            *out = NULL;
        }
    }
    free(path);
    return rc;
}

enum sg_rc sg_auditlog_create_keys(const char *keys_dir, struct sg_err *err)
{
    struct sg_key *a = NULL, *b = NULL;
    enum sg_rc rc = load_or_make(keys_dir, SG_AUDIT_KEY_NAME, SG_KEY_SIGNING, 1, &a, err);
    if (!rc)
        rc = load_or_make(keys_dir, SG_PSEUDONYM_KEY_NAME, SG_KEY_PSEUDONYM, 1, &b, err);
    sg_key_free(a);
    sg_key_free(b);
    return rc;
}

enum sg_rc sg_auditlog_open(struct sg_auditlog *l, const char *keys_dir, const char *vault_id,
                            struct sg_err *err)
{
    memset(l, 0, sizeof *l);
    sg_buf_init(&l->leaves, SIZE_MAX / 2);
    struct sg_key *seed = NULL;
    char name[96];
    snprintf(name, sizeof name, "sargs/%s", vault_id);
    enum sg_rc rc = load_or_make(keys_dir, SG_AUDIT_KEY_NAME, SG_KEY_SIGNING, 0, &seed, err);
    if (!rc)
        rc = sg_signer_init(&l->signer, seed, name, err);
    sg_key_free(seed);
    if (!rc)
        rc = load_or_make(keys_dir, SG_PSEUDONYM_KEY_NAME, SG_KEY_PSEUDONYM, 0, &l->pseudo, err);
    if (rc)
        sg_auditlog_close(l);
    return rc;
}

void sg_auditlog_close(struct sg_auditlog *l)
{
    sg_signer_release(&l->signer);
    sg_key_free(l->pseudo);
    l->pseudo = NULL;
    sg_buf_release(&l->leaves);
    free(l->pending);
    free(l->nodes);
    l->pending = NULL;
    l->nodes = NULL;
    l->npending = l->nnodes = l->cap_pending = l->cap_nodes = 0;
}

void sg_auditlog_pseudonym(const struct sg_auditlog *l, const struct sg_uuid *id,
                           uint8_t out[SG_PSEUDONYM_BYTES])
{
    static const char label[] = "sargs/pseudonym/v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, l->pseudo->k, SG_KEY_BYTES, SG_PSEUDONYM_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, id->b, 16);
    crypto_generichash_final(&st, out, SG_PSEUDONYM_BYTES);
}

/* ------------------------------------------------------------------ appends */

int sg_auditlog_fetch(void *ctx, unsigned level, uint64_t index, uint8_t out[SG_HASH_BYTES])
{
    struct sg_store *s = ctx;
    return s->ops->audit_hash_get(s, level, index, out, NULL) != SG_OK;
}

void sg_auditlog_begin(struct sg_auditlog *l, sg_time now)
{
    struct sg_uuid u;
    sg_uuid_v7(now, &u);
    memcpy(l->request, u.b, 16);
    sg_auditlog_rollback_to(l, 0);
}

uint64_t sg_auditlog_mark(const struct sg_auditlog *l)
{
    return l->npending;
}

void sg_auditlog_rollback_to(struct sg_auditlog *l, uint64_t mark)
{
    if (mark == 0) {
        /* Nothing queued is left; the store may change before the next
         * transaction, so the edge is reloaded then. */
        l->npending = 0;
        l->nnodes = 0;
        sg_buf_reset(&l->leaves);
        l->range_valid = 0;
        return;
    }
    if (mark >= l->npending)
        return;
    l->npending = (size_t)mark;
    l->leaves.len = l->pending[mark - 1].leaf_off + l->pending[mark - 1].leaf_len;
    if (l->sink)
        return;
    l->nnodes = l->pending[mark - 1].nodes_end;
    /* Replay the entries kept onto the edge the transaction started from. */
    l->range = l->base;
    for (size_t i = 0; i < l->npending; i++)
        sg_merkle_range_append(&l->range, l->pending[i].hash, NULL, NULL);
}

static int queue_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[SG_HASH_BYTES])
{
    struct sg_auditlog *l = ctx;
    if (l->nnodes == l->cap_nodes) {
        size_t cap = l->cap_nodes ? l->cap_nodes * 2 : 256;
        struct sg_audit_node *p = realloc(l->nodes, cap * sizeof *p);
        if (!p)
            return 1;
        l->nodes = p;
        l->cap_nodes = cap;
    }
    struct sg_audit_node *n = &l->nodes[l->nnodes++];
    n->level = level;
    n->index = index;
    memcpy(n->hash, h, SG_HASH_BYTES);
    return 0;
}

static enum sg_rc load_range(struct sg_auditlog *l, struct sg_store *s, struct sg_err *err)
{
    if (l->range_valid)
        return SG_OK;
    uint64_t size = 0;
    enum sg_rc rc;
    if ((rc = s->ops->audit_lock(s, err)) || (rc = s->ops->audit_size(s, &size, err)) ||
        (rc = sg_merkle_range_load(&l->range, size, sg_auditlog_fetch, s, err)))
        return rc;
    l->base = l->range;
    l->range_valid = 1;
    return SG_OK;
}

enum sg_rc sg_auditlog_append(struct sg_auditlog *l, struct sg_store *s,
                              const struct sg_audit_rec *r, const struct sg_uuid *subject,
                              struct sg_err *err)
{
    enum sg_rc rc;
    uint8_t pseudo[SG_PSEUDONYM_BYTES];
    struct sg_audit_rec rec = *r;
    rec.request = l->request;
    if (subject) {
        sg_auditlog_pseudonym(l, subject, pseudo);
        rec.pseudonym = pseudo;
    }
    /* A sink appends elsewhere: no tree here, and no store read. */
    if (!l->sink && (rc = load_range(l, s, err)))
        return rc;
    if (l->npending == l->cap_pending) {
        size_t cap = l->cap_pending ? l->cap_pending * 2 : 64;
        struct sg_audit_pending *p = realloc(l->pending, cap * sizeof *p);
        if (!p)
            return sg_err_set(err, SG_NOMEM, "out of memory");
        l->pending = p;
        l->cap_pending = cap;
    }
    /* Encode at the end of the queue's buffer. */
    struct sg_buf one;
    sg_buf_init(&one, LEAF_MAX);
    if ((rc = sg_audit_leaf_encode(&rec, &one, err)))
        return rc;
    size_t off = l->leaves.len;
    rc = sg_buf_add(&l->leaves, one.ptr, one.len, err);
    struct sg_audit_pending *e = &l->pending[l->npending];
    e->leaf_off = off;
    e->leaf_len = one.len;
    sg_buf_release(&one);
    if (rc)
        return rc;
    e->index = l->range.size;
    e->at = rec.at;
    e->has_pseudonym = subject != NULL;
    if (subject)
        memcpy(e->pseudonym, pseudo, SG_PSEUDONYM_BYTES);
    if (l->sink) {
        e->nodes_end = 0;
        l->npending++;
        return SG_OK;
    }
    sg_merkle_leaf_hash(l->leaves.ptr + off, e->leaf_len, e->hash);
    if (sg_merkle_range_append(&l->range, e->hash, queue_node, l)) {
        /* Out of memory half-way: forget this transaction's edge. */
        l->range_valid = 0;
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    e->nodes_end = l->nnodes;
    l->npending++;
    return SG_OK;
}

enum sg_rc sg_auditlog_append_leaf(struct sg_auditlog *l, struct sg_store *s, const uint8_t *leaf,
                                   size_t len, sg_time at, const uint8_t *pseudonym,
                                   struct sg_err *err)
{
    enum sg_rc rc;
    if (len == 0 || len > LEAF_MAX)
        return sg_err_set(err, SG_INVALID, "an audit leaf is 1 to %d bytes", LEAF_MAX);
    if ((rc = load_range(l, s, err)))
        return rc;
    if (l->npending == l->cap_pending) {
        size_t cap = l->cap_pending ? l->cap_pending * 2 : 64;
        struct sg_audit_pending *p = realloc(l->pending, cap * sizeof *p);
        if (!p)
            return sg_err_set(err, SG_NOMEM, "out of memory");
        l->pending = p;
        l->cap_pending = cap;
    }
    size_t off = l->leaves.len;
    if ((rc = sg_buf_add(&l->leaves, (const char *)leaf, len, err)))
        return rc;
    struct sg_audit_pending *e = &l->pending[l->npending];
    e->leaf_off = off;
    e->leaf_len = len;
    e->index = l->range.size;
    e->at = at;
    e->has_pseudonym = pseudonym != NULL;
    if (pseudonym)
        memcpy(e->pseudonym, pseudonym, SG_PSEUDONYM_BYTES);
    sg_merkle_leaf_hash(l->leaves.ptr + off, len, e->hash);
    if (sg_merkle_range_append(&l->range, e->hash, queue_node, l)) {
        l->range_valid = 0;
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    e->nodes_end = l->nnodes;
    l->npending++;
    return SG_OK;
}

enum sg_rc sg_auditlog_seal(struct sg_auditlog *l, struct sg_store *s, sg_time now,
                            struct sg_err *err)
{
    if (!l->npending)
        return SG_OK;
    enum sg_rc rc = SG_OK;
    if (l->sink) {
        for (size_t i = 0; i < l->npending && !rc; i++) {
            const struct sg_audit_pending *e = &l->pending[i];
            rc = l->sink(l->sink_ctx, (const uint8_t *)l->leaves.ptr + e->leaf_off, e->leaf_len,
                         e->at, e->has_pseudonym ? e->pseudonym : NULL, err);
        }
        l->npending = 0;
        sg_buf_reset(&l->leaves);
        return rc;
    }
    for (size_t i = 0; i < l->npending && !rc; i++) {
        const struct sg_audit_pending *e = &l->pending[i];
        struct sg_store_audit a = {e->index,
                                   e->at,
                                   e->has_pseudonym ? e->pseudonym : NULL,
                                   (const uint8_t *)l->leaves.ptr + e->leaf_off,
                                   e->leaf_len,
                                   e->hash};
        rc = s->ops->audit_append(s, &a, err);
    }
    for (size_t i = 0; i < l->nnodes && !rc; i++)
        rc = s->ops->audit_node_put(s, l->nodes[i].level, l->nodes[i].index, l->nodes[i].hash, err);
    if (rc)
        return rc;
    uint8_t root[SG_HASH_BYTES];
    char *note = NULL;
    sg_merkle_range_root(&l->range, root);
    if ((rc = sg_checkpoint_sign(&l->signer, l->range.size, root, &note, err)))
        return rc;
    struct sg_store_head h = {l->range.size, now, root, note};
    rc = s->ops->audit_head_put(s, &h, err);
    free(note);
    if (!rc) {
        l->npending = 0;
        l->nnodes = 0;
        sg_buf_reset(&l->leaves);
        l->base = l->range;
    }
    return rc;
}
