"""harness.py: the machinery the end-to-end tests share.

A test is a function taking one argument, a Ctx: its own temporary
directory, the binaries under test, and helpers to run the launcher and to
check what came out.  Tests register themselves with the @case decorator;
run.py collects and runs them.

Every launcher run has a timeout, every failure raises Fail with a message
that includes the command line, exit status and the tails of stdout and
stderr, so a FAIL line is enough to start debugging.
"""
import dataclasses
import fcntl
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import time
import zlib
from pathlib import Path

# Time limits stretch where everything is slow by nature: in the
# hardware-virtualisation tier (tests/hwvirt) the guest runs on SVM that QEMU
# emulates, and the tier sets LGUEST_TEST_TIME_SCALE.  Limits only: no test
# asserts a timing.
TIME_SCALE = max(1.0, float(os.environ.get("LGUEST_TEST_TIME_SCALE", "1")))


def limit(seconds):
    """SECONDS of patience here, stretched by LGUEST_TEST_TIME_SCALE."""
    return seconds * TIME_SCALE


RUN_TIMEOUT = limit(30)  # seconds, for every launcher run
TAIL = 600  # bytes of stdout/stderr shown in a failure


class Fail(Exception):
    """A test's assertion failed; the message says what and why."""


class Skip(Exception):
    """The test cannot run here (and that is allowed: not under CI=true)."""


class NotHere(Skip):
    """The test does not apply where its block devices run now (it reads a
    counter the kernel device does not keep, say): skipped, with the
    reason, even under CI=true."""


# ---------------------------------------------------------------------------
# Registration


@dataclasses.dataclass(frozen=True)
class NotifyMode:
    """How the guest's NOTIFY reaches a device thread."""

    name: str
    opts: tuple

    @property
    def ioeventfd(self):
        return not self.opts


NOTIFY_MODES = (
    NotifyMode("ioeventfd", ()),
    NotifyMode("no-ioeventfd", ("--no-ioeventfd",)),
)


# Ring layouts a test can run on (--ring=LAYOUT: console and disks alike).
LAYOUTS = ("draft3", "split", "packed")

# Where the guest's CPU runs (--backend=...): every test that boots a guest
# runs on each.  kvm needs a usable /dev/kvm; process runs everywhere.
BACKENDS = ("kvm", "process")


@dataclasses.dataclass
class Case:
    name: str
    fn: object
    backend: str  # None: the test boots no guest (or lets lguest choose)
    mode: NotifyMode
    param: object = None
    layout: str = None
    native: bool = False  # boots its own guest under QEMU here (see case())
    kernel: str = None  # its disks run in the kernel: "module" or "fake" (see case())
    host_only: bool = False  # starts no VM on any backend (see case())

    @property
    def needs_kvm(self):
        return self.backend == "kvm"


REGISTRY = []


def case(name, boots=True, notify_modes=False, params=None, layouts=False, native=False,
         kernel=None, host_only=False):
    """Register a test.

    boots: the test boots a guest, so it runs once per backend (ctx.backend;
    ctx.boot passes --backend=...), named NAME[backend,...]; True for every
    backend, or a sequence of some.  False: it runs once, untagged.
    notify_modes: run it once per NotifyMode (ctx.mode), tagged with it.
    layouts: run it once per ring layout (ctx.layout; ctx.boot passes
    --ring=LAYOUT), tagged with it.  A sequence picks some layouts only.
    params: a list of (label, value) pairs: one test per pair (ctx.param),
    named NAME/label[tags].
    native: the test boots a stock Linux under QEMU TCG itself, not our
    guest under our launcher: it runs once, untagged, and is left out when
    run.py is asked for one backend's tests (--backend), as it is in the
    hardware-virtualisation tier, where that QEMU would run inside QEMU.
    kernel: every --block the test boots with is served in the host kernel
    (device=kernel): "module" needs /dev/lguest-host (run.py skips the test,
    with the reason, where it is missing), "fake" loads the launcher with
    build/lguest-host-fake.so instead (tests/fake_host_module/).
    host_only: with boots=False, the test starts no VM on any backend: it
    runs host tools (ringbench, lguest-compare's document handling, --help),
    or our vhost-user backend against a frontend in Python.  run.py --backend
    (the hardware-virtualisation tier) reports it skipped, with that
    reason: the run without --backend has it, and under emulation it would
    only spend the tier's time.
    """
    assert not (host_only and boots), f"{name}: host_only tests boot nothing"
    if layouts is True:
        layouts = LAYOUTS
    if native:
        boots = False  # one run: our backends play no part
    backends = BACKENDS if boots is True else tuple(boots) if boots else (None,)

    def register(fn):
        modes = NOTIFY_MODES if notify_modes else (NOTIFY_MODES[0],)
        for label, value in params if params is not None else [(None, None)]:
            for backend in backends:
                for layout in layouts or (None,):
                    for mode in modes:
                        full = name + (f"/{label}" if label is not None else "")
                        tags = (([backend] if backend else []) + ([layout] if layout else [])
                                + ([mode.name] if notify_modes else []))
                        if tags:
                            full += f"[{','.join(tags)}]"
                        REGISTRY.append(Case(full, fn, backend, mode, value, layout, native,
                                             kernel, host_only))
        return fn

    return register


