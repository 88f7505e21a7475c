/*
 * sargs/policy.h - the organisation's data-protection policy, as code.
 *
 * Every rule of sargs (which data exists, for which purpose, on which legal
 * basis, for how long, who may see it, how requests are handled) comes from
 * one YAML file the organisation writes; docs/policy.md describes every key
 * and docs/policy.schema.json lets editors check it. This module loads and
 * checks that file into the read-only model below, and generates from it
 * what the law asks the organisation to publish: the Art. 13/14 privacy
 * notice, the Art. 30(1) record of processing, and what changed between two
 * versions.
 *
 * The model is plain structs that later modules (vault, consent, requests,
 * retention, views) read directly. Every reference between its parts is
 * resolved at load time into a pointer, so no reader looks anything up by
 * id. All memory (strings, arrays) belongs to the `struct sg_policy` and
 * lives until sg_policy_free(); a loaded policy is never changed, so one may
 * be shared by threads.
 *
 * A policy that loads is valid: the loader refuses a file with any problem
 * and reports every problem at once, each with its line and column.
 */
#ifndef SARGS_POLICY_H
#define SARGS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/buf.h"
#include "sargs/catalog.h"
#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/text.h"

/* The format version this library reads (the `sargs:` key of a file). */
#define SG_POLICY_FORMAT 1
/* The largest policy file accepted, in bytes. */
#define SG_POLICY_MAX_BYTES (1024 * 1024)
/* The version hash: BLAKE2b-256 of the canonical policy, in hex. */
#define SG_POLICY_HASH_HEX 64

/* The law the controller is bound by: the GDPR, or Reg. 2018/1725 for EU
 * institutions and bodies (same rights, other article numbers, and no
 * legitimate-interest basis). */
enum sg_regulation {
    SG_REG_GDPR = 0,
    SG_REG_EUDPR,
};

/* ------------------------------------------------------------- who is who */

/* Contact details: of a controller, a DPO, a supervisory authority. */
struct sg_contact {
    struct sg_text name;
    struct sg_text address;
    const char *email; /* or NULL */
    const char *phone;
    const char *web;
};

enum sg_controller_kind {
    SG_CTRL_SOLE = 0, /* the one controller */
    SG_CTRL_JOINT,    /* joint controllers (Art. 26) */
    SG_CTRL_EU,       /* the EU level of a two-level arrangement (eTwinning) */
    SG_CTRL_NATIONAL, /* the national level: one organisation per country */
};

struct sg_controller {
    const char *id;
    enum sg_controller_kind kind;
    struct sg_contact contact; /* name, address, e-mail, phone, web */
    const char *registration;  /* registration number, or NULL */
    const char *country;       /* ISO 3166-1 alpha-2, or NULL */
    struct sg_text scope;      /* what it is responsible for (levels, joint) */
    struct sg_text directory;  /* national level: where each country's contacts are */
    enum sg_regulation regulation;
    int has_dpo;
    struct sg_contact dpo;
    const struct sg_contact *authority; /* its supervisory authority */
};

/* -------------------------------------------------------- events, subjects */

/*
 * Events that anchor retention rules. Built in: created, confirmed,
 * last_login, event_date, contract_end, collected (when a value was
 * stored), consent_withdrawn. A policy may declare more (e.g. each European
 * election); `text` is the phrase that follows "after" in a notice.
 */
struct sg_event_def {
    const char *id;
    struct sg_text text;
    int global; /* one date for everybody rather than one per person */
};

/* A category of data subjects (Art. 30(1)(c)): visitors, registered users... */
struct sg_subject_kind {
    const char *id;
    struct sg_text name;
};

/* -------------------------------------------------------------- recipients */

enum sg_recipient_kind {
    SG_RCPT_PROCESSOR = 0, /* acts on the controller's behalf (Art. 28) */
    SG_RCPT_CONTROLLER,    /* an independent controller */
    SG_RCPT_JOINT,         /* a joint controller */
    SG_RCPT_AUTHORITY,     /* a public authority, only where the law requires */
    SG_RCPT_OTHER,         /* another recipient */
};

