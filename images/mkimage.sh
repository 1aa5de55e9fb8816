#!/bin/sh
# mkimage.sh SRC_DIR IMAGE [SIZE]: make an ext2 disk image holding SRC_DIR.
# Uses mke2fs -d (e2fsprogs), so no root and no loop mounts are needed.
set -eu
src=$1
img=$2
size=${3:-8M}
mkdir -p "$(dirname "$img")"
rm -f "$img"
# Fixed UUID and hash seed: the same tree gives the same image.
mke2fs -q -F -t ext2 -b 1024 -L demo \
	-U 6c677565-7374-2d64-656d-6f2d696d6167 -E root_owner=0:0,hash_seed=6c677565-7374-2d68-6173-682d73656564 \
	-d "$src" "$img" "$size"
echo "  IMAGE   $img (from $src)"
