/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lguest_abi.h: the contract between the launcher and the guest kernel.
 *
 * Everything the two sides agree on without negotiating lives here: the
 * I/O ports the guest writes to call the launcher ("hypercalls"), where the
 * launcher puts things in guest-physical memory before the first
 * instruction runs, the boot parameters, the device table and the shared
 * page that carries signals from devices to the guest.
 *
 * This header is included by freestanding guest code and by the hosted
 * launcher, so it only uses <stdint.h>.
 */
#ifndef LGUEST_ABI_H
#define LGUEST_ABI_H

/* The boot assembly needs only the numbers below, not the C types. */
#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define LG_PAGE_SHIFT 12
#define LG_PAGE_SIZE  (1UL << LG_PAGE_SHIFT)

/*
 * Hypercalls.  The guest never executes a hypercall instruction itself: it
 * `call`s an entry in the *hypercall page* whose address the launcher puts
 * in the boot parameters, as Xen guests do.  Entry N is at hcall_page +
 * N * LG_HCALL_ENTRY_SIZE and follows the SysV calling convention: first
 * argument in %rdi, second in %rsi; it may clobber every caller-saved
 * register.  That one indirection lets the same guest binary run on both
 * backends:
 *
 *   kvm:      the page is in guest RAM and each entry is a port write
 *             (`mov %edi,%eax; out %eax,$LG_PORT_BASE+N; ret`).  On this
 *             platform no hypercall instruction reaches userspace (see
 *             PLATFORM.md), but an `out` exits to the launcher, which reads
 *             the arguments from the synced registers.  NOTIFY carries the
 *             device key in %eax, so the launcher can register one
 *             ioeventfd per device with datamatch = key and the kernel
 *             wakes that device's thread without the vCPU leaving KVM_RUN.
 *   process:  the page is the sandboxed stub's code, outside guest RAM
 *             (launcher/process/).  An entry is a plain call: NOTIFY
 *             writes the device's eventfd, WAIT sleeps on a futex in the
 *             shared page, the rest are messages to the launcher.
 */
#define LG_HC_NOTIFY   0 /* %rdi = device key */
#define LG_HC_CONSOLE  1 /* early print: %rdi = gpa, %rsi = length */
#define LG_HC_WAIT     2 /* block until a signal is pending; %rdi = timeout in us, 0 = none */
#define LG_HC_SHUTDOWN 3 /* %rdi = exit status */
#define LG_HC_CRASH    4 /* %rdi = gpa of message, %rsi = length */
#define LG_HC_STATUS   5 /* modern device status: %rdi = device index, %rsi = status */
#define LG_NR_HCALLS   6

#define LG_HCALL_ENTRY_SIZE 32

/* On KVM, hypercall N is a 32-bit write to port LG_PORT_BASE + N. */
#define LG_PORT_BASE	 0xf0
#define LG_PORT_NOTIFY	 (LG_PORT_BASE + LG_HC_NOTIFY)
#define LG_PORT_CONSOLE	 (LG_PORT_BASE + LG_HC_CONSOLE)
#define LG_PORT_WAIT	 (LG_PORT_BASE + LG_HC_WAIT)
#define LG_PORT_SHUTDOWN (LG_PORT_BASE + LG_HC_SHUTDOWN)
#define LG_PORT_CRASH	 (LG_PORT_BASE + LG_HC_CRASH)
#define LG_PORT_STATUS	 (LG_PORT_BASE + LG_HC_STATUS)

/*
 * Guest-physical memory map.  The launcher owns the first megabyte; the
 * kernel image is linked and loaded at LG_KERNEL_BASE and above; device
 * queue pages are carved from the top of RAM (above boot->ram_top), as the
 * original lguest launcher put its device pages above the guest's memory.
 *
 * Nothing lives below LG_LOW_LIMIT (64 KiB): the process backend maps RAM
 * at virtual = physical addresses, and an unprivileged process may not map
 * below vm.mmap_min_addr, which is 65536 on Debian.  The guest finds every
 * one of these through the boot parameters, never by its constant.
 *
 *   0x00000  unused (not mapped at all on the process backend)
 *   0x10000  struct lg_boot_params, then the command line
 *   0x11000  device table (LG_MAX_DEVICES x struct lg_device_desc)
 *   0x12000  struct lg_shared (the pending-signal word, the wake word, ...)
 *   0x13000  GDT                                    (kvm only)
 *   0x14000  TSS                                    (kvm only)
 *   0x15000  hypercall page                         (kvm only)
 *   0x16000  boot stack, one page, top at 0x17000   (kvm only)
 *   0x18000  PML4, 0x19000 PDPT, 0x1a000.. page directories (2 MiB pages, kvm only)
 *   0x100000 kernel image (ELF PT_LOAD segments at their physical addresses)
 *   ...      free RAM for the guest's page allocator, up to ram_top
 *   ram_top  device queue pages, up to mem_size
 */
#define LG_LOW_LIMIT	    0x10000UL
#define LG_BOOT_PARAMS_GPA  0x10000UL
#define LG_DEVICE_TABLE_GPA 0x11000UL
#define LG_SHARED_GPA	    0x12000UL
#define LG_GDT_GPA	    0x13000UL
#define LG_TSS_GPA	    0x14000UL
#define LG_HCALL_PAGE_GPA   0x15000UL
#define LG_BOOT_STACK_TOP   0x17000UL
#define LG_PML4_GPA	    0x18000UL
#define LG_PDPT_GPA	    0x19000UL
#define LG_PD_GPA	    0x1a000UL
#define LG_MAX_PD_PAGES	    64 /* 64 x 1 GiB: the largest --mem */
#define LG_KERNEL_BASE	    0x100000UL

