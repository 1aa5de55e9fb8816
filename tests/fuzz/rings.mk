# tests/fuzz/rings.mk: the ring harnesses (the device side of each layout,
# through queue.h, against the small hostile guest of ring_env.[ch]) and
# the trace-ring drain.  queue.c dispatches to all three layouts, so each
# ring harness links all three.
RING_FUZZ_SRCS := tests/fuzz/ring_env.c launcher/ring/queue.c launcher/ring/draft3_dev.c \
	launcher/ring/split_dev.c launcher/ring/packed_dev.c launcher/guest_mem.c \
	launcher/trace_store.c
fuzz_ring_draft3_SRCS := $(RING_FUZZ_SRCS)
fuzz_ring_split_SRCS := $(RING_FUZZ_SRCS)
fuzz_ring_packed_SRCS := $(RING_FUZZ_SRCS)

# The harness calls trace_drain_ring() alone.  The rest of trace.c (setup,
# the drain thread, the output) calls into the whole launcher, the device
# table and the sandbox among it: rather than link all that, those symbols
# are bound to trace_fuzz_unreachable() in the harness, which fails the run
# if one is ever called.  (A new call in trace.c shows up here as a link
# error: add its name.)
TRACE_FUZZ_UNREACHABLE := devices_take_pages die die_errno verbose trace_write_text \
	trace_write_json sandbox_enter
fuzz_trace_drain_SRCS := launcher/trace.c launcher/trace_store.c launcher/timebase.c \
	launcher/guest_mem.c
fuzz_trace_drain_LDLIBS := $(TRACE_FUZZ_UNREACHABLE:%=-Wl,--defsym=%=trace_fuzz_unreachable)
