"""cases_vhost_user.py: block devices served by another process over
vhost-user (--vhost-user-blk).  The peer is qemu-storage-daemon, Debian's
(package qemu-system-common): a backend no one here wrote, so a misreading
of the spec shared by our driver and our device cannot hide here.

qemu-storage-daemon offers split rings only (no VIRTIO_F_RING_PACKED), so
these run on split; asking it for packed must fail with one line."""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from cases_errors import MODERN_RULES
from harness import (Result, Skip, case, crc32, expect, expect_rc, expect_setup_error,
                     expect_stdout, fail, kill_group, limit, start_server)

SECTOR = 512


class StorageDaemon:
    """qemu-storage-daemon exporting IMG as vhost-user-blk on a socket in
    the test's directory, for the length of a with-block."""

    def __init__(self, t, img):
        exe = shutil.which("qemu-storage-daemon")
        if not exe:
            raise Skip("qemu-storage-daemon is not installed (Debian: qemu-system-common)")
        self.sock = t.path("qsd.sock")
        self.log = t.path("qsd.log")
        self.argv = [exe, "--blockdev", f"driver=file,filename={img},node-name=f",
                     "--export", "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,"
                     f"addr.path={self.sock},writable=on"]

    def __enter__(self):
        self.proc = start_server(self.argv, self.sock, self.log, "qemu-storage-daemon")
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=limit(10))
            except subprocess.TimeoutExpired:
                kill_group(self.proc)

    def opt(self, extra=""):
        return f"--vhost-user-blk={self.sock}{extra}"


@case("vhost-user-qsd/ext2", notify_modes=True)
def qsd_ext2(t):
    """The guest's ext2 code reads files from an image that
    qemu-storage-daemon serves: ls and cat give what the host put there."""
    src = t.path("tree")
    src.mkdir()
    text = t.random_text(5000)
    (src / "hello.txt").write_bytes(text)
    img = t.ext2_image(src)
    with StorageDaemon(t, img) as qsd:
        res = t.boot("ls /; cat /hello.txt", opts=[qsd.opt()])
    expect_rc(res, 0)
    expect(b"hello.txt" in res.stdout and res.stdout.endswith(text),
           "ls/cat did not show the file", res)


@case("vhost-user-qsd/read-write", notify_modes=True)
def qsd_read_write(t):
    """blkread's CRC is the host's CRC of the same bytes; blkwrite's bytes
    are on the image afterwards, and nothing else changed."""
    img, orig = t.raw_image()
    with StorageDaemon(t, img) as qsd:
        res = t.boot("blkread 8 64; blkwrite 100 16 0x5a; blkread 100 16", opts=[qsd.opt()])
    expect_rc(res, 0)
    want = (f"crc32={crc32(orig[8 * SECTOR:72 * SECTOR]):08x}\nblkwrite: ok\n"
            f"crc32={crc32(b'Z' * 16 * SECTOR):08x}\n")
    expect_stdout(res, want)
    got = img.read_bytes()
    expect(got[100 * SECTOR:116 * SECTOR] == b"\x5a" * 16 * SECTOR, "the write did not land",
           res)
    expect(got[:100 * SECTOR] == orig[:100 * SECTOR] and
           got[116 * SECTOR:] == orig[116 * SECTOR:], "bytes outside the write changed", res)


@case("vhost-user-qsd/bench", notify_modes=True)
def qsd_bench(t):
    """blkbench at qd=32 completes every read; randwrite with a FLUSH
    every 10 writes gets every FLUSH answered OK (0 errors)."""
    img, _ = t.raw_image(size=16 << 20)
    with StorageDaemon(t, img) as qsd:
        res = t.boot("blkbench randread bs=4K qd=32 count=2000; "
                     "blkbench randwrite bs=4K qd=8 count=100 flush=10", opts=[qsd.opt()])
    expect_rc(res, 0)
    lines = res.out.splitlines()
    expect(len(lines) == 2 and "qd=32: 2000 ops" in lines[0] and lines[0].endswith(" 0 errors"),
           "randread qd=32 did not complete cleanly", res)
    expect(" 100 ops " in lines[1] and lines[1].endswith(", 10 flushes, 0 errors"),
           "randwrite with flushes did not complete cleanly", res)


