// SPDX-License-Identifier: GPL-2.0
/*
 * ring_race.c: "the device side reads each guest value once", tested with
 * a guest that never stops changing its ring.
 *
 *   build/race/ring_race [SECONDS]     each layout for SECONDS (default 3)
 *
 * Per layout, two threads share one guest RAM.  The device thread has a
 * well-behaved driver (guest/ring/, the guest's own code) fill the ring,
 * then pops, checks and pushes every chain it can through queue.h, as a
 * device model would, and starts again with a fresh ring when the ring is
 * empty or the queue broke.  The flipper thread meanwhile keeps storing
 * values into the ring: avail and used indices, descriptor addresses,
 * lengths, flags and next links, packed flags and ids, the draft-III
 * equivalents, indirect tables.  The values alternate between ones that
 * pass the device's checks and ones that do not (a length past the end
 * of RAM), so a device that checked one read of a field and then used
 * another would hand out an iovec outside RAM: every popped chain is
 * checked for that, and for segment lengths that add up.
 *
 * The guest's stores are relaxed atomics, as the device's loads are
 * (launcher/ring/guest_access.h): ThreadSanitizer, which this is built
 * with, then reports exactly the plain accesses to guest memory left in
 * the ring code.  The two threads synchronise only while the driver
 * refills the ring (the driver's plain stores are its own business).
 *
 * One line per layout ("ok   race/split: ..."), then "N passed, N
 * failed"; the exit status is 1 if a chain broke a rule, and
 * ThreadSanitizer's own (66) if it reported anything.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "draft3_drv.h"
#include "guest_mem.h"
#include "packed_drv.h"
#include "ring/queue.h"
#include "split_drv.h"

#define RAM_SIZE      (256u << 10)
#define RING_GPA      0x1000u  /* split/packed ring, or draft3's six pages (key 1) */
#define INDIR_GPA     0x10000u /* indirect tables: NTABLES of TABLE_ENTRIES */
#define DATA_GPA      0x20000u /* buffers, up to the end of RAM */
#define QSIZE	      64
#define NTABLES	      64
#define TABLE_ENTRIES 8
#define MAX_TARGETS   4096
#define MAX_FAILURES  10

/* What the flipper stores into a field, chosen by what the field is. */
enum kind {
	K_LEN,	  /* a length: in RAM, zero, or far past it */
	K_ADDR,	  /* a guest-physical address, the same */
	K_PFN,	  /* draft3: a page frame */
	K_OFFSET, /* draft3: an offset into it */
	K_FLAGS,  /* descriptor flags: the layout's bits, at random */
	K_INDEX,  /* a descriptor index or buffer id: in range or just past */
	K_MOVE,	  /* an index the guest moves on: mostly forward by a little */
	K_ANY,	  /* anything */
};

struct target {
	uint64_t gpa;
	uint8_t width; /* 2, 4 or 8 bytes */
	uint8_t kind;
};

struct race {
	const char *name;
	uint8_t layout;
	uint8_t *ram;
	struct guest_mem mem;
	struct queue q[2]; /* draft3: QUEUE_D3_IN, QUEUE_D3_OUT; modern: q[0] */
	struct d3_dev d3;
	struct d3_drv_queue d3_drv[2];
	struct split_drv split_drv;
	struct packed_drv packed_drv;
	void *priv;
	uint16_t flag_bits; /* the layout's descriptor flags, for K_FLAGS */
	struct target target[MAX_TARGETS];
	unsigned int ntargets;
	uint32_t buffers; /* added since the start: where the next one goes */

	pthread_mutex_t lock; /* the flipper holds it while it flips */
	int refill_wanted;    /* the device waits for the lock: flipper, let go */
	int stop;
	uint64_t pops, pushes, joins, rounds, broken, flips, failures;
	char first_error[192];
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64: fast, and each thread keeps its own state. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- the guest's side: a driver fills the ring ------------------------- */

static void add_target(struct race *r, const void *field, uint8_t width, uint8_t kind)
{
	if (r->ntargets < MAX_TARGETS)
		r->target[r->ntargets++] =
			(struct target){ (uint64_t)((const uint8_t *)field - r->ram), width, kind };
}

#define TARGET(r, field, kind) add_target(r, &(field), sizeof(field), kind)

/* The next buffer's segments: in the data area, 64 to 512 bytes each. */
static void buffer_sg(struct race *r, struct lg_sg *sg, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint32_t k = r->buffers++;

		sg[i].gpa = DATA_GPA + (k * 512u) % (RAM_SIZE - DATA_GPA);
		sg[i].len = 64u << (k % 4);
	}
}

