/*
 * words.c - the wording shared by the notice and the record of processing:
 * legal bases, durations, retention rules, countries, dates, in Latvian and
 * English.
 *
 * Latvian needs the right case: a duration after which something happens is
 * in the accusative ("1 gadu pēc", "3 gadus pēc", "10 dienas pēc"), a period
 * within which it happens in the genitive ("12 mēnešu laikā"); a numeral
 * ending in 1 (but not 11) takes the singular.
 */
#include "policy_int.h"
#include "words.h"

#include <stdio.h>
#include <string.h>

int words_lv(const char *lang)
{
    return lang && strcmp(lang, "lv") == 0;
}

static int singular(long long n)
{
    return n % 10 == 1 && n % 100 != 11;
}

/* unit: 0 year, 1 month, 2 day, 3 hour, 4 minute, 5 second */
static const char *const lv_acc[6][2] = {
    {"gadu", "gadus"},     {"mēnesi", "mēnešus"}, {"dienu", "dienas"},
    {"stundu", "stundas"}, {"minūti", "minūtes"}, {"sekundi", "sekundes"},
};
static const char *const lv_gen[6][2] = {
    {"gada", "gadu"},      {"mēneša", "mēnešu"},  {"dienas", "dienu"},
    {"stundas", "stundu"}, {"minūtes", "minūšu"}, {"sekundes", "sekunžu"},
};
static const char *const en_unit[6][2] = {
    {"year", "years"}, {"month", "months"},   {"day", "days"},
    {"hour", "hours"}, {"minute", "minutes"}, {"second", "seconds"},
};

enum sg_rc words_duration(struct sg_buf *b, const struct sg_duration *d, const char *lang,
                          int genitive, struct sg_err *err)
{
    long long part[6] = {
        d->years, d->months, d->days, d->seconds / 3600, d->seconds / 60 % 60, d->seconds % 60};
    int idx[6], n = 0;
    for (int i = 0; i < 6; i++)
        if (part[i])
            idx[n++] = i;
    enum sg_rc rc = SG_OK;
    if (n == 0)
        return sg_buf_adds(b, words_lv(lang) ? "0 dienas" : "0 days", err);
    for (int k = 0; k < n && !rc; k++) {
        int i = idx[k];
        const char *sep = k == 0 ? "" : k == n - 1 ? (words_lv(lang) ? " un " : " and ") : ", ";
        const char *unit;
        if (words_lv(lang))
            unit = (genitive ? lv_gen : lv_acc)[i][singular(part[i]) ? 0 : 1];
        else
            unit = en_unit[i][part[i] == 1 ? 0 : 1];
        rc = sg_buf_addf(b, err, "%s%lld %s", sep, part[i], unit);
    }
    return rc;
}

/* ------------------------------------------------------------------ bases */

/* The point of the article for a basis: GDPR Art. 6(1), Reg. 2018/1725
 * Art. 5(1) (which orders them differently and has no legitimate interest). */
static char basis_letter(enum sg_basis b, enum sg_regulation r)
{
    static const char gdpr[] = " abcdef", eudpr[] = " dcbea?";
    if ((unsigned)b > 6)
        return '?';
    return r == SG_REG_EUDPR ? eudpr[b] : gdpr[b];
}

const char *words_basis_short(enum sg_basis b, const char *lang)
{
    static const char *const lv[] = {"",
                                     "piekrišana",
                                     "līgums",
                                     "juridisks pienākums",
                                     "vitālās intereses",
                                     "sabiedrības intereses",
                                     "leģitīmās intereses"};
    static const char *const en[] = {"",
                                     "consent",
                                     "contract",
                                     "legal obligation",
                                     "vital interests",
                                     "public task",
                                     "legitimate interests"};
    if ((unsigned)b > 6)
        return "";
    return words_lv(lang) ? lv[b] : en[b];
}

