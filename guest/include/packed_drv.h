/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packed_drv.h: the driver (guest) side of a virtio 1.1 packed virtqueue.
 *
 * Freestanding, like split_drv.h.  One difference in feel: a packed
 * descriptor is available the moment its head's flags are written, so
 * packed_drv_add() makes the buffer visible to the device at once (head
 * flags last, with a release store); packed_drv_publish() only decides
 * whether the device needs a NOTIFY for what was added since last time.
 */
#ifndef GUEST_PACKED_DRV_H
#define GUEST_PACKED_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "ring_sg.h"

struct packed_drv {
	uint16_t size;
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	struct vring_packed_desc *ring;
	struct vring_packed_desc_event *driver; /* driver area: we write */
	struct vring_packed_desc_event *device; /* device area: the device writes */
	uint16_t next_avail;			/* ring slot for the next descriptor we add */
	bool avail_wrap;			/* our wrap counter (starts 1) */
	uint16_t avail_bits; /* AVAIL|USED of what we make available on this lap */
	uint16_t num_free;			/* ring slots free */
	uint16_t num_added; /* slots made available since the last publish (at most size) */
	uint16_t last_used; /* ring slot of the next used descriptor */
	bool used_wrap;	    /* wrap counter expected there (starts 1) */
	uint16_t used_bits; /* AVAIL|USED of a used descriptor on that lap */
	uint16_t free_id;   /* first free buffer id */
	bool cb_disabled;
	bool follow_used; /* event_idx && !cb_disabled: reaping moves used_event on */
	bool broken;
	const char *error;
	/* Private state in caller memory (packed_drv_priv_bytes()): */
	void **token;	   /* [size] by buffer id, NULL = free */
	uint16_t *nslots;  /* [size] by buffer id: ring slots the buffer took */
	uint16_t *next_id; /* [size] free-id list */
};

/* Bytes of ring memory (ring | driver event | device event). */
size_t packed_drv_ring_bytes(uint16_t size);
size_t packed_drv_priv_bytes(uint16_t size);

/* Lay the ring out in @ring (16-aligned, zeroed here) and state in @priv. */
void packed_drv_init(struct packed_drv *q, uint16_t size, void *ring, void *priv, bool event_idx);

/* As split_drv_add(): returns the buffer id, or -1 if it does not fit. */
int packed_drv_add(struct packed_drv *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
		   void *token);
int packed_drv_add_indirect(struct packed_drv *q, const struct lg_sg *sg, unsigned int out,
			    unsigned int in, struct vring_packed_desc *table, uint64_t table_gpa,
			    void *token);

/*
 * After adding: does the device want a NOTIFY?  Reads the device area
 * (after a full barrier): ENABLE yes, DISABLE no, DESC if the slots made
 * available since the last publish passed its off_wrap.
 */
bool packed_drv_publish(struct packed_drv *q);

bool packed_drv_has_used(const struct packed_drv *q);

/* As split_drv_get_used(); a used id out of range or not outstanding breaks q. */
void *packed_drv_get_used(struct packed_drv *q, uint32_t *len);

/* As split_drv.h, through the driver area (DISABLE / ENABLE or DESC). */
void packed_drv_disable_cb(struct packed_drv *q);
bool packed_drv_enable_cb(struct packed_drv *q);

#endif /* GUEST_PACKED_DRV_H */
