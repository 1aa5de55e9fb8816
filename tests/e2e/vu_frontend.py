#!/usr/bin/env python3
"""vu_frontend.py: a small vhost-user frontend (the side with the guest),
for testing vhost-user-blk *backends* (cases_vhost_backend.py tests
build/lguest-vhost-blk with it).  It is the reverse of vu_peer.py, which
misbehaves as a backend against our launcher.  Test-only, standard library
only (Python 3.10+: os.eventfd, os.memfd_create, socket.send_fds).

The library:

  Frontend(PATH)     one connection: send() any message (any header, any
                     fds, any payload, even a lying size), recv() one,
                     get() a request's reply, set() a SET_* (acknowledged
                     with REPLY_ACK once negotiated), hangup() to wait
                     for the backend to hang up.
  GuestRAM           guest memory in a memfd, at a guest-physical and a
                     (made-up) frontend address of our choosing.
  SplitRing          a virtio 1.x split ring laid out in GuestRAM, with
                     block requests (header, data, status) published on it.
  Session            a well-behaved frontend: negotiate(), memory(),
                     rings(), start(), read(), capacity(); its steps can
                     be used up to any point, then something goes wrong.

The scenarios (SCENARIOS): each one misbehaves in one way on a connected
Frontend.  Run one in its own process (the frontend that dies mid-request
is killed with SIGKILL that way):

    vu_frontend.py SOCKET SCENARIO [--ram-fd=N] [--call-fd=N]

All socket operations have deadlines: a backend that stops answering
raises Timeout here, never hangs the test.
"""
import mmap
import os
import select
import socket
import struct
import sys
import time

# Requests (vhost-user.rst, "Front-end message types").
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER = 1, 2, 3, 4
SET_MEM_TABLE, SET_LOG_BASE, SET_LOG_FD = 5, 6, 7
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM = 15, 16, 17
SET_VRING_ENABLE, GET_CONFIG, SET_CONFIG = 18, 24, 25

VERSION, REPLY, NEED_REPLY = 0x1, 0x4, 0x8
NOFD = 0x100  # SET_VRING_KICK/CALL/ERR: no fd comes (polling)
VRING_F_LOG = 0  # SET_VRING_ADDR flags: log used-ring writes

# Feature bits.
F_INDIRECT_DESC, F_EVENT_IDX, F_PROTOCOL_FEATURES = 28, 29, 30
F_VERSION_1, F_RING_PACKED = 32, 34
BLK_F_SEG_MAX, BLK_F_RO, BLK_F_BLK_SIZE, BLK_F_FLUSH = 2, 5, 6, 9
P_REPLY_ACK, P_CONFIG = 3, 9

# virtio-blk.
SECTOR = 512
T_IN, T_OUT = 0, 1
S_OK = 0
DESC_F_NEXT, DESC_F_WRITE = 1, 2

MAX_FDS = 8
HEADER = struct.Struct("<III")  # request, flags, size
REGION = struct.Struct("<QQQQ")  # gpa, size, frontend address, mmap offset


def bit(n):
    return 1 << n


class Closed(Exception):
    """The backend hung up (at a message boundary, or with ECONNRESET)."""


class Timeout(Exception):
    """The backend did not answer, or did not hang up, in time."""


class Refused(Exception):
    """A SET_* was acknowledged with a nonzero status (REPLY_ACK)."""


class Protocol(Exception):
    """The backend sent something we did not expect."""


# ---------------------------------------------------------------------------
# One connection


