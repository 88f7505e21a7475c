/*
 * notice.c - the privacy notice of Art. 13 and 14, generated from the
 * policy in Latvian or English, as Markdown or HTML.
 *
 * Layered as the LIKTA guidelines (13.2) and the EDPB transparency
 * guidelines suggest: a short summary first, then one numbered section per
 * item of Art. 13(1)-(2) and 14, each always present (saying "none" when the
 * policy has none), so that a reader, a supervisory authority or a test can
 * check that nothing is missing. Section anchors (HTML ids) are stable.
 */
#include "policy_int.h"
#include "words.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ writer */

struct w {
    struct sg_buf *out;
    enum sg_doc_format fmt;
    const char *lang;
    int lv;
    struct sg_err *err;
    enum sg_rc rc; /* sticky: the first failure stops all output */
    struct sg_buf tmp;
    /* what the fill_* functions below put into words */
    const struct sg_policy *cur_p;
    const void *cur_item;
    enum sg_regulation cur_reg;
    const struct sg_duration *cur_dur;
    int list_pending; /* a list was opened and has no item yet */
};

static void raw(struct w *w, const char *s)
{
    if (!w->rc)
        w->rc = sg_buf_adds(w->out, s, w->err);
}

/* Appends text escaped for the format. */
static void esc(struct w *w, const char *s)
{
    if (w->rc || !s)
        return;
    const char *start = s;
    for (; *s && !w->rc; s++) {
        const char *rep = NULL;
        char one[3] = {'\\', *s, '\0'};
        if (w->fmt == SG_FORMAT_HTML) {
            switch (*s) {
            case '&':
                rep = "&amp;";
                break;
            case '<':
                rep = "&lt;";
                break;
            case '>':
                rep = "&gt;";
                break;
            case '"':
                rep = "&quot;";
                break;
            }
        } else {
            if (strchr("\\*_[]<>`|", *s)) {
                rep = one;
            } else if (*s == '\n') {
                rep = " ";
            }
        }
        if (!rep)
            continue;
        if (s > start)
            w->rc = sg_buf_add(w->out, start, (size_t)(s - start), w->err);
        if (!w->rc)
            w->rc = sg_buf_adds(w->out, rep, w->err);
        start = s + 1;
    }
    if (!w->rc && s > start)
        w->rc = sg_buf_add(w->out, start, (size_t)(s - start), w->err);
}

/* Formats, then appends escaped. */
static void t(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void t(struct w *w, const char *fmt, ...)
{
    if (w->rc)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof buf) {
        esc(w, buf);
        return;
    }
    /* Longer than the stack buffer: go through the heap. */
    va_start(ap, fmt);
    char *big = NULL;
    if (n > 0 && (big = malloc((size_t)n + 1)))
        vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (!big) {
        w->rc = sg_err_set(w->err, SG_NOMEM, "out of memory");
        return;
    }
    esc(w, big);
    free(big);
}

/* The text of `tx` in the notice's language, escaped. */
static void tx(struct w *w, const struct sg_text *x)
{
    esc(w, sg_text_any(x, w->lang));
}

/* The content of a scratch buffer filled by a words_* function. */
static void wb(struct w *w, enum sg_rc (*fill)(struct w *, struct sg_buf *))
{
    if (w->rc)
        return;
    sg_buf_reset(&w->tmp);
    w->rc = fill(w, &w->tmp);
    if (!w->rc && w->tmp.ptr)
        esc(w, w->tmp.ptr);
}

static void heading(struct w *w, int level, const char *id, const char *title)
{
    if (w->fmt == SG_FORMAT_HTML) {
        char open[160];
        snprintf(open, sizeof open, "<h%d id=\"%.96s\">", level, id);
        raw(w, open);
        esc(w, title);
        snprintf(open, sizeof open, "</h%d>\n", level);
        raw(w, open);
    } else {
        raw(w, level == 1 ? "# " : level == 2 ? "## " : "### ");
        esc(w, title);
        raw(w, "\n\n");
    }
}

static void p_open(struct w *w)
{
    if (w->fmt == SG_FORMAT_HTML)
        raw(w, "<p>");
}

static void p_close(struct w *w)
{
    raw(w, w->fmt == SG_FORMAT_HTML ? "</p>\n" : "\n\n");
}

/* Lists open on their first item, so that an empty one leaves no trace. */
static void ul_open(struct w *w)
{
    w->list_pending = 1;
}

static void ul_close(struct w *w)
{
    if (!w->list_pending)
        raw(w, w->fmt == SG_FORMAT_HTML ? "</ul>\n" : "\n");
    w->list_pending = 0;
}

static void li_open(struct w *w)
{
    if (w->list_pending && w->fmt == SG_FORMAT_HTML)
        raw(w, "<ul>\n");
    w->list_pending = 0;
    raw(w, w->fmt == SG_FORMAT_HTML ? "<li>" : "- ");
}

static void li_close(struct w *w)
{
    raw(w, w->fmt == SG_FORMAT_HTML ? "</li>\n" : "\n");
}

static void strong(struct w *w, const char *s)
{
    raw(w, w->fmt == SG_FORMAT_HTML ? "<strong>" : "**");
    esc(w, s);
    raw(w, w->fmt == SG_FORMAT_HTML ? "</strong>" : "**");
}

/* A labelled list item: "**Label:** text". */
static void item_label(struct w *w, const char *label)
{
    li_open(w);
    strong(w, label);
    raw(w, " ");
}

/* Sections of the details layer: in HTML each can be folded away under its
 * heading, leaving the summary. */
static void section_open(struct w *w, const char *id, int num, const char *title)
{
    char h[256];
    snprintf(h, sizeof h, "%d. %s", num, title);
    if (w->fmt == SG_FORMAT_HTML) {
        raw(w, "<details class=\"section\" open>\n<summary>");
        heading(w, 2, id, h);
        raw(w, "</summary>\n");
    } else {
        heading(w, 2, id, h);
    }
}

static void section_close(struct w *w)
{
    if (w->fmt == SG_FORMAT_HTML)
        raw(w, "</details>\n");
}

/* -------------------------------------------------------------- phrases */

static const char *L(const struct w *w, const char *lv, const char *en)
{
    return w->lv ? lv : en;
}

static enum sg_regulation purpose_regulation(const struct sg_policy *p, const struct sg_purpose *u)
{
    if (u->ncontrollers)
        return u->controllers[0]->regulation;
    return p->ncontrollers ? p->controllers[0].regulation : p->regulation;
}

static const char *controller_kind_text(const struct w *w, enum sg_controller_kind k)
{
    switch (k) {
    case SG_CTRL_SOLE:
        return L(w, "pārzinis", "controller");
    case SG_CTRL_JOINT:
        return L(w, "kopīgs pārzinis", "joint controller");
    case SG_CTRL_EU:
        return L(w, "pārzinis ES līmenī", "controller at EU level");
    case SG_CTRL_NATIONAL:
        return L(w, "pārzinis nacionālā līmenī", "controller at national level");
    }
    return "";
}

