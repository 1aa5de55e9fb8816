/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringtest_checked.h: what ringtest_checked.c (split) and
 * ringtest_checked_packed.c (packed) share: our rings written in
 * ringtest's shape with lguest's rules, compiled against ringtest's main.h
 * by tools/ringtest-build.sh (docs/ringtest.md).
 */
#ifndef RINGTEST_CHECKED_H
#define RINGTEST_CHECKED_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "main.h"

/*
 * The device's two steps, taking a buffer and giving it back: inlined into
 * the loop as ringtest's are, or, with -DCHECKED_CALLS, out of line, which
 * is the least a device model calling a ring library pays.
 */
#ifdef CHECKED_CALLS
#define STEP static __attribute__((__noinline__))
#else
#define STEP static inline
#endif

/* One cache line per side's state, as ringtest pads its own. */
#define SIDE_ALIGN 128

/*
 * ringtest's buffers are addresses in this process, so "guest RAM" is the
 * user half of the address space, starting at 0.  Each ring keeps the
 * bound in a variable, not a constant: the checks load it, as ours load
 * mem->size.
 */
#define CHECKED_RAM_SIZE (1UL << 47)

/* A rule broken: the side stops for good.  Out of line, off the fast path. */
static __attribute__((__noinline__, __cold__)) void broke(bool *broken)
{
	*broken = true;
}

#endif /* RINGTEST_CHECKED_H */
