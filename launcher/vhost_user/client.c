// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_user/client.c: the frontend's requests (see client.h), in the
 * order vhost-user.rst prescribes:
 *
 *   connect:  GET_FEATURES, [GET_/SET_PROTOCOL_FEATURES], SET_OWNER
 *   config:   GET_CONFIG (needs the CONFIG protocol feature)
 *   start:    SET_FEATURES, SET_MEM_TABLE, then per ring SET_VRING_NUM,
 *             _ADDR, _BASE, _ERR, _KICK, _CALL, and _ENABLE if protocol
 *             features were negotiated (rings then start disabled)
 *   stop:     GET_VRING_BASE
 *
 * With REPLY_ACK every request that has no reply of its own asks for an
 * acknowledgement, so a backend that refuses, say, our memory table says
 * so at once instead of failing silently later.  Ring addresses go over
 * as addresses in our address space (the backend translates them through
 * the memory table), checked against guest RAM first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lg_virtio.h"
#include "vhost_user/client.h"
#include "vhost_user/proto.h"

/* What we speak of the protocol features a backend may offer. */
#define OUR_PROTOCOL_FEATURES (1ULL << VU_PROTOCOL_F_REPLY_ACK | 1ULL << VU_PROTOCOL_F_CONFIG)

__attribute__((format(printf, 2, 3))) static bool fail(struct vu_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return false;
}

static bool speaks(const struct vu_client *c, unsigned int bit)
{
	return c->protocol_features & (1ULL << bit);
}

/*
 * Send @m; if @reply, receive the answer into it.  A request without an
 * answer of its own is acknowledged under REPLY_ACK, and a nonzero
 * acknowledgement is a refusal.
 */
static bool call(struct vu_client *c, struct vu_msg *m, bool reply)
{
	uint32_t request = m->hdr.request;
	bool ack = !reply && speaks(c, VU_PROTOCOL_F_REPLY_ACK);
	char buf[24], why[200];
	const char *name = vu_request_name(request, buf, sizeof(buf));

	if (c->sock < 0)
		return fail(c, "%s: the backend went away earlier", name);
	m->hdr.flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	if (vu_send(c->sock, m, VU_CLIENT_TIMEOUT_MS, why, sizeof(why)) < 0)
		return fail(c, "%s: %s", name, why);
	if (!reply && !ack)
		return true;
	switch (vu_recv(c->sock, m, VU_CLIENT_TIMEOUT_MS, why, sizeof(why))) {
	case 0:
		return fail(c, "%s: the backend closed the connection", name);
	case -1:
		return fail(c, "%s: bad reply: %s", name, why);
	}
	vu_close_fds(m); /* no reply we ask for carries fds */
	if (!(m->hdr.flags & VU_FLAG_REPLY) || m->hdr.request != request)
		return fail(c,
			    "%s: the backend answered with another message (request %u, "
			    "flags %#x)",
			    name, m->hdr.request, m->hdr.flags);
	if (ack && m->p.u64)
		return fail(c, "%s: the backend refused it (status %llu)", name,
			    (unsigned long long)m->p.u64);
	return true;
}

static bool get_u64(struct vu_client *c, uint32_t request, uint64_t *v)
{
	struct vu_msg m = { .hdr = { request, 0, 0 } };

	if (!call(c, &m, true))
		return false;
	*v = m.p.u64;
	return true;
}

static bool set_u64(struct vu_client *c, uint32_t request, uint64_t v, int fd)
{
	struct vu_msg m = { .hdr = { request, 0, 8 }, .p.u64 = v };

	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	return call(c, &m, false);
}

static bool send_plain(struct vu_client *c, uint32_t request)
{
	struct vu_msg m = { .hdr = { request, 0, 0 } };

	return call(c, &m, false);
}

static bool set_state(struct vu_client *c, uint32_t request, unsigned int index, unsigned int num)
{
	struct vu_msg m = { .hdr = { request, 0, sizeof(struct vhost_vring_state) },
			    .p.state = { index, num } };

	return call(c, &m, false);
}

