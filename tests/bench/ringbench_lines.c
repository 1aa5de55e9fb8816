// SPDX-License-Identifier: GPL-2.0
/*
 * ringbench_lines.c: which cache lines of ring memory each side touches,
 * for build/ringbench-lines.
 *
 * How we see the accesses.  build/ringbench-lines compiles the ring code
 * (guest/ring/{draft3,split,packed}_drv.c, launcher/ring/{draft3,split,
 * packed}_dev.c, launcher/guest_mem.c) with GCC's -fsanitize=thread but
 * links no ThreadSanitizer runtime: this file is the runtime, the way the
 * Linux kernel's KCSAN provides its own __tsan_* functions.  The compiler
 * puts a call before every load and store the instrumented code makes to
 * memory that is not a private local, atomic or not:
 *
 *   x = q->avail->idx;                  __tsan_read2(&q->avail->idx)
 *   d->len = len;                       __tsan_write4(&d->len)
 *   memcpy(&l, table, 16), inlined      __tsan_read_range(table, 16)
 *   __atomic_load_n(&used->idx, ACQ)    __tsan_atomic16_load(&used->idx, 2)
 *   __atomic_thread_fence(SEQ_CST)      __tsan_atomic_thread_fence(5)
 *
 * The plain hooks only look.  The atomic ones replace the operation, so
 * they must do it too: sequentially consistent, whatever order the caller
 * asked for (stronger is always correct, and this build is not timed).
 * Each hook notes the 64-byte lines an access covers if they are ring
 * memory, in the set of the thread that made it.
 *
 * What the number means.  ringbench-lines --lines-only runs the lock-step
 * schedule of ringbench.c (lockstep_run()): one thread plays the driver's
 * part of a round, then the device's, then the driver's again, calling
 * lines_side_begin() as it changes hats.  A side's *window* is its part of
 * one round; it closes at the side's checkpoint (lines_checkpoint(), given
 * the side's running count of completed ops: buffers reaped for the
 * driver, pushed for the device) if the side completed at least one op
 * since the window opened.  Closing it adds the number of distinct lines
 * the window touched to the side's total and its ops to the side's count,
 * and opens the next window with an empty set.  Then, for each side,
 *
 *   lines/op = (sum over closed windows of distinct lines touched) / ops
 *
 * counting only ring memory, the bytes lines_watch_ring() names: the
 * layout's descriptors, avail and used rings, flags and event words.  Not
 * the data buffers, not either side's private state (free lists, tokens,
 * the device's copies), not ringbench's bookkeeping.  A line is a 64-byte
 * aligned block; ringbench puts the ring at a 4 KiB-aligned address, so
 * these are the 64-byte blocks of guest-physical memory.  What a side
 * touches after its last checkpoint belongs to no op and is dropped.
 *
 * With one round per --batch buffers and nothing left to timing, the
 * figure is exact and the same on every run: per op, the lines a side
 * needs to move a batch of that size through the layout, shared lines
 * (an index, a line holding four descriptors) counted once per batch.
 * The two-thread schedule of the timed run works too (each thread calls
 * lines_side_begin() once), but there the ops per window depend on how
 * far one side lags, so its figure varies from run to run; we use it only
 * when ringbench-lines is run by hand without --lines-only.
 *
 * What it is not: cache misses, or lines moved between the cores.  A line
 * counts for a side in every window that touches it, even if the other
 * side never wrote it meanwhile and it never left this core's cache; a
 * line both sides write counts once for each, however often it bounced.
 * It is the footprint a layout makes each side touch per op, the stuff
 * misses and transfers are made of when the sides run on different cores.
 *
 * What the hooks cannot see: what the compiler does not instrument.  In
 * the ring code that is the libc memset() calls and inlined `rep stos`
 * clears of the init functions (split_drv_init() and packed_drv_init()
 * zero their ring, d3_drv_init() its three pages, the *_dev_init()s their
 * own structs), and draft3_dev.c's memmove() of its private posted[]
 * list.  The rings are zeroed before lines_watch_ring(), so no window
 * misses anything: during the run every access to ring memory goes
 * through a hook (the one inlined copy, read_indirect()'s in split_dev.c,
 * through __tsan_read_range()).  `objdump -dr` of $(BUILD)/lines/ shows
 * any new mem*() call or `rep` string instruction.
 *
 * ringbench.c and this file are compiled without -fsanitize: their own
 * accesses are not counted, and this file cannot call itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

#define LINE_SHIFT 6 /* 64-byte lines */

