/*
 * mtasts.h - MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460) for MTAs.
 *
 * This is the one public header of libmtasts. Adapters and the CLI use
 * nothing else. The library never exits, never prints and never aborts:
 * every function returns an error code (0 or a negative MTASTS_E* value,
 * see mtasts_strerror()) and the engine logs through a callback that the
 * caller installs.
 *
 * Offline use (no context needed):
 *	mtasts_policy_parse()      a policy file (RFC 8461 section 3.2)
 *	mtasts_sts_record_parse()  the TXT RRset of _mta-sts.<domain> (3.1)
 *	mtasts_tlsrpt_record_parse() the TXT RRset of _smtp._tls.<domain>
 *	mtasts_mx_match()          an MX host against a policy pattern (4.1)
 *
 * Online use, the recipe:
 *	1. mtasts_ctx_open() with a config file, or NULL for the default;
 *	2. mtasts_resolve() for a recipient domain: the policy that rules now;
 *	3. mtasts_mx_verdict() for each MX host before connecting: may it be
 *	   used, and why not (the TLS-RPT result and its detail);
 *	4. after each session, mtasts_session_verdict() says what it comes
 *	   to, and mtasts_tlsrpt_record() records it for the daily report;
 *	5. mtasts_answer_clear(), then mtasts_ctx_close() at the end.
 * An event loop uses mtasts_resolve_async(), watches mtasts_async_fd()
 * for readability and calls mtasts_async_process() when it is readable.
 *
 * Rules that hold for every function below:
 *  - Asynchronous callbacks run exactly once: from
 *    mtasts_async_process(), from the call that started the work when it
 *    could not start or the cache answered at once, or from
 *    mtasts_ctx_close() with an error for work still in flight.
 *  - An asynchronous callback owns what it is given: it keeps it or
 *    frees it (an answer with mtasts_answer_clear(), host and address
 *    lists with mtasts_mx_free(), TLSA records with mtasts_tlsa_free()). Iteration callbacks (the cache list,
 *    the deployment check's findings, the log) only borrow: what they
 *    get is valid during the call.
 *  - A context is used by one thread at a time. It must not be used
 *    across fork(): a child that inherits one neither uses nor closes it
 *    (closing would touch the parent's database and resolver) and opens
 *    its own; the parent may go on using it.
 */
#ifndef MTASTS_H
#define MTASTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Errors. Every function that can fail returns MTASTS_OK (0) or one of
 * these negative values.
 */
#define MTASTS_OK	0
enum mtasts_err {
	MTASTS_ENOMEM = -1,	/* out of memory */
	MTASTS_EINVAL = -2,	/* bad argument from the caller */
	MTASTS_ESYNTAX = -3,	/* input does not follow the grammar */
	MTASTS_ENOTFOUND = -4,	/* no such record, no policy */
	MTASTS_EDNS = -5,	/* DNS lookup failed (SERVFAIL, timeout, bogus) */
	MTASTS_EFETCH = -6,	/* HTTPS policy fetch failed */
	MTASTS_ESTORE = -7,	/* the cache database failed */
	MTASTS_ECONFIG = -8,	/* the configuration is wrong */
	MTASTS_EIO = -9,	/* reading or writing a file failed */
	MTASTS_ETIMEOUT = -10,	/* a bounded wait ran out */
	MTASTS_ETOOBIG = -11,	/* input larger than the RFC allows */
	MTASTS_ERANGE = -12	/* a number outside its allowed range */
};

/* A static English string for an error code; never NULL. */
const char *mtasts_strerror(int err);

/*
 * Diagnostics from the parsers: the first error that made the input
 * invalid, and the warnings about input that is valid but suspicious
 * (an ignored duplicate field, an unknown field).
 * For a policy file, line is the 1-based line number; for a TXT RRset it
 * is the 1-based index of the record; 0 means "the input as a whole".
 * msg is a whole sentence that can be logged alone, so it names the line
 * or record itself ("line 3: ..."); tools that print the line number in
 * their own format strip that prefix.
 */
#define MTASTS_DIAG_MSG		256
#define MTASTS_DIAG_WARN_MAX	8
struct mtasts_diag_item {
	unsigned	 line;			/* where; 0: the whole input */
	char		 msg[MTASTS_DIAG_MSG];	/* what, in one sentence */
};
struct mtasts_diag {
	struct mtasts_diag_item	error;		/* set when parsing failed */
	unsigned		nwarn;		/* warnings kept (at most
						   MTASTS_DIAG_WARN_MAX) */
	struct mtasts_diag_item	warn[MTASTS_DIAG_WARN_MAX];
};

/*
 * Policy modes (RFC 8461 section 5). The order matters: a larger value
 * is stricter.
 */
enum mtasts_mode {
	MTASTS_MODE_NONE = 0,
	MTASTS_MODE_TESTING = 1,
	MTASTS_MODE_ENFORCE = 2
};

/* "none", "testing" or "enforce". */
const char *mtasts_mode_name(enum mtasts_mode mode);
/* Parses one of those three words (exact, lower case): MTASTS_OK, or
 * MTASTS_ESYNTAX for anything else (mode is then left alone). */
int mtasts_mode_parse(const char *s, enum mtasts_mode *mode);

