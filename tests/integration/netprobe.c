/*
 * netprobe.c - drives dns.c and fetch.c against real servers for
 * dns_fetch.sh. Not part of the library.
 *
 * netprobe [-f fwd] [-r resolv.conf] [-d dns_ms] [-c connect_ms]
 *     [-t fetch_ms] [-a cafile] [-A addr] [-v] COMMAND ARGS
 *
 *	txt NAME, mx NAME, addrs NAME, tlsa HOST PORT
 *		synchronous lookups: "rc=NAME ms=N" then one line per record
 *	atxt NAME, amx NAME, aaddrs NAME
 *		the same through the asynchronous calls on an ev loop
 *	fetch DOMAIN
 *		mta-sts.DOMAIN resolved through dns.c (or -A addr), then the
 *		synchronous fetch: "rc=NAME fail=N status=N len=N ms=N" and
 *		"err=..." then the body with -v
 *	afetch N DOMAIN...
 *		N asynchronous fetches at once, cycling through the domains:
 *		one "done DOMAIN rc=... fail=N status=N len=N" line each,
 *		then "started=N completed=N reentrant=N ms=N"
 *	abandon DOMAIN
 *		starts 8 fetches of DOMAIN and 4 DNS lookups, runs the loop
 *		for 300 ms, then frees everything with work in flight: no
 *		callback may run afterwards, nothing may leak (ASan)
 *	threads
 *		one lookup, then the number of threads and child processes
 *		before and after dns_free(): "during=N after=N children=N"
 */
#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtasts.h"
#include "conf/config.h"
#include "net/dns.h"
#include "util/ev.h"
#include "net/fetch.h"
#include "util/log.h"
#include "util/strv.h"

#define MAXQ	256

static struct config	 conf;
static struct logger	 lg;
static struct dns	*dns;
static struct fetch	*fetcher;
static struct ev	*loop;
static const char	*fixed_addr;
static int		 verbose;
static int		 starting;	/* inside a *_async() call */
static int		 reentrant;
static int		 pending;

static void	usage(void);
static const char *rcname(int);
static void	on_log(void *, enum mtasts_loglevel, const char *);
static int	resolve_host(const char *, char ***, size_t *);
static void	print_fetch(const char *, int, const struct fetch_result *);
static int	cmd_sync(const char *, char **);
static int	cmd_async(const char *, char **);
static int	cmd_fetch(const char *);
static int	cmd_afetch(int, char **);
static int	cmd_threads(void);
static int	cmd_abandon(const char *);
static int	count_dir(const char *);
static int	count_children(void);
static void	on_strv(void *, int, char **, size_t);
static void	on_mx(void *, int, struct dns_mx *, size_t);
static void	on_fetch(void *, int, struct fetch_result *);
static void	run_loop(unsigned);

static void
usage(void)
{
	fprintf(stderr, "usage: netprobe [-f fwd] [-r resolv] [-d ms] "
	    "[-c ms] [-t ms] [-a cafile] [-A addr] [-v] command args\n");
	exit(2);
}

static const char *
rcname(int rc)
{
	switch (rc) {
	case MTASTS_OK:		return "OK";
	case MTASTS_ENOTFOUND:	return "ENOTFOUND";
	case MTASTS_EDNS:	return "EDNS";
	case MTASTS_EFETCH:	return "EFETCH";
	case MTASTS_ETIMEOUT:	return "ETIMEOUT";
	case MTASTS_EINVAL:	return "EINVAL";
	case MTASTS_ENOMEM:	return "ENOMEM";
	case MTASTS_ECONFIG:	return "ECONFIG";
	}
	return "OTHER";
}

static void
on_log(void *arg, enum mtasts_loglevel level, const char *msg)
{
	fprintf(stderr, "log%d: %s\n", (int)level, msg);
}

