// SPDX-License-Identifier: GPL-2.0
/*
 * memory.c: VHOST_SET_MEM_TABLE, guest RAM as the launcher has it mapped.
 *
 * Each region says: guest-physical [gpa, gpa + size) is at the launcher's
 * user address uaddr.  The ring code turns guest addresses into user
 * addresses through this table (guest_ptr(), guest_iov() in
 * launcher/guest_mem.c), and the kernel then touches them only with the
 * uaccess helpers under the launcher's mm, so the worst a wrong table can
 * do is point the guest at other memory of the launcher's own.  Even so,
 * a table that could not be right is refused here, whole: empty regions,
 * regions that wrap or overlap, or that lie outside user space.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lgh.h"

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

int lgh_set_mem_table(struct lgh_dev *d, const struct vhost_memory __user *arg)
{
	struct guest_mem_region regions[LGH_MAX_REGIONS];
	struct vhost_memory_region r;
	struct vhost_memory hdr;
	unsigned int i, j;

	if (copy_from_user(&hdr, arg, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding || hdr.nregions > LGH_MAX_REGIONS)
		return -E2BIG;
	for (i = 0; i < hdr.nregions; i++) {
		if (copy_from_user(&r, &arg->regions[i], sizeof(r)))
			return -EFAULT;
		if (r.flags_padding || !r.memory_size ||
		    r.guest_phys_addr + r.memory_size < r.guest_phys_addr ||
		    r.userspace_addr + r.memory_size < r.userspace_addr ||
		    !access_ok((void __user *)(uintptr_t)r.userspace_addr, r.memory_size))
			return -EINVAL;
		for (j = 0; j < i; j++) {
			if (overlaps(r.guest_phys_addr, r.memory_size, regions[j].gpa,
				     regions[j].size))
				return -EINVAL;
		}
		regions[i] = (struct guest_mem_region){
			.gpa = r.guest_phys_addr,
			.size = r.memory_size,
			.host = (u8 *)(uintptr_t)r.userspace_addr,
		};
	}
	memcpy(d->regions, regions, sizeof(regions[0]) * hdr.nregions);
	d->mem.nregions = hdr.nregions;
	return 0;
}
