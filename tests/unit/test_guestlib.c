// SPDX-License-Identifier: GPL-2.0
/*
 * test_guestlib.c: the guest's C library (guest/lib), built hosted, checked
 * against the host's own: kvsnprintf against glibc's snprintf, crc32_le
 * against zlib, sort_u64 against qsort.  string.c is not built here: its
 * names would clash with libc's.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/types.h>
#include <zlib.h>
#include <cmocka.h>

#include "lib.h"

/* A fixed-seed generator (splitmix64), so a failure reproduces. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rng();
}

/* ---- kvsnprintf / ksnprintf ---- */

#define FMT_BUF 512
#define FILL	0x5a

/*
 * Format the same arguments with glibc and with kvsnprintf, into a whole
 * buffer and then into every size from 0 to one past the full length, and
 * demand the same return value and the same bytes.  The buffers start out
 * filled with FILL, so a byte written past size, or a missing NUL, shows.
 * The format attribute has -Wformat check every literal case too.
 */
static void check_one(size_t size, const char *fmt, va_list ap)
{
	char want[FMT_BUF], got[FMT_BUF];
	va_list aq;
	int wn, gn, show;

	memset(want, FILL, sizeof(want));
	memset(got, FILL, sizeof(got));
	va_copy(aq, ap);
	wn = vsnprintf(want, size, fmt, aq);
	va_end(aq);
	va_copy(aq, ap);
	gn = kvsnprintf(got, size, fmt, aq);
	va_end(aq);
	/* Show what fits in size, a little past the output to reveal stray bytes. */
	show = size ? (int)size - 1 : 0;
	if (show > wn + 8)
		show = wn + 8;
	if (gn != wn || memcmp(got, want, sizeof(want)))
		fail_msg("format \"%s\", size %zu: got %d \"%.*s\", want %d \"%.*s\"", fmt, size,
			 gn, show, got, wn, show, want);
}

static __attribute__((format(printf, 1, 2))) void check_fmt(const char *fmt, ...)
{
	va_list ap, aq;
	int n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	assert_true(n >= 0 && n < FMT_BUF);
	check_one(FMT_BUF, fmt, ap);
	for (size_t size = 0; size <= (size_t)n + 1; size++)
		check_one(size, fmt, ap);
	/* C99: size 0 may come with a NULL buffer, and still counts. */
	va_copy(aq, ap);
	assert_int_equal(kvsnprintf(NULL, 0, fmt, aq), n);
	va_end(aq);
	va_end(ap);
}

/* Expected output of formats glibc prints differently (or -Wformat rejects). */
static void expect_fmt(const char *want, const char *fmt, ...)
{
	char got[FMT_BUF];
	va_list ap;
	int n;

	memset(got, FILL, sizeof(got));
	va_start(ap, fmt);
	n = kvsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	assert_string_equal(got, want);
	assert_int_equal(n, (int)strlen(want));
}

static void test_format_plain(void **state)
{
	(void)state;
	check_fmt("hello, world");
	check_fmt("%%");
	check_fmt("a%%b%%%%c");
	check_fmt("tab\tnewline\n");
}

static void test_format_signed(void **state)
{
	(void)state;
	check_fmt("%d", 0);
	check_fmt("%d", 1);
	check_fmt("%d", -1);
	check_fmt("%d", INT_MAX);
	check_fmt("%d", INT_MIN);
	check_fmt("%i", -12345);
	check_fmt("[%5d]", 42);
	check_fmt("[%-5d]", 42);
	check_fmt("[%05d]", 42);
	check_fmt("[%05d]", -42);
	check_fmt("[%2d]", 12345);
	check_fmt("[%*d]", 7, 42);
	check_fmt("[%*d]", -7, 42);
	check_fmt("[%-*d]", 7, -42);
	check_fmt("[%0*d]", 7, -42);
	check_fmt("[%+d] [%+d] [% d] [% d]", 5, -5, 5, -5);
	check_fmt("[%+05d] [% 05d] [%+-5d]", 5, 5, 5);
	check_fmt("[%.5d] [%.0d] [%.0d] [%8.3d] [%-8.3d]", 42, 0, 7, -5, 5);
	check_fmt("%ld %ld %ld", 0L, LONG_MAX, LONG_MIN);
	check_fmt("%lld %lld %lli", LLONG_MAX, LLONG_MIN, -1LL);
	check_fmt("%zd %zd", (ssize_t)-1, (ssize_t)SSIZE_MAX);
	check_fmt("%hhd %hhd %hd %hd", (signed char)-56, (signed char)127, (short)-32768,
		  (short)1234);
	check_fmt("[%20ld] [%-20lld] [%020zd]", LONG_MIN, LLONG_MIN, (ssize_t)-7);
}

