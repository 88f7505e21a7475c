/*
 * test_policy.c - the policy file: loading, every check of `policy check`
 * (each problem with its position, all at once), the version hash, the
 * notice (every Art. 13/14 item, both languages, both formats), the record
 * of processing, the diff, and the five organisations of the seeds saying
 * what their seeds say.
 */
#include "testutil.h"

#include <jansson.h>

#define MINIMAL                                                                                    \
    "sargs: 1\n"                                                                                   \
    "id: mini\n"                                                                                   \
    "title: {lv: Mini, en: Mini}\n"                                                                \
    "controllers:\n"                                                                               \
    "  - {id: c, name: SIA Mini, email: info@example.lv}\n"                                        \
    "categories:\n"                                                                                \
    "  - {id: user.contact.email, alias: email, type: email, name: {lv: e-pasts, en: e-mail}}\n"   \
    "purposes:\n"                                                                                  \
    "  - {id: service, basis: contract, categories: [email], name: {lv: Pakalpojums, en: "         \
    "Service}}\n"                                                                                  \
    "retention:\n"                                                                                 \
    "  - {id: r, categories: all, anchor: contract_end, after: P1Y, action: delete}\n"             \
    "requests:\n"                                                                                  \
    "  contact: {email: dpo@example.lv}\n"                                                         \
    "  channels: [{id: email}]\n"

/* `base` with `from` replaced by `to` (malloc'd). */
static char *replace(const char *base, const char *from, const char *to)
{
    const char *at = strstr(base, from);
    if (!at)
        fail_msg("'%s' not found", from);
    size_t n = strlen(base) - strlen(from) + strlen(to);
    char *s = malloc(n + 1);
    size_t k = (size_t)(at - base);
    memcpy(s, base, k);
    memcpy(s + k, to, strlen(to));
    strcpy(s + k + strlen(to), at + strlen(from));
    return s;
}

static struct sg_policy *load_ok(const char *text)
{
    struct sg_policy *p = NULL;
    struct sg_policy_problems pr;
    struct sg_err e;
    sg_policy_problems_init(&pr);
    if (sg_policy_load(text, strlen(text), "t", &p, &pr, &e) != SG_OK)
        fail_msg("%s: %u:%u %s", e.msg, pr.n ? pr.v[0].line : 0, pr.n ? pr.v[0].col : 0,
                 pr.n ? pr.v[0].msg : "");
    sg_policy_problems_release(&pr);
    return p;
}

/* Loads `text`, which must fail; returns the problems (caller releases). */
static struct sg_policy_problems load_bad(const char *text)
{
    struct sg_policy *p = NULL;
    struct sg_policy_problems pr;
    struct sg_err e;
    sg_policy_problems_init(&pr);
    assert_int_equal(sg_policy_load(text, strlen(text), "t", &p, &pr, &e), SG_INVALID);
    assert_null(p);
    assert_true(pr.n > 0);
    assert_non_null(strstr(e.msg, "problem"));
    return pr;
}

static int has_problem(const struct sg_policy_problems *pr, const char *words, unsigned line)
{
    for (size_t i = 0; i < pr->n; i++)
        if (strstr(pr->v[i].msg, words) && (!line || pr->v[i].line == line))
            return 1;
    return 0;
}

static void test_minimal(void **state)
{
    (void)state;
    struct sg_policy *p = load_ok(MINIMAL);
    assert_int_equal(p->catalog.n, 1);
    assert_int_equal(p->npurposes, 1);
    /* The defaults: Latvian and English, Riga, the Latvian calendar and the
     * Data State Inspectorate. */
    assert_int_equal(p->nlanguages, 2);
    assert_string_equal(p->languages[0], "lv");
    assert_string_equal(p->time_zone, "Europe/Riga");
    assert_string_equal(p->holiday_calendar, "lv");
    assert_string_equal(sg_text_get(&p->authority.name, "lv"), "Datu valsts inspekcija");
    assert_string_equal(p->authority.email, "pasts@dvi.gov.lv");
    assert_ptr_equal(p->controllers[0].authority, &p->authority);
    assert_int_equal(p->purposes[0].requirement, SG_REQ_PRECONDITION);
    assert_int_equal(p->passwords.min_length, 12);
    assert_int_equal(p->audit_keep.months, 12);
    assert_int_equal(p->requests.identical_within.months, 12);
    assert_int_equal(strlen(p->hash), SG_POLICY_HASH_HEX);
    assert_ptr_equal(sg_policy_category(p, "email"), &p->catalog.cats[0]);
    assert_ptr_equal(sg_policy_purpose(p, "service"), &p->purposes[0]);
    assert_null(sg_policy_purpose(p, "nope"));
    sg_policy_free(p);
    sg_policy_free(NULL);
}

/* Every check of `policy check`: the problem, in words, at its line. */
struct bad {
    const char *from, *to; /* replacement in MINIMAL */
    const char *words;     /* expected in a problem */
    unsigned line;         /* its line, 0 to not check */
};

