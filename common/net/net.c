/*
 * net.c - the real network as a table of operations (see net.h): the
 * resolver of dns.c and the HTTPS client of fetch.c.
 */
#include "net/net.h"

static const struct net_ops net_real = {
	dns_new, dns_free, dns_txt, dns_mx, dns_addrs, dns_tlsa,
	dns_txt_async, dns_addrs_async, dns_mx_async,
	fetch_new, fetch_free, fetch_policy, fetch_policy_async,
	dns_tlsa_async
};

const struct net_ops *
net_ops_real(const struct logger *lg)
{
	(void)lg;
	return &net_real;
}