/*
 * Flag combinations C defines but -Wformat warns about (one flag overrides
 * another), so the formats are not literals.
 */
static void test_format_flag_overrides(void **state)
{
	const char *f;

	(void)state;
	f = "[%-05d] [%-08x]"; /* '-' beats '0' */
	check_fmt(f, -42, 0xabu);
	f = "[%08.3d] [%08.3x] [%010.0d]"; /* a precision beats '0' */
	check_fmt(f, 5, 0xabu, 0);
	f = "[%+ d] [% +d]"; /* '+' beats ' ' */
	check_fmt(f, 5, 5);
	f = "[%+u] [% u] [%+x] [% #X]"; /* '+' and ' ' only sign signed numbers */
	check_fmt(f, 5u, 5u, 0xabu, 0xabu);
	f = "[%-0*d]";
	check_fmt(f, 6, 7);
}

static void test_format_unsigned(void **state)
{
	(void)state;
	check_fmt("%u %u %u", 0u, 1u, UINT_MAX);
	check_fmt("%x %x %x %X", 0u, 0xdeadbeefu, UINT_MAX, 0xdeadbeefu);
	check_fmt("%o %o %04o %#o %#o %-6o|", 0u, 8u, 0755u, 0u, 0644u, 17u);
	check_fmt("%lo %llo", 0777ul, 01234567012345670123ull);
	check_fmt("[%08x] [%-8x] [%8X] [%.6x] [%.0x]", 0xbeefu, 0xbeefu, 0xbeefu, 0xbeefu, 0u);
	check_fmt("[%#x] [%#X] [%#x] [%#010x] [%#-10x] [%#.6x]", 0x1fu, 0x1fu, 0u, 0x1fu, 0x1fu,
		  0x1fu);
	check_fmt("%lu %lx %lX", ULONG_MAX, ULONG_MAX, 0x0123456789abcdefUL);
	check_fmt("%llu %llx %#llx", ULLONG_MAX, 0x8000000000000000ULL, 1ULL);
	check_fmt("%zu %zx %zu", SIZE_MAX, (size_t)0xabcdef, (size_t)0);
	check_fmt("%hhu %hhx %hu %hx", (unsigned char)200, (unsigned char)0xab,
		  (unsigned short)65535, (unsigned short)0xbeef);
	/* An int out of the modifier's range is converted to the narrow type. */
	check_fmt("%hhu %hhx %hu %hx %hhd %hd", 0x1ff, 0x1ab, 0x1ffff, 0x1beef, 0x1ff, 0x18000);
	check_fmt("[%*u] [%-*x] [%0*X]", 12, 7u, 12, 0xabu, 12, 0xabu);
	check_fmt("[%300u]", 1u);
}

static void test_format_char_string(void **state)
{
	(void)state;
	check_fmt("%c%c%c", 'a', 'B', '~');
	check_fmt("[%3c] [%-3c]", 'x', 'y');
	check_fmt("[%c]", '\0');  /* the NUL is output, and counted */
	check_fmt("[%c]", 0x1ff); /* converted to unsigned char */
	check_fmt("%s", "hello");
	check_fmt("[%s]", "");
	check_fmt("[%10s] [%-10s] [%2s]", "abc", "abc", "abcdef");
	check_fmt("[%.3s] [%.0s] [%.10s] [%.s]", "abcdef", "abcdef", "abc", "abc");
	check_fmt("[%10.3s] [%-10.3s]", "abcdef", "abcdef");
	check_fmt("[%*s] [%*s] [%-*s]", 6, "ab", -6, "ab", 6, "ab");
	check_fmt("[%.*s] [%.*s] [%*.*s]", 2, "abcdef", -1, "abcdef", 5, 1, "abcdef");
	check_fmt("%s=%d (%#x) [%-6s]%c%%", "key", -3, 255u, "v", '!');
}

