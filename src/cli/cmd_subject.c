/*
 * cmd_subject.c - sargs subject add|show|find|update|touch|list|erase.
 */
#include "cli.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STDIN_MAX (1024 * 1024)

struct fields {
    struct sg_field_in f[CLI_MAX_ARGS];
    size_t n;
    char *stdin_text; /* owns the values read from stdin */
};

static void fields_release(struct fields *fs)
{
    if (fs->stdin_text) {
        sodium_memzero(fs->stdin_text, strlen(fs->stdin_text));
        free(fs->stdin_text);
    }
}

static enum sg_rc add_pair(struct fields *fs, char *pair, struct sg_err *err)
{
    char *eq = strchr(pair, '=');
    if (!eq || eq == pair)
        return sg_err_set(err, SG_USAGE, "expected CATEGORY=VALUE");
    if (fs->n == CLI_MAX_ARGS)
        return sg_err_set(err, SG_USAGE, "too many fields");
    *eq = '\0';
    fs->f[fs->n].category = pair;
    fs->f[fs->n].value = eq + 1;
    fs->f[fs->n].len = strlen(eq + 1);
    fs->n++;
    return SG_OK;
}

/* Collects --field CAT=VALUE options and, with --stdin, CAT=VALUE lines (so
 * that values stay out of the process list and the shell history). */
