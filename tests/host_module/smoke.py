#!/usr/bin/env python3
"""smoke.py: drive /dev/lguest-host from Python, without a guest.

Lays out one split ring in a memfd standing in for guest RAM, writes a
read request and a write request into it as a driver would, kicks, and
checks the call, the status bytes, the data in "guest RAM" and on the
image, and the module's counters.  Then a ring rule broken on purpose:
the err eventfd fires and LGH_GET_ERROR names the rule.  Needs the module
loaded (the hwvirt tier); prints "ok ..." lines and exits non-zero on the
first failure.
"""
import ctypes
import errno
import fcntl
import mmap
import os
import select
import struct
import sys
import tempfile


def _ioc(d, t, nr, size):
    return d << 30 | size << 16 | t << 8 | nr


VH = 0xAF
SET_OWNER = _ioc(0, VH, 0x01, 0)
GET_FEATURES = _ioc(2, VH, 0x00, 8)
SET_FEATURES = _ioc(1, VH, 0x00, 8)
SET_MEM_TABLE = _ioc(1, VH, 0x03, 8)
SET_VRING_NUM = _ioc(1, VH, 0x10, 8)
SET_VRING_ADDR = _ioc(1, VH, 0x11, 40)
SET_VRING_BASE = _ioc(1, VH, 0x12, 8)
GET_VRING_BASE = _ioc(3, VH, 0x12, 8)
SET_VRING_KICK = _ioc(1, VH, 0x20, 8)
SET_VRING_CALL = _ioc(1, VH, 0x21, 8)
SET_VRING_ERR = _ioc(1, VH, 0x22, 8)
LGH = 0xB7
LGH_SET_BACKEND = _ioc(1, LGH, 0x02, 32)
LGH_GET_STATS = _ioc(2, LGH, 0x03, 9 * 8)
LGH_GET_ERROR = _ioc(2, LGH, 0x04, 192)

VERSION_1, EVENT_IDX = 1 << 32, 1 << 29
RAM, QSIZE = 1 << 20, 16
DESC, AVAIL, USED = 0x1000, 0x2000, 0x3000  # guest-physical
HDR, DATA, STATUS = 0x10000, 0x20000, 0x30000
F_NEXT, F_WRITE = 1, 2


def fail(msg):
    print(f"FAIL {msg}")
    sys.exit(1)


class Device:
    def __init__(self, image):
        self.fd = os.open("/dev/lguest-host", os.O_RDWR)
        mfd = os.memfd_create("guest-ram")
        os.ftruncate(mfd, RAM)
        self.ram = mmap.mmap(mfd, RAM)
        # Only the address: holding the ctypes view would keep the mapping alive.
        view = ctypes.c_char.from_buffer(self.ram)
        self.base = ctypes.addressof(view)
        del view
        self.kick, self.call, self.err = (os.eventfd(0, os.EFD_NONBLOCK) for _ in range(3))
        self.image = image
        self.avail_idx = 0

    def ioctl(self, req, buf=b""):
        return fcntl.ioctl(self.fd, req, buf) if buf else fcntl.ioctl(self.fd, req)

    def start(self, features=VERSION_1):
        self.ioctl(SET_OWNER)
        self.ioctl(SET_FEATURES, struct.pack("Q", features))
        table = struct.pack("II", 1, 0) + struct.pack("QQQQ", 0, RAM, self.base, 0)
        buf = bytearray(table)
        fcntl.ioctl(self.fd, SET_MEM_TABLE, buf)
        self.ioctl(SET_VRING_NUM, struct.pack("II", 0, QSIZE))
        self.ioctl(SET_VRING_ADDR, struct.pack("IIQQQQ", 0, 0, self.base + DESC,
                                               self.base + USED, self.base + AVAIL, 0))
        self.ioctl(SET_VRING_BASE, struct.pack("II", 0, 0))
        for req, fd in ((SET_VRING_KICK, self.kick), (SET_VRING_CALL, self.call),
                        (SET_VRING_ERR, self.err)):
            self.ioctl(req, struct.pack("Ii", 0, fd))
        img = os.open(self.image, os.O_RDWR)
        self.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4x", img, 0, b"smoke"))
        os.close(img)

    def desc(self, i, addr, length, flags, nxt):
        struct.pack_into("QIHH", self.ram, DESC + 16 * i, addr, length, flags, nxt)

    def publish(self, head):
        struct.pack_into("H", self.ram, AVAIL + 4 + 2 * (self.avail_idx % QSIZE), head)
        self.avail_idx += 1
        struct.pack_into("H", self.ram, AVAIL + 2, self.avail_idx)
        os.eventfd_write(self.kick, 1)

    def wait(self, fd, what):
        if not select.select([fd], [], [], 10)[0]:
            fail(f"no {what} within 10 s")
        os.eventfd_read(fd)

    def used(self):
        return struct.unpack_from("H", self.ram, USED + 2)[0]

    def stats(self):
        return struct.unpack("9Q", self.ioctl(LGH_GET_STATS, bytes(72)))

    def error(self):
        return self.ioctl(LGH_GET_ERROR, bytes(192)).rstrip(b"\0").decode()


