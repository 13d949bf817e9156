/*
 * netfree.c - freeing what dns.c and fetch.c hand out.
 *
 * Apart from those modules so that the engine can free results without
 * them: in Exim, mtasts.so loads them (mtasts-net.so) only when a lookup
 * needs the network (see exim-dlfunc/netload.c).
 */
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"
#include "net/fetch.h"

void
dns_strv_free(char **v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
fetch_result_clear(struct fetch_result *res)
{
	free(res->body);
	memset(res, 0, sizeof(*res));
}
