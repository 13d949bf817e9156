/*
 * main.c - mtasts-relay(8): the SMTP relay that OpenSMTPD hands the mail
 * of MTA-STS policy domains to, so that the policy is applied when the
 * mail leaves (RFC 8461 section 5), not when it was received.
 *
 * Options, the listener and its client check (loopback only by default:
 * never an open relay), the engine context, the libevent loop and the
 * log.
 *
 * Why one process with one event loop: every session spends nearly all
 * its time waiting (DNS, the policy fetch, the MX's replies, smtpd's
 * data), which an event loop does with a few kilobytes per session; the
 * engine already has an asynchronous API with one descriptor to watch
 * (mtasts_async_fd(), as filter-mtasts uses it), libevent's bufferevents
 * give bounded buffers and per-direction timeouts, and OpenSSL runs on
 * them without threads. A pool of processes would need one engine
 * context (store, resolver) per process and a way to share them for
 * nothing in return; threads would need locks around the context, which
 * is one-thread-only. smtpd retries what the relay cannot take, so a
 * single process that restarts (systemd Restart=on-failure) loses
 * nothing.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/listener.h>

#include "relay.h"

#define DEFAULT_LISTEN	"127.0.0.1:10026"
#define DEFAULT_ALLOW	"127.0.0.0/8,::1/128"
#define MAX_ALLOW	32

struct net {
	int		 family;
	unsigned char	 addr[16];
	unsigned	 bits;
};

struct relay		 relay;
static enum mtasts_loglevel log_level = MTASTS_LOG_INFO;
static int		 log_syslog;
static struct net	 allow[MAX_ALLOW];
static size_t		 nallow;

static void	usage(void) __attribute__((noreturn));
static int	main_allow_parse(const char *);
static int	main_allowed(const struct sockaddr *);
static void	main_on_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	main_on_engine(evutil_socket_t, short, void *);
static void	main_on_signal(evutil_socket_t, short, void *);
static void	main_log_cb(void *, enum mtasts_loglevel, const char *);
static int	main_timeouts(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: mtasts-relay [-Sv] [-a nets] [-C cafile] "
	    "[-c conf] [-H helo]\n"
	    "                    [-l addr:port] [-p mxport] "
	    "[-T name=seconds,...]\n");
	exit(2);
}

void
relay_log(enum mtasts_loglevel level, const char *fmt, ...)
{
	static const char	*const names[] = { "error", "warning", "info",
				    "debug" };
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
				    LOG_DEBUG };
	char			 msg[2048];
	va_list			 ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_syslog)
		syslog(prio[level], "%s", msg);
	else
		fprintf(stderr, "mtasts-relay: %s: %s\n", names[level], msg);
}

/* Untrusted text (an MX's reply) for a log line or a reply: printable
 * ASCII only, at most len - 1 bytes. */
