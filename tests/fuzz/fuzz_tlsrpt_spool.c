/*
 * fuzz_tlsrpt_spool.c - libFuzzer target for tlsrpt_spool_parse(), the
 * TLS-RPT spool line parser (common/tlsrpt_spool.c).
 *
 * Invariants (abort() when broken): a line that parses is shorter than
 * TLSRPT_SPOOL_LINE_MAX and ends in LF; every field points into the line
 * and is within its cap; the policy type and result are 1 to 63 of
 * [a-z0-9-]; count is 1. Written again with tlsrpt_spool_line(), the row
 * gives a line that parses to the same fields (the escaping round-trips).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/tlsrpt_spool.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_token(const char *);
static void	check_inside(const char *, const char *, size_t);
static void	check_same(const struct store_tlsrpt_row *, const char *,
		    const struct store_tlsrpt_row *, const char *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_tlsrpt_row	 r, r2;
	const char		*tag, *tag2;
	char			*line, out[TLSRPT_SPOOL_LINE_MAX];
	int			 n;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (tlsrpt_spool_parse(line, size, &tag, &r) != 0) {
		free(line);
		return 0;
	}
	if (size == 0 || size >= TLSRPT_SPOOL_LINE_MAX ||
	    data[size - 1] != '\n' || r.count != 1 || r.day < 0)
		abort();
	check_inside(tag, line, size);
	check_inside(r.domain, line, size);
	check_inside(r.mx, line, size);
	check_inside(r.receiving_ip, line, size);
	check_inside(r.sending_ip, line, size);
	check_inside(r.detail, line, size);
	if (*tag == '\0' || *r.domain == '\0' ||
	    strlen(r.domain) > MTASTS_NAME_MAX || strlen(r.mx) > MTASTS_NAME_MAX)
		abort();
	check_token(r.policy_type);
	check_token(r.result);
	n = tlsrpt_spool_line(tag, &r, out, sizeof(out));
	if (n > 0) {
		if (tlsrpt_spool_parse(out, (size_t)n, &tag2, &r2) != 0)
			abort();
		check_same(&r, tag, &r2, tag2);
	}
	free(line);
	return 0;
}

/* A field of a parsed line lies within the line's buffer. */
static void
check_inside(const char *s, const char *line, size_t size)
{
	if (s == NULL || s < line || s + strlen(s) > line + size)
		abort();
}

static void
check_token(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 63 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-") != n)
		abort();
}

static void
check_same(const struct store_tlsrpt_row *a, const char *ta,
    const struct store_tlsrpt_row *b, const char *tb)
{
	if (strcmp(ta, tb) != 0 || a->day != b->day ||
	    strcmp(a->domain, b->domain) != 0 ||
	    strcmp(a->policy_type, b->policy_type) != 0 ||
	    strcmp(a->result, b->result) != 0 || strcmp(a->mx, b->mx) != 0 ||
	    strcmp(a->receiving_ip, b->receiving_ip) != 0 ||
	    strcmp(a->sending_ip, b->sending_ip) != 0 ||
	    strcmp(a->detail, b->detail) != 0)
		abort();
}
