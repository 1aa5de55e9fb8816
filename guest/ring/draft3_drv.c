// SPDX-License-Identifier: GPL-2.0
/*
 * draft3_drv.c: the driver's half of one draft-III queue.
 *
 * Three pages per queue.  We write the first two; the device writes the
 * third, and we only read it:
 *
 *   desc page (ours)            avail page (ours)      used page (device's)
 *   +------------------------+  +-----------------+    +-------------------+
 *   | [0] HEAD|NEXT next=1   |  | idx             |    | idx               |
 *   | [1]      NEXT next=2   |  | ring[0] = 0     |    | ring[0] = {id,len}|
 *   | [2]           next=3   |  | ring[1] = 3     |    | ...               |
 *   | [3] HEAD      next=4   |  | ...             |    | flags: NO_NOTIFY  |
 *   | [4] free      next=5 <-+--+-- free_head     |    +-------------------+
 *   | ...                    |  | flags: NO_SIGNAL|
 *   +------------------------+  +-----------------+
 *
 * Free descriptors form a list threaded through their `next` fields, so
 * taking n of them from the front of the list already links them into a
 * chain: add only has to fill them in and clear F_NEXT on the last one.
 * Above, buffer 0 is three descriptors (0, 1, 2) and buffer 3 is one.
 *
 * A buffer's life:
 *   free       descriptors on the free list
 *   added      descriptors filled, head marked F_HEAD, head written into
 *              avail->ring beyond avail->idx: the device cannot see it yet
 *   published  d3_drv_publish() moved avail->idx past it: the device's now
 *   used       the device wrote {head, len} into used->ring and moved
 *              used->idx past it
 *   reaped     d3_drv_get_used() cleared F_HEAD and put the descriptors
 *              back on the free list
 *
 * Indices are free-running 32-bit counters: avail->idx counts heads we
 * published, last_used counts used entries we reaped, and a ring slot is
 * always counter % 170.
 *
 * This file is freestanding: it is built into the guest kernel and into
 * the host unit tests, so it uses nothing but the compiler's headers,
 * draft3.h and our small lib.h.  Memory ordering uses GCC's __atomic
 * builtins; on x86-64 the release and acquire ones cost nothing but stop
 * the compiler reordering, and the full fence is an mfence (or locked op).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "draft3.h"
#include "draft3_drv.h"
#include "lib.h"

#define NDESCS	   ((uint32_t)D3_NUM_DESCS)
#define PAGE_SHIFT 12

_Static_assert(D3_PAGE_SIZE == 1 << PAGE_SHIFT, "draft-III pages are 4096 bytes");

void d3_drv_init(struct d3_drv_queue *q, void *desc_page, void *avail_page, void *used_page)
{
	memset(desc_page, 0, D3_PAGE_SIZE);
	memset(avail_page, 0, D3_PAGE_SIZE);
	memset(used_page, 0, D3_PAGE_SIZE);
	memset(q, 0, sizeof(*q));

	q->desc = desc_page;
	q->avail = avail_page;
	q->used = used_page;

	/* Every descriptor on the free list, in order: 0 -> 1 -> ... -> 169. */
	for (uint32_t i = 0; i + 1 < NDESCS; i++)
		q->desc[i].next = i + 1;
	q->free_head = 0;
	q->num_free = NDESCS;
}

/*
 * Into the next free slot beyond what we have published.  The device
 * does not read this slot until avail->idx moves past it.
 */
static inline __attribute__((__always_inline__)) int make_available(struct d3_drv_queue *q,
								    uint32_t head)
{
	q->avail->ring[(q->avail->idx + q->num_added) % NDESCS] = head;
	q->num_added++;
	return (int)head;
}

