/*
 * tlsa.c - the TLSA RRset of an MX host for DANE (declared in mtasts.h):
 * a thin layer over the network seam's dns_tlsa_async() that hands out
 * only records DNSSEC validated, as bytes, so that an adapter doing DANE
 * (the OpenSMTPD relay) needs no internal header.
 *
 * Contract: the callback runs exactly once. Records are given only for a
 * secure RRset (RFC 7672 section 2.2: an insecure TLSA RRset is no TLSA
 * RRset); a bogus or failed lookup is MTASTS_EDNS, for the caller to
 * defer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ctx.h"
#include "net/net.h"

struct tlsaq {
	mtasts_tlsa_cb	*cb;
	void		*arg;
};

static void	tlsa_on_dns(void *, int, char **, size_t);

static int
tlsa_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "U S M HEX" (dns.c's text form) to a record whose data is in buf. */
static int
tlsa_parse(const char *s, struct mtasts_tlsa *rec, unsigned char *buf)
{
	unsigned	 u, sel, m;
	int		 off = 0, hi, lo;
	size_t		 n = 0;

	if (sscanf(s, "%u %u %u %n", &u, &sel, &m, &off) != 3 || off == 0 ||
	    u > 255 || sel > 255 || m > 255)
		return MTASTS_EDNS;
	for (s += off; s[0] != '\0'; s += 2) {
		if ((hi = tlsa_hex(s[0])) < 0 || (lo = tlsa_hex(s[1])) < 0)
			return MTASTS_EDNS;
		buf[n++] = (unsigned char)(hi << 4 | lo);
	}
	rec->usage = (uint8_t)u;
	rec->selector = (uint8_t)sel;
	rec->mtype = (uint8_t)m;
	rec->data = buf;
	rec->len = n;
	return MTASTS_OK;
}

static void
tlsa_on_dns(void *arg, int err, char **v, size_t n)
{
	struct tlsaq		*q = arg;
	struct mtasts_tlsa	*recs = NULL;
	unsigned char		*bufs;
	size_t			 i, total = 0;

	if (err == MTASTS_OK && n == 0)
		err = MTASTS_ENOTFOUND;		/* insecure: no DANE */
	else if (err != MTASTS_OK && err != MTASTS_ENOTFOUND)
		err = MTASTS_EDNS;
	for (i = 0; err == MTASTS_OK && i < n; i++)
		total += strlen(v[i]) / 2 + 1;
	/* the records and their data in one block: mtasts_tlsa_free() */
	if (err == MTASTS_OK &&
	    (recs = calloc(1, n * sizeof(*recs) + total)) == NULL)
		err = MTASTS_ENOMEM;
	bufs = (unsigned char *)(recs + n);
	for (i = 0, total = 0; err == MTASTS_OK && i < n; i++) {
		err = tlsa_parse(v[i], &recs[i], bufs + total);
		total += strlen(v[i]) / 2 + 1;
	}
	if (err != MTASTS_OK) {
		free(recs);
		recs = NULL;
	}
	q->cb(q->arg, err, recs, recs != NULL ? n : 0);	/* cb owns recs */
	free(q);
}

void
mtasts_tlsa_free(struct mtasts_tlsa *recs, size_t n)
{
	(void)n;
	free(recs);
}

int
mtasts_tlsa_lookup_async(struct mtasts_ctx *ctx, const char *host,
    unsigned port, mtasts_tlsa_cb *cb, void *arg)
{
	struct tlsaq	*q;
	struct dns	*dns;
	char		 name[MTASTS_NAME_MAX + 1];

	if (cb == NULL || mtasts_name_normalize(host, 0, name) != MTASTS_OK)
		return MTASTS_EINVAL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return MTASTS_ENOMEM;
	q->cb = cb;
	q->arg = arg;
	if ((dns = ctx_dns(ctx)) == NULL || ctx->net->dns_tlsa_async == NULL ||
	    ctx->net->dns_tlsa_async(dns, name, port, tlsa_on_dns, q) !=
	    MTASTS_OK) {
		free(q);
		cb(arg, MTASTS_EDNS, NULL, 0);
	}
	return MTASTS_OK;
}
