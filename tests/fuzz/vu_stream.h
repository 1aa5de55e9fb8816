/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vu_stream.h: turning a fuzz input into what a vhost-user frontend sends,
 * for the harnesses of both ends' parsers (fuzz_vhost_user.c,
 * fuzz_vhost_session.c).
 *
 * The input is a list of sends, each
 *
 *	u8 nfds (low 4 bits; up to 15, more than vhost-user's 8) |
 *	u8 kind per fd | u16 length | length bytes
 *
 * and each becomes one sendmsg() on a UNIX stream socket, the fds as
 * SCM_RIGHTS, so message bytes and fds arrive as a real peer's would, in
 * pieces or several messages to a send.  An fd's kind picks it from a
 * pool made once: memfds of several sizes (for SET_MEM_TABLE), an
 * eventfd (kick, call, err), a pipe, an O_PATH fd and /dev/null (which
 * cannot be mapped).  Then the sending end is shut down, so the reader
 * meets a clean end of stream, never a wait.
 *
 * With bit 4 of the first byte set, the entry is not a send but a poke
 * of guest memory, for the rings a session then serves:
 *
 *	u8 0x10 | u16 offset | u16 length | length bytes
 *
 * written at offset % 64 KiB of the 64 KiB memfd.  Every input starts
 * from memfds of zeros and an eventfd that reads 0, whatever the last
 * input left there.
 */
#ifndef TESTS_FUZZ_VU_STREAM_H
#define TESTS_FUZZ_VU_STREAM_H

#include <stdbool.h>

#include "common.h"

#define VU_STREAM_KINDS	    8
#define VU_STREAM_MAX_SENDS 64
#define VU_STREAM_POKE	    0x10

/* Sizes of the memfds among the kinds, for seeds and checks. */
#define VU_STREAM_MEMFD_64K 0 /* 64 KiB */
#define VU_STREAM_MEMFD_2M  1 /* 2 MiB, sparse */
#define VU_STREAM_MEMFD_0   2 /* empty */
#define VU_STREAM_MEMFD_ODD 3 /* 4196 bytes: not whole pages */
#define VU_STREAM_EVENTFD   4
#define VU_STREAM_PIPE	    5
#define VU_STREAM_OPATH	    6
#define VU_STREAM_DEVNULL   7

/* Make the pool (once; dies on failure). */
void vu_stream_init(void);

/*
 * A connected pair: the input's sends written into *@peer's end, which is
 * then shut down for writing; read the messages from *@sock.  The peer
 * end stays open (a backend's replies go there) until the caller closes
 * both.
 */
void vu_stream_open(struct fuzz_input *in, int *sock, int *peer);

/* Make the eventfd readable: a kick waiting when the session starts. */
void vu_stream_kick(void);

/*
 * Which fds below 256 are open, as a bitmap: equal before and after an
 * input, or something leaked (or was closed twice).
 */
struct vu_fdset {
	unsigned long bits[256 / (8 * sizeof(unsigned long))];
};
void vu_fds_snapshot(struct vu_fdset *s);
void vu_fds_check(const struct vu_fdset *before, const char *when);

#endif /* TESTS_FUZZ_VU_STREAM_H */
