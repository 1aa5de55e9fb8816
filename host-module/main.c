// SPDX-License-Identifier: GPL-2.0
/*
 * main.c: /dev/lguest-host, a block device whose rings the kernel serves.
 *
 * The launcher opens the node once per device and describes it with the
 * vhost ioctls (include/lguest_host.h says what each one means here).
 * Then LGH_SET_BACKEND hands over the disk image and starts a worker
 * thread (worker.c) that waits on the kick eventfd, pops chains from guest
 * RAM through the launcher's mm, reads and writes the image straight into
 * guest pages (blk.c), and signals the call eventfd.  The launcher keeps
 * everything else: the device table, config space, feature negotiation,
 * and what to do when the guest breaks a rule.
 *
 * Everything the launcher passes is checked here, and everything the guest
 * controls is checked by the ring code on every use: the guest can stop
 * its own device, and nothing more.  Closing the file (the launcher exiting,
 * or being killed) stops the worker and frees everything.
 */
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "lgh.h"

/* What the kernel device can serve: the launcher offers the guest no more. */
#define LGH_FEATURES                                                             \
	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_PACKED |             \
	 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC | \
	 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |          \
	 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_RO)

static int lgh_open(struct inode *inode, struct file *f)
{
	struct lgh_dev *d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);

	if (!d)
		return -ENOMEM;
	mutex_init(&d->lock);
	d->layout = LG_RING_SPLIT;
	d->mem.regions = d->regions;
	d->mem.fault = &d->fault;
	d->mem.fd = -1;
	f->private_data = d;
	return 0;
}

static void put_eventfd(struct eventfd_ctx **ctx)
{
	if (*ctx)
		eventfd_ctx_put(*ctx);
	*ctx = NULL;
}

static int lgh_release(struct inode *inode, struct file *f)
{
	struct lgh_dev *d = f->private_data;

	lgh_stop(d);
	if (d->kick)
		fput(d->kick);
	put_eventfd(&d->call);
	put_eventfd(&d->err);
	if (d->mm)
		mmdrop(d->mm);
	kfree(d);
	return 0;
}

/* An eventfd's context from @fd, or NULL for -1; an error for anything else. */
static struct eventfd_ctx *get_eventfd(int fd)
{
	if (fd == -1)
		return NULL;
	return eventfd_ctx_fdget(fd);
}

