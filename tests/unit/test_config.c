/*
 * test_config.c - mtasts.conf(5): defaults, every key with good and bad
 * values (error text and line number), comments, durations and bounds,
 * and the shipped etc/mtasts.conf and man page.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/config.h"

static struct config	*parse_ok(const char *text);
static void		 parse_bad(const char *text, unsigned line,
			    const char *needle);
static char		*repo_path(const char *rel);
static char		*slurp(const char *path);

/* Every key with a valid value. */
static const struct {
	const char	*name;
	const char	*value;
} all_keys[] = {
	{ "store", "/x.db" }, { "resolv_conf", "/r" },
	{ "forwarder", "::1" }, { "trust_anchor", "/k" },
	{ "ca_file", "/c" }, { "ca_path", "/d" },
	{ "proxy", "http://p" }, { "dns_timeout", "1s" },
	{ "connect_timeout", "1s" }, { "fetch_timeout", "1s" },
	{ "store_timeout", "1s" }, { "check_interval", "1s" },
	{ "retry_interval", "1h" }, { "log_only", "yes" },
	{ "override", "a.example none" }, { "report_org", "Org" },
	{ "report_contact", "c" }, { "report_submitter", "e.example" },
	{ "report_dir", "/r" }, { "sendmail", "/s" },
	{ "sendmail_timeout", "2s" },
};
#define NALL	(sizeof(all_keys) / sizeof(all_keys[0]))

static struct config *
parse_ok(const char *text)
{
	struct config		*conf = NULL;
	struct mtasts_diag	 diag;
	int			 rc;

	rc = config_parse(text, strlen(text), &conf, &diag);
	if (rc != MTASTS_OK)
		fail_msg("config_parse(\"%s\"): %d: %s", text, rc,
		    diag.error.msg);
	assert_non_null(conf);
	return conf;
}

/* The text must fail on line with a message holding "line N: " and
 * needle. */
