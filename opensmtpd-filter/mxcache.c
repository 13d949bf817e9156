/*
 * mxcache.c - recent MX sets of recipient domains, so that a warm
 * rcpt-to decision needs no DNS round trip (see filter.h).
 *
 * The resolver layer (dns.h) does not pass the RRset's TTL up, so an MX
 * set is kept for a fixed MXCACHE_TTL (60 s) from the moment its answer
 * arrived, never longer: an MX change is seen within 60 s, and an
 * enforce decision never uses a set older than that. Only answers are
 * kept (a failed lookup is asked again at the next recipient). The cache
 * is direct-mapped, MXCACHE_SLOTS entries: a domain whose slot another
 * domain takes is looked up again, so memory is bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"

#define MXCACHE_TTL	60	/* seconds an MX set is used */
#define MXCACHE_SLOTS	1024	/* a power of 2 */

struct mxent {
	char		 domain[MTASTS_NAME_MAX + 1];
	char		**hosts;
	size_t		 n;
	struct timespec	 when;	/* CLOCK_MONOTONIC of the answer */
};

static struct mxent	mxcache[MXCACHE_SLOTS];

static struct mxent	*mxcache_slot(const char *);
static int		 mxcache_fresh(const struct mxent *);
static void		 mxcache_drop(struct mxent *);

/* FNV-1a of the domain. */
static struct mxent *
mxcache_slot(const char *domain)
{
	uint32_t	h = 2166136261u;

	for (; *domain != '\0'; domain++) {
		h ^= (unsigned char)*domain;
		h *= 16777619u;
	}
	return &mxcache[h & (MXCACHE_SLOTS - 1)];
}

static int
mxcache_fresh(const struct mxent *e)
{
	struct timespec	now;
	time_t		age;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	age = now.tv_sec - e->when.tv_sec;
	if (now.tv_nsec < e->when.tv_nsec)
		age--;		/* whole seconds, rounded down */
	return age < MXCACHE_TTL;
}

static void
mxcache_drop(struct mxent *e)
{
	mtasts_mx_free(e->hosts, e->n);
	e->hosts = NULL;
	e->n = 0;
	e->domain[0] = '\0';
}

int
mxcache_get(const char *domain, char ***hosts, size_t *n)
{
	struct mxent	*e = mxcache_slot(domain);

	if (e->domain[0] == '\0' || strcmp(e->domain, domain) != 0)
		return 0;
	if (!mxcache_fresh(e)) {
		mxcache_drop(e);
		return 0;
	}
	*hosts = e->hosts;
	*n = e->n;
	return 1;
}

void
mxcache_put(const char *domain, char **hosts, size_t n)
{
	struct mxent	*e = mxcache_slot(domain);
	char		**v;
	size_t		 i;

	if (strlen(domain) >= sizeof(e->domain))
		return;
	mxcache_drop(e);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((v[i] = strdup(hosts[i])) == NULL) {
			mtasts_mx_free(v, i);
			return;
		}
	if (clock_gettime(CLOCK_MONOTONIC, &e->when) == -1) {
		mtasts_mx_free(v, n);
		return;
	}
	memcpy(e->domain, domain, strlen(domain) + 1);
	e->hosts = v;
	e->n = n;
}

void
mxcache_clear(void)
{
	size_t	i;

	for (i = 0; i < MXCACHE_SLOTS; i++)
		mxcache_drop(&mxcache[i]);
}