@case("vhost-user-qsd/trace", notify_modes=True)
def qsd_trace(t):
    """--trace with a vhost-user device: the guest's side in full (add,
    publish, NOTIFY, reap) and the edges the launcher sees: the backend's
    call as a device signal after the add, and with
    --no-ioeventfd each NOTIFY's kick through the vCPU exit (through the
    fast path the backend takes it directly; nobody here sees it)."""
    img, _ = t.raw_image()
    out = t.path("t.json")
    # A call is stamped when our thread reads it, which may be after a
    # guest that was awake anyway has reaped (or, for the last, after it
    # exited); and a guest that reaps by polling may leave every call
    # suppressed (EVENT_IDX).  Both are timing: boot again (up to 3 times)
    # until some call comes after the first add.
    for attempt in range(3):
        with StorageDaemon(t, img) as qsd:
            res = t.boot("blkbench randread bs=4K qd=1 count=20",
                         opts=[qsd.opt(), "--trace=blk0", f"--trace-file={out}"])
        expect_rc(res, 0)
        steps = [e for e in json.loads(out.read_text())["traceEvents"] if e.get("cat") == "ring"]
        names = [e["name"] for e in steps]
        add = next(e["ts"] for e in steps if e["name"] == "add")
        if any(e["name"] == "signal" and e["pid"] == 2 and add <= e["ts"] for e in steps):
            break
    else:
        fail("no call from the backend after the first add, in 3 boots", res)
    expect(names.count("add") == 20 and names.count("reap") == 20 and "publish" in names,
           f"guest steps: {names.count('add')} adds, {names.count('reap')} reaps", res)
    expect(not {"pop", "used"} & set(names), "the launcher traced ring steps it does not do",
           res)
    sent = [e for e in steps if e["name"] == "notify" and e["args"]["sent"]]
    kicks = [e for e in steps if e["name"] == "kick"]
    if t.mode.ioeventfd:
        expect(not kicks, "kicks traced that only the backend saw", res)
    else:
        expect(kicks and all(k["args"]["path"] == "exit" for k in kicks) and
               len(kicks) == len(sent) and
               all(n["ts"] <= k["ts"] for n, k in zip(sent, kicks)),
               f"{len(kicks)} kicks for {len(sent)} NOTIFYs sent", res)


@case("vhost-user-qsd/refusals", boots=False)
def qsd_refusals(t):
    """One line and exit 1, before any guest code runs: packed against a
    backend without it, draft III (which vhost-user cannot carry), a
    socket nobody listens on."""
    img, _ = t.raw_image()
    kernel = t.build / "guest.elf"
    lguest = t.build / "lguest"
    with StorageDaemon(t, img) as qsd:
        res = t.run([lguest, qsd.opt(",ring=packed"), kernel, "--", "exit 0"])
        expect_setup_error(res, "the backend does not offer packed rings "
                           "(VIRTIO_F_RING_PACKED): use ring=split")
        res = t.run([lguest, "--ring=draft3", qsd.opt(), kernel, "--", "exit 0"])
        expect_setup_error(res, "draft III queues cannot be served over vhost-user")
    res = t.run([lguest, f"--vhost-user-blk={t.path('nobody.sock')}", kernel, "--", "exit 0"])
    expect_setup_error(res, "cannot connect: No such file or directory")


# ---------------------------------------------------------------------------
# Backends that misbehave (vu_peer.py): one line, and never a hang