void
relay_clean(char *dst, size_t len, const char *src, size_t n)
{
	size_t	i;

	for (i = 0; i < n && i + 1 < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	if (len > 0)
		dst[i] = '\0';
}

static void
main_log_cb(void *arg, enum mtasts_loglevel level, const char *msg)
{
	relay_log(level, "engine: %s", msg);
}

/* "a.b.c.d/n" or "x::y/n" (no prefix: the one address), comma separated */
static int
main_allow_parse(const char *list)
{
	char	*copy, *tok, *slash, *end, *save = NULL;
	long	 bits;
	int	 rc = -1;

	if ((copy = strdup(list)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (nallow == MAX_ALLOW)
			goto fail;
		struct net *n = &allow[nallow];
		if ((slash = strchr(tok, '/')) != NULL)
			*slash++ = '\0';
		n->family = strchr(tok, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(n->family, tok, n->addr) != 1)
			goto fail;
		bits = n->family == AF_INET ? 32 : 128;
		if (slash != NULL) {
			bits = strtol(slash, &end, 10);
			if (*slash == '\0' || *end != '\0' || bits < 0 ||
			    bits > (n->family == AF_INET ? 32 : 128))
				goto fail;
		}
		n->bits = (unsigned)bits;
		nallow++;
	}
	rc = 0;
fail:
	free(copy);
	return rc;
}

static int
main_net_match(const struct net *n, const unsigned char *a)
{
	unsigned	 full = n->bits / 8, rest = n->bits % 8;
	unsigned char	 mask;

	if (memcmp(n->addr, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

static int
main_allowed(const struct sockaddr *sa)
{
	const unsigned char	*a;
	int			 family = sa->sa_family;
	size_t			 i;

	if (family == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr)) {
			a += 12;
			family = AF_INET;
		}
	} else
		return 0;
	for (i = 0; i < nallow; i++)
		if (allow[i].family == family && main_net_match(&allow[i], a))
			return 1;
	return 0;
}

static void
main_on_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	static const char	 no[] =
	    "554 5.7.1 mtasts-relay: client not allowed\r\n";
	char			 peer[INET6_ADDRSTRLEN] = "?";
	const void		*a;

	a = sa->sa_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)sa)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)sa)->sin6_addr;
	inet_ntop(sa->sa_family, a, peer, sizeof(peer));
	if (!main_allowed(sa)) {
		relay_log(MTASTS_LOG_WARN, "refused client %s: not in the "
		    "allowed networks (-a)", peer);
		(void)!write(fd, no, sizeof(no) - 1);
		evutil_closesocket(fd);
		return;
	}
	server_accept(fd, peer);
}

static void
main_on_engine(evutil_socket_t fd, short what, void *arg)
{
	int	rc;

	if ((rc = mtasts_async_process(relay.ctx)) != MTASTS_OK)
		relay_log(MTASTS_LOG_WARN, "engine: %s", mtasts_strerror(rc));
}

static void
main_on_signal(evutil_socket_t sig, short what, void *arg)
{
	relay_log(MTASTS_LOG_INFO, "signal %d: exiting", (int)sig);
	event_base_loopbreak(relay.base);
}

/* -T connect=30,command=300,...: seconds, each at least 1. */
static int
main_timeouts(const char *spec)
{
	static const struct { const char *name; size_t off; } keys[] = {
		{ "connect", offsetof(struct relay_timeouts, connect) },
		{ "greeting", offsetof(struct relay_timeouts, greeting) },
		{ "command", offsetof(struct relay_timeouts, command) },
		{ "data-init", offsetof(struct relay_timeouts, data_init) },
		{ "data-block", offsetof(struct relay_timeouts, data_block) },
		{ "data-end", offsetof(struct relay_timeouts, data_end) },
		{ "idle", offsetof(struct relay_timeouts, idle) },
	};
	char		 name[16], *end;
	const char	*p = spec, *eq;
	unsigned long	 v;
	size_t		 i, n;

	while (*p != '\0') {
		if ((eq = strchr(p, '=')) == NULL ||
		    (n = (size_t)(eq - p)) >= sizeof(name))
			return -1;
		memcpy(name, p, n);
		name[n] = '\0';
		v = strtoul(eq + 1, &end, 10);
		if (end == eq + 1 || (*end != ',' && *end != '\0') || v == 0 ||
		    v > 86400)
			return -1;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return -1;
		*(unsigned *)((char *)&relay.t + keys[i].off) = (unsigned)v;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static struct evconnlistener *
main_listen(const char *spec)
{
	struct sockaddr_storage	 ss;
	int			 len = sizeof(ss);

	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &len) ==
	    -1)
		return NULL;
	return evconnlistener_new_bind(relay.base, main_on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, len);
}

