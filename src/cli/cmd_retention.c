/*
 * cmd_retention.c - sargs sweep, sargs outbox list|deliver, sargs event
 * record, sargs statistics: retention acting by itself, and messages that
 * are never lost.
 */
#include "cli.h"

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

static const char *action_name(enum sg_action a)
{
    return a ? sg_action_name(a) : "skipped";
}

struct sweep_out {
    struct cli *c;
    json_t *arr;
    int tty, verbose;
    size_t shown;
    /* skips counted per rule and reason, printed once at the end */
    struct {
        char rule[64], why[96];
        size_t n;
    } skips[64];
    size_t nskips;
};

static int print_action(void *ctx, const struct sg_sweep_action *a)
{
    struct sweep_out *o = ctx;
    char ids[SG_UUID_STR_LEN + 1], t[SG_TIME_STR_MAX];
    sg_uuid_format(&a->subject, ids);
    if (o->arr) {
        json_t *j = json_pack("{s:s,s:s,s:s}", "subject", ids, "rule", a->rule, "action",
                              action_name(a->action));
        if (j && a->due)
            json_object_set_new(j, "due", json_string(cli_time(a->due, t)));
        if (j && a->skipped)
            json_object_set_new(j, "reason", json_string(a->skipped));
        json_array_append_new(o->arr, j);
        return 0;
    }
    if (a->skipped && !o->verbose) {
        size_t i = 0;
        while (i < o->nskips &&
               (strcmp(o->skips[i].rule, a->rule) != 0 || strcmp(o->skips[i].why, a->skipped) != 0))
            i++;
        if (i == o->nskips && o->nskips < 64) {
            snprintf(o->skips[i].rule, sizeof o->skips[i].rule, "%s", a->rule);
            snprintf(o->skips[i].why, sizeof o->skips[i].why, "%s", a->skipped);
            o->nskips++;
        }
        if (i < o->nskips)
            o->skips[i].n++;
        return 0;
    }
    if (o->tty)
        fputs("\r\033[K", stderr);
    if (a->skipped)
        printf("%s  %-24s skipped: %s\n", ids, a->rule, a->skipped);
    else
        printf("%s  %-24s %-10s due %s\n", ids, a->rule, action_name(a->action),
               cli_time(a->due, t));
    o->shown++;
    return 0;
}

static void print_progress(void *ctx, size_t n)
{
    struct sweep_out *o = ctx;
    if (o->tty && !o->arr)
        fprintf(stderr, "\r\033[Ksweeping: %zu people evaluated", n);
}

