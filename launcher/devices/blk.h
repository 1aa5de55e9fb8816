/* SPDX-License-Identifier: GPL-2.0 */
/* blk.h: the block device model. */
#ifndef LAUNCHER_DEVICES_BLK_H
#define LAUNCHER_DEVICES_BLK_H

#include <linux/virtio_blk.h>
#include <stdbool.h>
#include <stdint.h>

#include "aio/aio.h"
#include "chain.h"

/* The most data segments a request may carry (header and status aside). */
#define BLK_SEG_MAX (CHAIN_MAX_SEGS - 2)

struct device;
struct ring_opt;

/* A disk image, open: what the guest learns about it, and what serves it. */
struct blk_image {
	const char *path;
	int fd;
	bool read_only;
	uint64_t capacity;		  /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES]; /* GET_ID's answer, NUL-padded */
};

/* How the launcher's own model serves requests (--block's aio= and poll=). */
struct blk_settings {
	enum aio_kind aio;
	unsigned int poll_us; /* the polling window: 0 = sleep at once */
	unsigned int queues;  /* request queues (VIRTIO_BLK_F_MQ if > 1); 0 means 1 */
};

/*
 * Open the image (dies with one line on failure) and add the device.
 * @set NULL: one request at a time, no polling (aio=sync), for callers
 * that have no event loop of ours (lguest-vhost-blk, the fake module).
 */
void blk_add(const char *path, bool read_only, const struct ring_opt *ring,
	     const struct blk_settings *set);
/* "blk0", "blk1" ...: every block device, local or served elsewhere, in order. */
void blk_next_name(char *name, unsigned long size);

/*
 * For block devices served elsewhere that look the same to the guest:
 * open @path as block device @name's image (dies with one line on
 * failure), and describe it to the guest (capacity, read-only; on split
 * and packed, the config space and the block features offered).
 */
void blk_image_open(struct blk_image *img, const char *path, bool read_only, const char *name);
void blk_configure(struct device *dev, const struct blk_image *img);

/* A block device served by the vhost-user backend at @socket (vhost_blk.c). */
void vhost_blk_add(const char *socket, const struct ring_opt *ring);
/*
 * A block device on the image at @path served in the host kernel by
 * lguest_host.ko (vhost_blk.c); @what is the option that asked for it,
 * for messages.  Dies with one line if the module cannot serve it.
 */
void kernel_blk_add(const char *path, bool read_only, const struct ring_opt *ring,
		    const char *what);

#endif /* LAUNCHER_DEVICES_BLK_H */
