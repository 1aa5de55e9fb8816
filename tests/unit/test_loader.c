// SPDX-License-Identifier: GPL-2.0
/*
 * test_loader.c: unit tests for the kernel loader (launcher/loader.c).
 *
 * Each test builds a small ELF64 image in memory (a header, three program
 * headers and two segments of patterned bytes), breaks one thing about it,
 * writes it to a temporary file and asks load_kernel() for a verdict.  Bad
 * files must be refused with a sentence that names the file and the problem,
 * and must leave guest RAM exactly as it was: RAM starts filled with a canary
 * byte and every failing test checks all of it.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "lguest_abi.h"
#include "loader.h"

#define MEM_SIZE (16UL << 20)
#define LIMIT	 (15UL << 20) /* the top MiB stands for the launcher's device pages */
#define CANARY	 0xa5

#define TEXT_PADDR  0x100000UL
#define TEXT_SIZE   0x200
#define ENTRY	    (TEXT_PADDR + 0x40)
#define DATA_PADDR  0x200000UL
#define DATA_FILESZ 0x100
#define DATA_MEMSZ  0x3000 /* the rest is .bss */

/* The test kernel, laid out exactly as it is written to the file. */
struct test_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3]; /* text, data (+bss), GNU_STACK */
	uint8_t text[TEXT_SIZE];
	uint8_t data[DATA_FILESZ];
};

struct state {
	char dir[64];
	char path[128];	  /* dir/k.elf */
	char gzpath[128]; /* dir/k.elf.gz */
	struct test_elf elf;
	struct guest_mem mem;
	struct kernel_image img;
	char err[256];
};

static void build_valid(struct test_elf *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = ENTRY;
	e->eh.e_phoff = offsetof(struct test_elf, ph);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 3;

	e->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_flags = PF_R | PF_X,
				 .p_offset = offsetof(struct test_elf, text),
				 .p_vaddr = TEXT_PADDR,
				 .p_paddr = TEXT_PADDR,
				 .p_filesz = TEXT_SIZE,
				 .p_memsz = TEXT_SIZE,
				 .p_align = 0x1000 };
	e->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_flags = PF_R | PF_W,
				 .p_offset = offsetof(struct test_elf, data),
				 .p_vaddr = DATA_PADDR,
				 .p_paddr = DATA_PADDR,
				 .p_filesz = DATA_FILESZ,
				 .p_memsz = DATA_MEMSZ,
				 .p_align = 0x1000 };
	/* Ignored by the loader, but real kernels have one: its zero address must not matter. */
	e->ph[2] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };

	/* Non-zero patterns, so misplaced or missing bytes show. */
	for (unsigned int i = 0; i < TEXT_SIZE; i++)
		e->text[i] = (uint8_t)(i * 7 + 1);
	for (unsigned int i = 0; i < DATA_FILESZ; i++)
		e->data[i] = (uint8_t)(i * 13 + 5) | 1;
}

/*
 * Guest RAM is allocated once for the whole group: faulting in 16 MiB for
 * every test would cost more than the tests themselves.
 */
static struct guest_mem group_mem;

static int group_setup(void **s)
{
	(void)s;
	group_mem.size = MEM_SIZE;
	group_mem.base = malloc(MEM_SIZE);
	return group_mem.base ? 0 : -1;
}

static int group_teardown(void **s)
{
	(void)s;
	free(group_mem.base);
	return 0;
}

static int setup(void **s)
{
	struct state *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/test_loader.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/k.elf", t->dir);
	snprintf(t->gzpath, sizeof(t->gzpath), "%s/k.elf.gz", t->dir);
	build_valid(&t->elf);
	t->mem = group_mem;
	memset(t->mem.base, CANARY, MEM_SIZE);
	*s = t;
	return 0;
}

