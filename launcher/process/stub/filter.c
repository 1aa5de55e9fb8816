// SPDX-License-Identifier: GPL-2.0
/*
 * filter.c: the seccomp filter, the one boundary between the guest and
 * the host.
 *
 * The guest can run any code in the stub with any registers, so nothing
 * the stub's C code checks protects anything.  What protects the host is
 * this filter, which the kernel runs on every system call the process
 * makes, from anywhere:
 *
 *   - a system call for another ABI (int $0x80 or a 32-bit code segment,
 *     x32 numbers) kills the process: their numbers mean other calls;
 *   - a system call from anywhere but the stub's one `syscall` instruction
 *     (from guest code) traps: SIGSYS, which fault.c reports;
 *   - from the stub's instruction, the rules below allow a system call
 *     whose number and arguments match one of them; anything else kills
 *     the process.
 *
 * Each rule is a short run of BPF: load the number, compare; load each
 * argument's high and low 32 bits, compare.  A failed comparison jumps to
 * the next rule; the last rule is followed by "kill".  BPF compares 32-bit
 * words, and the kernel truncates int arguments to their low half, so we
 * check the high half too (fd 0x100000003 is not fd 3 here, and must not
 * pass as it).
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stdbool.h>

#include "stub.h"

/* One argument's test: equal to @lo, or (range) in [@lo, @hi), both < 2^32. */
struct arg_test {
	bool used;
	bool range;
	unsigned int arg;
	uint64_t lo, hi;
};

struct rule {
	uint32_t nr;
	struct arg_test test[2];
};

#define ARG_EQ(i, v) ((struct arg_test){ .used = true, .arg = (i), .lo = (v) })
#define ARG_IN(i, lo_, hi_) \
	((struct arg_test){ .used = true, .range = true, .arg = (i), .lo = (lo_), .hi = (hi_) })

#define DATA_NR	       offsetof(struct seccomp_data, nr)
#define DATA_ARCH      offsetof(struct seccomp_data, arch)
#define DATA_IP_LO     offsetof(struct seccomp_data, instruction_pointer)
#define DATA_IP_HI     (DATA_IP_LO + 4)
#define DATA_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define DATA_ARG_HI(i) (DATA_ARG_LO(i) + 4)

#define PROG_MAX 96

/* A jump target meaning "the next rule", until the rule's end patches it. */
#define NEXT_RULE 0xff

struct prog {
	struct sock_filter insn[PROG_MAX];
	unsigned int len; /* may pass PROG_MAX: then the filter is not installed */
};

static void emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (p->len < PROG_MAX)
		p->insn[p->len] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	p->len++;
}

static void load(struct prog *p, uint32_t offset)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, offset, 0, 0);
}

static void ret(struct prog *p, uint32_t action)
{
	emit(p, BPF_RET | BPF_K, action, 0, 0);
}

/* Unless A == @k, return @action. */
static void ret_unless_eq(struct prog *p, uint32_t k, uint32_t action)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, k, 1, 0);
	ret(p, action);
}

/* Within a rule: go on if the comparison holds, else to the next rule. */
static void need_eq(struct prog *p, uint32_t k)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, k, 0, NEXT_RULE);
}

static void need_ge(struct prog *p, uint32_t k)
{
	emit(p, BPF_JMP | BPF_JGE | BPF_K, k, 0, NEXT_RULE);
}

static void need_lt(struct prog *p, uint32_t k)
{
	emit(p, BPF_JMP | BPF_JGE | BPF_K, k, NEXT_RULE, 0);
}

static void emit_test(struct prog *p, const struct arg_test *t)
{
	load(p, DATA_ARG_HI(t->arg));
	need_eq(p, t->range ? 0 : (uint32_t)(t->lo >> 32));
	load(p, DATA_ARG_LO(t->arg));
	if (t->range) {
		need_ge(p, (uint32_t)t->lo);
		need_lt(p, (uint32_t)t->hi);
	} else {
		need_eq(p, (uint32_t)t->lo);
	}
}

/* Point the rule's NEXT_RULE jumps (from @start on) just past its end. */
static void patch_rule(struct prog *p, unsigned int start)
{
	for (unsigned int i = start; i < p->len && i < PROG_MAX; i++) {
		uint8_t to_end = (uint8_t)(p->len - i - 1);

		if (p->insn[i].jt == NEXT_RULE)
			p->insn[i].jt = to_end;
		if (p->insn[i].jf == NEXT_RULE)
			p->insn[i].jf = to_end;
	}
}

static void emit_rule(struct prog *p, const struct rule *r)
{
	unsigned int start = p->len;

	load(p, DATA_NR);
	need_eq(p, r->nr);
	for (size_t i = 0; i < sizeof(r->test) / sizeof(r->test[0]); i++) {
		if (r->test[i].used)
			emit_test(p, &r->test[i]);
	}
	ret(p, SECCOMP_RET_ALLOW);
	patch_rule(p, start);
}

/* Everything before the rules: which ABI, and whether from the stub. */
static void emit_prologue(struct prog *p)
{
	uint64_t ip = (uint64_t)stub_syscall_ret;

	load(p, DATA_ARCH);
	ret_unless_eq(p, AUDIT_ARCH_X86_64, SECCOMP_RET_KILL_PROCESS);
	load(p, DATA_NR);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	load(p, DATA_IP_HI);
	ret_unless_eq(p, (uint32_t)(ip >> 32), SECCOMP_RET_TRAP);
	load(p, DATA_IP_LO);
	ret_unless_eq(p, (uint32_t)ip, SECCOMP_RET_TRAP);
}

/* 0, or a negative errno. */
long stub_install_filter(void)
{
	const struct stub_config *c = cfg();
	const struct rule rules[] = {
		/* Our only way out (fault report sent, launcher gone). */
		{ __NR_exit_group, { { 0 } } },
		/* One whole message to the launcher (hypercalls, faults). */
		{ __NR_write, { ARG_EQ(0, STUB_FD_CHANNEL), ARG_EQ(2, sizeof(struct stub_msg)) } },
		/* NOTIFY's fast path: add to a device's eventfd counter. */
		{ __NR_write,
		  { ARG_IN(0, STUB_FD_NOTIFY0, STUB_FD_NOTIFY0 + c->num_devices),
		    ARG_EQ(2, sizeof(uint64_t)) } },
		/* The launcher's replies (to READY and to hypercalls). */
		{ __NR_read, { ARG_EQ(0, STUB_FD_CHANNEL) } },
		/*
		 * WAIT: sleep on wake_seq and nothing else.  Exactly
		 * FUTEX_WAIT: no FUTEX_PRIVATE_FLAG (the launcher wakes it
		 * from another process), no other operation.
		 */
		{ __NR_futex,
		  { ARG_EQ(0, c->shared_gpa + offsetof(struct lg_shared, wake_seq)),
		    ARG_EQ(1, FUTEX_WAIT) } },
	};
	struct prog p = { .len = 0 };
	struct sock_fprog fprog;

	emit_prologue(&p);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		emit_rule(&p, &rules[i]);
	ret(&p, SECCOMP_RET_KILL_PROCESS);
	if (p.len > PROG_MAX)
		return -E2BIG; /* cannot happen with the rules above */
	fprog.len = (unsigned short)p.len;
	fprog.filter = p.insn;
	return sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
}