class Frontend:
    """A connection to a vhost-user backend on PATH.  Every wait is bounded
    by TIMEOUT seconds (per call)."""

    def __init__(self, path, timeout=3.0):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.settimeout(timeout)
        self.reply_ack = False  # REPLY_ACK negotiated: set() waits for each ack
        self.owned = []  # what close() closes: fds and Sessions made for this connection
        try:
            self.sock.connect(str(path))
        except OSError:
            self.sock.close()
            raise

    def own(self, thing):
        """THING (an fd, or anything with close()) is closed with the connection."""
        self.owned.append(thing)
        return thing

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        for thing in reversed(self.owned):
            try:
                thing.close() if hasattr(thing, "close") else os.close(thing)
            except OSError:
                pass
        self.owned = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- raw -----------------------------------------------------------------

    def send_raw(self, data, fds=()):
        """DATA as is, FDS (SCM_RIGHTS) with its first byte."""
        data = bytes(data)
        try:
            sent = socket.send_fds(self.sock, [data], list(fds)) if fds else 0
            if sent < len(data):
                self.sock.sendall(data[sent:])
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(f"send: {e.strerror}") from None

    def send(self, request, payload=b"", flags=0, fds=(), size=None, version=VERSION):
        """One message: SIZE in the header is len(PAYLOAD) unless given (a lie)."""
        size = len(payload) if size is None else size
        self.send_raw(HEADER.pack(request, version | flags, size) + payload, fds)

    def _read(self, n, deadline, fds):
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"{len(buf)} of {n} bytes after {self.timeout} s")
            self.sock.settimeout(left)
            try:
                data, got, _, _ = socket.recv_fds(self.sock, n - len(buf), MAX_FDS + 1)
            except TimeoutError:
                continue
            except ConnectionResetError:
                data, got = b"", []
            fds.extend(got)
            if not data:
                if buf:
                    raise Protocol(f"the backend hung up mid-message ({len(buf)} of {n} bytes)")
                raise Closed("the backend hung up")
            buf += data
        return buf

    def recv(self, timeout=None):
        """One message: (request, flags, payload, fds).  Closed at a clean
        end of stream (or a reset), Timeout if nothing comes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        fds = []
        request, flags, size = HEADER.unpack(self._read(HEADER.size, deadline, fds))
        payload = self._read(size, deadline, fds) if size else b""
        return request, flags, payload, fds

    def hangup(self, timeout=None):
        """Wait for the backend to hang up; the messages that came first
        (say, a nonzero REPLY_ACK for what it refused).  Timeout if it
        keeps the connection open."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        got = []
        while True:
            try:
                request, flags, payload, fds = self.recv(max(0.0, deadline - time.monotonic()))
            except Closed:
                return got
            except Timeout:
                raise Timeout(f"the backend did not hang up within "
                              f"{self.timeout if timeout is None else timeout} s") from None
            for fd in fds:
                os.close(fd)
            got.append((request, flags, payload))

    # -- requests ------------------------------------------------------------

    def get(self, request, payload=b"", fds=()):
        """A request with a reply of its own: the reply's payload."""
        self.send(request, payload, fds=fds)
        r, flags, reply, rfds = self.recv()
        for fd in rfds:
            os.close(fd)
        if r != request or not flags & REPLY or flags & 3 != VERSION:
            raise Protocol(f"request {request} answered with request {r}, flags {flags:#x}")
        return reply

    def get_u64(self, request):
        reply = self.get(request)
        if len(reply) != 8:
            raise Protocol(f"request {request}: a reply of {len(reply)} bytes")
        return struct.unpack("<Q", reply)[0]

    def set(self, request, payload=b"", fds=(), ack=None):
        """A SET_*: with REPLY_ACK negotiated (or ACK=True), ask for the
        acknowledgement and raise Refused on a nonzero one."""
        ack = self.reply_ack if ack is None else ack
        self.send(request, payload, flags=NEED_REPLY if ack else 0, fds=fds)
        if ack:
            status = struct.unpack("<Q", self.get_reply(request))[0]
            if status:
                raise Refused(f"request {request} acknowledged with {status}")

    def get_reply(self, request):
        r, flags, reply, rfds = self.recv()
        for fd in rfds:
            os.close(fd)
        if r != request or not flags & REPLY or len(reply) != 8:
            raise Protocol(f"request {request}: reply {r}, flags {flags:#x}, "
                           f"{len(reply)} bytes")
        return reply

    def set_u64(self, request, value, fds=(), ack=None):
        self.set(request, struct.pack("<Q", value), fds, ack)

    def set_state(self, request, index, num, ack=None):
        self.set(request, struct.pack("<II", index, num), ack=ack)

    def set_mem_table(self, regions, fds, nregions=None, ack=None):
        """REGIONS: (gpa, size, frontend address, mmap offset) tuples."""
        n = len(regions) if nregions is None else nregions
        self.set(SET_MEM_TABLE, mem_table(regions, n), fds, ack)

    def set_vring_addr(self, index, desc, used, avail, flags=0, log=0, ack=None):
        self.set(SET_VRING_ADDR, vring_addr(index, desc, used, avail, flags, log), ack=ack)

    def get_vring_base(self, index):
        index_back, num = struct.unpack("<II", self.get(GET_VRING_BASE,
                                                        struct.pack("<II", index, 0)))
        if index_back != index:
            raise Protocol(f"GET_VRING_BASE of ring {index} answered for ring {index_back}")
        return num

    def get_config(self, offset, size):
        reply = self.get(GET_CONFIG, config_request(offset, size))
        if len(reply) != 12 + size or struct.unpack("<II", reply[:8]) != (offset, size):
            raise Protocol(f"GET_CONFIG reply of {len(reply)} bytes: {reply[:12].hex()}")
        return reply[12:]


def mem_table(regions, nregions=None):
    n = len(regions) if nregions is None else nregions
    return struct.pack("<II", n, 0) + b"".join(REGION.pack(*r) for r in regions)


def vring_addr(index, desc, used, avail, flags=0, log=0):
    """The kernel's struct vhost_vring_addr: index, flags, then the
    descriptor table, the used ring, the available ring, the log."""
    return struct.pack("<IIQQQQ", index, flags, desc, used, avail, log)


def config_request(offset, size):
    return struct.pack("<III", offset, size, 0) + bytes(size)


# ---------------------------------------------------------------------------
# Guest memory and a split ring in it


