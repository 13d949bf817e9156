/*
 * config.c - read mtasts.conf(5) into a struct config.
 *
 * The grammar, one rule per function below:
 *	file    = *line
 *	line    = [WS] [key WS value] [WS] [comment] (LF / CRLF / end)
 *	comment = "#" *CHAR	; at the start of a line or after WS
 *	key     = 1*NONWS	; one of config_keys[]
 *	value   = one word, two for override, the rest of the line for
 *		  report_org and report_contact
 * Lines are at most CONFIG_LINE_MAX bytes and hold no control character
 * but tab. Every error names its line, the key and what is allowed; the
 * first one stops the reading. Non-repeatable keys may appear once.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/strv.h"
#include "conf/config.h"

#define CONFIG_LINE_MAX		1024
#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_WORDS_MAX	2
#define CONFIG_SHOW		64	/* bytes of a bad value quoted */

#define TIMEOUT_MIN_MS		1
#define TIMEOUT_MAX_MS		(300 * 1000)
#define INTERVAL_MAX_S		31557600	/* as max_age: a year */
#define RETRY_MIN_S		300		/* RFC 8461 section 5.1 */

/* Key flags. */
#define CK_REPEAT	0x1	/* may be given more than once */
#define CK_REST		0x2	/* the value is the rest of the line */

/* One line being read: where, which key, its words. */
struct config_line {
	unsigned		 no;
	const char		*key;
	char			*word[CONFIG_WORDS_MAX];
	size_t			 nword;
	struct mtasts_diag	*diag;
};

struct config_key {
	const char	*name;
	int		 flags;
	size_t		 nword;		/* words wanted (CK_REST: 1) */
	const char	*usage;		/* what the value may be */
	int		(*set)(struct config *, const struct config_key *,
			    struct config_line *);
	size_t		 field;		/* offsetof the field it sets */
};

static int	config_defaults(struct config *conf);
static int	config_line(struct config *conf, unsigned *seen,
		    char *line, size_t len, unsigned no,
		    struct mtasts_diag *diag);
static char	*config_comment(char *s);
static int	config_words(char *s, int rest, struct config_line *cl);
static int	config_bad(struct config_line *cl, const char *fmt,
		    const char *val, const char *allowed);
static int	config_strdup(char **dst, const char *val);
static int	config_duration(const char *s, uint64_t *ms);
static int	config_seconds(struct config_line *cl, const char *allowed,
		    unsigned min, unsigned max, unsigned *out);
