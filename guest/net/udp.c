// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c: UDP (RFC 768): ports, a length and a checksum on top of IP.
 *
 *   0             2             4             6             8
 *   +-------------+-------------+-------------+-------------+---------+
 *   | source port |  dest port  |   length    |  checksum   |  data   |
 *   +-------------+-------------+-------------+-------------+---------+
 *
 * length counts the header too.  We insist that it equals the IP payload's
 * length: with no fragments and no padding inside IP, a difference means
 * the datagram was cut or padded by someone who should not have.
 *
 * The checksum covers a pseudo-header (checksum.c), the header and the
 * data.  A sender may leave it 0, meaning "not computed"; a computed
 * checksum that comes out 0 is therefore sent as 0xffff, its other
 * ones'-complement spelling.  We always compute it, and check it when it
 * is non-zero.
 *
 * Each bound port either has a handler, called from net_poll() with the
 * datagram in place, or a small queue that udp_recv() empties.
 */
#include "lib.h"
#include "net.h"

#define EPHEMERAL_FIRST 49152

struct queued_dgram {
	uint32_t src;
	uint16_t sport;
	size_t len;
	uint8_t data[UDP_MAX_PAYLOAD];
};

struct binding {
	uint16_t port; /* 0: free */
	udp_handler fn;
	void *ctx;
	/* Queue bindings (fn NULL): a ring of UDP_QUEUE_LEN. */
	unsigned int head, count;
	struct queued_dgram queue[UDP_QUEUE_LEN];
};

static struct binding bindings[UDP_BINDINGS];
static uint16_t next_ephemeral = EPHEMERAL_FIRST;

void udp_reset(void)
{
	for (int i = 0; i < UDP_BINDINGS; i++)
		bindings[i].port = 0;
	next_ephemeral = EPHEMERAL_FIRST;
}

static struct binding *find_binding(uint16_t port)
{
	for (int i = 0; i < UDP_BINDINGS; i++) {
		if (port && bindings[i].port == port)
			return &bindings[i];
	}
	return NULL;
}

int udp_bind(uint16_t port, udp_handler fn, void *ctx)
{
	if (!port)
		return NET_EINVAL;
	if (find_binding(port))
		return NET_EBUSY;
	for (int i = 0; i < UDP_BINDINGS; i++) {
		struct binding *b = &bindings[i];

		if (!b->port) {
			b->port = port;
			b->fn = fn;
			b->ctx = ctx;
			b->head = 0;
			b->count = 0;
			return 0;
		}
	}
	return NET_EBUSY;
}

void udp_unbind(uint16_t port)
{
	struct binding *b = find_binding(port);

	if (b)
		b->port = 0;
}

uint16_t udp_ephemeral_port(void)
{
	/* At most UDP_BINDINGS ports are bound, so this ends quickly. */
	for (;;) {
		uint16_t port = next_ephemeral;

		next_ephemeral = next_ephemeral == 65535 ? EPHEMERAL_FIRST : next_ephemeral + 1;
		if (!find_binding(port))
			return port;
	}
}

int udp_recv(uint16_t port, void *buf, size_t size, uint32_t *src, uint16_t *sport)
{
	struct binding *b = find_binding(port);
	struct queued_dgram *q;

	if (!b || b->fn)
		return NET_EINVAL;
	if (!b->count)
		return NET_EAGAIN;
	q = &b->queue[b->head];
	memcpy(buf, q->data, q->len < size ? q->len : size);
	if (src)
		*src = q->src;
	if (sport)
		*sport = q->sport;
	b->head = (b->head + 1) % UDP_QUEUE_LEN;
	b->count--;
	return (int)q->len;
}

int udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
	uint8_t *udp = ip_tx_payload();
	size_t total = UDP_HDR_LEN + len;
	uint16_t csum;
	int err;

	if (len > UDP_MAX_PAYLOAD || !sport || !dport)
		return NET_EINVAL;
	if (!net_iface())
		return NET_ENODEV;
	put_be16(udp, sport);
	put_be16(udp + 2, dport);
	put_be16(udp + 4, (uint16_t)total);
	put_be16(udp + 6, 0);
	/* memmove: @data may be a received datagram, or even this buffer. */
	memmove(udp + UDP_HDR_LEN, data, len);
	csum = udp_checksum(net_if.addr, dst, udp, total);
	put_be16(udp + 6, csum ? csum : 0xffff);
	err = ip_output(dst, IP_PROTO_UDP, total);
	if (err == 0)
		net_stats.udp.out++;
	return err;
}

void udp_input(uint32_t src, uint32_t dst, const uint8_t *dgram, size_t len)
{
	struct udp_datagram d;
	struct binding *b;
	struct queued_dgram *q;

	net_stats.udp.in++;
	if (len < UDP_HDR_LEN) {
		net_stats.udp.truncated++;
		return;
	}
	if (get_be16(dgram + 4) != len) {
		net_stats.udp.bad_len++;
		return;
	}
	if (get_be16(dgram + 6) != 0 && udp_checksum(src, dst, dgram, len) != 0) {
		net_stats.udp.bad_csum++;
		return;
	}
	d.src = src;
	d.dst = dst;
	d.sport = get_be16(dgram);
	d.dport = get_be16(dgram + 2);
	d.data = dgram + UDP_HDR_LEN;
	d.len = len - UDP_HDR_LEN;
	b = find_binding(d.dport);
	if (!b) {
		net_stats.udp.no_port++;
		return;
	}
	if (b->fn) {
		b->fn(b->ctx, &d);
		return;
	}
	if (b->count == UDP_QUEUE_LEN) {
		net_stats.udp.queue_full++;
		return;
	}
	/* A frame holds at most 1500 - 20 - 8 bytes of data, as does a slot. */
	if (d.len > sizeof(q->data)) {
		net_stats.udp.bad_len++;
		return;
	}
	q = &b->queue[(b->head + b->count) % UDP_QUEUE_LEN];
	q->src = d.src;
	q->sport = d.sport;
	q->len = d.len;
	memcpy(q->data, d.data, d.len);
	b->count++;
}
