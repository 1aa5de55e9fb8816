// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu.c: the vCPU loop.
 *
 * KVM_RUN returns whenever the guest does something we must handle: here,
 * an `out` to one of our hypercall ports.  The arguments are in the synced
 * registers (kvm_run->s.regs), so a hypercall costs one exit and no extra
 * ioctl.  With ioeventfd, NOTIFY never gets here at all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "device.h"
#include "lguest_abi.h"
#include "log.h"
#include "vcpu.h"

#define MAX_PRINT 4096

/* The guest's early console: write its bytes to stdout as they are. */
static void hcall_console(struct vm *vm, const struct kvm_regs *r)
{
	uint64_t len = r->rdx < MAX_PRINT ? r->rdx : MAX_PRINT;
	const void *p = guest_ptr(&vm->mem, r->rsi, len);

	if (!p) {
		warnx_lg("guest console print: %#llx+%llu lies outside guest RAM", r->rsi, r->rdx);
		return;
	}
	if (write(STDOUT_FILENO, p, len) < 0)
		warnx_lg("stdout: %s", strerror(errno));
}

static void hcall_crash(struct vm *vm, const struct kvm_regs *r)
{
	uint64_t len = r->rdx < 512 ? r->rdx : 512;
	const char *msg = guest_ptr(&vm->mem, r->rsi, len);

	if (msg)
		warnx_lg("guest crashed: %.*s", (int)len, msg);
	else
		warnx_lg("guest crashed (its message at %#llx is outside RAM)", r->rsi);
}

static void hcall_notify(uint32_t key, struct vcpu_stats *stats)
{
	struct device *dev = device_by_key(key);
	uint64_t one = 1;

	if (!dev) {
		/* Not fatal: a guest poking the port does nothing. */
		if (stats->io_exits[0] < 10)
			warnx_lg("guest sent NOTIFY with unknown key %#x", key);
		return;
	}
	dev->stats.notify_exits++;
	if (write(dev->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_lg("%s: notify: %s", dev->name, strerror(errno));
}

/* Returns -1 to keep running, or lguest's exit status. */
static int handle_io(struct vm *vm, struct vcpu_stats *stats)
{
	struct kvm_run *run = vm->run;
	const struct kvm_regs *r = &run->s.regs.regs;
	uint16_t port = run->io.port;
	uint32_t value = 0;

	if (port >= LG_PORT_NOTIFY && port < LG_PORT_NOTIFY + 8)
		stats->io_exits[port - LG_PORT_NOTIFY]++;
	if (run->io.direction == KVM_EXIT_IO_IN) {
		/* Nothing to read on our ports: all ones, like an empty bus. */
		memset((uint8_t *)run + run->io.data_offset, 0xff, run->io.size * run->io.count);
		return -1;
	}
	memcpy(&value, (uint8_t *)run + run->io.data_offset,
	       run->io.size < sizeof(value) ? run->io.size : sizeof(value));

	switch (port) {
	case LG_PORT_NOTIFY:
		hcall_notify(value, stats);
		return -1;
	case LG_PORT_CONSOLE:
		hcall_console(vm, r);
		return -1;
	case LG_PORT_WAIT:
		guest_wait(r->rdi);
		return -1;
	case LG_PORT_SHUTDOWN:
		verbose("guest shut down with status %llu", r->rdi & 0xff);
		return (int)(r->rdi & 0xff);
	case LG_PORT_CRASH:
		hcall_crash(vm, r);
		return EXIT_GUEST_CRASH;
	case LG_PORT_STATUS:
		device_write_status(r->rdi < UINT32_MAX ? (unsigned int)r->rdi : UINT32_MAX,
				    r->rsi);
		return -1;
	default:
		stats->other_exits++;
		if (stats->other_exits <= 10)
			warnx_lg("guest wrote %#x to unknown port %#x (ignored)", value, port);
		return -1;
	}
}

int vcpu_run(struct vm *vm, struct vcpu_stats *stats)
{
	struct kvm_run *run = vm->run;
	int status;

	for (;;) {
		if (stop_requested(&status))
			return status;
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				stats->interrupted++;
				continue;
			}
			warnx_lg("KVM_RUN: %s", strerror(errno));
			return EXIT_GUEST_CRASH;
		}
		stats->exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			status = handle_io(vm, stats);
			if (status >= 0)
				return status;
			break;
		case KVM_EXIT_MMIO:
			stats->other_exits++;
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			if (stats->other_exits <= 10)
				warnx_lg("guest %s unbacked address %#llx (ignored)",
					 run->mmio.is_write ? "wrote" : "read",
					 run->mmio.phys_addr);
			break;
		case KVM_EXIT_HLT:
			warnx_lg("guest executed hlt at %#llx: a paravirtual guest idles with WAIT",
				 run->s.regs.regs.rip);
			return EXIT_GUEST_CRASH;
		case KVM_EXIT_SHUTDOWN:
			warnx_lg("guest triple-faulted (rip %#llx)", run->s.regs.regs.rip);
			return EXIT_GUEST_CRASH;
		case KVM_EXIT_FAIL_ENTRY:
			warnx_lg("KVM could not enter the guest (reason %#llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return EXIT_GUEST_CRASH;
		case KVM_EXIT_INTERNAL_ERROR:
			warnx_lg("KVM internal error %u at rip %#llx", run->internal.suberror,
				 run->s.regs.regs.rip);
			return EXIT_GUEST_CRASH;
		default:
			warnx_lg("unexpected KVM exit %u at rip %#llx", run->exit_reason,
				 run->s.regs.regs.rip);
			return EXIT_GUEST_CRASH;
		}
	}
}