static int	set_path(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_store(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_text(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_domain(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_forwarder(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_proxy(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_timeout(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_check(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_retry(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_lease(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_log_only(struct config *, const struct config_key *,
		    struct config_line *);
static int	set_override(struct config *, const struct config_key *,
		    struct config_line *);

#define F(m)	offsetof(struct config, m)
static const struct config_key config_keys[] = {
	{ "store", 0, 1, "an absolute path or none", set_store, F(store) },
	{ "resolv_conf", 0, 1, "an absolute path", set_path,
	    F(resolv_conf) },
	{ "forwarder", CK_REPEAT, 1, "an IPv4 or IPv6 address, "
	    "optionally followed by @port", set_forwarder, 0 },
	{ "trust_anchor", 0, 1, "an absolute path", set_path,
	    F(trust_anchor) },
	{ "ca_file", 0, 1, "an absolute path", set_path, F(ca_file) },
	{ "ca_path", 0, 1, "an absolute path", set_path, F(ca_path) },
	{ "proxy", 0, 1, "a URL starting with http://, https:// or "
	    "socks5h://", set_proxy, F(proxy) },
	{ "dns_timeout", 0, 1, "a duration from 1ms to 300s", set_timeout,
	    F(dns_timeout) },
	{ "connect_timeout", 0, 1, "a duration from 1ms to 300s",
	    set_timeout, F(connect_timeout) },
	{ "fetch_timeout", 0, 1, "a duration from 1ms to 300s", set_timeout,
	    F(fetch_timeout) },
	{ "store_timeout", 0, 1, "a duration from 1ms to 300s", set_timeout,
	    F(store_timeout) },
	{ "check_interval", 0, 1, "whole seconds from 0 to 365d",
	    set_check, F(check_interval) },
	{ "retry_interval", 0, 1, "whole seconds from 300s (RFC 8461's "
	    "five minutes) to 365d", set_retry, F(retry_interval) },
	{ "log_only", 0, 1, "yes or no", set_log_only, F(log_only) },
	{ "override", CK_REPEAT, 2, "a domain and none, testing or enforce",
	    set_override, 0 },
	{ "report_org", CK_REST, 1, "text", set_text, F(report_org) },
	{ "report_contact", CK_REST, 1, "text", set_text,
	    F(report_contact) },
	{ "report_submitter", 0, 1, "a domain name", set_domain,
	    F(report_submitter) },
	{ "report_dir", 0, 1, "an absolute path", set_path, F(report_dir) },
	{ "sendmail", 0, 1, "an absolute path", set_path, F(sendmail) },
	{ "sendmail_timeout", 0, 1, "a duration from 1ms to 300s",
	    set_timeout, F(sendmail_timeout) },
	{ "fleet", CK_REST, 1, "a PostgreSQL connection string", set_text,
	    F(fleet) },
	{ "fleet_host", 0, 1, "a host name", set_text, F(fleet_host) },
	{ "fleet_lease", 0, 1, "whole seconds from 10s to 1d", set_lease,
	    F(fleet_lease) },
};
#undef F
#define NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

/* Duration units, longest first where one is a prefix of another. */
static const struct {
	const char	*name;
	uint64_t	 ms;
} config_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	{ "d", 86400000 },
};

int
config_load(const char *path, struct config **out,
    struct mtasts_diag *diag)
{
	struct stat	 sb;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1, rc;

	*out = NULL;
	diag_init(diag);
	if (path == NULL)
		return config_parse(NULL, 0, out, diag);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		rc = diag_error(diag, MTASTS_EIO, 0, "%s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (sb.st_size > CONFIG_FILE_MAX) {
		rc = diag_error(diag, MTASTS_ECONFIG, 0, "%s: larger than "
		    "%d bytes", path, CONFIG_FILE_MAX);
		goto fail;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		rc = MTASTS_ENOMEM;
		goto fail;
	}
	while (len <= (size_t)sb.st_size &&
	    (n = read(fd, buf + len, (size_t)sb.st_size + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = diag_error(diag, MTASTS_EIO, 0, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > (size_t)sb.st_size) {
		rc = diag_error(diag, MTASTS_ECONFIG, 0, "%s: grew while "
		    "being read", path);
		goto fail;
	}
	rc = config_parse(buf, len, out, diag);
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

int
config_parse(const char *buf, size_t len, struct config **out,
    struct mtasts_diag *diag)
{
	struct config	*conf;
	unsigned	 seen[NKEYS] = { 0 };
	char		 line[CONFIG_LINE_MAX + 1];
	const char	*nl;
	size_t		 n;
	unsigned	 no = 0;
	int		 rc;

	*out = NULL;
	diag_init(diag);
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return MTASTS_ENOMEM;
	if ((rc = config_defaults(conf)) != MTASTS_OK)
		goto fail;
	while (len > 0) {
		no++;
		nl = memchr(buf, '\n', len);
		n = nl != NULL ? (size_t)(nl - buf) : len;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		if (n > CONFIG_LINE_MAX) {
			rc = diag_error(diag, MTASTS_ECONFIG, no, "line %u: "
			    "longer than %d bytes", no, CONFIG_LINE_MAX);
			goto fail;
		}
		memcpy(line, buf, n);
		line[n] = '\0';
		if ((rc = config_line(conf, seen, line, n, no, diag)) !=
		    MTASTS_OK)
			goto fail;
		n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		buf += n;
		len -= n;
	}
	*out = conf;
	return MTASTS_OK;
fail:
	config_free(conf);
	return rc;
}

void
config_free(struct config *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	strv_free(conf->forwarders, conf->nforwarders);
	for (i = 0; i < conf->noverrides; i++)
		free(conf->overrides[i].domain);
	free(conf->overrides);
	free(conf->store);
	free(conf->resolv_conf);
	free(conf->trust_anchor);
	free(conf->ca_file);
	free(conf->ca_path);
	free(conf->proxy);
	free(conf->report_org);
	free(conf->report_contact);
	free(conf->report_submitter);
	free(conf->report_dir);
	free(conf->sendmail);
	free(conf->fleet);
	free(conf->fleet_host);
	free(conf);
}

/*
 * Exact match on the normalised domain: an override for example.com does
 * not cover mail.example.com.
 */
const struct config_override *
config_override(const struct config *conf, const char *domain)
{
	size_t	i;

	for (i = 0; i < conf->noverrides; i++)
		if (strcmp(conf->overrides[i].domain, domain) == 0)
			return &conf->overrides[i];
	return NULL;
}

static int
config_defaults(struct config *conf)
{
	conf->dns_timeout = 5000;
	conf->connect_timeout = 5000;
	conf->fetch_timeout = 15000;
	conf->store_timeout = 2000;
	conf->sendmail_timeout = 60000;
	conf->check_interval = 600;
	conf->retry_interval = 300;
	conf->fleet_lease = 600;
	conf->log_only = 0;
	if (config_strdup(&conf->store, CONFIG_DEFAULT_STORE) != MTASTS_OK ||
	    config_strdup(&conf->report_dir, CONFIG_DEFAULT_REPORT_DIR) !=
	    MTASTS_OK ||
	    config_strdup(&conf->sendmail, CONFIG_DEFAULT_SENDMAIL) !=
	    MTASTS_OK)
		return MTASTS_ENOMEM;
	return MTASTS_OK;
}

/* line = [WS] [key WS value] [WS] [comment] */
static int
config_line(struct config *conf, unsigned *seen, char *line, size_t len,
    unsigned no, struct mtasts_diag *diag)
{
	struct config_line	 cl;
	const struct config_key	*k = NULL;
	char			*p = line;
	size_t			 i;
	int			 rc;

	memset(&cl, 0, sizeof(cl));
	cl.no = no;
	cl.diag = diag;
	for (i = 0; i < len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    line[i] == 0x7f)
			return diag_error(diag, MTASTS_ECONFIG, no, "line %u: "
			    "control character 0x%02x; allowed: printable "
			    "text and tabs", no, (unsigned char)line[i]);
	p += strspn(p, " \t");
	if (*p == '\0' || *p == '#')
		return MTASTS_OK;
	cl.key = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	for (i = 0; i < NKEYS && k == NULL; i++)
		if (strcmp(config_keys[i].name, cl.key) == 0)
			k = &config_keys[i];
	if (k == NULL)
		return diag_error(diag, MTASTS_ECONFIG, no, "line %u: unknown "
		    "key \"%.*s\" (see mtasts.conf(5))", no, CONFIG_SHOW,
		    cl.key);
	i = (size_t)(k - config_keys);
	if (seen[i] != 0 && !(k->flags & CK_REPEAT))
		return diag_error(diag, MTASTS_ECONFIG, no, "line %u: %s is "
		    "already set on line %u", no, k->name, seen[i]);
	seen[i] = no;
	config_comment(p);
	if ((rc = config_words(p, k->flags & CK_REST, &cl)) != MTASTS_OK ||
	    cl.nword != k->nword)
		return diag_error(diag, MTASTS_ECONFIG, no, "line %u: %s takes "
		    "%s", no, k->name, k->usage);
	return k->set(conf, k, &cl);
}

/* comment = "#" *CHAR, at the start or after WS: cut it off. */
static char *
config_comment(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	return s;
}

/*
 * Splits the value into words, or takes it whole (rest non-zero) with
 * the white space around it trimmed. More words than CONFIG_WORDS_MAX
 * is an error.
 */
static int
config_words(char *s, int rest, struct config_line *cl)
{
	char	*end;

	cl->nword = 0;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return MTASTS_OK;
		if (cl->nword == CONFIG_WORDS_MAX)
			return MTASTS_ECONFIG;
		cl->word[cl->nword++] = s;
		if (rest) {
			end = s + strlen(s);
			while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			*end = '\0';
			return MTASTS_OK;
		}
		s += strcspn(s, " \t");
		if (*s != '\0')
			*s++ = '\0';
	}
}

/* "line N: key: "val" fmt (allowed)" */
static int
config_bad(struct config_line *cl, const char *what, const char *val,
    const char *allowed)
{
	return diag_error(cl->diag, MTASTS_ECONFIG, cl->no, "line %u: %s: "
	    "\"%.*s\" %s; allowed: %s", cl->no, cl->key, CONFIG_SHOW, val,
	    what, allowed);
}

static int
config_strdup(char **dst, const char *val)
{
	char	*s;

	if ((s = strdup(val)) == NULL)
		return MTASTS_ENOMEM;
	free(*dst);
	*dst = s;
	return MTASTS_OK;
}

/*
 * duration = 1*DIGIT [unit]; unit = "ms" / "s" / "m" / "h" / "d";
 * no unit means seconds. At most 12 digits, so nothing overflows.
 */
static int
config_duration(const char *s, uint64_t *ms)
{
	uint64_t	n = 0;
	size_t		i, digits;

	for (digits = 0; s[digits] >= '0' && s[digits] <= '9'; digits++)
		n = n * 10 + (uint64_t)(s[digits] - '0');
	if (digits == 0 || digits > 12)
		return MTASTS_ECONFIG;
	s += digits;
	if (*s == '\0') {
		*ms = n * 1000;
		return MTASTS_OK;
	}
	for (i = 0; i < sizeof(config_units) / sizeof(config_units[0]); i++)
		if (strcmp(s, config_units[i].name) == 0) {
			*ms = n * config_units[i].ms;
			return MTASTS_OK;
		}
	return MTASTS_ECONFIG;
}

/* A duration in whole seconds within min..max. */
static int
config_seconds(struct config_line *cl, const char *allowed, unsigned min,
    unsigned max, unsigned *out)
{
	uint64_t	ms;

	if (config_duration(cl->word[0], &ms) != MTASTS_OK)
		return config_bad(cl, "is not a duration", cl->word[0],
		    allowed);
	if (ms % 1000 != 0)
		return config_bad(cl, "is not whole seconds", cl->word[0],
		    allowed);
	if (ms / 1000 < min || ms / 1000 > max)
		return config_bad(cl, "is out of range", cl->word[0],
		    allowed);
	*out = (unsigned)(ms / 1000);
	return MTASTS_OK;
}

static int
set_path(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	char	**dst = (char **)((char *)conf + k->field);

	if (cl->word[0][0] != '/')
		return config_bad(cl, "is not an absolute path", cl->word[0],
		    k->usage);
	return config_strdup(dst, cl->word[0]);
}

/* store PATH | none */
static int
set_store(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	if (strcmp(cl->word[0], "none") == 0)
		return config_strdup(&conf->store, "");
	return set_path(conf, k, cl);
}

static int
set_lease(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	return config_seconds(cl, k->usage, 10, 86400, &conf->fleet_lease);
}

static int
set_text(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	char	**dst = (char **)((char *)conf + k->field);

	return config_strdup(dst, cl->word[0]);
}

static int
set_domain(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	char	**dst = (char **)((char *)conf + k->field);
	char	  name[MTASTS_NAME_MAX + 1];

	if (mtasts_name_normalize(cl->word[0], 0, name) != MTASTS_OK)
		return config_bad(cl, "is not a domain name", cl->word[0],
		    k->usage);
	return config_strdup(dst, name);
}

/* forwarder = (IPv4 / IPv6) ["@" port] */
static int
set_forwarder(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	char		 addr[INET6_ADDRSTRLEN + 1];
	unsigned char	 bin[sizeof(struct in6_addr)];
	const char	*v = cl->word[0], *at;
	size_t		 alen, i;
	unsigned	 port = 0;

	at = strrchr(v, '@');
	alen = at != NULL ? (size_t)(at - v) : strlen(v);
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    inet_pton(AF_INET6, addr, bin) != 1)
		goto bad;
	if (at != NULL) {
		for (i = 1; at[i] >= '0' && at[i] <= '9' && i <= 5; i++)
			port = port * 10 + (unsigned)(at[i] - '0');
		if (i == 1 || at[i] != '\0' || port == 0 || port > 65535)
			goto bad;
	}
	return strv_push(&conf->forwarders, &conf->nforwarders, NULL,
	    strdup(v));
bad:
	return config_bad(cl, "is not an address", v, k->usage);
}

/* proxy = ("http://" / "https://" / "socks5h://") 1*CHAR */
static int
set_proxy(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	static const char *const schemes[] = {
		"http://", "https://", "socks5h://"
	};
	const char	*v = cl->word[0];
	size_t		 i, n;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i]);
		if (strncasecmp(v, schemes[i], n) == 0 && v[n] != '\0' &&
		    v[n] != '/')
			return config_strdup(&conf->proxy, v);
	}
	return config_bad(cl, "is not a proxy URL", v, k->usage);
}

static int
set_timeout(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	unsigned	*dst = (unsigned *)((char *)conf + k->field);
	uint64_t	 ms;

	if (config_duration(cl->word[0], &ms) != MTASTS_OK)
		return config_bad(cl, "is not a duration", cl->word[0],
		    "digits with an optional unit ms, s, m, h or d, "
		    "from 1ms to 300s");
	if (ms < TIMEOUT_MIN_MS || ms > TIMEOUT_MAX_MS)
		return config_bad(cl, "is out of range", cl->word[0],
		    k->usage);
	*dst = (unsigned)ms;
	return MTASTS_OK;
}

/* check_interval: 0 means check the TXT id on every use. */
static int
set_check(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	return config_seconds(cl, k->usage, 0, INTERVAL_MAX_S,
	    &conf->check_interval);
}

/* retry_interval: RFC 8461 section 5.1 asks for at least 5 minutes. */
static int
set_retry(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	return config_seconds(cl, k->usage, RETRY_MIN_S, INTERVAL_MAX_S,
	    &conf->retry_interval);
}

static int
set_log_only(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	if (strcmp(cl->word[0], "yes") == 0)
		conf->log_only = 1;
	else if (strcmp(cl->word[0], "no") == 0)
		conf->log_only = 0;
	else
		return config_bad(cl, "is not a choice", cl->word[0],
		    k->usage);
	return MTASTS_OK;
}

/* override DOMAIN none|testing|enforce; one per domain. */
static int
set_override(struct config *conf, const struct config_key *k,
    struct config_line *cl)
{
	struct config_override	*ov;
	char			 name[MTASTS_NAME_MAX + 1];
	enum mtasts_mode	 mode;

	if (mtasts_name_normalize(cl->word[0], 0, name) != MTASTS_OK)
		return config_bad(cl, "is not a domain name", cl->word[0],
		    k->usage);
	if (mtasts_mode_parse(cl->word[1], &mode) != MTASTS_OK)
		return config_bad(cl, "is not a mode", cl->word[1],
		    k->usage);
	if (config_override(conf, name) != NULL)
		return diag_error(cl->diag, MTASTS_ECONFIG, cl->no, "line %u: "
		    "override: %s is given twice; allowed: one override per "
		    "domain", cl->no, name);
	ov = reallocarray(conf->overrides, conf->noverrides + 1,
	    sizeof(*ov));
	if (ov == NULL)
		return MTASTS_ENOMEM;
	conf->overrides = ov;
	if ((ov[conf->noverrides].domain = strdup(name)) == NULL)
		return MTASTS_ENOMEM;
	ov[conf->noverrides].mode = mode;
	conf->noverrides++;
	return MTASTS_OK;
}
