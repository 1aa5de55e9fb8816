/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_device.h: a stand-in for device.c and the ring layer, so that a
 * harness can drive a device model (launcher/devices/blk.c, net.c) with
 * chains of its own making.
 *
 * device.h says what a model may call (device_add(), device_fail() ...),
 * and vhost-blk/host.c already gives the block model a second home behind
 * that interface; this is a third, for fuzzing.  The model calls
 * queue_pop() and queue_push() as always, and they land in the harness's
 * hooks: pop hands out the chain the harness built from its input, push
 * records what the model reports written.  device_fail() keeps the
 * model's message for the harness to check.  Ring code proper (descriptor
 * walking, used rings) is not here: it has harnesses of its own.
 */
#ifndef TESTS_FUZZ_FAKE_DEVICE_H
#define TESTS_FUZZ_FAKE_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

struct fake_hooks {
	/* queue_pop(): 1 and *c filled, or 0 (nothing more). */
	int (*pop)(struct queue *q, struct chain *c);
	/* queue_push(): false breaks the queue, as a guest scribbling on it would. */
	bool (*push)(struct queue *q, struct chain *c, uint32_t written);
	/* d3_dev_join(): 1, or -1 with d->error set. */
	int (*join)(struct d3_dev *d, struct chain *c, uint64_t id);
};
extern struct fake_hooks fake;

/* The device device_add() made last. */
extern struct device *fake_device;
/* device_fail()'s first message since fake_device_restart(), or "". */
extern char fake_fail_msg[256];
extern unsigned int fake_fails; /* device_fail() calls since the restart */

/* Mend @dev for the next input: not broken, no message. */
void fake_device_restart(struct device *dev);

#endif /* TESTS_FUZZ_FAKE_DEVICE_H */
