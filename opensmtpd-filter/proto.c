/*
 * proto.c - the smtpd filter protocol: parse one input line, write the
 * registrations and the filter results (see proto.h). Nothing here exits:
 * smtpd shuts down when its filter dies, so bad input is only reported.
 *
 * Output is buffered: proto_printf() appends a line, proto_flush() writes
 * everything. main.c flushes from an event it makes active when the
 * buffer stops being empty, which runs after the callbacks of that loop
 * iteration (input lines, engine callbacks): one write per batch, and
 * nothing waits past the iteration that wrote it. The buffer is flushed
 * early when a line might not fit.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

static char	*proto_field(char **);
static int	 proto_version(const char *, int *, int *);
static int	 proto_timestamp(const char *);
static int	 proto_hex(const char *, uint64_t *);
static int	 proto_event_name(const char *);
static const char *proto_parse_config(char *, struct proto_line *);
static const char *proto_parse_event(char *, struct proto_line *);
static int	 proto_write(const char *, size_t);

#define PROTO_LINE_OUT	1024		/* a line out is cut to this */
#define PROTO_OUT_SIZE	(64 * 1024)	/* buffered output */

static char	 proto_out[PROTO_OUT_SIZE];
static size_t	 proto_outlen;
static int	 proto_broken;		/* a write failed: smtpd is gone */
static void	(*proto_pending_cb)(void);

static const char *const proto_registrations[] = {
	"filter|smtp-in|rcpt-to",
	"report|smtp-in|tx-mail",
	"report|smtp-in|link-disconnect",
	"report|smtp-out|link-connect",
	"report|smtp-out|link-tls",
	"report|smtp-out|tx-mail",
	"report|smtp-out|tx-rcpt",
	"report|smtp-out|tx-commit",
	"report|smtp-out|link-disconnect",
};

/* The next '|'-separated field of *s, or NULL when there is none. */
static char *
proto_field(char **s)
{
	char	*f = *s, *bar;

	if (f == NULL)
		return NULL;
	if ((bar = strchr(f, '|')) != NULL) {
		*bar = '\0';
		*s = bar + 1;
	} else
		*s = NULL;
	return f;
}

/* version = 1*DIGIT "." 1*DIGIT */
static int
proto_version(const char *s, int *major, int *minor)
{
	char	*end;
	long	 a, b;

	if (!isdigit((unsigned char)*s))
		return -1;
	a = strtol(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]) || a > 1000)
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || b > 1000)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

/* timestamp = 1*DIGIT "." 1*DIGIT */
static int
proto_timestamp(const char *s)
{
	size_t	n = strspn(s, "0123456789");

	if (n == 0 || n > 20 || s[n] != '.')
		return -1;
	s += n + 1;
	n = strspn(s, "0123456789");
	return (n == 0 || s[n] != '\0') ? -1 : 0;
}

/* 1-16 hex digits */
static int
proto_hex(const char *s, uint64_t *v)
{
	size_t	n = strspn(s, "0123456789abcdefABCDEF");

	if (n == 0 || n > 16 || s[n] != '\0')
		return -1;
	*v = strtoull(s, NULL, 16);
	return 0;
}

/* event = 1*(lower-case letter / "-") */
static int
proto_event_name(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyz-");

	return (n == 0 || n > 32 || s[n] != '\0') ? -1 : 0;
}

/* config|ready or config|key|value */
static const char *
proto_parse_config(char *rest, struct proto_line *out)
{
	char	*f;

	if ((f = proto_field(&rest)) == NULL || *f == '\0')
		return "config line without a key";
	if (strcmp(f, "ready") == 0 && rest == NULL) {
		out->kind = PROTO_CONFIG_READY;
		return NULL;
	}
	out->kind = PROTO_CONFIG;
	out->key = f;
	out->params = rest != NULL ? rest : "";
	return NULL;
}

