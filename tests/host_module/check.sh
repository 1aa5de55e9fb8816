#!/bin/sh
# check.sh BUILD: host-module/ in the hardware-virtualisation tier, ending
# with the usual "N passed, N failed, N skipped".  `make check-module`.
# check.sh BUILD bench: the same build, then bench.py there instead of the
# tests (kernel device against the launcher's).  `make bench-module`.
#
# Our machines cannot load modules, but Debian's kernel under QEMU (the tier
# of tests/hwvirt) can.  Here, on the host: lguest_host.ko is built against
# the headers of exactly the kernel the tier boots, and any compiler warning
# is a failure.  There (in-tier.sh): load it, drive it, unload it, and look
# at dmesg.  Needs root (apt-get for the headers; the tier itself).
set -u
cd "$(dirname "$0")/../.."
build=${1:-build}
job=${2:-check}
summary=$build/module-summary
rm -f "$summary"
say() { echo "check-module: $*"; }
failed() {
	say "$*"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

kroot=$(tests/tools/debian-kernel.sh) || failed "no Debian kernel for the tier"
kver=${kroot##*/}
kdir=/usr/src/linux-headers-$kver
if [ ! -d "$kdir" ]; then
	say "apt-get install linux-headers-$kver"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"linux-headers-$kver" >/dev/null || failed "cannot install linux-headers-$kver"
fi
log=$build/module-build.log
make -C host-module KDIR="$kdir" clean >/dev/null 2>&1
if ! make -C host-module KDIR="$kdir" >"$log" 2>&1; then
	cat "$log"
	failed "lguest_host.ko does not build against $kdir"
fi
if grep -i 'warning' "$log"; then
	failed "lguest_host.ko builds with warnings against $kdir"
fi
say "lguest_host.ko built against $kver with no warnings"

if [ "$job" = bench ]; then
	exec tests/hwvirt/tier.sh -t "${LGUEST_TIER_LIMIT:-1800}" -- \
		"insmod host-module/lguest_host.ko && python3 tests/host_module/bench.py --build $build"
fi

tests/hwvirt/tier.sh -t "${LGUEST_TIER_LIMIT:-1200}" \
	-e LGUEST_TEST_TIME_SCALE="${LGUEST_TEST_TIME_SCALE:-10}" -e CI="${CI:-}" \
	-- sh tests/host_module/in-tier.sh "$build" "$summary"
rc=$?
if [ ! -s "$summary" ]; then
	failed "no summary came back from the tier (tier.sh exited $rc)"
fi
read -r p f s <"$summary"
echo "host-module (lguest_host.ko in Debian's $kver under QEMU TCG): $p passed, $f failed, $s skipped"
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
