// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: a block device backed by a disk image, on any ring layout.
 *
 * Two request formats reach us, one per protocol generation:
 *
 *   draft3 (shared/seeds/001): the request travels in two buffers.  The
 *     out queue carries the header (struct d3_blk_outhdr) and any data to
 *     write; the header names, by id, a buffer on the in queue that
 *     receives the status byte first and then any data read.
 *
 *   split and packed (virtio 1.x, <linux/virtio_blk.h>): one chain per
 *     request, readable header (struct virtio_blk_outhdr) and data to
 *     write, then writable data to read into and the status byte last.
 *
 * Both are turned into one struct blk_req, whose reads and writes go to an
 * I/O engine (aio/aio.h) straight from and into the guest's pages.  The
 * only bytes we copy are the header and the status byte (and GET_ID's
 * 20-byte answer), counted as header_bytes.
 *
 * Many requests are in flight at once, so a guest's queue depth becomes
 * parallel I/O on the host.  Each popped chain gets a slot, the slot's
 * request goes to the engine, and the chain goes back to the guest when the
 * engine hands the request back, in whatever order they finish: every
 * layout names its buffers, so the guest matches them up.  The device
 * thread's loop (blk_notify) reaps what finished, pops what is new, and
 * sends the batch to the kernel in one go.
 *
 * Two kinds of request wait for everything before them instead: FLUSH,
 * which promises that every write it follows is durable, and draft III's
 * BARRIER.  While one waits, nothing new is popped; when the requests
 * before it are done, it runs on the device thread (fdatasync) and the
 * queue moves again.  Guests flush rarely; waiting costs them little, and
 * the ordering is then plain to see.
 *
 * Nothing in flight outlives the device: when the guest breaks a rule,
 * resets the device, or the launcher stops, blk_drain() waits for the
 * engine to hand back every request and gives none of them back to the
 * guest's rings (they may be gone), so no I/O touches guest memory after
 * the device stopped.
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "aio/aio.h"
#include "device.h"
#include "devices/blk.h"
#include "draft3_blk.h"
#include "iov.h"
#include "log.h"
#include "trace.h"

/* The most requests in flight on the host at once (per queue). */
#define BLK_MAX_INFLIGHT AIO_MAX_DEPTH

/*
 * The most requests, and payload bytes, popped in one pass (over every
 * queue) before we hand back what finished.  The guest keeps its queue
 * full by resubmitting as completions come back; if we took its whole
 * queue before returning any of it, the guest would have nothing to do
 * while we worked, and we nothing while it refilled: the two sides would
 * take turns instead of overlapping.  Reads the page cache answers finish
 * inside io_uring_enter, one after another, so a pass of four 1 MiB reads
 * would hold all four completions back for the time of all four.
 * Measured at 4 KiB qd=32 (kvm split): a pass of 8 gives 1.24 M IOPS, a
 * pass of 16 or more 0.48 M, one at a time 1.01 M; 8 still sends eight
 * requests per io_uring_enter.
 */
#define BLK_BATCH	8
#define BLK_BATCH_BYTES (128 << 10)

/* What one pass may still pop. */
struct pass_budget {
	unsigned int reqs;
	uint64_t bytes;
};

/* A request, whichever format it came in, from pop to push. */
struct blk_req {
	struct aio_req io; /* the engine's view of a read or write */
	enum { OP_READ, OP_WRITE, OP_FLUSH, OP_GET_ID, OP_UNSUPP } kind;
	bool barrier; /* draft3's BARRIER flag: durable before completion */
	uint64_t sector;
	uint64_t len; /* payload bytes */
	struct iovec *data;
	int ndata;
	struct queue *q;
	struct blk_req *next_free;
	struct chain chain;
	struct iovec data_segs[CHAIN_MAX_SEGS]; /* the payload, inside the chain */
};

/*
 * One request queue and what serves it: its own engine (its own io_uring,
 * or pool) and slots, so the queues of a multi-queue device share nothing
 * but the image and the device thread.
 */
struct blk_vq {
	struct queue *q;
	struct aio_engine *aio;
	struct blk_req *slots; /* [BLK_MAX_INFLIGHT] */
	struct blk_req *free;
	unsigned int busy;	/* slots holding a popped chain */
	struct blk_req *parked; /* a FLUSH or BARRIER waiting for those before it */
	unsigned int pushed;	/* chains given back since the last signal decision */
	unsigned int depth;	/* the guest's queue depth when we last looked */
};

