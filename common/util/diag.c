/*
 * diag.c - parser diagnostics: the first error and a few warnings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/diag.h"

void
diag_init(struct mtasts_diag *diag)
{
	if (diag != NULL)
		memset(diag, 0, sizeof(*diag));
}

int
diag_error(struct mtasts_diag *diag, int err, unsigned line,
    const char *fmt, ...)
{
	va_list	ap;

	if (diag == NULL || diag->error.msg[0] != '\0')
		return err;
	diag->error.line = line;
	va_start(ap, fmt);
	vsnprintf(diag->error.msg, sizeof(diag->error.msg), fmt, ap);
	va_end(ap);
	return err;
}

void
diag_warn(struct mtasts_diag *diag, unsigned line, const char *fmt, ...)
{
	struct mtasts_diag_item	*w;
	va_list			 ap;

	if (diag == NULL || diag->nwarn >= MTASTS_DIAG_WARN_MAX)
		return;
	w = &diag->warn[diag->nwarn++];
	w->line = line;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}
