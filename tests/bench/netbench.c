// SPDX-License-Identifier: GPL-2.0
/*
 * netbench.c: the host side of the network benchmark (tools/lguest-compare.py).
 *
 *   netbench echo ADDR PORT                  echo UDP datagrams back, forever
 *   netbench send ADDR PORT COUNT SIZE WINDOW
 *                                            what the guest's udpsend does:
 *                                            COUNT datagrams of SIZE bytes to
 *                                            an echo server, WINDOW in flight;
 *                                            prints round trips and rates
 *
 * Run between two network namespaces joined by a veth pair, `send` is the
 * baseline the guest's `udpsend` is compared with in the same run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int udp_socket(const char *addr, const char *port, struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(port));
	if (fd < 0 || inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "netbench: bad address %s\n", addr);
		exit(1);
	}
	return fd;
}

static int echo(const char *addr, const char *port)
{
	struct sockaddr_in sin, from;
	int fd = udp_socket(addr, port, &sin);
	char buf[65536];

	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("netbench: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
}

static int send_window(const char *addr, const char *port, long count, long size, long window)
{
	struct sockaddr_in sin;
	int fd = udp_socket(addr, port, &sin);
	uint64_t *rtt = calloc((size_t)count, sizeof(*rtt)), *sent = calloc((size_t)count, 8);
	char buf[65536] = { 0 };
	long next = 0, done = 0, lost = 0;
	uint64_t start;

	int status;

	if (!rtt || !sent || size < 8 || size > 65000 || window < 1 || count < 1) {
		fprintf(stderr, "netbench: bad arguments\n");
		status = 2;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("netbench: connect");
		status = 1;
		goto out;
	}
	start = now_ns();
	while (done + lost < count) {
		struct pollfd p = { fd, POLLIN, 0 };

		while (next < count && next - done - lost < window) {
			memcpy(buf, &next, sizeof(next));
			sent[next] = now_ns();
			if (send(fd, buf, (size_t)size, 0) < 0 && errno != ENOBUFS)
				perror("netbench: send");
			next++;
		}
		if (poll(&p, 1, 1000) <= 0) {
			lost += next - done - lost; /* a second of silence: all in flight lost */
			continue;
		}
		if (recv(fd, buf, sizeof(buf), 0) >= (ssize_t)sizeof(long)) {
			long seq;

			memcpy(&seq, buf, sizeof(seq));
			if (seq >= 0 && seq < count && !rtt[seq]) {
				rtt[seq] = now_ns() - sent[seq];
				done++;
			}
		}
	}
	{
		double secs = (double)(now_ns() - start) / 1e9;
		uint64_t *got = calloc((size_t)done + 1, sizeof(*got));
		long n = 0;

		if (!got) {
			fprintf(stderr, "netbench: out of memory\n");
			status = 1;
			goto out;
		}
		for (long i = 0; i < count; i++) {
			if (rtt[i])
				got[n++] = rtt[i];
		}
		qsort(got, (size_t)n, sizeof(*got), cmp_u64);
		printf("netbench: %ld sent, %ld echoed, rtt p50 %.1f us p99 %.1f us, %.0f packets/s\n",
		       count, done, n ? got[n / 2] / 1e3 : 0.0,
		       n ? got[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e3 : 0.0,
		       (double)done / secs);
		free(got);
	}
	status = done == count ? 0 : 1;
out:
	free(rtt);
	free(sent);
	close(fd);
	return status;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return echo(argv[2], argv[3]);
	if (argc == 7 && !strcmp(argv[1], "send"))
		return send_window(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]));
	fprintf(stderr, "usage: netbench echo ADDR PORT | send ADDR PORT COUNT SIZE WINDOW\n");
	return 2;
}
