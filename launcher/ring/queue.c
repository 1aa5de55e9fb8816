// SPDX-License-Identifier: GPL-2.0
/*
 * queue.c: dispatch from the layout-neutral queue calls to the layout's
 * own code (draft3_dev.c, split_dev.c, packed_dev.c).  Nothing here reads
 * guest memory itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ring/guest_access.h"
#include "ring/queue.h"
#include "trace.h"

/* Packed positions carry the wrap counter in bit 15, as off_wrap does. */
uint32_t queue_avail_pos(const struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.in ? q->d3.dev->in.last_avail : q->d3.dev->out.last_avail;
	case LG_RING_SPLIT:
		return q->split.last_avail;
	default:
		return q->packed.next_avail | (uint32_t)q->packed.avail_wrap << 15;
	}
}

uint32_t queue_used_pos(const struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.in ? q->d3.dev->in.used_idx : q->d3.dev->out.used_idx;
	case LG_RING_SPLIT:
		return q->split.used_idx;
	default:
		return q->packed.next_used | (uint32_t)q->packed.used_wrap << 15;
	}
}

void queue_init_draft3(struct queue *q, struct d3_dev *d, bool in)
{
	memset(q, 0, sizeof(*q));
	q->layout = LG_RING_DRAFT3;
	q->d3.dev = d;
	q->d3.in = in;
	q->ready = true;
}

bool queue_init_modern(struct queue *q, uint8_t layout, const struct guest_mem *mem,
		       const char *name, uint16_t size, uint64_t desc, uint64_t driver,
		       uint64_t device, bool event_idx, bool indirect)
{
	struct queue keep = *q;

	memset(q, 0, sizeof(*q));
	/* Who we are and what we counted survive a reset. */
	q->dev = keep.dev;
	q->index = keep.index;
	q->popped = keep.popped;
	q->descs = keep.descs;
	q->used = keep.used;
	q->layout = layout;
	if (layout == LG_RING_SPLIT)
		q->ready = split_dev_init(&q->split, mem, name, size, desc, driver, device,
					  event_idx, indirect);
	else
		q->ready = packed_dev_init(&q->packed, mem, name, size, desc, driver, device,
					   event_idx, indirect);
	return q->ready;
}

/* A modern queue broke a rule found here rather than in its layout's code. */
__attribute__((format(printf, 2, 3))) static bool queue_fail(struct queue *q, const char *fmt, ...)
{
	bool split = q->layout == LG_RING_SPLIT;
	char *error = split ? q->split.error : q->packed.error;
	size_t size = split ? sizeof(q->split.error) : sizeof(q->packed.error);
	int n = snprintf(error, size, "%s: ", split ? q->split.name : q->packed.name);
	va_list ap;

	*(split ? &q->split.broken : &q->packed.broken) = true;
	q->ready = false;
	if (n < 0 || (size_t)n >= size)
		return false;
	va_start(ap, fmt);
	vsnprintf(error + n, size - n, fmt, ap);
	va_end(ap);
	return false;
}

bool queue_resume(struct queue *q, uint32_t pos)
{
	/* Broken (at init, say): stay so, and keep the first rule's message. */
	if (queue_broken(q))
		return false;
	if (q->layout == LG_RING_SPLIT) {
		if (pos > UINT16_MAX)
			return queue_fail(q, "resumes at %u, which is no 16-bit index", pos);
		q->split.last_avail = q->split.used_idx = (uint16_t)pos;
		return true;
	}
	/* Packed: slot in bits 0-14, the wrap counter in bit 15, for both sides. */
	if ((pos & 0x7fff) >= q->packed.size || pos >> 16)
		return queue_fail(q, "resumes at 0x%x, past its %u slots", pos, q->packed.size);
	packed_dev_set_position(&q->packed, pos & 0x7fff, pos >> 15);
	return true;
}

void queue_destroy(struct queue *q)
{
	if (q->layout == LG_RING_SPLIT)
		split_dev_destroy(&q->split);
	else if (q->layout == LG_RING_PACKED)
		packed_dev_destroy(&q->packed);
	q->ready = false;
}

static int pop(struct queue *q, struct chain *c)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.in ? d3_dev_pop_in(q->d3.dev, c) : d3_dev_pop_out(q->d3.dev, c);
	case LG_RING_SPLIT:
		return split_dev_pop(&q->split, c);
	default:
		return packed_dev_pop(&q->packed, c);
	}
}

int queue_pop(struct queue *q, struct chain *c)
{
	int r = pop(q, c);

	if (r > 0) {
		q->popped++;
		q->descs += c->ndesc;
		trace_chain(q->dev, q->index, c, queue_avail_pos(q));
	}
	return r;
}

