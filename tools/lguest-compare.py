#!/usr/bin/env python3
"""lguest-compare: draft3, split and packed rings side by side, on one machine, in one run.

    lguest-compare [--quick] [--out=DIR] [--repeats=N] [--no-net] [--doc=FILE]

Runs the same guest, devices and workloads over the three ring layouts and
leaves in DIR (default build/compare):

  results.json   every figure of every run, the machine, the date, the commit
  results.md     the tables
  *.svg          the plots (gnuplot), with their data and scripts in plots/

The matrix:

  block   {draft3, split, packed} x {ioeventfd, exit} x
          {4 KiB randread qd=1, 4 KiB randread qd=32, 1 MiB seqread qd=4,
           4 KiB randwrite qd=4 with a FLUSH every 32 writes}
          guest `blkbench` against host `hostbench` (pread/pwrite of the same
          image, same pattern, same run)
  net     {draft3, split, packed} x {UDP round trip 64 B, UDP packets/s at
          64 B and 1400 B with 64 in flight}: guest `udpsend` through a tap
          against host `netbench send` across a veth pair between two network
          namespaces (needs root; --no-net leaves it out)
  rings   build/ringbench, the layouts alone between two threads
  boot    `lguest ... -- 'exit 0'` wall time per layout

Each cell runs --repeats times (5; --quick: 1, with a tenth of the work);
the repeats are interleaved (repeat 1 of every cell, then repeat 2 ...) so
that a slow minute on a shared machine spreads over all cells, not one.  We
report the median and the spread (min..max), and each guest figure as a
ratio to the host baseline of the same repeat set.

With --doc=FILE, the run also refreshes FILE (docs/COMPARISON.md): the part
between its "results:begin" and "results:end" markers is replaced by the new
tables, and the plots are copied next to it (FILE's directory/compare/).

Python 3 standard library, gnuplot for the plots.  Asserts nothing about
speed; exits 1 if any run failed (the outputs then say which).
"""
import argparse
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
LAYOUTS = ("draft3", "split", "packed")
PATHS = ("ioeventfd", "exit")
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
# ringbench configurations: the notification protocol with one buffer per
# publish, then the ring alone (polling), unbatched and batched.
RINGBENCH = [
    dict(notify="eventfd", batch=1),
    dict(notify="poll", batch=1),
    dict(notify="poll", batch=16),
]


class CompareError(Exception):
    """A run that failed: one line, and the run is recorded as failed."""


def log(msg):
    print(msg, flush=True)


def run(argv, timeout=300, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, **kw)


# ---------------------------------------------------------------------------
# Parsing what the programs print

_BENCH = re.compile(r"(\d+) ops in [0-9.]+ s: ([0-9.]+) IOPS, ([0-9.]+) MB/s, "
                    r"p50 ([0-9.]+) us p99 ([0-9.]+) us")
_PCT = re.compile(r"^\w+ latency us:((?: p[0-9.]+=[0-9.]+)+)$", re.M)
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


def device_figures(stats_path, name, ops):
    """Per-request counters for device NAME from `lguest --stats-json`."""
    with open(stats_path) as f:
        st = json.load(f)
    dev = next((d for d in st["devices"] if d["name"] == name), None)
    if dev is None or not ops:
        raise CompareError(f"no {name} in {stats_path}")
    if dev["broken"]:
        raise CompareError(f"{name} stopped (see the launcher's message)")
    return dict(notifies_per_op=dev["notifies"] / ops,
                notify_exits_per_op=dev["notify_exits"] / ops,
                notify_skipped_per_op=dev["notify_skipped_by_guest"] / ops,
                signals_per_op=dev["signals"] / ops,
                suppressed_per_op=dev["signals_suppressed"] / ops,
                descs_per_op=dev["descs"] / ops,
                exits_per_op=st["vcpu_exits"]["total"] / ops,
                vcpu_cpu_us_per_op=st["vcpu_cpu_s"] * 1e6 / ops,
                bounce_bytes=dev["bounce_bytes"],
                ring_bytes=sum(q["ring_bytes"] for q in dev["queues"]))


