"""cases_errors.py: a guest that breaks the ring rules, and a user who gets
the command line wrong."""
import gzip
import hashlib
import os
import re
import shutil

from harness import (Skip, case, compiled_libdir, crc32, expect, expect_in_stdout, expect_rc,
                     expect_setup_error, expect_stdout)

# ---------------------------------------------------------------------------
# 11. A misbehaving guest
#
# Each rule's expected launcher message, from launcher/ring/draft3_dev.c and
# the guest's guest/drivers/blk_misbehave.c (descriptor 160 is its spare
# slot; with the default 128M, RAM is 0x8000 pages).  A regex, because a
# few numbers depend on what the guest did before.

RAM_PAGES = (128 << 20) >> 12

MISBEHAVE_RULES = [
    ("head-range", r"out queue: head 200 out of range \(170\)"),
    ("no-head", r"out queue: head 160 is not marked F_HEAD"),
    ("next-range", r"out queue: descriptor 160: next 999 out of range \(170\)"),
    ("loop", r"out queue: chain from head 160 loops or exceeds 170 descriptors"),
    ("pfn-range", rf"out queue: descriptor 160: pfn {RAM_PAGES + 10:#x} offset 0 len 24 "
                  r"is outside guest RAM"),
    ("len-range", rf"out queue: descriptor 160: pfn {RAM_PAGES - 1:#x} offset 0 len 8192 "
                  r"is outside guest RAM"),
    ("offset", r"out queue: descriptor 160: offset 5000 is not inside a 4096-byte page"),
    ("avail-jump", r"out queue: avail index jumped from (?P<a>\d+) to (?P<b>\d+) "
                   r"\(more than 170 ahead, or moved back\)"),
    ("in-flight", r"in queue: head \d+ is already in flight"),
    ("bad-id", r"in queue: block request names in buffer 160, which the guest has not "
               r"made available"),
    ("used-scribble", r"out queue: guest wrote to the used index "
                      r"\(expected (?P<a>\d+), found (?P<b>\d+)\)"),
]
# How far the index moved, for the two rules whose numbers are relative.
MISBEHAVE_DELTA = {"avail-jump": 171, "used-scribble": 5}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expect_stopped_line(res, rule, pattern):
    """stderr is exactly one line: blk0's rule, then '; device stopped'."""
    lines = res.err_lines
    expect(len(lines) == 1, f"expected exactly one stderr line, got {len(lines)}", res)
    m = re.fullmatch(rf"lguest: blk0: {pattern}; device stopped", lines[0])
    expect(m is not None, f"stderr line does not name the {rule} rule "
           f"(expected /lguest: blk0: {pattern}; device stopped/)", res)
    if rule in MISBEHAVE_DELTA:
        delta = int(m["b"]) - int(m["a"])
        expect(delta == MISBEHAVE_DELTA[rule],
               f"index moved by {delta}, the guest moved it by {MISBEHAVE_DELTA[rule]}", res)


@case("misbehave", notify_modes=True, params=[(r, (r, p)) for r, p in MISBEHAVE_RULES])
def misbehave(t):
    """The launcher stops blk0 when the guest breaks a ring rule: one
    stderr line naming the rule, the guest sees the device stop and keeps
    running (its later commands and `exit 3` work), the image is untouched,
    and later block commands fail at once with status 1 instead of
    hanging."""
    rule, pattern = t.param
    img, _ = t.raw_image()
    before = _sha(img)

    res = t.boot(f"misbehave {rule}; echo alive; exit 3", blocks=[img])
    expect_rc(res, 3)
    expect_stdout(res, f"misbehave {rule}: blk0 stopped\nalive\n")
    _expect_stopped_line(res, rule, pattern)
    expect(_sha(img) == before, "the image changed", res)

    res = t.boot(f"misbehave {rule}; blkread 0 1", blocks=[img])
    expect_rc(res, 1)
    expect_stdout(res, f"misbehave {rule}: blk0 stopped\nblkread: device stopped\n")
    _expect_stopped_line(res, rule, pattern)
    expect(_sha(img) == before, "the image changed", res)


