/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stdarg.h: see shim/README. */
#ifndef LGH_SHIM_STDARG_H
#define LGH_SHIM_STDARG_H

#include <linux/stdarg.h>

#endif
