// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: one block request, in the kernel: the launcher's block protocol
 * (launcher/devices/blk.c) on a chain the ring code popped.
 *
 * A chain is a list of user addresses in the launcher's mm (guest pages),
 * readable segments first.  An iov_iter over them is all the kernel needs:
 * copy_from_iter() takes the header off the front of the readable part and
 * leaves the iterator on the data, which vfs_iter_write() writes to the
 * image; over the writable part, vfs_iter_read() reads the image straight
 * into the guest's pages, and the status byte goes in last (virtio 1.x)
 * or first (draft III).  No data passes through a kernel buffer of ours.
 *
 * Requests the guest gets wrong in a way the block protocol can answer
 * (a sector past the end, a write to a read-only disk, an unknown type)
 * get an error status.  A chain too short for its header or status byte
 * cannot be answered: the device stops, with the launcher's own words.
 */
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/virtio_blk.h>

#include "draft3_blk.h"
#include "lgh.h"

static bool sectors_ok(const struct lgh_dev *d, u64 sector, u64 bytes)
{
	return bytes % LG_SECTOR_SIZE == 0 && sector <= d->capacity &&
	       bytes / LG_SECTOR_SIZE <= d->capacity - sector;
}

/* The whole of @it to or from the image at @sector, resuming after short transfers. */
static bool image_io(struct lgh_dev *d, struct iov_iter *it, u64 sector, bool write)
{
	loff_t pos = sector * LG_SECTOR_SIZE;
	ssize_t n = 0;

	if (write)
		file_start_write(d->backend);
	while (iov_iter_count(it)) {
		n = write ? vfs_iter_write(d->backend, it, &pos, 0)
			  : vfs_iter_read(d->backend, it, &pos, 0);
		if (n <= 0)
			break; /* an error, a fault in guest RAM, or the image shrank */
	}
	if (write)
		file_end_write(d->backend);
	return n > 0 || !iov_iter_count(it);
}

enum op { OP_READ, OP_WRITE, OP_FLUSH, OP_GET_ID, OP_UNSUPP };

/*
 * Do one request: @data is the payload (the data to write, or the room to
 * read into), @sector where.  Returns the status byte; *written is how
 * many payload bytes went into guest memory.
 */
