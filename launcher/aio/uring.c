// SPDX-License-Identifier: GPL-2.0
/*
 * aio/uring.c: the io_uring engine (liburing).
 *
 * One ring per device, driven by the device's thread.  Each read
 * becomes a READV entry on the image (writes are done in place, see
 * uring_submit()), registered once as a fixed
 * file so the kernel need not look the descriptor up per request, and a
 * batch goes in with one io_uring_enter().  Reads the page cache answers
 * complete inside that call and are on the completion queue when it
 * returns; others are finished by the kernel's io-wq workers later.
 *
 * The ring's eventfd tells the device thread's poll() about completions.
 * It is signalled for every completion, also the inline ones, which costs
 * one spare wakeup per batch: the "async only" eventfd would miss
 * completions posted by task work on our own thread (buffered reads that
 * waited for a page), and the device would sleep on them for ever.
 *
 * Registered buffers (READ_FIXED over guest RAM) would save pinning pages
 * per request, but they take one buffer and no iovec, and our requests are
 * scatter-gather: not here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio/aio.h"
#include "log.h"

struct uring_engine {
	struct aio_engine e;
	struct io_uring ring;
	unsigned int queued;  /* entries not yet handed to the kernel */
	struct aio_fifo done; /* writes done in place */
};

/*
 * The ring gets an open file description of its own on the image.  The
 * kernel tears a ring down after its last fd is closed, in a work item,
 * and until then the ring's registered file stays open; if that were the
 * launcher's own description, the image's lock (blk_image.c) would outlive
 * the launcher, and the next lguest on the image would find it "in use".
 */
static int reopen(int fd)
{
	char path[64];
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, (flags & O_ACCMODE) | O_CLOEXEC);
}

static struct aio_engine *uring_create(int fd, int event_fd, unsigned int depth)
{
	struct uring_engine *u = calloc(1, sizeof(*u));
	int err, ring_fd;

	if (!u)
		return NULL;
	err = io_uring_queue_init(depth, &u->ring, 0);
	if (err < 0)
		goto fail;
	ring_fd = reopen(fd);
	if (ring_fd < 0) {
		err = -errno;
		goto fail_ring;
	}
	/* The registered file is the ring's; our descriptor of it can go. */
	err = io_uring_register_files(&u->ring, &ring_fd, 1);
	close(ring_fd);
	if (err < 0)
		goto fail_ring;
	err = io_uring_register_eventfd(&u->ring, event_fd);
	if (err < 0)
		goto fail_ring;
	u->e.depth = depth;
	aio_fifo_init(&u->done);
	return &u->e;

fail_ring:
	io_uring_queue_exit(&u->ring);
fail:
	free(u);
	errno = -err;
	return NULL;
}

/* Hand the queued entries to the kernel. */
static void uring_commit(struct aio_engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;

	while (u->queued) {
		int n = io_uring_submit(&u->ring);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0)
			die("aio: io_uring_enter: %s", strerror(-n));
		u->queued -= (unsigned int)n < u->queued ? (unsigned int)n : u->queued;
	}
}

static void uring_submit(struct aio_engine *e, struct aio_req *r)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_sqe *sqe;

	/*
	 * A buffered write is a copy into the page cache, a few microseconds
	 * done here; through the ring, ext4 (and others) cannot take it
	 * without blocking, so io_uring hands each one to an io-wq worker,
	 * and the handoff costs more than the copy (4 KiB randwrite qd=4:
	 * 79 K IOPS that way, 310 K in place).  So writes are done in place,
	 * and wait on a list for reap() like any completion.
	 */
	if (r->write) {
		aio_rw_now(e, r);
		aio_fifo_push(&u->done, r);
		return;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* Cannot happen with in_flight <= depth; make room anyway. */
		uring_commit(e);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			die("aio: io_uring submission queue full");
	}
	io_uring_prep_readv(sqe, 0, r->iov, (unsigned int)r->iovcnt, (uint64_t)r->off);
	sqe->flags |= IOSQE_FIXED_FILE; /* file 0: the image */
	io_uring_sqe_set_data(sqe, r);
	u->queued++;
}

static struct aio_req *uring_reap(struct aio_engine *e, bool wait)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_cqe *cqe;
	struct aio_req *r = aio_fifo_pop(&u->done);
	int err;

	if (r)
		return r;
	for (;;) {
		err = wait ? io_uring_wait_cqe(&u->ring, &cqe) : io_uring_peek_cqe(&u->ring, &cqe);
		if (err != -EINTR)
			break;
	}
	if (err == -EAGAIN)
		return NULL; /* peek: nothing yet */
	if (err < 0)
		die("aio: io_uring completion: %s", strerror(-err));
	r = io_uring_cqe_get_data(cqe);
	r->res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return r;
}

static bool uring_ready(struct aio_engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;

	return u->done.head || io_uring_cq_ready(&u->ring);
}

const struct aio_ops aio_uring_ops = {
	.name = "io_uring",
	.create = uring_create,
	.submit = uring_submit,
	.commit = uring_commit,
	.reap = uring_reap,
	.ready = uring_ready,
};