class GuestRAM:
    """SIZE bytes of guest RAM in a memfd (or FD, one made elsewhere),
    guest-physically at GPA, and at UVA in the frontend's (pretended)
    address space: the backend only uses UVA to translate ring addresses."""

    def __init__(self, size=1 << 20, gpa=0x100000, uva=0x7F3A00000000, fd=None):
        self.size, self.gpa, self.uva = size, gpa, uva
        if fd is None:
            fd = os.memfd_create("vu-frontend-ram", os.MFD_CLOEXEC)
            os.ftruncate(fd, size)
        self.fd = fd
        self.map = mmap.mmap(fd, size)

    def region(self, offset=0):
        return (self.gpa, self.size, self.uva, offset)

    def uaddr(self, gpa):
        return gpa - self.gpa + self.uva

    def _at(self, gpa, n):
        off = gpa - self.gpa
        if off < 0 or off + n > self.size:
            raise ValueError(f"{gpa:#x}+{n} is outside the guest RAM")
        return off

    def read(self, gpa, n):
        off = self._at(gpa, n)
        return bytes(self.map[off:off + n])

    def write(self, gpa, data):
        off = self._at(gpa, len(data))
        self.map[off:off + len(data)] = data

    def u16(self, gpa):
        return struct.unpack("<H", self.read(gpa, 2))[0]

    def close(self):
        if self.fd is not None:
            self.map.close()
            os.close(self.fd)
            self.fd = None


class Request:
    """One block request on a ring: its head and where its parts are."""

    def __init__(self, ring, head, header, data, nbytes, status):
        self.ring, self.head = ring, head
        self.header, self.data, self.nbytes, self.status_gpa = header, data, nbytes, status

    @property
    def status(self):
        return self.ring.ram.read(self.status_gpa, 1)[0]

    def read_data(self):
        return self.ring.ram.read(self.data, self.nbytes)


class SplitRing:
    """A split ring of NUM entries in RAM at OFFSET: descriptor table,
    available ring (each a page after the other), used ring, then buffers.
    Everything starts zeroed, as a driver leaves it."""

    def __init__(self, ram, num=8, offset=0):
        self.ram, self.num = ram, num
        base = ram.gpa + offset
        self.desc, self.avail, self.used = base, base + 0x1000, base + 0x2000
        self.next_buf = base + 0x3000
        self.next_desc = 0
        self.avail_idx = 0
        ram.write(base, bytes(0x3000))

    def addresses(self):
        """(desc, used, avail) in the frontend's address space: SET_VRING_ADDR's order."""
        return self.ram.uaddr(self.desc), self.ram.uaddr(self.used), self.ram.uaddr(self.avail)

    def alloc(self, n):
        gpa = self.next_buf
        self.next_buf += (n + 15) & ~15
        return gpa

    def write_desc(self, i, addr, length, flags, next_=0):
        self.ram.write(self.desc + 16 * i, struct.pack("<QIHH", addr, length, flags, next_))

    def publish(self, head):
        """Put HEAD in the available ring, then move the index on."""
        self.ram.write(self.avail + 4 + 2 * (self.avail_idx % self.num), struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.ram.write(self.avail + 2, struct.pack("<H", self.avail_idx))

    def add_chain(self, parts):
        """PARTS: (gpa, length, writable) in order; a chain of descriptors
        taken from the table in turn.  Returns the head."""
        head = self.next_desc
        for k, (gpa, length, writable) in enumerate(parts):
            i = (head + k) % self.num
            last = k == len(parts) - 1
            self.write_desc(i, gpa, length, (DESC_F_WRITE if writable else 0)
                            | (0 if last else DESC_F_NEXT), 0 if last else (i + 1) % self.num)
        self.next_desc = (head + len(parts)) % self.num
        return head

    def read_request(self, sector, nsectors=1):
        """Publish a VIRTIO_BLK_T_IN of NSECTORS at SECTOR: header (16
        bytes, readable), data and status (writable; the status starts at
        0xff, so its write shows)."""
        return self._request(T_IN, sector, bytes(nsectors * SECTOR), True)

    def write_request(self, sector, data):
        """Publish a VIRTIO_BLK_T_OUT of DATA (whole sectors) at SECTOR:
        header and data readable, status writable."""
        return self._request(T_OUT, sector, data, False)

    def _request(self, type_, sector, data, data_writable):
        header = self.alloc(16)
        buf = self.alloc(len(data))
        status = self.alloc(1)
        self.ram.write(header, struct.pack("<IIQ", type_, 0, sector))
        self.ram.write(buf, data)
        self.ram.write(status, b"\xff")
        head = self.add_chain([(header, 16, False), (buf, len(data), data_writable),
                               (status, 1, True)])
        self.publish(head)
        return Request(self, head, header, buf, len(data), status)

    def chain(self, head):
        """The descriptors of the chain at HEAD: (addr, len, flags) each."""
        out, i = [], head
        for _ in range(self.num):
            addr, length, flags, next_ = struct.unpack(
                "<QIHH", self.ram.read(self.desc + 16 * i, 16))
            out.append((addr, length, flags))
            if not flags & DESC_F_NEXT:
                break
            i = next_
        return out

    def used_idx(self):
        return self.ram.u16(self.used + 2)

    def used_elem(self, i):
        """(id, len) of used entry I."""
        return struct.unpack("<II", self.ram.read(self.used + 4 + 8 * (i % self.num), 8))


# ---------------------------------------------------------------------------
# A frontend that does things right


def eventfd():
    return os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)


