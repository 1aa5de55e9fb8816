// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ext2.c: the guest's ext2 reader (guest/fs/ext2.c), built for the
 * host, against a disk image that is the fuzzer's input.
 *
 * The guest mounts whatever disk the user hands it, so the reader must
 * refuse a hostile image cleanly: mount, then walk the tree (readdir of
 * each directory to a small depth, lookup of every name found by its full
 * path, stat, and reads of each file at a few offsets).  Besides memory
 * safety it checks that:
 *
 *   - every read the reader asks of the disk is refused if it lies past
 *     the end (the callback says so), and the reader survives the refusal;
 *   - a read returns at most the bytes asked for, and never more than the
 *     file holds past the offset (0 at or past the end);
 *   - every name readdir gives can be looked up by its full path (not
 *     necessarily to the same inode: a hostile directory may hold a name
 *     twice, and lookup takes the first);
 *   - the work per input is bounded: at most MAX_SECTORS sectors read.  A
 *     reader that loops on a cycle in the image hits that, or libFuzzer's
 *     timeout, and the input is kept.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "ext2.h"

#define SECTOR	    512
#define MAX_DEPTH   3
#define MAX_ENTRIES 48	      /* per directory */
#define READ_LEN    (8 << 10) /* per ext2_read() */
#define MAX_SECTORS (1u << 20)

struct disk {
	const uint8_t *data;
	size_t size;
	uint64_t sectors; /* read so far */
};

static struct ext2_fs fs; /* about 14 KiB: static, as in the guest */
static struct disk disk;
static uint8_t buf[READ_LEN + 64];

static int disk_read(void *ctx, uint64_t sector, uint32_t nsectors, void *out)
{
	struct disk *d = ctx;
	uint64_t off = sector * SECTOR, len = (uint64_t)nsectors * SECTOR;

	d->sectors += nsectors;
	FUZZ_CHECK(d->sectors <= MAX_SECTORS, "more than %u sectors read for one image",
		   MAX_SECTORS);
	if (sector > UINT64_MAX / SECTOR || off > d->size || len > d->size - off)
		return -1; /* past the end: the reader must take EXT2_EIO */
	memcpy(out, d->data + off, len);
	return 0;
}

/* Read a file at a few offsets; the lengths must agree with its size. */
static void read_file(uint32_t ino, uint64_t size)
{
	const uint64_t offs[] = { 0, 1, 4095, size ? size - 1 : 0, size, size + 1 };

	for (unsigned int i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t off = offs[i];
		long n;

		memset(buf + READ_LEN, 0xa5, 64);
		n = ext2_read(&fs, ino, off, buf, READ_LEN);
		for (int j = 0; j < 64; j++)
			FUZZ_CHECK(buf[READ_LEN + j] == 0xa5, "ext2_read wrote past its buffer");
		if (n < 0)
			continue;
		FUZZ_CHECK(n <= READ_LEN, "ext2_read returned %ld for %d bytes", n, READ_LEN);
		FUZZ_CHECK(off < size || n == 0, "ext2_read at %llu of a %llu-byte file gave %ld",
			   (unsigned long long)off, (unsigned long long)size, n);
		FUZZ_CHECK(off >= size || (uint64_t)n <= size - off,
			   "ext2_read at %llu of a %llu-byte file gave %ld",
			   (unsigned long long)off, (unsigned long long)size, n);
	}
}

struct walk {
	char path[1024];
	size_t len;
	unsigned int depth;
	unsigned int seen;
};

static void visit(struct walk *w, uint32_t ino);

static int on_entry(void *arg, const char *name, uint32_t name_len, uint32_t ino, uint8_t file_type)
{
	struct walk *w = arg;
	size_t old = w->len;
	uint32_t found;

	(void)file_type;
	FUZZ_CHECK(name_len <= 255, "a directory entry name of %u bytes", name_len);
	if (++w->seen > MAX_ENTRIES)
		return 1;
	if (!ino || (name_len == 1 && name[0] == '.') ||
	    (name_len == 2 && name[0] == '.' && name[1] == '.') || !name_len ||
	    memchr(name, '/', name_len) || memchr(name, '\0', name_len) ||
	    old + 1 + name_len >= sizeof(w->path))
		return 0;
	w->path[old] = '/';
	memcpy(w->path + old + 1, name, name_len);
	w->len = old + 1 + name_len;
	w->path[w->len] = '\0';
	/* A name readdir gave must look up (see the top), and is walked. */
	(void)ino;
	FUZZ_CHECK(ext2_lookup(&fs, w->path, &found) != EXT2_ENOENT,
		   "readdir gave %s, which lookup cannot find", w->path);
	if (ext2_lookup(&fs, w->path, &found) == 0) {
		struct walk sub = *w;

		sub.depth = w->depth + 1;
		sub.seen = 0;
		visit(&sub, found);
	}
	w->len = old;
	w->path[old] = '\0';
	return 0;
}

static void visit(struct walk *w, uint32_t ino)
{
	struct ext2_inode_info st;

	if (ext2_stat(&fs, ino, &st))
		return;
	FUZZ_CHECK(st.ino == ino, "ext2_stat of %u says inode %u", ino, st.ino);
	if ((st.mode & 0xf000) == 0x4000) {
		if (w->depth < MAX_DEPTH)
			ext2_readdir(&fs, ino, on_entry, w);
		/* A directory is not a file to read. */
		FUZZ_CHECK(ext2_read(&fs, ino, 0, buf, 16) < 0, "ext2_read of a directory");
	} else {
		read_file(ino, st.size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "/README.txt", "/lost+found", "/a/b/c",   "/.", "/..",
					     "//",	    "/x/",	   "relative", "" };
	struct walk w = { .path = "", .len = 0 };
	uint32_t ino;

	disk = (struct disk){ .data = data, .size = size };
	memset(&fs, 0, sizeof(fs));
	if (ext2_mount(&fs, disk_read, &disk))
		return 0;
	FUZZ_CHECK(fs.block_size == 1024 || fs.block_size == 2048 || fs.block_size == 4096,
		   "mounted with block size %u", fs.block_size);
	/* Fixed paths: looked up and read, not walked (w.path is the root's). */
	w.depth = MAX_DEPTH;
	for (unsigned int i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (ext2_lookup(&fs, paths[i], &ino) == 0)
			visit(&w, ino);
	w.depth = 0;
	if (ext2_lookup(&fs, "/", &ino) == 0)
		visit(&w, ino);
	/* Inodes by number, the way a corrupt directory could name them. */
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t n = i < 2 ? i + 11 : (i == 2 ? fs.inodes_count : fs.inodes_count + 1);
		struct ext2_inode_info st;
		uint32_t b;

		if (ext2_stat(&fs, n, &st) == 0 && (st.mode & 0xf000) != 0x4000)
			read_file(n, st.size);
		ext2_bmap(&fs, n, 0, &b);
		ext2_bmap(&fs, n, UINT32_MAX, &b);
	}
	return 0;
}
