/*
 * cmd_audit.c - sargs audit: heads, proofs, offline checks, verification and
 * the readable log.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/audit.h"

static int usage_fail(struct cli *c, const char *msg)
{
    struct sg_err err;
    sg_err_set(&err, SG_USAGE, "%s", msg);
    return cli_fail(c, &err);
}

/* A whole decimal number, nothing else. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static void hex32(const uint8_t *h, char out[65])
{
    sg_hex_encode(h, SG_HASH_BYTES, out);
}

static void proof_text(const uint8_t *proof, size_t n)
{
    char hx[65];
    printf("proof:");
    for (size_t i = 0; i < n; i++) {
        hex32(proof + i * SG_HASH_BYTES, hx);
        printf("%s%s", i ? "," : " ", hx);
    }
    printf("\n");
}

/* --------------------------------------------------------------- head(s) */

static int head_text(void *ctx, const struct sg_audit_head *h)
{
    int *first = ctx;
    if (!*first)
        printf("\n");
    *first = 0;
    fputs(h->note, stdout);
    return 0;
}

static int head_json(void *ctx, const struct sg_audit_head *h)
{
    char root[65], t[SG_TIME_STR_MAX];
    hex32(h->root, root);
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s}", "size", (json_int_t)h->size, "root",
                                         root, "at", cli_time(h->at, t), "note", h->note));
    return 0;
}

static int audit_head(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    struct sg_audit_head h;
    if (a->npos != 1)
        return usage_fail(c, "usage: sargs audit head");
    if (sg_audit_latest(v, &h, &err))
        return cli_fail(c, &err);
    int ret = 0;
    if (c->json) {
        ret = cli_print_json(sg_json_head(&h));
    } else {
        fputs(h.note, stdout);
    }
    sg_audit_head_release(&h);
    return ret;
}

static int audit_heads(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    uint64_t from = 0;
    const char *since = cli_opt(a, "--since");
    if (a->npos != 1 || (since && parse_u64(since, &from)))
        return usage_fail(c, "usage: sargs audit heads [--since SIZE]");
    int first = 1;
    json_t *arr = c->json ? json_array() : NULL;
    if (sg_audit_heads(v, from, arr ? head_json : head_text, arr ? (void *)arr : &first, &err)) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    return arr ? cli_print_json(arr) : 0;
}

static int audit_key(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    char key[256];
    if (a->npos != 1)
        return usage_fail(c, "usage: sargs audit key");
    if (sg_audit_verifier_key(v, key, sizeof key, &err))
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:s}", "verifier_key", key));
    printf("%s\n", key);
    return 0;
}

/* ---------------------------------------------------------------- proofs */

