// SPDX-License-Identifier: GPL-2.0
/*
 * ring_env.c: the guest RAM, the device operations and the invariants the
 * ring harnesses share (see ring_env.h).
 *
 * The rules checked, each named in its failure message:
 *
 *   chain-in-ram      every iovec of a popped chain lies wholly inside
 *                     guest RAM, and names at least one byte;
 *   chain-lengths     the readable and writable lengths add up to
 *                     read_len and write_len, nread + nwrite is at most
 *                     CHAIN_MAX_SEGS, ndesc is at least the segments;
 *   wild-write        the device writes guest RAM only in the areas it
 *                     owns (used ring, device area, ...), and not at all
 *                     when it refuses a push;
 *   broken-message    a broken queue says why, starting with its name;
 *   broken-sticky     and stays broken;
 *   broken-quiet      and touches guest RAM no more: RAM is PROT_NONE
 *                     from then on (a touch is a SIGSEGV, which libFuzzer
 *                     reports), and every call says "nothing" (-1, false,
 *                     0);
 *   enable-then-pop   queue_enable_notify() false, and nothing written
 *                     since: the next pop finds nothing; true: it finds
 *                     something (or a broken rule);
 *   push-not-held     pushing an id the device does not hold (never
 *                     popped, pushed already, or none at all) is refused
 *                     and breaks the queue; a push that is refused breaks
 *                     it too;
 *   pop-held-id       a pop never hands out an id the device still holds;
 *   used-len          a push writes the chain's id and at most its
 *                     writable length into the used ring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ring_env.h"

#define PAGE	4096u
#define NCOMMON 12
#define D_MAX	8 /* device areas per call */

static struct ring_env env;
static int tracing = -1; /* RING_ENV_TRACE=1: each operation on stderr, to read a crash */
static uint8_t *ram;
static uint8_t shadow[ENV_RAM_SIZE];

/*
 * RAM once per process, with an inaccessible page either side: a device
 * that strays just off the end of RAM faults even before the checks run.
 */
static void map_ram(void)
{
	uint8_t *p;

	if (ram)
		return;
	p = mmap(NULL, ENV_RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + PAGE, ENV_RAM_SIZE, PROT_READ | PROT_WRITE))
		fuzz_fail("cannot map guest RAM");
	ram = p + PAGE;
}

static void protect(bool none)
{
	if (mprotect(ram, ENV_RAM_SIZE, none ? PROT_NONE : PROT_READ | PROT_WRITE))
		fuzz_fail("mprotect of guest RAM failed");
	env.protected = none;
}

struct ring_env *ring_env_begin(const struct ring_layout *layout, void *priv)
{
	map_ram();
	if (tracing < 0)
		tracing = !!getenv("RING_ENV_TRACE");
	memset(ram, 0, ENV_RAM_SIZE);
	memset(shadow, 0, ENV_RAM_SIZE);
	memset(&env.q, 0, sizeof(env.q));
	env.layout = layout;
	env.mem = (struct guest_mem){ .base = ram, .size = ENV_RAM_SIZE, .fd = -1 };
	env.ready = false;
	env.protected = false;
	env.nids = 0;
	env.enabled[0] = env.enabled[1] = -1;
	memset(env.slot_live, 0, sizeof(env.slot_live));
	for (unsigned int s = 0; s < ENV_SLOTS; s++)
		chain_reset(&env.slot[s]);
	env.priv = priv;
	return &env;
}

