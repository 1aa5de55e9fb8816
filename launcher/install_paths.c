// SPDX-License-Identifier: GPL-2.0
/*
 * install_paths.c: the places lguest looks for its own files
 * (install_paths.h).
 *
 * This runs during setup, before any seccomp filter exists (main.c's
 * order), so readlink() and access() are ours to call.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "install_paths.h"

#define INSTALL_PLACES 3

/*
 * Fill @dirs with the places to look, in order, leaving out repeats (an
 * installation in its own prefix gives the same directory for 2 and 3);
 * returns how many.  /proc/self/exe is the program itself with every
 * symlink resolved, so a link to lguest from elsewhere still finds it.
 */
static int install_dirs(char dirs[INSTALL_PLACES][PATH_MAX])
{
	char exe[PATH_MAX], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int n = 0;

	if (len > 0) {
		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dirs[n++], PATH_MAX, "%s", *exe ? exe : "/");
			/* <dir>/../lib/lguest, without "..": messages show it. */
			slash = strrchr(exe, '/');
			if (slash) {
				*slash = '\0';
				if (snprintf(dirs[n], PATH_MAX, "%s/lib/lguest", exe) < PATH_MAX)
					n++;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (!strcmp(dirs[i], LGUEST_LIBDIR))
			return n;
	snprintf(dirs[n++], PATH_MAX, "%s", LGUEST_LIBDIR);
	return n;
}

bool install_find(const char *name, char *path, size_t size)
{
	char dirs[INSTALL_PLACES][PATH_MAX];
	int n = install_dirs(dirs);

	for (int i = 0; i < n; i++) {
		int len = snprintf(path, size, "%s/%s", strcmp(dirs[i], "/") ? dirs[i] : "", name);

		if (len > 0 && (size_t)len < size && access(path, F_OK) == 0)
			return true;
	}
	return false;
}

void install_describe(char *buf, size_t size)
{
	char dirs[INSTALL_PLACES][PATH_MAX];
	int n = install_dirs(dirs);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && used < size; i++) {
		const char *sep = i == 0 ? "" : i == n - 1 ? " and " : ", ";

		used += snprintf(buf + used, size - used, "%s%s", sep, dirs[i]);
	}
}
