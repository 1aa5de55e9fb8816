// SPDX-License-Identifier: GPL-2.0
/*
 * trace_output.c: the merged events as readable lines, and as a Chrome
 * trace (docs/trace-format.md) with one flow per buffer linking its steps:
 * add -> notify -> kick -> pop -> used -> signal -> signal taken -> reap.
 *
 * The guest's events are guest data: a device index, queue or type we do
 * not know is printed as such ("dev?"), never used to index anything
 * without a check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "trace.h"

#define NO_QUEUE 0xff

static uint64_t t0, khz;

static double usec(uint64_t tsc)
{
	return tsc < t0 ? 0.0 : (double)(tsc - t0) * 1000.0 / (double)khz;
}

static const char *step_name(uint8_t type)
{
	switch (type) {
	case LG_TR_ADD:
		return "add";
	case LG_TR_PUBLISH:
		return "publish";
	case LG_TR_NOTIFY:
		return "notify";
	case LG_TR_SIGNAL_TAKEN:
		return "signal-taken";
	case LG_TR_REAP:
		return "reap";
	case LG_TR_KICK:
		return "kick";
	case LG_TR_POP:
		return "pop";
	case LG_TR_IO:
		return "io";
	case LG_TR_USED:
		return "used";
	case LG_TR_SIGNAL:
		return "signal";
	case LG_TR_WAIT:
		return "wait";
	case LG_TR_WAKE:
		return "wake";
	case LG_TR_STATUS:
		return "status";
	case LG_TR_ERROR:
		return "error";
	default:
		return NULL; /* descriptors belong to the event before them */
	}
}

static bool driver_side(uint8_t type)
{
	return type < LG_TR_KICK;
}

static struct device *event_device(const struct lg_trace_event *e)
{
	return e->dev == LG_TR_NO_DEV ? NULL : device_by_index(e->dev);
}

static const char *queue_name(const struct lg_trace_event *e)
{
	struct device *dev = event_device(e);

	if (!dev || e->queue == NO_QUEUE || e->queue >= dev->nqueues)
		return NULL;
	return dev->queue_names[e->queue];
}

/* "blk0/requestq", "blk0", "vcpu", or "dev9?" for an index we do not have. */
static void where(const struct lg_trace_event *e, char *buf, size_t size)
{
	struct device *dev = event_device(e);
	const char *q = queue_name(e);

	if (e->dev == LG_TR_NO_DEV)
		snprintf(buf, size, "vcpu");
	else if (!dev)
		snprintf(buf, size, "dev%u?", e->dev);
	else if (q)
		snprintf(buf, size, "%s/%s", dev->name, q);
	else
		snprintf(buf, size, "%s", dev->name);
}

/* --trace=FILTER: comma-separated device or device/queue names ("vcpu" too). */
static bool selected(const struct lg_trace_event *e, const char *filter)
{
	char here[48], dev_only[24];
	const char *p = filter;
	size_t n;

	if (!filter || !*filter)
		return true;
	where(e, here, sizeof(here));
	snprintf(dev_only, sizeof(dev_only), "%.*s", (int)strcspn(here, "/"), here);
	while (*p) {
		n = strcspn(p, ",");
		if ((strlen(here) == n && !strncmp(p, here, n)) ||
		    (strlen(dev_only) == n && !strncmp(p, dev_only, n)))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Why a device did not signal, or a driver did not notify: each layout's own rule. */
static const char *signal_why(const struct lg_trace_event *e)
{
	struct device *dev = event_device(e);

	if (!dev)
		return "?";
	switch (dev->ring.layout) {
	case LG_RING_DRAFT3:
		return "the guest set NO_SIGNAL";
	case LG_RING_SPLIT:
		return device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX)
			       ? "used_event not reached"
			       : "the guest set VRING_AVAIL_F_NO_INTERRUPT";
	default:
		return device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX)
			       ? "driver area: DISABLE, or DESC not reached"
			       : "driver area: DISABLE";
	}
}