#define TRACE(...)                                    \
	do {                                          \
		if (tracing)                          \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

/* ---- guest writes ------------------------------------------------------ */

static void forget_enables(struct ring_env *e)
{
	e->enabled[0] = e->enabled[1] = -1;
}

void ring_env_write(struct ring_env *e, uint64_t gpa, const void *src, uint64_t n)
{
	if (gpa >= ENV_RAM_SIZE)
		return;
	if (n > ENV_RAM_SIZE - gpa)
		n = ENV_RAM_SIZE - gpa;
	TRACE("  guest writes %llu bytes at 0x%llx\n", (unsigned long long)n,
	      (unsigned long long)gpa);
	/* Once the queue is broken RAM stays PROT_NONE: the device must not look. */
	if (!e->protected)
		memcpy(ram + gpa, src, n);
	memcpy(shadow + gpa, src, n);
	/* What enable_notify saw may have changed. */
	forget_enables(e);
}

void ring_env_write8(struct ring_env *e, uint64_t gpa, uint8_t v)
{
	ring_env_write(e, gpa, &v, sizeof(v));
}

void ring_env_write16(struct ring_env *e, uint64_t gpa, uint16_t v)
{
	ring_env_write(e, gpa, &v, sizeof(v));
}

void ring_env_write32(struct ring_env *e, uint64_t gpa, uint32_t v)
{
	ring_env_write(e, gpa, &v, sizeof(v));
}

void ring_env_write64(struct ring_env *e, uint64_t gpa, uint64_t v)
{
	ring_env_write(e, gpa, &v, sizeof(v));
}

uint16_t ring_env_read16(const struct ring_env *e, uint64_t gpa)
{
	uint16_t v = 0;

	(void)e;
	if (gpa <= ENV_RAM_SIZE - sizeof(v))
		memcpy(&v, shadow + gpa, sizeof(v));
	return v;
}

uint32_t ring_env_read32(const struct ring_env *e, uint64_t gpa)
{
	uint32_t v = 0;

	(void)e;
	if (gpa <= ENV_RAM_SIZE - sizeof(v))
		memcpy(&v, shadow + gpa, sizeof(v));
	return v;
}

void ring_env_edge(uint16_t arg, uint64_t *gpa, uint32_t *len)
{
	uint32_t room = 1 + (arg >> 2) % 4096; /* bytes from gpa to the end of RAM */

	*gpa = ENV_RAM_SIZE - room;
	*len = room + (arg & 3) - 1; /* one short, exact, one past (or exact again) */
	if (!*len || (arg & 3) == 3)
		*len = room;
}

/* ---- device calls ------------------------------------------------------ */

static bool broken(const struct ring_env *e)
{
	return e->ready && queue_broken(&e->q[0]);
}

void ring_env_device_begin(struct ring_env *e, struct ring_area *a, unsigned int *na)
{
	*na = 0;
	if (broken(e)) {
		/*
		 * Once, for the rest of the input, not around each call:
		 * two system calls a call would cost more than the rest.
		 */
		if (!e->protected)
			protect(true);
		return;
	}
	*na = e->layout->device_areas(e, a);
}

/*
 * What the device wrote: copy its own areas into the shadow, and then any
 * byte where RAM and shadow still differ was written somewhere else.
 */
void ring_env_device_end(struct ring_env *e, const struct ring_area *a, unsigned int na)
{
	if (e->protected)
		return;
	for (unsigned int i = 0; i < na; i++) {
		uint64_t gpa = a[i].gpa, len = a[i].len;

		if (gpa >= ENV_RAM_SIZE)
			continue;
		if (len > ENV_RAM_SIZE - gpa)
			len = ENV_RAM_SIZE - gpa;
		memcpy(shadow + gpa, ram + gpa, len);
	}
	if (!memcmp(shadow, ram, ENV_RAM_SIZE))
		return;
	for (uint32_t i = 0; i < ENV_RAM_SIZE; i++)
		FUZZ_CHECK(ram[i] == shadow[i],
			   "wild-write: %s: the device wrote guest byte 0x%x (0x%02x -> 0x%02x), "
			   "outside the areas it owns",
			   e->layout->name, i, shadow[i], ram[i]);
}

static void check_state(struct ring_env *e, bool was_broken)
{
	const char *msg;

	if (!e->ready)
		return;
	for (unsigned int k = 1; k < e->layout->nqueues; k++)
		FUZZ_CHECK(queue_broken(&e->q[k]) == queue_broken(&e->q[0]),
			   "broken-sticky: %s: the queues of one device disagree about broken",
			   e->layout->name);
	if (!broken(e)) {
		FUZZ_CHECK(!was_broken, "broken-sticky: %s: a broken queue works again",
			   e->layout->name);
		return;
	}
	msg = queue_error(&e->q[0]);
	FUZZ_CHECK(msg && msg[0], "broken-message: %s: broken without a message", e->layout->name);
	FUZZ_CHECK(e->layout->error_named(e, msg),
		   "broken-message: %s: \"%s\" does not start with the queue's name",
		   e->layout->name, msg);
}

void ring_env_ready(struct ring_env *e, uint32_t nids)
{
	e->ready = true;
	e->nids = nids < ENV_MAX_IDS ? nids : ENV_MAX_IDS;
	for (unsigned int k = 0; k < e->layout->nqueues; k++)
		memset(e->owner[k], OWNER_NONE, e->nids);
	check_state(e, false);
}

/* ---- the model --------------------------------------------------------- */

static uint32_t chain_id(const struct ring_env *e, const struct chain *c, unsigned int k)
{
	return e->layout->chain_id(c, k);
}

void ring_env_own_chain(struct ring_env *e, unsigned int s, unsigned int k)
{
	uint32_t id = chain_id(e, &e->slot[s], k);
	uint8_t *o;

	FUZZ_CHECK(id < e->nids, "chain-lengths: %s: queue %u handed out buffer id %u of %u",
		   e->layout->name, k, id, e->nids);
	o = &e->owner[k][id];
	FUZZ_CHECK(*o == OWNER_NONE || *o == OWNER_DEVICE,
		   "pop-held-id: %s: queue %u handed out buffer id %u, which it still holds",
		   e->layout->name, k, id);
	*o = OWNER_SLOT + s;
	e->slot_live[s] = true;
}

void ring_env_drop_slot(struct ring_env *e, unsigned int s)
{
	const struct chain *c = &e->slot[s];

	if (!e->slot_live[s])
		return;
	for (unsigned int k = 0; k < e->layout->nqueues; k++) {
		uint32_t id = chain_id(e, c, k);

		if (id != CHAIN_NO_ID && e->owner[k][id] == OWNER_SLOT + s)
			e->owner[k][id] = OWNER_LOST;
	}
	e->slot_live[s] = false;
}

void ring_env_check_chain(const struct ring_env *e, const struct chain *c, unsigned int k)
{
	const char *name = e->layout->name;
	unsigned int nseg = c->nread + c->nwrite;
	uint64_t sum[2] = { 0, 0 };

	FUZZ_CHECK(nseg >= 1 && nseg <= CHAIN_MAX_SEGS,
		   "chain-lengths: %s: %u readable + %u writable segments", name, c->nread,
		   c->nwrite);
	for (unsigned int i = 0; i < nseg; i++) {
		const uint8_t *p = c->seg[i].iov_base;
		size_t len = c->seg[i].iov_len;

		FUZZ_CHECK(p >= ram && len >= 1 && len <= ENV_RAM_SIZE &&
				   (size_t)(p - ram) <= ENV_RAM_SIZE - len,
			   "chain-in-ram: %s: segment %u of %u (%p, %zu bytes) is not inside guest "
			   "RAM [%p, +0x%x)",
			   name, i, nseg, (const void *)p, len, (void *)ram, ENV_RAM_SIZE);
		sum[i >= c->nread] += len;
	}
	FUZZ_CHECK(sum[0] == c->read_len && sum[1] == c->write_len,
		   "chain-lengths: %s: segments add up to %llu + %llu, the chain says %llu + %llu",
		   name, (unsigned long long)sum[0], (unsigned long long)sum[1],
		   (unsigned long long)c->read_len, (unsigned long long)c->write_len);
	FUZZ_CHECK(c->ndesc >= nseg && c->ndesc <= 2 * ENV_MAX_IDS + CHAIN_MAX_SEGS,
		   "chain-lengths: %s: %u descriptors for %u segments", name, c->ndesc, nseg);
	FUZZ_CHECK(c->indirect_from == CHAIN_MAX_SEGS || c->indirect_from <= nseg,
		   "chain-lengths: %s: indirect_from %u past %u segments", name, c->indirect_from,
		   nseg);
	if (e->layout->nqueues == 1)
		FUZZ_CHECK(c->in_id == CHAIN_NO_ID, "chain-lengths: %s: in_id %u on a modern ring",
			   name, c->in_id);
	if (k == ENV_JOINED)
		return;
	/* Draft III: the in queue's buffers are all writable, the out queue's readable. */
	if (e->q[k].layout == LG_RING_DRAFT3)
		FUZZ_CHECK(
			e->q[k].d3.in ? !c->nread : !c->nwrite,
			"chain-lengths: draft3: a chain from the %s queue has %u readable and %u "
			"writable segments",
			e->q[k].d3.in ? "in" : "out", c->nread, c->nwrite);
	/* A chain from one queue carries that queue's id, and only that. */
	for (unsigned int j = 0; j < e->layout->nqueues; j++) {
		uint32_t id = chain_id(e, c, j);

		FUZZ_CHECK(
			j == k ? id < e->nids : id == CHAIN_NO_ID,
			"chain-lengths: %s: a chain from queue %u has id %u on queue %u (%u ids)",
			name, k, id, j, e->nids);
	}
}

/* ---- the device operations --------------------------------------------- */

static unsigned int pick_queue(const struct ring_env *e, uint8_t arg)
{
	return arg % e->layout->nqueues;
}

static void op_pop(struct ring_env *e, struct fuzz_input *in)
{
	uint8_t arg = fuzz_u8(in);
	unsigned int k = pick_queue(e, arg), s = (arg >> 1) % ENV_SLOTS;
	bool was_broken = broken(e);
	int8_t enabled = e->enabled[k];
	struct ring_area a[D_MAX];
	unsigned int na;
	int r;

	/* (Asked before the pop, which may change the answer.) */
	if (e->layout->enable_binds_pop && !e->layout->enable_binds_pop(e, k))
		enabled = -1;
	ring_env_drop_slot(e, s);
	ring_env_device_begin(e, a, &na);
	r = queue_pop(&e->q[k], &e->slot[s]);
	ring_env_device_end(e, a, na);

	TRACE("pop queue %u slot %u: %d (id %u in_id %u, %u+%u segs)\n", k, s, r, e->slot[s].id,
	      e->slot[s].in_id, e->slot[s].nread, e->slot[s].nwrite);
	FUZZ_CHECK(r >= -1 && r <= 1, "%s: pop returned %d", e->layout->name, r);
	FUZZ_CHECK(!was_broken || r == -1, "broken-quiet: %s: pop on a broken queue returned %d",
		   e->layout->name, r);
	FUZZ_CHECK((r == -1) == broken(e), "broken-message: %s: pop returned %d, broken is %d",
		   e->layout->name, r, broken(e));
	if (enabled >= 0 && !was_broken)
		FUZZ_CHECK(
			enabled ? r != 0 : r == 0,
			"enable-then-pop: %s: queue %u: enable_notify said %s, then pop returned %d",
			e->layout->name, k, enabled ? "true" : "false", r);
	if (r == 1) {
		ring_env_check_chain(e, &e->slot[s], k);
		ring_env_own_chain(e, s, k);
		e->enabled[k] = -1;
	}
	if (r != 0)
		forget_enables(e);
	if (e->layout->sync_model)
		e->layout->sync_model(e);
}

/*
 * Push @c through queue @k.  Whether the device must refuse it follows
 * from the model: every id it carries must be held by slot @s (-1: by
 * nobody, a forged chain).  An id held by someone else (another slot, the
 * device's own list, a chain we lost) is one the ring cannot tell from a
 * good one: that push would be the harness's mistake, so it is skipped.
 */
static void push(struct ring_env *e, unsigned int k, struct chain *c, int s, uint32_t written)
{
	bool was_broken = broken(e), held = false, unheld = false, empty, refuse, ok;
	struct ring_area a[D_MAX];
	unsigned int na;

	for (unsigned int j = 0; j < e->layout->nqueues; j++) {
		uint32_t id = chain_id(e, c, j);
		uint8_t o;

		if (id == CHAIN_NO_ID)
			continue;
		o = id < e->nids ? e->owner[j][id] : OWNER_NONE;
		if (o == OWNER_NONE)
			unheld = true;
		else if (s >= 0 && o == OWNER_SLOT + s)
			held = true;
		else
			return;
	}
	/* Refused: an id not held, or no id at all (unless that means "nothing"). */
	empty = !held && !unheld;
	refuse = unheld || (empty && !e->layout->empty_push_ok);

	ring_env_device_begin(e, a, &na);
	ok = queue_push(&e->q[k], c, written);
	FUZZ_CHECK(!ok || !refuse,
		   "push-not-held: %s: push of ids %u/%u, which the device does not hold, accepted",
		   e->layout->name, chain_id(e, c, 0),
		   e->layout->nqueues > 1 ? chain_id(e, c, 1) : CHAIN_NO_ID);
	/* A push the device must refuse, or one of nothing, may not write a byte. */
	ring_env_device_end(e, a, refuse || empty ? 0 : na);

	TRACE("push queue %u slot %d ids %u/%u written %u: %d\n", k, s, chain_id(e, c, 0),
	      e->layout->nqueues > 1 ? chain_id(e, c, 1) : CHAIN_NO_ID, written, ok);
	FUZZ_CHECK(!was_broken || !ok, "broken-quiet: %s: push on a broken queue accepted",
		   e->layout->name);
	FUZZ_CHECK(ok || broken(e), "push-not-held: %s: push refused, queue not broken",
		   e->layout->name);
	forget_enables(e);
	if (!ok || empty)
		return;
	for (unsigned int j = 0; j < e->layout->nqueues; j++) {
		uint32_t id = chain_id(e, c, j);

		if (id != CHAIN_NO_ID)
			e->owner[j][id] = OWNER_NONE;
	}
	if (e->layout->check_push)
		e->layout->check_push(e, c, written);
}

static void op_push(struct ring_env *e, struct fuzz_input *in)
{
	uint8_t arg = fuzz_u8(in);
	unsigned int s = arg % ENV_SLOTS;
	uint32_t written = fuzz_u32(in);

	/* Through the queue it came from: a draft3 chain says by its ids. */
	push(e, chain_id(e, &e->slot[s], 0) != CHAIN_NO_ID ? 0 : e->layout->nqueues - 1,
	     &e->slot[s], (int)s, written);
}

/* A chain no pop produced: an id the device may or may not hold. */
static void op_push_forged(struct ring_env *e, struct fuzz_input *in)
{
	static struct chain c;
	unsigned int k = pick_queue(e, fuzz_u8(in));
	uint16_t id = fuzz_u16(in);
	uint32_t written = fuzz_u32(in);

	chain_reset(&c);
	c.write_len = written;
	if (id != 0xffff) {
		if (e->q[k].layout == LG_RING_DRAFT3 && e->q[k].d3.in)
			c.in_id = id;
		else
			c.id = id;
	}
	push(e, k, &c, -1, written);
}

static void op_enable(struct ring_env *e, struct fuzz_input *in, bool enable)
{
	unsigned int k = pick_queue(e, fuzz_u8(in));
	bool was_broken = broken(e), r = false;
	struct ring_area a[D_MAX];
	unsigned int na;

	ring_env_device_begin(e, a, &na);
	if (enable)
		r = queue_enable_notify(&e->q[k]);
	else
		queue_disable_notify(&e->q[k]);
	ring_env_device_end(e, a, na);

	TRACE("%s queue %u: %d\n", enable ? "enable_notify" : "disable_notify", k, r);
	FUZZ_CHECK(!was_broken || !r, "broken-quiet: %s: enable_notify on a broken queue said true",
		   e->layout->name);
	/* Its own store may have moved something the other queue saw. */
	forget_enables(e);
	if (enable && !broken(e))
		e->enabled[k] = r;
}

static void op_query(struct ring_env *e, struct fuzz_input *in, unsigned int which)
{
	unsigned int k = pick_queue(e, fuzz_u8(in));
	bool was_broken = broken(e);
	struct ring_area a[D_MAX];
	unsigned int na;
	int r;

	ring_env_device_begin(e, a, &na);
	if (which == 0)
		r = queue_should_signal(&e->q[k]);
	else if (which == 1)
		r = queue_has_buffers(&e->q[k]);
	else
		r = queue_depth(&e->q[k]);
	ring_env_device_end(e, a, na);

	TRACE("%s queue %u: %d\n",
	      which == 0   ? "should_signal"
	      : which == 1 ? "has_buffers"
			   : "depth",
	      k, r);
	FUZZ_CHECK(!was_broken || r <= 0, "broken-quiet: %s: query %u on a broken queue said %d",
		   e->layout->name, which, r);
	/* should_signal may find a rule broken (packed: a reserved flags value). */
	if (broken(e))
		forget_enables(e);
	if (which == 1 && e->layout->has_buffers_is_enable && e->enabled[k] >= 0)
		FUZZ_CHECK(r == e->enabled[k],
			   "enable-then-pop: %s: enable_notify said %d, has_buffers %d",
			   e->layout->name, e->enabled[k], r);
	if (which == 2)
		FUZZ_CHECK(r >= -1 && r <= (int)e->nids, "%s: depth %d of a queue of %u",
			   e->layout->name, r, e->nids);
}

/* Modern only: vhost-user's SET_VRING_BASE (and a misuse of it later on). */
static void op_resume(struct ring_env *e, struct fuzz_input *in)
{
	uint32_t pos = fuzz_u32(in);
	bool was_broken = broken(e), ok;
	struct ring_area a[D_MAX];
	unsigned int na;

	if (e->layout->nqueues != 1 || !e->ready)
		return;
	ring_env_device_begin(e, a, &na);
	ok = queue_resume(&e->q[0], pos);
	ring_env_device_end(e, a, na);
	TRACE("resume at 0x%x: %d\n", pos, ok);
	FUZZ_CHECK(!was_broken || !ok, "broken-quiet: %s: resume of a broken queue said true",
		   e->layout->name);
	FUZZ_CHECK(ok || broken(e), "%s: resume refused, queue not broken", e->layout->name);
	forget_enables(e);
}

/* Guest writes of any width anywhere in RAM (most of it is data). */
static void op_write(struct ring_env *e, struct fuzz_input *in, unsigned int width)
{
	uint16_t gpa = fuzz_u16(in) % ENV_RAM_SIZE;
	uint8_t v[8];

	fuzz_bytes(in, v, width);
	ring_env_write(e, gpa, v, width);
}

static void op_fill(struct ring_env *e, struct fuzz_input *in)
{
	uint16_t gpa = fuzz_u16(in) % ENV_RAM_SIZE;
	uint8_t len = fuzz_u8(in), v[256];

	fuzz_bytes(in, v, len);
	ring_env_write(e, gpa, v, len);
}

static void common_op(struct ring_env *e, unsigned int op, struct fuzz_input *in)
{
	switch (op) {
	case 0:
	case 1:
		op_pop(e, in); /* twice as likely: the deep states are behind pops */
		break;
	case 2:
		op_push(e, in);
		break;
	case 3:
		op_push_forged(e, in);
		break;
	case 4:
	case 5:
		op_enable(e, in, op == 5);
		break;
	case 6:
	case 7:
	case 8:
		op_query(e, in, op - 6);
		break;
	case 9:
		op_resume(e, in);
		break;
	case 10:
		op_write(e, in, 1 << (fuzz_u8(in) & 3));
		break;
	default:
		op_fill(e, in);
	}
}

void ring_env_run(struct ring_env *e, struct fuzz_input *in)
{
	unsigned int after = 0;

	/* A few calls show a broken queue stays quiet; hundreds show nothing more. */
	for (unsigned int n = 0; n < ENV_MAX_OPS && fuzz_left(in) && after < 32; n++) {
		uint8_t op = fuzz_u8(in);
		unsigned int nops = NCOMMON + e->layout->nops;
		bool was_broken = broken(e);

		op %= nops;
		if (op >= NCOMMON)
			TRACE("%s op %u\n", e->layout->name, op - NCOMMON);
		if (op < NCOMMON)
			common_op(e, op, in);
		else
			e->layout->op(e, op - NCOMMON, in);
		check_state(e, was_broken);
		after += was_broken;
	}
	if (e->protected)
		protect(false);
	if (broken(e))
		TRACE("broken: %s\n", queue_error(&e->q[0]));
	for (unsigned int k = 0; k < e->layout->nqueues; k++)
		queue_destroy(&e->q[k]);
}
