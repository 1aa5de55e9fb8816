/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net.h: the guest's tiny IPv4 stack (guest/net/), on top of netdev.h.
 *
 * One interface, net0, with one address and prefix set by `ip`.  There is
 * no gateway and no routing table: a destination inside our prefix is
 * reached directly (ARP for its MAC, then send), anything else is
 * unreachable.  The layers, one file each:
 *
 *   iface.c     the interface: configuration, net_poll, sending a frame
 *   ethernet.c  Ethernet II framing: check a frame, hand it up by EtherType
 *   arp.c       ARP: a 16-entry table that ages, requests with retries,
 *               frames parked until their next hop answers, replies
 *   ipv4.c      IPv4: header checks, no options sent, no fragments, TTL 64
 *   icmp.c      ICMP echo: answer requests, send them, match replies (ping)
 *   udp.c       UDP: checksums, a bind table of handlers or small queues
 *   checksum.c  the Internet checksum (RFC 1071)
 *   addr.c      dotted-quad parsing and printing, error strings
 *   clock.c     the stack's clock (guest only; the unit tests supply theirs)
 *
 * Nothing runs behind anyone's back: the guest takes no interrupts, so
 * frames are received, ARP retried and entries aged only inside
 * net_poll().  A command that waits for the network calls net_poll() and
 * net_wait() in a loop; handlers run inside net_poll() and may send, but
 * must not call net_poll() themselves.
 *
 * Sends are queued (netdev_send) and pushed to the device in batches by
 * net_flush(), which net_poll() and net_wait() call; a command that sends
 * and then does something other than poll or wait calls net_flush().
 *
 * Addresses are uint32_t in host byte order (10.0.0.2 is 0x0a000002),
 * ports uint16_t in host order; the stack converts at the wire.  Every
 * received byte is untrusted: every length is checked against the frame
 * before anything is read through it.
 *
 * The stack builds on the host too (tests/unit/test_net.c): it uses only
 * netdev.h, lib.h's string functions and net_now_us().
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdev.h"

#define NET_IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define IP_HDR_LEN	20
#define UDP_HDR_LEN	8
#define ICMP_HDR_LEN	8
#define UDP_MAX_PAYLOAD (NETDEV_MTU - IP_HDR_LEN - UDP_HDR_LEN)	 /* 1472 */
#define ICMP_MAX_DATA	(NETDEV_MTU - IP_HDR_LEN - ICMP_HDR_LEN) /* 1472 */

/* Errors: every function returning int gives 0 or one of these. */
enum {
	NET_ENODEV = -1,    /* no network device, or it stopped */
	NET_ENOTCONF = -2,  /* no address yet (ip ADDR/PREFIX) */
	NET_EUNREACH = -3,  /* not on our subnet, or our own address: there is no route */
	NET_EINVAL = -4,    /* a bad argument: too long, port 0, a bad address */
	NET_EBUSY = -5,	    /* the port is bound already, or the table is full */
	NET_ETIMEDOUT = -6, /* no ARP reply, or the device stayed full */
	NET_EAGAIN = -7,    /* nothing to receive now */
};
const char *net_strerror(int err);

/* --- The interface ---------------------------------------------------- */

struct net_iface {
	struct netdev *nd; /* net0 */
	uint8_t mac[6];
	uint32_t addr; /* 0 until configured */
	unsigned int prefix;
};

/* net0 and its configuration; NULL if there is no network device. */
const struct net_iface *net_iface(void);

/*
 * Give net0 an address: addr/prefix, prefix 0..32.  The address must be
 * usable as a host's (not 0, not multicast, not the subnet's network or
 * broadcast address).  The ARP table and bindings are kept.
 */
int net_configure(uint32_t addr, unsigned int prefix);

/* Forget the address, the ARP table, every binding and every counter. */
void net_reset(void);

/*
 * Process every frame received so far (answering ARP and ICMP echo,
 * handing UDP to its handlers), run ARP's timers, then flush what that
 * sent.  Returns the number of frames processed.
 */
int net_poll(void);

/* Push frames queued for sending to the device. */
void net_flush(void);

/*
 * Flush, then sleep until a frame arrives or timeout_us passes (0: no
 * timeout), waking earlier if an ARP retry falls due; the caller then
 * calls net_poll().  Returns at once if a frame is already waiting.
 */
void net_wait(uint64_t timeout_us);

/*
 * Keep polling until no frame is parked waiting for an ARP reply (each
 * leaves, or ARP gives up on it within ARP_TRIES * ARP_RETRY_US) or
 * timeout_us passes.  For a command about to return: the machine may stop
 * right after it, taking parked frames with it.
 */
void net_drain(uint64_t timeout_us);

/* The stack's clock, in microseconds (guest: rdtsc; tests: a fake). */
uint64_t net_now_us(void);

/* --- Addresses --------------------------------------------------------- */