#define MTASTS_POLICY_MAX_BODY	65536		/* RFC 8461 3.3: 64 KiB */
#define MTASTS_MAX_AGE_MAX	31557600	/* RFC 8461 3.2: about a year */
#define MTASTS_ID_MAX		32		/* RFC 8461 3.1: 1-32 chars */
#define MTASTS_NAME_MAX		253		/* a domain name in text */

/*
 * A parsed policy. Everything in it is owned by it.
 */
struct mtasts_policy {
	enum mtasts_mode mode;	/* the policy's mode */
	uint32_t	 max_age;	/* seconds, 0..MTASTS_MAX_AGE_MAX */
	size_t		 nmx;		/* number of mx patterns; 0 only when
					   mode is none */
	char		**mx;		/* patterns as A-labels, lower case,
					   no trailing dot; "*.x.y" allowed */
};

/*
 * Parses a policy file body of len bytes (need not be NUL-terminated).
 * On success *out is a new policy (free with mtasts_policy_free()).
 * On failure returns MTASTS_ESYNTAX, MTASTS_ERANGE (max_age) or
 * MTASTS_ETOOBIG (over 64 KiB), and diag, when not NULL, says where and
 * why. Warnings are filled in either way.
 */
int mtasts_policy_parse(const char *body, size_t len,
    struct mtasts_policy **out, struct mtasts_diag *diag);
void mtasts_policy_free(struct mtasts_policy *policy);

/*
 * The policy as a policy file (LF line ends), in a new string that the
 * caller frees. NULL when out of memory.
 */
char *mtasts_policy_format(const struct mtasts_policy *policy);

/*
 * Does host match one of the policy's mx patterns? 1 yes, 0 no, or a
 * negative error when host is not a valid host name.
 */
int mtasts_policy_match(const struct mtasts_policy *policy, const char *host);

/*
 * RFC 8461 section 4.1 matching of one host against one pattern:
 * case-insensitive, a trailing dot ignored, "*." matches exactly one
 * left-most label. U-labels in either are converted to A-labels (IDNA2008)
 * first. Returns 1 match, 0 no match, MTASTS_ESYNTAX when host or pattern
 * is not a valid name.
 */
int mtasts_mx_match(const char *host, const char *pattern);

/*
 * Normalises a host or domain name: U-labels to A-labels, lower case,
 * trailing dot removed, checked as a host name (LDH labels of 1-63
 * octets, at most 253 in all; no IP literal). With wildcard non-zero a
 * left-most "*" label is allowed. out must hold MTASTS_NAME_MAX + 1 bytes.
 * Returns MTASTS_OK, MTASTS_ESYNTAX for a name that fails those checks
 * (out is then ""), MTASTS_EINVAL for a NULL argument.
 */
int mtasts_name_normalize(const char *in, int wildcard,
    char out[MTASTS_NAME_MAX + 1]);

/*
 * The _mta-sts TXT RRset (RFC 8461 section 3.1). txt holds the n records
 * of the RRset, each the strings of one record already joined. Records
 * that do not start with "v=STSv1" are dropped; exactly one must remain
 * and parse. Returns MTASTS_OK with out filled in, MTASTS_ENOTFOUND when
 * no record starts with "v=STSv1", MTASTS_ESYNTAX otherwise (diag, when
 * not NULL, says which record and why), MTASTS_EINVAL for n == 0.
 */
struct mtasts_sts_record {
	char	 id[MTASTS_ID_MAX + 1];	/* 1-32 ALPHA/DIGIT */
	unsigned next;			/* number of extension fields */
};
int mtasts_sts_record_parse(const char *const *txt, size_t n,
    struct mtasts_sts_record *out, struct mtasts_diag *diag);

/*
 * The _smtp._tls TXT RRset (RFC 8460 section 3): "v=TLSRPTv1" and one or
 * more rua URIs, mailto: or https:, each checked. Returns MTASTS_OK with
 * *out a new record (free with mtasts_tlsrpt_record_free()),
 * MTASTS_ENOTFOUND when no record starts with "v=TLSRPTv1",
 * MTASTS_ESYNTAX (diag says why) or MTASTS_ENOMEM.
 */
struct mtasts_tlsrpt_record {
	size_t	 nrua;		/* at least 1 */
	char	**rua;		/* the URIs, as given */
	unsigned next;		/* number of extension fields */
};
int mtasts_tlsrpt_record_parse(const char *const *txt, size_t n,
    struct mtasts_tlsrpt_record **out, struct mtasts_diag *diag);
void mtasts_tlsrpt_record_free(struct mtasts_tlsrpt_record *rec);

/*
 * Logging. The engine calls the callback with one line, without a
 * trailing newline, for each message at or above the level set.
 */
enum mtasts_loglevel {
	MTASTS_LOG_ERR = 0,
	MTASTS_LOG_WARN = 1,
	MTASTS_LOG_INFO = 2,
	MTASTS_LOG_DEBUG = 3
};
typedef void mtasts_log_fn(void *arg, enum mtasts_loglevel level,
    const char *msg);

/*
 * The engine context: configuration, the shared cache, and (made only
 * when first needed) the DNS resolver and the HTTPS client. One per
 * process or thread; not shared between threads.
 */
struct mtasts_ctx;

#define MTASTS_DEFAULT_CONF	"/etc/mtasts/mtasts.conf"

