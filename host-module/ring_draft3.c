// SPDX-License-Identifier: GPL-2.0
/* The launcher's launcher/ring/draft3_dev.c, built for the kernel (shim/README). */
#include "ring/draft3_dev.c"
