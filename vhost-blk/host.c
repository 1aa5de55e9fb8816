// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk/host.c: what device.h promises a device model, in a process
 * that serves one device to a vhost-user frontend.
 *
 * In the launcher these calls (device.c) write the guest's device table
 * and pending bit.  Here the guest is another VMM's, so:
 *
 *   device_add()          makes our one device; its config space and
 *                         offered features are what GET_CONFIG and
 *                         GET_FEATURES answer;
 *   device_used()         decides, as the launcher does, whether the
 *                         driver wants a signal, and writes the
 *                         frontend's call eventfd;
 *   device_fail()         says why in one line, stops the device, and
 *                         writes the frontend's error eventfd
 *                         (SET_VRING_ERR), vhost-user's way of saying
 *                         "this ring is broken": the frontend decides
 *                         what the guest sees, and we keep listening.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vhost_blk.h"
#include "log.h"
#include "trace.h"

struct vb_device vbd = { .call_fd = -1, .err_fd = -1 };
static struct device the_device;

struct device *device_add(const char *name, uint8_t type, const struct device_ops *ops, void *priv,
			  const struct ring_opt *ring, unsigned int nqueues,
			  const char *const *queue_names)
{
	struct device *dev = &the_device;

	(void)type;
	if (vbd.dev || nqueues != 1)
		die("%s: this program serves one device with one queue", name);
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->ops = ops;
	dev->priv = priv;
	dev->ring = *ring;
	dev->nqueues = nqueues;
	dev->queue_names = queue_names;
	dev->notify_fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	vbd.dev = dev;
	/* Ring features: every layout and option our ring code has (the frontend picks). */
	vbd.offered = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_RING_F_EVENT_IDX |
		      1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (ring->layout == LG_RING_PACKED)
		vbd.offered |= 1ULL << VIRTIO_F_RING_PACKED;
	/* Split until the frontend acks packed (SET_FEATURES). */
	dev->ring.layout = LG_RING_SPLIT;
	return dev;
}

void device_offer(struct device *dev, uint64_t features)
{
	(void)dev;
	vbd.offered |= features;
}

void *device_config_space(struct device *dev, size_t len)
{
	if (len > sizeof(vbd.config))
		die("%s: device configuration too large", dev->name);
	vbd.config_len = (uint32_t)len;
	return vbd.config;
}

/* The frontend turns a write here into the guest's interrupt. */
void device_signal(struct device *dev)
{
	uint64_t one = 1;

	dev->stats.signals++;
	if (vbd.call_fd < 0)
		return; /* the frontend polls (SET_VRING_CALL without an fd) */
	vbd.calls++;
	if (write(vbd.call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_lg("%s: call eventfd: %s", dev->name, strerror(errno));
}

void device_used(struct device *dev, struct queue *q)
{
	bool wanted = queue_should_signal(q);

	trace_event(LG_TR_SIGNAL, dev->index, LG_TR_NO_DEV, wanted ? LG_TR_F_SENT : 0, 0, 0, 0, 0);
	if (wanted)
		device_signal(dev);
	else
		dev->stats.signals_suppressed++;
}

void device_queue_failed(struct device *dev, struct queue *q)
{
	device_fail(dev, "%s", queue_error(q));
}

void device_fail(struct device *dev, const char *fmt, ...)
{
	uint64_t one = 1;
	char why[256];
	va_list ap;

	if (dev->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	dev->broken = true;
	warnx_lg("%s: %s; device stopped until the frontend restarts the ring", dev->name, why);
	if (trace_on)
		trace_record_error(dev->index, why);
	if (vbd.err_fd >= 0) {
		vbd.errors_reported++;
		if (write(vbd.err_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			warnx_lg("%s: error eventfd: %s", dev->name, strerror(errno));
	}
}

/* For the trace's output: the one device. */
unsigned int device_count(void)
{
	return vbd.dev ? 1 : 0;
}

struct device *device_by_index(unsigned int i)
{
	return i == 0 ? vbd.dev : NULL;
}

void vb_device_reset(void)
{
	struct device *dev = vbd.dev;

	for (unsigned int i = 0; i < dev->nqueues; i++)
		queue_destroy(&dev->queue[i]);
	dev->features = 0;
	dev->ring.layout = LG_RING_SPLIT;
	dev->active = false;
	dev->broken = false;
	memset(&dev->stats, 0, sizeof(dev->stats));
	if (vbd.call_fd >= 0)
		close(vbd.call_fd);
	if (vbd.err_fd >= 0)
		close(vbd.err_fd);
	vbd.call_fd = vbd.err_fd = -1;
	vbd.kicks = vbd.calls = vbd.errors_reported = 0;
}
