/* SPDX-License-Identifier: GPL-2.0 */
/*
 * draft3_dev.h: the device side of draft-III queues (see include/draft3.h).
 *
 * The device never trusts what it reads from the guest's pages: every head,
 * next index, page frame, offset and length is checked, chains may not loop
 * or be longer than the table, the avail index may not run more than a
 * table's worth ahead, and the used index (which only the device may write)
 * must still hold what the device last wrote there.  The first violation
 * marks the device broken with a message naming the queue and the rule;
 * after that every call fails and nothing more is read or written.
 */
#ifndef LAUNCHER_RING_DRAFT3_DEV_H
#define LAUNCHER_RING_DRAFT3_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "draft3.h"
#include "guest_access.h"
#include "guest_mem.h"

struct d3_dev_queue {
	const char *name;	      /* "in" or "out", for messages */
	struct d3_desc __guest *desc; /* host pointers into guest RAM */
	struct d3_avail __guest *avail;
	struct d3_used __guest *used;
	uint32_t last_avail;		 /* next avail index to consume */
	uint32_t used_idx;		 /* what we last stored in used->idx */
	uint8_t in_flight[D3_NUM_DESCS]; /* head popped, not yet used */
};

struct d3_dev {
	const struct guest_mem *mem;
	struct d3_dev_queue in, out;
	/*
	 * In-queue heads popped from in.avail and not yet handed to the
	 * device model, oldest first: d3_dev_pop_in() takes the oldest,
	 * d3_dev_join() takes the one a block header names.
	 */
	uint32_t posted[D3_NUM_DESCS];
	unsigned int nposted;
	bool broken;
	char error[192]; /* first rule broken, e.g. "out queue: descriptor 200 out of range (170)"
			  */
};

/*
 * Point the queues at the six pages starting at page frame @key.
 * Returns false (and sets error) if they are not inside guest RAM.
 */
bool d3_dev_init(struct d3_dev *d, const struct guest_mem *mem, uint64_t key);

/*
 * Take the next buffer the guest published on the out queue: its segments
 * become c's readable segments.  Returns 1 if a chain was popped, 0 if the
 * queue is empty, -1 if the device is (now) broken.
 */
int d3_dev_pop_out(struct d3_dev *d, struct chain *c);

/*
 * Take the oldest buffer the guest published on the in queue: its segments
 * become c's writable segments (c->nread = 0).  Same return values.
 */
int d3_dev_pop_in(struct d3_dev *d, struct chain *c);

/*
 * Append the writable segments of in-queue buffer @id (named by a block
 * request header) to c.  The buffer must have been published on the in
 * queue and not already taken.  Returns 1, or -1 on a broken rule.
 */
int d3_dev_join(struct d3_dev *d, struct chain *c, uint64_t id);

/*
 * Give the chain back: its out head (if any) goes into out.used with len
 * 0, its in head (if any) into in.used with len @written.  Returns false
 * if the device is broken (e.g. the guest scribbled on a used index).
 */
bool d3_dev_push(struct d3_dev *d, struct chain *c, uint32_t written);

/*
 * "Running" suppression: while running, the device tells the guest it
 * need not NOTIFY.  d3_dev_stop_running() clears the flag and then, with a
 * full barrier between, reports whether more was published meanwhile (so
 * the caller must go round again instead of sleeping).
 */
void d3_dev_start_running(struct d3_dev *d);
bool d3_dev_stop_running(struct d3_dev *d);

/* Whether the guest asked not to be signalled (it is polling). */
bool d3_dev_signal_suppressed(const struct d3_dev *d);

/* Whether either queue has published heads we have not popped. */
bool d3_dev_has_avail(const struct d3_dev *d);
/* The same for one queue: the in queue if @in, else the out queue. */
bool d3_dev_queue_has_avail(const struct d3_dev *d, bool in);

/*
 * Whether the guest has an in buffer waiting (popped into posted, or
 * published and not yet popped): a device with input to give, such as the
 * console with stdin, only watches its input source while this holds.
 */
bool d3_dev_in_available(const struct d3_dev *d);

#endif /* LAUNCHER_RING_DRAFT3_DEV_H */
