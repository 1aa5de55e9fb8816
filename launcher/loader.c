// SPDX-License-Identifier: GPL-2.0
/*
 * loader.c: put the guest kernel into guest RAM.
 *
 * A real machine's firmware finds a boot sector; a paravirtual launcher has
 * it easier: it opens the kernel as an ordinary file and copies it into the
 * memory it is about to hand to KVM.  The kernel is an ELF executable, and
 * ELF already says exactly what to copy where: each PT_LOAD program header
 * names a range of the file (p_offset, p_filesz) and the guest-physical
 * address it belongs at (p_paddr), plus how much memory the segment really
 * occupies (p_memsz).  The bytes past p_filesz are the kernel's .bss, which
 * is not stored in the file and must read as zero, so we clear them here and
 * the guest need not.  Section headers, symbols and debug info are not
 * loaded: the program headers are all a loader needs.
 *
 * The kernel may be gzip-compressed (`gzip -k build/guest.elf`): it is
 * smaller on disk and costs a few milliseconds to inflate.  We inflate the
 * whole image into a heap buffer first and then treat it exactly like a
 * plain file, so there is one ELF parser, not two.
 *
 * The parsing works on bytes in memory (load_kernel_image()), which is what
 * the fuzz harness (tests/fuzz/fuzz_loader.c) feeds; load_kernel() only
 * reads the file into a buffer first.
 *
 * The file is not trusted.  It may be truncated, corrupt, built for another
 * machine, or crafted: a p_offset pointing past the end of the file, a
 * p_paddr + p_memsz that wraps around 2^64, a segment placed over the page
 * tables the launcher builds below 1 MiB.  A loader that believed any of
 * these would read or write host memory outside the buffers it owns.  So:
 *
 *  1. read or inflate the whole file, refusing more than LOADER_MAX_IMAGE
 *     (the caller's own, smaller limit for load_kernel_image());
 *  2. validate the ELF header and every PT_LOAD, with overflow-checked
 *     arithmetic, without writing anything;
 *  3. only then copy the segments.
 *
 * Step 3 cannot fail, so a rejected file leaves guest RAM as it was.
 * Problems come back as one sentence in the caller's buffer instead of a
 * die(), so the unit tests can feed the loader bad files and read what it
 * says about them.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lguest_abi.h"
#include "loader.h"

/* Where errors go, and what to call the bytes we parse when saying so. */
struct loader_ctx {
	const char *path;
	char *err;
	size_t errsize;
	const char *what;   /* "file", or "decompressed image" for gzip */
	uint64_t max_image; /* most bytes accepted, plain or inflated */
};

/* Write "<path>: <message>" into the caller's buffer; always returns false. */
static bool __attribute__((format(printf, 2, 3)))
fail(const struct loader_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || c->errsize == 0)
		return false;
	n = snprintf(c->err, c->errsize, "%s: ", c->path);
	if (n < 0 || (size_t)n >= c->errsize)
		return false;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errsize - n, fmt, ap);
	va_end(ap);
	return false;
}

/* Bigger than we accept, plain or inflated? */
static bool too_big(const struct loader_ctx *c, uint64_t size)
{
	if (size <= c->max_image)
		return false;
	fail(c, "%s is %" PRIu64 " bytes; the most accepted is %llu MiB", c->what, size,
	     (unsigned long long)c->max_image >> 20);
	return true;
}

/*
 * Read all of a regular file into a fresh heap buffer.  We insist on a
 * regular file so the size from fstat() is meaningful and a FIFO or
 * /dev/zero cannot feed us forever.  O_NONBLOCK because open() itself
 * would otherwise wait, for ever, for a FIFO's writer before we could
 * look at what the path is; it means nothing to a regular file's reads,
 * but we clear it anyway so the reads are plain ones on any file system.
 */
static bool read_file(const struct loader_ctx *c, uint8_t **bufp, size_t *lenp)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0;
	int fd;

	fd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(c, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		fail(c, "%s", strerror(errno));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(c, "not a regular file");
		goto err_close;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		fail(c, "cannot clear O_NONBLOCK: %s", strerror(errno));
		goto err_close;
	}
	if (too_big(c, (uint64_t)st.st_size))
		goto err_close;
	/* +1 so an empty file still gets a real allocation. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fail(c, "out of memory reading %" PRIu64 " bytes", (uint64_t)st.st_size);
		goto err_close;
	}
	/* A file that shrinks under us is simply shorter; one that grows is cut at st_size. */
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(c, "read failed: %s", strerror(errno));
			free(buf);
			goto err_close;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return true;

