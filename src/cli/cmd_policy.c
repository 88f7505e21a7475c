/*
 * cmd_policy.c - sargs policy check|apply|list|show, sargs notice [diff],
 * sargs ropa: the policy file, what the vault recorded of it, and what is
 * generated from it.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints every problem of a file as FILE:LINE:COL: message (stderr). */
static void print_problems(const char *file, const struct sg_policy_problems *pr)
{
    for (size_t i = 0; i < pr->n; i++)
        fprintf(stderr, "%s:%u:%u: %s\n", file, pr->v[i].line, pr->v[i].col, pr->v[i].msg);
    if (pr->dropped)
        fprintf(stderr, "%s: %zu more problem(s) not shown\n", file, pr->dropped);
}

static json_t *problems_json(const char *file, const struct sg_policy_problems *pr)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < pr->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:s}", "file", file, "line",
                                           (int)pr->v[i].line, "col", (int)pr->v[i].col, "message",
                                           pr->v[i].msg));
    return a;
}

/* Loads a policy file for a command; on problems prints them and returns
 * the exit code (nonzero). */
static int load_or_report(struct cli *c, const char *file, struct sg_policy **p)
{
    struct sg_policy_problems pr;
    struct sg_err err;
    sg_err_clear(&err);
    sg_policy_problems_init(&pr);
    enum sg_rc rc = sg_policy_load_file(file, p, &pr, &err);
    if (rc == SG_INVALID && !c->json)
        print_problems(file, &pr);
    sg_policy_problems_release(&pr);
    return rc ? cli_fail(c, &err) : 0;
}

/*
 * The policy a generating command works on: the file of --policy, or else
 * the vault's version in force at --at (default now). `effective` gets the
 * date the version took effect (0 when from a file).
 */
static int policy_for(struct cli *c, const char *file, const char *at, struct sg_policy **p,
                      sg_time *effective)
{
    struct sg_err err;
    sg_err_clear(&err);
    *effective = 0;
    if (file) {
        if (at) {
            sg_err_set(&err, SG_USAGE, "--at reads the vault's history; not with --policy");
            return cli_fail(c, &err);
        }
        return load_or_report(c, file, p);
    }
    sg_time when = sg_clock_now(&c->clock);
    if (at && sg_time_parse(at, &when, &err)) {
        sg_err_prefix(&err, "--at");
        err.rc = SG_USAGE;
        return cli_fail(c, &err);
    }
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    struct sg_policy_version ver;
    enum sg_rc rc = sg_vault_policy_load_at(v, when, p, &ver, &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    *effective = ver.effective;
    return 0;
}

static int parse_format(const char *s, enum sg_doc_format *f, struct sg_err *err)
{
    if (!s || !strcmp(s, "md") || !strcmp(s, "markdown"))
        *f = SG_FORMAT_MARKDOWN;
    else if (!strcmp(s, "html"))
        *f = SG_FORMAT_HTML;
    else if (!strcmp(s, "json"))
        *f = SG_FORMAT_JSON;
    else if (!strcmp(s, "csv"))
        *f = SG_FORMAT_CSV;
    else
        return sg_err_set(err, SG_USAGE, "unknown format '%.20s'", s), -1;
    return 0;
}

static int write_out(struct sg_buf *b)
{
    if (b->len && fwrite(b->ptr, 1, b->len, stdout) != b->len)
        return 10;
    return 0;
}

/* ------------------------------------------------------------ policy check */

static int policy_check(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    if (a->npos != 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs policy check FILE");
        return cli_fail(c, &err);
    }
    const char *file = a->pos[0];
    struct sg_policy_problems pr;
    struct sg_policy *p = NULL;
    sg_policy_problems_init(&pr);
    enum sg_rc rc = sg_policy_load_file(file, &p, &pr, &err);
    if (rc && rc != SG_INVALID) {
        sg_policy_problems_release(&pr);
        return cli_fail(c, &err);
    }
    int ret = rc ? sg_rc_exit_code(SG_INVALID) : 0;
    if (c->json) {
        json_t *j = json_pack("{s:s,s:b,s:o}", "file", file, "valid", rc == SG_OK, "problems",
                              problems_json(file, &pr));
        if (j && p) {
            json_object_set_new(j, "version", json_string(p->hash));
            json_object_set_new(j, "categories", json_integer((json_int_t)p->catalog.n));
            json_object_set_new(j, "purposes", json_integer((json_int_t)p->npurposes));
        }
        int r = cli_print_json(j);
        ret = r ? r : ret;
    } else if (rc) {
        print_problems(file, &pr);
        fprintf(stderr, "sargs: %s\n", err.msg);
    } else {
        printf("%s: valid (%zu categories, %zu purposes, %zu retention rules, %zu roles); "
               "version %.16s\n",
               file, p->catalog.n, p->npurposes, p->nretention, p->nroles, p->hash);
    }
    sg_policy_problems_release(&pr);
    sg_policy_free(p);
    return ret;
}

/* ------------------------------------------------------------ policy apply */

static json_t *version_json(const struct sg_policy_version *v)
{
    char t1[SG_TIME_STR_MAX], t2[SG_TIME_STR_MAX];
    return json_pack("{s:I,s:s,s:s,s:s,s:s}", "seq", (json_int_t)v->seq, "hash", v->hash,
                     "effective", cli_time(v->effective, t1), "applied", cli_time(v->applied, t2),
                     "actor", v->actor);
}

static int policy_apply(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    if (a->npos != 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs policy apply FILE [--effective TIME]");
        return cli_fail(c, &err);
    }
    sg_time eff = 0;
    const char *e = cli_opt(a, "--effective");
    if (e && sg_time_parse(e, &eff, &err)) {
        sg_err_prefix(&err, "--effective");
        err.rc = SG_USAGE;
        return cli_fail(c, &err);
    }
    struct sg_policy *p = NULL;
    int r = load_or_report(c, a->pos[0], &p);
    if (r)
        return r;
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err)) {
        sg_policy_free(p);
        return cli_fail(c, &err);
    }
    struct sg_policy_version ver;
    enum sg_rc rc = sg_vault_policy_apply(v, &c->actor, p, eff, &ver, &err);
    sg_vault_close(v);
    sg_policy_free(p);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(version_json(&ver));
    char ts[SG_TIME_STR_MAX];
    printf("policy version %lld (%.16s) recorded; in force from %s\n", (long long)ver.seq, ver.hash,
           cli_time(ver.effective, ts));
    return 0;
}

