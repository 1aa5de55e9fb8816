"""cases_vhost_backend.py: lguest-vhost-blk (our vhost-user-blk backend)
against vhost-user frontends that misbehave (vu_frontend.py's scenarios).

For each: the backend says what was wrong in one line on stderr
("lguest-vhost-blk: ..."), neither side hangs (every wait here has a
deadline), the backend does not crash, and it keeps listening: a good
frontend's session afterwards works (vu_frontend.good_session: capacity
from GET_CONFIG, sector 0 read through a split ring).  A frontend that asked
for an acknowledgement (REPLY_ACK) of what the backend refuses gets a
nonzero one before the hang-up.

The frontends are Python here and boot no guest, so these run once,
untagged (boots=False), whatever --backend says; one case boots our guest
through our launcher afterwards, and that one runs per CPU backend like any
case that boots.

vhost-backend/hostile/*: frontends that change their own memory or eventfds
under the backend (shrink the guest-RAM memfd, a blocking call eventfd that
is full, a kick fd that is not an eventfd).  They check the same promises.
"""
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import vu_frontend as vu
from harness import (Result, Skip, case, crc32, expect, expect_no_sanitizer_report, expect_rc,
                     expect_stdout, fail, kill_group, limit, start_server)

SECTOR = vu.SECTOR
PREFIX = "lguest-vhost-blk: blk0: "
ENDED = PREFIX + "frontend session ended: "
STOPPED = "; device stopped until the frontend restarts the ring"
PEER_ERRORS = (vu.Closed, vu.Timeout, vu.Protocol, vu.Refused, OSError)


class Backend:
    """build/lguest-vhost-blk serving IMG on a socket in the test's
    directory, its stderr in a log, for the length of a with-block (then
    SIGTERM, or SIGKILL if that does not end it)."""

    def __init__(self, t, img, *extra):
        self.sock = t.path("vb.sock")
        self.log = t.path("vb.log")
        self.argv = [str(t.build / "lguest-vhost-blk"), f"--socket={self.sock}", *extra,
                     str(img)]

    def __enter__(self):
        self.proc = start_server(self.argv, self.sock, self.log, "lguest-vhost-blk")
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            kill_group(self.proc)

    def result(self):
        """A Result showing the backend's command, status and log."""
        rc = self.proc.poll() if hasattr(self, "proc") else None
        log = self.log.read_bytes() if self.log.exists() else b""
        return Result(self.argv, rc, b"", log)

    def lines(self):
        return self.log.read_text(errors="replace").splitlines()

    def cpu_seconds(self):
        """User and system time the backend has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def fds_in_new_session(self):
        """How many fds the backend holds once a new frontend's first
        request is answered: by then the previous session has ended (one
        thread: it accepts only after) and its eventfds are closed."""
        with vu.Frontend(self.sock, timeout=limit(3)) as f:
            try:
                f.get_u64(vu.GET_FEATURES)
            except PEER_ERRORS as e:
                fail(f"GET_FEATURES: {type(e).__name__}: {e}", self.result())
            return len(list(Path(f"/proc/{self.proc.pid}/fd").iterdir()))

    def expect_said(self, what, needle=""):
        """After a hostile frontend: at least one line, every one ours,
        one containing NEEDLE.  (The session may end, with one line, or
        only the device stop, which makes a second at the hang-up.)"""
        lines = self.lines()
        expect(lines and all(ln.startswith("lguest-vhost-blk: ") for ln in lines) and
               any(needle in ln for ln in lines),
               f"after {what}: {len(lines)} stderr line(s), expected one or more "
               f"'lguest-vhost-blk: ' lines{f' naming {needle!r}' if needle else ''}",
               self.result())

    def blocked_in(self):
        """Where the backend sleeps, from /proc (x86-64 syscall numbers):
        'write(fd 6: anon_inode:[eventfd])', say; '' if it cannot tell."""
        names = {0: "read", 1: "write", 7: "poll", 45: "recvfrom", 46: "sendmsg",
                 47: "recvmsg", 271: "ppoll"}
        try:
            fields = Path(f"/proc/{self.proc.pid}/syscall").read_text().split()
            nr, fd = int(fields[0]), int(fields[1], 16)
            target = os.readlink(f"/proc/{self.proc.pid}/fd/{fd}")
        except (OSError, ValueError, IndexError):
            return ""
        return f"{names.get(nr, f'syscall {nr}')}(fd {fd}: {target})"

    def expect_alive(self, after):
        rc = self.proc.poll()
        if rc is not None:
            how = (f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exited with {rc}")
            fail(f"lguest-vhost-blk {how} after {after}", self.result())

    def stop(self):
        """SIGTERM: it must exit 0 promptly, having removed its socket."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=limit(5))
        except subprocess.TimeoutExpired:
            kill_group(self.proc)
            fail(f"lguest-vhost-blk did not exit within {limit(5)} s of SIGTERM",
                 self.result())
        res = self.result()
        expect_no_sanitizer_report(res)
        expect(rc == 0, f"lguest-vhost-blk exited with {rc} after SIGTERM", res)
        expect(not self.sock.exists(), "the socket is still there after exit", res)

    def good_session(self, image, after):
        """A good frontend's session works (vu_frontend.good_session)."""
        self.expect_alive(after)
        try:
            vu.good_session(self.sock, image, timeout=limit(3))
        except PEER_ERRORS as e:
            fail(f"a good frontend's session after {after} failed: {type(e).__name__}: {e}",
                 self.result())

    def expect_lines(self, patterns, res=None):
        """The log is exactly one line per regex in PATTERNS (fullmatch)."""
        lines = self.lines()
        ok = len(lines) == len(patterns) and all(
            re.fullmatch(p, ln) for p, ln in zip(patterns, lines))
        expect(ok, f"the backend's stderr, expected {len(patterns)} line(s) matching "
               f"{patterns}", res or self.result())