enum sg_rc words_basis(struct sg_buf *b, enum sg_basis basis, enum sg_regulation reg,
                       const char *lang, struct sg_err *err)
{
    static const char *const lv[] = {
        "",
        "jūsu piekrišana",
        "līguma, kura līgumslēdzēja puse esat jūs, izpilde vai pasākumi pēc jūsu pieprasījuma "
        "pirms līguma noslēgšanas",
        "pārzinim piemērojama juridiska pienākuma izpilde",
        "jūsu vai citas fiziskas personas vitālo interešu aizsardzība",
        "uzdevuma izpilde sabiedrības interesēs vai pārzinim likumīgi piešķirto oficiālo "
        "pilnvaru īstenošana",
        "pārziņa vai trešās personas leģitīmās intereses",
    };
    static const char *const en[] = {
        "",
        "your consent",
        "the performance of a contract to which you are party, or steps taken at your request "
        "before entering into it",
        "compliance with a legal obligation of the controller",
        "the protection of your vital interests or those of another natural person",
        "a task carried out in the public interest or in the exercise of official authority "
        "vested in the controller",
        "the legitimate interests of the controller or of a third party",
    };
    if ((unsigned)basis > 6 || basis == 0)
        return SG_OK;
    char letter = basis_letter(basis, reg);
    if (words_lv(lang))
        return sg_buf_addf(b, err, "%s (Regulas (ES) %s %d. panta 1. punkta %c) apakšpunkts)",
                           lv[basis], reg == SG_REG_EUDPR ? "2018/1725" : "2016/679",
                           reg == SG_REG_EUDPR ? 5 : 6, letter);
    return sg_buf_addf(b, err, "%s (Art. %d(1)(%c) of %s)", en[basis], reg == SG_REG_EUDPR ? 5 : 6,
                       letter, reg == SG_REG_EUDPR ? "Regulation (EU) 2018/1725" : "the GDPR");
}

/* -------------------------------------------------------------- retention */

static const char *anchor_phrase(const struct sg_policy *p, const char *anchor, const char *lang)
{
    static const struct {
        const char *id, *lv, *en;
    } builtin[] = {
        {"created", "reģistrācijas", "registration"},
        {"confirmed", "konta apstiprināšanas", "the account is confirmed"},
        {"last_login", "pēdējās pieteikšanās", "your last sign-in"},
        {"event_date", "pasākuma", "the event"},
        {"contract_end", "līguma izbeigšanās", "the contract ends"},
        {"collected", "datu iegūšanas", "collection"},
        {"consent_withdrawn", "piekrišanas atsaukšanas", "consent is withdrawn"},
    };
    if (!anchor)
        return "";
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (strcmp(builtin[i].id, anchor) == 0)
            return words_lv(lang) ? builtin[i].lv : builtin[i].en;
    for (size_t i = 0; i < p->nevents; i++)
        if (p->events[i].id && strcmp(p->events[i].id, anchor) == 0) {
            const char *t = sg_text_any(&p->events[i].text, lang);
            return t ? t : anchor;
        }
    return anchor;
}

static enum sg_rc condition_phrase(struct sg_buf *b, const struct sg_condition *c, const char *lang,
                                   struct sg_err *err)
{
    int lv = words_lv(lang);
    enum sg_rc rc = SG_OK;
    if (c->missing_event) {
        const char *e = c->missing_event;
        if (strcmp(e, "confirmed") == 0)
            rc = sg_buf_adds(b,
                             lv ? ", ja konts nav apstiprināts"
                                : ", if the account has not "
                                  "been confirmed",
                             err);
        else if (strcmp(e, "last_login") == 0)
            rc = sg_buf_adds(b,
                             lv ? ", ja neesat ne reizi pieteicies"
                                : ", if you have never "
                                  "signed in",
                             err);
        else if (strcmp(e, "contract_end") == 0)
            rc = sg_buf_adds(b,
                             lv ? ", ja līgums vēl nav izbeigts"
                                : ", if the contract has not "
                                  "ended",
                             err);
        else
            rc = sg_buf_addf(
                b, err, lv ? ", ja nav reģistrēts notikums „%s”" : ", if no “%s” event is recorded",
                e);
    }
    if (!rc && c->has_event) {
        const char *e = c->has_event;
        if (strcmp(e, "confirmed") == 0)
            rc = sg_buf_adds(b,
                             lv ? ", ja konts ir apstiprināts"
                                : ", if the account has been "
                                  "confirmed",
                             err);
        else
            rc = sg_buf_addf(
                b, err, lv ? ", ja ir reģistrēts notikums „%s”" : ", if a “%s” event is recorded",
                e);
    }
    return rc;
}

