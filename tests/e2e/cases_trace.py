"""cases_trace.py: ring tracing (--trace, --trace-file) and the counters
(--stats-json): what they say must be what happened."""
import json
import os
import re

from harness import case, crc32, expect, expect_rc, expect_stdout, fail

# The order one buffer's steps must come in, on either side.
DRIVER_STEPS = ["add", "reap"]
DEVICE_STEPS = ["pop", "used"]
FLOW_ORDER = ["add", "notify", "kick", "pop", "used", "signal", "signal-taken", "reap"]
# (A flow visits each step at most once, so comparing with FLOW_ORDER filtered
# to what it visited checks the order.)


def _load(t, res, path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        expect(False, f"{path.name} is not JSON: {e}", res)


def _steps(trace):
    return [e for e in trace["traceEvents"] if e.get("cat") == "ring"]


def _check_request(res, steps, flows, req, want_descs):
    """One buffer: its steps carry the same id, in order; its flow visits
    add, (notify, kick), pop, used, (signal, signal-taken), reap."""
    mine = [e for e in steps if e["args"].get("req") == req]
    names = [e["name"] for e in mine]
    expect([n for n in names if n in ("add", "pop", "used", "reap")] ==
           ["add", "pop", "used", "reap"], f"request {req}: steps {names}", res)
    ids = {e["args"]["id"] for e in mine}
    expect(len(ids) == 1, f"request {req}: ids {ids} differ between steps", res)
    add = next(e for e in mine if e["name"] == "add")
    pop = next(e for e in mine if e["name"] == "pop")
    used = next(e for e in mine if e["name"] == "used")
    reap = next(e for e in mine if e["name"] == "reap")
    expect(add["pid"] == 1 and pop["pid"] == 2, f"request {req}: add/pop on the wrong side", res)
    got = [(d["len"], d["dir"]) for d in add["args"]["descs"]]
    expect(got == want_descs, f"request {req}: added {got}, expected {want_descs}", res)
    expect([(d["addr"], d["len"], d["dir"]) for d in pop["args"]["descs"]] ==
           [(d["addr"], d["len"], d["dir"]) for d in add["args"]["descs"]],
           f"request {req}: the device popped other descriptors than the driver added", res)
    expect(used["args"]["len"] == reap["args"]["len"],
           f"request {req}: used {used['args']['len']} bytes, reaped {reap['args']['len']}", res)
    expect(add["ts"] <= pop["ts"] <= used["ts"] <= reap["ts"], f"request {req}: times go back",
           res)
    # The flow: s at add, t at each step, f at reap, each bound to a step event.
    flow = sorted((f for f in flows if f["id"] == req), key=lambda f: f["ts"])
    expect(flow and flow[0]["ph"] == "s" and flow[-1]["ph"] == "f",
           f"request {req}: flow phases {[f['ph'] for f in flow]}", res)
    at = {(e["pid"], e["tid"], e["ts"]): e["name"] for e in steps}
    visited = [at.get((f["pid"], f["tid"], f["ts"])) for f in flow]
    expect(None not in visited, f"request {req}: a flow step is bound to no event", res)
    # NOTIFY, kick and signal are optional: a device that is already awake
    # pops a buffer before (or without) the kick, and a driver that polls
    # reaps before the signal.  What is there must be in this order.
    expect([v for v in visited if v in ("add", "pop", "used", "reap")] ==
           ["add", "pop", "used", "reap"], f"request {req}: flow visits {visited}", res)
    expect([v for v in visited] == [v for v in FLOW_ORDER if v in visited] and
           visited.count("add") == 1, f"request {req}: flow visits {visited} out of order", res)


NOTIFIED_ATTEMPTS = 6  # boots _boot_notified() tries for a NOTIFY it can follow


def _boot_notified(t, command, **kw):
    """Boot until the guest's first NOTIFY was sent, the device traced the
    kick and its signal decision, up to NOTIFIED_ATTEMPTS times.

    The device thread looks at the ring once at DRIVER_OK, since buffers
    may already wait.  If the host is slow to run that look, the device
    can find the first request itself, and the guest rightly skips its
    NOTIFY (the device says it is awake): correct, and seen in CI under
    load, but then there is no kick to check.  A skipped NOTIFY must say
    so in the trace; anything else is a failure.  Likewise a guest that
    reaps by polling can see the used entry, finish and exit before the
    device thread, descheduled between publishing it and deciding on the
    signal, traces that decision (seen under QEMU TCG), or before a device
    that took the buffer while awake reads the NOTIFY the guest sent
    meanwhile.  In the hardware-virtualisation tier, beside the rest of
    CI, a run once ended so with no kick traced: each boot here retries
    for a run that shows the whole path."""
    for attempt in range(NOTIFIED_ATTEMPTS):
        res = t.boot(command, **kw)
        signalled = re.search(rb"device +\S+ +signal ", res.stderr) is not None
        kicked = re.search(rb"device +\S+ +kick ", res.stderr) is not None
        if (b"NOTIFY sent" in res.stderr and kicked and signalled) or \
                attempt == NOTIFIED_ATTEMPTS - 1:
            return res
        expect(b"NOTIFY sent" in res.stderr or b"NOTIFY skipped" in res.stderr,
               "the guest neither sent nor skipped a NOTIFY", res)
    return res


# For one 4 KiB read: the buffers each layout carries, as (len, dir) lists.
READ_BUFFERS = {
    "draft3": [[(1, "W"), (4096, "W")], [(24, "R")]],  # in buffer, then out buffer
    "split": [[(16, "R"), (4096, "W"), (1, "W")]],
    "packed": [[(16, "R"), (4096, "W"), (1, "W")]],
}


@case("trace-json", notify_modes=True, layouts=True)
def trace_json(t):
    """One blkread, traced to a Chrome JSON file: it parses, names the
    devices and layouts, and holds for each buffer of the read its full
    life on both sides (same id throughout, the descriptors the device
    popped are exactly those the driver added, the flow links add, notify,
    kick, pop, used, signal and reap), with the right NOTIFY path."""
    img, orig = t.raw_image()
    out = t.path("t.json")
    res = _boot_notified(t, "blkread 0 8", blocks=[img],
                         opts=["--trace=blk0", f"--trace-file={out}"])
    expect_rc(res, 0)
    expect_stdout(res, f"crc32={crc32(orig[:4096]):08x}\n")
    trace = _load(t, res, out)
    devs = {d["name"]: d for d in trace["otherData"]["devices"]}
    expect(devs["blk0"]["ring"] == t.layout, f"otherData devices {devs}", res)
    expect(trace["otherData"]["guest_dropped"] == 0, "events dropped", res)
    steps = _steps(trace)
    expect(all(e["args"]["dev"] == "blk0" for e in steps), "--trace=blk0 let other devices in",
           res)
    flows = [e for e in trace["traceEvents"] if e.get("cat") == "flow"]
    reqs = sorted({e["args"]["req"] for e in steps if "req" in e["args"]})
    # The read itself: the last buffers added (the probe added none on blk0).
    reads = [e for e in steps if e["name"] == "add"]
    expect(len(reads) == len(READ_BUFFERS[t.layout]),
           f"{len(reads)} buffers added, expected {len(READ_BUFFERS[t.layout])}", res)
    for add, want in zip(reads, READ_BUFFERS[t.layout]):
        _check_request(res, steps, flows, add["args"]["req"], want)
    kicks = [e for e in steps if e["name"] == "kick"]
    # The fast path is KVM's ioeventfd, or the process backend's stub.
    path = ("ioeventfd" if t.backend == "kvm" else "stub") if t.mode.ioeventfd else "exit"
    expect(kicks and all(k["args"]["path"] == path for k in kicks),
           f"kick paths {[k['args']['path'] for k in kicks]}, expected {path}", res)
    expect(len(reqs) == len(reads), f"requests {reqs}", res)


def _cumulative_before(events, t):
    """How many of EVENTS (times, counts) happened at or before T."""
    return sum(n for ts, n in events if ts <= t)


@case("trace-order", layouts=True)
def trace_order(t):
    """Both sides' steps line up on one timeline, in both directions, for
    50 requests one after another: every request is added before the device
    pops it, popped before used, used before the driver reaps it; every kick
    the device receives follows as many NOTIFYs the guest sent; every
    signal the guest takes follows as many signals the device sent.  (A
    guest clock that runs early breaks the first and third; one that runs
    late breaks the second and fourth: on hardware virtualisation the
    guest's TSC is offset from the host's, and the launcher must map it.)"""
    img, _ = t.raw_image()
    out = t.path("t.json")
    res = t.boot("blkbench randread bs=4K qd=1 count=50", blocks=[img],
                 opts=["--trace=blk0", f"--trace-file={out}"])
    expect_rc(res, 0)
    trace = _load(t, res, out)
    src = trace["otherData"]["guest_tsc"]["source"]
    expect(src, "otherData.guest_tsc names no source", res)
    steps = _steps(trace)
    reqs = {}
    for e in steps:
        if "req" in e["args"] and e["name"] in ("add", "pop", "used", "reap"):
            reqs.setdefault(e["args"]["req"], {})[e["name"]] = e["ts"]
    expect(len(reqs) >= 50, f"{len(reqs)} requests traced, expected at least 50", res)
    for req, ts in sorted(reqs.items()):
        expect(set(ts) == {"add", "pop", "used", "reap"}, f"request {req}: steps {sorted(ts)}",
               res)
        expect(ts["add"] <= ts["pop"] <= ts["used"] <= ts["reap"],
               f"request {req}: add {ts['add']}, pop {ts['pop']}, used {ts['used']}, "
               f"reap {ts['reap']} us: out of order (guest TSC from {src})", res)
    sent = [(e["ts"], 1) for e in steps if e["name"] == "notify" and e["args"]["sent"]]
    kicks = [(e["ts"], e["args"]["count"]) for e in steps if e["name"] == "kick"]
    for ts, _ in kicks:
        got, had = _cumulative_before(kicks, ts), _cumulative_before(sent, ts)
        expect(got <= had, f"by {ts} us the device had {got} kicks but the guest had sent "
               f"{had} NOTIFYs (guest TSC from {src})", res)
    signals = [(e["ts"], 1) for e in steps if e["name"] == "signal" and e["args"]["sent"]]
    taken = [(e["ts"], 1) for e in steps if e["name"] == "signal-taken"]
    # (A polling driver may reap before it takes any signal: then only
    # used <= reap above checks this direction.)
    for ts, _ in taken:
        got, had = _cumulative_before(taken, ts), _cumulative_before(signals, ts)
        expect(got <= had, f"by {ts} us the guest had taken {got} signals but the device "
               f"had sent {had} (guest TSC from {src})", res)


_OFFSET_RE = re.compile(rb"guest TSC = host TSC ([+-]\d+) ticks \(([^,]+), \+-(\d+)\)")


@case("guest-tsc")
def guest_tsc(t):
    """How the guest's TSC relates to the host's is stated, the same in -v
    and --stats-json: on the process backend it is the host's own; on KVM
    KVM_VCPU_TSC_OFFSET says the offset exactly (0 on PVM, minus the host's
    count at vCPU creation on SVM/VT-x), and it did not move during the run."""
    out = t.path("s.json")
    res = t.boot("exit 0", opts=[f"--stats-json={out}"], verbose=True)
    expect_rc(res, 0)
    g = _load(t, res, out)["guest_tsc"]
    expect(g["moved"] == 0, f"the offset moved by {g['moved']} ticks", res)
    expect(g["khz"] == g["host_khz"] > 0, f"rates {g}", res)
    if t.backend == "process":
        expect(g["offset"] == 0 and g["source"] == "the guest is a host process: our TSC",
               f"guest_tsc {g}", res)
        return
    m = _OFFSET_RE.search(res.stderr)
    expect(m is not None, "-v did not say the guest's TSC offset", res)
    expect(int(m[1]) == g["offset"] and m[2].decode() == g["source"]
           and int(m[3]) == g["offset_error"], f"-v says {m[0]!r}, the stats {g}", res)
    expect(g["source"] == "KVM_VCPU_TSC_OFFSET" and g["offset_error"] == 0,
           f"the offset came from {g['source']!r} (a host kernel before 5.16?)", res)


@case("guest-tsc-measured", boots=("kvm",))
def guest_tsc_measured(t):
    """Where KVM cannot say the vCPU's TSC offset (kernels before 5.16), the
    launcher measures it: the guest's TSC by KVM_GET_MSRS between two reads
    of the host's.  Forced here (LGUEST_KVM_TSC_OFFSET=measure), it must
    agree with what KVM_VCPU_TSC_OFFSET says to within its stated error, and
    the trace file must say it was measured, and how well."""
    img, _ = t.raw_image()
    out = t.path("t.json")
    env = dict(os.environ, LGUEST_KVM_TSC_OFFSET="measure")
    res = t.boot("blkbench randread bs=4K qd=1 count=20", blocks=[img], verbose=True,
                 opts=["--trace=blk0", f"--trace-file={out}"], env=env)
    expect_rc(res, 0)
    m = _OFFSET_RE.search(res.stderr)
    exact = re.search(rb"guest TSC offset by KVM_VCPU_TSC_OFFSET: ([+-]\d+) ticks", res.stderr)
    expect(m is not None and m[2].startswith(b"measured"), "no measured offset in -v", res)
    expect(exact is not None, "-v did not give KVM's own offset to compare with", res)
    got, err, want = int(m[1]), int(m[3]), int(exact[1])
    expect(0 < err and abs(got - want) <= err,
           f"measured {got} +- {err} ticks, KVM says {want}", res)
    trace = _load(t, res, out)
    g = trace["otherData"]["guest_tsc"]
    expect(g["offset"] == got and g["offset_error"] == err and g["source"] == m[2].decode(),
           f"the trace file says {g}, -v {m[0]!r}", res)
    expect(len([e for e in _steps(trace) if e["name"] == "add"]) >= 20,
           "the trace lost buffers", res)


_TEXT_RE = re.compile(r"^ *(\d+\.\d{3})  (guest|device)\s+(\S+)\s+(\S+)\s+(.*)$")


@case("trace-text", layouts=True)
def trace_text(t):
    """--trace prints one aligned line per event on stderr, in time order:
    for a blkread on blk0 the driver's add, publish and NOTIFY, the
    device's kick, pop (with one desc line per segment), I/O, used and
    signal, and the driver's reap, with the bytes the device wrote."""
    img, _ = t.raw_image()
    res = _boot_notified(t, "blkread 0 8", blocks=[img], opts=["--trace=blk0"])
    expect_rc(res, 0)
    lines = res.err_lines
    expect(lines and lines[0].split()[:4] == ["time", "(us)", "side", "where"],
           f"no header line: {lines[:1]}", res)
    events, descs = [], 0
    for line in lines[1:]:
        if line.strip().startswith("desc"):
            descs += 1
            continue
        m = _TEXT_RE.match(line)
        expect(m is not None, f"unexpected trace line {line!r}", res)
        events.append((float(m[1]), m[2], m[3], m[4], m[5]))
    times = [e[0] for e in events]
    expect(times == sorted(times), "trace lines are not in time order", res)
    steps = [e[3] for e in events if e[3] != "status"]
    first = {s: steps.index(s) for s in ("add", "publish", "notify", "kick", "pop", "io",
                                          "used", "signal", "reap")}
    order = sorted(first, key=first.get)
    # NOTIFY and kick are there, but an awake device may pop before the
    # kick arrives (and a polling driver reap before the signal).
    expect(first["add"] < first["publish"] < first["notify"] and
           first["publish"] < first["pop"] < first["io"] < first["used"] < first["reap"] and
           first["used"] < first["signal"], f"first occurrences out of order: {order}", res)
    want_descs = sum(len(b) for b in READ_BUFFERS[t.layout]) * 2  # added and popped
    expect(descs == want_descs, f"{descs} desc lines, expected {want_descs}", res)
    reaps = [e for e in events if e[3] == "reap"]
    written = sorted(int(re.search(r"(\d+) bytes written", e[4])[1]) for e in reaps)
    want = [0, 4097] if t.layout == "draft3" else [4097]
    expect(written == want, f"reaped {written} bytes, expected {want}", res)


@case("stats-json", layouts=True)
def stats_json(t):
    """--stats-json writes counters that match the workload: 100 reads of
    4 KiB are 100 requests (draft3: 200 buffers), 3 descriptors each,
    409600 bytes into guest memory, none through a bounce buffer; every
    batch of completions was either signalled or suppressed, as the trace says; the NOTIFYs received
    and those the guest skipped are what its trace shows."""
    img, _ = t.raw_image()
    out, tr = t.path("s.json"), t.path("t.json")
    res = t.boot("blkbench randread bs=4K qd=4 count=100", blocks=[img],
                 opts=[f"--stats-json={out}", f"--trace-file={tr}"])
    expect_rc(res, 0)
    s = _load(t, res, out)
    blk = next(d for d in s["devices"] if d["name"] == "blk0")
    chains = 200 if t.layout == "draft3" else 100
    expect(blk["ring"] == t.layout and blk["chains"] == chains and blk["descs"] == 300,
           f"blk0 {blk}", res)
    expect(blk["bytes_to_guest"] == 409600 and blk["bounce_bytes"] == 0, f"blk0 {blk}", res)
    # One decision per batch of completions (several finish together with
    # requests in flight), each one traced as a signal event, sent or not.
    decisions = [e["args"]["sent"] for e in _steps(_load(t, res, tr))
                 if e["name"] == "signal" and e["args"]["dev"] == "blk0"
                 and e["args"]["side"] == "device"]
    expect(1 <= blk["signals"] + blk["signals_suppressed"] <= 100 and
           (blk["signals"], blk["signals_suppressed"]) ==
           (decisions.count(True), decisions.count(False)),
           f"signals {blk['signals']} + suppressed {blk['signals_suppressed']}: not 1..100 "
           f"decisions, or not the trace's {decisions.count(True)} sent + "
           f"{decisions.count(False)} suppressed", res)
    # Per queue: draft3 carries each request as an in and an out buffer.
    per_queue = [(q["popped"], q["used"], q["descs"]) for q in blk["queues"]]
    want_q = [(100, 100, 200), (100, 100, 100)] if t.layout == "draft3" else [(100, 100, 300)]
    expect(per_queue == want_q, f"per queue (popped, used, descs) {per_queue}, expected "
           f"{want_q}", res)
    # The NOTIFYs the guest sent and skipped, as its trace tells them.
    notes = [e["args"]["sent"] for e in _steps(_load(t, res, tr))
             if e["name"] == "notify" and e["args"]["dev"] == "blk0"]
    expect((blk["notifies"], blk["notify_skipped_by_guest"]) ==
           (notes.count(True), notes.count(False)),
           f"notifies {blk['notifies']} and skipped {blk['notify_skipped_by_guest']}, but the "
           f"trace has {notes.count(True)} sent and {notes.count(False)} skipped", res)
    sizes = [q["size"] for q in blk["queues"]]
    want = [170, 170] if t.layout == "draft3" else [256]
    expect(sizes == want, f"queue sizes {sizes}, expected {want}", res)
    expect(all(q["ring_bytes"] > 0 for q in blk["queues"]), f"ring bytes {blk['queues']}", res)
    expect(s["exit_status"] == 0 and s["vcpu_exits"]["total"] >= 1 and s["wall_s"] > 0,
           f"run {s}", res)
    expect(s.get("backend") == t.backend, f"backend {s.get('backend')!r}, ran on {t.backend}",
           res)


@case("trace-overflow", layouts=("split",))
def trace_overflow(t):
    """A guest trace ring of 64 events overflows under a queue-depth-32
    benchmark: the guest keeps running (all requests complete), the drops
    are counted in the file and reported on stderr, and what was kept
    still parses."""
    img, _ = t.raw_image()
    out = t.path("t.json")
    res = t.boot("blkbench randread bs=4K qd=32 count=5000", blocks=[img],
                 opts=["--trace-buffer=64", f"--trace-file={out}"])
    expect_rc(res, 0)
    expect(re.search(r"randread bs=4096 qd=32: 5000 ops .* 0 errors", res.out) is not None,
           "the benchmark did not complete", res)
    trace = _load(t, res, out)
    dropped = trace["otherData"]["guest_dropped"]
    expect(dropped > 0, "no guest events dropped with a 64-event ring", res)
    expect(res.err_lines == [f"lguest: trace: {dropped} guest and 0 launcher events dropped "
                             "(buffers full)"], "stderr should report the drops", res)


@case("trace-svg", layouts=True)
def trace_svg(t):
    """lguest-trace draws a real trace of one blkread as a well-formed SVG
    (it parses as XML, in the SVG namespace), and its --text listing of the
    read's buffers walks add, publish, pop, used and reap in order, with a
    NOTIFY and a signal."""
    import xml.etree.ElementTree as ET

    img, _ = t.raw_image()
    out, svg = t.path("t.json"), t.path("read.svg")
    nreq = len(READ_BUFFERS[t.layout])
    # A guest that reaps by polling can finish and exit before the device
    # thread traces its signal decision (seen under QEMU TCG): boot again
    # (up to 3 times) until every request shows one.
    for attempt in range(3):
        res = t.boot("blkread 0 8", blocks=[img], opts=[f"--trace-file={out}"])
        expect_rc(res, 0)
        draw = t.run([t.build / "lguest-trace", out, f"--svg={svg}", "--dev=blk0",
                      f"--requests={nreq}", "--text"])
        expect_rc(draw, 0)
        blocks = [b for b in draw.out.split("\n\n") if b.strip()]
        expect(len(blocks) == nreq, f"{len(blocks)} requests listed, expected {nreq}", draw)
        listed = [[ln.split()[3] for ln in b.splitlines()[1:] if "signal taken" not in ln]
                  for b in blocks]
        if all("signal" in words for words in listed):
            break
    else:
        fail(f"no signal for some request in 3 boots: {listed}", draw)
    try:
        root = ET.parse(svg).getroot()
    except ET.ParseError as e:
        expect(False, f"the SVG does not parse: {e}", draw)
    expect(root.tag == "{http://www.w3.org/2000/svg}svg", f"root element {root.tag}", draw)
    for words in listed:
        steps = [w for w in words if w in ("add", "publish", "pop", "used", "reap")]
        expect(steps == ["add", "publish", "pop", "used", "reap"], f"steps {steps}", draw)
        expect("NOTIFY" in words, f"no NOTIFY in {words}", draw)


# walkthrough.py runs lguest as `make docs` does, on the backend lguest picks.
@case("docs-walkthrough", boots=False)
def docs_walkthrough(t):
    """docs/walkthrough.py (make docs) writes the walk-through from real
    runs: one trace excerpt and one parsable SVG per layout."""
    import xml.etree.ElementTree as ET
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "docs" / "walkthrough.py"
    out = t.path("docs")
    res = t.run(["python3", script, "--build", t.build, "--out", out])
    expect_rc(res, 0)
    doc = (out / "life-of-a-read.md").read_text()
    expect(doc.count("```\n   time (us)") == 3, "expected three trace excerpts", res)
    for layout in ("draft3", "split", "packed"):
        expect(f"(read-{layout}.svg)" in doc, f"no {layout} picture in the text", res)
        ET.parse(out / f"read-{layout}.svg")


@case("trace-indirect", layouts=("split", "packed"))
def trace_indirect(t):
    """With indirect descriptors, both sides mark every descriptor of the
    read as reached through the table, and the device counts the table's
    own descriptor too (4 walked for 3 segments)."""
    img, _ = t.raw_image()
    out = t.path("t.json")
    res = t.boot("blkread 0 8", blocks=[f"{img},indirect=on"], opts=[f"--trace-file={out}"])
    expect_rc(res, 0)
    steps = [e for e in _steps(_load(t, res, out)) if e["args"]["dev"] == "blk0"]
    for name in ("add", "pop"):
        ev = [e for e in steps if e["name"] == name]
        expect(len(ev) == 1, f"{len(ev)} {name} steps", res)
        flags = [d["indirect"] for d in ev[0]["args"]["descs"]]
        expect(flags == [True, True, True], f"{name}: indirect flags {flags}", res)
    pop = next(e for e in steps if e["name"] == "pop")
    expect("4 descs" in pop["args"]["text"], f"pop {pop['args']['text']}", res)


@case("outputs-with-chroot")
def outputs_with_chroot(t):
    """--trace-file and --stats-json are opened during setup, so with
    --chroot they still land where the user asked (not inside the new
    root), and both parse."""
    import os

    from harness import Skip

    if os.geteuid() != 0:
        raise Skip("--chroot needs root")
    root = t.path("root")
    root.mkdir()
    tr, st = t.path("t.json"), t.path("s.json")
    res = t.boot("echo hi", opts=[f"--chroot={root}", f"--trace-file={tr}",
                                  f"--stats-json={st}"],
                 env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    expect_rc(res, 0)
    expect(res.out == "hi\n", "guest output", res)
    expect(_load(t, res, tr)["otherData"]["tool"] == "lguest", "trace file", res)
    expect(_load(t, res, st)["exit_status"] == 0, "stats file", res)
    expect(not any(root.iterdir()), f"files inside the chroot: {list(root.iterdir())}", res)


@case("trace-wait")
def trace_wait(t):
    """WAIT and the wakeup show on the vCPU's track on both backends (the
    guest records them: on the process backend WAIT never reaches the
    launcher), and a one-second sleep spends most of it asleep in WAIT."""
    res = t.boot("sleep 1", opts=["--trace"])
    expect_rc(res, 0)
    waits = [m for m in map(_TEXT_RE.match, res.err_lines) if m and m[3] == "vcpu"]
    expect(any(m[4] == "wait" for m in waits), "no vcpu wait line", res)
    slept = [float(re.search(r"after (\d+\.\d) us", m[5])[1]) for m in waits if m[4] == "wake"]
    expect(slept, "no vcpu wake line", res)
    expect(sum(slept) >= 0.5e6, f"slept only {sum(slept):.0f} us of a 1 s sleep in WAIT", res)