def literal(text):
    """A regex for TEXT as is, except that <N> stands for any number."""
    return re.escape(text).replace("<N>", r"\d+")


def disk(t, name="disk.img"):
    """A 1 MiB image of random bytes."""
    return t.raw_image(name, size=1 << 20)


def misbehave(be, name, hangup=limit(3)):
    """Run scenario NAME on a fresh connection to BE; expect the backend to
    hang up within HANGUP seconds.  Returns 'nack' if it refused with a
    nonzero REPLY_ACK first, else 'hangup'."""
    how = "hangup"
    with vu.Frontend(be.sock, timeout=hangup) as f:
        try:
            vu.SCENARIOS[name](f)
        except vu.Refused:
            how = "nack"
        except vu.Closed:
            pass  # it hung up while we were still talking: the hang-up is what we wait for
        except (vu.Timeout, vu.Protocol) as e:
            fail(f"{name}: the backend answered oddly: {type(e).__name__}: {e}", be.result())
        try:
            f.hangup()
        except vu.Timeout as e:
            fail(f"{name}: {e}", be.result())
        except vu.Protocol as e:
            fail(f"{name}: {e}", be.result())
    return how


# ---------------------------------------------------------------------------
# What ends the session: (scenario, what the line says after "frontend
# session ended: ", whether the frontend asked for and got a nonzero
# REPLY_ACK first).  The wording is the backend's (proto.c, session.c,
# memory.c).

