// SPDX-License-Identifier: GPL-2.0
/*
 * packed_drv.c: the driver's half of a virtio 1.1 packed virtqueue.
 *
 * One block of ring memory, laid out by packed_drv_init():
 *
 *   +-------------------------------------------------+ ring
 *   | [0] addr len id flags | [1] ... | [size-1] ...  |  16 * size bytes,
 *   +-------------------------------------------------+  both sides write
 *   | driver area: off_wrap flags  (we write)          |  4 bytes
 *   | device area: off_wrap flags  (the device writes) |  4 bytes
 *   +-------------------------------------------------+
 *
 * We put buffers into the ring in order, from next_avail on: one
 * descriptor per element, in consecutive slots (wrapping at the end), NEXT
 * on all but the last, WRITE on the device-writable ones, and the buffer
 * id in each (the device reads it from the last).  A descriptor is
 * available when its AVAIL bit equals our wrap counter and its USED bit
 * does not; the wrap counter starts at 1 and flips each time we pass the
 * end of the ring.  The head's flags are written last, so the device never
 * sees half a chain.
 *
 * The device answers with one used descriptor per buffer, {id, len}, with
 * AVAIL = USED = its own wrap counter, written from slot 0 on in the
 * order it finishes buffers.  Each used descriptor stands for as many
 * slots as its buffer took, so we remember that per id (nslots[]) and
 * follow: last_used moves on by nslots[id] after each one we reap.
 *
 *   slot:   0            1            2            3
 *         +------------+------------+------------+------------+
 *         | used id 2  | id 0       | id 2       |            |
 *         | len 64     | (2nd of 0) | WRITE      |            |
 *         +------------+------------+------------+------------+
 *           buffer 0 was slots 0-1, buffer 2 slot 2; the device finished
 *           buffer 2 first, so its used descriptor went into slot 0.  We
 *           reap it, step last_used by nslots[2] = 1 to slot 1, and wait
 *           there for buffer 0's used descriptor.
 *
 * Buffer ids come from a private free list (next_id[], ids < size), so
 * the device can finish buffers in any order and ids are reused at once.
 * Slots are counted, not listed: the slots from last_used to next_avail
 * belong to buffers not yet reaped, and num_free is the rest.
 *
 * Event suppression: the driver area tells the device when to signal us
 * (ENABLE / DISABLE / DESC: "when the used descriptor at off_wrap is
 * written"), the device area tells us when to NOTIFY it.  DESC needs
 * VIRTIO_F_RING_EVENT_IDX.  off_wrap = slot | wrap counter << 15.
 *
 * Positions: (slot, wrap) names a place on a ring twice as long, pos =
 * slot + (wrap ? 0 : size), and distances are taken modulo 2 * size
 * (include/packed_event.h, which the device shares).
 *
 * Freestanding: no libc here; this file builds into the guest kernel and
 * into the host unit tests.  Memory ordering uses GCC's __atomic builtins.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packed_drv.h"
#include "packed_event.h"

/* The two ownership bits, as masks (the uapi header gives bit numbers). */
#define F_AVAIL	   ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED	   ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define WRAP_SHIFT VRING_PACKED_EVENT_F_WRAP_CTR

/* The device writes these while we read them: one untorn read each. */
#define READ_DEVICE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

size_t packed_drv_ring_bytes(uint16_t size)
{
	return (size_t)size * sizeof(struct vring_packed_desc) +
	       2 * sizeof(struct vring_packed_desc_event);
}

size_t packed_drv_priv_bytes(uint16_t size)
{
	return (size_t)size * (sizeof(void *) + 2 * sizeof(uint16_t));
}

/*
 * Move (*slot, *wrap) on by @n <= size slots, flipping wrap at the end,
 * and with it *bits, the two flag bits that go with that wrap counter
 * (avail_bits or used_bits): flipping a lap flips both.  @size is the
 * ring's, passed in so that a caller holding it in a register need not
 * load it again after its stores into the ring.
 */
static void advance(uint16_t size, uint16_t *slot, bool *wrap, uint16_t *bits, uint32_t n)
{
	uint32_t s = *slot + n;

	if (s >= size) {
		s -= size;
		*wrap = !*wrap;
		*bits ^= F_AVAIL | F_USED;
	}
	*slot = (uint16_t)s;
}

/* "Signal me once the used descriptor at last_used is written." */
static uint16_t last_used_event(const struct packed_drv *q)
{
	return q->last_used | (uint16_t)(q->used_wrap << WRAP_SHIFT);
}

