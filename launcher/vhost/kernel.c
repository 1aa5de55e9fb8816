// SPDX-License-Identifier: GPL-2.0
/*
 * vhost/kernel.c: the kernel transport (see vhost.h): each step of the
 * sequence one ioctl on /dev/lguest-host, the node lguest_host.ko
 * (host-module/) makes, one open file per device.  The calls are the
 * kernel's vhost ioctls with what include/lguest_host.h adds for what
 * vhost lacks:
 *
 *   LGH_SET_DRAFT3   draft III's six pages, by page frame, instead of
 *                    SET_VRING_NUM/ADDR/BASE; ring 0 then carries the
 *                    device's one kick, call and err eventfd;
 *   LGH_SET_BACKEND  the disk image we opened (and its serial): starts
 *                    the device; fd -1 stops it;
 *   LGH_GET_ERROR    the rule the guest broke, after the err eventfd;
 *   LGH_GET_STATS    what the kernel device counted.
 *
 * Eventfds and the image go over as plain fd numbers: the module looks
 * them up in our file table.  Guest RAM needs no fd at all: the module
 * works in our address space (our mm, the owner's), so the memory table
 * is where we have guest RAM mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vhost/vhost.h"

/* One ioctl; false with "NAME: strerror" in vd->why. */
static bool ioc(struct vhost_dev *vd, unsigned long cmd, const char *name, void *arg)
{
	if (vd->fd < 0)
		return vhost_fail(vd, "%s: %s is closed", name, vd->path);
	if (ioctl(vd->fd, cmd, arg) < 0)
		return vhost_fail(vd, "%s: %s", name, strerror(errno));
	return true;
}
#define IOC(vd, cmd, arg) ioc(vd, cmd, #cmd, arg)

/*
 * Open the device node.  Its absence is the common case (the module is
 * not loaded), so the message says how to load it.
 */
static bool kernel_connect(struct vhost_dev *vd, const char *path)
{
	const char *hint = "";

	vd->fd = open(path, O_RDWR | O_CLOEXEC);
	if (vd->fd >= 0)
		return true;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		hint = " (is the " LGH_MODULE " module loaded? make -C host-module && "
		       "insmod host-module/" LGH_MODULE ".ko)";
	else if (errno == EACCES || errno == EPERM)
		hint = " (the " LGH_MODULE " module's node is root's only)";
	return vhost_fail(vd, "%s: %s%s", path, strerror(errno), hint);
}

static bool kernel_set_owner(struct vhost_dev *vd)
{
	return IOC(vd, VHOST_SET_OWNER, NULL);
}

static bool kernel_get_features(struct vhost_dev *vd, uint64_t *features)
{
	__u64 f;

	if (!IOC(vd, VHOST_GET_FEATURES, &f))
		return false;
	*features = f;
	return true;
}

static bool kernel_set_features(struct vhost_dev *vd, uint64_t acked)
{
	__u64 f = acked;

	return IOC(vd, VHOST_SET_FEATURES, &f);
}

/* All of guest RAM is one region: where we have it mapped, at mem->base. */
static bool kernel_set_mem_table(struct vhost_dev *vd, const struct guest_mem *mem)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region region;
	} table = {
		.hdr.nregions = 1,
		.region = { .guest_phys_addr = 0,
			    .memory_size = mem->size,
			    .userspace_addr = (uintptr_t)mem->base },
	};

	return IOC(vd, VHOST_SET_MEM_TABLE, &table);
}

static bool kernel_set_vring_num(struct vhost_dev *vd, unsigned int index, unsigned int num)
{
	struct vhost_vring_state s = { index, num };

	return IOC(vd, VHOST_SET_VRING_NUM, &s);
}

static bool kernel_set_vring_addr(struct vhost_dev *vd, const struct vhost_vring_addr *addr)
{
	struct vhost_vring_addr a = *addr;

	return IOC(vd, VHOST_SET_VRING_ADDR, &a);
}

static bool kernel_set_vring_base(struct vhost_dev *vd, unsigned int index, unsigned int base)
{
	struct vhost_vring_state s = { index, base };

	return IOC(vd, VHOST_SET_VRING_BASE, &s);
}

static bool kernel_get_vring_base(struct vhost_dev *vd, unsigned int index, unsigned int *base)
{
	struct vhost_vring_state s = { index, 0 };

	if (!IOC(vd, VHOST_GET_VRING_BASE, &s))
		return false;
	*base = s.num;
	return true;
}

static bool kernel_set_vring_fd(struct vhost_dev *vd, enum vhost_ring_fd which, unsigned int index,
				int fd)
{
	struct vhost_vring_file f = { index, fd };

	switch (which) {
	case VHOST_RING_KICK:
		return IOC(vd, VHOST_SET_VRING_KICK, &f);
	case VHOST_RING_CALL:
		return IOC(vd, VHOST_SET_VRING_CALL, &f);
	default:
		return IOC(vd, VHOST_SET_VRING_ERR, &f);
	}
}

static bool kernel_set_draft3(struct vhost_dev *vd, uint64_t key)
{
	struct lgh_draft3 d3 = { .key = key };

	return IOC(vd, LGH_SET_DRAFT3, &d3);
}

static bool kernel_set_backend(struct vhost_dev *vd, const struct vhost_file *file)
{
	struct lgh_backend b = { .fd = -1 };

	if (file) {
		b.fd = file->fd;
		b.flags = file->read_only ? LGH_BACKEND_RO : 0;
		memcpy(b.serial, file->serial, sizeof(b.serial));
	}
	return IOC(vd, LGH_SET_BACKEND, &b);
}

static bool kernel_get_error(struct vhost_dev *vd, char *msg, size_t size)
{
	struct lgh_error e;

	if (!IOC(vd, LGH_GET_ERROR, &e))
		return false;
	e.msg[sizeof(e.msg) - 1] = '\0'; /* the module's string, but ours to print */
	if (!e.msg[0])
		return vhost_fail(vd, "LGH_GET_ERROR: the module names no broken rule");
	snprintf(msg, size, "%s", e.msg);
	return true;
}

static bool kernel_get_stats(struct vhost_dev *vd, struct lgh_stats *stats)
{
	return IOC(vd, LGH_GET_STATS, stats);
}

const struct vhost_ops vhost_kernel_ops = {
	.name = "kernel",
	.connect = kernel_connect,
	.set_owner = kernel_set_owner,
	.get_features = kernel_get_features,
	.set_features = kernel_set_features,
	.set_mem_table = kernel_set_mem_table,
	.set_vring_num = kernel_set_vring_num,
	.set_vring_addr = kernel_set_vring_addr,
	.set_vring_base = kernel_set_vring_base,
	.get_vring_base = kernel_get_vring_base,
	.set_vring_fd = kernel_set_vring_fd,
	.set_draft3 = kernel_set_draft3,
	.set_backend = kernel_set_backend,
	.get_error = kernel_get_error,
	.get_stats = kernel_get_stats,
	/* The module resumes from the driver's side only (ring/queue.h's queue_resume()). */
	.packed_base_has_used = false,
};
