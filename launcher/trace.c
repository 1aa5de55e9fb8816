// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c: collecting events from both sides (see trace.h, lg_trace.h).
 *
 * Device-side events come from several threads (device threads, the vCPU
 * loop), so they go into one array under a mutex: tracing is for watching,
 * not for benchmarks, and a mutex is simple and fair.  Guest events are
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
#include "trace.h"

bool trace_on;

static struct trace_opts opts;
static FILE *json; /* --trace-file, opened at setup: a --chroot may follow */
static struct trace_store store;
static uint64_t cap;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct lg_trace_ring *guest_ring;
static struct lg_trace_event *guest_ev;
static uint32_t guest_size;
static pthread_t drain_thread;
static const struct timebase *guest_tsc;
static bool draining;

uint64_t trace_setup(const struct trace_opts *o, const struct guest_mem *mem)
{
	uint32_t entries = o->guest_entries ? o->guest_entries : TRACE_GUEST_ENTRIES;
	uint64_t bytes = LG_TRACE_RING_OFFSET + (uint64_t)entries * sizeof(*guest_ev);
	uint64_t gpa;

	if (!o->text && !o->file)
		return 0;
	opts = *o;
	if (o->file && !(json = fopen(o->file, "w")))
		die_errno("--trace-file=%s", o->file);
	trace_on = true;
	gpa = devices_take_pages("trace ring", (bytes + LG_PAGE_SIZE - 1) / LG_PAGE_SIZE);
	guest_ring = guest_ptr(mem, gpa, bytes);
	if (!guest_ring)
		die("trace ring: outside guest RAM");
	guest_ev = (struct lg_trace_event *)((uint8_t *)guest_ring + LG_TRACE_RING_OFFSET);
	guest_size = entries;
	guest_ring->size = guest_size;
	verbose("trace ring for the guest: %u events at %#lx", guest_size, (unsigned long)gpa);
	return gpa;
}

/* Append under the lock; the caller holds it. */
static void append(const struct lg_trace_event *e)
{
	if (store.n == cap) {
		uint64_t ncap = cap ? cap * 2 : 4096;
		struct lg_trace_event *ev;

		if (ncap > TRACE_MAX_EVENTS || !(ev = realloc(store.ev, ncap * sizeof(*ev)))) {
			store.launcher_dropped++;
			return;
		}
		store.ev = ev;
		cap = ncap;
	}
	store.ev[store.n++] = *e;
}

void trace_record_at(uint64_t tsc, uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags,
		     uint32_t id, uint32_t idx, uint32_t len, uint64_t addr)
{
	struct lg_trace_event e = { tsc, type, dev, queue, flags, id, idx, len, addr };

	pthread_mutex_lock(&lock);
	append(&e);
	pthread_mutex_unlock(&lock);
}

void trace_record(uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags, uint32_t id,
		  uint32_t idx, uint32_t len, uint64_t addr)
{
	trace_record_at(trace_rdtsc(), type, dev, queue, flags, id, idx, len, addr);
}

void trace_record_pop(uint8_t dev, uint8_t queue, uint32_t id, uint32_t idx,
		      const struct iovec *seg, unsigned int nseg, unsigned int nread,
		      unsigned int ndesc, unsigned int indirect_from)
{
	const struct guest_mem *mem = device_by_index(dev)->mem;
	struct lg_trace_event e = { trace_rdtsc(), LG_TR_POP, dev, queue, 0, id, idx, 0, ndesc };

	for (unsigned int i = 0; i < nseg; i++)
		e.len += seg[i].iov_len;
	pthread_mutex_lock(&lock);
	append(&e);
	for (unsigned int i = 0; i < nseg; i++) {
		/* The segments point into guest RAM: their offset is the address. */
		e.type = LG_TR_POP_DESC;
		e.flags = (i >= nread ? LG_TR_F_WRITE : 0) |
			  (i >= indirect_from ? LG_TR_F_INDIRECT : 0);
		e.addr = (uint64_t)((uint8_t *)seg[i].iov_base - mem->base);
		e.len = (uint32_t)seg[i].iov_len;
		append(&e);
	}
	pthread_mutex_unlock(&lock);
}

