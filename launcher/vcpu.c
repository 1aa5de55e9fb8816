// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu.c: the vCPU loop and hypercall dispatch, written once for every
 * backend.
 *
 * The backend runs the guest until it calls us (backend->enter()): on KVM
 * that is KVM_RUN returning for an `out` to one of our ports, on the
 * process backend a message from the sandboxed stub.  Either way we get a
 * hypercall number and its two arguments, and answer it here.  The fast
 * NOTIFY path (ioeventfd, or the stub writing the device's eventfd) never
 * gets here at all; with --no-ioeventfd every NOTIFY does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "device.h"
#include "log.h"
#include "trace.h"
#include "vcpu.h"

#define MAX_PRINT 4096

/* The guest's early console: write its bytes to stdout as they are. */
static void hcall_console(struct vm *vm, uint64_t gpa, uint64_t len)
{
	const void *p;

	len = len < MAX_PRINT ? len : MAX_PRINT;
	p = guest_ptr(&vm->mem, gpa, len);
	if (!p) {
		warnx_lg("guest console print: %#lx+%lu lies outside guest RAM", (unsigned long)gpa,
			 (unsigned long)len);
		return;
	}
	if (write(STDOUT_FILENO, p, len) < 0)
		warnx_lg("stdout: %s", strerror(errno));
}

static void hcall_crash(struct vm *vm, uint64_t gpa, uint64_t len)
{
	const char *msg;

	len = len < 512 ? len : 512;
	msg = guest_ptr(&vm->mem, gpa, len);
	if (msg)
		warnx_lg("guest crashed: %.*s", (int)len, msg);
	else
		warnx_lg("guest crashed (its message at %#lx is outside RAM)", (unsigned long)gpa);
}

static void hcall_notify(uint32_t key, struct vcpu_stats *stats)
{
	struct device *dev = device_by_key(key);
	uint64_t one = 1;

	if (!dev) {
		/* Not fatal: a guest poking at NOTIFY does nothing. */
		if (stats->hcall_exits[LG_HC_NOTIFY] < 10)
			warnx_lg("guest sent NOTIFY with unknown key %#x", key);
		return;
	}
	dev->stats.notify_exits++;
	if (write(dev->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_lg("%s: notify: %s", dev->name, strerror(errno));
	/*
	 * Another process reads an external device's eventfd, so its device
	 * thread never sees the kick: this is the one place that can count
	 * and trace it (through the fast path nobody here sees it at all).
	 */
	if (dev->external) {
		dev->stats.notifies++;
		trace_event(LG_TR_KICK, dev->index, LG_TR_NO_DEV, LG_TR_F_EXIT, 0, 0, 1, 0);
	}
}

/* Returns -1 to keep running, or lguest's exit status. */
static int hypercall(struct vm *vm, const struct vcpu_exit *e, struct vcpu_stats *stats)
{
	uint64_t a0 = e->args[0], a1 = e->args[1];

	switch (e->nr) {
	case LG_HC_NOTIFY:
		hcall_notify((uint32_t)a0, stats);
		return -1;
	case LG_HC_CONSOLE:
		hcall_console(vm, a0, a1);
		return -1;
	case LG_HC_WAIT:
		guest_wait(a0);
		return -1;
	case LG_HC_SHUTDOWN:
		verbose("guest shut down with status %lu", (unsigned long)(a0 & 0xff));
		return (int)(a0 & 0xff);
	case LG_HC_CRASH:
		hcall_crash(vm, a0, a1);
		return EXIT_GUEST_CRASH;
	case LG_HC_STATUS:
		device_write_status(a0 < UINT32_MAX ? (unsigned int)a0 : UINT32_MAX, a1);
		return -1;
	default:
		/* The backends only report numbers below LG_NR_HCALLS. */
		return -1;
	}
}

int vcpu_run(struct vm *vm, struct vcpu_stats *stats)
{
	struct vcpu_exit e;
	int status;

	for (;;) {
		if (stop_requested(&status))
			return status;
		vm->backend->enter(vm, &e);
		switch (e.kind) {
		case VCPU_EXIT_INTERRUPTED:
			stats->interrupted++;
			break;
		case VCPU_EXIT_IGNORED:
			stats->exits++;
			stats->other_exits++;
			break;
		case VCPU_EXIT_FAULT:
			stats->exits++;
			warnx_lg("%s", e.why);
			return EXIT_GUEST_CRASH;
		case VCPU_EXIT_HCALL:
			stats->exits++;
			if (e.nr < LG_NR_HCALLS)
				stats->hcall_exits[e.nr]++;
			status = hypercall(vm, &e, stats);
			if (status >= 0)
				return status;
			break;
		}
	}
}