/*
 * Opens a context. conf is the path of an mtasts.conf(5); NULL means
 * MTASTS_DEFAULT_CONF when that file exists, built-in defaults otherwise.
 * log may be NULL (silence). Returns MTASTS_OK with *out set,
 * MTASTS_ECONFIG (diag says which line) or MTASTS_ENOMEM. A cache that
 * cannot be opened is not an error: it is logged and the context works
 * uncached.
 *
 * mtasts_ctx_close() first answers every asynchronous request still in
 * flight (each callback once, err MTASTS_ETIMEOUT: cancelled), then
 * frees everything; NULL is allowed. Not from inside a callback.
 */
int mtasts_ctx_open(const char *conf, mtasts_log_fn *log, void *logarg,
    enum mtasts_loglevel loglevel, struct mtasts_ctx **out,
    struct mtasts_diag *diag);
void mtasts_ctx_close(struct mtasts_ctx *ctx);

/* Where the answer came from. */
enum mtasts_source {
	MTASTS_SRC_NONE = 0,	/* no policy anywhere */
	MTASTS_SRC_CACHE,	/* the cache, fresh enough */
	MTASTS_SRC_NETWORK,	/* fetched now */
	MTASTS_SRC_STALE,	/* cache kept because DNS or fetch failed */
	MTASTS_SRC_OVERRIDE	/* forced by a per-domain override */
};
const char *mtasts_source_name(enum mtasts_source src);

/*
 * The answer to "what policy rules this domain now?".
 * mode is what the sender must do: it is the policy's mode unless an
 * override forced another. policy is NULL when no policy applies (then
 * mode is none). log_only is set when the configuration says to log
 * refusals instead of acting on them: the caller still asks
 * mtasts_answer_mx() and logs what it would have refused.
 */
struct mtasts_answer {
	enum mtasts_mode	 mode;		/* effective mode */
	struct mtasts_policy	*policy;	/* owned; NULL: no policy */
	char			 id[MTASTS_ID_MAX + 1]; /* policy id, or "" */
	enum mtasts_source	 source;	/* where it came from */
	time_t			 fetched;	/* when the policy was fetched */
	time_t			 expires;	/* when it stops applying */
	int			 log_only;	/* refusals are logged only */
	int			 temperror;	/* no policy could be had because
						   of a temporary failure (DNS,
						   fetch), and none was cached */
	char			 why[MTASTS_DIAG_MSG]; /* how it was decided */
};

/*
 * Resolves the policy of a recipient domain, through the cache and, when
 * needed, DNS and HTTPS, following RFC 8461 section 5. Every wait is
 * bounded by the configured timeouts. Returns MTASTS_OK with ans filled
 * in (even when there is no policy), or MTASTS_EINVAL for a domain that
 * is not a valid name, MTASTS_ENOMEM. Free with mtasts_answer_clear().
 */
int mtasts_resolve(struct mtasts_ctx *ctx, const char *domain,
    struct mtasts_answer *ans);
void mtasts_answer_clear(struct mtasts_answer *ans);

/*
 * Asynchronous resolution for event loops. cb is called exactly once,
 * from within mtasts_async_process() (or from mtasts_resolve_async()
 * itself when the cache answers at once), with err as mtasts_resolve()
 * returns it; the callee owns ans and clears it. Requests for a domain
 * already in flight share its work. Returns MTASTS_OK when cb will be
 * called, MTASTS_EINVAL (cb is not called) for a domain that is not a
 * valid name, MTASTS_ENOMEM.
 */
typedef void mtasts_resolve_cb(void *arg, int err, struct mtasts_answer *ans);
int mtasts_resolve_async(struct mtasts_ctx *ctx, const char *domain,
    mtasts_resolve_cb *cb, void *arg);

/*
 * One file descriptor that becomes readable when asynchronous work is
 * ready; watch it and call mtasts_async_process(), which never blocks.
 * mtasts_async_fd() returns the descriptor (the same one for the life of
 * the context), or -1 when the event loop cannot be made (out of memory
 * or descriptors; logged). mtasts_async_process() runs the callbacks of
 * the work that is ready and returns MTASTS_OK, or a negative MTASTS_*
 * when the event loop itself failed (the work stays pending).
 */
int mtasts_async_fd(struct mtasts_ctx *ctx);
int mtasts_async_process(struct mtasts_ctx *ctx);
/* Number of resolutions in flight. */
size_t mtasts_async_pending(const struct mtasts_ctx *ctx);

/*
 * A recipient domain's MX set: its MX hosts sorted by preference,
 * through the engine's resolver. A domain without MX records has its own
 * name as its one implicit MX (RFC 5321 section 5.1); a null MX (RFC
 * 7505) gives an empty set.
 *
 * Synchronous: on MTASTS_OK *hosts is a new array of *n host names
 * (normalised, no trailing dot), free with mtasts_mx_free(). MTASTS_EDNS
 * when the lookup failed (SERVFAIL, timeout, bogus), MTASTS_EINVAL for a
 * domain that is not a valid name, MTASTS_ENOMEM.
 */
int	mtasts_mx_lookup(struct mtasts_ctx *ctx, const char *domain,
	    char ***hosts, size_t *n);
void	mtasts_mx_free(char **hosts, size_t n);

/*
 * Asynchronous: cb runs exactly once, from mtasts_async_process() (or
 * from mtasts_mx_lookup_async() itself when no lookup could be started),
 * with err as mtasts_mx_lookup() returns it. cb owns hosts (free with
 * mtasts_mx_free(); NULL on error). Returns MTASTS_OK when cb will be
 * called.
 */
