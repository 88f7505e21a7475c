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

enum sg_rc sg_audit_record_details(struct sg_auditlog *log, struct sg_store *s,
                                   const struct sg_actor *who, sg_time at, const char *action,
                                   const struct sg_uuid *subject, const char *result, int kind,
                                   const void *details, size_t len, struct sg_err *err)
{
    char object[32];
    const char *dot = strchr(action, '.');
    size_t n = dot ? (size_t)(dot - action) : strlen(action);
    if (n >= sizeof object)
        n = sizeof object - 1;
    memcpy(object, action, n);
    object[n] = '\0';
    struct sg_audit_rec r = {
        .at = at,
        .who = who,
        .action = action,
        .object = object,
        .result = result,
        .details_kind = kind,
        .details = details,
        .details_len = len,
    };
    enum sg_rc rc = sg_auditlog_append(log, s, &r, subject, err);
    if (rc)
        sg_err_prefix(err, "audit write failed, nothing done");
    return rc;
}

enum sg_rc sg_audit_record(struct sg_auditlog *log, struct sg_store *s, const struct sg_actor *who,
                           sg_time at, const char *action, const struct sg_uuid *subject,
                           const char *result, struct sg_err *err)
{
    return sg_audit_record_details(log, s, who, at, action, subject, result, 0, NULL, 0, err);
}
