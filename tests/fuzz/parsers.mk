# tests/fuzz/parsers.mk: the harnesses for the launcher's parsers of
# untrusted input other than the rings (see fuzz.mk for how they build).

# The kernel loader.  Wrapping zlib's inflate() lets the harness count every
# byte the loader inflates, to prove a gzip bomb stops at the limit.
fuzz_loader_SRCS := launcher/loader.c launcher/log.c
fuzz_loader_LDLIBS := -Wl,--wrap=inflate -Wl,--wrap=inflateInit2_

# The block and network device models, on chains the harness builds, behind
# a fake device.c and ring layer (fake_device.c).
FUZZ_FAKE_DEVICE := tests/fuzz/fake_device.c launcher/iov.c launcher/log.c
fuzz_blk_request_SRCS := $(BLK_MODEL_SRCS) $(FUZZ_FAKE_DEVICE)
# The harness includes launcher/devices/net.c itself, for its static handlers.
fuzz_net_request_SRCS := $(FUZZ_FAKE_DEVICE)

# vhost-user: framing (proto.c) and the backend's memory table (memory.c),
# on a stream of sends and fds made by vu_stream.c.
fuzz_vhost_user_SRCS := launcher/vhost_user/proto.c vhost-blk/memory.c tests/fuzz/vu_stream.c

# vhost-user: lguest-vhost-blk's dispatch, a whole session (everything in
# the program but main.c; quiet_log.c instead of log.c).
fuzz_vhost_session_SRCS = $(filter-out vhost-blk/main.c launcher/log.c,$(VHOST_BLK_SRCS)) \
	tests/fuzz/quiet_log.c tests/fuzz/vu_stream.c
