// SPDX-License-Identifier: GPL-2.0
/*
 * vhost/user.c: the vhost-user transport (see vhost.h): the frontend's
 * side of a connection to a backend in another process, each step of the
 * sequence one message (vhost_user/proto.h) on its UNIX socket:
 *
 *   connect:  GET_FEATURES, [GET_/SET_PROTOCOL_FEATURES]; then the
 *             sequence's SET_OWNER
 *   config:   GET_CONFIG (needs the CONFIG protocol feature)
 *   rings:    SET_VRING_NUM, _ADDR, _BASE, _ERR, _KICK, _CALL, and _ENABLE
 *             if protocol features were negotiated (rings then start
 *             disabled)
 *
 * Requests go out one at a time from the vCPU thread; each reply, and
 * with REPLY_ACK each acknowledgement, is awaited with a deadline
 * (VU_TIMEOUT_MS).  With REPLY_ACK every request that has no reply of its
 * own asks for an acknowledgement, so a backend that refuses, say, our
 * memory table says so at once instead of failing silently later.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lg_virtio.h"
#include "vhost/vhost.h"
#include "vhost_user/proto.h"

#define VU_TIMEOUT_MS 5000 /* for any one reply */

/* What we speak of the protocol features a backend may offer. */
#define OUR_PROTOCOL_FEATURES (1ULL << VU_PROTOCOL_F_REPLY_ACK | 1ULL << VU_PROTOCOL_F_CONFIG)

static bool speaks(const struct vhost_dev *vd, unsigned int bit)
{
	return vd->protocol_features & (1ULL << bit);
}

/*
 * Send @m; if @reply, receive the answer into it.  A request without an
 * answer of its own is acknowledged under REPLY_ACK, and a nonzero
 * acknowledgement is a refusal.
 */
static bool call(struct vhost_dev *vd, struct vu_msg *m, bool reply)
{
	uint32_t request = m->hdr.request;
	bool ack = !reply && speaks(vd, VU_PROTOCOL_F_REPLY_ACK);
	char buf[24], why[200];
	const char *name = vu_request_name(request, buf, sizeof(buf));

	if (vd->fd < 0)
		return vhost_fail(vd, "%s: the backend went away earlier", name);
	m->hdr.flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	if (vu_send(vd->fd, m, VU_TIMEOUT_MS, why, sizeof(why)) < 0)
		return vhost_fail(vd, "%s: %s", name, why);
	if (!reply && !ack)
		return true;
	switch (vu_recv(vd->fd, m, VU_TIMEOUT_MS, why, sizeof(why))) {
	case 0:
		return vhost_fail(vd, "%s: the backend closed the connection", name);
	case -1:
		return vhost_fail(vd, "%s: bad reply: %s", name, why);
	}
	vu_close_fds(m); /* no reply we ask for carries fds */
	if (!(m->hdr.flags & VU_FLAG_REPLY) || m->hdr.request != request)
		return vhost_fail(vd,
				  "%s: the backend answered with another message (request %u, "
				  "flags %#x)",
				  name, m->hdr.request, m->hdr.flags);
	if (ack && m->p.u64)
		return vhost_fail(vd, "%s: the backend refused it (status %llu)", name,
				  (unsigned long long)m->p.u64);
	return true;
}

static bool get_u64(struct vhost_dev *vd, uint32_t request, uint64_t *v)
{
	struct vu_msg m = { .hdr = { request, 0, 0 } };

	if (!call(vd, &m, true))
		return false;
	*v = m.p.u64;
	return true;
}

static bool set_u64(struct vhost_dev *vd, uint32_t request, uint64_t v, int fd)
{
	struct vu_msg m = { .hdr = { request, 0, 8 }, .p.u64 = v };

	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	return call(vd, &m, false);
}

static bool set_state(struct vhost_dev *vd, uint32_t request, unsigned int index, unsigned int num)
{
	struct vu_msg m = { .hdr = { request, 0, sizeof(struct vhost_vring_state) },
			    .p.state = { index, num } };

	return call(vd, &m, false);
}

