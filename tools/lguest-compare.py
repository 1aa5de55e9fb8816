#!/usr/bin/env python3
"""lguest-compare: draft3, split and packed rings, on KVM and as a process, side by side.

    lguest-compare [--quick] [--out=DIR] [--repeats=N] [--no-net] [--doc=FILE]
                   [--backend=all|auto|kvm|process] [--only=SECTION,...]
                   [--before=DIR]

Runs the same guest, devices and workloads over the three ring layouts, on
each backend, and leaves in DIR (default build/compare; where lguest-compare
is installed, ./lguest-compare-results):

  results.json   every figure of every run, the machine, the date, the commit
  results.md     the tables
  *.svg          the plots (gnuplot), with their data and scripts in plots/

The backends (--backend): `all` (the default) is every backend that can run
here: kvm if /dev/kvm opens, and process always; `auto` is the one lguest
picks by itself; `kvm` or `process` just that one.  Every cell below runs on
each, and says which (results.json: "backend" per cell and per run).

The matrix:

  block   backend x {draft3, split, packed} x {ioeventfd, exit, ioeventfd
          with a 50 us polling window (--poll=50)}, and on split and packed
          also ioeventfd with 4 request queues (--block=IMG,queues=4; draft
          III has one pair of queues per device by design) x
          {4 KiB randread qd=1, 4 KiB randread qd=32, 1 MiB seqread qd=4,
           4 KiB randwrite qd=4 with a FLUSH every 32 writes}
          guest `blkbench` against host `hostbench` (pread/pwrite of the same
          image, same pattern, same run), twice: single-threaded, and at the
          parallelism of the device's I/O engine (its --stats-json "aio" and
          "aio_parallelism": io_uring -> one thread with the workload's qd in
          flight through io_uring; threads -> that many threads, at most qd;
          sync or not reported -> one thread), learnt from one `exit 0` boot
          per backend, ring and queue count before the first repeat.  The
          poll rows are left out, with a note, if lguest has no --poll, and
          the multi-queue rows if it has no queues=.  In results.json the
          poll rows are cells of kind "block-poll" and the multi-queue ones
          "block-mq", so that kind "block" is exactly the two notify paths.

          --before=DIR also runs every "block" cell (both notify paths, one
          queue, no polling) with an older build in DIR (its lguest and
          guest.elf; lguest-stub for the process backend), right beside the
          same cell of this build within each repeat (which one goes first
          alternates by repeat), and reports those as cells of kind
          "block-before", with "ratio_to_before" (x before) on the "block"
          ones.  The older build is told nothing it may not know (no aio=,
          --poll or queues=), and counters its --stats-json lacks are shown
          as unknown (-).  For example:

            git worktree add /tmp/old <commit> && make -C /tmp/old
            lguest-compare --before=/tmp/old/build --only block
  net     backend x {draft3, split, packed} x {UDP round trip 64 B, UDP
          packets/s at 64 B and 1400 B with 64 in flight}: guest `udpsend`
          through a tap against host `netbench send` across a veth pair
          between two network namespaces (needs root; --no-net leaves it out)
  hcall   backend x guest `hcbench`: NOTIFY by the fast path and by exit
          (--no-ioeventfd), a hypercall the launcher answers, and the wake
          round trip (NOTIFY -> device -> signal -> WAIT returns) on both
          paths, against host `hostbench pingpong` (two threads waking each
          other through eventfds)
  rings   build/ringbench, the layouts alone between two threads; and, if
          `make ringtest` has built it (BUILD/ringtest/, docs/ringtest.md),
          Linux's tools/virtio/ringtest beside it, run by run in the same
          rounds: ringbench --workload=ringtest --qsize=256 --batch=1 split
          against ringtest's virtio_ring_0_9 and packed against its ring, by
          polling and by eventfd (ringtest --sleep), with the instructions
          per buffer of each side counted by callgrind in lock-step runs
          (ringbench --insns; tests/bench/ringtest_lockstep.c), and the
          same count for a peer that validates, Linux's virtio_ring.c
          against vringh (tests/bench/vringh_lockstep.c), and for our split
          and packed rings in ringtest's shape with lguest's rules
          (tests/bench/ringtest_checked*.c).  Without them,
          one line says so and those rows are left out
  boot    `lguest --backend=B guest.elf -- 'exit 0'` wall time, bare and with
          a disk per layout, against fork+exec+wait of /bin/true
  placement  where the block device runs: backend x {in the launcher
          (`--block`) on split and packed, our `lguest-vhost-blk` in another
          process over vhost-user on split and packed, qemu-storage-daemon
          (split: it offers no packed), the host kernel's lguest_host.ko
          (`device=kernel`, split and packed)} x {4 KiB randread qd=1 and qd=32,
          1 MiB seqread qd=4}, against host `hostbench`; kicks and calls per
          request from one traced run per cell (`--trace-file`, counted the
          same way for all three) and from each side's own counters.  A
          placement whose program is missing is reported as skipped, why.

`--only=SECTION,...` runs just those sections (block, net, hcall, rings,
boot, placement; default: all), e.g. `--only=placement`.  --before is used
by the block section only.

Each cell runs --repeats times (5; --quick: 1, with a tenth of the work);
the repeats are interleaved (repeat 1 of every cell, then repeat 2 ...) so
that a slow minute on a shared machine spreads over all cells, not one.  We
report the median and the spread (min..max), and each guest figure as a
ratio to the host baseline of the same repeat set.  Boot times are 20 runs
(--quick: 5) of each, interleaved the same way.

With --doc=FILE, the run also refreshes FILE (docs/COMPARISON.md): the part
between its "results:begin" and "results:end" markers is replaced by the new
tables, and the plots are copied next to it (FILE's directory/compare/).
With --only, only the sections that ran are replaced, each under a line that
names its run; the rest of FILE's results stay as they were.

In the build tree, --build (where lguest, guest.elf, lguest-stub and the
benchmarks are) defaults to this program's directory, build/.  Installed
(make install, the Debian package), it defaults to PREFIX/lib/lguest, where
the kernel, the stub and the benchmarks are, with lguest and
lguest-vhost-blk beside this program in PREFIX/bin.

Python 3 standard library, gnuplot for the plots.  Asserts nothing about
speed; exits 1 if any run failed (the outputs then say which).
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

PROG = "lguest-compare"
HERE = os.path.dirname(os.path.abspath(__file__))
# Where --build defaults to: this program's directory in the build tree
# (build/, beside guest.elf and the benchmarks), and where it is installed
# (make install, the Debian package: PREFIX/bin) PREFIX/lib/lguest, where
# the kernel, the stub and the benchmarks are; lguest itself is then found
# by program() below.
_INSTALLED_LIB = os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                               "..", "lib", "lguest"))
DEFAULT_BUILD = (_INSTALLED_LIB if not os.path.exists(os.path.join(HERE, "guest.elf"))
                 and os.path.exists(os.path.join(_INSTALLED_LIB, "guest.elf")) else HERE)
# The programs an installation keeps in bin/ rather than lib/lguest.
BIN_PROGRAMS = ("lguest", "lguest-vhost-blk")
LAYOUTS = ("draft3", "split", "packed")
PATHS = ("ioeventfd", "exit")
# The block rows: (notify path, polling window in µs, request queues), None
# being the launcher's default (polling off, one queue).  The polling window
# rows are cells of kind "block-poll", the multi-queue ones "block-mq" (on
# BLOCK_MQ_LAYOUTS only), beside the "block" ones, so that a reader of
# results.json that knows only the two notify paths still finds exactly
# those.  With --before, the "block" rows run again with the older build, as
# cells of kind "block-before".
BLOCK_POLL_US = 50
BLOCK_MQ_QUEUES = 4
BLOCK_MQ_LAYOUTS = ("split", "packed")
BLOCK_MQ_NOTE = ("draft III has one pair of queues per device by design, so multi-queue rows "
                 "are split and packed only")
BLOCK_VARIANTS = [("ioeventfd", None, None), ("exit", None, None),
                  ("ioeventfd", BLOCK_POLL_US, None), ("ioeventfd", None, BLOCK_MQ_QUEUES)]
BLOCK_KINDS = ("block", "block-poll", "block-mq", "block-before")
BACKENDS = ("kvm", "process")
GUEST_MEM = "512M"

# Block workloads: what blkbench and hostbench are told, and how much work
# a full run does (a --quick run does a tenth).
BLOCK = [
    dict(name="randread-4k-qd1", title="4 KiB randread, qd=1", pattern="randread",
         bs="4K", qd=1, count=5000),
    dict(name="randread-4k-qd32", title="4 KiB randread, qd=32", pattern="randread",
         bs="4K", qd=32, count=200000),
    dict(name="seqread-1m-qd4", title="1 MiB seqread, qd=4", pattern="seqread",
         bs="1M", qd=4, count=1500),
    dict(name="randwrite-4k-qd4-flush32", title="4 KiB randwrite, qd=4, FLUSH every 32",
         pattern="randwrite", bs="4K", qd=4, count=8000, flush=32),
]
NET = [
    dict(name="udp-rtt-64", title="UDP round trip, 64 B", size=64, window=1, count=5000),
    dict(name="udp-pps-64", title="UDP packets/s, 64 B, 64 in flight", size=64, window=64,
         count=20000),
    dict(name="udp-pps-1400", title="UDP packets/s, 1400 B, 64 in flight", size=1400,
         window=64, count=20000),
]
# Hypercalls: what `hcbench` measures, by the notify path it runs with (None:
# the path does not matter, measured once), its count (--quick: a tenth), and
# the same for the host's eventfd ping-pong.  They run over --ring=HCALL_RING.
HCALLS = [
    dict(name="notify", path="ioeventfd", count=10000,
         title="NOTIFY, fast path (ioeventfd; process: the stub writes the eventfd)"),
    dict(name="notify", path="exit", count=10000,
         title="NOTIFY, exit path (`--no-ioeventfd`)"),
    dict(name="call", path=None, count=10000,
         title="a hypercall the launcher answers (CONSOLE, 0 bytes)"),
    dict(name="wake", path="ioeventfd", count=5000,
         title="wake: 512 B read, NOTIFY → device → signal → WAIT returns"),
    dict(name="wake", path="exit", count=5000, title="wake, NOTIFY by exit"),
]
HCALL_RING = "split"
PINGPONG_COUNT = 10000
BOOT_RUNS = 20          # --quick: 5

# Where the block device runs: in the launcher's device thread (`--block`),
# in our own backend in another process (`lguest-vhost-blk`, vhost-user), or
# in qemu-storage-daemon (vhost-user, split only), or in the host kernel
# (`--block=IMG,device=kernel`, host-module/lguest_host.ko, where loaded).  The BLOCK workloads
# named here, each also run once per cell with --trace-file and
# PLACEMENT_TRACED requests (--quick: a tenth) to count kicks and calls.
PLACEMENTS = [("launcher", "split"), ("launcher", "packed"), ("vhost-blk", "split"),
              ("vhost-blk", "packed"), ("qsd", "split"), ("kernel", "split"),
              ("kernel", "packed")]
PLACEMENT_BLOCK = ("randread-4k-qd1", "randread-4k-qd32", "seqread-1m-qd4")
PLACEMENT_TRACED = {"randread-4k-qd1": 2000, "randread-4k-qd32": 5000, "seqread-1m-qd4": 1000}
SECTIONS = ("block", "net", "hcall", "rings", "boot", "placement")

# ringbench configurations: the notification protocol with one buffer per
# publish, then the ring alone (polling), unbatched and batched.
RINGBENCH = [
    dict(notify="eventfd", batch=1),
    dict(notify="poll", batch=1),
    dict(notify="poll", batch=16),
]

# Linux's tools/virtio/ringtest (docs/ringtest.md), built by `make ringtest`
# into BUILD/RINGTEST_DIR: each ringbench layout against the ringtest ring
# of the same kind, at ringtest's default ring size and one buffer per
# kick, polling and by eventfd (ringtest --sleep).  The op counts are
# fixed, the same for both sides (--quick: a tenth), and large enough that
# ringtest's start-up, inside its wall time, stays small: a 200,000-buffer
# --sleep run takes ~15 ms, no more than its start-up on a loaded machine.
RINGTEST_DIR = "ringtest"
RINGTEST_PAIRS = [
    dict(notify="poll", layout="split", peer="virtio_ring_0_9", ops=2000000),
    dict(notify="poll", layout="packed", peer="ring", ops=2000000),
    dict(notify="eventfd", layout="split", peer="virtio_ring_0_9", ops=2000000),
    dict(notify="eventfd", layout="packed", peer="ring", ops=2000000),
]
RINGTEST_QSIZE = 256
RINGTEST_BATCH = 1
# Rounds of the two callgrind runs of a lock-step binary, chosen so that
# everything but the rounds cancels out: multiples of the ring size (both
# runs end at the same ring position), under 65536 (neither wraps
# virtio_ring_0_9's 16-bit indices, which costs one more kick), and with as
# many digits as each other (the count is parsed and printed).
RINGTEST_LOCKSTEP_ROUNDS = (12800, 64000)
# ringbench's own lock-step count for --insns: it only needs to be well
# above its start-up, the figure is per buffer.
RINGTEST_INSNS_OPS = 20000
# ringbench --insns' columns: ring code instructions per buffer, both sides,
# then each side's and the glue between them.  A ringbench without --insns,
# or a column it does not print, leaves `-`.
RINGBENCH_INSNS = ("insns/buf", "drv-insns/buf", "dev-insns/buf", "glue-insns/buf")
# A validating peer, built by the same `make ringtest`: Linux's virtio driver
# ring and vringh, the device side the kernel uses, on ringtest's workload
# in lock-step (tests/bench/vringh_lockstep.c), counted as the rings are.
VRINGH_LOCKSTEP = "vringh-lockstep"
# What the checks cost, from the same `make ringtest`: our split and packed
# rings in ringtest's shape (globals, whole program) with lguest's rules,
# each with its device steps inlined and out of line (-calls), counted as
# ringtest's rings are (tests/bench/ringtest_checked.c,
# ringtest_checked_packed.c).  By layout: the two builds and the ringtest
# ring each is set beside.
CHECKED = {"split": ("checked-lockstep", "checked-calls-lockstep", "virtio_ring_0_9"),
           "packed": ("checked-packed-lockstep", "checked-packed-calls-lockstep", "ring")}
RINGTEST_NOTE = ("Draft III has no ringtest counterpart: ringtest has a split ring "
                 "(virtio_ring_0_9.c) and a packed-style one (ring.c), nothing with draft "
                 "III's per-direction queues, so its rows are only in the ringbench tables.")


def block_kind(poll, queues):
    """The kind of a block cell of this build with polling window POLL and
    QUEUES request queues (None: the launcher's default)."""
    return "block-poll" if poll is not None else "block-mq" if queues is not None else "block"


def block_variants_on(variants, layout):
    """The block rows (BLOCK_VARIANTS, or those this lguest can run) on LAYOUT."""
    return [v for v in variants if v[2] is None or layout in BLOCK_MQ_LAYOUTS]


def block_what(name, backend, layout, path, poll=None, queues=None, before=False):
    """A block cell as the log and the failures name it."""
    return (f"{name} {backend} {layout} {path}" + ("" if poll is None else f" poll={poll}")
            + ("" if queues is None else f" queues={queues}") + (" before" if before else ""))


def hcalls_run_on(path):
    """The HCALLS measured in the boot with notify PATH (those for any path: with ioeventfd)."""
    return [h for h in HCALLS if h["path"] == path or (h["path"] is None and path == "ioeventfd")]


class CompareError(Exception):
    """A run that failed: one line, and the run is recorded as failed."""


def log(msg):
    print(msg, flush=True)


def program(build, name):
    """NAME of the build in BUILD: a build directory holds everything, an
    installation's lib/lguest all but BIN_PROGRAMS, which are in its bin/
    (BUILD/../../bin); for this program's own installation, else beside
    this program or on PATH.  Never another build's: a --before missing
    its lguest must say so, not run this one."""
    path = os.path.join(build, name)
    if name not in BIN_PROGRAMS or os.path.exists(path):
        return path
    own = os.path.normpath(os.path.abspath(build)) == _INSTALLED_LIB
    for d in [os.path.join(build, "..", "..", "bin")] + ([HERE] if own else []):
        if os.path.exists(os.path.join(d, name)):
            return os.path.normpath(os.path.join(d, name))
    return (shutil.which(name) if own else None) or path


def run(argv, timeout=300, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, **kw)


# ---------------------------------------------------------------------------
# Parsing what the programs print

_BENCH = re.compile(r"(\d+) ops in [0-9.]+ s: ([0-9.]+) IOPS, ([0-9.]+) MB/s, "
                    r"p50 ([0-9.]+) us p99 ([0-9.]+) us")
_PCT = re.compile(r"^\w+ latency us:((?: p[0-9.]+=[0-9.]+)+)$", re.M)
# hostbench's own line, after the blkbench-like ones: how it ran, its CPU time.
_HOSTENGINE = re.compile(r"^hostbench engine=(\w+) threads=(\d+) inflight=(\d+) "
                         r"cpu_us_per_op=([0-9.]+)$", re.M)
_UDP = re.compile(r"(\d+) sent, (\d+) echoed, (\d+) corrupt, (\d+) lost, rtt p50 ([0-9.]+) us "
                  r"p99 ([0-9.]+) us, ([0-9.]+) packets/s")


def parse_blkbench(out, what):
    m = _BENCH.search(out)
    if not m:
        raise CompareError(f"{what}: no result line in {out.strip()[-300:]!r}")
    fig = dict(ops=int(m[1]), iops=float(m[2]), mbps=float(m[3]), p50_us=float(m[4]),
               p99_us=float(m[5]))
    p = _PCT.search(out)
    if p:
        fig["pct_us"] = {k: float(v) for k, v in re.findall(r"p([0-9.]+)=([0-9.]+)", p[1])}
    return fig


def parse_udpsend(out, what):
    m = _UDP.search(out)
    if not m:
        raise CompareError(f"{what}: no udpsend result in {out.strip()[-300:]!r}")
    sent, echoed, corrupt, lost = (int(x) for x in m.groups()[:4])
    if corrupt or lost or echoed != sent:
        raise CompareError(f"{what}: {sent} sent, {echoed} echoed, {corrupt} corrupt, "
                           f"{lost} lost")
    return dict(packets=echoed, rtt_p50_us=float(m[5]), rtt_p99_us=float(m[6]),
                pps=float(m[7]))


# hcbench's and hostbench pingpong's line: n, then nanoseconds.
_HCB = re.compile(r"^(?:hcbench|hostbench) (\w+): n=(\d+) min=(\d+) p50=(\d+) p99=(\d+) "
                  r"mean=(\d+) ns$", re.M)


def parse_hcbench(out, what):
    """{measure: {n, min_ns, p50_ns, p99_ns, mean_ns}} of every result line."""
    figs = {m[1]: dict(n=int(m[2]), min_ns=int(m[3]), p50_ns=int(m[4]), p99_ns=int(m[5]),
                       mean_ns=int(m[6])) for m in _HCB.finditer(out)}
    if not figs:
        raise CompareError(f"{what}: no result line in {out.strip()[-300:]!r}")
    return figs


def parse_ringbench(argv, r):
    """ringbench's table from its run R: (columns, rows), each row a dict by
    column, numbers as numbers and `-` (not measured) left as it is.  The
    table ends at the first blank line (--insns prints its by-operation
    table after one)."""
    out = r.stdout.split("\n\n", 1)[0]
    lines = [ln.split() for ln in out.splitlines() if ln.strip()]
    if r.returncode or not lines or lines[0][0] != "layout":
        raise CompareError(f"{' '.join(argv[1:])}: exit {r.returncode}: "
                           f"{(r.stdout + r.stderr).strip()}")
    rows = []
    for fields in lines[1:]:
        row = dict(zip(lines[0], fields))
        for k, v in row.items():
            try:
                row[k] = float(v) if "." in v else int(v)
            except ValueError:
                pass
        rows.append(row)
    return lines[0], rows


def callgrind_ir(argv, out_file):
    """The instructions (Ir) program ARGV executes, start to exit, under
    callgrind: the "summary:" line of its output file ("totals:" in older
    valgrinds), and what the program printed."""
    r = run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"] + argv,
            timeout=600)
    if r.returncode:
        raise CompareError(f"callgrind {' '.join(str(a) for a in argv)}: exit {r.returncode}: "
                           f"{(r.stdout + r.stderr).strip()[-300:]}")
    try:
        with open(out_file) as f:
            text = f.read()
    finally:
        try:
            os.unlink(out_file)
        except OSError:
            pass
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    if not m:
        raise CompareError(f"callgrind {argv[0]}: no summary: or totals: line in {out_file}")
    return int(m[1]), r.stdout