# ---------------------------------------------------------------------------
# Results of a launcher run


def _tail(data):
    if data is None:
        return "<none>"
    if len(data) > TAIL:
        return f"...({len(data) - TAIL} bytes before) " + repr(data[-TAIL:])
    return repr(data)


@dataclasses.dataclass
class Result:
    argv: list
    rc: int
    stdout: bytes
    stderr: bytes

    def describe(self):
        return (f"\n    command: {shlex.join(str(a) for a in self.argv)}"
                f"\n    rc: {self.rc}"
                f"\n    stdout: {_tail(self.stdout)}"
                f"\n    stderr: {_tail(self.stderr)}")

    @property
    def out(self):
        """stdout as text (the guest's console is a byte stream; tests that
        compare bytes use .stdout)."""
        return self.stdout.decode("utf-8", "replace")

    @property
    def err_lines(self):
        return self.stderr.decode("utf-8", "replace").splitlines()


def kill_group(proc):
    """SIGKILL the process group of PROC (one we started with
    start_new_session=True), then reap PROC."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def start_server(argv, sock, log, name):
    """Start ARGV, a server that creates the UNIX socket SOCK once it
    listens, in a process group of its own with its output in LOG, and
    wait for the socket.  If it exits first, or takes longer than 10 s
    (stretched), kill it and fail, showing its log.  Returns the Popen."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True)
    deadline = time.monotonic() + limit(10)
    while not Path(sock).exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            kill_group(proc)
            fail(f"{name} did not create its socket",
                 Result(argv, proc.returncode, b"", Path(log).read_bytes()))
        time.sleep(0.01)
    return proc


_SANITIZER_RE = re.compile(rb"==\d+==ERROR: \w+Sanitizer|runtime error: |^SUMMARY: \w+Sanitizer",
                           re.M)


def expect_no_sanitizer_report(res):
    """An ASan/UBSan/LSan report anywhere on stderr fails the test at once,
    showing the start of the report (its most useful part)."""
    m = _SANITIZER_RE.search(res.stderr)
    if m:
        start = res.stderr.rfind(b"\n", 0, m.start()) + 1
        report = res.stderr[start:start + 1500].decode("utf-8", "replace")
        raise Fail(f"sanitizer report on stderr (rc {res.rc}):\n    "
                   + report.replace("\n", "\n    ")
                   + f"\n    command: {shlex.join(str(a) for a in res.argv)}"
                   + f"\n    stdout: {_tail(res.stdout)}")


def fail(msg, res=None):
    raise Fail(msg + (res.describe() if res is not None else ""))


def expect(cond, msg, res=None):
    if not cond:
        fail(msg, res)


def expect_rc(res, rc):
    expect(res.rc == rc, f"exit status {res.rc}, expected {rc}", res)


