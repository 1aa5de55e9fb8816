"""cases_compare.py: build/lguest-compare --quick, the layouts side by side
on every backend: it finishes, writes results.json, results.md and the
plots, every cell of the matrix has a row with real figures (or, for a
placement whose program is missing here, says why it was skipped), and the
SVGs are XML.  The block section's --poll=50 rows ("block-poll") and
queues=4 rows ("block-mq", split and packed only), each cell's host
baselines, and --before (an older build's "block-before" rows beside this
one's; here the same build stands in for the older one).  No speed is
asserted anywhere."""
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import Skip, case, expect, expect_rc, fail, limit, require_ring_insns

LAYOUTS = ("draft3", "split", "packed")
BLOCK = ("randread-4k-qd1", "randread-4k-qd32", "seqread-1m-qd4", "randwrite-4k-qd4-flush32")
NET = ("udp-rtt-64", "udp-pps-64", "udp-pps-1400")
# hcbench measures and the notify path each runs with (None: measured once).
HCALLS = (("notify", "ioeventfd"), ("notify", "exit"), ("call", None), ("wake", "ioeventfd"),
          ("wake", "exit"))
# Where the block device runs: the workloads, and (placement, ring) per cell.
PLACEMENT_BLOCK = ("randread-4k-qd1", "randread-4k-qd32", "seqread-1m-qd4")
PLACEMENTS = (("launcher", "split"), ("launcher", "packed"), ("vhost-blk", "split"),
              ("vhost-blk", "packed"), ("qsd", "split"), ("kernel", "split"),
              ("kernel", "packed"))
# The block section's extra rows: the polling window (µs) of the "block-poll"
# cells, the request queues of the "block-mq" ones and the rings they run on.
BLOCK_POLL_US = 50
BLOCK_MQ_QUEUES = 4
BLOCK_MQ_LAYOUTS = ("split", "packed")
PLOTS = ("block-iops.svg", "block-latency.svg", "latency-cdf.svg", "notify-signal.svg",
         "hypercalls.svg", "placement.svg")
REPO = Path(__file__).resolve().parents[2]


def _positive(c, keys, res):
    what = f"{c['kind']} {c['workload']} {c['backend']} {c['layout']} {c.get('notify', '')}"
    s = c["summary"]
    expect(s["n"] == 1, f"{what}: {s['n']} runs, expected 1 (--quick)", res)
    for k in keys:
        v = s["median"].get(k)
        expect(isinstance(v, (int, float)) and v > 0, f"{what}: {k} is {v!r}", res)


