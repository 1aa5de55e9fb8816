// SPDX-License-Identifier: GPL-2.0
/*
 * test_ext2.c: the ext2 reader against images made by the real mke2fs.
 *
 * Each image is built at run time (mke2fs -d) from a source tree this test
 * writes, so every check compares what the reader returns with the files
 * themselves.  debugfs, which parses ext2 independently of us, supplies
 * inode numbers, block maps and the offsets the corruption tests poke.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext2.h"

#define KiB  1024ull
#define MiB  (1024 * KiB)
#define UUID "2a9e1f4c-7b3d-4e58-9c61-0d8f3b2a5e17"

/* Names in /many: long enough that the directory spans several blocks. */
#define MANY	  300
#define MANY_NAME "entry_with_a_longish_name_%03d"

struct image {
	uint32_t bs;
	char src[320];
	char path[320];
};

/* The disk behind the read callback: an image file, or one in memory. */
struct disk {
	int fd;
	const uint8_t *mem;
	size_t mem_size;
	unsigned long calls;
};

static char tmpdir[256];
static struct image images[3]; /* block sizes 1, 2 and 4 KiB */
static struct ext2_fs fs;      /* 14 KiB: static, as in the guest */
static struct disk disk = { .fd = -1 };

static int disk_read(void *ctx, uint64_t sector, uint32_t nsectors, void *buf)
{
	struct disk *d = ctx;
	size_t len = (size_t)nsectors * 512;
	uint64_t off = sector * 512;

	d->calls++;
	if (d->mem) {
		if (off > d->mem_size || len > d->mem_size - off)
			return -1;
		memcpy(buf, d->mem + off, len);
		return 0;
	}
	/* A short read (past the end of a truncated image) is an error. */
	return pread(d->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

static void disk_close(void)
{
	if (disk.fd >= 0)
		close(disk.fd);
	disk.fd = -1;
	disk.mem = NULL;
}

/* Mounts @img into the global fs; returns ext2_mount's result. */
static int mount_image(const char *img)
{
	disk_close();
	disk.fd = open(img, O_RDONLY);
	assert_true(disk.fd >= 0);
	disk.calls = 0;
	return ext2_mount(&fs, disk_read, &disk);
}

static void mount_ok(const char *img)
{
	int err = mount_image(img);

	if (err)
		fail_msg("mount %s: %s (%s)", img, ext2_strerror(err), ext2_last_reason(&fs));
}

static int teardown(void **state)
{
	(void)state;
	disk_close();
	return 0;
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("'%s' failed: %d", cmd, rc);
}

/* The contents of every patterned file: a hash of (seed, offset / 8). */
static uint8_t pattern(uint32_t seed, uint64_t off)
{
	uint64_t x = (off / 8) * 0x9e3779b97f4a7c15ull ^ (seed + 1) * 0xd1b54a32d192ed03ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> (off % 8 * 8));
}

static void write_at(int fd, uint32_t seed, uint64_t off, uint64_t len)
{
	static uint8_t buf[64 * 1024];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(seed, off + i);
		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
		off += n;
		len -= n;
	}
}

