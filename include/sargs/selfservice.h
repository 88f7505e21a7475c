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

#define SG_CODE_DIGITS   8
#define SG_CODE_USEC     (INT64_C(10) * 60 * SG_USEC_PER_SEC)
#define SG_CODE_ATTEMPTS 5
#define SG_CODE_EVERY    (INT64_C(60) * SG_USEC_PER_SEC)

/*
 * Sends a one-time code (SG_CODE_DIGITS digits, valid 10 minutes) to the
 * person whose blind-indexed `category` (e-mail) equals `value`, to the
 * address on file, through the outbox. Answers SG_OK whether or not anyone
 * has that value (nothing tells an outsider who is on file); at most one
 * code a minute per person. Audited when sent.
 */
enum sg_rc sg_person_code_send(struct sg_vault *v, const char *category, const char *value,
                               struct sg_err *err);

/*
 * Signs a person in with the code: SG_OK, the session's secret and their
 * id. SG_DENIED "wrong or expired code" alike for an unknown person, no
 * code, an expired or a wrong one; after SG_CODE_ATTEMPTS wrong codes the
 * code is void (SG_LIMITED). The code is single-use. Audited.
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
 * rectification, erasure, restriction, objection, review, withdrawal).
 * Access and portability are answered at once (`out` gets the files; may
 * be NULL for other kinds, which wait for the controller).
 */
enum sg_rc sg_person_request(struct sg_vault *v, const struct sg_uuid *id, int kind,
                             struct sg_request_info *info, struct sg_fulfil_out *out,
                             struct sg_err *err);

/* The person's own requests, newest first. */
enum sg_rc sg_person_requests(struct sg_vault *v, const struct sg_uuid *id,
                              int (*cb)(void *ctx, const struct sg_request_info *r), void *ctx,
                              struct sg_err *err);

#endif
