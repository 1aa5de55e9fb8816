/* SPDX-License-Identifier: GPL-2.0 */
/* console.h: the console device model (stdin/stdout). */
#ifndef LAUNCHER_DEVICES_CONSOLE_H
#define LAUNCHER_DEVICES_CONSOLE_H

#include <stdbool.h>

/*
 * Add the console.  interactive: stdin is a terminal the guest shell talks
 * to, and ^A x typed there stops the VM.
 */
struct ring_opt;
void console_add(bool interactive, const struct ring_opt *ring);

/* Put the terminal in raw mode (restored at exit): keys go to the guest as typed. */
void console_setup_tty(void);

/* Put the terminal back as we found it (safe to call more than once). */
void console_restore_tty(void);

#endif /* LAUNCHER_DEVICES_CONSOLE_H */
