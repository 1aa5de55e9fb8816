"""cases_vhost_linux.py: Linux's own virtio-blk driver against vhost-user-blk
backends.  A stock Debian kernel under QEMU TCG (no KVM: PLATFORM.md) gets
the backend as QEMU's vhost-user-blk-pci; a busybox initramfs
(tests/vhost_linux/init) reads bytes the host wrote, writes a pattern,
FLUSHes, reads it back and prints what was negotiated.  The host then
finds the pattern in the image and nothing else changed.

The backend is the parameter, everything else is shared:
qemu-storage-daemon (the reference: a device no one here wrote) on split
rings, and ours, build/lguest-vhost-blk, on split and on packed rings: the
only packed virtio-blk driver at hand is Linux's, and qemu-storage-daemon
offers no packed rings (QEMU then drops packed=on without a word, hence the
check of bit 34 in what the guest negotiated).

These are harness.case(native=True): they boot Linux under QEMU rather than
our guest under a backend of ours, so they run once, and not in the
hardware-virtualisation tier.  A run takes ~6.5 s, most of it the kernel's
boot under TCG."""
import hashlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from cases_vhost_user import StorageDaemon
from harness import Fail, Result, Skip, case, expect_no_sanitizer_report, fail, kill_group, limit

TESTS = Path(__file__).resolve().parent.parent
DEBIAN_KERNEL = TESTS / "tools" / "debian-kernel.sh"
MKINITRAMFS = TESTS / "vhost_linux" / "mkinitramfs.sh"
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"  # modprobe, for non-root

IMAGE_SIZE = 32 << 20
READ_AT, READ_LEN = 1 << 20, 64 << 10  # the host's bytes (multiples of 64 KiB: init's dd)
WRITE_AT, WRITE_LEN = 8 << 20, 1 << 20  # the guest's pattern

# Feature bits, as positions in /sys/block/vda/device/features.
FLUSH, INDIRECT_DESC, EVENT_IDX, VERSION_1, RING_PACKED = 9, 28, 29, 32, 34
FEATURE_NAMES = {FLUSH: "FLUSH", INDIRECT_DESC: "INDIRECT_DESC", EVENT_IDX: "EVENT_IDX",
                 VERSION_1: "VERSION_1", RING_PACKED: "RING_PACKED"}


def pattern(n):
    """The first N bytes of `seq 1 N`, as the guest's init writes them."""
    out, i = bytearray(), 1
    while len(out) < n:
        out += b"%d\n" % i
        i += 1
    return bytes(out[:n])


# ---------------------------------------------------------------------------
# The guest: Debian's kernel and our initramfs, made once per run (the
# cases run in parallel threads; the first one does the work, the others
# wait for it and share the answer, a Skip included).

_guest_lock = threading.Lock()
_guest = {}  # build dir -> (vmlinuz, initrd), or the exception to raise again


def _missing_tools():
    """Why this machine cannot make or boot the guest, or None."""
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
    for tool, pkg in (("cpio", "cpio"), ("modprobe", "kmod"), ("dpkg-query", "dpkg")):
        if not shutil.which(tool, path=SBIN_PATH):
            return f"{tool} is not installed (Debian: {pkg})"
    # A dynamically linked /bin/busybox (package busybox) cannot run in an
    # initramfs that has no libc.
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "busybox-static"],
                            capture_output=True, text=True).stdout
    if not status.endswith(" installed"):
        return "busybox-static is not installed (Debian: busybox-static)"
    return None


def _make_guest(build):
    why = _missing_tools()
    if why:
        raise Skip(why)
    # Fetched once per machine (root and the network, the first time),
    # then cached in /var/tmp/lguest-tier, shared with tests/hwvirt.
    p = subprocess.run([DEBIAN_KERNEL], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=limit(600))
    if p.returncode:
        raise Skip(p.stderr.strip().splitlines()[-1] if p.stderr.strip()
                   else f"{DEBIAN_KERNEL} exited {p.returncode}")
    kroot = Path(p.stdout.strip())
    vmlinuz = kroot / "boot" / f"vmlinuz-{kroot.name}"
    argv = [MKINITRAMFS, kroot, build / "vhost_linux"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=limit(60))
    if p.returncode:
        fail("cannot make the initramfs", Result(argv, p.returncode, p.stdout, p.stderr))
    return vmlinuz, Path(p.stdout.decode().strip())


def guest_files(build):
    """(vmlinuz, initrd) for this run; Skip if this machine cannot have them."""
    with _guest_lock:
        if build not in _guest:
            try:
                _guest[build] = _make_guest(build)
            except (Skip, Fail) as e:
                _guest[build] = e
        got = _guest[build]
    if isinstance(got, Exception):
        raise type(got)(str(got))
    return got


# ---------------------------------------------------------------------------
# The backends.  Both start like StorageDaemon (the socket file appears once
# they listen); after the run, ended() says what became of them, or None if
# all is well.


class Qsd(StorageDaemon):
    """qemu-storage-daemon: serves until SIGTERM (the with-block's end)."""

    name = "qemu-storage-daemon"

    def ended(self):
        rc = self.proc.poll()
        return None if rc is None else f"exited with status {rc} during the run"