static const struct bad bads[] = {
    /* YAML syntax errors with their position */
    {"title: {lv: Mini, en: Mini}\n", "title: {lv: Mini, en: Mini\n", "yaml syntax error", 0},
    {"  channels: [{id: email}]\n", "  channels: [{id: email}]\n   bad: indent\n",
     "yaml syntax error", 0},
    {"sargs: 1\n", "sargs: 1\nx: &a 1\ny: *a\n", "aliases", 3},
    {"sargs: 1\n", "sargs: 1\n---\nsargs: 1\n", "one yaml document", 0},
    {"sargs: 1\n", "", "format version", 0},
    {"sargs: 1\n", "sargs: 2\n", "not supported", 1},
    /* unknown keys, wrong types */
    {"id: mini\n", "id: mini\nretension: 3\n", "unknown key 'retension'", 3},
    {"id: mini\n", "id: Mini Policy\n", "malformed", 2},
    {"categories: [email]", "categories: email", "must be a list", 9},
    /* unknown category in a purpose, a view, a retention rule */
    {"categories: [email]", "categories: [email, phone]", "unknown category 'phone'", 9},
    {"categories: all, anchor", "categories: [fax], anchor", "unknown category 'fax'", 11},
    /* consent purpose without a withdrawal method */
    {"basis: contract", "basis: consent", "no withdrawal method", 9},
    /* legitimate interest without a balance test */
    {"basis: contract", "basis: legitimate_interest, legitimate_interest: security",
     "no balance test", 9},
    {"basis: contract", "basis: legitimate_interest, balance_test: ok", "which interest", 9},
    /* unknown legal basis */
    {"basis: contract", "basis: contrac", "unknown basis 'contrac'", 9},
    /* special category without an Art. 9 condition */
    {"type: email,", "type: email, special: health,", "no Art. 9(2) condition", 7},
    {"type: email,", "type: email, special: {kind: health},", "no Art. 9(2) condition", 7},
    {"type: email,", "type: email, special: {kind: health, condition: vibes},",
     "unknown condition 'vibes'", 7},
    /* third-country transfer without a safeguard */
    {"retention:\n", "recipients:\n  - {id: mc, name: Mailchimp, country: US}\nretention:\n",
     "third country ('US') but has no safeguard", 11},
    {"retention:\n",
     "recipients:\n  - {id: mc, name: Mailchimp, country: US, safeguard: derogation}\nretention:\n",
     "must say which one", 11},
    /* a category no retention rule covers */
    {"categories: all, anchor", "categories: [], anchor", "covered by no retention rule", 7},
    /* a view naming an unknown field */
    {"retention:\n", "roles:\n  - {id: r, name: R, fields: [email, shoe_size]}\nretention:\n",
     "unknown field 'shoe_size'", 11},
    {"retention:\n",
     "roles:\n  - {id: r, name: R, fields: all, except: [user.nothing.*]}\nretention:\n",
     "unknown field 'user.nothing.*'", 11},
    {"retention:\n",
     "roles:\n  - {id: r, name: R, fields: all, rows: {same_as_viewer: country}}\nretention:\n",
     "unknown field 'country'", 11},
    /* duplicate ids */
    {"purposes:\n", "purposes:\n  - {id: service, basis: contract, categories: [email], name: X}\n",
     "duplicate purpose id 'service'", 0},
    {"categories:\n", "categories:\n  - {id: user.contact.email, type: email, name: X}\n",
     "duplicate category id", 0},
    {"alias: email,", "alias: email, indexed: true, person_decides: true,", "", 0},
    /* invalid durations */
    {"after: P1Y", "after: 1 year", "invalid duration '1 year'", 11},
    {"after: P1Y", "after: P1Y1Y", "invalid duration", 11},
    {"after: P1Y", "after: PT", "invalid duration", 11},
    {"after: P1Y", "after: P", "invalid duration", 11},
    /* retention rule details */
    {"action: delete", "action: shred", "unknown action 'shred'", 11},
    {"anchor: contract_end", "anchor: birthday", "unknown event 'birthday'", 11},
    {"action: delete", "action: notify", "has no 'template'", 11},
    {"action: delete", "action: notify, template: t", "unknown template 't'", 11},
    {"after: P1Y, action: delete", "action: keep", "has no 'criteria'", 11},
    /* templates: every language and only known placeholders */
    {"retention:\n",
     "templates:\n  - {id: t, subject: S, body: {lv: 'Sveiki {{nme}}', en: Hello}}\nretention:\n",
     "unknown placeholder '{{nme}}'", 11},
    {"retention:\n", "templates:\n  - {id: t, subject: S, body: {lv: Sveiki}}\nretention:\n",
     "has no 'en' text", 11},
    /* texts in every language of the policy */
    {"title: {lv: Mini, en: Mini}", "title: {lv: Mini}", "has no 'en' text", 3},
    {"title: {lv: Mini, en: Mini}", "title: {lv: Mini, en: Mini, de: Mini}",
     "'de' is not a language", 3},
    /* cookies: marketing only with consent */
    {"retention:\n",
     "cookies:\n  - {id: ads, kind: marketing, basis: legitimate_interest, name: A, purpose: P, "
     "lifetime: P1Y}\nretention:\n",
     "marketing cookie 'ads' needs consent", 11},
    /* significant automated decisions need a human review */
    {"name: {lv: Pakalpojums, en: Service}}",
     "name: {lv: Pakalpojums, en: Service}, automated_decisions: [{description: D, logic: L, "
     "significant: true, human_review: false}]}",
     "human to review", 9},
    /* other shapes */
    {"email: info@example.lv}", "email: info.example.lv}", "not an e-mail address", 5},
    {"id: c, name: SIA Mini, email: info@example.lv", "id: c, name: SIA Mini", "no contact", 5},
    {"  contact: {email: dpo@example.lv}\n", "", "no 'contact'", 0},
    {"channels: [{id: email}]", "channels: [{id: pigeon}]", "unknown request channel", 14},
    {"id: mini\n", "id: mini\ntime_zone: Mars/Olympus\n", "unknown time zone", 3},
    {"id: mini\n", "id: mini\noperators: {audit_keep: P6M}\n", "at least 12 months", 3},
    {"id: mini\n", "id: mini\nholidays: {calendar: mars}\n", "unknown holiday calendar", 3},
};

