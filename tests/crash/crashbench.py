#!/usr/bin/env python3
"""crashbench.py: kill lguest many times mid-write and count what a FLUSH
promised but the image does not hold.

    python3 tests/crash/crashbench.py [--build build] [--count 100] [--seed N]
                                      [--backend kvm|process] [--place SUBSTR]
                                      [--no-vhost] [-j 1] [-v]

Each kill is one tests/e2e/cases_crash.crash_run(): the guest runs
`flushlog` (batches of writes, a FLUSH after each, the flushed writes
printed), and 0.2 to 1.5 s after the first ack we SIGKILL the launcher, or
on the process backend the guest's own process; then every acked write
must be on the image (cases_crash.py's docstring has the exact rule), the
launcher must have died the way it should and left nothing running.

The kills are spread round robin over the places:

  BACKEND/LAYOUT/kill-launcher   the launcher serves the disk (--block)
  process/LAYOUT/kill-guest      the same, killing lguest-stub instead
  BACKEND/LAYOUT/vhost-user      lguest-vhost-blk serves it (--vhost-user-blk);
                                 the launcher is killed, the backend lives
                                 on and is stopped before the image is read
                                 (split and packed: draft III cannot ride
                                 vhost-user)

on every backend this machine has (kvm is left out, with the reason, where
/dev/kvm is missing or unusable).  The table says, per place: kills,
flushed writes checked (and how many of them were still the newest acked
write on some sector, so that the check could catch them), writes lost,
writes never acked that landed
anyway (and of those, torn ones: only partly on the image), and runs that
went wrong otherwise (a wrong exit, a process left behind, a lock left on
the image, no ack at all).  Exit status 1 if any write was lost or any run
went wrong, else 0.
"""
import argparse
import concurrent.futures
import random
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))

import cases_crash  # noqa: E402
import harness  # noqa: E402


def places(kvm_problem, vhost_problem, backend=None, no_vhost=False):
    """[(name, backend, layout, victim, vhost)] and [(name, why skipped)]."""
    run, skipped = [], []
    for be in harness.BACKENDS:
        if backend and be != backend:
            continue
        for layout in harness.LAYOUTS:
            run.append((f"{be}/{layout}/kill-launcher", be, layout, "launcher", False))
        if be == "process":
            for layout in harness.LAYOUTS:
                run.append((f"{be}/{layout}/kill-guest", be, layout, "guest", False))
        if not no_vhost:
            for layout in ("split", "packed"):
                run.append((f"{be}/{layout}/vhost-user", be, layout, "launcher", True))
    for p in list(run):
        why = (kvm_problem if p[1] == "kvm" else None) or (vhost_problem if p[4] else None)
        if why:
            run.remove(p)
            skipped.append((p[0], why))
    return run, skipped


def one_kill(build, place, index, seed):
    """Kill once at PLACE; returns (place name, Outcome or None, error text)."""
    name, backend, layout, victim, vhost = place
    with tempfile.TemporaryDirectory(prefix="lguest-crash-") as tmp:
        t = harness.Ctx(build, tmp, harness.NOTIFY_MODES[0], None,
                        f"crashbench/{seed}/{name}/{index}", layout, backend)
        try:
            return name, cases_crash.crash_run(t, victim, vhost=vhost), None
        except harness.Fail as e:
            return name, None, str(e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="build directory (default: build)")
    ap.add_argument("--count", type=int, default=100, help="kills in all (default: 100)")
    ap.add_argument("--seed", type=int, help="for the kill times (default: from the clock)")
    ap.add_argument("--backend", choices=harness.BACKENDS, help="only this backend's places")
    ap.add_argument("--place", action="append",
                    help="only places whose name contains this (repeatable: any)")
    ap.add_argument("--no-vhost", action="store_true", help="leave out the vhost-user places")
    ap.add_argument("-j", dest="jobs", type=int, default=1,
                    help="kills at once (default 1: a busy machine shifts the timings)")
    ap.add_argument("-v", dest="verbose", action="store_true", help="one line per kill")
    args = ap.parse_args()

    build = Path(args.build).resolve()
    missing = [p for p in (build / "lguest", build / "lguest-stub", build / "guest.elf")
               if not p.is_file()]
    if missing:
        print(f"crashbench: missing {', '.join(map(str, missing))} (build first: make)")
        return 1
    seed = args.seed if args.seed is not None else int(time.time())
    run, skipped = places(harness.kvm_usable(), cases_crash.vhost_problem(build), args.backend,
                          args.no_vhost)
    if args.place:
        run = [p for p in run if any(s in p[0] for s in args.place)]
    for name, why in skipped:
        print(f"# skipped {name}: {why}")
    if not run or args.count < 1:
        print("crashbench: nothing to run")
        return 1
    print(f"# {args.count} kills over {len(run)} places, seed {seed}", flush=True)

    rows = {p[0]: dict(kills=0, checked=0, binding=0, lost=0, landed=0, torn=0, failed=0, delay=0.0)
            for p in run}
    bad = []
    start = time.monotonic()
    # Round robin, each place's kills in a shuffled order of places per round,
    # so that no place always runs first after another.
    rng = random.Random(seed)
    order = []
    while len(order) < args.count:
        rnd = list(run)
        rng.shuffle(rnd)
        order += rnd
    order = order[:args.count]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(one_kill, build, p, i, seed) for i, p in enumerate(order)]
        for fut in concurrent.futures.as_completed(futures):
            name, o, err = fut.result()
            row = rows[name]
            row["kills"] += 1
            if o is None:
                row["failed"] += 1
                bad.append(f"{name}: {err}")
                continue
            row["checked"] += o.check.checked
            row["binding"] += o.check.binding
            row["lost"] += o.check.lost
            row["landed"] += o.check.unacked_landed
            row["torn"] += o.check.torn
            row["delay"] += o.delay
            if o.problems or o.check.problems:
                row["failed"] += 1
            if not o.ok:
                bad.append(f"{name}: {o.describe()}")
            if args.verbose:
                print(f"{'ok  ' if o.ok else 'FAIL'} {name}: "
                      + o.describe().split("\n")[0], flush=True)

    head = (f"{'place':<28} {'kills':>5} {'flushed writes checked':>22} {'newest':>7} "
            f"{'lost':>5} {'unacked landed':>14} {'torn':>5} {'failed':>6} {'mean kill at':>12}")
    print(head)
    print("-" * len(head))
    total = dict(kills=0, checked=0, binding=0, lost=0, landed=0, torn=0, failed=0, delay=0.0)
    for name, row in rows.items():
        for k in total:
            total[k] += row[k]
        print(_row(name, row))
    print("-" * len(head))
    print(_row("total", total))
    print(f"# {time.monotonic() - start:.0f} s.  'newest': flushed writes that were the last "
          "acked write on some sector at the kill,\n# the ones the check could catch (the rest "
          "were overwritten by later acked writes); 'unacked landed':\n# writes after the last "
          "ack seen that are (partly) on the image, 'torn' those only partly; 'mean kill at':\n"
          "# seconds after the first ack")
    for b in bad:
        print(f"FAIL {b}")
    return 1 if total["lost"] or total["failed"] else 0


def _row(name, r):
    ok = r["kills"] - r["failed"]
    delay = f"{r['delay'] / ok:.2f} s" if ok else "-"
    return (f"{name:<28} {r['kills']:>5} {r['checked']:>22} {r['binding']:>7} {r['lost']:>5} "
            f"{r['landed']:>14} {r['torn']:>5} {r['failed']:>6} {delay:>12}")


if __name__ == "__main__":
    sys.exit(main())
