// SPDX-License-Identifier: GPL-2.0
/*
 * test_draft3.c: both halves of the draft-III queues, talking to each other
 * through a fake guest RAM.
 *
 * The "guest" is 1 MiB of page-aligned memory.  The device's six ring pages
 * sit at page frame KEY; the driver (guest/ring/draft3_drv.c) is set up on
 * those same pages through host pointers, and the device
 * (launcher/ring/draft3_dev.c) finds them through guest_ptr() as the
 * launcher would.  Data buffers live above DATA.
 *
 * Where a test needs the guest to misbehave it writes the ring pages by
 * hand (raw_publish(), gdesc()), since our own driver never would.  Every
 * such test checks the device's verdict: broken, the message (queue name
 * first), every later call failing, and not a byte of the ring pages
 * (the used pages above all) written after the snapshot.
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

#include "draft3.h"
#include "draft3_blk.h"
#include "draft3_drv.h"
#include "guest_mem.h"
#include "ring/draft3_dev.h"

#define RAM_SIZE  (1u << 20)
#define RAM_PAGES (RAM_SIZE / D3_PAGE_SIZE) /* 256 */
#define KEY	  16			    /* ring pages at 0x10000..0x15fff */
#define REQS	  0x18000		    /* block request headers, one page each */
#define DATA	  0x40000		    /* data buffers from here to the end */
#define NDESCS	  ((uint32_t)D3_NUM_DESCS)

/* Tokens are opaque to the queue; these are never dereferenced. */
#define TOK(i) ((void *)(uintptr_t)((i) + 1))

enum which { OUT, IN };

struct fx {
	uint8_t *ram;
	struct guest_mem mem;
	struct d3_dev dev;
	struct d3_drv_queue q[2]; /* q[OUT], q[IN] */
	struct chain c, c2;
	uint8_t snap[D3_NUM_PAGES * D3_PAGE_SIZE];
};

/* ---- the fixture ------------------------------------------------------ */

static uint8_t *ring_page(struct fx *f, enum d3_page p)
{
	return f->ram + ((uint64_t)KEY + p) * D3_PAGE_SIZE;
}

static struct d3_desc *gdesc(struct fx *f, enum which w)
{
	return (struct d3_desc *)ring_page(f, w == OUT ? D3_OUT_DESC : D3_IN_DESC);
}

static struct d3_avail *gavail(struct fx *f, enum which w)
{
	return (struct d3_avail *)ring_page(f, w == OUT ? D3_OUT_AVAIL : D3_IN_AVAIL);
}

static struct d3_used *gused(struct fx *f, enum which w)
{
	return (struct d3_used *)ring_page(f, w == OUT ? D3_OUT_USED : D3_IN_USED);
}

static struct d3_dev_queue *devq(struct fx *f, enum which w)
{
	return w == OUT ? &f->dev.out : &f->dev.in;
}

static const char *qprefix(enum which w)
{
	return w == OUT ? "out queue: " : "in queue: ";
}

static int pop(struct fx *f, enum which w, struct chain *c)
{
	return w == OUT ? d3_dev_pop_out(&f->dev, c) : d3_dev_pop_in(&f->dev, c);
}

/* The head a popped chain carries for queue @w. */
static uint32_t chain_head(const struct chain *c, enum which w)
{
	return w == OUT ? c->id : c->in_id;
}