static void test_every_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        char *text = replace(MINIMAL, b->from, b->to);
        if (!*b->words) {
            /* not a problem: a control case */
            struct sg_policy *p = load_ok(text);
            sg_policy_free(p);
            free(text);
            continue;
        }
        struct sg_policy *p = NULL;
        struct sg_policy_problems pr;
        struct sg_err e;
        sg_policy_problems_init(&pr);
        if (sg_policy_load(text, strlen(text), "t", &p, &pr, &e) != SG_INVALID)
            fail_msg("case %zu ('%s') was accepted", i, b->words);
        if (!has_problem(&pr, b->words, b->line)) {
            for (size_t k = 0; k < pr.n; k++)
                print_error("  %u:%u: %s\n", pr.v[k].line, pr.v[k].col, pr.v[k].msg);
            fail_msg("case %zu: no problem with '%s' at line %u", i, b->words, b->line);
        }
        for (size_t k = 0; k < pr.n; k++) {
            /* lowercase, no full stop */
            const char *m = pr.v[k].msg;
            assert_true(*m < 'A' || *m > 'Z');
            assert_true(m[strlen(m) - 1] != '.');
        }
        sg_policy_problems_release(&pr);
        free(text);
    }
    /* Reg. 2018/1725 offers an EU body no legitimate-interest basis. */
    char *a =
        replace(MINIMAL, "email: info@example.lv}", "email: info@example.lv, regulation: eudpr}");
    char *b = replace(a, "basis: contract",
                      "basis: legitimate_interest, legitimate_interest: x, balance_test: y");
    struct sg_policy_problems pr = load_bad(b);
    assert_true(has_problem(&pr, "2018/1725", 9));
    sg_policy_problems_release(&pr);
    free(a);
    free(b);
}

static void test_all_problems_at_once(void **state)
{
    (void)state;
    char *a = replace(MINIMAL, "basis: contract", "basis: consent");
    char *b = replace(a, "after: P1Y", "after: soon");
    char *c = replace(b, "id: mini\n", "id: mini\nfrobnicate: yes\n");
    struct sg_policy_problems pr = load_bad(c);
    assert_true(pr.n >= 3);
    assert_true(has_problem(&pr, "unknown key 'frobnicate'", 3));
    assert_true(has_problem(&pr, "no withdrawal method", 10));
    assert_true(has_problem(&pr, "invalid duration", 12));
    for (size_t i = 1; i < pr.n; i++)
        assert_true(pr.v[i - 1].line <= pr.v[i].line);
    for (size_t i = 0; i < pr.n; i++)
        assert_true(pr.v[i].col > 0);
    sg_policy_problems_release(&pr);
    free(a);
    free(b);
    free(c);
}

static void test_not_a_policy(void **state)
{
    (void)state;
    const char *texts[] = {"",
                           "# only a comment\n",
                           "- a\n- b\n",
                           "just text",
                           "{}",
                           "\xff\xfe\x00x",
                           "sargs: 1\nid: x\x01y\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct sg_policy *p = NULL;
        struct sg_policy_problems pr;
        struct sg_err e;
        sg_policy_problems_init(&pr);
        size_t len = i == 5 ? 4 : strlen(texts[i]);
        assert_int_equal(sg_policy_load(texts[i], len, "t", &p, &pr, &e), SG_INVALID);
        assert_true(pr.n >= 1);
        assert_true(pr.v[0].line >= 1);
        sg_policy_problems_release(&pr);
    }
    struct sg_policy *p = NULL;
    struct sg_err e;
    assert_int_equal(sg_policy_load_file("/nonexistent/policy.yaml", &p, NULL, &e), SG_NOTFOUND);
    char *big = malloc(SG_POLICY_MAX_BYTES + 2);
    memset(big, ' ', SG_POLICY_MAX_BYTES + 1);
    big[SG_POLICY_MAX_BYTES + 1] = '\0';
    assert_int_equal(sg_policy_load(big, SG_POLICY_MAX_BYTES + 1, "big", &p, NULL, &e), SG_TOOBIG);
    free(big);
    /* A deep nest is refused, not followed. */
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "sargs: 1\nx: ");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    struct sg_policy_problems pr;
    sg_policy_problems_init(&pr);
    assert_int_equal(sg_policy_load(deep, n, "deep", &p, &pr, &e), SG_INVALID);
    assert_true(has_problem(&pr, "nested deeper", 2));
    sg_policy_problems_release(&pr);
}

static void test_hash(void **state)
{
    (void)state;
    struct sg_policy *a = load_ok(MINIMAL);
    /* Comments, layout and key order make no new version. */
    char *t1 =
        replace(MINIMAL, "sargs: 1\nid: mini\n", "# a comment\nid:    mini   # why\nsargs: 1\n");
    struct sg_policy *b = load_ok(t1);
    assert_string_equal(a->hash, b->hash);
    /* Any change of content does. */
    char *t2 = replace(MINIMAL, "Pakalpojums", "Pakalpojumi");
    struct sg_policy *c = load_ok(t2);
    assert_string_not_equal(a->hash, c->hash);
    sg_policy_free(a);
    sg_policy_free(b);
    sg_policy_free(c);
    free(t1);
    free(t2);
}

