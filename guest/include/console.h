/* SPDX-License-Identifier: GPL-2.0 */
/*
 * console.h: the console device.  Output goes on its out queue, one page
 * per buffer, published on newline or when a page fills; input arrives in
 * buffers posted on its in queue, which the launcher fills from stdin.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

void console_init(unsigned int index);
bool console_ready(void);
void console_write(const char *buf, size_t len);
/* Publish buffered output. */
void console_flush(void);
/* Publish and wait until the launcher has written all of it. */
void console_flush_all(void);
/* Next input byte, waiting for it; -1 at end of input (stdin closed). */
int console_getc(void);

#endif /* GUEST_CONSOLE_H */
