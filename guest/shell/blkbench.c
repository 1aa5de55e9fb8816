// SPDX-License-Identifier: GPL-2.0
/*
 * blkbench.c: a block benchmark that runs inside the guest.
 *
 * It keeps qd requests in flight: submit them all, kick once, and each
 * time completions come back, resubmit that many and kick once more.  Each
 * request's latency is rdtsc at submit to rdtsc at reap, so it includes the
 * NOTIFY, the device's work, the signal and our own wakeup: what an
 * application in the guest would see.
 */
#include "blk.h"
#include "hcall.h"
#include "kernel.h"
#include "shell.h"

#define MAX_SAMPLES (1u << 20)
#define MAX_QD	    128

enum pattern { RANDREAD, RANDWRITE, SEQREAD };

struct bench {
	enum pattern pattern;
	uint64_t bs, qd, count, secs;
	struct blkdev *bd;
	uint64_t nblocks; /* capacity in units of bs */
	uint64_t next_seq;
	uint64_t rng;
};

static uint64_t next_block(struct bench *b)
{
	if (b->pattern == SEQREAD)
		return b->next_seq++ % b->nblocks;
	/* xorshift64: cheap, and good enough to scatter offsets. */
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng % b->nblocks;
}

static bool parse_args(struct bench *b, int argc, char **argv)
{
	if (argc < 2)
		return false;
	if (!strcmp(argv[1], "randread"))
		b->pattern = RANDREAD;
	else if (!strcmp(argv[1], "randwrite"))
		b->pattern = RANDWRITE;
	else if (!strcmp(argv[1], "seqread"))
		b->pattern = SEQREAD;
	else
		return false;
	b->bs = 4096;
	b->qd = 1;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "bs=", 3) && parse_size(a + 3, &b->bs))
			continue;
		if (!strncmp(a, "qd=", 3) && parse_u64(a + 3, &b->qd))
			continue;
		if (!strncmp(a, "count=", 6) && parse_u64(a + 6, &b->count))
			continue;
		if (!strncmp(a, "secs=", 5) && parse_u64(a + 5, &b->secs))
			continue;
		if (!strncmp(a, "dev=", 4) && (b->bd = shell_blkdev(a)))
			continue;
		printk("blkbench: bad argument '%s'\n", a);
		return false;
	}
	if (!b->count && !b->secs)
		b->count = 10000;
	if (!b->bs || b->bs % PAGE_SIZE || b->bs > (16u << 20)) {
		printk("blkbench: bs must be a multiple of 4K, at most 16M\n");
		return false;
	}
	if (!b->qd || b->qd > MAX_QD) {
		printk("blkbench: qd must be 1..%d\n", MAX_QD);
		return false;
	}
	return true;
}

static void print_us(const char *label, uint64_t ns)
{
	printk(" %s %lu.%lu us", label, ns / 1000, ns % 1000 / 100);
}

int cmd_blkbench(int argc, char **argv)
{
	struct bench b = { .rng = 0x9e3779b97f4a7c15ULL ^ rdtsc() };
	struct blk_req *reqs;
	uint64_t *lat;
	char *bufs;
	uint64_t done = 0, submitted = 0, nsamples = 0, errors = 0;
	uint64_t start, deadline, elapsed_ns;
	size_t req_pages, lat_pages, buf_pages;
	int status = 0;

	if (!parse_args(&b, argc, argv)) {
		printk("usage: blkbench randread|randwrite|seqread bs=SIZE qd=N [count=N|secs=N] "
		       "[dev=N]\n");
		return 2;
	}
	if (!b.bd && !(b.bd = shell_blkdev(NULL)))
		return 2;
	b.nblocks = blk_capacity(b.bd) * LG_SECTOR_SIZE / b.bs;
	if (!b.nblocks) {
		printk("blkbench: %s is smaller than bs\n", blk_name(b.bd));
		return 1;
	}

	req_pages = DIV_ROUND_UP(b.qd * sizeof(struct blk_req), PAGE_SIZE);
	lat_pages = DIV_ROUND_UP(MAX_SAMPLES * sizeof(uint64_t), PAGE_SIZE);
	buf_pages = b.qd * b.bs / PAGE_SIZE;
	reqs = alloc_pages(req_pages);
	lat = alloc_pages(lat_pages);
	bufs = alloc_pages(buf_pages);
	if (!reqs || !lat || !bufs) {
		printk("blkbench: not enough guest memory (try --mem)\n");
		status = 1;
		goto out;
	}
	if (b.pattern == RANDWRITE)
		memset(bufs, 0x5a, buf_pages * PAGE_SIZE);

	start = rdtsc();
	deadline = b.secs ? start + ns_to_tsc(b.secs * 1000000000ULL) : ~0ULL;
	for (uint64_t i = 0; i < b.qd; i++) {
		reqs[i].type = b.pattern == RANDWRITE ? BLK_T_WRITE : BLK_T_READ;
		reqs[i].buf = bufs + i * b.bs;
		reqs[i].len = b.bs;
	}
	/* Prime the queue: qd requests, one kick. */
	for (uint64_t i = 0; i < b.qd && (!b.count || submitted < b.count); i++) {
		reqs[i].sector = next_block(&b) * (b.bs / LG_SECTOR_SIZE);
		if (blk_submit(b.bd, &reqs[i]))
			break;
		submitted++;
	}
	blk_kick(b.bd);
	while (done < submitted) {
		struct blk_req *r = blk_reap_wait(b.bd);
		bool more;

		if (!r) {
			printk("blkbench: %s stopped\n", blk_name(b.bd));
			status = 1;
			goto out;
		}
		/* Reap everything that is ready, resubmitting as we go; kick once. */
		do {
			uint64_t now = rdtsc();

			done++;
			errors += r->status != D3_BLK_S_OK;
			if (nsamples < MAX_SAMPLES)
				lat[nsamples++] = now - r->submit_tsc;
			more = b.count ? submitted < b.count : now < deadline;
			if (more) {
				r->sector = next_block(&b) * (b.bs / LG_SECTOR_SIZE);
				if (blk_submit(b.bd, r) == 0)
					submitted++;
			}
		} while ((r = blk_reap(b.bd)));
		blk_kick(b.bd);
	}
	elapsed_ns = tsc_to_ns(rdtsc() - start);
	if (!elapsed_ns)
		elapsed_ns = 1;

	sort_u64(lat, nsamples);
	printk("blkbench %s bs=%lu qd=%lu: %lu ops in %lu.%03lu s: %lu IOPS, %lu.%lu MB/s,",
	       argv[1], b.bs, b.qd, done, elapsed_ns / 1000000000, elapsed_ns / 1000000 % 1000,
	       done * 1000000000 / elapsed_ns, done * b.bs * 1000 / elapsed_ns,
	       done * b.bs * 10000 / elapsed_ns % 10);
	print_us("p50", tsc_to_ns(lat[nsamples / 2]));
	print_us("p99", tsc_to_ns(lat[nsamples * 99 / 100]));
	printk(", %lu errors\n", errors);
	status = errors ? 1 : 0;
out:
	free_pages(bufs, buf_pages);
	free_pages(lat, lat_pages);
	free_pages(reqs, req_pages);
	return status;
}
