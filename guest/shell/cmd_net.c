// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_net.c: the network commands: ip, ping, udpecho, udpsend, netstat.
 *
 * They all follow one pattern, because the guest takes no interrupts:
 * send, then loop { net_poll(); check what arrived; wait }, where the wait
 * is net_wait() with a timeout computed from an rdtsc deadline, so the
 * vCPU sleeps in the launcher until a frame comes or the deadline passes,
 * instead of spinning.  net_poll() answers ARP and ICMP echo on the way,
 * so every command also keeps the guest reachable while it runs.
 *
 * Round-trip times are rdtsc at send to rdtsc when net_poll() hands us the
 * reply: they include the NOTIFY, the launcher's tap write, the peer's
 * stack, the tap read, the signal and our wakeup.
 */
#include "hcall.h"
#include "kernel.h"
#include "net.h"
#include "shell.h"

#define NS_PER_SEC ((uint64_t)1000000000)
#define NS_PER_MS  ((uint64_t)1000000)

#define PING_DATA	 56 /* like Linux's ping: 64 bytes of ICMP */
#define PING_MAX_COUNT	 65535
#define PING_INTERVAL_NS NS_PER_SEC
#define PING_TIMEOUT_NS	 NS_PER_SEC

#define UDPSEND_TIMEOUT_NS  NS_PER_SEC /* an echo later than this is lost */
#define UDPSEND_MAX_COUNT   (16u << 20)
#define UDPSEND_MAX_WINDOW  1024
#define UDPSEND_MAX_SAMPLES (1u << 20)
#define SERVER_WAIT_NS	    (10 * NS_PER_SEC) /* for the echo server to answer a probe */
#define PROBE_INTERVAL_NS   (100 * NS_PER_MS)
#define PROBE_SEQ	    0xffffffffu /* a probe's sequence number: never a real one */

#define ARP_WAIT_US 3000000 /* udpsend: for the server's MAC */
#define DRAIN_US    2000000 /* for frames parked on ARP, before a command returns */
#define US_STR_MAX  24

/* "123.4": a time in ns as microseconds with one decimal. */
static char *us_str(char buf[US_STR_MAX], uint64_t ns)
{
	ksnprintf(buf, US_STR_MAX, "%lu.%lu", ns / 1000, ns % 1000 / 100);
	return buf;
}

/* Sleep until a frame arrives or the TSC reaches @until; the caller polls. */
static void wait_until(uint64_t until)
{
	uint64_t now = rdtsc(), us;

	if (now >= until)
		return;
	us = tsc_to_ns(until - now) / 1000;
	net_wait(us ? us : 1); /* 0 would mean "no timeout" */
}

/* Keep the network going (ARP, ICMP, handlers) until the TSC reaches @until. */
static void poll_until(uint64_t until)
{
	net_poll();
	while (rdtsc() < until) {
		wait_until(until);
		net_poll();
	}
}

/* net0 with an address and running; NULL after a message if not. */
static const struct net_iface *ready_iface(const char *cmd)
{
	const struct net_iface *ifc = net_iface();

	if (!ifc) {
		printk("%s: no network device\n", cmd);
		return NULL;
	}
	if (netdev_broken(ifc->nd)) {
		printk("%s: %s stopped\n", cmd, netdev_name(ifc->nd));
		return NULL;
	}
	if (!ifc->addr) {
		printk("%s: %s has no address (ip ADDR/PREFIX)\n", cmd, netdev_name(ifc->nd));
		return NULL;
	}
	return ifc;
}

