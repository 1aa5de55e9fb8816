/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h: how the launcher speaks.
 *
 * Setup errors go through die(): one line on stderr, "lguest: ...", exit
 * status 1, before any guest code has run.  A guest breaking a rule is not
 * a setup error: the device says so once (device_fail() in device.h) and
 * the launcher carries on.
 */
#ifndef LAUNCHER_LOG_H
#define LAUNCHER_LOG_H

#include <stdbool.h>

extern bool log_verbose;
/* The first word of every line: "lguest", or another program that shares this code. */
extern const char *log_name;

/* Print "lguest: <message>\n" to stderr and exit(1). */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);

/* Like die() but appends ": strerror(errno)". */
__attribute__((noreturn, format(printf, 1, 2))) void die_errno(const char *fmt, ...);

/* "lguest: <message>\n" on stderr, and carry on. */
__attribute__((format(printf, 1, 2))) void warnx_lg(const char *fmt, ...);

/* Only with --verbose. */
__attribute__((format(printf, 1, 2))) void verbose(const char *fmt, ...);

#endif /* LAUNCHER_LOG_H */