#define NET_IP_STR_MAX	16 /* "255.255.255.255" and its NUL */
#define NET_MAC_STR_MAX 18 /* "52:54:00:12:34:56" and its NUL */

/* A dotted quad, four decimal numbers 0..255 without leading zeros. */
bool net_parse_ip(const char *s, uint32_t *addr);
/* "a.b.c.d/prefix" */
bool net_parse_cidr(const char *s, uint32_t *addr, unsigned int *prefix);
char *net_format_ip(uint32_t addr, char buf[NET_IP_STR_MAX]);
char *net_format_mac(const uint8_t mac[6], char buf[NET_MAC_STR_MAX]);

/* --- ARP ------------------------------------------------------------------ */

#define ARP_ENTRIES	 16
#define ARP_TTL_US	 (60 * 1000000ULL) /* a resolved entry is asked again after a minute */
#define ARP_RETRY_US	 200000		   /* a request unanswered this long is repeated... */
#define ARP_TRIES	 5		   /* ...this many times in all, then given up */
#define ARP_QUEUE_FRAMES 16		   /* frames parked while their next hop is resolved */

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_RESOLVED };

struct arp_info {
	uint32_t ip;
	uint8_t mac[6];	      /* zero while incomplete */
	enum arp_state state; /* ARP_INCOMPLETE or ARP_RESOLVED */
	uint64_t age_us;      /* since it was resolved or last asked */
	unsigned int tries;   /* requests sent (incomplete entries) */
};

/* Copy out up to @max table entries in use; returns how many. */
int arp_table(struct arp_info *out, int max);

/* How many frames are parked waiting for an ARP reply. */
int arp_parked(void);

/*
 * Make sure @ip's MAC is known, asking if need be and polling until it is
 * (answering whatever else arrives meanwhile) or timeout_us passes.
 */
int arp_resolve(uint32_t ip, uint64_t timeout_us);

/* --- ICMP echo ---------------------------------------------------------- */

/* Send an echo request (type 8) with @len bytes of data. */
int icmp_echo_send(uint32_t dst, uint16_t id, uint16_t seq, const void *data, size_t len);

/* Called from net_poll() for each echo reply carrying the listened-to id. */
typedef void (*icmp_echo_handler)(void *ctx, uint32_t src, uint16_t seq, const void *data,
				  size_t len);

/* One listener at a time (ping): replies with another id are counted as unmatched. */
void icmp_echo_listen(uint16_t id, icmp_echo_handler fn, void *ctx);
void icmp_echo_unlisten(void);

/* --- UDP ------------------------------------------------------------------ */

#define UDP_BINDINGS  8
#define UDP_QUEUE_LEN 4 /* datagrams a queue binding keeps for udp_recv */

/* A received datagram, valid only during the handler call. */
struct udp_datagram {
	uint32_t src, dst;
	uint16_t sport, dport;
	const uint8_t *data;
	size_t len;
};

typedef void (*udp_handler)(void *ctx, const struct udp_datagram *d);

/*
 * Bind @port: each datagram to it is passed to @fn from net_poll(), or,
 * with @fn NULL, kept in a queue of UDP_QUEUE_LEN for udp_recv (when it is
 * full, new datagrams are dropped and counted).
 */
int udp_bind(uint16_t port, udp_handler fn, void *ctx);
void udp_unbind(uint16_t port);

/* A port from 49152..65535 that is not bound now. */
uint16_t udp_ephemeral_port(void);

/*
 * The oldest datagram queued on @port: up to @size bytes are copied into
 * @buf and its length is returned (more than @size if it was cut short);
 * NET_EAGAIN if there is none, NET_EINVAL if @port is not a queue binding.
 */
int udp_recv(uint16_t port, void *buf, size_t size, uint32_t *src, uint16_t *sport);

/* Send @len (at most UDP_MAX_PAYLOAD) bytes from sport to dst:dport, checksummed. */
int udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const void *data, size_t len);

/* --- Counters ------------------------------------------------------------- */

