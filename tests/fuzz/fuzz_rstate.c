/*
 * fuzz_rstate.c - libFuzzer target for rstate_parse(), the reader of a
 * TLS-RPT report's delivery state file (common/rstate.c).
 *
 * Invariants (abort() when broken): a file that parses has a domain and
 * a report-id, day and built not negative, and every rua a non-empty URI
 * with a known status; no field holds a line break. Saved with
 * rstate_save() and read back with rstate_load(), it gives the same
 * state (what the sender writes, it can read). A file that does not
 * parse leaves the state empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtasts.h"
#include "tlsrpt/rstate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_state(const struct rstate *);
static void	check_same(const struct rstate *, const struct rstate *);
static const char *tmp_path(void);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rstate	st, back;

	if (rstate_parse((const char *)data, size, &st) != MTASTS_OK) {
		if (st.domain != NULL || st.report_id != NULL ||
		    st.rua != NULL || st.nrua != 0)
			abort();
		return 0;
	}
	check_state(&st);
	if (rstate_save(tmp_path(), &st) != MTASTS_OK)
		abort();
	if (rstate_load(tmp_path(), &back) != MTASTS_OK)
		abort();
	check_same(&st, &back);
	rstate_clear(&back);
	rstate_clear(&st);
	return 0;
}

static void
check_state(const struct rstate *st)
{
	size_t	i;

	if (st->domain == NULL || st->report_id == NULL || st->day < 0 ||
	    st->built < 0 || strpbrk(st->domain, "\n") != NULL ||
	    strpbrk(st->report_id, "\n") != NULL)
		abort();
	for (i = 0; i < st->nrua; i++)
		if (st->rua[i].uri == NULL || st->rua[i].uri[0] == '\0' ||
		    strchr(st->rua[i].uri, '\n') != NULL ||
		    st->rua[i].status > RSTATE_BAD || st->rua[i].last < 0)
			abort();
}

static void
check_same(const struct rstate *a, const struct rstate *b)
{
	size_t	i;

	if (strcmp(a->domain, b->domain) != 0 ||
	    strcmp(a->report_id, b->report_id) != 0 || a->day != b->day ||
	    a->built != b->built || a->nrua != b->nrua)
		abort();
	for (i = 0; i < a->nrua; i++)
		if (strcmp(a->rua[i].uri, b->rua[i].uri) != 0 ||
		    a->rua[i].status != b->rua[i].status ||
		    a->rua[i].attempts != b->rua[i].attempts ||
		    a->rua[i].last != b->rua[i].last)
			abort();
}

/* One file per process, removed at exit. */
static char	path[64];

static void
tmp_unlink(void)
{
	unlink(path);
}

static const char *
tmp_path(void)
{
	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/fuzz_rstate.%ld.state",
		    (long)getpid());
		atexit(tmp_unlink);
	}
	return path;
}