void packed_drv_init(struct packed_drv *q, uint16_t size, void *ring, void *priv, bool event_idx)
{
	uint8_t *p = priv;

	__builtin_memset(ring, 0, packed_drv_ring_bytes(size));
	__builtin_memset(q, 0, sizeof(*q));
	q->size = size;
	q->event_idx = event_idx;
	q->follow_used = event_idx; /* callbacks start enabled */
	q->ring = ring;
	q->driver = (struct vring_packed_desc_event *)(q->ring + size);
	q->device = q->driver + 1;
	/*
	 * Both wrap counters start at 1; the zeroed ring is "nothing
	 * available".  On lap 1 we make a descriptor available with AVAIL set
	 * and USED clear, and the device marks it used with both set (on lap
	 * 0 all the other way round).  Those bits are kept beside the
	 * counters, as Linux's driver does, so that no hot path computes them.
	 */
	q->avail_wrap = true;
	q->avail_bits = F_AVAIL;
	q->used_wrap = true;
	q->used_bits = F_AVAIL | F_USED;
	q->num_free = size;

	q->token = (void **)p;
	q->nslots = (uint16_t *)(p + (size_t)size * sizeof(void *));
	q->next_id = q->nslots + size;
	for (uint16_t i = 0; i < size; i++) {
		q->token[i] = NULL;
		q->nslots[i] = 0;
		q->next_id[i] = i + 1; /* size marks the end of the list */
	}
	q->free_id = 0;

	/*
	 * Callbacks start enabled.  With EVENT_IDX we say so the EVENT_IDX
	 * way from the start, DESC at (slot 0, wrap 1), so that
	 * packed_drv_get_used() only ever has to move off_wrap on.  (The
	 * zeroed area would mean ENABLE, which asks for the same signal.)
	 */
	if (event_idx) {
		q->driver->off_wrap = last_used_event(q);
		q->driver->flags = VRING_PACKED_EVENT_FLAG_DESC;
	}
}

/* Count @n slots as made available since the last publish. */
static void count_added(struct packed_drv *q, uint32_t n)
{
	uint32_t added = q->num_added + n;

	/* A whole ring or more: publish will notify unless told not to. */
	q->num_added = added > q->size ? q->size : (uint16_t)added;
}

/* Take a buffer id off the free list; -1 if none (cannot happen while num_free > 0). */
static int alloc_id(struct packed_drv *q)
{
	uint16_t id = q->free_id;

	if (id >= q->size)
		return -1;
	q->free_id = q->next_id[id];
	return id;
}

/*
 * packed_drv_add() of one segment, the commonest buffer, as a straight
 * line on locals (our stores into the ring would otherwise make the
 * compiler load q's fields again after each), with id q->free_id, which
 * the caller checked is in range.
 */
static inline __attribute__((__always_inline__)) int
add_one(struct packed_drv *q, const struct lg_sg *sg, bool writable, void *token)
{
	uint16_t slot = q->next_avail, id = q->free_id;
	struct vring_packed_desc *d = &q->ring[slot];
	uint16_t flags = q->avail_bits | (writable ? VRING_DESC_F_WRITE : 0);

	q->free_id = q->next_id[id];
	d->addr = sg->gpa;
	d->len = sg->len;
	d->id = id;
	q->token[id] = token;
	q->nslots[id] = 1;
	q->num_free--;
	/* The counter and bits change once a lap: kept in q, not locals. */
	advance(q->size, &slot, &q->avail_wrap, &q->avail_bits, 1);
	q->next_avail = slot;
	/* count_added(q, 1), as a test and an increment. */
	if (q->num_added < q->size)
		q->num_added++;
	/* Release: as at the end of add_chain(). */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	return id;
}

/* packed_drv_add() of @n > 1 segments, the first @out readable. */
static __attribute__((__noinline__)) int add_chain(struct packed_drv *q, const struct lg_sg *sg,
						   unsigned int out, unsigned int n, void *token)
{
	uint16_t head = q->next_avail, slot = head, head_flags = 0, bits = q->avail_bits;
	bool wrap = q->avail_wrap;
	int id;

	id = alloc_id(q);
	if (id < 0)
		return -1;

	for (unsigned int k = 0; k < n; k++) {
		struct vring_packed_desc *d = &q->ring[slot];
		uint16_t flags = bits;

		if (k + 1 < n)
			flags |= VRING_DESC_F_NEXT;
		if (k >= out)
			flags |= VRING_DESC_F_WRITE;
		d->addr = sg[k].gpa;
		d->len = sg[k].len;
		d->id = (uint16_t)id;
		/*
		 * Every descriptor after the head may be written plainly: the
		 * device reads none of them before it sees the head available.
		 * The head's flags wait until the whole chain is written.
		 */
		if (k == 0)
			head_flags = flags;
		else
			d->flags = flags;
		/* A chain crossing the end continues at slot 0 on the next lap. */
		advance(q->size, &slot, &wrap, &bits, 1);
	}

	q->token[id] = token;
	q->nslots[id] = (uint16_t)n;
	q->num_free -= n;
	q->next_avail = slot;
	q->avail_wrap = wrap;
	q->avail_bits = bits;
	count_added(q, n);

	/*
	 * Release: pairs with the acquire load of the head's flags in
	 * packed_dev_pop() (and packed_dev_has_avail()).  The rest of the
	 * chain, the head's addr/len/id, and the data the caller put in the
	 * readable buffers are visible to the device before the head is.
	 * From this store on the buffer is the device's.
	 */
	__atomic_store_n(&q->ring[head].flags, head_flags, __ATOMIC_RELEASE);
	return id;
}