struct blk {
	struct blk_image img;
	struct blk_settings set;
	unsigned int nvq;
	unsigned int first_vq; /* served first in the next pass */
	unsigned int pass;     /* requests the next pass may pop (pass_size()) */
	struct blk_vq vq[LG_VIRTIO_MAX_QUEUES];
	int event_fd;	      /* every engine's completions (-1: aio=sync) */
	const char *aio_note; /* why the default engine is not io_uring, or NULL */
	uint64_t reads, writes, flushes, errors, unsupported;
};

/* The status values of both generations are the same numbers. */
_Static_assert(D3_BLK_S_OK == VIRTIO_BLK_S_OK && D3_BLK_S_IOERR == VIRTIO_BLK_S_IOERR &&
		       D3_BLK_S_UNSUPP == VIRTIO_BLK_S_UNSUPP,
	       "status bytes");
_Static_assert(offsetof(struct blk_req, io) == 0, "an aio_req is its blk_req");

/* preadv/pwritev the whole iovec array on this thread (BARRIER writes only). */
static bool image_io(struct blk *b, bool write, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t done =
			write ? pwritev(b->img.fd, iov, n, off) : preadv(b->img.fd, iov, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return false; /* error, or the image shrank under us */
		off += done;
		iov = iov_advance(iov, &n, done);
	}
	return true;
}

static bool in_range(struct blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % LG_SECTOR_SIZE == 0 && sector <= b->img.capacity &&
	       bytes / LG_SECTOR_SIZE <= b->img.capacity - sector;
}

static struct blk_req *slot_get(struct blk_vq *v)
{
	struct blk_req *r = v->free;

	if (r) {
		v->free = r->next_free;
		v->busy++;
	}
	return r;
}

static void slot_put(struct blk_vq *v, struct blk_req *r)
{
	r->next_free = v->free;
	v->free = r;
	v->busy--;
}

/*
 * The device stops using guest memory now: wait for the engines to hand
 * back every request, and forget them all, without a word to the rings.
 */
static void blk_drain(struct blk *b)
{
	for (unsigned int n = 0; n < b->nvq; n++) {
		struct blk_vq *v = &b->vq[n];

		while (aio_reap(v->aio, true))
			;
		v->parked = NULL;
		v->free = NULL;
		for (int i = BLK_MAX_INFLIGHT - 1; i >= 0; i--) {
			v->slots[i].next_free = v->free;
			v->free = &v->slots[i];
		}
		v->busy = 0;
		v->pushed = 0;
	}
}

/* The deepest the guest's queue has been (max-out), where the layout can tell. */
static void note_depth(struct device *dev, struct blk *b, struct blk_vq *v)
{
	uint64_t total = 0;
	int depth = queue_depth(v->q);

	/* Over every queue of a multi-queue device: each one's last reading. */
	v->depth = depth > 0 ? (unsigned int)depth : 0;
	for (unsigned int n = 0; n < b->nvq; n++)
		total += b->vq[n].depth;
	if (total > dev->stats.max_outstanding)
		dev->stats.max_outstanding = total;
}

/* The data of a request is the chain minus @skip bytes in front, @len long. */
static void req_data(struct blk_req *r, struct iovec *segs, unsigned int n, uint64_t skip,
		     uint64_t len)
{
	r->data = r->data_segs;
	r->len = len;
	r->ndata = iov_slice(r->data_segs, CHAIN_MAX_SEGS, segs, n, skip, len);
}

/*
 * Draft III: the chain is an out-queue buffer (header + data to write).
 * Join the in buffer the header names; status goes in its first byte,
 * data read after it.  False if the guest broke a rule (device failed).
 */
