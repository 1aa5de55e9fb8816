// SPDX-License-Identifier: GPL-2.0
/*
 * test_net.c: the guest's IP stack (guest/net) and its commands
 * (guest/shell/cmd_net.c), built hosted, over the fake netdev in
 * net_fake.c.
 *
 * Wherever possible the bytes come from elsewhere than the stack: the
 * frames we inject were captured from Linux 6.18 (an ARP request, a ping
 * socket's echo request, two UDP datagrams, written by the kernel into a
 * tap in a scratch network namespace), the replies we expect were computed
 * by a separate Python script, and the frames the tests build themselves
 * go through this file's own checksum code, not the stack's.
 *
 * Every test ends by checking that the stack kept the driver contract
 * (net_fake.c counts violations).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/* --- net_fake.c's controls ------------------------------------------------ */

extern bool fake_present;
extern unsigned int fake_violations, fake_flushes, fake_waits;
extern uint64_t fake_clock_us;
extern bool fake_real_time;
extern void (*fake_peer)(const uint8_t *frame, size_t len);
extern void (*fake_wait_hook)(void);
extern char fake_console[];
extern size_t fake_console_len;
void fake_reset(void);
void fake_inject(const void *frame, size_t len);
unsigned int fake_rx_waiting(void);
unsigned int fake_tx_count(void);
const uint8_t *fake_tx_frame(unsigned int i, size_t *len);
void fake_tx_clear(void);
void fake_set_tx_fail(unsigned int n);
void fake_set_broken(bool broken);
void fake_advance_us(uint64_t us);

/* cmd_net.c (shell.h declares them in the guest). */
int cmd_ip(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_udpecho(int argc, char **argv);
int cmd_udpsend(int argc, char **argv);
int cmd_netstat(int argc, char **argv);

/* --- The wire ------------------------------------------------------------- */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define FAKE_FRAME_ROOM 2048 /* net_fake.c takes frames this long, too long ones included */
#define GUEST_IP	NET_IP(10, 0, 0, 2)
#define PEER_IP		NET_IP(10, 0, 0, 1)

/* Captured from Linux (see the top). */
#define LINUX_ARP_REQUEST                                                              \
	"ffffffffffff020000000001080600010800060400010200000000010a000001000000000000" \
	"0a000002"
#define LINUX_UDP_X                                                                            \
	"52540012345602000000000108004500001d900c4000401196c10a0000010a000002a1c000070009d211" \
	"78"
#define LINUX_UDP_ODD                                                                          \
	"52540012345602000000000108004500003f90564000401196550a0000010a0000029c400007002bc20d" \
	"68656c6c6f2c2067756573743a20616e206f64642d6c656e677468207061796c6f6164"
#define LINUX_ECHO_REQUEST                                                                       \
	"525400123456020000000001080045000054dd4740004001495f0a0000010a00000208007b75c3b40001"   \
	"101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a" \
	"3b3c3d3e3f4041424344454647"

/* Our answers, computed by a separate Python script (IP id 0: the first packet after reset). */
#define ARP_REPLY \
	"020000000001525400123456080600010800060400025254001234560a0000020200000000010a000001"
#define ARP_REQUEST_FOR_PEER                                                           \
	"ffffffffffff525400123456080600010800060400015254001234560a000002000000000000" \
	"0a000001"
#define ECHO_REPLY                                                                               \
	"02000000000152540012345608004500005400004000400126a70a0000020a00000100008375c3b40001"   \
	"101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a" \
	"3b3c3d3e3f4041424344454647"
#define UDP_ODD_ECHO                                                                           \
	"02000000000152540012345608004500003f00004000401126ac0a0000020a00000100079c40002bc20d" \
	"68656c6c6f2c2067756573743a20616e206f64642d6c656e677468207061796c6f6164"
/* A payload whose UDP checksum (10.0.0.2:5000 -> 10.0.0.1:7) computes to 0. */
#define ZERO_CSUM_PAYLOAD "7a65726f3f69ac"

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned int b;

		assert_int_equal(sscanf(s, "%2x", &b), 1);
		out[n++] = (uint8_t)b;
	}
	return n;
}

static void inject_hex(const char *hex)
{
	uint8_t f[ETH_FRAME_MAX];

	fake_inject(f, unhex(hex, f));
}

/* Frame @i sent by the stack must be exactly @hex. */
static void expect_tx_hex(unsigned int i, const char *hex)
{
	uint8_t want[ETH_FRAME_MAX];
	size_t want_len = unhex(hex, want), len = 0;
	const uint8_t *got = fake_tx_frame(i, &len);

	assert_non_null(got);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);
}

/*
 * The reference checksum: 32-bit accumulator folded after every add, words
 * assembled with a shift the other way round from checksum.c's.
 */
static uint16_t ref_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++) {
		sum += i % 2 ? p[i] : (uint32_t)p[i] * 256;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] * 256 + p[1]);
}

static void wr16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static uint16_t ref_udp_csum(uint32_t src, uint32_t dst, const uint8_t *udp, size_t len)
{
	uint8_t ph[12];

	wr32(ph, src);
	wr32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 17;
	wr16(ph + 10, (unsigned int)len);
	return ref_csum(udp, len, (uint16_t)~ref_csum(ph, 12, 0));
}

/* Peer -> guest (or @dst) frames, built independently of the stack. */
static size_t build_ip(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, const void *payload,
		       size_t len)
{
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	wr16(f + 12, 0x0800);
	f[14] = 0x45;
	f[15] = 0;
	wr16(f + 16, (unsigned int)(20 + len));
	wr16(f + 18, 0x1234);
	wr16(f + 20, 0x4000);
	f[22] = 64;
	f[23] = proto;
	wr16(f + 24, 0);
	wr32(f + 26, src);
	wr32(f + 30, dst);
	wr16(f + 24, ref_csum(f + 14, 20, 0));
	memcpy(f + 34, payload, len);
	return 34 + len;
}

static void fix_ip_csum(uint8_t *f)
{
	size_t ihl = (f[14] & 0xf) * 4u;

	wr16(f + 24, 0);
	wr16(f + 24, ref_csum(f + 14, ihl, 0));
}

static size_t build_udp(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			const void *data, size_t len)
{
	uint8_t u[ETH_FRAME_MAX];
	uint16_t c;

	wr16(u, sport);
	wr16(u + 2, dport);
	wr16(u + 4, (unsigned int)(8 + len));
	wr16(u + 6, 0);
	memcpy(u + 8, data, len);
	c = ref_udp_csum(src, dst, u, 8 + len);
	wr16(u + 6, c ? c : 0xffff);
	return build_ip(f, src, dst, 17, u, 8 + len);
}

static size_t build_icmp(uint8_t *f, uint32_t src, uint32_t dst, uint8_t type, uint16_t id,
			 uint16_t seq, const void *data, size_t len)
{
	uint8_t m[ETH_FRAME_MAX];

	m[0] = type;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 4, id);
	wr16(m + 6, seq);
	memcpy(m + 8, data, len);
	wr16(m + 2, ref_csum(m, 8 + len, 0));
	return build_ip(f, src, dst, 1, m, 8 + len);
}

static size_t build_arp(uint8_t *f, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
			uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, sha, 6);
	wr16(f + 12, 0x0806);
	wr16(f + 14, 1);
	wr16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	wr16(f + 20, op);
	memcpy(f + 22, sha, 6);
	wr32(f + 28, spa);
	memcpy(f + 32, tha, 6);
	wr32(f + 38, tpa);
	return 42;
}

static void inject_arp_reply_from_peer(void)
{
	uint8_t f[64];

	fake_inject(f, build_arp(f, guest_mac, 2, peer_mac, PEER_IP, guest_mac, GUEST_IP));
}

/* The peer sends us an ARP request, so we know it (and answer: cleared). */
static void learn_peer(void)
{
	inject_hex(LINUX_ARP_REQUEST);
	net_poll();
	assert_int_equal(fake_tx_count(), 1);
	fake_tx_clear();
}

static struct net_stats stats(void)
{
	struct net_stats s;

	net_get_stats(&s);
	return s;
}

static int setup(void **state)
{
	(void)state;
	fake_reset();
	net_reset();
	assert_int_equal(net_configure(GUEST_IP, 24), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fake_violations)
		fail_msg("the stack broke the driver contract %u times", fake_violations);
	return 0;
}

/* --- Checksums ------------------------------------------------------------ */

