/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hcall.h: calling the launcher.
 *
 * Every hypercall is a `call` into the hypercall page the launcher handed
 * us in the boot parameters (lguest_abi.h): on KVM its entries are port
 * writes, on the process backend they are the sandboxed stub's code.  We
 * neither know nor care which: that is what lets one guest binary run on
 * both.  An entry follows the SysV calling convention, so the asm below
 * passes the arguments in %rdi and %rsi and tells the compiler that every
 * caller-saved register may change.  (We are built with -mno-red-zone, so
 * the return address the call pushes overwrites nothing of ours.)
 */
#ifndef GUEST_HCALL_H
#define GUEST_HCALL_H

#include <stdint.h>

#include "lguest_abi.h"

/* boot->hcall_page, stored by entry.S before anything else runs. */
extern uint64_t hcall_page;

static inline void hcall2(unsigned int nr, uint64_t a0, uint64_t a1)
{
	uint64_t entry = hcall_page + nr * LG_HCALL_ENTRY_SIZE;

	__asm__ volatile("call *%[entry]"
			 : "+D"(a0), "+S"(a1)
			 : [entry] "r"(entry)
			 : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
}

/*
 * NOTIFY: the device's key.  With the fast path (the default) this never
 * reaches the launcher's vCPU loop: KVM's ioeventfd, or the stub, wakes
 * the device thread directly.
 */
static inline void hcall_notify(uint32_t key)
{
	hcall2(LG_HC_NOTIFY, key, 0);
}

static inline void hcall_console(const void *buf, uint64_t len)
{
	hcall2(LG_HC_CONSOLE, (uint64_t)(uintptr_t)buf, len);
}

/* A modern device's status change: the launcher answers before we go on. */
static inline void hcall_status(uint32_t index, uint8_t status)
{
	hcall2(LG_HC_STATUS, index, status);
}

static inline void hcall_wait(uint64_t timeout_us)
{
	hcall2(LG_HC_WAIT, timeout_us, 0);
}

static inline __attribute__((noreturn)) void hcall_shutdown(uint64_t status)
{
	hcall2(LG_HC_SHUTDOWN, status, 0);
	__builtin_unreachable();
}

static inline __attribute__((noreturn)) void hcall_crash(const char *msg, uint64_t len)
{
	hcall2(LG_HC_CRASH, (uint64_t)(uintptr_t)msg, len);
	__builtin_unreachable();
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

#endif /* GUEST_HCALL_H */
