/*
 * json.c - the JSON shape of sargs's records; see sargs/json.h.
 */
#include "sargs/json.h"
#include "sargs/text.h"

#include <string.h>

json_t *sg_json_subject(const struct sg_subject *s)
{
    char ids[SG_UUID_STR_LEN + 1], t1[SG_TIME_STR_MAX], t2[SG_TIME_STR_MAX];
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:s}", "id", sg_uuid_format(&s->id, ids), "state",
                  sg_subject_state_name(s->state), "created", sg_time_format(s->created, t1),
                  "changed", sg_time_format(s->changed, t2));
    json_t *f = json_object(), *e = json_object();
    if (!j || !f || !e) {
        json_decref(j);
        json_decref(f);
        json_decref(e);
        return NULL;
    }
    for (size_t i = 0; i < s->nfields; i++)
        json_object_set_new(f, s->fields[i].category,
                            json_stringn(s->fields[i].value, s->fields[i].len));
    for (size_t i = 0; i < s->nevents; i++)
        json_object_set_new(e, s->events[i].name, json_string(sg_time_format(s->events[i].at, t1)));
    json_object_set_new(j, "fields", f);
    /* Events and groups are withheld from narrow views (then there is not
     * even the `created` event): absent, not empty. */
    if (s->nevents) {
        json_t *g = json_array();
        for (size_t i = 0; g && i < s->ngroups; i++)
            json_array_append_new(g, json_string(s->groups[i]));
        json_object_set_new(j, "events", e);
        json_object_set_new(j, "groups", g ? g : json_array());
    } else {
        json_decref(e);
    }
    if (s->history) {
        json_t *h = json_array();
        for (size_t i = 0; h && i < s->nhistory; i++) {
            const struct sg_change *ch = &s->history[i];
            json_t *o = json_pack("{s:s,s:s?,s:s,s:s}", "category", ch->category, "reason",
                                  ch->reason, "actor", ch->actor, "at", sg_time_format(ch->at, t1));
            if (o)
                json_object_set_new(o, "old_value",
                                    ch->old_value ? json_stringn(ch->old_value, ch->old_len)
                                                  : json_null());
            json_array_append_new(h, o);
        }
        json_object_set_new(j, "history", h);
    }
    return j;
}

json_t *sg_json_decision(const struct sg_decision *d, const char *subject, const char *purpose)
{
    char t1[SG_TIME_STR_MAX], t2[SG_TIME_STR_MAX];
    json_t *j = json_pack("{s:s,s:s,s:b,s:s,s:s}", "subject", subject, "purpose", purpose,
                          "allowed", d->allowed, "reason", sg_may_reason_name(d->reason), "basis",
                          sg_basis_name(d->basis));
    if (j && d->basis == SG_BASIS_CONSENT) {
        json_object_set_new(j, "consent", json_string(sg_consent_state_name(d->consent)));
        json_object_set_new(j, "since",
                            d->since ? json_string(sg_time_format(d->since, t1)) : json_null());
        json_object_set_new(j, "expires",
                            d->expires ? json_string(sg_time_format(d->expires, t2)) : json_null());
    }
    return j;
}

json_t *sg_json_subject_row(const struct sg_subject_row *r)
{
    char ids[SG_UUID_STR_LEN + 1], t1[SG_TIME_STR_MAX], t2[SG_TIME_STR_MAX];
    return json_pack("{s:s,s:s,s:s,s:s}", "id", sg_uuid_format(&r->id, ids), "state",
                     sg_subject_state_name(r->state), "created", sg_time_format(r->created, t1),
                     "changed", sg_time_format(r->changed, t2));
}

json_t *sg_json_audit_entry(const struct sg_audit_entry *e)
{
    char t[SG_TIME_STR_MAX], ps[33];
    json_t *j =
        json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "index", (json_int_t)e->index, "at",
                  sg_time_format(e->at, t), "actor", e->actor, "role", e->role, "purpose",
                  e->purpose, "action", e->action, "object", e->object, "result", e->result);
    if (j) {
        json_object_set_new(j, "subject",
                            e->has_subject ? json_string(sg_hex_encode(e->pseudonym, 16, ps))
                                           : json_null());
        json_object_set_new(j, "details", e->details ? json_string(e->details) : json_null());
    }
    return j;
}

json_t *sg_json_head(const struct sg_audit_head *h)
{
    char root[65], t[SG_TIME_STR_MAX];
    return json_pack("{s:I,s:s,s:s,s:s}", "size", (json_int_t)h->size, "root",
                     sg_hex_encode(h->root, SG_HASH_BYTES, root), "at", sg_time_format(h->at, t),
                     "note", h->note ? h->note : "");
}

json_t *sg_json_hashes(const uint8_t *hashes, size_t n)
{
    json_t *a = json_array();
    char hx[65];
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(
            a, json_string(sg_hex_encode(hashes + i * SG_HASH_BYTES, SG_HASH_BYTES, hx)));
    return a;
}

json_t *sg_json_error(const struct sg_err *err)
{
    enum sg_rc rc = err->rc == SG_OK ? SG_INTERNAL : err->rc;
    return json_pack("{s:{s:s,s:s}}", "error", "code", sg_rc_name(rc), "message",
                     err->msg[0] ? err->msg : sg_rc_name(rc));
}

enum sg_rc sg_json_fields(json_t *obj, struct sg_field_in *out, size_t max, size_t *n,
                          struct sg_err *err)
{
    const char *key;
    json_t *val;
    *n = 0;
    if (!json_is_object(obj))
        return sg_err_set(err, SG_INVALID, "'fields' must be an object of category: value");
    json_object_foreach(obj, key, val)
    {
        if (!json_is_string(val))
            return sg_err_set(err, SG_INVALID, "field '%.64s' must be a string", key);
        if (*n == max)
            return sg_err_set(err, SG_TOOBIG, "more than %zu fields", max);
        out[*n].category = key;
        out[*n].value = json_string_value(val);
        out[*n].len = json_string_length(val);
        (*n)++;
    }
    return SG_OK;
}
