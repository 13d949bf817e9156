/*
 * fs.h - files the engine creates beside the store (the database, the
 * TLS-RPT spool), shared by the MTA's processes.
 */
#ifndef MTASTS_FS_H
#define MTASTS_FS_H

#include <sys/types.h>

#include "util/log.h"

/* Mode of every shared file, whatever the umask. */
#define FS_SHARED_MODE	0660

/*
 * Gives a file just created as fd at path the shared mode and, when root
 * created it (Exim's routers run as root, its transports as the Exim
 * user), the owner and group of its folder, so that the MTA's user can
 * still open it. Failures are logged only: the file is usable by root.
 */
void	fs_share_new_file(int fd, const char *path, const struct logger *lg);

#endif
