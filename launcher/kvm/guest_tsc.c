// SPDX-License-Identifier: GPL-2.0
/*
 * kvm/guest_tsc.c: how the vCPU's TSC relates to ours (see timebase.h).
 *
 * On VT-x and AMD-V the guest's rdtsc returns the host's TSC, scaled if
 * the vCPU's rate differs, plus an offset that KVM chose when it created
 * the vCPU (minus the host's count then, so the guest's starts near 0).
 * Kind A's software KVM runs the guest's rdtsc natively, unoffset, and
 * says so: its offset reads 0.  Either way we ask, in order:
 *
 *   1. KVM_VCPU_TSC_OFFSET (Linux 5.16+), an attribute of the vCPU: the
 *      offset itself, exactly;
 *   2. otherwise, KVM_GET_MSRS of IA32_TSC, which is the guest's count at
 *      the moment of the ioctl, between two reads of our own: the offset
 *      to within half that bracket (the tightest of a few tries).
 *
 * The rates: we never ask KVM for another TSC rate (KVM_SET_TSC_KHZ), so
 * the vCPU ticks at the VM's default, the host's.  Where KVM can tell the
 * VM's default (KVM_CAP_VM_TSC_CONTROL) and the vCPU's differs from it,
 * the TSC is scaled and the trace converts with both.
 *
 * All of these are vCPU ioctls, which wait while the vCPU runs: we ask
 * before the first KVM_RUN and once more after the last.  KVM moves the
 * offset while the guest runs when the host's TSC is unstable (each time
 * the vCPU thread is scheduled in, the guest's TSC resumes where it
 * stopped, then catches up); the trace then warns that its order across
 * the two sides is only good to that much (timebase.moved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

#include "kvm/kvm.h"
#include "log.h"

#define MSR_IA32_TSC 0x10
#define SAMPLES	     8

static bool offset_attribute(struct kvm_vm *k, uint64_t *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)offset,
	};

	return ioctl(k->vcpu_fd, KVM_HAS_DEVICE_ATTR, &attr) == 0 &&
	       ioctl(k->vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) == 0;
}

static bool offset_sampled(struct kvm_vm *k, struct timebase *tb, uint64_t *offset, uint64_t *error)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msr = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };
	bool got = false;

	for (int i = 0; i < SAMPLES; i++) {
		uint64_t before, after, off, err;

		before = __rdtsc();
		if (ioctl(k->vcpu_fd, KVM_GET_MSRS, &msr) != 1)
			return got;
		after = __rdtsc();
		off = timebase_offset_from_sample(tb, msr.e.data, before, after, &err);
		if (!got || err < *error) {
			*offset = off;
			*error = err;
			got = true;
		}
	}
	return got;
}

/*
 * LGUEST_KVM_TSC_OFFSET=measure takes the second way even where the first
 * works, as on kernels before 5.16: the tests compare what it measures with
 * what KVM says (tests/e2e, guest-tsc-measured).
 */
static bool measure_only(void)
{
	const char *how = getenv("LGUEST_KVM_TSC_OFFSET");

	return how && !strcmp(how, "measure");
}

/* Ask the vCPU's offset, the best way this KVM allows; false if none does. */
static bool read_offset(struct kvm_vm *k, struct timebase *tb, uint64_t *offset, uint64_t *error,
			const char **source)
{
	if (!measure_only() && offset_attribute(k, offset)) {
		*error = 0;
		*source = "KVM_VCPU_TSC_OFFSET";
		return true;
	}
	*source = "measured: KVM_GET_MSRS IA32_TSC between two rdtsc";
	return offset_sampled(k, tb, offset, error);
}

void kvm_learn_guest_tsc(struct kvm_vm *k, struct timebase *tb, uint64_t guest_khz)
{
	long vm_khz = -1;
	uint64_t exact;

	timebase_same(tb, guest_khz, "");
	if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TSC_CONTROL) > 0)
		vm_khz = ioctl(k->vm_fd, KVM_GET_TSC_KHZ, 0);
	if (vm_khz > 0)
		tb->host_khz = vm_khz;
	if (!read_offset(k, tb, &tb->offset, &tb->error, &tb->source)) {
		/* Only the trace cares, and its file says so (source). */
		tb->source = "assumed the host's: KVM told neither the offset nor the TSC";
	}
	if (tb->host_khz != tb->guest_khz)
		verbose("guest TSC scaled: %lu kHz on a %lu kHz host", (unsigned long)tb->guest_khz,
			(unsigned long)tb->host_khz);
	verbose("guest TSC = host TSC %+lld ticks (%s, +-%lu)",
		(long long)timebase_offset_signed(tb), tb->source, (unsigned long)tb->error);
	if (measure_only() && offset_attribute(k, &exact))
		verbose("guest TSC offset by KVM_VCPU_TSC_OFFSET: %+lld ticks", (long long)exact);
}

void kvm_check_guest_tsc(struct kvm_vm *k, struct timebase *tb)
{
	struct timebase now = *tb;
	const char *source;
	int64_t moved;

	if (!read_offset(k, &now, &now.offset, &now.error, &source))
		return;
	moved = (int64_t)(now.offset - tb->offset);
	if ((uint64_t)llabs(moved) > tb->error + now.error + 1)
		tb->moved = moved;
	verbose("guest TSC offset after the run: %+lld ticks (moved %+lld)",
		(long long)timebase_offset_signed(&now), (long long)tb->moved);
}