def expect_stdout(res, data):
    """stdout must be exactly DATA (bytes or str)."""
    if isinstance(data, str):
        data = data.encode()
    if res.stdout != data:
        fail(f"stdout differs from the expected {_tail(data)}", res)


def expect_in_stdout(res, *needles):
    for n in needles:
        if isinstance(n, str):
            n = n.encode()
        expect(n in res.stdout, f"stdout lacks {n!r}", res)


def expect_no_stderr(res):
    """Quiet runs write nothing to stderr: this also catches sanitizer
    reports from an ASan build."""
    expect(res.stderr == b"", "unexpected output on stderr", res)


def expect_setup_error(res, *needles):
    """A setup error: exit status 1, nothing on stdout, and exactly one
    stderr line, starting 'lguest: ' and containing every needle."""
    expect_rc(res, 1)
    expect(res.stdout == b"", "setup error wrote to stdout", res)
    lines = res.err_lines
    expect(len(lines) == 1 and res.stderr.endswith(b"\n"),
           f"expected exactly one stderr line, got {len(lines)}", res)
    expect(lines[0].startswith("lguest: "), "stderr line does not start with 'lguest: '", res)
    for n in needles:
        expect(n in lines[0], f"stderr line lacks {n!r}", res)


# ---------------------------------------------------------------------------
# The -v statistics


STAT_COLUMNS = ("notifies", "by-exit", "chains", "descs", "bytes-out", "bytes-in", "bounce",
                "signals", "suppressed", "wakeups", "max-out")
_HEADER_RE = re.compile(r"^device\s+ring\s+" + r"\s+".join(re.escape(c) for c in STAT_COLUMNS)
                        + r"$")
_DEVROW_RE = re.compile(r"^(console|blk\d+)\s+(draft3|split|packed)" + r"\s+(\d+)" * len(STAT_COLUMNS)
                        + r"$")
_BLKROW_RE = re.compile(
    r"^(blk\d+)\s+reads (\d+), writes (\d+), flushes \(fdatasync\) (\d+), errors (\d+), "
    r"unsupported (\d+), header bytes (\d+)$")
# A device the kernel serves (--block=...,device=kernel): LGH_GET_STATS's
# counters, in place of the launcher's block model's.
_KERNELROW_RE = re.compile(
    r"^(blk\d+)\s+kernel: requests (\d+), kicks (\d+), signals (\d+), suppressed (\d+), "
    r"flushes \(vfs_fsync\) (\d+), calls (\d+)$")
# The launcher's block model: its I/O engine and its polling window.
_AIOROW_RE = re.compile(
    r"^(blk\d+)\s+aio=(\w+): (\d+) submitted, (\d+) short transfers resumed; "
    r"poll window (\d+) us: (\d+) found work, (\d+) expired$")
_VCPU_RE = re.compile(
    r"^vcpu\s+exits (\d+): notify (\d+), console (\d+), wait (\d+), status (\d+), other (\d+); "
    r"wall \d+\.\d{3} s$")


class KernelCounters(dict):
    """The counters of a block device the kernel serves: asking for one its
    LGH_GET_STATS does not keep (reads, errors, max-out ...) makes the test
    NotHere rather than wrong."""

    def __missing__(self, key):
        raise NotHere(f"the kernel device does not count {key!r} (LGH_GET_STATS has no "
                      "such counter)")


@dataclasses.dataclass
class Stats:
    devices: dict  # name -> {column: int}
    blk: dict  # name -> {reads, writes, flushes, errors, unsupported, header}; the kernel's:
    #            {requests, kicks, signals, suppressed, flushes, calls} (KernelCounters)
    vcpu: dict  # exits, notify, console, wait, status, other
    messages: list  # the "lguest: " lines


