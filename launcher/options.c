// SPDX-License-Identifier: GPL-2.0
/*
 * options.c: the command line.
 *
 *   lguest [options] [KERNEL] [-- 'GUEST COMMANDS']
 *
 * Everything after "--" is joined into one command line for the guest
 * shell, so we split argv there ourselves before getopt sees it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draft3.h"
#include "install_paths.h"
#include "lg_virtio.h"
#include "lguest_abi.h"
#include "log.h"
#include "options.h"

#define LGUEST_VERSION "0.1.0"

static const char usage_text[] =
	"usage: lguest [options] [KERNEL] [-- 'GUEST COMMANDS']\n"
	"\n"
	"Boot KERNEL (an ELF64 guest kernel, optionally gzip-compressed) on KVM,\n"
	"or as a sandboxed host process where there is no KVM.  Without KERNEL,\n"
	"the guest.elf installed with lguest: beside it, in ../lib/lguest from its\n"
	"directory, or in " LGUEST_LIBDIR ".\n"
	"GUEST COMMANDS is a ';'-separated command line for the guest shell; lguest\n"
	"then exits with the guest's exit status.  Without it the guest reads\n"
	"commands from stdin (interactively on a terminal: ^A x kills the VM).\n"
	"\n"
	"  --mem=SIZE           guest RAM, e.g. 64M or 1G (default 128M)\n"
	"  --block=PATH[,ro][,RING][,device=WHERE][,aio=ENGINE][,poll=USECS][,queues=N]\n"
	"                       a disk image as the next block device (repeatable);\n"
	"                       WHERE serves it: launcher (default), or kernel (the\n"
	"                       lguest_host module, /dev/lguest-host); ENGINE does the\n"
	"                       launcher's I/O: io_uring (default where it works),\n"
	"                       threads (a worker pool) or sync (one at a time);\n"
	"                       N request queues, 1 to 4 (split and packed)\n"
	"  --poll=USECS         after its last request a block device watches its\n"
	"                       queue this long before sleeping (default 0, at most\n"
	"                       10000); poll=USECS on a --block sets its own\n"
	"  --vhost-user-blk=SOCKET[,RING]\n"
	"                       the next block device, served by a vhost-user backend\n"
	"                       (e.g. qemu-storage-daemon) on SOCKET; split or packed\n"
	"  --tunnet=IP[/PREFIX][,mac=MAC][,RING]\n"
	"                       a network device on a new tap whose host side gets IP\n"
	"  --tunnet=bridge:NAME[,mac=MAC][,RING]\n"
	"                       a network device on a new tap added to bridge NAME\n"
	"  --tap=NAME[,mac=MAC][,RING]\n"
	"                       a network device on the existing tap NAME\n"
	"  --user=NAME          after setup, run as user NAME\n"
	"  --chroot=DIR         after setup, change root to DIR\n"
	"  --seccomp=on|off     after setup, each thread of the launcher may make only\n"
	"                       the system calls its job needs (default on)\n"
	"  --console=RING       ring settings for the console\n"
	"  --ring=LAYOUT        default queue layout: draft3 (default), split, packed\n"
	"  --qsize=N            default split/packed queue size (power of two, 4..32768;\n"
	"                       default 256)\n"
	"                       RING: ring=LAYOUT, qsize=N, indirect=on|off (default off),\n"
	"                       event_idx=on|off (default on), comma-separated\n"
	"  --no-ioeventfd       every NOTIFY exits to the vCPU loop instead of\n"
	"                       waking the device thread inside the kernel\n"
	"  --backend=WHICH      where the guest's CPU runs: auto (default: kvm if it\n"
	"                       works here, else process), kvm, or process\n"
	"  --kvm-device=PATH    the KVM device (default /dev/kvm)\n"
	"  --trace[=FILTER]     print every ring event at exit (stderr); FILTER:\n"
	"                       devices or device/queue names, e.g. blk0,console/transmitq\n"
	"  --trace-file=FILE    write the events as a Chrome trace (Perfetto, lguest-trace)\n"
	"  --trace-buffer=N     the guest's trace ring: N events (power of two, 16..1048576;\n"
	"                       default 65536); when full, events are dropped and counted\n"
	"  --stats              print the counters at exit\n"
	"  --stats-json=FILE    write the counters as JSON\n"
	"  -v, --verbose        say what is set up, and print counters at exit\n"
	"  -h, --help           this text\n"
	"  -V, --version        the version\n";

bool parse_size_arg(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B' && shift)
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return false;
	*out = v << shift;
	return true;
}

static const char *const layout_names[] = {
	[LG_RING_DRAFT3] = "draft3",
	[LG_RING_SPLIT] = "split",
	[LG_RING_PACKED] = "packed",
};

bool parse_layout(const char *s, uint8_t *layout)
{
	for (uint8_t i = 0; i < sizeof(layout_names) / sizeof(layout_names[0]); i++) {
		if (!strcmp(s, layout_names[i])) {
			*layout = i;
			return true;
		}
	}
	return false;
}

const char *layout_name(uint8_t layout)
{
	return layout < sizeof(layout_names) / sizeof(layout_names[0]) ? layout_names[layout] : "?";
}

static uint16_t parse_qsize(const char *s, const char *ctx)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < MIN_QSIZE || v > MAX_QSIZE ||
	    (v & (v - 1)))
		die("%s: qsize=%s: must be a power of two from %d to %d", ctx, s, MIN_QSIZE,
		    MAX_QSIZE);
	return (uint16_t)v;
}

static int8_t parse_on_off(const char *s, const char *name, const char *ctx)
{
	if (!strcmp(s, "on"))
		return 1;
	if (!strcmp(s, "off"))
		return 0;
	die("%s: %s=%s: say on or off", ctx, name, s);
}

/* One ring=, qsize=, indirect= or event_idx= setting; false if @opt is none of them. */
static bool parse_ring_setting(char *opt, struct ring_opt *r, const char *ctx)
{
	char *val = strchr(opt, '=');

	if (!val)
		return false;
	*val++ = '\0';
	if (!strcmp(opt, "ring")) {
		if (!parse_layout(val, &r->layout))
			die("%s: ring=%s: unknown layout (draft3, split or packed)", ctx, val);
	} else if (!strcmp(opt, "qsize")) {
		r->qsize = parse_qsize(val, ctx);
	} else if (!strcmp(opt, "indirect")) {
		r->indirect = parse_on_off(val, opt, ctx);
	} else if (!strcmp(opt, "event_idx")) {
		r->event_idx = parse_on_off(val, opt, ctx);
	} else {
		val[-1] = '=';
		return false;
	}
	return true;
}

