/*
 * sargs/catalog.h - the data categories a vault knows, and how each kind of
 * value is checked and normalised.
 *
 * A category has a stable dotted id (fideslang ids where one fits, e.g.
 * "user.contact.email") and optionally a short alias the command accepts
 * ("email"). Values are checked by type before anything is stored; a value
 * that is blind-indexed also has an index form (e.g. the e-mail lower-cased)
 * from which the look-up hash is computed.
 *
 * The categories come from the organisation's policy (sargs/policy.h): a
 * loaded policy holds a catalog, and a vault uses the catalog of the policy
 * in force. A category carries everything the policy says about it, so that
 * later modules (requests, retention, views) read one struct; a catalog built
 * by hand (tests) may leave those fields zero.
 */
#ifndef SARGS_CATALOG_H
#define SARGS_CATALOG_H

#include <stddef.h>

#include "sargs/buf.h"
#include "sargs/err.h"
#include "sargs/text.h"

/* The category of a person's e-mail address: where notices, answers to
 * requests and sign-in codes go, and what a person signs in with. */
#define SG_CATEGORY_EMAIL "user.contact.email"

enum sg_vtype {
    SG_VT_TEXT,          /* UTF-8, may span lines */
    SG_VT_LINE,          /* UTF-8, one line, trimmed */
    SG_VT_EMAIL,         /* stored trimmed, indexed lower-cased */
    SG_VT_PHONE,         /* stored and indexed as E.164 (+37120000000) */
    SG_VT_PERSONAL_CODE, /* digits only */
    SG_VT_COUNTRY,       /* ISO 3166-1 alpha-2, upper case */
    SG_VT_LANGUAGE,      /* ISO 639-1/2 code, lower case */
    SG_VT_DATE,          /* YYYY-MM-DD */
    SG_VT_IP,            /* IPv4 dotted quad or IPv6, stored in canonical form */
    SG_VT_URL,           /* http(s) URL, one line, scheme and host lower-cased */
};

/* Special categories of Art. 9(1) GDPR (and criminal records, Art. 10). */
enum sg_special {
    SG_SPECIAL_NONE = 0,
    SG_SPECIAL_RACIAL_ETHNIC,
    SG_SPECIAL_POLITICAL,
    SG_SPECIAL_BELIEFS, /* religious or philosophical beliefs */
    SG_SPECIAL_UNION,   /* trade-union membership */
    SG_SPECIAL_GENETIC,
    SG_SPECIAL_BIOMETRIC,
    SG_SPECIAL_HEALTH,
    SG_SPECIAL_SEX_LIFE, /* sex life or sexual orientation */
    SG_SPECIAL_CRIMINAL, /* Art. 10 */
};

/* The condition of Art. 9(2) under which a special category is processed:
 * the letter of the point, a = 1 ... j = 10. */
enum sg_art9 {
    SG_ART9_NONE = 0,
    SG_ART9_EXPLICIT_CONSENT,   /* (a) */
    SG_ART9_EMPLOYMENT,         /* (b) employment and social security law */
    SG_ART9_VITAL_INTERESTS,    /* (c) */
    SG_ART9_NOT_FOR_PROFIT,     /* (d) foundation, association, union */
    SG_ART9_MADE_PUBLIC,        /* (e) manifestly made public by the person */
    SG_ART9_LEGAL_CLAIMS,       /* (f) */
    SG_ART9_PUBLIC_INTEREST,    /* (g) substantial public interest */
    SG_ART9_HEALTH_CARE,        /* (h) medicine, health or social care */
    SG_ART9_PUBLIC_HEALTH,      /* (i) */
    SG_ART9_ARCHIVING_RESEARCH, /* (j) */
};

/* Where a category's values come from: the person (Art. 13) or another
 * source (Art. 14, which the notice must name). */
enum sg_source {
    SG_SOURCE_SUBJECT = 0,
    SG_SOURCE_OTHER,
};

#define SG_CATEGORY_ID_MAX   128
#define SG_VALUE_MAX_DEFAULT (64 * 1024)

struct sg_category {
    const char *id;    /* dotted id */
    const char *alias; /* short name, or NULL */
    enum sg_vtype type;
    int indexed;     /* blind-indexed for look-up */
    size_t max_size; /* largest value in bytes; 0: the catalog's max_value */

    /* What the policy says about the category (zero in a hand-made catalog). */
    struct sg_text name;        /* "e-pasta adrese" / "e-mail address" */
    int required;               /* must be given (e.g. to register) */
    enum sg_source source;      /* the person, or another source */
    struct sg_text source_name; /* SG_SOURCE_OTHER: which source */
    int public_source;          /* SG_SOURCE_OTHER: from publicly accessible sources */
    enum sg_special special;    /* Art. 9 special category, or SG_SPECIAL_NONE */
    enum sg_art9 art9;          /* its Art. 9(2) condition */
    int opinion;                /* an opinion or assessment: annotated, never rectified */
    int person_decides;         /* only the person decides it: no proof to rectify */
    int group_only;             /* content visible only inside its group */
};

struct sg_catalog {
    const struct sg_category *cats;
    size_t n;
    size_t max_value;          /* largest value accepted, in bytes */
    const char *phone_country; /* calling code used when a number has none, e.g. "371" */
};

/* The category with this id or alias, or NULL. */
const struct sg_category *sg_catalog_find(const struct sg_catalog *cat, const char *id_or_alias);

/* Name of a value type ("email", "phone", ...). */
const char *sg_vtype_name(enum sg_vtype t);

/* The value type named `name`; -1 when there is none. */
int sg_vtype_from_name(const char *name);

/* Nonzero for an officially assigned ISO 3166-1 alpha-2 code (upper case). */
int sg_country_valid(const char *code);

/* Nonzero for a code of the European Economic Area (EU member states,
 * Iceland, Liechtenstein, Norway): transfers there are not to a third
 * country. */
int sg_country_in_eea(const char *code);

/*
 * Checks `in[0..len)` as a value of category `c` and writes its stored form
 * into `stored` and, when `index_form` is not NULL, its index form. Both
 * buffers are reset first. SG_TOOBIG over the catalog's limit, SG_INVALID for
 * a malformed value; messages name the category, never the value.
 */
enum sg_rc sg_value_normalise(const struct sg_catalog *cat, const struct sg_category *c,
                              const char *in, size_t len, struct sg_buf *stored,
                              struct sg_buf *index_form, struct sg_err *err);

/*
 * Only the index form of a value, as used for a look-up (`subject find`).
 * Same checks as sg_value_normalise().
 */
enum sg_rc sg_value_index_form(const struct sg_catalog *cat, const struct sg_category *c,
                               const char *in, size_t len, struct sg_buf *index_form,
                               struct sg_err *err);

#endif
