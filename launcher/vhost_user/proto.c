// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_user/proto.c: framing, sending and receiving vhost-user messages
 * (see proto.h), with every peer-controlled value checked.
 *
 * The socket is a byte stream, so a message may arrive in pieces; the fds
 * travel with the first byte of the message they belong to.  We read the
 * header with recvmsg() (taking any fds), then the payload, each under
 * the caller's deadline and without ever blocking past it (MSG_DONTWAIT
 * after poll()).  A header we cannot trust (wrong version, a size larger
 * than any payload) leaves the stream out of step for good: the caller
 * must drop the connection, and every fd that came is closed here.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user/proto.h"

#define CONFIG_HDR offsetof(struct vu_config, region)
#define MEMORY_HDR offsetof(struct vu_memory, regions)

static const char *const names[VU_NR_REQUESTS] = {
	[VU_GET_FEATURES] = "GET_FEATURES",
	[VU_SET_FEATURES] = "SET_FEATURES",
	[VU_SET_OWNER] = "SET_OWNER",
	[VU_RESET_OWNER] = "RESET_OWNER",
	[VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VU_SET_LOG_BASE] = "SET_LOG_BASE",
	[VU_SET_LOG_FD] = "SET_LOG_FD",
	[VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VU_GET_CONFIG] = "GET_CONFIG",
	[VU_SET_CONFIG] = "SET_CONFIG",
	[VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
};

const char *vu_request_name(uint32_t request, char *buf, size_t size)
{
	if (request < VU_NR_REQUESTS && names[request])
		return names[request];
	snprintf(buf, size, "request %u", request);
	return buf;
}

__attribute__((format(printf, 3, 4))) static bool say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return false;
}

/*
 * What each request carries: the payload size of the request itself and
 * of its reply (-1: it has none; a SET_* with NEED_REPLY is answered with
 * a u64 whatever the table says).  Memory tables and config spaces carry
 * a count, checked below.
 */
enum { NONE = -1, MEMORY = -2, CONFIG = -3 };

static const struct {
	int request, reply;
} sizes[VU_NR_REQUESTS] = {
	[VU_GET_FEATURES] = { 0, 8 },
	[VU_SET_FEATURES] = { 8, NONE },
	[VU_SET_OWNER] = { 0, NONE },
	[VU_RESET_OWNER] = { 0, NONE },
	[VU_SET_MEM_TABLE] = { MEMORY, NONE },
	[VU_SET_VRING_NUM] = { sizeof(struct vhost_vring_state), NONE },
	[VU_SET_VRING_ADDR] = { sizeof(struct vhost_vring_addr), NONE },
	[VU_SET_VRING_BASE] = { sizeof(struct vhost_vring_state), NONE },
	[VU_GET_VRING_BASE] = { sizeof(struct vhost_vring_state),
				sizeof(struct vhost_vring_state) },
	[VU_SET_VRING_KICK] = { 8, NONE },
	[VU_SET_VRING_CALL] = { 8, NONE },
	[VU_SET_VRING_ERR] = { 8, NONE },
	[VU_GET_PROTOCOL_FEATURES] = { 0, 8 },
	[VU_SET_PROTOCOL_FEATURES] = { 8, NONE },
	[VU_GET_QUEUE_NUM] = { 0, 8 },
	[VU_SET_VRING_ENABLE] = { sizeof(struct vhost_vring_state), NONE },
	[VU_GET_CONFIG] = { CONFIG, CONFIG },
	[VU_SET_CONFIG] = { CONFIG, NONE },
	[VU_GET_MAX_MEM_SLOTS] = { 0, 8 },
};

bool vu_size_ok(uint32_t request, bool reply, uint32_t size, const union vu_payload *p, char *why,
		size_t why_size)
{
	char buf[24];
	const char *name = vu_request_name(request, buf, sizeof(buf));
	int want;

	if (request >= VU_NR_REQUESTS || !names[request])
		return say(why, why_size, "unknown %s (%u bytes)", name, size);
	want = reply ? sizes[request].reply : sizes[request].request;
	if (reply && want == NONE)
		want = 8; /* the REPLY_ACK answer */
	switch (want) {
	case MEMORY:
		if (size < MEMORY_HDR)
			return say(why, why_size, "%s of %u bytes: shorter than its header", name,
				   size);
		if (p->memory.nregions < 1 || p->memory.nregions > VU_MAX_FDS)
			return say(why, why_size, "%s with %u regions (1 to %u)", name,
				   p->memory.nregions, VU_MAX_FDS);
		want = MEMORY_HDR + p->memory.nregions * sizeof(struct vu_mem_region);
		break;
	case CONFIG:
		if (size < CONFIG_HDR)
			return say(why, why_size, "%s of %u bytes: shorter than its header", name,
				   size);
		if (p->config.size > VU_MAX_CONFIG)
			return say(why, why_size, "%s of %u config bytes (at most %u)", name,
				   p->config.size, VU_MAX_CONFIG);
		want = CONFIG_HDR + p->config.size;
		break;
	default:
		break;
	}
	if (size != (uint32_t)want)
		return say(why, why_size, "%s%s of %u bytes, expected %d", name,
			   reply ? " reply" : "", size, want);
	return true;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait for @events on @sock until @deadline; 0, or -1 with a reason. */
static int wait_for(int sock, short events, int64_t deadline, char *why, size_t why_size)
{
	struct pollfd pfd = { sock, events, 0 };

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return say(why, why_size, "timed out"), -1;
		if (errno != EINTR)
			return say(why, why_size, "poll: %s", strerror(errno)), -1;
	}
}