/*
 * The next comma-separated item of *@rest, or NULL after the last.  An
 * empty item ("disk.img,,ro", a trailing comma) is refused, naming @arg:
 * it is a typo, and strtok() would step over it in silence.
 */
static char *next_item(char **rest, const char *arg)
{
	char *item;

	if (!*rest)
		return NULL;
	item = strsep(rest, ",");
	if (!*item)
		die("%s: empty item between commas", arg);
	return item;
}

static const struct ring_opt ring_unset = { LAYOUT_DEFAULT, 0, -1, -1 };

/*
 * Fill what a device left unset from the defaults, then check the result
 * makes sense: draft-III queues have a fixed size and neither feature.
 */
static void resolve_ring(struct ring_opt *r, const struct ring_opt *def, const char *ctx)
{
	bool own_size = r->qsize != 0;

	if (r->layout == LAYOUT_DEFAULT)
		r->layout = def->layout == LAYOUT_DEFAULT ? LG_RING_DRAFT3 : def->layout;
	if (!r->qsize)
		r->qsize = def->qsize ? def->qsize : DEFAULT_QSIZE;
	if (r->indirect < 0)
		r->indirect = def->indirect < 0 ? 0 : def->indirect;
	if (r->event_idx < 0)
		r->event_idx = def->event_idx < 0 ? 1 : def->event_idx;
	if (r->layout == LG_RING_DRAFT3 && own_size)
		die("%s: qsize applies to split and packed rings (draft3 queues hold %d)", ctx,
		    (int)D3_NUM_DESCS);
	if (r->layout == LG_RING_DRAFT3 && r->indirect == 1)
		die("%s: indirect descriptors need a split or packed ring", ctx);
}

