/*
 * diag.h - fill in a struct mtasts_diag (parsers and the config reader).
 */
#ifndef MTASTS_DIAG_H
#define MTASTS_DIAG_H

#include "mtasts.h"

/* Clears diag (NULL allowed). */
void	diag_init(struct mtasts_diag *diag);
/* Records the error (the first one wins); returns err for tail calls. */
int	diag_error(struct mtasts_diag *diag, int err, unsigned line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Adds a warning; those past MTASTS_DIAG_WARN_MAX are dropped. */
void	diag_warn(struct mtasts_diag *diag, unsigned line,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
