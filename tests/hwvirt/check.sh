#!/bin/sh
# check.sh BUILD: the whole end-to-end suite with --backend=kvm, on the real
# (nested, SVM) KVM of the hardware-virtualisation tier (tier.sh), ending
# with the usual "N passed, N failed, N skipped".  `make check-hwvirt`.
#
# The launcher and guest are built here, on the host, and run there from the
# shared project directory: only the e2e suite runs in the tier (the unit
# tests do not touch KVM and would take minutes under TCG).  Inside, KVM
# must work: a KVM case skipped there is a failure (LGUEST_TEST_REQUIRE_KVM).
# Time limits in the harness stretch by LGUEST_TEST_TIME_SCALE, since the
# guest runs on SVM that QEMU emulates; no test asserts a timing.
set -u
cd "$(dirname "$0")/../.."
build=${1:-build}
summary=$build/hwvirt-summary
rm -f "$summary"
tests/hwvirt/tier.sh -t "${LGUEST_TIER_LIMIT:-1500}" \
	-e LGUEST_TEST_TIME_SCALE="${LGUEST_TEST_TIME_SCALE:-10}" -e LGUEST_TEST_REQUIRE_KVM=1 \
	-e CI="${CI:-}" -- python3 tests/e2e/run.py --build "$build" --backend=kvm \
	--summary "$summary"
rc=$?
# The summary file is the result; the tier's status only says why not.
if [ ! -s "$summary" ]; then
	echo "hwvirt: no summary came back from the tier (tier.sh exited $rc)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
read -r p f s <"$summary"
echo "hwvirt (kvm on SVM under QEMU TCG): $p passed, $f failed, $s skipped"
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
