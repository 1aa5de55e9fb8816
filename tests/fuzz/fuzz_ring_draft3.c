// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ring_draft3.c: the device side of draft-III queues
 * (launcher/ring/draft3_dev.c, through queue.h, and d3_dev_join() as the
 * block model calls it) against a hostile guest.
 *
 * Input: a header, then operations (ring_env.h, ring_env.c):
 *
 *   u8 key        bit 7 clear: the six queue pages start at page key % 3
 *                 of the 8 pages of RAM; set: a u64 page frame follows
 *
 * Both queues of the device are in play: ring_env's queue 0 is the in
 * queue (QUEUE_D3_IN), 1 the out queue.  Besides ring_env's operations,
 * the guest can write one descriptor field, move an avail index or set an
 * avail ring entry, add a well-formed chain the way draft3_drv.c would,
 * set the NO_SIGNAL flags or (wrongly) write a used page, point a
 * descriptor at the very end of RAM; and the device can join an in buffer
 * to a popped out chain, as a block request does.
 */
#include <stddef.h>
#include <string.h>

#include "ring_env.h"

#define PAGE	  ((uint64_t)D3_PAGE_SIZE)
#define RAM_PAGES (ENV_RAM_SIZE / D3_PAGE_SIZE)

static struct d3_guest {
	struct d3_dev dev;
	uint64_t key;
	uint32_t next_desc[2]; /* per queue: the next descriptor a chain we add starts at */
	uint32_t next_data;
	uint32_t last_head[2]; /* per queue: the head we added last */
} g;

/* ring_env's queue k is queue_init_draft3(in = k == QUEUE_D3_IN). */
_Static_assert(QUEUE_D3_IN == 0 && QUEUE_D3_OUT == 1, "ring_env numbers queues so");

static uint32_t chain_id(const struct chain *c, unsigned int k)
{
	return k == QUEUE_D3_IN ? c->in_id : c->id;
}

/* Page @p of the device's six, or past RAM (then every write is dropped). */
static uint64_t page_gpa(unsigned int p)
{
	return g.key < RAM_PAGES ? (g.key + p) * PAGE : ENV_RAM_SIZE;
}

/* The two used pages are the device's: idx, ring[] and flags. */
static unsigned int device_areas(const struct ring_env *e, struct ring_area *a)
{
	(void)e;
	a[0] = (struct ring_area){ page_gpa(D3_IN_USED), sizeof(struct d3_used) };
	a[1] = (struct ring_area){ page_gpa(D3_OUT_USED), sizeof(struct d3_used) };
	return 2;
}

static bool error_named(const struct ring_env *e, const char *msg)
{
	(void)e;
	return !strncmp(msg, "in queue: ", 10) || !strncmp(msg, "out queue: ", 11) ||
	       !strncmp(msg, "device pages at pfn ", 20); /* d3_dev_init(): no queue yet */
}

/* The used elements just written: the out half with 0, the in half capped. */
static void check_push(const struct ring_env *e, const struct chain *c, uint32_t written)
{
	uint32_t want = written < c->write_len ? written : (uint32_t)c->write_len;

	for (unsigned int k = 0; k < 2; k++) {
		const struct d3_dev_queue *q = k == QUEUE_D3_IN ? &g.dev.in : &g.dev.out;
		uint32_t id = chain_id(c, k), len = k == QUEUE_D3_IN ? want : 0;
		uint64_t elem = page_gpa(k == QUEUE_D3_IN ? D3_IN_USED : D3_OUT_USED) + 4 +
				8 * (uint64_t)((q->used_idx - 1) % D3_NUM_DESCS);

		if (id == CHAIN_NO_ID)
			continue;
		FUZZ_CHECK(ring_env_read32(e, elem) == id && ring_env_read32(e, elem + 4) == len,
			   "used-len: draft3: %s used element says id %u len %u, expected %u %u",
			   q->name, ring_env_read32(e, elem), ring_env_read32(e, elem + 4), id,
			   len);
	}
}

