/*
 * archive.c - moving old audit entries out of the database without losing
 * verifiability.
 *
 * The archive file is JSON lines:
 *     {"format":"sargs-audit-archive/1","vault":…,"verifier_key":…,
 *      "size":S,"root":hex,"head":"<signed checkpoint>","from":A,"to":B}
 *     {"index":i,"leaf":base64,"leaf_hash":hex,"proof":[hex,…]}   (A <= i < B)
 * Each entry is proven against the head of size S; the head is signed. The
 * database keeps every leaf hash and the tree, so the log still verifies and
 * later heads stay consistent with S.
 */
#include "../vault/vault_int.h"
#include "sargs/text.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORMAT        "sargs-audit-archive/1"
#define META_ARCHIVED "audit_archived_below"
#define MIN_MONTHS    12

/* `t` moved back by whole calendar months, the day clamped to the month. */
static sg_time months_back(sg_time t, int months)
{
    int64_t days = t >= 0 ? t / SG_USEC_PER_DAY : -((-t - 1) / SG_USEC_PER_DAY) - 1;
    sg_time rest = t - days * SG_USEC_PER_DAY;
    int y, m, d;
    sg_civil_from_days(days, &y, &m, &d);
    int total = y * 12 + (m - 1) - months;
    y = total / 12;
    m = total % 12 + 1;
    if (d > sg_days_in_month(y, m))
        d = sg_days_in_month(y, m);
    return sg_days_from_civil(y, m, d) * SG_USEC_PER_DAY + rest;
}

struct first_new {
    sg_time before;
    uint64_t below;
    int found;
};

static int find_cut(void *ctx, const struct sg_store_audit *a)
{
    struct first_new *c = ctx;
    if (a->at >= c->before) {
        c->below = a->index;
        c->found = 1;
        return 1;
    }
    return 0;
}

struct writer {
    struct sg_vault *v;
    FILE *f;
    uint64_t size;
    enum sg_rc rc;
    struct sg_err *err;
};

