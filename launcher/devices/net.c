// SPDX-License-Identifier: GPL-2.0
/*
 * net.c: a network device backed by a tap interface, on any ring layout.
 *
 * Two queues, numbered alike on every layout (like the console's): the
 * receive queue (draft3's in queue, virtio's receiveq) holds empty buffers
 * the guest posted; the transmit queue (draft3's out queue, virtio's
 * transmitq) holds frames to send.  Every buffer starts with a virtio-net
 * header: the 10-byte struct virtio_net_hdr on draft3 (as the 2007 net
 * driver had it), the 12-byte struct virtio_net_hdr_v1 on split and packed.
 *
 * The tap is opened with IFF_VNET_HDR and told that header size, so the
 * kernel reads and writes the header itself: transmit is one writev() of
 * the guest's chain, straight from guest pages; receive is one readv()
 * straight into the guest's posted buffer.  Nothing is copied but the
 * 2-byte num_buffers field we must fill in on split/packed.
 *
 * Receive only happens while the guest has a buffer for it: the device
 * thread watches the tap for input only then (like the console with
 * stdin), so with no buffers posted frames wait in the tap's own queue
 * (bounded by the kernel, which drops beyond it) and we do not spin.  A
 * buffer we popped and found no frame for is held for the next frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "devices/net.h"
#include "iov.h"
#include "log.h"
#include "trace.h"

#define NET_RX 0
#define NET_TX 1
_Static_assert(NET_RX == QUEUE_D3_IN && NET_TX == QUEUE_D3_OUT, "queue numbering");

#define ETH_FRAME_MAX 1514 /* 1500 bytes of payload, 14 of header, no FCS */
#define RX_BATCH      64   /* frames per wakeup before we look at transmit again */

struct net {
	int tap;
	char ifname[IFNAMSIZ];
	unsigned int hdr_len; /* virtio-net header in front of every frame */
	struct chain rx, tx;
	bool rx_held; /* rx holds a popped buffer waiting for a frame */
	uint64_t tx_frames, rx_frames, rx_no_buffer_waits;
};

static const char *const net_queue_names[] = { "receiveq", "transmitq" };

/* Send every frame the guest queued. */
static void net_notify(struct device *dev)
{
	struct queue *tx = &dev->queue[NET_TX];
	struct net *n = dev->priv;
	int r;

	do {
		queue_disable_notify(tx);
		while ((r = queue_pop(tx, &n->tx)) > 0) {
			struct chain *c = &n->tx;
			ssize_t done;

			if (c->nwrite) {
				device_fail(dev, "transmitq: frame buffer %u has writable segments",
					    c->id);
				return;
			}
			if (c->read_len < n->hdr_len + 14 ||
			    c->read_len > n->hdr_len + ETH_FRAME_MAX) {
				device_fail(
					dev,
					"transmitq: frame of %lu bytes (with its %u-byte header) "
					"is not between %u and %u",
					(unsigned long)c->read_len, n->hdr_len, n->hdr_len + 14,
					n->hdr_len + ETH_FRAME_MAX);
				return;
			}
			/* Straight from guest pages; the kernel reads the header. */
			do
				done = writev(n->tap, c->seg, (int)c->nread);
			while (done < 0 && errno == EINTR);
			/* A frame the host cannot take now is dropped, as a NIC would. */
			if (done > 0) {
				n->tx_frames++;
				dev->stats.bytes_read += c->read_len - n->hdr_len;
			}
			trace_event(LG_TR_IO, dev->index, NET_TX,
				    done<0, c->id, 0, done> 0 ? (uint32_t)done : 0, 0);
			dev->stats.descs += c->ndesc;
			dev->stats.chains++;
			if (!queue_push(tx, c, 0)) {
				device_queue_failed(dev, tx);
				return;
			}
			device_used(dev, tx);
		}
		if (r < 0) {
			device_queue_failed(dev, tx);
			return;
		}
	} while (queue_enable_notify(tx));
}

