#!/usr/bin/env python3
"""bench.py [--build B] [--repeats N] [--scale S]: the kernel device against
the launcher's own, per layout, in one run.

For each backend (process; kvm where /dev/kvm exists), ring layout and
place (`--block=IMG,ring=R` in the launcher's device thread, or
`--block=IMG,ring=R,device=kernel` in lguest_host.ko): the guest's blkbench
4 KiB randread at qd=1 (p50) and at qd=32 (IOPS), with NOTIFYs reaching the
device, signals sent and vCPU exits per request from --stats-json, against
a host hostbench of the same image in the same repeat.  Repeats interleave
every cell; medians are printed, with "x host" and kernel over launcher.

It needs the module loaded: run it in the tier (`make bench-module`).
Under QEMU TCG every absolute number is TCG's: read the ratios.
The parsing and per-request counters are lguest-compare's own.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ next to tools/lguest-compare.py

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader(
    "lguest_compare", os.path.join(HERE, "..", "..", "tools", "lguest-compare.py"))
_spec = importlib.util.spec_from_loader("lguest_compare", _loader)
cmp = importlib.util.module_from_spec(_spec)
_loader.exec_module(cmp)

WORKLOADS = {"qd1": dict(qd=1, count=2000), "qd32": dict(qd=32, count=20000)}
LAYOUTS = ("draft3", "split", "packed")
PLACES = ("launcher", "kernel")


def blkbench_args(w, scale):
    return ["bs=4K", f"qd={w['qd']}", f"count={max(w['count'] // scale, 100)}"]


def host(build, image, w, scale):
    r = cmp.run([os.path.join(build, "hostbench"), "randread", image] + blkbench_args(w, scale))
    if r.returncode:
        sys.exit(f"hostbench: {r.stderr.strip()}")
    return cmp.parse_blkbench(r.stdout, "hostbench")


def guest(build, tmp, image, backend, layout, place, w, scale):
    stats = os.path.join(tmp, "stats.json")
    dev = f"--block={image},ring={layout}" + (",device=kernel" if place == "kernel" else "")
    argv = [os.path.join(build, "lguest"), f"--backend={backend}", f"--stats-json={stats}",
            f"--mem={cmp.GUEST_MEM}", dev, os.path.join(build, "guest.elf"), "--",
            " ".join(["blkbench randread"] + blkbench_args(w, scale))]
    r = cmp.run(argv)
    what = f"{backend} {layout} {place} qd={w['qd']}"
    if r.returncode:
        sys.exit(f"{what}: exit {r.returncode}: {(r.stdout + r.stderr).strip()[-400:]}")
    fig = cmp.parse_blkbench(r.stdout, what)
    fig.update(cmp.device_figures(cmp.load_stats(stats, backend), "blk0", fig["ops"]))
    if fig["bounce_bytes"]:
        sys.exit(f"{what}: {fig['bounce_bytes']} bounce bytes")
    return fig


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scale", type=int, default=1, help="divide the work by this")
    args = ap.parse_args()
    if not os.path.exists("/dev/lguest-host"):
        sys.exit("bench.py: no /dev/lguest-host: load host-module/lguest_host.ko first")
    backends = ["process"] + (["kvm"] if os.path.exists("/dev/kvm") else [])
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "disk.img")
        with open(image, "wb") as f:
            f.write(os.urandom(64 << 20))
        for rep in range(args.repeats):
            for wname, w in WORKLOADS.items():
                res.setdefault(("host", wname), []).append(host(args.build, image, w,
                                                                args.scale))
                for b in backends:
                    for layout in LAYOUTS:
                        for place in PLACES:
                            fig = guest(args.build, tmp, image, b, layout, place, w, args.scale)
                            res.setdefault((b, layout, place, wname), []).append(fig)
            print(f"repeat {rep + 1}/{args.repeats} done", file=sys.stderr)

    h1, h32 = med(res["host", "qd1"], "p50_us"), med(res["host", "qd32"], "iops")
    print(f"host pread: qd=1 p50 {h1:.1f} us, qd=32 {h32:,.0f} IOPS "
          f"(medians of {args.repeats})\n")
    print("| backend | ring | device | qd=1 p50 us | x host | kernel/launcher | qd=32 IOPS | "
          "x host | kernel/launcher | notifies/req qd=1, qd=32 | signals/req qd=1, qd=32 | "
          "exits/req qd=1, qd=32 |")
    print("| --- " * 12 + "|")
    for b in backends:
        for layout in LAYOUTS:
            base = res[b, layout, "launcher", "qd1"], res[b, layout, "launcher", "qd32"]
            for place in PLACES:
                q1, q32 = res[b, layout, place, "qd1"], res[b, layout, place, "qd32"]
                p50, iops = med(q1, "p50_us"), med(q32, "iops")
                rel1 = p50 / med(base[0], "p50_us")
                rel32 = iops / med(base[1], "iops")
                per = " | ".join(f"{med(q1, k):.3f}, {med(q32, k):.3f}" for k in
                                 ("notifies_per_op", "signals_per_op", "exits_per_op"))
                print(f"| {b} | {layout} | {place} | {p50:.1f} | {p50 / h1:.1f} | {rel1:.2f} | "
                      f"{iops:,.0f} | {iops / h32:.3f} | {rel32:.2f} | {per} |")


main()
