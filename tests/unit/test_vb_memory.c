// SPDX-License-Identifier: GPL-2.0
/*
 * test_vb_memory.c: unit tests for vhost-blk/memory.c, the backend's
 * check and mapping of a frontend's SET_MEM_TABLE.
 *
 * A good table maps each region where the ring code can reach it
 * (guest-physical) and translates the frontend's own addresses; a table
 * with regions that overlap, are empty, wrap, lie past their file's end,
 * or come with the wrong number of fds is refused with a reason, and
 * every fd it carried is closed either way.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "vhost_blk.h"

#define MIB (1ULL << 20)

static int memfd(uint64_t size)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* A message with @n regions, each a fresh memfd of @file bytes. */
static void table(struct vu_msg *m, unsigned int n, uint64_t file)
{
	memset(m, 0, sizeof(*m));
	m->hdr.request = VU_SET_MEM_TABLE;
	m->p.memory.nregions = n;
	for (unsigned int i = 0; i < n; i++)
		m->fds[i] = memfd(file);
	m->nfds = n;
}

static bool closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0;
}

static void init(struct vb_memory *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->mem = (struct guest_mem){ .fd = -1, .regions = vm->regions };
}

/* QEMU's shape: [0, 640K) and [1M, 3M) from one memfd, at two offsets. */
static void good_table(void **state)
{
	struct vb_memory vm;
	struct vu_msg m;
	char why[256];
	uint64_t gpa;
	int fd, fds[2];
	uint8_t *p, byte = 0;

	(void)state;
	init(&vm);
	table(&m, 2, 4 * MIB);
	m.p.memory.regions[0] = (struct vu_mem_region){ 0, 0xa0000, 0x7f0000000000, 0 };
	m.p.memory.regions[1] = (struct vu_mem_region){ MIB, 2 * MIB, 0x7f0000100000, MIB };
	fd = dup(m.fds[1]);
	fds[0] = m.fds[0];
	fds[1] = m.fds[1];
	assert_true(vb_memory_set(&vm, &m, false, why, sizeof(why)));
	assert_true(closed(fds[0]) && closed(fds[1]));
	assert_int_equal(vm.mem.nregions, 2);

	/* Guest-physical 1M + 5 is byte MIB + 5 of the second region's file. */
	p = guest_ptr(&vm.mem, MIB + 5, 1);
	assert_non_null(p);
	*p = 0xa5;
	assert_int_equal(pread(fd, &byte, 1, (off_t)(MIB + 5)), 1);
	assert_int_equal(byte, 0xa5);
	assert_null(guest_ptr(&vm.mem, 0xa0000, 1)); /* the hole */
	assert_int_equal(guest_gpa(&vm.mem, p), MIB + 5);

	/* The frontend's addresses, translated; ranges must stay in one region. */
	assert_true(vb_memory_gpa(&vm, 0x7f0000100000 + 16, 64, &gpa));
	assert_int_equal(gpa, MIB + 16);
	assert_true(vb_memory_gpa(&vm, 0x7f0000000000, 0xa0000, &gpa));
	assert_int_equal(gpa, 0);
	assert_false(vb_memory_gpa(&vm, 0x7f0000000000 + 0x9fff0, 32, &gpa));
	assert_false(vb_memory_gpa(&vm, 0x7f0000100000 + 2 * MIB, 1, &gpa));
	assert_false(vb_memory_gpa(&vm, UINT64_MAX - 8, 16, &gpa));
	vb_memory_release(&vm, true);
	assert_int_equal(vm.mem.nregions, 0);
	close(fd);
}

