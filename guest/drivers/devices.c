// SPDX-License-Identifier: GPL-2.0
/*
 * devices.c: the device table, and bringing a device's queues up.
 *
 * The launcher lists one entry per device in a page it tells us about at
 * boot.  For a draft-III device the entry's key is the page frame of the
 * six queue pages the launcher set aside at the top of RAM; there is
 * nothing to negotiate.  For a split or packed device the key is the page
 * frame of its config page, and we go through virtio's handshake (see
 * include/lg_virtio.h): status, features, rings we allocate, DRIVER_OK.
 */
#include "blk.h"
#include "console.h"
#include "devices.h"
#include "hcall.h"
#include "netdev.h"
#include "trace.h"

volatile struct lg_device_desc *device_desc(unsigned int index)
{
	return (volatile struct lg_device_desc *)(uintptr_t)boot->devices_gpa + index;
}

unsigned int device_count(void)
{
	return boot->num_devices;
}

bool device_failed(unsigned int index)
{
	return device_desc(index)->status & LG_STATUS_NEEDS_RESET;
}

/* The launcher's pages for this device: above ram_top, inside RAM. */
static void *device_pages(volatile struct lg_device_desc *d, unsigned int npages)
{
	uint64_t gpa = (uint64_t)d->key << LG_PAGE_SHIFT;

	if (d->num_pages != npages || gpa < boot->ram_top ||
	    gpa + ((uint64_t)npages << LG_PAGE_SHIFT) > boot->mem_size)
		return NULL;
	return (void *)(uintptr_t)gpa;
}

volatile struct lg_virtio_cfg *lg_device_peek(unsigned int index)
{
	volatile struct lg_device_desc *d = device_desc(index);

	if (d->layout != LG_RING_SPLIT && d->layout != LG_RING_PACKED)
		return NULL;
	return device_pages(d, 1);
}

static bool init_draft3(struct lg_device *dev, volatile struct lg_device_desc *d)
{
	uint8_t *pages = device_pages(d, D3_NUM_PAGES);

	if (!pages)
		return false;
	dev->nvq = 2;
	dev->vq[DEV_D3_IN].layout = dev->vq[DEV_D3_OUT].layout = LG_RING_DRAFT3;
	d3_drv_init(&dev->vq[DEV_D3_IN].d3, pages + D3_IN_DESC * PAGE_SIZE,
		    pages + D3_IN_AVAIL * PAGE_SIZE, pages + D3_IN_USED * PAGE_SIZE);
	d3_drv_init(&dev->vq[DEV_D3_OUT].d3, pages + D3_OUT_DESC * PAGE_SIZE,
		    pages + D3_OUT_AVAIL * PAGE_SIZE, pages + D3_OUT_USED * PAGE_SIZE);
	return true;
}

static void set_status(struct lg_device *dev, uint8_t status)
{
	hcall_status(dev->index, status);
}

/* Allocate queue @i's ring and private state; tell the device where. */
static bool setup_queue(struct lg_device *dev, unsigned int i)
{
	volatile struct lg_virtio_queue *gq = &dev->cfg->queue[i];
	bool event_idx = lg_device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	uint16_t size = gq->size_max;
	struct vq *q = &dev->vq[i];
	size_t ring_bytes, priv_bytes;
	uint8_t *ring, *priv;

	if (!size || (size & (size - 1)))
		return false;
	q->layout = dev->layout;
	if (dev->layout == LG_RING_SPLIT) {
		ring_bytes = split_drv_ring_bytes(size);
		priv_bytes = split_drv_priv_bytes(size);
	} else {
		ring_bytes = packed_drv_ring_bytes(size);
		priv_bytes = packed_drv_priv_bytes(size);
	}
	ring = alloc_pages(DIV_ROUND_UP(ring_bytes, PAGE_SIZE));
	priv = alloc_pages(DIV_ROUND_UP(priv_bytes, PAGE_SIZE));
	if (!ring || !priv)
		return false;
	gq->size = size;
	if (dev->layout == LG_RING_SPLIT) {
		split_drv_init(&q->split, size, ring, priv, event_idx);
		gq->desc = virt_to_phys(q->split.desc);
		gq->driver = virt_to_phys(q->split.avail);
		gq->device = virt_to_phys(q->split.used);
	} else {
		packed_drv_init(&q->packed, size, ring, priv, event_idx);
		gq->desc = virt_to_phys(q->packed.ring);
		gq->driver = virt_to_phys(q->packed.driver);
		gq->device = virt_to_phys(q->packed.device);
	}
	gq->enable = 1;
	return true;
}

