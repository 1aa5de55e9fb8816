// SPDX-License-Identifier: GPL-2.0
/*
 * test_options.c: unit tests for launcher/options.c's block devices: where
 * each one runs (--block's device=launcher|kernel, --vhost-user-blk), with
 * its ring settings, and the one line a bad one dies with.
 *
 * parse_options() dies (exit 1) on bad input, so those cases run in a
 * child whose stderr comes back through a pipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lguest_abi.h"
#include "options.h"

#define ARGV(...)  ((char *[]){ "lguest", __VA_ARGS__, NULL })
#define ARGC(argv) ((int)(sizeof(argv) / sizeof((argv)[0])) - 1)

/*
 * What parse_options() allocates lives as long as the process, as in the
 * launcher: keep each result where LeakSanitizer can see it.
 */
static struct options results[16];
static unsigned int nresults;

static struct options parse(int argc, char **argv)
{
	struct options *o = &results[nresults++ % 16];

	parse_options(argc, argv, o);
	return *o;
}

#define PARSE(...) parse(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__))

/* Parse in a child; its exit status, and its stderr in @err. */
static int parse_in_child(int argc, char **argv, char *err, size_t size)
{
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct options o;

		dup2(fds[1], STDERR_FILENO);
		parse_options(argc, argv, &o);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], err + got, size - 1 - got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ARGV must die with exactly the line @want. */
#define DIES(want, ...)                                                                    \
	do {                                                                               \
		char err_[512];                                                            \
		int rc_ = parse_in_child(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__), err_, \
					 sizeof(err_));                                    \
		assert_int_equal(rc_, 1);                                                  \
		assert_string_equal(err_, want);                                           \
	} while (0)

static void block_in_the_launcher_by_default(void **state)
{
	struct options o = PARSE("--block=a.img", "guest.elf");

	(void)state;
	assert_int_equal(o.nblocks, 1);
	assert_string_equal(o.blocks[0].path, "a.img");
	assert_string_equal(o.blocks[0].arg, "--block=a.img");
	assert_false(o.blocks[0].in_kernel);
	assert_false(o.blocks[0].vhost_user);
	assert_false(o.blocks[0].read_only);
	assert_int_equal(o.blocks[0].ring.layout, LG_RING_DRAFT3);
}

static void block_in_the_kernel(void **state)
{
	struct options o =
		PARSE("--ring=packed", "--block=a.img,ro,device=kernel,qsize=64",
		      "--block=b.img,ring=draft3,device=kernel", "--block=c.img", "guest.elf");

	(void)state;
	assert_int_equal(o.nblocks, 3);
	assert_true(o.blocks[0].in_kernel);
	assert_true(o.blocks[0].read_only);
	assert_int_equal(o.blocks[0].ring.layout, LG_RING_PACKED);
	assert_int_equal(o.blocks[0].ring.qsize, 64);
	assert_string_equal(o.blocks[0].arg, "--block=a.img,ro,device=kernel,qsize=64");
	/* Draft III too: the kernel serves its six pages. */
	assert_true(o.blocks[1].in_kernel);
	assert_int_equal(o.blocks[1].ring.layout, LG_RING_DRAFT3);
	assert_false(o.blocks[2].in_kernel);
	assert_int_equal(o.blocks[2].ring.layout, LG_RING_PACKED);
}

static void device_launcher_is_the_default_said_aloud(void **state)
{
	struct options o = PARSE("--block=a.img,device=launcher",
				 "--block=b.img,device=kernel,device=launcher", "guest.elf");

	(void)state;
	assert_false(o.blocks[0].in_kernel);
	assert_false(o.blocks[1].in_kernel); /* the last one said wins */
}

static void vhost_user_is_neither(void **state)
{
	struct options o = PARSE("--vhost-user-blk=/tmp/s.sock", "guest.elf");

	(void)state;
	assert_true(o.blocks[0].vhost_user);
	assert_false(o.blocks[0].in_kernel);
	assert_string_equal(o.blocks[0].arg, "--vhost-user-blk=/tmp/s.sock");
	assert_int_equal(o.blocks[0].ring.layout, LG_RING_SPLIT);
}

