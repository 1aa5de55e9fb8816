/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vringh_shim.h: what Linux 6.1's tools/virtio shims lack to compile
 * drivers/virtio/virtio_ring.c in userspace, force-included there by
 * tools/ringtest-build.sh (for tests/bench/vringh_lockstep.c).
 *
 * data_race(expr): in the kernel, "this racy access is intended" for KCSAN;
 * evaluating expr is all it does.
 */
#ifndef data_race
#define data_race(expr) (expr)
#endif
