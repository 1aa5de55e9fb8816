// SPDX-License-Identifier: GPL-2.0
/*
 * hostbench.c: the host baselines for blkbench and hcbench.
 *
 *   hostbench randread|randwrite|seqread FILE bs=SIZE qd=N count=N [flush=N] [pct]
 *   hostbench pingpong [count=N]
 *
 * Does what the guest's blkbench does, with pread/pwrite on the host: qd
 * threads, each doing synchronous I/O (so qd requests are in flight), the
 * same block size, random or sequential offsets over the whole file.  With
 * flush=N, whichever thread completes the Nth write since the last flush
 * calls fdatasync, as the guest sends a FLUSH.  It prints a line in
 * blkbench's format (and, with pct, its percentile line), so the two can be
 * put side by side.
 *
 * pingpong is the baseline for the guest's `hcbench wake`: two threads
 * wake each other through a pair of eventfds, blocking in read() (no
 * spinning), and each round trip (write ours, read theirs: two eventfd
 * wakeups, two context switches or cross-CPU wakeups) is timed, after
 * uncounted warm-up rounds.  It prints a line in hcbench's format.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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

static void *run(void *arg)
{
	struct worker *w = arg;

	for (uint64_t i = 0; i < w->count; i++) {
		uint64_t block, t0 = now_ns();
		ssize_t n;

		if (w->seq) {
			block = (w->first + i) % w->nblocks;
		} else {
			w->rng ^= w->rng << 13;
			w->rng ^= w->rng >> 7;
			w->rng ^= w->rng << 17;
			block = w->rng % w->nblocks;
		}
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

int main(int argc, char **argv)
{
	uint64_t bs = 4096, qd = 1, count = 10000, flush_every = 0, total, t0, ns;
	int pct = 0;
	struct worker *w;
	uint64_t *lat;
	struct stat st;
	int fd;

	if (argc >= 2 && !strcmp(argv[1], "pingpong"))
		return pingpong(argc, argv);
	if (argc < 3 || (strcmp(argv[1], "randread") && strcmp(argv[1], "randwrite") &&
			 strcmp(argv[1], "seqread"))) {
		fprintf(stderr, "usage: hostbench randread|randwrite|seqread FILE bs=SIZE qd=N "
				"count=N [flush=N] [pct]\n"
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
		if (!strcmp(argv[i], "pct")) {
			pct = 1;
			continue;
		}
		fprintf(stderr, "hostbench: bad argument %s\n", argv[i]);
		return 2;
	}
	if (flush_every && argv[1][4] != 'w') {
		fprintf(stderr, "hostbench: flush= needs randwrite\n");
		return 2;
	}
	fd = open(argv[2], argv[1][4] == 'w' ? O_RDWR : O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || !bs || !qd || (uint64_t)st.st_size < bs || !count) {
		perror(argv[2]);
		return 1;
	}
	w = calloc(qd, sizeof(*w));
	lat = calloc(count, sizeof(*lat));
	if (!w || !lat) {
		fprintf(stderr, "hostbench: out of memory\n");
		return 1;
	}
	total = 0;
	for (uint64_t i = 0; i < qd; i++) {
		w[i] = (struct worker){ .fd = fd,
					.write = argv[1][4] == 'w',
					.seq = argv[1][0] == 's',
					.bs = bs,
					.nblocks = st.st_size / bs,
					.count = count / qd + (i < count % qd),
					.first = i * (count / qd),
					.flush_every = flush_every,
					.rng = 0x9e3779b97f4a7c15ULL + i };
		w[i].lat = lat + total;
		total += w[i].count;
		if (posix_memalign((void **)&w[i].buf, 4096, bs))
			return 1;
		memset(w[i].buf, 0x5a, bs);
	}
	t0 = now_ns();
	for (uint64_t i = 0; i < qd; i++)
		pthread_create(&w[i].thread, NULL, run, &w[i]);
	for (uint64_t i = 0; i < qd; i++)
		pthread_join(w[i].thread, NULL);
	ns = now_ns() - t0;
	qsort(lat, count, sizeof(*lat), cmp_u64);
	printf("hostbench %s bs=%lu qd=%lu: %lu ops in %.3f s: %.0f IOPS, %.1f MB/s, "
	       "p50 %.1f us p99 %.1f us\n",
	       argv[1], bs, qd, count, ns / 1e9, count * 1e9 / ns, count * bs * 1e3 / ns,
	       lat[count / 2] / 1e3, lat[count * 99 / 100] / 1e3);
	if (flush_every)
		printf("hostbench flushes: %lu\n", flushes);
	if (pct)
		print_percentiles(lat, count);
	for (uint64_t i = 0; i < qd; i++)
		free(w[i].buf);
	free(w);
	free(lat);
	close(fd);
	return 0;
}