static const char *recipient_kind_text(const struct w *w, enum sg_recipient_kind k)
{
    switch (k) {
    case SG_RCPT_PROCESSOR:
        return L(w, "apstrādātājs, kas rīkojas mūsu uzdevumā", "processor acting on our behalf");
    case SG_RCPT_CONTROLLER:
        return L(w, "neatkarīgs pārzinis", "independent controller");
    case SG_RCPT_JOINT:
        return L(w, "kopīgs pārzinis", "joint controller");
    case SG_RCPT_AUTHORITY:
        return L(w, "valsts iestāde", "public authority");
    case SG_RCPT_OTHER:
        return L(w, "saņēmējs", "recipient");
    }
    return "";
}

static const char *safeguard_text(const struct w *w, enum sg_safeguard s)
{
    switch (s) {
    case SG_SAFE_NONE:
        return "";
    case SG_SAFE_ADEQUACY:
        return L(w, "Eiropas Komisijas lēmums par aizsardzības līmeņa pietiekamību (45. pants)",
                 "an adequacy decision of the European Commission (Art. 45)");
    case SG_SAFE_SCC:
        return L(w,
                 "Eiropas Komisijas pieņemtas līguma standartklauzulas (46. panta 2. punkta c) "
                 "apakšpunkts)",
                 "standard contractual clauses adopted by the European Commission (Art. "
                 "46(2)(c))");
    case SG_SAFE_BCR:
        return L(w, "saistošie uzņēmuma noteikumi (47. pants)",
                 "binding corporate rules (Art. 47)");
    case SG_SAFE_AD_HOC:
        return L(w,
                 "uzraudzības iestādes atļautas līguma klauzulas (46. panta 3. punkta a) "
                 "apakšpunkts)",
                 "contractual clauses authorised by a supervisory authority (Art. 46(3)(a))");
    case SG_SAFE_ADMIN:
        return L(w,
                 "administratīva vienošanās starp publiskām iestādēm (46. panta 3. punkta b) "
                 "apakšpunkts)",
                 "an administrative arrangement between public bodies (Art. 46(3)(b))");
    case SG_SAFE_CODE:
        return L(w, "apstiprināts rīcības kodekss (46. panta 2. punkta e) apakšpunkts)",
                 "an approved code of conduct (Art. 46(2)(e))");
    case SG_SAFE_CERTIFICATION:
        return L(w, "apstiprināts sertifikācijas mehānisms (46. panta 2. punkta f) apakšpunkts)",
                 "an approved certification mechanism (Art. 46(2)(f))");
    case SG_SAFE_DEROGATION:
        return L(w, "atkāpe īpašā situācijā (49. pants)",
                 "a derogation for a specific situation (Art. 49)");
    }
    return "";
}

static const char *special_text(const struct w *w, enum sg_special s)
{
    static const char *const lv[] = {"",
                                     "rasu vai etniskā izcelsme",
                                     "politiskie uzskati",
                                     "reliģiskā vai filozofiskā pārliecība",
                                     "dalība arodbiedrībās",
                                     "ģenētiskie dati",
                                     "biometriskie dati",
                                     "veselības dati",
                                     "dzimumdzīve vai seksuālā orientācija",
                                     "sodāmība un pārkāpumi"};
    static const char *const en[] = {"",
                                     "racial or ethnic origin",
                                     "political opinions",
                                     "religious or philosophical beliefs",
                                     "trade union membership",
                                     "genetic data",
                                     "biometric data",
                                     "data concerning health",
                                     "sex life or sexual orientation",
                                     "criminal convictions and offences"};
    return (unsigned)s < 10 ? (w->lv ? lv[s] : en[s]) : "";
}

static const char *art9_text(const struct w *w, enum sg_art9 c)
{
    static const char *const lv[] = {
        "",
        "jūsu nepārprotama piekrišana (9. panta 2. punkta a) apakšpunkts)",
        "nodarbinātības un sociālās aizsardzības tiesību akti (9. panta 2. punkta b) "
        "apakšpunkts)",
        "vitālo interešu aizsardzība (9. panta 2. punkta c) apakšpunkts)",
        "bezpeļņas organizācijas likumīgas darbības (9. panta 2. punkta d) apakšpunkts)",
        "dati, ko esat acīmredzami publiskojis (9. panta 2. punkta e) apakšpunkts)",
        "likumīgu prasību celšana, īstenošana vai aizstāvēšana (9. panta 2. punkta f) "
        "apakšpunkts)",
        "būtiskas sabiedrības intereses (9. panta 2. punkta g) apakšpunkts)",
        "veselības vai sociālā aprūpe (9. panta 2. punkta h) apakšpunkts)",
        "sabiedrības veselība (9. panta 2. punkta i) apakšpunkts)",
        "arhivēšana, pētniecība vai statistika (9. panta 2. punkta j) apakšpunkts)"};
    static const char *const en[] = {
        "",
        "your explicit consent (Art. 9(2)(a))",
        "employment and social security law (Art. 9(2)(b))",
        "the protection of vital interests (Art. 9(2)(c))",
        "the legitimate activities of a not-for-profit body (Art. 9(2)(d))",
        "data you have manifestly made public (Art. 9(2)(e))",
        "the establishment, exercise or defence of legal claims (Art. 9(2)(f))",
        "substantial public interest (Art. 9(2)(g))",
        "health or social care (Art. 9(2)(h))",
        "public health (Art. 9(2)(i))",
        "archiving, research or statistics (Art. 9(2)(j))"};
    return (unsigned)c < 11 ? (w->lv ? lv[c] : en[c]) : "";
}

static const char *channel_text(const struct w *w, const char *id)
{
    static const struct {
        const char *id, *lv, *en;
    } ch[] = {
        {"in_person", "klātienē, uzrādot personu apliecinošu dokumentu",
         "in person, showing an identity document"},
        {"registered_post", "ierakstītā pasta sūtījumā (atbildi sūtām ierakstītā pasta sūtījumā)",
         "by registered post (we reply by registered post)"},
        {"post", "vienkāršā pasta sūtījumā", "by ordinary post"},
        {"email", "pa e-pastu", "by e-mail"},
        {"email_signed", "e-pastā, kas parakstīts ar drošu (kvalificētu) elektronisko parakstu",
         "by e-mail signed with a qualified electronic signature"},
        {"account", "savā kontā mūsu tīmekļa vietnē", "from your account on our website"},
        {"phone", "pa tālruni", "by phone"},
        {"web_form", "tīmekļa veidlapā", "through a web form"},
    };
    for (size_t i = 0; id && i < sizeof ch / sizeof ch[0]; i++)
        if (strcmp(ch[i].id, id) == 0)
            return w->lv ? ch[i].lv : ch[i].en;
    return id ? id : "";
}

static const char *cookie_kind_text(const struct w *w, enum sg_cookie_kind k)
{
    static const char *const lv[] = {"obligātā sīkdatne", "izvēļu sīkdatne", "drošības sīkdatne",
                                     "statistikas sīkdatne", "mārketinga sīkdatne"};
    static const char *const en[] = {"strictly necessary cookie", "preferences cookie",
                                     "security cookie", "statistics cookie", "marketing cookie"};
    return (unsigned)k < 5 ? (w->lv ? lv[k] : en[k]) : "";
}

