// SPDX-License-Identifier: GPL-2.0
/*
 * no_io_uring.c: run a program where io_uring_setup(2) fails with ENOSYS,
 * as on a kernel built without io_uring, with kernel.io_uring_disabled,
 * or in a container whose seccomp profile refuses it (Docker's does).
 *
 *	no-io-uring PROGRAM [ARGS...]
 *
 * The e2e tests run the launcher under it to see the block device fall
 * back to its worker pool (tests/e2e/cases_engines.py).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;

	if (argc < 2) {
		fprintf(stderr, "usage: no-io-uring PROGRAM [ARGS...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) ||
	    seccomp_load(ctx)) {
		fprintf(stderr, "no-io-uring: cannot install the filter\n");
		return 1;
	}
	seccomp_release(ctx);
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
