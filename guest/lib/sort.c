// SPDX-License-Identifier: GPL-2.0
/*
 * sort.c: heapsort for arrays of u64.  Heapsort because it needs neither
 * recursion nor extra memory and has no quadratic worst case: the guest's
 * stack is small and fixed.
 */
#include "lib.h"

/*
 * Move v[i] down the max-heap v[0..n) until both its children are no
 * larger.  The children of i are 2i + 1 and 2i + 2.
 */
static void sift_down(uint64_t *v, size_t i, size_t n)
{
	uint64_t x = v[i];

	/* i < n / 2 means i has at least one child, and 2i + 1 cannot overflow. */
	while (i < n / 2) {
		size_t c = 2 * i + 1;

		if (c + 1 < n && v[c + 1] > v[c])
			c++;
		if (v[c] <= x)
			break;
		v[i] = v[c];
		i = c;
	}
	v[i] = x;
}

void sort_u64(uint64_t *v, size_t n)
{
	if (n < 2)
		return;

	/* Heapify: every node from the last parent up to the root. */
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);

	/* Move the largest to the end, then restore the heap on what is left. */
	for (size_t end = n - 1; end > 0; end--) {
		uint64_t top = v[0];

		v[0] = v[end];
		v[end] = top;
		sift_down(v, 0, end);
	}
}
