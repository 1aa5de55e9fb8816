/* SPDX-License-Identifier: GPL-2.0 */
/*
 * draft3.h: the virtio "draft III" queues of 2007, as lguest implemented them
 * (shared/seeds/000).  Both sides include this.
 *
 * A draft-III device has two queues.  The *out* queue carries buffers the
 * guest wants the device to read (a block request header, data to write, a
 * packet to send); the *in* queue carries buffers the device fills (the
 * block status and data read, received packets, console input).  Each queue
 * is three pages, so a device has six, laid out like this from its key
 * (the page frame number the guest passes to NOTIFY):
 *
 *   key+0  in.desc    170 descriptors {pfn, len, offset, flags, next}
 *   key+1  in.avail   avail_idx, then the heads the guest made available
 *   key+2  in.used    used_idx, then {id, len} of the heads the device used
 *   key+3  out.desc
 *   key+4  out.avail
 *   key+5  out.used
 *
 * The guest writes desc and avail pages; the device writes the used page.
 * A buffer is a chain of descriptors linked by `next` while F_NEXT is set;
 * its first descriptor carries F_HEAD, and its index is the buffer's id.
 * Indices are free-running 32-bit counters; a slot is `index % D3_NUM_DESCS`.
 * (170 does not divide 2^32, so the slot sequence jumps once every 2^32
 * buffers: a known wart of the 2007 design that virtio 1.0 fixed with
 * power-of-two rings.)
 */
#ifndef LGUEST_DRAFT3_H
#define LGUEST_DRAFT3_H

#include <stdint.h>

#define D3_DESC_F_HEAD 1 /* first descriptor of a buffer the guest has added */
#define D3_DESC_F_NEXT 2 /* the buffer continues at desc[next] */

struct d3_desc {
	uint64_t pfn;	 /* guest page frame */
	uint64_t len;	 /* bytes, starting at offset within that page */
	uint16_t offset; /* must be < page size */
	uint16_t flags;	 /* D3_DESC_F_* */
	uint32_t next;	 /* next descriptor of this buffer (or of the free list) */
};

#define D3_PAGE_SIZE 4096
#define D3_NUM_DESCS (D3_PAGE_SIZE / sizeof(struct d3_desc)) /* 170 */
#define D3_NUM_PAGES 6

/*
 * Notification suppression, the "running" flag the 2007 patch's FIXME
 * asked for: each side advertises in the page it owns that it is already
 * looking, so the other side can skip the NOTIFY or the signal.
 */
#define D3_AVAIL_F_NO_SIGNAL 1 /* guest is polling: device need not signal */
#define D3_USED_F_NO_NOTIFY  1 /* device is running: guest need not notify */

struct d3_avail {
	uint32_t idx;		     /* free-running count of heads published */
	uint32_t ring[D3_NUM_DESCS]; /* heads, at idx % D3_NUM_DESCS */
	uint32_t flags;		     /* D3_AVAIL_F_* */
};

struct d3_used_elem {
	uint32_t id;  /* head of the buffer */
	uint32_t len; /* bytes the device wrote into it */
};

struct d3_used {
	uint32_t idx; /* free-running count of used entries */
	struct d3_used_elem ring[D3_NUM_DESCS];
	uint32_t flags; /* D3_USED_F_* */
};

/* Page index of each ring page relative to the device key. */
enum d3_page {
	D3_IN_DESC = 0,
	D3_IN_AVAIL,
	D3_IN_USED,
	D3_OUT_DESC,
	D3_OUT_AVAIL,
	D3_OUT_USED,
};

_Static_assert(sizeof(struct d3_desc) == 24, "draft-III descriptor is 24 bytes");
_Static_assert(sizeof(struct d3_avail) <= D3_PAGE_SIZE, "avail fits a page");
_Static_assert(sizeof(struct d3_used) <= D3_PAGE_SIZE, "used fits a page");

#endif /* LGUEST_DRAFT3_H */
