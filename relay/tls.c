/*
 * tls.c - OpenSSL for the relay's sessions with MX hosts: one client
 * context (trusted CAs from -C or the system), one SSL per session with
 * SNI and the RFC 6125 host name check ('*' only as the whole left-most
 * label), DANE (RFC 7672) when the caller has a validated TLSA RRset,
 * and what the peer's certificate says when it did not verify.
 *
 * Contract: the handshake never fails over verification (verify mode
 * none); OpenSSL still verifies the chain, the name and DANE, and
 * tls_outcome() reads the result, so that the caller decides (enforce
 * refuses, testing delivers and reports) and names the exact failure.
 * The classification of a failed certificate is the core's
 * (mtasts_cert_result()); this file only gathers the facts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "relay.h"

static char	*tls_names(X509 *);
static char	*tls_dn(const X509_NAME *);

int
tls_init(const char *cafile)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((cafile != NULL ? SSL_CTX_load_verify_locations(ctx, cafile,
	    NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1 ||
	    SSL_CTX_dane_enable(ctx) <= 0) {
		SSL_CTX_free(ctx);
		return -1;
	}
	relay.ssl = ctx;
	return 0;
}

void
tls_free(void)
{
	SSL_CTX_free(relay.ssl);
	relay.ssl = NULL;
}

/* A session with host; TLS 1.2 or later when min12. */
SSL *
tls_client(const char *host, int min12)
{
	SSL	*ssl;

	if ((ssl = SSL_new(relay.ssl)) == NULL)
		return NULL;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
	    SSL_set1_host(ssl, host) != 1 ||
	    (min12 && SSL_set_min_proto_version(ssl, TLS1_2_VERSION) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/*
 * Turns DANE on for ssl with the usable records (DANE-TA(2) and
 * DANE-EE(3); RFC 7672 section 3.1.3 makes 0 and 1 unusable for SMTP).
 * A DANE-EE(3) match binds the key itself: no name check (RFC 7672
 * section 3.1.1, RFC 7671 section 5.1); DANE-TA(2) still checks the
 * name. Returns the number of usable records, -1 on error.
 */
int
tls_dane(SSL *ssl, const char *host, const struct mtasts_tlsa *recs,
    size_t n)
{
	size_t	i;
	int	usable = 0, r;

	if (SSL_dane_enable(ssl, host) <= 0)
		return -1;
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < n; i++) {
		if (recs[i].usage != 2 && recs[i].usage != 3)
			continue;
		r = SSL_dane_tlsa_add(ssl, recs[i].usage, recs[i].selector,
		    recs[i].mtype, recs[i].data, recs[i].len);
		if (r > 0)
			usable++;
		else if (r < 0)
			return -1;
	}
	return usable;
}

/*
 * What the handshake on ssl established. For an unverified certificate
 * tc is filled in and why says what OpenSSL found.
 */
enum mtasts_tls
tls_outcome(SSL *ssl, struct tls_cert *tc, char *why, size_t len)
{
	X509		*peer;
	const ASN1_TIME	*na;
	struct tm	 tm;
	long		 vr;

	memset(tc, 0, sizeof(*tc));
	vr = SSL_get_verify_result(ssl);
	peer = SSL_get1_peer_certificate(ssl);
	snprintf(why, len, "%s", peer == NULL ? "no certificate" :
	    X509_verify_cert_error_string(vr));
	if (peer != NULL && vr == X509_V_OK) {
		X509_free(peer);
		return MTASTS_TLS_VERIFIED;
	}
	if (peer == NULL)
		return MTASTS_TLS_UNVERIFIED;
	tc->facts.present = 1;
	na = X509_get0_notAfter(peer);
	if (na != NULL && ASN1_TIME_to_tm(na, &tm) == 1)
		tc->facts.not_after = timegm(&tm);
	tc->names = tls_names(peer);
	tc->issuer = tls_dn(X509_get_issuer_name(peer));
	tc->subject = tls_dn(X509_get_subject_name(peer));
	tc->facts.names = tc->names;
	tc->facts.issuer = tc->issuer;
	tc->facts.subject = tc->subject;
	X509_free(peer);
	return MTASTS_TLS_UNVERIFIED;
}

void
tls_cert_clear(struct tls_cert *tc)
{
	free(tc->names);
	free(tc->issuer);
	free(tc->subject);
	memset(tc, 0, sizeof(*tc));
}

/* subjectAltName DNS names, one per line; the CN when there are none. */
static char *
tls_names(X509 *x)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	char			 buf[2048] = "", cn[256];
	size_t			 o = 0;
	int			 i, n;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0;
	for (i = 0; i < n; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s",
		    o ? "\n" : "", ASN1_STRING_length(g->d.dNSName),
		    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		if (o >= sizeof(buf))
			break;
	}
	GENERAL_NAMES_free(gens);
	if (o == 0 && X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0)
		snprintf(buf, sizeof(buf), "%s", cn);
	return strdup(buf);
}

static char *
tls_dn(const X509_NAME *name)
{
	char	buf[512];

	if (X509_NAME_oneline(name, buf, sizeof(buf)) == NULL)
		return NULL;
	return strdup(buf);
}