# The same for split and packed rings (launcher/ring/split_dev.c,
# packed_dev.c, device_status.c; guest/drivers/blk_misbehave_modern.c, whose
# spare descriptor / buffer id is 200).  Each: (rule, layouts, extra --block
# settings, the launcher's lines as regexes, what the guest reports).
RAM = 128 << 20
BOTH = ("split", "packed")
MODERN_RULES = [
    ("head-range", ("split",), "", [r"requestq: head descriptor 261 out of range \(256\)"]),
    ("next-range", ("split",), "", [r"requestq: descriptor 200: next 999 out of range \(256\)"]),
    ("loop", ("split",), "", [r"requestq: chain from head 200 loops or exceeds 256 descriptors"]),
    ("avail-jump", ("split",), "",
     [r"requestq: avail index jumped from 0 to 257 \(more than 256 ahead, or moved back\)"]),
    ("used-scribble", ("split",), "",
     [r"requestq: guest wrote to the used index \(expected 0, found 5\)"]),
    ("not-available", ("packed",), "",
     [r"requestq: chain from slot 0 continues into slot 1, which is not available "
      r"\(flags 0x0, wrap counter 1\)"]),
    ("id-range", ("packed",), "", [r"requestq: buffer id 261 out of range \(256\)"]),
    ("event-reserved", ("packed",), "", [r"requestq: driver area flags 0x3 are reserved"]),
    ("event-desc-noidx", ("packed",), ",event_idx=off",
     [r"requestq: driver area flags DESC without VIRTIO_F_RING_EVENT_IDX"]),
    ("addr-range", BOTH, "",
     [rf"requestq: (descriptor 200|slot 0): addr {RAM + 0x10000:#x} len 16 is outside guest RAM"]),
    # The same with 16 reads in flight on the host when the bad chain comes.
    ("busy-addr-range", BOTH, "",
     [rf"requestq: (descriptor 200|slot \d+): addr {RAM + 0x10000:#x} len 16 is outside "
      r"guest RAM"]),
    ("len-wrap", BOTH, "",
     [r"requestq: (descriptor 200|slot 0): addr 0xfffffffffffff000 len 8192 is outside "
      r"guest RAM"]),
    ("zero-len", BOTH, "", [r"requestq: (descriptor 200|slot 0): zero length"]),
    ("write-before-read", BOTH, "",
     [r"requestq: (descriptor 201: readable after a writable descriptor|"
      r"slot 1: readable descriptor after a writable one)"]),
    ("chain-len", BOTH, "",
     [r"requestq: chain from (head 200|slot 0) is longer than 4294967295 bytes"]),
    ("indirect-nofeature", BOTH, "",
     [r"requestq: (descriptor 200|slot 0): INDIRECT,? but VIRTIO_F_INDIRECT_DESC was not "
      r"negotiated"]),
    ("indirect-next", BOTH, ",indirect=on",
     [r"requestq: (descriptor 200|slot 0): INDIRECT together with NEXT"]),
    ("indirect-len", BOTH, ",indirect=on",
     [r"requestq: (descriptor 200|slot 0): indirect table length 24 is (zero or )?not a "
      r"multiple of 16"]),
    ("indirect-range", BOTH, ",indirect=on",
     [rf"requestq: (descriptor 200|slot 0): indirect table at {RAM + 0x1000:#x} len 32 is "
      r"outside guest RAM"]),
    ("indirect-nested", BOTH, ",indirect=on",
     [r"requestq: (indirect descriptor 1: nested INDIRECT table|"
      r"slot 0 indirect entry 1: nested INDIRECT)"]),
    ("status-failed", BOTH, "", [r"the guest driver set FAILED"]),
    ("features-unoffered", BOTH, "",
     [r"refusing FEATURES_OK: the driver accepted features 0x4000000000000, which the device "
      r"did not offer", "the guest driver set FAILED"]),
    ("no-version-1", BOTH, "",
     [r"refusing FEATURES_OK: the driver did not accept VIRTIO_F_VERSION_1 \(legacy virtio "
      r"is not supported\)", "the guest driver set FAILED"]),
    ("no-packed", ("packed",), "",
     [r"refusing FEATURES_OK: the driver did not accept VIRTIO_F_RING_PACKED, but this "
      r"device runs a packed ring \(ring=packed\)", "the guest driver set FAILED"]),
    ("driver-ok-early", BOTH, "", [r"DRIVER_OK without FEATURES_OK"]),
    ("queue-size", BOTH, "", [r"requestq: queue size 512 is larger than the device's 256"]),
    ("queue-disabled", BOTH, "", [r"requestq: DRIVER_OK with the queue not enabled"]),
    ("ring-range", BOTH, "",
     [rf"requestq: (descriptor table|ring) at {RAM - 64:#x} \(\d+ bytes\) is outside guest "
      r"RAM"]),
    ("ring-align", BOTH, "",
     [r"requestq: (descriptor table|ring)( address)? (at )?0x[0-9a-f]+ is not 16-byte "
      r"aligned"]),
]