REFUSED = [
    # Messages cut short, then the frontend hangs up.
    ("short/payload-close", "the peer closed mid-message", False),
    ("short/header-close", "the peer closed mid-message", False),
    # Sizes.
    ("size/set-features-4", "SET_FEATURES of 4 bytes, expected 8", False),
    ("size/get-features-8", "GET_FEATURES of 8 bytes, expected 0", False),
    ("size/vring-addr-32", "SET_VRING_ADDR of 32 bytes, expected 40", False),
    ("size/mem-table-9", "more than 8 file descriptors", False),
    ("size/mem-table-9-nofds", "a payload of 296 bytes (at most <N>)", False),
    ("size/mem-table-count-9", "SET_MEM_TABLE with 9 regions (1 to 8)", False),
    ("size/mem-table-0", "SET_MEM_TABLE with 0 regions (1 to 8)", False),
    ("size/mem-table-count-2", "SET_MEM_TABLE of 40 bytes, expected 72", False),
    ("size/get-config-300", "a payload of 312 bytes (at most <N>)", False),
    ("size/get-config-300-short", "GET_CONFIG of 300 config bytes (at most 256)", False),
    ("size/get-config-past-end",
     "GET_CONFIG: GET_CONFIG of 100 bytes at 200 (the space has 256)", False),
    ("size/huge", "a payload of 4294967295 bytes (at most <N>)", False),
    # File descriptors: too many, or none.
    ("fds/kick-two", "SET_VRING_KICK: 2 file descriptors without the no-fd flag", False),
    ("fds/kick-none", "SET_VRING_KICK: 0 file descriptors without the no-fd flag", False),
    ("fds/kick-flag-and-fd", "SET_VRING_KICK: 1 file descriptors with the no-fd flag", False),
    ("fds/kick-polling",
     "SET_VRING_KICK: ring 0 without a kick fd (polling the ring is not supported)", False),
    ("fds/set-features-fd", "SET_FEATURES: 1 unexpected file descriptors", False),
    ("fds/mem-two-regions-one-fd", "2 memory regions but 1 file descriptors", False),
    ("fds/nine", "more than 8 file descriptors", False),
    # Memory regions.
    ("mem/overlap-gpa", "memory regions 0 and 1 overlap", True),
    ("mem/overlap-uva", "memory regions 0 and 1 overlap", True),
    ("mem/past-file", "memory region 0 (0x10000 bytes at offset 0x1000) lies outside its file "
     "(65536 bytes)", True),
    ("mem/wrap-gpa", "memory region 0 (0x2000 bytes) wraps around the address space", True),
    ("mem/wrap-uva", "memory region 0 (0x2000 bytes) wraps around the address space", True),
    ("mem/wrap-offset", "memory region 0 (0x2000 bytes) wraps around the address space", True),
    ("mem/empty", "memory region 0 is empty", True),
    ("mem/read-only-fd", "cannot map memory region 0 (0x10000 bytes): Permission denied", True),
    ("mem/not-a-file",
     "memory region 0 (0x10000 bytes at offset 0) lies outside its file (0 bytes)", True),
    # Rings.
    ("ring/num-index-1", "SET_VRING_NUM: ring 1 does not exist (the device has 1)", True),
    ("ring/addr-index-1", "SET_VRING_ADDR: ring 1 does not exist (the device has 1)", True),
    ("ring/kick-index-255", "SET_VRING_KICK: ring 255 does not exist (the device has 1)", True),
    ("ring/size-0", "SET_VRING_NUM: ring size 0 (1 to 32768)", True),
    ("ring/size-65536", "SET_VRING_NUM: ring size 65536 (1 to 32768)", True),
    ("ring/addr-log",
     "SET_VRING_ADDR: ring addresses ask for dirty logging, which was never offered", True),
    ("ring/kick-before-memory",
     "SET_VRING_KICK: SET_VRING_KICK before the ring's memory (SET_MEM_TABLE)", True),
    ("ring/num-while-running", "SET_VRING_NUM: SET_VRING_NUM while the ring runs", True),
    ("ring/enable-2", "SET_VRING_ENABLE: SET_VRING_ENABLE with 2 (0 or 1)", True),
    # Features.
    ("feat/never-offered",
     "SET_FEATURES: features 0x8000000000000000 acked but never offered", True),
    ("feat/ro-not-offered", "SET_FEATURES: features 0x20 acked but never offered", True),
    ("feat/packed-not-offered",
     "SET_FEATURES: features 0x400000000 acked but never offered", True),
    ("feat/no-version-1",
     "SET_FEATURES: VIRTIO_F_VERSION_1 not acked (legacy devices are not served)", True),
    # Not acknowledged: REPLY_ACK is not negotiated until this succeeds.
    ("feat/protocol-never-offered",
     "SET_PROTOCOL_FEATURES: protocol features 0x1 acked but never offered", False),
    ("feat/config-without-protocol",
     "GET_CONFIG: GET_CONFIG without the CONFIG protocol feature", False),
    ("feat/set-log-base", "SET_LOG_BASE of 16 bytes, expected 0", False),
    ("feat/set-config", "SET_CONFIG: not supported here (it was never offered)", False),
    # Garbage.
    ("garbage/http", "version 3, not 1 (flags 0x5448202f)", False),
    ("garbage/zeros", "version 0, not 1 (flags 0)", False),
    ("garbage/unknown-request", "unknown request 77 (0 bytes)", False),
    ("garbage/reply-flag", "GET_FEATURES: a reply where a request belongs", False),
]