static int cmd_sweep(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--dry-run", "--verbose", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos)
        return usage(c, "sargs sweep [--dry-run] [--verbose]");
    int dry = cli_flag(&a, "--dry-run");
    struct sweep_out o;
    memset(&o, 0, sizeof o);
    o.c = c;
    o.arr = c->json ? json_array() : NULL;
    o.tty = isatty(STDERR_FILENO);
    o.verbose = cli_flag(&a, "--verbose") || c->json;
    struct sg_sweep_report r;
    if (cli_open(c, &v, &err) || sg_sweep(v, &c->actor, dry ? SG_SWEEP_DRY_RUN : 0, print_action,
                                          print_progress, &o, &r, &err)) {
        if (o.tty && !o.arr)
            fputs("\n", stderr);
        json_decref(o.arr);
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (o.tty && !o.arr)
        fputs("\r\033[K", stderr);
    if (o.arr)
        return cli_print_json(json_pack(
            "{s:b,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I},s:f,s:o}", "dry_run", dry,
            "evaluated", (json_int_t)r.evaluated, "acted", (json_int_t)r.acted, "actions",
            "deleted", (json_int_t)r.deleted, "fields_deleted", (json_int_t)r.fields_deleted,
            "anonymised", (json_int_t)r.anonymised, "hidden", (json_int_t)r.hidden, "restricted",
            (json_int_t)r.restricted, "notified", (json_int_t)r.notified, "skipped", "no_anchor",
            (json_int_t)r.skipped_no_anchor, "no_address", (json_int_t)r.skipped_no_address,
            "seconds", r.seconds, "items", o.arr));
    for (size_t i = 0; i < o.nskips; i++)
        printf("skipped %zu %s for rule %s: %s\n", o.skips[i].n,
               o.skips[i].n == 1 ? "person" : "people", o.skips[i].rule, o.skips[i].why);
    printf("%s%zu people evaluated in %.2f s; %zu %s: %zu deleted, %zu values deleted, "
           "%zu anonymised, %zu hidden, %zu restricted, %zu notified; skipped: %zu without the "
           "rule's event, %zu without an address\n",
           dry ? "dry run: " : "", r.evaluated, r.seconds, r.acted,
           dry ? "would be acted on" : "acted on", r.deleted, r.fields_deleted, r.anonymised,
           r.hidden, r.restricted, r.notified, r.skipped_no_anchor, r.skipped_no_address);
    return 0;
}

static int print_message(void *ctx, const struct sg_message_info *m)
{
    json_t *arr = ctx;
    char ids[SG_UUID_STR_LEN + 1], sub[SG_UUID_STR_LEN + 1], t1[SG_TIME_STR_MAX],
        t2[SG_TIME_STR_MAX];
    sg_uuid_format(&m->id, ids);
    if (m->has_subject)
        sg_uuid_format(&m->subject, sub);
    if (arr) {
        json_t *j = json_pack("{s:s,s:s?,s:s,s:s,s:s,s:i}", "id", ids, "subject",
                              m->has_subject ? sub : NULL, "kind", m->kind, "state",
                              sg_message_state_name(m->state), "created", cli_time(m->created, t1),
                              "attempts", m->attempts);
        if (j) {
            json_object_set_new(j, "sent",
                                m->sent ? json_string(cli_time(m->sent, t2)) : json_null());
            json_object_set_new(j, "next_attempt",
                                m->state == SG_MSG_QUEUED
                                    ? json_string(cli_time(m->next_attempt, t2))
                                    : json_null());
            json_object_set_new(j, "error", m->error ? json_string(m->error) : json_null());
        }
        json_array_append_new(arr, j);
        return 0;
    }
    printf("%s  %-8s %-22s attempts %d%s%s\n", ids, sg_message_state_name(m->state), m->kind,
           m->attempts, m->error ? "  last error: " : "", m->error ? m->error : "");
    return 0;
}

static int cmd_outbox(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--state=", "--transport=", "--from=", "--max=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    const char *sub = a.npos == 1 ? a.pos[0] : "";
    if (!strcmp(sub, "list")) {
        int state = -1;
        if (cli_opt(&a, "--state") && (state = sg_message_state_parse(cli_opt(&a, "--state"))) < 0)
            return usage(c, "--state is queued, sent, failed or dropped");
        json_t *arr = c->json ? json_array() : NULL;
        if (cli_open(c, &v, &err) ||
            sg_outbox_list(v, &c->actor, state, print_message, arr, &err)) {
            json_decref(arr);
            sg_vault_close(v);
            return cli_fail(c, &err);
        }
        sg_vault_close(v);
        return arr ? cli_print_json(arr) : 0;
    }
    if (strcmp(sub, "deliver") != 0)
        return usage(c, "sargs outbox list [--state S] | deliver [--transport URI] [--from ADDR] "
                        "[--max N]");
    const char *uri =
        cli_opt(&a, "--transport") ? cli_opt(&a, "--transport") : getenv("SARGS_TRANSPORT");
    const char *ms = cli_opt(&a, "--max");
    long max = ms ? strtol(ms, NULL, 10) : 100;
    if (max < 1 || max > 10000)
        return usage(c, "--max is from 1 to 10000");
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    /* The sender: --from, SARGS_MAIL_FROM, or where the policy takes requests. */
    const char *from = cli_opt(&a, "--from") ? cli_opt(&a, "--from") : getenv("SARGS_MAIL_FROM");
    const struct sg_policy *p = sg_vault_policy(v);
    if (!from && p)
        from = p->requests.contact.email;
    struct sg_transport *t = NULL;
    struct sg_deliver_report r;
    if (sg_transport_open(uri, from, &t, &err) ||
        sg_outbox_deliver(v, &c->actor, t, (size_t)max, &r, &err)) {
        sg_transport_close(t);
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_transport_close(t);
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(json_pack("{s:I,s:I,s:I,s:I}", "sent", (json_int_t)r.sent, "retried",
                                        (json_int_t)r.retried, "failed", (json_int_t)r.failed,
                                        "dropped", (json_int_t)r.dropped));
    printf("%zu sent, %zu to retry, %zu given up, %zu dropped (person gone)\n", r.sent, r.retried,
           r.failed, r.dropped);
    return 0;
}

static int cmd_event(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--at=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 2 || strcmp(a.pos[0], "record") != 0)
        return usage(c, "sargs event record NAME [--at TIME]");
    sg_time at;
    if (cli_opt(&a, "--at")) {
        if (sg_time_parse(cli_opt(&a, "--at"), &at, &err))
            return cli_fail(c, &err);
    }
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    if (!cli_opt(&a, "--at"))
        at = sg_clock_now(&c->clock);
    enum sg_rc rc = sg_global_event(v, &c->actor, a.pos[1], at, &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    char t[SG_TIME_STR_MAX];
    if (c->json)
        return cli_print_json(json_pack("{s:s,s:s}", "event", a.pos[1], "at", cli_time(at, t)));
    printf("event %s recorded at %s\n", a.pos[1], cli_time(at, t));
    return 0;
}

static int print_stat(void *ctx, const char *cat, const char *val, int year, uint64_t count)
{
    json_t *arr = ctx;
    if (arr)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:I}", "category", cat, "value", val,
                                             "year", year, "count", (json_int_t)count));
    else
        printf("%-40s %-24s %d  %llu\n", cat, val, year, (unsigned long long)count);
    return 0;
}

static int cmd_statistics(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos)
        return usage(c, "sargs statistics");
    json_t *arr = c->json ? json_array() : NULL;
    if (cli_open(c, &v, &err) || sg_statistics(v, &c->actor, print_stat, arr, &err)) {
        json_decref(arr);
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    return arr ? cli_print_json(arr) : 0;
}

int cmd_retention(struct cli *c, const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "sweep"))
        return cmd_sweep(c, argc, argv);
    if (!strcmp(cmd, "outbox"))
        return cmd_outbox(c, argc, argv);
    if (!strcmp(cmd, "event"))
        return cmd_event(c, argc, argv);
    return cmd_statistics(c, argc, argv);
}
