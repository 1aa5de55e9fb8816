// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ring_packed.c: the device side of the virtio 1.1 packed virtqueue
 * (launcher/ring/packed_dev.c, through queue.h) against a hostile guest.
 *
 * Input: a header, then operations (ring_env.h, ring_env.c):
 *
 *   u8 features   bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bits 2-3 where the
 *                 ring and the two event areas are: 0 the driver's layout
 *                 at 0, 1 the same at a u16 offset, 2 three u16
 *                 addresses, 3 three u64 addresses
 *   u8 size       bit 7 clear: 1 << (size % 11); set: a u16 follows
 *
 * Besides ring_env's operations, the guest can write one descriptor field,
 * add a well-formed buffer (direct or through an indirect table) the way
 * packed_drv.c would, with its own wrap counter, move where it adds,
 * write the driver area (or, wrongly, the device area), and point a
 * descriptor at the very end of RAM.
 */
#include <string.h>

#include "ring_env.h"

#define DATA  0x4000u /* where added buffers' data goes, 8 KiB round and round */
#define INDIR 0x6000u /* and their indirect tables, the same */
#define ROUND 0x2000u

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED	((uint16_t)(1u << VRING_PACKED_DESC_F_USED))

static struct packed_guest {
	uint64_t ring, driver, device; /* guest-physical, as the device was told */
	uint16_t size;
	uint16_t next;	     /* the slot the next buffer we add starts at */
	bool wrap;	     /* our wrap counter there */
	uint16_t next_id;    /* the id the next buffer we add gets */
	uint32_t next_data;  /* where its data goes */
	uint32_t next_table; /* and its indirect table */
	uint16_t used_slot;  /* the device's next_used before its last call */
	bool used_wrap;
} g;

static uint32_t chain_id(const struct chain *c, unsigned int k)
{
	(void)k;
	return c->id;
}

/*
 * The device writes its own area, and one used descriptor (id, len,
 * flags: not addr) at next_used.
 */
static unsigned int device_areas(const struct ring_env *e, struct ring_area *a)
{
	g.used_slot = e->q[0].packed.next_used;
	g.used_wrap = e->q[0].packed.used_wrap;
	a[0] = (struct ring_area){ g.device, 4 };
	a[1] = (struct ring_area){ g.ring + 16 * (uint64_t)g.used_slot + 8, 8 };
	return 2;
}

static bool error_named(const struct ring_env *e, const char *msg)
{
	(void)e;
	return !strncmp(msg, "requestq: ", 10);
}

/* The used descriptor: id, the capped length, and both bits = our wrap. */
static void check_push(const struct ring_env *e, const struct chain *c, uint32_t written)
{
	uint64_t d = g.ring + 16 * (uint64_t)g.used_slot;
	uint32_t want = written < c->write_len ? written : (uint32_t)c->write_len;
	uint16_t flags = (g.used_wrap ? F_AVAIL | F_USED : 0) | (want ? VRING_DESC_F_WRITE : 0);

	FUZZ_CHECK(ring_env_read32(e, d + 8) == want && ring_env_read16(e, d + 12) == c->id &&
			   ring_env_read16(e, d + 14) == flags,
		   "used-len: packed: used slot %u says id %u len %u flags 0x%x, expected %u %u "
		   "0x%x",
		   g.used_slot, ring_env_read16(e, d + 12), ring_env_read32(e, d + 8),
		   ring_env_read16(e, d + 14), c->id, want, flags);
}

static uint64_t slot_gpa(uint32_t slot)
{
	return g.ring + 16 * (uint64_t)(slot & (g.size - 1));
}

static uint64_t data_buffer(uint32_t len)
{
	uint64_t gpa = DATA + g.next_data % ROUND;

	g.next_data += len;
	return gpa;
}

