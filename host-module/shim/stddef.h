/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stddef.h: see shim/README. */
#ifndef LGH_SHIM_STDDEF_H
#define LGH_SHIM_STDDEF_H

#include <linux/stddef.h>

#endif
