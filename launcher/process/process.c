// SPDX-License-Identifier: GPL-2.0
/*
 * process/process.c: the process backend, the guest as a sandboxed host
 * process, for machines without KVM.
 *
 * The original lguest ran guests on CPUs without VT by switching page
 * tables under them.  We do it the way gVisor's systrap platform and
 * User-Mode Linux's seccomp mode do: the guest kernel runs as the code of
 * an ordinary host process at CPL3.  Our guest suits this well: after boot
 * it uses no privileged instruction, takes no interrupt, idles with WAIT
 * and finds everything through its boot parameters.
 *
 * The child is a fork + exec of lguest-stub (stub/), a tiny static program
 * with no libc, linked far above guest RAM.  Given the guest RAM memfd, it
 * maps it at virtual = physical addresses, unmaps everything else, drops
 * what it could ever use, locks itself in with a seccomp filter, and jumps
 * to the guest's entry point.  What it keeps is exactly what a guest may
 * do (stub/README.md has the threat model):
 *
 *   NOTIFY    the stub writes the device's eventfd itself: no round trip
 *             through us (the fast path, like KVM's ioeventfd)
 *   WAIT      the stub sleeps on the futex in the shared page, which the
 *             device threads wake (device.c)
 *   the rest  a message on a SOCK_SEQPACKET socket to this thread, which
 *             answers it with the same dispatch code as KVM (vcpu.c)
 *
 * Faults arrive as messages from the stub's signal handlers; a child that
 * dies without a word (the filter killed it) is noticed through its pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "device.h"
#include "install_paths.h"
#include "lg_trace.h"
#include "log.h"
#include "process/process.h"

#define STUB_NAME	 INSTALL_STUB_NAME
#define READY_TIMEOUT_MS 10000

struct process_vm {
	int stub_fd; /* the stub executable, opened before any --chroot */
	char stub_path[PATH_MAX];
	int chan;  /* our end of the socket */
	int pidfd; /* the child, for poll() */
	pid_t pid;
	bool reaped;
	bool started;	    /* the go message is sent */
	bool reply_owed;    /* the last exit was a hypercall the stub waits on */
	bool chan_closed;   /* the stub closed its end: it is on its way out */
	double guest_cpu_s; /* the child's CPU time, once reaped */
	uint64_t hcall_page;
};

static struct process_vm proc = { .stub_fd = -1, .chan = -1, .pidfd = -1 };

/*
 * The stub is found where the guest kernel is (install_paths.h): next to
 * lguest in the build tree, in lib/lguest where it is installed.  Opened
 * now, before any --chroot hides it; exec'd from the descriptor later.
 */
static const char *process_probe(const struct options *o)
{
	static char why[5 * PATH_MAX];
	char looked[4 * PATH_MAX];

	(void)o;
	if (proc.stub_fd >= 0)
		return NULL;
	if (!install_find(STUB_NAME, proc.stub_path, sizeof(proc.stub_path))) {
		install_describe(looked, sizeof(looked));
		snprintf(why, sizeof(why),
			 "cannot find the process backend's stub (looked for " STUB_NAME " in %s)",
			 looked);
		return why;
	}
	proc.stub_fd = open(proc.stub_path, O_RDONLY | O_CLOEXEC);
	if (proc.stub_fd < 0) {
		snprintf(why, sizeof(why), "cannot open the process backend's stub %s: %s",
			 proc.stub_path, strerror(errno));
		return why;
	}
	return NULL;
}

/*
 * The child's way to say what went wrong before the stub runs: the same
 * message the stub sends for its own setup steps (send() is
 * async-signal-safe), on the channel wherever it is at that moment.
 */
static __attribute__((noreturn)) void child_failed(int chan, enum stub_setup_step step)
{
	struct stub_msg m = { .type = STUB_MSG_SETUP_FAILED, .nr = step };

	m.args[0] = (uint64_t)errno;
	send(chan, &m, sizeof(m), MSG_NOSIGNAL);
	_exit(STUB_EXIT_SETUP);
}

/*
 * In the child, between fork and exec: only async-signal-safe calls.  Puts
 * the channel, the memfd and the notify eventfds at the numbers stub_abi.h
 * fixes and closes everything else.
 */
