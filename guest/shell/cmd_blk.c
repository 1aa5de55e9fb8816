// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_blk.c: blkread and blkwrite, raw sector access for tests and people
 * checking that bytes really reach the disk image.
 */
#include "blk.h"
#include "kernel.h"
#include "shell.h"

#define CHUNK_SECTORS 256 /* 128 KiB per request */

static const char *status_name(int status)
{
	switch (status) {
	case D3_BLK_S_OK:
		return "ok";
	case D3_BLK_S_IOERR:
		return "ioerr";
	case D3_BLK_S_UNSUPP:
		return "unsupp";
	case BLK_ERR_BROKEN:
		return "device stopped";
	default:
		return "?";
	}
}

static bool parse_range(char **argv, uint64_t *sector, uint64_t *count)
{
	if (!parse_u64(argv[1], sector) || !parse_u64(argv[2], count) || *count == 0 ||
	    *count > (1ULL << 32)) {
		printk("%s: bad SECTOR or COUNT\n", argv[0]);
		return false;
	}
	return true;
}

int cmd_blkread(int argc, char **argv)
{
	struct blkdev *bd;
	uint64_t sector, count;
	uint32_t crc = 0;
	char *buf;
	int status = D3_BLK_S_OK;

	if (argc < 3 || argc > 4) {
		printk("usage: blkread SECTOR COUNT [dev=N]\n");
		return 2;
	}
	bd = shell_blkdev(argc == 4 ? argv[3] : NULL);
	if (!bd || !parse_range(argv, &sector, &count))
		return 2;
	buf = alloc_pages(CHUNK_SECTORS * LG_SECTOR_SIZE / PAGE_SIZE);
	if (!buf)
		return 1;
	for (uint64_t done = 0; done < count && status == D3_BLK_S_OK;) {
		uint64_t n = count - done < CHUNK_SECTORS ? count - done : CHUNK_SECTORS;

		status = blk_rw(bd, BLK_T_READ, sector + done, buf, n * LG_SECTOR_SIZE);
		if (status == D3_BLK_S_OK)
			crc = crc32_le(crc, buf, n * LG_SECTOR_SIZE);
		done += n;
	}
	free_pages(buf, CHUNK_SECTORS * LG_SECTOR_SIZE / PAGE_SIZE);
	if (status != D3_BLK_S_OK) {
		printk("blkread: %s\n", status_name(status));
		return 1;
	}
	printk("crc32=%08x\n", crc);
	return 0;
}

int cmd_blkwrite(int argc, char **argv)
{
	struct blkdev *bd;
	uint64_t sector, count, byte;
	char *buf;
	int status = D3_BLK_S_OK;

	if (argc < 4 || argc > 5) {
		printk("usage: blkwrite SECTOR COUNT BYTE [dev=N]\n");
		return 2;
	}
	bd = shell_blkdev(argc == 5 ? argv[4] : NULL);
	if (!bd || !parse_range(argv, &sector, &count))
		return 2;
	if (!parse_u64(argv[3], &byte) || byte > 255) {
		printk("blkwrite: BYTE must be 0..255 (e.g. 0xab)\n");
		return 2;
	}
	buf = alloc_pages(CHUNK_SECTORS * LG_SECTOR_SIZE / PAGE_SIZE);
	if (!buf)
		return 1;
	memset(buf, (int)byte, CHUNK_SECTORS * LG_SECTOR_SIZE);
	for (uint64_t done = 0; done < count && status == D3_BLK_S_OK;) {
		uint64_t n = count - done < CHUNK_SECTORS ? count - done : CHUNK_SECTORS;

		status = blk_rw(bd, BLK_T_WRITE, sector + done, buf, n * LG_SECTOR_SIZE);
		done += n;
	}
	free_pages(buf, CHUNK_SECTORS * LG_SECTOR_SIZE / PAGE_SIZE);
	if (status == D3_BLK_S_OK)
		status = blk_rw(bd, BLK_T_FLUSH, 0, NULL, 0);
	printk("blkwrite: %s\n", status_name(status));
	return status == D3_BLK_S_OK ? 0 : 1;
}

/* What the driver knows about a disk, and what GET_ID says (split/packed). */
int cmd_blkinfo(int argc, char **argv)
{
	static char id[VIRTIO_BLK_ID_BYTES + 1];
	struct blkdev *bd;
	int status;

	if (argc > 2) {
		printk("usage: blkinfo [dev=N]\n");
		return 2;
	}
	bd = shell_blkdev(argc == 2 ? argv[1] : NULL);
	if (!bd)
		return 1;
	printk("%s: %s ring, %lu sectors, %s\n", blk_name(bd), blk_layout(bd),
	       (unsigned long)blk_capacity(bd), blk_read_only(bd) ? "read-only" : "read-write");
	if (blk_queues(bd) > 1)
		printk("%s: %u request queues\n", blk_name(bd), blk_queues(bd));
	if (!strcmp(blk_layout(bd), "draft3"))
		return 0; /* the 2007 protocol has no GET_ID */
	memset(id, 0, sizeof(id));
	status = blk_rw(bd, BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES);
	if (status != VIRTIO_BLK_S_OK) {
		printk("blkinfo: GET_ID: %s\n", status_name(status));
		return 1;
	}
	printk("%s: id %s\n", blk_name(bd), id);
	return 0;
}
