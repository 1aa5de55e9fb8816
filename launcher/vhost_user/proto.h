/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost_user/proto.h: the vhost-user protocol's messages, as both of our
 * ends speak it (QEMU's docs/interop/vhost-user.rst).
 *
 * A vhost-user connection is a UNIX stream socket.  The frontend (the
 * side with the guest: the launcher) sends requests; the backend (the side
 * with the device) answers some of them, and says which it will by the
 * protocol features they agree on.  Every message is
 *
 *	request (u32) | flags (u32) | size (u32) | payload (size bytes)
 *
 * in host byte order, with file descriptors (guest memory, eventfds) as
 * SCM_RIGHTS ancillary data on the same send.  flags holds the version (1)
 * in its low two bits, REPLY on an answer, NEED_REPLY on a request whose
 * sender wants an acknowledgement (with REPLY_ACK).
 *
 * This layer frames, sends and receives messages and checks everything
 * the peer controls: the version, the size against what the request
 * carries, the number of descriptors.  It never blocks without a
 * deadline: a peer that stops talking costs a timeout and one line, not a
 * hang.  It knows nothing of devices.
 */
#ifndef LAUNCHER_VHOST_USER_PROTO_H
#define LAUNCHER_VHOST_USER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vhost_types.h>

/* Requests from the frontend.  Only those we send or serve are named. */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_GET_MAX_MEM_SLOTS = 36,
	VU_NR_REQUESTS = 64, /* above every request we know */
};

#define VU_VERSION	   0x1
#define VU_VERSION_MASK	   0x3
#define VU_FLAG_REPLY	   0x4
#define VU_FLAG_NEED_REPLY 0x8

/* Feature bit 30: the backend speaks protocol features. */
#define VU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits. */
#define VU_PROTOCOL_F_MQ		  0
#define VU_PROTOCOL_F_REPLY_ACK		  3
#define VU_PROTOCOL_F_CONFIG		  9
#define VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15

/* SET_VRING_KICK/CALL/ERR's u64: the queue index, and "no fd" (polling). */
#define VU_VRING_INDEX_MASK 0xff
#define VU_VRING_NOFD	    (1u << 8)

#define VU_MAX_FDS    8	  /* and memory regions per SET_MEM_TABLE */
#define VU_MAX_CONFIG 256 /* bytes of device config space in GET/SET_CONFIG */

/*
 * A memory region: the kernel's struct vhost_memory_region, whose fourth
 * field vhost-user uses for the offset of the region in the fd it sends.
 */
struct vu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr; /* where the frontend has it mapped */
	uint64_t mmap_offset;	 /* where in the region's fd it starts */
};
_Static_assert(sizeof(struct vu_mem_region) == sizeof(struct vhost_memory_region),
	       "vhost-user regions are the kernel's");

struct vu_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[VU_MAX_FDS];
};

struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VU_MAX_CONFIG];
};

struct vu_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

union vu_payload {
	uint64_t u64;
	struct vhost_vring_state state;
	struct vhost_vring_addr addr;
	struct vu_memory memory;
	struct vu_config config;
};

struct vu_msg {
	struct vu_header hdr;
	union vu_payload p;
	int fds[VU_MAX_FDS];
	unsigned int nfds;
};

/* "GET_FEATURES", or "request 77" for one we do not know. */
const char *vu_request_name(uint32_t request, char *buf, size_t size);

/*
 * Whether @size is what @request carries (in a request, or in its reply
 * when @reply); false and a reason in @why otherwise.
 */
bool vu_size_ok(uint32_t request, bool reply, uint32_t size, const union vu_payload *p, char *why,
		size_t why_size);

/*
 * Send @m (its hdr.size bytes of payload, its nfds fds) on @sock, waiting
 * at most @timeout_ms for room.  0, or -1 with a reason in @why.
 */
int vu_send(int sock, const struct vu_msg *m, int timeout_ms, char *why, size_t why_size);

/*
 * Receive one message into @m, waiting at most @timeout_ms for all of it.
 * The header and the size are checked (vu_size_ok(), with @m->hdr.flags'
 * REPLY bit deciding which table); received fds are in m->fds and are the
 * caller's to close.  1, 0 at a clean end of stream (before a message), or
 * -1 with a reason in @why (and every fd that came closed).
 */
int vu_recv(int sock, struct vu_msg *m, int timeout_ms, char *why, size_t why_size);

/* Close every fd a received message carried. */
void vu_close_fds(struct vu_msg *m);

#endif /* LAUNCHER_VHOST_USER_PROTO_H */
