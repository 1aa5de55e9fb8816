/* SPDX-License-Identifier: GPL-2.0 */
/* shell.h: the guest shell's commands. */
#ifndef GUEST_SHELL_H
#define GUEST_SHELL_H

#include "ext2.h"

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(int argc, char **argv); /* exit status */
};

/* Run the boot command line, or read commands from the console. */
int shell_main(const char *cmdline, bool interactive);

/* The ext2 file system on blk0, mounted at first use; NULL (after a message) if none. */
struct ext2_fs *root_fs(void);

/* Parse "blkN" or a device number; NULL after a message if there is none. */
struct blkdev *shell_blkdev(const char *arg);

int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_blkread(int argc, char **argv);
int cmd_blkwrite(int argc, char **argv);
int cmd_blkinfo(int argc, char **argv);
int cmd_flushlog(int argc, char **argv);
int cmd_sleep(int argc, char **argv);
int cmd_ip(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_udpecho(int argc, char **argv);
int cmd_udpsend(int argc, char **argv);
int cmd_netstat(int argc, char **argv);
int cmd_netmisbehave(int argc, char **argv);
int cmd_blkbench(int argc, char **argv);
int cmd_hcbench(int argc, char **argv);
int cmd_misbehave(int argc, char **argv);
int cmd_escape(int argc, char **argv);

#endif /* GUEST_SHELL_H */
