/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vq.h: one driver-side queue, whatever its layout.
 *
 * Drivers (console, block) add buffers, publish, reap and manage signals
 * through these calls; which of draft3_drv.c, split_drv.c and packed_drv.c
 * does the work is a switch on q->layout.  Freestanding, like the ring
 * code under it.
 *
 * One difference the drivers cannot hide: a draft-III queue carries one
 * direction only, so a buffer added to it is all readable (out queue) or
 * all writable (in queue); vq_add() refuses a mixed buffer there.
 */
#ifndef GUEST_VQ_H
#define GUEST_VQ_H

#include <stdbool.h>
#include <stdint.h>

#include "draft3_drv.h"
#include "lguest_abi.h"
#include "packed_drv.h"
#include "ring_sg.h"
#include "split_drv.h"

/* An indirect table entry: split and packed descriptors are both 16 bytes. */
union vq_indirect_desc {
	struct vring_desc split;
	struct vring_packed_desc packed;
};

struct vq {
	uint8_t layout; /* LG_RING_* */
	uint8_t dev;	/* device table index and queue number, for the trace */
	uint8_t index;
	uint32_t ntsc;	   /* entries in add_tsc */
	uint64_t *add_tsc; /* tracing: when each buffer id was added (NULL: not tracing) */
	union {
		struct d3_drv_queue d3;
		struct split_drv split;
		struct packed_drv packed;
	};
};

/*
 * Add a buffer of @out readable then @in writable segments; returns its
 * id (>= 0) or -1 if it does not fit now (or cannot on this layout).
 */
int vq_add(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in, void *token);

/*
 * The same through an indirect table of out + in entries at @table (guest
 * physical @table_gpa), which must stay untouched until the buffer is
 * reaped.  Split and packed only, with VIRTIO_F_INDIRECT_DESC.
 */
int vq_add_indirect(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
		    union vq_indirect_desc *table, uint64_t table_gpa, void *token);

/* Take back the buffer just added (draft3 only; see d3_drv_unadd()). */
void vq_unadd(struct vq *q, int id);

/* Make what was added visible; true if the device wants a NOTIFY. */
bool vq_publish(struct vq *q);

/* Buffers added and not yet published (packed: ring slots). */
unsigned int vq_unpublished(const struct vq *q);

bool vq_has_used(const struct vq *q);
void *vq_get_used(struct vq *q, uint32_t *len);

/* Signal suppression: see split_drv.h.  enable returns true if safe to sleep. */
void vq_disable_cb(struct vq *q);
bool vq_enable_cb(struct vq *q);

bool vq_broken(const struct vq *q);
const char *vq_error(const struct vq *q);

#endif /* GUEST_VQ_H */
