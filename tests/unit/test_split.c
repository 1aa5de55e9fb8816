// SPDX-License-Identifier: GPL-2.0
/*
 * test_split.c: both halves of the virtio 1.x split virtqueue, talking to
 * each other through a fake guest RAM.
 *
 * The "guest" is 16 MiB of page-aligned memory (big enough that a chain of
 * 256 descriptors can add up to more than 4 GiB).  The driver
 * (guest/ring/split_drv.c) lays its ring out at RING and is handed host
 * pointers; the device (launcher/ring/split_dev.c) is told the three
 * guest-physical addresses and finds them through guest_ptr(), as the
 * launcher would.  Indirect tables live at INDIR, data buffers above DATA.
 *
 * Where a test needs the guest to misbehave it writes the ring by hand
 * (set_desc(), raw_publish()), since our own driver never would.  Every
 * such test checks the device's verdict: broken, the exact message (queue
 * name first), every later call failing, and not a byte of the ring (the
 * used ring above all) written after the snapshot taken just before the
 * call that broke it.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "guest_mem.h"
#include "ring/split_dev.h"
#include "split_drv.h"

#define RAM_SIZE (16u << 20)
#define RING	 0x10000  /* the driver's ring memory (up to 832 KiB) */
#define INDIR	 0x200000 /* indirect tables */
#define DATA	 0x400000 /* data buffers from here to the end */
#define QSIZE	 256	  /* the usual queue size in these tests */
#define NAME	 "requestq"

/* Tokens are opaque to the queue; these are never dereferenced. */
#define TOK(i) ((void *)(uintptr_t)((i) + 1))

#define F_NEXT	   VRING_DESC_F_NEXT
#define F_WRITE	   VRING_DESC_F_WRITE
#define F_INDIRECT VRING_DESC_F_INDIRECT

struct fx {
	uint8_t *ram;
	struct guest_mem mem;
	struct split_dev dev;
	struct split_drv drv;
	void *priv;
	uint16_t size;
	struct chain c, c2;
	uint8_t *snap;
	size_t snap_len;
};

/* ---- the fixture ------------------------------------------------------ */

static uint64_t gpa_of(struct fx *f, const void *p)
{
	return (uint64_t)((const uint8_t *)p - f->ram);
}

static uint16_t *used_event(struct fx *f)
{
	return &f->drv.avail->ring[f->size];
}

static uint16_t *avail_event(struct fx *f)
{
	return (uint16_t *)&f->drv.used->ring[f->size];
}

/* A fresh queue of @size on both sides. */
static void fx_init(struct fx *f, uint16_t size, bool event_idx, bool indirect)
{
	split_dev_destroy(&f->dev);
	/* Scribble first: init must zero the ring itself. */
	memset(f->ram + RING, 0x5a, split_drv_ring_bytes(SPLIT_MAX_SIZE));
	f->size = size;
	split_drv_init(&f->drv, size, f->ram + RING, f->priv, event_idx);
	assert_false(f->drv.broken);
	assert_true(split_dev_init(&f->dev, &f->mem, NAME, size, RING, gpa_of(f, f->drv.avail),
				   gpa_of(f, f->drv.used), event_idx, indirect));
	assert_false(f->dev.broken);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = aligned_alloc(4096, RAM_SIZE);
	f->priv = malloc(split_drv_priv_bytes(SPLIT_MAX_SIZE));
	f->snap = malloc(split_drv_ring_bytes(SPLIT_MAX_SIZE));
	if (!f->ram || !f->priv || !f->snap)
		return -1;
	memset(f->ram, 0, RAM_SIZE);
	f->mem = (struct guest_mem){ .base = f->ram, .size = RAM_SIZE };
	fx_init(f, QSIZE, false, true);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	split_dev_destroy(&f->dev);
	free(f->snap);
	free(f->priv);
	free(f->ram);
	free(f);
	return 0;
}

/*
 * Move every index of a fresh, idle queue to @s on both sides, as if
 * s buffers had already gone round: the way to test the 16-bit wrap.
 */
static void set_indices(struct fx *f, uint16_t s)
{
	f->drv.avail->idx = s;
	f->drv.used->idx = s;
	f->drv.avail_idx = s;
	f->drv.last_used = s;
	f->dev.last_avail = s;
	f->dev.used_idx = s;
	f->dev.signalled_used = s;
	if (f->drv.event_idx) {
		*used_event(f) = s;
		*avail_event(f) = s;
	}
}

/* Add a one-segment buffer. */
static int add1(struct fx *f, uint64_t gpa, uint32_t len, bool writable, void *token)
{
	struct lg_sg sg = { gpa, len };

	return split_drv_add(&f->drv, &sg, writable ? 0 : 1, writable ? 1 : 0, token);
}

/* Add a buffer of @out + @in segments of 64 bytes, each in a page of its own. */
static int addn(struct fx *f, unsigned int out, unsigned int in, void *token)
{
	static struct lg_sg sg[1024];

	for (unsigned int i = 0; i < out + in; i++)
		sg[i] = (struct lg_sg){ DATA + (uint64_t)i * 4096 + 8, 64 };
	return split_drv_add(&f->drv, sg, out, in, token);
}

/* A misbehaving guest: write descriptor @i by hand. */
static void set_desc(struct fx *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	f->drv.desc[i] = (struct vring_desc){ addr, len, flags, next };
}

/* The same in the indirect table at @table_gpa. */
static void set_idesc(struct fx *f, uint64_t table_gpa, uint32_t i, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next };

	memcpy(f->ram + table_gpa + 16 * (uint64_t)i, &d, sizeof(d));
}

/* Make @head available without the driver's help. */
static void raw_publish(struct fx *f, uint16_t head)
{
	struct vring_avail *a = f->drv.avail;

	a->ring[a->idx & (f->size - 1)] = head;
	a->idx++;
}

/* A chain that owns nothing but the head we want to give back. */
static struct chain *fake_chain(struct fx *f, uint32_t id, uint64_t write_len)
{
	struct chain *c = &f->c2;

	c->nread = c->nwrite = 0;
	c->read_len = 0;
	c->write_len = write_len;
	c->id = id;
	c->in_id = CHAIN_NO_ID;
	c->ndesc = 0;
	return c;
}

static void snapshot(struct fx *f)
{
	f->snap_len = split_drv_ring_bytes(f->size);
	memcpy(f->snap, f->ram + RING, f->snap_len);
}

/*
 * The device must be broken with exactly NAME ": " @msg, and every call
 * must now fail without touching the ring.
 */
static void assert_broken(struct fx *f, const char *msg)
{
	char want[sizeof(f->dev.error) + 16];
	uint16_t last_avail = f->dev.last_avail, used_idx = f->dev.used_idx;

	snprintf(want, sizeof(want), "%s: %s", NAME, msg);
	assert_true(f->dev.broken);
	assert_string_equal(f->dev.error, want);

	assert_int_equal(split_dev_pop(&f->dev, &f->c), -1);
	assert_false(split_dev_push(&f->dev, fake_chain(f, 0, 1), 1));
	assert_false(split_dev_has_avail(&f->dev));
	split_dev_disable_notify(&f->dev);
	assert_false(split_dev_enable_notify(&f->dev));
	assert_false(split_dev_should_signal(&f->dev));

	/* The first error stays; nothing moved or was written since the snapshot. */
	assert_string_equal(f->dev.error, want);
	assert_int_equal(f->dev.last_avail, last_avail);
	assert_int_equal(f->dev.used_idx, used_idx);
	assert_int_equal(f->snap_len, split_drv_ring_bytes(f->size));
	assert_memory_equal(f->snap, f->ram + RING, f->snap_len);
}

/* Snapshot, pop, which must fail with @msg. */
static void pop_fails(struct fx *f, const char *msg)
{
	snapshot(f);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), -1);
	assert_broken(f, msg);
}

/* The driver must be broken with @msg, and give nothing more. */
static void assert_drv_broken(struct fx *f, const char *msg)
{
	struct split_drv *q = &f->drv;
	uint16_t last_used = q->last_used;
	uint32_t len;

	assert_true(q->broken);
	assert_non_null(q->error);
	assert_string_equal(q->error, msg);
	assert_null(split_drv_get_used(q, &len));
	assert_false(split_drv_has_used(q));
	assert_int_equal(add1(f, DATA, 8, false, TOK(99)), -1);
	assert_false(split_drv_publish(q));
	assert_int_equal(q->last_used, last_used);
	assert_string_equal(q->error, msg);
}

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic, good enough to shuffle. */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* ---- layout and init ---------------------------------------------------- */

static void test_layout(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	uint8_t *ring = f->ram + RING;

	/* desc | avail (4 + 2 * size + 2) | pad to 4 | used (4 + 8 * size + 2). */
	assert_int_equal(split_drv_ring_bytes(1), 16 + 8 + 14);
	assert_int_equal(split_drv_ring_bytes(2), 32 + 10 + 2 + 22);
	assert_int_equal(split_drv_ring_bytes(256), 4096 + 518 + 2 + 2054);
	assert_int_equal(split_drv_ring_bytes(32768), 524288 + 65542 + 2 + 262150);
	assert_int_equal(split_drv_priv_bytes(256), 256 * (sizeof(void *) + 2));

	assert_ptr_equal(q->desc, ring);
	assert_ptr_equal(q->avail, ring + 4096);
	assert_ptr_equal(q->used, ring + 4616);
	assert_ptr_equal(used_event(f), ring + 4096 + 4 + 512);
	assert_ptr_equal(avail_event(f), ring + 4616 + 4 + 2048);
	assert_ptr_equal(f->dev.desc, q->desc);
	assert_ptr_equal(f->dev.avail, q->avail);
	assert_ptr_equal(f->dev.used, q->used);
	assert_int_equal(f->dev.size, 256);
	assert_non_null(f->dev.in_flight);

	/* Init zeroed the ring (fx_init() scribbled on it) but the free list. */
	for (unsigned int i = 0; i < 256; i++) {
		assert_int_equal(q->desc[i].addr, 0);
		assert_int_equal(q->desc[i].len, 0);
		assert_int_equal(q->desc[i].flags, 0);
		assert_int_equal(q->desc[i].next, i < 255 ? i + 1 : 0);
		assert_null(q->token[i]);
		assert_int_equal(q->ndescs[i], 0);
	}
	for (size_t i = 4096; i < split_drv_ring_bytes(256); i++)
		assert_int_equal(ring[i], 0);
	assert_int_equal(q->num_free, 256);
	assert_int_equal(q->free_head, 0);
	assert_int_equal(q->avail_idx, 0);
	assert_int_equal(q->last_used, 0);
	assert_false(q->cb_disabled);
	/* Beyond the ring, init wrote nothing. */
	assert_int_equal(ring[split_drv_ring_bytes(256)], 0x5a);

	/* The smallest queue: avail right after one descriptor, no padding. */
	fx_init(f, 1, true, false);
	assert_ptr_equal(q->avail, ring + 16);
	assert_ptr_equal(q->used, ring + 24);
	assert_int_equal(q->num_free, 1);
	fx_init(f, 2, false, false);
	assert_ptr_equal(q->used, ring + 44);
}

