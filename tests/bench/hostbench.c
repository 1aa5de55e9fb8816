// SPDX-License-Identifier: GPL-2.0
/*
 * hostbench.c: the host baselines for blkbench and hcbench.
 *
 *   hostbench randread|randwrite|seqread FILE bs=SIZE qd=N count=N [flush=N] [pct]
 *             [engine=sync|uring] [threads=N]
 *   hostbench pingpong [count=N]
 *
 * Does what the guest's blkbench does, on the host: the same block size,
 * random or sequential offsets over the whole file, N requests in flight,
 * each timed from submit to completion.  Two engines, because the
 * launcher's block device has both kinds and a baseline should do its I/O
 * the way the device does:
 *
 *   engine=sync (the default): threads=N threads (default N = qd), each
 *     doing synchronous pread/pwrite, so N requests are in flight whatever
 *     qd says; threads=1 is the single-threaded figure.  With flush=N,
 *     whichever thread completes the Nth write since the last flush calls
 *     fdatasync, as the guest sends a FLUSH.
 *   engine=uring: ONE thread keeps qd requests in flight with io_uring
 *     (IORING_OP_READ/WRITE, one buffer per slot), as the launcher's
 *     aio=io_uring device thread does.  Short transfers and -EAGAIN/-EINTR
 *     are resubmitted for what is left, and the latency still runs from the
 *     first submit.  With flush=N, after every N completed writes nothing
 *     new is submitted until every write in flight has completed; then one
 *     IORING_OP_FSYNC (DATASYNC) runs and is waited for: the launcher's
 *     FLUSH waits for the writes before it, and nothing after it starts
 *     until it is done.
 *
 * It prints a line in blkbench's format (its qd= is the number of requests
 * in flight: the threads, for engine=sync), "hostbench flushes: N" with
 * flush=, with pct blkbench's percentile line, and then one line of its
 * own that blkbench parsers ignore:
 *
 *   hostbench engine=ENGINE threads=N inflight=N cpu_us_per_op=US
 *
 * cpu_us_per_op is the whole process's user + system time (io_uring's
 * kernel workers included) per request, to put next to the device's.
 * I/O errors print one line and exit 1.
 *
 * pingpong is the baseline for the guest's `hcbench wake`: two threads
 * wake each other through a pair of eventfds, blocking in read() (no
 * spinning), and each round trip (write ours, read theirs: two eventfd
 * wakeups, two context switches or cross-CPU wakeups) is timed, after
 * uncounted warm-up rounds.  It prints a line in hcbench's format.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "options.h"

struct worker {
	pthread_t thread;
	int fd;
	int write;
	int seq;
	uint64_t bs, nblocks, count, first;
	uint64_t *lat;
	uint64_t rng;
	char *buf;
	uint64_t flush_every;
};

static uint64_t writes_done, flushes; /* atomic, shared by the workers */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* blkbench's random blocks: xorshift64, the same steps as the guest's. */
static uint64_t xorshift(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return *rng;
}

