// SPDX-License-Identifier: GPL-2.0
/*
 * crc32.c: CRC-32 as zlib's crc32() computes it (reflected polynomial
 * 0xEDB88320, initial value and final XOR ~0), so a checksum the launcher
 * computes with zlib matches one the guest computes here.
 *
 * Slicing-by-8: table[k][b] is the CRC of byte b followed by k zero bytes,
 * so eight bytes can be folded in with eight independent lookups instead
 * of eight dependent ones.  That is several times faster than the
 * byte-at-a-time loop on the MiB-sized buffers the guest checks.
 */
#include "lib.h"

#define CRC32_POLY 0xedb88320u

static uint32_t table[8][256];
static bool table_ready;

/*
 * Built at first use rather than spelled out as 8 KiB of constants.  The
 * guest has a single vCPU, and the hosted tests call this from one
 * thread, so no locking is needed.
 */
static void crc32_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (c & 1 ? CRC32_POLY : 0);
		table[0][b] = c;
	}
	/* One more zero byte after b: shift the CRC on by one byte. */
	for (int k = 1; k < 8; k++) {
		for (int b = 0; b < 256; b++) {
			uint32_t c = table[k - 1][b];

			table[k][b] = (c >> 8) ^ table[0][c & 0xff];
		}
	}
	table_ready = true;
}

/* Byte loads, so any alignment is fine; GCC turns this into one load on x86. */
static inline uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t crc32_le(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!table_ready)
		crc32_init();

	/* zlib's register holds the inverted CRC; callers see the real one. */
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo = crc ^ load_le32(p);
		uint32_t hi = load_le32(p + 4);

		/* The byte furthest from the end has the most zero bytes after it. */
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^ table[3][hi & 0xff] ^
		      table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
