/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netdev.h: what the network driver (drivers/net.c) offers the IP stack.
 *
 * Frames are Ethernet II, destination MAC first, without the FCS.  The
 * driver copies a frame into one of its transmit buffers (behind the
 * virtio-net header the device needs) and hands received frames out in
 * place until netdev_recv_done().
 */
#ifndef GUEST_NETDEV_H
#define GUEST_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETDEV_MTU    1500
#define ETH_FRAME_MAX 1514 /* without FCS */

struct netdev; /* opaque */

/* Called by devices_init() for each network entry in the device table. */
void net_probe(unsigned int index);

int netdev_count(void);
struct netdev *netdev_get(int index);		  /* NULL if none */
const char *netdev_name(const struct netdev *nd); /* "net0" */
void netdev_mac(const struct netdev *nd, uint8_t mac[6]);
bool netdev_broken(const struct netdev *nd);

/*
 * Queue one frame (14..1514 bytes) for sending: the driver copies it.
 * Returns 0, or -1 if every transmit buffer is in flight (reclaim with
 * netdev_wait() and retry) or the device stopped.
 */
int netdev_send(struct netdev *nd, const void *frame, size_t len);
/* Push queued frames to the device: one NOTIFY for a batch. */
void netdev_flush(struct netdev *nd);

/* The next received frame (valid until netdev_recv_done()), or NULL. */
const void *netdev_recv(struct netdev *nd, size_t *len);
void netdev_recv_done(struct netdev *nd);

/* Sleep until the device signals or timeout_us passes (0: none); at once if a frame waits. */
void netdev_wait(struct netdev *nd, uint64_t timeout_us);

struct netdev_stats {
	uint64_t tx_frames, tx_bytes, tx_full, rx_frames, rx_bytes, rx_dropped;
};
void netdev_get_stats(const struct netdev *nd, struct netdev_stats *st);

/* Testing only: break a transmit rule (tx-oversize, tx-writable); false if unknown. */
bool netdev_misbehave(struct netdev *nd, const char *rule);

#endif /* GUEST_NETDEV_H */
