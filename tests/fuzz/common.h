/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h: what every fuzz harness shares.
 *
 * A harness checks invariants, not only crashes: when one breaks it calls
 * fuzz_fail(), which prints "INVARIANT: ..." and aborts, so libFuzzer keeps
 * the input as a crash artifact like any sanitizer report.
 *
 * Inputs are consumed through a struct fuzz_input: a cursor over the
 * bytes libFuzzer gave us, which returns zeros once they run out, so a
 * harness never reads past the end and every prefix is a valid input.
 */
#ifndef TESTS_FUZZ_COMMON_H
#define TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *data;
	size_t size;
	size_t pos;
};

static inline void fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t size)
{
	in->data = data;
	in->size = size;
	in->pos = 0;
}

static inline size_t fuzz_left(const struct fuzz_input *in)
{
	return in->size - in->pos;
}

/* The next @n bytes into @out (zeros past the end). */
void fuzz_bytes(struct fuzz_input *in, void *out, size_t n);
uint8_t fuzz_u8(struct fuzz_input *in);
uint16_t fuzz_u16(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
uint64_t fuzz_u64(struct fuzz_input *in);

/* Report a broken invariant and abort (libFuzzer saves the input). */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define FUZZ_CHECK(cond, ...)                  \
	do {                                   \
		if (!(cond))                   \
			fuzz_fail(__VA_ARGS__); \
	} while (0)

#endif /* TESTS_FUZZ_COMMON_H */
