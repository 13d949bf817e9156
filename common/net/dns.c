/*
 * dns.c - TXT, MX, A/AAAA and TLSA lookups on libunbound.
 *
 * One ub_ctx per struct dns, forwarding to the configured servers or to
 * those of resolv.conf, validating when a trust anchor is configured.
 * Every lookup is a ub_resolve_async() query with a deadline of
 * conf->dns_timeout: the synchronous calls poll ub_fd() until the
 * answers or the deadline arrive, the asynchronous ones watch ub_fd()
 * on the engine's ev and keep an ev_timer per request. A query that
 * runs out of time is cancelled and reported as MTASTS_EDNS.
 *
 * Background worker: a thread, not a process. libunbound's sync call
 * ub_resolve() has no timeout, so every query goes through the
 * asynchronous API, which runs the resolver in a background worker that
 * ub_ctx_async() makes either a forked process or a thread. We choose
 * the thread (ub_ctx_async(ctx, 1)): a forked resolver would be a copy
 * of the MTA (Exim) holding its open SMTP connections and spool files,
 * and a child that the MTA's own wait()/SIGCHLD handling could reap or
 * trip over. The thread is started by the first query and joined by
 * ub_ctx_delete() in dns_free(), so nothing is left behind. A process
 * that forks (Exim's transport subprocesses) inherits a context whose
 * thread does not exist in the child and whose pipes it shares with the
 * parent: the child never touches it (not even to delete it) and makes
 * a fresh one on its next lookup.
 *
 * Answers: rdata from libunbound is the uncompressed wire form of the
 * final RRset (CNAMEs already followed). TXT strings of one record are
 * joined without spaces; MX names are lower-cased without a trailing
 * dot (a null MX, RFC 7505, gives host ""); malformed rdata is
 * MTASTS_EDNS. Asynchronous callbacks are always delivered from an
 * ev_timer, so they run from ev_process() and never inside the call
 * that started them (nor inside a synchronous call that happened to
 * read their answer).
 *
 * Every asynchronous callback runs exactly once: dns_free() answers each
 * lookup still in flight with DNS_ECANCELED and no data (refusing new
 * lookups from then on, also from those callbacks), so that a callback's
 * argument is never leaked.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "mtasts.h"
#include "util/strv.h"
#include "net/dns.h"

#define DNS_T_A		1
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52
#define DNS_C_IN	1
#define DNS_RCODE_NOERROR 0

enum dns_kind { DNS_TXT, DNS_MX, DNS_ADDRS, DNS_TLSA };

struct dns_req;

/* One libunbound query. */
struct dns_sub {
	struct dns_req	*req;
	int		 type;
	int		 id;		/* libunbound's async id */
	int		 started;
	int		 done;
	int		 err;		/* libunbound's error */
	struct ub_result *res;
};

/* One lookup: one or two queries (A and AAAA). */
struct dns_req {
	struct dns	*dns;
	enum dns_kind	 kind;
	char		 name[MTASTS_NAME_MAX + 16];
	struct dns_sub	 sub[2];
	int		 nsub;
	int		 ndone;
	int		 async;
	struct ev_timer	 timer;		/* deadline, then delivery */
	dns_strv_cb	*strv_cb;
	dns_mx_cb	*mx_cb;
	void		*arg;
	struct dns_req	*prev, *next;	/* dns->reqs, async only */
};

/* What a lookup produced. */
struct dns_answer {
	char		**v;
	size_t		 n;
	struct dns_mx	*mx;
	int		 secure;
};

struct dns {
	const struct config *conf;
	const struct logger *lg;
	struct ev	*ev;
	struct ub_ctx	*ctx;
	pid_t		 pid;		/* the process that made ctx */
	int		 watched;	/* ub_fd() is on ev */
	int		 closing;	/* dns_cancel() ran: no new lookups */
	struct dns_req	*reqs;		/* asynchronous ones in flight */
};

static int	dns_ctx_make(struct dns *);
static int	dns_ctx_fwd(struct dns *, struct ub_ctx *);
static int	dns_ctx_check(struct dns *);
static int	dns_req_new(struct dns *, enum dns_kind, const char *,
		    struct dns_req **);
