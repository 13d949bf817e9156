/*
 * probe.c - TLS probes of a peer: the SMTP STARTTLS probe of an MX
 * address and a TLS connect to an HTTPS host, on OpenSSL.
 *
 * A probe is one connection with one deadline. The socket is non-blocking
 * from the start; every connect, read, write and handshake step waits in
 * poll(2) for what is left of the deadline. SMTP replies are read a line
 * at a time into a fixed buffer and fed to probe_reply_line().
 *
 * Verification runs with SSL_VERIFY_PEER and a callback that records
 * each error and lets the handshake go on, so that one probe reports all
 * the problems of a certificate (expired and self-signed, say) and the
 * certificate itself. The result type follows RFC 8460 section 4.3 with
 * the most basic problem first: not trusted, then expired, then the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mtasts.h"
#include "net/probe.h"

#define PROBE_LINE_MAX	2048	/* a reply line; longer ones are cut */

/* One connection. */
struct probe_conn {
	int			 fd;
	struct timespec		 deadline;	/* CLOCK_MONOTONIC */
	unsigned		 timeout_ms;	/* for messages */
	SSL_CTX			*sslctx;
	SSL			*ssl;
	char			 buf[PROBE_LINE_MAX]; /* read, not used yet */
	size_t			 len;
	struct probe_result	*res;
};

static int	probe_begin(struct probe_conn *, struct probe_result *,
		    const char *, unsigned, unsigned);
static void	probe_end(struct probe_conn *);
static int	probe_wait(struct probe_conn *, short);
static int	probe_connect(struct probe_conn *, const char *, unsigned);
static int	probe_send(struct probe_conn *, const char *);
static int	probe_read_reply(struct probe_conn *, struct probe_reply *);
static int	probe_read_line(struct probe_conn *, char *, size_t,
		    size_t *);
static int	probe_smtp_talk(struct probe_conn *, const char *,
		    const char *);
static int	probe_cmd(struct probe_conn *, const char *,
		    struct probe_reply *);
static int	probe_tls(struct probe_conn *, const struct config *,
		    const char *);
static int	probe_tls_setup(struct probe_conn *, const struct config *,
		    const char *);
