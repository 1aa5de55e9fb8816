#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seed corpora for the ring and trace-drain harnesses.

    python3 tests/fuzz/seeds_rings.py    (writes tests/fuzz/corpus/{ring_*,trace_drain}/)

Each seed is a small program in the harness's input language (ring_env.h,
fuzz_ring_*.c, fuzz_trace_drain.c): a well-formed ring with a few chains
added the way the guest's driver would, popped and pushed back in some
order, with the notification calls a device model makes between; and a
few that break one rule, so the fuzzer starts next to every error path.
Keep the opcodes below in step with those files.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ring_env.c's operations (opcode % (12 + the layout's nops)).
POP, PUSH, FORGED, DISABLE, ENABLE, SIGNAL, HASBUF, DEPTH, RESUME, WRITE, FILL = (
    0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
LAYOUT = 12  # + the layout's own operation


def u8(v):
    return struct.pack('<B', v & 0xff)


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


def pop(queue=0, slot=0):
    return u8(POP) + u8(queue | slot << 1)


def push(slot, written):
    return u8(PUSH) + u8(slot) + u32(written)


def forged(queue, buf_id, written=0):
    return u8(FORGED) + u8(queue) + u16(buf_id) + u32(written)


def call(op, queue=0):
    return u8(op) + u8(queue)


def resume(pos):
    return u8(RESUME) + u32(pos)


def write(gpa, value, width):
    sel = {1: 0, 2: 1, 4: 2, 8: 3}[width]
    return u8(WRITE) + u8(sel) + u16(gpa) + value.to_bytes(width, 'little')


def device_loop(queue=0):
    """What a device thread does when kicked: stop NOTIFYs, look, ask again."""
    return call(DISABLE, queue) + call(ENABLE, queue) + call(HASBUF, queue)


# ---- split (fuzz_ring_split.c) ------------------------------------------

def split(op, *args):
    return u8(LAYOUT + op) + b''.join(args)


def s_chain(nread, nwrite, length, publish=True):
    return split(3, u8(nread | nwrite << 3 | (0 if publish else 0x40)), u8(length - 1))


def s_indirect(nread, nwrite, where=0, publish=True):
    return split(4, u8(nread | nwrite << 3 | (0 if publish else 0x40)), u8(where))


def s_avail_idx_set(v):
    return split(1, u8(0x80), u16(v))


def s_desc(i, field, value):
    """field 0 addr (u64), 1 len (u32), 2 flags, 3 next (u16)."""
    width = {0: u64, 1: u32, 2: u16, 3: u16}[field]
    return split(0, u8(field), u16(i), width(value))


def s_word(which, value):
    """which: 0 avail->flags, 1 used_event, 2 used->idx, 3 used->flags."""
    return split(5, u8(which), u16(value))


def split_seeds():
    hdr = u8(0) + u8(4)            # no EVENT_IDX, no INDIRECT, 16 entries at 0
    hdr_ei = u8(3) + u8(4)         # EVENT_IDX + INDIRECT
    yield 'requests', hdr + s_chain(1, 1, 16) + s_chain(2, 1, 64) + s_chain(1, 3, 200) + \
        device_loop() + pop(0, 0) + pop(0, 1) + pop(0, 2) + pop(0, 3) + call(ENABLE) + \
        push(1, 1) + push(0, 4096) + push(2, 100) + call(SIGNAL) + call(DEPTH) + \
        s_chain(1, 1, 16) + call(HASBUF) + pop(0, 0) + push(0, 0) + call(SIGNAL)
    yield 'event-idx-indirect', hdr_ei + s_indirect(1, 2) + s_chain(1, 1, 32) + \
        s_indirect(3, 0, where=3) + device_loop() + pop(0, 0) + pop(0, 1) + pop(0, 2) + \
        push(1, 8) + s_word(1, 0) + call(SIGNAL) + push(0, 64) + push(2, 0) + \
        s_word(1, 2) + call(SIGNAL) + call(ENABLE) + call(HASBUF)
    # The 16-bit indices wrap: both sides start at 65534 (vhost-user's base).
    yield 'index-wrap', hdr + resume(0xfffe) + s_avail_idx_set(0xfffe) + \
        s_word(2, 0xfffe) + b''.join(s_chain(1, 1, 8) for _ in range(4)) + \
        b''.join(pop(0, s) + push(s, 4) for s in range(4)) + call(DEPTH) + call(SIGNAL)
    yield 'offset-layout', u8(4) + u8(2) + u16(0x1230) + s_chain(2, 2, 100) + \
        pop() + push(0, 50)
    yield 'three-addresses', u8(8 | 1) + u8(2) + u16(0x2000) + u16(0x3000) + \
        u16(0x3800) + s_chain(1, 1, 16) + s_chain(1, 1, 16) + pop(0, 0) + pop(0, 1) + \
        push(1, 1) + push(0, 2) + call(SIGNAL)
    # Rules broken: a double push, a descriptor chain that loops, a head out
    # of range, a guest writing the used index.
    yield 'double-push', hdr + s_chain(1, 1, 16) + pop() + push(0, 1) + push(0, 1) + \
        pop() + call(ENABLE) + call(DEPTH)
    yield 'loop', hdr + s_chain(2, 0, 16) + s_desc(1, 3, 0) + s_desc(1, 2, 1) + pop()
    yield 'bad-head', hdr + split(2, u8(0), u16(17)) + split(1, u8(1)) + pop()
    yield 'used-idx-written', hdr + s_chain(1, 1, 16) + pop() + s_word(2, 5) + push(0, 1)
    yield 'forged-push', hdr + s_chain(1, 1, 16) + pop() + forged(0, 3) + call(SIGNAL)


# ---- packed (fuzz_ring_packed.c) ----------------------------------------

def packed(op, *args):
    return u8(LAYOUT + op) + b''.join(args)


def p_chain(nread, nwrite, length):
    return packed(1, u8(nread | nwrite << 3), u8(length - 1))


def p_indirect(nread, nwrite, where=0):
    return packed(2, u8(nread | nwrite << 3), u8(where))


def p_area(field, value, device=False):
    """field 0 off_wrap, 1 flags, of the driver area (or the device's)."""
    return packed(3, u8(field | (2 if device else 0)), u16(value))


def packed_seeds():
    hdr = u8(0) + u8(4)            # 16 slots at 0
    hdr_ei = u8(3) + u8(4)         # EVENT_IDX + INDIRECT
    # Out of order: the used descriptors go in completion order.
    yield 'requests', hdr + p_chain(1, 1, 16) + p_chain(1, 2, 64) + p_chain(2, 1, 8) + \
        device_loop() + pop(0, 0) + pop(0, 1) + pop(0, 2) + pop(0, 3) + call(ENABLE) + \
        push(1, 64) + push(0, 1) + push(2, 9999) + call(SIGNAL) + call(DEPTH)
    # Round the ring of 4 several times: both wrap counters flip.
    laps = b''.join(p_chain(1, 1, 16) + p_chain(1, 0, 16) + pop(0, 0) + pop(0, 1) +
                    push(1, 0) + push(0, 1) + call(SIGNAL) for _ in range(6))
    yield 'laps', u8(1) + u8(2) + p_area(1, 2) + laps + call(ENABLE)
    yield 'event-idx-indirect', hdr_ei + p_indirect(1, 3) + p_chain(1, 1, 32) + \
        p_indirect(2, 0, where=5) + p_area(0, 1 | 1 << 15) + p_area(1, 2) + \
        device_loop() + pop(0, 0) + pop(0, 1) + pop(0, 2) + push(0, 8) + call(SIGNAL) + \
        push(1, 1) + call(SIGNAL) + push(2, 0) + call(SIGNAL)
    yield 'resume', hdr + resume(5 | 1 << 15) + packed(5, u8(1), u16(5)) + \
        p_chain(1, 1, 16) + p_chain(1, 1, 16) + pop(0, 0) + pop(0, 1) + push(0, 1) + \
        push(1, 1)
    yield 'three-addresses', u8(8) + u8(3) + u16(0x1000) + u16(0x2000) + u16(0x2004) + \
        p_chain(3, 3, 40) + pop() + push(0, 100)
    # Rules broken.
    yield 'double-push', hdr + p_chain(1, 1, 16) + pop() + push(0, 1) + push(0, 1)
    # All four slots in flight (two buffers of two), and the driver writes a
    # third buffer over the first's head.
    yield 'overfill', u8(0) + u8(2) + p_chain(1, 1, 8) + p_chain(1, 1, 8) + pop(0, 0) + \
        pop(0, 1) + p_chain(1, 0, 8) + pop(0, 2)
    yield 'reserved-flags', hdr + p_chain(1, 1, 16) + pop() + push(0, 1) + \
        p_area(1, 3) + call(SIGNAL)
    yield 'misaligned-indirect', hdr_ei + p_indirect(1, 1, where=0x80) + pop()


# ---- draft3 (fuzz_ring_draft3.c) ----------------------------------------

IN, OUT = 0, 1


def d3(op, *args):
    return u8(LAYOUT + op) + b''.join(args)


def d_chain(queue, ndesc, length, publish=True):
    return d3(3, u8(queue | (ndesc - 1) << 1 | (0 if publish else 0x10)), u8(length - 1))


def d_join(slot, buf_id=None):
    if buf_id is None:
        return d3(4, u8(slot))
    return d3(4, u8(slot | 0x80), u16(buf_id))


def d_flags(queue, value, used=False, used_flags=False):
    return d3(5, u8(queue | (2 if used else 0) | (4 if used_flags else 0)), u32(value))


def draft3_seeds():
    hdr = u8(0)                    # the six pages at page 0
    # A block request: the in buffer first, then the out buffer naming it.
    yield 'block-request', hdr + d_chain(IN, 2, 200) + d_chain(OUT, 1, 16) + \
        device_loop(OUT) + pop(OUT, 0) + d_join(0) + push(0, 513) + call(SIGNAL, OUT) + \
        call(DEPTH, OUT) + d_chain(IN, 1, 100) + d_chain(IN, 3, 50) + \
        d_chain(OUT, 2, 32) + pop(OUT, 1) + d_join(1) + push(1, 1) + pop(IN, 2) + \
        push(2, 10) + call(ENABLE, IN) + call(ENABLE, OUT)
    # Console input: in buffers the device fills, oldest first.
    yield 'console', u8(2) + d_chain(IN, 1, 64) + d_chain(IN, 1, 64) + \
        call(HASBUF, IN) + pop(IN, 0) + pop(IN, 1) + push(1, 5) + push(0, 64) + \
        d_chain(OUT, 1, 20) + pop(OUT, 2) + push(2, 0) + call(SIGNAL, IN)
    # The running flag, and the guest polling on both queues.
    yield 'running', u8(1) + call(DISABLE, OUT) + d_chain(OUT, 1, 8) + \
        d_flags(IN, 1) + d_flags(OUT, 1) + call(ENABLE, OUT) + pop(OUT, 0) + \
        push(0, 0) + call(SIGNAL, OUT) + call(ENABLE, OUT)
    # Join finds its in buffer behind two others, which wait for their own.
    yield 'join-posted', hdr + d_chain(IN, 1, 8) + d_chain(IN, 1, 8) + \
        d_chain(IN, 1, 8) + d_chain(OUT, 1, 16) + pop(OUT, 0) + d_join(0, 2) + \
        pop(IN, 1) + pop(IN, 2) + push(0, 1) + push(1, 1) + push(2, 1)
    # Rules broken.
    yield 'double-push', hdr + d_chain(OUT, 1, 16) + pop(OUT, 0) + push(0, 0) + \
        push(0, 0) + call(ENABLE, OUT)
    yield 'used-idx-written', hdr + d_chain(IN, 1, 16) + pop(IN, 0) + \
        d_flags(IN, 7, used=True) + push(0, 1)
    yield 'join-unknown', hdr + d_chain(OUT, 1, 16) + pop(OUT, 0) + d_join(0, 100)
    yield 'pages-outside-ram', u8(0x80) + u64(7) + d_chain(OUT, 1, 16) + pop(OUT, 0)


# ---- trace drain (fuzz_trace_drain.c) -----------------------------------

APPEND, BUMP, HEAD, TAIL, SLOT, DRAIN = range(6)


def events(types):
    return u8(APPEND) + u8(len(types)) + b''.join(u8(t) + u16(i * 7) for i, t in
                                                   enumerate(types))


def trace_seeds():
    add, desc, reap, wake = 1, 2, 6, 23
    yield 'drains', u8(3) + events([add, desc, desc, reap]) + u8(DRAIN) + \
        events([add, wake]) + u8(DRAIN) + u8(DRAIN)
    # Full ring (the guest drops and counts), then round it several times.
    yield 'wrap', u8(2) + events([add] * 6) + u8(DRAIN) + \
        b''.join(events([add, reap, wake]) + u8(DRAIN) for _ in range(5))
    yield 'scaled-timebase', u8(4 | 0x18) + u64(1 << 40) + u16(2999) + u16(999) + \
        events([reap, wake, add]) + u8(DRAIN)
    yield 'head-runs-ahead', u8(3) + events([add]) + u8(BUMP) + u8(20) + u8(DRAIN) + \
        events([add]) + u8(DRAIN)
    yield 'tail-written', u8(3) + events([add] * 4) + u8(DRAIN) + u8(TAIL) + u64(2) + \
        u8(DRAIN) + u8(TAIL) + u64(9) + u8(DRAIN)
    yield 'slot-written', u8(2) + events([add, add]) + u8(SLOT) + u8(1) + bytes(range(32)) + \
        u8(DRAIN)


def write_corpus(name, seeds):
    folder = os.path.join(HERE, 'corpus', name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.unlink(os.path.join(folder, f))
    for seed, data in seeds:
        with open(os.path.join(folder, seed), 'wb') as f:
            f.write(data)


def main():
    write_corpus('ring_split', split_seeds())
    write_corpus('ring_packed', packed_seeds())
    write_corpus('ring_draft3', draft3_seeds())
    write_corpus('trace_drain', trace_seeds())


if __name__ == '__main__':
    main()