/*
 * --qsize sets the size of split and packed queues only.  Given where
 * every device is draft III (the default layout), it would change
 * nothing: say so rather than take it in silence.
 */
static void check_default_qsize(const struct options *o)
{
	if (!o->ring.qsize || o->console_ring.layout != LG_RING_DRAFT3)
		return;
	for (int i = 0; i < o->nblocks; i++)
		if (o->blocks[i].ring.layout != LG_RING_DRAFT3)
			return;
	for (int i = 0; i < o->nnets; i++)
		if (o->nets[i].ring.layout != LG_RING_DRAFT3)
			return;
	die("--qsize=%u: applies to split and packed rings, and every device here is draft3 "
	    "(whose queues hold %d); add --ring=split or --ring=packed",
	    (unsigned int)o->ring.qsize, (int)D3_NUM_DESCS);
}

/* --block's aio=: "io_uring", "threads", "sync"; false if none of them. */
static bool parse_aio(const char *s, enum aio_kind *kind)
{
	if (!strcmp(s, "io_uring"))
		*kind = AIO_IO_URING;
	else if (!strcmp(s, "threads"))
		*kind = AIO_THREADS;
	else if (!strcmp(s, "sync"))
		*kind = AIO_SYNC;
	else
		return false;
	return true;
}

/* A polling window in microseconds, 0..MAX_POLL_US; @ctx: the --block, or NULL for --poll. */
static unsigned int parse_poll(const char *s, const char *ctx)
{
	uint64_t us;

	if (!parse_size_arg(s, &us) || us > MAX_POLL_US) {
		if (ctx)
			die("%s: poll=%s: not a number of microseconds from 0 to %d", ctx, s,
			    MAX_POLL_US);
		die("--poll=%s: not a number of microseconds from 0 to %d", s, MAX_POLL_US);
	}
	return (unsigned int)us;
}

/* --block's device=WHERE: who serves the disk. */
static void parse_block_device(const char *where, struct block_opt *b)
{
	if (!strcmp(where, "launcher"))
		b->in_kernel = false;
	else if (!strcmp(where, "kernel"))
		b->in_kernel = true;
	else
		die("%s: device=%s: unknown (launcher or kernel)", b->arg, where);
}

/*
 * --block=PATH[,ro][,RING][,device=WHERE], or with @vhost_user
 * --vhost-user-blk=SOCKET[,RING] (a block device another process serves):
 * the next block device.
 */
