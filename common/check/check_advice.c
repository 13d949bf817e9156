/*
 * check_advice.c - step 8 of mtasts_check(): what the rest found, turned
 * into advice: the mode, a max_age that suits it, the order of updates
 * (file before TXT id), and the patterns a hosted provider publishes
 * when the MX records show one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"
#include "check/check_int.h"

#define CHECK_DAY		86400
#define CHECK_WEEK		(7 * 86400)


/* Hosted providers and the patterns they publish for their MX hosts. */
struct check_provider {
	const char	*name;
	const char	*patterns[3];	/* NULL-terminated */
};

static const struct check_provider providers[] = {
	{ "Google Workspace", { "aspmx.l.google.com",
	    "*.aspmx.l.google.com", NULL } },
	{ "Google Workspace (legacy googlemail.com)",
	    { "*.googlemail.com", NULL, NULL } },
	{ "Google Workspace (smtp.google.com)",
	    { "smtp.google.com", NULL, NULL } },
	{ "Gmail", { "gmail-smtp-in.l.google.com",
	    "*.gmail-smtp-in.l.google.com", NULL } },
	{ "Microsoft 365", { "*.mail.protection.outlook.com", NULL, NULL } },
};

static void	check_advice_max_age(struct check *);
static void	check_advice_providers(struct check *);

/* ---- 8. advice ---- */

void
check_advice(struct check *c)
{
	const struct mtasts_policy	*p = c->policy;
	char				 fix[CHECK_TEXT];

	if (p != NULL && p->mode == MTASTS_MODE_TESTING)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "once reports are "
		    "clean, set \"mode: enforce\" and change the TXT id",
		    "mode testing: senders report failures but still "
		    "deliver; move to enforce after some weeks of clean "
		    "TLS-RPT reports");
	else if (p != NULL && p->mode == MTASTS_MODE_NONE)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "start with "
		    "\"mode: testing\" unless the policy is being withdrawn",
		    "mode none: senders drop the policy; it is meant for "
		    "withdrawing MTA-STS");
	if (p != NULL)
		check_advice_max_age(c);
	if (p != NULL || c->txt_ok) {
		(void)snprintf(fix, sizeof(fix), "publish the new policy "
		    "file first, then change the id at _mta-sts.%s",
		    c->domain);
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, fix, "when the "
		    "policy changes, update the file before the TXT id: "
		    "senders fetch when they see a new id and keep what "
		    "they get until max_age runs out");
	}
	check_advice_providers(c);
}

/* A day while testing, a week or more under enforce. */
static void
check_advice_max_age(struct check *c)
{
	const struct mtasts_policy	*p = c->policy;

	if (p->mode == MTASTS_MODE_ENFORCE && p->max_age < CHECK_WEEK)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "set \"max_age: "
		    "604800\" or more (weeks; RFC 8461 section 3.2)",
		    "max_age %lu is short for enforce: senders forget the "
		    "policy after that long and an attacker who blocks the "
		    "fetch then downgrades them", (unsigned long)p->max_age);
	else if (p->mode == MTASTS_MODE_TESTING && p->max_age > CHECK_DAY)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "set \"max_age: "
		    "86400\" while testing",
		    "max_age %lu while testing: a day (86400) lets a mistake "
		    "expire quickly", (unsigned long)p->max_age);
}

/* Only when the MX records show the provider. */
static void
check_advice_providers(struct check *c)
{
	const struct check_provider	*pv;
	struct check_text		 ev;
	char				 fix[CHECK_TEXT], pats[512];
	size_t				 i, j, k, seen, have;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
		pv = &providers[i];
		memset(&ev, 0, sizeof(ev));
		for (seen = 0, j = 0; j < c->nmx; j++)
			for (k = 0; pv->patterns[k] != NULL; k++)
				if (mtasts_mx_match(c->mx[j].host,
				    pv->patterns[k]) == 1) {
					check_text_add(&ev, "%sMX %s", seen++ ? "\n"
					    : "", c->mx[j].host);
					break;
				}
		if (seen == 0)
			continue;
		memset(pats, 0, sizeof(pats));
		for (have = 0, k = 0; pv->patterns[k] != NULL; k++) {
			(void)snprintf(pats + strlen(pats), sizeof(pats) -
			    strlen(pats), "%smx: %s", k ? ", " : "",
			    pv->patterns[k]);
			for (j = 0; c->policy != NULL && j < c->policy->nmx;
			    j++)
				if (strcasecmp(c->policy->mx[j],
				    pv->patterns[k]) == 0) {
					have++;
					break;
				}
		}
		(void)snprintf(fix, sizeof(fix), "put these lines in the "
		    "policy, then change the TXT id: %s", pats);
		check_emit(c, MTASTS_CHECK_ADVICE, have == k ?
		    MTASTS_CHECK_PASS : MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->domain, ev.s, fix,
		    "the MX records are %s's: %s the patterns it publishes "
		    "(%s)", pv->name, have == k ? "the policy lists" :
		    "list", pats);
	}
}