static void test_durations(void **state)
{
    (void)state;
    struct {
        const char *in, *canon;
    } ok[] = {{"P10D", "P10D"}, {"P1Y", "P1Y"},      {"P3Y6M", "P3Y6M"},
              {"P2W", "P14D"},  {"PT12H", "PT12H"},  {"P1DT2H30M", "P1DT2H30M"},
              {"P0D", "PT0S"},  {"PT90M", "PT1H30M"}};
    struct sg_duration d;
    char buf[SG_DURATION_STR_MAX];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (sg_duration_parse(ok[i].in, &d, NULL) != SG_OK)
            fail_msg("%s refused", ok[i].in);
        assert_string_equal(sg_duration_format(&d, buf), ok[i].canon);
    }
    const char *bad[] = {"",      "P",   "PT",   "1Y",   "P1",  "P1Y1Y",     "P1D1Y", "P-1D",
                         "P1.5D", "P1H", "PT1D", "P1YT", "p1y", "P1000000D", "P1Y ",  NULL};
    for (const char **b = bad; *b; b++)
        if (sg_duration_parse(*b, &d, NULL) != SG_INVALID)
            fail_msg("'%s' accepted", *b);
    /* Calendar arithmetic: the month end is clamped. */
    sg_time t, want;
    assert_int_equal(sg_time_parse("2026-01-31T10:00:00Z", &t, NULL), SG_OK);
    assert_int_equal(sg_duration_parse("P1M", &d, NULL), SG_OK);
    assert_int_equal(sg_time_parse("2026-02-28T10:00:00Z", &want, NULL), SG_OK);
    assert_int_equal(sg_duration_add(t, &d), want);
    assert_int_equal(sg_time_parse("2024-02-29T00:00:00Z", &t, NULL), SG_OK);
    assert_int_equal(sg_duration_parse("P1Y", &d, NULL), SG_OK);
    assert_int_equal(sg_time_parse("2025-02-28T00:00:00Z", &want, NULL), SG_OK);
    assert_int_equal(sg_duration_add(t, &d), want);
    assert_int_equal(sg_duration_parse("P10D", &d, NULL), SG_OK);
    assert_int_equal(sg_time_parse("2025-03-10T00:00:00Z", &want, NULL), SG_OK);
    assert_int_equal(sg_time_parse("2025-02-28T00:00:00Z", &t, NULL), SG_OK);
    assert_int_equal(sg_duration_add(t, &d), want);
    struct sg_duration y1, m11, d400;
    sg_duration_parse("P1Y", &y1, NULL);
    sg_duration_parse("P11M", &m11, NULL);
    sg_duration_parse("P400D", &d400, NULL);
    assert_true(sg_duration_cmp(&m11, &y1) < 0);
    assert_true(sg_duration_cmp(&d400, &y1) > 0);
    assert_int_equal(sg_duration_cmp(&y1, &y1), 0);
}

/* ---------------------------------------------------------------- notice */

static const char *const examples[] = {"examples/together-eu.yaml", "examples/etwinning.yaml",
                                       "examples/azeta.yaml", "examples/vet2b.yaml",
                                       "examples/telecom.yaml"};
#define NEXAMPLES (sizeof examples / sizeof examples[0])

/* The items of Art. 13(1)-(2) and 14 as sections of the notice: their
 * stable ids and their headings in each language. */
static const struct {
    const char *id, *lv, *en;
} items[] = {
    {"summary", "Īsumā", "In short"},
    {"controller", "Pārzinis un tā kontaktinformācija", "Who is responsible (the controller)"},
    {"dpo", "Datu aizsardzības speciālists", "Data protection officer"},
    {"purposes", "Apstrādes nolūki un tiesiskais pamats", "Purposes and legal bases"},
    {"legitimate-interests", "Leģitīmās intereses", "Legitimate interests"},
    {"categories", "Kādus datus apstrādājam un no kurienes tos iegūstam",
     "What data we process and where it comes from"},
    {"recipients", "Datu saņēmēji", "Recipients"},
    {"transfers", "Datu nosūtīšana uz trešajām valstīm", "Transfers outside the EU/EEA"},
    {"retention", "Cik ilgi glabājam datus", "How long we keep data"},
    {"rights", "Jūsu tiesības", "Your rights"},
    {"withdraw-consent", "Piekrišanas atsaukšana", "Withdrawing consent"},
    {"complaint", "Tiesības iesniegt sūdzību", "Right to lodge a complaint"},
    {"requirement", "Vai datu sniegšana ir obligāta", "Whether you must provide data"},
    {"automated", "Automatizēta lēmumu pieņemšana un profilēšana",
     "Automated decisions and profiling"},
    {"requests", "Kā izmantot savas tiesības", "How to exercise your rights"},
    {"changes", "Izmaiņas paziņojumā", "Changes to this notice"},
};

static void must_contain(const char *doc, const char *what, const char *where)
{
    if (!what)
        return;
    if (!strstr(doc, what))
        fail_msg("%s: the notice lacks '%s'", where, what);
}

static void check_notice(const struct sg_policy *p, const char *name, const char *lang,
                         enum sg_doc_format fmt)
{
    struct sg_notice_opts o = {lang, fmt, 0, 0};
    struct sg_buf out;
    struct sg_err e;
    char where[160];
    snprintf(where, sizeof where, "%s %s %s", name, lang, fmt == SG_FORMAT_HTML ? "html" : "md");
    sg_buf_init(&out, 1 << 24);
    if (sg_notice_render(p, &o, &out, &e) != SG_OK)
        fail_msg("%s: %s", where, e.msg);
    const char *d = out.ptr;
    int lv = strcmp(lang, "lv") == 0;
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        must_contain(d, lv ? items[i].lv : items[i].en, where);
        if (fmt == SG_FORMAT_HTML) {
            char id[64];
            snprintf(id, sizeof id, "id=\"%s\"", items[i].id);
            must_contain(d, id, where);
        }
    }
    /* The summary layer comes before the details. */
    assert_true(strstr(d, lv ? "Īsumā" : "In short") <
                strstr(d, lv ? "Pārzinis un tā kontaktinformācija" : "Who is responsible"));
    /* Effective date and version hash. */
    must_contain(d, lv ? "Spēkā stāšanās datums" : "Effective date", where);
    char h[17];
    snprintf(h, sizeof h, "%.16s", p->hash);
    must_contain(d, h, where);
    /* Art. 13(1)(a)-(b): identity and contacts of the controllers and DPOs. */
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_controller *c = &p->controllers[i];
        if (fmt == SG_FORMAT_MARKDOWN)
            must_contain(d, sg_text_any(&c->contact.name, lang), where);
        must_contain(d, c->contact.email, where);
        must_contain(d, c->registration, where);
        if (c->has_dpo)
            must_contain(d, c->dpo.email, where);
    }
    /* (c) every purpose with its legal basis and article */
    for (size_t i = 0; i < p->npurposes; i++) {
        if (fmt == SG_FORMAT_MARKDOWN)
            must_contain(d, sg_text_any(&p->purposes[i].name, lang), where);
        must_contain(d, lv ? "panta 1. punkta" : "(1)(", where);
    }
    /* (e)-(f) recipients, transfers with their safeguard */
    for (size_t i = 0; i < p->nrecipients; i++) {
        if (fmt == SG_FORMAT_MARKDOWN)
            must_contain(d, sg_text_any(&p->recipients[i].name, lang), where);
        if (p->recipients[i].third_country)
            must_contain(d, lv ? "garantija:" : "safeguard:", where);
    }
    /* (2)(b)-(d) rights, withdrawal, the authority */
    must_contain(d, lv ? "tikt aizmirstam" : "to erasure", where);
    must_contain(d, lv ? "datu pārnesamību" : "data portability", where);
    must_contain(d, lv ? "iebilst" : "to object", where);
    must_contain(d, lv ? "ierobežot apstrādi" : "restriction of processing", where);
    must_contain(d, lv ? "atsaukt piekrišanu" : "withdraw consent", where);
    for (size_t i = 0; i < p->ncontrollers; i++)
        if (fmt == SG_FORMAT_MARKDOWN)
            must_contain(d, sg_text_any(&p->controllers[i].authority->name, lang), where);
    /* Art. 14: the source of data not obtained from the person */
    for (size_t i = 0; i < p->catalog.n; i++)
        if (p->catalog.cats[i].source == SG_SOURCE_OTHER && fmt == SG_FORMAT_MARKDOWN)
            must_contain(d, sg_text_any(&p->catalog.cats[i].source_name, lang), where);
    if (fmt == SG_FORMAT_HTML) {
        must_contain(d, "<!DOCTYPE html>", where);
        must_contain(d, lv ? "lang=\"lv\"" : "lang=\"en\"", where);
        assert_null(strstr(d, "<script"));
    }
    sg_buf_release(&out);
}