static void test_format_string_precision_bounds(void **state)
{
	/* With a precision, %s must not read past it: no NUL in this array. */
	const char abc[3] = { 'a', 'b', 'c' };
	char got[8];

	(void)state;
	assert_int_equal(ksnprintf(got, sizeof(got), "%.3s", abc), 3);
	assert_string_equal(got, "abc");
	assert_int_equal(ksnprintf(got, sizeof(got), "%.*s", 2, abc), 2);
	assert_string_equal(got, "ab");
}

/* Through a function, so the compiler cannot see the NULL and warn. */
static const char *__attribute__((noinline)) null_string(void)
{
	return NULL;
}

static void test_format_null_string(void **state)
{
	(void)state;
	expect_fmt("(null)", "%s", null_string());
	expect_fmt("[  (null)]", "[%8s]", null_string());
	expect_fmt("[(null)  ]", "[%-8s]", null_string());
	expect_fmt("[(nu]", "[%.3s]", null_string());
}

static void test_format_pointer(void **state)
{
	int x;
	void *p = &x;

	(void)state;
	check_fmt("%p", p);
	check_fmt("%p", (void *)0xffffffffffffffffULL);
	check_fmt("%p", (void *)1);
	check_fmt("[%p]", NULL);
	check_fmt("[%24p] [%-24p] [%8p]", p, p, NULL);
	expect_fmt("0x1234", "%p", (void *)0x1234);
}

static void test_format_unknown(void **state)
{
	/* Not literals: -Wformat would reject them, rightly. */
	const char *bad = "[%q]", *bad_width = "[%-5q]", *trailing = "abc%", *empty = "";

	(void)state;
	expect_fmt("[%q]", bad);
	expect_fmt("[%-5q]", bad_width);
	expect_fmt("abc%", trailing);
	expect_fmt("", empty);
}

static void test_format_truncation_return(void **state)
{
	char buf[8];

	(void)state;
	/* The return value is the untruncated length; the buffer keeps size - 1. */
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(ksnprintf(buf, 4, "%d-%s", 123456, "abc"), 10);
	assert_string_equal(buf, "123");
	assert_int_equal((unsigned char)buf[4], FILL);
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(ksnprintf(buf, 1, "%s", "abc"), 3);
	assert_int_equal(buf[0], '\0');
	assert_int_equal((unsigned char)buf[1], FILL);
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(ksnprintf(buf, 0, "%s", "abc"), 3);
	assert_int_equal((unsigned char)buf[0], FILL);
}

/* Random integers, widths and flags against glibc. */
static void test_format_random(void **state)
{
	(void)state;
	rng_state = 1;
	for (int i = 0; i < 2000; i++) {
		uint64_t v = rng() >> (rng() % 64);
		int w = (int)(rng() % 50) - 25;
		int prec = (int)(rng() % 30) - 5;

		check_fmt("[%*llu|%-*llx|%0*lld|%*.*llX]", w, (unsigned long long)v, w,
			  (unsigned long long)v, w, (long long)v, w, prec, (unsigned long long)v);
		check_fmt("[%*d|%0*i|%+*d|%*.*u]", w, (int)v, w, (int)v, w, (int)(v >> 7), w, prec,
			  (unsigned int)v);
	}
}

/* ---- crc32_le ---- */

