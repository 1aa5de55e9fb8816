// SPDX-License-Identifier: GPL-2.0
/*
 * ringbench.c: the three ring layouts alone, without a VM.
 *
 *   ringbench [--ring=draft3|split|packed|all] [--batch=N] [--qsize=N]
 *             [--notify=poll|eventfd] [--secs=N] [--ops=N] [--lines=on|off]
 *             [--workload=ringbench|ringtest] [--lockstep] [--insns]
 *   ringbench-lines [the same options] [--lines-only]
 *
 * A driver thread and a device thread exchange buffers through each
 * layout's real code: guest/ring/{draft3,split,packed}_drv.c on one side,
 * launcher/ring/{draft3,split,packed}_dev.c on the other, over a fake
 * guest RAM (a malloc'd block; a guest-physical address is an offset in
 * it), as tests/unit/test_split.c wires them:
 *
 *   0x000000  (unused)
 *   0x010000  the ring: draft3's six pages, or the split/packed ring
 *   0x200000  data: one 64-byte slot per buffer in flight
 *
 * Each buffer is one readable 64-byte segment carrying a 64-bit sequence
 * number.  The driver adds buffers, publishing every --batch adds, and
 * keeps as many in flight as the ring holds; the device pops each, checks
 * its sequence number is exactly the next one, and pushes it back with 0
 * bytes written; the driver reaps it and checks it comes back exactly
 * once.  Draft III queues are per direction: only the out queue carries
 * buffers.  Split and packed run with EVENT_IDX, no indirect descriptors.
 *
 * Notifications, --notify=eventfd (the default): the driver writes the
 * kick eventfd only when publishing says the device wants a NOTIFY, and
 * the device writes the call eventfd only when should_signal says the
 * driver wants one.  Each side sleeps only after re-enabling its
 * notifications and seeing nothing arrived meanwhile (enable_notify /
 * enable_cb), exactly the protocol the launcher and the guest follow: a
 * mistake there shows up as a stall, which we detect and report.
 * --notify=poll: no eventfds; both sides spin with notifications
 * disabled, and count the NOTIFYs and signals they would have sent.
 *
 * Cache lines: for each side, how many distinct 64-byte lines of ring
 * memory it touches per op (drv-lines/op, dev-lines/op; exactly what that
 * means is in ringbench_lines.c).  Counting them needs every load and
 * store the ring code makes, which would slow down the run we time, so a
 * second binary does it: build/ringbench-lines is this file compiled with
 * RINGBENCH_LINES, linked with the ring code compiled with
 * -fsanitize=thread and ringbench_lines.c as its runtime.  For each layout,
 * after the timed run, ringbench runs the ringbench-lines next to it with
 * the same options, at most LINES_OPS ops and --lines-only (one line of
 * key=value), and puts its two figures in the row (or `-`, with a warning,
 * if it is missing or fails; --lines=off skips it).  With --lines-only it
 * runs the lock-step schedule (lockstep_run()): one thread, the two sides
 * taking turns a batch at a time, so that the figures are exact and the
 * same on every run.  The ops/s and the other columns come from the timed
 * two-thread run.  Run by hand without --lines-only, ringbench-lines
 * prints the usual table with its own, instrumented, ops/s.
 *
 * Instructions: --insns counts, for each layout, the instructions per
 * buffer of the ring code (each side's) and of this harness, with
 * callgrind on a --lockstep run (ringbench_insns.c), and after the table
 * the same ring instructions by operation of the ring API (add, publish,
 * pop, push, signal, reap, notify), a row per layout.  Counts are exact
 * and the same on every run of the same build, so a test can pin them.
 * --workload=ringtest strips the harness to what Linux's ringtest does:
 * one buffer, nothing written into it, nothing checked but the token.
 *
 * Not linked: launcher/ring/queue.c and guest/ring/vq.c (they pull in
 * tracing); the small dispatch below plays their part.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "draft3_drv.h"
#include "guest_mem.h"
#include "ringbench_insns.h"
#include "packed_drv.h"
#include "ring/draft3_dev.h"
#include "ring/packed_dev.h"
#include "ring/split_dev.h"
#include "split_drv.h"

#define RAM_SIZE  (4u << 20)
#define RING_GPA  0x10000u
#define DATA_GPA  0x200000u
#define SLOT_SIZE 64u
#define MAX_QSIZE 32768u
#define D3_KEY	  (RING_GPA / D3_PAGE_SIZE)
#define CACHE_LINE 64u /* x86-64 */

#define STALL_NS     (5ull * 1000000000ull) /* no progress this long: a lost wakeup */
#define WAIT_TICK_MS 100		    /* how often a sleeper looks at the stop flag */
#define LINES_OPS    20000u		    /* ops ringbench-lines runs per layout, at most */

#ifdef RINGBENCH_LINES
#define PROG "ringbench-lines"
#else
#define PROG "ringbench"
#endif

enum layout { DRAFT3, SPLIT, PACKED, NLAYOUTS };
static const char *const layout_name[NLAYOUTS] = { "draft3", "split", "packed" };

struct options {
	bool run[NLAYOUTS];
	unsigned int batch;
	unsigned int qsize;
	bool eventfd;
	unsigned int secs;
	uint64_t ops;	 /* 0: run for secs */
	bool lines;	 /* fill the lines/op columns */
	bool lines_only; /* ringbench-lines: one key=value line per layout, no table */
	bool ringtest;	 /* --workload=ringtest: no payload, no sequence check */
	bool lockstep;	 /* one thread, the sides taking turns (what --insns counts) */
	bool insns;	 /* fill the insns/buf columns (callgrind on a lock-step run) */
};

/*
 * Lines of ring memory touched per op, side by side.  ringbench-lines
 * counts them in-process (ringbench_lines.c); ringbench asks it.
 */
enum lines_side { LINES_DRV, LINES_DEV, LINES_NSIDES };

struct lines_figures {
	bool valid;			/* false: not measured, print - */
	double per_op[LINES_NSIDES];	/* lines / ops */
	uint64_t lines[LINES_NSIDES];	/* distinct lines, summed over the windows */
	uint64_t windows[LINES_NSIDES]; /* windows closed (each completed >= 1 op) */
	uint64_t errors;		/* ringbench-lines' own run: lost + dup + order ... */
};

