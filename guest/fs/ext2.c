// SPDX-License-Identifier: GPL-2.0
/*
 * ext2.c: a read-only ext2 reader.
 *
 * ext2 is about the simplest real Unix file system, which is why we read
 * it: a superblock describing the geometry, block groups each with an inode
 * table, inodes pointing at their data through direct and indirect block
 * pointers, and directories that are plain files of (inode, name) records.
 * ext2.h sketches the layout; here we walk it.
 *
 * Three things shape the code:
 *
 *  - The disk is untrusted.  Every number read from it is checked against
 *    the geometry before it is used as an index, a length or a block
 *    number, and every loop is bounded by something we computed (the block
 *    size, the directory size, the path length), never by the disk alone.
 *
 *  - There is no allocator and the stack is small, so all buffers live in
 *    struct ext2_fs, which doubles as a set of one-entry caches: a sector of
 *    group descriptors, a block of the inode table, one 512-byte sector per
 *    level of indirect block, a data block and a directory block.
 *
 *  - Every read is a round trip to the device, so we avoid them.  Indirect
 *    lookups read only the 512-byte sector holding the pointer we need, not
 *    the whole indirect block, and keep it: a sector holds 128 pointers, so
 *    a sequential read costs one small pointer read per 128 blocks, and a
 *    short file or a random read does not drag in a 4 KiB block to use four
 *    bytes of it.  File data goes straight into the caller's buffer, one
 *    request per run of physically contiguous blocks.
 */
#include "ext2.h"
#include "lib.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SB_OFFSET  1024
#define SB_SIZE	   1024
#define EXT2_MAGIC 0xef53

/* Superblock fields (byte offsets). */
#define SB_INODES_COUNT	     0
#define SB_BLOCKS_COUNT	     4
#define SB_FIRST_DATA_BLOCK  20
#define SB_LOG_BLOCK_SIZE    24
#define SB_BLOCKS_PER_GROUP  32
#define SB_INODES_PER_GROUP  40
#define SB_MAGIC	     56
#define SB_REV_LEVEL	     76
#define SB_INODE_SIZE	     88
#define SB_FEATURE_COMPAT    92
#define SB_FEATURE_INCOMPAT  96
#define SB_FEATURE_RO_COMPAT 100
#define SB_UUID		     104
#define SB_VOLUME_NAME	     120

/* Group descriptor fields; each descriptor is 32 bytes (no 64bit feature). */
#define GD_SIZE		32
#define GD_BLOCK_BITMAP 0
#define GD_INODE_BITMAP 4
#define GD_INODE_TABLE	8

/* Inode fields. */
#define I_MODE	      0
#define I_UID	      2
#define I_SIZE	      4
#define I_ATIME	      8
#define I_CTIME	      12
#define I_MTIME	      16
#define I_GID	      24
#define I_LINKS_COUNT 26
#define I_BLOCKS      28
#define I_FLAGS	      32
#define I_BLOCK	      40
#define I_FILE_ACL    104
#define I_SIZE_HIGH   108
#define I_UID_HIGH    120
#define I_GID_HIGH    122
#define I_MIN_SIZE    128

#define N_DIRECT    12
#define IND_BLOCK   12
#define DIND_BLOCK  13
#define TIND_BLOCK  14
#define IBLOCK_SIZE 60 /* 15 pointers; a fast symlink's target lives here */

/* Inode flags that mean i_block is not a block map. */
#define I_FL_EXTENTS	 0x00080000
#define I_FL_INLINE_DATA 0x10000000

/* Directory entry: inode, rec_len, name_len, file_type, then the name. */
#define DE_HEADER 8

#define INCOMPAT_FILETYPE 0x0002
#define INCOMPAT_FLEX_BG  0x0200
/*
 * filetype only adds a byte to directory entries; flex_bg only moves
 * bitmaps and inode tables, which we find through the descriptors anyway.
 */
#define INCOMPAT_SUPPORTED (INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG)

