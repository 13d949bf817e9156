/*
 * tlsrpt_spool.c - the TLS-RPT spool: results appended to a flat file on
 * the delivery path, folded into the store's counters when they are read.
 *
 * Recording one result is one line, written with one write(2) to the
 * spool opened O_APPEND, under flock(LOCK_SH): no SQLite on the delivery
 * path. A line is
 *
 *	1 TAB tag TAB day TAB domain TAB type TAB result TAB mx TAB rip
 *	TAB sip TAB detail LF
 *
 * or, when the result says the mode its session ran under (for the
 * metrics), version 2 with two more fields:
 *
 *	2 TAB ... TAB detail TAB mode TAB deferred LF
 *
 * (deferred is 0 or 1: enforce refused the session). Both are read.
 * with '\\', TAB, LF and CR escaped as \\ \t \n \r, so no field holds a
 * separator. Lines stay under TLSRPT_SPOOL_LINE_MAX bytes. The tag names
 * the store's database file (store.c): lines spooled for a file that has
 * since been deleted and created again are dropped, not folded.
 *
 * Folding renames the spool to "<spool>.fold-<pid>-<time>" (new writers
 * then create a new spool), and takes every "<spool>.fold-*" file in the
 * folder (also those a failed fold left behind): flock(LOCK_EX) waits
 * out the writers that opened it before the rename, its lines go to the
 * sink in one transaction, and it is unlinked. A writer that gets its
 * lock on a file already folded (no links left) writes again to the
 * spool; one that finds a fold holding the lock does not wait, it opens
 * the spool again. A line that does not parse is logged and skipped.
 * Knows no SQL: the sink (store_tlsrpt.c) writes the counters.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/fs.h"
#include "store/tlsrpt_spool.h"

#define SPOOL_TRIES	8
#define SPOOL_NFIELDS	10	/* version 1 */
#define SPOOL_NFIELDS2	12	/* version 2: mode, deferred */
#define SPOOL_TAG_MAX	63
#define SPOOL_TOKEN_MAX	64
#define SPOOL_FOLD_TAG	".fold-"

static int	spool_open(const char *, const struct logger *);
static int	spool_create(const char *, const struct logger *);
static size_t	spool_escape(char *, const char *);
static int	spool_unescape(char *);
static int	spool_token(const char *);
static int	spool_fold_file(const char *, const char *,
		    const struct logger *, const struct tlsrpt_spool_sink *);
static int	spool_fold_lines(FILE *, const char *, const char *,
		    const struct logger *, const struct tlsrpt_spool_sink *);
static int	spool_fold_prefix(const char *, char **, char **);
static int	spool_count_lines(const char *, unsigned long long *);

int
tlsrpt_spool_line(const char *tag, const struct store_tlsrpt_row *r,
    char *buf, size_t size)
{
	const char	*f[7];
	size_t		 i, len, need;

	if (tag == NULL || *tag == '\0' || strlen(tag) > SPOOL_TAG_MAX ||
	    strpbrk(tag, "\t\n\r\\") != NULL ||
	    r->domain == NULL || *r->domain == '\0' || r->day < 0 ||
	    r->policy_type == NULL || r->result == NULL ||
	    (r->mode != NULL && spool_token(r->mode) != 0))
		return -1;
	f[0] = r->domain;
	f[1] = r->policy_type;
	f[2] = r->result;
	f[3] = r->mx != NULL ? r->mx : "";
	f[4] = r->receiving_ip != NULL ? r->receiving_ip : "";
	f[5] = r->sending_ip != NULL ? r->sending_ip : "";
	f[6] = r->detail != NULL ? r->detail : "";
	need = 32 + strlen(tag);
	for (i = 0; i < 7; i++)
		need += strlen(f[i]) * 2 + 1;
	if (r->mode != NULL)
		need += strlen(r->mode) + 4;
	if (need > size)
		return -1;
	len = (size_t)snprintf(buf, size, "%c\t%s\t%lld",
	    r->mode != NULL ? '2' : '1', tag, r->day);
	for (i = 0; i < 7; i++) {
		buf[len++] = '\t';
		len += spool_escape(buf + len, f[i]);
	}
	if (r->mode != NULL)
		len += (size_t)snprintf(buf + len, size - len, "\t%s\t%d",
		    r->mode, r->deferred != 0);
	buf[len++] = '\n';
	buf[len] = '\0';
	return (int)len;
}