/* Each bad table: refused, with words from the reason, all fds closed. */
static void refuse(void (*edit)(struct vu_msg *), unsigned int n, uint64_t file, const char *words)
{
	struct vb_memory vm;
	struct vu_msg m;
	int fds[VU_MAX_FDS];
	char why[256] = "";

	init(&vm);
	table(&m, n, file);
	for (unsigned int i = 0; i < n; i++) {
		fds[i] = m.fds[i];
		m.p.memory.regions[i] = (struct vu_mem_region){ i * 16 * MIB, MIB,
								0x7f0000000000 + i * 16 * MIB, 0 };
	}
	edit(&m);
	assert_false(vb_memory_set(&vm, &m, false, why, sizeof(why)));
	if (!strstr(why, words))
		fail_msg("reason \"%s\" does not say \"%s\"", why, words);
	for (unsigned int i = 0; i < n; i++)
		assert_true(closed(fds[i]));
	assert_int_equal(vm.n, 0);
}

static void gpa_overlap(struct vu_msg *m)
{
	m->p.memory.regions[1].guest_phys_addr = MIB / 2;
}

static void uva_overlap(struct vu_msg *m)
{
	m->p.memory.regions[1].userspace_addr = m->p.memory.regions[0].userspace_addr + 4096;
}

static void past_file(struct vu_msg *m)
{
	m->p.memory.regions[0].mmap_offset = MIB / 2; /* the file has 1 MiB */
}

static void offset_huge(struct vu_msg *m)
{
	m->p.memory.regions[0].mmap_offset = UINT64_MAX - 4096;
}

static void wraps(struct vu_msg *m)
{
	m->p.memory.regions[0].guest_phys_addr = UINT64_MAX - 4096;
}

static void empty(struct vu_msg *m)
{
	m->p.memory.regions[0].memory_size = 0;
}

/* Aligned guest addresses would be misaligned pointers (fuzz_vhost_session). */
static void misaligned(struct vu_msg *m)
{
	m->p.memory.regions[0].mmap_offset = 1;
	m->p.memory.regions[0].memory_size = MIB - 1;
}

static void fd_missing(struct vu_msg *m)
{
	close(m->fds[1]);
	m->nfds = 1;
}

static void bad_tables(void **state)
{
	(void)state;
	refuse(gpa_overlap, 2, MIB, "memory regions 0 and 1 overlap");
	refuse(uva_overlap, 2, MIB, "memory regions 0 and 1 overlap");
	refuse(past_file, 1, MIB, "lies outside its file (1048576 bytes)");
	refuse(offset_huge, 1, MIB, "wraps around");
	refuse(wraps, 1, MIB, "wraps around");
	refuse(empty, 1, MIB, "memory region 0 is empty");
	refuse(fd_missing, 2, MIB, "2 memory regions but 1 file descriptors");
	refuse(misaligned, 1, MIB, "guest address 0 and file offset 0x1 are not at the same place");
}

/*
 * A new table while the ring runs: the old mappings stay (the ring's
 * pointers are into them) until the ring stops.
 */
static void replaced_while_running(void **state)
{
	struct vb_memory vm;
	struct vu_msg m;
	char why[256];
	uint8_t *old;

	(void)state;
	init(&vm);
	table(&m, 1, MIB);
	m.p.memory.regions[0] = (struct vu_mem_region){ 0, MIB, 0x10000000, 0 };
	assert_true(vb_memory_set(&vm, &m, true, why, sizeof(why)));
	old = guest_ptr(&vm.mem, 0, MIB);
	table(&m, 1, MIB);
	m.p.memory.regions[0] = (struct vu_mem_region){ 0, MIB, 0x20000000, 0 };
	assert_true(vb_memory_set(&vm, &m, true, why, sizeof(why)));
	assert_int_equal(vm.nretired, 1);
	old[MIB - 1] = 1; /* still mapped */
	assert_ptr_not_equal(guest_ptr(&vm.mem, 0, MIB), old);
	vb_memory_release(&vm, false);
	assert_int_equal(vm.nretired, 0);
	assert_int_equal(vm.mem.nregions, 1);
	vb_memory_release(&vm, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_table),
		cmocka_unit_test(bad_tables),
		cmocka_unit_test(replaced_while_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
