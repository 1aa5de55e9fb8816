// SPDX-License-Identifier: GPL-2.0
/*
 * blk_misbehave.c: a guest that breaks the rules on purpose.
 *
 * The launcher must survive any guest.  These are the protocol violations
 * its tests make us commit on blk0's queues, each one written straight into
 * the ring pages behind the driver's back, followed by a NOTIFY.  The
 * launcher should stop the device with a message naming the rule, mark it
 * NEEDS_RESET, and signal us; we report what we saw.  Not for normal use:
 * the driver's bookkeeping is wrong afterwards, but the device is dead too.
 */
#include "blk_priv.h"
#include "hcall.h"
#include "shell.h"

/* Descriptors near the end of the table: free after boot-time use. */
#define SPARE 160

static void publish_raw(struct d3_drv_queue *q, uint32_t head)
{
	q->avail->ring[(q->avail->idx + q->num_added) % D3_NUM_DESCS] = head;
	__atomic_store_n(&q->avail->idx, q->avail->idx + q->num_added + 1, __ATOMIC_RELEASE);
	q->num_added = 0;
}

static void raw_desc(struct d3_drv_queue *q, uint32_t i, uint64_t pfn, uint64_t len,
		     uint16_t offset, uint16_t flags, uint32_t next)
{
	q->desc[i] = (struct d3_desc){
		.pfn = pfn, .len = len, .offset = offset, .flags = flags, .next = next
	};
}

static uint64_t scratch_pfn(void)
{
	static char page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

	return virt_to_phys(page) >> LG_PAGE_SHIFT;
}

static bool break_rule_draft3(struct blkdev *bd, const char *rule)
{
	struct d3_drv_queue *out = &bd->dev.vq[DEV_D3_OUT].d3;
	uint64_t ram_pages = boot->mem_size >> LG_PAGE_SHIFT;
	static struct blk_req req;

	if (!strcmp(rule, "head-range")) {
		publish_raw(out, 200);
	} else if (!strcmp(rule, "no-head")) {
		raw_desc(out, SPARE, scratch_pfn(), 24, 0, 0, 0);
		publish_raw(out, SPARE);
	} else if (!strcmp(rule, "next-range")) {
		raw_desc(out, SPARE, scratch_pfn(), 24, 0, D3_DESC_F_HEAD | D3_DESC_F_NEXT, 999);
		publish_raw(out, SPARE);
	} else if (!strcmp(rule, "loop")) {
		raw_desc(out, SPARE, scratch_pfn(), 24, 0, D3_DESC_F_HEAD | D3_DESC_F_NEXT,
			 SPARE + 1);
		raw_desc(out, SPARE + 1, scratch_pfn(), 8, 0, D3_DESC_F_NEXT, SPARE);
		publish_raw(out, SPARE);
	} else if (!strcmp(rule, "pfn-range")) {
		raw_desc(out, SPARE, ram_pages + 10, 24, 0, D3_DESC_F_HEAD, 0);
		publish_raw(out, SPARE);
	} else if (!strcmp(rule, "len-range")) {
		raw_desc(out, SPARE, ram_pages - 1, 2 * PAGE_SIZE, 0, D3_DESC_F_HEAD, 0);
		publish_raw(out, SPARE);
	} else if (!strcmp(rule, "offset")) {
		raw_desc(out, SPARE, scratch_pfn(), 24, 5000, D3_DESC_F_HEAD, 0);
		publish_raw(out, SPARE);
	} else if (!strcmp(rule, "avail-jump")) {
		__atomic_store_n(&out->avail->idx, out->avail->idx + D3_NUM_DESCS + 1,
				 __ATOMIC_RELEASE);
	} else if (!strcmp(rule, "in-flight")) {
		/*
		 * Publish an honest request's in buffer twice.  The device
		 * pops in buffers into its posted set as soon as a request
		 * needs one, so the second copy arrives while the first is
		 * still in flight.  (An out head cannot show this: the device
		 * finishes each request before it pops the next.)
		 */
		struct d3_drv_queue *in = &bd->dev.vq[DEV_D3_IN].d3;
		uint32_t head;

		req = (struct blk_req){ .type = BLK_T_READ, .sector = 0 };
		if (blk_submit(bd, &req))
			return false;
		head = in->avail->ring[(in->avail->idx + in->num_added - 1) % D3_NUM_DESCS];
		publish_raw(in, head);
	} else if (!strcmp(rule, "bad-id")) {
		/* A well-formed request whose header names an in buffer never offered. */
		req = (struct blk_req){ .type = BLK_T_READ, .sector = 0 };
		if (blk_submit(bd, &req))
			return false;
		req.hdr.id = SPARE;
	} else if (!strcmp(rule, "used-scribble")) {
		/* Write the device's used index, then send an honest request. */
		out->used->idx += 5;
		req = (struct blk_req){ .type = BLK_T_READ, .sector = 0 };
		if (blk_submit(bd, &req))
			return false;
	} else {
		return false;
	}
	return true;
}

static bool break_rule(struct blkdev *bd, const char *rule)
{
	bool ok;

	switch (bd->dev.layout) {
	case LG_RING_DRAFT3:
		ok = break_rule_draft3(bd, rule);
		break;
	default:
		ok = false;
	}
	if (!ok)
		return false;
	lg_device_kick(&bd->dev);
	hcall_notify(bd->dev.key); /* even if the device claims to be running */
	return true;
}

int cmd_misbehave(int argc, char **argv)
{
	struct blkdev *bd = blk_get(0);
	uint64_t deadline;

	if (argc != 2 || !bd || !break_rule(bd, argv[1])) {
		printk("usage: misbehave head-range|no-head|next-range|loop|pfn-range|len-range|"
		       "offset|avail-jump|in-flight|bad-id|used-scribble (needs blk0)\n");
		return 2;
	}
	deadline = rdtsc() + ns_to_tsc(5000000000ULL);
	while (!device_failed(bd->dev.index) && rdtsc() < deadline)
		wait_for_signal(100000);
	if (!device_failed(bd->dev.index)) {
		printk("misbehave %s: %s did not stop\n", argv[1], blk_name(bd));
		return 0;
	}
	printk("misbehave %s: %s stopped\n", argv[1], blk_name(bd));
	return 1;
}
