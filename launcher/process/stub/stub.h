/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stub.h: what the stub's files share.
 *
 * The stub has no libc.  Every system call goes through stub_syscall()
 * (entry.S), whose one `syscall` instruction is the only place the seccomp
 * filter lets a system call come from: stub_syscall_ret is the address
 * right after it, which is what the kernel reports as the instruction
 * pointer of the call.
 */
#ifndef LGUEST_STUB_H
#define LGUEST_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "stub_abi.h"

/*
 * Everything is in this one static image.  Saying so keeps -fpie from
 * taking function addresses through the GOT, which the linker cannot
 * resolve at our load address (it would rewrite them as 32-bit constants).
 */
#pragma GCC visibility push(hidden)

/* entry.S */
long stub_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
__attribute__((noreturn)) void stub_enter_guest(uint64_t entry, uint64_t rdi, uint64_t rsp);
void stub_restorer(void);
extern const char stub_syscall_ret[];
extern const char stub_hcall_page[];

/* The default linker script's bounds of our own image. */
extern const char __executable_start[], _end[];

#define sys1(nr, a)	     stub_syscall(nr, (long)(a), 0, 0, 0, 0, 0)
#define sys2(nr, a, b)	     stub_syscall(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(nr, a, b, c)    stub_syscall(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(nr, a, b, c, d) stub_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys6(nr, a, b, c, d, e, f) \
	stub_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* The raw system call returns -errno in [-4095, -1]. */
static inline int sys_failed(long ret)
{
	return (unsigned long)ret >= -4095UL;
}

#define STUB_PAGE_SIZE 4096UL

/*
 * The configuration, in a page of its own so that it alone can be made
 * read-only before the filter goes on (setup.c).
 */
union stub_config_page {
	struct stub_config cfg;
	char bytes[STUB_PAGE_SIZE];
};
extern union stub_config_page stub_config_page;

/* Const: nothing after setup may write it (and from then on nothing can). */
static inline const struct stub_config *cfg(void)
{
	return &stub_config_page.cfg;
}

/* setup.c: called by _start */
__attribute__((noreturn)) void stub_main(void);

/* lib.c */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
__attribute__((noreturn)) void stub_exit(int status);
long stub_send(const struct stub_msg *m);
uint64_t stub_wait_reply(void);
uint64_t stub_call_launcher(uint32_t nr, uint64_t a0, uint64_t a1);
__attribute__((noreturn)) void stub_setup_failed(enum stub_setup_step step, long err);

/* fault.c */
void stub_install_signals(void);

/* filter.c */
long stub_install_filter(void);

/* hcall.c: the targets of the hypercall page's entries (entry.S). */
uint64_t stub_hc_notify(uint64_t key, uint64_t a1);
uint64_t stub_hc_console(uint64_t gpa, uint64_t len);
uint64_t stub_hc_wait(uint64_t timeout_us, uint64_t a1);
uint64_t stub_hc_shutdown(uint64_t status, uint64_t a1);
uint64_t stub_hc_crash(uint64_t gpa, uint64_t len);
uint64_t stub_hc_status(uint64_t index, uint64_t status);

#pragma GCC visibility pop

#endif /* LGUEST_STUB_H */
