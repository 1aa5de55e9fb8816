// SPDX-License-Identifier: GPL-2.0
/*
 * vq.c: dispatch from the layout-neutral queue calls to each layout's code,
 * and the driver side's trace points (add, publish, reap): recorded here,
 * once for all three layouts.
 */
#include "hcall.h"
#include "trace.h"
#include "vq.h"

/* Where the next buffer goes: draft3/split name it by its head, packed by slot. */
static uint32_t add_pos(const struct vq *q, int id)
{
	if (q->layout == LG_RING_PACKED)
		return q->packed.next_avail | (uint32_t)q->packed.avail_wrap << 15;
	return (uint32_t)id;
}

/*
 * @now was read before the buffer became visible: the device may pop it
 * the moment it is (a packed ring's head flags), and the trace must not
 * show the pop first.
 */
static void trace_add(struct vq *q, int id, uint64_t now, uint32_t pos, const struct lg_sg *sg,
		      unsigned int out, unsigned int in, bool indirect)
{
	uint32_t bytes = 0;

	for (unsigned int i = 0; i < out + in; i++)
		bytes += sg[i].len;
	trace_record(now, LG_TR_ADD, q->dev, q->index, 0, (uint32_t)id, pos, bytes, out + in);
	for (unsigned int i = 0; i < out + in; i++)
		trace_record(now, LG_TR_ADD_DESC, q->dev, q->index,
			     (i >= out || (q->layout == LG_RING_DRAFT3 && in) ? LG_TR_F_WRITE : 0) |
				     (indirect ? LG_TR_F_INDIRECT : 0),
			     (uint32_t)id, i, sg[i].len, sg[i].gpa);
	if (q->add_tsc && (uint32_t)id < q->ntsc)
		q->add_tsc[id] = now;
}

static int add(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in, void *token)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		/* One direction per queue: the queue decides which. */
		if (out && in)
			return -1;
		return d3_drv_add(&q->d3, sg, out + in, token);
	case LG_RING_SPLIT:
		return split_drv_add(&q->split, sg, out, in, token);
	default:
		return packed_drv_add(&q->packed, sg, out, in, token);
	}
}

int vq_add(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in, void *token)
{
	uint32_t pos = tracing() ? add_pos(q, 0) : 0;
	uint64_t now = tracing() ? rdtsc() : 0;
	int id = add(q, sg, out, in, token);

	if (tracing() && id >= 0)
		trace_add(q, id, now, q->layout == LG_RING_PACKED ? pos : (uint32_t)id, sg, out, in,
			  false);
	return id;
}

static int add_indirect(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
			union vq_indirect_desc *table, uint64_t table_gpa, void *token)
{
	switch (q->layout) {
	case LG_RING_SPLIT:
		return split_drv_add_indirect(&q->split, sg, out, in, &table->split, table_gpa,
					      token);
	case LG_RING_PACKED:
		return packed_drv_add_indirect(&q->packed, sg, out, in, &table->packed, table_gpa,
					       token);
	default:
		return -1;
	}
}

int vq_add_indirect(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
		    union vq_indirect_desc *table, uint64_t table_gpa, void *token)
{
	uint32_t pos = tracing() ? add_pos(q, 0) : 0;
	uint64_t now = tracing() ? rdtsc() : 0;
	int id = add_indirect(q, sg, out, in, table, table_gpa, token);

	if (tracing() && id >= 0)
		trace_add(q, id, now, q->layout == LG_RING_PACKED ? pos : (uint32_t)id, sg, out, in,
			  true);
	return id;
}

void vq_unadd(struct vq *q, int id)
{
	if (q->layout == LG_RING_DRAFT3)
		d3_drv_unadd(&q->d3, id);
}

unsigned int vq_unpublished(const struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.num_added;
	case LG_RING_SPLIT:
		return q->split.num_added;
	default:
		return q->packed.num_added;
	}
}

/* The index the device now sees: avail->idx, or packed's next slot. */
static uint32_t published_pos(const struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.avail->idx;
	case LG_RING_SPLIT:
		return q->split.avail_idx;
	default:
		return q->packed.next_avail | (uint32_t)q->packed.avail_wrap << 15;
	}
}

static bool publish(struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return d3_drv_publish(&q->d3);
	case LG_RING_SPLIT:
		return split_drv_publish(&q->split);
	default:
		return packed_drv_publish(&q->packed);
	}
}

bool vq_publish(struct vq *q)
{
	unsigned int count = tracing() ? vq_unpublished(q) : 0;
	uint64_t now = count ? rdtsc() : 0; /* before the device can see it */
	bool notify = publish(q);

	if (count)
		trace_record(now, LG_TR_PUBLISH, q->dev, q->index, 0, 0, published_pos(q), count,
			     0);
	return notify;
}

bool vq_has_used(const struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return d3_drv_has_used(&q->d3);
	case LG_RING_SPLIT:
		return split_drv_has_used(&q->split);
	default:
		return packed_drv_has_used(&q->packed);
	}
}

/*
 * Reap, and say which buffer id came back (for the trace): the used entry
 * just consumed still holds it, since the device cannot reuse that entry
 * before we make more buffers available.
 */
static void *get_used(struct vq *q, uint32_t *len, uint32_t *id)
{
	uint16_t slot;
	void *token;

	switch (q->layout) {
	case LG_RING_DRAFT3:
		token = d3_drv_get_used(&q->d3, len);
		if (token)
			*id = q->d3.used->ring[(q->d3.last_used - 1) % D3_NUM_DESCS].id;
		return token;
	case LG_RING_SPLIT:
		token = split_drv_get_used(&q->split, len);
		if (token)
			*id = q->split.used
				      ->ring[(uint16_t)(q->split.last_used - 1) &
					     (q->split.size - 1)]
				      .id;
		return token;
	default:
		slot = q->packed.last_used;
		token = packed_drv_get_used(&q->packed, len);
		if (token)
			*id = q->packed.ring[slot].id;
		return token;
	}
}

/* Where the next used entry will be read: the reaped position. */
static uint32_t used_pos(const struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.last_used;
	case LG_RING_SPLIT:
		return q->split.last_used;
	default:
		return q->packed.last_used | (uint32_t)q->packed.used_wrap << 15;
	}
}

void *vq_get_used(struct vq *q, uint32_t *len)
{
	uint32_t id = 0, n = 0;
	void *token = get_used(q, len ? len : &n, &id);

	if (tracing() && token) {
		uint64_t now = rdtsc(), since = 0;

		if (q->add_tsc && id < q->ntsc)
			since = now - q->add_tsc[id];
		trace_record(now, LG_TR_REAP, q->dev, q->index, 0, id, used_pos(q), len ? *len : n,
			     since);
	}
	return token;
}

void vq_disable_cb(struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		d3_drv_set_no_signal(&q->d3, true);
		break;
	case LG_RING_SPLIT:
		split_drv_disable_cb(&q->split);
		break;
	default:
		packed_drv_disable_cb(&q->packed);
	}
}

bool vq_enable_cb(struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		d3_drv_set_no_signal(&q->d3, false);
		return !d3_drv_has_used(&q->d3);
	case LG_RING_SPLIT:
		return split_drv_enable_cb(&q->split);
	default:
		return packed_drv_enable_cb(&q->packed);
	}
}

bool vq_broken(const struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.broken;
	case LG_RING_SPLIT:
		return q->split.broken;
	default:
		return q->packed.broken;
	}
}

const char *vq_error(const struct vq *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.error;
	case LG_RING_SPLIT:
		return q->split.error;
	default:
		return q->packed.error;
	}
}
