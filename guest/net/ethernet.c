// SPDX-License-Identifier: GPL-2.0
/*
 * ethernet.c: Ethernet II framing.
 *
 *   0      6      12   14                                  14 + n
 *   +------+------+----+-------------------------------------+
 *   | dst  | src  |type| payload (ARP, IPv4), 0..1500 bytes  |
 *   +------+------+----+-------------------------------------+
 *
 * No FCS: the tap device neither gives nor wants one.  A frame shorter than
 * 60 bytes on a real wire is padded after the payload; the layers above
 * take their own lengths from their own headers and ignore the padding.
 */
#include "lib.h"
#include "net.h"

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void eth_header(uint8_t *frame, const uint8_t dst[6], uint16_t type)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, net_if.mac, 6);
	put_be16(frame + 12, type);
}

void eth_input(const uint8_t *frame, size_t len)
{
	net_stats.eth.in++;
	if (len < ETH_HDR_LEN) {
		net_stats.eth.truncated++;
		return;
	}
	if (len > ETH_FRAME_MAX) {
		net_stats.eth.oversize++;
		return;
	}
	/*
	 * A tap hands us everything the host's bridge or stack sends its
	 * way: IPv6 neighbour discovery, multicast, other hosts' unicast.
	 * We take frames to our MAC and broadcasts only.
	 */
	if (memcmp(frame, net_if.mac, 6) && memcmp(frame, broadcast_mac, 6)) {
		net_stats.eth.not_ours++;
		return;
	}
	switch (get_be16(frame + 12)) {
	case ETH_TYPE_ARP:
		arp_input(frame + ETH_HDR_LEN, len - ETH_HDR_LEN);
		break;
	case ETH_TYPE_IPV4:
		ip_input(frame + ETH_HDR_LEN, len - ETH_HDR_LEN);
		break;
	default:
		net_stats.eth.unknown_type++;
		break;
	}
}
