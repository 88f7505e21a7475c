/*
 * cmd_request.c - sargs request new|list|show|verify|pause|resume|extend|
 * fulfil|refuse|withdraw: data-subject requests, on time, with evidence.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(struct cli *c, const char *msg)
{
    struct sg_err err;
    sg_err_set(&err, SG_USAGE, "usage: %s", msg);
    return cli_fail(c, &err);
}

static json_t *request_json(const struct sg_request_info *r)
{
    char ids[SG_UUID_STR_LEN + 1], sub[SG_UUID_STR_LEN + 1], t[SG_TIME_STR_MAX], d1[11], d2[11],
        d3[11];
    sg_day_format(r->due, d1);
    sg_day_format(r->received_day, d3);
    if (r->extended_due)
        sg_day_format(r->extended_due, d2);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s?,s:I,s:b,s:b,s:s?,s:i}", "id",
                          sg_uuid_format(&r->id, ids), "kind", sg_request_kind_name(r->kind),
                          "state", sg_request_state_name(r->state), "channel", r->channel,
                          "subject", r->has_subject ? sg_uuid_format(&r->subject, sub) : NULL,
                          "received", sg_time_format(r->received, t), "received_day", d3, "due", d1,
                          "extended_due", r->extended_due ? d2 : NULL, "paused_days",
                          (json_int_t)r->paused_days, "paused", r->paused, "overdue", r->overdue,
                          "identity", r->identity[0] ? r->identity : NULL, "copies", r->copies);
    if (j && r->has_identical) {
        char idn[SG_UUID_STR_LEN + 1];
        json_object_set_new(j, "identical_to", json_string(sg_uuid_format(&r->identical, idn)));
    }
    return j;
}

static void request_text(const struct sg_request_info *r)
{
    char ids[SG_UUID_STR_LEN + 1], d1[11], d2[11];
    sg_day_format(r->extended ? r->extended_due : r->due, d1);
    sg_day_format(r->received_day, d2);
    printf("%s  %-13s %-22s received %s  due %s%s%s%s\n", sg_uuid_format(&r->id, ids),
           sg_request_kind_name(r->kind), sg_request_state_name(r->state), d2, d1,
           r->extended ? " (extended)" : "", r->paused ? " (paused)" : "",
           r->overdue ? "  OVERDUE" : "");
}

static int print_row(void *ctx, const struct sg_request_info *r)
{
    json_t *arr = ctx;
    if (arr)
        json_array_append_new(arr, request_json(r));
    else
        request_text(r);
    return 0;
}

static int print_event(void *ctx, const struct sg_request_event *e)
{
    json_t *arr = ctx;
    char t[SG_TIME_STR_MAX];
    if (arr)
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:s,s:s,s:s?}", "at", sg_time_format(e->at, t),
                                        "verb", e->verb, "state", sg_request_state_name(e->state),
                                        "actor", e->actor, "reason", e->reason));
    else
        printf("  %s  %-20s %-22s by %s%s%s\n", sg_time_format(e->at, t), e->verb,
               sg_request_state_name(e->state), e->actor, e->reason ? ": " : "",
               e->reason ? e->reason : "");
    return 0;
}

/* Writes an answer's files into `dir` (created 0700; files 0600, never
 * overwritten). */
static enum sg_rc write_files(const char *dir, const struct sg_fulfil_out *o, struct sg_err *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return sg_err_set(err, SG_IO, "cannot make '%s': %s", dir, strerror(errno));
    for (size_t i = 0; i < o->nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, o->files[i].name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return sg_err_set(err, SG_IO, "cannot write '%s': %s", path, strerror(errno));
        ssize_t w = write(fd, o->files[i].data, o->files[i].len);
        if (w != (ssize_t)o->files[i].len || fsync(fd) != 0) {
            close(fd);
            return sg_err_set(err, SG_IO, "cannot write '%s'", path);
        }
        close(fd);
    }
    return SG_OK;
}