/* The header in Wikipedia's "IPv4 header checksum" article. */
static void test_checksum_ip_vector(void **state)
{
	uint8_t h[20];

	(void)state;
	unhex("450000730000400040110000c0a80001c0a800c7", h);
	assert_int_equal(inet_checksum(h, 20), 0xb861);
	wr16(h + 10, 0xb861);
	assert_int_equal(inet_checksum(h, 20), 0);
}

/* RFC 1071 section 3's example, odd lengths, and nothing at all. */
static void test_checksum_rfc1071(void **state)
{
	uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t one = 0x01;

	(void)state;
	assert_int_equal(inet_checksum(b, 8), (uint16_t)~0xddf2);
	assert_int_equal(inet_checksum(b, 7), (uint16_t) ~(0xddf2 - 0xf7));
	assert_int_equal(inet_checksum(&one, 1), 0xfeff);
	assert_int_equal(inet_checksum(b, 0), 0xffff);
}

/* Datagrams whose checksums Linux computed: they check, and we compute the same. */
static void test_checksum_udp_linux(void **state)
{
	const char *frames[] = { LINUX_UDP_X, LINUX_UDP_ODD };
	const uint16_t want[] = { 0xd211, 0xc20d };

	(void)state;
	for (int i = 0; i < 2; i++) {
		uint8_t f[ETH_FRAME_MAX];
		size_t len = unhex(frames[i], f);
		uint8_t *udp = f + 34;

		assert_int_equal(udp_checksum(PEER_IP, GUEST_IP, udp, len - 34), 0);
		assert_int_equal(inet_checksum(f + 14, 20), 0);
		wr16(udp + 6, 0);
		assert_int_equal(udp_checksum(PEER_IP, GUEST_IP, udp, len - 34), want[i]);
		/* The pseudo-header counts: the wrong addresses give another sum. */
		assert_int_not_equal(udp_checksum(PEER_IP, GUEST_IP + 1, udp, len - 34), want[i]);
	}
}

/* The stack's sum against the reference on random data of every length. */
static void test_checksum_random(void **state)
{
	uint8_t buf[1600];
	uint32_t x = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)round % 1501;

		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
		}
		if (round % 7 == 0)
			memset(buf, 0xff, len); /* carries on every add */
		assert_int_equal(inet_checksum(buf, len), ref_csum(buf, len, 0));
		assert_int_equal(udp_checksum(PEER_IP, GUEST_IP, buf, len),
				 ref_udp_csum(PEER_IP, GUEST_IP, buf, len));
	}
}

/* --- ARP ------------------------------------------------------------------ */

static void test_arp_request_reply(void **state)
{
	struct arp_info t[ARP_ENTRIES];

	(void)state;
	inject_hex(LINUX_ARP_REQUEST);
	assert_int_equal(net_poll(), 1);
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, ARP_REPLY);
	assert_true(fake_flushes > 0);
	assert_int_equal(stats().arp.requests_in, 1);
	assert_int_equal(stats().arp.replies_out, 1);
	/* The asker is about to talk to us: we learnt its MAC. */
	assert_int_equal(arp_table(t, ARP_ENTRIES), 1);
	assert_int_equal(t[0].ip, PEER_IP);
	assert_int_equal(t[0].state, ARP_RESOLVED);
	assert_memory_equal(t[0].mac, peer_mac, 6);
}

/* A request padded to Ethernet's 60-byte minimum is the same request. */
static void test_arp_request_padded(void **state)
{
	uint8_t f[60] = { 0 };

	(void)state;
	unhex(LINUX_ARP_REQUEST, f);
	fake_inject(f, sizeof(f));
	net_poll();
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, ARP_REPLY);
}

static void test_arp_request_for_another(void **state)
{
	struct arp_info t[ARP_ENTRIES];
	uint8_t f[64];

	(void)state;
	fake_inject(f,
		    build_arp(f, bcast_mac, 1, peer_mac, PEER_IP, bcast_mac, NET_IP(10, 0, 0, 3)));
	net_poll();
	assert_int_equal(fake_tx_count(), 0);
	assert_int_equal(stats().arp.not_for_us, 1);
	assert_int_equal(arp_table(t, ARP_ENTRIES), 0);
}

/* A UDP send to an unknown MAC: request, park, reply, send. */
static void test_arp_resolves_before_send(void **state)
{
	uint8_t want[ETH_FRAME_MAX];
	size_t len, want_len;
	const uint8_t *got;

	(void)state;
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "abc", 3), 0);
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, ARP_REQUEST_FOR_PEER);
	assert_int_equal(stats().arp.queued, 1);
	assert_int_equal(arp_parked(), 1);

	inject_arp_reply_from_peer();
	net_poll();
	assert_int_equal(fake_tx_count(), 2);
	assert_int_equal(arp_parked(), 0);
	assert_int_equal(stats().arp.resolved, 1);
	/* The parked datagram, built here independently (its IP id is 0). */
	want_len = build_udp(want, GUEST_IP, PEER_IP, 5000, 7, "abc", 3);
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, guest_mac, 6);
	wr16(want + 18, 0);
	fix_ip_csum(want);
	got = fake_tx_frame(1, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);

	/* Now known: the next datagram goes straight out. */
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "abcd", 4), 0);
	assert_int_equal(fake_tx_count(), 3);
	got = fake_tx_frame(2, &len);
	assert_memory_equal(got, peer_mac, 6);
	assert_int_equal(rd16(got + 18), 1); /* the next IP id */
	assert_int_equal(stats().arp.requests_out, 1);
}

/* Unanswered: ARP_TRIES requests ARP_RETRY_US apart, then the frame is dropped. */
static void test_arp_retries_then_gives_up(void **state)
{
	uint32_t ip = NET_IP(10, 0, 0, 9);
	struct arp_info t[ARP_ENTRIES];
	uint64_t before;

	(void)state;
	assert_int_equal(udp_send(ip, 5000, 7, "x", 1), 0);
	assert_int_equal(fake_tx_count(), 1);
	for (int i = 1; i < ARP_TRIES; i++) {
		fake_advance_us(ARP_RETRY_US - 1);
		net_poll();
		assert_int_equal(fake_tx_count(), (unsigned int)i);
		/* net_wait sleeps only until the retry is due, however long it was asked. */
		before = fake_clock_us;
		net_wait(10000000);
		assert_int_equal(fake_clock_us - before, 1);
		net_poll();
		assert_int_equal(fake_tx_count(), (unsigned int)i + 1);
		assert_int_equal(arp_table(t, ARP_ENTRIES), 1);
		assert_int_equal(t[0].tries, (unsigned int)i + 1);
	}
	fake_advance_us(ARP_RETRY_US);
	net_poll();
	assert_int_equal(fake_tx_count(), ARP_TRIES);
	for (unsigned int i = 0; i < ARP_TRIES; i++) {
		size_t len;
		const uint8_t *f = fake_tx_frame(i, &len);

		assert_int_equal(len, 42);
		assert_int_equal(rd16(f + 20), 1);
		assert_int_equal(rd32(f + 38), ip);
	}
	assert_int_equal(stats().arp.timeouts, 1);
	assert_int_equal(stats().arp.queue_drops, 1);
	assert_int_equal(arp_parked(), 0);
	assert_int_equal(arp_table(t, ARP_ENTRIES), 0);
	/* With nothing to retry, net_wait sleeps as long as asked. */
	before = fake_clock_us;
	net_wait(5000);
	assert_int_equal(fake_clock_us - before, 5000);
}

/* Parked frames leave in order; past ARP_QUEUE_FRAMES the oldest are dropped. */
static void test_arp_parking(void **state)
{
	const unsigned int n = ARP_QUEUE_FRAMES + 2;

	(void)state;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t b = (uint8_t)i;

		assert_int_equal(udp_send(PEER_IP, 5000, 7, &b, 1), 0);
	}
	assert_int_equal(fake_tx_count(), 1); /* one request for them all */
	assert_int_equal(arp_parked(), ARP_QUEUE_FRAMES);
	assert_int_equal(stats().arp.queue_drops, 2);
	fake_tx_clear();
	inject_arp_reply_from_peer();
	net_poll();
	assert_int_equal(fake_tx_count(), ARP_QUEUE_FRAMES);
	for (unsigned int i = 0; i < ARP_QUEUE_FRAMES; i++) {
		size_t len;
		const uint8_t *f = fake_tx_frame(i, &len);

		assert_int_equal(len, 43);
		assert_int_equal(f[42], i + 2);
	}
}

