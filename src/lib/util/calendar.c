/*
 * calendar.c - time zones from TZif data, working days, public holidays,
 * and request deadlines; see sargs/calendar.h.
 */
#include "sargs/calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- time zones */

/* A POSIX TZ rule date "Mm.w.d/time". */
struct rule_date {
    int month, week, wday;
    int32_t secs; /* local time of the change, seconds */
};

struct sg_tz {
    int64_t *when; /* transitions, UTC seconds */
    uint8_t *type; /* index into off[] for each */
    int32_t *off;  /* offsets of the types */
    size_t n, ntypes;
    int32_t before; /* offset before the first transition */
    /* the footer rule, for instants beyond the table */
    int has_rule, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    struct rule_date start, end;
};

void sg_tz_free(struct sg_tz *tz)
{
    if (!tz)
        return;
    free(tz->when);
    free(tz->type);
    free(tz->off);
    free(tz);
}

static int64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static int32_t be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* POSIX TZ parsing: names, offsets ("-2" means UTC+2), rule dates. */
static const char *tz_name(const char *s)
{
    if (*s == '<') {
        const char *e = strchr(s, '>');
        return e ? e + 1 : NULL;
    }
    const char *b = s;
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    return s - b >= 3 ? s : NULL;
}

static const char *tz_hms(const char *s, int32_t *out)
{
    int sign = 1, h = 0, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (*s < '0' || *s > '9')
        return NULL;
    while (*s >= '0' && *s <= '9')
        h = h * 10 + (*s++ - '0');
    if (*s == ':') {
        s++;
        while (*s >= '0' && *s <= '9')
            m = m * 10 + (*s++ - '0');
        if (*s == ':') {
            s++;
            while (*s >= '0' && *s <= '9')
                sec = sec * 10 + (*s++ - '0');
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *tz_date(const char *s, struct rule_date *d)
{
    if (*s != 'M' || sscanf(s, "M%d.%d.%d", &d->month, &d->week, &d->wday) != 3)
        return NULL; /* only the Mm.w.d form, the one the zones use */
    s++;
    while (*s && *s != '/' && *s != ',')
        s++;
    d->secs = 7200;
    if (*s == '/' && !(s = tz_hms(s + 1, &d->secs)))
        return NULL;
    return d->month >= 1 && d->month <= 12 && d->week >= 1 && d->week <= 5 && d->wday >= 0 &&
                   d->wday <= 6
               ? s
               : NULL;
}

static int parse_rule(struct sg_tz *tz, const char *s)
{
    int32_t o;
    if (!(s = tz_name(s)) || !(s = tz_hms(s, &o)))
        return -1;
    tz->std_off = -o;
    tz->has_rule = 1;
    if (!*s)
        return 0;
    if (!(s = tz_name(s)))
        return -1;
    tz->dst_off = tz->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = tz_hms(s, &o)))
            return -1;
        tz->dst_off = -o;
    }
    if (*s++ != ',' || !(s = tz_date(s, &tz->start)) || *s++ != ',' || !(s = tz_date(s, &tz->end)))
        return -1;
    tz->has_dst = 1;
    return 0;
}

