// SPDX-License-Identifier: GPL-2.0
/*
 * ipv4.c: the IPv4 layer (RFC 791), without options, fragments or routing.
 *
 *   0       4       8               16   19                        32
 *   +-------+-------+---------------+-------------------------------+
 *   |version|  IHL  |      TOS      |         total length          |
 *   +-------+-------+---------------+-----+-------------------------+
 *   |        identification         |flags|     fragment offset     |
 *   +---------------+---------------+-----+-------------------------+
 *   |      TTL      |   protocol    |        header checksum        |
 *   +---------------+---------------+-------------------------------+
 *   |                        source address                         |
 *   |                      destination address                      |
 *   |                 options (IHL > 5), then payload               |
 *   +---------------------------------------------------------------+
 *
 * IHL counts the header in 32-bit words (5 without options), total length
 * the whole packet in bytes.  flags: 0x4000 "don't fragment", 0x2000 "more
 * fragments"; a packet with MF set or a non-zero offset is a piece of a
 * bigger one, which we do not reassemble, so we drop it.
 *
 * Received packets are checked in the order their fields become
 * meaningful: nothing is read through a length before that length has
 * been checked against the bytes the frame holds.  Options in a received
 * header are skipped (they are covered by the checksum and otherwise
 * ignored); we send none.
 */
#include "lib.h"
#include "net.h"

#define IP_FLAG_DF     0x4000
#define IP_FLAG_MF     0x2000
#define IP_FRAG_OFFSET 0x1fff
#define IP_DEFAULT_TTL 64

/* The frame every packet is built in: Ethernet header, IP header, payload. */
static uint8_t tx_frame[ETH_FRAME_MAX];
static uint16_t next_id;

void ip_reset(void)
{
	next_id = 0;
}

void ip_input(const uint8_t *pkt, size_t len)
{
	size_t ihl, total;
	uint32_t src, dst;
	uint16_t frag;

	net_stats.ip.in++;
	if (len < IP_HDR_LEN) {
		net_stats.ip.truncated++;
		return;
	}
	if (pkt[0] >> 4 != 4) {
		net_stats.ip.bad_version++;
		return;
	}
	ihl = (size_t)(pkt[0] & 0xf) * 4;
	if (ihl < IP_HDR_LEN || ihl > len) {
		net_stats.ip.bad_ihl++;
		return;
	}
	/* Bytes beyond total length are Ethernet padding; fewer is a cut packet. */
	total = get_be16(pkt + 2);
	if (total < ihl || total > len) {
		net_stats.ip.bad_len++;
		return;
	}
	if (inet_checksum(pkt, ihl) != 0) {
		net_stats.ip.bad_csum++;
		return;
	}
	frag = get_be16(pkt + 6);
	if (frag & (IP_FLAG_MF | IP_FRAG_OFFSET)) {
		net_stats.ip.fragments++;
		return;
	}
	src = get_be32(pkt + 12);
	dst = get_be32(pkt + 16);
	if (!net_if.addr || (dst != net_if.addr && !net_is_broadcast(dst))) {
		net_stats.ip.not_ours++;
		return;
	}
	if (src == net_if.addr || net_is_broadcast(src) || net_is_multicast(src)) {
		net_stats.ip.bad_src++;
		return;
	}
	switch (pkt[9]) {
	case IP_PROTO_ICMP:
		net_stats.ip.delivered++;
		icmp_input(src, dst, pkt + ihl, total - ihl);
		break;
	case IP_PROTO_UDP:
		net_stats.ip.delivered++;
		udp_input(src, dst, pkt + ihl, total - ihl);
		break;
	default:
		net_stats.ip.unknown_proto++;
		break;
	}
}

uint8_t *ip_tx_payload(void)
{
	return tx_frame + IP_PAYLOAD_OFF;
}

/*
 * Send the @payload_len bytes at ip_tx_payload() to @dst.  Everything is
 * on-link, so the next hop is the destination itself.
 */
int ip_output(uint32_t dst, uint8_t proto, size_t payload_len)
{
	uint8_t *ip = tx_frame + ETH_HDR_LEN;
	static const uint8_t unknown_mac[6];
	int err;

	if (!net_iface() || netdev_broken(net_if.nd))
		return NET_ENODEV;
	if (!net_if.addr)
		return NET_ENOTCONF;
	if (payload_len > IP_MAX_PAYLOAD)
		return NET_EINVAL;
	if (dst == net_if.addr || (!net_on_link(dst) && dst != 0xffffffff)) {
		net_stats.ip.no_route++;
		return NET_EUNREACH;
	}
	eth_header(tx_frame, unknown_mac, ETH_TYPE_IPV4); /* ARP fills in the MAC */
	ip[0] = 4 << 4 | IP_HDR_LEN / 4;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(IP_HDR_LEN + payload_len));
	put_be16(ip + 4, next_id++);
	/* We never fragment, so say so: a router would rather tell us. */
	put_be16(ip + 6, IP_FLAG_DF);
	ip[8] = IP_DEFAULT_TTL;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, net_if.addr);
	put_be32(ip + 16, dst);
	put_be16(ip + 10, inet_checksum(ip, IP_HDR_LEN));
	err = arp_output(dst, tx_frame, IP_PAYLOAD_OFF + payload_len);
	if (err == 0)
		net_stats.ip.out++;
	return err;
}
