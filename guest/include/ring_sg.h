/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring_sg.h: one piece of a buffer, as every driver-side ring takes it.
 *
 * The ring code never translates addresses: callers hand it guest-physical
 * (address, length) pairs, so the same code runs in the guest (identity
 * mapped) and in userspace tests (where "guest RAM" is a malloc'd block).
 */
#ifndef GUEST_RING_SG_H
#define GUEST_RING_SG_H

#include <stdint.h>

struct lg_sg {
	uint64_t gpa;
	uint32_t len;
};

#endif /* GUEST_RING_SG_H */
