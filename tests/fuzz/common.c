// SPDX-License-Identifier: GPL-2.0
/* common.c: the input cursor and invariant reports every harness uses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void fuzz_bytes(struct fuzz_input *in, void *out, size_t n)
{
	size_t have = fuzz_left(in) < n ? fuzz_left(in) : n;

	memcpy(out, in->data + in->pos, have);
	memset((uint8_t *)out + have, 0, n - have);
	in->pos += have;
}

uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v;

	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t v;

	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t v;

	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t v;

	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("INVARIANT: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
