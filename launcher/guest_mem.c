// SPDX-License-Identifier: GPL-2.0
/*
 * guest_mem.c: turning guest-physical addresses into host pointers.
 *
 * Guest RAM is one mapping in our address space: guest-physical address 0
 * is mem->base, and there are mem->size bytes of it.  Every number the
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

/* Whether [gpa, gpa + len) lies inside [0, mem->size), without overflow. */
static bool in_ram(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (gpa > mem->size)
		return false;
	/* mem->size - gpa cannot underflow now: it is the room left. */
	return len <= mem->size - gpa;
}

void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (!in_ram(mem, gpa, len))
		return NULL;
	return mem->base + gpa;
}

bool guest_iov(const struct guest_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov)
{
	if (!in_ram(mem, gpa, len))
		return false;
	iov->iov_base = mem->base + gpa;
	iov->iov_len = (size_t)len;
	return true;
}
