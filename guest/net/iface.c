// SPDX-License-Identifier: GPL-2.0
/*
 * iface.c: the one interface, net0.  Its address, the receive loop
 * (net_poll), the one place frames go to the driver (net_xmit), and
 * waiting.
 *
 * Received frames are copied out of the driver's buffer before anything
 * looks at them, and the buffer goes straight back to the device.  That
 * costs one copy of at most 1514 bytes, and buys two things: the stack
 * reads bytes that cannot change under it (the other side owns the
 * driver's buffers once they are given back, and this way there is no
 * window where they could be both), and the driver's contract stays
 * simple: we never call it between netdev_recv and netdev_recv_done, so
 * handlers may send while a frame is being processed.
 */
#include "lib.h"
#include "net.h"

/* How long net_xmit waits for a transmit buffer before dropping a frame. */
#define TX_WAIT_US 100000

struct net_iface net_if;
struct net_stats net_stats;

static uint8_t rx_frame[ETH_FRAME_MAX];
static bool tx_pending; /* frames queued since the last netdev_flush */

const struct net_iface *net_iface(void)
{
	if (!net_if.nd) {
		net_if.nd = netdev_get(0);
		if (!net_if.nd)
			return NULL;
		netdev_mac(net_if.nd, net_if.mac);
	}
	return &net_if;
}

static uint32_t prefix_mask(unsigned int prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

bool net_is_multicast(uint32_t addr)
{
	return (addr >> 28) == 0xe; /* 224.0.0.0/4 */
}

bool net_is_broadcast(uint32_t addr)
{
	uint32_t mask = prefix_mask(net_if.prefix);

	if (addr == 0xffffffff)
		return true;
	/* A /31 or /32 has no broadcast address (RFC 3021). */
	return net_if.addr && net_if.prefix < 31 && addr == (net_if.addr | ~mask);
}

bool net_on_link(uint32_t addr)
{
	uint32_t mask = prefix_mask(net_if.prefix);

	return net_if.addr && (addr & mask) == (net_if.addr & mask);
}

int net_configure(uint32_t addr, unsigned int prefix)
{
	uint32_t mask;

	if (!net_iface())
		return NET_ENODEV;
	if (prefix > 32 || addr == 0 || addr == 0xffffffff || net_is_multicast(addr) ||
	    (addr >> 24) == 127)
		return NET_EINVAL;
	mask = prefix_mask(prefix);
	/* The all-zeros and all-ones hosts name the subnet and its broadcast. */
	if (prefix < 31 && ((addr & ~mask) == 0 || (addr & ~mask) == ~mask))
		return NET_EINVAL;
	net_if.addr = addr;
	net_if.prefix = prefix;
	return 0;
}

void net_reset(void)
{
	memset(&net_if, 0, sizeof(net_if));
	memset(&net_stats, 0, sizeof(net_stats));
	tx_pending = false;
	arp_reset();
	ip_reset();
	icmp_reset();
	udp_reset();
}

void net_get_stats(struct net_stats *st)
{
	*st = net_stats;
}

int net_xmit(const void *frame, size_t len)
{
	struct netdev *nd = net_if.nd;
	uint64_t deadline = 0;

	for (;;) {
		if (netdev_send(nd, frame, len) == 0) {
			net_stats.eth.out++;
			tx_pending = true;
			return 0;
		}
		if (netdev_broken(nd)) {
			net_stats.eth.tx_dropped++;
			return NET_ENODEV;
		}
		/*
		 * Every transmit buffer is in flight.  Push what we queued
		 * and wait for the device to hand buffers back (netdev_wait
		 * reclaims them).  It returns at once while a received frame
		 * is waiting, so this may spin, but only until TX_WAIT_US.
		 */
		if (!deadline)
			deadline = net_now_us() + TX_WAIT_US;
		else if (net_now_us() >= deadline)
			break;
		net_flush();
		netdev_wait(nd, TX_WAIT_US / 10);
	}
	net_stats.eth.tx_dropped++;
	return NET_ETIMEDOUT;
}

void net_flush(void)
{
	if (tx_pending && net_if.nd) {
		tx_pending = false;
		netdev_flush(net_if.nd);
	}
}

int net_poll(void)
{
	const void *frame;
	struct netdev *nd;
	size_t len;
	int n = 0;

	if (!net_iface())
		return 0;
	nd = net_if.nd;
	while ((frame = netdev_recv(nd, &len))) {
		n++;
		if (len > sizeof(rx_frame)) {
			/* The driver promised no more: count it, do not trust it. */
			net_stats.eth.in++;
			net_stats.eth.oversize++;
			netdev_recv_done(nd);
			continue;
		}
		memcpy(rx_frame, frame, len);
		netdev_recv_done(nd);
		eth_input(rx_frame, len);
	}
	arp_tick(net_now_us());
	net_flush();
	return n;
}

void net_wait(uint64_t timeout_us)
{
	uint64_t timer;

	if (!net_iface())
		return;
	net_flush();
	timer = arp_next_timer_us(net_now_us());
	if (timer == 0)
		return; /* an ARP retry is due: the caller's net_poll runs it */
	if (timer != UINT64_MAX && (timeout_us == 0 || timer < timeout_us))
		timeout_us = timer;
	netdev_wait(net_if.nd, timeout_us);
}

void net_drain(uint64_t timeout_us)
{
	uint64_t deadline = net_now_us() + timeout_us;

	net_poll();
	while (arp_parked() && net_if.nd && !netdev_broken(net_if.nd)) {
		uint64_t now = net_now_us();

		if (now >= deadline)
			break;
		net_wait(deadline - now);
		net_poll();
	}
}