static void fx_reset(struct fx *f)
{
	memset(f->ram, 0, RAM_SIZE);
	d3_drv_init(&f->q[IN], ring_page(f, D3_IN_DESC), ring_page(f, D3_IN_AVAIL),
		    ring_page(f, D3_IN_USED));
	d3_drv_init(&f->q[OUT], ring_page(f, D3_OUT_DESC), ring_page(f, D3_OUT_AVAIL),
		    ring_page(f, D3_OUT_USED));
	assert_true(d3_dev_init(&f->dev, &f->mem, KEY));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = aligned_alloc(D3_PAGE_SIZE, RAM_SIZE);
	if (!f->ram) {
		free(f);
		return -1;
	}
	f->mem = (struct guest_mem){ .base = f->ram, .size = RAM_SIZE };
	fx_reset(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

/* Add a one-segment buffer. */
static int add1(struct fx *f, enum which w, uint64_t gpa, uint32_t len, void *token)
{
	struct lg_sg sg = { gpa, len };

	return d3_drv_add(&f->q[w], &sg, 1, token);
}

/* Add a buffer of @n segments of 64 bytes, each in a page of its own. */
static int addn(struct fx *f, enum which w, unsigned int n, void *token)
{
	struct lg_sg sg[D3_NUM_DESCS];

	for (unsigned int i = 0; i < n; i++)
		sg[i] = (struct lg_sg){ DATA + (uint64_t)i * D3_PAGE_SIZE + 8, 64 };
	return d3_drv_add(&f->q[w], sg, n, token);
}

/* A misbehaving guest: make @head available without the driver's help. */
static void raw_publish(struct fx *f, enum which w, uint32_t head)
{
	struct d3_avail *a = gavail(f, w);

	a->ring[a->idx % NDESCS] = head;
	a->idx++;
}

/* A chain that owns nothing but the heads we want to give back. */
static struct chain *fake_chain(struct fx *f, uint32_t id, uint32_t in_id, uint64_t write_len)
{
	struct chain *c = &f->c2;

	c->nread = c->nwrite = 0;
	c->read_len = 0;
	c->write_len = write_len;
	c->id = id;
	c->in_id = in_id;
	c->ndesc = 0;
	return c;
}

static void snapshot(struct fx *f)
{
	memcpy(f->snap, ring_page(f, 0), sizeof(f->snap));
}

/*
 * The device must be broken with an error starting with @prefix and
 * containing @msg; every call must now fail without touching the pages.
 */
static void assert_broken(struct fx *f, const char *prefix, const char *msg)
{
	char first[sizeof(f->dev.error)];
	struct chain *c = &f->c2;

	assert_true(f->dev.broken);
	if (strncmp(f->dev.error, prefix, strlen(prefix)) != 0 || !strstr(f->dev.error, msg))
		fail_msg("error \"%s\" should start \"%s\" and contain \"%s\"", f->dev.error,
			 prefix, msg);
	memcpy(first, f->dev.error, sizeof(first));

	assert_int_equal(d3_dev_pop_out(&f->dev, c), -1);
	assert_int_equal(d3_dev_pop_in(&f->dev, c), -1);
	fake_chain(f, CHAIN_NO_ID, CHAIN_NO_ID, 0);
	assert_int_equal(d3_dev_join(&f->dev, c, 0), -1);
	assert_false(d3_dev_push(&f->dev, fake_chain(f, 0, 0, 1), 1));
	assert_false(d3_dev_has_avail(&f->dev));
	d3_dev_start_running(&f->dev);
	assert_false(d3_dev_stop_running(&f->dev));
	assert_false(d3_dev_signal_suppressed(&f->dev));

	/* The first error stays; nothing was written since the snapshot. */
	assert_string_equal(f->dev.error, first);
	assert_memory_equal(f->snap, ring_page(f, 0), sizeof(f->snap));
}

/* assert_broken() with a message built like printf. */
__attribute__((format(printf, 3, 4))) static void assert_brokenf(struct fx *f, const char *prefix,
								 const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	assert_broken(f, prefix, msg);
}

/* The driver must be broken with @msg, and give nothing more. */
static void assert_drv_broken(struct fx *f, enum which w, const char *msg)
{
	struct d3_drv_queue *q = &f->q[w];
	uint32_t len;

	assert_true(q->broken);
	assert_non_null(q->error);
	assert_string_equal(q->error, msg);
	assert_null(d3_drv_get_used(q, &len));
	assert_false(d3_drv_has_used(q));
	assert_int_equal(add1(f, w, DATA, 8, TOK(99)), -1);
	assert_false(d3_drv_publish(q));
}

/* ---- guest_mem ---------------------------------------------------------- */

static void test_guest_mem_bounds(void **state)
{
	struct fx *f = *state;
	const struct guest_mem *m = &f->mem;
	struct iovec iov;

	assert_ptr_equal(guest_ptr(m, 0, RAM_SIZE), f->ram);
	assert_ptr_equal(guest_ptr(m, 100, 1), f->ram + 100);
	assert_ptr_equal(guest_ptr(m, RAM_SIZE - 1, 1), f->ram + RAM_SIZE - 1);
	assert_null(guest_ptr(m, RAM_SIZE - 1, 2));
	assert_null(guest_ptr(m, RAM_SIZE, 1));
	assert_null(guest_ptr(m, 0, RAM_SIZE + 1));
	/* Zero length: fine up to and including the end, not beyond it. */
	assert_ptr_equal(guest_ptr(m, 0, 0), f->ram);
	assert_ptr_equal(guest_ptr(m, RAM_SIZE, 0), f->ram + RAM_SIZE);
	assert_null(guest_ptr(m, RAM_SIZE + 1, 0));
	/* gpa + len wraps to something small: must not pass. */
	assert_null(guest_ptr(m, UINT64_MAX, 2));
	assert_null(guest_ptr(m, 16, UINT64_MAX - 8));
	assert_null(guest_ptr(m, UINT64_MAX, 0));

	assert_true(guest_iov(m, 0x1234, 100, &iov));
	assert_ptr_equal(iov.iov_base, f->ram + 0x1234);
	assert_int_equal(iov.iov_len, 100);
	assert_true(guest_iov(m, RAM_SIZE - 10, 10, &iov));
	assert_ptr_equal(iov.iov_base, f->ram + RAM_SIZE - 10);
	iov.iov_base = NULL;
	assert_false(guest_iov(m, RAM_SIZE - 10, 11, &iov));
	assert_false(guest_iov(m, 4096, UINT64_MAX - 4095, &iov));
	assert_false(guest_iov(m, UINT64_MAX - 1, 4, &iov));
	assert_null(iov.iov_base); /* untouched on failure */
}

static void test_dev_init_bounds(void **state)
{
	struct fx *f = *state;
	struct d3_dev d;

	/* The last six pages of RAM are fine; one further is not. */
	assert_true(d3_dev_init(&d, &f->mem, RAM_PAGES - D3_NUM_PAGES));
	assert_false(d.broken);
	assert_ptr_equal(d.in.desc, f->ram + (RAM_PAGES - 6) * D3_PAGE_SIZE);
	assert_ptr_equal(d.out.used, f->ram + (RAM_PAGES - 1) * D3_PAGE_SIZE);

	assert_false(d3_dev_init(&d, &f->mem, RAM_PAGES - D3_NUM_PAGES + 1));
	assert_true(d.broken);
	assert_non_null(strstr(d.error, "outside guest RAM"));
	assert_int_equal(d3_dev_pop_out(&d, &f->c), -1);

	/* key << 12 wraps to page KEY: must not be mistaken for it. */
	assert_false(d3_dev_init(&d, &f->mem, (1ull << 52) + KEY));
	assert_false(d3_dev_init(&d, &f->mem, UINT64_MAX));
	assert_true(d.broken);
}

/* ---- driver basics ------------------------------------------------------ */

static void test_drv_init_and_add_layout(void **state)
{
	struct fx *f = *state;
	struct d3_drv_queue *q = &f->q[OUT];
	struct d3_desc *d = gdesc(f, OUT);
	struct lg_sg sg[3] = { { 0x41234, 10 }, { 0x50000, 4096 }, { 0x60fff, 1 } };
	int head;

	/* Init zeroes the pages, whatever was there. */
	memset(ring_page(f, D3_OUT_DESC), 0xaa, 3 * D3_PAGE_SIZE);
	d3_drv_init(q, ring_page(f, D3_OUT_DESC), ring_page(f, D3_OUT_AVAIL),
		    ring_page(f, D3_OUT_USED));
	assert_int_equal(q->num_free, 170);
	assert_int_equal(gavail(f, OUT)->idx, 0);
	assert_int_equal(gavail(f, OUT)->flags, 0);
	assert_int_equal(gused(f, OUT)->idx, 0);
	assert_int_equal(gused(f, OUT)->flags, 0);
	for (unsigned int i = 0; i < 169; i++)
		assert_int_equal(d[i].next, i + 1);

	head = d3_drv_add(q, sg, 3, TOK(0));
	assert_int_equal(head, 0);
	assert_int_equal(q->num_free, 167);
	assert_int_equal(q->free_head, 3);
	assert_int_equal(q->num_added, 1);
	assert_int_equal(d[0].pfn, 0x41);
	assert_int_equal(d[0].offset, 0x234);
	assert_int_equal(d[0].len, 10);
	assert_int_equal(d[0].flags, D3_DESC_F_HEAD | D3_DESC_F_NEXT);
	assert_int_equal(d[0].next, 1);
	assert_int_equal(d[1].pfn, 0x50);
	assert_int_equal(d[1].offset, 0);
	assert_int_equal(d[1].len, 4096);
	assert_int_equal(d[1].flags, D3_DESC_F_NEXT);
	assert_int_equal(d[1].next, 2);
	assert_int_equal(d[2].pfn, 0x60);
	assert_int_equal(d[2].offset, 0xfff);
	assert_int_equal(d[2].flags, 0);
	/* Written into the ring, but not yet published. */
	assert_int_equal(gavail(f, OUT)->ring[0], 0);
	assert_int_equal(gavail(f, OUT)->idx, 0);
	assert_false(d3_dev_has_avail(&f->dev));
	assert_int_equal(d3_dev_pop_out(&f->dev, &f->c), 0);

	assert_true(d3_drv_publish(q));
	assert_int_equal(gavail(f, OUT)->idx, 1);
	assert_int_equal(q->num_added, 0);
	assert_true(d3_dev_has_avail(&f->dev));
	/* Nothing new: nothing to publish, no notify wanted. */
	assert_false(d3_drv_publish(q));
}

/* ---- round trips -------------------------------------------------------- */

static void test_out_round_trip(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	const char msg[] = "hello, device";
	uint32_t len = 1234;
	int head;

	memcpy(f->ram + DATA + 5, msg, sizeof(msg));
	head = add1(f, OUT, DATA + 5, sizeof(msg), TOK(7));
	assert_true(head >= 0);
	assert_true(d3_drv_publish(&f->q[OUT]));

	assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
	assert_int_equal(c->id, head);
	assert_int_equal(c->in_id, CHAIN_NO_ID);
	assert_int_equal(c->nread, 1);
	assert_int_equal(c->nwrite, 0);
	assert_int_equal(c->ndesc, 1);
	assert_int_equal(c->read_len, sizeof(msg));
	assert_int_equal(c->write_len, 0);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + DATA + 5);
	assert_int_equal(c->seg[0].iov_len, sizeof(msg));
	assert_memory_equal(c->seg[0].iov_base, msg, sizeof(msg));
	assert_true(devq(f, OUT)->in_flight[head]);
	assert_int_equal(d3_dev_pop_out(&f->dev, c), 0);

	/* Not used yet: the guest gets nothing. */
	assert_false(d3_drv_has_used(&f->q[OUT]));
	assert_null(d3_drv_get_used(&f->q[OUT], &len));

	assert_true(d3_dev_push(&f->dev, fake_chain(f, (uint32_t)head, CHAIN_NO_ID, 0), 99));
	assert_false(devq(f, OUT)->in_flight[head]);
	assert_int_equal(gused(f, OUT)->idx, 1);
	assert_int_equal(gused(f, OUT)->ring[0].id, head);
	assert_int_equal(gused(f, OUT)->ring[0].len, 0);
	assert_int_equal(gused(f, IN)->idx, 0);

	assert_true(d3_drv_has_used(&f->q[OUT]));
	assert_ptr_equal(d3_drv_get_used(&f->q[OUT], &len), TOK(7));
	assert_int_equal(len, 0);
	assert_null(d3_drv_get_used(&f->q[OUT], &len));
	assert_int_equal(f->q[OUT].num_free, 170);
	assert_int_equal(gdesc(f, OUT)[head].flags & D3_DESC_F_HEAD, 0);
}

/*
 * d3_dev_in_available() is what lets the console watch stdin only while
 * the guest has an input buffer waiting: false on an idle queue, true once
 * one is published (and while a join has left it posted), false again once
 * it has been taken.
 */
static void test_in_available(void **state)
{
	struct fx *f = *state;
	struct lg_sg sg = { DATA, 64 };
	struct lg_sg hdr = { DATA + 0x100, 24 };

	assert_false(d3_dev_in_available(&f->dev));
	assert_true(d3_drv_add(&f->q[IN], &sg, 1, TOK(1)) >= 0);
	assert_false(d3_dev_in_available(&f->dev)); /* added, not yet published */
	d3_drv_publish(&f->q[IN]);
	assert_true(d3_dev_in_available(&f->dev));
	assert_int_equal(d3_dev_pop_in(&f->dev, &f->c), 1);
	assert_false(d3_dev_in_available(&f->dev));

	/* Published, then moved to posted by a join that names another buffer. */
	assert_true(d3_drv_add(&f->q[IN], &sg, 1, TOK(2)) >= 0);
	d3_drv_publish(&f->q[IN]);
	assert_true(d3_drv_add(&f->q[OUT], &hdr, 1, TOK(3)) >= 0);
	d3_drv_publish(&f->q[OUT]);
	assert_int_equal(d3_dev_pop_out(&f->dev, &f->c), 1);
	assert_int_equal(d3_dev_join(&f->dev, &f->c, 169), -1);
	assert_false(d3_dev_in_available(&f->dev)); /* broken devices want nothing */
}

static void test_in_round_trip(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	struct lg_sg sg[2] = { { DATA + 0x10, 100 }, { DATA + 0x3000, 300 } };
	const char reply[] = "the device speaks";
	uint32_t len = 0;
	int head;

	head = d3_drv_add(&f->q[IN], sg, 2, TOK(3));
	assert_true(head >= 0);
	assert_true(d3_drv_publish(&f->q[IN]));

	assert_int_equal(d3_dev_pop_in(&f->dev, c), 1);
	assert_int_equal(c->id, CHAIN_NO_ID);
	assert_int_equal(c->in_id, head);
	assert_int_equal(c->nread, 0);
	assert_int_equal(c->nwrite, 2);
	assert_int_equal(c->write_len, 400);
	assert_ptr_equal(chain_writable(c), &c->seg[0]);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + DATA + 0x10);
	assert_int_equal(c->seg[0].iov_len, 100);
	assert_ptr_equal(c->seg[1].iov_base, f->ram + DATA + 0x3000);
	assert_int_equal(c->seg[1].iov_len, 300);
	assert_int_equal(d3_dev_pop_in(&f->dev, c), 0);

	/* That pop found nothing and emptied c: give back the head by hand. */
	c = fake_chain(f, CHAIN_NO_ID, (uint32_t)head, 400);
	memcpy(f->ram + DATA + 0x10, reply, sizeof(reply));
	assert_true(d3_dev_push(&f->dev, c, sizeof(reply)));
	assert_int_equal(gused(f, IN)->idx, 1);
	assert_int_equal(gused(f, OUT)->idx, 0);

	assert_ptr_equal(d3_drv_get_used(&f->q[IN], &len), TOK(3));
	assert_int_equal(len, sizeof(reply));
	assert_memory_equal(f->ram + DATA + 0x10, reply, sizeof(reply));
	assert_int_equal(f->q[IN].num_free, 170);
}