static uint16_t avail_flags(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

/*
 * Write descriptor @d at our next slot and step past it, flipping our wrap
 * counter at the end of the ring.  Returns the flags it should carry.
 */
static uint16_t put_desc(struct ring_env *e, struct vring_packed_desc *d, uint64_t *at)
{
	uint16_t flags = d->flags | avail_flags(g.wrap);

	*at = slot_gpa(g.next);
	ring_env_write(e, *at, d, 14);
	if (++g.next == g.size) {
		g.next = 0;
		g.wrap = !g.wrap;
	}
	return flags;
}

/*
 * arg: bits 0-2 readable, 3-5 writable descriptors, 6: the id is
 * fuzz_u16() instead of the next one.  The head's flags go last, as the
 * driver makes a buffer available with them.
 */
static void add_chain(struct ring_env *e, uint8_t arg, uint8_t len, struct fuzz_input *in)
{
	unsigned int nread = arg & 7, nwrite = (arg >> 3) & 7, n = nread + nwrite;
	uint16_t id = arg & 0x40 ? fuzz_u16(in) : g.next_id++ & (g.size - 1);
	uint16_t head_flags = 0;
	uint64_t head = 0, at;

	if (!n)
		nread = n = 1;
	for (unsigned int i = 0; i < n; i++) {
		struct vring_packed_desc d = { data_buffer(len + 1u), len + 1u, id,
					       (i + 1 < n ? VRING_DESC_F_NEXT : 0) |
						       (i >= nread ? VRING_DESC_F_WRITE : 0) };
		uint16_t flags = put_desc(e, &d, &at);

		if (i == 0) {
			head = at;
			head_flags = flags;
		} else {
			ring_env_write16(e, at + 14, flags);
		}
	}
	ring_env_write16(e, head + 14, head_flags);
}

/*
 * arg as add_chain(), and bit 7: a table of about CHAIN_MAX_SEGS entries
 * (all readable), the most a chain may have; @where: bit 7 misaligns the
 * table by 4.
 */
static void add_indirect(struct ring_env *e, uint8_t arg, uint8_t where)
{
	unsigned int nread = arg & 7, nwrite = (arg >> 3) & 7, n = nread + nwrite;
	uint64_t table = INDIR + (g.next_table + (where & 0x80 ? 4 : 0)) % ROUND, at;
	struct vring_packed_desc d = { 0, 0, g.next_id++ & (g.size - 1), VRING_DESC_F_INDIRECT };
	uint16_t flags;

	if (arg & 0x80) {
		nread = n = CHAIN_MAX_SEGS - 8 + where % 16;
		table = DATA + (where & 0x80 ? 4 : 0);
	}
	d.addr = table;
	if (!n)
		nread = n = 1;
	g.next_table += 16 * (n + 1);
	for (unsigned int i = 0; i < n; i++) {
		struct vring_packed_desc t = { data_buffer(64), 64, 0,
					       i >= nread ? VRING_DESC_F_WRITE : 0 };

		ring_env_write(e, table + 16 * i, &t, sizeof(t));
	}
	d.len = 16 * n;
	flags = put_desc(e, &d, &at);
	ring_env_write16(e, at + 14, flags);
}

static void layout_op(struct ring_env *e, unsigned int op, struct fuzz_input *in)
{
	uint8_t a = fuzz_u8(in), b;
	uint16_t slot;

	switch (op) {
	case 0: /* one field of slot fuzz_u16: a picks which */
		slot = fuzz_u16(in);
		if ((a & 3) == 0)
			ring_env_write64(e, slot_gpa(slot), fuzz_u64(in));
		else if ((a & 3) == 1)
			ring_env_write32(e, slot_gpa(slot) + 8, fuzz_u32(in));
		else
			ring_env_write16(e, slot_gpa(slot) + 12 + 2 * ((a & 3) - 2), fuzz_u16(in));
		break;
	case 1:
		b = fuzz_u8(in);
		add_chain(e, a, b, in);
		break;
	case 2:
		b = fuzz_u8(in);
		add_indirect(e, a, b);
		break;
	case 3: /* the driver area; or (bit 1) the device's, which it must not */
		ring_env_write16(e, (a & 2 ? g.device : g.driver) + 2 * (a & 1), fuzz_u16(in));
		break;
	case 4: /* slot a's flags: available or used on either lap */
		ring_env_write16(e, slot_gpa(fuzz_u16(in)) + 14,
				 (a & 1 ? avail_flags(a & 2) : (a & 2 ? F_AVAIL | F_USED : 0)) |
					 (a & 0xf0));
		break;
	case 5: /* where (and on which lap) the next buffer goes */
		g.next = fuzz_u16(in) & (g.size - 1);
		g.wrap = a & 1;
		break;
	default: { /* slot a (or the indirect table it names) at RAM's end */
		uint64_t gpa;
		uint32_t len;

		ring_env_edge(fuzz_u16(in), &gpa, &len);
		ring_env_write64(e, slot_gpa(a), gpa);
		ring_env_write32(e, slot_gpa(a) + 8, len);
	}
	}
}

static const struct ring_layout packed_layout = {
	.name = "packed",
	.nqueues = 1,
	.chain_id = chain_id,
	.device_areas = device_areas,
	.error_named = error_named,
	.op = layout_op,
	.nops = 7,
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
	e = ring_env_begin(&packed_layout, &g);
	memset(&g, 0, sizeof(g));
	g.wrap = true;
	features = fuzz_u8(&in);
	sz = fuzz_u8(&in);
	qsize = sz & 0x80 ? fuzz_u16(&in) : 1u << (sz % 11);
	/* An invalid size fails init; our helpers' masks still need a good one. */
	g.size = qsize && !(qsize & (qsize - 1)) ? qsize : 1;

	switch ((features >> 2) & 3) {
	case 0:
	case 1:
		/* As packed_drv_init() lays it out, at 0 or a 16-aligned offset. */
		g.ring = (features >> 2) & 3 ? (fuzz_u16(&in) & ~15u) % ENV_RAM_SIZE : 0;
		g.driver = g.ring + 16 * (uint64_t)g.size;
		g.device = g.driver + 4;
		break;
	case 2:
		g.ring = fuzz_u16(&in);
		g.driver = fuzz_u16(&in);
		g.device = fuzz_u16(&in);
		break;
	default:
		g.ring = fuzz_u64(&in);
		g.driver = fuzz_u64(&in);
		g.device = fuzz_u64(&in);
	}
	queue_init_modern(&e->q[0], LG_RING_PACKED, &e->mem, "requestq", qsize, g.ring, g.driver,
			  g.device, features & 1, features & 2);
	ring_env_ready(e, g.size);
	ring_env_run(e, &in);
	return 0;
}