@case("misbehave-modern", params=[(f"{layout}/{rule}", (layout, rule, extra, lines))
                                  for rule, layouts, extra, lines in MODERN_RULES
                                  for layout in layouts])
def misbehave_modern(t):
    """On a split or packed ring, and in the virtio handshake, the launcher
    stops blk0 (or refuses FEATURES_OK, and stops it when the guest then
    sets FAILED) with one line per step naming the rule; the guest keeps
    running, blk1 still works, and the image is untouched."""
    layout, rule, extra, lines = t.param
    img, _ = t.raw_image()
    img1, orig1 = t.raw_image("d1.img", size=1 << 20)
    before = _sha(img)
    res = t.boot(f"misbehave {rule}; blkread 0 8 dev=1; echo alive; exit 3",
                 blocks=[f"{img},ring={layout}{extra}", img1])
    expect_rc(res, 3)
    outcome = "refused FEATURES_OK" if len(lines) == 2 else "stopped"
    expect_stdout(res, f"misbehave {rule}: blk0 {outcome}\ncrc32={crc32(orig1[:4096]):08x}\n"
                  "alive\n")
    got = res.err_lines
    expect(len(got) == len(lines), f"expected {len(lines)} stderr lines, got {len(got)}", res)
    for i, (line, pattern) in enumerate(zip(got, lines)):
        end = "; device stopped" if i == len(lines) - 1 else ""
        expect(re.fullmatch(rf"lguest: blk0: {pattern}{end}", line) is not None,
               f"stderr line {i + 1} does not match /lguest: blk0: {pattern}{end}/", res)
    expect(_sha(img) == before, "the image changed", res)


# A rule each layout has, to break blk0 with while blk1 carries on.
LOOP_RULE = {"draft3": ("loop", MISBEHAVE_RULES[3][1]),
             "split": ("loop", MODERN_RULES[2][3][0]),
             "packed": ("not-available", MODERN_RULES[5][3][0])}


@case("misbehave-other-disk-lives", notify_modes=True, layouts=True)
def misbehave_other_disk(t):
    """Stopping a broken blk0 leaves blk1 working."""
    rule, pattern = LOOP_RULE[t.layout]
    img0, _ = t.raw_image("d0.img")
    img1, orig1 = t.raw_image("d1.img", size=1 << 20)
    res = t.boot(f"misbehave {rule}; blkread 0 8 dev=1", blocks=[img0, img1])
    expect_rc(res, 0)
    expect_stdout(res, f"misbehave {rule}: blk0 stopped\ncrc32={crc32(orig1[:4096]):08x}\n")
    _expect_stopped_line(res, rule, pattern)


# ---------------------------------------------------------------------------
# 12. Bad user input
#
# Each: (label, setup(t) -> argv for lguest, substrings of the one stderr line).


def _kernel(t):
    return str(t.kernel)


def _write(t, name, data):
    p = t.path(name)
    p.write_bytes(data)
    return str(p)


