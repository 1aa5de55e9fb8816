// SPDX-License-Identifier: GPL-2.0
/*
 * quiet_log.c: log.h for harnesses whose code under test speaks on every
 * input (vhost-blk's session ends with a line each time).  Printing that
 * would bury libFuzzer's own output and slow it down, so lines are only
 * checked, not printed: each must be one non-empty line.  die() after
 * setup means the input made the program exit: a finding.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "log.h"

bool log_verbose;
const char *log_name = "fuzz";

static void check_line(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	FUZZ_CHECK(line[0] && !strchr(line, '\n'), "a log line that is not one line: \"%s\"", line);
}

void die(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fuzz_fail("die(\"%s\")", line);
}

void die_errno(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fuzz_fail("die_errno(\"%s\")", line);
}

void warnx_lg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_line(fmt, ap);
	va_end(ap);
}

void verbose(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_line(fmt, ap);
	va_end(ap);
}
