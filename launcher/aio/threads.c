// SPDX-License-Identifier: GPL-2.0
/*
 * aio/threads.c: a pool of worker threads doing preadv and pwritev.
 *
 * For hosts where io_uring cannot be set up.  The device thread puts
 * requests on a list and wakes workers; each worker takes one, does one
 * system call straight on the guest's pages, puts it on the done list and,
 * if that list was empty, writes the eventfd the device thread polls.
 * Both lists are short (at most the engine's depth), so one mutex guards
 * them: the system calls, not the lock, are where the time goes.
 *
 * The workers are started after setup (aio_start(), from devices_start())
 * and lock themselves into the device's seccomp role first: they need
 * nothing the device thread does not.  They live until the launcher exits;
 * by then nothing is in flight (the block model drains its requests when
 * it stops).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aio/aio.h"
#include "log.h"

struct pool_engine {
	struct aio_engine e;
	pthread_mutex_t lock;
	pthread_cond_t work;	  /* todo got a request */
	pthread_cond_t done_cond; /* done got a request (for a waiting reap) */
	struct aio_fifo todo, done;
	unsigned int ndone;  /* read without the lock by ready() */
	unsigned int waking; /* requests queued since the last commit */
	pthread_t thread[AIO_POOL_THREADS];
	bool started;
	void (*thread_init)(void *arg, const char *name);
	void *thread_arg;
	char name[16];
};

static struct aio_engine *pool_create(int fd, int event_fd, unsigned int depth)
{
	struct pool_engine *p = calloc(1, sizeof(*p));

	(void)fd;
	if (!p)
		return NULL;
	p->e.event_fd = event_fd;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done_cond, NULL);
	aio_fifo_init(&p->todo);
	aio_fifo_init(&p->done);
	p->e.depth = depth;
	p->e.workers = AIO_POOL_THREADS;
	return &p->e;
}

static void *worker(void *arg)
{
	struct pool_engine *p = arg;
	uint64_t one = 1;

	if (p->thread_init)
		p->thread_init(p->thread_arg, p->name);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct aio_req *r = aio_fifo_pop(&p->todo);
		bool was_empty;

		if (!r) {
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);

		aio_rw_now(&p->e, r);

		pthread_mutex_lock(&p->lock);
		was_empty = !p->done.head;
		aio_fifo_push(&p->done, r);
		__atomic_store_n(&p->ndone, p->ndone + 1, __ATOMIC_RELEASE);
		pthread_cond_signal(&p->done_cond);
		/* One wakeup per batch: the device thread takes the whole list. */
		if (was_empty && write(p->e.event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			warnx_lg("%s: completion eventfd: %s", p->name, strerror(errno));
	}
	return NULL;
}

void aio_threads_start(struct aio_engine *e, const char *dev_name,
		       void (*thread_init)(void *arg, const char *name), void *arg)
{
	struct pool_engine *p = (struct pool_engine *)e;

	snprintf(p->name, sizeof(p->name), "%s-io", dev_name);
	p->thread_init = thread_init;
	p->thread_arg = arg;
	p->started = true;
	for (unsigned int i = 0; i < AIO_POOL_THREADS; i++) {
		int err = pthread_create(&p->thread[i], NULL, worker, p);

		if (err)
			die("%s: cannot start an I/O worker: %s", dev_name, strerror(err));
	}
}

static void pool_submit(struct aio_engine *e, struct aio_req *r)
{
	struct pool_engine *p = (struct pool_engine *)e;

	pthread_mutex_lock(&p->lock);
	aio_fifo_push(&p->todo, r);
	pthread_mutex_unlock(&p->lock);
	p->waking++;
}

/* Wake as many workers as there are new requests (the pool's size at most). */
static void pool_commit(struct aio_engine *e)
{
	struct pool_engine *p = (struct pool_engine *)e;

	if (!p->waking)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->waking >= AIO_POOL_THREADS)
		pthread_cond_broadcast(&p->work);
	else
		while (p->waking--)
			pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	p->waking = 0;
}

static struct aio_req *pool_reap(struct aio_engine *e, bool wait)
{
	struct pool_engine *p = (struct pool_engine *)e;
	struct aio_req *r;

	pthread_mutex_lock(&p->lock);
	while (!p->done.head && wait)
		pthread_cond_wait(&p->done_cond, &p->lock);
	r = aio_fifo_pop(&p->done);
	if (r)
		__atomic_store_n(&p->ndone, p->ndone - 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	return r;
}

static bool pool_ready(struct aio_engine *e)
{
	return __atomic_load_n(&((struct pool_engine *)e)->ndone, __ATOMIC_ACQUIRE);
}

static uint64_t pool_cpu_ns(struct aio_engine *e)
{
	struct pool_engine *p = (struct pool_engine *)e;
	uint64_t ns = 0;

	for (unsigned int i = 0; i < AIO_POOL_THREADS && p->started; i++) {
		struct timespec t;
		clockid_t clk;

		if (!pthread_getcpuclockid(p->thread[i], &clk) && !clock_gettime(clk, &t))
			ns += (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
	}
	return ns;
}

const struct aio_ops aio_threads_ops = {
	.name = "threads",
	.create = pool_create,
	.submit = pool_submit,
	.commit = pool_commit,
	.reap = pool_reap,
	.ready = pool_ready,
	.worker_cpu_ns = pool_cpu_ns,
};