static const char *requirement_text(const struct w *w, enum sg_requirement r)
{
    switch (r) {
    case SG_REQ_STATUTORY:
        return L(w, "datu sniegšana ir noteikta tiesību aktos, un jums tie ir jāsniedz",
                 "providing the data is required by law, and you must provide it");
    case SG_REQ_CONTRACTUAL:
        return L(w, "datu sniegšana ir līgumā noteikta prasība",
                 "providing the data is a requirement of the contract");
    case SG_REQ_PRECONDITION:
        return L(w,
                 "dati ir nepieciešami, lai noslēgtu līgumu vai reģistrētos; bez tiem pakalpojumu "
                 "sniegt nevaram",
                 "the data are needed to enter into the contract or to register; without them "
                 "we cannot provide the service");
    case SG_REQ_VOLUNTARY:
        return L(w,
                 "datu sniegšana nav ne likumā, ne līgumā noteikta prasība, un jums nav "
                 "pienākuma tos sniegt",
                 "providing the data is neither a statutory nor a contractual requirement, and "
                 "you are under no obligation to do so");
    }
    return "";
}

/* ----------------------------------------------------------- fillers */

static enum sg_rc fill_retention(struct w *w, struct sg_buf *b)
{
    return words_retention(b, w->cur_p, w->cur_item, w->lang, w->err);
}

static enum sg_rc fill_basis(struct w *w, struct sg_buf *b)
{
    return words_basis(b, ((const struct sg_purpose *)w->cur_item)->basis, w->cur_reg, w->lang,
                       w->err);
}

static enum sg_rc fill_cats(struct w *w, struct sg_buf *b)
{
    const struct sg_purpose *u = w->cur_item;
    return words_categories(b, u->categories, u->ncategories, w->lang, w->err);
}

static enum sg_rc fill_dur_acc(struct w *w, struct sg_buf *b)
{
    return words_duration(b, w->cur_dur, w->lang, 0, w->err);
}

static enum sg_rc fill_dur_gen(struct w *w, struct sg_buf *b)
{
    return words_duration(b, w->cur_dur, w->lang, 1, w->err);
}

/* ---------------------------------------------------------------- pieces */

static void contact_line(struct w *w, const struct sg_contact *c)
{
    int first = 1;
#define SEP()                                                                                      \
    do {                                                                                           \
        if (!first)                                                                                \
            raw(w, "; ");                                                                          \
        first = 0;                                                                                 \
    } while (0)
    if (c->address.n) {
        SEP();
        t(w, "%s: ", L(w, "adrese", "address"));
        tx(w, &c->address);
    }
    if (c->email) {
        SEP();
        t(w, "%s: %s", L(w, "e-pasts", "e-mail"), c->email);
    }
    if (c->phone) {
        SEP();
        t(w, "%s: %s", L(w, "tālrunis", "phone"), c->phone);
    }
    if (c->web) {
        SEP();
        t(w, "%s: %s", L(w, "tīmekļa vietne", "website"), c->web);
    }
#undef SEP
}

static void join_purpose_names(struct w *w, const struct sg_policy *p)
{
    for (size_t i = 0; i < p->npurposes; i++) {
        if (i)
            raw(w, "; ");
        tx(w, &p->purposes[i].name);
    }
}

/* The first e-mail to write to about data protection. */
static const char *privacy_email(const struct sg_policy *p)
{
    if (p->requests.contact.email)
        return p->requests.contact.email;
    for (size_t i = 0; i < p->ncontrollers; i++)
        if (p->controllers[i].has_dpo && p->controllers[i].dpo.email)
            return p->controllers[i].dpo.email;
    for (size_t i = 0; i < p->ncontrollers; i++)
        if (p->controllers[i].contact.email)
            return p->controllers[i].contact.email;
    return NULL;
}

static int uses_consent(const struct sg_policy *p)
{
    for (size_t i = 0; i < p->npurposes; i++)
        if (p->purposes[i].basis == SG_BASIS_CONSENT)
            return 1;
    return 0;
}

static size_t count_transfers(const struct sg_policy *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nrecipients; i++)
        n += p->recipients[i].third_country;
    return n;
}

/* ---------------------------------------------------------------- layers */

static void intro(struct w *w, const struct sg_policy *p, sg_time effective)
{
    char date[WORDS_DATE_MAX];
    const char *title = sg_text_any(&p->title, w->lang);
    char h[512];
    snprintf(h, sizeof h, "%s — %s", L(w, "Privātuma paziņojums", "Privacy notice"),
             title ? title : "");
    heading(w, 1, "notice", h);
    p_open(w);
    strong(w, L(w, "Spēkā stāšanās datums:", "Effective date:"));
    t(w, " %s · ", words_date(effective, w->lang, date));
    strong(w, L(w, "Versija:", "Version:"));
    t(w, " %.16s", p->hash);
    p_close(w);

    int eu = 0, gd = 0;
    for (size_t i = 0; i < p->ncontrollers; i++) {
        eu |= p->controllers[i].regulation == SG_REG_EUDPR;
        gd |= p->controllers[i].regulation == SG_REG_GDPR;
    }
    const char *lv_law =
        eu && gd ? "Regulas (ES) 2018/1725 15. un 16. pants (ES līmenī) un "
                   "Vispārīgās datu aizsardzības regulas (ES) 2016/679 13. un "
                   "14. pants (nacionālā līmenī)"
        : eu     ? "Regulas (ES) 2018/1725 15. un 16. pants"
                 : "Vispārīgās datu aizsardzības regulas (ES) 2016/679 13. un 14. pants";
    const char *en_law = eu && gd ? "Articles 15 and 16 of Regulation (EU) 2018/1725 (at EU level) "
                                    "and Articles 13 and 14 of the General Data Protection "
                                    "Regulation (EU) 2016/679 (at national level)"
                         : eu     ? "Articles 15 and 16 of Regulation (EU) 2018/1725"
                                  : "Articles 13 and 14 of the General Data Protection Regulation "
                                    "(EU) 2016/679";
    p_open(w);
    if (w->lv)
        t(w,
          "Šajā paziņojumā, kā to prasa %s, ir izskaidrots, kas apstrādā jūsu personas datus, "
          "kādiem nolūkiem un uz kāda tiesiskā pamata, kam tos nodod, cik ilgi tos glabā un kādas "
          "ir jūsu tiesības. Vispirms — īss kopsavilkums, pēc tam — sīkāka informācija.",
          lv_law);
    else
        t(w,
          "As %s require, this notice explains who processes your personal data, for which "
          "purposes and on which legal basis, who receives it, how long it is kept and what "
          "rights you have. A short summary comes first; the details follow.",
          en_law);
    p_close(w);
}