static int teardown(void **s)
{
	struct state *t = *s;
	char sub[128];

	unlink(t->path);
	unlink(t->gzpath);
	snprintf(sub, sizeof(sub), "%s/sub", t->dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/fifo", t->dir);
	unlink(sub);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_elf(struct state *t)
{
	write_file(t->path, &t->elf, sizeof(t->elf));
}

/* Gzip @len bytes (one member, windowBits 15 + 16); the caller frees *out. */
static void gzip_buf(const void *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream zs;
	size_t cap;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&zs, len);
	*out = malloc(cap);
	assert_non_null(*out);
	zs.next_in = (Bytef *)in;
	zs.avail_in = len;
	zs.next_out = *out;
	zs.avail_out = cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
}

static bool load_path(struct state *t, const char *path)
{
	memset(&t->img, 0x5a, sizeof(t->img));
	memset(t->err, 'X', sizeof(t->err));
	return load_kernel(path, &t->mem, LIMIT, &t->img, t->err, sizeof(t->err));
}

/* Every byte of guest RAM in [from, to) still holds the canary. */
static void assert_untouched(const struct state *t, uint64_t from, uint64_t to)
{
	static uint8_t canary[4096];
	uint64_t a = from;

	memset(canary, CANARY, sizeof(canary));
	/* memcmp a page at a time; only a mismatching page is scanned bytewise. */
	while (a < to) {
		uint64_t n = to - a < sizeof(canary) ? to - a : sizeof(canary);

		if (memcmp(t->mem.base + a, canary, n) != 0)
			for (uint64_t i = a; i < a + n; i++)
				if (t->mem.base[i] != CANARY)
					fail_msg("guest RAM at 0x%lx was written (0x%02x)",
						 (unsigned long)i, t->mem.base[i]);
		a += n;
	}
}

/*
 * The load must fail with one line that names the file and contains @what,
 * and guest RAM must be exactly as it was.
 */
static void expect_fail_path(struct state *t, const char *path, const char *what)
{
	const char *name = strrchr(path, '/') + 1;

	if (load_path(t, path))
		fail_msg("%s loaded, expected \"%s\"", name, what);
	assert_non_null(memchr(t->err, '\0', sizeof(t->err)));
	if (!strstr(t->err, what))
		fail_msg("error \"%s\" does not say \"%s\"", t->err, what);
	if (strncmp(t->err, path, strlen(path)) != 0)
		fail_msg("error \"%s\" does not start with the file name", t->err);
	assert_null(strchr(t->err, '\n'));
	assert_untouched(t, 0, MEM_SIZE);
}

static void expect_fail(struct state *t, const char *what)
{
	write_elf(t);
	expect_fail_path(t, t->path, what);
}

/* The valid image: bytes where they belong, .bss zeroed, nothing else touched. */
static void check_loaded(struct state *t)
{
	const uint8_t *m = t->mem.base;

	assert_int_equal(t->img.entry, ENTRY);
	assert_int_equal(t->img.load_start, TEXT_PADDR);
	assert_int_equal(t->img.load_end, DATA_PADDR + DATA_MEMSZ);
	assert_memory_equal(m + TEXT_PADDR, t->elf.text, TEXT_SIZE);
	assert_memory_equal(m + DATA_PADDR, t->elf.data, DATA_FILESZ);
	for (unsigned int i = DATA_FILESZ; i < DATA_MEMSZ; i++)
		if (m[DATA_PADDR + i] != 0)
			fail_msg("bss byte 0x%x is 0x%02x, not zero", i, m[DATA_PADDR + i]);
	assert_untouched(t, 0, TEXT_PADDR);
	assert_untouched(t, TEXT_PADDR + TEXT_SIZE, DATA_PADDR);
	assert_untouched(t, DATA_PADDR + DATA_MEMSZ, MEM_SIZE);
}

static void test_valid(void **s)
{
	struct state *t = *s;

	write_elf(t);
	if (!load_path(t, t->path))
		fail_msg("valid image refused: %s", t->err);
	assert_string_equal(t->err, "");
	check_loaded(t);
}

static void test_gzip_valid(void **s)
{
	struct state *t = *s;
	uint8_t *gz, *plain_mem;
	struct kernel_image plain_img;
	size_t gz_len;

	/* Load the plain file first and keep the result to compare with. */
	write_elf(t);
	assert_true(load_path(t, t->path));
	plain_img = t->img;
	plain_mem = malloc(MEM_SIZE);
	assert_non_null(plain_mem);
	memcpy(plain_mem, t->mem.base, MEM_SIZE);
	memset(t->mem.base, CANARY, MEM_SIZE);

	gzip_buf(&t->elf, sizeof(t->elf), &gz, &gz_len);
	write_file(t->gzpath, gz, gz_len);
	free(gz);
	if (!load_path(t, t->gzpath))
		fail_msg("gzipped image refused: %s", t->err);
	assert_memory_equal(&t->img, &plain_img, sizeof(plain_img));
	assert_memory_equal(t->mem.base, plain_mem, MEM_SIZE);
	free(plain_mem);
	check_loaded(t);
}

/* Two gzip members back to back inflate to their concatenation, as with gzip(1). */
static void test_gzip_multi_member(void **s)
{
	struct state *t = *s;
	const size_t half = sizeof(t->elf) / 2;
	uint8_t *a, *b, *both;
	size_t a_len, b_len;

	gzip_buf(&t->elf, half, &a, &a_len);
	gzip_buf((uint8_t *)&t->elf + half, sizeof(t->elf) - half, &b, &b_len);
	both = malloc(a_len + b_len);
	assert_non_null(both);
	memcpy(both, a, a_len);
	memcpy(both + a_len, b, b_len);
	write_file(t->gzpath, both, a_len + b_len);
	free(a);
	free(b);
	free(both);
	if (!load_path(t, t->gzpath))
		fail_msg("two-member gzip refused: %s", t->err);
	check_loaded(t);
}

/* An empty PT_LOAD puts nothing anywhere, so its address is not checked. */
static void test_empty_load_ignored(void **s)
{
	struct state *t = *s;

	t->elf.ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R };
	write_elf(t);
	if (!load_path(t, t->path))
		fail_msg("image with an empty PT_LOAD refused: %s", t->err);
	check_loaded(t);
}

