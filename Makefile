# lguest: a paravirtual launcher, its guest kernel, and their tests.
#
#   make              build build/lguest and build/guest.elf
#   make run          boot the guest on a demo ext2 disk and list its files
#   make check        build everything and run every test
#   make check-asan   the same suite with the launcher under ASan + UBSan
#   make check-hwvirt the end-to-end suite on KVM on (emulated) AMD SVM, in
#                     QEMU: tests/hwvirt/ (root; any machine)
#   make check-module host-module/lguest_host.ko built, loaded and tested in
#                     Debian's kernel under QEMU: tests/host_module/ (root)
#   make bench-module the kernel device against the launcher's, there
#   make fuzz         each libFuzzer harness (tests/fuzz/) for FUZZ_SECONDS
#   make soak         an hour of mixed I/O on every layout (SOAK_SECONDS)
#   make crash-bench  KILLS (100) SIGKILLs during write + FLUSH; none may lose
#                     a flushed write (tests/crash/)
#   make compare      draft3, split and packed side by side: build/compare/
#   make ringtest     Linux's tools/virtio/ringtest, ringbench's peer in
#                     compare: build/ringtest/ (docs/ringtest.md)
#   make format       clang-format every C file in place
#   make install      PREFIX (/usr/local), DESTDIR; uninstall, programs: mk/install.mk

BUILD ?= build
CC ?= gcc
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

# Host code: the launcher, its tools and the unit tests.  SAN adds sanitizers.
SAN ?=
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Iinclude -Ilauncher -Ivhost-blk -Iguest/include -pthread $(SAN) $(EXTRA_CFLAGS)
HOST_LDLIBS := -lz -lcap-ng -lseccomp -luring -pthread

# The kernel's uapi headers (<linux/virtio_ring.h> ...) without libc's: the
# guest sees only linux/, asm/ and asm-generic/ through $(BUILD)/uapi.
UAPI_ARCH := /usr/include/$(shell $(CC) -print-multiarch)

# Guest code is freestanding: no libc, no red zone (no interrupts use the
# stack under us, but keep it safe), no SSE (CR4.OSFXSR is off), linked at
# the physical address it runs at.
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-omit-frame-pointer \
	-Iinclude -Iguest/include -isystem $(BUILD)/uapi
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest/guest.ld \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096

# launcher/process/stub/ is not launcher code: it is the process backend's
# sandboxed child, a separate freestanding program (stub.mk).
LAUNCHER_SRCS := $(sort $(shell find launcher -name '*.c' -not -path 'launcher/process/stub/*'))
LAUNCHER_OBJS := $(LAUNCHER_SRCS:%.c=$(BUILD)/host/%.o)
GUEST_SRCS := $(sort $(shell find guest -name '*.c' -o -name '*.S'))
GUEST_OBJS := $(patsubst %,$(BUILD)/guest/%.o,$(basename $(GUEST_SRCS)))

# Unit tests: tests/unit/test_NAME.c links with test_NAME_SRCS (host-built).
test_draft3_SRCS := guest/ring/draft3_drv.c launcher/ring/draft3_dev.c launcher/guest_mem.c
test_ext2_SRCS := guest/fs/ext2.c
test_loader_SRCS := launcher/loader.c launcher/log.c
test_guestlib_SRCS := guest/lib/format.c guest/lib/crc32.c guest/lib/parse.c guest/lib/sort.c
test_options_SRCS := launcher/options.c launcher/log.c
test_fault_SRCS := launcher/process/fault.c launcher/guest_mem.c
test_timebase_SRCS := launcher/timebase.c
test_guest_mem_SRCS := launcher/guest_mem.c
test_vhost_user_SRCS := launcher/vhost_user/proto.c
test_vb_memory_SRCS := vhost-blk/memory.c launcher/vhost_user/proto.c launcher/guest_mem.c
# The block model with requests in flight, behind the fuzz harnesses' fake device layer.
test_blk_inflight_SRCS = $(BLK_MODEL_SRCS) tests/fuzz/fake_device.c launcher/iov.c launcher/log.c
test_split_SRCS := guest/ring/split_drv.c launcher/ring/split_dev.c launcher/guest_mem.c
test_packed_SRCS := guest/ring/packed_drv.c launcher/ring/packed_dev.c launcher/guest_mem.c
test_net_SRCS := guest/net/checksum.c guest/net/addr.c guest/net/iface.c guest/net/ethernet.c \
	guest/net/arp.c guest/net/ipv4.c guest/net/icmp.c guest/net/udp.c guest/shell/cmd_net.c \
	guest/lib/format.c guest/lib/parse.c guest/lib/sort.c tests/unit/net_fake.c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

all: $(BUILD)/lguest $(BUILD)/lguest-vhost-blk $(BUILD)/lguest-stub $(BUILD)/guest.elf $(BUILD)/hostbench $(BUILD)/netbench $(BUILD)/ringbench \
	$(BUILD)/lguest-trace $(BUILD)/lguest-compare $(BUILD)/lguest-host-fake.so $(UNIT_TESTS) \
	$(BUILD)/no-io-uring

