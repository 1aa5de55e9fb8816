// SPDX-License-Identifier: GPL-2.0
/* vu_stream.c: a fuzz input as a vhost-user frontend's sends (see vu_stream.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vu_stream.h"

static int pool[VU_STREAM_KINDS];
static const off_t memfd_size[] = {
	[VU_STREAM_MEMFD_64K] = 64 << 10,
	[VU_STREAM_MEMFD_2M] = 2 << 20,
	[VU_STREAM_MEMFD_0] = 0,
	[VU_STREAM_MEMFD_ODD] = 4096 + 100,
};

static int memfd_of(off_t size)
{
	int fd = memfd_create("fuzz_vu", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size) < 0)
		fuzz_fail("memfd: %s", strerror(errno));
	return fd;
}

void vu_stream_init(void)
{
	int p[2];

	for (int i = 0; i <= VU_STREAM_MEMFD_ODD; i++)
		pool[i] = memfd_of(memfd_size[i]);
	pool[VU_STREAM_EVENTFD] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pipe2(p, O_CLOEXEC) < 0)
		fuzz_fail("pipe: %s", strerror(errno));
	pool[VU_STREAM_PIPE] = p[0];
	pool[VU_STREAM_OPATH] = open("/", O_PATH | O_CLOEXEC);
	pool[VU_STREAM_DEVNULL] = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < VU_STREAM_KINDS; i++)
		if (pool[i] < 0)
			fuzz_fail("cannot make fd kind %d: %s", i, strerror(errno));
}

/* One sendmsg(): false if the socket is full (the rest of the input is dropped). */
static bool send_one(int sock, const uint8_t *buf, size_t len, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	/* A stream socket sends fds only with at least one byte. */
	if (nfds && len) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (len) {
		ssize_t n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return false;
		/* The fds went with the first piece. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		iov.iov_base = (uint8_t *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		len -= (size_t)n;
	}
	return true;
}

/* Zeros in every memfd (the last input's mappings are gone), 0 in the eventfd. */
static void reset_pool(void)
{
	uint64_t count;

	for (int i = 0; i <= VU_STREAM_MEMFD_ODD; i++)
		if (ftruncate(pool[i], 0) < 0 || ftruncate(pool[i], memfd_size[i]) < 0)
			fuzz_fail("cannot clear a memfd: %s", strerror(errno));
	if (read(pool[VU_STREAM_EVENTFD], &count, sizeof(count)) < 0 && errno != EAGAIN)
		fuzz_fail("cannot clear the eventfd: %s", strerror(errno));
}

static void poke(struct fuzz_input *in)
{
	off_t off = fuzz_u16(in) % memfd_size[VU_STREAM_MEMFD_64K];
	size_t len = fuzz_u16(in);

	if (len > fuzz_left(in))
		len = fuzz_left(in);
	if (len > (size_t)(memfd_size[VU_STREAM_MEMFD_64K] - off))
		len = (size_t)(memfd_size[VU_STREAM_MEMFD_64K] - off);
	if (pwrite(pool[VU_STREAM_MEMFD_64K], in->data + in->pos, len, off) != (ssize_t)len)
		fuzz_fail("cannot poke guest memory: %s", strerror(errno));
	in->pos += len;
}

void vu_stream_kick(void)
{
	uint64_t one = 1;

	if (write(pool[VU_STREAM_EVENTFD], &one, sizeof(one)) != sizeof(one))
		fuzz_fail("cannot write the eventfd: %s", strerror(errno));
}

void vu_stream_open(struct fuzz_input *in, int *sock, int *peer)
{
	int sv[2];

	reset_pool();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	for (unsigned int i = 0; i < VU_STREAM_MAX_SENDS && fuzz_left(in); i++) {
		uint8_t control = fuzz_u8(in);
		unsigned int nfds = control & 15;
		int fds[16];
		size_t len;

		if (control & VU_STREAM_POKE) {
			poke(in);
			continue;
		}
		for (unsigned int j = 0; j < nfds; j++)
			fds[j] = pool[fuzz_u8(in) % VU_STREAM_KINDS];
		len = fuzz_u16(in);
		if (len > fuzz_left(in))
			len = fuzz_left(in);
		if (!send_one(sv[1], in->data + in->pos, len, fds, nfds))
			break;
		in->pos += len;
	}
	shutdown(sv[1], SHUT_WR);
	*sock = sv[0];
	*peer = sv[1];
}

void vu_fds_snapshot(struct vu_fdset *s)
{
	const unsigned int per = 8 * sizeof(s->bits[0]);

	memset(s, 0, sizeof(*s));
	for (int fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			s->bits[fd / per] |= 1UL << (fd % per);
}

void vu_fds_check(const struct vu_fdset *before, const char *when)
{
	const unsigned int per = 8 * sizeof(before->bits[0]);
	struct vu_fdset now;

	vu_fds_snapshot(&now);
	for (int fd = 0; fd < 256; fd++) {
		bool was = before->bits[fd / per] & (1UL << (fd % per));
		bool is = now.bits[fd / per] & (1UL << (fd % per));

		FUZZ_CHECK(was == is, "%s: fd %d %s", when, fd,
			   is ? "leaked (open now, closed before)" : "closed, but it was not ours");
	}
}
