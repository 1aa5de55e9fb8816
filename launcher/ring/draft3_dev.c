// SPDX-License-Identifier: GPL-2.0
/*
 * draft3_dev.c: the launcher's half of a draft-III device.
 *
 * The guest set aside six pages for the device, starting at the page frame
 * it calls the device's key.  Half of them are the *in* queue (buffers we
 * fill), half the *out* queue (buffers we read):
 *
 *   key+0 in.desc    key+1 in.avail      key+2 in.used
 *   key+3 out.desc   key+4 out.avail     key+5 out.used
 *
 *   desc page                avail page               used page
 *   (guest writes)           (guest writes)           (we write)
 *   +--------------------+   +--------------------+   +---------------------+
 *   | [0] pfn len offset |   | idx: heads         |   | idx: entries        |
 *   |     flags  next=1 -+-+ |      published     |   |      used           |
 *   | [1] ...        <---+-+ | ring[0] = head     |   | ring[0] = {id, len} |
 *   | ...                |   | ...                |   | ...                 |
 *   | [169]              |   | ring[169]          |   | ring[169]           |
 *   |                    |   | flags: NO_SIGNAL   |   | flags: NO_NOTIFY    |
 *   +--------------------+   +--------------------+   +---------------------+
 *   we copy and check        we follow idx with       the guest follows idx
 *   every descriptor         last_avail               with its last_used
 *
 * A buffer is a chain of descriptors: the head has F_HEAD, and each one
 * with F_NEXT continues at desc[next].  The guest writes the head into
 * avail->ring[avail->idx % 170] and then moves avail->idx on; we follow
 * behind it with our own counter, last_avail.  When we have finished with
 * a buffer we write {head, bytes written} into used->ring[used_idx % 170]
 * and move used->idx on, which the guest follows with its own counter.
 * Both counters are free-running 32-bit numbers: the difference between
 * the published index and the follower's is how many entries are waiting.
 *
 * The guest owns the desc and avail pages and can change them at any
 * moment, even while we look at them (another vCPU, or a malicious guest
 * doing it on purpose).  So the rule throughout this file is: read each
 * guest value exactly once into a local, check the local, and use only the
 * local.  The reads are relaxed atomic loads (READ_GUEST) so the compiler
 * can neither read the value twice nor tear it.  If we checked desc->len
 * and then read it again to build the iovec, the guest could change it in
 * between and have us write past the end of its RAM.
 *
 * The used page is ours: the guest must never write it, and we check that
 * used->idx still holds what we last stored before each push.
 *
 * Any rule broken marks the device broken with a message naming the queue;
 * after that nothing here reads or writes guest memory again.  That is
 * friendlier than killing the guest, and the launcher can report it.
 *
 * There is no I/O in this file: it turns guest rings into chains of host
 * iovecs (see chain.h) and back, and the device models do the I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "draft3_dev.h"
#include "guest_access.h"

#define NDESCS	   ((uint32_t)D3_NUM_DESCS)
#define PAGE_SHIFT 12

_Static_assert(D3_PAGE_SIZE == 1 << PAGE_SHIFT, "draft-III pages are 4096 bytes");

/* Record the first rule the guest broke; later ones are consequences. */
__attribute__((format(printf, 3, 4))) static void
fail(struct d3_dev *d, const struct d3_dev_queue *q, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->broken)
		return;
	d->broken = true;
	n = snprintf(d->error, sizeof(d->error), "%s queue: ", q->name);
	if (n < 0 || (size_t)n >= sizeof(d->error))
		return;
	va_start(ap, fmt);
	vsnprintf(d->error + n, sizeof(d->error) - n, fmt, ap);
	va_end(ap);
}

static void setup_queue(struct d3_dev_queue *q, const char *name, uint8_t *pages, enum d3_page desc,
			enum d3_page avail, enum d3_page used)
{
	q->name = name;
	q->desc = (struct d3_desc *)(pages + desc * D3_PAGE_SIZE);
	q->avail = (struct d3_avail *)(pages + avail * D3_PAGE_SIZE);
	q->used = (struct d3_used *)(pages + used * D3_PAGE_SIZE);
}