static void test_arp_ageing(void **state)
{
	struct arp_info t[ARP_ENTRIES];

	(void)state;
	learn_peer();
	fake_advance_us(ARP_TTL_US - 1);
	net_poll();
	assert_int_equal(arp_table(t, ARP_ENTRIES), 1);
	assert_int_equal(t[0].age_us, ARP_TTL_US - 1);
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "a", 1), 0);
	assert_int_equal(fake_tx_count(), 1); /* still trusted: straight out */
	fake_advance_us(1);
	net_poll();
	assert_int_equal(stats().arp.expired, 1);
	assert_int_equal(arp_table(t, ARP_ENTRIES), 0);
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "b", 1), 0);
	assert_int_equal(fake_tx_count(), 2);
	expect_tx_hex(1, ARP_REQUEST_FOR_PEER);

	/* An entry aged out while nobody polled is asked again at the next send. */
	inject_arp_reply_from_peer();
	net_poll();
	fake_advance_us(ARP_TTL_US);
	fake_tx_clear();
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "c", 1), 0);
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, ARP_REQUEST_FOR_PEER);
	assert_int_equal(stats().arp.expired, 2);
}

static void arp_request_from(uint32_t ip, uint8_t mac_low)
{
	uint8_t f[64], mac[6] = { 0x02, 0, 0, 0, 0, mac_low };

	fake_inject(f, build_arp(f, bcast_mac, 1, mac, ip, bcast_mac, GUEST_IP));
	net_poll();
}

static bool in_table(uint32_t ip)
{
	struct arp_info t[ARP_ENTRIES];
	int n = arp_table(t, ARP_ENTRIES);

	for (int i = 0; i < n; i++) {
		if (t[i].ip == ip)
			return true;
	}
	return false;
}

/* A full table gives up the entry confirmed longest ago. */
static void test_arp_replacement(void **state)
{
	struct arp_info t[ARP_ENTRIES];

	(void)state;
	for (int i = 0; i < ARP_ENTRIES; i++) {
		arp_request_from(NET_IP(10, 0, 0, 10 + i), (uint8_t)(10 + i));
		fake_advance_us(1000);
	}
	assert_int_equal(arp_table(t, ARP_ENTRIES), ARP_ENTRIES);
	arp_request_from(NET_IP(10, 0, 0, 10), 10); /* .10 is fresh again */
	arp_request_from(NET_IP(10, 0, 0, 30), 30);
	assert_int_equal(stats().arp.evicted, 1);
	assert_int_equal(arp_table(t, ARP_ENTRIES), ARP_ENTRIES);
	assert_true(in_table(NET_IP(10, 0, 0, 10)));
	assert_false(in_table(NET_IP(10, 0, 0, 11)));
	assert_true(in_table(NET_IP(10, 0, 0, 30)));
	/* A sender that changed its MAC is believed (RFC 826's merge). */
	arp_request_from(NET_IP(10, 0, 0, 30), 99);
	arp_table(t, ARP_ENTRIES);
	for (int i = 0; i < ARP_ENTRIES; i++) {
		if (t[i].ip == NET_IP(10, 0, 0, 30))
			assert_int_equal(t[i].mac[5], 99);
	}
}

/* An entry still waiting for its answer goes only when every entry is waiting. */
static void test_arp_replacement_spares_incomplete(void **state)
{
	(void)state;
	assert_int_equal(udp_send(NET_IP(10, 0, 0, 99), 5000, 7, "p", 1), 0); /* the oldest */
	fake_advance_us(10);
	for (int i = 0; i < ARP_ENTRIES; i++) {
		arp_request_from(NET_IP(10, 0, 0, 10 + i), (uint8_t)(10 + i));
		fake_advance_us(10);
	}
	assert_true(in_table(NET_IP(10, 0, 0, 99)));
	assert_false(in_table(NET_IP(10, 0, 0, 10)));
	assert_int_equal(arp_parked(), 1);

	/* Sixteen waiting: the new one pushes out the longest waiting, and its frame. */
	net_reset();
	assert_int_equal(net_configure(GUEST_IP, 24), 0);
	for (int i = 0; i < ARP_ENTRIES; i++) {
		assert_int_equal(udp_send(NET_IP(10, 0, 0, 100 + i), 5000, 7, "q", 1), 0);
		fake_advance_us(10);
	}
	assert_int_equal(udp_send(NET_IP(10, 0, 0, 200), 5000, 7, "r", 1), 0);
	assert_false(in_table(NET_IP(10, 0, 0, 100)));
	assert_true(in_table(NET_IP(10, 0, 0, 200)));
	assert_int_equal(arp_parked(), ARP_ENTRIES);
	assert_int_equal(stats().arp.queue_drops, 1);
	assert_int_equal(stats().arp.evicted, 1);
}

static void test_arp_sender_rules(void **state)
{
	uint8_t f[64], mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 }, zero[6] = { 0 };
	struct arp_info t[ARP_ENTRIES];

	(void)state;
	/* A reply to someone else from a stranger teaches us nothing. */
	fake_inject(f,
		    build_arp(f, bcast_mac, 2, peer_mac, PEER_IP, bcast_mac, NET_IP(10, 0, 0, 3)));
	net_poll();
	assert_int_equal(arp_table(t, ARP_ENTRIES), 0);
	/* Multicast MAC, our own IP, a broadcast IP: believed by nobody. */
	fake_inject(f, build_arp(f, bcast_mac, 1, mcast, PEER_IP, zero, GUEST_IP));
	fake_inject(f, build_arp(f, bcast_mac, 1, peer_mac, GUEST_IP, zero, GUEST_IP));
	fake_inject(f, build_arp(f, bcast_mac, 1, peer_mac, NET_IP(10, 0, 0, 255), zero, GUEST_IP));
	net_poll();
	assert_int_equal(stats().arp.bad_sender, 3);
	assert_int_equal(fake_tx_count(), 0);
	assert_int_equal(arp_table(t, ARP_ENTRIES), 0);
	/* A probe (sender IP 0) for our address is answered, and not learnt. */
	fake_inject(f, build_arp(f, bcast_mac, 1, peer_mac, 0, zero, GUEST_IP));
	net_poll();
	assert_int_equal(fake_tx_count(), 1);
	{
		size_t len;
		const uint8_t *r = fake_tx_frame(0, &len);

		assert_memory_equal(r, peer_mac, 6);
		assert_int_equal(rd16(r + 20), 2);
		assert_int_equal(rd32(r + 38), 0);
	}
	assert_int_equal(arp_table(t, ARP_ENTRIES), 0);
}

/* --- ICMP ----------------------------------------------------------------- */

static void test_icmp_echo_reply_exact(void **state)
{
	(void)state;
	learn_peer();
	inject_hex(LINUX_ECHO_REQUEST);
	net_poll();
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, ECHO_REPLY);
	assert_int_equal(stats().icmp.echo_requests_in, 1);
	assert_int_equal(stats().icmp.echo_replies_out, 1);
}

/* Nobody asked us first: ARP for the pinger, then the same reply. */
static void test_icmp_echo_reply_after_arp(void **state)
{
	(void)state;
	inject_hex(LINUX_ECHO_REQUEST);
	net_poll();
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, ARP_REQUEST_FOR_PEER);
	inject_arp_reply_from_peer();
	net_poll();
	assert_int_equal(fake_tx_count(), 2);
	expect_tx_hex(1, ECHO_REPLY);
}

struct echo_seen {
	int calls;
	uint32_t src;
	uint16_t seq;
	uint8_t data[64];
	size_t len;
};

static void record_echo(void *ctx, uint32_t src, uint16_t seq, const void *data, size_t len)
{
	struct echo_seen *e = ctx;

	e->calls++;
	e->src = src;
	e->seq = seq;
	e->len = len;
	memcpy(e->data, data, len < sizeof(e->data) ? len : sizeof(e->data));
}

