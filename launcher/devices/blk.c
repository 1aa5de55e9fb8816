// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: a block device backed by a disk image, over draft-III queues.
 *
 * The protocol is shared/seeds/001's: the guest puts a request on the out
 * queue (header, then any data to write) and names, in the header, the
 * buffer on the in queue that receives the status byte and any data read.
 * We read or write the image straight from and into those guest pages with
 * preadv/pwritev: the only bytes we copy are the 24-byte header and the
 * status byte.
 *
 * Requests are served in order, synchronously, on the device's thread: the
 * image is normally in the page cache, where a pread costs about a
 * microsecond, so more threads would add more than they save.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "devices/blk.h"
#include "draft3_blk.h"
#include "iov.h"
#include "log.h"

struct blk {
	const char *path;
	int fd;
	bool read_only;
	uint64_t capacity; /* sectors */
	struct chain chain;
	uint64_t reads, writes, flushes, errors, unsupported;
};

/* preadv/pwritev the whole iovec array, resuming after short transfers. */
static bool image_io(struct blk *b, bool write, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t done = write ? pwritev(b->fd, iov, n, off) : preadv(b->fd, iov, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return false; /* error, or the image shrank under us */
		off += done;
		iov = iov_advance(iov, &n, done);
	}
	return true;
}

static bool in_range(struct blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % LG_SECTOR_SIZE == 0 && sector <= b->capacity &&
	       bytes / LG_SECTOR_SIZE <= b->capacity - sector;
}

/* Do one request; returns the status byte. */
static uint8_t blk_do(struct device *dev, struct blk *b, const struct d3_blk_outhdr *hdr,
		      struct chain *c, uint32_t *written)
{
	struct iovec data[CHAIN_MAX_SEGS];
	uint32_t type = hdr->type & ~D3_BLK_T_BARRIER;
	uint64_t len;
	int n;

	*written = 1; /* the status byte */
	switch (type) {
	case D3_BLK_T_READ:
		len = c->write_len - 1;
		n = iov_slice(data, CHAIN_MAX_SEGS, chain_writable(c), c->nwrite, 1, len);
		if (n < 0 || !in_range(b, hdr->sector, len))
			return D3_BLK_S_IOERR;
		b->reads++;
		if (!image_io(b, false, data, n, hdr->sector * LG_SECTOR_SIZE))
			return D3_BLK_S_IOERR;
		dev->stats.bytes_written += len;
		*written += len;
		break;
	case D3_BLK_T_WRITE:
		len = c->read_len - sizeof(*hdr);
		n = iov_slice(data, CHAIN_MAX_SEGS, c->seg, c->nread, sizeof(*hdr), len);
		if (n < 0 || b->read_only || !in_range(b, hdr->sector, len))
			return D3_BLK_S_IOERR;
		b->writes++;
		if (!image_io(b, true, data, n, hdr->sector * LG_SECTOR_SIZE))
			return D3_BLK_S_IOERR;
		dev->stats.bytes_read += len;
		break;
	case D3_BLK_T_FLUSH:
		break; /* the fdatasync below */
	default:
		/* D3_BLK_T_SCSI_CMD and anything we do not know. */
		b->unsupported++;
		return D3_BLK_S_UNSUPP;
	}
	/* Durable before we say it is done: FLUSH, and any request marked BARRIER. */
	if ((type == D3_BLK_T_FLUSH || (hdr->type & D3_BLK_T_BARRIER)) && !b->read_only) {
		b->flushes++;
		if (fdatasync(b->fd) < 0)
			return D3_BLK_S_IOERR;
	}
	return D3_BLK_S_OK;
}

static bool blk_request(struct device *dev, struct blk *b, struct chain *c)
{
	struct d3_blk_outhdr hdr;
	uint32_t written, outstanding;
	uint8_t status;

	if (iov_to_buf(c->seg, c->nread, 0, &hdr, sizeof(hdr), &dev->stats.header_bytes) !=
	    sizeof(hdr)) {
		device_fail(dev,
			    "out queue: request of %lu bytes is shorter than its %zu-byte header",
			    (unsigned long)c->read_len, sizeof(hdr));
		return false;
	}
	if (d3_dev_join(&dev->d3, c, hdr.id) < 0) {
		device_fail(dev, "%s", dev->d3.error);
		return false;
	}
	if (c->write_len < 1) {
		device_fail(dev, "in queue: buffer %u has no room for the status byte", c->in_id);
		return false;
	}
	/* How deep the guest's queue is right now (a statistic only, so a plain read). */
	outstanding = *(volatile uint32_t *)&dev->d3.out.avail->idx - dev->d3.out.used_idx;
	if (outstanding <= D3_NUM_DESCS && outstanding > dev->stats.max_outstanding)
		dev->stats.max_outstanding = outstanding;

	status = blk_do(dev, b, &hdr, c, &written);
	if (status == D3_BLK_S_IOERR)
		b->errors++;
	iov_from_buf(chain_writable(c), c->nwrite, 0, &status, 1, &dev->stats.header_bytes);
	dev->stats.descs += c->ndesc;
	if (!d3_dev_push(&dev->d3, c, written)) {
		device_fail(dev, "%s", dev->d3.error);
		return false;
	}
	dev->stats.chains += 2;
	return true;
}

static void blk_notify(struct device *dev)
{
	struct blk *b = dev->priv;
	int r;

	do {
		d3_dev_start_running(&dev->d3);
		while ((r = d3_dev_pop_out(&dev->d3, &b->chain)) > 0) {
			if (!blk_request(dev, b, &b->chain))
				return;
			device_signal(dev);
		}
		if (r < 0) {
			device_fail(dev, "%s", dev->d3.error);
			return;
		}
	} while (d3_dev_stop_running(&dev->d3));
}

static void blk_print_stats(struct device *dev)
{
	struct blk *b = dev->priv;

	fprintf(stderr,
		"%-8s reads %lu, writes %lu, flushes (fdatasync) %lu, errors %lu, "
		"unsupported %lu, header bytes %lu\n",
		dev->name, b->reads, b->writes, b->flushes, b->errors, b->unsupported,
		dev->stats.header_bytes);
}

static const struct device_ops blk_ops = {
	.notify = blk_notify,
	.print_stats = blk_print_stats,
};

void blk_add(const char *path, bool read_only)
{
	static int nblk;
	struct blk *b = calloc(1, sizeof(*b));
	struct device *dev;
	struct stat st;
	uint64_t bytes;
	char name[16];

	if (!b)
		die("out of memory");
	b->path = path;
	b->read_only = read_only;
	b->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0)
		die_errno("cannot open disk image %s", path);
	if (fstat(b->fd, &st) < 0)
		die_errno("%s", path);
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
			die_errno("%s: BLKGETSIZE64", path);
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
	} else {
		die("%s: not a regular file or block device", path);
	}
	b->capacity = bytes / LG_SECTOR_SIZE;
	if (!b->capacity)
		die("%s: disk image is smaller than one sector", path);
	if (bytes % LG_SECTOR_SIZE)
		warnx_lg("%s: ignoring the last %lu bytes (not a whole sector)", path,
			 (unsigned long)(bytes % LG_SECTOR_SIZE));

	snprintf(name, sizeof(name), "blk%d", nblk++);
	dev = device_add(name, LG_DEV_BLOCK, &blk_ops, b);
	dev->desc->config[LG_BLK_CFG_CAPACITY] = b->capacity;
	if (read_only)
		dev->desc->features |= LG_BLK_F_RO;
	verbose("%s: %s, %lu sectors%s", name, path, (unsigned long)b->capacity,
		read_only ? ", read-only" : "");
}
