/*
 * bench_floor.c - what this machine allows at best, measured with the
 * same libraries the engine must use but none of our code, so that the
 * engine's figures can be read against a floor rather than a wish.
 *
 *	tls CAFILE ADDR N [SERVER_PID]
 *		N HTTPS GETs of https://mta-sts.bNNNN.bench.test/.well-known/
 *		mta-sts.txt at ADDR:443, one after another, each a new TCP
 *		connection and a full TLS handshake (as a cold policy fetch
 *		is), through OpenSSL directly with ONE SSL_CTX and CA store
 *		for all (cheaper than any curl transfer). Prints this
 *		process's CPU per fetch, the wall time per fetch, and with
 *		SERVER_PID the server's CPU per fetch (/proc/PID/stat). The
 *		sum of both CPUs over the machine's cores is the least wall
 *		time N fetches in flight can take when the server shares the
 *		machine, as in the lab.
 *	curl CAFILE ADDR N
 *		the same N fetches through libcurl, as fetch.c must use it: one
 *		easy handle reused, the address given (CURLOPT_RESOLVE, no DNS),
 *		a new connection each (CURLOPT_FORBID_REUSE), CA file cached;
 *		libcurl builds a new SSL_CTX for every connection.
 *	dns SERVER N
 *		N times: TXT _mta-sts.bNNNN.bench.test, then A mta-sts.bNNNN
 *		through libunbound (its resolver thread, as dns.c; forwarder
 *		SERVER), each waited for: the two DNS round trips a cold
 *		lookup cannot avoid.
 *	mem CAFILE DB
 *		resident memory of a process that has only loaded and set up
 *		the libraries the engine needs (libcurl easy+multi,
 *		libunbound with its thread, SQLite with a WAL database,
 *		OpenSSL with the CA file), before any lookup.
 *	fresh DB DOMAIN [N]
 *		N times: exec a new process that opens the SQLite database
 *		and reads DOMAIN's row with one SELECT (the least a first
 *		call on a warm store can do with SQLite); prints the time and
 *		the minor page faults of that in the new process, and the
 *		cost of one minor fault here.
 *
 * Figures, not tests: the exit status is 1 only when something could
 * not be measured.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <sqlite3.h>
#include <unbound.h>

#include "bench_util.h"

static double	 cpu_us(void);
static long	 minflt(void);
static long	 proc_cpu_us(long);
static int	 tls_one(SSL_CTX *, const char *, const char *, size_t *);
static int	 floor_tls(int, char **);
static void	 dns_done(void *, int, struct ub_result *);
static int	 dns_one(struct ub_ctx *, const char *, int);
static size_t	 curl_sink(char *, size_t, size_t, void *);
static int	 floor_curl(int, char **);
static int	 floor_dns(int, char **);
static int	 floor_mem(int, char **);
static int	 fresh_child(const char *, const char *);
static double	 fault_cost_us(void);
static int	 floor_fresh(int, char **, const char *);

static double
cpu_us(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static long
minflt(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* User + system CPU of a process (all its threads) in microseconds. */
static long
proc_cpu_us(long pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	int		 i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* fields 14 and 15 (utime, stime); p is at the end of field 2 */
	for (i = 2; i < 13 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)((ut + st) * (1e6 / sysconf(_SC_CLK_TCK)));
}

/* One GET over a new connection; the body length in *len. */
static int
tls_one(SSL_CTX *sctx, const char *addr, const char *host, size_t *len)
{
	struct sockaddr_in	 sin;
	char			 req[256], buf[4096];
	SSL			*ssl = NULL;
	int			 fd, n, rc = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto out;
	if ((ssl = SSL_new(sctx)) == NULL)
		goto out;
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	if (SSL_set1_host(ssl, host) != 1 || SSL_connect(ssl) != 1)
		goto out;
	n = snprintf(req, sizeof(req), "GET /.well-known/mta-sts.txt "
	    "HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
	if (SSL_write(ssl, req, n) != n)
		goto out;
	*len = 0;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
		/* the status line is at the start of the first read */
		if (*len == 0 && n >= 12 &&
		    strncmp(buf, "HTTP/1.1 200", 12) == 0)
			rc = 0;
		*len += (size_t)n;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	close(fd);
	return rc;
}

static int
floor_tls(int argc, char **argv)
{
	SSL_CTX	*sctx;
	char	 host[96], d[64];
	double	*wall, t0, c0, t;
	long	 pid = argc > 4 ? atol(argv[4]) : 0, s0 = -1, s1 = -1;
	size_t	 n, i, len, bad = 0;

	if (argc < 4)
		return -1;
	n = strtoul(argv[3], NULL, 10);
	if (n == 0 || (wall = calloc(n, sizeof(*wall))) == NULL)
		return -1;
	sctx = SSL_CTX_new(TLS_client_method());
	if (sctx == NULL ||
	    SSL_CTX_load_verify_locations(sctx, argv[1], NULL) != 1) {
		fprintf(stderr, "bench_floor: cannot load %s\n", argv[1]);
		return -1;
	}
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
	if (pid > 0)
		s0 = proc_cpu_us(pid);
	c0 = cpu_us();
	for (i = 0; i < n; i++) {
		bench_domain(i, d, sizeof(d));
		snprintf(host, sizeof(host), "mta-sts.%s", d);
		t0 = now_us();
		if (tls_one(sctx, argv[2], host, &len) != 0)
			bad++;
		wall[i] = now_us() - t0;
	}
	t = (cpu_us() - c0) / (double)n;
	if (pid > 0)
		s1 = proc_cpu_us(pid);
	printf("tls_fetches %zu\n", n);
	printf("tls_failed %zu\n", bad);
	printf("tls_client_cpu_us %.0f\n", t);
	printf("tls_wall_p50_us %.0f\n", quantile(wall, n, 0.50));
	if (s0 >= 0 && s1 >= 0) {
		printf("tls_server_cpu_us %.0f\n", (double)(s1 - s0) / n);
		printf("tls_inflight_floor_s %.2f\n", (t + (double)(s1 - s0) /
		    n) * (double)n / 1e6 / (double)sysconf(_SC_NPROCESSORS_ONLN));
	}
	SSL_CTX_free(sctx);
	free(wall);
	return bad == n ? -1 : 0;
}

static size_t
curl_sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += size * n;
	return size * n;
}

