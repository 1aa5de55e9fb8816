// SPDX-License-Identifier: GPL-2.0
/*
 * split_dev.c: the launcher's half of a virtio 1.x split virtqueue.
 *
 * The guest puts the three parts of the queue wherever it likes in its RAM
 * and tells us where (split_dev_init()).  It writes the first two; we write
 * the third, and it only reads it:
 *
 *   descriptor table        available ring          used ring
 *   (guest writes, 16-al.)  (guest writes, 2-al.)   (we write, 4-aligned)
 *   +--------------------+  +-------------------+   +----------------------+
 *   | [0] addr len       |  | flags NO_INTERRUPT|   | flags NO_NOTIFY      |
 *   |     NEXT   next=1 -+-+| idx: heads        |   | idx: entries used    |
 *   | [1] addr len    <--+-+|      published    |   | ring[0] = {id, len}  |
 *   |     WRITE          |  | ring[0] = 0       |   | ring[1] = {id, len}  |
 *   | [2] addr=T len=16n |  | ring[1] = 2       |   | ...                  |
 *   |     INDIRECT ------+--+-> T: a table of n |   | ring[size-1]         |
 *   | ...                |  |    descriptors,   |   | avail_event (u16)    |
 *   | [size-1]           |  |    chained from 0 |   +----------------------+
 *   +--------------------+  | ring[size-1]      |   the guest follows idx
 *   we copy and check       | used_event        |   with its last_used
 *   every descriptor        +-------------------+
 *                           we follow idx with last_avail
 *
 * A buffer is a chain of descriptors: each one with NEXT continues at
 * desc[next], the readable ones (the device reads what the guest filled)
 * come first and the WRITE ones after.  Instead of a chain in the table, a
 * descriptor with INDIRECT points at a table of its own, whose entries are
 * chained the same way starting at entry 0; it must be the last descriptor
 * of its chain, and a table cannot point at another.  The guest writes the
 * chain's first descriptor, its head, into avail->ring[avail->idx % size]
 * and then moves avail->idx on; we follow behind with last_avail.  When a
 * device model is done with a buffer we write {head, bytes written} into
 * used->ring[used_idx % size] and move used->idx on.
 *
 * The indices are free-running 16-bit numbers: the difference between the
 * published index and the follower's, in 16-bit arithmetic, is how many
 * entries wait, and since size divides 65536 the slot (index % size) runs
 * smoothly across the wrap from 65535 to 0.
 *
 * The guest owns the descriptor table and the available ring (and any
 * indirect table) and can change them at any moment, even while we read
 * them: another vCPU, or a malicious guest doing it on purpose.  So, as in
 * draft3_dev.c: read each guest value exactly once into a local, check the
 * local, use only the local.  If we checked desc->len and read it again
 * to build the iovec, the guest could change it in between and have a
 * device model write past the end of its RAM.
 *
 * The used ring is ours: the guest must never write it, and we check that
 * used->idx still holds what we last stored before each push.
 *
 * Any rule broken marks the queue broken with a message naming the queue
 * and the rule; after that nothing here reads or writes guest memory again.
 *
 * There is no I/O in this file: it turns the guest's ring into chains of
 * host iovecs (see chain.h) and back, and the device models do the I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split_dev.h"
#include "guest_access.h"

#define DESC_BYTES sizeof(struct vring_desc) /* 16, in every table */

_Static_assert(sizeof(struct vring_desc) == 16, "virtio descriptors are 16 bytes");
_Static_assert(sizeof(struct vring_used_elem) == 8, "virtio used elements are 8 bytes");

/* Record the first rule the guest broke; later ones are consequences. */
static void vfail(struct split_dev *q, const char *fmt, va_list ap)
{
	int n;

	if (q->broken)
		return;
	q->broken = true;
	n = snprintf(q->error, sizeof(q->error), "%s: ", q->name);
	if (n < 0 || (size_t)n >= sizeof(q->error))
		return;
	vsnprintf(q->error + n, sizeof(q->error) - n, fmt, ap);
}

__attribute__((format(printf, 2, 3))) static void fail(struct split_dev *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(q, fmt, ap);
	va_end(ap);
}