#ifdef RINGBENCH_LINES
/* ringbench_lines.c: the hooks' side of it. */
void lines_watch_ring(const void *ring, size_t bytes);
void lines_side_begin(int side);
void lines_side_end(void);
void lines_checkpoint(uint64_t ops_done);
void lines_counted(int side, uint64_t *lines, uint64_t *ops, uint64_t *windows);
#else
/* The timed build counts nothing: these compile away. */
static inline void lines_watch_ring(const void *ring, size_t bytes)
{
	(void)ring;
	(void)bytes;
}

static inline void lines_side_begin(int side)
{
	(void)side;
}

static inline void lines_side_end(void)
{
}

static inline void lines_checkpoint(uint64_t ops_done)
{
	(void)ops_done;
}
#endif

/* One queue, both sides, over one fake guest RAM. */
struct ring {
	enum layout layout;
	uint16_t size; /* buffers in flight at most */
	size_t ring_bytes;
	uint8_t *ram;
	struct guest_mem mem;
	void *priv; /* split/packed driver's private state */
	/*
	 * Each side's state on cache lines of its own, as it is in a VM (the
	 * guest's driver in its RAM, the device in the launcher): sharing a
	 * line, every update by one thread would take it from the other.
	 */
	union {
		struct {
			struct d3_drv_queue out, in;
		} d3;
		struct split_drv split;
		struct packed_drv packed;
	} drv __attribute__((__aligned__(CACHE_LINE)));
	union {
		struct d3_dev d3;
		struct split_dev split;
		struct packed_dev packed;
	} dev __attribute__((__aligned__(CACHE_LINE)));
};

/* What one run shares between the two threads, and what each counts. */
struct bench {
	struct ring *r;
	const struct options *opt;
	int kick_fd, call_fd; /* driver -> device, device -> driver; -1 when polling */
	uint64_t
		final; /* buffers the driver will send in all (atomic; UINT64_MAX: not yet known) */
	int stop;      /* atomic: give up (a ring broke or a side stalled) */
	/* Driver side, and device side, each on lines of its own (see struct ring). */
	uint64_t sent __attribute__((__aligned__(CACHE_LINE))), reaped, kicks, dup, bad_len, stalls;
	bool drv_broken;
	uint64_t popped __attribute__((__aligned__(CACHE_LINE))), pushed, signals, descs, order,
		bad_chain;
	bool dev_broken;
	double secs;
};

/* ---- a few helpers ---------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void cpu_relax(unsigned int *spins)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
	/* With fewer CPUs than spinners, let the other side run. */
	if (++*spins % 1024 == 0)
		sched_yield();
}

static void fd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write: %s", strerror(errno));
}

/*
 * Sleep until @fd is written (and consume it).  Returns false if told to
 * stop, or, when @deadline_ns is not 0, if it passes first.
 */
static bool fd_wait(struct bench *b, int fd, uint64_t deadline_ns)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t count;

	for (;;) {
		int n = poll(&p, 1, WAIT_TICK_MS);

		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (n > 0) {
			if (read(fd, &count, sizeof(count)) != sizeof(count))
				die("eventfd read: %s", strerror(errno));
			return true;
		}
		if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			return false;
		if (deadline_ns && now_ns() > deadline_ns)
			return false;
	}
}

/* ---- the rings: set-up and a dispatch over the three layouts ----------- */

/*
 * The dispatch below, and the loops that use it, take the layout as an
 * argument, L, and are always inlined: each loop is entered once through a
 * switch (device_main(), driver_run(), lockstep_run()) and compiled once
 * per layout with L a constant, so that every switch (L) folds away and
 * each ring operation is a direct call into the ring code, as it is from a
 * device model.  The harness's own instructions per buffer (glue-insns in
 * --insns) are then the loops' bookkeeping, not the dispatch.
 */
#define HOT static inline __attribute__((__always_inline__))

static void ring_init(struct ring *r, enum layout layout, unsigned int qsize)
{
	memset(r, 0, sizeof(*r));
	r->layout = layout;
	r->ram = aligned_alloc(4096, RAM_SIZE);
	if (!r->ram)
		die("out of memory");
	memset(r->ram, 0, RAM_SIZE);
	r->mem = (struct guest_mem){ .base = r->ram, .size = RAM_SIZE };

	switch (layout) {
	case DRAFT3: {
		uint8_t *page = r->ram + RING_GPA;

		r->size = D3_NUM_DESCS; /* fixed: one page of descriptors */
		r->ring_bytes = D3_NUM_PAGES * D3_PAGE_SIZE;
		d3_drv_init(&r->drv.d3.in, page + D3_IN_DESC * D3_PAGE_SIZE,
			    page + D3_IN_AVAIL * D3_PAGE_SIZE, page + D3_IN_USED * D3_PAGE_SIZE);
		d3_drv_init(&r->drv.d3.out, page + D3_OUT_DESC * D3_PAGE_SIZE,
			    page + D3_OUT_AVAIL * D3_PAGE_SIZE, page + D3_OUT_USED * D3_PAGE_SIZE);
		/*
		 * One signal serves both queues, and the device suppresses it
		 * only if both avail pages ask (d3_dev_signal_suppressed()).
		 * We never wait on the in queue, so it asks for good; the out
		 * queue's flag is the one we turn on and off.
		 */
		d3_drv_set_no_signal(&r->drv.d3.in, true);
		if (!d3_dev_init(&r->dev.d3, &r->mem, D3_KEY))
			die("draft3 device init: %s", r->dev.d3.error);
		break;
	}
	case SPLIT:
		r->size = qsize;
		r->ring_bytes = split_drv_ring_bytes(qsize);
		r->priv = malloc(split_drv_priv_bytes(qsize));
		if (!r->priv)
			die("out of memory");
		split_drv_init(&r->drv.split, qsize, r->ram + RING_GPA, r->priv, true);
		if (r->drv.split.broken)
			die("split driver init: %s", r->drv.split.error);
		if (!split_dev_init(&r->dev.split, &r->mem, "ringbench", qsize, RING_GPA,
				    (uint64_t)((uint8_t *)r->drv.split.avail - r->ram),
				    (uint64_t)((uint8_t *)r->drv.split.used - r->ram), true, false))
			die("split device init: %s", r->dev.split.error);
		break;
	default:
		r->size = qsize;
		r->ring_bytes = packed_drv_ring_bytes(qsize);
		r->priv = malloc(packed_drv_priv_bytes(qsize));
		if (!r->priv)
			die("out of memory");
		packed_drv_init(&r->drv.packed, qsize, r->ram + RING_GPA, r->priv, true);
		if (r->drv.packed.broken)
			die("packed driver init: %s", r->drv.packed.error);
		if (!packed_dev_init(&r->dev.packed, &r->mem, "ringbench", qsize, RING_GPA,
				     RING_GPA + 16ull * qsize, RING_GPA + 16ull * qsize + 4, true,
				     false))
			die("packed device init: %s", r->dev.packed.error);
	}
}