static bool parse_draft3(struct device *dev, struct blk_req *r)
{
	struct chain *c = &r->chain;
	struct d3_blk_outhdr hdr;
	uint32_t type;

	if (iov_to_buf(c->seg, c->nread, 0, &hdr, sizeof(hdr), &dev->stats.header_bytes) !=
	    sizeof(hdr)) {
		device_fail(dev,
			    "out queue: request of %lu bytes is shorter than its %zu-byte header",
			    (unsigned long)c->read_len, sizeof(hdr));
		return false;
	}
	if (d3_dev_join(&dev->d3, c, hdr.id) < 0) {
		device_fail(dev, "%s", dev->d3.error);
		return false;
	}
	/* The in half is a buffer of its own on the in queue: count and show it popped. */
	dev->queue[QUEUE_D3_IN].popped++;
	dev->queue[QUEUE_D3_IN].descs += c->nwrite;
	if (trace_on)
		trace_record_pop(dev->index, QUEUE_D3_IN, c->in_id, dev->d3.in.last_avail,
				 chain_writable(c), c->nwrite, 0, c->nwrite, CHAIN_MAX_SEGS);
	if (c->write_len < 1) {
		device_fail(dev, "in queue: buffer %u has no room for the status byte", c->in_id);
		return false;
	}
	type = hdr.type & ~D3_BLK_T_BARRIER;
	r->sector = hdr.sector;
	r->barrier = hdr.type & D3_BLK_T_BARRIER;
	if (type == D3_BLK_T_READ) {
		r->kind = OP_READ;
		req_data(r, chain_writable(c), c->nwrite, 1, c->write_len - 1);
	} else if (type == D3_BLK_T_WRITE) {
		r->kind = OP_WRITE;
		req_data(r, c->seg, c->nread, sizeof(hdr), c->read_len - sizeof(hdr));
	} else if (type == D3_BLK_T_FLUSH) {
		r->kind = OP_FLUSH;
	} else {
		r->kind = OP_UNSUPP; /* D3_BLK_T_SCSI_CMD and anything we do not know */
	}
	return true;
}

/* Virtio 1.x: header and data to write, then data to read into and the status byte. */
static bool parse_virtio(struct device *dev, struct blk_req *r)
{
	struct chain *c = &r->chain;
	const char *qname = dev->queue_names[r->q->index];
	struct virtio_blk_outhdr hdr;

	if (iov_to_buf(c->seg, c->nread, 0, &hdr, sizeof(hdr), &dev->stats.header_bytes) !=
	    sizeof(hdr)) {
		device_fail(dev, "%s: request with %lu readable bytes has no %zu-byte header",
			    qname, (unsigned long)c->read_len, sizeof(hdr));
		return false;
	}
	if (c->write_len < 1) {
		device_fail(dev, "%s: request %u has no room for the status byte", qname, c->id);
		return false;
	}
	r->sector = hdr.sector;
	r->barrier = false;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		r->kind = OP_READ;
		req_data(r, chain_writable(c), c->nwrite, 0, c->write_len - 1);
		break;
	case VIRTIO_BLK_T_OUT:
		r->kind = OP_WRITE;
		req_data(r, c->seg, c->nread, sizeof(hdr), c->read_len - sizeof(hdr));
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->kind = OP_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		r->kind = OP_GET_ID;
		req_data(r, chain_writable(c), c->nwrite, 0, c->write_len - 1);
		break;
	default:
		r->kind = OP_UNSUPP;
	}
	return true;
}

/*
 * The request is over: the status byte and the chain go back to the guest
 * (with @written payload bytes).  False if the ring broke (device failed).
 */
static bool complete(struct device *dev, struct blk *b, struct blk_vq *v, struct blk_req *r,
		     uint8_t status, uint32_t written)
{
	struct chain *c = &r->chain;
	bool draft3 = dev->ring.layout == LG_RING_DRAFT3;

	if (status == VIRTIO_BLK_S_IOERR)
		b->errors++;
	trace_event(LG_TR_IO, dev->index, r->q->index, status, c->id, 0, written, 0);
	/* Draft III: the in buffer's first byte.  Virtio: the last writable byte. */
	iov_from_buf(chain_writable(c), c->nwrite, draft3 ? 0 : c->write_len - 1, &status, 1,
		     &dev->stats.header_bytes);
	dev->stats.descs += c->ndesc;
	if (!queue_push(r->q, c, written + 1)) {
		if (draft3)
			device_fail(dev, "%s", dev->d3.error);
		else
			device_queue_failed(dev, r->q);
		return false;
	}
	if (draft3) {
		/* queue_push() gave back the in half as well. */
		dev->queue[QUEUE_D3_IN].used++;
		dev->stats.chains += 2;
	} else {
		dev->stats.chains++;
	}
	v->pushed++;
	slot_put(v, r);
	return true;
}

