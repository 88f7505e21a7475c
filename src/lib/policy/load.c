/*
 * load.c - a policy file into the model of sargs/policy.h, checked.
 *
 * The loader reads the YAML tree section by section in dependency order
 * (whatever the order in the file): languages first, then what others refer
 * to (controllers, events, categories, templates, recipients), then what
 * refers (retention rules, purposes, roles, cookies). A problem never stops
 * it: every one is recorded with its position and the loading goes on, so
 * `policy check` shows them all at once. Items with a problem still take
 * their place, so that one bad line does not cascade into "unknown" reports
 * elsewhere.
 */
#include "policy_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PROBLEMS    1000
#define MAX_SECTION     4096
#define DEFAULT_MAX_VAL (64 * 1024)

const char *const sg_builtin_events[] = {
    "created",      "confirmed", "last_login",        "event_date",
    "contract_end", "collected", "consent_withdrawn", NULL};

struct ld {
    struct arena *a;
    struct sg_policy *p;
    struct sg_policy_problems *probs;
    size_t found; /* problems of this load */
};

/* -------------------------------------------------------------- problems */

void sg_policy_problems_init(struct sg_policy_problems *p)
{
    memset(p, 0, sizeof *p);
}

void sg_policy_problems_release(struct sg_policy_problems *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].msg);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static void pb(struct ld *l, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pb(struct ld *l, const struct ynode *at, const char *fmt, ...)
{
    struct sg_policy_problems *ps = l->probs;
    l->found++;
    if (ps->n >= MAX_PROBLEMS) {
        ps->dropped++;
        return;
    }
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        struct sg_policy_problem *v = realloc(ps->v, cap * sizeof *v);
        if (!v) {
            ps->dropped++;
            return;
        }
        ps->v = v;
        ps->cap = cap;
    }
    char *m = strdup(buf);
    if (!m) {
        ps->dropped++;
        return;
    }
    ps->v[ps->n].line = at ? at->line : 0;
    ps->v[ps->n].col = at ? at->col : 0;
    ps->v[ps->n].msg = m;
    ps->n++;
}

/* A problem the YAML layer found without stopping. */
static void yaml_warn(void *ctx, unsigned line, unsigned col, const char *msg)
{
    struct ynode at;
    memset(&at, 0, sizeof at);
    at.line = line;
    at.col = col;
    pb(ctx, &at, "%s", msg);
}

/* --------------------------------------------------------- reading nodes */

static int is_null(const struct ynode *n)
{
    return !n || (n->kind == Y_SCALAR && n->plain &&
                  (n->len == 0 || strcmp(n->str, "~") == 0 || strcasecmp(n->str, "null") == 0));
}

static const struct ynode *mget(const struct ynode *map, const char *key)
{
    if (!map || map->kind != Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = map->kids[2 * i];
        if (k->kind == Y_SCALAR && strcmp(k->str, key) == 0)
            return map->kids[2 * i + 1];
    }
    return NULL;
}

static int key_order(const void *a, const void *b)
{
    const struct ynode *x = *(const struct ynode *const *)a, *y = *(const struct ynode *const *)b;
    int c = strcmp(x->str, y->str);
    if (c)
        return c;
    /* the same key: in order of position, so the later one is reported */
    return x->line != y->line ? (x->line < y->line ? -1 : 1)
                              : (x->col > y->col) - (x->col < y->col);
}

/* Checks that `n` is a mapping with only the `keys` given, each once. */
static int map_ok(struct ld *l, const struct ynode *n, const char *what, const char *const *keys)
{
    if (!n || n->kind != Y_MAP) {
        pb(l, n, "%s must be a mapping (key: value)", what);
        return 0;
    }
    /* Duplicates are found by sorting the keys: a hostile file may hold a
     * mapping of a hundred thousand keys. */
    const struct ynode **sorted = n->n ? malloc(n->n * sizeof *sorted) : NULL;
    size_t ns = 0;
    if (n->n && !sorted) {
        l->a->oom = 1;
        return 0;
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *k = n->kids[2 * i];
        if (k->kind != Y_SCALAR) {
            pb(l, k, "keys of %s must be plain text", what);
            continue;
        }
        sorted[ns++] = k;
        const char *const *kk = keys;
        while (*kk && strcmp(*kk, k->str) != 0)
            kk++;
        if (!*kk)
            pb(l, k, "unknown key '%.60s' in %s", k->str, what);
    }
    if (ns > 1)
        qsort(sorted, ns, sizeof *sorted, key_order);
    for (size_t i = 1; i < ns; i++)
        if (strcmp(sorted[i - 1]->str, sorted[i]->str) == 0)
            pb(l, sorted[i], "duplicate key '%.60s' in %s", sorted[i]->str, what);
    free(sorted);
    return 1;
}

static const char *get_str(struct ld *l, const struct ynode *map, const char *key, const char *what,
                           int required)
{
    const struct ynode *v = mget(map, key);
    if (!v || is_null(v)) {
        if (required)
            pb(l, v ? v : map, "%s has no '%s'", what, key);
        return NULL;
    }
    if (v->kind != Y_SCALAR) {
        pb(l, v, "'%s' of %s must be text", key, what);
        return NULL;
    }
    return v->str;
}

static int lang_syntax_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 3)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
    return 1;
}

/* A text: a plain string (every language) or a mapping language -> text,
 * which must then have every language of the policy. */
