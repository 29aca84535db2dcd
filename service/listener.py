"""The worker's listening socket: bound with ``SO_REUSEPORT``, and closed at drain without
resetting a connection the kernel already accepted for it.

Closing a listener resets every connection still in its accept queue. With several workers on
one port the kernel keeps handing this worker new connections until the moment it closes (and
clients told ``Connection: close`` by a worker that drained first reconnect at that moment), so
"accept what is queued, then close" leaves a window in which a connection lands in the queue
and is reset: the client had connected and sent its request, and gets ``ECONNRESET``. Hence
:func:`stop_new_connections` first: a socket filter makes the kernel drop every SYN reaching
the listener (the client retries in a second and finds another worker, or a refusal once none
listens), while handshakes already under way still complete. After one round trip's grace the
queue can only shrink, and it is emptied before the close.
"""

from __future__ import annotations

import ctypes
import socket
import struct
import sys

SO_ATTACH_FILTER = 26  # Linux <asm-generic/socket.h>; Python's socket module lacks the name
TCP_FLAGS_OFFSET = 13  # a TCP socket's filter sees the segment from its TCP header on
TCP_SYN = 0x02
# Classic BPF, one struct sock_filter {u16 code; u8 jt, jf; u32 k} per instruction:
_DROP_SYN = (
    (0x30, 0, 0, TCP_FLAGS_OFFSET),  # ldb [13]: A = the TCP flags byte
    (0x45, 0, 1, TCP_SYN),  # jset #SYN: a SYN goes to the next instruction, others skip it
    (0x06, 0, 0, 0),  # ret #0: drop
    (0x06, 0, 0, 0xFFFFFFFF),  # ret #-1: keep the whole packet
)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket that other workers may bind too (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def stop_new_connections(listener: socket.socket) -> bool:
    """Make the kernel drop every new connection attempt (SYN) to ``listener``; handshakes
    under way and connections already in its accept queue are kept.

    Returns False where the platform has no socket filters (then only the queue is emptied).
    """
    if not sys.platform.startswith("linux"):
        return False
    code = b"".join(struct.pack("HBBI", *instruction) for instruction in _DROP_SYN)
    program = ctypes.create_string_buffer(code, len(code))
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}; the kernel copies it.
    fprog = struct.pack("HP", len(_DROP_SYN), ctypes.addressof(program))
    try:
        listener.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError:
        return False
    return True


def pending_connections(listener: socket.socket) -> list[socket.socket]:
    """Connections the kernel completed but nobody accepted yet (non-blocking)."""
    accepted: list[socket.socket] = []
    listener.setblocking(False)
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:  # BlockingIOError: none left; anything else: the listener is gone
            return accepted
        connection.setblocking(False)
        accepted.append(connection)