static __attribute__((noreturn)) void child(const struct options *o, pid_t parent, int chan,
					    int memfd, const int *notify, unsigned int nnotify)
{
	/*
	 * Out of the way of the target numbers first, then into place.  The
	 * stub executable goes last, close-on-exec: exec needs it, the stub
	 * does not.
	 */
	int high = STUB_FD_NOTIFY0 + LG_MAX_DEVICES + 2, moved[LG_MAX_DEVICES + 3];
	unsigned int nfds = 3 + nnotify;
	int exe_fd = STUB_FD_CHANNEL + (int)nfds - 1;
	struct rlimit none = { 0, 0 },
		      fds = { STUB_FD_NOTIFY0 + nnotify, STUB_FD_NOTIFY0 + nnotify };
	char *const argv[] = { STUB_NAME, NULL }, *const envp[] = { NULL };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_failed(chan, STUB_SETUP_LIMITS);
	if (getppid() != parent)
		_exit(STUB_EXIT_LOST); /* the launcher is already gone */
	for (unsigned int i = 0; i < nfds; i++) {
		int fd = i == 0		? chan
			 : i == 1	? memfd
			 : i < nfds - 1 ? notify[i - 2]
					: proc.stub_fd;

		moved[i] = fcntl(fd, F_DUPFD, high);
		if (moved[i] < 0)
			child_failed(chan, STUB_SETUP_FDS);
	}
	for (unsigned int i = 0; i < nfds; i++) {
		if (dup2(moved[i], STUB_FD_CHANNEL + (int)i) < 0)
			child_failed(moved[0], STUB_SETUP_FDS);
	}
	if (syscall(SYS_close_range, exe_fd + 1, ~0U, 0) < 0 ||
	    fcntl(exe_fd, F_SETFD, FD_CLOEXEC) < 0)
		child_failed(STUB_FD_CHANNEL, STUB_SETUP_FDS);
	/* No stdin, stdout or stderr: the guest's console goes through us. */
	close(0);
	close(1);
	close(2);
	/*
	 * The identity first: setuid() to a user already at RLIMIT_NPROC
	 * would make the exec below fail (EAGAIN).
	 */
	if (o->run_as.set &&
	    (setgroups(0, NULL) < 0 || setgid(o->run_as.gid) < 0 || setuid(o->run_as.uid) < 0))
		child_failed(STUB_FD_CHANNEL, STUB_SETUP_IDENTITY);
	if (setrlimit(RLIMIT_NPROC, &none) < 0 || setrlimit(RLIMIT_CORE, &none) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &fds) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_failed(STUB_FD_CHANNEL, STUB_SETUP_LIMITS);
	syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
	child_failed(STUB_FD_CHANNEL, STUB_SETUP_EXEC);
}

static const char *setup_step_name(uint32_t step)
{
	switch (step) {
	case STUB_SETUP_CONFIG:
		return "read its configuration";
	case STUB_SETUP_MAP_RAM:
		return "map guest RAM at its physical addresses";
	case STUB_SETUP_UNMAP:
		return "unmap the rest of its address space";
	case STUB_SETUP_SIGNALS:
		return "install its signal handlers";
	case STUB_SETUP_CAPS:
		return "drop its capabilities";
	case STUB_SETUP_PROTECT:
		return "make its configuration read-only";
	case STUB_SETUP_SECCOMP:
		return "install its seccomp filter";
	case STUB_SETUP_FDS:
		return "put its file descriptors in place";
	case STUB_SETUP_IDENTITY:
		return "take the --user identity";
	case STUB_SETUP_LIMITS:
		return "set its limits";
	case STUB_SETUP_EXEC:
		return "be executed";
	}
	return "set itself up";
}