/* ------------------------------------------------------------- policy list */

struct list_ctx {
    json_t *arr;
    int json;
};

static int list_one(void *ctx, const struct sg_policy_version *ver)
{
    struct list_ctx *l = ctx;
    if (l->json) {
        json_array_append_new(l->arr, version_json(ver));
        return 0;
    }
    char t1[SG_TIME_STR_MAX], t2[SG_TIME_STR_MAX];
    printf("%lld  %.16s  effective %s  applied %s by %s\n", (long long)ver->seq, ver->hash,
           cli_time(ver->effective, t1), cli_time(ver->applied, t2), ver->actor);
    return 0;
}

static int policy_list(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    if (a->npos) {
        sg_err_set(&err, SG_USAGE, "usage: sargs policy list");
        return cli_fail(c, &err);
    }
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    struct list_ctx l = {c->json ? json_array() : NULL, c->json};
    enum sg_rc rc = sg_vault_policy_list(v, list_one, &l, &err);
    const struct sg_policy_version *cur = sg_vault_policy_version(v);
    long long cur_seq = cur ? (long long)cur->seq : 0;
    sg_vault_close(v);
    if (rc) {
        json_decref(l.arr);
        return cli_fail(c, &err);
    }
    if (c->json)
        return cli_print_json(json_pack("{s:o,s:I}", "versions", l.arr, "in_force", cur_seq));
    printf("in force now: %lld\n", cur_seq);
    return 0;
}

/* ------------------------------------------------------------- policy show */

static int policy_show(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    if (a->npos) {
        sg_err_set(&err, SG_USAGE, "usage: sargs policy show [--at TIME]");
        return cli_fail(c, &err);
    }
    struct sg_policy *p = NULL;
    sg_time eff;
    int r = policy_for(c, NULL, cli_opt(a, "--at"), &p, &eff);
    if (r)
        return r;
    if (c->json) {
        char ts[SG_TIME_STR_MAX];
        r = cli_print_json(json_pack("{s:s,s:s,s:s%}", "hash", p->hash, "effective",
                                     cli_time(eff, ts), "text", p->source, p->source_len));
    } else {
        r = fwrite(p->source, 1, p->source_len, stdout) == p->source_len ? 0 : 10;
    }
    sg_policy_free(p);
    return r;
}

int cmd_policy(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--effective=", "--at=", NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (argc < 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs policy check|apply|list|show ...");
        return cli_fail(c, &err);
    }
    const char *sub = argv[0];
    if (cli_parse(c, argc - 1, argv + 1, spec, &a, &err))
        return cli_fail(c, &err);
    if (!strcmp(sub, "check"))
        return policy_check(c, &a);
    if (!strcmp(sub, "apply"))
        return policy_apply(c, &a);
    if (!strcmp(sub, "list"))
        return policy_list(c, &a);
    if (!strcmp(sub, "show"))
        return policy_show(c, &a);
    sg_err_set(&err, SG_USAGE, "unknown policy command '%.40s' (check, apply, list, show)", sub);
    return cli_fail(c, &err);
}

/* ------------------------------------------------------------------ notice */