/* Everything counts in frames or packets.  "in" counts what arrived, before checks. */
struct net_stats {
	struct {
		uint64_t in, out;
		uint64_t truncated;    /* shorter than the 14-byte header */
		uint64_t oversize;     /* longer than ETH_FRAME_MAX */
		uint64_t not_ours;     /* destination MAC neither ours nor broadcast */
		uint64_t unknown_type; /* neither IPv4 nor ARP (IPv6, VLAN, ...) */
		uint64_t tx_dropped;   /* the device stayed full, or stopped */
	} eth;
	struct {
		uint64_t requests_in, replies_in, requests_out, replies_out;
		uint64_t malformed;   /* truncated, or not Ethernet/IPv4 ARP */
		uint64_t bad_sender;  /* multicast sender MAC, or sender IP ours/multicast */
		uint64_t not_for_us;  /* asking for, or telling, another address */
		uint64_t resolved;    /* incomplete entries that got their answer */
		uint64_t timeouts;    /* entries given up after ARP_TRIES requests */
		uint64_t expired;     /* resolved entries older than ARP_TTL_US */
		uint64_t evicted;     /* entries pushed out by a newer one (table full) */
		uint64_t queued;      /* frames parked waiting for a reply */
		uint64_t queue_drops; /* parked frames dropped: pool full, timeout, eviction */
	} arp;
	struct {
		uint64_t in, out, delivered;
		uint64_t truncated;	/* shorter than a 20-byte header */
		uint64_t bad_version;	/* not 4 */
		uint64_t bad_ihl;	/* header length under 20 or beyond the frame */
		uint64_t bad_len;	/* total length under the header's or beyond the frame */
		uint64_t bad_csum;	/* header checksum */
		uint64_t fragments;	/* MF set or a fragment offset: we do not reassemble */
		uint64_t bad_src;	/* source multicast, broadcast or ours */
		uint64_t not_ours;	/* destination neither ours nor a broadcast */
		uint64_t unknown_proto; /* neither ICMP nor UDP */
		uint64_t no_route;	/* sends to an address off our subnet */
	} ip;
	struct {
		uint64_t in, out;
		uint64_t echo_requests_in, echo_replies_out;
		uint64_t echo_requests_out, echo_replies_in;
		uint64_t truncated;	    /* shorter than the 8-byte header */
		uint64_t bad_csum;	    /* checksum */
		uint64_t unmatched;	    /* echo replies nobody listens for */
		uint64_t broadcast_ignored; /* echo requests sent to a broadcast address */
		uint64_t other_types;	    /* neither echo request nor reply */
	} icmp;
	struct {
		uint64_t in, out;
		uint64_t truncated;  /* shorter than the 8-byte header */
		uint64_t bad_len;    /* UDP length differs from the IP payload's */
		uint64_t bad_csum;   /* non-zero checksum that does not add up */
		uint64_t no_port;    /* nobody bound to the destination port */
		uint64_t queue_full; /* a queue binding had no room */
	} udp;
};

void net_get_stats(struct net_stats *st);

/*
 * --- Between the stack's own files ------------------------------------------
 *
 * Not for commands: how the layers hand packets to each other.  Received
 * packets go up as (pointer, length) into the frame net_poll() copied out
 * of the driver; sent packets are built in place in one frame buffer,
 * headers first, and go down as a frame length.
 */

#define ETH_HDR_LEN    14
#define ETH_TYPE_IPV4  0x0800
#define ETH_TYPE_ARP   0x0806
#define IP_PROTO_ICMP  1
#define IP_PROTO_UDP   17
#define IP_PAYLOAD_OFF (ETH_HDR_LEN + IP_HDR_LEN) /* where ip_tx_payload() points */
#define IP_MAX_PAYLOAD (NETDEV_MTU - IP_HDR_LEN)

extern struct net_stats net_stats;
extern struct net_iface net_if; /* nd is NULL until net_iface() finds net0 */

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* checksum.c: the ones' complement of the ones' complement sum, in host order. */
uint16_t inet_checksum(const void *buf, size_t len);
/*
 * UDP's checksum of @len bytes of datagram (header included) between src
 * and dst, over the pseudo-header.  On a received datagram whose checksum
 * field is right, the result is 0.
 */
uint16_t udp_checksum(uint32_t src, uint32_t dst, const void *udp, size_t len);

/* iface.c */
bool net_is_broadcast(uint32_t addr);	     /* 255.255.255.255 or our subnet's broadcast */
bool net_is_multicast(uint32_t addr);	     /* 224.0.0.0/4 */
bool net_on_link(uint32_t addr);	     /* inside our prefix: reachable without a gateway */
int net_xmit(const void *frame, size_t len); /* queue a whole frame on net0 */

/* ethernet.c */
void eth_input(const uint8_t *frame, size_t len);
void eth_header(uint8_t *frame, const uint8_t dst[6], uint16_t type); /* src: ours */

/* arp.c: send a frame whose header eth_header() wrote, once @next_hop's MAC is known. */
int arp_output(uint32_t next_hop, uint8_t *frame, size_t len);
void arp_input(const uint8_t *pkt, size_t len);
void arp_tick(uint64_t now_us);
uint64_t arp_next_timer_us(uint64_t now_us); /* until the next retry; UINT64_MAX: none */
void arp_reset(void);

/* ipv4.c */
void ip_input(const uint8_t *pkt, size_t len);
uint8_t *ip_tx_payload(void); /* where the next packet's payload is built */
int ip_output(uint32_t dst, uint8_t proto, size_t payload_len);
void ip_reset(void);

/* icmp.c, udp.c */
void icmp_input(uint32_t src, uint32_t dst, const uint8_t *msg, size_t len);
void icmp_reset(void);
void udp_input(uint32_t src, uint32_t dst, const uint8_t *dgram, size_t len);
void udp_reset(void);

#endif /* GUEST_NET_H */
