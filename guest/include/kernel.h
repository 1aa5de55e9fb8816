/* SPDX-License-Identifier: GPL-2.0 */
/* kernel.h: what every part of the guest kernel can use. */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lguest_abi.h"
#include "lib.h"

#define ARRAY_SIZE(a)	   (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE	   LG_PAGE_SIZE
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))

extern const struct lg_boot_params *boot;

/* Formatted output to the console (the console device once it is up). */
__attribute__((format(printf, 1, 2))) int printk(const char *fmt, ...);
int vprintk(const char *fmt, va_list ap);

/* Stop the machine with a message (CRASH hypercall). */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* Flush console output, then SHUTDOWN with the exit status. */
__attribute__((noreturn)) void machine_exit(int status);

/* Pages from [kernel end, ram_top): contiguous runs, page aligned, zeroed. */
void page_alloc_init(void);
void *alloc_pages(size_t npages);
void free_pages(void *p, size_t npages);
size_t free_page_count(void);

/* Guest-physical address of a kernel pointer: we are identity mapped. */
static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Time: rdtsc ticks and conversions using the launcher's TSC rate. */
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);

/*
 * Wait until a device signals (or timeout_us passes; 0 = no timeout).
 * Returns the pending-device bitmap taken from the shared page.
 */
uint64_t wait_for_signal(uint64_t timeout_us);
/* The page the launcher shares with us (pending signals, counters). */
volatile struct lg_shared *shared(void);

/* Take pending bits without sleeping. */
uint64_t take_signals(void);

#endif /* GUEST_KERNEL_H */
