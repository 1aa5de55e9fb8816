/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loader.h: putting the guest kernel into guest RAM.
 *
 * The guest kernel is a static ELF64 x86-64 executable (ET_EXEC), plain or
 * gzip-compressed.  Its PT_LOAD segments are copied to guest-physical RAM at
 * their p_paddr, and the vCPU later starts at e_entry with memory identity
 * mapped, so each segment's virtual and physical addresses must agree.
 *
 * The file is untrusted input: every field is checked before anything is
 * written, so a bad file leaves guest RAM untouched and yields one sentence
 * saying what is wrong with it.
 */
#ifndef LAUNCHER_LOADER_H
#define LAUNCHER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

/* Largest image accepted, plain or after decompression (gzip bombs). */
#define LOADER_MAX_IMAGE (256ULL << 20)

/* Most program headers accepted; a real kernel has a handful. */
#define LOADER_MAX_PHNUM 64

struct kernel_image {
	uint64_t entry;	     /* e_entry: where the vCPU starts */
	uint64_t load_start; /* lowest p_paddr of a loaded segment */
	uint64_t load_end;   /* highest p_paddr + p_memsz (exclusive) */
};

/*
 * Load the kernel at @path into @mem.  Gzip (magic 1f 8b) is detected and
 * inflated; anything else is read as-is.  Every non-empty PT_LOAD segment
 * must lie inside [LG_KERNEL_BASE, @limit), with @limit <= mem->size: the
 * launcher owns the first megabyte and may keep the top of RAM for itself.
 * Segments are copied to p_paddr and zero-filled from p_filesz to p_memsz.
 *
 * Returns true and fills *@img on success.  On any problem returns false,
 * leaves guest RAM and *@img untouched, and writes one NUL-terminated
 * sentence naming @path into @err (at most @errsize bytes, truncated if
 * needed), e.g. "k.elf: not an ELF file".  The caller dies with it.
 */
bool load_kernel(const char *path, const struct guest_mem *mem, uint64_t limit,
		 struct kernel_image *img, char *err, size_t errsize);

/*
 * The same for a kernel file already in memory: @len bytes at @buf, called
 * @name in messages.  At most @max_image bytes are accepted, plain or after
 * decompression (LOADER_MAX_IMAGE if larger; messages give it in MiB): a
 * fuzzer passes a small one so that gzip bombs cost it little.
 */
bool load_kernel_image(const char *name, const void *buf, size_t len, uint64_t max_image,
		       const struct guest_mem *mem, uint64_t limit, struct kernel_image *img,
		       char *err, size_t errsize);

#endif /* LAUNCHER_LOADER_H */