/*
 * The two event words sit just past the ends of the rings, where a driver
 * without VIRTIO_F_EVENT_IDX would not look: used_event after the last
 * avail->ring entry (the guest's), avail_event after the last used->ring
 * entry (ours).  split_dev_init() checked both lie inside RAM.
 */
static uint16_t *used_event(const struct split_dev *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *avail_event(const struct split_dev *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

/*
 * Host pointer to one part of the queue: @align-aligned and wholly inside
 * RAM, or NULL with the queue failed.
 */
static void *ring_part(struct split_dev *q, const char *what, uint64_t gpa, uint64_t bytes,
		       unsigned int align)
{
	void *p;

	if (gpa % align) {
		fail(q, "%s at 0x%llx is not %u-byte aligned", what, (unsigned long long)gpa,
		     align);
		return NULL;
	}
	p = guest_ptr(q->mem, gpa, bytes);
	if (!p)
		fail(q, "%s at 0x%llx (%llu bytes) is outside guest RAM", what,
		     (unsigned long long)gpa, (unsigned long long)bytes);
	return p;
}

bool split_dev_init(struct split_dev *q, const struct guest_mem *mem, const char *name,
		    uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		    bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->mem = mem;
	q->size = size;
	q->event_idx = event_idx;
	q->indirect = indirect;

	/*
	 * A power of two, so that index % size wraps smoothly when the
	 * 16-bit index does (size must divide 65536).
	 */
	if (size == 0 || size > SPLIT_MAX_SIZE || (size & (size - 1))) {
		fail(q, "queue size %u is not a power of two in 1..%u", size, SPLIT_MAX_SIZE);
		return false;
	}
	/*
	 * The sizes include the event words whether or not EVENT_IDX was
	 * negotiated: the driver lays them out either way (the spec's sizes
	 * are 6 + 2 * size and 6 + 8 * size), and it keeps one check here.
	 */
	q->desc = ring_part(q, "descriptor table", desc_gpa, (uint64_t)DESC_BYTES * size,
			    VRING_DESC_ALIGN_SIZE);
	if (q->desc)
		q->avail = ring_part(q, "available ring", avail_gpa, 6 + 2 * (uint64_t)size,
				     VRING_AVAIL_ALIGN_SIZE);
	if (q->avail)
		q->used = ring_part(q, "used ring", used_gpa, 6 + 8 * (uint64_t)size,
				    VRING_USED_ALIGN_SIZE);
	if (!q->used)
		return false;

	q->in_flight = calloc(size, sizeof(*q->in_flight));
	if (!q->in_flight) {
		fail(q, "out of memory");
		return false;
	}
	/*
	 * Every counter starts at 0, as the driver's do: split_drv_init()
	 * zeroes the ring.  (Parts that overlap each other are the guest's
	 * problem: it can only garble its own queue, never our memory.)
	 */
	return true;
}

void split_dev_destroy(struct split_dev *q)
{
	free(q->in_flight);
	q->in_flight = NULL;
	/* So a stray call afterwards fails instead of using freed memory. */
	q->broken = true;
}

/* Copy descriptor @i of the queue's table, each field read exactly once. */
static inline __attribute__((__always_inline__)) struct vring_desc read_desc(const struct split_dev *q,
									  uint32_t i)
{
	const struct vring_desc *g = &q->desc[i];
	struct vring_desc l = {
		.addr = GUEST_READ(q->mem, g->addr),
		.len = GUEST_READ(q->mem, g->len),
		.flags = GUEST_READ(q->mem, g->flags),
		.next = GUEST_READ(q->mem, g->next),
	};

	return l;
}

/*
 * Copy entry @i of an indirect table.  The spec asks no alignment of these
 * tables.  An entry aligned for its 64-bit address (every table a driver
 * allocates) is read field by field, as the queue's own table is: atomic
 * loads need aligned objects.  Any other entry is copied as bytes
 * (GUEST_COPY, guest_access.h).  Either way the copy is, as everywhere
 * else, the one value we check and use.
 */
static struct vring_desc read_indirect(const struct split_dev *q, const uint8_t __guest *table,
				       uint32_t i)
{
	const uint8_t __guest *entry = table + (size_t)i * DESC_BYTES;
	struct vring_desc l;

	if (((uintptr_t)entry & 7) == 0) {
		const struct vring_desc __guest *g = (const struct vring_desc __guest *)entry;

		l.addr = GUEST_READ(q->mem, g->addr);
		l.len = GUEST_READ(q->mem, g->len);
		l.flags = GUEST_READ(q->mem, g->flags);
		l.next = GUEST_READ(q->mem, g->next);
		return l;
	}
	GUEST_COPY(q->mem, &l, entry, sizeof(l));
	return l;
}

/* Where walk_chain() is reading descriptors from. */
struct walk {
	const uint8_t *table; /* NULL: the queue's own table */
	uint32_t entries;     /* descriptors in it */
	const char *what;     /* how errors name its descriptors */
};

/*
 * Switch the walk to the indirect table descriptor @i (copied into @d)
 * points at.  Returns false if the guest broke a rule doing so.
 */
static bool enter_indirect(struct split_dev *q, struct walk *w, uint32_t i,
			   const struct vring_desc *d)
{
	const uint8_t *table;

	/* Only one table per chain: it cannot lead on to another. */
	if (w->table) {
		fail(q, "indirect descriptor %u: nested INDIRECT table", i);
		return false;
	}
	if (!q->indirect) {
		fail(q, "descriptor %u: INDIRECT, but VIRTIO_F_INDIRECT_DESC was not negotiated",
		     i);
		return false;
	}
	/*
	 * The table replaces the rest of the chain: there is nowhere for NEXT
	 * to lead that the table does not already describe.
	 */
	if (d->flags & VRING_DESC_F_NEXT) {
		fail(q, "descriptor %u: INDIRECT together with NEXT", i);
		return false;
	}
	if (d->len == 0 || d->len % DESC_BYTES) {
		fail(q, "descriptor %u: indirect table length %u is zero or not a multiple of %zu",
		     i, d->len, DESC_BYTES);
		return false;
	}
	table = guest_ptr(q->mem, d->addr, d->len);
	if (!table) {
		fail(q, "descriptor %u: indirect table at 0x%llx len %u is outside guest RAM", i,
		     (unsigned long long)d->addr, d->len);
		return false;
	}
	/* WRITE on the descriptor naming a table means nothing: ignored. */
	*w = (struct walk){ table, d->len / DESC_BYTES, "indirect descriptor" };
	return true;
}

/*
 * Walk the chain starting at @head (already checked to be in range) and
 * fill @c with one segment per data descriptor.  Returns 0, or -1 if a
 * descriptor broke a rule.
 *
 * This runs once per buffer, so it keeps its counts in locals (the
 * compiler cannot keep c's fields in registers across the stores into
 * c->seg[]) and writes the chain's header once at the end; every rule is
 * checked on the one copy of each descriptor, where it is read.
 */
static __attribute__((__noinline__)) int walk_chain(struct split_dev *q, uint32_t head,
						 struct chain *c)
{
	struct walk w = { NULL, q->size, "descriptor" };
	uint32_t i = head, count = 0;
	unsigned int nseg = 0, nread = 0, nwrite = 0, ndesc = 0;
	unsigned int indirect_from = CHAIN_MAX_SEGS;
	uint64_t read_len = 0, write_len = 0;
	struct vring_desc d;
	struct iovec *iov;

	for (;;) {
		/*
		 * A chain can never need more descriptors than its table
		 * holds: about to visit one more means some descriptor was
		 * visited twice, i.e. the guest linked a loop.  Counting is
		 * all we need to be sure we stop.
		 */
		if (count == w.entries) {
			if (w.table)
				fail(q, "indirect table of head %u loops or exceeds its %u entries",
				     head, w.entries);
			else
				fail(q, "chain from head %u loops or exceeds %u descriptors", head,
				     w.entries);
			return -1;
		}
		d = w.table ? read_indirect(q, w.table, i) : read_desc(q, i);
		count++;
		ndesc++;

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!enter_indirect(q, &w, i, &d))
				return -1;
			indirect_from = nseg; /* for the trace */
			i = 0;
			count = 0;
			continue;
		}
		/*
		 * A zero-length descriptor moves no data, so no driver needs
		 * one; it would hand a device model an empty iovec, which a
		 * loop counting progress in bytes can spin on; and refusing
		 * it means every segment names at least one byte of RAM.
		 */
		if (d.len == 0) {
			fail(q, "%s %u: zero length", w.what, i);
			return -1;
		}
		/*
		 * chain.seg[] holds CHAIN_MAX_SEGS, far more than any device
		 * needs (the spec lets a device limit chains).  Since every
		 * data descriptor takes a segment, this also bounds the walk
		 * of an indirect table, which may claim up to 2^28 entries.
		 */
		if (nseg == CHAIN_MAX_SEGS) {
			fail(q, "chain from head %u needs more than %u segments", head,
			     CHAIN_MAX_SEGS);
			return -1;
		}
		iov = &c->seg[nseg];
		/* guest_iov() checks addr + len without letting it wrap. */
		if (!guest_iov(q->mem, d.addr, d.len, iov)) {
			fail(q, "%s %u: addr 0x%llx len %u is outside guest RAM", w.what, i,
			     (unsigned long long)d.addr, d.len);
			return -1;
		}
		nseg++;
		/*
		 * The spec has drivers put writable descriptors after readable
		 * ones, and device models rely on seg[] being split in two.
		 */
		if (d.flags & VRING_DESC_F_WRITE) {
			nwrite++;
			write_len += d.len;
		} else if (!nwrite) {
			nread++;
			read_len += d.len;
		} else {
			fail(q, "%s %u: readable after a writable descriptor", w.what, i);
			return -1;
		}
		/*
		 * The used ring reports bytes written in 32 bits, and the spec
		 * forbids chains of 2^32 bytes or more.  Each sum was at most
		 * UINT32_MAX before this descriptor's 32-bit length was added,
		 * so neither can have overflowed 64 bits.
		 */
		if (read_len + write_len > UINT32_MAX) {
			fail(q, "chain from head %u is longer than %u bytes", head, UINT32_MAX);
			return -1;
		}

		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= w.entries) {
			fail(q, "%s %u: next %u out of range (%u)", w.what, i, d.next, w.entries);
			return -1;
		}
		i = d.next;
	}
	c->nread = nread;
	c->nwrite = nwrite;
	c->read_len = read_len;
	c->write_len = write_len;
	c->ndesc = ndesc;
	c->indirect_from = indirect_from;
	c->in_id = CHAIN_NO_ID;
	return 0;
}