static void test_drv_init_bad_size(void **state)
{
	struct fx *f = *state;
	const uint16_t bad[] = { 0, 3, 100, 32769, 65535 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct split_drv q;
		struct lg_sg sg = { DATA, 8 };

		split_drv_init(&q, bad[i], f->ram + RING, f->priv, false);
		assert_true(q.broken);
		assert_string_equal(q.error, "queue size is not a power of two in 1..32768");
		assert_int_equal(split_drv_add(&q, &sg, 1, 0, TOK(0)), -1);
		assert_false(split_drv_publish(&q));
		assert_null(split_drv_get_used(&q, NULL));
	}
}

/* split_dev_init() must fail with @msg, and leave a queue that does nothing. */
static void init_fails(struct fx *f, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		       const char *msg)
{
	struct split_dev d;
	char want[256];

	snprintf(want, sizeof(want), "%s: %s", NAME, msg);
	memset(&d, 0xa5, sizeof(d));
	assert_false(split_dev_init(&d, &f->mem, NAME, size, desc, avail, used, true, true));
	assert_true(d.broken);
	assert_string_equal(d.error, want);
	assert_null(d.in_flight);
	assert_int_equal(split_dev_pop(&d, &f->c), -1);
	assert_false(split_dev_push(&d, fake_chain(f, 0, 0), 0));
	assert_false(split_dev_has_avail(&d));
	assert_false(split_dev_enable_notify(&d));
	assert_false(split_dev_should_signal(&d));
	split_dev_destroy(&d);
}

/* split_dev_init() must succeed with these parts. */
static void init_ok(struct fx *f, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct split_dev d;

	assert_true(split_dev_init(&d, &f->mem, NAME, size, desc, avail, used, false, false));
	assert_false(d.broken);
	assert_ptr_equal(d.desc, f->ram + desc);
	assert_ptr_equal(d.avail, f->ram + avail);
	assert_ptr_equal(d.used, f->ram + used);
	split_dev_destroy(&d);
}

static void test_dev_init(void **state)
{
	struct fx *f = *state;
	const uint64_t end = RAM_SIZE;

	/* Sizes: powers of two from 1 to 32768, nothing else. */
	init_fails(f, 0, RING, RING + 0x1000, RING + 0x2000,
		   "queue size 0 is not a power of two in 1..32768");
	init_fails(f, 3, RING, RING + 0x1000, RING + 0x2000,
		   "queue size 3 is not a power of two in 1..32768");
	init_fails(f, 255, RING, RING + 0x1000, RING + 0x2000,
		   "queue size 255 is not a power of two in 1..32768");
	init_fails(f, 65535, RING, RING + 0x1000, RING + 0x2000,
		   "queue size 65535 is not a power of two in 1..32768");
	for (unsigned int s = 1; s <= SPLIT_MAX_SIZE; s <<= 1)
		init_ok(f, (uint16_t)s, RING, RING + 0x80000, RING + 0xa0000);

	/* Alignment: desc 16, avail 2, used 4. */
	init_fails(f, 256, RING + 8, RING + 0x1000, RING + 0x2000,
		   "descriptor table at 0x10008 is not 16-byte aligned");
	init_fails(f, 256, RING, RING + 0x1001, RING + 0x2000,
		   "available ring at 0x11001 is not 2-byte aligned");
	init_fails(f, 256, RING, RING + 0x1000, RING + 0x2002,
		   "used ring at 0x12002 is not 4-byte aligned");
	init_ok(f, 256, RING + 16, RING + 0x1002, RING + 0x2004);

	/* Each part right against the end of RAM, then one step beyond. */
	init_ok(f, 256, end - 4096, RING + 0x1000, RING + 0x2000);
	init_fails(f, 256, end - 4096 + 16, RING + 0x1000, RING + 0x2000,
		   "descriptor table at 0xfff010 (4096 bytes) is outside guest RAM");
	/* The 2-byte used_event after avail->ring[] counts... */
	init_ok(f, 256, RING, end - 518, RING + 0x2000);
	init_fails(f, 256, RING, end - 516, RING + 0x2000,
		   "available ring at 0xfffdfc (518 bytes) is outside guest RAM");
	/* ...and so does avail_event after used->ring[]. */
	init_ok(f, 256, RING, RING + 0x1000, end - 2056);
	init_fails(f, 256, RING, RING + 0x1000, end - 2052,
		   "used ring at 0xfff7fc (2054 bytes) is outside guest RAM");
	/* Far outside, and where gpa + bytes would wrap to something small. */
	init_fails(f, 256, UINT64_MAX - 15, RING + 0x1000, RING + 0x2000,
		   "descriptor table at 0xfffffffffffffff0 (4096 bytes) is outside guest RAM");
	init_fails(f, 256, RING, UINT64_MAX - 1, RING + 0x2000,
		   "available ring at 0xfffffffffffffffe (518 bytes) is outside guest RAM");
	init_fails(f, 32768, RING, RING + 0x1000, end - 0x1000,
		   "used ring at 0xfff000 (262150 bytes) is outside guest RAM");
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	struct vring_desc *d = q->desc;
	const char msg[] = "0123456789";
	const char reply[] = "the device speaks";
	struct lg_sg sg[4] = { { DATA + 5, 10 },
			       { DATA + 0x1003, 4096 },
			       { DATA + 0x3000, 100 },
			       { DATA + 0x5001, 7 } };
	uint32_t len = 1234;
	int head;

	memcpy(f->ram + DATA + 5, msg, 10);
	memset(f->ram + DATA + 0x1003, 'x', 4096);
	head = split_drv_add(q, sg, 2, 2, TOK(7));
	assert_int_equal(head, 0);

	/* What the driver wrote: two readable, two writable, chained 0..3. */
	assert_int_equal(d[0].addr, DATA + 5);
	assert_int_equal(d[0].len, 10);
	assert_int_equal(d[0].flags, F_NEXT);
	assert_int_equal(d[0].next, 1);
	assert_int_equal(d[1].addr, DATA + 0x1003);
	assert_int_equal(d[1].flags, F_NEXT);
	assert_int_equal(d[1].next, 2);
	assert_int_equal(d[2].flags, F_WRITE | F_NEXT);
	assert_int_equal(d[2].next, 3);
	assert_int_equal(d[3].addr, DATA + 0x5001);
	assert_int_equal(d[3].len, 7);
	assert_int_equal(d[3].flags, F_WRITE);
	assert_int_equal(q->num_free, 252);
	assert_int_equal(q->free_head, 4);
	assert_int_equal(q->ndescs[0], 4);
	assert_ptr_equal(q->token[0], TOK(7));

	/* In the ring, but not published: the device sees nothing. */
	assert_int_equal(q->avail->ring[0], 0);
	assert_int_equal(q->avail->idx, 0);
	assert_int_equal(q->avail_idx, 1);
	assert_int_equal(q->num_added, 1);
	assert_false(split_dev_has_avail(&f->dev));
	assert_int_equal(split_dev_pop(&f->dev, c), 0);

	assert_true(split_drv_publish(q));
	assert_int_equal(q->avail->idx, 1);
	assert_int_equal(q->num_added, 0);
	assert_true(split_dev_has_avail(&f->dev));
	/* Nothing new: nothing to publish, no notify wanted. */
	assert_false(split_drv_publish(q));

	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->id, 0);
	assert_int_equal(c->in_id, CHAIN_NO_ID);
	assert_int_equal(c->nread, 2);
	assert_int_equal(c->nwrite, 2);
	assert_int_equal(c->ndesc, 4);
	assert_int_equal(c->read_len, 4106);
	assert_int_equal(c->write_len, 107);
	for (unsigned int i = 0; i < 4; i++) {
		assert_ptr_equal(c->seg[i].iov_base, f->ram + sg[i].gpa);
		assert_int_equal(c->seg[i].iov_len, sg[i].len);
	}
	assert_ptr_equal(chain_writable(c), &c->seg[2]);
	assert_memory_equal(c->seg[0].iov_base, msg, 10);
	assert_int_equal(f->dev.in_flight[0], 1);
	assert_int_equal(f->dev.last_avail, 1);
	assert_false(split_dev_has_avail(&f->dev));
	/* A pop that finds nothing empties c: keep ours. */
	assert_int_equal(split_dev_pop(&f->dev, &f->c2), 0);
	assert_int_equal(f->c2.id, CHAIN_NO_ID);
	assert_int_equal(f->c2.nread + f->c2.nwrite, 0);

	/* Not used yet: the guest gets nothing. */
	assert_false(split_drv_has_used(q));
	assert_null(split_drv_get_used(q, &len));

	/* Written is capped at what the writable part holds (100 + 7). */
	memcpy(chain_writable(c)[0].iov_base, reply, sizeof(reply));
	assert_true(split_dev_push(&f->dev, c, 5000));
	assert_int_equal(f->dev.in_flight[0], 0);
	assert_int_equal(q->used->idx, 1);
	assert_int_equal(q->used->ring[0].id, 0);
	assert_int_equal(q->used->ring[0].len, 107);

	assert_true(split_drv_has_used(q));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(7));
	assert_int_equal(len, 107);
	assert_memory_equal(f->ram + DATA + 0x3000, reply, sizeof(reply));
	assert_null(split_drv_get_used(q, &len));
	assert_int_equal(q->num_free, 256);
	assert_int_equal(q->free_head, 0);
	assert_null(q->token[0]);
	assert_int_equal(q->ndescs[0], 0);

	/* Readable only: nothing to write, so the used length is 0. */
	head = add1(f, DATA + 64, 33, false, TOK(8));
	assert_int_equal(head, 0);
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->nread, 1);
	assert_int_equal(c->nwrite, 0);
	assert_int_equal(c->read_len, 33);
	assert_int_equal(c->write_len, 0);
	assert_true(split_dev_push(&f->dev, c, 5));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(8));
	assert_int_equal(len, 0);

	/* Writable only. */
	head = add1(f, DATA + 128, 40, true, TOK(9));
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->id, head);
	assert_int_equal(c->nread, 0);
	assert_int_equal(c->nwrite, 1);
	assert_int_equal(c->write_len, 40);
	assert_ptr_equal(chain_writable(c)[0].iov_base, f->ram + DATA + 128);
	assert_int_equal(q->desc[head].flags, F_WRITE);
	assert_true(split_dev_push(&f->dev, c, 40));
	assert_ptr_equal(split_drv_get_used(q, NULL), TOK(9));
	assert_int_equal(q->used->idx, 3);
	assert_false(f->dev.broken);
	assert_false(q->broken);
}

