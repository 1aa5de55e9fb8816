#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""seeds_parsers.py: write the seed corpora of the parser harnesses.

    tests/fuzz/seeds_parsers.py [DIR]      (default: tests/fuzz/corpus)

Every seed is made here, by hand, from the formats' definitions, so the
corpora are reproducible and small and need no compiler: a valid input of
each kind, and a few that sit just on either side of a limit.  Rerunning
the script rewrites the same bytes (gzip with mtime 0).

Each harness's input format is described at the top of its fuzz_NAME.c;
the builders below follow those descriptions.  Only our own folders
(loader, blk_request, net_request, vhost_user, vhost_session) are emptied
and rewritten; the ring harnesses' are seeds_rings.py's.
"""
import gzip
import os
import struct
import sys

LG_KERNEL_BASE = 0x100000
LOADER_FUZZ_MAX_IMAGE = 1 << 20  # fuzz_loader.c's MAX_IMAGE


def fresh(corpus):
    """Empty one of our corpus folders, so a renamed seed leaves no stale copy;
    but keep the inputs long runs found bugs with (named found-*), which
    stay as regression tests."""
    os.makedirs(corpus, exist_ok=True)
    for f in os.listdir(corpus):
        if not f.startswith("found-"):
            os.unlink(os.path.join(corpus, f))
    return corpus


def write(corpus, name, data):
    os.makedirs(corpus, exist_ok=True)
    with open(os.path.join(corpus, name), "wb") as f:
        f.write(data)


# --- the kernel loader: ELF64 files, plain and gzip -------------------------

PT_LOAD, PT_GNU_STACK = 1, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4


def elf64(segments, entry):
    """A static x86-64 executable: header, program headers, then each
    segment's file bytes.  segments: (paddr, data, memsz, flags) or, for a
    non-PT_LOAD header, (p_type,)."""
    ehsize, phentsize = 64, 56
    phoff = ehsize
    off = phoff + phentsize * len(segments)
    phdrs, body = b"", b""
    for seg in segments:
        if len(seg) == 1:
            phdrs += struct.pack("<IIQQQQQQ", seg[0], PF_R | PF_W, 0, 0, 0, 0, 0, 16)
            continue
        paddr, data, memsz, flags = seg
        phdrs += struct.pack("<IIQQQQQQ", PT_LOAD, flags, off + len(body), paddr, paddr,
                             len(data), memsz, 0x1000)
        body += data
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)  # ELF64, little-endian, version 1
    eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, ehsize,
                             phentsize, len(segments), 64, 0, 0)  # ET_EXEC, EM_X86_64
    return eh + phdrs + body


def loader_seeds(out):
    c = fresh(os.path.join(out, "loader"))
    text = bytes((i * 7 + 1) & 0xFF for i in range(64))  # not code: the loader never runs it
    data = bytes(((i * 13 + 5) | 1) & 0xFF for i in range(32))
    one = elf64([(LG_KERNEL_BASE, text, len(text), PF_R | PF_X)], LG_KERNEL_BASE)
    full = elf64([(LG_KERNEL_BASE, text, len(text), PF_R | PF_X),
                  (LG_KERNEL_BASE + 0x1000, data, 0x3000, PF_R | PF_W), (PT_GNU_STACK,)],
                 LG_KERNEL_BASE + 8)
    write(c, "elf-one-load", one)
    write(c, "elf-text-data-bss", full)
    write(c, "elf-one-load.gz", gzip.compress(one, mtime=0))
    write(c, "elf-two-members.gz", gzip.compress(one[:40], mtime=0) + gzip.compress(one[40:], mtime=0))
    # Just inside and just past the harness's limit: a kernel padded with zeros.
    write(c, "elf-at-limit.gz", gzip.compress(one.ljust(LOADER_FUZZ_MAX_IMAGE, b"\0"), mtime=0))
    write(c, "bomb-limit-plus-1.gz",
          gzip.compress(one.ljust(LOADER_FUZZ_MAX_IMAGE + 1, b"\0"), mtime=0))
    # A bomb of many members, each small: the count must span members.
    member = gzip.compress(bytes(LOADER_FUZZ_MAX_IMAGE // 4), mtime=0)
    write(c, "bomb-members.gz", gzip.compress(one, mtime=0) + member * 5)


# --- block requests: fuzz_blk_request.c's input ----------------------------

VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID = 0, 1, 4, 8
D3_BLK_T_SCSI_CMD, D3_BLK_T_BARRIER = 3, 0x80000000


def blk_len(n):
    """The length code of an n-byte segment: whole sectors, or 1..1024 bytes."""
    if n % 512 == 0 and 512 <= n <= 16 * 512:
        return 0x8000 | (n // 512 - 1)
    assert 1 <= n <= 1024
    return n - 1


def blk_count(n):
    return n if n < 16 else 0xEF + n // 32


def blk_req(rlens, wlens, type_, sector, in_id=0, misc=0):
    hdr = struct.pack("<IIQQ", type_, 0, sector, in_id)
    return (bytes([blk_count(len(rlens)), blk_count(len(wlens))]) + hdr + bytes([misc]) +
            b"".join(struct.pack("<H", blk_len(n)) for n in rlens + wlens))


def blk_seeds(out):
    c = fresh(os.path.join(out, "blk_request"))
    virtio, d3, ro = 0, 1, 2
    seeds = {
        "virtio-read": (virtio, [blk_req([16], [1024, 1], VIRTIO_BLK_T_IN, 2)]),
        "virtio-write-read": (virtio, [blk_req([16, 512], [1], VIRTIO_BLK_T_OUT, 3),
                                       blk_req([16], [512, 1], VIRTIO_BLK_T_IN, 3)]),
        "virtio-header-split": (virtio, [blk_req([4, 12, 100, 412], [1], VIRTIO_BLK_T_OUT, 1)]),
        "virtio-flush": (virtio, [blk_req([16], [1], VIRTIO_BLK_T_FLUSH, 0)]),
        "virtio-get-id": (virtio, [blk_req([16], [20, 1], VIRTIO_BLK_T_GET_ID, 0),
                                   blk_req([16], [7], VIRTIO_BLK_T_GET_ID, 0)]),
        "virtio-unsupported": (virtio, [blk_req([16], [1], 0x99, 0)]),
        "virtio-last-sector": (virtio, [blk_req([16], [512, 1], VIRTIO_BLK_T_IN, 15),
                                        blk_req([16], [512, 1], VIRTIO_BLK_T_IN, 16),
                                        blk_req([16], [1], VIRTIO_BLK_T_IN, 16)]),
        "virtio-no-status": (virtio, [blk_req([16], [], VIRTIO_BLK_T_IN, 0)]),
        "virtio-short-header": (virtio, [blk_req([15], [1], VIRTIO_BLK_T_IN, 0)]),
        "virtio-many-segments": (virtio, [blk_req([16], [512] * 16 + [1], VIRTIO_BLK_T_IN, 0)]),
        "virtio-push-fails": (virtio, [blk_req([16], [512, 1], VIRTIO_BLK_T_IN, 0, misc=2)]),
        "ro-write": (virtio | ro, [blk_req([16, 512], [1], VIRTIO_BLK_T_OUT, 0),
                                   blk_req([16], [1], VIRTIO_BLK_T_FLUSH, 0)]),
        "draft3-read": (d3, [blk_req([24], [1, 512], VIRTIO_BLK_T_IN, 5, 7)]),
        "draft3-write-barrier": (d3, [blk_req([24, 1024], [1],
                                              VIRTIO_BLK_T_OUT | D3_BLK_T_BARRIER, 4, 9)]),
        "draft3-flush": (d3, [blk_req([24], [1], VIRTIO_BLK_T_FLUSH, 0, 1)]),
        "draft3-scsi": (d3, [blk_req([24], [1], D3_BLK_T_SCSI_CMD, 0, 2)]),
        "draft3-join-fails": (d3, [blk_req([24], [1], VIRTIO_BLK_T_IN, 0, 200, misc=1)]),
        "draft3-push-fails": (d3, [blk_req([24], [1, 512], VIRTIO_BLK_T_IN, 0, 1, misc=2)]),
        "draft3-status-in-data": (d3, [blk_req([24], [513], VIRTIO_BLK_T_IN, 1, 3)]),
    }
    for name, (flags, reqs) in seeds.items():
        write(c, name, bytes([flags]) + b"".join(reqs))


# --- network requests: fuzz_net_request.c's input ---------------------------

VNET_HDR_D3, VNET_HDR_V1, ETH_FRAME_MAX = 10, 12, 1514


def net_lens(lens):
    return b"".join(struct.pack("<H", n - 1) for n in lens)


def net_tx(rlens, wlens=(), misc=0):
    return bytes([0, len(rlens), len(wlens), misc]) + net_lens(list(rlens) + list(wlens))


def net_rx(wlens, frame, rlens=(), misc=0):
    return (bytes([1, len(wlens), len(rlens), misc]) + struct.pack("<H", frame) +
            net_lens(list(rlens) + list(wlens)))


def net_seeds(out):
    c = fresh(os.path.join(out, "net_request"))
    v1, d3 = 0, 1
    seeds = {
        "tx-v1": (v1, [net_tx([12, 60])]),
        "tx-d3-one-segment": (d3, [net_tx([10 + 60])]),
        "tx-smallest-largest": (v1, [net_tx([12 + 14]), net_tx([12, 1514])]),
        "tx-too-short": (v1, [net_tx([12 + 13])]),
        "tx-too-long": (d3, [net_tx([10, 1000, 515])]),
        "tx-writable": (v1, [net_tx([12, 60], [4])]),
        "tx-push-fails": (v1, [net_tx([12, 60], misc=2)]),
        "rx-v1": (v1, [net_rx([12 + 1514], 12 + 60)]),
        "rx-d3-split-buffer": (d3, [net_rx([4, 6, 1514], 10 + 100)]),
        # The second buffer is the held one: no segments of its own.
        "rx-held": (v1, [net_rx([2048], 0), net_rx([], 12 + 42)]),
        "rx-short-frame": (v1, [net_rx([2048], 5), net_rx([], 100)]),
        "rx-truncated": (v1, [net_rx([12 + 1514], 3000)]),
        "rx-small-buffer": (v1, [net_rx([12 + 1513], 60)]),
        "rx-readable": (d3, [net_rx([2048], 60, rlens=[8])]),
        "tx-rx": (v1, [net_tx([12, 60]), net_rx([2048], 64), net_tx([80])]),
    }
    for name, (flags, ops) in seeds.items():
        write(c, name, bytes([flags]) + b"".join(ops))


# --- vhost-user: vu_stream.h's sends, for fuzz_vhost_user and _session -----

VU = dict(GET_FEATURES=1, SET_FEATURES=2, SET_OWNER=3, RESET_OWNER=4, SET_MEM_TABLE=5,
          SET_VRING_NUM=8, SET_VRING_ADDR=9, SET_VRING_BASE=10, GET_VRING_BASE=11,
          SET_VRING_KICK=12, SET_VRING_CALL=13, SET_VRING_ERR=14, GET_PROTOCOL_FEATURES=15,
          SET_PROTOCOL_FEATURES=16, GET_QUEUE_NUM=17, SET_VRING_ENABLE=18, GET_CONFIG=24,
          GET_MAX_MEM_SLOTS=36)
VU_VERSION, VU_FLAG_REPLY, VU_FLAG_NEED_REPLY = 1, 4, 8
# vu_stream.h's fd kinds
MEMFD_64K, MEMFD_2M, MEMFD_0, MEMFD_ODD, EVENTFD, PIPE, OPATH, DEVNULL = range(8)
VIRTIO_F_VERSION_1, VIRTIO_F_RING_PACKED, VU_F_PROTOCOL_FEATURES = 32, 34, 30
UVA = 0x7F0000000000  # where "the frontend" has guest RAM


def vu_msg(name, payload=b"", flags=VU_VERSION):
    return struct.pack("<III", VU[name], flags, len(payload)) + payload


def vu_send(data, kinds=()):
    """One sendmsg(): the bytes, with an fd of each kind."""
    return bytes([len(kinds)]) + bytes(kinds) + struct.pack("<H", len(data)) + data


def vu_poke(offset, data):
    return bytes([0x10]) + struct.pack("<HH", offset, len(data)) + data


def vu_table(*regions):
    """SET_MEM_TABLE's payload: (gpa, size, uva, mmap_offset) each."""
    return struct.pack("<II", len(regions), 0) + b"".join(struct.pack("<QQQQ", *r) for r in regions)


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def vring_addr(desc, used, avail, index=0, flags=0):
    return struct.pack("<IIQQQQ", index, flags, desc, used, avail, 0)


