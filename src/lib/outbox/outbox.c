/*
 * outbox.c - queueing, listing and delivering messages; see sargs/outbox.h.
 */
#include "outbox_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEASE_USEC (INT64_C(5) * 60 * SG_USEC_PER_SEC)
#define MSG_MAX    (256 * 1024)

static const char *const state_names[] = {"queued", "sent", "failed", "dropped"};

const char *sg_message_state_name(int state)
{
    return state >= 0 && state <= SG_MSG_DROPPED ? state_names[state] : "?";
}

int sg_message_state_parse(const char *s)
{
    for (int i = 0; s && i <= SG_MSG_DROPPED; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

/* An address goes into a header: one line, printable, with an @. */
static int address_ok(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    if (n < 3 || n > 254 || !strchr(a, '@'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] <= ' ' || a[i] == '<' || a[i] == '>' || a[i] == 0x7f)
            return 0;
    return 1;
}

/* A message sealed apart from any person's key: the id of the master key,
 * a data key of its own wrapped under it, then the sealed text. The key is
 * bound to the message's id, so a blob moved to another message fails. */
#define APART_KV     0u
#define APART_PREFIX (SG_KEY_ID_HEX + SG_WRAPPED_DEK_BYTES)

/* Seals "to\nsubject\nbody" under `dek` (bound to `sid`, `kv`) after
 * `prefix`, and writes the message. */
static enum sg_rc put(struct sg_vault *v, struct sg_store_message *m, const uint8_t *dek,
                      const struct sg_uuid *sid, const uint8_t *prefix, size_t plen, const char *to,
                      const char *subject, const char *body, struct sg_err *err)
{
    if (!address_ok(to))
        return sg_err_set(err, SG_INVALID, "the address cannot carry a message");
    size_t tl = strlen(to), sl = strlen(subject), bl = strlen(body);
    size_t n = tl + 1 + sl + 1 + bl;
    if (n > MSG_MAX)
        return sg_err_set(err, SG_TOOBIG, "a message over %d bytes", MSG_MAX);
    char *pt = malloc(n);
    uint8_t *ct = malloc(plen + n + SG_SEAL_OVERHEAD);
    if (!pt || !ct) {
        free(pt);
        free(ct);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    memcpy(pt, to, tl);
    pt[tl] = '\n';
    memcpy(pt + tl + 1, subject, sl);
    pt[tl + 1 + sl] = '\n';
    memcpy(pt + tl + sl + 2, body, bl);
    if (plen)
        memcpy(ct, prefix, plen);
    sg_seal(&v->nonce, dek, sid, m->kv, SG_OUTBOX_FIELD, pt, n, ct + plen);
    sodium_memzero(pt, n);
    free(pt);
    m->sealed = ct;
    m->sealed_len = plen + n + SG_SEAL_OVERHEAD;
    enum sg_rc rc = v->store->ops->outbox_put(v->store, m, err);
    free(ct);
    return rc;
}

enum sg_rc sg_outbox_queue(struct sg_vault *v, const struct sg_uuid *id, uint32_t kv,
                           const char *kind, const char *to, const char *subject, const char *body,
                           sg_time now, struct sg_uuid *out, struct sg_err *err)
{
    if (kv == APART_KV)
        return sg_err_set(err, SG_INTERNAL, "a person's key has no version 0");
    struct sg_store_message m;
    memset(&m, 0, sizeof m);
    sg_uuid_v7(now, &m.id);
    m.has_subject = 1;
    m.subject = *id;
    m.kind = kind;
    m.created = now;
    m.kv = kv;
    enum sg_rc rc = put(v, &m, v->dek, id, NULL, 0, to, subject, body, err);
    if (!rc && out)
        *out = m.id;
    return rc;
}

enum sg_rc sg_outbox_queue_apart(struct sg_vault *v, const struct sg_uuid *about, const char *kind,
                                 const char *to, const char *subject, const char *body, sg_time now,
                                 struct sg_uuid *out, struct sg_err *err)
{
    struct sg_store_message m;
    memset(&m, 0, sizeof m);
    sg_uuid_v7(now, &m.id);
    m.has_subject = about != NULL;
    if (about)
        m.subject = *about;
    m.kind = kind;
    m.created = now;
    m.kv = APART_KV;
    uint8_t *dek = sodium_malloc(SG_KEY_BYTES);
    if (!dek)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    uint8_t prefix[APART_PREFIX];
    memcpy(prefix, v->kek->id, SG_KEY_ID_HEX);
    sg_rand_pool_take(&v->pool, dek, SG_KEY_BYTES);
    sg_dek_wrap(&v->nonce, v->kek, dek, &m.id, APART_KV, prefix + SG_KEY_ID_HEX);
    enum sg_rc rc = put(v, &m, dek, &m.id, prefix, sizeof prefix, to, subject, body, err);
    sodium_free(dek);
    if (!rc && out)
        *out = m.id;
    return rc;
}

/* ------------------------------------------------------------------ list */

struct list_ctx {
    int (*cb)(void *ctx, const struct sg_message_info *m);
    void *ctx;
};

static int list_one(void *ctx, const struct sg_store_message *m)
{
    struct list_ctx *l = ctx;
    struct sg_message_info i = {m->id,       m->has_subject,  m->subject, m->kind,
                                m->created,  m->next_attempt, m->sent,    m->state,
                                m->attempts, m->error};
    return l->cb(l->ctx, &i);
}

enum sg_rc sg_outbox_list(struct sg_vault *v, const struct sg_actor *who, int state,
                          int (*cb)(void *ctx, const struct sg_message_info *m), void *ctx,
                          struct sg_err *err)
{
    enum sg_rc rc = sg_view_require_staff(v, who, "outbox.read", err);
    if (rc)
        return rc;
    struct list_ctx l = {cb, ctx};
    return v->store->ops->outbox_each(v->store, state, list_one, &l, err);
}

/* --------------------------------------------------------------- deliver */

/* A claimed message, copied out of the store's row. */
struct claimed {
    struct sg_uuid id, subject;
    int has_subject, attempts;
    uint32_t kv;
    char kind[65];
    uint8_t *sealed;
    size_t sealed_len;
    /* the outcome */
    const char *action; /* NULL: none yet */
    int state;
    sg_time next, sent;
    char error[SG_ERR_MSG_MAX];
};

struct claim_ctx {
    struct claimed *v;
    size_t n, max;
    int oom;
};

static int claim_one(void *ctx, const struct sg_store_message *m)
{
    struct claim_ctx *c = ctx;
    if (c->n == c->max)
        return 1;
    struct claimed *d = &c->v[c->n];
    memset(d, 0, sizeof *d);
    d->id = m->id;
    d->subject = m->subject;
    d->has_subject = m->has_subject;
    d->attempts = m->attempts;
    d->kv = m->kv;
    snprintf(d->kind, sizeof d->kind, "%s", m->kind);
    if (!(d->sealed = malloc(m->sealed_len ? m->sealed_len : 1))) {
        c->oom = 1;
        return 1;
    }
    memcpy(d->sealed, m->sealed, m->sealed_len);
    d->sealed_len = m->sealed_len;
    c->n++;
    return 0;
}

/* The wait before attempt number `attempts` + 1. */
static sg_time backoff(int attempts)
{
    static const int64_t minutes[] = {1, 5, 30, 120};
    int64_t m = attempts >= 1 && attempts <= 4 ? minutes[attempts - 1] : 360;
    return m * 60 * SG_USEC_PER_SEC;
}

/* Notes an outcome; they are recorded together after the batch. */
static void note(struct claimed *c, int state, int attempts, sg_time next, sg_time sent,
                 const char *error, const char *action)
{
    c->state = state;
    c->attempts = attempts;
    c->next = next;
    c->sent = sent;
    snprintf(c->error, sizeof c->error, "%s", error ? error : "");
    c->action = action;
}

/* Records the batch's outcomes with their audit entries in one
 * transaction: one sync for the batch. A crash before it sends the batch
 * again after the lease; the Message-ID makes the repeats recognisable. */
static enum sg_rc record_all(struct sg_vault *v, const struct sg_actor *who, struct claimed *c,
                             size_t n, sg_time lease, struct sg_err *err)
{
    struct sg_opmark mark;
    sg_time now = sg_clock_now(v->clock);
    enum sg_rc rc = sg_op_begin(v, &mark, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!c[i].action)
            continue;
        rc = v->store->ops->outbox_update(v->store, &c[i].id, lease, c[i].state, c[i].attempts,
                                          c[i].next, c[i].sent, c[i].error[0] ? c[i].error : NULL,
                                          err);
        if (rc == SG_CONFLICT) {
            /* Our claim ran out and another worker has the message: its
             * state is that worker's to record; what this one did (a send
             * included) is still audited. */
            sg_err_clear(err);
            rc = SG_OK;
        }
        if (!rc)
            rc = sg_audit_record_details(&v->audit, v->store, who, now, c[i].action,
                                         c[i].has_subject ? &c[i].subject : NULL, "ok", 1,
                                         c[i].kind, strlen(c[i].kind), err);
    }
    return sg_op_end(v, mark, rc, err);
}

/* Opens a message sealed apart: under the master key it names (the
 * current one, or one a rotation retired since). */
static enum sg_rc open_apart(struct sg_vault *v, const struct claimed *c, char **text, size_t *len,
                             struct sg_err *err)
{
    if (c->sealed_len < APART_PREFIX + SG_SEAL_OVERHEAD)
        return sg_err_set(err, SG_CRYPTO, "an outbox message is malformed");
    char id[SG_KEY_ID_HEX + 1];
    memcpy(id, c->sealed, SG_KEY_ID_HEX);
    id[SG_KEY_ID_HEX] = '\0';
    struct sg_key *old = NULL;
    const struct sg_key *kek = v->kek;
    enum sg_rc rc = SG_OK;
    if (strcmp(id, v->kek->id) != 0) {
        rc = sg_vault_retired_kek(v->kek_path, id, &old, err);
        if (rc == SG_NOTFOUND)
            rc = sg_err_set(err, SG_CRYPTO,
                            "an outbox message is sealed under master key %s, which is no longer "
                            "kept",
                            id);
        kek = old;
    }
    if (!rc)
        rc = sg_dek_unwrap(kek, c->sealed + SG_KEY_ID_HEX, SG_WRAPPED_DEK_BYTES, &c->id, APART_KV,
                           v->dek, err);
    sg_key_free(old);
    if (!rc)
        rc = sg_vault_open_value(v, &c->id, APART_KV, SG_OUTBOX_FIELD, c->sealed + APART_PREFIX,
                                 c->sealed_len - APART_PREFIX, text, len, err);
    sg_vault_forget_key(v);
    return rc;
}

/* Opens a claimed message under its person's key: "to\nsubject\nbody". */
static enum sg_rc open_message(struct sg_vault *v, const struct claimed *c, char **text,
                               size_t *len, struct sg_err *err)
{
    struct sg_store_subject row;
    enum sg_rc rc = sg_vault_load_subject(v, &c->subject, &row, 1, err);
    if (!rc)
        rc = sg_vault_open_value(v, &c->subject, c->kv, SG_OUTBOX_FIELD, c->sealed, c->sealed_len,
                                 text, len, err);
    sg_vault_forget_key(v);
    return rc;
}

/* Microseconds since `t0` (CLOCK_MONOTONIC). */
static int64_t since_usec(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)(t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
}

enum sg_rc sg_outbox_deliver(struct sg_vault *v, const struct sg_actor *who, struct sg_transport *t,
                             size_t max, struct sg_deliver_report *rep, struct sg_err *err)
{
    enum sg_rc rc;
    memset(rep, 0, sizeof *rep);
    if ((rc = sg_view_require_staff(v, who, "outbox.deliver", err)))
        return rc;
    if (max == 0 || max > 10000)
        max = 100;
    struct claim_ctx c = {calloc(max, sizeof *c.v), 0, max, 0};
    if (!c.v)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    sg_time now = sg_clock_now(v->clock), lease = 0;
    /* The lease runs by the database's clock (other workers see it so); this
     * worker keeps to it by the time elapsed since the claim. */
    struct timespec claimed;
    clock_gettime(CLOCK_MONOTONIC, &claimed);
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        goto out;
    rc = v->store->ops->outbox_claim(v->store, now, LEASE_USEC, max, claim_one, &c, &lease, err);
    if (!rc && c.oom)
        rc = sg_err_set(err, SG_NOMEM, "out of memory");
    if ((rc = sg_op_end(v, mark, rc, err)))
        goto out;

    char mid[SG_UUID_STR_LEN + 64];
    for (size_t i = 0; i < c.n && !rc; i++) {
        struct claimed *m = &c.v[i];
        /* A send that could end after the claim runs out would race the
         * next worker's: leave the rest of the batch to it. */
        if (since_usec(&claimed) + SG_TRANSPORT_MAX_USEC >= LEASE_USEC)
            break;
        char *text = NULL;
        size_t len = 0;
        struct sg_err e;
        enum sg_rc orc = m->kv == APART_KV ? open_apart(v, m, &text, &len, &e)
                         : m->has_subject  ? open_message(v, m, &text, &len, &e)
                                           : SG_NOTFOUND;
        if (orc == SG_NOTFOUND || orc == SG_CONFLICT) {
            /* Erased or anonymised since: the message goes with them. */
            note(m, SG_MSG_DROPPED, m->attempts, 0, 0, "the person is gone", "outbox.drop");
            rep->dropped++;
            continue;
        }
        if (orc == SG_CRYPTO) {
            /* Altered, or sealed under a key no longer kept: no retry can
             * open it, and it must not hold up the messages behind it. */
            note(m, SG_MSG_FAILED, m->attempts + 1, 0, 0, e.msg, "outbox.fail");
            rep->failed++;
            continue;
        }
        if (orc) {
            rc = orc;
            *err = e;
            break;
        }
        char *nl1 = memchr(text, '\n', len), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
        if (!nl1 || !nl2) {
            sodium_memzero(text, len);
            free(text);
            rc = sg_err_set(err, SG_CRYPTO, "an outbox message is malformed");
            break;
        }
        *nl1 = *nl2 = '\0';
        char ids[SG_UUID_STR_LEN + 1];
        snprintf(mid, sizeof mid, "%s@%s.sargs", sg_uuid_format(&m->id, ids), v->vault_id);
        struct sg_mail mail = {mid, NULL, text, nl1 + 1, nl2 + 1, sg_clock_now(v->clock)};
        enum sg_rc src = sg_transport_send(t, &mail, &e);
        sodium_memzero(text, len);
        free(text);
        sg_time at = sg_clock_now(v->clock);
        int attempts = m->attempts + 1;
        if (src == SG_OK) {
            note(m, SG_MSG_SENT, attempts, 0, at, NULL, "outbox.sent");
            rep->sent++;
        } else if (attempts >= SG_OUTBOX_MAX_ATTEMPTS) {
            note(m, SG_MSG_FAILED, attempts, 0, 0, e.msg, "outbox.fail");
            rep->failed++;
        } else {
            note(m, SG_MSG_QUEUED, attempts, at + backoff(attempts), 0, e.msg, "outbox.retry");
            rep->retried++;
        }
    }
    {
        /* What was sent is recorded even when a later message failed. */
        struct sg_err rerr;
        enum sg_rc r2 = record_all(v, who, c.v, c.n, lease, &rerr);
        if (!rc && r2) {
            rc = r2;
            *err = rerr;
        }
    }
out:
    for (size_t i = 0; i < c.n; i++)
        free(c.v[i].sealed);
    free(c.v);
    return rc;
}