def wait_eventfd(fd, timeout):
    """The eventfd's count once it is nonzero; Timeout if it stays zero."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        raise Timeout(f"no signal on the eventfd within {timeout} s")
    return os.eventfd_read(fd)


class Session:
    """What a good frontend does, step by step, on Frontend F: RAM and a
    split ring of NUM entries (made here unless given), its three eventfds."""

    WANT_PROTOCOL = bit(P_REPLY_ACK) | bit(P_CONFIG)

    def __init__(self, f, ram=None, num=8, call=None):
        """RAM and CALL, if given, stay the caller's; the rest is closed
        with F (or by close())."""
        self.f = f
        self.mine = []
        self.ram = ram or self._own(GuestRAM())
        self.ring = SplitRing(self.ram, num)
        self.kick, self.err = self._own(eventfd()), self._own(eventfd())
        self.call = self._own(eventfd()) if call is None else call
        self.offered = None
        f.own(self)

    def _own(self, thing):
        self.mine.append(thing)
        return thing

    def close(self):
        for thing in self.mine:
            try:
                thing.close() if hasattr(thing, "close") else os.close(thing)
            except OSError:
                pass
        self.mine = []

    def negotiate(self, features=bit(F_VERSION_1), protocol=None):
        """GET_FEATURES, SET_OWNER, the protocol features (REPLY_ACK and
        CONFIG if offered, unless PROTOCOL says which), SET_FEATURES."""
        f = self.f
        self.offered = f.get_u64(GET_FEATURES)
        if not self.offered & bit(F_VERSION_1):
            raise Protocol(f"features {self.offered:#x} lack VIRTIO_F_VERSION_1")
        f.set(SET_OWNER)
        acked = features
        if self.offered & bit(F_PROTOCOL_FEATURES):
            offered = f.get_u64(GET_PROTOCOL_FEATURES)
            want = offered & (self.WANT_PROTOCOL if protocol is None else protocol)
            f.set_u64(SET_PROTOCOL_FEATURES, want)
            f.reply_ack = bool(want & bit(P_REPLY_ACK))
            acked |= bit(F_PROTOCOL_FEATURES)
        f.set_u64(SET_FEATURES, acked)
        return self.offered

    def memory(self):
        self.f.set_mem_table([self.ram.region()], [self.ram.fd])

    def rings(self, addresses=None, num=None, base=0):
        """SET_VRING_NUM, _BASE, _ADDR, _CALL, _ERR for ring 0."""
        f = self.f
        f.set_state(SET_VRING_NUM, 0, self.ring.num if num is None else num)
        f.set_state(SET_VRING_BASE, 0, base)
        f.set_vring_addr(0, *(addresses or self.ring.addresses()))
        f.set_u64(SET_VRING_CALL, 0, [self.call])
        f.set_u64(SET_VRING_ERR, 0, [self.err])

    def start(self):
        """SET_VRING_KICK (the ring starts), SET_VRING_ENABLE 1."""
        self.f.set_u64(SET_VRING_KICK, 0, [self.kick])
        self.f.set_state(SET_VRING_ENABLE, 0, 1)

    def setup(self, upto="start", features=bit(F_VERSION_1)):
        """Every step up to and including UPTO."""
        steps = ["negotiate", "memory", "rings", "start"]
        for step in steps[:steps.index(upto) + 1]:
            if step == "negotiate":
                self.negotiate(features)
            else:
                getattr(self, step)()

    def capacity(self):
        """GET_CONFIG: struct virtio_blk_config's capacity (sectors)."""
        return struct.unpack("<Q", self.f.get_config(0, 8))[0]

    def kick_ring(self):
        os.eventfd_write(self.kick, 1)

    def read(self, sector, nsectors=1, timeout=None):
        """One T_IN through the ring: publish, kick, wait for the call,
        check the used entry (the data and the status byte written),
        within TIMEOUT (the Frontend's).  Returns the Request (its data
        and status)."""
        return self._complete(self.ring.read_request(sector, nsectors), nsectors * SECTOR + 1,
                              timeout)

    def write(self, sector, data, timeout=None):
        """One T_OUT of DATA at SECTOR, as read(); the used length is the
        status byte's."""
        return self._complete(self.ring.write_request(sector, data), 1, timeout)

    def _complete(self, req, written, timeout):
        """Kick, then wait for calls until the used index reaches the
        available one.  A call is only a hint: a backend may signal with
        nothing new (libvhost-user signals once on SET_VRING_CALL)."""
        timeout = self.f.timeout if timeout is None else timeout
        used_before = (self.ring.avail_idx - 1) & 0xFFFF
        self.kick_ring()
        deadline = time.monotonic() + timeout
        while (used := self.ring.used_idx()) != self.ring.avail_idx:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"used index {used} {timeout} s after request {used_before} "
                              "was published and kicked")
            try:
                wait_eventfd(self.call, left)
            except Timeout:
                pass
        elem = self.ring.used_elem(used_before)
        if elem != (req.head, written):
            raise Protocol(f"used entry {elem}, expected ({req.head}, {written})")
        return req