/* The child's end, as one sentence (it must be reaped: proc.reaped after). */
static void describe_exit(int status, char *why, size_t n)
{
	if (WIFEXITED(status))
		snprintf(why, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(why, n,
			 "was killed by its sandbox (a system call its seccomp filter "
			 "forbids)");
	else if (WIFSIGNALED(status))
		snprintf(why, n, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(why, n, "ended (wait status %#x)", status);
}

/* Wait for the child to end; its CPU time is the guest's (proc.guest_cpu_s). */
static int reap(void)
{
	struct rusage ru = { 0 };
	int status = 0;

	if (proc.reaped)
		return 0;
	while (wait4(proc.pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	proc.reaped = true;
	proc.guest_cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	return status;
}

/* Receive one whole message; 0 if the stub closed its end, -1 on a bad one. */
static ssize_t recv_msg(struct stub_msg *m, int flags)
{
	ssize_t n = recv(proc.chan, m, sizeof(*m), flags | MSG_TRUNC);

	/*
	 * A stub that exits with our packets unread leaves us ECONNRESET,
	 * reported once, ahead of what it sent before it went: read on.
	 */
	if (n < 0 && errno == ECONNRESET)
		n = recv(proc.chan, m, sizeof(*m), flags | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -2 : -1;
	if (n == 0)
		return 0;
	return n == sizeof(*m) ? n : -1;
}

/*
 * Answer the stub.  Never blocking: a guest that forges hypercall messages
 * and never reads our answers would otherwise fill the socket and hang
 * this thread in send().  false: it did exactly that.
 */
static bool send_reply(uint64_t value)
{
	struct stub_reply r = { value };

	if (send(proc.chan, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(r))
		return true;
	if (errno == EAGAIN)
		return false;
	/* A dead child is noticed by the next poll(); nothing to say here. */
	if (errno != EPIPE && errno != ECONNRESET)
		warnx_lg("process backend: %s", strerror(errno));
	return true;
}

static void wait_ready(void)
{
	struct pollfd fds[2] = { { proc.chan, POLLIN, 0 }, { proc.pidfd, POLLIN, 0 } };
	struct stub_msg m;
	char why[200];
	ssize_t n;
	int r;

	do
		r = poll(fds, 2, READY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		die("process backend: %s did not get ready in %d s", proc.stub_path,
		    READY_TIMEOUT_MS / 1000);
	n = recv_msg(&m, MSG_DONTWAIT);
	if (n > 0 && m.type == STUB_MSG_READY) {
		proc.hcall_page = m.args[0];
		return;
	}
	if (n > 0 && m.type == STUB_MSG_SETUP_FAILED)
		die("process backend: the stub could not %s%s%s", setup_step_name(m.nr),
		    m.args[0] ? ": " : "", m.args[0] ? strerror((int)m.args[0]) : "");
	describe_exit(reap(), why, sizeof(why));
	die("process backend: %s %s before it was ready", proc.stub_path, why);
}

static void process_create(struct vm *vm, const struct options *o, uint64_t entry)
{
	struct stub_config cfg = {
		.magic = STUB_CONFIG_MAGIC,
		.ram_start = LG_LOW_LIMIT,
		.ram_end = vm->mem.size,
		.entry = entry,
		.boot_params = LG_BOOT_PARAMS_GPA,
		.stack_top = LG_BOOT_STACK_TOP,
		.shared_gpa = LG_SHARED_GPA,
		.flags = o->ioeventfd ? STUB_F_NOTIFY_DIRECT : 0,
	};
	int notify[LG_MAX_DEVICES], sv[2];
	const char *how;
	pid_t parent = getpid();

	vm->backend_data = &proc;
	/* The eventfds go to the child only if it is to write them. */
	if (o->ioeventfd) {
		cfg.num_devices = device_count();
		for (unsigned int i = 0; i < cfg.num_devices; i++) {
			cfg.keys[i] = device_by_index(i)->key;
			notify[i] = device_by_index(i)->notify_fd;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("process backend: socketpair");
	fflush(NULL);
	proc.pid = fork();
	if (proc.pid < 0)
		die_errno("process backend: fork");
	if (proc.pid == 0)
		child(o, parent, sv[1], vm->mem.fd, notify, cfg.num_devices);
	close(sv[1]);
	proc.chan = sv[0];
	proc.pidfd = (int)syscall(SYS_pidfd_open, proc.pid, 0);
	if (proc.pidfd < 0)
		die_errno("process backend: pidfd_open");
	if (send(proc.chan, &cfg, sizeof(cfg), MSG_NOSIGNAL) != sizeof(cfg) && errno != EPIPE)
		die_errno("process backend: cannot configure the stub");
	/* Measured while the child execs and sets itself up. */
	vm->tsc_khz = host_tsc_khz(&how);
	timebase_same(&vm->guest_tsc, vm->tsc_khz, "the guest is a host process: our TSC");
	verbose("process backend: TSC %lu kHz (%s)", (unsigned long)vm->tsc_khz, how);
	wait_ready();
	verbose("process backend: guest process %d ready, hypercall page at %#lx", (int)proc.pid,
		(unsigned long)proc.hcall_page);
}

static void process_setup_boot(struct vm *vm, struct lg_boot_params *bp)
{
	(void)vm;
	bp->hcall_page = proc.hcall_page;
	bp->flags |= LG_BOOT_F_UNPRIVILEGED;
}

/* The child is gone.  A signal meant for all of us (^C, kill) is a stop request. */
static void child_died(struct vcpu_exit *e)
{
	int status = reap();
	char why[160];

	if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM ||
				    WTERMSIG(status) == SIGHUP)) {
		request_stop(128 + WTERMSIG(status));
		e->kind = VCPU_EXIT_INTERRUPTED;
		return;
	}
	describe_exit(status, why, sizeof(why));
	e->kind = VCPU_EXIT_FAULT;
	snprintf(e->why, sizeof(e->why), "guest process %s", why);
}

/* One message from the stub; false if there was none to take. */
static bool take_message(struct vm *vm, struct vcpu_exit *e)
{
	struct stub_msg m;
	ssize_t n = recv_msg(&m, MSG_DONTWAIT);

	if (n == -2)
		return false;
	if (n == 0) {
		/* The stub closed its end: it is exiting; its pidfd will say how. */
		proc.chan_closed = true;
		return false;
	}
	if (n < 0) {
		e->kind = VCPU_EXIT_FAULT;
		snprintf(e->why, sizeof(e->why),
			 "guest process sent a malformed message: guest stopped");
		return true;
	}
	switch (m.type) {
	case STUB_MSG_HCALL:
		proc.reply_owed = true;
		if (m.nr >= LG_NR_HCALLS) {
			e->kind = VCPU_EXIT_IGNORED;
			warnx_lg("guest made unknown hypercall %u (ignored)", m.nr);
			return true;
		}
		e->kind = VCPU_EXIT_HCALL;
		e->nr = m.nr;
		e->args[0] = m.args[0];
		e->args[1] = m.args[1];
		return true;
	case STUB_MSG_FAULT:
		e->kind = VCPU_EXIT_FAULT;
		describe_fault(&vm->mem, &m, e->why, sizeof(e->why));
		return true;
	default:
		e->kind = VCPU_EXIT_FAULT;
		snprintf(e->why, sizeof(e->why),
			 "guest process sent message type %u out of turn: guest stopped", m.type);
		return true;
	}
}

static void process_enter(struct vm *vm, struct vcpu_exit *e)
{
	struct pollfd fds[3] = {
		{ proc.chan, POLLIN, 0 },
		{ proc.pidfd, POLLIN, 0 },
		{ stop_eventfd(), POLLIN, 0 },
	};

	if (!proc.started || proc.reply_owed) {
		proc.started = true; /* the first answer is the go */
		proc.reply_owed = false;
		if (!send_reply(0)) {
			e->kind = VCPU_EXIT_FAULT;
			snprintf(e->why, sizeof(e->why),
				 "guest process does not read the launcher's answers: guest "
				 "stopped");
			return;
		}
	}
	for (;;) {
		if (!proc.chan_closed && take_message(vm, e))
			return;
		if (proc.chan_closed)
			fds[0].fd = -1;
		if (poll(fds, 3, -1) < 0) {
			if (errno != EINTR)
				warnx_lg("process backend: poll: %s", strerror(errno));
			e->kind = VCPU_EXIT_INTERRUPTED;
			return;
		}
		/* Messages first: a fault report arrives just before the death. */
		if (fds[0].revents)
			continue;
		if (fds[1].revents) {
			if (!proc.chan_closed && take_message(vm, e))
				return;
			child_died(e);
			return;
		}
		if (fds[2].revents) {
			e->kind = VCPU_EXIT_INTERRUPTED;
			return;
		}
	}
}

static void process_destroy(struct vm *vm)
{
	if (proc.pid > 0 && !proc.reaped) {
		syscall(SYS_pidfd_send_signal, proc.pidfd, SIGKILL, NULL, 0);
		reap();
	}
	vm->guest_cpu_s = proc.guest_cpu_s;
}

const struct backend process_backend = {
	.name = "process",
	.fast_notify = "the stub (eventfd)",
	.fast_kick_flags = LG_TR_F_STUB,
	.probe = process_probe,
	.create = process_create,
	.setup_boot = process_setup_boot,
	.enter = process_enter,
	.destroy = process_destroy,
};