int cmd_request(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {
        "--kind=",       "--channel=", "--subject=", "--received=", "--agent=",  "--overdue",
        "--due-within=", "--all",      "--method=",  "--reason=",   "--ground=", "--field=",
        "--proof=",      "--purpose=", "--outcome=", "--out=",      "--limit=",  NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    const char *sub = a.npos ? a.pos[0] : "";
    struct sg_uuid id, subject;
    const char *subj = cli_opt(&a, "--subject");
    if (subj && sg_uuid_parse(subj, &subject, &err)) {
        sg_err_prefix(&err, "--subject");
        return cli_fail(c, &err);
    }
    enum sg_rc rc;
    if (!strcmp(sub, "new")) {
        if (a.npos != 1 || !cli_opt(&a, "--kind") || !cli_opt(&a, "--channel"))
            return usage(c, "sargs request new --kind K --channel C [--subject ID] "
                            "[--received TIME] [--agent AUTHORISATION]");
        int kind = sg_request_kind_parse(cli_opt(&a, "--kind"));
        sg_time received = 0;
        if (!kind) {
            sg_err_set(&err, SG_INVALID,
                       "--kind is access, rectification, erasure, restriction, portability, "
                       "objection, review or withdrawal");
            return cli_fail(c, &err);
        }
        if (cli_opt(&a, "--received") && sg_time_parse(cli_opt(&a, "--received"), &received, &err))
            return cli_fail(c, &err);
        struct sg_request_info r;
        if (cli_open(c, &v, &err) ||
            sg_request_new(v, &c->actor, kind, cli_opt(&a, "--channel"), subj ? &subject : NULL,
                           received, cli_opt(&a, "--agent"), &r, &err)) {
            sg_vault_close(v);
            return cli_fail(c, &err);
        }
        sg_vault_close(v);
        if (c->json)
            return cli_print_json(request_json(&r));
        request_text(&r);
        return 0;
    }
    if (!strcmp(sub, "list")) {
        struct sg_request_query q;
        memset(&q, 0, sizeof q);
        q.overdue = cli_flag(&a, "--overdue");
        q.all = cli_flag(&a, "--all");
        q.subject = subj ? &subject : NULL;
        const char *dw = cli_opt(&a, "--due-within");
        if (dw) {
            char *end = NULL;
            long n = strtol(dw, &end, 10);
            if (!*dw || n < 0 || n > 3650 || (*end && strcmp(end, "d") != 0))
                return usage(c, "--due-within is a number of days (7 or 7d)");
            q.due_within = (int)n;
        }
        json_t *arr = c->json ? json_array() : NULL;
        if (cli_open(c, &v, &err) || sg_request_list(v, &c->actor, &q, print_row, arr, &err)) {
            json_decref(arr);
            sg_vault_close(v);
            return cli_fail(c, &err);
        }
        sg_vault_close(v);
        return arr ? cli_print_json(arr) : 0;
    }
    if (a.npos != 2)
        return usage(c, "sargs request new|list|show|verify|pause|resume|extend|fulfil|refuse|"
                        "withdraw ... (see --help)");
    if (sg_uuid_parse(a.pos[1], &id, &err))
        return cli_fail(c, &err);
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    const char *reason = cli_opt(&a, "--reason");
    if (!strcmp(sub, "show")) {
        struct sg_request_info r;
        json_t *ev = c->json ? json_array() : NULL;
        if (!c->json) {
            rc = sg_request_get(v, &c->actor, &id, &r, NULL, NULL, &err);
            if (!rc) {
                request_text(&r);
                if (r.has_identical) {
                    char idn[SG_UUID_STR_LEN + 1];
                    printf("  an identical request was answered: %s (a refusal ground)\n",
                           sg_uuid_format(&r.identical, idn));
                }
                rc = sg_request_get(v, &c->actor, &id, &r, print_event, NULL, &err);
            }
        } else {
            rc = sg_request_get(v, &c->actor, &id, &r, print_event, ev, &err);
        }
        sg_vault_close(v);
        if (rc) {
            json_decref(ev);
            return cli_fail(c, &err);
        }
        if (ev) {
            json_t *j = request_json(&r);
            json_object_set_new(j, "events", ev);
            return cli_print_json(j);
        }
        return 0;
    }
    if (!strcmp(sub, "verify"))
        rc = sg_request_verify(v, &c->actor, &id, cli_opt(&a, "--method"), subj ? &subject : NULL,
                               &err);
    else if (!strcmp(sub, "pause"))
        rc = sg_request_pause(v, &c->actor, &id, reason, &err);
    else if (!strcmp(sub, "resume"))
        rc = sg_request_resume(v, &c->actor, &id, &err);
    else if (!strcmp(sub, "extend"))
        rc = sg_request_extend(v, &c->actor, &id, reason, &err);
    else if (!strcmp(sub, "refuse"))
        rc = sg_request_refuse(v, &c->actor, &id, cli_opt(&a, "--ground"), reason, &err);
    else if (!strcmp(sub, "withdraw"))
        rc = sg_request_withdraw(v, &c->actor, &id, &err);
    else if (!strcmp(sub, "fulfil")) {
        /* --field CAT=VALUE, repeated (rectification) */
        struct sg_field_in f[64];
        size_t nf = 0;
        for (int i = 0; i < a.nopt && nf < 64; i++) {
            if (strcmp(a.opt[i].name, "--field=") != 0)
                continue;
            const char *eq = strchr(a.opt[i].val, '=');
            if (!eq) {
                sg_vault_close(v);
                return usage(c, "--field CAT=VALUE");
            }
            f[nf].category = strndup(a.opt[i].val, (size_t)(eq - a.opt[i].val));
            f[nf].value = eq + 1;
            f[nf].len = strlen(eq + 1);
            nf++;
        }
        struct sg_fulfil_in in = {f,
                                  nf,
                                  cli_opt(&a, "--proof"),
                                  cli_opt(&a, "--ground"),
                                  cli_opt(&a, "--purpose"),
                                  cli_opt(&a, "--outcome")};
        struct sg_fulfil_out out;
        rc = sg_request_fulfil(v, &c->actor, &id, &in, &out, &err);
        for (size_t i = 0; i < nf; i++)
            free((char *)f[i].category);
        if (!rc && out.nfiles) {
            const char *dir = cli_opt(&a, "--out") ? cli_opt(&a, "--out") : a.pos[1];
            rc = write_files(dir, &out, &err);
            if (!rc && !c->json)
                printf("the answer is in %s/ (%zu files)\n", dir, out.nfiles);
        }
        sg_vault_close(v);
        if (rc) {
            sg_fulfil_out_release(&out);
            return cli_fail(c, &err);
        }
        int ret = 0;
        if (c->json)
            ret = cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", a.pos[1], "state",
                                           sg_request_state_name(out.state), "held", out.held,
                                           "art19_recipients", out.recipients, "art19_told",
                                           out.notified, "fee_cents", (json_int_t)out.fee_cents));
        else {
            printf("%s %s\n", a.pos[1], sg_request_state_name(out.state));
            if (out.held[0])
                printf("  held: %s\n", out.held);
            if (out.recipients[0])
                printf("  recipients (Art. 19): %s\n", out.recipients);
            if (out.notified[0])
                printf("  notices queued to: %s\n", out.notified);
            if (out.fee_cents)
                printf("  a further copy: fee %lld.%02lld\n", (long long)out.fee_cents / 100,
                       (long long)out.fee_cents % 100);
        }
        sg_fulfil_out_release(&out);
        return ret;
    } else {
        sg_vault_close(v);
        return usage(c, "sargs request new|list|show|verify|pause|resume|extend|fulfil|refuse|"
                        "withdraw ... (see --help)");
    }
    if (rc) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    struct sg_request_info r;
    rc = sg_request_get(v, &c->actor, &id, &r, NULL, NULL, &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(request_json(&r));
    request_text(&r);
    return 0;
}
