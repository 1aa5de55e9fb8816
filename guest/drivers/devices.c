// SPDX-License-Identifier: GPL-2.0
/*
 * devices.c: the device table.  The launcher lists one entry per device in
 * a page it tells us about at boot; for a draft-III device the entry's key
 * is the page frame of the six queue pages the launcher set aside at the
 * top of RAM, and also the value NOTIFY carries.
 */
#include "blk.h"
#include "console.h"
#include "devices.h"
#include "hcall.h"

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

bool d3_device_init(struct d3_device *dev, unsigned int index)
{
	volatile struct lg_device_desc *d = device_desc(index);
	uint8_t *pages;

	if (d->layout != LG_RING_DRAFT3 || d->num_pages != D3_NUM_PAGES)
		return false;
	pages = (uint8_t *)(uintptr_t)((uint64_t)d->key << LG_PAGE_SHIFT);
	if ((uint64_t)d->key << LG_PAGE_SHIFT < boot->ram_top ||
	    ((uint64_t)d->key + D3_NUM_PAGES) << LG_PAGE_SHIFT > boot->mem_size)
		return false;
	dev->index = index;
	dev->key = d->key;
	d3_drv_init(&dev->in, pages + D3_IN_DESC * PAGE_SIZE, pages + D3_IN_AVAIL * PAGE_SIZE,
		    pages + D3_IN_USED * PAGE_SIZE);
	d3_drv_init(&dev->out, pages + D3_OUT_DESC * PAGE_SIZE, pages + D3_OUT_AVAIL * PAGE_SIZE,
		    pages + D3_OUT_USED * PAGE_SIZE);
	return true;
}

void d3_device_kick(struct d3_device *dev)
{
	/*
	 * In before out: a block request on the out queue names a buffer on
	 * the in queue, which must already be visible when the device reads
	 * the request.  (Both publishes are release stores, so the in
	 * queue's index is visible before the out queue's.)
	 */
	bool notify_in = d3_drv_publish(&dev->in);
	bool notify_out = d3_drv_publish(&dev->out);

	if (notify_in || notify_out)
		hcall_notify(dev->key);
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
		default:
			printk("device %u: unknown type %u, ignored\n", i, device_desc(i)->type);
		}
	}
}
