// SPDX-License-Identifier: GPL-2.0
/*
 * setup.c: from exec to the guest's first instruction.
 *
 * The launcher execs us with the channel, the guest RAM memfd and the
 * notify eventfds at fixed numbers (stub_abi.h) and sends the
 * configuration.  We map guest RAM at virtual = physical addresses, remove
 * everything else from the address space, install the fault handlers,
 * give up every capability, make the configuration read-only, lock
 * ourselves in with the seccomp filter, say we are ready and, when told
 * to, jump to the guest.  Each step that fails is reported (which step,
 * and the errno) and ends the process: a half-built sandbox never runs a
 * guest.
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/mman.h>
#include <linux/prctl.h>

#include "stub.h"

/* Guest RAM ends here at most (stub_abi.h: "at most 64 GiB"). */
#define RAM_LIMIT (64ULL << 30)

/*
 * The top of the user address space with 4-level paging.  With 5-level
 * paging there is more above it, but the kernel places nothing there
 * unless asked to, and exec does not ask.
 */
#define USER_END ((1ULL << 47) - STUB_PAGE_SIZE)

union stub_config_page stub_config_page __attribute__((aligned(STUB_PAGE_SIZE)));

static uint64_t page_up(uint64_t a)
{
	return (a + STUB_PAGE_SIZE - 1) & ~(STUB_PAGE_SIZE - 1);
}

static int in_ram(const struct stub_config *c, uint64_t gpa)
{
	return gpa >= c->ram_start && gpa < c->ram_end;
}

/*
 * The launcher is trusted, but a bad value here would map RAM over
 * ourselves or point the filter at the wrong futex: better to say so.
 */
static int config_ok(const struct stub_config *c)
{
	return c->magic == STUB_CONFIG_MAGIC && c->ram_start == LG_LOW_LIMIT &&
	       c->ram_end > c->ram_start && c->ram_end == page_up(c->ram_end) &&
	       c->ram_end <= RAM_LIMIT && c->num_devices <= LG_MAX_DEVICES &&
	       !(c->flags & ~(uint32_t)STUB_F_NOTIFY_DIRECT) && in_ram(c, c->entry) &&
	       in_ram(c, c->boot_params) && in_ram(c, c->stack_top) && in_ram(c, c->shared_gpa) &&
	       c->shared_gpa % sizeof(uint64_t) == 0 &&
	       c->ram_end - c->shared_gpa >= sizeof(struct lg_shared);
}

/* The first packet, into the page that becomes read-only later. */
static void read_config(void)
{
	long n = sys3(__NR_read, STUB_FD_CHANNEL, stub_config_page.bytes,
		      sizeof(stub_config_page.bytes));

	if (sys_failed(n))
		stub_setup_failed(STUB_SETUP_CONFIG, -n);
	if (n != sizeof(struct stub_config))
		stub_setup_failed(STUB_SETUP_CONFIG, EMSGSIZE);
	if (!config_ok(cfg()))
		stub_setup_failed(STUB_SETUP_CONFIG, EINVAL);
}

/*
 * File offset == guest-physical address, so the launcher's one memfd
 * serves both of us.  MAP_FIXED_NOREPLACE never clobbers a mapping of
 * ours; a kernel too old to know it takes it as a hint, hence the check of
 * the address.
 */
static void map_ram(void)
{
	const struct stub_config *c = cfg();
	long addr = sys6(__NR_mmap, c->ram_start, c->ram_end - c->ram_start,
			 PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE,
			 STUB_FD_MEMFD, c->ram_start);
	long err;

	if (sys_failed(addr))
		stub_setup_failed(STUB_SETUP_MAP_RAM, -addr);
	if ((uint64_t)addr != c->ram_start)
		stub_setup_failed(STUB_SETUP_MAP_RAM, EEXIST);
	err = sys1(__NR_close, STUB_FD_MEMFD);
	if (err)
		stub_setup_failed(STUB_SETUP_MAP_RAM, -err);
}

static void unmap(uint64_t start, uint64_t end)
{
	long err;

	if (end <= start)
		return;
	err = sys2(__NR_munmap, start, end - start);
	if (err)
		stub_setup_failed(STUB_SETUP_UNMAP, -err);
}

/*
 * Keep guest RAM and our own image, drop the rest: the exec stack (with
 * argv, environment and auxv), [vdso], [vvar] and anything else exec put
 * there.  munmap of a range with nothing in it succeeds, so we unmap the
 * gaps between what we keep instead of reading /proc/self/maps (which we
 * could not open later anyway).  [vsyscall] lies above USER_END and
 * cannot be unmapped at all (README.md).
 */
static void unmap_rest(void)
{
	const struct stub_config *c = cfg();
	uint64_t image_start = (uint64_t)__executable_start;
	uint64_t image_end = page_up((uint64_t)_end);

	/* stub.mk's -Ttext-segment must say STUB_LOAD_ADDR, as the launcher assumes. */
	if (image_start != STUB_LOAD_ADDR || c->ram_end > image_start || image_end > USER_END)
		stub_setup_failed(STUB_SETUP_UNMAP, 0);
	unmap(0, c->ram_start);
	unmap(c->ram_end, image_start);
	unmap(image_end, USER_END);
}

/*
 * The launcher may run as root.  With no capabilities left, uid 0 in here
 * is worth nothing more than any other uid to the few system calls the
 * filter allows.  NO_NEW_PRIVS: the launcher sets it too, but the filter
 * needs it, and it costs nothing to be sure.
 */
static void drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
	long err;

	memset(none, 0, sizeof(none));
	err = sys2(__NR_capset, &hdr, none);
	if (!err)
		err = sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
	if (err)
		stub_setup_failed(STUB_SETUP_CAPS, -err);
}

/* The NOTIFY keys and the futex address must not be the guest's to change. */
static void protect_config(void)
{
	long err = sys3(__NR_mprotect, &stub_config_page, sizeof(stub_config_page), PROT_READ);

	if (err)
		stub_setup_failed(STUB_SETUP_PROTECT, -err);
}

static void lock_in(void)
{
	long err = stub_install_filter();

	if (err)
		stub_setup_failed(STUB_SETUP_SECCOMP, -err);
}

/* Tell the launcher where the hypercall page is, and wait for "go". */
static void ready(void)
{
	struct stub_msg m;

	memset(&m, 0, sizeof(m));
	m.type = STUB_MSG_READY;
	m.args[0] = (uint64_t)stub_hcall_page;
	if (stub_send(&m))
		stub_exit(STUB_EXIT_LOST);
	stub_wait_reply();
}

__attribute__((noreturn)) void stub_main(void)
{
	const struct stub_config *c = cfg();

	read_config();
	map_ram();
	unmap_rest();
	stub_install_signals();
	drop_privileges();
	protect_config();
	lock_in();
	ready();
	stub_enter_guest(c->entry, c->boot_params, c->stack_top);
}