/*
 * Chains of every length from 1 to 170 on both queues: the device must see
 * exactly the (address, length) pairs the driver was given, as host
 * pointers, with odd offsets and lengths that cross pages.
 */
static void test_chain_lengths(void **state)
{
	struct fx *f = *state;
	struct lg_sg sg[D3_NUM_DESCS];
	struct chain *c = &f->c;

	for (enum which w = OUT; w <= IN; w++) {
		for (unsigned int n = 1; n <= NDESCS; n++) {
			uint64_t total = 0;
			uint32_t len;
			int head;

			for (unsigned int i = 0; i < n; i++) {
				sg[i].gpa = DATA + (uint64_t)i * 3001 + (n * 7) % 4096;
				sg[i].len = 1 + (i * 37 + n) % 5000;
				total += sg[i].len;
			}
			head = d3_drv_add(&f->q[w], sg, n, TOK(n));
			assert_true(head >= 0);
			d3_drv_publish(&f->q[w]);

			assert_int_equal(pop(f, w, c), 1);
			assert_int_equal(chain_head(c, w), head);
			assert_int_equal(c->ndesc, n);
			assert_int_equal(w == OUT ? c->nread : c->nwrite, n);
			assert_int_equal(w == OUT ? c->nwrite : c->nread, 0);
			assert_int_equal(w == OUT ? c->read_len : c->write_len, total);
			for (unsigned int i = 0; i < n; i++) {
				assert_ptr_equal(c->seg[i].iov_base, f->ram + sg[i].gpa);
				assert_int_equal(c->seg[i].iov_len, sg[i].len);
			}
			assert_true(d3_dev_push(&f->dev, c, 1));
			assert_ptr_equal(d3_drv_get_used(&f->q[w], &len), TOK(n));
			assert_int_equal(len, w == OUT ? 0 : 1);
			assert_int_equal(f->q[w].num_free, 170);
		}
	}
	assert_false(f->dev.broken);
}

/* Positive edges: right up against the end of RAM, spanning pages. */
static void test_edges_ok(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	struct d3_desc *d = gdesc(f, OUT);
	int head;

	head = addn(f, OUT, 3, TOK(0));
	d[0] = (struct d3_desc){ RAM_PAGES - 1, 1, 4095, D3_DESC_F_HEAD | D3_DESC_F_NEXT, 1 };
	d[1] = (struct d3_desc){ RAM_PAGES - 1, 4096, 0, D3_DESC_F_NEXT, 2 };
	d[2] = (struct d3_desc){ DATA >> 12, 3 * 4096, 4095, 0, 77 };
	d3_drv_publish(&f->q[OUT]);
	assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
	assert_int_equal(c->id, head);
	assert_int_equal(c->nread, 3);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + RAM_SIZE - 1);
	assert_int_equal(c->seg[0].iov_len, 1);
	assert_ptr_equal(c->seg[1].iov_base, f->ram + RAM_SIZE - 4096);
	assert_ptr_equal(c->seg[2].iov_base, f->ram + DATA + 4095);
	assert_int_equal(c->seg[2].iov_len, 3 * 4096);
	assert_false(f->dev.broken);
}

/* A 170-descriptor chain written by hand, the longest there can be. */
static void write_long_chain(struct fx *f, enum which w, bool loop_back)
{
	struct d3_desc *d = gdesc(f, w);

	for (uint32_t i = 0; i < NDESCS; i++)
		d[i] = (struct d3_desc){ .pfn = DATA >> 12,
					 .len = 1,
					 .offset = (uint16_t)i,
					 .flags = D3_DESC_F_NEXT | (i == 0 ? D3_DESC_F_HEAD : 0),
					 .next = (i + 1) % NDESCS };
	if (!loop_back)
		d[NDESCS - 1].flags = 0;
	raw_publish(f, w, 0);
}

static void test_chain_170_ok(void **state)
{
	struct fx *f = *state;

	for (enum which w = OUT; w <= IN; w++) {
		fx_reset(f);
		write_long_chain(f, w, false);
		assert_int_equal(pop(f, w, &f->c), 1);
		assert_int_equal(f->c.ndesc, 170);
		assert_ptr_equal(f->c.seg[169].iov_base, f->ram + DATA + 169);
	}
}

/* ---- batching and wrap-around -------------------------------------------- */

