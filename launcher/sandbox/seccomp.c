// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/seccomp.c: the launcher locks its own threads in.
 *
 * The guest is one bug in a ring parser away from running code in the
 * launcher, which holds the disk images, the taps, KVM and everything
 * else setup opened.  Once setup is over the launcher only ever does a
 * handful of things, each on its own thread, so each thread gets a
 * seccomp filter allowing just those (allowlist.c has the lists, each
 * call with its reason):
 *
 *   the main thread   the vCPU loop (KVM_RUN, or the process backend's
 *                     messages to its stub), the control plane of
 *                     external devices, then the shutdown
 *   a device thread   its model's I/O: preadv/pwritev/fdatasync on an
 *                     image, readv/writev on stdin/stdout or a tap, the
 *                     eventfds and socket of a device served elsewhere
 *   the trace thread  a millisecond's sleep and a lock
 *
 * Nothing opens, creates, executes, connects or forks after setup, so no
 * filter allows it.  Anything else is SECCOMP_RET_TRAP: the thread gets
 * SIGSYS and lguest stops with one line naming the thread and the call,
 * exit status 159 (violation.c).  A system call of another architecture
 * (int 0x80) kills the process outright; x32 numbers are just numbers no
 * list has.
 *
 * Filters are per thread and inherited: a thread created by a filtered
 * thread starts with its creator's filter, and a second filter stacks on
 * the first (both must allow a call).  So the order matters (main.c):
 *
 *   1. setup, privileges dropped (no thread of ours is running yet:
 *      capabilities are per thread too, and a thread started after the
 *      drop has none to keep);
 *   2. sandbox_prepare(): every role's filter compiled to BPF on the main
 *      thread, system call names resolved, the SIGSYS handler in place;
 *      libseccomp (and its malloc) is needed only here;
 *   3. the device and trace threads start unfiltered, from the unfiltered
 *      main thread, and each installs its own filter first thing, with
 *      one seccomp(2) call (sandbox_enter());
 *   4. the main thread installs its own last, just before the vCPU loop:
 *      it must cover the shutdown too, since a filter can only narrow.
 *
 * glibc's own needs are in every list: futex (every lock), mmap, munmap,
 * mprotect, brk, madvise and mremap (malloc, free, a thread's end),
 * rt_sigprocmask and exit (a thread's end), clock_gettime (the vDSO's
 * fallback), getpid, gettid and tgkill(SIGABRT) (abort(): a crash stays a
 * crash); and the kernel's restart_syscall, which resumes a sleeping
 * poll, futex or nanosleep after SIGSTOP and SIGCONT (^Z, a debugger).
 * Thread creation (clone3, set_robust_list, rseq) happens before any
 * filter, so no list has it.  Sanitizer builds add what their runtime
 * needs at exit and for a report (allowlist.c).
 *
 * Threads that are not ours: KVM's own worker in our process
 * (kvm-nx-lpage-recovery) inherits the vCPU thread's filter and never
 * leaves the kernel; the tests' stand-in for lguest_host.ko does its
 * "kernel" work on a thread it starts before any filter
 * (tests/fake_host_module/), as the module does its work in the kernel.
 *
 * --seccomp=off leaves every thread unfiltered, for debugging (strace
 * works either way).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "backend.h"
#include "device.h"
#include "log.h"
#include "options.h"
#include "sandbox/allowlist.h"
#include "sandbox/seccomp.h"
#include "sandbox/violation.h"
#include "trace.h"

static bool enabled;
static struct sock_fprog filters[SANDBOX_NR_ROLES];
static unsigned int nsyscalls[SANDBOX_NR_ROLES]; /* distinct calls each role allows, for -v */
static const char *violate;			 /* the test hook's thread, see below */

/* The rules of a role, all parts in one array. */
struct rules {
	const struct syscall_rule *r[256];
	unsigned int n;
};

static bool same_cmp(const struct arg_cmp *a, const struct arg_cmp *b)
{
	return a->arg == b->arg && a->mask == b->mask && a->value == b->value;
}

/* Does @s allow every call @r allows (the same call, its conditions a subset of @r's)? */
static bool covers(const struct syscall_rule *s, const struct syscall_rule *r)
{
	if (s->nr != r->nr)
		return false;
	for (unsigned int i = 0; i < s->ncmp; i++) {
		bool found = false;

		for (unsigned int j = 0; j < r->ncmp; j++)
			found |= same_cmp(&s->cmp[i], &r->cmp[j]);
		if (!found)
			return false;
	}
	return true;
}

/*
 * Rule @k says nothing the others do not: another covers it (of two
 * equal rules, the first stays).  The same call is in several lists
 * (write, futex ...), and libseccomp, handed a rule narrower than one it
 * has, keeps memory it never frees.
 */
static bool redundant(const struct rules *rs, unsigned int k)
{
	for (unsigned int j = 0; j < rs->n; j++)
		if (j != k && covers(rs->r[j], rs->r[k]) && (j < k || !covers(rs->r[k], rs->r[j])))
			return true;
	return false;
}

static void add_rule(scmp_filter_ctx ctx, const struct syscall_rule *r)
{
	struct scmp_arg_cmp cmp[2];
	int err;

	for (unsigned int i = 0; i < r->ncmp; i++)
		cmp[i] = SCMP_CMP(r->cmp[i].arg, SCMP_CMP_MASKED_EQ, r->cmp[i].mask,
				  r->cmp[i].value);
	err = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, r->nr, r->ncmp, cmp);
	if (err)
		die("seccomp: cannot allow system call %d (%s): %s", r->nr, r->why, strerror(-err));
}