/* packed_drv_add() of anything but one segment on a healthy queue. */
static __attribute__((__noinline__)) int add_any(struct packed_drv *q, const struct lg_sg *sg,
						 unsigned int out, unsigned int in, void *token)
{
	/* out + in checked piecewise, so that a huge pair cannot wrap round. */
	if (q->broken || !token || out > q->num_free || in > q->num_free - out || out + in == 0)
		return -1;
	/* Cannot happen while num_free > 0, but it indexes next_id[]. */
	if (q->free_id >= q->size)
		return -1;
	if (out + in == 1)
		return add_one(q, sg, out == 0, token);
	return add_chain(q, sg, out, out + in, token);
}

int packed_drv_add(struct packed_drv *q, const struct lg_sg *sg, unsigned int out, unsigned int in,
		   void *token)
{
	/* One segment; summed in 64 bits, so that out + in cannot wrap round to 1. */
	if ((uint64_t)out + in == 1 && token && q->num_free && q->free_id < q->size && !q->broken)
		return add_one(q, sg, out == 0, token);
	return add_any(q, sg, out, in, token);
}

int packed_drv_add_indirect(struct packed_drv *q, const struct lg_sg *sg, unsigned int out,
			    unsigned int in, struct vring_packed_desc *table, uint64_t table_gpa,
			    void *token)
{
	struct vring_packed_desc *d;
	unsigned int n = out + in;
	int id;

	/* The table's length in bytes must fit the descriptor's 32-bit len. */
	if (q->broken || !token || q->num_free == 0 || out > UINT32_MAX / 16 ||
	    in > UINT32_MAX / 16 - out || n == 0)
		return -1;
	id = alloc_id(q);
	if (id < 0)
		return -1;

	/* In the table only WRITE means anything (no NEXT: entries follow on). */
	for (unsigned int k = 0; k < n; k++) {
		table[k].addr = sg[k].gpa;
		table[k].len = sg[k].len;
		table[k].id = 0;
		table[k].flags = k >= out ? VRING_DESC_F_WRITE : 0;
	}

	d = &q->ring[q->next_avail];
	d->addr = table_gpa;
	d->len = n * (uint32_t)sizeof(*table);
	d->id = (uint16_t)id;
	q->token[id] = token;
	q->nslots[id] = 1;
	q->num_free--;
	/*
	 * Release, as in packed_drv_add(): pairs with the device's acquire
	 * load of this flags word; the table above is visible before it.
	 */
	__atomic_store_n(&d->flags, (uint16_t)(VRING_DESC_F_INDIRECT | q->avail_bits),
			 __ATOMIC_RELEASE);
	advance(q->size, &q->next_avail, &q->avail_wrap, &q->avail_bits, 1);
	count_added(q, 1);
	return id;
}

bool packed_drv_publish(struct packed_drv *q)
{
	uint16_t added = q->num_added, flags, off_wrap;

	if (q->broken || added == 0)
		return false;
	q->num_added = 0;

	/*
	 * Full fence: orders the head-flags stores of packed_drv_add() before
	 * the device-area loads below.  It pairs with the full fence in
	 * packed_dev_enable_notify() between the device's device-area store
	 * and its load of our next head's flags.  Without it our load could
	 * be satisfied before our store is visible: we would see the device
	 * not asking, while the device, about to sleep, would not yet see our
	 * buffer, and both would wait for ever.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = READ_DEVICE(q->device->flags);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	/*
	 * ENABLE notifies; so does anything we do not understand (a reserved
	 * value, DESC without EVENT_IDX): an extra NOTIFY is harmless, a
	 * missing one is a hang.  So does a whole ring added since the last
	 * publish, which must have passed the device's event.
	 */
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !q->event_idx || added >= q->size)
		return true;

	/*
	 * DESC: the device wants a NOTIFY once the descriptor at off_wrap is
	 * available.  We made [old, new) available since the last publish;
	 * notify if off_wrap lies in it.
	 */
	off_wrap = READ_DEVICE(q->device->off_wrap);
	return packed_event_passed(off_wrap, q->next_avail, q->avail_wrap, added, q->size);
}

