#!/bin/sh
# deps.sh: install the Debian packages the build and tests need, when we can.
set -eu
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in gcc make libc6-dev linux-libc-dev zlib1g-dev libcap-ng-dev libseccomp-dev liburing-dev libcmocka-dev \
	e2fsprogs python3 strace gzip iproute2 iputils-ping gnuplot-nox qemu-system-common \
	qemu-system-x86 busybox-static cpio kmod clang libclang-rt-14-dev valgrind scdoc bash-completion \
	linux-source-6.1; do
	have_pkg "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "  APT    $need"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
	echo "missing Debian packages:$need (run: sudo apt-get install$need)" >&2
	exit 1
fi
