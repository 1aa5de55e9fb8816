"""cases_engines.py: the block cases that check data, FLUSH and zero copy,
again with each way the launcher can serve a disk (--block=...,aio=,
poll=, queues=): the io_uring engine is the default, so every other case
runs on it; here the worker pool, one request at a time, the polling
window and multi-queue devices get the same checks.  Then a look at each
setting's own counters, and the crash cases (write, FLUSH, kill, check the
image) with requests in flight on the host."""
import functools

import cases_block
import cases_crash
import cases_errors
from harness import case, expect, expect_rc

# label -> what each --block gets.  Multi-queue is split and packed only:
# a draft III device has one pair of queues by design.
ENGINES = [
    ("threads", "aio=threads"),
    ("sync", "aio=sync"),
    ("poll", "poll=50"),
    ("mq2", "queues=2"),
    ("mq4", "queues=4"),
    ("mq4-threads", "queues=4,aio=threads"),
]
MODERN = ("split", "packed")

# The cases run again under each setting: bytes on the image, CRCs of what
# is read, FLUSH reaching fdatasync, 64 in flight, zero copy, and a guest
# breaking a rule on one disk while the other carries on.
CHECKS = [
    ("blkwrite", cases_block.blkwrite),
    ("blkwrite-large", cases_block.blkwrite_large),
    ("blkread-crc", cases_block.blkread_crc),
    ("flush-fdatasync", cases_block.flush_fdatasync),
    ("blkbench-flush", cases_block.blkbench_flush),
    ("queue-depth-64", cases_block.queue_depth_64),
    ("zero-copy", cases_block.zero_copy),
    ("misbehave-other-disk-lives", cases_errors.misbehave_other_disk),
]


def _with(setting, fn):
    @functools.wraps(fn)
    def run(t):
        t.blk_extra = setting
        return fn(t)
    return run


for _label, _setting in ENGINES:
    _layouts = MODERN if "queues=" in _setting else True
    for _name, _fn in CHECKS:
        if _name == "misbehave-other-disk-lives" and "queues=" in _setting:
            _layouts = MODERN
        case(f"engine/{_label}/{_name}", layouts=_layouts)(_with(_setting, _fn))
    # Write, FLUSH, SIGKILL, and every flushed write is on the image.
    case(f"engine/{_label}/crash", layouts=_layouts)(_with(_setting, cases_crash.kill_launcher))


@case("engine/counters", params=[(label, setting) for label, setting in ENGINES],
      layouts=MODERN)
def engine_counters(t):
    """-v says which engine served the disk and how many requests it took;
    the polling window counts windows that found work or ran out; a
    multi-queue device spreads the guest's requests over every queue."""
    setting = t.param
    img, _ = t.raw_image()
    t.blk_extra = setting
    res, stats = t.boot_stats("blkinfo; blkbench randread bs=4K qd=32 count=2000",
                              blocks=[img])
    b = stats.blk["blk0"]
    want = "threads" if "threads" in setting else "sync" if "sync" in setting else "io_uring"
    if want == "io_uring" and any("io_uring is not available here" in m
                                  for m in stats.messages):
        want = "threads"  # the default's fallback, which -v explained
    expect(b["aio"] == want, f"aio={b['aio']}, expected {want}", res)
    expect(b["submitted"] >= 2000, f"{b['submitted']} submitted, expected >= 2000", res)
    if "poll=" in setting:
        expect(b["poll_us"] == 50 and b["polls_found"] + b["polls_expired"] > 0,
               f"poll window {b['poll_us']} us: {b['polls_found']} found, "
               f"{b['polls_expired']} expired", res)
    else:
        expect(b["poll_us"] == 0 and b["polls_found"] == b["polls_expired"] == 0,
               f"no polling asked, yet {b}", res)
    nq = int(setting.split("queues=")[1].split(",")[0]) if "queues=" in setting else 1
    if nq > 1:
        expect(f"blk0: {nq} request queues\n" in res.out,
               f"blkinfo does not say '{nq} request queues'", res)
    else:
        expect("request queues" not in res.out, "a one-queue disk reports queues", res)


@case("engine/mq-json", layouts=MODERN)
def engine_mq_json(t):
    """With queues=4, --stats-json lists four request queues, each of which
    carried a share of 4000 reads, and the engine's parallelism counts all
    four."""
    import json
    img, _ = t.raw_image()
    out = t.path("s.json")
    t.blk_extra = "queues=4"
    res = t.boot("blkbench randread bs=4K qd=32 count=4000", blocks=[img],
                 opts=[f"--stats-json={out}"], verbose=True)
    expect_rc(res, 0)
    blk = next(d for d in json.loads(out.read_text())["devices"] if d["name"] == "blk0")
    qs = [(q["name"], q["popped"]) for q in blk["queues"]]
    expect([n for n, _ in qs] == ["requestq", "requestq1", "requestq2", "requestq3"],
           f"queues {qs}", res)
    expect(all(p >= 500 for _, p in qs) and sum(p for _, p in qs) >= 4000,
           f"requests per queue {qs}: expected each >= 500, all >= 4000", res)
    fallback = any("io_uring is not available here" in line for line in res.err_lines)
    want = ("threads", 4 * 4) if fallback else ("io_uring", 4 * 64)
    expect((blk["aio"], blk["aio_parallelism"]) == want,
           f"aio {blk['aio']}, parallelism {blk['aio_parallelism']}, expected {want}", res)
    expect(blk["bounce_bytes"] == 0, f"bounce {blk['bounce_bytes']}", res)


@case("engine/no-io-uring", layouts=True)
def engine_no_io_uring(t):
    """Where io_uring cannot be set up (no-io-uring makes io_uring_setup
    fail, as a container's seccomp profile may), the default engine falls
    back to the worker pool, -v says why, and the data is right; asking
    for aio=io_uring there is one line and exit status 1."""
    wrapper = t.build / "no-io-uring"
    img, orig = t.raw_image()
    argv = [wrapper, *t.boot_argv("blkwrite 100 8 0xab; blkread 100 8", blocks=[img],
                                  verbose=True)]
    res = t.run([str(a) for a in argv])
    expect_rc(res, 0)
    expect(any("io_uring is not available here (Function not implemented): aio=threads"
               in line for line in res.err_lines), "-v does not say why not io_uring", res)
    want = cases_block.crc32(b"\xab" * 4096)
    expect(f"crc32={want:08x}" in res.out,
           "blkread does not read back what blkwrite wrote", res)
    cases_block.expect_image(res, img, orig[:100 * 512] + b"\xab" * 4096 + orig[108 * 512:],
                             "after blkwrite 100 8 0xab")
    argv = [wrapper, *t.boot_argv("echo hi", blocks=[f"{img},aio=io_uring"])]
    res = t.run([str(a) for a in argv])
    expect_rc(res, 1)
    expect(res.err_lines == ["lguest: blk0: cannot set up aio=io_uring: Function not implemented"],
           "expected one line: cannot set up aio=io_uring", res)
