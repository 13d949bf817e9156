/*
 * netfree.c - freeing what fetch.c hands out (dns.c's string vectors
 * are freed with strv_free(), util/strv.h).
 *
 * Apart from fetch.c so that the engine can free results without it:
 * in Exim, mtasts.so loads fetch.c and dns.c (mtasts-net.so) only when
 * a lookup needs the network (see common/net/netload.c).
 */
#include <stdlib.h>
#include <string.h>

#include "net/fetch.h"

void
fetch_result_clear(struct fetch_result *res)
{
	free(res->body);
	memset(res, 0, sizeof(*res));
}
