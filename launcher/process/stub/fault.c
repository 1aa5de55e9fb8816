// SPDX-License-Identifier: GPL-2.0
/*
 * fault.c: the guest's exceptions, which arrive as host signals.
 *
 * The guest has no IDT here: a page fault, a privileged instruction (#GP),
 * a divide error, ud2 or int3 in guest code becomes a signal to this
 * process, and a system call from outside the stub becomes SIGSYS through
 * the seccomp filter's SECCOMP_RET_TRAP.  The handler tells the launcher
 * what the kernel saved (signal, si_code, address, trap number, error
 * code, rip, rsp) and exits: a guest kernel that faulted is dead, and
 * returning would only fault again.
 *
 * The handler runs on an alternate stack of ours, with every signal
 * masked, so a second fault inside it (the guest can scribble over our
 * bss, alternate stack included) is not caught again: the kernel kills us
 * with that signal, which the launcher sees in the wait status.
 */
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/siginfo.h>
#include <asm/ucontext.h>
#include <asm/unistd.h>

#include "stub.h"

/* rt_sigaction's struct on x86-64 (not libc's, which differs). */
struct kernel_sigaction {
	void (*handler)(int sig, siginfo_t *si, void *ctx);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/* The kernel's SIG_IGN, as a value of our handler's type. */
#define KERNEL_SIG_IGN ((void (*)(int, siginfo_t *, void *))1)

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };

static char altstack[64 * 1024] __attribute__((aligned(16)));

static __attribute__((noreturn)) void on_fault(int sig, siginfo_t *si, void *ctx)
{
	const struct sigcontext *sc = &((struct ucontext *)ctx)->uc_mcontext;
	struct stub_msg m;

	memset(&m, 0, sizeof(m));
	m.type = STUB_MSG_FAULT;
	m.signo = sig;
	m.code = si->si_code;
	if (sig == SIGSYS) {
		m.addr = (uint64_t)si->si_call_addr;
		m.syscall_nr = si->si_syscall;
	} else {
		m.addr = (uint64_t)si->si_addr;
	}
	m.trapno = sc->trapno;
	m.err = sc->err;
	m.rip = sc->rip;
	m.rsp = sc->rsp;
	stub_send(&m);
	stub_exit(STUB_EXIT_FAULT);
}

static long set_action(int sig, void (*handler)(int, siginfo_t *, void *))
{
	struct kernel_sigaction sa = {
		.handler = handler,
		/* SA_ONSTACK: the guest's %rsp may point anywhere. */
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = stub_restorer,
		.mask = ~0ULL, /* no second signal inside the handler */
	};

	return sys4(__NR_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask));
}

/*
 * Also unblocks the fault signals: the mask survives exec, and a fault
 * signal that is blocked when the CPU raises it kills the process without
 * running the handler, so the launcher would get no report.  SIGPIPE is
 * ignored so that a write to a launcher that has gone away fails with
 * EPIPE, which we handle (STUB_EXIT_LOST), instead of killing us.
 */
void stub_install_signals(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_flags = 0, .ss_size = sizeof(altstack) };
	uint64_t unblock = 0;
	long err;

	err = sys2(__NR_sigaltstack, &ss, NULL);
	for (size_t i = 0; !err && i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++) {
		err = set_action(fault_signals[i], on_fault);
		unblock |= 1ULL << (fault_signals[i] - 1);
	}
	if (!err)
		err = set_action(SIGPIPE, KERNEL_SIG_IGN);
	if (!err)
		err = sys4(__NR_rt_sigprocmask, SIG_UNBLOCK, &unblock, NULL, sizeof(unblock));
	if (err)
		stub_setup_failed(STUB_SETUP_SIGNALS, -err);
}