/*
 * The common case as a straight line: the head is the whole chain, one
 * direct descriptor of some bytes, in RAM.  True if it was, and @c holds
 * it.  Anything else (NEXT, INDIRECT, zero length, outside RAM, RAM in
 * several regions) is left to walk_chain(), which reads the head again
 * and names the broken rule, if one was: a guest that changed it
 * meanwhile gets its new value checked, and nothing read here is used.
 */
static bool one_segment(struct split_dev *q, uint32_t head, struct chain *c)
{
	/* Not read_desc(): a lone descriptor's `next` means nothing. */
	const struct vring_desc *g = &q->desc[head];
	uint16_t flags = GUEST_READ(q->mem, g->flags);
	uint64_t addr = GUEST_READ(q->mem, g->addr);
	uint32_t len = GUEST_READ(q->mem, g->len);

	if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT) || len == 0 ||
	    !guest_iov_direct(q->mem, addr, len, &c->seg[0]))
		return false;
	chain_one_segment(c, len, flags & VRING_DESC_F_WRITE);
	return true;
}

/*
 * A pop that yields no buffer (@r: 0 for none, -1 for a broken queue)
 * leaves @c empty, so that a caller's stale chain is never mistaken for a
 * new one.  Only these paths pay for it: a chain built gets its whole
 * header written anyway.
 */
