// SPDX-License-Identifier: GPL-2.0
/*
 * guest_mem.c: turning guest-physical addresses into host pointers.
 *
 * In the launcher guest RAM is one mapping in our address space:
 * guest-physical address 0 is mem->base, and there are mem->size bytes of
 * it.  (A vhost-user backend sees it as regions, each checked the same
 * way.)  Every number the
 * guest gives us is hostile until proven otherwise, so the check below is
 * written so that no addition can wrap: instead of asking "is gpa + len <=
 * size?" (gpa + len can overflow 64 bits and come out small) we ask "is
 * gpa <= size, and does len fit in what is left after gpa?".
 *
 * A zero-length range is allowed anywhere from 0 up to and including
 * mem->size: it names no byte, so no byte of it lies outside RAM.  At
 * gpa == size the pointer we return is one past the end of the mapping,
 * which C lets us form but not dereference; callers only ever dereference
 * the len bytes they asked for, and here that is none.  (The draft-III
 * device never asks for a zero-length range: it rejects zero-length
 * descriptors before calling us.)  A zero-length range *beyond* the end
 * (gpa > size) is refused, because its address is already outside RAM.
 */
#include <stddef.h>

#include "guest_mem.h"

/* iov_len is a size_t: make sure every in-RAM length fits in one. */
_Static_assert(sizeof(size_t) >= sizeof(uint64_t), "64-bit host only");

/* Whether [off, off + len) lies inside [0, size), without overflow. */
static bool fits(uint64_t size, uint64_t off, uint64_t len)
{
	if (off > size)
		return false;
	/* size - off cannot underflow now: it is the room left. */
	return len <= size - off;
}

/*
 * Several regions: the one that holds the whole range.  gpa - r->gpa is
 * only computed once gpa >= r->gpa, so it cannot wrap either.  A
 * zero-length range at a region's end belongs to it, as above.
 */
static uint8_t *in_regions(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && fits(r->size, gpa - r->gpa, len))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

void *guest_ptr_slow(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (mem->nregions)
		return in_regions(mem, gpa, len);
	if (!fits(mem->size, gpa, len))
		return NULL;
	return mem->base + gpa;
}

uint64_t guest_gpa(const struct guest_mem *mem, const void *p)
{
	uintptr_t a = (uintptr_t)p;

	if (!mem->nregions)
		return a >= (uintptr_t)mem->base && a - (uintptr_t)mem->base < mem->size
			       ? a - (uintptr_t)mem->base
			       : UINT64_MAX;
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (a >= (uintptr_t)r->host && a - (uintptr_t)r->host < r->size)
			return r->gpa + (a - (uintptr_t)r->host);
	}
	return UINT64_MAX;
}