static void test_icmp_ping_matching(void **state)
{
	struct echo_seen seen = { 0 };
	uint8_t f[ETH_FRAME_MAX], want[ETH_FRAME_MAX];
	size_t len, want_len;
	const uint8_t *got;

	(void)state;
	learn_peer();
	icmp_echo_listen(0x4242, record_echo, &seen);
	assert_int_equal(icmp_echo_send(PEER_IP, 0x4242, 7, "ping!", 5), 0);
	want_len = build_icmp(want, GUEST_IP, PEER_IP, 8, 0x4242, 7, "ping!", 5);
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, guest_mac, 6);
	wr16(want + 18, 0);
	fix_ip_csum(want);
	got = fake_tx_frame(0, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);

	fake_inject(f, build_icmp(f, PEER_IP, GUEST_IP, 0, 0x4242, 7, "ping!", 5));
	fake_inject(f, build_icmp(f, PEER_IP, GUEST_IP, 0, 0x4243, 8, "other", 5));
	net_poll();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.src, PEER_IP);
	assert_int_equal(seen.seq, 7);
	assert_int_equal(seen.len, 5);
	assert_memory_equal(seen.data, "ping!", 5);
	assert_int_equal(stats().icmp.unmatched, 1);
	icmp_echo_unlisten();
	fake_inject(f, build_icmp(f, PEER_IP, GUEST_IP, 0, 0x4242, 9, "late", 4));
	net_poll();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(stats().icmp.unmatched, 2);
}

static void test_icmp_broadcast_ignored(void **state)
{
	uint8_t f[ETH_FRAME_MAX];

	(void)state;
	learn_peer();
	fake_inject(f, build_icmp(f, PEER_IP, NET_IP(10, 0, 0, 255), 8, 1, 1, "b", 1));
	fake_inject(f, build_icmp(f, PEER_IP, 0xffffffff, 8, 1, 2, "b", 1));
	net_poll();
	assert_int_equal(fake_tx_count(), 0);
	assert_int_equal(stats().icmp.broadcast_ignored, 2);
}

/* --- UDP ------------------------------------------------------------------ */

static void echo_back(void *ctx, const struct udp_datagram *d)
{
	(void)ctx;
	assert_int_equal(udp_send(d->src, d->dport, d->sport, d->data, d->len), 0);
}

/* The same, for random input: whatever it says. */
static void echo_back_quiet(void *ctx, const struct udp_datagram *d)
{
	(void)ctx;
	if (d->sport)
		udp_send(d->src, d->dport, d->sport, d->data, d->len);
}

static void test_udp_echo_round_trip(void **state)
{
	(void)state;
	learn_peer();
	assert_int_equal(udp_bind(7, echo_back, NULL), 0);
	inject_hex(LINUX_UDP_ODD);
	net_poll();
	assert_int_equal(fake_tx_count(), 1);
	expect_tx_hex(0, UDP_ODD_ECHO);
	assert_int_equal(stats().udp.in, 1);
	assert_int_equal(stats().udp.out, 1);
}

static void test_udp_queue_binding(void **state)
{
	uint8_t f[ETH_FRAME_MAX], buf[64];
	uint32_t src = 0;
	uint16_t sport = 0;

	(void)state;
	assert_int_equal(udp_bind(9, NULL, NULL), 0);
	assert_int_equal(udp_recv(9, buf, sizeof(buf), &src, &sport), NET_EAGAIN);
	for (int i = 0; i < UDP_QUEUE_LEN + 1; i++) {
		char msg[16];
		int n = snprintf(msg, sizeof(msg), "datagram %d", i);

		fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, (uint16_t)(3000 + i), 9, msg,
					 (size_t)n));
	}
	net_poll();
	assert_int_equal(stats().udp.queue_full, 1);
	for (int i = 0; i < UDP_QUEUE_LEN; i++) {
		char msg[16];
		int n = snprintf(msg, sizeof(msg), "datagram %d", i);

		memset(buf, 0, sizeof(buf));
		assert_int_equal(udp_recv(9, buf, sizeof(buf), &src, &sport), n);
		assert_string_equal((char *)buf, msg);
		assert_int_equal(src, PEER_IP);
		assert_int_equal(sport, 3000 + i);
	}
	assert_int_equal(udp_recv(9, buf, sizeof(buf), NULL, NULL), NET_EAGAIN);
	/* Cut short: the length says so. */
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 1, 9, "0123456789", 10));
	net_poll();
	memset(buf, 0, sizeof(buf));
	assert_int_equal(udp_recv(9, buf, 4, NULL, NULL), 10);
	assert_string_equal((char *)buf, "0123");
	/* A handler binding has no queue. */
	assert_int_equal(udp_bind(10, echo_back, NULL), 0);
	assert_int_equal(udp_recv(10, buf, sizeof(buf), NULL, NULL), NET_EINVAL);
	assert_int_equal(udp_recv(11, buf, sizeof(buf), NULL, NULL), NET_EINVAL);
}

static void test_udp_zero_checksum_sent_as_ffff(void **state)
{
	uint8_t payload[16];
	size_t n = unhex(ZERO_CSUM_PAYLOAD, payload), len;
	const uint8_t *f;

	(void)state;
	learn_peer();
	assert_int_equal(udp_send(PEER_IP, 5000, 7, payload, n), 0);
	f = fake_tx_frame(0, &len);
	assert_int_equal(rd16(f + 40), 0xffff);
	assert_int_equal(ref_udp_csum(GUEST_IP, PEER_IP, f + 34, len - 34), 0);
}

/* Checksum 0 means "not computed": accepted as is. */
static void test_udp_no_checksum_accepted(void **state)
{
	uint8_t f[ETH_FRAME_MAX], buf[8];

	(void)state;
	assert_int_equal(udp_bind(9, NULL, NULL), 0);
	build_udp(f, PEER_IP, GUEST_IP, 1, 9, "abc", 3);
	wr16(f + 40, 0);
	fake_inject(f, 45);
	net_poll();
	assert_int_equal(udp_recv(9, buf, sizeof(buf), NULL, NULL), 3);
}

static void test_udp_bind_rules(void **state)
{
	(void)state;
	assert_int_equal(udp_bind(0, echo_back, NULL), NET_EINVAL);
	assert_int_equal(udp_bind(7, echo_back, NULL), 0);
	assert_int_equal(udp_bind(7, NULL, NULL), NET_EBUSY);
	for (int i = 1; i < UDP_BINDINGS; i++)
		assert_int_equal(udp_bind((uint16_t)(100 + i), NULL, NULL), 0);
	assert_int_equal(udp_bind(200, NULL, NULL), NET_EBUSY);
	udp_unbind(7);
	assert_int_equal(udp_bind(200, NULL, NULL), 0);
	assert_int_equal(udp_ephemeral_port(), 49152);
	assert_int_equal(udp_bind(49153, NULL, NULL), NET_EBUSY); /* full */
	udp_unbind(200);
	assert_int_equal(udp_bind(49153, NULL, NULL), 0);
	assert_int_equal(udp_ephemeral_port(), 49154); /* 49153 is bound */
	assert_int_equal(udp_send(PEER_IP, 0, 7, "x", 1), NET_EINVAL);
	assert_int_equal(udp_send(PEER_IP, 7, 7, "x", UDP_MAX_PAYLOAD + 1), NET_EINVAL);
}

/* The largest datagram fits one frame exactly. */
static void test_udp_largest(void **state)
{
	static uint8_t payload[UDP_MAX_PAYLOAD];
	size_t len;
	const uint8_t *f;

	(void)state;
	learn_peer();
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	assert_int_equal(udp_send(PEER_IP, 5000, 7, payload, sizeof(payload)), 0);
	f = fake_tx_frame(0, &len);
	assert_int_equal(len, ETH_FRAME_MAX);
	assert_int_equal(ref_csum(f + 14, 20, 0), 0);
	assert_int_equal(ref_udp_csum(GUEST_IP, PEER_IP, f + 34, len - 34), 0);
	assert_memory_equal(f + 42, payload, sizeof(payload));
}

/* --- Sending: routes, broadcasts, a full or stopped device ---------------- */

static void test_send_routes(void **state)
{
	size_t len;
	const uint8_t *f;

	(void)state;
	assert_int_equal(udp_send(NET_IP(10, 0, 1, 1), 5000, 7, "x", 1), NET_EUNREACH);
	assert_int_equal(udp_send(GUEST_IP, 5000, 7, "x", 1), NET_EUNREACH);
	assert_int_equal(icmp_echo_send(NET_IP(192, 168, 0, 1), 1, 1, "x", 1), NET_EUNREACH);
	assert_int_equal(arp_resolve(NET_IP(10, 0, 1, 1), 1000), NET_EUNREACH);
	assert_int_equal(stats().ip.no_route, 4);
	assert_int_equal(fake_tx_count(), 0);
	/* Broadcasts need no ARP. */
	assert_int_equal(udp_send(NET_IP(10, 0, 0, 255), 5000, 7, "x", 1), 0);
	assert_int_equal(udp_send(0xffffffff, 5000, 7, "x", 1), 0);
	assert_int_equal(fake_tx_count(), 2);
	f = fake_tx_frame(0, &len);
	assert_memory_equal(f, bcast_mac, 6);
	assert_int_equal(rd32(f + 30), NET_IP(10, 0, 0, 255));
	f = fake_tx_frame(1, &len);
	assert_memory_equal(f, bcast_mac, 6);
}

