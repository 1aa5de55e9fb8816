"""cases_isolation.py: a guest that tries to get out, and the process
backend's sandbox seen from outside.

The guest's `escape RULE` command (guest/shell/cmd_escape.c) prints what it
tries, then tries it; if the attempt ever comes back it prints ESCAPED.
Each case checks: the exit status (125, the guest crashed, or 143 for a
guest stopped with SIGTERM), exactly one expected `lguest: ...` line on
stderr, nothing on stdout after the "trying" line, and the host unharmed
(no file the guest tried to create, no child left behind).

On the process backend the guest kernel is the code of a sandboxed host
process (launcher/process/stub/README.md has the threat model); most rules
are about that.  On KVM the guest kernel runs at (virtual) CPL0 in its own
VM: its exceptions go to its own IDT, and the rules that need the stub, or
an unprivileged kernel, only say so.
"""
import contextlib
import os
import pwd
import re
import select
import shutil
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

from harness import (RUN_TIMEOUT, Result, Skip, case, expect, expect_rc, fail, kill_group,
                     limit)

# Where the stub is linked (launcher/process/stub_abi.h: STUB_LOAD_ADDR).
STUB_BASE = 0x7E0000000000
MEM_SIZE = 128 << 20  # the launcher's default --mem
WHERE = r" at rip=0x[0-9a-f]+ rsp=0x[0-9a-f]+"
KILLED = ("lguest: guest process was killed by its sandbox "
          "(a system call its seccomp filter forbids)")


def _crash(what):
    """The process backend's one line for a guest fault (process/fault.c)."""
    return rf"lguest: guest crashed: {what}{WHERE}"


def _kvm_exception(vector, name):
    """The guest kernel's own report of an exception (guest/kernel/traps.c)."""
    return (rf"lguest: guest crashed: exception {vector} \({name}\){WHERE} "
            r"error=(0|0x[0-9a-f]+)")


def _page_fault(addr, access, how, where):
    return _crash(rf"page fault at {addr:#x} \({access}, {how}, {where}\)")


def _syscall_trap(nr):
    return _crash(rf"host system call {nr} attempted \(a guest calls the launcher only "
                  r"through its hypercall page\)")


# ---------------------------------------------------------------------------
# The stub binary, read as an attacker would read it (it is no secret).


def stub_symbols(build):
    """{name: address} from build/lguest-stub's symbol table, and the end of
    its image (the highest PT_LOAD end, page-rounded)."""
    data = (Path(build) / "lguest-stub").read_bytes()
    phoff, shoff = struct.unpack_from("<QQ", data, 32)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 54)
    end = 0
    for i in range(phnum):
        p_type, _, _, vaddr, _, _, memsz = struct.unpack_from("<IIQQQQQ", data,
                                                             phoff + i * phentsize)
        if p_type == 1:  # PT_LOAD
            end = max(end, (vaddr + memsz + 4095) & ~4095)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]
    syms = {}
    for sh in sections:
        if sh[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sh[6]]
        for off in range(sh[4], sh[4] + sh[5], sh[9]):
            name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, off)
            s = data[strtab[4] + name:data.index(b"\0", strtab[4] + name)].decode()
            if s:
                syms[s] = value
    return syms, end


# ---------------------------------------------------------------------------
# What a guest that tries to escape must see


def expect_escape(res, rc, err_re, trying):
    """RC, exactly one stderr line matching ERR_RE, stdout exactly the lines
    matching the TRYING regexes (then nothing), and never ESCAPED."""
    expect_rc(res, rc)
    # (A "trying" line may quote the word; the guest's verdict starts a line.)
    expect(not re.search(rb"^ESCAPED", res.stdout, re.M), "the guest says it ESCAPED", res)
    lines = res.out.split("\n")
    expect(lines[-1] == "" and len(lines) - 1 == len(trying)
           and all(re.fullmatch(p, ln) for p, ln in zip(trying, lines)),
           f"stdout should be exactly {len(trying)} line(s) matching {trying}", res)
    errs = res.err_lines
    expect(len(errs) == 1 and re.fullmatch(err_re, errs[0]),
           f"expected one stderr line matching /{err_re}/", res)


