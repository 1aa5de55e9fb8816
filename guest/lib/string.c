// SPDX-License-Identifier: GPL-2.0
/*
 * string.c: the guest's mem* and str* functions.
 *
 * GCC emits calls to memcpy/memset (and memmove/memcmp) on its own, for
 * structure copies and for loops it recognises, even with -ffreestanding.
 * So no loop in this file may be turned back into such a call, or memset
 * would call itself forever: memcpy and memset are a single `rep movsb` /
 * `rep stosb` (fast on any CPU with ERMS, and short), and the functions
 * that keep a C loop are marked NO_LIBCALL.
 */
#include "lib.h"

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	/* The ABI guarantees the direction flag is clear, so this copies forwards. */
	asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/*
	 * A forward copy is safe unless dst starts inside [src, src + n).  The
	 * unsigned difference tests both ends at once without comparing
	 * pointers into different objects.
	 */
	if ((uintptr_t)d - (uintptr_t)s >= n)
		return memcpy(dst, src, n);

	/*
	 * Backwards a byte at a time rather than `std; rep movsb; cld`: an
	 * interrupt taken with the direction flag set would run its handler's
	 * memcpy backwards unless every entry path clears it, and overlapping
	 * moves up are rare and small here.
	 */
	while (n--)
		d[n] = s[n];
	return dst;
}

NO_LIBCALL int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
	}
	return 0;
}

NO_LIBCALL size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return p - s;
}

/* Comparisons are of unsigned char, as the C standard requires. */
NO_LIBCALL int strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	while (*p && *p == *q) {
		p++;
		q++;
	}
	return *p - *q;
}

NO_LIBCALL int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	for (; n; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
		if (!*p)
			return 0;
	}
	return 0;
}

/* As in C, the terminating NUL is part of the string: strchr(s, 0) finds it. */
NO_LIBCALL char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
