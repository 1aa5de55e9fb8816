// SPDX-License-Identifier: GPL-2.0
/*
 * fake_lguest_host.c: a stand-in for lguest_host.ko inside the launcher's
 * own process, so that the launcher's side of --block=IMG,device=kernel
 * (launcher/vhost/kernel.c, devices/vhost_blk.c) runs on machines that
 * cannot load the module.  Built as build/lguest-host-fake.so and loaded
 * with LD_PRELOAD by tests/e2e/cases_kernel_device.py's "fake" cases.
 *
 * It answers open("/dev/lguest-host") with a placeholder fd and the ioctls
 * of include/lguest_host.h on it as host-module/main.c does (the owner
 * first, EBUSY for changes while running, ENOBUFS for a ring index other
 * than 0, EOPNOTSUPP for features it cannot serve ...).  LGH_SET_BACKEND
 * starts a thread that waits on the kick eventfd and serves the ring with
 * the launcher's own block model and ring code (devices/blk.c on the
 * image, reopened through /proc/self/fd), signalling the call eventfd,
 * writing the err eventfd with the ring code's message when the guest
 * breaks a rule, and counting what LGH_GET_STATS reports.
 *
 * What it proves is the launcher's half: the sequence it sends, the six
 * draft-III pages and the rings it describes, its eventfds, and what it
 * does with calls, errors and counters, on both CPU backends and every
 * layout.  It proves nothing about the module, which has its own tests
 * (tests/host_module/) and runs the same e2e cases for real where it is
 * loaded.  Differences a test may see: the kick eventfd is read here (the
 * module only waits on it), and GET_ID's serial is made again from the
 * image, not taken from LGH_SET_BACKEND.
 *
 * The module's work happens in the kernel, where the launcher's seccomp
 * filters (launcher/sandbox/) do not reach: only the ioctl itself is
 * filtered.  So the fake does its work on threads of its own that no
 * filter covers: a "kernel" thread, started at the first open of the
 * device node (during setup, before any filter), runs every ioctl the
 * launcher makes (the launcher's thread only waits for it), and the
 * workers it starts inherit its freedom.  Reopening the image, checking
 * eventfds through /proc, starting and joining workers are then none of
 * the launcher's filters' business, as they are not with the module.
 *
 * Everything here is hidden (-fvisibility=hidden) except the interposed
 * libc calls, so its copies of blk.c, the ring code and device.h's model
 * calls never meet the launcher's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "device.h"
#include "devices/blk.h"
#include "lguest_host.h"
#include "trace.h"

#define EXPORT __attribute__((visibility("default")))

/* What host-module/main.c serves. */
#define FAKE_FEATURES                                                            \
	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_PACKED |             \
	 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC | \
	 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |          \
	 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_RO)

#define MAX_FAKES   16
#define MAX_REGIONS 16

struct fake {
	int fd; /* the placeholder the launcher holds; -1: slot free */
	pthread_mutex_t lock;
	bool owned;
	uint64_t features;
	uint8_t layout;
	uint64_t d3_key;
	bool d3_set;
	struct guest_mem mem;
	struct guest_mem_region regions[MAX_REGIONS];
	struct {
		uint32_t num, base;
		uint64_t desc, driver, device; /* guest-physical */
		bool addr_set;
	} vr;
	int kick, call, err; /* our own copies, as the module holds references */
	/* Running: */
	struct device *dev; /* the block model's, made by blk_add() */
	pthread_t worker;
	int stop_fd;
	bool running;
	struct lgh_stats stats;
	struct lgh_stats before; /* at this start: the counts go on from there */
	char error[sizeof(((struct lgh_error *)0)->msg)];
	bool broken;
};

static struct fake fakes[MAX_FAKES];
static pthread_mutex_t fakes_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The libc calls we stand in front of: found at their first use (another
 * library's constructor may open() before ours runs) or in our
 * constructor, whichever comes first, and so before any filter.
 */
static int (*real_open)(const char *, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_fdatasync)(int);

static void *real(const char *name);

static void find_libc(void)
{
	if (real_fdatasync)
		return;
	real_open = real("open");
	real_ioctl = real("ioctl");
	real_fdatasync = real("fdatasync");
}

/* Every slot free, before the launcher's first open(): fd 0 is stdin's. */
__attribute__((constructor)) static void fakes_init(void)
{
	for (int i = 0; i < MAX_FAKES; i++)
		fakes[i].fd = -1;
	find_libc();
}
/* The fake a worker serves, for the device.h calls blk.c makes on its thread. */
static __thread struct fake *serving;
/* The fake whose blk_add() is under way, for device_add(). */
static struct fake *adding;

/* --- the real libc calls ------------------------------------------------- */

static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "lguest-host-fake: no %s in libc\n", name);
		abort();
	}
	return f;
}

