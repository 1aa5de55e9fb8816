// SPDX-License-Identifier: GPL-2.0
/*
 * vringh_lockstep.c: Linux's own validating split ring, driven in lock-step
 * on ringtest's workload, so that callgrind counts its instructions per
 * buffer the way ringbench --insns counts ours (docs/ringtest.md).
 *
 *   vringh-lockstep N
 *
 * ringtest's rings check nothing; these do.  The driver is the kernel's
 * virtio driver ring, drivers/virtio/virtio_ring.c; the device is vringh,
 * drivers/vhost/vringh.c, the host side the kernel uses where it serves a
 * ring itself.  vringh reads each descriptor once, checks its index, its
 * flags and the chain's length, and looks up every address in a range the
 * caller gives (here all of "guest memory", as the launcher's one bound
 * is), which is the work our split_dev.c does too.
 *
 * Not built by our Makefile: tools/ringtest-build.sh compiles the two
 * files from Debian's linux-source tarball with tools/virtio's shims (its
 * userspace stand-ins for the kernel headers) and flags, and links them
 * with this file.  Compiled against those shims, this file includes them.
 *
 * N rounds of one buffer, polling, as ringbench --workload=ringtest
 * --notify=poll --batch=1 --lockstep does: the driver adds a buffer of 64
 * bytes (virtqueue_add_outbuf()) and decides on a kick
 * (virtqueue_kick_prepare()); the device takes buffers until there are
 * none (vringh_getdesc_user()), completes each (vringh_complete_user())
 * and decides on a signal (vringh_need_notify_user()); the driver reaps
 * until there is nothing (virtqueue_get_buf()).  EVENT_IDX and VERSION_1
 * are negotiated, callbacks are off, nothing is written into the buffer.
 * Notifications are decided, never sent.  The instructions per buffer are
 * the difference between two runs with different N over the difference in
 * N (lguest-compare: lockstep_insns()).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/kernel.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vringh.h>

/* What tools/virtio's shims expect the test program to define. */
void *__user_addr_min, *__user_addr_max;
void *__kmalloc_fake, *__kfree_ignore_start, *__kfree_ignore_end;

/* Not declared by tools/virtio's linux/virtio.h in 6.1, but in virtio_ring.c. */
bool virtqueue_kick_prepare(struct virtqueue *vq);

#define MEM_SIZE  (1024 * 1024)
#define RING_SIZE 256 /* ringtest's, and lguest-compare's */
#define ALIGN	  4096
#define BUF_SIZE  64

static unsigned long kicks, calls;

/* Never called: notifications are only decided here. */
static bool notify(struct virtqueue *vq)
{
	(void)vq;
	return true;
}

static void callback(struct virtqueue *vq)
{
	(void)vq;
}

/* Guest memory is one range, [__user_addr_min, __user_addr_max). */
static bool getrange(struct vringh *vrh, u64 addr, struct vringh_range *r)
{
	(void)vrh;
	if (addr < (u64)(unsigned long)__user_addr_min ||
	    addr >= (u64)(unsigned long)__user_addr_max)
		return false;
	r->start = (u64)(unsigned long)__user_addr_min;
	r->end_incl = (u64)(unsigned long)__user_addr_max - 1;
	r->offset = 0;
	return true;
}

static void fail(const char *step, unsigned long round, int err)
{
	fprintf(stderr, "vringh-lockstep: %s failed in round %lu (%d)\n", step, round, err);
	exit(1);
}

/* The rounds, out of line so that a profile can tell them from set-up. */
static __attribute__((noinline)) void run(struct virtqueue *vq, struct vringh *vrh, unsigned long n)
{
	struct iovec riov_space[2], wiov_space[2];
	struct vringh_iov riov, wiov;
	void *buf = (char *)__user_addr_max - BUF_SIZE;
	struct scatterlist sg;
	unsigned int len;
	u16 head;
	int err;

	vringh_iov_init(&riov, riov_space, 2);
	vringh_iov_init(&wiov, wiov_space, 2);
	for (unsigned long i = 0; i < n; i++) {
		sg_init_one(&sg, buf, BUF_SIZE);
		err = virtqueue_add_outbuf(vq, &sg, 1, buf, GFP_ATOMIC);
		if (err)
			fail("virtqueue_add_outbuf", i, err);
		kicks += virtqueue_kick_prepare(vq);
		/* vringh_getdesc_user() resets the iovs itself: no cleanup between. */
		while ((err = vringh_getdesc_user(vrh, &riov, &wiov, getrange, &head)) == 1) {
			err = vringh_complete_user(vrh, head, 0);
			if (err)
				fail("vringh_complete_user", i, err);
			calls += vringh_need_notify_user(vrh) > 0;
		}
		if (err < 0)
			fail("vringh_getdesc_user", i, err);
		if (!virtqueue_get_buf(vq, &len))
			fail("virtqueue_get_buf", i, 0);
		if (virtqueue_get_buf(vq, &len))
			fail("virtqueue_get_buf (a second buffer)", i, 0);
	}
}

int main(int argc, char **argv)
{
	static struct virtio_device vdev;
	static struct vringh vrh;
	struct virtqueue *vq;
	unsigned long n;
	char *end;

	if (argc != 2 || (n = strtoul(argv[1], &end, 0)) == 0 || *end) {
		fprintf(stderr, "usage: vringh-lockstep ROUNDS\n");
		return 2;
	}
	INIT_LIST_HEAD(&vdev.vqs);
	spin_lock_init(&vdev.vqs_list_lock);
	__virtio_set_bit(&vdev, VIRTIO_RING_F_EVENT_IDX);
	__virtio_set_bit(&vdev, VIRTIO_F_VERSION_1);
	if (posix_memalign(&__user_addr_min, ALIGN, MEM_SIZE))
		errx(1, "out of memory");
	__user_addr_max = (char *)__user_addr_min + MEM_SIZE;
	memset(__user_addr_min, 0, MEM_SIZE);

	vq = vring_new_virtqueue(0, RING_SIZE, ALIGN, &vdev, true, false, __user_addr_min, notify,
				 callback, "vringh-lockstep");
	if (!vq)
		errx(1, "vring_new_virtqueue failed");
	vring_init(&vrh.vring, RING_SIZE, __user_addr_min, ALIGN);
	if (vringh_init_user(&vrh, vdev.features, RING_SIZE, true, vrh.vring.desc, vrh.vring.avail,
			     vrh.vring.used))
		errx(1, "vringh_init_user failed");
	/* Polling: neither side asks to be told. */
	virtqueue_disable_cb(vq);
	vringh_notify_disable_user(&vrh);

	run(vq, &vrh, n);
	printf("%lu rounds, %lu kicks, %lu calls\n", n, kicks, calls);
	return 0;
}
