"""cases_ringbench.py: build/ringbench, the three ring layouts alone (no VM):
every buffer comes back exactly once, in order, and the counters add up."""
from harness import case, expect, expect_rc

OPS = 200000
LAYOUTS = ("draft3", "split", "packed")
NOTIFY = ("eventfd", "poll")


def _row(res, layout):
    """The table's row for LAYOUT, as {column: text}."""
    lines = [line.split() for line in res.out.splitlines() if line.strip()]
    expect(lines and lines[0][0] == "layout", "no header line", res)
    rows = [dict(zip(lines[0], fields)) for fields in lines[1:]
            if fields[0] == layout and len(fields) == len(lines[0])]
    expect(len(rows) == 1, f"expected one {layout} row, got {len(rows)}", res)
    return rows[0]


@case("ringbench", kvm=False,
      params=[(f"{layout}/{notify}", (layout, notify)) for layout in LAYOUTS for notify in NOTIFY])
def ringbench(t):
    """OPS one-segment buffers through one layout, batched by 8: exit 0,
    no buffer lost, duplicated or out of order, and per op at most one
    NOTIFY, at most one signal and exactly one descriptor."""
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
