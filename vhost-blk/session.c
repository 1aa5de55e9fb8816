// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk/session.c: one frontend, from connect to hang-up.
 *
 * The frontend drives; we answer (vhost-user.rst):
 *
 *   GET_FEATURES, GET_/SET_PROTOCOL_FEATURES, SET_OWNER, GET_CONFIG
 *   SET_FEATURES, SET_MEM_TABLE
 *   per ring: SET_VRING_NUM, _ADDR, _BASE, _ERR, _CALL, _KICK, _ENABLE
 *   GET_VRING_BASE: stop the ring and say where it stopped
 *
 * A ring starts when its kick eventfd arrives (everything else must be
 * there by then), and with protocol features negotiated it starts
 * disabled until SET_VRING_ENABLE.  Between messages we sleep in one
 * ppoll() on the socket and the kick eventfd: a kick runs the block
 * model's notify, which serves every request available and pushes each
 * before we read the socket again.
 *
 * What the frontend sends is checked before use (proto.c frames and sizes
 * it; here, every index, size, address and fd).  A request we cannot
 * honour ends the session with one line (and a nonzero REPLY_ACK first,
 * if the frontend asked for one); a broken ring, which is the guest's
 * doing, only stops the device (host.c) and the session goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vhost_blk.h"
#include "log.h"
#include "trace.h"

#define OUR_PROTOCOL_FEATURES (1ULL << VU_PROTOCOL_F_REPLY_ACK | 1ULL << VU_PROTOCOL_F_CONFIG)

struct ring {
	uint16_t num;		       /* SET_VRING_NUM (0: not yet) */
	bool have_addr;		       /* SET_VRING_ADDR came */
	uint64_t desc, driver, device; /* frontend addresses */
	uint32_t base;		       /* SET_VRING_BASE */
	int kick_fd;		       /* -1 until SET_VRING_KICK */
	bool started;		       /* kick arrived, and the queue is set up */
	bool enabled;		       /* SET_VRING_ENABLE (or no protocol features) */
};

struct session {
	int sock;
	const struct vb_options *o;
	struct device *dev;
	struct vb_memory memory;
	struct ring ring;
	uint64_t protocol_features;
	bool protocol_acked; /* SET_FEATURES acked VU_F_PROTOCOL_FEATURES */
	bool features_set;
	uint64_t messages;
	const char *request; /* the one being handled, for refuse() */
	char why[256];
};

__attribute__((format(printf, 2, 3))) static bool refuse(struct session *s, const char *fmt, ...)
{
	int n = s->request ? snprintf(s->why, sizeof(s->why), "%s: ", s->request) : 0;
	va_list ap;

	if (n < 0 || (size_t)n >= sizeof(s->why))
		return false;
	va_start(ap, fmt);
	vsnprintf(s->why + n, sizeof(s->why) - n, fmt, ap);
	va_end(ap);
	return false;
}

static bool protocol(const struct session *s, unsigned int bit)
{
	return s->protocol_features & (1ULL << bit);
}

static bool reply(struct session *s, struct vu_msg *m, uint32_t size)
{
	char why[200];

	vu_close_fds(m);
	m->hdr.flags = VU_VERSION | VU_FLAG_REPLY;
	m->hdr.size = size;
	if (vu_send(s->sock, m, s->o->timeout_ms, why, sizeof(why)) < 0)
		return refuse(s, "cannot answer: %s", why);
	return true;
}

static bool reply_u64(struct session *s, struct vu_msg *m, uint64_t v)
{
	m->p.u64 = v;
	return reply(s, m, sizeof(m->p.u64));
}

/* The ring's index in a vring state or a KICK/CALL/ERR u64: we have one ring. */
static bool ring_index(struct session *s, unsigned int index)
{
	if (index >= s->dev->nqueues)
		return refuse(s, "ring %u does not exist (the device has %u)", index,
			      s->dev->nqueues);
	return true;
}

static bool ring_idle(struct session *s, const char *what)
{
	if (s->ring.started)
		return refuse(s, "%s while the ring runs", what);
	return true;
}

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(bus_jmp, 1);
}