/* One buffer may take the whole table, and then nothing else fits. */
static void test_chain_whole_table(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	struct lg_sg sg[QSIZE];
	uint64_t rlen = 0, wlen = 0;
	uint32_t len;

	for (unsigned int i = 0; i < QSIZE; i++) {
		sg[i] = (struct lg_sg){ DATA + i * 3001ull, 1 + (i * 37) % 5000 };
		if (i < 100)
			rlen += sg[i].len;
		else
			wlen += sg[i].len;
	}
	assert_int_equal(split_drv_add(q, sg, 100, 156, TOK(0)), 0);
	assert_int_equal(q->num_free, 0);
	assert_int_equal(add1(f, DATA, 1, false, TOK(1)), -1);
	assert_true(split_drv_publish(q));

	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->ndesc, QSIZE);
	assert_int_equal(c->nread, 100);
	assert_int_equal(c->nwrite, 156);
	assert_int_equal(c->read_len, rlen);
	assert_int_equal(c->write_len, wlen);
	for (unsigned int i = 0; i < QSIZE; i++) {
		assert_ptr_equal(c->seg[i].iov_base, f->ram + sg[i].gpa);
		assert_int_equal(c->seg[i].iov_len, sg[i].len);
	}
	assert_true(split_dev_push(&f->dev, c, 77));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(0));
	assert_int_equal(len, 77);
	assert_int_equal(q->num_free, QSIZE);

	/* By hand: all 256, linked backwards from head 255. */
	fx_init(f, QSIZE, false, false);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(f, (uint16_t)i, DATA + i, 1, i ? F_NEXT : 0, (uint16_t)(i - 1));
	raw_publish(f, QSIZE - 1);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->id, QSIZE - 1);
	assert_int_equal(c->ndesc, QSIZE);
	assert_int_equal(c->read_len, QSIZE);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + DATA + 255);
	assert_ptr_equal(c->seg[255].iov_base, f->ram + DATA);

	/* The smallest queue: one descriptor, one buffer. */
	fx_init(f, 1, false, false);
	assert_int_equal(add1(f, DATA, 10, true, TOK(0)), 0);
	assert_int_equal(add1(f, DATA, 10, true, TOK(1)), -1);
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 3));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(0));
	assert_int_equal(len, 3);
	assert_int_equal(add1(f, DATA, 10, true, TOK(2)), 0);
}

static void test_full_queue(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	struct lg_sg sg[2] = { { DATA, 8 }, { DATA + 8, 8 } };
	uint32_t len;

	/* Bad arguments change nothing. */
	assert_int_equal(split_drv_add(q, sg, 0, 0, TOK(0)), -1);
	assert_int_equal(split_drv_add(q, sg, 1, 0, NULL), -1);
	assert_int_equal(split_drv_add(q, sg, QSIZE + 1, 0, TOK(0)), -1);
	assert_int_equal(split_drv_add(q, sg, 200, 57, TOK(0)), -1);
	/* out + in wraps to 1: must not pass as one segment. */
	assert_int_equal(split_drv_add(q, sg, UINT32_MAX, 2, TOK(0)), -1);
	assert_int_equal(split_drv_add(q, sg, 2, UINT32_MAX, TOK(0)), -1);
	assert_int_equal(q->num_free, QSIZE);
	assert_int_equal(q->num_added, 0);

	for (unsigned int i = 0; i < QSIZE; i++)
		assert_int_equal(add1(f, DATA + i, 1, false, TOK(i)), i);
	assert_int_equal(q->num_free, 0);
	assert_int_equal(add1(f, DATA, 1, false, TOK(999)), -1);
	assert_true(split_drv_publish(q));
	/* Exactly a queue's worth ahead: fine. */
	assert_int_equal(q->avail->idx, QSIZE);

	for (unsigned int i = 0; i < QSIZE; i++) {
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
		assert_int_equal(c->id, i);
	}
	assert_int_equal(split_dev_pop(&f->dev, c), 0);
	/* Still full until the device gives one back. */
	assert_int_equal(add1(f, DATA, 1, false, TOK(999)), -1);
	assert_true(split_dev_push(&f->dev, fake_chain(f, 17, 0), 0));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(17));
	assert_int_equal(add1(f, DATA, 1, false, TOK(1000)), 17);
	/* Two segments do not fit in one free descriptor. */
	assert_true(split_dev_push(&f->dev, fake_chain(f, 3, 0), 0));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(3));
	assert_int_equal(addn(f, 1, 1, TOK(1001)), -1);
	assert_int_equal(addn(f, 0, 1, TOK(1001)), 3);
	assert_false(f->dev.broken);

	/* A full queue across the wrap: 256 ahead, from 65400 to 120. */
	fx_init(f, QSIZE, true, false);
	set_indices(f, 65400);
	for (unsigned int i = 0; i < QSIZE; i++)
		assert_int_equal(add1(f, DATA + i, 1, false, TOK(i)), i);
	assert_true(split_drv_publish(q));
	assert_int_equal(q->avail->idx, 120);
	for (unsigned int i = 0; i < QSIZE; i++) {
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
		assert_int_equal(c->id, i);
		assert_true(split_dev_push(&f->dev, c, 0));
	}
	for (unsigned int i = 0; i < QSIZE; i++)
		assert_ptr_equal(split_drv_get_used(q, &len), TOK(i));
	assert_int_equal(q->used->idx, 120);
	assert_false(f->dev.broken);
	assert_false(q->broken);
}

/* The device completes in any order; the driver reaps in completion order. */
static void test_out_of_order(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	const unsigned int order[8] = { 5, 0, 7, 2, 3, 6, 1, 4 };
	int head[8];
	uint32_t len;

	for (unsigned int i = 0; i < 8; i++) {
		head[i] = addn(f, 1, i % 3, TOK(i));
		assert_true(head[i] >= 0);
	}
	assert_int_equal(q->num_free, QSIZE - 8 - (0 + 1 + 2 + 0 + 1 + 2 + 0 + 1));
	split_drv_publish(q);
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
		assert_int_equal(c->id, head[i]);
		assert_int_equal(c->ndesc, 1 + i % 3);
	}
	for (unsigned int k = 0; k < 8; k++) {
		unsigned int i = order[k];

		assert_true(split_dev_push(&f->dev, fake_chain(f, (uint32_t)head[i], 64 * (i % 3)),
					   10 * i));
	}
	for (unsigned int k = 0; k < 8; k++) {
		unsigned int i = order[k];

		uint32_t cap = 64 * (i % 3);

		assert_ptr_equal(split_drv_get_used(q, &len), TOK(i));
		/* Capped at write_len: 0 for readable-only ones, 64 for 7. */
		assert_int_equal(len, 10 * i < cap ? 10 * i : cap);
	}
	assert_null(split_drv_get_used(q, &len));
	assert_int_equal(q->num_free, QSIZE);

	/* The free list survived the reshuffle: every descriptor is reachable. */
	for (unsigned int i = 0; i < QSIZE; i++)
		assert_true(add1(f, DATA, 1, false, TOK(i)) >= 0);
	assert_int_equal(add1(f, DATA, 1, false, TOK(0)), -1);
	assert_false(f->dev.broken);
}

/* ---- traffic: many laps of the 16-bit indices ------------------------------ */

#define SIM_MAX_SEGS 8

struct sim_buf {
	unsigned int out, in;
	bool indirect;
	struct lg_sg sg[SIM_MAX_SEGS];
	uint64_t read_len, write_len;
};

/*
 * Push @total buffers through the queue: the guest adds random batches of
 * buffers of 1..4 segments (or, when the device takes them, indirect ones
 * of 1..8) with a random split between readable and writable, while it has
 * descriptors; the device pops everything, checks each chain is exactly
 * what was added, and gives back either all of them in order or, with
 * @shuffle, a random subset in random order (the rest stay in flight
 * across rounds); the guest reaps and checks it gets tokens and lengths in
 * the order the device pushed them.
 */
static void run_traffic(struct fx *f, unsigned int total, bool shuffle)
{
	struct split_drv *q = &f->drv;
	struct sim_buf *buf = calloc(total, sizeof(*buf));
	struct sim_buf **expect = calloc(total, sizeof(*expect));
	uint32_t *expect_len = calloc(total, sizeof(*expect_len));
	unsigned int of_head[QSIZE], inflight[QSIZE], ninflight = 0;
	unsigned int added = 0, pushed = 0, reaped = 0;
	uint16_t start = q->avail_idx;
	struct chain *c = &f->c;
	int r;

	assert_non_null(buf);
	assert_non_null(expect);
	assert_non_null(expect_len);
	assert_true(f->size <= QSIZE);
	while (reaped < total) {
		unsigned int batch = 1 + rnd() % f->size;

		/* Guest: add a batch and publish it. */
		for (unsigned int k = 0; k < batch && added < total; k++) {
			struct sim_buf *b = &buf[added];
			unsigned int n;
			int head;

			b->indirect = f->dev.indirect && rnd() % 4 == 0;
			n = 1 + rnd() % (b->indirect ? SIM_MAX_SEGS : 4);
			if (q->num_free < (b->indirect ? 1 : n))
				break;
			b->out = rnd() % (n + 1);
			b->in = n - b->out;
			for (unsigned int i = 0; i < n; i++) {
				b->sg[i].gpa = DATA + rnd() % (RAM_SIZE - DATA - 4096);
				b->sg[i].len = 1 + rnd() % 4096;
				if (i < b->out)
					b->read_len += b->sg[i].len;
				else
					b->write_len += b->sg[i].len;
			}
			if (b->indirect) {
				/* A table per head: free again once the head is. */
				uint64_t t = INDIR + (uint64_t)q->free_head * SIM_MAX_SEGS * 16;

				head = split_drv_add_indirect(q, b->sg, b->out, b->in,
							      (struct vring_desc *)(f->ram + t), t,
							      b);
			} else {
				head = split_drv_add(q, b->sg, b->out, b->in, b);
			}
			assert_true(head >= 0);
			of_head[head] = added++;
		}
		split_drv_publish(q);

		/* Device: pop everything, checking it. */
		while ((r = split_dev_pop(&f->dev, c)) == 1) {
			struct sim_buf *b = &buf[of_head[c->id]];
			unsigned int n = b->out + b->in;

			assert_int_equal(c->ndesc, b->indirect ? 1 + n : n);
			assert_int_equal(c->nread, b->out);
			assert_int_equal(c->nwrite, b->in);
			assert_int_equal(c->read_len, b->read_len);
			assert_int_equal(c->write_len, b->write_len);
			for (unsigned int i = 0; i < n; i++) {
				assert_ptr_equal(c->seg[i].iov_base, f->ram + b->sg[i].gpa);
				assert_int_equal(c->seg[i].iov_len, b->sg[i].len);
			}
			inflight[ninflight++] = c->id;
		}
		assert_int_equal(r, 0);

		/* Device: give back all, or some in random order. */
		unsigned int count = ninflight;

		if (shuffle && added < total)
			count = rnd() % (ninflight + 1);
		for (unsigned int k = 0; k < count; k++) {
			unsigned int at = shuffle ? rnd() % ninflight : 0;
			uint32_t h = inflight[at];
			struct sim_buf *b = &buf[of_head[h]];
			uint32_t written = (uint32_t)(rnd() % (b->write_len + 1));

			memmove(&inflight[at], &inflight[at + 1],
				(ninflight - at - 1) * sizeof(inflight[0]));
			ninflight--;
			assert_true(
				split_dev_push(&f->dev, fake_chain(f, h, b->write_len), written));
			expect[pushed] = b;
			expect_len[pushed++] = written;
		}

		/* Guest: reap, in the order the device pushed. */
		void *tok;
		uint32_t len;

		while ((tok = split_drv_get_used(q, &len))) {
			assert_ptr_equal(tok, expect[reaped]);
			assert_int_equal(len, expect_len[reaped]);
			reaped++;
		}
		assert_false(q->broken);
		assert_int_equal(reaped, pushed);
	}
	assert_false(f->dev.broken);
	assert_int_equal(q->num_free, f->size);
	assert_int_equal(q->avail->idx, (uint16_t)(start + total));
	assert_int_equal(q->used->idx, (uint16_t)(start + total));
	assert_int_equal(f->dev.last_avail, (uint16_t)(start + total));
	assert_false(split_dev_has_avail(&f->dev));
	assert_false(split_drv_has_used(q));
	free(buf);
	free(expect);
	free(expect_len);
}

