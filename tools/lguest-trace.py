#!/usr/bin/env python3
"""lguest-trace: draw the requests of an lguest trace as a sequence diagram.

    lguest-trace TRACE.json --svg=OUT.svg [--requests=N] [--first=REQ] [--dev=NAME]
    lguest-trace TRACE.json --text [--requests=N] [--first=REQ] [--dev=NAME]

TRACE.json is what `lguest --trace-file=TRACE.json` writes (the format is
docs/trace-format.md).  The diagram has three lifelines, the driver (guest),
the ring memory they share and the device (launcher); each step of a request
is an arrow between them, in the order of the trace, top to bottom, with its
timestamp in the left margin.  --text prints the same steps, one line each.

Python 3 standard library only.  Bad input prints one line on stderr and
exits 1.
"""
import argparse
import bisect
import json
import math
import os
import sys

PROG = "lguest-trace"

# ---------------------------------------------------------------------------
# Reading the trace


class TraceError(Exception):
    """A problem with the input or the command line: one line, exit 1."""


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def as_int(v):
    """A req or flow id as an int, or None: 3, 3.0 and "3" (or "0x3") all give 3."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return None
    return None


class Step:
    """One step event ("ph": "X", "cat": "ring")."""

    __slots__ = ("pos", "ord", "ts", "dur", "pid", "tid", "name", "args", "side", "dev",
                 "queue", "ring", "req")

    def __init__(self, pos, ev, args):
        self.pos = pos                          # position in traceEvents
        self.ord = 0                            # position in time order
        self.ts = float(ev["ts"])
        dur = ev.get("dur")
        self.dur = float(dur) if is_number(dur) and dur > 0 else 0.0
        self.pid = ev.get("pid")
        self.tid = ev.get("tid")
        name = args.get("step")
        if not isinstance(name, str):
            name = ev.get("name")
        self.name = name if isinstance(name, str) else "?"
        self.args = args
        self.side = args.get("side") if args.get("side") in ("driver", "device") else (
            "driver" if self.pid == 1 else "device")
        self.dev = args.get("dev") if isinstance(args.get("dev"), str) else None
        self.queue = args.get("queue") if isinstance(args.get("queue"), str) else None
        self.ring = args.get("ring") if isinstance(args.get("ring"), str) else None
        self.req = as_int(args.get("req"))


class Request:
    def __init__(self, num):
        self.num = num
        self.own = []       # steps carrying args.req == num, in time order
        self.dev = self.queue = self.ring = None
        self.id = None

    def describe(self):
        where = self.dev or "?"
        if self.queue:
            where += "/" + self.queue
        return f"{where} id {fmt(self.id)}"


class Trace:
    def __init__(self, path):
        self.path = path
        data = load_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
            raise TraceError(f"{path} has no traceEvents list: not an lguest trace "
                             "(see docs/trace-format.md)")
        other = data.get("otherData")
        self.other = other if isinstance(other, dict) else {}
        self.devices = {}
        devs = self.other.get("devices")
        for d in devs if isinstance(devs, list) else []:
            if isinstance(d, dict) and isinstance(d.get("name"), str):
                self.devices[d["name"]] = d

        self.steps = []
        flows = {}
        for pos, ev in enumerate(data["traceEvents"]):
            if not isinstance(ev, dict) or not is_number(ev.get("ts")):
                continue
            ph, cat = ev.get("ph"), ev.get("cat")
            if ph == "X" and cat == "ring" and isinstance(ev.get("args"), dict):
                self.steps.append(Step(pos, ev, ev["args"]))
            elif ph in ("s", "t", "f") and cat == "flow":
                fid = as_int(ev.get("id"))
                if fid is not None:
                    flows.setdefault(fid, []).append(ev)
        self.steps.sort(key=lambda s: (s.ts, s.pos))
        for i, s in enumerate(self.steps):
            s.ord = i

        # Steps per (pid, tid) track, for binding flow events to them.
        self.tracks = {}
        for s in self.steps:
            self.tracks.setdefault((s.pid, s.tid), []).append(s)
        self.track_ts = {k: [s.ts for s in v] for k, v in self.tracks.items()}
        # Steps per (dev, name), for the step order rule.
        self.by_name = {}
        for s in self.steps:
            self.by_name.setdefault((s.dev, s.name), []).append(s)
        self.by_name_ord = {k: [s.ord for s in v] for k, v in self.by_name.items()}

        self.requests = {}
        for s in self.steps:
            if s.req is None:
                continue
            r = self.requests.get(s.req)
            if r is None:
                r = self.requests[s.req] = Request(s.req)
            r.own.append(s)
        for r in self.requests.values():
            first = next((s for s in r.own if s.name == "add"), r.own[0])
            r.dev, r.queue, r.ring = first.dev, first.queue, first.ring
            r.id = first.args.get("id")
        self.flows = flows

    # -- which steps belong to a request ------------------------------------

    def bind(self, fev):
        """The step a flow event is bound to: on its pid/tid, the step
        enclosing its ts (the latest one starting at or before it)."""
        key = (fev.get("pid"), fev.get("tid"))
        track = self.tracks.get(key)
        if not track:
            return None
        ts = float(fev["ts"])
        eps = 1e-6
        i = bisect.bisect_right(self.track_ts[key], ts + eps)
        for s in reversed(track[max(0, i - 8):i]):
            if s.ts - eps <= ts <= s.ts + s.dur + eps:
                return s
        return None

    def first_after(self, dev, name, after, queue=None):
        """The first step @name of @dev after step @after (in time order)."""
        lst = self.by_name.get((dev, name))
        if not lst or after is None:
            return None
        i = bisect.bisect_right(self.by_name_ord[(dev, name)], after.ord)
        for s in lst[i:]:
            if queue is None or s.queue == queue:
                return s
        return None

    def steps_of(self, r):
        """The steps of request @r, in time order: its own (args.req), those
        its flow passes through, and the publish that made its add visible.
        Without a flow, the device-wide steps come from the step order rule
        of docs/trace-format.md."""
        steps = {s.ord: s for s in r.own}
        add = next((s for s in r.own if s.name == "add"), None)
        if r.num in self.flows:
            for fev in self.flows[r.num]:
                s = self.bind(fev)
                if s is not None:
                    steps[s.ord] = s
        else:
            notify = self.first_after(r.dev, "notify", add)
            if notify is not None:
                steps[notify.ord] = notify
                # A kick answers a NOTIFY that was sent; after a suppressed
                # one, the next kick is some later request's.
                if notify.args.get("sent") is not False:
                    kick = self.first_after(r.dev, "kick", notify)
                    if kick is not None:
                        steps[kick.ord] = kick
            used = next((s for s in r.own if s.name == "used"), None)
            signal = self.first_after(r.dev, "signal", used)
            if signal is not None:
                steps[signal.ord] = signal
                if signal.args.get("sent") is not False:
                    taken = self.first_after(r.dev, "signal-taken", signal)
                    if taken is not None:
                        steps[taken.ord] = taken
        if add is not None and not any(s.name == "publish" for s in steps.values()):
            pub = self.first_after(r.dev, "publish", add, queue=r.queue)
            if pub is not None:
                steps[pub.ord] = pub
        return [steps[k] for k in sorted(steps)]


def load_json(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise TraceError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return json.loads(raw)
    except RecursionError:
        raise TraceError(f"{path} is not JSON (nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TraceError(f"{path} is not JSON ({msg})") from None


# ---------------------------------------------------------------------------
# Labels


def fmt(v):
    if v is None:
        return "?"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if math.isfinite(v) and v == int(v) else f"{v:g}"
    if isinstance(v, (int, str)):
        return str(v)
    return json.dumps(v)


def desc_list(step):
    descs = step.args.get("descs")
    if not isinstance(descs, list):
        return None
    out = []
    for d in descs:
        if not isinstance(d, dict):
            out.append("?")
            continue
        addr = d.get("addr")
        addr = f"0x{addr:x}" if isinstance(addr, int) and not isinstance(addr, bool) else fmt(addr)
        t = f"{fmt(d.get('dir'))} {fmt(d.get('len'))}@{addr}"
        if d.get("indirect") is True:
            t += " (ind)"
        out.append(t)
    return out


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def label(step, unit="µs"):
    """The one-line description of a step."""
    a, n = step.args, step.name
    descs = desc_list(step)
    if n == "add":
        what = plural(len(descs), "desc") if descs is not None else f"{fmt(a.get('len'))} bytes"
        return f"add id {fmt(a.get('id'))}: {what}"
    if n == "publish":
        t = f"publish idx {fmt(a.get('idx'))}"
        if is_number(a.get("count")) and a["count"] != 1:
            t += f" ({plural(int(a['count']), 'buffer')})"
        return t
    if n == "notify":
        return "NOTIFY" if a.get("sent") is not False else "NOTIFY suppressed"
    if n == "kick":
        t = f"kick via {fmt(a.get('path'))}"
        if is_number(a.get("count")) and a["count"] != 1:
            t += f" (count {fmt(a['count'])})"
        return t
    if n == "pop":
        size = f"{fmt(a.get('len'))} bytes"
        if descs is not None:
            size = f"{plural(len(descs), 'desc')}, {size}"
        return f"pop id {fmt(a.get('id'))} ({size})"
    if n == "io":
        return f"I/O {fmt(a.get('len'))} bytes, status {fmt(a.get('status'))}"
    if n == "used":
        return f"used id {fmt(a.get('id'))}, len {fmt(a.get('len'))}, idx {fmt(a.get('idx'))}"
    if n == "signal":
        if a.get("sent") is not False:
            return "signal"
        why = a.get("why")
        return f"signal suppressed: {fmt(why)}" if why not in (None, "") else "signal suppressed"
    if n == "signal-taken":
        return "signal taken"
    if n == "reap":
        t = f"reap id {fmt(a.get('id'))}, {fmt(a.get('len'))} bytes"
        if is_number(a.get("latency_us")):
            t += f", {a['latency_us']:.1f} {unit}"
        return t
    skip = {"side", "dev", "queue", "ring", "step", "req"}
    rest = ", ".join(f"{k} {fmt(v)}" for k, v in a.items() if k not in skip)
    return f"{n} {rest}" if rest else n


def suppressed(step):
    return step.name in ("notify", "signal") and step.args.get("sent") is False


# ---------------------------------------------------------------------------
# Text output


def render_text(trace, reqs, out):
    unit = "µs"
    try:
        unit.encode(out.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        unit = "us"
    blocks = []
    for r in reqs:
        lines = [f"request {r.num}: {r.describe()} ({r.ring or '?'})"]
        for s in trace.steps_of(r):
            t = label(s, unit)
            d = desc_list(s) if s.name == "add" else None
            if d:
                t += " [" + ", ".join(d) + "]"
            lines.append(f"  {s.ts:10.1f} {unit}  {s.side:<6}  {t}")
        blocks.append("\n".join(lines) + "\n")
    out.write("\n".join(blocks))


# ---------------------------------------------------------------------------
# SVG output

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
CHAR_W = 7.25            # advance of a 12px monospace glyph (0.6 em), roughly
LINE_H = 15
DRIVER_X, RING_X, DEVICE_X = 230, 610, 990
TS_X = 96                # right edge of the timestamps
WIDTH = DEVICE_X + 135
PALETTE = ["#1f5fa8", "#c0392b", "#2e8b3a", "#8e44ad", "#d35400",
           "#16808a", "#a0522d", "#c71585", "#6b6b00", "#34495e"]
SHARED = "#555555"
DESC_WRAP = 48           # characters per descriptor line
MAX_LABEL = 64           # characters per label line before "…"

RING_NOTES = {
    "draft3": "in and out queues: desc, avail and used pages",
    "split": "descriptor table, available ring, used ring",
    "packed": "one descriptor ring with wrap counters",
}


def xml_text(s):
    """Text safe in an XML 1.0 element or attribute: escaped, and without
    the control characters XML cannot carry at all."""
    s = "".join(c if c in "\t\n" or (c >= " " and not "\ud800" <= c <= "\udfff"
                                     and c not in "\ufffe\uffff") else "\ufffd" for c in s)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def clip(s, n=MAX_LABEL):
    return s if len(s) <= n else s[:n - 1] + "…"


def wrap_list(items, width=DESC_WRAP):
    lines, cur = [], ""
    for i, it in enumerate(items):
        piece = it + ("," if i < len(items) - 1 else "")
        if cur and len(cur) + 1 + len(piece) > width:
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}" if cur else piece
    if cur:
        lines.append(cur)
    return lines


class Svg:
    def __init__(self):
        self.parts = []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, cls, anchor="start", size=12, fill="#000", weight=None, halo=False):
        s = clip(s, 200) if cls != "label" else clip(s)
        if halo:
            w = len(s) * CHAR_W * size / 12 + 4
            x0 = {"start": x - 2, "middle": x - w / 2, "end": x - w + 2}[anchor]
            self.add(f'<rect class="halo" x="{x0:.1f}" y="{y - size + 1:.1f}" width="{w:.1f}" '
                     f'height="{size + 3}" fill="#ffffff" fill-opacity="0.85"/>')
        extra = f' font-weight="{weight}"' if weight else ""
        self.add(f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
                 f'font-size="{size}" fill="{fill}"{extra}>{xml_text(s)}</text>')

    def line(self, x1, y1, x2, y2, colour, marker=None, dashed=False, width=1.5):
        extra = f' marker-end="url(#{marker})"' if marker else ""
        if dashed:
            extra += ' stroke-dasharray="6,4"'
        self.add(f'<line class="arrow" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{colour}" stroke-width="{width}"{extra}/>')


def header_lines(trace, reqs):
    nums = [r.num for r in reqs]
    shown = ", ".join(f"#{n}" for n in nums[:12]) + (", …" if len(nums) > 12 else "")
    lines = [(f"lguest trace: request{'s' if len(nums) > 1 else ''} {shown}", True),
             (f"{os.path.basename(trace.path)}: {plural(len(trace.requests), 'request')} in the trace; "
              "time runs down, in step order (not to scale)", False)]
    devs = []
    for r in reqs:
        if r.dev not in devs:
            devs.append(r.dev)
    for name in devs:
        d = trace.devices.get(name)
        if d is not None:
            ring = d.get("ring") if isinstance(d.get("ring"), str) else "?"
            queues = d.get("queues") if isinstance(d.get("queues"), list) else []
            qs = ", ".join(fmt(q) for q in queues) or "?"
            t = (f"{name}: {ring} ring ({RING_NOTES.get(ring, 'unknown layout')}); "
                 f"queue{'s' if len(queues) != 1 else ''} {qs}; device index {fmt(d.get('index'))}")
        else:
            ring = next((r.ring for r in reqs if r.dev == name and r.ring), "?")
            t = f"{fmt(name)}: {ring} ring (not listed in otherData.devices)"
        lines.append((t, False))
    dropped = [(k.split("_")[0], trace.other.get(k)) for k in ("guest_dropped", "launcher_dropped")]
    dropped = [f"{v} {who}" for who, v in dropped if is_number(v) and v > 0]
    if dropped:
        lines.append(("note: events were dropped (" + ", ".join(dropped) +
                      "): some steps may be missing", False))
    return lines


def render_svg(trace, reqs):
    colour_of = {r.num: PALETTE[i % len(PALETTE)] for i, r in enumerate(reqs)}
    owners = {}
    for r in reqs:
        for s in trace.steps_of(r):
            owners.setdefault(s.ord, (s, []))[1].append(r.num)
    rows = [owners[k] for k in sorted(owners)]
    by_num = {r.num: r for r in reqs}

    devs = {r.dev for r in reqs}
    scopes = {(r.dev, r.queue) for r in reqs}

    def prefix(s):
        if len(devs) > 1:
            return f"{s.dev}/{s.queue}: " if s.queue else f"{s.dev}: "
        if len(scopes) > 1 and s.queue:
            return f"{s.queue}: "
        return ""

    def colour(nums):
        return colour_of[nums[0]] if len(nums) == 1 else SHARED

    body = Svg()
    y = 28
    for text, bold in header_lines(trace, reqs):
        body.text(16, y, text, "header", size=14 if bold else 12,
                  weight="bold" if bold else None)
        y += 22 if bold else 17
    if len(reqs) > 1:
        y += 4
        legend = [(colour_of[r.num], f"#{r.num} {r.describe()} ({r.ring or '?'})") for r in reqs]
        if any(len(n) > 1 for _, n in rows):
            legend.append((SHARED, "a step of several of these requests"))
        for i, (c, text) in enumerate(legend):
            lx = 16 + (i % 2) * 520
            body.add(f'<rect class="swatch" x="{lx}" y="{y - 10}" width="12" height="12" fill="{c}"/>')
            body.text(lx + 18, y, text, "legend", fill=c)
            if i % 2 == 1 or i == len(legend) - 1:
                y += 17
    y += 12

    # Lane titles and lifelines.
    layouts = []
    for r in reqs:
        if r.ring and r.ring not in layouts:
            layouts.append(r.ring)
    lanes = [(DRIVER_X, "driver (guest)", "pid 1: the guest kernel"),
             (RING_X, "ring memory", "guest pages: " + (", ".join(layouts) or "?")),
             (DEVICE_X, "device (launcher)", "pid 2: the launcher")]
    box_top = y
    for x, title, sub in lanes:
        body.add(f'<rect class="lane" x="{x - 115}" y="{box_top}" width="230" height="42" '
                 f'rx="4" fill="#f3f3f3" stroke="#333333"/>')
        body.text(x, box_top + 18, title, "lane-title", anchor="middle", size=13, weight="bold")
        body.text(x, box_top + 34, sub, "lane-sub", anchor="middle", size=11, fill="#444444")
    life_top = box_top + 42
    y = life_top + 8

    lifeline_at = len(body.parts)   # lifelines go under the arrows: inserted here later
    markers = {}

    def marker(c):
        if c not in markers:
            markers[c] = f"arrow{len(markers)}"
        return markers[c]

    for s, nums in rows:
        c = colour(nums)
        main = prefix(s) + label(s)
        if len(nums) > 1:
            main += "  [" + ", ".join(f"#{n}" for n in nums) + "]"
        extra = wrap_list(desc_list(s)) if s.name == "add" and desc_list(s) else []
        n_lines = 1 + len(extra)
        y += 6 + LINE_H * n_lines
        ay = y                                   # the arrow's y
        title = (", ".join(f"#{n} {by_num[n].describe()}" for n in nums) +
                 f": {s.side} {s.name} at {s.ts:.3f} µs\n" + json.dumps(s.args, sort_keys=True))
        classes = " ".join(["step", "step-" + s.name] + [f"r{n}" for n in nums])
        body.add(f'<g class="{xml_text(classes)}">')
        body.add(f"<title>{xml_text(title)}</title>")
        body.text(TS_X, ay + 4, f"{s.ts:.1f} µs", "ts", anchor="end", fill="#555555")
        dashed = suppressed(s)
        on_top = []                               # drawn over the labels' halos
        # Where the arrow goes, and where its label sits (x, anchor).
        kind = {"add": (DRIVER_X, RING_X), "publish": (DRIVER_X, RING_X),
                "notify": (DRIVER_X, DEVICE_X), "pop": (RING_X, DEVICE_X),
                "used": (DEVICE_X, RING_X), "signal": (DEVICE_X, DRIVER_X),
                "reap": (RING_X, DRIVER_X)}.get(s.name)
        if kind is not None:
            x1, x2 = kind
            if s.name == "notify":
                lx, anchor = DRIVER_X + 12, "start"
            elif s.name == "signal":
                lx, anchor = DEVICE_X - 12, "end"
            else:
                lx, anchor = (x1 + x2) / 2, "middle"
            body.line(x1, ay, x2 - (2 if x2 > x1 else -2), ay, c, marker(c), dashed)
        elif s.name == "kick":
            # A "found message": it arrives at the device from outside the
            # picture (KVM's ioeventfd, or the vCPU loop after an exit).
            x0 = DEVICE_X - 260
            body.line(x0, ay, DEVICE_X - 2, ay, c, marker(c))
            on_top.append(f'<circle class="found" cx="{x0}" cy="{ay}" r="4" fill="{c}"/>')
            lx, anchor = DEVICE_X - 12, "end"
        elif s.name == "io":
            body.add(f'<path class="arrow" d="M{DEVICE_X},{ay - 12} h40 v12 h-38" fill="none" '
                     f'stroke="{c}" stroke-width="1.5" marker-end="url(#{marker(c)})"/>')
            lx, anchor = DEVICE_X - 12, "end"
            ay -= 6                               # label just above the loop's middle
        else:
            # signal-taken and anything else: a mark on its side's lifeline.
            x = DRIVER_X if s.side == "driver" else DEVICE_X
            body.add(f'<circle class="mark" cx="{x}" cy="{ay}" r="5" fill="#ffffff" '
                     f'stroke="{c}" stroke-width="2"/>')
            lx, anchor = (x + 12, "start") if s.side == "driver" else (x - 12, "end")
            ay += 4 + 5 + LINE_H * (n_lines - 1)  # label beside the mark, not above it
        ly = ay - 5 - LINE_H * (n_lines - 1)
        body.text(lx, ly, main, "label", anchor=anchor, fill=c, halo=True)
        for i, t in enumerate(extra):
            body.text(lx, ly + LINE_H * (i + 1) - 1, t, "desc", anchor=anchor, size=11,
                      fill=c, halo=True)
        body.parts += on_top
        body.add("</g>")
        y += 16
    bottom = y + 10
    lifelines = [f'<line class="lifeline" x1="{x}" y1="{life_top}" x2="{x}" y2="{bottom}" '
                 f'stroke="#999999" stroke-width="1" stroke-dasharray="4,4"/>' for x, _, _ in lanes]
    body.parts[lifeline_at:lifeline_at] = lifelines
    height = bottom + 16

    head = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" '
            f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" '
            'font-size="12">',
            f"<title>{xml_text('lguest trace: ' + os.path.basename(trace.path))}</title>",
            "<defs>"]
    for c, mid in markers.items():
        head.append(f'<marker id="{mid}" viewBox="0 0 10 10" refX="10" refY="5" '
                    'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" '
                    f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>')
    head.append("</defs>")
    head.append(f'<rect class="background" x="0" y="0" width="{WIDTH}" height="{height}" '
                'fill="#ffffff"/>')
    return "\n".join(head + body.parts + ["</svg>"]) + "\n"


# ---------------------------------------------------------------------------
# Command line


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise TraceError(f"{message} (see --help)")


def positive(v):
    try:
        n = int(v, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {v!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {v!r}")
    return n


def integer(v):
    try:
        return int(v, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a request number: {v!r}") from None


def select(trace, args):
    if not trace.requests:
        raise TraceError(f"{trace.path} has no requests (no step event carries args.req)")
    reqs = [trace.requests[k] for k in sorted(trace.requests)]
    if args.dev is not None:
        reqs = [r for r in reqs if r.dev == args.dev]
        if not reqs:
            have = sorted({r.dev for r in trace.requests.values() if r.dev})
            raise TraceError(f"no request in {trace.path} is on device {args.dev!r} "
                             f"(requests are on: {', '.join(have) or 'no named device'})")
    if args.first is not None:
        later = [r for r in reqs if r.num >= args.first]
        if not later:
            raise TraceError(f"no request numbered {args.first} or above in {trace.path}"
                             + (f" on {args.dev}" if args.dev is not None else "")
                             + f" (they run {reqs[0].num}..{reqs[-1].num})")
        reqs = later
    return reqs[:args.requests]


def main(argv):
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog="See docs/lguest-trace.md.")
    ap.add_argument("trace", metavar="TRACE.json", help="a trace from lguest --trace-file")
    ap.add_argument("--svg", metavar="OUT.svg", help="write the sequence diagram here (- for stdout)")
    ap.add_argument("--text", action="store_true", help="print each request's steps to stdout")
    ap.add_argument("--requests", metavar="N", type=positive, default=1,
                    help="how many requests (default 1)")
    ap.add_argument("--first", metavar="REQ", type=integer,
                    help="start at request number REQ (default: the first in the trace)")
    ap.add_argument("--dev", metavar="NAME", help="only requests on this device, e.g. blk0")
    args = ap.parse_args(argv)
    if args.svg is None and not args.text:
        raise TraceError("nothing to do: give --svg=OUT.svg and/or --text (see --help)")

    trace = Trace(args.trace)
    reqs = select(trace, args)
    if args.svg is not None:
        svg = render_svg(trace, reqs)
        if args.svg == "-":
            sys.stdout.buffer.write(svg.encode("utf-8"))
            sys.stdout.flush()
        else:
            try:
                with open(args.svg, "w", encoding="utf-8") as f:
                    f.write(svg)
            except OSError as e:
                raise TraceError(f"cannot write {args.svg}: {e.strerror or e}") from None
    if args.text:
        render_text(trace, reqs, sys.stdout)
        sys.stdout.flush()
    return 0


def entry():
    try:
        return main(sys.argv[1:])
    except TraceError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (| head): say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug here, or input we did not foresee: still one line
        msg = str(e).splitlines()[0] if str(e) else ""
        print(f"{PROG}: internal error: {type(e).__name__}: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(entry())