static const struct {
	uint32_t bit;
	const char *reason;
} incompat_reasons[] = {
	{ 0x0001, "unsupported feature: compression" },
	{ 0x0004, "the journal needs recovery (run e2fsck)" },
	{ 0x0008, "this is an external journal, not a file system" },
	{ 0x0010, "unsupported feature: meta_bg" },
	{ 0x0040, "unsupported feature: extents" },
	{ 0x0080, "unsupported feature: 64bit" },
	{ 0x0100, "unsupported feature: mmp" },
	{ 0x0400, "unsupported feature: ea_inode" },
	{ 0x1000, "unsupported feature: dirdata" },
	{ 0x2000, "unsupported feature: metadata_csum_seed" },
	{ 0x4000, "unsupported feature: large_dir" },
	{ 0x8000, "unsupported feature: inline_data" },
	{ 0x10000, "unsupported feature: encrypt" },
	{ 0x20000, "unsupported feature: casefold" },
};

/* An inode as we use it, decoded from its on-disk bytes. */
struct inode {
	uint32_t ino;
	uint16_t mode, links;
	uint32_t uid, gid;
	uint64_t size;
	uint32_t atime, ctime, mtime;
	uint32_t blocks, flags, file_acl;
	uint8_t iblock[IBLOCK_SIZE];
};

/* A directory entry, its name pointing into the block it came from. */
struct dir_entry {
	uint32_t ino;
	uint32_t name_len;
	uint8_t type;
	const char *name;
};

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Record why we fail, for ext2_last_reason(); returns @err for tail calls. */
static int fail(struct ext2_fs *fs, int err, const char *why)
{
	fs->reason = why;
	return err;
}

static int dev_read(struct ext2_fs *fs, uint64_t sector, uint32_t nsectors, void *buf)
{
	if (fs->read(fs->ctx, sector, nsectors, buf) != 0)
		return fail(fs, EXT2_EIO, "the device failed to read");
	return 0;
}

/* One sector into a one-entry cache tagged by sector number. */
static int read_sector_cached(struct ext2_fs *fs, uint64_t sector, uint8_t *buf, uint64_t *tag)
{
	int err;

	if (*tag == sector)
		return 0;
	/* Untag first: a failed read leaves the buffer half written. */
	*tag = 0;
	err = dev_read(fs, sector, 1, buf);
	if (!err)
		*tag = sector;
	return err;
}

/* A whole block (already checked against blocks_count) into a cache. */
static int read_block_cached(struct ext2_fs *fs, uint32_t blk, uint8_t *buf, uint32_t *tag)
{
	int err;

	if (*tag == blk)
		return 0;
	*tag = 0;
	err = dev_read(fs, (uint64_t)blk * fs->sectors_per_block, fs->sectors_per_block, buf);
	if (!err)
		*tag = blk;
	return err;
}

/*
 * The location of group @group's inode table, read from its descriptor and
 * checked to lie inside the file system.  With @check_bitmaps, the bitmap
 * pointers are checked too (at mount; we never read the bitmaps).
 */
static int group_itable(struct ext2_fs *fs, uint32_t group, bool check_bitmaps, uint32_t *itable)
{
	uint64_t byte = ((uint64_t)(fs->first_data_block + 1) << fs->block_shift) +
			(uint64_t)group * GD_SIZE;
	const uint8_t *gd;
	uint32_t blk;
	int err;

	err = read_sector_cached(fs, byte / EXT2_SECTOR_SIZE, fs->gd_buf, &fs->gd_sector);
	if (err)
		return err;
	/* 32-byte descriptors never straddle a 512-byte sector. */
	gd = fs->gd_buf + byte % EXT2_SECTOR_SIZE;
	if (check_bitmaps) {
		blk = le32(gd + GD_BLOCK_BITMAP);
		if (blk < fs->first_data_block || blk >= fs->blocks_count)
			return fail(fs, EXT2_ECORRUPT,
				    "group descriptor: block bitmap out of range");
		blk = le32(gd + GD_INODE_BITMAP);
		if (blk < fs->first_data_block || blk >= fs->blocks_count)
			return fail(fs, EXT2_ECORRUPT,
				    "group descriptor: inode bitmap out of range");
	}
	blk = le32(gd + GD_INODE_TABLE);
	if (blk < fs->first_data_block || (uint64_t)blk + fs->itable_blocks > fs->blocks_count)
		return fail(fs, EXT2_ECORRUPT, "group descriptor: inode table out of range");
	*itable = blk;
	return 0;
}