static void test_batching(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	int heads[100];
	uint32_t len;

	for (enum which w = OUT; w <= IN; w++) {
		fx_reset(f);
		for (int i = 0; i < 100; i++) {
			heads[i] = add1(f, w, DATA + (uint64_t)i * 16, 16, TOK(i));
			assert_true(heads[i] >= 0);
		}
		assert_false(d3_dev_has_avail(&f->dev));
		assert_true(d3_drv_publish(&f->q[w]));
		assert_int_equal(gavail(f, w)->idx, 100);
		assert_true(d3_dev_has_avail(&f->dev));

		for (int i = 0; i < 100; i++) {
			assert_int_equal(pop(f, w, c), 1);
			assert_int_equal(chain_head(c, w), heads[i]);
			assert_ptr_equal(c->seg[0].iov_base, f->ram + DATA + i * 16);
		}
		assert_int_equal(pop(f, w, c), 0);
		assert_false(d3_dev_has_avail(&f->dev));

		for (int i = 0; i < 100; i++) {
			uint32_t h = (uint32_t)heads[i];

			assert_true(d3_dev_push(&f->dev,
						fake_chain(f, w == OUT ? h : CHAIN_NO_ID,
							   w == IN ? h : CHAIN_NO_ID, 16),
						(uint32_t)i % 17));
		}
		for (int i = 0; i < 100; i++) {
			assert_ptr_equal(d3_drv_get_used(&f->q[w], &len), TOK(i));
			assert_int_equal(len, w == OUT ? 0 : (uint32_t)i % 17);
		}
		assert_null(d3_drv_get_used(&f->q[w], &len));
		assert_int_equal(f->q[w].num_free, 170);
	}
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

struct sim_buf {
	unsigned int n;
	struct lg_sg sg[4];
	uint32_t total;
};

/*
 * Push @total buffers through queue @w: the guest adds batches of up to
 * @max_batch buffers of 1..4 segments while it has descriptors; the device
 * pops everything, checks each chain is exactly what was added, and gives
 * back all of them in order or, with @shuffle, a random subset in random
 * order (the rest stay in flight across rounds); the guest reaps and checks
 * it gets tokens and lengths in the order the device pushed them.
 */
static void run_traffic(struct fx *f, enum which w, unsigned int total, unsigned int max_batch,
			bool shuffle)
{
	struct d3_drv_queue *q = &f->q[w];
	struct sim_buf *buf = calloc(total, sizeof(*buf));
	struct sim_buf **expect = calloc(total, sizeof(*expect));
	uint32_t *expect_len = calloc(total, sizeof(*expect_len));
	unsigned int of_head[D3_NUM_DESCS], inflight[D3_NUM_DESCS], ninflight = 0;
	unsigned int added = 0, pushed = 0, reaped = 0;
	struct chain *c = &f->c;
	uint32_t start_avail = gavail(f, w)->idx;
	int r;

	assert_non_null(buf);
	assert_non_null(expect);
	assert_non_null(expect_len);
	while (reaped < total) {
		unsigned int batch = 1 + rnd() % max_batch;

		/* Guest: add a batch and publish it. */
		for (unsigned int k = 0; k < batch && added < total; k++) {
			struct sim_buf *b = &buf[added];
			int head;

			b->n = 1 + rnd() % 4;
			if (b->n > q->num_free)
				break;
			for (unsigned int i = 0; i < b->n; i++) {
				b->sg[i].gpa = DATA + rnd() % (RAM_SIZE - DATA - 4096);
				b->sg[i].len = 1 + rnd() % 4096;
				b->total += b->sg[i].len;
			}
			head = d3_drv_add(q, b->sg, b->n, b);
			assert_true(head >= 0);
			of_head[head] = added++;
		}
		d3_drv_publish(q);

		/* Device: pop everything, checking it. */
		while ((r = pop(f, w, c)) == 1) {
			uint32_t h = chain_head(c, w);
			struct sim_buf *b = &buf[of_head[h]];

			assert_int_equal(c->ndesc, b->n);
			assert_int_equal(w == OUT ? c->nread : c->nwrite, b->n);
			for (unsigned int i = 0; i < b->n; i++) {
				assert_ptr_equal(c->seg[i].iov_base, f->ram + b->sg[i].gpa);
				assert_int_equal(c->seg[i].iov_len, b->sg[i].len);
			}
			inflight[ninflight++] = h;
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
			uint32_t written = w == IN ? rnd() % (b->total + 1) : 0;

			memmove(&inflight[at], &inflight[at + 1],
				(ninflight - at - 1) * sizeof(inflight[0]));
			ninflight--;
			assert_true(d3_dev_push(&f->dev,
						fake_chain(f, w == OUT ? h : CHAIN_NO_ID,
							   w == IN ? h : CHAIN_NO_ID, b->total),
						written));
			expect[pushed] = b;
			expect_len[pushed++] = written;
		}

		/* Guest: reap, in the order the device pushed. */
		void *tok;
		uint32_t len;

		while ((tok = d3_drv_get_used(q, &len))) {
			assert_ptr_equal(tok, expect[reaped]);
			assert_int_equal(len, expect_len[reaped]);
			reaped++;
		}
		assert_false(q->broken);
		assert_int_equal(reaped, pushed);
	}
	assert_false(f->dev.broken);
	assert_int_equal(q->num_free, 170);
	assert_int_equal(gavail(f, w)->idx - start_avail, total);
	assert_false(d3_dev_has_avail(&f->dev));
	free(buf);
	free(expect);
	free(expect_len);
}

static void test_wrap_in_order(void **state)
{
	struct fx *f = *state;

	rnd_state = 12345;
	for (enum which w = OUT; w <= IN; w++) {
		fx_reset(f);
		run_traffic(f, w, 10000, 170, false);
		/* ~60 laps of the 170 slots. */
		assert_int_equal(gused(f, w)->idx, 10000);
	}
}

static void test_wrap_out_of_order(void **state)
{
	struct fx *f = *state;

	rnd_state = 777;
	for (enum which w = OUT; w <= IN; w++) {
		fx_reset(f);
		run_traffic(f, w, 10000, 170, true);
		assert_int_equal(gused(f, w)->idx, 10000);
	}
}

/*
 * The 32-bit counters themselves wrap.  170 does not divide 2^32, so at
 * the wrap the slot sequence jumps from 85 back to 0 (the wart draft3.h
 * describes); with no more than 86 entries outstanding nothing collides,
 * so keep batches at 80.  Both sides must agree on every slot.
 */
static void test_index_wrap_2_32(void **state)
{
	struct fx *f = *state;
	const uint32_t start = UINT32_MAX - 5000;

	rnd_state = 4242;
	for (enum which w = OUT; w <= IN; w++) {
		fx_reset(f);
		gavail(f, w)->idx = start;
		gused(f, w)->idx = start;
		f->q[w].last_used = start;
		devq(f, w)->last_avail = start;
		devq(f, w)->used_idx = start;
		run_traffic(f, w, 12000, 80, false);
		assert_int_equal(gused(f, w)->idx, (uint32_t)(start + 12000));
	}
}

/* ---- notification suppression ------------------------------------------- */

static void test_running_suppresses_notify(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;

	/* Device asleep: the guest must notify. */
	add1(f, OUT, DATA, 8, TOK(0));
	assert_true(d3_drv_publish(&f->q[OUT]));

	d3_dev_start_running(&f->dev);
	assert_int_equal(gused(f, OUT)->flags, D3_USED_F_NO_NOTIFY);
	assert_int_equal(gused(f, IN)->flags, D3_USED_F_NO_NOTIFY);
	/* Running: no notify needed, on either queue. */
	add1(f, OUT, DATA, 8, TOK(1));
	assert_false(d3_drv_publish(&f->q[OUT]));
	add1(f, IN, DATA, 8, TOK(2));
	assert_false(d3_drv_publish(&f->q[IN]));

	assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
	assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
	assert_int_equal(d3_dev_pop_in(&f->dev, c), 1);
	/* Everything seen: stopping reports nothing new. */
	assert_false(d3_dev_stop_running(&f->dev));
	assert_int_equal(gused(f, OUT)->flags, 0);
	assert_int_equal(gused(f, IN)->flags, 0);

	/* A publish that raced with stopping is reported. */
	d3_dev_start_running(&f->dev);
	add1(f, IN, DATA, 8, TOK(3));
	assert_false(d3_drv_publish(&f->q[IN]));
	assert_true(d3_dev_stop_running(&f->dev));
	assert_int_equal(d3_dev_pop_in(&f->dev, c), 1);
	assert_false(d3_dev_stop_running(&f->dev));

	/* And on the out queue. */
	d3_dev_start_running(&f->dev);
	add1(f, OUT, DATA, 8, TOK(4));
	assert_false(d3_drv_publish(&f->q[OUT]));
	assert_true(d3_dev_stop_running(&f->dev));

	/* Stopped: the guest notifies again. */
	add1(f, OUT, DATA, 8, TOK(5));
	assert_true(d3_drv_publish(&f->q[OUT]));
	assert_false(f->dev.broken);
}

static void test_no_signal(void **state)
{
	struct fx *f = *state;

	assert_false(d3_dev_signal_suppressed(&f->dev));
	d3_drv_set_no_signal(&f->q[IN], true);
	assert_int_equal(gavail(f, IN)->flags, D3_AVAIL_F_NO_SIGNAL);
	assert_int_equal(gavail(f, OUT)->flags, 0);
	/* One signal serves both queues: one queue polling is not enough. */
	assert_false(d3_dev_signal_suppressed(&f->dev));
	d3_drv_set_no_signal(&f->q[OUT], true);
	assert_true(d3_dev_signal_suppressed(&f->dev));
	d3_drv_set_no_signal(&f->q[IN], false);
	assert_int_equal(gavail(f, IN)->flags, 0);
	assert_false(d3_dev_signal_suppressed(&f->dev));
	d3_drv_set_no_signal(&f->q[OUT], false);
	assert_int_equal(gavail(f, OUT)->flags, 0);
	assert_false(d3_dev_signal_suppressed(&f->dev));
	/* Setting twice is setting once. */
	d3_drv_set_no_signal(&f->q[IN], true);
	d3_drv_set_no_signal(&f->q[IN], true);
	assert_int_equal(gavail(f, IN)->flags, D3_AVAIL_F_NO_SIGNAL);
}

static void test_has_avail(void **state)
{
	struct fx *f = *state;

	assert_false(d3_dev_has_avail(&f->dev));
	add1(f, IN, DATA, 8, TOK(0));
	assert_false(d3_dev_has_avail(&f->dev)); /* added, not published */
	d3_drv_publish(&f->q[IN]);
	assert_true(d3_dev_has_avail(&f->dev));
	assert_int_equal(d3_dev_pop_in(&f->dev, &f->c), 1);
	assert_false(d3_dev_has_avail(&f->dev));
	add1(f, OUT, DATA, 8, TOK(1));
	d3_drv_publish(&f->q[OUT]);
	assert_true(d3_dev_has_avail(&f->dev));

	/* Posted by a join's search: seen, so no longer "available". */
	fx_reset(f);
	add1(f, IN, DATA, 8, TOK(0));
	add1(f, IN, DATA, 8, TOK(1));
	d3_drv_publish(&f->q[IN]);
	add1(f, OUT, DATA, 8, TOK(2));
	d3_drv_publish(&f->q[OUT]);
	assert_int_equal(d3_dev_pop_out(&f->dev, &f->c), 1);
	assert_true(d3_dev_has_avail(&f->dev));
	assert_int_equal(d3_dev_join(&f->dev, &f->c, 0), 1);
	assert_int_equal(f->dev.nposted, 1);
	assert_false(d3_dev_has_avail(&f->dev));
}

/* ---- block-style pairs and join ----------------------------------------- */

#define NAME_SELF UINT64_MAX

struct req_gpa {
	uint64_t hdr, status, data;
};

static struct req_gpa req_gpa(unsigned int i)
{
	return (struct req_gpa){ .hdr = REQS + i * 64,
				 .status = REQS + i * 64 + 40,
				 .data = DATA + (uint64_t)i * 1024 };
}

/*
 * Add a block read as the guest does: the in buffer (status byte, then
 * 512 bytes of data) first, then the out buffer, a header naming it (or
 * naming @name if that is not NAME_SELF).
 */
static void add_request(struct fx *f, unsigned int i, uint64_t name, int *in_head, int *out_head)
{
	struct req_gpa g = req_gpa(i);
	struct lg_sg in_sg[2] = { { g.status, 1 }, { g.data, 512 } };
	struct lg_sg out_sg = { g.hdr, sizeof(struct d3_blk_outhdr) };
	struct d3_blk_outhdr hdr = { .type = D3_BLK_T_READ, .sector = i };

	*in_head = d3_drv_add(&f->q[IN], in_sg, 2, TOK(i));
	assert_true(*in_head >= 0);
	hdr.id = name == NAME_SELF ? (uint64_t)*in_head : name;
	memcpy(f->ram + g.hdr, &hdr, sizeof(hdr));
	*out_head = d3_drv_add(&f->q[OUT], &out_sg, 1, TOK(i));
	assert_true(*out_head >= 0);
}

/* In before out, as guest/drivers/devices.c does. */
static void kick(struct fx *f)
{
	d3_drv_publish(&f->q[IN]);
	d3_drv_publish(&f->q[OUT]);
}

/* Device: pop the next request and join the in buffer its header names. */
static int pop_request(struct fx *f, struct chain *c)
{
	struct d3_blk_outhdr hdr;

	assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
	assert_int_equal(c->nread, 1);
	assert_int_equal(c->seg[0].iov_len, sizeof(hdr));
	memcpy(&hdr, c->seg[0].iov_base, sizeof(hdr));
	return d3_dev_join(&f->dev, c, hdr.id);
}

/* Check c is request @i, joined with in head @in_head. */
static void check_request(struct fx *f, struct chain *c, unsigned int i, int in_head, int out_head)
{
	struct req_gpa g = req_gpa(i);

	assert_int_equal(c->id, out_head);
	assert_int_equal(c->in_id, in_head);
	assert_int_equal(c->nread, 1);
	assert_int_equal(c->nwrite, 2);
	assert_int_equal(c->read_len, sizeof(struct d3_blk_outhdr));
	assert_int_equal(c->write_len, 513);
	assert_int_equal(c->ndesc, 3);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + g.hdr);
	assert_ptr_equal(chain_writable(c)[0].iov_base, f->ram + g.status);
	assert_int_equal(chain_writable(c)[0].iov_len, 1);
	assert_ptr_equal(chain_writable(c)[1].iov_base, f->ram + g.data);
	assert_int_equal(chain_writable(c)[1].iov_len, 512);
}

