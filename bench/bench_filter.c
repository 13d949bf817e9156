/*
 * bench_filter.c - figures of filter-mtasts through the smtpd filter
 * protocol (smtpd-filters(7), protocol 0.7): the filter runs as a child
 * whose stdin and stdout are one end of a socketpair, as smtpd's
 * proc-exec gives it, and this program plays smtpd: the config lines,
 * then "filter|0.7|TIME|smtp-in|rcpt-to|SESSION|TOKEN|<user@DOMAIN>"
 * requests, matched to the "filter-result|SESSION|TOKEN|..." answers.
 *
 *	bench_filter [options] warm -- FILTER [ARGS...]
 *	    warm cache: each domain of -D twice (untimed), then -d seconds
 *	    with -w requests in flight (pipelined) cycling over -D;
 *	    answers per second and the latency of each answer.
 *	bench_filter [options] hang -- FILTER [ARGS...]
 *	    one request for each domain of -H kept outstanding (their
 *	    policy hosts hang or crawl) while requests for the cached -D
 *	    domains go out at -r per second (open loop) for at least -d
 *	    seconds and until every -H request is answered; latency of the
 *	    stream while one is outstanding, and when each -H was answered.
 *	bench_filter [options] mem -- FILTER [ARGS...]
 *	    -N distinct domains dNNNNNN.ZONE (-P ZONE, default nx.test),
 *	    -w in flight; resident memory of the filter before, every
 *	    tenth of the way and after (-S FILE: a copy of its smaps).
 *
 * Prints "key value" lines on stdout (bench/filter.sh reads them),
 * progress on stderr. A figure, not a test: the exit status is 1 only
 * when the run could not be done (filter died, answers missing or wrong).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define SESSION_BASE	0x5e55000000000000ULL
#define OUTBUF_SZ	(1 << 20)
#define INBUF_SZ	(1 << 16)
#define MAX_LIST	64

enum kind { K_WARMUP = 0, K_STREAM, K_HANG, K_DISTINCT };

struct req {
	double		 t0, t1;	/* sent, answered (us) */
	uint64_t	 reqid;
	uint8_t		 kind;
	uint8_t		 result;	/* 0 waiting, 1 proceed, 2 reject */
	uint8_t		 during;	/* sent while a hang was open */
};

static struct req	*reqs;
static size_t		 nreqs, reqs_cap;
static size_t		 npending, nanswered, nproceed, nreject, nbad;
static size_t		 nhang_pending;
static char		 outbuf[OUTBUF_SZ], inbuf[INBUF_SZ];
static size_t		 outlen, outoff, inlen;
static int		 fd = -1, ready, dead;
static pid_t		 child;

static const char	*domains[MAX_LIST], *hangs[MAX_LIST];
static size_t		 ndomains, nhangs, sessions = 1000;
static double		 dur_s = 5, rate = 2000;
static size_t		 window = 64, ndistinct = 100000;
static const char	*zone = "nx.test", *smapsfile, *latfile;

static void	 usage(void) __attribute__((noreturn));
static size_t	 split(char *, const char **);
static void	 spawn(char **, const char *);
static size_t	 send_req(const char *, enum kind);
static void	 on_line(char *);
static int	 pump(int);
static int	 wait_all(double);
static void	 handshake(void);
static void	 warmup(void);
static void	 lat_print(const char *, enum kind, int);
static void	 mem_print(const char *);
static double	 cpu_s(void);
static void	 save_smaps(void);
static void	 save_lat(void);
static int	 run_warm(void);
static int	 run_hang(void);
static int	 run_mem(void);
static int	 finish(void);

static void
usage(void)
{
	fprintf(stderr, "usage: bench_filter [-d secs] [-w window] [-r rate]"
	    " [-s sessions]\n\t[-D dom,dom] [-H dom,dom] [-N n] [-P zone]"
	    " [-e stderr-file]\n\t[-L latency-file] [-S smaps-file]\n"
	    "\twarm|hang|mem -- filter [args...]\n");
	exit(2);
}

static size_t
split(char *s, const char **list)
{
	size_t	n = 0;
	char	*t;

	for (t = strtok(s, ","); t != NULL && n < MAX_LIST;
	    t = strtok(NULL, ","))
		list[n++] = t;
	return n;
}