static void parse_block(const char *arg, struct options *o, bool vhost_user)
{
	const char *name = vhost_user ? "--vhost-user-blk" : "--block";
	struct block_opt *b;
	char *copy, *rest, *opt, *given;

	if (o->nblocks == MAX_BLOCKS)
		die("%s: at most %d block devices", name, MAX_BLOCKS);
	copy = strdup(arg);
	if (!copy || asprintf(&given, "%s=%s", name, arg) < 0)
		die("out of memory");
	b = &o->blocks[o->nblocks++];
	b->arg = given;
	b->ring = ring_unset;
	b->vhost_user = vhost_user;
	b->poll_us = -1;
	rest = copy;
	b->path = strsep(&rest, ",");
	if (!*b->path)
		die("%s", vhost_user ? "--vhost-user-blk needs a socket: "
				       "--vhost-user-blk=SOCKET[,ring=split|packed][,qsize=N]"
				     : "--block needs a path: "
				       "--block=PATH[,ro][,ring=LAYOUT][,qsize=N][,device=kernel]");
	while ((opt = next_item(&rest, b->arg))) {
		if (!vhost_user && !strcmp(opt, "ro"))
			b->read_only = true;
		else if (!strncmp(opt, "device=", 7) && !vhost_user)
			parse_block_device(opt + 7, b);
		else if (!strncmp(opt, "device=", 7))
			die("%s: device= is --block's (a --vhost-user-blk device runs in its "
			    "backend)",
			    b->arg);
		else if (!strncmp(opt, "aio=", 4) && !vhost_user) {
			if (!parse_aio(opt + 4, &b->aio))
				die("%s: %s: unknown engine (io_uring, threads or sync)", b->arg,
				    opt);
			b->aio_set = true;
		} else if (!strncmp(opt, "poll=", 5) && !vhost_user)
			b->poll_us = (int)parse_poll(opt + 5, b->arg);
		else if (!strncmp(opt, "queues=", 7) && !vhost_user) {
			uint64_t n;

			if (!parse_size_arg(opt + 7, &n) || n < 1 || n > LG_VIRTIO_MAX_QUEUES)
				die("%s: %s: the number of request queues is 1 to %d", b->arg, opt,
				    LG_VIRTIO_MAX_QUEUES);
			b->queues = (unsigned int)n;
		} else if (!parse_ring_setting(opt, &b->ring, b->arg))
			die("%s: unknown option '%s' (known: %sring=, qsize=, indirect=, "
			    "event_idx=%s)",
			    b->arg, opt, vhost_user ? "" : "ro, ",
			    vhost_user ? "" : ", device=, aio=, poll=, queues=");
	}
	/* The kernel module has its own way of doing I/O, and does not poll. */
	if (b->in_kernel && (b->aio_set || b->poll_us >= 0 || b->queues))
		die("%s: aio=, poll= and queues= are the launcher's own device's (device=kernel "
		    "serves the disk in the host kernel)",
		    b->arg);
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 ||
	    strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A unicast address: a multicast bit set would not be ours alone. */
	return !(mac[0] & 1);
}

static bool parse_ipv4(const char *s, uint32_t *ip, unsigned int *prefix)
{
	unsigned int a[4], p = 24;
	char tail[8] = "";
	int n = sscanf(s, "%3u.%3u.%3u.%3u%7s", &a[0], &a[1], &a[2], &a[3], tail);

	if (n < 4 || a[0] > 255 || a[1] > 255 || a[2] > 255 || a[3] > 255)
		return false;
	if (n == 5) {
		char *end;

		if (tail[0] != '/' || !tail[1])
			return false;
		p = (unsigned int)strtoul(tail + 1, &end, 10);
		if (*end || p < 1 || p > 30)
			return false;
	}
	*ip = htonl(a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]);
	*prefix = p;
	return true;
}

/* --tunnet=... or --tap=...: the first word, then mac= and ring settings. */
static void parse_net(const char *arg, struct options *o, bool tap)
{
	const char *opt_name = tap ? "--tap" : "--tunnet";
	char *copy = strdup(arg), *rest = copy, *first, *opt, *given;
	struct net_opt *n;

	if (!copy || asprintf(&given, "%s=%s", opt_name, arg) < 0)
		die("out of memory");
	if (o->nnets == MAX_NETS)
		die("%s: at most %d network devices", opt_name, MAX_NETS);
	n = &o->nets[o->nnets++];
	n->arg = given;
	n->ring = ring_unset;
	first = strsep(&rest, ",");
	if (!*first)
		die("%s needs a value (see --help)", opt_name);
	if (tap) {
		n->kind = NET_TAP;
		n->name = first;
		if (strlen(first) >= 16)
			die("--tap=%s: interface names are at most 15 characters", first);
	} else if (!strncmp(first, "bridge:", 7)) {
		n->kind = NET_TUNNET_BRIDGE;
		n->name = first + 7;
		if (!*n->name || strlen(n->name) >= 16)
			die("--tunnet=%s: a bridge name of 1 to 15 characters", first);
	} else {
		n->kind = NET_TUNNET_IP;
		if (!parse_ipv4(first, &n->ip, &n->prefix))
			die("--tunnet=%s: not an IPv4 address with an optional /PREFIX (1..30)",
			    first);
	}
	while ((opt = next_item(&rest, given))) {
		if (!strncmp(opt, "mac=", 4)) {
			if (!parse_mac(opt + 4, n->mac))
				die("%s: %s: not a unicast MAC address like 52:54:00:12:34:56",
				    opt_name, opt);
			n->has_mac = true;
		} else if (!parse_ring_setting(opt, &n->ring, given)) {
			die("%s: unknown option '%s' (known: mac=, ring=, qsize=, indirect=, "
			    "event_idx=)",
			    given, opt);
		}
	}
	/* An address is parsed, not named: nothing points into the copy (LeakSanitizer). */
	if (n->kind == NET_TUNNET_IP)
		free(copy);
}

