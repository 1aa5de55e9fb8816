// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_trace_drain.c: draining the guest's trace ring (include/lg_trace.h)
 * with trace_drain_ring() (launcher/trace.c), against a guest that writes
 * what it likes into the ring's header and slots.
 *
 * Input:
 *
 *   u8 config   bits 0-2: the ring holds 1 << n events; bits 3-4: the
 *               timebase: 0 the host's TSC, 1 a u64 offset follows, 2 two
 *               u16 rates (kHz, + 1) follow, 3 both
 *   then operations, each an opcode byte (mod 6) and its arguments:
 *     0 u8 n, then per event u8 type, u16 tsc: append n events the way
 *       guest/kernel/trace.c does (dropping them when the ring is full)
 *     1 u8 d: move head on by d (past the tail, maybe)
 *     2 u64: set head        3 u64: set tail (the launcher's word)
 *     4 u8 slot, 32 bytes: write one slot
 *     5 drain
 *
 * After each drain: the store (trace_events) grew by exactly the events
 * between the tail and head the guest showed, copied from those slots and
 * put on the host's timeline; the tail moved to head; nothing else in the
 * ring changed.  A head more than the ring's size ahead of the tail
 * stops guest tracing (guest_ring_broken, one warning) and copies
 * nothing, then or at any later drain.  Reads outside the ring are
 * AddressSanitizer's to catch: the ring is a heap block of exactly its
 * size.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"
#include "trace.h"

#define MAX_ENTRIES 128

static unsigned int warnings;

/*
 * trace.c says through log.c that guest tracing stopped; here, quietly,
 * counted.
 */
void warnx_lg(const char *fmt, ...)
{
	(void)fmt;
	warnings++;
}

/*
 * What the rest of trace.c (setup, the drain thread, the output) calls in
 * the launcher is bound to this by rings.mk: the harness never gets there.
 */
void trace_fuzz_unreachable(void);
void trace_fuzz_unreachable(void)
{
	fuzz_fail("trace.c called into the launcher outside trace_drain_ring()");
}

static struct lg_trace_event *slots(struct lg_trace_ring *ring)
{
	return (struct lg_trace_event *)((uint8_t *)ring + LG_TRACE_RING_OFFSET);
}

/* What one drain must do, worked out from the ring before it. */
static void drain(struct lg_trace_ring *ring, uint32_t size, const struct timebase *tb,
		  struct lg_trace_ring *copy)
{
	size_t bytes = LG_TRACE_RING_OFFSET + (size_t)size * sizeof(struct lg_trace_event);
	struct lg_trace_ring before = *ring;
	uint64_t n0 = trace_events.n, pending = before.head - before.tail;
	bool was_broken = trace_events.guest_ring_broken;
	unsigned int warned = warnings;

	memcpy(copy, ring, bytes);
	trace_drain_ring(ring, size, tb);

	/* Only the tail may change. */
	copy->tail = ring->tail;
	FUZZ_CHECK(!memcmp(copy, ring, bytes), "drain wrote the guest's ring beyond its tail");
	if (was_broken || pending > size) {
		FUZZ_CHECK(trace_events.guest_ring_broken,
			   "head %llu, tail %llu: %llu events in a ring of %u, tracing not stopped",
			   (unsigned long long)before.head, (unsigned long long)before.tail,
			   (unsigned long long)pending, size);
		FUZZ_CHECK(trace_events.n == n0 && ring->tail == before.tail,
			   "a stopped trace ring was drained (%llu events, tail %llu -> %llu)",
			   (unsigned long long)(trace_events.n - n0),
			   (unsigned long long)before.tail, (unsigned long long)ring->tail);
		FUZZ_CHECK(warnings == warned + !was_broken, "%u warnings for one stop",
			   warnings - warned);
		return;
	}
	FUZZ_CHECK(!trace_events.guest_ring_broken && warnings == warned,
		   "tracing stopped with %llu of %u events pending", (unsigned long long)pending,
		   size);
	FUZZ_CHECK(trace_events.n == n0 + pending && ring->tail == before.head,
		   "drain of %llu events stored %llu and moved the tail %llu -> %llu (head %llu)",
		   (unsigned long long)pending, (unsigned long long)(trace_events.n - n0),
		   (unsigned long long)before.tail, (unsigned long long)ring->tail,
		   (unsigned long long)before.head);
	for (uint64_t i = 0; i < pending; i++) {
		struct lg_trace_event want = slots(copy)[(before.tail + i) % size];
		const struct lg_trace_event *got = &trace_events.ev[n0 + i];

		want.tsc = timebase_to_host(tb, want.tsc);
		if (want.type == LG_TR_REAP || want.type == LG_TR_WAKE)
			want.addr = timebase_span_to_host(tb, want.addr);
		FUZZ_CHECK(!memcmp(&want, got, sizeof(want)),
			   "stored event %llu is not slot %llu's (type %u/%u, tsc %llu/%llu)",
			   (unsigned long long)(n0 + i),
			   (unsigned long long)((before.tail + i) % size), got->type, want.type,
			   (unsigned long long)got->tsc, (unsigned long long)want.tsc);
	}
}

/* As guest/kernel/trace.c: one event in the next slot, or counted as dropped. */
static void append(struct lg_trace_ring *ring, uint32_t size, uint8_t type, uint16_t tsc)
{
	uint64_t head = ring->head;

	if (head - ring->tail >= size) {
		ring->dropped++;
		return;
	}
	slots(ring)[head % size] = (struct lg_trace_event){
		.tsc = (uint64_t)tsc << 20 | head,
		.type = type,
		.dev = (uint8_t)head,
		.id = (uint32_t)head,
		.idx = (uint32_t)(head >> 3),
		.len = tsc,
		.addr = (uint64_t)tsc * 1000,
	};
	ring->head = head + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy_buf[LG_TRACE_RING_OFFSET + MAX_ENTRIES * sizeof(struct lg_trace_event)];
	struct lg_trace_ring *ring, *copy = (struct lg_trace_ring *)copy_buf;
	struct timebase tb;
	struct fuzz_input in;
	uint32_t entries;
	uint8_t config;

	fuzz_input_init(&in, data, size);
	config = fuzz_u8(&in);
	entries = 1u << (config & 7);
	timebase_same(&tb, 3000000, "fuzz");
	if (config & 0x08)
		tb.offset = fuzz_u64(&in);
	if (config & 0x10) {
		tb.guest_khz = fuzz_u16(&in) + 1u;
		tb.host_khz = fuzz_u16(&in) + 1u;
	}
	/* Exactly the ring, header and slots, so that a stray read is ASan's. */
	ring = calloc(1, LG_TRACE_RING_OFFSET + entries * sizeof(struct lg_trace_event));
	if (!ring)
		return 0;
	ring->size = entries;
	trace_events.guest_ring_broken = false;
	warnings = 0;

	for (unsigned int ops = 0; ops < 256 && fuzz_left(&in); ops++) {
		uint8_t n;

		switch (fuzz_u8(&in) % 6) {
		case 0:
			n = fuzz_u8(&in);
			for (unsigned int i = 0; i < n && fuzz_left(&in); i++) {
				uint8_t type = fuzz_u8(&in);

				append(ring, entries, type, fuzz_u16(&in));
			}
			break;
		case 1:
			ring->head += fuzz_u8(&in);
			break;
		case 2:
			ring->head = fuzz_u64(&in);
			break;
		case 3:
			ring->tail = fuzz_u64(&in);
			break;
		case 4:
			n = fuzz_u8(&in);
			fuzz_bytes(&in, &slots(ring)[n % entries], sizeof(struct lg_trace_event));
			break;
		default:
			drain(ring, entries, &tb, copy);
		}
	}
	drain(ring, entries, &tb, copy);
	free(ring);
	trace_store_clear();
	return 0;
}