/* Take the guest's next receive buffer, checking it can hold any frame. */
static bool take_rx_buffer(struct device *dev, struct net *n)
{
	struct queue *rx = &dev->queue[NET_RX];
	int r;

	if (n->rx_held)
		return true;
	r = queue_pop(rx, &n->rx);
	if (r < 0)
		device_queue_failed(dev, rx);
	if (r <= 0)
		return false;
	if (n->rx.nread) {
		device_fail(dev, "receiveq: buffer %u has readable segments", n->rx.id);
		return false;
	}
	/* Without merged buffers a frame must fit in one buffer (virtio 5.1.6.3.1). */
	if (n->rx.write_len < n->hdr_len + ETH_FRAME_MAX) {
		device_fail(dev, "receiveq: buffer %u of %lu bytes cannot hold a frame (%u)",
			    n->rx.id, (unsigned long)n->rx.write_len, n->hdr_len + ETH_FRAME_MAX);
		return false;
	}
	n->rx_held = true;
	return true;
}

/* The tap has frames: read them into the guest's buffers, up to a batch. */
static void net_receive(struct device *dev)
{
	struct queue *rx = &dev->queue[NET_RX];
	struct net *n = dev->priv;

	for (int i = 0; i < RX_BATCH; i++) {
		ssize_t got;

		if (!take_rx_buffer(dev, n))
			return;
		do
			got = readv(n->tap, chain_writable(&n->rx), (int)n->rx.nwrite);
		while (got < 0 && errno == EINTR);
		if (got < 0 && errno == EAGAIN)
			return; /* keep the buffer for the next frame */
		if (got < (ssize_t)n->hdr_len) {
			if (got < 0)
				warnx_lg("%s: reading %s: %s", dev->name, n->ifname,
					 strerror(errno));
			return;
		}
		if (n->hdr_len == sizeof(struct virtio_net_hdr_v1)) {
			/* The kernel wrote the 10-byte header; num_buffers is ours to set. */
			uint16_t one = 1;

			iov_from_buf(chain_writable(&n->rx), n->rx.nwrite,
				     offsetof(struct virtio_net_hdr_v1, num_buffers), &one,
				     sizeof(one), &dev->stats.header_bytes);
		}
		n->rx_held = false;
		n->rx_frames++;
		dev->stats.bytes_written += (uint64_t)got - n->hdr_len;
		dev->stats.descs += n->rx.ndesc;
		dev->stats.chains++;
		trace_event(LG_TR_IO, dev->index, NET_RX, 0, n->rx.id, 0, (uint32_t)got, 0);
		if (!queue_push(rx, &n->rx, (uint32_t)got)) {
			device_queue_failed(dev, rx);
			return;
		}
		device_used(dev, rx);
	}
}

/*
 * Watch the tap only while there is somewhere to put a frame.  With no
 * buffer, ask the guest to NOTIFY when it posts one (with EVENT_IDX it
 * would not otherwise: avail_event is only moved when asked), and look
 * once more in case one arrived while we asked.
 */
static int net_extra_fd(struct device *dev)
{
	struct queue *rx = &dev->queue[NET_RX];
	struct net *n = dev->priv;

	if (n->rx_held || queue_has_buffers(rx) || queue_enable_notify(rx))
		return n->tap;
	n->rx_no_buffer_waits++;
	return -1;
}

static void net_print_stats(struct device *dev)
{
	struct net *n = dev->priv;

	fprintf(stderr, "%-8s %s: tx frames %lu, rx frames %lu, header bytes %lu\n", dev->name,
		n->ifname, (unsigned long)n->tx_frames, (unsigned long)n->rx_frames,
		(unsigned long)dev->stats.header_bytes);
}

static const struct device_ops net_ops = {
	.notify = net_notify,
	.extra_fd = net_extra_fd,
	.extra_ready = net_receive,
	.print_stats = net_print_stats,
	.sandbox = SANDBOX_DEV_NET,
};

