/*
 * sargs/consent.h - the consent ledger, objections, restriction, and the
 * decision "may this person's data be used for this purpose now?".
 *
 * The ledger is append-only per person and purpose, in the states of the
 * W3C Data Privacy Vocabulary (dpv:ConsentRequested, ConsentGiven,
 * ConsentRefused, ConsentWithdrawn, ConsentExpired, RenewedConsentGiven).
 * Each event keeps when, how (method), in which language, under which
 * notice (the policy version in force then), who acted (the person, a
 * guardian, an authorised agent), an evidence reference (sealed under the
 * person's key, like every value) and the expiry the policy sets. Beside the
 * ledger one row per person and purpose holds the state a decision needs,
 * so that sg_may() is one indexed read and sees a withdrawal made by any
 * process at once.
 *
 * Decisions are not audit entries (they reveal no data and are asked far
 * more often than data is read); every change to consent, objection or
 * restriction is.
 */
#ifndef SARGS_CONSENT_H
#define SARGS_CONSENT_H

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/uuid.h"
#include "sargs/vault.h"

enum sg_consent_state {
    SG_CONSENT_NONE = 0, /* nothing recorded */
    SG_CONSENT_REQUESTED,
    SG_CONSENT_GIVEN,
    SG_CONSENT_REFUSED,
    SG_CONSENT_WITHDRAWN,
    SG_CONSENT_EXPIRED, /* computed: given, and past its expiry */
    SG_CONSENT_RENEWED, /* given again while in force: a new expiry */
};

/* "given", "withdrawn", ... and the DPV concept ("dpv:ConsentGiven"). */
const char *sg_consent_state_name(enum sg_consent_state s);
const char *sg_consent_state_dpv(enum sg_consent_state s);

enum sg_consent_method {
    SG_METHOD_WEB_FORM = 1,
    SG_METHOD_PAPER,
    SG_METHOD_EMAIL,
    SG_METHOD_PHONE,
    SG_METHOD_IN_PERSON,
    SG_METHOD_API, /* a service recorded it (e.g. the person's own app) */
};

/* "web_form", "paper", ...; sg_consent_method_parse returns 0 when unknown. */
const char *sg_consent_method_name(enum sg_consent_method m);
enum sg_consent_method sg_consent_method_parse(const char *s);

/* Who recorded the person's will. */
enum sg_consent_by {
    SG_BY_PERSON = 0,
    SG_BY_GUARDIAN, /* a parent or legal guardian, itself a person on file */
    SG_BY_AGENT,    /* an authorised agent (named in `agent`) */
};

struct sg_consent_in {
    enum sg_consent_method method; /* required */
    const char *lang;              /* language the person was asked in; NULL: the policy's first */
    const char *evidence;          /* a reference to the proof (form id, letter no.); may be NULL */
    const struct sg_uuid *guardian; /* SG_BY_GUARDIAN: the guardian's record (an adult) */
    const char *agent;              /* SG_BY_AGENT: who, as they named themselves */
    const char *birth_date;         /* YYYY-MM-DD the person declared, when the vault keeps none */
};

/*
 * The person a consent is about: an id, or - before the person has an
 * account - a blind-indexed value (e.g. the e-mail a newsletter form took).
 * A consent recorded against a value is linked to the person who is added
 * with that value later (sg_subject_add does it).
 */
struct sg_consent_subject {
    const struct sg_uuid *id; /* or NULL, and then: */
    const char *category;     /* an indexed category (id or alias) */
    const char *value;
};

