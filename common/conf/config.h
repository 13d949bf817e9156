/*
 * config.h - mtasts.conf(5): read once into a struct config that every
 * module reads and none changes.
 *
 * Syntax: one "key value" per line, '#' starts a comment, blank lines
 * ignored. Unknown keys and bad values are errors that name the line.
 */
#ifndef MTASTS_CONFIG_H
#define MTASTS_CONFIG_H

#include "mtasts.h"

#define CONFIG_DEFAULT_STORE	"/var/lib/mtasts/mtasts.db"
#define CONFIG_DEFAULT_REPORT_DIR "/var/lib/mtasts/reports"
#define CONFIG_DEFAULT_SENDMAIL	"/usr/sbin/sendmail"

struct config_override {
	char			*domain;	/* normalised domain */
	enum mtasts_mode	 mode;		/* forced mode */
};

struct config {
	char		*store;		/* cache path; "" disables the cache */
	char		*resolv_conf;	/* NULL: /etc/resolv.conf */
	char		**forwarders;	/* "ip" or "ip@port"; when set,
					   used instead of resolv_conf */
	size_t		 nforwarders;
	char		*trust_anchor;	/* DNSSEC root key file; NULL: no
					   validation */
	char		*ca_file;	/* CA bundle for the policy fetch;
					   NULL: the system's */
	char		*ca_path;	/* CA directory; NULL: the system's */
	char		*proxy;		/* HTTPS proxy URL; NULL: none, and
					   the environment is ignored */
	unsigned	 dns_timeout;	  /* ms, one DNS query, all retries */
	unsigned	 connect_timeout; /* ms, TCP+TLS connect of a fetch */
	unsigned	 fetch_timeout;	  /* ms, a whole fetch */
	unsigned	 store_timeout;	  /* ms, waiting for a locked store */
	unsigned	 check_interval;  /* s, TXT id re-check of a cached
					     policy */
	unsigned	 retry_interval;  /* s, at least 300: after a failed
					     fetch of an id */
	int		 log_only;	/* log refusals instead of refusing */
	struct config_override *overrides;
	size_t		 noverrides;

	/* TLS-RPT (RFC 8460) */
	char		*report_org;	  /* organization-name */
	char		*report_contact;  /* contact-info */
	char		*report_submitter; /* domain of the submitter */
	char		*report_dir;	  /* where built reports are kept */
	char		*sendmail;	  /* path of sendmail(8) */
	unsigned	 sendmail_timeout; /* ms, one sendmail run: writing
					     the message and its exit */

	/* Fleets: PostgreSQL shared by many hosts (mtasts sync) */
	char		*fleet;		  /* libpq connection string; NULL:
					     no fleet */
	char		*fleet_host;	  /* this host's name in the fleet;
					     NULL: gethostname() */
	unsigned	 fleet_lease;	  /* s, a refresh lease in the fleet */
};

/*
 * Reads path into a new config; NULL path gives the built-in defaults.
 * MTASTS_ECONFIG (diag says which line and why), MTASTS_EIO when the file
 * cannot be read, MTASTS_ENOMEM.
 */
int	config_load(const char *path, struct config **out,
	    struct mtasts_diag *diag);
/*
 * The same from len bytes in memory (need not be NUL-terminated; NULL
 * with len 0 gives the defaults). MTASTS_ECONFIG, MTASTS_ENOMEM.
 */
int	config_parse(const char *buf, size_t len, struct config **out,
	    struct mtasts_diag *diag);
void	config_free(struct config *conf);
/*
 * The override for a normalised domain, or NULL. Exact match: an
 * override for example.com does not cover its subdomains.
 */
const struct config_override *config_override(const struct config *conf,
	    const char *domain);

#endif
