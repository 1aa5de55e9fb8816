// SPDX-License-Identifier: GPL-2.0
/*
 * test_fault.c: unit tests for the process backend's fault reports
 * (launcher/process/fault.c).
 *
 * A guest running as a host process reports its exceptions as signals;
 * the launcher turns each into one line.  For a general protection fault
 * that means naming the privileged instruction from the bytes at rip, so
 * each instruction the guest might try is decoded here, with and without
 * prefixes, and truncated encodings must never be read past their end.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "process/process.h"

#define MEM_SIZE (4UL << 20)

static uint8_t ram[MEM_SIZE];
static const struct guest_mem mem = { .base = ram, .size = MEM_SIZE, .fd = -1 };

struct insn {
	const char *name;
	uint8_t len;
	uint8_t bytes[8];
};

static const struct insn privileged[] = {
	{ "hlt", 1, { 0xf4 } },
	{ "cli", 1, { 0xfa } },
	{ "sti", 1, { 0xfb } },
	{ "out", 2, { 0xe7, 0xf0 } },
	{ "out", 1, { 0xee } },
	{ "in", 2, { 0xe4, 0x60 } },
	{ "in", 2, { 0x66, 0xed } },
	{ "int", 2, { 0xcd, 0x80 } },
	{ "iret", 2, { 0x48, 0xcf } },
	{ "lidt", 3, { 0x0f, 0x01, 0x18 } },
	{ "lgdt", 3, { 0x0f, 0x01, 0x10 } },
	{ "invlpg", 3, { 0x0f, 0x01, 0x38 } },
	{ "swapgs", 3, { 0x0f, 0x01, 0xf8 } },
	{ "ltr", 3, { 0x0f, 0x00, 0xd8 } },
	{ "lldt", 3, { 0x0f, 0x00, 0xd0 } },
	{ "wrmsr", 2, { 0x0f, 0x30 } },
	{ "rdmsr", 2, { 0x0f, 0x32 } },
	{ "mov to/from a control register", 3, { 0x0f, 0x22, 0xd8 } },
	{ "mov to/from a control register", 4, { 0x41, 0x0f, 0x20, 0xc0 } },
	{ "clts", 2, { 0x0f, 0x06 } },
	{ "wbinvd", 2, { 0x0f, 0x09 } },
	{ "sysret", 3, { 0x48, 0x0f, 0x07 } },
};

static void names_privileged_instructions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++) {
		const struct insn *in = &privileged[i];
		const char *name = privileged_insn_name(in->bytes, in->len);

		assert_non_null(name);
		assert_string_equal(name, in->name);
	}
}

static void ordinary_instructions_are_not_named(void **state)
{
	static const uint8_t nop[] = { 0x90 }, ret[] = { 0xc3 }, syscall[] = { 0x0f, 0x05 },
			     mov[] = { 0x48, 0x89, 0xe5 }, rdtsc[] = { 0x0f, 0x31 };

	(void)state;
	assert_null(privileged_insn_name(nop, sizeof(nop)));
	assert_null(privileged_insn_name(ret, sizeof(ret)));
	assert_null(privileged_insn_name(syscall, sizeof(syscall)));
	assert_null(privileged_insn_name(mov, sizeof(mov)));
	assert_null(privileged_insn_name(rdtsc, sizeof(rdtsc)));
}

/* Truncated encodings: the decoder must stop at len, not read beyond it. */
static void truncated_encodings(void **state)
{
	static const uint8_t prefixes[15] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
					      0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 };
	static const uint8_t lidt[] = { 0x0f, 0x01, 0x18 };

	(void)state;
	assert_null(privileged_insn_name(lidt, 0));
	assert_null(privileged_insn_name(lidt, 1));
	assert_null(privileged_insn_name(lidt, 2));
	assert_null(privileged_insn_name(prefixes, sizeof(prefixes)));
}

static struct stub_msg fault(int signo, uint64_t trapno, uint64_t err, uint64_t addr, uint64_t rip)
{
	return (struct stub_msg){ .type = STUB_MSG_FAULT,
				  .signo = signo,
				  .trapno = trapno,
				  .err = err,
				  .addr = addr,
				  .rip = rip,
				  .rsp = 0x2000 };
}

static void describes_page_faults(void **state)
{
	struct stub_msg m = fault(SIGSEGV, 14, 0x2, MEM_SIZE + 0x1000, 0x100000);
	char why[256];

	(void)state;
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: page fault at 0x401000 (write, not mapped, "
				 "outside guest RAM) at rip=0x100000 rsp=0x2000");
	m = fault(SIGSEGV, 14, 0x3, STUB_LOAD_ADDR + 0x1000, 0x100010);
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: page fault at 0x7e0000001000 (write, "
				 "protection violation, in the stub) at rip=0x100010 rsp=0x2000");
	m = fault(SIGSEGV, 14, 0x10, 0x1000, 0x1000);
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: page fault at 0x1000 (instruction fetch, not "
				 "mapped, below guest RAM) at rip=0x1000 rsp=0x2000");
}

static void describes_privileged_instruction_at_rip(void **state)
{
	struct stub_msg m = fault(SIGSEGV, 13, 0, 0, 0x100000);
	char why[256];

	(void)state;
	ram[0x100000] = 0x0f;
	ram[0x100001] = 0x30;
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: general protection fault (privileged "
				 "instruction: wrmsr) at rip=0x100000 rsp=0x2000");
	/* rip at the very end of RAM: only the bytes inside RAM are looked at. */
	ram[MEM_SIZE - 1] = 0xf4;
	m.rip = MEM_SIZE - 1;
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: general protection fault (privileged "
				 "instruction: hlt) at rip=0x3fffff rsp=0x2000");
	/* rip outside RAM (in the stub, say): nothing to decode. */
	m.rip = STUB_LOAD_ADDR;
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: general protection fault at rip=0x7e0000000000 "
				 "rsp=0x2000");
}

static void describes_other_signals(void **state)
{
	struct stub_msg m = fault(SIGFPE, 0, 0, 0, 0x100000);
	char why[256];

	(void)state;
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: divide error at rip=0x100000 rsp=0x2000");
	m = fault(SIGILL, 6, 0, 0, 0x100000);
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: invalid opcode at rip=0x100000 rsp=0x2000");
	m = fault(SIGTRAP, 3, 0, 0, 0x100001);
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: breakpoint (int3) at rip=0x100001 rsp=0x2000");
	m = fault(SIGSYS, 0, 0, 0x100002, 0x100002);
	m.syscall_nr = 1;
	describe_fault(&mem, &m, why, sizeof(why));
	assert_string_equal(why, "guest crashed: host system call 1 attempted (a guest calls the "
				 "launcher only through its hypercall page) at rip=0x100002 "
				 "rsp=0x2000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_privileged_instructions),
		cmocka_unit_test(ordinary_instructions_are_not_named),
		cmocka_unit_test(truncated_encodings),
		cmocka_unit_test(describes_page_faults),
		cmocka_unit_test(describes_privileged_instruction_at_rip),
		cmocka_unit_test(describes_other_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