bool d3_dev_init(struct d3_dev *d, const struct guest_mem *mem, uint64_t key)
{
	uint8_t *pages = NULL;

	memset(d, 0, sizeof(*d));
	d->mem = mem;

	/* key << 12 must not lose bits, and all six pages must be RAM. */
	if (key <= UINT64_MAX >> PAGE_SHIFT)
		pages = guest_ptr(mem, key << PAGE_SHIFT, (uint64_t)D3_NUM_PAGES * D3_PAGE_SIZE);
	if (!pages) {
		d->broken = true;
		snprintf(d->error, sizeof(d->error),
			 "device pages at pfn 0x%llx are outside guest RAM",
			 (unsigned long long)key);
		return false;
	}
	setup_queue(&d->in, "in", pages, D3_IN_DESC, D3_IN_AVAIL, D3_IN_USED);
	setup_queue(&d->out, "out", pages, D3_OUT_DESC, D3_OUT_AVAIL, D3_OUT_USED);
	/*
	 * Both counters start at 0, as the guest's do: d3_drv_init() zeroes
	 * the pages.  If the guest published before we got here, those
	 * buffers are simply waiting at avail->ring[0...].
	 */
	return true;
}

/*
 * Take the next head the guest made available on @q: returns 1 and sets
 * *head, 0 if there is none, -1 if the guest broke a rule.  The head is
 * then "in flight": it is ours until we push it back, and the guest may
 * not make it available again before that.
 *
 * Only the head is checked here; the rest of the chain is read when a
 * device model takes the buffer (walk_chain()), so that what we check is
 * what we use.
 */
static int take_head(struct d3_dev *d, struct d3_dev_queue *q, uint32_t *head)
{
	uint32_t avail_idx, h;
	uint16_t flags;

	/*
	 * Acquire: pairs with the release store of avail->idx in
	 * d3_drv_publish().  Everything the guest wrote before publishing
	 * (the ring entries, the descriptors, F_HEAD) is visible to the reads
	 * below.  We read the index once and keep the copy.
	 */
	avail_idx = GUEST_READ_ACQUIRE(d->mem, q->avail->idx);

	/*
	 * The guest can have at most 170 heads outstanding (each takes at
	 * least one descriptor), so the index can be at most 170 ahead of us.
	 * Unsigned subtraction makes an index that moved backwards look
	 * enormous, so the same test catches that too.
	 */
	if (avail_idx - q->last_avail > NDESCS) {
		fail(d, q, "avail index jumped from %u to %u (more than %u ahead, or moved back)",
		     q->last_avail, avail_idx, NDESCS);
		return -1;
	}
	if (avail_idx == q->last_avail)
		return 0;

	h = GUEST_READ(d->mem, q->avail->ring[q->last_avail % NDESCS]);
	if (h >= NDESCS) {
		fail(d, q, "head %u out of range (%u)", h, NDESCS);
		return -1;
	}
	flags = GUEST_READ(d->mem, q->desc[h].flags);
	if (!(flags & D3_DESC_F_HEAD)) {
		fail(d, q, "head %u is not marked F_HEAD", h);
		return -1;
	}
	/* Handing us the same buffer twice would have two requests share it. */
	if (q->in_flight[h]) {
		fail(d, q, "head %u is already in flight", h);
		return -1;
	}
	q->in_flight[h] = 1;
	q->last_avail++;
	*head = h;
	return 1;
}

/* Copy descriptor @i out of guest memory, each field read exactly once. */
static inline __attribute__((__always_inline__)) struct d3_desc
read_desc(const struct d3_dev *d, const struct d3_dev_queue *q, uint32_t i)
{
	const struct d3_desc __guest *g = &q->desc[i];
	struct d3_desc l = {
		.pfn = GUEST_READ(d->mem, g->pfn),
		.len = GUEST_READ(d->mem, g->len),
		.offset = GUEST_READ(d->mem, g->offset),
		.flags = GUEST_READ(d->mem, g->flags),
		.next = GUEST_READ(d->mem, g->next),
	};

	return l;
}

/*
 * Walk the chain starting at @head (already taken off the avail ring) and
 * append one segment per descriptor to @c, after the segments it already
 * has: writable ones for the in queue, readable ones for the out queue.
 * Returns 0, or -1 if a descriptor broke a rule.
 */
