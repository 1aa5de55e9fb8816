/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringbench_insns.h: instructions per buffer under callgrind, split into
 * the ring code's two sides and the harness's (see ringbench_insns.c).
 */
#ifndef TESTS_BENCH_RINGBENCH_INSNS_H
#define TESTS_BENCH_RINGBENCH_INSNS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The ring API's operations, which every layout has: the calls the harness
 * makes into the ring code, grouped by what they do (insns_op_of()).
 */
enum insns_op {
	OP_ADD,	    /* *_drv_add */
	OP_PUBLISH, /* *_drv_publish, with its NOTIFY decision */
	OP_POP,	    /* *_dev_pop*, the empty looks included */
	OP_PUSH,    /* *_dev_push */
	OP_SIGNAL,  /* *_dev_should_signal, d3_dev_signal_suppressed */
	OP_REAP,    /* *_drv_get_used, the empty looks included */
	OP_NOTIFY,  /* turning NOTIFYs and signals on and off, and the looks that go with it */
	OP_OTHER,   /* ring code not reached through one of the above */
	INSNS_NOPS
};

extern const char *const insns_op_name[INSNS_NOPS];

struct insns_figures {
	bool valid;
	uint64_t ops;	       /* buffers the counted run completed */
	double drv;	       /* guest/ring/: the driver side, per buffer */
	double dev;	       /* launcher/ring/ and its helpers: the device side */
	double harness;	       /* ringbench's own loops, dispatch and checks */
	double op[INSNS_NOPS]; /* drv + dev again, by operation (inclusive), per buffer */
};

/*
 * Run @self (this program) with @args (NULL-terminated: a --lockstep run
 * of @ops buffers on one layout) under callgrind and fill @f.  False, with
 * a line on stderr, if that could not be done (no valgrind, the run failed).
 */
bool insns_measure(const char *self, char *const args[], uint64_t ops, struct insns_figures *f);

#endif /* TESTS_BENCH_RINGBENCH_INSNS_H */
