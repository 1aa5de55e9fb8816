// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ring_split.c: the device side of the virtio 1.x split virtqueue
 * (launcher/ring/split_dev.c, through queue.h) against a hostile guest.
 *
 * Input: a header, then operations (ring_env.h, ring_env.c):
 *
 *   u8 features   bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bits 2-3 where the
 *                 rings are: 0 the driver's layout at 0, 1 the same at a
 *                 u16 offset, 2 three u16 addresses, 3 three u64 addresses
 *   u8 size       bit 7 clear: 1 << (size % 11); set: a u16 follows
 *
 * Besides ring_env's operations, the guest can write one descriptor field,
 * move avail->idx or set an avail->ring entry, add a well-formed chain
 * (direct or through an indirect table, published or not) the way
 * split_drv.c would, write the event-suppression words or (wrongly) the
 * used ring's, and point a descriptor at the very end of RAM.
 */
#include <string.h>

#include "ring_env.h"

#define DATA  0x4000u /* where added chains' buffers go, 8 KiB round and round */
#define INDIR 0x6000u /* and their indirect tables, the same */
#define ROUND 0x2000u

static struct split_guest {
	uint64_t desc, avail, used; /* guest-physical, as the device was told */
	uint16_t size;
	uint16_t next_desc; /* the next descriptor a chain we add starts at */
	uint32_t next_data, next_table;
} g;

static uint32_t chain_id(const struct chain *c, unsigned int k)
{
	(void)k;
	return c->id;
}

/* Only the used ring is the device's: flags, idx, ring[] and avail_event. */
static unsigned int device_areas(const struct ring_env *e, struct ring_area *a)
{
	(void)e;
	a[0] = (struct ring_area){ g.used, 6 + 8 * (uint64_t)g.size };
	return 1;
}

static bool error_named(const struct ring_env *e, const char *msg)
{
	(void)e;
	return !strncmp(msg, "requestq: ", 10);
}

/* The used element just written holds the head and the capped length. */
static void check_push(const struct ring_env *e, const struct chain *c, uint32_t written)
{
	uint16_t idx = e->q[0].split.used_idx - 1;
	uint64_t elem = g.used + 4 + 8 * (uint64_t)(idx & (g.size - 1));
	uint32_t want = written < c->write_len ? written : (uint32_t)c->write_len;

	FUZZ_CHECK(ring_env_read32(e, elem) == c->id && ring_env_read32(e, elem + 4) == want,
		   "used-len: split: used element %u says id %u len %u, expected %u len %u", idx,
		   ring_env_read32(e, elem), ring_env_read32(e, elem + 4), c->id, want);
}

static uint64_t desc_gpa(uint32_t i)
{
	return g.desc + 16 * (uint64_t)(i & (g.size - 1));
}

static void write_desc(struct ring_env *e, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next };

	ring_env_write(e, desc_gpa(i), &d, sizeof(d));
}

static uint64_t data_buffer(uint32_t len)
{
	uint64_t gpa = DATA + g.next_data % ROUND;

	g.next_data += len;
	return gpa;
}

/* Put @head in the next avail slot; move avail->idx past it if @publish. */
static void add_head(struct ring_env *e, uint16_t head, bool publish)
{
	uint16_t idx = ring_env_read16(e, g.avail + 2);

	ring_env_write16(e, g.avail + 4 + 2 * (uint64_t)(idx & (g.size - 1)), head);
	if (publish)
		ring_env_write16(e, g.avail + 2, idx + 1);
}

/* arg: bits 0-2 readable, 3-5 writable descriptors, 6 don't publish. */
static void add_chain(struct ring_env *e, uint8_t arg, uint8_t len)
{
	unsigned int nread = arg & 7, nwrite = (arg >> 3) & 7, n = nread + nwrite;
	uint16_t head = g.next_desc & (g.size - 1);

	if (!n)
		nread = n = 1;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags =
			(i + 1 < n ? VRING_DESC_F_NEXT : 0) | (i >= nread ? VRING_DESC_F_WRITE : 0);

		write_desc(e, head + i, data_buffer(len + 1u), len + 1u, flags,
			   (head + i + 1) & (g.size - 1));
	}
	g.next_desc += n;
	add_head(e, head, !(arg & 0x40));
}

/*
 * arg as add_chain(), and bit 7: a table of about CHAIN_MAX_SEGS entries
 * (all readable), the most a chain may have; @where misaligns the table by
 * where % 16 (allowed).
 */
