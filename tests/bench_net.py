#!/usr/bin/env python3
"""bench_net.py BUILD_DIR: network figures for an issue note, in one run.

For each ring layout, in a network namespace of its own (--tunnet), and for
the host baseline between two namespaces joined by a veth pair:

- ICMP round trip, host -> guest (ping, 200 echoes 10 ms apart): p50, p99;
- UDP round trip, guest -> host echo server (udpsend window=1, 64 bytes);
- UDP packets per second through an echo server with 64 datagrams in
  flight, at 64 and 1400 bytes (each packet goes out and comes back).

Prints figures and ratios (guest / veth); asserts nothing about speed.
Needs root (namespaces, taps).
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
netbench = os.path.join(build, "netbench")
LAYOUTS = ("draft3", "split", "packed")
RTT_COUNT, RATE_COUNT = 5000, 50000


def sh(*argv, check=True, **kw):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300,
                       **kw)
    if check and r.returncode:
        sys.exit(f"bench_net: {' '.join(map(str, argv))} failed: {r.stderr.strip()}")
    return r


def ns_exec(ns, *argv, **kw):
    return sh("ip", "netns", "exec", ns, *argv, **kw)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, len(v) * p // 100)]


def ping_rtt(ns, addr):
    r = ns_exec(ns, "ping", "-c", "200", "-i", "0.01", "-W", "1", addr)
    times = [float(x) * 1000 for x in re.findall(r"time=([0-9.]+) ms", r.stdout)]
    return pct(times, 50), pct(times, 99)


def parse_send(out):
    m = re.search(r"rtt p50 ([0-9.]+) us p99 ([0-9.]+) us, ([0-9.]+) packets/s", out)
    if not m:
        sys.exit(f"bench_net: no figures in {out!r}")
    return tuple(float(x) for x in m.groups())


def veth_baseline():
    for ns in ("lgbA", "lgbB"):
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", "lgvA", "netns", "lgbA", "type", "veth", "peer", "lgvB", "netns",
       "lgbB")
    for ns, dev, addr in (("lgbA", "lgvA", "10.1.0.1/24"), ("lgbB", "lgvB", "10.1.0.2/24")):
        ns_exec(ns, "ip", "addr", "add", addr, "dev", dev)
        ns_exec(ns, "ip", "link", "set", dev, "up")
        ns_exec(ns, "ip", "link", "set", "lo", "up")
    server = subprocess.Popen(["ip", "netns", "exec", "lgbA", netbench, "echo", "10.1.0.1",
                               "7000"], stdout=subprocess.PIPE, text=True)
    server.stdout.readline()
    try:
        icmp = ping_rtt("lgbB", "10.1.0.1")
        udp = parse_send(ns_exec("lgbB", netbench, "send", "10.1.0.1", "7000", RTT_COUNT, 64,
                                 1).stdout)
        rate64 = parse_send(ns_exec("lgbB", netbench, "send", "10.1.0.1", "7000", RATE_COUNT,
                                    64, 64).stdout)
        rate1400 = parse_send(ns_exec("lgbB", netbench, "send", "10.1.0.1", "7000", RATE_COUNT,
                                      1400, 64).stdout)
    finally:
        server.kill()
        server.wait()
        for ns in ("lgbA", "lgbB"):
            sh("ip", "netns", "del", ns, check=False)
    return icmp, udp[:2], rate64[2], rate1400[2]


def guest_figures(layout):
    ns = f"lgn{layout}"
    sh("ip", "netns", "del", ns, check=False)
    sh("ip", "netns", "add", ns)
    ns_exec(ns, "ip", "link", "set", "lo", "up")
    cmd = (f"ip 10.0.0.2/24; udpecho 9 secs=6; udpsend 10.0.0.1 7000 count={RTT_COUNT} size=64; "
           f"udpsend 10.0.0.1 7000 count={RATE_COUNT} size=64 window=64; "
           f"udpsend 10.0.0.1 7000 count={RATE_COUNT} size=1400 window=64")
    vm = subprocess.Popen(["ip", "netns", "exec", ns, lguest, f"--ring={layout}",
                           "--tunnet=10.0.0.1/24", "--mem=256M", kernel, "--", cmd],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # udpecho answers ICMP for 6 s while the host pings it; then the guest sends.
        deadline = time.monotonic() + 10
        while ns_exec(ns, "ping", "-c", "1", "-W", "1", "10.0.0.2", check=False).returncode:
            if time.monotonic() > deadline:
                sys.exit(f"bench_net: the {layout} guest never answered ping")
        icmp = ping_rtt(ns, "10.0.0.2")
        server = subprocess.Popen(["ip", "netns", "exec", ns, netbench, "echo", "10.0.0.1",
                                   "7000"], stdout=subprocess.PIPE, text=True)
        server.stdout.readline()
        out, err = vm.communicate(timeout=300)
        server.kill()
        server.wait()
    finally:
        if vm.poll() is None:
            vm.kill()
        sh("ip", "netns", "del", ns, check=False)
    sends = re.findall(r"^udpsend: .*$", out, re.M)
    if len(sends) != 3:
        sys.exit(f"bench_net: {layout}: expected three udpsend lines:\n{out}\n{err}")
    figs = []
    for line in sends:
        m = re.search(r"rtt p50 ([0-9.]+) us p99 ([0-9.]+) us, ([0-9.]+) packets/s", line)
        if not m or " 0 corrupt, 0 lost" not in line:
            sys.exit(f"bench_net: {layout}: {line}")
        figs.append(tuple(float(x) for x in m.groups()))
    return icmp, figs[0][:2], figs[1][2], figs[2][2]


def main():
    if os.geteuid() != 0:
        sys.exit("bench_net: needs root (network namespaces and taps)")
    base = veth_baseline()
    rows = [("veth (host)", base)] + [(layout, guest_figures(layout)) for layout in LAYOUTS]
    print(f"{'':12} {'ICMP rtt p50/p99 us':>20} {'UDP rtt p50/p99 us':>20} "
          f"{'UDP pps 64B':>12} {'ratio':>6} {'UDP pps 1400B':>14} {'ratio':>6}")
    for name, (icmp, udp, r64, r1400) in rows:
        print(f"{name:12} {icmp[0]:9.1f}/{icmp[1]:<9.1f} {udp[0]:9.1f}/{udp[1]:<9.1f} "
              f"{r64:12.0f} {r64 / base[2]:6.2f} {r1400:14.0f} {r1400 / base[3]:6.2f}")


main()