# Every rule both backends run, with what each must say.  On KVM the
# exception goes to the guest's IDT; on the process backend it is a host
# signal in the guest process, which the launcher describes.
BOTH = [
    ("read-outside", rf"escape read-outside: trying to read a byte at {MEM_SIZE + (1 << 20):#x}, "
                     r"past the end of guest RAM",
     _page_fault(MEM_SIZE + (1 << 20), "read", "not mapped", "outside guest RAM"),
     _kvm_exception(14, "page fault")),
    ("write-outside", rf"escape write-outside: trying to write a byte at "
                      rf"{MEM_SIZE + (1 << 20):#x}, past the end of guest RAM",
     _page_fault(MEM_SIZE + (1 << 20), "write", "not mapped", "outside guest RAM"),
     _kvm_exception(14, "page fault")),
    ("divide", r"escape divide: trying 1 / 0", _crash("divide error"),
     _kvm_exception(0, "divide error")),
    ("ud2", r"escape ud2: trying an invalid opcode", _crash("invalid opcode"),
     _kvm_exception(6, "invalid opcode")),
    ("int3", r"escape int3: trying a breakpoint", _crash(r"breakpoint \(int3\)"),
     _kvm_exception(3, "breakpoint")),
    # On KVM the guest kernel's own LSTAR catches it (guest/boot/entry.S).
    ("syscall", r'escape syscall: trying write\(1, "ESCAPED\\n", 8\) with a syscall instruction',
     _syscall_trap(1), r"lguest: guest crashed: syscall instruction executed at rip=0x[0-9a-f]+"),
]

# Only the process backend has a stub, a [vsyscall] page the guest can
# reach, host system calls to attempt and nothing mapped below 64 KiB.
# (The hypercall page's address is filled in from the stub binary.)
PROCESS_ONLY = [
    # The kernel emulates gettimeofday for [vsyscall], running seccomp
    # first with the vsyscall address as the instruction pointer: a trap.
    ("vsyscall", r"escape vsyscall: trying gettimeofday through \[vsyscall\] at "
                 r"0xffffffffff600000", _syscall_trap(96)),
    ("write-stub", r"escape write-stub: trying to write a byte at {hcall:#x} "
                   r"\(the hypercall page, stub text\)",
     _crash(r"page fault at {hcall:#x} \(write, protection violation, in the stub\)")),
    # The config page is found by its magic inside the stub's image.
    ("write-stub-data", r"escape write-stub-data: trying to write a byte at (0x7e[0-9a-f]+) "
                        r"\(the stub's config page\)",
     _crash(r"page fault at \1 \(write, protection violation, in the stub\)")),
    ("read-low", r"escape read-low: trying to read a byte at 0x1000, below guest RAM",
     _page_fault(0x1000, "read", "not mapped", "below guest RAM")),
    ("write-low", r"escape write-low: trying to write a byte at 0x1000, below guest RAM",
     _page_fault(0x1000, "write", "not mapped", "below guest RAM")),
]


@case("escape", params=[(rule, (rule, trying, proc, kvm)) for rule, trying, proc, kvm in BOTH])
def escape_both(t):
    """A guest's page fault outside its RAM, divide error, invalid opcode
    or breakpoint ends the run with status 125 and one line naming it."""
    rule, trying, proc, kvm = t.param
    res = t.boot(f"escape {rule}")
    expect_escape(res, 125, proc if t.backend == "process" else kvm, [trying])


@case("escape", boots=("process",),
      params=[(rule, (rule, trying, err)) for rule, trying, err in PROCESS_ONLY])
def escape_process(t):
    """A host system call from guest code (or through [vsyscall]) traps; a
    write to the stub's text or read-only config page, or any access below
    64 KiB, is a page fault that says where."""
    rule, trying, err = t.param
    syms, _ = stub_symbols(t.build)
    trying = trying.replace("{hcall:#x}", f"{syms['stub_hcall_page']:#x}")
    err = err.replace("{hcall:#x}", f"{syms['stub_hcall_page']:#x}")
    res = t.boot(f"escape {rule}")
    m = re.fullmatch(trying, res.out.split("\n")[0])
    if m and m.groups():  # the message must name the address the guest printed
        err = err.replace(r"\1", re.escape(m[1]))
    expect_escape(res, 125, err, [trying])