/* The Chapter V ground of a transfer to a third country. */
enum sg_safeguard {
    SG_SAFE_NONE = 0,
    SG_SAFE_ADEQUACY,      /* Art. 45 adequacy decision */
    SG_SAFE_SCC,           /* Art. 46(2)(c) standard contractual clauses */
    SG_SAFE_BCR,           /* Art. 47 binding corporate rules */
    SG_SAFE_AD_HOC,        /* Art. 46(3)(a) authorised contractual clauses */
    SG_SAFE_ADMIN,         /* Art. 46(3)(b) administrative arrangement */
    SG_SAFE_CODE,          /* Art. 46(2)(e) approved code of conduct */
    SG_SAFE_CERTIFICATION, /* Art. 46(2)(f) approved certification */
    SG_SAFE_DEROGATION,    /* Art. 49 derogation (e.g. explicit consent) */
};

struct sg_recipient {
    const char *id;
    struct sg_text name;
    enum sg_recipient_kind kind;
    struct sg_text role; /* what it does with the data */
    const char *country; /* ISO 3166-1 alpha-2, "EU" for EU bodies, or NULL */
    int third_country;   /* outside the EU/EEA: every use is a transfer */
    enum sg_safeguard safeguard;
    struct sg_text safeguard_text; /* which decision, clauses, derogation */
    struct sg_text safeguard_copy; /* how to obtain a copy (Art. 13(1)(f)) */
    int only_when_required;        /* disclosed only when a law or court requires */
    int confidential;              /* disclosures to it are never revealed to the person (retained
                                    * data to law enforcement: LIKTA 15.5) */
    /* Art. 19: where notices of a rectification, erasure or restriction go
     * (contact.email; a recipient without one is listed, not told), and
     * the categories by which it knows a person (their values identify
     * the person in the notice; none: the notice names the request only). */
    struct sg_contact contact;
    const struct sg_category **identify_by;
    size_t nidentify_by;
};

/* ----------------------------------------------------------------- retention */

enum sg_action {
    SG_ACT_DELETE = 1, /* crypto-shred (the whole person, or the categories named) */
    SG_ACT_ANONYMISE,  /* remove identifiers; keep `keep` for statistics */
    SG_ACT_HIDE,       /* deactivate: invisible to all but the controller */
    SG_ACT_NOTIFY,     /* send `template` to the person */
    SG_ACT_RESTRICT,   /* keep only for storage and legal claims (Art. 18-like) */
    SG_ACT_KEEP,       /* no automatic action: kept by `criteria` */
};

/* When a rule applies beyond its anchor: an event that must be missing
 * (e.g. account never confirmed) or present. NULL when not used. */
struct sg_condition {
    const char *missing_event;
    const char *has_event;
};

struct sg_retention {
    const char *id;
    int all_categories; /* covers the whole person */
    const struct sg_category **categories;
    size_t ncategories;
    const char *anchor;       /* event id (built-in or declared) */
    int has_after;            /* 0 only for SG_ACT_KEEP */
    struct sg_duration after; /* ISO 8601 duration from the anchor */
    enum sg_action action;
    const struct sg_template *template; /* SG_ACT_NOTIFY */
    struct sg_condition condition;
    const struct sg_category **keep; /* SG_ACT_ANONYMISE: kept for statistics */
    size_t nkeep;
    int reactivate;             /* SG_ACT_HIDE: signing in again reactivates */
    struct sg_text criteria;    /* SG_ACT_KEEP: how long, in words */
    struct sg_text description; /* overrides the generated sentence */
};

/* ---------------------------------------------------------------- purposes */

enum sg_basis {
    SG_BASIS_CONSENT = 1,         /* Art. 6(1)(a) */
    SG_BASIS_CONTRACT,            /* Art. 6(1)(b) */
    SG_BASIS_LEGAL_OBLIGATION,    /* Art. 6(1)(c) */
    SG_BASIS_VITAL_INTERESTS,     /* Art. 6(1)(d) */
    SG_BASIS_PUBLIC_TASK,         /* Art. 6(1)(e) */
    SG_BASIS_LEGITIMATE_INTEREST, /* Art. 6(1)(f) */
};

