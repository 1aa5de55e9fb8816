// SPDX-License-Identifier: GPL-2.0
/*
 * timebase.c: the arithmetic of timebase.h.
 *
 * Everything is modulo 2^64, as the TSC and KVM's offset are: a guest
 * whose count started near 0 has an offset of about 2^64 minus the host's
 * count, and subtracting it wraps back.  Scaling multiplies a 64-bit count
 * by a rate in kHz (up to 2^32 or so), so the products are 128-bit.
 */
#include "timebase.h"

void timebase_same(struct timebase *tb, uint64_t khz, const char *source)
{
	*tb = (struct timebase){
		.offset = 0, .guest_khz = khz, .host_khz = khz, .error = 0, .source = source
	};
}

/* @v * @num / @den, rounded to nearest (halves up), for any 64-bit @v. */
static uint64_t scale(uint64_t v, uint64_t num, uint64_t den)
{
	if (num == den || !den)
		return v;
	return (uint64_t)(((unsigned __int128)v * num + den / 2) / den);
}

uint64_t timebase_to_host(const struct timebase *tb, uint64_t guest)
{
	return scale(guest - tb->offset, tb->host_khz, tb->guest_khz);
}

uint64_t timebase_span_to_host(const struct timebase *tb, uint64_t ticks)
{
	return scale(ticks, tb->host_khz, tb->guest_khz);
}

uint64_t timebase_offset_from_sample(const struct timebase *tb, uint64_t guest,
				     uint64_t host_before, uint64_t host_after, uint64_t *error)
{
	uint64_t span = host_after - host_before;
	uint64_t mid = host_before + span / 2;

	*error = span - span / 2;
	return guest - scale(mid, tb->guest_khz, tb->host_khz);
}
