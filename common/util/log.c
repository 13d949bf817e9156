/*
 * log.c - format a message and hand it to the caller's log callback.
 *
 * Messages longer than one line buffer are cut; control characters
 * (which could forge log lines when they come from DNS or HTTP) are
 * replaced by '?'.
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

#define LOG_LINE_MAX	1024

void
log_msg(const struct logger *lg, enum mtasts_loglevel level,
    const char *fmt, ...)
{
	char	 buf[LOG_LINE_MAX];
	char	*p;
	va_list	 ap;

	if (lg == NULL || lg->fn == NULL || level > lg->level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	lg->fn(lg->arg, level, buf);
}