def parse_stats(res):
    """Parse a -v run's stderr, refusing any line that is neither a
    'lguest: ' message nor part of the statistics table (a sanitizer report,
    say).  The table must be there exactly once."""
    devices, blk, vcpu, messages = {}, {}, None, []
    header = 0
    for line in res.err_lines:
        if line.startswith("lguest: "):
            messages.append(line)
        elif _HEADER_RE.match(line):
            header += 1
        elif m := _DEVROW_RE.match(line):
            expect(m[1] not in devices, f"device {m[1]} listed twice", res)
            devices[m[1]] = dict(zip(STAT_COLUMNS, map(int, m.groups()[2:])))
            devices[m[1]]["ring"] = m[2]
        elif m := _BLKROW_RE.match(line):
            blk[m[1]] = dict(zip(("reads", "writes", "flushes", "errors", "unsupported",
                                  "header"), map(int, m.groups()[1:])))
        elif m := _AIOROW_RE.match(line):
            expect(m[1] in blk, f"{m[1]}'s aio line comes before its counters", res)
            blk[m[1]]["aio"] = m[2]
            blk[m[1]].update(zip(("submitted", "resumed", "poll_us", "polls_found",
                                  "polls_expired"), map(int, m.groups()[2:])))
        elif m := _KERNELROW_RE.match(line):
            blk[m[1]] = KernelCounters(zip(("requests", "kicks", "signals", "suppressed",
                                            "flushes", "calls"), map(int, m.groups()[1:])))
        elif m := _VCPU_RE.match(line):
            expect(vcpu is None, "vcpu line printed twice", res)
            vcpu = dict(zip(("exits", "notify", "console", "wait", "status", "other"),
                            map(int, m.groups())))
        else:
            fail(f"unexpected stderr line {line!r}", res)
    expect(header == 1, f"statistics header printed {header} times", res)
    expect(vcpu is not None, "no vcpu statistics line", res)
    expect("console" in devices, "no console row in the statistics", res)
    expect(set(blk) == {d for d in devices if d.startswith("blk")},
           "block devices and their detail rows do not match", res)
    for name, counters in blk.items():
        if isinstance(counters, KernelCounters):
            # The table's max-out is the launcher's view, which a kernel device has not.
            devices[name] = KernelCounters((k, v) for k, v in devices[name].items()
                                           if k != "max-out")
    return Stats(devices, blk, vcpu, messages)


# ---------------------------------------------------------------------------
# Per-test context