/* Starts the filter on one end of a socketpair (stdin and stdout). */
static void
spawn(char **argv, const char *errfile)
{
	int	sv[2], efd;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	if ((child = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (child == 0) {
		efd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (efd == -1 || dup2(sv[1], 0) == -1 ||
		    dup2(sv[1], 1) == -1 || dup2(efd, 2) == -1)
			_exit(127);
		close(sv[0]);
		close(sv[1]);
		close(efd);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	fd = sv[0];
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Queues one rcpt-to request; returns its index (token - 1). */
static size_t
send_req(const char *domain, enum kind k)
{
	struct timespec	 ts;
	struct req	*r;
	int		 n;

	if (nreqs == reqs_cap) {
		reqs_cap = reqs_cap ? reqs_cap * 2 : 65536;
		if ((reqs = realloc(reqs, reqs_cap * sizeof(*reqs))) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	if (OUTBUF_SZ - outlen < 512) {
		/* the filter does not read: flush what we can first */
		while (OUTBUF_SZ - outlen < 512 && !dead)
			pump(100);
	}
	r = &reqs[nreqs];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->reqid = SESSION_BASE + nreqs % sessions + 1;
	r->during = nhang_pending > 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(outbuf + outlen, OUTBUF_SZ - outlen, "filter|0.7|%lld."
	    "%06ld|smtp-in|rcpt-to|%016" PRIx64 "|%016zx|<user%zu@%s>\n",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, r->reqid, nreqs + 1,
	    nreqs % 97, domain);
	outlen += (size_t)n;
	r->t0 = now_us();
	npending++;
	return nreqs++;
}

/* One line from the filter. */
static void
on_line(char *line)
{
	char		*p, *end;
	uint64_t	 reqid, token;
	struct req	*r;

	if (strncmp(line, "register|", 9) == 0) {
		if (strcmp(line, "register|ready") == 0)
			ready = 1;
		return;
	}
	if (strncmp(line, "filter-result|", 14) != 0) {
		fprintf(stderr, "bench_filter: unexpected line: %.200s\n",
		    line);
		nbad++;
		return;
	}
	p = line + 14;
	reqid = strtoull(p, &end, 16);
	if (*end != '|')
		goto bad;
	token = strtoull(end + 1, &end, 16);
	if (*end != '|' || token == 0 || token > nreqs)
		goto bad;
	r = &reqs[token - 1];
	if (r->reqid != reqid || r->result != 0)
		goto bad;
	r->t1 = now_us();
	if (strcmp(end + 1, "proceed") == 0)
		r->result = 1;
	else {
		r->result = 2;
		nreject++;
		if (nreject <= 3)
			fprintf(stderr, "bench_filter: reject: %.300s\n", line);
	}
	nproceed += r->result == 1;
	npending--;
	nanswered++;
	if (r->kind == K_HANG)
		nhang_pending--;
	return;
bad:
	fprintf(stderr, "bench_filter: bad answer: %.200s\n", line);
	nbad++;
}

/*
 * Writes what is queued and reads what is there, waiting at most
 * timeout_ms for something to happen. -1 when the filter is gone.
 */
static int
pump(int timeout_ms)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	char		*s, *nl;

	if (dead)
		return -1;
	pfd.fd = fd;
	pfd.events = POLLIN | (outoff < outlen ? POLLOUT : 0);
	if (poll(&pfd, 1, timeout_ms) == -1)
		return errno == EINTR ? 0 : -1;
	if (pfd.revents & POLLOUT) {
		n = write(fd, outbuf + outoff, outlen - outoff);
		if (n > 0)
			outoff += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			dead = 1;
			return -1;
		}
		if (outoff == outlen)
			outoff = outlen = 0;
		else if (outoff > OUTBUF_SZ / 2) {
			memmove(outbuf, outbuf + outoff, outlen - outoff);
			outlen -= outoff;
			outoff = 0;
		}
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		n = read(fd, inbuf + inlen, sizeof(inbuf) - inlen);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			dead = 1;
			return -1;
		}
		if (n > 0)
			inlen += (size_t)n;
		s = inbuf;
		while ((nl = memchr(s, '\n', inlen - (size_t)(s - inbuf)))) {
			*nl = '\0';
			on_line(s);
			s = nl + 1;
		}
		inlen -= (size_t)(s - inbuf);
		memmove(inbuf, s, inlen);
		if (inlen == sizeof(inbuf))
			inlen = 0;	/* an absurd line: drop it */
	}
	return 0;
}

/* Waits until nothing is pending; -1 after secs or when the filter died. */
static int
wait_all(double secs)
{
	double	end = now_us() + secs * 1e6;

	while (npending > 0 || outoff < outlen) {
		if (now_us() > end || pump(50) == -1)
			return -1;
	}
	return 0;
}

static void
handshake(void)
{
	double	end = now_us() + 30e6;

	/* what smtpd 6.8 sends a proc-exec filter first */
	outlen = (size_t)snprintf(outbuf, OUTBUF_SZ,
	    "config|smtpd-version|6.8.0p2\n"
	    "config|smtp-session-timeout|300\n"
	    "config|subsystem|smtp-in\n"
	    "config|ready\n");
	while (!ready) {
		if (now_us() > end || pump(100) == -1) {
			fprintf(stderr, "bench_filter: no register|ready\n");
			exit(1);
		}
	}
}

/* Every -D domain once, twice: the first fills the cache. */
static void
warmup(void)
{
	size_t	i, pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ndomains; i++)
			send_req(domains[i], K_WARMUP);
		if (wait_all(60) == -1) {
			fprintf(stderr, "bench_filter: warm-up not answered\n");
			exit(1);
		}
	}
	if (nreject > 0) {
		fprintf(stderr, "bench_filter: warm-up had %zu rejects\n",
		    nreject);
		exit(1);
	}
}

/* count, p50, p99, max of the latencies of kind k (during: 1 only those
 * sent while a hang was pending, 0 those sent while none was). */
static void
lat_print(const char *name, enum kind k, int during)
{
	double	*v;
	size_t	 i, n = 0;

	if ((v = malloc((nreqs + 1) * sizeof(*v))) == NULL)
		return;
	for (i = 0; i < nreqs; i++)
		if (reqs[i].kind == k && reqs[i].result != 0 &&
		    (during < 0 || reqs[i].during == during))
			v[n++] = reqs[i].t1 - reqs[i].t0;
	printf("%s_n %zu\n", name, n);
	printf("%s_p50_us %.0f\n", name, quantile(v, n, 0.50));
	printf("%s_p99_us %.0f\n", name, quantile(v, n, 0.99));
	printf("%s_max_us %.0f\n", name, n ? v[n - 1] : 0);
	free(v);
}

static void
mem_print(const char *name)
{
	long	rss, hwm, anon;

	proc_mem((long)child, &rss, &hwm, &anon);
	printf("%s_rss_kib %ld\n%s_hwm_kib %ld\n%s_anon_kib %ld\n", name, rss,
	    name, hwm, name, anon);
}

/* -L FILE: "sent-ms latency-us kind" of every answered request. */
static void
save_lat(void)
{
	FILE	*f;
	size_t	 i;

	if (latfile == NULL || nreqs == 0 || (f = fopen(latfile, "w")) == NULL)
		return;
	for (i = 0; i < nreqs; i++)
		if (reqs[i].result != 0)
			fprintf(f, "%.3f %.0f %d\n", (reqs[i].t0 -
			    reqs[0].t0) / 1e3, reqs[i].t1 - reqs[i].t0,
			    reqs[i].kind);
	fclose(f);
}

/* Copies the filter's /proc/PID/smaps to -S FILE (where its memory is). */
static void
save_smaps(void)
{
	char	 path[64], buf[8192];
	FILE	*in, *out;
	size_t	 n;

	if (smapsfile == NULL)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/smaps", (long)child);
	if ((in = fopen(path, "r")) == NULL)
		return;
	if ((out = fopen(smapsfile, "w")) != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(out);
	}
	fclose(in);
}

/* CPU seconds (user + system, all threads) the filter used so far. */
static double
cpu_s(void)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut = 0, st = 0;
	FILE			*f;
	size_t			 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)child);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15 (utime, stime) follow "(comm) " */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2, "%*c %*d %*d "
	    "%*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
