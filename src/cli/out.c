/*
 * out.c - how the command prints results and errors.
 */
#include "cli.h"

#include <stdio.h>

int cli_fail(const struct cli *c, const struct sg_err *err)
{
    enum sg_rc rc = err->rc == SG_OK ? SG_INTERNAL : err->rc;
    const char *msg = err->msg[0] ? err->msg : sg_rc_name(rc);
    if (c->json) {
        struct sg_err e = *err;
        e.rc = rc;
        json_t *j = sg_json_error(&e);
        if (j) {
            json_dumpf(j, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(j);
        }
    } else {
        fprintf(stderr, "sargs: %s\n", msg);
    }
    return sg_rc_exit_code(rc);
}

int cli_print_json(json_t *j)
{
    if (!j) {
        fputs("{\"error\":{\"code\":\"no_memory\",\"message\":\"out of memory\"}}\n", stdout);
        return 10;
    }
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(j);
    return 0;
}

const char *cli_time(sg_time t, char buf[SG_TIME_STR_MAX])
{
    return sg_time_format(t, buf);
}
