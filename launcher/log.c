// SPDX-License-Identifier: GPL-2.0
/* log.c: the launcher's messages (see log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

bool log_verbose;
const char *log_name = "lguest";

static void vprint(const char *fmt, va_list ap, const char *suffix)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write, so lines from different threads do not interleave. */
	fprintf(stderr, "%s: %s%s%s\n", log_name, line, suffix ? ": " : "", suffix ? suffix : "");
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void die_errno(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap, err);
	va_end(ap);
	exit(1);
}

void warnx_lg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap, NULL);
	va_end(ap);
}

void verbose(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vprint(fmt, ap, NULL);
	va_end(ap);
}