static int audit_prove(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    uint64_t index, size = 0;
    const char *ss = cli_opt(a, "--size");
    if (a->npos != 2 || parse_u64(a->pos[1], &index) || (ss && (parse_u64(ss, &size) || !size)))
        return usage_fail(c, "usage: sargs audit prove INDEX [--size N]");
    uint8_t leaf[SG_HASH_BYTES], root[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t n = 0;
    if (sg_audit_prove(v, index, &size, leaf, proof, &n, root, &err))
        return cli_fail(c, &err);
    char lh[65], rh[65];
    hex32(leaf, lh);
    hex32(root, rh);
    if (c->json)
        return cli_print_json(json_pack("{s:I,s:I,s:s,s:s,s:o}", "index", (json_int_t)index, "size",
                                        (json_int_t)size, "leaf_hash", lh, "root", rh, "proof",
                                        sg_json_hashes(proof, n)));
    printf("index: %llu\nsize: %llu\nleaf hash: %s\nroot: %s\n", (unsigned long long)index,
           (unsigned long long)size, lh, rh);
    proof_text(proof, n);
    return 0;
}

static int audit_consistency(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    uint64_t m, n = 0;
    if (a->npos < 2 || a->npos > 3 || parse_u64(a->pos[1], &m) ||
        (a->npos == 3 && (parse_u64(a->pos[2], &n) || !n)))
        return usage_fail(c, "usage: sargs audit consistency OLD_SIZE [NEW_SIZE]");
    uint8_t r1[SG_HASH_BYTES], r2[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t count = 0;
    if (sg_audit_consistency(v, m, &n, proof, &count, r1, r2, &err))
        return cli_fail(c, &err);
    char h1[65], h2[65];
    hex32(r1, h1);
    hex32(r2, h2);
    if (c->json)
        return cli_print_json(json_pack("{s:I,s:I,s:s,s:s,s:o}", "size1", (json_int_t)m, "size2",
                                        (json_int_t)n, "root1", h1, "root2", h2, "proof",
                                        sg_json_hashes(proof, count)));
    printf("size1: %llu\nsize2: %llu\nroot1: %s\nroot2: %s\n", (unsigned long long)m,
           (unsigned long long)n, h1, h2);
    proof_text(proof, count);
    return 0;
}

/* -------------------------------------------------- checks without a vault */

/* The result of an offline check: exit 0 when it holds, 5 when it does not. */
static int check_result(struct cli *c, enum sg_rc rc, const struct sg_err *err)
{
    if (rc == SG_OK) {
        if (c->json)
            return cli_print_json(json_pack("{s:b}", "valid", 1));
        printf("valid\n");
        return 0;
    }
    struct sg_err e = *err;
    e.rc = SG_DENIED;
    return cli_fail(c, &e);
}

/* A hash argument: exactly 64 hex digits. */
static enum sg_rc get_hash(const char *what, const char *hex, uint8_t out[SG_HASH_BYTES],
                           struct sg_err *err)
{
    if (!hex || sg_hex_decode(hex, out, SG_HASH_BYTES, NULL) != SG_OK)
        return sg_err_set(err, SG_DENIED, "%s is not a 32-byte hash in hex", what);
    return SG_OK;
}

/* "h1,h2,..." into proof; an empty or missing list is an empty proof. */
static enum sg_rc get_proof(const char *list, uint8_t *proof, size_t *n, struct sg_err *err)
{
    *n = 0;
    if (!list || !*list)
        return SG_OK;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char hex[80];
        if (*n == SG_MERKLE_MAX_PROOF)
            return sg_err_set(err, SG_DENIED, "proof has more than %d hashes", SG_MERKLE_MAX_PROOF);
        if (len >= sizeof hex)
            return sg_err_set(err, SG_DENIED, "proof element %zu is not a 32-byte hash", *n + 1);
        memcpy(hex, p, len);
        hex[len] = '\0';
        if (sg_hex_decode(hex, proof + *n * SG_HASH_BYTES, SG_HASH_BYTES, NULL) != SG_OK)
            return sg_err_set(err, SG_DENIED, "proof element %zu is not a 32-byte hash", *n + 1);
        (*n)++;
        if (!comma)
            return SG_OK;
        p = comma + 1;
    }
}

static int check_inclusion(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    uint64_t index, size;
    uint8_t leaf[SG_HASH_BYTES], root[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t n;
    if (a->npos != 1 || !cli_opt(a, "--leaf-hash") || !cli_opt(a, "--root") ||
        parse_u64(cli_opt(a, "--index"), &index) || parse_u64(cli_opt(a, "--size"), &size))
        return usage_fail(c, "usage: sargs audit check-inclusion --leaf-hash HEX --index I "
                             "--size N --root HEX [--proof HEX,HEX,...]");
    enum sg_rc rc = get_hash("--leaf-hash", cli_opt(a, "--leaf-hash"), leaf, &err);
    if (!rc)
        rc = get_hash("--root", cli_opt(a, "--root"), root, &err);
    if (!rc)
        rc = get_proof(cli_opt(a, "--proof"), proof, &n, &err);
    if (!rc)
        rc = sg_merkle_verify_inclusion(leaf, index, size, proof, n, root, &err);
    return check_result(c, rc, &err);
}

static int check_consistency(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    uint64_t s1, s2;
    uint8_t r1[SG_HASH_BYTES], r2[SG_HASH_BYTES], proof[SG_MERKLE_MAX_PROOF * SG_HASH_BYTES];
    size_t n;
    if (a->npos != 1 || !cli_opt(a, "--root1") || !cli_opt(a, "--root2") ||
        parse_u64(cli_opt(a, "--size1"), &s1) || parse_u64(cli_opt(a, "--size2"), &s2))
        return usage_fail(c, "usage: sargs audit check-consistency --size1 M --size2 N --root1 "
                             "HEX --root2 HEX [--proof HEX,HEX,...]");
    enum sg_rc rc = get_hash("--root1", cli_opt(a, "--root1"), r1, &err);
    if (!rc)
        rc = get_hash("--root2", cli_opt(a, "--root2"), r2, &err);
    if (!rc)
        rc = get_proof(cli_opt(a, "--proof"), proof, &n, &err);
    if (!rc)
        rc = sg_merkle_verify_consistency(s1, s2, r1, r2, proof, n, &err);
    return check_result(c, rc, &err);
}

static int check_head(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    const char *key = cli_opt(a, "--key");
    if (!key || a->npos > 2)
        return usage_fail(c, "usage: sargs audit check-head --key VERIFIER_KEY [FILE]");
    FILE *f = a->npos == 2 && strcmp(a->pos[1], "-") != 0 ? fopen(a->pos[1], "r") : stdin;
    if (!f) {
        sg_err_set(&err, SG_NOTFOUND, "cannot open '%s'", a->pos[1]);
        return cli_fail(c, &err);
    }
    char note[4096];
    size_t len = fread(note, 1, sizeof note - 1, f);
    if (f != stdin)
        fclose(f);
    note[len] = '\0';
    uint64_t size = 0;
    uint8_t root[SG_HASH_BYTES];
    enum sg_rc rc = sg_audit_check_head(note, key, &size, root, &err);
    if (rc == SG_INVALID)
        return cli_fail(c, &err);
    if (rc)
        return check_result(c, rc, &err);
    char rh[65];
    hex32(root, rh);
    if (c->json)
        return cli_print_json(
            json_pack("{s:b,s:I,s:s}", "valid", 1, "size", (json_int_t)size, "root", rh));
    printf("valid: size %llu, root %s\n", (unsigned long long)size, rh);
    return 0;
}

static int check_archive(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    const char *key = cli_opt(a, "--key");
    if (!key || a->npos != 2)
        return usage_fail(c, "usage: sargs audit check-archive --key VERIFIER_KEY FILE");
    uint64_t n = 0;
    enum sg_rc rc = sg_audit_check_archive(a->pos[1], key, &n, &err);
    if (rc == SG_INVALID || rc == SG_NOTFOUND || rc == SG_IO)
        return cli_fail(c, &err);
    if (rc)
        return check_result(c, rc, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:b,s:I}", "valid", 1, "entries", (json_int_t)n));
    printf("valid: %llu entries, each proven against the signed head\n", (unsigned long long)n);
    return 0;
}

static int audit_archive(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    sg_time before;
    const char *bs = cli_opt(a, "--before");
    if (a->npos != 2 || !bs)
        return usage_fail(c, "usage: sargs audit archive --before TIME FILE");
    if (sg_time_parse(bs, &before, &err))
        return cli_fail(c, &err);
    struct sg_audit_archive_report rep;
    if (sg_audit_archive(v, &c->actor, before, a->pos[1], &rep, &err))
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:s,s:I,s:I,s:I}", "archive", a->pos[1], "from",
                                        (json_int_t)rep.from, "to", (json_int_t)rep.to, "size",
                                        (json_int_t)rep.size));
    printf("archived entries %llu-%llu to %s, proven against the head of size %llu\n",
           (unsigned long long)rep.from, (unsigned long long)rep.to - 1, a->pos[1],
           (unsigned long long)rep.size);
    return 0;
}

