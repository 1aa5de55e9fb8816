/* SPDX-License-Identifier: GPL-2.0 */
/*
 * entry.S: the first instructions of the guest kernel.
 *
 * The launcher starts us already in 64-bit long mode, identity mapped, at
 * CPL0, with %rdi pointing at the boot parameters.  On this host's software
 * KVM ("PVM", see PLATFORM.md) the vCPU starts out *emulated*, about half a
 * microsecond per instruction, and only runs natively once it has been to
 * user mode and come back through SYSCALL.  So the first thing we do, after
 * loading an IDT (which we can still do, being emulated), is that round
 * trip: go_native.  From then on privileged instructions trap, so the rest
 * of the kernel never uses one: idling and talking to the launcher are port
 * calls through the hypercall page.
 *
 * On the process backend (LG_BOOT_F_UNPRIVILEGED) we already run at CPL3
 * as an ordinary host process: no IDT (our exceptions become host signals
 * that the launcher reports), nothing to go native from.  We skip both.
 */
#include "lguest_abi.h"

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084

	.section .text.boot, "ax"
	.code64
	.globl _start
_start:
	lea boot_stack_top(%rip), %rsp
	mov %rdi, %r12			/* boot parameters, kept across calls */
	mov LG_BOOT_HCALL_PAGE_OFFSET(%rdi), %rax
	mov %rax, hcall_page(%rip)	/* before anything can call the launcher */
	testl $LG_BOOT_F_UNPRIVILEGED, LG_BOOT_FLAGS_OFFSET(%rdi)
	jnz 2f
	call idt_init			/* fill the gates (C), then load them */
	lidt idt_descriptor(%rip)
	call go_native
2:	mov %r12, %rdi
	call kmain			/* never returns: ends in SHUTDOWN */
1:	jmp 1b

/*
 * go_native: iretq to a user-mode stub that executes SYSCALL, with LSTAR
 * pointing back here.  STAR holds the kernel CS (SYSCALL loads CS from
 * bits 32..47, SS = CS + 8) and the user base (bits 48..63).  SFMASK = 0
 * and IF = 1 in the user frame, as PLATFORM.md prescribes.  Clobbers
 * %rax, %rcx, %rdx, %r11.
 */
	.text
	.globl go_native
go_native:
	mov %rsp, saved_kernel_rsp(%rip)
	mov $MSR_STAR, %ecx
	xor %eax, %eax
	mov $((LG_SEL_USER_DS - 8) << 16 | LG_SEL_KERNEL_CS), %edx
	wrmsr
	mov $MSR_LSTAR, %ecx
	lea native_again(%rip), %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr
	mov $MSR_SFMASK, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	lea user_stack_top(%rip), %rax
	pushq $LG_SEL_USER_DS		/* ss */
	pushq %rax			/* rsp */
	pushq $0x202			/* rflags: IF */
	pushq $LG_SEL_USER_CS		/* cs */
	lea user_stub(%rip), %rax
	pushq %rax			/* rip */
	iretq

user_stub:
	syscall

native_again:
	/*
	 * LSTAR keeps pointing here after boot (changing it would take a
	 * wrmsr, which traps once native).  So a later `syscall` by kernel
	 * code lands here too: report it instead of returning into _start.
	 */
	cmpb $0, went_native(%rip)
	jne stray_syscall
	movb $1, went_native(%rip)
	/* Back in the kernel, now running natively; user %rsp is still live. */
	mov saved_kernel_rsp(%rip), %rsp
	ret

stray_syscall:
	mov %rcx, %rdi			/* SYSCALL saved the return address here */
	and $-16, %rsp
	call syscall_report		/* never returns: CRASH */
1:	jmp 1b

	.data
	.balign 8
saved_kernel_rsp:
	.quad 0
went_native:
	.byte 0
	.globl hcall_page
hcall_page:
	.quad 0

	.bss
	.balign 4096
boot_stack:
	.skip 65536
boot_stack_top:
	.skip 4096
user_stack_top:
