// SPDX-License-Identifier: GPL-2.0
/*
 * icmp.c: ICMP echo (RFC 792), the part of ICMP that ping needs.
 *
 *   0      1      2             4             6             8
 *   +------+------+-------------+-------------+-------------+---------+
 *   | type | code |  checksum   | identifier  |  sequence   |  data   |
 *   +------+------+-------------+-------------+-------------+---------+
 *
 * type 8 is an echo request, type 0 its reply; the checksum covers the
 * whole message.  A reply carries the request's identifier, sequence and
 * data unchanged, so the only bytes we change are the type and the
 * checksum.  The identifier says which ping a reply belongs to (Linux
 * uses the process id); the sequence which of its requests.
 *
 * Requests to a broadcast address are not answered (Linux's default
 * icmp_echo_ignore_broadcasts): one packet should not make a whole subnet
 * answer at once.
 */
#include "lib.h"
#include "net.h"

#define ICMP_ECHO_REPLY	  0
#define ICMP_ECHO_REQUEST 8

static struct {
	bool active;
	uint16_t id;
	icmp_echo_handler fn;
	void *ctx;
} listener;

void icmp_reset(void)
{
	listener.active = false;
}

void icmp_echo_listen(uint16_t id, icmp_echo_handler fn, void *ctx)
{
	listener.active = true;
	listener.id = id;
	listener.fn = fn;
	listener.ctx = ctx;
}

void icmp_echo_unlisten(void)
{
	listener.active = false;
}

/* Build an echo message of @type at ip_tx_payload() and send it. */
static int send_echo(uint32_t dst, uint8_t type, uint16_t id, uint16_t seq, const void *data,
		     size_t len)
{
	uint8_t *msg = ip_tx_payload();
	int err;

	if (len > ICMP_MAX_DATA)
		return NET_EINVAL;
	msg[0] = type;
	msg[1] = 0;
	put_be16(msg + 2, 0);
	put_be16(msg + 4, id);
	put_be16(msg + 6, seq);
	memmove(msg + ICMP_HDR_LEN, data, len);
	put_be16(msg + 2, inet_checksum(msg, ICMP_HDR_LEN + len));
	err = ip_output(dst, IP_PROTO_ICMP, ICMP_HDR_LEN + len);
	if (err == 0)
		net_stats.icmp.out++;
	return err;
}

int icmp_echo_send(uint32_t dst, uint16_t id, uint16_t seq, const void *data, size_t len)
{
	int err = send_echo(dst, ICMP_ECHO_REQUEST, id, seq, data, len);

	if (err == 0)
		net_stats.icmp.echo_requests_out++;
	return err;
}

void icmp_input(uint32_t src, uint32_t dst, const uint8_t *msg, size_t len)
{
	uint16_t id, seq;

	net_stats.icmp.in++;
	if (len < ICMP_HDR_LEN) {
		net_stats.icmp.truncated++;
		return;
	}
	if (inet_checksum(msg, len) != 0) {
		net_stats.icmp.bad_csum++;
		return;
	}
	id = get_be16(msg + 4);
	seq = get_be16(msg + 6);
	if (msg[0] == ICMP_ECHO_REQUEST && msg[1] == 0) {
		net_stats.icmp.echo_requests_in++;
		if (dst != net_if.addr) {
			net_stats.icmp.broadcast_ignored++;
			return;
		}
		/* The request fitted in a frame, so its data fits in our reply's. */
		if (send_echo(src, ICMP_ECHO_REPLY, id, seq, msg + ICMP_HDR_LEN,
			      len - ICMP_HDR_LEN) == 0)
			net_stats.icmp.echo_replies_out++;
	} else if (msg[0] == ICMP_ECHO_REPLY && msg[1] == 0) {
		net_stats.icmp.echo_replies_in++;
		if (!listener.active || listener.id != id) {
			net_stats.icmp.unmatched++;
			return;
		}
		listener.fn(listener.ctx, src, seq, msg + ICMP_HDR_LEN, len - ICMP_HDR_LEN);
	} else {
		net_stats.icmp.other_types++;
	}
}