static int walk_chain(struct d3_dev *d, struct d3_dev_queue *q, uint32_t head, struct chain *c,
		      bool writable)
{
	unsigned int nseg = c->nread + c->nwrite;
	uint32_t i = head, ndesc = 0;
	uint64_t total = 0;
	struct d3_desc desc;
	struct iovec iov;

	for (;;) {
		/*
		 * A chain cannot have more descriptors than the table: if we
		 * are about to visit the 171st, some descriptor has been
		 * visited twice, i.e. the guest linked the chain into a loop.
		 * Counting is all we need to guarantee we stop.
		 */
		if (ndesc == NDESCS) {
			fail(d, q, "chain from head %u loops or exceeds %u descriptors", head,
			     NDESCS);
			return -1;
		}
		desc = read_desc(d, q, i);
		ndesc++;

		/*
		 * The head was checked in take_head(), but that was another
		 * read; this copy is the one we use, so check it again.
		 * (F_HEAD in the middle of a chain is not our business: a
		 * guest that links one buffer into another only corrupts its
		 * own data.)
		 */
		if (i == head && !(desc.flags & D3_DESC_F_HEAD)) {
			fail(d, q, "head %u is not marked F_HEAD", head);
			return -1;
		}
		if (desc.offset >= D3_PAGE_SIZE) {
			fail(d, q, "descriptor %u: offset %u is not inside a %u-byte page", i,
			     desc.offset, D3_PAGE_SIZE);
			return -1;
		}
		/*
		 * A zero-length descriptor is a protocol error.  It moves no
		 * data, so no driver has a reason to send one (the 2007
		 * drivers never did); it would give a device model an empty
		 * iovec, which a loop counting progress in bytes can spin on;
		 * and refusing it means every segment we hand out names at
		 * least one byte we checked is guest RAM.
		 */
		if (desc.len == 0) {
			fail(d, q, "descriptor %u: zero length", i);
			return -1;
		}
		/*
		 * The address is pfn * 4096 + offset.  A pfn above 2^52 - 1
		 * would wrap when shifted (2^52 + 1 becomes page 1, inside
		 * RAM), so refuse it before shifting.  Below that the sum
		 * cannot wrap (offset < 4096), and guest_iov() checks
		 * address + len without overflow.
		 */
		if (desc.pfn > UINT64_MAX >> PAGE_SHIFT ||
		    !guest_iov(d->mem, (desc.pfn << PAGE_SHIFT) + desc.offset, desc.len, &iov)) {
			fail(d, q,
			     "descriptor %u: pfn 0x%llx offset %u len %llu is outside guest RAM", i,
			     (unsigned long long)desc.pfn, desc.offset,
			     (unsigned long long)desc.len);
			return -1;
		}
		if (nseg == CHAIN_MAX_SEGS) {
			fail(d, q, "chain from head %u needs more than %u segments", head,
			     CHAIN_MAX_SEGS);
			return -1;
		}
		/*
		 * The used ring reports what the device wrote in 32 bits, so
		 * a buffer of 4 GiB or more (lengths are 64-bit here, and may
		 * name the same RAM again and again) could not be answered
		 * truthfully: refuse it, as virtio 1.x does.  desc.len is at
		 * most the RAM size and total <= UINT32_MAX: no overflow.
		 */
		if (total + desc.len > UINT32_MAX) {
			fail(d, q, "chain from head %u is longer than %u bytes", head, UINT32_MAX);
			return -1;
		}
		c->seg[nseg++] = iov;
		total += desc.len;

		if (!(desc.flags & D3_DESC_F_NEXT))
			break;
		if (desc.next >= NDESCS) {
			fail(d, q, "descriptor %u: next %u out of range (%u)", i, desc.next,
			     NDESCS);
			return -1;
		}
		i = desc.next;
	}

	if (writable) {
		c->nwrite += ndesc;
		c->write_len += total;
	} else {
		c->nread += ndesc;
		c->read_len += total;
	}
	c->ndesc += ndesc;
	return 0;
}

/*
 * The common out-queue buffer as a straight line: one descriptor, marked
 * F_HEAD and not F_NEXT, of some bytes (at most 2^32 - 1) inside a page
 * and inside RAM, guest RAM being one mapping.  Reads the descriptor once,
 * and only if all of that holds takes the head (as take_head() does after
 * its checks) and fills @c; otherwise returns false having changed
 * nothing, and the long way (take_head() and walk_chain()) reads it all
 * again and names the broken rule, if one was.
 */
