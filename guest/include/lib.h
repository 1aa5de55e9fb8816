/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib.h: the guest's small C library.
 *
 * The string functions have their standard names and meanings (the
 * compiler may emit calls to memcpy/memset itself).  The rest have names of
 * their own so the same files also build into hosted unit tests without
 * clashing with libc or zlib.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/*
 * kvsnprintf/ksnprintf: C99 snprintf semantics (returns the length the
 * full output would have had, always NUL-terminates when size > 0) for
 * the conversions %d %i %u %o %x %X %c %s %p %% with flags '-', '0', width,
 * '*' width, precision for %s (".N" / ".*"), and length modifiers l, ll, z.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) int ksnprintf(char *buf, size_t size, const char *fmt, ...);

/* Standard CRC-32 (IEEE 802.3, as zlib's crc32()): crc32_le(0, buf, n). */
uint32_t crc32_le(uint32_t crc, const void *buf, size_t len);

/*
 * parse_u64: a whole string as a number: decimal, or hex with 0x.
 * parse_size: like parse_u64 with an optional K, M or G suffix (binary).
 * Both return false on empty input, junk, or overflow.
 */
bool parse_u64(const char *s, uint64_t *out);
bool parse_size(const char *s, uint64_t *out);

/* Sort n values ascending in place (heapsort: no recursion, O(n log n)). */
void sort_u64(uint64_t *v, size_t n);

#endif /* GUEST_LIB_H */