static void test_send_device_full(void **state)
{
	struct netdev_stats ds;

	(void)state;
	learn_peer();
	fake_set_tx_fail(3);
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "x", 1), 0);
	assert_int_equal(fake_tx_count(), 1);
	netdev_get_stats(netdev_get(0), &ds);
	assert_int_equal(ds.tx_full, 3);
	assert_true(fake_waits >= 2);
	/* Full for good: given up after a while, counted. */
	fake_set_tx_fail(1000000);
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "x", 1), NET_ETIMEDOUT);
	assert_int_equal(stats().eth.tx_dropped, 1);
	fake_set_tx_fail(0);
	fake_set_broken(true);
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "x", 1), NET_ENODEV);
	assert_int_equal(arp_resolve(PEER_IP, 1000), NET_ENODEV);
}

static void test_not_configured(void **state)
{
	uint8_t f[ETH_FRAME_MAX];

	(void)state;
	net_reset();
	assert_int_equal(udp_send(PEER_IP, 5000, 7, "x", 1), NET_ENOTCONF);
	inject_hex(LINUX_ARP_REQUEST);
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 1, 7, "x", 1));
	net_poll();
	assert_int_equal(fake_tx_count(), 0);
	assert_int_equal(stats().arp.not_for_us, 1);
	assert_int_equal(stats().ip.not_ours, 1);
}

static void test_configure_rules(void **state)
{
	const struct net_iface *ifc;

	(void)state;
	assert_int_equal(net_configure(NET_IP(10, 0, 0, 0), 24), NET_EINVAL);
	assert_int_equal(net_configure(NET_IP(10, 0, 0, 255), 24), NET_EINVAL);
	assert_int_equal(net_configure(NET_IP(224, 0, 0, 1), 4), NET_EINVAL);
	assert_int_equal(net_configure(NET_IP(127, 0, 0, 1), 8), NET_EINVAL);
	assert_int_equal(net_configure(GUEST_IP, 33), NET_EINVAL);
	assert_int_equal(net_configure(NET_IP(10, 0, 0, 0), 31), 0); /* RFC 3021 */
	assert_int_equal(net_configure(NET_IP(10, 0, 0, 5), 32), 0);
	assert_int_equal(net_configure(NET_IP(10, 1, 2, 3), 0), 0);
	ifc = net_iface();
	assert_non_null(ifc);
	assert_int_equal(ifc->addr, NET_IP(10, 1, 2, 3));
	assert_int_equal(ifc->prefix, 0);
	assert_memory_equal(ifc->mac, guest_mac, 6);
	fake_present = false;
	net_reset();
	assert_null(net_iface());
	assert_int_equal(net_configure(GUEST_IP, 24), NET_ENODEV);
	assert_int_equal(udp_send(PEER_IP, 1, 7, "x", 1), NET_ENODEV);
	assert_int_equal(net_poll(), 0);
}

static void test_parse_format(void **state)
{
	const char *good[] = { "0.0.0.0", "10.0.0.2", "255.255.255.255", "192.168.100.1" };
	const uint32_t want[] = { 0, GUEST_IP, 0xffffffff, NET_IP(192, 168, 100, 1) };
	const char *bad[] = { "",	   "10.0.0",	 "10.0.0.2.1", "256.0.0.1",
			      "010.0.0.1", "1..2.3",	 "10.0.0.2 ",  "-1.0.0.0",
			      "a.b.c.d",   "1.2.3.4/24", "1000.0.0.1" };
	char buf[NET_MAC_STR_MAX];
	unsigned int prefix;
	uint32_t a;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(net_parse_ip(good[i], &a));
		assert_int_equal(a, want[i]);
		assert_string_equal(net_format_ip(a, buf), good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (net_parse_ip(bad[i], &a))
			fail_msg("'%s' parsed", bad[i]);
	}
	assert_true(net_parse_cidr("10.0.0.2/24", &a, &prefix));
	assert_int_equal(a, GUEST_IP);
	assert_int_equal(prefix, 24);
	assert_true(net_parse_cidr("10.0.0.2/0", &a, &prefix));
	assert_int_equal(prefix, 0);
	assert_false(net_parse_cidr("10.0.0.2", &a, &prefix));
	assert_false(net_parse_cidr("10.0.0.2/33", &a, &prefix));
	assert_false(net_parse_cidr("10.0.0.2/", &a, &prefix));
	assert_false(net_parse_cidr("10.0.0.2/24x", &a, &prefix));
	assert_string_equal(net_format_mac(guest_mac, buf), "52:54:00:12:34:56");
	assert_string_equal(net_strerror(NET_EUNREACH),
			    "no route (not on our subnet, or our own address)");
}

/* --- Malformed input: each dropped, and counted exactly once -------------- */

/* A valid datagram from the peer to port 9 (bound, queue), 8 bytes of data. */
static size_t base_udp(uint8_t *f)
{
	return build_udp(f, PEER_IP, GUEST_IP, 4000, 9, "payload!", 8);
}

static size_t base_icmp(uint8_t *f)
{
	return build_icmp(f, PEER_IP, GUEST_IP, 8, 1, 1, "payload!", 8);
}

static size_t m_eth_short(uint8_t *f)
{
	base_udp(f);
	return 13;
}

static size_t m_eth_oversize(uint8_t *f)
{
	base_udp(f);
	memset(f + 50, 0, ETH_FRAME_MAX + 1 - 50);
	return ETH_FRAME_MAX + 1;
}

static size_t m_eth_other_mac(uint8_t *f)
{
	size_t n = base_udp(f);

	f[5] ^= 1;
	return n;
}

static size_t m_eth_multicast(uint8_t *f)
{
	size_t n = base_udp(f);

	memcpy(f, "\x01\x00\x5e\x00\x00\xfb", 6);
	return n;
}

static size_t m_eth_ipv6(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 12, 0x86dd);
	return n;
}

static size_t m_ip_short(uint8_t *f)
{
	base_udp(f);
	return 14 + 19;
}