/* Whether providing the data is required (Art. 13(2)(e)). */
enum sg_requirement {
    SG_REQ_VOLUNTARY = 0,
    SG_REQ_STATUTORY,    /* required by law */
    SG_REQ_CONTRACTUAL,  /* required by a contract */
    SG_REQ_PRECONDITION, /* needed to enter into a contract (or register) */
};

/* Children (Art. 8): below `min_age` consent counts only with a guardian's,
 * or, with SG_MINORS_REFUSE, people below it are not accepted at all. */
enum sg_minors {
    SG_MINORS_GUARDIAN = 0,
    SG_MINORS_REFUSE,
};

struct sg_consent_rules {
    int min_age; /* 13 in Latvia (Fizisko personu datu apstrādes likums) */
    enum sg_minors minors;
    struct sg_text withdrawal; /* how to withdraw: as easy as giving it */
    int has_validity;
    struct sg_duration validity; /* a consent expires after this */
    int per_item;                /* asked again for each item (testimony, photo) */
};

struct sg_automated {
    struct sg_text description;
    struct sg_text logic;        /* meaningful information about the logic */
    struct sg_text consequences; /* significance and envisaged consequences */
    int significant;             /* legal or similarly significant effect (Art. 22(1)) */
    int human_review;            /* the person may ask a human to review it */
};

struct sg_purpose {
    const char *id;
    struct sg_text name;
    struct sg_text description;
    const struct sg_controller **controllers; /* empty: every controller */
    size_t ncontrollers;
    const struct sg_subject_kind **subjects;
    size_t nsubjects;
    enum sg_basis basis;
    struct sg_text basis_reference;     /* the law, decision or contract it rests on */
    struct sg_text legitimate_interest; /* SG_BASIS_LEGITIMATE_INTEREST: the interest */
    struct sg_text balance_test;        /* ... and the outcome of the balance test */
    const struct sg_category **categories;
    size_t ncategories;
    const struct sg_recipient **recipients;
    size_t nrecipients;
    const struct sg_recipient **transfers; /* the recipients in third countries */
    size_t ntransfers;
    const struct sg_retention **retention; /* the rules that say how long */
    size_t nretention;
    enum sg_requirement requirement;
    struct sg_text if_not_provided; /* consequence of not providing the data */
    const struct sg_automated *automated;
    size_t nautomated;
    int profiling;
    struct sg_consent_rules consent; /* meaningful when basis is consent */
    int direct_marketing;            /* objection stops it unconditionally */
    int sale_or_sharing;             /* a Global Privacy Control signal opts out */
};

/* ---------------------------------------------------------- roles and views */

enum sg_role_kind {
    SG_ROLE_STAFF = 0, /* the controller's or a processor's people */
    SG_ROLE_USER,      /* registered users of the service */
    SG_ROLE_PUBLIC,    /* anyone, not signed in */
    SG_ROLE_PARTNER,   /* another organisation (e.g. a national one) */
    SG_ROLE_SERVICE,   /* a program calling the API */
};

/* Which people (rows) a role sees. */
enum sg_rows {
    SG_ROWS_ALL = 0,
    SG_ROWS_SELF,       /* only the viewer's own record */
    SG_ROWS_SAME_VALUE, /* people whose `row_field` equals the viewer's */
    SG_ROWS_NONE,
};

enum sg_group_content {
    SG_GROUP_NONE = 0, /* group-only content is never shown */
    SG_GROUP_MEMBERS,  /* only in groups the viewer belongs to */
    SG_GROUP_ALL,
};

struct sg_role {
    const char *id;
    struct sg_text name;
    enum sg_role_kind kind;
    int all_fields;                    /* every category but `except` */
    const struct sg_category **fields; /* resolved: exactly what it sees */
    size_t nfields;
    enum sg_rows rows;
    const struct sg_category *row_field; /* SG_ROWS_SAME_VALUE */
    enum sg_group_content group_content;
    int sees_hidden;                    /* sees deactivated profiles */
    const struct sg_purpose **purposes; /* purposes it acts for; empty: any */
    size_t npurposes;
};

