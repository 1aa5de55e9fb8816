/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lg_trace.h: ring events, as both sides record them.
 *
 * With --trace the launcher sets aside a few pages at the top of guest RAM
 * for a trace ring and tells the guest where (boot->trace_gpa).  The guest's
 * driver-side code appends one struct lg_trace_event per step (a buffer
 * added, each of its descriptors, an index published, a NOTIFY issued or
 * skipped, a signal taken, a buffer reaped) and moves `head`; the launcher
 * drains entries up to `head` from another thread and moves `tail`.  No
 * event costs an exit.  When the ring is full the guest counts the event in
 * `dropped` and carries on: tracing never blocks the guest.
 *
 *   guest writes:  ev[head % size] = {...}; head++ (release)
 *   launcher:      reads ev[tail % size] up to head (acquire); tail++ (release)
 *
 * The launcher records its own, device-side events (a NOTIFY received, a
 * chain popped and its segments, I/O done, a buffer used, a signal sent or
 * suppressed, the vCPU waiting) in the same format.  Each side stamps with
 * its own rdtsc; under hardware virtualisation the guest's is offset (and
 * maybe scaled) from the host's, so the launcher maps guest stamps onto
 * the host's timeline as it drains them (launcher/timebase.h), then merges
 * the two streams by timestamp.
 */
#ifndef LG_TRACE_H
#define LG_TRACE_H

#include <stdint.h>

/* Driver (guest) side events. */
#define LG_TR_ADD	   1 /* id, idx = where the buffer went (head / slot), len = bytes */
#define LG_TR_ADD_DESC	   2 /* one descriptor of it: addr, len, flags LG_TR_F_* */
#define LG_TR_PUBLISH	   3 /* idx = avail index published (packed: next slot), len = buffers */
#define LG_TR_NOTIFY	   4 /* flags: LG_TR_F_SENT, or 0 if the device said not to */
#define LG_TR_SIGNAL_TAKEN 5 /* the pending bit for dev was set */
#define LG_TR_REAP \
	6 /* id, idx = used index reaped (packed: slot), len, addr = TSC ticks since add */
/* Device (launcher) side events. */
#define LG_TR_KICK     16 /* NOTIFY arrived: flags say how (LG_TR_F_EXIT, _STUB), len = kicks */
#define LG_TR_POP      17 /* id, idx = avail position consumed, len = bytes, addr = descriptors */
#define LG_TR_POP_DESC 18 /* one segment: addr (guest-physical), len, flags */
#define LG_TR_IO       19 /* id, len = payload bytes, flags = status byte (blk) */
#define LG_TR_USED     20 /* id, idx = used position after, len = bytes written */
#define LG_TR_SIGNAL   21 /* flags: LG_TR_F_SENT, or 0 = suppressed by the guest's request */
/* The vCPU's track; recorded by the guest around WAIT, which the launcher
 * does not see on the process backend. */
#define LG_TR_WAIT   22 /* vCPU entered WAIT (dev = LG_TR_NO_DEV) */
#define LG_TR_WAKE   23 /* vCPU left WAIT; addr = TSC ticks asleep */
#define LG_TR_STATUS 24 /* modern device status written: len = new status */
#define LG_TR_ERROR  25 /* the device stopped (the message went to stderr) */

#define LG_TR_F_WRITE	 0x01 /* descriptor: device-writable */
#define LG_TR_F_INDIRECT 0x02 /* descriptor: through an indirect table */
#define LG_TR_F_SENT	 0x01 /* NOTIFY / SIGNAL: done (else suppressed) */
#define LG_TR_F_EXIT	 0x02 /* KICK: came through a vCPU exit, not ioeventfd */
#define LG_TR_F_STUB	 0x04 /* KICK: the process backend's stub wrote the eventfd */

#define LG_TR_NO_DEV 0xff

struct lg_trace_event {
	uint64_t tsc;
	uint8_t type;  /* LG_TR_* */
	uint8_t dev;   /* device table index, or LG_TR_NO_DEV */
	uint8_t queue; /* the device's queue (draft3: 0 in, 1 out) */
	uint8_t flags;
	uint32_t id;  /* buffer id: draft3/split head, packed buffer id */
	uint32_t idx; /* a ring position, see each type */
	uint32_t len;
	uint64_t addr;
};

#define LG_TRACE_RING_OFFSET 64 /* ev[] starts here, after the header */

struct lg_trace_ring {
	uint64_t head;	  /* guest: events written (free running) */
	uint64_t tail;	  /* launcher: events drained */
	uint64_t dropped; /* guest: events lost because the ring was full */
	uint32_t size;	  /* entries, a power of two */
	uint32_t reserved;
};

_Static_assert(sizeof(struct lg_trace_event) == 32, "trace events are 32 bytes");

#endif /* LG_TRACE_H */
