// SPDX-License-Identifier: GPL-2.0
/*
 * net_fake.c: a host-side netdev (netdev.h) for the IP stack's unit tests,
 * and the few kernel services the stack and cmd_net.c use (printk, pages,
 * the clock).
 *
 * The fake records every frame the stack sends and lets a test queue
 * frames for it to receive.  It also polices the driver contract the
 * stack promises to keep (frames 14..1514 bytes; no other call between
 * netdev_recv and netdev_recv_done), counting violations for the tests to
 * check, and poisons a received frame's buffer once it is given back, so
 * reading it afterwards shows.
 *
 * Time is fake too, in one of two modes.  Manual (the default): the clock
 * moves only when a test advances it or the stack waits in netdev_wait
 * with nothing to receive, which jumps the clock by the timeout; so ARP's
 * retries and ageing run in no time at all.  Real: net_now_us() follows
 * the TSC (tsc_to_ns() is the identity here, so "a second" is 10^9
 * ticks), for the command tests, whose deadlines are rdtsc-based.
 *
 * A test may install a peer: a function called with each frame sent,
 * which may inject answers (the other end of the wire), and a hook called
 * whenever the stack waits, for answers that take their time.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "netdev.h"

/* The controls, declared again in test_net.c. */
#define FAKE_RX_MAX	  256
#define FAKE_RX_FRAME_MAX 2048
#define FAKE_TX_MAX	  1024
#define FAKE_CONSOLE_MAX  (256 * 1024)

struct fake_frame {
	size_t len;
	uint8_t data[FAKE_RX_FRAME_MAX];
};

struct netdev {
	char name[8];
	uint8_t mac[6];
	bool broken;
	struct netdev_stats stats;
	struct fake_frame rx[FAKE_RX_MAX];
	unsigned int rx_head, rx_count;
	bool holding; /* between netdev_recv and netdev_recv_done */
	struct fake_frame tx[FAKE_TX_MAX];
	unsigned int tx_count;
	unsigned int tx_fail; /* the next tx_fail sends find the ring full */
};

static struct netdev dev;
bool fake_present = true;
unsigned int fake_violations;
unsigned int fake_flushes;
unsigned int fake_waits;
uint64_t fake_clock_us;
bool fake_real_time;
void (*fake_peer)(const uint8_t *frame, size_t len);
void (*fake_wait_hook)(void); /* called as the stack waits: the time for late answers */
char fake_console[FAKE_CONSOLE_MAX];
size_t fake_console_len;

void fake_reset(void)
{
	memset(&dev, 0, sizeof(dev));
	strcpy(dev.name, "net0");
	memcpy(dev.mac, "\x52\x54\x00\x12\x34\x56", 6);
	fake_present = true;
	fake_violations = 0;
	fake_flushes = 0;
	fake_waits = 0;
	fake_clock_us = 1000000000; /* not 0: "0 us ago" should not be special */
	fake_real_time = false;
	fake_peer = NULL;
	fake_wait_hook = NULL;
	fake_console_len = 0;
	fake_console[0] = '\0';
}

void fake_inject(const void *frame, size_t len)
{
	struct fake_frame *f;

	if (dev.rx_count == FAKE_RX_MAX || len > FAKE_RX_FRAME_MAX) {
		fprintf(stderr, "fake_inject: no room for a %zu-byte frame\n", len);
		abort();
	}
	f = &dev.rx[(dev.rx_head + dev.rx_count) % FAKE_RX_MAX];
	memcpy(f->data, frame, len);
	f->len = len;
	dev.rx_count++;
}

unsigned int fake_rx_waiting(void)
{
	return dev.rx_count;
}

unsigned int fake_tx_count(void)
{
	return dev.tx_count;
}

const uint8_t *fake_tx_frame(unsigned int i, size_t *len)
{
	if (i >= dev.tx_count)
		return NULL;
	*len = dev.tx[i].len;
	return dev.tx[i].data;
}

void fake_tx_clear(void)
{
	dev.tx_count = 0;
}

void fake_set_tx_fail(unsigned int n)
{
	dev.tx_fail = n;
}