static struct fake *find(int fd)
{
	for (int i = 0; fd >= 0 && i < MAX_FAKES; i++)
		if (fakes[i].fd == fd)
			return &fakes[i];
	return NULL;
}

/* --- what device.h promises blk.c, for the one device a fake serves ----- */

bool trace_on; /* never: the module traces nothing either */

void trace_record(uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags, uint32_t id,
		  uint32_t idx, uint32_t len, uint64_t addr)
{
	(void)type, (void)dev, (void)queue, (void)flags, (void)id, (void)idx, (void)len, (void)addr;
}

void trace_record_at(uint64_t tsc, uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags,
		     uint32_t id, uint32_t idx, uint32_t len, uint64_t addr)
{
	(void)tsc;
	trace_record(type, dev, queue, flags, id, idx, len, addr);
}

void trace_record_pop(uint8_t dev, uint8_t queue, uint32_t id, uint32_t idx,
		      const struct iovec *seg, unsigned int nseg, unsigned int nread,
		      unsigned int ndesc, unsigned int indirect_from)
{
	(void)dev, (void)queue, (void)id, (void)idx, (void)seg, (void)nseg, (void)nread,
		(void)ndesc, (void)indirect_from;
}

struct device *device_add(const char *name, uint8_t type, const struct device_ops *ops, void *priv,
			  const struct ring_opt *ring, unsigned int nqueues,
			  const char *const *queue_names)
{
	struct device *dev = calloc(1, sizeof(*dev));
	static struct lg_device_desc desc; /* draft3's config lands here, unread */

	(void)type;
	if (!dev)
		abort();
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->ops = ops;
	dev->priv = priv;
	dev->ring = *ring;
	dev->nqueues = nqueues;
	dev->queue_names = queue_names;
	dev->mem = &adding->mem;
	dev->desc = &desc;
	dev->notify_fd = -1;
	adding->dev = dev;
	return dev;
}

void device_offer(struct device *dev, uint64_t features)
{
	(void)dev, (void)features;
}

void *device_config_space(struct device *dev, size_t len)
{
	static uint8_t space[LG_PAGE_SIZE];

	(void)dev;
	return len <= sizeof(space) ? space : NULL;
}

static void write_eventfd(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "lguest-host-fake: eventfd: %s\n", strerror(errno));
}

void device_used(struct device *dev, struct queue *q)
{
	(void)dev;
	if (!queue_should_signal(q)) {
		serving->stats.suppressed++;
		return;
	}
	serving->stats.signals++;
	write_eventfd(serving->call);
}

/* As host-module/worker.c's lgh_fail(): say it once, through the err eventfd. */
static void fake_fail(struct fake *f, const char *why)
{
	if (f->broken)
		return;
	snprintf(f->error, sizeof(f->error), "%s", why);
	__atomic_store_n(&f->broken, true, __ATOMIC_RELEASE);
	write_eventfd(f->err);
}

void device_fail(struct device *dev, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	dev->broken = true;
	fake_fail(serving, why);
}

void device_queue_failed(struct device *dev, struct queue *q)
{
	device_fail(dev, "%s", queue_error(q));
}

/* blk.c's FLUSH (and draft III's BARRIER): counted as the module counts vfs_fsync. */
EXPORT int fdatasync(int fd)
{
	find_libc();
	if (serving)
		serving->stats.flushes++;
	return real_fdatasync(fd);
}

/* --- the worker --------------------------------------------------------- */

static void serve(struct fake *f)
{
	struct device *dev = f->dev;

	if (__atomic_load_n(&f->broken, __ATOMIC_ACQUIRE) || dev->broken)
		return;
	dev->ops->notify(dev);
	/* Since SET_OWNER, as the module's: a restart's device counts from 0 again. */
	f->stats.requests = f->before.requests + dev->stats.chains;
	f->stats.descs = f->before.descs + dev->stats.descs;
	f->stats.read_bytes = f->before.read_bytes + dev->stats.bytes_written; /* to the guest */
	f->stats.write_bytes = f->before.write_bytes + dev->stats.bytes_read;
	f->stats.bounce_bytes = f->before.bounce_bytes + dev->stats.bounce_bytes;
}