/* The role of the vault's own operators (the command line): every field of
 * every person. Reserved: no policy role may be called so. */
#define SG_ROLE_OPERATOR "operator"

/* The role of a person at their own data (self-service sessions): every
 * field of their own record only. Reserved like "operator". */
#define SG_ROLE_SELF "self"

/* Nonzero when role `r` may see category `c`. */
int sg_role_sees(const struct sg_role *r, const struct sg_category *c);

/* -------------------------------------------------------- request handling */

/* Ways a person proves who they are (bit flags). */
#define SG_IDM_DOCUMENT        0x01u /* an ID document shown in person */
#define SG_IDM_REGISTERED_POST 0x02u /* registered post, answered the same way */
#define SG_IDM_QUALIFIED_SIG   0x04u /* qualified electronic signature */
#define SG_IDM_ACCOUNT         0x08u /* signed in to the person's own account */
#define SG_IDM_KNOWN_CONTACT   0x10u /* from contact details already on file */

struct sg_channel {
    const char *id; /* in_person, registered_post, post, email, ... */
    struct sg_text name;
    unsigned identity; /* SG_IDM_* accepted; 0: does not identify, ask for more */
    struct sg_text note;
};

enum sg_answer_rule {
    SG_ANSWER_SAME_CHANNEL = 0, /* as asked, unless the person asks otherwise */
    SG_ANSWER_ELECTRONIC,       /* always electronically where possible */
};

struct sg_request_rules {
    struct sg_contact contact; /* where requests go */
    const struct sg_channel *channels;
    size_t nchannels;
    enum sg_answer_rule answer;
    int64_t extra_copy_fee_cents;        /* fee for further copies; 0: free */
    const char *currency;                /* ISO 4217, e.g. "EUR" */
    struct sg_duration identical_within; /* identical request refused within this */
};

struct sg_password_rules {
    int min_length;
    int kinds; /* of lower case, upper case, digits, symbols: at least this many */
    int has_rotate;
    struct sg_duration rotate;
};

/* ----------------------------------------------------------------- cookies */

enum sg_cookie_kind {
    SG_COOKIE_NECESSARY = 0,
    SG_COOKIE_PREFERENCES,
    SG_COOKIE_SECURITY,
    SG_COOKIE_STATISTICS,
    SG_COOKIE_MARKETING,
};

struct sg_cookie {
    const char *id;
    enum sg_cookie_kind kind;
    enum sg_basis basis;
    struct sg_text name;
    struct sg_text purpose;
    const struct sg_recipient *provider; /* a third party setting it, or NULL */
    int session;                         /* deleted when the browser closes */
    struct sg_duration lifetime;         /* otherwise */
};

/* ---------------------------------------------------------------- templates */

/*
 * A message to a person, per language. Bodies may use the placeholders
 * {{name}}, {{controller}}, {{date}}, {{deadline}}, {{link}},
 * {{unsubscribe}}, {{erase}}, {{reason}}, {{request}}; no other.
 */
struct sg_template {
    const char *id;
    struct sg_text subject;
    struct sg_text body;
};

/* ------------------------------------------------------------------ policy */

struct sg_policy {
    int format;
    const char *id;
    struct sg_text title;
    int has_effective;
    sg_time effective; /* from the file; the vault may record another.
                        * NEEDSWORK: a bare date is midnight UTC; it should be
                        * midnight in `time_zone` once the calendar engine
                        * of the requests module converts zones. */
    enum sg_regulation regulation;
    const char *const *languages; /* the first is the default */
    size_t nlanguages;
    const char *time_zone;         /* IANA name, "Europe/Riga" by default */
    const char *holiday_calendar;  /* "lv" by default, or "none" */
    const int64_t *extra_holidays; /* days since 1970-01-01 */
    size_t nextra_holidays;

