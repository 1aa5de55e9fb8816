// SPDX-License-Identifier: GPL-2.0
/*
 * process/fault.c: saying what a guest running as a process did wrong.
 *
 * On KVM the guest's own IDT catches its exceptions and reports them
 * through the CRASH hypercall.  A guest running as a host process has no
 * IDT: the CPU's exception becomes a host signal in its process, which the
 * stub's handler forwards to us (struct stub_msg) with the trap number and
 * error code the kernel saved.  A privileged instruction at CPL3 is a
 * general protection fault that says nothing about which instruction it
 * was, so we look at the bytes at rip ourselves, in our own mapping of
 * guest RAM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "process/process.h"

/* x86 trap numbers, as the kernel saves them in the signal frame. */
#define TRAP_DE 0
#define TRAP_BP 3
#define TRAP_UD 6
#define TRAP_GP 13
#define TRAP_PF 14

/* Page fault error code bits. */
#define PF_PROT	 (1 << 0) /* the page was present: a protection violation */
#define PF_WRITE (1 << 1)
#define PF_INSTR (1 << 4)

static bool is_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65 ||
	       (b >= 0x40 && b <= 0x4f); /* REX */
}

/* 0f 00 /r and 0f 01 /r: the instruction is in the ModRM reg field (or the whole byte). */
static const char *group_0f00(uint8_t modrm)
{
	static const char *const names[8] = { NULL, NULL, "lldt", "ltr", NULL, NULL, NULL, NULL };

	return names[(modrm >> 3) & 7];
}

static const char *group_0f01(uint8_t modrm)
{
	static const char *const names[8] = { "sgdt", "sidt", "lgdt", "lidt",
					      NULL,   NULL,   "lmsw", "invlpg" };

	switch (modrm) {
	case 0xf8:
		return "swapgs";
	case 0xd8:
		return "vmrun";
	case 0xc1:
		return "vmcall";
	case 0xd9:
		return "vmmcall";
	case 0xca:
		return "clac";
	case 0xcb:
		return "stac";
	case 0xc8:
		return "monitor";
	case 0xc9:
		return "mwait";
	}
	/* sgdt and sidt are not privileged unless UMIP is on; name them anyway. */
	return names[(modrm >> 3) & 7];
}

const char *privileged_insn_name(const uint8_t *code, size_t len)
{
	size_t i = 0;

	while (i < len && i < 14 && is_prefix(code[i]))
		i++;
	if (i >= len)
		return NULL;
	switch (code[i]) {
	case 0xf4:
		return "hlt";
	case 0xfa:
		return "cli";
	case 0xfb:
		return "sti";
	case 0xe4:
	case 0xe5:
	case 0xec:
	case 0xed:
	case 0x6c:
	case 0x6d:
		return "in";
	case 0xe6:
	case 0xe7:
	case 0xee:
	case 0xef:
	case 0x6e:
	case 0x6f:
		return "out";
	case 0xcd:
		return "int";
	case 0xcf:
		return "iret";
	case 0x0f:
		break;
	default:
		return NULL;
	}
	if (++i >= len)
		return NULL;
	switch (code[i]) {
	case 0x00:
		return i + 1 < len ? group_0f00(code[i + 1]) : NULL;
	case 0x01:
		return i + 1 < len ? group_0f01(code[i + 1]) : NULL;
	case 0x06:
		return "clts";
	case 0x07:
		return "sysret";
	case 0x08:
		return "invd";
	case 0x09:
		return "wbinvd";
	case 0x20:
	case 0x22:
		return "mov to/from a control register";
	case 0x21:
	case 0x23:
		return "mov to/from a debug register";
	case 0x30:
		return "wrmsr";
	case 0x32:
		return "rdmsr";
	case 0x33:
		return "rdpmc";
	case 0x35:
		return "sysexit";
	}
	return NULL;
}

/* Where an address lies, for a page fault's message. */
static const char *where(const struct guest_mem *mem, uint64_t addr)
{
	if (addr < LG_LOW_LIMIT)
		return ", below guest RAM";
	if (addr >= mem->size && addr >= STUB_LOAD_ADDR && addr < STUB_LOAD_ADDR + (1UL << 30))
		return ", in the stub";
	if (addr >= mem->size)
		return ", outside guest RAM";
	return "";
}

static void describe_gp(const struct guest_mem *mem, const struct stub_msg *m, char *what, size_t n)
{
	const uint8_t *code = NULL;
	size_t len = 15;
	const char *insn;

	while (len && !(code = guest_ptr(mem, m->rip, len)))
		len--;
	insn = code ? privileged_insn_name(code, len) : NULL;
	if (insn)
		snprintf(what, n, "general protection fault (privileged instruction: %s)", insn);
	else if (code)
		snprintf(what, n, "general protection fault (instruction %02x %02x %02x ...)",
			 code[0], len > 1 ? code[1] : 0, len > 2 ? code[2] : 0);
	else
		snprintf(what, n, "general protection fault");
}

void describe_fault(const struct guest_mem *mem, const struct stub_msg *m, char *why, size_t n)
{
	char what[160];

	switch (m->signo) {
	case SIGSEGV:
		if (m->trapno == TRAP_PF) {
			snprintf(what, sizeof(what), "page fault at %#lx (%s, %s%s)",
				 (unsigned long)m->addr,
				 m->err & PF_INSTR   ? "instruction fetch"
				 : m->err & PF_WRITE ? "write"
						     : "read",
				 m->err & PF_PROT ? "protection violation" : "not mapped",
				 where(mem, m->addr));
		} else if (m->trapno == TRAP_GP) {
			describe_gp(mem, m, what, sizeof(what));
		} else {
			snprintf(what, sizeof(what), "segmentation fault (trap %lu)",
				 (unsigned long)m->trapno);
		}
		break;
	case SIGFPE:
		snprintf(what, sizeof(what),
			 m->trapno == TRAP_DE ? "divide error" : "x87/SIMD error");
		break;
	case SIGILL:
		snprintf(what, sizeof(what), "invalid opcode");
		break;
	case SIGTRAP:
		snprintf(what, sizeof(what),
			 m->trapno == TRAP_BP ? "breakpoint (int3)" : "debug trap");
		break;
	case SIGBUS:
		snprintf(what, sizeof(what), "bus error at %#lx", (unsigned long)m->addr);
		break;
	case SIGSYS:
		snprintf(what, sizeof(what),
			 "host system call %ld attempted (a guest calls the launcher only "
			 "through its hypercall page)",
			 (long)m->syscall_nr);
		break;
	default:
		snprintf(what, sizeof(what), "signal %d", m->signo);
		break;
	}
	snprintf(why, n, "guest crashed: %s at rip=%#lx rsp=%#lx", what, (unsigned long)m->rip,
		 (unsigned long)m->rsp);
}
