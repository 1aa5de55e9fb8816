// SPDX-License-Identifier: GPL-2.0
/* The launcher's guest_mem.c (guest_ptr, guest_iov), built for the kernel (shim/README). */
#include "guest_mem.c"
