/* SPDX-License-Identifier: GPL-2.0 */
/*
 * device.h: what every device has, whatever it does.
 *
 * A device is an entry in the guest's device table, its queues (in one of
 * three layouts, see ring/queue.h), one eventfd its NOTIFYs arrive on
 * (written by KVM through an ioeventfd or by the process backend's stub,
 * or by the vCPU loop with --no-ioeventfd), and one I/O thread that sleeps
 * on that eventfd and runs the device model's handler.  Device models
 * (blk, console) fill in struct device_ops and never see the backend.
 *
 * A draft3 device works from the start: its queue pages are ours and the
 * guest only zeroes them.  A split or packed device starts when the guest
 * sets DRIVER_OK (see lg_virtio.h): device_write_status() checks what the
 * guest wrote and sets the queues up, on the vCPU thread, under dev->lock,
 * which the device thread holds whenever it touches the queues.
 *
 * What a device model calls (device_add(), device_offer(),
 * device_config_space(), device_used(), device_fail(), device_queue_failed(),
 * device_signal()) has two implementations: device.c here, for the guest
 * the launcher runs, and vhost-blk/host.c in lguest-vhost-blk, which serves
 * the same block model to another VMM's guest over vhost-user.
 */
#ifndef LAUNCHER_DEVICE_H
#define LAUNCHER_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "guest_mem.h"
#include "lg_virtio.h"
#include "lguest_abi.h"
#include "options.h"
#include "ring/draft3_dev.h"
#include "ring/queue.h"
#include "sandbox/seccomp.h"

struct device;

struct device_ops {
	/* The guest notified us (or we were woken): serve the queues. */
	void (*notify)(struct device *dev);
	/* Optional: a file descriptor to watch as well (-1: none right now). */
	int (*extra_fd)(struct device *dev);
	void (*extra_ready)(struct device *dev);
	/* Optional: print the device's own counters (--verbose). */
	void (*print_stats)(struct device *dev);
	/*
	 * Optional: at exit, once the device stopped, bring dev->stats up to
	 * date from counters kept elsewhere (a device the kernel serves).
	 */
	void (*sync_stats)(struct device *dev);
	/*
	 * Optional, modern devices: the driver set DRIVER_OK and every queue
	 * checked out (dev->qaddr); false after device_fail().  And the
	 * device was reset (or stops at exit) after a start.
	 */
	bool (*start)(struct device *dev);
	void (*stop)(struct device *dev);
	/*
	 * External devices (below) only: the connection to the process that
	 * serves the queues (-1: none now; no peer_fd: none ever, as when the
	 * kernel serves them), and what to do when it is readable or hung
	 * up, with dev->lock held.
	 */
	int (*peer_fd)(struct device *dev);
	void (*peer_ready)(struct device *dev);
	/*
	 * Optional: the device broke (device_fail()): wait for anything it
	 * has in flight on the host, which must not touch guest memory once
	 * this returns.  With dev->lock held, on whichever thread failed it.
	 */
	void (*quiesce)(struct device *dev);
	/*
	 * Optional: start the model's own threads (an I/O engine's workers),
	 * after setup and before the device thread; each calls @enter(dev,
	 * its name) first, which locks it into the device's sandbox.
	 */
	void (*start_helpers)(struct device *dev, void (*enter)(void *dev, const char *name));
	/* Optional: more "key": value, pairs for the device's --stats-json object. */
	void (*json)(const struct device *dev, FILE *f);
	/* What the device thread may do once setup is over (sandbox/allowlist.c). */
	enum sandbox_role sandbox;
};

struct device_stats {
	uint64_t notifies;	     /* NOTIFY kicks received (either path) */
	uint64_t notify_exits;	     /* of which came through a vCPU exit */
	uint64_t chains;	     /* buffers (draft3: out or in) completed */
	uint64_t descs;		     /* descriptors walked */
	uint64_t bytes_read;	     /* payload read from guest memory */
	uint64_t bytes_written;	     /* payload written to guest memory */
	uint64_t bounce_bytes;	     /* payload copied through a launcher buffer */
	uint64_t header_bytes;	     /* protocol headers copied (not payload) */
	uint64_t signals;	     /* pending bit set for the guest */
	uint64_t signals_suppressed; /* completions the guest asked not to be signalled for */
	uint64_t wakeups;	     /* of which woke the vCPU from WAIT */
	uint64_t max_outstanding;    /* most requests published and not yet used */
	uint64_t polls_found;	     /* polling windows that found work (no NOTIFY needed) */
	uint64_t polls_expired;	     /* polling windows that ran out: then we slept */
	uint64_t cpu_ns;	     /* the device thread's CPU time (at exit) */
	uint64_t helper_cpu_ns;	     /* the model's own threads' (sync_stats()) */
};

