// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c: the thread that serves a device's ring, and the kick it waits on.
 *
 * One kthread per running device.  It adopts the launcher's mm, so guest
 * RAM is at the addresses the memory table names, and loops: wait for a
 * kick, pop every chain the guest published (with NOTIFYs suppressed
 * meanwhile, so a busy guest does not kick at all), serve each through
 * blk.c, give it back, and signal the call eventfd when the guest asked to
 * be told.  This is the launcher's blk_notify() loop, in the kernel.
 *
 * The kick is the eventfd the guest's NOTIFY writes (KVM's ioeventfd, or
 * the process backend's stub).  Like vhost, we never read it: we put our
 * own entry on its wait queue, whose callback runs on every write, counts
 * it, and wakes the worker.
 *
 * When the guest breaks a ring rule, the ring code says which, the worker
 * records it (LGH_GET_ERROR), writes the err eventfd and serves that
 * device no more; it sleeps until the launcher stops it.  Nothing the
 * guest does can keep it from stopping: it looks at kthread_should_stop()
 * between requests and serves at most LGH_BATCH of them before it goes
 * round again.
 */
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "lgh.h"

#define LGH_BATCH 256

__printf(2, 3) void lgh_fail(struct lgh_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (d->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	/* GET_ERROR reads the message once it sees broken. */
	smp_store_release(&d->broken, true);
	if (d->err)
		eventfd_signal(d->err, 1);
}

/* Whether guest RAM faulted under the last ring call: then stop. */
static bool faulted(struct lgh_dev *d)
{
	if (likely(!READ_ONCE(d->fault)))
		return false;
	lgh_fail(d, "guest RAM is not mapped where the memory table says");
	return true;
}

static void lgh_signal(struct lgh_dev *d, struct queue *q)
{
	if (queue_should_signal(q)) {
		d->stats.signals++;
		eventfd_signal(d->call, 1);
	} else {
		d->stats.suppressed++;
	}
}

/*
 * Serve what the guest published, up to LGH_BATCH chains.  True if it
 * stopped there with more to do (NOTIFYs are still off: come back).
 */
static bool lgh_serve(struct lgh_dev *d)
{
	struct queue *q = &d->queue[d->layout == LG_RING_DRAFT3 ? QUEUE_D3_OUT : 0];
	unsigned int served = 0;
	int r;

	do {
		queue_disable_notify(q);
		while ((r = queue_pop(q, d->chain)) > 0) {
			if (faulted(d) || !lgh_blk_request(d, q, d->chain) || faulted(d))
				return false;
			lgh_signal(d, q);
			if (++served == LGH_BATCH || kthread_should_stop())
				return true;
		}
		if (faulted(d))
			return false;
		if (r < 0) {
			lgh_fail(d, "%s", queue_error(q));
			return false;
		}
	} while (queue_enable_notify(q) && !faulted(d));
	return false;
}

static int lgh_worker(void *arg)
{
	struct lgh_dev *d = arg;
	bool more = true; /* buffers may already wait */

	kthread_use_mm(d->mm);
	for (;;) {
		unsigned int kicks;

		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		kicks = atomic_xchg(&d->kicked, 0);
		if ((!kicks && !more) || READ_ONCE(d->broken)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		d->stats.kicks += kicks;
		more = lgh_serve(d);
		cond_resched();
	}
	__set_current_state(TASK_RUNNING);
	kthread_unuse_mm(d->mm);
	return 0;
}

static int kick_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct lgh_dev *d = container_of(wait, struct lgh_dev, kick_wait);

	if (!(key_to_poll(key) & EPOLLIN))
		return 0;
	atomic_inc(&d->kicked);
	wake_up_process(d->worker);
	return 0;
}

static void kick_queue_proc(struct file *f, wait_queue_head_t *wqh, poll_table *pt)
{
	struct lgh_dev *d = container_of(pt, struct lgh_dev, kick_pt);

	d->kick_wqh = wqh;
	add_wait_queue(wqh, &d->kick_wait);
}

/* The rings as the launcher described them; an error for what cannot be. */
static int setup_rings(struct lgh_dev *d)
{
	bool event_idx = d->features & 1ULL << VIRTIO_RING_F_EVENT_IDX;
	bool indirect = d->features & 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	struct queue *q = &d->queue[0];

	if (d->layout == LG_RING_DRAFT3) {
		if (!d->d3_set)
			return -EINVAL;
		/* Bad pages are the guest's doing: the device starts broken. */
		if (!d3_dev_init(&d->d3, &d->mem, d->d3_key))
			lgh_fail(d, "%s", d->d3.error);
		queue_init_draft3(&d->queue[QUEUE_D3_IN], &d->d3, true);
		queue_init_draft3(&d->queue[QUEUE_D3_OUT], &d->d3, false);
		return 0;
	}
	if (!d->vr.num || !d->vr.addr_set)
		return -EINVAL;
	if (!queue_init_modern(q, d->layout, &d->mem, "requestq", d->vr.num, d->vr.desc,
			       d->vr.driver, d->vr.device, event_idx, indirect) ||
	    (d->vr.base && !queue_resume(q, d->vr.base)))
		lgh_fail(d, "%s", queue_error(q));
	return 0;
}

int lgh_start(struct lgh_dev *d)
{
	int ret;

	if (!d->kick || !d->call)
		return -EINVAL;
	if (!mmget_not_zero(d->mm))
		return -ESRCH;
	ret = -ENOMEM;
	d->chain = kvmalloc(sizeof(*d->chain), GFP_KERNEL_ACCOUNT);
	if (!d->chain)
		goto fail;
	WRITE_ONCE(d->fault, false);
	d->broken = false;
	d->error[0] = '\0';
	ret = setup_rings(d);
	if (ret)
		goto fail;
	d->worker = kthread_create(lgh_worker, d, "lguest-host/%d", task_pid_nr(current));
	if (IS_ERR(d->worker)) {
		ret = PTR_ERR(d->worker);
		d->worker = NULL;
		goto fail_rings;
	}
	atomic_set(&d->kicked, 0);
	init_waitqueue_func_entry(&d->kick_wait, kick_wakeup);
	init_poll_funcptr(&d->kick_pt, kick_queue_proc);
	d->kick_wqh = NULL;
	vfs_poll(d->kick, &d->kick_pt);
	if (!d->kick_wqh) {
		ret = -EINVAL;
		kthread_stop(d->worker);
		d->worker = NULL;
		goto fail_rings;
	}
	wake_up_process(d->worker);
	return 0;

fail_rings:
	if (d->layout != LG_RING_DRAFT3)
		queue_destroy(&d->queue[0]);
fail:
	kvfree(d->chain);
	d->chain = NULL;
	mmput(d->mm);
	return ret;
}

/* Stop the worker; after this no request is in flight and guest RAM is not touched. */
void lgh_stop(struct lgh_dev *d)
{
	if (!d->worker)
		return;
	remove_wait_queue(d->kick_wqh, &d->kick_wait);
	kthread_stop(d->worker);
	d->worker = NULL;
	/* Where a new start (SET_VRING_BASE) would carry on. */
	if (d->layout != LG_RING_DRAFT3) {
		d->vr.base = queue_avail_pos(&d->queue[0]);
		queue_destroy(&d->queue[0]);
	}
	kvfree(d->chain);
	d->chain = NULL;
	mmput(d->mm);
	if (d->backend)
		fput(d->backend);
	d->backend = NULL;
}