/* A read or write the engine finished. */
static bool complete_io(struct device *dev, struct blk *b, struct blk_vq *v, struct blk_req *r)
{
	if (r->io.error)
		return complete(dev, b, v, r, VIRTIO_BLK_S_IOERR, 0);
	if (r->kind == OP_READ) {
		dev->stats.bytes_written += r->len;
		return complete(dev, b, v, r, VIRTIO_BLK_S_OK, (uint32_t)r->len);
	}
	dev->stats.bytes_read += r->len;
	return complete(dev, b, v, r, VIRTIO_BLK_S_OK, 0);
}

/*
 * A FLUSH or BARRIER request, now that nothing before it is in flight:
 * do it here, and make it durable before it completes.
 */
static bool run_ordered(struct device *dev, struct blk *b, struct blk_vq *v, struct blk_req *r)
{
	bool write = r->kind == OP_WRITE;
	uint32_t written = 0;

	if (r->kind == OP_READ || r->kind == OP_WRITE) {
		if (!image_io(b, write, r->data, r->ndata, (off_t)(r->sector * LG_SECTOR_SIZE)))
			return complete(dev, b, v, r, VIRTIO_BLK_S_IOERR, 0);
		if (write)
			dev->stats.bytes_read += r->len;
		else
			dev->stats.bytes_written += written = (uint32_t)r->len;
	}
	if (!b->img.read_only) {
		b->flushes++;
		if (fdatasync(b->img.fd) < 0)
			return complete(dev, b, v, r, VIRTIO_BLK_S_IOERR, 0);
	}
	return complete(dev, b, v, r, VIRTIO_BLK_S_OK, written);
}

/* Start a request just popped.  False if the guest broke a rule. */
static bool dispatch(struct device *dev, struct blk *b, struct blk_vq *v, struct blk_req *r)
{
	bool ok = dev->ring.layout == LG_RING_DRAFT3 ? parse_draft3(dev, r) : parse_virtio(dev, r);
	uint32_t written;

	if (!ok)
		return false;
	note_depth(dev, b, v);
	switch (r->kind) {
	case OP_READ:
	case OP_WRITE:
		if (r->ndata < 0 || !in_range(b, r->sector, r->len) ||
		    (r->kind == OP_WRITE && b->img.read_only))
			return complete(dev, b, v, r, VIRTIO_BLK_S_IOERR, 0);
		if (r->kind == OP_READ)
			b->reads++;
		else
			b->writes++;
		if (r->barrier)
			break; /* parked, below */
		r->io = (struct aio_req){ .write = r->kind == OP_WRITE,
					  .iov = r->data,
					  .iovcnt = r->ndata,
					  .off = (off_t)(r->sector * LG_SECTOR_SIZE) };
		aio_submit(v->aio, &r->io);
		return true;
	case OP_FLUSH:
		break;
	case OP_GET_ID:
		/* The serial, NUL-padded, cut to what the guest gave us. */
		written = iov_from_buf(r->data, r->ndata, 0, b->img.serial,
				       r->len < sizeof(b->img.serial) ? r->len
								      : sizeof(b->img.serial),
				       &dev->stats.header_bytes);
		return complete(dev, b, v, r, VIRTIO_BLK_S_OK, written);
	default:
		b->unsupported++;
		return complete(dev, b, v, r, VIRTIO_BLK_S_UNSUPP, 0);
	}
	v->parked = r;
	return true;
}

/*
 * A batch of completions, one decision whether to signal (as vhost's
 * add_used_and_signal_n).  Returns how many chains went back.
 */
static unsigned int signal_batch(struct device *dev, struct blk_vq *v)
{
	unsigned int n = v->pushed;

	if (n) {
		v->pushed = 0;
		device_used(dev, v->q);
	}
	return n;
}

/*
 * One pass: hand back what finished, run a parked FLUSH whose turn came,
 * pop and start what is new.  Returns whether anything moved, or -1 if
 * the device failed.
 */
static int serve_once(struct device *dev, struct blk *b, struct blk_vq *v,
		      struct pass_budget *budget)
{
	unsigned int popped = 0, pushed;
	struct queue *q = v->q;
	struct aio_req *io;
	int r;

