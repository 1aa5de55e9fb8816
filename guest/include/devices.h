/* SPDX-License-Identifier: GPL-2.0 */
/* devices.h: the device table the launcher wrote, and per-device helpers. */
#ifndef GUEST_DEVICES_H
#define GUEST_DEVICES_H

#include "draft3_drv.h"
#include "kernel.h"

/* Entry @index of the device table (volatile: the launcher writes status). */
volatile struct lg_device_desc *device_desc(unsigned int index);
unsigned int device_count(void);

/* The launcher stopped this device because a ring rule was broken. */
bool device_failed(unsigned int index);

/*
 * A draft-III device's two queues, set up over its six pages.  The driver
 * owns the struct; `key` is what NOTIFY sends.
 */
struct d3_device {
	unsigned int index; /* in the device table: our bit in `pending` */
	uint32_t key;
	struct d3_drv_queue in, out;
};

/* Initialise from the table entry; false if it is not a usable draft3 device. */
bool d3_device_init(struct d3_device *dev, unsigned int index);

/* Publish both queues (in first: block requests name in buffers) and NOTIFY if wanted. */
void d3_device_kick(struct d3_device *dev);

/* Drivers probe in table order at boot. */
void devices_init(void);

#endif /* GUEST_DEVICES_H */
