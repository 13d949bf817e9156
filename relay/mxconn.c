/*
 * mxconn.c - one SMTP client connection to one MX address, on libevent
 * bufferevents: connect, send a command line, read its (multi-line)
 * reply, switch to TLS after STARTTLS, queue message data.
 *
 * Contract: every wait is bounded by the timeout the caller gives; the
 * owner hears of each outcome once through its callback (a reply, the
 * handshake done, data drained, or an error naming what failed), never
 * after mxconn_free(). The owner (mta.c) decides what the SMTP dialogue
 * means; this file only moves bytes and splits replies. Reply text from
 * the MX is untrusted: only printable ASCII is kept, at most
 * RELAY_REPLY_MAX bytes of it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "relay.h"
#include "mxconn.h"

#define MXCONN_LINE_MAX	4096	/* a reply line longer than this: error */

struct mxconn {
	struct bufferevent	*bev;
	SSL			*ssl;
	int			 waiting;	/* a reply is expected */
	int			 draining;	/* DRAIN wanted at low mark */
	int			 handshake;	/* TLS handshake running */
	int			 connecting;
	int			 code;		/* of the reply being read */
	char			 text[RELAY_REPLY_MAX];
	size_t			 len;
	char			 local[64];
	char			 peer[64];
	unsigned		 greeting;
	mxconn_cb		*cb;
	void			*arg;
};

static void	mxconn_on_read(struct bufferevent *, void *);
static void	mxconn_on_write(struct bufferevent *, void *);
static void	mxconn_on_event(struct bufferevent *, short, void *);
static void	mxconn_fail(struct mxconn *, const char *);
static int	mxconn_line(struct mxconn *, const char *, size_t);
static void	mxconn_timeouts(struct mxconn *, unsigned, unsigned);
static void	mxconn_set_local(struct mxconn *);
static void	mxconn_on_connected(struct mxconn *);

static int
mxconn_sockaddr(const char *addr, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

struct mxconn *
mxconn_connect(const char *addr, unsigned port, unsigned connect_timeout,
    unsigned greeting_timeout, mxconn_cb *cb, void *arg)
{
	struct sockaddr_storage	 ss;
	struct mxconn		*c;
	socklen_t		 len;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cb = cb;
	c->arg = arg;
	c->greeting = greeting_timeout;
	snprintf(c->peer, sizeof(c->peer), "%s", addr);
	if (mxconn_sockaddr(addr, port, &ss, &len) == -1 ||
	    (c->bev = bufferevent_socket_new(relay.base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		goto fail;
	bufferevent_setcb(c->bev, mxconn_on_read, mxconn_on_write,
	    mxconn_on_event, c);
	mxconn_timeouts(c, connect_timeout, connect_timeout);
	c->connecting = 1;
	c->waiting = 1;		/* the greeting */
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss,
	    (int)len) == -1)
		goto fail;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
fail:
	mxconn_free(c);
	return NULL;
}

void
mxconn_free(struct mxconn *c)
{
	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);	/* and the socket, the SSL */
	else if (c->ssl != NULL)
		SSL_free(c->ssl);
	free(c);
}

static void
mxconn_timeouts(struct mxconn *c, unsigned rd, unsigned wr)
{
	struct timeval	 r = { (time_t)rd, 0 }, w = { (time_t)wr, 0 };

	bufferevent_set_timeouts(c->bev, rd ? &r : NULL, wr ? &w : NULL);
}

static void
mxconn_set_local(struct mxconn *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	const void		*a;

	if (getsockname(bufferevent_getfd(c->bev), (struct sockaddr *)&ss, &len) == -1)
		return;
	a = ss.ss_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)&ss)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (inet_ntop(ss.ss_family, a, c->local, sizeof(c->local)) == NULL)
		c->local[0] = '\0';
}

const char *
mxconn_local(const struct mxconn *c)
{
	return c->local;
}

const char *
mxconn_peer(const struct mxconn *c)
{
	return c->peer;
}

SSL *
mxconn_ssl(struct mxconn *c)
{
	return c->ssl;
}

static void
mxconn_expect_reply(struct mxconn *c, unsigned timeout)
{
	c->waiting = 1;
	c->code = 0;
	c->len = 0;
	c->text[0] = '\0';
	mxconn_timeouts(c, timeout, timeout);
}

void
mxconn_command(struct mxconn *c, unsigned timeout, const char *line)
{
	relay_log(MTASTS_LOG_DEBUG, "mx %s: >>> %.60s", c->peer, line);
	mxconn_expect_reply(c, timeout);
	bufferevent_write(c->bev, line, strlen(line));
	bufferevent_write(c->bev, "\r\n", 2);
}

