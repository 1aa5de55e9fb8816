#!/usr/bin/env python3
"""run.py: lguest's end-to-end tests.  They boot the real guest kernel under
the real launcher and check what a user can observe: stdout, stderr, the
exit status, disk images, terminal settings.

    python3 tests/e2e/run.py --build build [--summary FILE] [-k SUBSTR] [-j N]
                             [--backend=kvm|process] [--no-kvm]
                             [--blk-device=launcher|kernel|fake-kernel]

Prints one line per test ("ok   NAME", "FAIL NAME: why" followed by indented
details, or "skip NAME: why"), writes "PASSED FAILED SKIPPED" to the summary
file, and exits 0 iff nothing failed.

Every test that boots a guest runs once per backend (NAME[kvm,...] and
NAME[process,...]).  The kvm ones are skipped, with the reason, where there
is no /dev/kvm, or where --no-kvm (or LGUEST_TEST_NO_KVM=1) hides it to
rehearse such a machine; that holds under CI=true too, since those
machines exist (PLATFORM.md), but not under LGUEST_TEST_REQUIRE_KVM=1
(tests/hwvirt sets it: there every skip is a failure).  Under CI=true any other skip is a failure: a
/dev/kvm that exists but does not work, a missing tool, a process-backend
case that cannot run.

--backend=B runs B's tests and those that boot no guest but may start a VM
(bad options, an installed lguest choosing its backend).  A test that
starts no VM on any backend (harness.case's host_only: ringbench, the
document and option checks, our vhost-user backend against Python
frontends) is reported skipped, with that reason: the run without --backend
has it.

Block devices run in the launcher unless a test says otherwise.  The
kernel-device tests (cases_kernel_device.py) put theirs in the host kernel
(--block=...,device=kernel) and need /dev/lguest-host: where it is missing
they are skipped with the reason, under CI=true too (these machines cannot
load modules), but not under LGUEST_TEST_REQUIRE_MODULE=1.  Their
kernel-device-fake/ twins run everywhere, against a stand-in for the module
(tests/fake_host_module/).  --blk-device=kernel (or
LGUEST_TEST_BLK_DEVICE=kernel) puts the disks of the guest, block and
misbehaving-guest suites in the kernel as well, on the same terms;
--blk-device=fake-kernel does so against the stand-in.  A test that reads a
counter the kernel does not keep is then skipped (harness.NotHere).

A few tests boot Debian's stock kernel under QEMU TCG instead (harness.case's
native=True: cases_vhost_linux.py).  They run once, and only when no single
backend is asked for: --backend=kvm is how the hardware-virtualisation tier
runs this suite, and there that QEMU would itself be emulated.
"""
import argparse
import concurrent.futures
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
# Importing these registers their tests, in this order.
import cases_guest  # noqa: E402,F401,I100
import cases_block  # noqa: E402,F401
import cases_errors  # noqa: E402,F401
import cases_trace  # noqa: E402,F401
import cases_net  # noqa: E402,F401
import cases_ringbench  # noqa: E402,F401
import cases_compare  # noqa: E402,F401
import cases_isolation  # noqa: E402,F401
import cases_engines  # noqa: E402,F401
import cases_vhost_user  # noqa: E402,F401
import cases_vhost_backend  # noqa: E402,F401
import cases_vhost_linux  # noqa: E402,F401
import cases_kernel_device  # noqa: E402,F401
import cases_seccomp  # noqa: E402,F401
import cases_crash  # noqa: E402,F401
import cases_install  # noqa: E402,F401

SLOWEST = 12  # tests named, with their times, after the run


def kernel_device(c, blk_device):
    """Where C's disks run: its own say (Case.kernel), else --blk-device's
    for the suites it applies to, else None (in the launcher)."""
    if c.kernel:
        return c.kernel
    if blk_device != "launcher" and c.backend and c.fn.__module__ in harness.BLK_DEVICE_MODULES:
        return "fake" if blk_device == "fake-kernel" else "module"
    return None


def run_case(c, build, kvm_problem, kvm_absent, ci, blk_device, require_module, backend):
    """Run one test; returns (status, message) with status ok/FAIL/skip."""
    kernel = kernel_device(c, blk_device)
    try:
        if backend and c.host_only:
            return "skip", (f"--backend={backend}: this test starts no VM on any backend "
                            "(the run without --backend has it)")
        if c.needs_kvm and kvm_problem:
            if ci and not kvm_absent:
                return "FAIL", f"cannot run under CI=true: {kvm_problem}"
            return "skip", kvm_problem
        if kernel == "module" and harness.module_problem():
            if require_module:
                return "FAIL", f"LGUEST_TEST_REQUIRE_MODULE=1: {harness.module_problem()}"
            return "skip", harness.module_problem()
        if kernel == "fake" and not (build / harness.FAKE_MODULE).is_file():
            raise harness.Skip(f"no {build / harness.FAKE_MODULE} (build it: make)")
        with tempfile.TemporaryDirectory(prefix="lguest-e2e-") as tmp:
            c.fn(harness.Ctx(build, tmp, c.mode, c.param, c.name, c.layout, c.backend, kernel))
        return "ok", ""
    except harness.Fail as e:
        return "FAIL", str(e)
    except harness.NotHere as e:
        return "skip", str(e)
    except harness.Skip as e:
        if ci:
            return "FAIL", f"cannot run under CI=true: {e}"
        return "skip", str(e)
    except Exception:  # a bug in the test itself: still a failure, with its trace
        return "FAIL", "test raised an exception:\n" + "".join(
            "    " + line for line in traceback.format_exc().splitlines(True))