# A split ring of 8 in the first 64 KiB of guest RAM, and one request on it:
# read sector 1 into 0x5000, status at 0x6000.
RING_DESC, RING_AVAIL, RING_USED = 0x1000, 0x2000, 0x3000


def split_ring_pokes():
    desc = (struct.pack("<QIHH", 0x4000, 16, 1, 1) + struct.pack("<QIHH", 0x5000, 512, 3, 2) +
            struct.pack("<QIHH", 0x6000, 1, 2, 0))
    avail = struct.pack("<HHH", 0, 1, 0)
    hdr = struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 1)
    return vu_poke(RING_DESC, desc) + vu_poke(RING_AVAIL, avail) + vu_poke(0x4000, hdr)


def vu_setup(features=1 << VIRTIO_F_VERSION_1, protocol=None, base=0):
    """A frontend's start, as QEMU's vhost-user-blk sends it, one message per send."""
    out = [vu_send(vu_msg("GET_FEATURES"))]
    if protocol is not None:
        out += [vu_send(vu_msg("GET_PROTOCOL_FEATURES")),
                vu_send(vu_msg("SET_PROTOCOL_FEATURES", u64(protocol)))]
    out += [vu_send(vu_msg("SET_OWNER")),
            vu_send(vu_msg("SET_FEATURES", u64(features))),
            vu_send(vu_msg("SET_MEM_TABLE", vu_table((0, 0x10000, UVA, 0))), [MEMFD_64K]),
            vu_send(vu_msg("SET_VRING_NUM", state(0, 8))),
            vu_send(vu_msg("SET_VRING_ADDR", vring_addr(UVA + RING_DESC, UVA + RING_USED,
                                                        UVA + RING_AVAIL))),
            vu_send(vu_msg("SET_VRING_BASE", state(0, base))),
            vu_send(vu_msg("SET_VRING_CALL", u64(0)), [EVENTFD]),
            vu_send(vu_msg("SET_VRING_ERR", u64(0)), [EVENTFD]),
            vu_send(vu_msg("SET_VRING_KICK", u64(0)), [EVENTFD])]
    return out


