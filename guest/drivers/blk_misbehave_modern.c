// SPDX-License-Identifier: GPL-2.0
/*
 * blk_misbehave_modern.c: breaking the rules of split and packed rings,
 * and of the virtio handshake, on purpose (see blk_misbehave.c).
 *
 * Ring rules write descriptors straight into blk0's ring behind the
 * driver's back and make them available; handshake rules reset the device
 * and go through the status sequence wrongly.  Either way the launcher
 * must stop the device (or refuse the step) with a message naming the
 * rule, and keep running.
 */
#include "blk_priv.h"
#include "hcall.h"
#include "misbehave.h"

/* A descriptor as a rule wants it; publish_chain() lays it out per layout. */
struct raw_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags; /* VRING_DESC_F_WRITE / _INDIRECT (NEXT is added) */
};

static uint8_t scratch[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static union vq_indirect_desc tables[2][4] __attribute__((aligned(16)));

#define SPARE_ID 200 /* split: descriptor index; packed: buffer id (< 256) */

static uint64_t scratch_gpa(void)
{
	return virt_to_phys(scratch);
}

/* Split: descriptors SPARE_ID.. linked in order, head published. */
static void split_publish_raw(struct split_drv *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

static void split_chain(struct split_drv *q, const struct raw_desc *d, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags = d[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		q->desc[SPARE_ID + i] = (struct vring_desc){ d[i].addr, d[i].len, flags,
							     (uint16_t)(SPARE_ID + i + 1) };
	}
	split_publish_raw(q, SPARE_ID);
}

/* Packed: consecutive slots from next_avail, the head's flags written last. */
static uint16_t packed_avail_flags(bool wrap)
{
	return wrap ? 1 << VRING_PACKED_DESC_F_AVAIL : 1 << VRING_PACKED_DESC_F_USED;
}

static void packed_chain(struct packed_drv *q, const struct raw_desc *d, unsigned int n,
			 uint16_t id)
{
	uint16_t slot = q->next_avail, head_flags = 0;
	bool wrap = q->avail_wrap;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags =
			d[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0) | packed_avail_flags(wrap);
		struct vring_packed_desc *e = &q->ring[slot];

		e->addr = d[i].addr;
		e->len = d[i].len;
		e->id = id;
		if (i == 0)
			head_flags = flags;
		else
			e->flags = flags;
		if (++slot == q->size) {
			slot = 0;
			wrap = !wrap;
		}
	}
	__atomic_store_n(&q->ring[q->next_avail].flags, head_flags, __ATOMIC_RELEASE);
}

static void publish_chain(struct blkdev *bd, const struct raw_desc *d, unsigned int n)
{
	struct vq *q = &bd->dev.vq[0];

	if (q->layout == LG_RING_SPLIT)
		split_chain(&q->split, d, n);
	else
		packed_chain(&q->packed, d, n, SPARE_ID);
}

/* An indirect table of @n entries in tables[t]: split links them, packed does not. */
static uint64_t make_table(struct blkdev *bd, unsigned int t, const struct raw_desc *d,
			   unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (bd->dev.layout == LG_RING_SPLIT)
			tables[t][i].split = (struct vring_desc){
				d[i].addr, d[i].len,
				(uint16_t)(d[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1)
			};
		else
			tables[t][i].packed =
				(struct vring_packed_desc){ d[i].addr, d[i].len, 0, d[i].flags };
	}
	return virt_to_phys(tables[t]);
}

/*
 * 16 honest 64 KiB reads, published and NOTIFYed: the device has them in
 * flight on the host when the broken chain after them arrives.
 */
static bool submit_busy_reads(struct blkdev *bd)
{
	static struct blk_req busy[16];
	static uint8_t *bufs;

	if (!bufs)
		bufs = alloc_pages(16 * 16);
	if (!bufs)
		return false;
	for (unsigned int i = 0; i < 16; i++) {
		busy[i] = (struct blk_req){
			.type = BLK_T_READ, .sector = i * 128, .buf = bufs + i * 65536, .len = 65536
		};
		if (blk_submit(bd, &busy[i]))
			return false;
	}
	blk_kick(bd);
	return true;
}

/* Rules both modern layouts share: bad descriptors and indirect tables. */
static bool common_rule(struct blkdev *bd, const char *rule)
{
	uint64_t s = scratch_gpa();
	struct raw_desc d[48];

	if (!strcmp(rule, "busy-addr-range")) {
		if (!submit_busy_reads(bd))
			return false;
		d[0] = (struct raw_desc){ boot->mem_size + 0x10000, 16, 0 };
		publish_chain(bd, d, 1);
	} else if (!strcmp(rule, "addr-range")) {
		d[0] = (struct raw_desc){ boot->mem_size + 0x10000, 16, 0 };
		publish_chain(bd, d, 1);
	} else if (!strcmp(rule, "len-wrap")) {
		/* addr + len overflows 64 bits: must not wrap into RAM. */
		d[0] = (struct raw_desc){ 0xfffffffffffff000ULL, 0x2000, 0 };
		publish_chain(bd, d, 1);
	} else if (!strcmp(rule, "zero-len")) {
		d[0] = (struct raw_desc){ s, 0, 0 };
		publish_chain(bd, d, 1);
	} else if (!strcmp(rule, "write-before-read")) {
		d[0] = (struct raw_desc){ s, 16, VRING_DESC_F_WRITE };
		d[1] = (struct raw_desc){ s + 64, 16, 0 };
		publish_chain(bd, d, 2);
	} else if (!strcmp(rule, "chain-len")) {
		/* 45 x 96 MiB of real RAM, the same RAM each time: over 4 GiB. */
		for (unsigned int i = 0; i < 45; i++)
			d[i] = (struct raw_desc){ 16 << 20, 96 << 20, 0 };
		if (boot->mem_size < (112 << 20))
			return false;
		publish_chain(bd, d, 45);
	} else if (!strcmp(rule, "indirect-nofeature") || !strcmp(rule, "indirect-next")) {
		struct raw_desc e = { s, 16, 0 };

		d[0] = (struct raw_desc){ make_table(bd, 0, &e, 1), 16, VRING_DESC_F_INDIRECT };
		d[1] = (struct raw_desc){ s, 16, VRING_DESC_F_WRITE };
		publish_chain(bd, d, strcmp(rule, "indirect-next") ? 1 : 2);
	} else if (!strcmp(rule, "indirect-len")) {
		struct raw_desc e[2] = { { s, 16, 0 }, { s, 16, 0 } };

		d[0] = (struct raw_desc){ make_table(bd, 0, e, 2), 24, VRING_DESC_F_INDIRECT };
		publish_chain(bd, d, 1);
	} else if (!strcmp(rule, "indirect-range")) {
		d[0] = (struct raw_desc){ boot->mem_size + 0x1000, 32, VRING_DESC_F_INDIRECT };
		publish_chain(bd, d, 1);
	} else if (!strcmp(rule, "indirect-nested")) {
		struct raw_desc inner = { s, 16, 0 };
		struct raw_desc outer[2] = {
			{ s, 16, 0 }, { make_table(bd, 1, &inner, 1), 16, VRING_DESC_F_INDIRECT }
		};

		d[0] = (struct raw_desc){ make_table(bd, 0, outer, 2), 32, VRING_DESC_F_INDIRECT };
		publish_chain(bd, d, 1);
	} else {
		return false;
	}
	return true;
}

static bool split_rule(struct blkdev *bd, const char *rule)
{
	struct split_drv *q = &bd->dev.vq[0].split;
	uint64_t s = scratch_gpa();
	static struct blk_req req;

	if (!strcmp(rule, "head-range")) {
		split_publish_raw(q, q->size + 5);
	} else if (!strcmp(rule, "next-range")) {
		q->desc[SPARE_ID] = (struct vring_desc){ s, 16, VRING_DESC_F_NEXT, 999 };
		split_publish_raw(q, SPARE_ID);
	} else if (!strcmp(rule, "loop")) {
		q->desc[SPARE_ID] = (struct vring_desc){ s, 16, VRING_DESC_F_NEXT, SPARE_ID + 1 };
		q->desc[SPARE_ID + 1] = (struct vring_desc){ s, 8, VRING_DESC_F_NEXT, SPARE_ID };
		split_publish_raw(q, SPARE_ID);
	} else if (!strcmp(rule, "avail-jump")) {
		q->avail_idx += q->size + 1;
		__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	} else if (!strcmp(rule, "used-scribble")) {
		/* Write the device's used index, then send an honest request. */
		q->used->idx += 5;
		req = (struct blk_req){ .type = BLK_T_READ, .sector = 0 };
		if (blk_submit(bd, &req))
			return false;
	} else {
		return common_rule(bd, rule);
	}
	return true;
}

static bool packed_rule(struct blkdev *bd, const char *rule)
{
	struct packed_drv *q = &bd->dev.vq[0].packed;
	uint64_t s = scratch_gpa();
	static struct blk_req req;

	if (!strcmp(rule, "not-available")) {
		/*
		 * A head that says NEXT, followed by a slot the driver never
		 * made available: its AVAIL bit does not match the wrap counter.
		 */
		uint16_t next = (q->next_avail + 1) % q->size;

		q->ring[next] = (struct vring_packed_desc){ s, 16, SPARE_ID, 0 };
		if (next == 0 || q->avail_wrap == false)
			return false; /* keep it simple: first lap only */
		q->ring[q->next_avail] = (struct vring_packed_desc){ s, 16, SPARE_ID, 0 };
		__atomic_store_n(&q->ring[q->next_avail].flags,
				 VRING_DESC_F_NEXT | packed_avail_flags(true), __ATOMIC_RELEASE);
	} else if (!strcmp(rule, "id-range")) {
		struct raw_desc d = { s, 16, 0 };

		packed_chain(q, &d, 1, q->size + 5);
	} else if (!strcmp(rule, "event-reserved") || !strcmp(rule, "event-desc-noidx")) {
		/* Bad driver-area flags, then an honest request for the device to answer. */
		q->driver->flags =
			strcmp(rule, "event-reserved") ? VRING_PACKED_EVENT_FLAG_DESC : 3;
		req = (struct blk_req){ .type = BLK_T_READ, .sector = 0 };
		if (blk_submit(bd, &req))
			return false;
	} else {
		return common_rule(bd, rule);
	}
	return true;
}

/* The handshake again, from a reset, up to (not including) FEATURES_OK. */
static void restart(struct blkdev *bd, uint64_t features)
{
	hcall_status(bd->dev.index, 0);
	hcall_status(bd->dev.index, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	bd->dev.cfg->driver_features = features;
}

#define S_FEAT (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)

static enum misbehave_outcome handshake_rule(struct blkdev *bd, const char *rule)
{
	volatile struct lg_virtio_cfg *cfg = bd->dev.cfg;
	volatile struct lg_virtio_queue *gq = &cfg->queue[0];
	uint64_t good = bd->dev.features;

	if (!strcmp(rule, "status-failed")) {
		hcall_status(bd->dev.index, cfg->status | VIRTIO_CONFIG_S_FAILED);
		return MISBEHAVE_WAIT_STOP;
	}
	if (!strcmp(rule, "features-unoffered") || !strcmp(rule, "no-version-1") ||
	    !strcmp(rule, "no-packed")) {
		uint64_t f = good;

		if (!strcmp(rule, "features-unoffered"))
			f |= 1ULL << 50;
		else if (!strcmp(rule, "no-version-1"))
			f &= ~(1ULL << VIRTIO_F_VERSION_1);
		else
			f &= ~(1ULL << VIRTIO_F_RING_PACKED);
		restart(bd, f);
		hcall_status(bd->dev.index, S_FEAT);
		if (cfg->status & VIRTIO_CONFIG_S_FEATURES_OK)
			return MISBEHAVE_NOT_REFUSED;
		/* As a driver must: give up on a device that refused us. */
		hcall_status(bd->dev.index, cfg->status | VIRTIO_CONFIG_S_FAILED);
		return MISBEHAVE_REFUSED;
	}
	if (!strcmp(rule, "driver-ok-early")) {
		restart(bd, good);
		hcall_status(bd->dev.index, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						    VIRTIO_CONFIG_S_DRIVER_OK);
		return MISBEHAVE_WAIT_STOP;
	}
	if (!strcmp(rule, "queue-size") || !strcmp(rule, "queue-disabled") ||
	    !strcmp(rule, "ring-range") || !strcmp(rule, "ring-align")) {
		restart(bd, good);
		hcall_status(bd->dev.index, S_FEAT);
		if (!strcmp(rule, "queue-size"))
			gq->size = gq->size_max * 2;
		else if (!strcmp(rule, "queue-disabled"))
			gq->enable = 0;
		else if (!strcmp(rule, "ring-range"))
			gq->desc = boot->mem_size - 64;
		else
			gq->desc += 2;
		hcall_status(bd->dev.index, S_FEAT | VIRTIO_CONFIG_S_DRIVER_OK);
		return MISBEHAVE_WAIT_STOP;
	}
	return MISBEHAVE_UNKNOWN;
}

enum misbehave_outcome blk_misbehave_modern(struct blkdev *bd, const char *rule)
{
	enum misbehave_outcome r = handshake_rule(bd, rule);
	bool ok;

	if (r != MISBEHAVE_UNKNOWN)
		return r;
	ok = bd->dev.layout == LG_RING_SPLIT ? split_rule(bd, rule) : packed_rule(bd, rule);
	if (!ok)
		return MISBEHAVE_UNKNOWN;
	lg_device_kick(&bd->dev);
	hcall_notify(bd->dev.key); /* even if the device said not to */
	return MISBEHAVE_WAIT_STOP;
}