static int create(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	return fd;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	int fd = create(dir, name, 0644);

	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void make_dir(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The sizes that put a file's last block in each part of the block map. */
static uint64_t ptrs(uint32_t bs)
{
	return bs / 4;
}

static uint64_t twelve_size(uint32_t bs)
{
	return 12ull * bs;
}

static uint64_t single_size(uint32_t bs)
{
	return (12 + 20) * (uint64_t)bs + 123;
}

/* Into the second single-indirect block under the double-indirect one. */
static uint64_t double_size(uint32_t bs)
{
	return (12 + 2 * ptrs(bs) + 5) * bs + 77;
}

/* First block mapped through the triple-indirect block. */
static uint64_t triple_start(uint32_t bs)
{
	return (12 + ptrs(bs) + ptrs(bs) * ptrs(bs)) * bs;
}

static uint64_t triple_size(uint32_t bs)
{
	return triple_start(bs) + 3 * (uint64_t)bs + 500;
}

static uint64_t sparse_size(uint32_t bs)
{
	return (12 + ptrs(bs) + 40) * (uint64_t)bs + 10;
}

static void make_tree(const char *src, uint32_t bs)
{
	char path[PATH_MAX], name[64];
	struct timeval times[2] = { { 1234567890, 0 }, { 1234567890, 0 } };
	uint64_t size;
	int fd;

	assert_int_equal(mkdir(src, 0755), 0);
	write_file(src, "small.txt", "hello, ext2!\n");
	snprintf(path, sizeof(path), "%s/small.txt", src);
	assert_int_equal(utimes(path, times), 0);
	write_file(src, "empty", "");

	fd = create(src, "twelve.bin", 0644);
	write_at(fd, 1, 0, twelve_size(bs));
	close(fd);
	fd = create(src, "single.bin", 0644);
	write_at(fd, 2, 0, single_size(bs));
	close(fd);
	fd = create(src, "double.bin", 0644);
	write_at(fd, 3, 0, double_size(bs));
	close(fd);

	/* Holes: direct, inside the indirect block, whole indirect blocks. */
	fd = create(src, "sparse.bin", 0644);
	size = sparse_size(bs);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	write_at(fd, 4, 0, 100);
	write_at(fd, 4, 5 * bs, bs);
	write_at(fd, 4, 12 * bs + 300, 50);
	write_at(fd, 4, (12 + ptrs(bs) + 3) * bs - 20, 40);
	write_at(fd, 4, size - 10, 10);
	close(fd);

	/* Data on both sides of the double/triple boundary; > 4 GiB at 4K. */
	fd = create(src, "triple.bin", 0644);
	size = triple_size(bs);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	write_at(fd, 5, triple_start(bs) - 2000, 4000);
	write_at(fd, 5, size - 100, 100);
	close(fd);

	fd = create(src, "suid.bin", 04755);
	close(fd);
	write_file(src, "hard.txt", "two names\n");
	assert_int_equal(symlink("small.txt", (snprintf(path, sizeof(path), "%s/link", src), path)),
			 0);
	assert_int_equal(symlink("a", (snprintf(path, sizeof(path), "%s/dirlink", src), path)), 0);
	{
		char target[200];

		/* Too long for i_block: a "slow" symlink with a data block. */
		memset(target, 'L', sizeof(target) - 1);
		target[sizeof(target) - 1] = '\0';
		memcpy(target, "a/", 2);
		snprintf(path, sizeof(path), "%s/longlink", src);
		assert_int_equal(symlink(target, path), 0);
	}
	snprintf(path, sizeof(path), "%s/fifo", src);
	assert_int_equal(mkfifo(path, 0640), 0);
	make_dir(src, "tmp", 01777);

	make_dir(src, "a", 0755);
	snprintf(path, sizeof(path), "%s/a", src);
	{
		char src_hard[PATH_MAX], longname[EXT2_NAME_MAX + 1];

		snprintf(src_hard, sizeof(src_hard), "%s/hard.txt", src);
		snprintf(name, sizeof(name), "%s/a/hard2.txt", src);
		assert_int_equal(link(src_hard, name), 0);
		memset(longname, 'n', EXT2_NAME_MAX);
		longname[EXT2_NAME_MAX] = '\0';
		write_file(path, longname, "longest name\n");
	}
	make_dir(path, "b", 0750);
	snprintf(path, sizeof(path), "%s/a/b", src);
	write_file(path, "file2.txt", "second\n");
	make_dir(path, "c", 0700);
	snprintf(path, sizeof(path), "%s/a/b/c", src);
	write_file(path, "deep.txt", "deep\n");

	make_dir(src, "many", 0755);
	snprintf(path, sizeof(path), "%s/many", src);
	for (int i = 0; i < MANY; i++) {
		char text[16];

		snprintf(name, sizeof(name), MANY_NAME, i);
		snprintf(text, sizeof(text), "%d\n", i);
		write_file(path, name, text);
	}
}

/*
 * mke2fs -t ext2 with the usual defaults (ext_attr resize_inode dir_index
 * filetype sparse_super large_file) plus @opts; small groups and few inodes
 * so that files and inodes spread over several groups.
 */
static void make_image(const char *src, const char *img, uint32_t bs, const char *opts)
{
	run("mke2fs -q -F -t ext2 -b %u -g %u -N 512 -L lgtest -U " UUID
	    " -E root_owner=0:0,hash_seed=" UUID " %s -d %s %s %s >/dev/null 2>&1",
	    bs, bs == 1024 ? 2048 : 1024, opts, src, img, bs == 4096 ? "16M" : "8M");
}

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	const char *path = getenv("PATH");
	char new_path[4096];

	(void)state;
	/* mke2fs, debugfs and e2fsck live in sbin, often not in a user's PATH. */
	snprintf(new_path, sizeof(new_path), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	setenv("PATH", new_path, 1);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_ext2.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		struct image *im = &images[i];

		im->bs = 1024u << i;
		snprintf(im->src, sizeof(im->src), "%s/src%u", tmpdir, im->bs);
		snprintf(im->path, sizeof(im->path), "%s/%u.img", tmpdir, im->bs);
		make_tree(im->src, im->bs);
		make_image(im->src, im->path, im->bs, "");
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	disk_close();
	if (tmpdir[0] && !getenv("TEST_EXT2_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* ---- debugfs: an independent reading of the same image ---- */

static char *debugfs(const char *img, const char *request)
{
	char cmd[2 * PATH_MAX];
	size_t cap = 1 << 16, len = 0, n;
	char *out = malloc(cap);
	FILE *f;

	assert_non_null(out);
	snprintf(cmd, sizeof(cmd), "debugfs -R '%s' '%s' 2>/dev/null", request, img);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[len] = '\0';
	assert_int_equal(pclose(f), 0);
	return out;
}

/*
 * debugfs "stat PATH": the inode number, and the block map from its
 * BLOCKS: list, "(0-11):1025-1036, (IND):1037, (12):1038, ...": map[l] is
 * the physical block of logical block l, 0 in holes.  *ind is the first
 * (IND) block, if any.
 */
static uint32_t debugfs_stat(const char *img, const char *path, uint32_t *map, uint64_t nmap,
			     uint32_t *ind)
{
	char request[PATH_MAX];
	char *out, *p;
	uint32_t ino;

	snprintf(request, sizeof(request), "stat %s", path);
	out = debugfs(img, request);
	p = strstr(out, "Inode: ");
	assert_non_null(p);
	ino = (uint32_t)strtoul(p + 7, NULL, 10);
	if (map)
		memset(map, 0, nmap * sizeof(*map));
	if (ind)
		*ind = 0;
	p = strstr(out, "BLOCKS:\n");
	for (p = p ? p + 8 : NULL; p && *p == '(';) {
		char *end;

		if (p[1] >= '0' && p[1] <= '9') {
			uint64_t l1 = strtoull(p + 1, &end, 10), l2 = l1;
			uint32_t p1;

			if (*end == '-')
				l2 = strtoull(end + 1, &end, 10);
			assert_int_equal(*end, ')');
			assert_int_equal(end[1], ':');
			p1 = (uint32_t)strtoul(end + 2, &end, 10);
			if (*end == '-')
				strtoul(end + 1, &end, 10);
			for (uint64_t l = l1; map && l <= l2 && l < nmap; l++)
				map[l] = p1 + (uint32_t)(l - l1);
		} else {
			bool is_ind = !strncmp(p, "(IND):", 6);

			uint32_t blk;

			end = strchr(p, ':');
			assert_non_null(end);
			blk = (uint32_t)strtoul(end + 1, &end, 10);
			if (is_ind && ind && !*ind)
				*ind = blk;
		}
		p = end;
		while (*p == ',' || *p == ' ' || *p == '\n')
			p++;
	}
	free(out);
	return ino;
}

/* debugfs "imap PATH": the image offset of an inode. */
static uint64_t debugfs_imap(const char *img, const char *path, uint32_t bs)
{
	char request[PATH_MAX];
	char *out, *p;
	uint64_t blk, off;

	snprintf(request, sizeof(request), "imap %s", path);
	out = debugfs(img, request);
	p = strstr(out, "located at block ");
	assert_non_null(p);
	blk = strtoull(p + 17, &p, 10);
	p = strstr(p, "offset ");
	assert_non_null(p);
	off = strtoull(p + 7, NULL, 16);
	free(out);
	return blk * bs + off;
}

/* ---- helpers over the reader ---- */

static uint32_t lookup_ok(const char *path)
{
	uint32_t ino = 0;
	int err = ext2_lookup(&fs, path, &ino);

	if (err)
		fail_msg("lookup %s: %s (%s)", path, ext2_strerror(err), ext2_last_reason(&fs));
	return ino;
}

static int lookup_err(const char *path)
{
	uint32_t ino = 12345;
	int err = ext2_lookup(&fs, path, &ino);

	if (err)
		assert_int_equal(ino, 12345); /* untouched on failure */
	return err;
}

static void pread_all(int fd, void *buf, uint64_t len, uint64_t off)
{
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
}

/*
 * Compares [start, end) of inode @ino with the same range of host file @fd:
 * in one call, then in awkward chunk sizes that start and stop mid-block.
 */
static void compare_range(uint32_t ino, int fd, uint64_t start, uint64_t end, uint64_t size)
{
	static const uint32_t chunks[] = { 1, 511, 1000, 4097, 65539, 3 * 4096, 300000 };
	uint64_t len = end - start, off;
	uint8_t *want = malloc(len + 1), *got = malloc(len + 1);
	long n;

	assert_non_null(want);
	assert_non_null(got);
	pread_all(fd, want, len, start);
	n = ext2_read(&fs, ino, start, got, (uint32_t)len);
	assert_int_equal(n, (long)len);
	assert_memory_equal(got, want, len);

	memset(got, 0xa5, len);
	for (off = start, n = 0; off < end; off += (uint64_t)n) {
		uint32_t want_n, chunk = chunks[(off / 7) % (sizeof(chunks) / sizeof(chunks[0]))];

		if (chunk > end - off)
			chunk = (uint32_t)(end - off);
		want_n = off + chunk > size ? (uint32_t)(size - off) : chunk;
		n = ext2_read(&fs, ino, off, got + (off - start), chunk);
		assert_int_equal(n, want_n);
		assert_true(n > 0);
	}
	assert_memory_equal(got, want, len);
	free(want);
	free(got);
}

/*
 * The whole file if small; for big sparse ones, every data extent of the
 * host file and 64 KiB either side of it (the holes between are zeros in
 * both, and reading gigabytes of them would only be slow).
 */
static void compare_contents(uint32_t ino, const char *host, uint64_t size)
{
	const uint64_t margin = 64 * KiB;
	uint8_t byte;
	int fd = open(host, O_RDONLY);

	assert_true(fd >= 0);
	if (size <= 16 * MiB) {
		if (size)
			compare_range(ino, fd, 0, size, size);
	} else {
		off_t data = 0, hole;

		while ((data = lseek(fd, data, SEEK_DATA)) >= 0) {
			uint64_t from, to;

			hole = lseek(fd, data, SEEK_HOLE);
			assert_true(hole > data);
			from = (uint64_t)data > margin ? (uint64_t)data - margin : 0;
			to = (uint64_t)hole + margin < size ? (uint64_t)hole + margin : size;
			compare_range(ino, fd, from, to, size);
			data = hole;
		}
		compare_range(ino, fd, 0, margin, size);
	}
	assert_int_equal(ext2_read(&fs, ino, size, &byte, 1), 0);
	assert_int_equal(ext2_read(&fs, ino, size + 12345, &byte, 1), 0);
	close(fd);
}

static uint8_t file_type_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	default:
		return 0xff;
	}
}

struct walk {
	const char *host;
	uint32_t ino;
	bool root;
	int entries, dots;
	char **names; /* to catch a name listed twice */
};

static void compare_tree(uint32_t ino, const char *host, bool root);

/*
 * One entry of a directory against the host's file of the same name.  For
 * subdirectories it recurses from inside the callback, which is allowed
 * and exercises ext2_readdir's reentrancy.
 */
static int walk_entry(void *arg, const char *name, uint32_t name_len, uint32_t ino,
		      uint8_t file_type)
{
	struct walk *w = arg;
	struct ext2_inode_info st;
	char path[PATH_MAX];
	struct stat hs;

	assert_true(name_len > 0 && name_len <= EXT2_NAME_MAX);
	assert_null(memchr(name, '/', name_len));
	if ((name_len == 1 && name[0] == '.') || (name_len == 2 && !memcmp(name, "..", 2))) {
		/* "." is this directory; ".." its parent (checked by lookup tests). */
		if (name_len == 1)
			assert_int_equal(ino, w->ino);
		w->dots++;
		return 0;
	}
	if (w->root && name_len == 10 && !memcmp(name, "lost+found", 10))
		return 0;
	snprintf(path, sizeof(path), "%s/%.*s", w->host, (int)name_len, name);
	if (lstat(path, &hs))
		fail_msg("ext2 has %s, the host does not", path);
	assert_int_equal(ext2_stat(&fs, ino, &st), 0);
	assert_int_equal(st.ino, ino);
	assert_int_equal(st.mode, hs.st_mode);
	assert_int_equal(st.links, hs.st_nlink);
	assert_int_equal(st.uid, hs.st_uid);
	assert_int_equal(st.gid, hs.st_gid);
	assert_int_equal(st.mtime, hs.st_mtime);
	if (fs.feature_incompat & 2)
		assert_int_equal(file_type, file_type_of(hs.st_mode));
	else
		assert_int_equal(file_type, 0);
	if (!S_ISDIR(hs.st_mode))
		assert_int_equal(st.size, hs.st_size);

	w->names = realloc(w->names, (w->entries + 1) * sizeof(*w->names));
	assert_non_null(w->names);
	w->names[w->entries] = strndup(name, name_len);

	if (S_ISREG(hs.st_mode)) {
		compare_contents(ino, path, st.size);
	} else if (S_ISLNK(hs.st_mode)) {
		char target[PATH_MAX], got[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target));

		assert_true(n > 0);
		assert_int_equal(ext2_read(&fs, ino, 0, got, sizeof(got)), n);
		assert_memory_equal(got, target, n);
		if (n >= 4) {
			assert_int_equal(ext2_read(&fs, ino, 1, got, 3), 3);
			assert_memory_equal(got, target + 1, 3);
		}
	} else if (S_ISDIR(hs.st_mode)) {
		compare_tree(ino, path, false);
	} else {
		char byte;

		assert_int_equal(ext2_read(&fs, ino, 0, &byte, 1), EXT2_EINVAL);
	}
	w->entries++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directory @ino lists exactly the host directory's names, each matching. */
static void compare_tree(uint32_t ino, const char *host, bool root)
{
	struct walk w = { .host = host, .ino = ino, .root = root };
	struct dirent *de;
	int n = 0, err;
	DIR *d;

	err = ext2_readdir(&fs, ino, walk_entry, &w);
	if (err)
		fail_msg("readdir %s: %s (%s)", host, ext2_strerror(err), ext2_last_reason(&fs));
	assert_int_equal(w.dots, 2);
	d = opendir(host);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(w.entries, n);
	if (w.entries)
		qsort(w.names, w.entries, sizeof(*w.names), cmp_str);
	for (int i = 1; i < w.entries; i++)
		assert_string_not_equal(w.names[i - 1], w.names[i]);
	for (int i = 0; i < w.entries; i++)
		free(w.names[i]);
	free(w.names);
}

/* ---- the tests ---- */

static void test_mount_geometry(void **state)
{
	struct image *im = *state;
	static const uint8_t uuid[16] = { 0x2a, 0x9e, 0x1f, 0x4c, 0x7b, 0x3d, 0x4e, 0x58,
					  0x9c, 0x61, 0x0d, 0x8f, 0x3b, 0x2a, 0x5e, 0x17 };
	struct stat st;

	mount_ok(im->path);
	assert_string_equal(ext2_last_reason(&fs), "");
	assert_int_equal(fs.block_size, im->bs);
	assert_int_equal(stat(im->path, &st), 0);
	assert_int_equal(fs.blocks_count, (uint64_t)st.st_size / im->bs);
	assert_int_equal(fs.rev_level, 1);
	assert_int_equal(fs.inode_size, 256);
	assert_true(fs.groups_count >= 4);
	assert_true(fs.inodes_count >= 512);
	assert_true(fs.feature_incompat & 2); /* filetype */
	assert_string_equal(fs.volume_name, "lgtest");
	assert_memory_equal(fs.uuid, uuid, 16);
}

static void test_tree(void **state)
{
	struct image *im = *state;

	mount_ok(im->path);
	compare_tree(EXT2_ROOT_INO, im->src, true);
}

/* ext2_bmap agrees with debugfs on every block, holes included. */
static void check_map(struct image *im, const char *path, uint64_t size)
{
	uint64_t nblocks = (size + im->bs - 1) / im->bs;
	uint32_t *map = malloc(nblocks * sizeof(*map) + 1);
	uint32_t ino, pblk;

	assert_non_null(map);
	ino = debugfs_stat(im->path, path, map, nblocks, NULL);
	assert_int_equal(lookup_ok(path), ino);
	for (uint64_t l = 0; l < nblocks; l++) {
		pblk = 0xdeadbeef;
		assert_int_equal(ext2_bmap(&fs, ino, l, &pblk), 0);
		if (pblk != map[l])
			fail_msg("%s block %llu: %u, debugfs says %u", path, (unsigned long long)l,
				 pblk, map[l]);
	}
	free(map);
}

static void test_block_maps(void **state)
{
	struct image *im = *state;
	uint64_t p = ptrs(im->bs), max = 12 + p + p * p + p * p * p;
	uint32_t ino, pblk;

	mount_ok(im->path);
	check_map(im, "/small.txt", 13);
	check_map(im, "/twelve.bin", twelve_size(im->bs));
	check_map(im, "/single.bin", single_size(im->bs));
	check_map(im, "/double.bin", double_size(im->bs));
	check_map(im, "/sparse.bin", sparse_size(im->bs));
	check_map(im, "/triple.bin", triple_size(im->bs));
	check_map(im, "/longlink", 199);

	/* The holes really are holes, so the tests above read some. */
	ino = lookup_ok("/sparse.bin");
	assert_int_equal(ext2_bmap(&fs, ino, 1, &pblk), 0);
	assert_int_equal(pblk, 0);
	assert_int_equal(ext2_bmap(&fs, ino, 5, &pblk), 0);
	assert_true(pblk != 0);
	ino = lookup_ok("/triple.bin");
	assert_int_equal(ext2_bmap(&fs, ino, triple_start(im->bs) / im->bs, &pblk), 0);
	assert_true(pblk != 0);
	/* Past what triple indirection reaches: only a lying i_size gets here. */
	assert_int_equal(ext2_bmap(&fs, ino, max - 1, &pblk), 0);
	assert_int_equal(ext2_bmap(&fs, ino, max, &pblk), EXT2_ECORRUPT);
	/* A fast symlink keeps its target where the map would be. */
	assert_int_equal(ext2_bmap(&fs, lookup_ok("/link"), 0, &pblk), EXT2_EINVAL);
}

/* Hand-checked contents, independent of the host copy. */
static void test_small_and_sparse(void **state)
{
	struct image *im = *state;
	uint32_t bs = im->bs, ino;
	char buf[64];
	uint8_t *blk = malloc(3 * bs);

	assert_non_null(blk);
	mount_ok(im->path);
	ino = lookup_ok("/small.txt");
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ext2_read(&fs, ino, 0, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "hello, ext2!\n");
	assert_int_equal(ext2_read(&fs, ino, 7, buf, 4), 4);
	assert_memory_equal(buf, "ext2", 4);
	assert_int_equal(ext2_read(&fs, ino, 12, buf, 4), 1);
	assert_int_equal(buf[0], '\n');
	assert_int_equal(ext2_read(&fs, ino, 13, buf, 4), 0);
	assert_int_equal(ext2_read(&fs, ino, 0, buf, 0), 0);
	assert_int_equal(ext2_read(&fs, lookup_ok("/empty"), 0, buf, sizeof(buf)), 0);

	/* sparse.bin blocks 0-2: 100 bytes of data, then zeros. */
	ino = lookup_ok("/sparse.bin");
	assert_int_equal(ext2_read(&fs, ino, 0, blk, 3 * bs), 3 * bs);
	for (uint32_t i = 0; i < 3 * bs; i++)
		assert_int_equal(blk[i], i < 100 ? pattern(4, i) : 0);
	/* Block 5 is all data, between holes. */
	assert_int_equal(ext2_read(&fs, ino, 4 * bs, blk, 3 * bs), 3 * bs);
	for (uint32_t i = 0; i < 3 * bs; i++)
		assert_int_equal(blk[i], i >= bs && i < 2 * bs ? pattern(4, 4 * bs + i) : 0);
	/* The last 10 bytes, after a run of holes including indirect blocks. */
	assert_int_equal(ext2_read(&fs, ino, sparse_size(bs) - 3 * bs, blk, 3 * bs + 99), 3 * bs);
	for (uint32_t i = 0; i < 3 * bs; i++) {
		uint64_t off = sparse_size(bs) - 3 * bs + i;

		assert_int_equal(blk[i], i >= 3 * bs - 10 ? pattern(4, off) : 0);
	}
	free(blk);
}

/* Contiguous blocks come in one device request, not one per block. */
static void test_coalescing(void **state)
{
	struct image *im = *state;
	uint64_t size = double_size(im->bs), nblocks = (size + im->bs - 1) / im->bs;
	uint32_t *map = malloc(nblocks * sizeof(*map));
	uint8_t *buf = malloc(size);
	struct ext2_inode_info st;
	unsigned long runs = 1;
	uint32_t ino;

	assert_non_null(map);
	assert_non_null(buf);
	mount_ok(im->path);
	ino = debugfs_stat(im->path, "/twelve.bin", map, 12, NULL);
	for (int i = 1; i < 12; i++)
		assert_int_equal(map[i], map[0] + i);  /* mke2fs -d allocates in order */
	assert_int_equal(ext2_stat(&fs, ino, &st), 0); /* the inode is now cached */
	disk.calls = 0;
	assert_int_equal(ext2_read(&fs, ino, 0, buf, (uint32_t)twelve_size(im->bs)),
			 (long)twelve_size(im->bs));
	assert_int_equal(disk.calls, 1);

	ino = debugfs_stat(im->path, "/double.bin", map, nblocks, NULL);
	for (uint64_t l = 1; l < nblocks; l++)
		runs += map[l] != map[l - 1] + 1;
	assert_int_equal(ext2_stat(&fs, ino, &st), 0);
	disk.calls = 0;
	assert_int_equal(ext2_read(&fs, ino, 0, buf, (uint32_t)size), (long)size);
	/* One request per run, plus a pointer sector per 128 blocks or so. */
	assert_true(disk.calls <= runs + nblocks / 128 + 4);
	assert_true(disk.calls < nblocks / 16);
	for (uint64_t i = 0; i < size; i++)
		if (buf[i] != pattern(3, i))
			fail_msg("double.bin byte %llu", (unsigned long long)i);
	free(map);
	free(buf);
}

static void test_lookup_edges(void **state)
{
	struct image *im = *state;
	char path[EXT2_NAME_MAX + 16];
	uint32_t a, b, c;

	mount_ok(im->path);
	assert_int_equal(lookup_ok("/"), EXT2_ROOT_INO);
	assert_int_equal(lookup_ok("//"), EXT2_ROOT_INO);
	assert_int_equal(lookup_ok("/."), EXT2_ROOT_INO);
	assert_int_equal(lookup_ok("/.."), EXT2_ROOT_INO);
	a = lookup_ok("/a");
	b = lookup_ok("/a/b");
	c = lookup_ok("/a/b/c");
	assert_int_equal(a, debugfs_stat(im->path, "/a", NULL, 0, NULL));
	assert_int_equal(b, debugfs_stat(im->path, "/a/b", NULL, 0, NULL));
	assert_int_equal(c, debugfs_stat(im->path, "/a/b/c", NULL, 0, NULL));
	assert_true(a != b && b != c && a != EXT2_ROOT_INO);
	assert_int_equal(lookup_ok("//a//b/"), b);
	assert_int_equal(lookup_ok("/a/./b"), b);
	assert_int_equal(lookup_ok("/a/../a/b"), b);
	assert_int_equal(lookup_ok("/a/b/.."), a);
	assert_int_equal(lookup_ok("/a/b/c/../../b/c/."), c);
	assert_int_equal(lookup_ok("/a/b/c/deep.txt"),
			 debugfs_stat(im->path, "/a/b/c/deep.txt", NULL, 0, NULL));
	assert_int_equal(lookup_ok("/hard.txt"), lookup_ok("/a/hard2.txt"));

	assert_int_equal(lookup_err("/a/missing"), EXT2_ENOENT);
	assert_int_equal(lookup_err("/missing/b"), EXT2_ENOENT);
	assert_int_equal(lookup_err("/a/b/c/deep.tx"), EXT2_ENOENT);
	assert_int_equal(lookup_err("/a/b/c/deep.txtx"), EXT2_ENOENT);
	assert_int_equal(lookup_err("/A"), EXT2_ENOENT);
	assert_int_equal(lookup_err("/small.txt/x"), EXT2_ENOTDIR);
	assert_int_equal(lookup_err("/small.txt/"), EXT2_ENOTDIR);
	assert_int_equal(lookup_err("/small.txt/."), EXT2_ENOTDIR);
	/* Symlinks are not followed, so cannot be walked through. */
	assert_int_equal(lookup_err("/dirlink/b"), EXT2_ENOTDIR);
	assert_true(lookup_ok("/dirlink") != a);
	assert_int_equal(lookup_err(""), EXT2_EINVAL);
	assert_int_equal(lookup_err("a/b"), EXT2_EINVAL);
	assert_int_equal(lookup_err(NULL), EXT2_EINVAL);

	/* 255 bytes is the longest name; 256 cannot exist. */
	strcpy(path, "/a/");
	memset(path + 3, 'n', EXT2_NAME_MAX);
	path[3 + EXT2_NAME_MAX] = '\0';
	assert_int_equal(lookup_ok(path), debugfs_stat(im->path, path, NULL, 0, NULL));
	strcat(path, "n");
	assert_int_equal(lookup_err(path), EXT2_ENAMETOOLONG);
}

struct many {
	uint32_t dir;
	int seen[MANY];
	int dot, dotdot, other, calls;
	uint32_t dotdot_ino;
};

static int many_entry(void *arg, const char *name, uint32_t name_len, uint32_t ino, uint8_t type)
{
	struct many *m = arg;
	char buf[16], want[16];
	unsigned int i;
	int n;

	m->calls++;
	if (name_len == 1 && name[0] == '.') {
		m->dot++;
		assert_int_equal(ino, m->dir);
		assert_int_equal(type, EXT2_FT_DIR);
		return 0;
	}
	if (name_len == 2 && !memcmp(name, "..", 2)) {
		m->dotdot++;
		m->dotdot_ino = ino;
		return 0;
	}
	if (name_len != 29 || sscanf(name, "entry_with_a_longish_name_%3u", &i) != 1 || i >= MANY) {
		m->other++;
		return 0;
	}
	assert_int_equal(type, EXT2_FT_REG_FILE);
	m->seen[i]++;
	snprintf(want, sizeof(want), "%u\n", i);
	n = (int)ext2_read(&fs, ino, 0, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	return 0;
}

/* A directory spanning several blocks lists every entry exactly once. */
static void test_many_entries(void **state)
{
	struct image *im = *state;
	struct ext2_inode_info st;
	struct many m = { 0 };
	char path[64];

	mount_ok(im->path);
	m.dir = lookup_ok("/many");
	assert_int_equal(ext2_stat(&fs, m.dir, &st), 0);
	assert_true(st.size >= 3 * (uint64_t)im->bs);
	assert_int_equal(ext2_readdir(&fs, m.dir, many_entry, &m), 0);
	assert_int_equal(m.dot, 1);
	assert_int_equal(m.dotdot, 1);
	assert_int_equal(m.dotdot_ino, EXT2_ROOT_INO);
	assert_int_equal(m.other, 0);
	assert_int_equal(m.calls, MANY + 2);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(m.seen[i], 1);
		snprintf(path, sizeof(path), "/many/" MANY_NAME, i);
		assert_true(lookup_ok(path) > EXT2_ROOT_INO);
	}
}

static void test_stat_fields(void **state)
{
	struct image *im = *state;
	uint32_t sectors = im->bs / 512, ino;
	uint64_t p = ptrs(im->bs);
	struct ext2_inode_info st;
	char mode[11];
	struct stat hs;
	char path[PATH_MAX];

	mount_ok(im->path);
	assert_int_equal(ext2_stat(&fs, EXT2_ROOT_INO, &st), 0);
	assert_int_equal(st.ino, EXT2_ROOT_INO);
	assert_int_equal(st.mode & EXT2_S_IFMT, EXT2_S_IFDIR);
	assert_int_equal(st.links, 6); /* ., .. and a, many, tmp, lost+found */
	assert_int_equal(st.uid, 0);
	assert_int_equal(st.gid, 0);
	assert_int_equal(st.size % im->bs, 0);

	ino = lookup_ok("/small.txt");
	assert_int_equal(ext2_stat(&fs, ino, &st), 0);
	assert_int_equal(st.ino, ino);
	assert_int_equal(st.mode, EXT2_S_IFREG | 0644);
	assert_int_equal(st.size, 13);
	assert_int_equal(st.links, 1);
	assert_int_equal(st.blocks, sectors);
	assert_int_equal(st.mtime, 1234567890);
	snprintf(path, sizeof(path), "%s/small.txt", im->src);
	assert_int_equal(stat(path, &hs), 0);
	assert_int_equal(st.uid, hs.st_uid);
	assert_int_equal(st.gid, hs.st_gid);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "-rw-r--r--");

	assert_int_equal(ext2_stat(&fs, lookup_ok("/a"), &st), 0);
	assert_int_equal(st.links, 3);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "drwxr-xr-x");
	assert_int_equal(ext2_stat(&fs, lookup_ok("/a/b/c"), &st), 0);
	assert_int_equal(st.links, 2);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "drwx------");
	assert_int_equal(ext2_stat(&fs, lookup_ok("/hard.txt"), &st), 0);
	assert_int_equal(st.links, 2);
	assert_int_equal(ext2_stat(&fs, lookup_ok("/tmp"), &st), 0);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "drwxrwxrwt");
	assert_int_equal(ext2_stat(&fs, lookup_ok("/suid.bin"), &st), 0);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "-rwsr-xr-x");
	assert_int_equal(st.size, 0);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(ext2_stat(&fs, lookup_ok("/link"), &st), 0);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "lrwxrwxrwx");
	assert_int_equal(st.size, 9);
	assert_int_equal(ext2_stat(&fs, lookup_ok("/fifo"), &st), 0);
	ext2_mode_string(st.mode, mode);
	assert_string_equal(mode, "prw-r-----");

	/* Data blocks plus the indirect blocks: one IND, one DIND, two IND. */
	assert_int_equal(ext2_stat(&fs, lookup_ok("/double.bin"), &st), 0);
	assert_int_equal(st.size, double_size(im->bs));
	assert_int_equal(st.blocks, (12 + 2 * p + 6 + 4) * sectors);
	/* Over 4 GiB with 4 KiB blocks: i_size_high (large_file) counts. */
	assert_int_equal(ext2_stat(&fs, lookup_ok("/triple.bin"), &st), 0);
	assert_int_equal(st.size, triple_size(im->bs));
	if (im->bs == 4096)
		assert_true(st.size > 4ull << 30);
}

