// SPDX-License-Identifier: GPL-2.0
/*
 * vhost/vhost.c: the one vhost sequence (see vhost.h), whichever
 * transport carries it:
 *
 *   connect:  the transport's own greeting, SET_OWNER, GET_FEATURES
 *   start:    SET_FEATURES, SET_MEM_TABLE, then per ring either
 *             SET_VRING_NUM, _ADDR, _BASE (a virtio 1.x ring) or the six
 *             draft-III pages, then _ERR, _KICK, _CALL and, where the
 *             transport has them, _ENABLE; last the backend file, which
 *             starts a device that takes one
 *   stop:     the backend file withdrawn (it stops), then GET_VRING_BASE
 *
 * This is the order vhost-user.rst prescribes and the kernel's vhost
 * accepts.  Ring addresses go over as addresses in our address space (the
 * server translates them through the memory table, as vhost does),
 * checked against guest RAM first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "lguest_abi.h"
#include "vhost/vhost.h"

bool vhost_fail(struct vhost_dev *vd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vd->why, sizeof(vd->why), fmt, ap);
	va_end(ap);
	return false;
}

bool vhost_connect(struct vhost_dev *vd, const struct vhost_ops *ops, const char *path)
{
	*vd = (struct vhost_dev){ .ops = ops, .path = path, .fd = -1 };
	return ops->connect(vd, path) && ops->set_owner(vd) && ops->get_features(vd, &vd->features);
}

/* Our address of guest-physical @gpa, @len bytes of it inside guest RAM. */
static bool user_addr(struct vhost_dev *vd, const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		      const char *what, __u64 *addr)
{
	void *p = guest_ptr(mem, gpa, len);

	if (!p)
		return vhost_fail(vd, "ring %s at %#llx (%llu bytes) is outside guest RAM", what,
				  (unsigned long long)gpa, (unsigned long long)len);
	*addr = (uint64_t)(uintptr_t)p;
	return true;
}

/* A virtio 1.x ring: its size, where its three parts are, where it starts. */
static bool start_modern(struct vhost_dev *vd, const struct guest_mem *mem,
			 const struct vhost_ring *r)
{
	struct vhost_vring_addr a = { .index = r->index };
	bool packed = r->layout == LG_RING_PACKED;
	uint64_t desc_len = 16ULL * r->num;
	uint64_t drv_len = packed ? 4 : 6 + 2ULL * r->num;
	uint64_t dev_len = packed ? 4 : 6 + 8ULL * r->num;
	unsigned int base = 0;

	if (!user_addr(vd, mem, r->desc, desc_len, "descriptors", &a.desc_user_addr) ||
	    !user_addr(vd, mem, r->driver, drv_len, "driver area", &a.avail_user_addr) ||
	    !user_addr(vd, mem, r->device, dev_len, "device area", &a.used_user_addr))
		return false;
	/*
	 * A packed ring starts at slot 0 with wrap counter 1 (bit 15), for
	 * the driver's side and, where the transport carries it (bits
	 * 16-31, as QEMU sends it), the device's.
	 */
	if (packed)
		base = vd->ops->packed_base_has_used ? 0x80008000u : 0x8000u;
	return vd->ops->set_vring_num(vd, r->index, r->num) && vd->ops->set_vring_addr(vd, &a) &&
	       vd->ops->set_vring_base(vd, r->index, base);
}

static bool start_ring(struct vhost_dev *vd, const struct guest_mem *mem,
		       const struct vhost_ring *r)
{
	const struct vhost_ops *ops = vd->ops;

	if (r->layout == LG_RING_DRAFT3) {
		if (!ops->set_draft3)
			return vhost_fail(vd, "%s cannot serve draft III queues", ops->name);
		if (!ops->set_draft3(vd, r->key))
			return false;
	} else if (!start_modern(vd, mem, r)) {
		return false;
	}
	return (r->err_fd < 0 || ops->set_vring_fd(vd, VHOST_RING_ERR, r->index, r->err_fd)) &&
	       ops->set_vring_fd(vd, VHOST_RING_KICK, r->index, r->kick_fd) &&
	       ops->set_vring_fd(vd, VHOST_RING_CALL, r->index, r->call_fd) &&
	       (!ops->set_vring_enable || ops->set_vring_enable(vd, r->index, true));
}

bool vhost_start(struct vhost_dev *vd, uint64_t acked, const struct guest_mem *mem,
		 const struct vhost_ring *rings, unsigned int nrings, const struct vhost_file *file)
{
	if (file && !vd->ops->set_backend)
		return vhost_fail(vd, "a %s device takes no backend file", vd->ops->name);
	if (!vd->ops->set_features(vd, acked) || !vd->ops->set_mem_table(vd, mem))
		return false;
	for (unsigned int i = 0; i < nrings; i++)
		if (!start_ring(vd, mem, &rings[i]))
			return false;
	vd->nrings = nrings;
	vd->draft3 = nrings && rings[0].layout == LG_RING_DRAFT3;
	return !file || vd->ops->set_backend(vd, file);
}

bool vhost_stop(struct vhost_dev *vd)
{
	unsigned int base;

	if (vd->ops->set_backend && !vd->ops->set_backend(vd, NULL))
		return false;
	/* Draft III has no base: its positions live in the guest's pages. */
	for (unsigned int i = 0; !vd->draft3 && i < vd->nrings; i++)
		if (!vd->ops->get_vring_base(vd, i, &base))
			return false;
	return true;
}

bool vhost_get_config(struct vhost_dev *vd, void *buf, uint32_t size)
{
	if (!vd->ops->get_config)
		return vhost_fail(vd, "a %s device has no config space to read", vd->ops->name);
	return vd->ops->get_config(vd, buf, size);
}

bool vhost_get_error(struct vhost_dev *vd, char *msg, size_t size)
{
	return vd->ops->get_error && vd->ops->get_error(vd, msg, size);
}

bool vhost_get_stats(struct vhost_dev *vd, struct lgh_stats *stats)
{
	if (!vd->ops->get_stats)
		return vhost_fail(vd, "a %s device keeps no counters we can read", vd->ops->name);
	return vd->ops->get_stats(vd, stats);
}

void vhost_close(struct vhost_dev *vd)
{
	if (vd->fd >= 0)
		close(vd->fd);
	vd->fd = -1;
}