static void engines_and_polling(void **state)
{
	struct options o = PARSE("--poll=20", "--block=a.img", "--block=b.img,aio=threads,poll=0",
				 "--block=c.img,aio=sync,poll=10000", "--block=d.img,aio=io_uring",
				 "--block=e.img,ring=packed,queues=4", "guest.elf");

	(void)state;
	assert_int_equal(o.poll_us, 20);
	assert_int_equal(o.blocks[0].aio, AIO_DEFAULT);
	assert_int_equal(o.blocks[0].poll_us, -1); /* --poll's */
	assert_int_equal(o.blocks[1].aio, AIO_THREADS);
	assert_int_equal(o.blocks[1].poll_us, 0);
	assert_int_equal(o.blocks[2].aio, AIO_SYNC);
	assert_int_equal(o.blocks[2].poll_us, 10000);
	assert_int_equal(o.blocks[3].aio, AIO_IO_URING);
	assert_int_equal(o.blocks[3].queues, 0); /* one */
	assert_int_equal(o.blocks[4].queues, 4);
	o = PARSE("guest.elf");
	assert_int_equal(o.poll_us, 0); /* off unless asked */
}

static void bad_engines_and_polls_die(void **state)
{
	(void)state;
	DIES("lguest: --block=a.img,aio=libaio: aio=libaio: unknown engine (io_uring, threads or "
	     "sync)\n",
	     "--block=a.img,aio=libaio", "guest.elf");
	DIES("lguest: --block=a.img,poll=10001: poll=10001: not a number of microseconds from 0 "
	     "to 10000\n",
	     "--block=a.img,poll=10001", "guest.elf");
	DIES("lguest: --block=a.img,poll=: poll=: not a number of microseconds from 0 to 10000\n",
	     "--block=a.img,poll=", "guest.elf");
	DIES("lguest: --poll=-1: not a number of microseconds from 0 to 10000\n", "--poll=-1",
	     "guest.elf");
	DIES("lguest: --block=a.img,aio=threads,device=kernel: aio=, poll= and queues= are the "
	     "launcher's own device's (device=kernel serves the disk in the host kernel)\n",
	     "--block=a.img,aio=threads,device=kernel", "guest.elf");
	DIES("lguest: --block=a.img,queues=5: queues=5: the number of request queues is 1 to 4\n",
	     "--block=a.img,queues=5", "guest.elf");
	DIES("lguest: --block=a.img,queues=0: queues=0: the number of request queues is 1 to 4\n",
	     "--block=a.img,queues=0", "guest.elf");
	DIES("lguest: --block=a.img,queues=2: queues=2: a draft III device has one pair of queues, "
	     "by design; multi-queue needs ring=split or ring=packed\n",
	     "--block=a.img,queues=2", "guest.elf");
	DIES("lguest: --vhost-user-blk=s.sock,aio=threads: unknown option 'aio=threads' (known: "
	     "ring=, qsize=, indirect=, event_idx=)\n",
	     "--vhost-user-blk=s.sock,aio=threads", "guest.elf");
}

static void bad_places_die_in_one_line(void **state)
{
	(void)state;
	DIES("lguest: --block=a.img,device=kern: device=kern: unknown (launcher or kernel)\n",
	     "--block=a.img,device=kern", "guest.elf");
	DIES("lguest: --block=a.img,device=: device=: unknown (launcher or kernel)\n",
	     "--block=a.img,device=", "guest.elf");
	DIES("lguest: --vhost-user-blk=s.sock,device=kernel: device= is --block's (a "
	     "--vhost-user-blk device runs in its backend)\n",
	     "--vhost-user-blk=s.sock,device=kernel", "guest.elf");
	DIES("lguest: --block=a.img,kernel: unknown option 'kernel' (known: ro, ring=, qsize=, "
	     "indirect=, event_idx=, device=, aio=, poll=, queues=)\n",
	     "--block=a.img,kernel", "guest.elf");
	DIES("lguest: --block=a.img,device=kernel,ring=draft3,qsize=64: qsize applies to split "
	     "and packed rings (draft3 queues hold 170)\n",
	     "--block=a.img,device=kernel,ring=draft3,qsize=64", "guest.elf");
}

/*
 * Small slips a user makes, each refused in one line naming what was
 * given, rather than taken in silence (issue 15).
 */
