/*
 * mta.c - one transaction from smtpd delivered to one recipient domain,
 * at the moment smtpd hands it over, under the domain's MTA-STS policy.
 *
 * The route: the policy (mtasts_resolve_async), the MX hosts in
 * preference order (mtasts_mx_lookup_async), for each host its verdict
 * (mtasts_mx_verdict: refused hosts are never contacted), its TLSA RRset
 * when a policy is in force (DANE first: a validated RRset verifies the
 * host instead of the patterns, a bogus one makes the core refuse it,
 * dnssec-invalid; a certificate DANE does not verify is the core's
 * tlsa-invalid), its addresses (IPv4, then
 * IPv6), then the SMTP dialogue (mxconn.c): EHLO, STARTTLS, the TLS
 * outcome judged by mtasts_session_verdict(), EHLO again, MAIL FROM.
 * A host that fails for any reason is written into the reason list and
 * the next address or host is tried; when none is left every RCPT of the
 * transaction gets one 4xx naming each host and its failure (4.7.5 when
 * the policy refused them). Once MAIL FROM is accepted the transaction
 * runs in lockstep: each RCPT, DATA and the final dot are sent to the MX
 * and its own reply goes back to smtpd.
 *
 * Contract: no RFC 8461 rule is computed here; every decision is the
 * core's answer. Every wait is bounded (mxconn.c's timeouts, the
 * engine's). One TLS-RPT result is recorded per attempt with a policy in
 * force, through mtasts_tlsrpt_record(); its failure is only logged.
 * After the session is gone (mta_free) the object lives on only until
 * the engine's callbacks in flight have returned.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay.h"
#include "mxconn.h"

enum mta_state {
	M_IDLE,		/* created, nothing asked yet */
	M_ROUTE,	/* policy, MX, TLSA, addresses, connect, MAIL */
	M_GREET, M_EHLO, M_STARTTLS, M_HANDSHAKE, M_EHLO2, M_MAIL,
	M_READY,	/* MAIL accepted: RCPT or DATA may go */
	M_RCPT, M_DATA, M_BODY, M_DOT,
	M_FAILED	/* every command gets m->fail */
};

#define EXT_STARTTLS	0x01
#define EXT_8BITMIME	0x02
#define EXT_SMTPUTF8	0x04
#define EXT_SIZE	0x08

struct mta {
	struct sess		*s;		/* NULL once freed by it */
	int			 pending;	/* engine callbacks owed */
	enum mta_state		 state;
	char			 domain[MTASTS_NAME_MAX + 1];
	char			*from;
	char			*size;
	int			 body8, body7, utf8;
	char			*rcpt;		/* RCPT waiting for the route */
	struct mtasts_answer	 ans;
	int			 have_ans;
	char			**hosts;
	size_t			 nhosts, ihost;
	char			**addrs;
	size_t			 naddrs, iaddr;
	struct mtasts_mx_verdict v;		/* of hosts[ihost] */
	struct mtasts_tlsa	*tlsa;		/* validated TLSA, copied */
	size_t			 ntlsa;
	int			 dane;
	struct mxconn		*c;
	unsigned		 ext;
	enum mtasts_tls		 tls;
	int			 refused;	/* a host refused by policy */
	char			 why[RELAY_WHY_MAX];
	char			 fail[RELAY_REPLY_MAX + 64];
	char			 out[RELAY_REPLY_MAX + 64];
};