/* Serve what the driver has published, as a kick would. */
static void serve(struct session *s)
{
	struct device *dev = s->dev;
	static bool installed;

	if (!installed) {
		struct sigaction sa = { .sa_handler = on_sigbus };
		sigaction(SIGBUS, &sa, NULL);
		installed = true;
	}
	if (!(s->ring.started && s->ring.enabled && !dev->broken))
		return;
	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = 0;
		device_fail(
			dev,
			"%s: guest memory vanished under the ring (the frontend shrank its file)",
			dev->queue_names[0]);
		return;
	}
	bus_armed = 1;
	dev->ops->notify(dev);
	bus_armed = 0;
}

/*
 * SET_VRING_BASE's number.  Split: the avail index.  Packed: the next
 * avail slot and its wrap counter in bits 0-15, and (QEMU, the kernel's
 * vhost) the next used slot and wrap counter in bits 16-31, or nothing
 * there (DPDK, libvhost-user).  We resume only with no buffer in flight,
 * which is how we stop, so the two halves must agree: a frontend whose
 * previous backend left buffers in flight needs inflight tracking, which
 * we do not have.  Anything else becomes a position queue_resume() refuses.
 */
static uint32_t resume_pos(const struct device *dev, uint32_t base)
{
	uint32_t used = base >> 16, avail = base & 0xffff;

	if (dev->ring.layout != LG_RING_PACKED)
		return base;
	return used == 0 || used == avail ? avail : base;
}

/* Where a stopped ring was, in SET_VRING_BASE's form. */
static uint32_t base_of(const struct device *dev, uint32_t pos)
{
	return dev->ring.layout == LG_RING_PACKED ? pos | pos << 16 : pos;
}

/*
 * Everything the ring needs is here: check it and set the queue up.  A
 * ring the guest laid out badly (outside RAM, misaligned, a size our code
 * refuses) breaks the device, not the session: the addresses are the
 * guest driver's, passed on.
 */
static bool start_ring(struct session *s)
{
	struct device *dev = s->dev;
	struct ring *r = &s->ring;
	bool packed = dev->ring.layout == LG_RING_PACKED;
	uint64_t desc, driver, device;

	if (!r->num || !r->have_addr || !s->features_set || !s->memory.n)
		return refuse(s, "SET_VRING_KICK before the ring's %s",
			      !s->features_set ? "features (SET_FEATURES)"
			      : !s->memory.n   ? "memory (SET_MEM_TABLE)"
			      : !r->num	       ? "size (SET_VRING_NUM)"
					       : "addresses (SET_VRING_ADDR)");
	if (!vb_memory_gpa(&s->memory, r->desc, 16ULL * r->num, &desc) ||
	    !vb_memory_gpa(&s->memory, r->driver, packed ? 4 : 6 + 2ULL * r->num, &driver) ||
	    !vb_memory_gpa(&s->memory, r->device, packed ? 4 : 6 + 8ULL * r->num, &device)) {
		device_fail(dev,
			    "%s: ring of %u at %#llx / %#llx / %#llx (frontend addresses) "
			    "is outside the memory table",
			    dev->queue_names[0], r->num, (unsigned long long)r->desc,
			    (unsigned long long)r->driver, (unsigned long long)r->device);
		return true;
	}
	dev->mem = &s->memory.mem;
	dev->broken = false;
	if (!queue_init_modern(&dev->queue[0], dev->ring.layout, dev->mem, dev->queue_names[0],
			       r->num, desc, driver, device,
			       device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX),
			       device_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC)) ||
	    !queue_resume(&dev->queue[0], resume_pos(dev, r->base))) {
		device_queue_failed(dev, &dev->queue[0]);
		queue_destroy(&dev->queue[0]);
		return true;
	}
	r->started = true;
	dev->active = true;
	if (trace_on)
		trace_store_open(dev->mem);
	verbose("%s: %s: %s ring of %u at %#llx / %#llx / %#llx from %u%s%s", dev->name,
		dev->queue_names[0], layout_name(dev->ring.layout), r->num,
		(unsigned long long)desc, (unsigned long long)driver, (unsigned long long)device,
		r->base, device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX) ? ", event idx" : "",
		device_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC) ? ", indirect" : "");
	/* Buffers may have been published before the kick fd arrived. */
	serve(s);
	return true;
}

