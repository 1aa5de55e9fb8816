/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h: where the guest's CPU runs.
 *
 * The launcher runs the same guest two ways, and this is the whole of the
 * difference between them (everything else, the vCPU loop and hypercall
 * dispatch in vcpu.c included, is written once):
 *
 *   kvm/      a KVM virtual machine: the guest kernel runs at its own CPL0
 *             on identity page tables; hypercalls are port writes that
 *             exit KVM_RUN; NOTIFY's fast path is an ioeventfd per device.
 *   process/  a sandboxed host process (no KVM needed, as lguest was for
 *             machines without VT): a tiny stub maps guest RAM at virtual
 *             = physical addresses and enters the guest at CPL3 under a
 *             seccomp filter; hypercalls are plain calls into the stub,
 *             which writes the device's eventfd for NOTIFY itself and
 *             hands the rest to us over a socket.
 *
 * A backend creates the CPU, runs it until the next hypercall or fault,
 * and wires the NOTIFY fast path.  That is all.
 */
#ifndef LAUNCHER_BACKEND_H
#define LAUNCHER_BACKEND_H

#include <stdint.h>

#include "lguest_abi.h"
#include "options.h"
#include "vm.h"

/* Why the backend stopped running the guest (backend->enter). */
struct vcpu_exit {
	enum {
		VCPU_EXIT_HCALL,       /* hypercall nr with args: dispatch it */
		VCPU_EXIT_FAULT,       /* the guest cannot go on: why says what happened */
		VCPU_EXIT_IGNORED,     /* something odd but harmless (an unknown port) */
		VCPU_EXIT_INTERRUPTED, /* a signal or stop request: look at stop_requested() */
	} kind;
	unsigned int nr;  /* VCPU_EXIT_HCALL: LG_HC_* */
	uint64_t args[2]; /* VCPU_EXIT_HCALL: first and second argument */
	char why[256];	  /* VCPU_EXIT_FAULT: one line, without "lguest: " */
};

struct backend {
	const char *name;
	/* NOTIFY's fast path, as -v names it and the trace flags its kicks. */
	const char *fast_notify;
	uint8_t fast_kick_flags; /* LG_TR_F_* (lg_trace.h) */
	/*
	 * NULL if the backend can run here, else a one-line reason (for
	 * --backend=auto and -v).  May keep what it opened for create().
	 */
	const char *(*probe)(const struct options *o);
	/*
	 * Create the CPU with guest RAM and every device in place, wire the
	 * NOTIFY fast path if @o asks for it, and set vm->tsc_khz.  The guest
	 * will start at @entry.  Dies with one line on failure.
	 */
	void (*create)(struct vm *vm, const struct options *o, uint64_t entry);
	/* Fill in what the backend owns in the boot parameters (hcall_page, flags). */
	void (*setup_boot)(struct vm *vm, struct lg_boot_params *bp);
	/*
	 * Run the guest until its next hypercall or fault.  The first call
	 * starts it; each later call first finishes the hypercall the last
	 * one returned.
	 */
	void (*enter)(struct vm *vm, struct vcpu_exit *exit);
	/* The guest is done: stop and release it (never fails). */
	void (*destroy)(struct vm *vm);
};

extern const struct backend kvm_backend;
extern const struct backend process_backend;

/*
 * The backend @o asks for.  --backend=auto takes kvm if it can run here,
 * else process, and says why with -v; asking for one that cannot run is a
 * setup error.
 */
const struct backend *backend_choose(const struct options *o);

#endif /* LAUNCHER_BACKEND_H */
