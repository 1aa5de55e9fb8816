// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_sys.c: sleep, and netmisbehave (testing: break a network rule).
 */
#include "hcall.h"
#include "kernel.h"
#include "netdev.h"
#include "shell.h"

/*
 * Sleep without reading anything: devices may still signal (and wake us),
 * but nothing is reaped, so a network device's receive buffers fill up.
 */
int cmd_sleep(int argc, char **argv)
{
	uint64_t secs, until;

	if (argc != 2 || !parse_u64(argv[1], &secs) || secs > 3600) {
		printk("usage: sleep SECONDS\n");
		return 2;
	}
	until = rdtsc() + ns_to_tsc(secs * 1000000000ULL);
	while (rdtsc() < until)
		wait_for_signal(100000);
	return 0;
}

int cmd_netmisbehave(int argc, char **argv)
{
	struct netdev *nd = netdev_get(0);
	uint64_t deadline;

	if (argc != 2 || !nd || !netdev_misbehave(nd, argv[1])) {
		printk("usage: netmisbehave tx-oversize|tx-writable (needs net0; tx-writable: "
		       "split or packed)\n");
		return 2;
	}
	deadline = rdtsc() + ns_to_tsc(5000000000ULL);
	while (!netdev_broken(nd) && rdtsc() < deadline)
		wait_for_signal(100000);
	printk("netmisbehave %s: %s %s\n", argv[1], netdev_name(nd),
	       netdev_broken(nd) ? "stopped" : "did not stop");
	return netdev_broken(nd) ? 1 : 0;
}
