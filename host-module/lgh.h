/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lgh.h: one kernel block device of lguest_host.ko, shared by its files.
 *
 *   main.c    the character device and its ioctls (the vhost sequence);
 *   memory.c  VHOST_SET_MEM_TABLE: guest-physical ranges to user addresses;
 *   worker.c  the kthread that serves the rings, and the kick it waits on;
 *   blk.c     the block protocol on one chain: header, I/O, status byte.
 *
 * The rings themselves are the launcher's code (ring_*.c, shim/README):
 * every rule the launcher checks, the kernel checks the same way, with the
 * same words.
 */
#ifndef LGH_H
#define LGH_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "chain.h"
#include "guest_mem.h"
#include "lguest_host.h"
#include "ring/queue.h"

#define LGH_MAX_REGIONS 16

/* What the launcher said about ring @index (modern layouts). */
struct lgh_vring {
	u32 num;
	u64 desc, driver, device; /* guest-physical */
	u32 base;		  /* where to start (SET_VRING_BASE) */
	bool addr_set;
};

struct lgh_dev {
	/* Serialises the ioctls, and start/stop against each other. */
	struct mutex lock;
	struct mm_struct *mm; /* the owner's, where guest RAM lives (mmgrab) */
	u64 features;	      /* acked by the guest's driver */
	u8 layout;	      /* LG_RING_* */
	u64 d3_key;	      /* draft3: page frame of the six pages */
	bool d3_set;

	/* Guest RAM: the launcher's mappings, as the ring code sees them. */
	struct guest_mem mem;
	struct guest_mem_region regions[LGH_MAX_REGIONS];
	bool fault; /* an access to guest RAM faulted (ring/guest_access.h) */

	struct lgh_vring vr;
	struct file *kick;	  /* eventfd: the guest's NOTIFY */
	struct eventfd_ctx *call; /* we have used buffers */
	struct eventfd_ctx *err;  /* the guest broke a rule */

	/* The image, and whether the device is running (worker exists). */
	struct file *backend;
	bool read_only;
	u64 capacity; /* sectors */
	u8 serial[sizeof(((struct lgh_backend *)0)->serial)];

	/* Owned by the worker while it runs. */
	struct task_struct *worker;
	struct queue queue[2]; /* draft3: in, out; modern: queue[0] */
	struct d3_dev d3;
	struct chain *chain; /* the one being served (8 KiB: not on the stack) */

	/* The kick: our entry on the eventfd's wait queue (as vhost_poll). */
	wait_queue_entry_t kick_wait;
	wait_queue_head_t *kick_wqh;
	poll_table kick_pt;
	atomic_t kicked;

	struct lgh_stats stats; /* written by the worker, read by GET_STATS */
	char error[sizeof(((struct lgh_error *)0)->msg)];
	bool broken;
};

/* memory.c */
int lgh_set_mem_table(struct lgh_dev *d, const struct vhost_memory __user *arg);

/* worker.c */
int lgh_start(struct lgh_dev *d);
void lgh_stop(struct lgh_dev *d);
__printf(2, 3) void lgh_fail(struct lgh_dev *d, const char *fmt, ...);

/* blk.c: serve chain @c popped from @q; false if the device stopped. */
bool lgh_blk_request(struct lgh_dev *d, struct queue *q, struct chain *c);

#endif /* LGH_H */