/* Device: complete request @i with status OK and a data pattern. */
static void complete_request(struct fx *f, struct chain *c, unsigned int i, uint32_t written)
{
	*(uint8_t *)chain_writable(c)[0].iov_base = D3_BLK_S_OK;
	memset(chain_writable(c)[1].iov_base, 'a' + i, 512);
	assert_true(d3_dev_push(&f->dev, c, written));
}

/* Guest: both halves of request @i come back; the status and data too. */
static void reap_request(struct fx *f, unsigned int i, uint32_t in_len)
{
	struct req_gpa g = req_gpa(i);
	uint32_t len = 1234;

	assert_ptr_equal(d3_drv_get_used(&f->q[OUT], &len), TOK(i));
	assert_int_equal(len, 0);
	assert_ptr_equal(d3_drv_get_used(&f->q[IN], &len), TOK(i));
	assert_int_equal(len, in_len);
	assert_int_equal(f->ram[g.status], D3_BLK_S_OK);
	assert_int_equal(f->ram[g.data + 511], 'a' + i);
}

static void test_join_fresh_pop(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	int in0, out0;

	add_request(f, 0, NAME_SELF, &in0, &out0);
	kick(f);
	assert_int_equal(pop_request(f, c), 1);
	check_request(f, c, 0, in0, out0);
	assert_int_equal(f->dev.nposted, 0);
	assert_int_equal(f->dev.in.last_avail, 1);
	assert_true(f->dev.in.in_flight[in0]);
	assert_true(f->dev.out.in_flight[out0]);

	/* Written is capped at what the in buffer holds. */
	complete_request(f, c, 0, 100000);
	assert_false(f->dev.in.in_flight[in0]);
	assert_false(f->dev.out.in_flight[out0]);
	reap_request(f, 0, 513);
	assert_int_equal(f->q[IN].num_free, 170);
	assert_int_equal(f->q[OUT].num_free, 170);
}

/*
 * Joining the first request pops every in buffer published so far; the
 * next request finds its in buffer already posted, and a request added
 * after that needs a fresh pop again.
 */
static void test_join_posted_then_fresh(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c, *c2 = &f->c2;
	int in[3], out[3];

	add_request(f, 0, NAME_SELF, &in[0], &out[0]);
	add_request(f, 1, NAME_SELF, &in[1], &out[1]);
	kick(f);

	assert_int_equal(pop_request(f, c), 1);
	check_request(f, c, 0, in[0], out[0]);
	assert_int_equal(f->dev.nposted, 1);
	assert_int_equal(f->dev.posted[0], in[1]);
	assert_int_equal(f->dev.in.last_avail, 2);

	add_request(f, 2, NAME_SELF, &in[2], &out[2]);
	kick(f);

	/* Request 1: already posted, so in.avail is not touched. */
	assert_int_equal(pop_request(f, c2), 1);
	check_request(f, c2, 1, in[1], out[1]);
	assert_int_equal(f->dev.nposted, 0);
	assert_int_equal(f->dev.in.last_avail, 2);

	/* Out of order completion is fine. */
	complete_request(f, c2, 1, 513);
	reap_request(f, 1, 513);
	complete_request(f, c, 0, 1);
	reap_request(f, 0, 1);

	/* Request 2: not posted, popped fresh. */
	assert_int_equal(pop_request(f, c), 1);
	check_request(f, c, 2, in[2], out[2]);
	assert_int_equal(f->dev.in.last_avail, 3);
	assert_int_equal(f->dev.nposted, 0);
	complete_request(f, c, 2, 513);
	reap_request(f, 2, 513);
	assert_false(f->dev.broken);
}

/* Requests whose headers name in buffers out of order. */
static void test_join_out_of_order(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	struct lg_sg in_sg = { DATA, 16 };
	struct lg_sg out_sg[3];
	int in[3], out[3];

	/* Three in buffers, then three headers naming them 2, 0, 1. */
	for (int i = 0; i < 3; i++)
		in[i] = d3_drv_add(&f->q[IN], &in_sg, 1, TOK(10 + i));
	for (int i = 0; i < 3; i++) {
		struct d3_blk_outhdr hdr = { .id = (uint64_t)in[(i + 2) % 3] };
		struct req_gpa g = req_gpa(i);

		memcpy(f->ram + g.hdr, &hdr, sizeof(hdr));
		out_sg[i] = (struct lg_sg){ g.hdr, sizeof(hdr) };
		out[i] = d3_drv_add(&f->q[OUT], &out_sg[i], 1, TOK(i));
	}
	kick(f);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pop_request(f, c), 1);
		assert_int_equal(c->id, out[i]);
		assert_int_equal(c->in_id, in[(i + 2) % 3]);
		assert_int_equal(f->dev.nposted, 2 - i);
		assert_true(d3_dev_push(&f->dev, c, 1));
	}
	/* Out comes back 0, 1, 2; in comes back 2, 0, 1. */
	for (int i = 0; i < 3; i++) {
		uint32_t len;

		assert_ptr_equal(d3_drv_get_used(&f->q[OUT], &len), TOK(i));
		assert_ptr_equal(d3_drv_get_used(&f->q[IN], &len), TOK(10 + (i + 2) % 3));
	}
}

static void test_pop_in_takes_oldest_posted(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c;
	int in[3], out;

	for (int i = 0; i < 3; i++)
		in[i] = add1(f, IN, DATA + (uint64_t)i * 64, 64, TOK(i));
	/* One request naming the middle one. */
	struct d3_blk_outhdr hdr = { .id = (uint64_t)in[1] };

	memcpy(f->ram + REQS, &hdr, sizeof(hdr));
	out = add1(f, OUT, REQS, sizeof(hdr), TOK(9));
	kick(f);
	assert_int_equal(pop_request(f, c), 1);
	assert_int_equal(c->id, out);
	assert_int_equal(c->in_id, in[1]);
	assert_int_equal(f->dev.nposted, 2);

	assert_int_equal(d3_dev_pop_in(&f->dev, c), 1);
	assert_int_equal(c->in_id, in[0]);
	assert_int_equal(c->id, CHAIN_NO_ID);
	assert_ptr_equal(c->seg[0].iov_base, f->ram + DATA);
	assert_int_equal(f->dev.nposted, 1);
	/* A new one published now comes after the posted one. */
	int late = add1(f, IN, DATA + 512, 64, TOK(5));

	kick(f);
	assert_int_equal(d3_dev_pop_in(&f->dev, c), 1);
	assert_int_equal(c->in_id, in[2]);
	assert_int_equal(d3_dev_pop_in(&f->dev, c), 1);
	assert_int_equal(c->in_id, late);
	assert_int_equal(d3_dev_pop_in(&f->dev, c), 0);
	assert_false(f->dev.broken);
}

/* ---- unadd and a full queue --------------------------------------------- */

static void test_unadd(void **state)
{
	struct fx *f = *state;
	struct d3_drv_queue *q = &f->q[OUT];
	struct chain *c = &f->c;
	int a, b, b2;

	a = addn(f, OUT, 2, TOK(0));
	b = addn(f, OUT, 3, TOK(1));
	assert_int_equal(q->num_free, 165);
	assert_int_equal(q->num_added, 2);

	/* Only the most recent add can be undone: this is ignored. */
	d3_drv_unadd(q, a);
	assert_int_equal(q->num_free, 165);
	assert_int_equal(q->num_added, 2);

	d3_drv_unadd(q, b);
	assert_int_equal(q->num_free, 168);
	assert_int_equal(q->num_added, 1);
	assert_int_equal(q->free_head, b);
	assert_null(q->token[b]);
	assert_int_equal(gdesc(f, OUT)[b].flags & D3_DESC_F_HEAD, 0);

	/* The free list is as it was: the same descriptors come back. */
	b2 = addn(f, OUT, 3, TOK(2));
	assert_int_equal(b2, b);
	d3_drv_unadd(q, b2);
	d3_drv_unadd(q, a);
	assert_int_equal(q->num_free, 170);
	assert_int_equal(q->num_added, 0);
	assert_int_equal(q->free_head, 0);
	assert_false(d3_drv_publish(q));
	assert_false(d3_dev_has_avail(&f->dev));

	/* Unadd the second of two, publish: the device sees only the first. */
	a = addn(f, OUT, 1, TOK(3));
	b = addn(f, OUT, 4, TOK(4));
	d3_drv_unadd(q, b);
	assert_true(d3_drv_publish(q));
	assert_int_equal(gavail(f, OUT)->idx, 1);
	assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
	assert_int_equal(c->id, a);
	assert_int_equal(d3_dev_pop_out(&f->dev, c), 0);
	/* Published buffers cannot be unadded. */
	d3_drv_unadd(q, a);
	assert_int_equal(q->num_free, 169);
}