/*
 * Records that the person gave, refused or withdrew consent, or was asked
 * (`state` SG_CONSENT_GIVEN, REFUSED, WITHDRAWN or REQUESTED), for purpose
 * `purpose` (an id of the policy in force, whose basis must be consent),
 * at the operation's time, under the notice in force. Giving while a
 * consent is in force renews it. The policy decides the rest:
 *   - a validity sets the expiry;
 *   - below the purpose's min_age (from the person's date of birth on file,
 *     `user.demographic.date_of_birth`, or the declared `birth_date`) a
 *     consent counts only once a guardian has consented too (the child's
 *     own and the guardian's events may come in either order); a purpose
 *     that refuses minors refuses them (SG_DENIED);
 *   - a guardian must be a person on file whose date of birth makes them
 *     an adult (18) at the time.
 * SG_INVALID for an unknown purpose, a purpose on another basis, a bad
 * method or language; SG_NOTFOUND for an unknown person or guardian;
 * SG_CONFLICT for a withdrawal of a consent not in force (or never given).
 * Writes follow the actor's view (sargs/vault.h). Audited ("consent.give",
 * ...). Nothing is written on any error.
 */
enum sg_rc sg_consent_record(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_consent_subject *subject, const char *purpose,
                             enum sg_consent_state state, const struct sg_consent_in *in,
                             struct sg_err *err);

/* One event of the ledger, as listed. Strings are valid during the call. */
struct sg_consent_event {
    int64_t seq;
    const char *purpose;
    enum sg_consent_state state;
    sg_time at;
    enum sg_consent_method method;
    const char *lang;
    const char *notice; /* the policy version hash in force then */
    enum sg_consent_by by;
    int has_guardian;
    struct sg_uuid guardian;
    const char *agent;    /* NULL unless SG_BY_AGENT */
    const char *evidence; /* NULL when none */
    sg_time expires;      /* 0: does not expire */
    int child;            /* the person was below the purpose's age then */
    const char *actor;    /* who recorded it */
};

/* The person's ledger in order; `cb` returning nonzero stops. Audited as a
 * read of the person (the view rules of sg_subject_get apply). */
enum sg_rc sg_consent_list(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                           int (*cb)(void *ctx, const struct sg_consent_event *e), void *ctx,
                           struct sg_err *err);

/*
 * Art. 21 objection to `purpose`. Only for purposes on public task or
 * legitimate interest, or direct marketing (SG_INVALID otherwise: a consent
 * is withdrawn instead). With `grounds` (the controller's compelling
 * legitimate grounds, Art. 21(1)) the objection is recorded as overridden,
 * never for direct marketing. `lift` withdraws the person's objection.
 * Audited; the grounds are sealed under the person's key.
 */
enum sg_rc sg_object(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                     const char *purpose, const char *grounds, int lift, struct sg_err *err);

/* Art. 18 restriction: the person's data is kept but not used (only with
 * their consent, or for vital interests). SG_CONFLICT when the person is
 * not active (or not restricted, to lift it). Audited. */
enum sg_rc sg_restrict(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                       int lift, struct sg_err *err);

/* Why a decision came out as it did (stable names: sg_may_reason_name). */
enum sg_may_reason {
    SG_MAY_BASIS = 0,         /* allowed: a basis other than consent */
    SG_MAY_CONSENT,           /* allowed: consent in force */
    SG_MAY_VITAL,             /* allowed despite a restriction: vital interests */
    SG_MAY_NO_CONSENT,        /* never given (or only asked) */
    SG_MAY_REFUSED,           /* the person refused */
    SG_MAY_WITHDRAWN,         /* the person withdrew it */
    SG_MAY_EXPIRED,           /* past the policy's validity */
    SG_MAY_CHILD_NO_GUARDIAN, /* a child's consent without a guardian's */
    SG_MAY_MINOR,             /* the purpose refuses minors, and this is one */
    SG_MAY_OBJECTED,          /* Art. 21 objection, no compelling grounds */
    SG_MAY_DIRECT_MARKETING,  /* objection to direct marketing: stops, always */
    SG_MAY_RESTRICTED,        /* Art. 18 restriction */
    SG_MAY_GPC,               /* Global Privacy Control opt-out of sale/sharing */
    SG_MAY_HIDDEN,            /* a deactivated profile: only legal obligations */
    SG_MAY_ANONYMISED,
    SG_MAY_ERASED,
};

const char *sg_may_reason_name(enum sg_may_reason r);