def request(dev, kind, sector, length):
    struct.pack_into("IIQ", dev.ram, HDR, kind, 0, sector)
    dev.ram[STATUS] = 0xFF
    dev.desc(0, HDR, 16, F_NEXT, 1)
    dev.desc(1, DATA, length, F_NEXT | (F_WRITE if kind == 0 else 0), 2)
    dev.desc(2, STATUS, 1, F_WRITE, 0)
    dev.publish(0)
    dev.wait(dev.call, "call")
    return dev.ram[STATUS]


def main():
    with tempfile.NamedTemporaryFile() as img:
        pattern = bytes((i * 7 + 3) & 0xFF for i in range(8192))
        img.write(pattern)
        img.flush()
        dev = Device(img.name)
        dev.start()
        if request(dev, 0, 1, 4096) != 0 or dev.ram[DATA:DATA + 4096] != pattern[512:4608]:
            fail("read: wrong status or data")
        print("ok   read 4096 bytes at sector 1 into guest RAM")
        dev.ram[DATA:DATA + 512] = b"W" * 512
        if request(dev, 1, 3, 512) != 0:
            fail("write: status")
        with open(img.name, "rb") as f:
            if f.read()[1536:2048] != b"W" * 512:
                fail("write: the image does not hold the bytes")
        print("ok   write 512 bytes at sector 3 reached the image")
        if request(dev, 0, 16, 512) != 1:
            fail("read past the end did not answer IOERR")
        print("ok   read past the end: IOERR")
        s = dev.stats()
        if s[0] != 3 or s[7] != 0 or s[5] != 4096 or s[6] != 512 or dev.used() != 3:
            fail(f"counters {s}, used {dev.used()}")
        print(f"ok   counters: requests {s[0]}, kicks {s[2]}, signals {s[3]}, bounce {s[7]}")
        # A head out of range: the rule, on the err eventfd, in the launcher's words.
        struct.pack_into("H", dev.ram, AVAIL + 4 + 2 * (dev.avail_idx % QSIZE), 99)
        dev.avail_idx += 1
        struct.pack_into("H", dev.ram, AVAIL + 2, dev.avail_idx)
        os.eventfd_write(dev.kick, 1)
        dev.wait(dev.err, "err")
        want = "requestq: head descriptor 99 out of range (16)"
        if dev.error() != want:
            fail(f"error {dev.error()!r}, expected {want!r}")
        print(f"ok   broken rule reported: {dev.error()}")
        dev.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4x", -1, 0, b""))
        base = struct.unpack("II", fcntl.ioctl(dev.fd, GET_VRING_BASE, bytes(8)))[1]
        if base != 3:
            fail(f"stopped at base {base}, expected 3 (the broken head was not taken)")
        print(f"ok   stopped at base {base}")
        os.close(dev.fd)
        refusals(img.name)
        unmapped(img.name)


def expect_errno(what, errno_name, fn):
    try:
        fn()
    except OSError as e:
        if e.errno != getattr(errno, errno_name):
            fail(f"{what}: {errno.errorcode.get(e.errno)}, expected {errno_name}")
        print(f"ok   refused: {what} ({errno_name})")
        return
    fail(f"{what}: accepted, expected {errno_name}")


def region(gpa, size, uaddr):
    return struct.pack("QQQQ", gpa, size, uaddr, 0)