int vu_send(int sock, const struct vu_msg *m, int timeout_ms, char *why, size_t why_size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct {
		struct vu_header hdr;
		union vu_payload p;
	} __attribute__((packed)) wire;
	size_t len = sizeof(wire.hdr) + m->hdr.size, sent = 0;
	int64_t deadline = now_ms() + timeout_ms;

	if (m->hdr.size > sizeof(wire.p) || m->nfds > VU_MAX_FDS)
		return say(why, why_size, "message too large to send"), -1;
	wire.hdr = m->hdr;
	memcpy(&wire.p, &m->p, m->hdr.size);
	while (sent < len) {
		struct iovec iov = { (char *)&wire + sent, len - sent };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		/* The fds go with the first byte, and only once. */
		if (!sent && m->nfds) {
			struct cmsghdr *c;

			memset(&control, 0, sizeof(control));
			mh.msg_control = control.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * m->nfds);
			memcpy(CMSG_DATA(c), m->fds, sizeof(int) * m->nfds);
		}
		n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_for(sock, POLLOUT, deadline, why, why_size) < 0)
				return -1;
			continue;
		}
		return say(why, why_size, "send: %s", n < 0 ? strerror(errno) : "nothing sent"), -1;
	}
	return 0;
}

void vu_close_fds(struct vu_msg *m)
{
	for (unsigned int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* Take the fds of one control message; false if there were too many. */
static bool take_fds(struct vu_msg *m, struct msghdr *mh)
{
	bool ok = !(mh->msg_flags & MSG_CTRUNC);

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (m->nfds < VU_MAX_FDS)
				m->fds[m->nfds++] = fd;
			else {
				close(fd);
				ok = false;
			}
		}
	}
	return ok;
}

/*
 * Read exactly @len bytes into @buf by @deadline (fds, if any, into @m).
 * 1 done, 0 end of stream before the first byte, -1 error.
 */
static int read_exact(int sock, struct vu_msg *m, void *buf, size_t len, int64_t deadline,
		      char *why, size_t why_size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr align;
	} control;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n > 0) {
			if (!take_fds(m, &mh))
				return say(why, why_size, "more than %u file descriptors",
					   VU_MAX_FDS),
				       -1;
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return got || m->nfds
				       ? (say(why, why_size, "the peer closed mid-message"), -1)
				       : 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return say(why, why_size, "receive: %s", strerror(errno)), -1;
		if (wait_for(sock, POLLIN, deadline, why, why_size) < 0)
			return -1;
	}
	return 1;
}

int vu_recv(int sock, struct vu_msg *m, int timeout_ms, char *why, size_t why_size)
{
	int64_t deadline = now_ms() + timeout_ms;
	int r;

	m->nfds = 0;
	r = read_exact(sock, m, &m->hdr, sizeof(m->hdr), deadline, why, why_size);
	if (r <= 0)
		goto fail;
	r = -1;
	if ((m->hdr.flags & VU_VERSION_MASK) != VU_VERSION) {
		say(why, why_size, "version %u, not %u (flags %#x)", m->hdr.flags & VU_VERSION_MASK,
		    VU_VERSION, m->hdr.flags);
		goto fail;
	}
	if (m->hdr.size > sizeof(m->p)) {
		say(why, why_size, "a payload of %u bytes (at most %zu)", m->hdr.size,
		    sizeof(m->p));
		goto fail;
	}
	memset(&m->p, 0, sizeof(m->p));
	if (m->hdr.size) {
		int got = read_exact(sock, m, &m->p, m->hdr.size, deadline, why, why_size);

		if (got == 0)
			say(why, why_size, "the peer closed mid-message");
		if (got <= 0)
			goto fail;
	}
	if (!vu_size_ok(m->hdr.request, m->hdr.flags & VU_FLAG_REPLY, m->hdr.size, &m->p, why,
			why_size))
		goto fail;
	return 1;
fail:
	vu_close_fds(m);
	return r;
}