	while ((io = aio_reap(v->aio, false))) {
		if (!complete_io(dev, b, v, (struct blk_req *)io))
			return -1;
	}
	if (v->parked && v->busy == 1) {
		struct blk_req *p = v->parked;

		v->parked = NULL;
		if (!run_ordered(dev, b, v, p))
			return -1;
	}
	/*
	 * Tell the guest before starting anything new: a 1 MiB read the
	 * page cache answers takes ~100 us inside io_uring_enter, and the
	 * completions before it would wait that long for their signal
	 * (measured: one signal per two requests, 0.91 of the old device).
	 */
	pushed = signal_batch(dev, v);
	while (!v->parked && aio_has_room(v->aio) && budget->reqs && budget->bytes) {
		struct blk_req *req = slot_get(v);

		if (!req)
			break;
		req->q = q;
		r = queue_pop(q, &req->chain);
		if (r <= 0) {
			slot_put(v, req);
			if (r < 0) {
				device_queue_failed(dev, q);
				return -1;
			}
			break;
		}
		if (!dispatch(dev, b, v, req))
			return -1;
		popped++;
		budget->reqs--;
		budget->bytes -= req->len < budget->bytes ? req->len : budget->bytes;
		/*
		 * Something has finished already: a buffered write, done in
		 * place, or any request on aio=sync.  Hand it back before
		 * taking more.  Holding it for the rest of the pass gains no
		 * batching (there is no io_uring_enter to share), and a guest
		 * that keeps a few writes in flight waits for it to refill
		 * its queue.  Writes popped four at a time made the two sides
		 * take turns: 4 KiB randwrite qd=4 with a FLUSH every 32 fell
		 * to 0.73-0.82 of the one-at-a-time device.
		 */
		if (aio_ready(v->aio))
			break;
	}
	aio_commit(v->aio);
	/* What went back at once: a GET_ID, an error, an unsupported request. */
	pushed += signal_batch(dev, v);
	return popped || pushed;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
}

/* Whether we must wait for a request to finish before we can take another. */
static bool blocked(const struct blk_vq *v)
{
	return v->parked || !v->free || !aio_has_room(v->aio);
}

/* The queues the driver set up: queue 0 always, the others of a multi-queue device if used. */
static bool vq_active(const struct blk *b, unsigned int n)
{
	return n == 0 || b->vq[n].q->ready;
}

/* Whether any queue has something to do: a request to pop, or one finished. */
static bool work_waiting(struct blk *b)
{
	for (unsigned int n = 0; n < b->nvq; n++) {
		struct blk_vq *v = &b->vq[n];

		if (!vq_active(b, n))
			continue;
		if ((!blocked(v) && queue_has_buffers(v->q)) || aio_ready(v->aio))
			return true;
	}
	return false;
}

/*
 * The polling window: the queues are empty, but another request may be a
 * few microseconds away, and waking a sleeping thread costs more than
 * that.  Watch the rings (and the engines) for up to poll_us, with
 * NOTIFYs still off, before going to sleep.  True if something turned up.
 */
static bool poll_window(struct device *dev, struct blk *b)
{
	uint64_t end;

	if (!b->set.poll_us)
		return false;
	end = now_ns() + (uint64_t)b->set.poll_us * 1000;
	do {
		if (work_waiting(b)) {
			dev->stats.polls_found++;
			return true;
		}
		__builtin_ia32_pause();
	} while (now_ns() < end);
	dev->stats.polls_expired++;
	return false;
}

/*
 * How many requests a pass may pop (at most BLK_BATCH): twice the last
 * pass's when that one used its whole budget (more was waiting), half of
 * it when it emptied the rings.  A guest that keeps 32 requests coming
 * gets eight per io_uring_enter; one that keeps a few gets each request
 * back as soon as it is done.  A fixed pass of 8 made the two sides take
 * turns at qd=4 (4 KiB randread on kvm split: 0.11 M IOPS against 0.7 M
 * one at a time), and one at a time cost a fifth at qd=32.
 */
static unsigned int pass_size(const struct blk *b)
{
	return b->pass;
}

static void adapt_pass(struct blk *b, const struct pass_budget *left)
{
	if (left->reqs && left->bytes)
		b->pass = b->pass > 1 ? b->pass / 2 : 1;
	else
		b->pass = b->pass * 2 > BLK_BATCH ? BLK_BATCH : b->pass * 2;
}

/*
 * The device thread: a NOTIFY (which names the device, not a queue) or a
 * completion woke us.  With NOTIFYs off, serve every queue the driver set
 * up until none moves, then poll, then turn NOTIFYs back on and look once
 * more (a request published just before that would otherwise wait for a
 * NOTIFY the guest skipped).
 */