/* 70,000 buffers through 16 slots: over 4,000 laps, and past 65535 once. */
static void test_wrap_in_order(void **state)
{
	struct fx *f = *state;

	rnd_state = 12345;
	fx_init(f, 16, false, false);
	run_traffic(f, 70000, false);
	assert_int_equal(f->drv.used->idx, 70000 - 65536);
}

static void test_wrap_out_of_order(void **state)
{
	struct fx *f = *state;

	rnd_state = 777;
	fx_init(f, 16, true, true);
	run_traffic(f, 70000, true);
	assert_int_equal(f->drv.used->idx, 70000 - 65536);

	/* A bigger queue, with batches of up to 256. */
	fx_init(f, QSIZE, false, true);
	run_traffic(f, 20000, true);
}

/* Start just short of 65535 on both sides, so the wrap comes at once. */
static void test_wrap_from_65530(void **state)
{
	struct fx *f = *state;

	rnd_state = 4242;
	for (unsigned int s = 65530; s <= 65536; s += 3) {
		fx_init(f, 16, s & 1, true);
		set_indices(f, (uint16_t)s);
		run_traffic(f, 3000, s == 65533);
		assert_int_equal(f->drv.used->idx, (uint16_t)(s + 3000));
	}
	fx_init(f, QSIZE, true, true);
	set_indices(f, 65535);
	run_traffic(f, 3000, true);
}

/* ---- notification suppression ------------------------------------------- */

/* Whether @event lies in [old, new), counted modulo 2^16: when to notify. */
static bool in_window(uint16_t event, uint16_t old, uint16_t new)
{
	return (uint16_t)(event - old) < (uint16_t)(new - old);
}

/*
 * Driver side, EVENT_IDX: publishing [old, old + 4) notifies exactly when
 * avail_event is one of those four indices, whatever the wrap.
 */
static void test_event_idx_notify_arithmetic(void **state)
{
	struct fx *f = *state;
	const uint16_t starts[] = { 0, 100, 65530, 65533, 65534, 65535 };

	for (unsigned int s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		unsigned int notifies = 0;

		for (int k = -3; k <= 8; k++) {
			uint16_t old = starts[s], event = (uint16_t)(old + k);
			bool want = k >= 0 && k < 4;
			bool got;

			fx_init(f, QSIZE, true, false);
			set_indices(f, old);
			*avail_event(f) = event;
			for (unsigned int i = 0; i < 4; i++)
				assert_true(add1(f, DATA, 8, false, TOK(i)) >= 0);
			got = split_drv_publish(&f->drv);
			if (got != want)
				fail_msg("start %u, avail_event %u: publish said %d", old, event,
					 got);
			assert_int_equal(got, in_window(event, old, (uint16_t)(old + 4)));
			assert_int_equal(got, vring_need_event(event, old + 4, old));
			assert_int_equal(f->drv.avail->idx, (uint16_t)(old + 4));
			notifies += got;
		}
		assert_int_equal(notifies, 4);
	}
}

/* Driver and device together: avail_event as the device moves it. */
static void test_event_idx_notify_protocol(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	unsigned int notifies = 0;

	fx_init(f, QSIZE, true, false);
	set_indices(f, 65534);

	/* avail_event = 65534: the first publish notifies... */
	add1(f, DATA, 8, false, TOK(0));
	assert_true(split_drv_publish(q));
	/* ...and, the device not asking again, no later one does. */
	for (unsigned int i = 1; i <= 10; i++) {
		add1(f, DATA, 8, false, TOK(i));
		notifies += split_drv_publish(q);
	}
	assert_int_equal(notifies, 0);
	assert_int_equal(q->avail->idx, 9);

	/* disable_notify writes nothing with EVENT_IDX. */
	snapshot(f);
	split_dev_disable_notify(&f->dev);
	assert_memory_equal(f->snap, f->ram + RING, f->snap_len);

	/* The device pops 11 (across the wrap) and asks again: avail_event 9. */
	for (unsigned int i = 0; i <= 10; i++)
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_false(split_dev_enable_notify(&f->dev));
	assert_int_equal(*avail_event(f), 9);
	assert_int_equal(q->used->flags, 0);
	add1(f, DATA, 8, false, TOK(11));
	assert_true(split_drv_publish(q));
	add1(f, DATA, 8, false, TOK(12));
	assert_false(split_drv_publish(q));

	/* Enabling with work pending reports it; avail_event = last_avail. */
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_enable_notify(&f->dev));
	assert_int_equal(*avail_event(f), 10);
	/* Index 10 is already published: this batch [11, 14) does not notify. */
	for (unsigned int i = 13; i < 16; i++)
		add1(f, DATA, 8, false, TOK(i));
	assert_false(split_drv_publish(q));
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_false(split_dev_enable_notify(&f->dev));
	assert_int_equal(*avail_event(f), 14);
	/* A batch of 3 starting at 14 includes it. */
	for (unsigned int i = 16; i < 19; i++)
		add1(f, DATA, 8, false, TOK(i));
	assert_true(split_drv_publish(q));
	/* The flags word stayed 0 throughout (the spec's rule with EVENT_IDX). */
	assert_int_equal(q->used->flags, 0);
	assert_false(f->dev.broken);
}

/*
 * Device side, EVENT_IDX: push one at a time from 65530 and decide after
 * each; a signal exactly when used->idx passes used_event.
 */
static void test_event_idx_signal_arithmetic(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	/* used_event relative to the start: ahead, at, and N behind. */
	const int offsets[] = { 5, 0, 1, 19, 20, -1, -10, -300 };
	const uint16_t starts[] = { 65530, 65535, 0, 1000 };

	for (unsigned int s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (unsigned int o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
			uint16_t start = starts[s], event = (uint16_t)(start + offsets[o]);
			unsigned int signals = 0, at = 0;
			uint16_t ids[20];

			fx_init(f, QSIZE, true, false);
			set_indices(f, start);
			for (unsigned int i = 0; i < 20; i++)
				add1(f, DATA, 8, true, TOK(i));
			split_drv_publish(&f->drv);
			for (unsigned int i = 0; i < 20; i++) {
				assert_int_equal(split_dev_pop(&f->dev, c), 1);
				ids[i] = (uint16_t)c->id;
			}
			/* As if a decision had been made at start. */
			f->dev.signalled_valid = true;
			*used_event(f) = event;
			for (unsigned int i = 0; i < 20; i++) {
				uint16_t before = f->dev.used_idx;
				bool got;

				assert_true(split_dev_push(&f->dev, fake_chain(f, ids[i], 8), 8));
				got = split_dev_should_signal(&f->dev);
				assert_int_equal(got, in_window(event, before, f->dev.used_idx));
				assert_int_equal(got,
						 vring_need_event(event, f->dev.used_idx, before));
				assert_int_equal(f->dev.signalled_used, f->dev.used_idx);
				if (got) {
					signals++;
					at = i + 1;
				}
			}
			/* One signal, after the push that stored entry used_event. */
			if (offsets[o] >= 0 && offsets[o] < 20) {
				assert_int_equal(signals, 1);
				assert_int_equal(at, offsets[o] + 1);
			} else {
				assert_int_equal(signals, 0);
			}
		}
	}
}

static void test_event_idx_signal_protocol(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	uint16_t ids[12];
	uint32_t len;

	fx_init(f, QSIZE, true, false);
	set_indices(f, 65533);
	for (unsigned int i = 0; i < 12; i++)
		add1(f, DATA, 8, true, TOK(i));
	split_drv_publish(q);
	for (unsigned int i = 0; i < 12; i++) {
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
		ids[i] = (uint16_t)c->id;
	}

	/* The first decision signals, even with used_event far behind. */
	*used_event(f) = 1000;
	assert_false(f->dev.signalled_valid);
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[0], 8), 8));
	assert_true(split_dev_should_signal(&f->dev));
	/* Then not: used_event 1000 is not in [65534, 65535). */
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[1], 8), 8));
	assert_false(split_dev_should_signal(&f->dev));

	/* The driver asks (used_event = last_used = 65533): two waiting already. */
	assert_false(split_drv_enable_cb(q));
	assert_int_equal(*used_event(f), 65533);
	/* A batch storing entries 65535 and 0 does not store 65533: no signal. */
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[2], 8), 8));
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[3], 8), 8));
	assert_false(split_dev_should_signal(&f->dev));
	/* Reaping moves used_event on: to 65535, then 0, 1. */
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(0));
	assert_int_equal(*used_event(f), 65534);
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(1));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(2));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(3));
	assert_int_equal(*used_event(f), 1);
	assert_null(split_drv_get_used(q, &len));
	assert_int_equal(*used_event(f), 1);
	/* Entry 1 is the next used: its push signals, the one after does not. */
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[4], 8), 8));
	assert_true(split_dev_should_signal(&f->dev));
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[5], 8), 8));
	assert_false(split_dev_should_signal(&f->dev));

	/* Callbacks off: nothing written, and reaping leaves used_event be. */
	snapshot(f);
	split_drv_disable_cb(q);
	assert_true(q->cb_disabled);
	assert_memory_equal(f->snap, f->ram + RING, f->snap_len);
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(4));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(5));
	assert_int_equal(*used_event(f), 1);
	assert_int_equal(q->avail->flags, 0);
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[6], 8), 8));
	assert_false(split_dev_should_signal(&f->dev));

	/* On again: used_event = last_used (3), and one is waiting. */
	assert_false(split_drv_enable_cb(q));
	assert_false(q->cb_disabled);
	assert_int_equal(*used_event(f), 3);
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(6));
	assert_int_equal(*used_event(f), 4);
	assert_true(split_drv_enable_cb(q));
	assert_true(split_dev_push(&f->dev, fake_chain(f, ids[7], 8), 8));
	assert_true(split_dev_should_signal(&f->dev));
	/* Deciding again without a push never signals. */
	assert_false(split_dev_should_signal(&f->dev));
	assert_false(f->dev.broken);
	assert_false(q->broken);
}