static bool push(struct queue *q, struct chain *c, uint32_t written)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		/* Gives back both halves a block request joined, or the one it has. */
		return d3_dev_push(q->d3.dev, c, written);
	case LG_RING_SPLIT:
		return split_dev_push(&q->split, c, written);
	default:
		return packed_dev_push(&q->packed, c, written);
	}
}

/*
 * The trace shows each buffer given back: draft3 may give back two.  @now
 * was read before the push: once a buffer is used the guest may reap it
 * (and add it again) before this thread records anything, and the trace
 * must not show the reap first.
 */
static void trace_push(struct queue *q, struct chain *c, uint32_t written, uint64_t now)
{
	uint32_t len = written < c->write_len ? written : (uint32_t)c->write_len;

	if (q->layout != LG_RING_DRAFT3) {
		trace_record_at(now, LG_TR_USED, q->dev, q->index, 0, c->id, queue_used_pos(q), len,
				0);
		return;
	}
	if (c->id != CHAIN_NO_ID)
		trace_record_at(now, LG_TR_USED, q->dev, QUEUE_D3_OUT, 0, c->id,
				q->d3.dev->out.used_idx, 0, 0);
	if (c->in_id != CHAIN_NO_ID)
		trace_record_at(now, LG_TR_USED, q->dev, QUEUE_D3_IN, 0, c->in_id,
				q->d3.dev->in.used_idx, len, 0);
}

bool queue_push(struct queue *q, struct chain *c, uint32_t written)
{
	uint64_t now = __builtin_expect(trace_on, 0) ? trace_rdtsc() : 0;

	if (!push(q, c, written))
		return false;
	q->used++;
	if (__builtin_expect(trace_on, 0))
		trace_push(q, c, written, now);
	return true;
}

/* Draft III has one "running" flag for the device, covering both queues. */
void queue_disable_notify(struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		d3_dev_start_running(q->d3.dev);
		break;
	case LG_RING_SPLIT:
		split_dev_disable_notify(&q->split);
		break;
	default:
		packed_dev_disable_notify(&q->packed);
	}
}

bool queue_enable_notify(struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		/*
		 * The running flag covers both queues, but the caller asks
		 * about its own: in buffers waiting for console input are no
		 * reason to go round a transmit loop again.
		 */
		return d3_dev_stop_running(q->d3.dev) &&
		       d3_dev_queue_has_avail(q->d3.dev, q->d3.in);
	case LG_RING_SPLIT:
		return split_dev_enable_notify(&q->split);
	default:
		return packed_dev_enable_notify(&q->packed);
	}
}

bool queue_should_signal(struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return !q->d3.dev->broken && !d3_dev_signal_suppressed(q->d3.dev);
	case LG_RING_SPLIT:
		return split_dev_should_signal(&q->split);
	default:
		return packed_dev_should_signal(&q->packed);
	}
}

bool queue_has_buffers(const struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.in ? d3_dev_in_available(q->d3.dev) : d3_dev_has_avail(q->d3.dev);
	case LG_RING_SPLIT:
		return split_dev_has_avail(&q->split);
	default:
		return packed_dev_has_avail(&q->packed);
	}
}

int queue_depth(const struct queue *q)
{
	uint32_t depth, max;

	/* A broken queue reads no guest memory (nor, failed at init, has any to read). */
	if (queue_broken(q))
		return 0;
	switch (q->layout) {
	case LG_RING_DRAFT3: {
		const struct d3_dev_queue *d = q->d3.in ? &q->d3.dev->in : &q->d3.dev->out;

		depth = GUEST_READ(q->d3.dev->mem, d->avail->idx) - d->used_idx;
		max = D3_NUM_DESCS;
		break;
	}
	case LG_RING_SPLIT:
		depth = (uint16_t)(GUEST_READ(q->split.mem, q->split.avail->idx) -
				   q->split.used_idx);
		max = q->split.size;
		break;
	default:
		return -1; /* a packed ring has no index to read it from */
	}
	/* A guest that scribbles on its index gets no statistic, not a wild one. */
	return depth <= max ? (int)depth : 0;
}

bool queue_broken(const struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.dev->broken;
	case LG_RING_SPLIT:
		return q->split.broken;
	default:
		return q->packed.broken;
	}
}

const char *queue_error(const struct queue *q)
{
	switch (q->layout) {
	case LG_RING_DRAFT3:
		return q->d3.dev->error;
	case LG_RING_SPLIT:
		return q->split.error;
	default:
		return q->packed.error;
	}
}
