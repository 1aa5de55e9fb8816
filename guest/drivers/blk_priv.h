/* SPDX-License-Identifier: GPL-2.0 */
/* blk_priv.h: the block driver's state, shared with its misbehave tests. */
#ifndef GUEST_BLK_PRIV_H
#define GUEST_BLK_PRIV_H

#include "blk.h"
#include "devices.h"

struct blkdev {
	struct lg_device dev;
	char name[8];
	uint64_t capacity;
	bool read_only;
	unsigned int nq;     /* request queues: vq[0 .. nq) (split, packed; draft3: 1) */
	unsigned int next_q; /* where the next request goes: round robin */
	/* Requests whose two halves have both come back, oldest first. */
	struct blk_req *done_head, *done_tail;
};

#endif /* GUEST_BLK_PRIV_H */