err_close:
	close(fd);
	return false;
}

/*
 * One pass of inflate over the whole gzip file.  inflate() with windowBits
 * 15 + 16 parses the gzip header and checks the CRC-32 and length trailer
 * itself; we require it to reach Z_STREAM_END, because a truncated stream
 * otherwise just stops producing output and would look like a short, valid
 * file.  Several gzip members back to back (what `cat a.gz b.gz` makes) are
 * one file, as gzip(1) treats them.
 *
 * With @out NULL the output goes to a small scratch buffer and is only
 * counted; otherwise it fills @out, which holds @out_size bytes.  Either way
 * *@total is how many bytes the data inflates to.  Counting stops at one
 * byte past c->max_image, not a scratch buffer's worth past it: that byte
 * is all it takes to know the image is too big.
 */
static bool inflate_pass(const struct loader_ctx *c, const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t out_size, size_t *total)
{
	uint8_t scratch[16384];
	size_t len = 0;
	bool ok = false;
	z_stream zs;
	int ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return fail(c, "cannot initialise zlib");
	/* in_len <= max_image <= LOADER_MAX_IMAGE, so it fits zlib's 32-bit uInt. */
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)in_len;

	for (;;) {
		uInt room;

		if (out) {
			zs.next_out = out + len;
			zs.avail_out = (uInt)(out_size - len);
		} else {
			/* len <= max_image here, so there is room for at least one byte. */
			zs.next_out = scratch;
			zs.avail_out = (uInt)(c->max_image + 1 - len < sizeof(scratch)
						      ? c->max_image + 1 - len
						      : sizeof(scratch));
		}
		room = zs.avail_out;
		ret = inflate(&zs, Z_NO_FLUSH);
		len += room - zs.avail_out;
		if (len > c->max_image) {
			fail(c, "gzip data inflates to more than %llu MiB; refusing it",
			     (unsigned long long)c->max_image >> 20);
			goto out;
		}

		switch (ret) {
		case Z_OK:
			continue;
		case Z_STREAM_END:
			if (zs.avail_in == 0) {
				ok = true;
				goto out;
			}
			/* Another member follows, or junk that gzip(1) would also question. */
			if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
				inflateReset(&zs);
				continue;
			}
			fail(c, "trailing garbage after gzip data");
			goto out;
		case Z_BUF_ERROR:
			/*
			 * No progress was possible.  The counting pass always
			 * offers room, and the second pass gets exactly what the
			 * first counted, so the input ran out before the end.
			 */
			fail(c, "truncated gzip data");
			goto out;
		case Z_MEM_ERROR:
			fail(c, "out of memory inflating gzip data");
			goto out;
		default:
			/* Z_DATA_ERROR (bad deflate, CRC or length), Z_NEED_DICT... */
			fail(c, "corrupt gzip data (%s)", zs.msg ? zs.msg : "invalid stream");
			goto out;
		}
	}
out:
	inflateEnd(&zs);
	*total = len;
	return ok;
}

/*
 * Inflate a gzip file held in memory into a fresh heap buffer.  We inflate
 * twice: once to learn the size without keeping anything, once into a buffer
 * of exactly that size.  A few kilobytes of deflate can expand to gigabytes,
 * so the first pass is also where a gzip bomb is stopped (past
 * c->max_image) before we have allocated a byte for it.  A kernel inflates
 * in milliseconds, so the second pass costs little.
 */
static bool gunzip(const struct loader_ctx *c, const uint8_t *in, size_t in_len, uint8_t **outp,
		   size_t *out_len)
{
	size_t len, len2;
	uint8_t *out;

	if (!inflate_pass(c, in, in_len, NULL, 0, &len))
		return false;
	/* +1 so an empty result still gets a real allocation. */
	out = malloc(len + 1);
	if (!out)
		return fail(c, "out of memory inflating %zu bytes of gzip data", len);
	if (!inflate_pass(c, in, in_len, out, len, &len2)) {
		free(out);
		return false;
	}
	*outp = out;
	*out_len = len2;
	return true;
}

