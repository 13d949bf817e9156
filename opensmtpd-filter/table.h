/*
 * table.h - the routing table of policy domains (enforce, testing): a
 * Berkeley DB hash file in the format of smtpd's "db:" list tables
 * (makemap -t set: key "domain\0", value "<set>\0"), kept in memory and
 * rewritten whole.
 *
 * smtpd reopens a db table when the file's mtime (in whole seconds)
 * differs from the one it opened. Every write therefore replaces the file
 * atomically (rename) and gives it an mtime at least one second newer than
 * the file it replaces, so that the very next lookup sees the change.
 */
#ifndef FILTER_TABLE_H
#define FILTER_TABLE_H

#include <stddef.h>

struct table;

/* Loads path (missing: empty; unreadable: empty, logged). NULL: ENOMEM. */
struct table	*table_open(const char *path);
void		 table_close(struct table *t);
/* Writes the table as it is now: 0, or -1 (logged). */
int		 table_write(struct table *t);
int		 table_has(const struct table *t, const char *domain);
/* Add or remove a domain and write the file when that changed it. */
int		 table_add(struct table *t, const char *domain);
int		 table_del(struct table *t, const char *domain);
size_t		 table_count(const struct table *t);
const char	*table_domain(const struct table *t, size_t i);

#endif
