// SPDX-License-Identifier: GPL-2.0
/*
 * time.c: time and waiting.
 *
 * rdtsc runs natively and returns the host's TSC, so the launcher's
 * tsc_khz converts it to nanoseconds; the same clock the launcher reads.
 *
 * Devices never interrupt us.  A device with something for us sets its bit
 * in the shared page's pending word; when we have nothing to do we issue
 * WAIT, which blocks in the launcher until a bit is set.  That is lguest's
 * "halt until interrupt" without interrupts.
 */
#include "hcall.h"
#include "kernel.h"
#include "trace.h"

/*
 * How long wait_for_signal() polls before WAIT: 200 us, Linux's default
 * guest_halt_poll_ns.  It must outlast the requests a guest typically
 * waits for: a 1 MiB read from the page cache takes ~125 us on the
 * device, and with 50 us the guest slept before each one finished, so
 * every completion woke it on the other CPU (11% of the device thread's
 * time on the process backend; 1 MiB seqread qd=4 went from 6.0-6.4 K to
 * 8.3-8.6 K IOPS with 200, for the same total CPU, qd=1 and qd=32
 * unchanged).  A guest with nothing to do still sleeps after 200 us.
 */
#ifndef WAIT_POLL_NS
#define WAIT_POLL_NS 200000
#endif

volatile struct lg_shared *shared(void)
{
	return (volatile struct lg_shared *)(uintptr_t)boot->shared_gpa;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	/* ticks * 1e6 / khz, without overflowing for long intervals. */
	uint64_t khz = boot->tsc_khz;

	return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return ns / 1000000 * boot->tsc_khz + ns % 1000000 * boot->tsc_khz / 1000000;
}

uint64_t take_signals(void)
{
	/* Exchange, not load + store: a device may set a bit between them. */
	uint64_t bits = __atomic_exchange_n(&shared()->pending, 0, __ATOMIC_ACQ_REL);

	if (tracing() && bits) {
		uint64_t now = rdtsc();

		for (unsigned int dev = 0; dev < 64; dev++) {
			if (bits & (1ULL << dev))
				trace_record(now, LG_TR_SIGNAL_TAKEN, dev, LG_TR_NO_DEV, 0, 0, 0, 0,
					     0);
		}
	}
	return bits;
}

uint64_t wait_for_signal(uint64_t timeout_us)
{
	uint64_t bits = take_signals();
	uint64_t spin_until, slept = 0;

	if (bits)
		return bits;
	/*
	 * WAIT costs an exit and a host wakeup (tens of microseconds here),
	 * while a device that was just notified usually answers sooner.  So
	 * first poll the pending word for a short while, as Linux's haltpoll
	 * does before it halts.
	 */
	spin_until = rdtsc() + ns_to_tsc(WAIT_POLL_NS);
	while (rdtsc() < spin_until) {
		if (__atomic_load_n(&shared()->pending, __ATOMIC_RELAXED))
			return take_signals();
		cpu_relax();
	}
	/*
	 * WAIT re-checks the pending word before it sleeps.  We trace it
	 * ourselves, on the vCPU's track: on the process backend WAIT never
	 * reaches the launcher (the stub sleeps on the futex), so only we see
	 * it on both backends.
	 */
	if (tracing()) {
		slept = rdtsc();
		trace_record(slept, LG_TR_WAIT, LG_TR_NO_DEV, LG_TR_NO_DEV, 0, 0, 0, 0, 0);
	}
	hcall_wait(timeout_us);
	if (tracing()) {
		uint64_t now = rdtsc();

		trace_record(now, LG_TR_WAKE, LG_TR_NO_DEV, LG_TR_NO_DEV, 0, 0, 0, 0, now - slept);
	}
	return take_signals();
}