# Scenarios that need the backend started with more options.
EXTRA_OPTIONS = {"feat/packed-not-offered": ["--no-packed"]}


@case("vhost-backend/refused", boots=False, host_only=True,
      params=[(name, (name, why, nack)) for name, why, nack in REFUSED])
def refused(t):
    """A frontend breaks the protocol once: the backend hangs up on it
    (with a nonzero REPLY_ACK first if one was asked for), says why in one
    line, and serves the next frontend."""
    name, why, nack = t.param
    img, data = disk(t)
    with Backend(t, img, *EXTRA_OPTIONS.get(name, [])) as be:
        how = misbehave(be, name)
        expect(how == ("nack" if nack else "hangup"),
               f"{name}: the frontend saw a {how}, expected a "
               f"{'nonzero REPLY_ACK' if nack else 'hang-up without one'}", be.result())
        be.good_session(data, name)
        be.stop()
    be.expect_lines([literal(ENDED + why)])


@case("vhost-backend/short/payload-silent", boots=False, host_only=True)
def short_silent(t):
    """A frontend sends half of SET_FEATURES and then nothing, keeping the
    connection: after the 5 s per-message timeout the backend hangs up
    with one line and serves the next frontend."""
    img, data = disk(t)
    with Backend(t, img) as be:
        misbehave(be, "short/payload-silent", hangup=limit(5 + 5))
        be.good_session(data, "short/payload-silent")
        be.stop()
    be.expect_lines([literal(ENDED + "timed out")])


@case("vhost-backend/quiet", boots=False, host_only=True)
def quiet(t):
    """A frontend that connects, says nothing and hangs up: a clean end,
    so not a line; the next frontend is served."""
    img, data = disk(t)
    with Backend(t, img) as be:
        misbehave(be, "quiet/connect-close")
        be.good_session(data, "quiet/connect-close")
        be.stop()
    be.expect_lines([])


# ---------------------------------------------------------------------------
# Rings the device cannot run: the device stops (one line, the error
# eventfd fires), the session goes on.

BROKEN = [
    ("broken/outside-memory", "requestq: ring of 8 at 0x7f3a00000000 / 0x7f3a00001000 / "
     "0x7f3a01002000 (frontend addresses) is outside the memory table", 0),
    ("broken/straddles-end", "requestq: ring of 8 at 0x7f3a000fffc0 / 0x7f3a00001000 / "
     "0x7f3a00002000 (frontend addresses) is outside the memory table", 0),
    ("broken/size-3", "requestq: queue size 3 is not a power of two in 1..32768", 0),
    ("broken/misaligned", "requestq: descriptor table at 0x100008 is not 16-byte aligned", 0),
    ("broken/base-70000", "requestq: resumes at 70000, which is no 16-bit index", 70000),
]


@case("vhost-backend/broken-ring", boots=False, host_only=True,
      params=[(name.split("/", 1)[1], (name, why, base)) for name, why, base in BROKEN])
