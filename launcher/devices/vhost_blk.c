// SPDX-License-Identifier: GPL-2.0
/*
 * devices/vhost_blk.c: a virtio-blk device whose queue another process
 * serves, over vhost-user (vhost/vhost.h's sequence on its vhost-user
 * transport): qemu-storage-daemon, say.
 *
 * To the guest it is a block device like --block's, on a split or packed
 * ring; what it offers is what the backend offers that we also speak, and
 * its config space (capacity ...) is the backend's.  When the guest's
 * driver sets DRIVER_OK, the launcher checks the rings as for any device
 * and hands them to the backend with guest RAM and two eventfds:
 *
 *   kick: the device's notify_fd.  KVM's ioeventfd (or the process
 *         backend's stub) writes it on NOTIFY and the backend reads it:
 *         no launcher thread in between.
 *   call: ours.  The backend writes it when it has used buffers; the
 *         device thread turns that into the guest's pending bit and wakes
 *         it, as device_signal() does for our own devices.
 *   err:  ours.  The backend writes it when the ring broke (the guest
 *         broke a rule there); the device stops as if we had found it.
 *
 * The device thread therefore never touches the rings.  If the backend
 * refuses the rings or goes away, the device stops with one line, as for
 * a misbehaving guest; the launcher and the other devices go on.
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "devices/blk.h"
#include "log.h"
#include "trace.h"
#include "vhost/vhost.h"

/* The config bytes qemu-storage-daemon answers (it returns nothing for more). */
#define CONFIG_BYTES 60

/* Features of the backend's we pass on to the guest: our driver's. */
#define BLK_FEATURES                                                    \
	(1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE | \
	 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_RO)

struct vhost_blk {
	struct vhost_dev vhost;
	int call_fd, err_fd;
	int events; /* epoll over both: the device thread watches one fd */
	uint64_t calls;
	bool started;
};

static int vhost_blk_events_fd(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	return vb->events;
}

/*
 * The backend used buffers (the guest's pending bit, as for our own
 * devices), or says the ring broke.  Both eventfds are drained whatever
 * our state, so a late one after a reset cannot make the thread spin.
 */
static void vhost_blk_events(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	uint64_t n;

	if (read(vb->err_fd, &n, sizeof(n)) == sizeof(n) && vb->started)
		device_fail(dev, "vhost-user backend %s: %s broke (the backend's log says how)",
			    vb->vhost.path, dev->queue_names[0]);
	if (read(vb->call_fd, &n, sizeof(n)) != sizeof(n))
		return;
	vb->calls += n;
	if (!vb->started || dev->broken)
		return;
	trace_event(LG_TR_SIGNAL, dev->index, LG_TR_NO_DEV, LG_TR_F_SENT, 0, 0, 0, 0);
	device_signal(dev);
}

static int vhost_blk_peer_fd(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	return vb->vhost.fd;
}

/*
 * The backend's socket is readable while no request of ours is waiting
 * for an answer (those are sent and answered under dev->lock, which we
 * hold): it went away, or it says something we never asked for (we
 * negotiate no backend-initiated messages).  Either way the device stops.
 */
static void vhost_blk_peer_ready(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	char byte;
	ssize_t n = recv(vb->vhost.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return; /* an answer the vCPU thread has taken since */
	device_fail(dev, "vhost-user backend %s %s", vb->vhost.path,
		    n == 0  ? "closed the connection"
		    : n > 0 ? "sent a message we did not ask for"
			    : strerror(errno));
	vb->started = false;
	vhost_close(&vb->vhost);
}

static bool vhost_blk_start(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	struct vhost_ring ring = {
		.index = 0,
		.layout = dev->ring.layout,
		.num = dev->qaddr[0].size,
		.desc = dev->qaddr[0].desc,
		.driver = dev->qaddr[0].driver,
		.device = dev->qaddr[0].device,
		.kick_fd = dev->notify_fd,
		.call_fd = vb->call_fd,
		.err_fd = vb->err_fd,
	};

	if (!vhost_start(&vb->vhost, dev->features, dev->mem, &ring, 1, NULL)) {
		device_fail(dev, "vhost-user backend %s: %s", vb->vhost.path, vb->vhost.why);
		return false;
	}
	vb->started = true;
	verbose("%s: the vhost-user backend at %s serves the ring", dev->name, vb->vhost.path);
	return true;
}

static void vhost_blk_stop(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	if (!vb->started)
		return;
	vb->started = false;
	if (!vhost_stop(&vb->vhost))
		warnx_lg("%s: vhost-user backend %s: %s", dev->name, vb->vhost.path, vb->vhost.why);
}

static void vhost_blk_print_stats(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	fprintf(stderr, "%-8s vhost-user %s: calls %lu (NOTIFYs go to the backend)\n", dev->name,
		vb->vhost.path, (unsigned long)vb->calls);
}

static const struct device_ops vhost_blk_ops = {
	.extra_fd = vhost_blk_events_fd,
	.extra_ready = vhost_blk_events,
	.print_stats = vhost_blk_print_stats,
	.start = vhost_blk_start,
	.stop = vhost_blk_stop,
	.peer_fd = vhost_blk_peer_fd,
	.peer_ready = vhost_blk_peer_ready,
};

static const char *const queue_names[] = { "requestq" };

static void watch(int epoll, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("epoll_ctl");
}

void vhost_blk_add(const char *socket, const struct ring_opt *ring)
{
	struct vhost_blk *vb = calloc(1, sizeof(*vb));
	uint8_t config[CONFIG_BYTES] = { 0 };
	struct virtio_blk_config *cfg;
	struct device *dev;
	uint64_t offered;
	char name[16];

	if (!vb)
		die("out of memory");
	if (!vhost_connect(&vb->vhost, &vhost_user_ops, socket))
		die("--vhost-user-blk=%s: %s", socket, vb->vhost.why);
	offered = vb->vhost.features;
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
		die("--vhost-user-blk=%s: the backend does not offer VIRTIO_F_VERSION_1", socket);
	if (ring->layout == LG_RING_PACKED && !(offered & (1ULL << VIRTIO_F_RING_PACKED)))
		die("--vhost-user-blk=%s: the backend does not offer packed rings "
		    "(VIRTIO_F_RING_PACKED): use ring=split",
		    socket);
	if (!vhost_get_config(&vb->vhost, config, sizeof(config)))
		die("--vhost-user-blk=%s: %s", socket, vb->vhost.why);
	vb->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vb->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vb->events = epoll_create1(EPOLL_CLOEXEC);
	if (vb->call_fd < 0 || vb->err_fd < 0 || vb->events < 0)
		die_errno("eventfd");
	watch(vb->events, vb->call_fd);
	watch(vb->events, vb->err_fd);

	blk_next_name(name, sizeof(name));
	dev = device_add(name, LG_DEV_BLOCK, &vhost_blk_ops, vb, ring, 1, queue_names);
	dev->external = true;
	/* Ring features: what our settings offer and the backend serves. */
	dev->vcfg->device_features &= offered;
	device_offer(dev, offered & BLK_FEATURES);
	cfg = device_config_space(dev, sizeof(*cfg));
	memcpy(cfg, config, sizeof(config) < sizeof(*cfg) ? sizeof(config) : sizeof(*cfg));
	verbose("%s: vhost-user backend %s, %llu sectors, features %#llx (offered %#llx)", name,
		socket, (unsigned long long)cfg->capacity,
		(unsigned long long)dev->vcfg->device_features, (unsigned long long)offered);
}
