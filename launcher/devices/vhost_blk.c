// SPDX-License-Identifier: GPL-2.0
/*
 * devices/vhost_blk.c: a virtio-blk device whose queue someone else
 * serves, through the vhost sequence (vhost/vhost.h) over one of its two
 * transports:
 *
 *   --vhost-user-blk=SOCKET   another process (qemu-storage-daemon, say),
 *                             over vhost-user.  What the device offers is
 *                             what the backend offers that we also speak,
 *                             and its config space (capacity ...) is the
 *                             backend's; split or packed rings only.
 *   --block=IMG,device=kernel the host kernel: lguest_host.ko, through
 *                             /dev/lguest-host.  To the guest it is the
 *                             same device as --block's (blk.c describes the
 *                             image we open, on any of the three layouts);
 *                             the kernel serves it from that image.
 *
 * When the guest's driver sets DRIVER_OK (draft III: at setup, as our own
 * draft-III devices work from the start), the launcher checks the rings
 * as for any device and hands them over with guest RAM and three
 * eventfds:
 *
 *   kick: the device's notify_fd.  KVM's ioeventfd (or the process
 *         backend's stub) writes it on NOTIFY and the server takes it
 *         from there: no launcher thread in between.
 *   call: ours.  The server writes it when it has used buffers; the
 *         device thread turns that into the guest's pending bit and wakes
 *         it, as device_signal() does for our own devices.
 *   err:  ours.  The server writes it when the ring broke (the guest
 *         broke a rule there); the device stops as if we had found it,
 *         with the kernel's own words for the rule where it can say them.
 *
 * The device thread therefore never touches the rings.  If the server
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
	char who[128];	      /* who serves it, for messages: "vhost-user backend SOCKET" */
	struct blk_image img; /* the kernel's image; vhost-user: fd -1 */
	int call_fd, err_fd;
	int events; /* epoll over both: the device thread watches one fd */
	uint64_t calls;
	struct lgh_stats kstats; /* the kernel's counters, at exit */
	bool started;
};

static int vhost_blk_events_fd(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	return vb->events;
}

static void vhost_blk_stop(struct device *dev);

/* The server says the ring broke: in its words if it can give them. */
static void vhost_blk_broke(struct device *dev, struct vhost_blk *vb)
{
	char msg[sizeof(((struct lgh_error *)0)->msg)];

	if (vhost_get_error(&vb->vhost, msg, sizeof(msg)))
		device_fail(dev, "%s", msg);
	else
		device_fail(dev, "%s: %s broke (%s)", vb->who, dev->queue_names[0],
			    vb->vhost.ops->get_error ? vb->vhost.why
						     : "the backend's log says how");
	/*
	 * A server we handed the image to is ours to stop: the kernel's
	 * worker serves the ring no more, but keeps the image and our memory
	 * until told, as our own device would not.  (A vhost-user backend
	 * stops its ring itself and waits for the frontend.)
	 */
	if (vb->img.fd >= 0)
		vhost_blk_stop(dev);
}

/*
 * The server used buffers (the guest's pending bit, as for our own
 * devices), or says the ring broke.  Both eventfds are drained whatever
 * our state, so a late one after a reset cannot make the thread spin.
 */
