// SPDX-License-Identifier: GPL-2.0
/*
 * packed_dev.c: the launcher's half of a virtio 1.1 packed virtqueue.
 *
 * The guest allocates three parts and tells us where they are; we check
 * them once, in packed_dev_init():
 *
 *   ring: size descriptors of 16 bytes, 16-aligned; BOTH sides write it
 *   +------------------+------------------+------------------+-----
 *   | [0] addr len     | [1] addr len     | [2] addr len     | ...
 *   |     id  flags    |     id  flags    |     id  flags    |
 *   +------------------+------------------+------------------+-----
 *   driver area (4 bytes, the guest writes): off_wrap | flags
 *   device area (4 bytes, we write):         off_wrap | flags
 *
 * There is no separate avail or used ring: the driver writes buffers into
 * the ring in order, one descriptor per element, in consecutive slots
 * (NEXT on all but the last; the buffer id in the last), and we overwrite
 * those same slots with one "used" descriptor per buffer, {id, bytes
 * written}, in the order we finish them.  Who wrote a slot, and on which
 * lap, is told by two flag bits and two one-bit wrap counters, both
 * starting at 1 and flipping each time their side passes the ring's end:
 *
 *                           AVAIL bit      USED bit
 *   available (driver)      driver wrap    !driver wrap
 *   used (us)               our wrap       our wrap
 *
 * A ring of 4, the driver on its first lap (wrap 1), after it added buffer
 * 5 (two slots) and buffer 2 (one slot), and we finished buffer 2 first:
 *
 *   slot:    0               1               2               3
 *          +---------------+---------------+---------------+---------------+
 *          | id 2  len 64  | id 5          | id 2          | zero          |
 *          | AVAIL USED    | AVAIL         | AVAIL         | (nothing yet) |
 *          +---------------+---------------+---------------+---------------+
 *            ^ used by us,   ^ next_used      ^ read, not     ^ next_avail
 *              over 5's head                    yet reused      (wrap 1)
 *
 * The used descriptor for buffer 2 went into slot 0, the first slot not yet
 * used, although buffer 2 sat in slot 2: used descriptors go in completion
 * order, and each one moves next_used on by the number of slots *its*
 * buffer took (one, here), so the driver, which remembers that per id,
 * follows along.  Buffer 5 will be used at slot 1 and move next_used to 3.
 *
 * The two little areas suppress events.  Each has flags ENABLE (0: tell
 * me), DISABLE (1: don't) or DESC (2: tell me when the descriptor at
 * off_wrap = slot | wrap << 15 is reached; only with
 * VIRTIO_F_RING_EVENT_IDX).  We read the driver's to decide whether to
 * signal, and write ours to say whether we want NOTIFYs.
 *
 * The rules of draft3_dev.c hold here too.  The guest can change the ring
 * and its area under us at any moment, so every guest value is read
 * exactly once (READ_GUEST) into a local, checked, and only the local is
 * used; every (address, length) goes through guest_iov() or guest_ptr();
 * the first rule broken marks the queue broken with a message naming the
 * queue and the rule, and after that nothing here touches guest memory.
 *
 * Positions.  A (slot, wrap) pair names a place on a ring twice as long:
 * pos = slot, plus size when the wrap counter is 0.  Going round the ring
 * twice brings a position back to where it was, so distances between
 * positions are taken modulo 2 * size (a power of two); that is what the
 * event-suppression window is measured on (packed_event_passed(), in
 * include/packed_event.h, which the driver shares).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring/packed_dev.h"
#include "ring/guest_access.h"
#include "packed_event.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "virtio rings are little-endian; we use the fields as they are");
_Static_assert(sizeof(struct vring_packed_desc) == 16, "descriptors are 16 bytes");

/* The two ownership bits, as masks (the uapi header gives bit numbers). */
#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED	((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
/* off_wrap: the slot in the low 15 bits, the wrap counter on top. */
#define OFF_MASK ((uint16_t)((1u << VRING_PACKED_EVENT_F_WRAP_CTR) - 1))

/*
 * Read something the guest may be changing under us, exactly once: a
 * relaxed atomic load orders nothing, but it is one untorn read that the
 * compiler may not repeat.
 */

/* Record the first rule broken; later ones are its consequences. */
static void vfail(struct packed_dev *q, const char *fmt, va_list ap)
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

__attribute__((format(printf, 2, 3))) static void fail(struct packed_dev *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(q, fmt, ap);
	va_end(ap);
}