typedef void mtasts_mx_cb(void *arg, int err, char **hosts, size_t n);
int	mtasts_mx_lookup_async(struct mtasts_ctx *ctx, const char *domain,
	    mtasts_mx_cb *cb, void *arg);

/*
 * The IPv4 and IPv6 addresses of a host (as text, IPv4 first), through
 * the engine's resolver, asynchronously: cb as for
 * mtasts_mx_lookup_async(); cb owns addrs (free with mtasts_mx_free()).
 * Returns MTASTS_OK when cb will be called, MTASTS_EINVAL (cb is not
 * called) for a host that is not a valid name, MTASTS_ENOMEM.
 */
typedef void mtasts_addrs_cb(void *arg, int err, char **addrs, size_t n);
int	mtasts_addrs_lookup_async(struct mtasts_ctx *ctx, const char *host,
	    mtasts_addrs_cb *cb, void *arg);

/*
 * The TLSA RRset of an MX host (RFC 6698, _port._tcp.host) for DANE
 * (RFC 7672), through the engine's resolver, asynchronously: cb as for
 * mtasts_mx_lookup_async(); cb owns recs (free with mtasts_tlsa_free();
 * NULL unless err is MTASTS_OK). err is
 * MTASTS_OK only for an RRset that DNSSEC validated (secure), with n >= 1
 * records; MTASTS_ENOTFOUND when there is none or it is not validated
 * (insecure: no DANE); MTASTS_EDNS when the lookup failed or the answer
 * is bogus (DANE cannot be decided: the caller defers).
 */
struct mtasts_tlsa {
	uint8_t			 usage;		/* certificate usage */
	uint8_t			 selector;
	uint8_t			 mtype;		/* matching type */
	const unsigned char	*data;		/* certificate association */
	size_t			 len;
};
typedef void mtasts_tlsa_cb(void *arg, int err, struct mtasts_tlsa *recs,
    size_t n);
int	mtasts_tlsa_lookup_async(struct mtasts_ctx *ctx, const char *host,
	    unsigned port, mtasts_tlsa_cb *cb, void *arg);
void	mtasts_tlsa_free(struct mtasts_tlsa *recs, size_t n);

/*
 * TLS-RPT (RFC 8460): one result per delivery attempt, counted per UTC
 * day in the store and turned into reports by "mtasts report build".
 * Recording is cheap (one store write), never blocks delivery beyond the
 * store's busy timeout, and its failure is only logged: reporting fails
 * open.
 */
enum mtasts_result {
	MTASTS_RESULT_SUCCESS = 0,		/* a successful TLS session */
	MTASTS_RESULT_STARTTLS_NOT_SUPPORTED,	/* RFC 8460 section 4.3 */
	MTASTS_RESULT_CERT_HOST_MISMATCH,
	MTASTS_RESULT_CERT_EXPIRED,
	MTASTS_RESULT_CERT_NOT_TRUSTED,
	MTASTS_RESULT_VALIDATION_FAILURE,
	MTASTS_RESULT_TLSA_INVALID,
	MTASTS_RESULT_DNSSEC_INVALID,
	MTASTS_RESULT_DANE_REQUIRED,
	MTASTS_RESULT_STS_POLICY_FETCH_ERROR,
	MTASTS_RESULT_STS_POLICY_INVALID,
	MTASTS_RESULT_STS_WEBPKI_INVALID
};
/* "starttls-not-supported", ...; "success" for MTASTS_RESULT_SUCCESS. */
const char *mtasts_result_name(enum mtasts_result r);

/*
 * ---- The MX verdict: may this MX host be used, and why not ----
 *
 * Every adapter asks these instead of matching patterns itself, so that
 * all of them decide alike and say so in the same words.
 */

/* What to do with one MX host of a domain under an answer. */
enum mtasts_verdict {
	MTASTS_MX_PLAIN = 0,	/* no policy applies: deliver as usual */
	MTASTS_MX_REQUIRE_TLS,	/* use it only over TLS 1.2+ with a
				   certificate valid for the host name */
	MTASTS_MX_REFUSE,	/* enforce: the host matches no pattern */
	MTASTS_MX_REPORT,	/* testing: deliver anyway, report what
				   enforce would have refused */
	MTASTS_MX_DANE		/* DANE verifies the host (RFC 8461
				   section 2): the patterns do not apply */
};
/* "plain", "require-tls", "refuse", "report", "dane". */
const char *mtasts_verdict_name(enum mtasts_verdict v);

struct mtasts_mx_verdict {
	enum mtasts_verdict	 verdict;	/* what to do */
	int			 match;		/* 1 the host matches a
						   pattern, 0 it does not,
						   -1 nothing to match (no
						   policy, or DANE) */
	int			 dane;		/* DANE rules the host */
	int			 refuse;	/* do not use the host: verdict
						   REFUSE and not log_only */
	enum mtasts_result	 result;	/* the TLS-RPT result of a host
						   outside the patterns
						   (validation-failure), else
						   SUCCESS: nothing to report */
	char			 detail[MTASTS_DIAG_MSG]; /* why, one
						   sentence naming the host
						   and the patterns; "" when
						   there is nothing to say */
};

