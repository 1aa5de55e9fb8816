// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_net_request.c: the network device model (launcher/devices/net.c)
 * on transmit and receive chains whose layout comes from the input.
 *
 * net.c's handlers are static and its only way in, net_add(), opens a
 * real tap, so this file includes net.c itself and builds its struct net
 * by hand, with the tap replaced by one end of a SOCK_SEQPACKET
 * socketpair: like a tap, it keeps frame boundaries, and the harness
 * holds the other end.  The device and its queues are fake_device.c's.
 *
 * Transmit: the model only checks lengths and hands the whole chain
 * (virtio-net header + frame) to writev(); the host kernel reads the
 * header.  What must hold:
 *
 *  - a chain with writable segments, or shorter than header + 14 bytes
 *    or longer than header + 1514, stops the device with a one-line
 *    message, and nothing reaches the tap;
 *  - otherwise the tap gets one frame: exactly the readable bytes, in
 *    order, so that after the header come exactly the frame's bytes; the
 *    chain is pushed with 0 bytes written and not a byte of it changes.
 *
 * Receive: a frame of the input's length (maybe none) waits on the tap,
 * and the model reads it into the guest's posted buffer.  What must hold:
 *
 *  - a buffer with readable segments, or too short for header + a full
 *    frame, stops the device; nothing is written;
 *  - what the tap gives lands at the buffer's start (as much as fits),
 *    and nothing else in the buffer or around it changes but, for a
 *    frame on split and packed, num_buffers (bytes 10-11), which reads 1;
 *  - no frame, or one shorter than the header: the buffer is held for
 *    the next, not pushed;
 *  - a frame: the length pushed is what landed, and the buffer goes.
 *
 * Input: one byte (bit 0: draft III, 10-byte header; else 12), then up to
 * 16 operations, each
 *
 *	transmit: u8 0 (even) | u8 readable count | u8 writable count |
 *		  u8 misc | u16 length code per segment
 *	receive:  u8 1 (odd)  | u8 writable count | u8 readable count |
 *		  u8 misc | u16 frame length | u16 length code per segment
 *
 * A count is taken modulo 8; a length code is 1 + code % 2048 bytes.  misc
 * bit 1: the push fails (a guest scribbling on its used ring).  A receive
 * with a buffer already held builds no chain: the held one is used.
 */
#include <sys/socket.h>

#include "common.h"
#include "fake_device.h"

/* The model under test, with its static functions and struct net. */
#include "devices/net.c"

#define ARENA_SIZE (64 << 10)
#define GAP	   16
#define MAX_OPS	   16
#define FRAME_MAX  4096

static struct device *dev;
static struct net *net;
static int tap_peer = -1; /* our end of the "tap" */

/* A chain and the arena its segments lie in. */
struct built {
	struct chain c;
	uint8_t arena[ARENA_SIZE + GAP];
	size_t used;
};

static struct built tx, rx;   /* rx may stay held by the model across operations */
static struct built *offered; /* what pop() hands out next, or NULL */
static unsigned int pushes;
static uint32_t pushed;
static bool push_fails;

static int pop(struct queue *q, struct chain *c)
{
	FUZZ_CHECK(q == &dev->queue[offered == &rx ? NET_RX : NET_TX] || !offered,
		   "popped queue %u", q->index);
	if (!offered)
		return 0;
	*c = offered->c;
	offered = NULL;
	return 1;
}

static bool push(struct queue *q, struct chain *c, uint32_t written)
{
	(void)q;
	pushes++;
	pushed = written;
	FUZZ_CHECK(written <= c->write_len, "pushed %u bytes written, the chain has %llu writable",
		   written, (unsigned long long)c->write_len);
	return !push_fails;
}

static int no_join(struct d3_dev *d, struct chain *c, uint64_t id)
{
	(void)d, (void)c, (void)id;
	fuzz_fail("the network device joined a block request");
}

