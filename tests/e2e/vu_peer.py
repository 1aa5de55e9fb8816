#!/usr/bin/env python3
"""vu_peer.py SOCKET MODE: a vhost-user-blk backend that misbehaves in one
way (MODE), for the frontend's tests (cases_vhost_user.py).  It listens on
SOCKET, serves one connection and exits.  Test-only: it serves no I/O.

Modes that break the handshake at GET_FEATURES's reply: silent (never
answers), short (a payload cut short, then hangs up), badsize (4 bytes for
a u64), badversion, manyfds (nine fds with the reply), wrongreply (answers
another request).  Modes that play along until the guest's driver starts
the device: refuse-mem (SET_MEM_TABLE acknowledged with an error),
die-on-kick (takes the guest's first NOTIFY, then dies), garbage-on-kick
(sends a message nobody asked for)."""
import os
import select
import socket
import struct
import sys
import time

GET_FEATURES, SET_FEATURES, SET_OWNER, SET_MEM_TABLE = 1, 2, 3, 5
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_CONFIG = 15, 16, 24
REPLY, NEED_REPLY = 0x4, 0x8
FEATURES = 1 << 32 | 1 << 30  # VERSION_1, PROTOCOL_FEATURES
PROTOCOL = 1 << 3 | 1 << 9  # REPLY_ACK, CONFIG


def recv_msg(conn):
    try:
        hdr, fds, _, _ = socket.recv_fds(conn, 12, 16)
    except OSError:  # the frontend hung up: our part is over
        sys.exit(0)
    if len(hdr) < 12:
        sys.exit(0)
    req, flags, size = struct.unpack("<III", hdr)
    payload = b""
    while len(payload) < size:
        chunk = conn.recv(size - len(payload))
        if not chunk:
            sys.exit(0)
        payload += chunk
    return req, flags, payload, fds


def reply(conn, req, payload, flags=REPLY | 1, fds=()):
    data = struct.pack("<III", req, flags, len(payload)) + payload
    if fds:
        socket.send_fds(conn, [data], list(fds))
    else:
        conn.sendall(data)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    kick = None
    while True:
        req, flags, payload, fds = recv_msg(conn)
        if req == GET_FEATURES:
            if mode == "silent":
                time.sleep(3600)
            elif mode == "short":
                conn.sendall(struct.pack("<III", req, REPLY | 1, 8) + b"abcd")
                conn.close()
                return
            elif mode == "badsize":
                reply(conn, req, b"abcd")
            elif mode == "badversion":
                reply(conn, req, struct.pack("<Q", FEATURES), flags=REPLY | 2)
            elif mode == "manyfds":
                r, w = os.pipe()
                reply(conn, req, struct.pack("<Q", FEATURES), fds=[r] * 9)
            elif mode == "wrongreply":
                reply(conn, SET_OWNER, struct.pack("<Q", FEATURES))
            else:
                reply(conn, req, struct.pack("<Q", FEATURES))
        elif req == GET_PROTOCOL_FEATURES:
            reply(conn, req, struct.pack("<Q", PROTOCOL))
        elif req == GET_CONFIG:
            offset, size, cflags = struct.unpack("<III", payload[:12])
            config = struct.pack("<Q", 2048).ljust(size, b"\0")
            reply(conn, req, struct.pack("<III", offset, size, cflags) + config)
        elif flags & NEED_REPLY:
            status = 1 if (mode == "refuse-mem" and req == SET_MEM_TABLE) else 0
            reply(conn, req, struct.pack("<Q", status))
        if req == SET_VRING_KICK and fds:
            kick = fds[0]
        if kick is not None and mode in ("die-on-kick", "garbage-on-kick"):
            # Serve requests until the guest's first NOTIFY, then misbehave.
            ready, _, _ = select.select([kick, conn], [], [])
            if kick in ready:
                os.read(kick, 8)
                if mode == "die-on-kick":
                    os._exit(0)
                reply(conn, 99, b"", flags=1)
                time.sleep(3600)


if __name__ == "__main__":
    main()