def good_session(path, image, timeout=3.0):
    """What any backend must serve, checked: capacity from GET_CONFIG, then
    sector 0 read through a split ring equal to IMAGE's (bytes), status
    OK, and GET_VRING_BASE saying one request was taken.  Raises on any
    difference; hangs up cleanly at the end."""
    with Frontend(path, timeout) as f:
        s = Session(f)
        s.negotiate()
        cap = s.capacity()
        if cap != len(image) // SECTOR:
            raise Protocol(f"capacity {cap} sectors, the image has {len(image) // SECTOR}")
        s.memory()
        s.rings()
        s.start()
        req = s.read(0)
        if req.status != S_OK:
            raise Protocol(f"status {req.status} for a read of sector 0")
        if req.read_data() != image[:SECTOR]:
            raise Protocol("sector 0 read differs from the image's")
        base = f.get_vring_base(0)
        if base != 1:
            raise Protocol(f"GET_VRING_BASE says {base}, expected 1")


# ---------------------------------------------------------------------------
# Scenarios: each misbehaves once on a connected Frontend F.  What the
# backend must say about each is in cases_vhost_backend.py.  A scenario
# returns what the case checks beyond the backend's line (or None).


def _session(f, upto=None, **kw):
    s = Session(f, **kw)
    if upto:
        s.setup(upto)
    return s


def _memfd(f, size):
    """A memfd of SIZE bytes, closed with F."""
    fd = f.own(os.memfd_create("vu-frontend-region", os.MFD_CLOEXEC))
    os.ftruncate(fd, size)
    return fd


SCENARIOS = {}


def scenario(name):
    def register(fn):
        SCENARIOS[name] = fn
        return fn
    return register


# -- messages cut short ------------------------------------------------------


@scenario("short/payload-silent")
def short_payload_silent(f):
    """SET_FEATURES promises 8 bytes, 4 come, then nothing (the connection stays)."""
    f.send_raw(HEADER.pack(SET_FEATURES, VERSION, 8) + b"\x01\0\0\0")


@scenario("short/payload-close")
def short_payload_close(f):
    """SET_FEATURES promises 8 bytes, 4 come, then the frontend hangs up."""
    f.send_raw(HEADER.pack(SET_FEATURES, VERSION, 8) + b"\x01\0\0\0")
    f.sock.shutdown(socket.SHUT_WR)


@scenario("short/header-close")
def short_header_close(f):
    """Half a header, then the frontend hangs up."""
    f.send_raw(HEADER.pack(GET_FEATURES, VERSION, 0)[:6])
    f.sock.shutdown(socket.SHUT_WR)


# -- sizes -------------------------------------------------------------------


@scenario("size/set-features-4")
def size_set_features_4(f):
    f.send(SET_FEATURES, b"\0\0\0\x01")


@scenario("size/get-features-8")
def size_get_features_8(f):
    f.send(GET_FEATURES, bytes(8))


@scenario("size/vring-addr-32")
def size_vring_addr_32(f):
    f.send(SET_VRING_ADDR, vring_addr(0, 0, 0, 0)[:32])


def _nine_regions():
    return [(i << 20, 1 << 16, 0x7F0000000000 + (i << 20), 0) for i in range(9)]


@scenario("size/mem-table-9")
def size_mem_table_9(f):
    """SET_MEM_TABLE with nine regions (the most is eight) and their nine fds."""
    fd = _memfd(f, 1 << 16)
    f.send(SET_MEM_TABLE, mem_table(_nine_regions()), fds=[fd] * 9)


@scenario("size/mem-table-9-nofds")
def size_mem_table_9_nofds(f):
    """Nine regions, sized for nine, and no fd at all."""
    f.send(SET_MEM_TABLE, mem_table(_nine_regions()))


@scenario("size/mem-table-count-9")
def size_mem_table_count_9(f):
    """nregions says nine; the payload and fds are for eight."""
    fd = _memfd(f, 1 << 16)
    f.send(SET_MEM_TABLE, mem_table(_nine_regions()[:8], 9), fds=[fd] * 8)


@scenario("size/mem-table-0")
def size_mem_table_0(f):
    f.send(SET_MEM_TABLE, mem_table([], 0))


@scenario("size/mem-table-count-2")
def size_mem_table_count_2(f):
    """nregions says two; one region's bytes come (and its fd)."""
    fd = _memfd(f, 1 << 16)
    f.send(SET_MEM_TABLE, mem_table(_nine_regions()[:1], 2), fds=[fd])