/*
 * 65536 pushes without a decision bring used_idx back to signalled_used;
 * vring_need_event() would see no progress, so the device must forget the
 * old decision point and signal.
 */
static void test_event_idx_signal_after_65536(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;

	fx_init(f, 1, true, false);
	split_drv_disable_cb(q); /* used_event stays 0 */
	add1(f, DATA, 8, false, TOK(0));
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 0));
	assert_true(split_dev_should_signal(&f->dev)); /* first decision */
	assert_ptr_equal(split_drv_get_used(q, NULL), TOK(0));

	for (unsigned int i = 0; i < 65536; i++) {
		assert_int_equal(add1(f, DATA, 8, false, TOK(i)), 0);
		split_drv_publish(q);
		assert_int_equal(split_dev_pop(&f->dev, c), 1);
		assert_true(split_dev_push(&f->dev, c, 0));
		assert_ptr_equal(split_drv_get_used(q, NULL), TOK(i));
	}
	assert_int_equal(f->dev.used_idx, 1);
	assert_int_equal(f->dev.signalled_used, 1);
	assert_false(vring_need_event(0, 1, 1));
	assert_true(split_dev_should_signal(&f->dev));
	/* And the next decision is back to the arithmetic: 0 not in [1, 2). */
	add1(f, DATA, 8, false, TOK(0));
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 0));
	assert_false(split_dev_should_signal(&f->dev));
}

/* Without EVENT_IDX: the two flags, and the event words left alone. */
static void test_flags_without_event_idx(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	uint32_t len;

	fx_init(f, QSIZE, false, false);
	add1(f, DATA, 8, false, TOK(0));
	assert_true(split_drv_publish(q));

	split_dev_disable_notify(&f->dev);
	assert_int_equal(q->used->flags, VRING_USED_F_NO_NOTIFY);
	add1(f, DATA, 8, false, TOK(1));
	assert_false(split_drv_publish(q));
	/* Re-enabling with two waiting: clear the flag, report them. */
	assert_true(split_dev_enable_notify(&f->dev));
	assert_int_equal(q->used->flags, 0);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_false(split_dev_enable_notify(&f->dev));
	add1(f, DATA, 8, false, TOK(2));
	assert_true(split_drv_publish(q));
	assert_int_equal(split_dev_pop(&f->dev, c), 1);

	/* Signals: wanted until the guest sets NO_INTERRUPT. */
	assert_true(split_dev_push(&f->dev, fake_chain(f, 0, 0), 0));
	assert_true(split_dev_should_signal(&f->dev));
	split_drv_disable_cb(q);
	assert_int_equal(q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	assert_true(split_dev_push(&f->dev, fake_chain(f, 1, 0), 0));
	assert_false(split_dev_should_signal(&f->dev));
	/* Reaping with callbacks off changes no flag. */
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(0));
	assert_int_equal(q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	/* Turning them on with one waiting: reap first. */
	assert_false(split_drv_enable_cb(q));
	assert_int_equal(q->avail->flags, 0);
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(1));
	assert_true(split_drv_enable_cb(q));
	assert_true(split_dev_push(&f->dev, fake_chain(f, 2, 0), 0));
	assert_true(split_dev_should_signal(&f->dev));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(2));

	/* The event words are not used without EVENT_IDX. */
	assert_int_equal(*used_event(f), 0);
	assert_int_equal(*avail_event(f), 0);

	/* And with EVENT_IDX the flags words are never written. */
	fx_init(f, QSIZE, true, false);
	split_dev_disable_notify(&f->dev);
	split_drv_disable_cb(q);
	assert_int_equal(q->used->flags, 0);
	assert_int_equal(q->avail->flags, 0);
	/*
	 * ...and the device ignores NO_INTERRUPT if a guest sets it anyway:
	 * after the first decision, used_event = 1 asks for the second push.
	 */
	add1(f, DATA, 8, false, TOK(0));
	add1(f, DATA, 8, false, TOK(1));
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 0));
	assert_true(split_dev_should_signal(&f->dev));
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	*used_event(f) = 1;
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 0));
	assert_true(split_dev_should_signal(&f->dev));
	assert_false(f->dev.broken);
}

/* ---- indirect descriptors ------------------------------------------------ */

static void test_indirect(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	struct vring_desc *t = (struct vring_desc *)(f->ram + INDIR);
	struct lg_sg sg[5] = { { DATA, 16 },
			       { DATA + 0x1001, 300 },
			       { DATA + 0x2002, 1 },
			       { DATA + 0x3000, 4096 },
			       { DATA + 0x5005, 5 } };
	uint32_t len;
	int head;

	head = split_drv_add_indirect(q, sg, 3, 2, t, INDIR, TOK(1));
	assert_int_equal(head, 0);
	assert_int_equal(q->num_free, QSIZE - 1);
	assert_int_equal(q->ndescs[0], 1);
	assert_int_equal(q->free_head, 1);
	/* One ring descriptor naming the table... */
	assert_int_equal(q->desc[0].addr, INDIR);
	assert_int_equal(q->desc[0].len, 80);
	assert_int_equal(q->desc[0].flags, F_INDIRECT);
	/* ...which chains 0 -> 4, readable then writable. */
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(t[i].addr, sg[i].gpa);
		assert_int_equal(t[i].len, sg[i].len);
		assert_int_equal(t[i].flags, (i >= 3 ? F_WRITE : 0) | (i < 4 ? F_NEXT : 0));
		if (i < 4)
			assert_int_equal(t[i].next, i + 1);
	}
	assert_true(split_drv_publish(q));

	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->id, 0);
	assert_int_equal(c->ndesc, 6);
	assert_int_equal(c->nread, 3);
	assert_int_equal(c->nwrite, 2);
	assert_int_equal(c->read_len, 317);
	assert_int_equal(c->write_len, 4101);
	for (unsigned int i = 0; i < 5; i++) {
		assert_ptr_equal(c->seg[i].iov_base, f->ram + sg[i].gpa);
		assert_int_equal(c->seg[i].iov_len, sg[i].len);
	}
	assert_true(split_dev_push(&f->dev, c, 9));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(1));
	assert_int_equal(len, 9);
	assert_int_equal(q->num_free, QSIZE);
	assert_int_equal(q->free_head, 0);

	/* Mixed with plain ones, sharing the free list. */
	assert_int_equal(addn(f, 2, 0, TOK(2)), 0);
	assert_int_equal(split_drv_add_indirect(q, sg, 0, 1, t, INDIR, TOK(3)), 2);
	assert_int_equal(addn(f, 1, 0, TOK(4)), 3);
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->ndesc, 2);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->id, 2);
	assert_int_equal(c->ndesc, 2);
	assert_int_equal(c->nwrite, 1);
	assert_int_equal(c->nread, 0);

	/* Bad arguments. */
	assert_int_equal(split_drv_add_indirect(q, sg, 0, 0, t, INDIR, TOK(5)), -1);
	assert_int_equal(split_drv_add_indirect(q, sg, 1, 0, t, INDIR, NULL), -1);
	assert_int_equal(split_drv_add_indirect(q, sg, 1, 0, NULL, INDIR, TOK(5)), -1);
	assert_int_equal(split_drv_add_indirect(q, sg, 1u << 28, 0, t, INDIR, TOK(5)), -1);
	assert_int_equal(split_drv_add_indirect(q, sg, UINT32_MAX, 2, t, INDIR, TOK(5)), -1);
	fx_init(f, 1, false, true);
	assert_int_equal(addn(f, 1, 0, TOK(0)), 0);
	assert_int_equal(split_drv_add_indirect(q, sg, 1, 0, t, INDIR, TOK(5)), -1);
}

/* Indirect tables written by hand: the shapes the spec allows. */
static void test_indirect_by_hand(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	const uint64_t t = INDIR + 0x1000;

	/* Plain descriptors then an indirect one: "zero or more ... followed by". */
	set_desc(f, 0, DATA, 10, F_NEXT, 1);
	set_desc(f, 1, t, 32, F_INDIRECT, 0);
	set_idesc(f, t, 0, DATA + 100, 20, F_NEXT, 1);
	set_idesc(f, t, 1, DATA + 200, 30, F_WRITE, 0);
	raw_publish(f, 0);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->ndesc, 4);
	assert_int_equal(c->nread, 2);
	assert_int_equal(c->nwrite, 1);
	assert_int_equal(c->read_len, 30);
	assert_int_equal(c->write_len, 30);
	assert_ptr_equal(c->seg[1].iov_base, f->ram + DATA + 100);
	assert_ptr_equal(c->seg[2].iov_base, f->ram + DATA + 200);

	/* WRITE on the descriptor naming the table is ignored. */
	set_idesc(f, t + 0x100, 0, DATA, 1, 0, 0);
	set_desc(f, 2, t + 0x100, 16, F_INDIRECT | F_WRITE, 0);
	raw_publish(f, 2);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->nread, 1);
	assert_int_equal(c->nwrite, 0);
	assert_int_equal(c->ndesc, 2);

	/* Entries in any order; the table needs no alignment. */
	set_idesc(f, t + 0x203, 0, DATA + 1, 1, F_NEXT, 2);
	set_idesc(f, t + 0x203, 1, DATA + 3, 3, 0, 0);
	set_idesc(f, t + 0x203, 2, DATA + 2, 2, F_NEXT, 1);
	set_desc(f, 3, t + 0x203, 48, F_INDIRECT, 0);
	raw_publish(f, 3);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->ndesc, 4);
	assert_ptr_equal(c->seg[1].iov_base, f->ram + DATA + 2);
	assert_ptr_equal(c->seg[2].iov_base, f->ram + DATA + 3);

	/* A table may hold more entries than the queue: 512 is the limit. */
	for (unsigned int i = 0; i < CHAIN_MAX_SEGS; i++)
		set_idesc(f, t + 0x1000, i, DATA + i, 1, i + 1 < CHAIN_MAX_SEGS ? F_NEXT : 0,
			  (uint16_t)(i + 1));
	set_desc(f, 4, t + 0x1000, 16 * CHAIN_MAX_SEGS, F_INDIRECT, 0);
	raw_publish(f, 4);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_int_equal(c->ndesc, 1 + CHAIN_MAX_SEGS);
	assert_int_equal(c->nread, CHAIN_MAX_SEGS);
	assert_ptr_equal(c->seg[511].iov_base, f->ram + DATA + 511);

	/* Right against the end of RAM. */
	set_idesc(f, RAM_SIZE - 16, 0, RAM_SIZE - 1, 1, F_WRITE, 0);
	set_desc(f, 5, RAM_SIZE - 16, 16, F_INDIRECT, 0);
	raw_publish(f, 5);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + RAM_SIZE - 1);
	assert_int_equal(c->nwrite, 1);
	assert_false(f->dev.broken);
}

