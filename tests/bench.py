#!/usr/bin/env python3
"""bench.py BUILD_DIR: the figures for an issue note, measured in one run.

- wall time of `lguest guest.elf -- 'exit 0'` (median of 10) and of `make run`;
- for each ring layout (draft3, split, packed), guest `blkbench` next to host
  `hostbench` (pread/pwrite, same pattern, same image, same run) as a ratio,
  with ioeventfd and with --no-ioeventfd;
- NOTIFYs and signals per request, and bounce bytes on the data path, from
  the launcher's counters.

Prints figures; asserts nothing about speed.
"""
import os
import re
import statistics
import subprocess
import sys
import time

build = sys.argv[1] if len(sys.argv) > 1 else "build"
lguest = os.path.join(build, "lguest")
kernel = os.path.join(build, "guest.elf")
image = os.path.join(build, "bench.img")

WORKLOADS = [
    ("randread", "bs=4K qd=1 count=20000"),
    ("randread", "bs=4K qd=32 count=200000"),
    ("seqread", "bs=1M qd=4 count=2000"),
]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


LAYOUTS = ("draft3", "split", "packed")
STAT_COLUMNS = ("notifies", "by-exit", "chains", "descs", "bytes-out", "bytes-in", "bounce",
                "signals", "suppressed", "wakeups", "max-out")


def blk0_stats(stderr):
    m = re.search(r"^blk0 +\w+" + r" +(\d+)" * len(STAT_COLUMNS) + r"$", stderr, re.M)
    return dict(zip(STAT_COLUMNS, map(int, m.groups()))) if m else None


def ops_done(stdout):
    m = re.search(r": (\d+) ops in", stdout)
    return int(m.group(1)) if m else None


def iops(line):
    m = re.search(r"([0-9.]+) IOPS, ([0-9.]+) MB/s, p50 ([0-9.]+) us p99 ([0-9.]+) us", line)
    return tuple(float(x) for x in m.groups()) if m else None


def main():
    if not os.path.exists(image):
        with open(image, "wb") as f:
            f.write(os.urandom(256 << 20))
    with open(image, "rb") as f:  # into the page cache
        while f.read(1 << 24):
            pass

    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        r = run([lguest, kernel, "--", "exit 0"])
        times.append(time.perf_counter() - t0)
        assert r.returncode == 0, r.stderr
    print(f"boot to exit: median {statistics.median(times) * 1e3:.1f} ms of 10 "
          f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f})")
    t0 = time.perf_counter()
    r = run(["make", "-s", "run"])
    print(f"make run (after a build): {(time.perf_counter() - t0) * 1e3:.0f} ms, rc {r.returncode}")

    print(f"\n{'workload':30} {'ring':6} {'path':9} {'guest IOPS':>10} {'MB/s':>7} "
          f"{'p50 us':>7} {'p99 us':>7} | {'host IOPS':>9} {'MB/s':>7} {'p50 us':>6} | "
          f"{'ratio':>5} {'notify/req':>10} {'signal/req':>10} bounce")
    for pattern, args in WORKLOADS:
        host = run([os.path.join(build, "hostbench"), pattern, image] + args.split())
        h = iops(host.stdout)
        for layout in LAYOUTS:
            for path, opts in (("ioeventfd", []), ("exit", ["--no-ioeventfd"])):
                g = run([lguest, "-v", f"--block={image}", f"--ring={layout}", "--mem=512M"] +
                        opts + [kernel, "--", f"blkbench {pattern} {args}"])
                gi, st, n = iops(g.stdout), blk0_stats(g.stderr), ops_done(g.stdout)
                if not gi or not h or not st or not n:
                    print(f"{pattern} {args} {layout}: failed\n{g.stdout}{g.stderr}"
                          f"{host.stdout}{host.stderr}")
                    continue
                print(f"{pattern + ' ' + args:30} {layout:6} {path:9} {gi[0]:10.0f} "
                      f"{gi[1]:7.1f} {gi[2]:7.1f} {gi[3]:7.1f} | {h[0]:9.0f} {h[1]:7.1f} "
                      f"{h[2]:6.1f} | {gi[0] / h[0]:5.2f} {st['notifies'] / n:10.3f} "
                      f"{st['signals'] / n:10.3f} {st['bounce']}")

main()
