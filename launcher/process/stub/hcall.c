// SPDX-License-Identifier: GPL-2.0
/*
 * hcall.c: the hypercalls, reached by the guest's `call` into the
 * hypercall page (entry.S).
 *
 * These are ordinary C functions that run on the guest's own stack and
 * return to it.  Two of them the stub does itself, because they are on the
 * guest's hot path and a round trip through the launcher would double
 * their cost: NOTIFY writes the device's eventfd (as KVM's ioeventfd
 * would), and WAIT sleeps on the shared page's futex (as the launcher's
 * vCPU thread would on KVM).  The rest become messages to the launcher.
 *
 * Nothing here is a security check: the guest could as well jump past any
 * test we make, and the guest (or a launcher device thread) can rewrite
 * our locals on its stack under us.  The seccomp filter (filter.c) is what
 * bounds each system call made here.
 */
#include <asm/unistd.h>
#include <linux/futex.h>
#include <linux/time_types.h>

#include "stub.h"

/* WAIT's longest sleep, as in the launcher's guest_wait(). */
#define WAIT_MAX_US (3600ULL * 1000000)

/*
 * Device @i's eventfd.  It is nonblocking: a saturated counter (EAGAIN)
 * already means the device thread has a wakeup coming, so errors are
 * ignored.
 */
static void kick(uint32_t i)
{
	uint64_t one = 1;

	sys3(__NR_write, STUB_FD_NOTIFY0 + i, &one, sizeof(one));
}

/*
 * The key is 32 bits, as KVM's ioeventfd datamatch on %eax sees it.  A key
 * that is no device's (or any key without the fast path) goes to the
 * launcher, which knows what to make of it.
 */
uint64_t stub_hc_notify(uint64_t key, uint64_t a1)
{
	const struct stub_config *c = cfg();

	if (c->flags & STUB_F_NOTIFY_DIRECT) {
		for (uint32_t i = 0; i < c->num_devices; i++) {
			if (c->keys[i] == (uint32_t)key) {
				kick(i);
				return 0;
			}
		}
	}
	return stub_call_launcher(LG_HC_NOTIFY, key, a1);
}

/*
 * Sleep until a device has signalled, the timeout passes, or (harmlessly)
 * sooner: the protocol of struct lg_shared (lguest_abi.h), as the
 * launcher's guest_wait() runs it on KVM.  We read wake_seq before we say
 * we are waiting, so a signaller that bumps it after that makes FUTEX_WAIT
 * return at once; and we look at pending after, so a signaller that came
 * before (and saw no waiter) is not slept through.  No FUTEX_PRIVATE_FLAG:
 * the waker is another process.
 */
uint64_t stub_hc_wait(uint64_t timeout_us, uint64_t a1)
{
	struct lg_shared *sh = (struct lg_shared *)cfg()->shared_gpa;
	struct __kernel_timespec ts, *timeout = NULL;
	uint32_t seq = __atomic_load_n(&sh->wake_seq, __ATOMIC_SEQ_CST);

	(void)a1;
	if (timeout_us) {
		if (timeout_us > WAIT_MAX_US)
			timeout_us = WAIT_MAX_US;
		ts.tv_sec = (long long)(timeout_us / 1000000);
		ts.tv_nsec = (long long)(timeout_us % 1000000) * 1000;
		timeout = &ts;
	}
	__atomic_store_n(&sh->waiting, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&sh->pending, __ATOMIC_SEQ_CST))
		sys4(__NR_futex, &sh->wake_seq, FUTEX_WAIT, seq, timeout);
	__atomic_store_n(&sh->waiting, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* The launcher answers these itself, as on KVM. */
uint64_t stub_hc_console(uint64_t gpa, uint64_t len)
{
	return stub_call_launcher(LG_HC_CONSOLE, gpa, len);
}

uint64_t stub_hc_status(uint64_t index, uint64_t status)
{
	return stub_call_launcher(LG_HC_STATUS, index, status);
}

/* Never answered: the launcher ends this process instead. */
uint64_t stub_hc_shutdown(uint64_t status, uint64_t a1)
{
	return stub_call_launcher(LG_HC_SHUTDOWN, status, a1);
}

uint64_t stub_hc_crash(uint64_t gpa, uint64_t len)
{
	return stub_call_launcher(LG_HC_CRASH, gpa, len);
}