def lockstep_insns(argv, n1, n2, out_file):
    """Instructions per buffer of a lock-step program: ARGV + [rounds] runs
    that many rounds of one buffer through both sides.  Two runs under
    callgrind, N1 and N2 rounds: (Ir(N2) - Ir(N1)) / (N2 - N1), in which
    start-up and exit, the same in both, cancel out.  Exact: the program
    takes the same path every time."""
    ir1, _ = callgrind_ir(argv + [str(n1)], out_file)
    ir2, out = callgrind_ir(argv + [str(n2)], out_file)
    return dict(rounds=[n1, n2], ir=[ir1, ir2], insns_per_buf=(ir2 - ir1) / (n2 - n1),
                output=out.strip())


def load_stats(stats_path, backend, older=False):
    """`lguest --stats-json`, checked to come from BACKEND (OLDER: from an
    older build, which may not say; it must not name another)."""
    with open(stats_path) as f:
        st = json.load(f)
    if st.get("backend") != backend and not (older and "backend" not in st):
        raise CompareError(f"ran on backend {st.get('backend')!r}, not {backend!r}")
    return st


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def device_figures(st, name, ops):
    """Per-request counters for device NAME from `lguest --stats-json`.  A
    counter the launcher does not write (an older build: --before) is left
    out, so shown as "-", never taken as 0."""
    dev = next((d for d in st.get("devices", []) if d.get("name") == name), None)
    if dev is None or not ops:
        raise CompareError(f"no {name} in the --stats-json")
    if dev.get("broken"):
        raise CompareError(f"{name} stopped (see the launcher's message)")
    fig = dict(backend=st["backend"]) if "backend" in st else {}
    for k, key in (("notifies_per_op", "notifies"), ("notify_exits_per_op", "notify_exits"),
                   ("notify_skipped_per_op", "notify_skipped_by_guest"),
                   ("signals_per_op", "signals"), ("suppressed_per_op", "signals_suppressed"),
                   ("descs_per_op", "descs"), ("polls_found_per_op", "polls_found"),
                   ("polls_expired_per_op", "polls_expired")):
        if _num(dev.get(key)):
            fig[k] = dev[key] / ops
    exits = (st.get("vcpu_exits") or {}).get("total")
    if _num(exits):
        fig["exits_per_op"] = exits / ops
    if _num(st.get("vcpu_cpu_s")):
        fig["vcpu_cpu_us_per_op"] = st["vcpu_cpu_s"] * 1e6 / ops
    if _num(dev.get("device_cpu_s")):
        fig["device_cpu_us_per_op"] = dev["device_cpu_s"] * 1e6 / ops
    for k in ("bounce_bytes", "poll_us"):
        if _num(dev.get(k)):
            fig[k] = dev[k]
    queues = dev.get("queues") if isinstance(dev.get("queues"), list) else []
    if queues and all(_num(q.get("ring_bytes")) for q in queues):
        fig["ring_bytes"] = sum(q["ring_bytes"] for q in queues)
    # The queues that popped requests (a multi-queue device: each of its
    # request queues, as the guest spreads its requests over them).
    if queues and all(_num(q.get("popped")) for q in queues):
        fig["queues_used"] = sum(q["popped"] > 0 for q in queues)
    fig.update(device_engine(dev))
    return fig


def device_engine(dev):
    """A block device's I/O engine from its --stats-json object: {aio,
    aio_parallelism}, None where the launcher does not say (an older build,
    or not a block device)."""
    aio, par = dev.get("aio"), dev.get("aio_parallelism")
    return dict(aio=aio if isinstance(aio, str) else None,
                aio_parallelism=par if isinstance(par, int) and par > 0 else None)


def host_parallel(w, eng):
    """The host baseline at the parallelism of a device whose engine is ENG
    (device_engine()), for block workload W: (engine, n), where n is the
    requests hostbench keeps in flight; ("sync", 1) is the single-threaded
    one.  Never more than the guest keeps in flight (qd), nor than the
    device can (aio_parallelism)."""
    par = eng.get("aio_parallelism") or w["qd"]
    if eng.get("aio") == "io_uring":
        return ("uring", min(w["qd"], par))
    if eng.get("aio") == "threads":
        return ("sync", min(w["qd"], par))
    return ("sync", 1)


def host_cfg_name(cfg):
    """How hostbench is told to run a host configuration (engine, n)."""
    engine, n = cfg
    return f"engine=uring qd={n}" if engine == "uring" else f"engine=sync threads={n}"


def blk0_of(st, ring):
    """blk0 of a `--stats-json`, checked to be on RING and working."""
    dev = next((d for d in st.get("devices", []) if d.get("name") == "blk0"), None)
    if dev is None:
        raise CompareError("no blk0 in the --stats-json")
    if dev.get("broken"):
        raise CompareError("blk0 stopped (see the launcher's message)")
    if dev.get("ring") != ring:
        raise CompareError(f"blk0 ran on {dev['ring']}, not {ring}")
    return dev


# lguest-vhost-blk --stats, at the end of each session.
_SESSION = re.compile(r"^lguest-vhost-blk: blk0: session: .*\brequests=(\d+) kicks=(\d+) "
                      r"calls=(\d+) suppressed=(\d+) bounce=(\d+)", re.M)


def parse_sessions(text):
    """The counters of every finished session in lguest-vhost-blk's log."""
    return [dict(requests=int(m[1]), kicks=int(m[2]), calls=int(m[3]), suppressed=int(m[4]),
                 bounce=int(m[5])) for m in _SESSION.finditer(text)]


def count_trace(path, dev="blk0"):
    """Kicks and calls per request of DEV in a `--trace-file` (docs/trace-format.md),
    counted the same way wherever the device runs:

      requests  the guest's `add`s (one per block request on split and packed);
      kicks     the guest's `notify` steps with sent=true: each NOTIFY it sent,
                one write of the device's kick eventfd (whoever reads it);
      calls     device-side (pid 2) `signal` steps with sent=true: in the launcher
                each interrupt its device sent; for a vhost-user device each call
                the launcher took from the backend's call eventfd (one read takes
                every write since the last);
      taken     the guest's `signal-taken`s: the interrupts it saw."""
    with open(path) as f:
        tr = json.load(f)
    other = tr.get("otherData", {})
    dropped = other.get("guest_dropped", 0) + other.get("launcher_dropped", 0)
    if dropped:
        raise CompareError(f"the trace dropped {dropped} events")
    n = dict(add=0, notify=0, skipped=0, signal=0, taken=0)
    for e in tr["traceEvents"]:
        a = e.get("args") or {}
        if e.get("cat") != "ring" or a.get("dev") != dev:
            continue
        guest = e["pid"] == 1       # pid 1: the guest (driver), 2: the launcher (device)
        if guest and e["name"] == "add":
            n["add"] += 1
        elif guest and e["name"] == "notify":
            n["notify" if a["sent"] else "skipped"] += 1
        elif guest and e["name"] == "signal-taken":
            n["taken"] += 1
        elif not guest and e["name"] == "signal" and a["sent"]:
            n["signal"] += 1
    if not n["add"]:
        raise CompareError(f"no {dev} requests in the trace")
    req = n["add"]
    return dict(requests=req, kicks=n["notify"], calls=n["signal"],
                kicks_per_req=n["notify"] / req, calls_per_req=n["signal"] / req,
                notify_skipped_per_req=n["skipped"] / req, taken_per_req=n["taken"] / req)


# ---------------------------------------------------------------------------
# The runs


