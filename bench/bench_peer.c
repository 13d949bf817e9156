/*
 * bench_peer.c - a Postfix socketmap client that measures a policy
 * server (postfix-mta-sts-resolver's mta-sts-daemon) on the lab's bulk
 * domains bNNNN.bench.test. Requests are netstrings "postfix DOMAIN";
 * an answer that is not "OK secure ..." counts as an error.
 *
 *	bench_peer IP PORT N seq	one connection, one request at a
 *					time over the N domains (cold)
 *	bench_peer IP PORT N conc J	J connections, each with one request
 *					outstanding, over the N domains once
 *	bench_peer IP PORT N warm C S	C connections, one request
 *					outstanding each, cycling over the N
 *					domains for S seconds
 *
 * Prints "key value" lines (prefix cold_seq_, cold_conc_ or warm_C_) for
 * bench/run.sh.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

struct conn {
	int	 fd;
	char	 buf[1024];
	size_t	 len;
	double	 t0;
	size_t	 idx;
	int	 busy;
};

static const char	*ip;
static int		 port;
static size_t		 nerr;

static int	 conn_open(struct conn *);
static int	 conn_send(struct conn *, size_t);
static int	 conn_read(struct conn *);
static int	 run(size_t, size_t, double, const char *);

static int
conn_open(struct conn *c)
{
	struct sockaddr_in	sin;
	int			one = 1;

	memset(c, 0, sizeof(*c));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("bench_peer: connect");
		close(c->fd);
		return -1;
	}
	return 0;
}

static int
conn_send(struct conn *c, size_t idx)
{
	char	d[64], req[128], msg[160];
	int	n;

	bench_domain(idx, d, sizeof(d));
	snprintf(req, sizeof(req), "postfix %s", d);
	n = snprintf(msg, sizeof(msg), "%zu:%s,", strlen(req), req);
	c->idx = idx;
	c->len = 0;
	c->busy = 1;
	c->t0 = now_us();
	if (write(c->fd, msg, n) != n) {
		perror("bench_peer: write");
		return -1;
	}
	return 0;
}

/* 1: a whole answer arrived, 0: not yet, -1: error. */
static int
conn_read(struct conn *c)
{
	char	*colon, *body, d[64];
	ssize_t	 r;
	size_t	 want;

	r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (r <= 0) {
		fprintf(stderr, "bench_peer: read: %s\n",
		    r == 0 ? "closed" : strerror(errno));
		return -1;
	}
	c->len += r;
	c->buf[c->len] = '\0';
	if ((colon = strchr(c->buf, ':')) == NULL)
		return 0;
	want = strtoul(c->buf, NULL, 10);
	body = colon + 1;
	if ((size_t)(c->buf + c->len - body) < want + 1)
		return 0;
	if (strncmp(body, "OK secure", 9) != 0 && nerr++ < 5) {
		bench_domain(c->idx, d, sizeof(d));
		fprintf(stderr, "bench_peer: %s: %.*s\n", d, (int)want, body);
	}
	c->busy = 0;
	return 1;
}

/*
 * nconn connections over the n domains: once through (secs 0) or
 * cycling for secs seconds.
 */
static int
run(size_t n, size_t nconn, double secs, const char *key)
{
	struct conn	*c;
	struct pollfd	*pfd;
	double		*lat, start, total;
	size_t		 cap, m = 0, next = 0, inflight = 0, k;
	int		 rc;

	cap = secs > 0 ? 4 * 1000 * 1000 : n;
	c = calloc(nconn, sizeof(*c));
	pfd = calloc(nconn, sizeof(*pfd));
	lat = calloc(cap, sizeof(*lat));
	if (c == NULL || pfd == NULL || lat == NULL)
		return -1;
	for (k = 0; k < nconn; k++)
		if (conn_open(&c[k]) < 0)
			return -1;
	start = now_us();
	for (;;) {
		total = now_us() - start;
		for (k = 0; k < nconn; k++) {
			if (c[k].busy)
				continue;
			if (secs > 0 ? total >= secs * 1e6 : next >= n)
				continue;
			if (conn_send(&c[k], next % n) < 0)
				return -1;
			next++;
			inflight++;
		}
		if (inflight == 0)
			break;
		for (k = 0; k < nconn; k++) {
			pfd[k].fd = c[k].busy ? c[k].fd : -1;
			pfd[k].events = POLLIN;
		}
		if (poll(pfd, nconn, 10000) <= 0) {
			fprintf(stderr, "bench_peer: no answer in 10 s\n");
			return -1;
		}
		for (k = 0; k < nconn; k++) {
			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((rc = conn_read(&c[k])) < 0)
				return -1;
			if (rc == 1) {
				if (m < cap)
					lat[m++] = now_us() - c[k].t0;
				inflight--;
			}
		}
	}
	total = now_us() - start;
	printf("%s_total_ms %.1f\n", key, total / 1e3);
	printf("%s_n %zu\n", key, m);
	printf("%s_per_s %.0f\n", key, (double)m / (total / 1e6));
	printf("%s_p50_us %.1f\n", key, quantile(lat, m, 0.50));
	printf("%s_p99_us %.1f\n", key, quantile(lat, m, 0.99));
	for (k = 0; k < nconn; k++)
		close(c[k].fd);
	free(c);
	free(pfd);
	free(lat);
	return 0;
}

int
main(int argc, char **argv)
{
	char	key[32];
	size_t	n;
	int	rc;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_peer IP PORT N seq|conc J|"
		    "warm C S\n");
		return 2;
	}
	ip = argv[1];
	port = atoi(argv[2]);
	n = strtoul(argv[3], NULL, 10);
	if (strcmp(argv[4], "seq") == 0)
		rc = run(n, 1, 0, "cold_seq");
	else if (strcmp(argv[4], "conc") == 0 && argc == 6)
		rc = run(n, strtoul(argv[5], NULL, 10), 0, "cold_conc");
	else if (strcmp(argv[4], "warm") == 0 && argc == 7) {
		snprintf(key, sizeof(key), "warm_%s", argv[5]);
		rc = run(n, strtoul(argv[5], NULL, 10), atof(argv[6]), key);
	} else {
		fprintf(stderr, "bench_peer: bad arguments\n");
		return 2;
	}
	printf("errors %zu\n", nerr);
	return rc == 0 ? 0 : 1;
}