def _check_json(res, data, net, backend, rings):
    for k in ("date", "commit", "machine", "repeats", "command"):
        expect(k in data["meta"], f"results.json meta has no {k}", res)
    expect(not data["failures"], f"failures recorded: {data['failures']}", res)
    backends = data["meta"]["backends"]
    expect(backends == [backend], f"backends {backends}, expected [{backend!r}]", res)
    expect(backends and all(c["backend"] in backends for c in data["cells"]),
           f"backends {backends}, cells on {sorted({c['backend'] for c in data['cells']})}", res)
    block = {(c["workload"], c["backend"], c["layout"], c["notify"]): c for c in data["cells"]
             if c["kind"] == "block"}
    want = {(w, b, lay, p) for w in BLOCK for b in backends for lay in LAYOUTS
            for p in ("ioeventfd", "exit")}
    nblock = sum(c["kind"] == "block" for c in data["cells"])
    expect(nblock == len(want), f"{nblock} block rows for {len(want)} cells", res)
    expect(set(block) == want, f"block cells {sorted(set(block) ^ want)} missing or extra", res)
    for (w, b, lay, p), c in block.items():
        _positive(c, ("iops", "mbps", "p50_us", "p99_us", "signals_per_op", "descs_per_op",
                      "exits_per_op", "ring_bytes"), res)
        med = c["summary"]["median"]
        # Zero-copy: not a byte bounced, on any layout.
        expect(med["bounce_bytes"] == 0,
               f"{w} {b} {lay} {p}: {med['bounce_bytes']} bounce bytes", res)
        # Indirect is off: every read is header + data + status, 3 descriptors,
        # on draft3 (split over its two queues) as on split and packed.
        if not w.startswith("randwrite"):
            expect(med["descs_per_op"] == 3,
                   f"{w} {b} {lay} {p}: {med['descs_per_op']} descs/req", res)
        expect(c["ratio_to_host"].get("iops", {}).get("median", 0) > 0,
               f"{w} {b} {lay} {p}: no ratio to host", res)
        expect(len(med.get("pct_us", {})) >= 10, f"{w} {b} {lay} {p}: no latency percentiles",
               res)
        expect(all(r["backend"] == b for r in c["runs"]), f"{w} {b} {lay} {p}: runs on "
               f"{[r['backend'] for r in c['runs']]}", res)
    for w in BLOCK:
        h = data["host"]["block"].get(w)
        expect(h and h["summary"]["median"].get("iops", 0) > 0, f"no host baseline for {w}",
               res)
    _check_block_extra(res, data, backends)
    nets = {(c["workload"], c["backend"], c["layout"]): c for c in data["cells"]
            if c["kind"] == "net"}
    if net:
        want = {(w, b, lay) for w in NET for b in backends for lay in LAYOUTS}
        nnet = sum(c["kind"] == "net" for c in data["cells"])
        expect(nnet == len(want), f"{nnet} net rows for {len(want)} cells", res)
        expect(set(nets) == want, f"net cells {sorted(set(nets) ^ want)} missing or extra", res)
        for c in nets.values():
            _positive(c, ("pps", "rtt_p50_us", "signals_per_op", "descs_per_op"), res)
        for w in NET:
            h = data["host"]["net"].get(w)
            expect(h and h["summary"]["median"].get("pps", 0) > 0, f"no veth baseline for {w}",
                   res)
    rb = data["ringbench"]
    expect(len(rb) == (3 if rings else 0),
           f"{len(rb)} ringbench runs, expected {3 if rings else 0}", res)
    for run in rb:
        got = sorted(r["layout"] for r in run["rows"])
        expect(got == sorted(LAYOUTS), f"ringbench rows {got}", res)
        for r in run["rows"]:
            expect(r["ops"] > 0 and r["errors"] == 0, f"ringbench row {r}", res)
    _check_hcalls(res, data, backends)
    got = sorted((b["backend"], b["layout"] or "") for b in data["boot"])
    want = sorted((b, lay) for b in backends for lay in ("",) + LAYOUTS)
    expect(got == want, f"boot rows {got}, expected {want}", res)
    for b in data["boot"] + [data["host"]["boot"]["bin-true"]]:
        s = b["summary"]
        expect(s["n"] == 5 and s["median"].get("boot_ms", 0) > 0, f"boot {b.get('backend')} "
               f"{b.get('layout')}: {s['n']} runs, {s['median'].get('boot_ms')} ms", res)


def _block_ratios(res, data, c):
    """A block cell of any kind: its host baselines, single-threaded and at
    the device's parallelism, are named, measured and put against it."""
    what = f"{c['kind']} {c['workload']} {c['backend']} {c['layout']} {c['notify']}"
    w = c["workload"]
    hp = c.get("host_parallel")
    expect(isinstance(hp, str) and hp.startswith("engine="), f"{what}: host_parallel {hp!r}",
           res)
    par = data["host"]["block_parallel"].get(w, {}).get(hp)
    expect(par and par["summary"]["median"].get("iops", 0) > 0,
           f"{what}: no parallel host baseline {hp!r} for {w} (there are "
           f"{sorted(data['host']['block_parallel'].get(w, {}))})", res)
    expect(data["host"]["block_1t"].get(w, {}).get("summary", {}).get("median", {})
           .get("iops", 0) > 0, f"no single-threaded host baseline for {w}", res)
    for k in ("ratio_to_host", "ratio_to_host_1t"):
        expect(c.get(k, {}).get("iops", {}).get("median", 0) > 0, f"{what}: no {k}", res)


