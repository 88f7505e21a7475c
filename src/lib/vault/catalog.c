/*
 * catalog.c - category look-up and value normalisation.
 *
 * Normalisation decides what a look-up matches, so it is deliberately
 * conservative: it only removes what cannot carry meaning (surrounding
 * blanks, separators in phone numbers and personal codes, case in e-mail
 * addresses and codes). Everything else about a value is checked, not fixed.
 */
#include "sargs/catalog.h"
#include "sargs/clock.h"
#include "sargs/text.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

const struct sg_category *sg_catalog_find(const struct sg_catalog *cat, const char *name)
{
    for (size_t i = 0; i < cat->n; i++)
        if (strcmp(cat->cats[i].id, name) == 0 ||
            (cat->cats[i].alias && strcmp(cat->cats[i].alias, name) == 0))
            return &cat->cats[i];
    return NULL;
}

const char *sg_vtype_name(enum sg_vtype t)
{
    switch (t) {
    case SG_VT_TEXT:
        return "text";
    case SG_VT_LINE:
        return "line";
    case SG_VT_EMAIL:
        return "email";
    case SG_VT_PHONE:
        return "phone";
    case SG_VT_PERSONAL_CODE:
        return "personal_code";
    case SG_VT_COUNTRY:
        return "country";
    case SG_VT_LANGUAGE:
        return "language";
    case SG_VT_DATE:
        return "date";
    case SG_VT_IP:
        return "ip";
    case SG_VT_URL:
        return "url";
    }
    return "?";
}

int sg_vtype_from_name(const char *name)
{
    for (int t = SG_VT_TEXT; t <= SG_VT_URL; t++)
        if (strcmp(sg_vtype_name((enum sg_vtype)t), name) == 0)
            return t;
    return -1;
}

/* ISO 3166-1 alpha-2, officially assigned codes. */
static const char iso3166[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW";

/* The EU member states, Iceland, Liechtenstein and Norway. */
static const char eea[] =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL "
    "PT RO SE SI SK";

static int in_list(const char *list, size_t size, const char *code)
{
    if (!code || strlen(code) != 2)
        return 0;
    for (size_t i = 0; i + 1 < size; i += 3)
        if (list[i] == code[0] && list[i + 1] == code[1])
            return 1;
    return 0;
}

int sg_country_valid(const char *code)
{
    return in_list(iso3166, sizeof iso3166, code);
}

int sg_country_in_eea(const char *code)
{
    return in_list(eea, sizeof eea, code);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static void trim(const char **s, size_t *len)
{
    while (*len && is_space((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static enum sg_rc bad(struct sg_err *err, const struct sg_category *c, const char *why)
{
    return sg_err_set(err, SG_INVALID, "invalid %s for '%s': %s", sg_vtype_name(c->type), c->id,
                      why);
}

static int email_local_ok(const char *s, size_t n)
{
    static const char special[] = "!#$%&'*+-/=?^_`{|}~.";
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' && i + 1 < n && s[i + 1] == '.')
            return 0;
        if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || (c && strchr(special, c)))
            continue;
        return 0;
    }
    return 1;
}

static int email_domain_ok(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    size_t start = 0, labels = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            unsigned char c = (unsigned char)s[i];
            if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-'))
                return 0;
            continue;
        }
        size_t l = i - start;
        if (l == 0 || l > 63 || s[start] == '-' || s[i - 1] == '-')
            return 0;
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

static enum sg_rc norm_email(const struct sg_category *c, const char *s, size_t n,
                             struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    const char *at = NULL;
    if (n > 254)
        return bad(err, c, "longer than 254 characters");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '@') {
            if (at)
                return bad(err, c, "more than one '@'");
            at = s + i;
        }
    }
    if (!at)
        return bad(err, c, "no '@'");
    size_t ln = (size_t)(at - s);
    if (!email_local_ok(s, ln))
        return bad(err, c, "malformed part before '@'");
    if (!email_domain_ok(at + 1, n - ln - 1))
        return bad(err, c, "malformed domain");
    enum sg_rc rc = sg_buf_add(stored, s, n, err);
    if (rc || !ix)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        char l = lower(s[i]);
        rc = sg_buf_add(ix, &l, 1, err);
    }
    return rc;
}

static enum sg_rc norm_phone(const struct sg_catalog *cat, const struct sg_category *c,
                             const char *s, size_t n, struct sg_buf *stored, struct sg_buf *ix,
                             struct sg_err *err)
{
    char digits[32];
    size_t nd = 0;
    size_t i = 0;
    int international = 0;
    if (n && s[0] == '+') {
        international = 1;
        i = 1;
    } else if (n >= 2 && s[0] == '0' && s[1] == '0') {
        international = 1;
        i = 2;
    }
    for (; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') {
            if (nd >= 20)
                return bad(err, c, "too many digits");
            digits[nd++] = ch;
        } else if (ch == ' ' || ch == '-' || ch == '(' || ch == ')' || ch == '.' || ch == '/') {
            continue;
        } else {
            return bad(err, c, "only digits, '+', spaces and - ( ) . / are allowed");
        }
    }
    char out[40];
    size_t on = 0;
    out[on++] = '+';
    if (!international) {
        if (nd < 6)
            return bad(err, c, "too few digits");
        size_t cl = strlen(cat->phone_country);
        memcpy(out + on, cat->phone_country, cl);
        on += cl;
    }
    memcpy(out + on, digits, nd);
    on += nd;
    /* E.164: at most 15 digits after '+'; nothing real is shorter than 7. */
    if (on - 1 < 7)
        return bad(err, c, "too few digits");
    if (on - 1 > 15)
        return bad(err, c, "more than 15 digits");
    if (out[1] == '0')
        return bad(err, c, "a country code cannot start with 0");
    enum sg_rc rc = sg_buf_add(stored, out, on, err);
    if (!rc && ix)
        rc = sg_buf_add(ix, out, on, err);
    return rc;
}