    struct sg_contact authority; /* Datu valsts inspekcija unless the file says */
    const struct sg_controller *controllers;
    size_t ncontrollers;
    const struct sg_event_def *events; /* declared beyond the built-in ones */
    size_t nevents;
    const struct sg_subject_kind *subjects;
    size_t nsubjects;
    struct sg_catalog catalog; /* the data categories */
    const struct sg_recipient *recipients;
    size_t nrecipients;
    const struct sg_retention *retention;
    size_t nretention;
    const struct sg_purpose *purposes;
    size_t npurposes;
    const struct sg_role *roles;
    size_t nroles;
    struct sg_request_rules requests;
    struct sg_password_rules passwords;
    struct sg_duration audit_keep; /* audit log kept at least this long */
    const struct sg_cookie *cookies;
    size_t ncookies;
    const struct sg_template *templates;
    size_t ntemplates;
    struct sg_text security; /* technical and organisational measures (Art. 30(1)(g)) */
    struct sg_text changes;  /* how people are told about changes */

    const char *source; /* the file's bytes as loaded (NUL-terminated) */
    size_t source_len;
    char hash[SG_POLICY_HASH_HEX + 1]; /* version hash, see sg_policy_load() */
    void *impl;                        /* the allocator; not for readers */
};

/* -------------------------------------------------------------- loading */

struct sg_policy_problem {
    unsigned line, col; /* 1-based; 0 when the problem has no position */
    char *msg;
};

/* Every problem found in a file, in order of position. Release with
 * sg_policy_problems_release(). */
struct sg_policy_problems {
    struct sg_policy_problem *v;
    size_t n, cap;
    size_t dropped; /* problems beyond the limit (1000), not kept */
};

void sg_policy_problems_init(struct sg_policy_problems *p);
void sg_policy_problems_release(struct sg_policy_problems *p);

/*
 * Loads a policy from `len` bytes of YAML. `name` (the file name) is only
 * used in messages. On success `*out` is a valid policy the caller frees with
 * sg_policy_free(), and its `hash` is the version hash: BLAKE2b-256 over the
 * canonical form of the document (mapping keys sorted, every scalar as text,
 * comments and layout dropped), so editing a comment does not make a new
 * version while any change of content does.
 *
 * On a file with problems: SG_INVALID, `*out` NULL, every problem in `probs`
 * (may be NULL) and `err` saying how many. YAML syntax errors, unknown keys,
 * wrong types, unknown references and the rules of docs/policy.md are all
 * problems. SG_TOOBIG over SG_POLICY_MAX_BYTES; SG_NOMEM. Never crashes on
 * any input (fuzz/fuzz_policy.c).
 */
enum sg_rc sg_policy_load(const char *text, size_t len, const char *name, struct sg_policy **out,
                          struct sg_policy_problems *probs, struct sg_err *err);

/* Reads and loads the file `path`. SG_NOTFOUND when missing, SG_IO when
 * unreadable, otherwise as sg_policy_load(). */
enum sg_rc sg_policy_load_file(const char *path, struct sg_policy **out,
                               struct sg_policy_problems *probs, struct sg_err *err);

/* Frees everything of a policy. Accepts NULL. */
void sg_policy_free(struct sg_policy *p);

/* ------------------------------------------------------------- look-ups */

const struct sg_purpose *sg_policy_purpose(const struct sg_policy *p, const char *id);
const struct sg_recipient *sg_policy_recipient(const struct sg_policy *p, const char *id);
const struct sg_retention *sg_policy_rule(const struct sg_policy *p, const char *id);
const struct sg_role *sg_policy_role(const struct sg_policy *p, const char *id);
const struct sg_template *sg_policy_template(const struct sg_policy *p, const char *id);
const struct sg_controller *sg_policy_controller(const struct sg_policy *p, const char *id);
/* The category by id or alias (same as sg_catalog_find on p->catalog). */
const struct sg_category *sg_policy_category(const struct sg_policy *p, const char *id);

/* The values of a template's placeholders (NULL: empty). */
struct sg_template_vars {
    const char *name, *controller, *date, *deadline, *link, *unsubscribe, *erase, *reason, *request;
};

