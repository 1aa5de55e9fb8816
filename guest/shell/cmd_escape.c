// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_escape.c: (testing) a guest that tries to get out of its sandbox.
 *
 *   escape RULE [PATH]
 *   escape priv INSN
 *
 * Each rule prints what it tries, then tries it.  None of them may work: the
 * launcher must report a fault (or a guest process killed by its seccomp
 * filter) and exit 125, and the host must be unharmed; if an attempt comes
 * back, we print ESCAPED.  tests/e2e/cases_isolation.py runs every rule.
 *
 * Most rules are about the process backend, where this kernel is the code
 * of a sandboxed host process at CPL3 (launcher/process/stub/README.md has
 * the threat model).  The stub-* rules jump onto the stub's own `syscall`
 * instruction, the only one the seccomp filter lets through, with registers
 * of our choosing, so only the filter's number and argument checks stand in
 * the way.  We find that instruction as an attacker would: by scanning the
 * stub's code, from its load address up to the end of the hypercall page
 * whose address the boot parameters give us, for `syscall; ret`.
 * stub-forge is the control: a call the filter allows (a whole message to
 * the launcher), which shows that the jump itself works; stub-flood sends
 * such messages without ever reading the launcher's answers.
 *
 * On KVM the rules that need a stub, or an unprivileged kernel, say so and
 * exit 2: there this kernel runs at (virtual) CPL0 in its own VM, where
 * writing its own hypercall page or low memory is no escape.  A stray
 * `syscall` enters its own LSTAR there, which reports it as a crash.  A
 * privileged instruction that completes there prints "completed" and
 * exits 3.
 */
#include "hcall.h"
#include "kernel.h"
#include "shell.h"

/* Where the stub is linked (launcher/process/stub_abi.h: STUB_LOAD_ADDR). */
#define STUB_BASE 0x7e0000000000ULL
/* The first word of its read-only config page (stub_abi.h: STUB_CONFIG_MAGIC). */
#define STUB_CONFIG_MAGIC 0x6c67737475620001ULL

/* Linux x86-64 system call numbers and flags. */
#define NR_WRITE      1
#define NR_MMAP	      9
#define NR_MPROTECT   10
#define NR_EXECVE     59
#define NR_KILL	      62
#define NR_FUTEX      202
#define NR_OPENAT     257
#define AT_FDCWD      (-100L)
#define O_WRONLY      01
#define O_CREAT	      0100
#define FUTEX_WAKE_OP 5
#define SIGKILL	      9

/* sizeof(struct stub_msg): the one length fd 3 takes. */
#define STUB_MSG_SIZE 80

static const char escaped[] = "ESCAPED\n";

static bool process_backend(void)
{
	return hcall_page >= STUB_BASE;
}

/* The stub's `syscall` instruction (followed by `ret`), or 0 if none. */
static uint64_t find_stub_syscall(void)
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)STUB_BASE;
	uint64_t end = hcall_page + PAGE_SIZE;

	for (; (uint64_t)(uintptr_t)p + 3 <= end; p++) {
		if (p[0] == 0x0f && p[1] == 0x05 && p[2] == 0xc3)
			return (uint64_t)(uintptr_t)p;
	}
	return 0;
}

