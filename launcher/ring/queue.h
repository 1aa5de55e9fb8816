/* SPDX-License-Identifier: GPL-2.0 */
/*
 * queue.h: one device-side queue, whatever its layout.
 *
 * Device models (blk, console) pop chains, do their I/O on the iovecs and
 * push them back, through these calls only; which of the three layouts
 * carries the chains is decided here, by a switch on q->layout, so a model
 * reads the same on draft III, split and packed rings.
 *
 * A draft-III device has two queues over one struct d3_dev (its in and out
 * queues share the six pages, the "running" flag and the block protocol's
 * join): queue 0 is the in queue (buffers the device fills), queue 1 the
 * out queue.  Modern devices number their queues as virtio does (console:
 * 0 receiveq, 1 transmitq; block: 0 requestq), which gives the console the
 * same numbering on every layout.
 */
#ifndef LAUNCHER_RING_QUEUE_H
#define LAUNCHER_RING_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "lguest_abi.h"
#include "ring/draft3_dev.h"
#include "ring/packed_dev.h"
#include "ring/split_dev.h"

#define QUEUE_D3_IN  0
#define QUEUE_D3_OUT 1

struct queue {
	uint8_t layout; /* LG_RING_* */
	bool ready;	/* set up and usable (modern: after DRIVER_OK) */
	uint8_t dev;	/* device table index and queue number, for the trace */
	uint8_t index;
	uint64_t popped, descs, used; /* buffers taken and given back, descriptors walked */
	union {
		struct {
			struct d3_dev *dev;
			bool in;
		} d3;
		struct split_dev split;
		struct packed_dev packed;
	};
};

/* Where the guest and we are: avail position consumed, used position written. */
uint32_t queue_avail_pos(const struct queue *q);
uint32_t queue_used_pos(const struct queue *q);

/* Draft III: queue @in (or out) of @d, which the device owns. */
void queue_init_draft3(struct queue *q, struct d3_dev *d, bool in);

/*
 * Modern: what the guest wrote in its lg_virtio_queue, with the features
 * negotiated.  False (queue_error() says why) if the guest's values are bad.
 */
bool queue_init_modern(struct queue *q, uint8_t layout, const struct guest_mem *mem,
		       const char *name, uint16_t size, uint64_t desc, uint64_t driver,
		       uint64_t device, bool event_idx, bool indirect);
/*
 * Modern, straight after queue_init_modern(): carry on from position @pos
 * (what queue_avail_pos() said when the queue stopped), with no buffer in
 * flight, as a vhost-user frontend asks with SET_VRING_BASE.  False (the
 * queue is broken) if @pos cannot be a position on this ring, or if the
 * queue was broken already.
 */
bool queue_resume(struct queue *q, uint32_t pos);
/* Forget a modern queue (device reset); the queue is not ready afterwards. */
void queue_destroy(struct queue *q);

/* 1: a chain was popped into c; 0: nothing available; -1: the queue broke. */
int queue_pop(struct queue *q, struct chain *c);
/* Give c back with @written bytes; false if the queue broke. */
bool queue_push(struct queue *q, struct chain *c, uint32_t written);

/*
 * NOTIFY suppression while the device works: disable, pop until empty,
 * then enable, which returns true if more arrived meanwhile (pop again).
 */
void queue_disable_notify(struct queue *q);
bool queue_enable_notify(struct queue *q);

/* After pushing: whether the guest wants a signal for what was used. */
bool queue_should_signal(struct queue *q);

/*
 * Whether the guest has a buffer waiting for the device: on a queue the
 * device fills (console input), whether to watch the input source at all.
 */
bool queue_has_buffers(const struct queue *q);

/*
 * Buffers the guest has published and we have not used yet, for the
 * statistics: read from the avail index (a plain, unchecked-for-use read,
 * bounded by the ring size), or -1 where the layout has no such index
 * (packed); 0 from a broken queue, which reads guest memory no more.
 */
int queue_depth(const struct queue *q);

bool queue_broken(const struct queue *q);
/* The first rule the guest broke, prefixed by the queue's name. */
const char *queue_error(const struct queue *q);

#endif /* LAUNCHER_RING_QUEUE_H */