def timed(fn, *args):
    """fn(*args), and the seconds it took."""
    start = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - start


def _selects(select, name):
    """-k SELECT: a part of the name, or with a leading ^ its start."""
    return name.startswith(select[1:]) if select.startswith("^") else select in name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="build directory (default: build)")
    ap.add_argument("--summary", help='write "PASSED FAILED" here')
    ap.add_argument("-k", dest="select", action="append",
                    help="run only tests whose name contains this, or with ^NAME starts "
                    "with it (repeatable: any)")
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="tests in parallel (2)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--backend", choices=harness.BACKENDS,
                    help="only this backend's tests (and those that boot no guest but "
                    "may start one: not the native ones, which boot Linux under QEMU; "
                    "those that start no VM at all are reported skipped)")
    ap.add_argument("--no-kvm", action="store_true",
                    help="hide /dev/kvm: rehearse a machine without it "
                    "(also LGUEST_TEST_NO_KVM=1)")
    ap.add_argument("--blk-device", choices=("launcher", "kernel", "fake-kernel"),
                    default=os.environ.get("LGUEST_TEST_BLK_DEVICE", "launcher"),
                    help="where the guest, block and misbehaving-guest suites' disks run: "
                    "in the launcher (default), in the kernel (/dev/lguest-host), or in "
                    "the kernel's stand-in (also LGUEST_TEST_BLK_DEVICE=...)")
    args = ap.parse_args()

    cases = [c for c in harness.REGISTRY
             if (not args.select or any(_selects(s, c.name) for s in args.select))
             and (not args.backend or (c.backend in (None, args.backend) and not c.native))]
    if args.list:
        for c in cases:
            print(c.name)
        return 0

    def finish(passed, failed, skipped=0):
        if args.summary:
            Path(args.summary).write_text(f"{passed} {failed} {skipped}\n")
        return 0 if failed == 0 else 1

    if not cases:
        print(f"FAIL e2e: no test matches {args.select}")
        return finish(0, 1)

    build = Path(args.build).resolve()
    missing = [p for p in (build / "lguest", build / "lguest-stub", build / "guest.elf")
               if not p.is_file()]
    if missing:
        print(f"FAIL e2e: missing {', '.join(map(str, missing))} "
              f"(build first: make)")
        return finish(0, 1)

    ci = os.environ.get("CI") == "true"
    if args.no_kvm or os.environ.get("LGUEST_TEST_NO_KVM") == "1":
        kvm_problem, kvm_absent = "KVM hidden (--no-kvm)", True
    else:
        kvm_problem = harness.kvm_usable()
        kvm_absent = not os.path.exists("/dev/kvm")
    if os.environ.get("LGUEST_TEST_REQUIRE_KVM") == "1":
        # tests/hwvirt: the tier exists to run these; none may be skipped.
        ci, kvm_absent = True, False
    if kvm_problem:
        print(f"# {kvm_problem}: "
              + ("KVM tests FAIL (CI=true)" if ci and not kvm_absent else "KVM tests are skipped"))

    if args.blk_device != "launcher":
        print(f"# --blk-device={args.blk_device}: the disks of "
              f"{', '.join(harness.BLK_DEVICE_MODULES)} run in the "
              + ("kernel's stand-in" if args.blk_device == "fake-kernel" else "kernel"))

    start = time.monotonic()
    counts = {"ok": 0, "FAIL": 0, "skip": 0}
    took = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(timed, run_case, c, build, kvm_problem, kvm_absent, ci,
                               args.blk_device,
                               os.environ.get("LGUEST_TEST_REQUIRE_MODULE") == "1",
                               args.backend)
                   for c in cases]
        for c, fut in zip(cases, futures):
            (status, msg), secs = fut.result()
            took.append((secs, c.name))
            counts[status] += 1
            if status == "ok":
                print(f"ok   {c.name}", flush=True)
            else:
                print(f"{status} {c.name}: {msg}", flush=True)

    # Where the time went: what to look at first when the suite grows slow
    # (the hardware-virtualisation tier runs it under emulation).
    took.sort(reverse=True)
    print("slowest: " + ", ".join(f"{name} {secs:.1f} s" for secs, name in took[:SLOWEST]))
    print(f"e2e: {counts['ok']} passed, {counts['FAIL']} failed, {counts['skip']} skipped "
          f"in {time.monotonic() - start:.1f} s")
    return finish(counts["ok"], counts["FAIL"], counts["skip"])


if __name__ == "__main__":
    sys.exit(main())