/* libseccomp writes BPF to a file descriptor only: read it back into memory. */
static void export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("lguest-seccomp", MFD_CLOEXEC);
	off_t size;
	void *code;

	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || (size = lseek(fd, 0, SEEK_END)) <= 0)
		die("seccomp: cannot compile a filter");
	code = malloc(size);
	if (!code || pread(fd, code, size, 0) != size)
		die("seccomp: cannot read a compiled filter back");
	close(fd);
	prog->len = (unsigned short)(size / sizeof(struct sock_filter));
	prog->filter = code;
}

static void build(enum sandbox_role role, const struct sandbox_env *env)
{
	const struct allowlist *parts[ALLOWLIST_MAX_PARTS];
	unsigned int nparts = allowlist_parts(role, env, parts);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct rules rs = { .n = 0 };

	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS))
		die("seccomp: cannot start a filter");
	for (unsigned int p = 0; p < nparts; p++) {
		for (unsigned int i = 0; i < parts[p]->n; i++) {
			unsigned int seen = 0;

			if (rs.n == sizeof(rs.r) / sizeof(rs.r[0]))
				die("seccomp: too many rules");
			rs.r[rs.n] = &parts[p]->rules[i];
			for (unsigned int j = 0; j < rs.n; j++)
				seen += rs.r[j]->nr == rs.r[rs.n]->nr;
			nsyscalls[role] += !seen;
			rs.n++;
		}
	}
	for (unsigned int k = 0; k < rs.n; k++)
		if (!redundant(&rs, k))
			add_rule(ctx, rs.r[k]);
	export_bpf(ctx, &filters[role]);
	seccomp_release(ctx);
}

/* -v: what each thread may do, in one line. */
static void say_counts(void)
{
	char line[400];
	int n;

	n = snprintf(line, sizeof(line), "seccomp: on: vcpu %u system calls",
		     nsyscalls[SANDBOX_VCPU]);
	for (unsigned int i = 0; i < device_count() && n < (int)sizeof(line); i++) {
		struct device *dev = device_by_index(i);

		n += snprintf(line + n, sizeof(line) - n, ", %s %u", dev->name,
			      nsyscalls[dev->ops->sandbox]);
	}
	if (trace_on && n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, ", trace %u", nsyscalls[SANDBOX_TRACE]);
	verbose("%s (any other stops lguest)", line);
}

void sandbox_prepare(const struct options *o, const struct backend *b, bool interactive)
{
	struct sandbox_env env = { .kvm = b == &kvm_backend, .interactive = interactive };

	violate = getenv("LGUEST_TEST_SECCOMP_VIOLATE");
	if (!o->seccomp) {
		verbose("seccomp: off (--seccomp=off): no thread of the launcher is filtered");
		return;
	}
	/*
	 * One malloc arena for every thread: glibc shrinks a thread's own
	 * arena only after reading /proc/sys/vm/overcommit_memory once, an
	 * open() no filter allows; the main arena shrinks with brk().  Our
	 * threads hardly allocate after setup, so they lose nothing by it.
	 */
	mallopt(M_ARENA_MAX, 1);
	for (unsigned int i = 0; i < device_count(); i++) {
		struct device *dev = device_by_index(i);
		enum sandbox_role role = dev->ops->sandbox;

		if (role < SANDBOX_DEV_BLK || role >= SANDBOX_NR_ROLES)
			die("%s: its device model names no seccomp allowlist", dev->name);
		env.device_roles |= 1U << role;
	}
	build(SANDBOX_VCPU, &env);
	if (trace_on)
		build(SANDBOX_TRACE, &env);
	for (int role = SANDBOX_DEV_BLK; role < SANDBOX_NR_ROLES; role++)
		if (env.device_roles & (1U << role))
			build(role, &env);
	violation_arm();
	enabled = true;
	say_counts();
}

/*
 * LGUEST_TEST_SECCOMP_VIOLATE=NAME: for the tests only
 * (tests/e2e/cases_seccomp.py).  The thread NAME ("vcpu", "shutdown",
 * "trace" or a device's name), once locked in, opens /dev/null for
 * writing, which no role may do: with the filter, that is a violation's
 * line and exit status; with --seccomp=off, the file opens and is closed
 * again, and nothing else happens.
 */
static void test_hook(const char *name)
{
	long fd;

	if (!violate || strcmp(violate, name))
		return;
	fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		close((int)fd);
}

void sandbox_enter(enum sandbox_role role, const char *name)
{
	char who[64];

	if (role == SANDBOX_VCPU)
		snprintf(who, sizeof(who), "the vCPU thread");
	else if (role == SANDBOX_TRACE)
		snprintf(who, sizeof(who), "the trace drain thread");
	else
		snprintf(who, sizeof(who), "the %s device thread", name);
	if (enabled) {
		violation_label(who);
		/*
		 * Both per thread: no_new_privs is what lets an unprivileged
		 * thread filter itself.  FLAG_LOG: the kernel's log records a
		 * violation too (an audit line, type 1326), should stderr be lost.
		 */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG,
			    &filters[role]) < 0)
			die_errno("seccomp: cannot lock %s in", who);
	}
	test_hook(name);
}

void sandbox_shutdown(void)
{
	if (enabled)
		violation_label("the main thread at shutdown");
	test_hook("shutdown");
}