class Peer:
    """A vhost-user backend serving the image on SOCK, started on first use
    and kept for every run after (it serves one frontend at a time and
    listens again); its stdout and stderr go to LOG."""

    def __init__(self, name, argv, sock, log):
        self.name, self.argv, self.sock, self.log = name, argv, sock, log
        self.proc = None
        self.log_from = 0       # where the running process's output starts

    def start(self):
        if self.proc and self.proc.poll() is None:
            return
        if self.proc:       # it died since the last run: say so, start afresh next time
            status, self.proc = self.proc.returncode, None
            raise CompareError(f"{self.name} exited (status {status}): {self.log_tail()}")
        if os.path.lexists(self.sock):
            os.unlink(self.sock)
        with open(self.log, "ab") as log:
            self.log_from = log.tell()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        # The socket appears once it listens.
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self.proc = None
                raise CompareError(f"{self.name} did not create its socket: {self.log_tail()}")
            time.sleep(0.01)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self):
        """What the running process wrote."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_from)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self):
        return repr(self.log_text().strip()[-300:])


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.lguest = program(self.build, "lguest")
        self.kernel = os.path.join(self.build, "guest.elf")
        self.tmp = os.path.join(args.out, "tmp")
        self.image = os.path.join(self.tmp, "bench.img")
        self.scale = 10 if args.quick else 1
        self.failures = []
        self.peers = {}
        self._options = {}          # launcher_options() by lguest, once asked
        self._rb_accepts = {}       # ringbench_accepts() by option, once asked
        # --before's lguest and guest.elf, if asked for.
        if args.before:
            self.before_lguest = program(args.before, "lguest")
            self.before_kernel = os.path.join(args.before, "guest.elf")

    def binaries(self, before=False):
        """(lguest, guest.elf) of this build, or with BEFORE of --before's."""
        return (self.before_lguest, self.before_kernel) if before else (self.lguest, self.kernel)

    def count(self, w):
        return max(w["count"] // self.scale, 1)

    def make_image(self):
        os.makedirs(self.tmp, exist_ok=True)
        size = (64 if self.args.quick else 256) << 20
        with open(self.image, "wb") as f:
            for _ in range(size >> 20):
                f.write(os.urandom(1 << 20))
        with open(self.image, "rb") as f:       # into the page cache
            while f.read(1 << 24):
                pass
        return size

    def boot_argv(self, backend, layout):
        """`lguest ... -- 'exit 0'`: bare (LAYOUT None), or with the image as blk0."""
        if backend == "host":
            return ["/bin/true"]
        disk = [f"--ring={layout}", f"--block={self.image}"] if layout else []
        return [self.lguest, f"--backend={backend}"] + disk + [self.kernel, "--", "exit 0"]

    def boot_once(self, backend, layout):
        """Wall time of one fork + exec + wait of the program, as subprocess does it."""
        argv = self.boot_argv(backend, layout)
        t0 = time.perf_counter()
        r = run(argv, timeout=60)
        ms = (time.perf_counter() - t0) * 1e3
        if r.returncode:
            raise CompareError(f"exit {r.returncode}: {r.stderr.strip()[-300:]}")
        return dict(boot_ms=ms) if backend == "host" else dict(backend=backend, boot_ms=ms)

    def lguest_argv(self, backend, layout, stats, *extra, lguest=None):
        return [lguest or self.lguest, f"--backend={backend}", f"--ring={layout}",
                f"--stats-json={stats}", *extra]

    def blk_args(self, w, count=None):
        a = [f"bs={w['bs']}", f"qd={w['qd']}", f"count={count or self.count(w)}", "pct"]
        if "flush" in w:
            a.append(f"flush={w['flush']}")
        return a

    def launcher_options(self, before=False):
        """What this lguest (BEFORE: --before's) can be told, from its --help:
        {"poll": --poll=, "aio": --block=...,aio=, "queues": --block=...,queues=}.
        Older builds have none of them; we then leave out what needs them
        rather than fail every run on a bad option."""
        lguest = self.binaries(before)[0]
        if lguest not in self._options:
            r = run([lguest, "--help"], timeout=30)
            text = r.stdout + r.stderr
            self._options[lguest] = {"poll": "--poll=" in text, "aio": "aio=" in text,
                                     "queues": "queues=" in text}
        return self._options[lguest]

    def block_host(self, w, cfg=None):
        """hostbench on the image; CFG (engine, n) says how (None: hostbench's
        default, qd threads of synchronous I/O)."""
        argv = [os.path.join(self.build, "hostbench"), w["pattern"], self.image]
        if cfg is None:
            argv += self.blk_args(w)
        elif cfg[0] == "uring":
            argv += self.blk_args(dict(w, qd=cfg[1])) + ["engine=uring"]
        else:
            argv += self.blk_args(w) + ["engine=sync", f"threads={cfg[1]}"]
        r = run(argv)
        if r.returncode:
            raise CompareError(f"hostbench {w['name']}: {r.stderr.strip()}")
        fig = parse_blkbench(r.stdout, f"hostbench {w['name']}")
        m = _HOSTENGINE.search(r.stdout)
        if m:
            fig.update(threads=int(m[2]), inflight=int(m[3]), cpu_us_per_op=float(m[4]))
        m = re.search(r"^hostbench flushes: (\d+)$", r.stdout, re.M)
        if m:
            fig["flushes"] = int(m[1])
        return fig

    def block_disk(self, queues=None):
        """The --block= of the block cells: the image, with QUEUES request
        queues if not None (never for --before's build)."""
        return f"--block={self.image}" + ("" if queues is None else f",queues={queues}")

    def block_probe(self, backend, layout, queues=None, before=False):
        """The I/O engine of blk0 as block_guest() sets it up (device_engine()),
        from one `exit 0` boot: the device says in its --stats-json."""
        stats = os.path.join(self.tmp, "stats.json")
        lguest, kernel = self.binaries(before)
        argv = self.lguest_argv(backend, layout, stats, self.block_disk(queues),
                                f"--mem={GUEST_MEM}", lguest=lguest)
        r = run(argv + [kernel, "--", "exit 0"], timeout=60)
        if r.returncode:
            raise CompareError(f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}")
        return device_engine(blk0_of(load_stats(stats, backend, before), layout))

    def block_guest(self, w, backend, layout, path, poll=None, queues=None, before=False):
        """One blkbench run: blk0 on LAYOUT, NOTIFY by PATH, with a polling
        window of POLL µs and QUEUES request queues (None: the launcher's
        default, and all --before's build is ever run with)."""
        what = block_what(w["name"], backend, layout, path, poll, queues, before)
        stats = os.path.join(self.tmp, "stats.json")
        cmd = " ".join(["blkbench", w["pattern"]] + self.blk_args(w))
        lguest, kernel = self.binaries(before)
        argv = self.lguest_argv(backend, layout, stats, self.block_disk(queues),
                                f"--mem={GUEST_MEM}", lguest=lguest)
        if path == "exit":
            argv.append("--no-ioeventfd")
        if poll is not None:
            argv.append(f"--poll={poll}")
        r = run(argv + [kernel, "--", cmd])
        if r.returncode:
            raise CompareError(f"{what}: exit {r.returncode}: {(r.stdout + r.stderr).strip()}")
        fig = parse_blkbench(r.stdout, what)
        fig.update(device_figures(load_stats(stats, backend, before), "blk0", fig["ops"]))
        return fig

    # -- where the block device runs ----------------------------------------

    def peer(self, where):
        """The vhost-user backend of placement WHERE, running."""
        if where not in self.peers:
            sock = os.path.join(self.tmp, f"{where}.sock")
            # A copy of the image of its own: a peer keeps its image open
            # (and locked, as lguest and QEMU lock disks) for the whole
            # comparison, while other cells boot lguest on bench.img.
            image = os.path.join(self.tmp, f"bench-{where}.img")
            shutil.copyfile(self.image, image)
            if where == "vhost-blk":
                argv = [program(self.build, "lguest-vhost-blk"), f"--socket={sock}",
                        "--stats", image]
            else:
                argv = [shutil.which("qemu-storage-daemon"), "--blockdev",
                        f"driver=file,filename={image},node-name=f", "--export",
                        "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,"
                        f"addr.path={sock},writable=on"]
            self.peers[where] = Peer(os.path.basename(argv[0]), argv, sock,
                                     os.path.join(self.tmp, f"{where}.log"))
        self.peers[where].start()
        return self.peers[where]

    def stop_peers(self):
        for p in self.peers.values():
            p.stop()

    def placement_guest(self, w, backend, where, ring, traced=None):
        """One blkbench run with blk0 served WHERE on RING; with TRACED, a
        shorter run of that many requests with --trace-file, counted."""
        what = f"{w['name']} {backend} {where} {ring}"
        stats = os.path.join(self.tmp, "stats.json")
        peer = None if where in ("launcher", "kernel") else self.peer(where)
        dev = (f"--block={self.image},ring={ring}" if peer is None else
               f"--vhost-user-blk={peer.sock},ring={ring}")
        if where == "kernel":
            dev += ",device=kernel"
        sessions = len(parse_sessions(peer.log_text())) if where == "vhost-blk" else 0
        argv = self.lguest_argv(backend, ring, stats, dev, f"--mem={GUEST_MEM}")
        trace = os.path.join(self.tmp, "trace.json")
        if traced:
            argv.append(f"--trace-file={trace}")
        cmd = " ".join(["blkbench", w["pattern"]] + self.blk_args(w, traced))
        r = run(argv + [self.kernel, "--", cmd])
        if r.returncode:
            raise CompareError(f"{what}: exit {r.returncode}: {(r.stdout + r.stderr).strip()}")
        fig = parse_blkbench(r.stdout, what)
        fig["backend"] = backend
        blk0 = blk0_of(load_stats(stats, backend), ring)
        if traced:
            fig.update(count_trace(trace))
            os.unlink(trace)
        elif where in ("launcher", "kernel"):
            # Its own counters (the kernel's, through LGH_GET_STATS): NOTIFYs
            # that reached the device, interrupts sent.
            fig.update(stats_kicks_per_req=blk0["notifies"] / blk0["chains"],
                       stats_calls_per_req=blk0["signals"] / blk0["chains"])
        elif where == "vhost-blk":
            # The backend's: its session line, once it has seen the hang-up.
            deadline = time.monotonic() + 10
            while len(parse_sessions(peer.log_text())) <= sessions:
                if time.monotonic() > deadline or peer.proc.poll() is not None:
                    raise CompareError(f"{what}: no session line from lguest-vhost-blk: "
                                       f"{peer.log_tail()}")
                time.sleep(0.01)
            s = parse_sessions(peer.log_text())[sessions]
            if s["requests"] != fig["ops"]:
                raise CompareError(f"{what}: lguest-vhost-blk counted {s['requests']} "
                                   f"requests for {fig['ops']}")
            fig.update(stats_kicks_per_req=s["kicks"] / s["requests"],
                       stats_calls_per_req=s["calls"] / s["requests"])
        return fig

    # -- hypercalls ---------------------------------------------------------

    def hcall_host(self):
        n = max(PINGPONG_COUNT // self.scale, 1)
        r = run([os.path.join(self.build, "hostbench"), "pingpong", f"count={n}"])
        if r.returncode:
            raise CompareError(f"hostbench pingpong: {(r.stdout + r.stderr).strip()}")
        return parse_hcbench(r.stdout, "hostbench pingpong")["pingpong"]

    def hcall_guest(self, backend, path):
        """One boot running every hcbench measure of HCALLS for PATH:
        {measure: figures}."""
        what = f"hcbench {backend} {path}"
        stats = os.path.join(self.tmp, "stats.json")
        cmds = [f"hcbench {h['name']} count={self.count(h)}" for h in hcalls_run_on(path)]
        argv = self.lguest_argv(backend, HCALL_RING, stats, f"--block={self.image}")
        if path == "exit":
            argv.append("--no-ioeventfd")
        r = run(argv + [self.kernel, "--", "; ".join(cmds)])
        if r.returncode:
            raise CompareError(f"{what}: exit {r.returncode}: {(r.stdout + r.stderr).strip()}")
        figs = parse_hcbench(r.stdout, what)
        load_stats(stats, backend)
        if len(figs) != len(cmds):
            raise CompareError(f"{what}: {len(figs)} results for {len(cmds)} commands in "
                               f"{r.stdout.strip()[-300:]!r}")
        for f in figs.values():
            f["backend"] = backend
        return figs

    # -- network: everything in namespaces we make and remove -------------

    def ns(self, suffix):
        return f"lgc{os.getpid() % 100000}{suffix}"

    def ns_add(self, name):
        run(["ip", "netns", "del", name])
        r = run(["ip", "netns", "add", name])
        if r.returncode:
            raise CompareError(f"ip netns add {name}: {r.stderr.strip()}")
        run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])

    def echo_server(self, ns, addr):
        p = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(self.build, "netbench"),
                              "echo", addr, "7000"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        if not p.stdout.readline():
            p.kill()
            raise CompareError(f"netbench echo in {ns}: {p.stderr.read().strip()}")
        return p

    def net_host(self, w):
        a, b = self.ns("a"), self.ns("b")
        server = None
        try:
            for n in (a, b):
                self.ns_add(n)
            va, vb = f"{a}v", f"{b}v"
            steps = [["ip", "link", "add", va, "netns", a, "type", "veth", "peer", vb,
                      "netns", b]]
            for n, dev, addr in ((a, va, "10.1.0.1/24"), (b, vb, "10.1.0.2/24")):
                steps += [["ip", "netns", "exec", n, "ip", "addr", "add", addr, "dev", dev],
                          ["ip", "netns", "exec", n, "ip", "link", "set", dev, "up"]]
            for s in steps:
                r = run(s)
                if r.returncode:
                    raise CompareError(f"{' '.join(s)}: {r.stderr.strip()}")
            server = self.echo_server(a, "10.1.0.1")
            r = run(["ip", "netns", "exec", b, os.path.join(self.build, "netbench"), "send",
                     "10.1.0.1", "7000", self.count(w), w["size"], w["window"]])
            m = re.search(r"rtt p50 ([0-9.]+) us p99 ([0-9.]+) us, ([0-9.]+) packets/s",
                          r.stdout)
            if r.returncode or not m:
                raise CompareError(f"netbench send {w['name']}: {(r.stdout + r.stderr).strip()}")
            return dict(packets=self.count(w), rtt_p50_us=float(m[1]), rtt_p99_us=float(m[2]),
                        pps=float(m[3]))
        finally:
            if server:
                server.kill()
                server.wait()
            for n in (a, b):
                run(["ip", "netns", "del", n])

    def net_guest(self, w, backend, layout):
        what = f"{w['name']} {backend} {layout}"
        ns = self.ns("g")
        stats = os.path.join(self.tmp, "stats.json")
        server = None
        try:
            self.ns_add(ns)
            # The echo server listens on any address: the tap and its
            # 10.0.0.1 appear only when the launcher starts.
            server = self.echo_server(ns, "0.0.0.0")
            cmd = (f"ip 10.0.0.2/24; udpsend 10.0.0.1 7000 count={self.count(w)} "
                   f"size={w['size']} window={w['window']}")
            r = run(["ip", "netns", "exec", ns] +
                    self.lguest_argv(backend, layout, stats, "--tunnet=10.0.0.1/24",
                                     "--mem=256M") + [self.kernel, "--", cmd])
            if r.returncode:
                raise CompareError(f"{what}: exit {r.returncode}: "
                                   f"{(r.stdout + r.stderr).strip()[-400:]}")
            fig = parse_udpsend(r.stdout, what)
            # Each packet is two buffers: one out through tx, one back through rx.
            fig.update(device_figures(load_stats(stats, backend), "net0", 2 * fig["packets"]))
            return fig
        finally:
            if server:
                server.kill()
                server.wait()
            run(["ip", "netns", "del", ns])

    def ringbench(self, cfg):
        argv = [os.path.join(self.build, "ringbench"), f"--notify={cfg['notify']}",
                f"--batch={cfg['batch']}"]
        argv.append("--ops=200000" if self.args.quick else "--secs=1")
        columns, rows = parse_ringbench(argv, run(argv))
        return dict(notify=cfg["notify"], batch=cfg["batch"], columns=columns, rows=rows)

    # Linux's ringtest beside ringbench (RINGTEST_PAIRS, ringtest_section()).

    def ringbench_accepts(self, option):
        """Whether this ringbench takes OPTION (--workload=ringtest, --insns:
        newer than some builds), asked once by a one-op run with it."""
        if option not in self._rb_accepts:
            r = run([os.path.join(self.build, "ringbench"), option, "--ring=split",
                     "--notify=poll", "--ops=1", "--lines=off"])
            self._rb_accepts[option] = r.returncode == 0
            if r.returncode:
                why = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[0]
                log(f"ringtest: ringbench does not take {option} ({why})")
        return self._rb_accepts[option]

    def ringtest_ours_argv(self, pair, ops, extra=()):
        workload = (["--workload=ringtest"] if self.ringbench_accepts("--workload=ringtest")
                    else [])
        return ([os.path.join(self.build, "ringbench")] + workload +
                [f"--notify={pair['notify']}", f"--qsize={RINGTEST_QSIZE}",
                 f"--batch={RINGTEST_BATCH}", f"--ring={pair['layout']}", f"--ops={ops}",
                 "--lines=off"] + list(extra))

    def ringtest_ours(self, pair, ops, extra=()):
        """ringbench's row for PAIR's layout, OPS buffers (its own ops/s)."""
        argv = self.ringtest_ours_argv(pair, ops, extra)
        _, rows = parse_ringbench(argv, run(argv, timeout=600))
        row = next((x for x in rows if x.get("layout") == pair["layout"]), None)
        if row is None:
            raise CompareError(f"{' '.join(argv[1:])}: no {pair['layout']} row")
        bad = {k: row[k] for k in ("lost", "dup", "order", "errors")
               if isinstance(row.get(k), (int, float)) and row[k]}
        if bad:
            raise CompareError(f"{' '.join(argv[1:])}: {bad}")
        return row

    def ringtest_ours_insns(self, pair):
        """ringbench --insns' figures for PAIR, those it printed ({} if none)."""
        row = self.ringtest_ours(pair, RINGTEST_INSNS_OPS, ["--insns"])
        return {k: row[k] for k in RINGBENCH_INSNS if isinstance(row.get(k), (int, float))}

    def ringtest_argv(self, pair, ops):
        return ([os.path.join(self.build, RINGTEST_DIR, pair["peer"]),
                 "--ring-size", str(RINGTEST_QSIZE), "--batch", str(RINGTEST_BATCH),
                 "--run-cycles", str(ops)] + (["--sleep"] if pair["notify"] == "eventfd" else []))

    def ringtest_peer(self, pair, ops):
        """ringtest, OPS buffers: it prints nothing, so its rate is OPS over
        the wall time of the whole process, start-up included."""
        argv = self.ringtest_argv(pair, ops)
        t0 = time.perf_counter()
        r = run(argv, timeout=600)
        wall = time.perf_counter() - t0
        if r.returncode:
            raise CompareError(f"{' '.join(argv)}: exit {r.returncode}: "
                               f"{(r.stdout + r.stderr).strip()[-300:]}")
        return {"ops": ops, "wall_s": wall, "ops/s": ops / wall}

    def ringtest_startup(self, peer):
        """The wall time of a one-buffer ringtest run, in ms: what its start-up
        and exit add to every run's wall time."""
        fig = self.ringtest_peer(dict(peer=peer, notify="poll"), 1)
        return dict(startup_ms=fig["wall_s"] * 1e3)

    def ringtest_insns(self, prog):
        """Instructions per buffer of BUILD/ringtest/PROG, a lock-step build:
        ringtest's rings (PEER-lockstep) or Linux's validating split ring
        pair, virtio_ring.c and vringh.c (VRINGH_LOCKSTEP)."""
        argv = [os.path.join(self.build, RINGTEST_DIR, prog)]
        return lockstep_insns(argv, *RINGTEST_LOCKSTEP_ROUNDS,
                              os.path.join(self.tmp, f"callgrind.{prog}"))

    def attempt(self, what, fn, *a):
        try:
            return fn(*a)
        except (CompareError, subprocess.TimeoutExpired, OSError) as e:
            self.failures.append(f"{what}: {e}")
            log(f"  FAILED {what}: {e}")
            return None


