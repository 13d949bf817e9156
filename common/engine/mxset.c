/*
 * mxset.c - the MX host set of a recipient domain (declared in mtasts.h): a thin
 * layer over dns_mx() and dns_mx_async() that applies the implicit MX
 * rule and hands out plain host names, so that adapters need no internal
 * header.
 */
#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "engine/ctx.h"

struct mxq {
	char		 domain[MTASTS_NAME_MAX + 1];
	mtasts_mx_cb	*cb;
	void		*arg;
};

static int	 mxset_build(const char *, int, struct dns_mx *, size_t,
		    char ***, size_t *);
static void	 mxset_on_mx(void *, int, struct dns_mx *, size_t);

/*
 * Turns a dns_mx() result into the host set: ENOTFOUND becomes the
 * implicit MX, a null MX the empty set.
 */
static int
mxset_build(const char *domain, int err, struct dns_mx *mx, size_t nmx,
    char ***hosts, size_t *n)
{
	char	**v = NULL;
	size_t	  i, k = 0;

	*hosts = NULL;
	*n = 0;
	if (err == MTASTS_ENOTFOUND) {
		mx = NULL;
		nmx = 0;
	} else if (err != MTASTS_OK)
		return err;
	if ((v = calloc(nmx + 1, sizeof(*v))) == NULL)
		return MTASTS_ENOMEM;
	if (err == MTASTS_ENOTFOUND) {
		if ((v[k++] = strdup(domain)) == NULL)
			goto fail;
	}
	for (i = 0; i < nmx; i++) {
		if (mx[i].host[0] == '\0' || strcmp(mx[i].host, ".") == 0)
			continue;	/* null MX: no host */
		if ((v[k++] = strdup(mx[i].host)) == NULL)
			goto fail;
	}
	*hosts = v;
	*n = k;
	return MTASTS_OK;
fail:
	mtasts_mx_free(v, nmx + 1);
	return MTASTS_ENOMEM;
}

int
mtasts_mx_lookup(struct mtasts_ctx *ctx, const char *domain, char ***hosts,
    size_t *n)
{
	struct dns_mx	*mx = NULL;
	struct dns	*dns;
	char		 norm[MTASTS_NAME_MAX + 1];
	size_t		 nmx = 0;
	int		 rc;

	*hosts = NULL;
	*n = 0;
	if (mtasts_name_normalize(domain, 0, norm) != MTASTS_OK)
		return MTASTS_EINVAL;
	if ((dns = ctx_dns(ctx)) == NULL)
		return MTASTS_EDNS;
	rc = ctx->net->dns_mx(dns, norm, &mx, &nmx);
	rc = mxset_build(norm, rc, mx, nmx, hosts, n);
	free(mx);
	return rc;
}

void
mtasts_mx_free(char **hosts, size_t n)
{
	strv_free(hosts, n);
}

int
mtasts_mx_lookup_async(struct mtasts_ctx *ctx, const char *domain,
    mtasts_mx_cb *cb, void *arg)
{
	struct mxq	*q;
	struct dns	*dns;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return MTASTS_ENOMEM;
	if (mtasts_name_normalize(domain, 0, q->domain) != MTASTS_OK) {
		free(q);
		return MTASTS_EINVAL;
	}
	q->cb = cb;
	q->arg = arg;
	if ((dns = ctx_dns(ctx)) == NULL ||
	    ctx->net->dns_mx_async(dns, q->domain, mxset_on_mx, q) !=
	    MTASTS_OK) {
		free(q);
		cb(arg, MTASTS_EDNS, NULL, 0);
	}
	return MTASTS_OK;
}

static void
mxset_on_mx(void *arg, int err, struct dns_mx *mx, size_t nmx)
{
	struct mxq	 *q = arg;
	char		**hosts;
	size_t		  n;
	int		  rc;

	rc = mxset_build(q->domain, err, mx, nmx, &hosts, &n);
	q->cb(q->arg, rc, hosts, n);	/* the callee owns hosts */
	free(q);
}

/*
 * Host addresses, for an adapter that must know which MX host an address
 * belongs to (the OpenSMTPD filter's TLS-RPT attribution).
 */
struct addrq {
	mtasts_addrs_cb	*cb;
	void		*arg;
};

static void
mxset_on_addrs(void *arg, int err, char **v, size_t n)
{
	struct addrq	*q = arg;
	char		**own = NULL;

	/* the callee owns what it is given; v is the resolver's */
	if (err == MTASTS_OK && n > 0 && strv_dup(v, n, &own) != MTASTS_OK)
		err = MTASTS_ENOMEM;
	q->cb(q->arg, err, own, own != NULL ? n : 0);
	free(q);
}

int
mtasts_addrs_lookup_async(struct mtasts_ctx *ctx, const char *host,
    mtasts_addrs_cb *cb, void *arg)
{
	struct addrq	*q;
	struct dns	*dns;
	char		 name[MTASTS_NAME_MAX + 1];

	if (mtasts_name_normalize(host, 0, name) != MTASTS_OK)
		return MTASTS_EINVAL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return MTASTS_ENOMEM;
	q->cb = cb;
	q->arg = arg;
	if ((dns = ctx_dns(ctx)) == NULL ||
	    ctx->net->dns_addrs_async(dns, name, mxset_on_addrs, q) !=
	    MTASTS_OK) {
		free(q);
		cb(arg, MTASTS_EDNS, NULL, 0);
	}
	return MTASTS_OK;
}
