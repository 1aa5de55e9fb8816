// SPDX-License-Identifier: GPL-2.0
/*
 * test_guest_mem.c: unit tests for launcher/guest_mem.c, the one place
 * that turns a guest-physical range into a host pointer.
 *
 * One region from 0 (the launcher's guest RAM) and several regions with
 * holes (what a vhost-user frontend such as QEMU hands a backend): ranges
 * inside are translated, anything that touches a byte outside RAM, or a
 * hole, or that would wrap 64 bits, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest_mem.h"

static uint8_t ram[64 << 10];

static void one_region(void **state)
{
	const struct guest_mem mem = { .base = ram, .size = sizeof(ram), .fd = -1 };
	struct iovec iov;

	(void)state;
	assert_ptr_equal(guest_ptr(&mem, 0, sizeof(ram)), ram);
	assert_ptr_equal(guest_ptr(&mem, 4096, 16), ram + 4096);
	assert_ptr_equal(guest_ptr(&mem, sizeof(ram), 0), ram + sizeof(ram)); /* names no byte */
	assert_null(guest_ptr(&mem, sizeof(ram) - 1, 2));
	assert_null(guest_ptr(&mem, sizeof(ram) + 1, 0));
	assert_null(guest_ptr(&mem, 16, UINT64_MAX)); /* 16 + len wraps */
	assert_null(guest_ptr(&mem, UINT64_MAX, 2));
	assert_true(guest_iov(&mem, 100, 200, &iov));
	assert_ptr_equal(iov.iov_base, ram + 100);
	assert_int_equal(iov.iov_len, 200);
	assert_false(guest_iov(&mem, sizeof(ram), 1, &iov));
}

/* A PC's layout in small: [0, 20K) and [1M, 1M + 16K) with a hole, mapped apart. */
static void regions_with_a_hole(void **state)
{
	const struct guest_mem_region regions[] = {
		{ 0x0, 0xa0000 / 32, ram },		  /* 20 KiB here */
		{ 0x100000, 16 << 10, ram + (32 << 10) }, /* elsewhere in our space */
	};
	const struct guest_mem mem = { .fd = -1, .regions = regions, .nregions = 2 };

	(void)state;
	assert_ptr_equal(guest_ptr(&mem, 0, 16), ram);
	assert_ptr_equal(guest_ptr(&mem, 0x100000, 16), ram + (32 << 10));
	assert_ptr_equal(guest_ptr(&mem, 0x100000 + 100, (16 << 10) - 100), ram + (32 << 10) + 100);
	assert_ptr_equal(guest_ptr(&mem, 0x5000, 0), ram + 0x5000); /* end of the first: no byte */
	/* The hole, and ranges that run into it or past a region's end. */
	assert_null(guest_ptr(&mem, 0x5000, 1));
	assert_null(guest_ptr(&mem, 0x80000, 16));
	assert_null(guest_ptr(&mem, 0x4ff0, 32));
	assert_null(guest_ptr(&mem, 0x100000 + (16 << 10) - 8, 16));
	assert_null(guest_ptr(&mem, 0xfffff, 2)); /* from the hole into the second */
	/* Wrapping and huge values never match. */
	assert_null(guest_ptr(&mem, 0x100000, UINT64_MAX));
	assert_null(guest_ptr(&mem, UINT64_MAX - 4, 8));
}

/* Two regions that touch: each range must still lie inside one of them. */
static void adjacent_regions(void **state)
{
	const struct guest_mem_region regions[] = {
		{ 0x0, 4096, ram },
		{ 0x1000, 4096, ram + 8192 },
	};
	const struct guest_mem mem = { .fd = -1, .regions = regions, .nregions = 2 };

	(void)state;
	assert_ptr_equal(guest_ptr(&mem, 0xff0, 16), ram + 0xff0);
	assert_ptr_equal(guest_ptr(&mem, 0x1000, 16), ram + 8192);
	assert_null(guest_ptr(&mem, 0xff0, 32)); /* not contiguous here: refused */
}

/*
 * The ring code's straight-line check, guest_iov_direct(), takes one
 * mapping only: on RAM in regions (size 0) it refuses every range, even
 * one a region holds, and the long way (guest_iov()) finds it.
 */
static void direct_only_for_one_mapping(void **state)
{
	const struct guest_mem_region regions[] = { { 0x0, 4096, ram } };
	const struct guest_mem split = { .fd = -1, .regions = regions, .nregions = 1 };
	const struct guest_mem one = { .base = ram, .size = 4096, .fd = -1 };
	struct iovec iov;

	(void)state;
	assert_false(guest_iov_direct(&split, 0, 16, &iov));
	assert_false(guest_iov_direct(&split, 0x100, 1, &iov));
	assert_true(guest_iov(&split, 0x100, 16, &iov));
	assert_ptr_equal(iov.iov_base, ram + 0x100);
	assert_true(guest_iov_direct(&one, 0x100, 16, &iov));
	assert_ptr_equal(iov.iov_base, ram + 0x100);
	assert_int_equal(iov.iov_len, 16);
	assert_true(guest_iov_direct(&one, 4095, 1, &iov));
	assert_false(guest_iov_direct(&one, 4095, 2, &iov));
	assert_false(guest_iov_direct(&one, 4097, 1, &iov));
	assert_false(guest_iov_direct(&one, 8, UINT64_MAX, &iov));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_region),
		cmocka_unit_test(regions_with_a_hole),
		cmocka_unit_test(adjacent_regions),
		cmocka_unit_test(direct_only_for_one_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