# ---------------------------------------------------------------------------
# Summaries


def merge_ringbench(cfg, runs):
    """ringbench tables from several runs: per layout, each column's median
    (and its spread in "summary"); the lines columns are exact anyway."""
    rows = []
    for layout in LAYOUTS:
        mine = [row for r in runs for row in r["rows"] if row.get("layout") == layout]
        if not mine:
            continue
        sm = summarize([{k: v for k, v in row.items() if isinstance(v, (int, float))}
                        for row in mine])
        row = dict(sm["median"], layout=layout, summary=sm)
        for k in ("errors", "lost", "dup", "order"):    # any error in any run counts
            if k in sm["max"]:
                row[k] = sm["max"][k]
        rows.append(row)
    return dict(notify=cfg["notify"], batch=cfg["batch"], columns=runs[0]["columns"],
                runs=len(runs), rows=rows)


def summarize(runs):
    """median/min/max of every numeric figure over the runs that worked."""
    runs = [r for r in runs if r]
    out = dict(n=len(runs), median={}, min={}, max={})
    if not runs:
        return out
    for k, v in runs[0].items():
        if isinstance(v, (int, float)):
            # A figure some runs lack (a counter only some builds have): over those that have it.
            vals = [r[k] for r in runs if isinstance(r.get(k), (int, float))]
            out["median"][k] = statistics.median(vals)
            out["min"][k] = min(vals)
            out["max"][k] = max(vals)
        elif isinstance(v, dict):       # percentiles: the median at each
            out["median"][k] = {p: statistics.median(r[k][p] for r in runs) for p in v}
    return out


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    kvm = sorted(m for m in os.listdir("/sys/module") if m.startswith("kvm")) \
        if os.path.isdir("/sys/module") else []
    return dict(hostname=platform.node(), kernel=platform.release(), arch=platform.machine(),
                cpu=cpu, cpus=os.cpu_count(), memory=mem, kvm_modules=kvm)


def git_commit(where=HERE):
    """The commit of the tree this program came from (tools/ or its build
    directory are both inside it), or of the tree WHERE is in, and whether
    tracked files differ from it."""
    try:
        r = run(["git", "-C", where, "rev-parse", "HEAD"])
    except OSError:             # no git here: an installed lguest-compare, say
        return "unknown", False
    if r.returncode:
        return "unknown", False
    status = run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"])
    return r.stdout.strip(), bool(status.stdout.strip())


# ---------------------------------------------------------------------------
# Looking things up in the results

NO_SUMMARY = dict(n=0, median={})


def cells_of(res, kind, workload):
    return [c for c in res["cells"] if (c["kind"], c["workload"]) == (kind, workload)]


def cell(res, kind, workload, backend, layout, notify=None):
    """The summary of one cell (any notify path if NOTIFY is None), or None.
    Block cells are those with the launcher's default polling window and
    queues (kind "block"); their --poll rows are kind "block-poll", the
    multi-queue ones "block-mq", and --before's "block-before"."""
    for c in cells_of(res, kind, workload):
        if (c["backend"], c["layout"]) == (backend, layout) and \
                (notify is None or c.get("notify") == notify):
            return c["summary"]
    return None


def block_rows(res, workload):
    """The block cells of WORKLOAD, every kind, in table order: backend,
    ring, then BLOCK_VARIANTS' order, --before's row right under this
    build's."""
    order = {v: i for i, v in enumerate(BLOCK_VARIANTS)}
    cells = [c for k in BLOCK_KINDS for c in cells_of(res, k, workload)]
    backends, layouts = res["meta"]["backends"], list(LAYOUTS)
    return sorted(cells, key=lambda c: (
        backends.index(c["backend"]) if c["backend"] in backends else len(backends),
        layouts.index(c["layout"]) if c["layout"] in layouts else len(layouts),
        order.get((c["notify"], c.get("poll"), None if c.get("queues", 1) == 1
                   else c["queues"]), len(order)),
        c["kind"] == "block-before"))


def placement_cell(res, workload, backend, where, ring):
    """The summary of one placement cell, or None."""
    return next((c["summary"] for c in cells_of(res, "placement", workload)
                 if (c["backend"], c["placement"], c["layout"]) == (backend, where, ring)), None)


def host(res, kind, workload):
    """The summary of a host baseline, or None."""
    h = res["host"][kind].get(workload)
    return h["summary"] if h else None


# ---------------------------------------------------------------------------
# results.md


def fnum(v, digits=None):
    """A figure as people read it: 3 significant digits below 100, thousands grouped."""
    if v is None:
        return "-"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if digits is not None:
        return f"{v:.{digits}f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1 or v == 0:
        return f"{v:.2f}"
    return f"{v:.3f}"


def spread(s, k):
    """"median (min–max)" of figure K, or "-"."""
    if k not in s["median"]:
        return "-"
    if s["n"] < 2:
        return fnum(s["median"][k])
    return f"{fnum(s['median'][k])} ({fnum(s['min'][k])}–{fnum(s['max'][k])})"


def paired_ratios(runs, host_runs):
    """Guest / host, repeat by repeat (each repeat measures the host just
    before its guest cells, so a slow minute hits both), summarized:
    {figure: {median, min, max}}."""
    out = {}
    for k in ("iops", "mbps", "p50_us", "pps", "rtt_p50_us", "p50_ns", "boot_ms"):
        r = [g[k] / h[k] for g, h in zip(runs, host_runs) if g and h and h.get(k) and k in g]
        if r:
            out[k] = dict(median=statistics.median(r), min=min(r), max=max(r))
    return out


def ratio(c, k, against="ratio_to_host"):
    r = c.get(against, {}).get(k)
    return f"{r['median']:.2f}" if r else "-"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def us(ns):
    return None if ns is None else ns / 1e3


def markdown(res, svgs):
    m = res["meta"]
    backends = m["backends"]
    md = [f"# lguest-compare: {m['date']}", "",
          f"- commit `{m['commit'][:12]}`{' (with local changes)' if m['dirty'] else ''}, "
          f"command `{m['command']}`",
          f"- machine: {m['machine']['cpu']}, {m['machine']['cpus']} CPUs, "
          f"{m['machine']['memory']}, Linux {m['machine']['kernel']}, "
          f"KVM modules {', '.join(m['machine']['kvm_modules']) or 'none'}",
          f"- backends: {', '.join(backends)} (`--backend={m['backend_option']}`)"
          + "".join(f"; {b} left out: {why}" for b, why in m["backends_skipped"].items()),
          f"- {m['repeats']} repeat(s) per cell, interleaved; figures are the median "
          f"(min–max). A ratio is the median over the repeats of guest / host, each repeat "
          f"against the host baseline measured just before it.",
          f"- block image: {m['image_mib']} MiB of random data in the page cache, "
          f"guest memory {GUEST_MEM}"]
    if m["sections"] != list(SECTIONS):
        md += [f"- sections run: {', '.join(m['sections'])} (`--only`)"]
    md += [""]
    if "block" in m["sections"]:
        md += markdown_block(res)
    md += markdown_placement(res)
    if res["host"]["net"]:
        md += ["## Network: guest `udpsend` through a tap against host `netbench` over veth",
               "", "Per packet counts both buffers (out through tx, back through rx).", ""]
        for w in NET:
            hs = host(res, "net", w["name"]) or NO_SUMMARY
            md += [f"### {w['title']}", "",
                   f"Host veth: {spread(hs, 'pps')} packets/s, round trip p50 "
                   f"{fnum(hs['median'].get('rtt_p50_us'))} µs, p99 "
                   f"{fnum(hs['median'].get('rtt_p99_us'))} µs.", ""]
            rows = []
            for c in cells_of(res, "net", w["name"]):
                s = c["summary"]
                rows.append([c["backend"], c["layout"], spread(s, "pps"), ratio(c, "pps"),
                             fnum(s["median"].get("rtt_p50_us")),
                             fnum(s["median"].get("rtt_p99_us")),
                             ratio(c, "rtt_p50_us"),
                             fnum(s["median"].get("notifies_per_op"), 3),
                             fnum(s["median"].get("notify_skipped_per_op"), 3),
                             fnum(s["median"].get("signals_per_op"), 3),
                             fnum(s["median"].get("exits_per_op"), 3)])
            md += [table(["backend", "ring", "packets/s", "× veth", "rtt p50 µs", "rtt p99 µs",
                          "rtt × veth", "NOTIFY/buf", "skipped/buf", "signal/buf",
                          "exits/buf"], rows), ""]
    elif "net" in m["sections"]:
        md += ["## Network", "", f"Not measured: {res['meta'].get('net_skipped', '')}", ""]
    md += markdown_hcalls(res)
    if res["ringbench"] or res.get("ringtest"):
        md += ["## The rings alone: `ringbench`", "",
               "A driver thread and a device thread, the real ring code, no VM. drv-lines and "
               "dev-lines are the distinct 64-byte lines of ring memory each side touches per "
               "buffer, counted by an instrumented build in lock-step rounds of --batch "
               "buffers (tests/bench/ringbench_lines.c).", ""]
        for rb in res["ringbench"]:
            cols = [c for c in rb["columns"] if c not in ("lost", "dup", "order", "ops")]
            rows = []
            for r in rb["rows"]:
                rows.append([r["layout"] if c == "layout" else
                             spread(r["summary"], c) if c == "ops/s" else
                             fnum(r[c]) if isinstance(r.get(c), (int, float)) else "-"
                             for c in cols])
            md += [f"`--notify={rb['notify']} --batch={rb['batch']}`, {rb['runs']} run(s):", "",
                   table(cols, rows), ""]
        md += markdown_ringtest(res.get("ringtest"))
    md += markdown_boot(res)
    if res["failures"]:
        md += ["## Failed runs", ""] + [f"- {f}" for f in res["failures"]] + [""]
    md += ["## Plots", ""] + [f"![{t}]({name})" for name, t in svgs] + [""]
    return "\n".join(md)


def markdown_ringtest(rt):
    """The ringtest table, under the ringbench ones (or why there is none)."""
    if not rt:
        return []
    md = ["### Beside Linux's `tools/virtio/ringtest`", ""]
    if rt.get("skipped"):
        return md + [f"Not run: {rt['skipped']}.", ""]
    ms = [fnum(v["summary"]["median"].get("startup_ms")) for v in rt["startup"].values()]
    n1, n2 = rt["lockstep_rounds"]
    md += [f"Each row: ringbench (`{rt['pairs'][0]['ringbench_argv']}` ...) and ringtest "
           f"(`{rt['pairs'][0]['ringtest_argv']}` ...) on the same number of buffers, one "
           f"right after the other (which first alternating), {rt['rounds']} round(s). "
           f"ringbench's ops/s is its own; ringtest prints nothing, so its ops/s is buffers "
           f"over the process's wall time, start-up included (a one-buffer run: "
           f"{' and '.join(ms)} ms). × ringtest is the median of the per-round ratios "
           f"(min–max). insns/buf: instructions per buffer, both sides, from lock-step runs "
           f"under callgrind: ringbench `--insns` (the ring code); ringtest's ring code "
           f"linked with tests/bench/ringtest_lockstep.c (add, kick check, an empty get, use, "
           f"call check, an empty use, get per round, plus the loop: "
           f"(Ir({n2}) − Ir({n1})) / {n2 - n1}). "
           f"ringtest built from {rt.get('tarball') or '?'} with its own flags "
           f"(`{rt.get('cflags') or '?'}`, {rt.get('cc') or '?'}). ringtest checks nothing "
           f"it carries: its rate is a lower bound on a ring's cost, not a peer in safety "
           f"(docs/ringtest.md).", ""]
    rows = []
    for p in rt["pairs"]:
        r, ins = p["ratio"], p["insns"]
        rows.append([p["notify"], p["layout"], p["peer"], f"{p['ops']:,}",
                     spread(p["ours"]["summary"], "ops/s"),
                     spread(p["ringtest"]["summary"], "ops/s"),
                     "-" if not r else f"{r['median']:.2f}" if r["n"] < 2 else
                     f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f})",
                     fnum(ins.get("insns/buf")), fnum(ins.get("ringtest")),
                     "-" if ins.get("ratio") is None else f"{ins['ratio']:.2f}"])
    md += [table(["notify", "ringbench", "ringtest", "buffers", "ringbench ops/s",
                  "ringtest ops/s", "× ringtest", "ringbench insns/buf", "ringtest insns/buf",
                  "insns × ringtest"], rows), "",
           f"Polling: ringbench yields the CPU every 1024 idle spins, ringtest never does "
           f"(not even with --relax, which adds a pause), so unless its two threads each have "
           f"a CPU to themselves its polling rows time the scheduler as much as the ring "
           f"(this machine: {rt['machine_cpus']} CPUs, 1-minute load average "
           f"{' → '.join(fnum(x) for x in rt['loadavg'])} over these runs).", "",
           RINGTEST_NOTE]
    md += markdown_checked(rt)
    md += markdown_validating(rt)
    for n in rt["notes"]:
        md += ["", f"Also: {n}."]
    return md + [""]


def markdown_checked(rt):
    """What lguest's rules cost in ringtest's own shape, layout by layout,
    beside the ringtest ring and ringbench's ring code (or nothing)."""
    rows = []
    for layout, (_, _, peer) in CHECKED.items():
        inl, calls = (rt.get("checked") or {}).get(layout) or (None, None)
        base = (rt["lockstep"].get(peer) or {}).get("insns_per_buf")
        ours = next((p["insns"].get("insns/buf") for p in rt["pairs"]
                     if p["layout"] == layout and p["notify"] == "poll"), None)
        if not inl or not base:
            continue
        figs = [base, inl["insns_per_buf"], calls and calls["insns_per_buf"], ours]
        rows.append([layout, peer] + [fnum(f) if f else "-" for f in figs] +
                    [f"{f / base:.2f}" if f else "-" for f in figs[1:]])
    if not rows:
        return []
    return ["", "What the checks cost: our split and packed rings written in ringtest's own "
            "shape (global state, the whole program one unit, each step inlined into the "
            "loop) with every rule lguest's rings check on a one-descriptor buffer, on both "
            "sides (tests/bench/ringtest_checked.c, ringtest_checked_packed.c); with calls: "
            "the same with the device's two steps, taking a buffer and giving it back, out "
            "of line, as a device model calling a ring library has them. Counted as "
            "ringtest's rings are, loop included; ringbench's is its ring code alone "
            "(docs/ringtest.md). ring.c is not the packed format, only its nearest "
            "relative in ringtest.", "",
            table(["layout", "ringtest", "ringtest insns/buf", "checked", "checked, with calls",
                   "ringbench", "checked × ringtest", "with calls × ringtest",
                   "ringbench × ringtest"], rows)]


