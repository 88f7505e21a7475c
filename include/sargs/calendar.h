/*
 * sargs/calendar.h - one calendar engine for every date the law counts:
 * the policy's time zone (IANA, read from the system's zoneinfo), working
 * days and public holidays, and the deadlines of data-subject requests
 * (Reg. 1182/71 and EDPB Guidelines 01/2022 on the right of access).
 *
 * Days are counted as days since 1970-01-01 (a local date, not an instant).
 */
#ifndef SARGS_CALENDAR_H
#define SARGS_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "sargs/clock.h"
#include "sargs/err.h"

/* A time zone, loaded from TZif data (the system's /usr/share/zoneinfo, or
 * $TZDIR): transitions, then the POSIX rule for times beyond them. */
struct sg_tz;

/* Loads zone `name` ("Europe/Riga", "UTC"). SG_INVALID for a malformed
 * name, SG_NOTFOUND when the system has no such zone. */
enum sg_rc sg_tz_load(const char *name, struct sg_tz **out, struct sg_err *err);
void sg_tz_free(struct sg_tz *tz);

/* Seconds east of UTC in force at instant `t` (microseconds). */
int32_t sg_tz_offset(const struct sg_tz *tz, sg_time t);

/* The local date (days since 1970-01-01) of instant `t`. */
int64_t sg_tz_day(const struct sg_tz *tz, sg_time t);

/* The instant local midnight of `day` begins. */
sg_time sg_tz_midnight(const struct sg_tz *tz, int64_t day);

/* Working days: Monday to Friday, not a public holiday of the calendar
 * ("lv": the Latvian public holidays, with 4 May and 18 November moved to
 * the next Monday when they fall on a weekend; "none": weekends only), nor
 * one of the `extra` days (one-off holidays the policy adds). */
struct sg_calendar {
    const char *name; /* "lv" or "none" */
    const int64_t *extra;
    size_t nextra;
};

/* Nonzero when a calendar name is known. */
int sg_calendar_known(const char *name);

int sg_is_holiday(const struct sg_calendar *c, int64_t day);
int sg_is_working_day(const struct sg_calendar *c, int64_t day);
/* `day` itself when it is a working day, else the next one. */
int64_t sg_next_working_day(const struct sg_calendar *c, int64_t day);

/* The date `months` months after `day`: the same day of the month, or that
 * month's last day when it has no such day (31 January + 1 month = 28 or
 * 29 February). */
int64_t sg_add_months(int64_t day, int months);

/* Easter Sunday of `year` (Gregorian). */
int64_t sg_easter(int year);

/*
 * The last day on which an answer to a request received on local date
 * `received` is on time: received + `months` months (1, or 3 when
 * extended), plus the calendar days the request was paused (counted on the
 * unmoved date), then moved to the next working day.
 */
int64_t sg_request_deadline(const struct sg_calendar *c, int64_t received, int months,
                            int paused_days);

/* "2026-04-05" */
void sg_day_format(int64_t day, char out[11]);
/* Parses "YYYY-MM-DD"; SG_INVALID otherwise. */
enum sg_rc sg_day_parse(const char *s, int64_t *day, struct sg_err *err);

#endif