static enum sg_rc collect_fields(struct cli_args *a, struct fields *fs, struct sg_err *err)
{
    memset(fs, 0, sizeof *fs);
    for (int i = 0; i < a->nopt; i++) {
        if (strcmp(a->opt[i].name, "--field=") != 0)
            continue;
        /* argv strings are writable; split in place. */
        enum sg_rc rc = add_pair(fs, (char *)a->opt[i].val, err);
        if (rc)
            return rc;
    }
    if (!cli_flag(a, "--stdin"))
        return SG_OK;
    struct sg_buf b;
    sg_buf_init(&b, STDIN_MAX);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (sg_buf_add(&b, chunk, n, err))
            return sg_err_prefix(err, "standard input");
    sodium_memzero(chunk, sizeof chunk);
    if (!b.ptr)
        return SG_OK;
    fs->stdin_text = sg_buf_detach(&b, NULL);
    char *save = NULL;
    for (char *line = strtok_r(fs->stdin_text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[l - 1] = '\0';
        if (!*line)
            continue;
        enum sg_rc rc = add_pair(fs, line, err);
        if (rc)
            return sg_err_prefix(err, "standard input");
    }
    return SG_OK;
}

static enum sg_rc parse_id(const char *s, struct sg_uuid *id, struct sg_err *err)
{
    return sg_uuid_parse(s, id, err);
}

/* ------------------------------------------------------------------- add */

static int subject_add(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--field=", "--event=", "--stdin", NULL};
    struct cli_args a;
    struct fields fs;
    struct sg_err err;
    struct sg_event_in ev[CLI_MAX_ARGS];
    size_t nev = 0;
    struct sg_vault *v = NULL;
    int ret;
    sg_err_clear(&err);
    memset(&fs, 0, sizeof fs);
    if (cli_parse(c, argc, argv, spec, &a, &err) || collect_fields(&a, &fs, &err))
        goto fail;
    if (a.npos) {
        sg_err_set(&err, SG_USAGE,
                   "usage: sargs subject add --field CAT=VALUE... "
                   "[--event NAME=TIME...]");
        goto fail;
    }
    for (int i = 0; i < a.nopt; i++) {
        if (strcmp(a.opt[i].name, "--event=") != 0)
            continue;
        char *pair = (char *)a.opt[i].val;
        char *eq = strchr(pair, '=');
        if (!eq) {
            sg_err_set(&err, SG_USAGE, "--event expects NAME=TIME");
            goto fail;
        }
        *eq = '\0';
        ev[nev].name = pair;
        if (sg_time_parse(eq + 1, &ev[nev].at, &err)) {
            sg_err_prefix(&err, "event '%.64s'", pair);
            goto fail;
        }
        nev++;
    }
    if (cli_open(c, &v, &err))
        goto fail;
    struct sg_uuid id;
    if (sg_subject_add(v, &c->actor, fs.f, fs.n, ev, nev, &id, &err))
        goto fail;
    char ids[SG_UUID_STR_LEN + 1];
    sg_uuid_format(&id, ids);
    ret = c->json ? cli_print_json(json_pack("{s:s}", "id", ids)) : (printf("%s\n", ids), 0);
    sg_vault_close(v);
    fields_release(&fs);
    return ret;
fail:
    sg_vault_close(v);
    fields_release(&fs);
    return cli_fail(c, &err);
}

/* ------------------------------------------------------------------ show */

static void subject_text(const struct sg_subject *s)
{
    char ids[SG_UUID_STR_LEN + 1], t[SG_TIME_STR_MAX];
    int w = 12;
    for (size_t i = 0; i < s->nfields; i++)
        if ((int)strlen(s->fields[i].category) > w)
            w = (int)strlen(s->fields[i].category);
    printf("subject  %s\n", sg_uuid_format(&s->id, ids));
    printf("state    %s\n", sg_subject_state_name(s->state));
    printf("created  %s\n", cli_time(s->created, t));
    printf("changed  %s\n", cli_time(s->changed, t));
    printf("fields\n");
    for (size_t i = 0; i < s->nfields; i++)
        printf("  %-*s  %s\n", w, s->fields[i].category, s->fields[i].value);
    if (s->nevents)
        printf("events\n");
    for (size_t i = 0; i < s->nevents; i++)
        printf("  %-*s  %s\n", w, s->events[i].name, cli_time(s->events[i].at, t));
    if (s->ngroups)
        printf("groups\n");
    for (size_t i = 0; i < s->ngroups; i++)
        printf("  %s\n", s->groups[i]);
    if (s->history) {
        printf("history\n");
        for (size_t i = 0; i < s->nhistory; i++) {
            const struct sg_change *ch = &s->history[i];
            printf("  %s  %s  by %s: %s (was: %s)\n", cli_time(ch->at, t), ch->category, ch->actor,
                   ch->reason ? ch->reason : "", ch->old_value ? ch->old_value : "-");
        }
    }
}

static int subject_show(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--history", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    struct sg_subject *s = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject show ID [--history]");
        return cli_fail(c, &err);
    }
    if (parse_id(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_subject_get(v, &c->actor, &id, cli_flag(&a, "--history") ? SG_GET_HISTORY : 0, &s,
                       &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    int ret = 0;
    if (c->json)
        ret = cli_print_json(sg_json_subject(s));
    else
        subject_text(s);
    sg_subject_free(s);
    sg_vault_close(v);
    return ret;
}

/* ------------------------------------------------------------------ find */

static int subject_find(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    char *eq = a.npos == 1 ? strchr(a.pos[0], '=') : NULL;
    if (!eq || eq == a.pos[0]) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject find CATEGORY=VALUE");
        return cli_fail(c, &err);
    }
    *eq = '\0';
    struct sg_uuid ids[64];
    size_t n = 0;
    if (cli_open(c, &v, &err) ||
        sg_subject_find(v, &c->actor, a.pos[0], eq + 1, strlen(eq + 1), ids, 64, &n, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (n == 0) {
        sg_err_set(&err, SG_NOTFOUND, "no subject matches");
        return cli_fail(c, &err);
    }
    char s[SG_UUID_STR_LEN + 1];
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n && i < 64; i++)
            json_array_append_new(arr, json_string(sg_uuid_format(&ids[i], s)));
        return cli_print_json(json_pack("{s:o,s:I}", "matches", arr, "count", (json_int_t)n));
    }
    for (size_t i = 0; i < n && i < 64; i++)
        printf("%s\n", sg_uuid_format(&ids[i], s));
    if (n > 64)
        fprintf(stderr, "sargs: %zu matches, the first 64 shown\n", n);
    return 0;
}

/* ---------------------------------------------------------------- update */

static int subject_update(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--field=", "--reason=", "--stdin", NULL};
    struct cli_args a;
    struct fields fs;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    size_t changed = 0;
    sg_err_clear(&err);
    memset(&fs, 0, sizeof fs);
    if (cli_parse(c, argc, argv, spec, &a, &err) || collect_fields(&a, &fs, &err))
        goto fail;
    if (a.npos != 1) {
        sg_err_set(&err, SG_USAGE,
                   "usage: sargs subject update ID --field CAT=VALUE... --reason TEXT");
        goto fail;
    }
    if (!cli_opt(&a, "--reason")) {
        sg_err_set(&err, SG_USAGE, "a change needs --reason TEXT");
        goto fail;
    }
    if (parse_id(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_subject_update(v, &c->actor, &id, fs.f, fs.n, cli_opt(&a, "--reason"), &changed, &err))
        goto fail;
    sg_vault_close(v);
    fields_release(&fs);
    if (c->json)
        return cli_print_json(
            json_pack("{s:s,s:I}", "id", a.pos[0], "changed", (json_int_t)changed));
    printf("%zu field(s) changed\n", changed);
    return 0;
fail:
    sg_vault_close(v);
    fields_release(&fs);
    return cli_fail(c, &err);
}

/* ----------------------------------------------------------------- touch */

static int subject_touch(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--at=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 2) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject touch ID EVENT [--at TIME]");
        return cli_fail(c, &err);
    }
    sg_time at = sg_clock_now(&c->clock);
    const char *ats = cli_opt(&a, "--at");
    if (ats && sg_time_parse(ats, &at, &err)) {
        sg_err_prefix(&err, "--at");
        return cli_fail(c, &err);
    }
    if (parse_id(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_subject_touch(v, &c->actor, &id, a.pos[1], at, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    char t[SG_TIME_STR_MAX];
    if (c->json)
        return cli_print_json(
            json_pack("{s:s,s:s,s:s}", "id", a.pos[0], "event", a.pos[1], "at", cli_time(at, t)));
    printf("%s %s at %s\n", a.pos[0], a.pos[1], cli_time(at, t));
    return 0;
}

/* ------------------------------------------------------------------ list */

struct list_out {
    const struct cli *c;
    json_t *arr;
    struct sg_uuid last;
    size_t n;
};

static int list_row(void *ctx, const struct sg_subject_row *row)
{
    struct list_out *o = ctx;
    char ids[SG_UUID_STR_LEN + 1], t1[SG_TIME_STR_MAX];
    sg_uuid_format(&row->id, ids);
    o->last = row->id;
    o->n++;
    if (o->arr)
        json_array_append_new(o->arr, sg_json_subject_row(row));
    else
        printf("%s  %-10s  %s\n", ids, sg_subject_state_name(row->state),
               cli_time(row->created, t1));
    return 0;
}

static int subject_list(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--limit=", "--after=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid after;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject list [--limit N] [--after ID]");
        return cli_fail(c, &err);
    }
    size_t limit = 100;
    const char *ls = cli_opt(&a, "--limit");
    if (ls) {
        char *end = NULL;
        long long l = strtoll(ls, &end, 10);
        if (!*ls || *end || l < 1 || l > 100000) {
            sg_err_set(&err, SG_USAGE, "--limit must be a number from 1 to 100000");
            return cli_fail(c, &err);
        }
        limit = (size_t)l;
    }
    const char *as = cli_opt(&a, "--after");
    if (as && parse_id(as, &after, &err))
        return cli_fail(c, &err);
    struct list_out o = {c, c->json ? json_array() : NULL, {{0}}, 0};
    struct sg_uuid next;
    int more = 0;
    if (cli_open(c, &v, &err) || sg_subject_list(v, &c->actor, as ? &after : NULL, limit, list_row,
                                                 &o, &next, &more, &err)) {
        json_decref(o.arr);
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    char ids[SG_UUID_STR_LEN + 1];
    if (c->json)
        return cli_print_json(json_pack("{s:o,s:s?}", "subjects", o.arr, "next",
                                        more ? sg_uuid_format(&next, ids) : NULL));
    if (more)
        fprintf(stderr, "sargs: more follow: --after %s\n", sg_uuid_format(&next, ids));
    return 0;
}

/* ---------------------------------------------------------- join, leave */

static int subject_group(struct cli *c, int argc, char **argv, int join)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 2) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject %s ID GROUP", join ? "join" : "leave");
        return cli_fail(c, &err);
    }
    if (parse_id(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        (join ? sg_subject_join : sg_subject_leave)(v, &c->actor, &id, a.pos[1], &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(
            json_pack("{s:s,s:s,s:b}", "id", a.pos[0], "group", a.pos[1], "member", join));
    printf("%s %s group %s\n", a.pos[0], join ? "joined" : "left", a.pos[1]);
    return 0;
}

static int subject_disclose(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--recipient=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1 || !cli_opt(&a, "--recipient")) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject disclose ID --recipient R");
        return cli_fail(c, &err);
    }
    if (parse_id(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_subject_disclose(v, &c->actor, &id, cli_opt(&a, "--recipient"), &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(
            json_pack("{s:s,s:s}", "id", a.pos[0], "recipient", cli_opt(&a, "--recipient")));
    printf("disclosure of %s to %s recorded\n", a.pos[0], cli_opt(&a, "--recipient"));
    return 0;
}

static int subject_join(struct cli *c, int argc, char **argv)
{
    return subject_group(c, argc, argv, 1);
}

static int subject_leave(struct cli *c, int argc, char **argv)
{
    return subject_group(c, argc, argv, 0);
}

/* ----------------------------------------------------------------- erase */

static int subject_erase(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    struct sg_uuid id;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs subject erase ID");
        return cli_fail(c, &err);
    }
    if (parse_id(a.pos[0], &id, &err) || cli_open(c, &v, &err) ||
        sg_subject_erase(v, &c->actor, &id, &err)) {
        sg_vault_close(v);
        return cli_fail(c, &err);
    }
    sg_vault_close(v);
    if (c->json)
        return cli_print_json(json_pack("{s:s,s:s}", "id", a.pos[0], "state", "erased"));
    printf("%s erased: its data key is destroyed and its data removed\n", a.pos[0]);
    return 0;
}

int cmd_subject(struct cli *c, int argc, char **argv)
{
    struct sg_err err;
    static const struct {
        const char *name;
        int (*fn)(struct cli *, int, char **);
    } subs[] = {
        {"add", subject_add},           {"show", subject_show},   {"find", subject_find},
        {"update", subject_update},     {"touch", subject_touch}, {"list", subject_list},
        {"erase", subject_erase},       {"join", subject_join},   {"leave", subject_leave},
        {"disclose", subject_disclose},
    };
    if (argc >= 1)
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
            if (strcmp(argv[0], subs[i].name) == 0)
                return subs[i].fn(c, argc - 1, argv + 1);
    sg_err_set(&err, SG_USAGE,
               "usage: sargs subject add|show|find|update|touch|list|erase|join|leave ... (see "
               "--help)");
    return cli_fail(c, &err);
}
