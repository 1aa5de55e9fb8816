#!/bin/sh
# ringtest-build.sh BUILD_DIR: Linux's tools/virtio/ringtest, the peer of
# our ringbench in lguest-compare (docs/ringtest.md), built from Debian's
# linux-source tarball.  None of its code is in our tree: it is extracted
# into BUILD_DIR/ringtest/src/ and built there with its own Makefile, so
# with its own flags (-O2 -flto -fwhole-program ...), giving
#
#   BUILD_DIR/ringtest/ring             its descriptor ring (packed-like)
#   BUILD_DIR/ringtest/virtio_ring_0_9  its split ring
#
# and, for counting instructions under callgrind, the same ring code linked
# with our lock-step driver (tests/bench/ringtest_lockstep.c) instead of its
# two-thread main.c, compiled with the same flags:
#
#   BUILD_DIR/ringtest/ring-lockstep, BUILD_DIR/ringtest/virtio_ring_0_9-lockstep
#
# and, the same way, our split and packed rings in ringtest's shape with
# lguest's checks (tests/bench/ringtest_checked.c, ringtest_checked_packed.c;
# -calls: their device steps out of line):
#
#   BUILD_DIR/ringtest/checked-lockstep, BUILD_DIR/ringtest/checked-calls-lockstep
#   BUILD_DIR/ringtest/checked-packed-lockstep, .../checked-packed-calls-lockstep
#
# and a validating peer: Linux's virtio driver ring and its vringh device
# side (drivers/virtio/virtio_ring.c, drivers/vhost/vringh.c) with
# tools/virtio's userspace shims, extracted into BUILD_DIR/ringtest/vringh/
# and linked with tests/bench/vringh_lockstep.c:
#
#   BUILD_DIR/ringtest/vringh-lockstep
#
# LINUX_SOURCE_TARBALL: the tarball (default: the newest
# /usr/src/linux-source-*.tar.xz).  Extraction, the slow part (the whole
# tarball is decompressed), is skipped when src/ already came from the same
# tarball and the tarball has not changed since.  V=1 shows the commands.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1/ringtest

if [ -n "${LINUX_SOURCE_TARBALL:-}" ]; then
	tarball=$LINUX_SOURCE_TARBALL
else
	# By version, not by date: linux-source-6.10 is newer than 6.9.
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
fi
if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
	echo "ringtest: no Linux source tarball${tarball:+ ($tarball)}: apt-get install linux-source-6.1 (or set LINUX_SOURCE_TARBALL)" >&2
	exit 2
fi
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")

mkdir -p "$out"
stamp=$out/src/.tarball
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$tarball" ] ||
	[ -n "$(find "$tarball" -newer "$stamp")" ]; then
	echo "  TAR     $tarball: tools/virtio/ringtest/"
	# Into a fresh directory, renamed once complete, so that an
	# interrupted extraction is never taken for a finished one.
	rm -rf "$out/src" "$out/src.tmp"
	mkdir "$out/src.tmp"
	# The top directory's name varies (linux-source-6.1/): match any, and
	# strip it with tools/virtio/ringtest/.
	tar -xJf "$tarball" -C "$out/src.tmp" --strip-components=4 \
		--wildcards '*/tools/virtio/ringtest/*'
	printf '%s\n' "$tarball" >"$out/src.tmp/.tarball"
	mv "$out/src.tmp" "$out/src"
fi

# Its Makefile's flags, not ours nor the caller's: drop whatever CFLAGS or
# command-line variables a parent make would hand down.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CPPFLAGS LDFLAGS LDLIBS
quiet=-s
[ "${V:-0}" = 1 ] && quiet=
echo "  MAKE    $out/src: ring virtio_ring_0_9 (+ -lockstep), checked(-packed)(-calls)-lockstep"
# The lock-step binaries: its Makefile, then these rules, read from stdin;
# they reuse its CFLAGS and LDFLAGS and its ring.o and virtio_ring_0_9.o.
# Our harness is also held to -Wextra -Werror.
make $quiet --no-print-directory -C "$out/src" -f Makefile -f - \
	LOCKSTEP="$top/tests/bench/ringtest_lockstep.c" \
	CHECKED="$top/tests/bench/ringtest_checked.c" \
	CHECKED_PACKED="$top/tests/bench/ringtest_checked_packed.c" TOP="$top" \
	ring virtio_ring_0_9 ring-lockstep virtio_ring_0_9-lockstep \
	checked-lockstep checked-calls-lockstep \
	checked-packed-lockstep checked-packed-calls-lockstep <<'EOF'