@scenario("size/get-config-300")
def size_get_config_300(f):
    """GET_CONFIG of 300 bytes (the space has 256), all of them sent."""
    _session(f, "negotiate")
    f.send(GET_CONFIG, config_request(0, 300))


@scenario("size/get-config-300-short")
def size_get_config_300_short(f):
    """GET_CONFIG asking 300 bytes in a message of just its 12-byte header."""
    _session(f, "negotiate")
    f.send(GET_CONFIG, config_request(0, 300)[:12])


@scenario("size/get-config-past-end")
def size_get_config_past_end(f):
    """GET_CONFIG of 100 bytes at offset 200: past the 256-byte space."""
    _session(f, "negotiate")
    f.send(GET_CONFIG, config_request(200, 100))


@scenario("size/huge")
def size_huge(f):
    """A header promising 4 GiB - 1 of payload."""
    f.send(SET_OWNER, b"", size=0xFFFFFFFF)


# -- file descriptors --------------------------------------------------------


@scenario("fds/kick-two")
def fds_kick_two(f):
    """SET_VRING_KICK with two fds (after a complete setup but the kick)."""
    s = _session(f, "rings")
    f.send(SET_VRING_KICK, struct.pack("<Q", 0), fds=[s.kick, s.call])


@scenario("fds/kick-none")
def fds_kick_none(f):
    """SET_VRING_KICK with no fd and without the no-fd flag."""
    _session(f, "rings")
    f.send(SET_VRING_KICK, struct.pack("<Q", 0))


@scenario("fds/kick-flag-and-fd")
def fds_kick_flag_and_fd(f):
    """SET_VRING_KICK with the no-fd flag, and an fd."""
    s = _session(f, "rings")
    f.send(SET_VRING_KICK, struct.pack("<Q", NOFD), fds=[s.kick])


@scenario("fds/kick-polling")
def fds_kick_polling(f):
    """SET_VRING_KICK with the no-fd flag and no fd: polling mode."""
    _session(f, "rings")
    f.send(SET_VRING_KICK, struct.pack("<Q", NOFD))


@scenario("fds/set-features-fd")
def fds_set_features_fd(f):
    """SET_FEATURES (which carries none) with an fd."""
    fd = f.own(eventfd())
    f.send(SET_FEATURES, struct.pack("<Q", bit(F_VERSION_1)), fds=[fd])


@scenario("fds/mem-two-regions-one-fd")
def fds_mem_two_regions_one_fd(f):
    fd = _memfd(f, 1 << 16)
    f.send(SET_MEM_TABLE, mem_table(_nine_regions()[:2]), fds=[fd])


@scenario("fds/nine")
def fds_nine(f):
    """SET_OWNER with nine fds (no message carries more than eight)."""
    fd = f.own(eventfd())
    f.send(SET_OWNER, fds=[fd] * 9)


# -- memory regions ----------------------------------------------------------


def _two_regions(f, a, b):
    """A negotiated session, then SET_MEM_TABLE with regions A and B (64 KiB memfds)."""
    _session(f, "negotiate")
    fds = [_memfd(f, 1 << 16), _memfd(f, 1 << 16)]
    f.set_mem_table([a, b], fds)


@scenario("mem/overlap-gpa")
def mem_overlap_gpa(f):
    """Two regions overlapping guest-physically (frontend addresses apart)."""
    _two_regions(f, (0x100000, 0x10000, 0x7F0000000000, 0),
                 (0x108000, 0x10000, 0x7F0001000000, 0))


@scenario("mem/overlap-uva")
def mem_overlap_uva(f):
    """Two regions overlapping in the frontend's address space (apart guest-physically)."""
    _two_regions(f, (0x100000, 0x10000, 0x7F0000000000, 0),
                 (0x200000, 0x10000, 0x7F000000F000, 0))


@scenario("mem/past-file")
def mem_past_file(f):
    """A 64 KiB region at offset 4 KiB of a 64 KiB memfd."""
    _session(f, "negotiate")
    f.set_mem_table([(0x100000, 0x10000, 0x7F0000000000, 0x1000)], [_memfd(f, 1 << 16)])


@scenario("mem/wrap-gpa")
def mem_wrap_gpa(f):
    _session(f, "negotiate")
    f.set_mem_table([(2**64 - 0x1000, 0x2000, 0x7F0000000000, 0)], [_memfd(f, 1 << 16)])


@scenario("mem/wrap-uva")
def mem_wrap_uva(f):
    _session(f, "negotiate")
    f.set_mem_table([(0x100000, 0x2000, 2**64 - 0x1000, 0)], [_memfd(f, 1 << 16)])


@scenario("mem/wrap-offset")
def mem_wrap_offset(f):
    _session(f, "negotiate")
    f.set_mem_table([(0x100000, 0x2000, 0x7F0000000000, 2**64 - 0x1000)], [_memfd(f, 1 << 16)])


@scenario("mem/empty")
def mem_empty(f):
    _session(f, "negotiate")
    f.set_mem_table([(0x100000, 0, 0x7F0000000000, 0)], [_memfd(f, 1 << 16)])


