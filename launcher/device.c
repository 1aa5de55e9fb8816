// SPDX-License-Identifier: GPL-2.0
/*
 * device.c: the device table, device threads, and signalling the guest.
 *
 * Each device gets a thread that sleeps in poll() on its notify eventfd
 * (plus the stop eventfd, plus whatever file its model watches, such as
 * stdin).  The guest's NOTIFY reaches that eventfd one of two ways:
 *
 *   fast path (default):  kvm:     guest `out` --> KVM matches port + key
 *                                  --> eventfd (the vCPU never leaves the
 *                                  kernel)
 *                         process: guest calls the stub --> the stub
 *                                  writes the eventfd itself
 *   --no-ioeventfd:       the hypercall reaches the vCPU loop (vcpu.c),
 *                         which finds the device by key --> write(eventfd)
 *
 * Going the other way, a device "interrupts" the guest by setting its bit
 * in the shared page's pending word; if the vCPU is asleep in WAIT, the
 * device also bumps the shared page's wake_seq and wakes the futex on it.
 * The two sides use the classic pattern: the waiter announces it is
 * waiting, then looks at pending; the signaller sets pending, then looks
 * at the waiting flag.  With sequentially consistent operations on both,
 * at least one of them sees the other, so no wakeup is lost.  The waiter
 * is the launcher's vCPU thread on KVM and the stub in the guest's own
 * process on the process backend: the futex word lives in guest RAM, which
 * both map, so one protocol serves both.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>

#include "device.h"
#include "log.h"
#include "trace.h"

static struct device devices[LG_MAX_DEVICES];
static unsigned int ndevices;
static const struct guest_mem *gmem;
static uint64_t ram_top;
static volatile struct lg_device_desc *table;
static uint64_t *pending; /* lg_shared.pending, in guest memory */
static struct lg_shared *shared;

static int stop_fd = -1;
static int stop_flag, stop_status;

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		die_errno("eventfd");
	return fd;
}

void devices_init(const struct guest_mem *mem, uint64_t mem_size)
{
	gmem = mem;
	ram_top = mem_size;
	table = guest_ptr(mem, LG_DEVICE_TABLE_GPA, LG_PAGE_SIZE);
	shared = guest_ptr(mem, LG_SHARED_GPA, sizeof(*shared));
	pending = &shared->pending;
	stop_fd = new_eventfd();
}

static const char *const d3_queue_names[] = { "in", "out" };

static uint8_t kick_flags; /* how NOTIFYs reach the eventfds, for the trace */

/* Take @pages pages from the top of RAM, as lguest put devices above memory. */
uint64_t devices_take_pages(const char *name, unsigned int pages)
{
	if (ram_top < LG_KERNEL_BASE + pages * LG_PAGE_SIZE)
		die("%s: no room left for its pages at the top of RAM", name);
	ram_top -= pages * LG_PAGE_SIZE;
	return ram_top;
}

static void add_draft3(struct device *dev)
{
	uint64_t gpa = devices_take_pages(dev->name, D3_NUM_PAGES);

	dev->key = gpa >> LG_PAGE_SHIFT;
	if (!d3_dev_init(&dev->d3, gmem, dev->key))
		die("%s: cannot place queue pages: %s", dev->name, dev->d3.error);
	dev->nqueues = 2;
	dev->queue_names = d3_queue_names;
	queue_init_draft3(&dev->queue[QUEUE_D3_IN], &dev->d3, true);
	queue_init_draft3(&dev->queue[QUEUE_D3_OUT], &dev->d3, false);
	dev->desc->num_pages = D3_NUM_PAGES;
	dev->active = true;
	verbose("%s: draft3 queues at %#lx (key %#x)", dev->name, (unsigned long)gpa, dev->key);
}