/* GET_VRING_BASE, or the end: stop using guest RAM; where the ring stopped. */
static uint32_t stop_ring(struct session *s)
{
	struct device *dev = s->dev;
	struct ring *r = &s->ring;
	uint32_t base = r->base;

	if (r->started) {
		/* Every popped request was pushed before we got here. */
		base = base_of(dev, queue_avail_pos(&dev->queue[0]));
		queue_destroy(&dev->queue[0]);
	}
	r->started = false;
	r->enabled = false;
	dev->active = false;
	if (r->kick_fd >= 0)
		close(r->kick_fd);
	r->kick_fd = -1;
	vb_memory_release(&s->memory, false);
	return base;
}

static int take_fd(struct vu_msg *m, unsigned int *index, bool *none)
{
	int fd;

	*index = m->p.u64 & VU_VRING_INDEX_MASK;
	*none = m->p.u64 & VU_VRING_NOFD;
	if (m->nfds != (*none ? 0u : 1u))
		return -2;
	fd = *none ? -1 : m->fds[0];
	m->nfds = 0; /* ours now */
	return fd;
}

static void replace_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/* A KICK, CALL or ERR eventfd: the fd must come with it unless "no fd" says it may not. */
static bool set_ring_fd(struct session *s, struct vu_msg *m)
{
	unsigned int index;
	bool none;
	int fd = take_fd(m, &index, &none);

	if (fd == -2)
		return refuse(s, "%u file descriptors with%s the no-fd flag", m->nfds,
			      none ? "" : "out");
	if (!ring_index(s, index)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	switch (m->hdr.request) {
	case VU_SET_VRING_KICK:
		if (none)
			return refuse(s,
				      "ring %u without a kick fd (polling the ring is not "
				      "supported)",
				      index);
		if (s->ring.started)
			stop_ring(s); /* a new kick fd restarts the ring */
		replace_fd(&s->ring.kick_fd, fd);
		/* Without protocol features a ring runs once it starts; with, once enabled. */
		if (!s->protocol_acked)
			s->ring.enabled = true;
		return start_ring(s);
	case VU_SET_VRING_CALL:
		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		replace_fd(&vbd.call_fd, fd);
		return true;
	default:
		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		replace_fd(&vbd.err_fd, fd);
		return true;
	}
}

static bool set_features(struct session *s, uint64_t acked)
{
	struct device *dev = s->dev;
	uint64_t virtio = acked & ~(1ULL << VU_F_PROTOCOL_FEATURES);

	if (!ring_idle(s, "SET_FEATURES"))
		return false;
	if (virtio & ~vbd.offered)
		return refuse(s, "features %#llx acked but never offered",
			      (unsigned long long)(virtio & ~vbd.offered));
	if (!(virtio & (1ULL << VIRTIO_F_VERSION_1)))
		return refuse(s, "VIRTIO_F_VERSION_1 not acked (legacy devices are not served)");
	dev->features = virtio;
	s->protocol_acked = acked & (1ULL << VU_F_PROTOCOL_FEATURES);
	dev->ring.layout = virtio & (1ULL << VIRTIO_F_RING_PACKED) ? LG_RING_PACKED : LG_RING_SPLIT;
	s->features_set = true;
	return true;
}

static bool get_config(struct session *s, struct vu_msg *m)
{
	struct vu_config *c = &m->p.config;

	if (!protocol(s, VU_PROTOCOL_F_CONFIG))
		return refuse(s, "GET_CONFIG without the CONFIG protocol feature");
	if (c->offset > VU_MAX_CONFIG || c->size > VU_MAX_CONFIG - c->offset)
		return refuse(s, "GET_CONFIG of %u bytes at %u (the space has %u)", c->size,
			      c->offset, VU_MAX_CONFIG);
	/* Bytes past the device's configuration read as zero, as in virtio. */
	memcpy(c->region, vbd.config + c->offset, c->size);
	return reply(s, m, m->hdr.size);
}

/*
 * One request.  False: refuse it (s->why says why), which ends the session.
 * *replied: it has been answered already (a GET_*).
 */
static bool handle(struct session *s, struct vu_msg *m, bool *replied)
{
	struct device *dev = s->dev;
	struct ring *r = &s->ring;
	struct vhost_vring_state *st = &m->p.state;

	*replied = false;
	if (m->nfds && m->hdr.request != VU_SET_MEM_TABLE && m->hdr.request != VU_SET_VRING_KICK &&
	    m->hdr.request != VU_SET_VRING_CALL && m->hdr.request != VU_SET_VRING_ERR)
		return refuse(s, "%u unexpected file descriptors", m->nfds);
	switch (m->hdr.request) {
	case VU_GET_FEATURES:
		*replied = true;
		return reply_u64(s, m, vbd.offered | 1ULL << VU_F_PROTOCOL_FEATURES);
	case VU_SET_FEATURES:
		return set_features(s, m->p.u64);
	case VU_GET_PROTOCOL_FEATURES:
		*replied = true;
		return reply_u64(s, m, OUR_PROTOCOL_FEATURES);
	case VU_SET_PROTOCOL_FEATURES:
		if (m->p.u64 & ~OUR_PROTOCOL_FEATURES)
			return refuse(s, "protocol features %#llx acked but never offered",
				      (unsigned long long)(m->p.u64 & ~OUR_PROTOCOL_FEATURES));
		s->protocol_features = m->p.u64;
		return true;
	case VU_SET_OWNER:
		return true;
	case VU_RESET_OWNER:
		stop_ring(s);
		return true;
	case VU_GET_QUEUE_NUM:
		*replied = true;
		return reply_u64(s, m, dev->nqueues);
	case VU_SET_MEM_TABLE:
		if (!vb_memory_set(&s->memory, m, r->started, s->why, sizeof(s->why)))
			return false;
		verbose("%s: guest RAM in %u region(s)", dev->name, s->memory.n);
		return true;
	case VU_SET_VRING_NUM:
		if (!ring_index(s, st->index) || !ring_idle(s, "SET_VRING_NUM"))
			return false;
		if (st->num < 1 || st->num > MAX_QSIZE)
			return refuse(s, "ring size %u (1 to %u)", st->num, MAX_QSIZE);
		r->num = (uint16_t)st->num;
		return true;
	case VU_SET_VRING_ADDR:
		if (!ring_index(s, m->p.addr.index) || !ring_idle(s, "SET_VRING_ADDR"))
			return false;
		if (m->p.addr.flags & (1u << VHOST_VRING_F_LOG))
			return refuse(s, "ring addresses ask for dirty logging, which was never "
					 "offered");
		r->desc = m->p.addr.desc_user_addr;
		r->driver = m->p.addr.avail_user_addr;
		r->device = m->p.addr.used_user_addr;
		r->have_addr = true;
		return true;
	case VU_SET_VRING_BASE:
		if (!ring_index(s, st->index) || !ring_idle(s, "SET_VRING_BASE"))
			return false;
		r->base = st->num;
		return true;
	case VU_GET_VRING_BASE:
		if (!ring_index(s, st->index))
			return false;
		st->num = stop_ring(s);
		*replied = true;
		return reply(s, m, sizeof(*st));
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
		return set_ring_fd(s, m);
	case VU_SET_VRING_ENABLE:
		if (!ring_index(s, st->index))
			return false;
		if (st->num > 1)
			return refuse(s, "SET_VRING_ENABLE with %u (0 or 1)", st->num);
		r->enabled = st->num;
		serve(s);
		return true;
	case VU_GET_CONFIG:
		*replied = true;
		return get_config(s, m);
	default:
		return refuse(s, "not supported here (it was never offered)");
	}
}

/* The kick eventfd fired: count what it holds and serve the ring. */
static void kicked(struct session *s)
{
	struct device *dev = s->dev;
	uint64_t n;

	ssize_t got = read(s->ring.kick_fd, &n, sizeof(n));

	if (got != sizeof(n)) {
		if (got < 0 && errno == EAGAIN)
			return;
		device_fail(dev, "%s: the kick fd gave %s, not an eventfd count",
			    dev->queue_names[0], got < 0 ? strerror(errno) : "no bytes");
		return;
	}
	vbd.kicks += n;
	dev->stats.notifies += n;
	trace_event(LG_TR_KICK, dev->index, LG_TR_NO_DEV, 0, 0, 0, (uint32_t)n, 0);
	serve(s);
}

/* One message from the frontend, answered (or acknowledged); false: the session ends. */
static bool message(struct session *s)
{
	struct vu_msg m;
	bool replied, ok;
	char name_buf[24], why[200];

	switch (vu_recv(s->sock, &m, s->o->timeout_ms, why, sizeof(why))) {
	case 0:
		snprintf(s->why, sizeof(s->why), "the frontend hung up");
		return false;
	case -1:
		snprintf(s->why, sizeof(s->why), "%s", why);
		return false;
	}
	s->messages++;
	s->request = vu_request_name(m.hdr.request, name_buf, sizeof(name_buf));
	if (m.hdr.flags & VU_FLAG_REPLY) {
		vu_close_fds(&m);
		ok = refuse(s, "a reply where a request belongs");
		s->request = NULL;
		return ok;
	}
	ok = handle(s, &m, &replied);
	vu_close_fds(&m); /* whatever the request did not keep */
	/* REPLY_ACK: every request without a reply of its own is acknowledged if asked. */
	if (!replied && (m.hdr.flags & VU_FLAG_NEED_REPLY) &&
	    protocol(s, VU_PROTOCOL_F_REPLY_ACK)) {
		if (ok) {
			ok = reply_u64(s, &m, 0);
		} else {
			/* Say no, if the frontend still listens; the reason stays ours. */
			char keep[sizeof(s->why)];

			memcpy(keep, s->why, sizeof(keep));
			reply_u64(s, &m, 1);
			memcpy(s->why, keep, sizeof(keep));
		}
	}
	s->request = NULL;
	return ok;
}

static void print_stats(struct session *s)
{
	struct device *dev = s->dev;
	uint64_t req = dev->stats.chains;

	warnx_lg(
		"%s: session: %lu messages, requests=%lu kicks=%lu calls=%lu suppressed=%lu "
		"bounce=%lu (kicks/request %.3f, calls/request %.3f)",
		dev->name, (unsigned long)s->messages, (unsigned long)req, (unsigned long)vbd.kicks,
		(unsigned long)vbd.calls, (unsigned long)dev->stats.signals_suppressed,
		(unsigned long)dev->stats.bounce_bytes, req ? (double)vbd.kicks / (double)req : 0.0,
		req ? (double)vbd.calls / (double)req : 0.0);
	if (dev->ops->print_stats)
		dev->ops->print_stats(dev);
}

bool vb_session(int sock, const struct vb_options *o, const sigset_t *waitmask,
		volatile sig_atomic_t *stop)
{
	static struct session s;
	bool failed;

	s = (struct session){ .sock = sock, .o = o, .dev = vbd.dev, .ring.kick_fd = -1 };
	s.memory.mem = (struct guest_mem){ .fd = -1, .regions = s.memory.regions };
	vb_device_reset();
	for (;;) {
		bool running = s.ring.started && s.ring.enabled && !s.dev->broken;
		struct pollfd fds[2] = {
			{ sock, POLLIN, 0 },
			{ running ? s.ring.kick_fd : -1, POLLIN, 0 },
		};

		if (ppoll(fds, 2, NULL, waitmask) < 0) {
			if (errno != EINTR) {
				refuse(&s, "poll: %s", strerror(errno));
				break;
			}
			if (*stop) {
				refuse(&s, "stopping (signal)");
				break;
			}
			continue;
		}
		if (fds[1].revents)
			kicked(&s);
		if (fds[0].revents && !message(&s))
			break;
	}
	stop_ring(&s);
	vb_memory_release(&s.memory, true);
	failed = s.dev->broken || (!*stop && strcmp(s.why, "the frontend hung up") != 0);
	if (failed && !*stop)
		warnx_lg("%s: frontend session ended: %s", s.dev->name, s.why);
	else
		verbose("%s: frontend session ended: %s", s.dev->name, s.why);
	if (o->stats || log_verbose)
		print_stats(&s);
	if (o->trace) {
		trace_write_text(&trace_events, NULL);
		trace_store_clear();
	}
	close(sock);
	return !failed;
}
