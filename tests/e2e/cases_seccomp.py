"""cases_seccomp.py: the launcher's own seccomp filters (launcher/sandbox/).

After setup each of the launcher's threads may make only the system calls
its job needs.  A test-only hook, LGUEST_TEST_SECCOMP_VIOLATE=NAME, makes
the thread NAME ("vcpu", "shutdown", "trace" or a device's name) open
/dev/null for writing once it is locked in, which no thread may do.  Each
case checks, on each backend and for each kind of thread: exit status 159
and exactly one line on stderr naming the thread and the call; that with
--seccomp=off the same hook changes nothing; that every thread runs under
a filter (/proc/PID/task/*/status); what -v says; and that the terminal is
put back after a violation in an interactive session.
"""
import os
import re
import signal
import subprocess
import termios
import time

import harness
from cases_guest import Pty
from cases_net import HOST, NetNS
from harness import (Result, case, expect, expect_no_stderr, expect_rc, fail, kill_group, limit,
                     start_server)

EXIT_SECCOMP = 159
HOOK = "LGUEST_TEST_SECCOMP_VIOLATE"


def violation_line(who):
    return f"lguest: seccomp: {who} made a forbidden system call: openat (257); stopping"


class Setup:
    """What one kind of thread needs to exist: options, a guest command and
    what it prints, and anything to start first."""

    def __init__(self, t, kind):
        self.t, self.kind = t, kind
        self.opts, self.server, self.ns = [], None, None
        self.cmd, self.out = "echo hello", b"hello\n"
        if kind in ("blk", "blk-threads", "vhost-user", "kernel"):
            img, _ = t.raw_image(size=1 << 20)
            self.cmd, self.out = "blkwrite 8 1 0xab; blkread 8 1", b"crc32="
        if kind == "blk":
            self.opts = [f"--block={img}"]
        elif kind == "blk-threads":
            # The worker pool's threads share the device's filter.
            self.opts = [f"--block={img},aio=threads"]
        elif kind == "kernel":
            # The stand-in for lguest_host.ko (tests/fake_host_module/).
            if not (t.build / harness.FAKE_MODULE).is_file():
                raise harness.Skip(f"no {t.build / harness.FAKE_MODULE} (build it: make)")
            t.preload = t.build / harness.FAKE_MODULE
            self.opts = [f"--block={img},device=kernel"]
        elif kind == "vhost-user":
            sock = t.path("vb.sock")
            self.server = start_server([t.build / "lguest-vhost-blk", f"--socket={sock}",
                                        img], sock, t.path("vb.log"), "lguest-vhost-blk")
            self.opts = [f"--vhost-user-blk={sock}"]
        elif kind == "trace":
            self.opts = [f"--trace-file={t.path('trace.json')}"]
        elif kind == "net":
            self.ns = NetNS(t)
            self.opts = [f"--tunnet={HOST}/24"]

    def run(self, hook, extra=()):
        """Boot with the hook set to HOOK's thread, and EXTRA options."""
        argv = self.t.boot_argv(self.cmd, opts=[*self.opts, *extra])
        if not self.ns:
            return self.t.run(argv, env=dict(os.environ, **{HOOK: hook}))
        res = self.ns.run_in(["env", f"{HOOK}={hook}", *argv])
        harness.expect_no_sanitizer_report(res)
        return res

    def close(self):
        if self.server and self.server.poll() is None:
            kill_group(self.server)
        if self.ns:
            self.ns.close()


# (label, kind of setup, the hook's NAME, the thread as the message names it)
THREADS = [
    ("vcpu", "blk", "vcpu", "the vCPU thread"),
    ("shutdown", "blk", "shutdown", "the main thread at shutdown"),
    ("console", "blk", "console", "the console device thread"),
    ("blk", "blk", "blk0", "the blk0 device thread"),
    ("blk-io-worker", "blk-threads", "blk0-io", "the blk0-io device thread"),
    ("vhost-user-blk", "vhost-user", "blk0", "the blk0 device thread"),
    ("kernel-blk", "kernel", "blk0", "the blk0 device thread"),
    ("net", "net", "net0", "the net0 device thread"),
    ("trace", "trace", "trace", "the trace drain thread"),
]


@case("seccomp-violation", params=[(label, (kind, name, who))
                                   for label, kind, name, who in THREADS])
def violation(t):
    """A thread that makes a system call outside its list stops lguest:
    exit status 159, one line naming the thread and the call, nothing
    from the guest after it.  With --seccomp=off the same call goes
    through and the guest runs as ever."""
    kind, name, who = t.param
    s = Setup(t, kind)
    try:
        res = s.run(name)
        expect_rc(res, EXIT_SECCOMP)
        expect(res.err_lines == [violation_line(who)],
               f"expected exactly the line {violation_line(who)!r}", res)
        res = s.run(name, ["--seccomp=off"])
        expect_rc(res, 0)
        expect(s.out in res.stdout, f"stdout lacks {s.out!r}", res)
        expect_no_stderr(res)
    finally:
        s.close()