def _check_block_extra(res, data, backends):
    """The block cells beyond the two notify paths: kind "block-poll" (the
    fast path with --poll=50, every ring) with its polling counters, kind
    "block-mq" (the fast path with queues=4, split and packed only) whose
    device used its 4 queues and says so in its parallelism; and for every
    block cell both host baselines."""
    block = {(c["workload"], c["backend"], c["layout"]): c for c in data["cells"]
             if c["kind"] == "block" and c["notify"] == "ioeventfd"}
    for c in data["cells"]:
        if c["kind"] == "block":
            expect(c.get("queues") == 1 and c.get("poll") is None,
                   f"block {c['workload']} {c['backend']} {c['layout']} {c['notify']}: "
                   f"queues {c.get('queues')!r}, poll {c.get('poll')!r}", res)
    poll = {(c["workload"], c["backend"], c["layout"]): c for c in data["cells"]
            if c["kind"] == "block-poll"}
    want = {(w, b, lay) for w in BLOCK for b in backends for lay in LAYOUTS}
    npoll = sum(c["kind"] == "block-poll" for c in data["cells"])
    expect(npoll == len(want) and set(poll) == want,
           f"{npoll} block-poll rows, cells {sorted(set(poll) ^ want)} missing or extra", res)
    for (w, b, lay), c in poll.items():
        what = f"block-poll {w} {b} {lay}"
        expect(c["notify"] == "ioeventfd" and c["poll"] == BLOCK_POLL_US and
               c.get("queues") == 1, f"{what}: notify {c['notify']}, poll {c['poll']!r}, "
               f"queues {c.get('queues')!r}", res)
        _positive(c, ("iops", "p50_us", "signals_per_op"), res)
        med = c["summary"]["median"]
        expect(med.get("poll_us") == BLOCK_POLL_US, f"{what}: the device's poll_us is "
               f"{med.get('poll_us')!r}", res)
        found, expired = med.get("polls_found_per_op"), med.get("polls_expired_per_op")
        expect(isinstance(found, (int, float)) and isinstance(expired, (int, float)),
               f"{what}: polls found {found!r}, expired {expired!r}", res)
        # A window opens after the device's last request at least: some
        # window found work or ran out.
        expect((found or 0) + (expired or 0) > 0, f"{what}: no polling window counted", res)
        _block_ratios(res, data, c)
    mq = {(c["workload"], c["backend"], c["layout"]): c for c in data["cells"]
          if c["kind"] == "block-mq"}
    want = {(w, b, lay) for w in BLOCK for b in backends for lay in BLOCK_MQ_LAYOUTS}
    nmq = sum(c["kind"] == "block-mq" for c in data["cells"])
    expect(nmq == len(want) and set(mq) == want,
           f"{nmq} block-mq rows, cells {sorted(set(mq) ^ want)} missing or extra "
           "(split and packed only: draft III has one pair of queues)", res)
    for (w, b, lay), c in mq.items():
        what = f"block-mq {w} {b} {lay}"
        expect(c["notify"] == "ioeventfd" and c.get("queues") == BLOCK_MQ_QUEUES and
               c.get("poll") is None, f"{what}: notify {c['notify']}, queues "
               f"{c.get('queues')!r}, poll {c.get('poll')!r}", res)
        _positive(c, ("iops", "p50_us", "signals_per_op", "descs_per_op"), res)
        med = c["summary"]["median"]
        expect(med.get("queues_used") == BLOCK_MQ_QUEUES,
               f"{what}: requests popped from {med.get('queues_used')!r} queues", res)
        expect(med.get("bounce_bytes") == 0, f"{what}: {med.get('bounce_bytes')} bounce bytes",
               res)
        one = block.get((w, b, lay))
        if one and one.get("aio") == c.get("aio") and one.get("aio_parallelism"):
            expect(c.get("aio_parallelism") == BLOCK_MQ_QUEUES * one["aio_parallelism"],
                   f"{what}: parallelism {c.get('aio_parallelism')!r}, one queue's "
                   f"{one['aio_parallelism']}", res)
        _block_ratios(res, data, c)
    for c in data["cells"]:
        if c["kind"] == "block":
            _block_ratios(res, data, c)