def markdown_validating(rt):
    """The validating peer's count beside ringbench split's (or nothing)."""
    v = rt.get("validating")
    if not v:
        return []
    ins = next((p["insns"] for p in rt["pairs"]
                if p["layout"] == "split" and p["notify"] == "poll"), {})
    ours, glue = ins.get("insns/buf"), ins.get("glue-insns/buf")
    n1, n2 = v["rounds"]
    line = (f"A validating peer: Linux's own split ring, the virtio driver's "
            f"(drivers/virtio/virtio_ring.c) against vringh, the device side the kernel "
            f"uses (drivers/vhost/vringh.c: each descriptor read once and checked, each "
            f"address looked up in a range, here all of guest memory), built with "
            f"tools/virtio's userspace shims from the same tarball and driven in lock-step "
            f"on the same workload, polling, one buffer per round "
            f"(tests/bench/vringh_lockstep.c; (Ir({n2}) − Ir({n1})) / {n2 - n1}, its loop "
            f"included): {fnum(v['insns_per_buf'])} instructions per buffer")
    if ours:
        line += (f", where ringbench split's ring code takes {fnum(ours)} "
                 f"({ours / v['insns_per_buf']:.2f} ×)")
    if ours and glue:
        line += (f", {fnum(ours + glue)} with its harness's loop "
                 f"({(ours + glue) / v['insns_per_buf']:.2f} ×)")
    return ["", line + "."]


def engine_desc(eng):
    """A device's I/O engine as the tables say it."""
    if not eng.get("aio"):
        return "engine not reported, so one request at a time as in older builds"
    if eng["aio"] == "sync":
        return "aio=sync, one request at a time"
    n = eng.get("aio_parallelism")
    what = "in flight" if eng["aio"] == "io_uring" else "workers"
    return f"aio={eng['aio']}" + (f", {n} {what}" if n else "")


def host_line(hs):
    """IOPS, p50, p99 and CPU of a host baseline's summary."""
    cpu = hs["median"].get("cpu_us_per_op")
    return (f"{spread(hs, 'iops')} IOPS, p50 {fnum(hs['median'].get('p50_us'))} µs, "
            f"p99 {fnum(hs['median'].get('p99_us'))} µs"
            + ("" if cpu is None else f", CPU {fnum(cpu)} µs/req"))


def markdown_block_host(res, w):
    """The line above a block table: both host baselines, and how each ran."""
    call = "pwrite" if w["pattern"] == "randwrite" else "pread"
    one = res["host"].get("block_1t", {}).get(w["name"])
    pars = res["host"].get("block_parallel", {}).get(w["name"], {})
    ndev = sum(len(p["devices"]) for p in pars.values())
    out = [f"Host {call}, single-threaded (`{one['hostbench'] if one else '-'}`): "
           f"{host_line(one['summary'] if one else NO_SUMMARY)}."]
    for p in pars.values():
        engines = {}
        for d in p["devices"]:
            engines.setdefault(engine_desc(d), []).append(
                f"{d['backend']} {d['layout']}"
                + (f" queues={d['queues']}" if d.get("queues", 1) != 1 else "")
                + (" before" if d.get("build") == "before" else ""))
        where = "; ".join(f"{e}" + ("" if len(p["devices"]) == ndev else
                                    f", on {', '.join(devs)}")
                          for e, devs in engines.items())
        if p["hostbench"] == "engine=sync threads=1":
            out.append(f"At the device's parallelism (blk0: {where}): the single-threaded "
                       f"figure again.")
        else:
            out.append(f"At the device's parallelism (`{p['hostbench']}`; blk0: {where}): "
                       f"{host_line(p['summary'])}.")
    return " ".join(out)


def markdown_block(res):
    md = ["## Block: guest `blkbench` against host `hostbench`", "",
          "Per request: NOTIFY is what reached the device (a kick), skipped is what the "
          "guest did not send because the device said it was awake, exits are all vCPU "
          "exits (NOTIFY, WAIT ...), descs are ring descriptors walked. Notify `ioeventfd` "
          "is the fast path (on the process backend the stub writes the device's eventfd), "
          "`exit` is `--no-ioeventfd`. Poll µs is the device's polling window after its "
          f"last request (`--poll`; the rows with {BLOCK_POLL_US} run with "
          f"`--poll={BLOCK_POLL_US}`, the others with the launcher's default); polls found "
          "and expired are the windows that found a new request and those that ran out "
          "(then the device slept). Device CPU is the CPU time of blk0's thread and its I/O "
          "workers per request. × host is the guest's IOPS over the host's at the "
          "device's parallelism (hostbench with io_uring and the workload's qd for an "
          "io_uring device, as many threads as a `threads` device has workers, one thread "
          "for a synchronous one; a multi-queue device's parallelism is its queues' "
          "together), × 1 thread over the single-threaded host's, both in the same repeat. "
          f"Queues is the device's request queues: the rows with {BLOCK_MQ_QUEUES} run with "
          f"`--block=IMG,queues={BLOCK_MQ_QUEUES}` (the guest spreads its requests over "
          f"them in turn); {BLOCK_MQ_NOTE}.", ""]
    if res["meta"].get("block_poll_skipped"):
        md += [f"No `--poll={BLOCK_POLL_US}` rows: {res['meta']['block_poll_skipped']}.", ""]
    if res["meta"].get("block_mq_skipped"):
        md += [f"No `queues={BLOCK_MQ_QUEUES}` rows: {res['meta']['block_mq_skipped']}.", ""]
    if res["meta"].get("before"):
        md += [markdown_before(res["meta"]["before"]), ""]
    # The build and × before columns, where --before's build has rows.
    before = any(c["kind"] == "block-before" for c in res["cells"])
    for w in BLOCK:
        md += [f"### {w['title']}", "", markdown_block_host(res, w), ""]
        rows = []
        for c in block_rows(res, w["name"]):
            s = c["summary"]
            poll = s["median"].get("poll_us", None if c["kind"] == "block-before"
                                   else c.get("poll") or 0)
            row = [c["backend"], c["layout"], c["notify"], str(c.get("queues", 1)),
                   "-" if poll is None else f"{poll:.0f}"]
            if before:
                row.append("before" if c["kind"] == "block-before" else "this")
            row += [spread(s, "iops"), ratio(c, "iops"), ratio(c, "iops", "ratio_to_host_1t")]
            if before:
                row.append(ratio(c, "iops", "ratio_to_before"))
            rows.append(row + [fnum(s["median"].get("p50_us")), fnum(s["median"].get("p99_us")),
                               fnum(s["median"].get("device_cpu_us_per_op"), 2),
                               fnum(s["median"].get("notifies_per_op"), 3),
                               fnum(s["median"].get("notify_skipped_per_op"), 3),
                               fnum(s["median"].get("signals_per_op"), 3),
                               fnum(s["median"].get("polls_found_per_op"), 3),
                               fnum(s["median"].get("polls_expired_per_op"), 3),
                               fnum(s["median"].get("exits_per_op"), 3),
                               fnum(s["median"].get("descs_per_op"), 2),
                               fnum(s["median"].get("bounce_bytes"), 0)])
        md += [table(["backend", "ring", "notify", "queues", "poll µs"]
                     + (["build"] if before else []) + ["IOPS", "× host", "× 1 thread"]
                     + (["× before"] if before else [])
                     + ["p50 µs", "p99 µs", "device CPU µs/req", "NOTIFY/req", "skipped/req",
                        "signal/req", "polls found/req", "polls expired/req", "exits/req",
                        "descs/req", "bounce B"], rows), ""]
    return md


def markdown_before(before):
    """What the block tables say about --before's build."""
    commit = before.get("commit") or "unknown"
    out = (f"Build *before* is `{before['dir']}` (commit `{commit[:12]}`"
           f"{' with local changes' if before.get('dirty') else ''}): each `block` row of "
           f"this build (*this*) ran again with it, right beside it in every repeat (which "
           f"went first alternating by repeat), told nothing it may not know (no `aio=`, "
           f"`--poll` or `queues=`); a counter its `--stats-json` does not write is -. "
           f"× before is this build's IOPS over the older one's, repeat by repeat.")
    for b, why in (before.get("skipped") or {}).items():
        out += f" No *before* rows on {b}: {why}."
    return out


def markdown_placement(res):
    cells = [c for c in res["cells"] if c["kind"] == "placement"]
    if not cells:
        return []
    scale = 10 if res["meta"]["quick"] else 1
    works = [w for w in BLOCK if w["name"] in PLACEMENT_BLOCK]
    traced = ", ".join(f"{PLACEMENT_TRACED[w['name']] // scale:,} ({w['title']})"
                       for w in works)
    md = ["## Where the device runs: the launcher, `lguest-vhost-blk`, qemu-storage-daemon, "
          "the kernel", "",
          "The same disk served from three places, on each backend, NOTIFY by the fast path "
          "throughout. *launcher*: `--block=IMG,ring=R`, the launcher's device thread, as in "
          "the block tables. *vhost-blk*: our `lguest-vhost-blk --stats IMG` in another "
          "process, the launcher's block model and ring code behind vhost-user "
          "(`--vhost-user-blk=SOCK,ring=R`). *qsd*: Debian's qemu-storage-daemon exporting the "
          "same image as vhost-user-blk (split only: it does not offer packed). *kernel*: "
          "`--block=IMG,ring=R,device=kernel`, served by host-module/lguest_host.ko "
          "(docs/host-module.md), which runs the launcher's ring code in a kernel thread. "
          "Over vhost-user and for the kernel device the guest's NOTIFY writes the backend's "
          "kick eventfd itself (KVM's ioeventfd, or the process backend's stub), and the "
          "backend's call comes back "
          "through a launcher thread that sets the guest's pending bit and wakes it. One "
          "backend process of each kind serves every run, one frontend at a time. Host: "
          "`hostbench` pread of the same image, measured in each repeat just before these "
          "cells; × host is the guest's IOPS (or MB/s: the same ratio) over the host's.", "",
          "Kicks and calls per request, counted two ways:", "",
          f"- **trace**: one more run per cell with `--trace-file`, of {traced} requests, "
          "counted the same way wherever the device runs: kicks are the guest's NOTIFYs sent "
          "(`notify` events with `sent` true: each one write of the kick eventfd, whoever "
          "reads it); calls are the device side's `signal` events sent (pid 2): in the "
          "launcher each interrupt its device sent, over vhost-user each call the launcher "
          "took from the backend's call eventfd (a read takes every write since the last, so "
          "a burst counts once). Tracing slows the guest, many times over at qd=32 (*IOPS "
          "traced*), and that changes how requests batch: these are counts of a run like "
          "the timed ones, not of them.",
          "- **own**: each device's own counters in the timed runs (median): in the launcher, "
          "`--stats-json` blk0 `notifies` and `signals` over `chains`; `lguest-vhost-blk`, its "
          "`--stats` session line, `kicks` and `calls` (the calls it wrote) over `requests`. "
          "qemu-storage-daemon counts nothing (-).", ""]
    md += [f"- {where} not run: {why}"
           for where, why in res["meta"]["placement_skipped"].items()]
    if res["meta"]["placement_skipped"]:
        md += [""]
    for w in works:
        hs = host(res, "placement", w["name"]) or NO_SUMMARY
        md += [f"### {w['title']}", "",
               f"Host pread: {spread(hs, 'iops')} IOPS, {fnum(hs['median'].get('mbps'))} MB/s, "
               f"p50 {fnum(hs['median'].get('p50_us'))} µs.", ""]
        rows = []
        for c in cells_of(res, "placement", w["name"]):
            if c.get("skipped"):
                rows.append([c["backend"], c["placement"], c["layout"],
                             f"skipped: {c['skipped']}"] + ["-"] * 8)
                continue
            s, t = c["summary"]["median"], c.get("traced") or {}
            rows.append([c["backend"], c["placement"], c["layout"],
                         spread(c["summary"], "iops"), fnum(s.get("mbps")), ratio(c, "iops"),
                         fnum(s.get("p50_us")), fnum(t.get("iops")),
                         fnum(t.get("kicks_per_req"), 3), fnum(t.get("calls_per_req"), 3),
                         fnum(s.get("stats_kicks_per_req"), 3),
                         fnum(s.get("stats_calls_per_req"), 3)])
        md += [table(["backend", "device in", "ring", "IOPS", "MB/s", "× host", "p50 µs",
                      "IOPS traced", "kicks/req (trace)", "calls/req (trace)", "kicks/req (own)",
                      "calls/req (own)"], rows), ""]
    return md


def markdown_hcalls(res):
    hs = host(res, "hcall", "pingpong")
    if not hs and not cells_of(res, "hcall", "notify"):
        return []
    hs = hs or NO_SUMMARY
    md = ["## Hypercalls: guest `hcbench` against a host eventfd ping-pong", "",
          f"Each figure is the distribution of single calls timed with the TSC in the guest "
          f"(`hcbench`, after uncounted warm-up calls), over --ring={HCALL_RING}; the table "
          f"gives its p50 (min–max over the repeats), then the medians over the repeats of "
          f"its min, p99 and mean. NOTIFY is the console's key: the device thread wakes and "
          f"finds nothing new. The call is a zero-length CONSOLE hypercall, which the "
          f"launcher answers from its vCPU loop. Wake is one 512-byte read of sector 0 of "
          f"blk0 (in the host's page cache), from submit to reap: NOTIFY, the device "
          f"thread's wakeup and pread, the signal, and the guest's WAIT returning "
          f"(`hcall_wait` directly, no polling first). The host baseline is "
          f"`hostbench pingpong`: two threads waking each other through two eventfds, "
          f"blocking in read(), one round trip timed; × ping-pong is guest p50 / host p50.",
          ""]
    rows = []
    for h in HCALLS:
        for b in res["meta"]["backends"]:
            c = next((c for c in cells_of(res, "hcall", h["name"])
                      if c["backend"] == b and c["notify"] == h["path"]), None)
            if c is None:
                continue
            s = c["summary"]
            rows.append([h["title"], b, spread_us(s, "p50_ns"), ratio(c, "p50_ns"),
                         fnum(us(s["median"].get("min_ns"))), fnum(us(s["median"].get("p99_ns"))),
                         fnum(us(s["median"].get("mean_ns")))])
    rows.append(["eventfd ping-pong between two threads", "host", spread_us(hs, "p50_ns"), "1",
                 fnum(us(hs["median"].get("min_ns"))), fnum(us(hs["median"].get("p99_ns"))),
                 fnum(us(hs["median"].get("mean_ns")))])
    return md + [table(["measure", "backend", "p50 µs", "× ping-pong", "min µs", "p99 µs",
                        "mean µs"], rows), ""]


def spread_us(s, k):
    """spread() of a figure in ns, shown in µs."""
    if k not in s["median"]:
        return "-"
    conv = dict(n=s["n"], median={k: s["median"][k] / 1e3}, min={}, max={})
    if s["n"] >= 2:
        conv["min"][k], conv["max"][k] = s["min"][k] / 1e3, s["max"][k] / 1e3
    return spread(conv, k)


