/*
 * report.h - what the report modules share: the RFC 3339 date-times of
 * a report and growing the report's arrays (its string vectors grow
 * with strv_push(), util/strv.h).
 */
#ifndef MTASTS_REPORT_H
#define MTASTS_REPORT_H

#include <time.h>

#include "mtasts.h"

/* "2016-04-01T00:00:00Z" into buf (at least 21 bytes). */
void	report_datetime(time_t t, char *buf, size_t size);
/*
 * RFC 3339 date-time; *nozone set when the zone was missing (then UTC).
 * A space for "T" and fractions of a second are accepted. 0 or -1.
 */
int	report_parse_datetime(const char *s, time_t *out, int *nozone);
/* Appends a zeroed policy to r; NULL when out of memory. */
struct mtasts_report_policy *report_add_policy(struct mtasts_report *r);
/* Appends a zeroed failure detail to p; NULL when out of memory. */
struct mtasts_report_failure *report_add_failure(
	    struct mtasts_report_policy *p);

#endif
