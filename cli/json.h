/*
 * json.h - a small JSON writer for the CLI's --json output.
 *
 * Values are written as they come, with commas and string escaping done
 * here. Every value takes a key: inside an object it is the member name,
 * inside an array or at the top it must be NULL. Strings that are not
 * valid UTF-8 have each bad byte replaced by U+FFFD.
 */
#ifndef MTASTS_CLI_JSON_H
#define MTASTS_CLI_JSON_H

#include <stdio.h>

#define JSON_DEPTH_MAX	16

struct json {
	FILE		*fp;			/* where output goes */
	int		 depth;			/* open objects and arrays */
	int		 count[JSON_DEPTH_MAX];	/* values written per level */
};

void	json_init(struct json *js, FILE *fp);
void	json_object_begin(struct json *js, const char *key);
void	json_object_end(struct json *js);
void	json_array_begin(struct json *js, const char *key);
void	json_array_end(struct json *js);
void	json_string(struct json *js, const char *key, const char *val);
void	json_uint(struct json *js, const char *key, unsigned long long val);
void	json_bool(struct json *js, const char *key, int val);
/* Ends the document with a newline. */
void	json_finish(struct json *js);

#endif
