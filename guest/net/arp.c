// SPDX-License-Identifier: GPL-2.0
/*
 * arp.c: the Address Resolution Protocol (RFC 826): which MAC has this IP?
 *
 * An ARP packet for Ethernet and IPv4 is 28 bytes:
 *
 *   0     2     4    5    6     8            14          18           24      28
 *   +-----+-----+----+----+-----+------------+-----------+------------+-------+
 *   |htype|ptype|hlen|plen| op  | sender MAC | sender IP | target MAC |target |
 *   |  1  |0800 | 6  | 4  |1 / 2|            |           |            |  IP   |
 *   +-----+-----+----+----+-----+------------+-----------+------------+-------+
 *
 * To send to a neighbour whose MAC we do not know, we broadcast a request
 * (op 1, target MAC zero) naming its IP, and park the frame; the neighbour
 * answers with a reply (op 2) straight to us, and the parked frames go out.
 * An unanswered request is repeated every ARP_RETRY_US, ARP_TRIES times in
 * all, after which the entry and its parked frames are dropped: the caller
 * (ping, udpsend) sees that as a lost packet, as it would on Linux.
 *
 * The table has ARP_ENTRIES entries.  A resolved entry is trusted for
 * ARP_TTL_US and then asked again, so a neighbour that changed its MAC is
 * found again within a minute.  When the table is full, a new entry takes
 * the place of the resolved one confirmed longest ago, or, if every entry
 * is still waiting for its answer, of the one that has waited longest.
 *
 * Like every ARP implementation since 826 we also learn from packets:
 * anything from a sender we have an entry for refreshes it, and a request
 * for our address creates an entry for the asker, who is about to talk to
 * us and will want our answers.
 */
#include "lib.h"
#include "net.h"

#define ARP_LEN	       28
#define ARP_HTYPE_ETH  1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	enum arp_state state;
	unsigned int tries; /* requests sent since the entry was made */
	uint64_t stamp_us;  /* resolved: when last confirmed; incomplete: last request */
};

/* A frame waiting for its next hop's MAC: the whole frame, header written. */
struct parked_frame {
	bool used;
	uint32_t next_hop;
	uint64_t order; /* frames to one hop leave in the order they came */
	size_t len;
	uint8_t frame[ETH_FRAME_MAX];
};

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_mac[6];

static struct arp_entry table[ARP_ENTRIES];
static struct parked_frame parked[ARP_QUEUE_FRAMES];
static uint64_t park_order;
static uint8_t arp_frame[ETH_HDR_LEN + ARP_LEN];

void arp_reset(void)
{
	memset(table, 0, sizeof(table));
	for (int i = 0; i < ARP_QUEUE_FRAMES; i++)
		parked[i].used = false;
	park_order = 0;
}

static struct arp_entry *lookup(uint32_t ip)
{
	for (int i = 0; i < ARP_ENTRIES; i++) {
		if (table[i].state != ARP_FREE && table[i].ip == ip)
			return &table[i];
	}
	return NULL;
}

static bool expired(const struct arp_entry *e, uint64_t now)
{
	return e->state == ARP_RESOLVED && now - e->stamp_us >= ARP_TTL_US;
}

static void drop_parked(uint32_t ip)
{
	for (int i = 0; i < ARP_QUEUE_FRAMES; i++) {
		if (parked[i].used && parked[i].next_hop == ip) {
			parked[i].used = false;
			net_stats.arp.queue_drops++;
		}
	}
}

static void free_entry(struct arp_entry *e)
{
	if (e->state == ARP_INCOMPLETE)
		drop_parked(e->ip);
	e->state = ARP_FREE;
}

/* A slot for a new entry: a free one, else the stalest (see the top). */
static struct arp_entry *alloc_entry(uint32_t ip)
{
	struct arp_entry *victim = NULL;

