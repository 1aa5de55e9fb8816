#!/usr/bin/env python3
"""bench.py BUILD_DIR: the figures for an issue note, measured in one run.

- wall time of `lguest guest.elf -- 'exit 0'` (median of 10) and of `make run`;
- guest `blkbench` next to host `hostbench` (pread/pwrite, same pattern, same
  image, same run) as a ratio, with ioeventfd and with --no-ioeventfd;
- bounce bytes on the data path, from the launcher's counters.

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

    print(f"\n{'workload':34} {'path':10} {'guest IOPS':>11} {'MB/s':>8} {'p50 us':>7} "
          f"{'p99 us':>7} | {'host IOPS':>10} {'MB/s':>8} {'p50 us':>7} | {'ratio':>5} bounce")
    for pattern, args in WORKLOADS:
        host = run([os.path.join(build, "hostbench"), pattern, image] + args.split())
        h = iops(host.stdout)
        for path, opts in (("ioeventfd", []), ("exit", ["--no-ioeventfd"])):
            g = run([lguest, "-v", f"--block={image}", "--mem=512M"] + opts +
                    [kernel, "--", f"blkbench {pattern} {args}"])
            gi = iops(g.stdout)
            bounce = re.search(r"^blk0 +(?:\d+ +){6}(\d+)", g.stderr, re.M)
            if not gi or not h:
                print(f"{pattern} {args}: failed\n{g.stdout}{g.stderr}{host.stdout}{host.stderr}")
                continue
            print(f"{pattern + ' ' + args:34} {path:10} {gi[0]:11.0f} {gi[1]:8.1f} {gi[2]:7.1f} "
                  f"{gi[3]:7.1f} | {h[0]:10.0f} {h[1]:8.1f} {h[2]:7.1f} | {gi[0] / h[0]:5.2f} "
                  f"{bounce.group(1) if bounce else '?'}")


main()
