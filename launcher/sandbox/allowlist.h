/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sandbox/allowlist.h: what a role's filter is made of (allowlist.c has
 * the lists, seccomp.c turns them into BPF).
 */
#ifndef LAUNCHER_SANDBOX_ALLOWLIST_H
#define LAUNCHER_SANDBOX_ALLOWLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/seccomp.h"

/* One condition on an argument: (args[arg] & mask) == value. */
struct arg_cmp {
	unsigned int arg;
	uint64_t mask, value;
};

/* A system call a role may make, if every condition holds, and why it needs it. */
struct syscall_rule {
	int nr;
	unsigned int ncmp;
	struct arg_cmp cmp[2];
	const char *why;
};

struct allowlist {
	const char *name; /* what the part is for, for a reader of the code */
	const struct syscall_rule *rules;
	unsigned int n;
};

/* What a filter depends on besides its role. */
struct sandbox_env {
	bool kvm;		   /* the KVM backend, else the process backend */
	bool interactive;	   /* stdin is a terminal we put in raw mode */
	unsigned int device_roles; /* 1 << SANDBOX_DEV_* for each kind of device present */
};

#define ALLOWLIST_MAX_PARTS 16

/* The parts @role's filter is the union of, into @parts; how many. */
unsigned int allowlist_parts(enum sandbox_role role, const struct sandbox_env *env,
			     const struct allowlist **parts);

#endif /* LAUNCHER_SANDBOX_ALLOWLIST_H */
