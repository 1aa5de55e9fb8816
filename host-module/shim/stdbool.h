/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stdbool.h: see shim/README. */
#ifndef LGH_SHIM_STDBOOL_H
#define LGH_SHIM_STDBOOL_H

#include <linux/types.h>

#endif