static int notice_diff(struct cli *c, struct cli_args *a)
{
    struct sg_err err;
    sg_err_clear(&err);
    if (a->npos != 3) {
        sg_err_set(&err, SG_USAGE, "usage: sargs notice diff OLD NEW");
        return cli_fail(c, &err);
    }
    struct sg_policy *o = NULL, *n = NULL;
    int r = load_or_report(c, a->pos[1], &o);
    if (r)
        return r;
    if ((r = load_or_report(c, a->pos[2], &n))) {
        sg_policy_free(o);
        return r;
    }
    struct sg_policy_diff d;
    enum sg_rc rc = sg_policy_diff(o, n, &d, &err);
    if (rc) {
        sg_policy_free(o);
        sg_policy_free(n);
        return cli_fail(c, &err);
    }
    size_t inform = 0;
    for (size_t i = 0; i < d.n; i++)
        inform += d.v[i].inform != 0;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < d.n; i++)
            json_array_append_new(
                arr, json_pack("{s:s,s:b}", "change", d.v[i].what, "inform", d.v[i].inform));
        r = cli_print_json(json_pack("{s:s,s:s,s:b,s:o}", "old", o->hash, "new", n->hash,
                                     "must_inform", d.inform, "changes", arr));
    } else if (d.n == 0) {
        printf("no differences: both files are version %.16s\n", o->hash);
    } else {
        printf("%s (%.16s) -> %s (%.16s)\n", a->pos[1], o->hash, a->pos[2], n->hash);
        for (size_t i = 0; i < d.n; i++)
            printf("  %-12s %s\n", d.v[i].inform ? "must inform" : "notice only", d.v[i].what);
        if (d.inform)
            printf("people must be told before the new version takes effect (%zu of %zu "
                   "changes need it)\n",
                   inform, d.n);
        else
            printf("no change needs telling people in advance; publish the updated notice\n");
    }
    sg_policy_diff_release(&d);
    sg_policy_free(o);
    sg_policy_free(n);
    return r;
}

int cmd_notice(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--lang=", "--format=", "--policy=", "--at=", NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos >= 1 && !strcmp(a.pos[0], "diff"))
        return notice_diff(c, &a);
    if (a.npos) {
        sg_err_set(&err, SG_USAGE,
                   "usage: sargs notice [--lang lv|en] [--format md|html] [--policy FILE] "
                   "[--at TIME], or sargs notice diff OLD NEW");
        return cli_fail(c, &err);
    }
    struct sg_notice_opts o;
    memset(&o, 0, sizeof o);
    if (parse_format(cli_opt(&a, "--format"), &o.format, &err) ||
        (o.format != SG_FORMAT_MARKDOWN && o.format != SG_FORMAT_HTML)) {
        sg_err_set(&err, SG_USAGE, "--format is md or html");
        return cli_fail(c, &err);
    }
    struct sg_policy *p = NULL;
    int r = policy_for(c, cli_opt(&a, "--policy"), cli_opt(&a, "--at"), &p, &o.effective);
    if (r)
        return r;
    o.lang = cli_opt(&a, "--lang");
    if (!o.lang)
        o.lang = p->nlanguages ? p->languages[0] : "lv";
    o.now = sg_clock_now(&c->clock);
    struct sg_buf out;
    sg_buf_init(&out, 16 * 1024 * 1024);
    enum sg_rc rc = sg_notice_render(p, &o, &out, &err);
    if (!rc) {
        if (c->json) {
            char ts[SG_TIME_STR_MAX];
            r = cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s%}", "lang", o.lang, "format",
                                         o.format == SG_FORMAT_HTML ? "html" : "md", "version",
                                         p->hash, "effective",
                                         cli_time(o.effective        ? o.effective
                                                  : p->has_effective ? p->effective
                                                                     : o.now,
                                                  ts),
                                         "text", out.ptr ? out.ptr : "", out.len));
        } else {
            r = write_out(&out);
        }
    }
    sg_buf_release(&out);
    sg_policy_free(p);
    return rc ? cli_fail(c, &err) : r;
}

/* -------------------------------------------------------------------- ropa */

int cmd_ropa(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--lang=", "--format=", "--policy=", "--at=", NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    enum sg_doc_format f = SG_FORMAT_JSON;
    const char *fs = cli_opt(&a, "--format");
    if (a.npos ||
        (fs && (parse_format(fs, &f, &err) || (f != SG_FORMAT_JSON && f != SG_FORMAT_CSV)))) {
        sg_err_set(&err, SG_USAGE,
                   "usage: sargs ropa [--format csv|json] [--lang L] [--policy FILE] [--at TIME]");
        return cli_fail(c, &err);
    }
    if (c->json)
        f = SG_FORMAT_JSON;
    struct sg_policy *p = NULL;
    sg_time eff;
    int r = policy_for(c, cli_opt(&a, "--policy"), cli_opt(&a, "--at"), &p, &eff);
    if (r)
        return r;
    struct sg_buf out;
    sg_buf_init(&out, 16 * 1024 * 1024);
    enum sg_rc rc = sg_ropa_render(p, f, cli_opt(&a, "--lang"), &out, &err);
    if (!rc)
        r = write_out(&out);
    sg_buf_release(&out);
    sg_policy_free(p);
    return rc ? cli_fail(c, &err) : r;
}
