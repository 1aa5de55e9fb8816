/* SPDX-License-Identifier: GPL-2.0 */
/* misbehave.h: the test-only `misbehave RULE` command's parts (blk_misbehave*.c). */
#ifndef GUEST_MISBEHAVE_H
#define GUEST_MISBEHAVE_H

struct blkdev;

enum misbehave_outcome {
	MISBEHAVE_UNKNOWN,     /* no such rule on this layout */
	MISBEHAVE_WAIT_STOP,   /* rule broken: the device should stop */
	MISBEHAVE_REFUSED,     /* the device refused FEATURES_OK, as it should */
	MISBEHAVE_NOT_REFUSED, /* the device accepted nonsense */
};

enum misbehave_outcome blk_misbehave_modern(struct blkdev *bd, const char *rule);

#endif /* GUEST_MISBEHAVE_H */
