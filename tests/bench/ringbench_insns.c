// SPDX-License-Identifier: GPL-2.0
/*
 * ringbench_insns.c: instructions per buffer, the ring code's apart from
 * the harness's, for ringbench --insns.
 *
 * A time says how fast the ring code ran on this machine today; an
 * instruction count says how much work it is, the same on every run.  So
 * ringbench runs itself once more, in lock-step (one thread, the two sides
 * taking turns, nothing left to the scheduler), under callgrind:
 *
 *   valgrind --tool=callgrind --toggle-collect=lockstep_run ringbench --lockstep ...
 *
 * and reads the profile callgrind writes.  --toggle-collect counts only
 * what lockstep_run() and everything it calls execute: no start-up, no
 * ring set-up, no printing.  Each cost in the profile belongs to a source
 * line, so it can be split by where that line lives:
 *
 *   driver   guest/ring/          (split_drv.c, packed_drv.c, draft3_drv.c)
 *   device   launcher/ring/, launcher/chain.h, launcher/guest_mem.*
 *   harness  everything else: ringbench.c's loops and dispatch, libc
 *
 * A call's cost goes to the side whose line made it, if the callee is not
 * itself ring code (memset called from split_dev.c is the device's; a
 * ring function called from ringbench.c is counted in its own lines).  An
 * inlined function from a ring file counts as ring code, whatever it was
 * inlined into, so moving the hot path into static inlines in a header
 * does not hide it in the harness; one from any other header counts as
 * the function it was inlined into (vring_need_event(), from
 * <linux/virtio_ring.h>, in split_dev_should_signal() is the device's).
 *
 * The same ring instructions are also split by operation: each call the
 * harness makes into the ring code costs its callee's inclusive count
 * (what it ran, and everything it called), and the callee's name says
 * which of the ring API's operations it was (insns_op_of()): add,
 * publish, pop, push, the signal decision, reap, and turning
 * notifications on and off.  A layout's internal functions differ (split
 * pops through pop_published(), packed through pop_available()), but
 * every layout has these entry points, so their costs compare side by
 * side.  Ring code the harness did not reach through one of them (an
 * inline from a ring header, say) is OP_OTHER, so that the operations add
 * up to the total.
 *
 * The profile format is callgrind's (valgrind's docs/callgrind-format):
 * "fl=", "fi=", "fe=" name the source file of the lines that follow (with
 * name compression: "(7) path" defines file 7, "(7)" refers to it), "fn="
 * starts a function, "cfi=/cfl=" name a callee's file (none: the caller's),
 * "cfn=" the callee (function names are compressed the same way, in a
 * name space of their own), "calls=" says the next cost line is a call's
 * inclusive cost, and a cost line is a position followed by the event
 * counts (only Ir here).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringbench_insns.h"

enum side { SIDE_HARNESS, SIDE_DRV, SIDE_DEV };

const char *const insns_op_name[INSNS_NOPS] = {
	[OP_ADD] = "add",	[OP_PUBLISH] = "publish", [OP_POP] = "pop",
	[OP_PUSH] = "push",	[OP_SIGNAL] = "signal",	  [OP_REAP] = "reap",
	[OP_NOTIFY] = "notify", [OP_OTHER] = "other",
};

/*
 * Which operation a ring function the harness calls performs, by its name
 * (d3_, split_ or packed_, then drv_ or dev_, then what it does).
 */
static enum insns_op insns_op_of(const char *fn)
{
	static const struct {
		const char *part;
		enum insns_op op;
	} ops[] = {
		{ "_drv_add", OP_ADD },		 { "_drv_publish", OP_PUBLISH },
		{ "_dev_pop", OP_POP },		 { "_dev_push", OP_PUSH },
		{ "_should_signal", OP_SIGNAL }, { "_signal_suppressed", OP_SIGNAL },
		{ "_drv_get_used", OP_REAP },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strstr(fn, ops[i].part))
			return ops[i].op;
	return OP_NOTIFY;
}

static enum side side_of(const char *path)
{
	if (strstr(path, "guest/ring/"))
		return SIDE_DRV;
	if (strstr(path, "launcher/ring/") || strstr(path, "launcher/chain.h") ||
	    strstr(path, "launcher/guest_mem."))
		return SIDE_DEV;
	return SIDE_HARNESS;
}

/*
 * The compressed names of one profile, files or functions (each kind has
 * its id space): id -> what @classify made of the name (a side, an
 * operation).
 */
struct names {
	int (*classify)(const char *name);
	int *class;
	size_t n;
};

static int file_class(const char *path)
{
	return side_of(path);
}

static int fn_class(const char *fn)
{
	return insns_op_of(fn);
}

/*
 * A reference, "(id) name" (which defines id), "(id)" or, uncompressed,
 * "name": its class.  Returns false if the profile is not what we expect.
 */
static bool name_class(struct names *t, const char *ref, int *out)
{
	unsigned long id;
	char *end;

	if (*ref != '(') {
		*out = t->classify(ref);
		return true;
	}
	id = strtoul(ref + 1, &end, 10);
	if (*end != ')' || id > 1000000)
		return false;
	if (end[1] == ' ') {
		if (id >= t->n) {
			size_t n = id + 256;
			int *c = realloc(t->class, n * sizeof(*c));

			if (!c)
				return false;
			memset(c + t->n, 0, (n - t->n) * sizeof(*c));
			t->class = c;
			t->n = n;
		}
		t->class[id] = t->classify(end + 2);
	} else if (id >= t->n) {
		return false; /* a reference to a name never defined */
	}
	*out = t->class[id];
	return true;
}