run_warm(void)
{
	double	start, end, c0;
	size_t	i = 0, n0;

	warmup();
	mem_print("warm_before");
	n0 = nanswered;
	c0 = cpu_s();
	start = now_us();
	end = start + dur_s * 1e6;
	while (now_us() < end) {
		while (npending < window)
			send_req(domains[i++ % ndomains], K_STREAM);
		if (pump(100) == -1)
			return -1;
	}
	printf("warm_answers %zu\n", nanswered - n0);
	printf("warm_rate %.0f\n", (double)(nanswered - n0) /
	    ((now_us() - start) / 1e6));
	printf("warm_window %zu\n", window);
	c0 = cpu_s() - c0;
	printf("warm_filter_cpu_s %.2f\n", c0);
	printf("warm_rate_per_cpu_s %.0f\n", c0 > 0 ?
	    (double)(nanswered - n0) / c0 : 0);
	if (wait_all(30) == -1)
		return -1;
	lat_print("warm", K_STREAM, -1);
	mem_print("warm_after");
	return 0;
}

static int
run_hang(void)
{
	double	start, next, now, end;
	size_t	i, k = 0, idx[MAX_LIST];

	warmup();
	start = now_us();
	for (i = 0; i < nhangs; i++) {
		idx[i] = send_req(hangs[i], K_HANG);
		nhang_pending++;
	}
	end = start + dur_s * 1e6;
	next = now_us();
	while ((now = now_us()) < end || nhang_pending > 0) {
		if (now - start > 120e6) {
			fprintf(stderr, "bench_filter: a hang request was "
			    "never answered\n");
			return -1;
		}
		while (next <= now) {
			send_req(domains[k++ % ndomains], K_STREAM);
			next += 1e6 / rate;
		}
		if (pump((int)((next - now) / 1000) + 1) == -1)
			return -1;
	}
	if (wait_all(30) == -1)
		return -1;
	printf("hang_rate %.0f\n", rate);
	for (i = 0; i < nhangs; i++)
		printf("hang_%s_answer_ms %.0f\nhang_%s_result %s\n",
		    hangs[i], (reqs[idx[i]].t1 - reqs[idx[i]].t0) / 1e3,
		    hangs[i], reqs[idx[i]].result == 1 ? "proceed" : "reject");
	lat_print("hang_during", K_STREAM, 1);
	lat_print("hang_after", K_STREAM, 0);
	mem_print("hang");
	return 0;
}