/* ver|time|dir|event|reqid[|token][|params] of filter and report lines */
static const char *
proto_parse_event(char *rest, struct proto_line *out)
{
	char	*f;

	if ((f = proto_field(&rest)) == NULL ||
	    proto_version(f, &out->vmajor, &out->vminor) == -1)
		return "bad protocol version";
	if ((f = proto_field(&rest)) == NULL || proto_timestamp(f) == -1)
		return "bad timestamp";
	if ((f = proto_field(&rest)) == NULL)
		return "missing direction";
	if (strcmp(f, "smtp-in") == 0)
		out->incoming = 1;
	else if (strcmp(f, "smtp-out") != 0)
		return "bad direction";
	if ((f = proto_field(&rest)) == NULL || proto_event_name(f) == -1)
		return "bad event name";
	out->event = f;
	if ((f = proto_field(&rest)) == NULL || proto_hex(f, &out->reqid) == -1)
		return "bad session id";
	if (out->kind == PROTO_FILTER && ((f = proto_field(&rest)) == NULL ||
	    proto_hex(f, &out->token) == -1))
		return "bad filter token";
	out->params = rest != NULL ? rest : "";
	return NULL;
}

void
proto_parse(char *line, struct proto_line *out)
{
	char		*rest = line, *type;
	const char	*why;

	memset(out, 0, sizeof(*out));
	out->params = "";
	type = proto_field(&rest);
	if (strcmp(type, "config") == 0)
		why = proto_parse_config(rest, out);
	else if (strcmp(type, "filter") == 0) {
		out->kind = PROTO_FILTER;
		why = proto_parse_event(rest, out);
	} else if (strcmp(type, "report") == 0) {
		out->kind = PROTO_REPORT;
		why = proto_parse_event(rest, out);
	} else
		why = "unknown line type";
	if (why != NULL) {
		memset(out, 0, sizeof(*out));
		out->kind = PROTO_BAD;
		out->params = "";
		out->why = why;
	}
}

/*
 * Writes all of buf to stdout: -1 when the pipe is gone. stdout is
 * blocking as smtpd gives it; should it be non-blocking, EAGAIN waits in
 * poll() until smtpd reads.
 */
static int
proto_write(const char *buf, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		if ((n = write(STDOUT_FILENO, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				pfd.fd = STDOUT_FILENO;
				pfd.events = POLLOUT;
				pfd.revents = 0;
				if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void
proto_on_pending(void (*cb)(void))
{
	proto_pending_cb = cb;
}

int
proto_flush(void)
{
	int	rc;

	if (proto_broken)
		return -1;
	if (proto_outlen == 0)
		return 0;
	rc = proto_write(proto_out, proto_outlen);
	proto_outlen = 0;
	if (rc == -1)
		proto_broken = 1;
	return rc;
}

int
proto_printf(const char *fmt, ...)
{
	char	*buf;
	va_list	 ap;
	int	 n, was_empty = proto_outlen == 0;

	if (sizeof(proto_out) - proto_outlen < PROTO_LINE_OUT &&
	    proto_flush() == -1)
		return -1;
	if (proto_broken)
		return -1;
	buf = proto_out + proto_outlen;
	va_start(ap, fmt);
	n = vsnprintf(buf, PROTO_LINE_OUT - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (n > PROTO_LINE_OUT - 2)
		n = PROTO_LINE_OUT - 2;	/* cut, never overflow */
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n++] = '\n';
	proto_outlen += (size_t)n;
	if (was_empty && proto_pending_cb != NULL)
		proto_pending_cb();
	return 0;
}

int
proto_register(void)
{
	size_t	i;

	for (i = 0; i < sizeof(proto_registrations) /
	    sizeof(proto_registrations[0]); i++)
		if (proto_printf("register|%s", proto_registrations[i]) == -1)
			return -1;
	if (proto_printf("register|ready") == -1)
		return -1;
	return proto_flush();
}

/* Protocol 0.5 and later put the session before the token. */
int
proto_result_proceed(int vmajor, int vminor, uint64_t reqid, uint64_t token)
{
	if (vmajor == 0 && vminor < 5)
		return proto_printf("filter-result|%016" PRIx64 "|%016" PRIx64
		    "|proceed", token, reqid);
	return proto_printf("filter-result|%016" PRIx64 "|%016" PRIx64
	    "|proceed", reqid, token);
}

int
proto_result_reject(int vmajor, int vminor, uint64_t reqid, uint64_t token,
    const char *reply)
{
	if (vmajor == 0 && vminor < 5)
		return proto_printf("filter-result|%016" PRIx64 "|%016" PRIx64
		    "|reject|%s", token, reqid, reply);
	return proto_printf("filter-result|%016" PRIx64 "|%016" PRIx64
	    "|reject|%s", reqid, token, reply);
}
