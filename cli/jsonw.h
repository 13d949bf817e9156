/*
 * jsonw.h - a small JSON writer for the CLI's --json output.
 *
 * Values are written as they come, with commas and string escaping done
 * here. Every value takes a key: inside an object it is the member name,
 * inside an array or at the top it must be NULL. Strings that are not
 * valid UTF-8 have each bad byte replaced by U+FFFD.
 */
#ifndef MTASTS_CLI_JSONW_H
#define MTASTS_CLI_JSONW_H

#include <stdio.h>

#define JSONW_DEPTH_MAX	16

struct jsonw {
	FILE		*fp;			/* where output goes */
	int		 depth;			/* open objects and arrays */
	int		 count[JSONW_DEPTH_MAX];	/* values written per level */
};

void	jsonw_init(struct jsonw *js, FILE *fp);
void	jsonw_object_begin(struct jsonw *js, const char *key);
void	jsonw_object_end(struct jsonw *js);
void	jsonw_array_begin(struct jsonw *js, const char *key);
void	jsonw_array_end(struct jsonw *js);
void	jsonw_string(struct jsonw *js, const char *key, const char *val);
void	jsonw_uint(struct jsonw *js, const char *key, unsigned long long val);
void	jsonw_bool(struct jsonw *js, const char *key, int val);
/* Ends the document with a newline. */
void	jsonw_finish(struct jsonw *js);

#endif
