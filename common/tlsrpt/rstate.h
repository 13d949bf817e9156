/*
 * rstate.h - the delivery state of one built report: a small text file
 * beside the report ("NAME.state" for "NAME.json.gz") that says, for
 * each rua URI, whether it is served, and when it was last tried.
 */
#ifndef MTASTS_RSTATE_H
#define MTASTS_RSTATE_H

#include <stddef.h>
#include <time.h>

enum rstate_status {
	RSTATE_PENDING = 0,	/* to be tried (again) */
	RSTATE_SENT,		/* delivered */
	RSTATE_EXPIRED,		/* not delivered within 24 hours: given up */
	RSTATE_BAD		/* malformed or unsupported URI: skipped */
};

struct rstate_rua {
	char			*uri;
	enum rstate_status	 status;
	unsigned		 attempts;	/* tries so far */
	time_t			 last;		/* last try, 0: never */
};

struct rstate {
	char			*domain;	/* policy domain */
	char			*report_id;
	time_t			 day;		/* start of the UTC day */
	time_t			 built;		/* when it was built */
	struct rstate_rua	*rua;
	size_t			 nrua;
};

/* MTASTS_OK, MTASTS_EIO (cannot read), MTASTS_ESYNTAX, MTASTS_ENOMEM. */
int	rstate_load(const char *path, struct rstate *st);
/* The same from the text of a file (len bytes at buf; a NUL byte is a
 * syntax error). */
int	rstate_parse(const char *buf, size_t len, struct rstate *st);
/* Writes path atomically (a temporary file renamed over it). */
int	rstate_save(const char *path, const struct rstate *st);
int	rstate_add_rua(struct rstate *st, const char *uri);
void	rstate_clear(struct rstate *st);
const char *rstate_status_name(enum rstate_status s);

#endif
