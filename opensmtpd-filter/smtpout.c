/*
 * smtpout.c - smtp-out reports: what smtpd did when it relayed. One
 * record per outgoing session (link-connect .. link-disconnect) holding
 * the MX address, its TLS parameters and the recipient domains, logged at
 * the end of the session.
 *
 * smtpd reports link-tls before it verifies the certificate, and reports
 * nothing for a connection that failed (no STARTTLS under "relay tls", a
 * refused certificate): what is logged here is what did happen, and the
 * refusals show in smtpd's own log as deferrals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "proto.h"
#include "table.h"

#define OUT_DOMAINS	8	/* recipient domains remembered */

struct out {
	uint64_t	 reqid;
	char		 dst[128];	/* MX address:port */
	char		 rdns[MTASTS_NAME_MAX + 1];
	char		 tls[256];	/* link-tls text, "" without TLS */
	char		 domain[OUT_DOMAINS][MTASTS_NAME_MAX + 1];
	size_t		 ndomain;
	unsigned	 ok;		/* recipients accepted */
	unsigned	 committed;	/* messages committed */
	struct out	*next;
};

static struct out	*out_list;

static struct out	*smtpout_find(uint64_t, int);
static void		 smtpout_copy(char *, size_t, const char *);
static void		 smtpout_rcpt(struct out *, const char *);
static void		 smtpout_end(struct out *);
static void		 smtpout_tlsrpt_result(const struct out *,
			    const char *);

static struct out *
smtpout_find(uint64_t reqid, int create)
{
	struct out	*o;

	for (o = out_list; o != NULL; o = o->next)
		if (o->reqid == reqid)
			return o;
	if (!create || (o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->reqid = reqid;
	o->next = out_list;
	out_list = o;
	return o;
}

static void
smtpout_copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

/* tx-rcpt: msgid|result|address (protocol 0.6 and later) */
static void
smtpout_rcpt(struct out *o, const char *params)
{
	const char	*result, *addr, *at;
	char		 dom[MTASTS_NAME_MAX + 1];
	size_t		 i;

	if ((result = strchr(params, '|')) == NULL)
		return;
	result++;
	if ((addr = strchr(result, '|')) == NULL)
		return;
	addr++;
	if (strncmp(result, "ok|", 3) == 0)
		o->ok++;
	if ((at = strrchr(addr, '@')) == NULL ||
	    mtasts_name_normalize(at + 1, 0, dom) != MTASTS_OK)
		return;
	for (i = 0; i < o->ndomain; i++)
		if (strcmp(o->domain[i], dom) == 0)
			return;
	if (o->ndomain < OUT_DOMAINS)
		smtpout_copy(o->domain[o->ndomain++], sizeof(o->domain[0]), dom);
}

void
smtpout_on_report(const struct proto_line *l)
{
	struct out	*o;
	const char	*p;

	if ((o = smtpout_find(l->reqid, 1)) == NULL)
		return;
	if (strcmp(l->event, "link-connect") == 0) {
		/* rdns|fcrdns|src|dst */
		smtpout_copy(o->rdns, sizeof(o->rdns), l->params);
		if ((p = strchr(o->rdns, '|')) != NULL)
			o->rdns[p - o->rdns] = '\0';
		if ((p = strrchr(l->params, '|')) != NULL)
			smtpout_copy(o->dst, sizeof(o->dst), p + 1);
	} else if (strcmp(l->event, "link-tls") == 0) {
		smtpout_copy(o->tls, sizeof(o->tls), l->params);
		filter_log(MTASTS_LOG_INFO, "smtp-out %016llx: TLS with %s:"
		    " %s", (unsigned long long)o->reqid, o->dst, o->tls);
	} else if (strcmp(l->event, "tx-rcpt") == 0)
		smtpout_rcpt(o, l->params);
	else if (strcmp(l->event, "tx-commit") == 0)
		o->committed++;
	else if (strcmp(l->event, "link-disconnect") == 0)
		smtpout_end(o);
}

/* The session is over: log it, hand its TLS result on, forget it. */
static void
smtpout_end(struct out *o)
{
	struct out	**p;
	size_t		  i;
	const char	 *mode;

	for (i = 0; i < o->ndomain; i++) {
		mode = table_has(filter.table, o->domain[i]) ?
		    "enforce-routed" : "not-routed";
		filter_log(MTASTS_LOG_INFO, "delivery to %s via %s (%s): %s,"
		    " %u message(s) sent, %s", o->domain[i],
		    o->rdns[0] ? o->rdns : "?", o->dst[0] ? o->dst : "?",
		    o->tls[0] ? o->tls : "no TLS", o->committed, mode);
		smtpout_tlsrpt_result(o, o->domain[i]);
	}
	for (p = &out_list; *p != NULL; p = &(*p)->next)
		if (*p == o) {
			*p = o->next;
			break;
		}
	free(o);
}

/*
 * TLS-RPT (RFC 8460) hook: where a successful or failed session for a
 * policy domain will be recorded once the core has its recording API
 * (a later issue). Nothing is recorded yet, on purpose.
 */
static void
smtpout_tlsrpt_result(const struct out *o, const char *domain)
{
	filter_log(MTASTS_LOG_DEBUG, "tlsrpt: not recorded yet (no API): "
	    "%s via %s, %s", domain, o->dst, o->tls[0] ? "tls" : "no tls");
}