class Peer(StorageDaemon):
    """vu_peer.py in MODE on a socket in the test's directory."""

    def __init__(self, t, mode):
        self.sock = t.path("peer.sock")
        self.log = t.path("peer.log")
        self.argv = [sys.executable, str(Path(__file__).with_name("vu_peer.py")),
                     str(self.sock), mode]


HANDSHAKE = [
    ("silent", "GET_FEATURES: bad reply: timed out"),
    ("short", "GET_FEATURES: bad reply: the peer closed mid-message"),
    ("badsize", "GET_FEATURES: bad reply: GET_FEATURES reply of 4 bytes, expected 8"),
    ("badversion", "GET_FEATURES: bad reply: version 2, not 1"),
    ("manyfds", "GET_FEATURES: bad reply: more than 8 file descriptors"),
    ("wrongreply", "GET_FEATURES: the backend answered with another message (request 3"),
]


@case("vhost-user-peer", boots=False, params=[(m, (m, why)) for m, why in HANDSHAKE])
def peer_handshake(t):
    """A backend that breaks the handshake (never answers, cuts a reply
    short, sends the wrong size, version, number of fds or message): a
    setup error naming the request and what was wrong, before any guest
    code runs (a silent one costs the 5 s reply timeout)."""
    mode, why = t.param
    with Peer(t, mode) as peer:
        res = t.run([t.build / "lguest", peer.opt(), t.build / "guest.elf", "--", "exit 0"])
    expect_setup_error(res, f"--vhost-user-blk={peer.sock}: {why}")


RUNTIME = [
    ("refuse-mem", "SET_MEM_TABLE: the backend refused it (status 1)"),
    ("die-on-kick", "closed the connection"),
    ("garbage-on-kick", "sent a message we did not ask for"),
]


@case("vhost-user-peer", params=[(m, (m, why)) for m, why in RUNTIME])
def peer_runtime(t):
    """A backend that fails once the guest's driver starts the device
    (refuses guest RAM, dies on the first NOTIFY, says something nobody
    asked): that device stops with one line naming it and the reason, the
    guest's command fails, and the launcher exits normally."""
    mode, why = t.param
    with Peer(t, mode) as peer:
        res = t.boot("blkread 0 8", opts=[peer.opt()])
    expect(res.rc in (1, 2), f"exit status {res.rc}, expected the guest command's failure",
           res)
    first = res.err_lines[0] if res.err_lines else ""
    expect(first == f"lguest: blk0: vhost-user backend {peer.sock}"
           f"{':' if mode == 'refuse-mem' else ''} {why}; device stopped",
           f"first stderr line {first!r}", res)
    expect(b"crc32=" not in res.stdout, "a read succeeded on a stopped device", res)


# ---------------------------------------------------------------------------
# Our own backend (build/lguest-vhost-blk): the launcher's block model and
# ring code in another process, behind the same socket protocol.


class OurBackend(StorageDaemon):
    """build/lguest-vhost-blk serving IMG on a socket in the test's
    directory (with --stats, so its log has the session's counters)."""

    def __init__(self, t, img, *extra):
        self.sock = t.path("lg.sock")
        self.log = t.path("backend.log")
        self.argv = [str(t.build / "lguest-vhost-blk"), f"--socket={self.sock}", "--stats",
                     *extra, str(img)]

    def lines(self):
        return self.log.read_text(errors="replace").splitlines()

    def sessions(self):
        """The counters of each finished session, as dicts of ints."""
        out = []
        for line in self.lines():
            if ": session: " in line:
                out.append({k: int(v) for k, v in
                            (w.split("=") for w in line.split() if "=" in w and "(" not in w)})
        return out


def _ours_layouts():
    return [(r, r) for r in ("split", "packed")]


def _backend_result(be, res):
    """A Result showing the backend's log, for failures about it."""
    return Result(be.argv, res.rc, res.stdout, be.log.read_bytes())