static int
run_mem(void)
{
	double	start;
	size_t	i = 0, step = ndistinct / 10 ? ndistinct / 10 : 1, n0;
	long	rss, hwm, anon;
	char	d[256];

	warmup();
	mem_print("mem_before");
	n0 = nanswered;
	start = now_us();
	while (i < ndistinct) {
		while (npending < window && i < ndistinct) {
			snprintf(d, sizeof(d), "d%06zu.%s", i++, zone);
			send_req(d, K_DISTINCT);
			if (i % step == 0) {
				proc_mem((long)child, &rss, &hwm, &anon);
				fprintf(stderr, "bench_filter: %zu domains "
				    "sent, %.1f s, VmRSS %ld KiB, RssAnon %ld "
				    "KiB\n", i, (now_us() - start) / 1e6, rss,
				    anon);
				printf("mem_at_%zu_rss_kib %ld\n", i, rss);
			}
		}
		if (pump(100) == -1)
			return -1;
	}
	if (wait_all(120) == -1)
		return -1;
	printf("mem_domains %zu\n", nanswered - n0);
	printf("mem_seconds %.1f\n", (now_us() - start) / 1e6);
	printf("mem_rate %.0f\n", (double)(nanswered - n0) /
	    ((now_us() - start) / 1e6));
	lat_print("mem", K_DISTINCT, -1);
	mem_print("mem_after");
	save_smaps();
	return 0;
}

/* Closes the filter's input and reaps it: it must exit cleanly. */
static int
finish(void)
{
	int	status;

	printf("answers_total %zu\nproceed_total %zu\nreject_total %zu\n"
	    "bad_lines %zu\n", nanswered, nproceed, nreject, nbad);
	shutdown(fd, SHUT_WR);
	while (!dead)
		pump(1000);
	if (waitpid(child, &status, 0) == -1)
		return -1;
	printf("filter_exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char	*errfile = "/dev/null", *mode;
	int		 ch, rc;

	while ((ch = getopt(argc, argv, "+d:D:e:H:L:N:P:r:S:s:w:")) != -1) {
		switch (ch) {
		case 'd':
			dur_s = atof(optarg);
			break;
		case 'D':
			ndomains = split(optarg, domains);
			break;
		case 'e':
			errfile = optarg;
			break;
		case 'H':
			nhangs = split(optarg, hangs);
			break;
		case 'L':
			latfile = optarg;
			break;
		case 'N':
			ndistinct = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			zone = optarg;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'S':
			smapsfile = optarg;
			break;
		case 's':
			sessions = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			window = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0 ||
	    ndomains == 0 || sessions == 0 || window == 0 || rate <= 0)
		usage();
	mode = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	spawn(argv + optind + 2, errfile);
	handshake();
	if (strcmp(mode, "warm") == 0)
		rc = run_warm();
	else if (strcmp(mode, "hang") == 0 && nhangs > 0)
		rc = run_hang();
	else if (strcmp(mode, "mem") == 0)
		rc = run_mem();
	else
		usage();
	if (rc == -1)
		fprintf(stderr, "bench_filter: %s run failed (filter %s)\n",
		    mode, dead ? "gone" : "alive");
	save_lat();
	if (finish() == -1 || rc == -1 || nbad > 0)
		return 1;
	return 0;
}