/* fail(), returning false: a way out of the hot paths that is a tail call. */
static __attribute__((__noinline__, __cold__, __format__(printf, 2, 3))) bool
fail_false(struct packed_dev *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(q, fmt, ap);
	va_end(ap);
	return false;
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

/* The AVAIL|USED bits of a descriptor made available on lap @wrap. */
static uint16_t avail_bits(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

/* The AVAIL|USED bits of a used descriptor written on lap @wrap. */
static uint16_t used_bits(bool wrap)
{
	return wrap ? F_AVAIL | F_USED : 0;
}

/* Whether @flags mark a descriptor the driver made available on lap @wrap. */
static bool is_avail(uint16_t flags, bool wrap)
{
	/* AVAIL == wrap and USED != wrap, in one compare. */
	return (flags & (F_AVAIL | F_USED)) == avail_bits(wrap);
}

bool packed_dev_init(struct packed_dev *q, const struct guest_mem *mem, const char *name,
		     uint16_t size, uint64_t ring_gpa, uint64_t driver_gpa, uint64_t device_gpa,
		     bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->mem = mem;
	q->size = size;
	q->event_idx = event_idx;
	q->indirect = indirect;

	/*
	 * A power of two, so that positions can be taken modulo 2 * size;
	 * the spec allows any size for packed rings, but our transport (like
	 * PCI's queue_size in practice) only offers powers of two.  uint16_t
	 * already stops at 65535, so "at most 2^15" is a real test.
	 */
	if (size == 0 || size > PACKED_MAX_SIZE || (size & (size - 1))) {
		fail(q, "size %u is not a power of two in 1..%u", size, PACKED_MAX_SIZE);
		return false;
	}
	/* The alignments the spec's table asks of the driver. */
	if (ring_gpa % 16) {
		fail(q, "ring address 0x%llx is not 16-byte aligned", (unsigned long long)ring_gpa);
		return false;
	}
	if (driver_gpa % 4) {
		fail(q, "driver area address 0x%llx is not 4-byte aligned",
		     (unsigned long long)driver_gpa);
		return false;
	}
	if (device_gpa % 4) {
		fail(q, "device area address 0x%llx is not 4-byte aligned",
		     (unsigned long long)device_gpa);
		return false;
	}
	q->ring = guest_ptr(mem, ring_gpa, (uint64_t)size * sizeof(*q->ring));
	if (!q->ring) {
		fail(q, "ring at 0x%llx (%u bytes) is outside guest RAM",
		     (unsigned long long)ring_gpa, size * 16u);
		return false;
	}
	q->driver = guest_ptr(mem, driver_gpa, sizeof(*q->driver));
	if (!q->driver) {
		fail(q, "driver area at 0x%llx is outside guest RAM",
		     (unsigned long long)driver_gpa);
		return false;
	}
	q->device = guest_ptr(mem, device_gpa, sizeof(*q->device));
	if (!q->device) {
		fail(q, "device area at 0x%llx is outside guest RAM",
		     (unsigned long long)device_gpa);
		return false;
	}
	q->slots = calloc(size, sizeof(*q->slots));
	if (!q->slots) {
		fail(q, "out of memory for %u in-flight slots", size);
		return false;
	}
	/*
	 * Both wrap counters start at 1, as the driver's do.  The driver
	 * zeroed the ring, and a zero descriptor has AVAIL = 0: not available
	 * on lap 1.  We leave the device area as the driver left it (zero:
	 * ENABLE, "notify me"), which is right for a device not yet running.
	 */
	q->signalled_wrap = true;
	packed_dev_set_position(q, 0, true);
	return true;
}

/*
 * The flag bits that go with each wrap counter are kept beside it (as
 * Linux's driver keeps avail_used_flags), so that no hot path computes
 * them from the counter; advance() flips both together.
 */
void packed_dev_set_position(struct packed_dev *q, uint16_t slot, bool wrap)
{
	q->next_avail = q->next_used = slot;
	q->avail_wrap = q->used_wrap = wrap;
	q->avail_bits = avail_bits(wrap);
	q->used_bits = used_bits(wrap);
	q->slots_in_flight = 0; /* next_used == next_avail */
}

void packed_dev_destroy(struct packed_dev *q)
{
	free(q->slots);
	q->slots = NULL;
	/* Whatever is called now fails instead of using the freed array. */
	q->broken = true;
}

/*
 * Where a descriptor came from, for messages: a ring slot, and for an
 * entry of an indirect table its index there (entry < 0: the slot itself).
 * Formatted only when something is wrong, never on the fast path.
 */
struct desc_at {
	uint16_t slot;
	int entry;
};

static const char *where(struct desc_at at, char *buf, size_t size)
{
	if (at.entry < 0)
		snprintf(buf, size, "slot %u", at.slot);
	else
		snprintf(buf, size, "slot %u indirect entry %d", at.slot, at.entry);
	return buf;
}

/* A chain under construction: c plus the running total of lengths. */
struct walk {
	struct chain *c;
	uint16_t head;	/* slot of the first descriptor, for messages */
	uint64_t total; /* bytes in all segments so far */
};

/*
 * Append one buffer element (a ring descriptor or an indirect table entry,
 * its fields already read once into locals) to the chain.
 */
static int add_segment(struct packed_dev *q, struct walk *w, struct desc_at at, uint16_t flags,
		       uint64_t addr, uint32_t len)
{
	struct chain *c = w->c;
	bool writable = flags & VRING_DESC_F_WRITE;
	unsigned int nseg = c->nread + c->nwrite;
	char buf[48];

	/*
	 * The chain API promises readable segments first: a device model
	 * takes seg[0, nread) as the request and the rest as room for the
	 * reply, so a readable element after a writable one has no place.
	 */
	if (!writable && c->nwrite) {
		fail(q, "%s: readable descriptor after a writable one",
		     where(at, buf, sizeof(buf)));
		return -1;
	}
	/*
	 * As in draft3_dev.c: a zero-length element moves no data, would
	 * hand a device model an empty iovec to spin on, and refusing it
	 * means every segment names at least one byte we checked is RAM.
	 */
	if (len == 0) {
		fail(q, "%s: zero length", where(at, buf, sizeof(buf)));
		return -1;
	}
	if (nseg == CHAIN_MAX_SEGS) {
		fail(q, "chain from slot %u needs more than %u segments", w->head, CHAIN_MAX_SEGS);
		return -1;
	}
	if (!guest_iov(q->mem, addr, len, &c->seg[nseg])) {
		fail(q, "%s: addr 0x%llx len %u is outside guest RAM", where(at, buf, sizeof(buf)),
		     (unsigned long long)addr, len);
		return -1;
	}
	/*
	 * The used length the device reports is 32 bits, and so is every
	 * length a device model works in; a buffer bigger than that could
	 * not be described back.  (At most 512 lengths below 2^32 each: the
	 * 64-bit sum cannot overflow.)
	 */
	w->total += len;
	if (w->total > UINT32_MAX) {
		fail(q, "chain from slot %u is longer than %u bytes", w->head, UINT32_MAX);
		return -1;
	}
	if (writable) {
		c->nwrite++;
		c->write_len += len;
	} else {
		c->nread++;
		c->read_len += len;
	}
	return 0;
}

/*
 * The ring descriptor at @slot has INDIRECT: its (addr, len) is a table of
 * struct vring_packed_desc, each entry one more element of the buffer.
 * @nth is the descriptor's place in its chain (1 = the head).
 */
static int add_indirect(struct packed_dev *q, struct walk *w, uint16_t slot, uint32_t nth,
			uint16_t flags, uint64_t addr, uint32_t len)
{
	const struct vring_packed_desc *table;
	struct desc_at at = { slot, -1 };

	if (!q->indirect) {
		fail(q, "slot %u: INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated", slot);
		return -1;
	}
	/*
	 * An indirect descriptor is a whole buffer in one ring slot: it may
	 * neither continue (NEXT) nor end a chain of direct descriptors
	 * ("each list only contains descriptors of a given type").
	 */
	if (flags & VRING_DESC_F_NEXT) {
		fail(q, "slot %u: INDIRECT together with NEXT", slot);
		return -1;
	}
	if (nth > 1) {
		fail(q, "slot %u: INDIRECT inside a chain of direct descriptors", slot);
		return -1;
	}
	if (len == 0) {
		fail(q, "slot %u: indirect table length 0", slot);
		return -1;
	}
	if (len % sizeof(*table)) {
		fail(q, "slot %u: indirect table length %u is not a multiple of 16", slot, len);
		return -1;
	}
	/*
	 * The spec names no alignment for the table, but we read its fields
	 * with atomic loads, which C only defines on aligned objects: insist
	 * on the alignment of the struct (8, for its 64-bit addr).  Every
	 * real driver allocates tables with at least that.
	 */
	if (addr % _Alignof(struct vring_packed_desc)) {
		fail(q, "slot %u: indirect table at 0x%llx is not 8-byte aligned", slot,
		     (unsigned long long)addr);
		return -1;
	}
	table = guest_ptr(q->mem, addr, len);
	if (!table) {
		fail(q, "slot %u: indirect table at 0x%llx len %u is outside guest RAM", slot,
		     (unsigned long long)addr, len);
		return -1;
	}

	/*
	 * The table needs no acquire of its own: the driver filled it before
	 * its release store of the head's flags, which we loaded with
	 * acquire.  A table can be long (len / 16 entries of RAM), but
	 * add_segment() stops us at CHAIN_MAX_SEGS.
	 */
	w->c->indirect_from = w->c->nread + w->c->nwrite; /* for the trace */
	for (uint32_t i = 0; i < len / sizeof(*table); i++) {
		const struct vring_packed_desc *g = &table[i];
		uint16_t eflags = GUEST_READ(q->mem, g->flags);

		at.entry = (int)i;
		/* Only WRITE means anything here; NEXT, id and the rest are ignored. */
		if (eflags & VRING_DESC_F_INDIRECT) {
			fail(q, "slot %u indirect entry %u: nested INDIRECT", slot, i);
			return -1;
		}
		if (add_segment(q, w, at, eflags, GUEST_READ(q->mem, g->addr),
				GUEST_READ(q->mem, g->len)) < 0)
			return -1;
		w->c->ndesc++;
	}
	return 0;
}

/*
 * The descriptor at next_avail is available, with @head_flags (read with
 * acquire).  Walk its chain through the following slots, building c, and
 * take the buffer: returns 1, or -1 if a rule was broken (then nothing of
 * ours has changed but the broken flag).
 */
static int take_chain(struct packed_dev *q, struct chain *c, uint16_t head_flags)
{
	struct walk w = { .c = c, .head = q->next_avail };
	uint16_t slot = q->next_avail, flags = head_flags, id, bits = q->avail_bits;
	bool wrap = q->avail_wrap;
	uint32_t nslots = 0, in_flight;

	for (;;) {
		const struct vring_packed_desc *g = &q->ring[slot];
		uint64_t addr;
		uint32_t len;

		/*
		 * A chain may fill the ring but no more: one descriptor
		 * further would be the head again.  Counting is what stops a
		 * chain that is NEXT all the way round, whatever its flags.
		 */
		if (nslots == q->size) {
			fail(q, "chain from slot %u is longer than the ring (%u descriptors)",
			     w.head, q->size);
			return -1;
		}
		/*
		 * The driver writes a chain's later descriptors first and the
		 * head last, so by the time we see the head, every descriptor
		 * after it must be available on the lap it sits on: with the
		 * driver's wrap counter, flipped if the chain crossed the end
		 * of the ring.  Anything else (a chain running into slots
		 * from the last lap, or a wrap counter not flipped at the
		 * end) means the driver's wrap counters make no sense.
		 */
		if (nslots > 0) {
			flags = GUEST_READ(q->mem, g->flags);
			if (!is_avail(flags, wrap)) {
				fail(q,
				     "chain from slot %u continues into slot %u, which is not available (flags 0x%x, wrap counter %u)",
				     w.head, slot, flags, wrap);
				return -1;
			}
		}
		addr = GUEST_READ(q->mem, g->addr);
		len = GUEST_READ(q->mem, g->len);
		id = GUEST_READ(q->mem, g->id); /* only the last one's counts */
		nslots++;
		c->ndesc++;

		if (flags & VRING_DESC_F_INDIRECT) {
			/* It refuses NEXT, so it is also the chain's end. */
			if (add_indirect(q, &w, slot, nslots, flags, addr, len) < 0)
				return -1;
			break;
		}
		if (add_segment(q, &w, (struct desc_at){ slot, -1 }, flags, addr, len) < 0)
			return -1;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		advance(q->size, &slot, &wrap, &bits, 1);
	}

	/* The buffer id is in the chain's last descriptor. */
	if (id >= q->size) {
		fail(q, "buffer id %u out of range (%u)", id, q->size);
		return -1;
	}
	/* The same id twice would have two requests answered as one. */
	if (q->slots[id]) {
		fail(q, "buffer id %u is already in flight", id);
		return -1;
	}
	/*
	 * Slots from next_used to next_avail belong to buffers in flight (we
	 * overwrite them with used descriptors).  A driver that made more
	 * available than the ring holds has written over one of those.  We
	 * count them as we take and push (slots_in_flight) rather than
	 * measure the distance between the two positions each time.
	 */
	in_flight = q->slots_in_flight;
	if (in_flight + nslots > q->size) {
		fail(q, "chain from slot %u overfills the ring (%u slots in flight, %u more)",
		     w.head, in_flight, nslots);
		return -1;
	}

	q->slots[id] = (uint16_t)nslots;
	q->slots_in_flight = (uint16_t)(in_flight + nslots);
	advance(q->size, &q->next_avail, &q->avail_wrap, &q->avail_bits, nslots);
	c->id = id;
	return 1;
}

/* The guest broke a rule in a pop: say which, and yield nothing (a tail call). */
static __attribute__((__noinline__, __cold__, __format__(printf, 3, 4))) int
pop_fail(struct packed_dev *q, struct chain *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(q, fmt, ap);
	va_end(ap);
	chain_reset(c);
	return -1;
}

/* pop_available() for any buffer but a lone direct descriptor. */
static __attribute__((__noinline__)) int pop_walk(struct packed_dev *q, struct chain *c,
						  uint16_t flags)
{
	chain_reset(c);
	if (take_chain(q, c, flags) < 0) {
		chain_reset(c);
		return -1;
	}
	return 1;
}

/*
 * The common case as a straight line: the head at next_avail (@flags read
 * with acquire) is a whole buffer of one direct descriptor, in RAM, with
 * an id not in flight, and the ring has its slot to spare.  Returns 1 with
 * the buffer taken into @c, or 0 for anything else: pop_walk() then reads
 * the descriptor again and checks every rule with messages, and nothing
 * read here is used.
 */
static int take_one(struct packed_dev *q, struct chain *c,
		    const struct vring_packed_desc __guest *g, uint16_t flags)
{
	uint16_t size = q->size, id;
	bool writable = flags & VRING_DESC_F_WRITE;
	uint64_t addr;
	uint32_t len, in_flight;

	if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT))
		return 0;
	addr = GUEST_READ(q->mem, g->addr);
	len = GUEST_READ(q->mem, g->len);
	id = GUEST_READ(q->mem, g->id);
	/*
	 * The address before the id: done in this order, the checks leave
	 * gcc few enough values live that this path builds no frame.
	 */
	if (len == 0 || !guest_iov_direct(q->mem, addr, len, &c->seg[0]))
		return 0;
	in_flight = q->slots_in_flight;
	if (id >= size || q->slots[id] || in_flight >= size)
		return 0;
	q->slots[id] = 1;
	q->slots_in_flight = (uint16_t)(in_flight + 1);
	advance(q->size, &q->next_avail, &q->avail_wrap, &q->avail_bits, 1);
	chain_one_segment(c, len, writable);
	c->id = id;
	return 1;
}