/* @nread readable then @nwrite writable segments, each 1 + code % 2048 bytes, patterned. */
static void build(struct built *b, struct fuzz_input *in, unsigned int nread, unsigned int nwrite,
		  uint8_t salt)
{
	struct chain *c = &b->c;

	chain_reset(c);
	b->used = 0;
	for (unsigned int i = 0; i < nread + nwrite; i++) {
		uint32_t len = 1 + fuzz_u16(in) % 2048u;

		if (b->used + GAP + len > ARENA_SIZE)
			break;
		c->seg[i] = (struct iovec){ b->arena + b->used + GAP, len };
		b->used += GAP + len;
		if (i < nread) {
			c->nread++;
			c->read_len += len;
		} else {
			c->nwrite++;
			c->write_len += len;
		}
	}
	if (c->nread + c->nwrite == 0) { /* a ring never hands out an empty chain */
		c->seg[0] = (struct iovec){ b->arena + GAP, 1 };
		b->used = GAP + 1;
		c->nread = 1;
		c->read_len = 1;
	}
	c->ndesc = c->nread + c->nwrite;
	for (size_t i = 0; i < b->used + GAP; i++)
		b->arena[i] = (uint8_t)(salt + i * 29 + (i >> 8));
}

/* The @len bytes at offset 0 of the chain's segments seg[from, from + n), into @dst. */
static size_t gather(const struct chain *c, unsigned int from, unsigned int n, uint8_t *dst,
		     size_t len)
{
	size_t got = 0;

	for (unsigned int i = from; i < from + n && got < len; i++) {
		size_t k = c->seg[i].iov_len < len - got ? c->seg[i].iov_len : len - got;

		memcpy(dst + got, c->seg[i].iov_base, k);
		got += k;
	}
	return got;
}

static void check_failed(const char *what)
{
	FUZZ_CHECK(dev->broken && fake_fail_msg[0] && !strchr(fake_fail_msg, '\n'),
		   "%s: the device did not stop with a message (\"%s\")", what, fake_fail_msg);
	FUZZ_CHECK(pushes == 0, "%s: a refused chain was pushed", what);
}