enum sg_rc words_categories(struct sg_buf *b, const struct sg_category *const *cats, size_t n,
                            const char *lang, struct sg_err *err)
{
    enum sg_rc rc = SG_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *name = sg_text_any(&cats[i]->name, lang);
        rc = sg_buf_addf(b, err, "%s%s", i ? ", " : "", name ? name : cats[i]->id);
    }
    return rc;
}

/* Upper-cases the first letter of what was appended from `from` on (ASCII
 * and the Latvian letters that can start a word). */
static void capitalise(struct sg_buf *b, size_t from)
{
    static const char *const pairs[][2] = {{"ā", "Ā"}, {"č", "Č"}, {"ē", "Ē"}, {"ģ", "Ģ"},
                                           {"ī", "Ī"}, {"ķ", "Ķ"}, {"ļ", "Ļ"}, {"ņ", "Ņ"},
                                           {"š", "Š"}, {"ū", "Ū"}, {"ž", "Ž"}};
    if (!b->ptr || from >= b->len)
        return;
    char *s = b->ptr + from;
    if (*s >= 'a' && *s <= 'z') {
        *s = (char)(*s - 'a' + 'A');
        return;
    }
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (b->len - from >= 2 && memcmp(s, pairs[i][0], 2) == 0) {
            memcpy(s, pairs[i][1], 2);
            return;
        }
}

enum sg_rc words_retention(struct sg_buf *b, const struct sg_policy *p,
                           const struct sg_retention *r, const char *lang, struct sg_err *err)
{
    int lv = words_lv(lang);
    size_t start = b->len;
    enum sg_rc rc = SG_OK;
    /* A rule for some categories reads "IP adrese: dzēš ..."; one for the
     * whole person, or a notice, is a sentence of its own. */
    int label = !r->all_categories && r->action != SG_ACT_NOTIFY;
    if (label) {
        rc = words_categories(b, r->categories, r->ncategories, lang, err);
        capitalise(b, start);
        if (!rc)
            rc = sg_buf_adds(b, ": ", err);
        if (rc)
            return rc;
    }
    const char *desc = sg_text_get(&r->description, lang);
    if (desc)
        return sg_buf_adds(b, desc, err);
    if (r->action == SG_ACT_KEEP) {
        const char *c = sg_text_any(&r->criteria, lang);
        if (!label)
            rc = sg_buf_adds(b, lv ? "Visus jūsu datus glabā: " : "All your data are kept: ", err);
        return rc ? rc : sg_buf_adds(b, c ? c : "", err);
    }
    static const char *const lv_act[] = {"",
                                         "dzēš",
                                         "anonimizē",
                                         "profilu deaktivizē (tas vairs nav redzams citiem)",
                                         "nosūta jums paziņojumu",
                                         "ierobežo apstrādi (datus tikai glabā)",
                                         ""};
    static const char *const en_act[] = {"",
                                         "deleted",
                                         "anonymised",
                                         "the profile is deactivated (no longer visible to "
                                         "others)",
                                         "you are sent a notice",
                                         "processing is restricted (the data are only stored)",
                                         ""};
    static const char *const lv_all[] = {"",
                                         "Visus jūsu datus dzēš",
                                         "Visus jūsu datus anonimizē",
                                         "Jūsu profilu deaktivizē (tas vairs nav redzams citiem)",
                                         "Jums nosūta paziņojumu",
                                         "Jūsu datu apstrādi ierobežo (datus tikai glabā)",
                                         ""};
    static const char *const en_all[] = {"",
                                         "All your data are deleted",
                                         "All your data are anonymised",
                                         "Your profile is deactivated (no longer visible to "
                                         "others)",
                                         "You are sent a notice",
                                         "Processing of your data is restricted (the data are "
                                         "only stored)",
                                         ""};
    size_t ai = (unsigned)r->action < 7 ? (size_t)r->action : 0;
    if (label)
        rc = sg_buf_adds(b, lv ? lv_act[ai] : en_act[ai], err);
    else
        rc = sg_buf_adds(b, lv ? lv_all[ai] : en_all[ai], err);
    if (!rc && r->action == SG_ACT_NOTIFY && r->template) {
        const char *subj = sg_text_any(&r->template->subject, lang);
        if (subj)
            rc = sg_buf_addf(b, err, lv ? " „%s”" : " (“%s”)", subj);
    }
    if (!rc)
        rc = sg_buf_adds(b, " ", err);
    if (!rc && r->has_after && !sg_duration_is_zero(&r->after)) {
        rc = words_duration(b, &r->after, lang, 0, err);
        if (!rc)
            rc = sg_buf_addf(b, err, lv ? " pēc %s" : " after %s",
                             anchor_phrase(p, r->anchor, lang));
    } else if (!rc) {
        rc = sg_buf_addf(b, err, lv ? "uzreiz pēc %s" : "immediately after %s",
                         anchor_phrase(p, r->anchor, lang));
    }
    if (!rc)
        rc = condition_phrase(b, &r->condition, lang, err);
    if (!rc && r->action == SG_ACT_HIDE && r->reactivate)
        rc = sg_buf_adds(
            b, lv ? "; pieteicoties vēlreiz, profilu atjauno" : "; signing in again reactivates it",
            err);
    if (!rc && r->action == SG_ACT_ANONYMISE && r->nkeep) {
        rc = sg_buf_adds(b,
                         lv ? "; statistikai saglabā tikai: "
                            : "; only these are kept, for "
                              "statistics: ",
                         err);
        if (!rc)
            rc = words_categories(b, r->keep, r->nkeep, lang, err);
    }
    return rc ? rc : sg_buf_adds(b, ".", err);
}

