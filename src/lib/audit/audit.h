/*
 * audit.h - the one audit hook every read or change of personal data calls
 * (internal). It appends to the store in the caller's transaction, so an
 * operation whose audit write fails does not happen. For now the record goes
 * to a plain append-only table; the audit module's Merkle log replaces it
 * behind this same call.
 */
#ifndef SARGS_AUDIT_INT_H
#define SARGS_AUDIT_INT_H

#include "sargs/vault.h"
#include "../store/store.h"

/* Checks that an actor has an id, a role and a purpose of sane shape. */
enum sg_rc sg_actor_check(const struct sg_actor *who, struct sg_err *err);

/*
 * Records that `who` did `action` ("subject.read", ...) on `subject` (may be
 * NULL) with `result` ("ok", "none", ...), at `at`.
 */
enum sg_rc sg_audit_record(struct sg_store *store, const struct sg_actor *who, sg_time at,
                           const char *action, const struct sg_uuid *subject, const char *result,
                           struct sg_err *err);

#endif