static int no_chain(struct chain *c, int r)
{
	chain_reset(c);
	return r;
}

/* The guest broke a rule in a pop: say which, and yield nothing. */
static __attribute__((__noinline__, __cold__, __format__(printf, 3, 4))) int
pop_fail(struct split_dev *q, struct chain *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(q, fmt, ap);
	va_end(ap);
	return no_chain(c, -1);
}

/* The buffer at @head is the device's now. */
static int taken(struct split_dev *q, uint16_t head, struct chain *c)
{
	q->in_flight[head] = 1;
	q->last_avail++;
	c->id = head;
	return 1;
}

/* Handing us the same buffer twice would have two requests share it. */
static __attribute__((__noinline__, __cold__)) int head_in_flight(struct split_dev *q,
								  uint16_t head, struct chain *c)
{
	return pop_fail(q, c, "head %u is already in flight", head);
}

/* pop_published() for any chain but a lone direct descriptor. */
static __attribute__((__noinline__)) int pop_walk(struct split_dev *q, uint16_t head,
					      struct chain *c)
{
	if (q->in_flight[head])
		return head_in_flight(q, head, c);
	if (walk_chain(q, head, c) < 0)
		return no_chain(c, -1);
	return taken(q, head, c);
}

/*
 * split_dev_pop() once the guest has published something: take it.  Every
 * way out but the one-segment case is a tail call, so that this path
 * saves no registers and builds no frame.
 */
