// SPDX-License-Identifier: GPL-2.0
/*
 * blkbench.c: a block benchmark that runs inside the guest.
 *
 * It keeps qd requests in flight: submit them all, kick once, and each
 * time completions come back, resubmit that many and kick once more.  Each
 * request's latency is rdtsc at submit to rdtsc at reap, so it includes the
 * NOTIFY, the device's work, the signal and our own wakeup: what an
 * application in the guest would see.
 *
 * randwrite flush=N sends a FLUSH after every N writes, as a database
 * committing every N pages would; flushes are not counted as ops and have
 * no latency sample, but their cost shows in the IOPS.  pct prints the
 * latency distribution as percentiles (one line, for plotting).
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
	uint64_t flush_every; /* randwrite: a FLUSH after this many writes (0: never) */
	bool pct;	      /* print the latency percentiles */
	struct blkdev *bd;
	uint64_t nblocks; /* capacity in units of bs */
	uint64_t next_seq;
	uint64_t rng;
	/* Progress, for next_request(). */
	uint64_t submitted;   /* reads or writes (not flushes) */
	uint64_t since_flush; /* writes since the last FLUSH */
	uint64_t deadline;    /* tsc, with secs= */
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
		if (!strncmp(a, "flush=", 6) && parse_u64(a + 6, &b->flush_every))
			continue;
		if (!strcmp(a, "pct")) {
			b->pct = true;
			continue;
		}
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
	if (b->flush_every && b->pattern != RANDWRITE) {
		printk("blkbench: flush= needs randwrite\n");
		return false;
	}
	return true;
}

static void print_us(const char *label, uint64_t ns)
{
	printk(" %s %lu.%lu us", label, ns / 1000, ns % 1000 / 100);
}

/*
 * Fill @r with the next request: a FLUSH when flush=N says one is due,
 * else the next read or write.  Returns false when the run is over.
 * Nothing is counted until submitted() says the queue took it.
 */
static bool next_request(struct bench *b, struct blk_req *r, uint64_t now)
{
	if (b->flush_every && b->since_flush == b->flush_every) {
		r->type = BLK_T_FLUSH;
		r->sector = 0;
		r->len = 0;
		return true;
	}
	if (b->count ? b->submitted == b->count : now >= b->deadline)
		return false;
	r->type = b->pattern == RANDWRITE ? BLK_T_WRITE : BLK_T_READ;
	r->sector = next_block(b) * (b->bs / LG_SECTOR_SIZE);
	r->len = b->bs;
	return true;
}

static void submitted(struct bench *b, const struct blk_req *r)
{
	if (r->type == BLK_T_FLUSH) {
		b->since_flush = 0;
	} else {
		b->submitted++;
		b->since_flush++;
	}
}

/* The latency distribution, for plots: "pP=US" at fixed percentiles. */
static void print_percentiles(const uint64_t *lat, uint64_t n)
{
	/* Per mille, so that 99.5 and 99.9 fit in integers. */
	static const uint16_t permille[] = { 0,	  10,  20,  50,	 100, 200, 300, 400, 500, 600,
					     700, 800, 900, 950, 980, 990, 995, 999, 1000 };

	printk("blkbench latency us:");
	for (size_t i = 0; i < ARRAY_SIZE(permille); i++) {
		uint64_t at = n * permille[i] / 1000, ns;

		ns = tsc_to_ns(lat[at < n ? at : n - 1]);
		printk(" p%u", permille[i] / 10);
		if (permille[i] % 10)
			printk(".%u", permille[i] % 10);
		printk("=%lu.%lu", ns / 1000, ns % 1000 / 100);
	}
	printk("\n");
}

int cmd_blkbench(int argc, char **argv)
{
	struct bench b = { .rng = 0x9e3779b97f4a7c15ULL ^ rdtsc() };
	struct blk_req *reqs;
	uint64_t *lat;
	char *bufs;
	uint64_t done = 0, inflight = 0, flushes = 0, nsamples = 0, errors = 0;
	uint64_t start, elapsed_ns;
	size_t req_pages, lat_pages, buf_pages;
	int status = 0;

	if (!parse_args(&b, argc, argv)) {
		printk("usage: blkbench randread|randwrite|seqread bs=SIZE qd=N [count=N|secs=N] "
		       "[flush=N] [pct] [dev=N]\n");
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
	b.deadline = b.secs ? start + ns_to_tsc(b.secs * 1000000000ULL) : ~0ULL;
	for (uint64_t i = 0; i < b.qd; i++)
		reqs[i].buf = bufs + i * b.bs;
	/* Prime the queue: qd requests, one kick. */
	for (uint64_t i = 0; i < b.qd && next_request(&b, &reqs[i], start); i++) {
		if (blk_submit(b.bd, &reqs[i]))
			break;
		submitted(&b, &reqs[i]);
		inflight++;
	}
	blk_kick(b.bd);
	while (inflight) {
		struct blk_req *r = blk_reap_wait(b.bd);

		if (!r) {
			printk("blkbench: %s stopped\n", blk_name(b.bd));
			status = 1;
			goto out;
		}
		/* Reap everything that is ready, resubmitting as we go; kick once. */
		do {
			uint64_t now = rdtsc();

			inflight--;
			errors += r->status != D3_BLK_S_OK;
			if (r->type == BLK_T_FLUSH) {
				flushes++;
			} else {
				done++;
				if (nsamples < MAX_SAMPLES)
					lat[nsamples++] = now - r->submit_tsc;
			}
			/* A full queue (qd above its size) leaves this slot idle. */
			if (next_request(&b, r, now) && blk_submit(b.bd, r) == 0) {
				submitted(&b, r);
				inflight++;
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
	if (b.flush_every)
		printk(", %lu flushes", flushes);
	printk(", %lu errors\n", errors);
	if (b.pct && nsamples)
		print_percentiles(lat, nsamples);
	status = errors ? 1 : 0;
out:
	free_pages(bufs, buf_pages);
	free_pages(lat, lat_pages);
	free_pages(reqs, req_pages);
	return status;
}
