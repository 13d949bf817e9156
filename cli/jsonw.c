/*
 * jsonw.c - a small JSON writer (RFC 8259) for the CLI's --json output.
 *
 * The caller writes values in order; jsonw_* inserts the commas and
 * escapes strings: '"', '\\' and control characters are escaped, valid
 * UTF-8 passes through, and each byte of an invalid sequence becomes
 * U+FFFD so that the output is always valid JSON.
 */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

static void	jsonw_value_begin(struct jsonw *, const char *);
static void	jsonw_escape(FILE *, const char *);
static size_t	jsonw_utf8_len(const unsigned char *);

void
jsonw_init(struct jsonw *js, FILE *fp)
{
	memset(js, 0, sizeof(*js));
	js->fp = fp;
}

void
jsonw_object_begin(struct jsonw *js, const char *key)
{
	jsonw_value_begin(js, key);
	fputc('{', js->fp);
	if (js->depth < JSONW_DEPTH_MAX - 1)
		js->count[++js->depth] = 0;
}

void
jsonw_object_end(struct jsonw *js)
{
	fputc('}', js->fp);
	if (js->depth > 0)
		js->depth--;
}

void
jsonw_array_begin(struct jsonw *js, const char *key)
{
	jsonw_value_begin(js, key);
	fputc('[', js->fp);
	if (js->depth < JSONW_DEPTH_MAX - 1)
		js->count[++js->depth] = 0;
}

void
jsonw_array_end(struct jsonw *js)
{
	fputc(']', js->fp);
	if (js->depth > 0)
		js->depth--;
}

void
jsonw_string(struct jsonw *js, const char *key, const char *val)
{
	jsonw_value_begin(js, key);
	jsonw_escape(js->fp, val);
}

void
jsonw_uint(struct jsonw *js, const char *key, unsigned long long val)
{
	jsonw_value_begin(js, key);
	fprintf(js->fp, "%llu", val);
}

void
jsonw_bool(struct jsonw *js, const char *key, int val)
{
	jsonw_value_begin(js, key);
	fputs(val ? "true" : "false", js->fp);
}

void
jsonw_finish(struct jsonw *js)
{
	fputc('\n', js->fp);
}

/* The comma before every value but the first of its level, and the key. */
static void
jsonw_value_begin(struct jsonw *js, const char *key)
{
	if (js->count[js->depth]++ > 0)
		fputc(',', js->fp);
	if (key != NULL) {
		jsonw_escape(js->fp, key);
		fputc(':', js->fp);
	}
}

static void
jsonw_escape(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	fputc('"', fp);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fputc('\\', fp);
			fputc(*p++, fp);
		} else if (*p == '\n') {
			fputs("\\n", fp);
			p++;
		} else if (*p == '\r') {
			fputs("\\r", fp);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", fp);
			p++;
		} else if (*p < 0x20) {
			fprintf(fp, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, fp);
		} else if ((n = jsonw_utf8_len(p)) > 0) {
			fwrite(p, 1, n, fp);
			p += n;
		} else {
			fputs("\\ufffd", fp);
			p++;
		}
	}
	fputc('"', fp);
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629 section
 * 4: no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
jsonw_utf8_len(const unsigned char *p)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}