static size_t
spool_escape(char *out, const char *in)
{
	size_t	n = 0;

	for (; *in != '\0'; in++) {
		switch (*in) {
		case '\\':
			out[n++] = '\\';
			out[n++] = '\\';
			break;
		case '\t':
			out[n++] = '\\';
			out[n++] = 't';
			break;
		case '\n':
			out[n++] = '\\';
			out[n++] = 'n';
			break;
		case '\r':
			out[n++] = '\\';
			out[n++] = 'r';
			break;
		default:
			out[n++] = *in;
		}
	}
	return n;
}

int
tlsrpt_spool_append(const char *path, const char *tag,
    const struct store_tlsrpt_row *r, const struct logger *lg)
{
	struct stat	 sb;
	char		 line[TLSRPT_SPOOL_LINE_MAX];
	ssize_t		 n;
	int		 fd, len, tries;

	if (path == NULL || (len = tlsrpt_spool_line(tag, r, line,
	    sizeof(line))) < 0)
		return MTASTS_EINVAL;
	for (tries = 0; tries < SPOOL_TRIES; tries++) {
		if ((fd = spool_open(path, lg)) < 0)
			return MTASTS_EIO;
		/* A fold holds it: it was renamed, the path is a new file. */
		if (flock(fd, LOCK_SH | LOCK_NB) == -1) {
			close(fd);
			if (errno == EWOULDBLOCK || errno == EINTR)
				continue;
			log_warn(lg, "tlsrpt spool %s: lock: %s", path,
			    strerror(errno));
			return MTASTS_EIO;
		}
		/* Folded and unlinked between our open and our lock. */
		if (fstat(fd, &sb) == -1 || sb.st_nlink == 0) {
			close(fd);
			continue;
		}
		n = write(fd, line, (size_t)len);
		close(fd);
		if (n == len)
			return MTASTS_OK;
		log_warn(lg, "tlsrpt spool %s: write: %s", path,
		    n < 0 ? strerror(errno) : "short write");
		return MTASTS_EIO;
	}
	log_warn(lg, "tlsrpt spool %s: busy, result not recorded", path);
	return MTASTS_EIO;
}

/* Opens the spool for appending, creating it when missing. */
static int
spool_open(const char *path, const struct logger *lg)
{
	int	fd, i;

	for (i = 0; i < SPOOL_TRIES; i++) {
		fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1 || errno != ENOENT)
			break;
		if ((fd = spool_create(path, lg)) != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		log_warn(lg, "tlsrpt spool %s: open: %s", path,
		    strerror(errno));
	return fd;
}

/*
 * Creates the spool with FS_SHARED_MODE whatever the umask; when root
 * creates it, it goes to the owner and group of its folder, as the store
 * file does, so that the MTA user can append to it. -1 with EEXIST when
 * another process created it first.
 */
static int
spool_create(const char *path, const struct logger *lg)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, FS_SHARED_MODE);
	if (fd == -1)
		return -1;
	fs_share_new_file(fd, path, lg);
	return fd;
}

int
tlsrpt_spool_fold(const char *path, const char *tag,
    const struct logger *lg, const struct tlsrpt_spool_sink *sink)
{
	struct timespec	 ts;
	struct dirent	*de;
	DIR		*d = NULL;
	char		*dir = NULL, *prefix = NULL;
	char		*fold = NULL;
	size_t		 plen;
	int		 rc = MTASTS_ENOMEM, err = MTASTS_OK;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (asprintf(&fold, "%s" SPOOL_FOLD_TAG "%ld-%lld.%09ld", path,
	    (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec) == -1) {
		fold = NULL;
		goto fail;
	}
	if (rename(path, fold) == -1 && errno != ENOENT) {
		log_err(lg, "tlsrpt spool %s: rename: %s", path,
		    strerror(errno));
		rc = MTASTS_EIO;
		goto fail;
	}
	if ((rc = spool_fold_prefix(path, &dir, &prefix)) != MTASTS_OK)
		goto fail;
	rc = MTASTS_ENOMEM;
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL) {
		log_err(lg, "tlsrpt spool %s: %s", dir, strerror(errno));
		rc = MTASTS_EIO;
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		free(fold);
		if (asprintf(&fold, "%s/%s", dir, de->d_name) == -1) {
			fold = NULL;
			goto fail;
		}
		if ((rc = spool_fold_file(fold, tag, lg, sink)) != MTASTS_OK)
			err = rc;
	}
	rc = err;
fail:
	if (d != NULL)
		closedir(d);
	free(prefix);
	free(fold);
	free(dir);
	return rc;
}