/*
 * Reads and decodes inode @ino.  @ino must already be known to be in
 * range: callers check it, as a bad number is the caller's fault
 * (EXT2_EINVAL) or the disk's (EXT2_ECORRUPT) depending on where it came from.
 */
static int read_inode(struct ext2_fs *fs, uint32_t ino, struct inode *in)
{
	uint32_t group = (ino - 1) / fs->inodes_per_group;
	uint32_t index = (ino - 1) % fs->inodes_per_group;
	uint64_t byte = (uint64_t)index * fs->inode_size;
	uint32_t itable;
	const uint8_t *p;
	int err;

	err = group_itable(fs, group, false, &itable);
	if (err)
		return err;
	/* index < inodes_per_group keeps us in the itable_blocks just checked. */
	err = read_block_cached(fs, itable + (uint32_t)(byte >> fs->block_shift), fs->itab_buf,
				&fs->itab_blk);
	if (err)
		return err;
	/* inode_size is a power of two <= block size: no straddling. */
	p = fs->itab_buf + (byte & (fs->block_size - 1));

	in->ino = ino;
	in->mode = le16(p + I_MODE);
	in->links = le16(p + I_LINKS_COUNT);
	in->uid = le16(p + I_UID) | (uint32_t)le16(p + I_UID_HIGH) << 16;
	in->gid = le16(p + I_GID) | (uint32_t)le16(p + I_GID_HIGH) << 16;
	in->size = le32(p + I_SIZE);
	/*
	 * large_file: regular files keep the size's high half where
	 * directories keep i_dir_acl.  Linux reads it whether or not the
	 * feature is set, and so do we.
	 */
	if ((in->mode & EXT2_S_IFMT) == EXT2_S_IFREG)
		in->size |= (uint64_t)le32(p + I_SIZE_HIGH) << 32;
	in->atime = le32(p + I_ATIME);
	in->ctime = le32(p + I_CTIME);
	in->mtime = le32(p + I_MTIME);
	in->blocks = le32(p + I_BLOCKS);
	in->flags = le32(p + I_FLAGS);
	in->file_acl = le32(p + I_FILE_ACL);
	memcpy(in->iblock, p + I_BLOCK, IBLOCK_SIZE);

	if (in->flags & (I_FL_EXTENTS | I_FL_INLINE_DATA))
		return fail(fs, EXT2_ECORRUPT, "inode uses extents or inline data");
	return 0;
}

/* read_inode() for a number given by our caller. */
static int get_inode(struct ext2_fs *fs, uint32_t ino, struct inode *in)
{
	if (!fs->mounted)
		return fail(fs, EXT2_EINVAL, "not mounted");
	if (ino < 1 || ino > fs->inodes_count)
		return fail(fs, EXT2_EINVAL, "inode number out of range");
	return read_inode(fs, ino, in);
}