static const char *notify_why(const struct lg_trace_event *e)
{
	struct device *dev = event_device(e);

	if (!dev)
		return "?";
	switch (dev->ring.layout) {
	case LG_RING_DRAFT3:
		return "the device is running (NO_NOTIFY)";
	case LG_RING_SPLIT:
		return device_has_feature(dev, VIRTIO_RING_F_EVENT_IDX)
			       ? "avail_event not reached"
			       : "the device set VRING_USED_F_NO_NOTIFY";
	default:
		return "device area: DISABLE, or DESC not reached";
	}
}

/* A ring position: an index, or on a packed ring a slot and wrap counter. */
static const char *pos(const struct lg_trace_event *e, uint32_t idx, char *buf, size_t size)
{
	struct device *dev = event_device(e);

	if (dev && dev->ring.layout == LG_RING_PACKED)
		snprintf(buf, size, "slot %u wrap %u", idx & 0x7fff, idx >> 15 & 1);
	else
		snprintf(buf, size, "%u", idx);
	return buf;
}

static void details(const struct lg_trace_event *e, const struct trace_store *s, char *buf,
		    size_t size)
{
	char p[32];

	switch (e->type) {
	case LG_TR_ADD:
		snprintf(buf, size, "id %u at %s, %u bytes", e->id, pos(e, e->idx, p, sizeof(p)),
			 e->len);
		break;
	case LG_TR_PUBLISH:
		if (event_device(e) && event_device(e)->ring.layout == LG_RING_PACKED)
			snprintf(buf, size, "%u slots made available, next %s", e->len,
				 pos(e, e->idx, p, sizeof(p)));
		else
			snprintf(buf, size, "avail index %u (%u new)", e->idx, e->len);
		break;
	case LG_TR_NOTIFY:
		snprintf(buf, size, e->flags & LG_TR_F_SENT ? "NOTIFY sent" : "NOTIFY skipped: %s",
			 notify_why(e));
		break;
	case LG_TR_SIGNAL_TAKEN:
		snprintf(buf, size, "pending bit taken");
		break;
	case LG_TR_REAP:
		snprintf(buf, size, "id %u, %u bytes written, %.1f us after add; next %s", e->id,
			 e->len, (double)e->addr * 1000.0 / (double)khz,
			 pos(e, e->idx, p, sizeof(p)));
		break;
	case LG_TR_KICK:
		snprintf(buf, size, "NOTIFY received via %s (%u)",
			 e->flags & LG_TR_F_EXIT   ? "vCPU exit"
			 : e->flags & LG_TR_F_STUB ? "the stub"
						   : "ioeventfd",
			 e->len);
		break;
	case LG_TR_POP:
		snprintf(buf, size, "id %u, %lu descs, %u bytes; next %s", e->id,
			 (unsigned long)e->addr, e->len, pos(e, e->idx, p, sizeof(p)));
		break;
	case LG_TR_ADD_DESC:
	case LG_TR_POP_DESC:
		snprintf(buf, size, "%s %7u @ %#lx%s", e->flags & LG_TR_F_WRITE ? "W" : "R", e->len,
			 (unsigned long)e->addr, e->flags & LG_TR_F_INDIRECT ? " (indirect)" : "");
		break;
	case LG_TR_IO:
		snprintf(buf, size, "id %u: %u bytes, status %u", e->id, e->len, e->flags);
		break;
	case LG_TR_USED:
		snprintf(buf, size, "id %u, %u bytes written, used %s", e->id, e->len,
			 pos(e, e->idx, p, sizeof(p)));
		break;
	case LG_TR_SIGNAL:
		snprintf(buf, size,
			 e->flags & LG_TR_F_SENT ? "signal sent" : "signal suppressed: %s",
			 signal_why(e));
		break;
	case LG_TR_WAIT:
		snprintf(buf, size, "vCPU waits for a signal");
		break;
	case LG_TR_WAKE:
		snprintf(buf, size, "vCPU runs again after %.1f us",
			 (double)e->addr * 1000.0 / (double)khz);
		break;
	case LG_TR_STATUS:
		snprintf(buf, size, "device status %#x", e->len);
		break;
	case LG_TR_ERROR:
		snprintf(buf, size, "%s", e->id < s->nerrors ? s->errors[e->id] : "?");
		break;
	default:
		snprintf(buf, size, "unknown event type %u", e->type);
	}
}

