/*
 * ubq - ask libunbound one question, the way the engine does, to show
 * that the lab DNS serves libunbound (lab_selftest.sh builds it into
 * $LAB_DIR/bin). Usage: ubq [-f FORWARDER] NAME TYPE (TYPE: A TXT MX
 * CNAME). Without -f it reads /etc/resolv.conf (inside the lab: the
 * namespace's). Like the engine (common/dns.c) it makes the local zone
 * "test." transparent, which libunbound would otherwise answer with
 * NXDOMAIN itself. Prints "rcode N" then one line per record: an address,
 * "PREF HOST" or the TXT strings joined without separators.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unbound.h>

static int	qtype(const char *);
static void	print_name(const unsigned char *, int);
static void	print_rr(int, const char *, int);

static int
qtype(const char *s)
{
	if (strcasecmp(s, "A") == 0)
		return 1;
	if (strcasecmp(s, "CNAME") == 0)
		return 5;
	if (strcasecmp(s, "MX") == 0)
		return 15;
	if (strcasecmp(s, "TXT") == 0)
		return 16;
	return -1;
}

static void
print_name(const unsigned char *p, int len)
{
	int	i = 0;

	while (i < len && p[i] != 0) {
		printf("%.*s.", p[i], (const char *)p + i + 1);
		i += p[i] + 1;
	}
}

static void
print_rr(int type, const char *d, int len)
{
	const unsigned char	*p = (const unsigned char *)d;
	char			 buf[INET_ADDRSTRLEN];
	int			 i;

	if (type == 1 && len == 4) {
		printf("%s\n", inet_ntop(AF_INET, p, buf, sizeof(buf)));
	} else if (type == 15 && len > 2) {
		printf("%d ", p[0] << 8 | p[1]);
		print_name(p + 2, len - 2);
		printf("\n");
	} else if (type == 16) {
		for (i = 0; i < len; i += p[i] + 1)
			printf("%.*s", p[i], (const char *)p + i + 1);
		printf("\n");
	} else {
		print_name(p, len);
		printf("\n");
	}
}

int
main(int argc, char *argv[])
{
	struct ub_ctx		*ctx;
	struct ub_result	*res = NULL;
	const char		*fwd = NULL;
	int			 t, i, rc;

	if (argc == 5 && strcmp(argv[1], "-f") == 0) {
		fwd = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 3 || (t = qtype(argv[2])) < 0) {
		fprintf(stderr, "usage: ubq [-f IP] NAME A|CNAME|MX|TXT\n");
		return 2;
	}
	if ((ctx = ub_ctx_create()) == NULL)
		return 1;
	rc = fwd ? ub_ctx_set_fwd(ctx, fwd) : ub_ctx_resolvconf(ctx, NULL);
	/* libunbound itself answers NXDOMAIN for "test." (RFC 6761). */
	if (rc == 0)
		rc = ub_ctx_zone_add(ctx, "test.", "transparent");
	if (rc == 0)
		rc = ub_resolve(ctx, argv[1], t, 1, &res);
	if (rc != 0) {
		fprintf(stderr, "ubq: %s\n", ub_strerror(rc));
		ub_ctx_delete(ctx);
		return 1;
	}
	printf("rcode %d\n", res->rcode);
	for (i = 0; res->havedata && res->data[i] != NULL; i++)
		print_rr(t, res->data[i], res->len[i]);
	ub_resolve_free(res);
	ub_ctx_delete(ctx);
	return 0;
}
