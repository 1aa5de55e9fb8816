/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringbench_insns.h: instructions per buffer under callgrind, split into
 * the ring code's two sides and the harness's (see ringbench_insns.c).
 */
#ifndef TESTS_BENCH_RINGBENCH_INSNS_H
#define TESTS_BENCH_RINGBENCH_INSNS_H

#include <stdbool.h>
#include <stdint.h>

struct insns_figures {
	bool valid;
	uint64_t ops;	/* buffers the counted run completed */
	double drv;	/* guest/ring/: the driver side, per buffer */
	double dev;	/* launcher/ring/ and its helpers: the device side */
	double harness; /* ringbench's own loops, dispatch and checks */
};

/*
 * Run @self (this program) with @args (NULL-terminated: a --lockstep run
 * of @ops buffers on one layout) under callgrind and fill @f.  False, with
 * a line on stderr, if that could not be done (no valgrind, the run failed).
 */
bool insns_measure(const char *self, char *const args[], uint64_t ops, struct insns_figures *f);

#endif /* TESTS_BENCH_RINGBENCH_INSNS_H */