enum sg_rc sg_tz_load(const char *name, struct sg_tz **out, struct sg_err *err)
{
    *out = NULL;
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || name[0] == '/' || strstr(name, ".."))
        return sg_err_set(err, SG_INVALID, "'%.64s' is not a time zone name", name ? name : "");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return sg_err_set(err, SG_INVALID, "'%.64s' is not a time zone name", name);
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_err_set(err, SG_NOTFOUND, "time zone '%s' is not on this system (tzdata)", name);
    static uint8_t buf[1 << 17];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct sg_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    /* v1 header, skipped; then the v2 header with 64-bit data. */
    int32_t c[6];
    size_t o = 0;
    if (len < 44 || memcmp(buf, "TZif", 4) != 0 || buf[4] < '2')
        goto bad;
    for (int i = 0; i < 6; i++)
        c[i] = be32(buf + 20 + 4 * i);
    o = 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + (size_t)c[5] + (size_t)c[2] * 8 + (size_t)c[1] +
        (size_t)c[0];
    if (o + 44 > len || memcmp(buf + o, "TZif", 4) != 0)
        goto bad;
    for (int i = 0; i < 6; i++)
        c[i] = be32(buf + o + 20 + 4 * i);
    o += 44;
    size_t timecnt = (size_t)c[3], typecnt = (size_t)c[4], charcnt = (size_t)c[5];
    size_t need =
        timecnt * 9 + typecnt * 6 + charcnt + (size_t)c[2] * 12 + (size_t)c[1] + (size_t)c[0];
    if (c[3] < 0 || c[4] <= 0 || typecnt > 256 || o + need > len)
        goto bad;
    tz->n = timecnt;
    tz->ntypes = typecnt;
    tz->when = calloc(timecnt ? timecnt : 1, sizeof *tz->when);
    tz->type = calloc(timecnt ? timecnt : 1, 1);
    tz->off = calloc(typecnt, sizeof *tz->off);
    if (!tz->when || !tz->type || !tz->off) {
        sg_tz_free(tz);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < timecnt; i++)
        tz->when[i] = be64(buf + o + 8 * i);
    o += timecnt * 8;
    for (size_t i = 0; i < timecnt; i++) {
        tz->type[i] = buf[o + i];
        if (tz->type[i] >= typecnt)
            goto bad;
    }
    o += timecnt;
    for (size_t i = 0; i < typecnt; i++)
        tz->off[i] = be32(buf + o + 6 * i);
    tz->before = tz->off[0];
    o += need - timecnt * 9;
    /* The footer: "\nRULE\n". */
    if (o < len && buf[o] == '\n') {
        char rule[128];
        size_t k = 0;
        for (o++; o < len && buf[o] != '\n' && k + 1 < sizeof rule; o++)
            rule[k++] = (char)buf[o];
        rule[k] = '\0';
        if (k && parse_rule(tz, rule))
            tz->has_rule = tz->has_dst = 0;
    }
    *out = tz;
    return SG_OK;
bad:
    sg_tz_free(tz);
    return sg_err_set(err, SG_INVALID, "time zone file of '%s' is damaged", name);
}

/* Days since the epoch of the rule date in `year`. */
static int64_t rule_day(int year, const struct rule_date *d)
{
    int64_t first = sg_days_from_civil(year, d->month, 1);
    int wd = (int)((first + 4) % 7); /* 1970-01-01 was a Thursday (4) */
    if (wd < 0)
        wd += 7;
    int64_t day = first + (d->wday - wd + 7) % 7 + (int64_t)(d->week - 1) * 7;
    int dim = sg_days_in_month(year, d->month);
    while (day - first >= dim)
        day -= 7;
    return day;
}

static int32_t rule_offset(const struct sg_tz *tz, int64_t secs)
{
    if (!tz->has_dst)
        return tz->std_off;
    int y, m, d;
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    sg_civil_from_days(days, &y, &m, &d);
    /* The changes are given in local time before each. */
    int64_t start = rule_day(y, &tz->start) * 86400 + tz->start.secs - tz->std_off;
    int64_t end = rule_day(y, &tz->end) * 86400 + tz->end.secs - tz->dst_off;
    int dst = start < end ? (secs >= start && secs < end) : !(secs >= end && secs < start);
    return dst ? tz->dst_off : tz->std_off;
}

int32_t sg_tz_offset(const struct sg_tz *tz, sg_time t)
{
    int64_t secs = t / SG_USEC_PER_SEC - (t % SG_USEC_PER_SEC < 0);
    if (!tz->n || secs < tz->when[0])
        return tz->n ? tz->before : tz->has_rule ? rule_offset(tz, secs) : tz->off[0];
    if (secs >= tz->when[tz->n - 1] && tz->has_rule)
        return rule_offset(tz, secs);
    size_t lo = 0, hi = tz->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (tz->when[mid] <= secs)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[tz->type[lo]];
}

