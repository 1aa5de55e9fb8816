// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c: numbers from the command line.  Strict on purpose: a typo in a
 * size should be an error, not a silently different number, so there is
 * no sign, no whitespace, no octal and nothing after the number.
 */
#include "lib.h"

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 16;
}

/*
 * Parse the number at the start of s: decimal, or hex after "0x"/"0X".
 * Stops at the first character that is not a digit, leaving *end there.
 * False if there are no digits or the value does not fit in 64 bits.
 */
static bool parse_number(const char *s, const char **end, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	const char *p;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (p = s; (d = digit_value(*p)) < (int)base; p++) {
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	/* "" and a bare "0x" have no digits. */
	if (p == s)
		return false;
	*end = p;
	*out = v;
	return true;
}

bool parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (!parse_number(s, &end, &v) || *end)
		return false;
	*out = v;
	return true;
}

bool parse_size(const char *s, uint64_t *out)
{
	const char *end;
	unsigned int shift;
	uint64_t v;

	if (!parse_number(s, &end, &v))
		return false;

	switch (*end) {
	case '\0':
		shift = 0;
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return false;
	}
	/* The suffix must be the last character: "16KB" and "1K2" are junk. */
	if (shift && end[1])
		return false;
	if (v > UINT64_MAX >> shift)
		return false;
	*out = v << shift;
	return true;
}