static void	mta_route(struct mta *);
static void	mta_on_policy(void *, int, struct mtasts_answer *);
static void	mta_on_mx(void *, int, char **, size_t);
static void	mta_next_host(struct mta *);
static void	mta_on_tlsa(void *, int, struct mtasts_tlsa *, size_t);
static void	mta_host(struct mta *);
static void	mta_on_addrs(void *, int, char **, size_t);
static void	mta_next_addr(struct mta *);
static void	mta_on_conn(void *, enum mxconn_ev, int, const char *);
static void	mta_dialogue(struct mta *, int, const char *);
static void	mta_tls_done(struct mta *);
static void	mta_no_tls(struct mta *);
static void	mta_send_mail(struct mta *);
static void	mta_host_fail(struct mta *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	mta_route_fail(struct mta *);
static void	mta_broken(struct mta *, const char *);
static void	mta_fail(struct mta *, int, const char *, int);
static void	mta_reply(struct mta *, int, const char *);
static void	mta_record(struct mta *, enum mtasts_result, const char *);
static int	mta_gone(struct mta *);
static void	mta_destroy(struct mta *);
static void	mta_tlsa_clear(struct mta *);

static const char *
mta_host_name(const struct mta *m)
{
	return m->ihost < m->nhosts ? m->hosts[m->ihost] : "";
}

struct mta *
mta_new(struct sess *s, const char *domain, const struct mta_env *env)
{
	struct mta	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->s = s;
	snprintf(m->domain, sizeof(m->domain), "%s", domain);
	m->from = strdup(env->from);
	m->size = env->size ? strdup(env->size) : NULL;
	m->body8 = env->body8;
	m->body7 = env->body7;
	m->utf8 = env->utf8;
	if (m->from == NULL || (env->size && m->size == NULL)) {
		mta_destroy(m);
		return NULL;
	}
	return m;
}

/* The session is done with m: close, and free once the engine is. */
void
mta_free(struct mta *m)
{
	if (m == NULL)
		return;
	m->s = NULL;
	if (m->c != NULL) {
		mxconn_free(m->c);
		m->c = NULL;
	}
	if (m->pending == 0)
		mta_destroy(m);
}

static void
mta_destroy(struct mta *m)
{
	mxconn_free(m->c);
	if (m->have_ans)
		mtasts_answer_clear(&m->ans);
	mtasts_mx_free(m->hosts, m->nhosts);
	mtasts_mx_free(m->addrs, m->naddrs);
	mta_tlsa_clear(m);
	free(m->from);
	free(m->size);
	free(m->rcpt);
	free(m);
}

/* An engine callback came back: 1 when the session went meanwhile. */
static int
mta_gone(struct mta *m)
{
	m->pending--;
	if (m->s != NULL)
		return 0;
	if (m->pending == 0)
		mta_destroy(m);
	return 1;
}

/* Sends the session a reply: code and text (lines split on '\n'). */
static void
mta_reply(struct mta *m, int code, const char *text)
{
	const char	*p = text, *e;
	size_t		 o = 0;
	int		 n;

	do {
		e = p + strcspn(p, "\n");
		n = snprintf(m->out + o, sizeof(m->out) - o, "%d%c%.*s\r\n",
		    code, *e == '\n' ? '-' : ' ', (int)(e - p), p);
		if (n < 0 || (size_t)n >= sizeof(m->out) - o)
			break;
		o += (size_t)n;
		p = *e == '\n' ? e + 1 : e;
	} while (*p != '\0');
	m->out[o] = '\0';
	if (m->s != NULL)
		sess_on_reply(m->s, m->out);
}

void
mta_rcpt(struct mta *m, const char *line)
{
	switch (m->state) {
	case M_IDLE:
		free(m->rcpt);
		if ((m->rcpt = strdup(line)) == NULL) {
			mta_reply(m, 451, "4.3.0 out of memory");
			return;
		}
		mta_route(m);
		return;
	case M_READY:
		m->state = M_RCPT;
		mxconn_command(m->c, relay.t.command, line);
		return;
	case M_FAILED:
		sess_on_reply(m->s, m->fail);
		return;
	default:
		mta_reply(m, 451, "4.3.0 relay busy (internal error)");
	}
}

void
mta_data(struct mta *m)
{
	if (m->state == M_FAILED) {
		sess_on_reply(m->s, m->fail);
		return;
	}
	if (m->state != M_READY) {
		mta_reply(m, 451, "4.3.0 relay busy (internal error)");
		return;
	}
	m->state = M_DATA;
	mxconn_command(m->c, relay.t.data_init, "DATA");
}

/* Message bytes (dot-stuffed, as smtpd sent them): -1 when the MX is
 * gone, else 1 when the session should wait for sess_on_drain(). */
int
mta_data_write(struct mta *m, const void *buf, size_t len)
{
	if (m->state != M_BODY)
		return -1;
	return mxconn_write(m->c, buf, len, relay.t.data_block) >
	    RELAY_DATA_HIGH;
}

void
mta_data_end(struct mta *m)
{
	if (m->state != M_BODY) {
		sess_on_reply(m->s, m->state == M_FAILED ? m->fail :
		    "451 4.4.2 connection to the MX host lost during DATA\r\n");
		return;
	}
	m->state = M_DOT;
	mxconn_expect(m->c, relay.t.data_end);
	mxconn_write(m->c, ".\r\n", 3, relay.t.data_block);
}

/* ---------------------------------------------------------- the route */

static void
mta_route(struct mta *m)
{
	m->state = M_ROUTE;
	m->pending++;
	if (mtasts_resolve_async(relay.ctx, m->domain, mta_on_policy, m) !=
	    MTASTS_OK) {
		m->pending--;
		snprintf(m->why, sizeof(m->why), "cannot resolve the policy");
		mta_route_fail(m);
	}
}

static void
mta_on_policy(void *arg, int err, struct mtasts_answer *ans)
{
	struct mta	*m = arg;

	if (mta_gone(m)) {
		if (err == MTASTS_OK)
			mtasts_answer_clear(ans);
		return;
	}
	if (err != MTASTS_OK) {
		snprintf(m->why, sizeof(m->why), "policy: %s",
		    mtasts_strerror(err));
		mta_route_fail(m);
		return;
	}
	m->ans = *ans;
	m->have_ans = 1;
	relay_log(MTASTS_LOG_INFO, "%s: mode %s%s (%s%s%s)", m->domain,
	    mtasts_mode_name(m->ans.mode), m->ans.log_only ? ", log_only" :
	    "", mtasts_source_name(m->ans.source), m->ans.id[0] ?
	    ", policy id " : "", m->ans.id);
	m->pending++;
	if (mtasts_mx_lookup_async(relay.ctx, m->domain, mta_on_mx, m) !=
	    MTASTS_OK) {
		m->pending--;
		snprintf(m->why, sizeof(m->why), "cannot look up MX");
		mta_route_fail(m);
	}
}

static void
mta_on_mx(void *arg, int err, char **hosts, size_t n)
{
	struct mta	*m = arg;

	if (mta_gone(m)) {
		mtasts_mx_free(hosts, n);
		return;
	}
	if (err != MTASTS_OK || n == 0) {
		mtasts_mx_free(hosts, n);
		snprintf(m->why, sizeof(m->why), "%s", err != MTASTS_OK ?
		    "MX lookup failed" : "null MX: the domain takes no mail");
		mta_route_fail(m);
		return;
	}
	m->hosts = hosts;		/* ours: the engine handed it over */
	m->nhosts = n;
	m->ihost = 0;
	mta_next_host(m);
}

/* hosts[ihost] is next: its TLSA first when a policy is in force. */
static void
mta_next_host(struct mta *m)
{
	mta_tlsa_clear(m);
	if (m->ihost >= m->nhosts) {
		mta_route_fail(m);
		return;
	}
	if (m->ans.mode == MTASTS_MODE_NONE) {
		mta_host(m);
		return;
	}
	m->pending++;
	if (mtasts_tlsa_lookup_async(relay.ctx, mta_host_name(m), relay.port,
	    mta_on_tlsa, m) != MTASTS_OK) {
		m->pending--;
		mta_host(m);
	}
}

static void
mta_on_tlsa(void *arg, int err, struct mtasts_tlsa *recs, size_t n)
{
	struct mta	*m = arg;

	if (mta_gone(m)) {
		mtasts_tlsa_free(recs, n);
		return;
	}
	if (err == MTASTS_EDNS) {
		/* bogus: the core's verdict refuses the host (mta_host) */
		mtasts_tlsa_free(recs, n);
		m->dane = MTASTS_DANE_BOGUS;
		mta_host(m);
		return;
	}
	if (err == MTASTS_OK && n > 0) {
		m->tlsa = recs;		/* ours: the engine handed it over */
		m->ntlsa = n;
		m->dane = MTASTS_DANE_VALID;
	} else
		mtasts_tlsa_free(recs, n);
	mta_host(m);
}

static void
mta_tlsa_clear(struct mta *m)
{
	mtasts_tlsa_free(m->tlsa, m->ntlsa);
	m->tlsa = NULL;
	m->ntlsa = 0;
	m->dane = 0;
}

/* The verdict of hosts[ihost]; then its addresses. */
static void
mta_host(struct mta *m)
{
	const char	*host = mta_host_name(m);

	mtasts_mx_verdict(&m->ans, host, m->dane, &m->v);
	if (m->v.verdict == MTASTS_MX_REFUSE) {
		if (m->v.refuse) {
			/* log_only: recorded once, after the session */
			mta_record(m, m->v.result, m->v.detail);
			relay_log(MTASTS_LOG_WARN, "%s: refused MX host %s: %s",
			    m->domain, host, m->v.detail);
			m->refused = 1;
			mta_host_fail(m, "not contacted: %s", m->v.detail);
			return;
		}
		relay_log(MTASTS_LOG_WARN, "%s: would have refused MX host %s:"
		    " %s", m->domain, host, m->v.detail);
	}
	m->pending++;
	if (mtasts_addrs_lookup_async(relay.ctx, host, mta_on_addrs, m) !=
	    MTASTS_OK) {
		m->pending--;
		mta_host_fail(m, "address lookup failed");
	}
}

static void
mta_on_addrs(void *arg, int err, char **addrs, size_t n)
{
	struct mta	*m = arg;

	if (mta_gone(m)) {
		mtasts_mx_free(addrs, n);
		return;
	}
	mtasts_mx_free(m->addrs, m->naddrs);
	m->addrs = NULL;
	m->naddrs = m->iaddr = 0;
	if (err != MTASTS_OK || n == 0) {
		mtasts_mx_free(addrs, n);
		mta_host_fail(m, "no address (%s)", err != MTASTS_OK ?
		    mtasts_strerror(err) : "empty");
		return;
	}
	m->addrs = addrs;		/* ours: the engine handed it over */
	m->naddrs = n;
	mta_next_addr(m);
}

static void
mta_next_addr(struct mta *m)
{
	mxconn_free(m->c);
	m->c = NULL;
	m->ext = 0;
	m->tls = MTASTS_TLS_NONE;
	while (m->iaddr < m->naddrs) {
		m->c = mxconn_connect(m->addrs[m->iaddr], relay.port,
		    relay.t.connect, relay.t.greeting, mta_on_conn, m);
		if (m->c != NULL) {
			m->state = M_GREET;
			return;
		}
		m->iaddr++;
	}
	m->ihost++;
	mta_next_host(m);
}

/* The current address failed: say why, try the next one. */
static void
mta_host_fail(struct mta *m, const char *fmt, ...)
{
	char		 msg[512];
	size_t		 o = strlen(m->why);
	const char	*addr;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	addr = m->iaddr < m->naddrs ? m->addrs[m->iaddr] : NULL;
	relay_log(MTASTS_LOG_WARN, "%s: MX host %s%s%s%s: %s", m->domain,
	    mta_host_name(m), addr ? " [" : "", addr ? addr : "",
	    addr ? "]" : "", msg);
	if (o < sizeof(m->why) - 1)
		snprintf(m->why + o, sizeof(m->why) - o, "%s%s%s%s%s: %s",
		    o ? "; " : "", mta_host_name(m), addr ? " [" : "",
		    addr ? addr : "", addr ? "]" : "", msg);
	if (m->c != NULL) {
		mxconn_free(m->c);
		m->c = NULL;
	}
	m->state = M_ROUTE;
	if (addr != NULL) {
		m->iaddr++;
		mta_next_addr(m);
		return;
	}
	m->ihost++;
	mta_next_host(m);
}

/*
 * Fails the transaction: the reply goes to the command waiting (when
 * waiting) and to every later one. The session may free m from
 * sess_on_reply(): callers do not touch m after this.
 */
static void
mta_fail(struct mta *m, int code, const char *text, int waiting)
{
	struct sess	*s = m->s;

	m->state = M_FAILED;
	m->s = NULL;
	mta_reply(m, code, text);
	m->s = s;
	memcpy(m->fail, m->out, sizeof(m->fail));
	if (waiting && s != NULL)
		sess_on_reply(s, m->fail);
}

/* No host is left: every RCPT of this transaction gets the same 4xx. */
static void
mta_route_fail(struct mta *m)
{
	char	text[RELAY_REPLY_MAX];
	int	strict;

	strict = m->have_ans && m->ans.mode == MTASTS_MODE_ENFORCE &&
	    !m->ans.log_only;
	snprintf(text, sizeof(text), "%s %s: no MX host of %s could be "
	    "used: %.600s", strict ? "4.7.5" : "4.4.1", strict ? "MTA-STS" :
	    "delivery", m->domain, m->why[0] ? m->why : "no MX host");
	relay_log(MTASTS_LOG_WARN, "%s: deferred: %s", m->domain, text);
	mta_fail(m, 451, text, 1);
}

/*
 * The MX went away after MAIL was accepted: the command waiting (if one
 * is) and every later one get a 451; smtpd keeps the message.
 */
static void
mta_broken(struct mta *m, const char *why)
{
	char	 text[512];
	int	 waiting = m->state != M_READY && m->state != M_BODY;

	snprintf(text, sizeof(text), "4.4.2 MX host %s [%s] failed: %s",
	    mta_host_name(m), m->c ? mxconn_peer(m->c) : "", why);
	relay_log(MTASTS_LOG_WARN, "%s: %s", m->domain, text);
	mxconn_free(m->c);
	m->c = NULL;
	mta_fail(m, 451, text, waiting);
}

/* ------------------------------------------------------- the dialogue */

static void
mta_on_conn(void *arg, enum mxconn_ev ev, int code, const char *text)
{
	struct mta	*m = arg;

	switch (ev) {
	case MXCONN_DRAIN:
		if (m->s != NULL)
			sess_on_drain(m->s);
		return;
	case MXCONN_TLS:
		mta_tls_done(m);
		return;
	case MXCONN_ERROR:
		if (m->state >= M_READY) {
			mta_broken(m, text);
			return;
		}
		if (m->state == M_HANDSHAKE && m->v.verdict != MTASTS_MX_PLAIN)
			mta_record(m, MTASTS_RESULT_VALIDATION_FAILURE, text);
		mta_host_fail(m, "%s", text);
		return;
	case MXCONN_REPLY:
		mta_dialogue(m, code, text);
		return;
	}
}

static unsigned
mta_ext(const char *text)
{
	const char	*p;
	unsigned	 ext = 0;
	size_t		 n;

	for (p = strchr(text, '\n'); p != NULL; p = strchr(p, '\n')) {
		p++;
		n = strcspn(p, " \n");
		if (n == 8 && strncasecmp(p, "STARTTLS", n) == 0)
			ext |= EXT_STARTTLS;
		else if (n == 8 && strncasecmp(p, "8BITMIME", n) == 0)
			ext |= EXT_8BITMIME;
		else if (n == 8 && strncasecmp(p, "SMTPUTF8", n) == 0)
			ext |= EXT_SMTPUTF8;
		else if (n == 4 && strncasecmp(p, "SIZE", n) == 0)
			ext |= EXT_SIZE;
	}
	return ext;
}

static void
mta_ehlo(struct mta *m, enum mta_state next)
{
	char	line[300];

	snprintf(line, sizeof(line), "EHLO %s", relay.helo);
	m->state = next;
	mxconn_command(m->c, relay.t.command, line);
}

static void
mta_dialogue(struct mta *m, int code, const char *text)
{
	switch (m->state) {
	case M_GREET:
		if (code != 220)
			mta_host_fail(m, "greeting: %d %.200s", code, text);
		else
			mta_ehlo(m, M_EHLO);
		return;
	case M_EHLO:
	case M_EHLO2:
		if (code != 250) {
			mta_host_fail(m, "EHLO: %d %.200s", code, text);
			return;
		}
		m->ext = mta_ext(text);
		if (m->state == M_EHLO2)
			mta_send_mail(m);
		else if (m->ext & EXT_STARTTLS) {
			m->state = M_STARTTLS;
			mxconn_command(m->c, relay.t.command, "STARTTLS");
		} else
			mta_no_tls(m);
		return;
	case M_STARTTLS:
		if (code != 220) {
			mta_no_tls(m);
			return;
		}
		m->state = M_HANDSHAKE;
		{
			SSL	*ssl = tls_client(mta_host_name(m),
				    m->v.verdict != MTASTS_MX_PLAIN);

			if (ssl == NULL || (m->dane > 0 && tls_dane(ssl,
			    mta_host_name(m), m->tlsa, m->ntlsa) < 1)) {
				SSL_free(ssl);
				mta_host_fail(m, "cannot set up TLS");
				return;
			}
			mxconn_starttls(m->c, ssl, relay.t.command);
		}
		return;
	case M_MAIL:
		if (code / 100 != 2) {
			mta_fail(m, code, text, 1);
			return;
		}
		m->state = M_READY;
		mta_rcpt(m, m->rcpt);
		return;
	case M_RCPT:
	case M_DOT:
		m->state = m->state == M_RCPT ? M_READY : M_FAILED;
		if (m->state == M_FAILED)
			snprintf(m->fail, sizeof(m->fail), "503 5.5.1 "
			    "transaction over\r\n");
		mta_reply(m, code, text);	/* last: m may be freed */
		return;
	case M_DATA:
		m->state = code == 354 ? M_BODY : M_READY;
		mta_reply(m, code, text);
		return;
	default:
		mta_broken(m, "reply out of turn");
	}
}

/* Judges a session: 0 go on, -1 the policy refuses it (host failed). */
static int
mta_judge(struct mta *m, const struct mtasts_cert_facts *cert)
{
	struct mtasts_session_verdict	 sv;
	const char			*host = mta_host_name(m);

	if (mtasts_session_verdict(&m->ans, host, m->dane, m->tls, cert,
	    time(NULL), &sv) != MTASTS_OK)
		return -1;
	if (m->v.verdict != MTASTS_MX_PLAIN)
		mta_record(m, sv.result, sv.detail[0] ? sv.detail : NULL);
	if (!sv.would_refuse)
		return 0;
	if ((m->v.verdict == MTASTS_MX_REQUIRE_TLS ||
	    m->v.verdict == MTASTS_MX_DANE) && !m->ans.log_only) {
		m->refused = 1;
		mta_host_fail(m, "%s%s%s", mtasts_result_name(sv.result),
		    sv.detail[0] ? ": " : "", sv.detail);
		return -1;
	}
	relay_log(MTASTS_LOG_WARN, "%s: %s: MX host %s: %s%s%s; enforce would"
	    " have deferred", m->domain, m->ans.log_only ? "log_only" :
	    "testing", host, mtasts_result_name(sv.result),
	    sv.detail[0] ? ": " : "", sv.detail);
	return 0;
}

static void
mta_no_tls(struct mta *m)
{
	m->tls = MTASTS_TLS_NONE;
	if (mta_judge(m, NULL) == 0)
		mta_send_mail(m);
}

static void
mta_tls_done(struct mta *m)
{
	struct tls_cert	 tc;
	char		 why[256];

	m->tls = tls_outcome(mxconn_ssl(m->c), &tc, why, sizeof(why));
	relay_log(MTASTS_LOG_INFO, "%s: MX host %s [%s]: %s, certificate %s%s",
	    m->domain, mta_host_name(m), mxconn_peer(m->c),
	    SSL_get_version(mxconn_ssl(m->c)), m->tls == MTASTS_TLS_VERIFIED ?
	    "verified" : "not verified: ", m->tls == MTASTS_TLS_VERIFIED ?
	    (m->dane > 0 ? " by DANE" : "") : why);
	if (mta_judge(m, &tc.facts) == 0)
		mta_ehlo(m, M_EHLO2);
	tls_cert_clear(&tc);
}

/* MAIL FROM with what the MX supports; refuses what cannot be dropped. */
static void
mta_send_mail(struct mta *m)
{
	char	line[RELAY_LINE_MAX + 64];

	if (m->utf8 && !(m->ext & EXT_SMTPUTF8)) {
		mta_fail(m, 553, "5.6.7 the MX host does not support SMTPUTF8",
		    1);
		return;
	}
	snprintf(line, sizeof(line), "MAIL FROM:<%s>%s%s%s%s%s", m->from,
	    m->body8 && (m->ext & EXT_8BITMIME) ? " BODY=8BITMIME" : "",
	    m->body7 && (m->ext & EXT_8BITMIME) ? " BODY=7BIT" : "",
	    m->utf8 ? " SMTPUTF8" : "",
	    m->size && (m->ext & EXT_SIZE) ? " SIZE=" : "",
	    m->size && (m->ext & EXT_SIZE) ? m->size : "");
	m->state = M_MAIL;
	relay_log(MTASTS_LOG_INFO, "%s: MX host %s [%s]: sending over %s",
	    m->domain, mta_host_name(m), mxconn_peer(m->c),
	    m->tls == MTASTS_TLS_VERIFIED ? "verified TLS" :
	    m->tls == MTASTS_TLS_UNVERIFIED ? "unverified TLS" : "clear text");
	mxconn_command(m->c, relay.t.command, line);
}

/* One TLS-RPT result for the current host, when a policy is in force. */
static void
mta_record(struct mta *m, enum mtasts_result r, const char *detail)
{
	struct mtasts_tlsrpt_result	 res;
	int				 rc;

	if (!m->have_ans || m->ans.mode == MTASTS_MODE_NONE)
		return;
	memset(&res, 0, sizeof(res));
	res.domain = m->domain;
	res.policy_type = m->dane ? MTASTS_POLICY_TLSA : MTASTS_POLICY_STS;
	res.mx_host = mta_host_name(m);
	res.receiving_ip = m->c != NULL ? mxconn_peer(m->c) : NULL;
	res.sending_ip = m->c != NULL && *mxconn_local(m->c) ?
	    mxconn_local(m->c) : NULL;
	res.result = r;
	res.detail = detail;
	res.answer = &m->ans;		/* the mode of the metrics */
	if ((rc = mtasts_tlsrpt_record(relay.ctx, &res)) != MTASTS_OK)
		relay_log(MTASTS_LOG_WARN, "%s: tlsrpt: %s not recorded: %s",
		    m->domain, mtasts_result_name(r), mtasts_strerror(rc));
	else
		relay_log(MTASTS_LOG_DEBUG, "%s: tlsrpt: MX host %s: %s recorded",
		    m->domain, res.mx_host, mtasts_result_name(r));
}
