/* SPDX-License-Identifier: GPL-2.0 */
/* options.h: the command line. */
#ifndef LAUNCHER_OPTIONS_H
#define LAUNCHER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "aio/aio.h"

#define MAX_BLOCKS  16
#define DEFAULT_MEM (128ULL << 20)
#define MIN_MEM	    (16ULL << 20)
#define MAX_MEM	    (64ULL << 30)

#define DEFAULT_QSIZE 256
#define MIN_QSIZE     4 /* a block request takes 3 descriptors */
#define MAX_QSIZE     32768

#define MAX_POLL_US 10000 /* the polling window: spinning longer is sleeping with the CPU on */

/* How a device's queues are laid out: --ring, and ring=... on a device. */
struct ring_opt {
	uint8_t layout;	  /* LG_RING_*; LAYOUT_DEFAULT until resolved */
	uint16_t qsize;	  /* split/packed entries; 0 until resolved */
	int8_t indirect;  /* offer VIRTIO_F_INDIRECT_DESC: 1, 0, -1 = default (no) */
	int8_t event_idx; /* offer VIRTIO_F_RING_EVENT_IDX: 1, 0, -1 = default (yes) */
};
#define LAYOUT_DEFAULT 0xff

#define MAX_NETS 8

/* --tunnet=IP[/PREFIX] | --tunnet=bridge:NAME | --tap=NAME, each [,mac=MAC][,RING] */
struct net_opt {
	enum { NET_TUNNET_IP, NET_TUNNET_BRIDGE, NET_TAP } kind;
	const char *arg;  /* the option as given ("--tap=NAME,..."), for messages */
	const char *name; /* bridge or tap name */
	uint32_t ip;	  /* host address, network byte order (NET_TUNNET_IP) */
	unsigned int prefix;
	uint8_t mac[6]; /* the guest's */
	bool has_mac;
	struct ring_opt ring;
};

struct block_opt {
	const char *path; /* the image, or with vhost_user the backend's socket */
	const char *arg;  /* the option as given ("--block=IMG,..."), for messages */
	bool read_only;
	bool vhost_user;   /* --vhost-user-blk: served by another process */
	bool in_kernel;	   /* --block=...,device=kernel: served by lguest_host.ko */
	enum aio_kind aio; /* aio=: the I/O engine (AIO_DEFAULT: io_uring, else threads) */
	bool aio_set;
	int poll_us;	     /* poll=USECS: the polling window; -1: --poll's */
	unsigned int queues; /* queues=N: request queues (split, packed); 0: one */
	struct ring_opt ring;
};

/* --user, resolved by main.c before anything starts. */
struct run_as {
	bool set;
	uid_t uid;
	gid_t gid;
};

/* --backend: where the guest's CPU runs (launcher/backend.h). */
enum backend_choice { BACKEND_AUTO, BACKEND_KVM, BACKEND_PROCESS };

struct options {
	uint64_t mem_size;
	enum backend_choice backend;
	struct block_opt blocks[MAX_BLOCKS];
	int nblocks;
	struct net_opt nets[MAX_NETS];
	int nnets;
	const char *user;	/* --user: run as this user after setup */
	struct run_as run_as;	/* its uid and gid */
	const char *chroot_dir; /* --chroot: and inside this directory */
	bool seccomp;		/* --seccomp=on|off: filter the launcher's threads (default on) */
	struct ring_opt ring;	/* --ring, --qsize: the default for every device */
	struct ring_opt console_ring;
	bool ioeventfd;	      /* NOTIFY through KVM_IOEVENTFD (default) or by exit */
	unsigned int poll_us; /* --poll: every block device's polling window (default 0) */
	bool verbose;
	bool trace;		  /* --trace: ring events on stderr at exit */
	const char *trace_filter; /* --trace=FILTER */
	const char *trace_file;	  /* --trace-file=FILE.json */
	uint32_t trace_buffer;	  /* --trace-buffer: the guest's trace ring, events */
	bool stats;		  /* --stats: the counters table at exit */
	const char *stats_json;	  /* --stats-json=FILE */
	const char *kernel;	  /* NULL: none given, main.c uses the installed one */
	const char *kvm_path; /* /dev/kvm unless --kvm-device */
	char *guest_cmd;      /* NULL: interactive or read from stdin */
};

/*
 * Parse argv into *o.  Bad input dies with one line; --help and --version
 * print and exit 0.  Everything after "--" is the guest's command line.
 */
void parse_options(int argc, char **argv, struct options *o);

/* "draft3", "split", "packed" -> LG_RING_*; false if none of them. */
bool parse_layout(const char *s, uint8_t *layout);
const char *layout_name(uint8_t layout);

/* "64M", "1G", "4096": bytes; false on junk or overflow. */
bool parse_size_arg(const char *s, uint64_t *out);

#endif /* LAUNCHER_OPTIONS_H */
