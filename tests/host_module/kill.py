#!/usr/bin/env python3
"""kill.py BUILD [ROUNDS] [BACKEND...]: kill -9 the launcher mid-write, then rmmod.

Each round boots the guest with a kernel-served disk (--block=IMG,
device=kernel) running a write workload with 32 requests in flight, waits
until the kernel device has served some of them, kills the launcher with
SIGKILL, and then checks that no task is left in D state and that rmmod
succeeds (the module's files are closed as the launcher exits, and the
worker stops), and loads the module again for the next round.  Rounds
alternate over the launcher backends given (default: process, kvm where
/dev/kvm exists).  Prints "ok ..." per round and exits non-zero on the first
failure.  Run as root in the hwvirt tier (tests/host_module/in-tier.sh).
"""
import os
import random
import subprocess
import sys
import tempfile
import time

MODULE = "host-module/lguest_host.ko"


def fail(msg):
    print(f"FAIL {msg}")
    sys.exit(1)


def d_state():
    """Our tasks in uninterruptible sleep, as 'pid comm' strings: the
    launcher's threads, its stub, and the module's workers (lguest-host/N).
    Others may pass through D briefly (the tier's own 9p writes)."""
    stuck = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
        if state == "D" and comm.startswith("lguest"):
            stuck.append(f"{pid} {comm}")
    return stuck


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    backends = sys.argv[3:] or (["process", "kvm"] if os.path.exists("/dev/kvm") else ["process"])
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "disk.img")
        for r in range(rounds):
            backend = backends[r % len(backends)]
            with open(img, "wb") as f:
                f.truncate(16 << 20)
            argv = [f"{build}/lguest", f"--backend={backend}", f"--block={img},device=kernel",
                    f"{build}/guest.elf", "--",
                    "blkbench randwrite bs=4K qd=32 count=100000000"]
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # Wait until writes reach the image, then a little more, at random.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and p.poll() is None:
                with open(img, "rb") as f:
                    if f.read().strip(b"\0"):
                        break
                time.sleep(0.05)
            if p.poll() is not None:
                fail(f"round {r} ({backend}): the launcher exited {p.returncode} before it was "
                     f"killed: {p.stderr.read().decode()[-400:]}")
            time.sleep(random.uniform(0, 0.5))
            p.kill()
            p.wait()
            p.stderr.close()
            stuck = d_state()
            if stuck:
                fail(f"round {r} ({backend}): tasks in D state after kill -9: {stuck}")
            # The launcher's files are closed (and the worker stopped) before
            # its parent's wait returns, so the first try should succeed.
            t0, tries = time.monotonic(), 1
            while subprocess.run(["rmmod", "lguest_host"], stderr=subprocess.DEVNULL).returncode:
                if time.monotonic() - t0 > 10:
                    fail(f"round {r} ({backend}): rmmod still fails 10 s after the launcher died")
                tries += 1
                time.sleep(0.05)
            if subprocess.run(["insmod", MODULE]).returncode:
                fail(f"round {r}: insmod failed")
            print(f"ok   kill -9 mid-write round {r + 1}/{rounds} ({backend}): no task in D "
                  f"state, rmmod succeeded at try {tries}")


main()