static size_t m_ip_version6(uint8_t *f)
{
	size_t n = base_udp(f);

	f[14] = 0x65;
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_ihl4(uint8_t *f)
{
	size_t n = base_udp(f);

	f[14] = 0x44;
	return n;
}

static size_t m_ip_ihl_beyond(uint8_t *f)
{
	size_t n = base_udp(f); /* 36 bytes of IP */

	f[14] = 0x4f; /* 60 */
	return n;
}

static size_t m_ip_total_beyond(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 16, 37);
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_total_under_header(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 16, 19);
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_bad_csum(uint8_t *f)
{
	size_t n = base_udp(f);

	f[25] ^= 0x40;
	return n;
}

static size_t m_ip_more_fragments(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 20, 0x2000);
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_last_fragment(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 20, 185); /* offset 1480, no MF */
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_not_ours(uint8_t *f)
{
	size_t n = base_udp(f);

	wr32(f + 30, NET_IP(10, 0, 0, 3));
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_multicast_dst(uint8_t *f)
{
	size_t n = base_udp(f);

	wr32(f + 30, NET_IP(224, 0, 0, 251));
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_src_broadcast(uint8_t *f)
{
	size_t n = base_udp(f);

	wr32(f + 26, NET_IP(10, 0, 0, 255));
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_src_ours(uint8_t *f)
{
	size_t n = base_udp(f);

	wr32(f + 26, GUEST_IP);
	fix_ip_csum(f);
	return n;
}

static size_t m_ip_tcp(uint8_t *f)
{
	size_t n = base_udp(f);

	f[23] = 6;
	fix_ip_csum(f);
	return n;
}

static size_t m_udp_short(uint8_t *f)
{
	base_udp(f);
	wr16(f + 16, 27); /* 7 bytes of UDP */
	fix_ip_csum(f);
	return 14 + 27;
}

static size_t m_udp_len_over(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 38, 17);
	return n;
}

static size_t m_udp_len_under(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 38, 15);
	return n;
}

static size_t m_udp_len_tiny(uint8_t *f)
{
	size_t n = base_udp(f);

	wr16(f + 38, 4);
	return n;
}

static size_t m_udp_bad_csum(uint8_t *f)
{
	size_t n = base_udp(f);

	f[45] ^= 0x01;
	return n;
}

static size_t m_udp_no_port(uint8_t *f)
{
	return build_udp(f, PEER_IP, GUEST_IP, 4000, 10, "payload!", 8);
}

static size_t m_icmp_short(uint8_t *f)
{
	base_icmp(f);
	wr16(f + 16, 27);
	fix_ip_csum(f);
	return 14 + 27;
}

static size_t m_icmp_bad_csum(uint8_t *f)
{
	size_t n = base_icmp(f);

	f[45] ^= 0x01;
	return n;
}

static size_t m_icmp_timestamp(uint8_t *f)
{
	return build_icmp(f, PEER_IP, GUEST_IP, 13, 1, 1, "payload!", 8);
}

static size_t m_arp_short(uint8_t *f)
{
	build_arp(f, bcast_mac, 1, peer_mac, PEER_IP, bcast_mac, GUEST_IP);
	return 14 + 27;
}

static size_t m_arp_htype(uint8_t *f)
{
	size_t n = build_arp(f, bcast_mac, 1, peer_mac, PEER_IP, bcast_mac, GUEST_IP);

	wr16(f + 14, 6);
	return n;
}

static size_t m_arp_plen(uint8_t *f)
{
	size_t n = build_arp(f, bcast_mac, 1, peer_mac, PEER_IP, bcast_mac, GUEST_IP);

	f[19] = 16;
	return n;
}

static size_t m_arp_op3(uint8_t *f)
{
	return build_arp(f, bcast_mac, 3, peer_mac, PEER_IP, bcast_mac, GUEST_IP);
}

#define C(field) (offsetof(struct net_stats, field) + 1) /* 0 ends a list */
#define ETH	 C(eth.in)
#define IP	 ETH, C(ip.in)
#define UDP	 IP, C(ip.delivered), C(udp.in)
#define ICMP	 IP, C(ip.delivered), C(icmp.in)

static const struct malformed {
	const char *name;
	size_t (*make)(uint8_t *f);
	size_t counters[6];
} malformed[] = {
	{ "frame shorter than its header", m_eth_short, { ETH, C(eth.truncated) } },
	{ "frame longer than 1514 bytes", m_eth_oversize, { ETH, C(eth.oversize) } },
	{ "another host's MAC", m_eth_other_mac, { ETH, C(eth.not_ours) } },
	{ "multicast MAC", m_eth_multicast, { ETH, C(eth.not_ours) } },
	{ "IPv6", m_eth_ipv6, { ETH, C(eth.unknown_type) } },
	{ "IP header cut short", m_ip_short, { IP, C(ip.truncated) } },
	{ "IP version 6", m_ip_version6, { IP, C(ip.bad_version) } },
	{ "IHL 4", m_ip_ihl4, { IP, C(ip.bad_ihl) } },
	{ "IHL beyond the frame", m_ip_ihl_beyond, { IP, C(ip.bad_ihl) } },
	{ "total length beyond the frame", m_ip_total_beyond, { IP, C(ip.bad_len) } },
	{ "total length under the header", m_ip_total_under_header, { IP, C(ip.bad_len) } },
	{ "IP header checksum", m_ip_bad_csum, { IP, C(ip.bad_csum) } },
	{ "first fragment (MF)", m_ip_more_fragments, { IP, C(ip.fragments) } },
	{ "last fragment (offset)", m_ip_last_fragment, { IP, C(ip.fragments) } },
	{ "IP to another host", m_ip_not_ours, { IP, C(ip.not_ours) } },
	{ "IP to a multicast group", m_ip_multicast_dst, { IP, C(ip.not_ours) } },
	{ "IP from a broadcast address", m_ip_src_broadcast, { IP, C(ip.bad_src) } },
	{ "IP from our own address", m_ip_src_ours, { IP, C(ip.bad_src) } },
	{ "TCP", m_ip_tcp, { IP, C(ip.unknown_proto) } },
	{ "UDP header cut short", m_udp_short, { UDP, C(udp.truncated) } },
	{ "UDP length over the IP payload", m_udp_len_over, { UDP, C(udp.bad_len) } },
	{ "UDP length under the IP payload", m_udp_len_under, { UDP, C(udp.bad_len) } },
	{ "UDP length under its header", m_udp_len_tiny, { UDP, C(udp.bad_len) } },
	{ "UDP checksum", m_udp_bad_csum, { UDP, C(udp.bad_csum) } },
	{ "UDP to an unbound port", m_udp_no_port, { UDP, C(udp.no_port) } },
	{ "ICMP header cut short", m_icmp_short, { ICMP, C(icmp.truncated) } },
	{ "ICMP checksum", m_icmp_bad_csum, { ICMP, C(icmp.bad_csum) } },
	{ "ICMP timestamp request", m_icmp_timestamp, { ICMP, C(icmp.other_types) } },
	{ "ARP cut short", m_arp_short, { ETH, C(arp.malformed) } },
	{ "ARP for another hardware type", m_arp_htype, { ETH, C(arp.malformed) } },
	{ "ARP with 16-byte protocol addresses", m_arp_plen, { ETH, C(arp.malformed) } },
	{ "ARP op 3", m_arp_op3, { ETH, C(arp.malformed) } },
};

static void test_malformed(void **state)
{
	uint8_t f[FAKE_FRAME_ROOM];
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const struct malformed *m = &malformed[i];
		struct net_stats want, got;
		size_t len;

		setup(NULL);
		learn_peer(); /* so that an echo reply, if any, would show at once */
		assert_int_equal(udp_bind(9, NULL, NULL), 0);
		net_get_stats(&want);
		memset(f, 0, sizeof(f));
		len = m->make(f);
		fake_inject(f, len);
		assert_int_equal(net_poll(), 1);
		for (int c = 0; c < 6 && m->counters[c]; c++)
			(*(uint64_t *)((char *)&want + m->counters[c] - 1))++;
		net_get_stats(&got);
		for (size_t w = 0; w < sizeof(want) / 8; w++) {
			if (((uint64_t *)&want)[w] != ((uint64_t *)&got)[w])
				fail_msg("%s: counter at offset %zu is %lu, expected %lu", m->name,
					 w * 8, (unsigned long)((uint64_t *)&got)[w],
					 (unsigned long)((uint64_t *)&want)[w]);
		}
		if (fake_tx_count())
			fail_msg("%s: the stack answered", m->name);
		if (udp_recv(9, buf, sizeof(buf), NULL, NULL) != NET_EAGAIN)
			fail_msg("%s: delivered", m->name);
		if (fake_violations)
			fail_msg("%s: the driver contract was broken", m->name);
	}
}

/* What looks odd but is fine: padding after IP, options in the header. */
static void test_tolerated(void **state)
{
	uint8_t f[128] = { 0 }, g[128], buf[16];
	size_t n;

	(void)state;
	assert_int_equal(udp_bind(9, NULL, NULL), 0);
	n = base_udp(f);
	fake_inject(f, n + 20); /* padding */
	/* Four bytes of options (NOPs): IHL 6, everything after moves up. */
	memcpy(g, f, 34);
	memcpy(g + 34, "\x01\x01\x01\x01", 4);
	memcpy(g + 38, f + 34, n - 34);
	g[14] = 0x46;
	wr16(g + 16, (unsigned int)(n - 14 + 4));
	fix_ip_csum(g);
	fake_inject(g, n + 4);
	net_poll();
	assert_int_equal(udp_recv(9, buf, sizeof(buf), NULL, NULL), 8);
	assert_memory_equal(buf, "payload!", 8);
	assert_int_equal(udp_recv(9, buf, sizeof(buf), NULL, NULL), 8);
	assert_memory_equal(buf, "payload!", 8);
}

/*
 * Random damage to valid frames of every kind: nothing crashes (run under
 * ASan: make check-asan), the contract holds, and every frame is counted
 * once on its way through the layers.
 */
static void test_fuzz(void **state)
{
	uint8_t f[FAKE_FRAME_ROOM], buf[UDP_MAX_PAYLOAD];
	uint32_t x = 2024;
	struct net_stats s;

	(void)state;
	learn_peer();
	assert_int_equal(udp_bind(9, NULL, NULL), 0);
	assert_int_equal(udp_bind(7, echo_back_quiet, NULL), 0);
	for (int round = 0; round < 50000; round++) {
		size_t n;

		x = x * 1103515245u + 12345u;
		switch (x >> 16 & 3) {
		case 0:
			n = base_udp(f);
			break;
		case 1:
			n = base_icmp(f);
			break;
		case 2:
			n = build_arp(f, bcast_mac, 1, peer_mac, PEER_IP, bcast_mac, GUEST_IP);
			break;
		default:
			n = build_udp(f, PEER_IP, GUEST_IP, 4000, 7, "echo", 4);
			break;
		}
		for (int k = (int)(x >> 20 & 3); k >= 0; k--) {
			x = x * 1103515245u + 12345u;
			f[(x >> 8) % n] ^= (uint8_t)(1u << (x >> 4 & 7));
		}
		x = x * 1103515245u + 12345u;
		if ((x >> 16 & 7) == 0)
			n = (x >> 4) % n;
		else if ((x >> 16 & 7) == 1)
			fix_ip_csum(f); /* past the checksum, into the layers above */
		fake_inject(f, n);
		net_poll();
		while (udp_recv(9, buf, sizeof(buf), NULL, NULL) >= 0)
			;
		fake_tx_clear();
	}
	net_get_stats(&s);
	assert_int_equal(s.eth.in, 50000 + 1);
	assert_int_equal(s.eth.in, s.eth.truncated + s.eth.oversize + s.eth.not_ours +
					   s.eth.unknown_type + s.arp.malformed +
					   s.arp.requests_in + s.arp.replies_in + s.ip.in);
	assert_int_equal(s.ip.in, s.ip.truncated + s.ip.bad_version + s.ip.bad_ihl + s.ip.bad_len +
					  s.ip.bad_csum + s.ip.fragments + s.ip.bad_src +
					  s.ip.not_ours + s.ip.unknown_proto + s.ip.delivered);
	assert_int_equal(s.ip.delivered, s.icmp.in + s.udp.in);
	assert_true(s.udp.bad_csum > 0 && s.ip.bad_csum > 0 && s.udp.out > 0);
}

/* --- The commands, against a peer ------------------------------------------ */

/*
 * The other end of the wire: answers ARP for PEER_IP, echo requests, and
 * echoes UDP back (as the host's echo server would), checking every
 * checksum the stack sent with this file's own code.
 */
static struct {
	bool icmp, udp;
	bool arp_late, arp_due; /* answer ARP only when the stack next waits */
	unsigned int ignore_probes;
	uint32_t drop_seq, corrupt_seq,
		dup_seq; /* udpsend datagram numbers; ~0 (a probe's): none */
	unsigned int bad_frames;
	unsigned int udp_seen, echoes_injected, max_in_flight;
} peer;

static void peer_answer(const uint8_t *f, size_t len)
{
	uint8_t r[ETH_FRAME_MAX];
	const uint8_t *ip = f + 14;
	size_t iplen;

	if (len >= 42 && rd16(f + 12) == 0x0806 && rd16(f + 20) == 1 && rd32(f + 38) == PEER_IP) {
		if (peer.arp_late)
			peer.arp_due = true;
		else
			inject_arp_reply_from_peer();
		return;
	}
	if (len < 34 || rd16(f + 12) != 0x0800 || rd32(ip + 16) != PEER_IP)
		return;
	iplen = rd16(ip + 2);
	if (ref_csum(ip, 20, 0) != 0 || iplen != len - 14 || memcmp(f, peer_mac, 6)) {
		peer.bad_frames++;
		return;
	}
	if (ip[9] == 1 && peer.icmp && ip[20] == 8) {
		if (ref_csum(ip + 20, iplen - 20, 0) != 0) {
			peer.bad_frames++;
			return;
		}
		fake_inject(r, build_icmp(r, PEER_IP, GUEST_IP, 0, rd16(ip + 24), rd16(ip + 26),
					  ip + 28, iplen - 28));
	}
	if (ip[9] == 17 && peer.udp) {
		const uint8_t *u = ip + 20;
		size_t n = iplen - 28;
		uint32_t seq = rd32(u + 8);
		uint8_t data[UDP_MAX_PAYLOAD];
		size_t rlen;

		if (ref_udp_csum(GUEST_IP, PEER_IP, u, iplen - 20) != 0) {
			peer.bad_frames++;
			return;
		}
		if (seq == 0xffffffff && peer.ignore_probes) {
			peer.ignore_probes--;
			return;
		}
		if (seq != 0xffffffff) {
			unsigned int consumed;

			peer.udp_seen++;
			/* Echoes the stack has taken in: injected less still waiting. */
			consumed = peer.echoes_injected - fake_rx_waiting();
			if (peer.udp_seen - consumed > peer.max_in_flight)
				peer.max_in_flight = peer.udp_seen - consumed;
		}
		if (seq != 0xffffffff && seq == peer.drop_seq)
			return;
		memcpy(data, u + 8, n);
		if (seq != 0xffffffff && seq == peer.corrupt_seq)
			data[n - 1] ^= 0x80;
		rlen = build_udp(r, PEER_IP, GUEST_IP, rd16(u + 2), rd16(u), data, n);
		fake_inject(r, rlen);
		peer.echoes_injected += seq != 0xffffffff;
		if (seq != 0xffffffff && seq == peer.dup_seq) {
			fake_inject(r, rlen);
			peer.echoes_injected++;
		}
	}
}

static void peer_late_arp(void)
{
	if (peer.arp_due) {
		peer.arp_due = false;
		inject_arp_reply_from_peer();
	}
}

static int setup_peer(void **state)
{
	setup(state);
	memset(&peer, 0, sizeof(peer));
	peer.icmp = peer.udp = true;
	peer.drop_seq = peer.corrupt_seq = peer.dup_seq = ~0u;
	fake_peer = peer_answer;
	fake_wait_hook = peer_late_arp;
	fake_real_time = true;
	return 0;
}

static int teardown_peer(void **state)
{
	if (peer.bad_frames)
		fail_msg("the peer got %u frames with bad checksums or lengths", peer.bad_frames);
	return teardown(state);
}

/* Run a command line as the shell would: words split at spaces. */
static int run(int (*cmd)(int, char **), const char *line)
{
	char copy[256], *argv[16];
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok(copy, " "); w && argc < 15; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	fake_console_len = 0;
	fake_console[0] = '\0';
	return cmd(argc, argv);
}

static void expect_output(const char *needle)
{
	if (!strstr(fake_console, needle))
		fail_msg("output lacks '%s':\n%s", needle, fake_console);
}

static void test_cmd_ip(void **state)
{
	(void)state;
	assert_int_equal(run(cmd_ip, "ip"), 0);
	assert_string_equal(fake_console, "net0: 10.0.0.2/24 mac 52:54:00:12:34:56\n");
	assert_int_equal(run(cmd_ip, "ip 10.0.0.300/24"), 2);
	assert_int_equal(run(cmd_ip, "ip 10.0.0.2"), 2);
	assert_int_equal(run(cmd_ip, "ip 10.0.0.255/24"), 1);
	expect_output("ip: 10.0.0.255/24: not a host address");
	assert_int_equal(run(cmd_ip, "ip 192.168.7.9/16"), 0);
	assert_string_equal(fake_console, "");
	assert_int_equal(run(cmd_ip, "ip"), 0);
	assert_string_equal(fake_console, "net0: 192.168.7.9/16 mac 52:54:00:12:34:56\n");
	net_reset();
	assert_int_equal(run(cmd_ip, "ip"), 0);
	assert_string_equal(fake_console, "net0: no address, mac 52:54:00:12:34:56\n");
	assert_int_equal(run(cmd_ping, "ping 10.0.0.1"), 1);
	expect_output("ping: net0 has no address (ip ADDR/PREFIX)");
	fake_present = false;
	net_reset();
	assert_int_equal(run(cmd_ip, "ip"), 1);
	assert_string_equal(fake_console, "ip: no network device\n");
}

static void test_cmd_usage(void **state)
{
	const char *lines[] = { "ping",
				"ping 10.0.0.1 count=0",
				"ping 10.0.0.1 count=x",
				"ping host",
				"ping 10.0.0.1 4",
				"udpsend 10.0.0.1 7 count=1",
				"udpsend 10.0.0.1 7 size=64",
				"udpsend 10.0.0.1 7 count=1 size=3",
				"udpsend 10.0.0.1 7 count=1 size=1473",
				"udpsend 10.0.0.1 7 count=1 size=64 window=0",
				"udpsend 10.0.0.1 0 count=1 size=64",
				"udpecho",
				"udpecho 0",
				"udpecho 65536",
				"udpecho 7 bogus=1",
				"netstat -a" };
	int (*cmds[])(int, char **) = { cmd_ping,    cmd_ping,	  cmd_ping,    cmd_ping,
					cmd_ping,    cmd_udpsend, cmd_udpsend, cmd_udpsend,
					cmd_udpsend, cmd_udpsend, cmd_udpsend, cmd_udpecho,
					cmd_udpecho, cmd_udpecho, cmd_udpecho, cmd_netstat };

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (run(cmds[i], lines[i]) != 2)
			fail_msg("'%s' is not a usage error", lines[i]);
		expect_output("usage: ");
	}
	assert_int_equal(fake_tx_count(), 0);
}

