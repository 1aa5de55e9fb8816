#!/usr/bin/env python3
"""test_lguest_trace.py: tests of lguest-trace, the trace-to-sequence-diagram tool.

    python3 tests/tools/test_lguest_trace.py [PATH_TO_TOOL]

PATH_TO_TOOL defaults to tools/lguest-trace.py next to this tree (the build
installs a copy as build/lguest-trace).  The tool runs on sample_trace.json,
a small hand-written trace that follows docs/trace-format.md: a draft3 block
read (two requests: the in buffer, then the out buffer), two split requests
(NOTIFY by vCPU exit, a suppressed NOTIFY, a suppressed signal) and a packed
request with indirect descriptors.

Prints "ok NAME" or "FAIL NAME: why" per test, then "N passed, M failed";
exits 0 iff nothing failed.
"""
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "sample_trace.json"
TOOL = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE.parent.parent / "tools" / "lguest-trace.py"
NS = "{http://www.w3.org/2000/svg}"
TMP = None  # a temporary directory, set in main()


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


def equal(got, want, what):
    """Fail unless got == want, saying where they differ, on one line."""
    if got == want:
        return
    if isinstance(got, str) and isinstance(want, str) and "\n" in got + want:
        got, want = got.splitlines(), want.splitlines()
        what += " (by line)"
    if isinstance(got, list) and isinstance(want, list):
        i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
        g = got[i] if i < len(got) else "(nothing more)"
        w = want[i] if i < len(want) else "(nothing more)"
        raise Fail(f"{what}: [{i}] is {g!r}, want {w!r} ({len(got)} items, want {len(want)})")
    raise Fail(f"{what}: got {got!r}, want {want!r}")


# ---------------------------------------------------------------------------
# Helpers


def run(*args):
    """Run the tool; returns (exit status, stdout, stderr) as text."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    p = subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True,
                       timeout=120, env=env)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def sample():
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def write_trace(data, name="t.json"):
    p = Path(TMP) / name
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def svg_of(*args, trace=SAMPLE):
    """Draw; returns the parsed root and the raw text."""
    out = Path(TMP) / "out.svg"
    if out.exists():
        out.unlink()
    rc, so, se = run(trace, f"--svg={out}", *args)
    equal((rc, se), (0, ""), "exit status and stderr")
    raw = out.read_text(encoding="utf-8")
    try:
        root = ET.fromstring(raw.encode("utf-8"))
    except ET.ParseError as e:
        raise Fail(f"SVG does not parse: {e}") from None
    return root, raw


def text_of(*args, trace=SAMPLE):
    rc, so, se = run(trace, "--text", *args)
    equal((rc, se), (0, ""), "exit status and stderr")
    return so


def classes(el):
    return el.get("class", "").split()


def steps(root):
    """The step groups, in drawing (= time) order."""
    return [g for g in root.iter(NS + "g") if "step" in classes(g)]


def step_name(g):
    return next(c[5:] for c in classes(g) if c.startswith("step-"))


def texts(root, cls):
    return ["".join(t.itertext()) for t in root.iter(NS + "text") if cls in classes(t)]


def group_texts(g, cls):
    return ["".join(t.itertext()) for t in g.iter(NS + "text") if cls in classes(t)]


def request_texts(out):
    """--text output as {request number: [step lines without the leading spaces]}."""
    reqs, cur = {}, None
    for line in out.splitlines():
        if line.startswith("request "):
            cur = int(line.split()[1].rstrip(":"))
            reqs[cur] = [line]
        elif line.strip():
            check(cur is not None, f"step line before any request line: {line!r}")
            reqs[cur].append(line.strip())
    return reqs


# ---------------------------------------------------------------------------
# The expected picture of request 1 (blk0's in buffer of a draft3 block read)

REQ1_STEPS = ["add", "publish", "notify", "kick", "pop", "io", "used", "signal",
              "signal-taken", "reap"]
REQ1_LABELS = ["add id 0: 2 descs", "publish idx 1", "NOTIFY", "kick via ioeventfd",
               "pop id 0 (2 descs, 4097 bytes)", "I/O 4096 bytes, status 0",
               "used id 0, len 4097, idx 1", "signal", "signal taken",
               "reap id 0, 4097 bytes, 44.0 µs"]
REQ1_TS = ["10.0 µs", "10.4 µs", "11.5 µs", "13.2 µs", "14.3 µs", "14.6 µs", "52.0 µs",
           "52.6 µs", "53.6 µs", "54.0 µs"]
REQ1_TEXT = """\
request 1: blk0/in id 0 (draft3)
        10.0 µs  driver  add id 0: 2 descs [W 1@0x14a000, W 4096@0x200000]
        10.4 µs  driver  publish idx 1
        11.5 µs  driver  NOTIFY
        13.2 µs  device  kick via ioeventfd
        14.3 µs  device  pop id 0 (2 descs, 4097 bytes)
        14.6 µs  device  I/O 4096 bytes, status 0
        52.0 µs  device  used id 0, len 4097, idx 1
        52.6 µs  device  signal
        53.6 µs  driver  signal taken
        54.0 µs  driver  reap id 0, 4097 bytes, 44.0 µs