/* In heads join() took off the ring and keeps for a later request. */
static void sync_model(struct ring_env *e)
{
	for (unsigned int i = 0; i < g.dev.nposted; i++) {
		uint8_t *o = &e->owner[QUEUE_D3_IN][g.dev.posted[i]];

		if (*o == OWNER_NONE)
			*o = OWNER_DEVICE;
	}
}

/* d3_dev_pop_in() hands out posted buffers first, which enable does not count. */
static bool enable_binds_pop(const struct ring_env *e, unsigned int k)
{
	(void)e;
	return k != QUEUE_D3_IN || !g.dev.nposted;
}

static uint64_t desc_gpa(unsigned int k, uint32_t i)
{
	return page_gpa(k == QUEUE_D3_IN ? D3_IN_DESC : D3_OUT_DESC) +
	       sizeof(struct d3_desc) * (uint64_t)(i % D3_NUM_DESCS);
}

static uint64_t avail_gpa(unsigned int k)
{
	return page_gpa(k == QUEUE_D3_IN ? D3_IN_AVAIL : D3_OUT_AVAIL);
}

/* Data goes in the pages after the six (mod RAM), anywhere in a page. */
static void data_buffer(uint32_t len, struct d3_desc *d)
{
	uint64_t gpa = ((g.key + D3_NUM_PAGES) % RAM_PAGES) * PAGE + g.next_data % PAGE;

	g.next_data += len;
	d->pfn = gpa / PAGE;
	d->offset = gpa % PAGE;
	d->len = len;
}

/*
 * Queue a & 1; bits 1-3: descriptors; bit 4: don't publish.  Heads come
 * off a cursor, as if every earlier buffer had been reaped.
 */
static void add_chain(struct ring_env *e, uint8_t a, uint8_t len)
{
	unsigned int k = a & 1, n = 1 + ((a >> 1) & 7);
	uint32_t head = g.next_desc[k] % D3_NUM_DESCS, idx;
	uint64_t avail = avail_gpa(k);

	for (unsigned int i = 0; i < n; i++) {
		uint32_t at = (head + i) % D3_NUM_DESCS;
		struct d3_desc d = { .flags = (i == 0 ? D3_DESC_F_HEAD : 0) |
					      (i + 1 < n ? D3_DESC_F_NEXT : 0),
				     .next = (at + 1) % D3_NUM_DESCS };

		data_buffer(len + 1u, &d);
		ring_env_write(e, desc_gpa(k, at), &d, sizeof(d));
	}
	g.next_desc[k] += n;
	g.last_head[k] = head;
	idx = ring_env_read32(e, avail);
	ring_env_write32(e, avail + 4 + 4 * (uint64_t)(idx % D3_NUM_DESCS), head);
	if (!(a & 0x10))
		ring_env_write32(e, avail, idx + 1);
}

/* The block model's join: the in buffer a request names, onto slot s. */
static void join(struct ring_env *e, uint8_t a, struct fuzz_input *in)
{
	unsigned int s = a % ENV_SLOTS;
	uint64_t id = a & 0x80 ? fuzz_u16(in) : g.last_head[QUEUE_D3_IN];
	bool was_broken = queue_broken(&e->q[0]);
	struct ring_area area[2];
	unsigned int na;
	int r;

	ring_env_device_begin(e, area, &na);
	r = d3_dev_join(&g.dev, &e->slot[s], id);
	ring_env_device_end(e, area, na);

	FUZZ_CHECK(!was_broken || r == -1, "broken-quiet: draft3: join on a broken device said %d",
		   r);
	FUZZ_CHECK(r == 1 || r == -1, "draft3: join returned %d", r);
	FUZZ_CHECK((r == -1) == queue_broken(&e->q[0]), "draft3: join said %d, broken is %d", r,
		   queue_broken(&e->q[0]));
	if (r == 1) {
		ring_env_check_chain(e, &e->slot[s], ENV_JOINED);
		ring_env_own_chain(e, s, QUEUE_D3_IN);
	}
	/* It took in heads off the ring: what enable said is stale. */
	e->enabled[0] = e->enabled[1] = -1;
	sync_model(e);
}