def _check_hcalls(res, data, backends):
    """hcbench: every measure on every backend, min <= p50 <= p99; the host ping-pong."""
    cells = {(c["workload"], c["backend"], c["notify"]): c for c in data["cells"]
             if c["kind"] == "hcall"}
    want = {(m, b, p) for m, p in HCALLS for b in backends}
    expect(set(cells) == want, f"hcall cells {sorted(set(cells) ^ want, key=str)} missing or "
           "extra", res)
    ping = data["host"]["hcall"].get("pingpong", {}).get("summary", {"n": 0, "median": {}})
    for c in list(cells.values()) + [dict(kind="hcall", workload="pingpong", backend="host",
                                          layout="-", summary=ping)]:
        _positive(c, ("n", "min_ns", "p50_ns", "p99_ns", "mean_ns"), res)
        med = c["summary"]["median"]
        expect(med.get("min_ns", 0) <= med.get("p50_ns", 0) <= med.get("p99_ns", 0),
               f"hcall {c['workload']} {c['backend']}: {med}", res)


def _check_placement(res, data, build):
    """Every placement cell on every backend: skipped only where its program
    is missing here, with the reason; otherwise figures, a ratio to the host,
    kicks and calls per request from the traced run, and (but for
    qemu-storage-daemon, which counts nothing) from the device's counters."""
    backends = data["meta"]["backends"]
    cells = {(c["workload"], c["backend"], c["placement"], c["layout"]): c
             for c in data["cells"] if c["kind"] == "placement"}
    want = {(w, b, where, ring) for w in PLACEMENT_BLOCK for b in backends
            for where, ring in PLACEMENTS}
    expect(set(cells) == want, f"placement cells {sorted(set(cells) ^ want)} missing or extra",
           res)
    missing = {}
    if not (build / "lguest-vhost-blk").exists():
        missing["vhost-blk"] = True
    if not shutil.which("qemu-storage-daemon"):
        missing["qsd"] = True
    if not os.path.exists("/dev/lguest-host"):
        missing["kernel"] = True
    skipped = data["meta"]["placement_skipped"]
    expect(set(skipped) == set(missing), f"placements skipped: {skipped}", res)
    for (w, b, where, ring), c in cells.items():
        what = f"placement {w} {b} {where} {ring}"
        if where in missing:
            expect(c.get("skipped") == skipped.get(where) and c["skipped"] and not c["runs"],
                   f"{what}: skipped {c.get('skipped')!r} with {len(c['runs'])} runs", res)
            continue
        expect("skipped" not in c, f"{what}: skipped: {c.get('skipped')}", res)
        _positive(c, ("iops", "mbps", "p50_us"), res)
        expect(c["ratio_to_host"].get("iops", {}).get("median", 0) > 0,
               f"{what}: no ratio to host", res)
        t = c.get("traced") or {}
        # Calls may be none at all: a guest that finds every completion
        # before it would sleep never asks for one (the device decides once
        # per batch of completions), and a --quick traced run is short.
        expect(t.get("requests", 0) > 0 and t.get("calls_per_req", -1) >= 0 and
               0 <= t.get("kicks_per_req", -1) <= 1.5,
               f"{what}: traced counts {t}", res)
        med = c["summary"]["median"]
        if where == "qsd":
            expect("stats_kicks_per_req" not in med, f"{what}: own counters from qsd?", res)
        else:
            expect(med.get("stats_calls_per_req", 0) > 0 and "stats_kicks_per_req" in med,
                   f"{what}: own counters {med}", res)
    for w in PLACEMENT_BLOCK:
        h = data["host"]["placement"].get(w)
        expect(h and h["summary"]["median"].get("iops", 0) > 0,
               f"no host baseline for placement {w}", res)


