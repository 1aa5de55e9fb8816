/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ext2.h: a small read-only ext2 file-system reader.
 *
 * Freestanding (no allocation, no libc beyond lib.h's string functions):
 * built into the guest kernel and into the hosted unit tests.
 *
 * The on-disk layout, briefly (all fields little-endian):
 *
 *  - The superblock is 1024 bytes at byte offset 1024 of the disk, whatever
 *    the block size (1024 << s_log_block_size).  Block 0 holds it when blocks
 *    are 2 KiB or more; with 1 KiB blocks it is block 1 (s_first_data_block).
 *  - The rest is cut into block groups of s_blocks_per_group blocks.  The
 *    group descriptor table starts in the block after the superblock's: one
 *    32-byte descriptor per group giving the block numbers of the group's
 *    block bitmap, inode bitmap and inode table.
 *  - Inodes are numbered from 1; inode N is entry (N - 1) % s_inodes_per_group
 *    of the inode table of group (N - 1) / s_inodes_per_group, each entry
 *    s_inode_size bytes (128 in revision 0).  Inode 2 is the root directory.
 *  - An inode's data is found through i_block[15]: [0..11] point straight at
 *    the first 12 data blocks, [12] at a single-indirect block (a block full
 *    of block numbers), [13] at a double-indirect block (block numbers of
 *    single-indirect blocks) and [14] at a triple-indirect one.  A zero
 *    pointer, at any level, is a hole: that part of the file reads as zeros.
 *    Symlinks shorter than 60 bytes keep their target in i_block itself.
 *  - A directory is a file made of directory entries, which never cross a
 *    block boundary: inode (32 bits), rec_len (16, the distance to the next
 *    entry, a multiple of 4), name_len (8; 16 in revision 0 without the
 *    filetype feature), file_type (8) and the name, not NUL-terminated.
 *    Inode 0 marks an unused entry.  Hash-indexed (dir_index) directories
 *    hide their index in entries like that, so reading them linearly works.
 *
 * Everything read from the disk is checked before use: a corrupt image gives
 * EXT2_ECORRUPT (or EXT2_EINVAL for something valid we do not support) and
 * ext2_last_reason() says what was wrong.
 */
#ifndef GUEST_EXT2_H
#define GUEST_EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXT2_ROOT_INO	 2
#define EXT2_NAME_MAX	 255
#define EXT2_MAX_BLOCK	 4096 /* largest block size we mount */
#define EXT2_SECTOR_SIZE 512
/*
 * The largest directory we read, in bytes: some 400,000 names of 30
 * bytes.  It bounds the work of one directory scan (a few ms) however
 * the disk lies about a directory's size.
 */
#define EXT2_DIR_MAX (16u << 20)

/* i_mode: the file type in the top four bits, then the permission bits. */
#define EXT2_S_IFMT   0xf000
#define EXT2_S_IFSOCK 0xc000
#define EXT2_S_IFLNK  0xa000
#define EXT2_S_IFREG  0x8000
#define EXT2_S_IFBLK  0x6000
#define EXT2_S_IFDIR  0x4000
#define EXT2_S_IFCHR  0x2000
#define EXT2_S_IFIFO  0x1000

/* Directory entry file_type values (with the filetype feature). */
enum {
	EXT2_FT_UNKNOWN = 0,
	EXT2_FT_REG_FILE = 1,
	EXT2_FT_DIR = 2,
	EXT2_FT_CHRDEV = 3,
	EXT2_FT_BLKDEV = 4,
	EXT2_FT_FIFO = 5,
	EXT2_FT_SOCK = 6,
	EXT2_FT_SYMLINK = 7,
};

enum {
	EXT2_OK = 0,
	EXT2_ENOENT = -2,
	EXT2_EIO = -5,
	EXT2_ENOTDIR = -20,
	EXT2_EISDIR = -21,
	EXT2_EINVAL = -22,
	EXT2_ENAMETOOLONG = -36,
	EXT2_ECORRUPT = -117,
};

/*
 * Reads @nsectors 512-byte sectors starting at @sector into @buf; returns 0,
 * or a negative number on I/O error (any non-zero value counts as one, and
 * is reported as EXT2_EIO).  File reads ask for whole runs of contiguous
 * blocks at once, so @nsectors can be as large as the caller's buffer:
 * split the request here if the device needs it.
 */
typedef int (*ext2_read_fn)(void *ctx, uint64_t sector, uint32_t nsectors, void *buf);

struct ext2_inode_info {
	uint32_t ino;
	uint16_t mode; /* EXT2_S_IF* type bits and permissions */
	uint16_t links;
	uint32_t uid, gid;
	uint64_t size;
	uint32_t atime, mtime, ctime;
	uint32_t blocks; /* 512-byte units, i_blocks */
};

/*
 * The state of one mounted file system, scratch buffers included (about
 * 14 KiB: too big for a kernel stack, so make it static).  After a
 * successful ext2_mount() the fields in the first group may be read; the
 * rest is private.
 */
struct ext2_fs {
	uint32_t block_size; /* 1024, 2048 or 4096 */
	uint32_t blocks_count;
	uint32_t inodes_count;
	uint32_t groups_count;
	uint32_t rev_level;
	uint32_t inode_size;
	uint32_t feature_compat, feature_incompat, feature_ro_compat;
	uint8_t uuid[16];
	char volume_name[17]; /* NUL-terminated */

	/* Private from here on. */
	ext2_read_fn read;
	void *ctx;
	const char *reason;   /* why the last call failed, a static string */
	uint32_t block_shift; /* log2(block_size) */
	uint32_t sectors_per_block;
	uint32_t ptr_shift; /* log2(block numbers per indirect block) */
	uint32_t first_data_block;
	uint32_t blocks_per_group;
	uint32_t inodes_per_group;
	uint32_t itable_blocks; /* inode table blocks per group */
	bool filetype;		/* dirents carry a file_type byte */

	bool mounted;

	/*
	 * Small caches, each tagged with the sector or block it holds; a tag
	 * of 0 means empty, as no cached sector or block is ever number 0.
	 */
	uint64_t gd_sector; /* one sector of group descriptors */
	uint8_t gd_buf[EXT2_SECTOR_SIZE];
	uint64_t ind_sector[3]; /* one sector of each level of indirect block */
	uint8_t ind_buf[3][EXT2_SECTOR_SIZE];
	uint32_t itab_blk; /* one inode-table block */
	uint8_t itab_buf[EXT2_MAX_BLOCK];
	uint32_t buf_blk; /* file data, and directories for ext2_lookup */
	uint8_t buf[EXT2_MAX_BLOCK];
	uint32_t dir_blk; /* the directory block ext2_readdir is walking */
	uint8_t dir_buf[EXT2_MAX_BLOCK];
};

/* A short English description of an EXT2_* error code. */
const char *ext2_strerror(int err);

/* Why the most recent failing call on @fs failed ("" if none has); for messages. */
const char *ext2_last_reason(const struct ext2_fs *fs);

/*
 * Validates the superblock (magic 0xEF53, revision 0 or 1, block size 1, 2 or
 * 4 KiB, counts, inode size, features) and every group descriptor.  Returns
 * EXT2_EINVAL for something that is not ext2 or uses an incompatible feature
 * we lack (extents, 64bit, meta_bg, compression, journal replay...),
 * EXT2_ECORRUPT for inconsistent values, EXT2_EIO if a read fails.
 */
int ext2_mount(struct ext2_fs *fs, ext2_read_fn read, void *ctx);

/*
 * Resolves an absolute path to an inode number.  "/" is the root; empty
 * components ("//", a trailing "/") are skipped; "." and ".." are looked up
 * as the directory entries they are.  Symlinks are not followed: one used as
 * a directory gives EXT2_ENOTDIR.  A trailing "/" after a non-directory
 * gives EXT2_ENOTDIR too (as POSIX).  A relative or empty path is
 * EXT2_EINVAL; a component longer than 255 bytes is EXT2_ENAMETOOLONG.
 * A directory larger than EXT2_DIR_MAX on the way gives EXT2_EINVAL.
 */
int ext2_lookup(struct ext2_fs *fs, const char *path, uint32_t *ino);

/* Fills @st for inode @ino (1 to inodes_count, else EXT2_EINVAL). */
int ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_inode_info *st);

