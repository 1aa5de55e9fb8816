// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: a block device backed by a disk image, on any ring layout.
 *
 * Two request formats reach us, one per protocol generation:
 *
 *   draft3 (shared/seeds/001): the request travels in two buffers.  The
 *     out queue carries the header (struct d3_blk_outhdr) and any data to
 *     write; the header names, by id, a buffer on the in queue that
 *     receives the status byte first and then any data read.
 *
 *   split and packed (virtio 1.x, <linux/virtio_blk.h>): one chain per
 *     request, readable header (struct virtio_blk_outhdr) and data to
 *     write, then writable data to read into and the status byte last.
 *
 * Both are turned into one struct blk_op and served by blk_serve(): we
 * read or write the image straight from and into the guest's pages with
 * preadv/pwritev.  The only bytes we copy are the header and the status
 * byte (and GET_ID's 20-byte answer), counted as header_bytes.
 *
 * Requests are served in order, synchronously, on the device's thread:
 * the image is normally in the page cache, where a pread costs about a
 * microsecond, so more threads would add more than they save.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
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
#include "trace.h"

/* The most data segments a request may carry (header and status aside). */
#define BLK_SEG_MAX (CHAIN_MAX_SEGS - 2)

struct blk {
	struct blk_image img;
	struct chain chain;
	uint64_t reads, writes, flushes, errors, unsupported;
};

/* A request, whichever format it came in. */
struct blk_op {
	enum { OP_READ, OP_WRITE, OP_FLUSH, OP_GET_ID, OP_UNSUPP } kind;
	uint64_t sector;
	bool barrier;	    /* draft3's BARRIER flag: durable before completion */
	struct iovec *data; /* the payload segments, inside the chain */
	int ndata;
	uint64_t len; /* payload bytes */
};

/* The status values of both generations are the same numbers. */
_Static_assert(D3_BLK_S_OK == VIRTIO_BLK_S_OK && D3_BLK_S_IOERR == VIRTIO_BLK_S_IOERR &&
		       D3_BLK_S_UNSUPP == VIRTIO_BLK_S_UNSUPP,
	       "status bytes");

/* preadv/pwritev the whole iovec array, resuming after short transfers. */
static bool image_io(struct blk *b, bool write, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t done =
			write ? pwritev(b->img.fd, iov, n, off) : preadv(b->img.fd, iov, n, off);

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
	return bytes % LG_SECTOR_SIZE == 0 && sector <= b->img.capacity &&
	       bytes / LG_SECTOR_SIZE <= b->img.capacity - sector;
}

/* Do one request; returns the status byte and sets *written (payload bytes). */
static uint8_t blk_serve(struct device *dev, struct blk *b, const struct blk_op *op,
			 uint32_t *written)
{
	*written = 0;
	switch (op->kind) {
	case OP_READ:
		if (op->ndata < 0 || !in_range(b, op->sector, op->len))
			return VIRTIO_BLK_S_IOERR;
		b->reads++;
		if (!image_io(b, false, op->data, op->ndata, op->sector * LG_SECTOR_SIZE))
			return VIRTIO_BLK_S_IOERR;
		dev->stats.bytes_written += op->len;
		*written = op->len;
		break;
	case OP_WRITE:
		if (op->ndata < 0 || b->img.read_only || !in_range(b, op->sector, op->len))
			return VIRTIO_BLK_S_IOERR;
		b->writes++;
		if (!image_io(b, true, op->data, op->ndata, op->sector * LG_SECTOR_SIZE))
			return VIRTIO_BLK_S_IOERR;
		dev->stats.bytes_read += op->len;
		break;
	case OP_FLUSH:
		break; /* the fdatasync below */
	case OP_GET_ID:
		/* The serial, NUL-padded, cut to what the guest gave us. */
		*written = iov_from_buf(op->data, op->ndata, 0, b->img.serial,
					op->len < sizeof(b->img.serial) ? op->len
									: sizeof(b->img.serial),
					&dev->stats.header_bytes);
		return VIRTIO_BLK_S_OK;
	default:
		b->unsupported++;
		return VIRTIO_BLK_S_UNSUPP;
	}
	/* Durable before we say it is done: FLUSH, and draft3 requests marked BARRIER. */
	if ((op->kind == OP_FLUSH || op->barrier) && !b->img.read_only) {
		b->flushes++;
		if (fdatasync(b->img.fd) < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* The deepest the guest's queue has been (max-out), where the layout can tell. */
static void note_depth(struct device *dev, const struct queue *q)
{
	int depth = queue_depth(q);

	if (depth > 0 && (uint64_t)depth > dev->stats.max_outstanding)
		dev->stats.max_outstanding = (uint64_t)depth;
}

/* The data of a request is the chain minus @skip bytes in front, @len long. */
static void op_data(struct blk_op *op, struct iovec *data, struct iovec *segs, unsigned int n,
		    uint64_t skip, uint64_t len)
{
	op->data = data;
	op->len = len;
	op->ndata = iov_slice(data, CHAIN_MAX_SEGS, segs, n, skip, len);
}

/*
 * Draft III: c is an out-queue chain (header + data to write).  Join the
 * in buffer the header names; status goes in its first byte, data read
 * after it.
 */
static bool blk_request_draft3(struct device *dev, struct blk *b, struct chain *c)
{
	struct iovec data[CHAIN_MAX_SEGS];
	struct d3_blk_outhdr hdr;
	struct blk_op op = { 0 };
	uint32_t type, written;
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
	/* The in half is a buffer of its own on the in queue: count and show it popped. */
	dev->queue[QUEUE_D3_IN].popped++;
	dev->queue[QUEUE_D3_IN].descs += c->nwrite;
	if (trace_on)
		trace_record_pop(dev->index, QUEUE_D3_IN, c->in_id, dev->d3.in.last_avail,
				 chain_writable(c), c->nwrite, 0, c->nwrite, CHAIN_MAX_SEGS);
	if (c->write_len < 1) {
		device_fail(dev, "in queue: buffer %u has no room for the status byte", c->in_id);
		return false;
	}
	note_depth(dev, &dev->queue[QUEUE_D3_OUT]);

	type = hdr.type & ~D3_BLK_T_BARRIER;
	op.sector = hdr.sector;
	op.barrier = hdr.type & D3_BLK_T_BARRIER;
	if (type == D3_BLK_T_READ) {
		op.kind = OP_READ;
		op_data(&op, data, chain_writable(c), c->nwrite, 1, c->write_len - 1);
	} else if (type == D3_BLK_T_WRITE) {
		op.kind = OP_WRITE;
		op_data(&op, data, c->seg, c->nread, sizeof(hdr), c->read_len - sizeof(hdr));
	} else if (type == D3_BLK_T_FLUSH) {
		op.kind = OP_FLUSH;
	} else {
		op.kind = OP_UNSUPP; /* D3_BLK_T_SCSI_CMD and anything we do not know */
	}
	status = blk_serve(dev, b, &op, &written);
	if (status == VIRTIO_BLK_S_IOERR)
		b->errors++;
	trace_event(LG_TR_IO, dev->index, QUEUE_D3_OUT, status, c->id, 0, written, 0);
	iov_from_buf(chain_writable(c), c->nwrite, 0, &status, 1, &dev->stats.header_bytes);
	dev->stats.descs += c->ndesc;
	/* Both halves go back; the in half with the status byte and the data. */
	if (!queue_push(&dev->queue[QUEUE_D3_OUT], c, written + 1)) {
		device_fail(dev, "%s", dev->d3.error);
		return false;
	}
	dev->queue[QUEUE_D3_IN].used++; /* queue_push() gave back the in half as well */
	dev->stats.chains += 2;
	return true;
}

/* Virtio 1.x: header and data to write, then data to read into and the status byte. */
static bool blk_request_virtio(struct device *dev, struct blk *b, struct queue *q, struct chain *c)
{
	struct iovec data[CHAIN_MAX_SEGS];
	struct virtio_blk_outhdr hdr;
	struct blk_op op = { 0 };
	uint32_t written;
	uint8_t status;

	if (iov_to_buf(c->seg, c->nread, 0, &hdr, sizeof(hdr), &dev->stats.header_bytes) !=
	    sizeof(hdr)) {
		device_fail(dev, "%s: request with %lu readable bytes has no %zu-byte header",
			    dev->queue_names[0], (unsigned long)c->read_len, sizeof(hdr));
		return false;
	}
	if (c->write_len < 1) {
		device_fail(dev, "%s: request %u has no room for the status byte",
			    dev->queue_names[0], c->id);
		return false;
	}
	note_depth(dev, q);
	op.sector = hdr.sector;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		op.kind = OP_READ;
		op_data(&op, data, chain_writable(c), c->nwrite, 0, c->write_len - 1);
		break;
	case VIRTIO_BLK_T_OUT:
		op.kind = OP_WRITE;
		op_data(&op, data, c->seg, c->nread, sizeof(hdr), c->read_len - sizeof(hdr));
		break;
	case VIRTIO_BLK_T_FLUSH:
		op.kind = OP_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		op.kind = OP_GET_ID;
		op_data(&op, data, chain_writable(c), c->nwrite, 0, c->write_len - 1);
		break;
	default:
		op.kind = OP_UNSUPP;
	}
	status = blk_serve(dev, b, &op, &written);
	if (status == VIRTIO_BLK_S_IOERR)
		b->errors++;
	trace_event(LG_TR_IO, dev->index, q->index, status, c->id, 0, written, 0);
	/* The status byte is the last writable byte, whatever the data's length. */
	iov_from_buf(chain_writable(c), c->nwrite, c->write_len - 1, &status, 1,
		     &dev->stats.header_bytes);
	dev->stats.descs += c->ndesc;
	if (!queue_push(q, c, written + 1)) {
		device_queue_failed(dev, q);
		return false;
	}
	dev->stats.chains++;
	return true;
}

static void blk_notify(struct device *dev)
{
	bool draft3 = dev->ring.layout == LG_RING_DRAFT3;
	struct queue *q = &dev->queue[draft3 ? QUEUE_D3_OUT : 0];
	struct blk *b = dev->priv;
	int r;

	do {
		queue_disable_notify(q);
		while ((r = queue_pop(q, &b->chain)) > 0) {
			bool ok = draft3 ? blk_request_draft3(dev, b, &b->chain)
					 : blk_request_virtio(dev, b, q, &b->chain);

			if (!ok)
				return;
			device_used(dev, q);
		}
		if (r < 0) {
			device_queue_failed(dev, q);
			return;
		}
	} while (queue_enable_notify(q));
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
	.sandbox = SANDBOX_DEV_BLK,
};

static const char *const blk_queue_names[] = { "requestq" };

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

void blk_add(const char *path, bool read_only, const struct ring_opt *ring)
{
	struct blk *b = calloc(1, sizeof(*b));
	struct device *dev;
	char name[16];

	if (!b)
		die("out of memory");
	blk_next_name(name, sizeof(name));
	blk_image_open(&b->img, path, read_only, name);
	dev = device_add(name, LG_DEV_BLOCK, &blk_ops, b, ring, 1, blk_queue_names);
	blk_configure(dev, &b->img);
	verbose("%s: %s, %lu sectors%s", name, path, (unsigned long)b->img.capacity,
		read_only ? ", read-only" : "");
}
