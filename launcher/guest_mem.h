/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_mem.h: guest RAM as the launcher sees it, and the one place that
 * turns a guest-physical (address, length) into a host pointer.
 *
 * Every address the guest hands us (a descriptor, a ring page, a string to
 * print) goes through guest_ptr() or guest_iov(), which refuse anything not
 * wholly inside RAM, so nothing else in the launcher does address arithmetic
 * on guest values.
 */
#ifndef LAUNCHER_GUEST_MEM_H
#define LAUNCHER_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* A piece of guest RAM that is somewhere else in our address space. */
struct guest_mem_region {
	uint64_t gpa;  /* where it starts, guest-physical */
	uint64_t size; /* bytes */
	uint8_t *host; /* where we have it mapped */
};

/*
 * The launcher's guest RAM is one mapping from guest-physical 0: @base,
 * @size.  A process that serves another VMM's rings (a vhost-user
 * backend) gets RAM in several pieces, with holes between them (a PC's
 * 640 KiB to 1 MiB, below 4 GiB): then @nregions > 0 and @regions list
 * them, @base is unused and @size is 0.  A range must lie wholly inside
 * one region, as it does in every layout QEMU sends.
 */
struct guest_mem {
	uint8_t *base; /* host address of guest-physical 0 */
	uint64_t size; /* bytes of guest RAM */
	int fd;	       /* the memfd behind it (guest_ram.c), or -1 */
	const struct guest_mem_region *regions;
	unsigned int nregions;
	/*
	 * host-module/ only: set when reading or writing guest memory
	 * faulted (ring/guest_access.h).  NULL in the launcher, where RAM
	 * is our own mapping and cannot.
	 */
	bool *fault;
};

/*
 * Guest RAM as one memfd, sealed against shrinking and growing, mapped
 * shared here (guest_ram.c).  Dies with one line if it cannot.
 */
void guest_mem_create(struct guest_mem *mem, uint64_t size);

/* guest_ptr() for several regions, or for a range outside RAM. */
void *guest_ptr_slow(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/*
 * Host pointer to [gpa, gpa + len), or NULL if any byte lies outside RAM.
 * Inline for the ring code's hot path: with one mapping, an address in
 * RAM costs two compares.  Neither can wrap: gpa <= size first, then len
 * against the room left after gpa (guest_mem.c says more).
 */
static inline void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (__builtin_expect(!mem->nregions && gpa <= mem->size && len <= mem->size - gpa, 1))
		return mem->base + gpa;
	return guest_ptr_slow(mem, gpa, len);
}

/*
 * Fill *iov with [gpa, gpa + len), @len > 0, if guest RAM is one mapping
 * and the range lies in it; false otherwise, and the caller takes the
 * long way (guest_iov()).  No call at all, for a hot path that wants no
 * frame.  RAM in regions has size 0, so the one bound refuses every
 * range there too, without a test of nregions.
 */
static inline bool guest_iov_direct(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
				    struct iovec *iov)
{
	if (gpa > mem->size || len > mem->size - gpa)
		return false;
	iov->iov_base = mem->base + gpa;
	iov->iov_len = (size_t)len;
	return true;
}

/* Fill *iov with [gpa, gpa + len); false if outside RAM. */
static inline bool guest_iov(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
			     struct iovec *iov)
{
	void *p = guest_ptr(mem, gpa, len);

	if (!p)
		return false;
	iov->iov_base = p;
	iov->iov_len = (size_t)len;
	return true;
}

/*
 * The other way: the guest-physical address of host pointer @p, which
 * guest_ptr() or guest_iov() gave us (for the trace), or UINT64_MAX.
 */
uint64_t guest_gpa(const struct guest_mem *mem, const void *p);

#endif /* LAUNCHER_GUEST_MEM_H */