/* ---- a guest breaking the rules ----------------------------------------- */

static void test_bad_head_out_of_range(void **state)
{
	struct fx *f = *state;

	raw_publish(f, QSIZE);
	pop_fails(f, "head descriptor 256 out of range (256)");

	fx_init(f, QSIZE, false, true);
	raw_publish(f, 65535);
	pop_fails(f, "head descriptor 65535 out of range (256)");

	/* After some good ones, across the wrap. */
	fx_init(f, 16, true, true);
	set_indices(f, 65535);
	add1(f, DATA, 1, false, TOK(0));
	split_drv_publish(&f->drv);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	raw_publish(f, 16);
	pop_fails(f, "head descriptor 16 out of range (16)");
}

static void test_bad_next_out_of_range(void **state)
{
	struct fx *f = *state;

	set_desc(f, 0, DATA, 8, F_NEXT, QSIZE);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 0: next 256 out of range (256)");

	fx_init(f, QSIZE, false, true);
	set_desc(f, 3, DATA, 8, F_NEXT, 5);
	set_desc(f, 5, DATA, 8, F_NEXT | F_WRITE, 300);
	raw_publish(f, 3);
	pop_fails(f, "descriptor 5: next 300 out of range (256)");

	/* Through the driver: it built the chain, the guest bent one link. */
	fx_init(f, QSIZE, false, true);
	assert_int_equal(addn(f, 2, 1, TOK(0)), 0);
	f->drv.desc[1].next = 65535;
	split_drv_publish(&f->drv);
	pop_fails(f, "descriptor 1: next 65535 out of range (256)");
}

static void test_bad_loop(void **state)
{
	struct fx *f = *state;

	/* 3 -> 4 -> 3 -> ... */
	set_desc(f, 3, DATA, 8, F_NEXT, 4);
	set_desc(f, 4, DATA, 8, F_NEXT, 3);
	raw_publish(f, 3);
	pop_fails(f, "chain from head 3 loops or exceeds 256 descriptors");

	/* A descriptor linking to itself. */
	fx_init(f, QSIZE, false, true);
	set_desc(f, 7, DATA, 8, F_NEXT | F_WRITE, 7);
	raw_publish(f, 7);
	pop_fails(f, "chain from head 7 loops or exceeds 256 descriptors");

	/* 0 -> 1 -> ... -> 255 -> 0: the 257th descriptor is one too many. */
	fx_init(f, QSIZE, false, true);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(f, (uint16_t)i, DATA + i, 1, F_NEXT, (uint16_t)((i + 1) % QSIZE));
	raw_publish(f, 0);
	pop_fails(f, "chain from head 0 loops or exceeds 256 descriptors");

	/* In the smallest queue. */
	fx_init(f, 1, false, false);
	set_desc(f, 0, DATA, 8, F_NEXT, 0);
	raw_publish(f, 0);
	pop_fails(f, "chain from head 0 loops or exceeds 1 descriptors");
}

static void test_bad_indirect_loop(void **state)
{
	struct fx *f = *state;
	const uint64_t t = INDIR;

	/* A table of 3: 0 -> 1 -> 2 -> 0. */
	set_idesc(f, t, 0, DATA, 8, F_NEXT, 1);
	set_idesc(f, t, 1, DATA, 8, F_NEXT, 2);
	set_idesc(f, t, 2, DATA, 8, F_NEXT, 0);
	set_desc(f, 9, t, 48, F_INDIRECT, 0);
	raw_publish(f, 9);
	pop_fails(f, "indirect table of head 9 loops or exceeds its 3 entries");

	/* next beyond the table's own entries (the queue has 256). */
	fx_init(f, QSIZE, false, true);
	set_idesc(f, t, 0, DATA, 8, F_NEXT, 3);
	set_desc(f, 0, t, 48, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "indirect descriptor 0: next 3 out of range (3)");
}

static void test_bad_readable_after_writable(void **state)
{
	struct fx *f = *state;
	const uint64_t t = INDIR;

	set_desc(f, 0, DATA, 8, F_NEXT | F_WRITE, 1);
	set_desc(f, 1, DATA, 8, 0, 0);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 1: readable after a writable descriptor");

	/* Inside an indirect table. */
	fx_init(f, QSIZE, false, true);
	set_idesc(f, t, 0, DATA, 8, F_NEXT | F_WRITE, 1);
	set_idesc(f, t, 1, DATA, 8, 0, 0);
	set_desc(f, 0, t, 32, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "indirect descriptor 1: readable after a writable descriptor");

	/* From the ring into the table. */
	fx_init(f, QSIZE, false, true);
	set_desc(f, 0, DATA, 8, F_NEXT | F_WRITE, 1);
	set_desc(f, 1, t, 16, F_INDIRECT, 0);
	set_idesc(f, t, 0, DATA, 8, 0, 0);
	raw_publish(f, 0);
	pop_fails(f, "indirect descriptor 0: readable after a writable descriptor");
}

static void test_bad_zero_len(void **state)
{
	struct fx *f = *state;
	const uint64_t t = INDIR;

	set_desc(f, 0, DATA, 8, F_NEXT, 1);
	set_desc(f, 1, DATA, 0, F_WRITE, 0);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 1: zero length");

	fx_init(f, QSIZE, false, true);
	set_idesc(f, t, 0, DATA, 8, F_NEXT, 1);
	set_idesc(f, t, 1, DATA, 8, F_NEXT, 2);
	set_idesc(f, t, 2, DATA, 0, 0, 0);
	set_desc(f, 0, t, 48, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "indirect descriptor 2: zero length");
}

/* One descriptor (or table entry, with @indirect) with these values. */
static void bad_range(struct fx *f, bool indirect, uint64_t addr, uint32_t len)
{
	char msg[160];

	fx_init(f, QSIZE, false, true);
	if (indirect) {
		set_idesc(f, INDIR, 0, DATA, 8, F_NEXT, 1);
		set_idesc(f, INDIR, 1, addr, len, 0, 0);
		set_desc(f, 4, INDIR, 32, F_INDIRECT, 0);
	} else {
		set_desc(f, 4, DATA, 8, F_NEXT, 5);
		set_desc(f, 5, addr, len, F_WRITE, 0);
	}
	raw_publish(f, 4);
	snprintf(msg, sizeof(msg), "%s: addr 0x%llx len %u is outside guest RAM",
		 indirect ? "indirect descriptor 1" : "descriptor 5", (unsigned long long)addr,
		 len);
	pop_fails(f, msg);
}

static void test_bad_outside_ram(void **state)
{
	struct fx *f = *state;

	for (int ind = 0; ind <= 1; ind++) {
		bad_range(f, ind, RAM_SIZE, 1);
		bad_range(f, ind, RAM_SIZE - 10, 11);
		bad_range(f, ind, 0, RAM_SIZE + 1);
		bad_range(f, ind, DATA, UINT32_MAX);
		bad_range(f, ind, UINT64_MAX, 1);
		/* addr + len wraps past 2^64 to something small. */
		bad_range(f, ind, UINT64_MAX - 3, 8);
		bad_range(f, ind, (1ull << 63) + DATA, 8);
	}
	assert_string_equal(f->dev.error,
			    "requestq: indirect descriptor 1: addr 0x8000000000400000 "
			    "len 8 is outside guest RAM");

	/* Right up to the end is fine. */
	fx_init(f, QSIZE, false, true);
	set_desc(f, 0, RAM_SIZE - 10, 10, F_NEXT, 1);
	set_desc(f, 1, 0, RAM_SIZE, F_WRITE, 0);
	raw_publish(f, 0);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	assert_ptr_equal(f->c.seg[0].iov_base, f->ram + RAM_SIZE - 10);
	assert_int_equal(f->c.write_len, RAM_SIZE);
}

/*
 * 256 descriptors each naming all 16 MiB of RAM add up to 2^32 bytes: one
 * too many for the used ring's 32-bit length.
 */
static void test_bad_total_length(void **state)
{
	struct fx *f = *state;

	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(f, (uint16_t)i, 0, RAM_SIZE, i + 1 < QSIZE ? F_NEXT : 0,
			 (uint16_t)(i + 1));
	/* One byte less is the longest chain there can be. */
	f->drv.desc[255].len = RAM_SIZE - 1;
	raw_publish(f, 0);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	assert_int_equal(f->c.read_len, UINT32_MAX);
	assert_int_equal(f->c.nread, QSIZE);

	fx_init(f, QSIZE, false, true);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(f, (uint16_t)i, 0, RAM_SIZE,
			 (i + 1 < QSIZE ? F_NEXT : 0) | (i >= 128 ? F_WRITE : 0),
			 (uint16_t)(i + 1));
	raw_publish(f, 0);
	pop_fails(f, "chain from head 0 is longer than 4294967295 bytes");
}

static void test_bad_too_many_segments(void **state)
{
	struct fx *f = *state;
	const uint16_t n = CHAIN_MAX_SEGS + 1;

	/* 513 descriptors in a queue of 1024: the table allows it, we do not. */
	fx_init(f, 1024, false, true);
	for (uint16_t i = 0; i < n; i++)
		set_desc(f, i, DATA + i, 1, i + 1 < n ? F_NEXT : 0, i + 1);
	raw_publish(f, 0);
	pop_fails(f, "chain from head 0 needs more than 512 segments");

	/* 512 is fine. */
	fx_init(f, 1024, false, true);
	for (uint16_t i = 0; i < n - 1; i++)
		set_desc(f, i, DATA + i, 1, i + 2 < n ? F_NEXT : 0, i + 1);
	raw_publish(f, 0);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	assert_int_equal(f->c.nread, 512);

	/* Two in the ring plus an indirect table of 511: 513 segments. */
	fx_init(f, QSIZE, false, true);
	set_desc(f, 0, DATA, 1, F_NEXT, 1);
	set_desc(f, 1, DATA, 1, F_NEXT, 2);
	set_desc(f, 2, INDIR, 16 * 511, F_INDIRECT, 0);
	for (unsigned int i = 0; i < 511; i++)
		set_idesc(f, INDIR, i, DATA + i, 1, i + 1 < 511 ? F_NEXT : 0, (uint16_t)(i + 1));
	raw_publish(f, 0);
	pop_fails(f, "chain from head 0 needs more than 512 segments");

	/* A table of 100,000 entries is walked no further than that either. */
	fx_init(f, QSIZE, false, true);
	for (unsigned int i = 0; i < 600; i++)
		set_idesc(f, INDIR, i, DATA + i, 1, F_NEXT, (uint16_t)(i + 1));
	set_desc(f, 0, INDIR, 16 * 100000, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "chain from head 0 needs more than 512 segments");
}

