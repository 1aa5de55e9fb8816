// SPDX-License-Identifier: GPL-2.0
/*
 * main.c: lguest, a launcher for a paravirtual guest, on KVM or as a
 * sandboxed host process (backend.h).
 *
 * The order matters.  Everything the user handed us (options, kernel,
 * disk images) is checked before the backend is touched, so a mistake
 * costs one line on stderr and no half-started VM.  Then the CPU and the
 * devices; then we drop the privileges we no longer need; then the device
 * threads start, each locking itself in with its seccomp filter, and the
 * vCPU runs on this thread, under its own, until the guest shuts down, and
 * its exit status becomes ours.
 */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "device.h"
#include "devices/blk.h"
#include "devices/console.h"
#include "devices/net.h"
#include "install_paths.h"
#include "lguest_abi.h"
#include "loader.h"
#include "lg_trace.h"
#include "log.h"
#include "options.h"
#include "sandbox/seccomp.h"
#include "stats.h"
#include "trace.h"
#include "vcpu.h"
#include "vm.h"

static void on_signal(int sig)
{
	/* The backend's wait on this thread returns (EINTR); the loop then sees the request. */
	request_stop(128 + sig);
}

static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static struct lg_boot_params *write_boot_params(struct vm *vm, const struct options *o,
						bool interactive, uint64_t trace_gpa)
{
	struct lg_boot_params *bp = guest_ptr(&vm->mem, LG_BOOT_PARAMS_GPA, LG_PAGE_SIZE);
	char *cmdline = (char *)(bp + 1);

	*bp = (struct lg_boot_params){
		.magic = LG_BOOT_MAGIC,
		.mem_size = vm->mem.size,
		.ram_top = devices_ram_top(),
		.tsc_khz = vm->tsc_khz,
		.devices_gpa = LG_DEVICE_TABLE_GPA,
		.num_devices = device_count(),
		.flags = interactive ? LG_BOOT_F_INTERACTIVE : 0,
		.shared_gpa = LG_SHARED_GPA,
		.cmdline_gpa = LG_BOOT_PARAMS_GPA + sizeof(*bp),
		.trace_gpa = trace_gpa,
	};
	if (o->guest_cmd) {
		/* options.c already refused command lines longer than LG_CMDLINE_MAX. */
		bp->cmdline_len = strlen(o->guest_cmd);
		memcpy(cmdline, o->guest_cmd, bp->cmdline_len + 1);
	}
	return bp;
}

/*
 * --user: looked up before anything starts (and before a chroot hides
 * /etc/passwd); the process backend's child takes the same identity.
 */
static void lookup_user(struct options *o)
{
	struct passwd *pw;

	if (!o->user)
		return;
	pw = getpwnam(o->user);
	if (!pw)
		die("--user=%s: no such user", o->user);
	o->run_as = (struct run_as){ true, pw->pw_uid, pw->pw_gid };
}

/*
 * After setup we need no capability at all: /dev/kvm, the images and
 * every other file are open, and the process backend's child is running.
 * (Running as an ordinary user, there is nothing to drop.)
 */
static void drop_privileges(const struct options *o)
{
	const struct run_as *as = &o->run_as;

	if (o->chroot_dir) {
		if (chroot(o->chroot_dir) < 0 || chdir("/") < 0)
			die_errno("--chroot=%s", o->chroot_dir);
		verbose("changed root to %s", o->chroot_dir);
	}
	if (as->set) {
		/*
		 * Supplementary groups, then gid, then uid: all of them, or we
		 * would keep some of root's.  Changing from uid 0 to another
		 * also empties the capability sets (no PR_SET_KEEPCAPS).
		 */
		if (setgroups(0, NULL) < 0 || setgid(as->gid) < 0 || setuid(as->uid) < 0)
			die_errno("--user=%s: cannot change to uid %u", o->user, (unsigned)as->uid);
		verbose("running as %s (uid %u)", o->user, (unsigned)as->uid);
	}
	if (geteuid() != 0 && !capng_have_capabilities(CAPNG_SELECT_CAPS))
		return;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOTH) < 0)
		die("cannot drop capabilities");
	verbose("dropped all capabilities");
}

/*
 * No KERNEL on the command line: the one installed with this lguest
 * (install_paths.h), so that `lguest --block=disk.img -- 'ls /'` works
 * from any directory.
 */
