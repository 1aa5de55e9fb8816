// SPDX-License-Identifier: GPL-2.0
/*
 * test_packed.c: both halves of the packed virtqueue, talking to each other
 * through a fake guest RAM.
 *
 * The "guest" is 4 MiB of page-aligned memory.  The ring (up to 32768
 * descriptors) and its two event areas sit at RING; the driver
 * (guest/ring/packed_drv.c) lays them out through a host pointer, and the
 * device (launcher/ring/packed_dev.c) finds them through guest_ptr() as the
 * launcher would.  Indirect tables live at TABLES, data buffers at DATA.
 *
 * Where a test needs the guest to misbehave it writes descriptors by hand
 * (put_desc()), since our driver never would.  Every such test checks the
 * device's verdict: broken, the exact message (queue name first), every
 * later call failing, and not a byte of guest RAM written since the
 * snapshot taken just before the offending call.
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
#include "packed_drv.h"
#include "ring/packed_dev.h"

#define RAM_SIZE (4u << 20)
#define RING	 0x100000 /* 32768 * 16 + 8 bytes at most: up to 0x180008 */
#define TABLES	 0x190000 /* indirect tables */
#define DATA	 0x200000 /* data buffers, to the end of RAM */
#define NAME	 "requestq"

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED	((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define NEXT	VRING_DESC_F_NEXT
#define WRITE	VRING_DESC_F_WRITE
#define INDIR	VRING_DESC_F_INDIRECT
/* The flag bits of a descriptor available / used on lap @w. */
#define AV(w)	   ((uint16_t)((w) ? F_AVAIL : F_USED))
#define EV_ENABLE  VRING_PACKED_EVENT_FLAG_ENABLE
#define EV_DISABLE VRING_PACKED_EVENT_FLAG_DISABLE
#define EV_DESC	   VRING_PACKED_EVENT_FLAG_DESC
/* off_wrap for (slot, wrap). */
#define OFFW(slot, w) ((uint16_t)((slot) | ((w) ? 0x8000 : 0)))

/* Tokens are opaque to the queue; these are never dereferenced. */
#define TOK(i) ((void *)(uintptr_t)((i) + 1))

struct fx {
	uint8_t *ram;
	struct guest_mem mem;
	struct packed_dev dev;
	struct packed_drv drv;
	void *priv;
	uint16_t size;
	struct chain c, c2;
	uint8_t *snap;
};

/* ---- the fixture ------------------------------------------------------ */

static struct vring_packed_desc *gdesc(struct fx *f, uint16_t slot)
{
	return (struct vring_packed_desc *)(f->ram + RING) + slot;
}

static struct vring_packed_desc_event *gdriver(struct fx *f)
{
	return (struct vring_packed_desc_event *)(f->ram + RING + 16 * (uint64_t)f->size);
}

static struct vring_packed_desc_event *gdevice(struct fx *f)
{
	return gdriver(f) + 1;
}

/* A fresh ring of @size on both sides. */
static void fx_init(struct fx *f, uint16_t size, bool event_idx, bool indirect)
{
	uint64_t drv_area = RING + 16 * (uint64_t)size;

	packed_dev_destroy(&f->dev);
	memset(f->ram, 0, RAM_SIZE);
	f->size = size;
	packed_drv_init(&f->drv, size, f->ram + RING, f->priv, event_idx);
	assert_true(packed_dev_init(&f->dev, &f->mem, NAME, size, RING, drv_area, drv_area + 4,
				    event_idx, indirect));
	assert_false(f->dev.broken);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = aligned_alloc(4096, RAM_SIZE);
	f->snap = malloc(RAM_SIZE);
	f->priv = malloc(packed_drv_priv_bytes(PACKED_MAX_SIZE));
	if (!f->ram || !f->snap || !f->priv)
		return -1;
	f->mem = (struct guest_mem){ .base = f->ram, .size = RAM_SIZE };
	fx_init(f, 8, false, false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	packed_dev_destroy(&f->dev);
	free(f->ram);
	free(f->snap);
	free(f->priv);
	free(f);
	return 0;
}

/* Write a descriptor by hand, as a (mis)behaving driver or device would. */
static void put_desc(struct fx *f, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id,
		     uint16_t flags)
{
	*gdesc(f, slot) = (struct vring_packed_desc){ addr, len, id, flags };
}

static void assert_desc(struct fx *f, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id,
			uint16_t flags)
{
	const struct vring_packed_desc *d = gdesc(f, slot);

	assert_int_equal(d->addr, addr);
	assert_int_equal(d->len, len);
	assert_int_equal(d->id, id);
	assert_int_equal(d->flags, flags);
}

/* Add @out readable then @in writable 64-byte elements, each in its own page. */
static int add_n(struct fx *f, unsigned int out, unsigned int in, void *token)
{
	struct lg_sg sg[1100];

	assert_true(out + in <= 1100);
	for (unsigned int i = 0; i < out + in; i++)
		sg[i] = (struct lg_sg){ DATA + (uint64_t)(i % 400) * 4096 + 8, 64 };
	return packed_drv_add(&f->drv, sg, out, in, token);
}

static int pop(struct fx *f)
{
	return packed_dev_pop(&f->dev, &f->c);
}

/* A chain that owns nothing but the id we want to give back. */
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

/*
 * Move both sides on by @n one-slot buffers (add, pop, push, reap), so a
 * test can start at any place on the ring.
 */
static void cycle(struct fx *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		assert_true(add_n(f, 1, 0, TOK(i)) >= 0);
		packed_drv_publish(&f->drv);
		assert_int_equal(pop(f), 1);
		assert_true(packed_dev_push(&f->dev, &f->c, 0));
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	}
}

static void snapshot(struct fx *f)
{
	memcpy(f->snap, f->ram, RAM_SIZE);
}

/*
 * The device must be broken with exactly NAME ": " @msg, and every call
 * must now fail without writing a byte of guest RAM.
 */
static void assert_broken(struct fx *f, const char *msg)
{
	char want[256], first[sizeof(f->dev.error)];

	snprintf(want, sizeof(want), "%s: %s", NAME, msg);
	assert_true(f->dev.broken);
	assert_string_equal(f->dev.error, want);
	memcpy(first, f->dev.error, sizeof(first));

	assert_int_equal(packed_dev_pop(&f->dev, &f->c2), -1);
	assert_false(packed_dev_push(&f->dev, fake_chain(f, 0, 8), 8));
	assert_false(packed_dev_has_avail(&f->dev));
	packed_dev_disable_notify(&f->dev);
	assert_false(packed_dev_enable_notify(&f->dev));
	assert_false(packed_dev_should_signal(&f->dev));

	assert_string_equal(f->dev.error, first);
	assert_memory_equal(f->snap, f->ram, RAM_SIZE);
}

/* Snapshot, pop, and expect exactly @msg. */
static void pop_broken(struct fx *f, const char *msg)
{
	snapshot(f);
	assert_int_equal(pop(f), -1);
	assert_int_equal(f->c.nread + f->c.nwrite, 0);
	assert_int_equal(f->c.id, CHAIN_NO_ID);
	assert_broken(f, msg);
}

/* The driver must be broken with @msg, and give nothing more. */
static void assert_drv_broken(struct fx *f, const char *msg)
{
	uint32_t len;

	assert_true(f->drv.broken);
	assert_non_null(f->drv.error);
	assert_string_equal(f->drv.error, msg);
	assert_null(packed_drv_get_used(&f->drv, &len));
	assert_false(packed_drv_has_used(&f->drv));
	assert_int_equal(add_n(f, 1, 0, TOK(99)), -1);
	assert_false(packed_drv_publish(&f->drv));
}

/* ---- layout and init ---------------------------------------------------- */

static void test_init_layout(void **state)
{
	struct fx *f = *state;
	struct packed_drv *q = &f->drv;

	assert_int_equal(packed_drv_ring_bytes(8), 8 * 16 + 8);
	assert_int_equal(packed_drv_ring_bytes(PACKED_MAX_SIZE), 32768 * 16 + 8);
	assert_int_equal(packed_drv_priv_bytes(8), 8 * (sizeof(void *) + 4));

	/* Init zeroes the ring and both areas, whatever was there. */
	memset(f->ram + RING, 0xaa, packed_drv_ring_bytes(8) + 16);
	packed_drv_init(q, 8, f->ram + RING, f->priv, false);
	for (unsigned int i = 0; i < packed_drv_ring_bytes(8); i++)
		assert_int_equal(f->ram[RING + i], 0);
	assert_int_equal(f->ram[RING + packed_drv_ring_bytes(8)], 0xaa);
	assert_ptr_equal(q->ring, f->ram + RING);
	assert_ptr_equal(q->driver, f->ram + RING + 128);
	assert_ptr_equal(q->device, f->ram + RING + 132);
	assert_int_equal(q->size, 8);
	assert_int_equal(q->num_free, 8);
	assert_int_equal(q->next_avail, 0);
	assert_true(q->avail_wrap);
	assert_int_equal(q->last_used, 0);
	assert_true(q->used_wrap);
	assert_int_equal(q->free_id, 0);
	assert_false(q->broken);
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(q->next_id[i], i + 1);
		assert_null(q->token[i]);
	}

	/* With EVENT_IDX, callbacks start enabled as DESC at (0, wrap 1). */
	packed_drv_init(q, 8, f->ram + RING, f->priv, true);
	assert_int_equal(gdriver(f)->off_wrap, 0x8000);
	assert_int_equal(gdriver(f)->flags, EV_DESC);
	assert_int_equal(gdevice(f)->flags, EV_ENABLE);

	/* The device side. */
	assert_ptr_equal(f->dev.ring, f->ram + RING);
	assert_ptr_equal(f->dev.driver, f->ram + RING + 128);
	assert_ptr_equal(f->dev.device, f->ram + RING + 132);
	assert_int_equal(f->dev.size, 8);
	assert_int_equal(f->dev.next_avail, 0);
	assert_true(f->dev.avail_wrap);
	assert_int_equal(f->dev.next_used, 0);
	assert_true(f->dev.used_wrap);
	assert_false(f->dev.signalled_valid);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(f->dev.slots[i], 0);
	assert_false(packed_dev_has_avail(&f->dev));
	assert_int_equal(pop(f), 0);
	assert_false(f->dev.broken);
}

struct init_case {
	uint16_t size;
	uint64_t ring, driver, device;
	const char *msg; /* NULL: must succeed */
};

static void test_dev_init_failures(void **state)
{
	struct fx *f = *state;
	const uint64_t top = RAM_SIZE;
	const struct init_case cases[] = {
		{ 8, RING, RING + 128, RING + 132, NULL },
		{ 1, RING, RING + 16, RING + 20, NULL },
		{ 32768, RING, RING + 0x80000, RING + 0x80004, NULL },
		/* The last bytes of RAM are fine. */
		{ 8, top - 144, top - 8, top - 4, NULL },
		{ 0, RING, RING + 128, RING + 132, "size 0 is not a power of two in 1..32768" },
		{ 3, RING, RING + 128, RING + 132, "size 3 is not a power of two in 1..32768" },
		{ 48, RING, RING + 768, RING + 772, "size 48 is not a power of two in 1..32768" },
		{ 32767, RING, RING, RING, "size 32767 is not a power of two in 1..32768" },
		{ 65535, RING, RING, RING, "size 65535 is not a power of two in 1..32768" },
		{ 8, RING + 8, RING + 136, RING + 140,
		  "ring address 0x100008 is not 16-byte aligned" },
		{ 8, RING + 1, RING + 136, RING + 140,
		  "ring address 0x100001 is not 16-byte aligned" },
		{ 8, RING, RING + 130, RING + 132,
		  "driver area address 0x100082 is not 4-byte aligned" },
		{ 8, RING, RING + 128, RING + 133,
		  "device area address 0x100085 is not 4-byte aligned" },
		{ 8, top - 112, RING, RING + 4,
		  "ring at 0x3fff90 (128 bytes) is outside guest RAM" },
		{ 8, top, RING, RING + 4, "ring at 0x400000 (128 bytes) is outside guest RAM" },
		{ 8, 0xfffffffffffffff0, RING, RING + 4,
		  "ring at 0xfffffffffffffff0 (128 bytes) is outside guest RAM" },
		{ 32768, top - 0x70000, RING, RING + 4,
		  "ring at 0x390000 (524288 bytes) is outside guest RAM" },
		{ 8, RING, top, RING + 4, "driver area at 0x400000 is outside guest RAM" },
		{ 8, RING, 0xfffffffffffffffc, RING + 4,
		  "driver area at 0xfffffffffffffffc is outside guest RAM" },
		{ 8, RING, RING + 128, top, "device area at 0x400000 is outside guest RAM" },
		{ 8, RING, RING + 128, 1ull << 62,
		  "device area at 0x4000000000000000 is outside guest RAM" },
	};
	struct packed_dev d;
	char want[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct init_case *t = &cases[i];
		bool ok = packed_dev_init(&d, &f->mem, NAME, t->size, t->ring, t->driver, t->device,
					  false, false);

		if (!t->msg) {
			assert_true(ok);
			assert_false(d.broken);
			assert_ptr_equal(d.ring, f->ram + t->ring);
			assert_ptr_equal(d.driver, f->ram + t->driver);
			assert_ptr_equal(d.device, f->ram + t->device);
			assert_non_null(d.slots);
		} else {
			snprintf(want, sizeof(want), "%s: %s", NAME, t->msg);
			assert_false(ok);
			assert_true(d.broken);
			assert_string_equal(d.error, want);
			assert_null(d.slots);
			assert_int_equal(packed_dev_pop(&d, &f->c), -1);
			assert_false(packed_dev_has_avail(&d));
			assert_false(packed_dev_should_signal(&d));
			assert_false(packed_dev_enable_notify(&d));
			assert_false(packed_dev_push(&d, fake_chain(f, 0, 0), 0));
			assert_string_equal(d.error, want);
		}
		packed_dev_destroy(&d);
		assert_null(d.slots);
		assert_true(d.broken);
	}
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	struct lg_sg sg[3] = { { DATA + 5, 13 }, { DATA + 0x1001, 3 }, { DATA + 0x3000, 100 } };
	const char reply[] = "reply!";
	uint32_t len = 1234;
	int id;

	memcpy(f->ram + DATA + 5, "hello, device", 13);
	memcpy(f->ram + DATA + 0x1001, "abc", 3);
	id = packed_drv_add(&f->drv, sg, 2, 1, TOK(7));
	assert_int_equal(id, 0);

	/* The descriptors as the spec has them; the head's flags too. */
	assert_desc(f, 0, DATA + 5, 13, 0, F_AVAIL | NEXT);
	assert_desc(f, 1, DATA + 0x1001, 3, 0, F_AVAIL | NEXT);
	assert_desc(f, 2, DATA + 0x3000, 100, 0, F_AVAIL | WRITE);
	assert_int_equal(gdesc(f, 3)->flags, 0);
	assert_int_equal(f->drv.num_free, 5);
	assert_int_equal(f->drv.next_avail, 3);
	assert_int_equal(f->drv.num_added, 3);
	assert_int_equal(f->drv.nslots[0], 3);
	assert_ptr_equal(f->drv.token[0], TOK(7));
	assert_int_equal(f->drv.free_id, 1);

	/* Available at once, before any publish. */
	assert_true(packed_dev_has_avail(&f->dev));
	assert_true(packed_drv_publish(&f->drv));
	assert_int_equal(f->drv.num_added, 0);
	assert_false(packed_drv_publish(&f->drv)); /* nothing new */

	assert_int_equal(pop(f), 1);
	assert_int_equal(c->id, 0);
	assert_int_equal(c->in_id, CHAIN_NO_ID);
	assert_int_equal(c->nread, 2);
	assert_int_equal(c->nwrite, 1);
	assert_int_equal(c->read_len, 16);
	assert_int_equal(c->write_len, 100);
	assert_int_equal(c->ndesc, 3);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + DATA + 5);
	assert_int_equal(c->seg[0].iov_len, 13);
	assert_memory_equal(c->seg[0].iov_base, "hello, device", 13);
	assert_ptr_equal(c->seg[1].iov_base, f->ram + DATA + 0x1001);
	assert_int_equal(c->seg[1].iov_len, 3);
	assert_memory_equal(c->seg[1].iov_base, "abc", 3);
	assert_ptr_equal(chain_writable(c), &c->seg[2]);
	assert_ptr_equal(c->seg[2].iov_base, f->ram + DATA + 0x3000);
	assert_int_equal(c->seg[2].iov_len, 100);
	assert_int_equal(f->dev.slots[0], 3);
	assert_int_equal(f->dev.next_avail, 3);
	assert_false(packed_dev_has_avail(&f->dev));

	/* Not used yet: the driver gets nothing. */
	assert_false(packed_drv_has_used(&f->drv));
	assert_null(packed_drv_get_used(&f->drv, &len));
	assert_int_equal(len, 1234);

	memcpy(c->seg[2].iov_base, reply, sizeof(reply));
	assert_true(packed_dev_push(&f->dev, c, sizeof(reply)));
	assert_desc(f, 0, DATA + 5, sizeof(reply), 0, F_AVAIL | F_USED | WRITE);
	/* The other slots of the buffer are left as they were. */
	assert_desc(f, 1, DATA + 0x1001, 3, 0, F_AVAIL | NEXT);
	assert_desc(f, 2, DATA + 0x3000, 100, 0, F_AVAIL | WRITE);
	assert_int_equal(f->dev.next_used, 3);
	assert_true(f->dev.used_wrap);
	assert_int_equal(f->dev.slots[0], 0);

	assert_true(packed_drv_has_used(&f->drv));
	assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(7));
	assert_int_equal(len, sizeof(reply));
	assert_memory_equal(f->ram + DATA + 0x3000, reply, sizeof(reply));
	assert_int_equal(f->drv.num_free, 8);
	assert_int_equal(f->drv.last_used, 3);
	assert_null(f->drv.token[0]);
	assert_int_equal(f->drv.free_id, 0);
	assert_null(packed_drv_get_used(&f->drv, &len));

	/*
	 * A readable-only buffer: whatever the device model claims, nothing
	 * was written, and the used descriptor says so (no WRITE, len 0).
	 */
	id = add_n(f, 1, 0, TOK(8));
	assert_int_equal(id, 0);
	assert_int_equal(pop(f), 1);
	assert_int_equal(c->nwrite, 0);
	assert_true(packed_dev_push(&f->dev, c, 50));
	assert_desc(f, 3, DATA + 8, 0, 0, F_AVAIL | F_USED);
	assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(8));
	assert_int_equal(len, 0);

	/* Written is capped at the writable length. */
	id = add_n(f, 0, 2, TOK(9));
	assert_int_equal(pop(f), 1);
	assert_int_equal(c->write_len, 128);
	assert_true(packed_dev_push(&f->dev, c, 100000));
	assert_desc(f, 4, DATA + 8, 128, 0, F_AVAIL | F_USED | WRITE);
	assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(9));
	assert_int_equal(len, 128);
	assert_false(f->dev.broken);
	assert_false(f->drv.broken);
}

