// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk/memory.c: the frontend's guest RAM (SET_MEM_TABLE).
 *
 * The frontend sends up to eight regions, each a file descriptor (a memfd,
 * say) and four numbers: where the region is guest-physically, how big it
 * is, where the frontend itself has it mapped, and where in the fd it
 * starts.  Descriptors carry guest-physical addresses; SET_VRING_ADDR
 * carries the frontend's own addresses, which vb_memory_gpa() turns into
 * guest-physical ones so the ring code sees one address space.
 *
 * Every number is the peer's, so each is checked before we map anything:
 * no overflow, no two regions overlapping (either address space), and
 * each region inside its file, so that touching guest RAM can never mean
 * a SIGBUS on a page past the file's end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_blk.h"

__attribute__((format(printf, 3, 4))) static bool refuse(char *why, unsigned long size,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return false;
}

/* [a, a + alen) and [b, b + blen) share a byte (neither wraps: checked before). */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool check_table(const struct vu_msg *m, char *why, unsigned long why_size)
{
	const struct vu_memory *t = &m->p.memory;

	if (t->nregions == 0 || t->nregions > VU_MAX_FDS)
		return refuse(why, why_size, "%u memory regions (1 to %d)", t->nregions,
			      VU_MAX_FDS);
	if (m->nfds != t->nregions)
		return refuse(why, why_size, "%u memory regions but %u file descriptors",
			      t->nregions, m->nfds);
	for (unsigned int i = 0; i < t->nregions; i++) {
		const struct vu_mem_region *r = &t->regions[i];
		struct stat st;

		if (r->memory_size == 0)
			return refuse(why, why_size, "memory region %u is empty", i);
		if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
		    r->userspace_addr + r->memory_size < r->userspace_addr ||
		    r->mmap_offset + r->memory_size < r->mmap_offset)
			return refuse(
				why, why_size,
				"memory region %u (%#llx bytes) wraps around the address space", i,
				(unsigned long long)r->memory_size);
		/*
		 * We map the file from a page boundary, so a guest address
		 * lands at the same place within a page as its file offset.
		 * The rings' alignment rules (split_dev.h) are checked on
		 * guest addresses and trusted for our pointers: they hold
		 * only if the two agree within a page, as QEMU's always do.
		 */
		if ((r->guest_phys_addr - r->mmap_offset) % (uint64_t)sysconf(_SC_PAGESIZE))
			return refuse(why, why_size,
				      "memory region %u: guest address %#llx and file offset %#llx "
				      "are not at the same place in a page",
				      i, (unsigned long long)r->guest_phys_addr,
				      (unsigned long long)r->mmap_offset);
		if (fstat(m->fds[i], &st) < 0 || (uint64_t)st.st_size < r->mmap_offset ||
		    (uint64_t)st.st_size - r->mmap_offset < r->memory_size)
			return refuse(why, why_size,
				      "memory region %u (%#llx bytes at offset %#llx) lies outside "
				      "its file (%lld bytes)",
				      i, (unsigned long long)r->memory_size,
				      (unsigned long long)r->mmap_offset, (long long)st.st_size);
		for (unsigned int j = 0; j < i; j++) {
			const struct vu_mem_region *o = &t->regions[j];

			if (overlap(r->guest_phys_addr, r->memory_size, o->guest_phys_addr,
				    o->memory_size) ||
			    overlap(r->userspace_addr, r->memory_size, o->userspace_addr,
				    o->memory_size))
				return refuse(why, why_size, "memory regions %u and %u overlap", j,
					      i);
		}
	}
	return true;
}

static void unmap(struct vb_region *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		munmap(r[i].map, r[i].map_len);
}

bool vb_memory_set(struct vb_memory *vm, struct vu_msg *m, bool ring_running, char *why,
		   unsigned long why_size)
{
	const struct vu_memory *t = &m->p.memory;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct vb_region fresh[VU_MAX_FDS];
	unsigned int mapped = 0;
	bool ok = check_table(m, why, why_size);

	for (unsigned int i = 0; ok && i < t->nregions; i++) {
		const struct vu_mem_region *r = &t->regions[i];
		uint64_t skip = r->mmap_offset % page; /* mmap wants a page-aligned offset */
		void *p =
			mmap(NULL, r->memory_size + skip, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_NORESERVE, m->fds[i], (off_t)(r->mmap_offset - skip));

		if (p == MAP_FAILED) {
			ok = refuse(why, why_size, "cannot map memory region %u (%#llx bytes): %m",
				    i, (unsigned long long)r->memory_size);
			break;
		}
		fresh[i] = (struct vb_region){ { r->guest_phys_addr, r->memory_size,
						 (uint8_t *)p + skip },
					       r->userspace_addr,
					       p,
					       r->memory_size + skip };
		mapped++;
	}
	vu_close_fds(m); /* the mappings keep the memory */
	if (!ok) {
		unmap(fresh, mapped);
		return false;
	}
	/*
	 * A new table while the ring runs (QEMU sends one whenever its
	 * memory map changes): the ring's pointers are into the old
	 * mappings, which stay until the ring stops; descriptors read
	 * from now on go through the new one.
	 */
	if (ring_running && vm->nretired + vm->n <= sizeof(vm->retired) / sizeof(vm->retired[0])) {
		memcpy(&vm->retired[vm->nretired], vm->region, vm->n * sizeof(vm->region[0]));
		vm->nretired += vm->n;
	} else if (ring_running) {
		unmap(fresh, mapped);
		return refuse(why, why_size, "too many memory tables while the ring runs");
	} else {
		unmap(vm->region, vm->n);
	}
	memcpy(vm->region, fresh, mapped * sizeof(fresh[0]));
	vm->n = mapped;
	for (unsigned int i = 0; i < mapped; i++)
		vm->regions[i] = fresh[i].r;
	vm->mem = (struct guest_mem){ .fd = -1, .regions = vm->regions, .nregions = mapped };
	return true;
}

bool vb_memory_gpa(const struct vb_memory *vm, uint64_t uva, uint64_t len, uint64_t *gpa)
{
	for (unsigned int i = 0; i < vm->n; i++) {
		const struct vb_region *r = &vm->region[i];

		if (uva >= r->uva && uva - r->uva <= r->r.size &&
		    len <= r->r.size - (uva - r->uva)) {
			*gpa = r->r.gpa + (uva - r->uva);
			return true;
		}
	}
	return false;
}

void vb_memory_release(struct vb_memory *vm, bool all)
{
	unmap(vm->retired, vm->nretired);
	vm->nretired = 0;
	if (!all)
		return;
	unmap(vm->region, vm->n);
	vm->n = 0;
	vm->mem = (struct guest_mem){ .fd = -1, .regions = vm->regions, .nregions = 0 };
}