static void test_crc32_known(void **state)
{
	(void)state;
	assert_int_equal(crc32_le(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(crc32_le(0, "", 0), 0);
	assert_int_equal(crc32_le(0x12345678, NULL, 0), 0x12345678);
	assert_int_equal(crc32_le(0, "a", 1), 0xe8b7be43);
}

static void test_crc32_vs_zlib(void **state)
{
	enum { MAX = 1 << 20 };
	unsigned char *buf = malloc(MAX + 16);

	(void)state;
	assert_non_null(buf);
	rng_state = 2;
	fill_random(buf, MAX + 16);

	/* Every length up to 300 at every alignment covers all the tails. */
	for (size_t align = 0; align < 8; align++) {
		for (size_t len = 0; len <= 300; len++) {
			const unsigned char *p = buf + align + len;

			assert_int_equal(crc32_le(0, p, len), (uint32_t)crc32(0, p, len));
		}
	}
	/* Big buffers, odd lengths, and a seed other than 0. */
	for (int i = 0; i < 20; i++) {
		size_t align = rng() % 16, len = rng() % MAX;
		uint32_t seed = (uint32_t)rng();

		assert_int_equal(crc32_le(0, buf + align, len),
				 (uint32_t)crc32(0, buf + align, len));
		assert_int_equal(crc32_le(seed, buf + align, len),
				 (uint32_t)crc32(seed, buf + align, len));
	}
	assert_int_equal(crc32_le(0, buf, MAX), (uint32_t)crc32(0, buf, MAX));
	free(buf);
}

static void test_crc32_chunked(void **state)
{
	enum { LEN = 100000 };
	unsigned char *buf = malloc(LEN);
	uint32_t whole;

	(void)state;
	assert_non_null(buf);
	rng_state = 3;
	fill_random(buf, LEN);
	whole = (uint32_t)crc32(0, buf, LEN);

	/* Feeding the buffer in random pieces gives the same CRC as all at once. */
	for (int round = 0; round < 50; round++) {
		uint32_t crc = 0;
		size_t off = 0;

		while (off < LEN) {
			size_t n = rng() % (round < 25 ? 17 : 5000);

			if (n > LEN - off)
				n = LEN - off;
			crc = crc32_le(crc, buf + off, n);
			off += n;
		}
		assert_int_equal(crc, whole);
	}
	free(buf);
}

/* ---- parse_u64 / parse_size ---- */

struct parse_case {
	const char *s;
	uint64_t v;
};

static void test_parse_u64_valid(void **state)
{
	static const struct parse_case cases[] = {
		{ "0", 0 },
		{ "1", 1 },
		{ "42", 42 },
		{ "007", 7 }, /* decimal, not octal */
		{ "4294967296", 4294967296ull },
		{ "18446744073709551615", UINT64_MAX },
		{ "018446744073709551615", UINT64_MAX },
		{ "0x0", 0 },
		{ "0x1f", 0x1f },
		{ "0X1F", 0x1f },
		{ "0xDeadBeef", 0xdeadbeef },
		{ "0xffffffffffffffff", UINT64_MAX },
		{ "0x0000000000000000000001", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;

		if (!parse_u64(cases[i].s, &v))
			fail_msg("parse_u64(\"%s\") failed", cases[i].s);
		if (v != cases[i].v)
			fail_msg("parse_u64(\"%s\") = %llu, want %llu", cases[i].s,
				 (unsigned long long)v, (unsigned long long)cases[i].v);
	}
}

static void test_parse_u64_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"x",
		"0x",
		"0X",
		"-1",
		"+1",
		" 1",
		"1 ",
		"1\n",
		"1a",
		"12x",
		"0b1",
		"1.0",
		"1K", /* suffixes are parse_size's */
		"0xg",
		"0x1g",
		"00x1",
		"18446744073709551616", /* 2^64 */
		"18446744073709551620",
		"99999999999999999999",
		"184467440737095516150",
		"0x10000000000000000",
		"0x1ffffffffffffffff",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v;

		if (parse_u64(cases[i], &v))
			fail_msg("parse_u64(\"%s\") accepted, = %llu", cases[i],
				 (unsigned long long)v);
	}
}

static void test_parse_size_valid(void **state)
{
	static const struct parse_case cases[] = {
		{ "0", 0 },
		{ "0K", 0 },
		{ "512", 512 },
		{ "1K", 1024 },
		{ "1k", 1024 },
		{ "4M", 4ull << 20 },
		{ "4m", 4ull << 20 },
		{ "16G", 16ull << 30 },
		{ "16g", 16ull << 30 },
		{ "0x10K", 16ull << 10 },
		{ "0x10", 16 },
		{ "18446744073709551615", UINT64_MAX },
		{ "17179869183G", 17179869183ull << 30 }, /* the largest G that fits */
		{ "17592186044415M", 17592186044415ull << 20 },
		{ "18014398509481983K", 18014398509481983ull << 10 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;

		if (!parse_size(cases[i].s, &v))
			fail_msg("parse_size(\"%s\") failed", cases[i].s);
		if (v != cases[i].v)
			fail_msg("parse_size(\"%s\") = %llu, want %llu", cases[i].s,
				 (unsigned long long)v, (unsigned long long)cases[i].v);
	}
}

static void test_parse_size_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"K",
		"G",
		"0x",
		"0xK",
		"-1K",
		" 1K",
		"1 K",
		"1K ",
		"16KB",
		"16KiB",
		"16GG",
		"1K2",
		"1T",
		"1b",
		"1.5G",
		"18446744073709551616",
		"17179869184G", /* 2^64 */
		"17592186044416M",
		"18014398509481984K",
		"0x400000000G",
		"99999999999999999999K",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v;

		if (parse_size(cases[i], &v))
			fail_msg("parse_size(\"%s\") accepted, = %llu", cases[i],
				 (unsigned long long)v);
	}
}

