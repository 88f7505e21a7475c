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
 * Until the policy module exists, sg_catalog_builtin() gives a small fixed set.
 */
#ifndef SARGS_CATALOG_H
#define SARGS_CATALOG_H

#include <stddef.h>

#include "sargs/buf.h"
#include "sargs/err.h"

enum sg_vtype {
    SG_VT_TEXT,          /* UTF-8, may span lines */
    SG_VT_LINE,          /* UTF-8, one line, trimmed */
    SG_VT_EMAIL,         /* stored trimmed, indexed lower-cased */
    SG_VT_PHONE,         /* stored and indexed as E.164 (+37120000000) */
    SG_VT_PERSONAL_CODE, /* digits only */
    SG_VT_COUNTRY,       /* ISO 3166-1 alpha-2, upper case */
    SG_VT_LANGUAGE,      /* ISO 639-1/2 code, lower case */
    SG_VT_DATE,          /* YYYY-MM-DD */
};

#define SG_CATEGORY_ID_MAX   128
#define SG_VALUE_MAX_DEFAULT (64 * 1024)

struct sg_category {
    const char *id;    /* dotted id */
    const char *alias; /* short name, or NULL */
    enum sg_vtype type;
    int indexed; /* blind-indexed for look-up */
};

struct sg_catalog {
    const struct sg_category *cats;
    size_t n;
    size_t max_value;          /* largest value accepted, in bytes */
    const char *phone_country; /* calling code used when a number has none, e.g. "371" */
};

/* The built-in set: name, surname, e-mail, phone, personal code, country,
 * language. Static; never freed. */
const struct sg_catalog *sg_catalog_builtin(void);

/* The category with this id or alias, or NULL. */
const struct sg_category *sg_catalog_find(const struct sg_catalog *cat, const char *id_or_alias);

/* Name of a value type ("email", "phone", ...). */
const char *sg_vtype_name(enum sg_vtype t);

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