/*
 * Chains of every length from 1 to the ring size, with every split
 * between readable and writable, at odd addresses: the device must see
 * exactly what was added.  The lengths add up to 32.5 laps of the ring,
 * so many chains straddle its end.
 */
static void test_chain_lengths(void **state)
{
	struct fx *f = *state;
	struct lg_sg sg[64];
	struct chain *c = &f->c;

	fx_init(f, 64, false, false);
	for (unsigned int n = 1; n <= 64; n++) {
		unsigned int out = n / 2 + (n % 3 == 0 ? 1 : 0), in;
		uint64_t rlen = 0, wlen = 0;
		uint32_t len, want;
		int id;

		if (out > n)
			out = n;
		in = n - out;
		for (unsigned int i = 0; i < n; i++) {
			sg[i].gpa = DATA + (uint64_t)i * 3001 + (n * 7) % 4096;
			sg[i].len = 1 + (i * 37 + n) % 5000;
			if (i < out)
				rlen += sg[i].len;
			else
				wlen += sg[i].len;
		}
		id = packed_drv_add(&f->drv, sg, out, in, TOK(n));
		assert_int_equal(id, 0);

		assert_int_equal(pop(f), 1);
		assert_int_equal(c->id, 0);
		assert_int_equal(c->ndesc, n);
		assert_int_equal(c->nread, out);
		assert_int_equal(c->nwrite, in);
		assert_int_equal(c->read_len, rlen);
		assert_int_equal(c->write_len, wlen);
		for (unsigned int i = 0; i < n; i++) {
			assert_ptr_equal(c->seg[i].iov_base, f->ram + sg[i].gpa);
			assert_int_equal(c->seg[i].iov_len, sg[i].len);
		}
		assert_int_equal(f->dev.next_avail, f->drv.next_avail);
		assert_int_equal(f->dev.avail_wrap, f->drv.avail_wrap);

		assert_true(packed_dev_push(&f->dev, c, n));
		want = n < wlen ? n : (uint32_t)wlen;
		assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(n));
		assert_int_equal(len, want);
		assert_int_equal(f->drv.num_free, 64);
		assert_int_equal(f->drv.last_used, f->dev.next_used);
		assert_int_equal(f->drv.used_wrap, f->dev.used_wrap);
	}
	/* 2080 slots = 32 laps and a half: on slot 32, wrap counter 1. */
	assert_int_equal(f->dev.next_avail, 32);
	assert_true(f->dev.avail_wrap);
	assert_false(f->dev.broken);
}

