/*
 * https.c - the options every HTTPS request of ours gets (see https.h).
 *
 * One copy, so that the policy fetch and the report POST cannot drift
 * apart (they had: one kept libcurl's built-in CA folder, the other did
 * not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "net/https.h"

int
https_setopt(CURL *e, const struct config *conf, const char *url,
    CURLSH *share, struct curl_slist *resolve, long timeout_ms,
    const char *ua)
{
	int	bad = 0;

#define SET(opt, val)	bad |= curl_easy_setopt(e, opt, val) != CURLE_OK
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SHARE, share);
	if (resolve != NULL)
		SET(CURLOPT_RESOLVE, resolve);
	SET(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)conf->connect_timeout);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/*
	 * A CA file alone (the configured one, else the bundle built into
	 * libcurl): Debian's libcurl also has a built-in CA folder, and while
	 * one is set curl keeps no CA store cache and re-reads the bundle
	 * for every fetch (measured: 12% of a cold fetch's CPU).
	 */
	if (conf->ca_file != NULL)
		SET(CURLOPT_CAINFO, conf->ca_file);
	SET(CURLOPT_CAPATH, conf->ca_path);
	/* "" disables proxies, the environment's too. */
	SET(CURLOPT_PROXY, conf->proxy != NULL ? conf->proxy : "");
	SET(CURLOPT_USERAGENT, ua);
#undef SET
	return bad ? MTASTS_ENOMEM : MTASTS_OK;
}

int
https_resolve(const char *host, const char *port, char *const *addrs,
    size_t n, struct curl_slist **out)
{
	char	*s, *p;
	size_t	 i, len;

	len = strlen(host) + strlen(port) + 4;
	for (i = 0; i < n; i++)
		len += strlen(addrs[i]) + 3;
	if ((s = malloc(len)) == NULL)
		return MTASTS_ENOMEM;
	p = s + snprintf(s, len, "%s:%s:", host, port);
	for (i = 0; i < n; i++)
		p += snprintf(p, len - (size_t)(p - s),
		    strchr(addrs[i], ':') ? "%s[%s]" : "%s%s",
		    i ? "," : "", addrs[i]);
	*out = curl_slist_append(NULL, s);
	free(s);
	return *out == NULL ? MTASTS_ENOMEM : MTASTS_OK;
}