static struct sg_text text_of(struct ld *l, const struct ynode *v, const char *key,
                              const char *what, int required, const struct ynode *parent)
{
    struct sg_text t = {NULL, 0};
    if (!v || is_null(v)) {
        if (required)
            pb(l, v ? v : parent, "%s has no '%s'", what, key);
        return t;
    }
    if (v->kind == Y_SCALAR) {
        struct sg_text_tr *tr = arena_alloc(l->a, sizeof *tr);
        if (tr) {
            tr->lang = NULL;
            tr->text = v->str;
            t.v = tr;
            t.n = 1;
        }
        return t;
    }
    if (v->kind != Y_MAP) {
        pb(l, v, "'%s' of %s must be text or a mapping of language to text", key, what);
        return t;
    }
    struct sg_text_tr *tr = arena_array(l->a, v->n, sizeof *tr);
    size_t n = 0;
    for (size_t i = 0; i < v->n && tr; i++) {
        const struct ynode *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
        if (k->kind != Y_SCALAR || !lang_syntax_ok(k->str)) {
            pb(l, k,
               "'%s' of %s: keys must be language codes such as 'lv' or 'en' (quote a text "
               "that holds a comma)",
               key, what);
            continue;
        }
        if (!sg_policy_has_language(l->p, k->str)) {
            pb(l, k, "'%s' of %s: '%s' is not a language of the policy", key, what, k->str);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= strcmp(tr[j].lang, k->str) == 0;
        if (dup) {
            pb(l, k, "'%s' of %s has '%s' twice", key, what, k->str);
            continue;
        }
        if (!x || is_null(x) || x->kind != Y_SCALAR) {
            pb(l, x ? x : k, "'%s' of %s: the '%s' text must be non-empty text", key, what, k->str);
            continue;
        }
        tr[n].lang = k->str;
        tr[n].text = x->str;
        n++;
    }
    t.v = tr;
    t.n = n;
    for (size_t i = 0; i < l->p->nlanguages; i++) {
        const char *lang = l->p->languages[i];
        int have = 0;
        for (size_t j = 0; j < n; j++)
            have |= strcmp(tr[j].lang, lang) == 0;
        if (!have)
            pb(l, v, "'%s' of %s has no '%s' text", key, what, lang);
    }
    return t;
}

static struct sg_text get_text(struct ld *l, const struct ynode *map, const char *key,
                               const char *what, int required)
{
    return text_of(l, mget(map, key), key, what, required, map);
}

static int get_bool(struct ld *l, const struct ynode *map, const char *key, const char *what,
                    int def)
{
    const struct ynode *v = mget(map, key);
    if (!v || is_null(v))
        return def;
    if (v->kind == Y_SCALAR) {
        static const char *const yes[] = {"true", "yes", "on", NULL};
        static const char *const no[] = {"false", "no", "off", NULL};
        for (const char *const *s = yes; *s; s++)
            if (strcasecmp(v->str, *s) == 0)
                return 1;
        for (const char *const *s = no; *s; s++)
            if (strcasecmp(v->str, *s) == 0)
                return 0;
    }
    pb(l, v, "'%s' of %s must be true or false", key, what);
    return def;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    if (!*s || !((*s >= '0' && *s <= '9') || *s == '-'))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static long long get_int(struct ld *l, const struct ynode *map, const char *key, const char *what,
                         long long def, long long lo, long long hi)
{
    const struct ynode *v = mget(map, key);
    long long x;
    if (!v || is_null(v))
        return def;
    if (v->kind != Y_SCALAR || parse_int(v->str, lo, hi, &x)) {
        pb(l, v, "'%s' of %s must be a whole number from %lld to %lld", key, what, lo, hi);
        return def;
    }
    return x;
}

static int duration_of(struct ld *l, const struct ynode *v, const char *key, const char *what,
                       struct sg_duration *out)
{
    struct sg_err e;
    if (v->kind != Y_SCALAR) {
        pb(l, v, "'%s' of %s must be an ISO 8601 duration such as P10D or P1Y", key, what);
        return 0;
    }
    if (sg_duration_parse(v->str, out, &e)) {
        pb(l, v, "'%s' of %s: invalid duration '%.40s': %s", key, what, v->str, e.msg);
        return 0;
    }
    return 1;
}

/* 1 when a valid duration was read, 0 when absent or invalid. */
static int get_duration(struct ld *l, const struct ynode *map, const char *key, const char *what,
                        int required, struct sg_duration *out)
{
    const struct ynode *v = mget(map, key);
    if (!v || is_null(v)) {
        if (required)
            pb(l, v ? v : map, "%s has no '%s'", what, key);
        return 0;
    }
    return duration_of(l, v, key, what, out);
}

struct name_val {
    const char *name;
    int val;
};

/* The value named by scalar `v` among `names`; `def` with a problem listing
 * the accepted names when it is not one of them. */
static int enum_of(struct ld *l, const struct ynode *v, const char *key, const char *what,
                   const struct name_val *names, int def)
{
    if (v->kind == Y_SCALAR)
        for (const struct name_val *nv = names; nv->name; nv++)
            if (strcmp(nv->name, v->str) == 0)
                return nv->val;
    char list[400] = "";
    size_t n = 0;
    for (const struct name_val *nv = names; nv->name && n < sizeof list - 64; nv++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", nv->name);
    pb(l, v, "unknown %s '%.60s' in %s (expected %s)", key,
       v->kind == Y_SCALAR ? v->str : "(not text)", what, list);
    return def;
}

/* The value of an enumerated key; `def` when absent. */
static int get_enum(struct ld *l, const struct ynode *map, const char *key, const char *what,
                    const struct name_val *names, int def, int required)
{
    const struct ynode *v = mget(map, key);
    if (!v || is_null(v)) {
        if (required)
            pb(l, v ? v : map, "%s has no '%s'", what, key);
        return def;
    }
    return enum_of(l, v, key, what, names, def);
}

/* A list (or NULL when absent, with a problem when it is not a list). */
static const struct ynode *get_seq(struct ld *l, const struct ynode *map, const char *key,
                                   const char *what)
{
    const struct ynode *v = mget(map, key);
    if (!v || is_null(v))
        return NULL;
    if (v->kind != Y_SEQ) {
        pb(l, v, "'%s' of %s must be a list", key, what);
        return NULL;
    }
    return v;
}

static int id_ok(const char *s, int dots, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            continue;
        if (c == '-' && !dots)
            continue;
        if (c == '.' && dots && s[i + 1] != '.' && s[i + 1] >= 'a' && s[i + 1] <= 'z')
            continue;
        return 0;
    }
    return 1;
}

/* The id of an item of a section: required, well-formed. */
static const char *get_id(struct ld *l, const struct ynode *item, const char *section, int dots,
                          size_t max)
{
    const char *id = get_str(l, item, "id", section, 1);
    if (id && !id_ok(id, dots, max)) {
        pb(l, mget(item, "id"), "%s id '%.60s' is malformed (expected %s)", section, id,
           dots ? "dotted lower-case words such as user.contact.email"
                : "lower-case letters, digits, '_' or '-', starting with a letter");
        return NULL;
    }
    return id;
}

/* A top-level section that is a list of mappings; its length or 0. */
static size_t section(struct ld *l, const struct ynode *root, const char *key,
                      const struct ynode **out)
{
    const struct ynode *v = mget(root, key);
    *out = NULL;
    if (!v || is_null(v))
        return 0;
    if (v->kind != Y_SEQ) {
        pb(l, v, "'%s' must be a list", key);
        return 0;
    }
    if (v->n > MAX_SECTION) {
        pb(l, v, "'%s' has more than %d entries", key, MAX_SECTION);
        return 0;
    }
    *out = v;
    return v->n;
}

static void what_of(char *buf, size_t size, const char *kind, const char *id)
{
    if (id)
        snprintf(buf, size, "%s '%.60s'", kind, id);
    else
        snprintf(buf, size, "a %s", kind);
}

/* -------------------------------------------------------------- finders */

int sg_policy_has_language(const struct sg_policy *p, const char *lang)
{
    for (size_t i = 0; lang && i < p->nlanguages; i++)
        if (strcmp(p->languages[i], lang) == 0)
            return 1;
    return 0;
}

#define FIND(fn, type, arr, n)                                                                     \
    const type *fn(const struct sg_policy *p, const char *id)                                      \
    {                                                                                              \
        for (size_t i = 0; id && i < p->n; i++)                                                    \
            if (p->arr[i].id && strcmp(p->arr[i].id, id) == 0)                                     \
                return &p->arr[i];                                                                 \
        return NULL;                                                                               \
    }

FIND(sg_policy_purpose, struct sg_purpose, purposes, npurposes)
FIND(sg_policy_recipient, struct sg_recipient, recipients, nrecipients)
FIND(sg_policy_rule, struct sg_retention, retention, nretention)
FIND(sg_policy_role, struct sg_role, roles, nroles)
FIND(sg_policy_template, struct sg_template, templates, ntemplates)
FIND(sg_policy_controller, struct sg_controller, controllers, ncontrollers)

static const struct sg_event_def *find_event_def(const struct sg_policy *p, const char *id)
{
    for (size_t i = 0; i < p->nevents; i++)
        if (p->events[i].id && strcmp(p->events[i].id, id) == 0)
            return &p->events[i];
    return NULL;
}

static const struct sg_subject_kind *find_subject_kind(const struct sg_policy *p, const char *id)
{
    for (size_t i = 0; i < p->nsubjects; i++)
        if (p->subjects[i].id && strcmp(p->subjects[i].id, id) == 0)
            return &p->subjects[i];
    return NULL;
}

const struct sg_category *sg_policy_category(const struct sg_policy *p, const char *id)
{
    return id ? sg_catalog_find(&p->catalog, id) : NULL;
}

static int event_known(const struct sg_policy *p, const char *id)
{
    for (const char *const *e = sg_builtin_events; *e; e++)
        if (strcmp(*e, id) == 0)
            return 1;
    return find_event_def(p, id) != NULL;
}

int sg_role_sees(const struct sg_role *r, const struct sg_category *c)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i] == c)
            return 1;
    return 0;
}

/* Resolves a list of category references (ids or aliases). */
static const struct sg_category **category_list(struct ld *l, const struct ynode *seq,
                                                const char *what, size_t *n)
{
    *n = 0;
    if (!seq)
        return NULL;
    const struct sg_category **v = arena_array(l->a, seq->n, sizeof *v);
    for (size_t i = 0; i < seq->n && v; i++) {
        const struct ynode *x = seq->kids[i];
        if (x->kind != Y_SCALAR) {
            pb(l, x, "%s: categories are named by id or alias", what);
            continue;
        }
        const struct sg_category *c = sg_policy_category(l->p, x->str);
        if (!c) {
            pb(l, x, "%s names unknown category '%.80s'", what, x->str);
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < *n; k++)
            dup |= v[k] == c;
        if (dup) {
            pb(l, x, "%s names category '%.80s' twice", what, c->id);
            continue;
        }
        v[(*n)++] = c;
    }
    return v;
}

/* ---------------------------------------------------------------- contact */

static const char *const contact_keys[] = {"name", "address", "email", "phone", "web", NULL};

static int email_plausible(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') && !strchr(s, ' ');
}

static void contact_fields(struct ld *l, const struct ynode *m, const char *what,
                           struct sg_contact *c, int name_required)
{
    c->name = get_text(l, m, "name", what, name_required);
    c->address = get_text(l, m, "address", what, 0);
    c->email = get_str(l, m, "email", what, 0);
    c->phone = get_str(l, m, "phone", what, 0);
    c->web = get_str(l, m, "web", what, 0);
    if (c->email && !email_plausible(c->email))
        pb(l, mget(m, "email"), "'email' of %s is not an e-mail address", what);
}

static int contact_reachable(const struct sg_contact *c)
{
    return c->email || c->phone || c->address.n || c->web;
}

/* ------------------------------------------------------------------- meta */

static const struct sg_text_tr dvi_name[] = {
    {"lv", "Datu valsts inspekcija"},
    {"en", "Data State Inspectorate (Datu valsts inspekcija)"},
};
static const struct sg_text_tr dvi_address[] = {{NULL, "Elijas iela 17, Rīga, LV-1050"}};

static void default_authority(struct sg_contact *c)
{
    c->name.v = dvi_name;
    c->name.n = 2;
    c->address.v = dvi_address;
    c->address.n = 1;
    c->email = "pasts@dvi.gov.lv";
    c->phone = "+371 67223131";
    c->web = "https://www.dvi.gov.lv";
}

static const struct name_val regulations[] = {
    {"gdpr", SG_REG_GDPR}, {"eudpr", SG_REG_EUDPR}, {NULL, 0}};

static int tz_ok(const char *tz)
{
    size_t n = strlen(tz);
    if (n == 0 || n > 64 || tz[0] == '/' || tz[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || (c == '/' && tz[i + 1] != '/')))
            return 0;
    }
    /* Where the system has the time-zone database, the zone must be in it. */
    struct stat st;
    if (stat("/usr/share/zoneinfo", &st) == 0 && S_ISDIR(st.st_mode)) {
        char path[128];
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
    }
    return 1;
}

