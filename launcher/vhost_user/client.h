/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost_user/client.h: the frontend's side of a vhost-user connection.
 *
 * The launcher is the frontend: it has the guest.  It connects to a
 * backend's socket, learns what the backend offers, and when the guest's
 * driver is ready hands over what the backend needs to serve one ring by
 * itself: guest RAM (the memfd), where the ring is, and two eventfds, the
 * kick (the guest's NOTIFY arrives there, from KVM's ioeventfd or the
 * process backend's stub, with no launcher thread in between) and the
 * call (the backend's "buffers used", which the launcher turns into the
 * guest's pending bit).
 *
 * Requests go out one at a time from the vCPU thread; each reply, and
 * with REPLY_ACK each acknowledgement, is awaited with a deadline.  Any
 * failure is one line in @why; the caller stops the device.
 */
#ifndef LAUNCHER_VHOST_USER_CLIENT_H
#define LAUNCHER_VHOST_USER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define VU_CLIENT_TIMEOUT_MS 5000 /* for any one reply */

struct vu_client {
	int sock;
	const char *path;
	uint64_t features;	    /* what the backend offers */
	uint64_t protocol_features; /* what both of us speak */
	char why[256];		    /* the last failure */
};

/* One ring, as the guest laid it out (guest-physical addresses). */
struct vu_ring {
	unsigned int index;
	unsigned int num;
	bool packed;
	uint64_t desc, driver, device; /* split: desc, avail, used */
	int kick_fd, call_fd, err_fd; /* err_fd: -1 for none */
};

/*
 * Connect to @path and learn the backend's features (and agree on
 * protocol features); false with the reason in c->why.
 */
bool vu_client_connect(struct vu_client *c, const char *path);

/* GET_CONFIG: @size bytes of the device's config space (at most 60). */
bool vu_client_get_config(struct vu_client *c, void *buf, uint32_t size);

/*
 * The guest's driver is ready: features @acked, guest RAM @mem, and the
 * rings, each started at index 0 and enabled.
 */
bool vu_client_start(struct vu_client *c, uint64_t acked, const struct guest_mem *mem,
		     const struct vu_ring *rings, unsigned int nrings);

/* Stop ring @index (GET_VRING_BASE): the backend stops using guest RAM. */
bool vu_client_stop(struct vu_client *c, unsigned int index);

void vu_client_close(struct vu_client *c);

#endif /* LAUNCHER_VHOST_USER_CLIENT_H */
