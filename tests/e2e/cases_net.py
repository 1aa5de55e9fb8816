"""cases_net.py: the network device, end to end, inside network namespaces
each test creates (traffic never leaves them).

The launcher runs in the namespace with --tunnet=10.0.0.1/24, so its tap
(the host side, 10.0.0.1) lives there; the guest configures 10.0.0.2/24.
Host-side traffic (ping, a UDP client or echo server in Python) runs in the
same namespace."""
import os
import re
import shutil
import subprocess
import time

from harness import (RUN_TIMEOUT, Result, Skip, case, expect, expect_rc, fail, kill_group,
                     limit)

HOST, GUEST = "10.0.0.1", "10.0.0.2"
GUEST_MAC = "52:54:00:12:34:56"
_count = 0


class NetNS:
    """A network namespace for one test, deleted afterwards."""

    def __init__(self, t):
        global _count
        if os.geteuid() != 0:
            raise Skip("network tests need root (network namespaces, taps)")
        if not shutil.which("ip"):
            raise Skip("iproute2 (ip) is not installed")
        _count += 1
        self.name = f"lg{os.getpid()}x{_count}"
        self.t = t
        self.procs = []
        r = subprocess.run(["ip", "netns", "add", self.name], capture_output=True)
        if r.returncode:
            raise Skip(f"cannot create a network namespace: {r.stderr.decode().strip()}")
        self.run_in(["ip", "link", "set", "lo", "up"])

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name, *[str(a) for a in argv]]

    def run_in(self, argv, timeout=RUN_TIMEOUT, input=None):
        p = subprocess.run(self.argv(argv), capture_output=True, timeout=timeout, input=input)
        return Result(self.argv(argv), p.returncode, p.stdout, p.stderr)

    def start(self, argv, env=None):
        """Start ARGV in the namespace in the background (its own process group)."""
        p = subprocess.Popen(self.argv(argv), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True, env=env)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                kill_group(p)
                p.communicate()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def _lguest_argv(t, ns, cmd, extra=()):
    return [t.lguest_bin, *t.backend_opts, *t.mode.opts, f"--ring={t.layout}",
            f"--tunnet={HOST}/24", *extra,
            t.kernel, "--", cmd]


def _finish(proc, argv, timeout=RUN_TIMEOUT):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        fail(f"timed out after {timeout} s", Result(argv, None, out, err))
    return Result(argv, proc.returncode, out, err)


def _wait_ping(ns, proc, argv, secs=15):
    """Ping the guest until it answers (it needs a moment to boot)."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail("the launcher exited before the guest answered ping", _finish(proc, argv))
        if ns.run_in(["ping", "-c", "1", "-W", "1", GUEST]).rc == 0:
            return
        time.sleep(0.1)
    kill_group(proc)
    fail(f"the guest did not answer ping within {secs} s", _finish(proc, argv))


UDP_CLIENT = r"""
import os, socket, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
ok = 0
for i in range(n):
    data = i.to_bytes(4, "big") + os.urandom(size - 4)
    s.sendto(data, ("10.0.0.2", 7000))
    back, addr = s.recvfrom(4096)
    if back != data or addr != ("10.0.0.2", 7000):
        sys.exit(f"datagram {i}: echo differs ({len(back)} bytes from {addr})")
    ok += 1
print(f"{ok} echoed")
"""

ECHO_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 7000))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)
"""


@case("net-echo", notify_modes=True, layouts=True)
def net_echo(t):
    """The host pings the guest (5 of 5 answered) and sends it 20 UDP
    datagrams of random bytes, which come back byte for byte from port
    7000; the guest's udpecho counts them and exits."""
    ns = NetNS(t)
    try:
        argv = ns.argv(_lguest_argv(t, ns, f"ip {GUEST}/24; udpecho 7000 count=20 secs=60"))
        proc = ns.start(_lguest_argv(t, ns, f"ip {GUEST}/24; udpecho 7000 count=20 secs=60"))
        _wait_ping(ns, proc, argv)
        ping = ns.run_in(["ping", "-c", "5", "-i", "0.2", "-W", "2", GUEST])
        expect(ping.rc == 0 and re.search(r"5 packets transmitted, 5 received", ping.out),
               "host -> guest ping lost packets", ping)
        client = ns.run_in(["python3", "-c", UDP_CLIENT, "20", "512"])
        expect(client.rc == 0 and client.out == "20 echoed\n", "UDP echo failed", client)
        res = _finish(proc, argv)
        expect_rc(res, 0)
        expect(re.search(r"^udpecho: 20 datagrams, 10240 bytes echoed$", res.out, re.M),
               "no udpecho summary", res)
    finally:
        ns.close()


