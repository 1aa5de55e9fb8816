// SPDX-License-Identifier: GPL-2.0
/*
 * test_vhost_user.c: unit tests for launcher/vhost_user/proto.c, the
 * vhost-user message layer both of our ends will share.
 *
 * Each test talks over a socketpair: one end sends with vu_send() or
 * writes raw bytes the way a broken peer would, the other receives with
 * vu_recv().  Good messages must come through whole, with their fds, even
 * when the bytes arrive in pieces; bad ones (cut short, the wrong version
 * or size, too many fds, a silent peer) must fail with a reason, never
 * hang, and never leak a descriptor.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "vhost_user/proto.h"

#define TIMEOUT_MS 2000

static int sv[2];
static char why[256];

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	why[0] = 0;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static int teardown(void **state)
{
	(void)state;
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

static struct vu_msg request(uint32_t req, uint32_t size)
{
	return (struct vu_msg){ .hdr = { req, VU_VERSION, size } };
}

static void send_raw(const void *buf, size_t len)
{
	assert_int_equal(write(sv[1], buf, len), (ssize_t)len);
}

static void expect_failure(const char *reason)
{
	struct vu_msg m;

	assert_int_equal(vu_recv(sv[0], &m, TIMEOUT_MS, why, sizeof(why)), -1);
	if (!strstr(why, reason))
		fail_msg("reason \"%s\", expected it to mention \"%s\"", why, reason);
	assert_int_equal(m.nfds, 0);
}

static void simple_requests_round_trip(void **state)
{
	struct vu_msg out = request(VU_SET_FEATURES, 8), in;

	(void)state;
	out.p.u64 = 1ULL << 32 | 1ULL << VU_F_PROTOCOL_FEATURES;
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	out = request(VU_SET_VRING_ADDR, sizeof(struct vhost_vring_addr));
	out.p.addr = (struct vhost_vring_addr){ .index = 0,
						.desc_user_addr = 0x7f0000001000,
						.used_user_addr = 0x7f0000003000,
						.avail_user_addr = 0x7f0000002000 };
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	out = request(VU_GET_FEATURES, 0);
	out.hdr.flags |= VU_FLAG_REPLY;
	out.hdr.size = 8;
	out.p.u64 = 0x175007e46ULL; /* what qemu-storage-daemon offers */
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);

	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 1);
	assert_int_equal(in.hdr.request, VU_SET_FEATURES);
	assert_int_equal(in.p.u64, 1ULL << 32 | 1ULL << VU_F_PROTOCOL_FEATURES);
	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 1);
	assert_int_equal(in.hdr.request, VU_SET_VRING_ADDR);
	assert_int_equal(in.p.addr.avail_user_addr, 0x7f0000002000);
	assert_int_equal(in.nfds, 0);
	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 1);
	assert_true(in.hdr.flags & VU_FLAG_REPLY);
	assert_int_equal(in.p.u64, 0x175007e46ULL);
}

/* SET_MEM_TABLE: two regions, two memfds that really are the same memory. */
static void memory_table_carries_its_fds(void **state)
{
	struct vu_msg out = request(VU_SET_MEM_TABLE, 8 + 2 * sizeof(struct vu_mem_region)), in;
	int before = open_fds();
	char *a, *b;

	(void)state;
	out.p.memory.nregions = 2;
	for (int i = 0; i < 2; i++) {
		out.fds[i] = memfd_create("region", MFD_CLOEXEC);
		assert_true(out.fds[i] >= 0);
		assert_int_equal(ftruncate(out.fds[i], 4096), 0);
		out.p.memory.regions[i] = (struct vu_mem_region){ i * 0x100000ULL, 4096,
								  0x7f0000000000ULL + i * 4096, 0 };
	}
	out.nfds = 2;
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 1);
	assert_int_equal(in.p.memory.nregions, 2);
	assert_int_equal(in.p.memory.regions[1].guest_phys_addr, 0x100000);
	assert_int_equal(in.nfds, 2);
	a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, out.fds[1], 0);
	b = mmap(NULL, 4096, PROT_READ, MAP_SHARED, in.fds[1], 0);
	assert_true(a != MAP_FAILED && b != MAP_FAILED);
	strcpy(a, "same pages");
	assert_string_equal(b, "same pages");
	munmap(a, 4096);
	munmap(b, 4096);
	vu_close_fds(&in);
	for (int i = 0; i < 2; i++)
		close(out.fds[i]);
	assert_int_equal(open_fds(), before);
}

static void config_space(void **state)
{
	struct vu_msg out = request(VU_GET_CONFIG, 12 + 60), in;

	(void)state;
	out.p.config.size = 60;
	out.p.config.region[0] = 0x5a;
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 1);
	assert_int_equal(in.p.config.size, 60);
	assert_int_equal(in.p.config.region[0], 0x5a);
	/* The size in the header must match the config size it carries. */
	out.hdr.size = 12 + 8;
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	expect_failure("GET_CONFIG of 20 bytes, expected 72");
}

/* A header and payload that arrive a few bytes at a time, slowly. */
static void *dribble(void *arg)
{
	const uint8_t *bytes = arg;
	struct timespec pause = { 0, 20 * 1000000 };

	for (int i = 0; i < 20; i += 5) {
		nanosleep(&pause, NULL);
		send_raw(bytes + i, 5);
	}
	return NULL;
}