void
mxconn_expect(struct mxconn *c, unsigned timeout)
{
	c->draining = 0;
	mxconn_expect_reply(c, timeout);
}

size_t
mxconn_write(struct mxconn *c, const void *buf, size_t len,
    unsigned timeout)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (len > 0)
		evbuffer_add(out, buf, len);
	c->draining = 1;
	mxconn_timeouts(c, 0, timeout);
	bufferevent_setwatermark(c->bev, EV_WRITE, RELAY_DATA_LOW, 0);
	return evbuffer_get_length(out);
}

void
mxconn_starttls(struct mxconn *c, SSL *ssl, unsigned timeout)
{
	struct bufferevent	*tls;

	tls = bufferevent_openssl_filter_new(relay.base, c->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		mxconn_fail(c, "cannot start TLS (out of memory)");
		return;
	}
	c->ssl = ssl;
	c->bev = tls;	/* owns the plain one and ssl from now on */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, mxconn_on_read, mxconn_on_write,
	    mxconn_on_event, c);
	c->handshake = 1;
	mxconn_timeouts(c, timeout, timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Reports an error once; the owner frees the connection. */
static void
mxconn_fail(struct mxconn *c, const char *why)
{
	c->waiting = c->draining = c->handshake = c->connecting = 0;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	c->cb(c->arg, MXCONN_ERROR, 0, why);
}

static void
mxconn_on_read(struct bufferevent *bev, void *arg)
{
	struct mxconn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;
	int		 r;

	if (c->connecting)	/* the greeting came before the event */
		mxconn_on_connected(c);
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		r = c->waiting ? mxconn_line(c, line, n) : -2;
		free(line);
		if (r == -2) {
			mxconn_fail(c, "unexpected reply (out of turn)");
			return;
		}
		if (r == -1) {
			mxconn_fail(c, "malformed reply");
			return;
		}
		if (r == 1) {
			c->waiting = 0;
			c->cb(c->arg, MXCONN_REPLY, c->code, c->text);
			return;	/* the callback may have freed c */
		}
	}
	if (evbuffer_get_length(in) > MXCONN_LINE_MAX)
		mxconn_fail(c, "reply line too long");
}

/* One reply line: 0 more lines follow, 1 the reply is whole, -1 bad. */
static int
mxconn_line(struct mxconn *c, const char *line, size_t n)
{
	int	code;

	if (n < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
	    (n > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	if (c->code != 0 && code != c->code)
		return -1;
	c->code = code;
	if (c->len > 0 && c->len + 1 < sizeof(c->text))
		c->text[c->len++] = '\n';
	if (n > 4 && c->len + 1 < sizeof(c->text)) {
		relay_clean(c->text + c->len, sizeof(c->text) - c->len,
		    line + 4, n - 4);
		c->len += strlen(c->text + c->len);
	}
	c->text[c->len] = '\0';
	return n == 3 || line[3] == ' ';
}

static void
mxconn_on_write(struct bufferevent *bev, void *arg)
{
	struct mxconn	*c = arg;

	if (!c->draining)
		return;
	c->draining = 0;
	c->cb(c->arg, MXCONN_DRAIN, 0, "");
}

static void
mxconn_on_connected(struct mxconn *c)
{
	if (c->connecting) {
		c->connecting = 0;
		mxconn_set_local(c);
		mxconn_expect_reply(c, c->greeting);
		return;
	}
	if (c->handshake) {
		c->handshake = 0;
		c->cb(c->arg, MXCONN_TLS, 0, "");
	}
}

static void
mxconn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct mxconn	*c = arg;
	char		 why[256];
	unsigned long	 e;

	if (what & BEV_EVENT_CONNECTED) {
		mxconn_on_connected(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "timed out %s", c->connecting ?
		    "connecting" : c->handshake ? "in the TLS handshake" :
		    c->waiting ? "waiting for a reply" : "sending data");
	else if (c->handshake && (e = bufferevent_get_openssl_error(bev)))
		snprintf(why, sizeof(why), "TLS handshake failed: %s",
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) :
		    "unknown error");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed by the MX%s",
		    c->handshake ? " in the TLS handshake" : "");
	else
		snprintf(why, sizeof(why), "%s%s", c->connecting ?
		    "cannot connect: " : "connection error: ",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	mxconn_fail(c, why);
}
