/*
 * fuzz_filter_proto.c - libFuzzer target for proto_parse(), the smtpd
 * filter protocol line parser of filter-mtasts (opensmtpd-filter/proto.c).
 *
 * The input is cut into lines at each newline, as main.c does with what
 * smtpd writes (a line with a NUL byte is dropped there, so it is here),
 * and each line is parsed in place. Invariants (abort() when broken):
 * every line gives a kind; PROTO_BAD has a reason and nothing else; the
 * others have no reason, a non-NULL params inside the line (or ""),
 * versions and the event name in range; a filter or report line has an
 * event of lower-case letters and '-' and a direction; a config line has
 * a key. Parsing a copy of the line again gives the same result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_line(const char *, size_t);
static void	check_fields(const struct proto_line *, const char *,
		    size_t);
static int	inside(const char *, const char *, size_t);

/* p points into the line buf of len bytes (or at its NUL). */
static int
inside(const char *p, const char *buf, size_t len)
{
	return p >= buf && p <= buf + len;
}

static void
check_fields(const struct proto_line *l, const char *buf, size_t len)
{
	if (l->params == NULL)
		abort();
	if (l->kind == PROTO_BAD) {
		if (l->why == NULL || l->event != NULL || l->key != NULL ||
		    l->params[0] != '\0')
			abort();
		return;
	}
	if (l->why != NULL || (l->params[0] != '\0' &&
	    !inside(l->params, buf, len)))
		abort();
	if (l->kind == PROTO_CONFIG && (l->key == NULL ||
	    !inside(l->key, buf, len) || l->key[0] == '\0'))
		abort();
	if (l->kind != PROTO_FILTER && l->kind != PROTO_REPORT)
		return;
	if (l->event == NULL || !inside(l->event, buf, len) ||
	    l->event[0] == '\0' || strlen(l->event) > 32 ||
	    strspn(l->event, "abcdefghijklmnopqrstuvwxyz-") !=
	    strlen(l->event))
		abort();
	if (l->vmajor < 0 || l->vmajor > 1000 || l->vminor < 0 ||
	    l->vminor > 1000 || (l->incoming != 0 && l->incoming != 1))
		abort();
}

static void
check_line(const char *line, size_t len)
{
	struct proto_line	 a, b;
	char			*x, *y;

	if ((x = malloc(len + 1)) == NULL || (y = malloc(len + 1)) == NULL) {
		free(x);
		return;
	}
	memcpy(x, line, len);
	x[len] = '\0';
	memcpy(y, x, len + 1);
	proto_parse(x, &a);
	check_fields(&a, x, len);
	proto_parse(y, &b);
	if (a.kind != b.kind || a.reqid != b.reqid || a.token != b.token ||
	    a.vmajor != b.vmajor || a.vminor != b.vminor ||
	    a.incoming != b.incoming || strcmp(a.params, b.params) != 0 ||
	    (a.event != NULL) != (b.event != NULL) ||
	    (a.event != NULL && strcmp(a.event, b.event) != 0))
		abort();
	free(x);
	free(y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	size_t		 len;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len <= PROTO_LINE_MAX && memchr(p, '\0', len) == NULL)
			check_line(p, len);
		p += len + 1;
	}
	return 0;
}