def broken_ring(t):
    """A ring the device cannot run (outside the memory table, not a
    power of two, misaligned, resuming past a 16-bit index) stops the
    device, not the session: one line, the error eventfd fires,
    GET_VRING_BASE still answers, and the frontend restarts the ring with
    good settings in the same session and reads through it.  After that
    clean hang-up, the only line is the device's."""
    name, why, base = t.param
    img, data = disk(t)
    with Backend(t, img) as be:
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            try:
                s = vu.SCENARIOS[name](f)
                errors = vu.wait_eventfd(s.err, limit(3))
                got = f.get_vring_base(0)
                expect(got == base, f"GET_VRING_BASE says {got}, expected {base}",
                       be.result())
                s.ring = vu.SplitRing(s.ram)
                s.rings()
                s.start()
                req = s.read(0)
                expect(req.status == vu.S_OK and req.read_data() == data[:SECTOR],
                       f"the restarted ring read status {req.status} and "
                       f"{'the right' if req.read_data() == data[:SECTOR] else 'wrong'} data",
                       be.result())
            except PEER_ERRORS as e:
                fail(f"{name}: {type(e).__name__}: {e}", be.result())
        expect(errors == 1, f"the error eventfd counted {errors}, expected 1", be.result())
        be.good_session(data, name)
        be.stop()
    be.expect_lines([literal(PREFIX + why + STOPPED)])


# ---------------------------------------------------------------------------
# A frontend killed with a request in flight


@case("vhost-backend/killed-mid-request", boots=False, host_only=True)
def killed_mid_request(t):
    """A frontend (a child process) sets up a split ring in its memfd,
    publishes a read of sector 0, kicks, and is killed with SIGKILL at
    once.  The backend completes the request all the same (the used ring,
    the data and status 0 are in the memfd, which we share, and the call
    eventfd fires), takes the frontend's death as a hang-up (no line), and
    serves the next frontend."""
    img, data = disk(t)
    ram = vu.GuestRAM()
    ring = vu.SplitRing(ram)  # the child lays it out the same way
    call = vu.eventfd()
    argv = [sys.executable, "-B", str(Path(__file__).with_name("vu_frontend.py"))]
    try:
        with Backend(t, img) as be:
            argv += [str(be.sock), "kick-and-wait", f"--ram-fd={ram.fd}", f"--call-fd={call}"]
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, pass_fds=[ram.fd, call],
                                     start_new_session=True)
            try:
                ready, _, _ = select.select([child.stdout], [], [], limit(5))
                line = child.stdout.readline() if ready else b""
            finally:
                kill_group(child)
            err = child.stderr.read()
            child.stdout.close()
            child.stderr.close()
            expect(line == b"kicked\n", "the frontend did not get as far as its kick",
                   Result(argv, child.returncode, line, err))
            deadline = time.monotonic() + limit(3)
            while ring.used_idx() != 1 and time.monotonic() < deadline:
                try:
                    vu.wait_eventfd(call, max(0.0, deadline - time.monotonic()))
                except vu.Timeout:
                    pass
            expect(ring.used_idx() == 1, f"used index {ring.used_idx()} {limit(3)} s after "
                   "the kick, expected 1", be.result())
            head, written = ring.used_elem(0)
            parts = ring.chain(head)
            expect(len(parts) == 3 and written == SECTOR + 1,
                   f"used entry ({head}, {written}) for a chain of {len(parts)}", be.result())
            status = ram.read(parts[2][0], 1)[0]
            expect(status == vu.S_OK, f"status byte {status}, expected 0", be.result())
            expect(ram.read(parts[1][0], SECTOR) == data[:SECTOR],
                   "the data read differs from sector 0", be.result())
            be.good_session(data, "a frontend killed mid-request")
            be.stop()
    finally:
        os.close(call)
        ram.close()
    be.expect_lines([])


# ---------------------------------------------------------------------------
# Good frontends: these prove the library, so the cases above mean something