	for (int i = 0; i < ARP_ENTRIES && !victim; i++) {
		if (table[i].state == ARP_FREE)
			victim = &table[i];
	}
	for (int pass = 0; pass < 2 && !victim; pass++) {
		enum arp_state want = pass == 0 ? ARP_RESOLVED : ARP_INCOMPLETE;

		for (int i = 0; i < ARP_ENTRIES; i++) {
			if (table[i].state == want &&
			    (!victim || table[i].stamp_us < victim->stamp_us))
				victim = &table[i];
		}
	}
	if (victim->state != ARP_FREE) {
		net_stats.arp.evicted++;
		free_entry(victim);
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

/* One ARP packet from us: to @dst_mac (or broadcast), about @tpa. */
static int send_arp(uint16_t op, const uint8_t dst_mac[6], const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *p = arp_frame + ETH_HDR_LEN;

	eth_header(arp_frame, dst_mac, ETH_TYPE_ARP);
	put_be16(p, ARP_HTYPE_ETH);
	put_be16(p + 2, ETH_TYPE_IPV4);
	p[4] = 6;
	p[5] = 4;
	put_be16(p + 6, op);
	memcpy(p + 8, net_if.mac, 6);
	put_be32(p + 14, net_if.addr);
	memcpy(p + 18, tha, 6);
	put_be32(p + 24, tpa);
	return net_xmit(arp_frame, sizeof(arp_frame));
}

static int send_request(struct arp_entry *e, uint64_t now)
{
	e->tries++;
	e->stamp_us = now;
	net_stats.arp.requests_out++;
	return send_arp(ARP_OP_REQUEST, broadcast_mac, zero_mac, e->ip);
}

/*
 * The entry for @ip, resolved or on its way: an expired entry is asked
 * again, a missing one is made and asked for.  NULL if the device stopped.
 */
static struct arp_entry *resolving(uint32_t ip, uint64_t now)
{
	struct arp_entry *e = lookup(ip);

	if (e && expired(e, now)) {
		net_stats.arp.expired++;
		free_entry(e);
		e = NULL;
	}
	if (e)
		return e;
	e = alloc_entry(ip);
	e->state = ARP_INCOMPLETE;
	if (send_request(e, now) == NET_ENODEV) {
		free_entry(e);
		return NULL;
	}
	return e;
}

/* The parked frames for a hop that just answered, oldest first. */
static void release_parked(const struct arp_entry *e)
{
	for (;;) {
		struct parked_frame *next = NULL;

		for (int i = 0; i < ARP_QUEUE_FRAMES; i++) {
			struct parked_frame *pf = &parked[i];

			if (pf->used && pf->next_hop == e->ip && (!next || pf->order < next->order))
				next = pf;
		}
		if (!next)
			return;
		memcpy(next->frame, e->mac, 6);
		next->used = false;
		net_xmit(next->frame, next->len);
	}
}

static void park(uint32_t next_hop, const uint8_t *frame, size_t len)
{
	struct parked_frame *slot = NULL;

	for (int i = 0; i < ARP_QUEUE_FRAMES && !slot; i++) {
		if (!parked[i].used)
			slot = &parked[i];
	}
	if (!slot) {
		/* Full: the oldest frame makes room, as in Linux's unres_qlen. */
		for (int i = 0; i < ARP_QUEUE_FRAMES; i++) {
			if (!slot || parked[i].order < slot->order)
				slot = &parked[i];
		}
		net_stats.arp.queue_drops++;
	}
	slot->used = true;
	slot->next_hop = next_hop;
	slot->order = park_order++;
	slot->len = len;
	memcpy(slot->frame, frame, len);
	net_stats.arp.queued++;
}

int arp_output(uint32_t next_hop, uint8_t *frame, size_t len)
{
	struct arp_entry *e;

	if (net_is_broadcast(next_hop)) {
		memcpy(frame, broadcast_mac, 6);
		return net_xmit(frame, len);
	}
	e = resolving(next_hop, net_now_us());
	if (!e)
		return NET_ENODEV;
	if (e->state == ARP_RESOLVED) {
		memcpy(frame, e->mac, 6);
		return net_xmit(frame, len);
	}
	park(next_hop, frame, len);
	return 0;
}

/* What we learnt: @ip is at @mac, now. */
static void confirm(struct arp_entry *e, const uint8_t mac[6], uint64_t now)
{
	bool was_waiting = e->state == ARP_INCOMPLETE;

	memcpy(e->mac, mac, 6);
	e->state = ARP_RESOLVED;
	e->stamp_us = now;
	e->tries = 0;
	if (was_waiting) {
		net_stats.arp.resolved++;
		release_parked(e);
	}
}

void arp_input(const uint8_t *pkt, size_t len)
{
	const uint8_t *sha = pkt + 8;
	uint32_t spa, tpa;
	struct arp_entry *e;
	uint16_t op;

	/* Anything after the 28 bytes is Ethernet padding. */
	if (len < ARP_LEN || get_be16(pkt) != ARP_HTYPE_ETH || get_be16(pkt + 2) != ETH_TYPE_IPV4 ||
	    pkt[4] != 6 || pkt[5] != 4) {
		net_stats.arp.malformed++;
		return;
	}
	op = get_be16(pkt + 6);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
		net_stats.arp.malformed++;
		return;
	}
	if (op == ARP_OP_REQUEST)
		net_stats.arp.requests_in++;
	else
		net_stats.arp.replies_in++;
	spa = get_be32(pkt + 14);
	tpa = get_be32(pkt + 24);
	/*
	 * Nothing may be recorded as living at a multicast MAC or at a
	 * broadcast or multicast IP, and a sender claiming our own address is
	 * either a conflict or our own packet come back: believe none of it.
	 */
	if ((sha[0] & 1) || net_is_multicast(spa) || net_is_broadcast(spa) ||
	    (net_if.addr && spa == net_if.addr)) {
		net_stats.arp.bad_sender++;
		return;
	}
	if (!net_if.addr) {
		net_stats.arp.not_for_us++;
		return;
	}
	/* Sender IP 0 is a probe (RFC 5227): answer it, learn nothing. */
	e = spa ? lookup(spa) : NULL;
	if (e)
		confirm(e, sha, net_now_us());
	if (tpa != net_if.addr) {
		net_stats.arp.not_for_us++;
		return;
	}
	if (!e && spa)
		confirm(alloc_entry(spa), sha, net_now_us());
	if (op == ARP_OP_REQUEST) {
		net_stats.arp.replies_out++;
		send_arp(ARP_OP_REPLY, sha, sha, spa);
	}
}

void arp_tick(uint64_t now)
{
	for (int i = 0; i < ARP_ENTRIES; i++) {
		struct arp_entry *e = &table[i];

		if (expired(e, now)) {
			net_stats.arp.expired++;
			free_entry(e);
		} else if (e->state == ARP_INCOMPLETE && now - e->stamp_us >= ARP_RETRY_US) {
			if (e->tries >= ARP_TRIES) {
				net_stats.arp.timeouts++;
				free_entry(e);
			} else {
				send_request(e, now);
			}
		}
	}
}

uint64_t arp_next_timer_us(uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < ARP_ENTRIES; i++) {
		const struct arp_entry *e = &table[i];
		uint64_t due;

		if (e->state != ARP_INCOMPLETE)
			continue;
		due = e->stamp_us + ARP_RETRY_US;
		if (due <= now)
			return 0;
		if (due - now < next)
			next = due - now;
	}
	return next;
}