class Ours(StorageDaemon):
    """build/lguest-vhost-blk --once: it exits when QEMU goes, with status
    0 if the device saw nothing wrong, else 1."""

    name = "lguest-vhost-blk"

    def __init__(self, t, img):
        exe = t.build / "lguest-vhost-blk"
        if not exe.is_file():
            fail(f"{exe} not built (make)")
        self.sock = t.path("ours.sock")
        self.log = t.path("ours.log")
        self.argv = [str(exe), f"--socket={self.sock}", "--once", "--stats", "-v", str(img)]

    def ended(self):
        try:
            rc = self.proc.wait(timeout=limit(10))
        except subprocess.TimeoutExpired:
            return "still running after the frontend went (--once)"
        if rc < 0:
            return f"killed by {signal.Signals(-rc).name}"
        return None if rc == 0 else f"exited with status {rc}: the device failed"

    def flushes(self):
        """The FLUSH requests it served, from its --stats line for blk0."""
        for line in self.log.read_text(errors="replace").splitlines():
            words = line.replace(",", "").split()
            if words[:1] == ["blk0"] and "flushes" in words:
                return int(words[words.index("flushes") + 2])  # "flushes (fdatasync) N"
        return None


# ---------------------------------------------------------------------------
# The test


def _guest_lines(res):
    """init's lines on the console (the first one after SeaBIOS's escape
    sequences, any of them after a kernel message cut in)."""
    return [ln[ln.index("VUTEST "):].rstrip() for ln in res.out.replace("\r", "").splitlines()
            if "VUTEST " in ln]


def _fail(why, res, be):
    """Fail with what the guest said, QEMU's run (RES, if it ended) and the
    backend's log: the test's directory is gone once it has failed."""
    log = be.log.read_bytes().decode("utf-8", "replace") if be.log.exists() else "<none>"
    if res is not None:
        why += ("\n    guest: " + "\n           ".join(_guest_lines(res) or ["<nothing>"])
                + res.describe())
    raise Fail(why + f"\n    {be.name} log:\n      " + "\n      ".join(log[-3000:].splitlines()))


def _first_difference(got, want):
    if len(got) != len(want):
        return f"size {len(got)}, expected {len(want)}"
    block = next(i for i in range(0, len(want), 4096) if got[i:i + 4096] != want[i:i + 4096])
    return f"first wrong byte at {next(i for i in range(block, block + 4096) if got[i] != want[i])}"


@case("vhost-linux", native=True, params=[("qsd-split", (Qsd, False)),
                                          ("ours-split", (Ours, False)),
                                          ("ours-packed", (Ours, True))])
def linux_vhost_user_blk(t):
    """Linux reads the host's bytes and writes, FLUSHes and reads back its
    pattern through the backend, on the ring layout the case asks for; the
    host finds the pattern in the image and nothing else changed; the
    backend is still serving (qsd) or has exited 0 (ours, --once)."""
    backend, packed = t.param
    img = t.path("disk.img")
    marker = t.random_bytes(READ_LEN)
    want = bytearray(IMAGE_SIZE)
    want[READ_AT:READ_AT + READ_LEN] = marker
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.seek(READ_AT)
        f.write(marker)
    be = backend(t, img)  # first: "not built" is a failure, not a skip
    vmlinuz, initrd = guest_files(t.build)
    qemu = shutil.which("qemu-system-x86_64")
    with be:
        # Guest RAM must be shared memory (memfd, share=on): the backend maps
        # it from the fd QEMU sends.  With private RAM, QEMU hangs.
        argv = [qemu, "-accel", "tcg", "-cpu", "max", "-m", "256M", "-nographic", "-no-reboot",
                "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
                "-numa", "node,memdev=mem", "-chardev", f"socket,id=c0,path={be.sock}",
                "-device", "vhost-user-blk-pci,chardev=c0,num-queues=1"
                + (",packed=on" if packed else ""),
                "-kernel", vmlinuz, "-initrd", initrd,
                "-append", "console=ttyS0 rdinit=/init panic=-1 loglevel=4 "
                f"vutest.read={READ_AT}:{READ_LEN}:{hashlib.sha256(marker).hexdigest()} "
                f"vutest.write={WRITE_AT}:{WRITE_LEN}"]
        start = time.monotonic()
        try:
            res = t.run(argv, timeout=limit(120))
        except Fail as e:  # timed out: say what the backend saw meanwhile
            _fail(str(e), None, be)
        wall = time.monotonic() - start
        be_ended = be.ended()

    # QEMU exits 0 whatever the guest did: its result line is the verdict.
    lines = _guest_lines(res)
    result = [ln for ln in lines if ln.startswith("VUTEST RESULT ")]
    and_backend = f"; {be.name} {be_ended}" if be_ended else ""
    if res.rc != 0 or len(result) != 1:
        _fail(f"QEMU exited {res.rc} after {wall:.1f} s with {len(result)} result lines from "
              f"the guest{and_backend}", res, be)
    if result[0] != "VUTEST RESULT ok":
        _fail(f"the guest says: {result[0][len('VUTEST RESULT '):]}{and_backend}", res, be)
    if be_ended:
        _fail(f"{be.name} {be_ended}", res, be)
    expect_no_sanitizer_report(Result(be.argv, None, b"", be.log.read_bytes()))

    features = next((ln.split()[2] for ln in lines if ln.startswith("VUTEST features ")), "")
    expected = {VERSION_1: 1, FLUSH: 1, INDIRECT_DESC: 1, EVENT_IDX: 1, RING_PACKED: int(packed)}
    wrong = [f"{FEATURE_NAMES[bit]} (bit {bit}) is {features[bit:bit + 1] or '?'}, expected {on}"
             for bit, on in expected.items() if features[bit:bit + 1] != str(on)]
    if wrong:
        _fail(f"negotiated features {features}: " + "; ".join(wrong), res, be)

    want[WRITE_AT:WRITE_AT + WRITE_LEN] = pattern(WRITE_LEN)
    got = img.read_bytes()
    if got != want:
        _fail(f"the image is not what the guest wrote ({_first_difference(got, want)})", res, be)
    if backend is Ours:
        n = be.flushes()
        if not n:
            _fail(f"the backend counted {n} FLUSH requests, expected at least one", res, be)
