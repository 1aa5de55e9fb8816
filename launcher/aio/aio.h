/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio/aio.h: the block device's I/O engines, behind one seam.
 *
 * A guest with 32 requests in its queue gains nothing if the host does
 * them one after another: the device would be the bottleneck, and every
 * ring layout would look the same.  So the block model hands each read or
 * write to an engine, which keeps many in flight, and takes back whatever
 * has finished:
 *
 *   io_uring  one ring per device, on the device's own thread: requests
 *             are queued as submission entries and go to the kernel with
 *             one io_uring_enter() per batch.  Reads the page cache can
 *             answer complete inside that call; the rest run in the
 *             kernel's io-wq workers and complete later.  The default,
 *             where io_uring_setup() works.
 *   threads   a small pool of worker threads doing preadv/pwritev, for
 *             kernels or sandboxes without io_uring (QEMU's aio=threads).
 *   sync      the request is done before aio_submit() returns, on the
 *             caller's thread: the device as it was, kept to compare with,
 *             and what lguest-vhost-blk and the fake host module use.
 *
 * Every engine does I/O straight on the caller's iovecs, which point into
 * guest RAM: nothing is copied.  The caller owns each struct aio_req until
 * aio_reap() hands it back; the iovecs it names must stay put until then.
 * Short transfers are resumed here (aio.c), so a request comes back either
 * whole or with an error.
 *
 * None of this is thread-safe: one thread at a time (the device thread, or
 * the vCPU thread with the device's lock held) drives an engine.  The
 * threads engine's workers are its own business.
 */
#ifndef LAUNCHER_AIO_AIO_H
#define LAUNCHER_AIO_AIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum aio_kind {
	AIO_DEFAULT,  /* io_uring if the kernel lets us set one up, else threads */
	AIO_IO_URING, /* as asked: failing to set it up is an error */
	AIO_THREADS,
	AIO_SYNC,
};

/* The most requests an engine keeps in flight (io_uring's ring size). */
#define AIO_MAX_DEPTH 64
/* Workers in the threads engine: two CPUs here, page-cache reads of a microsecond. */
#define AIO_POOL_THREADS 4

struct aio_req {
	/* Filled by the caller before aio_submit(). */
	bool write;
	struct iovec *iov; /* advanced in place as short transfers resume */
	int iovcnt;
	off_t off;
	/* Set by the engine when aio_reap() returns the request. */
	int error; /* 0, or an errno (EIO if the image ended under us) */
	/* The engines'. */
	uint64_t left;	      /* bytes still to move */
	ssize_t res;	      /* the last attempt: bytes moved, or -errno */
	struct aio_req *next; /* on the threads engine's lists */
};

/* Requests in order, oldest first: the engines' to-do and done lists. */
struct aio_fifo {
	struct aio_req *head, **tail;
};

static inline void aio_fifo_init(struct aio_fifo *f)
{
	f->head = NULL;
	f->tail = &f->head;
}

static inline void aio_fifo_push(struct aio_fifo *f, struct aio_req *r)
{
	r->next = NULL;
	*f->tail = r;
	f->tail = &r->next;
}

static inline struct aio_req *aio_fifo_pop(struct aio_fifo *f)
{
	struct aio_req *r = f->head;

	if (r) {
		f->head = r->next;
		if (!f->head)
			f->tail = &f->head;
	}
	return r;
}

struct aio_engine;

struct aio_ops {
	const char *name; /* "io_uring", "threads", "sync" */
	/* NULL and errno set if this engine cannot run here. */
	struct aio_engine *(*create)(int fd, int event_fd, unsigned int depth);
	/* Queue @r; it may wait for commit() to reach the kernel. */
	void (*submit)(struct aio_engine *e, struct aio_req *r);
	void (*commit)(struct aio_engine *e);
	/* An attempt that finished (r->res says how), or NULL; @wait: sleep for one. */
	struct aio_req *(*reap)(struct aio_engine *e, bool wait);
	/* Whether reap() would return something now, without a system call. */
	bool (*ready)(struct aio_engine *e);
	uint64_t (*worker_cpu_ns)(struct aio_engine *e);
};

struct aio_engine {
	const struct aio_ops *ops;
	int fd;		      /* the image */
	int event_fd;	      /* written when completions wait (the caller's; sync: unused) */
	unsigned int depth;   /* most requests in flight */
	unsigned int workers; /* threads doing the I/O: io_uring and sync 0 */
	unsigned int in_flight;
	uint64_t submitted, resumed; /* requests; short transfers carried on */
};

/*
 * An engine of @kind for the image open at @fd, keeping at most @depth
 * requests in flight (at most AIO_MAX_DEPTH), which makes the eventfd
 * @event_fd readable when requests finish (several engines may share
 * one; the caller reads it; aio=sync needs none).  Dies with one line
 * naming @what if @kind was asked for and cannot run; AIO_DEFAULT falls
 * back to threads, and @why_fallback (if not NULL) says why.
 */
struct aio_engine *aio_create(enum aio_kind kind, int fd, int event_fd, unsigned int depth,
			      const char *what, const char **why_fallback);
/*
 * Start the engine's own threads, if it has any, after setup: each runs
 * @thread_init(@arg, name) first (to enter the device's sandbox).
 */
void aio_start(struct aio_engine *e, const char *dev_name,
	       void (*thread_init)(void *arg, const char *name), void *arg);

/* Whether another request may be submitted now (depth not reached). */
static inline bool aio_has_room(const struct aio_engine *e)
{
	return e->in_flight < e->depth;
}
void aio_submit(struct aio_engine *e, struct aio_req *r);
/* Send what aio_submit() queued. */
void aio_commit(struct aio_engine *e);
/*
 * The next finished request, or NULL: none yet (@wait false), or none in
 * flight (@wait true, which otherwise sleeps until one finishes).
 */
struct aio_req *aio_reap(struct aio_engine *e, bool wait);
/* Whether a finished request is waiting, cheaply (the polling window asks). */
static inline bool aio_ready(struct aio_engine *e)
{
	return e->in_flight && e->ops->ready(e);
}
/* For the engines: one preadv or pwritev of @r on this thread, its result in r->res. */
void aio_rw_now(const struct aio_engine *e, struct aio_req *r);
/* CPU time of the engine's own threads (0 for io_uring and sync). */
uint64_t aio_worker_cpu_ns(struct aio_engine *e);

extern const struct aio_ops aio_uring_ops, aio_threads_ops, aio_sync_ops;
void aio_threads_start(struct aio_engine *e, const char *dev_name,
		       void (*thread_init)(void *arg, const char *name), void *arg);

#endif /* LAUNCHER_AIO_AIO_H */