/* d3_drv_add() of @n descriptors (any number), the checks done. */
static __attribute__((__noinline__)) int add_chain(struct d3_drv_queue *q, const struct lg_sg *sg,
						   unsigned int n, void *token)
{
	uint32_t head, i;

	head = i = q->free_head;
	for (unsigned int k = 0; k < n; k++) {
		struct d3_desc *d = &q->desc[i];

		d->pfn = sg[k].gpa >> PAGE_SHIFT;
		d->offset = sg[k].gpa & (D3_PAGE_SIZE - 1);
		d->len = sg[k].len;
		/* `next` already points at the following free descriptor. */
		d->flags = k + 1 < n ? D3_DESC_F_NEXT : 0;
		i = d->next;
	}
	/* The free list goes on after the last one we took. */
	q->free_head = i;
	q->num_free -= n;
	q->token[head] = token;

	/*
	 * Release fence, then F_HEAD: a device that sees F_HEAD on this
	 * descriptor sees the whole chain filled in above.  The device only
	 * looks at a head after it read avail->idx (which d3_drv_publish()
	 * stores with release), so this is belt and braces, as in the 2007
	 * patch's wmb(); it also keeps F_HEAD meaning "complete buffer" for
	 * anyone inspecting the page.
	 */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&q->desc[head].flags, q->desc[head].flags | D3_DESC_F_HEAD,
			 __ATOMIC_RELAXED);
	return make_available(q, head);
}

int d3_drv_add(struct d3_drv_queue *q, const struct lg_sg *sg, unsigned int n, void *token)
{
	struct d3_desc *d;
	uint32_t head;

	if (q->broken || !token || n == 0 || n > q->num_free)
		return -1;
	if (n > 1)
		return add_chain(q, sg, n, token);

	/* One segment, the commonest buffer: add_chain() as a straight line. */
	head = q->free_head;
	d = &q->desc[head];
	d->pfn = sg->gpa >> PAGE_SHIFT;
	d->offset = sg->gpa & (D3_PAGE_SIZE - 1);
	d->len = sg->len;
	q->free_head = d->next;
	q->num_free--;
	q->token[head] = token;
	/* Release: F_HEAD, and no NEXT, last, as in add_chain(). */
	__atomic_store_n(&d->flags, D3_DESC_F_HEAD, __ATOMIC_RELEASE);
	return make_available(q, head);
}

/* Splice the chain @head..@tail, @n descriptors, onto the front of the free list. */
static inline __attribute__((__always_inline__)) void
splice_free(struct d3_drv_queue *q, uint32_t head, uint32_t tail, uint32_t n)
{
	q->desc[tail].next = q->free_head;
	q->free_head = head;
	q->num_free += n;
	q->token[head] = NULL;
}

/* Give the descriptors of buffer @head back to the free list. */
static void detach(struct d3_drv_queue *q, uint32_t head)
{
	uint32_t i = head, n = 1;

	q->desc[head].flags &= ~D3_DESC_F_HEAD;
	/* We built this chain, and only we write this page: it ends. */
	while (q->desc[i].flags & D3_DESC_F_NEXT) {
		i = q->desc[i].next;
		n++;
	}
	splice_free(q, head, i, n);
}

void d3_drv_unadd(struct d3_drv_queue *q, int head)
{
	uint32_t last_slot;

	if (head < 0 || (uint32_t)head >= NDESCS || q->num_added == 0)
		return;
	/*
	 * Only the most recent add can be undone: its head is in the last
	 * slot we filled.  Anything else is a caller bug, which we ignore
	 * rather than corrupt the free list.
	 */
	last_slot = (q->avail->idx + q->num_added - 1) % NDESCS;
	if (q->avail->ring[last_slot] != (uint32_t)head)
		return;
	q->num_added--;
	/*
	 * The chain's descriptors came off the front of the free list and
	 * the last one's `next` still points where free_head pointed then,
	 * so putting them back on the front restores the list exactly.
	 */
	detach(q, (uint32_t)head);
}