static void test_missing_file(void **s)
{
	struct state *t = *s;

	expect_fail_path(t, t->path, "No such file");
}

static void test_directory(void **s)
{
	struct state *t = *s;
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/sub", t->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	expect_fail_path(t, sub, "not a regular file");
}

/*
 * A FIFO with no writer: open() for reading would wait for one for ever, so
 * the loader must get past open() and refuse it.  The alarm turns a
 * regression into a failure (killed by SIGALRM) instead of a hung test run.
 */
static void test_fifo(void **s)
{
	struct state *t = *s;
	char fifo[128];

	snprintf(fifo, sizeof(fifo), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	expect_fail_path(t, fifo, "not a regular file");
	alarm(0);
	assert_string_equal(t->err + strlen(fifo), ": not a regular file");
}

static void test_empty_file(void **s)
{
	struct state *t = *s;

	write_file(t->path, "", 0);
	expect_fail_path(t, t->path, "file is empty");
}

static void test_not_elf(void **s)
{
	struct state *t = *s;
	static const char text[] = "#!/bin/sh\necho this is not a kernel\n";

	write_file(t->path, text, sizeof(text) - 1);
	expect_fail_path(t, t->path, "not an ELF file");
	/* Shorter than the magic itself. */
	write_file(t->path, "\177E", 2);
	expect_fail_path(t, t->path, "not an ELF file");
}

static void test_elf32(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_fail(t, "not a 64-bit ELF file");
}

static void test_big_endian(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_fail(t, "not a little-endian ELF file");
}

static void test_bad_version(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_version = 2;
	expect_fail(t, "unknown ELF version");
}

static void test_wrong_machine(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_machine = EM_AARCH64;
	expect_fail(t, "not x86-64");
}

static void test_et_dyn(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_type = ET_DYN;
	expect_fail(t, "not an executable");
}

static void test_truncated_header(void **s)
{
	struct state *t = *s;

	write_file(t->path, &t->elf, 40);
	expect_fail_path(t, t->path, "truncated: ELF header needs 64 bytes, file is 40 bytes");
}

static void test_bad_phentsize(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_phentsize = sizeof(Elf32_Phdr);
	expect_fail(t, "program header size is 32 bytes");
}

static void test_bad_phnum(void **s)
{
	struct state *t = *s;

	t->elf.eh.e_phnum = 0;
	expect_fail(t, "no program headers");
	t->elf.eh.e_phnum = LOADER_MAX_PHNUM + 1;
	expect_fail(t, "program headers; the most accepted is");
	t->elf.eh.e_phnum = PN_XNUM;
	expect_fail(t, "program headers; the most accepted is");
}

static void test_phdrs_past_eof(void **s)
{
	struct state *t = *s;
	char want[96];

	/* The table starts inside the file but its last entry runs off the end. */
	t->elf.eh.e_phoff = sizeof(t->elf) - 100;
	snprintf(want, sizeof(want),
		 "truncated: program header table ends at %zu, file is %zu bytes",
		 sizeof(t->elf) - 100 + 3 * sizeof(Elf64_Phdr), sizeof(t->elf));
	expect_fail(t, want);
	/* e_phoff + size wraps around 2^64: must not pass as "small". */
	t->elf.eh.e_phoff = UINT64_MAX - 8;
	expect_fail(t,
		    "truncated: program header table at offset 0xfffffffffffffff7 ends past 2^64");
}

static void test_segment_past_eof(void **s)
{
	struct state *t = *s;

	t->elf.ph[1].p_offset = sizeof(t->elf) - DATA_FILESZ + 1;
	expect_fail(t, "truncated: segment 1 data");
	t->elf.ph[1].p_offset = UINT64_MAX - 0x10;
	expect_fail(t, "truncated: segment 1 data");
}

static void test_filesz_gt_memsz(void **s)
{
	struct state *t = *s;

	t->elf.ph[1].p_memsz = DATA_FILESZ - 1;
	expect_fail(t, "segment 1: file size 0x100 is larger than memory size 0xff");
}

static void test_segment_below_1mib(void **s)
{
	struct state *t = *s;

	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = 0x8000; /* the page tables */
	expect_fail(t, "segment 1 (0x8000+0x3000) lies outside guest RAM [0x100000, 0xf00000)");
	/* Starts below, ends above: still refused. */
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = TEXT_PADDR - 0x1000;
	expect_fail(t, "lies outside guest RAM");
}

static void test_segment_past_limit(void **s)
{
	struct state *t = *s;

	/* Inside RAM, but straddling the launcher's reserved top. */
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = LIMIT - 0x1000;
	expect_fail(t, "segment 1 (0xeff000+0x3000) lies outside guest RAM [0x100000, 0xf00000)");
	/* Wholly inside the reserved top. */
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = LIMIT;
	expect_fail(t, "lies outside guest RAM");
	/* Beyond RAM altogether. */
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = 1UL << 40;
	expect_fail(t, "lies outside guest RAM");
}

static void test_address_overflow(void **s)
{
	struct state *t = *s;

	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = UINT64_MAX - 0xfff;
	expect_fail(t, "wraps around the end of the address space");
}

static void test_vaddr_mismatch(void **s)
{
	struct state *t = *s;

	t->elf.ph[0].p_vaddr = 0xffffffff80100000UL;
	expect_fail(t, "segment 0 is linked at 0xffffffff80100000 but loads at 0x100000");
}

static void test_overlap(void **s)
{
	struct state *t = *s;

	/* Data starts inside the text segment. */
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = TEXT_PADDR + TEXT_SIZE - 1;
	expect_fail(t, "segment 1 (0x1001ff+0x3000) overlaps segment 0 (0x100000+0x200)");
	/* Data wholly contains the text segment. */
	t->elf.ph[0].p_paddr = t->elf.ph[0].p_vaddr = LG_KERNEL_BASE + 0x2000;
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = LG_KERNEL_BASE;
	t->elf.ph[1].p_memsz = 0x10000;
	expect_fail(t, "overlaps segment 0");
}

static void test_adjacent_segments_ok(void **s)
{
	struct state *t = *s;

	/* Touching is not overlapping. */
	t->elf.ph[1].p_paddr = t->elf.ph[1].p_vaddr = TEXT_PADDR + TEXT_SIZE;
	write_elf(t);
	if (!load_path(t, t->path))
		fail_msg("adjacent segments refused: %s", t->err);
	assert_memory_equal(t->mem.base + TEXT_PADDR, t->elf.text, TEXT_SIZE);
	assert_memory_equal(t->mem.base + TEXT_PADDR + TEXT_SIZE, t->elf.data, DATA_FILESZ);
	assert_int_equal(t->img.load_end, TEXT_PADDR + TEXT_SIZE + DATA_MEMSZ);
}

static void test_entry_outside_exec(void **s)
{
	struct state *t = *s;

	/* In the data segment, which is not executable. */
	t->elf.eh.e_entry = DATA_PADDR;
	expect_fail(t, "entry point 0x200000 is not inside an executable (PF_X) loadable segment");
	/* Just past the end of the text segment. */
	t->elf.eh.e_entry = TEXT_PADDR + TEXT_SIZE;
	expect_fail(t, "entry point 0x100200 is not inside an executable");
	/* In no segment at all. */
	t->elf.eh.e_entry = 0;
	expect_fail(t, "entry point 0x0 is not inside an executable");
}

static void test_no_pt_load(void **s)
{
	struct state *t = *s;

	t->elf.ph[0].p_type = PT_NOTE;
	t->elf.ph[1].p_type = PT_NOTE;
	expect_fail(t, "no loadable (PT_LOAD) segments");
}

static void test_gzip_truncated(void **s)
{
	struct state *t = *s;
	uint8_t *gz;
	size_t gz_len;

	gzip_buf(&t->elf, sizeof(t->elf), &gz, &gz_len);
	write_file(t->gzpath, gz, gz_len / 2);
	expect_fail_path(t, t->gzpath, "truncated gzip data");
	/* Only the trailer (CRC-32 + length) missing: the data all inflates. */
	write_file(t->gzpath, gz, gz_len - 8);
	expect_fail_path(t, t->gzpath, "truncated gzip data");
	/* Just the magic. */
	write_file(t->gzpath, gz, 2);
	expect_fail_path(t, t->gzpath, "truncated gzip data");
	free(gz);
}

static void test_gzip_corrupt(void **s)
{
	struct state *t = *s;
	uint8_t *gz;
	size_t gz_len;

	gzip_buf(&t->elf, sizeof(t->elf), &gz, &gz_len);
	/* Flip bytes in the middle of the deflate data. */
	for (size_t i = gz_len / 2 - 2; i < gz_len / 2 + 2; i++)
		gz[i] ^= 0xff;
	write_file(t->gzpath, gz, gz_len);
	expect_fail_path(t, t->gzpath, "corrupt gzip data");
	free(gz);

	/* Intact deflate data, wrong CRC-32 in the trailer. */
	gzip_buf(&t->elf, sizeof(t->elf), &gz, &gz_len);
	gz[gz_len - 8] ^= 0x01;
	write_file(t->gzpath, gz, gz_len);
	expect_fail_path(t, t->gzpath, "corrupt gzip data (incorrect data check)");
	free(gz);
}

static void test_gzip_trailing_garbage(void **s)
{
	struct state *t = *s;
	uint8_t *gz;
	size_t gz_len;

	gzip_buf(&t->elf, sizeof(t->elf), &gz, &gz_len);
	gz = realloc(gz, gz_len + 4);
	assert_non_null(gz);
	memcpy(gz + gz_len, "junk", 4);
	write_file(t->gzpath, gz, gz_len + 4);
	expect_fail_path(t, t->gzpath, "trailing garbage after gzip data");
	free(gz);
}

/* Gzip files that inflate fine, to something that is not a kernel. */
static void test_gzip_of_garbage(void **s)
{
	struct state *t = *s;
	uint8_t *gz;
	size_t gz_len;

	gzip_buf("hello, world\n", 13, &gz, &gz_len);
	write_file(t->gzpath, gz, gz_len);
	expect_fail_path(t, t->gzpath, "not an ELF file");
	free(gz);
	/* Inflates to nothing at all. */
	gzip_buf("", 0, &gz, &gz_len);
	write_file(t->gzpath, gz, gz_len);
	expect_fail_path(t, t->gzpath, "decompressed image is empty");
	free(gz);
	gzip_buf(&t->elf, 40, &gz, &gz_len);
	write_file(t->gzpath, gz, gz_len);
	expect_fail_path(t, t->gzpath, "ELF header needs 64 bytes, decompressed image is 40 bytes");
	free(gz);
}

/*
 * A gzip bomb: a 1 MiB block of zeros deflates to about a kilobyte, and one
 * more member than LOADER_MAX_IMAGE MiB of them must be refused, not inflated.
 */
static void test_gzip_bomb(void **s)
{
	struct state *t = *s;
	const size_t n = (LOADER_MAX_IMAGE >> 20) + 1;
	uint8_t *zeros, *one, *bomb;
	size_t one_len;

	zeros = calloc(1, 1 << 20);
	assert_non_null(zeros);
	gzip_buf(zeros, 1 << 20, &one, &one_len);
	free(zeros);
	bomb = malloc(n * one_len);
	assert_non_null(bomb);
	for (size_t i = 0; i < n; i++)
		memcpy(bomb + i * one_len, one, one_len);
	write_file(t->gzpath, bomb, n * one_len);
	free(one);
	free(bomb);
	expect_fail_path(t, t->gzpath, "gzip data inflates to more than 256 MiB");
}

/*
 * load_kernel_image(): the same loader on bytes in memory, named as the
 * caller says, with the caller's own size limit (which the fuzz harness
 * keeps small so that bombs are cheap): plain and inflated sizes both count.
 */
static void test_image_in_memory(void **s)
{
	struct state *t = *s;
	const size_t mib = 1 << 20;
	uint8_t *big, *gz;
	size_t gz_len;

	memset(t->err, 'X', sizeof(t->err));
	assert_true(load_kernel_image("mem", &t->elf, sizeof(t->elf), LOADER_MAX_IMAGE, &t->mem,
				      LIMIT, &t->img, t->err, sizeof(t->err)));
	assert_string_equal(t->err, "");
	check_loaded(t);

	memset(t->mem.base, CANARY, MEM_SIZE);
	big = calloc(1, mib + 1);
	assert_non_null(big);
	memcpy(big, &t->elf, sizeof(t->elf));
	assert_false(load_kernel_image("mem", big, mib + 1, mib, &t->mem, LIMIT, &t->img, t->err,
				       sizeof(t->err)));
	assert_string_equal(t->err, "mem: file is 1048577 bytes; the most accepted is 1 MiB");
	gzip_buf(big, mib + 1, &gz, &gz_len);
	assert_false(load_kernel_image("mem", gz, gz_len, mib, &t->mem, LIMIT, &t->img, t->err,
				       sizeof(t->err)));
	assert_string_equal(t->err, "mem: gzip data inflates to more than 1 MiB; refusing it");
	free(gz);
	/* Exactly at the limit is fine. */
	gzip_buf(big, mib, &gz, &gz_len);
	assert_true(load_kernel_image("mem", gz, gz_len, mib, &t->mem, LIMIT, &t->img, t->err,
				      sizeof(t->err)));
	check_loaded(t);
	free(gz);
	free(big);
}

/* The caller's window must be inside RAM and above the launcher's megabyte. */
static void test_bad_limit(void **s)
{
	struct state *t = *s;

	write_elf(t);
	assert_false(load_kernel(t->path, &t->mem, MEM_SIZE + 1, &t->img, t->err, sizeof(t->err)));
	assert_non_null(strstr(t->err, "no room for a kernel"));
	assert_false(
		load_kernel(t->path, &t->mem, LG_KERNEL_BASE, &t->img, t->err, sizeof(t->err)));
	assert_non_null(strstr(t->err, "no room for a kernel"));
	assert_untouched(t, 0, MEM_SIZE);
}

/* A short error buffer gets a truncated, terminated message and nothing past it. */
static void test_small_err_buffer(void **s)
{
	struct state *t = *s;
	char small[12];

	memset(small, 'X', sizeof(small));
	t->elf.eh.e_machine = EM_AARCH64;
	write_elf(t);
	assert_false(load_kernel(t->path, &t->mem, LIMIT, &t->img, small, 8));
	assert_int_equal(strlen(small), 7);
	assert_memory_equal(small, t->path, 7);
	assert_int_equal(small[8], 'X');
	/* errsize 0: nothing written at all, still refused. */
	assert_false(load_kernel(t->path, &t->mem, LIMIT, &t->img, small, 0));
	assert_int_equal(small[8], 'X');
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_valid),
		T(test_gzip_valid),
		T(test_gzip_multi_member),
		T(test_empty_load_ignored),
		T(test_missing_file),
		T(test_directory),
		T(test_fifo),
		T(test_empty_file),
		T(test_not_elf),
		T(test_elf32),
		T(test_big_endian),
		T(test_bad_version),
		T(test_wrong_machine),
		T(test_et_dyn),
		T(test_truncated_header),
		T(test_bad_phentsize),
		T(test_bad_phnum),
		T(test_phdrs_past_eof),
		T(test_segment_past_eof),
		T(test_filesz_gt_memsz),
		T(test_segment_below_1mib),
		T(test_segment_past_limit),
		T(test_address_overflow),
		T(test_vaddr_mismatch),
		T(test_overlap),
		T(test_adjacent_segments_ok),
		T(test_entry_outside_exec),
		T(test_no_pt_load),
		T(test_gzip_truncated),
		T(test_gzip_corrupt),
		T(test_gzip_trailing_garbage),
		T(test_gzip_of_garbage),
		T(test_gzip_bomb),
		T(test_image_in_memory),
		T(test_bad_limit),
		T(test_small_err_buffer),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