static void *run(void *arg)
{
	struct worker *w = arg;

	for (uint64_t i = 0; i < w->count; i++) {
		uint64_t block, t0 = now_ns();
		ssize_t n;

		if (w->seq)
			block = (w->first + i) % w->nblocks;
		else
			block = xorshift(&w->rng) % w->nblocks;
		n = w->write ? pwrite(w->fd, w->buf, w->bs, block * w->bs)
			     : pread(w->fd, w->buf, w->bs, block * w->bs);
		if (n != (ssize_t)w->bs) {
			perror("hostbench: I/O");
			exit(1);
		}
		w->lat[i] = now_ns() - t0;
		if (w->flush_every &&
		    __atomic_add_fetch(&writes_done, 1, __ATOMIC_RELAXED) % w->flush_every == 0) {
			if (fdatasync(w->fd) < 0) {
				perror("hostbench: fdatasync");
				exit(1);
			}
			__atomic_add_fetch(&flushes, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/*
 * engine=sync: @nthreads threads share the @count requests, each doing
 * one at a time; a sequential run gives each thread its own stretch of the
 * file, so that their reads stay sequential.
 */
static void run_sync(int fd, int write, int seq, uint64_t bs, uint64_t nblocks, uint64_t count,
		     uint64_t nthreads, uint64_t flush_every, uint64_t *lat)
{
	struct worker *w = calloc(nthreads, sizeof(*w));
	uint64_t total = 0;

	if (!w) {
		fprintf(stderr, "hostbench: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .fd = fd,
					.write = write,
					.seq = seq,
					.bs = bs,
					.nblocks = nblocks,
					.count = count / nthreads + (i < count % nthreads),
					.first = i * (count / nthreads),
					.flush_every = flush_every,
					.rng = 0x9e3779b97f4a7c15ULL + i };
		w[i].lat = lat + total;
		total += w[i].count;
		if (posix_memalign((void **)&w[i].buf, 4096, bs)) {
			fprintf(stderr, "hostbench: out of memory\n");
			exit(1);
		}
		memset(w[i].buf, 0x5a, bs);
	}
	for (uint64_t i = 0; i < nthreads; i++) {
		if (pthread_create(&w[i].thread, NULL, run, &w[i])) {
			fprintf(stderr, "hostbench: cannot start thread %lu\n", i);
			exit(1);
		}
	}
	for (uint64_t i = 0; i < nthreads; i++) {
		pthread_join(w[i].thread, NULL);
		free(w[i].buf);
	}
	free(w);
}

/* engine=uring: one request slot, one buffer; user_data is its index. */
struct slot {
	uint64_t off;  /* where its block starts in the file */
	uint64_t done; /* bytes transferred: a short transfer resumes here */
	uint64_t t0;   /* its first submit: a resubmitted rest is still the same request */
	char *buf;
};

#define FSYNC_TAG UINT64_MAX /* user_data of the flush, which has no slot */

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	/*
	 * The ring has an entry per slot and one for the flush, and at most
	 * that many are ever in flight, so this is only a full SQ ring of
	 * entries not yet handed over: hand them over and try again.
	 */
	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	if (!sqe) {
		fprintf(stderr, "hostbench: io_uring: no free submission entry\n");
		exit(1);
	}
	return sqe;
}

/* Queue what is left of slot @i's request (all of it, the first time). */
static void queue_io(struct io_uring *ring, int fd, int write, struct slot *slots, uint64_t i,
		     uint64_t bs)
{
	struct slot *s = &slots[i];
	struct io_uring_sqe *sqe = get_sqe(ring);

	if (write)
		io_uring_prep_write(sqe, fd, s->buf + s->done, bs - s->done, s->off + s->done);
	else
		io_uring_prep_read(sqe, fd, s->buf + s->done, bs - s->done, s->off + s->done);
	io_uring_sqe_set_data64(sqe, i);
}

static void queue_fsync(struct io_uring *ring, int fd)
{
	struct io_uring_sqe *sqe = get_sqe(ring);

	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, FSYNC_TAG);
}

/*
 * engine=uring: one thread keeps @qd requests in flight, the offsets in
 * blkbench's order (one random sequence, or the blocks one after another
 * from the start), reaping every completion that is ready and refilling
 * the freed slots with one submit.  Returns the number of flushes.
 */
static uint64_t run_uring(int fd, int write, int seq, uint64_t bs, uint64_t nblocks, uint64_t count,
			  uint64_t qd, uint64_t flush_every, uint64_t *lat)
{
	struct slot *slots = calloc(qd, sizeof(*slots));
	uint64_t *free_slots = calloc(qd, sizeof(*free_slots));
	uint64_t nfree = qd, issued = 0, completed = 0, inflight = 0;
	uint64_t writes = 0, fsyncs_queued = 0, fsyncs_done = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ULL, next_seq = 0;
	bool fsync_inflight = false;
	struct io_uring ring;
	int err;

	if (!slots || !free_slots) {
		fprintf(stderr, "hostbench: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < qd; i++) {
		if (posix_memalign((void **)&slots[i].buf, 4096, bs)) {
			fprintf(stderr, "hostbench: out of memory\n");
			exit(1);
		}
		memset(slots[i].buf, 0x5a, bs);
		free_slots[i] = qd - 1 - i; /* slot 0 first */
	}
	err = io_uring_queue_init(qd + 1, &ring, 0);
	if (err < 0) {
		fprintf(stderr, "hostbench: io_uring_setup (%lu entries): %s\n", qd + 1,
			strerror(-err));
		exit(1);
	}
	for (;;) {
		/* A flush is due every flush_every completed writes. */
		bool flush_due = flush_every && writes / flush_every > fsyncs_queued;
		struct io_uring_cqe *cqe;

		if (completed == count && !flush_due && !fsync_inflight)
			break;
		/*
		 * Like the device's FLUSH: it waits for every write before it,
		 * and nothing new starts until it is done.
		 */
		if (flush_due) {
			if (!inflight && !fsync_inflight) {
				queue_fsync(&ring, fd);
				fsync_inflight = true;
				fsyncs_queued++;
			}
		} else if (!fsync_inflight) {
			while (nfree && issued < count) {
				uint64_t i = free_slots[--nfree], block;

				block = seq ? next_seq++ % nblocks : xorshift(&rng) % nblocks;
				slots[i].off = block * bs;
				slots[i].done = 0;
				slots[i].t0 = now_ns();
				queue_io(&ring, fd, write, slots, i, bs);
				issued++;
				inflight++;
			}
		}
		err = io_uring_submit_and_wait(&ring, 1);
		if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY) {
			fprintf(stderr, "hostbench: io_uring_enter: %s\n", strerror(-err));
			exit(1);
		}
		/* Every completion that is ready, then one submit for what they free. */
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			uint64_t i = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&ring, cqe);
			if (i == FSYNC_TAG) {
				if (res == -EINTR || res == -EAGAIN) {
					queue_fsync(&ring, fd);
					continue;
				}
				if (res < 0) {
					fprintf(stderr, "hostbench: fsync: %s\n", strerror(-res));
					exit(1);
				}
				fsync_inflight = false;
				fsyncs_done++;
				continue;
			}
			if (res == -EINTR || res == -EAGAIN) {
				queue_io(&ring, fd, write, slots, i, bs);
				continue;
			}
			if (res <= 0) {
				fprintf(stderr, "hostbench: I/O at offset %lu: %s\n",
					slots[i].off + slots[i].done,
					res ? strerror(-res) : "unexpected end of file");
				exit(1);
			}
			slots[i].done += (uint64_t)res;
			if (slots[i].done < bs) {
				/* A short transfer: the rest, from where it stopped. */
				queue_io(&ring, fd, write, slots, i, bs);
				continue;
			}
			lat[completed++] = now_ns() - slots[i].t0;
			inflight--;
			writes += write;
			free_slots[nfree++] = i;
		}
	}
	io_uring_queue_exit(&ring);
	for (uint64_t i = 0; i < qd; i++)
		free(slots[i].buf);
	free(slots);
	free(free_slots);
	return fsyncs_done;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* blkbench's "pct" line: the same percentiles, for the same plots. */
static void print_percentiles(const uint64_t *lat, uint64_t n)
{
	static const unsigned int permille[] = { 0,   10,  20,	50,  100, 200, 300, 400, 500, 600,
						 700, 800, 900, 950, 980, 990, 995, 999, 1000 };

	printf("hostbench latency us:");
	for (size_t i = 0; i < sizeof(permille) / sizeof(permille[0]); i++) {
		uint64_t at = n * permille[i] / 1000;

		printf(" p%u", permille[i] / 10);
		if (permille[i] % 10)
			printf(".%u", permille[i] % 10);
		printf("=%.1f", lat[at < n ? at : n - 1] / 1e3);
	}
	printf("\n");
}

/* pingpong: the other side, answering every ping until it reads the stop value. */
static int ping_fd, pong_fd;

static void *ponger(void *arg)
{
	uint64_t v, one = 1;

	(void)arg;
	do {
		if (read(ping_fd, &v, sizeof(v)) != sizeof(v) ||
		    write(pong_fd, &one, sizeof(one)) != sizeof(one)) {
			perror("hostbench: pingpong");
			exit(1);
		}
	} while (v == 1);
	return NULL;
}

static int pingpong(int argc, char **argv)
{
	enum { WARMUP = 200 };
	uint64_t count = 10000, sum = 0, v, *lat;
	pthread_t thread;

	for (int i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "count=", 6) && parse_size_arg(argv[i] + 6, &count) && count)
			continue;
		fprintf(stderr, "hostbench: bad argument %s\n", argv[i]);
		return 2;
	}
	ping_fd = eventfd(0, EFD_CLOEXEC);
	pong_fd = eventfd(0, EFD_CLOEXEC);
	lat = calloc(count, sizeof(*lat));
	if (ping_fd < 0 || pong_fd < 0 || !lat || pthread_create(&thread, NULL, ponger, NULL)) {
		perror("hostbench: pingpong");
		return 1;
	}
	for (uint64_t i = 0; i < WARMUP + count; i++) {
		uint64_t ping = i + 1 < WARMUP + count ? 1 : 2; /* 2: answer, then stop */
		uint64_t t0 = now_ns();

		if (write(ping_fd, &ping, sizeof(ping)) != sizeof(ping) ||
		    read(pong_fd, &v, sizeof(v)) != sizeof(v)) {
			perror("hostbench: pingpong");
			return 1;
		}
		if (i >= WARMUP)
			lat[i - WARMUP] = now_ns() - t0;
	}
	pthread_join(thread, NULL);
	qsort(lat, count, sizeof(*lat), cmp_u64);
	for (uint64_t i = 0; i < count; i++)
		sum += lat[i];
	printf("hostbench pingpong: n=%lu min=%lu p50=%lu p99=%lu mean=%lu ns\n", count, lat[0],
	       lat[count / 2], lat[count * 99 / 100], sum / count);
	free(lat);
	return 0;
}

