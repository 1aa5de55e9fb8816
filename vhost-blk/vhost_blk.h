/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-blk/vhost_blk.h: lguest-vhost-blk, our block device served to any
 * vhost-user frontend (QEMU's vhost-user-blk-pci, lguest's
 * --vhost-user-blk, ...).
 *
 * The program is the launcher's block device model (launcher/devices/
 * blk.c) and its device-side ring code (launcher/ring/) unchanged, in
 * another process.  What the launcher's device.c does for a model, host.c
 * does here: the model calls the same functions (device.h), which here
 * signal the frontend's call eventfd instead of the guest's pending bit.
 * session.c speaks vhost-user to one frontend at a time (the messages,
 * through launcher/vhost_user/proto.c, which the launcher's frontend
 * shares), memory.c maps the guest RAM it sends, and main.c listens,
 * accepts, and drops privileges.
 *
 * One thread does everything: it reads the frontend's messages and,
 * between them, serves the ring when the kick eventfd fires.  A request is
 * done (pushed on the used ring) before the next message is read, so a
 * stopped ring never has a request in flight.
 */
#ifndef VHOST_BLK_VHOST_BLK_H
#define VHOST_BLK_VHOST_BLK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "guest_mem.h"
#include "vhost_user/proto.h"

/* --- host.c: the one device, and what device.h's calls do here ---------- */

struct vb_device {
	struct device *dev; /* the block model's, made by blk_add() */
	uint64_t offered;   /* virtio feature bits */
	uint8_t config[VU_MAX_CONFIG];
	uint32_t config_len;
	int call_fd; /* the frontend's: used buffers (-1: none) */
	int err_fd;  /* the frontend's: the ring broke (-1: none) */
	uint64_t kicks, calls, errors_reported;
};
extern struct vb_device vbd;

/* Back to what a new frontend finds: no features, split, not broken. */
void vb_device_reset(void);

/* --- memory.c: the frontend's guest RAM ---------------------------------- */

struct vb_region {
	struct guest_mem_region r; /* gpa, size, our mapping */
	uint64_t uva;		   /* where the frontend has it */
	void *map;		   /* what to munmap: map_len bytes */
	uint64_t map_len;
};

struct vb_memory {
	struct guest_mem mem; /* what the ring code reads through */
	struct guest_mem_region regions[VU_MAX_FDS];
	struct vb_region region[VU_MAX_FDS];
	unsigned int n;
	/* Tables replaced while the ring ran: unmapped when it stops. */
	struct vb_region retired[4 * VU_MAX_FDS];
	unsigned int nretired;
};

/*
 * SET_MEM_TABLE: check @m's regions and map its fds (which are closed
 * either way).  False with a reason in @why if the table is bad.
 */
bool vb_memory_set(struct vb_memory *vm, struct vu_msg *m, bool ring_running, char *why,
		   unsigned long why_size);
/* The guest-physical address of frontend address @uva, @len bytes of it. */
bool vb_memory_gpa(const struct vb_memory *vm, uint64_t uva, uint64_t len, uint64_t *gpa);
/* Unmap what is retired (the ring stopped), or everything (@all). */
void vb_memory_release(struct vb_memory *vm, bool all);

/* --- session.c: one frontend --------------------------------------------- */

struct vb_options {
	const char *socket;
	bool once;	/* exit when the first frontend goes */
	bool stats;	/* a counters line at the end of each session */
	bool no_packed; /* do not offer VIRTIO_F_RING_PACKED */
	bool trace;	/* the ring events of each session on stderr at its end */
	int timeout_ms; /* for the rest of a message once it has begun */
};

/*
 * Serve the frontend on @sock until it goes, breaks the protocol, or a
 * signal in @stop arrives.  Closes @sock.  Returns false if the session
 * ended on an error (ours, the frontend's, or the guest's).
 */
bool vb_session(int sock, const struct vb_options *o, const sigset_t *waitmask,
		volatile sig_atomic_t *stop);

#endif /* VHOST_BLK_VHOST_BLK_H */
