/*
 * mime.c - base64 and the report part of a TLS-RPT message.
 *
 * Finding the part is a line scan, not a full MIME parser: a header
 * block is a run of header lines (folded lines joined) ended by an empty
 * line; the body that follows runs to the next line starting with "--"
 * (a boundary) or the end. That is enough for the messages reporters
 * send (RFC 8460 section 5.3: multipart/report, the report as one part)
 * and for a message that is the report alone.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"
#include "util/mime.h"

#define MIME_LINE	76

struct mime_part {
	int		 report;	/* tlsrpt media type */
	int		 named;		/* filename *.json / *.json.gz */
	int		 base64;	/* Content-Transfer-Encoding */
	const char	*body;		/* first byte of the body */
	size_t		 len;
};

static const char	mime_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int	mime_b64_value(unsigned char);
static const char *mime_line_end(const char *, const char *);
static const char *mime_header(const char *, const char *,
		    struct mime_part *, int *);
static void	mime_header_field(const char *, size_t, struct mime_part *,
		    int *);
static const char *mime_body(const char *, const char *,
		    struct mime_part *);
static int	mime_contains(const char *, size_t, const char *);

char *
mime_base64(const void *in, size_t len)
{
	const unsigned char	*p = in;
	char			*out, *o;
	size_t			 i, col = 0, n;
	unsigned		 v;

	n = (len + 2) / 3 * 4;
	if ((out = malloc(n + (n / MIME_LINE + 1) * 2 + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i < len; i += 3) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = mime_b64[(v >> 18) & 63];
		*o++ = mime_b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? mime_b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? mime_b64[v & 63] : '=';
		if ((col += 4) == MIME_LINE) {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
	}
	if (col != 0) {
		*o++ = '\r';
		*o++ = '\n';
	}
	*o = '\0';
	return out;
}

static int
mime_b64_value(unsigned char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(mime_b64, c)) == NULL)
		return -1;
	return (int)(p - mime_b64);
}

int
mime_unbase64(const char *in, size_t len, char **out, size_t *outlen)
{
	unsigned char	*buf;
	unsigned	 acc = 0;
	size_t		 i, n = 0;
	int		 bits = 0, v;

	*out = NULL;
	*outlen = 0;
	if ((buf = malloc(len / 4 * 3 + 4)) == NULL)
		return MTASTS_ENOMEM;
	for (i = 0; i < len; i++) {
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' ||
		    in[i] == '\n')
			continue;
		if ((v = mime_b64_value((unsigned char)in[i])) < 0)
			break;
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (n == 0) {
		free(buf);
		return MTASTS_ESYNTAX;
	}
	buf[n] = '\0';
	*out = (char *)buf;
	*outlen = n;
	return MTASTS_OK;
}

/* Past the LF of the line at p (or the end). */
static const char *
mime_line_end(const char *p, const char *end)
{
	const char	*nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl + 1 : end;
}

static int
mime_contains(const char *s, size_t len, const char *word)
{
	size_t	wl = strlen(word), i;

	for (i = 0; i + wl <= len; i++)
		if (strncasecmp(s + i, word, wl) == 0)
			return 1;
	return 0;
}

/*
 * One header field (folded lines joined) at p: what it says about the
 * part. *isheader is 0 when p is not a header line.
 */
static const char *
mime_header(const char *p, const char *end, struct mime_part *part,
    int *isheader)
{
	const char	*q = mime_line_end(p, end), *colon;

	colon = memchr(p, ':', (size_t)(q - p));
	*isheader = colon != NULL && colon > p &&
	    strcspn(p, " \t:") == (size_t)(colon - p);
	if (!*isheader)
		return p;
	while (q < end && (*q == ' ' || *q == '\t'))
		q = mime_line_end(q, end);
	mime_header_field(p, (size_t)(q - p), part, isheader);
	return q;
}

static void
mime_header_field(const char *f, size_t len, struct mime_part *part,
    int *isheader)
{
	if (len >= 13 && strncasecmp(f, "Content-Type:", 13) == 0) {
		if (mime_contains(f, len, "application/tlsrpt+gzip") ||
		    mime_contains(f, len, "application/tlsrpt+json"))
			part->report = 1;
		if (mime_contains(f, len, ".json\"") ||
		    mime_contains(f, len, ".json.gz"))
			part->named = 1;
	} else if (len >= 26 && strncasecmp(f, "Content-Transfer-Encoding:",
	    26) == 0)
		part->base64 = mime_contains(f, len, "base64");
	else if (len >= 20 && strncasecmp(f, "Content-Disposition:", 20) ==
	    0 && (mime_contains(f, len, ".json\"") ||
	    mime_contains(f, len, ".json.gz") ||
	    mime_contains(f, len, ".json\r") ||
	    mime_contains(f, len, ".json\n")))
		part->named = 1;
	*isheader = 1;
}

/* The body from p to the next boundary line; returns where that is. */
static const char *
mime_body(const char *p, const char *end, struct mime_part *part)
{
	const char	*q = p;

	part->body = p;
	while (q < end && !(end - q >= 2 && q[0] == '-' && q[1] == '-'))
		q = mime_line_end(q, end);
	part->len = (size_t)(q - p);
	return q;
}

int
mime_find_report(const char *msg, size_t len, char **out, size_t *outlen)
{
	struct mime_part	 part, found;
	const char		*p = msg, *end = msg + len, *q;
	int			 isheader, have = 0;

	*out = NULL;
	*outlen = 0;
	memset(&found, 0, sizeof(found));
	while (p < end) {
		memset(&part, 0, sizeof(part));
		/* a header block, then an empty line, then the body */
		for (q = p; q < end; ) {
			q = mime_header(q, end, &part, &isheader);
			if (!isheader)
				break;
		}
		if (q == p) {		/* not a header: skip the line */
			p = mime_line_end(p, end);
			continue;
		}
		if (q < end && (*q == '\n' || (*q == '\r' && q + 1 < end &&
		    q[1] == '\n')))
			q = mime_line_end(q, end);
		p = mime_body(q, end, &part);
		if (part.report) {
			found = part;
			have = 2;
			break;
		}
		if (part.named && have == 0) {
			found = part;
			have = 1;
		}
	}
	if (!have)
		return MTASTS_ENOTFOUND;
	if (found.base64)
		return mime_unbase64(found.body, found.len, out, outlen) ==
		    MTASTS_ENOMEM ? MTASTS_ENOMEM : (*out != NULL ?
		    MTASTS_OK : MTASTS_ENOTFOUND);
	if ((*out = malloc(found.len + 1)) == NULL)
		return MTASTS_ENOMEM;
	memcpy(*out, found.body, found.len);
	(*out)[found.len] = '\0';
	*outlen = found.len;
	return MTASTS_OK;
}
