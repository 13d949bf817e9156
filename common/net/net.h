/*
 * net.h - the network seam: every DNS and HTTPS operation of the engine
 * goes through one table of operations.
 *
 * The engine never calls dns.c or fetch.c by name: a context takes its
 * table from net_ops_real() when it first needs the network (ctx_net()),
 * or a test gives it a scripted one (ctx_set_net()), as Unbound's replay
 * tests script their network. In Exim, mtasts.so links its own
 * net_ops_real() (exim-dlfunc/netload.c), which loads mtasts-net.so, the
 * real table, only when a lookup needs the network; that module exports
 * this one symbol and nothing else.
 *
 * The operations are those of dns.h and fetch.h, with their contracts:
 * handles come from dns_new and fetch_new of the same table; results are
 * freed with strv_free() (util/strv.h), free() (MX arrays) and
 * fetch_result_clear() (netfree.c), which need no table.
 */
#ifndef MTASTS_NET_H
#define MTASTS_NET_H

#include "util/log.h"
#include "net/dns.h"
#include "net/fetch.h"

struct net_ops {
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
	int	(*dns_tlsa_async)(struct dns *, const char *, unsigned,
		    dns_strv_cb *, void *);
};

/*
 * The real network: libunbound and libcurl. NULL when it cannot be had
 * (mtasts.so: mtasts-net.so could not be loaded; logged to lg), which
 * the engine treats as a DNS and fetch failure.
 */
const struct net_ops *net_ops_real(const struct logger *lg);

#endif
