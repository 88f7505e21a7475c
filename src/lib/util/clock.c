/*
 * clock.c - the injectable clock and RFC 3339 parsing and formatting.
 * Civil-date arithmetic follows Howard Hinnant's days_from_civil algorithm,
 * which is exact for the whole proleptic Gregorian calendar.
 */
#include "sargs/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void sg_clock_init_system(struct sg_clock *c)
{
    c->fixed = 0;
    c->at = 0;
}

void sg_clock_init_fixed(struct sg_clock *c, sg_time at)
{
    c->fixed = 1;
    c->at = at;
}

sg_time sg_clock_now(const struct sg_clock *c)
{
    if (c && c->fixed)
        return c->at;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sg_time)ts.tv_sec * SG_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t sg_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sg_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

int sg_days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return len[(m - 1) % 12];
}

/* Reads exactly `n` decimal digits at *p; -1 when they are not there. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

enum sg_rc sg_time_parse(const char *s, sg_time *out, struct sg_err *err)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac = 0, offset = 0;

    if (!s)
        return sg_err_set(err, SG_INVALID, "missing time");
    if ((y = digits(&p, 4)) < 1 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 ||
        *p++ != '-' || (d = digits(&p, 2)) < 1 || d > sg_days_in_month(y, mo))
        goto bad;
    if (*p == '\0')
        goto done;
    if (*p != 'T' && *p != 't' && *p != ' ')
        goto bad;
    p++;
    if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59 ||
        *p++ != ':' || (sec = digits(&p, 2)) < 0 || sec > 59)
        goto bad;
    if (*p == '.') {
        p++;
        int n = 0;
        int64_t scale = 100000;
        while (*p >= '0' && *p <= '9') {
            if (n < 6)
                frac += (*p - '0') * scale;
            scale /= 10;
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            goto bad;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh, om;
        if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
            om > 59)
            goto bad;
        offset = sign * ((int64_t)oh * 3600 + om * 60);
    } else {
        goto bad;
    }
    if (*p != '\0')
        goto bad;
done:;
    int64_t days = sg_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    *out = secs * SG_USEC_PER_SEC + frac;
    return SG_OK;
bad:
    return sg_err_set(err, SG_INVALID,
                      "not an RFC 3339 time (expected e.g. 2026-11-23T16:50:45Z or 2026-11-23)");
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

char *sg_time_format(sg_time t, char out[SG_TIME_STR_MAX])
{
    int64_t secs = floor_div(t, SG_USEC_PER_SEC);
    int64_t usec = t - secs * SG_USEC_PER_SEC;
    int64_t days = floor_div(secs, 86400);
    int64_t rem = secs - days * 86400;
    int y, m, d;
    sg_civil_from_days(days, &y, &m, &d);
    if (usec)
        snprintf(out, SG_TIME_STR_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)usec);
    else
        snprintf(out, SG_TIME_STR_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600),
                 (int)(rem / 60 % 60), (int)(rem % 60));
    return out;
}

char *sg_date_format(sg_time t, char out[SG_TIME_STR_MAX])
{
    int y, m, d;
    sg_civil_from_days(floor_div(t, SG_USEC_PER_DAY), &y, &m, &d);
    snprintf(out, SG_TIME_STR_MAX, "%04d-%02d-%02d", y, m, d);
    return out;
}

/* ---------------------------------------------------------------- durations */

#define DURATION_PART_MAX 100000