/* Must match enum lines_side in ringbench.c. */
enum { LINES_DRV, LINES_DEV, LINES_NSIDES };

/* One side's open window, and its closed ones summed. */
struct lines_side {
	uint64_t *seen;	 /* bitmap over the ring's lines: touched in this window */
	uint32_t *fresh; /* the lines set in seen, to clear it when the window closes */
	uint32_t nfresh;
	uint64_t ops_base; /* the side's op count when this window opened */
	uint64_t lines, ops, windows;
};

/* The ring: set before the threads start, read-only while they run. */
static uintptr_t ring_start, ring_end;
static uintptr_t ring_first_line; /* ring_start >> LINE_SHIFT */
static uint32_t ring_nlines;
static struct lines_side sides[LINES_NSIDES];

/* Which side the calling thread is; NULL: not counted. */
static __thread struct lines_side *current;

void lines_watch_ring(const void *ring, size_t bytes)
{
	ring_start = (uintptr_t)ring;
	ring_end = ring_start + bytes;
	ring_first_line = ring_start >> LINE_SHIFT;
	ring_nlines = bytes ? (uint32_t)(((ring_end - 1) >> LINE_SHIFT) - ring_first_line + 1) : 0;
	for (int i = 0; i < LINES_NSIDES; i++) {
		struct lines_side *s = &sides[i];

		free(s->seen);
		free(s->fresh);
		*s = (struct lines_side){ 0 };
		s->seen = calloc(ring_nlines / 64 + 1, sizeof(*s->seen));
		s->fresh = calloc(ring_nlines + 1, sizeof(*s->fresh));
		if (!s->seen || !s->fresh) {
			fputs("ringbench-lines: out of memory\n", stderr);
			exit(2);
		}
	}
}

/* The calling thread is @side from now on; its first window opens. */
void lines_side_begin(int side)
{
	current = &sides[side];
}

void lines_side_end(void)
{
	current = NULL;
}

/*
 * A checkpoint of the calling side, whose running count of completed ops
 * is @ops_done: close the window if any op completed since it opened.
 */
void lines_checkpoint(uint64_t ops_done)
{
	struct lines_side *s = current;

	if (!s || ops_done == s->ops_base)
		return;
	s->lines += s->nfresh;
	s->ops += ops_done - s->ops_base;
	s->windows++;
	s->ops_base = ops_done;
	for (uint32_t i = 0; i < s->nfresh; i++)
		s->seen[s->fresh[i] / 64] = 0;
	s->nfresh = 0;
}

void lines_counted(int side, uint64_t *lines, uint64_t *ops, uint64_t *windows)
{
	*lines = sides[side].lines;
	*ops = sides[side].ops;
	*windows = sides[side].windows;
}

/* An access of @size bytes at @addr: note the ring lines it covers. */
static inline void touch(const volatile void *addr, size_t size)
{
	struct lines_side *s = current;
	uintptr_t a = (uintptr_t)addr, first, last;

	if (!s || size == 0 || a >= ring_end || a + size <= ring_start)
		return;
	first = (a < ring_start ? ring_start : a) >> LINE_SHIFT;
	last = ((a + size < ring_end ? a + size : ring_end) - 1) >> LINE_SHIFT;
	for (uintptr_t line = first; line <= last; line++) {
		uint32_t i = (uint32_t)(line - ring_first_line);
		uint64_t bit = 1ull << (i % 64);

		if (s->seen[i / 64] & bit)
			continue;
		s->seen[i / 64] |= bit;
		s->fresh[s->nfresh++] = i;
	}
}

/* ---- the hooks the instrumented code calls ---------------------------- */

/* Each instrumented file's constructor calls this; we need nothing set up. */
void __tsan_init(void)
{
}

/* Function entry and exit, for a sanitizer's stack traces: not ours. */
void __tsan_func_entry(void *caller_pc)
{
	(void)caller_pc;
}

void __tsan_func_exit(void)
{
}

/* Plain, unaligned (may straddle two lines) and volatile accesses. */
#define PLAIN_HOOKS(n)                                      \
	void __tsan_read##n(void *addr)                     \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_write##n(void *addr)                    \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_unaligned_read##n(void *addr)           \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_unaligned_write##n(void *addr)          \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_volatile_read##n(void *addr)            \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_volatile_write##n(void *addr)           \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_unaligned_volatile_read##n(void *addr)  \
	{                                                   \
		touch(addr, n);                             \
	}                                                   \
	void __tsan_unaligned_volatile_write##n(void *addr) \
	{                                                   \
		touch(addr, n);                             \
	}

