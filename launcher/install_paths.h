/* SPDX-License-Identifier: GPL-2.0 */
/*
 * install_paths.h: where lguest finds its own files, the default guest
 * kernel and the process backend's stub, when nobody says where they are.
 *
 * Three places, in order:
 *
 *   1. beside the running program: the build tree (build/lguest next to
 *      build/guest.elf and build/lguest-stub);
 *   2. <its directory>/../lib/lguest: an installation moved as a whole (a
 *      package unpacked with dpkg -x, make install with DESTDIR);
 *   3. LGUEST_LIBDIR, $(PREFIX)/lib/lguest as the Makefile was given it:
 *      the installation itself, even when lguest is run through a copy or
 *      a link elsewhere.
 *
 * Both files are architecture-dependent binaries, hence lib/, not share/.
 */
#ifndef LAUNCHER_INSTALL_PATHS_H
#define LAUNCHER_INSTALL_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * $(PREFIX)/lib/lguest: mk/install.mk passes it to the objects that use it
 * (this file's users), and rebuilds them when PREFIX changes.  A build
 * that does not (the fuzzers, which compile options.c for themselves)
 * gets make install's default.
 */
#ifndef LGUEST_LIBDIR
#define LGUEST_LIBDIR "/usr/local/lib/lguest"
#endif

#define INSTALL_KERNEL_NAME "guest.elf"
#define INSTALL_STUB_NAME   "lguest-stub"

/*
 * The first of the three places that holds @name, as a path into @path;
 * false if none does (or the path would not fit).  Existence is all that
 * is checked: a file there that cannot be read is reported by whoever
 * opens it, naming it, rather than passed over in silence.
 */
bool install_find(const char *name, char *path, size_t size);

/* "DIR1, DIR2 and DIR3": where install_find() looks, for a message. */
void install_describe(char *buf, size_t size);

#endif /* LAUNCHER_INSTALL_PATHS_H */