/* ------------------------------------------------------ verify and the log */

static int audit_verify(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    struct sg_audit_report rep;
    if (a->npos != 1)
        return usage_fail(c, "usage: sargs audit verify");
    if (sg_audit_verify(v, &c->actor, &rep, &err))
        return cli_fail(c, &err);
    if (c->json) {
        json_t *j = json_pack("{s:b,s:I,s:I}", "valid", rep.ok, "entries", (json_int_t)rep.entries,
                              "heads", (json_int_t)rep.heads);
        if (j && !rep.ok) {
            json_object_set_new(j, "first_bad_entry", json_integer((json_int_t)rep.first_bad));
            json_object_set_new(j, "problem", json_string(rep.problem));
        }
        cli_print_json(j);
        return rep.ok ? 0 : sg_rc_exit_code(SG_DENIED);
    }
    if (!rep.ok) {
        fprintf(stderr, "sargs: audit log does not verify: %s\n", rep.problem);
        return sg_rc_exit_code(SG_DENIED);
    }
    printf("audit log verified: %llu entries, %llu signed heads\n", (unsigned long long)rep.entries,
           (unsigned long long)rep.heads);
    return 0;
}

struct log_out {
    struct cli *c;
    json_t *arr;
};

static int log_entry(void *ctx, const struct sg_audit_entry *e)
{
    struct log_out *o = ctx;
    char t[SG_TIME_STR_MAX], ps[33] = "";
    if (o->arr) {
        json_array_append_new(o->arr, sg_json_audit_entry(e));
        return 0;
    }
    if (e->has_subject)
        sg_hex_encode(e->pseudonym, 16, ps);
    cli_time(e->at, t);
    printf("%6llu  %s  %-14s %s/%s/%s  %s%s%s%s%s\n", (unsigned long long)e->index, t, e->action,
           e->actor, e->role, e->purpose, e->result, e->has_subject ? "  " : "",
           e->has_subject ? ps : "", e->details ? "  " : "", e->details ? e->details : "");
    return 0;
}

