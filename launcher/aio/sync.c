// SPDX-License-Identifier: GPL-2.0
/*
 * aio/sync.c: the engine that does each request as it is submitted.
 *
 * One preadv or pwritev on the caller's thread, then the request waits on
 * a list for aio_reap(), so the block model has one code path whatever the
 * engine.  The device as it was before there were engines: one request at
 * a time, which is what a comparison against the others needs, and all
 * that lguest-vhost-blk and the fake host module (one caller each, no
 * event loop of ours) use.
 */
#include <errno.h>
#include <stdlib.h>

#include "aio/aio.h"

struct sync_engine {
	struct aio_engine e;
	struct aio_fifo done;
};

static struct aio_engine *sync_create(int fd, int event_fd, unsigned int depth)
{
	struct sync_engine *s = calloc(1, sizeof(*s));

	(void)fd;
	(void)event_fd;
	if (!s)
		return NULL;
	aio_fifo_init(&s->done);
	s->e.depth = depth;
	return &s->e;
}

static void sync_submit(struct aio_engine *e, struct aio_req *r)
{
	struct sync_engine *s = (struct sync_engine *)e;

	aio_rw_now(e, r);
	aio_fifo_push(&s->done, r);
}

static void sync_commit(struct aio_engine *e)
{
	(void)e;
}

static struct aio_req *sync_reap(struct aio_engine *e, bool wait)
{
	(void)wait; /* everything submitted is done already */
	return aio_fifo_pop(&((struct sync_engine *)e)->done);
}

static bool sync_ready(struct aio_engine *e)
{
	return ((struct sync_engine *)e)->done.head;
}

const struct aio_ops aio_sync_ops = {
	.name = "sync",
	.create = sync_create,
	.submit = sync_submit,
	.commit = sync_commit,
	.reap = sync_reap,
	.ready = sync_ready,
};
