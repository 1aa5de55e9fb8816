// SPDX-License-Identifier: GPL-2.0
/*
 * test_blk_inflight.c: the block model with requests in flight on the
 * host, through the fake device layer of the fuzz harnesses
 * (tests/fuzz/fake_device.c), so that we choose the chains and see every
 * push.
 *
 *  - A FLUSH completes after every write popped before it, whatever order
 *    the engine finishes them in.
 *  - A device that breaks while its reads are in flight waits for them
 *    (device_fail() calls the model's quiesce): once it returns, guest
 *    memory is never touched again.  The test takes a copy of the
 *    buffers right after, compares them again later (a late preadv would
 *    have changed them), and checks that nothing more is pushed.
 *  - Each engine returns the bytes of the image, sector for sector.
 */
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <liburing.h>

#include "devices/blk.h"
#include "../fuzz/fake_device.h"

#define NREQ	    32
#define READ_LEN    (1 << 20) /* a millisecond or so of preadv for four workers */
#define IMG_SIZE    ((off_t)NREQ * READ_LEN)
#define BAD_REQUEST 0xbad /* a chain with no room for its header */

struct req {
	struct virtio_blk_outhdr hdr;
	uint8_t status;
};

static struct {
	char path[64];
	struct req req[NREQ + 1];
	uint8_t *data; /* NREQ * READ_LEN, mapped on its own so it can go PROT_NONE */
	unsigned int npop, nchains;
	uint32_t pushed[NREQ + 1]; /* ids, in push order */
	unsigned int npushed;
	uint32_t written[NREQ + 1];
	uint32_t len; /* each request's data: READ_LEN unless a test says */
} t;

/* Chain i: the header, READ_LEN bytes of data (or none: FLUSH), the status byte. */
static int pop(struct queue *q, struct chain *c)
{
	struct req *r;

	(void)q;
	if (t.npop == t.nchains)
		return 0;
	r = &t.req[t.npop];
	chain_reset(c);
	if (r->hdr.type == BAD_REQUEST) {
		/* Four readable bytes: too short for any header, a rule broken. */
		c->seg[0] = (struct iovec){ &r->hdr, 4 };
		c->nread = 1;
		c->read_len = 4;
		c->ndesc = 1;
		c->id = t.npop++;
		return 1;
	}
	c->seg[0] = (struct iovec){ &r->hdr, sizeof(r->hdr) };
	c->nread = 1;
	c->read_len = sizeof(r->hdr);
	if (r->hdr.type != VIRTIO_BLK_T_FLUSH) {
		c->seg[1] = (struct iovec){ t.data + (size_t)t.npop * READ_LEN, t.len };
		if (r->hdr.type == VIRTIO_BLK_T_OUT) {
			c->nread++;
			c->read_len += t.len;
		} else {
			c->nwrite++;
			c->write_len += t.len;
		}
	}
	c->seg[c->nread + c->nwrite] = (struct iovec){ &r->status, 1 };
	c->nwrite++;
	c->write_len++;
	c->ndesc = c->nread + c->nwrite;
	c->id = t.npop++;
	return 1;
}

static bool push(struct queue *q, struct chain *c, uint32_t written)
{
	(void)q;
	t.written[c->id] = written;
	t.pushed[t.npushed++] = c->id;
	return true;
}

static void enter(void *dev, const char *name)
{
	(void)dev;
	(void)name;
}

static struct device *devs[16];
static unsigned int ndevs;

/* A device on a fresh 32 MiB image whose every byte says where it is. */
static struct device *setup(enum aio_kind aio)
{
	static const struct ring_opt ring = { .layout = LG_RING_SPLIT, .qsize = 256 };
	struct blk_settings set = { .aio = aio, .queues = 1 };
	uint32_t *word;
	struct device *dev;
	int fd;

	memset(&t, 0, sizeof(t));
	t.len = READ_LEN;
	snprintf(t.path, sizeof(t.path), "/tmp/test_blk_inflight.XXXXXX");
	fd = mkstemp(t.path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, IMG_SIZE), 0);
	word = mmap(NULL, IMG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(word != MAP_FAILED);
	for (size_t i = 0; i < IMG_SIZE / sizeof(*word); i++)
		word[i] = (uint32_t)i;
	munmap(word, IMG_SIZE);
	close(fd);
	t.data = mmap(NULL, (size_t)NREQ * READ_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t.data != MAP_FAILED);

	fake = (struct fake_hooks){ .pop = pop, .push = push };
	blk_add(t.path, false, &ring, &set);
	dev = fake_device;
	/*
	 * Devices live as long as the launcher does: nothing frees them (the
	 * pool's workers never end), so keep them where LeakSanitizer sees.
	 */
	assert_true(ndevs < sizeof(devs) / sizeof(devs[0]));
	devs[ndevs++] = dev;
	dev->queue[0].ready = true;
	dev->ops->start_helpers(dev, enter);
	return dev;
}

static void teardown(void)
{
	unlink(t.path);
}

static void want_reads(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		t.req[i] = (struct req){ .hdr = { .type = VIRTIO_BLK_T_IN,
						  .sector = (uint64_t)i * READ_LEN / 512 },
					 .status = 0xff };
	t.nchains = n;
}

/* Serve until every chain has come back (the device thread's loop, by hand). */
static void serve_all(struct device *dev)
{
	for (int spins = 0; t.npushed < t.nchains; spins++) {
		assert_true(spins < 100000);
		dev->ops->notify(dev);
		if (t.npushed < t.nchains)
			usleep(50);
	}
}

