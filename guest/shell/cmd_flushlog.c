// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_flushlog.c: flushlog, a write + FLUSH workload whose console output
 * is a log of what the disk promised to keep.
 *
 * The crash tests (tests/e2e/cases_crash.py, tests/crash/crashbench.py)
 * kill the launcher, or the process backend's guest process, at a random
 * moment while this runs, then read the image.  Every write the guest saw
 * FLUSH acknowledged must be there: that is all a FLUSH promises, and all
 * a database or a journalling file system on this disk relies on.
 *
 * The region SECTOR .. SECTOR+COUNT-1 is cut into slots of SLOT_SECTORS.
 * Each round (a "batch"):
 *
 *   1. pick 1..qd distinct slots; for each, a write of 1..SLOT_SECTORS
 *      sectors from the slot's first sector, with the next sequence number;
 *   2. submit them all, kick once, reap them all (they are in flight
 *      together: the device may serve them in any order);
 *   3. submit a FLUSH and reap it.  A FLUSH covers the writes that
 *      completed before it was submitted, which is why step 2 waits for
 *      every write first;
 *   4. print "acked SEQ SLOT NSECT" for each write of the batch.
 *
 * Each line ends in a newline, and the console driver publishes a buffer
 * on the console's ring, and NOTIFYs, at every newline: so when the next
 * batch's writes are issued, the acks of this one have left the guest.
 * (The launcher may not have written them to its stdout yet when it is
 * killed; the tests check only the acks they saw.)
 *
 * A slot is rewritten only in a later batch, after the earlier write to it
 * completed and was flushed: two writes to one sector are never in flight
 * together, so what a sector holds after a crash is either the last
 * flushed write's record or that of a later write to it.
 *
 * Every sector written is a self-describing record (struct flushlog_rec),
 * so the checker can tell, sector by sector, whose data is there: torn
 * sectors, zeros that were never written over and records of the wrong
 * slot or an older write all show.
 */
#include "blk.h"
#include "hcall.h"
#include "kernel.h"
#include "shell.h"

#define SLOT_SECTORS 16 /* 8 KiB: two host pages, so a write can tear between them */
#define MAX_QD	     16
#define DEFAULT_QD   8

/*
 * One 512-byte sector as written (little-endian, as x86 stores it).  The
 * filler depends on seq, slot and index, so a sector holding another
 * write's bytes fails the CRC even where the header happens to match.
 */
struct flushlog_rec {
	char magic[8];	/* FLUSHLOG_MAGIC, no NUL */
	uint64_t seq;	/* the write's sequence number, from 1 */
	uint32_t slot;	/* slot number within the region */
	uint16_t index; /* this sector's place in the write, 0 .. count-1 */
	uint16_t count; /* sectors in the write */
	uint8_t fill[484];
	uint32_t crc; /* CRC-32 (zlib's) of everything before it */
};
_Static_assert(sizeof(struct flushlog_rec) == LG_SECTOR_SIZE, "one record per sector");

#define FLUSHLOG_MAGIC "LGFLUSH1"

struct flushlog {
	struct blkdev *bd;
	uint64_t first_sector, nslots, qd, secs;
	uint64_t rng;
	uint64_t next_seq;
	/* Totals, for the summary line with secs=N. */
	uint64_t writes, flushes;
};

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64: plenty to scatter slots and sizes. */
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void fill_record(struct flushlog_rec *r, uint64_t seq, uint32_t slot, uint16_t index,
			uint16_t count)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ULL ^ (uint64_t)slot << 32 ^ index ^ 1;

	memcpy(r->magic, FLUSHLOG_MAGIC, sizeof(r->magic));
	r->seq = seq;
	r->slot = slot;
	r->index = index;
	r->count = count;
	for (size_t i = 0; i < sizeof(r->fill); i++)
		r->fill[i] = (uint8_t)(next_random(&x) >> 56);
	r->crc = crc32_le(0, r, offsetof(struct flushlog_rec, crc));
}

static bool parse_args(struct flushlog *f, int argc, char **argv)
{
	uint64_t sector, count;

	if (argc < 3 || !parse_u64(argv[1], &sector) || !parse_u64(argv[2], &count))
		return false;
	f->qd = DEFAULT_QD;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "qd=", 3) && parse_u64(a + 3, &f->qd))
			continue;
		if (!strncmp(a, "secs=", 5) && parse_u64(a + 5, &f->secs))
			continue;
		if (!strncmp(a, "dev=", 4) && (f->bd = shell_blkdev(a)))
			continue;
		printk("flushlog: bad argument '%s'\n", a);
		return false;
	}
	if (!f->bd && !(f->bd = shell_blkdev(NULL)))
		return false;
	f->first_sector = sector;
	f->nslots = count / SLOT_SECTORS;
	if (!f->nslots || sector + count < sector || sector + count > blk_capacity(f->bd)) {
		printk("flushlog: COUNT must be at least %d sectors, within %s's %lu\n",
		       SLOT_SECTORS, blk_name(f->bd), (unsigned long)blk_capacity(f->bd));
		return false;
	}
	if (!f->qd || f->qd > MAX_QD) {
		printk("flushlog: qd must be 1..%d\n", MAX_QD);
		return false;
	}
	/* Distinct slots per batch: never more writes in flight than slots. */
	if (f->qd > f->nslots)
		f->qd = f->nslots;
	return true;
}