struct device {
	char name[16];			      /* "console", "blk0" ... */
	unsigned int index;		      /* entry in the device table, bit in pending */
	volatile struct lg_device_desc *desc; /* in guest memory */
	uint32_t key;
	const struct guest_mem *mem;
	struct ring_opt ring; /* layout, qsize, features to offer */
	struct d3_dev d3;     /* draft3 only: both queues' state */
	struct queue queue[LG_VIRTIO_MAX_QUEUES];
	unsigned int nqueues;
	/*
	 * Modern: the first this many must be enabled at DRIVER_OK (0: all);
	 * the rest a driver may leave unused (a multi-queue device's).
	 */
	unsigned int queues_required;
	const char *const *queue_names;
	/* Modern devices only: */
	struct lg_virtio_cfg *vcfg; /* the config page, in guest memory */
	uint64_t features;	    /* negotiated (valid from FEATURES_OK) */
	struct {
		uint16_t size;
		uint64_t desc, driver, device;
	} qaddr[LG_VIRTIO_MAX_QUEUES]; /* what the guest set up, as checked at DRIVER_OK */
	/*
	 * Another process (vhost-user) or the kernel serves the queues:
	 * NOTIFYs go straight to it through notify_fd, and the device thread
	 * must not read it.
	 */
	bool external;
	uint8_t status; /* what we last accepted */
	const struct device_ops *ops;
	void *priv;
	int notify_fd;
	pthread_t thread;
	pthread_mutex_t lock;	 /* queues, active, broken vs. status changes */
	bool active;		 /* queues set up: draft3 always, modern after DRIVER_OK */
	unsigned int self_kicks; /* device_kick()s in the eventfd: not guest NOTIFYs */
	bool broken;
	struct device_stats stats;
};

/* Set up the device table and the shared page in guest memory. */
void devices_init(const struct guest_mem *mem, uint64_t mem_size);

/*
 * Add a device with the ring settings @ring: a draft3 device takes its six
 * queue pages from the top of RAM (and has queues "in" and "out"); a split
 * or packed one takes one config page and will have @nqueues queues named
 * @queue_names.  The model then fills in its configuration (draft3:
 * desc->config and desc->features; modern: device_config_space() and
 * device_offer()).
 */
struct device *device_add(const char *name, uint8_t type, const struct device_ops *ops, void *priv,
			  const struct ring_opt *ring, unsigned int nqueues,
			  const char *const *queue_names);

/* Modern devices: offer device-specific feature bits. */
void device_offer(struct device *dev, uint64_t features);
/* Modern devices: the device-specific configuration, @len bytes of it. */
void *device_config_space(struct device *dev, size_t len);
/* Whether feature bit @bit was negotiated (modern devices). */
static inline bool device_has_feature(const struct device *dev, unsigned int bit)
{
	return dev->features & (1ULL << bit);
}

/* The guest's STATUS hypercall (vCPU thread). */
void device_write_status(unsigned int index, uint64_t status);
/* Set the status the guest sees (device table, and config page if modern). */
void device_publish_status(struct device *dev, uint8_t status);
/* Wake the device thread as a NOTIFY would. */
void device_kick(struct device *dev);

/* Take @pages pages for @what from the top of RAM (dies if there is no room). */
uint64_t devices_take_pages(const char *what, unsigned int pages);

/* NOTIFYs the guest says it skipped for device @index (lg_shared). */
uint64_t devices_notify_skipped(unsigned int index);

/* The lowest device page: what the guest may use ends here. */
uint64_t devices_ram_top(void);
unsigned int device_count(void);
struct device *device_by_index(unsigned int i);
struct device *device_by_key(uint32_t key);

/*
 * Start every device thread.  @kick_flags: how NOTIFYs reach the eventfds
 * (LG_TR_F_EXIT through the vCPU loop, else the backend's fast path), for
 * the trace's kick events.
 */
void devices_start(uint8_t kick_flags);
/* Stop and join every device thread. */
void devices_stop(void);

/*
 * The guest broke a rule: say so once ("lguest: blk0: <why>"), stop the
 * device, mark it NEEDS_RESET in the table and signal the guest so it
 * notices.  Never returns an error to the guest through the ring: the
 * ring is exactly what we no longer trust.
 */
__attribute__((format(printf, 2, 3))) void device_fail(struct device *dev, const char *fmt, ...);

/* Tell the guest this device has used buffers. */
void device_signal(struct device *dev);

/*
 * After pushing chains on @q: signal the guest unless it asked us not to
 * (draft3's NO_SIGNAL, split's flag or used_event, packed's driver area).
 */
void device_used(struct device *dev, struct queue *q);

/* The queue broke a rule: device_fail() with its message. */
void device_queue_failed(struct device *dev, struct queue *q);

/*
 * WAIT, on the vCPU thread: block until a signal is pending, timeout_us
 * passes (0 = no timeout), or the launcher is stopping.  (The process
 * backend's stub does the same in the guest's process, on the same futex.)
 */
void guest_wait(uint64_t timeout_us);

/* Ask the vCPU loop and the device threads to stop (any thread). */
void request_stop(int status);
bool stop_requested(int *status);
int stop_eventfd(void);

void devices_print_stats(void);

#endif /* LAUNCHER_DEVICE_H */