static long set_vring_fd(struct lgh_dev *d, unsigned int cmd, void __user *argp)
{
	struct vhost_vring_file vf;
	struct eventfd_ctx *ctx;
	struct file *kick = NULL;

	if (copy_from_user(&vf, argp, sizeof(vf)))
		return -EFAULT;
	if (vf.index != 0)
		return -ENOBUFS;
	if (cmd == VHOST_SET_VRING_KICK) {
		if (vf.fd != -1) {
			kick = eventfd_fget(vf.fd);
			if (IS_ERR(kick))
				return PTR_ERR(kick);
		}
		if (d->kick)
			fput(d->kick);
		d->kick = kick;
		return 0;
	}
	ctx = get_eventfd(vf.fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	if (cmd == VHOST_SET_VRING_CALL) {
		put_eventfd(&d->call);
		d->call = ctx;
	} else {
		put_eventfd(&d->err);
		d->err = ctx;
	}
	return 0;
}

/*
 * The guest-physical address the launcher's user address @uaddr stands
 * for: vhost rings are given as the owner's addresses, the ring code
 * wants guest-physical ones.  Only whole rings inside one region count,
 * and the ring code checks them again against the same table.
 */
static bool uaddr_to_gpa(const struct lgh_dev *d, u64 uaddr, u64 *gpa)
{
	unsigned int i;

	for (i = 0; i < d->mem.nregions; i++) {
		const struct guest_mem_region *r = &d->regions[i];
		u64 start = (u64)(uintptr_t)r->host;

		if (uaddr >= start && uaddr - start < r->size) {
			*gpa = r->gpa + (uaddr - start);
			return true;
		}
	}
	return false;
}

static long set_vring(struct lgh_dev *d, unsigned int cmd, void __user *argp)
{
	struct vhost_vring_state s;
	struct vhost_vring_addr a;

	if (cmd == VHOST_SET_VRING_ADDR) {
		if (copy_from_user(&a, argp, sizeof(a)))
			return -EFAULT;
		if (a.index != 0)
			return -ENOBUFS;
		if (a.flags) /* no VHOST_VRING_F_LOG: we keep no dirty log */
			return -EOPNOTSUPP;
		if (!uaddr_to_gpa(d, a.desc_user_addr, &d->vr.desc) ||
		    !uaddr_to_gpa(d, a.avail_user_addr, &d->vr.driver) ||
		    !uaddr_to_gpa(d, a.used_user_addr, &d->vr.device))
			return -EFAULT;
		d->vr.addr_set = true;
		return 0;
	}
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.index != 0)
		return -ENOBUFS;
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		/* Split allows up to 32768 entries, packed the same. */
		if (!s.num || s.num > SPLIT_MAX_SIZE)
			return -EINVAL;
		d->vr.num = s.num;
		return 0;
	case VHOST_SET_VRING_BASE:
		d->vr.base = s.num;
		return 0;
	case VHOST_GET_VRING_BASE:
		s.num = d->vr.base;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

static long set_backend(struct lgh_dev *d, void __user *argp)
{
	struct lgh_backend b;
	struct file *f;
	umode_t mode;
	loff_t size;
	int ret;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if (b.fd == -1) {
		lgh_stop(d);
		return 0;
	}
	if (b.flags & ~LGH_BACKEND_RO || memchr_inv(b.reserved, 0, sizeof(b.reserved)))
		return -EINVAL;
	if (d->backend)
		return -EBUSY;
	f = fget(b.fd);
	if (!f)
		return -EBADF;
	mode = file_inode(f)->i_mode;
	size = S_ISBLK(mode) ? i_size_read(f->f_mapping->host) : i_size_read(file_inode(f));
	ret = -EINVAL;
	if (!S_ISREG(mode) && !S_ISBLK(mode))
		goto out;
	ret = -EBADF;
	if (!(f->f_mode & FMODE_READ) ||
	    (!(b.flags & LGH_BACKEND_RO) && !(f->f_mode & FMODE_WRITE)))
		goto out;
	ret = -EINVAL;
	if (!f->f_op->read_iter || !f->f_op->write_iter || size < LG_SECTOR_SIZE)
		goto out;
	d->backend = f;
	d->read_only = b.flags & LGH_BACKEND_RO;
	d->capacity = size / LG_SECTOR_SIZE;
	memcpy(d->serial, b.serial, sizeof(d->serial));
	ret = lgh_start(d);
	if (!ret)
		return 0;
	d->backend = NULL;
out:
	fput(f);
	return ret;
}

/* The calls that would change the device under a running worker. */
static bool changes_device(unsigned int cmd)
{
	switch (cmd) {
	case VHOST_SET_FEATURES:
	case VHOST_SET_MEM_TABLE:
	case LGH_SET_DRAFT3:
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE: /* the base is known once stopped */
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		return true;
	}
	return false;
}

static long lgh_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct lgh_dev *d = f->private_data;
	void __user *argp = (void __user *)arg;
	u64 features;
	long ret;

	mutex_lock(&d->lock);
	if (cmd == VHOST_SET_OWNER) {
		ret = -EBUSY;
		if (!d->mm) {
			d->mm = current->mm;
			mmgrab(d->mm);
			ret = 0;
		}
		goto out;
	}
	/* As vhost: only the owner may describe the device. */
	ret = -EPERM;
	if (!d->mm || d->mm != current->mm)
		goto out;
	ret = -EBUSY;
	if (d->worker && changes_device(cmd))
		goto out;
	switch (cmd) {
	case VHOST_GET_FEATURES:
		features = LGH_FEATURES;
		ret = copy_to_user(argp, &features, sizeof(features)) ? -EFAULT : 0;
		break;
	case VHOST_SET_FEATURES:
		ret = -EFAULT;
		if (copy_from_user(&features, argp, sizeof(features)))
			break;
		ret = -EOPNOTSUPP;
		if (features & ~LGH_FEATURES)
			break;
		d->features = features;
		if (d->layout != LG_RING_DRAFT3)
			d->layout = features & 1ULL << VIRTIO_F_RING_PACKED ? LG_RING_PACKED
									    : LG_RING_SPLIT;
		ret = 0;
		break;
	case VHOST_SET_MEM_TABLE:
		ret = lgh_set_mem_table(d, argp);
		break;
	case LGH_SET_DRAFT3: {
		struct lgh_draft3 k;

		ret = -EFAULT;
		if (copy_from_user(&k, argp, sizeof(k)))
			break;
		d->d3_key = k.key;
		d->d3_set = true;
		d->layout = LG_RING_DRAFT3;
		ret = 0;
		break;
	}
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
		ret = set_vring(d, cmd, argp);
		break;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		ret = set_vring_fd(d, cmd, argp);
		break;
	case LGH_SET_BACKEND:
		ret = set_backend(d, argp);
		break;
	case LGH_GET_STATS: {
		struct lgh_stats s;

		s = d->stats; /* a snapshot: each counter is one word the worker stores */
		ret = copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
		break;
	}
	case LGH_GET_ERROR: {
		struct lgh_error e = {};

		if (smp_load_acquire(&d->broken))
			strscpy(e.msg, d->error, sizeof(e.msg));
		ret = copy_to_user(argp, &e, sizeof(e)) ? -EFAULT : 0;
		break;
	}
	default:
		ret = -ENOTTY;
	}
out:
	mutex_unlock(&d->lock);
	return ret;
}

static const struct file_operations lgh_fops = {
	.owner = THIS_MODULE,
	.open = lgh_open,
	.release = lgh_release,
	.unlocked_ioctl = lgh_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice lgh_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "lguest-host",
	.fops = &lgh_fops,
	.mode = 0600,
};
module_misc_device(lgh_misc);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(
	"lguest: block devices served in the kernel on draft III, split and packed rings");