@case("net-guest-ping", layouts=True)
def net_guest_ping(t):
    """The guest pings the host: three replies, exit status 0."""
    ns = NetNS(t)
    try:
        res = ns.run_in(_lguest_argv(t, ns, f"ip {GUEST}/24; ping {HOST} count=3"))
        expect_rc(res, 0)
        replies = re.findall(rf"^64 bytes from {re.escape(HOST)}: icmp_seq=\d+ time=", res.out,
                             re.M)
        expect(len(replies) == 3, f"{len(replies)} ping replies, expected 3", res)
    finally:
        ns.close()


@case("net-udp-burst", layouts=True)
def net_udp_burst(t):
    """10,000 datagrams of 1000 bytes from the guest to an echo server on the
    host, 16 in flight: every one comes back, none corrupted (the guest
    checks each payload's sequence number and pattern)."""
    ns = NetNS(t)
    try:
        argv = _lguest_argv(t, ns, f"ip {GUEST}/24; udpsend {HOST} 7000 count=10000 size=1000 "
                            "window=16")
        proc = ns.start(argv)
        # The tap appears once the launcher has set up; then start the server.
        deadline = time.monotonic() + limit(10)
        while ns.run_in(["ip", "-4", "addr", "show", "to", HOST]).out.count(HOST) == 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                kill_group(proc)
                fail("the tap never got its address", _finish(proc, ns.argv(argv)))
            time.sleep(0.02)
        server = ns.start(["python3", "-c", ECHO_SERVER])
        try:
            res = _finish(proc, ns.argv(argv))
        finally:
            kill_group(server)
            server.communicate()
        expect_rc(res, 0)
        expect(re.search(r"^udpsend: 10000 sent, 10000 echoed, 0 corrupt, 0 lost,", res.out,
                         re.M), "not every datagram came back intact", res)
    finally:
        ns.close()


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@case("net-idle-no-spin", layouts=True)
def net_idle_no_spin(t):
    """While the guest sleeps without reading, a flood fills its receive
    buffers; the launcher then has nowhere to put frames and must wait
    without spinning (under 0.3 s of CPU in 2 s).  When the guest reads
    again, frames flow: its udpecho answers the host."""
    ns = NetNS(t)
    try:
        argv = _lguest_argv(t, ns, f"ip {GUEST}/24; sleep 5; udpecho 7000 count=1 secs=30")
        proc = ns.start(argv)
        deadline = time.monotonic() + limit(10)
        while ns.run_in(["ip", "-4", "addr", "show", "to", HOST]).out.count(HOST) == 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                kill_group(proc)
                fail("the tap never got its address", _finish(proc, ns.argv(argv)))
            time.sleep(0.02)
        tap = re.search(r"\d+: (\S+?)[:@]", ns.run_in(["ip", "-o", "link", "show", "type", "tun"])
                        .out)
        dev = tap[1] if tap else "lgtap0"
        ns.run_in(["ip", "neigh", "replace", GUEST, "lladdr", GUEST_MAC, "dev", dev])
        flood = ("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                 "for i in range(500): s.sendto(b'x'*200,('10.0.0.2',9))\n")
        ns.run_in(["python3", "-c", flood])
        time.sleep(0.5)
        before = _cpu_seconds(proc.pid)
        time.sleep(2)
        used = _cpu_seconds(proc.pid) - before
        expect(used < 0.3, f"the launcher used {used:.2f} s of CPU in 2 s with no buffers")
        client = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                  "s.settimeout(0.5)\nend=time.time()+20\n"
                  "while time.time()<end:\n s.sendto(b'back',('10.0.0.2',7000))\n"
                  " try:\n  print(s.recv(100).decode()); break\n except OSError: pass\n")
        c = ns.run_in(["python3", "-c", client], timeout=limit(30))
        expect(c.out == "back\n", "no echo after the guest read again", c)
        res = _finish(proc, ns.argv(argv))
        expect_rc(res, 0)
    finally:
        ns.close()


def _status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]
    return None


@case("net-privileges", params=[("root", ()), ("nobody", ("--user=nobody",)),
                                ("chroot", ("--chroot=@TMP@", "--user=nobody"))],
      layouts=("split",))
