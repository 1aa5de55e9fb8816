"""cases_crash.py: crash consistency.  A FLUSH the guest saw completed is a
promise; a SIGKILL at any moment must not break it.

The guest runs `flushlog` (guest/shell/cmd_flushlog.c): batches of writes
to random slots of a region of the disk, each batch followed by a FLUSH,
and once the FLUSH completes one line per write of the batch,
"acked SEQ SLOT NSECT".  A while (0.2 to 1.5 s, at random) after the first
ack we SIGKILL the launcher (or, on the process backend, the guest's own
process, the launcher's child), read the image and hold it to every ack
we saw printed.

What must hold (check_image), sector by sector.  Every sector flushlog
writes is a record naming its write: sequence number, slot, its index in
the write, the write's length, filler derived from those, a CRC-32.  A
slot is rewritten only after its previous write was flushed, never while
another write to it is in flight (cmd_flushlog.c), and sequence numbers
only grow.  So for an acked write (SEQ, SLOT, N), each of the slot's first
N sectors must hold a valid record of this slot and index whose sequence
number is SEQ or later:

  - later is allowed: a write issued after the ack may have landed on the
    same slot, all of it or only some of its sectors (a write that was in
    flight when we killed may be torn between host pages), and it wins
    over ours sector by sector, as the guest asked;
  - older, or no valid record (zeros never written over, a torn sector,
    another slot's or index's bytes), means the flushed write is lost.

A record whose sequence number we saw acked must also agree with its ack
(slot and length): the log and the image tell one story.  The rest of the
image, outside the region, must still be zeros.  acks must read 1, 2, 3 ...
with no gap: the console lost or reordered nothing.

Killing a process is not pulling the plug: the host's page cache survives,
so what this proves is that the launcher (or lguest-vhost-blk) answers a
FLUSH only after the writes before it reached the host kernel, and keeps
no write-back of its own; not what fdatasync does for the platters.

The process around the kill is held to account too: killed by SIGKILL, the
launcher's return code is -9; after it, none of the processes it started
(the process backend's guest process, which has PR_SET_PDEATHSIG) may
still run, stdout must reach end of file, and no lock is left on the image.
Killing the guest's process instead, the launcher must notice and exit
125 with one line saying so.

crashbench (tests/crash/crashbench.py) runs the same kill many times and
prints a table; it imports crash_run() from here.
"""
import dataclasses
import glob
import os
import re
import signal
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path

from harness import Result, Skip, case, expect, fail, kill_group, limit, start_server

SECTOR = 512
SLOT_SECTORS = 16  # cmd_flushlog.c's SLOT_SECTORS
IMAGE_SIZE = 1 << 20
REGION_FIRST = 128  # sectors: flushlog's region, with untouched sectors on both sides
REGION_SLOTS = 64  # few slots, so later writes often land on flushed ones
REGION_SECTORS = REGION_SLOTS * SLOT_SECTORS
QD = 8
# A bound in case a kill is never sent: the guest stops by itself after this.
GUEST_SECS = 60
KILL_AFTER = (0.2, 1.5)  # seconds after the first ack

# struct flushlog_rec: magic, seq, slot, index, count, fill, crc.
REC = struct.Struct("<8sQIHH484sI")
MAGIC = b"LGFLUSH1"
assert REC.size == SECTOR

_ACK_RE = re.compile(rb"^acked (\d+) (\d+) (\d+)$")

VICTIMS = ("launcher", "guest")  # what is killed: the launcher, or its guest process


# ---------------------------------------------------------------------------
# The image against the acks


@dataclasses.dataclass
class Check:
    checked: int = 0  # acked writes held to account
    binding: int = 0  # of those, the newest acked write on at least one sector: most
    #                   acked writes were overwritten by later acked ones, so only these
    #                   could fail the check (the rest pass on a later write's record)
    lost: int = 0  # of those, writes with a sector that is not SEQ or later
    losses: list = dataclasses.field(default_factory=list)  # what, for the first few
    unacked_landed: int = 0  # writes never acked that are (partly) on the image
    torn: int = 0  # of those, writes only partly there
    problems: list = dataclasses.field(default_factory=list)  # anything else wrong


