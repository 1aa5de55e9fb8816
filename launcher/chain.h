/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chain.h: what a device model sees of a buffer the guest gave it.
 *
 * Whatever the ring layout, a buffer reaches a device as a list of host
 * iovecs pointing straight into guest RAM: first the segments the device
 * may read (the guest filled them), then those it may write.  The device
 * does its I/O on these iovecs directly (preadv/pwritev/readv/writev), so
 * data never passes through a launcher buffer.  When it is done it hands
 * the chain back with the number of bytes it wrote.
 */
#ifndef LAUNCHER_CHAIN_H
#define LAUNCHER_CHAIN_H

#include <stdint.h>
#include <sys/uio.h>

/* Enough for two full draft-III descriptor tables (out + joined in). */
#define CHAIN_MAX_SEGS 512
#define CHAIN_NO_ID    UINT32_MAX

struct chain {
	struct iovec seg[CHAIN_MAX_SEGS];
	unsigned int nread;	    /* seg[0, nread) is readable */
	unsigned int nwrite;	    /* seg[nread, nread + nwrite) is writable */
	uint64_t read_len;	    /* sum of the readable lengths */
	uint64_t write_len;	    /* sum of the writable lengths */
	uint32_t id;		    /* the layout's buffer id (draft3: out-queue head) */
	uint32_t in_id;		    /* draft3: joined in-queue head, else CHAIN_NO_ID */
	unsigned int ndesc;	    /* descriptors walked to build it */
	unsigned int indirect_from; /* seg[indirect_from..] came from an indirect table */
};

/* An empty chain, owning nothing yet. */
static inline void chain_reset(struct chain *c)
{
	c->nread = c->nwrite = 0;
	c->read_len = c->write_len = 0;
	c->id = c->in_id = CHAIN_NO_ID;
	c->ndesc = 0;
	c->indirect_from = CHAIN_MAX_SEGS;
}

/*
 * The header of a chain of one segment, seg[0], of @len bytes, readable or
 * @writable, with no in_id: what the layouts' straight-line pops build.
 * Written as "readable, then put right if writable" because a compiler
 * turns the two-armed form into set-and-move sequences twice as long as
 * these stores.
 */
static inline void chain_one_segment(struct chain *c, uint32_t len, bool writable)
{
	c->nread = 1;
	c->nwrite = 0;
	c->read_len = len;
	c->write_len = 0;
	if (writable) {
		c->nread = 0;
		c->nwrite = 1;
		c->read_len = 0;
		c->write_len = len;
	}
	c->ndesc = 1;
	c->indirect_from = CHAIN_MAX_SEGS;
	c->in_id = CHAIN_NO_ID;
}

static inline struct iovec *chain_writable(struct chain *c)
{
	return c->seg + c->nread;
}

#endif /* LAUNCHER_CHAIN_H */
