// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c: collecting events from both sides (see trace.h, lg_trace.h).
 *
 * Device-side events go into the store (trace_store.c).  Guest events are
 * copied from the guest's trace ring by a drain thread every millisecond
 * (and once more at the end), like any other guest memory we read: the
 * indices are checked before use, and a guest that scribbles on them only
 * loses its own trace.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "log.h"
#include "sandbox/seccomp.h"
#include "trace.h"

static struct trace_opts opts;
static FILE *json; /* --trace-file, opened at setup: a --chroot may follow */
static struct trace_store *const store = &trace_events;

static struct lg_trace_ring *guest_ring;
static uint32_t guest_size;
static pthread_t drain_thread;
static const struct timebase *guest_tsc;
static bool draining;

uint64_t trace_setup(const struct trace_opts *o, const struct guest_mem *mem)
{
	uint32_t entries = o->guest_entries ? o->guest_entries : TRACE_GUEST_ENTRIES;
	uint64_t bytes = LG_TRACE_RING_OFFSET + (uint64_t)entries * sizeof(struct lg_trace_event);
	uint64_t gpa;

	if (!o->text && !o->file)
		return 0;
	opts = *o;
	if (o->file && !(json = fopen(o->file, "w")))
		die_errno("--trace-file=%s", o->file);
	trace_store_open(mem);
	gpa = devices_take_pages("trace ring", (bytes + LG_PAGE_SIZE - 1) / LG_PAGE_SIZE);
	guest_ring = guest_ptr(mem, gpa, bytes);
	if (!guest_ring)
		die("trace ring: outside guest RAM");
	guest_size = entries;
	guest_ring->size = guest_size;
	verbose("trace ring for the guest: %u events at %#lx", guest_size, (unsigned long)gpa);
	return gpa;
}

/* Copy what the guest wrote since last time.  Guest values: checked once. */
void trace_drain_ring(struct lg_trace_ring *ring, uint32_t size, const struct timebase *tb)
{
	struct lg_trace_event *ev =
		(struct lg_trace_event *)((uint8_t *)ring + LG_TRACE_RING_OFFSET);
	uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	uint64_t tail = ring->tail;

	if (store->guest_ring_broken)
		return;
	if (head - tail > size) {
		warnx_lg("trace ring: the guest's head (%lu) ran more than %u ahead of %lu; "
			 "guest tracing stopped",
			 (unsigned long)head, size, (unsigned long)tail);
		store->guest_ring_broken = true;
		return;
	}
	pthread_mutex_lock(&trace_lock);
	for (; tail != head; tail++) {
		struct lg_trace_event e;

		memcpy(&e, &ev[tail % size], sizeof(e));
		/* Onto the host's timeline (timebase.h), durations too. */
		e.tsc = timebase_to_host(tb, e.tsc);
		if (e.type == LG_TR_REAP || e.type == LG_TR_WAKE)
			e.addr = timebase_span_to_host(tb, e.addr);
		trace_append(&e);
	}
	pthread_mutex_unlock(&trace_lock);
	/* Release: the slots are free again only after we copied them. */
	__atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
}

static void drain_guest(void)
{
	trace_drain_ring(guest_ring, guest_size, guest_tsc);
}

static void *drain_main(void *arg)
{
	struct timespec period = { 0, 1000000 };

	(void)arg;
	sandbox_enter(SANDBOX_TRACE, "trace");
	while (__atomic_load_n(&draining, __ATOMIC_ACQUIRE)) {
		drain_guest();
		nanosleep(&period, NULL);
	}
	return NULL;
}

void trace_start(const struct timebase *tb)
{
	int err;

	if (!trace_on)
		return;
	guest_tsc = tb;
	draining = true;
	err = pthread_create(&drain_thread, NULL, drain_main, NULL);
	if (err)
		die("trace: cannot start the drain thread: %s", strerror(err));
}

struct sort_key {
	uint64_t tsc, pos;
};

static int by_time(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Merge the two sides by timestamp.  Stable: a POP and its POP_DESCs (an
 * ADD and its ADD_DESCs) share a timestamp and must stay in order.
 */
static void sort_events(void)
{
	struct sort_key *key = malloc(store->n * sizeof(*key) + 1);
	struct lg_trace_event *sorted = malloc(store->n * sizeof(*sorted) + 1);

	if (!key || !sorted)
		die("trace: out of memory sorting %lu events", (unsigned long)store->n);
	for (uint64_t i = 0; i < store->n; i++)
		key[i] = (struct sort_key){ store->ev[i].tsc, i };
	qsort(key, store->n, sizeof(*key), by_time);
	for (uint64_t i = 0; i < store->n; i++)
		sorted[i] = store->ev[key[i].pos];
	free(store->ev);
	free(key);
	store->ev = sorted;
}

void trace_finish(void)
{
	if (!trace_on)
		return;
	__atomic_store_n(&draining, false, __ATOMIC_RELEASE);
	pthread_join(drain_thread, NULL);
	drain_guest();
	store->guest_dropped = guest_ring->dropped;
	store->guest_tsc = *guest_tsc;
	trace_on = false;
	if (guest_tsc->moved)
		warnx_lg(
			"trace: the guest's TSC offset moved by %lld ticks (%.1f us) while it ran "
			"(the host's TSC is unstable): the two sides' order may be off by that much",
			(long long)guest_tsc->moved,
			(double)llabs(guest_tsc->moved) * 1000.0 / (double)guest_tsc->guest_khz);

	sort_events();
	if (opts.text)
		trace_write_text(store, opts.filter);
	if (json && !trace_write_json(store, opts.filter, json))
		warnx_lg("trace: cannot write %s: %s", opts.file, strerror(errno));
	if (store->guest_dropped || store->launcher_dropped)
		warnx_lg("trace: %lu guest and %lu launcher events dropped (buffers full)",
			 (unsigned long)store->guest_dropped,
			 (unsigned long)store->launcher_dropped);
}