/* "name=N" with N in [min, max]; false if @arg is not "name=...". */
static bool parse_opt(const char *arg, const char *name, uint64_t min, uint64_t max, uint64_t *out,
		      bool *bad)
{
	size_t n = strlen(name);
	uint64_t v;

	if (strncmp(arg, name, n) || arg[n] != '=')
		return false;
	if (!parse_u64(arg + n + 1, &v) || v < min || v > max)
		*bad = true;
	else
		*out = v;
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* --- ip ----------------------------------------------------------------- */

int cmd_ip(int argc, char **argv)
{
	const struct net_iface *ifc;
	char ip[NET_IP_STR_MAX], mac[NET_MAC_STR_MAX];
	unsigned int prefix;
	uint32_t addr;
	int err;

	if (argc > 2 || (argc == 2 && !net_parse_cidr(argv[1], &addr, &prefix))) {
		printk("usage: ip [ADDR/PREFIX]   (e.g. ip 10.0.0.2/24)\n");
		return 2;
	}
	ifc = net_iface();
	if (!ifc) {
		printk("ip: no network device\n");
		return 1;
	}
	if (argc == 2) {
		err = net_configure(addr, prefix);
		if (err) {
			printk("ip: %s: %s\n", argv[1],
			       err == NET_EINVAL ? "not a host address" : net_strerror(err));
			return 1;
		}
		return 0;
	}
	net_format_mac(ifc->mac, mac);
	if (ifc->addr)
		printk("%s: %s/%u mac %s%s\n", netdev_name(ifc->nd), net_format_ip(ifc->addr, ip),
		       ifc->prefix, mac, netdev_broken(ifc->nd) ? " (stopped)" : "");
	else
		printk("%s: no address, mac %s%s\n", netdev_name(ifc->nd), mac,
		       netdev_broken(ifc->nd) ? " (stopped)" : "");
	return 0;
}

/* --- ping --------------------------------------------------------------- */

struct ping {
	uint32_t dst;
	uint16_t id;
	uint16_t seq; /* the request we are waiting for */
	uint8_t data[PING_DATA];
	bool replied, corrupt;
	uint64_t reply_tsc;
	uint64_t strays, dups;
};

/* Each request's data differs, so a reply carrying another's shows. */
static void ping_fill(uint8_t *data, uint16_t seq)
{
	for (int i = 0; i < PING_DATA; i++)
		data[i] = (uint8_t)(seq * 31 + i);
}

static void ping_reply(void *ctx, uint32_t src, uint16_t seq, const void *data, size_t len)
{
	struct ping *p = ctx;

	/* A reply to an earlier request that timed out, or from elsewhere. */
	if (src != p->dst || seq != p->seq) {
		p->strays++;
		return;
	}
	if (p->replied) {
		p->dups++;
		return;
	}
	p->reply_tsc = rdtsc();
	p->replied = true;
	p->corrupt = len != PING_DATA || memcmp(data, p->data, PING_DATA);
}

static void ping_summary(uint64_t sent, uint64_t *rtt, uint64_t n)
{
	char a[US_STR_MAX], b[US_STR_MAX], c[US_STR_MAX], d[US_STR_MAX], e[US_STR_MAX];
	uint64_t sum = 0;

	if (!n) {
		printk("ping: %lu sent, 0 received\n", sent);
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		sum += rtt[i];
	sort_u64(rtt, n);
	printk("ping: %lu sent, %lu received, rtt min/avg/max/p50/p99 = %s/%s/%s/%s/%s us\n", sent,
	       n, us_str(a, rtt[0]), us_str(b, sum / n), us_str(c, rtt[n - 1]),
	       us_str(d, rtt[n / 2]), us_str(e, rtt[n * 99 / 100]));
}

int cmd_ping(int argc, char **argv)
{
	static struct ping p;
	char host[NET_IP_STR_MAX], t[US_STR_MAX];
	uint64_t count = 4, sent = 0, received = 0, start, *rtt;
	size_t pages;
	bool bad = false;

	memset(&p, 0, sizeof(p));
	for (int i = 2; i < argc; i++) {
		if (!parse_opt(argv[i], "count", 1, PING_MAX_COUNT, &count, &bad))
			bad = true;
	}
	if (argc < 2 || bad || !net_parse_ip(argv[1], &p.dst)) {
		printk("usage: ping HOST [count=N]   (N: 1..%d, default 4)\n", PING_MAX_COUNT);
		return 2;
	}
	if (!ready_iface("ping"))
		return 1;
	net_format_ip(p.dst, host);
	pages = DIV_ROUND_UP(count * sizeof(uint64_t), PAGE_SIZE);
	rtt = alloc_pages(pages);
	if (!rtt) {
		printk("ping: not enough memory\n");
		return 1;
	}
	/* Like Linux's process id: tells our replies from an earlier ping's. */
	p.id = (uint16_t)(rdtsc() >> 8);
	icmp_echo_listen(p.id, ping_reply, &p);
	start = rdtsc();
	for (uint64_t i = 0; i < count; i++) {
		uint16_t seq = (uint16_t)(i + 1);
		uint64_t sent_tsc, deadline;
		int err;

		/* One request a second; in between, keep answering. */
		poll_until(start + i * ns_to_tsc(PING_INTERVAL_NS));
		p.seq = seq;
		p.replied = false;
		ping_fill(p.data, seq);
		sent_tsc = rdtsc();
		err = icmp_echo_send(p.dst, p.id, seq, p.data, PING_DATA);
		if (err) {
			printk("ping: %s: %s\n", host, net_strerror(err));
			if (err != NET_ETIMEDOUT)
				break; /* it will not get better */
			continue;
		}
		net_flush();
		sent++;
		deadline = sent_tsc + ns_to_tsc(PING_TIMEOUT_NS);
		while (!p.replied && rdtsc() < deadline) {
			wait_until(deadline);
			net_poll();
		}
		if (!p.replied) {
			printk("ping: no reply from %s for icmp_seq=%u within 1 s\n", host, seq);
		} else if (p.corrupt) {
			printk("ping: the reply from %s for icmp_seq=%u has the wrong data\n", host,
			       seq);
		} else {
			rtt[received] = tsc_to_ns(p.reply_tsc - sent_tsc);
			printk("%d bytes from %s: icmp_seq=%u time=%s us\n",
			       ICMP_HDR_LEN + PING_DATA, host, seq, us_str(t, rtt[received]));
			received++;
		}
	}
	icmp_echo_unlisten();
	if (p.dups)
		printk("ping: %lu duplicate replies\n", p.dups);
	ping_summary(sent, rtt, received);
	free_pages(rtt, pages);
	return received == count ? 0 : 1;
}

/* --- udpecho ------------------------------------------------------------ */

struct udpecho {
	uint64_t limit; /* 0: no limit */
	uint64_t datagrams, bytes;
	uint64_t failed;
	int last_err;
};

/* Called from net_poll(): send the datagram back where it came from. */
static void udpecho_datagram(void *ctx, const struct udp_datagram *d)
{
	struct udpecho *u = ctx;
	int err;

	if (u->limit && u->datagrams >= u->limit)
		return;
	if (!d->sport)
		return; /* port 0: the sender wants no answer */
	err = udp_send(d->src, d->dport, d->sport, d->data, d->len);
	if (err) {
		u->failed++;
		u->last_err = err;
		return;
	}
	u->datagrams++;
	u->bytes += d->len;
}

int cmd_udpecho(int argc, char **argv)
{
	struct udpecho u = { 0 };
	const struct net_iface *ifc;
	char ip[NET_IP_STR_MAX];
	uint64_t secs = 0, deadline = 0;
	uint16_t port = 0;
	bool bad = argc < 2 || !parse_port(argv[1], &port);
	int err, status = 0;

	for (int i = 2; i < argc; i++) {
		if (!parse_opt(argv[i], "secs", 0, 1000000, &secs, &bad) &&
		    !parse_opt(argv[i], "count", 0, UINT64_MAX, &u.limit, &bad))
			bad = true;
	}
	if (bad) {
		printk("usage: udpecho PORT [secs=N] [count=N]   (0 or none: no limit)\n");
		return 2;
	}
	ifc = ready_iface("udpecho");
	if (!ifc)
		return 1;
	err = udp_bind(port, udpecho_datagram, &u);
	if (err) {
		printk("udpecho: port %u: %s\n", port, net_strerror(err));
		return 1;
	}
	printk("udpecho: echoing on %s port %u\n", net_format_ip(ifc->addr, ip), port);
	if (secs)
		deadline = rdtsc() + ns_to_tsc(secs * NS_PER_SEC);
	for (;;) {
		net_poll();
		if (u.limit && u.datagrams >= u.limit)
			break;
		if (deadline && rdtsc() >= deadline)
			break;
		if (netdev_broken(ifc->nd)) {
			printk("udpecho: %s stopped\n", netdev_name(ifc->nd));
			status = 1;
			break;
		}
		if (deadline)
			wait_until(deadline);
		else
			net_wait(0);
	}
	/* The last echo may wait for the sender's MAC: let it go first. */
	net_drain(DRAIN_US);
	udp_unbind(port);
	if (u.failed)
		printk("udpecho: %lu datagrams not echoed: %s\n", u.failed,
		       net_strerror(u.last_err));
	printk("udpecho: %lu datagrams, %lu bytes echoed\n", u.datagrams, u.bytes);
	return status;
}

/* --- udpsend ------------------------------------------------------------ */

/*
 * Datagram number seq carries seq (32 bits, big-endian) and then a byte
 * stream from a linear congruential generator seeded by seq: every
 * datagram's bytes differ, so a byte changed, moved, or taken from another
 * datagram shows.
 */
static uint8_t pattern_next(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return (uint8_t)(*x >> 24);
}

static void pattern_fill(uint8_t *p, size_t size, uint32_t seq)
{
	uint32_t x = seq * 2654435761u;

	put_be32(p, seq);
	for (size_t i = 4; i < size; i++)
		p[i] = pattern_next(&x);
}

static bool pattern_ok(const uint8_t *p, size_t size, uint32_t seq)
{
	uint32_t x = seq * 2654435761u;

	for (size_t i = 4; i < size; i++) {
		if (p[i] != pattern_next(&x))
			return false;
	}
	return true;
}

/*
 * What is in flight.  Datagrams go out in sequence order, so the ones
 * still outstanding are all in [oldest, next), and the window (at most
 * W of them) maps datagram seq to slot seq % W without collisions.
 */
struct udpsend {
	uint32_t dst;
	uint16_t sport, dport;
	uint64_t count, size, window;
	uint64_t next;	 /* the next datagram to send */
	uint64_t oldest; /* no datagram before this one is outstanding */
	struct {
		uint64_t seq, sent_tsc;
		bool busy;
	} slot[UDPSEND_MAX_WINDOW];
	uint8_t *seen; /* bitmap: an echo of seq came, good or not */
	uint64_t *rtt, nrtt;
	uint64_t echoed, corrupt, lost, dups, late, strays, probes;
	uint64_t last_echo_tsc;
	uint8_t buf[UDP_MAX_PAYLOAD];
};

static void udpsend_echo(void *ctx, const struct udp_datagram *d)
{
	struct udpsend *u = ctx;
	uint64_t now = rdtsc(), seq;
	unsigned int s;

	if (d->src != u->dst || d->sport != u->dport) {
		u->strays++;
		return;
	}
	if (d->len < 4) {
		u->corrupt++;
		return;
	}
	seq = get_be32(d->data);
	if (seq == PROBE_SEQ) {
		u->probes++; /* a probe's echo: harmless whenever it comes */
		return;
	}
	if (seq >= u->next) {
		u->corrupt++; /* never sent: the number itself was damaged */
		return;
	}
	if (u->seen[seq / 8] & (1u << (seq % 8))) {
		u->dups++;
		return;
	}
	u->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	s = (unsigned int)(seq % u->window);
	if (!u->slot[s].busy || u->slot[s].seq != seq) {
		u->late++; /* counted as lost already */
		return;
	}
	u->slot[s].busy = false;
	if (d->len != u->size || !pattern_ok(d->data, d->len, (uint32_t)seq)) {
		u->corrupt++;
		return;
	}
	u->echoed++;
	u->last_echo_tsc = now;
	if (u->nrtt < UDPSEND_MAX_SAMPLES)
		u->rtt[u->nrtt++] = now - u->slot[s].sent_tsc;
}

/*
 * The echo server may not be listening yet (a test may start it as we
 * boot): send a probe every PROBE_INTERVAL_NS until one comes back.
 */
static int udpsend_wait_server(struct udpsend *u)
{
	uint64_t give_up = rdtsc() + ns_to_tsc(SERVER_WAIT_NS);

	while (!u->probes) {
		uint64_t now = rdtsc(), next = now + ns_to_tsc(PROBE_INTERVAL_NS);
		int err;

		if (now >= give_up)
			return NET_ETIMEDOUT;
		pattern_fill(u->buf, u->size, PROBE_SEQ);
		err = udp_send(u->dst, u->sport, u->dport, u->buf, u->size);
		if (err && err != NET_ETIMEDOUT)
			return err;
		while (!u->probes && rdtsc() < next) {
			wait_until(next);
			net_poll();
		}
	}
	return 0;
}

/* Send and collect until every datagram is echoed or given up. */
static int udpsend_run(struct udpsend *u)
{
	uint64_t timeout = ns_to_tsc(UDPSEND_TIMEOUT_NS);

	for (;;) {
		uint64_t now = rdtsc();

		/* Move past answered datagrams; give up on timed-out ones. */
		while (u->oldest < u->next) {
			unsigned int s = (unsigned int)(u->oldest % u->window);

			if (u->slot[s].busy) {
				if (now - u->slot[s].sent_tsc < timeout)
					break;
				u->slot[s].busy = false;
				u->lost++;
			}
			u->oldest++;
		}
		/* Fill the window. */
		while (u->next < u->count && u->next < u->oldest + u->window) {
			unsigned int s = (unsigned int)(u->next % u->window);
			int err;

			pattern_fill(u->buf, u->size, (uint32_t)u->next);
			u->slot[s].seq = u->next;
			u->slot[s].sent_tsc = rdtsc();
			u->slot[s].busy = true;
			err = udp_send(u->dst, u->sport, u->dport, u->buf, u->size);
			if (err) {
				u->slot[s].busy = false;
				return err;
			}
			u->next++;
		}
		if (u->oldest == u->count)
			return 0;
		/* Sleep until an echo comes or the oldest datagram times out. */
		wait_until(u->slot[u->oldest % u->window].sent_tsc + timeout);
		net_poll();
	}
}

int cmd_udpsend(int argc, char **argv)
{
	static struct udpsend u;
	char host[NET_IP_STR_MAX], p50[US_STR_MAX], p99[US_STR_MAX];
	size_t seen_pages = 0, rtt_pages = 0;
	uint64_t start, elapsed, bytes;
	bool bad = argc < 3;
	int err, status = 1;

	memset(&u, 0, sizeof(u));
	u.window = 1;
	for (int i = 3; i < argc; i++) {
		if (!parse_opt(argv[i], "count", 1, UDPSEND_MAX_COUNT, &u.count, &bad) &&
		    !parse_opt(argv[i], "size", 4, UDP_MAX_PAYLOAD, &u.size, &bad) &&
		    !parse_opt(argv[i], "window", 1, UDPSEND_MAX_WINDOW, &u.window, &bad))
			bad = true;
	}
	if (bad || !u.count || !u.size || !net_parse_ip(argv[1], &u.dst) ||
	    !parse_port(argv[2], &u.dport)) {
		printk("usage: udpsend HOST PORT count=N size=S [window=W]   (S: 4..%d, W: 1..%d)\n",
		       UDP_MAX_PAYLOAD, UDPSEND_MAX_WINDOW);
		return 2;
	}
	if (!ready_iface("udpsend"))
		return 1;
	net_format_ip(u.dst, host);
	seen_pages = DIV_ROUND_UP(DIV_ROUND_UP(u.count, 8), PAGE_SIZE);
	rtt_pages = DIV_ROUND_UP((u.count < UDPSEND_MAX_SAMPLES ? u.count : UDPSEND_MAX_SAMPLES) *
					 sizeof(uint64_t),
				 PAGE_SIZE);
	u.seen = alloc_pages(seen_pages);
	u.rtt = alloc_pages(rtt_pages);
	if (!u.seen || !u.rtt) {
		printk("udpsend: not enough memory (try --mem)\n");
		goto out;
	}
	u.sport = udp_ephemeral_port();
	err = udp_bind(u.sport, udpsend_echo, &u);
	if (err) {
		printk("udpsend: port %u: %s\n", u.sport, net_strerror(err));
		goto out;
	}
	err = arp_resolve(u.dst, ARP_WAIT_US);
	if (err) {
		printk("udpsend: %s: %s\n", host,
		       err == NET_ETIMEDOUT ? "no ARP reply" : net_strerror(err));
		goto unbind;
	}
	err = udpsend_wait_server(&u);
	if (err) {
		printk("udpsend: %s port %u: %s\n", host, u.dport,
		       err == NET_ETIMEDOUT ? "no echo server answers" : net_strerror(err));
		goto unbind;
	}

	start = rdtsc();
	err = udpsend_run(&u);
	if (err)
		printk("udpsend: send: %s\n", net_strerror(err));
	elapsed = tsc_to_ns((u.echoed ? u.last_echo_tsc : rdtsc()) - start);
	if (!elapsed)
		elapsed = 1;
	bytes = u.echoed * u.size;
	if (u.dups || u.late)
		printk("udpsend: %lu duplicated, %lu late (after their timeout)\n", u.dups, u.late);
	sort_u64(u.rtt, u.nrtt);
	us_str(p50, u.nrtt ? tsc_to_ns(u.rtt[u.nrtt / 2]) : 0);
	us_str(p99, u.nrtt ? tsc_to_ns(u.rtt[u.nrtt * 99 / 100]) : 0);
	printk("udpsend: %lu sent, %lu echoed, %lu corrupt, %lu lost, rtt p50 %s us p99 %s us, "
	       "%lu packets/s, %lu.%lu MB/s\n",
	       u.next, u.echoed, u.corrupt, u.lost, p50, p99, u.echoed * NS_PER_SEC / elapsed,
	       bytes * 1000 / elapsed, bytes * 10000 / elapsed % 10);
	status = !err && u.echoed == u.count && u.corrupt == 0 ? 0 : 1;
unbind:
	udp_unbind(u.sport);
out:
	free_pages(u.rtt, rtt_pages);
	free_pages(u.seen, seen_pages);
	return status;
}

/* --- netstat ------------------------------------------------------------ */

static void print_arp_table(void)
{
	struct arp_info t[ARP_ENTRIES];
	char ip[NET_IP_STR_MAX], mac[NET_MAC_STR_MAX];
	int n = arp_table(t, ARP_ENTRIES);

	printk("arp table: %d of %d entries\n", n, ARP_ENTRIES);
	for (int i = 0; i < n; i++) {
		net_format_ip(t[i].ip, ip);
		if (t[i].state == ARP_RESOLVED)
			printk("  %-15s %s, confirmed %lu.%03lu s ago\n", ip,
			       net_format_mac(t[i].mac, mac), t[i].age_us / 1000000,
			       t[i].age_us / 1000 % 1000);
		else
			printk("  %-15s incomplete, %u requests sent\n", ip, t[i].tries);
	}
}

int cmd_netstat(int argc, char **argv)
{
	const struct net_iface *ifc = net_iface();
	char ip[NET_IP_STR_MAX], mac[NET_MAC_STR_MAX];
	struct netdev_stats ds;
	struct net_stats s;

	(void)argv;
	if (argc != 1) {
		printk("usage: netstat\n");
		return 2;
	}
	if (!ifc) {
		printk("netstat: no network device\n");
		return 1;
	}
	netdev_get_stats(ifc->nd, &ds);
	net_get_stats(&s);
	net_format_mac(ifc->mac, mac);
	if (ifc->addr)
		printk("%s: %s/%u mac %s%s\n", netdev_name(ifc->nd), net_format_ip(ifc->addr, ip),
		       ifc->prefix, mac, netdev_broken(ifc->nd) ? " (stopped)" : "");
	else
		printk("%s: no address, mac %s%s\n", netdev_name(ifc->nd), mac,
		       netdev_broken(ifc->nd) ? " (stopped)" : "");
	printk("device: tx %lu frames %lu bytes, %lu found the ring full; "
	       "rx %lu frames %lu bytes, %lu dropped\n",
	       ds.tx_frames, ds.tx_bytes, ds.tx_full, ds.rx_frames, ds.rx_bytes, ds.rx_dropped);
	printk("eth:  %lu in, %lu out; dropped: %lu truncated, %lu oversize, %lu not ours, "
	       "%lu unknown type, %lu tx\n",
	       s.eth.in, s.eth.out, s.eth.truncated, s.eth.oversize, s.eth.not_ours,
	       s.eth.unknown_type, s.eth.tx_dropped);
	printk("arp:  requests %lu in, %lu out; replies %lu in, %lu out; dropped: %lu malformed, "
	       "%lu bad sender, %lu not for us\n",
	       s.arp.requests_in, s.arp.requests_out, s.arp.replies_in, s.arp.replies_out,
	       s.arp.malformed, s.arp.bad_sender, s.arp.not_for_us);
	printk("      %lu resolved, %lu timed out, %lu expired, %lu evicted; "
	       "%lu frames queued, %lu dropped\n",
	       s.arp.resolved, s.arp.timeouts, s.arp.expired, s.arp.evicted, s.arp.queued,
	       s.arp.queue_drops);
	printk("ip:   %lu in, %lu out, %lu delivered, %lu no route; dropped: %lu truncated, "
	       "%lu bad version, %lu bad header length, %lu bad length, %lu bad checksum,\n",
	       s.ip.in, s.ip.out, s.ip.delivered, s.ip.no_route, s.ip.truncated, s.ip.bad_version,
	       s.ip.bad_ihl, s.ip.bad_len, s.ip.bad_csum);
	printk("      %lu fragments, %lu bad source, %lu not ours, %lu unknown protocol\n",
	       s.ip.fragments, s.ip.bad_src, s.ip.not_ours, s.ip.unknown_proto);
	printk("icmp: %lu in, %lu out; echo requests %lu in, %lu out; echo replies %lu in, "
	       "%lu out;\n",
	       s.icmp.in, s.icmp.out, s.icmp.echo_requests_in, s.icmp.echo_requests_out,
	       s.icmp.echo_replies_in, s.icmp.echo_replies_out);
	printk("      dropped: %lu truncated, %lu bad checksum, %lu unmatched replies, "
	       "%lu to broadcast, %lu other types\n",
	       s.icmp.truncated, s.icmp.bad_csum, s.icmp.unmatched, s.icmp.broadcast_ignored,
	       s.icmp.other_types);
	printk("udp:  %lu in, %lu out; dropped: %lu truncated, %lu bad length, %lu bad checksum, "
	       "%lu no port, %lu queue full\n",
	       s.udp.in, s.udp.out, s.udp.truncated, s.udp.bad_len, s.udp.bad_csum, s.udp.no_port,
	       s.udp.queue_full);
	print_arp_table();
	return 0;
}
