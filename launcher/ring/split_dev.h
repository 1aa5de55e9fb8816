/* SPDX-License-Identifier: GPL-2.0 */
/*
 * split_dev.h: the device side of a virtio 1.x split virtqueue
 * (shared/seeds/002; layout from <linux/virtio_ring.h>).
 *
 * The guest allocates the three parts (descriptor table, available ring,
 * used ring) wherever it likes and tells the device their guest-physical
 * addresses; split_dev_init() checks them once.  After that, the rules of
 * draft3_dev.c hold here too: every value the guest can change is read
 * exactly once, checked, and only the checked copy is used; the first rule
 * broken marks the queue broken with a message naming the queue and the
 * rule, and after that nothing reads or writes guest memory again.
 */
#ifndef LAUNCHER_RING_SPLIT_DEV_H
#define LAUNCHER_RING_SPLIT_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "chain.h"
#include "guest_access.h"
#include "guest_mem.h"

#define SPLIT_MAX_SIZE 32768 /* the largest queue size virtio allows */

struct split_dev {
	const char *name; /* "requestq", "rx", ...: first word of every error */
	const struct guest_mem *mem;
	uint16_t size;			 /* entries: a power of two, 1..SPLIT_MAX_SIZE */
	bool event_idx;			 /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;			 /* VIRTIO_F_INDIRECT_DESC negotiated */
	struct vring_desc __guest *desc; /* host pointers into guest RAM, checked at init */
	struct vring_avail __guest *avail;
	struct vring_used __guest *used;
	uint16_t last_avail;	 /* next avail->ring slot to consume (free running) */
	uint16_t used_idx;	 /* what we last stored in used->idx */
	uint16_t signalled_used; /* used_idx when we last decided about a signal */
	bool signalled_valid;	 /* false until the first decision */
	uint8_t *in_flight;	 /* [size]: head popped and not yet pushed */
	bool broken;
	char error[192];
};

/*
 * Point the queue at the guest's three parts.  Fails (false, q->error set,
 * q->broken set) if size is not a power of two in 1..SPLIT_MAX_SIZE, if an
 * address is not aligned as the spec requires (desc 16, avail 2, used 4),
 * or if any part (including used_event / avail_event) lies outside RAM.
 * Allocates in_flight; split_dev_destroy() frees it (and leaves the queue
 * broken, so a stray call afterwards does nothing).  Init zeroes *q, so
 * destroy before initialising the same struct again.
 */
bool split_dev_init(struct split_dev *q, const struct guest_mem *mem, const char *name,
		    uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		    bool event_idx, bool indirect);
void split_dev_destroy(struct split_dev *q);

/*
 * Take the next available chain: c is overwritten with its segments
 * (readable first, then writable), c->id = head, c->in_id = CHAIN_NO_ID,
 * c->ndesc = descriptors walked (an indirect descriptor and every entry
 * of its table count).  Returns 1, 0 if nothing is available, -1 if the
 * queue is (now) broken.
 */
int split_dev_pop(struct split_dev *q, struct chain *c);

/*
 * Give chain c (popped from this queue) back with @written bytes (capped
 * at c->write_len).  Returns false if the queue is broken, the head is
 * not in flight, or the guest wrote to used->idx.
 */
bool split_dev_push(struct split_dev *q, const struct chain *c, uint32_t written);

/*
 * Notification suppression, device side.  disable: the guest need not
 * NOTIFY (VRING_USED_F_NO_NOTIFY; with EVENT_IDX, avail_event is simply
 * left behind).  enable: ask for NOTIFYs again (clear the flag, or set
 * avail_event = last_avail), then, after a full barrier, report whether
 * more was published meanwhile: if true the caller must pop again rather
 * than sleep.  With EVENT_IDX the request is one-shot (the guest notifies
 * once, when it publishes entry last_avail), so call enable before every
 * sleep, not once: the loop disable, pop until 0, enable, sleep only if
 * enable said false, does exactly that.
 */
void split_dev_disable_notify(struct split_dev *q);
bool split_dev_enable_notify(struct split_dev *q);

/*
 * After pushing one or more chains: does the guest want a signal?  Without
 * EVENT_IDX: unless VRING_AVAIL_F_NO_INTERRUPT.  With it:
 * vring_need_event(used_event, used_idx, signalled_used).  Records the
 * decision point either way.  False if broken.
 */
bool split_dev_should_signal(struct split_dev *q);

/* Whether avail->idx has moved past what we popped (false if broken). */
bool split_dev_has_avail(const struct split_dev *q);

#endif /* LAUNCHER_RING_SPLIT_DEV_H */
