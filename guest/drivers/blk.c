// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: the block driver, on any ring layout.
 *
 * Draft III (shared/seeds/001): one request is two buffers.  First we add
 * the *in* buffer (the status byte, then the pages to read into), which
 * gives us its id; then the *out* buffer (the header naming that id, then
 * the pages to write from).  The request is finished only when both halves
 * come back used: until then the device may still be using our pages.
 *
 * Split and packed (virtio 1.x): one chain, header and data to write
 * (readable), data to read into and the status byte (writable).  With
 * VIRTIO_F_INDIRECT_DESC negotiated the chain goes through a small table
 * in the request, taking one ring slot instead of three, as Linux does.
 *
 * With VIRTIO_BLK_F_MQ the device has several request queues, each served
 * on its own engine on the host; we spread requests over them in turn, and
 * one NOTIFY (which names the device) covers them all.
 *
 * Nothing is sent until blk_kick(): callers add many requests and kick
 * once, which is the point of the available index.  Completions signal
 * us unless we said otherwise (EVENT_IDX moves used_event along as we
 * reap, so a batch of completions costs one signal).
 */
#include "blk_priv.h"
#include "hcall.h"

#define MAX_BLK 16

static struct blkdev blks[MAX_BLK];
static int nblk;

/* How many request queues device @index offers: 1 unless it offers VIRTIO_BLK_F_MQ. */
static unsigned int offered_queues(unsigned int index)
{
	volatile struct lg_virtio_cfg *cfg = lg_device_peek(index);
	volatile struct virtio_blk_config *bcfg;
	unsigned int n;

	if (!cfg || !(cfg->device_features & (1ULL << VIRTIO_BLK_F_MQ)))
		return 1;
	bcfg = (volatile void *)((volatile uint8_t *)cfg + LG_VIRTIO_DEVCFG_OFFSET);
	n = bcfg->num_queues;
	if (n > cfg->num_queues)
		n = cfg->num_queues;
	if (n > LG_VIRTIO_MAX_QUEUES)
		n = LG_VIRTIO_MAX_QUEUES;
	return n ? n : 1;
}

void blk_probe(unsigned int index)
{
	struct blkdev *bd;
	uint64_t features = 1ULL << VIRTIO_BLK_F_RO | 1ULL << VIRTIO_BLK_F_FLUSH |
			    1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_SEG_MAX;
	unsigned int nq;

	if (nblk == MAX_BLK)
		return;
	bd = &blks[nblk];
	nq = offered_queues(index);
	if (nq > 1)
		features |= 1ULL << VIRTIO_BLK_F_MQ;
	if (!lg_device_init(&bd->dev, index, nq, features)) {
		printk("blk: device %u is not usable\n", index);
		return;
	}
	ksnprintf(bd->name, sizeof(bd->name), "blk%d", nblk);
	bd->nq = bd->dev.layout == LG_RING_DRAFT3 ? 1 : nq;
	if (bd->dev.layout == LG_RING_DRAFT3) {
		volatile struct lg_device_desc *d = device_desc(index);

		bd->capacity = d->config[LG_BLK_CFG_CAPACITY];
		bd->read_only = d->features & LG_BLK_F_RO;
	} else {
		volatile struct virtio_blk_config *cfg = lg_device_config(&bd->dev);

		bd->capacity = cfg->capacity;
		bd->read_only = lg_device_has_feature(&bd->dev, VIRTIO_BLK_F_RO);
	}
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
	return lg_device_broken(&bd->dev);
}

unsigned int blk_queues(const struct blkdev *bd)
{
	return bd->nq;
}

const char *blk_layout(const struct blkdev *bd)
{
	static const char *const names[] = { "draft3", "split", "packed" };

	return bd->dev.layout < 3 ? names[bd->dev.layout] : "?";
}

