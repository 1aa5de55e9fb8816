/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stdlib.h: see shim/README. */
#ifndef LGH_SHIM_STDLIB_H
#define LGH_SHIM_STDLIB_H

#include <linux/slab.h>

/* The ring code allocates its per-queue arrays once, at setup, in process context. */
#define calloc(n, size) kvcalloc(n, size, GFP_KERNEL_ACCOUNT)
#define free(p)		kvfree(p)

#endif
