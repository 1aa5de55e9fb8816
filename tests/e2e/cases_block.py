"""cases_block.py: the block device seen from both sides: what the guest
reads and writes against what the image file holds."""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from harness import (NotHere, Skip, case, crc32, expect, expect_no_stderr, expect_rc,
                     expect_setup_error, expect_stdout, fail, parse_stats)

SECTOR = 512

_BENCH_RE = re.compile(
    r"^blkbench (\w+) bs=(\d+) qd=(\d+): (\d+) ops in \d+\.\d{3} s: \d+ IOPS, \d+\.\d MB/s, "
    r"p50 \d+\.\d us p99 \d+\.\d us, (\d+) errors$", re.M)


def bench_result(res, pattern, bs, qd, ops):
    """Find the blkbench line and check it did OPS operations, no errors."""
    found = [m for m in _BENCH_RE.finditer(res.out)
             if (m[1], int(m[2]), int(m[3])) == (pattern, bs, qd)]
    expect(len(found) == 1, f"expected one 'blkbench {pattern} bs={bs} qd={qd}' line", res)
    m = found[0]
    expect(int(m[4]) == ops and int(m[5]) == 0,
           f"blkbench {pattern}: {m[4]} ops with {m[5]} errors, expected {ops} and 0", res)


def expect_image(res, path, want, what):
    """The image at PATH must hold exactly WANT; otherwise say where not."""
    got = path.read_bytes()
    if got == want:
        return
    if len(got) != len(want):
        fail(f"{what}: image is {len(got)} bytes, expected {len(want)}", res)
    first = next(i for i in range(len(got)) if got[i] != want[i])
    last = next(i for i in range(len(got) - 1, -1, -1) if got[i] != want[i])
    fail(f"{what}: image differs in bytes [{first}, {last}] (sectors {first // SECTOR}.."
         f"{last // SECTOR}): found {got[first:first + 8].hex()}..., expected "
         f"{want[first:first + 8].hex()}...", res)


# ---------------------------------------------------------------------------
# 3. Writes reach the image, and only where asked


@case("blkwrite", notify_modes=True, layouts=True)
def blkwrite(t):
    """`blkwrite 100 8 0xab` fills exactly sectors 100..107 of the image with
    0xab and leaves every other byte as it was."""
    img, orig = t.raw_image()
    res = t.boot("blkwrite 100 8 0xab", blocks=[img])
    expect_rc(res, 0)
    expect_stdout(res, "blkwrite: ok\n")
    expect_no_stderr(res)
    want = orig[:100 * SECTOR] + b"\xab" * (8 * SECTOR) + orig[108 * SECTOR:]
    expect_image(res, img, want, "after blkwrite 100 8 0xab")


@case("blkwrite-large", notify_modes=True, layouts=True)
def blkwrite_large(t):
    """A write of 600 sectors (several 128 KiB requests) lands whole, up to
    the last sector of the disk."""
    img, orig = t.raw_image()
    cap = len(orig) // SECTOR
    res = t.boot(f"blkwrite {cap - 600} 600 0x5c", blocks=[img])
    expect_rc(res, 0)
    expect_stdout(res, "blkwrite: ok\n")
    expect_no_stderr(res)
    expect_image(res, img, orig[:(cap - 600) * SECTOR] + b"\x5c" * (600 * SECTOR),
                 "after blkwrite of the last 600 sectors")


@case("blkwrite-dev1", notify_modes=True, layouts=True)
def blkwrite_dev1(t):
    """With two disks, dev=1 addresses the second: it is written and the
    first stays byte-identical; reads with dev=N see the right disk."""
    img0, orig0 = t.raw_image("d0.img")
    img1, orig1 = t.raw_image("d1.img", size=2 << 20)
    res = t.boot("blkwrite 3 2 0x7e dev=1; blkread 0 4 dev=0; blkread 0 4 dev=1",
                 blocks=[img0, img1])
    expect_rc(res, 0)
    expect_no_stderr(res)
    expect_stdout(res, f"blkwrite: ok\ncrc32={crc32(orig0[:4 * SECTOR]):08x}\n"
                       f"crc32={crc32(orig1[:3 * SECTOR] + b'~' * SECTOR):08x}\n")
    expect_image(res, img0, orig0, "first disk (must be untouched)")
    expect_image(res, img1, orig1[:3 * SECTOR] + b"\x7e" * (2 * SECTOR) + orig1[5 * SECTOR:],
                 "second disk after blkwrite 3 2 0x7e dev=1")


# ---------------------------------------------------------------------------
# 4. Reads return the image's bytes


@case("blkread-crc", notify_modes=True, layouts=True)
def blkread_crc(t):
    """blkread prints the CRC-32 of exactly the sectors asked for: a small
    odd range, 1000 sectors (several requests), the last sector; one past
    the end is an I/O error with status 1, and the image is unchanged."""
    img, orig = t.raw_image()
    cap = len(orig) // SECTOR
    res = t.boot(f"blkread 7 33; blkread 0 1000; blkread {cap - 1} 1; blkread {cap} 1",
                 blocks=[img])
    expect_rc(res, 1)
    expect_no_stderr(res)
    expect_stdout(res, f"crc32={crc32(orig[7 * SECTOR:40 * SECTOR]):08x}\n"
                       f"crc32={crc32(orig[:1000 * SECTOR]):08x}\n"
                       f"crc32={crc32(orig[-SECTOR:]):08x}\n"
                       "blkread: ioerr\n")
    expect_image(res, img, orig, "after reads")


@case("blkread-straddle-end", notify_modes=True, layouts=True)
def blkread_straddle(t):
    """A read that starts inside the disk but runs past its end fails (status
    1, I/O error) rather than returning a short or padded buffer."""
    img, orig = t.raw_image(size=1 << 20)
    cap = len(orig) // SECTOR
    res = t.boot(f"blkread {cap - 2} 4", blocks=[img])
    expect_rc(res, 1)
    expect_stdout(res, "blkread: ioerr\n")
    expect_no_stderr(res)


# ---------------------------------------------------------------------------
# 5. Read-only disks


@case("image-lock")
def image_lock(t):
    """A disk image in use by a running lguest is locked like QEMU locks
    it: a second lguest that would write it is refused in one line (exit 1,
    no VM), while any number may share it read-only; the lock goes with
    the process that held it."""
    img, orig = t.raw_image()
    first = subprocess.Popen([str(a) for a in t.boot_argv("sleep 3", blocks=[f"{img},ro"])],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=t.tmp,
                             start_new_session=True)
    try:
        # The lock is taken at setup, before the guest boots: wait for its banner.
        deadline = time.monotonic() + 10
        while not _holds_lock(first.pid, img) and time.monotonic() < deadline:
            time.sleep(0.02)
        expect(_holds_lock(first.pid, img), "the first lguest never locked the image")
        res = t.boot("exit 0", blocks=[img])
        expect_setup_error(res, str(img), "in use: open elsewhere")
        res = t.boot("blkread 0 8", blocks=[f"{img},ro"])
        expect_rc(res, 0)
        expect_stdout(res, f"crc32={crc32(orig[:8 * SECTOR]):08x}\n")
    finally:
        first.wait(timeout=30)
    expect(first.returncode == 0, f"the first lguest exited {first.returncode}")
    res = t.boot("blkwrite 0 1 0x5a", blocks=[img])
    expect_rc(res, 0)


def _holds_lock(pid, img):
    """Whether PID holds an OFD lock on IMG (/proc/locks names the inode)."""
    ino = os.stat(img).st_ino
    try:
        locks = Path("/proc/locks").read_text()
    except OSError:
        return False
    return any(line.split()[1] == "OFDLCK" and line.split()[5].endswith(f":{ino}")
               for line in locks.splitlines() if len(line.split()) > 5) and \
        Path(f"/proc/{pid}").exists()


@case("read-only", notify_modes=True, layouts=True)
def read_only(t):
    """--block=IMG,ro: writes fail with an I/O error (status 1) and the image
    stays byte-identical; reads still work."""
    img, orig = t.raw_image()
    res = t.boot("blkread 0 8; blkwrite 0 1 0xff", blocks=[f"{img},ro"])
    expect_rc(res, 1)
    expect_stdout(res, f"crc32={crc32(orig[:8 * SECTOR]):08x}\nblkwrite: ioerr\n")
    expect_no_stderr(res)
    expect_image(res, img, orig, "read-only disk after blkwrite")

    res, stats = t.boot_stats("blkwrite 0 1 0xff", blocks=[f"{img},ro"], rc=1)
    expect(stats.blk["blk0"]["writes"] == 0 and stats.blk["blk0"]["flushes"] == 0,
           f"read-only disk counted writes/flushes: {stats.blk['blk0']}", res)
    expect(stats.blk["blk0"]["errors"] >= 1, "read-only write not counted as an error", res)
    expect_image(res, img, orig, "read-only disk after blkwrite (-v)")


# ---------------------------------------------------------------------------
# 6. FLUSH means fdatasync


@case("flush-fdatasync", notify_modes=True, layouts=True)
def flush_fdatasync(t):
    """The FLUSH after blkwrite reaches the host as a successful
    fdatasync(2) (seen by strace), and -v counts exactly one flush."""
    if t.blk_device == "kernel":
        raise NotHere("the kernel device's vfs_fsync is no system call strace could see "
                      "(kernel-device/flush counts it)")
    if not shutil.which("strace"):
        raise Skip("strace is not installed")
    probe = t.run(["strace", "-f", "-qq", "-e", "trace=none", "-o", "/dev/null", "true"])
    if probe.rc != 0:
        raise Skip(f"strace cannot trace here: {probe.stderr[-300:]!r}")
    img, orig = t.raw_image()
    trace = t.path("trace.txt")
    argv = ["strace", "-f", "-qq", "-e", "trace=fdatasync", "-o", trace,
            *t.boot_argv("blkwrite 0 1 0x11", blocks=[img], verbose=True)]
    # LeakSanitizer cannot run under ptrace (an ASan build would abort at
    # exit); leaks are still checked by every other test.
    asan = os.environ.get("ASAN_OPTIONS")
    env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")
    res = t.run(argv, env=env)
    expect_rc(res, 0)
    expect(b"blkwrite: ok\n" == res.stdout, "stdout is not 'blkwrite: ok'", res)
    text = trace.read_text(errors="replace")
    ok = re.findall(r"fdatasync\(\d+\)\s+= 0$", text, re.M)
    expect(len(ok) >= 1, f"no successful fdatasync in the strace log:\n{text[-800:]}", res)
    # With -o, strace writes nothing to stderr: all of it is -v output.
    stats = parse_stats(res)
    t.check_notify_path(res, stats)
    expect(stats.blk["blk0"]["flushes"] == 1 and stats.blk["blk0"]["writes"] == 1,
           f"expected 1 write and 1 flush: {stats.blk['blk0']}", res)
    expect_image(res, img, b"\x11" * SECTOR + orig[SECTOR:], "after blkwrite 0 1 0x11")


@case("flush-count", notify_modes=True, layouts=True)
def flush_count(t):
    """Reads do not flush; each blkwrite flushes once."""
    img, _ = t.raw_image()
    res, stats = t.boot_stats("blkread 0 100; blkwrite 0 1 1; blkwrite 5 300 2",
                              blocks=[img])
    b = stats.blk["blk0"]
    expect(b["flushes"] == 2, f"expected 2 flushes: {b}", res)
    expect(b["writes"] == 3, f"expected 3 write requests (1 + 256 + 44 sectors): {b}", res)
    expect(b["errors"] == 0 and b["unsupported"] == 0, f"errors: {b}", res)


@case("blkbench-flush", layouts=True)
def blkbench_flush(t):
    """blkbench randwrite flush=10 pct: 100 writes, a FLUSH after every 10
    (the device counts 100 writes and 10 flushes), and a percentile line
    whose 19 latencies never decrease."""
    img, _ = t.raw_image()
    res, stats = t.boot_stats("blkbench randwrite bs=4K qd=4 count=100 flush=10 pct",
                              blocks=[img])
    m = re.search(r"^blkbench randwrite bs=4096 qd=4: (\d+) ops in .*, (\d+) flushes, "
                  r"(\d+) errors$", res.out, re.M)
    expect(m is not None, "no blkbench result line with flushes", res)
    expect((int(m[1]), int(m[2]), int(m[3])) == (100, 10, 0),
           f"{m[1]} ops, {m[2]} flushes, {m[3]} errors: expected 100, 10, 0", res)
    b = stats.blk["blk0"]
    expect(b["writes"] == 100 and b["flushes"] == 10, f"device counted {b}", res)
    p = re.search(r"^blkbench latency us:((?: p[0-9.]+=[0-9.]+)+)$", res.out, re.M)
    expect(p is not None, "no percentile line", res)
    pairs = re.findall(r"p([0-9.]+)=([0-9.]+)", p[1])
    expect([k for k, _ in pairs][:3] == ["0", "1", "2"] and pairs[-1][0] == "100" and
           len(pairs) == 19, f"percentiles {pairs}", res)
    values = [float(v) for _, v in pairs]
    expect(values == sorted(values) and values[0] > 0, f"latencies {values}", res)


