/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcpu.h: running the guest and answering its hypercalls, on any backend.
 */
#ifndef LAUNCHER_VCPU_H
#define LAUNCHER_VCPU_H

#include "lguest_abi.h"
#include "vm.h"

/* Exit statuses of lguest other than the guest's own. */
#define EXIT_GUEST_CRASH 125 /* CRASH hypercall, a guest fault, a backend error */

struct vcpu_stats {
	uint64_t exits;			    /* times the guest stopped for us */
	uint64_t hcall_exits[LG_NR_HCALLS]; /* of which hypercalls, by LG_HC_* */
	uint64_t other_exits;
	uint64_t interrupted;
};

/* Run until SHUTDOWN, a crash or a stop request; returns lguest's exit status. */
int vcpu_run(struct vm *vm, struct vcpu_stats *stats);

#endif /* LAUNCHER_VCPU_H */
