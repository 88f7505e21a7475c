/*
 * request_int.h - what the request module's files share (internal).
 */
#ifndef SARGS_REQUEST_INT_H
#define SARGS_REQUEST_INT_H

#include "sargs/calendar.h"
#include "sargs/request.h"

#include "../vault/vault_int.h"

/* The clock of requests: the policy's time zone and holiday calendar,
 * now, and today's local date. */
struct sg_req_clock {
    struct sg_tz *tz;
    struct sg_calendar cal;
    sg_time now;
    int64_t today;
};
enum sg_rc sg_req_clock(struct sg_vault *v, struct sg_req_clock *c, struct sg_err *err);
void sg_req_clock_release(struct sg_req_clock *c);

/* A stored request as callers see it, as of today. */
void sg_req_info(const struct sg_req_clock *c, const struct sg_store_request *r,
                 struct sg_request_info *out);

/* Saves the request, its transition (reason sealed) and the audit entry,
 * inside the caller's operation. */
enum sg_rc sg_req_transition(struct sg_vault *v, const struct sg_actor *who,
                             struct sg_store_request *r, const char *verb, const char *reason,
                             const struct sg_req_clock *c, struct sg_err *err);

/* Finds an identical request answered within the policy's window with the
 * data unchanged since (info->has_identical, info->identical). */
enum sg_rc sg_req_identical(struct sg_vault *v, const struct sg_store_request *r,
                            struct sg_request_info *info, struct sg_err *err);

/* Queues the answer of a refusal (its ground, the reason, the right to
 * complain) to the person, when the vault has an address for them. */
enum sg_rc sg_req_answer(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                         const char *ground, const char *reason, struct sg_err *err);

/* The language to answer person `s` in: theirs when the policy has it,
 * else the policy's first. */
const char *sg_req_lang(const struct sg_policy *p, const struct sg_subject *s);

/* Whether `lang` is Latvian (the answers' texts are lv or en). */
int sg_req_lv(const char *lang);

/*
 * Art. 19, inside the fulfilment's operation: lists in out->recipients the
 * recipients the change reached (those of a purpose using a category the
 * person has, for a rectification a corrected category, and those the
 * person's data was disclosed to by the audit log), never the confidential
 * ones, and queues a notice to each with a contact e-mail (listed in
 * out->notified). `before` is the person as the recipients knew them (their
 * identify_by values name the person), `after` the person rectified (may be
 * NULL otherwise). Reads the person's audit entries as `who` (audited).
 */
enum sg_rc sg_req_art19(struct sg_vault *v, const struct sg_actor *who,
                        const struct sg_store_request *r, const struct sg_subject *before,
                        const struct sg_subject *after, const struct sg_fulfil_in *in,
                        struct sg_fulfil_out *out, struct sg_err *err);

/* Queues the answer to an erasure to the address the person had (`before`),
 * sealed apart from their key, which the erasure destroyed. Nothing when
 * there was no address: the answer goes on the channel of the request. */
enum sg_rc sg_req_erasure_answer(struct sg_vault *v, const struct sg_store_request *r,
                                 const struct sg_subject *before, const struct sg_fulfil_out *out,
                                 struct sg_err *err);

#endif