def _half_gzip(t):
    data = t.gzip_kernel().read_bytes()
    return _write(t, "half.elf.gz", data[:len(data) // 2])


def _gzip_of_random(t):
    return _write(t, "random.gz", gzip.compress(t.random_bytes(20000)))


def _dir(t):
    d = t.path("adir")
    d.mkdir()
    return str(d)


def _fifo(t, name):
    """A FIFO nobody writes to: opening it read-only would wait for ever."""
    p = t.path(name)
    os.mkfifo(p)
    return str(p)


BAD_INPUT = [
    ("missing-kernel", lambda t: [str(t.path("nokernel"))],
     ["kernel ", "nokernel", "No such file or directory"]),
    ("random-kernel", lambda t: [_write(t, "random.bin", t.random_bytes(8192))],
     ["random.bin", "not an ELF"]),
    ("truncated-kernel", lambda t: [_write(t, "trunc.elf", t.kernel.read_bytes()[:1000])],
     ["trunc.elf", "truncated"]),
    ("truncated-gzip", lambda t: [_half_gzip(t)], ["half.elf.gz", "truncated gzip"]),
    ("gzip-not-elf", lambda t: [_gzip_of_random(t)], ["random.gz", "not an ELF"]),
    ("empty-kernel", lambda t: [_write(t, "empty.elf", b"")], ["empty.elf"]),
    ("missing-disk", lambda t: [f"--block={t.path('nodisk.img')}", _kernel(t)],
     ["cannot open disk image", "nodisk.img", "No such file or directory"]),
    ("dir-disk", lambda t: [f"--block={_dir(t)}", _kernel(t)], ["adir", "directory"]),
    ("devnull-disk", lambda t: ["--block=/dev/null", _kernel(t)],
     ["/dev/null", "not a regular file or block device"]),
    ("fifo-kernel", lambda t: [_fifo(t, "k.fifo")], ["k.fifo", "not a regular file"]),
    ("fifo-disk-ro", lambda t: [f"--block={_fifo(t, 'd.fifo')},ro", _kernel(t)],
     ["d.fifo", "not a regular file or block device"]),
    ("fifo-disk", lambda t: [f"--block={_fifo(t, 'd.fifo')}", _kernel(t)],
     ["d.fifo", "not a regular file or block device"]),
    ("fifo-disk-kernel-device", lambda t: [f"--block={_fifo(t, 'd.fifo')},ro,device=kernel",
                                           _kernel(t)],
     ["d.fifo", "not a regular file or block device"]),
    ("disk-twice", lambda t: [f"--block={_write(t, 'd.img', bytes(4096))}",
                              f"--block={t.path('d.img')},ro", _kernel(t)],
     ["d.img", "in use: open for writing elsewhere"]),
    ("disk-twice-rw", lambda t: [f"--block={_write(t, 'd.img', bytes(4096))},ro",
                                 f"--block={t.path('d.img')}", _kernel(t)],
     ["d.img", "in use: open elsewhere"]),
    ("tiny-disk", lambda t: [f"--block={_write(t, 'tiny.img', b'x' * 100)}", _kernel(t)],
     ["tiny.img", "smaller than one sector"]),
    ("bad-option", lambda t: ["--frobnicate", _kernel(t)], ["unknown option --frobnicate"]),
    ("mem-abc", lambda t: ["--mem=abc", _kernel(t)], ["--mem=abc", "not a size"]),
    ("mem-1M", lambda t: ["--mem=1M", _kernel(t)],
     ["--mem=1M", "must be a multiple of 2M between 16M and 64G"]),
    ("mem-101M", lambda t: ["--mem=101M", _kernel(t)],
     ["--mem=101M", "must be a multiple of 2M between 16M and 64G"]),
    ("mem-128G", lambda t: ["--mem=128G", _kernel(t)],
     ["--mem=128G", "must be a multiple of 2M between 16M and 64G"]),
    ("block-empty", lambda t: ["--block=", _kernel(t)], ["--block needs a path"]),
    ("block-bad-option", lambda t: ["--block=x,rw", _kernel(t)],
     ["--block=x,rw", "unknown option 'rw'"]),
    ("block-empty-items", lambda t: ["--block=disk.img,,", _kernel(t)],
     ["--block=disk.img,,", "empty item between commas"]),
    ("block-trailing-comma", lambda t: ["--block=disk.img,ro,", _kernel(t)],
     ["--block=disk.img,ro,", "empty item between commas"]),
    ("tap-empty-item", lambda t: ["--tap=tap0,,mac=52:54:00:12:34:56", _kernel(t)],
     ["--tap=tap0,,mac=52:54:00:12:34:56", "empty item between commas"]),
    ("qsize-all-draft3", lambda t: ["--qsize=8", _kernel(t)],
     ["--qsize=8", "every device here is draft3", "--ring=split"]),
    ("ring-bogus", lambda t: ["--ring=circular", _kernel(t)],
     ["--ring=circular", "unknown layout (draft3, split or packed)"]),
    ("block-ring-bogus", lambda t: ["--block=x,ring=split2", _kernel(t)],
     ["--block=x,ring=split2", "unknown layout"]),
    ("qsize-not-power", lambda t: ["--qsize=100", _kernel(t)],
     ["--qsize", "qsize=100", "must be a power of two from 4 to 32768"]),
    ("qsize-too-big", lambda t: ["--block=x,ring=packed,qsize=65536", _kernel(t)],
     ["--block", "qsize=65536", "must be a power of two from 4 to 32768"]),
    ("qsize-too-small", lambda t: ["--ring=split", "--qsize=2", _kernel(t)],
     ["--qsize", "qsize=2", "must be a power of two"]),
    ("qsize-junk", lambda t: ["--block=x,ring=split,qsize=-8", _kernel(t)],
     ["qsize=-8", "must be a power of two"]),
    ("qsize-on-draft3", lambda t: ["--block=x,qsize=64", _kernel(t)],
     ["--block=x,qsize=64", "qsize applies to split and packed rings (draft3 queues hold 170)"]),
    ("indirect-on-draft3", lambda t: ["--console=indirect=on", _kernel(t)],
     ["--console", "indirect descriptors need a split or packed ring"]),
    ("indirect-maybe", lambda t: ["--block=x,ring=split,indirect=maybe", _kernel(t)],
     ["indirect=maybe", "say on or off"]),
    ("console-bad-setting", lambda t: ["--console=speed=fast", _kernel(t)],
     ["--console=speed=fast", "unknown option 'speed=fast'"]),
    ("tunnet-bad-ip", lambda t: ["--tunnet=10.0.0.300", _kernel(t)],
     ["--tunnet=10.0.0.300", "not an IPv4 address"]),
    ("tunnet-bad-prefix", lambda t: ["--tunnet=10.0.0.1/33", _kernel(t)],
     ["--tunnet=10.0.0.1/33", "not an IPv4 address with an optional /PREFIX (1..30)"]),
    ("tunnet-bad-mac", lambda t: ["--tunnet=10.0.0.1/24,mac=52:54:00:zz:00:01", _kernel(t)],
     ["mac=52:54:00:zz:00:01", "not a unicast MAC address"]),
    ("tunnet-multicast-mac", lambda t: ["--tunnet=10.0.0.1,mac=01:00:5e:00:00:01", _kernel(t)],
     ["mac=01:00:5e:00:00:01", "not a unicast MAC address"]),
    ("tunnet-empty-bridge", lambda t: ["--tunnet=bridge:", _kernel(t)],
     ["--tunnet=bridge:", "a bridge name of 1 to 15 characters"]),
    ("tap-missing", lambda t: ["--tap=lgnosuch0", _kernel(t)],
     ["--tap=lgnosuch0", "no such interface"]),
    ("user-unknown", lambda t: ["--user=lguest-no-such-user", _kernel(t)],
     ["--user=lguest-no-such-user", "no such user"]),
    ("trace-file-unwritable", lambda t: ["--trace-file=/nonexistent/dir/t.json", _kernel(t)],
     ["--trace-file=/nonexistent/dir/t.json", "No such file or directory"]),
    ("stats-json-unwritable", lambda t: ["--stats-json=/nonexistent/dir/s.json", _kernel(t)],
     ["--stats-json=/nonexistent/dir/s.json", "No such file or directory"]),
    # No kernel at all: cases_install.py's no-kernel-installed (build/lguest has one beside it).
    ("extra-argument", lambda t: [_kernel(t), "stray"], ["unexpected argument 'stray'"]),
    # With --backend=auto a missing KVM means the process backend; asked for, it is an error.
    ("kvm-missing", lambda t: ["--backend=kvm", "--kvm-device=/nonexistent", _kernel(t)],
     ["--backend=kvm", "/nonexistent", "No such file or directory"]),
    ("kvm-not-kvm", lambda t: ["--backend=kvm", "--kvm-device=/dev/null", _kernel(t)],
     ["--backend=kvm", "/dev/null", "not a KVM device"]),
    ("backend-unknown", lambda t: ["--backend=xen", _kernel(t)],
     ["--backend=xen", "unknown backend"]),
    ("backend-empty", lambda t: ["--backend=", _kernel(t)], ["unknown backend"]),
]


@case("bad-input", boots=False, params=[(label, (setup, needles))
                                      for label, setup, needles in BAD_INPUT])
def bad_input(t):
    """A mistake on the command line or a bad file costs exactly one stderr
    line 'lguest: ...' saying what is wrong, exit status 1, no stdout, and
    no VM (these are all checked before KVM is used, or KVM is refused)."""
    setup, needles = t.param
    res = t.lguest(*setup(t), "--", "echo should-not-run")
    expect_setup_error(res, *needles)


@case("help", boots=False, host_only=True)
def help_(t):
    """--help and -h print the usage on stdout and exit 0, even with other
    arguments; stderr stays empty."""
    for args in (["--help"], ["-h"], ["--mem=64M", "--help", "nokernel"]):
        res = t.lguest(*args)
        expect_rc(res, 0)
        expect(res.out.startswith("usage: lguest [options] [KERNEL]"), "no usage: line", res)
        for opt in ("--mem=SIZE", "--block=PATH[,ro]", "--no-ioeventfd", "--backend=WHICH",
                    "--kvm-device=PATH",
                    "--verbose", "--help", "--version"):
            expect_in_stdout(res, opt)
        expect(res.stderr == b"", "stderr not empty", res)


@case("version", boots=False, host_only=True)
def version(t):
    """--version and -V print 'lguest X.Y.Z' and exit 0."""
    for args in (["--version"], ["-V"]):
        res = t.lguest(*args)
        expect_rc(res, 0)
        expect(re.fullmatch(rb"lguest \d+\.\d+\.\d+\n", res.stdout) is not None,
               "stdout is not 'lguest X.Y.Z'", res)
        expect(res.stderr == b"", "stderr not empty", res)


# The process backend's stub, broken as an installation can break it: each a
# setup error (one line, exit 1) naming the stub, never a half-started VM.
def _stub_unexecutable(stub):
    stub.chmod(0o644)


def _stub_missing(stub):
    stub.unlink()


def _stub_wrong_program(stub):
    stub.unlink()
    shutil.copy("/bin/true", stub)


BROKEN_STUB = [
    ("unexecutable", _stub_unexecutable, ["the stub could not be executed", "Permission denied"]),
    ("missing", _stub_missing, ["--backend=process", "cannot find the process backend's stub",
                                "looked for lguest-stub in"]),
    ("wrong-program", _stub_wrong_program, ["lguest-stub exited with status 0 before it was "
                                            "ready"]),
]


@case("broken-stub", boots=False, host_only=True, params=[(label, (breaks, needles))
                                          for label, breaks, needles in BROKEN_STUB])
def broken_stub(t):
    """lguest next to a broken lguest-stub: --backend=process says what is
    wrong with the stub in one line and exits 1."""
    breaks, needles = t.param
    if breaks is _stub_missing and (compiled_libdir(t.lguest_bin) / "lguest-stub").exists():
        raise Skip(f"{compiled_libdir(t.lguest_bin)}/lguest-stub is installed here, and lguest "
                   f"would rightly use it")
    for name in ("lguest", "lguest-stub", "guest.elf"):
        shutil.copy(t.build / name, t.path(name))
    breaks(t.path("lguest-stub"))
    res = t.run([t.path("lguest"), "--backend=process", t.path("guest.elf"), "--",
                 "echo should-not-run"])
    expect_setup_error(res, *needles)
