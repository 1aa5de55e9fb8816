/* SPDX-License-Identifier: GPL-2.0 */
/*
 * draft3_drv.h: the driver (guest) side of one draft-III queue.
 *
 * Freestanding: built into the guest kernel and into the userspace unit
 * tests and benchmarks.  The caller gives buffers as guest-physical
 * (address, length) pairs, so this code never translates addresses.
 *
 * Adding a buffer links free descriptors into a chain, marks its head
 * F_HEAD and writes the head into the next available slot, but the device
 * does not see it until d3_drv_publish() moves avail->idx.  Publishing
 * several buffers at once and notifying once is how drivers batch.
 */
#ifndef GUEST_DRAFT3_DRV_H
#define GUEST_DRAFT3_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "draft3.h"
#include "ring_sg.h"

struct d3_drv_queue {
	struct d3_desc *desc;
	struct d3_avail *avail;
	struct d3_used *used;
	uint32_t num_free;  /* descriptors on the free list */
	uint32_t free_head; /* first free descriptor */
	uint32_t num_added; /* added since the last publish */
	uint32_t last_used; /* next used index to reap */
	bool broken;	    /* the device broke a rule; see error */
	const char *error;
	void *token[D3_NUM_DESCS]; /* caller's cookie per head */
};

/* The three pages (descriptor, avail, used) of one queue; zeroes them. */
void d3_drv_init(struct d3_drv_queue *q, void *desc_page, void *avail_page, void *used_page);

/*
 * Add a buffer of @n segments; returns its head (the buffer id) or -1 if
 * there are not @n free descriptors.  @token must not be NULL.
 */
int d3_drv_add(struct d3_drv_queue *q, const struct lg_sg *sg, unsigned int n, void *token);

/* Take back the buffer most recently added (not yet published). */
void d3_drv_unadd(struct d3_drv_queue *q, int head);

/*
 * Make everything added visible to the device.  Returns true if the
 * device wants a NOTIFY (it is not already running).
 */
bool d3_drv_publish(struct d3_drv_queue *q);

/* Whether the device has used a buffer we have not reaped. */
bool d3_drv_has_used(const struct d3_drv_queue *q);

/*
 * Reap the next used buffer: returns its token and sets *len (bytes the
 * device wrote), or NULL if none (or if the device broke a rule, in which
 * case q->broken is set and q->error says which).
 */
void *d3_drv_get_used(struct d3_drv_queue *q, uint32_t *len);

/* Ask the device not to signal (we poll), or to signal again. */
void d3_drv_set_no_signal(struct d3_drv_queue *q, bool no_signal);

#endif /* GUEST_DRAFT3_DRV_H */
