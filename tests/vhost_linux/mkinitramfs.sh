#!/bin/sh
# mkinitramfs.sh KROOT OUTDIR: the initramfs for tests/e2e/cases_vhost_linux.py,
# built once and kept; prints its path.
#
# KROOT is an unpacked Debian kernel (tests/tools/debian-kernel.sh).  The
# initramfs holds busybox-static, our init, and the modules virtio-blk over
# virtio-pci needs from KROOT, dependencies first (modprobe --show-depends
# resolves them; each module's own dependencies are listed before it).
#
# The file is named after a hash of everything that goes into it, so a
# changed init, busybox or kernel gives a new one and an unchanged one is
# reused.  It is written under a temporary name and renamed, so a reader
# never sees half of one.
set -eu
export PATH="$PATH:/usr/sbin:/sbin" # modprobe, for users whose PATH lacks it
here=$(cd "$(dirname "$0")" && pwd -P)
[ $# -eq 2 ] || { echo "usage: $0 KROOT OUTDIR" >&2; exit 2; }
kroot=$1 out=$2
kver=${kroot##*/}
modules="virtio_pci virtio_blk"
die() { echo "mkinitramfs: $*" >&2; exit 1; }
[ -f "$kroot/lib/modules/$kver/modules.dep" ] || die "$kroot is not an unpacked kernel"
[ -x /bin/busybox ] || die "no /bin/busybox (Debian: busybox-static)"

key=$({ cat "$here/init" "$0" /bin/busybox; echo "$kroot $modules"; } | sha256sum | cut -c1-16)
img=$out/initramfs-$key.cpio.gz
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi

mkdir -p "$out"
tree=$(mktemp -d "$out/tree.XXXXXX")
chmod 755 "$tree" # the initramfs root
trap 'rm -rf "$tree" "$img.$$"' EXIT
mkdir -p "$tree/bin" "$tree/proc" "$tree/sys" "$tree/dev" "$tree/tmp" "$tree/modules"
cp /bin/busybox "$tree/bin/busybox"
ln -s busybox "$tree/bin/sh" # for init's #!
cp "$here/init" "$tree/init"
chmod 755 "$tree/init"
# shellcheck disable=SC2086 # one word per module
modprobe -d "$kroot" -S "$kver" --show-depends -a $modules >"$tree/deps" ||
	die "modprobe cannot resolve $modules in $kroot"
awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$tree/deps" | while read -r ko; do
	cp "$ko" "$tree/modules/"
	basename "$ko" >>"$tree/modules/order"
done
rm "$tree/deps"
(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1) >"$img.$$"
mv "$img.$$" "$img"
# Older ones (another init, kernel or busybox) are of no more use.
for old in "$out"/initramfs-*.cpio.gz; do
	[ "$old" = "$img" ] || rm -f "$old"
done
echo "$img"
