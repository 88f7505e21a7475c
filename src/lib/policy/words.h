/*
 * words.h - phrases shared by the notice, the record of processing and the
 * diff (internal). Each appends to a buffer in "lv" or "en" (any other
 * language gets English).
 */
#ifndef SARGS_POLICY_WORDS_H
#define SARGS_POLICY_WORDS_H

#include "sargs/buf.h"
#include "sargs/policy.h"

#define WORDS_DATE_MAX 48

int words_lv(const char *lang);

/* "1 gadu un 6 mēnešus" / "1 year and 6 months"; with `genitive` the
 * Latvian genitive ("12 mēnešu", for "... laikā"). */
enum sg_rc words_duration(struct sg_buf *b, const struct sg_duration *d, const char *lang,
                          int genitive, struct sg_err *err);

/* "piekrišana" / "consent". */
const char *words_basis_short(enum sg_basis b, const char *lang);

/* The basis in full with its article under regulation `reg`. */
enum sg_rc words_basis(struct sg_buf *b, enum sg_basis basis, enum sg_regulation reg,
                       const char *lang, struct sg_err *err);

/* The names of categories, comma-separated. */
enum sg_rc words_categories(struct sg_buf *b, const struct sg_category *const *cats, size_t n,
                            const char *lang, struct sg_err *err);

/* One sentence for a retention rule: "IP adrese: dzēš 10 dienas pēc datu
 * iegūšanas." */
enum sg_rc words_retention(struct sg_buf *b, const struct sg_policy *p,
                           const struct sg_retention *r, const char *lang, struct sg_err *err);

/* A country's name for an ISO code ("EU" too); the code itself when
 * unknown; for NULL, "countries outside the EU/EEA". */
const char *words_country(const char *code, const char *lang);

/* "2018. gada 5. oktobris" / "5 October 2018". */
char *words_date(sg_time t, const char *lang, char out[WORDS_DATE_MAX]);
/* The same, in Latvian in the locative with `locative` ("... 5. oktobrī"). */
char *words_date_case(sg_time t, const char *lang, int locative, char out[WORDS_DATE_MAX]);

#endif