static void load_meta(struct ld *l, const struct ynode *root)
{
    struct sg_policy *p = l->p;
    const char *w = "the policy";
    const struct ynode *fmt = mget(root, "sargs");
    long long f = get_int(l, root, "sargs", w, 0, 1, 1000);
    if (!fmt || is_null(fmt))
        pb(l, root, "the policy has no 'sargs' key giving its format version (sargs: 1)");
    else if (f != SG_POLICY_FORMAT && f != 0)
        pb(l, fmt, "policy format %lld is not supported (this sargs reads format %d)", f,
           SG_POLICY_FORMAT);
    p->format = SG_POLICY_FORMAT;

    /* Languages come first: every text is checked against them. */
    static const char *const default_langs[] = {"lv", "en"};
    const struct ynode *ls = get_seq(l, root, "languages", w);
    if (ls && ls->n > 32) {
        pb(l, ls, "the policy has more than 32 languages");
        ls = NULL;
    }
    if (ls && ls->n) {
        const char **v = arena_array(l->a, ls->n, sizeof *v);
        size_t n = 0;
        for (size_t i = 0; i < ls->n && v; i++) {
            const struct ynode *x = ls->kids[i];
            if (x->kind != Y_SCALAR || !lang_syntax_ok(x->str)) {
                pb(l, x, "languages must be ISO 639-1 codes such as 'lv' or 'en'");
                continue;
            }
            int dup = 0;
            for (size_t k = 0; k < n; k++)
                dup |= strcmp(v[k], x->str) == 0;
            if (dup) {
                pb(l, x, "language '%s' is listed twice", x->str);
                continue;
            }
            v[n++] = x->str;
        }
        p->languages = v;
        p->nlanguages = n;
    }
    if (!p->nlanguages) {
        if (ls)
            pb(l, ls, "the policy needs at least one language");
        p->languages = default_langs;
        p->nlanguages = 2;
    }

    p->id = get_id(l, root, "policy", 0, 64);
    p->title = get_text(l, root, "title", w, 1);
    const struct ynode *eff = mget(root, "effective");
    if (eff && !is_null(eff)) {
        if (eff->kind != Y_SCALAR || sg_time_parse(eff->str, &p->effective, NULL))
            pb(l, eff, "'effective' must be a date such as 2026-01-01");
        else
            p->has_effective = 1;
    }
    p->regulation = (enum sg_regulation)get_enum(l, root, "regulation", w, regulations, 0, 0);
    p->time_zone = get_str(l, root, "time_zone", w, 0);
    if (!p->time_zone)
        p->time_zone = "Europe/Riga";
    else if (!tz_ok(p->time_zone))
        pb(l, mget(root, "time_zone"),
           "unknown time zone '%.64s' (expected an IANA name such "
           "as Europe/Riga)",
           p->time_zone);

    p->holiday_calendar = "lv";
    const struct ynode *h = mget(root, "holidays");
    if (h && !is_null(h) &&
        map_ok(l, h, "'holidays'", (const char *const[]){"calendar", "extra", NULL})) {
        const char *cal = get_str(l, h, "calendar", "'holidays'", 0);
        if (cal && strcmp(cal, "lv") != 0 && strcmp(cal, "none") != 0)
            pb(l, mget(h, "calendar"), "unknown holiday calendar '%.40s' (expected lv or none)",
               cal);
        else if (cal)
            p->holiday_calendar = cal;
        const struct ynode *ex = get_seq(l, h, "extra", "'holidays'");
        if (ex) {
            int64_t *days = arena_array(l->a, ex->n, sizeof *days);
            size_t n = 0;
            for (size_t i = 0; i < ex->n && days; i++) {
                const struct ynode *x = ex->kids[i];
                sg_time t;
                if (x->kind != Y_SCALAR || x->len != 10 || sg_time_parse(x->str, &t, NULL)) {
                    pb(l, x, "extra holidays must be dates such as 2026-06-22");
                    continue;
                }
                days[n++] = t / SG_USEC_PER_DAY;
            }
            p->extra_holidays = days;
            p->nextra_holidays = n;
        }
    }

    const char *pc = get_str(l, root, "phone_country", w, 0);
    p->catalog.phone_country = "371";
    if (pc) {
        size_t n = strlen(pc);
        int ok = n >= 1 && n <= 3 && pc[0] != '0';
        for (size_t i = 0; i < n; i++)
            ok &= pc[i] >= '0' && pc[i] <= '9';
        if (!ok)
            pb(l, mget(root, "phone_country"),
               "'phone_country' must be a calling code of 1 to 3 digits such as \"371\"");
        else
            p->catalog.phone_country = pc;
    }
    p->catalog.max_value =
        (size_t)get_int(l, root, "max_value_size", w, DEFAULT_MAX_VAL, 16, 16 * 1024 * 1024);

    default_authority(&p->authority);
    const struct ynode *sa = mget(root, "supervisory_authority");
    if (sa && !is_null(sa) && map_ok(l, sa, "'supervisory_authority'", contact_keys)) {
        contact_fields(l, sa, "'supervisory_authority'", &p->authority, 1);
        if (!contact_reachable(&p->authority))
            pb(l, sa, "the supervisory authority needs an address, e-mail, phone or web site");
    }
    p->security = get_text(l, root, "security_measures", w, 0);
    p->changes = get_text(l, root, "changes", w, 0);
}

/* ------------------------------------------------------------ controllers */

static const struct name_val controller_kinds[] = {{"sole", SG_CTRL_SOLE},
                                                   {"joint", SG_CTRL_JOINT},
                                                   {"eu", SG_CTRL_EU},
                                                   {"national", SG_CTRL_NATIONAL},
                                                   {NULL, 0}};

static void load_controllers(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {
        "id",  "kind",    "name",  "registration", "address",    "email", "phone",
        "web", "country", "scope", "directory",    "regulation", "dpo",   "supervisory_authority",
        NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "controllers", &sec);
    if (!n) {
        pb(l, sec ? sec : root, "the policy names no controller ('controllers')");
        return;
    }
    struct sg_controller *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->controllers = v;
    l->p->ncontrollers = n;
    size_t sole = 0, joint = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_controller *c = &v[i];
        char what[96];
        c->authority = &l->p->authority;
        if (!map_ok(l, it, "a controller", keys))
            continue;
        c->id = get_id(l, it, "controller", 0, 64);
        what_of(what, sizeof what, "controller", c->id);
        for (size_t k = 0; c->id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, c->id) == 0)
                pb(l, mget(it, "id"), "duplicate controller id '%s'", c->id);
        c->kind = (enum sg_controller_kind)get_enum(l, it, "kind", what, controller_kinds,
                                                    SG_CTRL_SOLE, 0);
        sole += c->kind == SG_CTRL_SOLE;
        joint += c->kind == SG_CTRL_JOINT;
        contact_fields(l, it, what, &c->contact, 1);
        if (!contact_reachable(&c->contact))
            pb(l, it, "%s has no contact details (address, email, phone or web)", what);
        c->registration = get_str(l, it, "registration", what, 0);
        c->country = get_str(l, it, "country", what, 0);
        if (c->country && !sg_country_valid(c->country))
            pb(l, mget(it, "country"), "'country' of %s is not an ISO 3166-1 code", what);
        c->scope = get_text(l, it, "scope", what, c->kind == SG_CTRL_NATIONAL);
        c->directory = get_text(l, it, "directory", what, 0);
        c->regulation = (enum sg_regulation)get_enum(l, it, "regulation", what, regulations,
                                                     (int)l->p->regulation, 0);
        const struct ynode *dpo = mget(it, "dpo");
        if (dpo && !is_null(dpo)) {
            char dw[128];
            snprintf(dw, sizeof dw, "the dpo of %s", what);
            if (map_ok(l, dpo, dw, contact_keys)) {
                c->has_dpo = 1;
                contact_fields(l, dpo, dw, &c->dpo, 0);
                if (!c->dpo.email && !c->dpo.address.n && !c->dpo.phone)
                    pb(l, dpo, "%s needs an e-mail, phone or address", dw);
            }
        }
        const struct ynode *sa = mget(it, "supervisory_authority");
        if (sa && !is_null(sa)) {
            char aw[128];
            snprintf(aw, sizeof aw, "the supervisory authority of %s", what);
            struct sg_contact *ac = arena_alloc(l->a, sizeof *ac);
            if (ac && map_ok(l, sa, aw, contact_keys)) {
                contact_fields(l, sa, aw, ac, 1);
                c->authority = ac;
            }
        }
    }
    if (sole && n > 1)
        pb(l, sec,
           "a 'sole' controller cannot share the policy with other controllers (use "
           "kind joint, or eu and national)");
    if (joint == 1)
        pb(l, sec, "joint controllers (Art. 26) need at least two controllers of kind 'joint'");
}

/* ------------------------------------------------- events, data subjects */

static void load_events(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id", "text", "global", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "events", &sec);
    struct sg_event_def *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->events = v;
    l->p->nevents = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        char what[96];
        if (!map_ok(l, it, "an event", keys))
            continue;
        const char *id = get_id(l, it, "event", 0, 64);
        if (id && strchr(id, '-')) {
            pb(l, mget(it, "id"), "event id '%s' may use only a-z, 0-9 and '_'", id);
            id = NULL;
        }
        what_of(what, sizeof what, "event", id);
        if (id) {
            int dup = 0;
            for (const char *const *e = sg_builtin_events; *e; e++)
                dup |= strcmp(*e, id) == 0;
            for (size_t k = 0; k < i; k++)
                dup |= v[k].id && strcmp(v[k].id, id) == 0;
            if (dup)
                pb(l, mget(it, "id"), "duplicate event id '%s' (or one built in)", id);
        }
        v[i].id = id;
        v[i].text = get_text(l, it, "text", what, 1);
        v[i].global = get_bool(l, it, "global", what, 0);
    }
}

static void load_subject_kinds(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id", "name", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "data_subjects", &sec);
    struct sg_subject_kind *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->subjects = v;
    l->p->nsubjects = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        char what[96];
        if (!map_ok(l, it, "a data subject category", keys))
            continue;
        v[i].id = get_id(l, it, "data subject category", 0, 64);
        what_of(what, sizeof what, "data subject category", v[i].id);
        for (size_t k = 0; v[i].id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, v[i].id) == 0)
                pb(l, mget(it, "id"), "duplicate data subject category id '%s'", v[i].id);
        v[i].name = get_text(l, it, "name", what, 1);
    }
}

/* ------------------------------------------------------------- categories */

static const struct name_val specials[] = {{"racial_ethnic", SG_SPECIAL_RACIAL_ETHNIC},
                                           {"political", SG_SPECIAL_POLITICAL},
                                           {"beliefs", SG_SPECIAL_BELIEFS},
                                           {"union", SG_SPECIAL_UNION},
                                           {"genetic", SG_SPECIAL_GENETIC},
                                           {"biometric", SG_SPECIAL_BIOMETRIC},
                                           {"health", SG_SPECIAL_HEALTH},
                                           {"sex_life", SG_SPECIAL_SEX_LIFE},
                                           {"criminal", SG_SPECIAL_CRIMINAL},
                                           {NULL, 0}};

static const struct name_val art9s[] = {{"explicit_consent", SG_ART9_EXPLICIT_CONSENT},
                                        {"employment", SG_ART9_EMPLOYMENT},
                                        {"vital_interests", SG_ART9_VITAL_INTERESTS},
                                        {"not_for_profit", SG_ART9_NOT_FOR_PROFIT},
                                        {"made_public", SG_ART9_MADE_PUBLIC},
                                        {"legal_claims", SG_ART9_LEGAL_CLAIMS},
                                        {"public_interest", SG_ART9_PUBLIC_INTEREST},
                                        {"health_care", SG_ART9_HEALTH_CARE},
                                        {"public_health", SG_ART9_PUBLIC_HEALTH},
                                        {"archiving_research", SG_ART9_ARCHIVING_RESEARCH},
                                        {NULL, 0}};