static void test_examples_notices(void **state)
{
    (void)state;
    for (size_t i = 0; i < NEXAMPLES; i++) {
        struct sg_policy *p = tu_policy(examples[i]);
        for (int l = 0; l < 2; l++)
            for (int f = 0; f < 2; f++)
                check_notice(p, examples[i], l ? "en" : "lv",
                             f ? SG_FORMAT_HTML : SG_FORMAT_MARKDOWN);
        sg_policy_free(p);
    }
}

static void test_notice_wording(void **state)
{
    (void)state;
    struct sg_policy *p = tu_policy("examples/together-eu.yaml");
    struct sg_notice_opts o = {"lv", SG_FORMAT_MARKDOWN, 0, 0};
    struct sg_buf out;
    struct sg_err e;
    sg_buf_init(&out, 1 << 24);
    assert_int_equal(sg_notice_render(p, &o, &out, &e), SG_OK);
    /* Latvian durations in the accusative, the EU institution's regulation. */
    must_contain(out.ptr, "IP adrese: dzēš 10 dienas pēc datu iegūšanas.", "lv");
    must_contain(out.ptr,
                 "Visus jūsu datus dzēš 15 dienas pēc reģistrācijas, ja konts nav "
                 "apstiprināts.",
                 "lv");
    must_contain(out.ptr, "dzēš 1 gadu pēc pasākuma", "lv");
    must_contain(out.ptr, "pēc katrām Eiropas Parlamenta vēlēšanām", "lv");
    must_contain(out.ptr, "Regulas (ES) 2018/1725 5. panta 1. punkta d) apakšpunkts", "lv");
    must_contain(out.ptr, "Eiropas Datu aizsardzības uzraudzītājs", "lv");
    o.lang = "en";
    assert_int_equal(sg_notice_render(p, &o, &out, &e), SG_OK);
    must_contain(out.ptr, "IP address: deleted 10 days after collection.", "en");
    must_contain(out.ptr, "if the account has not been confirmed", "en");
    /* Only languages with wording, and of the policy. */
    o.lang = "de";
    assert_int_equal(sg_notice_render(p, &o, &out, &e), SG_INVALID);
    sg_policy_free(p);

    /* Effective date in words; HTML escapes what the policy says. */
    char *t = replace(MINIMAL, "name: SIA Mini", "name: SIA <Mini> & Co");
    char *t2 = replace(t, "id: mini\n", "id: mini\neffective: 2018-10-05\n");
    p = load_ok(t2);
    o.lang = "lv";
    o.format = SG_FORMAT_HTML;
    assert_int_equal(sg_notice_render(p, &o, &out, &e), SG_OK);
    must_contain(out.ptr, "SIA &lt;Mini&gt; &amp; Co", "html");
    assert_null(strstr(out.ptr, "<Mini>"));
    must_contain(out.ptr, "2018. gada 5. oktobris", "html");
    must_contain(out.ptr, "stājas spēkā 2018. gada 5. oktobrī", "html");
    o.lang = "en";
    o.format = SG_FORMAT_MARKDOWN;
    assert_int_equal(sg_notice_render(p, &o, &out, &e), SG_OK);
    must_contain(out.ptr, "5 October 2018", "md");
    must_contain(out.ptr, "SIA \\<Mini\\> & Co", "md");
    /* Sections say "none" when the policy has none. */
    must_contain(out.ptr, "We do not transfer your personal data", "md");
    must_contain(out.ptr, "We do not rely on legitimate interests", "md");
    must_contain(out.ptr, "We make no decisions based solely on automated processing", "md");
    must_contain(out.ptr, "None of our processing rests on your consent", "md");
    must_contain(out.ptr, "no data protection officer has been appointed", "md");
    sg_policy_free(p);
    free(t);
    free(t2);
    sg_buf_release(&out);
}

/* ------------------------------------------------- what the seeds say */