/*
 * packed_dev_pop() of a head whose AVAIL bit says "this lap" but whose
 * USED bit agrees with it: that is how a used descriptor looks, and we
 * cannot have written one here on this lap (next_used is never ahead of
 * next_avail).
 */
static __attribute__((__noinline__, __cold__)) int pop_neither(struct packed_dev *q,
							       struct chain *c, uint16_t flags)
{
	return pop_fail(q, c,
			"slot %u: flags 0x%x are neither available nor used (wrap counter %u)",
			q->next_avail, flags, q->avail_wrap);
}

/* packed_dev_pop() once the head at next_avail is available: take it. */
static __attribute__((__noinline__)) int pop_available(struct packed_dev *q, struct chain *c,
						       const struct vring_packed_desc __guest *g,
						       uint16_t flags)
{
	if (take_one(q, c, g, flags))
		return 1;
	return pop_walk(q, c, flags);
}

/*
 * Looking and finding nothing ends every device loop, so it is a load and
 * a compare; taking is pop_available()'s.  A pop that yields no buffer
 * leaves @c empty.
 */
int packed_dev_pop(struct packed_dev *q, struct chain *c)
{
	const struct vring_packed_desc __guest *g;
	uint16_t flags, bits;

	if (q->broken) {
		chain_reset(c);
		return -1;
	}
	/*
	 * Acquire: pairs with the release store of the head's flags in
	 * packed_drv_add().  Everything the driver wrote before making the
	 * head available (the rest of the chain, an indirect table, the
	 * head's own addr/len/id, and the data in readable buffers) is
	 * visible to the reads that follow.
	 */
	g = &q->ring[q->next_avail];
	flags = GUEST_READ_ACQUIRE(q->mem, g->flags);
	/* Available on this lap: AVAIL == wrap and USED != wrap. */
	bits = flags & (F_AVAIL | F_USED);
	if (bits == q->avail_bits)
		return pop_available(q, c, g, flags);
	/*
	 * AVAIL alone says whether the driver has been here on this lap: if
	 * it agrees with ours, USED cannot have.
	 */
	if (!((bits ^ q->avail_bits) & F_AVAIL))
		return pop_neither(q, c, flags);
	chain_reset(c);
	return 0;
}

