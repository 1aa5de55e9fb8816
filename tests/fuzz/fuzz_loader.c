// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_loader.c: the kernel loader (launcher/loader.c) on arbitrary files.
 *
 * The input is the kernel file itself, plain ELF or gzip, so a crash
 * artifact reproduces with `build/lguest ARTIFACT` too.  Guest RAM is 2 MiB
 * filled with a canary byte, and the loader may only accept 1 MiB of image
 * (load_kernel_image()'s max_image), so that a gzip bomb costs a
 * millisecond, not the seconds LOADER_MAX_IMAGE's 256 MiB would.
 *
 * What must hold, whatever the bytes:
 *
 *  - refused: err is one non-empty line naming the file, and guest RAM
 *    and *img are exactly as they were;
 *  - loaded: err is empty, every PT_LOAD lies in [LG_KERNEL_BASE, LIMIT)
 *    and holds its file bytes then zeros, nothing else in RAM changed, the
 *    entry point is inside an executable segment, and *img agrees;
 *  - inflating never produces more than max_image + 1 bytes in a pass:
 *    the loader stops at the limit, not some buffer's worth after it
 *    (counted by wrapping zlib's inflate() at link time, parsers.mk);
 *  - load_kernel() on the same bytes in a file says exactly the same
 *    (where its 256 MiB limit cannot make a difference): the file path is
 *    only a reader in front of the same parser.
 */
#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "common.h"
#include "lguest_abi.h"
#include "loader.h"

#define MEM_SIZE  (2UL << 20)
#define LIMIT	  (MEM_SIZE - 0x800) /* not page-aligned: off-by-ones show */
#define MAX_IMAGE (1UL << 20)
#define CANARY	  0xa5

static struct guest_mem mem;
static uint8_t *canary; /* MEM_SIZE bytes of CANARY, to compare with */
static int file_fd = -1;
static char name[64]; /* /proc/self/fd/N: file_fd, what both loads call the kernel */

/* --- zlib, wrapped (-Wl,--wrap=inflate,--wrap=inflateInit2_) ------------- */

int __real_inflate(z_streamp zs, int flush);
int __wrap_inflate(z_streamp zs, int flush);
int __real_inflateInit2_(z_streamp zs, int bits, const char *version, int size);
int __wrap_inflateInit2_(z_streamp zs, int bits, const char *version, int size);

static bool counting;	  /* only the loader's own calls are counted */
static uint64_t pass_out; /* bytes inflated since the last inflateInit2() */

int __wrap_inflate(z_streamp zs, int flush)
{
	uInt room = zs->avail_out;
	int ret = __real_inflate(zs, flush);

	if (counting) {
		pass_out += room - zs->avail_out;
		FUZZ_CHECK(pass_out <= MAX_IMAGE + 1,
			   "inflated %llu bytes in one pass, the limit is %lu",
			   (unsigned long long)pass_out, MAX_IMAGE);
	}
	return ret;
}

int __wrap_inflateInit2_(z_streamp zs, int bits, const char *version, int size)
{
	pass_out = 0;
	return __real_inflateInit2_(zs, bits, version, size);
}

/*
 * Our own inflate of a gzip file the loader accepted (so it is well
 * formed): the image to compare guest RAM with.  Members back to back are
 * one file, as the loader has it.
 */
static uint8_t *gunzip_model(const uint8_t *in, size_t len, size_t *out_len)
{
	uint8_t *out = malloc(MAX_IMAGE + 1);
	z_stream zs;
	int ret;

	FUZZ_CHECK(out, "out of memory");
	memset(&zs, 0, sizeof(zs));
	FUZZ_CHECK(inflateInit2(&zs, 15 + 16) == Z_OK, "inflateInit2");
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = MAX_IMAGE + 1;
	while ((ret = __real_inflate(&zs, Z_NO_FLUSH)) == Z_OK || ret == Z_STREAM_END) {
		if (ret == Z_STREAM_END && zs.avail_in == 0)
			break;
		if (ret == Z_STREAM_END)
			inflateReset(&zs);
	}
	FUZZ_CHECK(ret == Z_STREAM_END, "loaded a gzip file zlib cannot inflate (%d)", ret);
	*out_len = (size_t)(zs.next_out - out);
	inflateEnd(&zs);
	return out;
}

/* --- what a refusal must look like --------------------------------------- */

static void check_refused(const char *err, size_t errsize, const struct kernel_image *img)
{
	struct kernel_image untouched;
	size_t n = strlen(name);

	FUZZ_CHECK(memchr(err, '\0', errsize), "error message not terminated");
	FUZZ_CHECK(strncmp(err, name, n) == 0 && strncmp(err + n, ": ", 2) == 0 && err[n + 2],
		   "error \"%s\" is not \"%s: <why>\"", err, name);
	FUZZ_CHECK(!strchr(err, '\n'), "error \"%s\" is more than one line", err);
	memset(&untouched, 0x5a, sizeof(untouched));
	FUZZ_CHECK(memcmp(img, &untouched, sizeof(untouched)) == 0, "refused, but *img changed");
	FUZZ_CHECK(memcmp(mem.base, canary, MEM_SIZE) == 0, "refused, but guest RAM changed");
}

/* --- what a load must look like ------------------------------------------ */

/*
 * Check every segment of @im against guest RAM, then put the canary back
 * over it: afterwards all of RAM must be canary again, which proves that
 * nothing outside the segments was written.
 */
static void check_loaded(const uint8_t *im, size_t n, const struct kernel_image *img)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	Elf64_Ehdr eh;

	FUZZ_CHECK(n >= sizeof(eh), "loaded an image of %zu bytes", n);
	memcpy(&eh, im, sizeof(eh));
	FUZZ_CHECK(eh.e_phoff <= n && eh.e_phnum <= (n - eh.e_phoff) / sizeof(Elf64_Phdr),
		   "loaded an image whose program headers are outside it");
	FUZZ_CHECK(img->entry == eh.e_entry, "img->entry %#llx, e_entry %#llx",
		   (unsigned long long)img->entry, (unsigned long long)eh.e_entry);
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, im + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		FUZZ_CHECK(ph.p_paddr >= LG_KERNEL_BASE && ph.p_paddr < LIMIT &&
				   ph.p_memsz <= LIMIT - ph.p_paddr,
			   "segment %u at %#llx+%#llx is outside [%#lx, %#lx)", i,
			   (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
			   LG_KERNEL_BASE, (unsigned long)LIMIT);
		FUZZ_CHECK(ph.p_filesz <= ph.p_memsz && ph.p_offset <= n &&
				   ph.p_filesz <= n - ph.p_offset,
			   "segment %u's file bytes are outside the image", i);
		dst = mem.base + ph.p_paddr;
		FUZZ_CHECK(memcmp(dst, im + ph.p_offset, ph.p_filesz) == 0,
			   "segment %u: guest RAM does not hold its file bytes", i);
		for (uint64_t j = ph.p_filesz; j < ph.p_memsz; j++)
			FUZZ_CHECK(dst[j] == 0, "segment %u: byte %#llx past p_filesz is not zero",
				   i, (unsigned long long)j);
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_paddr &&
		    eh.e_entry - ph.p_paddr < ph.p_memsz)
			entry_ok = true;
		lo = ph.p_paddr < lo ? ph.p_paddr : lo;
		hi = ph.p_paddr + ph.p_memsz > hi ? ph.p_paddr + ph.p_memsz : hi;
	}
	FUZZ_CHECK(entry_ok, "entry %#llx is in no executable segment",
		   (unsigned long long)eh.e_entry);
	FUZZ_CHECK(img->load_start == lo && img->load_end == hi,
		   "img says [%#llx, %#llx), the segments span [%#llx, %#llx)",
		   (unsigned long long)img->load_start, (unsigned long long)img->load_end,
		   (unsigned long long)lo, (unsigned long long)hi);
	/* Segments do not overlap (the loader refuses that), so restoring them is exact. */
	memset(mem.base + lo, CANARY, hi - lo);
	FUZZ_CHECK(memcmp(mem.base, canary, MEM_SIZE) == 0,
		   "guest RAM outside the segments [%#llx, %#llx) changed", (unsigned long long)lo,
		   (unsigned long long)hi);
}

