/*
 * audit.h - the one audit hook every read or change of personal data calls
 * (internal). It appends to the Merkle log (log.h) in the caller's
 * transaction, so an operation whose audit write fails does not happen.
 */
#ifndef SARGS_AUDIT_INT_H
#define SARGS_AUDIT_INT_H

#include "sargs/vault.h"
#include "../store/store.h"
#include "log.h"

/* Checks that an actor has an id, a role and a purpose of sane shape. */
enum sg_rc sg_actor_check(const struct sg_actor *who, struct sg_err *err);

/*
 * Records that `who` did `action` ("subject.read", ...) on `subject` (may be
 * NULL) with `result` ("ok", "none", ...), at `at`. The object is the part of
 * the action before its dot ("subject").
 */
enum sg_rc sg_audit_record(struct sg_auditlog *log, struct sg_store *s, const struct sg_actor *who,
                           sg_time at, const char *action, const struct sg_uuid *subject,
                           const char *result, struct sg_err *err);

/* The same with details: `kind` 1 for text that is not personal, 2 for bytes
 * already sealed under the person's key. */
enum sg_rc sg_audit_record_details(struct sg_auditlog *log, struct sg_store *s,
                                   const struct sg_actor *who, sg_time at, const char *action,
                                   const struct sg_uuid *subject, const char *result, int kind,
                                   const void *details, size_t len, struct sg_err *err);

#endif
