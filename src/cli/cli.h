/*
 * cli.h - what the command's files share. The command is a thin front end:
 * it parses arguments, calls libsargs and prints; every rule lives in the
 * library.
 */
#ifndef SARGS_CLI_H
#define SARGS_CLI_H

#include <jansson.h>

#include "sargs/sargs.h"
#include "sargs/json.h"

struct cli {
    const char *dir;
    const char *store;
    const char *master_key_file;
    int json;
    struct sg_clock clock;
    struct sg_actor actor;
    int purpose_given;   /* --purpose or SARGS_PURPOSE was given */
    struct sg_uuid self; /* --as-viewer */
    char actor_buf[160];
};

/* Parsed arguments of one command: positionals and options. */
#define CLI_MAX_ARGS 128
struct cli_args {
    const char *pos[CLI_MAX_ARGS];
    int npos;
    struct {
        const char *name;
        const char *val; /* NULL for a flag */
    } opt[CLI_MAX_ARGS];
    int nopt;
};

/*
 * Parses `argv` against `spec`: a NULL-terminated list of option names, each
 * ending in '=' when it takes a value ("--field=", "--history"). Global
 * options (--dir, --now, --json, --actor, --purpose, --store, --as,
 * --as-viewer, --as-scope) are accepted
 * anywhere and applied to `c`. SG_USAGE with a message for anything else.
 */
enum sg_rc cli_parse(struct cli *c, int argc, char **argv, const char *const *spec,
                     struct cli_args *out, struct sg_err *err);

/* The last value of option `name`, or NULL. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* Nonzero when flag `name` was given. */
int cli_flag(const struct cli_args *a, const char *name);

/* Opens the vault named by the global options. */
enum sg_rc cli_open(struct cli *c, struct sg_vault **v, struct sg_err *err);
void cli_vault_opts(const struct cli *c, struct sg_vault_opts *o);

/* Reports an error (stderr as one line, or JSON on stdout) and returns the
 * exit code for it. */
int cli_fail(const struct cli *c, const struct sg_err *err);
/* Prints a JSON value (and frees it) in --json mode; returns 0. */
int cli_print_json(json_t *j);
/* Formats a time for output. */
const char *cli_time(sg_time t, char buf[SG_TIME_STR_MAX]);

int cmd_init(struct cli *c, int argc, char **argv);
int cmd_key(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_restore(struct cli *c, int argc, char **argv);
int cmd_erasures(struct cli *c, int argc, char **argv);
int cmd_subject(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_policy(struct cli *c, int argc, char **argv);
int cmd_notice(struct cli *c, int argc, char **argv);
int cmd_ropa(struct cli *c, int argc, char **argv);
int cmd_consent(struct cli *c, int argc, char **argv);
int cmd_operator(struct cli *c, int argc, char **argv);
int cmd_request(struct cli *c, int argc, char **argv);
int cmd_retention(struct cli *c, const char *cmd, int argc, char **argv);
int cmd_may(struct cli *c, int argc, char **argv);
int cmd_object(struct cli *c, int argc, char **argv);
int cmd_restrict(struct cli *c, int argc, char **argv, int lift);

#endif
