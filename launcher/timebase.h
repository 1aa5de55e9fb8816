/* SPDX-License-Identifier: GPL-2.0 */
/*
 * timebase.h: putting the guest's TSC readings on the host's timeline.
 *
 * The guest stamps its trace events with its own rdtsc; the launcher stamps
 * the device's with the host's.  They are one timeline only if we know how
 * the two counters relate.  Hardware virtualisation (VT-x, AMD-V) gives the
 * guest
 *
 *	guest_tsc = host_tsc * guest_khz / host_khz + offset	(mod 2^64)
 *
 * where the offset is usually minus the host TSC at vCPU creation (the
 * guest's count starts near 0), and the rates differ only with TSC scaling.
 * Kind A's software KVM and the process backend give the guest the host's
 * TSC itself: offset 0, same rate.  Each backend says which (struct vm's
 * guest_tsc); the trace converts every guest timestamp to host ticks with
 * timebase_to_host() before it merges the two sides.
 */
#ifndef LAUNCHER_TIMEBASE_H
#define LAUNCHER_TIMEBASE_H

#include <stdbool.h>
#include <stdint.h>

struct timebase {
	uint64_t offset;    /* guest TSC minus the scaled host TSC, mod 2^64 */
	uint64_t guest_khz; /* the guest's TSC rate */
	uint64_t host_khz;  /* the host's; equal unless the TSC is scaled */
	uint64_t error;	    /* how far off the offset may be, in host ticks (0: exact) */
	const char *source; /* how we know the offset, for -v and the trace file */
	int64_t moved;	    /* how far the offset moved while the guest ran (KVM does
			       that on a host whose TSC is unstable); 0 normally */
};

/* The guest reads the host's own TSC. */
void timebase_same(struct timebase *tb, uint64_t khz, const char *source);

/* The host tick at which the guest's TSC read @guest (rounded to nearest). */
uint64_t timebase_to_host(const struct timebase *tb, uint64_t guest);

/* @ticks of the guest's TSC, in the host's (a duration: no offset). */
uint64_t timebase_span_to_host(const struct timebase *tb, uint64_t ticks);

/*
 * The offset that puts @guest, read between host ticks @host_before and
 * @host_after, at their midpoint; *@error gets half the bracket.
 */
uint64_t timebase_offset_from_sample(const struct timebase *tb, uint64_t guest,
				     uint64_t host_before, uint64_t host_after, uint64_t *error);

/* The offset as a signed number of guest ticks, for people to read. */
static inline int64_t timebase_offset_signed(const struct timebase *tb)
{
	return (int64_t)tb->offset;
}

#endif /* LAUNCHER_TIMEBASE_H */
