// SPDX-License-Identifier: GPL-2.0
/*
 * fake_device.c: device.h and the ring layer's queue calls, for fuzz
 * harnesses that drive a device model directly (see fake_device.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_device.h"
#include "trace.h"

struct fake_hooks fake;
struct device *fake_device;
char fake_fail_msg[256];
unsigned int fake_fails;

/* Tracing stays off: the models only test trace_on and call these behind it. */
bool trace_on;

void trace_record(uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags, uint32_t id,
		  uint32_t idx, uint32_t len, uint64_t addr)
{
	(void)type, (void)dev, (void)queue, (void)flags, (void)id, (void)idx, (void)len, (void)addr;
}

void trace_record_pop(uint8_t dev, uint8_t queue, uint32_t id, uint32_t idx,
		      const struct iovec *seg, unsigned int nseg, unsigned int nread,
		      unsigned int ndesc, unsigned int indirect_from)
{
	(void)dev, (void)queue, (void)id, (void)idx, (void)seg, (void)nseg, (void)nread,
		(void)ndesc, (void)indirect_from;
}

struct device *device_add(const char *name, uint8_t type, const struct device_ops *ops, void *priv,
			  const struct ring_opt *ring, unsigned int nqueues,
			  const char *const *queue_names)
{
	struct device *dev = calloc(1, sizeof(*dev));
	struct lg_device_desc *desc = calloc(1, sizeof(*desc));

	if (!dev || !desc)
		abort();
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	desc->type = type;
	desc->layout = ring->layout;
	dev->desc = desc;
	dev->ops = ops;
	dev->priv = priv;
	dev->ring = *ring;
	dev->nqueues = nqueues;
	dev->queue_names = queue_names;
	dev->notify_fd = -1;
	for (unsigned int i = 0; i < LG_VIRTIO_MAX_QUEUES; i++) {
		dev->queue[i].layout = ring->layout;
		dev->queue[i].index = (uint8_t)i;
	}
	fake_device = dev;
	return dev;
}

void device_offer(struct device *dev, uint64_t features)
{
	(void)dev;
	(void)features;
}

void *device_config_space(struct device *dev, size_t len)
{
	static uint8_t space[4096];

	(void)dev;
	if (len > sizeof(space))
		abort();
	return space;
}

void device_fail(struct device *dev, const char *fmt, ...)
{
	va_list ap;

	fake_fails++;
	if (dev->broken)
		return;
	dev->broken = true;
	va_start(ap, fmt);
	vsnprintf(fake_fail_msg, sizeof(fake_fail_msg), fmt, ap);
	va_end(ap);
	/* As device.c: nothing the model has in flight outlives the failure. */
	if (dev->ops->quiesce)
		dev->ops->quiesce(dev);
}

void device_queue_failed(struct device *dev, struct queue *q)
{
	device_fail(dev, "queue %u broke (the harness said so)", q->index);
}

void device_used(struct device *dev, struct queue *q)
{
	(void)q;
	dev->stats.signals++;
}

void fake_device_restart(struct device *dev)
{
	dev->broken = false;
	fake_fail_msg[0] = '\0';
	fake_fails = 0;
}

int queue_pop(struct queue *q, struct chain *c)
{
	return fake.pop(q, c);
}

bool queue_push(struct queue *q, struct chain *c, uint32_t written)
{
	return fake.push(q, c, written);
}

int d3_dev_join(struct d3_dev *d, struct chain *c, uint64_t id)
{
	return fake.join(d, c, id);
}

/* No notification suppression to model: the harness hands out what it has. */
void queue_disable_notify(struct queue *q)
{
	(void)q;
}

bool queue_enable_notify(struct queue *q)
{
	(void)q;
	return false;
}

bool queue_has_buffers(const struct queue *q)
{
	(void)q;
	return true;
}

int queue_depth(const struct queue *q)
{
	(void)q;
	return -1;
}
