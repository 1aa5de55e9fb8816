#!/usr/bin/env python3
"""soak.py: lguest under mixed block and network load for a long time.

    python3 tests/soak/soak.py --build build [--seconds 3600] [--no-kvm]
                               [--sample 5] [--hang 30] [--summary FILE]

One launcher per ring layout (draft3, split, packed), all at once, each in
a network namespace of its own with a disk image and a tap
(--tunnet=10.0.0.1/24).  Where both backends run, the layouts share them
out (draft3 and packed on kvm, split on the process backend, then the other
way round in a second run if time allows: see PLAN); --no-kvm (or
LGUEST_TEST_NO_KVM=1) hides KVM as tests/e2e/run.py does.

Each guest reads its commands from the launcher's stdin, one at a time, and
this script checks every answer before it sends the next:

  * blkwrite S N B, then blkread S N: the CRC must match what this script
    knows the image holds (it keeps its own copy of every byte written);
  * udpsend to an echo server in the namespace: every datagram comes back
    intact (the guest checks) and none is lost;
  * blkbench randread / randwrite with flush: a burst of queue depth.

Every SAMPLE seconds the launcher's VmRSS (and its parts RssAnon and
RssShmem), threads and open fds are read from /proc.  A watchdog: a guest that answers nothing for HANG seconds
is a hang; its threads' kernel stacks and the launcher's output are
printed, it is killed and the run fails.

The verdict per launcher fails on: a hang, a wrong answer (CRC, datagram),
a non-zero exit or anything on stderr, a different image at the end than
the script's copy, fds that grow after the first sample (every fd is open
by then: the launcher opens nothing while it runs), or RSS that grows by
more than max(4 MiB, 10 %) between the sample at a quarter of the run and
the end, counting the launcher's own memory only (RssAnon: guest RAM is
a shared memfd, RssShmem, which grows up to --mem as the guest touches
pages; the first quarter is warm-up, where glibc's heap settles).

Prints the RSS and fd series (start, min, max, end and a few samples per
minute) and one line per launcher, then "N passed, N failed, N skipped"
(a layout that cannot run here is skipped with its reason; under CI=true
that is a failure).  Leaves no process, namespace, tap or file behind.
"""
import argparse
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

HOST, GUEST = "10.0.0.1", "10.0.0.2"
LAYOUTS = ("draft3", "split", "packed")
SECTOR = 512
IMAGE_SECTORS = 16384  # 8 MiB

