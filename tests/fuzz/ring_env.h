/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring_env.h: a small hostile guest for the ring harnesses
 * (fuzz_ring_draft3.c, fuzz_ring_split.c, fuzz_ring_packed.c).
 *
 * The input is a program: a layout-specific header (queue size, where the
 * rings are), then operations, each one opcode byte and its arguments.
 * Some operations are the device's: the calls of launcher/ring/queue.h a
 * device model makes (pop, push, notification suppression...).  The rest
 * are the guest's: raw writes anywhere in its RAM, and writes that know
 * the layout ("descriptor k's len", "bump the avail index", "add a
 * well-formed chain"), so that the fuzzer reaches deep ring states without
 * having to guess a whole descriptor table byte by byte.
 *
 * Around every device call the environment checks what the ring code
 * promises (ring_env.c says which rule each check is), and fails with
 * FUZZ_CHECK naming the rule.  It keeps a model of which buffer ids the
 * device holds, so that it knows when a push must be refused.
 *
 * Guest RAM is one static mapping, reused by every input: a harness runs
 * tens of thousands of inputs a second, and an mmap each would dominate.
 * A shadow copy of RAM, kept equal to it by every guest write, shows what
 * the device wrote: after each device call the two are compared, and any
 * difference outside the areas the device owns is a wild write.
 *
 * To read a crash: RING_ENV_TRACE=1 build/fuzz/fuzz_ring_split CRASH_FILE
 * prints each operation and what the device answered.
 */
#ifndef TESTS_FUZZ_RING_ENV_H
#define TESTS_FUZZ_RING_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "common.h"
#include "guest_mem.h"
#include "ring/queue.h"

#define ENV_RAM_SIZE (32u << 10) /* 8 pages: rings and data, small to compare fast */
#define ENV_SLOTS    4		 /* popped chains the harness holds at once */
#define ENV_MAX_IDS  32768	 /* buffer ids: below any queue size */
#define ENV_MAX_OPS  256	 /* per input: keeps one input well under a millisecond */
#define ENV_JOINED   2		 /* ring_env_check_chain(): draft3 out chain + joined in */

/* A range of guest RAM the device may write during one call. */
struct ring_area {
	uint64_t gpa, len;
};

struct ring_env;

/* What the environment needs to know about a layout. */
struct ring_layout {
	const char *name;
	unsigned int nqueues; /* draft3: 2 (QUEUE_D3_IN, QUEUE_D3_OUT); modern: 1 */
	/* The buffer id chain @c holds on queue @k, or CHAIN_NO_ID. */
	uint32_t (*chain_id)(const struct chain *c, unsigned int k);
	/* Where the device may write during its next call (state before it). */
	unsigned int (*device_areas)(const struct ring_env *e, struct ring_area *a);
	/* Whether @msg, the queue's error, starts by naming it. */
	bool (*error_named)(const struct ring_env *e, const char *msg);
	/* A layout-specific operation (opcode already reduced to 0..nops-1). */
	void (*op)(struct ring_env *e, unsigned int op, struct fuzz_input *in);
	unsigned int nops;
	/* After a successful push of @c: what the device wrote says @written fairly. */
	void (*check_push)(const struct ring_env *e, const struct chain *c, uint32_t written);
	/*
	 * Optional.  After pops and joins: ids the device took off the ring
	 * without handing them out yet (draft3's posted in buffers) become
	 * OWNER_DEVICE.  And whether a pop on queue @k must agree with the
	 * last queue_enable_notify() (draft3's in queue pops its posted
	 * buffers first, which enable rightly does not count).
	 */
	void (*sync_model)(struct ring_env *e);
	bool (*enable_binds_pop)(const struct ring_env *e, unsigned int k);
	/* queue_has_buffers() says exactly what queue_enable_notify() did. */
	bool has_buffers_is_enable;
	/*
	 * A chain with no id at all is accepted as "give back nothing"
	 * (d3_dev_push(), as test_draft3.c asks); elsewhere it is refused.
	 */
	bool empty_push_ok;
};

/* Who holds a buffer id, in the model: nobody, a slot, or the device itself. */
enum {
	OWNER_NONE = 0,
	OWNER_SLOT = 1,			       /* + slot number */
	OWNER_DEVICE = OWNER_SLOT + ENV_SLOTS, /* draft3: taken off the in ring, not yet popped */
	OWNER_LOST,			       /* its chain was overwritten before being pushed */
};

struct ring_env {
	const struct ring_layout *layout;
	struct guest_mem mem; /* base = the static RAM, size = ENV_RAM_SIZE */
	struct queue q[2];
	bool ready;	   /* the queues were set up (init may have failed: still run) */
	bool protected;	   /* RAM is PROT_NONE: the queue is broken */
	uint32_t nids;	   /* ids the model tracks per queue */
	int8_t enabled[2]; /* last queue_enable_notify() per queue, -1 if stale */
	struct chain slot[ENV_SLOTS];
	bool slot_live[ENV_SLOTS]; /* holds a popped chain (pushed or not) */
	uint8_t owner[2][ENV_MAX_IDS];
	void *priv; /* the harness's own state */
};

/*
 * Start an input: RAM zeroed (and its shadow), model empty, @layout's
 * queues not yet set up.  The harness then writes what it likes, sets up
 * e->q and calls ring_env_ready().
 */
struct ring_env *ring_env_begin(const struct ring_layout *layout, void *priv);
/* e->q[] are set up (or failed to be): check and start the model. */
void ring_env_ready(struct ring_env *e, uint32_t nids);
/* Run the operations in the rest of the input, then tear down. */
void ring_env_run(struct ring_env *e, struct fuzz_input *in);

/* Guest writes: RAM and its shadow; out-of-RAM bytes are dropped. */
void ring_env_write(struct ring_env *e, uint64_t gpa, const void *src, uint64_t n);
void ring_env_write8(struct ring_env *e, uint64_t gpa, uint8_t v);
void ring_env_write16(struct ring_env *e, uint64_t gpa, uint16_t v);
void ring_env_write32(struct ring_env *e, uint64_t gpa, uint32_t v);
void ring_env_write64(struct ring_env *e, uint64_t gpa, uint64_t v);
/* Guest reads (of its own RAM: it may), 0 past the end. */
uint16_t ring_env_read16(const struct ring_env *e, uint64_t gpa);
uint32_t ring_env_read32(const struct ring_env *e, uint64_t gpa);

/*
 * A buffer that ends at the end of RAM, or one byte either side of it
 * (@arg picks which and how long): the boundary guest_ptr() must get
 * exactly right, which random lengths and addresses almost never hit.
 */
void ring_env_edge(uint16_t arg, uint64_t *gpa, uint32_t *len);

/*
 * Wrap a device call the layout makes itself (draft3's join): RAM
 * protected if the queue is broken, else the write check afterwards.
 */
void ring_env_device_begin(struct ring_env *e, struct ring_area *a, unsigned int *na);
void ring_env_device_end(struct ring_env *e, const struct ring_area *a, unsigned int na);
/* The chain invariants, for a chain popped from queue @k. */
void ring_env_check_chain(const struct ring_env *e, const struct chain *c, unsigned int k);
/* The queue @k id of the chain just popped (or joined) into slot @s is its now. */
void ring_env_own_chain(struct ring_env *e, unsigned int s, unsigned int k);
/* Slot @s is about to be overwritten: what it held and never pushed is lost. */
void ring_env_drop_slot(struct ring_env *e, unsigned int s);

#endif /* TESTS_FUZZ_RING_ENV_H */
