/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lg_virtio.h: how a split or packed (virtio 1.x) device is configured.
 *
 * A virtio-pci device has a "common configuration" structure in a BAR:
 * features, status, and per queue its size and the three addresses.  We
 * have no PCI, so the launcher puts the same information in one page of
 * guest memory (the device's key page) and the guest reads and writes it
 * there directly, with one exception: the device status.  A status change
 * is an event the device must act on before the guest goes on (FEATURES_OK
 * is accepted or refused, DRIVER_OK starts the queues), so the guest makes
 * it with the STATUS hypercall, which the launcher handles synchronously
 * and answers by updating `status` here:
 *
 *   guest                                     launcher (vCPU thread)
 *   status = ACKNOWLEDGE | DRIVER     ---->   noted
 *   read device_features, write driver_features
 *   status |= FEATURES_OK             ---->   checks driver_features; sets
 *   re-read status: FEATURES_OK still set?     FEATURES_OK only if they make sense
 *   allocate rings, fill queue[i], enable
 *   status |= DRIVER_OK               ---->   checks every queue, starts the device
 *
 * Status bits, feature bits and the device configuration structures are
 * virtio's own (<linux/virtio_config.h>, <linux/virtio_blk.h>, ...), so a
 * Linux driver would recognise every value here.
 */
#ifndef LG_VIRTIO_H
#define LG_VIRTIO_H

#include <stdint.h>

#include <linux/virtio_config.h>

#define LG_VIRTIO_MAX_QUEUES	4
#define LG_VIRTIO_DEVCFG_OFFSET 256 /* device-specific configuration */

struct lg_virtio_queue {
	uint16_t size_max; /* device: the largest size it accepts (a power of two) */
	uint16_t size;	   /* driver: the size it chose (a power of two <= size_max) */
	uint16_t enable;   /* driver: 1 once the addresses below are valid */
	uint16_t reserved;
	uint64_t desc;	 /* split: descriptor table;  packed: descriptor ring */
	uint64_t driver; /* split: available ring;    packed: driver event suppression */
	uint64_t device; /* split: used ring;         packed: device event suppression */
};

struct lg_virtio_cfg {
	uint64_t device_features; /* device: what it offers (VIRTIO_F_*, device bits) */
	uint64_t driver_features; /* driver: what it accepts, before FEATURES_OK */
	uint8_t status;		  /* VIRTIO_CONFIG_S_*: change only with LG_PORT_STATUS */
	uint8_t num_queues;	  /* device */
	uint16_t config_len;	  /* device: bytes at LG_VIRTIO_DEVCFG_OFFSET */
	uint32_t reserved;
	struct lg_virtio_queue queue[LG_VIRTIO_MAX_QUEUES];
};

_Static_assert(sizeof(struct lg_virtio_cfg) <= LG_VIRTIO_DEVCFG_OFFSET,
	       "device config must not overlap the common part");

/* The device-specific configuration (e.g. struct virtio_blk_config) in the page. */
static inline void *lg_virtio_devcfg(struct lg_virtio_cfg *cfg)
{
	return (uint8_t *)cfg + LG_VIRTIO_DEVCFG_OFFSET;
}

#endif /* LG_VIRTIO_H */
