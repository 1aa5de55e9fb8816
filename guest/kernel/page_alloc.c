// SPDX-License-Identifier: GPL-2.0
/*
 * page_alloc.c: a first-fit page allocator over [kernel end, ram_top).
 *
 * One bit per page, kept in the first pages of the free region itself, so
 * its size follows --mem.  Runs of pages are what drivers and benchmarks
 * need (a 1 MiB I/O buffer is 256 contiguous pages, handed to the device as
 * one guest-physical range); first fit with a roving start is plenty for a
 * kernel that allocates at setup and per benchmark run.
 */
#include "kernel.h"

extern char __kernel_end[];

static uint64_t *bitmap;   /* bit set = page in use */
static uint64_t first_pfn; /* page frame of bit 0 */
static size_t npages;
static size_t nfree;
static size_t next_search;

static bool page_used(size_t i)
{
	return bitmap[i / 64] & (1ULL << (i % 64));
}

static void mark(size_t i, size_t n, bool used)
{
	for (; n; i++, n--) {
		if (used)
			bitmap[i / 64] |= 1ULL << (i % 64);
		else
			bitmap[i / 64] &= ~(1ULL << (i % 64));
	}
}

void page_alloc_init(void)
{
	uint64_t start = ((uint64_t)(uintptr_t)__kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t end = boot->ram_top & ~(PAGE_SIZE - 1);
	size_t total, map_pages;

	if (end <= start + 16 * PAGE_SIZE)
		panic("not enough RAM: kernel ends at %#lx, ram_top %#lx", start, end);
	total = (end - start) / PAGE_SIZE;
	map_pages = DIV_ROUND_UP(DIV_ROUND_UP(total, 64) * 8, PAGE_SIZE);
	bitmap = (uint64_t *)(uintptr_t)start;
	memset(bitmap, 0, map_pages * PAGE_SIZE);
	first_pfn = start / PAGE_SIZE + map_pages;
	npages = total - map_pages;
	nfree = npages;
}

void *alloc_pages(size_t n)
{
	size_t run = 0;

	if (!n || n > nfree)
		return NULL;
	for (size_t tries = 0, i = next_search; tries < npages + n; tries++, i++) {
		if (i >= npages) {
			i = 0;
			run = 0;
		}
		run = page_used(i) ? 0 : run + 1;
		if (run == n) {
			size_t first = i + 1 - n;
			void *p = (void *)(uintptr_t)((first_pfn + first) * PAGE_SIZE);

			mark(first, n, true);
			nfree -= n;
			next_search = i + 1;
			memset(p, 0, n * PAGE_SIZE);
			return p;
		}
	}
	return NULL;
}

void free_pages(void *p, size_t n)
{
	uint64_t pfn = (uint64_t)(uintptr_t)p / PAGE_SIZE;

	if (!p)
		return;
	if (pfn < first_pfn || pfn + n > first_pfn + npages)
		panic("free_pages: %p is not ours", p);
	mark(pfn - first_pfn, n, false);
	nfree += n;
}

size_t free_page_count(void)
{
	return nfree;
}