static void test_cmd_ping(void **state)
{
	(void)state;
	assert_int_equal(run(cmd_ping, "ping 10.0.0.1 count=2"), 0);
	expect_output("64 bytes from 10.0.0.1: icmp_seq=1 time=");
	expect_output("64 bytes from 10.0.0.1: icmp_seq=2 time=");
	expect_output("ping: 2 sent, 2 received, rtt min/avg/max/p50/p99 = ");
	assert_int_equal(stats().icmp.echo_requests_out, 2);
	assert_int_equal(stats().icmp.echo_replies_in, 2);
}

static void test_cmd_ping_no_reply(void **state)
{
	(void)state;
	peer.icmp = false;
	assert_int_equal(run(cmd_ping, "ping 10.0.0.1 count=1"), 1);
	expect_output("ping: no reply from 10.0.0.1 for icmp_seq=1 within 1 s");
	expect_output("ping: 1 sent, 0 received\n");
	/* Off our subnet: said at once, nothing sent. */
	fake_tx_clear();
	assert_int_equal(run(cmd_ping, "ping 10.9.0.1 count=3"), 1);
	expect_output("ping: 10.9.0.1: no route");
	assert_int_equal(fake_tx_count(), 0);
}

static void test_cmd_udpsend(void **state)
{
	(void)state;
	assert_int_equal(run(cmd_udpsend, "udpsend 10.0.0.1 7000 count=300 size=100 window=8"), 0);
	expect_output("udpsend: 300 sent, 300 echoed, 0 corrupt, 0 lost, rtt p50 ");
	expect_output(" packets/s, ");
	assert_int_equal(peer.udp_seen, 300);
	assert_int_equal(peer.max_in_flight, 8); /* the window, filled and kept */
	peer.max_in_flight = 0;
	assert_int_equal(run(cmd_udpsend, "udpsend 10.0.0.1 7000 count=50 size=1472"), 0);
	expect_output("udpsend: 50 sent, 50 echoed, 0 corrupt, 0 lost,");
	assert_int_equal(peer.max_in_flight, 1);
}

