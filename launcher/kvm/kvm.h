/* SPDX-License-Identifier: GPL-2.0 */
/* kvm/kvm.h: the KVM backend's own state, shared by its files. */
#ifndef LAUNCHER_KVM_KVM_H
#define LAUNCHER_KVM_KVM_H

#include <stdint.h>

#include <linux/kvm.h>

#include "timebase.h"
#include "vm.h"

struct kvm_vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	uint64_t entry;
	unsigned int odd_exits; /* unknown ports and MMIO: warned about 10 times */
};

/* boot_cpu.c: page tables, GDT, TSS, the hypercall page, long-mode registers. */
void kvm_setup_boot_cpu(struct vm *vm, struct kvm_vm *k);

/* guest_tsc.c: the vCPU's TSC against ours, before the first run and after the last. */
void kvm_learn_guest_tsc(struct kvm_vm *k, struct timebase *tb, uint64_t guest_khz);
void kvm_check_guest_tsc(struct kvm_vm *k, struct timebase *tb);

int kvm_ioctl_or_die(int fd, unsigned long req, void *arg, const char *what);

#endif /* LAUNCHER_KVM_KVM_H */