static __attribute__((__noinline__)) int pop_published(struct split_dev *q, struct chain *c,
						   uint16_t avail_idx)
{
	uint32_t head;

	/*
	 * The guest can have at most size buffers outstanding (each takes at
	 * least one descriptor), so the index is at most size ahead of us.
	 * 16-bit subtraction makes an index that moved back look enormous,
	 * so the same test catches that too.
	 */
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return pop_fail(q, c,
				"avail index jumped from %u to %u (more than %u ahead, or moved back)",
				q->last_avail, avail_idx, q->size);

	head = GUEST_READ(q->mem, q->avail->ring[q->last_avail & (q->size - 1)]);
	if (head >= q->size)
		return pop_fail(q, c, "head descriptor %u out of range (%u)", head, q->size);
	if (!one_segment(q, head, c))
		return pop_walk(q, head, c);
	/*
	 * Here, not before one_segment(): with the check after it, gcc has
	 * few enough values live that this path builds no frame.
	 */
	if (q->in_flight[head])
		return head_in_flight(q, head, c);
	return taken(q, head, c);
}

/*
 * Looking and finding nothing is the commonest call of all (every device
 * loop ends with one), so it is kept to a load and a compare, with the
 * taking in a function of its own.
 */
int split_dev_pop(struct split_dev *q, struct chain *c)
{
	uint16_t avail_idx;

	if (q->broken)
		return no_chain(c, -1);
	/*
	 * Acquire: pairs with the release store of avail->idx in
	 * split_drv_publish().  The ring entries and descriptors the guest
	 * wrote before publishing are visible to the reads that follow.  We
	 * read the index once and keep the copy.
	 */
	avail_idx = GUEST_READ_ACQUIRE(q->mem, q->avail->idx);
	if (avail_idx == q->last_avail)
		return no_chain(c, 0);
	return pop_published(q, c, avail_idx);
}

/* The device model broke a rule, or the guest did, in a push: say which. */
static __attribute__((__noinline__, __cold__, __format__(printf, 2, 3))) bool
push_fail(struct split_dev *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(q, fmt, ap);
	va_end(ap);
	return false;
}

