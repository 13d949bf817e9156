/*
 * cli.c - helpers the mtasts(8) commands share: bounded file reading,
 * usage text, getopt reset and durations for humans.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtasts.h"
#include "cli.h"

static int	cli_read_fd(int, size_t, char **, size_t *);

int
cli_read(const char *path, size_t max, char **buf, size_t *len)
{
	int	fd, rv, saved;

	if (strcmp(path, "-") == 0)
		return cli_read_fd(STDIN_FILENO, max, buf, len);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	rv = cli_read_fd(fd, max, buf, len);
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

/* Reads until EOF or max + 1 bytes, whichever comes first. */
static int
cli_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	char	*b;
	size_t	 n = 0;
	ssize_t	 r;

	if ((b = malloc(max + 2)) == NULL)
		return -1;
	while (n < max + 1) {
		r = read(fd, b + n, max + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
fail:
	free(b);
	return -1;
}

const char *
cli_display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int
cli_usage(FILE *fp, const char *text)
{
	fprintf(fp, "usage: mtasts %s", text);
	return fp == stdout ? CLI_OK : CLI_USAGE;
}

void
cli_getopt_reset(void)
{
	optind = 0;	/* glibc: 0 also resets its internal state */
	opterr = 1;
}

void
cli_duration(char *buf, size_t size, unsigned long secs)
{
	static const struct {
		const char	*name;
		unsigned long	 secs;
	} unit[] = {
		{ "day", 86400 }, { "hour", 3600 }, { "minute", 60 },
		{ "second", 1 }
	};
	size_t		 i, off = 0;
	unsigned long	 q;

	buf[0] = '\0';
	for (i = 0; i < sizeof(unit) / sizeof(unit[0]); i++) {
		q = secs / unit[i].secs;
		secs %= unit[i].secs;
		if (q == 0 || off >= size)
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s%lu %s%s",
		    off > 0 ? " " : "", q, unit[i].name, q == 1 ? "" : "s");
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "0 seconds");
}

const char *
cli_diag_msg(const struct mtasts_diag_item *item)
{
	static const char	*prefix[] = { "line", "record" };
	char			 buf[32];
	size_t			 i, n;

	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "%s %u: ", prefix[i],
		    item->line);
		if (item->line > 0 && strncmp(item->msg, buf, n) == 0)
			return item->msg + n;
	}
	return item->msg;
}

static void
cli_log(void *arg, enum mtasts_loglevel level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info",
	    "debug" };

	fprintf(stderr, "mtasts: %s: %s\n", names[level], msg);
}

int
cli_open(const char *conf, int verbose, struct mtasts_ctx **ctx)
{
	struct mtasts_diag	diag;
	int			rc;

	rc = mtasts_ctx_open(conf, cli_log, NULL, verbose ? MTASTS_LOG_DEBUG :
	    MTASTS_LOG_WARN, ctx, &diag);
	if (rc == MTASTS_OK)
		return CLI_OK;
	if (diag.error.msg[0] != '\0')
		fprintf(stderr, "mtasts: %s: %s\n", conf ? conf :
		    MTASTS_DEFAULT_CONF, diag.error.msg);
	else
		fprintf(stderr, "mtasts: %s: %s\n", conf ? conf :
		    MTASTS_DEFAULT_CONF, mtasts_strerror(rc));
	return CLI_USAGE;
}

void
cli_time(char *buf, size_t size, long long t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "never");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int
cli_parse_day(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0')
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}
