// SPDX-License-Identifier: GPL-2.0
/*
 * kvm/boot_cpu.c: putting the KVM vCPU in 64-bit long mode.
 *
 * This host's KVM is a software "PVM" backend (PLATFORM.md): no real mode,
 * so we start the guest directly in long mode.  That means we build what a
 * boot loader would: identity page tables (2 MiB pages, and U=1 on every
 * entry, because the guest kernel really runs at CPL3 underneath and
 * faults on supervisor-only pages once it runs natively), a GDT with
 * Linux's selector layout (SYSCALL/SYSRET derive selectors from STAR) and a
 * TSS, and then the control registers: paging + protection on, PAE, long
 * mode active, SYSCALL enabled.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lguest_abi.h"
#include "log.h"

#define PTE_P	  (1ULL << 0)
#define PTE_RW	  (1ULL << 1)
#define PTE_U	  (1ULL << 2)
#define PTE_PS	  (1ULL << 7) /* 2 MiB page in a page directory */
#define PTE_FLAGS (PTE_P | PTE_RW | PTE_U)

#define CR0_PE	     (1ULL << 0)
#define CR0_MP	     (1ULL << 1)
#define CR0_ET	     (1ULL << 4)
#define CR0_NE	     (1ULL << 5)
#define CR0_WP	     (1ULL << 16)
#define CR0_AM	     (1ULL << 18)
#define CR0_PG	     (1ULL << 31)
#define CR4_PAE	     (1ULL << 5)
#define CR4_FSGSBASE (1ULL << 16)
#define EFER_SCE     (1ULL << 0)
#define EFER_LME     (1ULL << 8)
#define EFER_LMA     (1ULL << 10)

/* Give the vCPU the host's CPUID: KVM checks it (e.g. long mode) when we set EFER. */
static void set_cpuid(struct kvm_vm *k)
{
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 entries[256];
	} cpuid = { .head.nent = 256 };

	kvm_ioctl_or_die(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cpuid, "KVM_GET_SUPPORTED_CPUID");
	kvm_ioctl_or_die(k->vcpu_fd, KVM_SET_CPUID2, &cpuid, "KVM_SET_CPUID2");
}

static void build_page_tables(struct vm *vm)
{
	uint64_t *pml4 = guest_ptr(&vm->mem, LG_PML4_GPA, LG_PAGE_SIZE);
	uint64_t *pdpt = guest_ptr(&vm->mem, LG_PDPT_GPA, LG_PAGE_SIZE);
	uint64_t npd = (vm->mem.size + (1ULL << 30) - 1) >> 30;

	pml4[0] = LG_PDPT_GPA | PTE_FLAGS;
	for (uint64_t i = 0; i < npd; i++) {
		uint64_t *pd = guest_ptr(&vm->mem, LG_PD_GPA + i * LG_PAGE_SIZE, LG_PAGE_SIZE);

		pdpt[i] = (LG_PD_GPA + i * LG_PAGE_SIZE) | PTE_FLAGS;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t addr = (i << 30) | (j << 21);

			if (addr >= vm->mem.size)
				break;
			pd[j] = addr | PTE_FLAGS | PTE_PS;
		}
	}
}

static void build_gdt_tss(struct vm *vm)
{
	uint64_t *gdt = guest_ptr(&vm->mem, LG_GDT_GPA, LG_PAGE_SIZE);
	uint8_t *tss = guest_ptr(&vm->mem, LG_TSS_GPA, 0x68);
	uint64_t tss_base = LG_TSS_GPA, tss_limit = 0x67, rsp0 = LG_BOOT_STACK_TOP;

	/* Linux's layout: 0x10 kernel code, 0x18 kernel data, 0x2b user data, 0x33 user code. */
	gdt[1] = 0x00cf9a000000ffffULL; /* 0x08: 32-bit kernel code (unused) */
	gdt[2] = 0x00af9a000000ffffULL; /* 0x10: 64-bit kernel code */
	gdt[3] = 0x00cf92000000ffffULL; /* 0x18: kernel data */
	gdt[4] = 0x00cffa000000ffffULL; /* 0x23: 32-bit user code (SYSRET base) */
	gdt[5] = 0x00cff2000000ffffULL; /* 0x2b: user data */
	gdt[6] = 0x00affa000000ffffULL; /* 0x33: 64-bit user code */
	gdt[8] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) | (0x89ULL << 40) |
		 (((tss_base >> 24) & 0xff) << 56);
	gdt[9] = tss_base >> 32;
	memcpy(tss + 4, &rsp0, sizeof(rsp0)); /* stack for an exception taken in user mode */
}

/*
 * The hypercall page (lguest_abi.h): entry N is a 32-bit write of %edi to
 * port LG_PORT_BASE + N, which exits KVM_RUN (or, for NOTIFY with
 * ioeventfd, wakes the device thread inside the kernel: the key must be in
 * %eax for the datamatch).  Arguments stay in %rdi and %rsi, where the
 * synced registers show them to the vCPU loop.
 */
static void build_hcall_page(struct vm *vm)
{
	uint8_t *page = guest_ptr(&vm->mem, LG_HCALL_PAGE_GPA, LG_PAGE_SIZE);

	memset(page, 0xcc, LG_PAGE_SIZE); /* int3 between the entries */
	for (unsigned int nr = 0; nr < LG_NR_HCALLS; nr++) {
		const uint8_t entry[] = {
			0x89, 0xf8,			    /* mov %edi, %eax */
			0xe7, (uint8_t)(LG_PORT_BASE + nr), /* out %eax, $port */
			0xc3,				    /* ret */
		};

		memcpy(page + nr * LG_HCALL_ENTRY_SIZE, entry, sizeof(entry));
	}
}

void kvm_setup_boot_cpu(struct vm *vm, struct kvm_vm *k)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = LG_SEL_KERNEL_CS,
		.type = 0xb,
		.present = 1,
		.dpl = 0,
		.db = 0,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = LG_SEL_KERNEL_DS,
		.type = 3,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
	struct kvm_segment null_seg = { .unusable = 1 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = k->entry,
		.rdi = LG_BOOT_PARAMS_GPA,
		.rsp = LG_BOOT_STACK_TOP,
		.rflags = 2,
	};

	build_page_tables(vm);
	build_gdt_tss(vm);
	build_hcall_page(vm);
	set_cpuid(k);

	kvm_ioctl_or_die(k->vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	sregs.cs = code;
	sregs.ss = data;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = null_seg;
	sregs.tr = (struct kvm_segment){
		.base = LG_TSS_GPA, .limit = 0x67, .selector = LG_SEL_TSS, .type = 0xb, .present = 1
	};
	sregs.gdt.base = LG_GDT_GPA;
	sregs.gdt.limit = 10 * 8 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = LG_PML4_GPA;
	sregs.cr4 = CR4_PAE | CR4_FSGSBASE;
	sregs.efer = EFER_SCE | EFER_LME | EFER_LMA;
	kvm_ioctl_or_die(k->vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	kvm_ioctl_or_die(k->vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}