bool d3_drv_publish(struct d3_drv_queue *q)
{
	if (q->broken || q->num_added == 0)
		return false;

	/*
	 * Release: pairs with the device's acquire load of avail->idx
	 * (take_head() in draft3_dev.c).  The descriptors, F_HEAD and ring
	 * entries d3_drv_add() wrote are visible to the device before it can
	 * see the new index.
	 */
	__atomic_store_n(&q->avail->idx, q->avail->idx + q->num_added, __ATOMIC_RELEASE);
	q->num_added = 0;

	/*
	 * Full fence: orders the index store above before the flag load
	 * below.  It pairs with the device's full fence in
	 * d3_dev_stop_running() between clearing NO_NOTIFY and reading
	 * avail->idx.  Without it our load could be satisfied before our
	 * store is visible: we would see the device still running and skip
	 * the notify, while the device, stopping, would not yet see our new
	 * index, and the buffer would sit there with both sides asleep.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & D3_USED_F_NO_NOTIFY);
}

bool d3_drv_has_used(const struct d3_drv_queue *q)
{
	/* A broken queue yields nothing, so do not invite a caller to spin. */
	if (q->broken)
		return false;
	/* Acquire, like d3_drv_get_used(): callers go on to reap. */
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

/* The device broke a rule: stop using the queue. */
static void *bad_device(struct d3_drv_queue *q, const char *why)
{
	q->broken = true;
	q->error = why;
	return NULL;
}

/* The device broke a rule: stop using the queue, reap nothing. */
static __attribute__((__noinline__, __cold__)) void *used_fail(struct d3_drv_queue *q,
							       const char *why)
{
	return bad_device(q, why);
}

/* The buffer at last_used is reaped: move on, and hand back @token with its length. */
static inline __attribute__((__always_inline__)) void *reaped(struct d3_drv_queue *q, uint32_t *len,
							      uint32_t used_len, void *token)
{
	q->last_used++;
	if (len)
		*len = used_len;
	return token;
}

/* reap() of anything but a lone descriptor: check it is a head, detach it. */
static __attribute__((__noinline__)) void *reap_chain(struct d3_drv_queue *q, uint32_t *len,
						      uint32_t id, uint32_t used_len)
{
	void *token = q->token[id];

	/* It must name a buffer we added and have not reaped yet. */
	if (!(q->desc[id].flags & D3_DESC_F_HEAD) || !token)
		return used_fail(q, "used id is not an outstanding head");
	detach(q, id);
	return reaped(q, len, used_len, token);
}

/*
 * d3_drv_get_used() once the device has used something: reap it.  A
 * buffer of one descriptor is a straight line; every other way out is a
 * tail call, so this path builds no frame.
 */
static __attribute__((__noinline__)) void *reap(struct d3_drv_queue *q, uint32_t *len,
						uint32_t used_idx)
{
	const struct d3_used_elem *e;
	uint32_t id, used_len;
	struct d3_desc *d;
	void *token;

	/*
	 * The device can only have used what we gave it, at most 170 buffers;
	 * any further ahead (or behind, which unsigned arithmetic also makes
	 * look huge) and it is making things up.
	 */
	if (used_idx - q->last_used > NDESCS)
		return used_fail(q, "used index ran ahead");

	/* The used page is the device's: read each field once. */
	e = &q->used->ring[q->last_used % NDESCS];
	id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	used_len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	if (id >= NDESCS)
		return used_fail(q, "used id out of range");
	/*
	 * The descriptor page is ours alone: F_HEAD without NEXT is a buffer
	 * of one descriptor that we added.  detach() as a straight line.
	 */
	d = &q->desc[id];
	token = q->token[id];
	if (d->flags != D3_DESC_F_HEAD || !token)
		return reap_chain(q, len, id, used_len);
	d->flags = 0;
	splice_free(q, id, id, 1);
	return reaped(q, len, used_len, token);
}

/*
 * Finding nothing used ends every reaping loop, so it is a load and a
 * compare; the reaping is reap()'s.
 */
void *d3_drv_get_used(struct d3_drv_queue *q, uint32_t *len)
{
	uint32_t used_idx;

	if (q->broken)
		return NULL;
	/*
	 * Acquire: pairs with the device's release store of used->idx
	 * (put_used() in draft3_dev.c).  The used entry, and whatever the
	 * device wrote into the buffer before that, are visible to the reads
	 * that follow (and to the caller's reads of the buffer).
	 */
	used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == q->last_used)
		return NULL;
	return reap(q, len, used_idx);
}

void d3_drv_set_no_signal(struct d3_drv_queue *q, bool no_signal)
{
	uint32_t flags = q->avail->flags;

	if (no_signal)
		flags |= D3_AVAIL_F_NO_SIGNAL;
	else
		flags &= ~(uint32_t)D3_AVAIL_F_NO_SIGNAL;
	__atomic_store_n(&q->avail->flags, flags, __ATOMIC_RELAXED);

	/*
	 * Full fence when asking for signals again: orders the flag store
	 * before the caller's next look at used->idx (d3_drv_has_used() or
	 * d3_drv_get_used()).  It pairs with the device's full fence in
	 * d3_dev_signal_suppressed() between its used->idx store and its
	 * flag load: either the device sees the flag clear and signals, or
	 * we see its used entry when we look.  (Setting the flag needs no
	 * ordering: a late-seen flag only costs one extra interrupt.)
	 */
	if (!no_signal)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