static void layout_op(struct ring_env *e, unsigned int op, struct fuzz_input *in)
{
	uint8_t a = fuzz_u8(in), b;
	unsigned int k = a & 1;
	uint64_t at;

	switch (op) {
	case 0: /* one field of descriptor fuzz_u8 of queue k: bits 1-3 pick which */
		at = desc_gpa(k, fuzz_u8(in));
		switch ((a >> 1) % 5) {
		case 0:
			ring_env_write64(e, at, fuzz_u64(in));
			break;
		case 1:
			ring_env_write64(e, at + 8, fuzz_u64(in));
			break;
		case 2:
			ring_env_write16(e, at + 16, fuzz_u16(in));
			break;
		case 3:
			ring_env_write16(e, at + 18, fuzz_u16(in));
			break;
		default:
			ring_env_write32(e, at + 20, fuzz_u32(in));
		}
		break;
	case 1: /* queue k's avail index: moved on by a >> 1, or (bit 7) set */
		at = avail_gpa(k);
		ring_env_write32(e, at,
				 a & 0x80 ? fuzz_u32(in) : ring_env_read32(e, at) + (a >> 1));
		break;
	case 2: /* queue k's avail ring[fuzz_u8] = head */
		b = fuzz_u8(in);
		ring_env_write32(e, avail_gpa(k) + 4 + 4 * (uint64_t)(b % D3_NUM_DESCS),
				 fuzz_u32(in));
		break;
	case 3:
		b = fuzz_u8(in);
		add_chain(e, a, b);
		break;
	case 4:
		join(e, a, in);
		break;
	case 5: /* NO_SIGNAL on queue k; or (bit 1) a used page's idx or flags */
		if (a & 2)
			ring_env_write32(e,
					 page_gpa(k == QUEUE_D3_IN ? D3_IN_USED : D3_OUT_USED) +
						 (a & 4 ? offsetof(struct d3_used, flags) : 0),
					 fuzz_u32(in));
		else
			ring_env_write32(e, avail_gpa(k) + offsetof(struct d3_avail, flags),
					 fuzz_u32(in));
		break;
	case 6: /* where queue k's next added chain starts */
		g.next_desc[k] = fuzz_u8(in);
		break;
	default: { /* descriptor fuzz_u8 of queue k at RAM's end */
		uint64_t gpa;
		uint32_t len;

		at = desc_gpa(k, fuzz_u8(in));
		ring_env_edge(fuzz_u16(in), &gpa, &len);
		ring_env_write64(e, at, gpa / PAGE);
		ring_env_write64(e, at + 8, len);
		ring_env_write16(e, at + 16, gpa % PAGE);
	}
	}
}

static const struct ring_layout d3_layout = {
	.name = "draft3",
	.nqueues = 2,
	.chain_id = chain_id,
	.device_areas = device_areas,
	.error_named = error_named,
	.op = layout_op,
	.nops = 8,
	.check_push = check_push,
	.sync_model = sync_model,
	.enable_binds_pop = enable_binds_pop,
	.empty_push_ok = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct ring_env *e;
	uint8_t key;

	fuzz_input_init(&in, data, size);
	e = ring_env_begin(&d3_layout, &g);
	memset(&g, 0, sizeof(g));
	key = fuzz_u8(&in);
	g.key = key & 0x80 ? fuzz_u64(&in) : key % (RAM_PAGES - D3_NUM_PAGES + 1);
	d3_dev_init(&g.dev, &e->mem, g.key);
	queue_init_draft3(&e->q[QUEUE_D3_IN], &g.dev, true);
	queue_init_draft3(&e->q[QUEUE_D3_OUT], &g.dev, false);
	ring_env_ready(e, D3_NUM_DESCS);
	ring_env_run(e, &in);
	return 0;
}