static void *token(struct race *r)
{
	return (void *)(uintptr_t)(r->buffers + 1);
}

static void fill_split(struct race *r)
{
	struct split_drv *d = &r->split_drv;
	struct lg_sg sg[4];

	split_drv_init(d, QSIZE, r->ram + RING_GPA, r->priv, true);
	for (unsigned int i = 0;; i++) {
		unsigned int n = 1 + i % 4;
		uint64_t t = INDIR_GPA + (i % NTABLES) * TABLE_ENTRIES * sizeof(struct vring_desc);
		int head;

		buffer_sg(r, sg, n);
		if (i % 3 == 2)
			head = split_drv_add_indirect(
				d, sg, 1, n - 1, (struct vring_desc *)(r->ram + t), t, token(r));
		else
			head = split_drv_add(d, sg, 1, n - 1, token(r));
		if (head < 0)
			break;
	}
	split_drv_publish(d);
	queue_init_modern(&r->q[0], LG_RING_SPLIT, &r->mem, "requestq", QSIZE, RING_GPA,
			  (uint64_t)((uint8_t *)d->avail - r->ram),
			  (uint64_t)((uint8_t *)d->used - r->ram), true, true);
}

static void fill_packed(struct race *r)
{
	struct packed_drv *d = &r->packed_drv;
	struct lg_sg sg[4];

	packed_drv_init(d, QSIZE, r->ram + RING_GPA, r->priv, true);
	for (unsigned int i = 0;; i++) {
		unsigned int n = 1 + i % 4;
		uint64_t t = INDIR_GPA +
			     (i % NTABLES) * TABLE_ENTRIES * sizeof(struct vring_packed_desc);
		int id;

		buffer_sg(r, sg, n);
		if (i % 3 == 2)
			id = packed_drv_add_indirect(d, sg, 1, n - 1,
						     (struct vring_packed_desc *)(r->ram + t), t,
						     token(r));
		else
			id = packed_drv_add(d, sg, 1, n - 1, token(r));
		if (id < 0)
			break;
	}
	packed_drv_publish(d);
	queue_init_modern(&r->q[0], LG_RING_PACKED, &r->mem, "requestq", QSIZE, RING_GPA,
			  (uint64_t)((uint8_t *)d->driver - r->ram),
			  (uint64_t)((uint8_t *)d->device - r->ram), true, true);
}

static void fill_draft3(struct race *r)
{
	uint8_t *pages = r->ram + RING_GPA;
	struct lg_sg sg[4];

	for (unsigned int k = 0; k < 2; k++) {
		struct d3_drv_queue *d = &r->d3_drv[k];
		unsigned int base = k == QUEUE_D3_IN ? D3_IN_DESC : D3_OUT_DESC;

		d3_drv_init(d, pages + base * D3_PAGE_SIZE, pages + (base + 1) * D3_PAGE_SIZE,
			    pages + (base + 2) * D3_PAGE_SIZE);
		for (unsigned int i = 0;; i++) {
			unsigned int n = 1 + i % 4;

			buffer_sg(r, sg, n);
			if (d3_drv_add(d, sg, n, token(r)) < 0)
				break;
		}
		d3_drv_publish(d);
	}
	d3_dev_init(&r->d3, &r->mem, RING_GPA / D3_PAGE_SIZE);
	queue_init_draft3(&r->q[QUEUE_D3_IN], &r->d3, true);
	queue_init_draft3(&r->q[QUEUE_D3_OUT], &r->d3, false);
}

/* A fresh ring, filled; the flipper waits meanwhile. */
static void refill(struct race *r)
{
	__atomic_store_n(&r->refill_wanted, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&r->lock);
	__atomic_store_n(&r->refill_wanted, 0, __ATOMIC_RELAXED);
	queue_destroy(&r->q[0]);
	if (r->layout == LG_RING_SPLIT)
		fill_split(r);
	else if (r->layout == LG_RING_PACKED)
		fill_packed(r);
	else
		fill_draft3(r);
	r->rounds++;
	pthread_mutex_unlock(&r->lock);
}

