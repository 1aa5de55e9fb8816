#!/bin/sh
# in-tier.sh BUILD SUMMARY: run by check.sh inside the tier, as root, with
# host-module/lguest_host.ko built.  Each step prints "ok NAME" or "FAIL
# NAME"; the e2e suite's own cases are counted from its summary (the guest
# with its disks in the kernel: tests/e2e/run.py --blk-device=kernel).  SUMMARY
# gets "passed failed skipped".
set -u
build=$1
summary=$2
passed=0 failed=0 skipped=0
ok() {
	echo "ok   module/$1"
	passed=$((passed + 1))
}
bad() {
	echo "FAIL module/$1"
	failed=$((failed + 1))
}
step() {
	name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
finish() {
	echo "$passed $failed $skipped" >"$summary"
	echo "module: $passed passed, $failed failed, $skipped skipped"
	exit 0
}

dmesg -C
if ! insmod host-module/lguest_host.ko; then
	bad load
	finish
fi
step load test -c /dev/lguest-host
step smoke python3 tests/host_module/smoke.py
step unload rmmod lguest_host
step reload insmod host-module/lguest_host.ko
# The block cases and every misbehaving-guest rule with the disk in the
# kernel, on draft3/split/packed, on the process backend and nested KVM.
# A case that needs the module may not skip here.
e2e=$build/module-e2e-summary
rm -f "$e2e"
LGUEST_TEST_REQUIRE_MODULE=1 LGUEST_TEST_REQUIRE_KVM=1 python3 tests/e2e/run.py --build "$build" \
	--blk-device=kernel -k ^kernel-device/ -k ^misbehave --summary "$e2e"
if [ -s "$e2e" ]; then
	read -r p f s <"$e2e"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
else
	bad e2e
fi
# kill -9 mid-write, 20 times: no task in D state, rmmod (and insmod again) after each.
step kill-9 python3 tests/host_module/kill.py "$build" 20

# The kernel must have said nothing but the taint lines of an unsigned,
# out-of-tree module.
rmmod lguest_host 2>/dev/null
# Besides the two taint lines: "hrtimer: interrupt took N ns" is the
# emulated CPU falling behind on a loaded host (QEMU TCG), nothing of ours.
noise=$(dmesg | grep -v -e 'loading out-of-tree module taints kernel' \
	-e 'module verification failed' -e 'hrtimer: interrupt took')
if [ -z "$noise" ]; then
	ok dmesg-clean
else
	echo "$noise" | tail -40
	bad dmesg-clean
fi
finish