@case("vhost-backend/good", boots=False, host_only=True)
def good(t):
    """A well-behaved frontend: the features and protocol features offered
    are the documented ones; GET_CONFIG gives the capacity, seg_max and a
    512-byte blk_size; a read of sector 0 and one of 8 sectors at 100
    return the image's bytes with status 0, each call signalled and each
    used entry right; a write lands on the image; GET_VRING_BASE counts the
    three requests.  The backend prints nothing."""
    img, data = disk(t)
    new = t.random_bytes(2 * SECTOR)
    with Backend(t, img) as be:
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            s = vu.Session(f)
            try:
                offered = s.negotiate()
                want = sum(vu.bit(b) for b in (
                    vu.F_VERSION_1, vu.F_RING_PACKED, vu.F_EVENT_IDX, vu.F_INDIRECT_DESC,
                    vu.BLK_F_SEG_MAX, vu.BLK_F_BLK_SIZE, vu.BLK_F_FLUSH,
                    vu.F_PROTOCOL_FEATURES))
                expect(offered == want, f"features {offered:#x}, expected {want:#x}",
                       be.result())
                proto = f.get_u64(vu.GET_PROTOCOL_FEATURES)
                expect(proto == vu.bit(vu.P_REPLY_ACK) | vu.bit(vu.P_CONFIG),
                       f"protocol features {proto:#x}", be.result())
                config = f.get_config(0, 24)
                capacity, seg_max, blk_size = (struct.unpack_from("<Q", config)[0],
                                               struct.unpack_from("<I", config, 12)[0],
                                               struct.unpack_from("<I", config, 20)[0])
                expect(capacity == len(data) // SECTOR and seg_max > 0 and blk_size == SECTOR,
                       f"config: capacity {capacity}, seg_max {seg_max}, blk_size {blk_size}",
                       be.result())
                s.memory()
                s.rings()
                s.start()
                for sector, n in ((0, 1), (100, 8)):
                    req = s.read(sector, n)
                    expect(req.status == vu.S_OK, f"read of {n} at {sector}: status "
                           f"{req.status}", be.result())
                    expect(req.read_data() == data[sector * SECTOR:(sector + n) * SECTOR],
                           f"read of {n} at {sector}: the data differs from the image's",
                           be.result())
                req = s.write(50, new)
                expect(req.status == vu.S_OK, f"write: status {req.status}", be.result())
                base = f.get_vring_base(0)
                expect(base == 3, f"GET_VRING_BASE says {base}, expected 3", be.result())
            except PEER_ERRORS as e:
                fail(f"{type(e).__name__}: {e}", be.result())
        be.good_session(data[:50 * SECTOR] + new + data[52 * SECTOR:], "a good session")
        be.stop()
    be.expect_lines([])
    expect(img.read_bytes() == data[:50 * SECTOR] + new + data[52 * SECTOR:],
           "the image is not the original with the write applied", be.result())


@case("vhost-backend/good-qsd", boots=False, host_only=True)
def good_qsd(t):
    """The good frontend against a backend no one here wrote,
    qemu-storage-daemon: the session, a read of 8 sectors and a write
    through the ring (which lands), GET_VRING_BASE counting 2.  So a
    misreading of the spec shared by vu_frontend.py and lguest-vhost-blk
    cannot hide behind the cases above."""
    exe = shutil.which("qemu-storage-daemon")
    if not exe:
        raise Skip("qemu-storage-daemon is not installed (Debian: qemu-system-common)")
    img, data = disk(t)
    new = t.random_bytes(2 * SECTOR)
    sock, log = t.path("qsd.sock"), t.path("qsd.log")
    argv = [exe, "--blockdev", f"driver=file,filename={img},node-name=f", "--export",
            f"type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path={sock},"
            "writable=on"]
    proc = start_server(argv, sock, log, "qemu-storage-daemon")
    res = lambda: Result(argv, proc.poll(), b"", log.read_bytes())  # noqa: E731
    try:
        vu.good_session(sock, data, timeout=limit(3))
        with vu.Frontend(sock, timeout=limit(3)) as f:
            s = vu.Session(f)
            s.setup("start")
            req = s.read(100, 8)
            expect(req.status == vu.S_OK and
                   req.read_data() == data[100 * SECTOR:108 * SECTOR],
                   f"read of 8 at 100: status {req.status}", res())
            req = s.write(50, new)
            expect(req.status == vu.S_OK, f"write: status {req.status}", res())
            base = f.get_vring_base(0)
            expect(base == 2, f"GET_VRING_BASE says {base}, expected 2", res())
    except PEER_ERRORS as e:
        fail(f"{type(e).__name__}: {e}", res())
    finally:
        kill_group(proc)
    expect(img.read_bytes() == data[:50 * SECTOR] + new + data[52 * SECTOR:],
           "the image is not the original with the write applied", res())