PLAIN_HOOKS(1)
PLAIN_HOOKS(2)
PLAIN_HOOKS(4)
PLAIN_HOOKS(8)
PLAIN_HOOKS(16)

/* Copies and struct assignments the compiler turned into one access. */
void __tsan_read_range(void *addr, unsigned long size)
{
	touch(addr, size);
}

void __tsan_write_range(void *addr, unsigned long size)
{
	touch(addr, size);
}

/*
 * The __atomic_* builtins on @bits-bit objects: note the line, then do
 * the operation (sequentially consistent, whatever @mo asked).  The
 * read-modify-write ones return the old value, as the builtins do.
 */
#define RMW_HOOK(bits, type, name, builtin)                                 \
	type __tsan_atomic##bits##_##name(volatile type *a, type v, int mo) \
	{                                                                   \
		(void)mo;                                                   \
		touch(a, sizeof(type));                                     \
		return builtin(a, v, __ATOMIC_SEQ_CST);                     \
	}

#define ATOMIC_HOOKS(bits, type)                                                                  \
	type __tsan_atomic##bits##_load(const volatile type *a, int mo)                           \
	{                                                                                         \
		(void)mo;                                                                         \
		touch(a, sizeof(type));                                                           \
		return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                      \
	}                                                                                         \
	void __tsan_atomic##bits##_store(volatile type *a, type v, int mo)                        \
	{                                                                                         \
		(void)mo;                                                                         \
		touch(a, sizeof(type));                                                           \
		__atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                         \
	}                                                                                         \
	RMW_HOOK(bits, type, exchange, __atomic_exchange_n)                                       \
	RMW_HOOK(bits, type, fetch_add, __atomic_fetch_add)                                       \
	RMW_HOOK(bits, type, fetch_sub, __atomic_fetch_sub)                                       \
	RMW_HOOK(bits, type, fetch_and, __atomic_fetch_and)                                       \
	RMW_HOOK(bits, type, fetch_or, __atomic_fetch_or)                                         \
	RMW_HOOK(bits, type, fetch_xor, __atomic_fetch_xor)                                       \
	RMW_HOOK(bits, type, fetch_nand, __atomic_fetch_nand)                                     \
	int __tsan_atomic##bits##_compare_exchange_strong(volatile type *a, type *expected,       \
							  type desired, int mo, int fail_mo)      \
	{                                                                                         \
		(void)mo;                                                                         \
		(void)fail_mo;                                                                    \
		touch(a, sizeof(type));                                                           \
		return __atomic_compare_exchange_n(a, expected, desired, false, __ATOMIC_SEQ_CST, \
						   __ATOMIC_SEQ_CST);                             \
	}                                                                                         \
	int __tsan_atomic##bits##_compare_exchange_weak(volatile type *a, type *expected,         \
							type desired, int mo, int fail_mo)        \
	{                                                                                         \
		(void)mo;                                                                         \
		(void)fail_mo;                                                                    \
		touch(a, sizeof(type));                                                           \
		return __atomic_compare_exchange_n(a, expected, desired, true, __ATOMIC_SEQ_CST,  \
						   __ATOMIC_SEQ_CST);                             \
	}                                                                                         \
	type __tsan_atomic##bits##_compare_exchange_val(volatile type *a, type expected,          \
							type desired, int mo, int fail_mo)        \
	{                                                                                         \
		(void)mo;                                                                         \
		(void)fail_mo;                                                                    \
		touch(a, sizeof(type));                                                           \
		__atomic_compare_exchange_n(a, &expected, desired, false, __ATOMIC_SEQ_CST,       \
					    __ATOMIC_SEQ_CST);                                    \
		return expected;                                                                  \
	}

ATOMIC_HOOKS(8, uint8_t)
ATOMIC_HOOKS(16, uint16_t)
ATOMIC_HOOKS(32, uint32_t)
ATOMIC_HOOKS(64, uint64_t)

/* The fences themselves: the call replaced them, so we must fence. */
void __tsan_atomic_thread_fence(int mo)
{
	(void)mo;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void __tsan_atomic_signal_fence(int mo)
{
	(void)mo;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}
