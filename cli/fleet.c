/*
 * fleet.c - "mtasts fleet [-c CONF] status": the hosts PostgreSQL has
 * seen with their last sync, and what waits on this host for the next
 * sync. What waits here is shown even when PostgreSQL cannot be reached.
 * Host names come from other hosts: control characters are escaped.
 *
 * Exit 0; 1 when PostgreSQL could not be asked; 2 on a usage or
 * configuration error, or when mtasts.conf has no "fleet".
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "cli.h"

static int	fleet_host(void *, const struct mtasts_fleet_host *);
static void	fleet_local(const struct mtasts_fleet_local *);
static void	fleet_safe(char *, size_t, const char *);
static int	fleet_usage(FILE *);

int
fleet_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_fleet_local	 local;
	struct mtasts_ctx		*ctx;
	const char			*conf = NULL;
	int				 ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return fleet_usage(stdout);
		default:
			return fleet_usage(stderr);
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "status") != 0)
		return fleet_usage(stderr);
	if ((rc = cli_open(conf, 0, &ctx)) != CLI_OK)
		return rc;
	printf("hosts seen:\n");
	rc = mtasts_fleet_status(ctx, &local, fleet_host, NULL);
	mtasts_ctx_close(ctx);
	if (rc == MTASTS_ECONFIG) {
		fprintf(stderr, "mtasts fleet: no fleet in the configuration\n");
		return CLI_USAGE;
	}
	if (local.store[0] != '\0')
		fleet_local(&local);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts fleet: PostgreSQL: %s\n",
		    mtasts_strerror(rc));
		return CLI_INVALID;
	}
	return CLI_OK;
}

static int
fleet_host(void *arg, const struct mtasts_fleet_host *h)
{
	char	host[256], store[80], when[64], ago[64];

	fleet_safe(host, sizeof(host), h->host);
	fleet_safe(store, sizeof(store), h->store);
	cli_time(when, sizeof(when), h->last_sync);
	cli_duration(ago, sizeof(ago), time(NULL) > h->last_sync ?
	    (unsigned long)(time(NULL) - h->last_sync) : 0);
	printf("  %s%s (store %s): last sync %s (%s ago), %lld batches, "
	    "%lld sessions\n", host, h->self ? " [this host]" : "", store,
	    when, ago, h->batches, h->sessions);
	return 0;
}

static void
fleet_local(const struct mtasts_fleet_local *l)
{
	char	host[256], when[64];

	fleet_safe(host, sizeof(host), l->host);
	cli_time(when, sizeof(when), l->last_sync);
	printf("this host: %s, store %s, last sync %s\n", host, l->store,
	    when);
	printf("waiting here: %lld batches (%lld sessions), %lld sessions "
	    "not yet cut, %lld bytes spooled\n", l->batches,
	    l->batch_sessions, l->uncut_sessions, l->spooled_bytes);
}

/* Printable ASCII only: anything else as \xHH. */
static void
fleet_safe(char *buf, size_t size, const char *s)
{
	size_t	n = 0;

	for (; *s != '\0' && n + 5 < size; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '\\')
			buf[n++] = *s;
		else
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x",
			    (unsigned char)*s);
	}
	buf[n] = '\0';
}

static int
fleet_usage(FILE *fp)
{
	return cli_usage(fp, "fleet [-c CONF] status\n\n"
	    "The fleet's hosts and their last sync, and what waits here.\n");
}