bool packed_dev_push(struct packed_dev *q, const struct chain *c, uint32_t written)
{
	/*
	 * Locals, not q's fields: the compiler cannot tell our stores into
	 * the ring from stores into *q, and would load each field again
	 * after every one of them.
	 */
	uint16_t next_used = q->next_used, n, flags = q->used_bits;
	uint32_t id = c->id;
	struct vring_packed_desc *d;

	if (q->broken)
		return false;
	if (id >= q->size || !q->slots[id])
		return fail_false(q, "push of buffer id %u, which is not in flight", id);
	/* A device model claiming more than the buffer holds: cap it. */
	if (written > c->write_len)
		written = (uint32_t)c->write_len;

	/*
	 * next_used is a slot of a buffer in flight, so it is ours to write:
	 * the driver will not touch it before it sees our flags.  (addr is
	 * unused in a used descriptor; we leave it be.)  WRITE in a used
	 * descriptor says that len counts bytes we wrote.
	 */
	d = &q->ring[next_used];
	if (written)
		flags |= VRING_DESC_F_WRITE;
	n = q->slots[id];
	q->slots[id] = 0;
	q->slots_in_flight -= n;
	GUEST_WRITE(q->mem, d->id, (uint16_t)id);
	GUEST_WRITE(q->mem, d->len, written);
	/*
	 * Release, and last: pairs with the acquire load of the flags in
	 * packed_drv_get_used() (and packed_drv_has_used()).  The id and len
	 * above, and every byte the device model wrote into the buffer
	 * before calling us, are visible before the driver sees it used.
	 */
	GUEST_WRITE_RELEASE(q->mem, d->flags, flags);

	/*
	 * The window the next packed_dev_should_signal() looks at runs from
	 * the last decision to next_used, measured modulo 2 * size: exact
	 * while it is shorter than two laps.  A device that pushes two laps
	 * without deciding (the driver reaping and refilling all the while)
	 * would see it come out short, maybe empty, and miss the driver's
	 * event; so before that happens forget the decision point, and the
	 * next decision signals, as the first one does.  An extra signal is
	 * harmless; a missing one is a hang.  pushes_left counts down the
	 * pushes the window has room for, 2 * size - 1 after a decision, so
	 * that this is one subtraction and its borrow, not two positions
	 * measured.  (Once the point is forgotten, going on past 0 changes
	 * nothing: the count wraps and borrows again only 2^32 pushes later,
	 * and only a decision sets signalled_valid again, and the count with
	 * it.)
	 */
	if (__builtin_sub_overflow(q->pushes_left, n, &q->pushes_left))
		q->signalled_valid = false;
	/*
	 * The counter and bits change once a lap: kept in q, not locals.
	 * So is size, loaded again here: held across the stores, it would
	 * cost this path a frame.
	 */
	advance(q->size, &next_used, &q->used_wrap, &q->used_bits, n);
	q->next_used = next_used;
	return true;
}