/* The buffer id is read from the last descriptor of a chain, not the head. */
static void test_id_from_last_descriptor(void **state)
{
	struct fx *f = *state;

	fx_init(f, 256, false, false);
	put_desc(f, 0, DATA, 8, 300, F_AVAIL | NEXT);
	put_desc(f, 1, DATA, 8, 999, F_AVAIL | NEXT);
	put_desc(f, 2, DATA, 8, 17, F_AVAIL);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.id, 17);
	assert_int_equal(f->c.ndesc, 3);
	assert_int_equal(f->dev.slots[17], 3);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_desc(f, 0, DATA, 0, 17, F_AVAIL | F_USED);

	/* Our driver writes the id into every descriptor of the chain. */
	fx_init(f, 8, false, false);
	cycle(f, 1); /* id 0 is free again, on top of the list */
	assert_int_equal(add_n(f, 2, 1, TOK(0)), 0);
	assert_int_equal(add_n(f, 1, 2, TOK(1)), 1);
	for (uint16_t s = 1; s < 4; s++)
		assert_int_equal(gdesc(f, s)->id, 0);
	for (uint16_t s = 4; s < 7; s++)
		assert_int_equal(gdesc(f, s)->id, 1);
}

/* ---- capacity ----------------------------------------------------------- */

static void test_full_ring(void **state)
{
	struct fx *f = *state;
	struct packed_drv *q = &f->drv;
	uint32_t len;

	fx_init(f, 16, false, false);
	/* Bad arguments. */
	assert_int_equal(add_n(f, 0, 0, TOK(0)), -1);
	assert_int_equal(add_n(f, 1, 0, NULL), -1);
	assert_int_equal(add_n(f, 10, 7, TOK(0)), -1);
	assert_int_equal(packed_drv_add(q, NULL, UINT32_MAX, 2, TOK(0)), -1);
	assert_int_equal(packed_drv_add(q, NULL, 2, UINT32_MAX, TOK(0)), -1);
	assert_int_equal(q->num_free, 16);
	assert_int_equal(q->num_added, 0);
	assert_int_equal(gdesc(f, 0)->flags, 0);

	/* One buffer can take the whole ring, but no more. */
	assert_int_equal(add_n(f, 8, 8, TOK(0)), 0);
	assert_int_equal(q->num_free, 0);
	assert_int_equal(add_n(f, 1, 0, TOK(1)), -1);
	assert_int_equal(q->next_avail, 0);
	assert_false(q->avail_wrap);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.ndesc, 16);
	assert_int_equal(f->c.nread, 8);
	assert_int_equal(f->c.nwrite, 8);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_ptr_equal(packed_drv_get_used(q, &len), TOK(0));
	assert_int_equal(q->num_free, 16);

	/* Sixteen one-slot buffers fill it too. */
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(add_n(f, 1, 0, TOK(i)), i);
	assert_int_equal(add_n(f, 1, 0, TOK(99)), -1);
	assert_int_equal(q->num_free, 0);
	for (unsigned int i = 0; i < 16; i++) {
		assert_int_equal(pop(f), 1);
		assert_int_equal(f->c.id, i);
	}
	assert_int_equal(pop(f), 0);
	assert_false(packed_dev_has_avail(&f->dev));
	/* Still full until the device gives one back and the driver reaps it. */
	assert_int_equal(add_n(f, 1, 0, TOK(99)), -1);
	assert_true(packed_dev_push(&f->dev, fake_chain(f, 5, 0), 0));
	assert_int_equal(add_n(f, 1, 0, TOK(99)), -1);
	assert_ptr_equal(packed_drv_get_used(q, &len), TOK(5));
	/* Id 5 again, into slot 0 (lap 3: wrap 1 again), over the used one. */
	assert_int_equal(add_n(f, 1, 0, TOK(100)), 5);
	assert_desc(f, 0, DATA + 8, 64, 5, F_AVAIL);
	/* Two slots do not fit in none. */
	assert_int_equal(add_n(f, 1, 1, TOK(101)), -1);
	assert_true(packed_dev_push(&f->dev, fake_chain(f, 9, 0), 0));
	assert_true(packed_dev_push(&f->dev, fake_chain(f, 3, 0), 0));
	assert_ptr_equal(packed_drv_get_used(q, &len), TOK(9));
	assert_ptr_equal(packed_drv_get_used(q, &len), TOK(3));
	assert_int_equal(q->num_free, 2);
	assert_int_equal(add_n(f, 1, 1, TOK(101)), 3);
	assert_int_equal(q->next_avail, 3);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.id, 5);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.id, 3);
	assert_int_equal(f->c.ndesc, 2);
	assert_false(f->dev.broken);
}

/*
 * The device finishes buffers in another order than they came: used
 * descriptors go into consecutive places in completion order, each one
 * stepping by its own buffer's slot count, and the driver maps ids back
 * to tokens and frees ids and slots.
 */
static void test_out_of_order(void **state)
{
	struct fx *f = *state;
	/* A: 2 slots, B: 1, C: 3, D: 1, E: 2. */
	const unsigned int outs[5] = { 1, 1, 2, 0, 1 }, ins[5] = { 1, 0, 1, 1, 1 };
	const unsigned int order[5] = { 3, 0, 4, 2, 1 }; /* D A E C B */
	const uint16_t used_at[5] = { 0, 1, 3, 5, 8 };
	const uint16_t written[5] = { 7, 11, 0, 3, 0 };
	uint32_t len;

	fx_init(f, 16, false, false);
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(add_n(f, outs[i], ins[i], TOK(i)), i);
	assert_int_equal(f->drv.num_free, 7);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(pop(f), 1);
		assert_int_equal(f->c.id, i);
	}
	for (unsigned int k = 0; k < 5; k++) {
		unsigned int i = order[k];

		assert_int_equal(f->dev.next_used, used_at[k]);
		assert_true(packed_dev_push(&f->dev, fake_chain(f, i, 64), written[k]));
		assert_desc(f, used_at[k], gdesc(f, used_at[k])->addr, written[k], i,
			    F_AVAIL | F_USED | (written[k] ? WRITE : 0));
	}
	assert_int_equal(f->dev.next_used, 9);
	for (unsigned int k = 0; k < 5; k++) {
		assert_int_equal(f->drv.last_used, used_at[k]);
		assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(order[k]));
		assert_int_equal(len, written[k]);
	}
	assert_null(packed_drv_get_used(&f->drv, &len));
	assert_int_equal(f->drv.last_used, 9);
	assert_int_equal(f->drv.num_free, 16);
	/* Freed last-first: B (1), then C (2), E (4), A (0), D (3), then 5... */
	assert_int_equal(add_n(f, 1, 0, TOK(10)), 1);
	assert_int_equal(add_n(f, 1, 0, TOK(11)), 2);
	assert_int_equal(add_n(f, 1, 0, TOK(12)), 4);
	assert_int_equal(add_n(f, 1, 0, TOK(13)), 0);
	assert_int_equal(add_n(f, 1, 0, TOK(14)), 3);
	assert_int_equal(add_n(f, 1, 0, TOK(15)), 5);
	assert_int_equal(f->drv.next_avail, 15);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.id, 5);
	assert_false(f->dev.broken);
}

/* ---- many laps ---------------------------------------------------------- */

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic, good enough to shuffle. */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

#define SIM_MAX 6

struct sim_buf {
	unsigned int out, in;
	bool indirect;
	struct lg_sg sg[SIM_MAX];
	uint64_t write_len;
};

/*
 * Push @total buffers through a ring of @size: the driver adds batches of
 * up to @max_batch buffers of 1..5 elements (some through indirect tables
 * when @indirect), the device pops everything, checks each chain is
 * exactly what was added, and gives back all of them in order or, with
 * @shuffle, a random subset in random order (the rest stay in flight
 * across rounds); the driver reaps and checks tokens and lengths come in
 * the order the device pushed them.
 */
