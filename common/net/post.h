/*
 * post.h - HTTPS POST of a TLS-RPT report to an https: rua (RFC 8460
 * section 5.4), on libcurl.
 */
#ifndef MTASTS_POST_H
#define MTASTS_POST_H

#include <stddef.h>

#include "util/log.h"
#include "conf/config.h"
#include "net/net.h"

/*
 * POSTs len bytes of body with Content-Type ctype to url. The host is
 * resolved through dns, a handle of the network net (curl resolves
 * nothing; an IP literal needs no lookup). HTTPS only, certificate and name verified (ca_file/ca_path of
 * the configuration), no redirects, the configured proxy only, connect
 * timeout connect_timeout, total timeout 4 x fetch_timeout.
 * MTASTS_OK for 200 or 201; MTASTS_EINVAL for a URL that is not https
 * with a host; MTASTS_EFETCH otherwise, err saying why.
 */
int	post_https(const struct config *conf, const struct logger *lg,
	    const struct net_ops *net, struct dns *dns, const char *url,
	    const void *body, size_t len, const char *ctype, char *err,
	    size_t errsize);

#endif
