/*
 * https.h - what every HTTPS request of ours gets, whoever makes it: the
 * policy fetch (fetch.c) and the report POST (post.c).
 *
 * https_setopt() puts the hardening on a libcurl easy handle: the URL,
 * HTTPS only and no redirects, curl resolving nothing (the addresses our
 * resolver found go in through resolve, on a share object of the
 * request's own, so nothing outlives it), no connection reuse, no
 * signals, TLS 1.2 or later with the peer and its name verified against
 * the configured CA file and folder (only those: no built-in CA folder
 * beside a file, see https.c), the configured proxy only (never the
 * environment's), the connect timeout of the configuration and the
 * total timeout given, the user agent given. MTASTS_OK, or
 * MTASTS_ENOMEM when libcurl refused an option.
 *
 * https_resolve() builds resolve: "HOST:PORT:ADDR,[V6ADDR],..." for
 * CURLOPT_RESOLVE from n addresses (IPv6 ones are bracketed).
 */
#ifndef MTASTS_HTTPS_H
#define MTASTS_HTTPS_H

#include <curl/curl.h>

#include "conf/config.h"

int	https_setopt(CURL *e, const struct config *conf, const char *url,
	    CURLSH *share, struct curl_slist *resolve, long timeout_ms,
	    const char *ua);
int	https_resolve(const char *host, const char *port, char *const *addrs,
	    size_t n, struct curl_slist **out);

#endif