static void parse_console(const char *arg, struct options *o)
{
	char *copy = strdup(arg), *rest = copy, *opt, *given;

	if (!copy || asprintf(&given, "--console=%s", arg) < 0)
		die("out of memory");
	while ((opt = next_item(&rest, given))) {
		if (!parse_ring_setting(opt, &o->console_ring, given))
			die("--console=%s: unknown option '%s' (known: ring=, qsize=, indirect=, "
			    "event_idx=)",
			    arg, opt);
	}
	free(copy);
	free(given);
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		die("out of memory");
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "block", required_argument, NULL, 'b' },
		{ "vhost-user-blk", required_argument, NULL, 'H' },
		{ "console", required_argument, NULL, 'c' },
		{ "tunnet", required_argument, NULL, 'n' },
		{ "tap", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "chroot", required_argument, NULL, 'C' },
		{ "seccomp", required_argument, NULL, 'E' },
		{ "ring", required_argument, NULL, 'r' },
		{ "qsize", required_argument, NULL, 'q' },
		{ "no-ioeventfd", no_argument, NULL, 'N' },
		{ "poll", required_argument, NULL, 'P' },
		{ "trace", optional_argument, NULL, 't' },
		{ "trace-file", required_argument, NULL, 'T' },
		{ "trace-buffer", required_argument, NULL, 'B' },
		{ "stats", no_argument, NULL, 's' },
		{ "stats-json", required_argument, NULL, 'S' },
		{ "kvm-device", required_argument, NULL, 'k' },
		{ "backend", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int nopts = argc, c;

	*o = (struct options){
		.mem_size = DEFAULT_MEM, .ioeventfd = true, .seccomp = true, .kvm_path = "/dev/kvm"
	};
	o->ring = o->console_ring = ring_unset;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopts = i;
			break;
		}
	}
	if (nopts < argc) {
		o->guest_cmd = join_args(argc - nopts - 1, argv + nopts + 1);
		if (strlen(o->guest_cmd) >= LG_CMDLINE_MAX)
			die("guest command line too long (%zu bytes, at most %zu)",
			    strlen(o->guest_cmd), (size_t)LG_CMDLINE_MAX - 1);
	}

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(nopts, argv, ":vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!parse_size_arg(optarg, &o->mem_size))
				die("--mem=%s: not a size (try 64M or 1G)", optarg);
			if (o->mem_size < MIN_MEM || o->mem_size > MAX_MEM ||
			    o->mem_size % (2 << 20))
				die("--mem=%s: must be a multiple of 2M between 16M and 64G",
				    optarg);
			break;
		case 'b':
		case 'H':
			parse_block(optarg, o, c == 'H');
			break;
		case 'c':
			parse_console(optarg, o);
			break;
		case 'n':
		case 'p':
			parse_net(optarg, o, c == 'p');
			break;
		case 'u':
			if (!*optarg)
				die("--user needs a user name");
			o->user = optarg;
			break;
		case 'C':
			if (!*optarg)
				die("--chroot needs a directory");
			o->chroot_dir = optarg;
			break;
		case 'E':
			if (!strcmp(optarg, "on") || !strcmp(optarg, "off"))
				o->seccomp = !strcmp(optarg, "on");
			else
				die("--seccomp=%s: on or off", optarg);
			break;
		case 'r':
			if (!parse_layout(optarg, &o->ring.layout))
				die("--ring=%s: unknown layout (draft3, split or packed)", optarg);
			break;
		case 'q':
			o->ring.qsize = parse_qsize(optarg, "--qsize");
			break;
		case 'N':
			o->ioeventfd = false;
			break;
		case 'P':
			o->poll_us = parse_poll(optarg, NULL);
			break;
		case 't':
			o->trace = true;
			o->trace_filter = optarg;
			break;
		case 'T':
			if (!*optarg)
				die("--trace-file needs a file name");
			o->trace_file = optarg;
			break;
		case 'B': {
			uint64_t n;

			if (!parse_size_arg(optarg, &n) || n < 16 || n > (1 << 20) || (n & (n - 1)))
				die("--trace-buffer=%s: must be a power of two from 16 to 1048576",
				    optarg);
			o->trace_buffer = (uint32_t)n;
			break;
		}
		case 's':
			o->stats = true;
			break;
		case 'S':
			if (!*optarg)
				die("--stats-json needs a file name");
			o->stats_json = optarg;
			break;
		case 'k':
			o->kvm_path = optarg;
			break;
		case 'K':
			if (!strcmp(optarg, "auto"))
				o->backend = BACKEND_AUTO;
			else if (!strcmp(optarg, "kvm"))
				o->backend = BACKEND_KVM;
			else if (!strcmp(optarg, "process"))
				o->backend = BACKEND_PROCESS;
			else
				die("--backend=%s: unknown backend (auto, kvm or process)", optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("lguest %s\n", LGUEST_VERSION);
			exit(0);
		case ':':
			die("option %s needs a value (see --help)", argv[optind - 1]);
		default:
			die("unknown option %s (see --help)", argv[optind - 1]);
		}
	}
	/* No KERNEL: main.c finds the installed one (install_paths.h). */
	if (nopts - optind > 1)
		die("unexpected argument '%s' (guest commands go after --)", argv[optind + 1]);
	o->kernel = optind < nopts ? argv[optind] : NULL;

	/* Per-device settings win over --ring / --qsize, whatever the order given. */
	resolve_ring(&o->console_ring, &o->ring, "--console");
	for (int i = 0; i < o->nblocks; i++) {
		struct block_opt *b = &o->blocks[i];

		if (!b->vhost_user) {
			resolve_ring(&b->ring, &o->ring, b->arg);
			if (b->queues > 1 && b->ring.layout == LG_RING_DRAFT3)
				die("%s: queues=%u: a draft III device has one pair of queues, by "
				    "design; multi-queue needs ring=split or ring=packed",
				    b->arg, b->queues);
			continue;
		}
		/*
		 * vhost-user carries virtio 1.x rings only: split unless the
		 * device or --ring asks otherwise, and draft III is an error.
		 */
		if (b->ring.layout == LAYOUT_DEFAULT && o->ring.layout == LAYOUT_DEFAULT)
			b->ring.layout = LG_RING_SPLIT;
		resolve_ring(&b->ring, &o->ring, b->arg);
		if (b->ring.layout == LG_RING_DRAFT3)
			die("--vhost-user-blk=%s: draft III queues cannot be served over vhost-user "
			    "(it carries virtio 1.x rings): use ring=split or ring=packed",
			    b->path);
	}
	for (int i = 0; i < o->nnets; i++)
		resolve_ring(&o->nets[i].ring, &o->ring, o->nets[i].arg);
	check_default_qsize(o);
}