static void test_full_queue(void **state)
{
	struct fx *f = *state;
	struct d3_drv_queue *q = &f->q[OUT];
	struct chain *c = &f->c;
	struct lg_sg big[D3_NUM_DESCS + 1];
	uint32_t len;
	int heads[D3_NUM_DESCS];

	for (unsigned int i = 0; i <= NDESCS; i++)
		big[i] = (struct lg_sg){ DATA + i * 8, 8 };
	/* Bad arguments. */
	assert_int_equal(d3_drv_add(q, big, 0, TOK(0)), -1);
	assert_int_equal(d3_drv_add(q, big, 1, NULL), -1);
	/* One buffer can take the whole table, but not more. */
	assert_int_equal(d3_drv_add(q, big, NDESCS + 1, TOK(0)), -1);
	assert_int_equal(q->num_free, 170);
	assert_int_equal(d3_drv_add(q, big, NDESCS, TOK(0)), 0);
	assert_int_equal(q->num_free, 0);
	assert_int_equal(d3_drv_add(q, big, 1, TOK(1)), -1);
	d3_drv_unadd(q, 0);
	assert_int_equal(q->num_free, 170);

	for (unsigned int i = 0; i < NDESCS; i++) {
		heads[i] = add1(f, OUT, DATA + i, 1, TOK(i));
		assert_int_equal(heads[i], i);
	}
	assert_int_equal(q->num_free, 0);
	assert_int_equal(add1(f, OUT, DATA, 1, TOK(999)), -1);
	assert_int_equal(q->num_free, 0);
	assert_true(d3_drv_publish(q));
	assert_int_equal(gavail(f, OUT)->idx, 170); /* exactly a table ahead: fine */

	for (unsigned int i = 0; i < NDESCS; i++) {
		assert_int_equal(d3_dev_pop_out(&f->dev, c), 1);
		assert_int_equal(c->id, heads[i]);
	}
	assert_int_equal(d3_dev_pop_out(&f->dev, c), 0);
	/* Still full until the device gives one back. */
	assert_int_equal(add1(f, OUT, DATA, 1, TOK(999)), -1);
	assert_true(d3_dev_push(&f->dev, fake_chain(f, 17, CHAIN_NO_ID, 0), 0));
	assert_ptr_equal(d3_drv_get_used(q, &len), TOK(17));
	assert_int_equal(add1(f, OUT, DATA, 1, TOK(1000)), 17);
	/* Two segments do not fit in one free descriptor. */
	assert_true(d3_dev_push(&f->dev, fake_chain(f, 3, CHAIN_NO_ID, 0), 0));
	assert_ptr_equal(d3_drv_get_used(q, &len), TOK(3));
	assert_int_equal(addn(f, OUT, 2, TOK(1001)), -1);
	assert_int_equal(addn(f, OUT, 1, TOK(1001)), 3);
	assert_false(f->dev.broken);
}

/* ---- a guest breaking the rules ----------------------------------------- */

/*
 * Each bad_*() sets up one violation on queue @w of a fresh fixture, takes
 * the snapshot, and checks the device's verdict.  BOTH_QUEUES runs it on
 * the out queue and then the in queue.
 */
#define BOTH_QUEUES(name)                                \
	static void test_##name(void **state)            \
	{                                                \
		struct fx *f = *state;                   \
                                                         \
		for (enum which w = OUT; w <= IN; w++) { \
			fx_reset(f);                     \
			bad_##name(f, w);                \
		}                                        \
	}

static void bad_head_out_of_range(struct fx *f, enum which w)
{
	raw_publish(f, w, NDESCS);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "head 170 out of range (170)");

	fx_reset(f);
	raw_publish(f, w, UINT32_MAX);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "head 4294967295 out of range");
}
BOTH_QUEUES(head_out_of_range)

static void bad_head_without_f_head(struct fx *f, enum which w)
{
	int h = addn(f, w, 1, TOK(0));

	gdesc(f, w)[h].flags &= ~D3_DESC_F_HEAD;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w), "head %d is not marked F_HEAD", h);
}
BOTH_QUEUES(head_without_f_head)

static void bad_head_in_flight(struct fx *f, enum which w)
{
	int h = addn(f, w, 2, TOK(0));

	d3_drv_publish(&f->q[w]);
	assert_int_equal(pop(f, w, &f->c), 1);
	/* The guest makes the same buffer available again. */
	raw_publish(f, w, (uint32_t)h);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w), "head %d is already in flight", h);
}
BOTH_QUEUES(head_in_flight)

static void bad_next_out_of_range(struct fx *f, enum which w)
{
	int h = addn(f, w, 2, TOK(0));

	gdesc(f, w)[h].next = NDESCS;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w), "descriptor %d: next 170 out of range (170)", h);
}
BOTH_QUEUES(next_out_of_range)

static void bad_loop(struct fx *f, enum which w)
{
	int a = addn(f, w, 2, TOK(0));
	struct d3_desc *d = gdesc(f, w);
	uint32_t b = d[a].next;

	/* a -> b -> a -> b ... */
	d[b].flags |= D3_DESC_F_NEXT;
	d[b].next = (uint32_t)a;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w), "chain from head %d loops or exceeds 170 descriptors", a);

	/* A descriptor linking to itself. */
	fx_reset(f);
	a = addn(f, w, 1, TOK(0));
	d[a].flags |= D3_DESC_F_NEXT;
	d[a].next = (uint32_t)a;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "loops or exceeds 170 descriptors");
}
BOTH_QUEUES(loop)

static void bad_chain_171(struct fx *f, enum which w)
{
	/* 0 -> 1 -> ... -> 169 -> 0: the 171st descriptor is one too many. */
	write_long_chain(f, w, true);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "chain from head 0 loops or exceeds 170 descriptors");
}
BOTH_QUEUES(chain_171)

static void bad_offset(struct fx *f, enum which w)
{
	int h = addn(f, w, 2, TOK(0));
	uint32_t second = gdesc(f, w)[h].next;

	gdesc(f, w)[second].offset = D3_PAGE_SIZE;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w), "descriptor %u: offset 4096 is not inside", second);

	fx_reset(f);
	h = addn(f, w, 1, TOK(0));
	gdesc(f, w)[h].offset = UINT16_MAX;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "offset 65535 is not inside");
}
BOTH_QUEUES(offset)

static void bad_zero_len(struct fx *f, enum which w)
{
	struct lg_sg sg[2] = { { DATA, 8 }, { DATA + 64, 0 } };
	int h = d3_drv_add(&f->q[w], sg, 2, TOK(0));

	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w), "descriptor %u: zero length", gdesc(f, w)[h].next);
}
BOTH_QUEUES(zero_len)

/*
 * A buffer of 4 GiB or more: the used ring's 32-bit length could not say
 * what was written.  Three 2 GiB descriptors over the same guest pages
 * (RAM is claimed to be 64 GiB here; the walk makes pointers and reads
 * none of them).
 */
static void bad_too_long(struct fx *f, enum which w)
{
	uint64_t size = f->mem.size;
	int h = addn(f, w, 3, TOK(0));

	for (uint32_t i = h, n = 0; n < 3; i = gdesc(f, w)[i].next, n++)
		gdesc(f, w)[i].len = 2ULL << 30;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	f->mem.size = 64ULL << 30;
	assert_int_equal(pop(f, w, &f->c), -1);
	f->mem.size = size;
	assert_brokenf(f, qprefix(w), "chain from head %d is longer than 4294967295 bytes", h);
}
BOTH_QUEUES(too_long)

/* One descriptor with these values, published; the pop must fail. */
static void bad_range(struct fx *f, enum which w, uint64_t pfn, uint16_t offset, uint64_t len)
{
	int h;

	fx_reset(f);
	h = addn(f, w, 1, TOK(0));
	gdesc(f, w)[h].pfn = pfn;
	gdesc(f, w)[h].offset = offset;
	gdesc(f, w)[h].len = len;
	d3_drv_publish(&f->q[w]);
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_brokenf(f, qprefix(w),
		       "descriptor %d: pfn 0x%llx offset %u len %llu is outside guest RAM", h,
		       (unsigned long long)pfn, offset, (unsigned long long)len);
}

static void bad_pfn_beyond_ram(struct fx *f, enum which w)
{
	bad_range(f, w, RAM_PAGES, 0, 1);
	bad_range(f, w, RAM_PAGES + 1000, 12, 8);
}
BOTH_QUEUES(pfn_beyond_ram)

static void bad_pfn_overflow(struct fx *f, enum which w)
{
	/* (2^52 + x) << 12 wraps to x << 12, which is inside RAM. */
	bad_range(f, w, (1ull << 52) + (DATA >> 12), 0, 8);
	bad_range(f, w, (1ull << 63) + 1, 0, 8);
	bad_range(f, w, UINT64_MAX, 4095, 1);
}
BOTH_QUEUES(pfn_overflow)

static void bad_range_past_end(struct fx *f, enum which w)
{
	bad_range(f, w, RAM_PAGES - 1, 4000, 200);
	bad_range(f, w, RAM_PAGES - 1, 4095, 2);
	bad_range(f, w, 0, 0, RAM_SIZE + 1);
	/* Address + length wraps past 2^64 to something small. */
	bad_range(f, w, DATA >> 12, 0, UINT64_MAX - DATA + 1);
	bad_range(f, w, DATA >> 12, 0, UINT64_MAX);
}
BOTH_QUEUES(range_past_end)

static void bad_avail_jump(struct fx *f, enum which w)
{
	char msg[160];

	gavail(f, w)->idx = NDESCS + 1;
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	snprintf(msg, sizeof(msg),
		 "%savail index jumped from 0 to 171 (more than 170 ahead, or moved back)",
		 qprefix(w));
	assert_string_equal(f->dev.error, msg);
	assert_broken(f, qprefix(w), msg + strlen(qprefix(w)));

	/* From somewhere in the middle too. */
	fx_reset(f);
	addn(f, w, 1, TOK(0));
	d3_drv_publish(&f->q[w]);
	assert_int_equal(pop(f, w, &f->c), 1);
	gavail(f, w)->idx += NDESCS + 1;
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "avail index jumped from 1 to 172");
}
BOTH_QUEUES(avail_jump)