static void test_bad_indirect_flags(void **state)
{
	struct fx *f = *state;
	struct lg_sg sg = { DATA, 8 };

	/* Not negotiated: even our own driver's indirect buffer is refused. */
	fx_init(f, QSIZE, false, false);
	assert_int_equal(split_drv_add_indirect(&f->drv, &sg, 1, 0,
						(struct vring_desc *)(f->ram + INDIR), INDIR,
						TOK(0)),
			 0);
	split_drv_publish(&f->drv);
	pop_fails(f, "descriptor 0: INDIRECT, but VIRTIO_F_INDIRECT_DESC was not negotiated");

	/* Not negotiated, after a plain descriptor. */
	fx_init(f, QSIZE, true, false);
	set_desc(f, 0, DATA, 8, F_NEXT, 6);
	set_desc(f, 6, INDIR, 16, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 6: INDIRECT, but VIRTIO_F_INDIRECT_DESC was not negotiated");

	/* With NEXT. */
	fx_init(f, QSIZE, false, true);
	set_idesc(f, INDIR, 0, DATA, 8, 0, 0);
	set_desc(f, 0, INDIR, 16, F_INDIRECT | F_NEXT, 1);
	set_desc(f, 1, DATA, 8, 0, 0);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 0: INDIRECT together with NEXT");

	/* Nested: an entry of the table names another table. */
	fx_init(f, QSIZE, false, true);
	set_idesc(f, INDIR, 0, DATA, 8, F_NEXT, 1);
	set_idesc(f, INDIR, 1, INDIR + 0x100, 16, F_INDIRECT, 0);
	set_idesc(f, INDIR + 0x100, 0, DATA, 8, 0, 0);
	set_desc(f, 0, INDIR, 32, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "indirect descriptor 1: nested INDIRECT table");

	/* A table naming itself is nested too (and would loop). */
	fx_init(f, QSIZE, false, true);
	set_idesc(f, INDIR, 0, INDIR, 16, F_INDIRECT, 0);
	set_desc(f, 0, INDIR, 16, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "indirect descriptor 0: nested INDIRECT table");
}

static void test_bad_indirect_table(void **state)
{
	struct fx *f = *state;
	const uint32_t bad_len[] = { 0, 8, 24, 17, 4095 };
	char msg[128];

	for (unsigned int i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		fx_init(f, QSIZE, false, true);
		set_idesc(f, INDIR, 0, DATA, 8, 0, 0);
		set_desc(f, 2, INDIR, bad_len[i], F_INDIRECT, 0);
		raw_publish(f, 2);
		snprintf(msg, sizeof(msg),
			 "descriptor 2: indirect table length %u is zero or not a multiple of 16",
			 bad_len[i]);
		pop_fails(f, msg);
	}

	fx_init(f, QSIZE, false, true);
	set_desc(f, 0, RAM_SIZE - 16, 32, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 0: indirect table at 0xfffff0 len 32 is outside guest RAM");

	fx_init(f, QSIZE, false, true);
	set_desc(f, 0, UINT64_MAX - 15, 32, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f, "descriptor 0: indirect table at 0xfffffffffffffff0 len 32 is outside "
		     "guest RAM");

	fx_init(f, QSIZE, false, true);
	set_desc(f, 0, DATA, 0xfffffff0, F_INDIRECT, 0);
	raw_publish(f, 0);
	pop_fails(f,
		  "descriptor 0: indirect table at 0x400000 len 4294967280 is outside guest RAM");
}

static void test_bad_avail_jump(void **state)
{
	struct fx *f = *state;

	f->drv.avail->idx = QSIZE + 1;
	pop_fails(f, "avail index jumped from 0 to 257 (more than 256 ahead, or moved back)");

	/* From the middle, across the wrap: 65500 + 257 = 221. */
	fx_init(f, QSIZE, false, true);
	set_indices(f, 65500);
	f->drv.avail->idx = (uint16_t)(65500 + QSIZE + 1);
	pop_fails(f, "avail index jumped from 65500 to 221 (more than 256 ahead, or moved back)");

	/* has_avail merely says "something changed"; the pop judges it. */
	fx_init(f, 16, false, true);
	f->drv.avail->idx = 17;
	assert_true(split_dev_has_avail(&f->dev));
	pop_fails(f, "avail index jumped from 0 to 17 (more than 16 ahead, or moved back)");
}

static void test_bad_avail_backwards(void **state)
{
	struct fx *f = *state;

	addn(f, 1, 0, TOK(0));
	addn(f, 1, 0, TOK(1));
	split_drv_publish(&f->drv);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	f->drv.avail->idx = 1;
	pop_fails(f, "avail index jumped from 2 to 1 (more than 256 ahead, or moved back)");

	fx_init(f, QSIZE, false, true);
	set_indices(f, 3);
	f->drv.avail->idx = 65535;
	pop_fails(f, "avail index jumped from 3 to 65535 (more than 256 ahead, or moved back)");
}

static void test_bad_head_in_flight(void **state)
{
	struct fx *f = *state;

	assert_int_equal(addn(f, 1, 1, TOK(0)), 0);
	split_drv_publish(&f->drv);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	/* The guest makes the same buffer available again. */
	raw_publish(f, 0);
	pop_fails(f, "head 0 is already in flight");

	/* Twice in one batch. */
	fx_init(f, QSIZE, false, true);
	set_desc(f, 5, DATA, 8, 0, 0);
	raw_publish(f, 5);
	raw_publish(f, 5);
	assert_int_equal(split_dev_pop(&f->dev, &f->c), 1);
	pop_fails(f, "head 5 is already in flight");
}

static void test_bad_used_scribbled(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;

	addn(f, 1, 0, TOK(0));
	split_drv_publish(&f->drv);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	f->drv.used->idx = 7;
	snapshot(f);
	assert_false(split_dev_push(&f->dev, c, 1));
	assert_broken(f, "guest wrote to the used index (expected 0, found 7)");

	/* After a good push across the wrap, so the expected value is 0. */
	fx_init(f, QSIZE, false, true);
	set_indices(f, 65535);
	addn(f, 1, 0, TOK(0));
	addn(f, 1, 0, TOK(1));
	split_drv_publish(&f->drv);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 1));
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	f->drv.used->idx = 65535;
	snapshot(f);
	assert_false(split_dev_push(&f->dev, c, 1));
	assert_broken(f, "guest wrote to the used index (expected 0, found 65535)");
}

/* Pushing something not in flight is a device-model bug, and refused. */
static void test_bad_push_not_in_flight(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;

	snapshot(f);
	assert_false(split_dev_push(&f->dev, fake_chain(f, 3, 0), 0));
	assert_broken(f, "returning head 3, which is not in flight");

	/* Twice. */
	fx_init(f, QSIZE, false, true);
	addn(f, 1, 0, TOK(0));
	split_drv_publish(&f->drv);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 0));
	snapshot(f);
	assert_false(split_dev_push(&f->dev, c, 0));
	assert_broken(f, "returning head 0, which is not in flight");

	/* Out of range, and a chain from a pop that found nothing. */
	fx_init(f, QSIZE, false, true);
	snapshot(f);
	assert_false(split_dev_push(&f->dev, fake_chain(f, QSIZE, 0), 0));
	assert_broken(f, "returning head 256, which is not in flight");
	fx_init(f, QSIZE, false, true);
	assert_int_equal(split_dev_pop(&f->dev, c), 0);
	snapshot(f);
	assert_false(split_dev_push(&f->dev, c, 0));
	assert_broken(f, "returning head 4294967295, which is not in flight");
}

/*
 * The guest changes a descriptor while the device reads it.  Whatever the
 * interleaving, a chain the device accepts must carry exactly the values it
 * checked: the only in-RAM combination is (DATA, 16), so a popped segment
 * with anything else means a value was read twice.
 */
struct flipper {
	struct vring_desc *desc;
	int stop;
};

static void *flip_desc(void *arg)
{
	struct flipper *fl = arg;
	uint64_t n = 0;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&fl->desc->len, n & 1 ? 16 : 1u << 31, __ATOMIC_RELAXED);
		__atomic_store_n(&fl->desc->addr, n & 2 ? DATA : UINT64_MAX - 8, __ATOMIC_RELAXED);
		n++;
	}
	return NULL;
}

static void test_descriptor_changing_underneath(void **state)
{
	struct fx *f = *state;
	struct flipper fl = { .desc = &f->drv.desc[0] };
	unsigned int ok = 0, refused = 0;
	pthread_t t;

	set_desc(f, 0, DATA, 16, 0, 0);
	assert_int_equal(pthread_create(&t, NULL, flip_desc, &fl), 0);
	for (int i = 0; i < 100000; i++) {
		int r;

		raw_publish(f, 0);
		r = split_dev_pop(&f->dev, &f->c);
		if (r == 1) {
			if (f->c.seg[0].iov_base != f->ram + DATA || f->c.seg[0].iov_len != 16) {
				__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
				pthread_join(t, NULL);
				fail_msg("accepted a descriptor it did not check: %p len %zu",
					 f->c.seg[0].iov_base, f->c.seg[0].iov_len);
			}
			assert_true(split_dev_push(&f->dev, &f->c, 0));
			ok++;
		} else {
			assert_int_equal(r, -1);
			assert_non_null(strstr(f->dev.error, "is outside guest RAM"));
			refused++;
			/* Start over: a fresh device on the same ring. */
			f->drv.avail->idx = 0;
			f->drv.used->idx = 0;
			split_dev_destroy(&f->dev);
			assert_true(split_dev_init(&f->dev, &f->mem, NAME, QSIZE, RING,
						   gpa_of(f, f->drv.avail), gpa_of(f, f->drv.used),
						   false, true));
		}
	}
	__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	assert_int_equal(ok + refused, 100000);
}

/* ---- the driver checking the device ------------------------------------- */

static void test_drv_used_id_out_of_range(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;

	addn(f, 1, 0, TOK(0));
	split_drv_publish(q);
	q->used->ring[0] = (struct vring_used_elem){ QSIZE, 0 };
	q->used->idx = 1;
	assert_true(split_drv_has_used(q));
	assert_null(split_drv_get_used(q, NULL));
	assert_drv_broken(f, "used id out of range");
	assert_int_equal(q->last_used, 0);
	assert_int_equal(q->num_free, QSIZE - 1);

	/* A 32-bit id that would truncate to a valid 16-bit head. */
	fx_init(f, QSIZE, false, true);
	addn(f, 1, 0, TOK(0));
	split_drv_publish(q);
	q->used->ring[0] = (struct vring_used_elem){ 0x10000, 0 };
	q->used->idx = 1;
	assert_null(split_drv_get_used(q, NULL));
	assert_drv_broken(f, "used id out of range");
}

