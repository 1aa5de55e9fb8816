// SPDX-License-Identifier: GPL-2.0
/*
 * guest_ram.c: guest RAM is one memfd.
 *
 * Every user of guest RAM maps the same pages: the launcher (anywhere), a
 * KVM memslot over the launcher's mapping, and the process backend's child
 * at virtual = physical addresses.  A file, not anonymous memory, is what
 * makes that possible.  It is sealed against shrinking and growing: device
 * threads do I/O straight into guest pages, and nobody may truncate them
 * away under a readv() (which would raise SIGBUS in the launcher).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "log.h"

void guest_mem_create(struct guest_mem *mem, uint64_t size)
{
	int fd = memfd_create("lguest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0)
		die_errno("cannot create guest memory (memfd_create)");
	if (ftruncate(fd, (off_t)size) < 0)
		die_errno("cannot size guest memory to %lu MiB", (unsigned long)(size >> 20));
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		die_errno("cannot seal guest memory");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		die_errno("cannot map %lu MiB of guest memory", (unsigned long)(size >> 20));
	/* Huge pages where the host's shmem gives them (shmem_enabled=advise). */
	madvise(p, size, MADV_HUGEPAGE);
	mem->base = p;
	mem->size = size;
	mem->fd = fd;
}