# ---------------------------------------------------------------------------
# Privileged instructions

# INSN for `escape priv INSN`, and the name process/fault.c gives it.
PRIV = [("hlt", "hlt"), ("cli", "cli"), ("sti", "sti"), ("in", "in"), ("out", "out"),
        ("int", "int"), ("int80", "int"), ("iret", "iret"), ("lgdt", "lgdt"), ("lidt", "lidt"),
        ("lldt", "lldt"), ("ltr", "ltr"), ("invlpg", "invlpg"), ("wrmsr", "wrmsr"),
        ("rdmsr", "rdmsr"), ("mov-cr3", "mov to/from a control register"), ("clts", "clts"),
        ("wbinvd", "wbinvd"), ("swapgs", "swapgs")]

# What may end a KVM guest's privileged instruction: its own IDT's report, a
# hlt exit, or a triple fault.  Which one depends on the host's KVM: on this
# platform's PVM (guest kernel at hardware CPL3) all but in/out are #GP
# (int $N past the IDT's 32 gates is #UD there); on VMX or SVM hlt is
# KVM_EXIT_HLT, a bad CR3 a triple fault, and cli, sti, lldt, invlpg,
# wrmsr, rdmsr, clts, wbinvd, swapgs just work at CPL0: "completed", status 3.
# (On SVM KVM resets a vCPU that triple-faulted, so no rip is given.)
KVM_PRIV_END = (_kvm_exception(r"\d+", "[a-z ]+") + "|"
                + r"lguest: guest executed hlt at 0x[0-9a-f]+: a paravirtual guest idles with WAIT"
                + "|" + r"lguest: guest triple-faulted \(rip 0x[0-9a-f]+\)"
                + "|" + r"lguest: guest triple-faulted \(KVM reset the vCPU, as it must on AMD "
                r"SVM: where it faulted is lost\)")
# in and out at CPL0 are port accesses: the launcher's ports, not the host's.
KVM_PORT = {"in": r"lguest: guest read port 0x60 \(ignored\)",
            "out": r"lguest: guest wrote 0 to unknown port 0x80 \(ignored\)"}


@case("escape-priv", params=[(insn, (insn, name)) for insn, name in PRIV])
def escape_priv(t):
    """Process backend: every privileged instruction is a general protection
    fault, named from the bytes at rip (int $0x80 is a 32-bit system call
    instead, which the filter kills; on a host kernel without IA-32
    emulation it is a #GP too).  KVM: the guest kernel's own business,
    which must still end cleanly."""
    insn, name = t.param
    res = t.boot(f"escape priv {insn}")
    trying = [rf"escape priv: trying {insn}"]
    if t.backend == "process":
        gp = _crash(rf"general protection fault \(privileged instruction: {re.escape(name)}\)")
        expect_escape(res, 125, f"{re.escape(KILLED)}|{gp}" if insn == "int80" else gp,
                      trying)
    elif insn in KVM_PORT:
        expect_escape(res, 3, KVM_PORT[insn],
                      trying + [rf"escape priv: {insn} completed \(the kernel's own privilege "
                                r"on KVM\)"])
    elif res.rc == 3:
        expect(res.stderr == b"", "a completed instruction with something on stderr", res)
        expect(res.out == f"escape priv: trying {insn}\nescape priv: {insn} completed (the "
               "kernel's own privilege on KVM)\n", "stdout", res)
    else:
        expect_escape(res, 125, KVM_PRIV_END, trying)


# ---------------------------------------------------------------------------
# The stub's own syscall instruction, with registers of the guest's choosing