/* Draft III: the in half (status, data read), then the out half naming it. */
static int submit_draft3(struct blkdev *bd, struct blk_req *req)
{
	bool to_device = req->type == BLK_T_WRITE;
	struct lg_sg sg[2];
	int in_id, out_id;

	if (req->type == BLK_T_GET_ID)
		return BLK_ERR_INVAL;
	sg[0] = (struct lg_sg){ virt_to_phys(&req->in_hdr), sizeof(req->in_hdr) };
	sg[1] = (struct lg_sg){ virt_to_phys(req->buf), req->len };
	in_id = vq_add(&bd->dev.vq[DEV_D3_IN], sg, 0, !to_device && req->len ? 2 : 1, req);
	if (in_id < 0)
		return BLK_ERR_FULL;

	req->hdr = (struct d3_blk_outhdr){
		.type = req->type, .ioprio = 0, .sector = req->sector, .id = (uint64_t)in_id
	};
	sg[0] = (struct lg_sg){ virt_to_phys(&req->hdr), sizeof(req->hdr) };
	out_id = vq_add(&bd->dev.vq[DEV_D3_OUT], sg, to_device && req->len ? 2 : 1, 0, req);
	if (out_id < 0) {
		vq_unadd(&bd->dev.vq[DEV_D3_IN], in_id);
		return BLK_ERR_FULL;
	}
	return 0;
}

/* Virtio 1.x: header | data out || data in | status, in one chain. */
static int submit_virtio(struct blkdev *bd, struct blk_req *req)
{
	bool to_device = req->type == BLK_T_WRITE;
	struct lg_sg sg[3];
	unsigned int n = 0, out, in;
	int id = -1;

	req->in_done = true; /* one chain: only the "out" half to wait for */
	req->vhdr = (struct virtio_blk_outhdr){ .type = req->type, .sector = req->sector };
	sg[n++] = (struct lg_sg){ virt_to_phys(&req->vhdr), sizeof(req->vhdr) };
	if (req->len)
		sg[n++] = (struct lg_sg){ virt_to_phys(req->buf), req->len };
	sg[n++] = (struct lg_sg){ virt_to_phys(&req->in_hdr), sizeof(req->in_hdr) };
	out = to_device && req->len ? 2 : 1;
	in = n - out;
	/* The next queue in turn, or the first after it with room. */
	for (unsigned int tries = 0; tries < bd->nq && id < 0; tries++) {
		struct vq *q = &bd->dev.vq[bd->next_q];

		bd->next_q = (bd->next_q + 1) % bd->nq;
		if (lg_device_has_feature(&bd->dev, VIRTIO_RING_F_INDIRECT_DESC))
			id = vq_add_indirect(q, sg, out, in, req->table, virt_to_phys(req->table),
					     req);
		else
			id = vq_add(q, sg, out, in, req);
	}
	return id < 0 ? BLK_ERR_FULL : 0;
}

int blk_submit(struct blkdev *bd, struct blk_req *req)
{
	int err;

	if (blk_broken(bd))
		return BLK_ERR_BROKEN;
	if (req->type == BLK_T_GET_ID ? req->len != VIRTIO_BLK_ID_BYTES
				      : req->len % LG_SECTOR_SIZE != 0)
		return BLK_ERR_INVAL;
	if (req->len && !req->buf)
		return BLK_ERR_INVAL;
	req->in_done = req->out_done = false;
	req->in_hdr.status = 0xff;
	err = bd->dev.layout == LG_RING_DRAFT3 ? submit_draft3(bd, req) : submit_virtio(bd, req);
	if (!err)
		req->submit_tsc = rdtsc();
	return err;
}

void blk_kick(struct blkdev *bd)
{
	lg_device_kick(&bd->dev);
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

	/* vq[0] is draft3's in queue, or the only queue. */
	if (bd->dev.layout == LG_RING_DRAFT3) {
		while ((req = vq_get_used(&bd->dev.vq[DEV_D3_OUT], &len))) {
			req->out_done = true;
			finish_half(bd, req);
		}
		while ((req = vq_get_used(&bd->dev.vq[DEV_D3_IN], &len))) {
			req->in_done = true;
			finish_half(bd, req);
		}
	} else {
		for (unsigned int i = 0; i < bd->nq; i++) {
			while ((req = vq_get_used(&bd->dev.vq[i], &len))) {
				req->out_done = true;
				finish_half(bd, req);
			}
		}
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
		if (lg_device_prepare_wait(&bd->dev))
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
