/*
 * log.h - the engine's logging: one callback the caller installs.
 *
 * The library never prints. Every module that logs holds a pointer to
 * the context's logger and calls log_msg() or the level macros; a NULL
 * logger or callback means silence.
 */
#ifndef MTASTS_LOG_H
#define MTASTS_LOG_H

#include "mtasts.h"

struct logger {
	mtasts_log_fn		*fn;	/* NULL: discard everything */
	void			*arg;	/* passed back to fn */
	enum mtasts_loglevel	 level;	/* highest level passed on */
};

void	log_msg(const struct logger *lg, enum mtasts_loglevel level,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(lg, ...)	log_msg((lg), MTASTS_LOG_ERR, __VA_ARGS__)
#define log_warn(lg, ...)	log_msg((lg), MTASTS_LOG_WARN, __VA_ARGS__)
#define log_info(lg, ...)	log_msg((lg), MTASTS_LOG_INFO, __VA_ARGS__)
#define log_debug(lg, ...)	log_msg((lg), MTASTS_LOG_DEBUG, __VA_ARGS__)

#endif
