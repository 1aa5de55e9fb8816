// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk/main.c: lguest-vhost-blk, our block device for any vhost-user
 * frontend (vhost_blk.h says how it is put together).
 *
 *   lguest-vhost-blk --socket=PATH [--once] [--stats] [--no-packed]
 *                    [--user=USER] [-v] IMAGE[,ro]
 *
 * It opens the image, listens on PATH, drops its privileges, and serves
 * one frontend at a time; when a frontend goes (or breaks the protocol)
 * it listens again, unless --once.  SIGTERM or SIGINT end it, removing
 * the socket.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cap-ng.h>

#include "vhost_blk.h"
#include "devices/blk.h"
#include "log.h"
#include "options.h"
#include "process/process.h"
#include "trace.h"

static const char usage[] =
	"usage: lguest-vhost-blk --socket=PATH [options] IMAGE[,ro]\n"
	"Serve the disk image IMAGE as a virtio-blk device to a vhost-user frontend\n"
	"(QEMU's vhost-user-blk-pci, lguest --vhost-user-blk=PATH ...), on split or\n"
	"packed rings, zero-copy into the frontend's guest RAM.\n"
	"\n"
	"  --socket=PATH   listen on this UNIX socket (it appears once we listen)\n"
	"  --once          exit when the first frontend goes: status 0, or 1 if\n"
	"                  the session ended on an error (the guest's, the\n"
	"                  frontend's or ours)\n"
	"  --stats         counters at the end of each session (kicks, calls ...)\n"
	"  --no-packed     do not offer packed rings (VIRTIO_F_RING_PACKED)\n"
	"  --trace         every ring event of a session (pop, used, signal ...),\n"
	"                  on stderr when it ends\n"
	"  --user=USER     after setup, run as USER (when started as root)\n"
	"  -v, --verbose   say what happens\n"
	"  -h, --help      this text\n";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct setup {
	struct vb_options o;
	const char *image;
	bool read_only;
	const char *user;
};

static void parse(int argc, char **argv, struct setup *s)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, '1' },
		{ "stats", no_argument, NULL, 'S' },
		{ "no-packed", no_argument, NULL, 'P' },
		{ "trace", no_argument, NULL, 'T' },
		{ "user", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *comma;
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			s->o.socket = optarg;
			break;
		case '1':
			s->o.once = true;
			break;
		case 'S':
			s->o.stats = true;
			break;
		case 'P':
			s->o.no_packed = true;
			break;
		case 'T':
			s->o.trace = true;
			break;
		case 'u':
			s->user = optarg;
			break;
		case 'v':
			log_verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			exit(1);
		}
	}
	if (!s->o.socket || !*s->o.socket)
		die("--socket=PATH is required (see --help)");
	if (optind != argc - 1)
		die(optind == argc ? "no disk image given (see --help)"
				   : "one disk image only (see --help)");
	s->image = argv[optind];
	comma = strchr(s->image, ',');
	if (comma) {
		if (strcmp(comma, ",ro") != 0)
			die("%s: unknown image option '%s' (only ,ro)", s->image, comma + 1);
		*comma = '\0';
		s->read_only = true;
	}
	if (!*s->image)
		die("no disk image given (see --help)");
}

static void socket_address(struct sockaddr_un *a, const char *path, const char *suffix)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) + strlen(suffix) >= sizeof(a->sun_path))
		die("--socket=%s: path too long for a UNIX socket (at most %zu bytes)", path,
		    sizeof(a->sun_path) - 1 - strlen(suffix));
	strcpy(a->sun_path, path);
	strcat(a->sun_path, suffix);
}

/*
 * A socket file left by a backend that died is removed; one that some
 * process still listens on is not ours to take, and anything else at the
 * path is the user's.
 */
static void clear_stale(const char *path)
{
	struct sockaddr_un a;
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		die("--socket=%s: exists and is not a socket", path);
	socket_address(&a, path, "");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		die("--socket=%s: another process is listening there", path);
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0)
		die_errno("--socket=%s: cannot remove the stale socket", path);
}

/*
 * Listen on a temporary name and rename it into place: whoever sees the
 * socket at PATH can connect at once (a frontend started right after us
 * tries once, and QEMU does not retry).
 */
static int listen_on(const char *path)
{
	struct sockaddr_un tmp;
	int fd;

	clear_stale(path);
	socket_address(&tmp, path, ".new");
	unlink(tmp.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("socket");
	if (bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0)
		die_errno("--socket=%s: cannot bind", path);
	if (listen(fd, 1) < 0 || rename(tmp.sun_path, path) < 0) {
		unlink(tmp.sun_path);
		die_errno("--socket=%s: cannot listen", path);
	}
	return fd;
}

/*
 * After setup we need no privilege: the image and the socket are open,
 * and what a frontend sends (memory, eventfds) comes as file descriptors.
 */
static void drop_privileges(const char *user)
{
	if (user) {
		struct passwd *pw = getpwnam(user);

		if (!pw)
			die("--user=%s: no such user", user);
		if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			die_errno("--user=%s: cannot change to uid %u", user, (unsigned)pw->pw_uid);
		verbose("running as %s (uid %u)", user, (unsigned)pw->pw_uid);
	}
	if (geteuid() == 0 || capng_have_capabilities(CAPNG_SELECT_CAPS)) {
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_apply(CAPNG_SELECT_BOTH) < 0)
			die("cannot drop capabilities");
		verbose("dropped all capabilities");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("PR_SET_NO_NEW_PRIVS");
}

/*
 * SIGTERM, SIGINT and SIGHUP are blocked except while we sleep (ppoll's
 * mask): a signal then interrupts the sleep and nothing else, so it is
 * seen between two messages, never in the middle of one.
 */
static void catch_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a frontend that hangs up is an error, not a death */
}

int main(int argc, char **argv)
{
	struct setup s = { .o.timeout_ms = 5000 };
	struct ring_opt ring = {
		.layout = LG_RING_PACKED, .qsize = MAX_QSIZE, .indirect = 1, .event_idx = 1
	};
	sigset_t waitmask;
	int listener, status = 0;

	log_name = "lguest-vhost-blk";
	parse(argc, argv, &s);
	if (s.o.no_packed)
		ring.layout = LG_RING_SPLIT;
	blk_add(s.image, s.read_only, &ring, NULL);
	if (s.o.trace) {
		const char *how;

		/* Events are stamped with the TSC: the output needs its rate. */
		trace_events.guest_tsc.host_khz = host_tsc_khz(&how);
		trace_store_open(NULL);
		verbose("trace: TSC at %lu kHz (%s)",
			(unsigned long)trace_events.guest_tsc.host_khz, how);
	}
	catch_signals(&waitmask);
	listener = listen_on(s.o.socket);
	drop_privileges(s.user);
	verbose("listening on %s", s.o.socket);

	while (!stopping) {
		struct pollfd p = { listener, POLLIN, 0 };
		int conn;

		if (ppoll(&p, 1, NULL, &waitmask) < 0) {
			if (errno == EINTR)
				continue;
			die_errno("poll");
		}
		conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die_errno("accept");
		}
		verbose("a frontend connected");
		if (!vb_session(conn, &s.o, &waitmask, &stopping))
			status = 1;
		if (s.o.once)
			break;
		status = 0;
	}
	if (unlink(s.o.socket) < 0 && errno != ENOENT)
		warnx_lg("cannot remove %s: %s", s.o.socket, strerror(errno));
	close(listener);
	return s.o.once ? status : 0;
}