static void	dns_req_free(struct dns_req *);
static int	dns_req_start(struct dns_req *);
static void	dns_req_cancel(struct dns_req *);
static void	dns_on_answer(void *, int, struct ub_result *);
static int	dns_wait(struct dns_req *);
static int	dns_sub_status(struct dns *, const struct dns_sub *);
static int	dns_req_result(struct dns_req *, struct dns_answer *);
static int	dns_parse_txt(struct dns *, const struct ub_result *,
		    struct dns_answer *);
static int	dns_txt_rdata(const unsigned char *, size_t, char **);
static int	dns_parse_mx(struct dns *, const struct ub_result *,
		    struct dns_answer *);
static int	dns_mx_name(const unsigned char *, size_t, char *);
static int	dns_mx_cmp(const void *, const void *);
static int	dns_parse_addrs(struct dns *, const struct ub_result *,
		    struct dns_answer *);
static int	dns_parse_tlsa(const struct ub_result *, struct dns_answer *);
static void	dns_answer_clear(struct dns_answer *);
static int	dns_sync(struct dns *, enum dns_kind, const char *,
		    struct dns_answer *);
static int	dns_async(struct dns *, enum dns_kind, const char *,
		    dns_strv_cb *, dns_mx_cb *, void *);
static void	dns_on_fd(void *, int, unsigned);
static void	dns_on_timer(void *);
static void	dns_cancel(struct dns *);
static void	dns_req_deliver(struct dns_req *, int, struct dns_answer *);

int
dns_new(const struct config *conf, const struct logger *lg,
    struct ev *ev, struct dns **out)
{
	struct dns	*dns;
	int		 r;

	*out = NULL;
	if ((dns = calloc(1, sizeof(*dns))) == NULL)
		return MTASTS_ENOMEM;
	dns->conf = conf;
	dns->lg = lg;
	dns->ev = ev;
	if ((r = dns_ctx_make(dns)) != MTASTS_OK) {
		free(dns);
		return r;
	}
	*out = dns;
	return MTASTS_OK;
}

/* Answers every lookup in flight with DNS_ECANCELED; refuses new ones. */
static void
dns_cancel(struct dns *dns)
{
	struct dns_answer	 none;
	struct dns_req		*req;

	if (dns == NULL)
		return;
	dns->closing = 1;
	memset(&none, 0, sizeof(none));
	while ((req = dns->reqs) != NULL) {
		dns_req_cancel(req);
		dns_req_deliver(req, DNS_ECANCELED, &none);
	}
}

void
dns_free(struct dns *dns)
{
	if (dns == NULL)
		return;
	dns_cancel(dns);
	if (dns->watched && dns->ev != NULL)
		(void)ev_watch(dns->ev, ub_fd(dns->ctx), 0, NULL, NULL);
	/* Joins the worker thread; an inherited context is left alone. */
	if (dns->pid == getpid())
		ub_ctx_delete(dns->ctx);
	free(dns);
}

