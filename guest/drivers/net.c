// SPDX-License-Identifier: GPL-2.0
/*
 * net.c: the network driver, on any ring layout (netdev.h is its API).
 *
 * Queue 0 receives (draft3's in queue, virtio's receiveq), queue 1
 * transmits.  Every buffer starts with the virtio-net header the device
 * expects: 10 bytes on draft3 (struct virtio_net_hdr), 12 on split and
 * packed (struct virtio_net_hdr_v1).  We ask for no offloads, so on
 * transmit the header is all zeroes and on receive we skip it.
 *
 * Receive buffers are posted once at probe and reposted as soon as the
 * stack is done with a frame, so the device always has somewhere to put
 * the next one.  Transmit buffers come from a small pool; a buffer is free
 * again once the device has used it.
 */
#include <linux/virtio_net.h>

#include "devices.h"
#include "hcall.h"
#include "netdev.h"

#define MAX_NET	 4
#define NRX	 64
#define NTX	 64
#define BUF_SIZE 2048 /* header + 1514, rounded up: two per page */
#define RX	 0
#define TX	 1

struct netdev {
	struct lg_device dev;
	char name[8];
	uint8_t mac[6];
	unsigned int hdr_len;
	uint8_t *rx_buf[NRX], *tx_buf[NTX];
	bool tx_busy[NTX];
	unsigned int tx_next;
	uint8_t *cur; /* the received buffer the stack holds */
	bool need_kick;
	struct netdev_stats stats;
};

static struct netdev nets[MAX_NET];
static int nnet;

static bool post_rx(struct netdev *nd, uint8_t *buf)
{
	struct lg_sg sg = { virt_to_phys(buf), BUF_SIZE };

	if (vq_add(&nd->dev.vq[RX], &sg, 0, 1, buf) < 0)
		return false;
	nd->need_kick = true;
	return true;
}

static uint8_t *alloc_bufs(uint8_t **bufs, unsigned int n)
{
	uint8_t *pages = alloc_pages(DIV_ROUND_UP(n * BUF_SIZE, PAGE_SIZE));

	for (unsigned int i = 0; pages && i < n; i++)
		bufs[i] = pages + i * BUF_SIZE;
	return pages;
}

void net_probe(unsigned int index)
{
	struct netdev *nd;

	if (nnet == MAX_NET)
		return;
	nd = &nets[nnet];
	if (!lg_device_init(&nd->dev, index, 2, 1ULL << VIRTIO_NET_F_MAC)) {
		printk("net: device %u is not usable\n", index);
		return;
	}
	if (nd->dev.layout == LG_RING_DRAFT3) {
		volatile uint8_t *cfg =
			(volatile uint8_t *)&device_desc(index)->config[LG_NET_CFG_MAC];

		nd->hdr_len = sizeof(struct virtio_net_hdr);
		for (int i = 0; i < 6; i++)
			nd->mac[i] = cfg[i];
	} else {
		volatile struct virtio_net_config *cfg = lg_device_config(&nd->dev);

		nd->hdr_len = sizeof(struct virtio_net_hdr_v1);
		for (int i = 0; i < 6; i++)
			nd->mac[i] = cfg->mac[i];
	}
	if (!alloc_bufs(nd->rx_buf, NRX) || !alloc_bufs(nd->tx_buf, NTX)) {
		printk("net: out of memory\n");
		return;
	}
	for (unsigned int i = 0; i < NRX; i++) {
		if (!post_rx(nd, nd->rx_buf[i]))
			break; /* a small queue: post what fits */
	}
	ksnprintf(nd->name, sizeof(nd->name), "net%d", nnet);
	nnet++;
	netdev_flush(nd);
}

int netdev_count(void)
{
	return nnet;
}

struct netdev *netdev_get(int index)
{
	return index >= 0 && index < nnet ? &nets[index] : NULL;
}

const char *netdev_name(const struct netdev *nd)
{
	return nd->name;
}

void netdev_mac(const struct netdev *nd, uint8_t mac[6])
{
	memcpy(mac, nd->mac, 6);
}

bool netdev_broken(const struct netdev *nd)
{
	return lg_device_broken(&nd->dev);
}

