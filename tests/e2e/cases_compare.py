"""cases_compare.py: build/lguest-compare --quick, the layouts side by side
on every backend: it finishes, writes results.json, results.md and the
plots, every cell of the matrix has a row with real figures (or, for a
placement whose program is missing here, says why it was skipped), and the
SVGs are XML."""
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import case, expect, expect_rc, fail, limit

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


def _check_json(res, data, net, backend):
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
    expect(len(rb) == 3, f"{len(rb)} ringbench runs, expected 3", res)
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
        expect(t.get("requests", 0) > 0 and t.get("calls_per_req", 0) > 0 and
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


@case("compare-quick")
def compare_quick(t):
    """lguest-compare --quick --doc=COPY: exit 0; results.json has a row per
    cell (block, placement and, as root, net) with non-zero figures, 0 bounce
    bytes and 3 descriptors per read; results.md names every workload and layout;
    every SVG is XML; the document copy got the new tables and plots."""
    out = t.tmp / "cmp"
    doc = t.tmp / "doc" / "COMPARISON.md"
    doc.parent.mkdir()
    shutil.copy(REPO / "docs" / "COMPARISON.md", doc)
    net = os.geteuid() == 0 and shutil.which("ip") is not None
    res = t.run([t.build / "lguest-compare", "--quick", f"--backend={t.backend}", f"--out={out}",
                 f"--doc={doc}"] +
                ([] if net else ["--no-net"]), timeout=limit(180))
    expect_rc(res, 0)
    for name in ("results.json", "results.md"):
        expect((out / name).exists(), f"{name} was not written", res)
    try:
        data = json.loads((out / "results.json").read_text())
    except ValueError as e:
        fail(f"results.json does not parse: {e}", res)
    _check_json(res, data, net, t.backend)
    _check_placement(res, data, t.build)
    md = (out / "results.md").read_text()
    for needle in ("4 KiB randread, qd=1", "1 MiB seqread", "FLUSH every 32", "ringbench",
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


@case("compare-bad-usage", boots=False)
def compare_bad_usage(t):
    """Bad options are one line and exit non-zero, before any run."""
    for argv, needle in ((["--repeats=0"], "--repeats must be at least 1"),
                         ([f"--doc={t.tmp}/nope.md"], "no such file"),
                         (["--only=block,nope"], "--only: no section 'nope'"),
                         ([f"--build={t.tmp}"], "is missing (run make)")):
        res = t.run([t.build / "lguest-compare", f"--out={t.tmp}/o", *argv])
        expect(res.rc != 0, f"{argv}: exit 0", res)
        lines = [ln for ln in res.err_lines if ln.strip()]
        expect(len(lines) == 1 and needle in lines[0], f"{argv}: stderr {lines!r}", res)
