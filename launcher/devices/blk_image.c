// SPDX-License-Identifier: GPL-2.0
/*
 * blk_image.c: a disk image, opened, locked and described to the guest.
 *
 * Shared by every block device that looks the same to the guest, wherever
 * its requests are served: the launcher's own model (blk.c), the host
 * kernel's (vhost_blk.c) and lguest-vhost-blk.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "devices/blk.h"
#include "log.h"

/* What the guest learns about the disk, in each generation's own place. */
void blk_configure(struct device *dev, const struct blk_image *img)
{
	struct virtio_blk_config *cfg;

	if (dev->ring.layout == LG_RING_DRAFT3) {
		dev->desc->config[LG_BLK_CFG_CAPACITY] = img->capacity;
		if (img->read_only)
			dev->desc->features |= LG_BLK_F_RO;
		return;
	}
	cfg = device_config_space(dev, sizeof(*cfg));
	cfg->capacity = img->capacity;
	cfg->seg_max = BLK_SEG_MAX;
	cfg->blk_size = LG_SECTOR_SIZE;
	device_offer(dev, 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
				  1ULL << VIRTIO_BLK_F_FLUSH |
				  (img->read_only ? 1ULL << VIRTIO_BLK_F_RO : 0));
}

void blk_next_name(char *name, unsigned long size)
{
	static int nblk;

	snprintf(name, size, "blk%d", nblk++);
}

/*
 * Two machines writing one disk soon have a corrupt disk, so, like QEMU,
 * we lock the image: shared to read it, exclusive to write it.  An open
 * file description lock, so that it belongs to this open and goes away
 * with it, also when we are killed; and one that QEMU's own byte-range
 * locks conflict with, so neither of us writes under the other.
 */
static void image_lock(int fd, const char *path, bool read_only)
{
	struct flock fl = { .l_type = read_only ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return;
	if (errno == EAGAIN || errno == EACCES)
		die("%s: in use: open %selsewhere (another --block, another lguest, or QEMU?)",
		    path, read_only ? "for writing " : "");
	die_errno("%s: cannot lock", path);
}

void blk_image_open(struct blk_image *img, const char *path, bool read_only, const char *name)
{
	struct stat st;
	uint64_t bytes;
	char id[48];

	*img = (struct blk_image){ .path = path, .read_only = read_only };
	/*
	 * O_NONBLOCK: opening a FIFO read-only would wait for a writer, for
	 * ever, before we could look at what the path is.  Then the flag
	 * goes: it means nothing to files and block devices, and the host
	 * kernel's device (--block=...,device=kernel) gets this fd too.
	 */
	img->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (img->fd < 0)
		die_errno("cannot open disk image %s", path);
	if (fstat(img->fd, &st) < 0)
		die_errno("%s", path);
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(img->fd, BLKGETSIZE64, &bytes) < 0)
			die_errno("%s: BLKGETSIZE64", path);
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
	} else {
		die("%s: not a regular file or block device", path);
	}
	if (fcntl(img->fd, F_SETFL, 0) < 0)
		die_errno("%s: cannot clear O_NONBLOCK", path);
	image_lock(img->fd, path, read_only);
	img->capacity = bytes / LG_SECTOR_SIZE;
	if (!img->capacity)
		die("%s: disk image is smaller than one sector", path);
	if (bytes % LG_SECTOR_SIZE)
		warnx_lg("%s: ignoring the last %lu bytes (not a whole sector)", path,
			 (unsigned long)(bytes % LG_SECTOR_SIZE));
	/* GET_ID's answer (NUL-padded, not terminated): name and inode, unique enough. */
	snprintf(id, sizeof(id), "lguest-%s-%lx", name, (unsigned long)st.st_ino);
	memcpy(img->serial, id, strnlen(id, sizeof(img->serial)));
}