static int
dns_ctx_make(struct dns *dns)
{
	const struct config	*conf = dns->conf;
	struct ub_ctx		*ctx;
	int			 r;

	if ((ctx = ub_ctx_create()) == NULL)
		return MTASTS_ENOMEM;
	if ((r = ub_ctx_async(ctx, 1)) != 0) {
		log_err(dns->lg, "dns: cannot use a resolver thread: %s",
		    ub_strerror(r));
		goto fail;
	}
	/*
	 * Small caches (the policy cache is ours, in the store); options
	 * come before anything that finalizes the context.
	 */
	if ((r = ub_ctx_set_option(ctx, "msg-cache-size:", "256k")) != 0 ||
	    (r = ub_ctx_set_option(ctx, "rrset-cache-size:", "256k")) != 0) {
		log_err(dns->lg, "dns: %s", ub_strerror(r));
		goto fail;
	}
	if (conf->nforwarders > 0) {
		if (dns_ctx_fwd(dns, ctx) != MTASTS_OK)
			goto fail;
	} else if ((r = ub_ctx_resolvconf(ctx, conf->resolv_conf)) != 0) {
		log_err(dns->lg, "dns: cannot read %s: %s",
		    conf->resolv_conf ? conf->resolv_conf : "/etc/resolv.conf",
		    ub_strerror(r));
		goto fail;
	}
	/* before ub_ctx_zone_add(), which finalizes the context */
	if (conf->trust_anchor != NULL &&
	    (r = ub_ctx_add_ta_file(ctx, conf->trust_anchor)) != 0) {
		log_err(dns->lg, "dns: trust anchor %s: %s",
		    conf->trust_anchor, ub_strerror(r));
		goto fail;
	}
	/*
	 * libunbound answers some special-use names (RFC 6761: "test.")
	 * itself with NXDOMAIN. As a stub of the system's resolver we let
	 * that resolver decide, as the libc stub does.
	 */
	if ((r = ub_ctx_zone_add(ctx, "test.", "transparent")) != 0) {
		log_err(dns->lg, "dns: %s", ub_strerror(r));
		goto fail;
	}
	dns->ctx = ctx;
	dns->pid = getpid();
	return MTASTS_OK;
fail:
	ub_ctx_delete(ctx);
	return MTASTS_ECONFIG;
}

static int
dns_ctx_fwd(struct dns *dns, struct ub_ctx *ctx)
{
	size_t	i;
	int	r;

	/* The forwarders may be on the loopback (a local resolver). */
	if ((r = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"))
	    != 0) {
		log_err(dns->lg, "dns: %s", ub_strerror(r));
		return MTASTS_ECONFIG;
	}
	for (i = 0; i < dns->conf->nforwarders; i++)
		if ((r = ub_ctx_set_fwd(ctx, dns->conf->forwarders[i])) != 0) {
			log_err(dns->lg, "dns: forwarder %s: %s",
			    dns->conf->forwarders[i], ub_strerror(r));
			return MTASTS_ECONFIG;
		}
	return MTASTS_OK;
}

/* After a fork, leave the parent's context alone and make our own. */
static int
dns_ctx_check(struct dns *dns)
{
	if (dns->pid == getpid())
		return MTASTS_OK;
	log_debug(dns->lg, "dns: new resolver context after fork");
	dns->watched = 0;
	dns->ctx = NULL;
	return dns_ctx_make(dns);
}

static int
dns_req_new(struct dns *dns, enum dns_kind kind, const char *name,
    struct dns_req **out)
{
	struct dns_req	*req;
	size_t		 len;

	*out = NULL;
	len = strlen(name);
	if (len == 0 || len >= sizeof(req->name))
		return MTASTS_EINVAL;
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return MTASTS_ENOMEM;
	req->dns = dns;
	req->kind = kind;
	memcpy(req->name, name, len + 1);
	switch (kind) {
	case DNS_TXT:
		req->sub[0].type = DNS_T_TXT;
		break;
	case DNS_MX:
		req->sub[0].type = DNS_T_MX;
		break;
	case DNS_TLSA:
		req->sub[0].type = DNS_T_TLSA;
		break;
	case DNS_ADDRS:
		req->sub[0].type = DNS_T_A;
		req->sub[1].type = DNS_T_AAAA;
		req->nsub = 2;
		break;
	}
	if (req->nsub == 0)
		req->nsub = 1;
	req->sub[0].req = req->sub[1].req = req;
	*out = req;
	return MTASTS_OK;
}

static void
dns_req_free(struct dns_req *req)
{
	struct dns	*dns = req->dns;
	int		 i;

	if (req->async) {
		if (dns->ev != NULL)
			ev_timer_del(dns->ev, &req->timer);
		if (req->prev != NULL)
			req->prev->next = req->next;
		else
			dns->reqs = req->next;
		if (req->next != NULL)
			req->next->prev = req->prev;
	}
	for (i = 0; i < req->nsub; i++)
		ub_resolve_free(req->sub[i].res);
	free(req);
}

static int
dns_req_start(struct dns_req *req)
{
	struct dns_sub	*sub;
	int		 i, r;

	for (i = 0; i < req->nsub; i++) {
		sub = &req->sub[i];
		r = ub_resolve_async(req->dns->ctx, req->name, sub->type,
		    DNS_C_IN, sub, dns_on_answer, &sub->id);
		if (r != 0) {
			log_warn(req->dns->lg, "dns: %s: cannot start: %s",
			    req->name, ub_strerror(r));
			dns_req_cancel(req);
			return MTASTS_EDNS;
		}
		sub->started = 1;
	}
	return MTASTS_OK;
}

/* Cancels the queries still in flight; their callbacks never run. */
static void
dns_req_cancel(struct dns_req *req)
{
	int	i;

	for (i = 0; i < req->nsub; i++)
		if (req->sub[i].started && !req->sub[i].done) {
			(void)ub_cancel(req->dns->ctx, req->sub[i].id);
			req->sub[i].started = 0;
		}
}

/* From ub_process(): keep the answer; deliver async ones from ev. */
static void
dns_on_answer(void *arg, int err, struct ub_result *res)
{
	struct dns_sub	*sub = arg;
	struct dns_req	*req = sub->req;

	sub->done = 1;
	sub->err = err;
	sub->res = res;
	if (++req->ndone == req->nsub && req->async)
		(void)ev_timer_set(req->dns->ev, &req->timer, 0, dns_on_timer,
		    req);
}

/* Waits for a synchronous request's answers until its deadline. */
static int
dns_wait(struct dns_req *req)
{
	struct dns		*dns = req->dns;
	struct pollfd		 pfd;
	unsigned long long	 now, deadline;

	deadline = ev_now_ms() + dns->conf->dns_timeout;
	pfd.fd = ub_fd(dns->ctx);
	pfd.events = POLLIN;
	while (req->ndone < req->nsub) {
		if ((now = ev_now_ms()) >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - now)) > 0 &&
		    ub_process(dns->ctx) != 0)
			break;
	}
	if (req->ndone < req->nsub) {
		dns_req_cancel(req);
		return MTASTS_ETIMEOUT;
	}
	return MTASTS_OK;
}

