/*
 * fetch.c - the HTTPS policy fetch (RFC 8461 section 3.3) on libcurl.
 *
 * Each fetch is a new easy handle with its own curl share object for
 * the DNS cache: the caller's addresses go in with CURLOPT_RESOLVE, so
 * curl resolves nothing, and they die with the fetch (no entry outlives
 * it, on the multi handle either). Connections are never reused. HTTPS
 * only, no redirects, TLS 1.2 or later with the peer and its name
 * verified, a proxy only when configured (the environment is ignored),
 * connect and total timeouts from the configuration, no signals.
 *
 * The body is taken only from a 200 answer and capped while reading: at
 * MTASTS_POLICY_MAX_BODY + 1 bytes the transfer is aborted. The media
 * type must be text/plain (parameters ignored, case-insensitive).
 *
 * fetch_policy() drives its handle on a private multi handle kept for
 * the life of the struct fetch (curl_multi_poll() bounded by what is
 * left of fetch_timeout), so curl's CA store cache (kept on the multi
 * handle, CURLOPT_CA_CACHE_TIMEOUT) outlives each fetch: the CA bundle
 * is read and decoded once, not for every fetch. Nothing else carries
 * over: no connection (fresh, never reused), no address (the per-fetch
 * share holds the DNS cache). fetch_policy_async() adds the handle to
 * another multi handle whose sockets and one timer live on the engine's
 * ev, and the callback runs from ev_process() when
 * curl_multi_info_read() reports the transfer done.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/x509.h>

#include "mtasts.h"
#include "net/fetch.h"
#include "net/https.h"

#define FETCH_UA	"mtasts/0.1"
#define FETCH_PATH	"/.well-known/mta-sts.txt"
#define FETCH_HOST_MAX	(MTASTS_NAME_MAX + 8)

/* One transfer. */
struct fetch_req {
	struct fetch		*f;
	CURL			*easy;
	CURLSH			*share;
	struct curl_slist	*resolve;
	struct curl_slist	*headers;
	char			 host[FETCH_HOST_MAX + 1];
	char			 errbuf[CURL_ERROR_SIZE];
	char			 location[512];	/* of a redirect, cut */
	char			*body;
	size_t			 len;
	int			 toobig;	/* aborted at the cap */
	int			 badstatus;	/* aborted: not a 200 */
	fetch_cb		*cb;
	void			*arg;
	struct fetch_req	*prev, *next;	/* f->reqs, async only */
};

struct fetch {
	const struct config	*conf;
	const struct logger	*lg;
	struct ev		*ev;
	CURLM			*multi;		/* made on first async use */
	CURLM			*smulti;	/* fetch_policy()'s, made on
						   first use */
	struct ev_timer		 timer;		/* curl's timeout */
	struct fetch_req	*reqs;		/* in flight on multi */
};

static void	fetch_global_init(void);
static int	fetch_check_args(const char *, char *const *, size_t);
static int	fetch_req_new(struct fetch *, const char *, char *const *,
		    size_t, struct fetch_req **);
static int	fetch_req_setopt(struct fetch_req *, const char *);
static void	fetch_req_free(struct fetch_req *);
static size_t	fetch_on_data(char *, size_t, size_t, void *);
static size_t	fetch_on_header(char *, size_t, size_t, void *);
static int	fetch_req_result(struct fetch_req *, CURLcode,
		    struct fetch_result *);
static void	fetch_fail_curl(struct fetch_req *, CURLcode,
		    struct fetch_result *);