/* The dane argument of the verdicts: what the host's TLSA lookup gave. */
#define MTASTS_DANE_NONE	0	/* no validated TLSA RRset */
#define MTASTS_DANE_VALID	1	/* a TLSA RRset validated under
					   DNSSEC: DANE verifies the host */
#define MTASTS_DANE_BOGUS	(-1)	/* the TLSA lookup failed DNSSEC
					   validation (bogus, or a failed
					   signed lookup): RFC 7672 2.2 */

/*
 * The verdict for MX host mx of the domain ans answers for; dane is
 * MTASTS_DANE_VALID (any positive value) when the caller verifies the
 * host by DANE, MTASTS_DANE_BOGUS when its TLSA lookup failed DNSSEC
 * validation. Under none (or no policy): PLAIN. DANE: DANE. Bogus TLSA:
 * REFUSE under enforce and testing alike (DANE forbids the host whatever
 * the MTA-STS mode; refuse unless log_only), dane set, result
 * dnssec-invalid. A host matching a pattern: REQUIRE_TLS under enforce, REPORT
 * under testing. A host matching none: REFUSE under enforce (refuse set
 * unless log_only: then the caller logs the detail and goes on), REPORT
 * under testing; result is validation-failure. An enforce override
 * without a policy requires TLS of every host. Returns MTASTS_OK, or
 * MTASTS_EINVAL for a NULL argument.
 */
int mtasts_mx_verdict(const struct mtasts_answer *ans, const char *mx,
    int dane, struct mtasts_mx_verdict *out);
/* mtasts_mx_verdict()'s verdict without DANE; REFUSE on a bad argument. */
enum mtasts_verdict mtasts_answer_mx(const struct mtasts_answer *ans,
    const char *mx);

/* How a session with an MX host went, as the adapter saw it. */
enum mtasts_tls {
	MTASTS_TLS_NONE = 0,	/* clear text: no STARTTLS */
	MTASTS_TLS_UNVERIFIED,	/* TLS whose certificate did not verify */
	MTASTS_TLS_VERIFIED	/* TLS, certificate verified for the host */
};

/* What the peer's certificate says (for a session that did not verify). */
struct mtasts_cert_facts {
	int		 present;	/* the peer sent a certificate */
	time_t		 not_after;	/* its notAfter */
	const char	*names;		/* its subjectAltName DNS names, or
					   its CN when it has none, one per
					   line; may be NULL */
	const char	*issuer;	/* issuer DN as text, or NULL */
	const char	*subject;	/* subject DN as text, or NULL */
};

/*
 * Why a certificate did not verify for MX host mx at time now, as an
 * RFC 8460 result type, with a few printable words in why (len bytes):
 * no certificate: validation-failure; past notAfter:
 * certificate-expired; no name for mx: certificate-host-mismatch;
 * otherwise (self-signed, unknown issuer): certificate-not-trusted.
 */
enum mtasts_result mtasts_cert_result(const char *mx,
    const struct mtasts_cert_facts *cert, time_t now, char *why,
    size_t len);

struct mtasts_session_verdict {
	enum mtasts_result	 result;	/* what TLS-RPT records */
	int			 would_refuse;	/* a policy in force
						   refuses such a session
						   (testing and log_only:
						   would have refused) */
	char			 detail[MTASTS_DIAG_MSG]; /* why, or "" */
};

/*
 * The TLS-RPT result of one session with MX host mx (dane as for
 * mtasts_mx_verdict()), from what the session showed (tls; cert may be
 * NULL unless tls is MTASTS_TLS_UNVERIFIED) at time now. No policy in
 * force: success for any TLS, starttls-not-supported for clear text. A
 * policy in force: a host outside the patterns is validation-failure
 * whatever the session did; then clear text is starttls-not-supported
 * and an unverified certificate what mtasts_cert_result() says, except
 * at a host DANE verifies: there a certificate that did not verify
 * matches no TLSA record, tlsa-invalid; all of these set would_refuse.
 * (dane-required, for a sender that requires DANE, is never given: no
 * setting requires it.) Returns MTASTS_OK or MTASTS_EINVAL.
 */
int mtasts_session_verdict(const struct mtasts_answer *ans, const char *mx,
    int dane, enum mtasts_tls tls, const struct mtasts_cert_facts *cert,
    time_t now, struct mtasts_session_verdict *out);

/* The policy-type of a report (RFC 8460 section 4.4). */
enum mtasts_policy_type {
	MTASTS_POLICY_STS = 0,		/* "sts" */
	MTASTS_POLICY_TLSA,		/* "tlsa": DANE ruled */
	MTASTS_POLICY_NONE_FOUND	/* "no-policy-found" */
};

struct mtasts_tlsrpt_result {
	const char		*domain;	/* policy (recipient) domain */
	enum mtasts_policy_type	 policy_type;
	const char		*mx_host;	/* receiving-mx-hostname, or
						   NULL */
	const char		*receiving_ip;	/* or NULL */
	const char		*sending_ip;	/* or NULL */
	enum mtasts_result	 result;
	const char		*detail;	/* failure-reason-code or
						   additional information, or
						   NULL */
	const struct mtasts_answer *answer;	/* the answer the session
						   ran under, or NULL: its
						   mode labels the metrics
						   ("unknown" when NULL), and
						   a failure under enforce
						   without log_only counts
						   as a deferral */
};