static int stop_after_three(void *arg, const char *name, uint32_t name_len, uint32_t ino,
			    uint8_t type)
{
	int *calls = arg;

	(void)name, (void)name_len, (void)ino, (void)type;
	return ++*calls == 3 ? 42 : 0;
}

static int count_entries(void *arg, const char *name, uint32_t name_len, uint32_t ino, uint8_t type)
{
	(void)name, (void)name_len, (void)ino, (void)type;
	++*(int *)arg;
	return 0;
}

static void test_api_errors(void **state)
{
	struct image *im = *state;
	char buf[16];
	int calls = 0;

	/* Nothing works before a successful mount. */
	memset(&fs, 0, sizeof(fs));
	assert_int_equal(lookup_err("/"), EXT2_EINVAL);
	assert_int_equal(ext2_read(&fs, 2, 0, buf, 1), EXT2_EINVAL);
	assert_int_equal(ext2_mount(&fs, NULL, NULL), EXT2_EINVAL);

	mount_ok(im->path);
	assert_int_equal(ext2_read(&fs, lookup_ok("/a"), 0, buf, sizeof(buf)), EXT2_EISDIR);
	assert_int_equal(ext2_readdir(&fs, lookup_ok("/small.txt"), stop_after_three, &calls),
			 EXT2_ENOTDIR);
	assert_int_equal(ext2_readdir(&fs, lookup_ok("/link"), stop_after_three, &calls),
			 EXT2_ENOTDIR);
	assert_int_equal(calls, 0);
	assert_int_equal(ext2_readdir(&fs, lookup_ok("/many"), stop_after_three, &calls), 42);
	assert_int_equal(calls, 3);
	assert_int_equal(ext2_read(&fs, lookup_ok("/fifo"), 0, buf, 1), EXT2_EINVAL);
	assert_int_equal(ext2_stat(&fs, 0, &(struct ext2_inode_info){ 0 }), EXT2_EINVAL);
	assert_int_equal(ext2_stat(&fs, fs.inodes_count + 1, &(struct ext2_inode_info){ 0 }),
			 EXT2_EINVAL);
	assert_int_equal(ext2_stat(&fs, fs.inodes_count, &(struct ext2_inode_info){ 0 }), 0);
	assert_int_equal(ext2_read(&fs, 0, 0, buf, 1), EXT2_EINVAL);
	assert_string_not_equal(ext2_last_reason(&fs), "");
}

