// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c: creating the VM and putting its CPU in 64-bit long mode.
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

#include "lguest_abi.h"
#include "log.h"
#include "vm.h"

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

void vm_alloc_memory(struct vm *vm, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die_errno("cannot map %lu MiB of guest memory", (unsigned long)(size >> 20));
	/* Guest RAM is best in huge pages when the host has them to give. */
	madvise(p, size, MADV_HUGEPAGE);
	vm->mem.base = p;
	vm->mem.size = size;
}

static int kvm_ioctl_or_die(int fd, unsigned long req, void *arg, const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		die_errno("%s", what);
	return r;
}

void vm_create(struct vm *vm, const char *kvm_path)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem.base,
	};
	int version, mmap_size;
	long khz;

	vm->kvm_fd = open(kvm_path, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		die_errno("cannot open %s (is KVM available, and may you use it?)", kvm_path);
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version < 0)
		die_errno("%s is not a KVM device (KVM_GET_API_VERSION failed)", kvm_path);
	if (version != KVM_API_VERSION)
		die("%s speaks KVM API version %d, not %d", kvm_path, version, KVM_API_VERSION);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0)
		die("%s lacks KVM_CAP_SYNC_REGS or KVM_CAP_IOEVENTFD", kvm_path);

	vm->vm_fd = kvm_ioctl_or_die(vm->kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	kvm_ioctl_or_die(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region,
			 "KVM_SET_USER_MEMORY_REGION");
	vm->vcpu_fd = kvm_ioctl_or_die(vm->vm_fd, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	mmap_size =
		kvm_ioctl_or_die(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		die_errno("cannot map the vCPU's kvm_run");
	/* Have KVM put the registers in kvm_run on every exit: no GET_REGS per hypercall. */
	vm->run->kvm_valid_regs = KVM_SYNC_X86_REGS;

	khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		die("KVM_GET_TSC_KHZ failed: the guest would have no clock");
	vm->tsc_khz = khz;
}

/* Give the vCPU the host's CPUID: KVM checks it (e.g. long mode) when we set EFER. */
static void set_cpuid(struct vm *vm)
{
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 entries[256];
	} cpuid = { .head.nent = 256 };

	kvm_ioctl_or_die(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cpuid, "KVM_GET_SUPPORTED_CPUID");
	kvm_ioctl_or_die(vm->vcpu_fd, KVM_SET_CPUID2, &cpuid, "KVM_SET_CPUID2");
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
	uint64_t tss_base = LG_TSS_GPA, tss_limit = 0x67, rsp0 = 0x8000;

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

void vm_setup_boot_cpu(struct vm *vm, uint64_t entry)
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
		.rip = entry,
		.rdi = LG_BOOT_PARAMS_GPA,
		.rsp = 0x8000,
		.rflags = 2,
	};

	build_page_tables(vm);
	build_gdt_tss(vm);
	set_cpuid(vm);

	kvm_ioctl_or_die(vm->vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
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
	kvm_ioctl_or_die(vm->vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	kvm_ioctl_or_die(vm->vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}