static void ring_destroy(struct ring *r)
{
	if (r->layout == SPLIT)
		split_dev_destroy(&r->dev.split);
	else if (r->layout == PACKED)
		packed_dev_destroy(&r->dev.packed);
	free(r->priv);
	free(r->ram);
}

/* Driver side. */

HOT int drv_add(enum layout L, struct ring *r, const struct lg_sg *sg, void *token)
{
	switch (L) {
	case DRAFT3:
		return d3_drv_add(&r->drv.d3.out, sg, 1, token);
	case SPLIT:
		return split_drv_add(&r->drv.split, sg, 1, 0, token);
	default:
		return packed_drv_add(&r->drv.packed, sg, 1, 0, token);
	}
}

HOT bool drv_publish(enum layout L, struct ring *r)
{
	switch (L) {
	case DRAFT3:
		return d3_drv_publish(&r->drv.d3.out);
	case SPLIT:
		return split_drv_publish(&r->drv.split);
	default:
		return packed_drv_publish(&r->drv.packed);
	}
}

HOT void *drv_get_used(enum layout L, struct ring *r, uint32_t *len)
{
	switch (L) {
	case DRAFT3:
		return d3_drv_get_used(&r->drv.d3.out, len);
	case SPLIT:
		return split_drv_get_used(&r->drv.split, len);
	default:
		return packed_drv_get_used(&r->drv.packed, len);
	}
}

HOT void drv_disable_cb(enum layout L, struct ring *r)
{
	switch (L) {
	case DRAFT3:
		d3_drv_set_no_signal(&r->drv.d3.out, true);
		break;
	case SPLIT:
		split_drv_disable_cb(&r->drv.split);
		break;
	default:
		packed_drv_disable_cb(&r->drv.packed);
	}
}

/* Ask for a signal; true if nothing is waiting to be reaped (safe to sleep). */
HOT bool drv_enable_cb(enum layout L, struct ring *r)
{
	switch (L) {
	case DRAFT3:
		d3_drv_set_no_signal(&r->drv.d3.out, false);
		return !d3_drv_has_used(&r->drv.d3.out);
	case SPLIT:
		return split_drv_enable_cb(&r->drv.split);
	default:
		return packed_drv_enable_cb(&r->drv.packed);
	}
}

HOT const char *drv_error(enum layout L, const struct ring *r)
{
	switch (L) {
	case DRAFT3:
		return r->drv.d3.out.broken ? r->drv.d3.out.error : NULL;
	case SPLIT:
		return r->drv.split.broken ? r->drv.split.error : NULL;
	default:
		return r->drv.packed.broken ? r->drv.packed.error : NULL;
	}
}

/* Device side. */

HOT int dev_pop(enum layout L, struct ring *r, struct chain *c)
{
	switch (L) {
	case DRAFT3:
		return d3_dev_pop_out(&r->dev.d3, c);
	case SPLIT:
		return split_dev_pop(&r->dev.split, c);
	default:
		return packed_dev_pop(&r->dev.packed, c);
	}
}

HOT bool dev_push(enum layout L, struct ring *r, struct chain *c)
{
	switch (L) {
	case DRAFT3:
		return d3_dev_push(&r->dev.d3, c, 0);
	case SPLIT:
		return split_dev_push(&r->dev.split, c, 0);
	default:
		return packed_dev_push(&r->dev.packed, c, 0);
	}
}

HOT void dev_disable_notify(enum layout L, struct ring *r)
{
	switch (L) {
	case DRAFT3:
		d3_dev_start_running(&r->dev.d3);
		break;
	case SPLIT:
		split_dev_disable_notify(&r->dev.split);
		break;
	default:
		packed_dev_disable_notify(&r->dev.packed);
	}
}

/* Ask for NOTIFYs again; true if more was published meanwhile (pop again). */
HOT bool dev_enable_notify(enum layout L, struct ring *r)
{
	switch (L) {
	case DRAFT3:
		/* As launcher/ring/queue.c: the running flag covers both queues. */
		return d3_dev_stop_running(&r->dev.d3) && d3_dev_queue_has_avail(&r->dev.d3, false);
	case SPLIT:
		return split_dev_enable_notify(&r->dev.split);
	default:
		return packed_dev_enable_notify(&r->dev.packed);
	}
}

HOT bool dev_should_signal(enum layout L, struct ring *r)
{
	switch (L) {
	case DRAFT3:
		return !r->dev.d3.broken && !d3_dev_signal_suppressed(&r->dev.d3);
	case SPLIT:
		return split_dev_should_signal(&r->dev.split);
	default:
		return packed_dev_should_signal(&r->dev.packed);
	}
}

HOT const char *dev_error(enum layout L, const struct ring *r)
{
	switch (L) {
	case DRAFT3:
		return r->dev.d3.broken ? r->dev.d3.error : NULL;
	case SPLIT:
		return r->dev.split.broken ? r->dev.split.error : NULL;
	default:
		return r->dev.packed.broken ? r->dev.packed.error : NULL;
	}
}