/* The fixed part of the header: is this an x86-64 static executable at all? */
static bool check_ehdr(const struct loader_ctx *c, const uint8_t *buf, size_t size, Elf64_Ehdr *eh)
{
	uint64_t ph_size, ph_end;

	if (size == 0)
		return fail(c, "%s is empty", c->what);
	if (size < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return fail(c, "not an ELF file");
	if (size < sizeof(*eh))
		return fail(c, "truncated: ELF header needs %zu bytes, %s is %zu bytes",
			    sizeof(*eh), c->what, size);
	/* Copy out: the buffer need not be aligned for Elf64_Ehdr. */
	memcpy(eh, buf, sizeof(*eh));

	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(c, "not a 64-bit ELF file (ELF class %u)", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(c, "not a little-endian ELF file (ELF data encoding %u)",
			    eh->e_ident[EI_DATA]);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return fail(c, "unknown ELF version %u/%u", eh->e_ident[EI_VERSION], eh->e_version);
	if (eh->e_machine != EM_X86_64)
		return fail(c, "built for ELF machine %u, not x86-64 (%u)", eh->e_machine,
			    EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return fail(
			c, "not an executable (ELF type %u, want ET_EXEC); link it -static -no-pie",
			eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(c, "program header size is %u bytes, not %zu", eh->e_phentsize,
			    sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0)
		return fail(c, "no program headers");
	/* Also catches PN_XNUM (0xffff), which would need section header 0. */
	if (eh->e_phnum > LOADER_MAX_PHNUM)
		return fail(c, "%u program headers; the most accepted is %d", eh->e_phnum,
			    LOADER_MAX_PHNUM);
	ph_size = (uint64_t)eh->e_phnum * eh->e_phentsize;
	if (__builtin_add_overflow(eh->e_phoff, ph_size, &ph_end))
		return fail(c,
			    "truncated: program header table at offset 0x%" PRIx64
			    " ends past 2^64, %s is %zu bytes",
			    eh->e_phoff, c->what, size);
	if (ph_end > size)
		return fail(c,
			    "truncated: program header table ends at %" PRIu64 ", %s is %zu bytes",
			    ph_end, c->what, size);
	return true;
}

/*
 * Check one PT_LOAD against the file, the loadable window and the PT_LOADs
 * before it.  @i is the program header index, as `readelf -l` numbers them.
 */
static bool check_load(const struct loader_ctx *c, size_t size, uint64_t limit,
		       const Elf64_Phdr *ph, unsigned int i, const Elf64_Phdr *phs)
{
	uint64_t file_end, end;

	if (ph->p_filesz > ph->p_memsz)
		return fail(c,
			    "segment %u: file size 0x%" PRIx64
			    " is larger than memory size 0x%" PRIx64,
			    i, ph->p_filesz, ph->p_memsz);
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &file_end) || file_end > size)
		return fail(c,
			    "truncated: segment %u data (0x%" PRIx64 "+0x%" PRIx64
			    ") ends past the %s's %zu bytes",
			    i, ph->p_offset, ph->p_filesz, c->what, size);
	/* An empty segment puts nothing in memory: no address to check. */
	if (ph->p_memsz == 0)
		return true;
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end))
		return fail(c,
			    "segment %u (0x%" PRIx64 "+0x%" PRIx64
			    ") wraps around the end of the address space",
			    i, ph->p_paddr, ph->p_memsz);
	if (ph->p_paddr < LG_KERNEL_BASE || end > limit)
		return fail(c,
			    "segment %u (0x%" PRIx64 "+0x%" PRIx64
			    ") lies outside guest RAM [0x%lx, 0x%" PRIx64 ")",
			    i, ph->p_paddr, ph->p_memsz, LG_KERNEL_BASE, limit);
	/*
	 * The vCPU starts with memory identity mapped and jumps to e_entry, a
	 * virtual address: a kernel linked to run somewhere other than where
	 * it is loaded would fetch its first instruction from the wrong place.
	 */
	if (ph->p_vaddr != ph->p_paddr)
		return fail(c,
			    "segment %u is linked at 0x%" PRIx64 " but loads at 0x%" PRIx64
			    "; the guest runs identity-mapped",
			    i, ph->p_vaddr, ph->p_paddr);
	/* Overlaps would make the result depend on copy order: refuse them. */
	for (unsigned int j = 0; j < i; j++) {
		const Elf64_Phdr *o = &phs[j];

		if (o->p_type != PT_LOAD || o->p_memsz == 0)
			continue;
		/* o was checked already, so o->p_paddr + o->p_memsz cannot wrap. */
		if (ph->p_paddr < o->p_paddr + o->p_memsz && o->p_paddr < end)
			return fail(c,
				    "segment %u (0x%" PRIx64 "+0x%" PRIx64
				    ") overlaps segment %u (0x%" PRIx64 "+0x%" PRIx64 ")",
				    i, ph->p_paddr, ph->p_memsz, j, o->p_paddr, o->p_memsz);
	}
	return true;
}

