/*
 * main.c - the `sargs` command: global options, dispatch, argument parsing.
 */
#include "cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: sargs [--dir DIR] [--now TIME] [--json] [--actor ID] [--purpose P] COMMAND ...\n"
    "\n"
    "Keeps personal data encrypted per person and enforces the data-protection policy.\n"
    "\n"
    "commands:\n"
    "  init --policy FILE                    create a vault in DIR bound to a policy\n"
    "  serve [--listen HOST:PORT] [--threads N] [--max-body BYTES]   the HTTP API\n"
    "  subject add --field CAT=VALUE... [--event NAME=TIME...] [--stdin]\n"
    "  subject show ID [--history]\n"
    "  subject find CAT=VALUE                look up by a blind-indexed field\n"
    "  subject update ID --field CAT=VALUE... --reason TEXT [--stdin]\n"
    "  subject touch ID EVENT [--at TIME]    record a dated event (e.g. last_login)\n"
    "  subject list [--limit N] [--after ID]\n"
    "  subject erase ID                      destroy the person's key and data\n"
    "  subject join|leave ID GROUP           group membership (who sees group-only content)\n"
    "  key rotate                            re-wrap every data key under a new master key\n"
    "  backup FILE                           consistent copy of the data, without keys\n"
    "  restore FILE                          restore it, re-applying later erasures\n"
    "  erasures reapply                      re-apply the erasure journal in place (after a\n"
    "                                        restore by other means: pg_dump, PITR)\n"
    "  policy check FILE                     report every problem as FILE:LINE:COL: message\n"
    "  policy apply FILE [--effective TIME]  record a new version (older ones are kept)\n"
    "  policy list                           the recorded versions\n"
    "  policy show [--at TIME]               the text of the version in force\n"
    "  notice [--lang lv|en] [--format md|html] [--policy FILE] [--at TIME]\n"
    "                                        the Art. 13/14 privacy notice\n"
    "  notice diff OLD NEW                   what changed; must people be told first?\n"
    "  ropa [--format csv|json] [--lang L] [--policy FILE]\n"
    "                                        the Art. 30(1) record of processing\n"
    "  consent give|refuse|withdraw|request ID|CAT=VALUE PURPOSE --method M\n"
    "          [--evidence REF] [--guardian ID | --agent NAME] [--lang L] [--birth-date D]\n"
    "  consent list|export ID | receipt ID SEQ | key   the ledger, ISO/IEC TS 27560, receipts\n"
    "  consent check-receipt --key VKEY [FILE]   check a signed receipt (no vault needed)\n"
    "  may ID PURPOSE [--gpc]                may the data be used for it now? (0 yes, 5 no)\n"
    "  object ID PURPOSE [--grounds TEXT | --lift]   Art. 21 objection\n"
    "  restrict ID | unrestrict ID           Art. 18 restriction\n"
    "";

static const char usage_requests[] =
    "  request new --kind K --channel C [--subject ID] [--received TIME] [--agent AUTH]\n"
    "  request list [--overdue] [--due-within 7d] [--subject ID]   by due date\n"
    "  request show|resume|withdraw ID | request verify ID --method M [--subject ID]\n"
    "  request pause|extend ID --reason R | request refuse ID --ground G [--reason R]\n"
    "  request fulfil ID [--field CAT=VALUE --proof REF | --ground G | --purpose P |\n"
    "          --outcome TEXT] [--out DIR]   answer it (access: the package in DIR)\n"
    "  subject disclose ID --recipient R     record a disclosure (access answers list it)\n"
    "  sweep [--dry-run]                     act on the retention rules now\n"
    "  outbox list [--state S] | outbox deliver [--transport URI] [--from ADDR] [--max N]\n"
    "  event record NAME [--at TIME]         a date of an event that is one for everybody\n"
    "  statistics                            what anonymisation kept\n"
    "  token create --name N --role R --purpose P [--scope V]   an API token (shown once)\n"
    "  operator add LOGIN --role R --purpose P [--scope V]   an account that signs in\n"
    "  operator passwd|disable|enable|unlock LOGIN | operator list   (passwords on stdin)\n"
    "  token list | token revoke ID\n"
    "  audit head | heads [--since SIZE] | key   signed tree heads, the verifier key\n"
    "  audit prove INDEX [--size N]          inclusion proof of an entry\n"
    "  audit consistency OLD [NEW]           consistency proof between two sizes\n"
    "  audit verify                          recompute the log, check every head\n"
    "  audit log [--subject ID] [--since TIME] [--limit N]\n"
    "  audit check-inclusion --leaf-hash H --index I --size N --root H [--proof H,...]\n"
    "  audit check-consistency --size1 M --size2 N --root1 H --root2 H [--proof H,...]\n"
    "  audit check-head --key VKEY [FILE]    check a signed head (no vault needed)\n"
    "  audit archive --before TIME FILE      move entries older than 12 months to a file\n"
    "  audit check-archive --key VKEY FILE   check an archive (no vault needed)\n"
    "\n"
    "";

