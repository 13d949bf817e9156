/*
 * fs.c - mode and owner of the files shared by the MTA's processes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"

void
fs_share_new_file(int fd, const char *path, const struct logger *lg)
{
	struct stat	 sb;
	char		*dir, *slash;

	if (fchmod(fd, FS_SHARED_MODE) == -1)
		log_warn(lg, "%s: chmod: %s", path, strerror(errno));
	if (geteuid() != 0 || (dir = strdup(path)) == NULL)
		return;
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	if (stat(dir, &sb) == 0 && (sb.st_uid != 0 || sb.st_gid != 0) &&
	    fchown(fd, sb.st_uid, sb.st_gid) == -1)
		log_warn(lg, "%s: chown: %s", path, strerror(errno));
	free(dir);
}
