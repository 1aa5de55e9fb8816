#!/usr/bin/env python3
"""seeds_guest.py: write the seed corpora of the guest harnesses.

tests/fuzz/corpus/ext2/: small ext2 images made by the real mke2fs -d, at
block sizes 1, 2 and 4 KiB, from a tree with a file, a directory deep
enough to walk, a file big enough for an indirect block, a hole and a
symlink.

tests/fuzz/corpus/guest_net/: frames as the guest's stack sees them (each
a 2-byte little-endian length, then the frame): an ARP request for the
guest's address, an ICMP echo request, a UDP datagram to the echo port,
the same with a bad checksum, and two fragments.

Deterministic contents; run it again to regenerate."""
import struct
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tree(root):
    (root / "README.txt").write_text("hello from a seed image\n")
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "c").write_bytes(bytes(range(256)) * 64)      # 16 KiB
    (root / "a" / "big").write_bytes(bytes(i % 251 for i in range(300 * 1024)))
    with open(root / "a" / "sparse", "wb") as f:
        f.seek(200 * 1024)
        f.write(b"end")
    (root / "link").symlink_to("a/b/c")
    for i in range(40):
        (root / "a" / f"entry_{i:02d}").write_text(str(i))


GUEST_MAC = bytes.fromhex("525400123456")
PEER_MAC = bytes.fromhex("0200000000aa")
GUEST_IP = bytes([10, 0, 0, 2])
PEER_IP = bytes([10, 0, 0, 1])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, payload, frag=0, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    PEER_IP, GUEST_IP)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return GUEST_MAC + PEER_MAC + b"\x08\x00" + h + payload


def udp(payload, dport=7000, good=True):
    u = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    pseudo = PEER_IP + GUEST_IP + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) if good else 0x1234
    return u[:6] + struct.pack("!H", c or 0xffff) + u[8:]


def icmp_echo(payload):
    m = struct.pack("!BBHHH", 8, 0, 0, 0x77, 1) + payload
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def arp_request():
    return (b"\xff" * 6 + PEER_MAC + b"\x08\x06" +
            struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, PEER_IP,
                        bytes(6), GUEST_IP))


def frames(*fs):
    return b"".join(struct.pack("<H", len(f)) + f for f in fs)


def net_seeds():
    out = HERE / "corpus" / "guest_net"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    seeds = {
        "arp-request": frames(arp_request()),
        "ping": frames(arp_request(), ipv4(1, icmp_echo(b"x" * 56))),
        "udp-echo": frames(arp_request(), ipv4(17, udp(b"hello"))),
        "udp-bad-checksum": frames(ipv4(17, udp(b"hello", good=False))),
        "udp-other-port": frames(ipv4(17, udp(b"nobody", dport=9))),
        "fragments": frames(ipv4(17, udp(b"a" * 64)[:32], frag=0x2000),
                            ipv4(17, udp(b"a" * 64)[32:], frag=4)),
        "big-udp": frames(arp_request(), ipv4(17, udp(b"z" * 1472))),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)
    return len(seeds)


def main():
    n = net_seeds()
    print(f"wrote {n} seeds in {HERE / 'corpus' / 'guest_net'}")
    out = HERE / "corpus" / "ext2"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        tree(src)
        for bs, kib in ((1024, 512), (2048, 512), (4096, 1024)):
            img = out / f"ext2-{bs}.img"
            env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000")
            subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", str(bs), "-N", "64",
                            "-U", "2a9e1f4c-7b3d-4e58-9c61-0d8f3b2a5e17",
                            "-E", "hash_seed=2a9e1f4c-7b3d-4e58-9c61-0d8f3b2a5e17",
                            "-d", str(src), str(img), f"{kib}k"], check=True, env=env)
    print(f"wrote {len(list(out.iterdir()))} seeds in {out}")


if __name__ == "__main__":
    sys.exit(main())