/* MTASTS_OK, MTASTS_ENOTFOUND or MTASTS_EDNS for one query. */
static int
dns_sub_status(struct dns *dns, const struct dns_sub *sub)
{
	const struct ub_result	*res = sub->res;
	const char		*name = sub->req->name;

	if (!sub->done) {
		log_warn(dns->lg, "dns: %s type %d: no answer within %u ms",
		    name, sub->type, dns->conf->dns_timeout);
		return MTASTS_EDNS;
	}
	if (sub->err != 0 || res == NULL) {
		log_warn(dns->lg, "dns: %s type %d: %s", name, sub->type,
		    ub_strerror(sub->err));
		return MTASTS_EDNS;
	}
	if (res->bogus) {
		log_warn(dns->lg, "dns: %s type %d: DNSSEC bogus: %s", name,
		    sub->type, res->why_bogus ? res->why_bogus : "no reason");
		return MTASTS_EDNS;
	}
	if (res->havedata)
		return MTASTS_OK;
	if (res->nxdomain || res->rcode == DNS_RCODE_NOERROR) {
		log_debug(dns->lg, "dns: %s type %d: %s", name, sub->type,
		    res->nxdomain ? "no such name" : "no such record");
		return MTASTS_ENOTFOUND;
	}
	log_warn(dns->lg, "dns: %s type %d: server failure (rcode %d)", name,
	    sub->type, res->rcode);
	return MTASTS_EDNS;
}

/* The answer of a finished (or timed out) request. */
static int
dns_req_result(struct dns_req *req, struct dns_answer *ans)
{
	struct dns	*dns = req->dns;
	int		 i, r, st, ok = 0, edns = 0;

	memset(ans, 0, sizeof(*ans));
	for (i = 0; i < req->nsub; i++) {
		st = dns_sub_status(dns, &req->sub[i]);
		if (st == MTASTS_EDNS)
			edns = 1;
		if (st != MTASTS_OK)
			continue;
		ok = 1;
		switch (req->kind) {
		case DNS_TXT:
			r = dns_parse_txt(dns, req->sub[i].res, ans);
			break;
		case DNS_MX:
			r = dns_parse_mx(dns, req->sub[i].res, ans);
			break;
		case DNS_ADDRS:
			r = dns_parse_addrs(dns, req->sub[i].res, ans);
			break;
		default:
			r = dns_parse_tlsa(req->sub[i].res, ans);
			break;
		}
		if (r != MTASTS_OK) {
			dns_answer_clear(ans);
			return r;
		}
	}
	if (ok)
		return MTASTS_OK;
	return edns ? MTASTS_EDNS : MTASTS_ENOTFOUND;
}