def markdown_boot(res):
    if not res["boot"]:
        return []
    hs = host(res, "boot", "bin-true") or NO_SUMMARY
    n = max((b["summary"]["n"] for b in res["boot"]), default=0)
    md = ["## Boot to exit", "",
          f"Wall time of `lguest --backend=B build/guest.elf -- 'exit 0'` (the console its "
          f"only device), and with the block image as blk0 on each layout, from the "
          f"parent's fork to its wait returning; the median of {n} runs (min–max), "
          f"interleaved with as many runs of `/bin/true` measured the same way: "
          f"{spread(hs, 'boot_ms')} ms.", ""]
    head = ["backend", "`exit 0` ms", "× /bin/true"] + [f"+ {lay} disk ms" for lay in LAYOUTS]
    rows = []
    for b in res["meta"]["backends"]:
        bare = next((x for x in res["boot"] if (x["backend"], x["layout"]) == (b, None)), None)
        row = [b, spread(bare["summary"], "boot_ms") if bare else "-",
               ratio(bare, "boot_ms") if bare else "-"]
        for lay in LAYOUTS:
            x = next((x for x in res["boot"] if (x["backend"], x["layout"]) == (b, lay)), None)
            row.append(spread(x["summary"], "boot_ms") if x else "-")
        rows.append(row)
    rows.append(["host `/bin/true`", spread(hs, "boot_ms"), "1"] + ["-"] * len(LAYOUTS))
    return md + [table(head, rows), ""]


# ---------------------------------------------------------------------------
# Plots: a data file and a gnuplot script per picture, kept in plots/.  With
# several backends, a picture has a row of panels per backend.

GP_HEAD = """set terminal svg size {w},{h} dynamic enhanced font 'Helvetica,11' background '#ffffff'
set output '{svg}'
set style fill solid 0.85 border -1
set grid ytics lc rgb '#dddddd'
set key outside top center horizontal
set linetype 1 lc rgb '#c0504d'
set linetype 2 lc rgb '#4f81bd'
set linetype 3 lc rgb '#9bbb59'
set linetype 4 lc rgb '#7f7f7f'
"""
SERIES = list(LAYOUTS) + ["host"]


def q(s):
    return '"' + s.replace('"', "'") + '"'


def triple(s, k, scale=1):
    """median, min, max of figure K (0s when missing, which gnuplot draws as nothing)."""
    if not s or k not in s.get("median", {}):
        return "0 0 0"
    return " ".join(f"{s[x][k] * scale:.6g}" for x in ("median", "min", "max"))


def bars_by_workload(res, path, k, backend, notify, with_host=True):
    """Rows: block workloads; columns: median/min/max per layout (and host)."""
    with open(path, "w") as f:
        f.write("# workload" + "".join(f" {s}_median {s}_min {s}_max" for s in SERIES) + "\n")
        for w in BLOCK:
            cols = [triple(cell(res, "block", w["name"], backend, lay, notify), k)
                    for lay in LAYOUTS]
            cols.append(triple(host(res, "block", w["name"]), k) if with_host else "0 0 0")
            label = w["title"].replace(", FLUSH every 32", "+flush").replace(", ", " ")
            f.write(f"{q(label)} {' '.join(cols)}\n")


def hist_plot(data, title, ylabel, log, series=SERIES):
    cols = ", ".join(
        (f"'{data}' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}"
         + (":xtic(1)" if i == 0 else "") + f" title '{s}'") for i, s in enumerate(series))
    return (f"set title '{title}'\nset ylabel '{ylabel}'\n"
            + ("set logscale y\n" if log else "unset logscale y\nset yrange [0:*]\n")
            + "set style data histogram\nset style histogram errorbars gap 1 lw 1\n"
            + "set xtics rotate by -15 scale 0 font ',9'\n"
            + f"plot {cols}\n")


def plot_block(res, d):
    if not any(c["kind"] == "block" for c in res["cells"]):
        return []
    out = []
    backends = res["meta"]["backends"]
    nb = len(backends)
    for k in ("iops", "p50_us", "p99_us", "notifies_per_op", "signals_per_op",
              "exits_per_op"):
        for b in backends:
            for path in PATHS:
                bars_by_workload(res, os.path.join(d, f"block-{k}-{b}-{path}.dat"), k, b, path,
                                 with_host=k in ("iops", "p50_us", "p99_us"))
    n = res["meta"]["repeats"]
    gp = GP_HEAD.format(w=1100, h=480 * nb, svg="../block-iops.svg")
    gp += (f"set multiplot layout {nb},2 title 'Block IOPS by ring layout and workload "
           f"(median; bars span min–max of {n} run(s)); host = pread/pwrite'\n")
    for b in backends:
        for path in PATHS:
            gp += hist_plot(f"block-iops-{b}-{path}.dat", f"{b}, notify by {path}",
                            "IOPS (log)", True)
    out.append(("block-iops", gp + "unset multiplot\n",
                "Block IOPS by backend, layout, workload and notify path"))

    gp = GP_HEAD.format(w=1100, h=480 * nb, svg="../block-latency.svg")
    gp += ("set multiplot layout {},2 title 'Block latency, notify by ioeventfd "
           "(median of runs)'\n".format(nb))
    for b in backends:
        gp += hist_plot(f"block-p50_us-{b}-ioeventfd.dat", f"{b}: p50", "µs (log)", True)
        gp += hist_plot(f"block-p99_us-{b}-ioeventfd.dat", f"{b}: p99", "µs (log)", True)
    out.append(("block-latency", gp + "unset multiplot\n", "Block latency p50 and p99"))

    gp = GP_HEAD.format(w=1200, h=460 * nb, svg="../notify-signal.svg")
    gp += f"set multiplot layout {nb},3 title 'Per request, notify by ioeventfd'\n"
    for b in backends:
        for k, t in (("notifies_per_op", "NOTIFYs reaching the device"),
                     ("signals_per_op", "signals (interrupts) sent"),
                     ("exits_per_op", "vCPU exits, all reasons")):
            gp += hist_plot(f"block-{k}-{b}-ioeventfd.dat", f"{b}: {t}", "per request", False,
                            LAYOUTS)
    out.append(("notify-signal", gp + "unset multiplot\n",
                "NOTIFYs, signals and exits per block request"))

    # Latency distribution: percentiles (median over runs) as a CDF.
    gp = GP_HEAD.format(w=1100, h=460 * nb, svg="../latency-cdf.svg")
    gp += (f"set multiplot layout {nb},2 title 'Latency distribution, 4 KiB randread, notify by "
           "ioeventfd'\nset logscale x\nset xlabel 'latency µs (log)'\nset ylabel 'percentile'\n"
           "set yrange [0:100]\nset key bottom right\n")
    for b in backends:
        for w in BLOCK[:2]:
            plots = []
            for s in SERIES:
                sm = host(res, "block", w["name"]) if s == "host" else \
                    cell(res, "block", w["name"], b, s, "ioeventfd")
                pct = (sm or {}).get("median", {}).get("pct_us")
                if not pct:
                    continue
                fn = f"cdf-{w['name']}-{s if s == 'host' else b + '-' + s}.dat"
                with open(os.path.join(d, fn), "w") as f:
                    f.write("# percentile latency_us\n")
                    for p in sorted(pct, key=float):
                        f.write(f"{p} {max(pct[p], 0.05):.6g}\n")
                plots.append(f"'{fn}' using 2:1 with linespoints pt 7 ps 0.5 lw 2 title '{s}'")
            gp += f"set title '{b}: {w['title']}'\n" + ("plot " + ", ".join(plots) + "\n"
                                                        if plots else "")
    out.append(("latency-cdf", gp + "unset multiplot\n", "Latency distribution (CDF)"))
    return out


def plot_net(res, d):
    if not res["host"]["net"]:
        return []
    backends = res["meta"]["backends"]
    rows = [("udp-rtt-64", "rtt_p50_us", "UDP round trip 64 B, p50", "µs"),
            ("udp-pps-64", "pps", "UDP packets/s, 64 B", "packets/s"),
            ("udp-pps-1400", "pps", "UDP packets/s, 1400 B", "packets/s")]
    gp = GP_HEAD.format(w=1200, h=440 * len(backends), svg="../net.svg")
    gp += (f"set multiplot layout {len(backends)},3 title 'Network by ring layout (median; "
           "bars span min–max); host = veth between two namespaces'\nset style data histogram\n"
           "unset key\nset yrange [0:*]\nset xrange [-0.6:3.6]\nset boxwidth 0.6\n")
    for b in backends:
        for name, k, title, unit in rows:
            fn = f"net-{name}-{b}.dat"
            with open(os.path.join(d, fn), "w") as f:
                f.write("# series median min max\n")
                for s in SERIES:
                    sm = host(res, "net", name) if s == "host" else cell(res, "net", name, b, s)
                    f.write(f"{q('veth' if s == 'host' else s)} {triple(sm, k)}\n")
            # One colour per series, as in the block plots (linetypes 1-4).
            gp += (f"set title '{b}: {title}'\nset ylabel '{unit}'\n"
                   f"plot '{fn}' using 0:2:($0 + 1):xtic(1) with boxes lc variable, "
                   f"'' using 0:2:3:4 with yerrorbars lc rgb '#000000' pt 7 ps 0.3\n")
    return [("net", gp + "unset multiplot\n", "Network round trip and packet rate")]


def plot_hcalls(res, d):
    """Hypercall p50s, a bar per backend, and the host ping-pong; boot times beside."""
    backends = res["meta"]["backends"]
    if not cells_of(res, "hcall", "notify") or not res["boot"]:
        return []       # both panels, or none (--only)
    series = backends + ["host"]
    with open(os.path.join(d, "hcalls.dat"), "w") as f:
        f.write("# measure" + "".join(f" {s}_median {s}_min {s}_max" for s in series) + "\n")
        for h in HCALLS:
            cols = [triple(cell(res, "hcall", h["name"], b, HCALL_RING, h["path"]), "p50_ns",
                           1e-3) for b in backends]
            label = h["name"] + {None: "", "ioeventfd": " fast", "exit": " exit"}[h["path"]]
            f.write(f"{q(label)} {' '.join(cols)} 0 0 0\n")
        f.write(f"{q('eventfd ping-pong')} {'0 0 0 ' * len(backends)}"
                f"{triple(host(res, 'hcall', 'pingpong'), 'p50_ns', 1e-3)}\n")
    with open(os.path.join(d, "boot.dat"), "w") as f:
        f.write("# what" + "".join(f" {s}_median {s}_min {s}_max" for s in series) + "\n")
        for lay in (None,) + LAYOUTS:
            cols = [triple(next((x["summary"] for x in res["boot"]
                                 if (x["backend"], x["layout"]) == (b, lay)), None), "boot_ms")
                    for b in backends]
            f.write(f"{q('exit 0' if lay is None else '+ ' + lay + ' disk')} "
                    f"{' '.join(cols)} 0 0 0\n")
        f.write(f"{q('/bin/true')} {'0 0 0 ' * len(backends)}"
                f"{triple(host(res, 'boot', 'bin-true'), 'boot_ms')}\n")
    gp = GP_HEAD.format(w=1200, h=480, svg="../hypercalls.svg")
    gp += ("set multiplot layout 1,2 title 'Hypercalls (guest hcbench p50) and boot to exit, "
           "by backend (median; bars span min–max); host = eventfd ping-pong, /bin/true'\n"
           "set bmargin 4\n")
    gp += hist_plot("hcalls.dat", "one hypercall, p50", "µs (log)", True, series)
    gp += hist_plot("boot.dat", "boot to exit", "ms (log)", True, series)
    return [("hypercalls", gp + "unset multiplot\n", "Hypercalls and boot, by backend")]


def plot_placement(res, d):
    """IOPS and p50 by where the device runs, a row of panels per backend."""
    if not any(c["kind"] == "placement" for c in res["cells"]):
        return []
    backends = res["meta"]["backends"]
    series = [f"{where} {ring}" for where, ring in PLACEMENTS] + ["host"]
    head = "# workload" + "".join(f" {s}_median {s}_min {s}_max"
                                  for s in (x.replace(" ", "_") for x in series)) + "\n"
    for b in backends:
        for k in ("iops", "p50_us"):
            with open(os.path.join(d, f"placement-{k}-{b}.dat"), "w") as f:
                f.write(head)
                for w in BLOCK:
                    if w["name"] not in PLACEMENT_BLOCK:
                        continue
                    cols = [triple(placement_cell(res, w["name"], b, where, ring), k)
                            for where, ring in PLACEMENTS]
                    cols.append(triple(host(res, "placement", w["name"]), k))
                    f.write(f"{q(w['title'].replace(', ', ' '))} {' '.join(cols)}\n")
    gp = GP_HEAD.format(w=1200, h=480 * len(backends), svg="../placement.svg")
    gp += ("set linetype 4 lc rgb '#f79646'\nset linetype 5 lc rgb '#8064a2'\n"
           "set linetype 6 lc rgb '#7f7f7f'\n"
           f"set multiplot layout {len(backends)},2 title 'Where the block device runs: the "
           f"launcher, lguest-vhost-blk, qemu-storage-daemon (median; bars span min–max); "
           f"host = pread'\n")
    for b in backends:
        gp += hist_plot(f"placement-iops-{b}.dat", f"{b}: IOPS", "IOPS (log)", True, series)
        gp += hist_plot(f"placement-p50_us-{b}.dat", f"{b}: p50", "µs (log)", True, series)
    return [("placement", gp + "unset multiplot\n", "Block by where the device runs")]


def make_plots(res, out):
    """Writes the SVGs; returns [(file name, title)] of those made."""
    d = os.path.join(out, "plots")
    os.makedirs(d, exist_ok=True)
    made = []
    for name, gp, title in (plot_block(res, d) + plot_placement(res, d) + plot_net(res, d) +
                            plot_hcalls(res, d)):
        script = os.path.join(d, f"{name}.gp")
        with open(script, "w") as f:
            f.write(gp)
        if not shutil.which("gnuplot"):
            continue
        r = run(["gnuplot", f"{name}.gp"], cwd=d)
        if r.returncode or r.stderr.strip():
            # gnuplot warns on stderr for real problems (no data, bad ranges).
            res["failures"].append(f"gnuplot {name}.gp: {r.stderr.strip()[:300]}")
            if r.returncode:
                continue
        made.append((f"{name}.svg", title))
    if not shutil.which("gnuplot"):
        res["failures"].append("gnuplot not found (apt-get install gnuplot-nox): no plots")
    return made


# ---------------------------------------------------------------------------
# The document


def doc_sections(lines):
    """LINES (a results section, one level down) cut at its "### " headings:
    [(heading, lines from it to the next)], the lines before the first
    under heading None."""
    parts = [(None, [])]
    for line in lines:
        if line.startswith("### "):
            parts.append((line, []))
        parts[-1][1].append(line)
    return parts


def update_doc(doc, out, md, svgs, meta=None):
    """Replace the results section of DOC and copy the plots beside it.
    With META of a run of only some sections (--only), replace only those:
    each section it has takes the place of the document's section with the
    same heading (or goes before the plots, if the document has none),
    under a line that says which run it came from; the rest of the
    document's results, their header and their plots stay as they were."""
    with open(doc) as f:
        text = f.read()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in text or end not in text:
        raise CompareError(f"{doc}: no {begin} ... {end} markers")
    pics = os.path.join(os.path.dirname(os.path.abspath(doc)), "compare")
    os.makedirs(pics, exist_ok=True)
    for name, _ in svgs:
        shutil.copy(os.path.join(out, name), os.path.join(pics, name))
    # Under the document's "## Results": the title becomes a line, the
    # sections go one level down.
    body = md.replace("](", "](compare/")
    body = re.sub(r"^# lguest-compare: (.*)$", r"Run of \1:", body, flags=re.M)
    body = re.sub(r"^(##+) ", lambda m: "#" * min(len(m[1]) + 1, 6) + " ", body, flags=re.M)
    head, rest = text.split(begin, 1)
    old, tail = rest.split(end, 1)
    if meta is not None and meta["sections"] != list(SECTIONS):
        body = refresh_sections(old, body, meta)
    text = head + begin + "\n" + body.strip() + "\n" + end + tail
    with open(doc, "w") as f:
        f.write(text)