static void vhost_blk_events(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	uint64_t n;

	if (read(vb->err_fd, &n, sizeof(n)) == sizeof(n) && vb->started)
		vhost_blk_broke(dev, vb);
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

/* Hand the ring over; false with the reason in vb->vhost.why. */
static bool vhost_blk_hand_over(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	struct vhost_ring ring = {
		.index = 0,
		.layout = dev->ring.layout,
		.num = dev->qaddr[0].size,
		.desc = dev->qaddr[0].desc,
		.driver = dev->qaddr[0].driver,
		.device = dev->qaddr[0].device,
		.key = dev->key,
		.kick_fd = dev->notify_fd,
		.call_fd = vb->call_fd,
		.err_fd = vb->err_fd,
	};
	struct vhost_file file = { vb->img.fd, vb->img.read_only, vb->img.serial };

	if (!vhost_start(&vb->vhost, dev->features, dev->mem, &ring, 1,
			 vb->img.fd >= 0 ? &file : NULL))
		return false;
	vb->started = true;
	if (vb->img.fd >= 0)
		verbose("%s: the kernel (%s) serves the ring", dev->name, LGH_MODULE);
	else
		verbose("%s: the vhost-user backend at %s serves the ring", dev->name,
			vb->vhost.path);
	return true;
}

static bool vhost_blk_start(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	if (vhost_blk_hand_over(dev))
		return true;
	device_fail(dev, "%s: %s", vb->who, vb->vhost.why);
	return false;
}

static void vhost_blk_stop(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;

	if (!vb->started)
		return;
	vb->started = false;
	if (!vhost_stop(&vb->vhost))
		warnx_lg("%s: %s: %s", dev->name, vb->who, vb->vhost.why);
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
	.sandbox = SANDBOX_DEV_VHOST_USER,
};

/*
 * The kernel's counters become the device's own, so --stats, -v and
 * --stats-json show them in the same columns as for a device the launcher
 * serves: its kicks are the NOTIFYs (it sees those of either path), less
 * our own device_kick()s (after DRIVER_OK, which it saw too); its chains,
 * descriptors, bytes and signals are what it served and sent.  What only
 * the launcher sees (NOTIFYs by exit, wakeups) stays ours.
 */
static void kernel_blk_sync_stats(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	struct lgh_stats *k = &vb->kstats;
	struct device_stats *s = &dev->stats;

	/*
	 * devices_stop() leaves a failed device alone; one the launcher failed
	 * itself (the guest set FAILED, say) still has the kernel's worker:
	 * withdraw the image now, so the kernel lets go of our memory before
	 * we read its final counts.
	 */
	vhost_blk_stop(dev);
	if (!vhost_get_stats(&vb->vhost, k)) {
		warnx_lg("%s: %s: %s", dev->name, vb->who, vb->vhost.why);
		return;
	}
	s->notifies = k->kicks > dev->self_kicks ? k->kicks - dev->self_kicks : 0;
	s->chains = k->requests;
	s->descs = k->descs;
	s->bytes_read = k->write_bytes; /* from guest pages to the image */
	s->bytes_written = k->read_bytes;
	s->bounce_bytes = k->bounce_bytes;
	s->signals = k->signals;
	s->signals_suppressed = k->suppressed;
}

static void kernel_blk_print_stats(struct device *dev)
{
	struct vhost_blk *vb = dev->priv;
	const struct lgh_stats *k = &vb->kstats;

	fprintf(stderr,
		"%-8s kernel: requests %lu, kicks %lu, signals %lu, suppressed %lu, "
		"flushes (vfs_fsync) %lu, calls %lu\n",
		dev->name, (unsigned long)k->requests, (unsigned long)k->kicks,
		(unsigned long)k->signals, (unsigned long)k->suppressed, (unsigned long)k->flushes,
		(unsigned long)vb->calls);
}

static const struct device_ops kernel_blk_ops = {
	.extra_fd = vhost_blk_events_fd,
	.extra_ready = vhost_blk_events,
	.print_stats = kernel_blk_print_stats,
	.sync_stats = kernel_blk_sync_stats,
	.start = vhost_blk_start,
	.stop = vhost_blk_stop,
	.sandbox = SANDBOX_DEV_KERNEL,
};

static const char *const queue_names[] = { "requestq" };

static void watch(int epoll, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("epoll_ctl");
}

/* A device's state, with its call and err eventfds and the epoll over them. */
static struct vhost_blk *vhost_blk_new(void)
{
	struct vhost_blk *vb = calloc(1, sizeof(*vb));

	if (!vb)
		die("out of memory");
	vb->img.fd = -1;
	vb->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vb->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vb->events = epoll_create1(EPOLL_CLOEXEC);
	if (vb->call_fd < 0 || vb->err_fd < 0 || vb->events < 0)
		die_errno("eventfd");
	watch(vb->events, vb->call_fd);
	watch(vb->events, vb->err_fd);
	return vb;
}

void vhost_blk_add(const char *socket, const struct ring_opt *ring)
{
	uint8_t config[CONFIG_BYTES] = { 0 };
	struct virtio_blk_config *cfg;
	struct vhost_blk *vb;
	struct device *dev;
	uint64_t offered;
	char name[16];

	vb = vhost_blk_new();
	if (!vhost_connect(&vb->vhost, &vhost_user_ops, socket))
		die("--vhost-user-blk=%s: %s", socket, vb->vhost.why);
	snprintf(vb->who, sizeof(vb->who), "vhost-user backend %s", socket);
	offered = vb->vhost.features;
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
		die("--vhost-user-blk=%s: the backend does not offer VIRTIO_F_VERSION_1", socket);
	if (ring->layout == LG_RING_PACKED && !(offered & (1ULL << VIRTIO_F_RING_PACKED)))
		die("--vhost-user-blk=%s: the backend does not offer packed rings "
		    "(VIRTIO_F_RING_PACKED): use ring=split",
		    socket);
	if (!vhost_get_config(&vb->vhost, config, sizeof(config)))
		die("--vhost-user-blk=%s: %s", socket, vb->vhost.why);

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

void kernel_blk_add(const char *path, bool read_only, const struct ring_opt *ring, const char *what)
{
	struct vhost_blk *vb = vhost_blk_new();
	struct device *dev;
	uint64_t missing;
	char name[16];

	blk_next_name(name, sizeof(name));
	blk_image_open(&vb->img, path, read_only, name);
	if (!vhost_connect(&vb->vhost, &vhost_kernel_ops, LGH_DEVICE))
		die("%s: %s", what, vb->vhost.why);
	snprintf(vb->who, sizeof(vb->who), "%s", LGH_MODULE);

	dev = device_add(name, LG_DEV_BLOCK, &kernel_blk_ops, vb, ring, 1, queue_names);
	dev->external = true;
	blk_configure(dev, &vb->img);
	/* The guest is offered what --block offers, or the device is refused now. */
	missing = dev->vcfg ? dev->vcfg->device_features & ~vb->vhost.features : 0;
	if (missing)
		die("%s: the %s module does not serve feature bits %#llx, which this device "
		    "offers",
		    what, LGH_MODULE, (unsigned long long)missing);
	/* Draft III has no DRIVER_OK: its pages are ours and served from the start. */
	if (ring->layout == LG_RING_DRAFT3 && !vhost_blk_hand_over(dev))
		die("%s: %s: %s", what, LGH_MODULE, vb->vhost.why);
	verbose("%s: %s, %lu sectors%s, served in the kernel (%s, module features %#llx)", name,
		path, (unsigned long)vb->img.capacity, read_only ? ", read-only" : "", LGH_DEVICE,
		(unsigned long long)vb->vhost.features);
}