def _check_svgs(res, out, names):
    for name in names:
        path = out / name
        expect(path.exists(), f"{name} was not written", res)
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            fail(f"{name} is not XML: {e}", res)
        expect(root.tag.endswith("svg"), f"{name}: root element is {root.tag}", res)
        # A plot with data has drawn paths, not just axes.
        expect(len(list(root.iter())) > 50, f"{name}: only {len(list(root.iter()))} elements",
               res)


# compare-quick's sections on all but the process backend: the rings section
# runs ringbench, which starts no VM, so one backend's run covers it, and the
# process backend is the one every machine has.  (Under the emulation of the
# hardware-virtualisation tier it would take minutes and test nothing of KVM.)
SECTIONS_BUT_RINGS = "block,net,hcall,boot,placement"


@case("compare-quick")
def compare_quick(t):
    """lguest-compare --quick --doc=COPY: exit 0; results.json has a row per
    cell (block, placement and, as root, net) with non-zero figures, 0 bounce
    bytes and 3 descriptors per read; results.md names every workload and layout;
    every SVG is XML; the document copy got the new tables and plots.  The
    rings section on the process backend only (SECTIONS_BUT_RINGS)."""
    out = t.tmp / "cmp"
    doc = t.tmp / "doc" / "COMPARISON.md"
    doc.parent.mkdir()
    shutil.copy(REPO / "docs" / "COMPARISON.md", doc)
    net = os.geteuid() == 0 and shutil.which("ip") is not None
    rings = t.backend == "process"
    res = t.run([t.build / "lguest-compare", "--quick", f"--backend={t.backend}", f"--out={out}",
                 f"--doc={doc}"] +
                ([] if rings else [f"--only={SECTIONS_BUT_RINGS}"]) +
                ([] if net else ["--no-net"]), timeout=limit(180))
    expect_rc(res, 0)
    for name in ("results.json", "results.md"):
        expect((out / name).exists(), f"{name} was not written", res)
    try:
        data = json.loads((out / "results.json").read_text())
    except ValueError as e:
        fail(f"results.json does not parse: {e}", res)
    _check_json(res, data, net, t.backend, rings)
    _check_placement(res, data, t.build)
    md = (out / "results.md").read_text()
    for needle in ("4 KiB randread, qd=1", "1 MiB seqread", "FLUSH every 32",
                   *(("ringbench",) if rings else ()), "| queues |", "× 1 thread", "polls found/req",
                   "draft III has one pair of queues per device by design",
                   "Hypercalls", "ping-pong", "/bin/true", "Where the device runs",
                   "kicks/req (trace)", "calls/req (own)", *LAYOUTS,
                   *data["meta"]["backends"]) + (("UDP round trip", "veth") if net else ()):
        expect(needle in md, f"results.md does not mention {needle!r}", res)
    plots = PLOTS + (("net.svg",) if net else ())
    _check_svgs(res, out, plots)
    text = doc.read_text()
    expect(data["meta"]["commit"][:12] in text, "the document did not get the new results",
           res)
    expect(text.count("<!-- results:begin -->") == 1 and text.count("<!-- results:end -->") == 1,
           "the document's markers were not kept", res)
    _check_svgs(res, doc.parent / "compare", plots)
    expect(not (out / "tmp").exists(), "the scratch image was left behind", res)


