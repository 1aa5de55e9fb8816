"""cases_install.py: lguest as it is installed.

Without KERNEL, lguest boots the guest.elf installed with it, and the
process backend finds its stub the same way (launcher/install_paths.h):
beside the program, in ../lib/lguest from there, in the compiled-in lib
directory; with none, one line says where it looked.  An installed
lguest-compare finds the kernel and its benchmarks in lib/lguest and lguest
beside itself.  Every command's man page (man/*.1.scd) documents exactly
the options its --help lists, and the bash completion (completion/) offers
those options, the ring settings and file names.  tests/install/check.sh
installs the real package; these cases run in make check."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from harness import (RUN_TIMEOUT, Skip, case, compiled_libdir, expect, expect_in_stdout,
                     expect_rc, expect_setup_error, fail)

REPO = Path(__file__).resolve().parents[2]
# What make install puts in PREFIX/lib/lguest (mk/install.mk's INSTALL_LIB).
LIB_FILES = ("guest.elf", "lguest-stub", "hostbench", "netbench", "ringbench", "ringbench-lines")


def _layout(t, root, bin_files=("lguest",), lib_files=("guest.elf", "lguest-stub")):
    """A make install with DESTDIR=ROOT PREFIX=/usr, by hand: returns its bin dir."""
    bindir, libdir = t.path(root) / "usr/bin", t.path(root) / "usr/lib/lguest"
    for d, files in ((bindir, bin_files), (libdir, lib_files)):
        d.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copy2(t.build / f, d / f)
    return bindir


def _disk_with_text(t):
    """An ext2 image holding /hello.txt; returns (image, its text)."""
    src = t.path("tree")
    src.mkdir()
    text = "the default kernel read this file\n"
    (src / "hello.txt").write_text(text)
    return t.ext2_image(src), text


@case("default-kernel")
def default_kernel(t):
    """`lguest -- CMD`: "--" straight away means the default kernel (here
    build/guest.elf, beside build/lguest), not a kernel called "--"."""
    img, text = _disk_with_text(t)
    res = t.run([t.lguest_bin, *t.backend_opts, f"--block={img}", "--", "cat /hello.txt"])
    expect_rc(res, 0)
    expect_in_stdout(res, text)


@case("relocated-install")
def relocated_install(t):
    """A tree laid out as make install lays it out, anywhere (a package
    unpacked with dpkg -x, DESTDIR): lguest finds its kernel and, on the
    process backend, its stub in ../lib/lguest, also when run through a
    symbolic link from elsewhere."""
    bindir = _layout(t, "root")
    link = t.path("elsewhere")
    link.mkdir()
    (link / "lguest").symlink_to(bindir / "lguest")
    for lguest in (bindir / "lguest", link / "lguest"):
        res = t.run([lguest, *t.backend_opts, "-v", "--", "echo relocated"])
        expect_rc(res, 0)
        expect_in_stdout(res, "relocated")
        kernel = t.path("root") / "usr/lib/lguest/guest.elf"
        expect(f"lguest: kernel {kernel}:" in res.stderr.decode(), f"-v does not name {kernel}",
               res)


def _nothing_installed(t, name):
    """The compiled-in lib directory, after checking it holds no NAME (an
    lguest installed on this machine would be found there, rightly)."""
    libdir = compiled_libdir(t.lguest_bin)
    if (libdir / name).exists():
        raise Skip(f"{libdir / name} is installed here, and lguest would rightly use it")
    return libdir


@case("no-kernel-installed", boots=False, params=[("none", ()), ("options", ("-v", "--mem=64M"))])
def no_kernel_installed(t):
    """lguest alone, nothing beside it or installed: no KERNEL is one setup
    line naming every place it looked."""
    libdir = _nothing_installed(t, "guest.elf")
    bindir = _layout(t, "lone", lib_files=())
    res = t.run([bindir / "lguest", *t.param, "--", "echo should-not-run"])
    expect_setup_error(res, "no guest kernel given and none installed",
                       f"(looked for guest.elf in {bindir}, {t.path('lone')}/usr/lib/lguest and "
                       f"{libdir})")


@case("no-stub-installed", boots=False)
def no_stub_installed(t):
    """A kernel but no stub anywhere: the process backend says where it
    looked, in one line (asked for, and when there is no KVM to fall back
    to: --kvm-device=/dev/null stands in for a machine without it)."""
    libdir = _nothing_installed(t, "lguest-stub")
    bindir = _layout(t, "nostub", lib_files=("guest.elf",))
    looked = (f"(looked for lguest-stub in {bindir}, {t.path('nostub')}/usr/lib/lguest and "
              f"{libdir})")
    res = t.run([bindir / "lguest", "--backend=process", "--", "echo should-not-run"])
    expect_setup_error(res, "--backend=process: cannot find the process backend's stub", looked)
    res = t.run([bindir / "lguest", "--kvm-device=/dev/null", "--", "echo should-not-run"])
    expect_setup_error(res, "no backend can run here", looked)


# One backend is enough to see where things are found: the process one runs everywhere.
@case("installed-compare", boots=("process",))
def installed_compare(t):
    """lguest-compare installed (PREFIX/bin, beside lguest) takes the kernel
    and its benchmarks from PREFIX/lib/lguest, and writes its results in
    the current directory: a missing benchmark is named there, and a quick
    boot section runs from that tree alone."""
    bindir = _layout(t, "root", bin_files=("lguest", "lguest-compare"),
                     lib_files=[f for f in LIB_FILES if f != "netbench"])
    compare = [bindir / "lguest-compare", "--quick", "--only=boot", *t.backend_opts]
    res = t.run(compare)
    expect_rc(res, 1)
    expect(f"{t.path('root')}/usr/lib/lguest/netbench is missing" in res.stderr.decode(),
           "lguest-compare does not look for netbench in lib/lguest", res)
    _layout(t, "root", bin_files=(), lib_files=("netbench",))
    res = t.run(compare, timeout=RUN_TIMEOUT * 4)
    expect_rc(res, 0)
    results = t.path("lguest-compare-results") / "results.json"
    expect(results.is_file(), f"no {results}", res)
    data = json.loads(results.read_text())
    expect(data["meta"]["backends"] == [t.backend], f"backends {data['meta']['backends']}", res)
    expect(not data["failures"], f"failures: {data['failures']}", res)


# ---------------------------------------------------------------------------
# Man pages and completion against each command's --help

COMMANDS = ("lguest", "lguest-trace", "lguest-compare", "lguest-vhost-blk")
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _help_options(t, command):
    """Every option COMMAND's --help lists: the option column of each line
    that starts, after two spaces, with a dash (ours and argparse's)."""
    p = subprocess.run([str(t.build / command), "--help"], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT)
    if p.returncode:
        fail(f"{command} --help exited {p.returncode}: {p.stderr}")
    opts = set()
    for line in p.stdout.splitlines():
        if re.match(r"  -", line):
            opts.update(_OPTION.findall(re.split(r"\s{2,}", line.strip())[0]))
    if len(opts) < 2:
        fail(f"{command} --help lists no options:\n{p.stdout}")
    return opts


def _man_options(command):
    """Every option the OPTIONS section of man/COMMAND.1.scd documents: its
    terms are the lines that start with a bold dash."""
    text = (REPO / "man" / f"{command}.1.scd").read_text()
    section = re.search(r"^# OPTIONS\n(.*?)(?=^# )", text, re.M | re.S)
    if not section:
        fail(f"man/{command}.1.scd has no OPTIONS section")
    return {o for line in section.group(1).splitlines() if line.startswith("*-")
            for o in _OPTION.findall(line)}


@case("man-options", boots=False, host_only=True, params=[(c, c) for c in COMMANDS])
def man_options(t):
    """COMMAND's man page and its --help list the same options, both ways,
    and make built the page (scdoc) with every placeholder filled in."""
    command = t.param
    page = t.build / "man" / f"{command}.1"
    if not page.is_file():
        raise Skip(f"no {page}: make builds it with scdoc (apt-get install scdoc)")
    expect(not re.search(r"@[A-Z]+@", page.read_text()), f"{page} has an unfilled @PLACEHOLDER@")
    helped, documented = _help_options(t, command), _man_options(command)
    expect(not helped - documented,
           f"in {command} --help but not in its man page: {sorted(helped - documented)}")
    expect(not documented - helped,
           f"in {command}'s man page but not in --help: {sorted(documented - helped)}")


BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
# Completes each line given on stdin as bash would, at its end, and prints
# the replies on one line.  bash breaks words at "=" (COMP_WORDBREAKS), so
# that each "=" is a word of its own; compopt needs a real completion.
_COMPLETE = r"""
source "$1"; source "$2"
compopt() { :; }
while IFS= read -r line; do
	read -ra toks <<<"$line"
	[[ $line == *" " ]] && toks+=("")
	w=()
	for tok in "${toks[@]}"; do
		while [[ $tok == *=* ]]; do w+=("${tok%%=*}" "="); tok=${tok#*=}; done
		w+=("$tok")
	done
	COMP_WORDS=("${w[@]}"); COMP_CWORD=$((${#w[@]} - 1))
	COMP_LINE=$line; COMP_POINT=${#line}; COMPREPLY=()
	f=$(complete -p "${w[0]}" | sed 's/.*-F \([^ ]*\).*/\1/')
	"$f" "${w[0]}" "${w[COMP_CWORD]}" "${w[COMP_CWORD - 1]}"
	echo "${COMPREPLY[*]}"
done
"""

# (command line, the replies expected), in a directory holding disk.img,
# disk2.img and notes.txt.
COMPLETIONS = [
    ("lguest --ring=", "draft3 split packed"),
    ("lguest --ring=pa", "packed"),
    ("lguest --backend=", "auto kvm process"),
    ("lguest --seccomp=", "on off"),
    ("lguest --qsize=1", "16 128 1024 16384"),
    ("lguest --block=disk", "disk.img disk2.img"),
    ("lguest --block=disk.img,ri", "disk.img,ring="),
    ("lguest --block=disk.img,ring=", "draft3 split packed"),
    ("lguest --block=disk.img,ring=split,in", "split,indirect="),
    ("lguest --block=disk.img,ring=split,indirect=", "on off"),
    ("lguest --block=disk.img,aio=", "io_uring threads sync"),
    ("lguest --block=disk.img,device=k", "kernel"),
    ("lguest --console=ring=packed,event_idx=", "on off"),
    ("lguest --tunnet=10.0.0.1/24,q", "10.0.0.1/24,qsize="),
    ("lguest no", "notes.txt"),
    ("lguest --block=disk.img -- l", ""),
    ("lguest-compare --backend ", "all auto kvm process"),
    ("lguest-compare --only=block,r", "block,rings"),
    ("lguest-vhost-blk disk.img,", "disk.img,ro"),
]


@case("completion", boots=False, host_only=True)
def completion(t):
    """completion/lguest.bash, sourced in bash with bash-completion: every
    command completes exactly the options its --help lists, and lguest its
    option values, per-device ring settings after a comma, and files."""
    if not shutil.which("bash"):
        raise Skip("no bash")
    if not BASH_COMPLETION.is_file():
        raise Skip(f"no {BASH_COMPLETION} (apt-get install bash-completion)")
    for name in ("disk.img", "disk2.img", "notes.txt"):
        t.path(name).write_bytes(b"")
    lines = [f"{c} -" for c in COMMANDS] + [line for line, _ in COMPLETIONS]
    p = subprocess.run(["bash", "-c", _COMPLETE, "bash", str(BASH_COMPLETION),
                        str(REPO / "completion" / "lguest.bash")],
                       input="\n".join(lines) + "\n", capture_output=True, text=True,
                       cwd=t.tmp, timeout=RUN_TIMEOUT, env=dict(os.environ, LC_ALL="C"))
    got = p.stdout.split("\n")
    if p.returncode or len(got) < len(lines):
        fail(f"bash exited {p.returncode}: stdout {p.stdout!r} stderr {p.stderr!r}")
    for command, replies in zip(COMMANDS, got):
        offered = {o.rstrip("=") for o in replies.split()}
        helped = _help_options(t, command)
        expect(offered == helped, f"{command} -<TAB> offers {sorted(offered - helped)} "
               f"beyond --help, and lacks {sorted(helped - offered)}")
    for (line, want), replies in zip(COMPLETIONS, got[len(COMMANDS):]):
        expect(sorted(replies.split()) == sorted(want.split()),
               f"{line!r}<TAB> offers {replies!r}, expected {want!r}")