# ---------------------------------------------------------------------------
# 7. Many requests in flight


@case("queue-depth-64", notify_modes=True, layouts=True)
def queue_depth_64(t):
    """With qd=64 the guest really has 64 requests outstanding at once (the
    device sees max-out >= 64; a packed ring has no avail index to see it
    by, so there max-out stays 0) and all 3000 complete without error."""
    img, _ = t.raw_image()
    res, stats = t.boot_stats("blkbench randread bs=4K qd=64 count=3000", blocks=[img])
    bench_result(res, "randread", 4096, 64, 3000)
    blk = stats.devices["blk0"]
    want = (0, 0) if t.layout == "packed" else (64, 1 << 32)
    expect(want[0] <= blk["max-out"] <= want[1],
           f"blk0 max-out {blk['max-out']}, expected in {want}", res)
    expect(stats.blk["blk0"]["reads"] >= 3000, f"blk0 reads {stats.blk['blk0']}", res)
    expect(stats.blk["blk0"]["errors"] == 0, f"blk0 errors {stats.blk['blk0']}", res)


@case("queue-depth-1", notify_modes=True, layouts=True)
def queue_depth_1(t):
    """With qd=1 there is never more than one request outstanding."""
    img, _ = t.raw_image()
    res, stats = t.boot_stats("blkbench randread bs=4K qd=1 count=200", blocks=[img])
    bench_result(res, "randread", 4096, 1, 200)
    blk = stats.devices["blk0"]
    want = 0 if t.layout == "packed" else 1
    expect(blk["max-out"] == want, f"blk0 max-out {blk['max-out']}, expected {want}", res)


# ---------------------------------------------------------------------------
# 8. Zero copy


@case("zero-copy", notify_modes=True, layouts=True)
def zero_copy(t):
    """After reads and writes, no device copied payload through a launcher
    buffer (bounce 0), and the byte counters cover at least what the
    workload moved in each direction."""
    img, orig = t.raw_image()
    cmd = ("blkread 0 2048; blkbench randread bs=8K qd=16 count=200; "
           "blkwrite 10 16 0x5a; blkbench randwrite bs=4K qd=8 count=100")
    res, stats = t.boot_stats(cmd, blocks=[img])
    bench_result(res, "randread", 8192, 16, 200)
    bench_result(res, "randwrite", 4096, 8, 100)
    expect(res.out.startswith(f"crc32={crc32(orig[:2048 * SECTOR]):08x}\n"),
           "blkread 0 2048 gave the wrong CRC", res)
    for name, s in stats.devices.items():
        expect(s["bounce"] == 0, f"{name} bounced {s['bounce']} bytes", res)
    blk = stats.devices["blk0"]
    read_bytes = 2048 * SECTOR + 200 * 8192
    written = 16 * SECTOR + 100 * 4096
    expect(blk["bytes-in"] >= read_bytes,
           f"blk0 bytes-in {blk['bytes-in']} < {read_bytes} read by the guest", res)
    expect(blk["bytes-out"] >= written,
           f"blk0 bytes-out {blk['bytes-out']} < {written} written by the guest", res)
    expect(stats.devices["console"]["bytes-out"] >= len(res.stdout),
           f"console bytes-out {stats.devices['console']['bytes-out']} < "
           f"{len(res.stdout)} bytes printed", res)
    # blkwrite filled its range, then randwrite whole 4 KiB blocks, with 0x5a.
    got = img.read_bytes()
    base = orig[:10 * SECTOR] + b"\x5a" * (16 * SECTOR) + orig[26 * SECTOR:]
    expect(got[10 * SECTOR:26 * SECTOR] == b"\x5a" * (16 * SECTOR),
           "blkwrite 10 16 0x5a did not land", res)
    for off in range(0, len(got), 4096):
        now = got[off:off + 4096]
        expect(now == base[off:off + 4096] or now == b"\x5a" * 4096,
               f"4 KiB block at {off} is neither untouched nor all 0x5a", res)


# ---------------------------------------------------------------------------
# 9. Layouts side by side, and the modern rings' settings