OURS = $(CFLAGS) -Wextra -Werror -I. -I$(TOP)/include
lockstep.o: $(LOCKSTEP) main.h
	$(CC) $(OURS) -c -o $@ $(LOCKSTEP)
CHECKED_H = $(TOP)/tests/bench/ringtest_checked.h
checked.o: $(CHECKED) $(CHECKED_H) main.h
	$(CC) $(OURS) -c -o $@ $(CHECKED)
checked-calls.o: $(CHECKED) $(CHECKED_H) main.h
	$(CC) $(OURS) -DCHECKED_CALLS -c -o $@ $(CHECKED)
checked-packed.o: $(CHECKED_PACKED) $(CHECKED_H) main.h $(TOP)/include/packed_event.h
	$(CC) $(OURS) -c -o $@ $(CHECKED_PACKED)
checked-packed-calls.o: $(CHECKED_PACKED) $(CHECKED_H) main.h $(TOP)/include/packed_event.h
	$(CC) $(OURS) -DCHECKED_CALLS -c -o $@ $(CHECKED_PACKED)
ring-lockstep: ring.o lockstep.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
virtio_ring_0_9-lockstep: virtio_ring_0_9.o lockstep.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
checked-lockstep: checked.o lockstep.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
checked-calls-lockstep: checked-calls.o lockstep.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
checked-packed-lockstep: checked-packed.o lockstep.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
checked-packed-calls-lockstep: checked-packed-calls.o lockstep.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
EOF
for prog in ring virtio_ring_0_9 ring-lockstep virtio_ring_0_9-lockstep \
	checked-lockstep checked-calls-lockstep \
	checked-packed-lockstep checked-packed-calls-lockstep; do
	cp -p "$out/src/$prog" "$out/$prog.tmp"
	mv "$out/$prog.tmp" "$out/$prog"
done

# The validating peer.  tools/virtio's Makefile compiles against the
# kernel's include/ and tools/include/ with its own shims (tools/virtio/linux
# and asm); our harness goes with it, and tests/bench/vringh_shim.h fills the
# one hole 6.1's shims have for virtio_ring.c.
vsrc=$out/vringh
vstamp=$vsrc/.tarball
if [ ! -f "$vstamp" ] || [ "$(cat "$vstamp")" != "$tarball" ] ||
	[ -n "$(find "$tarball" -newer "$vstamp")" ]; then
	echo "  TAR     $tarball: virtio_ring.c, vringh.c, tools/virtio/, include/"
	rm -rf "$vsrc" "$vsrc.tmp"
	mkdir "$vsrc.tmp"
	tar -xJf "$tarball" -C "$vsrc.tmp" --strip-components=1 --wildcards \
		'*/drivers/virtio/virtio_ring.c' '*/drivers/vhost/vringh.c' '*/tools/virtio/*' \
		'*/tools/include/*' '*/include/*'
	printf '%s\n' "$tarball" >"$vsrc.tmp/.tarball"
	mv "$vsrc.tmp" "$vsrc"
fi
echo "  MAKE    $vsrc/tools/virtio: vringh-lockstep"
make $quiet --no-print-directory -C "$vsrc/tools/virtio" -f Makefile -f - \
	LOCKSTEP="$top/tests/bench/vringh_lockstep.c" SHIM="$top/tests/bench/vringh_shim.h" \
	vringh-lockstep <<'EOF'
virtio_ring.o: CFLAGS += -include $(SHIM)
vringh_lockstep.o: $(LOCKSTEP)
	$(CC) $(CFLAGS) -c -o $@ $(LOCKSTEP)
vringh-lockstep: vringh_lockstep.o vringh.o virtio_ring.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
EOF
cp -p "$vsrc/tools/virtio/vringh-lockstep" "$out/vringh-lockstep.tmp"
mv "$out/vringh-lockstep.tmp" "$out/vringh-lockstep"