/* Nothing may be waiting on the tap: the model sent nothing. */
static void check_tap_empty(const char *what)
{
	uint8_t b;

	FUZZ_CHECK(recv(tap_peer, &b, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
		   "%s: something reached the tap", what);
}

static bool transmit(struct fuzz_input *in)
{
	static uint8_t want[ARENA_SIZE], got[ARENA_SIZE + 1], before[ARENA_SIZE + GAP];
	unsigned int nread = fuzz_u8(in) % 8u, nwrite = fuzz_u8(in) % 8u;
	uint8_t misc = fuzz_u8(in);
	const struct chain *c = &tx.c;
	size_t len;
	ssize_t n;

	build(&tx, in, nread, nwrite, misc);
	memcpy(before, tx.arena, tx.used + GAP);
	push_fails = misc & 2;
	pushes = 0;
	offered = &tx;
	net_notify(dev);
	FUZZ_CHECK(!offered, "the transmit chain was never popped");
	FUZZ_CHECK(memcmp(before, tx.arena, tx.used + GAP) == 0, "transmit wrote to guest memory");
	if (c->nwrite || c->read_len < net->hdr_len + 14 ||
	    c->read_len > net->hdr_len + ETH_FRAME_MAX) {
		check_failed("transmit");
		check_tap_empty("a refused transmit chain");
		return false;
	}
	len = gather(c, 0, c->nread, want, c->read_len);
	n = recv(tap_peer, got, sizeof(got), MSG_DONTWAIT);
	FUZZ_CHECK(n == (ssize_t)len, "the tap got %zd bytes, the chain has %zu", n, len);
	FUZZ_CHECK(memcmp(got, want, net->hdr_len) == 0, "the tap got a different header");
	FUZZ_CHECK(memcmp(got + net->hdr_len, want + net->hdr_len, len - net->hdr_len) == 0,
		   "the tap got different frame bytes after the %u-byte header", net->hdr_len);
	check_tap_empty("after one transmitted frame");
	FUZZ_CHECK(pushes == 1 && pushed == 0, "transmit pushed %u times, %u bytes written", pushes,
		   pushed);
	FUZZ_CHECK(dev->broken == push_fails, "transmit: broken %d, push failed %d", dev->broken,
		   push_fails);
	return !dev->broken;
}

static bool receive(struct fuzz_input *in)
{
	static uint8_t frame[FRAME_MAX], expect[ARENA_SIZE + GAP];
	unsigned int nwrite = fuzz_u8(in) % 8u, nread = fuzz_u8(in) % 8u;
	uint8_t misc = fuzz_u8(in);
	size_t frame_len = fuzz_u16(in) % (FRAME_MAX + 1);
	bool held = net->rx_held;
	const struct chain *c = &rx.c;
	size_t got;

	/* A held buffer is the model's still: the input's chain is not built. */
	if (!held) {
		build(&rx, in, nread, nwrite, misc);
		offered = &rx;
	}
	for (size_t i = 0; i < frame_len; i++)
		frame[i] = (uint8_t)(misc ^ (i * 7) ^ (i >> 3));
	if (frame_len)
		FUZZ_CHECK(send(tap_peer, frame, frame_len, 0) == (ssize_t)frame_len,
			   "cannot queue a frame on the tap");
	memcpy(expect, rx.arena, rx.used + GAP);
	push_fails = misc & 2;
	pushes = 0;
	net_receive(dev);
	FUZZ_CHECK(!offered, "the receive buffer was never popped");
	if (!held && (c->nread || c->write_len < net->hdr_len + ETH_FRAME_MAX)) {
		check_failed("receive");
		FUZZ_CHECK(memcmp(expect, rx.arena, rx.used + GAP) == 0,
			   "a refused receive buffer was written");
		return false;
	}
	/*
	 * Where the frame lands: the writable segments, from byte 0, cut to
	 * the buffer as a tap cuts it; then num_buffers, if it is a frame.
	 */
	got = frame_len < c->write_len ? frame_len : c->write_len;
	{
		struct chain w = *c;

		for (unsigned int i = 0; i < w.nwrite; i++)
			w.seg[i].iov_base =
				expect + ((uint8_t *)c->seg[c->nread + i].iov_base - rx.arena);
		iov_from_buf(w.seg, w.nwrite, 0, frame, got, &(uint64_t){ 0 });
		if (got >= net->hdr_len && net->hdr_len == sizeof(struct virtio_net_hdr_v1))
			iov_from_buf(w.seg, w.nwrite,
				     offsetof(struct virtio_net_hdr_v1, num_buffers),
				     &(uint16_t){ 1 }, 2, &(uint64_t){ 0 });
	}
	FUZZ_CHECK(memcmp(expect, rx.arena, rx.used + GAP) == 0,
		   "the receive buffer does not hold the %zu-byte frame (and num_buffers) alone",
		   got);
	if (frame_len)
		check_tap_empty("after one frame was read");
	if (got < net->hdr_len) {
		/* No frame, or one too short to be one: the buffer waits for the next. */
		FUZZ_CHECK(pushes == 0 && net->rx_held && !dev->broken,
			   "receive without a frame: %u pushes, held %d", pushes, net->rx_held);
		return true;
	}
	FUZZ_CHECK(pushes == 1 && pushed == got, "receive pushed %u times, %u bytes, frame %zu",
		   pushes, pushed, got);
	FUZZ_CHECK(!net->rx_held, "a filled buffer is still held");
	FUZZ_CHECK(dev->broken == push_fails, "receive: broken %d, push failed %d", dev->broken,
		   push_fails);
	return !dev->broken;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct ring_opt ring = { .layout = LG_RING_SPLIT, .qsize = 256 };
	int sv[2];

	(void)argc;
	(void)argv;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	net = calloc(1, sizeof(*net));
	if (!net)
		fuzz_fail("out of memory");
	net->tap = sv[0];
	tap_peer = sv[1];
	snprintf(net->ifname, sizeof(net->ifname), "fuzztap");
	dev = device_add("net0", LG_DEV_NET, &net_ops, net, &ring, 2, net_queue_names);
	fake = (struct fake_hooks){ .pop = pop, .push = push, .join = no_join };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	uint8_t b;

	fuzz_input_init(&in, data, size);
	if (fuzz_u8(&in) & 1) {
		dev->ring.layout = LG_RING_DRAFT3;
		net->hdr_len = sizeof(struct virtio_net_hdr);
	} else {
		dev->ring.layout = LG_RING_SPLIT;
		net->hdr_len = sizeof(struct virtio_net_hdr_v1);
	}
	fake_device_restart(dev);
	net->rx_held = false;
	offered = NULL;
	while (recv(tap_peer, &b, 1, MSG_DONTWAIT) >= 0 || recv(net->tap, &b, 1, MSG_DONTWAIT) >= 0)
		; /* nothing left over from the last input */

	for (unsigned int i = 0; i < MAX_OPS && fuzz_left(&in); i++)
		if (!(fuzz_u8(&in) & 1 ? receive(&in) : transmit(&in)))
			break;
	return 0;
}
