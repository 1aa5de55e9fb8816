// SPDX-License-Identifier: GPL-2.0
/*
 * ringtest_checked.c: a split ring in ringtest's shape that checks what
 * lguest's split ring checks, to measure what the checks cost.
 *
 * Linux's tools/virtio/ringtest/virtio_ring_0_9.c is the leanest split
 * ring there is: one global ring, every index and free list a global
 * variable, the whole program compiled as one unit (-flto
 * -fwhole-program) so that each ring step is inlined into the loop that
 * calls it, and nothing the other side wrote is checked.  Our rings
 * (guest/ring/split_drv.c, launcher/ring/split_dev.c) check everything and
 * are a library: a queue is a structure, each step a call.
 *
 * This file is the middle point.  It implements ringtest's ring interface
 * (its main.h: add_inbuf, kick_available, use_buf, call_used, get_buf ...)
 * in ringtest's shape: globals, one buffer of one descriptor at a time,
 * the same flags.  On that path it checks every rule our split ring
 * checks on a one-descriptor buffer, the way ours does:
 *
 *   device: the avail index is at most size ahead; the head is in the
 *   table; the descriptor has neither NEXT nor INDIRECT (a chain is not
 *   something this ring takes: the queue breaks), is not empty, and lies
 *   in guest RAM (one bound, as guest_iov_direct() checks it); the head
 *   is not already in flight; on push, the head is in flight and the guest
 *   has not written to used->idx, and the length written is capped at what
 *   the buffer lets the device write; a signal decision is forgotten when
 *   the used index comes back round to it.
 *
 *   driver: nothing is added to a broken ring or without a token; a
 *   free-list link read back from the table stays inside it; the used
 *   index is never ahead of what was published; the used id is in the
 *   table and names a buffer that is out.
 *
 * Any rule broken breaks that side's ring for good, as ours do.
 *
 * The device takes a buffer (pop) and gives it back (push) as two steps,
 * as a device model that does I/O in between needs, with the popped
 * buffer's head, address and lengths carried between them.  Built with
 * -DCHECKED_CALLS, the two steps are out-of-line functions, which is what
 * a device model calling a ring library pays at least.
 *
 * Not built by our Makefile: tools/ringtest-build.sh compiles it with
 * ringtest's main.h and flags and links it with tests/bench/
 * ringtest_lockstep.c, giving checked-lockstep and checked-calls-lockstep
 * (docs/ringtest.md).  None of ringtest's code is in it: only its
 * interface, from the main.h it is compiled against.
 */
#include "ringtest_checked.h"

static struct vring ring;

/*
 * The driver's state.  token[] doubles as the record of which heads are
 * out: add refuses a NULL token, so a head is out exactly when its token is
 * set.  The free list is chained through the descriptors' next fields, in
 * memory the device can write, so a link read back is masked into the table.
 */
static struct {
	unsigned short avail_idx; /* published (add publishes at once, as ringtest's does) */
	unsigned short last_used;
	unsigned short kicked_avail_idx;
	unsigned short num_free;
	unsigned short free_head;
	bool broken;
	void **token;
} __attribute__((__aligned__(SIDE_ALIGN))) drv;

/* The device's state, on a line of its own. */
static struct {
	unsigned short last_avail;
	unsigned short used_idx;
	unsigned short signalled_used;
	bool signalled_valid;
	bool broken;
	unsigned char *in_flight;
	/* Guest RAM as the device sees it: [ram_base, ram_base + ram_size). */
	unsigned long ram_base, ram_size;
} __attribute__((__aligned__(SIDE_ALIGN))) dev;

/* What the device carries from pop to push. */
struct popped {
	unsigned int head;
	unsigned int write_len; /* bytes the device may write */
	unsigned int len;
	void *host;
};

void alloc_ring(void)
{
	void *p;

	if (posix_memalign(&p, 0x1000, vring_size(ring_size, 0x1000))) {
		perror("ringtest_checked: ring");
		exit(3);
	}
	memset(p, 0, vring_size(ring_size, 0x1000));
	vring_init(&ring, ring_size, p, 0x1000);
	for (unsigned int i = 0; i + 1 < ring_size; i++)
		ring.desc[i].next = i + 1;
	drv.num_free = ring_size;
	drv.kicked_avail_idx = -1;
	dev.signalled_used = -1;
	drv.token = calloc(ring_size, sizeof(*drv.token));
	dev.in_flight = calloc(ring_size, sizeof(*dev.in_flight));
	if (!drv.token || !dev.in_flight) {
		perror("ringtest_checked: state");
		exit(3);
	}
	dev.ram_base = 0;
	dev.ram_size = CHECKED_RAM_SIZE;
}

/* Driver side. */

int add_inbuf(unsigned int len, void *buf, void *datap)
{
	unsigned short head = drv.free_head;
	struct vring_desc *d = &ring.desc[head];

	if (drv.broken || !datap || !drv.num_free)
		return -1;
	d->addr = (unsigned long)buf;
	d->len = len;
	d->flags = 0;
	drv.free_head = d->next & (ring_size - 1);
	drv.num_free--;
	drv.token[head] = datap;
	ring.avail->ring[drv.avail_idx & (ring_size - 1)] = head;
	/* Release: the descriptor and the entry before the index. */
	__atomic_store_n(&ring.avail->idx, ++drv.avail_idx, __ATOMIC_RELEASE);
	return 0;
}

