/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packed_dev.h: the device side of a virtio 1.1 packed virtqueue
 * (oasis-tcs/virtio-spec packed-ring.tex; layout from <linux/virtio_ring.h>).
 *
 * One ring of descriptors that the driver and the device both write: the
 * driver marks a descriptor available by setting its AVAIL flag bit to its
 * wrap counter and USED to the opposite; the device marks a buffer used by
 * writing one descriptor (buffer id, length) with both bits equal to its
 * own wrap counter.  Two small event-suppression structures sit beside it:
 * the driver area (written by the driver: when it wants signals) and the
 * device area (written by us: when we want NOTIFYs).
 *
 * The same rules as draft3_dev.c hold: every value the guest can change is
 * read exactly once and checked; the first rule broken marks the queue
 * broken with a message naming the queue and the rule; after that nothing
 * touches guest memory.
 */
#ifndef LAUNCHER_RING_PACKED_DEV_H
#define LAUNCHER_RING_PACKED_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "chain.h"
#include "guest_access.h"
#include "guest_mem.h"

#define PACKED_MAX_SIZE 32768 /* 2^15: ring offsets carry a wrap bit on top */

struct packed_dev {
	const char *name; /* first word of every error */
	const struct guest_mem *mem;
	uint16_t size;	/* descriptors: a power of two, 1..PACKED_MAX_SIZE */
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX: VRING_PACKED_EVENT_FLAG_DESC allowed */
	bool indirect;	/* VIRTIO_F_INDIRECT_DESC negotiated */
	struct vring_packed_desc __guest *ring;		/* host pointers, checked at init */
	struct vring_packed_desc_event __guest *driver; /* driver area: the guest writes */
	struct vring_packed_desc_event __guest *device; /* device area: we write */
	uint16_t next_avail;	 /* ring slot where the next available buffer starts */
	bool avail_wrap;	 /* driver wrap counter we expect there (starts 1) */
	uint16_t avail_bits;	 /* AVAIL|USED of a descriptor available on that lap */
	uint16_t next_used;	 /* ring slot where the next used descriptor goes */
	bool used_wrap;		 /* our wrap counter (starts 1) */
	uint16_t used_bits;	 /* AVAIL|USED of the used descriptors we write on that lap */
	/*
	 * Where we last decided about a signal (next_used, used_wrap): kept to
	 * be looked at; the next decision measures its window by pushes_left.
	 */
	uint16_t signalled_used;
	bool signalled_wrap;
	bool signalled_valid;	  /* a decision is remembered: the window is measurable */
	uint32_t pushes_left;	  /* pushes the window has room for, less one (packed_dev_push()) */
	uint16_t slots_in_flight; /* next_used up to next_avail: slots of buffers in flight */
	uint16_t *slots; /* [size], by buffer id: ring slots it took; 0 = not in flight */
	bool broken;
	char error[192];
};

/*
 * Set both next_avail and next_used to @slot on lap @wrap, nothing in
 * flight: where a queue resumes (queue_resume()).
 */
void packed_dev_set_position(struct packed_dev *q, uint16_t slot, bool wrap);

/*
 * Point the queue at the guest's ring (16 * size bytes, 16-aligned) and
 * its two event structures (4 bytes each, 4-aligned).  Same failure rules
 * as split_dev_init().  Allocates slots; packed_dev_destroy() frees it.
 */
bool packed_dev_init(struct packed_dev *q, const struct guest_mem *mem, const char *name,
		     uint16_t size, uint64_t ring_gpa, uint64_t driver_gpa, uint64_t device_gpa,
		     bool event_idx, bool indirect);
void packed_dev_destroy(struct packed_dev *q);

/*
 * Take the next available buffer: c is overwritten with its segments
 * (readable, then writable), c->id = its buffer id, c->in_id =
 * CHAIN_NO_ID, c->ndesc = descriptors walked (an indirect descriptor and
 * every entry of its table count).  Returns 1, 0 if none is available, -1
 * if the queue is (now) broken (c is then left empty).  Besides the
 * spec's rules, an indirect table must be 8-byte aligned (we read it with
 * aligned atomic loads) and the driver may not have more slots
 * outstanding than the ring holds.
 */
int packed_dev_pop(struct packed_dev *q, struct chain *c);

/*
 * Write one used descriptor for chain c (id, @written capped at
 * c->write_len) at next_used and step next_used past the slots the buffer
 * took.  False if broken or if c->id is not in flight.
 */
bool packed_dev_push(struct packed_dev *q, const struct chain *c, uint32_t written);

/* As split_dev.h: the device area's flags (DISABLE / ENABLE or DESC). */
void packed_dev_disable_notify(struct packed_dev *q);
bool packed_dev_enable_notify(struct packed_dev *q);

/*
 * After pushing: does the driver want a signal?  Reads the driver area:
 * ENABLE yes, DISABLE no, DESC (only with EVENT_IDX) if the used
 * descriptors written since the last decision passed its off_wrap.
 * Reserved flag values break the queue.  Records the decision point.
 */
bool packed_dev_should_signal(struct packed_dev *q);

/* Whether the descriptor at next_avail is available (false if broken). */
bool packed_dev_has_avail(const struct packed_dev *q);

#endif /* LAUNCHER_RING_PACKED_DEV_H */
