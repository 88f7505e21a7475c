/*
 * sargs/selfservice.h - people at their own data: sign-in with a one-time
 * code sent through the outbox, and what such a session may do (see their
 * data, download the access package and the portable export, give and
 * withdraw consents, submit requests and follow them).
 *
 * A person's session acts as the reserved role SG_ROLE_SELF with `self`
 * set: every field, of their own record only; changes only to their own
 * consents; requests through the policy's account channel, identified by
 * the sign-in itself.
 */
#ifndef SARGS_SELFSERVICE_H
#define SARGS_SELFSERVICE_H

#include "sargs/operator.h"
#include "sargs/request.h"
#include "sargs/vault.h"

#define SG_CODE_DIGITS        8
#define SG_CODE_USEC          (INT64_C(10) * 60 * SG_USEC_PER_SEC)
#define SG_CODE_ATTEMPTS      5 /* tries of one code */
#define SG_CODE_EVERY         (INT64_C(60) * SG_USEC_PER_SEC)
#define SG_CODE_SENDS_PER_DAY 10 /* codes sent to one person in 24 hours */
#define SG_CODE_FAILS_PER_DAY 20 /* wrong codes of one person in 24 hours */

/*
 * Sends a one-time code (SG_CODE_DIGITS uniform digits, valid 10 minutes)
 * to the person whose blind-indexed `category` (e-mail) equals `value`, to
 * the address on file, through the outbox. Answers SG_OK whether or not
 * anyone has that value, and whether or not a code went out: at most one a
 * minute and SG_CODE_SENDS_PER_DAY a day per person. Only a hash of the
 * code, keyed with the vault's index key, is stored. Audited (actor
 * "sargs:sign-in") when sent.
 */
enum sg_rc sg_person_code_send(struct sg_vault *v, const char *category, const char *value,
                               struct sg_err *err);

/*
 * Signs a person in with the code: SG_OK, the session's secret and their
 * id. SG_DENIED "wrong or expired code" alike for an unknown person, no
 * code, an expired, a wrong or a used one, a code tried SG_CODE_ATTEMPTS
 * times, and a person with SG_CODE_FAILS_PER_DAY wrong codes in a day. The
 * check and its count are one transaction on the person's row, so parallel
 * tries neither reuse a code nor escape the count. Wrong codes and
 * sign-ins are audited. An unknown address is refused through a row of its
 * own (a decoy no subject has, made at its first use), taken as a person's
 * is, so that the refusal takes as long as for a known address without a
 * code; `id` is then zero.
 */
enum sg_rc sg_person_session_open(struct sg_vault *v, const char *category, const char *value,
                                  const char *code, char secret[SG_SESSION_MAX], struct sg_uuid *id,
                                  struct sg_err *err);

/* Checks a person's session: SG_OK and the person, or SG_DENIED. */
enum sg_rc sg_person_session_check(struct sg_vault *v, const char *secret, struct sg_uuid *id,
                                   struct sg_err *err);

/* Ends it. */
enum sg_rc sg_person_session_close(struct sg_vault *v, const char *secret, struct sg_err *err);

/* The actor of a person's session (`buf` holds its id text). */
void sg_person_actor(const struct sg_uuid *id, char buf[64], struct sg_actor *out);

/*
 * A request the person makes themself, through the policy's account
 * channel, identified by their sign-in (kind: access, portability,
 * rectification, erasure, restriction, objection, review, withdrawal), in
 * one transaction. Access and portability are answered at once (`out`
 * gets the files) unless an identical one was answered within the
 * policy's window with the data unchanged since (info->has_identical):
 * that one, like every other kind, waits for the controller's staff. The
 * controller's side is recorded under the actor "sargs:self-service".
 */
enum sg_rc sg_person_request(struct sg_vault *v, const struct sg_uuid *id, int kind,
                             struct sg_request_info *info, struct sg_fulfil_out *out,
                             struct sg_err *err);

/* The person's own requests, newest first. */
enum sg_rc sg_person_requests(struct sg_vault *v, const struct sg_uuid *id,
                              int (*cb)(void *ctx, const struct sg_request_info *r), void *ctx,
                              struct sg_err *err);

#endif
