/*
 * cmd_consent.c - sargs consent ..., sargs may, sargs object, sargs restrict
 * and unrestrict: the consent ledger and processing decisions.
 */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(struct cli *c, const char *msg)
{
    struct sg_err err;
    sg_err_set(&err, SG_USAGE, "usage: %s", msg);
    return cli_fail(c, &err);
}

/* A person given as an id, or as CAT=VALUE (a consent before an account). */
static enum sg_rc parse_subject(const char *s, struct sg_uuid *id, struct sg_consent_subject *out,
                                char **owned, struct sg_err *err)
{
    memset(out, 0, sizeof *out);
    *owned = NULL;
    const char *eq = strchr(s, '=');
    if (!eq) {
        if (sg_uuid_parse(s, id, err))
            return err->rc;
        out->id = id;
        return SG_OK;
    }
    if (!(*owned = strdup(s)))
        return sg_err_set(err, SG_NOMEM, "out of memory");
    (*owned)[eq - s] = '\0';
    out->category = *owned;
    out->value = *owned + (eq - s) + 1;
    return SG_OK;
}

static const char *const by_words[] = {"the person", "a guardian", "an agent"};

static int print_event(void *ctx, const struct sg_consent_event *e)
{
    json_t *arr = ctx;
    char at[SG_TIME_STR_MAX], ex[SG_TIME_STR_MAX], g[SG_UUID_STR_LEN + 1];
    if (arr) {
        json_t *j =
            json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "seq", (json_int_t)e->seq,
                      "purpose", e->purpose, "state", sg_consent_state_name(e->state), "at",
                      cli_time(e->at, at), "method", sg_consent_method_name(e->method), "language",
                      e->lang, "notice", e->notice, "by",
                      e->by == SG_BY_GUARDIAN ? "guardian"
                      : e->by == SG_BY_AGENT  ? "agent"
                                              : "person",
                      "child", e->child, "actor", e->actor);
        if (j) {
            json_object_set_new(j, "expires",
                                e->expires ? json_string(cli_time(e->expires, ex)) : json_null());
            json_object_set_new(j, "guardian",
                                e->has_guardian ? json_string(sg_uuid_format(&e->guardian, g))
                                                : json_null());
            json_object_set_new(j, "agent", e->agent ? json_string(e->agent) : json_null());
            json_object_set_new(j, "evidence",
                                e->evidence ? json_string(e->evidence) : json_null());
        }
        json_array_append_new(arr, j);
        return 0;
    }
    printf("%4lld  %s  %-20s %-9s by %s via %s (%s)%s%s%s%s\n", (long long)e->seq,
           cli_time(e->at, at), e->purpose, sg_consent_state_name(e->state),
           by_words[e->by <= SG_BY_AGENT ? e->by : 0], sg_consent_method_name(e->method), e->lang,
           e->expires ? ", until " : "", e->expires ? cli_time(e->expires, ex) : "",
           e->evidence ? ", evidence " : "", e->evidence ? e->evidence : "");
    return 0;
}