static void run_traffic(struct fx *f, uint16_t size, unsigned int total, unsigned int max_batch,
			bool shuffle, bool indirect)
{
	struct packed_drv *q = &f->drv;
	struct sim_buf *buf = calloc(total, sizeof(*buf));
	struct sim_buf **expect = calloc(total, sizeof(*expect));
	uint32_t *expect_len = calloc(total, sizeof(*expect_len));
	unsigned int *of_id = calloc(size, sizeof(*of_id));
	uint32_t *inflight = calloc(size, sizeof(*inflight));
	unsigned int ninflight = 0, added = 0, pushed = 0, reaped = 0;
	unsigned int max_n = size < 5 ? size : 5;
	struct chain *c = &f->c;
	int r;

	assert_non_null(buf);
	assert_non_null(expect);
	assert_non_null(expect_len);
	assert_non_null(of_id);
	assert_non_null(inflight);
	fx_init(f, size, false, indirect);
	while (reaped < total) {
		unsigned int batch = 1 + rnd() % max_batch;

		/* Driver: add a batch, publish it. */
		for (unsigned int k = 0; k < batch && added < total; k++) {
			struct sim_buf *b = &buf[added];
			unsigned int n = 1 + rnd() % max_n;
			int id;

			b->indirect = indirect && rnd() % 3 == 0;
			if (b->indirect)
				n = 1 + rnd() % SIM_MAX;
			if ((b->indirect ? 1 : n) > q->num_free)
				break;
			b->out = rnd() % (n + 1);
			b->in = n - b->out;
			b->write_len = 0;
			for (unsigned int i = 0; i < n; i++) {
				b->sg[i].gpa = DATA + rnd() % (RAM_SIZE - DATA - 4096);
				b->sg[i].len = 1 + rnd() % 4096;
				if (i >= b->out)
					b->write_len += b->sg[i].len;
			}
			if (b->indirect) {
				/* A table per id: it must stay put until reaped. */
				uint64_t gpa = TABLES + (uint64_t)q->free_id * SIM_MAX * 16;

				id = packed_drv_add_indirect(q, b->sg, b->out, b->in,
							     (void *)(f->ram + gpa), gpa, b);
			} else {
				id = packed_drv_add(q, b->sg, b->out, b->in, b);
			}
			assert_true(id >= 0 && id < size);
			of_id[id] = added++;
		}
		packed_drv_publish(q);

		/* Device: pop everything, checking it. */
		while ((r = pop(f)) == 1) {
			struct sim_buf *b = &buf[of_id[c->id]];

			assert_int_equal(c->nread, b->out);
			assert_int_equal(c->nwrite, b->in);
			assert_int_equal(c->ndesc, b->out + b->in + (b->indirect ? 1 : 0));
			assert_int_equal(c->write_len, b->write_len);
			for (unsigned int i = 0; i < b->out + b->in; i++) {
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
			uint32_t id = inflight[at];
			struct sim_buf *b = &buf[of_id[id]];
			uint32_t written = rnd() % (b->write_len + 16);

			memmove(&inflight[at], &inflight[at + 1],
				(ninflight - at - 1) * sizeof(inflight[0]));
			ninflight--;
			assert_true(
				packed_dev_push(&f->dev, fake_chain(f, id, b->write_len), written));
			expect[pushed] = b;
			expect_len[pushed++] = written < b->write_len ? written : b->write_len;
		}

		/* Driver: reap, in the order the device pushed. */
		void *tok;
		uint32_t len;

		while ((tok = packed_drv_get_used(q, &len))) {
			assert_ptr_equal(tok, expect[reaped]);
			assert_int_equal(len, expect_len[reaped]);
			reaped++;
		}
		assert_false(q->broken);
		assert_int_equal(reaped, pushed);
	}
	assert_false(f->dev.broken);
	assert_int_equal(q->num_free, size);
	assert_int_equal(f->dev.next_avail, q->next_avail);
	assert_int_equal(f->dev.avail_wrap, q->avail_wrap);
	assert_int_equal(f->dev.next_used, q->last_used);
	assert_int_equal(f->dev.used_wrap, q->used_wrap);
	assert_false(packed_dev_has_avail(&f->dev));
	free(buf);
	free(expect);
	free(expect_len);
	free(of_id);
	free(inflight);
}

static void test_wrap_in_order(void **state)
{
	rnd_state = 12345;
	/* ~150,000 slots: over 2,000 laps of 64. */
	run_traffic(*state, 64, 50000, 64, false, false);
}

static void test_wrap_out_of_order(void **state)
{
	rnd_state = 777;
	run_traffic(*state, 64, 50000, 64, true, false);
	run_traffic(*state, 256, 30000, 200, true, false);
}

static void test_wrap_tiny_rings(void **state)
{
	rnd_state = 4242;
	/* A ring of one: every buffer is a lap, every push flips a counter. */
	run_traffic(*state, 1, 20000, 3, false, false);
	run_traffic(*state, 2, 20000, 3, true, false);
	run_traffic(*state, 4, 20000, 5, true, false);
}

static void test_wrap_indirect_mix(void **state)
{
	rnd_state = 31337;
	run_traffic(*state, 32, 40000, 40, true, true);
}

/* ---- indirect descriptors ----------------------------------------------- */

static void test_indirect(void **state)
{
	struct fx *f = *state;
	struct vring_packed_desc *table = (struct vring_packed_desc *)(f->ram + TABLES);
	struct lg_sg sg[5] = { { DATA, 10 },
			       { DATA + 0x100, 20 },
			       { DATA + 0x200, 30 },
			       { DATA + 0x300, 40 },
			       { DATA + 0x400, 50 } };
	struct chain *c = &f->c;
	uint32_t len;

	fx_init(f, 8, false, true);
	assert_int_equal(add_n(f, 1, 1, TOK(0)), 0);
	assert_int_equal(packed_drv_add_indirect(&f->drv, sg, 2, 3, table, TABLES, TOK(1)), 1);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(table[i].addr, sg[i].gpa);
		assert_int_equal(table[i].len, sg[i].len);
		assert_int_equal(table[i].id, 0);
		assert_int_equal(table[i].flags, i >= 2 ? WRITE : 0);
	}
	/* One ring slot, len = the table's bytes. */
	assert_desc(f, 2, TABLES, 80, 1, F_AVAIL | INDIR);
	assert_int_equal(f->drv.nslots[1], 1);
	assert_int_equal(f->drv.num_free, 5);
	assert_int_equal(f->drv.next_avail, 3);
	assert_int_equal(add_n(f, 1, 0, TOK(2)), 2);

	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);
	assert_int_equal(c->id, 1);
	assert_int_equal(c->nread, 2);
	assert_int_equal(c->nwrite, 3);
	assert_int_equal(c->read_len, 30);
	assert_int_equal(c->write_len, 120);
	assert_int_equal(c->ndesc, 6);
	for (unsigned int i = 0; i < 5; i++) {
		assert_ptr_equal(c->seg[i].iov_base, f->ram + sg[i].gpa);
		assert_int_equal(c->seg[i].iov_len, sg[i].len);
	}
	assert_int_equal(f->dev.slots[1], 1);
	assert_int_equal(f->dev.next_avail, 3);
	assert_int_equal(pop(f), 1);
	assert_int_equal(c->id, 2);

	/* The indirect buffer first: it steps next_used by its one slot. */
	assert_true(packed_dev_push(&f->dev, fake_chain(f, 1, 120), 77));
	assert_int_equal(f->dev.next_used, 1);
	assert_true(packed_dev_push(&f->dev, fake_chain(f, 0, 64), 1));
	assert_int_equal(f->dev.next_used, 3);
	assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(1));
	assert_int_equal(len, 77);
	assert_int_equal(f->drv.last_used, 1);
	assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(0));
	assert_int_equal(f->drv.last_used, 3);
	assert_int_equal(f->drv.num_free, 7);

	/* Bad arguments. */
	assert_int_equal(packed_drv_add_indirect(&f->drv, sg, 0, 0, table, TABLES, TOK(3)), -1);
	assert_int_equal(packed_drv_add_indirect(&f->drv, sg, 1, 0, table, TABLES, NULL), -1);
	assert_int_equal(
		packed_drv_add_indirect(&f->drv, sg, UINT32_MAX / 16, 1, table, TABLES, TOK(3)),
		-1);

	/* The longest table the chain API takes: CHAIN_MAX_SEGS entries. */
	fx_init(f, 8, false, true);
	for (unsigned int i = 0; i < CHAIN_MAX_SEGS; i++)
		table[i] = (struct vring_packed_desc){ DATA + i, 1, 0, i >= 100 ? WRITE : 0 };
	put_desc(f, 0, TABLES, CHAIN_MAX_SEGS * 16, 4, F_AVAIL | INDIR | WRITE);
	assert_int_equal(pop(f), 1);
	assert_int_equal(c->id, 4);
	assert_int_equal(c->nread, 100);
	assert_int_equal(c->nwrite, CHAIN_MAX_SEGS - 100);
	assert_int_equal(c->ndesc, CHAIN_MAX_SEGS + 1);
	assert_ptr_equal(c->seg[CHAIN_MAX_SEGS - 1].iov_base, f->ram + DATA + CHAIN_MAX_SEGS - 1);
	/* NEXT and ids inside a table are ignored. */
	fx_init(f, 8, false, true);
	table[0] = (struct vring_packed_desc){ DATA, 4, 77, NEXT };
	table[1] = (struct vring_packed_desc){ DATA + 8, 4, 99, WRITE | NEXT };
	put_desc(f, 0, TABLES, 32, 6, F_AVAIL | INDIR);
	assert_int_equal(pop(f), 1);
	assert_int_equal(c->id, 6);
	assert_int_equal(c->nread, 1);
	assert_int_equal(c->nwrite, 1);
	assert_false(f->dev.broken);
}

/* ---- notifications: the device asking for NOTIFYs -------------------------- */

static void test_notify_no_event_idx(void **state)
{
	struct fx *f = *state;
	unsigned int notifies = 0;

	fx_init(f, 8, false, false);
	/* Fresh: the area is zero, ENABLE: every publish notifies. */
	assert_int_equal(gdevice(f)->flags, EV_ENABLE);
	add_n(f, 1, 0, TOK(0));
	notifies += packed_drv_publish(&f->drv);
	add_n(f, 1, 0, TOK(1));
	notifies += packed_drv_publish(&f->drv);
	assert_int_equal(notifies, 2);
	/* Nothing added: nothing to say. */
	assert_false(packed_drv_publish(&f->drv));

	packed_dev_disable_notify(&f->dev);
	assert_int_equal(gdevice(f)->flags, EV_DISABLE);
	for (unsigned int i = 0; i < 3; i++) {
		add_n(f, 1, 0, TOK(2 + i));
		notifies += packed_drv_publish(&f->drv);
	}
	assert_int_equal(notifies, 2);

	/* Re-enabling reports the buffers already there. */
	assert_true(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->flags, EV_ENABLE);
	assert_int_equal(gdevice(f)->off_wrap, 0);
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(pop(f), 1);
	assert_false(packed_dev_enable_notify(&f->dev));
	add_n(f, 1, 0, TOK(5));
	assert_true(packed_drv_publish(&f->drv));
	/* Even a DESC left there is read as "notify": we did not negotiate it. */
	gdevice(f)->flags = EV_DESC;
	gdevice(f)->off_wrap = OFFW(5, 1);
	add_n(f, 1, 0, TOK(6));
	assert_true(packed_drv_publish(&f->drv));
	/* And so is a reserved value. */
	gdevice(f)->flags = 3;
	add_n(f, 1, 0, TOK(7));
	assert_true(packed_drv_publish(&f->drv));
	assert_false(f->dev.broken);
}

static void test_notify_event_idx(void **state)
{
	struct fx *f = *state;

	fx_init(f, 8, true, false);
	/* The device sleeps, asking for slot 0 on lap 1. */
	assert_false(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->flags, EV_DESC);
	assert_int_equal(gdevice(f)->off_wrap, OFFW(0, 1));
	add_n(f, 1, 0, TOK(0));
	assert_true(packed_drv_publish(&f->drv));
	/* Slot 1 is past what it asked for: it has been told already. */
	add_n(f, 1, 1, TOK(1));
	assert_false(packed_drv_publish(&f->drv));

	/* The device wakes, pops both, asks for slot 3. */
	packed_dev_disable_notify(&f->dev);
	assert_int_equal(gdevice(f)->flags, EV_DISABLE);
	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);
	assert_false(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->off_wrap, OFFW(3, 1));
	/* Several buffers in one publish: notified once, the window holds slot 3. */
	add_n(f, 1, 0, TOK(2));
	add_n(f, 1, 0, TOK(3));
	assert_true(packed_drv_publish(&f->drv));
	/* Enabling with buffers waiting reports them. */
	assert_true(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->off_wrap, OFFW(3, 1));
	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);

	/* Across the end of the ring: the device asks for slot 5, then 0 on lap 0. */
	assert_false(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->off_wrap, OFFW(5, 1));
	add_n(f, 2, 1, TOK(4)); /* slots 5, 6, 7 */
	assert_true(packed_drv_publish(&f->drv));
	assert_int_equal(pop(f), 1);
	assert_false(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->off_wrap, OFFW(0, 0));
	for (unsigned int i = 0; i < 5; i++) {
		assert_true(packed_dev_push(&f->dev, fake_chain(f, i, 64), 0));
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	}
	add_n(f, 1, 0, TOK(5)); /* slot 0, lap 0 */
	assert_int_equal(gdesc(f, 0)->flags, F_USED);
	assert_true(packed_drv_publish(&f->drv));
	assert_false(f->dev.broken);
}

/*
 * The driver's window crosses the end of the ring: it has made slots 3
 * (lap 1) and 0 (lap 0) available since its last publish.  Whether it
 * notifies depends on the device's off_wrap, wrap counter included.
 */
static bool publish_across_end(struct fx *f, uint16_t off_wrap)
{
	fx_init(f, 4, true, false);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(add_n(f, 1, 0, TOK(i)), i);
	packed_drv_publish(&f->drv);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(pop(f), 1);
		assert_true(packed_dev_push(&f->dev, &f->c, 0));
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	}
	assert_true(add_n(f, 1, 1, TOK(3)) >= 0); /* slots 3 and 0 */
	assert_int_equal(f->drv.next_avail, 1);
	assert_false(f->drv.avail_wrap);
	gdevice(f)->off_wrap = off_wrap;
	gdevice(f)->flags = EV_DESC;
	return packed_drv_publish(&f->drv);
}

