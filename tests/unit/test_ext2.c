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
	char src[PATH_MAX];
	char path[PATH_MAX];
};

/* The disk behind the read callback: an image file, or one in memory. */
struct disk {
	int fd;
	const uint8_t *mem;
	size_t mem_size;
	unsigned long calls;
};

static char tmpdir[PATH_MAX];
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

	(void)state;
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
			for (uint64_t l = l1; map && l <= l2; l++) {
				assert_true(l < nmap);
				map[l] = p1 + (uint32_t)(l - l1);
			}
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
		assert_int_equal(ext2_read(&fs, ino, 1, got, 3), 3);
		assert_memory_equal(got, target + 1, 3);
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
	qsort(w.names, w.entries, sizeof(*w.names), cmp_str);
	for (int i = 1; i < w.entries; i++)
		assert_string_not_equal(w.names[i - 1], w.names[i]);
	for (int i = 0; i < w.entries; i++)
		free(w.names[i]);
	free(w.names);
}