static void test_cmd_udpsend_corrupt(void **state)
{
	(void)state;
	peer.corrupt_seq = 5;
	peer.dup_seq = 9;
	assert_int_equal(run(cmd_udpsend, "udpsend 10.0.0.1 7000 count=20 size=64 window=4"), 1);
	expect_output("udpsend: 1 duplicated, 0 late");
	expect_output("udpsend: 20 sent, 19 echoed, 1 corrupt, 0 lost,");
}

static void test_cmd_udpsend_lost(void **state)
{
	(void)state;
	peer.drop_seq = 3;
	assert_int_equal(run(cmd_udpsend, "udpsend 10.0.0.1 7000 count=10 size=32 window=2"), 1);
	expect_output("udpsend: 10 sent, 9 echoed, 0 corrupt, 1 lost,");
}

/* The echo server is not up yet: probes until it answers, then the run. */
static void test_cmd_udpsend_waits_for_server(void **state)
{
	(void)state;
	peer.ignore_probes = 3;
	assert_int_equal(run(cmd_udpsend, "udpsend 10.0.0.1 7000 count=10 size=16"), 0);
	expect_output("udpsend: 10 sent, 10 echoed, 0 corrupt, 0 lost,");
	assert_int_equal(peer.ignore_probes, 0);
}

static void test_cmd_udpecho(void **state)
{
	uint8_t f[ETH_FRAME_MAX];
	size_t len;
	const uint8_t *r;

	(void)state;
	/*
	 * The datagrams are waiting; the peer never ARPed us, so we ask, and
	 * its answer comes only after the third: udpecho must not return
	 * with its echoes still parked.
	 */
	peer.arp_late = true;
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 4000, 7000, "one", 3));
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 4001, 7000, "three", 5));
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 0, 7000, "port 0", 6));
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 4002, 7000, "fourth", 6));
	fake_inject(f, build_udp(f, PEER_IP, GUEST_IP, 4003, 7000, "fifth", 5));
	peer.udp = false;
	assert_int_equal(run(cmd_udpecho, "udpecho 7000 count=3"), 0);
	expect_output("udpecho: echoing on 10.0.0.2 port 7000\n");
	expect_output("udpecho: 3 datagrams, 14 bytes echoed\n");
	/* ARP request, then the three echoes (not port 0's, not the fifth). */
	assert_int_equal(fake_tx_count(), 4);
	for (unsigned int i = 1; i < 4; i++) {
		r = fake_tx_frame(i, &len);
		assert_int_equal(rd16(r + 34), 7000);
		assert_int_equal(rd16(r + 36), 4000 + i - 1);
	}
	r = fake_tx_frame(3, &len);
	assert_memory_equal(r + 42, "fourth", 6);
	/* The port is free again. */
	assert_int_equal(udp_bind(7000, NULL, NULL), 0);
}

static void test_cmd_udpecho_secs(void **state)
{
	(void)state;
	assert_int_equal(run(cmd_udpecho, "udpecho 7000 secs=1"), 0);
	expect_output("udpecho: 0 datagrams, 0 bytes echoed\n");
	assert_int_equal(udp_bind(7000, NULL, NULL), 0);
	assert_int_equal(run(cmd_udpecho, "udpecho 7000 secs=1"), 1);
	expect_output("udpecho: port 7000: port in use");
}

static void test_cmd_netstat(void **state)
{
	(void)state;
	assert_int_equal(run(cmd_ping, "ping 10.0.0.1 count=1"), 0);
	assert_int_equal(run(cmd_netstat, "netstat"), 0);
	expect_output("net0: 10.0.0.2/24 mac 52:54:00:12:34:56\n");
	expect_output("device: tx 2 frames");
	expect_output("icmp: 1 in, 1 out; echo requests 0 in, 1 out; echo replies 1 in, 0 out;");
	expect_output(
		"arp table: 1 of 16 entries\n  10.0.0.1        02:00:00:00:00:01, confirmed ");
}

#define T(name)	     cmocka_unit_test_setup_teardown(name, setup, teardown)
#define T_PEER(name) cmocka_unit_test_setup_teardown(name, setup_peer, teardown_peer)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_checksum_ip_vector),
		T(test_checksum_rfc1071),
		T(test_checksum_udp_linux),
		T(test_checksum_random),
		T(test_arp_request_reply),
		T(test_arp_request_padded),
		T(test_arp_request_for_another),
		T(test_arp_resolves_before_send),
		T(test_arp_retries_then_gives_up),
		T(test_arp_parking),
		T(test_arp_ageing),
		T(test_arp_replacement),
		T(test_arp_replacement_spares_incomplete),
		T(test_arp_sender_rules),
		T(test_icmp_echo_reply_exact),
		T(test_icmp_echo_reply_after_arp),
		T(test_icmp_ping_matching),
		T(test_icmp_broadcast_ignored),
		T(test_udp_echo_round_trip),
		T(test_udp_queue_binding),
		T(test_udp_zero_checksum_sent_as_ffff),
		T(test_udp_no_checksum_accepted),
		T(test_udp_bind_rules),
		T(test_udp_largest),
		T(test_send_routes),
		T(test_send_device_full),
		T(test_not_configured),
		T(test_configure_rules),
		T(test_parse_format),
		T(test_malformed),
		T(test_tolerated),
		T(test_fuzz),
		T_PEER(test_cmd_ip),
		T_PEER(test_cmd_usage),
		T_PEER(test_cmd_ping),
		T_PEER(test_cmd_ping_no_reply),
		T_PEER(test_cmd_udpsend),
		T_PEER(test_cmd_udpsend_corrupt),
		T_PEER(test_cmd_udpsend_lost),
		T_PEER(test_cmd_udpsend_waits_for_server),
		T_PEER(test_cmd_udpecho),
		T_PEER(test_cmd_udpecho_secs),
		T_PEER(test_cmd_netstat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