static int	fetch_fail_http(struct fetch_req *, struct fetch_result *);
static int	fetch_is_text_plain(const char *);
static void	fetch_setf(struct fetch_result *, enum fetch_fail,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static CURLcode	fetch_sync_run(struct fetch *, struct fetch_req *);
static int	fetch_multi_init(struct fetch *);
static int	fetch_on_socket(CURL *, curl_socket_t, int, void *, void *);
static int	fetch_on_curl_timer(CURLM *, long, void *);
static void	fetch_on_fd(void *, int, unsigned);
static void	fetch_on_timer(void *);
static void	fetch_check_done(struct fetch *);

static pthread_once_t	fetch_once = PTHREAD_ONCE_INIT;
static CURLcode		fetch_init_rc = CURLE_FAILED_INIT;

static void
fetch_global_init(void)
{
	fetch_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
fetch_new(const struct config *conf, const struct logger *lg,
    struct ev *ev, struct fetch **out)
{
	struct fetch	*f;

	*out = NULL;
	if (pthread_once(&fetch_once, fetch_global_init) != 0 ||
	    fetch_init_rc != CURLE_OK) {
		log_err(lg, "fetch: libcurl initialisation failed");
		return MTASTS_ENOMEM;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return MTASTS_ENOMEM;
	f->conf = conf;
	f->lg = lg;
	f->ev = ev;
	*out = f;
	return MTASTS_OK;
}

void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	while (f->reqs != NULL)
		fetch_req_free(f->reqs);
	if (f->ev != NULL)
		ev_timer_del(f->ev, &f->timer);
	if (f->multi != NULL)
		curl_multi_cleanup(f->multi);
	if (f->smulti != NULL)
		curl_multi_cleanup(f->smulti);
	free(f);
}

/* A host name (LDH and dots) and IP literals only. */
static int
fetch_check_args(const char *domain, char *const *addrs, size_t naddrs)
{
	unsigned char	 buf[sizeof(struct in6_addr)];
	const char	*p;
	size_t		 i;

	if (domain == NULL || *domain == '\0' || *domain == '.' ||
	    strlen(domain) > MTASTS_NAME_MAX - 8 || naddrs == 0)
		return MTASTS_EINVAL;
	for (p = domain; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_'))
			return MTASTS_EINVAL;
	for (i = 0; i < naddrs; i++)
		if (inet_pton(AF_INET, addrs[i], buf) != 1 &&
		    inet_pton(AF_INET6, addrs[i], buf) != 1)
			return MTASTS_EINVAL;
	return MTASTS_OK;
}

static int
fetch_req_new(struct fetch *f, const char *domain, char *const *addrs,
    size_t naddrs, struct fetch_req **out)
{
	struct fetch_req	*req;
	int			 r;

	*out = NULL;
	if ((r = fetch_check_args(domain, addrs, naddrs)) != MTASTS_OK)
		return r;
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return MTASTS_ENOMEM;
	req->f = f;
	(void)snprintf(req->host, sizeof(req->host), "mta-sts.%s", domain);
	/* A trailing dot would make a second name for the same host. */
	if (req->host[strlen(req->host) - 1] == '.')
		req->host[strlen(req->host) - 1] = '\0';
	r = MTASTS_ENOMEM;
	if ((req->easy = curl_easy_init()) == NULL ||
	    (req->share = curl_share_init()) == NULL ||
	    curl_share_setopt(req->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    (r = https_resolve(req->host, "443", addrs, naddrs,
	    &req->resolve)) != MTASTS_OK ||
	    (req->headers = curl_slist_append(NULL,
	    "Cache-Control: no-cache")) == NULL ||
	    (r = fetch_req_setopt(req, domain)) != MTASTS_OK)
		goto fail;
	*out = req;
	return MTASTS_OK;
fail:
	fetch_req_free(req);
	return r == MTASTS_OK ? MTASTS_ENOMEM : r;
}

static int
fetch_req_setopt(struct fetch_req *req, const char *domain)
{
	const struct config	*conf = req->f->conf;
	CURL			*e = req->easy;
	char			 url[FETCH_HOST_MAX + sizeof(FETCH_PATH) + 16];
	int			 bad;

	(void)snprintf(url, sizeof(url), "https://%s%s", req->host,
	    FETCH_PATH);
	bad = https_setopt(e, conf, url, req->share, req->resolve,
	    (long)conf->fetch_timeout, FETCH_UA) != MTASTS_OK;
#define SET(opt, val)	bad |= curl_easy_setopt(e, opt, val) != CURLE_OK
	SET(CURLOPT_HTTPHEADER, req->headers);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MTASTS_POLICY_MAX_BODY);
	SET(CURLOPT_WRITEFUNCTION, fetch_on_data);
	SET(CURLOPT_WRITEDATA, req);
	SET(CURLOPT_HEADERFUNCTION, fetch_on_header);
	SET(CURLOPT_HEADERDATA, req);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_PRIVATE, req);
#undef SET
	if (bad)
		log_err(req->f->lg, "fetch: %s: libcurl refused an option",
		    domain);
	return bad ? MTASTS_ENOMEM : MTASTS_OK;
}

static void
fetch_req_free(struct fetch_req *req)
{
	struct fetch	*f = req->f;

	if (req->prev != NULL || f->reqs == req) {
		if (req->prev != NULL)
			req->prev->next = req->next;
		else
			f->reqs = req->next;
		if (req->next != NULL)
			req->next->prev = req->prev;
		curl_multi_remove_handle(f->multi, req->easy);
	}
	if (req->easy != NULL)
		curl_easy_cleanup(req->easy);
	if (req->share != NULL)
		curl_share_cleanup(req->share);
	curl_slist_free_all(req->resolve);
	curl_slist_free_all(req->headers);
	free(req->body);
	free(req);
}

/* Keeps a 200's body, up to the cap plus one byte. */
static size_t
fetch_on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch_req	*req = arg;
	size_t			 n = size * nmemb, room;
	long			 status = 0;
	char			*b;

	(void)curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		req->badstatus = 1;
		return 0;
	}
	if (req->body == NULL &&
	    (req->body = malloc(MTASTS_POLICY_MAX_BODY + 2)) == NULL)
		return 0;
	b = req->body;
	room = MTASTS_POLICY_MAX_BODY + 1 - req->len;
	if (n > room) {
		memcpy(b + req->len, p, room);
		req->len += room;
		req->toobig = 1;
		return 0;
	}
	memcpy(b + req->len, p, n);
	req->len += n;
	return n;
}