def parse_record(raw, slot, index):
    """The record in sector INDEX of SLOT: (seq, count), or a string saying
    why it is not a valid record of that place."""
    magic, seq, rslot, rindex, count, _, crc = REC.unpack(raw)
    if raw == bytes(SECTOR):
        return "zeros (never written)"
    if magic != MAGIC or zlib.crc32(raw[:-4]) != crc:
        return "not a valid record (torn or foreign bytes)"
    if (rslot, rindex) != (slot, index) or not 1 <= count <= SLOT_SECTORS or rindex >= count:
        return f"the record of slot {rslot} sector {rindex} (count {count})"
    if seq == 0:
        return "a record with sequence number 0"
    return seq, count


def parse_acks(stdout):
    """The complete "acked" lines of STDOUT as [(seq, slot, count)]; a last
    line cut short by the kill does not count."""
    lines = stdout.split(b"\n")[:-1]
    return [tuple(map(int, m.groups())) for m in map(_ACK_RE.match, lines) if m]


def check_image(image, acks):
    """Hold IMAGE (bytes) to ACKS; see the module's docstring."""
    c = Check()
    first, end = REGION_FIRST * SECTOR, (REGION_FIRST + REGION_SECTORS) * SECTOR
    if image[:first].count(0) != first or image[end:].count(0) != len(image) - end:
        c.problems.append("bytes outside flushlog's region changed")
    recs = [[parse_record(image[first + (s * SLOT_SECTORS + i) * SECTOR:][:SECTOR], s, i)
             for i in range(SLOT_SECTORS)] for s in range(REGION_SLOTS)]

    for i, (seq, _, _) in enumerate(acks):
        if seq != i + 1:
            c.problems.append(f"ack number {i + 1} is for write {seq}: the acks do not read "
                              "1, 2, 3, ... (a console line lost or reordered?)")
            break
    by_seq = {seq: (slot, count) for seq, slot, count in acks}
    newest = {}  # (slot, sector) -> the last acked write covering it
    for seq, slot, count in acks:
        c.checked += 1
        if not (0 <= slot < REGION_SLOTS and 1 <= count <= SLOT_SECTORS):
            c.problems.append(f"ack {seq} names slot {slot}, {count} sectors: no such write")
            continue
        bad = []
        for i in range(count):
            newest[slot, i] = seq
            r = recs[slot][i]
            if isinstance(r, str):
                bad.append(f"sector {i}: {r}")
            elif r[0] < seq:
                bad.append(f"sector {i}: older write {r[0]}")
        if bad:
            c.lost += 1
            if len(c.losses) < 5:
                c.losses.append(f"write {seq} (slot {slot}, {count} sectors): "
                                + "; ".join(bad[:4]))

    c.binding = len(set(newest.values()))

    # What the image holds that no ack covers: writes after the last ack.
    # A write is torn when one of its sectors holds an older record (or
    # none): a newer one means it was overwritten, not torn.
    found = {}
    for slot in range(REGION_SLOTS):
        for i, r in enumerate(recs[slot]):
            if isinstance(r, tuple):
                seq, count = r
                if seq in by_seq and by_seq[seq] != (slot, count):
                    c.problems.append(f"sector {i} of slot {slot} holds write {seq} as slot "
                                      f"{slot}, {count} sectors; its ack said slot "
                                      f"{by_seq[seq][0]}, {by_seq[seq][1]} sectors")
                found.setdefault(seq, (slot, count))
    for seq, (slot, count) in found.items():
        if seq in by_seq:
            continue
        c.unacked_landed += 1
        if any(isinstance(recs[slot][i], str) or recs[slot][i][0] < seq for i in range(count)):
            c.torn += 1
    return c


# ---------------------------------------------------------------------------
# Processes


