/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stdint.h: see shim/README. */
#ifndef LGH_SHIM_STDINT_H
#define LGH_SHIM_STDINT_H

#include <linux/types.h>
#include <linux/limits.h>

#define UINT8_MAX  U8_MAX
#define UINT16_MAX U16_MAX
#define UINT32_MAX U32_MAX
#define UINT64_MAX U64_MAX

#endif
