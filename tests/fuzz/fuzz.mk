# tests/fuzz/fuzz.mk: libFuzzer harnesses for every parser of untrusted input.
#
# A harness is tests/fuzz/fuzz_NAME.c, defining LLVMFuzzerTestOneInput().
# It links with the product sources it exercises, listed as
# fuzz_NAME_SRCS in one of the tests/fuzz/*.mk fragments next to this
# file, plus tests/fuzz/common.c.  Everything is built by clang with
# libFuzzer, AddressSanitizer and UBSan into $(BUILD)/fuzz/; the seed corpus
# of a harness is tests/fuzz/corpus/NAME/ (see tests/fuzz/README.md).
#
#   make fuzz [FUZZ_SECONDS=N] [FUZZ=name ...]  each harness for N s (600)
#   make check                                  each for a few seconds
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-omit-frame-pointer \
	-Iinclude -Ilauncher -Ivhost-blk -Iguest/include -Itests/fuzz -pthread $(FUZZ_SAN)
FUZZ_HARNESSES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/fuzz_%)

include $(filter-out tests/fuzz/fuzz.mk,$(wildcard tests/fuzz/*.mk))

fuzz-build: $(FUZZ_BINS)

# Product and harness objects: instrumented for coverage, not linked with
# libFuzzer's main() (-fsanitize=fuzzer-no-link); the harness gets it.
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC [f]  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o $(BUILD)/fuzz/obj/tests/fuzz/common.o \
		$$(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$$(fuzz_$$*_SRCS))
	@echo "  LD [f]  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(HOST_LDLIBS) $(fuzz_$*_LDLIBS)

FUZZ_SECONDS ?= 600
fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ)

.PHONY: fuzz fuzz-build

# Keep the objects: make would delete them as intermediates, and rebuild
# every one on the next run.
.PRECIOUS: $(BUILD)/fuzz/obj/%.o
