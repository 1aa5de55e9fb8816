// SPDX-License-Identifier: GPL-2.0
/*
 * test_packed_event.c: unit tests for include/packed_event.h, the one
 * formula both sides of a packed ring use to decide whether the other
 * side's DESC event (off_wrap) lies among the positions just gone through.
 *
 * The formula works modulo 2 * size in one step.  Here it is checked,
 * for every small ring, every place, every window and every event, against
 * the plain definition: walk back from where we are, one slot at a time,
 * flipping the wrap counter at slot 0, and see whether the event is one
 * of the slots walked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "packed_event.h"

#define WRAP_BIT (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/* The definition: is (off, event_wrap) one of the @count places before (slot, wrap)? */
static bool walked_past(uint16_t off, bool event_wrap, uint16_t slot, bool wrap, uint32_t count,
			uint16_t size)
{
	for (uint32_t i = 0; i < count; i++) {
		if (slot == 0) {
			slot = size;
			wrap = !wrap;
		}
		slot--;
		if (slot == off && wrap == event_wrap)
			return true;
	}
	return false;
}

/* Every ring of 1 to 16 slots, every place, window (< 2 laps) and event. */
static void matches_the_walk(void **state)
{
	(void)state;
	for (uint16_t size = 1; size <= 16; size *= 2)
		for (uint16_t slot = 0; slot < size; slot++)
			for (int wrap = 0; wrap <= 1; wrap++)
				for (uint32_t count = 0; count < 2u * size; count++)
					for (uint16_t off = 0; off < size; off++)
						for (int ew = 0; ew <= 1; ew++) {
							uint16_t off_wrap =
								off | (ew ? WRAP_BIT : 0);
							bool want = walked_past(off, ew, slot, wrap,
										count, size);
							bool got = packed_event_passed(
								off_wrap, slot, wrap, count, size);

							if (got != want)
								fail_msg(
									"size %u slot %u wrap %d count %u off %u wrap %d: got %d",
									size, slot, wrap, count,
									off, ew, got);
						}
}

/* The largest ring: windows that cross the end of the ring, both ways. */
static void largest_ring(void **state)
{
	const uint16_t size = 32768;

	(void)state;
	/* Here is slot 2 of a wrap-0 lap; slots 32766, 32767 (wrap 1), 0, 1 were just passed. */
	assert_true(packed_event_passed(32766 | WRAP_BIT, 2, false, 4, size));
	assert_false(packed_event_passed(32765 | WRAP_BIT, 2, false, 4, size));
	assert_true(packed_event_passed(1, 2, false, 4, size));
	/* Here itself is not yet done. */
	assert_false(packed_event_passed(2, 2, false, 4, size));
	/* The same slot a lap earlier is another position. */
	assert_false(packed_event_passed(1 | WRAP_BIT, 2, false, 4, size));
	/* An empty window passes nothing. */
	assert_false(packed_event_passed(1, 2, false, 0, size));
}

/*
 * A driver's offset need not be below size (the driver side does not
 * check it): only its position modulo 2 * size counts, so offset
 * size + k on wrap w is slot k on the other lap.
 */
static void offset_beyond_the_ring(void **state)
{
	const uint16_t size = 8;

	(void)state;
	for (uint16_t slot = 0; slot < size; slot++)
		for (int wrap = 0; wrap <= 1; wrap++)
			for (uint32_t count = 0; count < 2u * size; count++)
				for (uint16_t k = 0; k < size; k++)
					for (int ew = 0; ew <= 1; ew++)
						assert_int_equal(
							packed_event_passed(
								(size + k) | (ew ? WRAP_BIT : 0),
								slot, wrap, count, size),
							packed_event_passed(k | (ew ? 0 : WRAP_BIT),
									    slot, wrap, count,
									    size));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_the_walk),
		cmocka_unit_test(largest_ring),
		cmocka_unit_test(offset_beyond_the_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
