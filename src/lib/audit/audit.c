/*
 * audit.c - the audit hook; see audit.h.
 */
#include "audit.h"

#include <string.h>

#include "sargs/text.h"

static int name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = strlen(s);
    if (n > 128 || !sg_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

enum sg_rc sg_actor_check(const struct sg_actor *who, struct sg_err *err)
{
    if (!who || !name_ok(who->id) || !name_ok(who->role) || !name_ok(who->purpose))
        return sg_err_set(err, SG_INVALID,
                          "an actor needs an id, a role and a purpose (at most 128 bytes each, "
                          "no control characters)");
    return SG_OK;
}

enum sg_rc sg_audit_record(struct sg_store *store, const struct sg_actor *who, sg_time at,
                           const char *action, const struct sg_uuid *subject, const char *result,
                           struct sg_err *err)
{
    struct sg_store_audit a = {
        .at = at,
        .actor = who->id,
        .role = who->role,
        .purpose = who->purpose,
        .action = action,
        .subject = subject,
        .result = result,
    };
    enum sg_rc rc = store->ops->audit_append(store, &a, err);
    if (rc)
        sg_err_prefix(err, "audit write failed, nothing done");
    return rc;
}
