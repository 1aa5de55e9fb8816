/* SPDX-License-Identifier: GPL-2.0 */
/*
 * split_drv.h: the driver (guest) side of a virtio 1.x split virtqueue.
 *
 * Freestanding: built into the guest kernel and into the userspace unit
 * tests and benchmarks.  Buffers are given as guest-physical (address,
 * length) pairs; the ring itself is given as a pointer, and the caller
 * tells the device where it is (split_drv_desc() etc. are host pointers:
 * the caller converts them, since only it knows the mapping).
 *
 * As with draft III: split_drv_add() fills descriptors and the next avail
 * slot, but the device sees nothing until split_drv_publish() moves
 * avail->idx, so a driver adds many buffers and notifies once.
 */
#ifndef GUEST_SPLIT_DRV_H
#define GUEST_SPLIT_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "ring_sg.h"

struct split_drv {
	uint16_t size;
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head; /* first descriptor on the free list */
	uint16_t num_free;
	uint16_t avail_idx; /* our copy of avail->idx, counting added buffers */
	uint16_t num_added; /* added since the last publish */
	uint16_t last_used; /* next used index to reap */
	bool cb_disabled;   /* split_drv_disable_cb() in force */
	bool follow_used;   /* event_idx && !cb_disabled: reaping moves used_event on */
	bool broken;	    /* the device broke a rule; see error */
	const char *error;
	/* Private state in caller memory (split_drv_priv_bytes()): */
	void **token;	  /* [size] by head: caller's cookie, NULL = free */
	uint16_t *ndescs; /* [size] by head: ring descriptors the buffer took */
};

/* Bytes of ring memory (desc | avail + used_event | pad | used + avail_event). */
size_t split_drv_ring_bytes(uint16_t size);
/* Bytes of private memory split_drv_init() needs. */
size_t split_drv_priv_bytes(uint16_t size);

/*
 * Lay the ring out in @ring (16-aligned, split_drv_ring_bytes() long; it
 * is zeroed) and the private state in @priv (pointer-aligned, also
 * zeroed).  @size: a power of two in 1..32768; anything else leaves the
 * queue broken, touching neither @ring nor @priv.
 */
void split_drv_init(struct split_drv *q, uint16_t size, void *ring, void *priv, bool event_idx);

/*
 * Add a buffer: @out readable segments then @in writable ones, one
 * descriptor each.  Returns its head (the buffer id) or -1 if there are
 * not out + in free descriptors (or none given).  @token must not be NULL.
 */
int split_drv_add(struct split_drv *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
		  void *token);

/*
 * The same through one indirect descriptor: the out + in entries go into
 * @table (caller memory at guest-physical @table_gpa, left untouched by
 * the caller until the buffer is reaped), the ring uses one descriptor.
 * Only with VIRTIO_F_INDIRECT_DESC negotiated.
 */
int split_drv_add_indirect(struct split_drv *q, const struct lg_sg *sg, unsigned int out,
			   unsigned int in, struct vring_desc *table, uint64_t table_gpa,
			   void *token);

/*
 * Make everything added visible (store avail->idx).  Returns true if the
 * device wants a NOTIFY: without EVENT_IDX unless VRING_USED_F_NO_NOTIFY;
 * with it, vring_need_event(avail_event, new, old).
 */
bool split_drv_publish(struct split_drv *q);

/* Whether the device has used a buffer we have not reaped. */
bool split_drv_has_used(const struct split_drv *q);

/*
 * Reap the next used buffer: its token, and *len = bytes the device
 * wrote; NULL if none (or if the device broke a rule: a used id out of
 * range or not outstanding, used->idx running ahead; then q->broken is
 * set and q->error says which).  With EVENT_IDX and callbacks enabled,
 * also moves used_event on, so the next completion signals again.
 */
void *split_drv_get_used(struct split_drv *q, uint32_t *len);

/*
 * Signal (interrupt) suppression, driver side.  disable: we poll, do not
 * signal (VRING_AVAIL_F_NO_INTERRUPT; with EVENT_IDX used_event is left
 * behind).  enable: ask for a signal on the next completion; after a full
 * barrier, returns true if nothing is waiting to be reaped (safe to
 * sleep), false if something already is (reap first).  A broken queue
 * will never have anything to reap, so enable says true: check q->broken.
 */
void split_drv_disable_cb(struct split_drv *q);
bool split_drv_enable_cb(struct split_drv *q);

#endif /* GUEST_SPLIT_DRV_H */
