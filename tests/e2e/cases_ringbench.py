"""cases_ringbench.py: build/ringbench, the three ring layouts alone (no VM):
every buffer comes back exactly once, in order, and the counters add up;
and build/ringbench-lines, which counts the cache lines of ring memory each
side touches per op (tests/bench/ringbench_lines.c says exactly how)."""
import shutil

from harness import case, expect, expect_rc, fail, require_ring_insns

OPS = 200000
LAYOUTS = ("draft3", "split", "packed")
NOTIFY = ("eventfd", "poll")
LINES_COLS = ("drv-lines/op", "dev-lines/op")

# 64-byte lines in each ring at the default --qsize=256: 6 pages for
# draft3, 6670 bytes for split, 4104 for packed.  No window can touch more.
RING_LINES = {"draft3": 6 * 4096 // 64, "split": -(-6670 // 64), "packed": -(-4104 // 64)}

# What one buffer alone (--ops=1, polling, so that no side ever goes to
# sleep and wakes) makes each side touch, slot 0 of each ring, qsize 256.
# With one op there is exactly one window per side.
ONE_OP_LINES = {
    # Driver: out.desc[0]; out.avail's first line (idx, ring[0]); the
    # out.avail flags word at the page's end (NO_SIGNAL, set while it
    # polls); out.used's first line (idx, ring[0]); the out.used flags
    # word (NO_NOTIFY, read when it publishes).  Device: the same five,
    # plus the in queue's avail and used flags: one signal and one
    # running flag serve both queues.
    "draft3": (5, 7),
    # desc[0] (line 0); avail flags, idx, ring[0] (line 64, at 4096);
    # used flags, idx, ring[0], and used_event, the last word of avail
    # (line 72, at 4608); and for the driver alone avail_event, the last
    # word of used (line 104), read when it publishes.
    "split": (4, 3),
    # desc[0] (line 0, written by the driver, read and written back by the
    # device), and both event suppression areas, just past the ring
    # (line 64, at 4096): the device reads the driver's to decide on a
    # signal, the driver the device's to decide on a NOTIFY.
    "packed": (2, 2),
}

# Lines every window must touch, whatever else it does: a window closes
# only once it completed an op, and an op cannot be done without them.
# Device: it read avail's index and a descriptor and wrote the used entry
# and index: three pages in draft3, three parts of the split ring (qsize
# 256 puts avail's index, any descriptor and used's index in different
# lines); in packed, a descriptor, and the driver's event area, which it
# reads after every push to decide on a signal.  Driver: it read the used
# index (draft3, split) or a used descriptor (packed); draft3 also checks
# the head's F_HEAD in the descriptor page.
WINDOW_MIN = {"draft3": (2, 3), "split": (1, 3), "packed": (1, 2)}


def _row(res, layout):
    """The table's row for LAYOUT, as {column: text}."""
    lines = [line.split() for line in res.out.splitlines() if line.strip()]
    expect(lines and lines[0][0] == "layout", "no header line", res)
    rows = [dict(zip(lines[0], fields)) for fields in lines[1:]
            if fields[0] == layout and len(fields) == len(lines[0])]
    expect(len(rows) == 1, f"expected one {layout} row, got {len(rows)}", res)
    return rows[0]


def _number(row, col, res):
    try:
        return float(row[col])
    except ValueError:
        fail(f"{col} is {row[col]!r}, not a number", res)


def _lines_only(res, layout):
    """ringbench-lines --lines-only's line for LAYOUT, as {key: number}."""
    lines = [line.split() for line in res.out.splitlines() if line.strip()]
    expect(len(lines) == 1 and lines[0][0] == layout, f"expected one {layout} line", res)
    return {k: float(v) for k, v in (kv.split("=", 1) for kv in lines[0][1:])}


@case("ringbench", boots=False, host_only=True,
      params=[(f"{layout}/{notify}", (layout, notify)) for layout in LAYOUTS for notify in NOTIFY])
def ringbench(t):
    """OPS one-segment buffers through one layout, batched by 8: exit 0,
    no buffer lost, duplicated or out of order, and per op at most one
    NOTIFY, at most one signal and exactly one descriptor; and each side
    touched some ring lines per op, but not absurdly many."""
    layout, notify = t.param
    res = t.run([t.build / "ringbench", f"--ring={layout}", f"--notify={notify}",
                 f"--ops={OPS}", "--batch=8"])
    expect_rc(res, 0)
    row = _row(res, layout)
    for col in ("lost", "dup", "order", "errors"):
        expect(row[col] == "0", f"{col} is {row[col]}, not 0", res)
    expect(int(row["ops"]) == OPS, f"ops is {row['ops']}, not {OPS}", res)
    expect(float(row["ops/s"]) > 0, f"ops/s is {row['ops/s']}", res)
    expect(0 <= float(row["kicks/op"]) <= 1, f"kicks/op is {row['kicks/op']}", res)
    expect(0 <= float(row["signals/op"]) <= 1, f"signals/op is {row['signals/op']}", res)
    # Printed with up to 10 significant digits, so one stray descriptor
    # in OPS would show.
    expect(float(row["descs/op"]) == 1.0, f"descs/op is {row['descs/op']}, not 1", res)
    expect(int(row["ring-bytes"]) > 0, f"ring-bytes is {row['ring-bytes']}", res)
    # ringbench-lines counts in lock-step rounds of --batch buffers: each
    # side touches some lines per round, at most the whole ring (and the
    # largest, draft3, has 384), so per op over 8-buffer rounds: above 0,
    # at most 48.  Counting bytes instead of lines, or memory that is not
    # the ring, would break the upper bound.
    for col in LINES_COLS:
        value = _number(row, col, res)
        expect(0 < value <= 48, f"{col} is {value}, not in (0, 48]", res)


@case("ringbench-lines", boots=False, host_only=True, params=[(layout, layout) for layout in LAYOUTS])
def ringbench_lines(t):
    """The lines/op figures count what they say: one buffer alone gives
    exactly the lines the layout puts its slot-0 entries, indices and
    event words in (ONE_OP_LINES), through ringbench's table; in longer
    runs there is one window per round, each touches at least the lines
    any op needs (WINDOW_MIN) and at most the whole ring, a second run
    gives the same figures, rounds of 16 need fewer lines per op than
    rounds of 1, and packed gives exactly what its layout implies."""
    layout = t.param
    res = t.run([t.build / "ringbench", f"--ring={layout}", "--ops=1", "--batch=1",
                 "--notify=poll"])
    expect_rc(res, 0)
    row = _row(res, layout)
    for col, want in zip(LINES_COLS, ONE_OP_LINES[layout]):
        expect(_number(row, col, res) == want, f"{col} is {row[col]}, not {want}", res)

    # Rounds of 16 share lines among their buffers: every layout and side
    # touches fewer lines per op than in rounds of 1.  The lock-step
    # schedule leaves nothing to timing, so a second run gives the same.
    ops = 4096
    per_op = {}
    for notify in NOTIFY:
        for batch in (1, 16):
            argv = [t.build / "ringbench-lines", "--lines-only", f"--ring={layout}",
                    f"--ops={ops}", f"--batch={batch}", f"--notify={notify}"]
            res = t.run(argv)
            expect_rc(res, 0)
            got = _lines_only(res, layout)
            for key in ("lost", "dup", "order", "errors"):
                expect(got[key] == 0, f"{key} is {got[key]}, not 0", res)
            expect(got["ops"] == ops, f"ops is {got['ops']}, not {ops}", res)
            for side, least in zip(("drv", "dev"), WINDOW_MIN[layout]):
                lines, windows = got[f"{side}-lines"], got[f"{side}-windows"]
                expect(windows == ops // batch, f"{side}: {windows} windows, expected one "
                       f"per round, {ops // batch}", res)
                expect(least * windows <= lines <= RING_LINES[layout] * windows,
                       f"{side}: {lines} lines over {windows} windows: not {least} to"
                       f" {RING_LINES[layout]} per window", res)
            again = t.run(argv)
            expect(again.out == res.out, f"{notify} batch={batch}: a second run gave "
                   f"{again.out.strip()!r}", res)
            per_op[(notify, batch)] = (got["drv-lines/op"], got["dev-lines/op"])
    for notify in NOTIFY:
        for side in (0, 1):
            one, sixteen = per_op[(notify, 1)][side], per_op[(notify, 16)][side]
            expect(sixteen < one, f"{notify}: {('drv', 'dev')[side]} lines/op {sixteen} "
                   f"in rounds of 16, not below {one} in rounds of 1", res)
    if layout == "packed":
        # Worked out in full: a round of B buffers from slot k touches the
        # lines holding descriptors k..k+B-1, the line of slot k+B (each
        # side looks at the next descriptor to see whether there is more)
        # and the line of both event areas.  Four descriptors to a line:
        # rounds of 1 need 2 lines, 3 when k is the last of its line (1 in
        # 4): 2.25 per op; rounds of 16, aligned, 4 + 1 + 1 = 6: 0.375.
        for notify in NOTIFY:
            expect(per_op[(notify, 1)] == (2.25, 2.25) and
                   per_op[(notify, 16)] == (0.375, 0.375),
                   f"packed {notify}: lines/op {per_op[(notify, 1)]} and "
                   f"{per_op[(notify, 16)]}, expected 2.25 and 0.375 per side", res)


@case("ringbench-lines-off", boots=False, host_only=True)
def ringbench_lines_off(t):
    """--lines=off leaves the lines/op columns out (-), and so does a
    ringbench whose ringbench-lines is missing, with a warning: neither
    is an error."""
    res = t.run([t.build / "ringbench", "--ops=1000", "--lines=off"])
    expect_rc(res, 0)
    for layout in LAYOUTS:
        row = _row(res, layout)
        for col in LINES_COLS:
            expect(row[col] == "-", f"{layout}: {col} is {row[col]}, not -", res)

    alone = t.tmp / "ringbench"
    shutil.copy(t.build / "ringbench", alone)
    res = t.run([alone, "--ops=1000"])
    expect_rc(res, 0)
    for layout in LAYOUTS:
        row = _row(res, layout)
        for col in LINES_COLS:
            expect(row[col] == "-", f"{layout}: {col} is {row[col]}, not -", res)
    expect(len(res.err_lines) == 1 and "ringbench-lines" in res.err_lines[0],
           "expected one warning about ringbench-lines", res)


# Instructions per buffer of the ring code (driver and device together),
# ringtest's workload, polling, one buffer per round: callgrind's counts
# are exact, and the same on every run of the same build, so a rise is a
# regression with a number, not noise.  The ceilings are where the code
# stands, a little above; they come down as the hot paths get cheaper.
# Linux's tools/virtio/ringtest, which checks nothing, takes 101 (split,
# virtio_ring_0_9) and 81 (packed-style, ring.c) counted the same way, and
# its split ring with our rules added 180: docs/ringtest.md.  (gcc 12.2,
# Debian's, at -O2: another compiler may need its own numbers.)
INSNS_CEILING = {"draft3": 244, "split": 266, "packed": 266}
INSNS_COLS = ("insns/buf", "drv-insns/buf", "dev-insns/buf", "glue-insns/buf")
# The ring API's operations, each of which a round of ringtest's workload
# calls at least once (the by-operation table; ringbench_insns.c).
INSNS_OPS = ("add", "publish", "pop", "push", "signal", "reap")


def _op_row(res, layout):
    """The by-operation table's row for LAYOUT, as {column: number}."""
    lines = res.out.splitlines()
    title = [i for i, line in enumerate(lines) if line.startswith("insns/buf by operation")]
    expect(len(title) == 1, "no by-operation table after the main one", res)
    table = [line.split() for line in lines[title[0] + 1:] if line.strip()]
    expect(table and table[0][0] == "layout", "the by-operation table has no header", res)
    rows = [dict(zip(table[0], fields)) for fields in table[1:] if fields[0] == layout]
    expect(len(rows) == 1 and len(rows[0]) == len(table[0]),
           f"expected one whole {layout} row in the by-operation table", res)
    return {col: _number(rows[0], col, res) for col in table[0][1:]}


@case("ringbench-insns", boots=False, host_only=True, params=[(layout, layout) for layout in LAYOUTS])
def ringbench_insns(t):
    """--insns counts the ring code's instructions per buffer under
    callgrind: each side's is a plausible number (a parser reading the
    wrong field would give 0 or millions), the two add up to insns/buf,
    the harness's is counted apart, the by-operation table has every
    operation of the round and adds up to the same total, a second run
    gives exactly the same, and the ring code stays under its ceiling
    (INSNS_CEILING)."""
    layout = t.param
    require_ring_insns(t)
    argv = [t.build / "ringbench", f"--ring={layout}", "--notify=poll", "--batch=1",
            "--workload=ringtest", "--ops=20000", "--lines=off", "--insns"]
    res = t.run(argv)
    expect_rc(res, 0)
    row = _row(res, layout)
    got = {col: _number(row, col, res) for col in INSNS_COLS}
    for col in ("drv-insns/buf", "dev-insns/buf", "glue-insns/buf"):
        expect(10 <= got[col] <= 5000, f"{col} is {got[col]}, not in [10, 5000]", res)
    expect(abs(got["drv-insns/buf"] + got["dev-insns/buf"] - got["insns/buf"]) <= 0.1,
           f"drv {got['drv-insns/buf']} + dev {got['dev-insns/buf']} is not insns/buf "
           f"{got['insns/buf']}", res)
    ops = _op_row(res, layout)
    for op in INSNS_OPS:
        expect(1 <= ops[op] <= 1000, f"{op} takes {ops[op]} instructions per buffer, "
               "not in [1, 1000]", res)
    total = sum(v for k, v in ops.items() if k != "insns/buf")
    # Each figure is printed rounded to 0.1: eight of them may be 0.4 apart.
    expect(abs(total - got["insns/buf"]) <= 0.5 and ops["insns/buf"] == got["insns/buf"],
           f"the operations add up to {total:.1f}, not insns/buf {got['insns/buf']}", res)
    res2 = t.run(argv)
    again = _row(res2, layout)
    for col in INSNS_COLS:
        expect(again[col] == row[col], f"{col}: {row[col]}, then {again[col]} on a second "
               "run of the same build", res)
    expect(_op_row(res2, layout) == ops, "the by-operation table changed on a second run "
           "of the same build", res)
    expect(got["insns/buf"] <= INSNS_CEILING[layout],
           f"the {layout} ring code takes {got['insns/buf']} instructions per buffer "
           f"(driver {got['drv-insns/buf']}, device {got['dev-insns/buf']}), above its "
           f"ceiling of {INSNS_CEILING[layout]}", res)


@case("ringbench-ringtest-workload", boots=False, host_only=True,
      params=[(f"{layout}/{notify}", (layout, notify)) for layout in LAYOUTS for notify in NOTIFY])
def ringbench_ringtest_workload(t):
    """--workload=ringtest (one buffer, nothing written into it or checked
    but its token) runs every layout, threaded and in lock-step, and
    every buffer comes back exactly once."""
    layout, notify = t.param
    for mode in ([], ["--lockstep"]):
        res = t.run([t.build / "ringbench", f"--ring={layout}", f"--notify={notify}",
                     f"--ops={OPS}", "--batch=4", "--workload=ringtest", "--lines=off"] + mode)
        expect_rc(res, 0)
        row = _row(res, layout)
        for col in ("lost", "dup", "errors"):
            expect(row[col] == "0", f"{' '.join(mode)}: {col} is {row[col]}, not 0", res)
        expect(int(row["ops"]) == OPS, f"{' '.join(mode)}: ops is {row['ops']}, not {OPS}", res)