static enum sg_rc norm_code(const struct sg_category *c, const char *s, size_t n,
                            struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    char out[32];
    size_t on = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') {
            if (on >= 20)
                return bad(err, c, "more than 20 digits");
            out[on++] = ch;
        } else if (ch != '-' && ch != ' ') {
            return bad(err, c, "only digits, '-' and spaces are allowed");
        }
    }
    if (on < 6)
        return bad(err, c, "fewer than 6 digits");
    enum sg_rc rc = sg_buf_add(stored, out, on, err);
    if (!rc && ix)
        rc = sg_buf_add(ix, out, on, err);
    return rc;
}

static enum sg_rc norm_country(const struct sg_category *c, const char *s, size_t n,
                               struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    if (n != 2)
        return bad(err, c, "expected a two-letter ISO 3166-1 code");
    char code[3] = {upper(s[0]), upper(s[1]), 0};
    if (!sg_country_valid(code))
        return bad(err, c, "not an ISO 3166-1 alpha-2 country code");
    enum sg_rc rc = sg_buf_add(stored, code, 2, err);
    if (!rc && ix)
        rc = sg_buf_add(ix, code, 2, err);
    return rc;
}

static enum sg_rc norm_language(const struct sg_category *c, const char *s, size_t n,
                                struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    char code[4];
    if (n < 2 || n > 3)
        return bad(err, c, "expected an ISO 639 code such as 'lv' or 'en'");
    for (size_t i = 0; i < n; i++) {
        code[i] = lower(s[i]);
        if (code[i] < 'a' || code[i] > 'z')
            return bad(err, c, "expected an ISO 639 code such as 'lv' or 'en'");
    }
    enum sg_rc rc = sg_buf_add(stored, code, n, err);
    if (!rc && ix)
        rc = sg_buf_add(ix, code, n, err);
    return rc;
}

static enum sg_rc norm_date(const struct sg_category *c, const char *s, size_t n,
                            struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    char tmp[11];
    sg_time t;
    if (n != 10)
        return bad(err, c, "expected YYYY-MM-DD");
    memcpy(tmp, s, 10);
    tmp[10] = '\0';
    if (sg_time_parse(tmp, &t, NULL) != SG_OK)
        return bad(err, c, "expected YYYY-MM-DD");
    enum sg_rc rc = sg_buf_add(stored, tmp, 10, err);
    if (!rc && ix)
        rc = sg_buf_add(ix, tmp, 10, err);
    return rc;
}

static enum sg_rc norm_ip(const struct sg_category *c, const char *s, size_t n,
                          struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    char in[INET6_ADDRSTRLEN + 1], out[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];
    if (n >= sizeof in)
        return bad(err, c, "too long for an IP address");
    memcpy(in, s, n);
    in[n] = '\0';
    /* inet_pton refuses leading zeros in IPv4 (which some read as octal) and
     * zone ids; inet_ntop gives the canonical (RFC 5952) IPv6 form. */
    int af = memchr(in, ':', n) ? AF_INET6 : AF_INET;
    if (inet_pton(af, in, bin) != 1 || !inet_ntop(af, bin, out, sizeof out))
        return bad(err, c, af == AF_INET6 ? "not an IPv6 address" : "not an IPv4 address");
    size_t on = strlen(out);
    enum sg_rc rc = sg_buf_add(stored, out, on, err);
    if (!rc && ix)
        rc = sg_buf_add(ix, out, on, err);
    return rc;
}

