// SPDX-License-Identifier: GPL-2.0
/*
 * process/tsc.c: how fast the TSC ticks, without KVM to ask.
 *
 * The guest reads the host's TSC directly (rdtsc runs at CPL3), so it
 * needs the host TSC's rate.  Some CPUs state it (CPUID leaf 0x15: crystal
 * clock and ratio), some hypervisors too (leaf 0x40000010, the VMware/KVM
 * timing leaf).  Where neither does, as on this project's AMD machines, we
 * measure: TSC ticks against CLOCK_MONOTONIC_RAW over 2 ms, while the
 * child execs and sets itself up (process.c), so it costs little.
 * Bracketing each clock read between two rdtscs and keeping the tightest
 * bracket bounds the error by the time of one clock_gettime (tens of ns),
 * which over 2 ms is some parts in 100,000.
 */
#include <cpuid.h>
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

#include "process/process.h"

#define CALIBRATE_NS 2000000ULL

static uint64_t from_cpuid(const char **how)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0, NULL) >= 0x15) {
		__cpuid(0x15, a, b, c, d);
		if (a && b && c) {
			*how = "CPUID 0x15";
			return (uint64_t)c * b / a / 1000;
		}
	}
	__cpuid(1, a, b, c, d);
	if (c & (1U << 31)) { /* running under a hypervisor */
		__cpuid(0x40000000, a, b, c, d);
		if (a >= 0x40000010) {
			__cpuid(0x40000010, a, b, c, d);
			if (a) {
				*how = "CPUID 0x40000010";
				return a;
			}
		}
	}
	return 0;
}

/* One (TSC, ns) pair, taken where the TSC brackets the clock read tightest. */
static void sample(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		struct timespec ts;
		uint64_t t0 = __rdtsc(), t1;

		clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
		t1 = __rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		}
	}
}

uint64_t host_tsc_khz(const char **how)
{
	uint64_t khz = from_cpuid(how), tsc0, ns0, tsc1, ns1;
	struct timespec nap = { 0, CALIBRATE_NS };

	if (khz)
		return khz;
	sample(&tsc0, &ns0);
	nanosleep(&nap, NULL);
	sample(&tsc1, &ns1);
	*how = "measured against CLOCK_MONOTONIC_RAW";
	return (tsc1 - tsc0) * 1000000ULL / (ns1 - ns0);
}