static void load_categories(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {
        "id",      "alias",   "name",           "type",       "required", "indexed", "source",
        "special", "opinion", "person_decides", "group_only", "max_size", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "categories", &sec);
    if (!n) {
        pb(l, sec ? sec : root, "the policy declares no data category ('categories')");
        return;
    }
    struct sg_category *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    /* The catalog only counts categories that have a usable id, so that no
     * look-up ever meets a NULL id. */
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_category c;
        char what[160];
        memset(&c, 0, sizeof c);
        if (!map_ok(l, it, "a category", keys))
            continue;
        c.id = get_id(l, it, "category", 1, SG_CATEGORY_ID_MAX);
        what_of(what, sizeof what, "category", c.id);
        c.alias = get_str(l, it, "alias", what, 0);
        if (c.alias && !id_ok(c.alias, 0, 64)) {
            pb(l, mget(it, "alias"),
               "alias '%.60s' of %s is malformed (lower-case letters, "
               "digits and '_')",
               c.alias, what);
            c.alias = NULL;
        }
        for (size_t k = 0; k < nv; k++) {
            const struct sg_category *o = &v[k];
            if (c.id && (strcmp(o->id, c.id) == 0 || (o->alias && strcmp(o->alias, c.id) == 0)))
                pb(l, mget(it, "id"), "duplicate category id '%s'", c.id);
            if (c.alias &&
                (strcmp(o->id, c.alias) == 0 || (o->alias && strcmp(o->alias, c.alias) == 0)))
                pb(l, mget(it, "alias"), "alias '%s' is already used by category '%s'", c.alias,
                   o->id);
        }
        if (c.id && c.alias && strcmp(c.id, c.alias) == 0)
            c.alias = NULL;
        c.name = get_text(l, it, "name", what, 1);
        const char *type = get_str(l, it, "type", what, 0);
        c.type = SG_VT_LINE;
        if (type) {
            int t = sg_vtype_from_name(type);
            if (t < 0)
                pb(l, mget(it, "type"),
                   "unknown type '%.40s' of %s (expected text, line, email, phone, "
                   "personal_code, country, language, date, ip or url)",
                   type, what);
            else
                c.type = (enum sg_vtype)t;
        }
        c.required = get_bool(l, it, "required", what, 0);
        c.indexed = get_bool(l, it, "indexed", what, 0);
        c.opinion = get_bool(l, it, "opinion", what, 0);
        c.person_decides = get_bool(l, it, "person_decides", what, 0);
        c.group_only = get_bool(l, it, "group_only", what, 0);
        if (c.opinion && c.person_decides)
            pb(l, mget(it, "opinion"), "%s cannot be both an opinion and decided by the person",
               what);
        c.max_size = (size_t)get_int(l, it, "max_size", what, 0, 1, 16 * 1024 * 1024);
        if (c.max_size > l->p->catalog.max_value)
            pb(l, mget(it, "max_size"), "'max_size' of %s is over the policy's max_value_size",
               what);
        const struct ynode *src = mget(it, "source");
        if (src && !is_null(src)) {
            if (src->kind == Y_SCALAR && strcmp(src->str, "subject") == 0) {
                c.source = SG_SOURCE_SUBJECT;
            } else if (src->kind == Y_MAP) {
                char sw[192];
                snprintf(sw, sizeof sw, "the source of %s", what);
                if (map_ok(l, src, sw, (const char *const[]){"from", "public", NULL})) {
                    c.source = SG_SOURCE_OTHER;
                    c.source_name = get_text(l, src, "from", sw, 1);
                    c.public_source = get_bool(l, src, "public", sw, 0);
                }
            } else {
                pb(l, src, "'source' of %s must be 'subject' or a mapping with 'from' (Art. 14)",
                   what);
            }
        }
        const struct ynode *sp = mget(it, "special");
        if (sp && !is_null(sp)) {
            char sw[192];
            snprintf(sw, sizeof sw, "the special category of %s", what);
            if (sp->kind == Y_SCALAR) {
                /* Only the kind: the Art. 9(2) condition is missing. */
                c.special =
                    (enum sg_special)enum_of(l, sp, "kind", sw, specials, SG_SPECIAL_HEALTH);
                pb(l, sp,
                   "%s is a special category but has no Art. 9(2) condition (write special: "
                   "{kind: %.30s, condition: ...})",
                   what, sp->str);
            } else if (map_ok(l, sp, sw, (const char *const[]){"kind", "condition", NULL})) {
                c.special =
                    (enum sg_special)get_enum(l, sp, "kind", sw, specials, SG_SPECIAL_HEALTH, 1);
                c.art9 = (enum sg_art9)get_enum(l, sp, "condition", sw, art9s, 0, 0);
                if (is_null(mget(sp, "condition")))
                    pb(l, sp,
                       "%s is a special category but has no Art. 9(2) condition "
                       "(special.condition)",
                       what);
            }
        }
        if (c.id)
            v[nv++] = c;
    }
    l->p->catalog.cats = v;
    l->p->catalog.n = nv;
}

/* -------------------------------------------------------------- templates */

static const char *const placeholders[] = {"name",    "controller",  "date",  "deadline",
                                           "link",    "unsubscribe", "erase", "reason",
                                           "request", NULL};

static void check_placeholders(struct ld *l, const struct ynode *at, const struct sg_text *t,
                               const char *what)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->v[i].text;
        const char *lang = t->v[i].lang ? t->v[i].lang : "every language";
        for (const char *o = strstr(s, "{{"); o; o = strstr(o + 2, "{{")) {
            const char *c = strstr(o + 2, "}}");
            if (!c) {
                pb(l, at, "%s (%s): '{{' without '}}'", what, lang);
                break;
            }
            size_t len = (size_t)(c - o - 2);
            const char *name = o + 2;
            while (len && *name == ' ') {
                name++;
                len--;
            }
            while (len && name[len - 1] == ' ')
                len--;
            int ok = 0;
            for (const char *const *p = placeholders; *p; p++)
                ok |= strlen(*p) == len && strncmp(*p, name, len) == 0;
            if (!ok)
                pb(l, at, "%s (%s): unknown placeholder '{{%.*s}}'", what, lang,
                   (int)(len > 40 ? 40 : len), name);
        }
    }
}

static void load_templates(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id", "subject", "body", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "templates", &sec);
    struct sg_template *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->templates = v;
    l->p->ntemplates = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        char what[96];
        if (!map_ok(l, it, "a template", keys))
            continue;
        v[i].id = get_id(l, it, "template", 0, 64);
        what_of(what, sizeof what, "template", v[i].id);
        for (size_t k = 0; v[i].id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, v[i].id) == 0)
                pb(l, mget(it, "id"), "duplicate template id '%s'", v[i].id);
        v[i].subject = get_text(l, it, "subject", what, 1);
        v[i].body = get_text(l, it, "body", what, 1);
        check_placeholders(l, mget(it, "subject"), &v[i].subject, what);
        check_placeholders(l, mget(it, "body"), &v[i].body, what);
    }
}

/* ------------------------------------------------------------- recipients */

static const struct name_val recipient_kinds[] = {{"processor", SG_RCPT_PROCESSOR},
                                                  {"controller", SG_RCPT_CONTROLLER},
                                                  {"joint_controller", SG_RCPT_JOINT},
                                                  {"authority", SG_RCPT_AUTHORITY},
                                                  {"other", SG_RCPT_OTHER},
                                                  {NULL, 0}};

static const struct name_val safeguards[] = {{"adequacy", SG_SAFE_ADEQUACY},
                                             {"scc", SG_SAFE_SCC},
                                             {"bcr", SG_SAFE_BCR},
                                             {"ad_hoc_clauses", SG_SAFE_AD_HOC},
                                             {"administrative_arrangement", SG_SAFE_ADMIN},
                                             {"code_of_conduct", SG_SAFE_CODE},
                                             {"certification", SG_SAFE_CERTIFICATION},
                                             {"derogation", SG_SAFE_DEROGATION},
                                             {NULL, 0}};

static void load_recipients(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id",           "name",
                                       "kind",         "role",
                                       "country",      "third_countries",
                                       "safeguard",    "only_when_required",
                                       "confidential", "contact",
                                       "identify_by",  NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "recipients", &sec);
    struct sg_recipient *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->recipients = v;
    l->p->nrecipients = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_recipient *r = &v[i];
        char what[96];
        if (!map_ok(l, it, "a recipient", keys))
            continue;
        r->id = get_id(l, it, "recipient", 0, 64);
        what_of(what, sizeof what, "recipient", r->id);
        for (size_t k = 0; r->id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, r->id) == 0)
                pb(l, mget(it, "id"), "duplicate recipient id '%s'", r->id);
        r->name = get_text(l, it, "name", what, 1);
        r->kind = (enum sg_recipient_kind)get_enum(l, it, "kind", what, recipient_kinds,
                                                   SG_RCPT_PROCESSOR, 0);
        r->role = get_text(l, it, "role", what, 0);
        r->country = get_str(l, it, "country", what, 0);
        r->only_when_required = get_bool(l, it, "only_when_required", what, 0);
        r->confidential = get_bool(l, it, "confidential", what, 0);
        int third = get_bool(l, it, "third_countries", what, 0);
        if (r->country && strcmp(r->country, "EU") != 0 && !sg_country_valid(r->country)) {
            pb(l, mget(it, "country"),
               "'country' of %s is not an ISO 3166-1 code (or EU for an EU body)", what);
        } else if (r->country && strcmp(r->country, "EU") != 0 && !sg_country_in_eea(r->country)) {
            third = 1;
        }
        r->third_country = third;
        const struct ynode *ct = mget(it, "contact");
        if (ct && !is_null(ct)) {
            char cw[128];
            snprintf(cw, sizeof cw, "the contact of %s", what);
            if (map_ok(l, ct, cw, contact_keys))
                contact_fields(l, ct, cw, &r->contact, 0);
        }
        r->identify_by =
            category_list(l, get_seq(l, it, "identify_by", what), what, &r->nidentify_by);
        if (r->nidentify_by && !r->contact.email)
            pb(l, mget(it, "identify_by"),
               "%s names how it knows a person ('identify_by') but has no contact.email to "
               "tell it",
               what);
        const struct ynode *sg = mget(it, "safeguard");
        if (sg && !is_null(sg)) {
            char sw[128];
            snprintf(sw, sizeof sw, "the safeguard of %s", what);
            if (sg->kind == Y_SCALAR) {
                r->safeguard = (enum sg_safeguard)enum_of(l, sg, "type", sw, safeguards, 0);
            } else if (map_ok(l, sg, sw, (const char *const[]){"type", "text", "copy", NULL})) {
                r->safeguard = (enum sg_safeguard)get_enum(l, sg, "type", sw, safeguards, 0, 1);
                r->safeguard_text = get_text(l, sg, "text", sw, 0);
                r->safeguard_copy = get_text(l, sg, "copy", sw, 0);
            }
            if (r->safeguard == SG_SAFE_DEROGATION && !r->safeguard_text.n)
                pb(l, sg, "%s: a derogation (Art. 49) must say which one (safeguard.text)", what);
        }
        if (r->third_country && r->safeguard == SG_SAFE_NONE)
            pb(l, it,
               "%s is in a third country%s%s%s but has no safeguard for the transfer "
               "(Art. 44-49)",
               what, r->country ? " ('" : "", r->country ? r->country : "", r->country ? "')" : "");
    }
}