static void
main_defaults(void)
{
	/* RFC 5321 section 4.5.3.2; connect is ours */
	relay.t.connect = 30;
	relay.t.greeting = 300;
	relay.t.command = 300;
	relay.t.data_init = 120;
	relay.t.data_block = 180;
	relay.t.data_end = 600;
	relay.t.idle = 300;
	relay.port = 25;
	if (gethostname(relay.helo, sizeof(relay.helo)) == -1)
		snprintf(relay.helo, sizeof(relay.helo), "localhost");
}

int
main(int argc, char *argv[])
{
	struct mtasts_diag	 diag;
	struct evconnlistener	*lst;
	struct event		*ev_engine, *ev_term, *ev_int;
	const char		*conf = NULL, *cafile = NULL;
	const char		*listen = DEFAULT_LISTEN, *nets = DEFAULT_ALLOW;
	char			*end;
	int			 ch, fd, rc;

	main_defaults();
	while ((ch = getopt(argc, argv, "a:C:c:H:l:p:ST:v")) != -1) {
		switch (ch) {
		case 'a':
			nets = optarg;
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'H':
			snprintf(relay.helo, sizeof(relay.helo), "%s", optarg);
			break;
		case 'l':
			listen = optarg;
			break;
		case 'p':
			relay.port = (unsigned)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || relay.port == 0 ||
			    relay.port > 65535)
				usage();
			break;
		case 'S':
			log_syslog = 1;
			openlog("mtasts-relay", LOG_PID, LOG_MAIL);
			break;
		case 'T':
			if (main_timeouts(optarg) == -1)
				usage();
			break;
		case 'v':
			log_level = MTASTS_LOG_DEBUG;
			relay.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (main_allow_parse(nets) == -1) {
		relay_log(MTASTS_LOG_ERR, "-a %s: not a list of networks", nets);
		return 2;
	}
	if (tls_init(cafile) == -1) {
		relay_log(MTASTS_LOG_ERR, "TLS: cannot load the CAs (%s)",
		    cafile ? cafile : "system");
		return 1;
	}
	memset(&diag, 0, sizeof(diag));
	rc = mtasts_ctx_open(conf, main_log_cb, NULL, log_level, &relay.ctx,
	    &diag);
	if (rc != MTASTS_OK) {
		relay_log(MTASTS_LOG_ERR, "%s: line %u: %s", conf ? conf :
		    MTASTS_DEFAULT_CONF, diag.error.line, diag.error.msg[0] ?
		    diag.error.msg : mtasts_strerror(rc));
		return 1;
	}
	if ((relay.base = event_base_new()) == NULL) {
		relay_log(MTASTS_LOG_ERR, "cannot start libevent");
		return 1;
	}
	if ((fd = mtasts_async_fd(relay.ctx)) == -1) {
		relay_log(MTASTS_LOG_ERR, "engine: no event descriptor");
		return 1;
	}
	if ((lst = main_listen(listen)) == NULL) {
		relay_log(MTASTS_LOG_ERR, "cannot listen on %s", listen);
		return 1;
	}
	ev_engine = event_new(relay.base, fd, EV_READ | EV_PERSIST,
	    main_on_engine, NULL);
	ev_term = evsignal_new(relay.base, SIGTERM, main_on_signal, NULL);
	ev_int = evsignal_new(relay.base, SIGINT, main_on_signal, NULL);
	if (ev_engine == NULL || ev_term == NULL || ev_int == NULL ||
	    event_add(ev_engine, NULL) == -1 || event_add(ev_term, NULL) ==
	    -1 || event_add(ev_int, NULL) == -1) {
		relay_log(MTASTS_LOG_ERR, "cannot start libevent");
		return 1;
	}
	relay_log(MTASTS_LOG_INFO, "listening on %s, clients %s, MX port %u",
	    listen, nets, relay.port);
	event_base_dispatch(relay.base);

	evconnlistener_free(lst);
	server_close_all();
	/* answers what is in flight (mta.c frees itself) before it goes */
	mtasts_ctx_close(relay.ctx);
	event_free(ev_engine);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(relay.base);
	tls_free();
	return 0;
}