static int
floor_curl(int argc, char **argv)
{
	struct curl_slist	*rl = NULL;
	CURL			*h;
	char			 url[160], res[160], d[64];
	double			*wall, t0, c0;
	size_t			 n, i, bad = 0, len;
	long			 code;

	if (argc < 4)
		return -1;
	n = strtoul(argv[3], NULL, 10);
	if (n == 0 || (wall = calloc(n, sizeof(*wall))) == NULL ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (h = curl_easy_init()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		bench_domain(i, d, sizeof(d));
		snprintf(res, sizeof(res), "mta-sts.%s:443:%s", d, argv[2]);
		rl = curl_slist_append(rl, res);
	}
	curl_easy_setopt(h, CURLOPT_RESOLVE, rl);
	curl_easy_setopt(h, CURLOPT_CAINFO, argv[1]);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &len);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	c0 = cpu_us();
	for (i = 0; i < n; i++) {
		bench_domain(i, d, sizeof(d));
		snprintf(url, sizeof(url),
		    "https://mta-sts.%s/.well-known/mta-sts.txt", d);
		curl_easy_setopt(h, CURLOPT_URL, url);
		len = 0;
		t0 = now_us();
		if (curl_easy_perform(h) != CURLE_OK ||
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) !=
		    CURLE_OK || code != 200 || len == 0)
			bad++;
		wall[i] = now_us() - t0;
	}
	printf("curl_fetches %zu\n", n);
	printf("curl_failed %zu\n", bad);
	printf("curl_client_cpu_us %.0f\n", (cpu_us() - c0) / (double)n);
	printf("curl_wall_p50_us %.0f\n", quantile(wall, n, 0.50));
	curl_easy_cleanup(h);
	curl_slist_free_all(rl);
	free(wall);
	return bad == n ? -1 : 0;
}

/* ub_resolve_async()'s callback: the answer had data or not. */
static void
dns_done(void *arg, int err, struct ub_result *res)
{
	int	*state = arg;

	*state = err == 0 && res != NULL && res->havedata ? 1 : 2;
	if (res != NULL)
		ub_resolve_free(res);
}

/* One query through the resolver thread, waited for; 0 when answered. */
static int
dns_one(struct ub_ctx *ub, const char *name, int type)
{
	int	state = 0;

	if (ub_resolve_async(ub, name, type, 1, &state, dns_done, NULL) != 0)
		return -1;
	while (state == 0)
		if (ub_wait(ub) != 0)
			return -1;
	return state == 1 ? 0 : -1;
}

static int
floor_dns(int argc, char **argv)
{
	struct ub_ctx	*ub;
	char		 name[96], d[64];
	double		*wall, t0;
	size_t		 n, i, bad = 0;

	if (argc < 3)
		return -1;
	n = strtoul(argv[2], NULL, 10);
	if (n == 0 || (wall = calloc(n, sizeof(*wall))) == NULL)
		return -1;
	/* as dns.c: a resolver thread, the lab's "test." zone passed on */
	if ((ub = ub_ctx_create()) == NULL ||
	    ub_ctx_async(ub, 1) != 0 ||
	    ub_ctx_set_fwd(ub, argv[1]) != 0 ||
	    ub_ctx_zone_add(ub, "test.", "transparent") != 0) {
		fprintf(stderr, "bench_floor: cannot set up libunbound\n");
		return -1;
	}
	for (i = 0; i < n; i++) {
		bench_domain(i, d, sizeof(d));
		t0 = now_us();
		snprintf(name, sizeof(name), "_mta-sts.%s", d);
		bad += dns_one(ub, name, 16) != 0;
		snprintf(name, sizeof(name), "mta-sts.%s", d);
		bad += dns_one(ub, name, 1) != 0;
		wall[i] = now_us() - t0;
	}
	printf("dns_lookups %zu\n", n);
	printf("dns_failed %zu\n", bad);
	printf("dns_txt_then_a_p50_us %.0f\n", quantile(wall, n, 0.50));
	ub_ctx_delete(ub);
	free(wall);
	return bad == 2 * n ? -1 : 0;
}

