// SPDX-License-Identifier: GPL-2.0
/*
 * ringtest_lockstep.c: Linux's tools/virtio/ringtest ring code driven in
 * lock-step, one thread, so that callgrind can count its instructions per
 * buffer the way ringbench --insns counts ours (docs/ringtest.md).
 *
 *   ring-lockstep N, virtio_ring_0_9-lockstep N
 *   checked-lockstep N, checked-calls-lockstep N  (ringtest_checked.c)
 *
 * Not built by our Makefile: tools/ringtest-build.sh compiles it against
 * ringtest's main.h and links it with ringtest's ring.c or
 * virtio_ring_0_9.c (or our ringtest_checked.c), in place of ringtest's
 * main.c, with ringtest's own flags (-O2 -flto -fwhole-program: the ring
 * functions are inlined into the loop below, as they are into ringtest's
 * run_guest/run_host).
 *
 * N rounds of one buffer through both sides, in the order a buffer takes
 * in ringtest --sleep: add_inbuf, kick_available, get_buf finding nothing
 * (driver), use_buf, call_used, use_buf finding nothing (device), get_buf
 * (driver).  Every step must do what it should: the ring is empty
 * at the start of each round, so a failure is a bug here or there,
 * reported and exit 1.  The instructions per buffer are the difference
 * between two runs with different N over the difference in N
 * (lguest-compare: lockstep_insns()), which cancels start-up and exit;
 * what remains per round is the ring code plus this loop's few
 * instructions of glue (the counter, the checks).
 *
 * Notifications are counted, not sent: kick() and call() only increment a
 * counter, and nothing ever waits (ringtest's main.c writes an eventfd,
 * with a simulated 500-cycle exit and entry around it).
 */
#include <stdio.h>
#include <stdlib.h>

#include "main.h"

/* What main.h says main.c provides; the ring files use some of them. */
int param;
bool do_exit;
bool do_sleep = true; /* the rounds run the notification protocol */
bool do_relax;
unsigned int ring_size = 256;

static unsigned long kicks, calls;

void kick(void)
{
	kicks++;
}

void call(void)
{
	calls++;
}

/* Never reached: a lock-step round never waits. */
void wait_for_kick(void)
{
	fprintf(stderr, "ringtest-lockstep: wait_for_kick() called\n");
	exit(1);
}

void wait_for_call(void)
{
	fprintf(stderr, "ringtest-lockstep: wait_for_call() called\n");
	exit(1);
}

static void fail(const char *step, unsigned long round)
{
	fprintf(stderr, "ringtest-lockstep: %s failed in round %lu\n", step, round);
	exit(1);
}

/*
 * The rounds, flattened as ringtest's run_guest() and run_host() are (the
 * ring steps inlined here), and out of line so that a profile can tell
 * them from set-up.  Each side also looks once and finds nothing, as in
 * ringtest's loops and as in ringbench's and vringh_lockstep.c's rounds:
 * the device once more after its buffer (run_host()'s use_buf() loop ends
 * on a false), the driver before the device has used it (run_guest()
 * calls get_buf() after every add).  Not after it: ring.c's get_buf()
 * cannot tell a slot never added from one used, and takes it.
 */
static __attribute__((__flatten__, __noinline__)) void rounds(unsigned long n)
{
	/* The same buffer and cookie ringtest's run_guest() adds. */
	static char buf[] = "Buffer\n", cookie[] = "Hello, world!";
	unsigned int len;
	void *got;

	for (unsigned long i = 0; i < n; i++) {
		/*
		 * Its length, where ringtest says 0: none of its rings reads
		 * it, and ringtest_checked.c refuses an empty buffer.
		 */
		if (add_inbuf(sizeof(buf), buf, cookie))
			fail("add_inbuf", i);
		kick_available();
		if (get_buf(&len, &got))
			fail("get_buf (before use)", i);
		if (!use_buf(&len, &got))
			fail("use_buf", i);
		call_used();
		if (use_buf(&len, &got))
			fail("use_buf (a second buffer)", i);
		if (get_buf(&len, &got) != cookie)
			fail("get_buf", i);
	}
}

int main(int argc, char **argv)
{
	unsigned long n;
	char *end;

	if (argc != 2 || (n = strtoul(argv[1], &end, 10), *end || !*argv[1])) {
		fprintf(stderr, "usage: %s ROUNDS\n", argv[0]);
		return 2;
	}
	alloc_ring();
	rounds(n);
	printf("rounds=%lu kicks=%lu calls=%lu\n", n, kicks, calls);
	return 0;
}
