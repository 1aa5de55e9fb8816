// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/allowlist.c: which system calls each of the launcher's threads
 * may make once setup is over, and why (seccomp.c turns these lists into
 * filters).
 *
 * A role's filter is the union of a few lists:
 *
 *   every thread      common[]: the C library's own needs (malloc, locks,
 *                     a thread's end, abort()) and our messages
 *   the vCPU thread   common[], its backend's loop (vcpu_kvm[] or
 *                     vcpu_process[]), the control plane of each kind of
 *                     device present (device_status.c runs on this
 *                     thread), and what the shutdown does (shutdown[] and
 *                     its backend's, plus each device kind's own list:
 *                     devices_stop() serves the last requests here);
 *                     filters only ever narrow, so the one filter
 *                     installed before the loop must already allow all
 *                     of it
 *   a device thread   common[], device_loop[] (device.c's poll loop) and
 *                     its model's list (dev_blk[], dev_console[] ...)
 *   the trace thread  common[] and trace_drain[]
 *
 * plus, on a terminal, tty[] for every thread (any of them may have to
 * put the terminal back), and in sanitizer builds sanitizer[].
 *
 * Nothing opens, creates, executes, connects or forks after setup: no
 * openat, execve, socket, connect, clone appear below (outside the
 * sanitizer list).  ioctl is allowed per request number, mmap and mprotect
 * never with PROT_EXEC.  File descriptors are not checked: every fd a
 * thread could name was opened during setup, and no new one can be made
 * (only received, in a vhost-user reply, which we close at once).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "lguest_host.h"
#include "sandbox/allowlist.h"

/* clang-format off */
#define ALLOW(sys, why)           { __NR_##sys, 0, { { 0 } }, why }
#define ALLOW_IF(sys, c, why)     { __NR_##sys, 1, { c }, why }
#define ALLOW_IF2(sys, c, d, why) { __NR_##sys, 2, { c, d }, why }
#define ARG_EQ(i, v)              { i, ~0ULL, (uint64_t)(v) }
#define ARG_CLEAR(i, bits)        { i, (uint64_t)(bits), 0 }
#define IOCTL(req, why)           ALLOW_IF(ioctl, ARG_EQ(1, req), #req ": " why)
#define LIST(a)                   { #a, a, sizeof(a) / sizeof(a[0]) }
/* clang-format on */

/* Every thread: the C library's needs and the launcher's plumbing. */
static const struct syscall_rule common[] = {
	ALLOW(write, "messages on stderr (log.c); eventfds: request_stop(), device_kick()"),
	ALLOW(writev, "glibc's fatal-error messages (malloc corruption ...) before abort()"),
	ALLOW(futex, "pthread mutexes and joins; waking the guest's WAIT (device_signal())"),
	ALLOW_IF(mmap, ARG_CLEAR(2, PROT_EXEC), "malloc: a new arena or a large block"),
	ALLOW_IF(mprotect, ARG_CLEAR(2, PROT_EXEC), "malloc: growing an arena's heap"),
	ALLOW(munmap, "free: a large block, a trimmed arena; a joined thread's stack"),
	ALLOW(mremap, "realloc of a large block (the trace store doubling)"),
	ALLOW(brk, "malloc and free on the main arena"),
	ALLOW(madvise, "free giving pages back; a thread's end giving its stack back"),
	ALLOW(clock_gettime, "the vDSO's fallback, and CPU-time clocks (the vCPU time)"),
	ALLOW(rt_sigreturn, "the end of a signal handler (SIGINT, SIGTERM, SIGHUP: any thread)"),
	ALLOW(restart_syscall, "the kernel resuming a poll, futex or sleep after SIGSTOP/SIGCONT"),
	ALLOW(rt_sigprocmask, "glibc masks signals as a thread ends; abort() unmasks SIGABRT"),
	ALLOW(exit, "a thread's end"),
	ALLOW(exit_group, "the end: exit(), die() and the SIGSYS handler's"),
	ALLOW(getpid, "abort(): raise(SIGABRT)"),
	ALLOW(gettid, "abort(): raise(SIGABRT)"),
	ALLOW_IF(tgkill, ARG_EQ(2, SIGABRT), "abort(): raise(SIGABRT), and no other signal"),
};

/* On a terminal: any thread may have to put it back (console.c, and a violation). */
static const struct syscall_rule tty[] = {
	ALLOW_IF2(ioctl, ARG_EQ(0, 0), ARG_EQ(1, TCGETS), "TCGETS on stdin: tcsetattr() checks"),
	ALLOW_IF2(ioctl, ARG_EQ(0, 0), ARG_EQ(1, TCSETS), "TCSETS on stdin: console_restore_tty()"),
};

/* The KVM backend's loop (kvm/kvm.c) and the hypercalls it answers (vcpu.c). */
static const struct syscall_rule vcpu_kvm[] = {
	IOCTL(KVM_RUN, "run the guest until its next hypercall"),
	IOCTL(KVM_GET_SREGS, "after a triple fault: did KVM reset the vCPU (AMD)?"),
	ALLOW(write, "CONSOLE: the guest's text to stdout; --no-ioeventfd NOTIFY: an eventfd"),
	ALLOW(futex, "WAIT: sleep on the shared page's futex (guest_wait())"),
};

/* The process backend's loop (process/process.c): messages from and to the stub. */
static const struct syscall_rule vcpu_process[] = {
	ALLOW(poll, "wait for the stub's message, its death (pidfd) or a stop request"),
	ALLOW(recvfrom, "recv(): the stub's hypercall or fault message"),
	ALLOW(sendto, "send(): our answer to a hypercall"),
	ALLOW(wait4, "reap the guest's process when it died"),
	ALLOW(write, "CONSOLE: the guest's text to stdout; --no-ioeventfd NOTIFY: an eventfd"),
	ALLOW(futex, "a forged WAIT message: guest_wait() (the stub waits by itself)"),
};

/* The main thread after the loop (main.c): stop, join, write the results. */
static const struct syscall_rule shutdown[] = {
	ALLOW(write, "request_stop(), devices_stop(): the stop eventfd; --trace; --stats"),
	ALLOW(futex, "pthread_join() of the device and trace threads"),
	ALLOW(sysinfo, "qsort() in trace_finish() asks how much memory there is"),
	ALLOW(newfstatat, "stdio's first write to --trace-file, --stats-json (opened at setup)"),
	IOCTL(TCGETS, "and, if that is a character device (/dev/null), isatty()"),
	ALLOW(close, "fclose() of --trace-file and --stats-json"),
};

static const struct syscall_rule shutdown_kvm[] = {
	IOCTL(KVM_HAS_DEVICE_ATTR, "the guest's TSC offset after the run (guest_tsc.c)"),
	IOCTL(KVM_GET_DEVICE_ATTR, "the guest's TSC offset after the run (guest_tsc.c)"),
	IOCTL(KVM_GET_MSRS, "the guest's TSC after the run, where KVM has no offset attribute"),
};

static const struct syscall_rule shutdown_process[] = {
	ALLOW_IF(pidfd_send_signal, ARG_EQ(1, SIGKILL),
		 "SIGKILL the guest's process, nothing else"),
	ALLOW(wait4, "reap it"),
};

/* device.c's loop, whatever the model: sleep on eventfds, take the kicks. */
static const struct syscall_rule device_loop[] = {
	ALLOW(poll, "sleep on the notify and stop eventfds, and the model's own fd"),
	ALLOW(read, "take the count from the notify eventfd (and a model's own eventfds)"),
	ALLOW(write, "device_kick(); a broken device's one line on stderr"),
	ALLOW(futex, "dev->lock against status changes; device_signal() waking the guest"),
};

/* A disk image the launcher serves (devices/blk.c): zero-copy from and to guest pages. */
static const struct syscall_rule dev_blk[] = {
	ALLOW(preadv, "a read request, straight into the guest's buffers"),
	ALLOW(pwritev, "a write request, straight from the guest's buffers"),
	ALLOW(fdatasync, "FLUSH and draft III's BARRIER: durable before completion"),
	ALLOW(io_uring_enter, "aio=io_uring: submit a batch, wait for a completion (aio/uring.c)"),
	ALLOW(read, "clear the I/O engine's completion eventfd (also on the main thread at exit)"),
};

/* The console (devices/console.c). */
static const struct syscall_rule dev_console[] = {
	ALLOW(readv, "stdin into the guest's receive buffer"),
	ALLOW(writev, "the guest's transmit buffers to stdout"),
};

/* A network device (devices/net.c): one readv or writev per frame on the tap. */
static const struct syscall_rule dev_net[] = {
	ALLOW(readv, "a frame from the tap into the guest's receive buffer"),
	ALLOW(writev, "a frame from the guest's transmit buffer to the tap"),
};

/* A disk a vhost-user backend serves (devices/vhost_blk.c): its call eventfd and socket. */
static const struct syscall_rule dev_vhost_user[] = {
	ALLOW(recvfrom, "recv(MSG_PEEK): did the backend hang up or say something unasked?"),
	ALLOW(close, "drop the connection of a backend that went away"),
};

/* A disk the kernel serves (devices/vhost_blk.c): its call and err eventfds. */
static const struct syscall_rule dev_kernel[] = {
	IOCTL(LGH_GET_ERROR, "the err eventfd fired: the rule the guest broke"),
	IOCTL(LGH_SET_BACKEND, "then withdraw the image: the device stops"),
	IOCTL(VHOST_GET_VRING_BASE, "and take the ring back"),
	IOCTL(LGH_GET_STATS, "the kernel's counters, at the end"),
};

/* The vCPU thread, when the guest moves a vhost-user device's status (vhost/user.c). */
static const struct syscall_rule control_vhost_user[] = {
	ALLOW(sendmsg, "one vhost-user request, with its fds"),
	ALLOW(recvmsg, "its reply or acknowledgement"),
	ALLOW(poll, "each under a deadline"),
	ALLOW(close, "fds a reply carried, which we never ask for"),
};

/* The vCPU thread, when the guest moves a kernel device's status (vhost/kernel.c). */
static const struct syscall_rule control_kernel[] = {
	IOCTL(VHOST_SET_FEATURES, "DRIVER_OK: the features the driver took"),
	IOCTL(VHOST_SET_MEM_TABLE, "guest RAM"),
	IOCTL(VHOST_SET_VRING_NUM, "the ring"),
	IOCTL(VHOST_SET_VRING_ADDR, "the ring"),
	IOCTL(VHOST_SET_VRING_BASE, "the ring"),
	IOCTL(VHOST_SET_VRING_KICK, "the kick eventfd"),
	IOCTL(VHOST_SET_VRING_CALL, "the call eventfd"),
	IOCTL(VHOST_SET_VRING_ERR, "the err eventfd"),
	IOCTL(LGH_SET_BACKEND, "the image: start; at a reset, stop"),
	IOCTL(VHOST_GET_VRING_BASE, "a reset: take the ring back"),
};

/* The trace drain thread (trace.c). */
static const struct syscall_rule trace_drain[] = {
	ALLOW(clock_nanosleep, "nanosleep(): a millisecond between two looks at the guest's ring"),
	ALLOW(futex, "trace_lock, shared with the device threads' events"),
	ALLOW(write, "one line on stderr if the guest breaks its trace ring"),
};

/*
 * Sanitizer builds (make check-asan) only: the runtime's own needs.  At
 * exit LeakSanitizer stops the world from whichever thread calls exit():
 * it clones a tracer task (which inherits that thread's filter), which
 * lists /proc/self/task and ptrace-attaches every thread to read its
 * registers.  No syscall here is ever made by our own code.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

#ifdef SANITIZER_BUILD
static const struct syscall_rule sanitizer[] = {
	ALLOW_IF(clone, ARG_EQ(0, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED),
		 "LeakSanitizer's tracer task, with exactly these flags"),
	ALLOW_IF(prctl, ARG_EQ(0, PR_GET_DUMPABLE), "LeakSanitizer: may we be traced?"),
	ALLOW_IF(prctl, ARG_EQ(0, PR_SET_DUMPABLE), "after --user we may not: for the check"),
	ALLOW_IF(prctl, ARG_EQ(0, PR_SET_PTRACER), "LeakSanitizer: let the tracer trace us"),
	ALLOW_IF(prctl, ARG_EQ(0, PR_SET_PDEATHSIG), "the tracer: die with us"),
	ALLOW(sched_yield, "LeakSanitizer's waits; the allocator's spin locks"),
	ALLOW(wait4, "reap the tracer; the tracer's wait for each stopped thread"),
	ALLOW(getppid, "the tracer: is its parent still there?"),
	ALLOW_IF(open, ARG_CLEAR(1, O_ACCMODE | O_CREAT | O_TRUNC),
		 "the tracer: /proc/self/task and the like, read-only"),
	ALLOW_IF(openat, ARG_CLEAR(2, O_ACCMODE | O_CREAT | O_TRUNC),
		 "a leak report: symbols from /proc/self/exe and libraries, read-only"),
	ALLOW(getdents, "the tracer: list /proc/self/task"),
	ALLOW(lseek, "the tracer: list /proc/self/task again"),
	ALLOW(read, "the tracer: /proc files"),
	ALLOW(close, "the tracer: /proc files"),
	ALLOW(ptrace, "the tracer: attach, read registers, detach"),
	ALLOW(sigaltstack, "the tracer's signal stack"),
	ALLOW(rt_sigaction, "the tracer's handlers for synchronous signals"),
	ALLOW(readlink, "a report: /proc/self/exe, the binary to read symbols from"),
	ALLOW(newfstatat, "a report: the size of a file to read symbols from"),
	ALLOW_IF(fcntl, ARG_EQ(1, F_SETFD), "a report: close-on-exec on a file of symbols"),
	ALLOW_IF2(ioctl, ARG_EQ(0, 2), ARG_EQ(1, TCGETS), "a report: colours on a terminal?"),
};
#endif

static const struct allowlist common_list = LIST(common);
static const struct allowlist tty_list = LIST(tty);
static const struct allowlist vcpu_kvm_list = LIST(vcpu_kvm);
static const struct allowlist vcpu_process_list = LIST(vcpu_process);
static const struct allowlist shutdown_list = LIST(shutdown);
static const struct allowlist shutdown_kvm_list = LIST(shutdown_kvm);
static const struct allowlist shutdown_process_list = LIST(shutdown_process);
static const struct allowlist device_loop_list = LIST(device_loop);
static const struct allowlist trace_list = LIST(trace_drain);
#ifdef SANITIZER_BUILD
static const struct allowlist sanitizer_list = LIST(sanitizer);
#endif

/* Each device kind's model: on its thread, and at the end on the main thread. */
/* clang-format off */
static const struct allowlist device_lists[SANDBOX_NR_ROLES] = {
	[SANDBOX_DEV_BLK] = LIST(dev_blk),
	[SANDBOX_DEV_CONSOLE] = LIST(dev_console),
	[SANDBOX_DEV_NET] = LIST(dev_net),
	[SANDBOX_DEV_VHOST_USER] = LIST(dev_vhost_user),
	[SANDBOX_DEV_KERNEL] = LIST(dev_kernel),
};
/* clang-format on */

/* Each device kind's control plane, on the vCPU thread (only the external ones have one). */
static const struct allowlist control_lists[SANDBOX_NR_ROLES] = {
	[SANDBOX_DEV_VHOST_USER] = LIST(control_vhost_user),
	[SANDBOX_DEV_KERNEL] = LIST(control_kernel),
};

unsigned int allowlist_parts(enum sandbox_role role, const struct sandbox_env *env,
			     const struct allowlist **parts)
{
	unsigned int n = 0;

	parts[n++] = &common_list;
	if (env->interactive)
		parts[n++] = &tty_list;
#ifdef SANITIZER_BUILD
	parts[n++] = &sanitizer_list;
#endif
	switch (role) {
	case SANDBOX_VCPU:
		parts[n++] = env->kvm ? &vcpu_kvm_list : &vcpu_process_list;
		parts[n++] = &shutdown_list;
		parts[n++] = env->kvm ? &shutdown_kvm_list : &shutdown_process_list;
		for (int r = SANDBOX_DEV_BLK; r < SANDBOX_NR_ROLES; r++) {
			if (!(env->device_roles & (1U << r)))
				continue;
			parts[n++] = &device_lists[r];
			if (control_lists[r].n)
				parts[n++] = &control_lists[r];
		}
		break;
	case SANDBOX_TRACE:
		parts[n++] = &trace_list;
		break;
	default:
		parts[n++] = &device_loop_list;
		parts[n++] = &device_lists[role];
		break;
	}
	return n;
}