static bool take_one(struct d3_dev *d, struct d3_dev_queue *q, uint32_t h, struct chain *c)
{
	/* Not read_desc(): a lone descriptor's `next` means nothing. */
	const struct d3_desc __guest *g = &q->desc[h];
	uint64_t pfn = GUEST_READ(d->mem, g->pfn);
	uint64_t len = GUEST_READ(d->mem, g->len);
	uint16_t offset = GUEST_READ(d->mem, g->offset);
	uint16_t flags = GUEST_READ(d->mem, g->flags);
	uint64_t gpa = (pfn << PAGE_SHIFT) + offset;

	if ((flags & (D3_DESC_F_HEAD | D3_DESC_F_NEXT)) != D3_DESC_F_HEAD ||
	    offset >= D3_PAGE_SIZE || len == 0 || len > UINT32_MAX ||
	    pfn > UINT64_MAX >> PAGE_SHIFT || !guest_iov_direct(d->mem, gpa, len, &c->seg[0]))
		return false;
	/*
	 * Last, after the straight line's other checks: in this order gcc
	 * keeps few enough values live that the path builds no frame.
	 */
	if (q->in_flight[h])
		return false;
	q->in_flight[h] = 1;
	q->last_avail++;
	/* The out queue's buffers are readable; len <= UINT32_MAX, checked. */
	chain_one_segment(c, (uint32_t)len, false);
	c->id = h;
	return true;
}

/* d3_dev_pop_out() the long way: every rule, with its message. */
static __attribute__((__noinline__)) int pop_out_walk(struct d3_dev *d, struct chain *c)
{
	uint32_t head;
	int r;

	chain_reset(c);
	r = take_head(d, &d->out, &head);
	if (r <= 0)
		return r;
	if (walk_chain(d, &d->out, head, c, false) < 0) {
		chain_reset(c);
		return -1;
	}
	c->id = head;
	return 1;
}

/* d3_dev_pop_out() once the guest has published something on the out queue. */
static __attribute__((__noinline__)) int pop_out_published(struct d3_dev *d, struct chain *c,
							   uint32_t avail_idx)
{
	struct d3_dev_queue *q = &d->out;
	uint32_t h;

	/* At most 170 ahead (take_head() says why); it fails with the message. */
	if (avail_idx - q->last_avail <= NDESCS) {
		h = GUEST_READ(d->mem, q->avail->ring[q->last_avail % NDESCS]);
		if (h < NDESCS && take_one(d, q, h, c))
			return 1;
	}
	return pop_out_walk(d, c);
}

/*
 * Finding nothing ends every device loop, so it is a load and a compare;
 * taking is pop_out_published()'s.  A pop that yields no buffer leaves @c
 * empty.
 */
int d3_dev_pop_out(struct d3_dev *d, struct chain *c)
{
	uint32_t avail_idx;

	if (d->broken) {
		chain_reset(c);
		return -1;
	}
	/* Acquire: as in take_head(), which reads this index again if it must. */
	avail_idx = GUEST_READ_ACQUIRE(d->mem, d->out.avail->idx);
	if (avail_idx == d->out.last_avail) {
		chain_reset(c);
		return 0;
	}
	return pop_out_published(d, c, avail_idx);
}

/* Remove posted[i], keeping the rest oldest first. */
static uint32_t unpost(struct d3_dev *d, unsigned int i)
{
	uint32_t head = d->posted[i];

	memmove(&d->posted[i], &d->posted[i + 1], (d->nposted - i - 1) * sizeof(d->posted[0]));
	d->nposted--;
	return head;
}

int d3_dev_pop_in(struct d3_dev *d, struct chain *c)
{
	uint32_t head;
	int r;

	if (d->broken)
		return -1;
	chain_reset(c);
	/*
	 * Buffers a d3_dev_join() already took off the avail ring (looking
	 * for the one a request named) came before anything still there.
	 */
	if (d->nposted) {
		head = unpost(d, 0);
	} else {
		r = take_head(d, &d->in, &head);
		if (r <= 0)
			return r;
	}
	if (walk_chain(d, &d->in, head, c, true) < 0)
		return -1;
	c->in_id = head;
	return 1;
}

/* Where @id sits in d->posted, or -1. */
static int find_posted(const struct d3_dev *d, uint32_t id)
{
	for (unsigned int i = 0; i < d->nposted; i++)
		if (d->posted[i] == id)
			return (int)i;
	return -1;
}