int
main(int argc, char *argv[])
{
	static char	*fwd[8];
	int		 ch, r;

	conf.dns_timeout = 2000;
	conf.connect_timeout = 3000;
	conf.fetch_timeout = 5000;
	conf.forwarders = fwd;
	while ((ch = getopt(argc, argv, "A:a:c:d:f:r:t:v")) != -1) {
		switch (ch) {
		case 'A': fixed_addr = optarg; break;
		case 'a': conf.ca_file = optarg; break;
		case 'c': conf.connect_timeout = atoi(optarg); break;
		case 'd': conf.dns_timeout = atoi(optarg); break;
		case 'f':
			if (conf.nforwarders < 8)
				fwd[conf.nforwarders++] = optarg;
			break;
		case 'r': conf.resolv_conf = optarg; break;
		case 't': conf.fetch_timeout = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	lg.fn = on_log;
	lg.level = verbose ? MTASTS_LOG_DEBUG : MTASTS_LOG_WARN;
	if (ev_new(&loop) != MTASTS_OK ||
	    dns_new(&conf, &lg, loop, &dns) != MTASTS_OK ||
	    fetch_new(&conf, &lg, loop, &fetcher) != MTASTS_OK) {
		fprintf(stderr, "netprobe: setup failed\n");
		return 1;
	}
	if (strcmp(argv[0], "threads") == 0)
		return cmd_threads();
	if (strcmp(argv[0], "abandon") == 0 && argc == 2)
		return cmd_abandon(argv[1]);
	if (strcmp(argv[0], "fetch") == 0 && argc == 2)
		r = cmd_fetch(argv[1]);
	else if (strcmp(argv[0], "afetch") == 0 && argc >= 3)
		r = cmd_afetch(atoi(argv[1]), argv + 2);
	else if ((strcmp(argv[0], "atxt") == 0 || strcmp(argv[0], "amx") == 0 ||
	    strcmp(argv[0], "aaddrs") == 0) && argc >= 2)
		r = cmd_async(argv[0] + 1, argv + 1);
	else if (argc >= 2)
		r = cmd_sync(argv[0], argv + 1);
	else
		usage();
	fetch_free(fetcher);
	dns_free(dns);
	ev_free(loop);
	return r;
}

static int
cmd_sync(const char *cmd, char **args)
{
	struct dns_mx		*mx = NULL;
	char			**v = NULL;
	unsigned long long	 t0 = ev_now_ms();
	size_t			 i, n = 0;
	int			 r, secure = 0;

	if (strcmp(cmd, "txt") == 0)
		r = dns_txt(dns, args[0], &v, &n);
	else if (strcmp(cmd, "mx") == 0)
		r = dns_mx(dns, args[0], &mx, &n);
	else if (strcmp(cmd, "addrs") == 0)
		r = dns_addrs(dns, args[0], &v, &n);
	else if (strcmp(cmd, "tlsa") == 0 && args[1] != NULL)
		r = dns_tlsa(dns, args[0], atoi(args[1]), &secure);
	else
		usage();
	printf("rc=%s ms=%llu n=%zu secure=%d\n", rcname(r),
	    ev_now_ms() - t0, n, secure);
	for (i = 0; i < n; i++) {
		if (mx != NULL)
			printf("%u %s\n", mx[i].pref, mx[i].host);
		else
			printf("%s\n", v[i]);
	}
	free(mx);
	strv_free(v, n);
	return 0;
}

static void
on_strv(void *arg, int err, char **v, size_t n)
{
	size_t	i;

	if (starting)
		reentrant++;
	printf("rc=%s n=%zu\n", rcname(err), n);
	for (i = 0; i < n; i++)
		printf("%s\n", v[i]);
	pending--;
}

static void
on_mx(void *arg, int err, struct dns_mx *mx, size_t n)
{
	size_t	i;

	if (starting)
		reentrant++;
	printf("rc=%s n=%zu\n", rcname(err), n);
	for (i = 0; i < n; i++)
		printf("%u %s\n", mx[i].pref, mx[i].host);
	pending--;
}

static void
run_loop(unsigned max_ms)
{
	unsigned long long	t0 = ev_now_ms();

	while (pending > 0 && ev_now_ms() - t0 < max_ms)
		(void)ev_wait(loop, 100);
}

static int
cmd_async(const char *cmd, char **args)
{
	unsigned long long	t0 = ev_now_ms();
	int			r;

	starting = 1;
	if (strcmp(cmd, "txt") == 0)
		r = dns_txt_async(dns, args[0], on_strv, NULL);
	else if (strcmp(cmd, "mx") == 0)
		r = dns_mx_async(dns, args[0], on_mx, NULL);
	else if (strcmp(cmd, "addrs") == 0)
		r = dns_addrs_async(dns, args[0], on_strv, NULL);
	else
		usage();
	starting = 0;
	if (r != MTASTS_OK) {
		printf("start=%s\n", rcname(r));
		return 1;
	}
	pending = 1;
	run_loop(conf.dns_timeout + 5000);
	printf("pending=%d reentrant=%d ms=%llu\n", pending, reentrant,
	    ev_now_ms() - t0);
	return 0;
}

/* The addresses of mta-sts.DOMAIN, as the engine finds them. */
static int
resolve_host(const char *domain, char ***addrs, size_t *n)
{
	char	host[MTASTS_NAME_MAX + 16];

	if (fixed_addr != NULL) {
		*addrs = calloc(1, sizeof(char *));
		(*addrs)[0] = strdup(fixed_addr);
		*n = 1;
		return MTASTS_OK;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	return dns_addrs(dns, host, addrs, n);
}

static void
print_fetch(const char *domain, int rc, const struct fetch_result *res)
{
	printf("rc=%s fail=%d status=%ld len=%zu\n", rcname(rc),
	    (int)res->fail, res->status, res->len);
	printf("err=%s\n", res->err);
	if (verbose && res->body != NULL)
		printf("%s", res->body);
}

static int
cmd_fetch(const char *domain)
{
	struct fetch_result	 res;
	unsigned long long	 t0;
	char			**addrs;
	size_t			 n;
	int			 r;

	if ((r = resolve_host(domain, &addrs, &n)) != MTASTS_OK) {
		printf("resolve=%s\n", rcname(r));
		return 1;
	}
	t0 = ev_now_ms();
	r = fetch_policy(fetcher, domain, addrs, n, &res);
	print_fetch(domain, r, &res);
	printf("ms=%llu\n", ev_now_ms() - t0);
	fetch_result_clear(&res);
	strv_free(addrs, n);
	return 0;
}

static void
on_fetch(void *arg, int err, struct fetch_result *res)
{
	if (starting)
		reentrant++;
	printf("done %s rc=%s fail=%d status=%ld len=%zu\n",
	    (const char *)arg, rcname(err), (int)res->fail, res->status,
	    res->len);
	pending--;
}

static int
cmd_afetch(int count, char **domains)
{
	static char		**addrs[MAXQ];
	static size_t		 naddrs[MAXQ];
	unsigned long long	 t0;
	int			 i, nd, started = 0, r;

	for (nd = 0; domains[nd] != NULL && nd < MAXQ; nd++)
		if ((r = resolve_host(domains[nd], &addrs[nd], &naddrs[nd]))
		    != MTASTS_OK) {
			printf("resolve %s=%s\n", domains[nd], rcname(r));
			return 1;
		}
	t0 = ev_now_ms();
	starting = 1;
	for (i = 0; i < count; i++) {
		r = fetch_policy_async(fetcher, domains[i % nd],
		    addrs[i % nd], naddrs[i % nd], on_fetch, domains[i % nd]);
		if (r == MTASTS_OK) {
			started++;
			pending++;
		} else
			printf("start %s=%s\n", domains[i % nd], rcname(r));
	}
	starting = 0;
	run_loop(conf.fetch_timeout + 10000);
	printf("started=%d completed=%d reentrant=%d ms=%llu\n", started,
	    started - pending, reentrant, ev_now_ms() - t0);
	for (i = 0; i < nd; i++)
		strv_free(addrs[i], naddrs[i]);
	return 0;
}

static int
count_dir(const char *path)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Processes whose parent is us. */
static int
count_children(void)
{
	struct dirent	*de;
	DIR		*d;
	FILE		*fp;
	char		 path[300], buf[512], *p;
	int		 n = 0, ppid;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), fp) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
			n++;
		fclose(fp);
	}
	closedir(d);
	return n;
}