/* -------------------------------------------------------------- retention */

static const struct name_val actions[] = {{"delete", SG_ACT_DELETE},
                                          {"anonymise", SG_ACT_ANONYMISE},
                                          {"hide", SG_ACT_HIDE},
                                          {"notify", SG_ACT_NOTIFY},
                                          {"restrict", SG_ACT_RESTRICT},
                                          {"keep", SG_ACT_KEEP},
                                          {NULL, 0}};

static const char *event_ref(struct ld *l, const struct ynode *map, const char *key,
                             const char *what, int required)
{
    const char *e = get_str(l, map, key, what, required);
    if (e && !event_known(l->p, e)) {
        pb(l, mget(map, key),
           "%s names unknown event '%.60s' (built in: created, confirmed, last_login, "
           "event_date, contract_end, collected, consent_withdrawn; others go in 'events')",
           what, e);
        return NULL;
    }
    return e;
}

static void load_retention(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id",         "categories", "anchor",      "after",
                                       "action",     "template",   "condition",   "keep",
                                       "reactivate", "criteria",   "description", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "retention", &sec);
    if (!n) {
        pb(l, sec ? sec : root, "the policy has no retention rule ('retention')");
        return;
    }
    struct sg_retention *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->retention = v;
    l->p->nretention = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_retention *r = &v[i];
        char what[96];
        if (!map_ok(l, it, "a retention rule", keys))
            continue;
        r->id = get_id(l, it, "retention rule", 0, 64);
        what_of(what, sizeof what, "retention rule", r->id);
        for (size_t k = 0; r->id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, r->id) == 0)
                pb(l, mget(it, "id"), "duplicate retention rule id '%s'", r->id);
        const struct ynode *cats = mget(it, "categories");
        if (!cats || is_null(cats))
            pb(l, it, "%s has no 'categories' (a list, or 'all' for the whole person)", what);
        else if (cats->kind == Y_SCALAR && strcmp(cats->str, "all") == 0)
            r->all_categories = 1;
        else if (cats->kind != Y_SEQ)
            pb(l, cats, "'categories' of %s must be a list or 'all'", what);
        else
            r->categories = category_list(l, cats, what, &r->ncategories);
        r->action = (enum sg_action)get_enum(l, it, "action", what, actions, SG_ACT_KEEP, 1);
        r->anchor = event_ref(l, it, "anchor", what, r->action != SG_ACT_KEEP);
        r->has_after = get_duration(l, it, "after", what, 0, &r->after);
        if (is_null(mget(it, "after")) && r->action != SG_ACT_KEEP)
            pb(l, it, "%s has no 'after' duration (ISO 8601, e.g. P10D)", what);
        const char *tpl = get_str(l, it, "template", what, r->action == SG_ACT_NOTIFY);
        if (tpl) {
            r->template = sg_policy_template(l->p, tpl);
            if (!r->template)
                pb(l, mget(it, "template"), "%s names unknown template '%.60s'", what, tpl);
            else if (r->action != SG_ACT_NOTIFY)
                pb(l, mget(it, "template"), "%s has a template but its action is not notify", what);
        }
        const struct ynode *cond = mget(it, "condition");
        if (cond && !is_null(cond)) {
            char cw[128];
            snprintf(cw, sizeof cw, "the condition of %s", what);
            if (map_ok(l, cond, cw, (const char *const[]){"missing_event", "has_event", NULL})) {
                r->condition.missing_event = event_ref(l, cond, "missing_event", cw, 0);
                r->condition.has_event = event_ref(l, cond, "has_event", cw, 0);
                if (is_null(mget(cond, "missing_event")) && is_null(mget(cond, "has_event")))
                    pb(l, cond, "%s is empty", cw);
            }
        }
        const struct ynode *keep = get_seq(l, it, "keep", what);
        if (keep) {
            r->keep = category_list(l, keep, what, &r->nkeep);
            if (r->action != SG_ACT_ANONYMISE)
                pb(l, keep, "%s keeps categories but its action is not anonymise", what);
            for (size_t k = 0; k < r->nkeep; k++)
                if (r->keep[k]->indexed || r->keep[k]->type == SG_VT_EMAIL ||
                    r->keep[k]->type == SG_VT_PHONE || r->keep[k]->type == SG_VT_PERSONAL_CODE)
                    pb(l, keep, "%s keeps '%s' after anonymisation, but it identifies the person",
                       what, r->keep[k]->id);
        }
        r->reactivate = get_bool(l, it, "reactivate", what, 0);
        if (r->reactivate && r->action != SG_ACT_HIDE)
            pb(l, mget(it, "reactivate"), "%s: 'reactivate' applies only to action hide", what);
        r->criteria = get_text(l, it, "criteria", what, r->action == SG_ACT_KEEP);
        r->description = get_text(l, it, "description", what, 0);
    }
}

/* --------------------------------------------------------------- purposes */

static const struct name_val bases[] = {{"consent", SG_BASIS_CONSENT},
                                        {"contract", SG_BASIS_CONTRACT},
                                        {"legal_obligation", SG_BASIS_LEGAL_OBLIGATION},
                                        {"vital_interests", SG_BASIS_VITAL_INTERESTS},
                                        {"public_task", SG_BASIS_PUBLIC_TASK},
                                        {"legitimate_interest", SG_BASIS_LEGITIMATE_INTEREST},
                                        {NULL, 0}};

static const struct name_val requirements[] = {{"voluntary", SG_REQ_VOLUNTARY},
                                               {"statutory", SG_REQ_STATUTORY},
                                               {"contractual", SG_REQ_CONTRACTUAL},
                                               {"precondition", SG_REQ_PRECONDITION},
                                               {NULL, 0}};

static const struct name_val minors_names[] = {
    {"guardian", SG_MINORS_GUARDIAN}, {"refuse", SG_MINORS_REFUSE}, {NULL, 0}};

static void load_consent(struct ld *l, const struct ynode *it, struct sg_purpose *pu,
                         const char *what)
{
    const struct ynode *c = mget(it, "consent");
    pu->consent.min_age = 13;
    if (!c || is_null(c)) {
        if (pu->basis == SG_BASIS_CONSENT)
            pb(l, it,
               "consent %s has no withdrawal method (consent.withdrawal): withdrawing "
               "must be as easy as giving consent (Art. 7(3))",
               what);
        return;
    }
    char cw[128];
    snprintf(cw, sizeof cw, "the consent settings of %s", what);
    static const char *const keys[] = {"min_age",  "minors",   "withdrawal",
                                       "validity", "per_item", NULL};
    if (!map_ok(l, c, cw, keys))
        return;
    if (pu->basis != SG_BASIS_CONSENT && pu->basis)
        pb(l, c, "%s has consent settings but its legal basis is not consent", what);
    pu->consent.min_age = (int)get_int(l, c, "min_age", cw, 13, 13, 21);
    pu->consent.minors =
        (enum sg_minors)get_enum(l, c, "minors", cw, minors_names, SG_MINORS_GUARDIAN, 0);
    pu->consent.withdrawal = get_text(l, c, "withdrawal", cw, 0);
    if (!pu->consent.withdrawal.n && pu->basis == SG_BASIS_CONSENT &&
        is_null(mget(c, "withdrawal")))
        pb(l, c,
           "consent %s has no withdrawal method (consent.withdrawal): withdrawing must be "
           "as easy as giving consent (Art. 7(3))",
           what);
    pu->consent.has_validity = get_duration(l, c, "validity", cw, 0, &pu->consent.validity);
    pu->consent.per_item = get_bool(l, c, "per_item", cw, 0);
}

static void load_automated(struct ld *l, const struct ynode *it, struct sg_purpose *pu,
                           const char *what)
{
    static const char *const keys[] = {"description", "logic",        "consequences",
                                       "significant", "human_review", NULL};
    const struct ynode *seq = get_seq(l, it, "automated_decisions", what);
    if (!seq)
        return;
    struct sg_automated *v = arena_array(l->a, seq->n, sizeof *v);
    if (!v)
        return;
    pu->automated = v;
    pu->nautomated = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        const struct ynode *x = seq->kids[i];
        char aw[128];
        snprintf(aw, sizeof aw, "an automated decision of %s", what);
        if (!map_ok(l, x, aw, keys))
            continue;
        v[i].description = get_text(l, x, "description", aw, 1);
        v[i].logic = get_text(l, x, "logic", aw, 0);
        v[i].consequences = get_text(l, x, "consequences", aw, 0);
        v[i].significant = get_bool(l, x, "significant", aw, 0);
        v[i].human_review = get_bool(l, x, "human_review", aw, 1);
        if (v[i].significant && !v[i].human_review)
            pb(l, x,
               "%s has a legal or similarly significant effect, so the person must be able "
               "to ask a human to review it (Art. 22(3))",
               aw);
        if (v[i].significant && !v[i].logic.n)
            pb(l, x, "%s has a significant effect: describe its logic (Art. 13(2)(f))", aw);
    }
}

