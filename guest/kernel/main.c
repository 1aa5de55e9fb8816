// SPDX-License-Identifier: GPL-2.0
/*
 * main.c: where the guest kernel starts in C.
 *
 * By now entry.S has loaded the IDT and made the vCPU run natively.  We
 * check the boot parameters, set up the page allocator, find our devices
 * and hand over to the shell; its exit status becomes the launcher's.
 */
#include "devices.h"
#include "hcall.h"
#include "kernel.h"
#include "trace.h"
#include "shell.h"

const struct lg_boot_params *boot;

/* entry.S reads these two fields before any C runs. */
_Static_assert(__builtin_offsetof(struct lg_boot_params, flags) == LG_BOOT_FLAGS_OFFSET,
	       "LG_BOOT_FLAGS_OFFSET");
_Static_assert(__builtin_offsetof(struct lg_boot_params, hcall_page) == LG_BOOT_HCALL_PAGE_OFFSET,
	       "LG_BOOT_HCALL_PAGE_OFFSET");

void kmain(const struct lg_boot_params *params)
{
	static const char bad_magic[] = "boot parameters have the wrong magic";
	const char *cmdline;

	if (params->magic != LG_BOOT_MAGIC)
		hcall_crash(bad_magic, sizeof(bad_magic) - 1);
	boot = params;
	page_alloc_init();
	trace_init();
	devices_init();

	cmdline = (const char *)(uintptr_t)boot->cmdline_gpa;
	machine_exit(shell_main(boot->cmdline_len ? cmdline : NULL,
				boot->flags & LG_BOOT_F_INTERACTIVE));
}