@case("compare-doc-only", boots=False, host_only=True)
def compare_doc_only(t):
    """lguest-compare --quick --only=rings --doc=COPY refreshes the rings
    section alone: it carries a line naming this run, and everything else
    in the document (the other sections, the results header, the plots)
    is byte for byte what it was."""
    out = t.tmp / "cmp"
    doc = t.tmp / "doc" / "COMPARISON.md"
    doc.parent.mkdir()
    shutil.copy(REPO / "docs" / "COMPARISON.md", doc)
    before = doc.read_text()
    heading = "### The rings alone: `ringbench`"
    expect(before.count(heading) == 1, f"docs/COMPARISON.md has no one {heading!r}")
    res = t.run([t.build / "lguest-compare", "--quick", "--only=rings", f"--out={out}",
                 f"--doc={doc}"], timeout=limit(120))
    expect_rc(res, 0)
    commit = json.loads((out / "results.json").read_text())["meta"]["commit"][:12]
    after = doc.read_text()

    def cut(text):
        """TEXT without its rings section: (before it, the section, after it)."""
        start = text.index(heading)
        nxt = [i for i in (text.find("\n### ", start + 1), text.find("<!-- results:end -->"))
               if i >= 0]
        return text[:start], text[start:min(nxt)], text[min(nxt):]

    old_head, _, old_tail = cut(before)
    new_head, section, new_tail = cut(after)
    expect(new_head == old_head and new_tail == old_tail,
           "a run of --only=rings changed the document outside the rings section", res)
    expect("Refreshed alone: run of" in section and f"`{commit}`" in section,
           "the refreshed section does not name its run", res)
    expect("ringbench" in section and "| layout |" in section,
           "the refreshed section has no ringbench table", res)


# What `make ringtest` builds (tools/ringtest-build.sh), each run for a few
# lock-step rounds on its own: ringtest's two rings, ours in its shape with
# our rules, and Linux's validating pair.
RINGTEST_LOCKSTEP = ("virtio_ring_0_9-lockstep", "ring-lockstep", "checked-lockstep",
                     "checked-calls-lockstep", "checked-packed-lockstep",
                     "checked-packed-calls-lockstep", "vringh-lockstep")


def _have_linux_source():
    """Whether tools/ringtest-build.sh has a tarball to build from (it picks
    the newest itself)."""
    return any(Path("/usr/src").glob("linux-source-*.tar.xz"))


@case("compare-ringtest", boots=False, host_only=True)
def compare_ringtest(t):
    """make ringtest's script builds Linux's ringtest, our checked rings in
    its shape and the validating peer from Debian's linux-source, into a
    fresh build directory; every lock-step program runs its rounds; and
    lguest-compare --only=rings there counts them all: each ring in
    ringtest's shape with our rules takes more instructions than ringtest's
    own ring and fewer with its steps inlined than out of line, and
    results.md has the table of what the checks cost."""
    require_ring_insns(t)
    if not _have_linux_source():
        raise Skip("no /usr/src/linux-source-*.tar.xz (apt-get install linux-source-6.1)")
    build = t.tmp / "build"
    build.mkdir()
    for entry in t.build.iterdir():
        if entry.name != "ringtest":
            (build / entry.name).symlink_to(entry)
    res = t.run(["sh", REPO / "tools" / "ringtest-build.sh", build], timeout=limit(300))
    expect_rc(res, 0)
    rounds = 512
    for prog in RINGTEST_LOCKSTEP:
        res = t.run([build / "ringtest" / prog, str(rounds)])
        expect_rc(res, 0)
        # "rounds=512 ..." (ringtest_lockstep.c) or "512 rounds, ..." (vringh_lockstep.c)
        expect(re.search(rf"\brounds={rounds}\b|\b{rounds} rounds\b", res.out),
               f"{prog}: did not say it ran {rounds} rounds", res)
    out = t.tmp / "cmp"
    res = t.run([build / "lguest-compare", "--quick", "--only=rings", f"--build={build}",
                 f"--out={out}"], timeout=limit(180))
    expect_rc(res, 0)
    rt = json.loads((out / "results.json").read_text())["ringtest"]
    expect(not rt.get("skipped") and not rt["notes"],
           f"ringtest skipped {rt.get('skipped')!r}, notes {rt['notes']!r}", res)
    for layout, peer in (("split", "virtio_ring_0_9"), ("packed", "ring")):
        base = rt["lockstep"][peer]["insns_per_buf"]
        inl, calls = (f["insns_per_buf"] for f in rt["checked"][layout])
        expect(0 < base < inl < calls, f"{layout}: {peer} {base}, checked {inl}, "
               f"with calls {calls}", res)
    expect(rt["validating"]["insns_per_buf"] > 0, f"validating {rt['validating']!r}", res)
    md = (out / "results.md").read_text()
    for needle in ("What the checks cost", "| split | virtio_ring_0_9 |", "| packed | ring |",
                   "A validating peer"):
        expect(needle in md, f"results.md does not mention {needle!r}", res)


