"""cases_guest.py: booting, the guest shell, ext2, gzip kernels, stdin and the
interactive console."""
import os
import re
import select
import subprocess
import termios
import time

from harness import (Fail, case, expect, expect_in_stdout, expect_no_stderr, expect_rc,
                     expect_stdout, fail, kill_group, limit)


# ---------------------------------------------------------------------------
# 1. Booting and exit status


@case("boot-echo", notify_modes=True, layouts=True)
def boot_echo(t):
    """The guest boots, runs its command line and shuts down: the launcher
    prints exactly what the guest printed, nothing on stderr, status 0."""
    res = t.boot("echo hello; exit 0")
    expect_rc(res, 0)
    expect_stdout(res, "hello\n")
    expect_no_stderr(res)


@case("boot-exit-status", notify_modes=True, layouts=True)
def boot_exit_status(t):
    """`exit N` becomes the launcher's exit status, and stops the command
    line there: later commands never run."""
    res = t.boot("exit 42")
    expect_rc(res, 42)
    expect_stdout(res, "")
    expect_no_stderr(res)
    res = t.boot("echo before; exit 255; echo never")
    expect_rc(res, 255)
    expect_stdout(res, "before\n")
    expect_no_stderr(res)


@case("boot-last-status", notify_modes=True, layouts=True)
def boot_last_status(t):
    """Without `exit`, the status is the last command's: 1 for a missing
    file, 127 for an unknown command, 0 once a later command succeeds."""
    src = t.path("src")
    src.mkdir()
    (src / "f.txt").write_bytes(b"x\n")
    img = t.ext2_image(src)

    res = t.boot("cat /nope", blocks=[img])
    expect_rc(res, 1)
    expect_in_stdout(res, "/nope")
    expect_no_stderr(res)

    res = t.boot("frobnicate", blocks=[img])
    expect_rc(res, 127)
    expect_stdout(res, "frobnicate: command not found (try help)\n")
    expect_no_stderr(res)

    res = t.boot("frobnicate; cat /f.txt", blocks=[img])
    expect_rc(res, 0)
    expect_stdout(res, "frobnicate: command not found (try help)\nx\n")
    expect_no_stderr(res)


@case("boot-no-disk", notify_modes=True, layouts=True)
def boot_no_disk(t):
    """File commands without a disk fail with a message and status 1."""
    res = t.boot("ls")
    expect_rc(res, 1)
    expect_in_stdout(res, "no disk")
    expect_no_stderr(res)


@case("boot-verbose", notify_modes=True, layouts=True)
def boot_verbose(t):
    """-v adds 'lguest: ' lines and the statistics table on stderr (and
    nothing else), without changing stdout or the exit status."""
    res, stats = t.boot_stats("echo hello; exit 9", rc=9)
    expect_stdout(res, "hello\n")
    expect("lguest: guest shut down with status 9" in stats.messages,
           "no 'guest shut down with status 9' message", res)
    expect(set(stats.devices) == {"console"}, f"devices {sorted(stats.devices)}", res)
    con = stats.devices["console"]
    expect(con["bytes-out"] >= len(b"hello\n"),
           f"console bytes-out {con['bytes-out']} < what was printed", res)
    expect(con["bounce"] == 0, "console bounced bytes", res)


# ---------------------------------------------------------------------------
# 2. ext2 through cat, ls and stat