/* Resolves a list of ids through `find`; unknown ones are problems. */
#define ID_LIST(l, seq, what, kname, type, find, out, nout)                                        \
    do {                                                                                           \
        *(nout) = 0;                                                                               \
        if (!(seq))                                                                                \
            break;                                                                                 \
        const type **v_ = arena_array((l)->a, (seq)->n, sizeof *v_);                               \
        for (size_t i_ = 0; v_ && i_ < (seq)->n; i_++) {                                           \
            const struct ynode *x_ = (seq)->kids[i_];                                              \
            const type *f_ = x_->kind == Y_SCALAR ? find((l)->p, x_->str) : NULL;                  \
            if (!f_) {                                                                             \
                pb((l), x_, "%s names unknown %s '%.60s'", (what), (kname),                        \
                   x_->kind == Y_SCALAR ? x_->str : "(not text)");                                 \
                continue;                                                                          \
            }                                                                                      \
            v_[(*(nout))++] = f_;                                                                  \
        }                                                                                          \
        *(out) = v_;                                                                               \
    } while (0)

/* `key` as a list, also accepting a single id. */
static const struct ynode *id_seq(struct ld *l, const struct ynode *map, const char *key,
                                  const char *what, struct ynode *one)
{
    const struct ynode *v = mget(map, key);
    if (!v || is_null(v))
        return NULL;
    if (v->kind == Y_SCALAR) {
        memset(one, 0, sizeof *one);
        one->kind = Y_SEQ;
        one->line = v->line;
        one->col = v->col;
        one->kids = arena_array(l->a, 1, sizeof *one->kids);
        if (!one->kids)
            return NULL;
        one->kids[0] = (struct ynode *)v;
        one->n = 1;
        return one;
    }
    return get_seq(l, map, key, what);
}

static void load_purposes(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id",
                                       "name",
                                       "description",
                                       "controllers",
                                       "data_subjects",
                                       "basis",
                                       "basis_reference",
                                       "legitimate_interest",
                                       "balance_test",
                                       "categories",
                                       "recipients",
                                       "retention",
                                       "requirement",
                                       "if_not_provided",
                                       "automated_decisions",
                                       "profiling",
                                       "consent",
                                       "direct_marketing",
                                       "sale_or_sharing",
                                       NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "purposes", &sec);
    if (!n) {
        pb(l, sec ? sec : root, "the policy declares no purpose ('purposes')");
        return;
    }
    struct sg_purpose *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->purposes = v;
    l->p->npurposes = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_purpose *pu = &v[i];
        struct ynode one;
        char what[96];
        if (!map_ok(l, it, "a purpose", keys))
            continue;
        pu->id = get_id(l, it, "purpose", 0, 64);
        what_of(what, sizeof what, "purpose", pu->id);
        for (size_t k = 0; pu->id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, pu->id) == 0)
                pb(l, mget(it, "id"), "duplicate purpose id '%s'", pu->id);
        pu->name = get_text(l, it, "name", what, 1);
        pu->description = get_text(l, it, "description", what, 0);
        const struct ynode *cs = id_seq(l, it, "controllers", what, &one);
        ID_LIST(l, cs, what, "controller", struct sg_controller, sg_policy_controller,
                &pu->controllers, &pu->ncontrollers);
        const struct ynode *ds = id_seq(l, it, "data_subjects", what, &one);
        ID_LIST(l, ds, what, "data subject category", struct sg_subject_kind, find_subject_kind,
                &pu->subjects, &pu->nsubjects);
        pu->basis = (enum sg_basis)get_enum(l, it, "basis", what, bases, 0, 1);
        pu->basis_reference = get_text(l, it, "basis_reference", what, 0);
        pu->legitimate_interest = get_text(l, it, "legitimate_interest", what, 0);
        pu->balance_test = get_text(l, it, "balance_test", what, 0);
        if (pu->basis == SG_BASIS_LEGITIMATE_INTEREST) {
            if (is_null(mget(it, "legitimate_interest")))
                pb(l, it,
                   "%s rests on legitimate interest but does not say which interest "
                   "(legitimate_interest)",
                   what);
            if (is_null(mget(it, "balance_test")))
                pb(l, it,
                   "%s rests on legitimate interest but has no balance test "
                   "(balance_test)",
                   what);
            /* Reg. 2018/1725 has no legitimate-interest basis. */
            for (size_t k = 0; k < l->p->ncontrollers; k++) {
                const struct sg_controller *c = &l->p->controllers[k];
                int applies = pu->ncontrollers == 0;
                for (size_t j = 0; j < pu->ncontrollers; j++)
                    applies |= pu->controllers[j] == c;
                if (applies && c->regulation == SG_REG_EUDPR) {
                    pb(l, mget(it, "basis"),
                       "%s rests on legitimate interest, which Reg. "
                       "2018/1725 does not offer to controller '%s'",
                       what, c->id ? c->id : "?");
                    break;
                }
            }
        } else if (!is_null(mget(it, "balance_test"))) {
            pb(l, mget(it, "balance_test"),
               "%s has a balance test but its legal basis is not legitimate_interest", what);
        }
        const struct ynode *cats = get_seq(l, it, "categories", what);
        if (!cats || !cats->n)
            pb(l, cats ? cats : it, "%s uses no data category ('categories')", what);
        pu->categories = category_list(l, cats, what, &pu->ncategories);
        const struct ynode *rs = get_seq(l, it, "recipients", what);
        ID_LIST(l, rs, what, "recipient", struct sg_recipient, sg_policy_recipient, &pu->recipients,
                &pu->nrecipients);
        /* Transfers follow from where the recipients are. */
        const struct sg_recipient **tr = arena_array(l->a, pu->nrecipients, sizeof *tr);
        for (size_t k = 0; tr && k < pu->nrecipients; k++)
            if (pu->recipients[k]->third_country)
                tr[pu->ntransfers++] = pu->recipients[k];
        pu->transfers = tr;
        const struct ynode *ret = get_seq(l, it, "retention", what);
        ID_LIST(l, ret, what, "retention rule", struct sg_retention, sg_policy_rule, &pu->retention,
                &pu->nretention);
        int def_req = pu->basis == SG_BASIS_LEGAL_OBLIGATION ? SG_REQ_STATUTORY
                      : pu->basis == SG_BASIS_CONTRACT       ? SG_REQ_PRECONDITION
                                                             : SG_REQ_VOLUNTARY;
        pu->requirement =
            (enum sg_requirement)get_enum(l, it, "requirement", what, requirements, def_req, 0);
        pu->if_not_provided = get_text(l, it, "if_not_provided", what, 0);
        load_automated(l, it, pu, what);
        pu->profiling = get_bool(l, it, "profiling", what, 0);
        load_consent(l, it, pu, what);
        pu->direct_marketing = get_bool(l, it, "direct_marketing", what, 0);
        pu->sale_or_sharing = get_bool(l, it, "sale_or_sharing", what, 0);
        if (pu->direct_marketing && pu->basis && pu->basis != SG_BASIS_CONSENT &&
            pu->basis != SG_BASIS_LEGITIMATE_INTEREST)
            pb(l, mget(it, "direct_marketing"),
               "%s is direct marketing, which rests on consent or legitimate interest only", what);
    }
}

/* ------------------------------------------------------------------ roles */

static const struct name_val role_kinds[] = {
    {"staff", SG_ROLE_STAFF},     {"user", SG_ROLE_USER},       {"public", SG_ROLE_PUBLIC},
    {"partner", SG_ROLE_PARTNER}, {"service", SG_ROLE_SERVICE}, {NULL, 0}};
static const struct name_val group_names[] = {
    {"none", SG_GROUP_NONE}, {"members", SG_GROUP_MEMBERS}, {"all", SG_GROUP_ALL}, {NULL, 0}};

/* Marks in `mark` the categories a field pattern names: an id, an alias, or
 * "prefix.*" for every id under the prefix. 0 when it names none. */
static size_t mark_fields(const struct sg_policy *p, const char *pat, unsigned char *mark)
{
    size_t hits = 0, n = strlen(pat);
    if (n > 2 && pat[n - 1] == '*' && pat[n - 2] == '.') {
        for (size_t i = 0; i < p->catalog.n; i++)
            if (strncmp(p->catalog.cats[i].id, pat, n - 1) == 0) {
                mark[i] = 1;
                hits++;
            }
        return hits;
    }
    const struct sg_category *c = sg_catalog_find(&p->catalog, pat);
    if (c) {
        mark[c - p->catalog.cats] = 1;
        hits = 1;
    }
    return hits;
}

