/*
 * consent_int.h - what the consent module shares with the rest of the
 * library (internal).
 */
#ifndef SARGS_CONSENT_INT_H
#define SARGS_CONSENT_INT_H

#include "sargs/consent.h"

#include "../vault/vault_int.h"

/* Flags of a person-and-purpose row (struct sg_store_pstate). */
#define SG_PS_CHILD    0x01u /* the consent in force came while the person was a child */
#define SG_PS_GUARDIAN 0x02u /* ...and a guardian consented */
#define SG_PS_OBJECTED 0x04u /* Art. 21 objection */
#define SG_PS_GROUNDS  0x08u /* compelling legitimate grounds recorded against it */
#define SG_PS_MINOR    0x10u /* a minor, for a purpose that refuses minors */

/* The category the policy keeps a date of birth in (fideslang's id). */
#define SG_BIRTH_DATE_CATEGORY "user.demographic.date_of_birth"

/* Field names sealed values of the ledger are bound to. */
#define SG_CONSENT_DETAILS_FIELD "sargs.consent.details"
#define SG_OBJECTION_FIELD       "sargs.objection.grounds"

/*
 * Hooks of sg_subject_add/update, inside their transaction with the
 * person's key loaded (v->dek):
 * sg_consent_link_pending hands consents recorded against the new person's
 * blind-indexed values (`n` entries of codes and bidx) over to them;
 * sg_consent_birth_date flags (or unflags) the person as a minor for the
 * purposes that refuse minors, from the stored date of birth.
 */
enum sg_rc sg_consent_link_pending(struct sg_vault *v, const struct sg_actor *who,
                                   const struct sg_uuid *id, const int *codes,
                                   const uint8_t (*bidx)[SG_BIDX_BYTES], size_t n, sg_time now,
                                   struct sg_err *err);
enum sg_rc sg_consent_birth_date(struct sg_vault *v, const struct sg_uuid *id, const char *date,
                                 size_t len, sg_time now, struct sg_err *err);

/* Age in whole years at `now` of someone born on `date` (YYYY-MM-DD); -1
 * when `date` is not a date or lies ahead. */
int sg_age_at(const char *date, size_t len, sg_time now);

#endif