static void blk_notify(struct device *dev)
{
	struct blk *b = dev->priv;
	bool again;

	if (b->event_fd >= 0 && read(b->event_fd, &(uint64_t){ 0 }, sizeof(uint64_t)) < 0 &&
	    errno != EAGAIN)
		warnx_lg("%s: completion eventfd: %s", dev->name, strerror(errno));
	do {
		for (unsigned int n = 0; n < b->nvq; n++)
			if (vq_active(b, n))
				queue_disable_notify(b->vq[n].q);
		for (;;) {
			struct pass_budget budget = { pass_size(b), BLK_BATCH_BYTES };
			bool moved = false;

			/* The queue that goes first turns, so that none waits behind the others. */
			b->first_vq = (b->first_vq + 1) % b->nvq;
			for (unsigned int i = 0; i < b->nvq; i++) {
				unsigned int n = (b->first_vq + i) % b->nvq;
				struct blk_vq *v = &b->vq[n];
				int m;

				if (!vq_active(b, n))
					continue;
				m = serve_once(dev, b, v, &budget);
				if (m < 0) {
					blk_drain(b);
					return;
				}
				moved |= m > 0;
			}
			adapt_pass(b, &budget);
			if (!moved && !poll_window(dev, b))
				break;
		}
		/*
		 * A queue that is full, or whose FLUSH waits, can take nothing
		 * new until a request finishes, and that completion wakes us
		 * (the engine's eventfd): leave its NOTIFYs off meanwhile; the
		 * guest skips them.
		 */
		again = false;
		for (unsigned int n = 0; n < b->nvq; n++)
			if (vq_active(b, n) && !blocked(&b->vq[n]))
				again |= queue_enable_notify(b->vq[n].q);
	} while (again);
}

/* The engine's eventfd: completions, which blk_notify() (next) reaps. */
static int blk_extra_fd(struct device *dev)
{
	struct blk *b = dev->priv;

	return b->event_fd;
}

static void blk_extra_ready(struct device *dev)
{
	(void)dev;
}

/* Reset, exit, or a rule broken: nothing in flight may outlive the device. */
static void blk_stop(struct device *dev)
{
	blk_drain(dev->priv);
}

static void blk_start_helpers(struct device *dev, void (*enter)(void *dev, const char *name))
{
	struct blk *b = dev->priv;

	for (unsigned int n = 0; n < b->nvq; n++)
		aio_start(b->vq[n].aio, dev->name, enter, dev);
}

static void blk_sync_stats(struct device *dev)
{
	struct blk *b = dev->priv;

	dev->stats.helper_cpu_ns = 0;
	for (unsigned int n = 0; n < b->nvq; n++)
		dev->stats.helper_cpu_ns += aio_worker_cpu_ns(b->vq[n].aio);
}

/* What the engines did, summed over the queues. */
static void aio_totals(const struct blk *b, uint64_t *submitted, uint64_t *resumed)
{
	*submitted = *resumed = 0;
	for (unsigned int n = 0; n < b->nvq; n++) {
		*submitted += b->vq[n].aio->submitted;
		*resumed += b->vq[n].aio->resumed;
	}
}

/* Requests in flight at most, over the queues: io_uring's depth, or workers. */
static unsigned int aio_parallelism(const struct blk *b)
{
	const struct aio_engine *e = b->vq[0].aio;

	return b->nvq * (e->workers ? e->workers : e->depth);
}

static void blk_print_stats(struct device *dev)
{
	struct blk *b = dev->priv;
	uint64_t submitted, resumed;

	aio_totals(b, &submitted, &resumed);
	fprintf(stderr,
		"%-8s reads %lu, writes %lu, flushes (fdatasync) %lu, errors %lu, "
		"unsupported %lu, header bytes %lu\n",
		dev->name, b->reads, b->writes, b->flushes, b->errors, b->unsupported,
		dev->stats.header_bytes);
	fprintf(stderr,
		"%-8s aio=%s: %lu submitted, %lu short transfers resumed; poll window %u us: "
		"%lu found work, %lu expired\n",
		dev->name, b->vq[0].aio->ops->name, (unsigned long)submitted,
		(unsigned long)resumed, b->set.poll_us, dev->stats.polls_found,
		dev->stats.polls_expired);
}

