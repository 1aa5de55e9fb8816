/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sandbox/violation.h: what happens when a thread makes a system call its
 * filter forbids (violation.c).
 */
#ifndef LAUNCHER_SANDBOX_VIOLATION_H
#define LAUNCHER_SANDBOX_VIOLATION_H

/*
 * Resolve every system call's name now, while we may still allocate, and
 * install the SIGSYS handler that reports a violation and stops lguest.
 */
void violation_arm(void);

/* Who the calling thread is, in the message: "the blk0 device thread". */
void violation_label(const char *who);

#endif /* LAUNCHER_SANDBOX_VIOLATION_H */
