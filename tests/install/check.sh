#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check.sh [BUILD]: lguest installed as a user installs it (.ci/run's last step).
#
#   1. the Debian package, built from a clean export of the tree (its
#      tracked and new files, no build output) in BUILD/install-check/,
#      where dpkg-buildpackage leaves the .deb beside the export; lintian;
#   2. make install DESTDIR=... PREFIX=/usr lays out exactly the expected
#      files, and make uninstall takes every one of them away again;
#   3. the package installed for real (dpkg -i) as root, else unpacked with
#      dpkg -x into a throwaway root: the installed lguest, with no kernel
#      named, boots a fresh ext2 image from another directory and shows
#      the file on it, on the backend this machine picks (KVM, or the
#      process backend where there is none) and on the process backend;
#   4. the package holds nothing outside the FHS places lguest owns, and
#      after dpkg --purge nothing of it is left.
#
# Rehearse a machine without KVM on one with it:
#   unshare -m sh -c 'mount --bind /dev/null /dev/kvm && tests/install/check.sh'
set -eu
cd "$(dirname "$0")/../.."
repo=$(pwd)
build=${1:-build}
case $build in /*) ;; *) build=$repo/$build ;; esac
scratch=$build/install-check

say() { echo "install-check: $*"; }
die() {
	echo "install-check: FAIL: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dh lintian mke2fs scdoc git; do
	command -v $tool >/dev/null ||
		die "no $tool (apt-get install dpkg-dev debhelper lintian e2fsprogs scdoc git)"
done
version=$(dpkg-parsechangelog -S Version)
deb=$scratch/lguest_${version}_$(dpkg --print-architecture).deb
src=$scratch/lguest-$version
if [ "$(id -u)" = 0 ] && dpkg-query -W -f='${Status}' lguest 2>/dev/null | grep -q installed; then
	die "a package lguest is installed here already: this check installs and purges" \
		"its own (dpkg --purge lguest first)"
fi

# 1. The package, from the tree as git sees it: what is tracked (with its
# changes) and what is new, nothing ignored.
rm -rf "$scratch"
mkdir -p "$src"
git ls-files -z -c -o --exclude-standard |
	tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src"
say "dpkg-buildpackage -us -uc -b in $src"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1; then
	tail -40 "$scratch/build.log"
	die "dpkg-buildpackage failed (all of it: $scratch/build.log)"
fi
[ -f "$deb" ] || die "no $deb after dpkg-buildpackage"
say "lintian $(basename "$deb")"
status=0
lintian -I --fail-on error,warning "$deb" >"$scratch/lintian.log" 2>&1 || status=$?
grep -v 'running with root privileges' "$scratch/lintian.log" || :
[ "$status" = 0 ] || die "lintian: errors or warnings (debian/README.source: what is left and why)"

# 2. make install / uninstall with DESTDIR, in the export that built the
# package (nothing is rebuilt: the same PREFIX).
dest=$scratch/destdir
(cd "$src" && make -s install DESTDIR="$dest" PREFIX=/usr) >/dev/null
{
	sed -e '/^#/d' -e '/^$/d' tests/install/files.txt
	# Documents and the demo tree change with the tree: those it has.
	for f in README.md docs/*.md docs/compare/*; do echo "usr/share/doc/lguest/${f#docs/}"; done
	find images/demo -type f | sed 's|^|usr/share/lguest/|'
} | sort >"$scratch/expected"
(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$scratch/installed"
if ! diff -u "$scratch/expected" "$scratch/installed"; then
	die "make install DESTDIR=... PREFIX=/usr: the files differ (- expected, + installed)"
fi
for f in usr/bin/lguest usr/lib/lguest/lguest-stub usr/share/lguest/images/mkimage.sh; do
	[ -x "$dest/$f" ] || die "$f is not executable"
done
say "make install DESTDIR=... PREFIX=/usr: $(wc -l <"$scratch/installed") files, as expected"
(cd "$src" && make -s uninstall DESTDIR="$dest" PREFIX=/usr) >/dev/null
left=$(cd "$dest" && find . \( -type f -o -type l -o -path '*lguest*' \) | head -5)
[ -z "$left" ] || die "make uninstall left: $left"
say "make uninstall: nothing left"

# 3. Installed for real (root) or unpacked (anyone).
if [ "$(id -u)" = 0 ]; then
	trap 'dpkg --purge lguest >/dev/null 2>&1 || :' EXIT
	dpkg -i "$deb" >/dev/null
	root=
	dpkg -L lguest >"$scratch/listing"
	say "dpkg -i $(basename "$deb")"
else
	root=$scratch/root
	dpkg -x "$deb" "$root"
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed -e 's|^\.||' -e 's|/$||' -e 's|^$|/.|' \
		>"$scratch/listing"
	say "not root: dpkg -x $(basename "$deb") into $root"
fi
lguest=$root/usr/bin/lguest

run=$(mktemp -d /tmp/lguest-install-check.XXXXXX)
mkdir "$run/tree"
text="the installed lguest read this file"
echo "$text" >"$run/tree/hello.txt"
mke2fs -q -F -t ext2 -b 1024 -d "$run/tree" "$run/disk.img" 4M >/dev/null
for backend in auto process; do
	status=0
	(cd "$run" && "$lguest" -v --backend=$backend --block=disk.img -- 'cat /hello.txt') \
		>"$run/out" 2>"$run/err" || status=$?
	if [ "$status" != 0 ] || ! grep -qxF "$text" "$run/out"; then
		cat "$run/out" "$run/err"
		die "$lguest --backend=$backend --block=disk.img -- 'cat /hello.txt' in $run: status $status"
	fi
	say "$lguest --backend=$backend in $run: ok ($(sed -n 's/^lguest: backend //p' "$run/err"))"
done
rm -rf "$run"
"$root/usr/bin/lguest-trace" --help >/dev/null
"$root/usr/bin/lguest-compare" --help >/dev/null
"$root/usr/bin/lguest-vhost-blk" --help >/dev/null

# 4. Only the places that are lguest's, or the directories leading to them
# (and the lintian overrides, debian/lguest.lintian-overrides: package
# metadata where lintian looks for it).
fhs='/usr/bin/[^/]+|/usr/lib/lguest(/.*)?|/usr/share/(man|doc|bash-completion|lguest)(/.*)?'
bad=$(grep -vxE "/\.|/usr|/usr/(bin|lib|share)|$fhs|/usr/share/lintian(/overrides(/lguest)?)?" \
	"$scratch/listing" || :)
[ -z "$bad" ] || die "outside the FHS places lguest owns: $bad"
for f in /usr/bin/lguest /usr/lib/lguest/guest.elf /usr/lib/lguest/lguest-stub \
	/usr/share/man/man1/lguest.1.gz /usr/share/bash-completion/completions/lguest; do
	grep -qxF "$f" "$scratch/listing" || die "the package lacks $f"
done
say "the package's $(wc -l <"$scratch/listing") paths are all in FHS places"

if [ -z "$root" ]; then
	dpkg --purge lguest >/dev/null
	trap - EXIT
	while read -r f; do
		[ -d "$f" ] && [ ! -L "$f" ] && continue
		if [ -e "$f" ] || [ -L "$f" ]; then
			die "$f is still there after dpkg --purge lguest"
		fi
	done <"$scratch/listing"
	for d in /usr/lib/lguest /usr/share/lguest /usr/share/doc/lguest; do
		! [ -e "$d" ] || die "$d is still there after dpkg --purge lguest"
	done
	say "dpkg --purge lguest: nothing of it left"
else
	rm -rf "$root"
fi
say "ok"