static void add_modern(struct device *dev, unsigned int nqueues, const char *const *queue_names)
{
	uint64_t gpa = devices_take_pages(dev->name, 1);
	struct lg_virtio_cfg *cfg = guest_ptr(gmem, gpa, LG_PAGE_SIZE);

	if (!cfg || nqueues > LG_VIRTIO_MAX_QUEUES)
		die("%s: cannot place its config page", dev->name);
	dev->key = gpa >> LG_PAGE_SHIFT;
	dev->vcfg = cfg;
	dev->nqueues = nqueues;
	dev->queue_names = queue_names;
	cfg->num_queues = nqueues;
	for (unsigned int i = 0; i < nqueues; i++)
		cfg->queue[i].size_max = dev->ring.qsize;
	cfg->device_features = 1ULL << VIRTIO_F_VERSION_1;
	if (dev->ring.layout == LG_RING_PACKED)
		cfg->device_features |= 1ULL << VIRTIO_F_RING_PACKED;
	if (dev->ring.event_idx)
		cfg->device_features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (dev->ring.indirect)
		cfg->device_features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	dev->desc->num_pages = 1;
	verbose("%s: %s ring, %u queue(s) of up to %u, config page at %#lx (key %#x)", dev->name,
		layout_name(dev->ring.layout), nqueues, dev->ring.qsize, (unsigned long)gpa,
		dev->key);
}

struct device *device_add(const char *name, uint8_t type, const struct device_ops *ops, void *priv,
			  const struct ring_opt *ring, unsigned int nqueues,
			  const char *const *queue_names)
{
	struct device *dev;

	if (ndevices == LG_MAX_DEVICES)
		die("too many devices (at most %d)", LG_MAX_DEVICES);
	dev = &devices[ndevices];
	dev->index = ndevices++;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->ops = ops;
	dev->priv = priv;
	dev->ring = *ring;
	dev->mem = gmem;
	dev->notify_fd = new_eventfd();
	pthread_mutex_init(&dev->lock, NULL);
	dev->desc = &table[dev->index];
	dev->desc->type = type;
	dev->desc->layout = ring->layout;
	if (ring->layout == LG_RING_DRAFT3)
		add_draft3(dev);
	else
		add_modern(dev, nqueues, queue_names);
	for (unsigned int i = 0; i < dev->nqueues; i++) {
		dev->queue[i].dev = dev->index;
		dev->queue[i].index = i;
	}
	dev->desc->key = dev->key;
	return dev;
}

void device_offer(struct device *dev, uint64_t features)
{
	dev->vcfg->device_features |= features;
}

void *device_config_space(struct device *dev, size_t len)
{
	if (len > LG_PAGE_SIZE - LG_VIRTIO_DEVCFG_OFFSET)
		die("%s: device configuration too large", dev->name);
	dev->vcfg->config_len = len;
	return lg_virtio_devcfg(dev->vcfg);
}

uint64_t devices_notify_skipped(unsigned int index)
{
	/* The guest's own count: a statistic we print, nothing we rely on. */
	return index < LG_MAX_DEVICES
		       ? __atomic_load_n(&shared->notify_skipped[index], __ATOMIC_RELAXED)
		       : 0;
}

uint64_t devices_ram_top(void)
{
	return ram_top;
}

unsigned int device_count(void)
{
	return ndevices;
}

struct device *device_by_index(unsigned int i)
{
	return i < ndevices ? &devices[i] : NULL;
}

struct device *device_by_key(uint32_t key)
{
	for (unsigned int i = 0; i < ndevices; i++) {
		if (devices[i].key == key)
			return &devices[i];
	}
	return NULL;
}

/*
 * The futex is shared between processes (the process backend's child maps
 * the same page), so no FUTEX_PRIVATE_FLAG.
 */
static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* Wake whoever sleeps in WAIT (the vCPU thread, or the stub): see the top. */
static void wake_waiter(void)
{
	__atomic_fetch_add(&shared->wake_seq, 1, __ATOMIC_SEQ_CST);
	futex(&shared->wake_seq, FUTEX_WAKE, INT_MAX, NULL);
}

void device_signal(struct device *dev)
{
	dev->stats.signals++;
	__atomic_fetch_or(pending, 1ULL << dev->index, __ATOMIC_SEQ_CST);
	/* The guest can write `waiting`: at worst it gets a wakeup it did not need. */
	if (__atomic_load_n(&shared->waiting, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&shared->waiting, 0, __ATOMIC_SEQ_CST)) {
		dev->stats.wakeups++;
		wake_waiter();
	}
}