/* Every field of the ring the guest may write (and used->idx, which it may not). */
static void find_targets(struct race *r)
{
	if (r->layout == LG_RING_SPLIT) {
		struct vring_desc *desc = (struct vring_desc *)(r->ram + RING_GPA);
		struct vring_desc *tables = (struct vring_desc *)(r->ram + INDIR_GPA);
		struct split_drv *d = &r->split_drv;

		split_drv_init(d, QSIZE, r->ram + RING_GPA, r->priv, true);
		for (unsigned int i = 0; i < QSIZE; i++) {
			TARGET(r, desc[i].addr, K_ADDR);
			TARGET(r, desc[i].len, K_LEN);
			TARGET(r, desc[i].flags, K_FLAGS);
			TARGET(r, desc[i].next, K_INDEX);
			TARGET(r, d->avail->ring[i], K_INDEX);
		}
		for (unsigned int i = 0; i < NTABLES * TABLE_ENTRIES; i++) {
			TARGET(r, tables[i].addr, K_ADDR);
			TARGET(r, tables[i].len, K_LEN);
			TARGET(r, tables[i].flags, K_FLAGS);
			TARGET(r, tables[i].next, K_INDEX);
		}
		TARGET(r, d->avail->idx, K_MOVE);
		TARGET(r, d->avail->flags, K_ANY);
		TARGET(r, d->avail->ring[QSIZE], K_ANY); /* used_event */
		TARGET(r, d->used->idx, K_MOVE);
		r->flag_bits = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT;
	} else if (r->layout == LG_RING_PACKED) {
		struct vring_packed_desc *ring = (struct vring_packed_desc *)(r->ram + RING_GPA);
		struct vring_packed_desc *tables = (struct vring_packed_desc *)(r->ram + INDIR_GPA);
		struct packed_drv *d = &r->packed_drv;

		packed_drv_init(d, QSIZE, r->ram + RING_GPA, r->priv, true);
		for (unsigned int i = 0; i < QSIZE; i++) {
			TARGET(r, ring[i].addr, K_ADDR);
			TARGET(r, ring[i].len, K_LEN);
			TARGET(r, ring[i].id, K_INDEX);
			TARGET(r, ring[i].flags, K_FLAGS);
		}
		for (unsigned int i = 0; i < NTABLES * TABLE_ENTRIES; i++) {
			TARGET(r, tables[i].addr, K_ADDR);
			TARGET(r, tables[i].len, K_LEN);
			TARGET(r, tables[i].flags, K_FLAGS);
		}
		TARGET(r, d->driver->off_wrap, K_ANY);
		TARGET(r, d->driver->flags, K_ANY);
		r->flag_bits = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT |
			       1u << VRING_PACKED_DESC_F_AVAIL | 1u << VRING_PACKED_DESC_F_USED;
	} else {
		for (unsigned int k = 0; k < 2; k++) {
			unsigned int base = k == QUEUE_D3_IN ? D3_IN_DESC : D3_OUT_DESC;
			uint8_t *page = r->ram + RING_GPA + base * D3_PAGE_SIZE;
			struct d3_desc *desc = (struct d3_desc *)page;
			struct d3_avail *avail = (struct d3_avail *)(page + D3_PAGE_SIZE);
			struct d3_used *used = (struct d3_used *)(page + 2 * D3_PAGE_SIZE);

			for (unsigned int i = 0; i < D3_NUM_DESCS; i++) {
				TARGET(r, desc[i].pfn, K_PFN);
				TARGET(r, desc[i].len, K_LEN);
				TARGET(r, desc[i].offset, K_OFFSET);
				TARGET(r, desc[i].flags, K_FLAGS);
				TARGET(r, desc[i].next, K_INDEX);
				TARGET(r, avail->ring[i], K_INDEX);
			}
			TARGET(r, avail->idx, K_MOVE);
			TARGET(r, avail->flags, K_ANY);
			TARGET(r, used->idx, K_MOVE);
		}
		r->flag_bits = D3_DESC_F_HEAD | D3_DESC_F_NEXT;
	}
}

/* ---- the flipper --------------------------------------------------------- */

