// SPDX-License-Identifier: GPL-2.0
/* iov.c: iovec views and small header copies (see iov.h). */
#include <string.h>

#include "iov.h"

int iov_slice(struct iovec *dst, int dst_max, const struct iovec *src, unsigned int n, uint64_t off,
	      uint64_t len)
{
	int out = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		uint64_t seg = src[i].iov_len;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		if (out == dst_max)
			return -1;
		dst[out].iov_base = (uint8_t *)src[i].iov_base + off;
		dst[out].iov_len = seg - off < len ? seg - off : len;
		len -= dst[out].iov_len;
		off = 0;
		out++;
	}
	return len ? -1 : out;
}

struct iovec *iov_advance(struct iovec *iov, int *n, size_t done)
{
	while (*n > 0 && done >= iov->iov_len) {
		done -= iov->iov_len;
		iov++;
		(*n)--;
	}
	if (*n > 0) {
		iov->iov_base = (uint8_t *)iov->iov_base + done;
		iov->iov_len -= done;
	}
	return iov;
}

static size_t iov_copy(const struct iovec *iov, unsigned int n, uint64_t off, void *buf, size_t len,
		       int to_buf, uint64_t *copied)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t seg = iov[i].iov_len, chunk;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		chunk = seg - off < len - done ? seg - off : len - done;
		if (to_buf)
			memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, chunk);
		else
			memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done,
			       chunk);
		done += chunk;
		off = 0;
	}
	if (copied)
		*copied += done;
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t off, void *buf, size_t len,
		  uint64_t *copied)
{
	return iov_copy(iov, n, off, buf, len, 1, copied);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, uint64_t off, const void *buf,
		    size_t len, uint64_t *copied)
{
	return iov_copy(iov, n, off, (void *)buf, len, 0, copied);
}