/*
 * Records one result at the current time. The policy string and mx
 * patterns of the report come from the cached policy of domain. Returns
 * MTASTS_OK, or an error that the caller only logs.
 */
int mtasts_tlsrpt_record(struct mtasts_ctx *ctx,
    const struct mtasts_tlsrpt_result *res);

/*
 * ---- Metrics ("mtasts metrics") ----
 */

/*
 * The Prometheus text exposition of the store's counters and gauges,
 * in a new string *text the caller frees: TLS-RPT results by policy
 * type, mode and result type, deferrals (sessions enforce refused) by
 * result type, per-domain sessions for at most top domains (the rest as
 * domain="other"), policy fetches by outcome, policies cached by mode,
 * the store's state and the spool's backlog. Folds the spool first
 * (when the store can be written), so it is a batch job, never for the
 * delivery path. The per-domain set is kept in the store and only
 * grows, to top domains, so that every counter only goes up. Returns
 * MTASTS_OK (also without a usable store: then the text says so),
 * MTASTS_EINVAL, MTASTS_ENOMEM.
 */
int mtasts_metrics(struct mtasts_ctx *ctx, unsigned top, char **text);

/*
 * ---- The cache and its refresh ----
 */

/*
 * The cache, for administrators. An entry is one cached domain; text is
 * the policy file as fetched (NULL when only a failed fetch is known).
 * The pointers are valid during the callback only.
 */
struct mtasts_cache_entry {
	const char	*domain;	/* policy domain */
	const char	*id;		/* id of the cached policy, or "" */
	const char	*text;		/* the policy file, or NULL */
	enum mtasts_mode mode;		/* its mode (none when no text) */
	uint32_t	 max_age;	/* its max_age */
	time_t		 fetched;	/* when it was fetched */
	time_t		 expires;	/* when it stops applying */
	time_t		 checked;	/* last TXT id check */
	time_t		 failed;	/* last failed fetch, 0: none */
	const char	*failed_id;	/* the id whose fetch failed, or "" */
};
typedef int mtasts_cache_cb(void *arg, const struct mtasts_cache_entry *e);

/* Calls cb for each entry (domain NULL) or for one domain; a non-zero
 * return from cb stops. MTASTS_ENOTFOUND for an unknown domain,
 * MTASTS_ESTORE when there is no usable cache. */
int mtasts_cache_list(struct mtasts_ctx *ctx, const char *domain,
    mtasts_cache_cb *cb, void *arg);
/* Forget one domain, or every domain: MTASTS_OK, MTASTS_ENOTFOUND for a
 * domain not cached, MTASTS_EINVAL for a name that is not a domain,
 * MTASTS_ESTORE when there is no writable cache. */
int mtasts_cache_forget(struct mtasts_ctx *ctx, const char *domain);
int mtasts_cache_flush(struct mtasts_ctx *ctx);

/*
 * Proactive refresh (for cron): every cached domain with an unexpired
 * policy whose TXT id is due for a check (check_interval passed), or
 * whose policy is past half its max_age, is resolved again with its TXT
 * id checked now (every unexpired one when all is non-zero). Expired
 * policies and rows that only record a failed fetch are left to the next
 * delivery. *nchecked counts the domains looked at, *nfailed those whose
 * refresh did not give a fresh policy. Blocks; bounded by the timeouts.
 * Returns MTASTS_OK (whatever each domain came to), MTASTS_ESTORE when
 * there is no usable cache, MTASTS_ENOMEM.
 */
int mtasts_refresh(struct mtasts_ctx *ctx, int all, unsigned *nchecked,
    unsigned *nfailed);

/*
 * The same refresh for event loops (the filter's timer): the same rule
 * picks the same domains, at most max of them (0: no limit; the rest are
 * still due next time), and each is resolved as by mtasts_resolve_async()
 * with its TXT id checked now. cb is called exactly once per domain
 * started, with that domain (valid during the call only); the callee
 * owns ans and clears it. *nstarted (may be NULL) counts the domains
 * started. MTASTS_ESTORE when there is no usable cache, MTASTS_ENOMEM.
 */
typedef void mtasts_refresh_cb(void *arg, const char *domain, int err,
    struct mtasts_answer *ans);
int mtasts_refresh_async(struct mtasts_ctx *ctx, int all, size_t max,
    mtasts_refresh_cb *cb, void *arg, unsigned *nstarted);

/*
 * ---- TLS-RPT reports (RFC 8460 sections 4 and 5) ----
 *
 * A report in memory: what "mtasts report build" writes and what
 * mtasts_report_parse() reads from a report someone sent us. Every
 * string is owned by the report; an absent optional field is NULL.
 */
struct mtasts_report_failure {
	char		*result_type;	/* "certificate-expired", ... */
	char		*sending_ip;	/* sending-mta-ip */
	char		*mx_host;	/* receiving-mx-hostname */
	char		*mx_helo;	/* receiving-mx-helo */
	char		*receiving_ip;	/* receiving-ip */
	char		*reason_code;	/* failure-reason-code */
	char		*info;		/* additional-information */
	uint64_t	 count;		/* failed-session-count */
};
struct mtasts_report_policy {
	char		*type;		/* policy-type: "sts", "tlsa",
					   "no-policy-found" */
	char		*domain;	/* policy-domain */
	char		**strings;	/* policy-string, one per line */
	size_t		 nstrings;
	char		**mx;		/* mx-host patterns */
	size_t		 nmx;
	uint64_t	 success;	/* total-successful-session-count */
	uint64_t	 failure;	/* total-failure-session-count */
	struct mtasts_report_failure *details; /* failure-details */
	size_t		 ndetails;
};
struct mtasts_report {
	char		*org;		/* organization-name */
	char		*contact;	/* contact-info */
	char		*report_id;	/* report-id */
	time_t		 start;		/* date-range start-datetime */
	time_t		 end;		/* date-range end-datetime */
	struct mtasts_report_policy *policies;
	size_t		 npolicies;
};