static inline bool is_dir(const struct inode *in)
{
	return (in->mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
}

/*
 * A symlink whose target fits in i_block has no data block; its i_blocks
 * counts only an extended-attribute block, if any (as Linux decides).
 */
static bool is_fast_symlink(const struct ext2_fs *fs, const struct inode *in)
{
	uint32_t ea_blocks = in->file_acl ? fs->sectors_per_block : 0;

	return (in->mode & EXT2_S_IFMT) == EXT2_S_IFLNK && in->blocks == ea_blocks;
}

/*
 * Maps logical block @lblk of @in to a physical block, 0 for a hole.  Each
 * level of indirection reads the one sector holding the pointer we need,
 * cached per level (ind_buf[level - 1]): the level-1 sector changes every
 * 128 blocks of a sequential read, the upper ones far more rarely.
 */
static int map_block(struct ext2_fs *fs, const struct inode *in, uint64_t lblk, uint32_t *pblk)
{
	uint32_t shift = fs->ptr_shift;
	uint64_t per = 1ull << shift;
	unsigned int slot, level;
	uint32_t blk;
	int err;

	if (lblk < N_DIRECT) {
		slot = (unsigned int)lblk;
		level = 0;
	} else {
		lblk -= N_DIRECT;
		if (lblk < per) {
			slot = IND_BLOCK;
			level = 1;
		} else if ((lblk -= per) < per * per) {
			slot = DIND_BLOCK;
			level = 2;
		} else if ((lblk -= per * per) < per * per * per) {
			slot = TIND_BLOCK;
			level = 3;
		} else {
			return fail(fs, EXT2_ECORRUPT, "file size beyond what ext2 can map");
		}
	}
	blk = le32(in->iblock + 4 * slot);
	for (; level > 0 && blk; level--) {
		uint64_t index = (lblk >> (shift * (level - 1))) & (per - 1);
		uint64_t byte;

		if (blk >= fs->blocks_count)
			return fail(fs, EXT2_ECORRUPT, "indirect block number out of range");
		byte = ((uint64_t)blk << fs->block_shift) + index * 4;
		err = read_sector_cached(fs, byte / EXT2_SECTOR_SIZE, fs->ind_buf[level - 1],
					 &fs->ind_sector[level - 1]);
		if (err)
			return err;
		blk = le32(fs->ind_buf[level - 1] + byte % EXT2_SECTOR_SIZE);
	}
	if (blk >= fs->blocks_count)
		return fail(fs, EXT2_ECORRUPT, "data block number out of range");
	*pblk = blk;
	return 0;
}

/* The number of blocks of directory @in; ENOTDIR if it is not one. */
static int dir_blocks(struct ext2_fs *fs, const struct inode *in, uint32_t *nblocks)
{
	if (!is_dir(in))
		return fail(fs, EXT2_ENOTDIR, "not a directory");
	/* Directories grow a block at a time; anything else is damage. */
	if (in->size & (fs->block_size - 1))
		return fail(fs, EXT2_ECORRUPT, "directory size not a multiple of the block size");
	/*
	 * A lookup reads the whole directory when the name is not there, and
	 * only the disk says how big that is: a hostile image makes a 4 GiB
	 * directory of one block full of empty 8-byte entries, which every
	 * pointer names, and each path component through it costs half a
	 * billion entries, a second or more.  Real directories stay far
	 * smaller (see EXT2_DIR_MAX), so bigger ones are refused.
	 */
	if (in->size > EXT2_DIR_MAX)
		return fail(fs, EXT2_EINVAL, "directory larger than 16 MiB, which we do not read");
	*nblocks = (uint32_t)(in->size >> fs->block_shift);
	return 0;
}

/* Physical block of directory block @b; directories have no holes. */
static int dir_block(struct ext2_fs *fs, const struct inode *in, uint32_t b, uint32_t *pblk)
{
	int err = map_block(fs, in, b, pblk);

	if (!err && !*pblk)
		err = fail(fs, EXT2_ECORRUPT, "hole in a directory");
	return err;
}

/*
 * The next used entry of directory block @blk at or after *@off.  Returns 1
 * with *@de filled and *@off moved past it, 0 at the end of the block, or
 * an error.  Every entry is checked, used or not, as Linux does: rec_len
 * must keep the walk inside the block and aligned, and the name must fit.
 */
static int next_dirent(struct ext2_fs *fs, const uint8_t *blk, uint32_t *off, struct dir_entry *de)
{
	while (*off < fs->block_size) {
		const uint8_t *p = blk + *off;
		uint32_t left = fs->block_size - *off;
		uint32_t rec_len, name_len;

		if (left < DE_HEADER)
			return fail(fs, EXT2_ECORRUPT, "directory entry crosses the block end");
		rec_len = le16(p + 4);
		name_len = fs->filetype ? p[6] : le16(p + 6);
		if (rec_len < DE_HEADER || rec_len % 4 || rec_len > left)
			return fail(fs, EXT2_ECORRUPT, "directory entry with a bad rec_len");
		if (name_len > EXT2_NAME_MAX || DE_HEADER + name_len > rec_len)
			return fail(fs, EXT2_ECORRUPT,
				    "directory entry name longer than the entry");
		*off += rec_len;
		de->ino = le32(p);
		if (!de->ino)
			continue;
		if (de->ino > fs->inodes_count)
			return fail(fs, EXT2_ECORRUPT, "directory entry inode out of range");
		if (!name_len)
			return fail(fs, EXT2_ECORRUPT, "directory entry with an empty name");
		de->name_len = name_len;
		de->type = fs->filetype ? p[7] : 0;
		de->name = (const char *)p + DE_HEADER;
		return 1;
	}
	return 0;
}

/* Looks @name up in directory @dir; uses fs->buf and calls nobody. */
static int find_entry(struct ext2_fs *fs, const struct inode *dir, const char *name, uint32_t len,
		      uint32_t *ino)
{
	struct dir_entry de;
	uint32_t nblocks, b, pblk, off;
	int err;

	err = dir_blocks(fs, dir, &nblocks);
	if (err)
		return err;
	for (b = 0; b < nblocks; b++) {
		err = dir_block(fs, dir, b, &pblk);
		if (!err)
			err = read_block_cached(fs, pblk, fs->buf, &fs->buf_blk);
		if (err)
			return err;
		off = 0;
		while ((err = next_dirent(fs, fs->buf, &off, &de)) > 0) {
			if (de.name_len == len && !memcmp(de.name, name, len)) {
				*ino = de.ino;
				return 0;
			}
		}
		if (err)
			return err;
	}
	return fail(fs, EXT2_ENOENT, "no such directory entry");
}

int ext2_mount(struct ext2_fs *fs, ext2_read_fn read, void *ctx)
{
	const uint8_t *sb = fs->buf;
	uint64_t groups, gdt_blocks, itable_bytes;
	uint32_t log_bs, incompat, g, itable;
	struct inode root;
	unsigned int i;
	int err;

	memset(fs, 0, sizeof(*fs));
	fs->reason = "";
	if (!read)
		return fail(fs, EXT2_EINVAL, "no read function");
	fs->read = read;
	fs->ctx = ctx;

	err = dev_read(fs, SB_OFFSET / EXT2_SECTOR_SIZE, SB_SIZE / EXT2_SECTOR_SIZE, fs->buf);
	if (err)
		return err;
	if (le16(sb + SB_MAGIC) != EXT2_MAGIC)
		return fail(fs, EXT2_EINVAL, "no ext2 magic number: not an ext2 file system");
	fs->rev_level = le32(sb + SB_REV_LEVEL);
	if (fs->rev_level > 1)
		return fail(fs, EXT2_EINVAL, "unsupported revision level");
	log_bs = le32(sb + SB_LOG_BLOCK_SIZE);
	if (log_bs > 2)
		return fail(fs, EXT2_EINVAL, "unsupported block size (not 1, 2 or 4 KiB)");
	fs->block_shift = 10 + log_bs;
	fs->block_size = 1u << fs->block_shift;
	fs->sectors_per_block = fs->block_size / EXT2_SECTOR_SIZE;
	fs->ptr_shift = fs->block_shift - 2;

	fs->inodes_count = le32(sb + SB_INODES_COUNT);
	fs->blocks_count = le32(sb + SB_BLOCKS_COUNT);
	fs->first_data_block = le32(sb + SB_FIRST_DATA_BLOCK);
	fs->blocks_per_group = le32(sb + SB_BLOCKS_PER_GROUP);
	fs->inodes_per_group = le32(sb + SB_INODES_PER_GROUP);
	/* The superblock sits in block 1 with 1 KiB blocks, else block 0. */
	if (fs->first_data_block != (fs->block_size == 1024 ? 1u : 0u))
		return fail(fs, EXT2_ECORRUPT, "bad s_first_data_block");
	if (fs->blocks_count <= fs->first_data_block + 1)
		return fail(fs, EXT2_ECORRUPT, "bad s_blocks_count");
	/* A group's bitmaps are one block each, so they bound its size. */
	if (!fs->blocks_per_group || fs->blocks_per_group > 8 * fs->block_size)
		return fail(fs, EXT2_ECORRUPT, "bad s_blocks_per_group");
	if (!fs->inodes_per_group || fs->inodes_per_group > 8 * fs->block_size)
		return fail(fs, EXT2_ECORRUPT, "bad s_inodes_per_group");
	groups = (fs->blocks_count - fs->first_data_block + (uint64_t)fs->blocks_per_group - 1) /
		 fs->blocks_per_group;
	fs->groups_count = (uint32_t)groups;
	if (fs->inodes_count < EXT2_ROOT_INO || fs->inodes_count > groups * fs->inodes_per_group)
		return fail(fs, EXT2_ECORRUPT, "bad s_inodes_count");

	if (fs->rev_level == 0) {
		/* Revision 0 has 128-byte inodes and predates the feature fields. */
		fs->inode_size = I_MIN_SIZE;
	} else {
		fs->inode_size = le16(sb + SB_INODE_SIZE);
		if (fs->inode_size < I_MIN_SIZE || fs->inode_size > fs->block_size ||
		    (fs->inode_size & (fs->inode_size - 1)))
			return fail(fs, EXT2_EINVAL, "unsupported inode size");
		fs->feature_compat = le32(sb + SB_FEATURE_COMPAT);
		fs->feature_incompat = le32(sb + SB_FEATURE_INCOMPAT);
		/*
		 * ro_compat features (sparse_super, large_file, huge_file,
		 * checksums...) only forbid writing, which we never do.
		 */
		fs->feature_ro_compat = le32(sb + SB_FEATURE_RO_COMPAT);
		incompat = fs->feature_incompat & ~INCOMPAT_SUPPORTED;
		if (incompat) {
			for (i = 0; i < ARRAY_SIZE(incompat_reasons); i++) {
				if (incompat & incompat_reasons[i].bit)
					return fail(fs, EXT2_EINVAL, incompat_reasons[i].reason);
			}
			return fail(fs, EXT2_EINVAL, "unknown incompatible feature");
		}
		fs->filetype = fs->feature_incompat & INCOMPAT_FILETYPE;
	}
	itable_bytes = (uint64_t)fs->inodes_per_group * fs->inode_size;
	fs->itable_blocks = (uint32_t)((itable_bytes + fs->block_size - 1) >> fs->block_shift);
	gdt_blocks = (groups * GD_SIZE + fs->block_size - 1) >> fs->block_shift;
	if (fs->first_data_block + 1 + gdt_blocks > fs->blocks_count)
		return fail(fs, EXT2_ECORRUPT, "group descriptors beyond the end");
	memcpy(fs->uuid, sb + SB_UUID, sizeof(fs->uuid));
	memcpy(fs->volume_name, sb + SB_VOLUME_NAME, 16);
	fs->volume_name[16] = '\0';

	/* Check every descriptor now so later failures mean new damage. */
	for (g = 0; g < fs->groups_count; g++) {
		err = group_itable(fs, g, true, &itable);
		if (err)
			return err;
	}
	fs->mounted = true;
	err = read_inode(fs, EXT2_ROOT_INO, &root);
	if (!err && !is_dir(&root))
		err = fail(fs, EXT2_ECORRUPT, "the root inode is not a directory");
	if (err)
		fs->mounted = false;
	return err;
}

int ext2_lookup(struct ext2_fs *fs, const char *path, uint32_t *ino)
{
	uint32_t cur = EXT2_ROOT_INO;
	struct inode in;
	const char *p, *name;
	uint32_t len;
	int err;

	if (!fs->mounted)
		return fail(fs, EXT2_EINVAL, "not mounted");
	if (!path || path[0] != '/')
		return fail(fs, EXT2_EINVAL, "path not absolute");
	/*
	 * One directory scan per component, and we never follow symlinks, so
	 * the path's length bounds the work however the directories loop.
	 */
	for (p = path;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		if (p - name > EXT2_NAME_MAX)
			return fail(fs, EXT2_ENAMETOOLONG, "path component too long");
		len = (uint32_t)(p - name);
		err = read_inode(fs, cur, &in);
		if (!err)
			err = find_entry(fs, &in, name, len, &cur);
		if (err)
			return err;
	}
	/* "file/" names a directory, which file is not (POSIX says ENOTDIR). */
	if (p[-1] == '/') {
		err = read_inode(fs, cur, &in);
		if (err)
			return err;
		if (!is_dir(&in))
			return fail(fs, EXT2_ENOTDIR, "not a directory");
	}
	*ino = cur;
	return 0;
}

int ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_inode_info *st)
{
	struct inode in;
	int err = get_inode(fs, ino, &in);

	if (err)
		return err;
	st->ino = ino;
	st->mode = in.mode;
	st->links = in.links;
	st->uid = in.uid;
	st->gid = in.gid;
	st->size = in.size;
	st->atime = in.atime;
	st->mtime = in.mtime;
	st->ctime = in.ctime;
	st->blocks = in.blocks;
	return 0;
}

long ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, uint32_t len)
{
	uint8_t *dst = buf;
	struct inode in;
	uint32_t done, mask = fs->block_size - 1;
	int err;

	err = get_inode(fs, ino, &in);
	if (err)
		return err;
	switch (in.mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG:
	case EXT2_S_IFLNK:
		break;
	case EXT2_S_IFDIR:
		return fail(fs, EXT2_EISDIR, "is a directory");
	default:
		return fail(fs, EXT2_EINVAL, "not a regular file or symlink");
	}
	if (off >= in.size)
		return 0;
	if (len > in.size - off)
		len = (uint32_t)(in.size - off);

	if (is_fast_symlink(fs, &in)) {
		if (in.size > IBLOCK_SIZE)
			return fail(fs, EXT2_ECORRUPT, "fast symlink longer than i_block");
		memcpy(dst, in.iblock + off, len);
		return len;
	}

	for (done = 0; done < len;) {
		uint64_t pos = off + done;
		uint64_t lblk = pos >> fs->block_shift;
		uint32_t boff = (uint32_t)(pos & mask);
		uint32_t pblk, next, n;

		err = map_block(fs, &in, lblk, &pblk);
		if (err)
			return err;
		if (boff || len - done < fs->block_size) {
			/* Part of a block: through the one-block cache. */
			uint32_t chunk = fs->block_size - boff;

			if (chunk > len - done)
				chunk = len - done;
			if (!pblk) {
				memset(dst + done, 0, chunk);
			} else {
				err = read_block_cached(fs, pblk, fs->buf, &fs->buf_blk);
				if (err)
					return err;
				memcpy(dst + done, fs->buf + boff, chunk);
			}
			done += chunk;
			continue;
		}
		/*
		 * Whole blocks: extend the run while the next block follows
		 * this one on disk (or is another hole) and still fits.
		 */
		for (n = 1; (len - done) >> fs->block_shift > n; n++) {
			err = map_block(fs, &in, lblk + n, &next);
			if (err)
				return err;
			if (pblk ? next != (uint64_t)pblk + n : next != 0)
				break;
		}
		if (!pblk) {
			memset(dst + done, 0, (size_t)n << fs->block_shift);
		} else {
			err = dev_read(fs, (uint64_t)pblk * fs->sectors_per_block,
				       n * fs->sectors_per_block, dst + done);
			if (err)
				return err;
		}
		done += n << fs->block_shift;
	}
	return done;
}

