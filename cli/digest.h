/*
 * digest.h - "mtasts report digest": what digest.c (reading and
 * counting) and digest_out.c (terminal, JSON and HTML) share.
 */
#ifndef MTASTS_CLI_DIGEST_H
#define MTASTS_CLI_DIGEST_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "mtasts.h"

/* One row of a table: a key (and a second one), sessions and reports. */
struct dg_row {
	char		*key;
	char		*key2;		/* or NULL */
	uint64_t	 ok;		/* successful sessions */
	uint64_t	 fail;		/* failed sessions */
	uint64_t	 reports;	/* reports that counted here */
};
struct dg_table {
	struct dg_row	*v;
	size_t		 n, cap;
};

struct digest {
	time_t		 since, until;	/* the period: [since, until) */
	time_t		 psince;	/* the previous one: [psince, since) */
	struct mtasts_report **reps;	/* every report read, once each */
	size_t		 nreps, capreps;
	unsigned	 nread, ndup, nbad, nout;
	uint64_t	 ok, fail, pok, pfail;
	struct dg_table	 domains;	/* policy domain */
	struct dg_table	 orgs;		/* organisation */
	struct dg_table	 days;		/* YYYY-MM-DD, every day */
	struct dg_table	 results;	/* result type (fail) */
	struct dg_table	 result_mx;	/* result type, MX host (fail) */
	struct dg_table	 mx;		/* failing MX host (fail) */
	struct dg_table	 presults;	/* previous period: result type */
	struct dg_table	 porgs;		/* previous period: organisation */
	int		 nomem;
};

/* a + b, saturating at INT64_MAX (the library's cap on one count). */
uint64_t	dg_add(uint64_t a, uint64_t b);
/* The row of (key, key2) in t, made when missing; NULL: no memory. */
struct dg_row	*dg_row(struct dg_table *t, const char *key, const char *key2);
/* Is r (its start) in [from, to)? */
int		dg_in(const struct mtasts_report *r, time_t from, time_t to);

void	digest_text(const struct digest *d, FILE *fp);
void	digest_json(const struct digest *d, FILE *fp);
void	digest_html(const struct digest *d, FILE *fp);

#endif
