/*
 * sargs/request.h - data-subject requests: every right, on time, with
 * evidence.
 *
 * A request moves through states, each transition stored with its actor,
 * time and reason (sealed) and audited:
 *
 *   received -> awaiting identity | awaiting clarification (clock paused)
 *            -> verified -> in progress -> extended
 *            -> fulfilled | partially fulfilled | refused | withdrawn
 *
 * Deadlines come from the calendar engine (sargs/calendar.h) in the
 * policy's time zone and holiday calendar: the receipt's local date plus
 * one month (three when extended), plus the days the controller's questions
 * paused it, moved to the next working day. A request received on a
 * channel that does not identify the person (plain e-mail, post) waits for
 * identity, paused, until the person is identified by a method the policy
 * accepts on that channel.
 */
#ifndef SARGS_REQUEST_H
#define SARGS_REQUEST_H

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/uuid.h"
#include "sargs/vault.h"

enum sg_request_kind {
    SG_REQ_ACCESS = 1,    /* Art. 15 */
    SG_REQ_RECTIFICATION, /* Art. 16 */
    SG_REQ_ERASURE,       /* Art. 17 */
    SG_REQ_RESTRICTION,   /* Art. 18 */
    SG_REQ_PORTABILITY,   /* Art. 20 */
    SG_REQ_OBJECTION,     /* Art. 21 */
    SG_REQ_REVIEW,        /* Art. 22(3): a human review of an automated decision */
    SG_REQ_WITHDRAWAL,    /* Art. 7(3): withdrawal of consent */
};

enum sg_request_state {
    SG_RS_RECEIVED = 0,
    SG_RS_AWAITING_IDENTITY,
    SG_RS_AWAITING_CLARIFICATION,
    SG_RS_VERIFIED,
    SG_RS_IN_PROGRESS,
    SG_RS_EXTENDED,
    SG_RS_FULFILLED,
    SG_RS_PARTIALLY_FULFILLED,
    SG_RS_REFUSED,
    SG_RS_WITHDRAWN,
};

/* Names ("access", "awaiting_identity", ...) and back (0 / -1 unknown). */
const char *sg_request_kind_name(int kind);
int sg_request_kind_parse(const char *s);
const char *sg_request_state_name(int state);

struct sg_request_info {
    struct sg_uuid id;
    int has_subject;
    struct sg_uuid subject;
    int kind, state;
    char channel[33];
    char identity[33]; /* "" until identified */
    sg_time received;
    int64_t received_day; /* local date of receipt */
    int64_t due;          /* the last day an answer is on time (unextended) */
    int64_t extended_due; /* 0 unless extended */
    int64_t paused_days;  /* days the controller's questions paused it, so far */
    int paused, closed, overdue, extended;
    int copies;        /* access packages given so far */
    int has_identical; /* an identical request was answered within the policy's
                          window and the data did not change since: a refusal
                          ground sargs proposes */
    struct sg_uuid identical;
};

/*
 * Registers a request of `kind` received on `channel` (an id of the
 * policy's `requests.channels`) at `received` (0: now; never in the
 * future), for person `subject` (NULL when not yet known), made by an
 * authorised agent when `agent` (the authorisation's reference) is given.
 * On a channel that does not identify, the request waits for identity
 * (paused). SG_CONFLICT when the person has an open request of the same
 * kind (its id in the message: the new one is linked to it, not
 * duplicated). Audited.
 */
enum sg_rc sg_request_new(struct sg_vault *v, const struct sg_actor *who, int kind,
                          const char *channel, const struct sg_uuid *subject, sg_time received,
                          const char *agent, struct sg_request_info *out, struct sg_err *err);

/* The request and, with `cb`, its transitions (reasons opened). */
struct sg_request_event {
    sg_time at;
    const char *actor, *verb, *reason; /* reason may be NULL */
    int state;
};
enum sg_rc sg_request_get(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                          struct sg_request_info *out,
                          int (*cb)(void *ctx, const struct sg_request_event *e), void *ctx,
                          struct sg_err *err);

struct sg_request_query {
    int overdue;    /* only those past their due day */
    int due_within; /* only those due within this many days (0: any) */
    int all;        /* closed ones too (one person's, with `subject`) */
    const struct sg_uuid *subject;
    size_t limit; /* 0: 1000 */
};

/* Open requests by due date (or one person's, newest first). */
enum sg_rc sg_request_list(struct sg_vault *v, const struct sg_actor *who,
                           const struct sg_request_query *q,
                           int (*cb)(void *ctx, const struct sg_request_info *r), void *ctx,
                           struct sg_err *err);