static int ifreq_ioctl(int sock, unsigned long req, struct ifreq *ifr, const char *what)
{
	if (ioctl(sock, req, ifr) < 0)
		die_errno("%s: %s", ifr->ifr_name, what);
	return 0;
}

/* Give the host side of the tap its address and bring it up (as lguest did). */
static void configure_host_side(const struct net_opt *o, const char *ifname)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };

	if (sock < 0)
		die_errno("socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (o->kind == NET_TUNNET_IP) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = o->ip;
		ifreq_ioctl(sock, SIOCSIFADDR, &ifr, "cannot set its address");
		sin->sin_addr.s_addr = htonl(~0U << (32 - o->prefix));
		ifreq_ioctl(sock, SIOCSIFNETMASK, &ifr, "cannot set its netmask");
	} else if (o->kind == NET_TUNNET_BRIDGE) {
		struct ifreq br = { 0 };

		ifreq_ioctl(sock, SIOCGIFINDEX, &ifr, "no interface index");
		snprintf(br.ifr_name, sizeof(br.ifr_name), "%s", o->name);
		br.ifr_ifindex = ifr.ifr_ifindex;
		if (ioctl(sock, SIOCBRADDIF, &br) < 0)
			die_errno("cannot add %s to bridge %s", ifname, o->name);
	}
	if (o->kind != NET_TAP) {
		ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr, "cannot read its flags");
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ifreq_ioctl(sock, SIOCSIFFLAGS, &ifr, "cannot bring it up");
	}
	close(sock);
}

static int open_tap(const struct net_opt *o, unsigned int hdr_len, char *ifname)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	int sz = (int)hdr_len;

	if (fd < 0)
		die_errno("cannot open /dev/net/tun");
	/* --tap opens a tap someone made; TUNSETIFF would quietly make a new one. */
	if (o->kind == NET_TAP && !if_nametoindex(o->name))
		die("--tap=%s: no such interface (create it first, e.g. ip tuntap add %s mode tap)",
		    o->name, o->name);
	if (o->kind == NET_TAP)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->name);
	else
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lgtap%%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die_errno(o->kind == NET_TAP ? "cannot open tap %s" : "cannot create a tap (%s)",
			  o->kind == NET_TAP ? o->name : "need CAP_NET_ADMIN");
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		die_errno("%s: cannot set the virtio-net header size", ifr.ifr_name);
	snprintf(ifname, IFNAMSIZ, "%s", ifr.ifr_name);
	return fd;
}

void net_add(const struct net_opt *o)
{
	static int nnet;
	struct net *n = calloc(1, sizeof(*n));
	struct device *dev;
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	char name[16];

	if (!n)
		die("out of memory");
	snprintf(name, sizeof(name), "net%d", nnet);
	mac[5] += (uint8_t)nnet++;
	if (o->has_mac)
		memcpy(mac, o->mac, sizeof(mac));
	n->hdr_len = o->ring.layout == LG_RING_DRAFT3 ? sizeof(struct virtio_net_hdr)
						      : sizeof(struct virtio_net_hdr_v1);
	n->tap = open_tap(o, n->hdr_len, n->ifname);
	configure_host_side(o, n->ifname);

	dev = device_add(name, LG_DEV_NET, &net_ops, n, &o->ring, 2, net_queue_names);
	if (dev->vcfg) {
		struct virtio_net_config *cfg = device_config_space(dev, sizeof(*cfg));

		memcpy(cfg->mac, mac, sizeof(mac));
		cfg->status = VIRTIO_NET_S_LINK_UP;
		device_offer(dev, 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS);
	} else {
		memcpy((void *)&dev->desc->config[LG_NET_CFG_MAC], mac, sizeof(mac));
	}
	verbose("%s: tap %s, guest mac %02x:%02x:%02x:%02x:%02x:%02x, %u-byte header", name,
		n->ifname, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n->hdr_len);
}
