/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blk.h: the block driver.  Requests are asynchronous: submit as many as
 * the queues hold, kick once, reap completions.  The synchronous helpers
 * are built from those three.
 */
#ifndef GUEST_BLK_H
#define GUEST_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "draft3_blk.h"
#include "vq.h"

struct blkdev;

/*
 * Request types.  Both protocols number them alike (draft3's READ/WRITE
 * are virtio's IN/OUT); GET_ID exists only on split and packed devices.
 */
#define BLK_T_READ   VIRTIO_BLK_T_IN
#define BLK_T_WRITE  VIRTIO_BLK_T_OUT
#define BLK_T_FLUSH  VIRTIO_BLK_T_FLUSH
#define BLK_T_GET_ID VIRTIO_BLK_T_GET_ID
_Static_assert(BLK_T_READ == D3_BLK_T_READ && BLK_T_WRITE == D3_BLK_T_WRITE &&
		       BLK_T_FLUSH == D3_BLK_T_FLUSH,
	       "draft3 and virtio request types");

struct blk_req {
	/* Filled by the caller. */
	uint32_t type; /* BLK_T_* */
	uint64_t sector;
	void *buf;
	uint32_t len; /* bytes, a multiple of 512 (GET_ID: VIRTIO_BLK_ID_BYTES) */
	void *cookie;
	/* Filled by the driver. */
	uint8_t status; /* VIRTIO_BLK_S_* (= D3_BLK_S_*), valid once reaped */
	uint64_t submit_tsc;
	/* Driver private: the headers live in guest memory, so here. */
	union {
		struct d3_blk_outhdr hdr;      /* draft3 */
		struct virtio_blk_outhdr vhdr; /* split, packed */
	};
	struct d3_blk_inhdr in_hdr; /* the status byte, on every layout */
	bool in_done, out_done;
	struct blk_req *next_done;
	union vq_indirect_desc table[3]; /* with indirect descriptors */
};

#define BLK_ERR_FULL   (-1) /* queues full: reap, then retry */
#define BLK_ERR_BROKEN (-2) /* the device stopped */
#define BLK_ERR_INVAL  (-3)

int blk_count(void);
struct blkdev *blk_get(int index);
const char *blk_name(const struct blkdev *bd);
const char *blk_layout(const struct blkdev *bd);  /* "draft3", "split", "packed" */
unsigned int blk_queues(const struct blkdev *bd); /* request queues in use (multi-queue) */
uint64_t blk_capacity(const struct blkdev *bd);	  /* sectors */
bool blk_read_only(const struct blkdev *bd);
bool blk_broken(struct blkdev *bd);

int blk_submit(struct blkdev *bd, struct blk_req *req);
void blk_kick(struct blkdev *bd);
/* A completed request, or NULL. */
struct blk_req *blk_reap(struct blkdev *bd);
/* Reap, sleeping in WAIT while nothing completes; NULL only if broken. */
struct blk_req *blk_reap_wait(struct blkdev *bd);

/* One request, start to finish: returns its status, or BLK_ERR_*. */
int blk_rw(struct blkdev *bd, uint32_t type, uint64_t sector, void *buf, uint32_t len);

/* Called by devices_init for each block entry. */
void blk_probe(unsigned int index);

#endif /* GUEST_BLK_H */
