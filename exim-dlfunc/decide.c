/*
 * decide.c - what Exim must do for a domain and an MX host under the
 * MTA-STS policy that rules the domain now.
 *
 * Every answer is data: Exim fails OPEN when an expansion fails inside
 * hosts_require_tls or an event, so refusing is "*" or a non-empty
 * string, never an error.
 *
 * Fail closed: when the router said enforce (or could not read the
 * configuration: "error") and the transport process cannot get the
 * policy now (configuration, store and network all failing), every MX is
 * refused and TLS required; the message waits in the queue. log_only
 * turns each refusal into a "would have refused" line. A domain the
 * router saw as testing or none is never refused. Whether an MX host
 * may be used, and the TLS-RPT result when not, is the core's verdict
 * (mtasts_mx_verdict()); this file only wires it to Exim.
 */
#include <string.h>

#include "exim.h"

static enum mtasts_mode	 decide_routed(const char *, int *);

const char *
decide_mode(const char *conf, const char *domain)
{
	const struct mtasts_answer	*ans;
	int				 rc;

	rc = proc_answer(conf, domain, &ans);
	if (rc == MTASTS_EINVAL)
		return "none";
	if (rc != MTASTS_OK) {
		proc_log(XLOG_MAIN, "%s: cannot decide the policy (%s); "
		    "failing closed", domain, proc_error());
		return "error";
	}
	return mtasts_mode_name(ans->mode);
}

const char *
decide_tls(const char *conf, const char *domain, const char *routed)
{
	struct decision	 d;

	decide_policy(conf, domain, routed, &d);
	if (d.internal)
		return d.log_only ? "" : "*";
	return d.mode == MTASTS_MODE_ENFORCE && !d.log_only ? "*" : "";
}

const char *
decide_connect(const char *conf, const char *domain, const char *mx,
    const char *addr, const char *routed, int dane)
{
	struct decision			 d;
	struct mtasts_mx_verdict	 v;

	decide_policy(conf, domain, routed, &d);
	if (d.internal) {
		proc_log(XLOG_MAIN, "%s MX host %s [%s]: %s: no policy "
		    "could be had for a domain routed as %s (%s)",
		    d.log_only ? "would have refused" : "refused", mx, addr,
		    domain, routed,
		    d.ans != NULL ? d.ans->why : proc_error());
		return d.log_only ? NULL : "mtasts: policy unavailable";
	}
	if (d.ans == NULL || mtasts_mx_verdict(d.ans, mx, dane, &v) !=
	    MTASTS_OK)
		return NULL;	/* not internal: nothing was routed enforce */
	switch (v.verdict) {
	case MTASTS_MX_PLAIN:
	case MTASTS_MX_REQUIRE_TLS:
		return NULL;
	case MTASTS_MX_DANE:
		proc_log(XLOG_MAIN, "%s MX host %s [%s]: DANE TLSA found; "
		    "DANE takes precedence over the %s policy", domain, mx,
		    addr, mtasts_mode_name(d.mode));
		return NULL;
	case MTASTS_MX_REPORT:
		if (v.match == 0)
			proc_log(XLOG_MAIN, "testing: %s MX host %s [%s] "
			    "matches none of the policy's mx patterns (policy "
			    "id %s); connecting anyway", domain, mx, addr,
			    d.ans->id);
		return NULL;
	case MTASTS_MX_REFUSE:
		break;
	}
	proc_log(XLOG_MAIN, "%s MX host %s [%s]: %s: matches none of the "
	    "enforce policy's mx patterns (policy id %s)%s",
	    v.refuse ? "refused" : "would have refused", mx, addr, domain,
	    d.ans->id, v.refuse ? "" : "; log_only, connecting");
	if (!v.refuse)
		return NULL;	/* recorded at tcp:close */
	report_tlsrpt_record(domain, &d, mx, addr, v.result, v.detail);
	return "mtasts: MX host not in the policy";
}

void
decide_policy(const char *conf, const char *domain, const char *routed,
    struct decision *d)
{
	const struct mtasts_answer	*ans;
	enum mtasts_mode		 rmode;
	int				 rerror;

	memset(d, 0, sizeof(*d));
	rmode = decide_routed(routed, &rerror);
	if (proc_answer(conf, domain, &ans) != MTASTS_OK) {
		d->internal = rmode == MTASTS_MODE_ENFORCE || rerror;
		d->mode = d->internal ? MTASTS_MODE_ENFORCE : MTASTS_MODE_NONE;
		return;
	}
	d->ans = ans;
	d->mode = ans->mode;
	d->log_only = ans->log_only;
	if (rmode == MTASTS_MODE_ENFORCE && ans->policy == NULL &&
	    ans->temperror) {
		/* enforce when routed, and now a temporary failure */
		d->internal = 1;
		d->mode = MTASTS_MODE_ENFORCE;
	}
}

/* The router's mode from $address_data; *error when it said "error". */
static enum mtasts_mode
decide_routed(const char *routed, int *error)
{
	enum mtasts_mode	 mode;

	*error = routed != NULL && strcmp(routed, "error") == 0;
	if (routed == NULL || mtasts_mode_parse(routed, &mode) != MTASTS_OK)
		return MTASTS_MODE_NONE;
	return mode;
}