/* ---- the device thread ------------------------------------------------ */

/*
 * Check one popped buffer: one readable 64-byte segment, the next number.
 * The ringtest workload carries no number, and its device reads nothing.
 */
static void device_check(struct bench *b, const struct chain *c)
{
	uint64_t seq;

	b->descs += c->ndesc;
	if (b->opt->ringtest)
		return;
	if (c->nread != 1 || c->nwrite != 0 || c->read_len != SLOT_SIZE) {
		b->bad_chain++;
		return;
	}
	memcpy(&seq, c->seg[0].iov_base, sizeof(seq));
	if (seq != b->popped)
		b->order++;
}

HOT void *device_loop(struct bench *b, enum layout L)
{
	struct ring *r = b->r;
	struct chain *c = malloc(sizeof(*c));
	unsigned int spins = 0;
	int got;

	if (!c)
		die("out of memory");
	lines_side_begin(LINES_DEV);
	/* Polling, we never ask for a NOTIFY: disable once and spin. */
	if (b->kick_fd < 0)
		dev_disable_notify(L, r);
	for (;;) {
		if (b->kick_fd >= 0)
			dev_disable_notify(L, r);
		while ((got = dev_pop(L, r, c)) > 0) {
			device_check(b, c);
			b->popped++;
			if (!dev_push(L, r, c))
				goto broken;
			b->pushed++;
			if (dev_should_signal(L, r)) {
				b->signals++;
				if (b->call_fd >= 0)
					fd_signal(b->call_fd);
			}
		}
		/* A pop-and-push pass: a window ends if it pushed anything. */
		lines_checkpoint(b->pushed);
		if (got < 0)
			goto broken;
		if (b->popped >= __atomic_load_n(&b->final, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			break;
		if (b->kick_fd < 0) {
			cpu_relax(&spins);
			continue;
		}
		/* The enable_notify protocol: sleep only if nothing came meanwhile. */
		if (dev_enable_notify(L, r))
			continue;
		if (dev_error(L, r))
			goto broken;
		if (b->popped >= __atomic_load_n(&b->final, __ATOMIC_ACQUIRE))
			break;
		if (!fd_wait(b, b->kick_fd, 0))
			break;
	}
	lines_side_end();
	free(c);
	return NULL;
broken:
	lines_side_end();
	b->dev_broken = true;
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	free(c);
	return NULL;
}

static void *device_main(void *arg)
{
	struct bench *b = arg;

	switch (b->r->layout) {
	case DRAFT3:
		return device_loop(b, DRAFT3);
	case SPLIT:
		return device_loop(b, SPLIT);
	default:
		return device_loop(b, PACKED);
	}
}

/* ---- the driver thread ------------------------------------------------ */

struct driver {
	struct bench *b;
	uint8_t *outstanding; /* [size] by slot: added, not yet reaped */
	uint16_t *free_slot;  /* stack of free data slots */
	unsigned int nfree;
	unsigned int pending;	/* added since the last publish */
	uint64_t last_progress; /* now_ns() when we last reaped */
};

HOT void driver_publish(enum layout L, struct driver *d)
{
	struct bench *b = d->b;

	d->pending = 0;
	if (drv_publish(L, b->r)) {
		b->kicks++;
		if (b->kick_fd >= 0)
			fd_signal(b->kick_fd);
	}
}

/*
 * ringtest's workload (tools/virtio/ringtest/main.c run_guest()): every
 * buffer is the same one, nothing is written into it, and what comes back
 * is only counted.  No slots, no sequence numbers: the least harness
 * around the ring code, so that the two programs compare like for like.
 */
HOT void driver_fill_ringtest(enum layout L, struct driver *d, uint64_t limit)
{
	static const struct lg_sg sg = { DATA_GPA, SLOT_SIZE };
	struct bench *b = d->b;

	while (d->nfree && b->sent < limit) {
		if (drv_add(L, b->r, &sg, b) < 0)
			die("%s: add failed with %u buffers in flight", layout_name[b->r->layout],
			    b->r->size - d->nfree);
		d->nfree--;
		b->sent++;
		if (++d->pending == b->opt->batch)
			driver_publish(L, d);
	}
}

HOT unsigned int driver_reap_ringtest(enum layout L, struct driver *d)
{
	struct bench *b = d->b;
	unsigned int n = 0;
	uint32_t len;
	void *token;

	while ((token = drv_get_used(L, b->r, &len)) != NULL) {
		if (token != b)
			b->dup++;
		n++;
	}
	d->nfree += n;
	b->reaped += n;
	return n;
}

/* Add buffers while they fit and @limit allows, publishing every batch. */
HOT void driver_fill(enum layout L, struct driver *d, uint64_t limit)
{
	struct bench *b = d->b;
	struct ring *r = b->r;

	if (b->opt->ringtest) {
		driver_fill_ringtest(L, d, limit);
		return;
	}
	while (d->nfree && b->sent < limit) {
		unsigned int slot = d->free_slot[d->nfree - 1];
		struct lg_sg sg = { DATA_GPA + (uint64_t)slot * SLOT_SIZE, SLOT_SIZE };

		memcpy(r->ram + sg.gpa, &b->sent, sizeof(b->sent));
		if (drv_add(L, r, &sg, (void *)(uintptr_t)(slot + 1)) < 0)
			die("%s: add failed with %u buffers in flight", layout_name[r->layout],
			    r->size - d->nfree);
		d->nfree--;
		d->outstanding[slot] = 1;
		b->sent++;
		if (++d->pending == b->opt->batch)
			driver_publish(L, d);
	}
}

/* Reap everything the device has used; returns how many. */
HOT unsigned int driver_reap(enum layout L, struct driver *d)
{
	struct bench *b = d->b;
	unsigned int n = 0;
	uint32_t len;
	void *token;

	if (b->opt->ringtest) {
		n = driver_reap_ringtest(L, d);
		goto out;
	}
	while ((token = drv_get_used(L, b->r, &len)) != NULL) {
		uintptr_t slot = (uintptr_t)token - 1;

		if (slot >= b->r->size || !d->outstanding[slot]) {
			b->dup++;
			continue;
		}
		if (len != 0)
			b->bad_len++;
		d->outstanding[slot] = 0;
		d->free_slot[d->nfree++] = (uint16_t)slot;
		b->reaped++;
		n++;
	}
out:
	/* Not in lock-step: a clock read per reaping pass is harness, and --insns counts it. */
	if (n && !b->opt->lockstep)
		d->last_progress = now_ns();
	return n;
}

static void driver_init(struct driver *d, struct bench *b)
{
	struct ring *r = b->r;

	*d = (struct driver){ .b = b };
	d->outstanding = calloc(r->size, 1);
	d->free_slot = malloc(r->size * sizeof(*d->free_slot));
	if (!d->outstanding || !d->free_slot)
		die("out of memory");
	for (unsigned int i = 0; i < r->size; i++)
		d->free_slot[i] = (uint16_t)(r->size - 1 - i);
	d->nfree = r->size;
}

HOT void driver_loop(struct bench *b, enum layout L)
{
	struct ring *r = b->r;
	struct driver d;
	uint64_t start = now_ns(), end = start + b->opt->secs * 1000000000ull;
	uint64_t limit = b->opt->ops ? b->opt->ops : UINT64_MAX;
	unsigned int spins = 0, reaped;

	driver_init(&d, b);
	d.last_progress = start;

	lines_side_begin(LINES_DRV);
	/* Awake, we reap by looking: signals only while we sleep (or never, polling). */
	drv_disable_cb(L, r);
	for (;;) {
		if (limit == UINT64_MAX && now_ns() >= end) {
			/* Time is up: send no more, and tell the device how many there were. */
			limit = b->sent;
			__atomic_store_n(&b->final, limit, __ATOMIC_RELEASE);
			if (b->kick_fd >= 0)
				fd_signal(b->kick_fd); /* wake it to see final; not a NOTIFY */
		}
		driver_fill(L, &d, limit);
		reaped = driver_reap(L, &d);
		/* A fill-and-reap pass: a window ends if it reaped anything. */
		lines_checkpoint(b->reaped);
		if (reaped)
			continue;
		if (drv_error(L, r) || __atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			break;
		if (b->sent == limit && b->reaped == b->sent)
			break;
		/* Nothing to reap: whatever waits for a batch to fill goes now. */
		if (d.pending)
			driver_publish(L, &d);
		if (b->kick_fd < 0) {
			cpu_relax(&spins);
			if (spins % 1024 == 0 && now_ns() - d.last_progress > STALL_NS)
				goto stalled;
			continue;
		}
		/* The enable_cb protocol: sleep only if nothing came meanwhile. */
		if (drv_enable_cb(L, r) && !drv_error(L, r)) {
			if (!fd_wait(b, b->call_fd, d.last_progress + STALL_NS)) {
				if (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
					goto stalled;
				break;
			}
		}
		drv_disable_cb(L, r);
	}
	goto done;
stalled:
	b->stalls++;
	fprintf(stderr, PROG ": %s: stalled with %" PRIu64 " buffers in flight\n",
		layout_name[r->layout], b->sent - b->reaped);
done:
	lines_side_end();
	b->secs = (double)(now_ns() - start) / 1e9;
	b->drv_broken = drv_error(L, r) != NULL;
	/* The device may still be asleep waiting for more: let it go. */
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	if (b->kick_fd >= 0)
		fd_signal(b->kick_fd);
	free(d.outstanding);
	free(d.free_slot);
}

static void driver_run(struct bench *b)
{
	switch (b->r->layout) {
	case DRAFT3:
		driver_loop(b, DRAFT3);
		break;
	case SPLIT:
		driver_loop(b, SPLIT);
		break;
	default:
		driver_loop(b, PACKED);
	}
}

/* ---- lines of ring memory per op -------------------------------------- */

/*
 * The schedule ringbench-lines counts lines on, and --insns instructions: one thread plays both
 * sides in turn, so that the figures are the layout's and not the
 * scheduler's (with two threads, how many ops one pass finds, and so how
 * many ops share a line, changes from run to run).  Each round:
 *
 *   driver  adds --batch buffers and publishes them (deciding on a NOTIFY
 *           as always); with --notify=eventfd, re-enables signals, as it
 *           does before it sleeps
 *   device  with eventfd, disables NOTIFYs as a woken device does; pops
 *           and pushes every buffer, deciding on a signal after each; with
 *           eventfd, re-enables NOTIFYs and looks once more, as before it
 *           sleeps
 *   driver  with eventfd, disables signals as a woken driver does; reaps
 *
 * so --notify=eventfd is the case where each side sleeps between batches
 * (the other side is slower), --notify=poll the case where neither ever
 * does.  Each side's window is its part of one round: lines/op is the
 * distinct lines it touched in a round divided by --batch.  --insns counts
 * what lockstep_run(), which runs this, and everything it calls execute.
 */
HOT void lockstep_loop(struct bench *b, enum layout L)
{
	struct ring *r = b->r;
	bool sleepers = b->opt->eventfd;
	uint64_t limit = b->opt->ops ? b->opt->ops : LINES_OPS;
	struct chain *c = malloc(sizeof(*c));
	struct driver d;
	int got;

	if (!c)
		die("out of memory");
	driver_init(&d, b);
	b->final = limit;
	lines_side_begin(LINES_DEV);
	if (!sleepers)
		dev_disable_notify(L, r);
	lines_side_begin(LINES_DRV);
	drv_disable_cb(L, r);
	while (b->reaped < limit && !drv_error(L, r) && !dev_error(L, r)) {
		uint64_t n = limit - b->sent;

		if (n > b->opt->batch)
			n = b->opt->batch;
		if (n > d.nfree)
			n = d.nfree;
		lines_side_begin(LINES_DRV);
		driver_fill(L, &d, b->sent + n);
		if (d.pending)
			driver_publish(L, &d);
		if (sleepers)
			drv_enable_cb(L, r);

		lines_side_begin(LINES_DEV);
		if (sleepers)
			dev_disable_notify(L, r);
		while ((got = dev_pop(L, r, c)) > 0) {
			device_check(b, c);
			b->popped++;
			if (!dev_push(L, r, c))
				break;
			b->pushed++;
			b->signals += dev_should_signal(L, r);
		}
		if (sleepers && dev_enable_notify(L, r))
			die("%s: the device found more after its pass", layout_name[r->layout]);
		lines_checkpoint(b->pushed);

		lines_side_begin(LINES_DRV);
		if (sleepers)
			drv_disable_cb(L, r);
		if (!driver_reap(L, &d)) {
			b->stalls++;
			fprintf(stderr, PROG ": %s: a round completed nothing\n",
				layout_name[r->layout]);
			break;
		}
		lines_checkpoint(b->reaped);
	}
	lines_side_end();
	b->drv_broken = drv_error(L, r) != NULL;
	b->dev_broken = dev_error(L, r) != NULL;
	free(d.outstanding);
	free(d.free_slot);
	free(c);
}

/* What --insns counts (callgrind's --toggle-collect), hence noinline. */
__attribute__((noinline)) static void lockstep_run(struct bench *b)
{
	switch (b->r->layout) {
	case DRAFT3:
		lockstep_loop(b, DRAFT3);
		break;
	case SPLIT:
		lockstep_loop(b, SPLIT);
		break;
	default:
		lockstep_loop(b, PACKED);
	}
}

#ifdef RINGBENCH_LINES

/* What ringbench_lines.c counted in the run just finished. */
static void lines_measure(enum layout layout, const struct options *opt, struct lines_figures *lf)
{
	uint64_t ops;

	(void)layout;
	if (!opt->lines && !opt->lines_only)
		return;
	lf->valid = true;
	for (int side = 0; side < LINES_NSIDES; side++) {
		lines_counted(side, &lf->lines[side], &ops, &lf->windows[side]);
		lf->per_op[side] = ops ? (double)lf->lines[side] / (double)ops : 0.0;
	}
}

#else

/* This program's own path, to run it again. */
static bool self_path(char *path, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", path, size);

	if (n < 0 || (size_t)n >= size)
		return false;
	path[n] = '\0';
	return true;
}

/* build/ringbench-lines: next to this binary, wherever we are run from. */
static bool lines_binary(char *path, size_t size)
{
	static const char name[] = "ringbench-lines";
	char *slash;

	if (!self_path(path, size))
		return false;
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash + 1 - path) + sizeof(name) > size)
		return false;
	memcpy(slash + 1, name, sizeof(name));
	return true;
}

/*
 * Count the instructions per buffer of @layout under our options: this
 * program again, in lock-step, under callgrind (ringbench_insns.c).
 */
static void insns_layout(enum layout layout, const struct options *opt, struct insns_figures *f)
{
	uint64_t ops = opt->ops && opt->ops < LINES_OPS ? opt->ops : LINES_OPS;
	char self[4096], ring[32], batch[32], qsize[32], notify[32], nops[48], workload[32],
		lockstep[] = "--lockstep", nolines[] = "--lines=off";
	char *args[] = { ring, batch, qsize, notify, nops, workload, lockstep, nolines, NULL };

	f->valid = false;
	if (!opt->insns)
		return;
	if (!self_path(self, sizeof(self))) {
		fprintf(stderr, "ringbench: --insns: cannot find this program's path\n");
		return;
	}
	snprintf(ring, sizeof(ring), "--ring=%s", layout_name[layout]);
	snprintf(batch, sizeof(batch), "--batch=%u", opt->batch);
	snprintf(qsize, sizeof(qsize), "--qsize=%u", opt->qsize);
	snprintf(notify, sizeof(notify), "--notify=%s", opt->eventfd ? "eventfd" : "poll");
	snprintf(nops, sizeof(nops), "--ops=%" PRIu64, ops);
	snprintf(workload, sizeof(workload), "--workload=%s",
		 opt->ringtest ? "ringtest" : "ringbench");
	insns_measure(self, args, ops, f);
}

/*
 * Run ringbench-lines --lines-only on @layout with our options and read its
 * one line into @lf.  Not getting the figures is only a warning (the
 * columns say -); errors it found in its own run go into lf->errors.
 */
static void lines_measure(enum layout layout, const struct options *opt, struct lines_figures *lf)
{
	static bool missing; /* warned already: no ringbench-lines */
	char path[4096], ring[32], batch[32], qsize[32], notify[32], ops[48],
		only[] = "--lines-only";
	char *argv[] = { path, ring, batch, qsize, notify, ops, only, NULL };
	uint64_t nops, lost, dup, order;
	posix_spawn_file_actions_t actions;
	char out[512], name[16];
	int fds[2], status, err;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!opt->lines || missing)
		return;
	if (!lines_binary(path, sizeof(path)) || access(path, X_OK) != 0) {
		missing = true;
		fprintf(stderr, "ringbench: no %s (make builds it): lines/op not measured\n",
			lines_binary(path, sizeof(path)) ? path
							 : "ringbench-lines next to ringbench");
		return;
	}
	snprintf(ring, sizeof(ring), "--ring=%s", layout_name[layout]);
	snprintf(batch, sizeof(batch), "--batch=%u", opt->batch);
	snprintf(qsize, sizeof(qsize), "--qsize=%u", opt->qsize);
	snprintf(notify, sizeof(notify), "--notify=%s", opt->eventfd ? "eventfd" : "poll");
	snprintf(ops, sizeof(ops), "--ops=%" PRIu64,
		 opt->ops && opt->ops < LINES_OPS ? opt->ops : (uint64_t)LINES_OPS);

	if (pipe2(fds, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
	err = posix_spawn(&pid, path, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		fprintf(stderr, "ringbench: %s: cannot run %s: %s\n", layout_name[layout], path,
			strerror(err));
		return;
	}
	while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)))
		if (n > 0)
			len += (size_t)n;
		else if (errno != EINTR)
			break;
	out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));

	/* It exits 1 after errors in its run, 2 if it could not run at all. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1 ||
	    sscanf(out,
		   "%15s drv-lines/op=%lf dev-lines/op=%lf drv-lines=%" SCNu64 " dev-lines=%" SCNu64
		   " drv-windows=%" SCNu64 " dev-windows=%" SCNu64 " ops=%" SCNu64 " lost=%" SCNu64
		   " dup=%" SCNu64 " order=%" SCNu64 " errors=%" SCNu64,
		   name, &lf->per_op[LINES_DRV], &lf->per_op[LINES_DEV], &lf->lines[LINES_DRV],
		   &lf->lines[LINES_DEV], &lf->windows[LINES_DRV], &lf->windows[LINES_DEV], &nops,
		   &lost, &dup, &order, &lf->errors) != 12 ||
	    strcmp(name, layout_name[layout]) != 0) {
		if (WIFSIGNALED(status))
			fprintf(stderr, "ringbench: %s: ringbench-lines killed by signal %d\n",
				layout_name[layout], WTERMSIG(status));
		else
			fprintf(stderr,
				"ringbench: %s: ringbench-lines exited %d without figures\n",
				layout_name[layout], WEXITSTATUS(status));
		lf->errors = 0;
		return;
	}
	lf->valid = true;
	if (lf->errors)
		fprintf(stderr,
			"ringbench: %s: ringbench-lines counted %" PRIu64 " errors in its %" PRIu64
			" ops (lost %" PRIu64 ", dup %" PRIu64 ", order %" PRIu64 ")\n",
			layout_name[layout], lf->errors, nops, lost, dup, order);
}

#endif

static void print_lines(const struct lines_figures *lf, enum lines_side side)
{
	if (lf->valid)
		printf(" %12.3f", lf->per_op[side]);
	else
		printf(" %12s", "-");
}

#ifndef RINGBENCH_LINES
static void print_insns(const struct insns_figures *f)
{
	if (f->valid)
		printf(" %9.1f %13.1f %13.1f %14.1f", f->drv + f->dev, f->drv, f->dev, f->harness);
	else
		printf(" %9s %13s %13s %14s", "-", "-", "-", "-");
}

/*
 * --insns, after the main table: the same ring instructions per buffer,
 * by operation of the ring API (ringbench_insns.c), a row per layout, so
 * that what each layout pays for where can be read across.
 */
