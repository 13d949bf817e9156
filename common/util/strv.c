/*
 * strv.c - vectors of strings (strv.h): freeing, appending, copying.
 *
 * Without a capacity the array is exactly n pointers long (strv_push()
 * grows it by one), so a vector built anywhere else, with calloc() or by
 * hand, can be pushed to and freed here with nothing to agree on. With
 * one, it doubles, so that a long vector costs no more than linear time.
 */
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "util/strv.h"

void
strv_free(char **v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
strv_push(char ***v, size_t *n, size_t *cap, char *s)
{
	char	**nv;
	size_t	  room;

	if (s == NULL)
		return MTASTS_ENOMEM;
	if (cap == NULL || *n >= *cap) {
		room = cap == NULL ? *n + 1 : *n < 2 ? 4 : *n * 2;
		if ((nv = reallocarray(*v, room, sizeof(*nv))) == NULL) {
			free(s);
			return MTASTS_ENOMEM;
		}
		*v = nv;
		if (cap != NULL)
			*cap = room;
	}
	(*v)[(*n)++] = s;
	return MTASTS_OK;
}

int
strv_dup(char *const *v, size_t n, char ***out)
{
	char	**d;
	size_t	  i;

	*out = NULL;
	if (n == 0)
		return MTASTS_OK;
	if ((d = calloc(n, sizeof(*d))) == NULL)
		return MTASTS_ENOMEM;
	for (i = 0; i < n; i++)
		if ((d[i] = strdup(v[i])) == NULL)
			goto fail;
	*out = d;
	return MTASTS_OK;
fail:
	strv_free(d, i);
	return MTASTS_ENOMEM;
}