static void add_indirect(struct ring_env *e, uint8_t arg, uint8_t where)
{
	unsigned int nread = arg & 7, nwrite = (arg >> 3) & 7, n = nread + nwrite;
	uint64_t table = INDIR + (g.next_table + where % 16) % ROUND;
	uint16_t head = g.next_desc & (g.size - 1);

	if (arg & 0x80) {
		nread = n = CHAIN_MAX_SEGS - 8 + where % 16;
		table = DATA + where % 16;
	}
	if (!n)
		nread = n = 1;
	g.next_table += 16 * (n + 1);
	for (unsigned int i = 0; i < n; i++) {
		struct vring_desc d = { data_buffer(64), 64,
					(i + 1 < n ? VRING_DESC_F_NEXT : 0) |
						(i >= nread ? VRING_DESC_F_WRITE : 0),
					(uint16_t)(i + 1) };

		ring_env_write(e, table + 16 * i, &d, sizeof(d));
	}
	write_desc(e, head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
	g.next_desc++;
	add_head(e, head, !(arg & 0x40));
}

static void layout_op(struct ring_env *e, unsigned int op, struct fuzz_input *in)
{
	uint8_t a = fuzz_u8(in), b;
	uint16_t v16;

	switch (op) {
	case 0: /* one field of descriptor fuzz_u16: a picks which */
		v16 = fuzz_u16(in);
		if ((a & 3) == 0)
			ring_env_write64(e, desc_gpa(v16), fuzz_u64(in));
		else if ((a & 3) == 1)
			ring_env_write32(e, desc_gpa(v16) + 8, fuzz_u32(in));
		else
			ring_env_write16(e, desc_gpa(v16) + 12 + 2 * ((a & 3) - 2), fuzz_u16(in));
		break;
	case 1: /* avail->idx: moved on by a, or (bit 7) set */
		v16 = a & 0x80 ? fuzz_u16(in) : ring_env_read16(e, g.avail + 2) + a;
		ring_env_write16(e, g.avail + 2, v16);
		break;
	case 2: /* avail->ring[a] = head */
		ring_env_write16(e, g.avail + 4 + 2 * (uint64_t)(a & (g.size - 1)), fuzz_u16(in));
		break;
	case 3:
		b = fuzz_u8(in);
		add_chain(e, a, b);
		break;
	case 4:
		b = fuzz_u8(in);
		add_indirect(e, a, b);
		break;
	case 5: /* avail->flags, used_event; or what the guest must not write */
		v16 = fuzz_u16(in);
		switch (a & 3) {
		case 0:
			ring_env_write16(e, g.avail, v16);
			break;
		case 1:
			ring_env_write16(e, g.avail + 4 + 2 * (uint64_t)g.size, v16);
			break;
		case 2:
			ring_env_write16(e, g.used + 2, v16);
			break;
		default:
			ring_env_write16(e, g.used, v16);
		}
		break;
	case 6: /* where the next added chain starts */
		g.next_desc = a;
		break;
	default: { /* descriptor a (or the indirect table it names) at RAM's end */
		uint64_t gpa;
		uint32_t len;

		ring_env_edge(fuzz_u16(in), &gpa, &len);
		ring_env_write64(e, desc_gpa(a), gpa);
		ring_env_write32(e, desc_gpa(a) + 8, len);
	}
	}
}

static const struct ring_layout split_layout = {
	.name = "split",
	.nqueues = 1,
	.chain_id = chain_id,
	.device_areas = device_areas,
	.error_named = error_named,
	.op = layout_op,
	.nops = 8,
	.check_push = check_push,
	.has_buffers_is_enable = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct ring_env *e;
	uint8_t features, sz;
	uint16_t qsize;

	fuzz_input_init(&in, data, size);
	e = ring_env_begin(&split_layout, &g);
	memset(&g, 0, sizeof(g));
	features = fuzz_u8(&in);
	sz = fuzz_u8(&in);
	qsize = sz & 0x80 ? fuzz_u16(&in) : 1u << (sz % 11);
	/* An invalid size fails init; our helpers' masks still need a good one. */
	g.size = qsize && !(qsize & (qsize - 1)) ? qsize : 1;

	switch ((features >> 2) & 3) {
	case 0:
	case 1:
		/* As split_drv_init() lays it out, at 0 or a 16-aligned offset. */
		g.desc = (features >> 2) & 3 ? (fuzz_u16(&in) & ~15u) % ENV_RAM_SIZE : 0;
		g.avail = g.desc + 16 * (uint64_t)g.size;
		g.used = (g.avail + 6 + 2 * (uint64_t)g.size + 3) & ~3ull;
		break;
	case 2:
		g.desc = fuzz_u16(&in);
		g.avail = fuzz_u16(&in);
		g.used = fuzz_u16(&in);
		break;
	default:
		g.desc = fuzz_u64(&in);
		g.avail = fuzz_u64(&in);
		g.used = fuzz_u64(&in);
	}
	queue_init_modern(&e->q[0], LG_RING_SPLIT, &e->mem, "requestq", qsize, g.desc, g.avail,
			  g.used, features & 1, features & 2);
	ring_env_ready(e, g.size);
	ring_env_run(e, &in);
	return 0;
}