/* Whether the descriptor at last_used is a used one, from flags read with acquire. */
static bool is_used(const struct packed_drv *q, uint16_t flags)
{
	/*
	 * Both bits must equal our used wrap counter.  USED alone is not
	 * enough: a descriptor we made available on the previous lap (the
	 * second of a chain, say, which no used descriptor overwrote) has
	 * USED = !previous wrap, which is the current one.
	 */
	return (flags & (F_AVAIL | F_USED)) == q->used_bits;
}

bool packed_drv_has_used(const struct packed_drv *q)
{
	if (q->broken)
		return false;
	/* Acquire, like packed_drv_get_used(): callers go on to reap. */
	return is_used(q, __atomic_load_n(&q->ring[q->last_used].flags, __ATOMIC_ACQUIRE));
}

/* The device broke a rule: stop using the queue. */
static void *bad_device(struct packed_drv *q, const char *why)
{
	q->broken = true;
	q->error = why;
	return NULL;
}

/* The device broke a rule: stop using the queue, reap nothing. */
static __attribute__((__noinline__, __cold__)) void *used_fail(struct packed_drv *q,
							       const char *why)
{
	return bad_device(q, why);
}

/* packed_drv_get_used() once the descriptor at last_used is used: reap it. */
static __attribute__((__noinline__)) void *reap(struct packed_drv *q, uint32_t *len,
						const struct vring_packed_desc *d)
{
	uint16_t id = READ_DEVICE(d->id), size = q->size, last_used = q->last_used, n;
	uint32_t used_len = READ_DEVICE(d->len);
	void *token;

	if (id >= size)
		return used_fail(q, "used buffer id out of range");
	token = q->token[id];
	if (!token)
		return used_fail(q, "used buffer id is not outstanding");

	n = q->nslots[id];
	q->token[id] = NULL;
	q->num_free += n;
	advance(q->size, &last_used, &q->used_wrap, &q->used_bits, n);
	q->last_used = last_used;
	q->next_id[id] = q->free_id;
	q->free_id = id;

	if (q->follow_used) {
		/*
		 * Keep asking for a signal at the next used descriptor, so a
		 * driver that never disables callbacks hears of the next
		 * completion too.
		 */
		__atomic_store_n(&q->driver->off_wrap, last_used_event(q), __ATOMIC_RELAXED);
		/*
		 * Full fence: orders that store before our next look at the
		 * used flags.  It pairs with the full fence in
		 * packed_dev_should_signal() between the device's used store
		 * and its load of the driver area, as in packed_drv_enable_cb().
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (len)
		*len = used_len;
	return token;
}

/*
 * Looking and finding nothing ends every reaping loop, so it is a load
 * and a test; the reaping is reap()'s.
 */
void *packed_drv_get_used(struct packed_drv *q, uint32_t *len)
{
	const struct vring_packed_desc *d;
	uint16_t flags;

	if (q->broken)
		return NULL;

	/*
	 * Acquire: pairs with the release store of the used flags in
	 * packed_dev_push().  The id and len, and whatever the device wrote
	 * into the buffer, are visible to the reads that follow (and the
	 * caller's).
	 */
	d = &q->ring[q->last_used];
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	if (!is_used(q, flags))
		return NULL;
	return reap(q, len, d);
}

void packed_drv_disable_cb(struct packed_drv *q)
{
	q->cb_disabled = true;
	q->follow_used = false;
	/* No ordering needed: a device that sees this late signals once more. */
	__atomic_store_n(&q->driver->flags, VRING_PACKED_EVENT_FLAG_DISABLE, __ATOMIC_RELAXED);
}

bool packed_drv_enable_cb(struct packed_drv *q)
{
	if (q->broken)
		return true;
	q->cb_disabled = false;
	q->follow_used = q->event_idx;
	if (q->event_idx) {
		/* off_wrap first: the device reads it only when flags say DESC. */
		__atomic_store_n(&q->driver->off_wrap, last_used_event(q), __ATOMIC_RELAXED);
		__atomic_store_n(&q->driver->flags, VRING_PACKED_EVENT_FLAG_DESC, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&q->driver->flags, VRING_PACKED_EVENT_FLAG_ENABLE,
				 __ATOMIC_RELAXED);
	}
	/*
	 * Full fence: orders the driver-area stores above before the load of
	 * the used flags in packed_drv_has_used().  It pairs with the full
	 * fence in packed_dev_should_signal() between the device's used
	 * store and its load of the driver area: either the device sees our
	 * request and signals, or we see its used descriptor here and the
	 * caller reaps instead of sleeping.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !packed_drv_has_used(q);
}
