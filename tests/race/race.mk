# tests/race/race.mk: the ring code under ThreadSanitizer, against a guest
# that keeps changing its ring (tests/race/ring_race.c).
#
#   make race-build                  build $(BUILD)/race/ring_race
#   make race [RACE_SECONDS=N]       run it, N seconds per layout (3)
#
# Its own objects in $(BUILD)/race/obj, and never with $(SAN): ASan and
# TSan cannot share a process.  -O1 keeps the stacks TSan prints readable.
# GCC warns that TSan does not model atomic_thread_fence (guest_fence());
# -Wno-tsan, where the compiler knows it, since the test needs none of
# what a fence would order (every shared access is atomic).
RACE_CC ?= $(CC)
RACE_WNO_TSAN := $(shell $(RACE_CC) -Werror -Wno-tsan -x c -c -o /dev/null /dev/null \
	2>/dev/null && echo -Wno-tsan)
RACE_CFLAGS = $(filter-out -O2 $(SAN),$(HOST_CFLAGS)) -O1 -fsanitize=thread $(RACE_WNO_TSAN)
RACE_SRCS := tests/race/ring_race.c launcher/ring/queue.c launcher/ring/draft3_dev.c \
	launcher/ring/split_dev.c launcher/ring/packed_dev.c launcher/guest_mem.c \
	launcher/trace_store.c guest/ring/draft3_drv.c guest/ring/split_drv.c \
	guest/ring/packed_drv.c
RACE_SECONDS ?= 3

$(BUILD)/race/ring_race: $(RACE_SRCS:%.c=$(BUILD)/race/obj/%.o)
	@echo "  LD [r]  $@"
	$(Q)$(RACE_CC) $(RACE_CFLAGS) -o $@ $^ -pthread

$(BUILD)/race/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC [r]  $<"
	$(Q)$(RACE_CC) $(RACE_CFLAGS) -MMD -MP -c -o $@ $<

race-build: $(BUILD)/race/ring_race

race: race-build
	$(Q)$(BUILD)/race/ring_race $(RACE_SECONDS)

.PHONY: race race-build
