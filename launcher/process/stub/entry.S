/* SPDX-License-Identifier: GPL-2.0 */
/*
 * entry.S: the stub's few instructions that C cannot express.
 *
 *   _start            leaves the exec stack, which setup unmaps
 *   stub_syscall      the one and only `syscall` instruction in the stub:
 *                     the seccomp filter allows a system call only when it
 *                     comes from here (stub_syscall_ret), so there must be
 *                     no other (the build checks with objdump)
 *   stub_enter_guest  the jump into the guest kernel
 *   stub_hcall_page   the hypercall page the guest `call`s (lguest_abi.h)
 *
 * The guest can jump to any of these with any registers: none of them is
 * trusted to do anything but what the filter and page permissions allow.
 */
#include "lguest_abi.h"

/* LG_PAGE_SIZE is C (1UL << ...), which the assembler does not take. */
#define STUB_PAGE 4096

	.text

	.globl _start
	.type _start, @function
_start:
	lea stub_setup_stack_top(%rip), %rsp
	xor %ebp, %ebp			/* the end of any backtrace */
	call stub_main
	ud2				/* stub_main never returns */
	.size _start, . - _start

/* long stub_syscall(nr, a1, ..., a6): SysV argument registers to the kernel's. */
	.globl stub_syscall
	.type stub_syscall, @function
stub_syscall:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	mov 8(%rsp), %r9
	syscall
	.globl stub_syscall_ret
stub_syscall_ret:			/* seccomp_data.instruction_pointer */
	ret
	.size stub_syscall, . - stub_syscall

/*
 * x86-64 signal delivery requires a restorer, but our handlers never
 * return.  If something did get here, every signal is still masked (the
 * handler's mask), so the kernel kills us with SIGILL at once.
 */
	.globl stub_restorer
	.type stub_restorer, @function
stub_restorer:
	ud2
	.size stub_restorer, . - stub_restorer

/*
 * void stub_enter_guest(entry, rdi, rsp): start the guest kernel with
 * %rdi = its boot parameters, %rsp = its stack and every other general
 * register zero, so nothing of ours leaks into it.  The entry point goes
 * through memory because no register is left to hold it.
 */
	.globl stub_enter_guest
	.type stub_enter_guest, @function
stub_enter_guest:
	mov %rdi, guest_entry(%rip)
	mov %rsi, %rdi
	mov %rdx, %rsp
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	cld
	jmp *guest_entry(%rip)
	.size stub_enter_guest, . - stub_enter_guest

/*
 * The hypercall page: entry N at N * LG_HCALL_ENTRY_SIZE jumps to the C
 * handler for hypercall N, which runs on the guest's stack and returns to
 * the guest with `ret`.  `cld` first because C code assumes the direction
 * flag clear (string instructions) and the guest may have left it set.
 * Everything else in the page is int3.  `.org` refuses to go backwards,
 * so entries out of order or too long do not assemble.
 */
	.macro hcall nr, handler
	.org stub_hcall_page + \nr * LG_HCALL_ENTRY_SIZE, 0xcc
	cld
	jmp \handler
	.endm

	.balign STUB_PAGE, 0xcc
	.globl stub_hcall_page
stub_hcall_page:
	hcall LG_HC_NOTIFY, stub_hc_notify
	hcall LG_HC_CONSOLE, stub_hc_console
	hcall LG_HC_WAIT, stub_hc_wait
	hcall LG_HC_SHUTDOWN, stub_hc_shutdown
	hcall LG_HC_CRASH, stub_hc_crash
	hcall LG_HC_STATUS, stub_hc_status
	.org stub_hcall_page + LG_NR_HCALLS * LG_HCALL_ENTRY_SIZE, 0xcc
	.balign STUB_PAGE, 0xcc	/* the rest of the page, nothing else in it */

	.bss
	.balign 16
guest_entry:
	.quad 0
	/*
	 * Setup's stack, here rather than in C so that its top is where we
	 * say.  Only setup uses it: hypercalls run on the guest's stack,
	 * signal handlers on the alternate stack (fault.c).
	 */
	.balign 16
stub_setup_stack:
	.skip 16384
stub_setup_stack_top:

	.section .note.GNU-stack, "", @progbits