def vu_common_seeds():
    """Streams both vhost-user harnesses start from (after their flags byte)."""
    setup = vu_setup()
    msgs = b"".join(d[4:] for d in setup)  # the bytes alone, without send framing
    table2 = vu_msg("SET_MEM_TABLE", vu_table((0, 0x10000, UVA, 0),
                                              (0x100000, 0x100000, UVA + 0x100000, 100)))
    table8 = vu_msg("SET_MEM_TABLE", vu_table(*[(i << 20, 0x1000, UVA + (i << 20), i << 12)
                                                for i in range(8)]))
    get_config = vu_msg("GET_CONFIG", struct.pack("<III", 0, 60, 0) + bytes(60))
    return {
        "setup": b"".join(setup),
        "setup-one-send": vu_send(msgs[:4000], [EVENTFD]),
        "split-header-payload": (vu_send(table2[:12]) + vu_send(table2[12:30], [MEMFD_64K]) +
                                 vu_send(table2[30:], [MEMFD_2M])),
        "table-two-regions": vu_send(table2, [MEMFD_64K, MEMFD_2M]),
        "table-eight-regions": vu_send(table8, [MEMFD_2M] * 8),
        "table-past-file": vu_send(vu_msg("SET_MEM_TABLE", vu_table((0, 0x20000, UVA, 0))),
                                   [MEMFD_64K]),
        "table-odd-file": vu_send(vu_msg("SET_MEM_TABLE", vu_table((0, 4196 - 50, UVA, 50))),
                                  [MEMFD_ODD]),
        "table-overlap": vu_send(vu_msg("SET_MEM_TABLE", vu_table((0, 0x10000, UVA, 0),
                                                                  (0x8000, 0x1000, UVA * 2, 0))),
                                 [MEMFD_64K, MEMFD_2M]),
        "table-unmappable": vu_send(vu_msg("SET_MEM_TABLE", vu_table((0, 0x1000, UVA, 0),
                                                                     (1 << 20, 0x1000, 2 * UVA, 0))),
                                    [DEVNULL, OPATH]),
        "table-fd-count": vu_send(vu_msg("SET_MEM_TABLE", vu_table((0, 0x1000, UVA, 0))),
                                  [MEMFD_64K, MEMFD_2M]),
        "too-many-fds": vu_send(vu_msg("SET_VRING_CALL", u64(0)), [EVENTFD] * 9),
        "bad-version": vu_send(vu_msg("GET_FEATURES", flags=2)),
        "too-large": vu_send(struct.pack("<III", VU["SET_FEATURES"], 1, 1000) + bytes(1000)),
        "wrong-size": vu_send(vu_msg("SET_VRING_NUM", u64(0) + u64(0))),
        "config": vu_send(get_config) + vu_send(vu_msg("GET_CONFIG", struct.pack("<III", 0, 300, 0))),
        "reply": vu_send(vu_msg("GET_FEATURES", u64(5), VU_VERSION | VU_FLAG_REPLY)),
        "truncated": vu_send(vu_msg("SET_FEATURES", u64(1 << 32))[:15]),
        "tables-while-running": b"".join(vu_send(table8, [MEMFD_2M] * 8) for _ in range(5)),
    }


