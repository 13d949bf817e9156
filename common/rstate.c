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
 * the line). Files are small; anything else is a syntax error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtasts.h"
#include "rstate.h"

#define RSTATE_MAGIC	"mtasts-report-state 1"
#define RSTATE_LINE	4096

static const char *const rstate_names[] = {
	[RSTATE_PENDING] = "pending",
	[RSTATE_SENT] = "sent",
	[RSTATE_EXPIRED] = "expired",
	[RSTATE_BAD] = "bad",
};

static int	rstate_line(struct rstate *, char *);
static int	rstate_rua_line(struct rstate *, char *);

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
	char	 line[RSTATE_LINE];
	FILE	*fp;
	int	 rc = MTASTS_OK, first = 1;

	memset(st, 0, sizeof(*st));
	if ((fp = fopen(path, "re")) == NULL)
		return MTASTS_EIO;
	while (rc == MTASTS_OK && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (first)
			rc = strcmp(line, RSTATE_MAGIC) == 0 ? MTASTS_OK :
			    MTASTS_ESYNTAX;
		else
			rc = rstate_line(st, line);
		first = 0;
	}
	if (ferror(fp))
		rc = MTASTS_EIO;
	fclose(fp);
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
	char	*val = strchr(line, ' ');

	if (val == NULL)
		return MTASTS_ESYNTAX;
	*val++ = '\0';
	if (strcmp(line, "domain") == 0 && st->domain == NULL)
		return (st->domain = strdup(val)) ? MTASTS_OK : MTASTS_ENOMEM;
	if (strcmp(line, "report-id") == 0 && st->report_id == NULL)
		return (st->report_id = strdup(val)) ? MTASTS_OK :
		    MTASTS_ENOMEM;
	if (strcmp(line, "day") == 0)
		return (st->day = (time_t)strtoll(val, NULL, 10)) >= 0 ?
		    MTASTS_OK : MTASTS_ESYNTAX;
	if (strcmp(line, "built") == 0)
		return (st->built = (time_t)strtoll(val, NULL, 10)) >= 0 ?
		    MTASTS_OK : MTASTS_ESYNTAX;
	if (strcmp(line, "rua") == 0)
		return rstate_rua_line(st, val);
	return MTASTS_ESYNTAX;
}

/* "STATUS ATTEMPTS LAST URI" */
static int
rstate_rua_line(struct rstate *st, char *val)
{
	char		 status[16];
	unsigned	 attempts;
	long long	 last;
	int		 n = 0, i, rc;

	if (sscanf(val, "%15s %u %lld %n", status, &attempts, &last, &n) !=
	    3 || n == 0 || val[n] == '\0')
		return MTASTS_ESYNTAX;
	for (i = 0; i < 4; i++)
		if (strcmp(status, rstate_names[i]) == 0)
			break;
	if (i == 4)
		return MTASTS_ESYNTAX;
	if ((rc = rstate_add_rua(st, val + n)) != MTASTS_OK)
		return rc;
	st->rua[st->nrua - 1].status = (enum rstate_status)i;
	st->rua[st->nrua - 1].attempts = attempts;
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