@scenario("mem/read-only-fd")
def mem_read_only_fd(f):
    """The region's fd is the memfd opened read-only: it cannot be mapped shared writable."""
    _session(f, "negotiate")
    fd = _memfd(f, 1 << 16)
    ro = f.own(os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC))
    f.set_mem_table([(0x100000, 0x10000, 0x7F0000000000, 0)], [ro])


@scenario("mem/not-a-file")
def mem_not_a_file(f):
    """The region's fd is an eventfd."""
    _session(f, "negotiate")
    f.set_mem_table([(0x100000, 0x10000, 0x7F0000000000, 0)], [f.own(eventfd())])


# -- rings -------------------------------------------------------------------


@scenario("ring/num-index-1")
def ring_num_index_1(f):
    _session(f, "memory")
    f.set_state(SET_VRING_NUM, 1, 8)


@scenario("ring/addr-index-1")
def ring_addr_index_1(f):
    s = _session(f, "memory")
    f.set_vring_addr(1, *s.ring.addresses())


@scenario("ring/kick-index-255")
def ring_kick_index_255(f):
    s = _session(f, "rings")
    f.set_u64(SET_VRING_KICK, 255, [s.kick])


@scenario("ring/size-0")
def ring_size_0(f):
    _session(f, "memory")
    f.set_state(SET_VRING_NUM, 0, 0)


@scenario("ring/size-65536")
def ring_size_65536(f):
    _session(f, "memory")
    f.set_state(SET_VRING_NUM, 0, 65536)


@scenario("ring/addr-log")
def ring_addr_log(f):
    s = _session(f, "memory")
    f.set_state(SET_VRING_NUM, 0, 8)
    f.set_vring_addr(0, *s.ring.addresses(), flags=bit(VRING_F_LOG), log=0x200000)


@scenario("ring/kick-before-memory")
def ring_kick_before_memory(f):
    s = _session(f, "negotiate")
    f.set_u64(SET_VRING_KICK, 0, [s.kick])


@scenario("ring/num-while-running")
def ring_num_while_running(f):
    _session(f, "start")
    f.set_state(SET_VRING_NUM, 0, 16)


@scenario("ring/enable-2")
def ring_enable_2(f):
    _session(f, "start")
    f.set_state(SET_VRING_ENABLE, 0, 2)


# -- features ----------------------------------------------------------------


@scenario("feat/never-offered")
def feat_never_offered(f):
    """VERSION_1 and bit 63, which no backend offers."""
    Session(f).negotiate(bit(F_VERSION_1) | bit(63))


@scenario("feat/ro-not-offered")
def feat_ro_not_offered(f):
    """VIRTIO_BLK_F_RO acked on a writable disk (not offered)."""
    Session(f).negotiate(bit(F_VERSION_1) | bit(BLK_F_RO))


@scenario("feat/packed-not-offered")
def feat_packed_not_offered(f):
    """VIRTIO_F_RING_PACKED acked (the backend runs with --no-packed)."""
    Session(f).negotiate(bit(F_VERSION_1) | bit(F_RING_PACKED))


@scenario("feat/no-version-1")
def feat_no_version_1(f):
    Session(f).negotiate(bit(BLK_F_FLUSH))


@scenario("feat/protocol-never-offered")
def feat_protocol_never_offered(f):
    """SET_PROTOCOL_FEATURES with MQ (bit 0), not offered."""
    f.get_u64(GET_FEATURES)
    f.get_u64(GET_PROTOCOL_FEATURES)
    f.set_u64(SET_PROTOCOL_FEATURES, bit(0) | bit(P_REPLY_ACK), ack=True)


@scenario("feat/config-without-protocol")
def feat_config_without_protocol(f):
    """GET_CONFIG without the CONFIG protocol feature negotiated."""
    Session(f).negotiate(protocol=bit(P_REPLY_ACK))
    f.send(GET_CONFIG, config_request(0, 8))


@scenario("feat/set-log-base")
def feat_set_log_base(f):
    """SET_LOG_BASE (dirty logging, never offered): its u64 size and offset, and an fd."""
    _session(f, "negotiate")
    f.send(SET_LOG_BASE, struct.pack("<QQ", 0x1000, 0), fds=[_memfd(f, 0x1000)])


@scenario("feat/set-config")
def feat_set_config(f):
    """SET_CONFIG (not offered: the disk's configuration is read-only)."""
    _session(f, "negotiate")
    f.send(SET_CONFIG, config_request(0, 8))


# -- garbage -----------------------------------------------------------------


