// SPDX-License-Identifier: GPL-2.0
/*
 * split_drv.c: the driver's half of a virtio 1.x split virtqueue.
 *
 * One block of ring memory, laid out as split_drv_ring_bytes() says.  We
 * write the first two parts; the device writes the third, and we only
 * read it:
 *
 *   desc (ours)                 avail (ours)            used (device's)
 *   16 * size bytes             6 + 2 * size, pad to 4  6 + 8 * size
 *   +------------------------+  +-------------------+   +--------------------+
 *   | [0] NEXT       next=1  |  | flags NO_INTERRUPT|   | flags NO_NOTIFY    |
 *   | [1] WRITE      next=2  |  | idx               |   | idx                |
 *   | [2] INDIRECT   next=3  |  | ring[0] = 0       |   | ring[0] = {id,len} |
 *   | [3] free       next=4 <+--+-- free_head       |   | ...                |
 *   | [4] free       next=5  |  | ring[1] = 2       |   | ring[size-1]       |
 *   | ...                    |  | ...               |   | avail_event        |
 *   +------------------------+  | used_event        |   +--------------------+
 *                               +-------------------+
 *
 * Free descriptors form a list threaded through their `next` fields, so
 * taking n of them from the front of the list already links them into a
 * chain: add only fills them in and leaves NEXT off the last one.  Above,
 * buffer 0 is two descriptors (0, 1) and buffer 2 is one, an INDIRECT
 * pointing at a table in the caller's memory.  ndescs[head] remembers how
 * many ring descriptors each buffer took, so freeing it needs no flags.
 *
 * A buffer's life:
 *   free       descriptors on the free list
 *   added      descriptors filled, head written into avail->ring beyond
 *              avail->idx: the device cannot see it yet
 *   published  split_drv_publish() moved avail->idx past it: the device's
 *   used       the device wrote {head, len} into used->ring and moved
 *              used->idx past it
 *   reaped     split_drv_get_used() put its descriptors back on the list
 *
 * Indices are free-running 16-bit counters (avail_idx, last_used) and a
 * ring slot is counter % size; size is a power of two, so it divides
 * 65536 and the slots run on smoothly when a counter wraps.
 *
 * We do not trust the used ring: a used id is checked to be in range and
 * outstanding before we index anything with it.  (Nor do we rely on the
 * device leaving the descriptor table alone, which the spec requires of
 * it: every index read back from a `next` field is masked into the table,
 * so a device scribbling there could garble our buffers but never have us
 * write outside the ring.)
 *
 * Freestanding: built into the guest kernel and into the host unit tests,
 * so nothing here but the compiler's headers and the kernel's uapi ones.
 * Ordering uses GCC's __atomic builtins; on x86-64 release and acquire
 * cost nothing but stop the compiler reordering, and the full fence is
 * an mfence (or a locked instruction).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "split_drv.h"

#define SPLIT_MAX_SIZE 32768 /* the largest queue size virtio allows */

/* Where the parts lie in the ring memory (see split_drv_ring_bytes()). */
static size_t avail_offset(uint16_t size)
{
	return sizeof(struct vring_desc) * (size_t)size;
}

static size_t used_offset(uint16_t size)
{
	/* avail: flags, idx, ring[size], used_event; then pad to 4 for used. */
	return (avail_offset(size) + 6 + 2 * (size_t)size + 3) & ~(size_t)3;
}

size_t split_drv_ring_bytes(uint16_t size)
{
	/* used: flags, idx, ring[size] of {id, len}, avail_event. */
	return used_offset(size) + 6 + 8 * (size_t)size;
}

size_t split_drv_priv_bytes(uint16_t size)
{
	return (sizeof(void *) + sizeof(uint16_t)) * (size_t)size;
}

