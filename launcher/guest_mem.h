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

struct guest_mem {
	uint8_t *base; /* host address of guest-physical 0 */
	uint64_t size; /* bytes of guest RAM */
	int fd;	       /* the memfd behind it (guest_ram.c), or -1 */
};

/*
 * Guest RAM as one memfd, sealed against shrinking and growing, mapped
 * shared here (guest_ram.c).  Dies with one line if it cannot.
 */
void guest_mem_create(struct guest_mem *mem, uint64_t size);

/* Host pointer to [gpa, gpa + len), or NULL if any byte lies outside RAM. */
void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Fill *iov with [gpa, gpa + len); false if outside RAM. */
bool guest_iov(const struct guest_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov);

#endif /* LAUNCHER_GUEST_MEM_H */