static void summary(struct w *w, const struct sg_policy *p)
{
    heading(w, 2, "summary", L(w, "Īsumā", "In short"));
    ul_open(w);

    item_label(w, L(w, "Kas apstrādā jūsu datus:", "Who processes your data:"));
    for (size_t i = 0; i < p->ncontrollers; i++) {
        if (i)
            raw(w, "; ");
        tx(w, &p->controllers[i].contact.name);
        t(w, " (%s)", controller_kind_text(w, p->controllers[i].kind));
    }
    li_close(w);

    item_label(w, L(w, "Kāpēc:", "Why:"));
    join_purpose_names(w, p);
    li_close(w);

    item_label(w, L(w, "Tiesiskais pamats:", "Legal bases:"));
    int seen[7] = {0}, first = 1;
    for (size_t i = 0; i < p->npurposes; i++) {
        unsigned b = (unsigned)p->purposes[i].basis;
        if (b < 7 && !seen[b]) {
            seen[b] = 1;
            t(w, "%s%s", first ? "" : ", ", words_basis_short(p->purposes[i].basis, w->lang));
            first = 0;
        }
    }
    li_close(w);

    item_label(w, L(w, "Kam datus nododam:", "Who receives data:"));
    if (!p->nrecipients)
        t(w, "%s", L(w, "nevienam ārpus pārziņa", "no one outside the controller"));
    for (size_t i = 0; i < p->nrecipients; i++) {
        if (i)
            raw(w, "; ");
        tx(w, &p->recipients[i].name);
    }
    li_close(w);

    item_label(w, L(w, "Nosūtīšana ārpus ES/EEZ:", "Transfers outside the EU/EEA:"));
    if (!count_transfers(p)) {
        t(w, "%s", L(w, "nē", "no"));
    } else {
        t(w, "%s", L(w, "jā, ar atbilstošām garantijām — ", "yes, with safeguards — "));
        first = 1;
        for (size_t i = 0; i < p->nrecipients; i++) {
            if (!p->recipients[i].third_country)
                continue;
            if (!first)
                raw(w, "; ");
            first = 0;
            tx(w, &p->recipients[i].name);
            t(w, " (%s)", words_country(p->recipients[i].country, w->lang));
        }
    }
    li_close(w);

    item_label(w, L(w, "Cik ilgi:", "How long:"));
    t(w, "%s",
      L(w, "tikai tik ilgi, cik nepieciešams nolūkam; piemēram — ",
        "only as long as the purpose needs; for example — "));
    for (size_t i = 0, shown = 0; i < p->nretention && shown < 3; i++) {
        if (p->retention[i].action == SG_ACT_NOTIFY)
            continue;
        if (shown++)
            raw(w, " ");
        w->cur_p = p;
        w->cur_item = &p->retention[i];
        wb(w, fill_retention);
    }
    li_close(w);

    item_label(w, L(w, "Jūsu tiesības:", "Your rights:"));
    t(w, "%s ",
      L(w,
        "piekļūt saviem datiem, labot, dzēst, ierobežot apstrādi, pārnest datus, iebilst "
        "pret apstrādi, atsaukt piekrišanu un iesniegt sūdzību uzraudzības iestādei —",
        "access your data, rectify, erase, restrict processing, port your data, object, "
        "withdraw consent and complain to a supervisory authority —"));
    if (!p->ncontrollers)
        tx(w, &p->authority.name);
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_contact *a = p->controllers[i].authority;
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= p->controllers[k].authority == a;
        if (dup)
            continue;
        if (i)
            raw(w, "; ");
        tx(w, &a->name);
    }
    li_close(w);

    const char *mail = privacy_email(p);
    item_label(w, L(w, "Saziņai par datu aizsardzību:", "Data protection contact:"));
    t(w, "%s", mail ? mail : L(w, "skatīt 1. sadaļu", "see section 1"));
    li_close(w);
    ul_close(w);
}

static void sec_controllers(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "controller", num,
                 L(w, "Pārzinis un tā kontaktinformācija", "Who is responsible (the controller)"));
    int joint = 0;
    ul_open(w);
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_controller *c = &p->controllers[i];
        joint |= c->kind == SG_CTRL_JOINT;
        li_open(w);
        strong(w, sg_text_any(&c->contact.name, w->lang));
        t(w, " — %s", controller_kind_text(w, c->kind));
        if (c->registration)
            t(w, "; %s: %s", L(w, "reģistrācijas numurs", "registration number"), c->registration);
        raw(w, "; ");
        contact_line(w, &c->contact);
        raw(w, ".");
        if (c->scope.n) {
            raw(w, " ");
            tx(w, &c->scope);
        }
        if (c->directory.n) {
            t(w, " %s ",
              L(w, "Katras valsts pārziņa kontaktinformācija:",
                "Contact details of each country's controller:"));
            tx(w, &c->directory);
        }
        li_close(w);
    }
    ul_close(w);
    if (joint) {
        p_open(w);
        t(w, "%s",
          L(w,
            "Kopīgie pārziņi ir vienojušies par savu atbildību; šīs vienošanās būtību pēc "
            "pieprasījuma darām jums pieejamu (Regulas (ES) 2016/679 26. panta 2. punkts).",
            "The joint controllers have agreed on their respective responsibilities; we make the "
            "essence of that arrangement available to you on request (Art. 26(2) GDPR)."));
        p_close(w);
    }
    section_close(w);
}

static void sec_dpo(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "dpo", num, L(w, "Datu aizsardzības speciālists", "Data protection officer"));
    ul_open(w);
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_controller *c = &p->controllers[i];
        li_open(w);
        strong(w, sg_text_any(&c->contact.name, w->lang));
        raw(w, ": ");
        if (c->has_dpo) {
            if (c->dpo.name.n) {
                tx(w, &c->dpo.name);
                raw(w, "; ");
            }
            contact_line(w, &c->dpo);
            raw(w, ".");
        } else {
            t(w, "%s",
              L(w,
                "datu aizsardzības speciālists nav iecelts; jautājumus par datu apstrādi "
                "sūtiet, izmantojot 1. sadaļā norādīto kontaktinformāciju.",
                "no data protection officer has been appointed; send questions about "
                "data processing to the contact details in section 1."));
        }
        li_close(w);
    }
    ul_close(w);
    section_close(w);
}