@scenario("garbage/http")
def garbage_http(f):
    """Someone pointed an HTTP client at the socket."""
    f.send_raw(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")


@scenario("garbage/zeros")
def garbage_zeros(f):
    f.send_raw(bytes(64))


@scenario("garbage/unknown-request")
def garbage_unknown_request(f):
    f.send(77)


@scenario("garbage/reply-flag")
def garbage_reply_flag(f):
    """A GET_FEATURES marked as a reply (with a reply's 8 bytes)."""
    f.send(GET_FEATURES, bytes(8), flags=REPLY)


# -- quiet -------------------------------------------------------------------


@scenario("quiet/connect-close")
def quiet_connect_close(f):
    """Connects, says nothing, hangs up."""
    f.sock.shutdown(socket.SHUT_WR)


# -- a ring outside the memory table, and other rings the device cannot run ---
# These break the device, not the session: the scenario then checks that
# GET_VRING_BASE still answers and the error eventfd fired, and returns the
# Session so the case can restart the ring properly in the same session.


def _bad_ring(f, addresses=None, num=None, base=0):
    s = _session(f, "memory")
    s.rings(addresses=addresses, num=num, base=base)
    s.start()
    return s


@scenario("broken/outside-memory")
def broken_outside_memory(f):
    """The used ring's frontend address is 16 MiB past the only region."""
    s = Session(f)
    desc, used, avail = s.ring.addresses()
    s.negotiate()
    s.memory()
    s.rings(addresses=(desc, used + (16 << 20), avail))
    s.start()
    return s


@scenario("broken/straddles-end")
def broken_straddles_end(f):
    """The descriptor table's last bytes lie past the region's end."""
    s = Session(f)
    _, used, avail = s.ring.addresses()
    s.negotiate()
    s.memory()
    s.rings(addresses=(s.ram.uva + s.ram.size - 64, used, avail))
    s.start()
    return s


@scenario("broken/size-3")
def broken_size_3(f):
    """A ring of 3 entries: not a power of two."""
    s = Session(f)
    s.negotiate()
    s.memory()
    s.rings(num=3)
    s.start()
    return s


@scenario("broken/misaligned")
def broken_misaligned(f):
    """The descriptor table 8 bytes into a page."""
    s = Session(f)
    desc, used, avail = s.ring.addresses()
    s.negotiate()
    s.memory()
    s.rings(addresses=(desc + 8, used, avail))
    s.start()
    return s


@scenario("broken/base-70000")
def broken_base_70000(f):
    """SET_VRING_BASE 70000 on a split ring (its index has 16 bits)."""
    s = Session(f)
    s.negotiate()
    s.memory()
    s.rings(base=70000)
    s.start()
    return s


# -- frontends that are not careful with their own memory and eventfds -------


@scenario("hostile/shrink-memory")
def hostile_shrink_memory(f):
    """A complete setup, then the frontend truncates its guest RAM memfd
    to nothing and kicks with a request published: touching the mapping
    now means SIGBUS, unless the backend guards against it."""
    s = _session(f, "start")
    s.ring.read_request(0)
    os.ftruncate(s.ram.fd, 0)
    s.kick_ring()
    return s


@scenario("hostile/full-call-eventfd")
def hostile_full_call_eventfd(f):
    """The call eventfd is blocking and its counter at the maximum: a
    blocking write() to it never returns.  A request is published and
    kicked, so the backend has something to signal."""
    call = f.own(os.eventfd(0, os.EFD_CLOEXEC))  # blocking, as the frontend may make it
    os.eventfd_write(call, 0xFFFFFFFFFFFFFFFE)
    s = _session(f, "start", call=call)
    s.ring.read_request(0)
    s.kick_ring()
    return s


@scenario("hostile/dead-kick-pipe")
def hostile_dead_kick_pipe(f):
    """The kick fd is the read end of a pipe whose write end is closed: it
    polls readable (hung up) for ever and read() gives 0 bytes."""
    s = _session(f, "rings")
    r, w = os.pipe()
    os.close(w)
    f.set_u64(SET_VRING_KICK, 0, [r])
    f.set_state(SET_VRING_ENABLE, 0, 1)
    os.close(r)
    return s


# -- a frontend that dies with a request in flight (run in a child) ----------


def kick_and_wait(f, ram_fd, call_fd):
    """A complete setup on guest RAM RAM_FD (the parent's memfd) with call
    eventfd CALL_FD, one read of sector 0 published and kicked; print
    'kicked' and wait to be killed."""
    ram = GuestRAM(fd=ram_fd, size=os.fstat(ram_fd).st_size)
    s = Session(f, ram=ram, call=call_fd)
    s.setup("start")
    s.ring.read_request(0)
    s.kick_ring()
    print("kicked", flush=True)
    time.sleep(3600)


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description="vu_frontend.py: one misbehaving frontend")
    ap.add_argument("socket")
    ap.add_argument("scenario", choices=sorted(SCENARIOS) + ["kick-and-wait"])
    ap.add_argument("--ram-fd", type=int)
    ap.add_argument("--call-fd", type=int)
    args = ap.parse_args(argv)
    with Frontend(args.socket) as f:
        if args.scenario == "kick-and-wait":
            kick_and_wait(f, args.ram_fd, args.call_fd)
            return 0
        try:
            SCENARIOS[args.scenario](f)
            got = f.hangup()
        except (Closed, Refused) as e:
            print(f"the backend refused: {e}")
            return 0
        print(f"the backend hung up after {len(got)} message(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