static void test_notify_desc_across_end(void **state)
{
	struct fx *f = *state;

	assert_true(publish_across_end(f, OFFW(3, 1)));
	assert_true(publish_across_end(f, OFFW(0, 0)));
	/* The same slots one lap earlier or later are not in the window. */
	assert_false(publish_across_end(f, OFFW(0, 1)));
	assert_false(publish_across_end(f, OFFW(3, 0)));
	/* Nor the slots either side of it. */
	assert_false(publish_across_end(f, OFFW(1, 0)));
	assert_false(publish_across_end(f, OFFW(2, 1)));
	/* DISABLE beats everything; ENABLE always notifies. */
	assert_true(publish_across_end(f, OFFW(3, 1)));
	gdevice(f)->flags = EV_DISABLE;
	add_n(f, 1, 0, TOK(9));
	assert_false(packed_drv_publish(&f->drv));
	gdevice(f)->flags = EV_ENABLE;
	add_n(f, 1, 0, TOK(10));
	assert_true(packed_drv_publish(&f->drv));
}

/* A whole ring added between publishes has passed any event: notify. */
static void test_notify_whole_ring_between_publishes(void **state)
{
	struct fx *f = *state;

	fx_init(f, 4, true, false);
	assert_false(packed_dev_enable_notify(&f->dev));
	assert_int_equal(gdevice(f)->off_wrap, OFFW(0, 1));
	add_n(f, 1, 0, TOK(0));
	assert_true(packed_drv_publish(&f->drv));
	/* Seven slots (over a lap and a half) without a publish... */
	packed_dev_disable_notify(&f->dev);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(0));
	for (unsigned int i = 0; i < 7; i++) {
		add_n(f, 1, 0, TOK(i));
		assert_int_equal(pop(f), 1);
		assert_true(packed_dev_push(&f->dev, &f->c, 0));
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	}
	assert_int_equal(f->drv.num_added, 4); /* saturated at the ring size */
	/*
	 * ...with the device asking for slot 2 of lap 1, which they passed
	 * (positions 1 to 7).  Measured modulo 8 from 4 slots back it would
	 * look far ahead; a whole ring added must notify instead.
	 */
	gdevice(f)->off_wrap = OFFW(2, 1);
	gdevice(f)->flags = EV_DESC;
	assert_true(packed_drv_publish(&f->drv));
}

/* ---- notifications: the driver asking for signals --------------------------- */

/* Add, pop and push one 1-slot buffer; returns should_signal(). */
static bool complete_one(struct fx *f, void *token)
{
	assert_true(add_n(f, 1, 0, token) >= 0);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	return packed_dev_should_signal(&f->dev);
}

static void test_signal_no_event_idx(void **state)
{
	struct fx *f = *state;
	unsigned int signals = 0;

	fx_init(f, 8, false, false);
	for (unsigned int i = 0; i < 3; i++)
		signals += complete_one(f, TOK(i));
	assert_int_equal(signals, 3);

	packed_drv_disable_cb(&f->drv);
	assert_int_equal(gdriver(f)->flags, EV_DISABLE);
	for (unsigned int i = 3; i < 6; i++)
		signals += complete_one(f, TOK(i));
	assert_int_equal(signals, 3);
	/* Enabling with six waiting: reap first. */
	assert_false(packed_drv_enable_cb(&f->drv));
	assert_int_equal(gdriver(f)->flags, EV_ENABLE);
	for (unsigned int i = 0; i < 6; i++)
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	/* Without EVENT_IDX reaping leaves off_wrap alone. */
	assert_int_equal(gdriver(f)->off_wrap, 0);
	assert_true(packed_drv_enable_cb(&f->drv));
	signals += complete_one(f, TOK(6));
	assert_int_equal(signals, 4);
	assert_false(f->dev.broken);
}

static void test_signal_event_idx(void **state)
{
	struct fx *f = *state;
	unsigned int signals = 0;

	fx_init(f, 8, true, false);
	assert_int_equal(gdriver(f)->off_wrap, OFFW(0, 1));
	/* The first decision signals; the next, with the event passed, not. */
	signals += complete_one(f, TOK(0));
	assert_int_equal(signals, 1);
	signals += complete_one(f, TOK(1));
	assert_int_equal(signals, 1);
	assert_int_equal(f->dev.signalled_used, 2);

	/* Reaping moves the event along to the next used descriptor. */
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(0));
	assert_int_equal(gdriver(f)->off_wrap, OFFW(1, 1));
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(1));
	assert_int_equal(gdriver(f)->off_wrap, OFFW(2, 1));
	signals += complete_one(f, TOK(2));
	assert_int_equal(signals, 2);

	/* Disabled: reaping leaves off_wrap where it was, and nothing signals. */
	packed_drv_disable_cb(&f->drv);
	assert_int_equal(gdriver(f)->flags, EV_DISABLE);
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(2));
	assert_int_equal(gdriver(f)->off_wrap, OFFW(2, 1));
	signals += complete_one(f, TOK(3));
	assert_int_equal(signals, 2);

	/* Enabling asks for the used descriptor at last_used, 3; one is there. */
	assert_false(packed_drv_enable_cb(&f->drv));
	assert_int_equal(gdriver(f)->flags, EV_DESC);
	assert_int_equal(gdriver(f)->off_wrap, OFFW(3, 1));
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(3));
	assert_int_equal(gdriver(f)->off_wrap, OFFW(4, 1));
	assert_true(packed_drv_enable_cb(&f->drv));
	signals += complete_one(f, TOK(4));
	assert_int_equal(signals, 3);

	/* Into lap 0: slots 5, 6, 7 then 0. */
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(4));
	for (unsigned int i = 5; i < 8; i++) {
		signals += complete_one(f, TOK(i));
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	}
	assert_int_equal(signals, 6);
	assert_int_equal(gdriver(f)->off_wrap, OFFW(0, 0));
	signals += complete_one(f, TOK(8));
	assert_int_equal(signals, 7);
	assert_int_equal(f->dev.next_used, 1);
	assert_false(f->dev.used_wrap);
	assert_false(f->dev.broken);
}

/*
 * The device's window crosses the end of the ring: since its last decision
 * (at slot 3, lap 1) it has used one 2-slot buffer, slots 3 and 0 (lap 0).
 * Whether it signals depends on the driver's off_wrap, wrap counter included.
 */
static bool signal_across_end(struct fx *f, uint16_t off_wrap)
{
	fx_init(f, 4, true, false);
	packed_drv_disable_cb(&f->drv);
	for (unsigned int i = 0; i < 3; i++) {
		complete_one(f, TOK(i));
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	}
	assert_int_equal(f->dev.signalled_used, 3);
	assert_true(f->dev.signalled_wrap);
	assert_int_equal(add_n(f, 1, 1, TOK(3)), 0);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_int_equal(f->dev.next_used, 1);
	assert_false(f->dev.used_wrap);
	gdriver(f)->off_wrap = off_wrap;
	gdriver(f)->flags = EV_DESC;
	return packed_dev_should_signal(&f->dev);
}

static void test_signal_desc_across_end(void **state)
{
	struct fx *f = *state;

	assert_true(signal_across_end(f, OFFW(3, 1)));
	assert_true(signal_across_end(f, OFFW(0, 0)));
	assert_false(signal_across_end(f, OFFW(0, 1)));
	assert_false(signal_across_end(f, OFFW(3, 0)));
	assert_false(signal_across_end(f, OFFW(1, 0))); /* not reached yet */
	assert_false(signal_across_end(f, OFFW(2, 1))); /* passed before */
	/* DISABLE / ENABLE are what they say, whatever off_wrap holds. */
	assert_true(signal_across_end(f, OFFW(3, 1)));
	gdriver(f)->flags = EV_DISABLE;
	assert_false(complete_one(f, TOK(10)));
	gdriver(f)->flags = EV_ENABLE;
	assert_true(complete_one(f, TOK(11)));
	assert_false(f->dev.broken);
}

/* One one-slot buffer round trip, no decision about signalling. */
static void push_one_quietly(struct fx *f)
{
	assert_true(add_n(f, 1, 0, TOK(1)) >= 0);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_non_null(packed_drv_get_used(&f->drv, NULL));
}

/*
 * The first decision has no window to look at, so it signals; so does one
 * after two laps of pushes, which positions modulo 2 * size cannot measure.
 */
static void test_signal_first_and_forgotten(void **state)
{
	struct fx *f = *state;

	/* The driver asks for slot 3, but the first decision signals anyway. */
	fx_init(f, 4, true, false);
	gdriver(f)->off_wrap = OFFW(3, 1);
	assert_false(f->dev.signalled_valid);
	assert_true(complete_one(f, TOK(0)));
	assert_true(f->dev.signalled_valid);
	assert_false(complete_one(f, TOK(1)));
	/* ...unless it says DISABLE. */
	fx_init(f, 4, true, false);
	packed_drv_disable_cb(&f->drv);
	assert_false(complete_one(f, TOK(0)));

	/*
	 * Seven pushes between decisions (positions 1 to 8): still measured
	 * exactly.  The driver asks for position 8 (slot 0, lap 1 again),
	 * which is next_used itself, not yet written: no signal.
	 */
	fx_init(f, 4, true, false);
	packed_drv_disable_cb(&f->drv);
	assert_false(complete_one(f, TOK(0)));
	gdriver(f)->flags = EV_DESC;
	for (unsigned int i = 0; i < 7; i++)
		push_one_quietly(f);
	assert_int_equal(f->dev.next_used, 0);
	assert_true(f->dev.used_wrap);
	assert_true(f->dev.signalled_valid);
	gdriver(f)->off_wrap = OFFW(0, 1);
	assert_false(packed_dev_should_signal(&f->dev));
	/* And a position inside the window does signal. */
	push_one_quietly(f);
	push_one_quietly(f);
	gdriver(f)->off_wrap = OFFW(1, 1);
	assert_true(packed_dev_should_signal(&f->dev));

	/*
	 * Eight (two laps): next_used is back where the decision was, the
	 * window would measure 0 and miss the event at (2, lap 0) it passed.
	 * The decision point is forgotten instead, so it signals.
	 */
	for (unsigned int i = 0; i < 7; i++)
		push_one_quietly(f);
	assert_true(f->dev.signalled_valid);
	push_one_quietly(f);
	assert_false(f->dev.signalled_valid);
	assert_int_equal(f->dev.next_used, f->dev.signalled_used);
	assert_int_equal(f->dev.used_wrap, f->dev.signalled_wrap);
	gdriver(f)->off_wrap = OFFW(2, 0);
	assert_true(packed_dev_should_signal(&f->dev));
	assert_false(f->dev.broken);
}

/* has_avail, and what the device does with flags that are not "available". */
static void test_has_avail(void **state)
{
	struct fx *f = *state;

	fx_init(f, 4, false, false);
	assert_false(packed_dev_has_avail(&f->dev));
	/* A previous-lap descriptor (AVAIL 0, USED 1) is not available on lap 1. */
	put_desc(f, 0, DATA, 8, 0, F_USED);
	assert_false(packed_dev_has_avail(&f->dev));
	assert_int_equal(pop(f), 0);
	put_desc(f, 0, DATA, 8, 0, 0);
	assert_int_equal(pop(f), 0);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL);
	assert_true(packed_dev_has_avail(&f->dev));
	assert_int_equal(pop(f), 1);
	assert_false(packed_dev_has_avail(&f->dev));

	/* On lap 0, the lap-1 marking is stale. */
	fx_init(f, 4, false, false);
	cycle(f, 4);
	assert_false(f->dev.avail_wrap);
	assert_false(packed_dev_has_avail(&f->dev)); /* slot 0 holds our used desc */
	put_desc(f, 0, DATA, 8, 0, F_AVAIL);
	assert_false(packed_dev_has_avail(&f->dev));
	put_desc(f, 0, DATA, 8, 0, F_USED);
	assert_true(packed_dev_has_avail(&f->dev));
	assert_int_equal(pop(f), 1);
	assert_false(f->dev.broken);
}