/* Transmit buffers the device has finished with are free again. */
static void reclaim_tx(struct netdev *nd)
{
	uint8_t *buf;
	uint32_t len;

	while ((buf = vq_get_used(&nd->dev.vq[TX], &len)))
		nd->tx_busy[(unsigned int)(buf - nd->tx_buf[0]) / BUF_SIZE] = false;
}

int netdev_send(struct netdev *nd, const void *frame, size_t len)
{
	unsigned int i = nd->tx_next;
	struct lg_sg sg;

	if (len < 14 || len > ETH_FRAME_MAX || netdev_broken(nd))
		return -1;
	if (nd->tx_busy[i])
		reclaim_tx(nd);
	if (nd->tx_busy[i]) {
		nd->stats.tx_full++;
		return -1;
	}
	memset(nd->tx_buf[i], 0, nd->hdr_len);
	memcpy(nd->tx_buf[i] + nd->hdr_len, frame, len);
	sg = (struct lg_sg){ virt_to_phys(nd->tx_buf[i]), (uint32_t)(nd->hdr_len + len) };
	if (vq_add(&nd->dev.vq[TX], &sg, 1, 0, nd->tx_buf[i]) < 0) {
		nd->stats.tx_full++;
		return -1;
	}
	nd->tx_busy[i] = true;
	nd->tx_next = (i + 1) % NTX;
	nd->need_kick = true;
	nd->stats.tx_frames++;
	nd->stats.tx_bytes += len;
	return 0;
}

void netdev_flush(struct netdev *nd)
{
	if (nd->need_kick) {
		nd->need_kick = false;
		lg_device_kick(&nd->dev);
	}
}

const void *netdev_recv(struct netdev *nd, size_t *len)
{
	uint32_t used;

	if (nd->cur)
		netdev_recv_done(nd);
	for (;;) {
		uint8_t *buf = vq_get_used(&nd->dev.vq[RX], &used);

		if (!buf)
			return NULL;
		/* The device's length is untrusted: it must hold a header and a frame. */
		if (used < nd->hdr_len + 14 || used > BUF_SIZE) {
			nd->stats.rx_dropped++;
			post_rx(nd, buf);
			continue;
		}
		nd->cur = buf;
		nd->stats.rx_frames++;
		nd->stats.rx_bytes += used - nd->hdr_len;
		*len = used - nd->hdr_len;
		return buf + nd->hdr_len;
	}
}

void netdev_recv_done(struct netdev *nd)
{
	if (!nd->cur)
		return;
	post_rx(nd, nd->cur);
	nd->cur = NULL;
	netdev_flush(nd);
}

void netdev_wait(struct netdev *nd, uint64_t timeout_us)
{
	netdev_flush(nd);
	reclaim_tx(nd);
	if (netdev_broken(nd) || vq_has_used(&nd->dev.vq[RX]))
		return;
	/*
	 * Ask for a signal on the next frame, or on a transmit buffer coming
	 * back (a sender may be waiting for one); if either slipped in
	 * meanwhile, do not sleep.
	 */
	if (vq_enable_cb(&nd->dev.vq[RX]) && vq_enable_cb(&nd->dev.vq[TX]))
		wait_for_signal(timeout_us);
}

void netdev_get_stats(const struct netdev *nd, struct netdev_stats *st)
{
	*st = nd->stats;
}

/*
 * Testing only (`netmisbehave`): put a frame on the transmit queue that no
 * driver should, so the end-to-end tests can check the launcher stops the
 * device with a clear message.  The driver's bookkeeping is off afterwards,
 * but so is the device.
 */
bool netdev_misbehave(struct netdev *nd, const char *rule)
{
	static uint8_t big[4096] __attribute__((aligned(16)));
	struct lg_sg sg = { virt_to_phys(big), 0 };
	int id;

	if (!strcmp(rule, "tx-oversize")) {
		sg.len = nd->hdr_len + 3000; /* twice a full frame */
		id = vq_add(&nd->dev.vq[TX], &sg, 1, 0, big);
	} else if (!strcmp(rule, "tx-writable") && nd->dev.layout != LG_RING_DRAFT3) {
		/* (A draft3 out queue has no writable descriptors to give.) */
		sg.len = nd->hdr_len + 60;
		id = vq_add(&nd->dev.vq[TX], &sg, 0, 1, big);
	} else {
		return false;
	}
	if (id < 0)
		return false;
	nd->need_kick = true;
	netdev_flush(nd);
	return true;
}
