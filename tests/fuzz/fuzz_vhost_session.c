// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vhost_session.c: lguest-vhost-blk's whole message dispatch
 * (vhost-blk/session.c, with host.c, memory.c, the block model and the
 * ring code) on a frontend's sends from the input.
 *
 * vb_session() is the backend's loop for one connection, and a socket is
 * all it needs: we write the input's sends (vu_stream.h: messages, fds,
 * and pokes of guest memory for the rings) into one end of a socketpair,
 * shut it, and run the session on the other end until it sees the end of
 * the stream or refuses something.  It runs exactly as in the program,
 * with a 16-sector memfd as the disk; only log.c is swapped for
 * quiet_log.c, which checks every line instead of printing it.
 *
 * Input: one byte (bit 0: an eventfd kick is already waiting, so a ring
 * that starts is served at once), then the sends.  What must hold:
 *
 *  - the session ends (at the stream's end or on a refusal), it never
 *    calls die(), and every line it logs is one line;
 *  - everything it sent back is a well-formed reply, as our own frontend
 *    (vu_recv() with the REPLY flag) would accept it;
 *  - with the session over and the device reset (as the next session
 *    would), exactly the fds open before are open.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "devices/blk.h"
#include "vhost_blk.h"
#include "vu_stream.h"

#define TIMEOUT_MS 1000 /* never reached: the stream ends with end-of-file */

static struct vb_options opts = { .socket = "fuzz", .timeout_ms = TIMEOUT_MS };
static sigset_t waitmask;

/* What the session sent back: replies only, each one our frontend would accept. */
static void check_replies(int peer)
{
	for (;;) {
		char why[256] = "";
		struct vu_msg m;
		int r = vu_recv(peer, &m, TIMEOUT_MS, why, sizeof(why));

		if (r == 0)
			return;
		/*
		 * A session that ends on a refusal closes its socket with the
		 * rest of our sends unread, and the kernel then reports
		 * ECONNRESET here once the replies before it are read.
		 */
		if (r < 0 && strstr(why, strerror(ECONNRESET)))
			return;
		FUZZ_CHECK(r == 1, "the backend sent a malformed message: %s", why);
		FUZZ_CHECK(m.hdr.flags & VU_FLAG_REPLY, "the backend sent request %u, not a reply",
			   m.hdr.request);
		FUZZ_CHECK(m.nfds == 0, "the backend sent %u fds", m.nfds);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct ring_opt ring = {
		.layout = LG_RING_PACKED, .qsize = MAX_QSIZE, .indirect = 1, .event_idx = 1
	};
	static const uint8_t zeros[16 * 512];
	char path[64];
	int fd;

	(void)argc;
	(void)argv;
	vu_stream_init();
	fd = memfd_create("fuzz_vhost_disk", MFD_CLOEXEC);
	if (fd < 0 || pwrite(fd, zeros, sizeof(zeros), 0) != sizeof(zeros))
		fuzz_fail("cannot make the disk");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	blk_add(path, false, &ring, NULL);
	signal(SIGPIPE, SIG_IGN); /* as main.c: a frontend that hangs up is no death */
	sigprocmask(SIG_SETMASK, NULL, &waitmask);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	volatile sig_atomic_t stop = 0;
	struct fuzz_input in;
	struct vu_fdset fds;
	int sock, peer;
	bool kick;

	vu_fds_snapshot(&fds);
	fuzz_input_init(&in, data, size);
	kick = fuzz_u8(&in) & 1;
	vu_stream_open(&in, &sock, &peer);
	if (kick)
		vu_stream_kick();
	vb_session(sock, &opts, &waitmask, &stop); /* closes sock */
	check_replies(peer);
	close(peer);
	vb_device_reset();
	vu_fds_check(&fds, "after the session");
	return 0;
}
