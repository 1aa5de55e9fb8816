/* SPDX-License-Identifier: GPL-2.0 */
/* kvm/kvm.h: the KVM backend's own state, shared by its two files. */
#ifndef LAUNCHER_KVM_KVM_H
#define LAUNCHER_KVM_KVM_H

#include <stdint.h>

#include <linux/kvm.h>

#include "vm.h"

struct kvm_vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	uint64_t entry;
	unsigned int odd_exits; /* unknown ports and MMIO: warned about 10 times */
};

/* boot_cpu.c: page tables, GDT, TSS, the hypercall page, long-mode registers. */
void kvm_setup_boot_cpu(struct vm *vm, struct kvm_vm *k);

int kvm_ioctl_or_die(int fd, unsigned long req, void *arg, const char *what);

#endif /* LAUNCHER_KVM_KVM_H */
