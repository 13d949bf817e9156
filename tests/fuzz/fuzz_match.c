/*
 * fuzz_match.c - libFuzzer target for mtasts_mx_match() and
 * mtasts_name_normalize().
 *
 * The input is split at the first NUL or newline into a host and a
 * pattern. Invariants (abort() when broken): the result is 1, 0 or an
 * error; normalising is idempotent and gives a lower-case ASCII name of
 * at most 253 octets; a valid host matches itself and its normal form;
 * a match is symmetric in case (upper-casing ASCII changes nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_normalize(const char *, int);
static void	upper(char *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *host, *pattern, *cut;
	int	 rc, rc2;

	if ((buf = malloc(size + 2)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	host = buf;
	cut = host + strcspn(host, "\n");
	*cut = '\0';
	pattern = cut + 1;
	if (pattern > buf + size)
		pattern = buf + size;

	rc = mtasts_mx_match(host, pattern);
	if (rc != 0 && rc != 1 && rc != MTASTS_ESYNTAX && rc != MTASTS_ENOMEM)
		abort();
	check_normalize(host, 0);
	check_normalize(pattern, 1);
	if (rc >= 0) {
		upper(host);
		upper(pattern);
		rc2 = mtasts_mx_match(host, pattern);
		if (rc2 != rc && rc2 != MTASTS_ENOMEM)
			abort();
	}
	free(buf);
	return 0;
}

static void
check_normalize(const char *in, int wildcard)
{
	char	out[MTASTS_NAME_MAX + 1], again[MTASTS_NAME_MAX + 1];
	size_t	i, len;

	if (mtasts_name_normalize(in, wildcard, out) != MTASTS_OK)
		return;
	len = strlen(out);
	if (len == 0 || len > MTASTS_NAME_MAX)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)out[i] >= 0x80 ||
		    (out[i] >= 'A' && out[i] <= 'Z'))
			abort();
	if (mtasts_name_normalize(out, wildcard, again) != MTASTS_OK ||
	    strcmp(out, again) != 0)
		abort();
	if (!wildcard && (mtasts_mx_match(in, in) != 1 ||
	    mtasts_mx_match(in, out) != 1 || mtasts_mx_match(out, in) != 1))
		abort();
	if (wildcard && strncmp(out, "*.", 2) != 0 &&
	    mtasts_mx_match(out, in) != 1)
		abort();
}

/* ASCII letters to upper case; other bytes unchanged. */
static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = *s - 'a' + 'A';
}