static void print_insns_by_op(const struct options *opt, const struct insns_figures f[NLAYOUTS])
{
	printf("\ninsns/buf by operation (ring code, both sides; callgrind, lock-step):\n%-7s",
	       "layout");
	for (int op = 0; op < INSNS_NOPS; op++)
		printf(" %8s", insns_op_name[op]);
	printf(" %9s\n", "insns/buf");
	for (int i = 0; i < NLAYOUTS; i++) {
		if (!opt->run[i])
			continue;
		printf("%-7s", layout_name[i]);
		for (int op = 0; op < INSNS_NOPS; op++)
			if (f[i].valid)
				printf(" %8.1f", f[i].op[op]);
			else
				printf(" %8s", "-");
		if (f[i].valid)
			printf(" %9.1f\n", f[i].drv + f[i].dev);
		else
			printf(" %9s\n", "-");
	}
}
#endif

/* ---- one layout, start to finish -------------------------------------- */

/*
 * Returns the number of errors (ringbench-lines' included).  With --insns,
 * @insns gets the layout's instruction counts (ringbench only).
 */
static uint64_t bench_layout(enum layout layout, const struct options *opt,
			     struct insns_figures *insns)
{
	struct ring r;
	struct bench b = { .r = &r, .opt = opt, .kick_fd = -1, .call_fd = -1 };
	struct lines_figures lf = { .valid = false };
	uint64_t lost, errors;
	pthread_t device;
	size_t ring_bytes;
	uint16_t size;
	double ops;