/* ---- a guest breaking the rules ----------------------------------------- */

static void test_bad_head_flags(void **state)
{
	struct fx *f = *state;

	/* AVAIL and USED both 1 on lap 1: how a used descriptor looks. */
	fx_init(f, 8, false, false);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL | F_USED);
	assert_true(packed_dev_has_avail(&f->dev)); /* so that the pop reports it */
	pop_broken(f, "slot 0: flags 0x8080 are neither available nor used (wrap counter 1)");

	/* Both 0 on lap 0. */
	fx_init(f, 4, false, false);
	cycle(f, 5);
	put_desc(f, 1, DATA, 8, 0, NEXT);
	pop_broken(f, "slot 1: flags 0x1 are neither available nor used (wrap counter 0)");
}

static void test_bad_chain_not_available(void **state)
{
	struct fx *f = *state;

	/* A descriptor in the middle still marked for the last lap. */
	fx_init(f, 8, false, false);
	add_n(f, 2, 1, TOK(0));
	gdesc(f, 1)->flags = F_USED | NEXT;
	pop_broken(f, "chain from slot 0 continues into slot 1, which is not available "
		      "(flags 0x8001, wrap counter 1)");

	/* The head made available, the rest never written. */
	fx_init(f, 8, false, false);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL | NEXT);
	pop_broken(f, "chain from slot 0 continues into slot 1, which is not available "
		      "(flags 0x0, wrap counter 1)");

	/* The second descriptor marked used. */
	fx_init(f, 8, false, false);
	add_n(f, 1, 2, TOK(0));
	gdesc(f, 2)->flags = F_AVAIL | F_USED | WRITE;
	pop_broken(f, "chain from slot 0 continues into slot 2, which is not available "
		      "(flags 0x8082, wrap counter 1)");

	/* Crossing the end without flipping the wrap counter. */
	fx_init(f, 4, false, false);
	cycle(f, 3);
	put_desc(f, 3, DATA, 8, 0, F_AVAIL | NEXT);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL);
	pop_broken(f, "chain from slot 3 continues into slot 0, which is not available "
		      "(flags 0x80, wrap counter 0)");

	/* Flipped, correctly: fine. */
	fx_init(f, 4, false, false);
	cycle(f, 3);
	put_desc(f, 3, DATA, 8, 0, F_AVAIL | NEXT);
	put_desc(f, 0, DATA + 8, 8, 1, F_USED);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.id, 1);
	assert_int_equal(f->c.ndesc, 2);
	assert_int_equal(f->dev.next_avail, 1);
	assert_false(f->dev.avail_wrap);
}

static void test_bad_chain_longer_than_ring(void **state)
{
	struct fx *f = *state;

	/* NEXT all the way round. */
	fx_init(f, 8, false, false);
	for (uint16_t s = 0; s < 8; s++)
		put_desc(f, s, DATA + s, 1, 0, F_AVAIL | NEXT);
	pop_broken(f, "chain from slot 0 is longer than the ring (8 descriptors)");

	/* From the middle, flags right on both laps: still caught by counting. */
	fx_init(f, 8, false, false);
	cycle(f, 5);
	for (uint16_t s = 0; s < 8; s++)
		put_desc(f, s, DATA + s, 1, 0, (s >= 5 ? F_AVAIL : F_USED) | NEXT);
	pop_broken(f, "chain from slot 5 is longer than the ring (8 descriptors)");

	/* A chain exactly the ring's size is fine. */
	fx_init(f, 8, false, false);
	for (uint16_t s = 0; s < 8; s++)
		put_desc(f, s, DATA + s, 1, 7, F_AVAIL | (s < 7 ? NEXT : 0));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.ndesc, 8);
	assert_int_equal(f->c.id, 7);
	assert_int_equal(f->dev.next_avail, 0);
	assert_false(f->dev.avail_wrap);
}

static void test_bad_id_out_of_range(void **state)
{
	struct fx *f = *state;

	fx_init(f, 256, false, false);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL | NEXT);
	put_desc(f, 1, DATA, 8, 300, F_AVAIL);
	pop_broken(f, "buffer id 300 out of range (256)");

	fx_init(f, 256, false, false);
	put_desc(f, 0, DATA, 8, 256, F_AVAIL);
	pop_broken(f, "buffer id 256 out of range (256)");

	fx_init(f, 1, false, false);
	put_desc(f, 0, DATA, 8, UINT16_MAX, F_AVAIL);
	pop_broken(f, "buffer id 65535 out of range (1)");
}

static void test_bad_id_in_flight(void **state)
{
	struct fx *f = *state;

	fx_init(f, 8, false, false);
	assert_int_equal(add_n(f, 1, 1, TOK(0)), 0);
	assert_int_equal(pop(f), 1);
	/* The driver makes id 0 available again while we still have it. */
	put_desc(f, 2, DATA, 8, 0, F_AVAIL);
	pop_broken(f, "buffer id 0 is already in flight");

	/* After it came back, the id is free again. */
	fx_init(f, 8, false, false);
	assert_int_equal(add_n(f, 1, 1, TOK(0)), 0);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	put_desc(f, 2, DATA, 8, 0, F_AVAIL);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.id, 0);
}

static void test_bad_readable_after_writable(void **state)
{
	struct fx *f = *state;
	struct vring_packed_desc *t = (struct vring_packed_desc *)(f->ram + TABLES);

	fx_init(f, 8, false, false);
	put_desc(f, 1, DATA, 8, 0, F_AVAIL);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL | WRITE | NEXT);
	pop_broken(f, "slot 1: readable descriptor after a writable one");

	fx_init(f, 8, false, true);
	t[0] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	t[1] = (struct vring_packed_desc){ DATA, 8, 0, WRITE };
	t[2] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	put_desc(f, 0, TABLES, 48, 0, F_AVAIL | INDIR);
	pop_broken(f, "slot 0 indirect entry 2: readable descriptor after a writable one");
}

static void test_bad_zero_len(void **state)
{
	struct fx *f = *state;
	struct lg_sg sg[2] = { { DATA, 8 }, { DATA + 64, 0 } };
	struct vring_packed_desc *t = (struct vring_packed_desc *)(f->ram + TABLES);

	fx_init(f, 8, false, false);
	assert_int_equal(packed_drv_add(&f->drv, sg, 1, 1, TOK(0)), 0);
	pop_broken(f, "slot 1: zero length");

	fx_init(f, 8, false, false);
	put_desc(f, 0, DATA, 0, 0, F_AVAIL);
	pop_broken(f, "slot 0: zero length");

	fx_init(f, 8, false, true);
	t[0] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	t[1] = (struct vring_packed_desc){ DATA, 0, 0, 0 };
	put_desc(f, 0, TABLES, 32, 0, F_AVAIL | INDIR);
	pop_broken(f, "slot 0 indirect entry 1: zero length");
}

/* One descriptor (at slot 0) with these values; the pop must fail. */
static void bad_range(struct fx *f, uint64_t addr, uint32_t len)
{
	char msg[160];

	fx_init(f, 8, false, false);
	put_desc(f, 0, addr, len, 0, F_AVAIL);
	snprintf(msg, sizeof(msg), "slot 0: addr 0x%llx len %u is outside guest RAM",
		 (unsigned long long)addr, len);
	pop_broken(f, msg);
}

static void test_bad_outside_ram(void **state)
{
	struct fx *f = *state;

	bad_range(f, RAM_SIZE, 1);
	bad_range(f, RAM_SIZE - 1, 2);
	bad_range(f, RAM_SIZE - 4000, 4001);
	bad_range(f, DATA, UINT32_MAX);
	bad_range(f, UINT64_MAX, 1);
	/* addr + len wraps past 2^64 to something small. */
	bad_range(f, UINT64_MAX - 0xfff, 0x2000);
	bad_range(f, 1ull << 63, 16);

	/* The edges themselves are fine, in a chain too. */
	fx_init(f, 8, false, false);
	put_desc(f, 0, RAM_SIZE - 1, 1, 0, F_AVAIL | NEXT);
	put_desc(f, 1, 0, RAM_SIZE, 0, F_AVAIL | WRITE);
	assert_int_equal(pop(f), 1);
	assert_ptr_equal(f->c.seg[0].iov_base, f->ram + RAM_SIZE - 1);
	assert_ptr_equal(f->c.seg[1].iov_base, f->ram);
	assert_int_equal(f->c.seg[1].iov_len, RAM_SIZE);

	/* A later descriptor outside: named by its slot. */
	fx_init(f, 8, false, false);
	put_desc(f, 0, DATA, 8, 0, F_AVAIL | NEXT);
	put_desc(f, 1, DATA, 8, 0, F_AVAIL | NEXT);
	put_desc(f, 2, RAM_SIZE - 8, 9, 0, F_AVAIL);
	pop_broken(f, "slot 2: addr 0x3ffff8 len 9 is outside guest RAM");
}

/*
 * More than 4 GiB in one chain.  No test RAM is that big, so the device
 * gets a guest_mem that claims 64 GiB over our 4 MiB: guest_iov() only
 * does arithmetic, and nothing here touches the buffers.
 */
static void test_bad_total_len(void **state)
{
	struct fx *f = *state;
	struct guest_mem big = { .base = f->ram, .size = 1ull << 36 };

	fx_init(f, 8, false, false);
	packed_dev_destroy(&f->dev);
	assert_true(packed_dev_init(&f->dev, &big, NAME, 8, RING, RING + 128, RING + 132, false,
				    false));
	put_desc(f, 0, 1ull << 32, 0xfffffff0, 0, F_AVAIL | NEXT);
	put_desc(f, 1, 1ull << 33, 0xf, 0, F_AVAIL);
	/* Exactly UINT32_MAX: fine. */
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.read_len, UINT32_MAX);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));

	put_desc(f, 2, 1ull << 32, 0xfffffff0, 0, F_AVAIL | NEXT);
	put_desc(f, 3, 1ull << 33, 0x8, 0, F_AVAIL | WRITE | NEXT);
	put_desc(f, 4, 1ull << 34, 0x8, 0, F_AVAIL | WRITE);
	pop_broken(f, "chain from slot 2 is longer than 4294967295 bytes");
}