static void
parse_bad(const char *text, unsigned line, const char *needle)
{
	struct config		*conf = (struct config *)1;
	struct mtasts_diag	 diag;
	char			 prefix[32];
	int			 rc;

	rc = config_parse(text, strlen(text), &conf, &diag);
	if (rc != MTASTS_ECONFIG)
		fail_msg("config_parse(\"%s\") gave %d, not ECONFIG", text,
		    rc);
	assert_null(conf);
	snprintf(prefix, sizeof(prefix), "line %u: ", line);
	if (diag.error.line != line ||
	    strncmp(diag.error.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(diag.error.msg, needle) == NULL)
		fail_msg("config_parse(\"%s\"): line %u \"%s\", wanted line "
		    "%u and \"%s\"", text, diag.error.line, diag.error.msg,
		    line, needle);
}

/* A file of the source tree, found from where this file was compiled. */
static char *
repo_path(const char *rel)
{
	const char	*self = __FILE__;
	const char	*tail = strstr(self, "tests/unit/test_config.c");
	char		*p;
	int		 n;

	assert_non_null(tail);
	n = (int)(tail - self);
	assert_true(asprintf(&p, "%.*s%s", n, self, rel) > 0);
	return p;
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void
check_defaults(const struct config *conf)
{
	assert_string_equal(conf->store, "/var/lib/mtasts/mtasts.db");
	assert_null(conf->resolv_conf);
	assert_int_equal(conf->nforwarders, 0);
	assert_null(conf->trust_anchor);
	assert_null(conf->ca_file);
	assert_null(conf->ca_path);
	assert_null(conf->proxy);
	assert_int_equal(conf->dns_timeout, 5000);
	assert_int_equal(conf->connect_timeout, 5000);
	assert_int_equal(conf->fetch_timeout, 15000);
	assert_int_equal(conf->store_timeout, 2000);
	assert_int_equal(conf->sendmail_timeout, 60000);
	assert_int_equal(conf->check_interval, 600);
	assert_int_equal(conf->retry_interval, 300);
	assert_int_equal(conf->log_only, 0);
	assert_int_equal(conf->noverrides, 0);
	assert_null(conf->report_org);
	assert_null(conf->report_contact);
	assert_null(conf->report_submitter);
	assert_string_equal(conf->report_dir, "/var/lib/mtasts/reports");
	assert_string_equal(conf->sendmail, "/usr/sbin/sendmail");
}

static void
test_defaults(void **state)
{
	struct config		*conf;
	struct mtasts_diag	 diag;

	assert_int_equal(config_load(NULL, &conf, &diag), MTASTS_OK);
	check_defaults(conf);
	config_free(conf);
	conf = parse_ok("");
	check_defaults(conf);
	config_free(conf);
	conf = parse_ok("\n\n# only comments\n   \t\n\t# indented\n");
	check_defaults(conf);
	config_free(conf);
}

static void
test_every_key(void **state)
{
	struct config	*conf;

	conf = parse_ok(
	    "store /srv/mtasts/cache.db\n"
	    "resolv_conf /etc/mtasts/resolv.conf\n"
	    "forwarder 127.0.0.1\n"
	    "forwarder ::1@5353\n"
	    "forwarder 192.0.2.1@53\n"
	    "trust_anchor /usr/share/dns/root.key\n"
	    "ca_file /etc/ssl/certs/ca-certificates.crt\n"
	    "ca_path /etc/ssl/certs\n"
	    "proxy socks5h://127.0.0.1:1080\n"
	    "dns_timeout 2s\n"
	    "connect_timeout 1500ms\n"
	    "fetch_timeout 1m\n"
	    "store_timeout 250ms\n"
	    "check_interval 0\n"
	    "retry_interval 1h\n"
	    "log_only yes\n"
	    "override Example.COM. enforce\n"
	    "override broken.example none\n"
	    "override test.example testing\n"
	    "report_org Example  Org, Inc.  # trailing comment\n"
	    "report_contact mailto:tlsrpt@example.com (the postmaster)\n"
	    "report_submitter MX.Example.com\n"
	    "report_dir /var/spool/mtasts\n"
	    "sendmail /usr/lib/sendmail\n");
	assert_string_equal(conf->store, "/srv/mtasts/cache.db");
	assert_string_equal(conf->resolv_conf, "/etc/mtasts/resolv.conf");
	assert_int_equal(conf->nforwarders, 3);
	assert_string_equal(conf->forwarders[0], "127.0.0.1");
	assert_string_equal(conf->forwarders[1], "::1@5353");
	assert_string_equal(conf->forwarders[2], "192.0.2.1@53");
	assert_string_equal(conf->trust_anchor, "/usr/share/dns/root.key");
	assert_string_equal(conf->ca_file,
	    "/etc/ssl/certs/ca-certificates.crt");
	assert_string_equal(conf->ca_path, "/etc/ssl/certs");
	assert_string_equal(conf->proxy, "socks5h://127.0.0.1:1080");
	assert_int_equal(conf->dns_timeout, 2000);
	assert_int_equal(conf->connect_timeout, 1500);
	assert_int_equal(conf->fetch_timeout, 60000);
	assert_int_equal(conf->store_timeout, 250);
	assert_int_equal(conf->check_interval, 0);
	assert_int_equal(conf->retry_interval, 3600);
	assert_int_equal(conf->log_only, 1);
	assert_int_equal(conf->noverrides, 3);
	assert_string_equal(conf->overrides[0].domain, "example.com");
	assert_int_equal(conf->overrides[0].mode, MTASTS_MODE_ENFORCE);
	assert_int_equal(conf->overrides[1].mode, MTASTS_MODE_NONE);
	assert_int_equal(conf->overrides[2].mode, MTASTS_MODE_TESTING);
	assert_string_equal(conf->report_org, "Example  Org, Inc.");
	assert_string_equal(conf->report_contact,
	    "mailto:tlsrpt@example.com (the postmaster)");
	assert_string_equal(conf->report_submitter, "mx.example.com");
	assert_string_equal(conf->report_dir, "/var/spool/mtasts");
	assert_string_equal(conf->sendmail, "/usr/lib/sendmail");
	config_free(conf);
}

static void
test_store_none(void **state)
{
	struct config	*conf;

	conf = parse_ok("store none\n");
	assert_string_equal(conf->store, "");
	config_free(conf);
}

static void
test_small_values(void **state)
{
	struct config	*conf;

	conf = parse_ok("log_only no\nproxy http://proxy.example:3128/\n"
	    "forwarder 2001:db8::53\n");
	assert_int_equal(conf->log_only, 0);
	assert_string_equal(conf->proxy, "http://proxy.example:3128/");
	assert_string_equal(conf->forwarders[0], "2001:db8::53");
	config_free(conf);
	conf = parse_ok("proxy https://proxy.example\n");
	assert_string_equal(conf->proxy, "https://proxy.example");
	config_free(conf);
}

static void
test_override_lookup(void **state)
{
	struct config			*conf;
	const struct config_override	*ov;

	conf = parse_ok("override example.com testing\n"
	    "override xn--bcher-kva.example enforce\n");
	ov = config_override(conf, "example.com");
	assert_non_null(ov);
	assert_int_equal(ov->mode, MTASTS_MODE_TESTING);
	/* Exact match only: subdomains and parents are not covered. */
	assert_null(config_override(conf, "mail.example.com"));
	assert_null(config_override(conf, "com"));
	assert_null(config_override(conf, "other.example"));
	ov = config_override(conf, "xn--bcher-kva.example");
	assert_non_null(ov);
	assert_int_equal(ov->mode, MTASTS_MODE_ENFORCE);
	config_free(conf);
}

static void
test_comments(void **state)
{
	struct config	*conf;

	conf = parse_ok("# a comment\n"
	    "\n"
	    "   # indented comment\n"
	    "dns_timeout 3s # after the value\n"
	    "connect_timeout\t4s\t#tab then comment\n"
	    "report_org ACME#1 Widgets # the hash without space is text\n"
	    "\t\n"
	    "fetch_timeout 7s\r\n"
	    "store_timeout 9s");		/* no final newline */
	assert_int_equal(conf->dns_timeout, 3000);
	assert_int_equal(conf->connect_timeout, 4000);
	assert_string_equal(conf->report_org, "ACME#1 Widgets");
	assert_int_equal(conf->fetch_timeout, 7000);
	assert_int_equal(conf->store_timeout, 9000);
	config_free(conf);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 check;	/* check_interval, s */
	} t[] = {
		{ "check_interval 0\n", 0 },
		{ "check_interval 45\n", 45 },
		{ "check_interval 45s\n", 45 },
		{ "check_interval 2000ms\n", 2 },
		{ "check_interval 10m\n", 600 },
		{ "check_interval 2h\n", 7200 },
		{ "check_interval 1d\n", 86400 },
		{ "check_interval 365d\n", 31536000 },
		{ "check_interval 31557600\n", 31557600 },
	};
	struct config	*conf;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conf = parse_ok(t[i].text);
		assert_int_equal(conf->check_interval, t[i].check);
		config_free(conf);
	}
	conf = parse_ok("dns_timeout 1ms\nconnect_timeout 300s\n"
	    "fetch_timeout 5m\nstore_timeout 300000ms\n");
	assert_int_equal(conf->dns_timeout, 1);
	assert_int_equal(conf->connect_timeout, 300000);
	assert_int_equal(conf->fetch_timeout, 300000);
	assert_int_equal(conf->store_timeout, 300000);
	config_free(conf);
	conf = parse_ok("retry_interval 300\n");
	assert_int_equal(conf->retry_interval, 300);
	config_free(conf);
	conf = parse_ok("retry_interval 5m\n");
	assert_int_equal(conf->retry_interval, 300);
	config_free(conf);
}