@case("vhost-user-ours/read-write", notify_modes=True, params=_ours_layouts())
def ours_read_write(t):
    """Through lguest-vhost-blk, on split and packed rings: blkread's CRC
    is the host's, blkwrite's bytes land on the image and nothing else
    changes; then, in a second session with the same backend process,
    writes with FLUSHes are all answered.  The backend counted every
    request of both sessions (2 reads, a write and its FLUSH; 40 writes
    and 4 FLUSHes) and copied no payload (0 bounce bytes)."""
    layout = t.param
    img, orig = t.raw_image()
    with OurBackend(t, img) as be:
        res = t.boot("blkread 8 64; blkwrite 100 16 0x5a; blkread 100 16",
                     opts=[be.opt(f",ring={layout}")])
        expect_rc(res, 0)
        expect_stdout(res, f"crc32={crc32(orig[8 * SECTOR:72 * SECTOR]):08x}\nblkwrite: ok\n"
                      f"crc32={crc32(b'Z' * 16 * SECTOR):08x}\n")
        got = img.read_bytes()
        expect(got[100 * SECTOR:116 * SECTOR] == b"\x5a" * 16 * SECTOR,
               "the write did not land", res)
        expect(got[:100 * SECTOR] == orig[:100 * SECTOR] and
               got[116 * SECTOR:] == orig[116 * SECTOR:], "bytes outside the write changed",
               res)
        res = t.boot("blkbench randwrite bs=4K qd=4 count=40 flush=10",
                     opts=[be.opt(f",ring={layout}")])
        expect_rc(res, 0)
        expect(": 40 ops " in res.out and res.out.rstrip().endswith(", 4 flushes, 0 errors"),
               "randwrite with flushes did not complete cleanly", res)
    sessions = be.sessions()
    expect(len(sessions) == 2, f"{len(sessions)} sessions in the backend's log, expected 2",
           _backend_result(be, res))
    expect(sessions[0]["requests"] == 4 and sessions[1]["requests"] == 44 and
           all(s["bounce"] == 0 for s in sessions),
           f"backend counters {sessions}", _backend_result(be, res))


@case("vhost-user-ours/ext2", notify_modes=True, params=_ours_layouts())
def ours_ext2(t):
    """The guest's ext2 code reads files through lguest-vhost-blk."""
    src = t.path("tree")
    src.mkdir()
    text = t.random_text(5000)
    (src / "hello.txt").write_bytes(text)
    img = t.ext2_image(src)
    with OurBackend(t, img) as be:
        res = t.boot("ls /; cat /hello.txt", opts=[be.opt(f",ring={t.param}")])
    expect_rc(res, 0)
    expect(b"hello.txt" in res.stdout and res.stdout.endswith(text),
           "ls/cat did not show the file", res)


# The ring rules of cases_errors.py: the ones the device side finds while
# it pops and pushes, which lguest-vhost-blk does here.  (The handshake and
# the ring's placement are checked by the launcher before the backend sees
# the ring, as for any device.)
RING_RULES = [(rule, layouts, extra, lines[0]) for rule, layouts, extra, lines in MODERN_RULES
              if lines[0].startswith("requestq: ") and
              rule not in ("queue-size", "queue-disabled", "ring-range", "ring-align")]


@case("vhost-user-ours/misbehave", params=[(f"{layout}/{rule}", (layout, rule, extra, pattern))
                                          for rule, layouts, extra, pattern in RING_RULES
                                          for layout in layouts])
