/*
 * sargs/clock.h - time as sargs sees it.
 *
 * A point in time is an `sg_time`: microseconds since 1970-01-01T00:00:00Z.
 * Every operation takes its "now" from a `struct sg_clock`, which is either
 * the system clock or a fixed instant (`--now`, `SARGS_NOW`), so that
 * deadlines and retention can be tested years ahead.
 */
#ifndef SARGS_CLOCK_H
#define SARGS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/err.h"

typedef int64_t sg_time;

#define SG_USEC_PER_SEC INT64_C(1000000)
#define SG_USEC_PER_DAY (INT64_C(86400) * SG_USEC_PER_SEC)

struct sg_clock {
    int fixed; /* nonzero: always answer `at` */
    sg_time at;
};

/* A clock that reads the system's real time. */
void sg_clock_init_system(struct sg_clock *c);
/* A clock stopped at `at`. */
void sg_clock_init_fixed(struct sg_clock *c, sg_time at);
/* The current time on `c`; a NULL clock reads the system's real time. */
sg_time sg_clock_now(const struct sg_clock *c);

/*
 * Parses an RFC 3339 date-time ("2026-11-23T16:50:45Z", "...+02:00",
 * fractions down to microseconds) or a bare date ("2026-11-23", taken as
 * midnight UTC). Years 0001-9999. SG_INVALID for anything else; the message
 * does not echo the input.
 */
enum sg_rc sg_time_parse(const char *s, sg_time *out, struct sg_err *err);

#define SG_TIME_STR_MAX 32
/*
 * Formats `t` as RFC 3339 in UTC ("2026-11-23T16:50:45Z", with a fraction
 * only when it is not zero) into `out` and returns `out`.
 */
char *sg_time_format(sg_time t, char out[SG_TIME_STR_MAX]);
/* Formats only the UTC date ("2026-11-23"). */
char *sg_date_format(sg_time t, char out[SG_TIME_STR_MAX]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t sg_days_from_civil(int y, int m, int d);
void sg_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Days in month `m` (1-12) of year `y`. */
int sg_days_in_month(int y, int m);

/* ---------------------------------------------------------------- durations */

/*
 * An ISO 8601 duration as a policy writes it: "P10D", "P1Y", "P3Y6M",
 * "P2W", "PT12H", "P1DT2H30M". Only whole numbers; weeks are kept as 7 days.
 * Calendar parts (years, months, days) are added on the calendar, so "P1M"
 * from 31 January ends on the last day of February.
 */
struct sg_duration {
    int32_t years;
    int32_t months;
    int32_t days;
    int64_t seconds;
};

#define SG_DURATION_STR_MAX 64

/*
 * Parses an ISO 8601 duration (PnYnMnWnDTnHnMnS, at least one part, each at
 * most 100000). SG_INVALID with a message saying what is wrong otherwise.
 */
enum sg_rc sg_duration_parse(const char *s, struct sg_duration *out, struct sg_err *err);

/* The canonical text form ("P1Y6M", "P10D", "PT0S" for nothing) in `out`. */
char *sg_duration_format(const struct sg_duration *d, char out[SG_DURATION_STR_MAX]);

/* `t` plus `d`: years and months on the UTC calendar (the day clamped to the
 * month's last), then days, then seconds. */
sg_time sg_duration_add(sg_time t, const struct sg_duration *d);

/* Compares two durations by their average length (a year of 365.2425 days,
 * a month of a twelfth of that): <0, 0, >0. Exact when both have the same
 * kind of parts. */
int sg_duration_cmp(const struct sg_duration *a, const struct sg_duration *b);

/* Nonzero when the duration is zero. */
int sg_duration_is_zero(const struct sg_duration *d);

#endif
