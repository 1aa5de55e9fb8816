// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c: appending to the trace ring the launcher drains.
 *
 * We are the only writer of `head` and the launcher the only writer of
 * `tail`.  An entry is written first and published by the release store of
 * head; the launcher frees slots by a release store of tail after copying
 * them.  Full ring: count the event as dropped and go on; a trace must
 * never slow the guest down waiting for the launcher.
 */
#include "kernel.h"
#include "trace.h"

struct lg_trace_ring *trace_ring;
static struct lg_trace_event *ring_ev;
static uint32_t ring_size;

void trace_init(void)
{
	struct lg_trace_ring *r = (struct lg_trace_ring *)(uintptr_t)boot->trace_gpa;

	/* Only a ring in the launcher's part of RAM, with a sane size. */
	if (!boot->trace_gpa || boot->trace_gpa < boot->ram_top ||
	    boot->trace_gpa >= boot->mem_size)
		return;
	if (!r->size || (r->size & (r->size - 1)) ||
	    boot->trace_gpa + LG_TRACE_RING_OFFSET + (uint64_t)r->size * sizeof(*ring_ev) >
		    boot->mem_size)
		return;
	ring_size = r->size;
	ring_ev = (struct lg_trace_event *)((uint8_t *)r + LG_TRACE_RING_OFFSET);
	trace_ring = r;
}

void trace_record(uint64_t tsc, uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags,
		  uint32_t id, uint32_t idx, uint32_t len, uint64_t addr)
{
	uint64_t head = trace_ring->head;

	/* Acquire: the launcher copied the slot before it moved tail past it. */
	if (head - __atomic_load_n(&trace_ring->tail, __ATOMIC_ACQUIRE) >= ring_size) {
		trace_ring->dropped++;
		return;
	}
	ring_ev[head % ring_size] =
		(struct lg_trace_event){ tsc, type, dev, queue, flags, id, idx, len, addr };
	/* Release: pairs with the launcher's acquire load of head in drain_guest(). */
	__atomic_store_n(&trace_ring->head, head + 1, __ATOMIC_RELEASE);
}