bool vu_client_connect(struct vu_client *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	uint64_t offered;

	*c = (struct vu_client){ .sock = -1, .path = path };
	if (strlen(path) >= sizeof(addr.sun_path))
		return fail(c, "socket path too long");
	strcpy(addr.sun_path, path);
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return fail(c, "socket: %s", strerror(errno));
	if (connect(c->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return fail(c, "cannot connect: %s", strerror(errno));
	if (!get_u64(c, VU_GET_FEATURES, &c->features))
		return false;
	if (c->features & (1ULL << VU_F_PROTOCOL_FEATURES)) {
		if (!get_u64(c, VU_GET_PROTOCOL_FEATURES, &offered))
			return false;
		/* Set before it takes effect: SET_PROTOCOL_FEATURES itself is never acked. */
		if (!set_u64(c, VU_SET_PROTOCOL_FEATURES, offered & OUR_PROTOCOL_FEATURES, -1))
			return false;
		c->protocol_features = offered & OUR_PROTOCOL_FEATURES;
	}
	return send_plain(c, VU_SET_OWNER);
}

bool vu_client_get_config(struct vu_client *c, void *buf, uint32_t size)
{
	struct vu_msg m = { .hdr = { VU_GET_CONFIG, 0, 12 + size }, .p.config = { 0, size, 0 } };

	if (!speaks(c, VU_PROTOCOL_F_CONFIG))
		return fail(c, "the backend does not offer its config space (no CONFIG "
			       "protocol feature)");
	if (!call(c, &m, true))
		return false;
	if (m.p.config.offset != 0 || m.p.config.size != size)
		return fail(c, "GET_CONFIG: asked for %u bytes at 0, got %u at %u", size,
			    m.p.config.size, m.p.config.offset);
	memcpy(buf, m.p.config.region, size);
	return true;
}

/* Our address of guest-physical @gpa, @len bytes of it inside guest RAM. */
static bool user_addr(struct vu_client *c, const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		      const char *what, __u64 *addr)
{
	void *p = guest_ptr(mem, gpa, len);

	if (!p)
		return fail(c, "ring %s at %#llx (%llu bytes) is outside guest RAM", what,
			    (unsigned long long)gpa, (unsigned long long)len);
	*addr = (uint64_t)(uintptr_t)p;
	return true;
}

static bool start_ring(struct vu_client *c, const struct guest_mem *mem, const struct vu_ring *r)
{
	struct vu_msg m = { .hdr = { VU_SET_VRING_ADDR, 0, sizeof(struct vhost_vring_addr) } };
	struct vhost_vring_addr *a = &m.p.addr;
	uint64_t desc_len = 16ULL * r->num;
	uint64_t drv_len = r->packed ? 4 : 6 + 2ULL * r->num;
	uint64_t dev_len = r->packed ? 4 : 6 + 8ULL * r->num;

	a->index = r->index;
	if (!user_addr(c, mem, r->desc, desc_len, "descriptors", &a->desc_user_addr) ||
	    !user_addr(c, mem, r->driver, drv_len, "driver area", &a->avail_user_addr) ||
	    !user_addr(c, mem, r->device, dev_len, "device area", &a->used_user_addr))
		return false;
	/*
	 * A packed ring starts at slot 0 with wrap counter 1 (bit 15), for
	 * the driver's side and (bits 16-31, as QEMU sends it) the device's.
	 */
	return set_state(c, VU_SET_VRING_NUM, r->index, r->num) && call(c, &m, false) &&
	       set_state(c, VU_SET_VRING_BASE, r->index, r->packed ? 0x80008000u : 0) &&
	       (r->err_fd < 0 || set_u64(c, VU_SET_VRING_ERR, r->index, r->err_fd)) &&
	       set_u64(c, VU_SET_VRING_KICK, r->index, r->kick_fd) &&
	       set_u64(c, VU_SET_VRING_CALL, r->index, r->call_fd) &&
	       (!(c->features & (1ULL << VU_F_PROTOCOL_FEATURES)) ||
		set_state(c, VU_SET_VRING_ENABLE, r->index, 1));
}

bool vu_client_start(struct vu_client *c, uint64_t acked, const struct guest_mem *mem,
		     const struct vu_ring *rings, unsigned int nrings)
{
	struct vu_msg m = { .hdr = { VU_SET_MEM_TABLE, 0, 8 + sizeof(struct vu_mem_region) } };

	if (!set_u64(c, VU_SET_FEATURES, acked | (c->features & (1ULL << VU_F_PROTOCOL_FEATURES)),
		     -1))
		return false;
	/* All of guest RAM is one region: the memfd, mapped at mem->base here. */
	m.p.memory.nregions = 1;
	m.p.memory.regions[0] =
		(struct vu_mem_region){ 0, mem->size, (uint64_t)(uintptr_t)mem->base, 0 };
	m.fds[0] = mem->fd;
	m.nfds = 1;
	if (!call(c, &m, false))
		return false;
	for (unsigned int i = 0; i < nrings; i++)
		if (!start_ring(c, mem, &rings[i]))
			return false;
	return true;
}

bool vu_client_stop(struct vu_client *c, unsigned int index)
{
	struct vu_msg m = { .hdr = { VU_GET_VRING_BASE, 0, sizeof(struct vhost_vring_state) },
			    .p.state = { index, 0 } };

	return call(c, &m, true);
}

void vu_client_close(struct vu_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
}