static void test_bad_too_many_segments(void **state)
{
	struct fx *f = *state;
	struct vring_packed_desc *t = (struct vring_packed_desc *)(f->ram + TABLES);

	/* 512 ring descriptors: fine. */
	fx_init(f, 1024, false, false);
	for (uint16_t s = 0; s < CHAIN_MAX_SEGS; s++)
		put_desc(f, s, DATA + s, 1, 3, F_AVAIL | (s + 1 < CHAIN_MAX_SEGS ? NEXT : 0));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.nread, CHAIN_MAX_SEGS);

	/* 513: refused. */
	fx_init(f, 1024, false, false);
	for (uint16_t s = 0; s <= CHAIN_MAX_SEGS; s++)
		put_desc(f, s, DATA + s, 1, 3, F_AVAIL | (s < CHAIN_MAX_SEGS ? NEXT : 0));
	pop_broken(f, "chain from slot 0 needs more than 512 segments");

	/* Through an indirect table. */
	fx_init(f, 8, false, true);
	for (unsigned int i = 0; i <= CHAIN_MAX_SEGS; i++)
		t[i] = (struct vring_packed_desc){ DATA + i, 1, 0, 0 };
	put_desc(f, 0, TABLES, (CHAIN_MAX_SEGS + 1) * 16, 0, F_AVAIL | INDIR);
	pop_broken(f, "chain from slot 0 needs more than 512 segments");

	/* A table as big as RAM allows stops there too, not at its end. */
	fx_init(f, 8, false, true);
	for (unsigned int i = 0; i <= CHAIN_MAX_SEGS; i++)
		t[i] = (struct vring_packed_desc){ DATA + i, 1, 0, 0 };
	put_desc(f, 0, TABLES, RAM_SIZE - TABLES, 0, F_AVAIL | INDIR);
	pop_broken(f, "chain from slot 0 needs more than 512 segments");
}

static void test_bad_indirect_without_feature(void **state)
{
	struct fx *f = *state;
	struct lg_sg sg = { DATA, 8 };

	fx_init(f, 8, false, false);
	assert_int_equal(packed_drv_add_indirect(&f->drv, &sg, 1, 0,
						 (struct vring_packed_desc *)(f->ram + TABLES),
						 TABLES, TOK(0)),
			 0);
	pop_broken(f, "slot 0: INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated");
}

static void test_bad_indirect_chained(void **state)
{
	struct fx *f = *state;
	struct vring_packed_desc *t = (struct vring_packed_desc *)(f->ram + TABLES);

	fx_init(f, 8, false, true);
	t[0] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	put_desc(f, 0, TABLES, 16, 0, F_AVAIL | INDIR | NEXT);
	put_desc(f, 1, DATA, 8, 0, F_AVAIL);
	pop_broken(f, "slot 0: INDIRECT together with NEXT");

	fx_init(f, 8, false, true);
	t[0] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	put_desc(f, 0, DATA, 8, 0, F_AVAIL | NEXT);
	put_desc(f, 1, TABLES, 16, 0, F_AVAIL | INDIR);
	pop_broken(f, "slot 1: INDIRECT inside a chain of direct descriptors");
}

static void bad_table(struct fx *f, uint64_t addr, uint32_t len, const char *msg)
{
	struct vring_packed_desc *t = (struct vring_packed_desc *)(f->ram + TABLES);

	fx_init(f, 8, false, true);
	for (unsigned int i = 0; i < 4; i++)
		t[i] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	put_desc(f, 0, addr, len, 0, F_AVAIL | INDIR);
	pop_broken(f, msg);
}

static void test_bad_indirect_table(void **state)
{
	struct fx *f = *state;

	bad_table(f, TABLES, 0, "slot 0: indirect table length 0");
	bad_table(f, TABLES, 24, "slot 0: indirect table length 24 is not a multiple of 16");
	bad_table(f, TABLES, 17, "slot 0: indirect table length 17 is not a multiple of 16");
	bad_table(f, TABLES + 4, 32, "slot 0: indirect table at 0x190004 is not 8-byte aligned");
	bad_table(f, RAM_SIZE - 16, 32,
		  "slot 0: indirect table at 0x3ffff0 len 32 is outside guest RAM");
	bad_table(f, UINT64_MAX - 15, 32,
		  "slot 0: indirect table at 0xfffffffffffffff0 len 32 is outside guest RAM");
	/* 8-aligned (not 16) is enough. */
	fx_init(f, 8, false, true);
	*(struct vring_packed_desc *)(f->ram + TABLES + 8) =
		(struct vring_packed_desc){ DATA, 8, 0, WRITE };
	put_desc(f, 0, TABLES + 8, 16, 0, F_AVAIL | INDIR);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->c.nwrite, 1);
}

static void test_bad_nested_indirect(void **state)
{
	struct fx *f = *state;
	struct vring_packed_desc *t = (struct vring_packed_desc *)(f->ram + TABLES);

	fx_init(f, 8, false, true);
	t[0] = (struct vring_packed_desc){ DATA, 8, 0, 0 };
	t[1] = (struct vring_packed_desc){ TABLES, 16, 0, INDIR };
	put_desc(f, 0, TABLES, 32, 0, F_AVAIL | INDIR);
	pop_broken(f, "slot 0 indirect entry 1: nested INDIRECT");
}

/* A good buffer completed, then should_signal() reads a bad driver area. */
static void bad_driver_area(struct fx *f, bool event_idx, uint16_t flags, uint16_t off_wrap,
			    const char *msg)
{
	fx_init(f, 8, event_idx, false);
	assert_int_equal(add_n(f, 1, 0, TOK(0)), 0);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	gdriver(f)->flags = flags;
	gdriver(f)->off_wrap = off_wrap;
	snapshot(f);
	assert_false(packed_dev_should_signal(&f->dev));
	assert_broken(f, msg);
}

static void test_bad_driver_area(void **state)
{
	struct fx *f = *state;

	bad_driver_area(f, true, 3, 0, "driver area flags 0x3 are reserved");
	bad_driver_area(f, false, 3, 0, "driver area flags 0x3 are reserved");
	bad_driver_area(f, true, 0x8000, 0, "driver area flags 0x8000 are reserved");
	bad_driver_area(f, true, 0x4 | EV_DESC, 0, "driver area flags 0x6 are reserved");
	bad_driver_area(f, false, EV_DESC, OFFW(1, 1),
			"driver area flags DESC without VIRTIO_F_RING_EVENT_IDX");
	bad_driver_area(f, true, EV_DESC, OFFW(8, 1),
			"driver area event offset 8 out of range (8)");
	bad_driver_area(f, true, EV_DESC, 0x7fff,
			"driver area event offset 32767 out of range (8)");
}

static void test_bad_push(void **state)
{
	struct fx *f = *state;

	fx_init(f, 256, false, false);
	snapshot(f);
	assert_false(packed_dev_push(&f->dev, fake_chain(f, 3, 0), 0));
	assert_broken(f, "push of buffer id 3, which is not in flight");

	fx_init(f, 256, false, false);
	snapshot(f);
	assert_false(packed_dev_push(&f->dev, fake_chain(f, 300, 0), 0));
	assert_broken(f, "push of buffer id 300, which is not in flight");

	fx_init(f, 256, false, false);
	snapshot(f);
	assert_false(packed_dev_push(&f->dev, fake_chain(f, CHAIN_NO_ID, 0), 0));
	assert_broken(f, "push of buffer id 4294967295, which is not in flight");

	/* Twice. */
	fx_init(f, 256, false, false);
	assert_int_equal(add_n(f, 1, 0, TOK(0)), 0);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	snapshot(f);
	assert_false(packed_dev_push(&f->dev, &f->c, 0));
	assert_broken(f, "push of buffer id 0, which is not in flight");
}

/*
 * The driver makes available a slot of a buffer still in flight: more
 * than the ring holds would be outstanding.
 */
static void test_bad_overfill(void **state)
{
	struct fx *f = *state;

	fx_init(f, 4, false, false);
	assert_int_equal(add_n(f, 1, 1, TOK(0)), 0);
	assert_int_equal(add_n(f, 2, 0, TOK(1)), 1);
	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);
	put_desc(f, 0, DATA, 8, 2, F_USED);
	pop_broken(f, "chain from slot 0 overfills the ring (4 slots in flight, 1 more)");

	/* Once one buffer is back, its two slots may be reused. */
	fx_init(f, 4, false, false);
	assert_int_equal(add_n(f, 1, 1, TOK(0)), 0);
	assert_int_equal(add_n(f, 2, 0, TOK(1)), 1);
	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, fake_chain(f, 1, 0), 0));
	put_desc(f, 1, DATA, 8, 2, F_USED);
	put_desc(f, 0, DATA, 8, 2, F_USED | NEXT);
	assert_int_equal(pop(f), 1);
	/* But not a third. */
	put_desc(f, 2, DATA, 8, 3, F_USED);
	pop_broken(f, "chain from slot 2 overfills the ring (4 slots in flight, 1 more)");
}

/*
 * The guest changes a descriptor while the device reads it.  Whatever the
 * interleaving, a chain the device accepts must carry exactly the values
 * it checked: here the only in-RAM combination is (DATA, 16), so a popped
 * segment with anything else means a value was read twice.
 */
struct flipper {
	struct vring_packed_desc *desc;
	int stop;
};

static void *flip_desc(void *arg)
{
	struct flipper *fl = arg;
	uint64_t n = 0;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&fl->desc->len, n & 1 ? 16 : 1u << 31, __ATOMIC_RELAXED);
		__atomic_store_n(&fl->desc->addr, n & 2 ? DATA : DATA + (1ull << 40),
				 __ATOMIC_RELAXED);
		n++;
	}
	return NULL;
}

