/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim/trace.h: the launcher's trace calls, as the kernel device builds
 * them: it does not trace, so trace_on is a constant false and the calls
 * the ring code makes behind it compile to nothing.  See shim/README.
 */
#ifndef LGH_SHIM_TRACE_H
#define LGH_SHIM_TRACE_H

#include <linux/types.h>

#include "chain.h"
#include "lg_trace.h"

#define trace_on false

static inline void trace_record_at(u64 tsc, u8 type, u8 dev, u8 queue, u8 flags, u32 id, u32 idx,
				   u32 len, u64 addr)
{
}

static inline void trace_chain(u8 dev, u8 queue, const struct chain *c, u32 idx)
{
}

static inline u64 trace_rdtsc(void)
{
	return 0;
}

#endif