static void *worker(void *arg)
{
	struct fake *f = arg;
	uint64_t n;

	serving = f;
	serve(f); /* buffers may already wait */
	for (;;) {
		struct pollfd fds[2] = { { f->kick, POLLIN, 0 }, { f->stop_fd, POLLIN, 0 } };

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (read(f->kick, &n, sizeof(n)) != sizeof(n))
			continue;
		f->stats.kicks += n;
		serve(f);
	}
	return NULL;
}

/* LGH_SET_BACKEND: the block model on the image, its ring as described. */
static int start(struct fake *f, const struct lgh_backend *b)
{
	bool event_idx = f->features & 1ULL << VIRTIO_RING_F_EVENT_IDX;
	bool indirect = f->features & 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	struct ring_opt ring = { f->layout, (uint16_t)f->vr.num, indirect, event_idx };
	struct device *dev;
	char path[64];

	if (f->kick < 0 || f->call < 0)
		return -EINVAL;
	if (f->layout == LG_RING_DRAFT3 ? !f->d3_set : !f->vr.num || !f->vr.addr_set)
		return -EINVAL;
	if (fcntl(b->fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", b->fd);
	/*
	 * The module serves the launcher's own open file, which holds the
	 * image's lock (blk.c's image_lock()); our reopen is a new open
	 * file and would find it taken.  Hand the lock over to it.
	 */
	fcntl(b->fd, F_OFD_SETLK, &(struct flock){ .l_type = F_UNLCK, .l_whence = SEEK_SET });
	adding = f;
	blk_add(path, b->flags & LGH_BACKEND_RO, &ring, NULL);
	dev = f->dev;
	f->before = f->stats;
	f->broken = false;
	f->error[0] = '\0';
	if (f->layout == LG_RING_DRAFT3) {
		if (!d3_dev_init(&dev->d3, &f->mem, f->d3_key))
			fake_fail(f, dev->d3.error);
		queue_init_draft3(&dev->queue[QUEUE_D3_IN], &dev->d3, true);
		queue_init_draft3(&dev->queue[QUEUE_D3_OUT], &dev->d3, false);
	} else if (!queue_init_modern(&dev->queue[0], f->layout, &f->mem, "requestq", f->vr.num,
				      f->vr.desc, f->vr.driver, f->vr.device, event_idx,
				      indirect) ||
		   (f->vr.base && !queue_resume(&dev->queue[0], f->vr.base))) {
		fake_fail(f, queue_error(&dev->queue[0]));
	}
	dev->active = true;
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (f->stop_fd < 0 || pthread_create(&f->worker, NULL, worker, f))
		return -ENOMEM;
	f->running = true;
	return 0;
}

static void stop(struct fake *f)
{
	if (!f->running)
		return;
	write_eventfd(f->stop_fd);
	pthread_join(f->worker, NULL);
	close(f->stop_fd);
	f->running = false;
	if (f->layout != LG_RING_DRAFT3) {
		f->vr.base = queue_avail_pos(&f->dev->queue[0]);
		queue_destroy(&f->dev->queue[0]);
	}
}

/* --- the ioctls --------------------------------------------------------- */

static int set_mem_table(struct fake *f, const struct vhost_memory *m)
{
	if (m->padding || m->nregions > MAX_REGIONS)
		return -E2BIG;
	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct vhost_memory_region *r = &m->regions[i];

		if (r->flags_padding || !r->memory_size ||
		    r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
			return -EINVAL;
		f->regions[i] =
			(struct guest_mem_region){ r->guest_phys_addr, r->memory_size,
						   (uint8_t *)(uintptr_t)r->userspace_addr };
	}
	f->mem = (struct guest_mem){ .fd = -1, .regions = f->regions, .nregions = m->nregions };
	return 0;
}

/* The guest-physical address of our address @uaddr (vhost rings come as those). */
static bool gpa_of(const struct fake *f, uint64_t uaddr, uint64_t *gpa)
{
	for (unsigned int i = 0; i < f->mem.nregions; i++) {
		uint64_t start = (uintptr_t)f->regions[i].host;

		if (uaddr >= start && uaddr - start < f->regions[i].size) {
			*gpa = f->regions[i].gpa + (uaddr - start);
			return true;
		}
	}
	return false;
}

/* 0, or why @fd is no eventfd (as eventfd_fget() refuses it). */
static int check_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

static int set_fd(int *slot, int fd)
{
	int copy = -1;

	if (fd != -1) {
		int bad = check_eventfd(fd);

		if (bad)
			return bad;
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (copy < 0)
			return -errno;
	}
	if (*slot >= 0)
		close(*slot);
	*slot = copy;
	return 0;
}

/* The calls that would change a running device: host-module/main.c's list. */
static bool changes_device(unsigned long cmd)
{
	switch (cmd) {
	case VHOST_SET_FEATURES:
	case VHOST_SET_MEM_TABLE:
	case LGH_SET_DRAFT3:
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		return true;
	}
	return false;
}

static int fake_ioctl(struct fake *f, unsigned long cmd, void *arg)
{
	struct vhost_vring_state *s = arg;
	struct vhost_vring_file *vf = arg;
	struct vhost_vring_addr *a = arg;
	const struct lgh_backend *b = arg;

	if (cmd == VHOST_SET_OWNER) {
		if (f->owned)
			return -EBUSY;
		f->owned = true;
		return 0;
	}
	if (!f->owned)
		return -EPERM;
	if (f->running && changes_device(cmd))
		return -EBUSY;
	switch (cmd) {
	case VHOST_GET_FEATURES:
		*(uint64_t *)arg = FAKE_FEATURES;
		return 0;
	case VHOST_SET_FEATURES:
		if (*(uint64_t *)arg & ~FAKE_FEATURES)
			return -EOPNOTSUPP;
		f->features = *(uint64_t *)arg;
		if (f->layout != LG_RING_DRAFT3)
			f->layout = f->features & 1ULL << VIRTIO_F_RING_PACKED ? LG_RING_PACKED
									       : LG_RING_SPLIT;
		return 0;
	case VHOST_SET_MEM_TABLE:
		return set_mem_table(f, arg);
	case LGH_SET_DRAFT3:
		f->d3_key = ((struct lgh_draft3 *)arg)->key;
		f->d3_set = true;
		f->layout = LG_RING_DRAFT3;
		return 0;
	case VHOST_SET_VRING_NUM:
		if (s->index)
			return -ENOBUFS;
		if (!s->num || s->num > 32768)
			return -EINVAL;
		f->vr.num = s->num;
		return 0;
	case VHOST_SET_VRING_BASE:
		if (s->index)
			return -ENOBUFS;
		f->vr.base = s->num;
		return 0;
	case VHOST_GET_VRING_BASE:
		if (s->index)
			return -ENOBUFS;
		s->num = f->vr.base;
		return 0;
	case VHOST_SET_VRING_ADDR:
		if (a->index)
			return -ENOBUFS;
		if (a->flags)
			return -EOPNOTSUPP;
		if (!gpa_of(f, a->desc_user_addr, &f->vr.desc) ||
		    !gpa_of(f, a->avail_user_addr, &f->vr.driver) ||
		    !gpa_of(f, a->used_user_addr, &f->vr.device))
			return -EFAULT;
		f->vr.addr_set = true;
		return 0;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		if (vf->index)
			return -ENOBUFS;
		return set_fd(cmd == VHOST_SET_VRING_KICK   ? &f->kick
			      : cmd == VHOST_SET_VRING_CALL ? &f->call
							    : &f->err,
			      vf->fd);
	case LGH_SET_BACKEND:
		if (b->fd == -1) {
			stop(f);
			return 0;
		}
		if (b->flags & ~LGH_BACKEND_RO)
			return -EINVAL;
		return f->running ? -EBUSY : start(f, b);
	case LGH_GET_STATS:
		*(struct lgh_stats *)arg = f->stats;
		return 0;
	case LGH_GET_ERROR: {
		struct lgh_error *e = arg;

		memset(e, 0, sizeof(*e));
		if (__atomic_load_n(&f->broken, __ATOMIC_ACQUIRE))
			snprintf(e->msg, sizeof(e->msg), "%s", f->error);
		return 0;
	}
	}
	return -ENOTTY;
}

/* --- the "kernel" thread ---------------------------------------------- */

/* One ioctl at a time, handed from the launcher's thread to ours. */
static struct {
	pthread_mutex_t lock; /* the fields below */
	pthread_cond_t cond;
	pthread_mutex_t one_call; /* callers queue here */
	bool started, pending, quit;
	struct fake *f;
	unsigned long cmd;
	void *arg;
	int result;
	pthread_t thread;
} kernel = { .lock = PTHREAD_MUTEX_INITIALIZER,
	     .cond = PTHREAD_COND_INITIALIZER,
	     .one_call = PTHREAD_MUTEX_INITIALIZER };

static void *kernel_thread(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&kernel.lock);
	for (;;) {
		struct fake *f;

		while (!kernel.pending && !kernel.quit)
			pthread_cond_wait(&kernel.cond, &kernel.lock);
		if (kernel.quit)
			break;
		f = kernel.f;
		pthread_mutex_unlock(&kernel.lock);
		pthread_mutex_lock(&f->lock);
		kernel.result = fake_ioctl(f, kernel.cmd, kernel.arg);
		pthread_mutex_unlock(&f->lock);
		pthread_mutex_lock(&kernel.lock);
		kernel.pending = false;
		pthread_cond_broadcast(&kernel.cond);
	}
	pthread_mutex_unlock(&kernel.lock);
	return NULL;
}

/*
 * At exit (before LeakSanitizer's check, which runs later, from the
 * sanitizer runtime's destructor): the thread goes.  It was started
 * before the launcher dropped its capabilities, which are per thread, so
 * it still has root's, and a tracer without them could not stop it to
 * look for leaks.
 */
static void kernel_stop(void)
{
	pthread_mutex_lock(&kernel.lock);
	kernel.quit = true;
	pthread_cond_broadcast(&kernel.cond);
	pthread_mutex_unlock(&kernel.lock);
	pthread_join(kernel.thread, NULL);
}

/* At the first open of the device node: setup, before any seccomp filter. */
static bool kernel_start(void)
{
	bool ok = true;

	pthread_mutex_lock(&kernel.lock);
	if (!kernel.started) {
		ok = !pthread_create(&kernel.thread, NULL, kernel_thread, NULL);
		kernel.started = ok;
		if (ok)
			atexit(kernel_stop);
	}
	pthread_mutex_unlock(&kernel.lock);
	return ok;
}

/* The launcher's thread waits (futex only) while ours does the work. */
static int kernel_call(struct fake *f, unsigned long cmd, void *arg)
{
	int r;

	pthread_mutex_lock(&kernel.one_call);
	pthread_mutex_lock(&kernel.lock);
	kernel.f = f;
	kernel.cmd = cmd;
	kernel.arg = arg;
	kernel.pending = true;
	pthread_cond_broadcast(&kernel.cond);
	while (kernel.pending)
		pthread_cond_wait(&kernel.cond, &kernel.lock);
	r = kernel.result;
	pthread_mutex_unlock(&kernel.lock);
	pthread_mutex_unlock(&kernel.one_call);
	return r;
}

/* --- the interposed libc calls ----------------------------------------- */

static int fake_open(int flags)
{
	struct fake *f = NULL;
	int fd;

	if ((flags & O_ACCMODE) != O_RDWR) {
		errno = EACCES;
		return -1;
	}
	if (!kernel_start()) {
		errno = ENOMEM;
		return -1;
	}
	fd = memfd_create("lguest-host-fake", flags & O_CLOEXEC ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&fakes_lock);
	for (int i = 0; i < MAX_FAKES && !f; i++)
		if (fakes[i].fd < 0)
			f = &fakes[i];
	if (f) {
		*f = (struct fake){ .fd = fd,
				    .kick = -1,
				    .call = -1,
				    .err = -1,
				    .stop_fd = -1,
				    .layout = LG_RING_SPLIT };
		pthread_mutex_init(&f->lock, NULL);
	}
	pthread_mutex_unlock(&fakes_lock);
	if (!f) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	return fd;
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	find_libc();
	if (!strcmp(path, LGH_DEVICE))
		return fake_open(flags);
	return real_open(path, flags, mode);
}

/* The same call on 64-bit: off_t is already 64 bits. */
EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));

EXPORT int ioctl(int fd, unsigned long cmd, ...)
{
	struct fake *f = find(fd);
	void *arg;
	va_list ap;
	int r;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	find_libc();
	if (!f)
		return real_ioctl(fd, cmd, arg);
	r = kernel_call(f, cmd, arg);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}
