// SPDX-License-Identifier: GPL-2.0
/*
 * clock.c: the stack's clock.  Only the guest builds this file; the unit
 * tests supply a net_now_us() they can move by hand.
 *
 * Microseconds are plenty for ARP's timers (a fifth of a second between
 * retries, a minute of life); commands that measure round trips read the
 * TSC themselves.
 */
#include "hcall.h"
#include "kernel.h"
#include "net.h"

uint64_t net_now_us(void)
{
	return tsc_to_ns(rdtsc()) / 1000;
}
