// SPDX-License-Identifier: GPL-2.0
/* The launcher's launcher/ring/queue.c, built for the kernel (shim/README). */
#include "ring/queue.c"