def refresh_sections(old, body, meta):
    """The document's results OLD with the sections of a partial run's BODY
    put in their places (update_doc())."""
    m = meta["machine"]
    note = (f"Refreshed alone: run of {meta['date']}, commit `{meta['commit'][:12]}`"
            f"{' (with local changes)' if meta['dirty'] else ''}, command "
            f"`{meta['command']}`, on {m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}. "
            f"The sections around it may come from another run.")
    parts = doc_sections(old.strip("\n").split("\n"))
    for heading, lines in doc_sections(body.strip("\n").split("\n"))[1:]:
        if heading == "### Plots":
            continue        # the document's plots stay; new files were copied over
        lines = lines[:1] + ["", note] + lines[1:]
        at = [i for i, (h, _) in enumerate(parts) if h == heading]
        if at:
            parts[at[0]] = (heading, lines + [""])
            continue
        plots = [i for i, (h, _) in enumerate(parts) if h == "### Plots"]
        parts.insert(plots[0] if plots else len(parts), (heading, lines + [""]))
    text = "\n".join(line for _, lines in parts for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text)


# ---------------------------------------------------------------------------


def block_engines(R, configs, before=False):
    """{(backend, ring, queues): device_engine()} of blk0 as the block cells
    set it up, for each such configuration (queues None: the launcher's
    default), one probe boot each; with BEFORE, of --before's build.  The
    host's parallel baseline must be measured before the first guest cell,
    so it cannot wait for that cell's stats.  A probe that fails leaves the
    engine unknown (and the baseline single-threaded), and says so."""
    out = {}
    build = " (--before's build)" if before else ""
    for b, lay, nq in configs:
        try:
            out[(b, lay, nq)] = R.block_probe(b, lay, nq, before)
        except (CompareError, subprocess.TimeoutExpired, OSError) as e:
            log(f"  note: cannot tell blk0's I/O engine{build} on {b} {lay}"
                + ("" if nq is None else f" queues={nq}")
                + f" ({e}): its parallel host baseline is single-threaded")
            out[(b, lay, nq)] = device_engine({})
    log(f"block: blk0's I/O engine{build}: "
        + "; ".join(sorted({engine_desc(e) + ("" if nq is None else f" (queues={nq})")
                            for (_, _, nq), e in out.items()})))
    if configs and not R.launcher_options(before)["aio"]:
        log(f"block: {'the --before build' if before else 'lguest'} has no aio= (an older "
            f"build, one request at a time): its parallel host baseline is single-threaded")
    return out


def block_cell_run(R, runs, w, b, lay, p, poll, nq, engine, before=False):
    """Runs one block cell once, appends its figures (None if it failed) to
    RUNS, and logs them; ENGINE is what the probe said of its device."""
    fig = R.attempt(block_what(w["name"], b, lay, p, poll, nq, before), R.block_guest, w, b,
                    lay, p, poll, nq, before)
    runs.append(fig)
    if fig:
        what = " ".join(x for x in ("" if poll is None else f"poll={poll}",
                                    "" if nq is None else f"queues={nq}",
                                    "before" if before else "") if x)
        log(f"  {w['name']:26} {b:7} {lay:6} {p:9} {what:8} "
            f"{fig['iops']:>11,.0f} IOPS  p50 {fig['p50_us']:8.1f} us")
    if fig and fig.get("aio") != engine.get("aio"):
        log(f"  note: blk0 ran with aio={fig.get('aio')}, the probe said {engine.get('aio')}")


def ringtest_build_info(d):
    """Where BUILD/ringtest came from and how it was compiled (its Makefile's
    CFLAGS, the compiler ringtest-build.sh's make ran: cc)."""
    info = dict(tarball=None, cflags=None, cc=None)
    try:
        with open(os.path.join(d, "src", ".tarball")) as f:
            info["tarball"] = f.read().strip()
        with open(os.path.join(d, "src", "Makefile")) as f:
            info["cflags"] = " ".join(re.findall(r"^CFLAGS\s*\+?=\s*(.*)$", f.read(), re.M))
    except OSError:
        pass
    try:
        r = run(["cc", "--version"], timeout=10)
        info["cc"] = (r.stdout.splitlines() or [None])[0]
    except OSError:
        pass
    return info


def lockstep_count(R, out, prog, missing):
    """R.ringtest_insns(PROG) if `make ringtest` built it in OUT's dir, else
    None and a note in OUT saying so and what is MISSING then."""
    if not os.path.exists(os.path.join(out["dir"], prog)):
        out["notes"].append(f"{prog} is missing (make ringtest again): {missing}")
        return None
    fig = R.attempt(prog, R.ringtest_insns, prog)
    if fig:
        log(f"  {prog:29} {fig['insns_per_buf']:.1f} insns/buf")
    return fig