int64_t sg_tz_day(const struct sg_tz *tz, sg_time t)
{
    int64_t local = t / SG_USEC_PER_SEC - (t % SG_USEC_PER_SEC < 0) + sg_tz_offset(tz, t);
    return local / 86400 - (local % 86400 < 0);
}

sg_time sg_tz_midnight(const struct sg_tz *tz, int64_t day)
{
    /* The offset at local midnight; near a change, the one in force then. */
    sg_time guess = day * SG_USEC_PER_DAY;
    int32_t off = sg_tz_offset(tz, guess);
    sg_time t = guess - (sg_time)off * SG_USEC_PER_SEC;
    int32_t off2 = sg_tz_offset(tz, t);
    return off2 == off ? t : guess - (sg_time)off2 * SG_USEC_PER_SEC;
}

/* --------------------------------------------------------------- holidays */

int64_t sg_easter(int year)
{
    /* The anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
    int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4, f = (b + 8) / 25,
        g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4,
        l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451,
        month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
    return sg_days_from_civil(year, month, day);
}

static int weekday(int64_t day) /* 0 Sunday .. 6 Saturday */
{
    int w = (int)((day + 4) % 7);
    return w < 0 ? w + 7 : w;
}

int sg_calendar_known(const char *name)
{
    return name && (strcmp(name, "lv") == 0 || strcmp(name, "none") == 0);
}

/* A fixed-date holiday that moves to the next Monday from a weekend. */
static int moved_holiday(int64_t day, int y, int month, int mday)
{
    int64_t h = sg_days_from_civil(y, month, mday);
    int w = weekday(h);
    if (day == h)
        return 1;
    return (w == 6 && day == h + 2) || (w == 0 && day == h + 1);
}

static int lv_holiday(int64_t day)
{
    int y, m, d;
    sg_civil_from_days(day, &y, &m, &d);
    static const int fixed[][2] = {{1, 1},   {5, 1},   {6, 23},  {6, 24},
                                   {12, 24}, {12, 25}, {12, 26}, {12, 31}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (m == fixed[i][0] && d == fixed[i][1])
            return 1;
    if (moved_holiday(day, y, 5, 4) || moved_holiday(day, y, 11, 18))
        return 1;
    int64_t easter = sg_easter(y);
    return day == easter - 2 || day == easter || day == easter + 1;
}

int sg_is_holiday(const struct sg_calendar *c, int64_t day)
{
    for (size_t i = 0; c && i < c->nextra; i++)
        if (c->extra[i] == day)
            return 1;
    return c && c->name && strcmp(c->name, "lv") == 0 && lv_holiday(day);
}

int sg_is_working_day(const struct sg_calendar *c, int64_t day)
{
    int w = weekday(day);
    return w != 0 && w != 6 && !sg_is_holiday(c, day);
}

int64_t sg_next_working_day(const struct sg_calendar *c, int64_t day)
{
    while (!sg_is_working_day(c, day))
        day++;
    return day;
}

int64_t sg_add_months(int64_t day, int months)
{
    int y, m, d;
    sg_civil_from_days(day, &y, &m, &d);
    int total = m - 1 + months;
    y += total / 12 - (total % 12 < 0);
    m = ((total % 12) + 12) % 12 + 1;
    int dim = sg_days_in_month(y, m);
    return sg_days_from_civil(y, m, d > dim ? dim : d);
}

int64_t sg_request_deadline(const struct sg_calendar *c, int64_t received, int months,
                            int paused_days)
{
    return sg_next_working_day(c, sg_add_months(received, months) + paused_days);
}

void sg_day_format(int64_t day, char out[11])
{
    int y, m, d;
    char buf[48];
    sg_civil_from_days(day, &y, &m, &d);
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

enum sg_rc sg_day_parse(const char *s, int64_t *day, struct sg_err *err)
{
    int y, m, d;
    char tail;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 ||
        m > 12 || d < 1 || d > sg_days_in_month(y, m))
        return sg_err_set(err, SG_INVALID, "a date is YYYY-MM-DD");
    *day = sg_days_from_civil(y, m, d);
    return SG_OK;
}
