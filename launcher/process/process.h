/* SPDX-License-Identifier: GPL-2.0 */
/* process/process.h: the process backend's pieces besides process.c. */
#ifndef LAUNCHER_PROCESS_PROCESS_H
#define LAUNCHER_PROCESS_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"
#include "process/stub_abi.h"

/*
 * fault.c: one line saying what the guest did, from the stub's report of
 * a signal (page fault with address and access, the privileged
 * instruction at rip, divide error, ...).  Reads the instruction bytes
 * through @mem, our own mapping of guest RAM: nothing the stub says about
 * them is needed, or trusted.
 */
void describe_fault(const struct guest_mem *mem, const struct stub_msg *m, char *why, size_t n);

/* fault.c: the name of the privileged instruction at @code (@len bytes), or NULL. */
const char *privileged_insn_name(const uint8_t *code, size_t len);

/*
 * tsc.c: the host TSC's rate in kHz, which the guest's rdtsc reads too:
 * from CPUID where the CPU or hypervisor states it, else measured against
 * CLOCK_MONOTONIC_RAW for a few milliseconds.  *@how says which.
 */
uint64_t host_tsc_khz(const char **how);

#endif /* LAUNCHER_PROCESS_PROCESS_H */
