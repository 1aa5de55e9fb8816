// SPDX-License-Identifier: GPL-2.0
/*
 * ringtest_checked_packed.c: a virtio 1.1 packed ring in ringtest's shape
 * that checks what lguest's packed ring checks, to measure what the checks
 * cost.  ringtest_checked.c is its split twin and says why; this file
 * follows it step for step.
 *
 * ringtest has no packed ring: its ring.c, the experiment that led to the
 * format, has one flag bit the device clears and no ids.  So there is no
 * unchecked version of this exact layout to set beside it; ring.c is the
 * nearest (docs/ringtest.md).
 *
 * The rules, checked on a one-descriptor buffer the way
 * guest/ring/packed_drv.c and launcher/ring/packed_dev.c check them:
 *
 *   device: a head whose AVAIL bit says "this lap" but whose USED bit
 *   agrees with it is neither available nor used; the descriptor has
 *   neither NEXT nor INDIRECT, is not empty, and lies in guest RAM
 *   against one bound; its buffer id is in range and not in flight, and
 *   the ring has a slot to spare for it; on push, the id is in flight and
 *   the length written is capped at what the buffer lets the device
 *   write; the driver area's flags are one of the three the spec defines,
 *   DESC only with the event index, its offset in the ring; a signal
 *   decision is forgotten before the pushes since it could wrap round it.
 *
 *   driver: nothing added to a broken ring or without a token; the used
 *   buffer id is in range and names a buffer that is out.
 *
 * Both sides' event areas start at DISABLE, as ringbench's polling runs
 * leave them (ringtest's own loops never call disable_*() when polling).
 *
 * Not built by our Makefile: tools/ringtest-build.sh builds it as it
 * builds ringtest_checked.c, into checked-packed-lockstep and
 * checked-packed-calls-lockstep.
 */
#include "ringtest_checked.h"

#include "packed_event.h"

#define F_AVAIL	 ((unsigned short)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED	 ((unsigned short)(1u << VRING_PACKED_DESC_F_USED))
#define OFF_MASK ((unsigned short)((1u << VRING_PACKED_EVENT_F_WRAP_CTR) - 1))

static struct vring_packed_desc *ring;
static struct vring_packed_desc_event *driver_area, *device_area;

/* Both wrap counters start at 1; the AVAIL|USED bits of each lap are kept beside them. */
static struct {
	unsigned short next_avail, avail_bits;
	unsigned short last_used, used_bits;
	bool avail_wrap, used_wrap, broken;
	unsigned short num_free, num_added, free_id;
	void **token;		 /* by buffer id: set while it is out */
	unsigned short *nslots;	 /* by buffer id: ring slots it took */
	unsigned short *next_id; /* the free list of ids */
} __attribute__((__aligned__(SIDE_ALIGN))) drv;

static struct {
	unsigned short next_avail, avail_bits;
	unsigned short next_used, used_bits;
	bool avail_wrap, used_wrap, broken, signalled_valid;
	unsigned short slots_in_flight;
	unsigned int pushes_left;
	unsigned short *slots; /* by buffer id: slots it took, 0 = not in flight */
	unsigned long ram_base, ram_size;
} __attribute__((__aligned__(SIDE_ALIGN))) dev;

struct popped {
	unsigned int id;
	unsigned int write_len;
	unsigned int len;
	void *host;
};

/* Step a position @n slots on, flipping the lap's counter and bits at the end. */
static inline void advance(unsigned short *slot, bool *wrap, unsigned short *bits, unsigned int n)
{
	unsigned int s = *slot + n;

	if (s >= ring_size) {
		s -= ring_size;
		*wrap = !*wrap;
		*bits ^= F_AVAIL | F_USED;
	}
	*slot = s;
}