static int
dns_parse_txt(struct dns *dns, const struct ub_result *res,
    struct dns_answer *ans)
{
	char	*s;
	int	 i, r;

	for (i = 0; res->data[i] != NULL; i++) {
		r = dns_txt_rdata((const unsigned char *)res->data[i],
		    (size_t)res->len[i], &s);
		if (r == MTASTS_EDNS)
			log_warn(dns->lg, "dns: %s: malformed TXT record",
			    res->qname);
		if (r != MTASTS_OK ||
		    (r = strv_push(&ans->v, &ans->n, NULL, s)) != MTASTS_OK)
			return r;
	}
	return MTASTS_OK;
}

/*
 * TXT RDATA = 1*character-string; character-string = len-octet
 * *len(octet). The strings are joined; a length past the end or a NUL
 * (which a C string cannot carry) makes it malformed.
 */
static int
dns_txt_rdata(const unsigned char *p, size_t len, char **out)
{
	char	*s;
	size_t	 i, n, o = 0;

	*out = NULL;
	if (len == 0)
		return MTASTS_EDNS;
	if ((s = malloc(len)) == NULL)
		return MTASTS_ENOMEM;
	for (i = 0; i < len; i += n) {
		n = p[i++];
		if (n > len - i || memchr(p + i, '\0', n) != NULL) {
			free(s);
			return MTASTS_EDNS;
		}
		memcpy(s + o, p + i, n);
		o += n;
	}
	s[o] = '\0';
	*out = s;
	return MTASTS_OK;
}

static int
dns_parse_mx(struct dns *dns, const struct ub_result *res,
    struct dns_answer *ans)
{
	const unsigned char	*p;
	struct dns_mx		*mx;
	size_t			 n;
	int			 i;

	for (n = 0; res->data[n] != NULL; n++)
		;
	if (n == 0)
		return MTASTS_EDNS;
	if ((ans->mx = calloc(n, sizeof(*ans->mx))) == NULL)
		return MTASTS_ENOMEM;
	for (i = 0; res->data[i] != NULL; i++) {
		p = (const unsigned char *)res->data[i];
		mx = &ans->mx[i];
		if (res->len[i] < 3 || dns_mx_name(p + 2,
		    (size_t)res->len[i] - 2, mx->host) != MTASTS_OK) {
			log_warn(dns->lg, "dns: %s: malformed MX record",
			    res->qname);
			return MTASTS_EDNS;
		}
		mx->pref = (unsigned)p[0] << 8 | p[1];
	}
	ans->n = n;
	qsort(ans->mx, n, sizeof(*ans->mx), dns_mx_cmp);
	return MTASTS_OK;
}

/*
 * An uncompressed wire-format name filling exactly len octets, to text:
 * labels of letters, digits, '-' and '_', lower-cased, joined with
 * dots, no trailing dot. The root gives "".
 */
static int
dns_mx_name(const unsigned char *p, size_t len, char *out)
{
	size_t	i = 0, n, o = 0, k;

	for (;;) {
		if (i >= len)
			return MTASTS_EDNS;
		n = p[i++];
		if (n == 0)
			break;
		if (n > 63 || n > len - i || o + n + 1 > MTASTS_NAME_MAX + 1)
			return MTASTS_EDNS;
		if (o > 0)
			out[o++] = '.';
		for (k = 0; k < n; k++, i++) {
			if (p[i] >= 'A' && p[i] <= 'Z')
				out[o++] = (char)(p[i] - 'A' + 'a');
			else if ((p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= '0' && p[i] <= '9') ||
			    p[i] == '-' || p[i] == '_')
				out[o++] = (char)p[i];
			else
				return MTASTS_EDNS;
		}
	}
	if (i != len || o > MTASTS_NAME_MAX)
		return MTASTS_EDNS;
	out[o] = '\0';
	return MTASTS_OK;
}

