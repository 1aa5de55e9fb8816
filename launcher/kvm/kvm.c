// SPDX-License-Identifier: GPL-2.0
/*
 * kvm/kvm.c: the KVM backend.
 *
 * One VM, one memslot over the guest RAM memfd, one vCPU.  KVM_RUN returns
 * whenever the guest does something we must handle: here, an `out` to one
 * of our hypercall ports (its hypercall page is made of them, see
 * boot_cpu.c).  The arguments are in the synced registers
 * (kvm_run->s.regs), so a hypercall costs one exit and no extra ioctl.
 * With ioeventfd, NOTIFY never gets that far: KVM matches the port and the
 * key and signals the device's eventfd inside the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "device.h"
#include "kvm/kvm.h"
#include "log.h"

/* Where an x86 CPU starts after reset: CS base 0xffff0000, IP 0xfff0. */
#define RESET_RIP     0xfff0
#define RESET_CS_BASE 0xffff0000

static struct kvm_vm kvm_state = { .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };

int kvm_ioctl_or_die(int fd, unsigned long req, void *arg, const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		die_errno("%s", what);
	return r;
}

/* Open the KVM device and check it speaks our dialect; keep it open for create. */
static const char *kvm_probe(const struct options *o)
{
	static char why[300];
	struct kvm_vm *k = &kvm_state;
	int version;

	if (k->kvm_fd >= 0)
		return NULL;
	k->kvm_fd = open(o->kvm_path, O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		snprintf(why, sizeof(why),
			 "cannot open %s (is KVM available, and may you use it?): %s", o->kvm_path,
			 strerror(errno));
		return why;
	}
	version = ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version < 0)
		snprintf(why, sizeof(why), "%s is not a KVM device (KVM_GET_API_VERSION failed)",
			 o->kvm_path);
	else if (version != KVM_API_VERSION)
		snprintf(why, sizeof(why), "%s speaks KVM API version %d, not %d", o->kvm_path,
			 version, KVM_API_VERSION);
	else if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0 ||
		 ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0)
		snprintf(why, sizeof(why), "%s lacks KVM_CAP_SYNC_REGS or KVM_CAP_IOEVENTFD",
			 o->kvm_path);
	else
		return NULL;
	close(k->kvm_fd);
	k->kvm_fd = -1;
	return why;
}

/*
 * The NOTIFY fast path: KVM signals the device's eventfd when the guest
 * writes the device's key to the NOTIFY port, and the vCPU stays in
 * KVM_RUN.
 */
static void register_ioeventfd(struct kvm_vm *k, struct device *dev)
{
	struct kvm_ioeventfd io = {
		.datamatch = dev->key,
		.addr = LG_PORT_NOTIFY,
		.len = 4,
		.fd = dev->notify_fd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0)
		die_errno("%s: KVM_IOEVENTFD", dev->name);
}

