// SPDX-License-Identifier: GPL-2.0
/*
 * checksum.c: the Internet checksum (RFC 1071), for IPv4 headers, ICMP
 * messages and UDP datagrams.
 *
 * Read the data as big-endian 16-bit words (an odd last byte is the high
 * half of a word whose low half is zero), add them up in ones' complement
 * arithmetic, which is ordinary addition with every carry out of bit 15
 * added back in at the bottom, and store the complement of the sum.  A
 * receiver summing the same bytes, checksum field included, gets 0xffff,
 * so the complement of its sum is 0: "the checksum checks".
 *
 * The sum is kept in 64 bits and folded once at the end: even a
 * 1500-byte packet adds up to no more than 750 * 0xffff, far from
 * overflowing.  Byte by byte is not the fastest way, but it needs no
 * alignment and no byte swapping, and a frame is at most 1514 bytes.
 */
#include "net.h"

static uint64_t sum_words(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

/* Add the carries back in until the sum fits 16 bits, then complement. */
static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_checksum(const void *buf, size_t len)
{
	return fold(sum_words(0, buf, len));
}

/*
 * UDP also covers a pseudo-header that is never sent: source and
 * destination address, a zero byte, the protocol (17) and the UDP length.
 * It ties the datagram to the addresses it travelled between, so one
 * delivered to the wrong host fails the check.
 */
uint16_t udp_checksum(uint32_t src, uint32_t dst, const void *udp, size_t len)
{
	uint64_t sum = 0;

	sum += src >> 16;
	sum += src & 0xffff;
	sum += dst >> 16;
	sum += dst & 0xffff;
	sum += IP_PROTO_UDP;
	sum += len;
	return fold(sum_words(sum, udp, len));
}