static void message_in_pieces(void **state)
{
	struct vu_msg out = request(VU_SET_VRING_NUM, 8), in;
	uint8_t bytes[20];
	pthread_t t;

	(void)state;
	out.p.state = (struct vhost_vring_state){ 0, 256 };
	memcpy(bytes, &out.hdr, 12);
	memcpy(bytes + 12, &out.p, 8);
	pthread_create(&t, NULL, dribble, bytes);
	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 1);
	pthread_join(t, NULL);
	assert_int_equal(in.p.state.num, 256);
}

static void clean_end_of_stream(void **state)
{
	struct vu_msg in;

	(void)state;
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(vu_recv(sv[0], &in, TIMEOUT_MS, why, sizeof(why)), 0);
}

static void cut_short(void **state)
{
	struct vu_header h = { VU_SET_VRING_NUM, VU_VERSION, 8 };

	(void)state;
	send_raw(&h, sizeof(h));
	send_raw("abcd", 4);
	close(sv[1]);
	sv[1] = -1;
	expect_failure("closed mid-message");
}

static void header_cut_short(void **state)
{
	(void)state;
	send_raw("\x01\x00\x00", 3);
	close(sv[1]);
	sv[1] = -1;
	expect_failure("closed mid-message");
}

static void wrong_version(void **state)
{
	struct vu_header h = { VU_GET_FEATURES, 0x2, 0 };

	(void)state;
	send_raw(&h, sizeof(h));
	expect_failure("version 2, not 1");
}

static void payload_too_large(void **state)
{
	struct vu_header h = { VU_SET_CONFIG, VU_VERSION, 1u << 20 };

	(void)state;
	send_raw(&h, sizeof(h));
	expect_failure("a payload of 1048576 bytes");
}

static void wrong_size_for_request(void **state)
{
	struct vu_header h = { VU_SET_VRING_NUM, VU_VERSION, 4 };

	(void)state;
	send_raw(&h, sizeof(h));
	send_raw("abcd", 4);
	expect_failure("SET_VRING_NUM of 4 bytes, expected 8");
}

static void memory_table_region_counts(void **state)
{
	struct vu_msg out = request(VU_SET_MEM_TABLE, 8);

	(void)state;
	out.p.memory.nregions = 0;
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	expect_failure("with 0 regions");
	out.p.memory.nregions = 9;
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	expect_failure("with 9 regions");
	/* Two regions claimed, one sent. */
	out.p.memory.nregions = 2;
	out.hdr.size = 8 + sizeof(struct vu_mem_region);
	assert_int_equal(vu_send(sv[1], &out, TIMEOUT_MS, why, sizeof(why)), 0);
	expect_failure("SET_MEM_TABLE of 40 bytes, expected 72");
}

static void unknown_request(void **state)
{
	struct vu_header h = { 77, VU_VERSION, 0 };
	char buf[24];

	(void)state;
	send_raw(&h, sizeof(h));
	expect_failure("unknown request 77");
	assert_string_equal(vu_request_name(VU_GET_VRING_BASE, buf, sizeof(buf)), "GET_VRING_BASE");
}

/* Nine fds where at most eight may come: all closed, and a reason. */
static void too_many_fds(void **state)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 9)];
		struct cmsghdr align;
	} control;
	struct vu_header h = { VU_SET_VRING_KICK, VU_VERSION, 8 };
	uint64_t payload = 0;
	struct iovec iov[2] = { { &h, sizeof(h) }, { &payload, 8 } };
	struct msghdr mh = { .msg_iov = iov,
			     .msg_iovlen = 2,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fds[9], before;

	(void)state;
	for (int i = 0; i < 9; i++)
		fds[i] = memfd_create("fd", MFD_CLOEXEC);
	before = open_fds();
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[1], &mh, 0), sizeof(h) + 8);
	expect_failure("more than 8 file descriptors");
	assert_int_equal(open_fds(), before);
	for (int i = 0; i < 9; i++)
		close(fds[i]);
}

/* A peer that says nothing: a timeout, on time, not a hang. */
static void silent_peer(void **state)
{
	struct timespec t0, t1;
	struct vu_msg in;
	double took;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vu_recv(sv[0], &in, 100, why, sizeof(why)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_string_equal(why, "timed out");
	assert_true(took >= 0.09);
	/* Half a header, then silence: the same. */
	send_raw("\x01\x00", 2);
	assert_int_equal(vu_recv(sv[0], &in, 100, why, sizeof(why)), -1);
	assert_string_equal(why, "timed out");
}

/* A peer that stopped reading: sending gives up at the deadline. */
static void send_to_a_full_socket(void **state)
{
	struct vu_msg out = request(VU_SET_CONFIG, 12 + 256);
	int r = 0;

	(void)state;
	out.p.config.size = 256;
	for (int i = 0; i < 100000 && r == 0; i++)
		r = vu_send(sv[1], &out, 50, why, sizeof(why));
	assert_int_equal(r, -1);
	assert_string_equal(why, "timed out");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(simple_requests_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_table_carries_its_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(message_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(clean_end_of_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(cut_short, setup, teardown),
		cmocka_unit_test_setup_teardown(header_cut_short, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_version, setup, teardown),
		cmocka_unit_test_setup_teardown(payload_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_size_for_request, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_table_region_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_request, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(send_to_a_full_socket, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
