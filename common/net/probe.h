/*
 * probe.h - TLS probes of a peer, as a sender sees it: the SMTP STARTTLS
 * probe of one MX address (RFC 3207, then the checks of RFC 8461 section
 * 4.2), and a TLS connect to an HTTPS host that reports its certificate.
 *
 * A probe connects to one IP address, so the caller chooses which (IPv4
 * or IPv6) and nothing is resolved here. TLS is 1.2 or later, SNI is sent,
 * the chain is checked against the configured CA bundle (conf->ca_file,
 * conf->ca_path, or the system's) and the certificate must name the host
 * (RFC 6125, no partial wildcards). Every verification problem is
 * collected, not only the first, and mapped to an RFC 8460 result type.
 *
 * Every wait (connect, each read and write, the handshake) is bounded by
 * one deadline per probe: non-blocking sockets and poll(2). SIGPIPE is
 * held blocked while a probe runs and a pending one is discarded.
 */
#ifndef MTASTS_PROBE_H
#define MTASTS_PROBE_H

#include <stddef.h>
#include <time.h>

#include "mtasts.h"
#include "conf/config.h"

/* How far a probe got; PROBE_DONE means every check passed. */
enum probe_stage {
	PROBE_CONNECT = 0,	/* TCP connect */
	PROBE_GREETING,		/* the 220 greeting (SMTP) */
	PROBE_EHLO,		/* EHLO and its reply (SMTP) */
	PROBE_STARTTLS,		/* STARTTLS offered, accepted (SMTP) */
	PROBE_HANDSHAKE,	/* the TLS handshake */
	PROBE_VERIFY,		/* the certificate checks */
	PROBE_DONE		/* all passed */
};

/* Certificate problems, one bit each; several may be set. */
#define PROBE_CERT_UNTRUSTED	0x01	/* no chain to a trusted root */
#define PROBE_CERT_SELFSIGNED	0x02	/* self-signed (also UNTRUSTED) */
#define PROBE_CERT_EXPIRED	0x04	/* past its notAfter */
#define PROBE_CERT_NOTYET	0x08	/* before its notBefore */
#define PROBE_CERT_NAME		0x10	/* does not name the host */
#define PROBE_CERT_OTHER	0x20	/* any other verification error */

struct probe_cert {
	char	 subject[256];	/* RFC 2253 form */
	char	 issuer[256];	/* RFC 2253 form */
	char	 names[512];	/* subjectAltName DNS names, ", " between */
	time_t	 not_before;
	time_t	 not_after;
};

struct probe_result {
	enum probe_stage	 stage;		/* where it stopped */
	enum mtasts_result	 result;	/* RFC 8460 result type: success
						   at PROBE_DONE; a failure
						   type from PROBE_STARTTLS
						   on; validation-failure
						   before (nothing a TLS-RPT
						   report would name) */
	int			 timeout;	/* the deadline stopped it */
	char			 greeting[128];	/* first greeting line (SMTP) */
	char			 protocol[16];	/* "TLSv1.3"; "" before TLS */
	char			 cipher[64];	/* negotiated cipher suite */
	unsigned		 certflags;	/* PROBE_CERT_* */
	long			 verify_err;	/* first X509_V_ERR_*, or 0 */
	int			 have_cert;	/* cert below is filled in */
	struct probe_cert	 cert;		/* the peer's certificate */
	char			 err[MTASTS_DIAG_MSG]; /* why it stopped, one
						   sentence; "" at DONE */
};

/*
 * The STARTTLS probe of MX host (a normalised name) at address addr (an
 * IPv4 or IPv6 literal) and port: greeting, EHLO helo, STARTTLS, TLS
 * handshake, certificate checks for host, then QUIT. timeout_ms bounds
 * the whole probe. Returns MTASTS_OK when the probe ran, whatever it
 * found (res says), or MTASTS_EINVAL / MTASTS_ENOMEM.
 */
int	probe_smtp(const struct config *conf, const char *addr,
	    unsigned port, const char *host, const char *helo,
	    unsigned timeout_ms, struct probe_result *res);

/*
 * A TLS connect to HTTPS host at addr and port (443) with the same
 * checks and reporting, for the policy host's certificate. Nothing is
 * sent over the session. Returns as probe_smtp().
 */
int	probe_https(const struct config *conf, const char *addr,
	    unsigned port, const char *host, unsigned timeout_ms,
	    struct probe_result *res);

/*
 * SMTP replies (RFC 5321 section 4.2), fed one line at a time without
 * the line end: "250-first", ..., "250 last". Exposed for tests.
 */
struct probe_reply {
	unsigned	 code;		/* the 3-digit code; 0 before a line */
	unsigned	 nlines;	/* lines seen */
	int		 done;		/* the last line was seen */
	int		 starttls;	/* a line's first word is STARTTLS
					   (an EHLO keyword) */
	char		 text[128];	/* the first line, cut */
};

#define PROBE_REPLY_LINES_MAX	256	/* more lines: a syntax error */

void	probe_reply_init(struct probe_reply *r);
/* 1 when the reply is complete, 0 when more lines follow,
 * MTASTS_ESYNTAX when line is not a reply line of this reply. */
int	probe_reply_line(struct probe_reply *r, const char *line,
	    size_t len);

/* "TLS handshake", ...: the stage in words, for messages. */
const char *probe_stage_name(enum probe_stage stage);

#endif
