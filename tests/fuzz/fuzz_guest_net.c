// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_guest_net.c: the guest's network stack (guest/net/: Ethernet, ARP,
 * IPv4, ICMP, UDP), built for the host over the unit tests' fake device
 * (tests/unit/net_fake.c), against frames that are the fuzzer's input.
 *
 * Whatever arrives on the wire, the stack must not read outside the frame
 * (ASan), must keep the driver contract (frames of 14..1514 bytes; the
 * fake counts violations), and what it sends back (ARP replies, ICMP echo
 * replies, the UDP echoes of a handler bound to port 7000, as udpecho
 * does) must be well-formed: an IPv4 header whose length and checksum are
 * right, and UDP and ICMP lengths and checksums that add up.
 *
 * Input: frames, each a 2-byte little-endian length then its bytes; after
 * every few frames the stack polls, and the clock moves (ARP's timers).
 */
#include <stdbool.h>
#include <string.h>

#include "common.h"
#include "net.h"

extern unsigned int fake_violations;
void fake_reset(void);
void fake_inject(const void *frame, size_t len);
unsigned int fake_rx_waiting(void);
unsigned int fake_tx_count(void);
const uint8_t *fake_tx_frame(unsigned int i, size_t *len);
void fake_tx_clear(void);
void fake_advance_us(uint64_t us);

#define GUEST_IP  NET_IP(10, 0, 0, 2)
#define ECHO_PORT 7000
#define MAX_FRAME 2048

/* udpecho: send each datagram back where it came from. */
static void echo(void *ctx, const struct udp_datagram *d)
{
	(void)ctx;
	udp_send(d->src, d->dport, d->sport, d->data, d->len);
}

static void check_ipv4(const uint8_t *ip, size_t len)
{
	size_t ihl, total;

	FUZZ_CHECK(len >= 20, "an IPv4 frame of %zu bytes after Ethernet", len);
	FUZZ_CHECK(ip[0] >> 4 == 4, "sent IP version %u", ip[0] >> 4);
	ihl = (size_t)(ip[0] & 15) * 4;
	total = get_be16(ip + 2);
	FUZZ_CHECK(ihl >= 20 && ihl <= total && total <= len,
		   "sent IPv4 header length %zu, total %zu, in %zu bytes", ihl, total, len);
	FUZZ_CHECK(inet_checksum(ip, ihl) == 0, "sent an IPv4 header with a bad checksum");
	if (get_be16(ip + 6) & 0x3fff)
		return; /* a fragment: its transport header is not all here */
	if (ip[9] == 17) {
		const uint8_t *udp = ip + ihl;
		size_t ulen;

		FUZZ_CHECK(total - ihl >= 8, "sent a UDP datagram of %zu bytes", total - ihl);
		ulen = get_be16(udp + 4);
		FUZZ_CHECK(ulen == total - ihl, "sent UDP length %zu in %zu bytes", ulen,
			   total - ihl);
		FUZZ_CHECK(get_be16(udp + 6) == 0 ||
				   udp_checksum(get_be32(ip + 12), get_be32(ip + 16), udp, ulen) ==
					   0,
			   "sent a UDP datagram with a bad checksum");
	} else if (ip[9] == 1) {
		FUZZ_CHECK(total - ihl >= 8, "sent an ICMP message of %zu bytes", total - ihl);
		FUZZ_CHECK(inet_checksum(ip + ihl, total - ihl) == 0,
			   "sent an ICMP message with a bad checksum");
	}
}

static void check_sent(void)
{
	for (unsigned int i = 0; i < fake_tx_count(); i++) {
		size_t len;
		const uint8_t *f = fake_tx_frame(i, &len);
		uint16_t type;

		FUZZ_CHECK(len >= 14 && len <= 1514, "sent a frame of %zu bytes", len);
		type = get_be16(f + 12);
		if (type == 0x0800)
			check_ipv4(f + 14, len - 14);
		else if (type == 0x0806)
			FUZZ_CHECK(len >= 42, "sent an ARP frame of %zu bytes", len);
		else
			fuzz_fail("sent a frame of type 0x%04x", type);
	}
	fake_tx_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	static uint8_t frame[MAX_FRAME];
	unsigned int n = 0;

	fuzz_input_init(&in, data, size);
	fake_reset();
	net_reset();
	FUZZ_CHECK(net_configure(GUEST_IP, 24) == 0, "cannot configure 10.0.0.2/24");
	FUZZ_CHECK(udp_bind(ECHO_PORT, echo, NULL) == 0, "cannot bind port %d", ECHO_PORT);
	while (fuzz_left(&in) >= 2) {
		size_t len = fuzz_u16(&in) % MAX_FRAME;

		if (len > fuzz_left(&in))
			len = fuzz_left(&in);
		fuzz_bytes(&in, frame, len);
		fake_inject(frame, len);
		if (++n % 4 == 0 || fake_rx_waiting() > 200) {
			net_poll();
			check_sent();
			fake_advance_us((uint64_t)frame[0] * 10000);
		}
	}
	net_poll();
	check_sent();
	FUZZ_CHECK(!fake_violations, "the stack broke the driver contract %u times",
		   fake_violations);
	udp_unbind(ECHO_PORT);
	return 0;
}