# For the tests: run a program where io_uring_setup fails (tests/tools/).
$(BUILD)/no-io-uring: tests/tools/no_io_uring.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $< -lseccomp

# The trace drawing tool and the layout comparison are Python scripts
# (standard library only; the comparison draws its plots with gnuplot).
$(BUILD)/lguest-trace: tools/lguest-trace.py
	@mkdir -p $(dir $@)
	$(Q)install -m 755 $< $@

$(BUILD)/lguest-compare: tools/lguest-compare.py
	@mkdir -p $(dir $@)
	$(Q)install -m 755 $< $@

$(BUILD)/lguest: $(LAUNCHER_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDLIBS)

# The block model, wherever it runs: requests, the image, and the I/O engines.
BLK_MODEL_SRCS := launcher/devices/blk.c launcher/devices/blk_image.c $(wildcard launcher/aio/*.c)

# Our block device for any vhost-user frontend: the launcher's block model
# and device-side ring code in a process of its own (vhost-blk/vhost_blk.h).
VHOST_BLK_SRCS := $(wildcard vhost-blk/*.c) $(BLK_MODEL_SRCS) $(wildcard launcher/ring/*.c) \
	launcher/guest_mem.c launcher/iov.c launcher/log.c launcher/options.c launcher/trace_store.c \
	launcher/trace_output.c launcher/timebase.c launcher/process/tsc.c launcher/vhost_user/proto.c
$(BUILD)/lguest-vhost-blk: $(VHOST_BLK_SRCS:%.c=$(BUILD)/host/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDLIBS)

# A stand-in for lguest_host.ko in the launcher's own process (LD_PRELOAD), so
# that the launcher's side of --block=...,device=kernel runs where no module
# can be loaded (tests/fake_host_module/).  Its copies of the block model and
# ring code are hidden: they never meet the launcher's.
FAKE_HOST_SRCS := tests/fake_host_module/fake_lguest_host.c $(BLK_MODEL_SRCS) \
	$(wildcard launcher/ring/*.c) launcher/guest_mem.c launcher/iov.c launcher/log.c
$(BUILD)/lguest-host-fake.so: $(FAKE_HOST_SRCS:%.c=$(BUILD)/pic/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -shared -Wl,-z,defs -o $@ $^ -ldl -luring

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC [so] $<"
	$(Q)$(CC) $(HOST_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

# The host baseline for blkbench (lguest-compare).
$(BUILD)/hostbench: $(BUILD)/host/tests/bench/hostbench.o $(BUILD)/host/launcher/options.o \
		$(BUILD)/host/launcher/log.o
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDLIBS)

# The ring layouts alone, without a VM: the same driver- and device-side code
# the guest and launcher use, between two threads.
RINGBENCH_SRCS := tests/bench/ringbench.c guest/ring/draft3_drv.c guest/ring/split_drv.c \
	guest/ring/packed_drv.c launcher/ring/draft3_dev.c launcher/ring/split_dev.c \
	launcher/ring/packed_dev.c launcher/guest_mem.c
$(BUILD)/ringbench: $(RINGBENCH_SRCS:%.c=$(BUILD)/host/%.o) $(BUILD)/host/tests/bench/ringbench_insns.o
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDLIBS)

# build/ringbench-lines: the same, counting the cache lines of ring memory
# each side touches (ringbench runs it for its lines/op columns).  The ring
# code is compiled with ThreadSanitizer's instrumentation, a call before
# every load and store, but no TSan runtime is linked (no -fsanitize when
# linking): tests/bench/ringbench_lines.c provides the calls.  Never with
# $(SAN): ASan cannot be combined with -fsanitize=thread.  -Wno-tsan: GCC
# warns that TSan does not model fences; we only need the call it makes
# instead, __tsan_atomic_thread_fence().
all: $(BUILD)/ringbench-lines
LINES_CFLAGS := $(filter-out $(SAN),$(HOST_CFLAGS))
LINES_TSAN := -fsanitize=thread -Wno-tsan
$(BUILD)/ringbench-lines: $(RINGBENCH_SRCS:%.c=$(BUILD)/lines/%.o) \
		$(BUILD)/lines/tests/bench/ringbench_lines.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LINES_CFLAGS) -o $@ $^ $(HOST_LDLIBS)

# ringbench.c (built with RINGBENCH_LINES) and the hooks: not instrumented.
$(BUILD)/lines/tests/bench/%.o: tests/bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC [l]  $<"
	$(Q)$(CC) $(LINES_CFLAGS) -DRINGBENCH_LINES -MMD -MP -c -o $@ $<

$(BUILD)/lines/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC [t]  $<"
	$(Q)$(CC) $(LINES_CFLAGS) $(LINES_TSAN) -MMD -MP -c -o $@ $<

# The host side of the network benchmark (lguest-compare).
$(BUILD)/netbench: $(BUILD)/host/tests/bench/netbench.o
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDLIBS)

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

# The process backend's stub: build/lguest-stub, next to build/lguest.
include launcher/process/stub/stub.mk
include mk/install.mk

$(BUILD)/guest.elf: $(GUEST_OBJS) guest/guest.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS) -lgcc

$(BUILD)/uapi/.stamp:
	@mkdir -p $(dir $@)
	$(Q)ln -sfn /usr/include/linux $(BUILD)/uapi/linux
	$(Q)ln -sfn $(UAPI_ARCH)/asm $(BUILD)/uapi/asm
	$(Q)ln -sfn /usr/include/asm-generic $(BUILD)/uapi/asm-generic
	$(Q)touch $@

$(BUILD)/guest/%.o: %.c | $(BUILD)/uapi/.stamp
	@mkdir -p $(dir $@)
	@echo "  CC [g]  $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/guest/%.o: %.S | $(BUILD)/uapi/.stamp
	@mkdir -p $(dir $@)
	@echo "  AS [g]  $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

.SECONDEXPANSION:
include tests/fuzz/fuzz.mk
include tests/race/race.mk

$(BUILD)/tests/%: tests/unit/%.c $$(patsubst %.c,$(BUILD)/host/%.o,$$($$*_SRCS))
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(HOST_CFLAGS) -Itests/unit -MMD -MP -MF $@.d -o $@ $(filter %.c %.o,$^) -lcmocka $(HOST_LDLIBS)

# The demo disk: a file tree in images/demo made into ext2 by mke2fs -d.
$(BUILD)/demo.img: $(shell find images/demo) images/mkimage.sh
	$(Q)sh images/mkimage.sh images/demo $@

# deps first, then the build: with -j, prerequisites would race the apt-get.
run: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/lguest $(BUILD)/lguest-stub $(BUILD)/guest.elf \
		$(BUILD)/demo.img
	$(BUILD)/lguest --block=$(BUILD)/demo.img $(BUILD)/guest.elf -- 'ls /; cat /README.txt'

check: deps
	$(Q)$(MAKE) --no-print-directory all $(if $(SAN),,fuzz-build race-build)
	$(Q)tests/run.sh $(BUILD)

check-asan:
	$(Q)LGUEST_SOAK_SECONDS=0 $(MAKE) --no-print-directory BUILD=build-asan \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" check

# The KVM backend on real hardware virtualisation, on any machine (root).
check-hwvirt: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/hwvirt/check.sh $(BUILD)

# The kernel device, in the same tier: our own kernel cannot load modules.
check-module: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/host_module/check.sh $(BUILD)

bench-module: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/host_module/check.sh $(BUILD) bench

# Mixed block and network I/O on every layout for SOAK_SECONDS (an hour),
# watching the launcher's memory, fds and progress (tests/soak/soak.py).
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 tests/soak/soak.py --build $(BUILD) --seconds $(or $(SOAK_SECONDS),3600)

# Crash consistency: kill the launcher (or the guest's process) at random
# moments during write + FLUSH, KILLS times, and check every flushed write.
crash-bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 tests/crash/crashbench.py --build $(BUILD) --count $(or $(KILLS),100)

# Install missing Debian build packages when we can (root), else just say.
deps:
	$(Q)sh tests/deps.sh

format:
	clang-format -i $$(find include launcher vhost-blk guest tests -name '*.[ch]')

clean:
	rm -rf build build-asan

.PHONY: all run check check-asan check-hwvirt check-module bench-module crash-bench soak fuzz deps format clean bench compare compare-doc docs ringtest

# "The life of one 4 KiB read" from real runs: build/docs/, and its text in docs/.
docs: all
	$(Q)python3 docs/walkthrough.py --build $(BUILD) --copy docs/life-of-a-read.md

# draft3, split and packed side by side (docs/COMPARISON.md): build/compare/.
compare: deps all
	$(Q)$(BUILD)/lguest-compare

# The same, refreshing the tables and plots in docs/COMPARISON.md.
compare-doc: deps all
	$(Q)$(BUILD)/lguest-compare --doc=docs/COMPARISON.md

# Linux's tools/virtio/ringtest from Debian's linux-source tarball, built
# with its own flags, and its ring code in lock-step for callgrind
# (tests/bench/ringtest_lockstep.c), beside a split ring in its shape with
# our rules (tests/bench/ringtest_checked.c); and Linux's validating
# virtio_ring.c and vringh.c, in lock-step too (tests/bench/vringh_lockstep.c):
# $(BUILD)/ringtest/.  Not in all or check: it needs linux-source-6.1, and
# none of its code is in our tree.
ringtest:
	$(Q)V=$(V) sh tools/ringtest-build.sh $(BUILD)

bench: compare
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