def refusals(image):
    """What a launcher can get wrong is refused, with an errno, never used."""
    dev = Device(image)
    expect_errno("a call before SET_OWNER", "EPERM",
                 lambda: dev.ioctl(SET_FEATURES, struct.pack("Q", VERSION_1)))
    dev.ioctl(SET_OWNER)
    expect_errno("SET_OWNER twice", "EBUSY", lambda: dev.ioctl(SET_OWNER))
    expect_errno("a feature it cannot serve", "EOPNOTSUPP",
                 lambda: dev.ioctl(SET_FEATURES, struct.pack("Q", 1 << 40)))
    tables = {
        "a memory table of 17 regions": (17, b"", "E2BIG"),
        "an empty region": (1, region(0, 0, dev.base), "EINVAL"),
        "a region that wraps": (1, region(1 << 63, 1 << 63, dev.base), "EINVAL"),
        "a region outside user space": (1, region(0, RAM, 0xFFFF_8000_0000_0000), "EINVAL"),
        "overlapping regions": (2, region(0, RAM, dev.base) + region(RAM - 4096, 4096, dev.base),
                                "EINVAL"),
    }
    for what, (n, regions, err) in tables.items():
        buf = bytearray(struct.pack("II", n, 0) + regions)
        expect_errno(what, err, lambda: fcntl.ioctl(dev.fd, SET_MEM_TABLE, buf))
    fcntl.ioctl(dev.fd, SET_MEM_TABLE, bytearray(struct.pack("II", 1, 0) +
                                                 region(0, RAM, dev.base)))
    expect_errno("ring index 1", "ENOBUFS",
                 lambda: dev.ioctl(SET_VRING_NUM, struct.pack("II", 1, QSIZE)))
    expect_errno("ring size 0", "EINVAL",
                 lambda: dev.ioctl(SET_VRING_NUM, struct.pack("II", 0, 0)))
    expect_errno("ring size 65536", "EINVAL",
                 lambda: dev.ioctl(SET_VRING_NUM, struct.pack("II", 0, 65536)))
    expect_errno("a ring outside the memory table", "EFAULT",
                 lambda: dev.ioctl(SET_VRING_ADDR, struct.pack("IIQQQQ", 0, 0, dev.base + RAM,
                                                               dev.base, dev.base, 0)))
    expect_errno("a kick that is not an eventfd", "EINVAL",
                 lambda: dev.ioctl(SET_VRING_KICK, struct.pack("Ii", 0, dev.fd)))
    expect_errno("starting with no ring", "EINVAL",
                 lambda: dev.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4x", os.open(image, os.O_RDWR),
                                                                0, b"")))
    dev.ioctl(SET_VRING_NUM, struct.pack("II", 0, QSIZE))
    dev.ioctl(SET_VRING_ADDR, struct.pack("IIQQQQ", 0, 0, dev.base + DESC, dev.base + USED,
                                          dev.base + AVAIL, 0))
    for req, fd in ((SET_VRING_KICK, dev.kick), (SET_VRING_CALL, dev.call)):
        dev.ioctl(req, struct.pack("Ii", 0, fd))
    rdonly = os.open(image, os.O_RDONLY)
    expect_errno("a read-only image for a writable disk", "EBADF",
                 lambda: dev.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4x", rdonly, 0, b"")))
    expect_errno("a directory as the image", "EINVAL",
                 lambda: dev.ioctl(LGH_SET_BACKEND,
                                   struct.pack("iI20s4x", os.open("/", os.O_RDONLY), 1, b"")))
    expect_errno("reserved bytes set", "EINVAL",
                 lambda: dev.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4B", rdonly, 1, b"", 0, 0, 0, 1)))
    dev.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4x", rdonly, 1, b""))  # read-only: fine
    expect_errno("changing the ring while it runs", "EBUSY",
                 lambda: dev.ioctl(SET_VRING_NUM, struct.pack("II", 0, QSIZE)))
    expect_errno("an ioctl it does not know", "ENOTTY", lambda: dev.ioctl(_ioc(0, LGH, 0x7F, 0)))
    pid = os.fork()
    if pid == 0:  # not the owner (another mm): may not touch the device
        try:
            dev.ioctl(LGH_SET_BACKEND, struct.pack("iI20s4x", -1, 0, b""))
            os._exit(1)
        except OSError as e:
            os._exit(0 if e.errno == errno.EPERM else 2)
    if os.waitpid(pid, 0)[1] != 0:
        fail("a process other than the owner could stop the device")
    print("ok   refused: a process other than the owner (EPERM)")
    os.close(dev.fd)


def unmapped(image):
    """Guest RAM unmapped under a running device: it stops, and says so."""
    dev = Device(image)
    dev.start()
    dev.ram.close()  # munmap
    os.eventfd_write(dev.kick, 1)
    dev.wait(dev.err, "err")
    want = "guest RAM is not mapped where the memory table says"
    if dev.error() != want:
        fail(f"error {dev.error()!r}, expected {want!r}")
    print(f"ok   unmapped guest RAM: {dev.error()}")
    os.close(dev.fd)


main()