void alloc_ring(void)
{
	size_t bytes = ring_size * sizeof(*ring) + 2 * sizeof(*driver_area);
	void *p;

	if (posix_memalign(&p, 0x1000, bytes)) {
		perror("ringtest_checked_packed: ring");
		exit(3);
	}
	memset(p, 0, bytes);
	ring = p;
	driver_area = (struct vring_packed_desc_event *)(ring + ring_size);
	device_area = driver_area + 1;
	driver_area->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	device_area->flags = VRING_PACKED_EVENT_FLAG_DISABLE;

	drv.avail_wrap = drv.used_wrap = true;
	drv.avail_bits = F_AVAIL;
	drv.used_bits = F_AVAIL | F_USED;
	drv.num_free = ring_size;
	drv.token = calloc(ring_size, sizeof(*drv.token));
	drv.nslots = calloc(ring_size, sizeof(*drv.nslots));
	drv.next_id = calloc(ring_size, sizeof(*drv.next_id));
	dev.avail_wrap = dev.used_wrap = true;
	dev.avail_bits = F_AVAIL;
	dev.used_bits = F_AVAIL | F_USED;
	dev.slots = calloc(ring_size, sizeof(*dev.slots));
	if (!drv.token || !drv.nslots || !drv.next_id || !dev.slots) {
		perror("ringtest_checked_packed: state");
		exit(3);
	}
	for (unsigned int i = 0; i < ring_size; i++)
		drv.next_id[i] = i + 1; /* ring_size ends the list */
	dev.ram_base = 0;
	dev.ram_size = CHECKED_RAM_SIZE;
}

/* Driver side. */

int add_inbuf(unsigned int len, void *buf, void *datap)
{
	unsigned short slot = drv.next_avail, id = drv.free_id;
	struct vring_packed_desc *d = &ring[slot];
	unsigned short flags = drv.avail_bits;

	if (drv.broken || !datap || !drv.num_free || id >= ring_size)
		return -1;
	drv.free_id = drv.next_id[id];
	d->addr = (unsigned long)buf;
	d->len = len;
	d->id = id;
	drv.token[id] = datap;
	drv.nslots[id] = 1;
	drv.num_free--;
	advance(&slot, &drv.avail_wrap, &drv.avail_bits, 1);
	drv.next_avail = slot;
	if (drv.num_added < ring_size)
		drv.num_added++;
	/* Release: the descriptor's addr, len and id before its flags. */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	return 0;
}

void kick_available(void)
{
	unsigned short added = drv.num_added, flags;

	if (drv.broken || !added)
		return;
	drv.num_added = 0;
	/* Full fence: our head flags before the device area's. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&device_area->flags, __ATOMIC_RELAXED);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || added >= ring_size ||
	    packed_event_passed(__atomic_load_n(&device_area->off_wrap, __ATOMIC_RELAXED),
				drv.next_avail, drv.avail_wrap, added, ring_size))
		kick();
}

void *get_buf(unsigned int *lenp, void **bufp)
{
	struct vring_packed_desc *d = &ring[drv.last_used];
	unsigned short flags, id, n, last_used;
	void *token;

	if (drv.broken)
		return NULL;
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	if ((flags & (F_AVAIL | F_USED)) != drv.used_bits)
		return NULL;
	id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	*lenp = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	if (id >= ring_size || !(token = drv.token[id])) {
		broke(&drv.broken);
		return NULL;
	}
	/* Our drivers give back only the token; ringtest's loops ignore this. */
	*bufp = NULL;
	n = drv.nslots[id];
	drv.token[id] = NULL;
	drv.num_free += n;
	last_used = drv.last_used;
	advance(&last_used, &drv.used_wrap, &drv.used_bits, n);
	drv.last_used = last_used;
	drv.next_id[id] = drv.free_id;
	drv.free_id = id;
	return token;
}

bool used_empty(void)
{
	return drv.broken || (__atomic_load_n(&ring[drv.last_used].flags, __ATOMIC_ACQUIRE) &
			      (F_AVAIL | F_USED)) != drv.used_bits;
}

void disable_call(void)
{
	__atomic_store_n(&driver_area->flags, VRING_PACKED_EVENT_FLAG_DISABLE, __ATOMIC_RELAXED);
}