/* The socket, and what the backend offers (vd->features), before anything else. */
static bool user_connect(struct vhost_dev *vd, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	uint64_t offered;

	if (strlen(path) >= sizeof(addr.sun_path))
		return vhost_fail(vd, "socket path too long");
	strcpy(addr.sun_path, path);
	vd->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vd->fd < 0)
		return vhost_fail(vd, "socket: %s", strerror(errno));
	if (connect(vd->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return vhost_fail(vd, "cannot connect: %s", strerror(errno));
	if (!get_u64(vd, VU_GET_FEATURES, &vd->features))
		return false;
	if (vd->features & (1ULL << VU_F_PROTOCOL_FEATURES)) {
		if (!get_u64(vd, VU_GET_PROTOCOL_FEATURES, &offered))
			return false;
		/* Set before it takes effect: SET_PROTOCOL_FEATURES itself is never acked. */
		if (!set_u64(vd, VU_SET_PROTOCOL_FEATURES, offered & OUR_PROTOCOL_FEATURES, -1))
			return false;
		vd->protocol_features = offered & OUR_PROTOCOL_FEATURES;
	}
	return true;
}

static bool user_set_owner(struct vhost_dev *vd)
{
	struct vu_msg m = { .hdr = { VU_SET_OWNER, 0, 0 } };

	return call(vd, &m, false);
}

/* Asked once, on connect: protocol features hang on the answer. */
static bool user_get_features(struct vhost_dev *vd, uint64_t *features)
{
	*features = vd->features;
	return true;
}

static bool user_set_features(struct vhost_dev *vd, uint64_t acked)
{
	return set_u64(vd, VU_SET_FEATURES,
		       acked | (vd->features & (1ULL << VU_F_PROTOCOL_FEATURES)), -1);
}

static bool user_set_mem_table(struct vhost_dev *vd, const struct guest_mem *mem)
{
	struct vu_msg m = { .hdr = { VU_SET_MEM_TABLE, 0, 8 + sizeof(struct vu_mem_region) } };

	/* All of guest RAM is one region: the memfd, mapped at mem->base here. */
	m.p.memory.nregions = 1;
	m.p.memory.regions[0] =
		(struct vu_mem_region){ 0, mem->size, (uint64_t)(uintptr_t)mem->base, 0 };
	m.fds[0] = mem->fd;
	m.nfds = 1;
	return call(vd, &m, false);
}

static bool user_set_vring_num(struct vhost_dev *vd, unsigned int index, unsigned int num)
{
	return set_state(vd, VU_SET_VRING_NUM, index, num);
}

static bool user_set_vring_addr(struct vhost_dev *vd, const struct vhost_vring_addr *addr)
{
	struct vu_msg m = { .hdr = { VU_SET_VRING_ADDR, 0, sizeof(*addr) }, .p.addr = *addr };

	return call(vd, &m, false);
}

static bool user_set_vring_base(struct vhost_dev *vd, unsigned int index, unsigned int base)
{
	return set_state(vd, VU_SET_VRING_BASE, index, base);
}

static bool user_get_vring_base(struct vhost_dev *vd, unsigned int index, unsigned int *base)
{
	struct vu_msg m = { .hdr = { VU_GET_VRING_BASE, 0, sizeof(struct vhost_vring_state) },
			    .p.state = { index, 0 } };

	if (!call(vd, &m, true))
		return false;
	*base = m.p.state.num;
	return true;
}

static bool user_set_vring_fd(struct vhost_dev *vd, enum vhost_ring_fd which, unsigned int index,
			      int fd)
{
	static const uint32_t request[] = {
		[VHOST_RING_KICK] = VU_SET_VRING_KICK,
		[VHOST_RING_CALL] = VU_SET_VRING_CALL,
		[VHOST_RING_ERR] = VU_SET_VRING_ERR,
	};

	return set_u64(vd, request[which], index, fd);
}

/* Rings start disabled only where protocol features were negotiated. */
static bool user_set_vring_enable(struct vhost_dev *vd, unsigned int index, bool enable)
{
	if (!(vd->features & (1ULL << VU_F_PROTOCOL_FEATURES)))
		return true;
	return set_state(vd, VU_SET_VRING_ENABLE, index, enable);
}

/* GET_CONFIG: @size bytes of the device's config space (at most 60 from some backends). */
static bool user_get_config(struct vhost_dev *vd, void *buf, uint32_t size)
{
	struct vu_msg m = { .hdr = { VU_GET_CONFIG, 0, 12 + size }, .p.config = { 0, size, 0 } };

	if (!speaks(vd, VU_PROTOCOL_F_CONFIG))
		return vhost_fail(vd, "the backend does not offer its config space (no CONFIG "
				      "protocol feature)");
	if (!call(vd, &m, true))
		return false;
	if (m.p.config.offset != 0 || m.p.config.size != size)
		return vhost_fail(vd, "GET_CONFIG: asked for %u bytes at 0, got %u at %u", size,
				  m.p.config.size, m.p.config.offset);
	memcpy(buf, m.p.config.region, size);
	return true;
}

const struct vhost_ops vhost_user_ops = {
	.name = "vhost-user",
	.connect = user_connect,
	.set_owner = user_set_owner,
	.get_features = user_get_features,
	.set_features = user_set_features,
	.set_mem_table = user_set_mem_table,
	.set_vring_num = user_set_vring_num,
	.set_vring_addr = user_set_vring_addr,
	.set_vring_base = user_set_vring_base,
	.get_vring_base = user_get_vring_base,
	.set_vring_fd = user_set_vring_fd,
	.set_vring_enable = user_set_vring_enable,
	.get_config = user_get_config,
	.packed_base_has_used = true,
};