/*
 * Renders template `t` in `lang` (the policy's first language when `lang`
 * is NULL or not one of the policy's): the subject (one line) into
 * `subject`, the body into `body`, which ends with the footer every message
 * to a person carries: how to stop the messages (`unsubscribe`) and how to
 * have one's data erased (`erase`). Buffers are reset first.
 */
struct sg_buf;
enum sg_rc sg_template_render(const struct sg_policy *p, const struct sg_template *t,
                              const char *lang, const struct sg_template_vars *vars,
                              struct sg_buf *subject, struct sg_buf *body, struct sg_err *err);

/* Nonzero when `lang` is one of the policy's languages. */
int sg_policy_has_language(const struct sg_policy *p, const char *lang);

/* Stable names used in files and JSON ("consent", "delete", ...). */
const char *sg_basis_name(enum sg_basis b);
const char *sg_action_name(enum sg_action a);
const char *sg_safeguard_name(enum sg_safeguard s);
const char *sg_special_name(enum sg_special s);
const char *sg_art9_name(enum sg_art9 c);
const char *sg_recipient_kind_name(enum sg_recipient_kind k);
const char *sg_controller_kind_name(enum sg_controller_kind k);
const char *sg_cookie_kind_name(enum sg_cookie_kind k);
const char *sg_requirement_name(enum sg_requirement r);
const char *sg_role_kind_name(enum sg_role_kind k);
const char *sg_rows_name(enum sg_rows r);

/* --------------------------------------------------------- what it makes */

enum sg_doc_format {
    SG_FORMAT_MARKDOWN = 0,
    SG_FORMAT_HTML,
    SG_FORMAT_JSON,
    SG_FORMAT_CSV,
};

struct sg_notice_opts {
    const char *lang;          /* "lv" or "en" (a language of the policy) */
    enum sg_doc_format format; /* markdown or HTML */
    sg_time effective;         /* date shown; 0: the policy's, else `now` */
    sg_time now;               /* for the fallback above */
};

/*
 * Writes the privacy notice of Art. 13 and Art. 14 into `out` (reset first):
 * layered, a short summary first and the details after, with the effective
 * date and the version hash. Every item of Art. 13(1)-(2) is present, saying
 * "none" where the policy has none; categories obtained from another source
 * are listed with the source (Art. 14(1)(d), 14(2)(f)). SG_INVALID for a
 * language without notice wording (lv and en have it) or not in the policy.
 */
enum sg_rc sg_notice_render(const struct sg_policy *p, const struct sg_notice_opts *o,
                            struct sg_buf *out, struct sg_err *err);

/*
 * Writes the record of processing activities of Art. 30(1) into `out`
 * (reset first) as JSON (one activity per purpose, every point (a)-(g)) or
 * CSV (one row per purpose, RFC 4180), with texts in `lang`.
 */
enum sg_rc sg_ropa_render(const struct sg_policy *p, enum sg_doc_format format, const char *lang,
                          struct sg_buf *out, struct sg_err *err);

/* One difference between two versions of a policy. */
struct sg_policy_change {
    char *what; /* "purpose 'newsletter' added" (English, no personal data) */
    int inform; /* people must be told before the new version takes effect */
};

struct sg_policy_diff {
    struct sg_policy_change *v;
    size_t n, cap;
    int inform; /* any change above needs people to be told first */
};

/*
 * Compares two versions: what changed, in words, and whether people must be
 * told before the new one takes effect. A new purpose, a new recipient, a
 * new third-country transfer, a new category collected, a changed legal
 * basis, a longer retention, a new automated decision, new controllers or a
 * stricter treatment of children must be told first; removals, shorter
 * retention and changes of wording need only an updated notice. Release the
 * result with sg_policy_diff_release().
 */
enum sg_rc sg_policy_diff(const struct sg_policy *old, const struct sg_policy *new_,
                          struct sg_policy_diff *out, struct sg_err *err);
void sg_policy_diff_release(struct sg_policy_diff *d);

#endif