static void sec_purposes(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "purposes", num,
                 L(w, "Apstrādes nolūki un tiesiskais pamats", "Purposes and legal bases"));
    for (size_t i = 0; i < p->npurposes; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        char id[96];
        snprintf(id, sizeof id, "purpose-%s", u->id);
        heading(w, 3, id, sg_text_any(&u->name, w->lang));
        if (u->description.n) {
            p_open(w);
            tx(w, &u->description);
            p_close(w);
        }
        ul_open(w);
        item_label(w, L(w, "Tiesiskais pamats:", "Legal basis:"));
        w->cur_item = u;
        w->cur_reg = purpose_regulation(p, u);
        wb(w, fill_basis);
        raw(w, ".");
        if (u->basis_reference.n) {
            raw(w, " ");
            tx(w, &u->basis_reference);
        }
        li_close(w);
        item_label(w, L(w, "Izmantotie dati:", "Data used:"));
        wb(w, fill_cats);
        raw(w, ".");
        li_close(w);
        if (u->nsubjects) {
            item_label(w, L(w, "Kuru personu dati:", "Whose data:"));
            for (size_t k = 0; k < u->nsubjects; k++) {
                if (k)
                    raw(w, ", ");
                tx(w, &u->subjects[k]->name);
            }
            raw(w, ".");
            li_close(w);
        }
        if (u->ncontrollers && p->ncontrollers > 1) {
            item_label(w, L(w, "Pārzinis:", "Controller:"));
            for (size_t k = 0; k < u->ncontrollers; k++) {
                if (k)
                    raw(w, ", ");
                tx(w, &u->controllers[k]->contact.name);
            }
            raw(w, ".");
            li_close(w);
        }
        if (u->nrecipients) {
            item_label(w, L(w, "Saņēmēji:", "Recipients:"));
            for (size_t k = 0; k < u->nrecipients; k++) {
                if (k)
                    raw(w, ", ");
                tx(w, &u->recipients[k]->name);
            }
            raw(w, ".");
            li_close(w);
        }
        if (u->nretention) {
            item_label(w, L(w, "Glabāšana:", "Retention:"));
            for (size_t k = 0; k < u->nretention; k++) {
                if (k)
                    raw(w, " ");
                w->cur_p = p;
                w->cur_item = u->retention[k];
                wb(w, fill_retention);
            }
            li_close(w);
        }
        if (u->basis == SG_BASIS_CONSENT) {
            item_label(w, L(w, "Piekrišanas atsaukšana:", "Withdrawing consent:"));
            tx(w, &u->consent.withdrawal);
            if (u->consent.per_item)
                t(w, " %s",
                  L(w, "Piekrišanu lūdzam atsevišķi katram materiālam.",
                    "We ask for consent separately for each item."));
            if (u->consent.has_validity) {
                t(w, " %s ", L(w, "Piekrišana ir spēkā", "Consent is valid for"));
                w->cur_dur = &u->consent.validity;
                wb(w, fill_dur_acc);
                raw(w, ".");
            }
            li_close(w);
            item_label(w, L(w, "Bērni:", "Children:"));
            if (u->consent.minors == SG_MINORS_REFUSE)
                t(w,
                  w->lv ? "šis pakalpojums nav paredzēts personām, kas jaunākas par %d gadiem; ja "
                          "uzzinām, ka esam ieguvuši šādas personas datus, tos dzēšam."
                        : "this service is not meant for people under %d; if we learn that we "
                          "hold such a person's data, we erase them.",
                  u->consent.min_age);
            else
                t(w,
                  w->lv ? "ja jums vēl nav %d gadu, piekrišanu dod vai apstiprina jūsu vecāks vai "
                          "aizbildnis."
                        : "if you are under %d, your parent or guardian gives or approves the "
                          "consent.",
                  u->consent.min_age);
            li_close(w);
        }
        if (u->direct_marketing) {
            li_open(w);
            t(w, "%s",
              L(w,
                "Tā ir tiešā tirgvedība: pret to varat iebilst jebkurā laikā, un tad "
                "to pārtraucam.",
                "This is direct marketing: you may object to it at any time, and we "
                "then stop."));
            li_close(w);
        }
        if (u->sale_or_sharing) {
            li_open(w);
            t(w, "%s",
              L(w,
                "Dati tiek kopīgoti ar trešajām personām; pārlūka signālu Global Privacy "
                "Control uzskatām par iebildumu.",
                "The data are shared with third parties; we treat a Global Privacy "
                "Control signal from your browser as an objection."));
            li_close(w);
        }
        ul_close(w);
    }
    section_close(w);
}

static void sec_legitimate(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "legitimate-interests", num,
                 L(w, "Leģitīmās intereses", "Legitimate interests"));
    int any = 0;
    ul_open(w);
    for (size_t i = 0; i < p->npurposes; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        if (u->basis != SG_BASIS_LEGITIMATE_INTEREST)
            continue;
        any = 1;
        li_open(w);
        strong(w, sg_text_any(&u->name, w->lang));
        raw(w, ": ");
        tx(w, &u->legitimate_interest);
        t(w, " %s ",
          L(w, "Interešu līdzsvara pārbaudes rezultāts:",
            "Outcome of the balancing "
            "test:"));
        tx(w, &u->balance_test);
        li_close(w);
    }
    ul_close(w);
    p_open(w);
    if (any)
        t(w, "%s",
          L(w,
            "Pret apstrādi, kas pamatota ar leģitīmajām interesēm, varat iebilst jebkurā "
            "laikā savas īpašās situācijas dēļ (skatīt sadaļu „Jūsu tiesības”).",
            "You may object at any time, on grounds relating to your particular "
            "situation, to processing based on legitimate interests (see “Your "
            "rights”)."));
    else
        t(w, "%s",
          L(w, "Mēs nepamatojam datu apstrādi ar leģitīmajām interesēm.",
            "We do not rely on legitimate interests."));
    p_close(w);
    section_close(w);
}

static void sec_categories(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "categories", num,
                 L(w, "Kādus datus apstrādājam un no kurienes tos iegūstam",
                   "What data we process and where it comes from"));
    ul_open(w);
    int other = 0;
    for (size_t i = 0; i < p->catalog.n; i++) {
        const struct sg_category *c = &p->catalog.cats[i];
        other |= c->source == SG_SOURCE_OTHER;
        li_open(w);
        strong(w, sg_text_any(&c->name, w->lang));
        t(w, " — %s; ",
          c->required ? L(w, "obligāti", "required") : L(w, "pēc izvēles", "optional"));
        if (c->source == SG_SOURCE_OTHER) {
            t(w, "%s ", L(w, "avots:", "source:"));
            tx(w, &c->source_name);
            if (c->public_source)
                t(w, " (%s)", L(w, "publiski pieejams avots", "a publicly accessible source"));
        } else {
            t(w, "%s", L(w, "iegūti no jums", "obtained from you"));
        }
        if (c->special)
            t(w,
              w->lv ? "; īpašas kategorijas dati (%s), ko apstrādājam, pamatojoties uz: %s"
                    : "; special category of data (%s), processed on the ground of %s",
              special_text(w, c->special), art9_text(w, c->art9));
        if (c->opinion)
            t(w, "; %s",
              L(w, "vērtējums — labot var faktu, nevis vērtējuma saturu",
                "an assessment — facts can be rectified, not the assessment itself"));
        raw(w, ".");
        li_close(w);
    }
    ul_close(w);
    p_open(w);
    if (!other) {
        t(w, "%s",
          L(w, "Visus šeit minētos datus iegūstam no jums.",
            "We obtain all the data listed here from you."));
    } else {
        t(w, "%s ",
          L(w, "Dati, kas nav iegūti no jums (Regulas 14. pants):",
            "Data not obtained from you (Article 14):"));
        int first = 1;
        for (size_t i = 0; i < p->catalog.n; i++) {
            const struct sg_category *c = &p->catalog.cats[i];
            if (c->source != SG_SOURCE_OTHER)
                continue;
            if (!first)
                raw(w, "; ");
            first = 0;
            tx(w, &c->name);
            raw(w, " — ");
            tx(w, &c->source_name);
        }
        raw(w, ".");
    }
    p_close(w);
    section_close(w);
}

static void sec_recipients(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "recipients", num, L(w, "Datu saņēmēji", "Recipients"));
    if (!p->nrecipients) {
        p_open(w);
        t(w, "%s",
          L(w, "Jūsu personas datus citiem saņēmējiem nenododam.",
            "We do not disclose your personal data to other recipients."));
        p_close(w);
    }
    ul_open(w);
    for (size_t i = 0; i < p->nrecipients; i++) {
        const struct sg_recipient *r = &p->recipients[i];
        li_open(w);
        strong(w, sg_text_any(&r->name, w->lang));
        t(w, " — %s", recipient_kind_text(w, r->kind));
        if (r->country || r->third_country)
            t(w, " (%s)", words_country(r->country, w->lang));
        if (r->role.n) {
            raw(w, ": ");
            tx(w, &r->role);
        }
        if (r->only_when_required)
            t(w, "; %s",
              L(w, "tikai tad, ja to prasa tiesību akti vai tiesa",
                "only where a law or a court requires it"));
        raw(w, ".");
        li_close(w);
    }
    ul_close(w);
    section_close(w);
}