static void kvm_create(struct vm *vm, const struct options *o, uint64_t entry)
{
	struct kvm_vm *k = &kvm_state;
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem.base,
	};
	int mmap_size;
	long khz;

	vm->backend_data = k;
	k->entry = entry;
	k->vm_fd = kvm_ioctl_or_die(k->kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	kvm_ioctl_or_die(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region,
			 "KVM_SET_USER_MEMORY_REGION");
	k->vcpu_fd = kvm_ioctl_or_die(k->vm_fd, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	mmap_size =
		kvm_ioctl_or_die(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
	k->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
	if (k->run == MAP_FAILED)
		die_errno("cannot map the vCPU's kvm_run");
	/* Have KVM put the registers in kvm_run on every exit: no GET_REGS per hypercall. */
	k->run->kvm_valid_regs = KVM_SYNC_X86_REGS;

	khz = ioctl(k->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		die("KVM_GET_TSC_KHZ failed: the guest would have no clock");
	vm->tsc_khz = khz;
	kvm_learn_guest_tsc(k, &vm->guest_tsc, khz);

	if (o->ioeventfd) {
		for (unsigned int i = 0; i < device_count(); i++)
			register_ioeventfd(k, device_by_index(i));
	}
}

static void kvm_setup_boot(struct vm *vm, struct lg_boot_params *bp)
{
	kvm_setup_boot_cpu(vm, vm->backend_data);
	bp->hcall_page = LG_HCALL_PAGE_GPA;
}

/* Something odd but harmless: say so the first ten times. */
__attribute__((format(printf, 3, 4))) static void odd_exit(struct kvm_vm *k, struct vcpu_exit *e,
							   const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	e->kind = VCPU_EXIT_IGNORED;
	if (++k->odd_exits > 10)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warnx_lg("%s", msg);
}

static void handle_io(struct kvm_vm *k, struct vcpu_exit *e)
{
	struct kvm_run *run = k->run;
	const struct kvm_regs *r = &run->s.regs.regs;
	uint16_t port = run->io.port;
	uint32_t value = 0;

	if (run->io.direction == KVM_EXIT_IO_IN) {
		/* Nothing to read on our ports: all ones, like an empty bus. */
		memset((uint8_t *)run + run->io.data_offset, 0xff, run->io.size * run->io.count);
		odd_exit(k, e, "guest read port %#x (ignored)", port);
		return;
	}
	memcpy(&value, (uint8_t *)run + run->io.data_offset,
	       run->io.size < sizeof(value) ? run->io.size : sizeof(value));
	if (port < LG_PORT_BASE || port >= LG_PORT_BASE + LG_NR_HCALLS) {
		odd_exit(k, e, "guest wrote %#x to unknown port %#x (ignored)", value, port);
		return;
	}
	e->kind = VCPU_EXIT_HCALL;
	e->nr = port - LG_PORT_BASE;
	/* NOTIFY's key is the value written (%eax), as the ioeventfd sees it. */
	e->args[0] = e->nr == LG_HC_NOTIFY ? value : r->rdi;
	e->args[1] = r->rsi;
}

__attribute__((format(printf, 2, 3))) static void fault(struct vcpu_exit *e, const char *fmt, ...)
{
	va_list ap;

	e->kind = VCPU_EXIT_FAULT;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

static void kvm_enter(struct vm *vm, struct vcpu_exit *e)
{
	struct kvm_vm *k = vm->backend_data;
	struct kvm_run *run = k->run;
	struct kvm_sregs sregs;
	unsigned long rip;

	if (ioctl(k->vcpu_fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			e->kind = VCPU_EXIT_INTERRUPTED;
			return;
		}
		fault(e, "KVM_RUN: %s", strerror(errno));
		return;
	}
	rip = run->s.regs.regs.rip;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(k, e);
		break;
	case KVM_EXIT_MMIO:
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		odd_exit(k, e, "guest %s unbacked address %#llx (ignored)",
			 run->mmio.is_write ? "wrote" : "read", run->mmio.phys_addr);
		break;
	case KVM_EXIT_HLT:
		fault(e, "guest executed hlt at %#lx: a paravirtual guest idles with WAIT", rip);
		break;
	case KVM_EXIT_SHUTDOWN:
		/*
		 * An exception the guest could not take even as a double
		 * fault.  VT-x leaves the registers as they were; AMD's SVM
		 * does not define them after a shutdown, so KVM resets the
		 * vCPU and rip reads as the reset vector.
		 */
		if (rip == RESET_RIP && ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) == 0 &&
		    sregs.cs.base == RESET_CS_BASE)
			fault(e, "guest triple-faulted (KVM reset the vCPU, as it must on AMD "
				 "SVM: where it faulted is lost)");
		else
			fault(e, "guest triple-faulted (rip %#lx)", rip);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fault(e, "KVM could not enter the guest (reason %#llx)",
		      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		fault(e, "KVM internal error %u at rip %#lx", run->internal.suberror, rip);
		break;
	default:
		fault(e, "unexpected KVM exit %u at rip %#lx", run->exit_reason, rip);
		break;
	}
}

static void kvm_destroy(struct vm *vm)
{
	/* The file descriptors go with the process. */
	kvm_check_guest_tsc(vm->backend_data, &vm->guest_tsc);
}

const struct backend kvm_backend = {
	.name = "kvm",
	.fast_notify = "ioeventfd",
	.fast_kick_flags = 0,
	.probe = kvm_probe,
	.create = kvm_create,
	.setup_boot = kvm_setup_boot,
	.enter = kvm_enter,
	.destroy = kvm_destroy,
};