static int
dns_mx_cmp(const void *a, const void *b)
{
	const struct dns_mx	*x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

static int
dns_parse_addrs(struct dns *dns, const struct ub_result *res,
    struct dns_answer *ans)
{
	char	 buf[INET6_ADDRSTRLEN];
	int	 af, i, r;

	af = res->qtype == DNS_T_A ? AF_INET : AF_INET6;
	for (i = 0; res->data[i] != NULL; i++) {
		if (res->len[i] != (af == AF_INET ? 4 : 16)) {
			log_warn(dns->lg, "dns: %s: malformed address record",
			    res->qname);
			return MTASTS_EDNS;
		}
		if (inet_ntop(af, res->data[i], buf, sizeof(buf)) == NULL)
			return MTASTS_EDNS;
		if ((r = strv_push(&ans->v, &ans->n, NULL, strdup(buf))) !=
		    MTASTS_OK)
			return r;
	}
	return MTASTS_OK;
}

/*
 * TLSA: secure says whether DNSSEC validated the RRset; only then are
 * its records kept, each as text "USAGE SELECTOR MTYPE HEXDATA".
 */
static int
dns_parse_tlsa(const struct ub_result *res, struct dns_answer *ans)
{
	const unsigned char	*p;
	char			*s;
	int			 i, k, r;

	ans->secure = res->secure;
	for (i = 0; res->secure && res->data[i] != NULL; i++) {
		if (res->len[i] < 4 || res->len[i] > 4096)
			return MTASTS_EDNS;
		p = (const unsigned char *)res->data[i];
		if ((s = malloc(16 + 2 * (size_t)res->len[i])) == NULL)
			return MTASTS_ENOMEM;
		k = sprintf(s, "%u %u %u ", p[0], p[1], p[2]);
		for (r = 3; r < res->len[i]; r++)
			k += sprintf(s + k, "%02x", p[r]);
		if ((r = strv_push(&ans->v, &ans->n, NULL, s)) != MTASTS_OK)
			return r;
	}
	return MTASTS_OK;
}

static void
dns_answer_clear(struct dns_answer *ans)
{
	strv_free(ans->v, ans->n);
	free(ans->mx);
	memset(ans, 0, sizeof(*ans));
}

static int
dns_sync(struct dns *dns, enum dns_kind kind, const char *name,
    struct dns_answer *ans)
{
	struct dns_req	*req;
	int		 r;

	memset(ans, 0, sizeof(*ans));
	if ((r = dns_ctx_check(dns)) != MTASTS_OK ||
	    (r = dns_req_new(dns, kind, name, &req)) != MTASTS_OK)
		return r;
	if ((r = dns_req_start(req)) == MTASTS_OK) {
		(void)dns_wait(req);
		r = dns_req_result(req, ans);
	}
	dns_req_free(req);
	return r;
}

int
dns_txt(struct dns *dns, const char *name, char ***txt, size_t *n)
{
	struct dns_answer	ans;
	int			r;

	r = dns_sync(dns, DNS_TXT, name, &ans);
	*txt = ans.v;
	*n = ans.n;
	return r;
}

int
dns_mx(struct dns *dns, const char *domain, struct dns_mx **mx, size_t *n)
{
	struct dns_answer	ans;
	int			r;

	r = dns_sync(dns, DNS_MX, domain, &ans);
	*mx = ans.mx;
	*n = ans.n;
	return r;
}

int
dns_addrs(struct dns *dns, const char *host, char ***addrs, size_t *n)
{
	struct dns_answer	ans;
	int			r;

	r = dns_sync(dns, DNS_ADDRS, host, &ans);
	*addrs = ans.v;
	*n = ans.n;
	return r;
}

int
dns_tlsa(struct dns *dns, const char *host, unsigned port, int *secure)
{
	struct dns_answer	ans;
	char			name[MTASTS_NAME_MAX + 16];
	int			r;

	*secure = 0;
	if (port > 65535 || (size_t)snprintf(name, sizeof(name),
	    "_%u._tcp.%s", port, host) >= sizeof(name))
		return MTASTS_EINVAL;
	r = dns_sync(dns, DNS_TLSA, name, &ans);
	if (r == MTASTS_OK)
		*secure = ans.secure;
	dns_answer_clear(&ans);
	return r;
}

static int
dns_async(struct dns *dns, enum dns_kind kind, const char *name,
    dns_strv_cb *strv_cb, dns_mx_cb *mx_cb, void *arg)
{
	struct dns_req	*req;
	int		 r;

	if (dns->ev == NULL)
		return MTASTS_EINVAL;
	if (dns->closing)
		return DNS_ECANCELED;
	if ((r = dns_ctx_check(dns)) != MTASTS_OK ||
	    (r = dns_req_new(dns, kind, name, &req)) != MTASTS_OK)
		return r;
	if (!dns->watched) {
		r = ev_watch(dns->ev, ub_fd(dns->ctx), EV_READ, dns_on_fd,
		    dns);
		if (r != MTASTS_OK) {
			dns_req_free(req);
			return r;
		}
		dns->watched = 1;
	}
	req->strv_cb = strv_cb;
	req->mx_cb = mx_cb;
	req->arg = arg;
	if ((r = dns_req_start(req)) != MTASTS_OK) {
		dns_req_free(req);
		return r;
	}
	req->async = 1;
	req->next = dns->reqs;
	if (dns->reqs != NULL)
		dns->reqs->prev = req;
	dns->reqs = req;
	return ev_timer_set(dns->ev, &req->timer, dns->conf->dns_timeout,
	    dns_on_timer, req);
}

static void
dns_on_fd(void *arg, int fd, unsigned events)
{
	struct dns	*dns = arg;
	int		 r;

	if ((r = ub_process(dns->ctx)) != 0)
		log_warn(dns->lg, "dns: %s", ub_strerror(r));
}

/* The deadline passed, or every answer is in: deliver. */
static void
dns_on_timer(void *arg)
{
	struct dns_req		*req = arg;
	struct dns_answer	 ans;
	int			 r;

	dns_req_cancel(req);
	r = dns_req_result(req, &ans);
	dns_req_deliver(req, r, &ans);
}

/* Runs req's callback with err and ans, then frees both. */
static void
dns_req_deliver(struct dns_req *req, int err, struct dns_answer *ans)
{
	if (req->mx_cb != NULL)
		req->mx_cb(req->arg, err, ans->mx, ans->n);
	else
		req->strv_cb(req->arg, err, ans->v, ans->n);
	dns_answer_clear(ans);
	dns_req_free(req);
}

int
dns_txt_async(struct dns *dns, const char *name, dns_strv_cb *cb, void *arg)
{
	if (cb == NULL)
		return MTASTS_EINVAL;
	return dns_async(dns, DNS_TXT, name, cb, NULL, arg);
}

int
dns_addrs_async(struct dns *dns, const char *host, dns_strv_cb *cb,
    void *arg)
{
	if (cb == NULL)
		return MTASTS_EINVAL;
	return dns_async(dns, DNS_ADDRS, host, cb, NULL, arg);
}

int
dns_mx_async(struct dns *dns, const char *domain, dns_mx_cb *cb, void *arg)
{
	if (cb == NULL)
		return MTASTS_EINVAL;
	return dns_async(dns, DNS_MX, domain, NULL, cb, arg);
}

int
dns_tlsa_async(struct dns *dns, const char *host, unsigned port,
    dns_strv_cb *cb, void *arg)
{
	char	name[MTASTS_NAME_MAX + 16];

	if (cb == NULL || port > 65535 || (size_t)snprintf(name,
	    sizeof(name), "_%u._tcp.%s", port, host) >= sizeof(name))
		return MTASTS_EINVAL;
	return dns_async(dns, DNS_TLSA, name, cb, NULL, arg);
}
