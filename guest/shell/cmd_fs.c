// SPDX-License-Identifier: GPL-2.0
/* cmd_fs.c: ls, cat and stat on the ext2 file system of blk0. */
#include "blk.h"
#include "console.h"
#include "kernel.h"
#include "shell.h"

static int read_sectors(void *ctx, uint64_t sector, uint32_t nsectors, void *buf)
{
	int status = blk_rw(ctx, D3_BLK_T_READ, sector, buf, nsectors * LG_SECTOR_SIZE);

	return status == D3_BLK_S_OK ? 0 : -1;
}

struct ext2_fs *root_fs(void)
{
	static struct ext2_fs fs;
	static bool mounted;
	struct blkdev *bd;
	int err;

	if (mounted)
		return &fs;
	bd = blk_get(0);
	if (!bd) {
		printk("no disk: start lguest with --block=IMAGE\n");
		return NULL;
	}
	err = ext2_mount(&fs, read_sectors, bd);
	if (err) {
		printk("%s: cannot mount ext2: %s\n", blk_name(bd), ext2_strerror(err));
		return NULL;
	}
	mounted = true;
	return &fs;
}

static int lookup(struct ext2_fs *fs, const char *path, uint32_t *ino)
{
	int err = ext2_lookup(fs, path, ino);

	if (err)
		printk("%s: %s\n", path, ext2_strerror(err));
	return err;
}

struct ls_ctx {
	struct ext2_fs *fs;
	int count;
};

static int ls_entry(void *arg, const char *name, uint32_t name_len, uint32_t ino, uint8_t type)
{
	struct ls_ctx *ls = arg;
	struct ext2_inode_info st;
	char mode[11];

	(void)type;
	if (ext2_stat(ls->fs, ino, &st)) {
		printk("?????????? %8s %.*s\n", "?", (int)name_len, name);
		return 0;
	}
	ext2_mode_string(st.mode, mode);
	printk("%s %3u %8lu %.*s\n", mode, st.links, (unsigned long)st.size, (int)name_len, name);
	ls->count++;
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/";
	struct ext2_fs *fs = root_fs();
	struct ext2_inode_info st;
	struct ls_ctx ls = { fs, 0 };
	uint32_t ino;
	int err;

	if (!fs || lookup(fs, path, &ino))
		return 1;
	err = ext2_stat(fs, ino, &st);
	if (!err && (st.mode & 0xf000) != 0x4000) {
		char mode[11];

		ext2_mode_string(st.mode, mode);
		printk("%s %3u %8lu %s\n", mode, st.links, (unsigned long)st.size, path);
		return 0;
	}
	if (!err)
		err = ext2_readdir(fs, ino, ls_entry, &ls);
	if (err) {
		printk("%s: %s\n", path, ext2_strerror(err));
		return 1;
	}
	return 0;
}

int cmd_cat(int argc, char **argv)
{
	struct ext2_fs *fs = root_fs();
	const size_t chunk_pages = 16;
	char *buf;
	uint64_t off = 0;
	uint32_t ino;
	int status = 0;

	if (argc != 2) {
		printk("usage: cat PATH\n");
		return 2;
	}
	if (!fs || lookup(fs, argv[1], &ino))
		return 1;
	buf = alloc_pages(chunk_pages);
	if (!buf) {
		printk("cat: out of memory\n");
		return 1;
	}
	for (;;) {
		long n = ext2_read(fs, ino, off, buf, chunk_pages * PAGE_SIZE);

		if (n < 0) {
			printk("%s: %s\n", argv[1], ext2_strerror((int)n));
			status = 1;
			break;
		}
		if (n == 0)
			break;
		console_write(buf, n);
		off += n;
	}
	free_pages(buf, chunk_pages);
	return status;
}

int cmd_stat(int argc, char **argv)
{
	struct ext2_fs *fs = root_fs();
	struct ext2_inode_info st;
	char mode[11];
	uint32_t ino;
	int err;

	if (argc != 2) {
		printk("usage: stat PATH\n");
		return 2;
	}
	if (!fs || lookup(fs, argv[1], &ino))
		return 1;
	err = ext2_stat(fs, ino, &st);
	if (err) {
		printk("%s: %s\n", argv[1], ext2_strerror(err));
		return 1;
	}
	ext2_mode_string(st.mode, mode);
	printk("  File: %s\n  Size: %lu\tBlocks: %u\tInode: %u\tLinks: %u\n"
	       "Access: (%04o/%s)  Uid: %u  Gid: %u\n"
	       "Access: %u  Modify: %u  Change: %u\n",
	       argv[1], (unsigned long)st.size, st.blocks, st.ino, st.links, st.mode & 07777, mode,
	       st.uid, st.gid, st.atime, st.mtime, st.ctime);
	return 0;
}
