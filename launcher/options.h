/* SPDX-License-Identifier: GPL-2.0 */
/* options.h: the command line. */
#ifndef LAUNCHER_OPTIONS_H
#define LAUNCHER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_BLOCKS  16
#define DEFAULT_MEM (128ULL << 20)
#define MIN_MEM	    (16ULL << 20)
#define MAX_MEM	    (64ULL << 30)

struct block_opt {
	const char *path;
	bool read_only;
};

struct options {
	uint64_t mem_size;
	struct block_opt blocks[MAX_BLOCKS];
	int nblocks;
	bool ioeventfd; /* NOTIFY through KVM_IOEVENTFD (default) or by exit */
	bool verbose;
	const char *kernel;
	const char *kvm_path; /* /dev/kvm unless --kvm-device */
	char *guest_cmd;      /* NULL: interactive or read from stdin */
};

/*
 * Parse argv into *o.  Bad input dies with one line; --help and --version
 * print and exit 0.  Everything after "--" is the guest's command line.
 */
void parse_options(int argc, char **argv, struct options *o);

/* "64M", "1G", "4096": bytes; false on junk or overflow. */
bool parse_size_arg(const char *s, uint64_t *out);

#endif /* LAUNCHER_OPTIONS_H */
