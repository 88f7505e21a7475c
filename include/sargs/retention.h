/*
 * sargs/retention.h - retention that acts by itself: the sweeper, global
 * event dates, and what anonymisation keeps for statistics.
 *
 * The sweeper evaluates every retention rule of the policy in force (an
 * anchor event plus an ISO 8601 duration, a condition, an action) for every
 * person against the vault's clock, and acts: deletes (the person, or the
 * categories a rule names), anonymises (identifiers and key destroyed; the
 * rule's `keep` categories stay as statistics under ids of their own, with
 * no way back to the person), hides, restricts, or queues a notice in the
 * outbox. Each action is audited and marked done for its (person, rule,
 * anchor) in the same transaction, so a sweep run twice acts once, and a
 * sweep killed halfway is finished by the next without doing anything twice
 * or sending any notice twice.
 *
 * Rules: a person lacking a rule's anchor event is skipped and reported,
 * never guessed; a restricted person (Art. 18) is only notified, never
 * deleted, anonymised or hidden; erased and anonymised people are done with.
 * Actions on one person run in the order notify, restrict, hide, delete
 * categories, anonymise or delete: a notice goes out before the data it
 * needs is gone.
 */
#ifndef SARGS_RETENTION_H
#define SARGS_RETENTION_H

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/policy.h"
#include "sargs/uuid.h"
#include "sargs/vault.h"

#define SG_SWEEP_DRY_RUN 1u

/* One action taken (or, in a dry run, due), or one person skipped. */
struct sg_sweep_action {
    struct sg_uuid subject;
    const char *rule;
    enum sg_action action; /* 0 when skipped */
    sg_time due;
    const char *skipped; /* why nothing was done ("no last_login event"), or NULL */
};

struct sg_sweep_report {
    size_t evaluated; /* people looked at */
    size_t acted;     /* people with at least one action */
    size_t deleted, fields_deleted, anonymised, hidden, restricted, notified;
    size_t skipped_no_anchor, skipped_no_address;
    double seconds;
};

/*
 * Sweeps the whole vault once. `on_action` (may be NULL) sees every action
 * and skip; returning nonzero stops the sweep there (what was done so far
 * is committed; the next sweep goes on from it).
 * `progress` (may be NULL) gets the number of people evaluated so far,
 * after each page. With SG_SWEEP_DRY_RUN nothing is written. Work is
 * committed a page (up to 1,000 people) at a time.
 */
enum sg_rc sg_sweep(struct sg_vault *v, const struct sg_actor *who, unsigned flags,
                    int (*on_action)(void *ctx, const struct sg_sweep_action *a),
                    void (*progress)(void *ctx, size_t evaluated), void *ctx,
                    struct sg_sweep_report *rep, struct sg_err *err);

/* Whether `who` may run or follow sweeps (the operator and staff roles);
 * SG_DENIED, audited, otherwise. */
enum sg_rc sg_retention_allowed(struct sg_vault *v, const struct sg_actor *who, struct sg_err *err);

/* Records a date of an event the policy declares `global` (one for
 * everybody, e.g. a European election). Idempotent. Audited. */
enum sg_rc sg_global_event(struct sg_vault *v, const struct sg_actor *who, const char *name,
                           sg_time at, struct sg_err *err);

/* What anonymisation kept: counts by category, value and year of
 * registration ("person"/"anonymised" counts the people). Sweeping,
 * recording global events and statistics are for the operator and staff
 * roles (SG_DENIED otherwise). */
enum sg_rc sg_statistics(struct sg_vault *v, const struct sg_actor *who,
                         int (*cb)(void *ctx, const char *category, const char *value, int year,
                                   uint64_t count),
                         void *ctx, struct sg_err *err);

#endif
