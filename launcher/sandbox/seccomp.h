/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sandbox/seccomp.h: the launcher's own seccomp filters, one per thread
 * role, installed once setup is over (seccomp.c has the design,
 * allowlist.c every role's list).
 *
 * The order, from main.c: drop privileges, sandbox_prepare() (build every
 * filter, with every file already open), start the device and trace
 * threads, each of which calls sandbox_enter() first thing, then the main
 * thread's own sandbox_enter() just before the vCPU loop, and
 * sandbox_shutdown() when the loop is over.
 */
#ifndef LAUNCHER_SANDBOX_SECCOMP_H
#define LAUNCHER_SANDBOX_SECCOMP_H

#include <stdbool.h>

/* lguest's exit status when a thread breaks its filter: 128 + SIGSYS, as a shell would say. */
#define EXIT_SECCOMP 159

/* What a thread does, and so which list of system calls it may make. */
enum sandbox_role {
	SANDBOX_UNSET,		/* a device model that names none: a setup error */
	SANDBOX_VCPU,		/* the main thread: the vCPU loop, then the shutdown */
	SANDBOX_TRACE,		/* the trace drain thread */
	SANDBOX_DEV_BLK,	/* a disk image the launcher serves (devices/blk.c) */
	SANDBOX_DEV_CONSOLE,	/* stdin and stdout (devices/console.c) */
	SANDBOX_DEV_NET,	/* a tap (devices/net.c) */
	SANDBOX_DEV_VHOST_USER, /* a disk a vhost-user backend serves (devices/vhost_blk.c) */
	SANDBOX_DEV_KERNEL,	/* a disk the host kernel serves (devices/vhost_blk.c) */
	SANDBOX_NR_ROLES
};

struct options;
struct backend;

/*
 * Build the filter of every role this run has (the backend's vCPU loop,
 * each kind of device present, the trace thread if tracing), say with -v
 * what each allows, and install the SIGSYS handler that reports a
 * violation.  After setup, before any thread that will be filtered starts.
 * With --seccomp=off only the test hook (seccomp.c) is armed.
 */
void sandbox_prepare(const struct options *o, const struct backend *b, bool interactive);

/*
 * Lock the calling thread in: from here on it may make only @role's
 * system calls.  @name says which thread it is in a violation's message
 * and to the test hook ("vcpu", "trace", a device's name).
 */
void sandbox_enter(enum sandbox_role role, const char *name);

/* The main thread's vCPU loop is over: a violation from here on says "at shutdown". */
void sandbox_shutdown(void);

#endif /* LAUNCHER_SANDBOX_SECCOMP_H */