# RULE, what it prints it tries (after PATH is filled in), and whether it takes PATH.
STUB = [
    ("stub-open", r'openat\(AT_FDCWD, "{path}", O_CREAT\|O_WRONLY, 0644\)', True),
    ("stub-exec", r'execve\("/bin/sh", \{"/bin/sh", "-c", "echo ESCAPED >{path}"\}, NULL\)',
     True),
    ("stub-memfd", r"write\(4, \.\.\.\): fd 4 was guest RAM's memfd", False),
    ("stub-fd3-len", r"write\(3, \.\.\., 81\): the channel, a wrong length", False),
    ("stub-fd-high", r"write\(0x100000003, \.\.\., 80\): fd 3 in the low half only", False),
    ("stub-notify-len", r"write\(5, \.\.\., 1\): a notify eventfd, not 8 bytes", False),
    ("stub-write-fd1", r'write\(1, "ESCAPED\\n", 8\)', False),
    ("stub-mmap", r"mmap\(0x1000000000, 4096, RWX, MAP_PRIVATE\|MAP_ANONYMOUS\|MAP_FIXED, -1, "
                  r"0\)", False),
    ("stub-mprotect", r"mprotect\(0x[0-9a-f]+, 4096, RWX\) on the hypercall page", False),
    ("stub-futex", r"futex\(0x[0-9a-f]+, FUTEX_WAKE_OP, 1, 0, 0x[0-9a-f]+, 0\)", False),
    ("stub-kill", r"kill\(0, SIGKILL\): the launcher's process group", False),
]


def _stub_run(t, rule, path=None):
    """Boot `escape RULE [PATH]`; the guest must have found the stub's one
    syscall instruction (just before stub_syscall_ret)."""
    syms, _ = stub_symbols(t.build)
    res = t.boot(f"escape {rule}" + (f" {path}" if path else ""))
    found = rf"escape {rule}: the stub's syscall instruction is at " \
            rf"{syms['stub_syscall_ret'] - 2:#x}"
    return res, found


@case("escape-stub", boots=("process",),
      params=[(rule, (rule, what, takes_path)) for rule, what, takes_path in STUB])
def escape_stub(t):
    """Jumping onto the stub's syscall instruction with any call or argument
    the seccomp filter does not allow gets the guest process killed; the
    launcher says so in one line, and nothing happened on the host."""
    rule, what, takes_path = t.param
    path = t.path(f"lguest-escape-{rule}") if takes_path else None
    res, found = _stub_run(t, rule, path)
    what = what.replace("{path}", re.escape(str(path))) if path else what
    expect_escape(res, 125, re.escape(KILLED), [found, rf"escape {rule}: trying {what}"])
    if path:
        expect(not path.exists(), f"the guest created {path}", res)


@case("escape-stub-control", boots=("process",))
def escape_stub_control(t):
    """The control for escape-stub: a call the filter allows (a whole
    message on fd 3) does reach the launcher, which stops a guest that sends
    what it never expects.  So the kills above are the filter's checks."""
    res, found = _stub_run(t, "stub-forge")
    expect_escape(res, 125, r"lguest: guest process sent message type 99 out of turn: "
                  r"guest stopped",
                  [found, r"escape stub-forge: trying write\(3, a message of type 99, 80\)"])


@case("escape-stub-flood", boots=("process",))
def escape_stub_flood(t):
    """A guest that floods the launcher with hypercall messages and never
    reads an answer is stopped: the launcher never blocks on its answers."""
    res, found = _stub_run(t, "stub-flood")
    expect_escape(res, 125, r"lguest: guest process does not read the launcher's answers: "
                  r"guest stopped",
                  [found, r"escape stub-flood: trying 1000000 hypercall messages without "
                          r"reading an answer"])


@case("escape-refused", boots=("kvm",))
def escape_refused(t):
    """On KVM there is no stub and no host process to escape from: those
    rules say so and exit 2 without trying anything."""
    for rule in [r for r, *_ in PROCESS_ONLY + STUB] + ["stub-forge", "stub-flood"]:
        res = t.boot(f"escape {rule}")
        expect_rc(res, 2)
        expect(res.stderr == b"", "stderr not empty", res)
        if rule.startswith(("stub-", "write-stub")):
            want = "escape: no stub here (not the process backend)\n"
            expect(res.out == want, f"expected {want!r}", res)
        else:
            expect(re.fullmatch(rf"escape {rule}: not the process backend \(.*\)\n", res.out),
                   "expected one 'not the process backend' line", res)