/* (two strings: C compilers need not take one longer than 4095 bytes) */
static const char usage2[] =
    "global options (anywhere; environment in brackets):\n"
    "  --dir DIR       vault directory [SARGS_DIR]\n"
    "  --now TIME      the clock, RFC 3339 [SARGS_NOW]\n"
    "  --json          machine output; errors as {\"error\":{\"code\",\"message\"}}\n"
    "  --actor ID      who acts, for the audit trail [SARGS_ACTOR; default cli:USER]\n"
    "  --purpose P     why, for the audit trail [SARGS_PURPOSE; default administration]\n"
    "  --store URI     database: a SQLite path or postgres://USER@HOST/DB\n"
    "                  [SARGS_STORE; default DIR/sargs.db]\n"
    "  --as ROLE       see and act as a role of the policy [default: operator, who sees all]\n"
    "  --as-viewer ID  ...as this person (their rows, groups, own value)\n"
    "  --as-scope V    ...scoped to this value of the role's same_as_viewer field\n"
    "master key file: SARGS_MASTER_KEY_FILE [default DIR/keys/master.key]\n"
    "\n"
    "exit codes: 0 ok, 2 usage, 3 not found, 4 invalid input, 5 denied, 6 conflict,\n"
    "            7 too many attempts, 10 internal or I/O\n";

static int set_now(struct cli *c, const char *v, struct sg_err *err)
{
    sg_time t;
    if (sg_time_parse(v, &t, err) != SG_OK) {
        sg_err_prefix(err, "--now");
        err->rc = SG_USAGE;
        return -1;
    }
    sg_clock_init_fixed(&c->clock, t);
    return 0;
}

/* Applies global option `name` with value `val`; 1 if it was one, 0 if not,
 * -1 on a bad value. */
static int global_opt(struct cli *c, const char *name, const char *val, struct sg_err *err)
{
    if (strcmp(name, "--dir") == 0)
        c->dir = val;
    else if (strcmp(name, "--store") == 0)
        c->store = val;
    else if (strcmp(name, "--actor") == 0)
        c->actor.id = val;
    else if (strcmp(name, "--purpose") == 0) {
        c->actor.purpose = val;
        c->purpose_given = 1;
    } else if (strcmp(name, "--now") == 0)
        return set_now(c, val, err) ? -1 : 1;
    else if (strcmp(name, "--as") == 0)
        c->actor.role = val;
    else if (strcmp(name, "--as-scope") == 0)
        c->actor.scope = val;
    else if (strcmp(name, "--as-viewer") == 0) {
        if (sg_uuid_parse(val, &c->self, err)) {
            sg_err_prefix(err, "--as-viewer");
            err->rc = SG_USAGE;
            return -1;
        }
        c->actor.self = &c->self;
    } else
        return 0;
    return 1;
}

static int is_global_with_value(const char *name)
{
    return !strcmp(name, "--dir") || !strcmp(name, "--store") || !strcmp(name, "--actor") ||
           !strcmp(name, "--purpose") || !strcmp(name, "--now") || !strcmp(name, "--as") ||
           !strcmp(name, "--as-scope") || !strcmp(name, "--as-viewer");
}

static int opt_is(const char *spec_name, const char *name)
{
    size_t n = strlen(name);
    return strncmp(spec_name, name, n) == 0 && (spec_name[n] == '\0' || spec_name[n] == '=');
}

enum sg_rc cli_parse(struct cli *c, int argc, char **argv, const char *const *spec,
                     struct cli_args *out, struct sg_err *err)
{
    memset(out, 0, sizeof *out);
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (out->npos == CLI_MAX_ARGS)
                return sg_err_set(err, SG_USAGE, "too many arguments");
            out->pos[out->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        /* --name=value or --name value */
        char name[64];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name)
            return sg_err_set(err, SG_USAGE, "unknown option '%.40s'", a);
        memcpy(name, a, nl);
        name[nl] = '\0';
        if (strcmp(name, "--json") == 0 && !eq) {
            c->json = 1;
            continue;
        }
        int global = is_global_with_value(name);
        const char *canon = NULL;
        for (const char *const *s = spec; !global && !canon && *s; s++)
            if (opt_is(*s, name))
                canon = *s;
        if (!global && !canon)
            return sg_err_set(err, SG_USAGE, "unknown option '%s'", name);
        int takes = global || canon[strlen(canon) - 1] == '=';
        const char *val = NULL;
        if (takes) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return sg_err_set(err, SG_USAGE, "option '%s' needs a value", name);
        } else if (eq) {
            return sg_err_set(err, SG_USAGE, "option '%s' takes no value", name);
        }
        if (global) {
            if (global_opt(c, name, val, err) < 0)
                return SG_USAGE;
            continue;
        }
        if (out->nopt == CLI_MAX_ARGS)
            return sg_err_set(err, SG_USAGE, "too many options");
        out->opt[out->nopt].name = canon;
        out->opt[out->nopt++].val = val;
    }
    return SG_OK;
}

const char *cli_opt(const struct cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopt; i++)
        if (opt_is(a->opt[i].name, name))
            v = a->opt[i].val;
    return v;
}