static bool selected(const struct lg_trace_event *e, const char *filter);

/* Times count from the first event shown. */
static void set_clock(const struct trace_store *s, const char *filter)
{
	khz = s->guest_tsc.host_khz ? s->guest_tsc.host_khz : 1;
	t0 = 0;
	for (uint64_t i = 0; i < s->n; i++) {
		if (selected(&s->ev[i], filter)) {
			t0 = s->ev[i].tsc;
			break;
		}
	}
}

void trace_write_text(const struct trace_store *s, const char *filter)
{
	bool shown = false; /* whether the event a descriptor belongs to was shown */

	set_clock(s, filter);
	fprintf(stderr, "%12s  %-6s  %-18s %-12s %s\n", "time (us)", "side", "where", "step",
		"details");
	for (uint64_t i = 0; i < s->n; i++) {
		const struct lg_trace_event *e = &s->ev[i];
		char at[48], what[160];
		const char *step = step_name(e->type);

		details(e, s, what, sizeof(what));
		if (e->type == LG_TR_ADD_DESC || e->type == LG_TR_POP_DESC) {
			if (shown)
				fprintf(stderr, "%12s  %-6s  %-18s %-12s %s\n", "", "", "",
					"  desc", what);
			continue;
		}
		shown = selected(e, filter);
		if (!shown)
			continue;
		where(e, at, sizeof(at));
		fprintf(stderr, "%12.3f  %-6s  %-18s %-12s %s\n", usec(e->tsc),
			driver_side(e->type) ? "guest" : "device", at, step ? step : "?", what);
	}
}

/* ---- JSON --------------------------------------------------------------- */

/* Requests: (dev, queue, id) -> the req number of the buffer in flight. */
struct req_slot {
	uint32_t key; /* dev << 24 | queue << 16 | id, + 1 (0 = empty) */
	uint32_t req;
	uint8_t stage; /* what it waits for: notify, kick, signal, taken */
	double add_ts, pop_ts;
};

enum { WAIT_NONE, WAIT_NOTIFY, WAIT_KICK, WAIT_SIGNAL, WAIT_TAKEN };

struct reqs {
	struct req_slot *slot;
	uint32_t cap, used, next;
};

static uint32_t req_key(const struct lg_trace_event *e)
{
	return ((uint32_t)e->dev << 24 | (uint32_t)e->queue << 16 | (e->id & 0xffff)) + 1;
}

static struct req_slot *req_find(struct reqs *r, uint32_t key, bool create)
{
	uint32_t i;

	if (create && (r->used + 1) * 2 > r->cap) {
		struct reqs bigger = { calloc(r->cap ? r->cap * 2 : 1024, sizeof(struct req_slot)),
				       r->cap ? r->cap * 2 : 1024, 0, r->next };

		if (!bigger.slot)
			die("trace: out of memory");
		for (uint32_t j = 0; j < r->cap; j++) {
			if (r->slot[j].key)
				*req_find(&bigger, r->slot[j].key, true) = r->slot[j];
		}
		free(r->slot);
		*r = bigger;
	}
	if (!r->cap)
		return NULL;
	for (i = key * 2654435761u & (r->cap - 1); r->slot[i].key; i = (i + 1) & (r->cap - 1)) {
		if (r->slot[i].key == key)
			return &r->slot[i];
	}
	if (!create)
		return NULL;
	r->slot[i].key = key;
	r->used++;
	return &r->slot[i];
}