@case("compare-before", boots=("process",))
def compare_before(t):
    """lguest-compare --quick --only=block --before=BUILD (this build standing
    in for an older one): every "block" cell (both notify paths) also has a
    "block-before" cell with figures and host ratios, and a × before ratio;
    the --poll and multi-queue rows have none; results.md has the column.
    On the process backend only: what --before does is the tool's, the same
    on either backend, and compare-quick runs the block section on both."""
    out = t.tmp / "cmp"
    res = t.run([t.build / "lguest-compare", "--quick", "--only=block",
                 f"--backend={t.backend}", f"--out={out}", f"--before={t.build}"],
                timeout=limit(180))
    expect_rc(res, 0)
    try:
        data = json.loads((out / "results.json").read_text())
    except (OSError, ValueError) as e:
        fail(f"results.json: {e}", res)
    expect(not data["failures"], f"failures recorded: {data['failures']}", res)
    before = data["meta"].get("before") or {}
    expect(os.path.realpath(before.get("dir") or "/nonexistent") == os.path.realpath(t.build),
           f"meta before {before!r}", res)
    expect(not before.get("skipped"), f"before rows skipped: {before.get('skipped')}", res)
    backends = data["meta"]["backends"]
    want = {(w, b, lay, p) for w in BLOCK for b in backends for lay in LAYOUTS
            for p in ("ioeventfd", "exit")}
    cells = {}
    for kind in ("block", "block-before"):
        cells[kind] = {(c["workload"], c["backend"], c["layout"], c["notify"]): c
                       for c in data["cells"] if c["kind"] == kind}
        n = sum(c["kind"] == kind for c in data["cells"])
        expect(n == len(want) and set(cells[kind]) == want,
               f"{n} {kind} rows, cells {sorted(set(cells[kind]) ^ want)} missing or extra", res)
    for key, c in cells["block-before"].items():
        _positive(c, ("iops", "mbps", "p50_us", "signals_per_op"), res)
        expect(c.get("queues") == 1 and c.get("poll") is None,
               f"block-before {key}: queues {c.get('queues')!r}, poll {c.get('poll')!r}", res)
        expect("ratio_to_before" not in c, f"block-before {key}: a ratio to itself", res)
        _block_ratios(res, data, c)
    for key, c in cells["block"].items():
        expect(c.get("ratio_to_before", {}).get("iops", {}).get("median", 0) > 0,
               f"block {key}: no ratio_to_before", res)
    for c in data["cells"]:
        if c["kind"] in ("block-poll", "block-mq"):
            expect("ratio_to_before" not in c, f"{c['kind']} {c['workload']} {c['backend']} "
                   f"{c['layout']}: a ratio to before", res)
    md = (out / "results.md").read_text()
    for needle in ("× before", "| build |", "| before |", "Build *before*"):
        expect(needle in md, f"results.md does not mention {needle!r}", res)
    expect(not (out / "tmp").exists(), "the scratch image was left behind", res)


@case("compare-bad-usage", boots=False, host_only=True)
def compare_bad_usage(t):
    """Bad options are one line and exit non-zero, before any run."""
    for argv, needle in ((["--repeats=0"], "--repeats must be at least 1"),
                         ([f"--doc={t.tmp}/nope.md"], "no such file"),
                         (["--only=block,nope"], "--only: no section 'nope'"),
                         ([f"--build={t.tmp}"], "is missing (run make)"),
                         ([f"--before={t.tmp}"], "--before: ")):
        res = t.run([t.build / "lguest-compare", f"--out={t.tmp}/o", *argv])
        expect(res.rc != 0, f"{argv}: exit 0", res)
        lines = [ln for ln in res.err_lines if ln.strip()]
        expect(len(lines) == 1 and needle in lines[0], f"{argv}: stderr {lines!r}", res)