static void test_drv_used_id_not_outstanding(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	uint32_t len;

	/* An id never added. */
	addn(f, 1, 0, TOK(0));
	split_drv_publish(q);
	q->used->ring[0] = (struct vring_used_elem){ 5, 0 };
	q->used->idx = 1;
	assert_null(split_drv_get_used(q, &len));
	assert_drv_broken(f, "used id is not an outstanding head");

	/* A second completion of a buffer already reaped. */
	fx_init(f, QSIZE, false, true);
	addn(f, 0, 1, TOK(0));
	addn(f, 0, 1, TOK(1));
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 4));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(0));
	q->used->ring[1] = (struct vring_used_elem){ 0, 4 };
	q->used->idx = 2;
	assert_null(split_drv_get_used(q, &len));
	assert_drv_broken(f, "used id is not an outstanding head");
	assert_int_equal(q->num_free, QSIZE - 1);

	/* The middle of a chain is not a head. */
	fx_init(f, QSIZE, false, true);
	addn(f, 2, 1, TOK(0));
	split_drv_publish(q);
	q->used->ring[0] = (struct vring_used_elem){ 1, 0 };
	q->used->idx = 1;
	assert_null(split_drv_get_used(q, &len));
	assert_drv_broken(f, "used id is not an outstanding head");
	assert_int_equal(q->num_free, QSIZE - 3);
}

static void test_drv_used_ran_ahead(void **state)
{
	struct fx *f = *state;
	struct split_drv *q = &f->drv;
	struct chain *c = &f->c;
	uint32_t len;

	/* More than the queue holds. */
	addn(f, 1, 0, TOK(0));
	split_drv_publish(q);
	q->used->idx = QSIZE + 1;
	assert_null(split_drv_get_used(q, &len));
	assert_drv_broken(f, "used index ran ahead");

	/* More than we published (the second is added, not published). */
	fx_init(f, QSIZE, false, true);
	addn(f, 1, 0, TOK(0));
	split_drv_publish(q);
	addn(f, 1, 0, TOK(1));
	q->used->ring[0] = (struct vring_used_elem){ 0, 0 };
	q->used->ring[1] = (struct vring_used_elem){ 1, 0 };
	q->used->idx = 2;
	assert_null(split_drv_get_used(q, &len));
	assert_drv_broken(f, "used index ran ahead");

	/* Backwards looks the same to 16-bit arithmetic. */
	fx_init(f, QSIZE, false, true);
	addn(f, 1, 0, TOK(0));
	split_drv_publish(q);
	assert_int_equal(split_dev_pop(&f->dev, c), 1);
	assert_true(split_dev_push(&f->dev, c, 0));
	assert_ptr_equal(split_drv_get_used(q, &len), TOK(0));
	q->used->idx = 0;
	assert_null(split_drv_get_used(q, &len));
	assert_drv_broken(f, "used index ran ahead");

	/* Exactly all that was published, across the wrap, is fine. */
	fx_init(f, QSIZE, false, true);
	set_indices(f, 65534);
	for (unsigned int i = 0; i < 4; i++)
		addn(f, 1, 0, TOK(i));
	split_drv_publish(q);
	for (unsigned int i = 0; i < 4; i++)
		q->used->ring[(65534 + i) % QSIZE] = (struct vring_used_elem){ i, 0 };
	q->used->idx = 2;
	for (unsigned int i = 0; i < 4; i++)
		assert_ptr_equal(split_drv_get_used(q, &len), TOK(i));
	assert_false(q->broken);
	assert_int_equal(q->num_free, QSIZE);
}

/* ---- both sides at once, on two threads ----------------------------------- */

/*
 * The guest thread publishes, notifies only when publish() says so, reaps
 * with callbacks off, and sleeps only after split_drv_enable_cb() said
 * nothing was waiting; the device thread pops with notifications off,
 * signals only when should_signal() says so, and sleeps only after
 * split_dev_enable_notify() said nothing was published.  If either pairing
 * of fences were missing a wakeup could be lost and a side would sleep
 * until the timeout.  Every buffer carries its sequence number, which the
 * device checks and answers, so none may be lost, duplicated or reordered.
 */
#define THREAD_BUFS    200000
#define THREAD_QSIZE   64
#define WAKE_TIMEOUT_S 20

struct threads {
	struct fx *f;
	sem_t notify, signal;
	int stop;
	bool timed_out;
	char err[256];
	unsigned long popped, signals;
};

static bool sem_wait_s(sem_t *s, int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	while (sem_timedwait(s, &ts) != 0)
		if (errno != EINTR)
			return false;
	return true;
}

/* Buffer memory for sequence number @seq: 8 bytes out, then 8 bytes in. */
static uint64_t seq_gpa(uint64_t seq)
{
	return DATA + (seq % THREAD_QSIZE) * 64;
}

static uint64_t answer(uint64_t seq)
{
	return seq * 3 + 1;
}

static void *device_thread(void *arg)
{
	struct threads *t = arg;
	struct split_dev *d = &t->f->dev;
	struct chain *c = &t->f->c2;
	uint64_t seq, reply;
	int r;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		split_dev_disable_notify(d);
		while ((r = split_dev_pop(d, c)) == 1) {
			if (c->nread != 1 || c->nwrite != 1 || c->seg[0].iov_len != 8) {
				snprintf(t->err, sizeof(t->err), "bad chain shape");
				return NULL;
			}
			memcpy(&seq, c->seg[0].iov_base, sizeof(seq));
			if (seq != t->popped) {
				snprintf(t->err, sizeof(t->err), "popped seq %llu, expected %lu",
					 (unsigned long long)seq, t->popped);
				return NULL;
			}
			reply = answer(seq);
			memcpy(chain_writable(c)[0].iov_base, &reply, sizeof(reply));
			t->popped++;
			if (!split_dev_push(d, c, sizeof(reply)))
				break;
			/* Decide now and then mid-batch too, as a device may. */
			if (t->popped % 5 == 0 && split_dev_should_signal(d)) {
				t->signals++;
				sem_post(&t->signal);
			}
		}
		if (r < 0 || d->broken) {
			snprintf(t->err, sizeof(t->err), "device broke: %s", d->error);
			return NULL;
		}
		if (split_dev_should_signal(d)) {
			t->signals++;
			sem_post(&t->signal);
		}
		/* Published while we were looking away?  Then go round again. */
		if (split_dev_enable_notify(d))
			continue;
		if (!sem_wait_s(&t->notify, WAKE_TIMEOUT_S)) {
			t->timed_out = true;
			return NULL;
		}
	}
	return NULL;
}

static void run_threads(struct fx *f, bool event_idx)
{
	struct threads t = { .f = f };
	struct split_drv *q = &f->drv;
	uint64_t next = 0, reaped = 0;
	unsigned long sleeps = 0, notifies = 0;
	bool bad = false;
	pthread_t dev;

	fx_init(f, THREAD_QSIZE, event_idx, false);
	rnd_state = 99;
	assert_int_equal(sem_init(&t.notify, 0, 0), 0);
	assert_int_equal(sem_init(&t.signal, 0, 0), 0);
	assert_int_equal(pthread_create(&dev, NULL, device_thread, &t), 0);

	while (reaped < THREAD_BUFS) {
		bool added = false;
		uint32_t len;
		void *tok;

		/* Add a few (a random batch), each carrying its sequence number. */
		while (next < THREAD_BUFS && q->num_free >= 2) {
			struct lg_sg sg[2] = { { seq_gpa(next), 8 }, { seq_gpa(next) + 32, 8 } };

			memcpy(f->ram + sg[0].gpa, &next, sizeof(next));
			memset(f->ram + sg[1].gpa, 0, 8);
			if (split_drv_add(q, sg, 1, 1, TOK(next)) < 0)
				break;
			next++;
			added = true;
			if (rnd() % 16 == 0)
				break;
		}
		if (added && split_drv_publish(q)) {
			notifies++;
			sem_post(&t.notify);
		}

		/* Poll with callbacks off... */
		split_drv_disable_cb(q);
		while ((tok = split_drv_get_used(q, &len))) {
			uint64_t reply;

			memcpy(&reply, f->ram + seq_gpa(reaped) + 32, sizeof(reply));
			if (tok != TOK(reaped) || len != 8 || reply != answer(reaped)) {
				bad = true;
				break;
			}
			reaped++;
		}
		if (bad || q->broken || t.err[0] || t.timed_out || reaped == THREAD_BUFS)
			break;
		/* ...and when there is nothing left to add, ask and look once more. */
		if (q->num_free < 2 || next == THREAD_BUFS) {
			if (split_drv_enable_cb(q)) {
				sleeps++;
				if (!sem_wait_s(&t.signal, WAKE_TIMEOUT_S))
					break;
			}
		}
	}
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
	sem_post(&t.notify);
	pthread_join(dev, NULL);
	sem_destroy(&t.notify);
	sem_destroy(&t.signal);

	if (t.err[0])
		fail_msg("%s", t.err);
	assert_false(t.timed_out);
	assert_false(bad);
	assert_false(q->broken);
	assert_false(f->dev.broken);
	assert_int_equal(reaped, THREAD_BUFS);
	assert_int_equal(t.popped, THREAD_BUFS);
	assert_int_equal(q->num_free, THREAD_QSIZE);
	assert_int_equal(q->used->idx, (uint16_t)THREAD_BUFS);
	print_message("    event_idx %d: %lu notifies, %lu signals, %lu guest sleeps for %u "
		      "buffers\n",
		      event_idx, notifies, t.signals, sleeps, THREAD_BUFS);
}

static void test_threads_flags(void **state)
{
	run_threads(*state, false);
}

static void test_threads_event_idx(void **state)
{
	run_threads(*state, true);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_##name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(layout),
		T(drv_init_bad_size),
		T(dev_init),
		T(round_trip),
		T(chain_whole_table),
		T(full_queue),
		T(out_of_order),
		T(wrap_in_order),
		T(wrap_out_of_order),
		T(wrap_from_65530),
		T(event_idx_notify_arithmetic),
		T(event_idx_notify_protocol),
		T(event_idx_signal_arithmetic),
		T(event_idx_signal_protocol),
		T(event_idx_signal_after_65536),
		T(flags_without_event_idx),
		T(indirect),
		T(indirect_by_hand),
		T(bad_head_out_of_range),
		T(bad_next_out_of_range),
		T(bad_loop),
		T(bad_indirect_loop),
		T(bad_readable_after_writable),
		T(bad_zero_len),
		T(bad_outside_ram),
		T(bad_total_length),
		T(bad_too_many_segments),
		T(bad_indirect_flags),
		T(bad_indirect_table),
		T(bad_avail_jump),
		T(bad_avail_backwards),
		T(bad_head_in_flight),
		T(bad_used_scribbled),
		T(bad_push_not_in_flight),
		T(descriptor_changing_underneath),
		T(drv_used_id_out_of_range),
		T(drv_used_id_not_outstanding),
		T(drv_used_ran_ahead),
		T(threads_flags),
		T(threads_event_idx),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
