# launcher/process/stub/stub.mk: $(BUILD)/lguest-stub, the process backend's
# sandboxed child (README.md here).  Included by the top-level Makefile,
# which defines BUILD, CC and Q.
#
# A static program with no libc, linked far above guest RAM
# (STUB_LOAD_ADDR): -fpie because nothing links at that address
# otherwise (R_X86_64_32S relocations do not reach it).  Its code runs on
# the guest's stack, hence -mgeneral-regs-only: no SSE, so no alignment
# assumptions about that stack.

STUB_DIR := launcher/process/stub
STUB_SRCS := $(STUB_DIR)/entry.S $(STUB_DIR)/setup.c $(STUB_DIR)/lib.c \
	$(STUB_DIR)/fault.c $(STUB_DIR)/filter.c $(STUB_DIR)/hcall.c
STUB_OBJS := $(patsubst $(STUB_DIR)/%,$(BUILD)/stub/%.o,$(basename $(STUB_SRCS)))

STUB_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib -static \
	-fpie -fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-Iinclude -Ilauncher/process
# The address must be STUB_LOAD_ADDR (stub_abi.h); setup.c refuses to run elsewhere.
STUB_LDFLAGS := -nostdlib -static -Wl,-Ttext-segment=0x7e0000000000 -Wl,--build-id=none \
	-Wl,-z,noexecstack

# The seccomp filter allows system calls from one instruction only: make
# sure the binary holds exactly one `syscall` (and no other way in).
STUB_OBJDUMP ?= objdump

$(BUILD)/lguest-stub: $(STUB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(STUB_CFLAGS) $(STUB_LDFLAGS) -o $@.tmp $(STUB_OBJS)
	$(Q)n=$$($(STUB_OBJDUMP) -d $@.tmp | grep -cE '\s(syscall|sysenter|int +\$$0x80)\b'); \
	if [ "$$n" != 1 ]; then \
		echo "$@: $$n system call instructions, want exactly 1" >&2; rm -f $@.tmp; exit 1; \
	fi
	$(Q)mv $@.tmp $@

$(BUILD)/stub/%.o: $(STUB_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC [s]  $<"
	$(Q)$(CC) $(STUB_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/stub/%.o: $(STUB_DIR)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS [s]  $<"
	$(Q)$(CC) $(STUB_CFLAGS) -MMD -MP -c -o $@ $<

-include $(STUB_OBJS:.o=.d)
