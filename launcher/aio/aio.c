// SPDX-License-Identifier: GPL-2.0
/*
 * aio/aio.c: choosing an engine, and what every engine shares: counting
 * requests in flight and carrying short transfers on until they are whole.
 *
 * A regular file gives short reads only at its end (the image shrank under
 * us: an error, since we checked the size at open) but a block device or
 * an interrupted transfer may stop early and mean nothing by it, so every
 * engine's raw result comes through aio_reap() here, which resubmits the
 * rest of the request rather than make each engine loop on its own.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aio/aio.h"
#include "iov.h"
#include "log.h"

struct aio_engine *aio_create(enum aio_kind kind, int fd, int event_fd, unsigned int depth,
			      const char *what, const char **why_fallback)
{
	const struct aio_ops *ops = kind == AIO_THREADS ? &aio_threads_ops
				    : kind == AIO_SYNC	? &aio_sync_ops
							: &aio_uring_ops;
	struct aio_engine *e;

	if (depth > AIO_MAX_DEPTH)
		depth = AIO_MAX_DEPTH;
	if (why_fallback)
		*why_fallback = NULL;
	e = ops->create(fd, event_fd, depth);
	if (!e && kind == AIO_DEFAULT) {
		/*
		 * io_uring may be missing (an old or trimmed kernel), turned
		 * off (kernel.io_uring_disabled) or refused by a container's
		 * seccomp profile: the worker pool needs nothing special.
		 */
		if (why_fallback)
			*why_fallback = strerror(errno);
		ops = &aio_threads_ops;
		e = ops->create(fd, event_fd, depth);
	}
	if (!e)
		die_errno("%s: cannot set up aio=%s", what, ops->name);
	e->ops = ops;
	e->fd = fd;
	e->event_fd = event_fd;
	return e;
}

void aio_start(struct aio_engine *e, const char *dev_name,
	       void (*thread_init)(void *arg, const char *name), void *arg)
{
	if (e->ops == &aio_threads_ops)
		aio_threads_start(e, dev_name, thread_init, arg);
}

static uint64_t iov_bytes(const struct iovec *iov, int n)
{
	uint64_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

void aio_submit(struct aio_engine *e, struct aio_req *r)
{
	r->left = iov_bytes(r->iov, r->iovcnt);
	r->error = 0;
	e->in_flight++;
	e->submitted++;
	e->ops->submit(e, r);
}

void aio_commit(struct aio_engine *e)
{
	e->ops->commit(e);
}

/*
 * An attempt finished: true if the request is over (r->error says how),
 * false if the rest of it went back to the engine.
 */
static bool finish_attempt(struct aio_engine *e, struct aio_req *r)
{
	if (r->res == -EINTR || r->res == -EAGAIN) {
		/* Nothing moved; try again (EAGAIN: io_uring's io-wq was busy). */
	} else if (r->res < 0) {
		r->error = (int)-r->res;
		return true;
	} else if (r->res == 0 && r->left) {
		r->error = EIO; /* the image ended before the request did */
		return true;
	} else if ((uint64_t)r->res >= r->left) {
		r->left = 0;
		return true;
	} else {
		r->iov = iov_advance(r->iov, &r->iovcnt, (size_t)r->res);
		r->off += r->res;
		r->left -= (uint64_t)r->res;
		e->resumed++;
	}
	e->ops->submit(e, r);
	e->ops->commit(e);
	return false;
}

struct aio_req *aio_reap(struct aio_engine *e, bool wait)
{
	struct aio_req *r;

	/*
	 * Whatever is queued and not yet sent must go before we sleep: it
	 * would never finish otherwise (a device that broke halfway through
	 * a batch drains it this way).
	 */
	if (wait)
		e->ops->commit(e);
	while (e->in_flight) {
		r = e->ops->reap(e, wait);
		if (!r)
			return NULL;
		if (finish_attempt(e, r)) {
			e->in_flight--;
			return r;
		}
	}
	return NULL;
}

void aio_rw_now(const struct aio_engine *e, struct aio_req *r)
{
	r->res = r->write ? pwritev(e->fd, r->iov, r->iovcnt, r->off)
			  : preadv(e->fd, r->iov, r->iovcnt, r->off);
	if (r->res < 0)
		r->res = -errno;
}

uint64_t aio_worker_cpu_ns(struct aio_engine *e)
{
	return e->ops->worker_cpu_ns ? e->ops->worker_cpu_ns(e) : 0;
}