/*
 * Reads up to @len bytes at offset @off of a regular file, or of a symlink
 * (its target).  Returns the bytes read, fewer than @len only at end of file
 * (0 at or past it), or a negative error: EXT2_EISDIR for a directory,
 * EXT2_EINVAL for other inode types.  On error @buf holds rubbish.
 */
long ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, uint32_t len);

/*
 * Calls @fn for each entry of directory @ino in disk order, "." and ".."
 * included.  @name is not NUL-terminated and is only valid during the call;
 * @file_type is the EXT2_FT_* byte, 0 without the filetype feature.  Stops
 * as soon as @fn returns non-zero and returns that value.  @fn may call any
 * ext2_* function on @fs, ext2_readdir included, but not ext2_mount.  A
 * directory larger than EXT2_DIR_MAX gives EXT2_EINVAL before any entry.
 */
typedef int (*ext2_dir_fn)(void *arg, const char *name, uint32_t name_len, uint32_t ino,
			   uint8_t file_type);
int ext2_readdir(struct ext2_fs *fs, uint32_t ino, ext2_dir_fn fn, void *arg);

/*
 * The physical block holding logical block @lblk of inode @ino (0 for a
 * hole), as ext2_read finds it; for tools and tests.
 */
int ext2_bmap(struct ext2_fs *fs, uint32_t ino, uint64_t lblk, uint32_t *pblk);

/* "drwxr-xr-x" style string (ls -l) for @mode, NUL-terminated, in @buf. */
void ext2_mode_string(uint16_t mode, char buf[11]);

#endif /* GUEST_EXT2_H */
