// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_blk_request.c: the block device model (launcher/devices/blk.c) on
 * request chains whose layout and header bytes come from the input.
 *
 * The model runs unchanged: blk_add() opens a 16-sector memfd image and
 * registers with fake_device.c, and each request reaches it through its
 * own notify handler, which pops the chain we built (queue_pop() is the
 * fake's) and serves it with preadv/pwritev on the image.  Two devices,
 * one read-write and one read-only; either speaks draft III (out chain +
 * joined in buffer) or virtio 1.x (one chain) as the input says.
 *
 * The chain's segments lie in an arena, in order, 16 bytes apart, each
 * 1 byte or longer and at most CHAIN_MAX_SEGS of them: what the ring code
 * guarantees a model.  Readable segments hold the header from the input,
 * then a pattern; writable ones start with another pattern.
 *
 * The harness predicts each request's outcome from the protocol alone
 * (which header, which status where, which bytes of the image), then
 * compares, so what must hold is exact:
 *
 *  - a chain too short for its header, or with no room for the status
 *    byte, stops the device with a one-line message, touches nothing and
 *    is not pushed;
 *  - otherwise the status byte lands in its place (virtio: the last
 *    writable byte; draft III: the first), read data (or GET_ID's serial)
 *    in the writable bytes before or after it, and nothing else in the
 *    arena changes (readable segments and the gaps between segments
 *    included);
 *  - the length pushed is what was written plus the status byte, never
 *    more than the writable bytes;
 *  - the image changes only by a write that succeeded, exactly there; it
 *    never grows; a read-only device's image never changes.
 *
 * Input: one byte (bit 0: draft III, else split; bit 1: the read-only
 * device), then up to 8 requests, each
 *
 *	u8 readable count | u8 writable count | 24 header bytes | u8 misc |
 *	u16 length code per segment
 *
 * A count below 0xf0 is taken modulo 16, 0xf0..0xff mean 32..512.  A
 * length code with bit 15 set is that many whole sectors ((code & 15) + 1);
 * else it is 1 + code % 1024 bytes.  The header is draft III's
 * d3_blk_outhdr (type, ioprio, sector, id), whose first 16 bytes are
 * virtio's virtio_blk_outhdr.  misc bit 0: the draft-III join fails; bit
 * 1: the push fails (a guest scribbling on its used ring).
 */
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "devices/blk.h"
#include "draft3_blk.h"
#include "fake_device.h"

#define IMAGE_SECTORS 16
#define IMAGE_BYTES   (IMAGE_SECTORS * LG_SECTOR_SIZE)
#define ARENA_SIZE    (512 << 10)
#define GAP	      16
#define MAX_REQUESTS  8
#define D3_HDR	      sizeof(struct d3_blk_outhdr)
#define VIRTIO_HDR    sizeof(struct virtio_blk_outhdr)

/* One of the two disks: its device and image, and what the image should hold. */
struct disk {
	struct device *dev;
	int fd;
	char serial[VIRTIO_BLK_ID_BYTES];
	uint8_t model[IMAGE_BYTES];
};

static struct disk disks[2]; /* read-write, read-only */
static uint8_t initial[IMAGE_BYTES];
static uint8_t *arena, *expect;

/* The request being served: its segments, and what the fake saw of it. */
static struct {
	struct device *dev; /* serving it */
	bool draft3;
	struct chain c; /* readable and writable segments, as built */
	size_t arena_used;
	bool join_fails, push_fails;
	bool popped;
	unsigned int pushes;
	uint32_t pushed; /* the length queue_push() got */
} req;

/* --- the fake ring: hand out req.c, record the push ---------------------- */

static int pop(struct queue *q, struct chain *c)
{
	(void)q;
	if (req.popped)
		return 0;
	req.popped = true;
	*c = req.c;
	/* Draft III: the out chain is readable only; the in buffer comes with the join. */
	if (req.draft3) {
		c->nwrite = 0;
		c->write_len = 0;
	}
	return 1;
}

static int join(struct d3_dev *d, struct chain *c, uint64_t id)
{
	FUZZ_CHECK(req.draft3, "d3_dev_join() on a virtio request");
	FUZZ_CHECK(c->nwrite == 0 && c->in_id == CHAIN_NO_ID, "joined twice");
	if (req.join_fails) {
		snprintf(d->error, sizeof(d->error), "in queue: buffer %llu refused by the harness",
			 (unsigned long long)id);
		return -1;
	}
	memcpy(c->seg + c->nread, req.c.seg + req.c.nread, req.c.nwrite * sizeof(c->seg[0]));
	c->nwrite = req.c.nwrite;
	c->write_len = req.c.write_len;
	c->in_id = (uint32_t)(id % D3_NUM_DESCS);
	return 1;
}

static bool push(struct queue *q, struct chain *c, uint32_t written)
{
	(void)q;
	req.pushes++;
	req.pushed = written;
	FUZZ_CHECK(written <= c->write_len, "pushed %u bytes written, the chain has %llu writable",
		   written, (unsigned long long)c->write_len);
	/* Draft III's push reports through the device's d3.error, as d3_dev_push() would. */
	if (req.push_fails && req.draft3)
		snprintf(req.dev->d3.error, sizeof(req.dev->d3.error),
			 "in queue: used index changed under us (the harness)");
	return !req.push_fails;
}

/* --- building the chain -------------------------------------------------- */

static unsigned int seg_count(uint8_t code)
{
	return code < 0xf0 ? code % 16u : (code - 0xefu) * 32u;
}

static uint32_t seg_len(uint16_t code)
{
	if (code & 0x8000)
		return ((code & 15u) + 1) * LG_SECTOR_SIZE;
	return 1 + code % 1024u;
}

/* Lay out @n segments from the input (fewer, shorter ones if the arena fills up). */
static void add_segments(struct fuzz_input *in, unsigned int n, bool writable)
{
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = seg_len(fuzz_u16(in));
		struct chain *c = &req.c;

		if (req.arena_used + GAP + 1 > ARENA_SIZE)
			return;
		if (len > ARENA_SIZE - req.arena_used - GAP)
			len = ARENA_SIZE - req.arena_used - GAP;
		c->seg[c->nread + c->nwrite] = (struct iovec){ arena + req.arena_used + GAP, len };
		req.arena_used += GAP + len;
		if (writable) {
			c->nwrite++;
			c->write_len += len;
		} else {
			c->nread++;
			c->read_len += len;
		}
	}
}

/* Copy @n bytes of @src to offset @off of the segments seg[0, nseg), as laid out in @mem. */
static void to_segments(uint8_t *mem, const struct iovec *seg, unsigned int nseg, uint64_t off,
			const uint8_t *src, uint64_t n)
{
	for (unsigned int i = 0; i < nseg && n; i++) {
		uint8_t *p = mem + ((uint8_t *)seg[i].iov_base - arena);
		uint64_t len = seg[i].iov_len;

		if (off >= len) {
			off -= len;
			continue;
		}
		len = len - off < n ? len - off : n;
		memcpy(p + off, src, len);
		src += len;
		n -= len;
		off = 0;
	}
}

/* Fill the segments: header and pattern in the readable ones, another pattern in the rest. */
static void fill_chain(const uint8_t *hdr, unsigned int r)
{
	const struct chain *c = &req.c;
	uint8_t *p;

	memset(arena, 0xa5, req.arena_used + GAP);
	for (unsigned int i = 0; i < c->nread + c->nwrite; i++) {
		p = c->seg[i].iov_base;
		for (size_t j = 0; j < c->seg[i].iov_len; j++)
			p[j] = (uint8_t)((i < c->nread ? 0x11 : 0xe7) + 7 * j + 31 * r + i);
	}
	to_segments(arena, c->seg, c->nread, 0, hdr, c->read_len < D3_HDR ? c->read_len : D3_HDR);
}

/* --- what the request should do ------------------------------------------ */

static bool in_range(uint64_t sector, uint64_t bytes)
{
	return bytes % LG_SECTOR_SIZE == 0 && sector <= IMAGE_SECTORS &&
	       bytes / LG_SECTOR_SIZE <= IMAGE_SECTORS - sector;
}

/* The bytes [off, off + n) of the readable segments, as we filled them. */
static void from_readable(uint64_t off, uint8_t *dst, uint64_t n)
{
	const struct chain *c = &req.c;

	for (unsigned int i = 0; i < c->nread && n; i++) {
		uint64_t len = c->seg[i].iov_len;

		if (off >= len) {
			off -= len;
			continue;
		}
		len = len - off < n ? len - off : n;
		memcpy(dst, (uint8_t *)c->seg[i].iov_base + off, len);
		dst += len;
		n -= len;
		off = 0;
	}
}

/*
 * Serve one request through the model's notify and compare with what the
 * protocol says.  False: the device stopped (the input's next requests
 * would not be served).
 */
static bool run_request(struct disk *d, bool ro, const uint8_t *hdr_bytes)
{
	const struct chain *c = &req.c;
	const struct iovec *wseg = c->seg + c->nread;
	bool draft3 = req.draft3;
	uint64_t hdr_len = draft3 ? D3_HDR : VIRTIO_HDR;
	uint64_t data_len = 0, written = 0, status_at = 0, data_at;
	bool expect_fail = false;
	uint8_t status = VIRTIO_BLK_S_OK;
	uint8_t image[IMAGE_BYTES];
	struct d3_blk_outhdr hdr;
	struct stat st;
	uint32_t type;

	memcpy(&hdr, hdr_bytes, sizeof(hdr));
	memcpy(expect, arena, req.arena_used + GAP);

	/* The rules a request can break: the device stops, nothing is served. */
	if (c->read_len < hdr_len || (draft3 && req.join_fails) || c->write_len < 1)
		expect_fail = true;

	type = draft3 ? hdr.type & ~D3_BLK_T_BARRIER : hdr.type;
	data_at = draft3 ? 1 : 0;
	if (!expect_fail) {
		status_at = draft3 ? 0 : c->write_len - 1;
		if (type == VIRTIO_BLK_T_IN) { /* D3_BLK_T_READ too */
			data_len = c->write_len - 1;
			if (in_range(hdr.sector, data_len)) {
				to_segments(expect, wseg, c->nwrite, data_at,
					    d->model + hdr.sector * LG_SECTOR_SIZE, data_len);
				written = data_len;
			} else {
				status = VIRTIO_BLK_S_IOERR;
			}
		} else if (type == VIRTIO_BLK_T_OUT) { /* D3_BLK_T_WRITE */
			data_len = c->read_len - hdr_len;
			if (!ro && in_range(hdr.sector, data_len))
				from_readable(hdr_len, d->model + hdr.sector * LG_SECTOR_SIZE,
					      data_len);
			else
				status = VIRTIO_BLK_S_IOERR;
		} else if (type == VIRTIO_BLK_T_FLUSH) { /* D3_BLK_T_FLUSH */
		} else if (type == VIRTIO_BLK_T_GET_ID && !draft3) {
			written = c->write_len - 1 < VIRTIO_BLK_ID_BYTES ? c->write_len - 1
									 : VIRTIO_BLK_ID_BYTES;
			to_segments(expect, wseg, c->nwrite, 0, (const uint8_t *)d->serial,
				    written);
		} else {
			status = VIRTIO_BLK_S_UNSUPP;
		}
		to_segments(expect, wseg, c->nwrite, status_at, &status, 1);
	}

	d->dev->ops->notify(d->dev);

	FUZZ_CHECK(req.popped, "the request was never popped");
	if (expect_fail) {
		FUZZ_CHECK(fake_fails == 1 && fake_fail_msg[0] && !strchr(fake_fail_msg, '\n'),
			   "a request breaking the rules: %u device_fail() calls, message \"%s\"",
			   fake_fails, fake_fail_msg);
		FUZZ_CHECK(req.pushes == 0, "a request breaking the rules was pushed");
	} else {
		FUZZ_CHECK(req.pushes == 1, "a served request was pushed %u times", req.pushes);
		FUZZ_CHECK(req.pushed == written + 1,
			   "pushed %u bytes written, expected %llu data + the status byte",
			   req.pushed, (unsigned long long)written);
		FUZZ_CHECK(fake_fails == (req.push_fails ? 1u : 0u) &&
				   (!req.push_fails || fake_fail_msg[0]),
			   "device_fail() %u times (\"%s\") serving a request", fake_fails,
			   fake_fail_msg);
	}
	for (size_t i = 0; i < req.arena_used + GAP; i++)
		FUZZ_CHECK(arena[i] == expect[i],
			   "arena byte %zu is %#x, expected %#x (type %u, status %u at writable "
			   "byte %llu)",
			   i, arena[i], expect[i], type, status, (unsigned long long)status_at);

	FUZZ_CHECK(fstat(d->fd, &st) == 0 && st.st_size == IMAGE_BYTES,
		   "the image is %lld bytes, not %d", (long long)st.st_size, IMAGE_BYTES);
	FUZZ_CHECK(pread(d->fd, image, IMAGE_BYTES, 0) == IMAGE_BYTES, "cannot read the image");
	FUZZ_CHECK(memcmp(image, d->model, IMAGE_BYTES) == 0,
		   "the image changed other than by the request (type %u, sector %llu, %llu "
		   "bytes, status %u)",
		   type, (unsigned long long)hdr.sector, (unsigned long long)data_len, status);
	return !d->dev->broken;
}

/* --- setup and the per-input loop --------------------------------------- */

static void open_disk(struct disk *d, bool ro, const struct ring_opt *ring)
{
	char path[64], id[48];
	struct stat st;

	d->fd = memfd_create(ro ? "fuzz_blk_ro" : "fuzz_blk", MFD_CLOEXEC);
	if (d->fd < 0 || pwrite(d->fd, initial, IMAGE_BYTES, 0) != IMAGE_BYTES ||
	    fstat(d->fd, &st) < 0)
		fuzz_fail("cannot make the image");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->fd);
	blk_add(path, ro, ring, NULL);
	d->dev = fake_device;
	/* What blk_image_open() answers GET_ID with: "lguest-NAME-INODE", NUL-padded. */
	snprintf(id, sizeof(id), "lguest-%s-%lx", d->dev->name, (unsigned long)st.st_ino);
	memcpy(d->serial, id, strnlen(id, sizeof(d->serial)));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct ring_opt ring = { .layout = LG_RING_SPLIT, .qsize = 256 };

	(void)argc;
	(void)argv;
	for (unsigned int i = 0; i < IMAGE_BYTES; i++)
		initial[i] = (uint8_t)(i * 13 + i / LG_SECTOR_SIZE);
	arena = malloc(ARENA_SIZE + GAP);
	expect = malloc(ARENA_SIZE + GAP);
	if (!arena || !expect)
		fuzz_fail("out of memory");
	fake = (struct fake_hooks){ .pop = pop, .push = push, .join = join };
	open_disk(&disks[0], false, &ring);
	open_disk(&disks[1], true, &ring);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct disk *d;
	uint8_t flags;
	bool ro;

	fuzz_input_init(&in, data, size);
	flags = fuzz_u8(&in);
	ro = flags & 2;
	d = &disks[ro];
	d->dev->ring.layout = flags & 1 ? LG_RING_DRAFT3 : LG_RING_SPLIT;
	fake_device_restart(d->dev);
	memcpy(d->model, initial, IMAGE_BYTES);
	if (pwrite(d->fd, initial, IMAGE_BYTES, 0) != IMAGE_BYTES)
		fuzz_fail("cannot reset the image");

	for (unsigned int r = 0; r < MAX_REQUESTS && fuzz_left(&in); r++) {
		unsigned int nread = seg_count(fuzz_u8(&in));
		unsigned int nwrite = seg_count(fuzz_u8(&in));
		uint8_t hdr[D3_HDR], misc;

		fuzz_bytes(&in, hdr, sizeof(hdr));
		misc = fuzz_u8(&in);
		/* A ring never hands out an empty chain, nor more than CHAIN_MAX_SEGS segments. */
		if (nread + nwrite == 0)
			nread = 1;
		if (nread + nwrite > CHAIN_MAX_SEGS)
			nwrite = CHAIN_MAX_SEGS - nread;
		memset(&req, 0, sizeof(req));
		chain_reset(&req.c);
		req.dev = d->dev;
		d->dev->d3.error[0] = '\0'; /* the fake's: each message must be this request's */
		req.draft3 = flags & 1;
		req.join_fails = misc & 1;
		req.push_fails = misc & 2;
		req.c.id = r;
		add_segments(&in, nread, false);
		add_segments(&in, nwrite, true);
		req.c.ndesc = req.c.nread + req.c.nwrite;
		fill_chain(hdr, r);
		if (!run_request(d, ro, hdr))
			break;
	}
	return 0;
}
