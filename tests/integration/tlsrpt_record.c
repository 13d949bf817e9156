/*
 * tlsrpt_record.c - records TLS-RPT results from the command line, as
 * an adapter would, for tests/integration/tlsrpt.sh:
 *
 *	tlsrpt_record CONF DOMAIN TYPE RESULT MX RIP SIP DETAIL COUNT
 *
 * TYPE is sts|tlsa|no-policy-found, RESULT a name of mtasts_result_name()
 * ("success", "certificate-expired", ...), "-" for an absent field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

static const char *
opt(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

int
main(int argc, char *argv[])
{
	struct mtasts_tlsrpt_result	 r;
	struct mtasts_ctx		*ctx;
	int				 i, n, rc;

	if (argc != 10)
		return 2;
	memset(&r, 0, sizeof(r));
	r.domain = argv[2];
	r.policy_type = strcmp(argv[3], "sts") == 0 ? MTASTS_POLICY_STS :
	    strcmp(argv[3], "tlsa") == 0 ? MTASTS_POLICY_TLSA :
	    MTASTS_POLICY_NONE_FOUND;
	for (i = 0; i <= MTASTS_RESULT_STS_WEBPKI_INVALID; i++)
		if (strcmp(mtasts_result_name(i), argv[4]) == 0)
			r.result = i;
	r.mx_host = opt(argv[5]);
	r.receiving_ip = opt(argv[6]);
	r.sending_ip = opt(argv[7]);
	r.detail = opt(argv[8]);
	n = atoi(argv[9]);
	if (mtasts_ctx_open(argv[1], NULL, NULL, MTASTS_LOG_ERR, &ctx,
	    NULL) != MTASTS_OK)
		return 2;
	for (i = 0; i < n; i++)
		if ((rc = mtasts_tlsrpt_record(ctx, &r)) != MTASTS_OK) {
			fprintf(stderr, "record: %s\n", mtasts_strerror(rc));
			return 1;
		}
	mtasts_ctx_close(ctx);
	return 0;
}