int d3_dev_join(struct d3_dev *d, struct chain *c, uint64_t id)
{
	uint32_t head;
	int i, r;

	if (d->broken)
		return -1;
	if (id >= NDESCS) {
		fail(d, &d->in, "in buffer id %llu out of range (%u)", (unsigned long long)id,
		     NDESCS);
		return -1;
	}
	/* One in buffer per request: a second join is a device-model bug. */
	if (c->in_id != CHAIN_NO_ID) {
		fail(d, &d->in, "request already has in buffer %u, cannot join %llu", c->in_id,
		     (unsigned long long)id);
		return -1;
	}

	i = find_posted(d, (uint32_t)id);
	if (i < 0) {
		/*
		 * The guest publishes the in buffer before the out buffer
		 * that names it, so if it is anywhere it is on the in ring
		 * now.  Take everything newly published there: the ones not
		 * named by this request wait in d->posted for their own.
		 * There is always room: everything in d->posted is a distinct
		 * head in flight, and there are only 170 heads.
		 */
		while ((r = take_head(d, &d->in, &head)) > 0)
			d->posted[d->nposted++] = head;
		if (r < 0)
			return -1;
		i = find_posted(d, (uint32_t)id);
	}
	if (i < 0) {
		if (d->in.in_flight[id])
			fail(d, &d->in, "block request names in buffer %u, which is already in use",
			     (uint32_t)id);
		else
			fail(d, &d->in,
			     "block request names in buffer %u, which the guest has not made available",
			     (uint32_t)id);
		return -1;
	}

	head = unpost(d, (unsigned int)i);
	if (walk_chain(d, &d->in, head, c, true) < 0)
		return -1;
	c->in_id = head;
	return 1;
}

/*
 * Before giving @head back on @q: it must be one we took (else the device
 * model is confused), and the guest must not have written our used index.
 */
static bool can_push(struct d3_dev *d, struct d3_dev_queue *q, uint32_t head)
{
	uint32_t seen;

	if (head >= NDESCS || !q->in_flight[head]) {
		fail(d, q, "returning head %u, which is not in flight", head);
		return false;
	}
	/* Only we write used->idx; the guest only reads it. */
	seen = GUEST_READ(d->mem, q->used->idx);
	if (seen != q->used_idx) {
		fail(d, q, "guest wrote to the used index (expected %u, found %u)", q->used_idx,
		     seen);
		return false;
	}
	return true;
}

static void put_used(struct d3_dev *d, struct d3_dev_queue *q, uint32_t head, uint32_t len)
{
	/* Locals: our stores into the used page would make q's fields reload. */
	struct d3_used __guest *used = q->used;
	uint32_t used_idx = q->used_idx;
	struct d3_used_elem __guest *e = &used->ring[used_idx % NDESCS];

	GUEST_WRITE(d->mem, e->id, head);
	GUEST_WRITE(d->mem, e->len, len);
	/*
	 * Release: pairs with the acquire load of used->idx in
	 * d3_drv_get_used().  The entry above, and every byte the device
	 * model wrote into the buffer before calling d3_dev_push(), are
	 * visible to the guest before it sees the new index.
	 */
	GUEST_WRITE_RELEASE(d->mem, used->idx, used_idx + 1);
	q->used_idx = used_idx + 1;
	q->in_flight[head] = 0;
}

/* d3_dev_push() of a buffer with both halves, or only an in half. */
static __attribute__((__noinline__)) bool push_halves(struct d3_dev *d, struct chain *c,
						      uint32_t written)
{
	bool out = c->id != CHAIN_NO_ID, in = c->in_id != CHAIN_NO_ID;

	/* Check both halves before writing either, so a failure writes nothing. */
	if (out && !can_push(d, &d->out, c->id))
		return false;
	if (in && !can_push(d, &d->in, c->in_id))
		return false;

	/*
	 * Draft III wants both halves back: the guest may not reuse (or
	 * free) the out buffer until it knows we are done reading it.  We
	 * wrote nothing into the out buffer, so its length is 0.  A device
	 * model claiming to have written more than the in buffer holds would
	 * have the guest read past its data; cap it.
	 */
	if (out)
		put_used(d, &d->out, c->id, 0);
	if (in) {
		if (written > c->write_len)
			written = (uint32_t)c->write_len;
		put_used(d, &d->in, c->in_id, written);
	}
	return true;
}

/* can_push() failed on @head of @q: its message, as a tail call. */
static __attribute__((__noinline__, __cold__)) bool push_refused(struct d3_dev *d,
								 struct d3_dev_queue *q,
								 uint32_t head)
{
	return can_push(d, q, head);
}