def ours_misbehave(t):
    """A guest that breaks a ring rule on a ring lguest-vhost-blk serves:
    the backend stops the device with one line naming the rule and tells
    the launcher (SET_VRING_ERR's eventfd), which stops blk0 with one line
    and no other; the guest sees the device stop and carries on (blk1, a
    local disk, still reads), the image is untouched, and the backend
    keeps listening: a second guest then reads through it."""
    layout, rule, extra, pattern = t.param
    img, orig = t.raw_image()
    img1, orig1 = t.raw_image("d1.img", size=1 << 20)
    with OurBackend(t, img) as be:
        res = t.boot(f"misbehave {rule}; blkread 0 8 dev=1; echo alive; exit 3",
                     blocks=[img1], opts=[be.opt(f",ring={layout}{extra}")])
        expect_rc(res, 3)
        # The vhost-user disk is blk0 (the first named), the local one blk1.
        expect_stdout(res, f"misbehave {rule}: blk0 stopped\ncrc32={crc32(orig1[:4096]):08x}\n"
                      "alive\n")
        want = (f"lguest: blk0: vhost-user backend {be.sock}: requestq broke (the backend's "
                "log says how); device stopped")
        expect(res.err_lines == [want], f"launcher's stderr, expected only {want!r}", res)
        again = t.boot("blkread 0 8", opts=[be.opt(f",ring={layout}")])
        expect_rc(again, 0)
        expect_stdout(again, f"crc32={crc32(orig[:4096]):08x}\n")
    lines = [ln for ln in be.lines() if "device stopped" in ln]
    expect(len(lines) == 1 and re.fullmatch(
        rf"lguest-vhost-blk: blk0: {pattern}; device stopped until the frontend restarts the "
        "ring", lines[0]) is not None,
           f"the backend's log does not name the rule (/{pattern}/)", _backend_result(be, res))
    expect(img.read_bytes() == orig, "the image changed", res)


@case("vhost-user-ours/trace", params=_ours_layouts())
def ours_trace(t):
    """lguest-vhost-blk --trace: at the end of a session, the device side
    of every request it served, in order: the kick, the pop with its
    three descriptors (header, data, status), the I/O, the used entry."""
    img, _ = t.raw_image()
    with OurBackend(t, img, "--trace") as be:
        res = t.boot("blkbench randread bs=4K qd=1 count=5", opts=[be.opt(f",ring={t.param}")])
    expect_rc(res, 0)
    steps = [ln.split()[3] for ln in be.lines()
             if len(ln.split()) > 3 and ln.split()[1] == "device"]
    expect(steps.count("pop") == 5 and steps.count("io") == 5 and steps.count("used") == 5,
           f"{steps.count('pop')} pops, {steps.count('io')} I/Os, {steps.count('used')} used",
           _backend_result(be, res))
    first = steps.index("pop")
    expect(steps[first:first + 3] == ["pop", "io", "used"] and "kick" in steps[:first],
           f"steps out of order: {steps[:first + 3]}", _backend_result(be, res))
    descs = [ln.split()[1:3] for ln in be.lines() if ln.split()[:1] == ["desc"]]
    expect(descs[:3] == [["R", "16"], ["W", "4096"], ["W", "1"]],
           f"first request's descriptors {descs[:3]}", _backend_result(be, res))


@case("vhost-user-ours/privileges")
def ours_privileges(t):
    """Started as root with --user=nobody, lguest-vhost-blk serves as
    nobody with no capability and no_new_privs, the image opened before:
    a guest reads through it."""
    if os.geteuid() != 0:
        raise Skip("needs root (to start as root and drop to nobody)")
    nobody = pwd.getpwnam("nobody").pw_uid
    img, orig = t.raw_image()
    img.chmod(0o600)  # nobody could not open it himself
    with OurBackend(t, img, "--user=nobody") as be:
        res = t.boot("blkread 0 8", opts=[be.opt()])
        status = Path(f"/proc/{be.proc.pid}/status").read_text()
    fields = dict(ln.split(":", 1) for ln in status.splitlines())
    expect_rc(res, 0)
    expect_stdout(res, f"crc32={crc32(orig[:4096]):08x}\n")
    uids = fields["Uid"].split()
    expect(all(int(u) == nobody for u in uids), f"uids {uids}, expected {nobody}", res)
    expect(int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0,
           f"capabilities left: {fields['CapEff'].strip()}", res)
    expect(fields["NoNewPrivs"].strip() == "1", "no_new_privs is not set", res)
