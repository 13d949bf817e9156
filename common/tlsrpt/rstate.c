/*
 * rstate.c - read and write a report's delivery state file.
 *
 *	mtasts-report-state 1
 *	domain example.com
 *	report-id 20261124.0123456789abcdef@mx.example.net
 *	day 1763942400
 *	built 1764028860
 *	rua pending 0 0 mailto:tlsrpt@example.com
 *	rua sent 1 1764030000 https://tlsrpt.example.com/v1
 *
 * rua lines: status, attempts, last try (unix time), URI (the rest of
 * the line). Numbers are decimal digits only, range-checked. Files are
 * small (at most RSTATE_MAX bytes, lines under RSTATE_LINE); anything
 * else is a syntax error. rstate_parse() reads the text of one file.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtasts.h"
#include "tlsrpt/rstate.h"

#define RSTATE_MAGIC	"mtasts-report-state 1"
#define RSTATE_LINE	4096	/* a line, LF included, is shorter */
#define RSTATE_MAX	(64 * 1024)	/* a whole file */

static const char *const rstate_names[] = {
	[RSTATE_PENDING] = "pending",
	[RSTATE_SENT] = "sent",
	[RSTATE_EXPIRED] = "expired",
	[RSTATE_BAD] = "bad",
};

static int	rstate_line(struct rstate *, char *);
static int	rstate_rua_line(struct rstate *, char *);
static int	rstate_number(const char *, long long, long long *,
		    const char **);

const char *
rstate_status_name(enum rstate_status s)
{
	return (unsigned)s < 4 ? rstate_names[s] : "?";
}

void
rstate_clear(struct rstate *st)
{
	size_t	i;

	free(st->domain);
	free(st->report_id);
	for (i = 0; i < st->nrua; i++)
		free(st->rua[i].uri);
	free(st->rua);
	memset(st, 0, sizeof(*st));
}

int
rstate_add_rua(struct rstate *st, const char *uri)
{
	struct rstate_rua	*v;

	if ((v = reallocarray(st->rua, st->nrua + 1, sizeof(*v))) == NULL)
		return MTASTS_ENOMEM;
	st->rua = v;
	memset(&v[st->nrua], 0, sizeof(*v));
	if ((v[st->nrua].uri = strdup(uri)) == NULL)
		return MTASTS_ENOMEM;
	st->nrua++;
	return MTASTS_OK;
}

int
rstate_load(const char *path, struct rstate *st)
{
	char	*buf;
	FILE	*fp;
	size_t	 len;
	int	 rc;

	memset(st, 0, sizeof(*st));
	if ((buf = malloc(RSTATE_MAX + 1)) == NULL)
		return MTASTS_ENOMEM;
	if ((fp = fopen(path, "re")) == NULL) {
		free(buf);
		return MTASTS_EIO;
	}
	len = fread(buf, 1, RSTATE_MAX + 1, fp);
	rc = ferror(fp) ? MTASTS_EIO : len > RSTATE_MAX ? MTASTS_ESYNTAX :
	    rstate_parse(buf, len, st);
	fclose(fp);
	free(buf);
	return rc;
}

int
rstate_parse(const char *buf, size_t len, struct rstate *st)
{
	char		 line[RSTATE_LINE];
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 n;
	int		 rc = MTASTS_OK, first = 1;

	memset(st, 0, sizeof(*st));
	if (len > RSTATE_MAX || memchr(buf, '\0', len) != NULL)
		return MTASTS_ESYNTAX;
	while (rc == MTASTS_OK && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl != NULL ? nl : end) - p;
		if (n >= sizeof(line)) {
			rc = MTASTS_ESYNTAX;
			break;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);
		if (first)
			rc = strcmp(line, RSTATE_MAGIC) == 0 ? MTASTS_OK :
			    MTASTS_ESYNTAX;
		else
			rc = rstate_line(st, line);
		first = 0;
	}
	if (rc == MTASTS_OK && (first || st->domain == NULL ||
	    st->report_id == NULL))
		rc = MTASTS_ESYNTAX;
	if (rc != MTASTS_OK)
		rstate_clear(st);
	return rc;
}

static int
rstate_line(struct rstate *st, char *line)
{
	char		*val = strchr(line, ' ');
	long long	 v;

	if (val == NULL)
		return MTASTS_ESYNTAX;
	*val++ = '\0';
	if (strcmp(line, "domain") == 0 && st->domain == NULL)
		return (st->domain = strdup(val)) ? MTASTS_OK : MTASTS_ENOMEM;
	if (strcmp(line, "report-id") == 0 && st->report_id == NULL)
		return (st->report_id = strdup(val)) ? MTASTS_OK :
		    MTASTS_ENOMEM;
	if (strcmp(line, "day") == 0 || strcmp(line, "built") == 0) {
		if (rstate_number(val, INT64_MAX, &v, NULL) != 0)
			return MTASTS_ESYNTAX;
		*(line[0] == 'd' ? &st->day : &st->built) = (time_t)v;
		return MTASTS_OK;
	}
	if (strcmp(line, "rua") == 0)
		return rstate_rua_line(st, val);
	return MTASTS_ESYNTAX;
}

/*
 * 1 to 19 decimal digits, at most max; with rest NULL the whole of s,
 * else up to a space, and *rest just after that space.
 */
static int
rstate_number(const char *s, long long max, long long *out,
    const char **rest)
{
	long long	v = 0;
	size_t		i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 19 || v > (max - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || (rest == NULL ? s[i] != '\0' : s[i] != ' '))
		return -1;
	if (rest != NULL)
		*rest = s + i + 1;
	*out = v;
	return 0;
}

/* "STATUS ATTEMPTS LAST URI", one space between each */
static int
rstate_rua_line(struct rstate *st, char *val)
{
	const char	*p;
	long long	 attempts, last;
	size_t		 len;
	int		 i, rc;

	for (i = 0; i < 4; i++) {
		len = strlen(rstate_names[i]);
		if (strncmp(val, rstate_names[i], len) == 0 && val[len] == ' ')
			break;
	}
	if (i == 4)
		return MTASTS_ESYNTAX;
	p = val + len + 1;
	if (rstate_number(p, UINT_MAX, &attempts, &p) != 0 ||
	    rstate_number(p, INT64_MAX, &last, &p) != 0 || *p == '\0' ||
	    *p == ' ')
		return MTASTS_ESYNTAX;
	if ((rc = rstate_add_rua(st, p)) != MTASTS_OK)
		return rc;
	st->rua[st->nrua - 1].status = (enum rstate_status)i;
	st->rua[st->nrua - 1].attempts = (unsigned)attempts;
	st->rua[st->nrua - 1].last = (time_t)last;
	return MTASTS_OK;
}

int
rstate_save(const char *path, const struct rstate *st)
{
	char	 tmp[4096];
	FILE	*fp;
	size_t	 i;
	int	 bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return MTASTS_EINVAL;
	if ((fp = fopen(tmp, "we")) == NULL)
		return MTASTS_EIO;
	fprintf(fp, "%s\ndomain %s\nreport-id %s\nday %lld\nbuilt %lld\n",
	    RSTATE_MAGIC, st->domain, st->report_id, (long long)st->day,
	    (long long)st->built);
	for (i = 0; i < st->nrua; i++)
		fprintf(fp, "rua %s %u %lld %s\n",
		    rstate_names[st->rua[i].status], st->rua[i].attempts,
		    (long long)st->rua[i].last, st->rua[i].uri);
	bad = fflush(fp) != 0 || ferror(fp);
	bad |= fclose(fp) != 0;
	if (bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return MTASTS_EIO;
	}
	return MTASTS_OK;
}