#define MTASTS_REPORT_MAX	(16 * 1024 * 1024) /* bytes, decompressed */

/*
 * Reads a report: its JSON, the JSON gzipped, or a whole email with an
 * application/tlsrpt+gzip or +json part (base64 or not). Real-world
 * quirks are accepted with a warning in diag: date-times without a time
 * zone (taken as UTC), mx-host as a string or missing, failure-error-code
 * for failure-reason-code, numbers as strings, a summary that disagrees
 * with its details (kept as given). MTASTS_ESYNTAX (diag says why),
 * MTASTS_ETOOBIG, MTASTS_ENOMEM.
 */
int	mtasts_report_parse(const char *buf, size_t len,
	    struct mtasts_report **out, struct mtasts_diag *diag);
void	mtasts_report_free(struct mtasts_report *r);
/*
 * The report as RFC 8460 section 4.4 JSON (key names as in the RFC,
 * policies always an array, date-times in UTC with "Z", absent fields
 * left out), indented, in a new string the caller frees; NULL when out
 * of memory.
 */
char	*mtasts_report_json(const struct mtasts_report *r);

/*
 * Builds the reports of the UTC day that contains day: one per policy
 * domain with recorded results and a _smtp._tls record that parses,
 * written gzipped to the configured report_dir as
 * "submitter!domain!begin!end.json.gz" with a ".state" file beside it
 * that "send" works from. A report already built is left alone. *nbuilt
 * (may be NULL) counts the new ones. Returns MTASTS_OK, MTASTS_ESTORE
 * without a usable cache, MTASTS_ENOMEM or MTASTS_ECONFIG (no
 * report_submitter, and no host name to take it from: nothing more is
 * tried), or the last
 * error met building one domain's report (the other domains' reports
 * are still built); MTASTS_EINVAL for a NULL ctx or a negative day.
 */
int	mtasts_report_build(struct mtasts_ctx *ctx, time_t day,
	    unsigned *nbuilt);

/* Flags of mtasts_report_send(). */
#define MTASTS_SEND_NOW		0x1	/* retry now, ignore the back-off */

/*
 * Delivers every built report to each of its rua URIs not yet served:
 * mailto: through the configured sendmail as multipart/report, https:
 * by POST. A failed delivery is retried on later runs (back-off from 5
 * minutes to 4 hours) until 24 hours after the report was built. The
 * counters (may be NULL) are per report and rua: delivered now, given
 * up (malformed rua, 24 hours past), still pending. Returns MTASTS_OK
 * when every report was tried (a failed delivery is counted, not an
 * error; a missing report_dir is nothing to send), MTASTS_EIO when
 * report_dir cannot be read, MTASTS_EINVAL for a NULL ctx.
 */
int	mtasts_report_send(struct mtasts_ctx *ctx, unsigned flags,
	    unsigned *nsent, unsigned *nfailed, unsigned *npending);

/* The envelope sender and From: local part of report mail, at the
 * report_submitter domain. Adapters skip MTA-STS holds for it. */
#define MTASTS_REPORT_SENDER	"tlsrpt-noreply"

/*
 * ---- Deployment check ("mtasts check DOMAIN") ----
 *
 * The receiving domain's side: are MTA-STS and TLS-RPT deployed so that
 * every sender can deliver? mtasts_check() runs the steps below in this
 * order and calls cb once per finding, each with the evidence seen and a
 * one-line fix. Every network wait is bounded: DNS and the policy fetch
 * by the configured timeouts, each TLS probe by opts->timeout_ms.
 */
enum mtasts_check_step {
	MTASTS_CHECK_TXT = 0,		/* "txt": the _mta-sts TXT record */
	MTASTS_CHECK_POLICY_HOST,	/* "policy-host": mta-sts.DOMAIN
					   resolves, its HTTPS certificate */
	MTASTS_CHECK_POLICY_FETCH,	/* "policy-fetch": status, redirect,
					   media type, size */
	MTASTS_CHECK_POLICY,		/* "policy": the policy file, each
					   problem by line */
	MTASTS_CHECK_MX,		/* "mx": MX records against the
					   policy's patterns */
	MTASTS_CHECK_MX_TLS,		/* "mx-tls": the STARTTLS probe of
					   each MX address */
	MTASTS_CHECK_TLSRPT,		/* "tlsrpt": the _smtp._tls record
					   and each rua */
	MTASTS_CHECK_ADVICE		/* "advice": practice, not errors */
};
enum mtasts_check_status {
	MTASTS_CHECK_PASS = 0,		/* "pass" */
	MTASTS_CHECK_INFO,		/* "info": advice, nothing wrong */
	MTASTS_CHECK_WARN,		/* "warn": works, but should change */
	MTASTS_CHECK_FAIL		/* "fail": senders fail or report */
};
const char *mtasts_check_step_name(enum mtasts_check_step step);
const char *mtasts_check_status_name(enum mtasts_check_status status);

