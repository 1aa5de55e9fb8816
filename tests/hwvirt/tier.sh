#!/bin/bash
# tier.sh: run a command on a real, hardware-virtualised /dev/kvm, on any
# machine: inside Debian's stock kernel under QEMU TCG, whose `-cpu max` is
# an AMD CPU with SVM.  KVM there is kvm_amd: real VMCBs, a real TSC offset,
# real nested page tables, everything PVM does differently (PLATFORM.md).
#
#   tests/hwvirt/tier.sh [-m MEM] [-s CPUS] [-t SECS] [-e VAR=VAL]... -- COMMAND...
#
# COMMAND (its words joined, as shell text) runs with bash in this project's directory, as root, with the
# host's own userland (python3, mke2fs, ip...), kvm_amd, tun, bridge and
# veth loaded.  Its output streams to ours; we exit with its status, or 124
# (timed out) or 125 (the tier itself failed).  The status comes from a file
# the job writes, never from QEMU's exit status.
#
# How (each step has its reason in init and stage2, next to this file):
#   - the kernel: linux-image-KVER fetched with `apt-get download` and
#     unpacked with `dpkg-deb -x` (installing it would run update-initramfs
#     and touch the host's /boot); KVER is what linux-image-amd64 depends on
#     (tests/tools/debian-kernel.sh, shared with tests/vhost_linux);
#   - a busybox initramfs (init) mounts the host's root read-only over 9p
#     under a tmpfs overlay, and this project read-write at the same path;
#   - it switch_roots there (stage2): a real root, which the privilege tests
#     need (a chroot is visible in /proc/PID/root);
#   - stage2 loads the modules and runs the job.
#
# Needs root (apt-get, 9p with security_model=none).  State is kept between
# runs in $LGUEST_TIER_DIR (default /var/tmp/lguest-tier): the kernel, the
# initramfs, and one directory per job (console.log, out, rc, times, ps, and
# QEMU's monitor on monitor.sock while it runs).
#
# Knobs: LGUEST_TIER_ACCEL (default tcg,thread=single: see below), LGUEST_TIER_KVER,
# LGUEST_TIER_PIN_KVM=0 (no idle VM held open: see stage2 for the hang it
# prevents).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
proj=$(cd "$here/../.." && pwd -P)
dir=${LGUEST_TIER_DIR:-/var/tmp/lguest-tier}
mem=4G cpus=2 limit=3600 envs=()
usage() { echo "usage: $0 [-m MEM] [-s CPUS] [-t SECS] [-e VAR=VAL]... -- COMMAND..." >&2; exit 125; }
while getopts m:s:t:e: o; do
	case $o in
	m) mem=$OPTARG ;; s) cpus=$OPTARG ;; t) limit=$OPTARG ;; e) envs+=("$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ $# -ge 1 ] || usage
say() { echo "tier: $*" >&2; }
die() { say "$*"; exit 125; }
[ "$(id -u)" = 0 ] || die "needs root (apt-get; 9p shares with security_model=none)"

# --- what the tier needs, once -------------------------------------------
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
need=""
for p in qemu-system-x86 busybox-static cpio kmod; do
	have_pkg "$p" || need="$need $p"
done
if [ -n "$need" ]; then
	say "apt-get install$need"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need \
		>/dev/null || die "cannot install$need"
fi
mkdir -p "$dir"
# The kernel: fetched once, then cached in $dir (tests/tools/debian-kernel.sh).
kroot=$("$proj/tests/tools/debian-kernel.sh") || exit 125 # it said why
kver=${kroot##*/}
vmlinuz=$kroot/boot/vmlinuz-$kver
kmods=$kroot/lib/modules/$kver

# The initramfs: busybox, init, stage2, and the modules init needs to reach
# the shares (virtio-pci, 9p over virtio, overlayfs), dependencies first.
initrd=$dir/initrd-$kver.cpio.gz
if [ ! -f "$initrd" ] || [ "$0" -nt "$initrd" ] || [ "$here/init" -nt "$initrd" ] || [ "$here/stage2" -nt "$initrd" ]; then
	say "building $initrd"
	tree=$(mktemp -d)
	mkdir -p "$tree"/{bin,proc,sys,dev,modules}
	cp /bin/busybox "$tree/bin/busybox"
	ln -s busybox "$tree/bin/sh" # for init's #!
	cp "$here/init" "$tree/init"
	cp "$here/stage2" "$tree/stage2"
	chmod 755 "$tree/init"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		cp "$ko" "$tree/modules/" && basename "$ko" >>"$tree/modules/order"
	done
	# Written aside and renamed: two tiers starting at once (CI runs this
	# one and the module's side by side) each put a whole file in place.
	tmp=$(mktemp "$initrd.XXXXXX")
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp"
	chmod 644 "$tmp"
	mv "$tmp" "$initrd"
	rm -rf "$tree"
fi

# --- the job ---------------------------------------------------------------
# The kernel's command line: tsc=reliable, because under TCG the boot-time
# check that the CPUs' TSCs agree fails (the emulated CPUs do not run in
# lock step), the kernel marks the TSC unstable, and KVM then moves each
# guest's TSC offset whenever its vCPU thread is scheduled in.  The TSCs
# really are one (QEMU derives them all from the host's); with a stable TSC,
# KVM keeps the offset fixed, as on a real machine.
#
# Single-threaded TCG: the emulated CPUs take turns on one host thread.
# Multi-threaded TCG is 1.4 times faster here, but with nested SVM it broke
# the first-level kernel in 2 of 5 full e2e runs (all interrupts stuck
# pending on a halted CPU; its kernel stack overwritten under lguest's
# vCPU thread), which no program inside can cause; single-threaded TCG has
# not, in every run since.  docs/hwvirt.md has the details.
accel=${LGUEST_TIER_ACCEL:-tcg,thread=single}
mkdir -p "$dir/jobs"
# Old jobs' directories are kept for a day, for their console logs.
find "$dir/jobs" -mindepth 1 -maxdepth 1 -mtime +1 -exec rm -rf {} + 2>/dev/null || true
job=$(mktemp -d "$dir/jobs/XXXXXX")
{
	printf 'PROJ=%q\nKVER=%q\nKMODS=%q\n' "$proj" "$kver" "$kmods"
	printf 'MODULES=%q\n' "kvm_amd tun bridge veth"
	printf 'PIN_KVM=%q\n' "${LGUEST_TIER_PIN_KVM:-1}"
} >"$job/config"
{
	for e in "${envs[@]+"${envs[@]}"}"; do printf 'export %q\n' "$e"; done
	printf 'cd %q || exit 125\n' "$proj"
	printf '%s\n' "$*"
} >"$job/cmd"
: >"$job/out"
say "job $job: Debian kernel $kver, $cpus vCPUs, $mem, $accel"
t0=$(date +%s.%N)
qemu_rc=0
timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp "$cpus" -m "$mem" \
	-nodefaults -no-user-config -display none -no-reboot \
	-monitor unix:"$job/monitor.sock",server=on,wait=off \
	-serial file:"$job/console.log" \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off nokaslr tsc=reliable" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$job",mount_tag=job,security_model=none \
	-virtfs local,path="$proj",mount_tag=proj,security_model=none,multidevs=remap \
	</dev/null >"$job/qemu.log" 2>&1 &
qpid=$!
tail -n +1 -F --pid=$qpid "$job/out" 2>/dev/null &
tpid=$!
wait $qpid || qemu_rc=$?
wait $tpid 2>/dev/null || true
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall %.1f\n", b - a }' >>"$job/times"
if [ $qemu_rc -eq 124 ] || [ $qemu_rc -eq 137 ]; then
	say "timed out after $limit s; the console's last lines:"
	tail -20 "$job/console.log" >&2
	exit 124
fi
if [ ! -s "$job/rc" ]; then
	say "no exit status came back (qemu exited $qemu_rc); the console's last lines:"
	tail -30 "$job/console.log" >&2
	cat "$job/qemu.log" >&2
	exit 125
fi
say "$(tr '\n' ' ' <"$job/times")(seconds; job $job)"
exit "$(cat "$job/rc")"