static void load_roles(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id",   "name",          "kind",        "fields",   "except",
                                       "rows", "group_content", "sees_hidden", "purposes", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "roles", &sec);
    struct sg_role *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->roles = v;
    l->p->nroles = n;
    size_t nc = l->p->catalog.n;
    unsigned char *mark = nc ? malloc(nc) : NULL;
    if (nc && !mark) {
        l->a->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_role *r = &v[i];
        char what[96];
        if (!map_ok(l, it, "a role", keys))
            continue;
        r->id = get_id(l, it, "role", 0, 64);
        what_of(what, sizeof what, "role", r->id);
        for (size_t k = 0; r->id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, r->id) == 0)
                pb(l, mget(it, "id"), "duplicate role id '%s'", r->id);
        /* The command line acts as "operator", which sees everything: a
         * policy role of that name would be ambiguous. */
        if (r->id && strcmp(r->id, SG_ROLE_OPERATOR) == 0)
            pb(l, mget(it, "id"), "role id 'operator' is reserved for the vault's operators");
        if (r->id && strcmp(r->id, SG_ROLE_SELF) == 0)
            pb(l, mget(it, "id"), "role id 'self' is reserved for people at their own data");
        r->name = get_text(l, it, "name", what, 1);
        r->kind = (enum sg_role_kind)get_enum(l, it, "kind", what, role_kinds, SG_ROLE_STAFF, 0);
        if (nc)
            memset(mark, 0, nc);
        const struct ynode *f = mget(it, "fields");
        if (!f || is_null(f)) {
            pb(l, it, "%s has no 'fields' (a list of categories, or 'all')", what);
        } else if (f->kind == Y_SCALAR && strcmp(f->str, "all") == 0) {
            r->all_fields = 1;
            if (nc)
                memset(mark, 1, nc);
        } else if (f->kind == Y_SCALAR && strcmp(f->str, "none") == 0) {
            /* sees no field (only that a record exists) */
        } else if (f->kind != Y_SEQ) {
            pb(l, f, "'fields' of %s must be a list, 'all' or 'none'", what);
        } else {
            for (size_t k = 0; k < f->n; k++) {
                const struct ynode *x = f->kids[k];
                if (x->kind != Y_SCALAR || !mark_fields(l->p, x->str, mark))
                    pb(l, x, "%s names unknown field '%.80s'", what,
                       x->kind == Y_SCALAR ? x->str : "(not text)");
            }
        }
        const struct ynode *ex = get_seq(l, it, "except", what);
        if (ex) {
            unsigned char *drop = nc ? calloc(nc, 1) : NULL;
            for (size_t k = 0; k < ex->n; k++) {
                const struct ynode *x = ex->kids[k];
                if (x->kind != Y_SCALAR || (drop && !mark_fields(l->p, x->str, drop)) || !drop)
                    pb(l, x, "%s names unknown field '%.80s'", what,
                       x->kind == Y_SCALAR ? x->str : "(not text)");
            }
            for (size_t k = 0; drop && k < nc; k++)
                if (drop[k])
                    mark[k] = 0;
            free(drop);
        }
        size_t cnt = 0;
        for (size_t k = 0; k < nc; k++)
            cnt += mark[k] != 0;
        const struct sg_category **fv = arena_array(l->a, cnt, sizeof *fv);
        for (size_t k = 0; fv && k < nc; k++)
            if (mark[k])
                fv[r->nfields++] = &l->p->catalog.cats[k];
        r->fields = fv;

        const struct ynode *rows = mget(it, "rows");
        if (!rows || is_null(rows) || (rows->kind == Y_SCALAR && strcmp(rows->str, "all") == 0)) {
            r->rows = SG_ROWS_ALL;
        } else if (rows->kind == Y_SCALAR && strcmp(rows->str, "self") == 0) {
            r->rows = SG_ROWS_SELF;
        } else if (rows->kind == Y_SCALAR && strcmp(rows->str, "none") == 0) {
            r->rows = SG_ROWS_NONE;
        } else if (rows->kind == Y_MAP) {
            char rw[128];
            snprintf(rw, sizeof rw, "'rows' of %s", what);
            if (map_ok(l, rows, rw, (const char *const[]){"same_as_viewer", NULL})) {
                const char *fld = get_str(l, rows, "same_as_viewer", rw, 1);
                r->rows = SG_ROWS_SAME_VALUE;
                r->row_field = sg_policy_category(l->p, fld);
                if (fld && !r->row_field)
                    pb(l, mget(rows, "same_as_viewer"), "%s names unknown field '%.80s'", rw, fld);
            }
        } else {
            pb(l, rows, "'rows' of %s must be all, self, none or {same_as_viewer: FIELD}", what);
        }
        r->group_content =
            (enum sg_group_content)get_enum(l, it, "group_content", what, group_names, 0, 0);
        r->sees_hidden = get_bool(l, it, "sees_hidden", what, 0);
        const struct ynode *ps = get_seq(l, it, "purposes", what);
        ID_LIST(l, ps, what, "purpose", struct sg_purpose, sg_policy_purpose, &r->purposes,
                &r->npurposes);
    }
    free(mark);
}

/* --------------------------------------------------------------- requests */

static const char *const channel_ids[] = {"in_person", "registered_post", "post",
                                          "email",     "email_signed",    "account",
                                          "phone",     "web_form",        NULL};

static const struct name_val identity_names[] = {{"id_document", SG_IDM_DOCUMENT},
                                                 {"registered_post", SG_IDM_REGISTERED_POST},
                                                 {"qualified_signature", SG_IDM_QUALIFIED_SIG},
                                                 {"account", SG_IDM_ACCOUNT},
                                                 {"known_contact", SG_IDM_KNOWN_CONTACT},
                                                 {NULL, 0}};

static int parse_money(const char *s, int64_t *cents)
{
    int64_t whole = 0, frac = 0;
    int nd = 0, nf = -1;
    for (; *s; s++) {
        if (*s == '.' && nf < 0) {
            nf = 0;
            continue;
        }
        if (*s < '0' || *s > '9')
            return -1;
        if (nf < 0) {
            if (++nd > 9)
                return -1;
            whole = whole * 10 + (*s - '0');
        } else {
            if (++nf > 2)
                return -1;
            frac = frac * 10 + (*s - '0');
        }
    }
    if (nd == 0 || nf == 0)
        return -1;
    if (nf == 1)
        frac *= 10;
    *cents = whole * 100 + frac;
    return 0;
}

static void load_requests(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"contact",        "channels",         "answer",
                                       "extra_copy_fee", "identical_within", NULL};
    static const struct name_val answers[] = {
        {"same_channel", SG_ANSWER_SAME_CHANNEL}, {"electronic", SG_ANSWER_ELECTRONIC}, {NULL, 0}};
    struct sg_request_rules *rq = &l->p->requests;
    const char *w = "'requests'";
    rq->identical_within.months = 12;
    rq->currency = "EUR";
    const struct ynode *m = mget(root, "requests");
    if (!m || is_null(m)) {
        pb(l, root, "the policy does not say how requests are made ('requests')");
        return;
    }
    if (!map_ok(l, m, w, keys))
        return;
    const struct ynode *c = mget(m, "contact");
    if (!c || is_null(c))
        pb(l, m, "%s has no 'contact' saying where people send requests", w);
    else if (map_ok(l, c, "the contact of 'requests'", contact_keys)) {
        contact_fields(l, c, "the contact of 'requests'", &rq->contact, 0);
        if (!contact_reachable(&rq->contact))
            pb(l, c, "the contact of 'requests' needs an e-mail, phone, address or web site");
    }
    const struct ynode *ch = get_seq(l, m, "channels", w);
    if (!ch || !ch->n)
        pb(l, ch ? ch : m, "%s lists no channel ('channels')", w);
    struct sg_channel *cv = ch ? arena_array(l->a, ch->n, sizeof *cv) : NULL;
    for (size_t i = 0; cv && i < ch->n; i++) {
        const struct ynode *it = ch->kids[i];
        char what[96];
        if (!map_ok(l, it, "a request channel",
                    (const char *const[]){"id", "name", "identity", "note", NULL}))
            continue;
        const char *id = get_str(l, it, "id", "a request channel", 1);
        if (id) {
            const char *const *k = channel_ids;
            while (*k && strcmp(*k, id) != 0)
                k++;
            if (!*k) {
                pb(l, mget(it, "id"),
                   "unknown request channel '%.40s' (expected in_person, registered_post, post, "
                   "email, email_signed, account, phone or web_form)",
                   id);
                id = NULL;
            }
            for (size_t k2 = 0; id && k2 < i; k2++)
                if (cv[k2].id && strcmp(cv[k2].id, id) == 0)
                    pb(l, mget(it, "id"), "duplicate request channel '%s'", id);
        }
        what_of(what, sizeof what, "request channel", id);
        cv[i].id = id;
        cv[i].name = get_text(l, it, "name", what, 0);
        cv[i].note = get_text(l, it, "note", what, 0);
        const struct ynode *idm = get_seq(l, it, "identity", what);
        for (size_t k = 0; idm && k < idm->n; k++) {
            const struct ynode *x = idm->kids[k];
            int found = 0;
            for (const struct name_val *nv = identity_names; x->kind == Y_SCALAR && nv->name; nv++)
                if (strcmp(nv->name, x->str) == 0) {
                    cv[i].identity |= (unsigned)nv->val;
                    found = 1;
                }
            if (!found)
                pb(l, x,
                   "unknown identity method in %s (expected id_document, registered_post, "
                   "qualified_signature, account or known_contact)",
                   what);
        }
    }
    rq->channels = cv;
    rq->nchannels = ch ? ch->n : 0;
    rq->answer = (enum sg_answer_rule)get_enum(l, m, "answer", w, answers, 0, 0);
    const struct ynode *fee = mget(m, "extra_copy_fee");
    if (fee && !is_null(fee)) {
        const char *fw = "'extra_copy_fee' of 'requests'";
        if (map_ok(l, fee, fw, (const char *const[]){"amount", "currency", NULL})) {
            const char *amt = get_str(l, fee, "amount", fw, 1);
            if (amt && parse_money(amt, &rq->extra_copy_fee_cents))
                pb(l, mget(fee, "amount"), "%s: amount must be like 5 or 5.00", fw);
            const char *cur = get_str(l, fee, "currency", fw, 0);
            if (cur) {
                int ok = strlen(cur) == 3;
                for (int k = 0; ok && k < 3; k++)
                    ok = cur[k] >= 'A' && cur[k] <= 'Z';
                if (!ok)
                    pb(l, mget(fee, "currency"), "%s: currency must be an ISO 4217 code", fw);
                else
                    rq->currency = cur;
            }
        }
    }
    get_duration(l, m, "identical_within", w, 0, &rq->identical_within);
}

static void load_operators(struct ld *l, const struct ynode *root)
{
    struct sg_password_rules *pw = &l->p->passwords;
    pw->min_length = 12;
    pw->kinds = 3;
    l->p->audit_keep.months = 12;
    const struct ynode *m = mget(root, "operators");
    if (!m || is_null(m) ||
        !map_ok(l, m, "'operators'", (const char *const[]){"password", "audit_keep", NULL}))
        return;
    const struct ynode *p = mget(m, "password");
    const char *w = "the password rules of 'operators'";
    if (p && !is_null(p) &&
        map_ok(l, p, w, (const char *const[]){"min_length", "kinds", "rotate", NULL})) {
        pw->min_length = (int)get_int(l, p, "min_length", w, 12, 6, 256);
        pw->kinds = (int)get_int(l, p, "kinds", w, 3, 1, 4);
        pw->has_rotate = get_duration(l, p, "rotate", w, 0, &pw->rotate);
    }
    if (get_duration(l, m, "audit_keep", "'operators'", 0, &l->p->audit_keep)) {
        struct sg_duration year = {0, 12, 0, 0};
        if (sg_duration_cmp(&l->p->audit_keep, &year) < 0)
            pb(l, mget(m, "audit_keep"),
               "the audit log must be kept at least 12 months (LIKTA 18.h)");
    }
}

/* ---------------------------------------------------------------- cookies */

static const struct name_val cookie_kinds[] = {{"strictly_necessary", SG_COOKIE_NECESSARY},
                                               {"preferences", SG_COOKIE_PREFERENCES},
                                               {"security", SG_COOKIE_SECURITY},
                                               {"statistics", SG_COOKIE_STATISTICS},
                                               {"marketing", SG_COOKIE_MARKETING},
                                               {NULL, 0}};