void trace_record_error(uint8_t dev, const char *msg)
{
	char *copy = strdup(msg);
	char **errors;

	pthread_mutex_lock(&lock);
	errors = realloc(store.errors, (store.nerrors + 1) * sizeof(*errors));
	if (copy && errors) {
		store.errors = errors;
		store.errors[store.nerrors] = copy;
		struct lg_trace_event e = { trace_rdtsc(),   LG_TR_ERROR, dev, 0, 0,
					    store.nerrors++, 0,		  0,   0 };
		append(&e);
	} else {
		free(copy);
		if (errors)
			store.errors = errors;
		store.launcher_dropped++;
	}
	pthread_mutex_unlock(&lock);
}

/* Copy what the guest wrote since last time.  Guest values: checked once. */
static void drain_guest(void)
{
	uint64_t head = __atomic_load_n(&guest_ring->head, __ATOMIC_ACQUIRE);
	uint64_t tail = guest_ring->tail;

	if (store.guest_ring_broken)
		return;
	if (head - tail > guest_size) {
		warnx_lg("trace ring: the guest's head (%lu) ran more than %u ahead of %lu; "
			 "guest tracing stopped",
			 (unsigned long)head, guest_size, (unsigned long)tail);
		store.guest_ring_broken = true;
		return;
	}
	pthread_mutex_lock(&lock);
	for (; tail != head; tail++) {
		struct lg_trace_event e;

		memcpy(&e, &guest_ev[tail % guest_size], sizeof(e));
		/* Onto the host's timeline (timebase.h), durations too. */
		e.tsc = timebase_to_host(guest_tsc, e.tsc);
		if (e.type == LG_TR_REAP || e.type == LG_TR_WAKE)
			e.addr = timebase_span_to_host(guest_tsc, e.addr);
		append(&e);
	}
	pthread_mutex_unlock(&lock);
	/* Release: the slots are free again only after we copied them. */
	__atomic_store_n(&guest_ring->tail, tail, __ATOMIC_RELEASE);
}

static void *drain_main(void *arg)
{
	struct timespec period = { 0, 1000000 };

	(void)arg;
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
	struct sort_key *key = malloc(store.n * sizeof(*key) + 1);
	struct lg_trace_event *sorted = malloc(store.n * sizeof(*sorted) + 1);

	if (!key || !sorted)
		die("trace: out of memory sorting %lu events", (unsigned long)store.n);
	for (uint64_t i = 0; i < store.n; i++)
		key[i] = (struct sort_key){ store.ev[i].tsc, i };
	qsort(key, store.n, sizeof(*key), by_time);
	for (uint64_t i = 0; i < store.n; i++)
		sorted[i] = store.ev[key[i].pos];
	free(store.ev);
	free(key);
	store.ev = sorted;
}

void trace_finish(void)
{
	if (!trace_on)
		return;
	__atomic_store_n(&draining, false, __ATOMIC_RELEASE);
	pthread_join(drain_thread, NULL);
	drain_guest();
	store.guest_dropped = guest_ring->dropped;
	store.guest_tsc = *guest_tsc;
	trace_on = false;
	if (guest_tsc->moved)
		warnx_lg(
			"trace: the guest's TSC offset moved by %lld ticks (%.1f us) while it ran "
			"(the host's TSC is unstable): the two sides' order may be off by that much",
			(long long)guest_tsc->moved,
			(double)llabs(guest_tsc->moved) * 1000.0 / (double)guest_tsc->guest_khz);

	sort_events();
	if (opts.text)
		trace_write_text(&store, opts.filter);
	if (json && !trace_write_json(&store, opts.filter, json))
		warnx_lg("trace: cannot write %s: %s", opts.file, strerror(errno));
	if (store.guest_dropped || store.launcher_dropped)
		warnx_lg("trace: %lu guest and %lu launcher events dropped (buffers full)",
			 (unsigned long)store.guest_dropped, (unsigned long)store.launcher_dropped);
}
