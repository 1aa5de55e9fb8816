/* SPDX-License-Identifier: GPL-2.0 */
/* blk.h: the block device model. */
#ifndef LAUNCHER_DEVICES_BLK_H
#define LAUNCHER_DEVICES_BLK_H

#include <stdbool.h>

/* Open the image (dies with one line on failure) and add the device. */
struct ring_opt;
void blk_add(const char *path, bool read_only, const struct ring_opt *ring);

#endif /* LAUNCHER_DEVICES_BLK_H */