static enum sg_rc norm_url(const struct sg_category *c, const char *s, size_t n,
                           struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    size_t skip;
    if (n > 2048)
        return bad(err, c, "longer than 2048 characters");
    if (n > 7 && strncasecmp(s, "http://", 7) == 0)
        skip = 7;
    else if (n > 8 && strncasecmp(s, "https://", 8) == 0)
        skip = 8;
    else
        return bad(err, c, "expected an http:// or https:// address");
    size_t host_end = skip;
    while (host_end < n && s[host_end] != '/' && s[host_end] != '?' && s[host_end] != '#')
        host_end++;
    if (host_end == skip)
        return bad(err, c, "no host");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_ctl(ch) || ch == ' ')
            return bad(err, c, "spaces or control characters are not allowed");
    }
    /* The scheme and host are case-insensitive: lower them so that a
     * look-up matches; the path is kept as given. */
    enum sg_rc rc = SG_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char ch = i < host_end ? lower(s[i]) : s[i];
        rc = sg_buf_add(stored, &ch, 1, err);
        if (!rc && ix)
            rc = sg_buf_add(ix, &ch, 1, err);
    }
    return rc;
}

static enum sg_rc norm_text(const struct sg_category *c, const char *s, size_t n, int one_line,
                            struct sg_buf *stored, struct sg_buf *ix, struct sg_err *err)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_ctl(ch) && (one_line || (ch != '\n' && ch != '\t' && ch != '\r')))
            return bad(err, c,
                       one_line ? "control characters or line breaks are not allowed"
                                : "control characters are not allowed");
    }
    enum sg_rc rc = sg_buf_add(stored, s, n, err);
    if (rc || !ix)
        return rc;
    /* Look-ups on free text ignore ASCII case only; anything wider would need
     * Unicode case folding, which this index does not promise. */
    for (size_t i = 0; i < n && !rc; i++) {
        char l = lower(s[i]);
        rc = sg_buf_add(ix, &l, 1, err);
    }
    return rc;
}

static enum sg_rc normalise(const struct sg_catalog *cat, const struct sg_category *c,
                            const char *in, size_t len, struct sg_buf *stored, struct sg_buf *ix,
                            struct sg_err *err)
{
    size_t limit = c->max_size && c->max_size < cat->max_value ? c->max_size : cat->max_value;
    if (len > limit)
        return sg_err_set(err, SG_TOOBIG, "value for '%s' is over the limit of %zu bytes", c->id,
                          limit);
    if (!sg_utf8_valid(in, len))
        return sg_err_set(err, SG_INVALID, "value for '%s' is not valid UTF-8", c->id);
    sg_buf_reset(stored);
    if (ix)
        sg_buf_reset(ix);
    const char *s = in;
    size_t n = len;
    if (c->type != SG_VT_TEXT)
        trim(&s, &n);
    if (n == 0)
        return sg_err_set(err, SG_INVALID, "value for '%s' is empty", c->id);
    switch (c->type) {
    case SG_VT_TEXT:
        return norm_text(c, s, n, 0, stored, ix, err);
    case SG_VT_LINE:
        return norm_text(c, s, n, 1, stored, ix, err);
    case SG_VT_EMAIL:
        return norm_email(c, s, n, stored, ix, err);
    case SG_VT_PHONE:
        return norm_phone(cat, c, s, n, stored, ix, err);
    case SG_VT_PERSONAL_CODE:
        return norm_code(c, s, n, stored, ix, err);
    case SG_VT_COUNTRY:
        return norm_country(c, s, n, stored, ix, err);
    case SG_VT_LANGUAGE:
        return norm_language(c, s, n, stored, ix, err);
    case SG_VT_DATE:
        return norm_date(c, s, n, stored, ix, err);
    case SG_VT_IP:
        return norm_ip(c, s, n, stored, ix, err);
    case SG_VT_URL:
        return norm_url(c, s, n, stored, ix, err);
    }
    return sg_err_set(err, SG_INTERNAL, "unknown value type");
}

enum sg_rc sg_value_normalise(const struct sg_catalog *cat, const struct sg_category *c,
                              const char *in, size_t len, struct sg_buf *stored,
                              struct sg_buf *index_form, struct sg_err *err)
{
    return normalise(cat, c, in, len, stored, index_form, err);
}

enum sg_rc sg_value_index_form(const struct sg_catalog *cat, const struct sg_category *c,
                               const char *in, size_t len, struct sg_buf *index_form,
                               struct sg_err *err)
{
    struct sg_buf scratch;
    sg_buf_init(&scratch, cat->max_value + 64);
    enum sg_rc rc = normalise(cat, c, in, len, &scratch, index_form, err);
    sg_buf_release(&scratch);
    return rc;
}
