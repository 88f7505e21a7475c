/*
 * cmd_vault.c - sargs init, key rotate, backup, restore.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int need_dir(struct cli *c)
{
    if (c->dir && *c->dir)
        return 0;
    struct sg_err err;
    sg_err_set(&err, SG_USAGE, "no vault directory: give --dir DIR or set SARGS_DIR");
    return cli_fail(c, &err);
}

static void print_problems(const char *file, const struct sg_policy_problems *pr)
{
    for (size_t i = 0; i < pr->n; i++)
        fprintf(stderr, "%s:%u:%u: %s\n", file, pr->v[i].line, pr->v[i].col, pr->v[i].msg);
}

int cmd_init(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {"--policy=", NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    const char *file = cli_opt(&a, "--policy");
    if (a.npos || !file) {
        sg_err_set(&err, SG_USAGE,
                   "usage: sargs init --policy FILE (the vault goes in --dir DIR; see examples/)");
        return cli_fail(c, &err);
    }
    int r = need_dir(c);
    if (r)
        return r;
    /* The policy is checked before anything is created. */
    struct sg_policy *p = NULL;
    struct sg_policy_problems pr;
    sg_policy_problems_init(&pr);
    enum sg_rc rc = sg_policy_load_file(file, &p, &pr, &err);
    if (rc == SG_INVALID && !c->json)
        print_problems(file, &pr);
    sg_policy_problems_release(&pr);
    if (rc)
        return cli_fail(c, &err);
    struct sg_vault_opts o;
    cli_vault_opts(c, &o);
    o.policy = p;
    rc = sg_vault_init(&o, &err);
    sg_policy_free(p);
    if (rc)
        return cli_fail(c, &err);
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    char kek[1024];
    snprintf(kek, sizeof kek, "%s%s", c->master_key_file ? c->master_key_file : c->dir,
             c->master_key_file ? "" : "/keys/master.key");
    const struct sg_policy_version *ver = sg_vault_policy_version(v);
    if (c->json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "vault", sg_vault_id(v), "dir", c->dir,
                              "master_key_file", kek, "policy", ver ? ver->hash : "");
        sg_vault_close(v);
        return cli_print_json(j);
    }
    printf("created vault %s in %s\n", sg_vault_id(v), c->dir);
    if (ver)
        printf("bound to policy %s (version %.16s)\n", file, ver->hash);
    printf("master key: %s (keep it, and the rest of %s/keys, apart from the data's backups)\n",
           kek, c->dir);
    sg_vault_close(v);
    return 0;
}

int cmd_key(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1 || strcmp(a.pos[0], "rotate") != 0) {
        sg_err_set(&err, SG_USAGE, "usage: sargs key rotate");
        return cli_fail(c, &err);
    }
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    struct sg_rotate_report rep;
    enum sg_rc rc = sg_vault_rotate_key(v, &c->actor, &rep, &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:I,s:s,s:s}", "rewrapped", (json_int_t)rep.rewrapped,
                                        "old_key", rep.old_id, "new_key", rep.new_id));
    printf("master key %s replaced by %s; %zu data keys re-wrapped\n", rep.old_id, rep.new_id,
           rep.rewrapped);
    printf("the old key is kept in keys/retired/%s.key for older backups; delete it to make "
           "them unreadable\n",
           rep.old_id);
    return 0;
}

int cmd_backup(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs backup FILE");
        return cli_fail(c, &err);
    }
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    enum sg_rc rc = sg_vault_backup(v, &c->actor, a.pos[0], &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:s}", "backup", a.pos[0]));
    printf("backup written to %s (data only: no key is in it)\n", a.pos[0]);
    return 0;
}

int cmd_erasures(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1 || strcmp(a.pos[0], "reapply") != 0) {
        sg_err_set(&err, SG_USAGE, "usage: sargs erasures reapply");
        return cli_fail(c, &err);
    }
    struct sg_vault *v = NULL;
    if (cli_open(c, &v, &err))
        return cli_fail(c, &err);
    size_t n = 0;
    enum sg_rc rc = sg_vault_reapply_erasures(v, &c->actor, &n, &err);
    sg_vault_close(v);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        return cli_print_json(json_pack("{s:I}", "erasures_reapplied", (json_int_t)n));
    printf("re-applied %zu erasure(s) the database had lost\n", n);
    return 0;
}

int cmd_restore(struct cli *c, int argc, char **argv)
{
    static const char *const spec[] = {NULL};
    struct cli_args a;
    struct sg_err err;
    sg_err_clear(&err);
    if (cli_parse(c, argc, argv, spec, &a, &err))
        return cli_fail(c, &err);
    if (a.npos != 1) {
        sg_err_set(&err, SG_USAGE, "usage: sargs restore FILE");
        return cli_fail(c, &err);
    }
    int r = need_dir(c);
    if (r)
        return r;
    struct sg_vault_opts o;
    cli_vault_opts(c, &o);
    struct sg_restore_report rep;
    if (sg_vault_restore(&o, &c->actor, a.pos[0], &rep, &err))
        return cli_fail(c, &err);
    char ts[SG_TIME_STR_MAX];
    if (c->json)
        return cli_print_json(json_pack(
            "{s:s,s:s?,s:I,s:I,s:I,s:I}", "restored", a.pos[0], "backup_taken",
            rep.backup_taken ? cli_time(rep.backup_taken, ts) : NULL, "erasures_reapplied",
            (json_int_t)rep.reerased, "keys_rewrapped", (json_int_t)rep.rewrapped,
            "requests_to_redo", (json_int_t)rep.requests_to_redo, "requests_orphaned",
            (json_int_t)rep.requests_orphaned));
    printf("restored %s (taken %s)\n", a.pos[0],
           rep.backup_taken ? cli_time(rep.backup_taken, ts) : "at an unknown time");
    printf("re-applied %zu erasure(s) made after the backup\n", rep.reerased);
    if (rep.rewrapped)
        printf("re-wrapped %zu data key(s) from a retired master key\n", rep.rewrapped);
    if (rep.requests_to_redo)
        printf("%zu request(s) answered after the backup changed data the restore took back: "
               "carry them out again (their ids are in the restore's audit entry: sargs audit "
               "log)\n",
               rep.requests_to_redo);
    if (rep.requests_orphaned)
        printf("%zu request(s) are of people the backup does not have (their ids are in the "
               "restore's audit entry)\n",
               rep.requests_orphaned);
    return 0;
}
