/*
 * rcpt.c - the rcpt-to filter: resolve the recipient domain's policy
 * without blocking other sessions (the engine's cache is then warm for
 * mtasts-relay), keep the routing table of policy domains current, and
 * let the recipient through.
 *
 *	enforce or testing (log_only too): the domain is in the routing
 *	    table; smtpd.conf hands such domains to mtasts-relay(8), which
 *	    resolves policy and MX again when the mail leaves, applies the
 *	    mode (and log_only) and records the exact TLS-RPT result;
 *	none, or no policy: the domain leaves the table (smtpd relays it
 *	    as usual); a policy that could not be had (temperror) leaves
 *	    the table as it is: the relay handles a domain without a policy
 *	    opportunistically, so keeping it costs nothing and losing a
 *	    cached enforce domain would;
 *	no policy answer at all (engine error): proceed, table unchanged.
 *
 * Testing domains go to the relay too: smtpd's opportunistic relay does
 * not verify certificates and reports nothing about why, so only the
 * relay can record what enforce would have refused, with the exact
 * RFC 8460 type.
 *
 * The filter refuses nothing that it could hold: the MX checks are the
 * relay's, at the moment of delivery, and a local sendmail(8)
 * submission refused at RCPT TO would be lost. One refusal remains, fail
 * closed: an enforce (or testing) domain new to the table whose write
 * fails gets 451 4.3.0, because smtpd would otherwise relay it around
 * the relay; that is a disk that cannot take a few bytes, and smtpd's
 * queue is then in trouble too.
 *
 * The table is written (a newer mtime, table.c) before the recipient is
 * answered, so smtpd routes the very first message already.
 *
 * Report mail (envelope sender MTASTS_REPORT_SENDER, seen in the smtp-in
 * tx-mail report) is let through without a lookup; smtpd.conf routes it
 * around the relay (RFC 8460 section 3).
 *
 * A request whose smtp-in session ends before the answer is kept until
 * the engine answers (the engine owns callbacks to it) and then dropped
 * without a reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "proto.h"
#include "table.h"

struct rcpt {
	uint64_t		 reqid;		/* smtp-in session */
	uint64_t		 token;
	int			 vmajor, vminor;
	int			 cancelled;	/* the session is gone */
	char			 domain[MTASTS_NAME_MAX + 1];
	struct rcpt		*next;
};

/* An smtp-in session whose envelope sender is the report sender. */
struct rsess {
	uint64_t		 reqid;
	struct rsess		*next;
};

static struct rcpt	*rcpt_list;
static struct rsess	*rsess_list;

static int	 rcpt_domain(const char *, char *, size_t);
static void	 rcpt_pass(const struct proto_line *);
static void	 rcpt_on_policy(void *, int, struct mtasts_answer *);
static void	 rcpt_route(struct rcpt *, const struct mtasts_answer *);
static void	 rcpt_proceed(struct rcpt *);
static void	 rcpt_reject(struct rcpt *, const char *);
static void	 rcpt_free(struct rcpt *);
static struct rsess **rcpt_rsess(uint64_t);

/*
 * The domain of the address smtpd passes ("<user@domain>" or
 * "user@domain", maybe followed by parameters), lower case. -1 when the
 * address has no domain.
 */
static int
rcpt_domain(const char *param, char *out, size_t outsz)
{
	const char	*s = param, *e, *at;
	size_t		 n;

	while (*s == ' ')
		s++;
	if (*s == '<')
		s++;
	e = s + strcspn(s, "> ");
	for (at = NULL; s < e; s++)
		if (*s == '@')
			at = s;
	if (at == NULL || (n = (size_t)(e - at - 1)) == 0 || n >= outsz)
		return -1;
	memcpy(out, at + 1, n);
	out[n] = '\0';
	return 0;
}

static struct rsess **
rcpt_rsess(uint64_t reqid)
{
	struct rsess	**p;

	for (p = &rsess_list; *p != NULL; p = &(*p)->next)
		if ((*p)->reqid == reqid)
			break;
	return p;
}

/* tx-mail: msgid|result|address (0.6 and later; address|result before) */
void
rcpt_on_mail(const struct proto_line *l)
{
	const char	*f1, *f2, *addr;
	struct rsess	**p, *s;
	int		 report;

	if ((f1 = strchr(l->params, '|')) == NULL ||
	    (f2 = strchr(++f1, '|')) == NULL)
		return;
	f2++;
	addr = (strncmp(f1, "ok|", 3) == 0 || strncmp(f1, "permfail|", 9) ==
	    0 || strncmp(f1, "tempfail|", 9) == 0) ? f2 : f1;
	report = smtpout_is_report_sender(addr);
	p = rcpt_rsess(l->reqid);
	if (!report && *p != NULL) {
		s = *p;
		*p = s->next;
		free(s);
	} else if (report && *p == NULL &&
	    (s = calloc(1, sizeof(*s))) != NULL) {
		s->reqid = l->reqid;
		*p = s;
	}
}

/* Proceeds at once (no lookup): report mail, no domain, out of memory. */
static void
rcpt_pass(const struct proto_line *l)
{
	if (proto_result_proceed(l->vmajor, l->vminor, l->reqid, l->token) ==
	    -1)
		filter_stop();
}