/* Remove by re-inserting the rest of the cluster (linear probing). */
static void req_remove(struct reqs *r, struct req_slot *gone)
{
	uint32_t i = (uint32_t)(gone - r->slot);

	gone->key = 0;
	r->used--;
	for (i = (i + 1) & (r->cap - 1); r->slot[i].key; i = (i + 1) & (r->cap - 1)) {
		struct req_slot moved = r->slot[i];

		r->slot[i].key = 0;
		r->used--;
		*req_find(r, moved.key, true) = moved;
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int pid_of(const struct lg_trace_event *e)
{
	return driver_side(e->type) ? 1 : 2;
}

static int tid_of(const struct lg_trace_event *e)
{
	if (e->dev == LG_TR_NO_DEV)
		return 0;
	if (e->queue == NO_QUEUE || !queue_name(e))
		return 16 * e->dev + 15;
	return 16 * e->dev + e->queue + 1;
}

static void flow(FILE *f, const char *ph, uint32_t req, const struct lg_trace_event *e, double ts)
{
	fprintf(f,
		",\n{\"ph\":\"%s\",\"cat\":\"flow\",\"name\":\"request\",\"id\":%u,\"pid\":%d,"
		"\"tid\":%d,\"ts\":%.3f,\"bp\":\"e\"}",
		ph, req, pid_of(e), tid_of(e), ts);
}

static void descs_json(FILE *f, const struct trace_store *s, uint64_t i)
{
	fprintf(f, ",\"descs\":[");
	for (uint64_t j = i + 1; j < s->n; j++) {
		const struct lg_trace_event *d = &s->ev[j];

		if (d->type != LG_TR_ADD_DESC && d->type != LG_TR_POP_DESC)
			break;
		fprintf(f, "%s{\"addr\":\"%#lx\",\"len\":%u,\"dir\":\"%s\",\"indirect\":%s}",
			j == i + 1 ? "" : ",", (unsigned long)d->addr, d->len,
			d->flags & LG_TR_F_WRITE ? "W" : "R",
			d->flags & LG_TR_F_INDIRECT ? "true" : "false");
	}
	fprintf(f, "]");
}

static void metadata(FILE *f)
{
	fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":"
		   "\"guest (driver side)\"}},\n");
	fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":2,\"args\":{\"name\":"
		   "\"launcher (device side)\"}},\n");
	fprintf(f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":2,\"tid\":0,\"args\":{\"name\":"
		   "\"vcpu\"}}");
	for (unsigned int d = 0; d < device_count(); d++) {
		struct device *dev = device_by_index(d);

		for (int pid = 1; pid <= 2; pid++) {
			fprintf(f,
				",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%u,"
				"\"args\":{\"name\":\"%s\"}}",
				pid, 16 * d + 15, dev->name);
			for (unsigned int q = 0; q < dev->nqueues; q++)
				fprintf(f,
					",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,"
					"\"tid\":%u,\"args\":{\"name\":\"%s/%s\"}}",
					pid, 16 * d + q + 1, dev->name, dev->queue_names[q]);
		}
	}
}

static void other_data(FILE *f, const struct trace_store *s)
{
	const struct timebase *g = &s->guest_tsc;

	fprintf(f,
		"\"otherData\":{\"tool\":\"lguest\",\"tsc_khz\":%lu,"
		"\"guest_tsc\":{\"khz\":%lu,\"offset\":%lld,\"offset_error\":%lu,"
		"\"source\":\"%s\",\"moved\":%lld},\"guest_dropped\":%lu,"
		"\"launcher_dropped\":%lu,\"devices\":[",
		(unsigned long)khz, (unsigned long)g->guest_khz,
		(long long)timebase_offset_signed(g), (unsigned long)g->error,
		g->source ? g->source : "", (long long)g->moved, (unsigned long)s->guest_dropped,
		(unsigned long)s->launcher_dropped);
	for (unsigned int d = 0; d < device_count(); d++) {
		struct device *dev = device_by_index(d);

		fprintf(f, "%s{\"index\":%u,\"name\":\"%s\",\"ring\":\"%s\",\"queues\":[",
			d ? "," : "", d, dev->name, layout_name(dev->ring.layout));
		for (unsigned int q = 0; q < dev->nqueues; q++)
			fprintf(f, "%s\"%s\"", q ? "," : "", dev->queue_names[q]);
		fprintf(f, "]}");
	}
	fprintf(f, "]},\n");
}