static void bad_avail_backwards(struct fx *f, enum which w)
{
	addn(f, w, 1, TOK(0));
	addn(f, w, 1, TOK(1));
	d3_drv_publish(&f->q[w]);
	assert_int_equal(pop(f, w, &f->c), 1);
	assert_int_equal(pop(f, w, &f->c), 1);
	gavail(f, w)->idx = 1;
	snapshot(f);
	assert_int_equal(pop(f, w, &f->c), -1);
	assert_broken(f, qprefix(w), "avail index jumped from 2 to 1");
}
BOTH_QUEUES(avail_backwards)

static void bad_used_scribbled(struct fx *f, enum which w)
{
	addn(f, w, 1, TOK(0));

	d3_drv_publish(&f->q[w]);
	assert_int_equal(pop(f, w, &f->c), 1);
	gused(f, w)->idx = 7;
	snapshot(f);
	assert_false(d3_dev_push(&f->dev, &f->c, 1));
	assert_broken(f, qprefix(w), "guest wrote to the used index (expected 0, found 7)");

	/* After a good push, so the expected value is not 0. */
	fx_reset(f);
	addn(f, w, 1, TOK(0));
	addn(f, w, 1, TOK(1));
	d3_drv_publish(&f->q[w]);
	assert_int_equal(pop(f, w, &f->c), 1);
	assert_true(d3_dev_push(&f->dev, &f->c, 1));
	assert_int_equal(pop(f, w, &f->c), 1);
	gused(f, w)->idx = 0;
	snapshot(f);
	assert_false(d3_dev_push(&f->dev, &f->c, 1));
	assert_broken(f, qprefix(w), "guest wrote to the used index (expected 1, found 0)");
}
BOTH_QUEUES(used_scribbled)

/* A block pair where only the in queue's used index was scribbled: neither half is written. */
static void test_used_scribbled_pair(void **state)
{
	struct fx *f = *state;
	int in0, out0;

	add_request(f, 0, NAME_SELF, &in0, &out0);
	kick(f);
	assert_int_equal(pop_request(f, &f->c), 1);
	gused(f, IN)->idx = 3;
	snapshot(f);
	assert_false(d3_dev_push(&f->dev, &f->c, 1));
	assert_broken(f, "in queue: ", "guest wrote to the used index (expected 0, found 3)");
	assert_int_equal(gused(f, OUT)->idx, 0);
}

static void test_join_never_available(void **state)
{
	struct fx *f = *state;
	int in0, out0;

	/* The header names in buffer 5; only buffer 0 was made available. */
	add_request(f, 0, 5, &in0, &out0);
	kick(f);
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_broken(f, "in queue: ",
		      "block request names in buffer 5, which the guest has not made available");

	/* Added, but never published. */
	fx_reset(f);
	add_request(f, 0, NAME_SELF, &in0, &out0);
	d3_drv_publish(&f->q[OUT]);
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_brokenf(f, "in queue: ", "block request names in buffer %d, which the guest", in0);
}

static void test_join_id_out_of_range(void **state)
{
	struct fx *f = *state;
	int in0, out0;

	add_request(f, 0, NDESCS, &in0, &out0);
	kick(f);
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_broken(f, "in queue: ", "in buffer id 170 out of range (170)");

	/* A 64-bit id that truncates to a valid one must not be taken for it. */
	fx_reset(f);
	add_request(f, 0, (1ull << 32) + 0, &in0, &out0);
	assert_int_equal(in0, 0);
	kick(f);
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_broken(f, "in queue: ", "in buffer id 4294967296 out of range");
}

static void test_join_already_joined(void **state)
{
	struct fx *f = *state;
	struct chain *c = &f->c, *c2 = &f->c2;
	int in0, out0, in1, out1;

	/* Request 1's header names request 0's in buffer. */
	add_request(f, 0, NAME_SELF, &in0, &out0);
	add_request(f, 1, (uint64_t)0, &in1, &out1);
	assert_int_equal(in0, 0);
	kick(f);
	assert_int_equal(pop_request(f, c), 1);
	snapshot(f);
	assert_int_equal(pop_request(f, c2), -1);
	assert_broken(f, "in queue: ", "block request names in buffer 0, which is already in use");

	/* Named again after it was given back: no longer available. */
	fx_reset(f);
	add_request(f, 0, NAME_SELF, &in0, &out0);
	add_request(f, 1, (uint64_t)0, &in1, &out1);
	kick(f);
	assert_int_equal(pop_request(f, c), 1);
	assert_true(d3_dev_push(&f->dev, c, 1));
	snapshot(f);
	assert_int_equal(pop_request(f, c2), -1);
	assert_broken(f, "in queue: ", "block request names in buffer 0, which the guest has not");

	/* Joining twice onto the same request. */
	fx_reset(f);
	add_request(f, 0, NAME_SELF, &in0, &out0);
	add_request(f, 1, NAME_SELF, &in1, &out1);
	kick(f);
	assert_int_equal(pop_request(f, c), 1);
	snapshot(f);
	assert_int_equal(d3_dev_join(&f->dev, c, (uint64_t)in1), -1);
	assert_broken(f, "in queue: ", "request already has in buffer");
}

/* Bad in buffers found on the way through a join. */
static void test_join_bad_in_buffer(void **state)
{
	struct fx *f = *state;
	int in0, out0, in1, out1;

	/* Found while posting: an in head without F_HEAD. */
	add_request(f, 0, NAME_SELF, &in0, &out0);
	add_request(f, 1, NAME_SELF, &in1, &out1);
	gdesc(f, IN)[in1].flags &= ~D3_DESC_F_HEAD;
	kick(f);
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_brokenf(f, "in queue: ", "head %d is not marked F_HEAD", in1);

	/*
	 * Posted fine, then the guest takes F_HEAD back while the buffer is
	 * ours: found when the buffer is walked, by a join or by pop_in.
	 */
	fx_reset(f);
	add_request(f, 0, NAME_SELF, &in0, &out0);
	add_request(f, 1, NAME_SELF, &in1, &out1);
	kick(f);
	assert_int_equal(pop_request(f, &f->c), 1);
	assert_int_equal(f->dev.nposted, 1);
	gdesc(f, IN)[in1].flags &= ~D3_DESC_F_HEAD;
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_brokenf(f, "in queue: ", "head %d is not marked F_HEAD", in1);

	fx_reset(f);
	add_request(f, 0, NAME_SELF, &in0, &out0);
	add_request(f, 1, NAME_SELF, &in1, &out1);
	kick(f);
	assert_int_equal(pop_request(f, &f->c), 1);
	gdesc(f, IN)[in1].flags &= ~D3_DESC_F_HEAD;
	snapshot(f);
	assert_int_equal(d3_dev_pop_in(&f->dev, &f->c2), -1);
	assert_brokenf(f, "in queue: ", "head %d is not marked F_HEAD", in1);

	/* Found while walking the one named: a zero-length segment. */
	fx_reset(f);
	add_request(f, 0, NAME_SELF, &in0, &out0);
	gdesc(f, IN)[gdesc(f, IN)[in0].next].len = 0;
	kick(f);
	snapshot(f);
	assert_int_equal(pop_request(f, &f->c), -1);
	assert_broken(f, "in queue: ", "zero length");
}

/* Pushing something that is not in flight is a device-model bug, and refused. */
static void test_push_not_in_flight(void **state)
{
	struct fx *f = *state;

	snapshot(f);
	assert_false(d3_dev_push(&f->dev, fake_chain(f, 3, CHAIN_NO_ID, 0), 0));
	assert_broken(f, "out queue: ", "returning head 3, which is not in flight");

	fx_reset(f);
	snapshot(f);
	assert_false(d3_dev_push(&f->dev, fake_chain(f, CHAIN_NO_ID, 200, 0), 0));
	assert_broken(f, "in queue: ", "returning head 200, which is not in flight");

	/* An empty chain gives nothing back and is not an error. */
	fx_reset(f);
	assert_true(d3_dev_push(&f->dev, fake_chain(f, CHAIN_NO_ID, CHAIN_NO_ID, 0), 0));
	assert_false(f->dev.broken);
}

/*
 * The guest changes a descriptor while the device reads it.  Whatever the
 * interleaving, a chain the device accepts must carry exactly the values it
 * checked: here the only in-RAM combination is (DATA page, 16 bytes), so a
 * popped segment with anything else means a value was read twice.
 */
struct flipper {
	struct d3_desc *desc;
	int stop;
};

static void *flip_desc(void *arg)
{
	struct flipper *fl = arg;
	uint64_t n = 0;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&fl->desc->len, n & 1 ? 16 : 1ull << 40, __ATOMIC_RELAXED);
		__atomic_store_n(&fl->desc->pfn, n & 2 ? DATA >> 12 : (1ull << 52) + (DATA >> 12),
				 __ATOMIC_RELAXED);
		n++;
	}
	return NULL;
}

