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
#include "misbehave.h"
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

static enum misbehave_outcome break_rule(struct blkdev *bd, const char *rule)
{
	if (bd->dev.layout != LG_RING_DRAFT3)
		return blk_misbehave_modern(bd, rule);
	if (!break_rule_draft3(bd, rule))
		return MISBEHAVE_UNKNOWN;
	lg_device_kick(&bd->dev);
	hcall_notify(bd->dev.key); /* even if the device claims to be running */
	return MISBEHAVE_WAIT_STOP;
}

int cmd_misbehave(int argc, char **argv)
{
	struct blkdev *bd = blk_get(0);
	enum misbehave_outcome r = MISBEHAVE_UNKNOWN;
	uint64_t deadline;

	if (argc == 2 && bd)
		r = break_rule(bd, argv[1]);
	switch (r) {
	case MISBEHAVE_UNKNOWN:
		printk("usage: misbehave RULE (needs blk0); draft3: head-range no-head next-range "
		       "loop pfn-range len-range offset avail-jump in-flight bad-id "
		       "used-scribble; split: head-range next-range loop avail-jump "
		       "used-scribble; packed: not-available id-range event-reserved "
		       "event-desc-noidx; split and packed: addr-range busy-addr-range len-wrap zero-len "
		       "write-before-read chain-len indirect-nofeature indirect-next "
		       "indirect-len indirect-range indirect-nested status-failed "
		       "features-unoffered no-version-1 no-packed driver-ok-early queue-size "
		       "queue-disabled ring-range ring-align\n");
		return 2;
	case MISBEHAVE_REFUSED:
		printk("misbehave %s: %s refused FEATURES_OK\n", argv[1], blk_name(bd));
		return 1;
	case MISBEHAVE_NOT_REFUSED:
		printk("misbehave %s: %s accepted it\n", argv[1], blk_name(bd));
		return 0;
	case MISBEHAVE_WAIT_STOP:
		break;
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