/* GDT selectors (Linux's layout, which SYSCALL/SYSRET expect). */
#define LG_SEL_KERNEL_CS 0x10
#define LG_SEL_KERNEL_DS 0x18
#define LG_SEL_USER_DS	 0x2b
#define LG_SEL_USER_CS	 0x33
#define LG_SEL_TSS	 0x40

#ifndef __ASSEMBLER__

#define LG_BOOT_MAGIC  0x6c67756573740a04ULL /* "lguest\n" + version 4 */
#define LG_CMDLINE_MAX (LG_PAGE_SIZE - sizeof(struct lg_boot_params))

/* At entry %rdi holds LG_BOOT_PARAMS_GPA; all memory is identity mapped. */
struct lg_boot_params {
	uint64_t magic;
	uint64_t mem_size;    /* bytes of guest RAM */
	uint64_t ram_top;     /* the guest may use [kernel end, ram_top) */
	uint64_t tsc_khz;     /* rdtsc ticks per millisecond */
	uint64_t devices_gpa; /* device table */
	uint32_t num_devices;
	uint32_t flags;	     /* LG_BOOT_F_* */
	uint64_t shared_gpa; /* struct lg_shared */
	uint64_t cmdline_gpa;
	uint32_t cmdline_len; /* without the terminating NUL */
	uint32_t reserved;
	uint64_t trace_gpa;  /* struct lg_trace_ring (lg_trace.h), or 0: no tracing */
	uint64_t hcall_page; /* the hypercall page (a guest address; see above) */
};

/* Device types, as in lguest's device table. */
#define LG_DEV_CONSOLE 1
#define LG_DEV_NET     2
#define LG_DEV_BLOCK   3

/* Ring layouts a device can use. */
#define LG_RING_DRAFT3 0 /* 2007 virtio draft III: in + out queue, 6 pages */
#define LG_RING_SPLIT  1 /* virtio 1.x split virtqueue */
#define LG_RING_PACKED 2 /* virtio 1.1 packed virtqueue */

/*
 * Status bits, numbered as virtio's device status.  The launcher sets
 * NEEDS_RESET when the guest broke a ring rule and the device stopped.
 */
#define LG_STATUS_NEEDS_RESET 0x40

#define LG_MAX_DEVICES 64 /* one bit each in lg_shared.pending */

/*
 * One 64-byte entry per device in the device table page.  A draft3 device's
 * key is the page frame of its six queue pages; a split or packed device's
 * key is the page frame of its one config page (struct lg_virtio_cfg in
 * lg_virtio.h), through which the guest negotiates features and says where
 * it put the rings.
 */
struct lg_device_desc {
	uint8_t type;	    /* LG_DEV_* */
	uint8_t layout;	    /* LG_RING_* */
	uint8_t num_pages;  /* queue (draft3) or config (modern) pages at key << LG_PAGE_SHIFT */
	uint8_t status;	    /* LG_STATUS_*; a modern device mirrors its virtio status here */
	uint32_t key;	    /* the value to write to LG_PORT_NOTIFY */
	uint64_t features;  /* LG_BLK_F_* ... */
	uint64_t config[6]; /* device specific, see below */
};

/* Draft3 block device: config[0] = capacity in 512-byte sectors. */
#define LG_BLK_CFG_CAPACITY 0
#define LG_BLK_F_RO	    (1ULL << 5) /* same bit as VIRTIO_BLK_F_RO */
#define LG_SECTOR_SIZE	    512

/* Draft3 network device: config[0] holds the guest's MAC address (6 bytes). */
#define LG_NET_CFG_MAC 0

/*
 * The shared page.  A device that has put buffers in a used ring sets its
 * bit in `pending` (device index in the table) and, if the vCPU is blocked
 * in WAIT, wakes it.  The guest takes the bits with an atomic exchange.
 *
 * WAIT sleeps on `wake_seq`, a futex word (32 bits, as futexes are), on
 * both backends: the waiter reads wake_seq, sets `waiting`, re-checks
 * `pending` and sleeps only if wake_seq is unchanged; a signaller sets its
 * bit, and if `waiting` is set bumps wake_seq and wakes the futex.  With
 * sequentially consistent operations on both sides one of them always sees
 * the other, so no wakeup is lost.  Both words belong to the WAIT
 * hypercall's implementation (the launcher's or the stub's), not to guest
 * code, which leaves them alone.
 */
struct lg_shared {
	uint64_t pending;
	uint32_t wake_seq;
	uint32_t waiting;
	/*
	 * Counted by the guest, read by the launcher at exit (--stats): per
	 * device, the times the driver published buffers but skipped NOTIFY
	 * because the device said it need not (the one event the launcher
	 * cannot see for itself).  Informational only: never trusted.
	 */
	uint64_t notify_skipped[LG_MAX_DEVICES];
};

#endif /* !__ASSEMBLER__ */

/* stdin is a terminal: the shell may echo and edit lines. */
#define LG_BOOT_F_INTERACTIVE 1
/*
 * The guest runs as a host process (the process backend), at CPL3 with no
 * descriptor tables of its own: skip the privileged boot steps (IDT,
 * going native).  Its exceptions become host signals the launcher reports.
 */
#define LG_BOOT_F_UNPRIVILEGED 2

/* For entry.S: offsets in struct lg_boot_params (checked in guest/kernel/main.c). */
#define LG_BOOT_FLAGS_OFFSET	  44
#define LG_BOOT_HCALL_PAGE_OFFSET 80
#endif /* LGUEST_ABI_H */
