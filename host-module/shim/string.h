/* SPDX-License-Identifier: GPL-2.0 */
/* shim/string.h: see shim/README. */
#ifndef LGH_SHIM_STRING_H
#define LGH_SHIM_STRING_H

#include <linux/string.h>

#endif