# ---------------------------------------------------------------------------
# Running processes


class Background:
    """The launcher started in the background (its own process group), with
    its output collected as it comes."""

    def __init__(self, t, argv):
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=t.tmp, start_new_session=True)
        self.fds = (self.proc.stdout.fileno(), self.proc.stderr.fileno())
        self.out = {fd: bytearray() for fd in self.fds}

    @property
    def stdout(self):
        return bytes(self.out[self.fds[0]])

    @property
    def stderr(self):
        return bytes(self.out[self.fds[1]])

    def result(self, rc=None):
        return Result(self.argv, rc, self.stdout, self.stderr)

    def wait_for(self, stream, pattern, timeout=limit(10)):
        """Read until STREAM ('stdout' or 'stderr') matches PATTERN; the match."""
        deadline = time.monotonic() + timeout
        open_fds = list(self.out)
        while True:
            m = re.search(pattern, getattr(self, stream))
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not open_fds:
                self.kill()
                fail(f"no {pattern!r} on {stream}", self.result())
            ready, _, _ = select.select(open_fds, [], [], left)
            for fd in ready:
                data = os.read(fd, 65536)
                if data:
                    self.out[fd] += data
                else:
                    open_fds.remove(fd)

    def finish(self, timeout=RUN_TIMEOUT):
        """Wait for the end; the Result (a timeout kills it and fails)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f"did not end within {timeout} s", self.result())
        self.out[self.fds[0]] += out
        self.out[self.fds[1]] += err
        return self.result(self.proc.returncode)

    def kill(self):
        if self.proc.poll() is None:
            kill_group(self.proc)


def _children(pid):
    """PIDs of PID's children."""
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(d.name))
    return kids


def _exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


@case("escape-loop")
def escape_loop(t):
    """A guest that never stops (and never calls the launcher) still stops
    on SIGTERM: status 143, promptly, quietly, and on the process backend
    with its guest process gone too."""
    bg = Background(t, t.boot_argv("escape loop"))
    try:
        bg.wait_for("stdout", rb"escape loop: trying to run forever\n")
        time.sleep(1)
        stub = str(t.build / "lguest-stub")
        kids = [k for k in _children(bg.proc.pid) if _exe(k) == stub]
        if t.backend == "process":
            expect(len(kids) == 1, f"expected one guest process, found {kids}", bg.result())
        start = time.monotonic()
        os.kill(bg.proc.pid, signal.SIGTERM)
        res = bg.finish(timeout=limit(5))
        took = time.monotonic() - start
    finally:
        bg.kill()
    expect_rc(res, 143)
    expect(res.stderr == b"", "stderr not empty", res)
    expect(res.out == "escape loop: trying to run forever\n", "stdout", res)
    expect(took < limit(2), f"took {took:.1f} s to stop after SIGTERM", res)
    left = [k for k in kids if _exe(k) == stub]
    expect(not left, f"guest process {left} outlived the launcher", res)


# ---------------------------------------------------------------------------
# The sandbox from outside


def _status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return fields


def _nobody():
    if os.geteuid() != 0:
        raise Skip("needs root (to become nobody)")
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("there is no user nobody")
    return pw.pw_uid, pw.pw_gid


@case("sandbox-inspect", boots=("process",),
      params=[("fast-path", ((), {3, 5, 6})), ("no-ioeventfd", (("--no-ioeventfd",), {3})),
              ("user-nobody", (("--user=nobody",), {3, 5, 6}))])
