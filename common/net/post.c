/*
 * post.c - deliver a report to an https: rua by POST (RFC 8460 section
 * 5.4): Content-Type application/tlsrpt+gzip, success is 200 or 201.
 *
 * As the policy fetch (fetch.c) does, curl is handed the addresses our
 * own resolver found (CURLOPT_RESOLVE with a share object of its own,
 * so nothing outlives the call), the environment's proxy is ignored, and
 * the peer certificate and name are verified. Synchronous: "mtasts
 * report send" is a batch job.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mtasts.h"
#include "util/strv.h"
#include "net/https.h"
#include "net/post.h"

#define POST_UA		"mtasts/0.1 (TLS-RPT)"

struct post_url {
	char	*host;		/* without brackets */
	char	*port;		/* always set */
};

static int	post_parse_url(const char *, struct post_url *);
static int	post_resolve(const struct net_ops *, struct dns *,
		    const struct post_url *,
		    struct curl_slist **, char *, size_t);
static size_t	post_discard(char *, size_t, size_t, void *);

static size_t
post_discard(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static int
post_parse_url(const char *url, struct post_url *u)
{
	CURLU	*h;
	char	*scheme = NULL;
	int	 rc = MTASTS_EINVAL;

	memset(u, 0, sizeof(*u));
	if ((h = curl_url()) == NULL)
		return MTASTS_ENOMEM;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcmp(scheme, "https") != 0 ||
	    curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		goto done;
	if (u->host[0] == '[') {		/* an IPv6 literal */
		memmove(u->host, u->host + 1, strlen(u->host));
		u->host[strcspn(u->host, "]")] = '\0';
	}
	rc = MTASTS_OK;
done:
	curl_free(scheme);
	curl_url_cleanup(h);
	return rc;
}

/* "host:port:addr,[v6],..." for CURLOPT_RESOLVE. */
static int
post_resolve(const struct net_ops *net, struct dns *dns,
    const struct post_url *u, struct curl_slist **out, char *err,
    size_t errsize)
{
	unsigned char	 buf[16];
	char		**addrs = NULL;
	size_t		 n = 0;
	int		 rc;

	*out = NULL;
	if (inet_pton(AF_INET, u->host, buf) == 1 ||
	    inet_pton(AF_INET6, u->host, buf) == 1)
		return MTASTS_OK;
	if (net == NULL || dns == NULL)
		rc = MTASTS_EDNS;
	else
		rc = net->dns_addrs(dns, u->host, &addrs, &n);
	if (rc != MTASTS_OK) {
		snprintf(err, errsize, "cannot resolve %s: %s", u->host,
		    mtasts_strerror(rc));
		return MTASTS_EFETCH;
	}
	rc = https_resolve(u->host, u->port, addrs, n, out);
	strv_free(addrs, n);
	return rc;
}

int
post_https(const struct config *conf, const struct logger *lg,
    const struct net_ops *net, struct dns *dns, const char *url,
    const void *body, size_t len, const char *ctype, char *err,
    size_t errsize)
{
	struct post_url		 u;
	struct curl_slist	*resolve = NULL, *headers = NULL;
	char			 ebuf[CURL_ERROR_SIZE] = "", hdr[128];
	CURLSH			*share = NULL;
	CURL			*e = NULL;
	CURLcode		 cc;
	long			 status = 0;
	int			 rc, bad = 0;

	err[0] = '\0';
	if ((rc = post_parse_url(url, &u)) != MTASTS_OK) {
		snprintf(err, errsize, "not an https URL with a host");
		return rc;
	}
	if ((rc = post_resolve(net, dns, &u, &resolve, err, errsize)) !=
	    MTASTS_OK)
		goto done;
	snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
	rc = MTASTS_ENOMEM;
	if ((headers = curl_slist_append(NULL, hdr)) == NULL ||
	    (e = curl_easy_init()) == NULL ||
	    (share = curl_share_init()) == NULL ||
	    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
	    CURLSHE_OK)
		goto done;
	bad = https_setopt(e, conf, url, share, resolve,
	    4L * (long)conf->fetch_timeout, POST_UA) != MTASTS_OK;
#define SET(opt, val)	bad |= curl_easy_setopt(e, opt, val) != CURLE_OK
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_WRITEFUNCTION, post_discard);
	SET(CURLOPT_ERRORBUFFER, ebuf);
#undef SET
	if (bad)
		goto done;
	cc = curl_easy_perform(e);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		snprintf(err, errsize, "%s", ebuf[0] ? ebuf :
		    curl_easy_strerror(cc));
		rc = MTASTS_EFETCH;
	} else if (status != 200 && status != 201) {
		snprintf(err, errsize, "HTTP status %ld", status);
		rc = MTASTS_EFETCH;
	} else
		rc = MTASTS_OK;
	log_debug(lg, "post %s: %s", url, rc == MTASTS_OK ? "done" : err);
done:
	if (e != NULL)
		curl_easy_cleanup(e);
	if (share != NULL)
		curl_share_cleanup(share);
	curl_slist_free_all(resolve);
	curl_slist_free_all(headers);
	curl_free(u.host);
	curl_free(u.port);
	return rc;
}
