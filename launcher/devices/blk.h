/* SPDX-License-Identifier: GPL-2.0 */
/* blk.h: the block device model. */
#ifndef LAUNCHER_DEVICES_BLK_H
#define LAUNCHER_DEVICES_BLK_H

#include <stdbool.h>

/* Open the image (dies with one line on failure) and add the device. */
struct ring_opt;
void blk_add(const char *path, bool read_only, const struct ring_opt *ring);
/* "blk0", "blk1" ...: every block device, local or vhost-user, in order. */
void blk_next_name(char *name, unsigned long size);
/* A block device served by the vhost-user backend at @socket (vhost_blk.c). */
void vhost_blk_add(const char *socket, const struct ring_opt *ring);

#endif /* LAUNCHER_DEVICES_BLK_H */