@case("mixed-layouts", notify_modes=True)
def mixed_layouts(t):
    """One guest with three disks on three layouts (and the console on a
    fourth setting): each disk is written where asked and read back, the
    statistics show each device on its own layout, and one 4 KiB read
    costs each layout what it should in chains and descriptors."""
    imgs = [t.raw_image(f"d{i}.img", size=1 << 20) for i in range(3)]
    blocks = [f"{imgs[0][0]},ring=packed,indirect=on", f"{imgs[1][0]},ring=draft3",
              f"{imgs[2][0]},ring=split,qsize=16"]
    cmd = "; ".join(f"blkwrite {10 + i} 2 {0x31 + i:#x} dev={i}" for i in range(3))
    cmd += "; " + "; ".join(f"blkread 0 8 dev={i}" for i in range(3))
    res, stats = t.boot_stats(cmd, blocks=blocks, opts=["--console=ring=split,event_idx=off"])
    rings = {d: s["ring"] for d, s in stats.devices.items()}
    expect(rings == {"console": "split", "blk0": "packed", "blk1": "draft3", "blk2": "split"},
           f"devices run on {rings}", res)
    for i, (path, orig) in enumerate(imgs):
        want = orig[:(10 + i) * SECTOR] + bytes([0x31 + i]) * 1024 + orig[(12 + i) * SECTOR:]
        expect_image(res, path, want, f"blk{i}")
    crcs = [f"crc32={crc32(w[:4096]):08x}" for w in
            (p.read_bytes() for p, _ in imgs)]
    expect_stdout(res, "blkwrite: ok\n" * 3 + "\n".join(crcs) + "\n")
    # blkwrite = write + flush, blkread = one read: 3 requests per disk.
    # draft3: write 2+1, flush 1+1, read 1+2 descriptors in 6 buffers;
    # split: 3 + 2 + 3 in 3 chains; packed with indirect: each request is
    # one ring slot plus its table, 4 + 3 + 4.
    want = {"blk0": (3, 11), "blk1": (6, 8), "blk2": (3, 8)}
    for d, (chains, descs) in want.items():
        s = stats.devices[d]
        expect((s["chains"], s["descs"]) == (chains, descs),
               f"{d}: {s['chains']} chains, {s['descs']} descriptors; expected {chains} "
               f"and {descs}", res)


RING_SETTINGS = [(f"{layout}/{label}", (layout, setting))
                 for layout in ("split", "packed")
                 for label, setting in (("indirect", "indirect=on"),
                                        ("no-event-idx", "event_idx=off"),
                                        ("qsize-4", "qsize=4"),
                                        ("qsize-32768", "qsize=32768"))]


@case("ring-settings", params=RING_SETTINGS)
def ring_settings(t):
    """Every modern ring setting carries real work: a queue-depth-16
    random-write benchmark (more requests than a 4-entry queue holds) and
    a write whose bytes must land in the image, with zero bounce bytes."""
    layout, setting = t.param
    img, orig = t.raw_image()
    res, stats = t.boot_stats("blkbench randwrite bs=4K qd=16 count=400; blkwrite 7 3 0xc3",
                              blocks=[f"{img},ring={layout},{setting}"])
    bench_result(res, "randwrite", 4096, 16, 400)
    blk = stats.devices["blk0"]
    expect(blk["ring"] == layout and blk["bounce"] == 0, f"blk0 {blk}", res)
    expect(blk["chains"] == 402, f"blk0 chains {blk['chains']}, expected 402", res)
    got = img.read_bytes()
    expect(got[7 * SECTOR:10 * SECTOR] == b"\xc3" * (3 * SECTOR),
           "sectors 7..9 do not hold 0xc3", res)
    if setting == "event_idx=off":
        expect(blk["suppressed"] == 0,
               f"without EVENT_IDX the guest never suppresses signals, got {blk}", res)


@case("blkinfo", layouts=True)
def blkinfo(t):
    """blkinfo names the layout and size; on split and packed, GET_ID returns
    the serial the launcher made from the device name and the image's
    inode."""
    img, orig = t.raw_image()
    res = t.boot("blkinfo", blocks=[f"{img},ro"])
    expect_rc(res, 0)
    want = f"blk0: {t.layout} ring, {len(orig) // SECTOR} sectors, read-only\n"
    if t.layout != "draft3":
        want += f"blk0: id lguest-blk0-{os.stat(img).st_ino:x}\n"
    expect_stdout(res, want)
