// SPDX-License-Identifier: GPL-2.0
/*
 * options.c: the command line.
 *
 *   lguest [options] KERNEL [-- 'GUEST COMMANDS']
 *
 * Everything after "--" is joined into one command line for the guest
 * shell, so we split argv there ourselves before getopt sees it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lguest_abi.h"
#include "log.h"
#include "options.h"

#define LGUEST_VERSION "0.1.0"

static const char usage_text[] =
	"usage: lguest [options] KERNEL [-- 'GUEST COMMANDS']\n"
	"\n"
	"Boot KERNEL (an ELF64 guest kernel, optionally gzip-compressed) on KVM.\n"
	"GUEST COMMANDS is a ';'-separated command line for the guest shell; lguest\n"
	"then exits with the guest's exit status.  Without it the guest reads\n"
	"commands from stdin (interactively on a terminal: ^A x kills the VM).\n"
	"\n"
	"  --mem=SIZE           guest RAM, e.g. 64M or 1G (default 128M)\n"
	"  --block=PATH[,ro]    a disk image as the next block device (repeatable)\n"
	"  --no-ioeventfd       every NOTIFY exits to the vCPU loop instead of\n"
	"                       waking the device thread inside the kernel\n"
	"  --kvm-device=PATH    the KVM device (default /dev/kvm)\n"
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

static void parse_block(const char *arg, struct options *o)
{
	struct block_opt *b;
	char *copy, *opt;

	if (o->nblocks == MAX_BLOCKS)
		die("--block: at most %d block devices", MAX_BLOCKS);
	copy = strdup(arg);
	if (!copy)
		die("out of memory");
	b = &o->blocks[o->nblocks++];
	b->path = strtok(copy, ",");
	if (!b->path || !*b->path)
		die("--block needs a path: --block=PATH[,ro]");
	while ((opt = strtok(NULL, ","))) {
		if (!strcmp(opt, "ro"))
			b->read_only = true;
		else
			die("--block=%s: unknown option '%s' (known: ro)", arg, opt);
	}
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
		{ "no-ioeventfd", no_argument, NULL, 'N' },
		{ "kvm-device", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int nopts = argc, c;

	*o = (struct options){ .mem_size = DEFAULT_MEM, .ioeventfd = true, .kvm_path = "/dev/kvm" };
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
			parse_block(optarg, o);
			break;
		case 'N':
			o->ioeventfd = false;
			break;
		case 'k':
			o->kvm_path = optarg;
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
	if (optind == nopts)
		die("no kernel given (usage: lguest [options] KERNEL [-- 'COMMANDS'])");
	if (nopts - optind > 1)
		die("unexpected argument '%s' (guest commands go after --)", argv[optind + 1]);
	o->kernel = argv[optind];
}
