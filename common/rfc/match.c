/*
 * match.c - MX host names against policy patterns (RFC 8461 section 4.1).
 *
 * mtasts_name_normalize() gives a host or pattern its one canonical form:
 * A-labels, lower case, no trailing dot, checked as an LDH host name
 * (labels of 1-63 letters, digits and inner hyphens, at most 253 octets,
 * a top label that is not all digits, so no IPv4 address passes; IP
 * literals in brackets fail the LDH check). U-labels go through libidn2
 * (IDNA2008 with UTS #46 non-transitional mapping); pure ASCII input never
 * calls libidn2, because mtasts_mx_match() runs on the delivery path.
 *
 * A pattern "*.example.com" covers exactly one extra left-most label:
 * "a.example.com" yes, "example.com" and "a.b.example.com" no.
 */
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "mtasts.h"

#define NAME_INPUT_MAX	1024	/* longest U-label input we convert */
#define LABEL_MAX	63

static int	name_is_ascii(const char *, size_t);
static int	name_copy_ascii(const char *, size_t, char *, size_t);
static int	name_copy_idn(const char *, size_t, char *, size_t);
static int	pattern_covers(const char *, const char *);

int
mtasts_name_normalize(const char *in, int wildcard,
    char out[MTASTS_NAME_MAX + 1])
{
	const char	*name = in;
	size_t		 len, off = 0;
	int		 rc;

	if (in == NULL || out == NULL)
		return MTASTS_EINVAL;
	out[0] = '\0';
	if (wildcard && name[0] == '*' && name[1] == '.') {
		memcpy(out, "*.", 2);
		off = 2;
		name += 2;
	}
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')	/* trailing dot ignored */
		len--;
	if (len == 0)
		rc = MTASTS_ESYNTAX;
	else if (name_is_ascii(name, len))
		rc = name_copy_ascii(name, len, out + off,
		    MTASTS_NAME_MAX + 1 - off);
	else
		rc = name_copy_idn(name, len, out + off,
		    MTASTS_NAME_MAX + 1 - off);
	if (rc != MTASTS_OK)
		out[0] = '\0';
	return rc;
}

int
mtasts_mx_match(const char *host, const char *pattern)
{
	char	h[MTASTS_NAME_MAX + 1], p[MTASTS_NAME_MAX + 1];
	int	rc;

	if (host == NULL || pattern == NULL)
		return MTASTS_EINVAL;
	if ((rc = mtasts_name_normalize(host, 0, h)) != MTASTS_OK)
		return rc;
	if ((rc = mtasts_name_normalize(pattern, 1, p)) != MTASTS_OK)
		return rc;
	return pattern_covers(h, p);
}

int
mtasts_policy_match(const struct mtasts_policy *policy, const char *host)
{
	char	h[MTASTS_NAME_MAX + 1], p[MTASTS_NAME_MAX + 1];
	size_t	i;
	int	rc;

	if (policy == NULL || host == NULL)
		return MTASTS_EINVAL;
	if ((rc = mtasts_name_normalize(host, 0, h)) != MTASTS_OK)
		return rc;
	for (i = 0; i < policy->nmx; i++) {
		/* Parsed patterns are canonical already: this is cheap. */
		if (policy->mx[i] == NULL ||
		    mtasts_name_normalize(policy->mx[i], 1, p) != MTASTS_OK)
			continue;
		if (pattern_covers(h, p))
			return 1;
	}
	return 0;
}

/* Both canonical. "*.rest" covers one label followed by ".rest". */
static int
pattern_covers(const char *host, const char *pattern)
{
	const char	*dot;

	if (pattern[0] == '*' && pattern[1] == '.') {
		if ((dot = strchr(host, '.')) == NULL)
			return 0;
		return strcmp(dot + 1, pattern + 2) == 0;
	}
	return strcmp(host, pattern) == 0;
}

static int
name_is_ascii(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * Copies len bytes of an ASCII name lower-cased, checking it in the same
 * pass: an LDH host name (labels of 1-63 letters, digits and inner
 * hyphens; the last not all digits, which would be an IPv4 address) that
 * fits in outsz, so at most 253 octets.
 */
static int
name_copy_ascii(const char *s, size_t len, char *out, size_t outsz)
{
	size_t	i, label = 0;
	int	digits = 1;
	char	c, prev = '.';

	if (len >= outsz)
		return MTASTS_ESYNTAX;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (label == 0 || prev == '-')
				return MTASTS_ESYNTAX;
			label = 0;
			digits = 1;
		} else {
			if (c >= 'A' && c <= 'Z')
				c = c - 'A' + 'a';
			else if (c == '-' && label == 0)
				return MTASTS_ESYNTAX;
			else if (!((c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-'))
				return MTASTS_ESYNTAX;
			if (++label > LABEL_MAX)
				return MTASTS_ESYNTAX;
			if (c < '0' || c > '9')
				digits = 0;
		}
		out[i] = prev = c;
	}
	if (label == 0 || prev == '-' || digits)
		return MTASTS_ESYNTAX;
	out[len] = '\0';
	return MTASTS_OK;
}

/* U-labels to A-labels with libidn2 (IDNA2008, UTS #46 mapping). */
static int
name_copy_idn(const char *s, size_t len, char *out, size_t outsz)
{
	char	 buf[NAME_INPUT_MAX + 1];
	char	*ascii = NULL;
	int	 rc;

	if (len > NAME_INPUT_MAX)
		return MTASTS_ESYNTAX;
	memcpy(buf, s, len);
	buf[len] = '\0';
	rc = idn2_to_ascii_8z(buf, &ascii,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc == IDN2_MALLOC)
		return MTASTS_ENOMEM;
	if (rc != IDN2_OK)
		return MTASTS_ESYNTAX;
	len = strlen(ascii);
	if (len > 0 && ascii[len - 1] == '.')
		len--;
	rc = name_copy_ascii(ascii, len, out, outsz);
	idn2_free(ascii);
	return rc;
}