static void check_result(bool ok, const uint8_t *data, size_t size, const char *err, size_t errsize,
			 const struct kernel_image *img)
{
	uint8_t *image = (uint8_t *)data;
	size_t len = size;

	if (!ok) {
		check_refused(err, errsize, img);
		return;
	}
	FUZZ_CHECK(err[0] == '\0', "loaded, but err says \"%s\"", err);
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		image = gunzip_model(data, size, &len);
	FUZZ_CHECK(len <= MAX_IMAGE, "loaded an image of %zu bytes, the limit is %lu", len,
		   MAX_IMAGE);
	check_loaded(image, len, img);
	if (image != data)
		free(image);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mem.size = MEM_SIZE;
	mem.fd = -1;
	mem.base = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	canary = malloc(MEM_SIZE);
	file_fd = memfd_create("fuzz_loader", MFD_CLOEXEC);
	if (mem.base == MAP_FAILED || !canary || file_fd < 0)
		fuzz_fail("cannot set up guest RAM and the kernel file");
	memset(mem.base, CANARY, MEM_SIZE);
	memset(canary, CANARY, MEM_SIZE);
	snprintf(name, sizeof(name), "/proc/self/fd/%d", file_fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_image img, img2;
	char err[256], err2[256];
	bool ok, ok2;

	memset(&img, 0x5a, sizeof(img));
	memset(err, 'X', sizeof(err));
	counting = true;
	ok = load_kernel_image(name, data, size, MAX_IMAGE, &mem, LIMIT, &img, err, sizeof(err));
	counting = false;
	check_result(ok, data, size, err, sizeof(err), &img);

	/*
	 * The same bytes as a file, unless the verdict was about size, where
	 * load_kernel()'s own limit (LOADER_MAX_IMAGE) rightly differs.
	 */
	if (!ok && (strstr(err, "inflates to more than") || strstr(err, "the most accepted is")))
		return 0;
	FUZZ_CHECK(ftruncate(file_fd, 0) == 0 && pwrite(file_fd, data, size, 0) == (ssize_t)size,
		   "cannot write the kernel file");
	memset(&img2, 0x5a, sizeof(img2));
	memset(err2, 'X', sizeof(err2));
	ok2 = load_kernel(name, &mem, LIMIT, &img2, err2, sizeof(err2));
	check_result(ok2, data, size, err2, sizeof(err2), &img2);
	FUZZ_CHECK(ok == ok2 && strcmp(err, err2) == 0 &&
			   (!ok || !memcmp(&img, &img2, sizeof(img))),
		   "load_kernel_image() said %s \"%s\", load_kernel() %s \"%s\"", ok ? "yes" : "no",
		   err, ok2 ? "yes" : "no", err2);
	return 0;
}