static int consent_record(struct cli *c, enum sg_consent_state state, const char *verb, int argc,
                          char **argv)
{
    static const char *const spec[] = {
        "--method=", "--evidence=", "--guardian=", "--agent=", "--lang=", "--birth-date=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id, guardian;
    struct sg_consent_subject subj;
    char *owned = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 2 || !cli_opt(&a, "--method")) {
        char u[200];
        snprintf(u, sizeof u,
                 "sargs consent %s ID|CAT=VALUE PURPOSE --method M [--evidence REF] [--guardian "
                 "ID | --agent NAME] [--lang L] [--birth-date YYYY-MM-DD]",
                 verb);
        return usage(c, u);
    }
    struct sg_consent_in in;
    memset(&in, 0, sizeof in);
    in.method = sg_consent_method_parse(cli_opt(&a, "--method"));
    if (!in.method) {
        sg_err_set(&err, SG_INVALID,
                   "--method is one of web_form, paper, email, phone, in_person, api");
        return cli_fail(c, &err);
    }
    in.evidence = cli_opt(&a, "--evidence");
    in.agent = cli_opt(&a, "--agent");
    in.lang = cli_opt(&a, "--lang");
    in.birth_date = cli_opt(&a, "--birth-date");
    if (cli_opt(&a, "--guardian")) {
        if (sg_uuid_parse(cli_opt(&a, "--guardian"), &guardian, &err)) {
            sg_err_prefix(&err, "--guardian");
            return cli_fail(c, &err);
        }
        in.guardian = &guardian;
    }
    if (parse_subject(a.pos[0], &id, &subj, &owned, &err) || cli_open(c, &v, &err) ||
        sg_consent_record(v, &c->actor, &subj, a.pos[1], state, &in, &err)) {
        free(owned);
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    free(owned);
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(json_pack("{s:s,s:s,s:s}", "subject", a.pos[0], "purpose", a.pos[1],
                                        "recorded", sg_consent_state_name(state)));
    printf("consent to %s %s\n", a.pos[1],
           state == SG_CONSENT_GIVEN       ? "given"
           : state == SG_CONSENT_REFUSED   ? "refused"
           : state == SG_CONSENT_WITHDRAWN ? "withdrawn: effective for the next decision"
                                           : "requested");
    return 0;
}

/* list, export, receipt: reads of one person's ledger. */
static int consent_read(struct cli *c, const char *what, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    int receipt = strcmp(what, "receipt") == 0;
    if (a.npos != 1 + receipt)
        return usage(c, receipt ? "sargs consent receipt ID SEQ" : "sargs consent list|export ID");
    int64_t seq = 0;
    if (receipt) {
        char *end = NULL;
        long long n = strtoll(a.pos[1], &end, 10);
        if (!*a.pos[1] || *end || n <= 0) {
            sg_err_set(&err, SG_USAGE, "SEQ is an event number from 'consent list'");
            return cli_fail(c, &err);
        }
        seq = n;
    }
    if (sg_uuid_parse(a.pos[0], &id, &err) || cli_open(c, &v, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    enum sg_rc rc;
    char *text = NULL;
    json_t *arr = NULL;
    if (!strcmp(what, "list")) {
        arr = c->json ? json_array() : NULL;
        rc = sg_consent_list(v, &c->actor, &id, print_event, arr, &err);
    } else if (receipt) {
        rc = sg_consent_receipt(v, &c->actor, &id, seq, &text, &err);
    } else {
        rc = sg_consent_export(v, &c->actor, &id, &text, &err);
    }
    sg_vault_close(v);
    if (rc) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    if (arr)
        return cli_print_json(arr);
    if (text) {
        int ret = 0;
        if (receipt && c->json)
            ret = cli_print_json(json_pack("{s:s}", "receipt", text));
        else
            printf("%s\n", text);
        free(text);
        return ret;
    }
    return 0;
}

static int consent_key(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    char key[256];
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos)
        return usage(c, "sargs consent key");
    if (cli_open(c, &v, &err) || sg_consent_receipt_key(v, key, sizeof key, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(json_pack("{s:s}", "verifier_key", key));
    printf("%s\n", key);
    return 0;
}

static int check_receipt(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--key=", NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (!cli_opt(&a, "--key") || a.npos > 1)
        return usage(c, "sargs consent check-receipt --key VERIFIER_KEY [FILE]");
    FILE *f = a.npos == 1 && strcmp(a.pos[0], "-") != 0 ? fopen(a.pos[0], "r") : stdin;
    if (!f) {
        sg_err_set(&err, SG_NOTFOUND, "cannot open '%s'", a.pos[0]);
        return cli_fail(c, &err);
    }
    static char text[256 * 1024 + 2];
    size_t len = fread(text, 1, sizeof text - 1, f);
    if (f != stdin)
        fclose(f);
    text[len] = '\0';
    char *claims = NULL;
    enum sg_rc rc = sg_consent_receipt_verify(text, cli_opt(&a, "--key"), &claims, &err);
    if (rc)
        return cli_fail(c, &err);
    json_error_t je;
    json_t *j = json_loads(claims, 0, &je);
    free(claims);
    if (c->json)
        return cli_print_json(json_pack("{s:b,s:o*}", "valid", 1, "claims", j));
    printf("valid receipt %s\n", json_string_value(json_object_get(j, "consentReceiptID")));
    json_decref(j);
    return 0;
}

int cmd_consent(struct cli *c, int argc, char **argv)
{
    const char *sub = argc ? argv[0] : "";
    if (!strcmp(sub, "give"))
        return consent_record(c, SG_CONSENT_GIVEN, sub, argc - 1, argv + 1);
    if (!strcmp(sub, "refuse"))
        return consent_record(c, SG_CONSENT_REFUSED, sub, argc - 1, argv + 1);
    if (!strcmp(sub, "withdraw"))
        return consent_record(c, SG_CONSENT_WITHDRAWN, sub, argc - 1, argv + 1);
    if (!strcmp(sub, "request"))
        return consent_record(c, SG_CONSENT_REQUESTED, sub, argc - 1, argv + 1);
    if (!strcmp(sub, "list") || !strcmp(sub, "export") || !strcmp(sub, "receipt"))
        return consent_read(c, sub, argc - 1, argv + 1);
    if (!strcmp(sub, "key"))
        return consent_key(c, argc - 1, argv + 1);
    if (!strcmp(sub, "check-receipt"))
        return check_receipt(c, argc - 1, argv + 1);
    return usage(c, "sargs consent give|refuse|withdraw|request|list|export|receipt|key|"
                    "check-receipt ... (see --help)");
}

/* One answer of `may --stdin`: a line of text or of JSON. */
static void print_answer(struct cli *c, const char *subject, const char *purpose,
                         const struct sg_decision *d, const struct sg_err *err)
{
    if (c->json) {
        json_t *j = d ? sg_json_decision(d, subject, purpose)
                      : json_pack("{s:s,s:s,s:{s:s,s:s}}", "subject", subject, "purpose", purpose,
                                  "error", "code", sg_rc_name(err->rc), "message", err->msg);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
        return;
    }
    if (d)
        printf("%s %s %s %s\n", subject, purpose, d->allowed ? "allowed" : "denied",
               sg_may_reason_name(d->reason));
    else
        printf("%s %s error %s\n", subject, purpose, sg_rc_name(err->rc));
}

/* Standard input, a line at a time, read with read(2): before it would
 * wait for more input, the answers so far are flushed and the kept snapshot
 * of bulk decisions is dropped, so a command left waiting (at a terminal,
 * behind a slow pipe) has answered all it was asked and holds nothing. */
struct lines {
    char buf[4096];
    size_t start, end;
    int eof, skipping;
};

/* The next line (its newline removed), or NULL at the end. A line longer
 * than the buffer is skipped whole and returned as "" with *too_long set. */
static char *next_line(struct lines *l, struct sg_vault *v, int *too_long)
{
    *too_long = 0;
    for (;;) {
        char *nl = memchr(l->buf + l->start, '\n', l->end - l->start);
        if (nl) {
            char *line = l->buf + l->start;
            *nl = '\0';
            l->start = (size_t)(nl - l->buf) + 1;
            if (l->skipping) {
                l->skipping = 0;
                *too_long = 1;
                return line + strlen(line); /* "" */
            }
            return line;
        }
        if (l->eof) {
            if (l->start == l->end && !l->skipping)
                return NULL;
            /* the last line, without a newline */
            l->buf[l->end] = '\0';
            char *line = l->buf + l->start;
            l->start = l->end;
            *too_long = l->skipping;
            l->skipping = 0;
            return *too_long ? line + strlen(line) : line;
        }
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
        if (l->end == sizeof l->buf - 1) { /* a line longer than the buffer */
            l->skipping = 1;
            l->end = 0;
        }
        struct pollfd pf = {0, POLLIN, 0};
        if (poll(&pf, 1, 0) == 0) {
            /* About to wait: the answers so far go out, the snapshot goes. */
            fflush(stdout);
            sg_may_bulk(v, 1);
        }
        ssize_t n = read(0, l->buf + l->end, sizeof l->buf - 1 - l->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            l->eof = 1;
        else
            l->end += (size_t)n;
    }
}

/* sargs may --stdin [--gpc]: a question per line ("ID PURPOSE"), an answer
 * per line, in bulk mode. Exit 0 when every line was a question (an unknown
 * person or purpose is an answer), 4 when a line was not, 5 when the role
 * may not ask (then nothing is read). */
static int may_lines(struct cli *c, unsigned flags)
{
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_open(c, &v, &err) || sg_may_ask(v, &c->actor, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    struct lines *in = calloc(1, sizeof *in);
    if (!in) {
        sg_vault_close(v);
        sg_err_set(&err, SG_NOMEM, "out of memory");
        return cli_fail(c, &err);
    }
    sg_may_bulk(v, 1);
    size_t n = 0;
    int bad = 0, too_long;
    char *line;
    while ((line = next_line(in, v, &too_long))) {
        n++;
        char subject[64], purpose[80], extra[2];
        int got = too_long ? 0 : sscanf(line, "%63s %79s %1s", subject, purpose, extra);
        if (got == EOF)
            continue; /* a blank line */
        if (got != 2) {
            fprintf(stderr, "sargs: line %zu is not 'ID PURPOSE'\n", n);
            bad = 1;
            continue;
        }
        struct sg_uuid id;
        struct sg_decision d;
        if (!sg_uuid_parse(subject, &id, &err) &&
            !sg_may(v, &c->actor, &id, purpose, flags, &d, &err)) {
            print_answer(c, subject, purpose, &d, NULL);
            continue;
        }
        print_answer(c, subject, purpose, NULL, &err);
    }
    free(in);
    sg_may_bulk(v, 0);
    sg_vault_close(v);
    return bad ? sg_rc_exit_code(SG_INVALID) : 0;
}

/* sargs may ID PURPOSE [--gpc]: exit 0 allowed, 5 denied. */
int cmd_may(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--gpc", "--stdin", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    struct sg_decision d;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (cli_flag(&a, "--stdin") && a.npos == 0)
        return may_lines(c, cli_flag(&a, "--gpc") ? SG_MAY_GPC_SIGNAL : 0);
    if (a.npos != 2 || cli_flag(&a, "--stdin"))
        return usage(c, "sargs may ID PURPOSE [--gpc] | sargs may --stdin [--gpc]");
    if (sg_uuid_parse(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_may(v, &c->actor, &id, a.pos[1], cli_flag(&a, "--gpc") ? SG_MAY_GPC_SIGNAL : 0, &d,
               &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    int code = d.allowed ? 0 : sg_rc_exit_code(SG_DENIED);
    if (c->json) {
        json_t *j = sg_json_decision(&d, a.pos[0], a.pos[1]);
        cli_print_json(j);
        return code;
    }
    printf("%s: %s (basis %s)\n", d.allowed ? "allowed" : "denied", sg_may_reason_name(d.reason),
           sg_basis_name(d.basis));
    return code;
}

int cmd_object(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--grounds=", "--lift", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 2)
        return usage(c, "sargs object ID PURPOSE [--grounds TEXT | --lift]");
    const char *grounds = cli_opt(&a, "--grounds");
    int lift = cli_flag(&a, "--lift");
    if (sg_uuid_parse(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_object(v, &c->actor, &id, a.pos[1], grounds, lift, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    const char *what = lift ? "lifted" : grounds ? "overridden by compelling grounds" : "recorded";
    if (c->json)
        return cli_print_json(json_pack("{s:s,s:s,s:s}", "subject", a.pos[0], "purpose", a.pos[1],
                                        "objection",
                                        lift      ? "lifted"
                                        : grounds ? "overridden"
                                                  : "recorded"));
    printf("objection to %s %s\n", a.pos[1], what);
    return 0;
}

int cmd_restrict(struct cli *c, int argc, char **argv, int lift)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1)
        return usage(c, lift ? "sargs unrestrict ID" : "sargs restrict ID");
    if (sg_uuid_parse(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_restrict(v, &c->actor, &id, lift, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(
            json_pack("{s:s,s:s}", "id", a.pos[0], "state", lift ? "active" : "restricted"));
    printf("%s %s\n", a.pos[0],
           lift ? "is no longer restricted" : "is restricted: kept, and used only with consent");
    return 0;
}