int ext2_readdir(struct ext2_fs *fs, uint32_t ino, ext2_dir_fn fn, void *arg)
{
	struct inode dir;
	struct dir_entry de;
	uint32_t nblocks, b, pblk, off;
	int err;

	if (!fn)
		return fail(fs, EXT2_EINVAL, "no callback");
	err = get_inode(fs, ino, &dir);
	if (!err)
		err = dir_blocks(fs, &dir, &nblocks);
	if (err)
		return err;
	for (b = 0; b < nblocks; b++) {
		err = dir_block(fs, &dir, b, &pblk);
		if (err)
			return err;
		for (off = 0;;) {
			/*
			 * Re-check the cache after every callback: @fn may
			 * have walked another directory through dir_buf.
			 */
			err = read_block_cached(fs, pblk, fs->dir_buf, &fs->dir_blk);
			if (err)
				return err;
			err = next_dirent(fs, fs->dir_buf, &off, &de);
			if (err < 0)
				return err;
			if (!err)
				break;
			err = fn(arg, de.name, de.name_len, de.ino, de.type);
			if (err)
				return err;
		}
	}
	return 0;
}

int ext2_bmap(struct ext2_fs *fs, uint32_t ino, uint64_t lblk, uint32_t *pblk)
{
	struct inode in;
	int err = get_inode(fs, ino, &in);

	if (err)
		return err;
	if (is_fast_symlink(fs, &in))
		return fail(fs, EXT2_EINVAL, "a fast symlink has no blocks");
	return map_block(fs, &in, lblk, pblk);
}