static void test_mode_string(void **state)
{
	static const struct {
		uint16_t mode;
		const char *want;
	} cases[] = {
		{ EXT2_S_IFREG | 0644, "-rw-r--r--" },	{ EXT2_S_IFDIR | 0755, "drwxr-xr-x" },
		{ EXT2_S_IFLNK | 0777, "lrwxrwxrwx" },	{ EXT2_S_IFCHR | 0620, "crw--w----" },
		{ EXT2_S_IFBLK | 0660, "brw-rw----" },	{ EXT2_S_IFIFO | 0600, "prw-------" },
		{ EXT2_S_IFSOCK | 0777, "srwxrwxrwx" }, { EXT2_S_IFREG | 04755, "-rwsr-xr-x" },
		{ EXT2_S_IFREG | 04644, "-rwSr--r--" }, { EXT2_S_IFREG | 02755, "-rwxr-sr-x" },
		{ EXT2_S_IFREG | 02745, "-rwxr-Sr-x" }, { EXT2_S_IFDIR | 01777, "drwxrwxrwt" },
		{ EXT2_S_IFDIR | 01776, "drwxrwxrwT" }, { 0, "?---------" },
		{ 0xe000 | 0421, "?r---w---x" },
	};
	char buf[11];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		ext2_mode_string(cases[i].mode, buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(ext2_strerror(EXT2_OK), "success");
	assert_string_equal(ext2_strerror(EXT2_ENOENT), "no such file or directory");
	assert_string_equal(ext2_strerror(EXT2_ENOTDIR), "not a directory");
	assert_string_equal(ext2_strerror(EXT2_ECORRUPT), "file system corrupt");
	assert_string_equal(ext2_strerror(EXT2_EIO), "I/O error");
	assert_string_equal(ext2_strerror(EXT2_EISDIR), "is a directory");
	assert_string_equal(ext2_strerror(EXT2_ENAMETOOLONG), "file name too long");
	assert_string_equal(ext2_strerror(-9999), "unknown error");
}

/* Other layouts mke2fs can make, all from the 1 KiB tree. */
static void test_variant(const char *name, const char *opts, uint32_t bs, uint32_t rev,
			 uint32_t inode_size)
{
	struct image *im = &images[0];
	char img[PATH_MAX];

	snprintf(img, sizeof(img), "%s/%s.img", tmpdir, name);
	if (rev == 0) {
		/* Revision 0 has no label, features or choice of inode size. */
		run("mke2fs -q -F -r 0 -b %u -g 2048 -N 512 -E root_owner=0:0 -d %s %s 8M "
		    ">/dev/null 2>&1",
		    bs, im->src, img);
	} else {
		make_image(im->src, img, bs, opts);
	}
	mount_ok(img);
	assert_int_equal(fs.block_size, bs);
	assert_int_equal(fs.rev_level, rev);
	assert_int_equal(fs.inode_size, inode_size);
	compare_tree(EXT2_ROOT_INO, im->src, true);
}

static void test_rev0(void **state)
{
	(void)state;
	test_variant("rev0", "", 1024, 0, 128);
	assert_int_equal(fs.feature_incompat, 0); /* so no file_type bytes */
}

static void test_inode128(void **state)
{
	(void)state;
	test_variant("inode128", "-I 128", 1024, 1, 128);
}

static void test_flex_bg(void **state)
{
	(void)state;
	test_variant("flex_bg", "-O flex_bg", 4096, 1, 256);
	assert_true(fs.feature_incompat & 0x200);
}

/* e2fsck -D turns big directories into hash trees: still readable linearly. */
static void test_htree(void **state)
{
	struct image *im = &images[0];
	char img[PATH_MAX], cmd[2 * PATH_MAX + 64], *out;
	int rc;

	(void)state;
	snprintf(img, sizeof(img), "%s/htree.img", tmpdir);
	run("cp '%s' '%s'", im->path, img);
	snprintf(cmd, sizeof(cmd), "e2fsck -fyD '%s' >/dev/null 2>&1", img);
	rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) <= 1); /* 1: it optimised something */
	out = debugfs(img, "stat /many");
	assert_non_null(strstr(out, "Flags: 0x1000")); /* EXT2_INDEX_FL */
	free(out);
	mount_ok(img);
	compare_tree(EXT2_ROOT_INO, im->src, true);
}