void
rcpt_on_filter(const struct proto_line *l)
{
	struct rcpt	*r;
	char		 domain[MTASTS_NAME_MAX + 2];
	int		 rc;

	if (*rcpt_rsess(l->reqid) != NULL) {
		filter_log(MTASTS_LOG_INFO, "session %016llx: report mail "
		    "(sender %s@): not held for MTA-STS",
		    (unsigned long long)l->reqid, MTASTS_REPORT_SENDER);
		rcpt_pass(l);
		return;
	}
	if (rcpt_domain(l->params, domain, sizeof(domain)) == -1) {
		filter_log(MTASTS_LOG_DEBUG, "session %016llx: no domain in"
		    " recipient; proceeding", (unsigned long long)l->reqid);
		rcpt_pass(l);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		filter_log(MTASTS_LOG_ERR, "out of memory; recipient domain "
		    "%.255s not looked up", domain);
		rcpt_pass(l);
		return;
	}
	r->reqid = l->reqid;
	r->token = l->token;
	r->vmajor = l->vmajor;
	r->vminor = l->vminor;
	if (mtasts_name_normalize(domain, 0, r->domain) != MTASTS_OK) {
		/* an address literal or junk: no MTA-STS for it */
		filter_log(MTASTS_LOG_INFO, "recipient domain \"%s\" is not"
		    " a host name: no MTA-STS policy applies", domain);
		rcpt_proceed(r);
		rcpt_free(r);
		return;
	}
	r->next = rcpt_list;
	rcpt_list = r;
	rc = mtasts_resolve_async(filter.ctx, r->domain, rcpt_on_policy, r);
	if (rc != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "%s: cannot resolve policy: %s;"
		    " proceeding, routing table unchanged", r->domain,
		    mtasts_strerror(rc));
		rcpt_proceed(r);
		rcpt_free(r);
	}
}

void
rcpt_on_disconnect(uint64_t reqid)
{
	struct rcpt	*r;
	struct rsess	**p, *s;

	if (*(p = rcpt_rsess(reqid)) != NULL) {
		s = *p;
		*p = s->next;
		free(s);
	}
	for (r = rcpt_list; r != NULL; r = r->next)
		if (r->reqid == reqid)
			r->cancelled = 1;
}

static void
rcpt_on_policy(void *arg, int err, struct mtasts_answer *ans)
{
	struct rcpt	*r = arg;

	if (err != MTASTS_OK && filter.closing) {
		filter_log(MTASTS_LOG_INFO, "%s: policy lookup cancelled: "
		    "the filter is exiting", r->domain);
		mtasts_answer_clear(ans);
		rcpt_free(r);
		return;
	}
	if (err != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "%s: policy lookup failed: %s;"
		    " proceeding, routing table unchanged", r->domain,
		    mtasts_strerror(err));
		mtasts_answer_clear(ans);
		rcpt_proceed(r);
		rcpt_free(r);
		return;
	}
	rcpt_route(r, ans);
	mtasts_answer_clear(ans);	/* the callee owns it (mtasts.h) */
	rcpt_free(r);
}

/* Keeps the table in line with the answer, then lets the recipient in. */
static void
rcpt_route(struct rcpt *r, const struct mtasts_answer *ans)
{
	const char	*mode = mtasts_mode_name(ans->mode);

	if (ans->mode == MTASTS_MODE_NONE) {
		if (ans->temperror)
			filter_log(MTASTS_LOG_WARN, "%s: no policy could be "
			    "had (%s); routing table unchanged", r->domain,
			    ans->why);
		else {
			filter_log(MTASTS_LOG_DEBUG, "%s: mode none (%s, %s):"
			    " relayed as usual", r->domain,
			    mtasts_source_name(ans->source), ans->why);
			rcpt_table_sync(r->domain, 0);
		}
		rcpt_proceed(r);
		return;
	}
	if (rcpt_table_sync(r->domain, 1) == -1) {
		rcpt_reject(r, "451 4.3.0 MTA-STS: the routing table cannot "
		    "be written; try again later");
		return;
	}
	filter_log(MTASTS_LOG_INFO, "%s: %s%s (%s): routed to mtasts-relay",
	    r->domain, mode, ans->log_only ? ", log_only" : "",
	    mtasts_source_name(ans->source));
	rcpt_proceed(r);
}

int
rcpt_table_sync(const char *domain, int routed)
{
	if (routed) {
		if (table_has(filter.table, domain))
			return 0;
		if (table_add(filter.table, domain) == -1)
			return -1;
		filter_log(MTASTS_LOG_INFO, "%s: added to the routing table",
		    domain);
		return 0;
	}
	if (!table_has(filter.table, domain))
		return 0;
	if (table_del(filter.table, domain) == -1)
		return -1;
	filter_log(MTASTS_LOG_INFO, "%s: removed from the routing table",
	    domain);
	return 0;
}

static void
rcpt_proceed(struct rcpt *r)
{
	if (r->cancelled)
		return;
	if (proto_result_proceed(r->vmajor, r->vminor, r->reqid, r->token) ==
	    -1)
		filter_stop();
}

static void
rcpt_reject(struct rcpt *r, const char *reply)
{
	filter_log(MTASTS_LOG_ERR, "%s: refused: %s", r->domain, reply);
	if (r->cancelled)
		return;
	if (proto_result_reject(r->vmajor, r->vminor, r->reqid, r->token,
	    reply) == -1)
		filter_stop();
}

/* Unlinks r from the list (when linked) and frees it. */
static void
rcpt_free(struct rcpt *r)
{
	struct rcpt	**p;

	for (p = &rcpt_list; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	free(r);
}

void
rcpt_close(void)
{
	struct rsess	*s;

	while ((s = rsess_list) != NULL) {
		rsess_list = s->next;
		free(s);
	}
	while (rcpt_list != NULL)
		rcpt_free(rcpt_list);
}