static u8 serve(struct lgh_dev *d, enum op op, u64 sector, bool barrier, struct iov_iter *data,
		u32 *written)
{
	size_t len = iov_iter_count(data);

	*written = 0;
	switch (op) {
	case OP_READ:
		if (!sectors_ok(d, sector, len) || !image_io(d, data, sector, false))
			return VIRTIO_BLK_S_IOERR;
		d->stats.read_bytes += len;
		*written = len;
		break;
	case OP_WRITE:
		if (d->read_only || !sectors_ok(d, sector, len) || !image_io(d, data, sector, true))
			return VIRTIO_BLK_S_IOERR;
		d->stats.write_bytes += len;
		break;
	case OP_FLUSH:
		break; /* the sync below */
	case OP_GET_ID:
		*written = copy_to_iter(d->serial, min(len, sizeof(d->serial)), data);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	/* Durable before we say it is done: FLUSH, and draft III's BARRIER. */
	if ((op == OP_FLUSH || barrier) && !d->read_only) {
		d->stats.flushes++;
		if (vfs_fsync(d->backend, 1))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* An iterator over @c's readable or writable segments. */
static void chain_iter(struct iov_iter *it, struct chain *c, bool writable)
{
	if (writable)
		iov_iter_init(it, ITER_DEST, chain_writable(c), c->nwrite, c->write_len);
	else
		iov_iter_init(it, ITER_SOURCE, c->seg, c->nread, c->read_len);
}

/* Write the status byte at @offset into the writable part. */
static void put_status(struct lgh_dev *d, struct chain *c, u64 offset, u8 status)
{
	struct iov_iter it;

	chain_iter(&it, c, true);
	iov_iter_advance(&it, offset);
	if (copy_to_iter(&status, 1, &it) != 1)
		WRITE_ONCE(d->fault, true); /* the worker stops the device */
}

/* Virtio 1.x: header and data to write, then data to read into and the status byte. */
static bool request_virtio(struct lgh_dev *d, struct queue *q, struct chain *c)
{
	struct virtio_blk_outhdr hdr;
	struct iov_iter data;
	enum op op = OP_UNSUPP;
	u32 written;
	u8 status;

	chain_iter(&data, c, false);
	if (copy_from_iter(&hdr, sizeof(hdr), &data) != sizeof(hdr)) {
		lgh_fail(d, "requestq: request with %llu readable bytes has no %zu-byte header",
			 c->read_len, sizeof(hdr));
		return false;
	}
	if (c->write_len < 1) {
		lgh_fail(d, "requestq: request %u has no room for the status byte", c->id);
		return false;
	}
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		op = hdr.type == VIRTIO_BLK_T_IN ? OP_READ : OP_GET_ID;
		chain_iter(&data, c, true);
		iov_iter_truncate(&data, c->write_len - 1);
		break;
	case VIRTIO_BLK_T_OUT:
		op = OP_WRITE; /* data: the readable part after the header */
		break;
	case VIRTIO_BLK_T_FLUSH:
		op = OP_FLUSH;
		break;
	}
	if (op == OP_FLUSH || op == OP_UNSUPP)
		iov_iter_truncate(&data, 0);
	status = serve(d, op, hdr.sector, false, &data, &written);
	put_status(d, c, c->write_len - 1, status);
	d->stats.descs += c->ndesc;
	if (!queue_push(q, c, written + 1)) {
		lgh_fail(d, "%s", queue_error(q));
		return false;
	}
	d->stats.requests++;
	return true;
}

/*
 * Draft III: c is an out-queue chain (header + data to write).  Join the
 * in buffer the header names; the status goes in its first byte, data
 * read after it.
 */
static bool request_draft3(struct lgh_dev *d, struct queue *q, struct chain *c)
{
	struct d3_blk_outhdr hdr;
	struct iov_iter data;
	enum op op = OP_UNSUPP;
	u32 type, written;
	u8 status;

	chain_iter(&data, c, false);
	if (copy_from_iter(&hdr, sizeof(hdr), &data) != sizeof(hdr)) {
		lgh_fail(d, "out queue: request of %llu bytes is shorter than its %zu-byte header",
			 c->read_len, sizeof(hdr));
		return false;
	}
	if (d3_dev_join(&d->d3, c, hdr.id) < 0) {
		lgh_fail(d, "%s", d->d3.error);
		return false;
	}
	if (c->write_len < 1) {
		lgh_fail(d, "in queue: buffer %u has no room for the status byte", c->in_id);
		return false;
	}
	type = hdr.type & ~D3_BLK_T_BARRIER;
	if (type == D3_BLK_T_READ) {
		op = OP_READ;
		chain_iter(&data, c, true);
		iov_iter_advance(&data, 1);
	} else if (type == D3_BLK_T_WRITE) {
		op = OP_WRITE;
	} else if (type == D3_BLK_T_FLUSH) {
		op = OP_FLUSH;
	}
	if (op == OP_FLUSH || op == OP_UNSUPP)
		iov_iter_truncate(&data, 0);
	status = serve(d, op, hdr.sector, hdr.type & D3_BLK_T_BARRIER, &data, &written);
	put_status(d, c, 0, status);
	d->stats.descs += c->ndesc;
	/* Both halves go back; the in half with the status byte and the data. */
	if (!queue_push(q, c, written + 1)) {
		lgh_fail(d, "%s", d->d3.error);
		return false;
	}
	d->stats.requests += 2;
	return true;
}

bool lgh_blk_request(struct lgh_dev *d, struct queue *q, struct chain *c)
{
	if (d->layout == LG_RING_DRAFT3)
		return request_draft3(d, q, c);
	return request_virtio(d, q, c);
}