static void test_descriptor_changing_underneath(void **state)
{
	struct fx *f = *state;
	struct flipper fl = { .desc = gdesc(f, OUT) };
	unsigned int ok = 0, refused = 0;
	pthread_t t;

	*fl.desc = (struct d3_desc){ DATA >> 12, 16, 0, D3_DESC_F_HEAD, 0 };
	assert_int_equal(pthread_create(&t, NULL, flip_desc, &fl), 0);
	for (int i = 0; i < 100000; i++) {
		int r;

		raw_publish(f, OUT, 0);
		r = d3_dev_pop_out(&f->dev, &f->c);
		if (r == 1) {
			if (f->c.seg[0].iov_base != f->ram + DATA || f->c.seg[0].iov_len != 16) {
				__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
				pthread_join(t, NULL);
				fail_msg("accepted a descriptor it did not check: %p len %zu",
					 f->c.seg[0].iov_base, f->c.seg[0].iov_len);
			}
			assert_true(d3_dev_push(&f->dev, &f->c, 0));
			ok++;
		} else {
			assert_int_equal(r, -1);
			assert_non_null(strstr(f->dev.error, "outside guest RAM"));
			refused++;
			/* Start over: rings back to 0, a fresh device. */
			gavail(f, OUT)->idx = 0;
			gused(f, OUT)->idx = 0;
			assert_true(d3_dev_init(&f->dev, &f->mem, KEY));
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

	addn(f, OUT, 1, TOK(0));
	d3_drv_publish(&f->q[OUT]);
	gused(f, OUT)->ring[0] = (struct d3_used_elem){ NDESCS, 0 };
	gused(f, OUT)->idx = 1;
	assert_true(d3_drv_has_used(&f->q[OUT]));
	assert_null(d3_drv_get_used(&f->q[OUT], NULL));
	assert_drv_broken(f, OUT, "used id out of range");
	assert_int_equal(f->q[OUT].last_used, 0);
	/* The other queue is unaffected. */
	assert_false(f->q[IN].broken);
}

static void test_drv_used_id_not_outstanding(void **state)
{
	struct fx *f = *state;
	uint32_t len;
	int h;

	/* An id never added. */
	h = addn(f, IN, 1, TOK(0));
	d3_drv_publish(&f->q[IN]);
	gused(f, IN)->ring[0] = (struct d3_used_elem){ (uint32_t)h + 5, 0 };
	gused(f, IN)->idx = 1;
	assert_null(d3_drv_get_used(&f->q[IN], &len));
	assert_drv_broken(f, IN, "used id is not an outstanding head");

	/* A second completion of a buffer already reaped. */
	fx_reset(f);
	h = addn(f, IN, 1, TOK(0));
	d3_drv_publish(&f->q[IN]);
	assert_int_equal(d3_dev_pop_in(&f->dev, &f->c), 1);
	assert_true(d3_dev_push(&f->dev, &f->c, 4));
	assert_ptr_equal(d3_drv_get_used(&f->q[IN], &len), TOK(0));
	gused(f, IN)->ring[1] = (struct d3_used_elem){ (uint32_t)h, 4 };
	gused(f, IN)->idx = 2;
	assert_null(d3_drv_get_used(&f->q[IN], &len));
	assert_drv_broken(f, IN, "used id is not an outstanding head");
	assert_int_equal(f->q[IN].num_free, 170);

	/* The middle of a chain is not a head. */
	fx_reset(f);
	h = addn(f, OUT, 3, TOK(0));
	d3_drv_publish(&f->q[OUT]);
	gused(f, OUT)->ring[0] = (struct d3_used_elem){ gdesc(f, OUT)[h].next, 0 };
	gused(f, OUT)->idx = 1;
	assert_null(d3_drv_get_used(&f->q[OUT], &len));
	assert_drv_broken(f, OUT, "used id is not an outstanding head");
}

static void test_drv_used_ran_ahead(void **state)
{
	struct fx *f = *state;
	uint32_t len;

	addn(f, OUT, 1, TOK(0));
	d3_drv_publish(&f->q[OUT]);
	gused(f, OUT)->idx = NDESCS + 1;
	assert_null(d3_drv_get_used(&f->q[OUT], &len));
	assert_drv_broken(f, OUT, "used index ran ahead");

	/* Backwards looks the same to unsigned arithmetic. */
	fx_reset(f);
	addn(f, OUT, 1, TOK(0));
	d3_drv_publish(&f->q[OUT]);
	assert_int_equal(d3_dev_pop_out(&f->dev, &f->c), 1);
	assert_true(d3_dev_push(&f->dev, &f->c, 0));
	assert_ptr_equal(d3_drv_get_used(&f->q[OUT], &len), TOK(0));
	gused(f, OUT)->idx = 0;
	assert_null(d3_drv_get_used(&f->q[OUT], &len));
	assert_drv_broken(f, OUT, "used index ran ahead");
}

/* ---- both sides at once, on two threads ----------------------------------- */

/*
 * The guest thread publishes, notifies only when publish() says so, and
 * sleeps only after asking for signals and finding nothing; the device
 * thread runs with NO_NOTIFY set, stops with the full-barrier check, and
 * signals only when not suppressed.  If either pairing of fences were
 * missing a wakeup could be lost, and a side would sleep until the
 * timeout.
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
	struct d3_dev *d = &t->f->dev;
	struct chain *c = &t->f->c2;
	uint64_t seq;
	int r;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		d3_dev_start_running(d);
		while ((r = d3_dev_pop_out(d, c)) == 1) {
			memcpy(&seq, c->seg[0].iov_base, sizeof(seq));
			if (c->nread != 1 || seq != t->popped) {
				snprintf(t->err, sizeof(t->err), "popped seq %llu, expected %lu",
					 (unsigned long long)seq, t->popped);
				return NULL;
			}
			t->popped++;
			d3_dev_push(d, c, 0);
			if (!d3_dev_signal_suppressed(d)) {
				t->signals++;
				sem_post(&t->signal);
			}
		}
		if (r < 0) {
			snprintf(t->err, sizeof(t->err), "device broke: %s", d->error);
			return NULL;
		}
		/* Published while we were stopping?  Then go round again. */
		if (d3_dev_stop_running(d))
			continue;
		if (!sem_wait_s(&t->notify, WAKE_TIMEOUT_S)) {
			t->timed_out = true;
			return NULL;
		}
	}
	return NULL;
}

static void test_threads_notify_protocol(void **state)
{
	struct fx *f = *state;
	struct threads t = { .f = f };
	struct d3_drv_queue *q = &f->q[OUT];
	uint64_t next = 0, reaped = 0;
	unsigned long sleeps = 0;
	pthread_t dev;

	rnd_state = 99;
	assert_int_equal(sem_init(&t.notify, 0, 0), 0);
	assert_int_equal(sem_init(&t.signal, 0, 0), 0);
	assert_int_equal(pthread_create(&dev, NULL, device_thread, &t), 0);

	while (reaped < THREAD_BUFS) {
		bool added = false;
		void *tok;

		/* Add a few (a random batch), each carrying its sequence number. */
		while (next < THREAD_BUFS && q->num_free) {
			uint64_t gpa = DATA + (uint64_t)q->free_head * 64;

			memcpy(f->ram + gpa, &next, sizeof(next));
			if (add1(f, OUT, gpa, sizeof(next), TOK(next)) < 0)
				break;
			next++;
			added = true;
			if (rnd() % 16 == 0)
				break;
		}
		if (added && d3_drv_publish(q)) {
			t.notifies++;
			sem_post(&t.notify);
		}

		/* Poll with signals off... */
		d3_drv_set_no_signal(&f->q[IN], true);
		d3_drv_set_no_signal(q, true);
		while ((tok = d3_drv_get_used(q, NULL))) {
			if (tok != TOK(reaped))
				break;
			reaped++;
		}
		if (tok || q->broken || t.err[0] || t.timed_out)
			break;
		if (reaped == THREAD_BUFS)
			break;
		/* ...and before sleeping, turn them on and look once more. */
		if (!q->num_free || next == THREAD_BUFS) {
			d3_drv_set_no_signal(&f->q[IN], false);
			d3_drv_set_no_signal(q, false);
			if (!d3_drv_has_used(q)) {
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
	assert_int_equal(reaped, THREAD_BUFS);
	assert_int_equal(t.popped, THREAD_BUFS);
	assert_int_equal(q->num_free, 170);
	print_message("    %lu notifies, %lu signals, %lu guest sleeps for %u buffers\n",
		      t.notifies, t.signals, sleeps, THREAD_BUFS);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_##name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(guest_mem_bounds),
		T(dev_init_bounds),
		T(drv_init_and_add_layout),
		T(out_round_trip),
		T(in_round_trip),
		T(in_available),
		T(chain_lengths),
		T(edges_ok),
		T(chain_170_ok),
		T(batching),
		T(wrap_in_order),
		T(wrap_out_of_order),
		T(index_wrap_2_32),
		T(running_suppresses_notify),
		T(no_signal),
		T(has_avail),
		T(join_fresh_pop),
		T(join_posted_then_fresh),
		T(join_out_of_order),
		T(pop_in_takes_oldest_posted),
		T(unadd),
		T(full_queue),
		T(head_out_of_range),
		T(head_without_f_head),
		T(head_in_flight),
		T(next_out_of_range),
		T(loop),
		T(chain_171),
		T(offset),
		T(zero_len),
		T(too_long),
		T(pfn_beyond_ram),
		T(pfn_overflow),
		T(range_past_end),
		T(avail_jump),
		T(avail_backwards),
		T(used_scribbled),
		T(used_scribbled_pair),
		T(join_never_available),
		T(join_id_out_of_range),
		T(join_already_joined),
		T(join_bad_in_buffer),
		T(push_not_in_flight),
		T(descriptor_changing_underneath),
		T(drv_used_id_out_of_range),
		T(drv_used_id_not_outstanding),
		T(drv_used_ran_ahead),
		T(threads_notify_protocol),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
