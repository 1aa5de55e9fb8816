"""cases_errors.py: a guest that breaks the ring rules, and a user who gets
the command line wrong."""
import gzip
import hashlib
import re

from harness import (case, crc32, expect, expect_in_stdout, expect_rc, expect_setup_error,
                     expect_stdout)

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


@case("misbehave-other-disk-lives", notify_modes=True, layouts=True)
def misbehave_other_disk(t):
    """Stopping a broken blk0 leaves blk1 working."""
    img0, _ = t.raw_image("d0.img")
    img1, orig1 = t.raw_image("d1.img", size=1 << 20)
    res = t.boot("misbehave loop; blkread 0 8 dev=1", blocks=[img0, img1])
    expect_rc(res, 0)
    expect_stdout(res, f"misbehave loop: blk0 stopped\ncrc32={crc32(orig1[:4096]):08x}\n")
    _expect_stopped_line(res, "loop", MISBEHAVE_RULES[3][1])


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
    ("no-kernel", lambda t: [], ["no kernel given"]),
    ("no-kernel-only-options", lambda t: ["-v", "--mem=64M"], ["no kernel given"]),
    ("extra-argument", lambda t: [_kernel(t), "stray"], ["unexpected argument 'stray'"]),
    ("kvm-missing", lambda t: ["--kvm-device=/nonexistent", _kernel(t)],
     ["/nonexistent", "No such file or directory"]),
    ("kvm-not-kvm", lambda t: ["--kvm-device=/dev/null", _kernel(t)],
     ["/dev/null", "not a KVM device"]),
]


@case("bad-input", kvm=False, params=[(label, (setup, needles))
                                      for label, setup, needles in BAD_INPUT])
def bad_input(t):
    """A mistake on the command line or a bad file costs exactly one stderr
    line 'lguest: ...' saying what is wrong, exit status 1, no stdout, and
    no VM (these are all checked before KVM is used, or KVM is refused)."""
    setup, needles = t.param
    res = t.lguest(*setup(t), "--", "echo should-not-run")
    expect_setup_error(res, *needles)


@case("help", kvm=False)
def help_(t):
    """--help and -h print the usage on stdout and exit 0, even with other
    arguments; stderr stays empty."""
    for args in (["--help"], ["-h"], ["--mem=64M", "--help", "nokernel"]):
        res = t.lguest(*args)
        expect_rc(res, 0)
        expect(res.out.startswith("usage: lguest [options] KERNEL"), "no usage: line", res)
        for opt in ("--mem=SIZE", "--block=PATH[,ro]", "--no-ioeventfd", "--kvm-device=PATH",
                    "--verbose", "--help", "--version"):
            expect_in_stdout(res, opt)
        expect(res.stderr == b"", "stderr not empty", res)


@case("version", kvm=False)
def version(t):
    """--version and -V print 'lguest X.Y.Z' and exit 0."""
    for args in (["--version"], ["-V"]):
        res = t.lguest(*args)
        expect_rc(res, 0)
        expect(re.fullmatch(rb"lguest \d+\.\d+\.\d+\n", res.stdout) is not None,
               "stdout is not 'lguest X.Y.Z'", res)
        expect(res.stderr == b"", "stderr not empty", res)
