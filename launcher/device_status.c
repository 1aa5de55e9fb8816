// SPDX-License-Identifier: GPL-2.0
/*
 * device_status.c: a split or packed device's status, as the guest moves
 * it along (see include/lg_virtio.h for the handshake).
 *
 * This runs on the vCPU thread, inside the guest's STATUS hypercall, so
 * the guest sees our answer (a FEATURES_OK refused, NEEDS_RESET) as soon
 * as the hypercall returns, as it would reading back a virtio-pci
 * register.  It takes dev->lock because the device thread may be using
 * the queues (a reset tears them down).
 *
 * What the guest wrote in the config page is read once, when the status
 * change that makes it matter arrives (driver_features at FEATURES_OK,
 * the queue addresses at DRIVER_OK), and the device uses only those
 * copies: changing the page afterwards changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "trace.h"

#define READ_GUEST(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Setting FEATURES_OK: accept it only if the driver's choice makes sense. */
static bool features_ok(struct device *dev)
{
	uint64_t offered = dev->vcfg->device_features;
	uint64_t wanted = READ_GUEST(dev->vcfg->driver_features);

	if (wanted & ~offered) {
		warnx_lg("%s: refusing FEATURES_OK: the driver accepted features %#llx, which the "
			 "device did not offer",
			 dev->name, (unsigned long long)(wanted & ~offered));
		return false;
	}
	if (!(wanted & (1ULL << VIRTIO_F_VERSION_1))) {
		warnx_lg("%s: refusing FEATURES_OK: the driver did not accept VIRTIO_F_VERSION_1 "
			 "(legacy virtio is not supported)",
			 dev->name);
		return false;
	}
	if (dev->ring.layout == LG_RING_PACKED && !(wanted & (1ULL << VIRTIO_F_RING_PACKED))) {
		warnx_lg(
			"%s: refusing FEATURES_OK: the driver did not accept VIRTIO_F_RING_PACKED, "
			"but this device runs a packed ring (ring=packed)",
			dev->name);
		return false;
	}
	dev->features = wanted;
	return true;
}

/* Setting DRIVER_OK: check and set up every queue, then start. */
static bool driver_ok(struct device *dev)
{
	bool event_idx = device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	bool indirect = device_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC);

	for (unsigned int i = 0; i < dev->nqueues; i++) {
		struct lg_virtio_queue *gq = &dev->vcfg->queue[i];
		uint16_t size = READ_GUEST(gq->size), enable = READ_GUEST(gq->enable);
		uint64_t desc = READ_GUEST(gq->desc), drv = READ_GUEST(gq->driver),
			 devarea = READ_GUEST(gq->device);

		if (!enable && dev->queues_required && i >= dev->queues_required)
			continue; /* an optional queue, left unused: it stays not ready */
		if (!enable) {
			device_fail(dev, "%s: DRIVER_OK with the queue not enabled",
				    dev->queue_names[i]);
			return false;
		}
		if (size > dev->ring.qsize) {
			device_fail(dev, "%s: queue size %u is larger than the device's %u",
				    dev->queue_names[i], size, dev->ring.qsize);
			return false;
		}
		if (!queue_init_modern(&dev->queue[i], dev->ring.layout, dev->mem,
				       dev->queue_names[i], size, desc, drv, devarea, event_idx,
				       indirect)) {
			device_queue_failed(dev, &dev->queue[i]);
			return false;
		}
		dev->qaddr[i].size = size;
		dev->qaddr[i].desc = desc;
		dev->qaddr[i].driver = drv;
		dev->qaddr[i].device = devarea;
		verbose("%s: %s: %s ring of %u at %#llx / %#llx / %#llx%s%s", dev->name,
			dev->queue_names[i], layout_name(dev->ring.layout), size,
			(unsigned long long)desc, (unsigned long long)drv,
			(unsigned long long)devarea, event_idx ? ", event idx" : "",
			indirect ? ", indirect" : "");
	}
	if (dev->ops->start && !dev->ops->start(dev))
		return false;
	dev->active = true;
	return true;
}

static void reset(struct device *dev)
{
	if (dev->active && dev->ops->stop)
		dev->ops->stop(dev);
	for (unsigned int i = 0; i < dev->nqueues; i++)
		queue_destroy(&dev->queue[i]);
	dev->active = false;
	dev->broken = false;
	dev->features = 0;
	device_publish_status(dev, 0);
}

/* The answer to one status write, with dev->lock held. */
static void change_status(struct device *dev, uint8_t status)
{
	uint8_t old = dev->status, added = status & ~old;

	if (status == 0) {
		reset(dev);
		return;
	}
	if (old & ~status) {
		warnx_lg("%s: the driver cleared status bits %#x without a reset (ignored)",
			 dev->name, old & ~status);
		return;
	}
	if (dev->broken || (old & VIRTIO_CONFIG_S_FAILED))
		return; /* only a reset brings it back */
	if (added & VIRTIO_CONFIG_S_FAILED) {
		/* The driver gave up: stop, say so, and wait for a reset. */
		device_publish_status(dev, status);
		device_fail(dev, "the guest driver set FAILED");
		return;
	}
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_ok(dev))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			device_publish_status(dev, status & ~VIRTIO_CONFIG_S_DRIVER_OK);
			device_fail(dev, "DRIVER_OK without FEATURES_OK");
			return;
		}
		device_publish_status(dev, status);
		if (!driver_ok(dev))
			return;
		/* Buffers may already be waiting: let the device thread look. */
		device_kick(dev);
		return;
	}
	device_publish_status(dev, status);
}

void device_write_status(unsigned int index, uint64_t status)
{
	struct device *dev = device_by_index(index);

	if (!dev || !dev->vcfg) {
		warnx_lg("guest wrote status %#llx to device %u, which is not a split or packed "
			 "device (ignored)",
			 (unsigned long long)status, index);
		return;
	}
	if (status > 0xff) {
		warnx_lg("%s: status %#llx does not fit in 8 bits (ignored)", dev->name,
			 (unsigned long long)status);
		return;
	}
	trace_event(LG_TR_STATUS, dev->index, LG_TR_NO_DEV, 0, 0, 0, (uint32_t)status, 0);
	pthread_mutex_lock(&dev->lock);
	change_status(dev, (uint8_t)status);
	pthread_mutex_unlock(&dev->lock);
}
