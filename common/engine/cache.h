/*
 * cache.h - the refresh rule of cache.c, shared with the unit tests:
 * which cached policy a proactive refresh resolves again, and why.
 */
#ifndef MTASTS_CACHE_H
#define MTASTS_CACHE_H

#include <time.h>

#include "store/store.h"

enum cache_due {
	CACHE_NOT_DUE = 0,	/* fresh, expired, or no policy text */
	CACHE_DUE_ALL,		/* unexpired, and every one was asked for */
	CACHE_DUE_CHECK,	/* its TXT id check is due */
	CACHE_DUE_HALF		/* past half its max_age */
};

/*
 * Is row p due for a proactive refresh at now, under check_interval
 * (seconds, as in mtasts.conf)? all: every unexpired policy is due.
 * Pure: reads p only.
 */
enum cache_due	cache_due(const struct store_policy *p, time_t now,
		    unsigned check_interval, int all);

#endif