static int write_entry(void *ctx, const struct sg_store_audit *a)
{
    struct writer *w = ctx;
    uint8_t leaf[SG_HASH_BYTES], root[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t n = 0;
    uint64_t size = w->size;
    if ((w->rc = sg_audit_prove(w->v, a->index, &size, leaf, proof, &n, root, w->err)))
        return 1;
    size_t b64len = sodium_base64_encoded_len(a->leaf_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    json_t *pa = json_array();
    char hx[65];
    if (!b64 || !pa) {
        free(b64);
        json_decref(pa);
        w->rc = sg_err_set(w->err, SG_NOMEM, "out of memory");
        return 1;
    }
    sodium_bin2base64(b64, b64len, a->leaf, a->leaf_len, sodium_base64_VARIANT_ORIGINAL);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(pa, json_string(sg_hex_encode(proof + i * 32, 32, hx)));
    json_t *j = json_pack("{s:I,s:s,s:s,s:o}", "index", (json_int_t)a->index, "leaf", b64,
                          "leaf_hash", sg_hex_encode(leaf, 32, hx), "proof", pa);
    free(b64);
    if (!j || json_dumpf(j, w->f, JSON_COMPACT) != 0 || fputc('\n', w->f) == EOF) {
        json_decref(j);
        w->rc = sg_err_set(w->err, SG_IO, "cannot write the archive");
        return 1;
    }
    json_decref(j);
    return 0;
}

uint64_t sg_audit_archived_below(struct sg_store *s)
{
    char *val = NULL;
    uint64_t n = 0;
    if (s->ops->meta_get(s, META_ARCHIVED, &val, NULL) == SG_OK)
        n = strtoull(val, NULL, 10);
    free(val);
    return n;
}

enum sg_rc sg_audit_archive(struct sg_vault *v, const struct sg_actor *who, sg_time before,
                            const char *path, struct sg_audit_archive_report *rep,
                            struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_actor_check(who, err)))
        return rc;
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "archiving cannot run inside a transaction");
    sg_time now = sg_clock_now(v->clock);
    sg_time limit = months_back(now, MIN_MONTHS);
    char ts[SG_TIME_STR_MAX];
    if (before > limit)
        return sg_err_set(err, SG_INVALID,
                          "audit entries are kept at least %d months: the latest cut-off now is "
                          "%s",
                          MIN_MONTHS, sg_time_format(limit, ts));
    struct sg_store *s = v->store;
    uint64_t from = sg_audit_archived_below(s);
    struct sg_audit_head head;
    if ((rc = sg_audit_latest(v, &head, err)))
        return rc;
    struct first_new cut = {before, head.size, 0};
    if ((rc = s->ops->audit_each(s, from, head.size, NULL, 0, find_cut, &cut, err)))
        goto out;
    if (cut.below <= from) {
        rc = sg_err_set(err, SG_NOTFOUND, "no audit entry older than %s is left to archive",
                        sg_time_format(before, ts));
        goto out;
    }

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST
                 ? sg_err_set(err, SG_CONFLICT, "'%s' already exists; not overwriting it", path)
                 : sg_err_set(err, SG_IO, "cannot create '%s': %s", path, strerror(errno));
        goto out;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        rc = sg_err_set(err, SG_IO, "cannot write '%s'", path);
        goto out;
    }
    char vkey[256], root[65];
    sg_signer_vkey(&v->audit.signer, vkey, sizeof vkey);
    json_t *hdr = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:I}", "format", FORMAT, "vault",
                            v->vault_id, "verifier_key", vkey, "size", (json_int_t)head.size,
                            "root", sg_hex_encode(head.root, 32, root), "head", head.note, "from",
                            (json_int_t)from, "to", (json_int_t)cut.below);
    struct writer w = {v, f, head.size, SG_OK, err};
    if (!hdr || json_dumpf(hdr, f, JSON_COMPACT) != 0 || fputc('\n', f) == EOF)
        w.rc = sg_err_set(err, SG_IO, "cannot write '%s'", path);
    json_decref(hdr);
    if (!w.rc && (rc = s->ops->audit_each(s, from, cut.below, NULL, 0, write_entry, &w, err)))
        w.rc = rc;
    if (!w.rc && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        w.rc = sg_err_set(err, SG_IO, "cannot sync '%s'", path);
    if (fclose(f) != 0 && !w.rc)
        w.rc = sg_err_set(err, SG_IO, "cannot close '%s'", path);
    if ((rc = w.rc)) {
        unlink(path);
        goto out;
    }

    /* Only once the file is safely on disk does the content leave the log. */
    struct sg_opmark mark;
    char detail[96], num[24];
    snprintf(detail, sizeof detail, "entries %llu-%llu", (unsigned long long)from,
             (unsigned long long)cut.below - 1);
    snprintf(num, sizeof num, "%llu", (unsigned long long)cut.below);
    if ((rc = sg_op_begin(v, &mark, err))) {
        unlink(path);
        goto out;
    }
    if (!(rc = s->ops->audit_archive(s, cut.below, err)) &&
        !(rc = s->ops->meta_set(s, META_ARCHIVED, num, err)))
        rc = sg_audit_record_details(&v->audit, s, who, now, "audit.archive", NULL, "ok", 1, detail,
                                     strlen(detail), err);
    if ((rc = sg_op_end(v, mark, rc, err))) {
        unlink(path);
        goto out;
    }
    if (rep) {
        rep->from = from;
        rep->to = cut.below;
        rep->size = head.size;
    }
out:
    sg_audit_head_release(&head);
    return rc;
}

/* ------------------------------------------------------------------ check */

static enum sg_rc hex32(json_t *j, uint8_t out[32])
{
    const char *s = json_string_value(j);
    return s && sg_hex_decode(s, out, 32, NULL) == SG_OK ? SG_OK : SG_INVALID;
}

/* One line of the archive as JSON; NULL at the end (with *rc SG_OK) or on
 * error. */
static json_t *next_line(FILE *f, char **line, size_t *cap, enum sg_rc *rc)
{
    *rc = SG_OK;
    ssize_t n = getline(line, cap, f);
    if (n < 0) {
        if (ferror(f))
            *rc = SG_IO;
        return NULL;
    }
    json_t *j = json_loadb(*line, (size_t)n, 0, NULL);
    if (!j)
        *rc = SG_INVALID;
    return j;
}