/* One finding; the strings are valid during the callback only. */
struct mtasts_check_finding {
	enum mtasts_check_step	 step;
	enum mtasts_check_status status;
	const char		*subject;	/* what was checked: a name,
						   "HOST [ADDR]:PORT", a
						   policy line; never NULL */
	const char		*message;	/* what was found, one
						   sentence; never NULL */
	const char		*evidence;	/* what was seen, or NULL */
	const char		*fix;		/* one line; NULL for pass */
	enum mtasts_result	 result;	/* the RFC 8460 result type a
						   sender would report for
						   this failure; SUCCESS when
						   none applies */
};
typedef void mtasts_check_cb(void *arg,
    const struct mtasts_check_finding *f);

struct mtasts_check_opts {
	unsigned	 mx_port;	/* SMTP port of the MX probes; 0: 25 */
	unsigned	 timeout_ms;	/* bound of each TLS probe; 0: 10 s */
	const char	*helo;		/* EHLO name; NULL: this host's name */
};
struct mtasts_check_summary {
	unsigned	 npass, ninfo, nwarn, nfail;
};

/*
 * Checks domain's deployment end to end: _mta-sts TXT, the policy host
 * and its certificate, the fetch, the policy file, the MX records
 * against the patterns, a STARTTLS probe of every MX address (IPv4 and
 * IPv6), the _smtp._tls record and each rua (looked up, never used),
 * and advice. opts and sum may be NULL. Returns MTASTS_OK when the
 * checks ran, whatever they found (sum counts it), MTASTS_EINVAL for a
 * domain that is not a valid name, MTASTS_EDNS when no resolver could
 * be set up, MTASTS_ENOMEM.
 */
int mtasts_check(struct mtasts_ctx *ctx, const char *domain,
    const struct mtasts_check_opts *opts, mtasts_check_cb *cb, void *arg,
    struct mtasts_check_summary *sum);

/*
 * ---- Fleets: many hosts, one policy view, one report ----
 *
 * With "fleet" (a libpq connection string) in mtasts.conf, hosts share
 * their policies and TLS-RPT results through PostgreSQL. The delivery
 * path never uses it: every function above keeps reading and writing
 * the host's own store. mtasts_sync() is run periodically (the systemd
 * timer mtasts-sync.timer, every minute):
 *  - the results recorded here since the last sync are cut into a
 *    numbered batch in the store, then added to the fleet's sums in one
 *    PostgreSQL transaction keyed by (host, store, batch), and dropped
 *    here only after PostgreSQL committed: none lost, none counted twice
 *    across crashes and outages (batches wait here meanwhile);
 *  - the policies fetched or checked here are published, and the
 *    fleet's newer ones (by fetched time, then id) taken into the cache.
 * mtasts_refresh() then takes a lease per due domain in PostgreSQL so
 * one host refreshes it for the fleet, and mtasts_report_build()
 * builds each domain's report from the fleet's sums on the one host
 * that claims it in PostgreSQL (which also sends it).
 */
struct mtasts_sync_stats {
	unsigned		batches;	/* result batches moved */
	unsigned long long	sessions;	/* sessions in them */
	unsigned		published;	/* policies published */
	unsigned		pulled;		/* fleet policies cached here */
};

/*
 * One sync. stats may be NULL. MTASTS_OK; MTASTS_ECONFIG when no fleet
 * is configured; MTASTS_ESTORE when the store or PostgreSQL failed
 * (logged with the server's message: authentication, TLS, unreachable;
 * what was not moved waits for the next sync).
 */
int mtasts_sync(struct mtasts_ctx *ctx, struct mtasts_sync_stats *stats);

/* A host of the fleet, as PostgreSQL knows it. */
struct mtasts_fleet_host {
	const char	*host;		/* fleet_host, or the host name */
	const char	*store;		/* its store's random id */
	time_t		 last_sync;	/* its last sync (server clock) */
	long long	 batches;	/* result batches it moved */
	long long	 sessions;	/* sessions in them */
	int		 self;		/* this host and store */
};
/* What waits here. */
struct mtasts_fleet_local {
	char		 host[256];	/* this host in the fleet */
	char		 store[65];	/* this store's id */
	time_t		 last_sync;	/* last successful sync, 0: never */
	long long	 batches;	/* cut, not yet in PostgreSQL */
	long long	 batch_sessions; /* sessions in them */
	long long	 uncut_sessions; /* in the counters, not yet cut */
	long long	 spooled_bytes;	/* spooled, not yet folded */
};
typedef int mtasts_fleet_cb(void *arg, const struct mtasts_fleet_host *h);
/*
 * Fills local (from the store, PostgreSQL not needed), then calls cb
 * for each host PostgreSQL has seen (borrowed; a non-zero return
 * stops). MTASTS_ECONFIG without a fleet, MTASTS_ESTORE when the store
 * cannot be read (local is then zero) or PostgreSQL failed (local is
 * filled).
 */
int mtasts_fleet_status(struct mtasts_ctx *ctx,
    struct mtasts_fleet_local *local, mtasts_fleet_cb *cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* MTASTS_H */