def _thread_status(pid):
    """{tid: (Seccomp, NoNewPrivs)} of every thread of PID that runs our
    code: KVM's own workers in the process (kvm-nx-lpage-recovery) run
    only in the kernel."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        fields = {}
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    fields[key] = value.strip()
        except OSError:
            continue  # gone meanwhile
        if not fields.get("Name", "").startswith("kvm-"):
            out[int(task)] = (fields.get("Seccomp"), fields.get("NoNewPrivs"))
    return out


@case("seccomp-threads", params=[("on", ()), ("off", ("--seccomp=off",))])
def threads(t):
    """While the guest runs, every thread of the launcher (vCPU, console,
    blk0, trace) is in seccomp filter mode with no_new_privs, and -v says
    how many system calls each may make; with --seccomp=off none is, and
    -v says so."""
    img, _ = t.raw_image(size=1 << 20)
    argv = t.boot_argv("sleep 2; echo done", opts=[f"--block={img}",
                                                   f"--trace-file={t.path('t.json')}",
                                                   *t.param], verbose=True)
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=t.tmp,
                         start_new_session=True)
    want = ("0", "0") if t.param else ("2", "1")
    try:
        deadline = time.monotonic() + limit(10)
        while True:
            status = _thread_status(p.pid)
            # The main thread locks itself in last, just before the guest runs.
            if len(status) == 4 and all(v == want for v in status.values()):
                break
            if p.poll() is not None or time.monotonic() > deadline:
                kill_group(p)
                out, err = p.communicate()
                fail(f"threads (Seccomp, NoNewPrivs): {status}, expected 4 threads with "
                     f"{want}", Result(argv, p.returncode, out, err))
            time.sleep(0.05)
        out, err = p.communicate(timeout=limit(30))
    finally:
        if p.poll() is None:
            kill_group(p)
    res = Result(argv, p.returncode, out, err)
    harness.expect_no_sanitizer_report(res)
    expect_rc(res, 0)
    expect(res.stdout == b"done\n", "guest output", res)
    said = [ln for ln in res.err_lines if ln.startswith("lguest: seccomp: ")]
    if t.param:
        want_said = ["lguest: seccomp: off (--seccomp=off): no thread of the launcher is "
                     "filtered"]
        expect(said == want_said, f"-v should say {want_said}", res)
    else:
        expect(len(said) == 1 and re.fullmatch(
            r"lguest: seccomp: on: vcpu \d+ system calls, console \d+, blk0 \d+, trace \d+ "
            r"\(any other stops lguest\)", said[0]), "-v should count each thread's calls",
            res)


@case("seccomp-stop-cont")
def stop_cont(t):
    """Stopped and continued (^Z, fg; a debugger attaching) while every
    thread sleeps: the kernel resumes their polls, futexes and sleeps with
    restart_syscall, which every filter allows, and the guest goes on."""
    img, _ = t.raw_image(size=1 << 20)
    argv = [str(a) for a in t.boot_argv("sleep 1; echo done", opts=[
        f"--block={img}", f"--trace-file={t.path('t.json')}"])]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=t.tmp, start_new_session=True)
    try:
        time.sleep(0.4)
        for sig in (signal.SIGSTOP, signal.SIGCONT):
            os.kill(p.pid, sig)
            time.sleep(0.2)
        out, err = p.communicate(timeout=limit(30))
    finally:
        if p.poll() is None:
            kill_group(p)
    res = Result(argv, p.returncode, out, err)
    harness.expect_no_sanitizer_report(res)
    expect_rc(res, 0)
    expect(res.stdout == b"done\n", "guest output", res)
    expect_no_stderr(res)


@case("seccomp-output-files")
def output_files(t):
    """The output files opened at setup are written at shutdown, whatever
    they are: stdio's first write asks whether a character device is a
    terminal (an ioctl the main thread may make)."""
    for stats, trace in ((t.path("stats.json"), t.path("trace.json")), ("/dev/null",) * 2):
        res = t.boot("echo hello", opts=[f"--stats-json={stats}", f"--trace-file={trace}"])
        expect_rc(res, 0)
        expect(res.stdout == b"hello\n", "guest output", res)
        expect_no_stderr(res)


@case("seccomp-violation-tty")
def violation_tty(t):
    """On a terminal, a violation puts the terminal back as it found it
    before it stops lguest (the shell has its prompt back)."""
    pty = Pty(t, ["env", f"{HOOK}=shutdown", *t.boot_argv()])
    try:
        pos = pty.wait_for(b"# ")
        pty.type(b"exit 3\r")
        got = pty.wait_exit()
        if got != EXIT_SECCOMP:
            pty.fail(f"exit status {got}, expected {EXIT_SECCOMP}")
        line = violation_line("the main thread at shutdown").encode()
        if line not in pty.buf[pos:]:
            pty.fail(f"no {line!r} on the terminal")
        after = termios.tcgetattr(pty.slave)
        if after != pty.termios_before:
            pty.fail(f"terminal settings not restored:\n    before {pty.termios_before}"
                     f"\n    after  {after}")
    finally:
        pty.close()
