/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h: the guest's half of ring tracing (include/lg_trace.h).  When the
 * launcher gave us a trace ring (--trace), drivers record each step there;
 * otherwise every call is one well-predicted branch.
 */
#ifndef GUEST_TRACE_H
#define GUEST_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "lg_trace.h"

extern struct lg_trace_ring *trace_ring;

void trace_init(void);
void trace_record(uint64_t tsc, uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags,
		  uint32_t id, uint32_t idx, uint32_t len, uint64_t addr);

static inline bool tracing(void)
{
	return __builtin_expect(trace_ring != 0, 0);
}

#endif /* GUEST_TRACE_H */