static void blk_json(const struct device *dev, FILE *f)
{
	const struct blk *b = dev->priv;

	fprintf(f, "\"aio\": \"%s\", \"aio_parallelism\": %u, \"poll_us\": %u, ",
		b->vq[0].aio->ops->name, aio_parallelism(b), b->set.poll_us);
}

static const struct device_ops blk_ops = {
	.notify = blk_notify,
	.extra_fd = blk_extra_fd,
	.extra_ready = blk_extra_ready,
	.stop = blk_stop,
	.quiesce = blk_stop,
	.start_helpers = blk_start_helpers,
	.sync_stats = blk_sync_stats,
	.print_stats = blk_print_stats,
	.json = blk_json,
	.sandbox = SANDBOX_DEV_BLK,
};

/* Virtio's numbering; the first keeps the name it has on a one-queue device. */
static const char *const blk_queue_names[LG_VIRTIO_MAX_QUEUES] = { "requestq", "requestq1",
								   "requestq2", "requestq3" };

void blk_add(const char *path, bool read_only, const struct ring_opt *ring,
	     const struct blk_settings *set)
{
	static const struct blk_settings one_at_a_time = { .aio = AIO_SYNC, .queues = 1 };
	struct blk *b = calloc(1, sizeof(*b));
	struct virtio_blk_config *cfg;
	struct device *dev;
	char name[16];

	if (!b)
		die("out of memory");
	b->set = set ? *set : one_at_a_time;
	b->nvq = b->set.queues ? b->set.queues : 1;
	b->pass = 1;
	/* options.c refuses these with a proper message; this is the model's own guard. */
	if (b->nvq > LG_VIRTIO_MAX_QUEUES || (b->nvq > 1 && ring->layout == LG_RING_DRAFT3))
		die("%s: %u request queues on this ring", path, b->nvq);
	blk_next_name(name, sizeof(name));
	blk_image_open(&b->img, path, read_only, name);
	b->event_fd = -1;
	if (b->set.aio != AIO_SYNC) {
		b->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (b->event_fd < 0)
			die_errno("%s: eventfd", name);
	}
	dev = device_add(name, LG_DEV_BLOCK, &blk_ops, b, ring, b->nvq, blk_queue_names);
	for (unsigned int n = 0; n < b->nvq; n++) {
		struct blk_vq *v = &b->vq[n];

		/* Draft III's requests arrive on its out queue (and name in buffers). */
		v->q = &dev->queue[ring->layout == LG_RING_DRAFT3 ? QUEUE_D3_OUT : n];
		/* Big (16 KiB a slot), but the pages of slots never used are never touched. */
		v->slots = calloc(BLK_MAX_INFLIGHT, sizeof(*v->slots));
		if (!v->slots)
			die("out of memory");
		v->aio = aio_create(b->set.aio, b->img.fd, b->event_fd, BLK_MAX_INFLIGHT, name,
				    &b->aio_note);
	}
	blk_drain(b); /* nothing in flight: every slot free */
	blk_configure(dev, &b->img);
	if (b->nvq > 1) {
		/*
		 * Each queue is served on its own engine; a driver that does
		 * not take VIRTIO_BLK_F_MQ uses the first and leaves the rest
		 * disabled, which is allowed.
		 */
		cfg = device_config_space(dev, sizeof(*cfg));
		cfg->num_queues = (uint16_t)b->nvq;
		device_offer(dev, 1ULL << VIRTIO_BLK_F_MQ);
		dev->queues_required = 1;
	}
	verbose("%s: %s, %lu sectors%s; aio=%s, %u requests in flight at most%s", name, path,
		(unsigned long)b->img.capacity, read_only ? ", read-only" : "",
		b->vq[0].aio->ops->name, b->vq[0].aio->depth, b->nvq > 1 ? " per queue" : "");
	if (b->nvq > 1)
		verbose("%s: %u request queues (VIRTIO_BLK_F_MQ), an engine each", name, b->nvq);
	if (b->vq[0].aio->workers)
		verbose("%s: aio=threads: %u worker threads%s", name, b->vq[0].aio->workers,
			b->nvq > 1 ? " per queue" : "");
	if (b->aio_note)
		verbose("%s: io_uring is not available here (%s): aio=threads", name, b->aio_note);
}
