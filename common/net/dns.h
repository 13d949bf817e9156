/*
 * dns.h - DNS lookups on libunbound: TXT, MX, A/AAAA and TLSA, with
 * DNSSEC validation when a trust anchor is configured. Synchronous calls
 * and asynchronous ones driven by the engine's struct ev.
 *
 * Results: MTASTS_OK with at least one record; MTASTS_ENOTFOUND for
 * NXDOMAIN or NODATA (a definite "no"); MTASTS_EDNS for SERVFAIL, a
 * timeout, a bogus DNSSEC answer or a malformed answer (a "don't know").
 */
#ifndef MTASTS_DNS_H
#define MTASTS_DNS_H

#include "mtasts.h"
#include "util/ev.h"
#include "util/log.h"
#include "conf/config.h"

struct dns;

struct dns_mx {
	unsigned	 pref;			/* preference */
	char		 host[MTASTS_NAME_MAX + 1]; /* normalised, no dot */
};

/*
 * The error an asynchronous callback gets when dns_free() cancels its
 * lookup (the wait for it ended), with no data; dns_free() refuses new
 * lookups (from those callbacks) with it too.
 * A timed-out asynchronous lookup gets MTASTS_EDNS, so this value means
 * "cancelled" there.
 */
#define DNS_ECANCELED	MTASTS_ETIMEOUT

/* ev may be NULL when only the synchronous calls are used. */
int	dns_new(const struct config *conf, const struct logger *lg,
	    struct ev *ev, struct dns **out);
void	dns_free(struct dns *dns);

/* TXT records at name, CNAMEs followed, each record's strings joined
 * without spaces. Free with strv_free() (util/strv.h). */
int	dns_txt(struct dns *dns, const char *name, char ***txt, size_t *n);
/* MX records, sorted by preference (then name). free() the array. A
 * null MX (RFC 7505, "0 .") is one record with host "". */
int	dns_mx(struct dns *dns, const char *domain, struct dns_mx **mx,
	    size_t *n);
/* IPv4 then IPv6 addresses of host as text; free with strv_free(). */
int	dns_addrs(struct dns *dns, const char *host, char ***addrs,
	    size_t *n);
/* TLSA at _port._tcp.host: MTASTS_OK when present and *secure says
 * whether DNSSEC validated it. */
int	dns_tlsa(struct dns *dns, const char *host, unsigned port,
	    int *secure);

/*
 * Asynchronous forms. The callback runs once, from ev_process() (never
 * from inside the call that started it); the arrays are freed when it
 * returns, so it copies what it keeps. Returns MTASTS_OK when started.
 * A lookup not answered within conf->dns_timeout is cancelled and its
 * callback gets MTASTS_EDNS. dns_free() answers lookups in flight with
 * DNS_ECANCELED, each once; do not call it from a callback.
 * After a fork the child gets a fresh resolver for the synchronous calls;
 * the asynchronous ones are for processes that do not fork.
 */
typedef void dns_strv_cb(void *arg, int err, char **v, size_t n);
int	dns_txt_async(struct dns *dns, const char *name, dns_strv_cb *cb,
	    void *arg);
int	dns_addrs_async(struct dns *dns, const char *host, dns_strv_cb *cb,
	    void *arg);
typedef void dns_mx_cb(void *arg, int err, struct dns_mx *mx, size_t n);
int	dns_mx_async(struct dns *dns, const char *domain, dns_mx_cb *cb,
	    void *arg);
/* TLSA at _port._tcp.host: MTASTS_OK with the records as text "USAGE
 * SELECTOR MTYPE HEX" when DNSSEC validated the RRset, MTASTS_OK with
 * none when it did not (insecure). */
int	dns_tlsa_async(struct dns *dns, const char *host, unsigned port,
	    dns_strv_cb *cb, void *arg);

#endif