/* One renamed spool: all its lines in one transaction, then unlinked. */
static int
spool_fold_file(const char *path, const char *tag,
    const struct logger *lg, const struct tlsrpt_spool_sink *sink)
{
	struct stat	 sb;
	FILE		*fp;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return MTASTS_OK;
		log_err(lg, "tlsrpt spool %s: %s", path, strerror(errno));
		return MTASTS_EIO;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			log_err(lg, "tlsrpt spool %s: lock: %s", path,
			    strerror(errno));
			close(fd);
			return MTASTS_EIO;
		}
	}
	/* Another fold took it first. */
	if (fstat(fd, &sb) == -1 || sb.st_nlink == 0) {
		close(fd);
		return MTASTS_OK;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return MTASTS_ENOMEM;
	}
	if ((rc = sink->begin(sink->arg)) != MTASTS_OK)
		goto done;
	if ((rc = spool_fold_lines(fp, path, tag, lg, sink)) != MTASTS_OK ||
	    (rc = sink->commit(sink->arg)) != MTASTS_OK) {
		sink->rollback(sink->arg);
		goto done;
	}
	if (unlink(path) == -1)
		log_err(lg, "tlsrpt spool %s: unlink: %s", path,
		    strerror(errno));
done:
	fclose(fp);
	return rc;
}

static int
spool_fold_lines(FILE *fp, const char *path, const char *tag,
    const struct logger *lg, const struct tlsrpt_spool_sink *sink)
{
	struct store_tlsrpt_row	 r;
	const char		*ltag;
	unsigned long		 stale = 0;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 len;
	unsigned long		 lineno = 0;
	int			 rc = MTASTS_OK;

	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (tlsrpt_spool_parse(line, (size_t)len, &ltag, &r) != 0) {
			log_warn(lg, "tlsrpt spool %s: line %lu: malformed, "
			    "skipped", path, lineno);
			continue;
		}
		if (strcmp(ltag, tag) != 0 && strcmp(ltag, "-") != 0 &&
		    strcmp(tag, "-") != 0) {
			stale++;
			continue;
		}
		if ((rc = sink->add(sink->arg, &r)) != MTASTS_OK)
			break;
	}
	if (rc == MTASTS_OK && ferror(fp)) {
		log_err(lg, "tlsrpt spool %s: read: %s", path,
		    strerror(errno));
		rc = MTASTS_EIO;
	}
	if (stale > 0)
		log_info(lg, "tlsrpt spool %s: %lu results of a replaced "
		    "store dropped", path, stale);
	free(line);
	return rc;
}

/*
 * line = "1" TAB tag TAB day TAB domain TAB type TAB result TAB mx TAB rip TAB
 * sip TAB detail LF; fields are unescaped in place and r points into
 * line. 0, or -1 for a malformed line.
 */
int
tlsrpt_spool_parse(char *line, size_t len, const char **tag,
    struct store_tlsrpt_row *r)
{
	char		*f[SPOOL_NFIELDS2], *p, *end;
	long long	 day;
	int		 i, nf;

