"""cases_kernel_device.py: block devices the host kernel serves
(--block=IMG,device=kernel): lguest_host.ko (host-module/), driven through
the launcher's vhost sequence over its kernel transport
(launcher/vhost/kernel.c, devices/vhost_blk.c).

To the guest such a disk is the same device as --block's, on every layout
and both CPU backends; only who pops its ring differs.  So these are the
block suite's promises again, each checked on what the guest prints and
what the image file holds: ext2 files read back, writes land where asked
and nowhere else, CRCs of reads, read-only disks refuse writes, FLUSH is a
vfs_fsync the kernel counts, 32 requests in flight, and a guest breaking a
ring rule gets the launcher's own line for it.

kernel-device/*: against the real module.  They need /dev/lguest-host and
are skipped, with the reason, where it is missing (run.py), as on every
machine that cannot load modules; the hardware-virtualisation tier loads it.

kernel-device-fake/*: the same tests against a stand-in for the module in
the launcher's own process (tests/fake_host_module/, LD_PRELOAD).  They run
everywhere and prove the launcher's side: the sequence it sends, draft III's
pages, the eventfds, what becomes of a call, an error and the counters.
They prove nothing about the module.

kernel-device/absent and /refusals boot nothing: without the module (or
with a bad option) the launcher says so in one line and starts no guest.
"""
import json

import cases_block
import cases_errors
import cases_guest
import harness
from cases_block import SECTOR, bench_result, expect_image
from harness import (BACKENDS, NotHere, case, crc32, expect, expect_no_stderr, expect_rc,
                     expect_setup_error, expect_stdout)

NO_MODULE_LINE = ("/dev/lguest-host: No such file or directory (is the lguest_host module "
                  "loaded? make -C host-module && insmod host-module/lguest_host.ko)")


def kernel_case(name, **kw):
    """Register a test twice: against the module (kernel-device/NAME) and
    against its stand-in (kernel-device-fake/NAME)."""
    def register(fn):
        case(f"kernel-device/{name}", kernel="module", **kw)(fn)
        case(f"kernel-device-fake/{name}", kernel="fake", **kw)(fn)
        return fn
    return register


# ---------------------------------------------------------------------------
# Setup errors


@case("kernel-device/absent", boots=False)
def absent(t):
    """No /dev/lguest-host: one line naming the module and how to load it,
    exit status 1, no guest output, whichever backend was asked for and
    whatever else the disk's option says."""
    if not harness.module_problem():
        raise NotHere(f"{harness.LGH_DEVICE} exists: the module is loaded here")
    img, orig = t.raw_image()
    for backend in BACKENDS:
        for spec in (f"{img},device=kernel", f"{img},ro,ring=packed,qsize=64,device=kernel"):
            res = t.lguest(f"--backend={backend}", f"--block={spec}", t.kernel, "--",
                           "echo the guest ran")
            expect_setup_error(res, f"--block={spec}: {NO_MODULE_LINE}")
    expect_image(res, img, orig, "the image, after refused runs")


@case("kernel-device/refusals", boots=False)
def refusals(t):
    """One line and exit status 1, before any guest code: a place no one
    serves disks from, device= on --vhost-user-blk (its backend serves
    it), and a missing image (opened first, as --block does)."""
    img, _ = t.raw_image()
    cases = [
        (f"--block={img},device=elsewhere",
         f"--block={img},device=elsewhere: device=elsewhere: unknown (launcher or kernel)"),
        (f"--vhost-user-blk={t.path('vu.sock')},device=kernel",
         "device= is --block's (a --vhost-user-blk device runs in its backend)"),
        (f"--block={t.path('none.img')},device=kernel",
         f"cannot open disk image {t.path('none.img')}: No such file or directory"),
    ]
    for opt, line in cases:
        res = t.lguest(opt, t.kernel, "--", "echo the guest ran")
        expect_setup_error(res, line)


@case("block-device-launcher", layouts=True)
def device_launcher(t):
    """device=launcher is the default said aloud: the same disk as without
    it, next to one without it."""
    img0, orig0 = t.raw_image("d0.img")
    img1, orig1 = t.raw_image("d1.img", size=1 << 20)
    res = t.boot("blkinfo dev=0; blkread 0 8 dev=0; blkread 0 8 dev=1",
                 blocks=[f"{img0},device=launcher", img1])
    expect_rc(res, 0)
    expect_no_stderr(res)
    expect_stdout(res, blkinfo(t, img0, len(orig0), "read-write") +
                  f"crc32={crc32(orig0[:4096]):08x}\ncrc32={crc32(orig1[:4096]):08x}\n")


def blkinfo(t, img, size, access):
    """What `blkinfo` says about blk0, the SIZE-byte IMG: layout, sectors,
    ACCESS, and on split and packed the serial GET_ID answers."""
    info = f"blk0: {t.layout} ring, {size // SECTOR} sectors, {access}\n"
    if t.layout != "draft3":
        info += f"blk0: id lguest-blk0-{img.stat().st_ino:x}\n"
    return info


# ---------------------------------------------------------------------------
# The block device, served in the kernel


# The guest, block and misbehaving-guest suites' own tests, whose disks
# these put in the kernel (as run.py --blk-device=kernel does to all of them).
kernel_case("ext2-cat", notify_modes=True, layouts=True)(cases_guest.ext2_cat)
kernel_case("blkwrite", notify_modes=True, layouts=True)(cases_block.blkwrite)
kernel_case("blkwrite-large", notify_modes=True, layouts=True)(cases_block.blkwrite_large)
kernel_case("blkread-crc", notify_modes=True, layouts=True)(cases_block.blkread_crc)
kernel_case("misbehave", notify_modes=True, layouts=True)(cases_errors.misbehave_other_disk)


