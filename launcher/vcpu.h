/* SPDX-License-Identifier: GPL-2.0 */
/* vcpu.h: running the guest and answering its hypercalls. */
#ifndef LAUNCHER_VCPU_H
#define LAUNCHER_VCPU_H

#include "vm.h"

/* Exit statuses of lguest other than the guest's own. */
#define EXIT_GUEST_CRASH 125 /* CRASH hypercall, triple fault, KVM error */

struct vcpu_stats {
	uint64_t exits;
	uint64_t io_exits[8]; /* per port, LG_PORT_NOTIFY + n */
	uint64_t other_exits;
	uint64_t interrupted;
};

/* Run until SHUTDOWN, a crash or a stop request; returns lguest's exit status. */
int vcpu_run(struct vm *vm, struct vcpu_stats *stats);

#endif /* LAUNCHER_VCPU_H */