static void
test_bad_values(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 line;
		const char	*needle;
	} t[] = {
		{ "store relative.db\n", 1, "store: \"relative.db\" is not "
		    "an absolute path; allowed: an absolute path or none" },
		{ "\nresolv_conf etc/resolv.conf\n", 2, "resolv_conf: "
		    "\"etc/resolv.conf\" is not an absolute path" },
		{ "trust_anchor root.key\n", 1, "trust_anchor: \"root.key\"" },
		{ "ca_file x\n", 1, "ca_file: \"x\" is not an absolute path" },
		{ "ca_path x\n", 1, "ca_path: \"x\" is not an absolute path" },
		{ "report_dir x\n", 1, "report_dir: \"x\"" },
		{ "sendmail sendmail\n", 1, "sendmail: \"sendmail\"" },
		{ "forwarder 1.2.3\n", 1, "forwarder: \"1.2.3\" is not an "
		    "address; allowed: an IPv4 or IPv6 address, optionally "
		    "followed by @port" },
		{ "forwarder example.com\n", 1, "forwarder: \"example.com\"" },
		{ "forwarder 127.0.0.1@\n", 1, "forwarder: \"127.0.0.1@\"" },
		{ "forwarder 127.0.0.1@0\n", 1, "forwarder: \"127.0.0.1@0\"" },
		{ "forwarder 127.0.0.1@65536\n", 1, "\"127.0.0.1@65536\"" },
		{ "forwarder 127.0.0.1@53x\n", 1, "\"127.0.0.1@53x\"" },
		{ "forwarder ::1@123456\n", 1, "\"::1@123456\"" },
		{ "forwarder @53\n", 1, "\"@53\"" },
		{ "forwarder [::1]:53\n", 1, "\"[::1]:53\"" },
		{ "proxy ftp://x\n", 1, "proxy: \"ftp://x\" is not a proxy "
		    "URL; allowed: a URL starting with http://, https:// or "
		    "socks5h://" },
		{ "proxy socks5://127.0.0.1\n", 1, "\"socks5://127.0.0.1\"" },
		{ "proxy http://\n", 1, "proxy: \"http://\"" },
		{ "dns_timeout fast\n", 1, "dns_timeout: \"fast\" is not a "
		    "duration; allowed: digits with an optional unit ms, s, m, "
		    "h or d, from 1ms to 300s" },
		{ "dns_timeout 0\n", 1, "dns_timeout: \"0\" is out of range; "
		    "allowed: a duration from 1ms to 300s" },
		{ "connect_timeout 301s\n", 1, "connect_timeout: \"301s\" is "
		    "out of range" },
		{ "fetch_timeout 6m\n", 1, "fetch_timeout: \"6m\" is out of "
		    "range" },
		{ "store_timeout 300001ms\n", 1, "store_timeout: \"300001ms\" "
		    "is out of range" },
		{ "store_timeout 5 s\n", 1, "store_timeout takes a duration" },
		{ "store_timeout 5sec\n", 1, "\"5sec\" is not a duration" },
		{ "store_timeout -5\n", 1, "\"-5\" is not a duration" },
		{ "store_timeout 1.5s\n", 1, "\"1.5s\" is not a duration" },
		{ "store_timeout 99999999999999999999\n", 1,
		    "is not a duration" },
		{ "check_interval 1500ms\n", 1, "check_interval: \"1500ms\" "
		    "is not whole seconds" },
		{ "check_interval 366d\n", 1, "check_interval: \"366d\" is "
		    "out of range; allowed: whole seconds from 0 to 365d" },
		{ "retry_interval 299\n", 1, "retry_interval: \"299\" is out "
		    "of range; allowed: whole seconds from 300s (RFC 8461's "
		    "five minutes)" },
		{ "retry_interval 4m\n", 1, "RFC 8461's five minutes" },
		{ "retry_interval 0\n", 1, "RFC 8461" },
		{ "log_only maybe\n", 1, "log_only: \"maybe\" is not a choice; "
		    "allowed: yes or no" },
		{ "log_only YES\n", 1, "log_only: \"YES\"" },
		{ "override example.com\n", 1, "override takes a domain and "
		    "none, testing or enforce" },
		{ "override example.com strict\n", 1, "override: \"strict\" "
		    "is not a mode; allowed: a domain and none, testing or "
		    "enforce" },
		{ "override bad..name enforce\n", 1, "override: \"bad..name\" "
		    "is not a domain name" },
		{ "override 192.0.2.1 enforce\n", 1, "\"192.0.2.1\" is not a "
		    "domain name" },
		{ "override a.example enforce extra\n", 1, "override takes" },
		{ "override a.example enforce\noverride A.example. none\n", 2,
		    "override: a.example is given twice" },
		{ "report_submitter not_a_host!\n", 1, "report_submitter: "
		    "\"not_a_host!\" is not a domain name" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		parse_bad(t[i].text, t[i].line, t[i].needle);
}

static void
test_missing_value(void **state)
{
	size_t	i;
	char	text[64];

	for (i = 0; i < NALL; i++) {
		snprintf(text, sizeof(text), "# x\n%s\n", all_keys[i].name);
		parse_bad(text, 2, all_keys[i].name);
		parse_bad(text, 2, " takes ");
		snprintf(text, sizeof(text), "# x\n%s   # comment\n",
		    all_keys[i].name);
		parse_bad(text, 2, " takes ");
	}
	parse_bad("store /a /b\n", 1, "store takes an absolute path or none");
	parse_bad("log_only yes no\n", 1, "log_only takes yes or no");
}

static void
test_unknown_key(void **state)
{
	parse_bad("dns_timeout 2s\nfoo bar\n", 2, "unknown key \"foo\"");
	parse_bad("Store /x\n", 1, "unknown key \"Store\"");
	parse_bad("store#x /x\n", 1, "unknown key \"store#x\"");
}

static void
test_duplicate_key(void **state)
{
	size_t	i;
	char	text[256];

	parse_bad("store /a\n\n# c\nstore /b\n", 4,
	    "store is already set on line 1");
	parse_bad("log_only no\nlog_only no\n", 2, "log_only is already set");
	parse_bad("report_org A\nreport_org B\n", 2, "report_org is already");
	/* Every key but the repeatable ones. */
	for (i = 0; i < NALL; i++) {
		if (strcmp(all_keys[i].name, "forwarder") == 0) {
			snprintf(text, sizeof(text), "forwarder ::1\n"
			    "forwarder ::1\n");
			config_free(parse_ok(text));	/* repeatable */
			continue;
		}
		if (strcmp(all_keys[i].name, "override") == 0)
			continue;
		snprintf(text, sizeof(text), "%s %s\n%s %s\n",
		    all_keys[i].name, all_keys[i].value, all_keys[i].name,
		    all_keys[i].value);
		parse_bad(text, 2, "already set on line 1");
	}
}

static void
test_line_limits(void **state)
{
	struct config		*conf;
	struct mtasts_diag	 diag;
	char			 text[2100];
	size_t			 n;

	/* 1024 bytes is fine, 1025 is not. */
	n = (size_t)snprintf(text, sizeof(text), "report_org ");
	memset(text + n, 'x', 1024 - n);
	text[1024] = '\0';
	conf = parse_ok(text);
	assert_int_equal(strlen(conf->report_org), 1024 - 11);
	config_free(conf);
	memcpy(text + 1024, "x\n", 3);
	parse_bad(text, 1, "longer than 1024 bytes");
	/* CR of CRLF does not count. */
	memcpy(text + 1024, "\r\n", 3);
	conf = parse_ok(text);
	config_free(conf);

	parse_bad("# ok\nstore /a\x01\n", 2, "control character 0x01");
	parse_bad("report_org A\x7f\n", 1, "control character 0x7f");
	parse_bad("report_org A\rB\n", 1, "control character 0x0d");
	memcpy(text, "store /a\0b\n", 11);
	assert_int_equal(config_parse(text, 11, &conf, &diag),
	    MTASTS_ECONFIG);
	assert_non_null(strstr(diag.error.msg, "control character 0x00"));

	/* The buffer need not end in NUL: only len bytes are read. */
	memcpy(text, "log_only yesXXXX", 16);
	assert_int_equal(config_parse(text, 12, &conf, &diag), MTASTS_OK);
	assert_int_equal(conf->log_only, 1);
	config_free(conf);
}

static void
test_load_file(void **state)
{
	struct config		*conf;
	struct mtasts_diag	 diag;
	char			 path[] = "/tmp/test_config.XXXXXX";
	const char		*text = "log_only yes\nstore none\n";
	int			 fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	assert_int_equal(config_load(path, &conf, &diag), MTASTS_OK);
	assert_int_equal(conf->log_only, 1);
	assert_string_equal(conf->store, "");
	config_free(conf);

	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bogus 1\n", 8), 8);
	close(fd);
	assert_int_equal(config_load(path, &conf, &diag), MTASTS_ECONFIG);
	assert_null(conf);
	assert_int_equal(diag.error.line, 3);
	assert_string_equal(diag.error.msg, "line 3: unknown key \"bogus\" "
	    "(see mtasts.conf(5))");
	unlink(path);

	assert_int_equal(config_load(path, &conf, &diag), MTASTS_EIO);
	assert_null(conf);
	assert_non_null(strstr(diag.error.msg, path));
	assert_non_null(strstr(diag.error.msg, strerror(ENOENT)));
	assert_int_equal(config_load("/", &conf, &diag), MTASTS_EIO);
	assert_non_null(strstr(diag.error.msg, strerror(EISDIR)));
}

/* The shipped file parses, names every key, and sets only defaults. */
static void
test_shipped_conf(void **state)
{
	struct config		*conf;
	struct mtasts_diag	 diag;
	char			*path, *text, key[64];
	size_t			 i;

	path = repo_path("etc/mtasts.conf");
	if (config_load(path, &conf, &diag) != MTASTS_OK)
		fail_msg("%s: %s", path, diag.error.msg);
	check_defaults(conf);
	config_free(conf);
	text = slurp(path);
	for (i = 0; i < NALL; i++) {
		snprintf(key, sizeof(key), "\n#%s ", all_keys[i].name);
		if (strstr(text, key) == NULL)
			fail_msg("%s does not show key %s", path,
			    all_keys[i].name);
	}
	free(text);
	free(path);
}

/* The examples of the man page parse. */
static void
test_man_examples(void **state)
{
	struct config	*conf;

	conf = parse_ok("log_only yes\n"
	    "override partner.example none\n"
	    "override example.net     enforce\n"
	    "forwarder    ::1@5353\n"
	    "trust_anchor /usr/share/dns/root.key\n"
	    "proxy        http://proxy.example.net:3128\n"
	    "fetch_timeout 20s\n"
	    "report_org       Example Org\n"
	    "report_contact   mailto:postmaster@example.net\n"
	    "report_submitter mx.example.net\n");
	assert_int_equal(config_override(conf, "partner.example")->mode,
	    MTASTS_MODE_NONE);
	assert_string_equal(conf->report_org, "Example Org");
	config_free(conf);
}

/* The man page documents every key. */
static void
test_man_page(void **state)
{
	char	*path, *text, key[64];
	size_t	 i;

	path = repo_path("man/mtasts.conf.5");
	text = slurp(path);
	for (i = 0; i < NALL; i++) {
		snprintf(key, sizeof(key), "\n.It Ic %s ", all_keys[i].name);
		if (strstr(text, key) == NULL)
			fail_msg("%s does not document key %s", path,
			    all_keys[i].name);
	}
	free(text);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_store_none),
		cmocka_unit_test(test_small_values),
		cmocka_unit_test(test_override_lookup),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_shipped_conf),
		cmocka_unit_test(test_man_examples),
		cmocka_unit_test(test_man_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
