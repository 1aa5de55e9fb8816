// SPDX-License-Identifier: GPL-2.0
/*
 * lib.c: the little of a libc the stub needs, and its channel to the
 * launcher.
 *
 * The channel is a SOCK_SEQPACKET socket: one write is one message and one
 * read takes one whole message, so there is no framing to get wrong.  The
 * seccomp filter lets us write only whole struct stub_msg's to it.
 */
#include <asm/unistd.h>

#include "stub.h"

/*
 * GCC may emit calls to these for struct copies and initialisers.  Written
 * as string instructions, not loops, so that GCC cannot turn them back
 * into calls to themselves.  The direction flag is clear wherever C runs:
 * at exec, on signal delivery, and after the hypercall page's `cld`.
 */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

__attribute__((noreturn)) void stub_exit(int status)
{
	/* exit_group cannot fail; the loop only tells the compiler so. */
	for (;;)
		sys1(__NR_exit_group, status);
}

/* 0 if the whole message went out, else a negative errno. */
long stub_send(const struct stub_msg *m)
{
	long n = sys3(__NR_write, STUB_FD_CHANNEL, m, sizeof(*m));

	if (sys_failed(n))
		return n;
	return n == sizeof(*m) ? 0 : -1;
}

/*
 * The launcher's next struct stub_reply.  The buffer has room for two so
 * that an oversized message shows as the wrong length instead of being
 * cut to fit.  Anything but exactly one reply means the launcher is gone
 * or confused: there is no one left to report to, so we just exit.
 */
uint64_t stub_wait_reply(void)
{
	struct stub_reply r[2];
	long n = sys3(__NR_read, STUB_FD_CHANNEL, r, sizeof(r));

	if (n != sizeof(r[0]))
		stub_exit(STUB_EXIT_LOST);
	return r[0].value;
}

/* A hypercall only the launcher can answer: ask, and wait for the answer. */
uint64_t stub_call_launcher(uint32_t nr, uint64_t a0, uint64_t a1)
{
	struct stub_msg m;

	memset(&m, 0, sizeof(m));
	m.type = STUB_MSG_HCALL;
	m.nr = nr;
	m.args[0] = a0;
	m.args[1] = a1;
	if (stub_send(&m))
		stub_exit(STUB_EXIT_LOST);
	return stub_wait_reply();
}

/* @err: a positive errno, or 0 when there is none to give. */
__attribute__((noreturn)) void stub_setup_failed(enum stub_setup_step step, long err)
{
	struct stub_msg m;

	memset(&m, 0, sizeof(m));
	m.type = STUB_MSG_SETUP_FAILED;
	m.nr = step;
	m.args[0] = (uint64_t)err;
	stub_send(&m);
	stub_exit(STUB_EXIT_SETUP);
}