void kick_available(void)
{
	bool need;

	if (drv.broken)
		return;
	/* Full fence: our avail->idx store before the avail_event load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	need = vring_need_event(__atomic_load_n(&vring_avail_event(&ring), __ATOMIC_RELAXED),
				drv.avail_idx, drv.kicked_avail_idx);
	drv.kicked_avail_idx = drv.avail_idx;
	if (need)
		kick();
}

void *get_buf(unsigned int *lenp, void **bufp)
{
	unsigned short used_idx, last_used = drv.last_used;
	struct vring_used_elem *e;
	unsigned int id;
	void *token;

	if (drv.broken)
		return NULL;
	used_idx = __atomic_load_n(&ring.used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == last_used)
		return NULL;
	/* Never ahead of what we published, nor behind us. */
	if ((unsigned short)(used_idx - last_used) > (unsigned short)(drv.avail_idx - last_used))
		goto bad;
	e = &ring.used->ring[last_used & (ring_size - 1)];
	id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	*lenp = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	if (id >= ring_size || !(token = drv.token[id]))
		goto bad;
	drv.token[id] = NULL;
	*bufp = (void *)(unsigned long)ring.desc[id].addr;
	ring.desc[id].next = drv.free_head;
	drv.free_head = id;
	drv.num_free++;
	drv.last_used = last_used + 1;
	return token;
bad:
	broke(&drv.broken);
	return NULL;
}

bool used_empty(void)
{
	return drv.broken || __atomic_load_n(&ring.used->idx, __ATOMIC_ACQUIRE) == drv.last_used;
}

void disable_call(void)
{
}

bool enable_call(void)
{
	__atomic_store_n(&vring_used_event(&ring), drv.last_used, __ATOMIC_RELAXED);
	/* Full fence: used_event before our next look at used->idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return used_empty();
}

/* Device side. */

/* 1: a buffer was taken into @p; 0: none published; -1: the ring is broken. */
STEP int pop(struct popped *p)
{
	unsigned short avail_idx, last_avail = dev.last_avail;
	unsigned int head, len;
	unsigned short flags;
	unsigned long addr;
	struct vring_desc *d;

	if (dev.broken)
		return -1;
	avail_idx = __atomic_load_n(&ring.avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == last_avail)
		return 0;
	if ((unsigned short)(avail_idx - last_avail) > ring_size)
		goto bad;
	head = __atomic_load_n(&ring.avail->ring[last_avail & (ring_size - 1)], __ATOMIC_RELAXED);
	if (head >= ring_size)
		goto bad;
	/* Each field read once; only the copies are checked and used. */
	d = &ring.desc[head];
	flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT) || len == 0 ||
	    addr > dev.ram_size || len > dev.ram_size - addr || dev.in_flight[head])
		goto bad;
	dev.in_flight[head] = 1;
	dev.last_avail = last_avail + 1;
	p->head = head;
	p->len = len;
	p->write_len = flags & VRING_DESC_F_WRITE ? len : 0;
	p->host = (void *)(dev.ram_base + addr);
	return 1;
bad:
	broke(&dev.broken);
	return -1;
}

STEP bool push(const struct popped *p, unsigned int written)
{
	unsigned short used_idx = dev.used_idx;
	struct vring_used_elem *e;

	if (dev.broken)
		return false;
	if (p->head >= ring_size || !dev.in_flight[p->head] ||
	    __atomic_load_n(&ring.used->idx, __ATOMIC_RELAXED) != used_idx) {
		broke(&dev.broken);
		return false;
	}
	if (written > p->write_len)
		written = p->write_len;
	e = &ring.used->ring[used_idx & (ring_size - 1)];
	__atomic_store_n(&e->id, p->head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	/* Release: the entry (and the buffer's bytes) before the index. */
	__atomic_store_n(&ring.used->idx, ++used_idx, __ATOMIC_RELEASE);
	dev.used_idx = used_idx;
	dev.in_flight[p->head] = 0;
	if (used_idx == dev.signalled_used)
		dev.signalled_valid = false;
	return true;
}

bool use_buf(unsigned int *lenp, void **bufp)
{
	struct popped p;

	if (pop(&p) <= 0)
		return false;
	*lenp = p.len;
	*bufp = p.host;
	/* What ringtest's device reports as written: one byte less. */
	return push(&p, p.len - 1);
}

void call_used(void)
{
	unsigned short old = dev.signalled_used;
	bool valid = dev.signalled_valid;

	if (dev.broken)
		return;
	/* Full fence: our used->idx store before the used_event load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	dev.signalled_used = dev.used_idx;
	dev.signalled_valid = true;
	if (!valid || vring_need_event(__atomic_load_n(&vring_used_event(&ring), __ATOMIC_RELAXED),
				       dev.used_idx, old))
		call();
}

bool avail_empty(void)
{
	return dev.broken || __atomic_load_n(&ring.avail->idx, __ATOMIC_ACQUIRE) == dev.last_avail;
}

void disable_kick(void)
{
}

bool enable_kick(void)
{
	__atomic_store_n(&vring_avail_event(&ring), dev.last_avail, __ATOMIC_RELAXED);
	/* Full fence: avail_event before our next look at avail->idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_empty();
}
