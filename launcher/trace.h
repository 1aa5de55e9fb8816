/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h: recording ring events (include/lg_trace.h) on the device side,
 * draining the guest's, and writing both out at exit.
 *
 * Off by default; then every hook below costs one predictable branch on a
 * flag that never changes after setup.  With --trace or --trace-file every
 * event is kept in memory (up to TRACE_MAX_EVENTS; more are counted as
 * dropped), and at exit the two sides are merged by timestamp and written
 * as text (stderr) and/or Chrome trace JSON (docs/trace-format.md).
 */
#ifndef LAUNCHER_TRACE_H
#define LAUNCHER_TRACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "chain.h"
#include "guest_mem.h"
#include "lg_trace.h"
#include "timebase.h"

#define TRACE_MAX_EVENTS    (4u << 20)
#define TRACE_GUEST_ENTRIES 65536 /* the guest's ring: 2 MiB */

extern bool trace_on;

struct trace_opts {
	const char *filter;	/* --trace=FILTER: "blk0,console/transmitq", NULL = all */
	bool text;		/* --trace: lines on stderr */
	const char *file;	/* --trace-file: Chrome JSON */
	uint32_t guest_entries; /* the guest's ring; 0: TRACE_GUEST_ENTRIES */
};

/*
 * Before the kernel is loaded: set aside the guest's trace ring at the top
 * of RAM (devices_take_pages()) if tracing.  Returns its guest-physical
 * address for the boot parameters, or 0.
 */
uint64_t trace_setup(const struct trace_opts *o, const struct guest_mem *mem);
/*
 * Start draining the guest's ring (after the VM exists).  @guest_tsc says
 * how the guest's timestamps map onto ours (timebase.h): each guest event
 * is put on the host's timeline as it is drained.  It must live until
 * trace_finish(), which reads it again (the backend may have found that
 * the offset moved).
 */
void trace_start(const struct timebase *guest_tsc);
/* Stop, drain what is left, merge, and write the outputs. */
void trace_finish(void);
/*
 * One drain of the guest's ring: copy the events added to @ring (@size
 * entries: ours, never the guest's copy of it) since the last drain into
 * the store, stamps mapped through @tb, and move its tail on.  A head
 * more than @size ahead of the tail stops guest tracing
 * (trace_events.guest_ring_broken).  The drain thread calls it every
 * millisecond; tests/fuzz/fuzz_trace_drain.c calls it directly.
 */
void trace_drain_ring(struct lg_trace_ring *ring, uint32_t size, const struct timebase *tb);

void trace_record(uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags, uint32_t id,
		  uint32_t idx, uint32_t len, uint64_t addr);
/* The same, stamped @tsc: read before a step the other side can see. */
void trace_record_at(uint64_t tsc, uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags,
		     uint32_t id, uint32_t idx, uint32_t len, uint64_t addr);
/*
 * A popped buffer: one POP event, then one POP_DESC per segment of
 * seg[0, nseg), the first @nread of them readable.
 */
void trace_record_pop(uint8_t dev, uint8_t queue, uint32_t id, uint32_t idx,
		      const struct iovec *seg, unsigned int nseg, unsigned int nread,
		      unsigned int ndesc, unsigned int indirect_from);
/* A device stopped with @msg. */
void trace_record_error(uint8_t dev, const char *msg);

static inline void trace_event(uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags, uint32_t id,
			       uint32_t idx, uint32_t len, uint64_t addr)
{
	if (__builtin_expect(trace_on, 0))
		trace_record(type, dev, queue, flags, id, idx, len, addr);
}

static inline void trace_chain(uint8_t dev, uint8_t queue, const struct chain *c, uint32_t idx)
{
	if (__builtin_expect(trace_on, 0))
		trace_record_pop(dev, queue, c->id, idx, c->seg, c->nread + c->nwrite, c->nread,
				 c->ndesc, c->indirect_from);
}

static inline uint64_t trace_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* What the output needs to know about the devices (trace_output.c). */
struct trace_store {
	struct lg_trace_event *ev;
	uint64_t n;
	uint64_t launcher_dropped, guest_dropped;
	char **errors; /* LG_TR_ERROR's id indexes this */
	unsigned int nerrors;
	bool guest_ring_broken;
	struct timebase guest_tsc; /* every tsc above is the host's; this says how */
};

/*
 * trace_store.c: the events so far.  trace_store_open() turns tracing on;
 * POP_DESC events then carry guest-physical addresses in @mem.  Whoever
 * appends holds trace_lock.
 */
extern struct trace_store trace_events;
extern pthread_mutex_t trace_lock;
void trace_store_open(const struct guest_mem *mem);
/* Forget every event so far (lguest-vhost-blk: a new session). */
void trace_store_clear(void);
void trace_append(const struct lg_trace_event *e);

void trace_write_text(const struct trace_store *s, const char *filter);
/* Writes and closes @f (opened at setup, before any --chroot). */
bool trace_write_json(const struct trace_store *s, const char *filter, FILE *f);

#endif /* LAUNCHER_TRACE_H */
