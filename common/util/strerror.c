/*
 * strerror.c - names for error codes, modes, sources and verdicts.
 */
#include <string.h>

#include "mtasts.h"

const char *
mtasts_strerror(int err)
{
	switch (err) {
	case MTASTS_OK:		return "success";
	case MTASTS_ENOMEM:	return "out of memory";
	case MTASTS_EINVAL:	return "invalid argument";
	case MTASTS_ESYNTAX:	return "syntax error";
	case MTASTS_ENOTFOUND:	return "not found";
	case MTASTS_EDNS:	return "DNS lookup failed";
	case MTASTS_EFETCH:	return "policy fetch failed";
	case MTASTS_ESTORE:	return "cache database error";
	case MTASTS_ECONFIG:	return "configuration error";
	case MTASTS_EIO:	return "input/output error";
	case MTASTS_ETIMEOUT:	return "timed out";
	case MTASTS_ETOOBIG:	return "input too large";
	case MTASTS_ERANGE:	return "number out of range";
	}
	return "unknown error";
}

const char *
mtasts_mode_name(enum mtasts_mode mode)
{
	switch (mode) {
	case MTASTS_MODE_NONE:		return "none";
	case MTASTS_MODE_TESTING:	return "testing";
	case MTASTS_MODE_ENFORCE:	return "enforce";
	}
	return "unknown";
}

int
mtasts_mode_parse(const char *s, enum mtasts_mode *mode)
{
	if (strcmp(s, "none") == 0)
		*mode = MTASTS_MODE_NONE;
	else if (strcmp(s, "testing") == 0)
		*mode = MTASTS_MODE_TESTING;
	else if (strcmp(s, "enforce") == 0)
		*mode = MTASTS_MODE_ENFORCE;
	else
		return MTASTS_ESYNTAX;
	return MTASTS_OK;
}

const char *
mtasts_source_name(enum mtasts_source src)
{
	switch (src) {
	case MTASTS_SRC_NONE:		return "none";
	case MTASTS_SRC_CACHE:		return "cache";
	case MTASTS_SRC_NETWORK:	return "network";
	case MTASTS_SRC_STALE:		return "stale cache";
	case MTASTS_SRC_OVERRIDE:	return "override";
	}
	return "unknown";
}

const char *
mtasts_verdict_name(enum mtasts_verdict v)
{
	switch (v) {
	case MTASTS_MX_PLAIN:		return "plain";
	case MTASTS_MX_REQUIRE_TLS:	return "require-tls";
	case MTASTS_MX_REFUSE:		return "refuse";
	case MTASTS_MX_REPORT:		return "report";
	case MTASTS_MX_DANE:		return "dane";
	}
	return "unknown";
}