static int
floor_mem(int argc, char **argv)
{
	struct ub_ctx	*ub;
	SSL_CTX		*sctx;
	sqlite3		*db = NULL;
	CURLM		*multi;
	CURL		*easy;
	long		 rss, hwm, anon;

	if (argc < 3)
		return -1;
	proc_mem(0, &rss, &hwm, &anon);
	printf("mem_loaded_rss_kib %ld\n", rss);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	easy = curl_easy_init();
	multi = curl_multi_init();
	ub = ub_ctx_create();
	if (ub != NULL)
		ub_ctx_async(ub, 1);
	sctx = SSL_CTX_new(TLS_client_method());
	if (easy == NULL || multi == NULL || ub == NULL || sctx == NULL ||
	    SSL_CTX_load_verify_locations(sctx, argv[1], NULL) != 1 ||
	    sqlite3_open(argv[2], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT "
	    "EXISTS t (a); SELECT * FROM t", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_floor: cannot set up the libraries\n");
		return -1;
	}
	proc_mem(0, &rss, &hwm, &anon);
	printf("mem_setup_rss_kib %ld\n", rss);
	printf("mem_setup_anon_kib %ld\n", anon);
	sqlite3_close(db);
	SSL_CTX_free(sctx);
	ub_ctx_delete(ub);
	curl_multi_cleanup(multi);
	curl_easy_cleanup(easy);
	return 0;
}

/* In a new process: open the store and read one row. */
static int
fresh_child(const char *path, const char *domain)
{
	sqlite3_stmt	*s = NULL;
	sqlite3		*db;
	double		 t0;
	long		 f0;
	int		 rc;

	t0 = now_us();
	f0 = minflt();
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT domain, id, text, fetched,"
		    " expires, checked FROM policies WHERE domain = ?1", -1, &s,
		    NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
	}
	printf("%.1f %ld %d\n", now_us() - t0, minflt() - f0,
	    rc == SQLITE_ROW);
	return 0;
}

/* Microseconds per minor fault: first touch of fresh anonymous pages. */
static double
fault_cost_us(void)
{
	const size_t	 pages = 512, pg = 4096;
	volatile char	*m;
	double		 t0, t;
	long		 f0, f;
	size_t		 i;

	m = mmap(NULL, pages * pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	f0 = minflt();
	t0 = now_us();
	for (i = 0; i < pages; i++)
		m[i * pg] = 1;
	t = now_us() - t0;
	f = minflt() - f0;
	munmap((void *)m, pages * pg);
	return f > 0 ? t / (double)f : -1;
}

static int
floor_fresh(int argc, char **argv, const char *self)
{
	double	*us;
	char	 line[128];
	long	 faults = 0;
	int	 n, i, ok = 0, fds[2];
	pid_t	 pid;
	FILE	*f;

	if (argc < 3)
		return -1;
	n = argc > 3 ? atoi(argv[3]) : 20;
	if (n <= 0 || (us = calloc((size_t)n, sizeof(*us))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (pipe(fds) == -1 || (pid = fork()) == -1)
			return -1;
		if (pid == 0) {
			dup2(fds[1], 1);
			close(fds[0]);
			execl(self, self, "-C", argv[1], argv[2], (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		f = fdopen(fds[0], "r");
		if (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			long	fl;
			int	row;

			if (sscanf(line, "%lf %ld %d", &us[i], &fl, &row) == 3) {
				faults += fl;
				ok += row;
			}
		}
		if (f != NULL)
			fclose(f);
		waitpid(pid, NULL, 0);
	}
	printf("fresh_sqlite_rows_found %d of %d\n", ok, n);
	printf("fresh_sqlite_open_select_p50_us %.0f\n",
	    quantile(us, (size_t)n, 0.5));
	printf("fresh_sqlite_minor_faults %.0f\n", (double)faults / n);
	printf("fresh_fault_cost_us %.1f\n", fault_cost_us());
	free(us);
	return ok == 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	int	rc = -1;

	if (argc == 4 && strcmp(argv[1], "-C") == 0)
		return fresh_child(argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "tls") == 0)
		rc = floor_tls(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "curl") == 0)
		rc = floor_curl(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "dns") == 0)
		rc = floor_dns(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "mem") == 0)
		rc = floor_mem(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "fresh") == 0)
		rc = floor_fresh(argc - 1, argv + 1, "/proc/self/exe");
	else {
		fprintf(stderr, "usage: bench_floor tls CAFILE ADDR N "
		    "[SERVER_PID] | curl CAFILE ADDR N | dns SERVER N | "
		    "mem CAFILE DB | "
		    "fresh DB DOMAIN [N]\n");
		return 2;
	}
	return rc == 0 ? 0 : 1;
}