bool split_dev_push(struct split_dev *q, const struct chain *c, uint32_t written)
{
	/*
	 * Locals, not q's fields: the compiler cannot tell our stores into
	 * the used ring from stores into *q, and would load each field again
	 * after every one of them.
	 */
	struct vring_used *used = q->used;
	uint16_t used_idx = q->used_idx;
	uint32_t id = c->id;
	struct vring_used_elem *e;
	uint16_t seen;

	if (q->broken)
		return false;
	/* A head we never popped: the device model is confused. */
	if (id >= q->size || !q->in_flight[id])
		return push_fail(q, "returning head %u, which is not in flight", id);
	/* Only we write used->idx; the guest only reads it. */
	seen = GUEST_READ(q->mem, used->idx);
	if (seen != used_idx)
		return push_fail(q, "guest wrote to the used index (expected %u, found %u)", used_idx,
				 seen);
	/* Claiming more than the buffer holds would have the guest over-read. */
	if (written > c->write_len)
		written = (uint32_t)c->write_len;

	e = &used->ring[used_idx & (q->size - 1)];
	GUEST_WRITE(q->mem, e->id, id);
	GUEST_WRITE(q->mem, e->len, written);
	/*
	 * Release: pairs with the acquire load of used->idx in
	 * split_drv_get_used().  The entry above, and every byte the device
	 * model wrote into the buffer before calling us, are visible to the
	 * guest before it sees the new index.
	 */
	used_idx++;
	GUEST_WRITE_RELEASE(q->mem, used->idx, used_idx);
	q->used_idx = used_idx;
	q->in_flight[id] = 0;

	/*
	 * 65536 pushes since the last signal decision bring used_idx back
	 * round to signalled_used, and vring_need_event() would see no
	 * progress at all.  Forget the old decision point instead, so the
	 * next one signals (as vhost does).
	 */
	if (used_idx == q->signalled_used)
		q->signalled_valid = false;
	return true;
}

void split_dev_disable_notify(struct split_dev *q)
{
	if (q->broken)
		return;
	/*
	 * With EVENT_IDX there is nothing to write: avail_event stays where
	 * the last enable put it, and once the guest publishes past it, it
	 * stops notifying by itself.  No ordering either way: a guest seeing
	 * the change late merely notifies when it need not have.
	 */
	if (!q->event_idx)
		GUEST_WRITE(q->mem, q->used->flags, VRING_USED_F_NO_NOTIFY);
}

bool split_dev_enable_notify(struct split_dev *q)
{
	if (q->broken)
		return false;
	/*
	 * The flags word and avail_event are ours: we store whole values and
	 * never read back what the guest might have scribbled there.  With
	 * EVENT_IDX, "notify me when you publish entry last_avail", i.e. the
	 * very next buffer.
	 */
	if (q->event_idx)
		GUEST_WRITE(q->mem, *avail_event(q), q->last_avail);
	else
		GUEST_WRITE(q->mem, q->used->flags, 0);
	/*
	 * Full fence: orders the store above before the avail->idx load in
	 * split_dev_has_avail().  It pairs with the full fence in
	 * split_drv_publish() between the guest's avail->idx store and its
	 * load of used->flags / avail_event.  With a fence on both sides at
	 * least one of us sees the other's store: either the guest sees the
	 * request and notifies, or we see its new avail->idx here and pop
	 * again.  Without it both could read the old values, and a buffer
	 * would wait with both sides asleep.
	 */
	guest_fence();
	return split_dev_has_avail(q);
}

bool split_dev_should_signal(struct split_dev *q)
{
	uint16_t event, old;
	bool valid;

	if (q->broken)
		return false;
	/*
	 * Full fence: orders our used->idx stores (split_dev_push()) before
	 * the loads of avail->flags / used_event below.  It pairs with the
	 * full fence in split_drv_enable_cb() (and in split_drv_get_used()
	 * after it moves used_event) between the guest's store of the flag or
	 * used_event and its load of used->idx: either we see the request
	 * and signal, or the guest sees our used entries when it looks.
	 */
	guest_fence();

	old = q->signalled_used;
	valid = q->signalled_valid;
	q->signalled_used = q->used_idx;
	q->signalled_valid = true;

	/* With EVENT_IDX the device must ignore the flags. */
	if (!q->event_idx)
		return !(GUEST_READ(q->mem, q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);

	event = GUEST_READ(q->mem, *used_event(q));
	/*
	 * Did used->idx pass used_event + 1 since the last decision, i.e. is
	 * used_event in [old, used_idx)?  Before any decision we do not know
	 * where we stood, and a spurious signal is harmless while a lost one
	 * is not: signal.
	 */
	if (!valid)
		return true;
	return vring_need_event(event, q->used_idx, old);
}

bool split_dev_has_avail(const struct split_dev *q)
{
	if (q->broken)
		return false;
	/* Acquire, like split_dev_pop(): a caller that sees true goes on to pop. */
	return GUEST_READ_ACQUIRE(q->mem, q->avail->idx) != q->last_avail;
}