static bool init_modern(struct lg_device *dev, volatile struct lg_device_desc *d,
			unsigned int nqueues, uint64_t driver_features)
{
	uint64_t ring_features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_RING_F_EVENT_IDX |
				 1ULL << VIRTIO_RING_F_INDIRECT_DESC;

	dev->cfg = device_pages(d, 1);
	if (!dev->cfg || nqueues > dev->cfg->num_queues || nqueues > LG_VIRTIO_MAX_QUEUES)
		return false;
	if (dev->layout == LG_RING_PACKED)
		ring_features |= 1ULL << VIRTIO_F_RING_PACKED;

	/* Reset, then say we found it and have a driver for it. */
	set_status(dev, 0);
	set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	dev->features = dev->cfg->device_features & (ring_features | driver_features);
	dev->cfg->driver_features = dev->features;
	set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK);
	/* The device answers FEATURES_OK by keeping the bit, or not. */
	if (!(dev->cfg->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		printk("device %u: features %#lx refused\n", dev->index,
		       (unsigned long)dev->features);
		goto failed;
	}
	dev->nvq = nqueues;
	for (unsigned int i = 0; i < nqueues; i++) {
		if (!setup_queue(dev, i)) {
			printk("device %u: cannot set up queue %u\n", dev->index, i);
			goto failed;
		}
	}
	set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return !(dev->cfg->status & VIRTIO_CONFIG_S_NEEDS_RESET);

failed:
	set_status(dev, dev->cfg->status | VIRTIO_CONFIG_S_FAILED);
	return false;
}

/* Tracing: remember when each buffer id was added, for the reap latency. */
static void trace_queues(struct lg_device *dev)
{
	for (unsigned int i = 0; i < dev->nvq; i++) {
		struct vq *q = &dev->vq[i];

		q->dev = dev->index;
		q->index = i;
		if (!tracing())
			continue;
		q->ntsc = q->layout == LG_RING_DRAFT3  ? D3_NUM_DESCS
			  : q->layout == LG_RING_SPLIT ? q->split.size
						       : q->packed.size;
		q->add_tsc = alloc_pages(DIV_ROUND_UP(q->ntsc * sizeof(uint64_t), PAGE_SIZE));
		if (!q->add_tsc)
			q->ntsc = 0;
	}
}

bool lg_device_init(struct lg_device *dev, unsigned int index, unsigned int nqueues,
		    uint64_t driver_features)
{
	volatile struct lg_device_desc *d = device_desc(index);
	bool ok;

	dev->index = index;
	dev->key = d->key;
	dev->layout = d->layout;
	switch (d->layout) {
	case LG_RING_DRAFT3:
		ok = init_draft3(dev, d);
		break;
	case LG_RING_SPLIT:
	case LG_RING_PACKED:
		ok = init_modern(dev, d, nqueues, driver_features);
		break;
	default:
		ok = false;
	}
	if (ok)
		trace_queues(dev);
	return ok;
}

void lg_device_kick(struct lg_device *dev)
{
	bool notify = false, published = false;

	/*
	 * In index order, each publish a release store: draft3's in queue
	 * becomes visible before its out queue, so a block request never
	 * names an in buffer the device cannot see yet.
	 */
	for (unsigned int i = 0; i < dev->nvq; i++) {
		published |= vq_unpublished(&dev->vq[i]) != 0;
		notify |= vq_publish(&dev->vq[i]);
	}
	if (published && !notify)
		shared()->notify_skipped[dev->index]++;
	if (published && tracing())
		trace_record(rdtsc(), LG_TR_NOTIFY, dev->index, LG_TR_NO_DEV,
			     notify ? LG_TR_F_SENT : 0, 0, 0, 0, 0);
	if (notify)
		hcall_notify(dev->key);
}

bool lg_device_prepare_wait(struct lg_device *dev)
{
	bool idle = true;

	for (unsigned int i = 0; i < dev->nvq; i++)
		idle &= vq_enable_cb(&dev->vq[i]);
	return idle;
}

bool lg_device_broken(const struct lg_device *dev)
{
	if (device_failed(dev->index))
		return true;
	for (unsigned int i = 0; i < dev->nvq; i++) {
		if (vq_broken(&dev->vq[i]))
			return true;
	}
	return false;
}

void devices_init(void)
{
	for (unsigned int i = 0; i < device_count(); i++) {
		switch (device_desc(i)->type) {
		case LG_DEV_CONSOLE:
			console_init(i);
			break;
		case LG_DEV_BLOCK:
			blk_probe(i);
			break;
		case LG_DEV_NET:
			net_probe(i);
			break;
		default:
			printk("device %u: unknown type %u, ignored\n", i, device_desc(i)->type);
		}
	}
}
