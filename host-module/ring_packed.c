// SPDX-License-Identifier: GPL-2.0
/* The launcher's launcher/ring/packed_dev.c, built for the kernel (shim/README). */
#include "ring/packed_dev.c"
