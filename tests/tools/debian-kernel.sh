#!/bin/bash
# debian-kernel.sh: Debian's stock kernel, unpacked, for tests that boot a
# real Linux under QEMU (tests/hwvirt, tests/vhost_linux).
#
#   tests/tools/debian-kernel.sh      prints ROOT, e.g. /var/tmp/lguest-tier/kernel/6.1.0-57-amd64
#
# ROOT/boot/vmlinuz-KVER is the kernel and ROOT/lib/modules/KVER its modules
# (with modules.dep), KVER being ROOT's last component.  On failure: one
# line on stderr, nothing on stdout, status 1.
#
# KVER is the one linux-image-amd64 depends on (or LGUEST_TIER_KVER).  The
# package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`:
# installing it would run update-initramfs and touch the host's /boot.  The
# result is kept in $LGUEST_TIER_DIR (default /var/tmp/lguest-tier), so only
# the first run needs root and the network.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin" # depmod, for users whose PATH lacks them
dir=${LGUEST_TIER_DIR:-/var/tmp/lguest-tier}
say() { echo "debian-kernel: $*" >&2; }
die() { say "$*"; exit 1; }

# The fast path, and the only one without root: already unpacked.
kver=${LGUEST_TIER_KVER:-$(cat "$dir/kver" 2>/dev/null || true)}
root=$dir/kernel/$kver
if [ -n "$kver" ] && [ -f "$root/lib/modules/$kver/modules.dep" ]; then
	echo "$root"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "no Debian kernel in $dir yet, and fetching one needs root (apt-get download)"
for tool in apt-get apt-cache dpkg-deb depmod flock; do
	command -v $tool >/dev/null || die "$tool not found (Debian: apt, dpkg, kmod, util-linux)"
done
mkdir -p "$dir"
# Tests run in parallel, and the tier may start at the same time: one
# fetch at a time; whoever waited finds it done.
exec 9>"$dir/kernel.lock"
flock 9

linux_image_amd64() {
	apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1
}
kver=${LGUEST_TIER_KVER:-$(cat "$dir/kver" 2>/dev/null || true)}
if [ -z "$kver" ]; then
	kver=$(linux_image_amd64)
	if [ -z "$kver" ]; then # no package lists yet
		apt-get update -qq >/dev/null || true
		kver=$(linux_image_amd64)
	fi
	[ -n "$kver" ] || die "cannot tell which kernel linux-image-amd64 is (apt-get update?)"
	echo "$kver" >"$dir/kver"
fi
root=$dir/kernel/$kver
if [ ! -f "$root/lib/modules/$kver/modules.dep" ]; then
	say "fetching linux-image-$kver (apt-get download, dpkg-deb -x)"
	rm -rf "$root" "$dir/deb"
	mkdir -p "$dir/deb" "$root"
	# APT's download sandbox user (_apt) could not write into $dir/deb.
	(cd "$dir/deb" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$kver" \
		>/dev/null) || die "apt-get download linux-image-$kver failed"
	dpkg-deb -x "$dir"/deb/linux-image-"$kver"_*.deb "$root" || die "dpkg-deb -x failed"
	# modules.dep last: its presence is what says "complete" above.
	depmod -b "$root" "$kver" || die "depmod failed"
	rm -rf "$dir/deb"
fi
echo "$root"
