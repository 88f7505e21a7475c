/*
 * cmd_serve.c - sargs serve: the HTTP API (src/server/).
 */
#include "cli.h"
#include "../server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_serve(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {
        "--listen=", "--threads=", "--max-body=", "--ready-file=", "--sweep-every=", "--transport=",
        "--from=",   "--routes",   NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (cli_flag(&a, "--routes")) {
        sg_server_print_routes();
        return 0;
    }
    if (a.npos) {
        sg_err_set(&err, SG_USAGE,
                   "usage: sargs serve [--listen HOST:PORT] [--threads N] [--max-body BYTES] "
                   "[--sweep-every SECONDS] [--transport URI] [--from ADDR]");
        return cli_fail(c, &err);
    }
    if (!c->dir || !*c->dir) {
        sg_err_set(&err, SG_USAGE, "no vault directory: give --dir DIR or set SARGS_DIR");
        return cli_fail(c, &err);
    }
    struct sg_server_opts o;
    memset(&o, 0, sizeof o);
    o.listen = cli_opt(&a, "--listen") ? cli_opt(&a, "--listen") : getenv("SARGS_LISTEN");
    const char *t = cli_opt(&a, "--threads"), *mb = cli_opt(&a, "--max-body");
    char *end = NULL;
    if (t) {
        long n = strtol(t, &end, 10);
        if (!*t || *end || n < 1 || n > 256) {
            sg_err_set(&err, SG_USAGE, "--threads must be from 1 to 256");
            return cli_fail(c, &err);
        }
        o.threads = (unsigned)n;
    }
    if (mb) {
        long n = strtol(mb, &end, 10);
        if (!*mb || *end || n < 1024 || n > 64L * 1024 * 1024) {
            sg_err_set(&err, SG_USAGE, "--max-body must be from 1024 to 67108864 bytes");
            return cli_fail(c, &err);
        }
        o.max_body = (size_t)n;
    }
    o.ready_file = cli_opt(&a, "--ready-file");
    /* Retention acts by itself: hourly unless told otherwise (0: never). */
    const char *se = cli_opt(&a, "--sweep-every");
    o.sweep_every = 3600;
    if (se) {
        long n = strtol(se, &end, 10);
        if (!*se || *end || n < 0 || n > 7L * 86400) {
            sg_err_set(&err, SG_USAGE, "--sweep-every must be from 0 to 604800 seconds");
            return cli_fail(c, &err);
        }
        o.sweep_every = (unsigned)n;
    }
    o.transport =
        cli_opt(&a, "--transport") ? cli_opt(&a, "--transport") : getenv("SARGS_TRANSPORT");
    o.mail_from = cli_opt(&a, "--from") ? cli_opt(&a, "--from") : getenv("SARGS_MAIL_FROM");
    cli_vault_opts(c, &o.vault);
    o.vault.shared = 1; /* a handle per thread, a writer among them */
    /* The server reads the real clock; --now is for the command's own
     * operations and tests of them, not for a service. */
    if (c->clock.fixed)
        o.vault.clock = &c->clock;
    if (sg_server_run(&o, &err))
        return cli_fail(c, &err);
    return 0;
}
