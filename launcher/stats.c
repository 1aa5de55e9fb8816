// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c: the counters at exit.  The table is what -v has always printed
 * (the end-to-end tests parse it); the JSON has the same numbers plus what
 * a program comparing runs wants: each device's layout, queue sizes and
 * ring memory footprint, exits by reason, wall and vCPU time.
 */
#include <errno.h>
#include <stdio.h>

#include "device.h"
#include "draft3.h"
#include "stats.h"

void stats_print(const struct run_stats *r)
{
	const struct vcpu_stats *v = r->vcpu;

	devices_print_stats();
	fprintf(stderr,
		"vcpu     exits %lu: notify %lu, console %lu, wait %lu, status %lu, "
		"other %lu; wall %.3f s\n",
		v->exits, v->hcall_exits[LG_HC_NOTIFY], v->hcall_exits[LG_HC_CONSOLE],
		v->hcall_exits[LG_HC_WAIT], v->hcall_exits[LG_HC_STATUS], v->other_exits,
		r->wall_s);
}

/* Bytes of ring memory one queue of @dev occupies (what the layouts cost in RAM). */
static unsigned long ring_bytes(const struct device *dev, unsigned int q)
{
	unsigned long n;

	switch (dev->ring.layout) {
	case LG_RING_DRAFT3:
		return 3 * D3_PAGE_SIZE; /* desc, avail and used page per queue */
	case LG_RING_SPLIT:
		n = dev->queue[q].ready ? dev->queue[q].split.size : 0;
		/* desc 16n; avail 4 + 2n + used_event 2; used 4 + 8n + avail_event 2 */
		return n ? 16 * n + (6 + 2 * n) + (6 + 8 * n) : 0;
	default:
		n = dev->queue[q].ready ? dev->queue[q].packed.size : 0;
		return n ? 16 * n + 4 + 4 : 0; /* ring + driver and device event areas */
	}
}

static unsigned int queue_size(const struct device *dev, unsigned int q)
{
	if (dev->ring.layout == LG_RING_DRAFT3)
		return D3_NUM_DESCS;
	if (!dev->queue[q].ready)
		return 0;
	return dev->ring.layout == LG_RING_SPLIT ? dev->queue[q].split.size
						 : dev->queue[q].packed.size;
}

static void device_json(FILE *f, const struct device *dev)
{
	const struct device_stats *s = &dev->stats;

	fprintf(f,
		"    {\"name\": \"%s\", \"ring\": \"%s\", \"features\": \"%#lx\", \"broken\": %s,\n"
		"     \"notifies\": %lu, \"notify_exits\": %lu, \"chains\": %lu, \"descs\": %lu,\n"
		"     \"bytes_from_guest\": %lu, \"bytes_to_guest\": %lu, \"bounce_bytes\": %lu,\n"
		"     \"header_bytes\": %lu, \"signals\": %lu, \"signals_suppressed\": %lu,\n"
		"     \"wakeups\": %lu, \"max_outstanding\": %lu, \"notify_skipped_by_guest\": %lu,\n"
		"     \"polls_found\": %lu, \"polls_expired\": %lu, \"device_cpu_s\": %.6f,\n     ",
		dev->name, layout_name(dev->ring.layout), (unsigned long)dev->features,
		dev->broken ? "true" : "false", s->notifies, s->notify_exits, s->chains, s->descs,
		s->bytes_read, s->bytes_written, s->bounce_bytes, s->header_bytes, s->signals,
		s->signals_suppressed, s->wakeups, s->max_outstanding,
		(unsigned long)devices_notify_skipped(dev->index), s->polls_found, s->polls_expired,
		(double)(s->cpu_ns + s->helper_cpu_ns) / 1e9);
	if (dev->ops->json)
		dev->ops->json(dev, f);
	fprintf(f, "\"queues\": [");
	for (unsigned int q = 0; q < dev->nqueues; q++)
		fprintf(f,
			"%s\n       {\"name\": \"%s\", \"size\": %u, \"ring_bytes\": %lu, "
			"\"popped\": %lu, \"descs\": %lu, \"used\": %lu}",
			q ? "," : "", dev->queue_names[q], queue_size(dev, q), ring_bytes(dev, q),
			(unsigned long)dev->queue[q].popped, (unsigned long)dev->queue[q].descs,
			(unsigned long)dev->queue[q].used);
	fprintf(f, "]}");
}

bool stats_write_json(const struct run_stats *r, FILE *f)
{
	const struct vcpu_stats *v = r->vcpu;
	bool ok;

	fprintf(f,
		"{\n  \"backend\": \"%s\",\n  \"exit_status\": %d,\n  \"wall_s\": %.6f,\n"
		"  \"vcpu_cpu_s\": %.6f,\n",
		r->backend, r->exit_status, r->wall_s, r->vcpu_cpu_s);
	fprintf(f,
		"  \"guest_tsc\": {\"khz\": %lu, \"host_khz\": %lu, \"offset\": %lld, "
		"\"offset_error\": %lu, \"source\": \"%s\", \"moved\": %lld},\n",
		(unsigned long)r->guest_tsc->guest_khz, (unsigned long)r->guest_tsc->host_khz,
		(long long)timebase_offset_signed(r->guest_tsc), (unsigned long)r->guest_tsc->error,
		r->guest_tsc->source, (long long)r->guest_tsc->moved);
	fprintf(f,
		"  \"vcpu_exits\": {\"total\": %lu, \"notify\": %lu, \"console\": %lu, "
		"\"wait\": %lu, \"shutdown\": %lu, \"crash\": %lu, \"status\": %lu, "
		"\"other\": %lu},\n  \"devices\": [\n",
		v->exits, v->hcall_exits[LG_HC_NOTIFY], v->hcall_exits[LG_HC_CONSOLE],
		v->hcall_exits[LG_HC_WAIT], v->hcall_exits[LG_HC_SHUTDOWN],
		v->hcall_exits[LG_HC_CRASH], v->hcall_exits[LG_HC_STATUS], v->other_exits);
	for (unsigned int i = 0; i < device_count(); i++) {
		device_json(f, device_by_index(i));
		fprintf(f, i + 1 < device_count() ? ",\n" : "\n");
	}
	fprintf(f, "  ]\n}\n");
	ok = !ferror(f);
	return fclose(f) == 0 && ok;
}