/* Every request of @dev waiting at @stage takes this device-wide step. */
static void advance_device(FILE *f, struct reqs *r, const struct lg_trace_event *e, double ts,
			   uint8_t stage, uint8_t next)
{
	for (uint32_t i = 0; i < r->cap; i++) {
		struct req_slot *q = &r->slot[i];

		if (q->key && (q->key - 1) >> 24 == e->dev && q->stage == stage) {
			flow(f, "t", q->req, e, ts);
			q->stage = next;
		}
	}
}

/* The step event itself, plus its request's flow and slices. */
static void step_json(FILE *f, const struct trace_store *s, struct reqs *r, uint64_t i)
{
	const struct lg_trace_event *e = &s->ev[i];
	struct device *dev = event_device(e);
	const char *q = queue_name(e);
	double ts = usec(e->tsc);
	struct req_slot *slot = NULL;
	char what[160];
	uint32_t req = 0;

	/* Which request this step belongs to, and its flow. */
	switch (e->type) {
	case LG_TR_ADD:
		slot = req_find(r, req_key(e), true);
		slot->req = ++r->next;
		slot->stage = WAIT_NOTIFY;
		slot->add_ts = ts;
		break;
	case LG_TR_POP:
	case LG_TR_IO:
	case LG_TR_USED:
	case LG_TR_REAP:
		slot = req_find(r, req_key(e), false);
		break;
	case LG_TR_NOTIFY:
		advance_device(f, r, e, ts, WAIT_NOTIFY,
			       e->flags & LG_TR_F_SENT ? WAIT_KICK : WAIT_NONE);
		break;
	case LG_TR_KICK:
		advance_device(f, r, e, ts, WAIT_KICK, WAIT_NONE);
		break;
	case LG_TR_SIGNAL:
		advance_device(f, r, e, ts, WAIT_SIGNAL,
			       e->flags & LG_TR_F_SENT ? WAIT_TAKEN : WAIT_NONE);
		break;
	case LG_TR_SIGNAL_TAKEN:
		advance_device(f, r, e, ts, WAIT_TAKEN, WAIT_NONE);
		break;
	}
	if (slot)
		req = slot->req;

	details(e, s, what, sizeof(what));
	fprintf(f,
		",\n{\"ph\":\"X\",\"cat\":\"ring\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,"
		"\"ts\":%.3f,\"dur\":0.1,\"args\":{\"side\":\"%s\",\"dev\":",
		step_name(e->type), pid_of(e), tid_of(e), ts,
		driver_side(e->type) ? "driver" : "device");
	if (dev)
		json_string(f, dev->name);
	else
		fprintf(f, e->dev == LG_TR_NO_DEV ? "null" : "\"dev%u?\"", e->dev);
	fprintf(f, ",\"queue\":");
	if (q)
		json_string(f, q);
	else
		fprintf(f, "null");
	fprintf(f, ",\"ring\":\"%s\",\"step\":\"%s\",\"text\":",
		dev ? layout_name(dev->ring.layout) : "", step_name(e->type));
	json_string(f, what);
	if (req)
		fprintf(f, ",\"req\":%u", req);
	switch (e->type) {
	case LG_TR_ADD:
	case LG_TR_POP:
		fprintf(f, ",\"id\":%u,\"idx\":%u,\"len\":%u", e->id, e->idx, e->len);
		descs_json(f, s, i);
		break;
	case LG_TR_PUBLISH:
		fprintf(f, ",\"idx\":%u,\"count\":%u", e->idx, e->len);
		break;
	case LG_TR_NOTIFY:
		fprintf(f, ",\"sent\":%s", e->flags & LG_TR_F_SENT ? "true" : "false");
		break;
	case LG_TR_REAP:
		fprintf(f, ",\"id\":%u,\"idx\":%u,\"len\":%u,\"latency_us\":%.3f", e->id, e->idx,
			e->len, (double)e->addr * 1000.0 / (double)khz);
		break;
	case LG_TR_KICK:
		fprintf(f, ",\"path\":\"%s\",\"count\":%u",
			e->flags & LG_TR_F_EXIT	  ? "exit"
			: e->flags & LG_TR_F_STUB ? "stub"
						  : "ioeventfd",
			e->len);
		break;
	case LG_TR_IO:
		fprintf(f, ",\"id\":%u,\"len\":%u,\"status\":%u", e->id, e->len, e->flags);
		break;
	case LG_TR_USED:
		fprintf(f, ",\"id\":%u,\"idx\":%u,\"len\":%u", e->id, e->idx, e->len);
		break;
	case LG_TR_SIGNAL:
		fprintf(f, ",\"sent\":%s", e->flags & LG_TR_F_SENT ? "true" : "false");
		if (!(e->flags & LG_TR_F_SENT)) {
			fprintf(f, ",\"why\":");
			json_string(f, signal_why(e));
		}
		break;
	case LG_TR_WAKE:
		fprintf(f, ",\"slept_us\":%.3f", (double)e->addr * 1000.0 / (double)khz);
		break;
	case LG_TR_STATUS:
		fprintf(f, ",\"status\":%u", e->len);
		break;
	case LG_TR_ERROR:
		fprintf(f, ",\"message\":");
		json_string(f, e->id < s->nerrors ? s->errors[e->id] : "?");
		break;
	}
	fprintf(f, "}}");

	if (!slot)
		return;
	/* The request's own flow and slices. */
	switch (e->type) {
	case LG_TR_ADD:
		flow(f, "s", req, e, ts);
		fprintf(f,
			",\n{\"ph\":\"b\",\"cat\":\"request\",\"name\":\"%s/%s #%u\",\"id\":%u,"
			"\"pid\":1,\"tid\":%d,\"ts\":%.3f}",
			dev ? dev->name : "?", q ? q : "?", e->id, req, tid_of(e), ts);
		break;
	case LG_TR_POP:
		flow(f, "t", req, e, ts);
		slot->stage = WAIT_NONE; /* popped without a notify: the device was running */
		slot->pop_ts = ts;
		fprintf(f,
			",\n{\"ph\":\"b\",\"cat\":\"request\",\"name\":\"%s/%s #%u\",\"id\":%u,"
			"\"pid\":2,\"tid\":%d,\"ts\":%.3f}",
			dev ? dev->name : "?", q ? q : "?", e->id, req, tid_of(e), ts);
		break;
	case LG_TR_USED:
		flow(f, "t", req, e, ts);
		slot->stage = WAIT_SIGNAL;
		fprintf(f,
			",\n{\"ph\":\"e\",\"cat\":\"request\",\"name\":\"%s/%s #%u\",\"id\":%u,"
			"\"pid\":2,\"tid\":%d,\"ts\":%.3f}",
			dev ? dev->name : "?", q ? q : "?", e->id, req, tid_of(e), ts + 0.1);
		break;
	case LG_TR_REAP:
		flow(f, "f", req, e, ts);
		fprintf(f,
			",\n{\"ph\":\"e\",\"cat\":\"request\",\"name\":\"%s/%s #%u\",\"id\":%u,"
			"\"pid\":1,\"tid\":%d,\"ts\":%.3f}",
			dev ? dev->name : "?", q ? q : "?", e->id, req, tid_of(e), ts + 0.1);
		req_remove(r, slot);
		break;
	default:
		break;
	}
}

bool trace_write_json(const struct trace_store *s, const char *filter, FILE *f)
{
	struct reqs r = { 0 };
	bool ok;

	set_clock(s, filter);
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\n");
	other_data(f, s);
	fprintf(f, "\"traceEvents\":[\n");
	metadata(f);
	for (uint64_t i = 0; i < s->n; i++) {
		if (step_name(s->ev[i].type) && selected(&s->ev[i], filter))
			step_json(f, s, &r, i);
	}
	fprintf(f, "\n]}\n");
	free(r.slot);
	ok = !ferror(f);
	return fclose(f) == 0 && ok;
}
