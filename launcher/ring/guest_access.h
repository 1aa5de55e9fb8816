/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_access.h: how the ring code reads and writes guest memory.
 *
 * The device side of the three layouts (draft3_dev.c, split_dev.c,
 * packed_dev.c, and queue.c over them) is built twice: into the launcher,
 * and into host-module/, which serves the same rings inside the kernel.
 * Only this header differs between the two.
 *
 * In the launcher, guest RAM is mapped into our own address space, so a
 * guest word is read with a relaxed atomic load: one untorn read the
 * compiler will not repeat, so the copy we check is the copy we use.  The
 * acquire and release forms order the index against the entries behind it
 * (the guest fills entries, then publishes the index), and the fence is
 * the full barrier that notification suppression needs between "I stopped
 * listening" and "is there more?".
 *
 * In the kernel, guest RAM is the launcher's user memory.  The kernel may
 * touch it only through the uaccess helpers, with the launcher's mm in use
 * (the device's worker does that), and any access can fault: the launcher
 * may have unmapped it.  A fault cannot be a ring rule the guest broke, and
 * the ring code does not expect one; so here it reads as 0, the value is
 * recorded in *@m->fault, and the caller checks that flag after each ring
 * call and stops the device.  The zeroes cannot take the ring code anywhere
 * unsafe: every value it reads is checked before use, and every address it
 * follows is again a user address.  The barriers are those vhost uses on
 * the same rings (smp_rmb after reading an index, smp_wmb before
 * publishing one).
 *
 * @m is the queue's struct guest_mem; the launcher ignores it.  @x is an
 * lvalue in guest memory (a field of a ring structure), never a local.
 * Pointers into guest memory are declared __guest: __user in the kernel,
 * for sparse, and nothing in the launcher.
 */
#ifndef LAUNCHER_RING_GUEST_ACCESS_H
#define LAUNCHER_RING_GUEST_ACCESS_H

#include "guest_mem.h"

#ifdef __KERNEL__

#include <linux/compiler.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define __guest __user

static inline void guest_faulted(const struct guest_mem *m)
{
	if (m->fault)
		WRITE_ONCE(*m->fault, true);
}

#define GUEST_READ(m, x)                            \
	({                                          \
		__unqual_scalar_typeof(x) v_;       \
		if (unlikely(get_user(v_, &(x)))) { \
			guest_faulted(m);           \
			v_ = 0;                     \
		}                                   \
		v_;                                 \
	})
#define GUEST_READ_ACQUIRE(m, x)                                 \
	({                                                       \
		__unqual_scalar_typeof(x) a_ = GUEST_READ(m, x); \
		smp_rmb();                                       \
		a_;                                              \
	})
#define GUEST_WRITE(m, x, v)                                      \
	do {                                                      \
		if (unlikely(put_user((__typeof__(x))(v), &(x)))) \
			guest_faulted(m);                         \
	} while (0)
#define GUEST_WRITE_RELEASE(m, x, v)  \
	do {                          \
		smp_wmb();            \
		GUEST_WRITE(m, x, v); \
	} while (0)
/* Only the device writes these flags words, so a read-modify-write is enough. */
#define GUEST_SET_BITS(m, x, bits)   GUEST_WRITE(m, x, GUEST_READ(m, x) | (bits))
#define GUEST_CLEAR_BITS(m, x, bits) GUEST_WRITE(m, x, GUEST_READ(m, x) & ~(bits))
/* Copy @n bytes the guest may be changing; as one value, checked after. */
#define GUEST_COPY(m, dst, src, n)                           \
	do {                                                 \
		if (unlikely(copy_from_user(dst, src, n))) { \
			guest_faulted(m);                    \
			memset(dst, 0, n);                   \
		}                                            \
	} while (0)
#define guest_fence() smp_mb()

#else /* the launcher */

#include <string.h>

#define __guest

/* (@m is evaluated for nothing, so a caller's parameter is never unused.) */
#define GUEST_READ(m, x)                                 \
	({                                               \
		(void)(m);                               \
		__atomic_load_n(&(x), __ATOMIC_RELAXED); \
	})
#define GUEST_READ_ACQUIRE(m, x)                         \
	({                                               \
		(void)(m);                               \
		__atomic_load_n(&(x), __ATOMIC_ACQUIRE); \
	})
#define GUEST_WRITE(m, x, v)                                   \
	({                                                     \
		(void)(m);                                     \
		__atomic_store_n(&(x), (v), __ATOMIC_RELAXED); \
	})
#define GUEST_WRITE_RELEASE(m, x, v)                           \
	({                                                     \
		(void)(m);                                     \
		__atomic_store_n(&(x), (v), __ATOMIC_RELEASE); \
	})
#define GUEST_SET_BITS(m, x, bits)                                 \
	({                                                         \
		(void)(m);                                         \
		__atomic_fetch_or(&(x), (bits), __ATOMIC_RELAXED); \
	})
#define GUEST_CLEAR_BITS(m, x, bits)                                 \
	({                                                           \
		(void)(m);                                           \
		__atomic_fetch_and(&(x), ~(bits), __ATOMIC_RELAXED); \
	})
/*
 * The spec asks no alignment of some tables (indirect descriptors), so a
 * field there may straddle its natural boundary and an atomic load of it
 * would be undefined: copy the bytes.  The compiler barrier then tells the
 * compiler the guest's bytes may have changed since, so it cannot replace
 * a use of our copy with a second read of guest memory.  (A guest changing
 * them during the copy gets a mixture, which is checked like any value.)
 */
#define GUEST_COPY(m, dst, src, n)                     \
	do {                                           \
		(void)(m);                             \
		memcpy(dst, src, n);                   \
		__asm__ __volatile__("" ::: "memory"); \
	} while (0)
#define guest_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif /* __KERNEL__ */

#endif /* LAUNCHER_RING_GUEST_ACCESS_H */