/*
 * Validate the whole image, then copy it.  Nothing is written to guest RAM
 * until every check has passed.
 */
static bool load_elf(const struct loader_ctx *c, const uint8_t *buf, size_t size,
		     const struct guest_mem *mem, uint64_t limit, struct kernel_image *img)
{
	Elf64_Phdr phs[LOADER_MAX_PHNUM];
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	unsigned int nload = 0;
	Elf64_Ehdr eh;

	if (!check_ehdr(c, buf, size, &eh))
		return false;
	/* check_ehdr() proved the table lies inside buf; copy for alignment. */
	memcpy(phs, buf + eh.e_phoff, (size_t)eh.e_phnum * sizeof(phs[0]));

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &phs[i];

		/* PT_GNU_STACK, PT_NOTE and friends mean nothing to us. */
		if (ph->p_type != PT_LOAD)
			continue;
		if (!check_load(c, size, limit, ph, i, phs))
			return false;
		if (ph->p_memsz == 0)
			continue;
		nload++;
		if (ph->p_paddr < lo)
			lo = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > hi)
			hi = ph->p_paddr + ph->p_memsz;
		if ((ph->p_flags & PF_X) && eh.e_entry >= ph->p_paddr &&
		    eh.e_entry - ph->p_paddr < ph->p_memsz)
			entry_ok = true;
	}
	if (nload == 0)
		return fail(c, "no loadable (PT_LOAD) segments");
	if (!entry_ok)
		return fail(c,
			    "entry point 0x%" PRIx64
			    " is not inside an executable (PF_X) loadable segment",
			    eh.e_entry);

	/* Every range was checked against [LG_KERNEL_BASE, limit) and limit <= mem->size. */
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &phs[i];
		uint8_t *dst;

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		dst = mem->base + ph->p_paddr;
		memcpy(dst, buf + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	img->entry = eh.e_entry;
	img->load_start = lo;
	img->load_end = hi;
	return true;
}

/* The caller's own arguments: a bad limit is a launcher bug, but say so plainly. */
static bool check_window(const struct loader_ctx *c, const struct guest_mem *mem, uint64_t limit)
{
	if (limit > mem->size || limit <= LG_KERNEL_BASE)
		return fail(c,
			    "no room for a kernel: loadable window [0x%lx, 0x%" PRIx64
			    ") in %" PRIu64 " bytes of guest RAM",
			    LG_KERNEL_BASE, limit, mem->size);
	return true;
}

/* Plain or gzip, the file's bytes are in @buf; inflate if need be, then load. */
static bool load_bytes(struct loader_ctx *c, const uint8_t *buf, size_t len,
		       const struct guest_mem *mem, uint64_t limit, struct kernel_image *img)
{
	uint8_t *image = NULL;
	size_t image_len = 0;
	bool ok;

	if (len < 2 || buf[0] != 0x1f || buf[1] != 0x8b)
		return load_elf(c, buf, len, mem, limit, img);
	c->what = "decompressed image";
	if (!gunzip(c, buf, len, &image, &image_len))
		return false;
	ok = load_elf(c, image, image_len, mem, limit, img);
	free(image);
	return ok;
}

bool load_kernel_image(const char *name, const void *buf, size_t len, uint64_t max_image,
		       const struct guest_mem *mem, uint64_t limit, struct kernel_image *img,
		       char *err, size_t errsize)
{
	struct loader_ctx c = { .path = name,
				.err = err,
				.errsize = errsize,
				.what = "file",
				.max_image = max_image < LOADER_MAX_IMAGE ? max_image
									  : LOADER_MAX_IMAGE };

	if (errsize)
		err[0] = '\0';
	if (!check_window(&c, mem, limit) || too_big(&c, len))
		return false;
	return load_bytes(&c, buf, len, mem, limit, img);
}

bool load_kernel(const char *path, const struct guest_mem *mem, uint64_t limit,
		 struct kernel_image *img, char *err, size_t errsize)
{
	struct loader_ctx c = { .path = path,
				.err = err,
				.errsize = errsize,
				.what = "file",
				.max_image = LOADER_MAX_IMAGE };
	uint8_t *file = NULL;
	size_t len = 0;
	bool ok;

	if (errsize)
		err[0] = '\0';
	/* Before the file: a bad window is the launcher's fault, whatever the file. */
	if (!check_window(&c, mem, limit) || !read_file(&c, &file, &len))
		return false;
	ok = load_bytes(&c, file, len, mem, limit, img);
	free(file);
	return ok;
}