static int
cmd_threads(void)
{
	char	**v = NULL;
	size_t	 n = 0;
	int	 r, during;

	r = dns_txt(dns, "_mta-sts.enforce.test", &v, &n);
	strv_free(v, n);
	during = count_dir("/proc/self/task");
	dns_free(dns);
	printf("rc=%s during=%d after=%d children=%d\n", rcname(r), during,
	    count_dir("/proc/self/task"), count_children());
	fetch_free(fetcher);
	ev_free(loop);
	return 0;
}

static int
cmd_abandon(const char *domain)
{
	char	**addrs;
	size_t	 n;
	int	 i, r, started = 0, before;

	if ((r = resolve_host(domain, &addrs, &n)) != MTASTS_OK) {
		printf("resolve=%s\n", rcname(r));
		return 1;
	}
	for (i = 0; i < 8; i++)
		if (fetch_policy_async(fetcher, domain, addrs, n, on_fetch,
		    (void *)domain) == MTASTS_OK)
			started++;
	for (i = 0; i < 4; i++)
		if (dns_txt_async(dns, "_mta-sts.enforce.test", on_strv,
		    NULL) == MTASTS_OK)
			started++;
	pending = started;
	run_loop(300);
	before = pending;
	fetch_free(fetcher);
	dns_free(dns);
	/* Nothing may fire now. */
	(void)ev_wait(loop, 200);
	printf("started=%d pending_at_free=%d pending_after=%d\n", started,
	    before, pending);
	ev_free(loop);
	strv_free(addrs, n);
	return 0;
}