/* ---- damaged images: errors, never crashes ---- */

static char corrupt_img[PATH_MAX];

/* A fresh copy of the 1 KiB image to damage. */
static void fresh_copy(void)
{
	snprintf(corrupt_img, sizeof(corrupt_img), "%s/corrupt.img", tmpdir);
	run("cp '%s' '%s'", images[0].path, corrupt_img);
}

/* Writes a little-endian @width-byte @val at @off; returns the old value. */
static uint32_t poke(uint64_t off, uint32_t val, int width)
{
	uint8_t b[4];
	uint32_t old = 0;
	int fd = open(corrupt_img, O_RDWR);

	assert_true(fd >= 0);
	pread_all(fd, b, width, off);
	for (int i = width - 1; i >= 0; i--)
		old = old << 8 | b[i];
	for (int i = 0; i < width; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	assert_int_equal(pwrite(fd, b, width, (off_t)off), width);
	close(fd);
	return old;
}

static uint32_t peek32(uint64_t off)
{
	uint32_t old = poke(off, 0, 4);

	poke(off, old, 4);
	return old;
}

static void expect_mount(int want, const char *reason)
{
	int err = mount_image(corrupt_img);

	if (err != want)
		fail_msg("mount: got %d (%s), want %d", err, ext2_last_reason(&fs), want);
	if (reason && !strstr(ext2_last_reason(&fs), reason))
		fail_msg("reason '%s' lacks '%s'", ext2_last_reason(&fs), reason);
}

/* Pokes, checks the mount fails as @want says, and undoes the poke. */
static void bad_field(uint64_t off, uint32_t val, int width, int want, const char *reason)
{
	uint32_t old = poke(off, val, width);

	expect_mount(want, reason);
	/* A failed mount leaves nothing usable behind. */
	assert_int_equal(lookup_err("/"), EXT2_EINVAL);
	poke(off, old, width);
}

static void test_corrupt_superblock(void **state)
{
	const uint64_t sb = 1024, gdt = 2048; /* 1 KiB blocks: the GDT is block 2 */
	uint32_t old, blocks, incompat;
	uint64_t root;

	(void)state;
	fresh_copy();
	expect_mount(0, NULL);
	blocks = fs.blocks_count;
	bad_field(sb + 56, 0xef54, 2, EXT2_EINVAL, "magic");
	bad_field(sb + 76, 2, 4, EXT2_EINVAL, "revision");
	bad_field(sb + 24, 3, 4, EXT2_EINVAL, "block size");
	bad_field(sb + 24, 0xffffffff, 4, EXT2_EINVAL, "block size");
	bad_field(sb + 20, 0, 4, EXT2_ECORRUPT, "first_data_block");
	bad_field(sb + 4, 2, 4, EXT2_ECORRUPT, "blocks_count");
	bad_field(sb + 32, 0, 4, EXT2_ECORRUPT, "blocks_per_group");
	bad_field(sb + 32, 8 * 1024 + 1, 4, EXT2_ECORRUPT, "blocks_per_group");
	bad_field(sb + 40, 0, 4, EXT2_ECORRUPT, "inodes_per_group");
	bad_field(sb + 40, 0x80000000, 4, EXT2_ECORRUPT, "inodes_per_group");
	bad_field(sb + 0, 1, 4, EXT2_ECORRUPT, "inodes_count");
	bad_field(sb + 0, 0xffffffff, 4, EXT2_ECORRUPT, "inodes_count");
	bad_field(sb + 88, 100, 2, EXT2_EINVAL, "inode size");
	bad_field(sb + 88, 64, 2, EXT2_EINVAL, "inode size");
	bad_field(sb + 88, 0, 2, EXT2_EINVAL, "inode size");
	bad_field(sb + 88, 2048, 2, EXT2_EINVAL, "inode size");
	/* More blocks than the disk: the extra descriptors are rubbish. */
	old = poke(sb + 4, 0xfffffff0, 4);
	assert_true(mount_image(corrupt_img) == EXT2_ECORRUPT ||
		    mount_image(corrupt_img) == EXT2_EIO);
	poke(sb + 4, old, 4);

	incompat = peek32(sb + 96);
	bad_field(sb + 96, incompat | 0x0001, 4, EXT2_EINVAL, "compression");
	bad_field(sb + 96, incompat | 0x0004, 4, EXT2_EINVAL, "recovery");
	bad_field(sb + 96, incompat | 0x0010, 4, EXT2_EINVAL, "meta_bg");
	bad_field(sb + 96, incompat | 0x0040, 4, EXT2_EINVAL, "extents");
	bad_field(sb + 96, incompat | 0x0080, 4, EXT2_EINVAL, "64bit");
	bad_field(sb + 96, incompat | 0x80000000, 4, EXT2_EINVAL, "unknown");
	/* ro_compat features only matter to writers. */
	old = poke(sb + 100, 0xffffffff, 4);
	expect_mount(0, NULL);
	poke(sb + 100, old, 4);

	bad_field(gdt + 8, blocks, 4, EXT2_ECORRUPT, "inode table");
	bad_field(gdt + 8, blocks - 1, 4, EXT2_ECORRUPT, "inode table");
	bad_field(gdt + 8, 0, 4, EXT2_ECORRUPT, "inode table");
	bad_field(gdt + 32 + 0, 0xffffffff, 4, EXT2_ECORRUPT, "block bitmap");
	bad_field(gdt + 3 * 32 + 4, blocks, 4, EXT2_ECORRUPT, "inode bitmap");

	root = debugfs_imap(corrupt_img, "<2>", 1024);
	bad_field(root + 0, EXT2_S_IFREG | 0755, 2, EXT2_ECORRUPT, "root");
	bad_field(root + 32, 0x80000, 4, EXT2_ECORRUPT, "extents");
	expect_mount(0, NULL);
}

static void test_truncated(void **state)
{
	uint32_t map[13], ino;
	uint8_t buf[64];

	(void)state;
	fresh_copy();
	assert_int_equal(truncate(corrupt_img, 1500), 0);
	expect_mount(EXT2_EIO, "read");

	/* Cut in the middle of double.bin's first block. */
	fresh_copy();
	debugfs_stat(corrupt_img, "/double.bin", map, 13, NULL);
	assert_int_equal(truncate(corrupt_img, map[0] * 1024ll + 512), 0);
	expect_mount(0, NULL);
	ino = lookup_ok("/double.bin");
	assert_int_equal(ext2_stat(&fs, ino, &(struct ext2_inode_info){ 0 }), 0);
	assert_int_equal(ext2_read(&fs, ino, 0, buf, 1), EXT2_EIO);
	assert_int_equal(ext2_read(&fs, ino, 100, buf, sizeof(buf)), EXT2_EIO);
	assert_int_equal(ext2_read(&fs, ino, 12 * 1024, buf, sizeof(buf)), EXT2_EIO);
}

static void expect_dir_error_at(int line, int want, const char *reason)
{
	int calls = 0, err;

	expect_mount(0, NULL);
	err = ext2_readdir(&fs, lookup_ok("/a"), count_entries, &calls);
	if (err != want)
		fail_msg("line %d: readdir /a: got %d (%s), want %d", line, err,
			 ext2_last_reason(&fs), want);
	if (reason && !strstr(ext2_last_reason(&fs), reason))
		fail_msg("reason '%s' lacks '%s'", ext2_last_reason(&fs), reason);
	/* A name that is not there: the lookup reads every entry too. */
	assert_int_equal(lookup_err("/a/zzz"), want ? want : EXT2_ENOENT);
	/* The rest of the file system is still fine. */
	assert_int_equal(lookup_ok("/small.txt"),
			 debugfs_stat(images[0].path, "/small.txt", NULL, 0, NULL));
}

#define expect_dir_error(...) expect_dir_error_at(__LINE__, __VA_ARGS__)

static void test_corrupt_dirents(void **state)
{
	uint32_t map[1], inodes, rec_len, old, off;
	uint64_t base, ainode;

	(void)state;
	fresh_copy();
	expect_mount(0, NULL);
	inodes = fs.inodes_count;
	debugfs_stat(corrupt_img, "/a", map, 1, NULL);
	base = map[0] * 1024ull; /* "." at 0, ".." at 12, then the names */
	assert_int_equal(peek32(base), lookup_ok("/a"));
	assert_int_equal(peek32(base + 12), EXT2_ROOT_INO);

	old = poke(base + 4, 0, 2);
	expect_dir_error(EXT2_ECORRUPT, "rec_len");
	poke(base + 4, 13, 2);
	expect_dir_error(EXT2_ECORRUPT, "rec_len");
	poke(base + 4, 4, 2);
	expect_dir_error(EXT2_ECORRUPT, "rec_len");
	poke(base + 4, old, 2);
	old = poke(base + 12 + 4, 1024, 2); /* ".." would end past the block */
	expect_dir_error(EXT2_ECORRUPT, "rec_len");
	poke(base + 12 + 4, old, 2);
	old = poke(base + 12 + 6, 200, 1);
	expect_dir_error(EXT2_ECORRUPT, "name");
	poke(base + 12 + 6, old, 1);
	old = poke(base + 12, inodes + 1, 4);
	expect_dir_error(EXT2_ECORRUPT, "inode out of range");
	poke(base + 12, inodes, 4); /* the last inode is a valid number */
	expect_dir_error(EXT2_OK, NULL);
	poke(base + 12, old, 4);

	/* The last entry's rec_len reaches the block end; push it past. */
	for (off = 0;; off += rec_len) {
		rec_len = poke(base + off + 4, 0, 2);
		poke(base + off + 4, rec_len, 2);
		assert_true(rec_len >= 12 && off + rec_len <= 1024);
		if (off + rec_len == 1024)
			break;
	}
	poke(base + off + 4, rec_len + 4, 2);
	expect_dir_error(EXT2_ECORRUPT, "rec_len");
	poke(base + off + 4, rec_len, 2);

	/* The directory's inode. */
	ainode = debugfs_imap(corrupt_img, "/a", 1024);
	old = poke(ainode + 4, 1025, 4);
	expect_dir_error(EXT2_ECORRUPT, "multiple");
	poke(ainode + 4, old, 4);
	old = poke(ainode + 40, 0, 4);
	expect_dir_error(EXT2_ECORRUPT, "hole");
	poke(ainode + 40, fs.blocks_count, 4);
	expect_dir_error(EXT2_ECORRUPT, "out of range");
	poke(ainode + 40, old, 4);
	old = poke(ainode + 0, EXT2_S_IFREG | 0644, 2);
	expect_dir_error(EXT2_ENOTDIR, NULL);
	poke(ainode + 0, old, 2);
	expect_dir_error(EXT2_OK, NULL);
}

static void expect_read(uint32_t ino, uint64_t off, uint32_t len, long want, const char *reason)
{
	static uint8_t buf[64 * 1024];
	long n;

	assert_true(len <= sizeof(buf));
	n = ext2_read(&fs, ino, off, buf, len);
	if (n != want)
		fail_msg("read %u at %llu: got %ld (%s), want %ld", ino, (unsigned long long)off, n,
			 ext2_last_reason(&fs), want);
	if (reason && !strstr(ext2_last_reason(&fs), reason))
		fail_msg("reason '%s' lacks '%s'", ext2_last_reason(&fs), reason);
}

static void test_corrupt_block_pointers(void **state)
{
	const uint32_t bs = 1024, p = 256;
	uint64_t small, single, dbl, triple, link;
	uint32_t blocks, old, ind, ino;

	(void)state;
	fresh_copy();
	expect_mount(0, NULL);
	blocks = fs.blocks_count;
	small = debugfs_imap(corrupt_img, "/small.txt", bs);
	single = debugfs_imap(corrupt_img, "/single.bin", bs);
	dbl = debugfs_imap(corrupt_img, "/double.bin", bs);
	triple = debugfs_imap(corrupt_img, "/triple.bin", bs);
	link = debugfs_imap(corrupt_img, "/link", bs);

	/* A direct pointer just past the end, far past it, at the last block. */
	old = poke(small + 40, blocks, 4);
	expect_mount(0, NULL);
	ino = lookup_ok("/small.txt");
	assert_int_equal(ext2_stat(&fs, ino, &(struct ext2_inode_info){ 0 }), 0);
	expect_read(ino, 0, 13, EXT2_ECORRUPT, "data block number out of range");
	assert_int_equal(ext2_bmap(&fs, ino, 0, &(uint32_t){ 0 }), EXT2_ECORRUPT);
	poke(small + 40, 0xffffffff, 4);
	expect_mount(0, NULL);
	expect_read(ino, 0, 13, EXT2_ECORRUPT, NULL);
	poke(small + 40, blocks - 1, 4);
	expect_mount(0, NULL);
	expect_read(ino, 0, 13, 13, NULL);
	poke(small + 40, old, 4);

	/* The single-indirect pointer, then a pointer inside that block. */
	old = poke(single + 40 + 4 * 12, blocks, 4);
	expect_mount(0, NULL);
	ino = lookup_ok("/single.bin");
	expect_read(ino, 0, 12 * bs, 12 * bs, NULL);
	expect_read(ino, 12 * bs, 1, EXT2_ECORRUPT, "indirect block number out of range");
	expect_read(ino, 0, 20 * bs, EXT2_ECORRUPT, NULL);
	poke(single + 40 + 4 * 12, old, 4);
	ind = peek32(single + 40 + 4 * 12);
	old = poke(ind * bs + 4 * 3, 0xfffffff0, 4);
	expect_mount(0, NULL);
	expect_read(ino, (12 + 2) * bs, bs, bs, NULL);
	expect_read(ino, (12 + 3) * bs + 5, 1, EXT2_ECORRUPT, "data block");
	/* The run being gathered for one big read hits the bad pointer. */
	expect_read(ino, 0, 32 * bs, EXT2_ECORRUPT, NULL);
	poke(ind * bs + 4 * 3, old, 4);

	/* The double- and triple-indirect pointers. */
	old = poke(dbl + 40 + 4 * 13, blocks + 100, 4);
	expect_mount(0, NULL);
	ino = lookup_ok("/double.bin");
	expect_read(ino, (12 + p - 1) * bs, bs, bs, NULL);
	expect_read(ino, (12 + p) * bs, bs, EXT2_ECORRUPT, "indirect");
	poke(dbl + 40 + 4 * 13, old, 4);
	old = poke(triple + 40 + 4 * 14, blocks, 4);
	expect_mount(0, NULL);
	ino = lookup_ok("/triple.bin");
	expect_read(ino, triple_start(bs) - 100, 100, 100, NULL);
	expect_read(ino, triple_start(bs), 1, EXT2_ECORRUPT, "indirect");
	poke(triple + 40 + 4 * 14, old, 4);

	/* A size no block map can reach; a fast symlink longer than i_block. */
	old = poke(small + 108, 0xffffffff, 4);
	expect_mount(0, NULL);
	ino = lookup_ok("/small.txt");
	expect_read(ino, 0, 13, 13, NULL);
	expect_read(ino, 1ull << 62, 1, EXT2_ECORRUPT, "beyond");
	poke(small + 108, old, 4);
	old = poke(link + 4, 61, 4);
	expect_mount(0, NULL);
	expect_read(lookup_ok("/link"), 0, 100, EXT2_ECORRUPT, "symlink");
	poke(link + 4, old, 4);
}

/* Every inode field lands where it should, 32-bit owners included. */
static void test_inode_fields(void **state)
{
	static const struct {
		int off, width;
		uint32_t val;
	} fields[] = {
		{ 0, 2, EXT2_S_IFREG | 0640 }, /* i_mode */
		{ 2, 2, 0x1234 },	       /* i_uid */
		{ 8, 4, 111111 },	       /* i_atime */
		{ 12, 4, 222222 },	       /* i_ctime */
		{ 16, 4, 333333 },	       /* i_mtime */
		{ 24, 2, 0x5678 },	       /* i_gid */
		{ 26, 2, 7 },		       /* i_links_count */
		{ 28, 4, 0x12345 },	       /* i_blocks */
		{ 120, 2, 1 },		       /* l_i_uid_high */
		{ 122, 2, 2 },		       /* l_i_gid_high */
	};
	struct ext2_inode_info st;
	uint64_t small;

	(void)state;
	fresh_copy();
	small = debugfs_imap(corrupt_img, "/small.txt", 1024);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		poke(small + fields[i].off, fields[i].val, fields[i].width);
	expect_mount(0, NULL);
	assert_int_equal(ext2_stat(&fs, lookup_ok("/small.txt"), &st), 0);
	assert_int_equal(st.mode, EXT2_S_IFREG | 0640);
	assert_int_equal(st.uid, 0x11234);
	assert_int_equal(st.gid, 0x25678);
	assert_int_equal(st.atime, 111111);
	assert_int_equal(st.ctime, 222222);
	assert_int_equal(st.mtime, 333333);
	assert_int_equal(st.links, 7);
	assert_int_equal(st.blocks, 0x12345);
	assert_int_equal(st.size, 13);
}

/* mke2fs -t ext4 makes extents, 64bit and more: refused, saying why. */
static void test_ext4_refused(void **state)
{
	char img[PATH_MAX];

	(void)state;
	snprintf(img, sizeof(img), "%s/ext4.img", tmpdir);
	run("mke2fs -q -F -t ext4 %s 8M >/dev/null 2>&1", img);
	assert_int_equal(mount_image(img), EXT2_EINVAL);
	assert_non_null(strstr(ext2_last_reason(&fs), "extents"));
}

/* ---- random damage to the metadata the walk below uses ---- */

struct fuzz {
	int budget, depth;
	uint32_t bs;
};

static bool allowed(long err)
{
	return err >= 0 || err == EXT2_EIO || err == EXT2_ECORRUPT || err == EXT2_EINVAL ||
	       err == EXT2_ENOTDIR || err == EXT2_EISDIR || err == EXT2_ENOENT;
}

static int fuzz_entry(void *arg, const char *name, uint32_t name_len, uint32_t ino, uint8_t type)
{
	static uint8_t buf[3 * 4096 + 100];
	struct fuzz *f = arg, sub;
	struct ext2_inode_info st;
	bool dots;
	long n;
	int err;

	(void)type;
	if (--f->budget <= 0)
		return 1;
	assert_true(name_len >= 1 && name_len <= EXT2_NAME_MAX);
	assert_true(ino >= 1 && ino <= fs.inodes_count);
	dots = (name_len == 1 && name[0] == '.') || (name_len == 2 && !memcmp(name, "..", 2));
	err = ext2_stat(&fs, ino, &st);
	assert_true(allowed(err));
	if (err)
		return 0;
	if ((st.mode & EXT2_S_IFMT) == EXT2_S_IFDIR) {
		if (dots || f->depth >= 4)
			return 0;
		sub = (struct fuzz){ f->budget, f->depth + 1, f->bs };
		err = ext2_readdir(&fs, ino, fuzz_entry, &sub);
		f->budget = sub.budget;
		if (err == 1)
			return 1;
		assert_true(allowed(err));
		return 0;
	}
	n = ext2_read(&fs, ino, 0, buf, sizeof(buf));
	assert_true(allowed(n) && n <= (long)sizeof(buf));
	n = ext2_read(&fs, ino, 12ull * f->bs - 50, buf, 2 * f->bs);
	assert_true(allowed(n) && n <= 2 * (long)f->bs);
	if (st.size > 10) {
		n = ext2_read(&fs, ino, st.size - 10, buf, 100);
		assert_true(allowed(n) && n <= 10);
	}
	return 0;
}

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

static void test_fuzz(void **state)
{
	struct image *im = &images[0];
	const uint32_t bs = 1024;
	struct {
		uint64_t off, len;
	} regions[16];
	static const char *const inodes[] = { "<2>",	    "/a",	   "/many",
					      "/small.txt", "/single.bin", "/double.bin",
					      "/link",	    "/longlink",   "/a/b" };
	static const char *const dirs[] = { "/", "/a", "/many", "/a/b" };
	int nregions = 0, iterations = 600, mounted = 0;
	uint32_t map[2], ind;
	uint8_t *mem;
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(stat(im->path, &st), 0);
	mem = malloc(st.st_size);
	assert_non_null(mem);
	fd = open(im->path, O_RDONLY);
	assert_true(fd >= 0);
	pread_all(fd, mem, st.st_size, 0);
	close(fd);

	regions[nregions].off = 1024; /* the superblock's useful part */
	regions[nregions++].len = 128;
	regions[nregions].off = 2048; /* the first group descriptors */
	regions[nregions++].len = 4 * 32;
	for (size_t i = 0; i < sizeof(inodes) / sizeof(inodes[0]); i++) {
		regions[nregions].off = debugfs_imap(im->path, inodes[i], bs);
		regions[nregions++].len = 128;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		debugfs_stat(im->path, dirs[i], map, 1, NULL);
		regions[nregions].off = map[0] * (uint64_t)bs;
		regions[nregions++].len = bs;
	}
	debugfs_stat(im->path, "/single.bin", NULL, 0, &ind);
	regions[nregions].off = ind * (uint64_t)bs;
	regions[nregions++].len = 64;

	disk_close();
	disk.mem = mem;
	disk.mem_size = st.st_size;
	for (int it = 0; it < iterations; it++) {
		struct {
			uint64_t off;
			uint8_t old;
		} flips[4];
		int nflips = 1 + rnd() % 4, err;

		for (int i = 0; i < nflips; i++) {
			int r = rnd() % nregions;
			uint64_t off = regions[r].off + rnd() % regions[r].len;

			flips[i].off = off;
			flips[i].old = mem[off];
			switch (rnd() % 3) {
			case 0:
				mem[off] ^= 1 << (rnd() % 8);
				break;
			case 1:
				mem[off] = (uint8_t)rnd();
				break;
			default:
				mem[off] = rnd() % 2 ? 0xff : 0;
				break;
			}
		}
		err = ext2_mount(&fs, disk_read, &disk);
		assert_true(allowed(err) && err <= 0);
		if (!err) {
			struct fuzz f = { 400, 0, bs };
			uint32_t ino;

			mounted++;
			err = ext2_readdir(&fs, EXT2_ROOT_INO, fuzz_entry, &f);
			assert_true(err == 1 || allowed(err));
			err = ext2_lookup(&fs, "/a/b/c/deep.txt", &ino);
			assert_true(allowed(err));
			err = ext2_lookup(&fs, "/many/entry_with_a_longish_name_299", &ino);
			assert_true(allowed(err));
		}
		for (int i = nflips - 1; i >= 0; i--)
			mem[flips[i].off] = flips[i].old;
	}
	/* Most damage is survivable: make sure the walk really ran. */
	assert_true(mounted > iterations / 2);
	disk.mem = NULL;
	free(mem);
}

#define PER_IMAGE(fn)                                                                     \
	cmocka_unit_test_prestate_setup_teardown(fn, NULL, teardown, &images[0]),         \
		cmocka_unit_test_prestate_setup_teardown(fn, NULL, teardown, &images[1]), \
		cmocka_unit_test_prestate_setup_teardown(fn, NULL, teardown, &images[2])
#define ONE(fn, i) cmocka_unit_test_prestate_setup_teardown(fn, NULL, teardown, &images[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_IMAGE(test_mount_geometry),
		PER_IMAGE(test_tree),
		PER_IMAGE(test_block_maps),
		PER_IMAGE(test_small_and_sparse),
		ONE(test_coalescing, 0),
		ONE(test_coalescing, 2),
		ONE(test_lookup_edges, 0),
		ONE(test_lookup_edges, 2),
		ONE(test_many_entries, 0),
		ONE(test_many_entries, 2),
		PER_IMAGE(test_stat_fields),
		ONE(test_api_errors, 0),
		cmocka_unit_test(test_mode_string),
		cmocka_unit_test(test_strerror),
		ONE(test_rev0, 0),
		ONE(test_inode128, 0),
		ONE(test_flex_bg, 0),
		ONE(test_htree, 0),
		ONE(test_ext4_refused, 0),
		ONE(test_corrupt_superblock, 0),
		ONE(test_truncated, 0),
		ONE(test_corrupt_dirents, 0),
		ONE(test_corrupt_block_pointers, 0),
		ONE(test_inode_fields, 0),
		ONE(test_fuzz, 0),
	};

	return cmocka_run_group_tests_name("ext2", tests, group_setup, group_teardown);
}
