/* SPDX-License-Identifier: GPL-2.0 */
/* shim/sys/uio.h: see shim/README. */
#ifndef LGH_SHIM_SYS_UIO_H
#define LGH_SHIM_SYS_UIO_H

#include <linux/uio.h>

#endif
