/* SPDX-License-Identifier: GPL-2.0 */
/*
 * traps.S: exception entry.  The guest takes no interrupts (devices signal
 * through the shared page, not through vectors), so an exception here is
 * always a bug: each stub pushes a uniform frame and calls trap_report(),
 * which tells the launcher through the CRASH hypercall.  On this host the
 * handler runs emulated, which does not matter for a path that ends the VM.
 */
	.text
	.globl trap_stubs
	.balign 16
trap_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	/* Vectors 8, 10-14, 17, 21, 29, 30 push an error code; others get a 0. */
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	/* Stack: vector, error, rip, cs, rflags, rsp, ss */
	mov %rsp, %rdi
	and $-16, %rsp
	call trap_report
1:	jmp 1b