def net_privileges(t):
    """After the taps are open the launcher holds no capability at all
    (CapEff 0); with --user=nobody it runs as nobody, with --chroot inside
    that directory, and it still works."""
    ns = NetNS(t)
    try:
        extra = [a.replace("@TMP@", str(t.tmp)) for a in t.param]
        argv = _lguest_argv(t, ns, f"ip {GUEST}/24; udpecho 7000 count=1 secs=30", extra)
        # Under ASan, LeakSanitizer reads /proc at exit, which a chroot hides.
        chrooted = any(a.startswith("--chroot") for a in extra)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0") if chrooted else None
        proc = ns.start(argv, env=env)
        _wait_ping(ns, proc, ns.argv(argv))
        cap, uid = _status_field(proc.pid, "CapEff"), _status_field(proc.pid, "Uid")
        root = os.readlink(f"/proc/{proc.pid}/root")
        client = ns.run_in(["python3", "-c", UDP_CLIENT, "1", "64"])
        res = _finish(proc, ns.argv(argv))
        expect_rc(res, 0)
        expect(cap == "0000000000000000", f"CapEff {cap} after setup", res)
        want = "65534" if t.param else "0"
        expect(uid == want, f"uid {uid}, expected {want}", res)
        want_root = str(t.tmp) if any(a.startswith("--chroot") for a in extra) else "/"
        expect(root == want_root, f"root {root}, expected {want_root}", res)
        expect(client.out == "1 echoed\n", "the guest stopped working", client)
    finally:
        ns.close()


NET_MISBEHAVE = [("tx-oversize", ("draft3", "split", "packed"),
                  r"transmitq: frame of 30(10|12) bytes \(with its 1[02]-byte header\) is not "
                  r"between 2[46] and 152[46]"),
                 ("tx-writable", ("split", "packed"),
                  r"transmitq: frame buffer 0 has writable segments")]


@case("net-misbehave", params=[(f"{layout}/{rule}", (layout, rule, msg))
                               for rule, layouts, msg in NET_MISBEHAVE for layout in layouts])
def net_misbehave(t):
    """A guest breaking a transmit rule stops net0 with one line naming it;
    the launcher and the guest go on."""
    layout, rule, msg = t.param
    t.layout = layout
    ns = NetNS(t)
    try:
        res = ns.run_in(_lguest_argv(t, ns, f"netmisbehave {rule}; echo alive"))
        expect_rc(res, 0)
        expect(res.out == f"netmisbehave {rule}: net0 stopped\nalive\n", "guest output", res)
        expect(len(res.err_lines) == 1 and
               re.fullmatch(rf"lguest: net0: {msg}; device stopped", res.err_lines[0]),
               f"expected one line /lguest: net0: {msg}; device stopped/", res)
    finally:
        ns.close()


@case("net-tap-and-bridge", params=[("tap", "tap"), ("bridge", "bridge")], layouts=("packed",))
def net_tap_and_bridge(t):
    """--tap opens a tap someone else created (its owner set its address),
    and --tunnet=bridge:NAME adds a new tap to an existing bridge (which
    holds the host's address): either way the guest reaches the host."""
    ns = NetNS(t)
    try:
        if t.param == "tap":
            setup = [["ip", "tuntap", "add", "lgtest0", "mode", "tap"],
                     ["ip", "addr", "add", f"{HOST}/24", "dev", "lgtest0"],
                     ["ip", "link", "set", "lgtest0", "up"]]
            opt = "--tap=lgtest0"
        else:
            setup = [["ip", "link", "add", "lgbr0", "type", "bridge"],
                     ["ip", "addr", "add", f"{HOST}/24", "dev", "lgbr0"],
                     ["ip", "link", "set", "lgbr0", "up"]]
            opt = "--tunnet=bridge:lgbr0"
        for argv in setup:
            r = ns.run_in(argv)
            expect(r.rc == 0, "namespace setup failed", r)
        argv = [t.lguest_bin, *t.backend_opts, f"--ring={t.layout}", opt, t.kernel, "--",
                f"ip {GUEST}/24; ping {HOST} count=2"]
        res = ns.run_in(argv)
        expect_rc(res, 0)
        expect(res.out.count(f"64 bytes from {HOST}") == 2, "no ping replies", res)
    finally:
        ns.close()
