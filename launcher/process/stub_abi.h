/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stub_abi.h: how the launcher and the process backend's stub talk.
 *
 * The stub (launcher/process/stub/) is the only program besides guest RAM
 * in the sandboxed child.  The launcher forks and execs it with exactly
 * these file descriptors open:
 *
 *   STUB_FD_CHANNEL      one end of a SOCK_SEQPACKET socketpair: messages
 *                        both ways, one struct per packet
 *   STUB_FD_MEMFD        guest RAM (the stub maps it, then closes it)
 *   STUB_FD_NOTIFY0 + i  device i's notify eventfd (NOTIFY fast path only)
 *
 * Conversation:
 *
 *   launcher -> stub   struct stub_config (the first packet)
 *   stub -> launcher   STUB_MSG_READY, args[0] = the hypercall page's
 *                      address; the stub now runs under its seccomp filter
 *                      and waits
 *   launcher -> stub   struct stub_reply (go): the stub enters the guest
 *   stub -> launcher   STUB_MSG_HCALL for every hypercall the launcher
 *                      answers; the stub waits for a struct stub_reply
 *                      before returning to the guest (SHUTDOWN and CRASH
 *                      are never answered: the launcher ends the child)
 *   stub -> launcher   STUB_MSG_FAULT: the guest took an exception (or
 *                      tried a host system call); the stub then exits 125
 *   stub -> launcher   STUB_MSG_SETUP_FAILED: a setup step failed; the stub
 *                      then exits STUB_EXIT_SETUP
 *
 * Everything the stub sends is guest-controlled as far as the launcher is
 * concerned: the guest can run any code in the stub with any registers.
 */
#ifndef LAUNCHER_PROCESS_STUB_ABI_H
#define LAUNCHER_PROCESS_STUB_ABI_H

#include <stdint.h>

#include "lguest_abi.h"

/* Where the stub is linked: far above any guest RAM (at most 64 GiB). */
#define STUB_LOAD_ADDR 0x7e0000000000UL

#define STUB_FD_CHANNEL 3
#define STUB_FD_MEMFD	4
#define STUB_FD_NOTIFY0 5

#define STUB_CONFIG_MAGIC 0x6c67737475620001ULL /* "lgstub" + version 1 */

/* The NOTIFY fast path: the stub writes the device's eventfd itself. */
#define STUB_F_NOTIFY_DIRECT 1

struct stub_config {
	uint64_t magic;
	uint64_t ram_start;	       /* first guest-physical address to map (LG_LOW_LIMIT) */
	uint64_t ram_end;	       /* guest RAM size: map [ram_start, ram_end) at VA = GPA */
	uint64_t entry;		       /* the guest kernel's entry point */
	uint64_t boot_params;	       /* %rdi at entry */
	uint64_t stack_top;	       /* %rsp at entry (the guest sets its own at once) */
	uint64_t shared_gpa;	       /* struct lg_shared: the WAIT futex lives here */
	uint32_t flags;		       /* STUB_F_* */
	uint32_t num_devices;	       /* notify fds STUB_FD_NOTIFY0 .. + num_devices - 1 */
	uint32_t keys[LG_MAX_DEVICES]; /* device i's NOTIFY key */
};

enum stub_msg_type {
	STUB_MSG_READY = 1,
	STUB_MSG_HCALL,
	STUB_MSG_FAULT,
	STUB_MSG_SETUP_FAILED,
};

/* Setup steps, for STUB_MSG_SETUP_FAILED (nr). */
enum stub_setup_step {
	STUB_SETUP_CONFIG = 1, /* reading or checking struct stub_config */
	STUB_SETUP_MAP_RAM,    /* mapping guest RAM at VA = GPA */
	STUB_SETUP_UNMAP,      /* removing the rest of the address space */
	STUB_SETUP_SIGNALS,    /* sigaltstack, sigaction */
	STUB_SETUP_CAPS,       /* dropping capabilities */
	STUB_SETUP_PROTECT,    /* making the config read-only */
	STUB_SETUP_SECCOMP,    /* installing the filter */
	/* The launcher's child, between fork and exec (launcher/process/process.c): */
	STUB_SETUP_FDS,	     /* putting its file descriptors in place */
	STUB_SETUP_IDENTITY, /* taking --user's identity */
	STUB_SETUP_LIMITS,   /* resource limits, NO_NEW_PRIVS, PDEATHSIG */
	STUB_SETUP_EXEC,     /* executing the stub */
};

struct stub_msg {
	uint32_t type;	  /* enum stub_msg_type */
	uint32_t nr;	  /* HCALL: LG_HC_*; SETUP_FAILED: enum stub_setup_step */
	uint64_t args[2]; /* HCALL: %rdi, %rsi; READY: hypercall page; SETUP_FAILED: errno */
	/* FAULT only: what the signal said. */
	int32_t signo;	    /* SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS */
	int32_t code;	    /* si_code */
	uint64_t addr;	    /* si_addr (SIGSYS: si_call_addr) */
	uint64_t trapno;    /* uc_mcontext REG_TRAPNO */
	uint64_t err;	    /* uc_mcontext REG_ERR: page fault error code */
	uint64_t rip, rsp;  /* where the guest was */
	int64_t syscall_nr; /* SIGSYS: the system call attempted */
};

/* The launcher's answer to READY (go) and to an answered HCALL. */
struct stub_reply {
	uint64_t value;
};

/* Exit statuses of the stub itself. */
#define STUB_EXIT_FAULT 125 /* after a STUB_MSG_FAULT */
#define STUB_EXIT_SETUP 124 /* after a STUB_MSG_SETUP_FAILED */
#define STUB_EXIT_LOST	123 /* the launcher went away or broke the protocol */

#endif /* LAUNCHER_PROCESS_STUB_ABI_H */
