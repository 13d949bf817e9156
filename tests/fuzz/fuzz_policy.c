/*
 * fuzz_policy.c - libFuzzer target for mtasts_policy_parse().
 *
 * Invariants checked (abort() when broken): a parse that succeeds gives
 * a policy that mtasts_policy_format() prints and that prints back to the
 * same policy (mode, max_age, patterns) without warnings; every pattern
 * matches the host it names (with "*." replaced by a label); a failure
 * always leaves *out NULL and says why in diag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_roundtrip(const struct mtasts_policy *);
static void	check_patterns(const struct mtasts_policy *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_policy	*pol = (struct mtasts_policy *)1;
	struct mtasts_diag	 diag;
	int			 rc;

	rc = mtasts_policy_parse((const char *)data, size, &pol, &diag);
	if (rc != MTASTS_OK) {
		if (pol != NULL || diag.error.msg[0] == '\0')
			abort();
		return 0;
	}
	if (diag.error.msg[0] != '\0')
		abort();
	if (pol->nmx == 0 && pol->mode != MTASTS_MODE_NONE)
		abort();
	if (pol->max_age > MTASTS_MAX_AGE_MAX)
		abort();
	check_roundtrip(pol);
	check_patterns(pol);
	mtasts_policy_free(pol);
	return 0;
}

static void
check_roundtrip(const struct mtasts_policy *pol)
{
	struct mtasts_policy	*again = NULL;
	struct mtasts_diag	 diag;
	char			*text;
	size_t			 i, len;

	if ((text = mtasts_policy_format(pol)) == NULL)
		abort();
	len = strlen(text);
	/*
	 * "mx:a" prints as "mx: a": a body near the size limit can print
	 * longer than the limit. Only then is a refusal right.
	 */
	if (mtasts_policy_parse(text, len, &again, &diag) != MTASTS_OK) {
		if (len > MTASTS_POLICY_MAX_BODY)
			goto done;
		abort();
	}
	if (diag.nwarn != 0 || again->mode != pol->mode ||
	    again->max_age != pol->max_age || again->nmx != pol->nmx)
		abort();
	for (i = 0; i < pol->nmx; i++)
		if (strcmp(again->mx[i], pol->mx[i]) != 0)
			abort();
done:
	mtasts_policy_free(again);
	free(text);
}

static void
check_patterns(const struct mtasts_policy *pol)
{
	char	host[MTASTS_NAME_MAX + 3];
	size_t	i, len;

	for (i = 0; i < pol->nmx; i++) {
		len = strlen(pol->mx[i]);
		if (len > MTASTS_NAME_MAX)
			abort();
		if (strncmp(pol->mx[i], "*.", 2) != 0) {
			if (mtasts_policy_match(pol, pol->mx[i]) != 1)
				abort();
			continue;
		}
		/* "*.rest": "x.rest" matches, "rest" and "y.x.rest" do not */
		memcpy(host, "y.", 2);
		memcpy(host + 2, pol->mx[i], len + 1);
		host[2] = 'x';
		if (mtasts_mx_match(host + 2, pol->mx[i]) != 1 ||
		    mtasts_policy_match(pol, host + 2) != 1 ||
		    mtasts_mx_match(host + 4, pol->mx[i]) != 0)
			abort();
		if (len + 2 <= MTASTS_NAME_MAX &&
		    mtasts_mx_match(host, pol->mx[i]) != 0)
			abort();
	}
}