/* Batch slots must differ: two writes to one sector in flight have no order. */
static uint32_t pick_slot(struct flushlog *f, const struct blk_req *reqs, uint64_t n)
{
	for (;;) {
		uint32_t slot = (uint32_t)(next_random(&f->rng) % f->nslots);
		uint64_t sector = f->first_sector + (uint64_t)slot * SLOT_SECTORS;
		bool taken = false;

		for (uint64_t i = 0; i < n; i++)
			taken |= reqs[i].sector == sector;
		if (!taken)
			return slot;
	}
}

/* Step 1 and 2: fill, submit and reap one batch.  Returns the batch size, or < 0. */
static int write_batch(struct flushlog *f, struct blk_req *reqs, char *bufs)
{
	uint64_t n = 1 + next_random(&f->rng) % f->qd, submitted = 0, done = 0;
	int status = D3_BLK_S_OK;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t slot = pick_slot(f, reqs, i);
		uint16_t count = (uint16_t)(1 + next_random(&f->rng) % SLOT_SECTORS);
		struct flushlog_rec *rec = (void *)(bufs + i * SLOT_SECTORS * LG_SECTOR_SIZE);

		for (uint16_t s = 0; s < count; s++)
			fill_record(&rec[s], f->next_seq + i, slot, s, count);
		reqs[i] = (struct blk_req){
			.type = BLK_T_WRITE,
			.sector = f->first_sector + (uint64_t)slot * SLOT_SECTORS,
			.buf = rec,
			.len = count * LG_SECTOR_SIZE,
		};
	}
	/*
	 * A queue smaller than the batch takes what it can.  The rest of the
	 * batch is dropped before it reaches the device, and its sequence
	 * numbers are handed out again next time (cmd_flushlog advances by
	 * what was submitted), so the acked numbers stay 1, 2, 3, ...
	 */
	for (; submitted < n; submitted++) {
		if (blk_submit(f->bd, &reqs[submitted]))
			break;
	}
	if (!submitted) {
		printk("flushlog: %s: cannot submit a write\n", blk_name(f->bd));
		return -1;
	}
	blk_kick(f->bd);
	for (; done < submitted; done++) {
		struct blk_req *r = blk_reap_wait(f->bd);

		if (!r) {
			printk("flushlog: %s stopped\n", blk_name(f->bd));
			return -1;
		}
		if (r->status != D3_BLK_S_OK)
			status = r->status;
	}
	f->writes += submitted;
	if (status != D3_BLK_S_OK) {
		printk("flushlog: write failed with status %d\n", status);
		return -1;
	}
	return (int)submitted;
}

int cmd_flushlog(int argc, char **argv)
{
	struct flushlog f = { .rng = 0x9e3779b97f4a7c15ULL ^ rdtsc(), .next_seq = 1 };
	size_t buf_pages = MAX_QD * SLOT_SECTORS * LG_SECTOR_SIZE / PAGE_SIZE;
	static struct blk_req reqs[MAX_QD];
	uint64_t deadline;
	char *bufs;
	int status = 0;

	if (!parse_args(&f, argc, argv)) {
		printk("usage: flushlog SECTOR COUNT [qd=N] [secs=N] [dev=N]\n");
		return 2;
	}
	bufs = alloc_pages(buf_pages);
	if (!bufs) {
		printk("flushlog: not enough guest memory\n");
		return 1;
	}
	printk("flushlog: %s sectors %lu..%lu, %lu slots of %d sectors, qd %lu\n", blk_name(f.bd),
	       (unsigned long)f.first_sector,
	       (unsigned long)(f.first_sector + f.nslots * SLOT_SECTORS - 1),
	       (unsigned long)f.nslots, SLOT_SECTORS, (unsigned long)f.qd);
	deadline = f.secs ? rdtsc() + ns_to_tsc(f.secs * 1000000000ULL) : ~0ULL;
	while (rdtsc() < deadline) {
		int n = write_batch(&f, reqs, bufs), r;

		if (n < 0) {
			status = 1;
			break;
		}
		/* Step 3: the writes above have completed; now make them durable. */
		r = blk_rw(f.bd, BLK_T_FLUSH, 0, NULL, 0);
		f.flushes++;
		if (r != D3_BLK_S_OK) {
			printk("flushlog: FLUSH failed with status %d\n", r);
			status = 1;
			break;
		}
		/* Step 4: only now may anyone rely on them. */
		for (int i = 0; i < n; i++)
			printk("acked %lu %lu %u\n", (unsigned long)(f.next_seq + i),
			       (unsigned long)((reqs[i].sector - f.first_sector) / SLOT_SECTORS),
			       reqs[i].len / LG_SECTOR_SIZE);
		f.next_seq += n;
	}
	if (!status)
		printk("flushlog: %lu writes, %lu flushes\n", (unsigned long)f.writes,
		       (unsigned long)f.flushes);
	free_pages(bufs, buf_pages);
	return status;
}
