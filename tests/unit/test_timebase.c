// SPDX-License-Identifier: GPL-2.0
/*
 * test_timebase.c: unit tests for launcher/timebase.c, which puts the
 * guest's TSC readings on the host's timeline for the trace.
 *
 * The cases are those hardware virtualisation produces: a guest TSC that
 * starts near 0 (an offset of nearly 2^64), one that wraps past 2^64 while
 * the host's has not, a scaled TSC (the guest ticks at another rate), and
 * the rounding that scaling needs; then an offset learned from a bracketed
 * sample must map that sample back into its bracket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timebase.h"

#define GHZ_2_6 2600000ULL /* kHz */

static void same_tsc_is_identity(void **state)
{
	struct timebase tb;

	(void)state;
	timebase_same(&tb, GHZ_2_6, "test");
	assert_int_equal(tb.offset, 0);
	assert_int_equal(tb.error, 0);
	assert_int_equal(timebase_to_host(&tb, 0), 0);
	assert_int_equal(timebase_to_host(&tb, 123456789), 123456789);
	assert_int_equal(timebase_to_host(&tb, UINT64_MAX), UINT64_MAX);
	assert_int_equal(timebase_span_to_host(&tb, 4242), 4242);
}

/* SVM/VT-x: the guest's count started near 0 when the host's read H. */
static void offset_guest_started_at_zero(void **state)
{
	const uint64_t h = 20189957408467ULL; /* a host TSC seen on kind A */
	struct timebase tb;

	(void)state;
	timebase_same(&tb, GHZ_2_6, "test");
	tb.offset = -h; /* what KVM_VCPU_TSC_OFFSET reads: 2^64 - H */
	assert_true(tb.offset > UINT64_MAX / 2);
	assert_int_equal(timebase_to_host(&tb, 0), h);
	assert_int_equal(timebase_to_host(&tb, 1000), h + 1000);
	/* Guest ticks just before its own 0 (e.g. a stale stamp): wraps back. */
	assert_int_equal(timebase_to_host(&tb, (uint64_t)-5), h - 5);
	/* Order is kept across the guest's and the host's scales. */
	assert_true(timebase_to_host(&tb, 10) < timebase_to_host(&tb, 11));
}

/* The guest's count is ahead and wrapped past 2^64; the host's did not. */
static void offset_guest_wrapped(void **state)
{
	const uint64_t h = 1000000;
	struct timebase tb;

	(void)state;
	timebase_same(&tb, GHZ_2_6, "test");
	tb.offset = UINT64_MAX - 99; /* guest = host + 2^64 - 100 */
	assert_int_equal(timebase_to_host(&tb, h + UINT64_MAX - 99), h);
	assert_int_equal(timebase_to_host(&tb, h - 100), h); /* the wrapped reading */
	assert_int_equal(timebase_to_host(&tb, 50), 150);
}

/* TSC scaling: the guest ticks at 1 GHz on a 2.6 GHz host. */
static void scaled_rate(void **state)
{
	struct timebase tb = { .offset = 0, .guest_khz = 1000000, .host_khz = GHZ_2_6 };

	(void)state;
	assert_int_equal(timebase_to_host(&tb, 1000000), 2600000);
	assert_int_equal(timebase_span_to_host(&tb, 1000), 2600);
	/* With an offset: guest = host * 10/26 + offset. */
	tb.offset = 5000;
	assert_int_equal(timebase_to_host(&tb, 5000 + 1000000), 2600000);
	/* Large counts do not overflow the product (128-bit). */
	assert_int_equal(timebase_to_host(&tb, 5000 + (1ULL << 60)),
			 (uint64_t)((((unsigned __int128)1 << 60) * 26 + 5) / 10)); /* x.6: up */
}

/* Scaling rounds to the nearest tick, halves up. */
static void scaled_rounding(void **state)
{
	struct timebase tb = { .offset = 0, .guest_khz = 4, .host_khz = 6 }; /* x1.5 */

	(void)state;
	assert_int_equal(timebase_span_to_host(&tb, 1), 2);		      /* 1.5 -> 2 */
	assert_int_equal(timebase_span_to_host(&tb, 2), 3);		      /* 3 */
	assert_int_equal(timebase_span_to_host(&tb, 3), 5);		      /* 4.5 -> 5 */
	tb = (struct timebase){ .offset = 0, .guest_khz = 3, .host_khz = 1 }; /* / 3 */
	assert_int_equal(timebase_span_to_host(&tb, 4), 1);		      /* 1.33 -> 1 */
	assert_int_equal(timebase_span_to_host(&tb, 5), 2);		      /* 1.67 -> 2 */
	assert_int_equal(timebase_span_to_host(&tb, 0), 0);
	/* The largest count: rounds, does not trap. */
	assert_int_equal(timebase_span_to_host(&tb, UINT64_MAX), UINT64_MAX / 3);
}

/*
 * An offset learned from a reading of the guest's TSC bracketed by two
 * host reads maps that reading to the middle of the bracket, and the error
 * covers the whole bracket.
 */
static void offset_from_sample(void **state)
{
	const uint64_t before = 20189957408467ULL, after = before + 30001;
	uint64_t guest = 123456, err, host;
	struct timebase tb;

	(void)state;
	timebase_same(&tb, GHZ_2_6, "test");
	tb.offset = timebase_offset_from_sample(&tb, guest, before, after, &err);
	host = timebase_to_host(&tb, guest);
	assert_int_equal(host, before + 15000);
	assert_true(host - err <= before && host + err >= after);
	/* The same with scaling (guest at half the host's rate). */
	tb.guest_khz = GHZ_2_6 / 2;
	tb.offset = timebase_offset_from_sample(&tb, guest, before, after, &err);
	host = timebase_to_host(&tb, guest);
	assert_true(host >= before && host <= after);
	assert_true(host - err <= before && host + err >= after);
	/* Software KVM: the guest read the host's TSC, inside the bracket. */
	timebase_same(&tb, GHZ_2_6, "test");
	tb.offset = timebase_offset_from_sample(&tb, before + 10000, before, after, &err);
	assert_true((int64_t)tb.offset >= -15001 && (int64_t)tb.offset <= 15001);
	assert_true(timebase_offset_signed(&tb) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_tsc_is_identity),
		cmocka_unit_test(offset_guest_started_at_zero),
		cmocka_unit_test(offset_guest_wrapped),
		cmocka_unit_test(scaled_rate),
		cmocka_unit_test(scaled_rounding),
		cmocka_unit_test(offset_from_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