int arp_table(struct arp_info *out, int max)
{
	uint64_t now = net_now_us();
	int n = 0;

	for (int i = 0; i < ARP_ENTRIES && n < max; i++) {
		const struct arp_entry *e = &table[i];

		if (e->state == ARP_FREE)
			continue;
		out[n].ip = e->ip;
		memcpy(out[n].mac, e->mac, 6);
		out[n].state = e->state;
		out[n].age_us = now - e->stamp_us;
		out[n].tries = e->tries;
		n++;
	}
	return n;
}

int arp_parked(void)
{
	int n = 0;

	for (int i = 0; i < ARP_QUEUE_FRAMES; i++)
		n += parked[i].used;
	return n;
}

int arp_resolve(uint32_t ip, uint64_t timeout_us)
{
	uint64_t deadline = net_now_us() + timeout_us;

	if (!net_iface() || netdev_broken(net_if.nd))
		return NET_ENODEV;
	if (!net_if.addr)
		return NET_ENOTCONF;
	if (!net_on_link(ip) || ip == net_if.addr) {
		net_stats.ip.no_route++;
		return NET_EUNREACH;
	}
	if (net_is_broadcast(ip))
		return 0;
	for (;;) {
		uint64_t now = net_now_us();
		struct arp_entry *e = resolving(ip, now);

		if (!e || netdev_broken(net_if.nd))
			return NET_ENODEV;
		if (e->state == ARP_RESOLVED)
			return 0;
		if (now >= deadline)
			return NET_ETIMEDOUT;
		net_wait(deadline - now);
		net_poll();
	}
}