/* The Ir of a cost line: "POS IR", where POS may be "+N", "-N" or "*". */
static uint64_t line_ir(const char *line)
{
	const char *p = strchr(line, ' ');

	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/*
 * Sum @path's costs by side into @ir, and the harness's calls into ring
 * code by operation into @op.  Returns false if it could not be read.
 */
static bool read_profile(const char *path, uint64_t ir[3], uint64_t op[INSNS_NOPS])
{
	struct names files = { file_class, NULL, 0 }, fns = { fn_class, NULL, 0 };
	int fl = SIDE_HARNESS, cur = SIDE_HARNESS, callee = SIDE_HARNESS;
	int callee_op = OP_OTHER, unused;
	bool call = false, callee_named = false, ok = true, any = false;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	ir[0] = ir[1] = ir[2] = 0;
	memset(op, 0, INSNS_NOPS * sizeof(*op));
	while (ok && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "fl=", 3)) {
			ok = name_class(&files, line + 3, &fl);
			cur = fl;
		} else if (!strncmp(line, "fi=", 3) || !strncmp(line, "fe=", 3)) {
			/*
			 * Lines inlined from another file: a ring file's count as
			 * ring code wherever they are, and any other file's
			 * (vring_need_event() from <linux/virtio_ring.h>, say)
			 * count as the function they were inlined into.
			 */
			ok = name_class(&files, line + 3, &cur);
			if (cur == SIDE_HARNESS)
				cur = fl;
		} else if (!strncmp(line, "fn=", 3)) {
			ok = name_class(&fns, line + 3, &unused); /* it may define a name */
			cur = fl;
		} else if (!strncmp(line, "cfn=", 4)) {
			ok = name_class(&fns, line + 4, &callee_op);
		} else if (!strncmp(line, "cfi=", 4) || !strncmp(line, "cfl=", 4)) {
			ok = name_class(&files, line + 4, &callee);
			callee_named = true;
		} else if (!strncmp(line, "calls=", 6)) {
			/* No cfi=/cfl= before it: the callee is in the caller's file. */
			if (!callee_named)
				callee = fl;
			callee_named = false;
			call = true;
		} else if ((*line >= '0' && *line <= '9') || *line == '+' || *line == '-' ||
			   *line == '*') {
			uint64_t n = line_ir(line);

			any = true;
			if (!call)
				ir[cur] += n;
			else if (cur != SIDE_HARNESS && callee == SIDE_HARNESS)
				ir[cur] += n; /* ring code calling out (memset ...) */
			else if (cur == SIDE_HARNESS && callee != SIDE_HARNESS)
				op[callee_op] += n; /* the harness calling in: inclusive */
			call = false;
		}
	}
	free(line);
	free(fns.class);
	free(files.class);
	fclose(f);
	return ok && any;
}

bool insns_measure(const char *self, char *const args[], uint64_t ops, struct insns_figures *f)
{
	static bool missing; /* warned already: no valgrind */
	char out[] = "/tmp/ringbench-insns.XXXXXX", outarg[64];
	char *argv[32] = { "valgrind", "-q", "--tool=callgrind", outarg,
			   "--toggle-collect=lockstep_run", (char *)self };
	posix_spawn_file_actions_t actions;
	unsigned int n = 6;
	uint64_t ir[3], op[INSNS_NOPS], reached = 0;
	int fd, err, status;
	pid_t pid;

	f->valid = false;
	if (missing)
		return false;
	fd = mkstemp(out);
	if (fd < 0) {
		fprintf(stderr, "ringbench: --insns: %s: %s\n", out, strerror(errno));
		return false;
	}
	close(fd);
	snprintf(outarg, sizeof(outarg), "--callgrind-out-file=%s", out);
	for (unsigned int i = 0; args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	/* Its stdout is the lock-step run's table, which we do not want. */
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, "valgrind", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err) {
		unlink(out);
		missing = err == ENOENT;
		fprintf(stderr, "ringbench: --insns: cannot run valgrind: %s%s\n", strerror(err),
			missing ? " (apt-get install valgrind): insns/buf not measured" : "");
		return false;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			unlink(out);
			return false;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "ringbench: --insns: the lock-step run under callgrind failed (%s %d)\n",
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		unlink(out);
		return false;
	}
	if (!read_profile(out, ir, op)) {
		fprintf(stderr, "ringbench: --insns: cannot read callgrind's profile %s\n", out);
		unlink(out);
		return false;
	}
	unlink(out);
	f->ops = ops;
	f->drv = (double)ir[SIDE_DRV] / (double)ops;
	f->dev = (double)ir[SIDE_DEV] / (double)ops;
	f->harness = (double)ir[SIDE_HARNESS] / (double)ops;
	for (int i = 0; i < OP_OTHER; i++) {
		f->op[i] = (double)op[i] / (double)ops;
		reached += op[i];
	}
	/*
	 * What the harness reached by calls is ring code and what it called
	 * (libc from ring code is counted as ring code too): never more.
	 */
	if (reached > ir[SIDE_DRV] + ir[SIDE_DEV]) {
		fprintf(stderr,
			"ringbench: --insns: the ring calls' inclusive costs (%" PRIu64
			") exceed the ring code's (%" PRIu64 ")\n",
			reached, ir[SIDE_DRV] + ir[SIDE_DEV]);
		return false;
	}
	f->op[OP_OTHER] = (double)(ir[SIDE_DRV] + ir[SIDE_DEV] - reached) / (double)ops;
	f->valid = true;
	return true;
}
