// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_hcbench.c: what one hypercall costs, seen from the guest.
 *
 *   hcbench notify|call|wake [count=N] [dev=N]
 *
 * Each of count iterations is timed alone with rdtsc, after WARMUP
 * iterations that are not counted, and one line gives the distribution:
 *
 *   hcbench notify: n=10000 min=812 p50=901 p99=1530 mean=934 ns
 *
 * notify  hcall_notify(key) of device dev=N of the device table (default:
 *         the console).  The device thread wakes and finds nothing new; the
 *         figure is what the NOTIFY costs the guest, by whichever path the
 *         launcher set up (ioeventfd or the stub's eventfd write by default,
 *         a launcher vCPU-loop exit with --no-ioeventfd).
 * call    hcall_console(buf, 0): a hypercall the launcher itself answers
 *         (an exit to its vCPU loop and a write() of 0 bytes to stdout).
 * wake    a 512-byte read of sector 0 of block device dev=N (default blk0),
 *         from before blk_submit to the request reaped: publish + NOTIFY,
 *         the device thread's wakeup, its pread (sector 0 is in the host's
 *         page cache after the warm-up), used ring + signal (pending bit and
 *         futex wake), our WAIT returning, and the reap.  We call
 *         hcall_wait(0) directly, not wait_for_signal() which would poll the
 *         pending word first: the figure is the full sleep-and-wake round
 *         trip.  (If the device is quicker than our way into WAIT, WAIT
 *         sees the pending bit and returns at once.)
 */
#include "../drivers/blk_priv.h"
#include "hcall.h"
#include "kernel.h"
#include "shell.h"

#define WARMUP	    200
#define MAX_COUNT   (1u << 22)
#define DEFAULT_CNT 10000

enum mode { NOTIFY, CALL, WAKE };

struct hcbench {
	enum mode mode;
	uint32_t key;	    /* notify */
	struct blkdev *bd;  /* wake */
	struct blk_req req; /* wake */
};

/* One wake round trip; false if the device stopped or the read failed. */
static bool wake_once(struct hcbench *b)
{
	struct blk_req *r;

	if (blk_submit(b->bd, &b->req))
		return false;
	blk_kick(b->bd);
	while (!(r = blk_reap(b->bd))) {
		if (blk_broken(b->bd))
			return false;
		if (lg_device_prepare_wait(&b->bd->dev)) {
			hcall_wait(0);
			take_signals();
		}
	}
	return r == &b->req && r->status == D3_BLK_S_OK;
}

/* One timed iteration, in TSC ticks; ~0 on failure. */
static uint64_t once(struct hcbench *b)
{
	static const char nothing[1];
	uint64_t t0;

	if (b->mode == WAKE)
		take_signals(); /* nothing stale to end the first WAIT early */
	t0 = rdtsc();
	switch (b->mode) {
	case NOTIFY:
		hcall_notify(b->key);
		break;
	case CALL:
		hcall_console(nothing, 0);
		break;
	case WAKE:
		if (!wake_once(b))
			return ~0ULL;
		break;
	}
	return rdtsc() - t0;
}

static bool parse_args(struct hcbench *b, uint64_t *count, int argc, char **argv)
{
	const char *dev_arg = NULL;
	uint64_t dev = 0;

	if (argc < 2)
		return false;
	if (!strcmp(argv[1], "notify"))
		b->mode = NOTIFY;
	else if (!strcmp(argv[1], "call"))
		b->mode = CALL;
	else if (!strcmp(argv[1], "wake"))
		b->mode = WAKE;
	else
		return false;
	for (int i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "count=", 6) && parse_u64(argv[i] + 6, count) && *count &&
		    *count <= MAX_COUNT)
			continue;
		if (!strncmp(argv[i], "dev=", 4) && parse_u64(argv[i] + 4, &dev)) {
			dev_arg = argv[i];
			continue;
		}
		printk("hcbench: bad argument '%s'\n", argv[i]);
		return false;
	}
	if (b->mode == WAKE) {
		b->bd = shell_blkdev(dev_arg);
		return b->bd != NULL;
	}
	if (!dev_arg) { /* the console */
		for (dev = 0; dev < device_count(); dev++)
			if (device_desc(dev)->type == LG_DEV_CONSOLE)
				break;
	}
	if (dev >= device_count()) {
		printk("hcbench: no such device (there are %u)\n", device_count());
		return false;
	}
	b->key = device_desc(dev)->key;
	return true;
}

int cmd_hcbench(int argc, char **argv)
{
	struct hcbench b = { 0 };
	uint64_t count = DEFAULT_CNT, sum = 0, *lat;
	size_t lat_pages;
	char *buf = NULL;
	int status = 0;

	if (!parse_args(&b, &count, argc, argv)) {
		printk("usage: hcbench notify|call|wake [count=N] [dev=N]\n");
		return 2;
	}
	lat_pages = DIV_ROUND_UP(count * sizeof(*lat), PAGE_SIZE);
	lat = alloc_pages(lat_pages);
	if (b.mode == WAKE) {
		buf = alloc_pages(1);
		b.req = (struct blk_req){ .type = BLK_T_READ, .buf = buf, .len = LG_SECTOR_SIZE };
	}
	if (!lat || (b.mode == WAKE && !buf)) {
		printk("hcbench: not enough guest memory (try --mem)\n");
		status = 1;
		goto out;
	}
	for (uint64_t i = 0; i < WARMUP + count; i++) {
		uint64_t t = once(&b);

		if (t == ~0ULL) {
			printk("hcbench: %s: request failed or device stopped\n", blk_name(b.bd));
			status = 1;
			goto out;
		}
		if (i >= WARMUP)
			lat[i - WARMUP] = t;
	}
	sort_u64(lat, count);
	for (uint64_t i = 0; i < count; i++)
		sum += lat[i];
	printk("hcbench %s: n=%lu min=%lu p50=%lu p99=%lu mean=%lu ns\n", argv[1], count,
	       tsc_to_ns(lat[0]), tsc_to_ns(lat[count / 2]), tsc_to_ns(lat[count * 99 / 100]),
	       tsc_to_ns(sum) / count);
out:
	free_pages(buf, 1);
	free_pages(lat, lat_pages);
	return status;
}
