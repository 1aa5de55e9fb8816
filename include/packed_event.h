/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packed_event.h: the question both sides of a packed ring ask of the
 * other side's event structure when it says VRING_PACKED_EVENT_FLAG_DESC
 * ("tell me once the descriptor at off_wrap is done"): did the positions
 * we just went through include that one?
 *
 * A position is a slot and the wrap counter of its lap.  Numbered
 * slot + (wrap ? 0 : size), positions run round a double ring of 2 * size,
 * two laps: enough to place an event against a window of fewer than
 * 2 * size positions, which is all either side ever measures (the driver
 * at most a ring's worth of adds, the device fewer than two laps of
 * pushes; see packed_dev_push()).  Both sides insist that size is a power
 * of two, so arithmetic modulo 2 * size is a mask.
 *
 * Shared by guest/ring/packed_drv.c and launcher/ring/packed_dev.c (and
 * so the host module): one formula, one place to get it right.
 */
#ifndef PACKED_EVENT_H
#define PACKED_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

/*
 * Whether the position @off_wrap names is one of the @count positions just
 * before (@slot, @wrap), the position we have reached: that is, whether
 * it lies in [here - count, here).  @off_wrap's offset need not be below
 * size (a driver's value is not checked here); only its position modulo
 * 2 * size counts.  @count < 2 * size.
 */
static inline bool packed_event_passed(uint16_t off_wrap, uint16_t slot, bool wrap, uint32_t count,
				       uint16_t size)
{
	uint32_t off = off_wrap & ((1u << VRING_PACKED_EVENT_F_WRAP_CTR) - 1);
	bool event_wrap = off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR;
	/*
	 * How far the event lies ahead of here, modulo 2 * size: laps that
	 * differ put it a ring away, whichever way round.
	 */
	uint32_t ahead = off - slot + (event_wrap != wrap ? size : 0);

	/* From the window's start it is count further: inside if below count. */
	return ((ahead + count) & (2u * size - 1)) < count;
}

#endif /* PACKED_EVENT_H */