static int	probe_tls_handshake(struct probe_conn *);
static int	probe_on_verify(int, X509_STORE_CTX *);
static unsigned	probe_cert_flag(int);
static void	probe_cert_info(SSL *, struct probe_cert *);
static void	probe_name_text(const X509_NAME *, char *, size_t);
static void	probe_san_text(X509 *, char *, size_t);
static time_t	probe_asn1_time(const ASN1_TIME *);
static void	probe_verdict(struct probe_result *, const char *);
static void	probe_fail(struct probe_result *, enum probe_stage,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	probe_add(struct probe_result *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	probe_sigpipe_hold(sigset_t *, int *);
static void	probe_sigpipe_release(const sigset_t *, int);

static const char *const stage_names[] = {
	"TCP connect", "SMTP greeting", "EHLO", "STARTTLS", "TLS handshake",
	"certificate check", "done"
};

const char *
probe_stage_name(enum probe_stage stage)
{
	if ((unsigned)stage >= sizeof(stage_names) / sizeof(stage_names[0]))
		return "?";
	return stage_names[stage];
}

/* ---- SMTP replies ---- */

void
probe_reply_init(struct probe_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/*
 * Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *              Reply-code [ SP textstring ] CRLF
 * Reply-code = %x32-35 %x30-35 %x30-39
 */
int
probe_reply_line(struct probe_reply *r, const char *line, size_t len)
{
	unsigned	 code;
	const char	*text;
	size_t		 tlen, kw;

	if (r->done || len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '5' || line[2] < '0' || line[2] > '9')
		return MTASTS_ESYNTAX;
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return MTASTS_ESYNTAX;
	code = (unsigned)(line[0] - '0') * 100 +
	    (unsigned)(line[1] - '0') * 10 + (unsigned)(line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return MTASTS_ESYNTAX;
	if (r->nlines >= PROBE_REPLY_LINES_MAX)
		return MTASTS_ESYNTAX;
	text = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if (r->nlines == 0) {
		r->code = code;
		(void)snprintf(r->text, sizeof(r->text), "%.*s",
		    (int)(tlen < sizeof(r->text) ? tlen :
		    sizeof(r->text) - 1), text);
	}
	r->nlines++;
	/* ehlo-line = ehlo-keyword *( SP ehlo-param ) */
	kw = 0;
	while (kw < tlen && text[kw] != ' ')
		kw++;
	if (kw == 8 && strncasecmp(text, "STARTTLS", 8) == 0)
		r->starttls = 1;
	if (len == 3 || line[3] == ' ')
		r->done = 1;
	return r->done;
}

/* ---- the probes ---- */

int
probe_smtp(const struct config *conf, const char *addr, unsigned port,
    const char *host, const char *helo, unsigned timeout_ms,
    struct probe_result *res)
{
	struct probe_conn	pc;
	sigset_t		old;
	int			held, rc;

	if (helo == NULL || *helo == '\0' || strpbrk(helo, "\r\n") != NULL)
		return MTASTS_EINVAL;
	if ((rc = probe_begin(&pc, res, host, port, timeout_ms)) !=
	    MTASTS_OK)
		return rc;
	probe_sigpipe_hold(&old, &held);
	if ((rc = probe_connect(&pc, addr, port)) == MTASTS_OK &&
	    (rc = probe_smtp_talk(&pc, host, helo)) == MTASTS_OK &&
	    (rc = probe_tls(&pc, conf, host)) == MTASTS_OK &&
	    res->stage == PROBE_DONE)
		(void)SSL_write(pc.ssl, "QUIT\r\n", 6);
	probe_end(&pc);
	probe_sigpipe_release(&old, held);
	return rc == MTASTS_EINVAL || rc == MTASTS_ENOMEM ? rc : MTASTS_OK;
}

int
probe_https(const struct config *conf, const char *addr, unsigned port,
    const char *host, unsigned timeout_ms, struct probe_result *res)
{
	struct probe_conn	pc;
	sigset_t		old;
	int			held, rc;

	if ((rc = probe_begin(&pc, res, host, port, timeout_ms)) !=
	    MTASTS_OK)
		return rc;
	probe_sigpipe_hold(&old, &held);
	if ((rc = probe_connect(&pc, addr, port)) == MTASTS_OK)
		rc = probe_tls(&pc, conf, host);
	probe_end(&pc);
	probe_sigpipe_release(&old, held);
	return rc == MTASTS_EINVAL || rc == MTASTS_ENOMEM ? rc : MTASTS_OK;
}

static int
probe_begin(struct probe_conn *pc, struct probe_result *res,
    const char *host, unsigned port, unsigned timeout_ms)
{
	memset(pc, 0, sizeof(*pc));
	memset(res, 0, sizeof(*res));
	pc->fd = -1;
	pc->res = res;
	res->stage = PROBE_CONNECT;
	res->result = MTASTS_RESULT_VALIDATION_FAILURE;
	if (host == NULL || *host == '\0' || port == 0 || port > 65535 ||
	    timeout_ms == 0)
		return MTASTS_EINVAL;
	pc->timeout_ms = timeout_ms;
	(void)clock_gettime(CLOCK_MONOTONIC, &pc->deadline);
	pc->deadline.tv_sec += timeout_ms / 1000;
	pc->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (pc->deadline.tv_nsec >= 1000000000L) {
		pc->deadline.tv_sec++;
		pc->deadline.tv_nsec -= 1000000000L;
	}
	return MTASTS_OK;
}

static void
probe_end(struct probe_conn *pc)
{
	if (pc->ssl != NULL)
		SSL_free(pc->ssl);
	if (pc->sslctx != NULL)
		SSL_CTX_free(pc->sslctx);
	if (pc->fd != -1)
		close(pc->fd);
	ERR_clear_error();
}

/*
 * Waits until fd is ready for events or the deadline passes:
 * MTASTS_OK or MTASTS_ETIMEOUT (res->timeout set), MTASTS_EIO.
 */
static int
probe_wait(struct probe_conn *pc, short events)
{
	struct pollfd	pfd;
	struct timespec	now;
	long long	left;
	int		n;

	for (;;) {
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long long)(pc->deadline.tv_sec - now.tv_sec) * 1000 +
		    (pc->deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0) {
			pc->res->timeout = 1;
			return MTASTS_ETIMEOUT;
		}
		pfd.fd = pc->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return MTASTS_EIO;
		if (n > 0)
			return MTASTS_OK;
	}
}

static int
probe_connect(struct probe_conn *pc, const char *addr, unsigned port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sslen, elen = sizeof(int);
	int			 err = 0, rc;

	memset(&ss, 0, sizeof(ss));
	if (addr != NULL && inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (addr != NULL &&
	    inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else
		return MTASTS_EINVAL;
	pc->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (pc->fd == -1) {
		probe_fail(pc->res, PROBE_CONNECT, "cannot make a socket: %s",
		    strerror(errno));
		return MTASTS_EIO;
	}
	if (connect(pc->fd, (struct sockaddr *)&ss, sslen) == 0)
		return MTASTS_OK;
	if (errno != EINPROGRESS) {
		probe_fail(pc->res, PROBE_CONNECT, "cannot connect to %s "
		    "port %u: %s", addr, port, strerror(errno));
		return MTASTS_EIO;
	}
	if ((rc = probe_wait(pc, POLLOUT)) != MTASTS_OK) {
		probe_fail(pc->res, PROBE_CONNECT, "no TCP connection to %s "
		    "port %u within %u ms", addr, port, pc->timeout_ms);
		return rc;
	}
	if (getsockopt(pc->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		err = errno;
	if (err != 0) {
		probe_fail(pc->res, PROBE_CONNECT, "cannot connect to %s "
		    "port %u: %s", addr, port, strerror(err));
		return MTASTS_EIO;
	}
	return MTASTS_OK;
}

/* Writes all of s on the plain socket. */
static int
probe_send(struct probe_conn *pc, const char *s)
{
	size_t	len = strlen(s), off = 0;
	ssize_t	n;
	int	rc;

	while (off < len) {
		n = send(pc->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = probe_wait(pc, POLLOUT)) != MTASTS_OK)
				return rc;
			continue;
		}
		return MTASTS_EIO;
	}
	return MTASTS_OK;
}

/*
 * One line without its CRLF (or LF) into line; a longer line is cut to
 * size - 1 bytes. MTASTS_OK, MTASTS_ETIMEOUT, or MTASTS_EIO when the
 * peer closed or the read failed.
 */
static int
probe_read_line(struct probe_conn *pc, char *line, size_t size,
    size_t *outlen)
{
	char	*lf;
	size_t	 n, keep;
	ssize_t	 r;
	int	 rc;

	for (;;) {
		if ((lf = memchr(pc->buf, '\n', pc->len)) != NULL ||
		    pc->len == sizeof(pc->buf)) {
			n = lf != NULL ? (size_t)(lf - pc->buf) : pc->len;
			keep = n > 0 && pc->buf[n - 1] == '\r' ? n - 1 : n;
			if (keep >= size)
				keep = size - 1;
			memcpy(line, pc->buf, keep);
			line[keep] = '\0';
			*outlen = keep;
			if (lf != NULL)
				n++;
			memmove(pc->buf, pc->buf + n, pc->len - n);
			pc->len -= n;
			return MTASTS_OK;
		}
		r = recv(pc->fd, pc->buf + pc->len, sizeof(pc->buf) - pc->len,
		    0);
		if (r > 0) {
			pc->len += (size_t)r;
			continue;
		}
		if (r == 0)
			return MTASTS_EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return MTASTS_EIO;
		if ((rc = probe_wait(pc, POLLIN)) != MTASTS_OK)
			return rc;
	}
}

static int
probe_read_reply(struct probe_conn *pc, struct probe_reply *r)
{
	char	line[512];
	size_t	len;
	int	rc;

	probe_reply_init(r);
	do {
		if ((rc = probe_read_line(pc, line, sizeof(line), &len)) !=
		    MTASTS_OK)
			return rc;
	} while ((rc = probe_reply_line(r, line, len)) == 0);
	return rc < 0 ? rc : MTASTS_OK;
}

/* Sends cmd (NULL: none, the greeting) and reads the reply. */
static int
probe_cmd(struct probe_conn *pc, const char *cmd, struct probe_reply *r)
{
	enum probe_stage	 st = pc->res->stage;
	const char		*what = probe_stage_name(st);
	int			 rc;

	if (cmd != NULL && (rc = probe_send(pc, cmd)) != MTASTS_OK) {
		probe_fail(pc->res, st, "the server closed the connection "
		    "before %s", what);
		return rc;
	}
	rc = probe_read_reply(pc, r);
	if (rc == MTASTS_ETIMEOUT)
		probe_fail(pc->res, st, "no %s reply within %u ms", what,
		    pc->timeout_ms);
	else if (rc == MTASTS_ESYNTAX)
		probe_fail(pc->res, st, "the %s reply is not an SMTP reply",
		    what);
	else if (rc != MTASTS_OK)
		probe_fail(pc->res, st, "the server closed the connection "
		    "during %s", what);
	return rc;
}

/* Greeting, EHLO, STARTTLS: MTASTS_OK when TLS may start. */
static int
probe_smtp_talk(struct probe_conn *pc, const char *host, const char *helo)
{
	struct probe_result	*res = pc->res;
	struct probe_reply	 r;
	char			 cmd[300];
	int			 rc;

	res->stage = PROBE_GREETING;
	if ((rc = probe_cmd(pc, NULL, &r)) != MTASTS_OK)
		return rc;
	(void)snprintf(res->greeting, sizeof(res->greeting), "%u %.100s",
	    r.code, r.text);
	if (r.code != 220) {
		probe_fail(res, PROBE_GREETING, "%s refuses SMTP sessions: "
		    "%u %s", host, r.code, r.text);
		return MTASTS_EIO;
	}
	res->stage = PROBE_EHLO;
	(void)snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	if ((rc = probe_cmd(pc, cmd, &r)) != MTASTS_OK)
		return rc;
	res->stage = PROBE_STARTTLS;
	res->result = MTASTS_RESULT_STARTTLS_NOT_SUPPORTED;
	if (r.code != 250) {
		probe_fail(res, PROBE_EHLO, "%s refused EHLO (%u %s), so it "
		    "offers no STARTTLS", host, r.code, r.text);
		return MTASTS_EIO;
	}
	if (!r.starttls) {
		probe_fail(res, PROBE_STARTTLS, "%s does not offer STARTTLS "
		    "in its EHLO reply", host);
		return MTASTS_EIO;
	}
	if ((rc = probe_cmd(pc, "STARTTLS\r\n", &r)) != MTASTS_OK)
		return rc;
	if (r.code != 220) {
		probe_fail(res, PROBE_STARTTLS, "%s refused STARTTLS: %u %s",
		    host, r.code, r.text);
		return MTASTS_EIO;
	}
	/* Anything sent before the handshake would be an injection. */
	pc->len = 0;
	res->result = MTASTS_RESULT_VALIDATION_FAILURE;
	return MTASTS_OK;
}

/* ---- TLS ---- */

static int
probe_tls(struct probe_conn *pc, const struct config *conf,
    const char *host)
{
	struct probe_result	*res = pc->res;
	const SSL_CIPHER	*c;
	int			 rc;

	res->stage = PROBE_HANDSHAKE;
	res->result = MTASTS_RESULT_VALIDATION_FAILURE;
	if ((rc = probe_tls_setup(pc, conf, host)) != MTASTS_OK)
		return rc;
	if ((rc = probe_tls_handshake(pc)) != MTASTS_OK)
		return rc;
	(void)snprintf(res->protocol, sizeof(res->protocol), "%s",
	    SSL_get_version(pc->ssl));
	if ((c = SSL_get_current_cipher(pc->ssl)) != NULL)
		(void)snprintf(res->cipher, sizeof(res->cipher), "%s",
		    SSL_CIPHER_get_name(c));
	probe_cert_info(pc->ssl, &res->cert);
	res->have_cert = SSL_get0_peer_certificate(pc->ssl) != NULL;
	res->stage = PROBE_VERIFY;
	if (!res->have_cert)
		res->certflags |= PROBE_CERT_OTHER;
	probe_verdict(res, host);
	return MTASTS_OK;
}

static int
probe_tls_setup(struct probe_conn *pc, const struct config *conf,
    const char *host)
{
	const char	*file = conf != NULL ? conf->ca_file : NULL;
	const char	*path = conf != NULL ? conf->ca_path : NULL;
	int		 ok;

	if ((pc->sslctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(pc->sslctx, TLS1_2_VERSION) != 1)
		return MTASTS_ENOMEM;
	if (file != NULL || path != NULL)
		ok = SSL_CTX_load_verify_locations(pc->sslctx, file, path);
	else
		ok = SSL_CTX_set_default_verify_paths(pc->sslctx);
	if (ok != 1) {
		probe_fail(pc->res, PROBE_HANDSHAKE, "cannot load the CA "
		    "certificates from %s", file ? file : path ? path :
		    "the system's default place");
		return MTASTS_ECONFIG;
	}
	SSL_CTX_set_verify(pc->sslctx, SSL_VERIFY_PEER, probe_on_verify);
	if ((pc->ssl = SSL_new(pc->sslctx)) == NULL ||
	    SSL_set_fd(pc->ssl, pc->fd) != 1 ||
	    SSL_set_tlsext_host_name(pc->ssl, host) != 1)
		return MTASTS_ENOMEM;
	SSL_set_hostflags(pc->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(pc->ssl, host) != 1)
		return MTASTS_EINVAL;
	SSL_set_app_data(pc->ssl, pc->res);
	return MTASTS_OK;
}

static int
probe_tls_handshake(struct probe_conn *pc)
{
	unsigned long	e;
	char		why[160];
	int		r, rc;

	ERR_clear_error();
	for (;;) {
		if ((r = SSL_connect(pc->ssl)) == 1)
			return MTASTS_OK;
		switch (SSL_get_error(pc->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			rc = probe_wait(pc, POLLIN);
			break;
		case SSL_ERROR_WANT_WRITE:
			rc = probe_wait(pc, POLLOUT);
			break;
		default:
			if ((e = ERR_peek_last_error()) != 0)
				ERR_error_string_n(e, why, sizeof(why));
			else
				(void)snprintf(why, sizeof(why), "%s",
				    "the connection was closed");
			probe_fail(pc->res, PROBE_HANDSHAKE, "TLS 1.2+ "
			    "handshake failed: %s", why);
			return MTASTS_EIO;
		}
		if (rc != MTASTS_OK) {
			probe_fail(pc->res, PROBE_HANDSHAKE, "no TLS "
			    "handshake within %u ms", pc->timeout_ms);
			return rc;
		}
	}
}

/* Records every error and goes on; the verdict comes after. */
static int
probe_on_verify(int ok, X509_STORE_CTX *xs)
{
	SSL			*ssl;
	struct probe_result	*res;
	int			 err;

	if (ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (res = SSL_get_app_data(ssl)) == NULL)
		return 0;
	err = X509_STORE_CTX_get_error(xs);
	if (res->verify_err == 0)
		res->verify_err = err;
	res->certflags |= probe_cert_flag(err);
	return 1;
}

static unsigned
probe_cert_flag(int err)
{
	switch (err) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return PROBE_CERT_SELFSIGNED | PROBE_CERT_UNTRUSTED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_INVALID_CA:
		return PROBE_CERT_UNTRUSTED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return PROBE_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return PROBE_CERT_NOTYET;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return PROBE_CERT_NAME;
	default:
		return PROBE_CERT_OTHER;
	}
}

/* The result type and message from the certificate flags. */
static void
probe_verdict(struct probe_result *res, const char *host)
{
	unsigned	f = res->certflags;
	char		when[32];
	struct tm	tm;

	when[0] = '\0';
	if (res->have_cert && gmtime_r(&res->cert.not_after, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    &tm);
	if (f == 0) {
		res->stage = PROBE_DONE;
		res->result = MTASTS_RESULT_SUCCESS;
		return;
	}
	if (f & PROBE_CERT_UNTRUSTED)
		res->result = MTASTS_RESULT_CERT_NOT_TRUSTED;
	else if (f & PROBE_CERT_EXPIRED)
		res->result = MTASTS_RESULT_CERT_EXPIRED;
	else if (f & PROBE_CERT_NAME)
		res->result = MTASTS_RESULT_CERT_HOST_MISMATCH;
	else
		res->result = MTASTS_RESULT_VALIDATION_FAILURE;
	probe_fail(res, PROBE_VERIFY, "certificate of %s:", host);
	if (f & PROBE_CERT_SELFSIGNED)
		probe_add(res, " self-signed, not trusted;");
	else if (f & PROBE_CERT_UNTRUSTED)
		probe_add(res, " not trusted (no chain to a trusted CA);");
	if (f & PROBE_CERT_EXPIRED)
		probe_add(res, " has expired (notAfter %s);", when);
	if (f & PROBE_CERT_NOTYET)
		probe_add(res, " not valid yet;");
	if (f & PROBE_CERT_NAME)
		probe_add(res, " does not name %s (names: %s);", host,
		    res->cert.names[0] ? res->cert.names : "none");
	if (f & PROBE_CERT_OTHER)
		probe_add(res, " %s;", res->have_cert ?
		    X509_verify_cert_error_string(res->verify_err) :
		    "no certificate");
	if (res->err[strlen(res->err) - 1] == ';')
		res->err[strlen(res->err) - 1] = '\0';
}

static void
probe_cert_info(SSL *ssl, struct probe_cert *c)
{
	X509	*x;

	memset(c, 0, sizeof(*c));
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return;
	probe_name_text(X509_get_subject_name(x), c->subject,
	    sizeof(c->subject));
	probe_name_text(X509_get_issuer_name(x), c->issuer,
	    sizeof(c->issuer));
	probe_san_text(x, c->names, sizeof(c->names));
	c->not_before = probe_asn1_time(X509_get0_notBefore(x));
	c->not_after = probe_asn1_time(X509_get0_notAfter(x));
}

static void
probe_name_text(const X509_NAME *name, char *buf, size_t size)
{
	BIO	*b;
	int	 n;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(b, buf, (int)size - 1)) > 0)
		buf[n] = '\0';
	BIO_free(b);
}

static void
probe_san_text(X509 *x, char *buf, size_t size)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	size_t			 off = 0;
	int			 i, len;

	buf[0] = '\0';
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && off < size; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		len = ASN1_STRING_length(g->d.dNSName);
		off += (size_t)snprintf(buf + off, size - off, "%s%.*s",
		    off > 0 ? ", " : "", len,
		    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
}

static time_t
probe_asn1_time(const ASN1_TIME *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* ---- helpers ---- */

/* Appends to res->err, cut when full. */
static void
probe_add(struct probe_result *res, const char *fmt, ...)
{
	size_t	len = strlen(res->err);
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(res->err + len, sizeof(res->err) - len, fmt, ap);
	va_end(ap);
}

static void
probe_fail(struct probe_result *res, enum probe_stage stage,
    const char *fmt, ...)
{
	va_list	ap;

	res->stage = stage;
	va_start(ap, fmt);
	(void)vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

/*
 * OpenSSL writes to the socket with write(2): a peer that closed would
 * raise SIGPIPE in a process that did not ignore it. Keep it blocked
 * during the probe and discard one that the probe caused.
 */
static void
probe_sigpipe_hold(sigset_t *old, int *was_pending)
{
	sigset_t	set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pend);
	(void)sigpending(&pend);
	*was_pending = sigismember(&pend, SIGPIPE) == 1;
	(void)pthread_sigmask(SIG_BLOCK, &set, old);
}

static void
probe_sigpipe_release(const sigset_t *old, int was_pending)
{
	static const struct timespec	zero = { 0, 0 };
	sigset_t			set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pend);
	if (!was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE) == 1)
		(void)sigtimedwait(&set, NULL, &zero);
	(void)pthread_sigmask(SIG_SETMASK, old, NULL);
}