/* Call @insn with the registers a system call reads set as given. */
static long jump_syscall(uint64_t insn, long nr, long a0, long a1, long a2, long a3, long a4,
			 long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	__asm__ volatile("call *%[insn]"
			 : "=a"(ret), "+r"(r10), "+r"(r8), "+r"(r9), "+D"(a0), "+S"(a1), "+d"(a2)
			 : [insn] "r"(insn), "a"(nr)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

static int stub_rule(const char *rule, const char *path)
{
	/* Words of guest RAM the stub never waits on. */
	uint64_t word1 = boot->shared_gpa + 0x800, word2 = boot->shared_gpa + 0x808;
	char cmd[160];
	char *sh_argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
	uint64_t insn;
	long r;

	if (!process_backend()) {
		printk("escape: no stub here (not the process backend)\n");
		return 2;
	}
	insn = find_stub_syscall();
	if (!insn) {
		printk("escape %s: no syscall instruction in the stub\n", rule);
		return 1;
	}
	printk("escape %s: the stub's syscall instruction is at %#lx\n", rule, insn);
	if (!strcmp(rule, "stub-open")) {
		printk("escape %s: trying openat(AT_FDCWD, \"%s\", O_CREAT|O_WRONLY, 0644)\n", rule,
		       path);
		r = jump_syscall(insn, NR_OPENAT, AT_FDCWD, (long)path, O_CREAT | O_WRONLY, 0644, 0,
				 0);
	} else if (!strcmp(rule, "stub-memfd")) {
		printk("escape %s: trying write(4, ...): fd 4 was guest RAM's memfd\n", rule);
		r = jump_syscall(insn, NR_WRITE, 4, (long)escaped, 8, 0, 0, 0);
	} else if (!strcmp(rule, "stub-fd3-len")) {
		printk("escape %s: trying write(3, ..., %d): the channel, a wrong length\n", rule,
		       STUB_MSG_SIZE + 1);
		r = jump_syscall(insn, NR_WRITE, 3, (long)boot, STUB_MSG_SIZE + 1, 0, 0, 0);
	} else if (!strcmp(rule, "stub-fd-high")) {
		printk("escape %s: trying write(0x100000003, ..., %d): fd 3 in the low half only\n",
		       rule, STUB_MSG_SIZE);
		r = jump_syscall(insn, NR_WRITE, 0x100000003L, (long)boot, STUB_MSG_SIZE, 0, 0, 0);
	} else if (!strcmp(rule, "stub-notify-len")) {
		printk("escape %s: trying write(5, ..., 1): a notify eventfd, not 8 bytes\n", rule);
		r = jump_syscall(insn, NR_WRITE, 5, (long)escaped, 1, 0, 0, 0);
	} else if (!strcmp(rule, "stub-write-fd1")) {
		printk("escape %s: trying write(1, \"ESCAPED\\n\", 8)\n", rule);
		r = jump_syscall(insn, NR_WRITE, 1, (long)escaped, 8, 0, 0, 0);
	} else if (!strcmp(rule, "stub-mmap")) {
		printk("escape %s: trying mmap(0x1000000000, 4096, RWX, "
		       "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)\n",
		       rule);
		r = jump_syscall(insn, NR_MMAP, 0x1000000000L, 4096, 7, 0x32, -1, 0);
	} else if (!strcmp(rule, "stub-mprotect")) {
		printk("escape %s: trying mprotect(%#lx, 4096, RWX) on the hypercall page\n", rule,
		       hcall_page);
		r = jump_syscall(insn, NR_MPROTECT, (long)hcall_page, 4096, 7, 0, 0, 0);
	} else if (!strcmp(rule, "stub-futex")) {
		printk("escape %s: trying futex(%#lx, FUTEX_WAKE_OP, 1, 0, %#lx, 0)\n", rule, word1,
		       word2);
		r = jump_syscall(insn, NR_FUTEX, (long)word1, FUTEX_WAKE_OP, 1, 0, (long)word2, 0);
	} else if (!strcmp(rule, "stub-exec")) {
		ksnprintf(cmd, sizeof(cmd), "echo ESCAPED >%s", path);
		printk("escape %s: trying execve(\"/bin/sh\", {\"/bin/sh\", \"-c\", \"%s\"}, NULL)\n",
		       rule, cmd);
		r = jump_syscall(insn, NR_EXECVE, (long)"/bin/sh", (long)sh_argv, 0, 0, 0, 0);
	} else if (!strcmp(rule, "stub-forge")) {
		/*
		 * The control: a call the filter allows, a whole message to
		 * the launcher, of a type it never expects.  The launcher must
		 * stop us; until it does we wait, printing nothing.
		 */
		uint64_t msg[STUB_MSG_SIZE / 8] = { 99 }, deadline;

		printk("escape %s: trying write(3, a message of type 99, %d)\n", rule,
		       STUB_MSG_SIZE);
		r = jump_syscall(insn, NR_WRITE, 3, (long)msg, STUB_MSG_SIZE, 0, 0, 0);
		deadline = rdtsc() + ns_to_tsc(5000000000ULL);
		while (rdtsc() < deadline)
			cpu_relax();
		printk("escape %s: the launcher took it (write returned %ld)\n", rule, r);
		return 1;
	} else if (!strcmp(rule, "stub-flood")) {
		/*
		 * Hypercall messages (zero-length CONSOLE prints) as fast as
		 * the socket takes them, never reading an answer: the launcher
		 * must not block on its answers piling up.
		 */
		uint64_t msg[STUB_MSG_SIZE / 8] = { 2 /* HCALL */ | 1ULL << 32 /* CONSOLE */ };

		printk("escape %s: trying 1000000 hypercall messages without reading an answer\n",
		       rule);
		for (int i = 0; i < 1000000; i++)
			r = jump_syscall(insn, NR_WRITE, 3, (long)msg, STUB_MSG_SIZE, 0, 0, 0);
		printk("escape %s: the launcher took them all (last write returned %ld)\n", rule,
		       r);
		return 1;
	} else if (!strcmp(rule, "stub-kill")) {
		printk("escape %s: trying kill(0, SIGKILL): the launcher's process group\n", rule);
		r = jump_syscall(insn, NR_KILL, 0, SIGKILL, 0, 0, 0, 0);
	} else {
		return -1;
	}
	printk("ESCAPED (it returned %ld)\n", r);
	return 0;
}

/*
 * The stub's read-only config page, found as an attacker would: the stub's
 * ELF program headers (its first page is readable) say where its image
 * ends, and the config is the page that starts with the config magic.
 * Failing that, the ELF header page itself, which is read-only too.
 */
static uint64_t find_stub_config(void)
{
	const uint8_t *eh = (const uint8_t *)(uintptr_t)STUB_BASE;
	uint64_t phoff = *(const uint64_t *)(eh + 32);
	uint16_t phentsize = *(const uint16_t *)(eh + 54), phnum = *(const uint16_t *)(eh + 56);

	if (eh[0] != 0x7f || eh[1] != 'E' || eh[2] != 'L' || eh[3] != 'F' || phoff >= PAGE_SIZE ||
	    phoff + (uint64_t)phentsize * phnum > PAGE_SIZE)
		return STUB_BASE;
	for (unsigned int i = 0; i < phnum; i++) {
		const uint8_t *ph = eh + phoff + (uint64_t)i * phentsize;
		uint64_t vaddr = *(const uint64_t *)(ph + 16), memsz = *(const uint64_t *)(ph + 40);

		if (*(const uint32_t *)ph != 1) /* PT_LOAD */
			continue;
		if (vaddr < STUB_BASE)
			vaddr += STUB_BASE;
		for (uint64_t a = vaddr & ~(PAGE_SIZE - 1); a < vaddr + memsz; a += PAGE_SIZE) {
			if (a >= vaddr &&
			    *(const volatile uint64_t *)(uintptr_t)a == STUB_CONFIG_MAGIC)
				return a;
		}
	}
	return STUB_BASE;
}

static int memory_rule(const char *rule)
{
	bool write = rule[0] == 'w';
	volatile uint8_t *p;

	if (!strcmp(rule, "write-stub") || !strcmp(rule, "write-stub-data")) {
		const char *what = "the hypercall page, stub text";
		uint64_t addr = hcall_page;

		if (!process_backend()) {
			printk("escape: no stub here (not the process backend)\n");
			return 2;
		}
		if (!strcmp(rule, "write-stub-data")) {
			addr = find_stub_config();
			what = addr == STUB_BASE ? "the stub's ELF header"
						 : "the stub's config page";
		}
		p = (volatile uint8_t *)(uintptr_t)addr;
		printk("escape %s: trying to write a byte at %#lx (%s)\n", rule, addr, what);
	} else if (!strcmp(rule, "read-outside") || !strcmp(rule, "write-outside")) {
		p = (volatile uint8_t *)(uintptr_t)(boot->mem_size + 0x100000);
		printk("escape %s: trying to %s a byte at %#lx, past the end of guest RAM\n", rule,
		       write ? "write" : "read", (uint64_t)(uintptr_t)p);
	} else if (!strcmp(rule, "read-low") || !strcmp(rule, "write-low")) {
		if (!process_backend()) {
			printk("escape %s: not the process backend (below 64 KiB is guest RAM here)\n",
			       rule);
			return 2;
		}
		p = (volatile uint8_t *)(uintptr_t)0x1000;
		printk("escape %s: trying to %s a byte at %#lx, below guest RAM\n", rule,
		       write ? "write" : "read", (uint64_t)(uintptr_t)p);
	} else {
		return -1;
	}
	if (write)
		*p = 0xc3;
	else
		(void)*p;
	printk("%s", escaped);
	return 0;
}

/* An iretq to a selector past any GDT: #GP at CPL3 and at CPL0 alike. */
static void bad_iret(void)
{
	__asm__ volatile("mov %%ss, %%eax\n\t"
			 "push %%rax\n\t"
			 "push %%rsp\n\t"
			 "addq $8, (%%rsp)\n\t"
			 "pushfq\n\t"
			 "pushq $0xfff8\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "push %%rax\n\t"
			 "iretq\n"
			 "1:"
			 :
			 :
			 : "rax", "memory");
}

static int privileged(const char *insn)
{
	uint64_t zero = 0;

	printk("escape priv: trying %s\n", insn);
	if (!strcmp(insn, "hlt"))
		__asm__ volatile("hlt");
	else if (!strcmp(insn, "cli"))
		__asm__ volatile("cli");
	else if (!strcmp(insn, "sti"))
		__asm__ volatile("sti");
	else if (!strcmp(insn, "in"))
		__asm__ volatile("inb $0x60, %%al" ::: "rax");
	else if (!strcmp(insn, "out"))
		__asm__ volatile("outb %%al, $0x80" ::"a"(0));
	else if (!strcmp(insn, "int80"))
		__asm__ volatile("int $0x80" ::"a"(1), "b"(1), "c"(escaped), "d"(8) : "memory");
	else if (!strcmp(insn, "int"))
		__asm__ volatile("int $0x81" ::: "memory");
	else if (!strcmp(insn, "iret"))
		bad_iret();
	else if (!strcmp(insn, "lgdt"))
		__asm__ volatile("lgdt (%0)" ::"r"(boot));
	else if (!strcmp(insn, "lidt"))
		__asm__ volatile("lidt (%0)" ::"r"(boot));
	else if (!strcmp(insn, "lldt"))
		__asm__ volatile("lldt %w0" ::"r"(zero));
	else if (!strcmp(insn, "ltr"))
		__asm__ volatile("ltr %w0" ::"r"(zero));
	else if (!strcmp(insn, "invlpg"))
		__asm__ volatile("invlpg (%0)" ::"r"(boot) : "memory");
	else if (!strcmp(insn, "wrmsr"))
		__asm__ volatile("wrmsr" ::"c"(0xc0000082), "a"(0), "d"(0));
	else if (!strcmp(insn, "rdmsr"))
		__asm__ volatile("rdmsr" ::"c"(0xc0000082) : "rax", "rdx");
	else if (!strcmp(insn, "mov-cr3"))
		__asm__ volatile("mov %0, %%cr3" ::"r"(zero) : "memory");
	else if (!strcmp(insn, "clts"))
		__asm__ volatile("clts");
	else if (!strcmp(insn, "wbinvd"))
		__asm__ volatile("wbinvd" ::: "memory");
	else if (!strcmp(insn, "swapgs"))
		__asm__ volatile("swapgs");
	else
		return -1;
	if (!process_backend()) {
		printk("escape priv: %s completed (the kernel's own privilege on KVM)\n", insn);
		return 3;
	}
	printk("%s", escaped);
	return 0;
}

static int cpu_rule(const char *rule)
{
	uint64_t num = 1, zero = 0;

	if (!strcmp(rule, "syscall")) {
		/* On KVM it enters this kernel's own LSTAR, which reports it. */
		printk("escape syscall: trying write(1, \"ESCAPED\\n\", 8) with a syscall "
		       "instruction\n");
		__asm__ volatile("syscall"
				 : "+a"(num)
				 : "D"(1), "S"(escaped), "d"(8)
				 : "rcx", "r11", "memory");
	} else if (!strcmp(rule, "vsyscall")) {
		if (!process_backend()) {
			printk("escape vsyscall: not the process backend (no [vsyscall] page)\n");
			return 2;
		}
		printk("escape vsyscall: trying gettimeofday through [vsyscall] at "
		       "0xffffffffff600000\n");
		__asm__ volatile("call *%1"
				 : "+a"(num)
				 : "r"(0xffffffffff600000ULL), "D"(0), "S"(0)
				 : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory");
	} else if (!strcmp(rule, "divide")) {
		printk("escape divide: trying 1 / 0\n");
		/* In asm: C lets the compiler turn a division by zero into anything. */
		__asm__ volatile("divq %2" : "+a"(num), "+d"(zero) : "r"(zero));
	} else if (!strcmp(rule, "ud2")) {
		printk("escape ud2: trying an invalid opcode\n");
		__asm__ volatile("ud2");
	} else if (!strcmp(rule, "int3")) {
		printk("escape int3: trying a breakpoint\n");
		__asm__ volatile("int3");
	} else if (!strcmp(rule, "loop")) {
		printk("escape loop: trying to run forever\n");
		for (;;)
			cpu_relax();
	} else {
		return -1;
	}
	printk("%s", escaped);
	return 0;
}

int cmd_escape(int argc, char **argv)
{
	const char *rule = argc >= 2 ? argv[1] : "";
	int r = -1;

	if (argc == 3 && !strcmp(rule, "priv"))
		r = privileged(argv[2]);
	else if ((argc == 2 || argc == 3) && !strncmp(rule, "stub-", 5))
		r = stub_rule(rule, argc == 3 ? argv[2] : "/tmp/lguest-escaped");
	else if (argc == 2 && (r = memory_rule(rule)) < 0)
		r = cpu_rule(rule);
	if (r >= 0)
		return r;
	printk("usage: escape syscall|vsyscall|divide|ud2|int3|loop\n"
	       "       escape read-outside|write-outside|read-low|write-low|write-stub|"
	       "write-stub-data\n"
	       "       escape priv hlt|cli|sti|in|out|int80|int|iret|lgdt|lidt|lldt|ltr|invlpg|"
	       "wrmsr|rdmsr|mov-cr3|clts|wbinvd|swapgs\n"
	       "       escape stub-open|stub-exec [PATH]\n"
	       "       escape stub-memfd|stub-fd3-len|stub-fd-high|stub-notify-len|"
	       "stub-write-fd1|stub-mmap|stub-mprotect|stub-futex|stub-kill|stub-forge|\n"
	       "       stub-flood\n");
	return 2;
}
