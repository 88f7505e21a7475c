/*
 * cmd_operator.c - sargs operator add|passwd|list|disable|enable|unlock:
 * the accounts of the organisation's people who sign in to the API.
 * Passwords come from standard input (never the command line, which others
 * can read in the process list).
 */
#include "cli.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int usage(struct cli *c)
{
    struct sg_err err;
    sg_err_set(&err, SG_USAGE,
               "usage: sargs operator add LOGIN --role R --purpose P [--scope V] | passwd LOGIN | "
               "list | disable LOGIN | enable LOGIN | unlock LOGIN (passwords on stdin)");
    return cli_fail(c, &err);
}

/* One line from stdin, without echo on a terminal. */
static int read_password(char *buf, size_t cap)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fputs("password: ", stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *ok = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int print_op(void *ctx, const struct sg_operator_info *o)
{
    json_t *arr = ctx;
    char c[SG_TIME_STR_MAX], p[SG_TIME_STR_MAX], l[SG_TIME_STR_MAX];
    if (arr) {
        json_t *j = json_pack(
            "{s:s,s:s,s:s,s:s?,s:s,s:s,s:b,s:b,s:I}", "login", o->login, "role", o->role, "purpose",
            o->purpose, "scope", o->scope[0] ? o->scope : NULL, "created", cli_time(o->created, c),
            "password_changed", cli_time(o->password_changed, p), "disabled", o->disabled,
            "password_expired", o->password_expired, "failures", (json_int_t)o->failures);
        if (j)
            json_object_set_new(j, "locked_until",
                                o->locked_until ? json_string(cli_time(o->locked_until, l))
                                                : json_null());
        json_array_append_new(arr, j);
        return 0;
    }
    printf("%-24s %-20s %-16s %-4s %s%s%s\n", o->login, o->role, o->purpose,
           o->scope[0] ? o->scope : "-", o->disabled ? "disabled" : "active",
           o->password_expired ? ", password expired" : "", o->locked_until ? ", locked" : "");
    return 0;
}

int cmd_operator(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--role=", "--scope=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    const char *sub = a.npos ? a.pos[0] : "";
    const char *login = a.npos == 2 ? a.pos[1] : NULL;
    enum sg_rc rc;
    char pw[1100];
    if (!strcmp(sub, "list") && a.npos == 1) {
        json_t *arr = c->json ? json_array() : NULL;
        if (cli_open(c, &v, &err) || sg_operator_list(v, print_op, arr, &err)) {
            json_decref(arr);
            sg_vault_close(v);
            return cli_fail(c, &err);
        }
        sg_vault_close(v);
        return arr ? cli_print_json(arr) : 0;
    }
    if (!login)
        return usage(c);
    if (!strcmp(sub, "add") || !strcmp(sub, "passwd")) {
        int add = sub[0] == 'a';
        if (add && (!cli_opt(&a, "--role") || !c->purpose_given)) {
            sg_err_set(&err, SG_USAGE, "an operator needs --role R and --purpose P");
            return cli_fail(c, &err);
        }
        if (read_password(pw, sizeof pw)) {
            sg_err_set(&err, SG_USAGE, "the password is read from standard input");
            return cli_fail(c, &err);
        }
        if (cli_open(c, &v, &err))
            rc = err.rc;
        else if (add)
            rc = sg_operator_add(v, &c->actor, login, cli_opt(&a, "--role"), c->actor.purpose,
                                 cli_opt(&a, "--scope"), pw, &err);
        else
            rc = sg_operator_set_password(v, &c->actor, login, NULL, pw, &err);
        sodium_memzero(pw, sizeof pw);
        sg_vault_close(v);
        if (rc)
            return cli_fail(c, &err);
        if (c->json)
            return cli_print_json(
                json_pack("{s:s,s:s}", "login", login, "done", add ? "added" : "password set"));
        printf("operator %s %s\n", login, add ? "added" : "has a new password; sessions ended");
        return 0;
    }
    int which = !strcmp(sub, "disable")  ? 1
                : !strcmp(sub, "enable") ? 2
                : !strcmp(sub, "unlock") ? 3
                                         : 0;
    if (!which)
        return usage(c);
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    rc = which == 3 ? sg_operator_unlock(v, &c->actor, login, &err)
                    : sg_operator_disable(v, &c->actor, login, which == 1, &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:s,s:s}", "login", login, "done", sub));
    printf("operator %s %s\n", login,
           which == 1   ? "disabled; sessions ended"
           : which == 2 ? "enabled"
                        : "unlocked");
    return 0;
}