def ringtest_section(R, repeats):
    """Linux's ringtest beside ringbench (RINGTEST_PAIRS): per pairing,
    REPEATS rounds, each running ringbench and ringtest once, right after
    each other (which goes first alternating by round), the per-round
    ratio of their rates, and each side's instructions per buffer from a
    lock-step run under callgrind.  Nothing but a logged line and a
    "skipped" if `make ringtest` has not been run."""
    d = os.path.join(R.build, RINGTEST_DIR)
    peers = list(dict.fromkeys(p["peer"] for p in RINGTEST_PAIRS))
    out = dict(dir=d, qsize=RINGTEST_QSIZE, batch=RINGTEST_BATCH, rounds=repeats,
               machine_cpus=os.cpu_count(),
               lockstep_rounds=list(RINGTEST_LOCKSTEP_ROUNDS), pairs=[], lockstep={},
               startup={}, skipped=None, notes=[], validating=None, checked={})
    missing = [p for p in peers if not os.path.exists(os.path.join(d, p))]
    if missing:
        out["skipped"] = (f"{os.path.join(d, missing[0])} is not built: `make ringtest` "
                          f"(docs/ringtest.md)")
        log(f"ringtest: {out['skipped']}; the ringtest rows are left out")
        return out
    out.update(ringtest_build_info(d))
    # Polling, the two threads each need a CPU of their own (ringtest's
    # never yield): what else ran matters, so say how busy the machine was.
    out["loadavg"] = [round(os.getloadavg()[0], 2)]
    if not R.ringbench_accepts("--workload=ringtest"):
        out["notes"].append("this ringbench has no --workload=ringtest: its default workload "
                            "(a 64-byte payload, sequence checked) stands in")
    out["ringbench_workload"] = ("ringtest" if R.ringbench_accepts("--workload=ringtest")
                                 else "default")
    # The exact figures first: one lock-step count per ringtest ring, one
    # ringbench --insns run per pairing.
    insns_ours = {}
    if not shutil.which("valgrind"):
        out["notes"].append("no valgrind (apt-get install valgrind): no instructions per buffer")
        log("ringtest: no valgrind (apt-get install valgrind): no instructions per buffer")
    else:
        for peer in peers:
            if os.path.exists(os.path.join(d, peer + "-lockstep")):
                fig = R.attempt(f"ringtest {peer}-lockstep", R.ringtest_insns,
                                peer + "-lockstep")
            else:
                fig = None
                out["notes"].append(f"{peer}-lockstep is missing (make ringtest again)")
            out["lockstep"][peer] = fig
            if fig:
                log(f"  ringtest {peer:15} lock-step: {fig['insns_per_buf']:.1f} insns/buf")
        for layout, (inlined, calls, _) in CHECKED.items():
            out["checked"][layout] = [
                lockstep_count(R, out, prog, f"no checked {layout} ring in ringtest's shape")
                for prog in (inlined, calls)]
        out["validating"] = lockstep_count(R, out, VRINGH_LOCKSTEP, "no validating peer")
        if not R.ringbench_accepts("--insns"):
            out["notes"].append("this ringbench has no --insns: its instructions per buffer "
                                "are not measured")
        else:
            for p in RINGTEST_PAIRS:
                what = f"ringbench --insns {p['notify']} {p['layout']}"
                insns_ours[id(p)] = R.attempt(what, R.ringtest_ours_insns, p) or {}
    ours = {id(p): [] for p in RINGTEST_PAIRS}
    theirs = {id(p): [] for p in RINGTEST_PAIRS}
    startup = {peer: [] for peer in peers}
    for rnd in range(repeats):
        log(f"ringtest round {rnd + 1}/{repeats}")
        for peer in peers:
            startup[peer].append(R.attempt(f"ringtest {peer} --run-cycles 1",
                                           R.ringtest_startup, peer))
        for p in RINGTEST_PAIRS:
            ops = max(p["ops"] // R.scale, 1)
            sides = [(ours[id(p)], f"ringbench {p['notify']} {p['layout']}", R.ringtest_ours),
                     (theirs[id(p)], f"ringtest {p['peer']} {p['notify']}", R.ringtest_peer)]
            for runs, what, fn in (reversed(sides) if rnd % 2 else sides):
                runs.append(R.attempt(what, fn, p, ops))
            a, b = ours[id(p)][-1], theirs[id(p)][-1]
            log(f"  {p['notify']:8} {p['layout']:6} {ops:>10,} bufs: ringbench "
                + (f"{a['ops/s']:>12,.0f}" if a else f"{'failed':>12}") + f" ops/s, "
                f"{p['peer']:15} " + (f"{b['ops/s']:>12,.0f}" if b else f"{'failed':>12}")
                + " ops/s")
    out["startup"] = {peer: dict(runs=runs, summary=summarize(runs))
                      for peer, runs in startup.items()}
    for p in RINGTEST_PAIRS:
        ops = max(p["ops"] // R.scale, 1)
        a, b = ours[id(p)], theirs[id(p)]
        r = [x["ops/s"] / y["ops/s"] for x, y in zip(a, b)
             if x and y and isinstance(x.get("ops/s"), (int, float)) and y["ops/s"]]
        lk = out["lockstep"].get(p["peer"])
        ins = dict(insns_ours.get(id(p), {}))
        ins["ringtest"] = lk["insns_per_buf"] if lk else None
        ours_n = ins.get("insns/buf")
        ins["ratio"] = ours_n / ins["ringtest"] if ours_n and ins["ringtest"] else None
        out["pairs"].append(dict(
            notify=p["notify"], layout=p["layout"], peer=p["peer"], ops=ops,
            ringbench_argv=" ".join(R.ringtest_ours_argv(p, ops)[1:]),
            ringtest_argv=" ".join(R.ringtest_argv(p, ops)[1:]),
            ours=dict(runs=a, summary=summarize(a)), ringtest=dict(runs=b, summary=summarize(b)),
            ratio=dict(median=statistics.median(r), min=min(r), max=max(r), n=len(r))
            if r else None, insns=ins))
    out["loadavg"].append(round(os.getloadavg()[0], 2))
    log("ringtest done")
    return out


def pick_backends(choice, lguest, kernel):
    """The backends to run ([...]) and those `all` leaves out ({name: why})."""
    if choice in BACKENDS:
        return [choice], {}
    if choice == "auto":
        # What lguest picks by itself, as it says with -v.
        r = run([lguest, "-v", kernel, "--", "exit 0"], timeout=60)
        m = re.search(r"^lguest: backend (\w+)", r.stderr, re.M)
        if r.returncode or not m or m[1] not in BACKENDS:
            sys.exit(f"{PROG}: --backend=auto: cannot tell which backend lguest picks "
                     f"(exit {r.returncode}: {r.stderr.strip()[-200:]!r})")
        return [m[1]], {}
    out, skipped = [], {}
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
        out.append("kvm")
    except OSError as e:
        skipped["kvm"] = f"/dev/kvm does not open ({e.strerror})"
    return out + ["process"], skipped


def main():
    ap = argparse.ArgumentParser(prog=PROG, description="draft3, split and packed rings, "
                                 "on each backend, side by side (see lguest-compare(1), or "
                                 "the top of this file)")
    ap.add_argument("--quick", action="store_true", help="one repeat, a tenth of the work")
    ap.add_argument("--out", help="output directory (default: BUILD/compare in a build "
                    "tree, ./lguest-compare-results where installed)")
    ap.add_argument("--build", default=DEFAULT_BUILD, help="where lguest, guest.elf ... are "
                    "(default: this program's directory, or where it is installed its "
                    "lib/lguest, with lguest beside this program)")
    ap.add_argument("--repeats", type=int, help="runs per cell (default 5, --quick 1)")
    ap.add_argument("--no-net", action="store_true", help="leave the network out")
    ap.add_argument("--backend", default="all", choices=("all", "auto") + BACKENDS,
                    help="all (default: kvm if /dev/kvm opens, and process), auto (the one "
                    "lguest picks), kvm or process")
    ap.add_argument("--doc", help="refresh this document's results section and plots")
    ap.add_argument("--only", metavar="SECTION,...", help="run only these sections: "
                    f"{', '.join(SECTIONS)} (default: all)")
    ap.add_argument("--before", metavar="DIR", help="an older build directory (its lguest "
                    "and guest.elf, and lguest-stub for the process backend): the block "
                    "section runs every `block` cell with it too, beside this build's in "
                    "each repeat, as cells of kind block-before with a × before ratio; e.g. "
                    "git worktree add /tmp/old COMMIT && make -C /tmp/old && "
                    "lguest-compare --before=/tmp/old/build --only block")
    args = ap.parse_args()
    # An installation's lib/lguest is no place for results (nor writable).
    args.out = args.out or (os.path.join(args.build, "compare")
                            if os.path.exists(os.path.join(args.build, "lguest"))
                            else "lguest-compare-results")
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    if repeats < 1:
        sys.exit(f"{PROG}: --repeats must be at least 1")
    sections = SECTIONS if args.only is None else [x for x in args.only.split(",") if x]
    bad = [x for x in sections if x not in SECTIONS] if sections else [args.only]
    if bad:
        sys.exit(f"{PROG}: --only: no section {bad[0]!r} (there are {', '.join(SECTIONS)})")
    for prog in ("lguest", "guest.elf", "hostbench", "netbench", "ringbench"):
        if not os.path.exists(program(args.build, prog)):
            sys.exit(f"{PROG}: {program(args.build, prog)} is missing (run make)")
    if args.doc and not os.path.exists(args.doc):
        sys.exit(f"{PROG}: {args.doc}: no such file")
    if args.before is not None:
        args.before = os.path.abspath(args.before)
        for prog in ("lguest", "guest.elf"):
            if not os.path.exists(program(args.before, prog)):
                sys.exit(f"{PROG}: --before: {program(args.before, prog)} is missing "
                         f"(build it there: make -C ITS_TREE)")
    backends, skipped = pick_backends(args.backend, program(args.build, "lguest"),
                                      os.path.join(args.build, "guest.elf"))
    if "process" in backends and not os.path.exists(os.path.join(args.build, "lguest-stub")):
        sys.exit(f"{PROG}: {os.path.join(args.build, 'lguest-stub')} is missing (run make), "
                 f"needed by the process backend")
    os.makedirs(args.out, exist_ok=True)

    R = Runner(args)
    atexit.register(R.stop_peers)       # the vhost-user backends, whatever happens
    t_start = time.monotonic()
    commit, dirty = git_commit()
    net_skip = None
    if args.no_net:
        net_skip = "--no-net"
    elif os.geteuid() != 0:
        net_skip = "needs root (network namespaces and a tap)"
    elif not shutil.which("ip"):
        net_skip = "no `ip` command (apt-get install iproute2)"
    # Placements whose program is missing: their cells are reported as skipped.
    placement_skip = {}
    if not os.path.exists(program(args.build, "lguest-vhost-blk")):
        placement_skip["vhost-blk"] = (f"{program(args.build, 'lguest-vhost-blk')} is "
                                       f"not built (run make)")
    if not shutil.which("qemu-storage-daemon"):
        placement_skip["qsd"] = ("qemu-storage-daemon is not installed (Debian: "
                                 "qemu-system-common)")
    if not os.path.exists("/dev/lguest-host"):
        placement_skip["kernel"] = ("no /dev/lguest-host: the lguest_host module is not loaded "
                                    "(docs/host-module.md; make bench-module measures it)")
    res = dict(meta=dict(tool=PROG, format=3,
                         date=datetime.datetime.now(datetime.timezone.utc).isoformat(
                             timespec="seconds"),
                         commit=commit, dirty=dirty, command=" ".join([PROG] + sys.argv[1:]),
                         machine=machine(), repeats=repeats, quick=args.quick,
                         backends=backends, backend_option=args.backend,
                         backends_skipped=skipped, net_skipped=net_skip,
                         sections=list(sections), placement_skipped=placement_skip),
               cells=[], host=dict(block={}, block_1t={}, block_parallel={}, net={},
                                   hcall={}, boot={}, placement={}),
               ringbench=[], boot=[], failures=[])
    log(f"{PROG}: {repeats} repeat(s){' (quick)' if args.quick else ''}, backends "
        f"{', '.join(backends)}, output in {args.out}"
        + ("" if args.only is None else f", sections {', '.join(sections)}"))
    for b, why in skipped.items():
        log(f"{b} left out: {why}")
    res["meta"]["image_mib"] = R.make_image() >> 20
    if args.before is not None and "block" not in sections:
        log("--before: the block section is not run, so it is not used")

    # What each section runs (nothing, for the sections --only leaves out).
    blocks = BLOCK if "block" in sections else []
    nets = NET if "net" in sections and not net_skip else []
    hcalls = HCALLS if "hcall" in sections else []
    places = [w for w in BLOCK if w["name"] in PLACEMENT_BLOCK] \
        if "placement" in sections else []
    # The block rows (BLOCK_VARIANTS): the polling window ones only if this
    # lguest has --poll, the multi-queue ones only if it has queues=.
    variants = BLOCK_VARIANTS
    if blocks and not R.launcher_options()["poll"]:
        variants = [v for v in variants if v[1] is None]
        res["meta"]["block_poll_skipped"] = "lguest has no --poll (an older build)"
        log(f"block: the --poll={BLOCK_POLL_US} rows left out: lguest has no --poll")
    if blocks and not R.launcher_options()["queues"]:
        variants = [v for v in variants if v[2] is None]
        res["meta"]["block_mq_skipped"] = "lguest has no --block=...,queues= (an older build)"
        log(f"block: the queues={BLOCK_MQ_QUEUES} rows left out: lguest has no queues=")
    block_runs = {(w["name"], b, lay, p, poll, nq): [] for w in blocks for b in backends
                  for lay in LAYOUTS for p, poll, nq in block_variants_on(variants, lay)}
    # --before: the "block" rows again with the older build, on the backends
    # it can run (the process backend needs its lguest-stub).
    before_backends = []
    if blocks and args.before is not None:
        bcommit, bdirty = git_commit(args.before)
        res["meta"]["before"] = dict(dir=args.before, commit=bcommit, dirty=bdirty,
                                     options=R.launcher_options(before=True), skipped={})
        for b in backends:
            if b == "process" and not os.path.exists(os.path.join(args.before, "lguest-stub")):
                why = f"{os.path.join(args.before, 'lguest-stub')} is missing"
                res["meta"]["before"]["skipped"][b] = why
                log(f"block: no before rows on {b}: {why}")
            else:
                before_backends.append(b)
    before_runs = {(w["name"], b, lay, p): [] for w in blocks for b in before_backends
                   for lay in LAYOUTS for p, poll, nq in variants
                   if block_kind(poll, nq) == "block"}
    # The device's I/O engine per (backend, ring, queues), from a probe boot
    # (--before's per (backend, ring)), and from it the host configuration
    # (engine, n) each block cell is put against: per workload, the
    # single-threaded run and every distinct parallel one, each measured once
    # per repeat.
    engines = block_engines(R, [(b, lay, nq) for b in backends for lay in LAYOUTS
                                for nq in dict.fromkeys(v[2] for v in
                                                        block_variants_on(variants, lay))]
                            ) if blocks else {}
    before_engines = block_engines(R, [(b, lay, None) for b in before_backends
                                       for lay in LAYOUTS], before=True) if before_runs else {}
    all_engines = list(engines.values()) + list(before_engines.values())
    block_host_1t = {w["name"]: [] for w in blocks}
    block_host_par = {w["name"]: {host_parallel(w, e): [] for e in all_engines
                                  if host_parallel(w, e) != ("sync", 1)} for w in blocks}
    net_runs = {(w["name"], b, lay): [] for w in nets for b in backends for lay in LAYOUTS}
    net_host = {w["name"]: [] for w in nets}
    hcall_runs = {(h["name"], b, h["path"]): [] for h in hcalls for b in backends}
    hcall_host = []
    place_runs = {(w["name"], b, where, ring): [] for w in places for b in backends
                  for where, ring in PLACEMENTS if where not in placement_skip}
    place_host = {w["name"]: [] for w in places}
    for rep in range(repeats):
        log(f"repeat {rep + 1}/{repeats}")
        for w in blocks:
            block_host_1t[w["name"]].append(R.attempt(f"host {w['name']} threads=1",
                                                      R.block_host, w, ("sync", 1)))
            for cfg, runs in block_host_par[w["name"]].items():
                runs.append(R.attempt(f"host {w['name']} {host_cfg_name(cfg)}", R.block_host,
                                      w, cfg))
            for b in backends:
                for lay in LAYOUTS:
                    for p, poll, nq in block_variants_on(variants, lay):
                        cells = [(block_runs[(w["name"], b, lay, p, poll, nq)],
                                  engines[(b, lay, nq)], False)]
                        if (w["name"], b, lay, p) in before_runs and \
                                block_kind(poll, nq) == "block":
                            # This build and the older one side by side, which
                            # goes first alternating by repeat.
                            cells.append((before_runs[(w["name"], b, lay, p)],
                                          before_engines[(b, lay, None)], True))
                            if rep % 2:
                                cells.reverse()
                        for runs, eng, before in cells:
                            block_cell_run(R, runs, w, b, lay, p, poll, nq, eng, before)
        for w in places:
            place_host[w["name"]].append(R.attempt(f"host {w['name']}", R.block_host, w))
            for b in backends:
                for where, ring in PLACEMENTS:
                    if where in placement_skip:
                        continue
                    fig = R.attempt(f"{w['name']} {b} {where} {ring}", R.placement_guest, w, b,
                                    where, ring)
                    place_runs[(w["name"], b, where, ring)].append(fig)
                    if fig:
                        log(f"  {w['name']:26} {b:7} {where:9} {ring:6} {fig['iops']:>11,.0f} "
                            f"IOPS  p50 {fig['p50_us']:8.1f} us")
        if hcalls:
            hcall_host.append(R.attempt("hostbench pingpong", R.hcall_host))
            for b in backends:
                for p in PATHS:
                    figs = R.attempt(f"hcbench {b} {p}", R.hcall_guest, b, p) or {}
                    for h in hcalls_run_on(p):
                        hcall_runs[(h["name"], b, h["path"])].append(figs.get(h["name"]))
                    for name, fig in figs.items():
                        log(f"  hcbench {name:8} {b:7} {p:9} p50 {fig['p50_ns'] / 1e3:8.2f} us")
        for w in nets:
            net_host[w["name"]].append(R.attempt(f"veth {w['name']}", R.net_host, w))
            for b in backends:
                for lay in LAYOUTS:
                    fig = R.attempt(f"{w['name']} {b} {lay}", R.net_guest, w, b, lay)
                    net_runs[(w["name"], b, lay)].append(fig)
                    if fig:
                        log(f"  {w['name']:26} {b:7} {lay:6} {fig['pps']:>11,.0f} pps   "
                            f"rtt p50 {fig['rtt_p50_us']:8.1f} us")
    if "net" in sections and net_skip:
        log(f"network left out: {net_skip}")
    # Then one traced run per placement cell, to count its kicks and calls.
    place_traced = {}
    for (name, b, where, ring) in place_runs:
        w = next(w for w in places if w["name"] == name)
        fig = R.attempt(f"{name} {b} {where} {ring} traced", R.placement_guest, w, b, where,
                        ring, max(PLACEMENT_TRACED[name] // R.scale, 1))
        place_traced[(name, b, where, ring)] = fig
        if fig:
            log(f"  {name:26} {b:7} {where:9} {ring:6} traced: {fig['requests']} requests, "
                f"kicks/req {fig['kicks_per_req']:.3f}, calls/req {fig['calls_per_req']:.3f}")
    R.stop_peers()
    if places:
        for where, why in placement_skip.items():
            log(f"placement {where} left out: {why}")
    # The timed ringbench runs are short and as noisy as the rest: three
    # repeats each (one with --quick), interleaved like the VM cells.
    rb_runs = [[] for _ in RINGBENCH]
    for _ in range(min(repeats, 3) if "rings" in sections else 0):
        for i, cfg in enumerate(RINGBENCH):
            rb_runs[i].append(R.attempt(f"ringbench {cfg}", R.ringbench, cfg))
    for cfg, runs in zip(RINGBENCH, rb_runs):
        runs = [r for r in runs if r]
        if runs:
            res["ringbench"].append(merge_ringbench(cfg, runs))
    if "rings" in sections:
        log("ringbench done")
        res["ringtest"] = ringtest_section(R, repeats)
    # Boot: /bin/true, then each backend bare and with a disk per layout,
    # round after round; a configuration that fails once is not run again.
    boot_runs = {}
    if "boot" in sections:
        boot_runs[("host", None)] = []
        boot_runs.update({(b, lay): [] for b in backends for lay in (None,) + LAYOUTS})
    for _ in range((5 if args.quick else BOOT_RUNS) if boot_runs else 0):
        for (b, lay), runs in boot_runs.items():
            if None in runs:
                continue
            what = "boot /bin/true" if b == "host" else f"boot {b} {lay or 'bare'}"
            runs.append(R.attempt(what, R.boot_once, b, lay))
    if boot_runs:
        log("boot done")

    # Block: "host" "block" is the parallel baseline most cells are put
    # against (× host), "block_1t" the single-threaded one (× 1 thread),
    # "block_parallel" every parallel one by hostbench configuration.
    for w in blocks:
        name = w["name"]
        one = dict(runs=block_host_1t[name], summary=summarize(block_host_1t[name]),
                   hostbench="engine=sync threads=1", devices=[])
        res["host"]["block_1t"][name] = one
        par = {}
        devices = ([(k, eng, None) for k, eng in engines.items()]
                   + [(k, eng, "before") for k, eng in before_engines.items()])
        for (b, lay, nq), eng, build in devices:
            cfg = host_parallel(w, eng)
            if cfg not in par:
                runs = block_host_par[name].get(cfg, one["runs"])
                par[cfg] = dict(runs=runs, summary=summarize(runs),
                                hostbench=host_cfg_name(cfg), devices=[])
            par[cfg]["devices"].append(dict(backend=b, layout=lay, queues=nq or 1, **eng,
                                            **({"build": build} if build else {})))
        res["host"]["block_parallel"][name] = {v["hostbench"]: v for v in par.values()}
        main_cfg = max(par, key=lambda k: len(par[k]["devices"]), default=("sync", 1))
        res["host"]["block"][name] = par.get(main_cfg, one)
    for (name, b, lay, p, poll, nq), runs in block_runs.items():
        w = next(w for w in blocks if w["name"] == name)
        eng = engines[(b, lay, nq)]
        res["cells"].append(dict(kind=block_kind(poll, nq), workload=name,
                                 backend=b, layout=lay, notify=p, poll=poll, queues=nq or 1,
                                 runs=runs, summary=summarize(runs), aio=eng["aio"],
                                 aio_parallelism=eng["aio_parallelism"],
                                 host_parallel=host_cfg_name(host_parallel(w, eng))))
    for (name, b, lay, p), runs in before_runs.items():
        w = next(w for w in blocks if w["name"] == name)
        eng = before_engines[(b, lay, None)]
        res["cells"].append(dict(kind="block-before", workload=name, backend=b, layout=lay,
                                 notify=p, poll=None, queues=1, build=args.before, runs=runs,
                                 summary=summarize(runs), aio=eng["aio"],
                                 aio_parallelism=eng["aio_parallelism"],
                                 host_parallel=host_cfg_name(host_parallel(w, eng))))
    if not net_skip:
        for (name, b, lay), runs in net_runs.items():
            res["cells"].append(dict(kind="net", workload=name, backend=b, layout=lay,
                                     notify="ioeventfd", runs=runs, summary=summarize(runs)))
        for name, runs in net_host.items():
            res["host"]["net"][name] = dict(runs=runs, summary=summarize(runs))
    for (name, b, p), runs in hcall_runs.items():
        res["cells"].append(dict(kind="hcall", workload=name, backend=b, layout=HCALL_RING,
                                 notify=p, runs=runs, summary=summarize(runs)))
    if hcalls:
        res["host"]["hcall"]["pingpong"] = dict(runs=hcall_host, summary=summarize(hcall_host))
    # Placement cells: "placement" says where blk0 ran, "traced" holds the
    # counting run's figures, "skipped" why a cell did not run.
    for w in places:
        for b in backends:
            for where, ring in PLACEMENTS:
                key = (w["name"], b, where, ring)
                runs = place_runs.get(key, [])
                c = dict(kind="placement", workload=w["name"], backend=b, layout=ring,
                         notify="ioeventfd", placement=where, runs=runs,
                         summary=summarize(runs), traced=place_traced.get(key))
                if where in placement_skip:
                    c["skipped"] = placement_skip[where]
                res["cells"].append(c)
    for name, runs in place_host.items():
        res["host"]["placement"][name] = dict(runs=runs, summary=summarize(runs))
    for c in res["cells"]:
        if c["kind"] in BLOCK_KINDS:
            par = res["host"]["block_parallel"][c["workload"]][c["host_parallel"]]
            c["ratio_to_host"] = paired_ratios(c["runs"], par["runs"])
            c["ratio_to_host_1t"] = paired_ratios(
                c["runs"], res["host"]["block_1t"][c["workload"]]["runs"])
            key = (c["workload"], c["backend"], c["layout"], c["notify"])
            if c["kind"] == "block" and key in before_runs:
                # This build over the older one, repeat by repeat.
                c["ratio_to_before"] = paired_ratios(c["runs"], before_runs[key])
            continue
        host_runs = res["host"][c["kind"]].get(
            "pingpong" if c["kind"] == "hcall" else c["workload"], {}).get("runs", [])
        c["ratio_to_host"] = paired_ratios(c["runs"], host_runs)
    true_runs = boot_runs.pop(("host", None), None)
    if true_runs is not None:
        res["host"]["boot"]["bin-true"] = dict(runs=true_runs, summary=summarize(true_runs))
    for (b, lay), runs in boot_runs.items():
        res["boot"].append(dict(backend=b, layout=lay, runs=runs, summary=summarize(runs),
                                ratio_to_host=paired_ratios(runs, true_runs)))
    res["failures"] = R.failures
    res["meta"]["wall_s"] = round(time.monotonic() - t_start, 1)

    svgs = make_plots(res, args.out)
    md = markdown(res, svgs)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    shutil.rmtree(R.tmp, ignore_errors=True)
    if args.doc:
        try:
            update_doc(args.doc, args.out, md, svgs, res["meta"])
        except (CompareError, OSError) as e:
            res["failures"].append(str(e))
    log(f"\n{md}")
    log(f"{PROG}: {res['meta']['wall_s']} s; wrote {args.out}/results.json, results.md and "
        f"{len(svgs)} plots")
    if res["failures"]:
        sys.exit(f"{PROG}: {len(res['failures'])} failure(s): " + "; ".join(res["failures"]))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(f"{PROG}: interrupted")