static int audit_log(struct cli *c, struct sg_vault *v, struct cli_args *a)
{
    struct sg_err err;
    struct sg_uuid id;
    sg_time since = 0;
    uint64_t limit = 0;
    const char *subject = cli_opt(a, "--subject"), *ss = cli_opt(a, "--since"),
               *ls = cli_opt(a, "--limit");
    if (a->npos != 1 || (ls && parse_u64(ls, &limit)))
        return usage_fail(c, "usage: sargs audit log [--subject ID] [--since TIME] [--limit N]");
    if ((subject && sg_uuid_parse(subject, &id, &err)) || (ss && sg_time_parse(ss, &since, &err)))
        return cli_fail(c, &err);
    struct log_out o = {c, c->json ? json_array() : NULL};
    if (sg_audit_log(v, &c->actor, subject ? &id : NULL, since, (size_t)limit, log_entry, &o,
                     &err)) {
        json_decref(o.arr);
        return cli_fail(c, &err);
    }
    return o.arr ? cli_print_json(o.arr) : 0;
}

int cmd_audit(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {
        "--since=", "--size=",  "--subject=", "--limit=",  "--leaf-hash=",
        "--index=", "--root=",  "--proof=",   "--size1=",  "--size2=",
        "--root1=", "--root2=", "--key=",     "--before=", NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    const char *sub = a.npos ? a.pos[0] : "";
    /* The offline checks need no vault at all. */
    if (!strcmp(sub, "check-inclusion"))
        return check_inclusion(c, &a);
    if (!strcmp(sub, "check-consistency"))
        return check_consistency(c, &a);
    if (!strcmp(sub, "check-head"))
        return check_head(c, &a);
    if (!strcmp(sub, "check-archive"))
        return check_archive(c, &a);
    static const struct {
        const char *name;
        int (*fn)(struct cli *, struct sg_vault *, struct cli_args *);
    } subs[] = {
        {"head", audit_head},
        {"heads", audit_heads},
        {"key", audit_key},
        {"prove", audit_prove},
        {"consistency", audit_consistency},
        {"verify", audit_verify},
        {"log", audit_log},
        {"archive", audit_archive},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(sub, subs[i].name) != 0)
            continue;
        struct sg_vault *v = NULL;
        if (cli_open(c, &v, &err))
            return cli_fail(c, &err);
        int ret = subs[i].fn(c, v, &a);
        sg_vault_close(v);
        return ret;
    }
    return usage_fail(c, "usage: sargs audit head|heads|key|prove|consistency|verify|log|"
                         "archive|check-inclusion|check-consistency|check-head|check-archive ... "
                         "(see --help)");
}