static const struct sg_retention *rule_for(const struct sg_policy *p, enum sg_action a,
                                           const char *anchor)
{
    for (size_t i = 0; i < p->nretention; i++)
        if (p->retention[i].action == a && p->retention[i].anchor &&
            strcmp(p->retention[i].anchor, anchor) == 0)
            return &p->retention[i];
    return NULL;
}

static int sees(const struct sg_policy *p, const char *role, const char *cat)
{
    const struct sg_role *r = sg_policy_role(p, role);
    const struct sg_category *c = sg_policy_category(p, cat);
    assert_non_null(r);
    assert_non_null(c);
    return sg_role_sees(r, c);
}

static void test_etwinning_says(void **state)
{
    (void)state;
    struct sg_policy *p = tu_policy("examples/etwinning.yaml");
    /* [001 §5] hidden 1 year after the last login (signing in reactivates),
     * with a notice; anonymised 3 years after, keeping statistics. */
    const struct sg_retention *h = rule_for(p, SG_ACT_HIDE, "last_login");
    assert_non_null(h);
    assert_true(h->all_categories);
    assert_int_equal(h->after.years, 1);
    assert_true(h->reactivate);
    const struct sg_retention *n = rule_for(p, SG_ACT_NOTIFY, "last_login");
    assert_non_null(n);
    assert_int_equal(n->after.years, 1);
    assert_non_null(n->template);
    const struct sg_retention *an = rule_for(p, SG_ACT_ANONYMISE, "last_login");
    assert_non_null(an);
    assert_int_equal(an->after.years, 3);
    assert_int_equal(an->after.months, 0);
    assert_true(an->nkeep >= 1);
    /* the final reminder comes before the anonymisation */
    const struct sg_retention *fr = sg_policy_rule(p, "final-reminder");
    assert_int_equal(fr->action, SG_ACT_NOTIFY);
    assert_true(sg_duration_cmp(&fr->after, &an->after) < 0);
    assert_true(sg_duration_cmp(&fr->after, &h->after) > 0);
    /* [001 §6] registered users never see e-mail or principal data */
    assert_false(sees(p, "registered_user", "email"));
    assert_false(sees(p, "registered_user", "principal_name"));
    assert_false(sees(p, "registered_user", "principal_surname"));
    assert_false(sees(p, "registered_user", "principal_email"));
    assert_true(sees(p, "registered_user", "name"));
    assert_true(sees(p, "registered_user", "school_name"));
    assert_int_equal(sg_policy_role(p, "registered_user")->group_content, SG_GROUP_MEMBERS);
    /* the public: name, surname, school (official name, city, region, country) */
    const char *pub[] = {"name",        "surname",       "school_name",
                         "school_city", "school_region", "country"};
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++)
        assert_true(sees(p, "public", pub[i]));
    assert_false(sees(p, "public", "email"));
    assert_false(sees(p, "public", "school_address"));
    assert_false(sees(p, "public", "school_email"));
    assert_false(sees(p, "public", "group_posts"));
    assert_int_equal(sg_policy_role(p, "public")->group_content, SG_GROUP_NONE);
    /* national organisations see only their own country */
    const struct sg_role *nso = sg_policy_role(p, "nso");
    assert_int_equal(nso->rows, SG_ROWS_SAME_VALUE);
    assert_ptr_equal(nso->row_field, sg_policy_category(p, "country"));
    /* central support sees everything */
    const struct sg_role *css = sg_policy_role(p, "central_support");
    assert_true(css->all_fields);
    assert_int_equal(css->nfields, p->catalog.n);
    assert_int_equal(css->group_content, SG_GROUP_ALL);
    /* group content is marked */
    assert_true(sg_policy_category(p, "group_posts")->group_only);
    /* two levels of controller, with their own regulations */
    assert_int_equal(p->ncontrollers, 2);
    assert_int_equal(sg_policy_controller(p, "eacea")->kind, SG_CTRL_EU);
    assert_int_equal(sg_policy_controller(p, "eacea")->regulation, SG_REG_EUDPR);
    assert_int_equal(sg_policy_controller(p, "nso")->kind, SG_CTRL_NATIONAL);
    assert_int_equal(sg_policy_controller(p, "nso")->regulation, SG_REG_GDPR);
    /* transfers to NSOs outside the EU/EEA rest on the grant agreements */
    const struct sg_recipient *ne = sg_policy_recipient(p, "nso_non_eea");
    assert_true(ne->third_country);
    assert_int_not_equal(ne->safeguard, SG_SAFE_NONE);
    /* never for marketing */
    for (size_t i = 0; i < p->npurposes; i++)
        assert_false(p->purposes[i].direct_marketing);
    sg_policy_free(p);
}

static void test_together_says(void **state)
{
    (void)state;
    struct sg_policy *p = tu_policy("examples/together-eu.yaml");
    /* visitor IP 10 days */
    const struct sg_retention *ip = sg_policy_rule(p, "visitor-ip");
    assert_int_equal(ip->action, SG_ACT_DELETE);
    assert_int_equal(ip->after.days, 10);
    assert_int_equal(ip->ncategories, 1);
    assert_ptr_equal(ip->categories[0], sg_policy_category(p, "ip"));
    /* unconfirmed accounts erased after 15 days */
    const struct sg_retention *u = sg_policy_rule(p, "unconfirmed-account");
    assert_int_equal(u->action, SG_ACT_DELETE);
    assert_true(u->all_categories);
    assert_string_equal(u->anchor, "created");
    assert_int_equal(u->after.days, 15);
    assert_string_equal(u->condition.missing_event, "confirmed");
    /* event photos 1 year */
    const struct sg_retention *ph = rule_for(p, SG_ACT_DELETE, "event_date");
    assert_non_null(ph);
    assert_int_equal(ph->after.years, 1);
    assert_ptr_equal(ph->categories[0], sg_policy_category(p, "event_media"));
    /* a reminder of the right to withdraw after each European election */
    const struct sg_retention *rem = rule_for(p, SG_ACT_NOTIFY, "european_election");
    assert_non_null(rem);
    assert_non_null(strstr(sg_text_get(&rem->template->body, "en"), "{{unsubscribe}}"));
    assert_non_null(strstr(sg_text_get(&rem->template->body, "lv"), "{{erase}}"));
    /* testimonies: a consent per item; contests on contract */
    assert_true(sg_policy_purpose(p, "contributions")->consent.per_item);
    assert_int_equal(sg_policy_purpose(p, "contests")->basis, SG_BASIS_CONTRACT);
    assert_int_equal(sg_policy_purpose(p, "security")->basis, SG_BASIS_PUBLIC_TASK);
    /* no transfer outside the EU */
    for (size_t i = 0; i < p->nrecipients; i++)
        assert_false(p->recipients[i].third_country);
    /* IT support sees only what support needs; admins the registration data */
    assert_false(sees(p, "it_support", "passport"));
    assert_false(sees(p, "it_support", "testimony"));
    assert_true(sees(p, "administrator", "email"));
    assert_false(sees(p, "administrator", "bank_account"));
    sg_policy_free(p);
}

