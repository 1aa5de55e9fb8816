/* SPDX-License-Identifier: GPL-2.0 */
/* stats.h: the counters at exit, as a table (--stats, -v) or JSON (--stats-json). */
#ifndef LAUNCHER_STATS_H
#define LAUNCHER_STATS_H

#include <stdbool.h>
#include <stdio.h>

#include "timebase.h"
#include "vcpu.h"

struct run_stats {
	const struct vcpu_stats *vcpu;
	const char *backend; /* "kvm" or "process" */
	const struct timebase *guest_tsc;
	double wall_s;	   /* launcher start to exit */
	double vcpu_cpu_s; /* the guest's CPU time plus the exits': the vCPU thread's
			      (kvm), or the guest process's and this thread's (process) */
	int exit_status;
};

void stats_print(const struct run_stats *r);
/* Writes and closes @f (opened at setup, before any --chroot). */
bool stats_write_json(const struct run_stats *r, FILE *f);

#endif /* LAUNCHER_STATS_H */
