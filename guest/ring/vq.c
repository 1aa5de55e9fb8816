// SPDX-License-Identifier: GPL-2.0
/* vq.c: dispatch from the layout-neutral queue calls to each layout's code. */
#include "vq.h"

int vq_add(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in, void *token)
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

int vq_add_indirect(struct vq *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
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

void vq_unadd(struct vq *q, int id)
{
	if (q->layout == LG_RING_DRAFT3)
		d3_drv_unadd(&q->d3, id);
}

bool vq_publish(struct vq *q)
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

void *vq_get_used(struct vq *q, uint32_t *len)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return d3_drv_get_used(&q->d3, len);
	case LG_RING_SPLIT:
		return split_drv_get_used(&q->split, len);
	default:
		return packed_drv_get_used(&q->packed, len);
	}
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
