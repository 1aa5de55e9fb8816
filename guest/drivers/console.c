// SPDX-License-Identifier: GPL-2.0
/*
 * console.c: the console driver, on any ring layout.  Queue 0 receives
 * (draft3's in queue, virtio's receiveq), queue 1 transmits.
 *
 * Output: a handful of page-sized buffers.  Text accumulates in the current
 * one; on a newline (or when it fills) the buffer goes on the out queue and
 * we NOTIFY, unless the launcher's console thread says it is already
 * running.  When every buffer is in flight we wait for the launcher to
 * hand one back.
 *
 * Input: only when the shell asks for it do we post buffers on the in
 * queue; the launcher fills them from stdin (so a guest given a command
 * never steals the launcher's stdin).  A buffer coming back empty means
 * stdin reached end of file.
 */
#include "console.h"
#include "devices.h"
#include "hcall.h"

#define OUT_BUFS    8
#define IN_BUFS	    4
#define IN_BUF_SIZE 256

struct out_buf {
	char *page;
	uint32_t len;
	bool in_flight;
};

#define RX 0
#define TX 1

static struct lg_device con;
static bool ready;
static struct out_buf out[OUT_BUFS];
static unsigned int cur; /* buffer being filled */

static char *in_page; /* IN_BUFS buffers of IN_BUF_SIZE */
static bool input_posted, input_eof;
static char *in_data;
static uint32_t in_len, in_pos;

void console_init(unsigned int index)
{
	if (ready || !lg_device_init(&con, index, 2, 0))
		return;
	for (unsigned int i = 0; i < OUT_BUFS; i++) {
		out[i].page = alloc_pages(1);
		if (!out[i].page)
			panic("console: out of memory");
	}
	ready = true;
}

bool console_ready(void)
{
	return ready && !lg_device_broken(&con);
}

/* Collect output buffers the launcher has written. */
static void reap_out(void)
{
	struct out_buf *b;
	uint32_t len;

	while ((b = vq_get_used(&con.vq[TX], &len)))
		b->in_flight = false;
}

static void submit_current(void)
{
	struct out_buf *b = &out[cur];
	struct lg_sg sg = { virt_to_phys(b->page), b->len };

	if (!b->len)
		return;
	if (vq_add(&con.vq[TX], &sg, 1, 0, b) < 0)
		panic("console: out queue full");
	b->in_flight = true;
	lg_device_kick(&con);
	cur = (cur + 1) % OUT_BUFS;
	/* The next buffer may still be in flight: wait for the launcher. */
	while (out[cur].in_flight) {
		reap_out();
		if (!out[cur].in_flight || !console_ready())
			break;
		if (vq_enable_cb(&con.vq[TX]))
			wait_for_signal(0);
	}
	out[cur].in_flight = false;
	out[cur].len = 0;
}

void console_write(const char *buf, size_t len)
{
	while (len) {
		struct out_buf *b = &out[cur];
		size_t n = PAGE_SIZE - b->len;

		if (n > len)
			n = len;
		memcpy(b->page + b->len, buf, n);
		b->len += n;
		buf += n;
		len -= n;
		if (b->len == PAGE_SIZE || b->page[b->len - 1] == '\n')
			submit_current();
	}
}

void console_flush(void)
{
	if (ready)
		submit_current();
}

void console_flush_all(void)
{
	if (!ready)
		return;
	submit_current();
	for (;;) {
		bool busy = false;

		reap_out();
		for (unsigned int i = 0; i < OUT_BUFS; i++)
			busy |= out[i].in_flight;
		if (!busy || !console_ready())
			return;
		if (vq_enable_cb(&con.vq[TX]))
			wait_for_signal(0);
	}
}

static void post_input(void)
{
	if (!in_page) {
		in_page = alloc_pages(1);
		if (!in_page)
			panic("console: out of memory");
	}
	for (unsigned int i = 0; i < IN_BUFS; i++) {
		struct lg_sg sg = { virt_to_phys(in_page + i * IN_BUF_SIZE), IN_BUF_SIZE };

		vq_add(&con.vq[RX], &sg, 0, 1, in_page + i * IN_BUF_SIZE);
	}
	input_posted = true;
	lg_device_kick(&con);
}

int console_getc(void)
{
	if (!ready || input_eof)
		return -1;
	if (!input_posted)
		post_input();
	console_flush();
	while (in_pos == in_len) {
		uint32_t len;
		char *data;

		/* Give the previous buffer back before waiting for the next. */
		if (in_data) {
			struct lg_sg sg = { virt_to_phys(in_data), IN_BUF_SIZE };

			vq_add(&con.vq[RX], &sg, 0, 1, in_data);
			lg_device_kick(&con);
			in_data = NULL;
		}
		data = vq_get_used(&con.vq[RX], &len);
		if (!data) {
			if (!console_ready() || vq_broken(&con.vq[RX]))
				return -1;
			/* Only RX matters here: unreaped output must not keep us awake. */
			if (vq_enable_cb(&con.vq[RX]))
				wait_for_signal(0);
			continue;
		}
		if (len == 0 || len > IN_BUF_SIZE) {
			input_eof = true;
			return -1;
		}
		in_data = data;
		in_len = len;
		in_pos = 0;
	}
	return (unsigned char)in_data[in_pos++];
}