def _stat_fields(pid):
    """/proc/PID/stat's fields from the state on (field 3 is [0]), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(pid):
    """Every process under PID, as {pid: (start time, name)}: start times
    tell a process from a later one given the same pid."""
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for f in glob.glob(f"/proc/{parent}/task/*/children"):
            try:
                kids = [int(k) for k in Path(f).read_text().split()]
            except OSError:
                continue
            for k in kids:
                fields = _stat_fields(k)
                if fields and k not in found:
                    try:
                        name = Path(f"/proc/{k}/comm").read_text().strip()
                    except OSError:
                        name = "?"
                    found[k] = (fields[19], name)
                    todo.append(k)
    return found


def still_running(procs):
    """Those of PROCS ({pid: (start, name)}) still running: a zombie (dead,
    its parent not yet waiting for it) runs nothing and does not count."""
    alive = {}
    for pid, (start, name) in procs.items():
        fields = _stat_fields(pid)
        if fields and fields[19] == start and fields[0] not in "ZX":
            alive[pid] = name
    return alive


def image_locks(img):
    """The lock lines of /proc/locks on IMG's inode (lguest holds an OFD
    lock on every image it writes, until the last fd of it is closed)."""
    ino = os.stat(img).st_ino
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    return [ln for ln in lines if len(ln.split()) > 5 and ln.split()[5].endswith(f":{ino}")]


class _Drain(threading.Thread):
    """Read a pipe to its end into .data; .first_ack is set at the first
    complete "acked" line."""

    def __init__(self, f, watch):
        super().__init__(daemon=True)
        self.f, self.watch = f, watch
        self.data = bytearray()
        self.first_ack = threading.Event()

    def run(self):
        while chunk := os.read(self.f.fileno(), 65536):
            self.data += chunk
            if self.watch and not self.first_ack.is_set() and parse_acks(bytes(self.data)):
                self.first_ack.set()
        self.f.close()


# ---------------------------------------------------------------------------
# One kill


@dataclasses.dataclass
class Outcome:
    res: Result  # the launcher's command, status, output
    delay: float  # seconds from the first ack to the kill
    acks: int
    check: Check
    problems: list  # everything wrong but the data: how it died, what it left

    @property
    def ok(self):
        return not self.problems and not self.check.problems and not self.check.lost

    def describe(self):
        c = self.check
        return (f"killed {self.delay:.2f} s after the first ack; {c.checked} flushed writes "
                f"checked ({c.binding} still the newest on some sector), {c.lost} lost; "
                f"{c.unacked_landed} unacked writes landed "
                f"({c.torn} torn)" + "".join(f"\n    {p}" for p in self.problems + c.problems)
                + "".join(f"\n    lost {ln}" for ln in c.losses) + self.res.describe())


def vhost_problem(build):
    exe = Path(build) / "lguest-vhost-blk"
    return None if exe.is_file() else f"no {exe} (build it: make)"


def crash_run(t, victim="launcher", vhost=False, delay=None):
    """Boot T's guest (its backend and layout) on a fresh image running
    flushlog, kill VICTIM ("launcher", or "guest": the process backend's
    guest process) DELAY seconds after the first ack (default: at random
    in KILL_AFTER), and check everything.  VHOST: the disk is served by
    lguest-vhost-blk, which must outlive the launcher; it is stopped before
    the image is read.  Returns an Outcome; fails only if the run could not
    get as far as a kill."""
    if delay is None:
        delay = t.rng.uniform(*KILL_AFTER)
    img = t.path("crash.img")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
    cmd = f"flushlog {REGION_FIRST} {REGION_SECTORS} qd={QD} secs={GUEST_SECS}"
    backend = None
    if vhost:
        sock, log = t.path("vb.sock"), t.path("vb.log")
        vb_argv = [str(t.build / "lguest-vhost-blk"), f"--socket={sock}", str(img)]
        backend = start_server(vb_argv, sock, log, "lguest-vhost-blk")
        argv = t.boot_argv(cmd, opts=[f"--vhost-user-blk={sock},ring={t.layout or 'split'}"])
    else:
        argv = t.boot_argv(cmd, blocks=[img])
    argv = [str(a) for a in argv]
    problems = []
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=t.tmp, start_new_session=True)
    out, err = _Drain(p.stdout, True), _Drain(p.stderr, False)
    out.start()
    err.start()

    def result():
        return Result(argv, p.returncode, bytes(out.data), bytes(err.data))

    try:
        if not out.first_ack.wait(limit(20)):
            kill_group(p)
            out.join(limit(5))
            err.join(limit(5))
            fail(f"no ack within {limit(20)} s", result())
        time.sleep(delay)
        if p.poll() is not None:
            out.join(limit(5))
            err.join(limit(5))
            fail("the launcher exited before the kill", result())
        procs = descendants(p.pid)
        if victim == "guest":
            stubs = [pid for pid, (_, name) in procs.items() if name == "lguest-stub"]
            if len(stubs) != 1:
                kill_group(p)
                fail(f"expected one lguest-stub under the launcher, found {procs}", result())
            os.kill(stubs[0], signal.SIGKILL)
        else:
            os.kill(p.pid, signal.SIGKILL)
        try:
            p.wait(timeout=limit(10))
        except subprocess.TimeoutExpired:
            problems.append(f"the launcher still ran {limit(10)} s after the kill")
            kill_group(p)
    finally:
        if p.poll() is None:
            kill_group(p)
    out.join(limit(10))
    err.join(limit(10))
    if out.is_alive() or err.is_alive():
        problems.append("stdout or stderr still open after the launcher died: "
                        "something outlived it holding them")

    res = result()
    if victim == "launcher":
        if p.returncode != -signal.SIGKILL:
            problems.append(f"return code {p.returncode}, expected -9 (SIGKILL)")
    else:
        # The launcher sees its guest process die and stops, in one line.
        lines = res.err_lines
        if p.returncode != 125 or len(lines) != 1 or "killed by signal 9" not in lines[0]:
            problems.append(f"after its guest process was killed, the launcher exited "
                            f"{p.returncode} with {len(lines)} stderr line(s); expected 125 "
                            "and one line saying 'killed by signal 9'")
    # PDEATHSIG works at once, but the kernel delivers it after the
    # parent's exit: give stragglers a moment.
    deadline = time.monotonic() + limit(5)
    while still_running(procs) and time.monotonic() < deadline:
        time.sleep(0.02)
    if left := still_running(procs):
        problems.append(f"left running after the launcher died: {left}")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    if backend is not None:
        # The backend outlives its frontend (it listens again); then SIGTERM ends it.
        if backend.poll() is not None:
            problems.append(f"lguest-vhost-blk died with the launcher ({backend.returncode}): "
                            + log.read_text(errors="replace")[-300:])
        else:
            backend.send_signal(signal.SIGTERM)
            try:
                if backend.wait(timeout=limit(5)) != 0:
                    problems.append(f"lguest-vhost-blk exited {backend.returncode} after "
                                    "SIGTERM: " + log.read_text(errors="replace")[-300:])
            except subprocess.TimeoutExpired:
                kill_group(backend)
                problems.append("lguest-vhost-blk did not exit on SIGTERM")
    if locks := image_locks(img):
        problems.append(f"locks left on the image: {locks}")

    acks = parse_acks(res.stdout)
    check = check_image(img.read_bytes(), acks)
    return Outcome(res, delay, len(acks), check, problems)


def expect_survived(o):
    expect(o.ok, "crash consistency: " + o.describe().split("\n    command:")[0], o.res)


# ---------------------------------------------------------------------------
# The cases: a couple of kills each, on every backend and layout


KILLS = 2


@case("crash/kill-launcher", layouts=True)
def kill_launcher(t):
    """SIGKILL the launcher twice, at random moments of a write + FLUSH
    workload: every flushed write is on the image (check_image), the
    launcher died of SIGKILL (-9) and left no process behind."""
    for _ in range(KILLS):
        expect_survived(crash_run(t, "launcher"))


@case("crash/kill-guest", boots=("process",), layouts=True)
def kill_guest(t):
    """On the process backend, SIGKILL the guest's process (the launcher's
    child, lguest-stub) instead: the launcher stops with status 125 and one
    line, and every flushed write is on the image."""
    expect_survived(crash_run(t, "guest"))


@case("crash/vhost-user", layouts=("split", "packed"))
def vhost_user(t):
    """The disk served by lguest-vhost-blk (--vhost-user-blk): SIGKILL the
    launcher; the backend lives on and stops cleanly on SIGTERM; then every
    flushed write is on the image."""
    if problem := vhost_problem(t.build):
        raise Skip(problem)
    expect_survived(crash_run(t, "launcher", vhost=True))
