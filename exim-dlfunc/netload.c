/*
 * netload.c - the DNS and HTTPS parts of the engine, loaded into Exim
 * only when a lookup needs the network.
 *
 * Every Exim delivery is a new process that dlopen()s mtasts.so. Were
 * libunbound and libcurl linked into it, every delivery process would
 * load them and the dozens of libraries they pull in (10 to 60 ms
 * measured here) even when the policy comes from the cache, which is
 * almost always. So mtasts.so carries these stand-ins for the functions
 * of dns.h and fetch.h: dns_new() and fetch_new() load mtasts-net.so
 * (from the folder mtasts.so was loaded from, else NETLOAD_PATH) on
 * first use, and the other calls, which need a handle from those two,
 * forward to it (freeing results needs no module: common/netfree.c). A module that cannot be loaded makes dns_new() and
 * fetch_new() fail, which the engine treats as a DNS or fetch failure:
 * logged, and RFC 8461's fallback applies.
 *
 * mtasts-net.so is built from the same dns.c, fetch.c, ev.c and log.c
 * objects as mtasts.so, so the structures they share agree.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fetch.h"
#include "log.h"

#ifndef NETLOAD_PATH
#define NETLOAD_PATH	"/usr/local/lib/mtasts/mtasts-net.so"
#endif
#define NETLOAD_NAME	"mtasts-net.so"

/* The module's functions, by name; the order is that of struct net. */
static const char *const net_names[] = {
	"dns_new", "dns_free", "dns_txt", "dns_mx", "dns_addrs", "dns_tlsa",
	"dns_txt_async", "dns_addrs_async", "dns_mx_async",
	"fetch_new", "fetch_free", "fetch_policy", "fetch_policy_async"
};

static struct net {
	int	(*dns_new)(const struct config *, const struct logger *,
		    struct ev *, struct dns **);
	void	(*dns_free)(struct dns *);
	int	(*dns_txt)(struct dns *, const char *, char ***, size_t *);
	int	(*dns_mx)(struct dns *, const char *, struct dns_mx **,
		    size_t *);
	int	(*dns_addrs)(struct dns *, const char *, char ***, size_t *);
	int	(*dns_tlsa)(struct dns *, const char *, unsigned, int *);
	int	(*dns_txt_async)(struct dns *, const char *, dns_strv_cb *,
		    void *);
	int	(*dns_addrs_async)(struct dns *, const char *, dns_strv_cb *,
		    void *);
	int	(*dns_mx_async)(struct dns *, const char *, dns_mx_cb *,
		    void *);
	int	(*fetch_new)(const struct config *, const struct logger *,
		    struct ev *, struct fetch **);
	void	(*fetch_free)(struct fetch *);
	int	(*fetch_policy)(struct fetch *, const char *, char *const *,
		    size_t, struct fetch_result *);
	int	(*fetch_policy_async)(struct fetch *, const char *,
		    char *const *, size_t, fetch_cb *, void *);
} net;

static int	net_state;	/* 0: not tried, 1: loaded, -1: failed */

static int	netload(const struct logger *);
static void	*netload_open(const struct logger *);

/*
 * Loads the module once per process; 1 when its functions are usable.
 */
static int
netload(const struct logger *lg)
{
	void	**slot = (void **)&net;
	void	 *h;
	size_t	  i;

	if (net_state != 0)
		return net_state > 0;
	net_state = -1;
	if ((h = netload_open(lg)) == NULL)
		return 0;
	for (i = 0; i < sizeof(net_names) / sizeof(net_names[0]); i++) {
		if ((slot[i] = dlsym(h, net_names[i])) == NULL) {
			log_err(lg, "%s: no symbol %s", NETLOAD_NAME,
			    net_names[i]);
			memset(&net, 0, sizeof(net));
			return 0;
		}
	}
	net_state = 1;
	return 1;
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

int
dns_new(const struct config *conf, const struct logger *lg, struct ev *ev,
    struct dns **out)
{
	*out = NULL;
	if (!netload(lg))
		return MTASTS_EDNS;
	return net.dns_new(conf, lg, ev, out);
}

void
dns_free(struct dns *dns)
{
	if (dns != NULL)
		net.dns_free(dns);
}

int
dns_txt(struct dns *dns, const char *name, char ***txt, size_t *n)
{
	return net.dns_txt(dns, name, txt, n);
}

int
dns_mx(struct dns *dns, const char *domain, struct dns_mx **mx, size_t *n)
{
	return net.dns_mx(dns, domain, mx, n);
}

int
dns_addrs(struct dns *dns, const char *host, char ***addrs, size_t *n)
{
	return net.dns_addrs(dns, host, addrs, n);
}

int
dns_tlsa(struct dns *dns, const char *host, unsigned port, int *secure)
{
	return net.dns_tlsa(dns, host, port, secure);
}

int
dns_txt_async(struct dns *dns, const char *name, dns_strv_cb *cb, void *arg)
{
	return net.dns_txt_async(dns, name, cb, arg);
}

int
dns_addrs_async(struct dns *dns, const char *host, dns_strv_cb *cb,
    void *arg)
{
	return net.dns_addrs_async(dns, host, cb, arg);
}

int
dns_mx_async(struct dns *dns, const char *domain, dns_mx_cb *cb, void *arg)
{
	return net.dns_mx_async(dns, domain, cb, arg);
}

int
fetch_new(const struct config *conf, const struct logger *lg, struct ev *ev,
    struct fetch **out)
{
	*out = NULL;
	if (!netload(lg))
		return MTASTS_EFETCH;
	return net.fetch_new(conf, lg, ev, out);
}

void
fetch_free(struct fetch *f)
{
	if (f != NULL)
		net.fetch_free(f);
}

int
fetch_policy(struct fetch *f, const char *domain, char *const *addrs,
    size_t naddrs, struct fetch_result *res)
{
	return net.fetch_policy(f, domain, addrs, naddrs, res);
}

int
fetch_policy_async(struct fetch *f, const char *domain, char *const *addrs,
    size_t naddrs, fetch_cb *cb, void *arg)
{
	return net.fetch_policy_async(f, domain, addrs, naddrs, cb, arg);
}

