/*
 * metrics_record.c - resolves a domain through the engine (the lab's
 * DNS and HTTPS) and records results under that answer, as an adapter
 * does after its sessions, for tests/integration/metrics.sh:
 *
 *	metrics_record CONF DOMAIN RESULT COUNT
 *
 * RESULT is a name of mtasts_result_name() ("success", ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

int
main(int argc, char *argv[])
{
	struct mtasts_tlsrpt_result	 r;
	struct mtasts_answer		 ans;
	struct mtasts_ctx		*ctx;
	int				 i, n, rc = 0;

	if (argc != 5)
		return 2;
	if (mtasts_ctx_open(argv[1], NULL, NULL, MTASTS_LOG_ERR, &ctx,
	    NULL) != MTASTS_OK)
		return 2;
	if (mtasts_resolve(ctx, argv[2], &ans) != MTASTS_OK) {
		mtasts_ctx_close(ctx);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.domain = argv[2];
	r.policy_type = ans.policy != NULL ? MTASTS_POLICY_STS :
	    MTASTS_POLICY_NONE_FOUND;
	for (i = 0; i <= MTASTS_RESULT_STS_WEBPKI_INVALID; i++)
		if (strcmp(mtasts_result_name(i), argv[3]) == 0)
			r.result = i;
	r.mx_host = "good.mx.test";
	r.answer = &ans;
	n = atoi(argv[4]);
	for (i = 0; i < n && rc == 0; i++)
		if (mtasts_tlsrpt_record(ctx, &r) != MTASTS_OK)
			rc = 1;
	mtasts_answer_clear(&ans);
	mtasts_ctx_close(ctx);
	return rc;
}
