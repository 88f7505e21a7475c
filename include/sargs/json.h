/*
 * sargs/json.h - the JSON shape of sargs's records, in one place, so that the
 * command (--json) and the HTTP API answer alike. Every function returns a new
 * reference (jansson), or NULL when out of memory.
 */
#ifndef SARGS_JSON_H
#define SARGS_JSON_H

#include <jansson.h>

#include "sargs/audit.h"
#include "sargs/consent.h"
#include "sargs/err.h"
#include "sargs/vault.h"

/* {"id","state","created","changed","fields":{cat:value},"events":{name:time}
 *  [,"history":[{category,old_value,reason,actor,at}]]} */
json_t *sg_json_subject(const struct sg_subject *s);

/* {"id","state","created","changed"} */
json_t *sg_json_subject_row(const struct sg_subject_row *r);

/* {"index","at","actor","role","purpose","action","object","result",
 *  "subject" (pseudonym hex or null),"details" (or null)} */
json_t *sg_json_audit_entry(const struct sg_audit_entry *e);

/* {"size","root","at","note"} */
json_t *sg_json_head(const struct sg_audit_head *h);

/* ["hex", ...] */
json_t *sg_json_hashes(const uint8_t *hashes, size_t n);

/* {"subject","purpose","allowed","reason","basis","consent","since","expires"}
 * (the last three only when meaningful) */
json_t *sg_json_decision(const struct sg_decision *d, const char *subject, const char *purpose);

/* {"error":{"code","message"}} */
json_t *sg_json_error(const struct sg_err *err);

/*
 * Reads {"category": "value", ...} into `out` (at most `max`); values must be
 * strings. The strings stay owned by `obj`. SG_INVALID naming the first
 * offending key, SG_TOOBIG for more than `max`.
 */
enum sg_rc sg_json_fields(json_t *obj, struct sg_field_in *out, size_t max, size_t *n,
                          struct sg_err *err);

#endif
