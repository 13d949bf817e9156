/*
 * proto.h - the smtpd(8) filter protocol (smtpd-filters(7)), as much of
 * it as filter-mtasts speaks: lines in ("config|...", "filter|...",
 * "report|...") and lines out (registrations, filter results).
 *
 * The parser never exits and never trusts its input: a line it cannot
 * parse is reported as PROTO_BAD with a reason, and the caller logs it and
 * goes on.
 */
#ifndef FILTER_PROTO_H
#define FILTER_PROTO_H

#include <stdint.h>

#define PROTO_LINE_MAX	65536	/* longer lines are dropped */

enum proto_kind {
	PROTO_BAD = 0,		/* unparsable: see why */
	PROTO_CONFIG,		/* config|key|value */
	PROTO_CONFIG_READY,	/* config|ready */
	PROTO_FILTER,		/* filter|ver|time|dir|phase|reqid|token|.. */
	PROTO_REPORT		/* report|ver|time|dir|event|reqid|... */
};

struct proto_line {
	enum proto_kind	 kind;
	int		 vmajor;	/* protocol version */
	int		 vminor;
	int		 incoming;	/* smtp-in: 1, smtp-out: 0 */
	const char	*event;		/* phase or report event name */
	uint64_t	 reqid;		/* session */
	uint64_t	 token;		/* filter lines only */
	const char	*key;		/* config lines */
	const char	*params;	/* the rest, "" when none */
	const char	*why;		/* PROTO_BAD: what is wrong */
};

/* Parses line (NUL-terminated, no newline) in place into out. */
void	proto_parse(char *line, struct proto_line *out);

/*
 * Queues one line (a newline is added) for stdout; -1 when smtpd is gone.
 * The line is written by proto_flush(), or earlier when the buffer is
 * full.
 */
int	proto_printf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Writes every queued line (waits until smtpd takes them); -1 when
 * smtpd is gone. */
int	proto_flush(void);
/* cb runs when a line is queued into an empty buffer: the caller must
 * then call proto_flush() before its event loop waits again. */
void	proto_on_pending(void (*cb)(void));

/* The registration lines for the events filter-mtasts uses. */
int	proto_register(void);

/* Filter results for a session and token; reply is "451 4.7.5 text". */
int	proto_result_proceed(int vmajor, int vminor, uint64_t reqid,
	    uint64_t token);
int	proto_result_reject(int vmajor, int vminor, uint64_t reqid,
	    uint64_t token, const char *reply);

#endif