void packed_dev_disable_notify(struct packed_dev *q)
{
	if (q->broken)
		return;
	/*
	 * No ordering needed: a driver that sees this late only sends a
	 * NOTIFY we did not need.
	 */
	GUEST_WRITE(q->mem, q->device->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
}

bool packed_dev_enable_notify(struct packed_dev *q)
{
	uint16_t off_wrap;

	if (q->broken)
		return false;
	if (q->event_idx) {
		/*
		 * "Notify me when the descriptor at next_avail becomes
		 * available": the driver compares this with the slots it made
		 * available since its last publish.
		 */
		off_wrap =
			q->next_avail | (uint16_t)(q->avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR);
		GUEST_WRITE(q->mem, q->device->off_wrap, off_wrap);
		GUEST_WRITE(q->mem, q->device->flags, VRING_PACKED_EVENT_FLAG_DESC);
	} else {
		GUEST_WRITE(q->mem, q->device->flags, VRING_PACKED_EVENT_FLAG_ENABLE);
	}
	/*
	 * Full fence: orders the device-area stores above before the load of
	 * the next head's flags in packed_dev_has_avail().  It pairs with the
	 * full fence in packed_drv_publish() between the driver's head-flags
	 * store (packed_drv_add()) and its load of the device area.  With a
	 * fence on both sides at least one of us sees the other's store:
	 * either the driver sees us asking and notifies, or we see its new
	 * buffer here and the caller pops it instead of sleeping.
	 */
	guest_fence();
	return packed_dev_has_avail(q);
}

/*
 * A signal decision was made at next_used: the next one covers the
 * window from here.
 */
static inline __attribute__((__always_inline__)) void decided(struct packed_dev *q)
{
	q->signalled_used = q->next_used;
	q->signalled_wrap = q->used_wrap;
	q->signalled_valid = true;
	q->pushes_left = 2u * q->size - 1;
}

/*
 * packed_dev_should_signal() when the driver asks for DESC: a signal if
 * the used descriptor it names lies in the window (last decision,
 * next_used].
 */
static __attribute__((__noinline__)) bool should_signal_desc(struct packed_dev *q)
{
	/*
	 * The window's length, while a decision is remembered: less than two
	 * laps, or push() would have forgotten it.
	 */
	uint32_t pushed = 2u * q->size - 1 - q->pushes_left;
	bool had_decision = q->signalled_valid;
	uint16_t off_wrap, off;

	decided(q);
	if (!q->event_idx)
		return fail_false(q, "driver area flags DESC without VIRTIO_F_RING_EVENT_IDX");
	off_wrap = GUEST_READ(q->mem, q->driver->off_wrap);
	off = off_wrap & OFF_MASK;
	if (off >= q->size)
		return fail_false(q, "driver area event offset %u out of range (%u)", off, q->size);
	/* No window yet (the first decision, or one forgotten by push()): signal. */
	if (!had_decision)
		return true;
	/*
	 * The driver wants a signal once the used descriptor at off_wrap has
	 * been written: if it is one of the pushed positions just before
	 * next_used.
	 */
	return packed_event_passed(off_wrap, q->next_used, q->used_wrap, pushed, q->size);
}

bool packed_dev_should_signal(struct packed_dev *q)
{
	uint16_t flags;

	if (q->broken)
		return false;
	/*
	 * Full fence: orders our used-descriptor stores (packed_dev_push())
	 * before the driver-area loads below.  It pairs with the full fence
	 * in packed_drv_enable_cb() (and in packed_drv_get_used() when it
	 * moves off_wrap) between the driver's driver-area store and its
	 * load of the next used descriptor's flags: either we see what it
	 * asked for and signal, or it sees our used descriptor and does not
	 * sleep.
	 */
	guest_fence();
	flags = GUEST_READ(q->mem, q->driver->flags);

	/*
	 * Every way out records the decision point; only DESC needs what the
	 * last one left: whether there was one, and the pushes since.
	 */
	switch (flags) {
	case VRING_PACKED_EVENT_FLAG_ENABLE:
		decided(q);
		return true;
	case VRING_PACKED_EVENT_FLAG_DISABLE:
		decided(q);
		return false;
	case VRING_PACKED_EVENT_FLAG_DESC:
		return should_signal_desc(q);
	default:
		decided(q);
		fail(q, "driver area flags 0x%x are reserved", flags);
		return false;
	}
}

bool packed_dev_has_avail(const struct packed_dev *q)
{
	uint16_t flags;

	if (q->broken)
		return false;
	/*
	 * Acquire, like packed_dev_pop(): a caller that sees true goes on to
	 * pop.  AVAIL alone decides; a head whose USED bit disagrees counts
	 * as available, so that the pop finds the fault and reports it.
	 */
	flags = GUEST_READ_ACQUIRE(q->mem, q->ring[q->next_avail].flags);
	return !!(flags & F_AVAIL) == q->avail_wrap;
}