def sandbox_inspect(t):
    """While a guest sleeps, its process holds exactly what the stub's
    README says: guest RAM at its physical addresses and the stub's image,
    nothing below 64 KiB; seccomp filter mode, no capabilities,
    NO_NEW_PRIVS; fd 3 and, with the fast path, one notify eventfd per
    device; no processes, no core dumps; with --user, that user's uid."""
    opts, want_fds = t.param
    want_uid = 0
    if "--user=nobody" in opts:
        want_uid = _nobody()[0]
    img = t.path("disk.img")
    img.write_bytes(bytes(1 << 20))
    _, image_end = stub_symbols(t.build)
    bg = Background(t, t.boot_argv("sleep 1; echo done", blocks=[img], opts=opts,
                                   verbose=True))
    try:
        m = bg.wait_for("stderr", rb"lguest: process backend: guest process (\d+) ready, "
                                  rb"hypercall page at (0x[0-9a-f]+)\n")
        pid = int(m[1])
        bg.wait_for("stderr", rb"NOTIFY by ")  # setup done: the guest runs
        maps = Path(f"/proc/{pid}/maps").read_text()
        status = _status(pid)
        fds = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}
        limits = Path(f"/proc/{pid}/limits").read_text()
        exe = _exe(pid)
        res = bg.finish()
    finally:
        bg.kill()
    expect_rc(res, 0)
    expect(res.out == "done\n", "the guest did not finish its command", res)
    expect(exe == str(t.build / "lguest-stub"), f"guest process runs {exe}", res)
    stub = str(t.build / "lguest-stub")
    ram = False
    for line in maps.splitlines():
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        path = f[5] if len(f) > 5 else ""
        if lo == 0x10000 and hi == MEM_SIZE and path.startswith("/memfd:"):
            ram = True
        elif path == "[vsyscall]":
            pass
        elif STUB_BASE <= lo < hi <= image_end and path in (stub, ""):
            pass
        else:
            fail(f"unexpected mapping {line!r}\n    maps:\n" + maps, res)
    expect(ram, f"no guest RAM mapping 0x10000-{MEM_SIZE:#x}:\n{maps}", res)
    for key, want in (("Seccomp", "2"), ("CapEff", "0" * 16), ("CapPrm", "0" * 16),
                      ("NoNewPrivs", "1")):
        expect(status.get(key) == want, f"{key}: {status.get(key)!r}, expected {want!r}", res)
    uids = status["Uid"].split()
    expect(uids == [str(want_uid)] * 4, f"Uid: {status['Uid']}, expected {want_uid}", res)
    expect(fds == want_fds, f"open fds {sorted(fds)}, expected {sorted(want_fds)}", res)
    for name in ("Max processes", "Max core file size"):
        m = re.search(rf"^{name}\s+(\S+)\s+(\S+)", limits, re.M)
        expect(m and m.groups() == ("0", "0"), f"{name}: {m and m.groups()}, expected 0 0", res)


@case("process-unprivileged", boots=("process",), notify_modes=True)
def process_unprivileged(t):
    """The process backend needs no privilege at all: the launcher run as
    nobody, with Debian's vm.mmap_min_addr, boots the guest and reads its
    disk."""
    uid, gid = _nobody()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise Skip("setpriv (util-linux) is not installed")
    become = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    probe = t.run(become + ["test", "-x", t.lguest_bin, "-a", "-r", t.kernel])
    if probe.rc:
        raise Skip(f"nobody cannot run {t.lguest_bin} or read {t.kernel}")
    src = t.path("src")
    src.mkdir()
    (src / "README.txt").write_text("read by nobody\n")
    img = t.ext2_image(src)
    os.chown(img, uid, gid)
    os.chmod(t.tmp, 0o755)
    with _debian_mmap_min_addr():
        res = t.run(become + t.boot_argv("cat /README.txt", blocks=[img]))
    expect_rc(res, 0)
    expect(res.out == "read by nobody\n", "stdout", res)
    expect(res.stderr == b"", "stderr not empty", res)


MMAP_MIN_ADDR = Path("/proc/sys/vm/mmap_min_addr")
_mmap_min_addr_lock = threading.Lock()


@contextlib.contextmanager
def _debian_mmap_min_addr():
    """Debian's default vm.mmap_min_addr (65536) for the duration, where
    this machine has less (kind B machines have 4096) and we may change it:
    an unprivileged guest process must not need to map below 64 KiB."""
    with _mmap_min_addr_lock:
        old = int(MMAP_MIN_ADDR.read_text())
        changed = False
        if old < 65536 and os.access(MMAP_MIN_ADDR, os.W_OK):
            MMAP_MIN_ADDR.write_text("65536\n")
            changed = True
        try:
            yield
        finally:
            if changed:
                MMAP_MIN_ADDR.write_text(f"{old}\n")