static void sec_transfers(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "transfers", num,
                 L(w, "Datu nosūtīšana uz trešajām valstīm", "Transfers outside the EU/EEA"));
    if (!count_transfers(p)) {
        p_open(w);
        t(w, "%s",
          L(w,
            "Jūsu personas datus nenosūtām uz valstīm ārpus Eiropas Savienības un Eiropas "
            "Ekonomikas zonas, ne arī starptautiskām organizācijām.",
            "We do not transfer your personal data to countries outside the European "
            "Union and the European Economic Area, nor to international "
            "organisations."));
        p_close(w);
        section_close(w);
        return;
    }
    ul_open(w);
    for (size_t i = 0; i < p->nrecipients; i++) {
        const struct sg_recipient *r = &p->recipients[i];
        if (!r->third_country)
            continue;
        li_open(w);
        strong(w, sg_text_any(&r->name, w->lang));
        t(w, " (%s) — %s %s", words_country(r->country, w->lang), L(w, "garantija:", "safeguard:"),
          safeguard_text(w, r->safeguard));
        if (r->safeguard_text.n) {
            raw(w, ": ");
            tx(w, &r->safeguard_text);
        } else {
            raw(w, ".");
        }
        raw(w, " ");
        if (r->safeguard_copy.n)
            tx(w, &r->safeguard_copy);
        else
            t(w, "%s",
              L(w,
                "Garantiju kopiju varat pieprasīt, izmantojot 1. sadaļā norādīto "
                "kontaktinformāciju.",
                "You can ask for a copy of the safeguards using the contact details in "
                "section 1."));
        li_close(w);
    }
    ul_close(w);
    section_close(w);
}

static void sec_retention(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "retention", num, L(w, "Cik ilgi glabājam datus", "How long we keep data"));
    ul_open(w);
    for (size_t i = 0; i < p->nretention; i++) {
        li_open(w);
        w->cur_p = p;
        w->cur_item = &p->retention[i];
        wb(w, fill_retention);
        li_close(w);
    }
    ul_close(w);
    p_open(w);
    t(w, "%s",
      L(w,
        "Kad datu glabāšanas pamats beidzas, datus dzēšam vai anonimizējam; anonīmus datus "
        "varam izmantot statistikai.",
        "When there is no longer a reason to keep the data, we delete or anonymise them; "
        "anonymous data may be used for statistics."));
    p_close(w);
    section_close(w);
}

static void sec_rights(struct w *w, const struct sg_policy *p, int num)
{
    int eu = p->regulation == SG_REG_EUDPR;
    section_open(w, "rights", num, L(w, "Jūsu tiesības", "Your rights"));
    p_open(w);
    t(w, "%s", L(w, "Jums ir tiesības:", "You have the right:"));
    p_close(w);
    ul_open(w);
    struct {
        const char *lv, *en;
        int gdpr, eudpr;
    } r[] = {
        {"piekļūt saviem personas datiem un saņemt to kopiju",
         "to access your personal data and "
         "obtain a copy",
         15, 17},
        {"labot neprecīzus datus un papildināt nepilnīgus",
         "to have inaccurate data rectified "
         "and incomplete data completed",
         16, 18},
        {"uz datu dzēšanu jeb tiesības „tikt aizmirstam”", "to erasure (“to be forgotten”)", 17,
         19},
        {"ierobežot apstrādi", "to restriction of processing", 18, 20},
        {"uz datu pārnesamību — saņemt datus, ko esat mums sniedzis, plaši izmantotā "
         "mašīnlasāmā formātā un nodot tos citam pārzinim",
         "to data portability — to receive the data you gave us in a commonly used "
         "machine-readable format and to have them transmitted to another controller",
         20, 22},
        {"iebilst pret apstrādi, kas pamatota ar leģitīmajām interesēm vai sabiedrības "
         "interesēm, un jebkurā laikā — pret tiešo tirgvedību",
         "to object to processing based on legitimate interests or the public interest, and at "
         "any time to direct marketing",
         21, 23},
        {"netikt pakļautam lēmumam, kura pamatā ir tikai automatizēta apstrāde un kas jums rada "
         "tiesiskas sekas vai līdzīgi būtiski ietekmē, un lūgt, lai to pārskata cilvēks",
         "not to be subject to a decision based solely on automated processing that produces "
         "legal effects concerning you or similarly significantly affects you, and to ask for a "
         "person to review it",
         22, 24},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        li_open(w);
        t(w, w->lv ? "%s (%d. pants);" : "%s (Art. %d);", w->lv ? r[i].lv : r[i].en,
          eu ? r[i].eudpr : r[i].gdpr);
        li_close(w);
    }
    li_open(w);
    t(w, "%s",
      L(w,
        "jebkurā laikā atsaukt piekrišanu, neietekmējot tādas apstrādes likumīgumu, kuras "
        "pamatā ir pirms atsaukuma sniegta piekrišana (7. panta 3. punkts).",
        "to withdraw consent at any time, without affecting the lawfulness of processing "
        "based on consent before its withdrawal (Art. 7(3))."));
    li_close(w);
    ul_close(w);
    p_open(w);
    t(w, "%s",
      L(w,
        "Par datu labošanu, dzēšanu vai apstrādes ierobežošanu paziņojam arī tiem "
        "saņēmējiem, kuriem datus esam izpauduši. Kā izmantot šīs tiesības, skatiet "
        "sadaļā „Kā izmantot savas tiesības”.",
        "We tell the recipients to whom the data were disclosed about any rectification, "
        "erasure or restriction. How to exercise these rights is explained under “How to "
        "exercise your rights”."));
    p_close(w);
    section_close(w);
}

static void sec_withdraw(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "withdraw-consent", num, L(w, "Piekrišanas atsaukšana", "Withdrawing consent"));
    p_open(w);
    if (!uses_consent(p)) {
        t(w, "%s",
          L(w, "Neviena no mūsu apstrādes darbībām nav pamatota ar jūsu piekrišanu.",
            "None of our processing rests on your consent."));
        p_close(w);
        section_close(w);
        return;
    }
    t(w, "%s",
      L(w,
        "Ja apstrāde pamatota ar jūsu piekrišanu, varat to atsaukt jebkurā laikā tikpat "
        "viegli, kā to devāt. Atsaukšana neietekmē apstrādes likumīgumu pirms "
        "atsaukšanas.",
        "Where processing rests on your consent, you may withdraw it at any time, as "
        "easily as you gave it. Withdrawal does not affect the lawfulness of processing "
        "before it."));
    p_close(w);
    ul_open(w);
    for (size_t i = 0; i < p->npurposes; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        if (u->basis != SG_BASIS_CONSENT)
            continue;
        li_open(w);
        strong(w, sg_text_any(&u->name, w->lang));
        raw(w, ": ");
        tx(w, &u->consent.withdrawal);
        li_close(w);
    }
    ul_close(w);
    section_close(w);
}

