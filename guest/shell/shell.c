// SPDX-License-Identifier: GPL-2.0
/*
 * shell.c: a small non-interactive and interactive command shell.
 *
 * Given a command line at boot ("ls /; cat /a"), it runs each
 * ';'-separated command and exits with the status of the last (or of
 * `exit N`).  Without one it reads lines from the console; on a terminal it
 * echoes and edits them, since the launcher puts the terminal in raw mode.
 */
#include "blk.h"
#include "console.h"
#include "kernel.h"
#include "shell.h"

#define MAX_ARGS 16
#define LINE_MAX 512

static int cmd_echo(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_exit(int argc, char **argv);

static const struct command commands[] = {
	{ "ls", "ls [PATH]", "list a directory", cmd_ls },
	{ "cat", "cat PATH", "print a file", cmd_cat },
	{ "stat", "stat PATH", "show a file's inode", cmd_stat },
	{ "blkread", "blkread SECTOR COUNT [dev=N]", "read sectors, print their CRC-32",
	  cmd_blkread },
	{ "blkwrite", "blkwrite SECTOR COUNT BYTE [dev=N]", "fill sectors with BYTE, then flush",
	  cmd_blkwrite },
	{ "flushlog", "flushlog SECTOR COUNT [qd=N] [secs=N] [dev=N]",
	  "(testing) write + FLUSH for ever, printing each flushed write", cmd_flushlog },
	{ "blkinfo", "blkinfo [dev=N]", "a disk's ring layout, size and (split/packed) id",
	  cmd_blkinfo },
	{ "blkbench",
	  "blkbench randread|randwrite|seqread bs=SIZE qd=N [count=N|secs=N] [flush=N] [pct] [dev=N]",
	  "measure IOPS, MB/s and latency", cmd_blkbench },
	{ "hcbench", "hcbench notify|call|wake [count=N] [dev=N]", "hypercall costs", cmd_hcbench },
	{ "ip", "ip [ADDR/PREFIX]", "configure (or show) net0's IPv4 address", cmd_ip },
	{ "ping", "ping HOST [count=N]", "ICMP echo round trips", cmd_ping },
	{ "udpecho", "udpecho PORT [secs=N] [count=N]", "echo UDP datagrams sent to PORT",
	  cmd_udpecho },
	{ "udpsend", "udpsend HOST PORT count=N size=S [window=W]",
	  "round trips and throughput against a UDP echo server", cmd_udpsend },
	{ "netstat", "netstat", "interface and protocol counters", cmd_netstat },
	{ "echo", "echo [WORDS...]", "print the words", cmd_echo },
	{ "sleep", "sleep SECONDS", "wait, reading nothing", cmd_sleep },
	{ "help", "help", "list the commands", cmd_help },
	{ "exit", "exit [N]", "stop the machine with status N", cmd_exit },
	{ "misbehave", "misbehave RULE", "(testing) break a ring rule on blk0", cmd_misbehave },
	{ "netmisbehave", "netmisbehave RULE", "(testing) break a transmit rule on net0",
	  cmd_netmisbehave },
	{ "escape", "escape RULE [PATH]", "(testing) try to get out of the sandbox", cmd_escape },
};

static bool exit_requested;
static int exit_status;

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printk("%s%s", i > 1 ? " " : "", argv[i]);
	printk("\n");
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (unsigned int i = 0; i < ARRAY_SIZE(commands); i++)
		printk("  %-60s %s\n", commands[i].usage, commands[i].help);
	return 0;
}

static int cmd_exit(int argc, char **argv)
{
	uint64_t n = 0;

	if (argc > 2 || (argc == 2 && (!parse_u64(argv[1], &n) || n > 255))) {
		printk("usage: exit [0-255]\n");
		return 2;
	}
	exit_requested = true;
	exit_status = argc == 2 ? (int)n : exit_status;
	return exit_status;
}

struct blkdev *shell_blkdev(const char *arg)
{
	uint64_t n = 0;

	if (arg && !strncmp(arg, "dev=", 4))
		arg += 4;
	if (arg && !strncmp(arg, "blk", 3))
		arg += 3;
	if (arg && !parse_u64(arg, &n)) {
		printk("no such block device: %s\n", arg);
		return NULL;
	}
	if (n > 64 || !blk_get((int)n)) {
		printk("no block device blk%lu (there %s %d)\n", n, blk_count() == 1 ? "is" : "are",
		       blk_count());
		return NULL;
	}
	return blk_get((int)n);
}

/* Split a command into words at spaces and tabs, in place. */
static int split_words(char *s, char **argv)
{
	int argc = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (!*s)
			break;
		if (argc == MAX_ARGS)
			return -1;
		argv[argc++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	return argc;
}

static int run_command(char *line)
{
	char *argv[MAX_ARGS + 1];
	int argc = split_words(line, argv);

	if (argc < 0) {
		printk("too many words (at most %d)\n", MAX_ARGS);
		return 2;
	}
	if (argc == 0)
		return exit_status;
	argv[argc] = NULL;
	for (unsigned int i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].run(argc, argv);
	}
	printk("%s: command not found (try help)\n", argv[0]);
	return 127;
}

/* Run each ';'-separated command of a line; stop early on `exit`. */
static void run_line(char *line)
{
	while (line && !exit_requested) {
		char *semi = strchr(line, ';');

		if (semi)
			*semi = '\0';
		exit_status = run_command(line);
		console_flush();
		line = semi ? semi + 1 : NULL;
	}
}

/* Read a line from the console; false at end of input. */
static bool read_line(char *buf, size_t size, bool interactive)
{
	size_t len = 0;

	for (;;) {
		int c = console_getc();

		if (c < 0) {
			/* End of input: a last line without a newline still counts. */
			buf[len] = '\0';
			return len > 0;
		}
		if (c == '\r' || c == '\n') {
			if (interactive)
				printk("\n");
			buf[len] = '\0';
			return true;
		}
		if (interactive && (c == 0x7f || c == '\b')) {
			if (len) {
				len--;
				printk("\b \b");
			}
			continue;
		}
		if (interactive && c == 0x04 && len == 0)
			return false; /* ^D on an empty line */
		if (c < ' ' && c != '\t')
			continue;
		if (len + 1 < size) {
			buf[len++] = (char)c;
			if (interactive)
				printk("%c", c);
		}
	}
}

int shell_main(const char *cmdline, bool interactive)
{
	static char line[LINE_MAX];

	if (cmdline) {
		static char copy[LG_PAGE_SIZE];

		size_t n = strlen(cmdline);

		if (n >= sizeof(copy))
			n = sizeof(copy) - 1;
		memcpy(copy, cmdline, n);
		copy[n] = '\0';
		run_line(copy);
		return exit_status;
	}
	if (interactive)
		printk("lguest guest shell: type help; ^D or 'exit' quits (^A x kills the VM)\n");
	while (!exit_requested) {
		if (interactive) {
			printk("# ");
			console_flush();
		}
		if (!read_line(line, sizeof(line), interactive))
			break;
		run_line(line);
	}
	return exit_status;
}
