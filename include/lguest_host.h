/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lguest_host.h: the interface of host-module/ (lguest_host.ko), shared by
 * the module and the launcher.
 *
 * The module serves a block device's rings inside the kernel, as vhost
 * serves a network card's: the launcher opens /dev/lguest-host once per
 * device and describes the device with the vhost ioctls of <linux/vhost.h>,
 * which mean here what they mean there:
 *
 *   VHOST_SET_OWNER         the caller's mm is the one guest RAM lives in;
 *   VHOST_GET_FEATURES      what the kernel device can serve (virtio bits);
 *   VHOST_SET_FEATURES      what the guest's driver accepted;
 *   VHOST_SET_MEM_TABLE     guest-physical ranges and where the caller has
 *                           them mapped;
 *   VHOST_SET_VRING_NUM, _ADDR, _BASE, VHOST_GET_VRING_BASE
 *                           a modern ring (split or packed: VIRTIO_F_RING_PACKED
 *                           among the features says which);
 *   VHOST_SET_VRING_KICK    the eventfd the guest's NOTIFY writes (KVM's
 *                           ioeventfd, or the process backend's stub);
 *   VHOST_SET_VRING_CALL    the eventfd the device writes when it has used
 *                           buffers the guest asked to be told about;
 *   VHOST_SET_VRING_ERR     the eventfd the device writes when the guest
 *                           broke a ring rule; LGH_GET_ERROR then says which.
 *
 * Draft III (include/draft3.h) is not a vhost layout: its two queues share
 * six pages, a "running" flag and a no-signal flag, and one NOTIFY and one
 * signal serve both.  LGH_SET_DRAFT3 names the pages instead of the
 * VRING_NUM/ADDR/BASE calls, and ring index 0 carries the device's one
 * kick, call and err eventfd.
 *
 * LGH_SET_BACKEND hands over the image and starts the device (the rings
 * must be described by then); fd -1 stops it, after which no request is in
 * flight and the kernel touches guest RAM no more.
 */
#ifndef LGUEST_HOST_H
#define LGUEST_HOST_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vhost.h>

#define LGH_DEVICE "/dev/lguest-host"
#define LGH_MODULE "lguest_host"

/* Ours, next to vhost's 0xAF. */
#define LGH_IOC 0xB7

/* The six draft-III pages start at guest page frame @key. */
struct lgh_draft3 {
	__u64 key;
};

#define LGH_BACKEND_RO (1U << 0) /* refuse writes (VIRTIO_BLK_S_IOERR) */

/*
 * The disk image, opened by the launcher; fd -1 stops the device.  @serial
 * is what VIRTIO_BLK_T_GET_ID answers (NUL-padded, as the launcher's own).
 */
struct lgh_backend {
	__s32 fd;
	__u32 flags; /* LGH_BACKEND_* */
	__u8 serial[20];
	__u8 reserved[4]; /* zero */
};

/* What the device did, since VHOST_SET_OWNER. */
struct lgh_stats {
	__u64 requests;		       /* chains served */
	__u64 descs;		       /* descriptors walked to find them */
	__u64 kicks;		       /* kick eventfd reads that found it signalled */
	__u64 signals;		       /* call eventfd writes */
	__u64 suppressed;	       /* completions the guest asked not to hear about */
	__u64 read_bytes, write_bytes; /* between the image and guest pages */
	__u64 bounce_bytes;	       /* through a kernel buffer: always 0 */
	__u64 flushes;
};

/* The first rule the guest broke, with its queue's name; "" if none. */
struct lgh_error {
	char msg[192];
};

#define LGH_SET_DRAFT3	_IOW(LGH_IOC, 0x01, struct lgh_draft3)
#define LGH_SET_BACKEND _IOW(LGH_IOC, 0x02, struct lgh_backend)
#define LGH_GET_STATS	_IOR(LGH_IOC, 0x03, struct lgh_stats)
#define LGH_GET_ERROR	_IOR(LGH_IOC, 0x04, struct lgh_error)

#endif /* LGUEST_HOST_H */
