/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iov.h: working with the iovecs of a chain without copying payload.
 *
 * iov_slice() makes a view of [off, off + len) of an iovec array (a new
 * array of segment descriptors, the bytes stay in guest memory), which is
 * how a device skips a header to reach the data.  iov_to_buf() and
 * iov_from_buf() do copy, and are only for small protocol headers; each
 * copy is added to the caller's counter so the stats can show that payload
 * never takes that path.
 */
#ifndef LAUNCHER_IOV_H
#define LAUNCHER_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* View of [off, off + len) of src in dst (at most dst_max entries); returns entries or -1. */
int iov_slice(struct iovec *dst, int dst_max, const struct iovec *src, unsigned int n, uint64_t off,
	      uint64_t len);

/*
 * Step the array past @done bytes that a readv/writev/preadv/pwritev
 * moved: whole segments are dropped, a partial one is trimmed.  Returns
 * the new start; *n becomes the number of segments left.
 */
struct iovec *iov_advance(struct iovec *iov, int *n, size_t done);

/* Copy out/in up to len bytes at off; returns bytes copied; adds them to *copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t off, void *buf, size_t len,
		  uint64_t *copied);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, uint64_t off, const void *buf,
		    size_t len, uint64_t *copied);

#endif /* LAUNCHER_IOV_H */