@case("vhost-backend/good-read-only", boots=False, host_only=True)
def good_read_only(t):
    """IMAGE,ro: VIRTIO_BLK_F_RO is offered; reads work, a write is
    answered with status IOERR (1) and the image is untouched."""
    img, data = disk(t)
    with Backend(t, f"{img},ro") as be:
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            s = vu.Session(f)
            try:
                offered = s.negotiate(vu.bit(vu.F_VERSION_1) | vu.bit(vu.BLK_F_RO))
                expect(offered & vu.bit(vu.BLK_F_RO), f"features {offered:#x} lack RO",
                       be.result())
                s.memory()
                s.rings()
                s.start()
                req = s.read(0)
                expect(req.status == vu.S_OK and req.read_data() == data[:SECTOR],
                       f"read: status {req.status}", be.result())
                req = s.write(0, bytes(SECTOR))
                expect(req.status == 1, f"write to a read-only disk: status {req.status}, "
                       "expected 1 (IOERR)", be.result())
            except PEER_ERRORS as e:
                fail(f"{type(e).__name__}: {e}", be.result())
        be.stop()
    expect(img.read_bytes() == data, "the read-only image changed", be.result())


# ---------------------------------------------------------------------------
# --once, and our launcher after a bad frontend


ONCE = [
    ("clean", None, 0, []),
    ("refused", "fds/kick-two",
     1, [ENDED + "SET_VRING_KICK: 2 file descriptors without the no-fd flag"]),
    ("broken-ring", "broken/outside-memory", 1,
     [PREFIX + BROKEN[0][1] + STOPPED, ENDED + "the frontend hung up"]),
]


@case("vhost-backend/once", boots=False, host_only=True,
      params=[(label, (scenario, rc, lines)) for label, scenario, rc, lines in ONCE])
def once(t):
    """--once: the backend exits when its first frontend goes, with 0 after
    a clean session, 1 after a session the frontend broke or a ring that
    broke the device; its socket is gone either way."""
    scenario, rc, lines = t.param
    img, data = disk(t)
    with Backend(t, img, "--once") as be:
        if scenario is None:
            be.good_session(data, "the start")
        elif scenario.startswith("broken/"):
            with vu.Frontend(be.sock, timeout=limit(3)) as f:
                try:
                    s = vu.SCENARIOS[scenario](f)
                    vu.wait_eventfd(s.err, limit(3))
                except PEER_ERRORS as e:
                    fail(f"{scenario}: {type(e).__name__}: {e}", be.result())
        else:
            misbehave(be, scenario)
        try:
            got = be.proc.wait(timeout=limit(5))
        except subprocess.TimeoutExpired:
            fail("lguest-vhost-blk --once still runs after its frontend went", be.result())
        res = be.result()
        expect_no_sanitizer_report(res)
        expect_rc(res, rc)
        expect(not be.sock.exists(), "the socket is still there after exit", res)
    be.expect_lines([literal(ln) for ln in lines])


@case("vhost-backend/launcher-after")
def launcher_after(t):
    """After a frontend that mapped memory, sent its eventfds and then
    broke the protocol, our launcher boots a guest against the same
    backend process and reads through it."""
    img, data = disk(t)
    with Backend(t, img) as be:
        misbehave(be, "fds/kick-two")
        be.expect_alive("fds/kick-two")
        res = t.boot("blkread 0 8", opts=[f"--vhost-user-blk={be.sock}"])
        expect_rc(res, 0)
        expect_stdout(res, f"crc32={crc32(data[:8 * SECTOR]):08x}\n")
        be.stop()
    be.expect_lines([literal(ENDED + "SET_VRING_KICK: 2 file descriptors without the no-fd "
                             "flag")])


# ---------------------------------------------------------------------------
# Frontends that change their own memory or eventfds under the backend.
# The same promises: no crash, no hang, one line, the next frontend served.


