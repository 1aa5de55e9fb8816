/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost/vhost.h: handing a device's ring to someone else to serve, with
 * one sequence and two transports (as QEMU's hw/virtio/vhost.c drives
 * vhost-backend.c and vhost-user.c through one table of calls).
 *
 * Whoever serves the ring needs the same things in the same order: who
 * owns guest RAM, what the device offers and what the guest's driver
 * accepted, where guest RAM is, each ring's size, addresses and starting
 * position, and three eventfds per ring:
 *
 *   kick  the guest's NOTIFY lands there (KVM's ioeventfd, or the process
 *         backend's stub, writes it): no launcher thread in between;
 *   call  the server has used buffers the guest wants to hear about; the
 *         launcher turns it into the guest's pending bit;
 *   err   the guest broke a ring rule and the server stopped.
 *
 * vhost.c holds that sequence once.  How each step travels is a
 * transport's business (struct vhost_ops):
 *
 *   user.c    vhost-user: a message on a UNIX socket to another process
 *             (qemu-storage-daemon, lguest-vhost-blk), fds as SCM_RIGHTS;
 *   kernel.c  the kernel: an ioctl on /dev/lguest-host (host-module/,
 *             include/lguest_host.h), fds as numbers.
 *
 * A transport may do more than the common steps, and says so by filling
 * the optional calls: the kernel serves from a file we opened and hand
 * it (set_backend, which also starts and stops it), serves draft III's
 * six pages (set_draft3), says which rule broke (get_error) and counts
 * (get_stats); a vhost-user backend reads its own image, serves virtio
 * 1.x rings only, keeps its reasons in its own log, and answers for its
 * config space (get_config) and ring enables.
 *
 * Every call returns false with one line in vd->why on failure; the
 * caller decides whether that is a setup error or a stopped device.
 */
#ifndef LAUNCHER_VHOST_VHOST_H
#define LAUNCHER_VHOST_VHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"
#include "lguest_host.h" /* struct lgh_stats; <linux/vhost.h> */

/* One ring, as the guest laid it out (guest-physical addresses). */
struct vhost_ring {
	unsigned int index;
	uint8_t layout;		       /* LG_RING_SPLIT, _PACKED, or _DRAFT3 (kernel only) */
	unsigned int num;	       /* modern: entries */
	uint64_t desc, driver, device; /* modern; split: desc, avail, used */
	uint64_t key;		       /* draft3: page frame of its six pages */
	int kick_fd, call_fd, err_fd;  /* err_fd: -1 for none */
};

/* The file a transport that takes one serves from: a block device's image. */
struct vhost_file {
	int fd;
	bool read_only;
	const char *serial; /* what GET_ID answers: VIRTIO_BLK_ID_BYTES, NUL-padded */
};

/* The eventfds of a ring, for set_vring_fd. */
enum vhost_ring_fd { VHOST_RING_KICK, VHOST_RING_CALL, VHOST_RING_ERR };

struct vhost_dev;

struct vhost_ops {
	const char *name; /* "vhost-user", "kernel" */
	/* Reach the server at @path (a socket, a device node); vd->fd is the connection. */
	bool (*connect)(struct vhost_dev *vd, const char *path);
	bool (*set_owner)(struct vhost_dev *vd);
	bool (*get_features)(struct vhost_dev *vd, uint64_t *features);
	bool (*set_features)(struct vhost_dev *vd, uint64_t features);
	bool (*set_mem_table)(struct vhost_dev *vd, const struct guest_mem *mem);
	bool (*set_vring_num)(struct vhost_dev *vd, unsigned int index, unsigned int num);
	bool (*set_vring_addr)(struct vhost_dev *vd, const struct vhost_vring_addr *addr);
	bool (*set_vring_base)(struct vhost_dev *vd, unsigned int index, unsigned int base);
	bool (*get_vring_base)(struct vhost_dev *vd, unsigned int index, unsigned int *base);
	bool (*set_vring_fd)(struct vhost_dev *vd, enum vhost_ring_fd which, unsigned int index,
			     int fd);
	/* Optional: see the top. */
	bool (*set_vring_enable)(struct vhost_dev *vd, unsigned int index, bool enable);
	bool (*set_draft3)(struct vhost_dev *vd, uint64_t key);
	bool (*set_backend)(struct vhost_dev *vd, const struct vhost_file *file); /* NULL: stop */
	bool (*get_config)(struct vhost_dev *vd, void *buf, uint32_t size);
	bool (*get_error)(struct vhost_dev *vd, char *msg, size_t size);
	bool (*get_stats)(struct vhost_dev *vd, struct lgh_stats *stats);
	/*
	 * A packed ring's base (SET_VRING_BASE) carries the device's used
	 * side in bits 16-31 as well as the driver's in 0-15 (QEMU's form).
	 */
	bool packed_base_has_used;
};

extern const struct vhost_ops vhost_user_ops;
extern const struct vhost_ops vhost_kernel_ops;

struct vhost_dev {
	const struct vhost_ops *ops;
	const char *path;	    /* the socket, or the device node */
	int fd;			    /* the connection to it; -1 once closed */
	uint64_t features;	    /* what the server offers */
	uint64_t protocol_features; /* vhost-user: what both of us speak */
	unsigned int nrings;	    /* started by vhost_start() */
	bool draft3;		    /* ... on draft III's pages: no base to read back */
	char why[256];		    /* the last failure */
};

/* Connect to the server at @path, make it ours and learn its features. */
bool vhost_connect(struct vhost_dev *vd, const struct vhost_ops *ops, const char *path);

/*
 * The guest's driver is ready: features @acked, guest RAM @mem, the rings,
 * each from its start, and, for a transport that takes one, @file (which
 * starts the device); NULL otherwise.
 */
bool vhost_start(struct vhost_dev *vd, uint64_t acked, const struct guest_mem *mem,
		 const struct vhost_ring *rings, unsigned int nrings,
		 const struct vhost_file *file);

/* Stop every ring vhost_start() started: afterwards the server leaves guest RAM alone. */
bool vhost_stop(struct vhost_dev *vd);

/* @size bytes of the device's config space, where the transport can ask for it. */
bool vhost_get_config(struct vhost_dev *vd, void *buf, uint32_t size);

/*
 * After the err eventfd: the rule the guest broke, in the ring code's own
 * words.  False if the transport cannot say (vhost-user: the backend's log
 * does) or could not (vd->why).
 */
bool vhost_get_error(struct vhost_dev *vd, char *msg, size_t size);

/* The server's counters, where the transport has them. */
bool vhost_get_stats(struct vhost_dev *vd, struct lgh_stats *stats);

void vhost_close(struct vhost_dev *vd);

/* For transports: set vd->why and return false. */
__attribute__((format(printf, 2, 3))) bool vhost_fail(struct vhost_dev *vd, const char *fmt, ...);

#endif /* LAUNCHER_VHOST_VHOST_H */