static void load_cookies(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"id",      "kind",     "basis",    "name",
                                       "purpose", "provider", "lifetime", NULL};
    const struct ynode *sec;
    size_t n = section(l, root, "cookies", &sec);
    struct sg_cookie *v = arena_array(l->a, n, sizeof *v);
    if (!v)
        return;
    l->p->cookies = v;
    l->p->ncookies = n;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = sec->kids[i];
        struct sg_cookie *c = &v[i];
        char what[96];
        if (!map_ok(l, it, "a cookie", keys))
            continue;
        c->id = get_id(l, it, "cookie", 0, 64);
        what_of(what, sizeof what, "cookie", c->id);
        for (size_t k = 0; c->id && k < i; k++)
            if (v[k].id && strcmp(v[k].id, c->id) == 0)
                pb(l, mget(it, "id"), "duplicate cookie id '%s'", c->id);
        c->kind = (enum sg_cookie_kind)get_enum(l, it, "kind", what, cookie_kinds, 0, 1);
        c->basis = (enum sg_basis)get_enum(l, it, "basis", what, bases, 0, 1);
        if (c->basis && c->basis != SG_BASIS_CONSENT && c->basis != SG_BASIS_LEGITIMATE_INTEREST &&
            c->basis != SG_BASIS_CONTRACT)
            pb(l, mget(it, "basis"),
               "%s: cookies rest on consent, or for what the service "
               "needs, legitimate interest or contract",
               what);
        if (c->kind == SG_COOKIE_MARKETING && c->basis && c->basis != SG_BASIS_CONSENT)
            pb(l, mget(it, "basis"), "marketing %s needs consent (LIKTA 6.4)", what);
        c->name = get_text(l, it, "name", what, 1);
        c->purpose = get_text(l, it, "purpose", what, 1);
        const char *prov = get_str(l, it, "provider", what, 0);
        if (prov && !(c->provider = sg_policy_recipient(l->p, prov)))
            pb(l, mget(it, "provider"), "%s names unknown recipient '%.60s'", what, prov);
        const struct ynode *lt = mget(it, "lifetime");
        if (!lt || is_null(lt))
            pb(l, it, "%s has no 'lifetime' (session, or a duration such as P1Y)", what);
        else if (lt->kind == Y_SCALAR && strcmp(lt->str, "session") == 0)
            c->session = 1;
        else
            duration_of(l, lt, "lifetime", what, &c->lifetime);
    }
}

/* ----------------------------------------------------------- cross checks */

static void check_coverage(struct ld *l, const struct ynode *root)
{
    const struct sg_policy *p = l->p;
    const struct ynode *sec = mget(root, "categories");
    /* A notice ends nothing, so a notify rule covers no category. */
    int all = 0;
    for (size_t r = 0; r < p->nretention; r++)
        all |= p->retention[r].all_categories && p->retention[r].action != SG_ACT_NOTIFY;
    for (size_t i = 0; i < p->catalog.n; i++) {
        const struct sg_category *c = &p->catalog.cats[i];
        /* The node of this category, for the position. */
        const struct ynode *at = sec;
        for (size_t k = 0; sec && sec->kind == Y_SEQ && k < sec->n; k++) {
            const struct ynode *id = mget(sec->kids[k], "id");
            if (id && id->kind == Y_SCALAR && strcmp(id->str, c->id) == 0) {
                at = sec->kids[k];
                break;
            }
        }
        int covered = all;
        for (size_t r = 0; !covered && r < p->nretention; r++)
            for (size_t k = 0;
                 p->retention[r].action != SG_ACT_NOTIFY && k < p->retention[r].ncategories; k++)
                covered |= p->retention[r].categories[k] == c;
        if (!covered && p->nretention)
            pb(l, at, "category '%s' is covered by no retention rule", c->id);
        int used = 0;
        for (size_t u = 0; !used && u < p->npurposes; u++)
            for (size_t k = 0; k < p->purposes[u].ncategories; k++)
                used |= p->purposes[u].categories[k] == c;
        if (!used && p->npurposes)
            pb(l, at, "category '%s' is used by no purpose (data minimisation, Art. 5(1)(c))",
               c->id);
    }
}

/* ------------------------------------------------------------------- load */

static int prob_cmp(const void *a, const void *b)
{
    const struct sg_policy_problem *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x < y ? -1 : x > y; /* keeps order of discovery (qsort is not stable) */
}

static enum sg_rc hash_policy(struct sg_policy *p, const struct ynode *root, struct sg_err *err)
{
    struct sg_buf b;
    sg_buf_init(&b, (size_t)SG_POLICY_MAX_BYTES * 8);
    enum sg_rc rc = sg_buf_adds(&b, "sargs-policy-1\n", err);
    if (!rc) {
        struct sg_buf c;
        sg_buf_init(&c, (size_t)SG_POLICY_MAX_BYTES * 8);
        rc = ytree_canonical(root, &c, err);
        if (!rc)
            rc = sg_buf_add(&b, c.ptr, c.len, err);
        sg_buf_release(&c);
    }
    if (!rc) {
        unsigned char h[32];
        crypto_generichash(h, sizeof h, (const unsigned char *)b.ptr, b.len, NULL, 0);
        sg_hex_encode(h, sizeof h, p->hash);
    }
    sg_buf_release(&b);
    return rc;
}

void sg_policy_free(struct sg_policy *p)
{
    if (!p)
        return;
    struct arena *a = p->impl;
    arena_release(a); /* p lives in the arena */
    free(a);
}

enum sg_rc sg_policy_load(const char *text, size_t len, const char *name, struct sg_policy **out,
                          struct sg_policy_problems *probs, struct sg_err *err)
{
    struct sg_policy_problems local;
    struct ld l;
    enum sg_rc rc;
    *out = NULL;
    if (!name)
        name = "policy";
    sg_policy_problems_init(&local);
    memset(&l, 0, sizeof l);
    l.probs = probs ? probs : &local;
    size_t first = l.probs->n;
    if (len > SG_POLICY_MAX_BYTES)
        return sg_err_set(err, SG_TOOBIG, "'%s' is larger than %d bytes", name,
                          SG_POLICY_MAX_BYTES);
    struct arena *a = calloc(1, sizeof *a);
    if (!a)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    arena_init(a);
    l.a = a;
    struct sg_policy *p = arena_alloc(a, sizeof *p);
    char *src = arena_strndup(a, text ? text : "", text ? len : 0);
    if (!p || !src) {
        arena_release(a);
        free(a);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    p->impl = a;
    p->source = src;
    p->source_len = text ? len : 0;
    l.p = p;

    struct ynode *root = NULL;
    unsigned line, col;
    char msg[256];
    rc = ytree_parse(a, src, p->source_len, &root, &line, &col, msg, sizeof msg, yaml_warn, &l);
    if (rc == SG_NOMEM) {
        sg_policy_free(p);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    if (rc) {
        struct ynode at;
        memset(&at, 0, sizeof at);
        at.line = line;
        at.col = col;
        pb(&l, &at, "%s", msg);
    } else if (!root || root->kind != Y_MAP) {
        struct ynode at;
        memset(&at, 0, sizeof at);
        at.line = root ? root->line : 1;
        at.col = root ? root->col : 1;
        pb(&l, &at, "a policy is a yaml mapping (sargs: 1, id: ..., categories: ...)");
    } else {
        static const char *const top[] = {"sargs",
                                          "id",
                                          "title",
                                          "effective",
                                          "regulation",
                                          "languages",
                                          "time_zone",
                                          "holidays",
                                          "phone_country",
                                          "max_value_size",
                                          "supervisory_authority",
                                          "controllers",
                                          "events",
                                          "data_subjects",
                                          "categories",
                                          "recipients",
                                          "retention",
                                          "purposes",
                                          "roles",
                                          "requests",
                                          "operators",
                                          "cookies",
                                          "templates",
                                          "security_measures",
                                          "changes",
                                          NULL};
        map_ok(&l, root, "the policy", top);
        load_meta(&l, root);
        load_controllers(&l, root);
        load_events(&l, root);
        load_subject_kinds(&l, root);
        load_categories(&l, root);
        load_templates(&l, root);
        load_recipients(&l, root);
        load_retention(&l, root);
        load_purposes(&l, root);
        load_roles(&l, root);
        load_requests(&l, root);
        load_operators(&l, root);
        load_cookies(&l, root);
        check_coverage(&l, root);
    }
    if (a->oom) {
        sg_policy_problems_release(&local);
        sg_policy_free(p);
        return sg_err_set(err, SG_NOMEM, "out of memory loading '%s'", name);
    }
    if (l.found) {
        if (l.probs->n > first)
            qsort(l.probs->v + first, l.probs->n - first, sizeof *l.probs->v, prob_cmp);
        sg_err_set(err, SG_INVALID, "'%s' has %zu problem%s", name, l.found,
                   l.found == 1 ? "" : "s");
        sg_policy_problems_release(&local);
        sg_policy_free(p);
        return SG_INVALID;
    }
    if ((rc = hash_policy(p, root, err))) {
        sg_policy_free(p);
        return rc;
    }
    *out = p;
    return SG_OK;
}

enum sg_rc sg_policy_load_file(const char *path, struct sg_policy **out,
                               struct sg_policy_problems *probs, struct sg_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_err_set(err, errno == ENOENT ? SG_NOTFOUND : SG_IO, "cannot open '%s': %s", path,
                          strerror(errno));
    struct sg_buf b;
    sg_buf_init(&b, SG_POLICY_MAX_BYTES);
    char chunk[8192];
    size_t n;
    enum sg_rc rc = SG_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if ((rc = sg_buf_add(&b, chunk, n, err))) {
            if (rc == SG_TOOBIG)
                sg_err_set(err, SG_TOOBIG, "'%s' is larger than %d bytes", path,
                           SG_POLICY_MAX_BYTES);
            break;
        }
    }
    if (!rc && ferror(f))
        rc = sg_err_set(err, SG_IO, "cannot read '%s'", path);
    fclose(f);
    if (!rc)
        rc = sg_policy_load(b.ptr ? b.ptr : "", b.len, path, out, probs, err);
    sg_buf_release(&b);
    return rc;
}