@kernel_case("read-only", notify_modes=True, layouts=True)
def read_only(t):
    """ro: the guest learns the disk is read-only (and on split and packed
    its GET_ID serial, which the kernel answers), reads work, a write fails
    with an I/O error and the image stays byte-identical."""
    img, orig = t.raw_image()
    res = t.boot("blkinfo; blkread 0 8; blkwrite 0 1 0xff", blocks=[f"{img},ro"])
    expect_rc(res, 1)
    expect_no_stderr(res)
    expect_stdout(res, blkinfo(t, img, len(orig), "read-only") +
                  f"crc32={crc32(orig[:8 * SECTOR]):08x}\nblkwrite: ioerr\n")
    expect_image(res, img, orig, "read-only disk after blkwrite")


@kernel_case("flush", notify_modes=True, layouts=True)
def flush(t):
    """blkwrite's FLUSH is one vfs_fsync in the kernel's counters (reads
    make none), the write is on the image, nothing bounced, and the
    NOTIFYs took this test's path (ioeventfd or exits) to the kernel."""
    img, orig = t.raw_image()
    res, stats = t.boot_stats("blkread 0 100; blkwrite 0 1 0x11", blocks=[img])
    expect_stdout(res, f"crc32={crc32(orig[:100 * SECTOR]):08x}\nblkwrite: ok\n")
    k, blk = stats.blk["blk0"], stats.devices["blk0"]
    expect(isinstance(k, harness.KernelCounters), "blk0 has no kernel counters row", res)
    expect(k["flushes"] == 1, f"expected 1 flush (vfs_fsync): {dict(k)}", res)
    expect(blk["bounce"] == 0 and blk["notifies"] > 0, f"blk0 {dict(blk)}", res)
    expect_image(res, img, b"\x11" * SECTOR + orig[SECTOR:], "after blkwrite 0 1 0x11")


@kernel_case("bench-qd32", notify_modes=True, layouts=True)
def bench_qd32(t):
    """blkbench with 32 requests in flight, reading and then writing: every
    request completes without error; the kernel served each (draft III: two
    buffers a request) with no byte bounced, and --stats-json shows the
    same counters as the table, for lguest-compare."""
    img, _ = t.raw_image(size=16 << 20)
    out = t.path("stats.json")
    res, stats = t.boot_stats("blkbench randread bs=4K qd=32 count=2000; "
                              "blkbench randwrite bs=4K qd=32 count=500",
                              blocks=[img], opts=[f"--stats-json={out}"])
    bench_result(res, "randread", 4096, 32, 2000)
    bench_result(res, "randwrite", 4096, 32, 500)
    blk, k = stats.devices["blk0"], stats.blk["blk0"]
    per_request = 2 if t.layout == "draft3" else 1
    expect(blk["chains"] == k["requests"] == 2500 * per_request,
           f"blk0 chains {blk['chains']}, kernel requests {k['requests']}: expected "
           f"{2500 * per_request}", res)
    expect(blk["bounce"] == 0 and blk["bytes-in"] >= 2000 * 4096 and
           blk["bytes-out"] >= 500 * 4096, f"blk0 {dict(blk)}", res)
    expect(blk["signals"] == k["signals"] and blk["suppressed"] == k["suppressed"],
           f"table {dict(blk)} and kernel row {dict(k)} disagree", res)
    js = next(d for d in json.loads(out.read_text())["devices"] if d["name"] == "blk0")
    for key, col in (("chains", "chains"), ("notifies", "notifies"), ("signals", "signals"),
                     ("signals_suppressed", "suppressed"), ("bounce_bytes", "bounce")):
        expect(js[key] == blk[col], f"--stats-json blk0 {key} {js[key]}, table {blk[col]}", res)


@kernel_case("next-to-launcher", layouts=True)
def next_to_launcher(t):
    """One disk in the kernel and one in the launcher, side by side: each
    written where asked, read back, and the statistics show which is whose
    (the kernel's has its counters row)."""
    img0, orig0 = t.raw_image("d0.img", size=1 << 20)
    img1, orig1 = t.raw_image("d1.img", size=1 << 20)
    res, stats = t.boot_stats("blkwrite 10 2 0x31 dev=0; blkwrite 20 3 0x32 dev=1; "
                              "blkread 0 32 dev=0; blkread 0 32 dev=1",
                              blocks=[img0, f"{img1},device=launcher"])
    want0 = orig0[:10 * SECTOR] + b"1" * 1024 + orig0[12 * SECTOR:]
    want1 = orig1[:20 * SECTOR] + b"2" * 1536 + orig1[23 * SECTOR:]
    expect_stdout(res, "blkwrite: ok\n" * 2 + f"crc32={crc32(want0[:32 * SECTOR]):08x}\n"
                  f"crc32={crc32(want1[:32 * SECTOR]):08x}\n")
    expect_image(res, img0, want0, "blk0 (kernel)")
    expect_image(res, img1, want1, "blk1 (launcher)")
    expect(isinstance(stats.blk["blk0"], harness.KernelCounters) and
           not isinstance(stats.blk["blk1"], harness.KernelCounters),
           f"counter rows {stats.blk}", res)