void fake_set_broken(bool broken)
{
	dev.broken = broken;
}

void fake_advance_us(uint64_t us)
{
	fake_clock_us += us;
}

/* --- netdev.h ------------------------------------------------------------- */

int netdev_count(void)
{
	return fake_present ? 1 : 0;
}

struct netdev *netdev_get(int index)
{
	return fake_present && index == 0 ? &dev : NULL;
}

const char *netdev_name(const struct netdev *nd)
{
	return nd->name;
}

void netdev_mac(const struct netdev *nd, uint8_t mac[6])
{
	memcpy(mac, nd->mac, 6);
}

bool netdev_broken(const struct netdev *nd)
{
	return nd->broken;
}

int netdev_send(struct netdev *nd, const void *frame, size_t len)
{
	struct fake_frame *f;

	if (nd->holding || len < 14 || len > ETH_FRAME_MAX) {
		fake_violations++;
		return -1;
	}
	if (nd->broken)
		return -1;
	if (nd->tx_fail) {
		nd->tx_fail--;
		nd->stats.tx_full++;
		return -1;
	}
	if (nd->tx_count == FAKE_TX_MAX) {
		fprintf(stderr, "netdev_send: the fake's record is full\n");
		abort();
	}
	f = &nd->tx[nd->tx_count++];
	memcpy(f->data, frame, len);
	f->len = len;
	nd->stats.tx_frames++;
	nd->stats.tx_bytes += len;
	if (fake_peer)
		fake_peer(f->data, len);
	return 0;
}

void netdev_flush(struct netdev *nd)
{
	if (nd->holding)
		fake_violations++;
	fake_flushes++;
}

const void *netdev_recv(struct netdev *nd, size_t *len)
{
	struct fake_frame *f;

	if (nd->holding)
		fake_violations++;
	if (!nd->rx_count)
		return NULL;
	f = &nd->rx[nd->rx_head];
	nd->holding = true;
	nd->stats.rx_frames++;
	nd->stats.rx_bytes += f->len;
	*len = f->len;
	return f->data;
}

void netdev_recv_done(struct netdev *nd)
{
	struct fake_frame *f = &nd->rx[nd->rx_head];

	if (!nd->holding) {
		fake_violations++;
		return;
	}
	memset(f->data, 0xa5, sizeof(f->data)); /* the device owns it again */
	nd->holding = false;
	nd->rx_head = (nd->rx_head + 1) % FAKE_RX_MAX;
	nd->rx_count--;
}

void netdev_wait(struct netdev *nd, uint64_t timeout_us)
{
	if (nd->holding)
		fake_violations++;
	fake_waits++;
	if (fake_wait_hook)
		fake_wait_hook();
	if (nd->rx_count || fake_real_time)
		return;
	if (!timeout_us) {
		fprintf(stderr, "netdev_wait: waiting forever for a frame that will never come\n");
		abort();
	}
	fake_clock_us += timeout_us;
}

void netdev_get_stats(const struct netdev *nd, struct netdev_stats *st)
{
	*st = nd->stats;
}

/* --- What the stack and the commands take from the kernel ------------------ */

uint64_t net_now_us(void)
{
	return fake_real_time ? __rdtsc() / 1000 : fake_clock_us;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return ticks;
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return ns;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(fake_console + fake_console_len, FAKE_CONSOLE_MAX - fake_console_len, fmt,
		      ap);
	va_end(ap);
	if (n > 0)
		fake_console_len += (size_t)n;
	if (fake_console_len >= FAKE_CONSOLE_MAX)
		fake_console_len = FAKE_CONSOLE_MAX - 1;
	if (getenv("NET_TEST_VERBOSE"))
		fputs(fake_console + fake_console_len - (n > 0 ? n : 0), stdout);
	return n;
}

void *alloc_pages(size_t npages)
{
	void *p = aligned_alloc(4096, npages * 4096);

	if (p)
		memset(p, 0, npages * 4096);
	return p;
}

void free_pages(void *p, size_t npages)
{
	(void)npages;
	free(p);
}
