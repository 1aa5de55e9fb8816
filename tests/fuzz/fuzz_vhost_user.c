// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vhost_user.c: vhost-user message framing (launcher/vhost_user/
 * proto.c) and the backend's memory table (vhost-blk/memory.c) on a byte
 * and fd stream from the input.
 *
 * The input (after one flags byte) is a frontend's sends, as vu_stream.h
 * describes; we read them back with vu_recv() until it reports the end or
 * an error, as vhost-blk's session does, and hand each SET_MEM_TABLE to
 * vb_memory_set().  Flags bit 0: the ring runs (tables are retired, not
 * unmapped, and there is room for only so many).  What must hold:
 *
 *  - a received message has version 1, a payload no larger than the
 *    union, a size vu_size_ok() accepts, at most VU_MAX_FDS fds, each
 *    open and close-on-exec;
 *  - a refusal, by vu_recv() or vb_memory_set(), comes with a one-line
 *    reason and leaves no fd of the message open;
 *  - an accepted table has its regions as sent: none empty, none
 *    wrapping, no two overlapping guest-physically or in the frontend's
 *    addresses, each mapped readable from its first byte to its last
 *    (a region past its file's end would SIGBUS here), and
 *    vb_memory_gpa() maps each back;
 *  - after the stream, with the table released and the sockets closed,
 *    exactly the fds open before are open.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "vhost_blk.h"
#include "vu_stream.h"

#define TIMEOUT_MS 1000 /* never reached: the stream ends with end-of-file */

static struct vb_memory vm;

static void check_reason(const char *why, const char *what)
{
	FUZZ_CHECK(why[0] && !strchr(why, '\n'), "%s refused without a one-line reason (\"%s\")",
		   what, why);
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void check_table(const struct vu_memory *t)
{
	FUZZ_CHECK(vm.n == t->nregions && vm.mem.nregions == vm.n && vm.mem.regions == vm.regions,
		   "%u regions sent, %u kept, %u in use", t->nregions, vm.n, vm.mem.nregions);
	FUZZ_CHECK(vm.nretired <= sizeof(vm.retired) / sizeof(vm.retired[0]), "%u tables retired",
		   vm.nretired);
	for (unsigned int i = 0; i < vm.n; i++) {
		const struct vb_region *r = &vm.region[i];
		const struct vu_mem_region *s = &t->regions[i];
		volatile const uint8_t *host = r->r.host;
		uint64_t gpa;

		FUZZ_CHECK(r->r.gpa == s->guest_phys_addr && r->r.size == s->memory_size &&
				   r->uva == s->userspace_addr &&
				   !memcmp(&vm.regions[i], &r->r, sizeof(r->r)),
			   "region %u is not what was sent", i);
		FUZZ_CHECK(r->r.size && r->r.gpa + r->r.size > r->r.gpa &&
				   r->uva + r->r.size > r->uva,
			   "region %u (%#llx bytes) is empty or wraps", i,
			   (unsigned long long)r->r.size);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(!overlap(r->r.gpa, r->r.size, vm.region[j].r.gpa,
					    vm.region[j].r.size) &&
					   !overlap(r->uva, r->r.size, vm.region[j].uva,
						    vm.region[j].r.size),
				   "regions %u and %u overlap", j, i);
		/* Touch both ends: past the file's end this is SIGBUS. */
		(void)host[0];
		(void)host[r->r.size - 1];
		FUZZ_CHECK(vb_memory_gpa(&vm, r->uva, r->r.size, &gpa) && gpa == r->r.gpa,
			   "region %u's frontend address does not map back", i);
	}
}

/* One received message: check it, give a memory table to memory.c, close the rest. */
static void handle(struct vu_msg *m, bool ring_running)
{
	struct vu_memory table;
	char why[256] = "";

	FUZZ_CHECK((m->hdr.flags & VU_VERSION_MASK) == VU_VERSION, "accepted version %u",
		   m->hdr.flags & VU_VERSION_MASK);
	FUZZ_CHECK(m->hdr.size <= sizeof(m->p), "accepted a %u-byte payload", m->hdr.size);
	FUZZ_CHECK(vu_size_ok(m->hdr.request, m->hdr.flags & VU_FLAG_REPLY, m->hdr.size, &m->p, why,
			      sizeof(why)),
		   "accepted a message vu_size_ok() refuses: %s", why);
	FUZZ_CHECK(m->nfds <= VU_MAX_FDS, "accepted %u fds", m->nfds);
	for (unsigned int i = 0; i < m->nfds; i++)
		FUZZ_CHECK(fcntl(m->fds[i], F_GETFD) == FD_CLOEXEC,
			   "received fd %d is not open and close-on-exec", m->fds[i]);
	if (m->hdr.request != VU_SET_MEM_TABLE || (m->hdr.flags & VU_FLAG_REPLY)) {
		vu_close_fds(m);
		return;
	}
	table = m->p.memory;
	if (vb_memory_set(&vm, m, ring_running, why, sizeof(why)))
		check_table(&table);
	else
		check_reason(why, "SET_MEM_TABLE");
	FUZZ_CHECK(m->nfds == 0, "vb_memory_set() left %u fds to the caller", m->nfds);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vu_stream_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct vu_fdset fds;
	bool ring_running;
	int sock, peer, r;

	vu_fds_snapshot(&fds);
	fuzz_input_init(&in, data, size);
	ring_running = fuzz_u8(&in) & 1;
	memset(&vm, 0, sizeof(vm));
	vm.mem = (struct guest_mem){ .fd = -1, .regions = vm.regions };
	vu_stream_open(&in, &sock, &peer);
	for (;;) {
		struct vu_msg m;
		char why[256] = "";

		memset(&m, 0xa5, sizeof(m));
		r = vu_recv(sock, &m, TIMEOUT_MS, why, sizeof(why));
		if (r <= 0) {
			if (r < 0)
				check_reason(why, "vu_recv()");
			FUZZ_CHECK(m.nfds == 0, "vu_recv() ended with %u fds", m.nfds);
			break;
		}
		handle(&m, ring_running);
	}
	vb_memory_release(&vm, true);
	close(sock);
	close(peer);
	vu_fds_check(&fds, "after the stream");
	return 0;
}