struct sg_decision {
    int allowed;
    enum sg_may_reason reason;
    enum sg_basis basis;
    enum sg_consent_state consent; /* the consent state seen (NONE for other bases) */
    sg_time since;                 /* when that state began; 0 when none */
    sg_time expires;               /* of a consent in force; 0 when none */
};

#define SG_MAY_GPC_SIGNAL 1u /* the request carried Sec-GPC: 1 */

/*
 * May the data of person `id` be used for `purpose` now? Asked by the
 * operator or a staff or service role (SG_DENIED, audited, for others: the
 * answer tells whether a person consented). Weighs, in order:
 * the person's state (erased, anonymised, hidden: only legal obligations),
 * restriction, objection, the Global Privacy Control signal for purposes the
 * policy marks as sale or sharing, then the basis: consent must be in force
 * (given or renewed, not expired, counting for a child only with a
 * guardian's, not for a minor the purpose refuses). SG_NOTFOUND for an
 * unknown person, SG_INVALID for an unknown purpose; otherwise SG_OK and the
 * answer in `out`. Not audited; no transaction; one indexed read.
 */
enum sg_rc sg_may(struct sg_vault *v, const struct sg_actor *who, const struct sg_uuid *id,
                  const char *purpose, unsigned flags, struct sg_decision *out, struct sg_err *err);

/* Whether `who` may ask for decisions at all (the operator, a staff or a
 * service role): SG_OK, or SG_DENIED, audited. sg_may() asks it each time;
 * a caller with many questions asks once first and then takes every error
 * of sg_may() as the answer to its question. */
enum sg_rc sg_may_ask(struct sg_vault *v, const struct sg_actor *who, struct sg_err *err);

/*
 * Decisions in bulk (a mailing run, a nightly job deciding for everybody):
 * while on, sg_may() on this handle reads from a snapshot kept across
 * decisions for as long as nothing has committed to the vault since. That
 * is checked before every decision (on SQLite in the write-ahead log's
 * index, which every process shares: no system call), so a withdrawal made
 * by any process is seen by the very next decision, as without it. Any
 * other call on the handle ends the snapshot (the mode stays on), and so
 * does turning it on again; a kept snapshot is renewed at least every
 * 50 ms. Turn it off (or on again) before the handle idles: a snapshot left
 * open keeps SQLite's log from starting over. Does nothing on PostgreSQL,
 * or when the log's index cannot be read.
 */
void sg_may_bulk(struct sg_vault *v, int on);

/* --------------------------------------------------------------- proof */

/*
 * The person's consent records as ISO/IEC TS 27560 records with DPV terms
 * (JSON text, malloc'd, the caller frees). Audited as a read.
 */
enum sg_rc sg_consent_export(struct sg_vault *v, const struct sg_actor *who,
                             const struct sg_uuid *id, char **json, struct sg_err *err);

/*
 * A Kantara Consent Receipt (v1.1 fields) for event `seq` of the person's
 * ledger, signed: a JWS in compact form (EdDSA, RFC 8037) under the
 * receipt key (keys/receipt.key, apart from the database). malloc'd.
 */
enum sg_rc sg_consent_receipt(struct sg_vault *v, const struct sg_actor *who,
                              const struct sg_uuid *id, int64_t seq, char **jws,
                              struct sg_err *err);

/* The receipt verifier key, "sargs-receipt/<vault id>+<base64 Ed25519 key>". */
enum sg_rc sg_consent_receipt_key(struct sg_vault *v, char *out, size_t cap, struct sg_err *err);

/*
 * Checks a receipt against a verifier key without any vault: SG_OK and the
 * receipt's claims (JSON text, malloc'd, may be NULL) when the signature
 * holds; SG_DENIED when it does not (any changed byte), SG_INVALID when
 * the text is not a receipt or the key not a key.
 */
enum sg_rc sg_consent_receipt_verify(const char *jws, const char *vkey, char **claims,
                                     struct sg_err *err);

#endif