class Ctx:
    """What a test works with: a private temp dir, the binaries, its notify
    mode and parameter, and helpers to run the launcher."""

    def __init__(self, build, tmp, mode, param, name, layout=None, backend=None,
                 kernel_device=None):
        self.build = Path(build)
        self.layout = layout
        self.backend = backend
        # Disks in the kernel (Case.kernel): every --block gets device=kernel,
        # and with the fake module every launcher run preloads it.
        self.blk_device = "kernel" if kernel_device else None
        # Settings every --block of the test gets (cases_engines.py: aio=, poll=, queues=).
        self.blk_extra = None
        self.preload = self.build / FAKE_MODULE if kernel_device == "fake" else None
        self.lguest_bin = self.build / "lguest"
        self.kernel = self.build / "guest.elf"
        self.tmp = Path(tmp)
        self.mode = mode
        self.param = param
        # Deterministic per test, so a failure reproduces with the same data.
        self.rng = random.Random(name)

    # -- running ------------------------------------------------------------

    def run(self, argv, input=None, timeout=RUN_TIMEOUT, env=None):
        """Run ARGV (stdin from INPUT bytes, else /dev/null) with a timeout.
        It gets its own process group, so a timeout kills everything it
        started (strace's tracee, say), not just the first process."""
        argv = [str(a) for a in argv]
        if self.preload and str(self.lguest_bin) in argv:
            env = dict(os.environ if env is None else env, LD_PRELOAD=str(self.preload))
            # An ASan launcher wants its runtime first; the fake comes first here.
            asan = env.get("ASAN_OPTIONS")
            env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None
                             else subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=self.tmp,
                             start_new_session=True)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(p)
            try:
                out, err = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                out, err = b"", b""
            fail(f"timed out after {timeout} s", Result(argv, None, out, err))
        res = Result(argv, p.returncode, out, err)
        expect_no_sanitizer_report(res)
        return res

    def lguest(self, *args, input=None, env=None):
        """Run the launcher with exactly ARGS (no notify-mode options)."""
        return self.run([self.lguest_bin, *args], input=input, env=env)

    @property
    def backend_opts(self):
        """--backend=... for this test's backend (none if it has none)."""
        return [f"--backend={self.backend}"] if self.backend else []

    def boot_argv(self, cmd=None, blocks=(), opts=(), kernel=None, verbose=False):
        argv = [self.lguest_bin, *self.backend_opts, *self.mode.opts]
        if self.layout:
            argv.append(f"--ring={self.layout}")
        argv += [*opts]
        argv += [f"--block={self.placed(b)}" for b in blocks]
        if verbose:
            argv.append("-v")
        argv.append(kernel or self.kernel)
        if cmd is not None:
            argv += ["--", cmd]
        return argv

    def placed(self, block):
        """A --block value, with device=kernel if this test's disks run there
        (and it does not say where itself)."""
        block = str(block)
        if self.blk_device and "device=" not in block:
            block += f",device={self.blk_device}"
        if self.blk_extra:
            block += f",{self.blk_extra}"
        return block

    def boot(self, cmd=None, blocks=(), opts=(), kernel=None, verbose=False, input=None,
             env=None):
        """Boot the guest in this test's notify mode with guest command line
        CMD (None: commands from INPUT on stdin)."""
        return self.run(self.boot_argv(cmd, blocks, opts, kernel, verbose), input=input,
                        env=env)

    def boot_stats(self, cmd, blocks=(), opts=(), rc=0):
        """Boot with -v, expect exit status RC, parse and sanity-check the
        statistics (including that NOTIFY took this test's path)."""
        # A console device thread slow to take its first look at DRIVER_OK
        # can find the guest's only output buffer itself, and the guest
        # rightly skips that NOTIFY (the device says it is awake): then
        # --no-ioeventfd has no exit to show.  Timing, seen under load:
        # boot again (up to 3 times) until the console was notified.
        for attempt in range(3):
            res = self.boot(cmd, blocks, opts, verbose=True)
            expect_rc(res, rc)
            stats = parse_stats(res)
            if self.mode.ioeventfd or stats.devices.get("console", {}).get("notifies"):
                break
        if self.backend:
            want = f"lguest: backend {self.backend} (asked for)"
            expect(want in stats.messages, f"no {want!r} line: another backend ran?", res)
        self.check_notify_path(res, stats)
        if self.layout:
            rings = {d: s["ring"] for d, s in stats.devices.items()}
            expect(all(r == self.layout for r in rings.values()),
                   f"--ring={self.layout}, but the devices run {rings}", res)
        return res, stats

    def check_notify_path(self, res, stats):
        """With ioeventfd no NOTIFY may reach the vCPU loop; without it every
        device that was notified was notified through a vCPU exit.  Either
        way the vcpu line's notify exits are the sum of the by-exit column.
        On the process backend the stub does WAIT itself (a futex in the
        shared page), so no WAIT ever reaches the launcher."""
        by_exit = {d: s["by-exit"] for d, s in stats.devices.items()}
        expect(stats.vcpu["notify"] == sum(by_exit.values()),
               f"vcpu notify exits {stats.vcpu['notify']} != sum of by-exit {by_exit}", res)
        if self.backend == "process":
            expect(stats.vcpu["wait"] == 0,
                   f"{stats.vcpu['wait']} WAIT exits on the process backend", res)
        if self.mode.ioeventfd:
            expect(all(v == 0 for v in by_exit.values()),
                   f"by-exit should be 0 for every device with ioeventfd: {by_exit}", res)
        else:
            for d, s in stats.devices.items():
                if s["notifies"]:
                    expect(s["by-exit"] > 0,
                           f"{d}: {s['notifies']} notifies but by-exit 0 with --no-ioeventfd",
                           res)
                    expect(s["notifies"] <= s["by-exit"],
                           f"{d}: more notifies ({s['notifies']}) than exits that sent "
                           f"them ({s['by-exit']}) with --no-ioeventfd", res)
            expect(by_exit.get("console", 0) > 0, "console never notified by exit", res)

    # -- files and images ---------------------------------------------------

    def path(self, name):
        return self.tmp / name

    def random_bytes(self, n):
        return self.rng.randbytes(n)

    def random_text(self, n):
        """N bytes of printable text in lines: safe to send through the
        console and compare byte for byte."""
        alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-_"
        out = bytearray(self.rng.choices(alphabet, k=n))
        for i in range(63, n, 64):
            out[i] = ord("\n")
        if n:
            out[-1] = ord("\n")
        return bytes(out)

    def raw_image(self, name="disk.img", size=4 << 20):
        """A scratch disk of random bytes; returns (path, contents)."""
        data = self.random_bytes(size)
        p = self.path(name)
        p.write_bytes(data)
        return p, data

    def ext2_image(self, src, name="fs.img", size="8M"):
        """An ext2 image (1 KiB blocks) holding directory SRC."""
        if not shutil.which("mke2fs"):
            raise Skip("mke2fs (e2fsprogs) is not installed")
        img = self.path(name)
        argv = ["mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", "-d", str(src), str(img), size]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=RUN_TIMEOUT)
        if p.returncode:
            fail(f"mke2fs failed", Result(argv, p.returncode, p.stdout, p.stderr))
        return img

    def gzip_kernel(self):
        """BUILD/guest.elf compressed with gzip, in the temp dir."""
        if not shutil.which("gzip"):
            raise Skip("gzip is not installed")
        gz = self.path("guest.elf.gz")
        with open(gz, "wb") as f:
            p = subprocess.run(["gzip", "-c", str(self.kernel)], stdout=f,
                               stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
        if p.returncode:
            fail(f"gzip failed: {p.stderr!r}")
        return gz


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def compiled_libdir(lguest):
    """The lib directory LGUEST looks in last for its kernel and stub
    (make's PREFIX/lib/lguest, launcher/install_paths.h), as its --help
    says: a test that wants nothing found must know whether an installed
    lguest is there to be found."""
    out = subprocess.run([str(lguest), "--help"], capture_output=True, text=True,
                         timeout=RUN_TIMEOUT).stdout
    m = re.search(r"directory, or in (/\S*)\.$", out, re.M)
    if not m:
        fail(f"{lguest} --help does not say where the installed kernel is:\n{out}")
    return Path(m.group(1))


# ---------------------------------------------------------------------------
# The kernel device (--block=...,device=kernel): host-module/'s lguest_host.ko


def require_ring_insns(t):
    """Raise Skip unless callgrind can count the ring code of t's
    build/ringbench here (ringbench --insns)."""
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed (apt-get install valgrind)")
    with open(t.build / "ringbench", "rb") as f:
        if b"__asan_init" in f.read():
            # The sanitizers' checks would be counted as ring code.
            raise NotHere("a sanitizer build: its instruction counts are not the ring code's")


LGH_DEVICE = "/dev/lguest-host"
NO_MODULE = "no /dev/lguest-host (the lguest_host module is not loaded)"
# The stand-in for it in the launcher's own process (tests/fake_host_module/).
FAKE_MODULE = "lguest-host-fake.so"

# The suites whose disks run run.py --blk-device=kernel puts in the kernel:
# those about the block device and its rules as the guest sees them (not the
# trace, whose device-side steps the kernel does not record).
BLK_DEVICE_MODULES = ("cases_guest", "cases_block", "cases_errors")


def module_problem():
    """None if the kernel device can be asked for here, else why not."""
    return None if os.path.exists(LGH_DEVICE) else NO_MODULE


# ---------------------------------------------------------------------------
# /dev/kvm


KVM_GET_API_VERSION = 0xAE00


def kvm_usable(path="/dev/kvm"):
    """None if PATH is a usable KVM device, else why not."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return f"no {path} on this machine"
    except OSError as e:
        return f"cannot open {path}: {e.strerror}"
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError as e:
        return f"{path}: KVM_GET_API_VERSION: {e.strerror}"
    finally:
        os.close(fd)
    if version != 12:
        return f"{path}: KVM API version {version}, expected 12"
    return None