	ring_init(&r, layout, opt->qsize);
	lines_watch_ring(r.ram + RING_GPA, r.ring_bytes);
	b.final = opt->ops ? opt->ops : UINT64_MAX;
	if (opt->eventfd) {
		b.kick_fd = eventfd(0, EFD_CLOEXEC);
		b.call_fd = eventfd(0, EFD_CLOEXEC);
		if (b.kick_fd < 0 || b.call_fd < 0)
			die("eventfd: %s", strerror(errno));
	}
	if (opt->lines_only || opt->lockstep) {
		uint64_t start = now_ns();

		lockstep_run(&b);
		b.secs = (double)(now_ns() - start) / 1e9;
	} else {
		if (pthread_create(&device, NULL, device_main, &b) != 0)
			die("cannot start the device thread");
		driver_run(&b);
		pthread_join(device, NULL);
	}

	if (drv_error(layout, &r))
		fprintf(stderr, PROG ": %s: driver: %s\n", layout_name[layout],
			drv_error(layout, &r));
	if (dev_error(layout, &r))
		fprintf(stderr, PROG ": %s: device: %s\n", layout_name[layout],
			dev_error(layout, &r));
	if (b.bad_chain || b.bad_len)
		fprintf(stderr,
			PROG ": %s: %" PRIu64 " chains not one 64-byte readable segment, %" PRIu64
			     " reaped with written != 0\n",
			layout_name[layout], b.bad_chain, b.bad_len);