/*
 * Records the person identified with `method` (an identity method the
 * policy accepts on the request's channel: id_document, registered_post,
 * qualified_signature, account, known_contact); with an ID document shown
 * in person, only that it was checked and its kind are kept, never a copy.
 * `subject` names the person when the request did not. Ends a wait for
 * identity. SG_DENIED for a method the channel does not accept.
 */
enum sg_rc sg_request_verify(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *method,
                             const struct sg_uuid *subject, struct sg_err *err);

/* Pauses the clock: the controller asked for clarification (or identity).
 * `reason` (required) is what was asked. */
enum sg_rc sg_request_pause(struct sg_vault *v, const struct sg_actor *who,
                            const struct sg_uuid *id, const char *reason, struct sg_err *err);
/* Restarts it; the paused calendar days move the due date. */
enum sg_rc sg_request_resume(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, struct sg_err *err);

/* Extends by two months (due: receipt + 3 months, moved to a working day),
 * only while the first month has not passed, with `reason` sent to the
 * person. SG_CONFLICT after the first month or when already extended. */
enum sg_rc sg_request_extend(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *reason, struct sg_err *err);

/* What fulfilling takes, by kind. */
struct sg_fulfil_in {
    /* rectification: the new values, and the proof for categories the
     * person does not decide alone */
    const struct sg_field_in *fields;
    size_t nfields;
    const char *proof;
    /* erasure: the Art. 17(1) ground: no_longer_necessary, consent_withdrawn,
     * objection, unlawful, legal_obligation, child */
    const char *ground;
    /* objection, withdrawal: the purpose (withdrawal: NULL = every consent) */
    const char *purpose;
    /* review: the outcome of the human review */
    const char *outcome;
};

/* A file of an answer (access, portability). */
struct sg_answer_file {
    char name[64];
    char *data; /* malloc'd */
    size_t len;
};

struct sg_fulfil_out {
    int state;                    /* fulfilled or partially fulfilled */
    struct sg_answer_file *files; /* malloc'd */
    size_t nfiles;
    char held[512];       /* erasure: categories kept, and why */
    char recipients[512]; /* erasure, rectification, restriction: Art. 19 recipients */
    char notified[512];   /* those of them sent a notice (they have a contact e-mail) */
    int64_t fee_cents;    /* a further copy's fee (0: free) */
};

/* Frees the files of an answer. */
void sg_fulfil_out_release(struct sg_fulfil_out *out);

/*
 * Fulfils the request: access (a package in JSON, CSV per category and an
 * HTML page in the person's language with the Art. 15(1)(a)-(h) and 15(2)
 * items for this person), portability (what the person provided, JSON and
 * CSV), rectification (facts only; opinions are refused; proof needed but
 * for categories the person decides), erasure (on an Art. 17 ground;
 * categories a legal obligation holds are kept and named; the rest is
 * crypto-shredded), restriction, objection, withdrawal (through the
 * consent engine), review (the outcome recorded). After a rectification,
 * an erasure or a restriction, the recipients the change reached are
 * listed and those with a contact e-mail are sent a notice (Art. 19).
 * SG_CONFLICT before the person is identified, or for a closed request.
 * The answer is queued to the person through the outbox (an erasure's
 * to the address the person had). Audited.
 */
enum sg_rc sg_request_fulfil(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const struct sg_fulfil_in *in,
                             struct sg_fulfil_out *out, struct sg_err *err);

/*
 * Refuses on `ground`: identical (sargs must have found an identical
 * request answered within the policy's window, the data unchanged since),
 * unfounded or excessive (manifestly; `reason` required), identity (not
 * established after it was asked for), other (a law; `reason` required).
 * The answer states the ground and the right to complain to the
 * supervisory authority and to a court. Audited.
 */
enum sg_rc sg_request_refuse(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, const char *ground, const char *reason,
                             struct sg_err *err);

/* The person withdraws the request. */
enum sg_rc sg_request_withdraw(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_uuid *id, struct sg_err *err);

/* Records that the person's data was disclosed to `recipient` (an id of
 * the policy's recipients): access answers list these for two years, but
 * never those to recipients marked confidential. Audited. */
enum sg_rc sg_subject_disclose(struct sg_vault *v, const struct sg_actor *who,
                               const struct sg_uuid *id, const char *recipient, struct sg_err *err);

#endif
