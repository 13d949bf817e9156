/*
 * netload.c - the network seam of mtasts.so: the real DNS and HTTPS
 * operations, loaded into Exim only when a lookup needs the network.
 *
 * Every Exim delivery is a new process that dlopen()s mtasts.so. Were
 * libunbound and libcurl linked into it, every delivery process would
 * load them and the dozens of libraries they pull in (10 to 60 ms
 * measured here) even when the policy comes from the cache, which is
 * almost always. So mtasts.so links this net_ops_real() instead of the
 * core's (common/net.c): the engine asks for the table when it first
 * needs the network (ctx_net()), and this loads mtasts-net.so (from the
 * folder mtasts.so was loaded from, else NETLOAD_PATH) and takes the
 * module's own net_ops_real(), its one exported symbol. A module that
 * cannot be loaded gives NULL, which the engine treats as a DNS and
 * fetch failure: logged, and RFC 8461's fallback applies.
 *
 * mtasts-net.so is built from the same dns.c, fetch.c, ev.c and log.c
 * sources as mtasts.so, so the structures they share agree.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "net/net.h"

#ifndef NETLOAD_PATH
#define NETLOAD_PATH	"/usr/local/lib/mtasts/mtasts-net.so"
#endif
#define NETLOAD_NAME	"mtasts-net.so"

typedef const struct net_ops *net_ops_fn(const struct logger *);

static void	*netload_open(const struct logger *);

const struct net_ops *
net_ops_real(const struct logger *lg)
{
	static const struct net_ops	*ops;
	static int			 tried;
	net_ops_fn			*fn;
	void				*h;

	if (tried)
		return ops;
	tried = 1;
	if ((h = netload_open(lg)) == NULL)
		return NULL;
	if ((fn = (net_ops_fn *)dlsym(h, "net_ops_real")) == NULL) {
		log_err(lg, "%s: no symbol net_ops_real", NETLOAD_NAME);
		return NULL;
	}
	ops = fn(lg);
	return ops;
}

static void *
netload_open(const struct logger *lg)
{
	Dl_info	 info;
	char	 path[PATH_MAX];
	char	*slash;
	void	*h;

	if (dladdr((void *)netload_open, &info) != 0 &&
	    info.dli_fname != NULL &&
	    strlen(info.dli_fname) < sizeof(path) - sizeof(NETLOAD_NAME)) {
		strcpy(path, info.dli_fname);
		if ((slash = strrchr(path, '/')) != NULL) {
			strcpy(slash + 1, NETLOAD_NAME);
			if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) != NULL)
				return h;
			log_debug(lg, "%s: %s", path, dlerror());
		}
	}
	if ((h = dlopen(NETLOAD_PATH, RTLD_NOW | RTLD_LOCAL)) == NULL)
		log_err(lg, "cannot load the DNS and HTTPS module: %s",
		    dlerror());
	return h;
}