/* The event words past the ends of the rings (spec: used_event, avail_event). */
static uint16_t *used_event(const struct split_drv *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *avail_event(const struct split_drv *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

/* Index @i read back from a `next` field, kept inside the table. */
static uint16_t in_table(const struct split_drv *q, uint16_t i)
{
	return i & (q->size - 1);
}

void split_drv_init(struct split_drv *q, uint16_t size, void *ring, void *priv, bool event_idx)
{
	uint8_t *r = ring;

	__builtin_memset(q, 0, sizeof(*q));
	q->size = size;
	q->event_idx = event_idx;
	q->follow_used = event_idx; /* callbacks start enabled */

	/*
	 * The caller promised a power of two; if not, refuse to run rather
	 * than have slots collide (and touch no memory we were not sized
	 * for).  size - 1 is then a mask for slots and table indices.
	 */
	if (size == 0 || size > SPLIT_MAX_SIZE || (size & (size - 1))) {
		q->broken = true;
		q->error = "queue size is not a power of two in 1..32768";
		return;
	}

	__builtin_memset(ring, 0, split_drv_ring_bytes(size));
	__builtin_memset(priv, 0, split_drv_priv_bytes(size));
	q->desc = ring;
	q->avail = (struct vring_avail *)(r + avail_offset(size));
	q->used = (struct vring_used *)(r + used_offset(size));
	q->token = priv;
	q->ndescs = (uint16_t *)((uint8_t *)priv + sizeof(void *) * (size_t)size);

	/* Every descriptor on the free list, in order: 0 -> 1 -> ... -> size-1. */
	for (uint32_t i = 0; i + 1 < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->num_free = size;
	/*
	 * Zeroed memory already says what we want at first: flags 0 (signal
	 * us), used_event 0 (signal when the first buffer is used).
	 */
}

/*
 * Fill descriptor @d from segment @k: readable for the first @out
 * segments, writable after; NEXT unless it is the last.  `next` is set by
 * the caller (or already holds the free list's link, which is the chain).
 */
static void fill(struct vring_desc *d, const struct lg_sg *sg, unsigned int k, unsigned int out,
		 bool more)
{
	d->addr = sg[k].gpa;
	d->len = sg[k].len;
	d->flags = (k >= out ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0);
}

/* Put @head into the next avail slot beyond what we have published. */
static inline __attribute__((__always_inline__)) int
make_available(struct split_drv *q, uint16_t head, uint16_t ndescs, void *token)
{
	uint16_t avail_idx = q->avail_idx, mask = q->size - 1;

	q->token[head] = token;
	q->ndescs[head] = ndescs;
	/*
	 * The device does not read this slot until avail->idx moves past it
	 * (split_drv_publish()), so a plain store will do.
	 */
	q->avail->ring[avail_idx & mask] = head;
	q->avail_idx = avail_idx + 1;
	q->num_added++;
	return head;
}

/*
 * split_drv_add() of one segment, the commonest buffer, as a straight
 * line: the free list's head becomes the chain, and its `next` the new
 * head of the list.
 */
static inline __attribute__((__always_inline__)) int
add_one(struct split_drv *q, const struct lg_sg *sg, bool writable, void *token)
{
	uint16_t head = q->free_head;
	struct vring_desc *d = &q->desc[head];

	d->addr = sg->gpa;
	d->len = sg->len;
	d->flags = writable ? VRING_DESC_F_WRITE : 0;
	q->free_head = in_table(q, d->next);
	q->num_free--;
	return make_available(q, head, 1, token);
}

/* split_drv_add() of @n > 1 segments, the first @out readable. */
static int add_chain(struct split_drv *q, const struct lg_sg *sg, unsigned int out, unsigned int n,
		     void *token)
{
	uint16_t head, i;

	/*
	 * Taking descriptors off the front of the free list: their `next`
	 * fields already chain them, in order, so we only fill them in.
	 */
	head = i = q->free_head;
	for (unsigned int k = 0; k < n; k++) {
		fill(&q->desc[i], sg, k, out, k + 1 < n);
		i = in_table(q, q->desc[i].next);
	}
	/* The free list goes on after the last one we took. */
	q->free_head = i;
	q->num_free -= n;
	return make_available(q, head, (uint16_t)n, token);
}

/* split_drv_add() of anything but one segment on a healthy queue. */
static __attribute__((__noinline__)) int add_any(struct split_drv *q, const struct lg_sg *sg,
						 unsigned int out, unsigned int in, void *token)
{
	unsigned int n;

	/* Written so that out + in cannot wrap and pass the test. */
	if (q->broken || !token || out > q->num_free || in > q->num_free - out)
		return -1;
	n = out + in;
	if (n == 0)
		return -1;
	if (n == 1)
		return add_one(q, sg, out == 0, token);
	return add_chain(q, sg, out, n, token);
}

int split_drv_add(struct split_drv *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
		  void *token)
{
	/* out <= 1 first, so that out + in cannot have wrapped round to 1. */
	if (out <= 1 && out + in == 1 && token && q->num_free && !q->broken)
		return add_one(q, sg, out == 0, token);
	return add_any(q, sg, out, in, token);
}

int split_drv_add_indirect(struct split_drv *q, const struct lg_sg *sg, unsigned int out,
			   unsigned int in, struct vring_desc *table, uint64_t table_gpa,
			   void *token)
{
	struct vring_desc *d;
	uint16_t head;
	unsigned int n;

	/* The table's length (16 bytes an entry) must fit the 32-bit len. */
	if (q->broken || !token || !table || q->num_free == 0 ||
	    out > UINT32_MAX / sizeof(*table) || in > UINT32_MAX / sizeof(*table) - out)
		return -1;
	n = out + in;
	if (n == 0)
		return -1;

	/* The table is ours, like the ring: entries chain 0 -> 1 -> ... */
	for (unsigned int k = 0; k < n; k++) {
		fill(&table[k], sg, k, out, k + 1 < n);
		table[k].next = (uint16_t)(k + 1 < n ? k + 1 : 0);
	}

	head = q->free_head;
	d = &q->desc[head];
	q->free_head = in_table(q, d->next);
	q->num_free--;
	d->addr = table_gpa;
	d->len = n * (uint32_t)sizeof(*table);
	/* No NEXT (the table is the rest of the chain), no WRITE (ignored). */
	d->flags = VRING_DESC_F_INDIRECT;
	return make_available(q, head, 1, token);
}

bool split_drv_publish(struct split_drv *q)
{
	uint16_t old, new;

	if (q->broken || q->num_added == 0)
		return false;
	new = q->avail_idx;
	old = new - q->num_added;

	/*
	 * Release: pairs with the device's acquire load of avail->idx
	 * (split_dev_pop()).  The descriptors, indirect tables and ring
	 * entries split_drv_add() wrote are visible to the device before it
	 * can see the new index.
	 */
	__atomic_store_n(&q->avail->idx, new, __ATOMIC_RELEASE);
	q->num_added = 0;

	/*
	 * Full fence: orders the index store above before the loads of
	 * used->flags / avail_event below.  It pairs with the device's full
	 * fence in split_dev_enable_notify() between its store of the flag
	 * or avail_event and its load of avail->idx.  Without it our load
	 * could be satisfied before our store is visible: we would see the
	 * old "do not notify" and skip the NOTIFY, while the device, going to
	 * sleep, would not yet see our new index, and the buffers would sit
	 * there with both sides asleep.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/*
	 * With EVENT_IDX: notify if this batch, [old, new), includes the
	 * entry the device asked to hear about.  (The device must keep flags
	 * 0 then, and we ignore them.)
	 */
	if (q->event_idx)
		return vring_need_event(__atomic_load_n(avail_event(q), __ATOMIC_RELAXED), new,
					old);
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
}

bool split_drv_has_used(const struct split_drv *q)
{
	/* A broken queue yields nothing, so do not invite a caller to spin. */
	if (q->broken)
		return false;
	/* Acquire, like split_drv_get_used(): callers go on to reap. */
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

/* The device broke a rule: stop using the queue. */
static void *bad_device(struct split_drv *q, const char *why)
{
	q->broken = true;
	q->error = why;
	return NULL;
}

/* Give the ring descriptors of buffer @head, @n of them, back to the free list. */
static inline __attribute__((__always_inline__)) void detach(struct split_drv *q, uint16_t head,
							     uint16_t tail, unsigned int n)
{
	/* Splice the whole chain onto the front of the free list. */
	q->desc[tail].next = q->free_head;
	q->free_head = head;
	q->num_free += n;
	q->ndescs[head] = 0;
	q->token[head] = NULL;
}

/*
 * The buffer at last_used is reaped: move on, and hand back @token with
 * its length.  With EVENT_IDX and callbacks on, ask for a signal when the
 * device uses the next entry, last_used.  Full fence: orders this store
 * before our next look at used->idx, and pairs with the device's full
 * fence in split_dev_should_signal() between its used->idx store and its
 * used_event load.  A caller in interrupt mode reaps until we return NULL
 * and then waits, without split_drv_enable_cb(): without the fence the
 * device could read the old used_event (no signal) while we read the old
 * used->idx (nothing to reap).
 */
static inline __attribute__((__always_inline__)) void *reaped(struct split_drv *q, uint32_t *len,
							      uint32_t used_len, void *token)
{
	uint16_t last_used = ++q->last_used;

	if (len)
		*len = used_len;
	if (q->follow_used) {
		__atomic_store_n(used_event(q), last_used, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return token;
}

/* The device broke a rule: stop using the queue, reap nothing. */
static __attribute__((__noinline__, __cold__)) void *used_fail(struct split_drv *q,
							       const char *why)
{
	return bad_device(q, why);
}

/* reap() of a buffer of @n > 1 ring descriptors: find its tail first. */
static __attribute__((__noinline__)) void *
reap_chain(struct split_drv *q, uint32_t *len, uint16_t head, unsigned int n, uint32_t used_len)
{
	void *token = q->token[head];
	uint16_t tail = head;

	/* n is ours (ndescs); only the links come from the (shared) table. */
	for (unsigned int k = 1; k < n; k++)
		tail = in_table(q, q->desc[tail].next);
	detach(q, head, tail, n);
	return reaped(q, len, used_len, token);
}

/*
 * split_drv_get_used() once the device has used something: reap it.  A
 * buffer of one ring descriptor (a lone one, or an INDIRECT) is a straight
 * line; every other way out is a tail call, so this path builds no frame.
 */
static __attribute__((__noinline__)) void *reap(struct split_drv *q, uint32_t *len,
						uint16_t used_idx)
{
	uint16_t last_used = q->last_used, published = q->avail_idx - q->num_added;
	const struct vring_used_elem *e;
	uint32_t id, used_len;
	unsigned int n;
	void *token;

	/*
	 * The device can only have used buffers we published and have not
	 * reaped, at most size of them; any further ahead (or behind, which
	 * 16-bit arithmetic makes look huge) and it is making things up.
	 */
	if ((uint16_t)(used_idx - last_used) > (uint16_t)(published - last_used))
		return used_fail(q, "used index ran ahead");

	/* The used ring is the device's: read each field once. */
	e = &q->used->ring[last_used & (q->size - 1)];
	id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	used_len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	if (id >= q->size)
		return used_fail(q, "used id out of range");
	/*
	 * It must name a buffer's head that we added and have not reaped:
	 * only those have descriptors counted in ndescs.
	 */
	n = q->ndescs[id];
	if (!n)
		return used_fail(q, "used id is not an outstanding head");
	if (n != 1)
		return reap_chain(q, len, (uint16_t)id, n, used_len);
	token = q->token[id];
	detach(q, (uint16_t)id, (uint16_t)id, 1);
	return reaped(q, len, used_len, token);
}

/*
 * Looking and finding nothing ends every reaping loop, so it is a load
 * and a compare; the reaping is reap()'s.
 */
void *split_drv_get_used(struct split_drv *q, uint32_t *len)
{
	uint16_t used_idx;

	if (q->broken)
		return NULL;
	/*
	 * Acquire: pairs with the device's release store of used->idx
	 * (split_dev_push()).  The used entry, and whatever the device wrote
	 * into the buffer before it, are visible to our reads that follow
	 * (and to the caller's reads of the buffer).
	 */
	used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == q->last_used)
		return NULL;
	return reap(q, len, used_idx);
}

void split_drv_disable_cb(struct split_drv *q)
{
	q->cb_disabled = true;
	q->follow_used = false;
	/*
	 * With EVENT_IDX nothing to write: get_used() stops moving
	 * used_event, the device soon passes it and stops signalling.  No
	 * ordering needed: a late-seen request only costs one more signal.
	 */
	if (!q->broken && !q->event_idx)
		__atomic_store_n(&q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELAXED);
}

bool split_drv_enable_cb(struct split_drv *q)
{
	q->cb_disabled = false;
	q->follow_used = q->event_idx;
	/* Broken: nothing will ever be reaped (callers check q->broken). */
	if (q->broken)
		return true;
	/* The flags word and used_event are ours: store whole values. */
	if (q->event_idx)
		__atomic_store_n(used_event(q), q->last_used, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&q->avail->flags, 0, __ATOMIC_RELAXED);
	/*
	 * Full fence: orders the store above before the used->idx load in
	 * split_drv_has_used().  It pairs with the device's full fence in
	 * split_dev_should_signal() between its used->idx store and its load
	 * of avail->flags / used_event: either the device sees our request
	 * and signals, or we see its used entry now and reap before sleeping.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !split_drv_has_used(q);
}