/* ------------------------------------------------------- countries, dates */

const char *words_country(const char *code, const char *lang)
{
    static const struct {
        const char *code, *lv, *en;
    } names[] = {
        {"AT", "Austrija", "Austria"},
        {"BE", "Beļģija", "Belgium"},
        {"CA", "Kanāda", "Canada"},
        {"CH", "Šveice", "Switzerland"},
        {"DE", "Vācija", "Germany"},
        {"EE", "Igaunija", "Estonia"},
        {"EU", "Eiropas Savienības iestāde", "EU institution"},
        {"FI", "Somija", "Finland"},
        {"FR", "Francija", "France"},
        {"GB", "Apvienotā Karaliste", "United Kingdom"},
        {"IE", "Īrija", "Ireland"},
        {"IN", "Indija", "India"},
        {"LT", "Lietuva", "Lithuania"},
        {"LU", "Luksemburga", "Luxembourg"},
        {"LV", "Latvija", "Latvia"},
        {"NL", "Nīderlande", "Netherlands"},
        {"NO", "Norvēģija", "Norway"},
        {"PL", "Polija", "Poland"},
        {"PT", "Portugāle", "Portugal"},
        {"SE", "Zviedrija", "Sweden"},
        {"UA", "Ukraina", "Ukraine"},
        {"US", "Amerikas Savienotās Valstis", "United States"},
    };
    if (!code)
        return words_lv(lang) ? "valstis ārpus ES/EEZ" : "countries outside the EU/EEA";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].code, code) == 0)
            return words_lv(lang) ? names[i].lv : names[i].en;
    return code;
}

char *words_date(sg_time t, const char *lang, char out[WORDS_DATE_MAX])
{
    return words_date_case(t, lang, 0, out);
}

char *words_date_case(sg_time t, const char *lang, int locative, char out[WORDS_DATE_MAX])
{
    static const char *const lv_loc[] = {"janvārī",   "februārī", "martā",    "aprīlī",
                                         "maijā",     "jūnijā",   "jūlijā",   "augustā",
                                         "septembrī", "oktobrī",  "novembrī", "decembrī"};
    static const char *const lv_m[] = {"janvāris",   "februāris", "marts",     "aprīlis",
                                       "maijs",      "jūnijs",    "jūlijs",    "augusts",
                                       "septembris", "oktobris",  "novembris", "decembris"};
    static const char *const en_m[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
    int64_t days = t / SG_USEC_PER_DAY - (t % SG_USEC_PER_DAY < 0);
    int y, m, d;
    sg_civil_from_days(days, &y, &m, &d);
    if (words_lv(lang))
        snprintf(out, WORDS_DATE_MAX, "%d. gada %d. %s", y, d,
                 (locative ? lv_loc : lv_m)[(m - 1) % 12]);
    else
        snprintf(out, WORDS_DATE_MAX, "%d %s %d", d, en_m[(m - 1) % 12], y);
    return out;
}
