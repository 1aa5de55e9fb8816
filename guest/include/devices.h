/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devices.h: the device table the launcher wrote, and bringing a device's
 * queues up on whichever layout the launcher chose for it.
 */
#ifndef GUEST_DEVICES_H
#define GUEST_DEVICES_H

#include "kernel.h"
#include "lg_virtio.h"
#include "vq.h"

/* Entry @index of the device table (volatile: the launcher writes status). */
volatile struct lg_device_desc *device_desc(unsigned int index);
unsigned int device_count(void);

/* The launcher stopped this device because a rule was broken. */
bool device_failed(unsigned int index);

/*
 * A device's queues.  Draft3: always two, vq[0] the in queue and vq[1]
 * the out queue, over the six pages the launcher set aside.  Split and
 * packed: as many as the driver asks for, in rings we allocate.
 */
struct lg_device {
	unsigned int index; /* in the device table: our bit in `pending` */
	uint32_t key;	    /* what NOTIFY sends */
	uint8_t layout;
	unsigned int nvq;
	struct vq vq[LG_VIRTIO_MAX_QUEUES];
	volatile struct lg_virtio_cfg *cfg; /* split/packed: the config page */
	uint64_t features;		    /* split/packed: negotiated */
};

#define DEV_D3_IN  0
#define DEV_D3_OUT 1

/*
 * Bring device @index up.  For split/packed: negotiate (we accept
 * VERSION_1, the ring features the device offers, and those of
 * @driver_features it offers), set up @nqueues queues of the largest size
 * the device allows, DRIVER_OK.  Returns false, after saying why, if the
 * device is unusable.
 */
bool lg_device_init(struct lg_device *dev, unsigned int index, unsigned int nqueues,
		    uint64_t driver_features);

/*
 * A split or packed device's config page before lg_device_init(), to see
 * what it offers (how many queues, say); NULL for draft3 or a bad entry.
 */
volatile struct lg_virtio_cfg *lg_device_peek(unsigned int index);

static inline bool lg_device_has_feature(const struct lg_device *dev, unsigned int bit)
{
	return dev->features & (1ULL << bit);
}

/* The device-specific configuration (split/packed), e.g. struct virtio_blk_config. */
static inline volatile void *lg_device_config(struct lg_device *dev)
{
	return (volatile uint8_t *)dev->cfg + LG_VIRTIO_DEVCFG_OFFSET;
}

/*
 * Publish every queue (in index order: draft3's in queue before its out
 * queue, since a block request names an in buffer) and NOTIFY once if any
 * of them wants it.
 */
void lg_device_kick(struct lg_device *dev);

/*
 * About to sleep until the device signals: ask every queue for a signal on
 * its next completion.  Returns false if something completed meanwhile
 * (reap instead of sleeping: the signal for it may already have been
 * decided against).
 */
bool lg_device_prepare_wait(struct lg_device *dev);

/* True if the device stopped or a queue saw the device break a rule. */
bool lg_device_broken(const struct lg_device *dev);

/* Drivers probe in table order at boot. */
void devices_init(void);

#endif /* GUEST_DEVICES_H */