	/* Lost: sent and never reaped (the device counted any it skipped as out of order). */
	lost = b.sent - b.reaped;
	errors = lost + b.dup + b.order + b.bad_chain + b.bad_len + b.stalls + b.drv_broken +
		 b.dev_broken;
	size = r.size;
	ring_bytes = r.ring_bytes;
	if (b.kick_fd >= 0)
		close(b.kick_fd);
	if (b.call_fd >= 0)
		close(b.call_fd);
	ring_destroy(&r);

	lines_measure(layout, opt, &lf);
	if (opt->lines_only) {
		printf("%s drv-lines/op=%.6f dev-lines/op=%.6f drv-lines=%" PRIu64
		       " dev-lines=%" PRIu64 " drv-windows=%" PRIu64 " dev-windows=%" PRIu64
		       " ops=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64 " order=%" PRIu64
		       " errors=%" PRIu64 "\n",
		       layout_name[layout], lf.per_op[LINES_DRV], lf.per_op[LINES_DEV],
		       lf.lines[LINES_DRV], lf.lines[LINES_DEV], lf.windows[LINES_DRV],
		       lf.windows[LINES_DEV], b.reaped, lost, b.dup, b.order, errors);
		fflush(stdout);
		return errors;
	}

	ops = b.reaped ? (double)b.reaped : 1.0;
	printf("%-7s %6u %10" PRIu64 " %12.0f %9.4f %11.4f %9.10g %11zu", layout_name[layout], size,
	       b.reaped, b.secs > 0 ? b.reaped / b.secs : 0.0, b.kicks / ops, b.signals / ops,
	       b.popped ? (double)b.descs / b.popped : 0.0, ring_bytes);
	print_lines(&lf, LINES_DRV);
	print_lines(&lf, LINES_DEV);
	printf(" %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7" PRIu64, lost, b.dup, b.order, errors);
#ifndef RINGBENCH_LINES
	if (opt->insns) {
		insns_layout(layout, opt, insns);
		print_insns(insns);
	}
#else
	(void)insns;
#endif
	printf("\n");
	fflush(stdout);
	return errors + lf.errors;
}