def vhost_seeds(out):
    user = fresh(os.path.join(out, "vhost_user"))
    session = fresh(os.path.join(out, "vhost_session"))
    for name, stream in vu_common_seeds().items():
        write(user, name, bytes([0]) + stream)
        write(session, name, bytes([0]) + stream)
    write(user, "tables-while-running-ring", bytes([1]) + vu_common_seeds()["tables-while-running"])
    # Sessions that get as far as serving a request on the ring.
    setup = vu_setup()
    write(session, "serve-split", bytes([1]) + split_ring_pokes() + b"".join(setup) +
          vu_send(vu_msg("GET_VRING_BASE", state(0, 0))))
    proto = (1 << 3) | (1 << 9)  # REPLY_ACK, CONFIG
    setup = vu_setup((1 << VIRTIO_F_VERSION_1) | (1 << VU_F_PROTOCOL_FEATURES), proto)
    write(session, "serve-split-protocol",
          bytes([1]) + split_ring_pokes() + b"".join(setup) +
          vu_send(vu_msg("SET_VRING_ENABLE", state(0, 1), VU_VERSION | VU_FLAG_NEED_REPLY)) +
          vu_send(vu_msg("GET_CONFIG", struct.pack("<III", 0, 60, 0) + bytes(60))) +
          vu_send(vu_msg("GET_QUEUE_NUM")) + vu_send(vu_msg("GET_VRING_BASE", state(0, 0))) +
          vu_send(vu_msg("RESET_OWNER")))
    # Packed: position 0, wrap counter 1 (bit 15), as QEMU starts a ring.
    setup = vu_setup((1 << VIRTIO_F_VERSION_1) | (1 << VIRTIO_F_RING_PACKED), base=0x8000)
    write(session, "packed", bytes([1]) + b"".join(setup) +
          vu_send(vu_msg("GET_VRING_BASE", state(0, 0))))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    loader_seeds(out)
    blk_seeds(out)
    net_seeds(out)
    vhost_seeds(out)


if __name__ == "__main__":
    main()