enum sg_rc sg_audit_check_archive(const char *path, const char *vkey, uint64_t *entries,
                                  struct sg_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return sg_err_set(err, errno == ENOENT ? SG_NOTFOUND : SG_IO, "cannot open '%s'", path);
    enum sg_rc rc = SG_OK;
    char *line = NULL;
    size_t cap = 0;
    json_t *hdr = next_line(f, &line, &cap, &rc);
    uint64_t size = 0, want_to = 0, next = 0;
    uint8_t root[32], signed_root[32];
    json_int_t js = 0, jf = 0, jt = 0;
    const char *fmt = NULL, *note = NULL, *sroot = NULL;
    *entries = 0;
    if (!hdr ||
        json_unpack(hdr, "{s:s,s:I,s:s,s:s,s:I,s:I}", "format", &fmt, "size", &js, "root", &sroot,
                    "head", &note, "from", &jf, "to", &jt) != 0 ||
        strcmp(fmt, FORMAT) != 0 || js < 0 || jf < 0 || jt <= jf || jt > js ||
        sg_hex_decode(sroot, root, 32, NULL) != SG_OK) {
        rc = sg_err_set(err, SG_INVALID, "'%s' is not a sargs audit archive", path);
        goto out;
    }
    size = (uint64_t)js;
    next = (uint64_t)jf;
    want_to = (uint64_t)jt;
    uint64_t head_size = 0;
    if ((rc = sg_audit_check_head(note, vkey, &head_size, signed_root, err)))
        goto out;
    if (head_size != size || sodium_memcmp(signed_root, root, 32) != 0) {
        rc = sg_err_set(err, SG_DENIED, "the archive's size or root is not its signed head's");
        goto out;
    }
    for (;;) {
        json_t *e = next_line(f, &line, &cap, &rc);
        if (!e) {
            if (rc)
                rc =
                    sg_err_set(err, rc, "archive entry %llu is not JSON", (unsigned long long)next);
            break;
        }
        json_int_t idx = -1;
        const char *b64 = NULL;
        json_t *proof = NULL;
        uint8_t lh[32], calc[32], p[SG_MERKLE_MAX_PROOF * 32];
        int ok =
            json_unpack(e, "{s:I,s:s,s:o}", "index", &idx, "leaf", &b64, "proof", &proof) == 0 &&
            json_is_array(proof) && json_array_size(proof) <= SG_MERKLE_MAX_PROOF &&
            hex32(json_object_get(e, "leaf_hash"), lh) == SG_OK;
        size_t np = ok ? json_array_size(proof) : 0;
        for (size_t i = 0; ok && i < np; i++)
            ok = hex32(json_array_get(proof, i), p + i * 32) == SG_OK;
        size_t blen = ok ? strlen(b64) : 0, llen = 0;
        uint8_t *leaf = ok ? malloc(blen + 1) : NULL;
        if (ok && (!leaf || sodium_base642bin(leaf, blen + 1, b64, blen, NULL, &llen, NULL,
                                              sodium_base64_VARIANT_ORIGINAL) != 0))
            ok = 0;
        if (ok)
            sg_merkle_leaf_hash(leaf, llen, calc);
        free(leaf);
        if (!ok)
            rc = sg_err_set(err, SG_INVALID, "archive entry %llu is malformed",
                            (unsigned long long)next);
        else if ((uint64_t)idx != next)
            rc = sg_err_set(err, SG_DENIED, "archive entry %llu is missing",
                            (unsigned long long)next);
        else if (sodium_memcmp(calc, lh, 32) != 0)
            rc = sg_err_set(err, SG_DENIED, "archive entry %llu was altered",
                            (unsigned long long)next);
        else if (sg_merkle_verify_inclusion(lh, next, size, p, np, root, NULL) != SG_OK)
            rc = sg_err_set(err, SG_DENIED, "archive entry %llu is not in the signed log",
                            (unsigned long long)next);
        json_decref(e);
        if (rc)
            goto out;
        next++;
        (*entries)++;
    }
    if (!rc && next != want_to)
        rc = sg_err_set(err, SG_DENIED, "the archive ends at entry %llu, not %llu",
                        (unsigned long long)next, (unsigned long long)want_to);
out:
    free(line);
    json_decref(hdr);
    fclose(f);
    return rc;
}