@case("vhost-backend/hostile/shrink-memory", boots=False, host_only=True)
def hostile_shrink_memory(t):
    """The frontend truncates its guest-RAM memfd to nothing after
    SET_MEM_TABLE, then kicks with a request published.  The size check
    at SET_MEM_TABLE cannot see this; touching the mapping now raises
    SIGBUS, and the backend must survive it (say, by asking for
    F_SEAL_SHRINK, or by catching the SIGBUS and stopping the device)."""
    img, data = disk(t)
    with Backend(t, img) as be:
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            try:
                vu.SCENARIOS["hostile/shrink-memory"](f)
                time.sleep(0.2)  # the kick is served between messages
                f.get_u64(vu.GET_FEATURES)
            except PEER_ERRORS:
                pass  # refusing the memory, or hanging up, are fine: crashing is not
        be.good_session(data, "a frontend that shrank its memory")
        be.stop()
    be.expect_said("a frontend that shrank its memory")


@case("vhost-backend/hostile/full-call-eventfd", boots=False, host_only=True)
def hostile_full_call_eventfd(t):
    """The call eventfd is blocking and its counter at the maximum, so
    a write() to it blocks until someone reads it (the frontend never
    does); a request is published and kicked.  The backend must not block
    on it: the frontend's next request is answered (or the session ends
    with a line), the next frontend is served, SIGTERM ends it."""
    img, data = disk(t)
    with Backend(t, img) as be:
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            try:
                vu.SCENARIOS["hostile/full-call-eventfd"](f)
                f.get_u64(vu.GET_FEATURES)
            except (vu.Closed, vu.Refused):
                pass
            except (vu.Timeout, vu.Protocol) as e:
                fail(f"the frontend's next request after the kick: {type(e).__name__}: {e}; "
                     f"the backend is blocked in {be.blocked_in() or '?'}", be.result())
        be.good_session(data, "a frontend with a full blocking call eventfd")
        be.stop()


@case("vhost-backend/hostile/dead-kick-pipe", boots=False, host_only=True)
def hostile_dead_kick_pipe(t):
    """The kick fd is a pipe with no writer: it polls readable for ever
    and read() gives 0 bytes.  The backend must say so in a line naming
    the kick, and not spin on it: while the frontend keeps the
    session open and idle, the backend uses under half of the CPU."""
    img, data = disk(t)
    with Backend(t, img) as be:
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            try:
                vu.SCENARIOS["hostile/dead-kick-pipe"](f)
            except (vu.Closed, vu.Refused):
                pass
            except (vu.Timeout, vu.Protocol) as e:
                fail(f"{type(e).__name__}: {e}", be.result())
            time.sleep(0.2)
            before, start = be.cpu_seconds(), time.monotonic()
            time.sleep(1.0)
            used = be.cpu_seconds() - before
            wall = time.monotonic() - start
            expect(used < wall / 2, f"the backend used {used:.2f} s of CPU in {wall:.2f} s "
                   "while the session was idle (spinning on the kick fd)", be.result())
        be.good_session(data, "a frontend whose kick fd is a dead pipe")
        be.stop()
    be.expect_said("a kick fd that is a dead pipe", "kick")


@case("vhost-backend/hostile/kick-fd-leak", boots=False, host_only=True)
def hostile_kick_fd_leak(t):
    """After a ring that failed to start (outside the memory table), the
    frontend sends SET_VRING_KICK 20 more times, each with an eventfd.
    Each must replace the last (closed), not pile up: once the session has
    ended and a good one has run, the backend holds as many fds as after
    a good session alone.  (Leaked fds outlive the session; at the fd
    limit the next fd-carrying message fails as "more than 8 file
    descriptors".)"""
    img, data = disk(t)
    with Backend(t, img) as be:
        be.good_session(data, "the start")
        before = be.fds_in_new_session()
        with vu.Frontend(be.sock, timeout=limit(3)) as f:
            try:
                s = vu.SCENARIOS["broken/outside-memory"](f)
                for _ in range(20):
                    f.set_u64(vu.SET_VRING_KICK, 0, [s.kick])
            except PEER_ERRORS as e:
                fail(f"{type(e).__name__}: {e}", be.result())
        be.good_session(data, "a frontend that kicked a broken ring 20 times")
        after = be.fds_in_new_session()
        expect(after == before, f"the backend holds {after} fds at the start of a session, "
               f"{before} after a good session alone: {after - before} leaked", be.result())
        be.stop()