def _make_tree(t):
    """A tree exercising every ext2 block-map level (1 KiB blocks: 12
    direct, then 256 per indirect block) plus holes, nesting and a big
    directory.  Returns (src dir, {guest path: host bytes})."""
    src = t.path("src")
    files = {
        "/small.txt": t.random_text(500),
        "/twelve.txt": t.random_text(12 * 1024),  # exactly the direct blocks
        "/single.txt": t.random_text(100 * 1024 + 123),  # single indirect
        "/double.txt": t.random_text(600 * 1024 + 77),  # double indirect
        "/a/b/c.txt": t.random_text(300),
    }
    for i in range(200):
        files[f"/many/f{i:03d}"] = t.random_text(1 + i * 7)
    for path, data in files.items():
        p = src / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    # Sparse: text, a hole, text across the indirect boundary, a trailing hole.
    sparse = bytearray(800 * 1024)
    for off, n in ((0, 1000), (300 * 1024 - 100, 2000), (700 * 1024, 500)):
        sparse[off:off + n] = t.random_text(n)
    with open(src / "sparse.bin", "wb") as f:
        for off, n in ((0, 1000), (300 * 1024 - 100, 2000), (700 * 1024, 500)):
            f.seek(off)
            f.write(sparse[off:off + n])
        f.truncate(len(sparse))
    files["/sparse.bin"] = bytes(sparse)
    for p in [src, *src.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return src, files


@case("ext2-cat", notify_modes=True, layouts=True)
def ext2_cat(t):
    """cat prints every file byte for byte: small, exactly 12 blocks, single
    and double indirect, sparse (holes read as zeros), nested and in a
    200-entry directory.  The whole stdout is compared exactly."""
    src, files = _make_tree(t)
    img = t.ext2_image(src, size="8M")
    names = ["/small.txt", "/twelve.txt", "/single.txt", "/double.txt", "/sparse.bin",
             "/a/b/c.txt", "/many/f000", "/many/f199"]
    cmd = "; ".join(f"echo @@{n}; cat {n}" for n in names) + "; echo @@end"
    expected = b"".join(b"@@%s\n%s" % (n.encode(), files[n]) for n in names) + b"@@end\n"
    res = t.boot(cmd, blocks=[img])
    expect_rc(res, 0)
    expect_no_stderr(res)
    if res.stdout != expected:
        # Say which file went wrong rather than dumping 1.4 MB.
        for n in names:
            start = res.stdout.find(b"@@%s\n" % n.encode())
            if start < 0:
                fail(f"no output for {n}", res)
            start += len(n) + 3
            got = res.stdout[start:start + len(files[n])]
            if got != files[n]:
                diff = next((i for i, (a, b) in enumerate(zip(got, files[n])) if a != b),
                            min(len(got), len(files[n])))
                fail(f"cat {n}: {len(files[n])}-byte file differs at offset {diff}", res)
        fail("stdout differs from the files (extra or missing bytes)", res)


_LS_RE = re.compile(r"^([-dlcbps][-rwxsStT]{9}) +(\d+) +(\d+) (.+)$")


def _parse_ls(res, text):
    """{name: (mode, links, size)} from ls output lines."""
    entries = {}
    for line in text.splitlines():
        m = _LS_RE.match(line)
        expect(m is not None, f"ls line {line!r} is not 'MODE LINKS SIZE NAME'", res)
        entries[m[4]] = (m[1], int(m[2]), int(m[3]))
    return entries


@case("ext2-ls-stat", notify_modes=True, layouts=True)
def ext2_ls_stat(t):
    """ls lists exactly the names in a directory with their modes and sizes
    (nested dirs, 200 entries); stat shows the size and permissions."""
    src, files = _make_tree(t)
    img = t.ext2_image(src, size="8M")
    res = t.boot("ls /a/b; echo @@; ls /many; echo @@; ls /; echo @@; "
                 "stat /double.txt; echo @@; stat /sparse.bin; echo @@; stat /a",
                 blocks=[img])
    expect_rc(res, 0)
    expect_no_stderr(res)
    parts = res.out.split("@@\n")
    expect(len(parts) == 6, f"expected 6 sections, got {len(parts)}", res)

    ab = _parse_ls(res, parts[0])
    expect(set(ab) == {".", "..", "c.txt"}, f"ls /a/b listed {sorted(ab)}", res)
    expect(ab["c.txt"] == ("-rw-r--r--", 1, len(files["/a/b/c.txt"])),
           f"ls /a/b: c.txt is {ab['c.txt']}", res)
    expect(ab["."][0] == "drwxr-xr-x", f"ls /a/b: . is {ab['.']}", res)

    many = _parse_ls(res, parts[1])
    want = {f"f{i:03d}" for i in range(200)} | {".", ".."}
    expect(set(many) == want, f"ls /many: missing {sorted(want - set(many))[:5]}, "
           f"extra {sorted(set(many) - want)[:5]}", res)
    for i in range(200):
        size = many[f"f{i:03d}"][2]
        expect(size == len(files[f"/many/f{i:03d}"]), f"ls /many: f{i:03d} has size {size}",
               res)

    root = _parse_ls(res, parts[2])
    for name in ("a", "many", "small.txt", "twelve.txt", "single.txt", "double.txt",
                 "sparse.bin", "lost+found"):
        expect(name in root, f"ls / lacks {name}", res)
    expect(root["double.txt"][2] == len(files["/double.txt"]), "ls /: double.txt size", res)
    expect(root["a"][0] == "drwxr-xr-x", f"ls /: a is {root['a']}", res)

    for part, size in ((parts[3], len(files["/double.txt"])),
                       (parts[4], len(files["/sparse.bin"]))):
        expect(f"  Size: {size}\t" in part, f"stat does not say '  Size: {size}'", res)
        expect("Access: (0644/-rw-r--r--)" in part, "stat does not say (0644/-rw-r--r--)", res)
    m = re.search(r"Blocks: (\d+)", parts[4])
    expect(m and int(m[1]) < len(files["/sparse.bin"]) // 512,
           "stat /sparse.bin: not sparse on the image (Blocks not below size/512)", res)
    expect("Access: (0755/drwxr-xr-x)" in parts[5], "stat /a is not (0755/drwxr-xr-x)", res)


# ---------------------------------------------------------------------------
# 10. gzip kernels


@case("gzip-kernel")
def gzip_kernel(t):
    """A gzip-compressed guest.elf boots and runs its commands."""
    gz = t.gzip_kernel()
    res = t.boot("echo gz-ok; exit 7", kernel=gz)
    expect_rc(res, 7)
    expect_stdout(res, "gz-ok\n")
    expect_no_stderr(res)


# ---------------------------------------------------------------------------
# 13. Commands from a pipe


@case("stdin-pipe-exit", layouts=True)
def stdin_pipe_exit(t):
    """Without '--' and with stdin a pipe, the guest runs the lines it reads;
    `exit 5` stops it with status 5 before the rest of the input."""
    res = t.boot(input=b"echo piped\nexit 5\necho never\n")
    expect_rc(res, 5)
    expect_stdout(res, "piped\n")
    expect_no_stderr(res)


@case("stdin-pipe-eof", layouts=True)
def stdin_pipe_eof(t):
    """At end of input the guest exits with the last command's status."""
    res = t.boot(input=b"echo a\necho b\n")
    expect_rc(res, 0)
    expect_stdout(res, "a\nb\n")
    expect_no_stderr(res)
    res = t.boot(input=b"echo a\nfrobnicate\n")
    expect_rc(res, 127)
    expect_stdout(res, "a\nfrobnicate: command not found (try help)\n")
    expect_no_stderr(res)
    res = t.boot(input=b"")
    expect_rc(res, 0)
    expect_stdout(res, "")
    expect_no_stderr(res)


@case("stdin-pipe-unterminated-line", layouts=True)
def stdin_pipe_unterminated(t):
    """A last line without a newline is still a whole command: after
    'echo first', input 'echo last' then EOF prints exactly 'last'."""
    res = t.boot(input=b"echo first\necho last")
    expect_rc(res, 0)
    expect_stdout(res, "first\nlast\n")
    expect_no_stderr(res)


@case("stdin-pipe-big", layouts=True)
def stdin_pipe_big(t):
    """Many lines (more than the guest's input buffers hold at once) all
    arrive, in order."""
    lines = [f"echo line{i:04d}" for i in range(300)]
    res = t.boot(input=("\n".join(lines) + "\n").encode())
    expect_rc(res, 0)
    expect_stdout(res, "".join(f"line{i:04d}\n" for i in range(300)))
    expect_no_stderr(res)


# ---------------------------------------------------------------------------
# 14. The interactive console on a pseudo-terminal


class Pty:
    """The launcher on a pty: the test holds the master (the "keyboard and
    screen"), the launcher gets the slave as stdin, stdout and stderr."""

    def __init__(self, t, argv):
        self.master, self.slave = os.openpty()
        self.buf = b""
        self.argv = [str(a) for a in argv]
        self.termios_before = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(self.argv, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, cwd=t.tmp, start_new_session=True)

    def describe(self):
        return (f"\n    command: {' '.join(self.argv)}\n    rc: {self.proc.poll()}"
                f"\n    terminal output: {self.buf[-600:]!r}")

    def fail(self, msg):
        raise Fail(msg + self.describe())

    def pump(self, timeout):
        """Read what the launcher wrote within TIMEOUT seconds (0: only what
        is there now)."""
        r, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if r:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                data = b""
            self.buf += data
            return bool(data)
        return False

    def wait_for(self, needle, start=0, timeout=limit(10)):
        """Wait until NEEDLE appears in the output after offset START;
        returns the offset just past it."""
        deadline = time.monotonic() + timeout
        while needle not in self.buf[start:]:
            if self.proc.poll() is not None:
                while self.pump(0):
                    pass
                if needle in self.buf[start:]:
                    break
                self.fail(f"launcher exited while we waited for {needle!r}")
            if time.monotonic() > deadline:
                self.fail(f"no {needle!r} on the terminal within {timeout} s")
            self.pump(deadline - time.monotonic())
        return self.buf.index(needle, start) + len(needle)

    def type(self, data):
        os.write(self.master, data)

    def wait_exit(self, timeout=limit(10)):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.fail(f"launcher still running {timeout} s later")
            self.pump(0.05)
        while self.pump(0):
            pass
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            kill_group(self.proc)
        os.close(self.master)
        os.close(self.slave)


def _interactive(t, keys_after_prompt, expect_after, final_keys, rc):
    pty = Pty(t, t.boot_argv())
    try:
        pos = pty.wait_for(b"# ")
        pty.type(keys_after_prompt)
        pty.wait_for(expect_after, pos)
        pty.type(final_keys)
        got = pty.wait_exit()
        if got != rc:
            pty.fail(f"exit status {got}, expected {rc}")
        after = termios.tcgetattr(pty.slave)
        if after != pty.termios_before:
            pty.fail(f"terminal settings not restored:\n    before {pty.termios_before}"
                     f"\n    after  {after}")
        return pty.buf
    finally:
        pty.close()


@case("interactive-ctrl-a-x", layouts=True)
def interactive_ctrl_a_x(t):
    """On a terminal the guest shows the '# ' prompt, echoes what is typed
    and runs it; ^A x stops the VM with status 130, and the terminal
    settings afterwards are exactly what they were before."""
    buf = _interactive(t, b"echo hi\r", b"echo hi\r\nhi\r\n# ", b"\x01x", 130)
    if b"lguest: ^A x: stopping the VM" not in buf:
        raise Fail(f"no '^A x: stopping the VM' message; terminal output {buf[-600:]!r}")


@case("interactive-exit", layouts=True)
def interactive_exit(t):
    """Typing `exit 4` in the interactive shell ends the launcher with status
    4, with the terminal restored; line editing (backspace) works."""
    _interactive(t, b"echo abX\x7fc\r", b"abc\r\n# ", b"exit 4\r", 4)


# ---------------------------------------------------------------------------
# 15. A small guest


@case("mem-16m", notify_modes=True, layouts=True)
def mem_16m(t):
    """The smallest guest (16M) boots and runs a queue-depth-8 benchmark
    without errors."""
    img, _ = t.raw_image(size=1 << 20)
    res = t.boot("blkbench randread bs=4K qd=8 count=100", blocks=[img], opts=["--mem=16M"])
    expect_rc(res, 0)
    expect_no_stderr(res)
    m = re.fullmatch(rb"blkbench randread bs=4096 qd=8: (\d+) ops in .* (\d+) errors\n",
                     res.stdout)
    expect(m is not None, "no blkbench result line", res)
    expect(int(m[1]) == 100 and int(m[2]) == 0,
           f"{int(m[1])} ops with {int(m[2])} errors, expected 100 and 0", res)