static void test_vet2b_azeta_telecom_say(void **state)
{
    (void)state;
    /* VET2B: no under-18s; transfers to the US and Canada with a ground */
    struct sg_policy *p = tu_policy("examples/vet2b.yaml");
    int consent = 0;
    for (size_t i = 0; i < p->npurposes; i++) {
        if (p->purposes[i].basis != SG_BASIS_CONSENT)
            continue;
        consent++;
        assert_int_equal(p->purposes[i].consent.min_age, 18);
        assert_int_equal(p->purposes[i].consent.minors, SG_MINORS_REFUSE);
    }
    assert_true(consent >= 2);
    assert_true(sg_policy_recipient(p, "mailchimp")->third_country);
    assert_true(sg_policy_recipient(p, "campayn")->third_country);
    assert_false(sg_policy_recipient(p, "partners_pt")->third_country);
    assert_true(sg_policy_purpose(p, "analytics")->sale_or_sharing);
    sg_time t;
    assert_int_equal(sg_time_parse("2018-10-05", &t, NULL), SG_OK);
    assert_int_equal(p->effective, t);
    assert_int_equal(p->ncookies, 4);
    sg_policy_free(p);

    /* Azeta: identity by channel, refusal within a year, rectification rules */
    p = tu_policy("examples/azeta.yaml");
    const struct sg_request_rules *rq = &p->requests;
    unsigned by[8] = {0};
    const char *ids[] = {"in_person", "registered_post", "email_signed", "post", "email"};
    for (size_t i = 0; i < rq->nchannels; i++)
        for (size_t k = 0; k < 5; k++)
            if (strcmp(rq->channels[i].id, ids[k]) == 0)
                by[k] = rq->channels[i].identity | 0x100;
    assert_int_equal(by[0], 0x100 | SG_IDM_DOCUMENT);
    assert_int_equal(by[1], 0x100 | SG_IDM_REGISTERED_POST);
    assert_int_equal(by[2], 0x100 | SG_IDM_QUALIFIED_SIG);
    assert_int_equal(by[3], 0x100); /* plain post does not identify */
    assert_int_equal(by[4], 0x100); /* nor plain e-mail */
    assert_int_equal(rq->answer, SG_ANSWER_SAME_CHANNEL);
    assert_int_equal(rq->identical_within.years, 1);
    assert_int_equal(rq->extra_copy_fee_cents, 0);
    assert_true(sg_policy_category(p, "address")->person_decides);
    assert_true(sg_policy_category(p, "email")->person_decides);
    assert_true(sg_policy_category(p, "phone")->person_decides);
    assert_true(sg_policy_category(p, "assessment")->opinion);
    assert_int_equal(sg_policy_category(p, "prescriptions")->special, SG_SPECIAL_HEALTH);
    assert_int_equal(sg_policy_category(p, "prescriptions")->art9, SG_ART9_HEALTH_CARE);
    assert_string_equal(p->controllers[0].registration, "40203024732");
    sg_policy_free(p);

    /* Telecom (LIKTA): children under 13 with a guardian, passwords, audit
     * logs, law-enforcement disclosures kept confidential, cookies */
    p = tu_policy("examples/telecom.yaml");
    const struct sg_purpose *share = sg_policy_purpose(p, "partner-sharing");
    assert_int_equal(share->consent.min_age, 13);
    assert_int_equal(share->consent.minors, SG_MINORS_GUARDIAN);
    assert_int_equal(p->passwords.min_length, 6);
    assert_int_equal(p->passwords.kinds, 3);
    assert_int_equal(p->passwords.rotate.days, 60);
    assert_int_equal(p->audit_keep.months, 12);
    assert_true(sg_policy_recipient(p, "law_enforcement")->confidential);
    assert_true(sg_policy_purpose(p, "direct-marketing")->direct_marketing);
    assert_int_equal(sg_policy_purpose(p, "direct-marketing")->basis, SG_BASIS_LEGITIMATE_INTEREST);
    for (size_t i = 0; i < p->ncookies; i++)
        if (p->cookies[i].kind == SG_COOKIE_MARKETING)
            assert_int_equal(p->cookies[i].basis, SG_BASIS_CONSENT);
    const struct sg_purpose *credit = sg_policy_purpose(p, "credit-check");
    assert_int_equal(credit->nautomated, 1);
    assert_true(credit->automated[0].human_review);
    assert_int_equal(sg_policy_category(p, "credit_history")->source, SG_SOURCE_OTHER);
    assert_int_equal(p->requests.extra_copy_fee_cents, 500);
    sg_policy_free(p);
}

/* ------------------------------------------------------------- diff, ropa */

static int change_with(const struct sg_policy_diff *d, const char *words, int inform)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->v[i].what, words) && d->v[i].inform == inform)
            return 1;
    return 0;
}