const char *ext2_last_reason(const struct ext2_fs *fs)
{
	return fs->reason ? fs->reason : "";
}

const char *ext2_strerror(int err)
{
	switch (err) {
	case EXT2_OK:
		return "success";
	case EXT2_ENOENT:
		return "no such file or directory";
	case EXT2_EIO:
		return "I/O error";
	case EXT2_ENOTDIR:
		return "not a directory";
	case EXT2_EISDIR:
		return "is a directory";
	case EXT2_EINVAL:
		return "invalid argument or unsupported file system";
	case EXT2_ENAMETOOLONG:
		return "file name too long";
	case EXT2_ECORRUPT:
		return "file system corrupt";
	default:
		return "unknown error";
	}
}

void ext2_mode_string(uint16_t mode, char buf[11])
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG:
		buf[0] = '-';
		break;
	case EXT2_S_IFDIR:
		buf[0] = 'd';
		break;
	case EXT2_S_IFLNK:
		buf[0] = 'l';
		break;
	case EXT2_S_IFCHR:
		buf[0] = 'c';
		break;
	case EXT2_S_IFBLK:
		buf[0] = 'b';
		break;
	case EXT2_S_IFIFO:
		buf[0] = 'p';
		break;
	case EXT2_S_IFSOCK:
		buf[0] = 's';
		break;
	default:
		buf[0] = '?';
		break;
	}
	for (i = 0; i < 9; i++)
		buf[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
	/* setuid, setgid and sticky share the x columns, as ls shows them. */
	if (mode & 04000)
		buf[3] = buf[3] == 'x' ? 's' : 'S';
	if (mode & 02000)
		buf[6] = buf[6] == 'x' ? 's' : 'S';
	if (mode & 01000)
		buf[9] = buf[9] == 'x' ? 't' : 'T';
	buf[10] = '\0';
}
