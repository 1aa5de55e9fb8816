// SPDX-License-Identifier: GPL-2.0
/*
 * trace_store.c: the device side's trace events, kept in memory (see
 * trace.h).  Any program that runs our device models records here: the
 * launcher, which also drains the guest's ring into the same store
 * (trace.c), and lguest-vhost-blk.
 *
 * Events come from several threads (device threads, the vCPU loop), so
 * they go into one array under a mutex: tracing is for watching, not for
 * benchmarks, and a mutex is simple and fair.
 */
#include <stdlib.h>
#include <string.h>

#include "trace.h"

bool trace_on;
struct trace_store trace_events;
pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t cap;
static const struct guest_mem *mem; /* whose addresses POP_DESC events carry */

void trace_store_open(const struct guest_mem *m)
{
	mem = m;
	trace_on = true;
}

void trace_store_clear(void)
{
	struct trace_store *s = &trace_events;

	pthread_mutex_lock(&trace_lock);
	for (unsigned int i = 0; i < s->nerrors; i++)
		free(s->errors[i]);
	free(s->errors);
	free(s->ev);
	s->errors = NULL;
	s->ev = NULL;
	s->n = cap = 0;
	s->nerrors = 0;
	s->launcher_dropped = 0;
	pthread_mutex_unlock(&trace_lock);
}

void trace_append(const struct lg_trace_event *e)
{
	struct trace_store *s = &trace_events;

	if (s->n == cap) {
		uint64_t ncap = cap ? cap * 2 : 4096;
		struct lg_trace_event *ev;

		if (ncap > TRACE_MAX_EVENTS || !(ev = realloc(s->ev, ncap * sizeof(*ev)))) {
			s->launcher_dropped++;
			return;
		}
		s->ev = ev;
		cap = ncap;
	}
	s->ev[s->n++] = *e;
}

void trace_record_at(uint64_t tsc, uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags,
		     uint32_t id, uint32_t idx, uint32_t len, uint64_t addr)
{
	struct lg_trace_event e = { tsc, type, dev, queue, flags, id, idx, len, addr };

	pthread_mutex_lock(&trace_lock);
	trace_append(&e);
	pthread_mutex_unlock(&trace_lock);
}

void trace_record(uint8_t type, uint8_t dev, uint8_t queue, uint8_t flags, uint32_t id,
		  uint32_t idx, uint32_t len, uint64_t addr)
{
	trace_record_at(trace_rdtsc(), type, dev, queue, flags, id, idx, len, addr);
}

void trace_record_pop(uint8_t dev, uint8_t queue, uint32_t id, uint32_t idx,
		      const struct iovec *seg, unsigned int nseg, unsigned int nread,
		      unsigned int ndesc, unsigned int indirect_from)
{
	struct lg_trace_event e = { trace_rdtsc(), LG_TR_POP, dev, queue, 0, id, idx, 0, ndesc };

	for (unsigned int i = 0; i < nseg; i++)
		e.len += seg[i].iov_len;
	pthread_mutex_lock(&trace_lock);
	trace_append(&e);
	for (unsigned int i = 0; i < nseg; i++) {
		/* The segments point into guest RAM: the trace shows where, guest-physical. */
		e.type = LG_TR_POP_DESC;
		e.flags = (i >= nread ? LG_TR_F_WRITE : 0) |
			  (i >= indirect_from ? LG_TR_F_INDIRECT : 0);
		e.addr = guest_gpa(mem, seg[i].iov_base);
		e.len = (uint32_t)seg[i].iov_len;
		trace_append(&e);
	}
	pthread_mutex_unlock(&trace_lock);
}

void trace_record_error(uint8_t dev, const char *msg)
{
	struct trace_store *s = &trace_events;
	char *copy = strdup(msg);
	char **errors;

	pthread_mutex_lock(&trace_lock);
	errors = realloc(s->errors, (s->nerrors + 1) * sizeof(*errors));
	if (copy && errors) {
		s->errors = errors;
		s->errors[s->nerrors] = copy;
		struct lg_trace_event e = { trace_rdtsc(), LG_TR_ERROR, dev, 0, 0,
					    s->nerrors++,  0,		0,   0 };
		trace_append(&e);
	} else {
		free(copy);
		if (errors)
			s->errors = errors;
		s->launcher_dropped++;
	}
	pthread_mutex_unlock(&trace_lock);
}