bool enable_call(void)
{
	__atomic_store_n(&driver_area->off_wrap,
			 drv.last_used | drv.used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&driver_area->flags, VRING_PACKED_EVENT_FLAG_DESC, __ATOMIC_RELAXED);
	/* Full fence: the driver area before our next look at the used flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return used_empty();
}

/* Device side. */

STEP int pop(struct popped *p)
{
	struct vring_packed_desc *d = &ring[dev.next_avail];
	unsigned short flags, bits, id, in_flight;
	unsigned long addr;
	unsigned int len;

	if (dev.broken)
		return -1;
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	bits = flags & (F_AVAIL | F_USED);
	if (bits != dev.avail_bits) {
		/* AVAIL agreeing with our lap while USED does too: neither. */
		if (!((bits ^ dev.avail_bits) & F_AVAIL))
			goto bad;
		return 0;
	}
	if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT))
		goto bad;
	addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	in_flight = dev.slots_in_flight;
	if (len == 0 || addr > dev.ram_size || len > dev.ram_size - addr || id >= ring_size ||
	    dev.slots[id] || in_flight >= ring_size)
		goto bad;
	dev.slots[id] = 1;
	dev.slots_in_flight = in_flight + 1;
	advance(&dev.next_avail, &dev.avail_wrap, &dev.avail_bits, 1);
	p->id = id;
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
	unsigned short next_used = dev.next_used, flags = dev.used_bits, n;
	struct vring_packed_desc *d;
	unsigned int id = p->id;

	if (dev.broken)
		return false;
	if (id >= ring_size || !dev.slots[id]) {
		broke(&dev.broken);
		return false;
	}
	if (written > p->write_len)
		written = p->write_len;
	d = &ring[next_used];
	if (written)
		flags |= VRING_DESC_F_WRITE;
	n = dev.slots[id];
	dev.slots[id] = 0;
	dev.slots_in_flight -= n;
	__atomic_store_n(&d->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, written, __ATOMIC_RELAXED);
	/* Release: the id and len (and the buffer's bytes) before the flags. */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	if (__builtin_sub_overflow(dev.pushes_left, n, &dev.pushes_left))
		dev.signalled_valid = false;
	advance(&next_used, &dev.used_wrap, &dev.used_bits, n);
	dev.next_used = next_used;
	return true;
}

bool use_buf(unsigned int *lenp, void **bufp)
{
	struct popped p;

	if (pop(&p) <= 0)
		return false;
	*lenp = p.len;
	*bufp = p.host;
	return push(&p, p.len - 1);
}

void call_used(void)
{
	unsigned int pushed = 2u * ring_size - 1 - dev.pushes_left;
	bool had_decision = dev.signalled_valid;
	unsigned short flags, off_wrap;

	if (dev.broken)
		return;
	/* Full fence: our used flags before the driver area's. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&driver_area->flags, __ATOMIC_RELAXED);
	dev.signalled_valid = true;
	dev.pushes_left = 2u * ring_size - 1;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return;
	if (flags == VRING_PACKED_EVENT_FLAG_ENABLE) {
		call();
		return;
	}
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		goto bad;
	/* ringtest's rings use the event index unconditionally. */
	off_wrap = __atomic_load_n(&driver_area->off_wrap, __ATOMIC_RELAXED);
	if ((off_wrap & OFF_MASK) >= ring_size)
		goto bad;
	if (!had_decision ||
	    packed_event_passed(off_wrap, dev.next_used, dev.used_wrap, pushed, ring_size))
		call();
	return;
bad:
	broke(&dev.broken);
}

bool avail_empty(void)
{
	return dev.broken || !(__atomic_load_n(&ring[dev.next_avail].flags, __ATOMIC_ACQUIRE) &
			       F_AVAIL) != !dev.avail_wrap;
}

void disable_kick(void)
{
	__atomic_store_n(&device_area->flags, VRING_PACKED_EVENT_FLAG_DISABLE, __ATOMIC_RELAXED);
}

bool enable_kick(void)
{
	__atomic_store_n(&device_area->off_wrap,
			 dev.next_avail | dev.avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&device_area->flags, VRING_PACKED_EVENT_FLAG_DESC, __ATOMIC_RELAXED);
	/* Full fence: the device area before our next look at the head. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_empty();
}
