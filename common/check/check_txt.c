/*
 * check_txt.c - step 1 of mtasts_check(): the _mta-sts TXT record is
 * there, exactly one record starts with v=STSv1, and it parses (RFC 8461
 * section 3.1). Sets c->txt_ok for the advice step.
 */
#include <stdio.h>
#include <string.h>

#include "mtasts.h"
#include "util/strv.h"
#include "check/check_int.h"

void
check_txt(struct check *c)
{
	struct mtasts_sts_record	rec;
	struct mtasts_diag		diag;
	struct check_text		ev;
	char				name[CHECK_HOST_MAX];
	char				fix[CHECK_TEXT];
	char				**txt = NULL;
	size_t				n = 0, i, nsts = 0;
	int				rc;

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(name, sizeof(name), "_mta-sts.%s", c->domain);
	(void)snprintf(fix, sizeof(fix), "publish one TXT record "
	    "\"v=STSv1; id=YYYYMMDDhhmmss\" at %s", name);
	rc = c->net->dns_txt(c->dns, name, &txt, &n);
	if (rc == MTASTS_ENOTFOUND) {
		check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, name, NULL, fix, "no TXT record "
		    "at %s: senders will not look for a policy", name);
		return;
	}
	if (rc != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, name, NULL, "make the domain's "
		    "name servers answer TXT queries", "DNS lookup of %s "
		    "failed: %s", name, mtasts_strerror(rc));
		return;
	}
	for (i = 0; i < n; i++) {
		check_text_add(&ev, "%sTXT \"%s\"", i ? "\n" : "", txt[i]);
		if (strncmp(txt[i], "v=STSv1", 7) == 0)
			nsts++;
	}
	rc = mtasts_sts_record_parse((const char *const *)txt, n, &rec,
	    &diag);
	strv_free(txt, n);
	if (rc == MTASTS_OK) {
		c->txt_ok = 1;
		check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, name, ev.s, NULL, "one STS "
		    "record, id %s", rec.id);
		for (i = 0; i < diag.nwarn; i++)
			check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_WARN,
			    MTASTS_RESULT_SUCCESS, name, ev.s, "remove what "
			    "the warning names", "%s", diag.warn[i].msg);
		return;
	}
	if (rc == MTASTS_ENOMEM)
		c->err = rc;
	if (nsts > 1)
		(void)snprintf(fix, sizeof(fix), "delete all but one "
		    "v=STSv1 record at %s", name);
	else if (nsts == 1)
		(void)snprintf(fix, sizeof(fix), "correct the record: "
		    "\"v=STSv1; id=ID\" where ID is 1-32 letters and digits");
	check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_FAIL,
	    MTASTS_RESULT_SUCCESS, name, ev.s, fix, "%s%s",
	    nsts > 1 ? "more than one STS record: " : "",
	    diag.error.msg);
}
