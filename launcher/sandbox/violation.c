// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/violation.c: a thread made a system call its filter forbids.
 *
 * The filters' default action is SECCOMP_RET_TRAP: the kernel does not
 * run the call and sends the thread SIGSYS, with the call's number in
 * si_syscall.  We answer with one line and the end of lguest:
 *
 *   lguest: seccomp: the blk0 device thread made a forbidden system call: openat (257); stopping
 *
 * then put the terminal back if we had put it in raw mode, and
 * exit_group(EXIT_SECCOMP): every thread goes, and the process backend's
 * child with us (PR_SET_PDEATHSIG).  Not a crash of the guest: a bug, or
 * an attack, in the launcher.
 *
 * A signal handler may only do async-signal-safe things, and the thread
 * is under its filter: no malloc, no stdio.  So the line is assembled in
 * a buffer on the stack from strings made beforehand (the thread's label
 * in thread-local storage, every system call's name in a table filled in
 * by violation_arm()) and goes out in one write(2), which every filter
 * allows, as it allows exit_group.  Should the handler itself break the
 * filter, SIGSYS is blocked while it runs, so the kernel falls back to
 * the default action: the process dies of SIGSYS.
 */
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "devices/console.h"
#include "log.h"
#include "sandbox/seccomp.h"
#include "sandbox/violation.h"

#define NAMED_SYSCALLS 512 /* x86-64 numbers are below 470 (Linux 6.18) */
#define NAME_MAX_LEN   32

static char names[NAMED_SYSCALLS][NAME_MAX_LEN];
static __thread char label[64];

static size_t append(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at < size)
		buf[at++] = *s++;
	return at;
}

static size_t append_number(char *buf, size_t at, size_t size, long n)
{
	char digits[24];
	int i = sizeof(digits);

	digits[--i] = '\0';
	if (n < 0) {
		at = append(buf, at, size, "-");
		n = -n;
	}
	do
		digits[--i] = (char)('0' + n % 10);
	while ((n /= 10) && i > 0);
	return append(buf, at, size, digits + i);
}

static void on_sigsys(int sig, siginfo_t *si, void *context)
{
	static int reported;
	char line[256];
	int nr = si->si_syscall;
	size_t n = 0;

	(void)sig;
	(void)context;
	/*
	 * One line, whoever comes first: threads doing the same job (a
	 * disk's I/O workers) may break the same rule at once.  The others
	 * sleep here (futex, which every filter allows) until the first
	 * one's exit_group ends them all; exiting themselves could cut its
	 * line short.
	 */
	if (__atomic_exchange_n(&reported, 1, __ATOMIC_SEQ_CST))
		for (;;)
			syscall(SYS_futex, &reported, FUTEX_WAIT, 1, NULL, NULL, 0);
	n = append(line, n, sizeof(line), log_name);
	n = append(line, n, sizeof(line), ": seccomp: ");
	n = append(line, n, sizeof(line), label[0] ? label : "a thread");
	n = append(line, n, sizeof(line), " made a forbidden system call: ");
	if (nr >= 0 && nr < NAMED_SYSCALLS && names[nr][0]) {
		n = append(line, n, sizeof(line), names[nr]);
		n = append(line, n, sizeof(line), " (");
		n = append_number(line, n, sizeof(line), nr);
		n = append(line, n, sizeof(line), ")");
	} else {
		n = append(line, n, sizeof(line), "number ");
		n = append_number(line, n, sizeof(line), nr);
	}
	n = append(line, n, sizeof(line) - 1, "; stopping");
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nothing left to tell it with. */
	}
	/* tcsetattr() is async-signal-safe, and the filters allow it on a terminal. */
	console_restore_tty();
	syscall(SYS_exit_group, EXIT_SECCOMP);
}

void violation_arm(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	for (int nr = 0; nr < NAMED_SYSCALLS; nr++) {
		/* libseccomp's own table, so the names are the ones its filters use. */
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name && strlen(name) < NAME_MAX_LEN)
			strcpy(names[nr], name);
		free(name);
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		die_errno("seccomp: SIGSYS handler");
}

void violation_label(const char *who)
{
	strncpy(label, who, sizeof(label) - 1);
}