enum sg_rc sg_duration_parse(const char *s, struct sg_duration *out, struct sg_err *err)
{
    struct sg_duration d = {0, 0, 0, 0};
    const char *p = s;
    int in_time = 0, parts = 0, time_parts = 0;
    /* Order of the designators: each may appear once, in this order. */
    static const char date_order[] = "YMWD", time_order[] = "HMS";
    int last = -1;
    if (!s || *p++ != 'P')
        return sg_err_set(err, SG_INVALID, "not an ISO 8601 duration (expected e.g. P10D or P1Y)");
    while (*p) {
        if (*p == 'T') {
            if (in_time)
                return sg_err_set(err, SG_INVALID, "duration has 'T' twice");
            in_time = 1;
            last = -1;
            p++;
            continue;
        }
        if (*p < '0' || *p > '9')
            return sg_err_set(err, SG_INVALID,
                              "duration part must be a whole number followed by a designator");
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p - '0');
            if (n > DURATION_PART_MAX)
                return sg_err_set(err, SG_INVALID, "duration part over %d", DURATION_PART_MAX);
            p++;
        }
        const char *order = in_time ? time_order : date_order;
        const char *pos = *p ? strchr(order, *p) : NULL;
        if (!pos)
            return sg_err_set(err, SG_INVALID,
                              in_time ? "time part of a duration must end in H, M or S"
                                      : "date part of a duration must end in Y, M, W or D");
        int idx = (int)(pos - order);
        if (idx <= last)
            return sg_err_set(err, SG_INVALID, "duration parts out of order or repeated");
        last = idx;
        p++;
        parts++;
        if (in_time) {
            time_parts++;
            d.seconds += n * (idx == 0 ? 3600 : idx == 1 ? 60 : 1);
        } else if (idx == 0) {
            d.years = (int32_t)n;
        } else if (idx == 1) {
            d.months = (int32_t)n;
        } else if (idx == 2) {
            d.days += (int32_t)(n * 7);
        } else {
            d.days += (int32_t)n;
        }
    }
    if (parts == 0 || (in_time && time_parts == 0))
        return sg_err_set(err, SG_INVALID, "duration has no parts (expected e.g. P10D or PT12H)");
    *out = d;
    return SG_OK;
}

char *sg_duration_format(const struct sg_duration *d, char out[SG_DURATION_STR_MAX])
{
    size_t n = 0;
    out[n++] = 'P';
    out[n] = '\0';
    if (d->years)
        n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "%dY", (int)d->years);
    if (d->months)
        n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "%dM", (int)d->months);
    if (d->days)
        n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "%dD", (int)d->days);
    if (d->seconds) {
        int64_t h = d->seconds / 3600, m = d->seconds / 60 % 60, s = d->seconds % 60;
        n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "T");
        if (h)
            n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "%lldH", (long long)h);
        if (m)
            n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "%lldM", (long long)m);
        if (s)
            n += (size_t)snprintf(out + n, SG_DURATION_STR_MAX - n, "%lldS", (long long)s);
    }
    if (n == 1)
        snprintf(out + 1, SG_DURATION_STR_MAX - 1, "T0S");
    return out;
}

sg_time sg_duration_add(sg_time t, const struct sg_duration *d)
{
    int64_t secs = floor_div(t, SG_USEC_PER_SEC);
    int64_t usec = t - secs * SG_USEC_PER_SEC;
    int64_t days = floor_div(secs, 86400);
    int64_t rem = secs - days * 86400;
    if (d->years || d->months) {
        int y, m, dd;
        sg_civil_from_days(days, &y, &m, &dd);
        int64_t mi = (int64_t)y * 12 + (m - 1) + (int64_t)d->years * 12 + d->months;
        y = (int)floor_div(mi, 12);
        m = (int)(mi - (int64_t)y * 12) + 1;
        int last = sg_days_in_month(y, m);
        days = sg_days_from_civil(y, m, dd > last ? last : dd);
    }
    days += d->days;
    return ((days * 86400 + rem + d->seconds) * SG_USEC_PER_SEC) + usec;
}

/* Average length in seconds: a Gregorian year is 365.2425 days. */
static int64_t duration_avg(const struct sg_duration *d)
{
    return (int64_t)d->years * 31556952 + (int64_t)d->months * 2629746 + (int64_t)d->days * 86400 +
           d->seconds;
}

int sg_duration_cmp(const struct sg_duration *a, const struct sg_duration *b)
{
    int64_t x = duration_avg(a), y = duration_avg(b);
    return x < y ? -1 : x > y;
}

int sg_duration_is_zero(const struct sg_duration *d)
{
    return !d->years && !d->months && !d->days && !d->seconds;
}
