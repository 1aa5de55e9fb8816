// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: the block driver over draft-III queues (shared/seeds/001).
 *
 * One request is two buffers.  First we add the *in* buffer (the status
 * byte, then the pages to read into), which gives us its id; then the *out*
 * buffer (the header naming that id, then the pages to write from).  The
 * request is finished only when both halves come back used: until then the
 * device may still be reading or writing our pages.
 *
 * Nothing is sent until blk_kick(): callers add many requests and kick
 * once, which is the point of the available index.
 */
#include "blk_priv.h"
#include "hcall.h"

#define MAX_BLK 16

static struct blkdev blks[MAX_BLK];
static int nblk;

void blk_probe(unsigned int index)
{
	volatile struct lg_device_desc *d = device_desc(index);
	struct blkdev *bd;

	if (nblk == MAX_BLK)
		return;
	bd = &blks[nblk];
	if (!d3_device_init(&bd->dev, index)) {
		printk("blk: device %u has an unsupported layout\n", index);
		return;
	}
	ksnprintf(bd->name, sizeof(bd->name), "blk%d", nblk);
	bd->capacity = d->config[LG_BLK_CFG_CAPACITY];
	bd->read_only = d->features & LG_BLK_F_RO;
	nblk++;
}

int blk_count(void)
{
	return nblk;
}

struct blkdev *blk_get(int index)
{
	return index >= 0 && index < nblk ? &blks[index] : NULL;
}

const char *blk_name(const struct blkdev *bd)
{
	return bd->name;
}

uint64_t blk_capacity(const struct blkdev *bd)
{
	return bd->capacity;
}

bool blk_read_only(const struct blkdev *bd)
{
	return bd->read_only;
}

bool blk_broken(struct blkdev *bd)
{
	return device_failed(bd->dev.index) || bd->dev.in.broken || bd->dev.out.broken;
}

int blk_submit(struct blkdev *bd, struct blk_req *req)
{
	bool to_device = req->type == D3_BLK_T_WRITE;
	struct lg_sg sg[2];
	int in_id, out_id;

	if (blk_broken(bd))
		return BLK_ERR_BROKEN;
	if (req->len % LG_SECTOR_SIZE || (req->len && !req->buf))
		return BLK_ERR_INVAL;

	req->in_done = req->out_done = false;
	req->in_hdr.status = 0xff;
	sg[0] = (struct lg_sg){ virt_to_phys(&req->in_hdr), sizeof(req->in_hdr) };
	sg[1] = (struct lg_sg){ virt_to_phys(req->buf), req->len };
	in_id = d3_drv_add(&bd->dev.in, sg, !to_device && req->len ? 2 : 1, req);
	if (in_id < 0)
		return BLK_ERR_FULL;

	req->hdr = (struct d3_blk_outhdr){
		.type = req->type, .ioprio = 0, .sector = req->sector, .id = (uint64_t)in_id
	};
	sg[0] = (struct lg_sg){ virt_to_phys(&req->hdr), sizeof(req->hdr) };
	out_id = d3_drv_add(&bd->dev.out, sg, to_device && req->len ? 2 : 1, req);
	if (out_id < 0) {
		d3_drv_unadd(&bd->dev.in, in_id);
		return BLK_ERR_FULL;
	}
	req->submit_tsc = rdtsc();
	return 0;
}

void blk_kick(struct blkdev *bd)
{
	d3_device_kick(&bd->dev);
}

static void finish_half(struct blkdev *bd, struct blk_req *req)
{
	if (!req->in_done || !req->out_done)
		return;
	req->status = req->in_hdr.status;
	req->next_done = NULL;
	if (bd->done_tail)
		bd->done_tail->next_done = req;
	else
		bd->done_head = req;
	bd->done_tail = req;
}

struct blk_req *blk_reap(struct blkdev *bd)
{
	struct blk_req *req;
	uint32_t len;

	while ((req = d3_drv_get_used(&bd->dev.out, &len))) {
		req->out_done = true;
		finish_half(bd, req);
	}
	while ((req = d3_drv_get_used(&bd->dev.in, &len))) {
		req->in_done = true;
		finish_half(bd, req);
	}
	req = bd->done_head;
	if (req) {
		bd->done_head = req->next_done;
		if (!bd->done_head)
			bd->done_tail = NULL;
	}
	return req;
}

struct blk_req *blk_reap_wait(struct blkdev *bd)
{
	for (;;) {
		struct blk_req *req = blk_reap(bd);

		if (req)
			return req;
		if (blk_broken(bd))
			return NULL;
		wait_for_signal(0);
	}
}

int blk_rw(struct blkdev *bd, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	struct blk_req req = { .type = type, .sector = sector, .buf = buf, .len = len };
	int err = blk_submit(bd, &req);

	if (err)
		return err;
	blk_kick(bd);
	/* With one request outstanding, the next completion is ours. */
	if (!blk_reap_wait(bd))
		return BLK_ERR_BROKEN;
	return req.status;
}