	if (len == 0 || len >= TLSRPT_SPOOL_LINE_MAX || line[len - 1] != '\n'
	    || memchr(line, '\0', len) != NULL)
		return -1;
	line[len - 1] = '\0';
	for (i = 0, p = line; i < SPOOL_NFIELDS2; i++) {
		f[i] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	nf = strcmp(f[0], "1") == 0 ? SPOOL_NFIELDS :
	    strcmp(f[0], "2") == 0 ? SPOOL_NFIELDS2 : 0;
	if (nf == 0 || i != nf - 1)
		return -1;
	if (nf == SPOOL_NFIELDS2 && (spool_token(f[10]) != 0 ||
	    (strcmp(f[11], "0") != 0 && strcmp(f[11], "1") != 0)))
		return -1;
	for (i = 3; i < SPOOL_NFIELDS; i++)
		if (spool_unescape(f[i]) != 0)
			return -1;
	if (*f[1] == '\0' || strlen(f[1]) > SPOOL_TAG_MAX ||
	    strchr(f[1], '\\') != NULL || f[2][0] < '0' || f[2][0] > '9')
		return -1;
	errno = 0;
	day = strtoll(f[2], &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	if (*f[3] == '\0' || strlen(f[3]) > MTASTS_NAME_MAX ||
	    spool_token(f[4]) != 0 || spool_token(f[5]) != 0 ||
	    strlen(f[6]) > MTASTS_NAME_MAX || strlen(f[7]) >= 64 ||
	    strlen(f[8]) >= 64 || strlen(f[9]) > TLSRPT_DETAIL_MAX)
		return -1;
	memset(r, 0, sizeof(*r));
	*tag = f[1];
	r->day = day;
	r->domain = f[3];
	r->policy_type = f[4];
	r->result = f[5];
	r->mx = f[6];
	r->receiving_ip = f[7];
	r->sending_ip = f[8];
	r->detail = f[9];
	r->count = 1;
	if (nf == SPOOL_NFIELDS2) {
		r->mode = f[10];
		r->deferred = f[11][0] == '1';
	}
	return 0;
}

static int
spool_unescape(char *s)
{
	char	*o = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case '\\':
			*o++ = '\\';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		default:
			return -1;
		}
	}
	*o = '\0';
	return 0;
}

/* A result or policy type name: 1 to 63 of [a-z0-9-]. */
static int
spool_token(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return -1;
	return i > 0 && i < SPOOL_TOKEN_MAX ? 0 : -1;
}

/*
 * The lines spooled and not folded yet: the spool's and those of any
 * fold file left behind (a fold that failed or is under way). Reads
 * only; a missing spool is 0 lines.
 */
int
tlsrpt_spool_backlog(const char *path, unsigned long long *lines)
{
	struct dirent	*de;
	DIR		*d = NULL;
	char		*dir = NULL, *prefix = NULL, *file = NULL;
	size_t		 plen;
	int		 rc;

	*lines = 0;
	if ((rc = spool_count_lines(path, lines)) != MTASTS_OK ||
	    (rc = spool_fold_prefix(path, &dir, &prefix)) != MTASTS_OK)
		goto fail;
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL) {
		rc = MTASTS_EIO;
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		free(file);
		if (asprintf(&file, "%s/%s", dir, de->d_name) == -1) {
			file = NULL;
			rc = MTASTS_ENOMEM;
			goto fail;
		}
		if ((rc = spool_count_lines(file, lines)) != MTASTS_OK)
			goto fail;
	}
	rc = MTASTS_OK;
fail:
	if (d != NULL)
		closedir(d);
	free(file);
	free(prefix);
	free(dir);
	return rc;
}

/* The spool's folder in *dir and the name prefix of its fold files. */
static int
spool_fold_prefix(const char *path, char **dir, char **prefix)
{
	const char	*name;
	char		*slash;

	*prefix = NULL;
	if ((*dir = strdup(path)) == NULL)
		return MTASTS_ENOMEM;
	if ((slash = strrchr(*dir, '/')) != NULL) {
		*(slash == *dir ? slash + 1 : slash) = '\0';
		name = path + (slash - *dir) + 1;
	} else {
		strcpy(*dir, ".");
		name = path;
	}
	if (asprintf(prefix, "%s" SPOOL_FOLD_TAG, name) == -1) {
		*prefix = NULL;
		return MTASTS_ENOMEM;
	}
	return MTASTS_OK;
}

/* Adds the LF-ended lines of path to *lines; a missing file has none. */
static int
spool_count_lines(const char *path, unsigned long long *lines)
{
	char	 buf[8192], *p;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? MTASTS_OK : MTASTS_EIO;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))) !=
		    NULL; p++)
			(*lines)++;
	close(fd);
	return n < 0 ? MTASTS_EIO : MTASTS_OK;
}