static void sec_complaint(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "complaint", num,
                 L(w, "Tiesības iesniegt sūdzību", "Right to lodge a complaint"));
    p_open(w);
    t(w, "%s",
      L(w,
        "Ja uzskatāt, ka jūsu personas datu apstrāde pārkāpj tiesību aktus, jums ir "
        "tiesības iesniegt sūdzību uzraudzības iestādei, jo īpaši tajā dalībvalstī, kurā "
        "ir jūsu pastāvīgā dzīvesvieta, darbavieta vai iespējamā pārkāpuma vieta.",
        "If you consider that the processing of your personal data infringes the law, you "
        "have the right to lodge a complaint with a supervisory authority, in particular "
        "in the Member State of your habitual residence, place of work or place of the "
        "alleged infringement."));
    p_close(w);
    ul_open(w);
    /* Each distinct authority once, with the controllers it supervises. */
    for (size_t i = 0; i < p->ncontrollers; i++) {
        const struct sg_contact *a = p->controllers[i].authority;
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= p->controllers[k].authority == a;
        if (dup)
            continue;
        li_open(w);
        strong(w, sg_text_any(&a->name, w->lang));
        if (p->ncontrollers > 1) {
            t(w, " (%s ", L(w, "uzrauga:", "supervises:"));
            int first = 1;
            for (size_t k = i; k < p->ncontrollers; k++) {
                if (p->controllers[k].authority != a)
                    continue;
                if (!first)
                    raw(w, ", ");
                first = 0;
                tx(w, &p->controllers[k].contact.name);
            }
            raw(w, ")");
        }
        raw(w, ": ");
        contact_line(w, a);
        raw(w, ".");
        li_close(w);
    }
    if (!p->ncontrollers) {
        li_open(w);
        strong(w, sg_text_any(&p->authority.name, w->lang));
        raw(w, ": ");
        contact_line(w, &p->authority);
        li_close(w);
    }
    ul_close(w);
    section_close(w);
}

static void sec_requirement(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "requirement", num,
                 L(w, "Vai datu sniegšana ir obligāta", "Whether you must provide data"));
    ul_open(w);
    for (size_t i = 0; i < p->npurposes; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        li_open(w);
        strong(w, sg_text_any(&u->name, w->lang));
        t(w, ": %s.", requirement_text(w, u->requirement));
        if (u->if_not_provided.n) {
            raw(w, " ");
            tx(w, &u->if_not_provided);
        }
        li_close(w);
    }
    ul_close(w);
    int any = 0;
    for (size_t i = 0; i < p->catalog.n; i++)
        any |= p->catalog.cats[i].required;
    if (any) {
        p_open(w);
        t(w, "%s ", L(w, "Obligāti sniedzamie dati:", "Data you must provide:"));
        int first = 1;
        for (size_t i = 0; i < p->catalog.n; i++) {
            if (!p->catalog.cats[i].required)
                continue;
            if (!first)
                raw(w, ", ");
            first = 0;
            tx(w, &p->catalog.cats[i].name);
        }
        raw(w, ".");
        p_close(w);
    }
    section_close(w);
}

static void sec_automated(struct w *w, const struct sg_policy *p, int num)
{
    section_open(
        w, "automated", num,
        L(w, "Automatizēta lēmumu pieņemšana un profilēšana", "Automated decisions and profiling"));
    int any = 0;
    ul_open(w);
    for (size_t i = 0; i < p->npurposes; i++) {
        const struct sg_purpose *u = &p->purposes[i];
        for (size_t k = 0; k < u->nautomated; k++) {
            const struct sg_automated *a = &u->automated[k];
            any = 1;
            li_open(w);
            strong(w, sg_text_any(&u->name, w->lang));
            raw(w, ": ");
            tx(w, &a->description);
            if (a->logic.n) {
                t(w, " %s ", L(w, "Loģika:", "Logic:"));
                tx(w, &a->logic);
            }
            if (a->consequences.n) {
                t(w, " %s ", L(w, "Nozīme un sekas:", "Significance and consequences:"));
                tx(w, &a->consequences);
            }
            t(w, " %s",
              a->significant ? L(w,
                                 "Šim lēmumam ir tiesiskas sekas vai līdzīgi būtiska ietekme uz "
                                 "jums.",
                                 "This decision has legal or similarly significant effects on you.")
                             : L(w, "Tam nav tiesisku seku un līdzīgi būtiskas ietekmes uz jums.",
                                 "It has no legal or similarly significant effects on you."));
            if (a->human_review)
                t(w, " %s",
                  L(w,
                    "Varat lūgt, lai lēmumu pārskata mūsu darbinieks, izteikt savu "
                    "viedokli un apstrīdēt lēmumu.",
                    "You may ask for one of our staff to review the decision, express "
                    "your point of view and contest it."));
            li_close(w);
        }
        if (u->profiling) {
            any = 1;
            li_open(w);
            t(w,
              w->lv ? "Apstrāde nolūkā „%s” ietver profilēšanu."
                    : "Processing for “%s” involves profiling.",
              sg_text_any(&u->name, w->lang));
            li_close(w);
        }
    }
    ul_close(w);
    if (!any) {
        p_open(w);
        t(w, "%s",
          L(w,
            "Mēs nepieņemam lēmumus, kuru pamatā ir tikai automatizēta apstrāde, tostarp "
            "profilēšana, un kas jums radītu tiesiskas sekas vai līdzīgi būtiski "
            "ietekmētu.",
            "We make no decisions based solely on automated processing, including "
            "profiling, that produce legal effects concerning you or similarly "
            "significantly affect you."));
        p_close(w);
    }
    section_close(w);
}

static void sec_cookies(struct w *w, const struct sg_policy *p, int num)
{
    section_open(w, "cookies", num, L(w, "Sīkdatnes", "Cookies"));
    if (!p->ncookies) {
        p_open(w);
        t(w, "%s", L(w, "Mēs neizmantojam sīkdatnes.", "We do not use cookies."));
        p_close(w);
        section_close(w);
        return;
    }
    ul_open(w);
    int marketing = 0;
    for (size_t i = 0; i < p->ncookies; i++) {
        const struct sg_cookie *c = &p->cookies[i];
        marketing |= c->kind == SG_COOKIE_MARKETING;
        li_open(w);
        strong(w, sg_text_any(&c->name, w->lang));
        t(w, " — %s: ", cookie_kind_text(w, c->kind));
        tx(w, &c->purpose);
        t(w, "; %s %s", L(w, "tiesiskais pamats:", "legal basis:"),
          words_basis_short(c->basis, w->lang));
        t(w, "; %s ", L(w, "glabā", "kept"));
        if (c->session) {
            t(w, "%s", L(w, "līdz pārlūka aizvēršanai", "until the browser is closed"));
        } else {
            t(w, "%s", L(w, "", "for "));
            w->cur_dur = &c->lifetime;
            wb(w, fill_dur_acc);
        }
        if (c->provider) {
            t(w, "; %s ", L(w, "iestata", "set by"));
            tx(w, &c->provider->name);
        }
        raw(w, ".");
        li_close(w);
    }
    ul_close(w);
    p_open(w);
    if (marketing)
        t(w, "%s ",
          L(w, "Mārketinga sīkdatnes izmantojam tikai ar jūsu piekrišanu.",
            "We use marketing cookies only with your consent."));
    t(w, "%s",
      L(w, "Sīkdatnes varat dzēst vai bloķēt pārlūkprogrammas iestatījumos.",
        "You can delete or block cookies in your browser's settings."));
    p_close(w);
    section_close(w);
}

