/*
 * cmd_token.c - sargs token create|list|revoke: API tokens for services.
 */
#include "cli.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "sargs/token.h"

static int print_token(void *ctx, const struct sg_token_info *t)
{
    json_t *arr = ctx;
    char c[SG_TIME_STR_MAX], r[SG_TIME_STR_MAX];
    if (arr) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s}", "id", t->id, "name", t->name, "role",
                              t->role, "purpose", t->purpose, "scope",
                              t->scope[0] ? t->scope : NULL, "created", cli_time(t->created, c));
        if (j)
            json_object_set_new(j, "revoked",
                                t->revoked ? json_string(cli_time(t->revoked, r)) : json_null());
        json_array_append_new(arr, j);
        return 0;
    }
    printf("%s  %-16s %-20s %-16s %-4s %s%s%s\n", t->id, t->name, t->role, t->purpose,
           t->scope[0] ? t->scope : "-", cli_time(t->created, c), t->revoked ? "  revoked " : "",
           t->revoked ? cli_time(t->revoked, r) : "");
    return 0;
}

int cmd_token(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--name=", "--role=", "--scope=", NULL};
    struct cli_args a;
    struct sg_err err;
    struct sg_vault *v = NULL;
    int ret = 0;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    const char *sub = a.npos ? a.pos[0] : "";
    if (!strcmp(sub, "create") && a.npos == 1 && cli_opt(&a, "--role") && cli_opt(&a, "--name")) {
        if (cli_open(c, &v, &err))
            return cli_fail(c, &err);
        char secret[SG_TOKEN_MAX];
        struct sg_token_info info;
        /* The token's default purpose is the command's --purpose, when given
         * by the operator; it cannot be left at the command's own default. */
        const char *purpose = c->purpose_given ? c->actor.purpose : NULL;
        if (!purpose) {
            sg_vault_close(v);
            sg_err_set(&err, SG_USAGE, "a token needs a default purpose: --purpose P");
            return cli_fail(c, &err);
        }
        if (sg_token_create(v, &c->actor, cli_opt(&a, "--name"), cli_opt(&a, "--role"), purpose,
                            cli_opt(&a, "--scope"), secret, &info, &err)) {
            sg_vault_close(v);
            return cli_fail(c, &err);
        }
        if (c->json)
            ret =
                cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "id", info.id, "token",
                                         secret, "name", info.name, "role", info.role, "purpose",
                                         info.purpose, "scope", info.scope[0] ? info.scope : NULL));
        else
            printf("%s\n", secret);
        if (!c->json)
            fprintf(stderr, "sargs: token %s created; it is shown only now, keep it secret\n",
                    info.id);
        sodium_memzero(secret, sizeof secret);
        sg_vault_close(v);
        return ret;
    }
    if (!strcmp(sub, "list") && a.npos == 1) {
        if (cli_open(c, &v, &err))
            return cli_fail(c, &err);
        json_t *arr = c->json ? json_array() : NULL;
        enum sg_rc rc = sg_token_list(v, print_token, arr, &err);
        sg_vault_close(v);
        if (rc) {
            json_decref(arr);
            return cli_fail(c, &err);
        }
        return arr ? cli_print_json(arr) : 0;
    }
    if (!strcmp(sub, "revoke") && a.npos == 2) {
        if (cli_open(c, &v, &err))
            return cli_fail(c, &err);
        enum sg_rc rc = sg_token_revoke(v, &c->actor, a.pos[1], &err);
        sg_vault_close(v);
        if (rc)
            return cli_fail(c, &err);
        if (c->json)
            return cli_print_json(json_pack("{s:s,s:b}", "id", a.pos[1], "revoked", 1));
        printf("token %s revoked\n", a.pos[1]);
        return 0;
    }
    sg_err_set(&err, SG_USAGE,
               "usage: sargs token create --name N --role R --purpose P [--scope V] | list | "
               "revoke ID");
    return cli_fail(c, &err);
}
