/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stdio.h: see shim/README. */
#ifndef LGH_SHIM_STDIO_H
#define LGH_SHIM_STDIO_H

#include <linux/kernel.h>

#endif
