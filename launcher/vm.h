/* SPDX-License-Identifier: GPL-2.0 */
/* vm.h: the KVM virtual machine: RAM, the boot-time CPU state, one vCPU. */
#ifndef LAUNCHER_VM_H
#define LAUNCHER_VM_H

#include <stdint.h>

#include <linux/kvm.h>

#include "guest_mem.h"

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	struct guest_mem mem;
	uint64_t tsc_khz;
};

/* Map guest RAM (before KVM is even opened, so the kernel can be loaded first). */
void vm_alloc_memory(struct vm *vm, uint64_t size);

/* Open the KVM device, create the VM with one memslot and the vCPU. */
void vm_create(struct vm *vm, const char *kvm_path);

/* Page tables, GDT, TSS, and the long-mode registers to start at entry. */
void vm_setup_boot_cpu(struct vm *vm, uint64_t entry);

#endif /* LAUNCHER_VM_H */