static uint64_t value(struct race *r, const struct target *t, uint64_t *s)
{
	uint64_t x = rnd(s), pages = RAM_SIZE / D3_PAGE_SIZE, now = 0;
	unsigned int n = r->layout == LG_RING_DRAFT3 ? D3_NUM_DESCS : QSIZE;

	switch (t->kind) {
	case K_LEN: {
		/* Half the time a length the device accepts. */
		static const uint64_t bad[] = { 0, RAM_SIZE, 0x7fffffff, 0xffffffff, ~0ull };
		return x & 1 ? 1 + (x >> 8) % 4096 : bad[(x >> 1) % 5];
	}
	case K_ADDR: {
		static const uint64_t bad[] = { RAM_SIZE - 8, RAM_SIZE, RAM_SIZE + 4096,
						0xfffffffffffff000ull, 1ull << 63 };
		return x & 1 ? DATA_GPA + (x >> 8) % 0x10000 : bad[(x >> 1) % 5];
	}
	case K_PFN: {
		static const uint64_t bad[] = { 0, ~0ull >> 12, (1ull << 52) + 0x20, ~0ull };
		return x & 1 ? DATA_GPA / D3_PAGE_SIZE + (x >> 8) % 16
			     : (x & 2 ? pages - 1 + (x >> 8) % 2 : bad[(x >> 2) % 4]);
	}
	case K_OFFSET:
		return x & 1 ? (x >> 8) % 4096 : 4095 + (x >> 8) % 3;
	case K_FLAGS:
		return x & r->flag_bits;
	case K_INDEX:
		return (x >> 8) % (n + 2);
	case K_MOVE:
		/* Forward by 0-2 mostly, now and then back, now and then anywhere. */
		if (t->width == 2)
			now = __atomic_load_n((uint16_t *)(r->ram + t->gpa), __ATOMIC_RELAXED);
		else
			now = __atomic_load_n((uint32_t *)(r->ram + t->gpa), __ATOMIC_RELAXED);
		return x % 64 ? now + (x >> 8) % 3 : (x & 64 ? now - 1 : x >> 16);
	default:
		return x >> 8;
	}
}

static void flip(struct race *r, uint64_t *s)
{
	const struct target *t = &r->target[rnd(s) % r->ntargets];
	void *p = r->ram + t->gpa;
	uint64_t v = value(r, t, s);

	if (t->width == 2)
		__atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED);
	else if (t->width == 4)
		__atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED);
	else
		__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}

static void *flipper(void *arg)
{
	struct race *r = arg;
	uint64_t s = 0x9e3779b97f4a7c15ull, flips = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&r->lock);
		for (unsigned int i = 0; i < 16; i++)
			flip(r, &s);
		pthread_mutex_unlock(&r->lock);
		flips += 16;
		/* A mutex is not fair: step aside while the device waits for it. */
		while (__atomic_load_n(&r->refill_wanted, __ATOMIC_RELAXED))
			sched_yield();
	}
	r->flips = flips; /* read after the join */
	return NULL;
}

/* ---- the device ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void failure(struct race *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failures++ >= MAX_FAILURES)
		return;
	fprintf(stderr, "ring_race: %s: ", r->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The chain invariants: every segment inside RAM, lengths that add up. */
static void check_chain(struct race *r, const struct chain *c)
{
	unsigned int nseg = c->nread + c->nwrite;
	uint64_t sum[2] = { 0, 0 };

	if (nseg < 1 || nseg > CHAIN_MAX_SEGS || c->ndesc < nseg) {
		failure(r, "chain %u: %u + %u segments from %u descriptors", c->id, c->nread,
			c->nwrite, c->ndesc);
		return;
	}
	for (unsigned int i = 0; i < nseg; i++) {
		const uint8_t *p = c->seg[i].iov_base;
		size_t len = c->seg[i].iov_len;

		if (p < r->ram || len < 1 || len > RAM_SIZE ||
		    (size_t)(p - r->ram) > RAM_SIZE - len)
			failure(r, "chain %u segment %u: %p + %zu is not inside RAM [%p, +0x%x)",
				c->id, i, (const void *)p, len, (void *)r->ram, RAM_SIZE);
		sum[i >= c->nread] += len;
	}
	if (sum[0] != c->read_len || sum[1] != c->write_len)
		failure(r, "chain %u: segments add up to %llu + %llu, the chain says %llu + %llu",
			c->id, (unsigned long long)sum[0], (unsigned long long)sum[1],
			(unsigned long long)c->read_len, (unsigned long long)c->write_len);
}

static void note_broken(struct race *r)
{
	if (!r->first_error[0])
		snprintf(r->first_error, sizeof(r->first_error), "%s", queue_error(&r->q[0]));
	r->broken++;
}

