// SPDX-License-Identifier: GPL-2.0
/* The launcher's launcher/ring/split_dev.c, built for the kernel (shim/README). */
#include "ring/split_dev.c"
