// SPDX-License-Identifier: GPL-2.0
/*
 * console.c: the console device, on any ring layout.
 *
 * Two queues, numbered alike on every layout (ring/queue.h): the transmit
 * queue (draft3's out queue, virtio's transmitq) carries text, which we
 * writev() to stdout straight from the guest's pages.  The receive queue
 * (draft3's in queue, virtio's receiveq) carries empty buffers; when stdin
 * has input we readv() into them and hand them back with the length.  We
 * only watch stdin while the guest has a buffer posted, so a guest that
 * does not want input never makes us read (or spin on) stdin.  End of file
 * goes back as a buffer of length 0.
 *
 * On a terminal we switch to raw mode so keys reach the guest as typed
 * (the guest shell echoes and edits), and watch for ^A x, which stops the
 * VM from outside, as QEMU's does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <linux/virtio_console.h>

#include "device.h"
#include "devices/console.h"
#include "iov.h"
#include "log.h"

#define CTRL_A		  0x01
#define EXIT_CONSOLE_QUIT 130

/* Same numbers on every layout: draft3 in/out, virtio receiveq/transmitq. */
#define CONSOLE_RX 0
#define CONSOLE_TX 1
_Static_assert(CONSOLE_RX == QUEUE_D3_IN && CONSOLE_TX == QUEUE_D3_OUT, "queue numbering");

struct console {
	bool interactive;
	bool eof;
	bool saw_ctrl_a;
	struct chain chain;
};

static struct termios saved_tty;
static bool tty_saved;

void console_restore_tty(void)
{
	if (tty_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
		tty_saved = false;
	}
}

void console_setup_tty(void)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	tty_saved = true;
	atexit(console_restore_tty);
	raw = saved_tty;
	cfmakeraw(&raw);
	/* Keep output processing so the guest's "\n" still returns the carriage. */
	raw.c_oflag |= OPOST | ONLCR;
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

/* Write every readable segment of the chain to stdout. */
static void console_output(struct device *dev, struct chain *c)
{
	struct iovec *iov = c->seg;
	int n = c->nread;

	dev->stats.bytes_read += c->read_len;
	while (n > 0) {
		ssize_t done = writev(STDOUT_FILENO, iov, n);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return; /* stdout is gone: drop the text, keep the guest running */
		/* A short write: step past what went out (the iovecs are ours). */
		iov = iov_advance(iov, &n, done);
	}
}

static void console_notify(struct device *dev)
{
	struct queue *tx = &dev->queue[CONSOLE_TX];
	struct console *con = dev->priv;
	int r;

	do {
		queue_disable_notify(tx);
		while ((r = queue_pop(tx, &con->chain)) > 0) {
			console_output(dev, &con->chain);
			dev->stats.descs += con->chain.ndesc;
			dev->stats.chains++;
			if (!queue_push(tx, &con->chain, 0)) {
				device_queue_failed(dev, tx);
				return;
			}
			device_used(dev, tx);
		}
		if (r < 0) {
			device_queue_failed(dev, tx);
			return;
		}
	} while (queue_enable_notify(tx));
}

/* Scan what the user typed for ^A x. */
static void check_quit_keys(struct console *con, struct chain *c, size_t len)
{
	for (unsigned int i = 0; i < c->nwrite && len; i++) {
		const uint8_t *p = chain_writable(c)[i].iov_base;
		size_t n = chain_writable(c)[i].iov_len < len ? chain_writable(c)[i].iov_len : len;

		for (size_t j = 0; j < n; j++) {
			if (con->saw_ctrl_a && (p[j] == 'x' || p[j] == 'X')) {
				console_restore_tty();
				fprintf(stderr, "\r\nlguest: ^A x: stopping the VM\n");
				request_stop(EXIT_CONSOLE_QUIT);
			}
			con->saw_ctrl_a = p[j] == CTRL_A;
		}
		len -= n;
	}
}

static void console_input(struct device *dev)
{
	struct queue *rx = &dev->queue[CONSOLE_RX];
	struct console *con = dev->priv;
	ssize_t n;
	int r = queue_pop(rx, &con->chain);

	if (r <= 0) {
		if (r < 0)
			device_queue_failed(dev, rx);
		return;
	}
	if (con->chain.nread) {
		device_fail(dev, "%s: input buffer %u has readable segments",
			    dev->queue_names[CONSOLE_RX], con->chain.id);
		return;
	}
	do
		n = readv(STDIN_FILENO, chain_writable(&con->chain), con->chain.nwrite);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		con->eof = true;
		n = 0;
	}
	if (con->interactive)
		check_quit_keys(con, &con->chain, n);
	dev->stats.bytes_written += n;
	dev->stats.descs += con->chain.ndesc;
	dev->stats.chains++;
	if (!queue_push(rx, &con->chain, n)) {
		device_queue_failed(dev, rx);
		return;
	}
	device_used(dev, rx);
}

/* Watch stdin only while the guest has a buffer waiting for input. */
static int console_extra_fd(struct device *dev)
{
	struct queue *rx = &dev->queue[CONSOLE_RX];
	struct console *con = dev->priv;

	if (con->eof)
		return -1;
	/* No buffer: ask to be notified of the next one (see net_extra_fd()). */
	return queue_has_buffers(rx) || queue_enable_notify(rx) ? STDIN_FILENO : -1;
}

static const struct device_ops console_ops = {
	.notify = console_notify,
	.extra_fd = console_extra_fd,
	.extra_ready = console_input,
	.sandbox = SANDBOX_DEV_CONSOLE,
};

static const char *const console_queue_names[] = { "receiveq", "transmitq" };

void console_add(bool interactive, const struct ring_opt *ring)
{
	struct console *con = calloc(1, sizeof(*con));
	struct device *dev;

	if (!con)
		die("out of memory");
	con->interactive = interactive;
	dev = device_add("console", LG_DEV_CONSOLE, &console_ops, con, ring, 2,
			 console_queue_names);
	/* No console features: one port, no size, no emergency write. */
	if (dev->vcfg)
		device_config_space(dev, sizeof(struct virtio_console_config));
}