static void reads_return_the_image(enum aio_kind aio)
{
	struct device *dev = setup(aio);

	want_reads(NREQ);
	serve_all(dev);
	for (unsigned int i = 0; i < NREQ; i++) {
		const uint32_t *w = (const uint32_t *)(t.data + (size_t)i * READ_LEN);

		assert_int_equal(t.req[i].status, VIRTIO_BLK_S_OK);
		assert_int_equal(t.written[i], READ_LEN + 1);
		for (size_t k = 0; k < READ_LEN / 4; k += 997)
			assert_int_equal(w[k], (uint32_t)(i * READ_LEN / 4 + k));
	}
	assert_int_equal(dev->stats.bounce_bytes, 0);
	assert_int_equal(dev->stats.bytes_written, (uint64_t)NREQ * READ_LEN);
	teardown();
}

/* Where io_uring is off (kernel.io_uring_disabled, a container's filter) its tests skip. */
static void need_io_uring(void)
{
	struct io_uring ring;

	if (io_uring_queue_init(4, &ring, 0) < 0) {
		print_message("io_uring is not available here: skipped\n");
		skip();
	}
	io_uring_queue_exit(&ring);
}

static void reads_io_uring(void **state)
{
	(void)state;
	need_io_uring();
	reads_return_the_image(AIO_IO_URING);
}

static void reads_threads(void **state)
{
	(void)state;
	reads_return_the_image(AIO_THREADS);
}

static void reads_sync(void **state)
{
	(void)state;
	reads_return_the_image(AIO_SYNC);
}

/* Eight writes then a FLUSH, popped together: the FLUSH comes back last. */
static void flush_after_its_writes(enum aio_kind aio)
{
	struct device *dev = setup(aio);

	for (unsigned int i = 0; i < 8; i++) {
		memset(t.data + (size_t)i * READ_LEN, 0x40 + i, READ_LEN);
		t.req[i] = (struct req){ .hdr = { .type = VIRTIO_BLK_T_OUT,
						  .sector = (uint64_t)i * READ_LEN / 512 },
					 .status = 0xff };
	}
	t.req[8] = (struct req){ .hdr = { .type = VIRTIO_BLK_T_FLUSH }, .status = 0xff };
	t.nchains = 9;
	serve_all(dev);
	assert_int_equal(t.npushed, 9);
	assert_int_equal(t.pushed[8], 8); /* the FLUSH */
	for (unsigned int i = 0; i < 9; i++)
		assert_int_equal(t.req[i].status, VIRTIO_BLK_S_OK);
	/* And the writes are on the image. */
	{
		int fd = open(t.path, O_RDONLY);
		uint8_t b;

		assert_true(fd >= 0);
		for (unsigned int i = 0; i < 8; i++) {
			assert_int_equal(pread(fd, &b, 1, (off_t)i * READ_LEN + 4095), 1);
			assert_int_equal(b, 0x40 + i);
		}
		close(fd);
	}
	teardown();
}

static void flush_threads(void **state)
{
	(void)state;
	flush_after_its_writes(AIO_THREADS);
}

static void flush_io_uring(void **state)
{
	(void)state;
	need_io_uring();
	flush_after_its_writes(AIO_IO_URING);
}

/*
 * Reads in flight on the worker pool, then the device breaks: when
 * device_fail() returns, no worker may write guest memory again, and no
 * chain comes back.
 */
static void fail_with_reads_in_flight(void **state)
{
	struct device *dev = setup(AIO_THREADS);
	unsigned int pushed;
	uint8_t *snap;

	(void)state;
	want_reads(NREQ);
	dev->ops->notify(dev);
	pushed = t.npushed;
	device_fail(dev, "the test broke it");
	/*
	 * Most of 32 MiB of reads cannot have finished in the time the
	 * notify took; if they all did, the test proved nothing.
	 */
	assert_true(pushed < NREQ);
	/* What guest memory holds now is what it holds for good. */
	snap = malloc((size_t)NREQ * READ_LEN);
	assert_non_null(snap);
	memcpy(snap, t.data, (size_t)NREQ * READ_LEN);
	usleep(20000);
	assert_memory_equal(snap, t.data, (size_t)NREQ * READ_LEN);
	assert_int_equal(t.npushed, pushed);
	free(snap);
	teardown();
}

/*
 * Reads queued for the engine and not yet sent, then a chain that breaks
 * a rule in the same batch: the device fails halfway, and its drain must
 * send what it queued before it waits for it (else it waits for ever).
 */
static void fail_halfway_through_a_batch(enum aio_kind aio)
{
	struct device *dev = setup(aio);

	/* Passes of 1, 2, then 4: the last read and the bad one share a pass. */
	want_reads(4);
	t.len = 4096;
	t.req[4] = (struct req){ .hdr = { .type = BAD_REQUEST } };
	t.nchains = 5;
	alarm(10); /* a drain that waits for ever fails the test */
	dev->ops->notify(dev);
	alarm(0);
	assert_true(dev->broken);
	assert_int_equal(t.npop, 5);
	assert_true(t.npushed < 4); /* the reads popped with the bad one never went back */
	teardown();
}

static void fail_halfway_threads(void **state)
{
	(void)state;
	fail_halfway_through_a_batch(AIO_THREADS);
}

static void fail_halfway_io_uring(void **state)
{
	(void)state;
	need_io_uring();
	fail_halfway_through_a_batch(AIO_IO_URING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_io_uring),	cmocka_unit_test(reads_threads),
		cmocka_unit_test(reads_sync),		cmocka_unit_test(flush_threads),
		cmocka_unit_test(flush_io_uring),	cmocka_unit_test(fail_with_reads_in_flight),
		cmocka_unit_test(fail_halfway_threads), cmocka_unit_test(fail_halfway_io_uring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
