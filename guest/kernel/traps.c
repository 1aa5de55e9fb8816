// SPDX-License-Identifier: GPL-2.0
/*
 * traps.c: the IDT.  We only install the 32 exception vectors, all pointing
 * at the stubs in boot/traps.S; an exception ends the VM with a message
 * that names it, instead of the silent triple fault an empty IDT would give.
 */
#include "kernel.h"
#include "hcall.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr; /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct idt_descriptor {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));
struct idt_descriptor idt_descriptor = { sizeof(idt) - 1, 0 };

extern char trap_stubs[];

/* Called from entry.S while still emulated (so it must stay short). */
void idt_init(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(idt); i++) {
		uint64_t addr = (uint64_t)(uintptr_t)(trap_stubs + 16 * i);

		idt[i].offset_low = addr & 0xffff;
		idt[i].selector = LG_SEL_KERNEL_CS;
		idt[i].type_attr = 0x8e;
		idt[i].offset_mid = (addr >> 16) & 0xffff;
		idt[i].offset_high = addr >> 32;
	}
	idt_descriptor.base = (uint64_t)(uintptr_t)idt;
}

static const char *const trap_names[32] = {
	[0] = "divide error",
	[1] = "debug",
	[2] = "NMI",
	[3] = "breakpoint",
	[4] = "overflow",
	[5] = "bound range",
	[6] = "invalid opcode",
	[7] = "no FPU",
	[8] = "double fault",
	[10] = "invalid TSS",
	[11] = "segment not present",
	[12] = "stack fault",
	[13] = "general protection",
	[14] = "page fault",
	[16] = "x87 error",
	[17] = "alignment check",
	[18] = "machine check",
	[19] = "SIMD error",
};

struct trap_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

void trap_report(const struct trap_frame *f)
{
	char msg[160];
	const char *name = f->vector < 32 && trap_names[f->vector] ? trap_names[f->vector] : "?";
	int n = ksnprintf(msg, sizeof(msg), "exception %lu (%s) at rip=%#lx rsp=%#lx error=%#lx",
			  f->vector, name, f->rip, f->rsp, f->error);

	hcall_crash(msg, (uint64_t)n < sizeof(msg) ? (uint64_t)n : sizeof(msg) - 1);
}

/* entry.S: kernel code executed `syscall` after boot (there is no user mode). */
void syscall_report(uint64_t rip)
{
	char msg[96];
	int n = ksnprintf(msg, sizeof(msg), "syscall instruction executed at rip=%#lx", rip - 2);

	hcall_crash(msg, (uint64_t)n < sizeof(msg) ? (uint64_t)n : sizeof(msg) - 1);
}