/* ---- sort_u64 ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sort a copy of v both ways and compare. */
static void check_sort(const uint64_t *v, size_t n)
{
	uint64_t *got = malloc((n + 1) * sizeof(*got));
	uint64_t *want = malloc((n + 1) * sizeof(*want));

	assert_non_null(got);
	assert_non_null(want);
	if (n)
		memcpy(got, v, n * sizeof(*v));
	if (n)
		memcpy(want, v, n * sizeof(*v));
	/* A guard after the end catches a write past n. */
	got[n] = 0xfeedfacecafebeefull;
	qsort(want, n, sizeof(*want), cmp_u64);
	sort_u64(got, n);
	if (n)
		assert_memory_equal(got, want, n * sizeof(*got));
	assert_int_equal(got[n], 0xfeedfacecafebeefull);
	free(got);
	free(want);
}

static void test_sort_small(void **state)
{
	static const uint64_t one[] = { 5 }, two_up[] = { 1, 2 }, two_down[] = { 2, 1 },
			      two_same[] = { 3, 3 }, three[] = { 3, 1, 2 },
			      dups[] = { 4, 4, 4, 4, 4 }, big[] = { UINT64_MAX, 0,
								    1ull << 63, (1ull << 63) - 1,
								    UINT64_MAX, 1 };
	uint64_t two[] = { 9, 7 };

	(void)state;
	sort_u64(NULL, 0);
	check_sort(one, 0);
	check_sort(one, 1);
	check_sort(two_up, 2);
	check_sort(two_down, 2);
	check_sort(two_same, 2);
	check_sort(three, 3);
	check_sort(dups, 5);
	/* Unsigned order: values with the top bit set come last. */
	check_sort(big, 6);

	sort_u64(two, 2);
	assert_int_equal(two[0], 7);
	assert_int_equal(two[1], 9);
}

static void test_sort_random(void **state)
{
	enum { MAX = 10007 };
	uint64_t *v = malloc(MAX * sizeof(*v));

	(void)state;
	assert_non_null(v);
	rng_state = 4;
	for (size_t n = 0; n <= 200; n++) {
		/* Alternate full-range values with a few distinct ones (many duplicates). */
		for (size_t i = 0; i < n; i++)
			v[i] = n % 2 ? rng() : rng() % 4;
		check_sort(v, n);
	}
	for (size_t i = 0; i < MAX; i++)
		v[i] = rng();
	check_sort(v, MAX);
	/* Already sorted, then reversed. */
	qsort(v, MAX, sizeof(*v), cmp_u64);
	check_sort(v, MAX);
	for (size_t i = 0; i < MAX / 2; i++) {
		uint64_t t = v[i];

		v[i] = v[MAX - 1 - i];
		v[MAX - 1 - i] = t;
	}
	check_sort(v, MAX);
	for (size_t i = 0; i < MAX; i++)
		v[i] = rng() % 100;
	check_sort(v, MAX);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_plain),
		cmocka_unit_test(test_format_signed),
		cmocka_unit_test(test_format_flag_overrides),
		cmocka_unit_test(test_format_unsigned),
		cmocka_unit_test(test_format_char_string),
		cmocka_unit_test(test_format_string_precision_bounds),
		cmocka_unit_test(test_format_null_string),
		cmocka_unit_test(test_format_pointer),
		cmocka_unit_test(test_format_unknown),
		cmocka_unit_test(test_format_truncation_return),
		cmocka_unit_test(test_format_random),
		cmocka_unit_test(test_crc32_known),
		cmocka_unit_test(test_crc32_vs_zlib),
		cmocka_unit_test(test_crc32_chunked),
		cmocka_unit_test(test_parse_u64_valid),
		cmocka_unit_test(test_parse_u64_invalid),
		cmocka_unit_test(test_parse_size_valid),
		cmocka_unit_test(test_parse_size_invalid),
		cmocka_unit_test(test_sort_small),
		cmocka_unit_test(test_sort_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