/* The whole process's CPU time, all its threads (and io_uring's workers). */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

int main(int argc, char **argv)
{
	uint64_t bs = 4096, qd = 1, count = 10000, flush_every = 0, threads = 0, t0, ns, cpu0;
	uint64_t inflight, nflushes;
	int pct = 0, uring = 0, write, seq;
	uint64_t *lat;
	struct stat st;
	int fd;

	if (argc >= 2 && !strcmp(argv[1], "pingpong"))
		return pingpong(argc, argv);
	if (argc < 3 || (strcmp(argv[1], "randread") && strcmp(argv[1], "randwrite") &&
			 strcmp(argv[1], "seqread"))) {
		fprintf(stderr, "usage: hostbench randread|randwrite|seqread FILE bs=SIZE qd=N "
				"count=N [flush=N] [pct] [engine=sync|uring] [threads=N]\n"
				"       hostbench pingpong [count=N]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!strncmp(argv[i], "bs=", 3) && parse_size_arg(argv[i] + 3, &bs))
			continue;
		if (!strncmp(argv[i], "qd=", 3) && parse_size_arg(argv[i] + 3, &qd))
			continue;
		if (!strncmp(argv[i], "count=", 6) && parse_size_arg(argv[i] + 6, &count))
			continue;
		if (!strncmp(argv[i], "flush=", 6) && parse_size_arg(argv[i] + 6, &flush_every))
			continue;
		if (!strncmp(argv[i], "threads=", 8) && parse_size_arg(argv[i] + 8, &threads) &&
		    threads)
			continue;
		if (!strcmp(argv[i], "engine=sync") || !strcmp(argv[i], "engine=uring")) {
			uring = argv[i][7] == 'u';
			continue;
		}
		if (!strcmp(argv[i], "pct")) {
			pct = 1;
			continue;
		}
		fprintf(stderr, "hostbench: bad argument %s\n", argv[i]);
		return 2;
	}
	write = argv[1][4] == 'w';
	seq = argv[1][0] == 's';
	if (flush_every && !write) {
		fprintf(stderr, "hostbench: flush= needs randwrite\n");
		return 2;
	}
	if (threads && uring) {
		fprintf(stderr, "hostbench: threads= needs engine=sync (uring runs one thread)\n");
		return 2;
	}
	/* An io_uring holds at most 32768 entries; one is the flush's. */
	if (uring && qd >= 32768) {
		fprintf(stderr, "hostbench: engine=uring needs qd below 32768\n");
		return 2;
	}
	fd = open(argv[2], write ? O_RDWR : O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || !bs || !qd || (uint64_t)st.st_size < bs || !count) {
		perror(argv[2]);
		return 1;
	}
	lat = calloc(count, sizeof(*lat));
	if (!lat) {
		fprintf(stderr, "hostbench: out of memory\n");
		return 1;
	}
	inflight = uring ? qd : threads ? threads : qd;
	cpu0 = cpu_ns();
	t0 = now_ns();
	if (uring) {
		nflushes =
			run_uring(fd, write, seq, bs, st.st_size / bs, count, qd, flush_every, lat);
	} else {
		run_sync(fd, write, seq, bs, st.st_size / bs, count, inflight, flush_every, lat);
		nflushes = flushes;
	}
	ns = now_ns() - t0;
	cpu0 = cpu_ns() - cpu0;
	qsort(lat, count, sizeof(*lat), cmp_u64);
	printf("hostbench %s bs=%lu qd=%lu: %lu ops in %.3f s: %.0f IOPS, %.1f MB/s, "
	       "p50 %.1f us p99 %.1f us\n",
	       argv[1], bs, inflight, count, ns / 1e9, count * 1e9 / ns, count * bs * 1e3 / ns,
	       lat[count / 2] / 1e3, lat[count * 99 / 100] / 1e3);
	if (flush_every)
		printf("hostbench flushes: %lu\n", nflushes);
	if (pct)
		print_percentiles(lat, count);
	printf("hostbench engine=%s threads=%lu inflight=%lu cpu_us_per_op=%.3f\n",
	       uring ? "uring" : "sync", uring ? 1 : inflight, inflight, cpu0 / 1e3 / count);
	free(lat);
	close(fd);
	return 0;
}