static void slips_are_refused(void **state)
{
	(void)state;
	DIES("lguest: --block=disk.img,,: empty item between commas\n", "--block=disk.img,,",
	     "guest.elf");
	DIES("lguest: --block=disk.img,,ro: empty item between commas\n", "--block=disk.img,,ro",
	     "guest.elf");
	DIES("lguest: --block=disk.img,: empty item between commas\n", "--block=disk.img,",
	     "guest.elf");
	DIES("lguest: --tap=tap0,: empty item between commas\n", "--tap=tap0,", "guest.elf");
	DIES("lguest: --console=ring=split,: empty item between commas\n", "--console=ring=split,",
	     "guest.elf");
	/* The disk is named, not just "--block". */
	DIES("lguest: --block=disk.img,ring=foo: ring=foo: unknown layout (draft3, split or "
	     "packed)\n",
	     "--block=disk.img,ring=foo", "guest.elf");
	DIES("lguest: --block=b.img,qsize=7: qsize=7: must be a power of two from 4 to 32768\n",
	     "--block=a.img", "--block=b.img,qsize=7", "guest.elf");
	/* --qsize where every device is draft III would change nothing. */
	DIES("lguest: --qsize=8: applies to split and packed rings, and every device here is "
	     "draft3 (whose queues hold 170); add --ring=split or --ring=packed\n",
	     "--qsize=8", "guest.elf");
	DIES("lguest: --qsize=8: applies to split and packed rings, and every device here is "
	     "draft3 (whose queues hold 170); add --ring=split or --ring=packed\n",
	     "--qsize=8", "--block=a.img", "guest.elf");
}

/* ... but --qsize is fine as soon as one device uses a modern ring. */
static void qsize_with_a_modern_device(void **state)
{
	struct options o = PARSE("--qsize=8", "--block=a.img,ring=split", "guest.elf");

	(void)state;
	assert_int_equal(o.blocks[0].ring.layout, LG_RING_SPLIT);
	assert_int_equal(o.blocks[0].ring.qsize, 8);
	assert_int_equal(o.console_ring.layout, LG_RING_DRAFT3);
	o = PARSE("--qsize=16", "--ring=packed", "guest.elf");
	assert_int_equal(o.console_ring.qsize, 16);
}

/* --seccomp alone allocates nothing: no need to keep the result (see results[]). */
static bool seccomp_of(int argc, char **argv)
{
	struct options o;

	parse_options(argc, argv, &o);
	return o.seccomp;
}

#define SECCOMP_OF(...) seccomp_of(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__))

/* --seccomp: on unless asked otherwise; only on and off mean anything. */
static void seccomp_on_by_default(void **state)
{
	(void)state;
	assert_true(SECCOMP_OF("guest.elf"));
	assert_true(SECCOMP_OF("--seccomp=on", "guest.elf"));
	assert_false(SECCOMP_OF("--seccomp=off", "guest.elf"));
	assert_true(SECCOMP_OF("--seccomp=off", "--seccomp=on", "guest.elf"));
}

static void seccomp_values_are_on_and_off(void **state)
{
	(void)state;
	DIES("lguest: --seccomp=yes: on or off\n", "--seccomp=yes", "guest.elf");
	DIES("lguest: --seccomp=: on or off\n", "--seccomp=", "guest.elf");
	DIES("lguest: option --seccomp needs a value (see --help)\n", "--seccomp");
}

/*
 * KERNEL is optional (main.c then boots the installed one): "--" right
 * away means the default kernel and a guest command line, not a kernel
 * named "--".
 */
static void kernel_is_optional(void **state)
{
	struct options o;

	(void)state;
	o = PARSE("--", "ls", "/");
	assert_null(o.kernel);
	assert_string_equal(o.guest_cmd, "ls /");
	o = PARSE("-v", "--block=d.img");
	assert_null(o.kernel);
	assert_null(o.guest_cmd);
	o = PARSE("--block=d.img", "k.elf", "--", "ls");
	assert_string_equal(o.kernel, "k.elf");
	assert_string_equal(o.guest_cmd, "ls");
	DIES("lguest: unexpected argument 'stray' (guest commands go after --)\n", "k.elf",
	     "stray");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(block_in_the_launcher_by_default),
		cmocka_unit_test(block_in_the_kernel),
		cmocka_unit_test(device_launcher_is_the_default_said_aloud),
		cmocka_unit_test(vhost_user_is_neither),
		cmocka_unit_test(bad_places_die_in_one_line),
		cmocka_unit_test(engines_and_polling),
		cmocka_unit_test(bad_engines_and_polls_die),
		cmocka_unit_test(slips_are_refused),
		cmocka_unit_test(qsize_with_a_modern_device),
		cmocka_unit_test(seccomp_on_by_default),
		cmocka_unit_test(seccomp_values_are_on_and_off),
		cmocka_unit_test(kernel_is_optional),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