void guest_wait(uint64_t timeout_us)
{
	struct timespec ts, *timeout = NULL;
	uint32_t seq = __atomic_load_n(&shared->wake_seq, __ATOMIC_SEQ_CST);

	if (timeout_us) {
		if (timeout_us > 3600ULL * 1000000)
			timeout_us = 3600ULL * 1000000;
		ts.tv_sec = (time_t)(timeout_us / 1000000);
		ts.tv_nsec = (long)(timeout_us % 1000000) * 1000;
		timeout = &ts;
	}
	__atomic_store_n(&shared->waiting, 1, __ATOMIC_SEQ_CST);
	/*
	 * The futex returns at once if wake_seq moved since we read it (a
	 * signal or a stop request in between), else when it moves, on a
	 * timeout, or on a signal to this thread (EINTR: the vCPU loop looks
	 * at stop_requested()).  The guest traces WAIT and its wakeup itself.
	 */
	if (!__atomic_load_n(pending, __ATOMIC_SEQ_CST) && !stop_requested(NULL))
		futex(&shared->wake_seq, FUTEX_WAIT, seq, timeout);
	__atomic_store_n(&shared->waiting, 0, __ATOMIC_SEQ_CST);
}

void device_used(struct device *dev, struct queue *q)
{
	bool wanted = queue_should_signal(q);

	trace_event(LG_TR_SIGNAL, dev->index, LG_TR_NO_DEV, wanted ? LG_TR_F_SENT : 0, 0, 0, 0, 0);
	if (wanted)
		device_signal(dev);
	else
		dev->stats.signals_suppressed++;
}

void device_queue_failed(struct device *dev, struct queue *q)
{
	device_fail(dev, "%s", queue_error(q));
}

/* The status the guest sees, in the config page and in the device table. */
void device_publish_status(struct device *dev, uint8_t status)
{
	dev->status = status;
	if (dev->vcfg)
		__atomic_store_n(&dev->vcfg->status, status, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->desc->status, status, __ATOMIC_RELEASE);
}