static void diff_of(const char *from, const char *to, struct sg_policy_diff *d)
{
    struct sg_policy *a = load_ok(MINIMAL);
    char *t = replace(MINIMAL, from, to);
    struct sg_policy *b = load_ok(t);
    assert_int_equal(sg_policy_diff(a, b, d, NULL), SG_OK);
    sg_policy_free(a);
    sg_policy_free(b);
    free(t);
}

static void test_diff(void **state)
{
    (void)state;
    struct sg_policy_diff d;
    struct sg_policy *a = load_ok(MINIMAL);
    assert_int_equal(sg_policy_diff(a, a, &d, NULL), SG_OK);
    assert_int_equal(d.n, 0);
    assert_false(d.inform);
    sg_policy_free(a);

    /* a typo in a text: only the notice changes */
    diff_of("Pakalpojums", "Pakalpojumss", &d);
    assert_false(d.inform);
    assert_true(change_with(&d, "purpose 'service': wording changed", 0));
    sg_policy_diff_release(&d);

    /* a new purpose */
    diff_of("retention:\n",
            "  - {id: news, basis: consent, categories: [email], name: News, consent: "
            "{withdrawal: link}}\nretention:\n",
            &d);
    assert_true(d.inform);
    assert_true(change_with(&d, "purpose 'news' added", 1));
    sg_policy_diff_release(&d);

    /* longer and shorter retention */
    diff_of("after: P1Y", "after: P2Y", &d);
    assert_true(d.inform);
    assert_true(change_with(&d, "kept longer (P2Y instead of P1Y)", 1));
    sg_policy_diff_release(&d);
    diff_of("after: P1Y", "after: P6M", &d);
    assert_false(d.inform);
    assert_true(change_with(&d, "kept shorter", 0));
    sg_policy_diff_release(&d);

    /* a new recipient in a third country, used by a purpose */
    struct sg_policy *o = load_ok(MINIMAL);
    char *t1 = replace(MINIMAL, "retention:\n",
                       "recipients:\n  - {id: mc, name: Mailchimp, country: US, safeguard: scc}\n"
                       "retention:\n");
    char *t2 = replace(t1, "categories: [email], name: {lv",
                       "categories: [email], recipients: [mc], name: {lv");
    struct sg_policy *n = load_ok(t2);
    assert_int_equal(sg_policy_diff(o, n, &d, NULL), SG_OK);
    assert_true(d.inform);
    assert_true(change_with(&d, "recipient 'mc' added (in a third country", 1));
    assert_true(change_with(&d, "data now also go to 'mc' (a transfer to a third country)", 1));
    sg_policy_diff_release(&d);
    /* ...and the way back needs no advance notice */
    assert_int_equal(sg_policy_diff(n, o, &d, NULL), SG_OK);
    assert_false(d.inform);
    assert_true(change_with(&d, "recipient 'mc' removed", 0));
    sg_policy_diff_release(&d);
    sg_policy_free(o);
    sg_policy_free(n);
    free(t1);
    free(t2);

    /* a changed legal basis */
    diff_of("basis: contract", "basis: legal_obligation", &d);
    assert_true(change_with(&d, "legal basis changed from contract to legal_obligation", 1));
    sg_policy_diff_release(&d);
}

static void test_ropa(void **state)
{
    (void)state;
    struct sg_buf out;
    struct sg_err e;
    sg_buf_init(&out, 1 << 24);
    for (size_t i = 0; i < NEXAMPLES; i++) {
        struct sg_policy *p = tu_policy(examples[i]);
        assert_int_equal(sg_ropa_render(p, SG_FORMAT_JSON, "en", &out, &e), SG_OK);
        json_error_t je;
        json_t *j = json_loads(out.ptr, 0, &je);
        if (!j)
            fail_msg("%s: ropa is not JSON: %s", examples[i], je.text);
        json_t *acts = json_object_get(j, "activities");
        assert_int_equal(json_array_size(acts), p->npurposes);
        /* Art. 30(1)(a)-(g) for each activity */
        size_t k;
        json_t *a;
        json_array_foreach(acts, k, a)
        {
            const char *keys[] = {"purpose",    "legal_basis", "data_subjects", "categories",
                                  "recipients", "transfers",   "retention"};
            for (size_t m = 0; m < sizeof keys / sizeof keys[0]; m++)
                assert_non_null(json_object_get(a, keys[m]));
            assert_true(json_array_size(json_object_get(a, "retention")) > 0);
        }
        assert_true(json_array_size(json_object_get(j, "controllers")) == p->ncontrollers);
        assert_string_equal(json_string_value(json_object_get(j, "version")), p->hash);
        json_decref(j);
        /* CSV: a header and one row per purpose (rows end in CRLF) */
        assert_int_equal(sg_ropa_render(p, SG_FORMAT_CSV, "lv", &out, &e), SG_OK);
        size_t rows = 0;
        for (const char *c = out.ptr; (c = strstr(c, "\"\r\n")); c += 3)
            rows++;
        assert_int_equal(rows, p->npurposes + 1);
        assert_int_equal(strncmp(out.ptr, "\"purpose_id\",\"purpose\"", 22), 0);
        assert_int_equal(sg_ropa_render(p, SG_FORMAT_HTML, "lv", &out, &e), SG_INVALID);
        assert_int_equal(sg_ropa_render(p, SG_FORMAT_CSV, "de", &out, &e), SG_INVALID);
        sg_policy_free(p);
    }
    sg_buf_release(&out);
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_every_check),
        cmocka_unit_test(test_all_problems_at_once),
        cmocka_unit_test(test_not_a_policy),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_examples_notices),
        cmocka_unit_test(test_notice_wording),
        cmocka_unit_test(test_etwinning_says),
        cmocka_unit_test(test_together_says),
        cmocka_unit_test(test_vet2b_azeta_telecom_say),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_ropa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