static void sec_requests(struct w *w, const struct sg_policy *p, int num)
{
    const struct sg_request_rules *rq = &p->requests;
    section_open(w, "requests", num,
                 L(w, "Kā izmantot savas tiesības", "How to exercise your rights"));
    p_open(w);
    t(w, "%s ", L(w, "Pieprasījumu varat iesniegt:", "You can make a request:"));
    contact_line(w, &rq->contact);
    raw(w, ".");
    p_close(w);
    ul_open(w);
    for (size_t i = 0; i < rq->nchannels; i++) {
        const struct sg_channel *c = &rq->channels[i];
        li_open(w);
        if (c->name.n)
            tx(w, &c->name);
        else
            t(w, "%s", channel_text(w, c->id));
        if (!c->identity)
            t(w, " — %s",
              L(w,
                "šādi iesniegts pieprasījums jūs neidentificē, tāpēc lūgsim apstiprināt "
                "jūsu identitāti",
                "this does not identify you, so we will ask you to confirm your "
                "identity"));
        if (c->note.n) {
            raw(w, " (");
            tx(w, &c->note);
            raw(w, ")");
        }
        li_close(w);
    }
    ul_close(w);
    p_open(w);
    t(w, "%s",
      L(w,
        "Atbildi sniedzam bez nepamatotas kavēšanās, ne vēlāk kā viena mēneša laikā no "
        "pieprasījuma saņemšanas. Ja pieprasījumi ir sarežģīti vai to ir daudz, šo "
        "termiņu var pagarināt vēl par diviem mēnešiem; par to un kavējuma iemesliem jūs "
        "informējam pirmā mēneša laikā. ",
        "We answer without undue delay and at the latest within one month of receiving "
        "the request. Where requests are complex or numerous, this may be extended by two "
        "further months; we tell you so, with the reasons, within the first month. "));
    if (rq->answer == SG_ANSWER_ELECTRONIC)
        t(w, "%s ",
          L(w, "Atbildi, ja iespējams, sniedzam elektroniski.",
            "We answer electronically where possible."));
    else
        t(w, "%s ",
          L(w,
            "Atbildi sniedzam tādā pašā veidā, kādā saņēmām pieprasījumu, ja vien nelūdzat "
            "citādi; ja pieprasījumu iesniedzat elektroniski, atbildi, ja iespējams, "
            "sniedzam elektroniski.",
            "We answer the way the request reached us unless you ask otherwise; if you "
            "ask electronically, we answer electronically where possible."));
    if (rq->extra_copy_fee_cents)
        t(w,
          w->lv ? "Datu pirmā kopija ir bez maksas; par katru nākamo kopiju maksa ir %lld.%02lld "
                  "%s. "
                : "The first copy of your data is free; each further copy costs %lld.%02lld %s. ",
          (long long)(rq->extra_copy_fee_cents / 100), (long long)(rq->extra_copy_fee_cents % 100),
          rq->currency);
    else
        t(w, "%s ", L(w, "Datu kopijas ir bez maksas.", "Copies of your data are free of charge."));
    t(w, "%s ",
      L(w, "Identisku pieprasījumu, ko atkārtojat",
        "We may refuse an identical request "
        "repeated within"));
    w->cur_dur = &rq->identical_within;
    wb(w, w->lv ? fill_dur_gen : fill_dur_acc);
    t(w, "%s",
      L(w, " laikā, ja dati kopš tā laika nav mainījušies, varam atteikt.",
        " if the data have not changed since."));
    p_close(w);
    section_close(w);
}

static void sec_changes(struct w *w, const struct sg_policy *p, int num, sg_time effective)
{
    char date[WORDS_DATE_MAX];
    section_open(w, "changes", num, L(w, "Izmaiņas paziņojumā", "Changes to this notice"));
    p_open(w);
    if (p->changes.n) {
        tx(w, &p->changes);
        raw(w, " ");
    }
    t(w,
      w->lv ? "Šī paziņojuma versija stājas spēkā %s; tās kods ir %.16s. Iepriekšējās versijas "
              "glabājam un pēc pieprasījuma izsniedzam."
            : "This version of the notice takes effect on %s; its code is %.16s. We keep earlier "
              "versions and provide them on request.",
      words_date_case(effective, w->lang, 1, date), p->hash);
    p_close(w);
    section_close(w);
}

/* ------------------------------------------------------------------ render */

enum sg_rc sg_notice_render(const struct sg_policy *p, const struct sg_notice_opts *o,
                            struct sg_buf *out, struct sg_err *err)
{
    if (!o || !o->lang || !policy_lang_supported(o->lang))
        return sg_err_set(err, SG_INVALID, "no notice wording for language '%s' (lv or en)",
                          o && o->lang ? o->lang : "");
    if (!sg_policy_has_language(p, o->lang))
        return sg_err_set(err, SG_INVALID, "'%s' is not a language of the policy", o->lang);
    if (o->format != SG_FORMAT_MARKDOWN && o->format != SG_FORMAT_HTML)
        return sg_err_set(err, SG_INVALID, "a notice is written in markdown or html");
    sg_buf_reset(out);
    struct w w;
    memset(&w, 0, sizeof w);
    w.out = out;
    w.fmt = o->format;
    w.lang = o->lang;
    w.lv = words_lv(o->lang);
    w.err = err;
    sg_buf_init(&w.tmp, SG_POLICY_MAX_BYTES);
    sg_time effective = o->effective ? o->effective : p->has_effective ? p->effective : o->now;

    if (w.fmt == SG_FORMAT_HTML) {
        raw(&w, "<!DOCTYPE html>\n<html lang=\"");
        raw(&w, w.lv ? "lv" : "en");
        raw(&w, "\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
        esc(&w, L(&w, "Privātuma paziņojums", "Privacy notice"));
        raw(&w, " — ");
        tx(&w, &p->title);
        raw(&w, "</title>\n<meta name=\"sargs-policy-version\" content=\"");
        raw(&w, p->hash);
        raw(&w, "\">\n<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;"
                "line-height:1.5;padding:0 1em}summary h2{display:inline}"
                "details.section{margin:1em 0}</style>\n</head>\n<body>\n<main>\n");
    }
    int n = 1;
    intro(&w, p, effective);
    summary(&w, p);
    heading(&w, 2, "details", L(&w, "Sīkāka informācija", "In detail"));
    sec_controllers(&w, p, n++);
    sec_dpo(&w, p, n++);
    sec_purposes(&w, p, n++);
    sec_legitimate(&w, p, n++);
    sec_categories(&w, p, n++);
    sec_recipients(&w, p, n++);
    sec_transfers(&w, p, n++);
    sec_retention(&w, p, n++);
    sec_rights(&w, p, n++);
    sec_withdraw(&w, p, n++);
    sec_complaint(&w, p, n++);
    sec_requirement(&w, p, n++);
    sec_automated(&w, p, n++);
    sec_cookies(&w, p, n++);
    sec_requests(&w, p, n++);
    sec_changes(&w, p, n++, effective);
    if (w.fmt == SG_FORMAT_HTML)
        raw(&w, "</main>\n</body>\n</html>\n");
    sg_buf_release(&w.tmp);
    return w.rc;
}