void device_fail(struct device *dev, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (dev->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	dev->broken = true;
	warnx_lg("%s: %s; device stopped", dev->name, why);
	if (dev->ops->quiesce)
		dev->ops->quiesce(dev);
	if (trace_on)
		trace_record_error(dev->index, why);
	device_publish_status(dev, dev->status | LG_STATUS_NEEDS_RESET);
	device_signal(dev);
}

void device_kick(struct device *dev)
{
	uint64_t one = 1;

	dev->self_kicks++; /* under dev->lock, like the thread that reads it */
	if (write(dev->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_lg("%s: kick: %s", dev->name, strerror(errno));
}

/* An external device's connection to whoever serves it, if it has one (the kernel: none). */
static int peer_fd(struct device *dev)
{
	return dev->ops->peer_fd ? dev->ops->peer_fd(dev) : -1;
}

/*
 * The device thread.  It holds dev->lock except while it sleeps in poll(),
 * so a status change from the vCPU thread (device_status.c) never finds
 * the queues half-used.
 */
static void *device_thread(void *arg)
{
	struct device *dev = arg;
	struct timespec cpu;

	/* Everything the model needs is open: from here on, only its system calls. */
	sandbox_enter(dev->ops->sandbox, dev->name);
	pthread_mutex_lock(&dev->lock);
	for (;;) {
		/* An external device's NOTIFYs are not ours: watch its peer instead. */
		struct pollfd fds[3] = {
			{ dev->external ? peer_fd(dev) : dev->notify_fd, POLLIN, 0 },
			{ stop_fd, POLLIN, 0 },
			{ -1, POLLIN, 0 },
		};
		bool usable = dev->active && !dev->broken;
		uint64_t kicks;
		int r;

		/* A vhost-user device's call fd is watched from the start (see below). */
		if ((usable || dev->external) && dev->ops->extra_fd)
			fds[2].fd = dev->ops->extra_fd(dev);
		pthread_mutex_unlock(&dev->lock);
		r = poll(fds, 3, -1);
		pthread_mutex_lock(&dev->lock);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die_errno("%s: poll", dev->name);
		}
		if (fds[1].revents)
			break;
		/*
		 * Another process serves the queues: all that comes here is its
		 * call fd, drained whatever our state, so a late call after a
		 * reset cannot make us spin, and its connection, which says
		 * when the peer went away.
		 */
		if (dev->external) {
			if (fds[2].revents)
				dev->ops->extra_ready(dev);
			if (fds[0].revents)
				dev->ops->peer_ready(dev);
			continue;
		}
		if (read(dev->notify_fd, &kicks, sizeof(kicks)) == sizeof(kicks)) {
			/* Our own kicks are in the count; they are not the guest's. */
			if (kicks >= dev->self_kicks) {
				kicks -= dev->self_kicks;
				dev->stats.notifies += kicks;
				dev->self_kicks = 0;
				if (kicks)
					trace_event(LG_TR_KICK, dev->index, LG_TR_NO_DEV,
						    kick_flags, 0, 0, (uint32_t)kicks, 0);
			} else {
				dev->self_kicks -= kicks;
			}
		}
		/* A NOTIFY before DRIVER_OK, or after a failure: nothing to serve. */
		if (!dev->active || dev->broken)
			continue;
		if (fds[2].revents && dev->ops->extra_ready)
			dev->ops->extra_ready(dev);
		if (dev->active && !dev->broken && dev->ops->notify)
			dev->ops->notify(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	dev->stats.cpu_ns = (uint64_t)cpu.tv_sec * 1000000000 + (uint64_t)cpu.tv_nsec;
	return NULL;
}

/* A model's own thread, starting: the device's sandbox, under its own name. */
static void enter_helper(void *arg, const char *name)
{
	struct device *dev = arg;

	sandbox_enter(dev->ops->sandbox, name);
}

void devices_start(uint8_t flags)
{
	kick_flags = flags;
	for (unsigned int i = 0; i < ndevices; i++) {
		struct device *dev = &devices[i];
		int err;

		if (dev->ops->start_helpers)
			dev->ops->start_helpers(dev, enter_helper);
		err = pthread_create(&dev->thread, NULL, device_thread, dev);
		if (err)
			die("%s: cannot start its thread: %s", dev->name, strerror(err));
	}
}

void request_stop(int status)
{
	uint64_t one = 1;

	if (!__atomic_exchange_n(&stop_flag, 1, __ATOMIC_SEQ_CST))
		stop_status = status;
	if (write(stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_lg("stop: %s", strerror(errno));
	/* A vCPU thread asleep in WAIT wakes up and sees the request. */
	if (shared)
		wake_waiter();
}

bool stop_requested(int *status)
{
	if (!__atomic_load_n(&stop_flag, __ATOMIC_SEQ_CST))
		return false;
	if (status)
		*status = stop_status;
	return true;
}

int stop_eventfd(void)
{
	return stop_fd;
}

void devices_stop(void)
{
	uint64_t one = 1;

	if (write(stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_lg("stop: %s", strerror(errno));
	for (unsigned int i = 0; i < ndevices; i++)
		pthread_join(devices[i].thread, NULL);
	/*
	 * The guest may have published buffers and notified just before it
	 * shut down (a last datagram, say), and the device thread stopped
	 * before it looked.  Serve them now, once, on this thread: what the
	 * guest sent before SHUTDOWN goes out.
	 */
	for (unsigned int i = 0; i < ndevices; i++) {
		struct device *dev = &devices[i];

		if (dev->active && !dev->broken && dev->ops->notify)
			dev->ops->notify(dev);
		/* A vhost-user backend, or the kernel, stops using guest RAM before we go. */
		if (dev->active && !dev->broken && dev->ops->stop)
			dev->ops->stop(dev);
		if (dev->ops->sync_stats)
			dev->ops->sync_stats(dev);
	}
}

void devices_print_stats(void)
{
	fprintf(stderr, "%-8s %-6s %9s %9s %9s %9s %12s %12s %6s %9s %10s %9s %7s\n", "device",
		"ring", "notifies", "by-exit", "chains", "descs", "bytes-out", "bytes-in", "bounce",
		"signals", "suppressed", "wakeups", "max-out");
	for (unsigned int i = 0; i < ndevices; i++) {
		struct device_stats *s = &devices[i].stats;

		fprintf(stderr,
			"%-8s %-6s %9lu %9lu %9lu %9lu %12lu %12lu %6lu %9lu %10lu %9lu %7lu\n",
			devices[i].name, layout_name(devices[i].ring.layout), s->notifies,
			s->notify_exits, s->chains, s->descs, s->bytes_read, s->bytes_written,
			s->bounce_bytes, s->signals, s->signals_suppressed, s->wakeups,
			s->max_outstanding);
		if (devices[i].ops->print_stats)
			devices[i].ops->print_stats(&devices[i]);
	}
}