int cli_flag(const struct cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++)
        if (opt_is(a->opt[i].name, name))
            return 1;
    return 0;
}

void cli_vault_opts(const struct cli *c, struct sg_vault_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dir = c->dir;
    o->store = c->store;
    o->master_key_file = c->master_key_file;
    o->clock = &c->clock;
}

enum sg_rc cli_open(struct cli *c, struct sg_vault **v, struct sg_err *err)
{
    if (!c->dir || !*c->dir)
        return sg_err_set(err, SG_USAGE, "no vault directory: give --dir DIR or set SARGS_DIR");
    struct sg_vault_opts o;
    cli_vault_opts(c, &o);
    return sg_vault_open(&o, v, err);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
    struct cli c;
    struct sg_err err;
    memset(&c, 0, sizeof c);
    sg_err_clear(&err);
    sg_clock_init_system(&c.clock);

    c.dir = env("SARGS_DIR");
    c.store = env("SARGS_STORE");
    c.master_key_file = env("SARGS_MASTER_KEY_FILE");
    const char *user = env("USER");
    if (!user) {
        struct passwd *pw = getpwuid(getuid());
        user = pw ? pw->pw_name : "unknown";
    }
    snprintf(c.actor_buf, sizeof c.actor_buf, "cli:%s", user);
    c.actor.id = env("SARGS_ACTOR") ? env("SARGS_ACTOR") : c.actor_buf;
    c.actor.role = SG_ROLE_OPERATOR;
    c.actor.purpose = env("SARGS_PURPOSE") ? env("SARGS_PURPOSE") : "administration";
    c.purpose_given = env("SARGS_PURPOSE") != NULL;

    if (sg_crypto_init(&err) != SG_OK)
        return cli_fail(&c, &err);
    const char *now = env("SARGS_NOW");
    if (now && set_now(&c, now, &err)) {
        sg_err_prefix(&err, "SARGS_NOW");
        return cli_fail(&c, &err);
    }

    /* Global options before the command: find where the command starts, then
     * let the one parser apply them. */
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            fputs(usage_requests, stdout);
            fputs(usage2, stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("sargs %s\n", SARGS_VERSION);
            return 0;
        }
        i += (!strchr(a, '=') && is_global_with_value(a) && i + 1 < argc) ? 2 : 1;
    }
    static const char *const none[] = {NULL};
    struct cli_args pre;
    if (cli_parse(&c, i - 1, argv + 1, none, &pre, &err) != SG_OK) {
        if (err.rc == SG_USAGE && strstr(err.msg, "unknown option"))
            sg_err_prefix(&err, "before the command");
        return cli_fail(&c, &err);
    }
    if (i >= argc) {
        fputs(usage, stderr);
        fputs(usage_requests, stderr);
        fputs(usage2, stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **rv = argv + i + 1;
    if (!strcmp(cmd, "help")) {
        fputs(usage, stdout);
        fputs(usage_requests, stdout);
        fputs(usage2, stdout);
        return 0;
    }
    if (!strcmp(cmd, "init"))
        return cmd_init(&c, rest, rv);
    if (!strcmp(cmd, "subject"))
        return cmd_subject(&c, rest, rv);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(&c, rest, rv);
    if (!strcmp(cmd, "token"))
        return cmd_token(&c, rest, rv);
    if (!strcmp(cmd, "audit"))
        return cmd_audit(&c, rest, rv);
    if (!strcmp(cmd, "key"))
        return cmd_key(&c, rest, rv);
    if (!strcmp(cmd, "backup"))
        return cmd_backup(&c, rest, rv);
    if (!strcmp(cmd, "restore"))
        return cmd_restore(&c, rest, rv);
    if (!strcmp(cmd, "erasures"))
        return cmd_erasures(&c, rest, rv);
    if (!strcmp(cmd, "policy"))
        return cmd_policy(&c, rest, rv);
    if (!strcmp(cmd, "notice"))
        return cmd_notice(&c, rest, rv);
    if (!strcmp(cmd, "ropa"))
        return cmd_ropa(&c, rest, rv);
    if (!strcmp(cmd, "consent"))
        return cmd_consent(&c, rest, rv);
    if (!strcmp(cmd, "operator"))
        return cmd_operator(&c, rest, rv);
    if (!strcmp(cmd, "request"))
        return cmd_request(&c, rest, rv);
    if (!strcmp(cmd, "sweep") || !strcmp(cmd, "outbox") || !strcmp(cmd, "event") ||
        !strcmp(cmd, "statistics"))
        return cmd_retention(&c, cmd, rest, rv);
    if (!strcmp(cmd, "may"))
        return cmd_may(&c, rest, rv);
    if (!strcmp(cmd, "object"))
        return cmd_object(&c, rest, rv);
    if (!strcmp(cmd, "restrict") || !strcmp(cmd, "unrestrict"))
        return cmd_restrict(&c, rest, rv, cmd[0] == 'u');
    sg_err_set(&err, SG_USAGE, "unknown command '%.40s' (see sargs --help)", cmd);
    return cli_fail(&c, &err);
}