/* Keeps the Location header (the body of a 3xx is never read). */
static size_t
fetch_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch_req	*req = arg;
	size_t			 n = size * nmemb, skip = 9;

	if (n <= skip || strncasecmp(p, "Location:", skip) != 0)
		return n;
	while (skip < n && (p[skip] == ' ' || p[skip] == '\t'))
		skip++;
	while (n > skip && (p[n - 1] == '\r' || p[n - 1] == '\n' ||
	    p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	(void)snprintf(req->location, sizeof(req->location), "%.*s",
	    (int)(n - skip), p + skip);
	return size * nmemb;
}

static void
fetch_setf(struct fetch_result *res, enum fetch_fail fail,
    const char *fmt, ...)
{
	va_list	ap;

	res->fail = fail;
	va_start(ap, fmt);
	(void)vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

/* Fills res from a finished transfer; MTASTS_OK or MTASTS_EFETCH. */
static int
fetch_req_result(struct fetch_req *req, CURLcode rc,
    struct fetch_result *res)
{
	memset(res, 0, sizeof(*res));
	(void)curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE,
	    &res->status);
	if (req->toobig || rc == CURLE_FILESIZE_EXCEEDED) {
		fetch_setf(res, FETCH_ETOOBIG, "policy body is larger than "
		    "%d bytes", MTASTS_POLICY_MAX_BODY);
		return MTASTS_EFETCH;
	}
	if (req->badstatus || (rc == CURLE_OK && res->status != 200))
		return fetch_fail_http(req, res);
	if (rc != CURLE_OK) {
		fetch_fail_curl(req, rc, res);
		return MTASTS_EFETCH;
	}
	if (fetch_fail_http(req, res) != MTASTS_OK)
		return MTASTS_EFETCH;
	if (req->body == NULL && (req->body = malloc(1)) == NULL) {
		fetch_setf(res, FETCH_EHTTP, "out of memory");
		return MTASTS_EFETCH;
	}
	req->body[req->len] = '\0';
	res->body = req->body;
	res->len = req->len;
	req->body = NULL;
	return MTASTS_OK;
}

/* Status, redirect and media type of a complete answer. */
static int
fetch_fail_http(struct fetch_req *req, struct fetch_result *res)
{
	char	*ct = NULL;

	if (res->status >= 300 && res->status < 400) {
		fetch_setf(res, FETCH_EHTTP, "redirect (%ld) to %s refused: "
		    "RFC 8461 forbids redirects", res->status,
		    req->location[0] ? req->location : "(no Location)");
		return MTASTS_EFETCH;
	}
	if (res->status != 200) {
		fetch_setf(res, FETCH_EHTTP, "HTTP status %ld", res->status);
		return MTASTS_EFETCH;
	}
	(void)curl_easy_getinfo(req->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (ct == NULL) {
		fetch_setf(res, FETCH_EHTTP, "no media type, text/plain "
		    "required");
		return MTASTS_EFETCH;
	}
	if (!fetch_is_text_plain(ct)) {
		fetch_setf(res, FETCH_EHTTP, "media type %.*s is not "
		    "text/plain", (int)strcspn(ct, ";"), ct);
		return MTASTS_EFETCH;
	}
	return MTASTS_OK;
}

/* media-type = type "/" subtype *( OWS ";" OWS parameter ) */
static int
fetch_is_text_plain(const char *ct)
{
	size_t	n;

	ct += strspn(ct, " \t");
	if (strncasecmp(ct, "text/plain", 10) != 0)
		return 0;
	ct += 10;
	n = strspn(ct, " \t");
	return ct[n] == '\0' || ct[n] == ';';
}

static void
fetch_fail_curl(struct fetch_req *req, CURLcode rc,
    struct fetch_result *res)
{
	const char	*why = req->errbuf[0] ? req->errbuf :
			    curl_easy_strerror(rc);
	long		 vr = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		fetch_setf(res, FETCH_ETIMEOUT, "fetch from %s timed out: %s",
		    req->host, why);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		(void)curl_easy_getinfo(req->easy, CURLINFO_SSL_VERIFYRESULT,
		    &vr);
		/* curl reports a name mismatch as 1, "unspecified". */
		if (vr != X509_V_OK && vr != X509_V_ERR_UNSPECIFIED)
			fetch_setf(res, FETCH_ETLS, "certificate for %s is "
			    "not valid: %s", req->host,
			    X509_verify_cert_error_string(vr));
		else if (rc == CURLE_PEER_FAILED_VERIFICATION)
			fetch_setf(res, FETCH_ETLS, "certificate for %s is "
			    "not valid: %s", req->host, why);
		else
			fetch_setf(res, FETCH_ETLS, "TLS with %s failed: %s",
			    req->host, why);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		fetch_setf(res, FETCH_ECONNECT, "cannot fetch from %s: %s",
		    req->host, why);
		break;
	default:
		fetch_setf(res, res->status ? FETCH_EHTTP : FETCH_ECONNECT,
		    "fetch from %s failed: %s", req->host, why);
		break;
	}
}

int
fetch_policy(struct fetch *f, const char *domain, char *const *addrs,
    size_t naddrs, struct fetch_result *res)
{
	struct fetch_req	*req;
	CURLcode		 rc;
	int			 r;

	memset(res, 0, sizeof(*res));
	if ((r = fetch_req_new(f, domain, addrs, naddrs, &req)) != MTASTS_OK)
		return r;
	if ((f->smulti == NULL && (f->smulti = curl_multi_init()) == NULL) ||
	    curl_multi_add_handle(f->smulti, req->easy) != CURLM_OK) {
		fetch_req_free(req);
		return MTASTS_ENOMEM;
	}
	rc = fetch_sync_run(f, req);
	r = fetch_req_result(req, rc, res);
	(void)curl_multi_remove_handle(f->smulti, req->easy);
	if (r != MTASTS_OK)
		log_info(f->lg, "fetch: %s: %s", req->host, res->err);
	fetch_req_free(req);
	return r;
}

/*
 * Runs req, the only handle on f->smulti, to its end. curl enforces
 * its connect and total timeouts itself; the wait is cut at
 * fetch_timeout from the start as well, so it stays bounded whatever
 * curl's timer says.
 */
static CURLcode
fetch_sync_run(struct fetch *f, struct fetch_req *req)
{
	unsigned long long	 deadline, now;
	CURLMsg			*msg;
	int			 running, left;

	deadline = ev_now_ms() + f->conf->fetch_timeout;
	for (;;) {
		if (curl_multi_perform(f->smulti, &running) != CURLM_OK)
			return CURLE_OUT_OF_MEMORY;
		while ((msg = curl_multi_info_read(f->smulti, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE &&
			    msg->easy_handle == req->easy)
				return msg->data.result;
		if (running == 0)
			return CURLE_GOT_NOTHING;
		if ((now = ev_now_ms()) >= deadline)
			return CURLE_OPERATION_TIMEDOUT;
		if (curl_multi_poll(f->smulti, NULL, 0,
		    (int)(deadline - now), NULL) != CURLM_OK)
			return CURLE_OUT_OF_MEMORY;
	}
}

static int
fetch_multi_init(struct fetch *f)
{
	int	bad = 0;

	if (f->multi != NULL)
		return MTASTS_OK;
	if ((f->multi = curl_multi_init()) == NULL)
		return MTASTS_ENOMEM;
#define MSET(opt, val)	bad |= curl_multi_setopt(f->multi, opt, val) != CURLM_OK
	MSET(CURLMOPT_SOCKETFUNCTION, fetch_on_socket);
	MSET(CURLMOPT_SOCKETDATA, f);
	MSET(CURLMOPT_TIMERFUNCTION, fetch_on_curl_timer);
	MSET(CURLMOPT_TIMERDATA, f);
#undef MSET
	if (bad) {
		curl_multi_cleanup(f->multi);
		f->multi = NULL;
		return MTASTS_ENOMEM;
	}
	return MTASTS_OK;
}

int
fetch_policy_async(struct fetch *f, const char *domain, char *const *addrs,
    size_t naddrs, fetch_cb *cb, void *arg)
{
	struct fetch_req	*req;
	int			 r;

	if (f->ev == NULL || cb == NULL)
		return MTASTS_EINVAL;
	if ((r = fetch_multi_init(f)) != MTASTS_OK ||
	    (r = fetch_req_new(f, domain, addrs, naddrs, &req)) != MTASTS_OK)
		return r;
	req->cb = cb;
	req->arg = arg;
	if (curl_multi_add_handle(f->multi, req->easy) != CURLM_OK) {
		fetch_req_free(req);
		return MTASTS_ENOMEM;
	}
	req->next = f->reqs;
	if (f->reqs != NULL)
		f->reqs->prev = req;
	f->reqs = req;
	return MTASTS_OK;
}

/* curl tells which events a socket needs. */
static int
fetch_on_socket(CURL *easy, curl_socket_t s, int what, void *arg,
    void *sockp)
{
	struct fetch	*f = arg;
	unsigned	 events = 0;

	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EV_WRITE;
	if (ev_watch(f->ev, s, events, fetch_on_fd, f) != MTASTS_OK) {
		log_err(f->lg, "fetch: cannot watch a socket");
		return -1;
	}
	return 0;
}

/* curl wants to be called after ms (-1: never); no calls back here. */
static int
fetch_on_curl_timer(CURLM *multi, long ms, void *arg)
{
	struct fetch	*f = arg;

	if (ms < 0) {
		ev_timer_del(f->ev, &f->timer);
		return 0;
	}
	return ev_timer_set(f->ev, &f->timer, (unsigned)ms, fetch_on_timer,
	    f) == MTASTS_OK ? 0 : -1;
}

static void
fetch_on_fd(void *arg, int fd, unsigned events)
{
	struct fetch	*f = arg;
	int		 running, mask = 0;

	if (events & EV_READ)
		mask |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		mask |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(f->multi, fd, mask, &running);
	fetch_check_done(f);
}

static void
fetch_on_timer(void *arg)
{
	struct fetch	*f = arg;
	int		 running;

	(void)curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	fetch_check_done(f);
}

/* Delivers the finished transfers. */
static void
fetch_check_done(struct fetch *f)
{
	struct fetch_result	 res;
	struct fetch_req	*req;
	CURLMsg			*msg;
	fetch_cb		*cb;
	void			*arg;
	int			 left, r;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		req = NULL;
		(void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&req);
		if (req == NULL)
			continue;
		r = fetch_req_result(req, msg->data.result, &res);
		if (r != MTASTS_OK)
			log_info(f->lg, "fetch: %s: %s", req->host, res.err);
		cb = req->cb;
		arg = req->arg;
		/* Off the multi handle (msg dies) before the callback. */
		fetch_req_free(req);
		cb(arg, r, &res);
		fetch_result_clear(&res);
	}
}
