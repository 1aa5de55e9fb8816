// SPDX-License-Identifier: GPL-2.0
/*
 * printk.c: formatted output.  Until the console device is up, text goes
 * out through the CONSOLE hypercall (one exit per call, fine for a few boot
 * lines); afterwards through the console's draft-III out queue.
 */
#include "console.h"
#include "hcall.h"
#include "kernel.h"

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (console_ready())
		console_write(buf, n);
	else
		hcall_console(buf, n);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	console_flush_all();
	va_start(ap, fmt);
	n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	hcall_crash(buf, n);
}

void machine_exit(int status)
{
	/* The launcher stops at SHUTDOWN: everything printed must be out. */
	console_flush_all();
	hcall_shutdown((uint64_t)(uint32_t)status);
}
