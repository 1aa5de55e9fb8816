/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hcall.h: calling the launcher.  Every hypercall is an `out` to one of
 * the ports in lguest_abi.h; arguments travel in registers, which the
 * launcher reads from the synced register state of the exit.  NOTIFY is
 * the exception: with ioeventfd it never leaves the host kernel, so it
 * carries nothing but the device key in %eax.
 */
#ifndef GUEST_HCALL_H
#define GUEST_HCALL_H

#include <stdint.h>

#include "lguest_abi.h"

static inline void hcall_notify(uint32_t key)
{
	__asm__ volatile("outl %0, %1" : : "a"(key), "i"(LG_PORT_NOTIFY) : "memory");
}

static inline void hcall_console(const void *buf, uint64_t len)
{
	__asm__ volatile("outl %%eax, %0"
			 :
			 : "i"(LG_PORT_CONSOLE), "a"(0), "S"(buf), "d"(len)
			 : "memory");
}

/* A modern device's status change: the launcher answers before we go on. */
static inline void hcall_status(uint32_t index, uint8_t status)
{
	__asm__ volatile("outl %%eax, %0"
			 :
			 : "i"(LG_PORT_STATUS), "a"(0), "D"((uint64_t)index), "S"((uint64_t)status)
			 : "memory");
}

static inline void hcall_wait(uint64_t timeout_us)
{
	__asm__ volatile("outl %%eax, %0"
			 :
			 : "i"(LG_PORT_WAIT), "a"(0), "D"(timeout_us)
			 : "memory");
}

static inline __attribute__((noreturn)) void hcall_shutdown(uint64_t status)
{
	__asm__ volatile("outl %%eax, %0"
			 :
			 : "i"(LG_PORT_SHUTDOWN), "a"(0), "D"(status)
			 : "memory");
	__builtin_unreachable();
}

static inline __attribute__((noreturn)) void hcall_crash(const char *msg, uint64_t len)
{
	__asm__ volatile("outl %%eax, %0"
			 :
			 : "i"(LG_PORT_CRASH), "a"(0), "S"(msg), "d"(len)
			 : "memory");
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