# ---------------------------------------------------------------------------
# The runs


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.lguest = os.path.join(self.build, "lguest")
        self.kernel = os.path.join(self.build, "guest.elf")
        self.tmp = os.path.join(args.out, "tmp")
        self.image = os.path.join(self.tmp, "bench.img")
        self.scale = 10 if args.quick else 1
        self.failures = []

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

    def boot(self, layout, n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = run([self.lguest, f"--ring={layout}", f"--block={self.image}", self.kernel,
                     "--", "exit 0"])
            times.append((time.perf_counter() - t0) * 1e3)
            if r.returncode:
                raise CompareError(f"boot {layout}: exit {r.returncode}: {r.stderr.strip()}")
        return [dict(boot_ms=t) for t in times]

    def blk_args(self, w):
        a = [f"bs={w['bs']}", f"qd={w['qd']}", f"count={self.count(w)}", "pct"]
        if "flush" in w:
            a.append(f"flush={w['flush']}")
        return a

    def block_host(self, w):
        r = run([os.path.join(self.build, "hostbench"), w["pattern"], self.image] +
                self.blk_args(w))
        if r.returncode:
            raise CompareError(f"hostbench {w['name']}: {r.stderr.strip()}")
        return parse_blkbench(r.stdout, f"hostbench {w['name']}")

    def block_guest(self, w, layout, path):
        what = f"{w['name']} {layout} {path}"
        stats = os.path.join(self.tmp, "stats.json")
        cmd = " ".join(["blkbench", w["pattern"]] + self.blk_args(w))
        argv = [self.lguest, f"--ring={layout}", f"--block={self.image}", f"--mem={GUEST_MEM}",
                f"--stats-json={stats}"]
        if path == "exit":
            argv.append("--no-ioeventfd")
        r = run(argv + [self.kernel, "--", cmd])
        if r.returncode:
            raise CompareError(f"{what}: exit {r.returncode}: {(r.stdout + r.stderr).strip()}")
        fig = parse_blkbench(r.stdout, what)
        fig.update(device_figures(stats, "blk0", fig["ops"]))
        return fig

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

    def net_guest(self, w, layout):
        what = f"{w['name']} {layout}"
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
            r = run(["ip", "netns", "exec", ns, self.lguest, f"--ring={layout}",
                     "--tunnet=10.0.0.1/24", "--mem=256M", f"--stats-json={stats}",
                     self.kernel, "--", cmd])
            if r.returncode:
                raise CompareError(f"{what}: exit {r.returncode}: "
                                   f"{(r.stdout + r.stderr).strip()[-400:]}")
            fig = parse_udpsend(r.stdout, what)
            # Each packet is two buffers: one out through tx, one back through rx.
            fig.update(device_figures(stats, "net0", 2 * fig["packets"]))
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
        r = run(argv)
        lines = [ln.split() for ln in r.stdout.splitlines() if ln.strip()]
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
        return dict(notify=cfg["notify"], batch=cfg["batch"], columns=lines[0], rows=rows)

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
            vals = [r[k] for r in runs]
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


def git_commit():
    """The commit of the tree this program came from (tools/ or its build
    directory are both inside it), and whether tracked files differ from it."""
    r = run(["git", "-C", HERE, "rev-parse", "HEAD"])
    if r.returncode:
        return "unknown", False
    status = run(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"])
    return r.stdout.strip(), bool(status.stdout.strip())


# ---------------------------------------------------------------------------
# Looking things up in the results

NO_SUMMARY = dict(n=0, median={})


def cells_of(res, kind, workload):
    return [c for c in res["cells"] if (c["kind"], c["workload"]) == (kind, workload)]


def cell(res, kind, workload, layout, notify=None):
    """The summary of one cell (any notify path if NOTIFY is None), or None."""
    for c in cells_of(res, kind, workload):
        if c["layout"] == layout and (notify is None or c.get("notify") == notify):
            return c["summary"]
    return None


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
    for k in ("iops", "mbps", "p50_us", "pps", "rtt_p50_us"):
        r = [g[k] / h[k] for g, h in zip(runs, host_runs) if g and h and h.get(k) and k in g]
        if r:
            out[k] = dict(median=statistics.median(r), min=min(r), max=max(r))
    return out


def ratio(c, k):
    r = c["ratio_to_host"].get(k)
    return f"{r['median']:.2f}" if r else "-"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def markdown(res, svgs):
    m = res["meta"]
    md = [f"# lguest-compare: {m['date']}", "",
          f"- commit `{m['commit'][:12]}`{' (with local changes)' if m['dirty'] else ''}, "
          f"command `{m['command']}`",
          f"- machine: {m['machine']['cpu']}, {m['machine']['cpus']} CPUs, "
          f"{m['machine']['memory']}, Linux {m['machine']['kernel']}, "
          f"KVM modules {', '.join(m['machine']['kvm_modules']) or 'none'}",
          f"- {m['repeats']} repeat(s) per cell, interleaved; figures are the median "
          f"(min–max). A ratio is the median over the repeats of guest / host, each repeat "
          f"against the host baseline measured just before it.",
          f"- block image: {m['image_mib']} MiB of random data in the page cache, "
          f"guest memory {GUEST_MEM}", ""]
    md += ["## Block: guest `blkbench` against host `hostbench`", "",
           "Per request: NOTIFY is what reached the device (a kick), skipped is what the "
           "guest did not send because the device said it was awake, exits are all vCPU "
           "exits (NOTIFY, WAIT ...), descs are ring descriptors walked.", ""]
    for w in BLOCK:
        hs = host(res, "block", w["name"]) or NO_SUMMARY
        call = "pwrite" if w["pattern"] == "randwrite" else "pread"
        md += [f"### {w['title']}", "",
               f"Host {call}: "
               f"{spread(hs, 'iops')} IOPS, p50 {fnum(hs['median'].get('p50_us'))} µs, "
               f"p99 {fnum(hs['median'].get('p99_us'))} µs.", ""]
        rows = []
        for c in cells_of(res, "block", w["name"]):
            s = c["summary"]
            rows.append([c["layout"], c["notify"], spread(s, "iops"), ratio(c, "iops"),
                         fnum(s["median"].get("p50_us")), fnum(s["median"].get("p99_us")),
                         fnum(s["median"].get("notifies_per_op"), 3),
                         fnum(s["median"].get("notify_skipped_per_op"), 3),
                         fnum(s["median"].get("signals_per_op"), 3),
                         fnum(s["median"].get("exits_per_op"), 3),
                         fnum(s["median"].get("descs_per_op"), 2),
                         fnum(s["median"].get("bounce_bytes"), 0)])
        md += [table(["ring", "notify", "IOPS", "× host", "p50 µs", "p99 µs", "NOTIFY/req",
                      "skipped/req", "signal/req", "exits/req", "descs/req", "bounce B"],
                     rows), ""]
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
                rows.append([c["layout"], spread(s, "pps"), ratio(c, "pps"),
                             fnum(s["median"].get("rtt_p50_us")),
                             fnum(s["median"].get("rtt_p99_us")),
                             ratio(c, "rtt_p50_us"),
                             fnum(s["median"].get("notifies_per_op"), 3),
                             fnum(s["median"].get("notify_skipped_per_op"), 3),
                             fnum(s["median"].get("signals_per_op"), 3),
                             fnum(s["median"].get("exits_per_op"), 3)])
            md += [table(["ring", "packets/s", "× veth", "rtt p50 µs", "rtt p99 µs",
                          "rtt × veth", "NOTIFY/buf", "skipped/buf", "signal/buf",
                          "exits/buf"], rows), ""]
    else:
        md += ["## Network", "", f"Not measured: {res['meta'].get('net_skipped', '')}", ""]
    if res["ringbench"]:
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
    if res["boot"]:
        md += ["## Boot to exit", "",
               table(["ring", "ms"], [[b["layout"], spread(b["summary"], "boot_ms")]
                                      for b in res["boot"]]), ""]
    if res["failures"]:
        md += ["## Failed runs", ""] + [f"- {f}" for f in res["failures"]] + [""]
    md += ["## Plots", ""] + [f"![{t}]({name})" for name, t in svgs] + [""]
    return "\n".join(md)


# ---------------------------------------------------------------------------
# Plots: a data file and a gnuplot script per picture, kept in plots/

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


def triple(s, k):
    """median, min, max of figure K (0s when missing, which gnuplot draws as nothing)."""
    if not s or k not in s.get("median", {}):
        return "0 0 0"
    return f"{s['median'][k]:.6g} {s['min'][k]:.6g} {s['max'][k]:.6g}"


def bars_by_workload(res, path, k, notify, with_host=True):
    """Rows: block workloads; columns: median/min/max per layout (and host)."""
    with open(path, "w") as f:
        f.write("# workload" + "".join(f" {s}_median {s}_min {s}_max" for s in SERIES) + "\n")
        for w in BLOCK:
            cols = [triple(cell(res, "block", w["name"], lay, notify), k) for lay in LAYOUTS]
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
    out = []
    for k in ("iops", "p50_us", "p99_us", "notifies_per_op", "signals_per_op",
              "exits_per_op"):
        for path in PATHS:
            bars_by_workload(res, os.path.join(d, f"block-{k}-{path}.dat"), k, path,
                             with_host=k in ("iops", "p50_us", "p99_us"))
    n = res["meta"]["repeats"]
    gp = GP_HEAD.format(w=1100, h=480, svg="../block-iops.svg")
    gp += ("set multiplot layout 1,2 title 'Block IOPS by ring layout and workload (median; "
           f"bars span min–max of {n} run(s)); host = pread/pwrite'\n")
    for path in PATHS:
        gp += hist_plot(f"block-iops-{path}.dat", f"notify by {path}", "IOPS (log)", True)
    out.append(("block-iops", gp + "unset multiplot\n",
                "Block IOPS by layout, workload and notify path"))

    gp = GP_HEAD.format(w=1100, h=480, svg="../block-latency.svg")
    gp += "set multiplot layout 1,2 title 'Block latency, notify by ioeventfd (median of runs)'\n"
    gp += hist_plot("block-p50_us-ioeventfd.dat", "p50", "µs (log)", True)
    gp += hist_plot("block-p99_us-ioeventfd.dat", "p99", "µs (log)", True)
    out.append(("block-latency", gp + "unset multiplot\n", "Block latency p50 and p99"))

    gp = GP_HEAD.format(w=1200, h=460, svg="../notify-signal.svg")
    gp += "set multiplot layout 1,3 title 'Per request, notify by ioeventfd'\n"
    for k, t in (("notifies_per_op", "NOTIFYs reaching the device"),
                 ("signals_per_op", "signals (interrupts) sent"),
                 ("exits_per_op", "vCPU exits, all reasons")):
        gp += hist_plot(f"block-{k}-ioeventfd.dat", t, "per request", False, LAYOUTS)
    out.append(("notify-signal", gp + "unset multiplot\n",
                "NOTIFYs, signals and exits per block request"))

    # Latency distribution: percentiles (median over runs) as a CDF.
    gp = GP_HEAD.format(w=1100, h=460, svg="../latency-cdf.svg")
    gp += ("set multiplot layout 1,2 title 'Latency distribution, 4 KiB randread, notify by "
           "ioeventfd'\nset logscale x\nset xlabel 'latency µs (log)'\nset ylabel 'percentile'\n"
           "set yrange [0:100]\nset key bottom right\n")
    for w in BLOCK[:2]:
        plots = []
        for s in SERIES:
            sm = host(res, "block", w["name"]) if s == "host" else \
                cell(res, "block", w["name"], s, "ioeventfd")
            pct = (sm or {}).get("median", {}).get("pct_us")
            if not pct:
                continue
            fn = f"cdf-{w['name']}-{s}.dat"
            with open(os.path.join(d, fn), "w") as f:
                f.write("# percentile latency_us\n")
                for p in sorted(pct, key=float):
                    f.write(f"{p} {max(pct[p], 0.05):.6g}\n")
            plots.append(f"'{fn}' using 2:1 with linespoints pt 7 ps 0.5 lw 2 title '{s}'")
        gp += f"set title '{w['title']}'\n" + ("plot " + ", ".join(plots) + "\n" if plots
                                                else "")
    out.append(("latency-cdf", gp + "unset multiplot\n", "Latency distribution (CDF)"))
    return out


def plot_net(res, d):
    if not res["host"]["net"]:
        return []
    rows = [("udp-rtt-64", "rtt_p50_us", "UDP round trip 64 B, p50", "µs"),
            ("udp-pps-64", "pps", "UDP packets/s, 64 B", "packets/s"),
            ("udp-pps-1400", "pps", "UDP packets/s, 1400 B", "packets/s")]
    gp = GP_HEAD.format(w=1200, h=440, svg="../net.svg")
    gp += ("set multiplot layout 1,3 title 'Network by ring layout (median; bars span min–max); "
           "host = veth between two namespaces'\nset style data histogram\n"
           "unset key\nset yrange [0:*]\nset xrange [-0.6:3.6]\nset boxwidth 0.6\n")
    for name, k, title, unit in rows:
        fn = f"net-{name}.dat"
        with open(os.path.join(d, fn), "w") as f:
            f.write("# series median min max\n")
            for s in SERIES:
                sm = host(res, "net", name) if s == "host" else cell(res, "net", name, s)
                f.write(f"{q('veth' if s == 'host' else s)} {triple(sm, k)}\n")
        # One colour per series, as in the block plots (linetypes 1-4).
        gp += (f"set title '{title}'\nset ylabel '{unit}'\n"
               f"plot '{fn}' using 0:2:($0 + 1):xtic(1) with boxes lc variable, "
               f"'' using 0:2:3:4 with yerrorbars lc rgb '#000000' pt 7 ps 0.3\n")
    return [("net", gp + "unset multiplot\n", "Network round trip and packet rate")]


def make_plots(res, out):
    """Writes the SVGs; returns [(file name, title)] of those made."""
    d = os.path.join(out, "plots")
    os.makedirs(d, exist_ok=True)
    made = []
    for name, gp, title in plot_block(res, d) + plot_net(res, d):
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


def update_doc(doc, out, md, svgs):
    """Replace the results section of DOC and copy the plots beside it."""
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
    text = head + begin + "\n" + body.strip() + "\n" + end + rest.split(end, 1)[1]
    with open(doc, "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(prog=PROG, description="draft3, split and packed rings "
                                 "side by side (see the top of this file)")
    ap.add_argument("--quick", action="store_true", help="one repeat, a tenth of the work")
    ap.add_argument("--out", help="output directory (default: BUILD/compare)")
    ap.add_argument("--build", default=HERE, help="where lguest, guest.elf ... are "
                    "(default: this program's directory)")
    ap.add_argument("--repeats", type=int, help="runs per cell (default 5, --quick 1)")
    ap.add_argument("--no-net", action="store_true", help="leave the network out")
    ap.add_argument("--doc", help="refresh this document's results section and plots")
    args = ap.parse_args()
    args.out = args.out or os.path.join(args.build, "compare")
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    if repeats < 1:
        sys.exit(f"{PROG}: --repeats must be at least 1")
    for prog in ("lguest", "guest.elf", "hostbench", "netbench", "ringbench"):
        if not os.path.exists(os.path.join(args.build, prog)):
            sys.exit(f"{PROG}: {os.path.join(args.build, prog)} is missing (run make)")
    if args.doc and not os.path.exists(args.doc):
        sys.exit(f"{PROG}: {args.doc}: no such file")
    os.makedirs(args.out, exist_ok=True)

    R = Runner(args)
    t_start = time.monotonic()
    commit, dirty = git_commit()
    net_skip = None
    if args.no_net:
        net_skip = "--no-net"
    elif os.geteuid() != 0:
        net_skip = "needs root (network namespaces and a tap)"
    elif not shutil.which("ip"):
        net_skip = "no `ip` command (apt-get install iproute2)"
    res = dict(meta=dict(tool=PROG, format=1,
                         date=datetime.datetime.now(datetime.timezone.utc).isoformat(
                             timespec="seconds"),
                         commit=commit, dirty=dirty, command=" ".join([PROG] + sys.argv[1:]),
                         machine=machine(), repeats=repeats, quick=args.quick,
                         net_skipped=net_skip),
               cells=[], host=dict(block={}, net={}), ringbench=[], boot=[], failures=[])
    log(f"{PROG}: {repeats} repeat(s){' (quick)' if args.quick else ''}, output in {args.out}")
    res["meta"]["image_mib"] = R.make_image() >> 20

    block_runs = {(w["name"], lay, p): [] for w in BLOCK for lay in LAYOUTS for p in PATHS}
    block_host = {w["name"]: [] for w in BLOCK}
    net_runs = {(w["name"], lay): [] for w in NET for lay in LAYOUTS}
    net_host = {w["name"]: [] for w in NET}
    for rep in range(repeats):
        log(f"repeat {rep + 1}/{repeats}")
        for w in BLOCK:
            block_host[w["name"]].append(R.attempt(f"host {w['name']}", R.block_host, w))
            for lay in LAYOUTS:
                for p in PATHS:
                    fig = R.attempt(f"{w['name']} {lay} {p}", R.block_guest, w, lay, p)
                    block_runs[(w["name"], lay, p)].append(fig)
                    if fig:
                        log(f"  {w['name']:26} {lay:6} {p:9} {fig['iops']:>11,.0f} IOPS  "
                            f"p50 {fig['p50_us']:8.1f} us")
        if net_skip:
            continue
        for w in NET:
            net_host[w["name"]].append(R.attempt(f"veth {w['name']}", R.net_host, w))
            for lay in LAYOUTS:
                fig = R.attempt(f"{w['name']} {lay}", R.net_guest, w, lay)
                net_runs[(w["name"], lay)].append(fig)
                if fig:
                    log(f"  {w['name']:26} {lay:6} {fig['pps']:>11,.0f} pps   "
                        f"rtt p50 {fig['rtt_p50_us']:8.1f} us")
    if net_skip:
        log(f"network left out: {net_skip}")
    # The timed ringbench runs are short and as noisy as the rest: three
    # repeats each (one with --quick), interleaved like the VM cells.
    rb_runs = [[] for _ in RINGBENCH]
    for _ in range(min(repeats, 3)):
        for i, cfg in enumerate(RINGBENCH):
            rb_runs[i].append(R.attempt(f"ringbench {cfg}", R.ringbench, cfg))
    for cfg, runs in zip(RINGBENCH, rb_runs):
        runs = [r for r in runs if r]
        if runs:
            res["ringbench"].append(merge_ringbench(cfg, runs))
    log("ringbench done")
    for lay in LAYOUTS:
        runs = R.attempt(f"boot {lay}", R.boot, lay, 3 if args.quick else 10)
        if runs:
            res["boot"].append(dict(layout=lay, runs=runs, summary=summarize(runs)))

    for (name, lay, p), runs in block_runs.items():
        res["cells"].append(dict(kind="block", workload=name, layout=lay, notify=p, runs=runs,
                                 summary=summarize(runs)))
    for name, runs in block_host.items():
        res["host"]["block"][name] = dict(runs=runs, summary=summarize(runs))
    if not net_skip:
        for (name, lay), runs in net_runs.items():
            res["cells"].append(dict(kind="net", workload=name, layout=lay, notify="ioeventfd",
                                     runs=runs, summary=summarize(runs)))
        for name, runs in net_host.items():
            res["host"]["net"][name] = dict(runs=runs, summary=summarize(runs))
    for c in res["cells"]:
        host_runs = res["host"][c["kind"]].get(c["workload"], {}).get("runs", [])
        c["ratio_to_host"] = paired_ratios(c["runs"], host_runs)
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
            update_doc(args.doc, args.out, md, svgs)
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