static void *device(void *arg)
{
	static struct chain c;
	struct race *r = arg;
	uint64_t s = 0x2545f4914f6cdd1dull;
	unsigned int k = 0;

	refill(r);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		struct queue *q;
		uint64_t x = rnd(&s);
		int got;

		/* Draft III: both queues, as the block model uses them. */
		if (r->layout == LG_RING_DRAFT3)
			k = x & 1;
		q = &r->q[k];
		if (x % 16 == 0)
			queue_disable_notify(q);
		got = queue_pop(q, &c);
		if (got == 1) {
			r->pops++;
			check_chain(r, &c);
			/*
			 * Now and then join an in buffer to an out chain, as
			 * the block model does with the id a request names:
			 * here the next one on the in ring (as a guest value,
			 * it may be anything by the time join looks).
			 */
			if (r->layout == LG_RING_DRAFT3 && k == QUEUE_D3_OUT && x % 4 == 1 &&
			    d3_dev_queue_has_avail(&r->d3, true)) {
				const struct d3_avail *avail = r->d3_drv[QUEUE_D3_IN].avail;
				uint32_t id = __atomic_load_n(
					&avail->ring[r->d3.in.last_avail % D3_NUM_DESCS],
					__ATOMIC_RELAXED);

				if (d3_dev_join(&r->d3, &c, id) == 1) {
					r->joins++;
					check_chain(r, &c);
				}
			}
			if (queue_push(q, &c, (uint32_t)(x >> 16) % 8192))
				r->pushes++;
			if (x % 8 == 3)
				queue_should_signal(q);
		} else if (got == 0 && !queue_enable_notify(q) && !queue_has_buffers(q)) {
			queue_depth(q);
			/* Empty: well, once both draft3 queues are. */
			if (r->layout != LG_RING_DRAFT3 || queue_pop(&r->q[!k], &c) == 0)
				refill(r);
		}
		if (queue_broken(q)) {
			note_broken(r);
			refill(r);
		}
	}
	queue_destroy(&r->q[0]);
	return NULL;
}

static bool run(const char *name, uint8_t layout, double seconds)
{
	static struct race r;
	struct timespec t = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
	pthread_t dev, flip_thread;
	bool ok;

	memset(&r, 0, sizeof(r));
	r.name = name;
	r.layout = layout;
	r.ram = aligned_alloc(4096, RAM_SIZE);
	r.priv = malloc(split_drv_priv_bytes(QSIZE) > packed_drv_priv_bytes(QSIZE)
				? split_drv_priv_bytes(QSIZE)
				: packed_drv_priv_bytes(QSIZE));
	if (!r.ram || !r.priv) {
		fprintf(stderr, "ring_race: out of memory\n");
		exit(1);
	}
	memset(r.ram, 0, RAM_SIZE);
	r.mem = (struct guest_mem){ .base = r.ram, .size = RAM_SIZE, .fd = -1 };
	pthread_mutex_init(&r.lock, NULL);
	find_targets(&r);

	if (pthread_create(&dev, NULL, device, &r) ||
	    pthread_create(&flip_thread, NULL, flipper, &r)) {
		fprintf(stderr, "ring_race: cannot start threads\n");
		exit(1);
	}
	nanosleep(&t, NULL);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(dev, NULL);
	pthread_join(flip_thread, NULL);

	ok = !r.failures;
	printf("%s race/%s: %llu pops, %llu pushes, %llu rings filled, %llu broken queues "
	       "re-created, %llu flips, %llu chains broke a rule\n",
	       ok ? "ok  " : "FAIL", name, (unsigned long long)r.pops, (unsigned long long)r.pushes,
	       (unsigned long long)r.rounds, (unsigned long long)r.broken,
	       (unsigned long long)r.flips, (unsigned long long)r.failures);
	if (r.joins)
		printf("     race/%s: %llu in buffers joined\n", name, (unsigned long long)r.joins);
	if (r.first_error[0])
		printf("     race/%s: first broken rule: %s\n", name, r.first_error);
	free(r.priv);
	free(r.ram);
	pthread_mutex_destroy(&r.lock);
	return ok;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	unsigned int passed = 0, failed = 0;
	static const struct {
		const char *name;
		uint8_t layout;
	} layouts[] = {
		{ "draft3", LG_RING_DRAFT3 },
		{ "split", LG_RING_SPLIT },
		{ "packed", LG_RING_PACKED },
	};

	if (seconds <= 0) {
		fprintf(stderr, "usage: ring_race [SECONDS per layout]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned int i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (run(layouts[i].name, layouts[i].layout, seconds))
			passed++;
		else
			failed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