"""

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ---------------------------------------------------------------------------
# SVG


@test
def svg_well_formed():
    root, raw = svg_of()
    check(raw.startswith('<?xml version="1.0" encoding="UTF-8"'), "no XML declaration")
    equal(root.tag, NS + "svg", "root element")
    equal(root.get("version"), "1.1", "svg version")
    for a in ("width", "height"):
        check(root.get(a, "").isdigit() and int(root.get(a)) > 100, f"bad {a} {root.get(a)!r}")
    # No external resources: no links, no url() but to our own markers.
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for el in root.iter():
        for k, v in el.attrib.items():
            check("href" not in k, f"link attribute {k} on {el.tag}")
            if "url(" in v:
                ref = v.split("url(#", 1)[-1].split(")", 1)[0]
                check(v.startswith("url(#") and ref in ids, f"{k}={v!r} is not a marker of ours")
    check("http" not in raw.replace('xmlns="http://www.w3.org/2000/svg"', ""),
          "an http reference besides the namespace")
    # Readable: labels are 12px, in a monospace family.
    sizes = {t.get("font-size") for t in root.iter(NS + "text") if "label" in classes(t)}
    equal(sizes, {"12"}, "label font sizes")
    check("monospace" in root.get("font-family", ""), "no monospace font family")


@test
def svg_lanes():
    root, _ = svg_of()
    equal(texts(root, "lane-title"), ["driver (guest)", "ring memory", "device (launcher)"],
          "lane titles")
    lifelines = [el for el in root.iter(NS + "line") if "lifeline" in classes(el)]
    equal(len(lifelines), 3, "lifelines")
    xs = [float(el.get("x1")) for el in lifelines]
    check(xs == sorted(xs) and all(float(el.get("x2")) == float(el.get("x1"))
                                   for el in lifelines), "lifelines not vertical, left to right")


@test
def svg_one_request():
    root, _ = svg_of()
    g = steps(root)
    equal([step_name(x) for x in g], REQ1_STEPS, "steps of request 1")
    equal(texts(root, "label"), REQ1_LABELS, "labels")
    equal(texts(root, "desc"), ["W 1@0x14a000, W 4096@0x200000"], "descriptor lines")
    equal(texts(root, "ts"), REQ1_TS, "timestamps")
    check(all("r1" in classes(x) for x in g), "a step not marked as request 1's")
    equal(texts(root, "legend"), [], "legend for one request")
    header = texts(root, "header")
    equal(header[0], "lguest trace: request #1", "title")
    equal(header[2], "blk0: draft3 ring (in and out queues: desc, avail and used pages); "
          "queues in, out; device index 1", "device line")
    # Arrows go the right way: add from the driver lifeline to the ring's,
    # used from the device's to the ring's.
    lanes = [float(el.get("x1")) for el in root.iter(NS + "line") if "lifeline" in classes(el)]
    arrow = {step_name(x): next(x.iter(NS + "line")) for x in g if step_name(x) in ("add", "used")}
    equal(float(arrow["add"].get("x1")), lanes[0], "add starts at the driver")
    check(abs(float(arrow["add"].get("x2")) - lanes[1]) < 3, "add ends at the ring")
    equal(float(arrow["used"].get("x1")), lanes[2], "used starts at the device")
    check(abs(float(arrow["used"].get("x2")) - lanes[1]) < 3, "used ends at the ring")
    # Time runs down.
    ys = [float(next(x.iter(NS + "text")).get("y")) for x in g]
    equal(ys, sorted(ys), "steps top to bottom")


@test
def svg_three_requests():
    root, _ = svg_of("--requests=3")
    g = steps(root)
    equal(len(g), 25, "steps drawn for requests 1..3 (shared ones once)")
    counts = {}
    for x in g:
        counts[step_name(x)] = counts.get(step_name(x), 0) + 1
    equal(counts, {"add": 3, "publish": 3, "notify": 2, "kick": 2, "pop": 3, "io": 2,
                   "used": 3, "signal": 2, "signal-taken": 2, "reap": 3}, "steps per kind")
    equal(len(texts(root, "label")), 25, "labels")
    shared = [step_name(x) for x in g if "r1" in classes(x) and "r2" in classes(x)]
    equal(shared, ["notify", "kick", "signal", "signal-taken"], "steps shared by #1 and #2")
    labels = texts(root, "label")
    equal(labels[:3], ["blk0/in: add id 0: 2 descs", "blk0/in: publish idx 1",
                       "blk0/out: add id 0: 1 desc"], "first labels (device/queue in front)")
    check("blk0: NOTIFY  [#1, #2]" in labels, "shared NOTIFY label")
    check("blk1: kick via exit" in labels, "blk1's kick by exit")
    equal(texts(root, "legend"), ["#1 blk0/in id 0 (draft3)", "#2 blk0/out id 0 (draft3)",
                                  "#3 blk1/requestq id 0 (split)",
                                  "a step of several of these requests"], "legend")
    colours = [r.get("fill") for r in root.iter(NS + "rect") if "swatch" in classes(r)]
    equal(len(set(colours)), 4, "distinct legend colours")
    # Each request's own steps are drawn in its legend colour.
    for n, c in zip((1, 2, 3), colours):
        for x in g:
            if classes(x).count("r1") + classes(x).count("r2") + classes(x).count("r3") == 1 \
                    and f"r{n}" in classes(x):
                equal(next(x.iter(NS + "text"), None) is not None, True, "text in step")
                lab = [t for t in x.iter(NS + "text") if "label" in classes(t)][0]
                equal(lab.get("fill"), c, f"colour of a step of #{n}")


@test
def svg_queue_prefix():
    """One device, two queues (draft3's in and out): labels name the queue."""
    root, _ = svg_of("--requests=2")
    labels = texts(root, "label")
    equal(labels[:4], ["in: add id 0: 2 descs", "in: publish idx 1", "out: add id 0: 1 desc",
                       "out: publish idx 1"], "first labels")
    equal(labels[4], "NOTIFY  [#1, #2]", "shared NOTIFY")
    equal(len(header := texts(root, "header")), 3, f"header lines {header!r}")


@test
def svg_suppressed_dashed():
    root, _ = svg_of("--first=4")
    g = steps(root)
    equal([step_name(x) for x in g], ["add", "publish", "notify", "pop", "io", "used",
                                      "signal", "reap"], "steps of request 4")
    for x in g:
        dashed = any(el.get("stroke-dasharray") for el in x.iter(NS + "line"))
        equal(dashed, step_name(x) in ("notify", "signal"), f"{step_name(x)} dashed")
    labels = texts(root, "label")
    check("NOTIFY suppressed" in labels, "no 'NOTIFY suppressed'")
    check("signal suppressed: used_event 3" in labels, "no 'signal suppressed: used_event 3'")


@test
def svg_dev_filter_packed():
    root, _ = svg_of("--dev=blk2", "--requests=9")
    g = steps(root)
    equal(len(g), 10, "steps of blk2's only request")
    check(all("r5" in classes(x) for x in g), "a step not of request 5")
    equal(" ".join(texts(root, "desc")),
          "R 16@0x14c000 (ind), W 4096@0x203000 (ind), W 1@0x14c010 (ind)", "descriptors")
    header = texts(root, "header")
    equal(header[0], "lguest trace: request #5", "title")
    check(header[2].startswith("blk2: packed ring"), f"device line {header[2]!r}")
    check(not any("blk0" in t or "blk1" in t for t in header), "other devices in header")


@test
def svg_to_stdout():
    rc, so, se = run(SAMPLE, "--svg=-")
    equal((rc, se), (0, ""), "exit status and stderr")
    root = ET.fromstring(so.encode("utf-8"))
    equal(len(steps(root)), 10, "steps")


# ---------------------------------------------------------------------------
# --text


@test
def text_request1():
    equal(text_of(), REQ1_TEXT, "--text of request 1")


@test
def text_five_requests():
    reqs = request_texts(text_of("--requests=10"))
    equal(sorted(reqs), [1, 2, 3, 4, 5], "requests")
    equal(reqs[2][0], "request 2: blk0/out id 0 (draft3)", "request 2 header")
    equal([ln.split(None, 3)[3] for ln in reqs[2][1:]],
          ["add id 0: 1 desc [R 24@0x14a010]", "publish idx 1", "NOTIFY",
           "kick via ioeventfd", "pop id 0 (1 desc, 24 bytes)", "used id 0, len 0, idx 1",
           "signal", "signal taken", "reap id 0, 0 bytes, 43.5 µs"], "request 2 steps")
    equal([ln.split(None, 3)[3] for ln in reqs[3][1:]],
          ["add id 0: 3 descs [R 16@0x14b000, W 4096@0x201000, W 1@0x14b010]",
           "publish idx 1", "NOTIFY", "kick via exit", "pop id 0 (3 descs, 4113 bytes)",
           "I/O 4096 bytes, status 0", "used id 0, len 4097, idx 1", "signal",
           "signal taken", "reap id 0, 4097 bytes, 41.6 µs"], "request 3 steps")
    # The suppressed NOTIFY brings no kick, the suppressed signal no signal-taken.
    equal([ln.split(None, 3)[3] for ln in reqs[4][1:]],
          ["add id 3: 3 descs [R 16@0x14b030, W 4096@0x202000, W 1@0x14b040]",
           "publish idx 2", "NOTIFY suppressed", "pop id 3 (3 descs, 4113 bytes)",
           "I/O 4096 bytes, status 0", "used id 3, len 4097, idx 2",
           "signal suppressed: used_event 3", "reap id 3, 4097 bytes, 76.7 µs"],
          "request 4 steps")
    equal([ln.split()[2] for ln in reqs[4][1:]],
          ["driver", "driver", "driver", "device", "device", "device", "device", "driver"],
          "request 4 sides")


@test
def text_dev_filter():
    equal(sorted(request_texts(text_of("--dev=blk1", "--requests=10"))), [3, 4], "blk1")
    equal(sorted(request_texts(text_of("--dev=blk0"))), [1], "blk0, default count")
    equal(sorted(request_texts(text_of("--dev=blk0", "--first=2", "--requests=3"))), [2],
          "blk0 from 2")


@test
def text_first():
    equal(sorted(request_texts(text_of("--first=4", "--requests=2"))), [4, 5], "from 4")
    equal(sorted(request_texts(text_of("--first=3"))), [3], "just 3")


@test
def fallback_without_flows():
    """Without flow events the step order rule finds the same steps."""
    data = sample()
    data["traceEvents"] = [e for e in data["traceEvents"] if e.get("cat") != "flow"]
    equal(text_of("--requests=5", trace=write_trace(data)), text_of("--requests=5"),
          "--text without flows")


@test
def fallback_after_suppression():
    """Without flows, a suppressed NOTIFY brings no kick and a suppressed
    signal no signal-taken, even when later ones (another request's) follow."""
    data = sample()
    data["traceEvents"] = [e for e in data["traceEvents"] if e.get("cat") != "flow"]
    base = {"ph": "X", "cat": "ring", "dur": 0.1}
    data["traceEvents"] += [
        dict(base, name="kick", pid=2, tid=47, ts=300.0,
             args={"side": "device", "dev": "blk1", "queue": None, "ring": "split",
                   "step": "kick", "path": "exit", "count": 1}),
        dict(base, name="signal-taken", pid=1, tid=47, ts=301.0,
             args={"side": "driver", "dev": "blk1", "queue": None, "ring": "split",
                   "step": "signal-taken"})]
    reqs = request_texts(text_of("--first=4", trace=write_trace(data)))
    equal([ln.split(None, 3)[3].split()[0] for ln in reqs[4][1:]],
          ["add", "publish", "NOTIFY", "pop", "I/O", "used", "signal", "reap"],
          "steps of request 4")


@test
def flows_take_precedence():
    """With flows, a device-wide step belongs to a request only if its flow
    passes through it: take request 3's flow off its NOTIFY."""
    data = sample()
    data["traceEvents"] = [e for e in data["traceEvents"]
                           if not (e.get("cat") == "flow" and e.get("id") == 3
                                   and e.get("ts") == 100.6)]
    reqs = request_texts(text_of("--first=3", trace=write_trace(data)))
    lines = [ln.split(None, 3)[3] for ln in reqs[3][1:]]
    check("NOTIFY" not in lines, "NOTIFY still in request 3")
    check("kick via exit" in lines, "kick of request 3 lost")
    equal(len(lines), 9, "steps of request 3")


@test
def flow_binds_enclosing_step():
    """A flow event binds to the step slice enclosing its ts (bp "e")."""
    data = sample()
    for e in data["traceEvents"]:
        if e.get("cat") == "flow":
            e["ts"] = round(e["ts"] + 0.05, 3)
    equal(text_of("--requests=5", trace=write_trace(data)), text_of("--requests=5"),
          "--text with flows inside their steps")


@test
def file_order_does_not_matter():
    data = sample()
    random.Random(7).shuffle(data["traceEvents"])
    equal(text_of("--requests=5", trace=write_trace(data)), text_of("--requests=5"),
          "--text of the shuffled trace")


# ---------------------------------------------------------------------------
# Escaping and odd input


@test
def xml_escaping():
    name = 'd<&>"\'0'
    data = sample()
    for d in data["otherData"]["devices"]:
        if d["name"] == "blk0":
            d["name"] = name
    for e in data["traceEvents"]:
        a = e.get("args")
        if isinstance(a, dict) and a.get("dev") == "blk0":
            a["dev"] = name
        if isinstance(a, dict) and a.get("step") == "signal" and a.get("sent") is False:
            a["why"] = "<flags & 1>"
    trace = write_trace(data)
    root, raw = svg_of("--requests=3", trace=trace)
    check("d&lt;&amp;&gt;" in raw, "device name not escaped in the file")
    check(any(t.startswith(name + ": draft3 ring") for t in texts(root, "header")),
          "device name not in the header")
    check(name + "/in: add id 0: 2 descs" in texts(root, "label"), "device name in a label")
    equal(texts(root, "legend")[0], f"#1 {name}/in id 0 (draft3)", "legend")
    root, raw = svg_of(f"--dev={name}", trace=trace)
    equal(len(steps(root)), 10, "steps on the renamed device")
    root, raw = svg_of("--first=4", trace=trace)
    check("signal suppressed: <flags & 1>" in texts(root, "label"), "why not escaped")
    # Characters XML cannot carry at all are replaced, not written raw.
    for e in data["traceEvents"]:
        a = e.get("args")
        if isinstance(a, dict) and a.get("dev") == name:
            a["dev"] = "bad\x01dev"
    root, raw = svg_of(trace=write_trace(data))
    check("\x01" not in raw, "control character written into the SVG")


@test
def odd_events_are_skipped():
    data = sample()
    data["traceEvents"] += [
        "not an event", None, 7, [], {"ph": "X"}, {"ph": "X", "cat": "ring", "ts": "soon"},
        {"ph": "X", "cat": "ring", "ts": 1, "args": []},
        {"ph": "X", "cat": "ring", "ts": 2, "args": {"step": "add", "req": "x"}},
        {"ph": "X", "cat": "ring", "ts": 3, "pid": 1, "tid": 5,
         "args": {"step": "add", "req": 99, "descs": "none", "id": {"a": 1}}},
        {"ph": "s", "cat": "flow", "id": None, "ts": 1}, {"ph": "t", "cat": "flow", "id": 1},
    ]
    trace = write_trace(data)
    equal(text_of(trace=trace), REQ1_TEXT, "--text of request 1")
    root, _ = svg_of("--first=99", trace=trace)
    equal(texts(root, "label"), ['add id {"a": 1}: ? bytes'], "the odd request")


# ---------------------------------------------------------------------------
# Bad input: one line on stderr, exit 1, no traceback, no output file


def bad(name, args, want):
    def fn():
        out = Path(TMP) / "bad.svg"
        if out.exists():
            out.unlink()
        rc, so, se = run(*[a.replace("OUT", str(out)) if isinstance(a, str) else a
                           for a in args()])
        equal(rc, 1, "exit status")
        check("Traceback" not in se, "a traceback")
        lines = se.splitlines()
        equal(len(lines), 1, f"stderr lines ({se!r})")
        check(lines[0].startswith("lguest-trace: ") and want in lines[0],
              f"stderr {lines[0]!r} does not say {want!r}")
        equal(so, "", "stdout")
        check(not out.exists(), "an SVG was written")
    fn.__name__ = "bad_" + name
    TESTS.append(fn)


def file_with(content, name):
    def make():
        p = Path(TMP) / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return p
    return make


def only_meta():
    data = sample()
    data["traceEvents"] = [e for e in data["traceEvents"] if e.get("ph") == "M"]
    return write_trace(data, "meta.json")


bad("missing_file", lambda: [Path(TMP) / "nope.json", "--svg=OUT"], "cannot read")
bad("directory", lambda: [TMP, "--svg=OUT"], "cannot read")
bad("not_json", lambda: [file_with("{traceEvents: oops", "a.json")(), "--svg=OUT"], "not JSON")
bad("empty_file", lambda: [file_with("", "e.json")(), "--svg=OUT"], "not JSON")
bad("binary", lambda: [file_with(b"\xff\xfe\x00\x81garbage", "b.json")(), "--svg=OUT"],
    "not JSON")
bad("no_trace_events", lambda: [file_with('{"otherData": {}}', "n.json")(), "--svg=OUT"],
    "no traceEvents")
bad("array_form", lambda: [file_with("[]", "l.json")(), "--svg=OUT"], "no traceEvents")
bad("trace_events_not_list", lambda: [file_with('{"traceEvents": {}}', "d.json")(),
                                      "--svg=OUT"], "no traceEvents")
bad("no_requests", lambda: [only_meta(), "--svg=OUT"], "no requests")
bad("no_such_dev", lambda: [SAMPLE, "--svg=OUT", "--dev=blk9"], "blk9")
bad("first_too_high", lambda: [SAMPLE, "--svg=OUT", "--first=99"], "99")
bad("first_too_high_on_dev", lambda: [SAMPLE, "--text", "--dev=blk0", "--first=3"], "blk0")
bad("requests_zero", lambda: [SAMPLE, "--svg=OUT", "--requests=0"], "--requests")
bad("requests_not_number", lambda: [SAMPLE, "--svg=OUT", "--requests=two"], "--requests")
bad("unknown_option", lambda: [SAMPLE, "--svg=OUT", "--colour"], "--colour")
bad("no_trace_argument", lambda: ["--svg=OUT"], "TRACE.json")
bad("nothing_to_do", lambda: [SAMPLE], "--svg")
bad("unwritable_output", lambda: [SAMPLE, f"--svg={Path(TMP) / 'no' / 'dir.svg'}"],
    "cannot write")


@test
def help_exits_0():
    rc, so, se = run("--help")
    equal((rc, se), (0, ""), "exit status and stderr")
    for opt in ("--svg", "--text", "--requests", "--first", "--dev"):
        check(opt in so, f"--help does not mention {opt}")


# ---------------------------------------------------------------------------


def main():
    global TMP
    if not TOOL.is_file() or not SAMPLE.is_file():
        print(f"FAIL setup: {TOOL if not TOOL.is_file() else SAMPLE} not found")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="lguest-trace-test-") as tmp:
        TMP = tmp
        for fn in TESTS:
            try:
                fn()
                print(f"ok {fn.__name__}")
                passed += 1
            except Fail as e:
                print(f"FAIL {fn.__name__}: {e}")
                failed += 1
            except Exception as e:  # a bug in the test, or the tool hung
                print(f"FAIL {fn.__name__}: test raised {type(e).__name__}: {e}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