/* ---- options ---------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: ringbench [--ring=draft3|split|packed|all] [--batch=N] [--qsize=N]\n"
		"                 [--notify=poll|eventfd] [--secs=N] [--ops=N] [--lines=on|off]\n"
		"                 [--workload=ringbench|ringtest] [--lockstep] [--insns]\n"
		"       ringbench-lines [the same options] [--lines-only]\n"
		"\n"
		"--lines=off leaves out drv-lines/op and dev-lines/op, the cache lines of\n"
		"ring memory each side touches per op, which ringbench gets by running\n"
		"ringbench-lines (next to it) on at most %u ops.  --lines-only: print\n"
		"one line of key=value per layout instead of the table.\n"
		"--workload=ringtest: Linux's tools/virtio/ringtest workload, one buffer\n"
		"added, used and got back with no payload written or checked.\n"
		"--lockstep: one thread, the two sides taking turns a batch at a time.\n"
		"--insns: add insns/buf, the ring code's instructions per buffer (driver\n"
		"and device), and the harness's, counted by callgrind on a --lockstep\n"
		"run of at most %u ops (needs valgrind); then a table of the ring\n"
		"code's by operation (add, publish, pop, push, signal, reap, notify).\n",
		LINES_OPS, LINES_OPS);
	exit(2);
}

static uint64_t parse_number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		die("--%s=%s: expected a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
	return v;
}

/* --OPT=S, one of two words: true for @yes, false for @no. */
static bool parse_choice(const char *opt, const char *s, const char *yes, const char *no)
{
	if (strcmp(s, yes) == 0)
		return true;
	if (strcmp(s, no) != 0)
		die("--%s=%s: expected %s or %s", opt, s, yes, no);
	return false;
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "ring", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "qsize", required_argument, NULL, 'q' },
		{ "notify", required_argument, NULL, 'n' },
		{ "secs", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'o' },
		{ "lines", required_argument, NULL, 'l' },
		{ "workload", required_argument, NULL, 'w' },
		{ "lockstep", no_argument, NULL, 'S' },
#ifndef RINGBENCH_LINES
		{ "insns", no_argument, NULL, 'i' },
#endif
#ifdef RINGBENCH_LINES
		{ "lines-only", no_argument, NULL, 'L' },
#endif
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ring = "all";
	int ch;

	*opt = (struct options){
		.batch = 1, .qsize = 256, .eventfd = true, .secs = 2, .lines = true
	};
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			ring = optarg;
			break;
		case 'b':
			opt->batch = parse_number("batch", optarg, 1, MAX_QSIZE);
			break;
		case 'q':
			opt->qsize = parse_number("qsize", optarg, 1, MAX_QSIZE);
			if (opt->qsize & (opt->qsize - 1))
				die("--qsize=%s: must be a power of two", optarg);
			break;
		case 'n':
			opt->eventfd = parse_choice("notify", optarg, "eventfd", "poll");
			break;
		case 's':
			opt->secs = parse_number("secs", optarg, 1, 3600);
			break;
		case 'o':
			opt->ops = parse_number("ops", optarg, 1, UINT64_MAX - 1);
			break;
		case 'l':
			opt->lines = parse_choice("lines", optarg, "on", "off");
			break;
		case 'L':
			opt->lines_only = true;
			break;
		case 'w':
			opt->ringtest = parse_choice("workload", optarg, "ringtest", "ringbench");
			break;
		case 'S':
			opt->lockstep = true;
			break;
		case 'i':
			opt->insns = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	for (int i = 0; i < NLAYOUTS; i++)
		opt->run[i] = strcmp(ring, "all") == 0 || strcmp(ring, layout_name[i]) == 0;
	if (!opt->run[DRAFT3] && !opt->run[SPLIT] && !opt->run[PACKED])
		die("--ring=%s: expected draft3, split, packed or all", ring);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct insns_figures insns[NLAYOUTS] = { { .valid = false } };
	uint64_t errors = 0;

	parse_options(argc, argv, &opt);
	if (!opt.lines_only) {
		printf("%-7s %6s %10s %12s %9s %11s %9s %11s %12s %12s %6s %6s %6s %7s", "layout",
		       "qsize", "ops", "ops/s", "kicks/op", "signals/op", "descs/op", "ring-bytes",
		       "drv-lines/op", "dev-lines/op", "lost", "dup", "order", "errors");
		if (opt.insns)
			printf(" %9s %13s %13s %14s", "insns/buf", "drv-insns/buf", "dev-insns/buf",
			       "glue-insns/buf");
		printf("\n");
	}
	for (int i = 0; i < NLAYOUTS; i++)
		if (opt.run[i])
			errors += bench_layout(i, &opt, &insns[i]);
#ifndef RINGBENCH_LINES
	if (opt.insns && !opt.lines_only)
		print_insns_by_op(&opt, insns);
#endif
	return errors ? 1 : 0;
}