bool d3_dev_push(struct d3_dev *d, struct chain *c, uint32_t written)
{
	struct d3_dev_queue *q = &d->out;
	uint32_t head = c->id;

	if (d->broken)
		return false;
	if (c->in_id != CHAIN_NO_ID || head == CHAIN_NO_ID)
		return push_halves(d, c, written);
	/*
	 * An out buffer alone, the common case: can_push()'s two checks
	 * inline, its messages out of line.  Nothing was written into it.
	 */
	if (head >= NDESCS || !q->in_flight[head] ||
	    GUEST_READ(d->mem, q->used->idx) != q->used_idx)
		return push_refused(d, q, head);
	put_used(d, q, head, 0);
	return true;
}

/*
 * The running flag.  While a device is processing, it sets NO_NOTIFY in
 * both used pages and the guest skips the NOTIFY hypercall (an exit) when
 * publishing.  Before the device goes to sleep it must clear the flag and
 * look once more, or a buffer published while the flag was still set
 * would wait forever: see d3_dev_stop_running().
 */
static void set_running(struct d3_dev *d, bool running)
{
	/* The flags word is ours; atomic RMW only to leave other bits be. */
	if (running) {
		GUEST_SET_BITS(d->mem, d->in.used->flags, D3_USED_F_NO_NOTIFY);
		GUEST_SET_BITS(d->mem, d->out.used->flags, D3_USED_F_NO_NOTIFY);
	} else {
		GUEST_CLEAR_BITS(d->mem, d->in.used->flags, (uint32_t)D3_USED_F_NO_NOTIFY);
		GUEST_CLEAR_BITS(d->mem, d->out.used->flags, (uint32_t)D3_USED_F_NO_NOTIFY);
	}
}

void d3_dev_start_running(struct d3_dev *d)
{
	/*
	 * No ordering needed: if the guest sees the flag late it merely
	 * notifies when it need not have.
	 */
	if (!d->broken)
		set_running(d, true);
}

bool d3_dev_stop_running(struct d3_dev *d)
{
	if (d->broken)
		return false;
	set_running(d, false);
	/*
	 * Full fence: orders the flag stores above before the avail->idx
	 * loads in d3_dev_has_avail().  It pairs with the full fence in
	 * d3_drv_publish() between the guest's avail->idx store and its
	 * load of used->flags.  With a fence on both sides, at least one of
	 * us sees the other's store: either the guest sees NO_NOTIFY clear
	 * and notifies, or we see its new avail->idx here.
	 */
	guest_fence();
	return d3_dev_has_avail(d);
}

/*
 * One signal (interrupt) serves both queues, and we are not told which
 * queue the caller just pushed to.  So the signal is suppressed only if
 * the guest asked on *both* avail pages: a guest polling its in queue but
 * waiting for out completions must still be woken.  Asking on one queue
 * alone therefore saves nothing; it is the safe reading.
 */
bool d3_dev_signal_suppressed(const struct d3_dev *d)
{
	uint32_t in_flags, out_flags;

	if (d->broken)
		return false;
	/*
	 * Full fence: orders our used->idx stores (d3_dev_push()) before the
	 * flag loads below.  It pairs with the full fence in
	 * d3_drv_set_no_signal() between the guest clearing NO_SIGNAL and
	 * checking for used buffers: either we see the flag clear and
	 * signal, or the guest sees our used entries.
	 */
	guest_fence();
	in_flags = GUEST_READ(d->mem, d->in.avail->flags);
	out_flags = GUEST_READ(d->mem, d->out.avail->flags);
	return in_flags & out_flags & D3_AVAIL_F_NO_SIGNAL;
}

/*
 * In-queue buffers already in d->posted do not count: we have seen them,
 * and they wait for a request to name them (block) or for data to arrive
 * (console, network), not for another pass of the device loop.
 */
bool d3_dev_has_avail(const struct d3_dev *d)
{
	if (d->broken)
		return false;
	/* Acquire, like take_head(): a caller that sees true goes on to pop. */
	return GUEST_READ_ACQUIRE(d->mem, d->in.avail->idx) != d->in.last_avail ||
	       GUEST_READ_ACQUIRE(d->mem, d->out.avail->idx) != d->out.last_avail;
}

bool d3_dev_queue_has_avail(const struct d3_dev *d, bool in)
{
	const struct d3_dev_queue *q = in ? &d->in : &d->out;

	if (d->broken)
		return false;
	return GUEST_READ_ACQUIRE(d->mem, q->avail->idx) != q->last_avail;
}

bool d3_dev_in_available(const struct d3_dev *d)
{
	if (d->broken)
		return false;
	return d->nposted || GUEST_READ_ACQUIRE(d->mem, d->in.avail->idx) != d->in.last_avail;
}