ECHO_SERVER = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 7000))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)
"""


def kvm_usable():
    if os.environ.get("LGUEST_TEST_NO_KVM") == "1":
        return False
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


class SoakFailure(Exception):
    pass


class Soak:
    """One launcher, its namespace, its image and what it has answered."""

    def __init__(self, args, layout, backend, tmp, index):
        self.args = args
        self.layout = layout
        self.backend = backend
        self.name = f"{backend}/{layout}"
        self.ns = f"lgsoak{os.getpid()}x{index}"
        self.image = Path(tmp) / f"{layout}-{backend}.img"
        self.model = bytearray(IMAGE_SECTORS * SECTOR)
        self.image.write_bytes(self.model)
        self.rng = random.Random(f"{layout}{backend}")
        self.proc = None
        self.server = None
        # (t, VmRSS, RssAnon, RssShmem (KiB), threads, fds).  Guest RAM is a
        # shared memfd: the pages the guest has touched are RssShmem, and
        # grow up to --mem as it uses them.  The launcher's own memory is
        # RssAnon: that is where a leak would show.
        self.samples = []
        self.counts = {"blkwrite": 0, "blkread": 0, "udpsend": 0, "datagrams": 0,
                       "blkbench": 0}
        self.out = []
        self.errors = []
        self.last_progress = time.monotonic()
        self.buf = b""

    # -- setup and teardown ---------------------------------------------------

    def start(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True, capture_output=True)
        self.nsexec(["ip", "link", "set", "lo", "up"])
        argv = [str(Path(self.args.build) / "lguest"), f"--backend={self.backend}",
                f"--ring={self.layout}", f"--tunnet={HOST}/24",
                f"--block={self.image}", str(Path(self.args.build) / "guest.elf")]
        # ip netns exec execs the launcher: the pid we get is the launcher's.
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *argv],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        # The guest has answered: the launcher's tap (10.0.0.1) is up.
        self.command(f"ip {GUEST}/24")
        self.server = subprocess.Popen(["ip", "netns", "exec", self.ns, "python3", "-c",
                                        ECHO_SERVER], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       start_new_session=True)
        if self.server.stdout.readline() != b"ready\n":
            raise SoakFailure(f"the echo server did not start: {self.server.stderr.read()}")

    def nsexec(self, argv):
        return subprocess.run(["ip", "netns", "exec", self.ns, *argv], capture_output=True)

    def stop(self):
        for p in (self.proc, self.server):
            if p and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)

    # -- talking to the guest ---------------------------------------------------

    def command(self, cmd):
        """Send CMD and a marker; return the lines the guest printed before
        the marker.  A watchdog: nothing new for --hang seconds is a hang."""
        marker = f"soak-done-{self.rng.getrandbits(32):08x}"
        self.proc.stdin.write(f"{cmd}\necho {marker}\n".encode())
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.readline()
            if line == marker:
                return lines
            lines.append(line)

    def readline(self):
        while b"\n" not in self.buf:
            left = self.last_progress + self.args.hang - time.monotonic()
            if left <= 0:
                self.hang()
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if not r:
                if self.proc.poll() is not None:
                    raise SoakFailure(f"the launcher exited {self.proc.returncode}: "
                                      f"{self.proc.stderr.read().decode(errors='replace')}")
                continue
            data = self.proc.stdout.read()
            if data:
                self.buf += data
                self.last_progress = time.monotonic()
            elif self.proc.poll() is not None:
                raise SoakFailure(f"the launcher exited {self.proc.returncode}: "
                                  f"{self.proc.stderr.read().decode(errors='replace')}")
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.decode(errors="replace")
        self.out = (self.out + [text])[-20:]
        return text

    def hang(self):
        stacks = []
        for task in sorted(Path(f"/proc/{self.proc.pid}/task").glob("*")):
            try:
                comm = (task / "comm").read_text().strip()
                stack = (task / "stack").read_text().strip().replace("\n", " | ")
            except OSError:
                continue
            stacks.append(f"    {task.name} {comm}: {stack[:300]}")
        raise SoakFailure(f"hang: no answer for {self.args.hang} s; last output: "
                          f"{self.out[-5:]}\n" + "\n".join(stacks))

    # -- the workload -----------------------------------------------------------

    def round(self):
        """One round of block and network work, every answer checked."""
        if self.args.verbose:
            print(f"{time.monotonic():.2f} {self.name} round", flush=True)
        start = self.rng.randrange(IMAGE_SECTORS - 256)
        count = self.rng.randrange(1, 257)
        byte = self.rng.randrange(256)
        lines = self.command(f"blkwrite {start} {count} {byte:#x}")
        if lines != ["blkwrite: ok"]:
            raise SoakFailure(f"blkwrite {start} {count}: {lines}")
        self.model[start * SECTOR:(start + count) * SECTOR] = bytes([byte]) * count * SECTOR
        self.counts["blkwrite"] += 1

        start = self.rng.randrange(IMAGE_SECTORS - 256)
        count = self.rng.randrange(1, 257)
        want = zlib.crc32(self.model[start * SECTOR:(start + count) * SECTOR])
        lines = self.command(f"blkread {start} {count}")
        if lines != [f"crc32={want:08x}"]:
            raise SoakFailure(f"blkread {start} {count}: {lines}, expected crc32={want:08x}")
        self.counts["blkread"] += 1

        n = self.rng.choice((50, 200, 500))
        size = self.rng.choice((64, 512, 1400))
        lines = self.command(f"udpsend {HOST} 7000 count={n} size={size} window=8")
        if not (len(lines) == 1 and lines[0].startswith(f"udpsend: {n} sent, {n} echoed, "
                                                          "0 corrupt, 0 lost,")):
            raise SoakFailure(f"udpsend count={n} size={size}: {lines}")
        self.counts["udpsend"] += 1
        self.counts["datagrams"] += n

        if self.rng.random() < 0.2:
            # Reads only: random writes would need the model to know their data.
            lines = self.command("blkbench randread bs=4k qd=16 count=2000")
            if len(lines) != 1 or not re.match(r"blkbench randread .*, 0 errors$", lines[0]):
                raise SoakFailure(f"blkbench: {lines}")
            self.counts["blkbench"] += 1

    def sample(self, t0):
        pid = self.proc.pid
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            return
        field = {k: (v.split() or [""])[0] for k, v in
                 (line.split(":", 1) for line in status.splitlines() if ":" in line)}
        self.samples.append((time.monotonic() - t0, int(field["VmRSS"]), int(field["RssAnon"]),
                             int(field["RssShmem"]), int(field["Threads"]), fds))

    def finish(self):
        self.proc.stdin.write(b"exit 0\n")
        self.proc.stdin.close()
        deadline = time.monotonic() + 30
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.hang()
        err = self.proc.stderr.read().decode(errors="replace")
        if self.proc.returncode != 0 or err:
            raise SoakFailure(f"exit status {self.proc.returncode}, stderr {err!r}")
        if self.image.read_bytes() != bytes(self.model):
            raise SoakFailure("the image differs from what the guest wrote")

    def verdict(self, seconds):
        """Leaks: fds after the first sample, RSS after warm-up."""
        if len(self.samples) < 2:
            return
        fds = [s[5] for s in self.samples]
        if max(fds) > fds[0]:
            self.errors.append(f"fds grew from {fds[0]} to {max(fds)}")
        warm = [s for s in self.samples if s[0] >= seconds / 4] or self.samples[-1:]
        base, end = warm[0][2], self.samples[-1][2]
        if end - base > max(4096, base // 10):
            self.errors.append(f"RssAnon grew from {base} KiB (at {warm[0][0]:.0f} s) to "
                               f"{end} KiB")


def run_one(soak, seconds, sample_every):
    t0 = time.monotonic()
    next_sample = t0
    try:
        soak.start()
        soak.sample(t0)
        while time.monotonic() - t0 < seconds:
            soak.round()
            if time.monotonic() >= next_sample:
                soak.sample(t0)
                next_sample += sample_every
        soak.sample(t0)
        soak.finish()
        soak.verdict(seconds)
    except SoakFailure as e:
        soak.errors.append(str(e))
    except Exception as e:  # a bug here is a failure too, not a silent pass
        soak.errors.append(f"{type(e).__name__}: {e}")
    finally:
        soak.stop()


def series(samples, col, per_minute=4):
    """start, min, max, end, and a few samples per minute, of column COL."""
    if not samples:
        return "no samples"
    vals = [s[col] for s in samples]
    step = max(1, int(60 / per_minute / max(samples[1][0] - samples[0][0], 1))
               if len(samples) > 1 else 1)
    picks = " ".join(f"{s[0]:.0f}s:{s[col]}" for s in samples[:-1:step] + samples[-1:])
    return f"start {vals[0]}, min {min(vals)}, max {max(vals)}, end {vals[-1]} ({picks})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--sample", type=float, default=5)
    ap.add_argument("--hang", type=float, default=30)
    ap.add_argument("--no-kvm", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per round")
    ap.add_argument("--summary", help="write 'PASSED FAILED SKIPPED' here")
    args = ap.parse_args()
    ci = os.environ.get("CI") == "true"

    backends = ["process"]
    if not args.no_kvm and kvm_usable():
        backends = ["kvm", "process"]
    skip = None
    if os.geteuid() != 0:
        skip = "the soak needs root (network namespaces, taps)"
    elif not shutil.which("ip"):
        skip = "iproute2 (ip) is not installed"

    passed = failed = skipped = 0
    if skip:
        for layout in LAYOUTS:
            print(f"{'FAIL' if ci else 'skip'} soak/{layout}: {skip}")
        failed, skipped = (len(LAYOUTS), 0) if ci else (0, len(LAYOUTS))
    else:
        # Layouts spread over the backends; a second pass swaps them, if the
        # run is long enough for two, so each layout meets each backend.
        plan = [[(layout, backends[i % len(backends)]) for i, layout in enumerate(LAYOUTS)]]
        if len(backends) > 1 and args.seconds >= 600:
            plan.append([(layout, backends[(i + 1) % len(backends)])
                         for i, layout in enumerate(LAYOUTS)])
        per_pass = args.seconds / len(plan)
        with tempfile.TemporaryDirectory(prefix="lguest-soak-") as tmp:
            for p, group in enumerate(plan):
                soaks = [Soak(args, layout, backend, tmp, p * 10 + i)
                         for i, (layout, backend) in enumerate(group)]
                threads = [threading.Thread(target=run_one, args=(s, per_pass, args.sample))
                           for s in soaks]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                for s in soaks:
                    ok = not s.errors
                    c = s.counts
                    print(f"{'ok  ' if ok else 'FAIL'} soak/{s.name}: {per_pass:.0f} s, "
                          f"{c['blkwrite']} blkwrite + {c['blkread']} blkread checked, "
                          f"{c['blkbench']} blkbench, {c['udpsend']} udpsend "
                          f"({c['datagrams']} datagrams echoed)")
                    print(f"     VmRSS KiB: {series(s.samples, 1)}")
                    print(f"     RssAnon KiB: {series(s.samples, 2)}")
                    print(f"     RssShmem KiB (guest RAM touched): {series(s.samples, 3)}")
                    print(f"     fds: {series(s.samples, 5)}; threads "
                          f"{s.samples[-1][4] if s.samples else '?'}")
                    for e in s.errors:
                        print("     " + e.replace("\n", "\n     "))
                    passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if args.summary:
        Path(args.summary).write_text(f"{passed} {failed} {skipped}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
