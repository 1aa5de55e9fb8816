/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vm.h: the virtual machine, whichever backend runs its CPU: guest RAM,
 * the clock the guest reads, and the backend with its private state.
 */
#ifndef LAUNCHER_VM_H
#define LAUNCHER_VM_H

#include <stdint.h>

#include "guest_mem.h"
#include "timebase.h"

struct backend;

struct vm {
	struct guest_mem mem;
	uint64_t tsc_khz;	       /* rdtsc ticks per millisecond, for the guest */
	struct timebase guest_tsc;     /* its TSC against the host's, for the trace */
	const struct backend *backend; /* backend.h */
	void *backend_data;	       /* the backend's own state */
	double guest_cpu_s;	       /* CPU time the guest spent outside the vCPU thread (process
					  backend: its own process), known after destroy() */
};

#endif /* LAUNCHER_VM_H */