static void test_descriptor_changing_underneath(void **state)
{
	struct fx *f = *state;
	struct flipper fl;
	unsigned int ok = 0, refused = 0;
	pthread_t t;

	fx_init(f, 1, false, false);
	fl = (struct flipper){ .desc = gdesc(f, 0) };
	put_desc(f, 0, DATA, 16, 0, 0);
	assert_int_equal(pthread_create(&t, NULL, flip_desc, &fl), 0);
	for (int i = 0; i < 100000; i++) {
		int r;

		/* The flags (and id) are ours; addr and len are the flipper's. */
		__atomic_store_n(&fl.desc->id, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&fl.desc->flags, AV(f->dev.avail_wrap) | WRITE, __ATOMIC_RELEASE);
		r = pop(f);
		if (r == 1) {
			if (f->c.seg[0].iov_base != f->ram + DATA || f->c.seg[0].iov_len != 16) {
				__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
				pthread_join(t, NULL);
				fail_msg("accepted a descriptor it did not check: %p len %zu",
					 f->c.seg[0].iov_base, f->c.seg[0].iov_len);
			}
			/* Our used descriptor writes len too: 16 keeps it in the game. */
			assert_true(packed_dev_push(&f->dev, &f->c, 16));
			ok++;
		} else {
			assert_int_equal(r, -1);
			if (!strstr(f->dev.error, "outside guest RAM")) {
				__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
				pthread_join(t, NULL);
				fail_msg("refused for the wrong reason: %s", f->dev.error);
			}
			refused++;
			/* Start over with a fresh device (the ring stays). */
			packed_dev_destroy(&f->dev);
			assert_true(packed_dev_init(&f->dev, &f->mem, NAME, 1, RING, RING + 16,
						    RING + 20, false, false));
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

	fx_init(f, 8, false, false);
	add_n(f, 1, 0, TOK(0));
	put_desc(f, 0, 0, 0, 8, F_AVAIL | F_USED);
	assert_true(packed_drv_has_used(&f->drv));
	assert_null(packed_drv_get_used(&f->drv, NULL));
	assert_drv_broken(f, "used buffer id out of range");
	assert_int_equal(f->drv.last_used, 0);
	assert_int_equal(f->drv.num_free, 7);
	assert_true(packed_drv_enable_cb(&f->drv)); /* nothing will come */
}

static void test_drv_used_id_not_outstanding(void **state)
{
	struct fx *f = *state;
	uint32_t len;

	/* An id never added. */
	fx_init(f, 8, false, false);
	add_n(f, 1, 0, TOK(0));
	put_desc(f, 0, 0, 0, 5, F_AVAIL | F_USED);
	assert_null(packed_drv_get_used(&f->drv, &len));
	assert_drv_broken(f, "used buffer id is not outstanding");

	/* A second completion of a buffer already reaped. */
	fx_init(f, 8, false, false);
	add_n(f, 1, 0, TOK(0));
	add_n(f, 1, 0, TOK(1));
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_ptr_equal(packed_drv_get_used(&f->drv, &len), TOK(0));
	put_desc(f, 1, 0, 4, 0, F_AVAIL | F_USED | WRITE);
	assert_null(packed_drv_get_used(&f->drv, &len));
	assert_drv_broken(f, "used buffer id is not outstanding");
	assert_int_equal(f->drv.last_used, 1);
	assert_int_equal(f->drv.num_free, 7);
}

/* What is not a used descriptor is not taken for one. */
static void test_drv_not_used(void **state)
{
	struct fx *f = *state;
	const uint16_t not_used[] = { 0, F_AVAIL, F_USED, F_AVAIL | NEXT };

	fx_init(f, 8, false, false);
	add_n(f, 1, 1, TOK(0));
	for (size_t i = 0; i < sizeof(not_used) / sizeof(not_used[0]); i++) {
		gdesc(f, 0)->flags = not_used[i];
		assert_false(packed_drv_has_used(&f->drv));
		assert_null(packed_drv_get_used(&f->drv, NULL));
	}
	assert_false(f->drv.broken);

	/*
	 * The trap in looking at USED alone.  Ring of 4: A takes slots 0-1,
	 * B slot 2, C slot 3; the device uses A (at 0), B (at 2), C (at 3),
	 * and D (lap 0, slot 0).  Now last_used is slot 1 on lap 0, which
	 * still holds A's second descriptor from lap 1: AVAIL 1, USED 0, and
	 * USED 0 is the lap-0 wrap counter.  It is not a used descriptor.
	 */
	fx_init(f, 4, false, false);
	assert_int_equal(add_n(f, 1, 1, TOK(0)), 0);
	assert_int_equal(add_n(f, 1, 0, TOK(1)), 1);
	assert_int_equal(add_n(f, 1, 0, TOK(2)), 2);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(pop(f), 1);
		assert_true(packed_dev_push(&f->dev, &f->c, 0));
	}
	for (unsigned int i = 0; i < 3; i++)
		assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(i));
	cycle(f, 1);
	assert_int_equal(f->drv.last_used, 1);
	assert_false(f->drv.used_wrap);
	assert_int_equal(gdesc(f, 1)->flags, F_AVAIL | WRITE);
	assert_false(packed_drv_has_used(&f->drv));
	assert_null(packed_drv_get_used(&f->drv, NULL));
	/* Once the device uses it on lap 0 (both bits 0), it is. */
	assert_int_equal(add_n(f, 1, 0, TOK(7)), 2);
	assert_int_equal(pop(f), 1);
	assert_true(packed_dev_push(&f->dev, &f->c, 0));
	assert_int_equal(gdesc(f, 1)->flags, 0);
	assert_true(packed_drv_has_used(&f->drv));
	assert_ptr_equal(packed_drv_get_used(&f->drv, NULL), TOK(7));
	assert_false(f->drv.broken);
}

/* ---- both sides at once, on two threads ----------------------------------- */

/*
 * The driver thread adds buffers carrying sequence numbers, notifies only
 * when publish says so, polls with callbacks disabled and sleeps only
 * after enable_cb() found nothing; the device thread pops with NOTIFYs
 * disabled, signals only when should_signal() says so, and sleeps only
 * after enable_notify() found nothing.  If a pairing of fences (or the
 * window arithmetic) were wrong, a wakeup would be lost and one side
 * would sleep until the timeout.
 */
#define THREAD_BUFS    200000
#define WAKE_TIMEOUT_S 20

struct threads {
	struct fx *f;
	sem_t notify, signal;
	int stop;
	bool timed_out;
	char err[256];
	unsigned long popped, notifies, signals;
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

static void *device_thread(void *arg)
{
	struct threads *t = arg;
	struct packed_dev *d = &t->f->dev;
	struct chain *c = &t->f->c2;
	uint64_t seq, check;
	int r;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		packed_dev_disable_notify(d);
		while ((r = packed_dev_pop(d, c)) == 1) {
			memcpy(&seq, c->seg[0].iov_base, sizeof(seq));
			if (seq != t->popped || c->nwrite != 1 || c->nread < 1 || c->nread > 2) {
				snprintf(t->err, sizeof(t->err),
					 "popped seq %llu (%u+%u segments), expected %lu",
					 (unsigned long long)seq, c->nread, c->nwrite, t->popped);
				return NULL;
			}
			if (c->nread == 2) {
				memcpy(&check, c->seg[1].iov_base, sizeof(check));
				if (check != ~seq) {
					snprintf(t->err, sizeof(t->err),
						 "seq %llu: bad 2nd segment",
						 (unsigned long long)seq);
					return NULL;
				}
			}
			t->popped++;
			seq = seq * 3 + 1;
			memcpy(chain_writable(c)[0].iov_base, &seq, sizeof(seq));
			packed_dev_push(d, c, sizeof(seq));
			if (packed_dev_should_signal(d)) {
				t->signals++;
				sem_post(&t->signal);
			}
		}
		if (r < 0) {
			snprintf(t->err, sizeof(t->err), "device broke: %s", d->error);
			return NULL;
		}
		/* Made available while we were asking?  Then go round again. */
		if (packed_dev_enable_notify(d))
			continue;
		if (!sem_wait_s(&t->notify, WAKE_TIMEOUT_S)) {
			t->timed_out = true;
			return NULL;
		}
	}
	return NULL;
}

/* A buffer's three pieces, by sequence number: in flight ones never share. */
static uint64_t seq_gpa(uint64_t seq, unsigned int piece)
{
	return DATA + (seq % 4096) * 32 + piece * 8;
}

static void run_threads(struct fx *f, uint16_t size, bool event_idx)
{
	struct threads t = { .f = f };
	struct packed_drv *q = &f->drv;
	uint64_t next = 0, reaped = 0;
	unsigned long sleeps = 0;
	pthread_t dev;

	fx_init(f, size, event_idx, false);
	assert_int_equal(sem_init(&t.notify, 0, 0), 0);
	assert_int_equal(sem_init(&t.signal, 0, 0), 0);
	assert_int_equal(pthread_create(&dev, NULL, device_thread, &t), 0);

	while (reaped < THREAD_BUFS) {
		bool added = false;
		uint32_t len;
		void *tok;

		/* Add a random batch: 2 or 3 slots each, sequence numbered. */
		while (next < THREAD_BUFS && q->num_free >= 3) {
			uint64_t inv = ~next;
			struct lg_sg sg[3];
			unsigned int out = 1 + rnd() % 2;

			memcpy(f->ram + seq_gpa(next, 0), &next, sizeof(next));
			memcpy(f->ram + seq_gpa(next, 1), &inv, sizeof(inv));
			sg[0] = (struct lg_sg){ seq_gpa(next, 0), 8 };
			sg[1] = (struct lg_sg){ seq_gpa(next, 1), 8 };
			sg[out] = (struct lg_sg){ seq_gpa(next, 2), 8 };
			if (packed_drv_add(q, sg, out, 1, TOK(next)) < 0)
				break;
			next++;
			added = true;
			if (rnd() % 16 == 0)
				break;
		}
		if (added && packed_drv_publish(q)) {
			t.notifies++;
			sem_post(&t.notify);
		}

		/* Poll with signals off... */
		packed_drv_disable_cb(q);
		while ((tok = packed_drv_get_used(q, &len))) {
			uint64_t got;

			memcpy(&got, f->ram + seq_gpa(reaped, 2), sizeof(got));
			if (tok != TOK(reaped) || len != 8 || got != reaped * 3 + 1)
				break;
			reaped++;
		}
		if (tok || q->broken || t.err[0] || t.timed_out || reaped == THREAD_BUFS)
			break;
		/* ...and before sleeping, turn them on and look once more. */
		if (q->num_free < 3 || next == THREAD_BUFS) {
			if (packed_drv_enable_cb(q)) {
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
	assert_false(q->broken);
	assert_false(f->dev.broken);
	assert_int_equal(reaped, THREAD_BUFS);
	assert_int_equal(t.popped, THREAD_BUFS);
	assert_int_equal(q->num_free, size);
	print_message(
		"    size %u%s: %lu notifies, %lu signals, %lu driver sleeps for %u buffers\n",
		size, event_idx ? " EVENT_IDX" : "", t.notifies, t.signals, sleeps, THREAD_BUFS);
}

static void test_threads_notify_protocol(void **state)
{
	rnd_state = 99;
	run_threads(*state, 64, false);
}

static void test_threads_notify_protocol_event_idx(void **state)
{
	rnd_state = 100;
	run_threads(*state, 64, true);
	run_threads(*state, 4, true);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_##name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(init_layout),
		T(dev_init_failures),
		T(round_trip),
		T(chain_lengths),
		T(id_from_last_descriptor),
		T(full_ring),
		T(out_of_order),
		T(wrap_in_order),
		T(wrap_out_of_order),
		T(wrap_tiny_rings),
		T(wrap_indirect_mix),
		T(indirect),
		T(notify_no_event_idx),
		T(notify_event_idx),
		T(notify_desc_across_end),
		T(notify_whole_ring_between_publishes),
		T(signal_no_event_idx),
		T(signal_event_idx),
		T(signal_desc_across_end),
		T(signal_first_and_forgotten),
		T(has_avail),
		T(bad_head_flags),
		T(bad_chain_not_available),
		T(bad_chain_longer_than_ring),
		T(bad_id_out_of_range),
		T(bad_id_in_flight),
		T(bad_readable_after_writable),
		T(bad_zero_len),
		T(bad_outside_ram),
		T(bad_total_len),
		T(bad_too_many_segments),
		T(bad_indirect_without_feature),
		T(bad_indirect_chained),
		T(bad_indirect_table),
		T(bad_nested_indirect),
		T(bad_driver_area),
		T(bad_push),
		T(bad_overfill),
		T(descriptor_changing_underneath),
		T(drv_used_id_out_of_range),
		T(drv_used_id_not_outstanding),
		T(drv_not_used),
		T(threads_notify_protocol),
		T(threads_notify_protocol_event_idx),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