static const char *default_kernel(void)
{
	static char path[PATH_MAX];
	char looked[4 * PATH_MAX];

	if (install_find(INSTALL_KERNEL_NAME, path, sizeof(path)))
		return path;
	install_describe(looked, sizeof(looked));
	die("no guest kernel given and none installed (looked for " INSTALL_KERNEL_NAME " in %s)",
	    looked);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	static struct options opts; /* lives as long as the process (paths, command) */
	struct vm vm = { 0 };
	struct kernel_image kernel;
	struct vcpu_stats vstats = { 0 };
	struct timespec start, cpu;
	struct run_stats run;
	uint64_t trace_gpa;
	FILE *stats_json = NULL;
	char err[512];
	bool interactive;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &start);
	parse_options(argc, argv, &opts);
	if (!opts.kernel)
		opts.kernel = default_kernel();
	lookup_user(&opts);
	/* Output files are opened now, so a --chroot later does not move them. */
	if (opts.stats_json && !(stats_json = fopen(opts.stats_json, "w")))
		die_errno("--stats-json=%s", opts.stats_json);
	log_verbose = opts.verbose;
	interactive = !opts.guest_cmd && isatty(STDIN_FILENO);

	/* Guest RAM, the device table and the kernel: all before the backend exists. */
	guest_mem_create(&vm.mem, opts.mem_size);
	devices_init(&vm.mem, vm.mem.size);
	console_add(interactive, &opts.console_ring);
	for (int i = 0; i < opts.nblocks; i++) {
		const struct block_opt *b = &opts.blocks[i];

		if (b->vhost_user)
			vhost_blk_add(b->path, &b->ring);
		else if (b->in_kernel)
			kernel_blk_add(b->path, b->read_only, &b->ring, b->arg);
		else
			blk_add(b->path, b->read_only, &b->ring,
				&(struct blk_settings){
					.aio = b->aio,
					.queues = b->queues,
					.poll_us = b->poll_us >= 0 ? (unsigned int)b->poll_us
								   : opts.poll_us });
	}
	for (int i = 0; i < opts.nnets; i++)
		net_add(&opts.nets[i]);
	trace_gpa = trace_setup(&(struct trace_opts){ opts.trace_filter, opts.trace,
						      opts.trace_file, opts.trace_buffer },
				&vm.mem);
	if (!load_kernel(opts.kernel, &vm.mem, devices_ram_top(), &kernel, err, sizeof(err)))
		die("kernel %s", err);
	verbose("kernel %s: %#lx-%#lx, entry %#lx", opts.kernel, (unsigned long)kernel.load_start,
		(unsigned long)kernel.load_end, (unsigned long)kernel.entry);

	vm.backend = backend_choose(&opts);
	vm.backend->create(&vm, &opts, kernel.entry);
	install_signal_handlers();
	vm.backend->setup_boot(&vm, write_boot_params(&vm, &opts, interactive, trace_gpa));
	/* Before any thread starts, so that every thread runs without privileges. */
	drop_privileges(&opts);
	sandbox_prepare(&opts, vm.backend, interactive);
	devices_start(opts.ioeventfd ? vm.backend->fast_kick_flags : LG_TR_F_EXIT);
	trace_start(&vm.guest_tsc);
	/* Last, once nothing can fail with a one-line error: a raw terminal. */
	if (interactive)
		console_setup_tty();
	verbose("%lu MiB RAM, %u devices, TSC %lu kHz, NOTIFY by %s",
		(unsigned long)(vm.mem.size >> 20), device_count(), (unsigned long)vm.tsc_khz,
		opts.ioeventfd ? vm.backend->fast_notify : "exit");

	sandbox_enter(SANDBOX_VCPU, "vcpu");
	status = vcpu_run(&vm, &vstats);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	sandbox_shutdown();

	request_stop(status);
	vm.backend->destroy(&vm);
	devices_stop();
	console_restore_tty();
	trace_finish();
	run = (struct run_stats){ &vstats,
				  vm.backend->name,
				  &vm.guest_tsc,
				  seconds_since(&start),
				  (double)cpu.tv_sec + cpu.tv_nsec / 1e9 + vm.guest_cpu_s,
				  status };
	if (opts.verbose || opts.stats)
		stats_print(&run);
	if (stats_json && !stats_write_json(&run, stats_json))
		warnx_lg("cannot write %s: %s", opts.stats_json, strerror(errno));
	return status;
}
